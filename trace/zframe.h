/* A zstd frame (RFC 8878) built block by block, so that a tail of its
 * content known to be noise (an event frame's clock bits) goes into raw
 * blocks that zstd never searches for matches: on a steady loop that is
 * most of what zstd would otherwise spend.  Any zstd decoder reads the
 * result: single segment, content size, XXH64 content checksum. */
#ifndef KVMTRACE_ZFRAME_H
#define KVMTRACE_ZFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;

/* content[0, len - raw_tail) compressed at level, with a block ending at
 * cut (when within it), the rest stored raw; out gets the frame (its old
 * content dropped).  0, -ENOMEM or -EIO. */
int kt_zframe(ZSTD_CCtx *cctx, int level, const uint8_t *content, size_t len, size_t cut,
	      size_t raw_tail, struct kt_buf *out);

#endif
