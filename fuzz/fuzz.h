/* The fuzz targets, as plain functions: libFuzzer calls them through
 * LLVMFuzzerTestOneInput (built with -DKT_LIBFUZZER), and the regression
 * runner (fuzz/regress.c, built by the normal compiler, with ASan+UBSan in
 * make SANITIZE=1) replays the reproducers in fuzz/regressions/TARGET/
 * through the very same code.  Each returns 0. */
#ifndef KVMTRACE_FUZZ_H
#define KVMTRACE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* A whole trace file: open, header, every event decoded. */
int kt_fuzz_reader(const uint8_t *data, size_t size);
/* One decoder, chosen by the first byte (fuzz/fuzz_decode.c). */
int kt_fuzz_decode(const uint8_t *data, size_t size);
/* The header's TLV body: kt_header_parse() and its accessors. */
int kt_fuzz_header(const uint8_t *data, size_t size);
/* Two traces split from one input, diffed. */
int kt_fuzz_diff(const uint8_t *data, size_t size);

struct kt_fuzz_target {
	const char *name;   /* the harness's name: fuzz_NAME, regressions/NAME/ */
	int (*run)(const uint8_t *data, size_t size);
};

/* Every target, by name, ending with { NULL } (fuzz/regress.c). */
extern const struct kt_fuzz_target kt_fuzz_targets[];

/* An fd whose file holds exactly data (a memfd), at offset 0; -errno. */
int kt_fuzz_memfd(const uint8_t *data, size_t size);

#endif
