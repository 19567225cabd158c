#include "trace/xor_keys.h"

#include "trace/trace_format.h"

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

void kt_xor_table_free(struct kt_xor_table *t)
{
	for (unsigned i = 0; i < KT_XOR_SLOTS; i++)
		free(t->slot[i].prev);
	memset(t, 0, sizeof(*t));
}

void kt_xor_table_trim(struct kt_xor_table *t)
{
	for (unsigned i = 0; i < KT_XOR_SLOTS; i++)
		if (t->slot[i].cap > (64u << 10)) {
			free(t->slot[i].prev);
			t->slot[i] = (struct kt_xor_slot){ 0 };
		}
}
