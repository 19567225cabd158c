/* The header record's TLV body: the parser and every accessor, with every
 * byte an accessor hands out read, so an overrun is seen. */
#include <string.h>

#include "fuzz/fuzz.h"
#include "trace/trace_header.h"

static volatile uint8_t sink;

static void touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t x = 0;

	for (size_t i = 0; p && i < n; i++)
		x ^= b[i];
	sink = x;
}

static void accessors(const struct kt_header *h)
{
	struct kt_run_config rc;
	const struct kt_cap_result *caps;
	const struct kvm_cpuid2 *cpuid;
	const uint8_t *image;
	const void *field;
	const char *str;
	size_t n;
	uint32_t len;

	for (uint16_t tag = 0; tag < 24; tag++) {
		if ((field = kt_header_find(h, tag, &len)))
			touch(field, len);
		if ((str = kt_header_string(h, tag)))
			touch(str, strlen(str) + 1);
	}
	if (kt_header_run_config(h, &rc) == 0)
		touch(&rc, sizeof(rc));
	if (kt_header_guest_image(h, &image, &n) == 0)
		touch(image, n);
	if (kt_header_caps(h, &caps, &n) == 0)
		touch(caps, n * sizeof(*caps));
	if (kt_header_cpuid(h, &cpuid) == 0)
		touch(cpuid, sizeof(*cpuid) + cpuid->nent * sizeof(cpuid->entries[0]));
}

int kt_fuzz_header(const uint8_t *data, size_t size)
{
	struct kt_header h = { 0 };

	if (kt_header_parse(&h, data, size) == 0)
		accessors(&h);
	kt_header_free(&h);
	return 0;
}

#ifdef KT_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return kt_fuzz_header(data, size);
}
#endif
