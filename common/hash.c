#include "common/hash.h"

#include <string.h>

#define XXP1 0x9E3779B185EBCA87ull
#define XXP2 0xC2B2AE3D27D4EB4Full
#define XXP3 0x165667B19E3779F9ull
#define XXP4 0x85EBCA77C2B2AE63ull
#define XXP5 0x27D4EB2F165667C5ull

static uint64_t rotl64(uint64_t v, unsigned r)
{
	return v << r | v >> (64 - r);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t xx_round(uint64_t acc, uint64_t lane)
{
	return rotl64(acc + lane * XXP2, 31) * XXP1;
}

static uint64_t xx_merge(uint64_t h, uint64_t acc)
{
	return (h ^ xx_round(0, acc)) * XXP1 + XXP4;
}

/* The 32-byte stripes: four independent lanes, so the multiplies overlap. */
static uint64_t xx_stripes(const uint8_t **pp, size_t len)
{
	uint64_t v[4] = { XXP1 + XXP2, XXP2, 0, -XXP1 }, h;
	const uint8_t *p = *pp;

	for (; len >= 32; len -= 32, p += 32)
		for (unsigned i = 0; i < 4; i++)
			v[i] = xx_round(v[i], load64(p + 8 * i));
	*pp = p;
	h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18);
	for (unsigned i = 0; i < 4; i++)
		h = xx_merge(h, v[i]);
	return h;
}

uint64_t kt_xxh64(const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + len;
	uint64_t h = len >= 32 ? xx_stripes(&p, len) : XXP5;

	h += len;
	for (; end - p >= 8; p += 8)
		h = rotl64(h ^ xx_round(0, load64(p)), 27) * XXP1 + XXP4;
	if (end - p >= 4) {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		h = rotl64(h ^ v * XXP1, 23) * XXP2 + XXP3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl64(h ^ *p * XXP5, 11) * XXP1;
	h ^= h >> 33;
	h *= XXP2;
	h ^= h >> 29;
	h *= XXP3;
	return h ^ h >> 32;
}

uint64_t kt_fnv1a64(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}
