#include "trace/event.h"

#include <stdlib.h>
#include <string.h>

#include "trace/words.h"

/* Smallest body of each record type this build knows. */
static const uint32_t min_len[] = {
	[KT_REC_IOCTL] = sizeof(struct kt_ioctl_body),
	[KT_REC_SNAPSHOT] = sizeof(struct kt_snapshot_body),
	[KT_REC_MEMWRITE] = sizeof(uint64_t),
	[KT_REC_DIGEST] = sizeof(struct kt_digest_body),
	[KT_REC_END] = sizeof(struct kt_end_body),
	[KT_REC_KEXIT] = sizeof(struct kt_kexit_body),
	[KT_REC_KEXIT_LOST] = sizeof(struct kt_kexit_lost_body),
};
#define KNOWN_TYPES (sizeof(min_len) / sizeof(min_len[0]))

bool kt_event_known(uint8_t type)
{
	return type < KNOWN_TYPES && min_len[type];
}

int kt_event_check(uint8_t type, const uint8_t *body, uint32_t len)
{
	if (len < min_len[type])
		return KT_E_CORRUPT;
	if (type == KT_REC_IOCTL) {
		struct kt_ioctl_body b;

		memcpy(&b, body, sizeof(b));
		if (b.in_len > KT_MAX_IOCTL_BYTES || b.out_len > KT_MAX_IOCTL_BYTES)
			return KT_E_LIMIT;
		return sizeof(b) + (uint64_t)b.in_len + b.out_len == len ? 0 : KT_E_CORRUPT;
	}
	if (type == KT_REC_DIGEST) {
		struct kt_digest_body d;

		memcpy(&d, body, sizeof(d));
		return (len - sizeof(d)) / sizeof(uint64_t) < d.npages ? KT_E_CORRUPT : 0;
	}
	return 0;
}

struct kt_event kt_event_view(uint8_t type, uint16_t vcpu, const uint8_t *body, uint32_t len)
{
	struct kt_event ev = { .type = type, .vcpu = vcpu, .body = body, .len = len };

	if (type == KT_REC_IOCTL) {
		ev.ioctl = (const void *)body;
		ev.in = body + sizeof(*ev.ioctl);
		ev.out = ev.in + ev.ioctl->in_len;
	}
	return ev;
}

uint64_t kt_event_hash_seed(uint8_t type, uint16_t vcpu, uint32_t len)
{
	return kt_word_mix(UINT64_MAX, (uint64_t)type | (uint64_t)vcpu << 8 |
			   (uint64_t)len << 32);
}

static uint64_t part_hash(unsigned part, const uint8_t *p, size_t len, size_t words)
{
	uint64_t h = 0;

	for (size_t i = 0; i < words; i++)
		h ^= kt_word_mix(kt_word_at_id(part, i), kt_word_at(p, len, i));
	return h;
}

uint64_t kt_event_hash(const struct kt_event *ev)
{
	uint64_t h = kt_event_hash_seed(ev->type, ev->vcpu, ev->len);

	if (ev->type != KT_REC_IOCTL)
		return h ^ part_hash(0, ev->body, ev->len, kt_nwords(ev->len));
	return h ^ part_hash(0, ev->body, KT_IOCTL_DELTA_WORDS * 8, KT_IOCTL_DELTA_WORDS) ^
	       part_hash(1, ev->in, ev->ioctl->in_len, kt_nwords(ev->ioctl->in_len)) ^
	       part_hash(2, ev->out, ev->ioctl->out_len, kt_nwords(ev->ioctl->out_len));
}

struct kt_event_copy *kt_event_copy(const struct kt_event *ev, uint64_t index)
{
	struct kt_event_copy *c = malloc(sizeof(*c) + ev->len);

	if (!c)
		return NULL;
	*c = (struct kt_event_copy){ .index = index, .type = ev->type, .vcpu = ev->vcpu,
				     .len = ev->len };
	memcpy(c->body, ev->body, ev->len);
	return c;
}

struct kt_event kt_event_copy_view(const struct kt_event_copy *c)
{
	return kt_event_view(c->type, c->vcpu, c->body, c->len);
}
