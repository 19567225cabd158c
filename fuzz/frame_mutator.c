/* A libFuzzer custom mutator for inputs made of trace files.  A trace is
 * zstd frames, each with a checksum: byte-level mutations of compressed
 * data almost never get past the checksum, so the record parser, the delta
 * decoder and the decoders behind them would hardly be reached (the outside
 * probe's libFuzzer run got 596 of 1,668 edges).  Most of the time this
 * mutator decompresses one frame, lets libFuzzer mutate the plain bytes and
 * compresses the result again, checksum and all; now and then it mutates the
 * raw bytes, so that damage to the compressed stream is fuzzed too.
 * libFuzzer builds only (-DKT_LIBFUZZER). */
#include "fuzz/frame_mutator.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Plain frames larger than this are mutated raw: the fuzzer's time is
 * better spent on many small inputs. */
#define MAX_PLAIN (1u << 20)

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Offsets of the frames that make up data; n at most max. */
static size_t find_frames(const uint8_t *data, size_t size, size_t *start, size_t *len,
			  size_t max)
{
	size_t pos = 0, n = 0;

	while (pos < size && n < max) {
		size_t c = ZSTD_findFrameCompressedSize(data + pos, size - pos);

		if (ZSTD_isError(c) || c == 0)
			break;
		start[n] = pos;
		len[n++] = c;
		pos += c;
	}
	return n;
}

/* Replace frame [start, start + clen) of data by plain bytes mutated and
 * compressed again.  0 when it could not (the caller mutates raw). */
static size_t mutate_frame(uint8_t *data, size_t size, size_t max_size, size_t start,
			   size_t clen)
{
	unsigned long long content = ZSTD_getFrameContentSize(data + start, clen);
	size_t plain_len, plain_max, bound, zlen, out;
	uint8_t *plain, *z;
	ZSTD_CCtx *cctx;

	if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
	    content > MAX_PLAIN)
		return 0;
	plain_max = (size_t)content + 4096;
	if (!(plain = malloc(plain_max)))
		return 0;
	plain_len = ZSTD_decompress(plain, plain_max, data + start, clen);
	if (ZSTD_isError(plain_len)) {
		free(plain);
		return 0;
	}
	plain_len = LLVMFuzzerMutate(plain, plain_len, plain_max);
	bound = ZSTD_compressBound(plain_len);
	z = malloc(bound);
	cctx = ZSTD_createCCtx();
	zlen = 0;
	if (z && cctx &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)))
		zlen = ZSTD_compress2(cctx, z, bound, plain, plain_len);
	out = 0;
	if (zlen && !ZSTD_isError(zlen) && size - clen + zlen <= max_size) {
		memmove(data + start + zlen, data + start + clen, size - start - clen);
		memcpy(data + start, z, zlen);
		out = size - clen + zlen;
	}
	ZSTD_freeCCtx(cctx);
	free(z);
	free(plain);
	return out;
}

size_t kt_mutate_trace(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	size_t start[256], len[256], n, out = 0;
	uint32_t r = seed | 1;

	if (!max_size)
		return size;
	n = find_frames(data, size, start, len, 256);
	if (n && next_rand(&r) % 8) {
		size_t i = next_rand(&r) % n;

		out = mutate_frame(data, size, max_size, start[i], len[i]);
	}
	return out ? out : LLVMFuzzerMutate(data, size, max_size);
}
