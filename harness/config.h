/* Run options from the command line (shared by run, record), parsed into a
 * struct kt_config.  In the library so that units test it. */
#ifndef KVMTRACE_CONFIG_H
#define KVMTRACE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/guest_abi.h"
#include "recorder/trace_format.h"

/* What a run is: everything `run` and `record` take from the command line
 * that shapes the VM. */
struct kt_config {
	const char *guest_path;
	enum kt_mode mode;
	uint64_t mem_bytes;
	unsigned vcpus;
	uint64_t timeout_ms;     /* 0: none */
	uint64_t max_exits;      /* 0: none */
	uint64_t guest_arg;      /* RDX at entry */
	bool snapshots;          /* regs+sregs at every exit (recording) */
	const char *kvm_path;    /* normally /dev/kvm */
};

#define KT_MAX_PEEKS 16
#define KT_DEFAULT_TIMEOUT_MS 10000

struct kt_run_options {
	struct kt_config cfg;
	bool verbose;
	const char *summary_json;
	uint64_t peek[KT_MAX_PEEKS];
	unsigned npeeks;
	/* record only */
	const char *output;
	bool force;
	bool allow_record_options;
};

/* "2M", "64MiB", "1G", "0x200000", "4096": bytes.  0 on success. */
int kt_parse_size(const char *s, uint64_t *out);
/* Decimal or 0x hex, no sign, no trailing junk. */
int kt_parse_u64(const char *s, uint64_t *out);
/* Seconds, fractional allowed ("0.5"): milliseconds. */
int kt_parse_seconds(const char *s, uint64_t *ms);

void kt_run_options_init(struct kt_run_options *o);
/* Parse argv (getopt_long from argv[0] = the subcommand).  Returns 0, or
 * -EINVAL with a one-line reason in kt_last_error(). */
int kt_parse_run_options(int argc, char **argv, struct kt_run_options *o);

#endif
