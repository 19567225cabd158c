#include "trace/frame_decode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "trace/clock_code.h"
#include "trace/trace_format.h"
#include "trace/words.h"

#define FIXED sizeof(struct kt_ioctl_body)
#define FIXED_WORDS KT_IOCTL_DELTA_WORDS
/* Slot buffers larger than this are given back at a frame's start, so what
 * a reader keeps between frames stays small whatever a frame held. */
#define KEEP_BETWEEN_FRAMES (64u << 10)

struct stream {
	const uint8_t *p, *end;
};

struct slot {
	uint8_t type;
	uint16_t vcpu;
	uint32_t request;
	uint8_t *body;            /* the plain body, patched in place */
	uint32_t len;
	size_t cap;
	int32_t nlist;            /* its last change list, -1: none to repeat */
	uint32_t list[KT_SAME_MAX];
	uint64_t hash;            /* kt_event_hash() of body, when hashing */
	struct kt_clock_model gap, dur;  /* IOCTL clocks */
};

struct kt_frame_decoder {
	struct slot slot[KT_FRAME_SLOTS];
	unsigned nslots;
	struct stream s[KT_STREAMS];
	uint32_t records, done;
	struct kt_bit_reader clocks;
	uint64_t slot_bytes;
	bool hashes, newer;
	bool skim;                /* skim what can be skimmed (kt_frame_decoder_skim) */
	bool skimming;            /* this frame: deltas are handed out unread */
};

struct kt_frame_decoder *kt_frame_decoder_new(void)
{
	return calloc(1, sizeof(struct kt_frame_decoder));
}

void kt_frame_decoder_free(struct kt_frame_decoder *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < KT_FRAME_SLOTS; i++) {
		free(d->slot[i].body);
	}
	free(d);
}

void kt_frame_decoder_hashes(struct kt_frame_decoder *d, bool on)
{
	d->hashes = on;
}

void kt_frame_decoder_skim(struct kt_frame_decoder *d, bool on)
{
	d->skim = on;
}

bool kt_frame_decode_skimming(const struct kt_frame_decoder *d)
{
	return d->skimming;
}

/* Only the KVM_RUN calls and the snapshots repeat in a steady loop; a
 * frame whose other slots are never deltas can be skimmed: the words of
 * those two need not be read to know every other record.  A look at the
 * ops and keys alone tells. */
static bool skimmable_frame(const struct kt_frame_decoder *d)
{
	const uint8_t *op = d->s[KT_S_OPS].p, *key = d->s[KT_S_KEYS].p;
	bool boring[KT_FRAME_SLOTS];
	unsigned nslots = 0;

	for (uint32_t i = 0; i < d->records && op < d->s[KT_S_OPS].end; i++, op++) {
		unsigned slot = *op & KT_OP_SLOT;
		struct kt_slot_key k;

		if (slot == KT_OP_PLAIN)
			continue;
		if ((*op & KT_OP_KEY) && slot == nslots) {
			if (key + sizeof(k) > d->s[KT_S_KEYS].end || nslots == KT_FRAME_SLOTS)
				return false;  /* damaged: the full decode says how */
			memcpy(&k, key, sizeof(k));
			key += sizeof(k);
			boring[nslots++] = k.type == KT_REC_SNAPSHOT ||
					   (k.type == KT_REC_IOCTL && k.request == KVM_RUN);
		}
		if (!(*op & KT_OP_KEY) && (slot >= nslots || !boring[slot]))
			return false;
	}
	return true;
}

int kt_frame_decode_begin(struct kt_frame_decoder *d, const uint8_t *frame, size_t len,
			  uint64_t expect, bool newer)
{
	struct kt_frame_head head;
	size_t pos = sizeof(head);

	if (len < sizeof(head))
		return KT_E_CORRUPT;
	memcpy(&head, frame, sizeof(head));
	if (head.magic != KT_FRAME_MAGIC || head.records == 0 ||
	    head.records > KT_FRAME_MAX_RECORDS || head.first_event != expect)
		return KT_E_CORRUPT;
	for (unsigned i = 0; i < KT_STREAMS; i++) {
		if (head.stream_len[i] % 8 || head.stream_len[i] > len - pos)
			return KT_E_CORRUPT;
		d->s[i] = (struct stream){ frame + pos, frame + pos + head.stream_len[i] };
		pos += head.stream_len[i];
	}
	if (pos != len)
		return KT_E_CORRUPT;
	d->clocks = (struct kt_bit_reader){ .p = d->s[KT_S_CLOCKS].p, .end = d->s[KT_S_CLOCKS].end };
	for (unsigned i = 0; i < KT_FRAME_SLOTS; i++) {
		struct slot *s = &d->slot[i];

		if (s->cap > KEEP_BETWEEN_FRAMES) {
			free(s->body);
			s->body = NULL;
			s->cap = 0;
		}
		s->len = 0;
		s->nlist = -1;
	}
	d->nslots = 0;
	d->slot_bytes = 0;
	d->records = head.records;
	d->done = 0;
	d->newer = newer;
	d->skimming = d->skim && skimmable_frame(d);
	return 0;
}

/* ---- streams ---- */
static const uint8_t *take(struct stream *s, size_t n)
{
	const uint8_t *p = s->p;

	if ((size_t)(s->end - s->p) < n)
		return NULL;
	s->p += n;
	return p;
}

static int take_var(struct stream *s, uint64_t *v)
{
	size_t n = kt_var_get(s->p, s->end, v);

	s->p += n;
	return n ? 0 : KT_E_CORRUPT;
}

/* A frame ends when its records are read and every stream is used up but
 * for its padding (a skimmed frame's delta streams were not read). */
static int finish(struct kt_frame_decoder *d)
{
	d->s[KT_S_CLOCKS].p = d->clocks.p;
	for (unsigned i = 0; i < KT_STREAMS; i++)
		if (d->s[i].end - d->s[i].p >= 8 &&
		    !(d->skimming && (i == KT_S_CHANGES || i == KT_S_WORDS || i == KT_S_CLOCKS)))
			return KT_E_CORRUPT;
	return 0;
}

/* ---- slots ---- */
static int fit(struct slot *s, size_t len)
{
	size_t cap = (len + 63) & ~(size_t)63;
	uint8_t *p;

	if (len <= s->cap && s->body)
		return 0;
	if (!(p = realloc(s->body, cap ? cap : 64)))
		return -ENOMEM;
	s->body = p;
	s->cap = cap ? cap : 64;
	return 0;
}

/* The frame's slots may hold KT_MAX_SLOT_BYTES in all. */
static int resize(struct kt_frame_decoder *d, struct slot *s, size_t len)
{
	if (d->slot_bytes - s->len + len > KT_MAX_SLOT_BYTES)
		return KT_E_LIMIT;
	if (fit(s, len))
		return -ENOMEM;
	d->slot_bytes = d->slot_bytes - s->len + len;
	return 0;
}

static bool type_allowed(const struct kt_frame_decoder *d, uint8_t type)
{
	if (type == 0 || type == KT_REC_HEADER)
		return false;
	return kt_event_known(type) || d->newer;
}

/* The slot's body as an event, filled in place (once an event). */
static void slot_event(const struct kt_frame_decoder *d, const struct slot *s,
		       struct kt_event *ev, uint8_t flags)
{
	ev->type = s->type;
	ev->flags = flags;
	ev->vcpu = s->vcpu;
	ev->body = s->body;
	ev->len = s->len;
	ev->hash = d->hashes ? s->hash : 0;
	if (s->type == KT_REC_IOCTL) {  /* checked: its lengths add up */
		ev->ioctl = (const void *)s->body;
		ev->in = s->body + sizeof(*ev->ioctl);
		ev->out = ev->in + ev->ioctl->in_len;
	} else {
		ev->ioctl = NULL;
		ev->in = ev->out = NULL;
	}
}

static void full_hash(struct kt_frame_decoder *d, struct slot *s)
{
	struct kt_event ev;

	if (!d->hashes)
		return;
	slot_event(d, s, &ev, 0);
	s->hash = kt_event_hash(&ev);
}

/* ---- records ---- */
static int plain(struct kt_frame_decoder *d, struct kt_event *ev)
{
	const uint8_t *p = take(&d->s[KT_S_RAW], sizeof(struct kt_rec_hdr)), *body;
	struct kt_rec_hdr h;
	int ret;

	if (!p)
		return KT_E_CORRUPT;
	memcpy(&h, p, sizeof(h));
	if (h.flags || !type_allowed(d, h.type) ||
	    !(body = take(&d->s[KT_S_RAW], KT_REC_PADDED((size_t)h.len))))
		return KT_E_CORRUPT;
	if (!kt_event_known(h.type)) {
		*ev = (struct kt_event){ .type = h.type, .vcpu = h.vcpu, .body = body, .len = h.len };
	} else {
		if ((ret = kt_event_check(h.type, body, h.len)))
			return ret;
		*ev = kt_event_view(h.type, h.vcpu, body, h.len);
	}
	ev->hash = d->hashes ? kt_event_hash(ev) : 0;
	return 1;
}

static int open_slot(struct kt_frame_decoder *d, struct slot *s)
{
	const uint8_t *p = take(&d->s[KT_S_KEYS], sizeof(struct kt_slot_key));
	struct kt_slot_key k;

	if (!p)
		return KT_E_CORRUPT;
	memcpy(&k, p, sizeof(k));
	if (k.reserved || !type_allowed(d, k.type) || (k.type != KT_REC_IOCTL && k.request))
		return KT_E_CORRUPT;
	s->type = k.type;
	s->vcpu = k.vcpu;
	s->request = k.request;
	s->len = 0;
	d->nslots++;
	return 0;
}

/* A plain body that becomes the slot's (opening the slot first when it is
 * the next one). */
static int keyed(struct kt_frame_decoder *d, unsigned slot, struct kt_event *ev)
{
	struct slot *s = &d->slot[slot];
	const uint8_t *p, *body;
	uint32_t head[2];
	int ret;

	if (slot > d->nslots || (slot == d->nslots && (ret = open_slot(d, s))))
		return slot > d->nslots ? KT_E_CORRUPT : ret;
	if (!(p = take(&d->s[KT_S_RAW], sizeof(head))))
		return KT_E_CORRUPT;
	memcpy(head, p, sizeof(head));
	if (head[1] || !(body = take(&d->s[KT_S_RAW], KT_REC_PADDED((size_t)head[0]))))
		return KT_E_CORRUPT;
	if (kt_event_known(s->type) && (ret = kt_event_check(s->type, body, head[0])))
		return ret;
	if (s->type == KT_REC_IOCTL &&
	    ((const struct kt_ioctl_body *)(const void *)body)->request != s->request)
		return KT_E_CORRUPT;
	if ((ret = resize(d, s, head[0])))
		return ret;
	memcpy(s->body, body, head[0]);
	s->len = head[0];
	s->nlist = -1;
	if (s->type == KT_REC_IOCTL) {  /* its clocks start from its own */
		kt_clock_model_init(&s->gap, 0);
		kt_clock_model_init(&s->dur, (int64_t)((const struct kt_ioctl_body *)
							(const void *)s->body)->dur_ns);
	}
	full_hash(d, s);
	slot_event(d, s, ev, 0);
	return 1;
}

/* Word i of a part (len bytes at p) gets delta added. */
static void patch(struct kt_frame_decoder *d, struct slot *s, unsigned part, uint8_t *p,
		  size_t len, size_t i, uint64_t delta)
{
	uint64_t old = kt_word_at(p, len, i), now = old + delta;

	if (len - 8 * i < 8)  /* what a short last word can hold */
		now &= ~0ull >> (64 - 8 * (len - 8 * i));
	kt_word_put(p, len, i, now);
	if (d->hashes)
		s->hash ^= kt_word_mix(kt_word_at_id(part, i), old) ^
			   kt_word_mix(kt_word_at_id(part, i), now);
}

/* A change list, read from CHANGES or replayed from the slot's last one
 * (SAME), one word number at a time. */
struct changes {
	const uint32_t *same;  /* the slot's list, or NULL: read CHANGES */
	uint64_t left, count;
	uint32_t next;
};

static inline int take_var_fast(struct stream *st, uint64_t *v)
{
	if (st->p < st->end && *st->p < 0x80) {  /* most of them: one byte */
		*v = *st->p++;
		return 0;
	}
	return take_var(st, v);
}

static int changes_begin(struct kt_frame_decoder *d, struct slot *s, bool same,
			 struct changes *c)
{
	c->next = 0;
	if (same) {
		if (s->nlist < 0)
			return KT_E_CORRUPT;
		c->same = s->list;
		c->left = c->count = (uint64_t)s->nlist;
		return 0;
	}
	c->same = NULL;
	if (take_var_fast(&d->s[KT_S_CHANGES], &c->left))
		return KT_E_CORRUPT;
	c->count = c->left;
	s->nlist = c->left <= KT_SAME_MAX ? (int32_t)c->left : -1;
	return 0;
}

/* 1 and the next word number (less than words), 0 at the list's end. */
static inline int changes_next(struct kt_frame_decoder *d, struct slot *s, struct changes *c,
			       uint64_t words, uint32_t *at)
{
	uint64_t v;

	if (!c->left)
		return 0;
	if (c->same) {
		*at = *c->same++;
	} else {
		if (take_var_fast(&d->s[KT_S_CHANGES], &v))
			return KT_E_CORRUPT;
		v += c->left == c->count ? 0 : (uint64_t)c->next + 1;
		if (v >= words)
			return KT_E_CORRUPT;
		*at = (uint32_t)v;
		if (s->nlist >= 0)
			s->list[c->count - c->left] = *at;
	}
	c->left--;
	c->next = *at;
	return *at < words ? 1 : KT_E_CORRUPT;
}

static inline int word_delta(struct kt_frame_decoder *d, uint64_t *delta)
{
	uint64_t v;

	if (take_var_fast(&d->s[KT_S_WORDS], &v))
		return KT_E_CORRUPT;
	*delta = (uint64_t)kt_unzigzag(v);
	return 0;
}

/* The in part grew or shrank: the out part moves, and what a part gains
 * starts as zeros (the writer compared against zeros there). */
static void relayout(struct slot *s, uint32_t oin, uint32_t oout, uint32_t nin, uint32_t nout)
{
	if (nin != oin)
		memmove(s->body + FIXED + nin, s->body + FIXED + oin, oout < nout ? oout : nout);
	if (nin > oin)
		memset(s->body + FIXED + oin, 0, nin - oin);
	if (nout > oout)
		memset(s->body + FIXED + nin + oout, 0, nout - oout);
}

/* The fixed part's words are patched (and the clocks set): make room for
 * the lengths it now gives. */
static int ioctl_lengths(struct kt_frame_decoder *d, struct slot *s, uint32_t oin,
			 uint32_t oout)
{
	const struct kt_ioctl_body *b = (const void *)s->body;
	uint32_t nin = b->in_len, nout = b->out_len;
	int ret;

	if (b->request != s->request)
		return KT_E_CORRUPT;
	if (nin > KT_MAX_IOCTL_BYTES || nout > KT_MAX_IOCTL_BYTES)
		return KT_E_LIMIT;
	if (nin == oin && nout == oout)
		return 0;
	if ((ret = resize(d, s, FIXED + (size_t)nin + nout)))
		return ret;
	relayout(s, oin, oout, nin, nout);
	s->len = (uint32_t)(FIXED + nin + nout);
	return 0;
}

static int ioctl_delta(struct kt_frame_decoder *d, struct slot *s, bool same)
{
	struct kt_ioctl_body *b = (void *)s->body;
	uint32_t oin = b->in_len, oout = b->out_len, at = 0;
	uint64_t ends = b->t_start_ns + b->dur_ns, delta, words;
	int64_t gap, dur;
	bool sized = false;
	struct changes c;
	int ret;

	if (kt_clock_get(&d->clocks, &s->gap, &gap) || kt_clock_get(&d->clocks, &s->dur, &dur))
		return KT_E_CORRUPT;
	if ((ret = changes_begin(d, s, same, &c)))
		return ret;
	b->t_start_ns = ends + (uint64_t)gap;
	b->dur_ns = (uint64_t)dur;
	/* Word numbers rise: the fixed part's come first and give the lengths
	 * the in and out words are numbered by. */
	words = FIXED_WORDS;
	while ((ret = changes_next(d, s, &c, sized ? words : UINT32_MAX, &at)) == 1) {
		if (at >= FIXED_WORDS && !sized) {
			if ((ret = ioctl_lengths(d, s, oin, oout)))
				return ret;
			sized = true;
			b = (void *)s->body;
			words = FIXED_WORDS + kt_nwords(b->in_len) + kt_nwords(b->out_len);
			if (at >= words)
				return KT_E_CORRUPT;
		}
		if ((ret = word_delta(d, &delta)))
			return ret;
		if (at < FIXED_WORDS)
			patch(d, s, 0, s->body, FIXED_WORDS * 8, at, delta);
		else if (at < FIXED_WORDS + kt_nwords(b->in_len))
			patch(d, s, 1, s->body + FIXED, b->in_len, at - FIXED_WORDS, delta);
		else
			patch(d, s, 2, s->body + FIXED + b->in_len, b->out_len,
			      at - FIXED_WORDS - kt_nwords(b->in_len), delta);
	}
	if (ret < 0 || (!sized && (ret = ioctl_lengths(d, s, oin, oout))))
		return ret;
	b = (void *)s->body;
	if (b->in_len != oin || b->out_len != oout)
		full_hash(d, s);
	return 0;
}

static int body_delta(struct kt_frame_decoder *d, struct slot *s, bool same)
{
	uint64_t words = kt_nwords(s->len), delta;
	struct changes c;
	uint32_t at;
	int ret = changes_begin(d, s, same, &c);

	while (!ret && (ret = changes_next(d, s, &c, words, &at)) == 1) {
		if ((ret = word_delta(d, &delta)))
			return ret;
		patch(d, s, 0, s->body, s->len, at, delta);
		ret = 0;
	}
	return ret < 0 ? ret : 0;
}

static int delta(struct kt_frame_decoder *d, unsigned slot, bool same, struct kt_event *ev)
{
	struct slot *s = &d->slot[slot];
	int ret;

	if (slot >= d->nslots)
		return KT_E_CORRUPT;
	ret = s->type == KT_REC_IOCTL ? ioctl_delta(d, s, same) : body_delta(d, s, same);
	if (ret)
		return ret;
	slot_event(d, s, ev, KT_EV_DELTA);
	return 1;
}

int kt_frame_decode_next(struct kt_frame_decoder *d, struct kt_event *ev, uint64_t *skipped)
{
	const uint8_t *p;
	uint8_t op;
	unsigned slot;

	for (;;) {
		if (d->done == d->records)
			return finish(d);
		if (!(p = take(&d->s[KT_S_OPS], 1)))
			return KT_E_CORRUPT;
		op = *p;
		slot = op & KT_OP_SLOT;
		d->done++;
		/* Skimming: a delta (of a KVM_RUN or snapshot slot) is passed over. */
		if (!d->skimming || slot == KT_OP_PLAIN || (op & KT_OP_KEY))
			break;
		if (slot >= d->nslots)
			return KT_E_CORRUPT;
		(*skipped)++;
	}
	if (slot == KT_OP_PLAIN)
		return op == KT_OP_PLAIN ? plain(d, ev) : KT_E_CORRUPT;
	if (op & KT_OP_KEY)
		return op & KT_OP_SAME ? KT_E_CORRUPT : keyed(d, slot, ev);
	return delta(d, slot, op & KT_OP_SAME, ev);
}
