#include "recorder/foreign_header.h"

#include <string.h>
#include <time.h>

#include "trace/trace_header.h"

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int kt_foreign_put_header(struct kt_buf *hdr, const struct kt_foreign *f)
{
	struct kt_foreign_hdr fh = { .flags = f->flags };
	size_t argv0 = f->cmdline_len ? strnlen(f->cmdline, f->cmdline_len) : 0;
	const char *name = f->cmdline;
	uint32_t sandboxed = 0;
	uint64_t ns = now_ns();
	int ret;

	for (size_t i = 0; i < argv0; i++)
		if (f->cmdline[i] == '/')
			name = f->cmdline + i + 1;
	if ((ret = kt_tlv_put(hdr, KT_HDR_GUEST_NAME, name,
			      (uint32_t)(f->cmdline + argv0 - name))) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_FOREIGN, &fh, sizeof(fh))) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_COMMAND_LINE, f->cmdline, (uint32_t)f->cmdline_len)) ||
	    (ret = kt_tlv_put(hdr, KT_HDR_SANDBOX, &sandboxed, sizeof(sandboxed))))
		return ret;
	return kt_tlv_put(hdr, KT_HDR_RECORDED_AT, &ns, sizeof(ns));
}
