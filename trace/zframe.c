#include "trace/zframe.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY  /* the block-level API */
#include <zstd.h>

#include "common/hash.h"

#define ZSTD_MAGIC 0xFD2FB528u
/* Frame_Header_Descriptor: an 8-byte content size, single segment (the
 * window is the content), a content checksum, no dictionary. */
#define FHD ((3u << 6) | (1u << 5) | (1u << 2))
#define BLOCK_MAX (128u << 10)
enum { BLOCK_RAW = 0, BLOCK_COMPRESSED = 2 };

static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + bytes;
}

static uint8_t *block_header(uint8_t *p, bool last, unsigned type, size_t size)
{
	return put_le(p, (uint64_t)last | (uint64_t)type << 1 | (uint64_t)size << 3, 3);
}

int kt_zframe(ZSTD_CCtx *cctx, int level, const uint8_t *content, size_t len, size_t cut,
	      size_t raw_tail, struct kt_buf *out)
{
	size_t comp = len - raw_tail, bs, pos = 0;
	size_t room = 4 + 1 + 8 + ZSTD_compressBound(len) + 3 * (len / BLOCK_MAX + 2) + 4;
	uint8_t *p;

	out->len = 0;
	if (!(p = kt_buf_reserve(out, room)))
		return -ENOMEM;
	p = put_le(p, ZSTD_MAGIC, 4);
	*p++ = FHD;
	p = put_le(p, len, 8);
	if (ZSTD_isError(ZSTD_compressBegin(cctx, level)))
		return -EIO;
	bs = ZSTD_getBlockSize(cctx);
	while (pos < comp) {
		size_t end = pos < cut && cut < comp ? cut : comp;
		size_t n = end - pos < bs ? end - pos : bs;
		bool last = pos + n == len;
		size_t c = ZSTD_compressBlock(cctx, p + 3, room - (size_t)(p + 3 - out->data),
					      content + pos, n);

		if (ZSTD_isError(c))
			return -EIO;
		if (c) {
			p = block_header(p, last, BLOCK_COMPRESSED, c) + c;
		} else {  /* not worth compressing: the bytes as they are */
			p = block_header(p, last, BLOCK_RAW, n);
			memcpy(p, content + pos, n);
			p += n;
		}
		pos += n;
	}
	do {  /* the raw tail; and a frame needs one block even when empty */
		size_t n = len - pos < BLOCK_MAX ? len - pos : BLOCK_MAX;

		if (pos == len && pos)
			break;
		p = block_header(p, pos + n == len, BLOCK_RAW, n);
		memcpy(p, content + pos, n);
		p += n;
		pos += n;
	} while (pos < len);
	p = put_le(p, kt_xxh64(content, len) & 0xffffffffu, 4);
	out->len = (size_t)(p - out->data);
	return 0;
}
