#include "recorder/xor_keys.h"

#include "recorder/trace_format.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

uint64_t kt_xor_key(uint8_t type, uint16_t vcpu)
{
	return (uint64_t)type << 16 | vcpu;
}

/* Keys are few (a handful of requests per vCPU): a linear scan is fastest. */
struct kt_xor_slot *kt_xor_lookup(struct kt_xor_table *t, uint64_t key, int *had_prev)
{
	struct kt_xor_slot *stale = NULL;

	for (unsigned i = 0; i < KT_XOR_SLOTS; i++) {
		struct kt_xor_slot *s = &t->slot[i];

		if (s->frame == t->frame && s->cap && s->key == key) {
			*had_prev = 1;
			return s;
		}
		if (!stale && (s->frame != t->frame || !s->cap))
			stale = s;
	}
	*had_prev = 0;
	if (stale) {
		stale->key = key;
		stale->frame = t->frame;
		stale->len = 0;
	}
	return stale;
}

static int fit(struct kt_xor_slot *s, size_t len)
{
	size_t cap = len < 512 ? 512 : len;
	uint8_t *p;

	if (s->cap >= len && s->cap)
		return 0;
	p = realloc(s->prev, cap);
	if (!p)
		return -ENOMEM;
	s->prev = p;
	s->cap = cap;
	return 0;
}

int kt_xor_remember(struct kt_xor_slot *s, const uint8_t *body, size_t len)
{
	if (fit(s, len))
		return -ENOMEM;
	memcpy(s->prev, body, len);
	s->len = len;
	return 0;
}

/* Timestamps grow by a near-constant step: their difference compresses,
 * their XOR does not.  The ioctl body's two clocks are delta-coded. */
static const size_t clock_fields[] = {
	offsetof(struct kt_ioctl_body, t_start_ns),
	offsetof(struct kt_ioctl_body, dur_ns),
};

static void clocks(const struct kt_xor_slot *s, uint8_t *body, size_t len, bool encode)
{
	if ((uint8_t)(s->key >> 16) != KT_REC_IOCTL || len < sizeof(struct kt_ioctl_body) ||
	    s->len < sizeof(struct kt_ioctl_body))
		return;
	for (size_t i = 0; i < sizeof(clock_fields) / sizeof(clock_fields[0]); i++) {
		uint64_t v, prev;

		memcpy(&v, body + clock_fields[i], 8);
		memcpy(&prev, s->prev + clock_fields[i], 8);
		v = encode ? v - prev : v + prev;
		memcpy(body + clock_fields[i], &v, 8);
	}
}

static bool is_clock(const struct kt_xor_slot *s, size_t i)
{
	return (uint8_t)(s->key >> 16) == KT_REC_IOCTL &&
	       i >= offsetof(struct kt_ioctl_body, t_start_ns) &&
	       i < offsetof(struct kt_ioctl_body, dur_ns) + 8;
}

int kt_xor_encode(struct kt_xor_slot *s, uint8_t *body, size_t len)
{
	size_t n = len < s->len ? len : s->len;
	uint8_t plain_clocks[16];

	if (fit(s, len))
		return -ENOMEM;
	memcpy(plain_clocks, body + offsetof(struct kt_ioctl_body, t_start_ns),
	       len >= sizeof(struct kt_ioctl_body) ? 16 : 0);
	clocks(s, body, len, true);
	for (size_t i = 0; i < n; i++) {
		uint8_t plain = body[i];

		if (is_clock(s, i) && n >= sizeof(struct kt_ioctl_body))
			continue;
		body[i] = plain ^ s->prev[i];
		s->prev[i] = plain;
	}
	memcpy(s->prev + n, body + n, len - n);
	if (len >= sizeof(struct kt_ioctl_body))
		memcpy(s->prev + offsetof(struct kt_ioctl_body, t_start_ns), plain_clocks, 16);
	s->len = len;
	return 0;
}

int kt_xor_decode(struct kt_xor_slot *s, uint8_t *body, size_t len)
{
	size_t n = len < s->len ? len : s->len;

	if (fit(s, len))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(is_clock(s, i) && n >= sizeof(struct kt_ioctl_body)))
			body[i] ^= s->prev[i];
	clocks(s, body, len, false);
	memcpy(s->prev, body, len);
	s->len = len;
	return 0;
}

void kt_xor_table_free(struct kt_xor_table *t)
{
	for (unsigned i = 0; i < KT_XOR_SLOTS; i++)
		free(t->slot[i].prev);
	memset(t, 0, sizeof(*t));
}
