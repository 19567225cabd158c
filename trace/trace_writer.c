#include "trace/trace_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/clock.h"
#include "trace/trace_delta.h"
#include "trace/trace_header.h"

/* bench-writer: level 1 is fastest and, after the XOR deltas have turned
 * repetition into zeros, compresses a port loop as well as level 3. */
#ifndef KT_ZSTD_LEVEL
#define KT_ZSTD_LEVEL 1
#endif
#define FRAME_SLACK (1u << 20)     /* end a frame before it nears the maximum */
#define MEMWRITE_CHUNK (4u << 20)  /* larger guest writes become several records */

struct frame {
	struct kt_buf buf;
	size_t start;      /* where records begin (after the file magic) */
	uint32_t records;
	uint64_t t_first;  /* CLOCK_MONOTONIC of the first record */
};

/* vCPU threads append to cur under lock; the flusher owns pending (and xor,
 * cctx, zbuf) once it is handed over, so it delta-codes, compresses and
 * writes without the lock. */
struct kt_writer {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t wake;      /* to the flusher: a frame to write or to time */
	pthread_cond_t drained;   /* from the flusher: the pending slot is free */
	struct frame cur, pending;
	bool have_pending, stopping;
	uint64_t events;
	int error;                /* the first one, for close */
	bool broken;              /* a write failed: nothing more is written */
	pthread_t flusher;
	struct kt_xor_table xor;
	ZSTD_CCtx *cctx;
	struct kt_buf zbuf;
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

/* Delta-code every record of the frame against its predecessors in the
 * same frame, in the order a reader will undo it. */
static int delta_frame(struct kt_writer *w, struct frame *f)
{
	size_t pos = f->start;

	w->xor.frame++;
	while (pos < f->buf.len) {
		struct kt_rec_hdr h;
		int ret;

		memcpy(&h, f->buf.data + pos, sizeof(h));
		/* The header record is never a delta (and would cost a copy). */
		if (h.type != KT_REC_HEADER &&
		    (ret = kt_delta_encode(&w->xor, &h, f->buf.data + pos + sizeof(h))))
			return ret;
		memcpy(f->buf.data + pos, &h, sizeof(h));
		pos += sizeof(h) + KT_REC_PADDED((size_t)h.len);
	}
	return 0;
}

static int compress_out(struct kt_writer *w, struct frame *f)
{
	size_t bound = ZSTD_compressBound(f->buf.len), n;
	int ret;

	if ((ret = delta_frame(w, f)))
		return ret;
	w->zbuf.len = 0;
	if (!kt_buf_reserve(&w->zbuf, bound))
		return -ENOMEM;
	n = ZSTD_compress2(w->cctx, w->zbuf.data, bound, f->buf.data, f->buf.len);
	if (ZSTD_isError(n))
		return -EIO;
	return write_all(w->fd, w->zbuf.data, n);
}

/* Hand the current frame to the flusher; caller holds the lock.  Waits only
 * when the flusher is still busy with the previous frame. */
static void end_frame(struct kt_writer *w)
{
	struct kt_buf spare;

	if (!w->cur.records)
		return;
	while (w->have_pending)
		pthread_cond_wait(&w->drained, &w->lock);
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
			int ret = 0;

			pthread_mutex_unlock(&w->lock);
			/* After a failed write the file stays cut after its last
			 * whole frame rather than gaining frames past a hole. */
			if (!w->broken)
				ret = compress_out(w, &w->pending);
			pthread_mutex_lock(&w->lock);
			if (ret) {
				set_error(w, ret);
				w->broken = true;
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
	pthread_condattr_t attr;
	int ret;

	if ((ret = pthread_condattr_init(&attr)))
		return -ret;
	/* kt_monotonic_ns() stamps frames, so the timed wait uses its clock. */
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		return -ret;
	pthread_cond_init(&w->drained, NULL);
	pthread_mutex_init(&w->lock, NULL);
	return 0;
}

static int init_zstd(struct kt_writer *w)
{
	if (!(w->cctx = ZSTD_createCCtx()))
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
		free(w);
		return NULL;
	}
	return w;
}

/* Append one plain record; caller holds the lock.  The body arrives in up
 * to three pieces (fixed part, in, out); the flusher delta-codes it later.
 * false when it could not be kept (the error is noted). */
static bool append(struct kt_writer *w, uint8_t type, uint16_t vcpu,
		   const void *const parts[3], const size_t lens[3])
{
	size_t len = lens[0] + lens[1] + lens[2];
	size_t room = sizeof(struct kt_rec_hdr) + KT_REC_PADDED(len);
	struct kt_rec_hdr h = { .type = type, .vcpu = vcpu, .len = (uint32_t)len };
	uint8_t *dst;

	if (room > KT_MAX_FRAME_BYTES - FRAME_SLACK) {
		set_error(w, -EFBIG);  /* no frame could hold it */
		return false;
	}
	if (w->cur.buf.len + room > KT_MAX_FRAME_BYTES - FRAME_SLACK ||
	    w->cur.records >= KT_FRAME_MAX_RECORDS)
		end_frame(w);
	if (!(dst = kt_buf_reserve(&w->cur.buf, room))) {
		set_error(w, -ENOMEM);
		return false;
	}
	memcpy(dst, &h, sizeof(h));
	dst += sizeof(h);
	for (size_t i = 0; i < 3; dst += lens[i], i++)
		if (lens[i])
			memcpy(dst, parts[i], lens[i]);
	memset(dst, 0, KT_REC_PADDED(len) - len);
	if (!w->cur.records++) {
		w->cur.t_first = kt_monotonic_ns();
		pthread_cond_signal(&w->wake);  /* the flusher times the new frame */
	}
	w->cur.buf.len += room;
	return true;
}

static void record(struct kt_writer *w, uint8_t type, uint16_t vcpu,
		   const void *p0, size_t l0, const void *p1, size_t l1,
		   const void *p2, size_t l2)
{
	const void *parts[3] = { p0, p1, p2 };
	const size_t lens[3] = { l0, l1, l2 };

	pthread_mutex_lock(&w->lock);
	if (append(w, type, vcpu, parts, lens))
		w->events++;  /* the header record is not an event */
	pthread_mutex_unlock(&w->lock);
}

int kt_writer_header(struct kt_writer *w, const void *tlv, size_t len)
{
	struct kt_file_magic m = { .major = KT_FORMAT_MAJOR, .minor = KT_FORMAT_MINOR };
	const void *parts[3] = { tlv, NULL, NULL };
	const size_t lens[3] = { len, 0, 0 };
	int ret;

	memcpy(m.magic, KT_MAGIC, sizeof(m.magic));
	pthread_mutex_lock(&w->lock);
	end_frame(w);  /* the magic must open a frame of its own */
	if (kt_buf_put(&w->cur.buf, &m, sizeof(m)))
		set_error(w, -ENOMEM);
	w->cur.start = sizeof(m);
	append(w, KT_REC_HEADER, 0, parts, lens);
	end_frame(w);  /* the header alone makes a trace readable */
	ret = w->error;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void kt_writer_ioctl(struct kt_writer *w, uint16_t vcpu, const struct kt_ioctl_body *b,
		     const void *in, const void *out)
{
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

uint64_t kt_writer_events(struct kt_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->events;
	pthread_mutex_unlock(&w->lock);
	return n;
}

int kt_writer_close(struct kt_writer *w)
{
	int ret;

	pthread_mutex_lock(&w->lock);
	end_frame(w);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->flusher, NULL);
	ret = w->error;
	if (close(w->fd) && !ret)
		ret = -errno;
	ZSTD_freeCCtx(w->cctx);
	kt_buf_free(&w->cur.buf);
	kt_buf_free(&w->pending.buf);
	kt_buf_free(&w->zbuf);
	kt_xor_table_free(&w->xor);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->drained);
	free(w);
	return ret;
}
