#include "recorder/trace_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "harness/kvm_ioctl.h"
#include "recorder/trace_header.h"
#include "recorder/xor_keys.h"

/* Fast levels keep the flusher ahead of a busy recorder; the XOR deltas
 * have already turned repetition into zeros. */
#define ZSTD_LEVEL 3
#define FRAME_SLACK (1u << 20)  /* end a frame before it nears the maximum */

struct frame {
	struct kt_buf buf;
	uint32_t records;
	uint64_t t_first;
};

struct kt_writer {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t wake;      /* to the flusher: a frame is waiting */
	pthread_cond_t drained;   /* from the flusher: the pending slot is free */
	struct frame cur, pending;
	bool have_pending, stopping;
	struct kt_xor_table xor;
	uint64_t events;
	int error;
	pthread_t flusher;
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

/* Runs without the lock: only the flusher touches pending and zbuf. */
static int compress_out(struct kt_writer *w, const struct frame *f)
{
	size_t bound = ZSTD_compressBound(f->buf.len), n;

	w->zbuf.len = 0;
	if (!kt_buf_reserve(&w->zbuf, bound))
		return -ENOMEM;
	n = ZSTD_compress2(w->cctx, w->zbuf.data, bound, f->buf.data, f->buf.len);
	if (ZSTD_isError(n))
		return -EIO;
	return write_all(w->fd, w->zbuf.data, n);
}

/* Hand the current frame to the flusher; caller holds the lock. */
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
	w->xor.frame++;
	pthread_cond_signal(&w->wake);
}

static bool frame_due(const struct kt_writer *w, uint64_t now)
{
	return w->cur.records && now - w->cur.t_first >= KT_FRAME_MAX_NS;
}

static void *flusher_main(void *arg)
{
	struct kt_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (w->have_pending) {
			int ret;

			pthread_mutex_unlock(&w->lock);
			ret = compress_out(w, &w->pending);
			pthread_mutex_lock(&w->lock);
			if (ret)
				set_error(w, ret);
			w->have_pending = false;
			pthread_cond_broadcast(&w->drained);
			continue;
		}
		if (frame_due(w, kvm_monotonic_ns())) {
			end_frame(w);
			continue;
		}
		if (w->stopping)
			break;
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000;  /* a fifth of the frame age bound */
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->wake, &w->lock, &ts);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct kt_writer *kt_writer_open(const char *path, bool force, int *err)
{
	struct kt_writer *w = calloc(1, sizeof(*w));
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);

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
	w->cctx = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->drained, NULL);
	w->xor.frame = 1;
	if (pthread_create(&w->flusher, NULL, flusher_main, w)) {
		*err = -EAGAIN;
		close(w->fd);
		ZSTD_freeCCtx(w->cctx);
		free(w);
		return NULL;
	}
	return w;
}

/* Append one record; caller holds the lock.  The body arrives in up to
 * three pieces (fixed part, in, out) and is XORed as one. */
static void append(struct kt_writer *w, uint8_t type, uint16_t vcpu,
		   const void *const parts[3], const size_t lens[3])
{
	size_t len = lens[0] + lens[1] + lens[2], room = sizeof(struct kt_rec_hdr) +
		     KT_REC_PADDED(len);
	struct kt_rec_hdr h = { .type = type, .vcpu = vcpu, .len = (uint32_t)len };
	struct kt_xor_slot *slot;
	uint8_t *dst, *body;
	int had_prev;

	if (w->cur.buf.len + room > KT_MAX_FRAME_BYTES - FRAME_SLACK ||
	    w->cur.records >= KT_FRAME_MAX_RECORDS)
		end_frame(w);
	if (!(dst = kt_buf_reserve(&w->cur.buf, room))) {
		set_error(w, -ENOMEM);
		return;
	}
	body = dst + sizeof(h);
	for (size_t i = 0, off = 0; i < 3; off += lens[i], i++)
		if (lens[i])
			memcpy(body + off, parts[i], lens[i]);
	memset(body + len, 0, room - sizeof(h) - len);
	slot = kt_xor_lookup(&w->xor, kt_xor_key(type, vcpu), &had_prev);
	if (slot && had_prev && kt_xor_encode(slot, body, len) == 0)
		h.flags |= KT_RF_XOR;
	else if (slot && !had_prev && kt_xor_remember(slot, body, len))
		set_error(w, -ENOMEM);
	memcpy(dst, &h, sizeof(h));
	if (!w->cur.records)
		w->cur.t_first = kvm_monotonic_ns();
	w->cur.buf.len += room;
	w->cur.records++;
	w->events++;
}

static void record(struct kt_writer *w, uint8_t type, uint16_t vcpu,
		   const void *p0, size_t l0, const void *p1, size_t l1,
		   const void *p2, size_t l2)
{
	const void *parts[3] = { p0, p1, p2 };
	const size_t lens[3] = { l0, l1, l2 };

	pthread_mutex_lock(&w->lock);
	append(w, type, vcpu, parts, lens);
	pthread_mutex_unlock(&w->lock);
}

int kt_writer_header(struct kt_writer *w, const void *tlv, size_t len)
{
	struct kt_file_magic m = { .major = KT_FORMAT_MAJOR, .minor = KT_FORMAT_MINOR };
	struct kt_rec_hdr h = { .type = KT_REC_HEADER, .len = (uint32_t)len };

	memcpy(m.magic, KT_MAGIC, sizeof(m.magic));
	pthread_mutex_lock(&w->lock);
	static const uint8_t zeros[KT_REC_ALIGN];

	if (kt_buf_put(&w->cur.buf, &m, sizeof(m)) ||
	    kt_buf_put(&w->cur.buf, &h, sizeof(h)) || kt_buf_put(&w->cur.buf, tlv, len) ||
	    kt_buf_put(&w->cur.buf, zeros, KT_REC_PADDED(len) - len))
		set_error(w, -ENOMEM);
	w->cur.records++;
	w->cur.t_first = kvm_monotonic_ns();
	end_frame(w);  /* the header alone makes a trace readable */
	pthread_mutex_unlock(&w->lock);
	return w->error;
}

void kt_writer_ioctl(struct kt_writer *w, uint16_t vcpu, const struct kt_ioctl_body *b,
		     const void *in, const void *out)
{
	record(w, KT_REC_IOCTL, vcpu, b, sizeof(*b), in, b->in_len,
	       out, b->out_len);
}

void kt_writer_snapshot(struct kt_writer *w, uint16_t vcpu,
			const struct kt_snapshot_body *s)
{
	record(w, KT_REC_SNAPSHOT, vcpu, s, sizeof(*s), NULL, 0, NULL, 0);
}

void kt_writer_memwrite(struct kt_writer *w, uint64_t gpa, const void *data, size_t len)
{
	record(w, KT_REC_MEMWRITE, 0, &gpa, sizeof(gpa), data, len, NULL, 0);
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

uint64_t kt_page_hash(const void *page, size_t len)
{
	const uint8_t *p = page;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, sizeof(v));
		h = (h ^ v) * 0x100000001b3ull;
	}
	for (size_t i = len & ~(size_t)7; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
