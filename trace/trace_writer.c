#include "trace/trace_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/clock.h"
#include "trace/frame_encode.h"
#include "trace/trace_header.h"
#include "trace/zframe.h"

/* Level 1 is the fastest, and on frames whose repetition the word deltas
 * and streams have laid out as long matches it compresses as well as 3. */
#ifndef KT_ZSTD_LEVEL
#define KT_ZSTD_LEVEL 1
#endif
#define FRAME_SLACK (1u << 20)     /* end a frame before it nears the maximum */
#define MEMWRITE_CHUNK (4u << 20)  /* larger guest writes become several records */

struct frame {
	struct kt_buf buf;   /* plain records; the header frame: magic and header */
	uint32_t records;
	uint64_t first_event;
	uint64_t t_first;    /* CLOCK_MONOTONIC of the first record */
	bool header;         /* written as it is, not encoded */
};

/* vCPU threads append to cur under lock; the flusher owns pending (and enc,
 * cctx, content, zbuf) once it is handed over, so it encodes, compresses
 * and writes without the lock. */
struct kt_writer {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t wake;      /* to the flusher: a frame to write or to time */
	pthread_cond_t drained;   /* from the flusher: the pending slot is free */
	struct frame cur, pending;
	bool have_pending, stopping;
	uint64_t events;
	int error;                /* the first one, for close */
	atomic_int write_error;   /* the first failed write: nothing more is written */
	uint64_t written;         /* events in the frames written whole */
	pthread_t flusher;
	struct kt_frame_encoder *enc;
	ZSTD_CCtx *cctx;
	struct kt_buf content, zbuf;
};

static void set_error(struct kt_writer *w, int err)
{
	if (!w->error)
		w->error = err;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* An event frame's clock bits are noise: they go into raw blocks that zstd
 * does not search (trace/zframe.h); the rest is compressed. */
static int compress_out(struct kt_writer *w, struct frame *f)
{
	struct kt_frame_head head;
	size_t bound, n;
	int ret;

	if (f->header) {
		bound = ZSTD_compressBound(f->buf.len);
		w->zbuf.len = 0;
		if (!kt_buf_reserve(&w->zbuf, bound))
			return -ENOMEM;
		n = ZSTD_compress2(w->cctx, w->zbuf.data, bound, f->buf.data, f->buf.len);
		if (ZSTD_isError(n))
			return -EIO;
		return write_all(w->fd, w->zbuf.data, n);
	}
	if ((ret = kt_frame_encode(w->enc, f->buf.data, f->buf.len, f->records,
				   f->first_event, &w->content)))
		return ret;
	memcpy(&head, w->content.data, sizeof(head));
	if ((ret = kt_zframe(w->cctx, KT_ZSTD_LEVEL, w->content.data, w->content.len,
			     sizeof(head) + (size_t)head.stream_len[KT_S_OPS] +
			     head.stream_len[KT_S_KEYS] + head.stream_len[KT_S_RAW],
			     head.stream_len[KT_S_CLOCKS], &w->zbuf)))
		return ret;
	return write_all(w->fd, w->zbuf.data, w->zbuf.len);
}

/* Hand the current frame to the flusher; caller holds the lock.  Waits only
 * when the flusher is still busy with the previous frame. */
static void end_frame(struct kt_writer *w)
{
	struct kt_buf spare;

	while (w->have_pending && (w->cur.records || w->cur.header))
		pthread_cond_wait(&w->drained, &w->lock);
	/* Asked again after the wait: meanwhile the flusher may have handed
	 * this very frame over itself (it came of age), leaving an empty one. */
	if (!w->cur.records && !w->cur.header)
		return;
	spare = w->pending.buf;
	w->pending = w->cur;
	w->have_pending = true;
	w->cur = (struct frame){ .buf = spare };
	w->cur.buf.len = 0;
	pthread_cond_signal(&w->wake);
}

/* Sleep until something is handed over or the current frame comes of age. */
static void flusher_wait(struct kt_writer *w)
{
	struct timespec ts;

	if (!w->cur.records) {
		pthread_cond_wait(&w->wake, &w->lock);
		return;
	}
	ts = kt_monotonic_at(w->cur.t_first + KT_FRAME_MAX_NS);
	pthread_cond_timedwait(&w->wake, &w->lock, &ts);
}

static void *flusher_main(void *arg)
{
	struct kt_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (w->have_pending) {
			bool out = !atomic_load_explicit(&w->write_error, memory_order_relaxed);
			int ret = 0;

			pthread_mutex_unlock(&w->lock);
			/* After a failed write the file stays cut after its last
			 * whole frame rather than gaining frames past a hole. */
			if (out)
				ret = compress_out(w, &w->pending);
			pthread_mutex_lock(&w->lock);
			if (ret) {
				set_error(w, ret);
				atomic_store(&w->write_error, ret);
			} else if (out && !w->pending.header) {
				w->written = w->pending.first_event + w->pending.records;
			}
			w->have_pending = false;
			pthread_cond_broadcast(&w->drained);
			continue;
		}
		if (w->cur.records &&
		    kt_monotonic_ns() - w->cur.t_first >= KT_FRAME_MAX_NS) {
			end_frame(w);
			continue;
		}
		if (w->stopping)
			break;
		flusher_wait(w);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int init_sync(struct kt_writer *w)
{
	/* kt_monotonic_ns() stamps frames, so the timed wait uses its clock. */
	int ret = kt_cond_init_monotonic(&w->wake);

	if (ret)
		return ret;
	pthread_cond_init(&w->drained, NULL);
	pthread_mutex_init(&w->lock, NULL);
	return 0;
}

static int init_zstd(struct kt_writer *w)
{
	if (!(w->cctx = ZSTD_createCCtx()) || !(w->enc = kt_frame_encoder_new()))
		return -ENOMEM;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel,
						KT_ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1)))
		return -EINVAL;
	return 0;
}

struct kt_writer *kt_writer_open(const char *path, bool force, int *err)
{
	struct kt_writer *w = calloc(1, sizeof(*w));
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
	int ret;

	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	w->fd = open(path, flags, 0644);
	if (w->fd < 0) {
		*err = -errno;
		free(w);
		return NULL;
	}
	if ((ret = init_zstd(w)) || (ret = init_sync(w)) ||
	    (ret = -pthread_create(&w->flusher, NULL, flusher_main, w))) {
		*err = ret;
		close(w->fd);
		ZSTD_freeCCtx(w->cctx);
		kt_frame_encoder_free(w->enc);
		free(w);
		return NULL;
	}
	return w;
}

/* Room for one plain record in the current frame, header written and
 * padding zeroed; caller holds the lock.  NULL when it could not be kept
 * (the error is noted). */
static uint8_t *append(struct kt_writer *w, uint8_t type, uint16_t vcpu, size_t len)
{
	size_t room = sizeof(struct kt_rec_hdr) + KT_REC_PADDED(len);
	struct kt_rec_hdr h = { .type = type, .vcpu = vcpu, .len = (uint32_t)len };
	uint8_t *dst;

	if (room > KT_MAX_FRAME_BYTES - FRAME_SLACK) {
		set_error(w, KT_E_LIMIT);  /* no frame could hold it */
		return NULL;
	}
	if (w->cur.buf.len + room > KT_MAX_FRAME_BYTES - FRAME_SLACK ||
	    w->cur.records >= KT_FRAME_MAX_RECORDS)
		end_frame(w);
	if (w->cur.buf.len + room <= w->cur.buf.cap) {
		dst = w->cur.buf.data + w->cur.buf.len;  /* the usual case, no call */
	} else if (!(dst = kt_buf_reserve(&w->cur.buf, room))) {
		set_error(w, -ENOMEM);
		return NULL;
	}
	/* The padding is left as it is: the encoder never reads it. */
	memcpy(dst, &h, sizeof(h));
	if (!w->cur.records++) {
		w->cur.first_event = w->events;
		w->cur.t_first = kt_monotonic_ns();
		pthread_cond_signal(&w->wake);  /* the flusher times the new frame */
	}
	w->cur.buf.len += room;
	w->events++;
	return dst + sizeof(h);
}

void kt_writer_lock(struct kt_writer *w)
{
	pthread_mutex_lock(&w->lock);
}

void kt_writer_unlock(struct kt_writer *w)
{
	pthread_mutex_unlock(&w->lock);
}

uint8_t *kt_writer_put(struct kt_writer *w, uint8_t type, uint16_t vcpu, uint32_t len)
{
	size_t room = sizeof(struct kt_rec_hdr) + KT_REC_PADDED((size_t)len);
	struct frame *f = &w->cur;
	uint8_t *dst;

	/* The usual case in a few instructions: room in a frame with records. */
	if (f->records && f->records < KT_FRAME_MAX_RECORDS && f->buf.len + room <= f->buf.cap &&
	    f->buf.len + room <= KT_MAX_FRAME_BYTES - FRAME_SLACK) {
		struct kt_rec_hdr h = { .type = type, .vcpu = vcpu, .len = len };

		dst = f->buf.data + f->buf.len;
		memcpy(dst, &h, sizeof(h));
		f->buf.len += room;
		f->records++;
		w->events++;
		return dst + sizeof(h);
	}
	return append(w, type, vcpu, len);
}

int kt_writer_write_error(const struct kt_writer *w)
{
	return atomic_load_explicit(&w->write_error, memory_order_relaxed);
}

/* A record from up to three pieces. */
static void record(struct kt_writer *w, uint8_t type, uint16_t vcpu,
		   const void *p0, size_t l0, const void *p1, size_t l1,
		   const void *p2, size_t l2)
{
	uint8_t *dst;

	pthread_mutex_lock(&w->lock);
	if ((dst = append(w, type, vcpu, l0 + l1 + l2))) {
		memcpy(dst, p0, l0);
		if (l1)
			memcpy(dst + l0, p1, l1);
		if (l2)
			memcpy(dst + l0 + l1, p2, l2);
	}
	pthread_mutex_unlock(&w->lock);
}

int kt_writer_header(struct kt_writer *w, const void *tlv, size_t len)
{
	struct kt_file_magic m = { .major = KT_FORMAT_MAJOR, .minor = KT_FORMAT_MINOR };
	struct kt_rec_hdr h = { .type = KT_REC_HEADER, .len = (uint32_t)len };
	size_t padded = KT_REC_PADDED(len);
	uint8_t *dst;
	int ret;

	if (len > KT_MAX_HEADER_BYTES)
		return KT_E_LIMIT;
	memcpy(m.magic, KT_MAGIC, sizeof(m.magic));
	pthread_mutex_lock(&w->lock);
	end_frame(w);  /* the magic and the header make a frame of their own */
	if ((dst = kt_buf_reserve(&w->cur.buf, sizeof(m) + sizeof(h) + padded))) {
		memcpy(dst, &m, sizeof(m));
		memcpy(dst + sizeof(m), &h, sizeof(h));
		memcpy(dst + sizeof(m) + sizeof(h), tlv, len);
		memset(dst + sizeof(m) + sizeof(h) + len, 0, padded - len);
		w->cur.buf.len = sizeof(m) + sizeof(h) + padded;
		w->cur.header = true;
		end_frame(w);  /* the header alone makes a trace readable */
	} else {
		set_error(w, -ENOMEM);
	}
	ret = w->error;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void kt_writer_ioctl(struct kt_writer *w, uint16_t vcpu, const struct kt_ioctl_body *b,
		     const void *in, const void *out)
{
	if (b->in_len > KT_MAX_IOCTL_BYTES || b->out_len > KT_MAX_IOCTL_BYTES) {
		pthread_mutex_lock(&w->lock);
		set_error(w, KT_E_LIMIT);
		pthread_mutex_unlock(&w->lock);
		return;
	}
	record(w, KT_REC_IOCTL, vcpu, b, sizeof(*b), in, b->in_len, out, b->out_len);
}

void kt_writer_snapshot(struct kt_writer *w, uint16_t vcpu,
			const struct kt_snapshot_body *s)
{
	record(w, KT_REC_SNAPSHOT, vcpu, s, sizeof(*s), NULL, 0, NULL, 0);
}

void kt_writer_memwrite(struct kt_writer *w, uint64_t gpa, const void *data, size_t len)
{
	const uint8_t *p = data;

	do {
		size_t n = len < MEMWRITE_CHUNK ? len : MEMWRITE_CHUNK;

		record(w, KT_REC_MEMWRITE, 0, &gpa, sizeof(gpa), p, n, NULL, 0);
		gpa += n;
		p += n;
		len -= n;
	} while (len);
}

void kt_writer_digest(struct kt_writer *w, const struct kt_digest_body *d,
		      const uint64_t *hashes)
{
	record(w, KT_REC_DIGEST, 0, d, sizeof(*d), hashes,
	       (size_t)d->npages * sizeof(*hashes), NULL, 0);
}

void kt_writer_end(struct kt_writer *w, const struct kt_end_body *e)
{
	record(w, KT_REC_END, 0, e, sizeof(*e), NULL, 0, NULL, 0);
}

void kt_writer_kexit(struct kt_writer *w, uint16_t vcpu, const struct kt_kexit_body *k)
{
	record(w, KT_REC_KEXIT, vcpu, k, sizeof(*k), NULL, 0, NULL, 0);
}

void kt_writer_kexit_lost(struct kt_writer *w, uint16_t vcpu,
			  const struct kt_kexit_lost_body *l)
{
	record(w, KT_REC_KEXIT_LOST, vcpu, l, sizeof(*l), NULL, 0, NULL, 0);
}

uint64_t kt_writer_written(struct kt_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->written;
	pthread_mutex_unlock(&w->lock);
	return n;
}

uint64_t kt_writer_events(struct kt_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->events;
	pthread_mutex_unlock(&w->lock);
	return n;
}

int kt_writer_flush(struct kt_writer *w)
{
	pthread_mutex_lock(&w->lock);
	if (!w->stopping) {
		end_frame(w);
		w->stopping = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->flusher, NULL);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return w->error;
}

int kt_writer_close(struct kt_writer *w)
{
	int ret = kt_writer_flush(w);

	if (close(w->fd) && !ret)
		ret = -errno;
	ZSTD_freeCCtx(w->cctx);
	kt_frame_encoder_free(w->enc);
	kt_buf_free(&w->cur.buf);
	kt_buf_free(&w->pending.buf);
	kt_buf_free(&w->content);
	kt_buf_free(&w->zbuf);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->drained);
	free(w);
	return ret;
}
