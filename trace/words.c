#include "trace/words.h"

#include <immintrin.h>

/* The numbers of the set bits of changed (words i.. of a block). */
static inline size_t emit(uint32_t changed, size_t i, uint32_t base, uint32_t *idx)
{
	size_t n = 0;

	while (changed) {
		idx[n++] = base + (uint32_t)i + (uint32_t)__builtin_ctz(changed);
		changed &= changed - 1;
	}
	return n;
}

static inline size_t tail(const uint8_t *a, const uint8_t *b, size_t i, size_t end,
			  uint32_t base, uint32_t *idx)
{
	size_t n = 0;

	for (; i < end; i++) {
		uint64_t x, y;

		memcpy(&x, a + 8 * i, 8);
		memcpy(&y, b + 8 * i, 8);
		if (x != y)
			idx[n++] = base + (uint32_t)i;
	}
	return n;
}

/* All ones in each of 4 words where a and b are equal. */
__attribute__((target("avx2")))
static inline __m256i eq4(const uint8_t *a, const uint8_t *b)
{
	return _mm256_cmpeq_epi64(_mm256_loadu_si256((const void *)a),
				  _mm256_loadu_si256((const void *)b));
}

/* A bit for each of the 4 words of an eq4() that differs. */
__attribute__((target("avx2")))
static inline uint32_t differ4(__m256i eq)
{
	/* One sign bit per word: set where equal. */
	return ~(uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(eq)) & 0xf;
}

__attribute__((target("avx2")))
static inline uint32_t changed4(const uint8_t *a, const uint8_t *b)
{
	return differ4(eq4(a, b));
}

__attribute__((target("avx2")))
static size_t diff_avx2(const uint8_t *a, const uint8_t *b, size_t nwords, uint32_t base,
			uint32_t *idx)
{
	size_t i = 0, n = 0;

	/* 128 bytes a round; nearly every block is equal, so one test decides. */
	for (; i + 16 <= nwords; i += 16) {
		const uint8_t *x = a + 8 * i, *y = b + 8 * i;
		__m256i e0 = eq4(x, y), e1 = eq4(x + 32, y + 32);
		__m256i e2 = eq4(x + 64, y + 64), e3 = eq4(x + 96, y + 96);
		__m256i e = _mm256_and_si256(_mm256_and_si256(e0, e1), _mm256_and_si256(e2, e3));

		if ((unsigned)_mm256_movemask_epi8(e) == 0xffffffffu)
			continue;
		n += emit(differ4(e0) | differ4(e1) << 4 | differ4(e2) << 8 | differ4(e3) << 12,
			  i, base, idx + n);
	}
	if (i + 8 <= nwords) {
		uint32_t c = changed4(a + 8 * i, b + 8 * i) | changed4(a + 8 * i + 32, b + 8 * i + 32) << 4;

		n += emit(c, i, base, idx + n);
		i += 8;
	}
	if (i + 4 <= nwords) {
		n += emit(changed4(a + 8 * i, b + 8 * i), i, base, idx + n);
		i += 4;
	}
	return n + tail(a, b, i, nwords, base, idx + n);
}

static size_t diff_scalar(const uint8_t *a, const uint8_t *b, size_t nwords, uint32_t base,
			  uint32_t *idx)
{
	size_t i = 0, n = 0;

	for (; i + 4 <= nwords; i += 4) {
		uint64_t x[4], y[4];

		memcpy(x, a + 8 * i, sizeof(x));
		memcpy(y, b + 8 * i, sizeof(y));
		if ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]))
			n += tail(a, b, i, i + 4, base, idx + n);
	}
	return n + tail(a, b, i, nwords, base, idx + n);
}

size_t kt_words_diff(const uint8_t *a, const uint8_t *b, size_t nwords, uint32_t base,
		     uint32_t *idx)
{
	/* libgcc fills the CPU model before main: this is a load and a test. */
	if (__builtin_cpu_supports("avx2"))
		return diff_avx2(a, b, nwords, base, idx);
	return diff_scalar(a, b, nwords, base, idx);
}
