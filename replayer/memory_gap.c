#include "replayer/memory_gap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

bool rp_memory_gap(const struct kt_header *h)
{
	uint32_t len;
	const struct kt_foreign_hdr *f = kt_header_find(h, KT_HDR_FOREIGN, &len);

	return f && len >= sizeof(*f) && !(f->flags & KT_FOREIGN_MEM_CHANGES);
}

void rp_memory_gap_note(char *buf, size_t size, uint64_t event, const char *context,
			const char *path)
{
	if (!buf[0])
		snprintf(buf, size, "event %" PRIu64 " (%s), %s", event, context, path);
}

int rp_memory_gap_fail(const char *trace, const char *where)
{
	return kt_fail(-ENODATA, "%s: the replay parts from the recording at %s, and this "
		       "trace of a foreign VMM lacks the guest memory it wrote between exits "
		       "(record with --memory-changes): stopped there, no divergences reported",
		       trace, where);
}
