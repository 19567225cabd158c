/* The word level of version 2 event frames (trace/trace_format.h): a part
 * of a record body is a run of 8-byte words, its last one short when the
 * part's length is not a multiple of 8 (its missing bytes count as zero).
 * Here: loading and storing such words, finding the words two parts differ
 * in without a loop per byte, the varints of the VARS stream, and the word
 * hash that lets diff compare events without keeping them. */
#ifndef KVMTRACE_WORDS_H
#define KVMTRACE_WORDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Words in a part of len bytes. */
static inline size_t kt_nwords(size_t len)
{
	return (len + 7) / 8;
}

/* Word i of a part of len bytes at p: 8 bytes, or the last few zero-extended. */
static inline uint64_t kt_word_at(const uint8_t *p, size_t len, size_t i)
{
	uint64_t w = 0;
	size_t n = len - 8 * i;

	if (n >= 8)
		memcpy(&w, p + 8 * i, 8);  /* one load */
	else
		memcpy(&w, p + 8 * i, n);
	return w;
}

static inline void kt_word_put(uint8_t *p, size_t len, size_t i, uint64_t w)
{
	size_t n = len - 8 * i;

	if (n >= 8)
		memcpy(p + 8 * i, &w, 8);
	else
		memcpy(p + 8 * i, &w, n);
}

/* Compare the first nwords whole words of a and b: append base + i to idx
 * (room for nwords) for each word i that differs.  Returns how many.  64
 * bytes a test (AVX2 where the CPU has it, else 32), never a loop per byte:
 * this is most of what the flusher spends on a record. */
size_t kt_words_diff(const uint8_t *a, const uint8_t *b, size_t nwords, uint32_t base,
		     uint32_t *idx);

/* LEB128 varints.  kt_var_put writes at most KT_VAR_MAX bytes. */
#define KT_VAR_MAX 10
static inline size_t kt_var_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	if (v < 0x80) {  /* most of them */
		*p = (uint8_t)v;
		return 1;
	}
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Bytes read (1..KT_VAR_MAX), or 0 when the varint runs past end or is too
 * long. */
static inline size_t kt_var_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t n = 0; n < KT_VAR_MAX && p + n < end; n++) {
		x |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80)) {
			*v = x;
			return n + 1;
		}
	}
	return 0;
}

static inline uint64_t kt_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t kt_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* The word hash: an event's hash is the XOR of kt_word_mix(at, word) over
 * its words (at: the part and word number), so changing one word changes
 * the hash by two mixes.  Equal events hash equal; unequal ones collide
 * with probability about 2^-64 (not a defence against crafted traces: diff
 * then reports them equal, nothing worse). */
static inline uint64_t kt_word_mix(uint64_t at, uint64_t w)
{
	uint64_t x = w ^ (at * 0x9e3779b97f4a7c15ull);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* "at" of word i of part p (0 the first part of a body). */
static inline uint64_t kt_word_at_id(unsigned part, size_t i)
{
	return (uint64_t)part << 48 | i;
}

#endif
