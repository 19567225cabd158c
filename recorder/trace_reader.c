#include "recorder/trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "recorder/trace_header.h"
#include "recorder/xor_keys.h"

#define ZSTD_MAGIC 0xFD2FB528u
#define READ_CHUNK (256u << 10)
/* Compressed frames are never much larger than their content. */
#define MAX_COMPRESSED (KT_MAX_FRAME_BYTES + (1u << 20))

struct kt_reader {
	int fd;
	bool eof;
	struct kt_buf in;         /* compressed bytes read, not yet consumed */
	size_t in_pos;
	struct kt_buf frame;      /* the current frame, decompressed */
	size_t frame_pos;
	struct kt_buf header;
	uint16_t minor;
	bool ended;
	struct kt_xor_table xor;
	ZSTD_DCtx *dctx;
	uint64_t index;
};

static int fill(struct kt_reader *r)
{
	uint8_t *dst;
	ssize_t n;

	if (r->in_pos) {  /* slide unconsumed bytes to the front */
		memmove(r->in.data, r->in.data + r->in_pos, r->in.len - r->in_pos);
		r->in.len -= r->in_pos;
		r->in_pos = 0;
	}
	if (!(dst = kt_buf_reserve(&r->in, READ_CHUNK)))
		return -ENOMEM;
	do
		n = read(r->fd, dst, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = true;
	r->in.len += (size_t)n;
	return 0;
}

/* The next whole frame, decompressed and checksum-verified.  1 read, 0 no
 * more bytes at a frame boundary, <0 error. */
static int next_frame(struct kt_reader *r)
{
	for (;;) {
		const uint8_t *src = r->in.data + r->in_pos;
		size_t avail = r->in.len - r->in_pos, csize;
		unsigned long long content;
		int ret;

		if (avail == 0 && r->eof)
			return 0;
		csize = avail ? ZSTD_findFrameCompressedSize(src, avail) : 0;
		if (!avail || (ZSTD_isError(csize) &&
			       ZSTD_getErrorCode(csize) == ZSTD_error_srcSize_wrong)) {
			if (r->eof)
				return KT_E_TRUNCATED;
			if (avail > MAX_COMPRESSED)
				return KT_E_CORRUPT;
			if ((ret = fill(r)))
				return ret;
			continue;
		}
		if (ZSTD_isError(csize))
			return KT_E_CORRUPT;
		content = ZSTD_getFrameContentSize(src, csize);
		if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
		    content > KT_MAX_FRAME_BYTES)
			return KT_E_CORRUPT;
		r->frame.len = 0;
		if (!kt_buf_reserve(&r->frame, content ? content : 1))
			return -ENOMEM;
		if (ZSTD_decompressDCtx(r->dctx, r->frame.data, content, src, csize) != content)
			return KT_E_CORRUPT;
		r->frame.len = content;
		r->frame_pos = 0;
		r->in_pos += csize;
		r->xor.frame++;
		return 1;
	}
}

/* The next record header and body in the frame, or 0 at the frame's end. */
static int next_record(struct kt_reader *r, struct kt_rec_hdr *h, uint8_t **body)
{
	size_t left = r->frame.len - r->frame_pos;

	if (!left)
		return 0;
	if (left < sizeof(*h))
		return KT_E_CORRUPT;
	memcpy(h, r->frame.data + r->frame_pos, sizeof(*h));
	if (left - sizeof(*h) < KT_REC_PADDED((size_t)h->len))
		return KT_E_CORRUPT;
	*body = r->frame.data + r->frame_pos + sizeof(*h);
	r->frame_pos += sizeof(*h) + KT_REC_PADDED((size_t)h->len);
	return 1;
}

static int read_magic(struct kt_reader *r)
{
	struct kt_file_magic m;
	int ret = next_frame(r);

	if (ret == 0 || ret == KT_E_TRUNCATED)
		return r->in.len ? KT_E_TRUNCATED : KT_E_NOT_TRACE;
	if (ret < 0)
		return ret;
	if (r->frame.len < sizeof(m))
		return KT_E_NOT_TRACE;
	memcpy(&m, r->frame.data, sizeof(m));
	if (memcmp(m.magic, KT_MAGIC, sizeof(m.magic)))
		return KT_E_NOT_TRACE;
	if (m.major > KT_FORMAT_MAJOR)
		return KT_E_NEWER;
	r->minor = m.minor;
	r->frame_pos = sizeof(m);
	return 0;
}

static int read_header(struct kt_reader *r)
{
	struct kt_rec_hdr h;
	uint8_t *body;
	int ret = read_magic(r);

	if (ret)
		return ret;
	ret = next_record(r, &h, &body);
	if (ret <= 0 || h.type != KT_REC_HEADER)
		return KT_E_CORRUPT;
	return kt_buf_put(&r->header, body, h.len);
}

static bool starts_like_zstd(struct kt_reader *r)
{
	uint32_t magic;

	if (r->in.len < 4 && (fill(r) || r->in.len < 4))
		return false;
	memcpy(&magic, r->in.data, sizeof(magic));
	return magic == ZSTD_MAGIC;
}

struct kt_reader *kt_reader_open(const char *path, int *err)
{
	struct kt_reader *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		*err = -errno;
		free(r);
		return NULL;
	}
	r->dctx = ZSTD_createDCtx();
	r->xor.frame = 1;
	ret = starts_like_zstd(r) ? read_header(r) : KT_E_NOT_TRACE;
	if (ret) {
		*err = ret;
		kt_reader_close(r);
		return NULL;
	}
	return r;
}

void kt_reader_close(struct kt_reader *r)
{
	if (!r)
		return;
	close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	kt_buf_free(&r->in);
	kt_buf_free(&r->frame);
	kt_buf_free(&r->header);
	kt_xor_table_free(&r->xor);
	free(r);
}

const uint8_t *kt_reader_header(const struct kt_reader *r, size_t *len)
{
	*len = r->header.len;
	return r->header.data;
}

uint16_t kt_reader_minor(const struct kt_reader *r)
{
	return r->minor;
}

uint64_t kt_reader_index(const struct kt_reader *r)
{
	return r->index;
}

/* Undo the XOR delta and point the event at its parts. */
static int decode(struct kt_reader *r, const struct kt_rec_hdr *h, uint8_t *body,
		  struct kt_event *ev)
{
	int had_prev;
	struct kt_xor_slot *s = kt_xor_lookup(&r->xor, kt_xor_key(h->type, h->vcpu),
					      &had_prev);

	if ((h->flags & KT_RF_XOR) && (!s || !had_prev))
		return KT_E_CORRUPT;  /* a delta against nothing */
	if (s && (h->flags & KT_RF_XOR ? kt_xor_decode(s, body, h->len) :
		  kt_xor_remember(s, body, h->len)))
		return -ENOMEM;
	*ev = (struct kt_event){ .type = h->type, .flags = h->flags, .vcpu = h->vcpu,
				 .body = body, .len = h->len };
	if (h->type == KT_REC_IOCTL) {
		const struct kt_ioctl_body *b = (const void *)body;

		if (h->len < sizeof(*b) ||
		    h->len - sizeof(*b) != (uint64_t)b->in_len + b->out_len)
			return KT_E_CORRUPT;
		ev->ioctl = b;
		ev->in = body + sizeof(*b);
		ev->out = ev->in + b->in_len;
	}
	return 0;
}

int kt_reader_next(struct kt_reader *r, struct kt_event *ev)
{
	struct kt_rec_hdr h;
	uint8_t *body;
	int ret;

	if (r->ended)
		return 0;
	while ((ret = next_record(r, &h, &body)) == 0) {
		ret = next_frame(r);
		if (ret == 0)
			return KT_E_TRUNCATED;  /* no END record */
		if (ret < 0)
			return ret;
	}
	if (ret < 0)
		return ret;
	if ((ret = decode(r, &h, body, ev)))
		return ret;
	if (h.type == KT_REC_END)
		r->ended = true;
	r->index++;
	return 1;
}

static const struct {
	int err;
	const char *text;
} reader_errors[] = {
	{ KT_E_NOT_TRACE, "not a kvmtrace trace" },
	{ KT_E_CORRUPT, "trace is corrupt (checksum or record damage)" },
	{ KT_E_NEWER, "trace format version is newer than this kvmtrace reads" },
	{ KT_E_TRUNCATED, "trace truncated" },
};

const char *kt_reader_strerror(int err)
{
	for (size_t i = 0; i < sizeof(reader_errors) / sizeof(reader_errors[0]); i++)
		if (reader_errors[i].err == err)
			return reader_errors[i].text;
	return strerror(-err);
}
