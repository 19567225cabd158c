/* The IOCTL clocks of version 2 event frames (trace/trace_format.h,
 * KT_S_CLOCKS), coded near their entropy.  After the word deltas, the two
 * clocks of a call are all that is left of a steady loop, and they are
 * noise: a few hundred nanoseconds of jitter.  Each value is coded as its
 * distance from a running mean (an adaptive Rice code, as in LOCO-I and
 * FLAC): about 11 bits for a duration and 8 for a gap on a port loop,
 * where byte varints took 32, and bits zstd need not look at twice.
 *
 * Per slot a model keeps, for each of its two values, the mean so far and
 * the mean distance from it; both start afresh with each frame, from the
 * slot's plain record, so frames decode on their own. */
#ifndef KVMTRACE_CLOCK_CODE_H
#define KVMTRACE_CLOCK_CODE_H

#include <stdint.h>
#include <string.h>

#include "trace/words.h"

/* The running mean and spread of one value (fixed point, 4 fraction bits).
 * All of it wraps as unsigned arithmetic does: a crafted trace gives odd
 * clocks, never undefined behaviour. */
struct kt_clock_model {
	int64_t mean;      /* x 16 */
	uint64_t spread;   /* mean of zigzag(value - mean), x 16 */
};

#define KT_CLOCK_RATE 4        /* each value moves the means by 1/16 of the way */
#define KT_CLOCK_ESCAPE 32     /* a quotient this large: the value follows raw */

static inline int64_t kt_wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline void kt_clock_model_init(struct kt_clock_model *m, int64_t first)
{
	m->mean = (int64_t)((uint64_t)first << 4);
	m->spread = 64 * 16;
}

/* The Rice parameter: the spread's bit length, less one. */
static inline unsigned kt_clock_k(const struct kt_clock_model *m)
{
	uint64_t s = (m->spread >> 4) | 1;

	return 63u - (unsigned)__builtin_clzll(s);
}

static inline uint64_t kt_clock_residual(const struct kt_clock_model *m, int64_t v)
{
	return kt_zigzag(kt_wrap_add(v, -(m->mean >> 4)));
}

static inline void kt_clock_learn(struct kt_clock_model *m, int64_t v, uint64_t z)
{
	m->mean = kt_wrap_add(m->mean, kt_wrap_add(v, -(m->mean >> KT_CLOCK_RATE)));
	m->spread += z - (m->spread >> KT_CLOCK_RATE);
}

/* ---- bits, least significant first ---- */
struct kt_bit_writer {
	uint8_t *p;    /* with 8 bytes of room past the last byte written */
	uint64_t acc;
	unsigned n;    /* bits in acc, fewer than 8 between calls */
};

/* len <= 56 bits of v (no higher bits set): one 8-byte store. */
static inline void kt_bits_put(struct kt_bit_writer *w, uint64_t v, unsigned len)
{
	unsigned bytes;

	w->acc |= v << w->n;
	w->n += len;
	memcpy(w->p, &w->acc, 8);
	bytes = w->n >> 3;       /* at most 7: n stays below 64 */
	w->p += bytes;
	w->acc >>= 8 * bytes;
	w->n &= 7;
}

/* The last bits, padded with zeros to a byte. */
static inline void kt_bits_flush(struct kt_bit_writer *w)
{
	if (w->n)
		*w->p++ = (uint8_t)w->acc;
	w->acc = 0;
	w->n = 0;
}

/* Bytes a coded value may take, at most: the escape, then 64 raw bits. */
#define KT_CLOCK_MAX_BYTES 13

static inline uint64_t kt_low_bits(uint64_t v, unsigned n)
{
	return n >= 64 ? v : v & ((1ull << n) - 1);
}

/* A value whose code does not fit one store (q large or k beyond 24). */
static inline void kt_clock_put_long(struct kt_bit_writer *w, uint64_t z, unsigned k)
{
	uint64_t q = z >> k;

	if (q < KT_CLOCK_ESCAPE) {
		kt_bits_put(w, (1ull << q) - 1, (unsigned)q + 1);
		kt_bits_put(w, kt_low_bits(z, k < 32 ? k : 32), k < 32 ? k : 32);
		if (k > 32)
			kt_bits_put(w, kt_low_bits(z >> 32, k - 32), k - 32);
	} else {
		kt_bits_put(w, (1ull << KT_CLOCK_ESCAPE) - 1, KT_CLOCK_ESCAPE);
		kt_bits_put(w, z & 0xffffffffu, 32);
		kt_bits_put(w, z >> 32, 32);
	}
}

static inline __attribute__((always_inline))
void kt_clock_put(struct kt_bit_writer *w, struct kt_clock_model *m, int64_t v)
{
	uint64_t z = kt_clock_residual(m, v);
	unsigned k = kt_clock_k(m);
	uint64_t q = z >> k;

	if (q < KT_CLOCK_ESCAPE && q + 1 + k <= 56)  /* q ones, a zero, k bits: one store */
		kt_bits_put(w, ((1ull << q) - 1) | (z & ((1ull << k) - 1)) << (q + 1),
			    (unsigned)q + 1 + k);
	else
		kt_clock_put_long(w, z, k);
	kt_clock_learn(m, v, z);
}

struct kt_bit_reader {
	const uint8_t *p, *end;
	uint64_t acc;
	unsigned n;    /* bits in acc */
};

/* At least want (<= 56) bits in acc, or -1 when the stream ends first
 * (with what there was in acc).  acc holds no bits above n. */
static inline int kt_bits_fill(struct kt_bit_reader *r, unsigned want)
{
	if (r->n >= want)
		return 0;
	if (r->end - r->p >= 8) {  /* the usual case: one load */
		uint64_t next;
		unsigned bytes = (63 - r->n) >> 3;

		memcpy(&next, r->p, 8);
		r->acc |= next << r->n;
		r->p += bytes;
		r->n += 8 * bytes;                /* 56 to 63 */
		r->acc &= ~0ull >> (64 - r->n);
		return 0;
	}
	while (r->n < want && r->p < r->end) {
		r->acc |= (uint64_t)*r->p++ << r->n;
		r->n += 8;
	}
	return r->n >= want ? 0 : -1;
}

/* n <= 32 bits, or -1 when the stream ends first. */
static inline int kt_bits_get(struct kt_bit_reader *r, unsigned n, uint64_t *v)
{
	if (kt_bits_fill(r, n))
		return -1;
	*v = kt_low_bits(r->acc, n);
	r->acc = n < 64 ? r->acc >> n : 0;
	r->n -= n;
	return 0;
}

/* What the quick path of kt_clock_get leaves: a stream's last bits, a
 * large k, an escape.  0 and z, or -1 when the bits run out. */
static inline int kt_clock_get_long(struct kt_bit_reader *r, unsigned k, uint64_t *z)
{
	uint64_t lo = 0, hi = 0;
	unsigned q;

	if (kt_bits_fill(r, KT_CLOCK_ESCAPE + 1) && kt_bits_fill(r, 1))
		return -1;
	q = (unsigned)__builtin_ctzll(~r->acc);
	if (q >= KT_CLOCK_ESCAPE) {
		if (r->n < KT_CLOCK_ESCAPE)
			return -1;
		r->acc >>= KT_CLOCK_ESCAPE;
		r->n -= KT_CLOCK_ESCAPE;
		if (kt_bits_get(r, 32, &lo) || kt_bits_get(r, 32, &hi))
			return -1;
		*z = lo | hi << 32;
		return 0;
	}
	if (q >= r->n)
		return -1;  /* the ones run past the stream's end */
	r->acc >>= q + 1;
	r->n -= q + 1;
	if (kt_bits_get(r, k < 32 ? k : 32, &lo) || (k > 32 && kt_bits_get(r, k - 32, &hi)))
		return -1;
	*z = (uint64_t)q << k | lo | hi << 32;
	return 0;
}

/* 0 and the value, or -1 when the bits run out. */
static inline __attribute__((always_inline))
int kt_clock_get(struct kt_bit_reader *r, struct kt_clock_model *m, int64_t *v)
{
	unsigned k = kt_clock_k(m), q, used;
	uint64_t z;

	if (r->n < 48 && r->end - r->p >= 8) {  /* refill: one load */
		uint64_t next;
		unsigned bytes = (63 - r->n) >> 3;

		memcpy(&next, r->p, 8);
		r->acc |= next << r->n;
		r->p += bytes;
		r->n += 8 * bytes;
		r->acc &= ~0ull >> (64 - r->n);
	}
	q = (unsigned)__builtin_ctzll(~r->acc);  /* the unary part: ones before a zero */
	used = q + 1 + k;
	if (q < KT_CLOCK_ESCAPE && used <= r->n) {  /* the usual case: all here */
		z = (uint64_t)q << k | ((r->acc >> (q + 1)) & ((1ull << k) - 1));
		r->acc >>= used;  /* used <= n < 64 */
		r->n -= used;
	} else if (kt_clock_get_long(r, k, &z)) {
		return -1;
	}
	*v = kt_wrap_add(kt_unzigzag(z), m->mean >> 4);
	kt_clock_learn(m, *v, z);
	return 0;
}

#endif
