#include "trace/trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "common/file.h"
#include "trace/trace_delta.h"
#include "trace/trace_header.h"

#define ZSTD_MAGIC 0xFD2FB528u
#define ZSTD_SKIPPABLE_MASK 0xFFFFFFF0u
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u
#define ZSTD_FHD_CHECKSUM 0x04  /* Frame_Header_Descriptor: Content_Checksum_flag */
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
	struct kt_header hdr;
	bool unchecked;           /* the current frame has no checksum */
	uint16_t minor;
	bool ended;
	int error;                /* sticky: nothing is handed out after one */
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

/* 1 for a data frame, 0 for a skippable one (reserved for later minors,
 * skipped), KT_E_CORRUPT for something else. */
static int frame_kind(const uint8_t *src, size_t csize)
{
	uint32_t magic;

	memcpy(&magic, src, sizeof(magic));
	if ((magic & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC)
		return 0;
	return magic == ZSTD_MAGIC && csize >= 5 ? 1 : KT_E_CORRUPT;
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
			if (avail > MAX_COMPRESSED)  /* bounded memory */
				return r->hdr.major ? KT_E_CORRUPT : KT_E_NOT_TRACE;
			if ((ret = fill(r)))
				return ret;
			continue;
		}
		if (ZSTD_isError(csize))
			return KT_E_CORRUPT;
		if ((ret = frame_kind(src, csize)) <= 0) {
			if (ret < 0)
				return ret;
			r->in_pos += csize;
			continue;
		}
		content = ZSTD_getFrameContentSize(src, csize);
		/* Our writer never makes such a frame: before the magic has
		 * been seen that means someone else's zstd file. */
		if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
		    content > KT_MAX_FRAME_BYTES)
			return r->hdr.major ? KT_E_CORRUPT : KT_E_NOT_TRACE;
		r->frame.len = 0;
		if (!kt_buf_reserve(&r->frame, content ? content : 1))
			return -ENOMEM;
		if (ZSTD_decompressDCtx(r->dctx, r->frame.data, content, src, csize) != content)
			return KT_E_CORRUPT;
		r->frame.len = content;
		/* Only checksummed frames are verified whole.  The caller decides:
		 * the first frame is looked at for its magic before this counts. */
		r->unchecked = !(src[4] & ZSTD_FHD_CHECKSUM);
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
	if (r->unchecked)
		return KT_E_CORRUPT;
	r->minor = m.minor;
	r->hdr.major = m.major;
	r->hdr.minor = m.minor;
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
	if (ret <= 0 || h.type != KT_REC_HEADER || (h.flags & KT_RF_XOR))
		return KT_E_CORRUPT;
	if ((ret = kt_header_parse(&r->hdr, body, h.len)))
		return ret == -ENOMEM ? ret : KT_E_CORRUPT;
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
	int fd = kt_open_regular(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	return kt_reader_open_fd(fd, err);
}

struct kt_reader *kt_reader_open_fd(int fd, int *err)
{
	struct kt_reader *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		*err = -ENOMEM;
		close(fd);
		return NULL;
	}
	r->fd = fd;
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
	kt_header_free(&r->hdr);
	kt_xor_table_free(&r->xor);
	free(r);
}

const uint8_t *kt_reader_header(const struct kt_reader *r, size_t *len)
{
	*len = r->header.len;
	return r->header.data;
}

const struct kt_header *kt_reader_hdr(const struct kt_reader *r)
{
	return &r->hdr;
}

uint16_t kt_reader_minor(const struct kt_reader *r)
{
	return r->minor;
}

uint64_t kt_reader_index(const struct kt_reader *r)
{
	return r->index;
}

/* Smallest body of each record type this build knows; a newer minor may
 * append to a body, never shorten it. */
static const uint32_t min_len[] = {
	[KT_REC_IOCTL] = sizeof(struct kt_ioctl_body),
	[KT_REC_SNAPSHOT] = sizeof(struct kt_snapshot_body),
	[KT_REC_MEMWRITE] = sizeof(uint64_t),
	[KT_REC_DIGEST] = sizeof(struct kt_digest_body),
	[KT_REC_END] = sizeof(struct kt_end_body),
	[KT_REC_KEXIT] = sizeof(struct kt_kexit_body),
	[KT_REC_KEXIT_LOST] = sizeof(struct kt_kexit_lost_body),
};
#define KNOWN_TYPES (sizeof(min_len) / sizeof(min_len[0]))

static int check_digest(const uint8_t *body, uint32_t len)
{
	struct kt_digest_body d;

	memcpy(&d, body, sizeof(d));
	return (len - sizeof(d)) / sizeof(uint64_t) < d.npages ? KT_E_CORRUPT : 0;
}

/* Point the event at its (already plain) body and parts. */
struct kt_event kt_event_view(uint8_t type, uint16_t vcpu, const uint8_t *body, uint32_t len)
{
	struct kt_event ev = { .type = type, .vcpu = vcpu, .body = body, .len = len };

	if (type == KT_REC_IOCTL) {
		ev.ioctl = (const void *)body;
		ev.in = body + sizeof(*ev.ioctl);
		ev.out = ev.in + ev.ioctl->in_len;
	}
	return ev;
}

struct kt_event_copy *kt_event_copy(const struct kt_event *ev, uint64_t index)
{
	struct kt_event_copy *c = malloc(sizeof(*c) + ev->len);

	if (!c)
		return NULL;
	*c = (struct kt_event_copy){ .index = index, .type = ev->type, .vcpu = ev->vcpu,
				     .len = ev->len };
	memcpy(c->body, ev->body, ev->len);
	return c;
}

struct kt_event kt_event_copy_view(const struct kt_event_copy *c)
{
	return kt_event_view(c->type, c->vcpu, c->body, c->len);
}

static int fill_event(const struct kt_rec_hdr *h, uint8_t *body, struct kt_event *ev)
{
	if (h->len < min_len[h->type])
		return KT_E_CORRUPT;
	if (h->type == KT_REC_DIGEST && check_digest(body, h->len))
		return KT_E_CORRUPT;
	/* kt_delta_decode() has checked that an ioctl's lengths add up. */
	*ev = kt_event_view(h->type, h->vcpu, body, h->len);
	ev->flags = h->flags;
	return 0;
}

/* Undo the delta and point the event at the parts.  A record type this
 * build does not know is handed out raw when the trace is of a newer minor
 * (a later kvmtrace may add types; `show` prints them as bytes). */
static int decode(struct kt_reader *r, const struct kt_rec_hdr *h, uint8_t *body,
		  struct kt_event *ev)
{
	bool known = h->type < KNOWN_TYPES && min_len[h->type];
	int ret;

	if (!known && (r->minor <= KT_FORMAT_MINOR || h->type == 0 ||
		       h->type == KT_REC_HEADER))
		return KT_E_CORRUPT;
	if ((ret = kt_delta_decode(&r->xor, h, body)))
		return ret;
	if (!known) {
		*ev = (struct kt_event){ .type = h->type, .flags = h->flags, .vcpu = h->vcpu,
					 .body = body, .len = h->len };
		return 0;
	}
	return fill_event(h, body, ev);
}

static int next_event(struct kt_reader *r, struct kt_event *ev)
{
	struct kt_rec_hdr h;
	uint8_t *body;
	int ret;

	if (r->ended)
		return 0;
	if (r->error)
		return r->error;
	while ((ret = next_record(r, &h, &body)) == 0) {
		ret = next_frame(r);
		if (ret == 0)
			return KT_E_TRUNCATED;  /* no END record */
		if (ret < 0)
			return ret;
		if (r->unchecked)
			return KT_E_CORRUPT;
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

int kt_reader_next(struct kt_reader *r, struct kt_event *ev)
{
	int ret = next_event(r, ev);

	if (ret < 0)
		r->error = ret;
	return ret;
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
