#include "trace/trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_d_stableOutBuffer: decode into our buffer */
#include <zstd.h>

#include "common/file.h"
#include "trace/frame_decode.h"
#include "trace/trace_delta.h"
#include "trace/trace_header.h"

#define ZSTD_MAGIC 0xFD2FB528u
#define ZSTD_SKIPPABLE_MASK 0xFFFFFFF0u
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u
#define ZSTD_FHD_CHECKSUM 0x04  /* Frame_Header_Descriptor: Content_Checksum_flag */
/* Frames are decompressed as they are read, this much at a time, so the
 * compressed bytes never need to be held whole. */
#define READ_CHUNK (128u << 10)
/* zstd's window: our writer's level-1 frames use 512 KiB; a frame asking
 * for more than a frame can hold is refused. */
#define WINDOW_LOG_MAX 24
/* Version 1's last minor (1.1): record types it does not know are
 * corruption in a trace of it or older. */
#define V1_LAST_MINOR 1
/* A frame buffer larger than this is given back after the header. */
#define KEEP_AFTER_HEADER (1u << 20)

struct kt_reader {
	int fd;
	bool owns_fd;             /* a clone shares its parent's */
	uint64_t off;             /* file offset of the next byte to read */
	bool eof;
	struct kt_buf in;         /* bytes read, not yet decompressed */
	size_t in_pos;
	struct kt_buf frame;      /* the current frame, decompressed */
	size_t frame_pos;         /* version 1: the next record */
	bool have_frame;
	uint64_t frame_off, frame_first;
	uint64_t first_frame_end; /* where the frames after the header start */
	struct kt_buf header;
	struct kt_header hdr;
	const struct kt_reader *parent;
	bool unchecked;           /* the current frame has no checksum */
	uint16_t major, minor;
	bool ended;
	int error;                /* sticky: nothing is handed out after one */
	bool hashes;
	bool skim;                /* kt_reader_skim */
	/* A skimmed frame decompressed only up to its RAW stream: where the
	 * rest of it lies, to finish it if it turns out to be needed. */
	bool partial;
	ZSTD_inBuffer rest;
	ZSTD_outBuffer out;
	struct kt_xor_table xor;  /* version 1 deltas */
	struct kt_frame_decoder *dec;  /* version 2 frames */
	ZSTD_DCtx *dctx;
	uint64_t index;
	uint64_t compressed, decompressed;  /* for KT_MAX_EXPANSION */
};

/* ---- bytes and frames ---- */
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
		n = pread(r->fd, dst, READ_CHUNK, (off_t)r->off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = true;
	r->in.len += (size_t)n;
	r->off += (uint64_t)n;
	return 0;
}

static size_t avail(const struct kt_reader *r)
{
	return r->in.len - r->in_pos;
}

/* At least n bytes buffered, unless the file ends first. */
static int want(struct kt_reader *r, size_t n)
{
	int ret;

	while (avail(r) < n && !r->eof)
		if ((ret = fill(r)))
			return ret;
	return 0;
}

static uint64_t tell(const struct kt_reader *r)
{
	return r->off - avail(r);
}

/* Before the magic has been seen, something that is not like our frames
 * means someone else's file. */
static int bad(const struct kt_reader *r, int err)
{
	return r->major ? err : KT_E_NOT_TRACE;
}

/* A skippable frame (reserved for later minors): read past it. */
static int skip_frame(struct kt_reader *r)
{
	uint32_t size;
	int ret;

	if ((ret = want(r, 8)))
		return ret;
	if (avail(r) < 8)
		return KT_E_TRUNCATED;
	memcpy(&size, r->in.data + r->in_pos + 4, sizeof(size));
	r->in_pos += 8;
	while (size) {
		size_t n = avail(r) < size ? avail(r) : size;

		r->in_pos += n;
		size -= (uint32_t)n;
		if (size && (ret = want(r, 1)))
			return ret;
		if (size && !avail(r))
			return KT_E_TRUNCATED;
	}
	return 0;
}

/* Decompress the frame at the read position into r->frame, checking its
 * checksum as zstd reaches its end. */
static int inflate(struct kt_reader *r, size_t content)
{
	ZSTD_outBuffer out = { r->frame.data, content, 0 };
	size_t start = tell(r), ret;

	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
	for (;;) {
		ZSTD_inBuffer in = { r->in.data + r->in_pos, avail(r), 0 };
		size_t was = out.pos;

		ret = ZSTD_decompressStream(r->dctx, &out, &in);
		r->in_pos += in.pos;
		if (ZSTD_isError(ret))
			return bad(r, KT_E_CORRUPT);
		if (ret == 0)
			break;
		if (in.size && !in.pos && out.pos == was)
			return bad(r, KT_E_CORRUPT);  /* no progress: nothing will come */
		if (avail(r) == 0) {
			int err = fill(r);

			if (err)
				return err;
			if (r->eof && avail(r) == 0)
				return KT_E_TRUNCATED;
		}
	}
	if (out.pos != content)
		return bad(r, KT_E_CORRUPT);
	r->compressed += tell(r) - start;
	r->decompressed += content;
	return 0;
}

/* Skimming: an event frame (version 2) decompressed only as far as its
 * head, OPS, KEYS and RAW, which end a zstd block: block by block from a
 * frame that lies whole in the buffer.  1 when that was done (r->partial:
 * the rest is in r->rest, unverified), 0 to read the frame in full instead
 * (it is not all here, or it is not ours), <0 an error. */
#define SKIM_MAX_COMPRESSED (1u << 20)
static int inflate_head(struct kt_reader *r, size_t content, size_t hsize)
{
	const uint8_t *src;
	size_t csize, pos, want = sizeof(struct kt_frame_head);
	int ret;

	while (ZSTD_isError(csize = ZSTD_findFrameCompressedSize(r->in.data + r->in_pos,
								  avail(r)))) {
		if (r->eof || avail(r) > SKIM_MAX_COMPRESSED)
			return 0;
		if ((ret = fill(r)))
			return ret;
	}
	src = r->in.data + r->in_pos;
	r->out = (ZSTD_outBuffer){ r->frame.data, content, 0 };
	r->rest = (ZSTD_inBuffer){ src, csize, 0 };
	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
	for (pos = hsize; pos + 3 <= csize && r->out.pos < want;) {
		uint32_t bh = (uint32_t)src[pos] | (uint32_t)src[pos + 1] << 8 |
			      (uint32_t)src[pos + 2] << 16;
		size_t size = bh >> 3, type = (bh >> 1) & 3;

		pos += 3 + (type == 1 ? 1 : size);  /* RLE blocks hold one byte */
		r->rest.size = pos < csize ? pos : csize;
		while (r->rest.pos < r->rest.size) {
			size_t was = r->rest.pos;

			if (ZSTD_isError(ZSTD_decompressStream(r->dctx, &r->out, &r->rest)))
				return KT_E_CORRUPT;
			if (r->rest.pos == was)
				break;
		}
		if (r->out.pos >= sizeof(struct kt_frame_head) && want == sizeof(struct kt_frame_head)) {
			struct kt_frame_head head;

			memcpy(&head, r->frame.data, sizeof(head));
			want += (size_t)head.stream_len[KT_S_OPS] + head.stream_len[KT_S_KEYS] +
				head.stream_len[KT_S_RAW];
			if (head.magic != KT_FRAME_MAGIC || want > content)
				return KT_E_CORRUPT;
		}
	}
	if (r->out.pos < want)
		return KT_E_CORRUPT;
	r->rest.size = csize;
	r->partial = true;
	r->in_pos += csize;  /* the next frame follows, whatever is left of this one */
	r->compressed += csize;
	r->decompressed += content;
	return 1;
}

/* A skimmed frame needed after all: the rest of it, and its checksum. */
static int inflate_rest(struct kt_reader *r)
{
	r->partial = false;
	while (r->rest.pos < r->rest.size) {
		size_t was = r->rest.pos, ret = ZSTD_decompressStream(r->dctx, &r->out, &r->rest);

		if (ZSTD_isError(ret))
			return KT_E_CORRUPT;
		if (ret == 0)
			return r->out.pos == r->out.size ? 0 : KT_E_CORRUPT;
		if (r->rest.pos == was)
			break;
	}
	return KT_E_CORRUPT;  /* the frame ends before its end */
}

/* The next data frame, decompressed and checksum-verified.  1 read, 0 no
 * more bytes at a frame boundary, <0 error. */
static int next_frame(struct kt_reader *r)
{
	for (;;) {
		unsigned long long content;
		uint32_t magic;
		size_t hsize;
		int ret;

		if ((ret = want(r, ZSTD_FRAMEHEADERSIZE_MAX)))
			return ret;
		if (!avail(r))
			return 0;
		if (avail(r) < 4)
			return r->major ? KT_E_TRUNCATED : KT_E_NOT_TRACE;
		memcpy(&magic, r->in.data + r->in_pos, sizeof(magic));
		if ((magic & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC && r->major) {
			if ((ret = skip_frame(r)))
				return ret;
			continue;
		}
		if (magic != ZSTD_MAGIC)
			return bad(r, KT_E_CORRUPT);
		hsize = ZSTD_frameHeaderSize(r->in.data + r->in_pos, avail(r));
		if (ZSTD_isError(hsize) || hsize > avail(r))
			return r->eof && r->major ? KT_E_TRUNCATED : bad(r, KT_E_CORRUPT);
		content = ZSTD_getFrameContentSize(r->in.data + r->in_pos, avail(r));
		/* Our writer always records the size, within the limit. */
		if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN)
			return bad(r, KT_E_CORRUPT);
		if (content > KT_MAX_FRAME_BYTES)
			return bad(r, KT_E_LIMIT);
		r->unchecked = !(r->in.data[r->in_pos + 4] & ZSTD_FHD_CHECKSUM);
		r->frame_off = tell(r);
		r->frame.len = 0;
		if (!kt_buf_reserve(&r->frame, content ? content : 1))
			return -ENOMEM;
		ret = r->skim && r->major >= 2 ? inflate_head(r, content, hsize) : 0;
		if (ret == 0 && (ret = inflate(r, content)))
			return ret;
		if (ret < 0)
			return ret;
		r->frame.len = content;
		r->frame_pos = 0;
		if (r->decompressed > KT_EXPANSION_FREE &&
		    r->decompressed / KT_MAX_EXPANSION > r->compressed)
			return KT_E_LIMIT;  /* a decompression bomb */
		return 1;
	}
}

/* ---- version 1 records ---- */
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

/* Undo the delta and point the event at the parts.  A record type this
 * build does not know is handed out raw when the trace is of a newer minor
 * (a later kvmtrace may add types; `show` prints them as bytes). */
static int v1_event(struct kt_reader *r, struct kt_event *ev)
{
	struct kt_rec_hdr h;
	uint8_t *body;
	bool known;
	int ret = next_record(r, &h, &body);

	if (ret <= 0)
		return ret;
	known = kt_event_known(h.type);
	if (!known && (r->minor <= V1_LAST_MINOR || h.type == 0 || h.type == KT_REC_HEADER))
		return KT_E_CORRUPT;
	if ((ret = kt_delta_decode(&r->xor, &h, body)))
		return ret;
	if (!known) {
		*ev = (struct kt_event){ .type = h.type, .vcpu = h.vcpu, .body = body, .len = h.len };
	} else {
		if ((ret = kt_event_check(h.type, body, h.len)))
			return ret;
		*ev = kt_event_view(h.type, h.vcpu, body, h.len);
	}
	ev->flags = h.flags & KT_RF_XOR ? KT_EV_DELTA : 0;
	ev->hash = r->hashes ? kt_event_hash(ev) : 0;
	return 1;
}

/* ---- the header ---- */
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
	if (memcmp(m.magic, KT_MAGIC, sizeof(m.magic)) || m.major < KT_FORMAT_OLDEST_MAJOR)
		return KT_E_NOT_TRACE;
	if (m.major > KT_FORMAT_MAJOR)
		return KT_E_NEWER;
	if (r->unchecked)
		return KT_E_CORRUPT;
	r->major = m.major;
	r->minor = m.minor;
	r->frame_pos = sizeof(m);
	return 0;
}

/* A large header (a guest image) leaves a large frame buffer: the event
 * frames that follow are small, so give it back. */
static void shrink_after_header(struct kt_reader *r)
{
	if (!r->have_frame && r->frame.cap > KEEP_AFTER_HEADER)
		kt_buf_free(&r->frame);
}

/* The magic and the header record (parsed and kept when keep). */
static int read_header(struct kt_reader *r, bool keep)
{
	struct kt_rec_hdr h;
	uint8_t *body;
	int ret = read_magic(r);

	if (ret)
		return ret;
	ret = next_record(r, &h, &body);
	if (ret <= 0 || h.type != KT_REC_HEADER || (h.flags & KT_RF_XOR))
		return KT_E_CORRUPT;
	if (h.len > KT_MAX_HEADER_BYTES)
		return KT_E_LIMIT;
	/* Version 2 puts nothing else in the header's frame. */
	if (r->major >= 2 && r->frame_pos != r->frame.len)
		return KT_E_CORRUPT;
	r->first_frame_end = tell(r);
	r->have_frame = r->frame_pos != r->frame.len;  /* version 1: events may follow */
	r->frame_first = 0;
	if (!keep) {
		shrink_after_header(r);
		return 0;
	}
	r->hdr.major = r->major;
	r->hdr.minor = r->minor;
	if ((ret = kt_header_parse(&r->hdr, body, h.len)))
		return ret == -ENOMEM || ret == KT_E_LIMIT ? ret : KT_E_CORRUPT;
	ret = kt_buf_put(&r->header, body, h.len);
	shrink_after_header(r);
	return ret;
}

static bool starts_like_zstd(struct kt_reader *r)
{
	uint32_t magic;

	if (want(r, 4) || avail(r) < 4)
		return false;
	memcpy(&magic, r->in.data, sizeof(magic));
	return magic == ZSTD_MAGIC;
}

static struct kt_reader *reader_new(int fd, bool owns_fd)
{
	struct kt_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = fd;
	r->owns_fd = owns_fd;
	r->xor.frame = 1;
	r->dctx = ZSTD_createDCtx();
	r->dec = kt_frame_decoder_new();
	if (!r->dctx || !r->dec ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX)) ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_stableOutBuffer, 1))) {
		r->owns_fd = false;
		kt_reader_close(r);
		return NULL;
	}
	return r;
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
	struct kt_reader *r = reader_new(fd, true);
	int ret;

	if (!r) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	ret = starts_like_zstd(r) ? read_header(r, true) : KT_E_NOT_TRACE;
	if (ret) {
		*err = ret;
		kt_reader_close(r);
		return NULL;
	}
	return r;
}

struct kt_reader *kt_reader_clone(const struct kt_reader *parent)
{
	struct kt_reader *r = reader_new(parent->fd, false);

	if (!r)
		return NULL;
	r->parent = parent;
	if (read_header(r, false) || r->major != parent->major) {
		kt_reader_close(r);
		return NULL;
	}
	r->hashes = parent->hashes;
	kt_frame_decoder_hashes(r->dec, r->hashes);
	return r;
}

void kt_reader_close(struct kt_reader *r)
{
	if (!r)
		return;
	if (r->owns_fd)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	kt_frame_decoder_free(r->dec);
	kt_buf_free(&r->in);
	kt_buf_free(&r->frame);
	kt_buf_free(&r->header);
	kt_header_free(&r->hdr);
	kt_xor_table_free(&r->xor);
	free(r);
}

void kt_reader_skim(struct kt_reader *r)
{
	r->skim = true;
	kt_frame_decoder_skim(r->dec, true);
}

void kt_reader_want_hashes(struct kt_reader *r)
{
	r->hashes = true;
	kt_frame_decoder_hashes(r->dec, true);
}

const uint8_t *kt_reader_header(const struct kt_reader *r, size_t *len)
{
	if (r->parent)
		return kt_reader_header(r->parent, len);
	*len = r->header.len;
	return r->header.data;
}

const struct kt_header *kt_reader_hdr(const struct kt_reader *r)
{
	return r->parent ? kt_reader_hdr(r->parent) : &r->hdr;
}

uint16_t kt_reader_minor(const struct kt_reader *r)
{
	return r->minor;
}

uint64_t kt_reader_index(const struct kt_reader *r)
{
	return r->index;
}

/* ---- events ---- */
/* The next frame of events, ready to be read. */
static int start_frame(struct kt_reader *r)
{
	int ret = next_frame(r);

	if (ret == 0)
		return KT_E_TRUNCATED;  /* no END record */
	if (ret < 0)
		return ret;
	if (r->unchecked)
		return KT_E_CORRUPT;
	r->frame_first = r->index;
	r->have_frame = true;
	if (r->major == 1) {
		r->xor.frame++;
		kt_xor_table_trim(&r->xor);
		return 0;
	}
	ret = kt_frame_decode_begin(r->dec, r->frame.data, r->frame.len, r->index,
				    r->minor > KT_FORMAT_MINOR);
	/* A frame decompressed in part that cannot be skimmed after all. */
	if (!ret && r->partial && !kt_frame_decode_skimming(r->dec) &&
	    !(ret = inflate_rest(r)))
		ret = kt_frame_decode_begin(r->dec, r->frame.data, r->frame.len, r->index,
					    r->minor > KT_FORMAT_MINOR);
	r->partial = false;
	return ret;
}

static int next_event(struct kt_reader *r, struct kt_event *ev)
{
	int ret;

	if (r->ended)
		return 0;
	if (r->error)
		return r->error;
	for (;;) {
		if (r->have_frame) {
			ret = r->major == 1 ? v1_event(r, ev) :
					      kt_frame_decode_next(r->dec, ev, &r->index);
			if (ret)
				break;
			r->have_frame = false;
		}
		if ((ret = start_frame(r)))
			return ret;
	}
	if (ret < 0)
		return ret;
	if (ev->type == KT_REC_END)
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

struct kt_pos kt_reader_pos(const struct kt_reader *r)
{
	return (struct kt_pos){ .frame_off = r->frame_off, .frame_first = r->frame_first,
				.index = r->index - 1 };
}

int kt_reader_goto(struct kt_reader *r, const struct kt_pos *pos, struct kt_event *ev)
{
	int ret = 0;

	if (r->error)
		return r->error;
	if (!r->have_frame || r->frame_off != pos->frame_off || r->index > pos->index) {
		/* Start over at the event's frame (the first frame of a version
		 * 1 trace begins with the header). */
		r->off = pos->frame_off;
		r->in.len = r->in_pos = 0;
		r->eof = r->ended = r->have_frame = false;
		r->index = pos->frame_first;
		if (pos->frame_off == 0 && (ret = read_header(r, false)))
			return r->error = ret;
		if (pos->frame_off && (ret = start_frame(r)))
			return r->error = ret;
		r->index = pos->frame_first;
		r->frame_off = pos->frame_off;
	}
	while (r->index <= pos->index)
		if ((ret = kt_reader_next(r, ev)) != 1)
			return ret ? ret : (r->error = KT_E_CORRUPT);
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
	{ KT_E_LIMIT, "trace declares more than kvmtrace accepts (docs/trace-format.md, Limits)" },
};

const char *kt_reader_strerror(int err)
{
	for (size_t i = 0; i < sizeof(reader_errors) / sizeof(reader_errors[0]); i++)
		if (reader_errors[i].err == err)
			return reader_errors[i].text;
	return strerror(-err);
}
