#include "trace/frame_encode.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/clock_code.h"
#include "trace/trace_format.h"
#include "trace/words.h"

#define INDEX_SIZE 128  /* open addressing over at most KT_FRAME_SLOTS keys */
#define FIXED sizeof(struct kt_ioctl_body)
#define FIXED_WORDS KT_IOCTL_DELTA_WORDS
#define VAR32_MAX 5     /* bytes of a varint of a 32-bit number */


struct slot {
	uint64_t key;             /* struct kt_slot_key as a word */
	const uint8_t *prev;      /* its previous body, in the records being encoded */
	uint32_t prev_len;
	int32_t nlist;            /* its last delta's change list, -1: none to repeat */
	uint32_t list[KT_SAME_MAX];
	struct kt_clock_model gap, dur;  /* IOCTL clocks */
};

struct kt_frame_encoder {
	struct slot slot[KT_FRAME_SLOTS];
	unsigned nslots;
	uint64_t slot_bytes;      /* what the reader's slots will hold */
	uint8_t index[INDEX_SIZE];  /* slot + 1, or 0 */
	struct kt_buf s[KT_STREAMS];
	uint8_t *at[KT_STREAMS];  /* where each stream goes on (room reserved) */
	struct kt_bit_writer clocks;
	struct kt_buf idx;        /* the record's changed-word numbers */
};

struct kt_frame_encoder *kt_frame_encoder_new(void)
{
	return calloc(1, sizeof(struct kt_frame_encoder));
}

void kt_frame_encoder_free(struct kt_frame_encoder *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < KT_STREAMS; i++)
		kt_buf_free(&e->s[i]);
	kt_buf_free(&e->idx);
	free(e);
}

/* ---- the streams: room for the whole frame is reserved before it starts,
 * so a record writes through plain pointers ---- */
static void put(struct kt_frame_encoder *e, unsigned stream, const void *src, size_t n)
{
	memcpy(e->at[stream], src, n);
	e->at[stream] += n;
}

static void put_byte(struct kt_frame_encoder *e, unsigned stream, uint8_t b)
{
	*e->at[stream]++ = b;
}

static void put_var(struct kt_frame_encoder *e, unsigned stream, uint64_t v)
{
	e->at[stream] += kt_var_put(e->at[stream], v);
}

/* A plain body in RAW after its 8-byte head, padded to 8. */
static void put_raw(struct kt_frame_encoder *e, const void *head, const uint8_t *body,
		    uint32_t len)
{
	size_t padded = KT_REC_PADDED((size_t)len);
	uint8_t *p = e->at[KT_S_RAW];

	memcpy(p, head, 8);
	memcpy(p + 8, body, len);
	memset(p + 8 + len, 0, padded - len);
	e->at[KT_S_RAW] += 8 + padded;
}

/* What n records of len bytes in all can need, at most, per stream: a
 * record of L bytes has at most L / 8 + 3 words (three short ones). */
static int reserve(struct kt_frame_encoder *e, size_t len, uint32_t n)
{
	size_t words = len / 8 + 3 * (size_t)n;
	const size_t need[KT_STREAMS] = {
		[KT_S_OPS] = n,
		[KT_S_KEYS] = sizeof(struct kt_slot_key) * (size_t)n,
		[KT_S_CHANGES] = VAR32_MAX * ((size_t)n + words),
		[KT_S_CLOCKS] = 2 * KT_CLOCK_MAX_BYTES * (size_t)n + 8,
		[KT_S_WORDS] = KT_VAR_MAX * words,
		[KT_S_RAW] = len + 16 * (size_t)n,
	};

	for (unsigned i = 0; i < KT_STREAMS; i++) {
		e->s[i].len = 0;
		if (!(e->at[i] = kt_buf_reserve(&e->s[i], need[i])))
			return -ENOMEM;
	}
	e->idx.len = 0;
	e->clocks = (struct kt_bit_writer){ .p = e->at[KT_S_CLOCKS] };
	return kt_buf_reserve(&e->idx, words * sizeof(uint32_t)) ? 0 : -ENOMEM;
}

static uint64_t field64(const uint8_t *body, size_t off)
{
	uint64_t v;

	memcpy(&v, body + off, sizeof(v));
	return v;
}

static uint32_t field32(const uint8_t *body, size_t off)
{
	uint32_t v;

	memcpy(&v, body + off, sizeof(v));
	return v;
}

/* ---- slots ---- */
static uint64_t slot_key(const struct kt_rec_hdr *h, const uint8_t *body)
{
	struct kt_slot_key k = { .type = h->type, .vcpu = h->vcpu };
	uint64_t w;

	if (h->type == KT_REC_IOCTL)
		memcpy(&k.request, body + offsetof(struct kt_ioctl_body, request),
		       sizeof(k.request));
	memcpy(&w, &k, sizeof(w));
	return w;
}

static unsigned index_of(uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 57);  /* 7 bits */
}

/* The slot of key, or NULL with *at where a new one would be indexed. */
static struct slot *find(struct kt_frame_encoder *e, uint64_t key, unsigned *at)
{
	unsigned i = index_of(key);

	while (e->index[i]) {
		struct slot *s = &e->slot[e->index[i] - 1];

		if (s->key == key)
			return s;
		i = (i + 1) % INDEX_SIZE;
	}
	*at = i;
	return NULL;
}

/* ---- deltas ---- */
/* Word i of the old part (olen bytes) as it compares against a new part of
 * nlen bytes: both are cut to the new length, and missing bytes are 0. */
static uint64_t old_word(const uint8_t *o, size_t olen, size_t nlen, size_t i)
{
	size_t n = nlen - 8 * i;
	uint64_t w = 0;

	if (8 * i >= olen)
		return 0;
	if (n > 8)
		n = 8;
	if (n > olen - 8 * i)
		n = olen - 8 * i;
	memcpy(&w, o + 8 * i, n);
	return w;
}

/* One part, numbered from base: append the numbers of its changed words to
 * idx and put new - old of each in WORDS.  Returns how many. */
static size_t part_delta(struct kt_frame_encoder *e, const uint8_t *n, size_t nlen,
			 const uint8_t *o, size_t olen, uint32_t base, uint32_t *idx)
{
	size_t nw = kt_nwords(nlen), c = 0;

	if (nlen == olen) {
		size_t full = nlen / 8;

		c = kt_words_diff(n, o, full, base, idx);
		if (full < nw && kt_word_at(n, nlen, full) != kt_word_at(o, olen, full))
			idx[c++] = base + (uint32_t)full;
	} else {
		for (size_t i = 0; i < nw; i++)
			if (kt_word_at(n, nlen, i) != old_word(o, olen, nlen, i))
				idx[c++] = base + (uint32_t)i;
	}
	for (size_t k = 0; k < c; k++) {
		size_t i = idx[k] - base;
		uint64_t was = nlen == olen ? kt_word_at(o, olen, i) : old_word(o, olen, nlen, i);

		put_var(e, KT_S_WORDS, kt_zigzag((int64_t)(kt_word_at(n, nlen, i) - was)));
	}
	return c;
}

/* The change list goes out unless it repeats the slot's last one. */
static uint8_t put_list(struct kt_frame_encoder *e, struct slot *s, const uint32_t *idx,
			size_t c)
{
	size_t k = 0;

	if ((size_t)s->nlist == c) {
		while (k < c && s->list[k] == idx[k])
			k++;
		if (k == c)
			return KT_OP_SAME;
	}
	put_var(e, KT_S_CHANGES, c);
	for (k = 0; k < c; k++)
		put_var(e, KT_S_CHANGES, k ? idx[k] - idx[k - 1] - 1 : idx[k]);
	s->nlist = c <= KT_SAME_MAX ? (int32_t)c : -1;
	if (c <= KT_SAME_MAX)
		memcpy(s->list, idx, c * sizeof(*idx));
	return 0;
}

/* The common IOCTL delta: lengths as before and the in bytes whole words,
 * so the body is one run of words, compared in one pass; its clock words
 * (4 and 5, which always differ) are dropped from the list, and the words
 * after them numbered two less. */
static size_t ioctl_words(struct kt_frame_encoder *e, const uint8_t *n, const uint8_t *o,
			  size_t len, uint32_t *idx)
{
	size_t full = len / 8, found = kt_words_diff(n, o, full, 0, idx), c = 0;

	if (len % 8 && kt_word_at(n, len, full) != kt_word_at(o, len, full))
		idx[found++] = (uint32_t)full;
	for (size_t k = 0; k < found; k++) {
		size_t w = idx[k];

		if (w - FIXED_WORDS < 2)
			continue;
		idx[c++] = (uint32_t)(w < FIXED_WORDS ? w : w - 2);
		put_var(e, KT_S_WORDS, kt_zigzag((int64_t)(kt_word_at(n, len, w) -
							   kt_word_at(o, len, w))));
	}
	return c;
}

/* An IOCTL against the slot's previous one: the clocks in VARS, then its
 * words through the fixed part's first ones, the in and the out part. */
static uint8_t ioctl_delta(struct kt_frame_encoder *e, struct slot *s, const uint8_t *n,
			   uint32_t len)
{
	const uint8_t *o = s->prev;
	uint32_t nin = field32(n, offsetof(struct kt_ioctl_body, in_len));
	uint32_t nout = field32(n, offsetof(struct kt_ioctl_body, out_len));
	uint32_t oin = field32(o, offsetof(struct kt_ioctl_body, in_len));
	uint32_t oout = field32(o, offsetof(struct kt_ioctl_body, out_len));
	uint64_t ends = field64(o, offsetof(struct kt_ioctl_body, t_start_ns)) +
			field64(o, offsetof(struct kt_ioctl_body, dur_ns));
	uint32_t *idx = (uint32_t *)(void *)e->idx.data;
	uint32_t in_base = FIXED_WORDS, out_base = in_base + (uint32_t)kt_nwords(nin);
	size_t c;

	kt_clock_put(&e->clocks, &s->gap,
		     (int64_t)(field64(n, offsetof(struct kt_ioctl_body, t_start_ns)) - ends));
	kt_clock_put(&e->clocks, &s->dur,
		     (int64_t)field64(n, offsetof(struct kt_ioctl_body, dur_ns)));
	if (nin == oin && nout == oout && nin % 8 == 0)
		return put_list(e, s, idx, ioctl_words(e, n, o, len, idx));
	c = part_delta(e, n, FIXED_WORDS * 8, o, FIXED_WORDS * 8, 0, idx);
	c += part_delta(e, n + FIXED, nin, o + FIXED, oin, in_base, idx + c);
	c += part_delta(e, n + FIXED + nin, nout, o + FIXED + oin, oout, out_base, idx + c);
	return put_list(e, s, idx, c);
}

static uint8_t body_delta(struct kt_frame_encoder *e, struct slot *s, const uint8_t *n,
			  uint32_t len)
{
	uint32_t *idx = (uint32_t *)(void *)e->idx.data;
	size_t c = part_delta(e, n, len, s->prev, s->prev_len, 0, idx);

	return put_list(e, s, idx, c);
}

/* ---- records ---- */
static void put_plain(struct kt_frame_encoder *e, const struct kt_rec_hdr *h,
		      const uint8_t *body)
{
	struct kt_rec_hdr plain = { .type = h->type, .vcpu = h->vcpu, .len = h->len };

	put_byte(e, KT_S_OPS, KT_OP_PLAIN);
	put_raw(e, &plain, body, h->len);
}

/* The record's body becomes its slot's, stored plain. */
static void put_key(struct kt_frame_encoder *e, struct slot *s, const uint8_t *body,
		    uint32_t len)
{
	uint32_t head[2] = { len, 0 };

	put_byte(e, KT_S_OPS, (uint8_t)(s - e->slot) | KT_OP_KEY);
	put_raw(e, head, body, len);
	e->slot_bytes += len;
	e->slot_bytes -= s->prev_len;
	s->prev = body;
	s->prev_len = len;
	s->nlist = -1;
	if ((uint8_t)s->key == KT_REC_IOCTL) {  /* its clocks start from its own */
		kt_clock_model_init(&s->gap, 0);
		kt_clock_model_init(&s->dur,
				    (int64_t)field64(body, offsetof(struct kt_ioctl_body, dur_ns)));
	}
}

/* Types kept in slots: the ones that come again and again. */
static bool slotted(uint8_t type)
{
	/* In-kernel exits repeat as much as the exits to userspace do (a loop
	 * of CPUIDs, an instruction emulated again and again). */
	return type == KT_REC_IOCTL || type == KT_REC_SNAPSHOT || type == KT_REC_KEXIT;
}

static void encode_record(struct kt_frame_encoder *e, const struct kt_rec_hdr *h,
			  const uint8_t *body)
{
	uint64_t key;
	unsigned at = 0;
	struct slot *s;
	uint8_t op;

	if (!slotted(h->type)) {
		put_plain(e, h, body);
		return;
	}
	key = slot_key(h, body);
	if (!(s = find(e, key, &at))) {
		if (e->nslots == KT_FRAME_SLOTS || e->slot_bytes + h->len > KT_MAX_SLOT_BYTES) {
			put_plain(e, h, body);
			return;
		}
		s = &e->slot[e->nslots];
		e->index[at] = (uint8_t)++e->nslots;
		s->key = key;
		s->prev_len = 0;
		put(e, KT_S_KEYS, &key, sizeof(key));
		put_key(e, s, body, h->len);
		return;
	}
	if (e->slot_bytes - s->prev_len + h->len > KT_MAX_SLOT_BYTES) {
		put_plain(e, h, body);  /* the slot keeps its previous body */
		return;
	}
	if (h->type != KT_REC_IOCTL && h->len != s->prev_len) {
		put_key(e, s, body, h->len);
		return;
	}
	op = h->type == KT_REC_IOCTL ? ioctl_delta(e, s, body, h->len) :
				       body_delta(e, s, body, h->len);
	put_byte(e, KT_S_OPS, (uint8_t)(s - e->slot) | op);
	e->slot_bytes += h->len;
	e->slot_bytes -= s->prev_len;
	s->prev = body;
	s->prev_len = h->len;
}

/* The head, then every stream padded to 8. */
static int assemble(struct kt_frame_encoder *e, uint32_t n, uint64_t first_event,
		    struct kt_buf *out)
{
	struct kt_frame_head head = { .magic = KT_FRAME_MAGIC, .records = n,
				      .first_event = first_event };
	size_t total = sizeof(head), len[KT_STREAMS];
	uint8_t *p;

	kt_bits_flush(&e->clocks);
	e->at[KT_S_CLOCKS] = e->clocks.p;
	for (unsigned i = 0; i < KT_STREAMS; i++) {
		len[i] = (size_t)(e->at[i] - e->s[i].data);
		head.stream_len[i] = (uint32_t)KT_REC_PADDED(len[i]);
		total += head.stream_len[i];
	}
	out->len = 0;
	if (!(p = kt_buf_reserve(out, total)))
		return -ENOMEM;
	memcpy(p, &head, sizeof(head));
	p += sizeof(head);
	for (unsigned i = 0; i < KT_STREAMS; i++) {
		memcpy(p, e->s[i].data, len[i]);
		memset(p + len[i], 0, head.stream_len[i] - len[i]);
		p += head.stream_len[i];
	}
	out->len = total;
	return 0;
}

int kt_frame_encode(struct kt_frame_encoder *e, const uint8_t *recs, size_t len, uint32_t n,
		    uint64_t first_event, struct kt_buf *out)
{
	size_t pos = 0;

	memset(e->index, 0, sizeof(e->index));
	e->nslots = 0;
	e->slot_bytes = 0;
	if (reserve(e, len, n))
		return -ENOMEM;
	for (uint32_t i = 0; i < n && pos + sizeof(struct kt_rec_hdr) <= len; i++) {
		struct kt_rec_hdr h;

		memcpy(&h, recs + pos, sizeof(h));
		encode_record(e, &h, recs + pos + sizeof(h));
		pos += sizeof(h) + KT_REC_PADDED((size_t)h.len);
	}
	return assemble(e, n, first_event, out);
}
