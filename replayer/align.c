#include "replayer/align.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define NONE UINT32_MAX
/* The search keeps every round's diagonals, (max_d + 1) * (2 max_d + 3)
 * words: 8 MiB at this limit. */
#define MAX_D_LIMIT 1024

/* Equal keys needed after an edit to count as back in step, so that a key
 * that merely recurs (another IO exit) does not end the search early. */
#define CONFIRM 4

struct window {
	struct kt_align_src *src;
	uint64_t *keys;
	void **items;
	size_t cap, head, len;
	uint64_t next_index;  /* stream index of the item at head */
	bool eof;
};

static int window_init(struct window *w, struct kt_align_src *src, size_t cap)
{
	*w = (struct window){ .src = src, .cap = cap };
	w->keys = malloc(cap * sizeof(*w->keys));
	w->items = malloc(cap * sizeof(*w->items));
	return w->keys && w->items ? 0 : -ENOMEM;
}

static uint64_t key_at(const struct window *w, size_t i)
{
	return w->keys[(w->head + i) % w->cap];
}

static int fill(struct window *w)
{
	while (!w->eof && w->len < w->cap) {
		size_t slot = (w->head + w->len) % w->cap;
		int ret = w->src->next(w->src->ctx, &w->keys[slot], &w->items[slot]);

		if (ret < 0)
			return ret;
		if (ret == 0)
			w->eof = true;
		else
			w->len++;
	}
	return 0;
}

static void *pop(struct window *w, uint64_t *index)
{
	void *item = w->items[w->head];

	*index = w->next_index++;
	w->head = (w->head + 1) % w->cap;
	w->len--;
	return item;
}

static int emit_one(struct window *a, struct window *b, enum kt_align_op op,
		    kt_align_emit emit, void *ctx)
{
	uint64_t ai = 0, bi = 0;
	void *x = op != KT_ALIGN_INSERT ? pop(a, &ai) : NULL;
	void *y = op != KT_ALIGN_DELETE ? pop(b, &bi) : NULL;
	int ret = emit(ctx, op, x, y, ai, bi);

	if (x)
		a->src->release(a->src->ctx, x);
	if (y)
		b->src->release(b->src->ctx, y);
	return ret;
}

/* Myers' O(ND) search over the two windows for the fewest edits (d) that
 * lead to a point where the streams agree again: a run of CONFIRM equal
 * keys, or the ends of both windows.  v[d] keeps each round's furthest
 * points so the path can be walked back. */
struct search {
	size_t max_d;
	long *v;      /* (max_d + 1) rounds of 2 * max_d + 3 diagonals */
	size_t width;
	uint32_t *slot, *chain;  /* resync's index of the new window, see below */
	size_t slot_mask;
};

static long *round_v(struct search *s, size_t d)
{
	return s->v + d * s->width + s->max_d + 1;  /* index by k in -d..d */
}

/* Once both streams have ended inside the windows the search may aim at
 * their ends (exact: the fewest edits overall, as a full LCS would give);
 * before that a run of equal keys is the best evidence of being in step. */
static bool synced(const struct window *a, const struct window *b, size_t x, size_t y,
		   size_t snake, bool exact)
{
	if (snake >= CONFIRM && !exact)
		return true;
	return x == a->len && y == b->len;  /* as far as the windows reach */
}

/* Returns the d found (or -1) and the end point of the synced snake. */
static long myers(struct search *s, const struct window *a, const struct window *b,
		  bool exact, size_t *end_x, size_t *end_y)
{
	for (size_t d = 0; d <= s->max_d; d++) {
		long *v = round_v(s, d), *prev = d ? round_v(s, d - 1) : NULL;

		for (long k = -(long)d; k <= (long)d; k += 2) {
			long x;
			size_t snake = 0;

			if (d == 0)
				x = 0;
			else if (k == -(long)d || (k != (long)d && prev[k - 1] < prev[k + 1]))
				x = prev[k + 1];      /* down: an insertion */
			else
				x = prev[k - 1] + 1;  /* right: a deletion */
			if (x > (long)a->len || x - k > (long)b->len || x - k < 0) {
				v[k] = -1;
				continue;
			}
			while ((size_t)x < a->len && (size_t)(x - k) < b->len &&
			       key_at(a, (size_t)x) == key_at(b, (size_t)(x - k))) {
				x++;
				snake++;
			}
			v[k] = x;
			if (d && synced(a, b, (size_t)x, (size_t)(x - k), snake, exact)) {
				*end_x = (size_t)x;
				*end_y = (size_t)(x - k);
				return (long)d;
			}
		}
	}
	return -1;
}

/* Walk the path back from (x, y) and emit it forwards: equal runs, one
 * delete or insert per round. */
static int emit_path(struct search *s, struct window *a, struct window *b, long d,
		     size_t x, size_t y, kt_align_emit emit, void *ctx)
{
	enum kt_align_op *ops = malloc((x + y + 1) * sizeof(*ops));
	size_t n = 0;
	int ret = 0;

	if (!ops)
		return -ENOMEM;
	for (; d > 0; d--) {
		long k = (long)x - (long)y, *prev = round_v(s, (size_t)d - 1);
		bool down = k == -d || (k != d && prev[k - 1] < prev[k + 1]);
		long px = down ? prev[k + 1] : prev[k - 1];
		size_t sx = down ? (size_t)px : (size_t)px + 1;  /* after the edit */

		while (x > sx) {
			ops[n++] = KT_ALIGN_EQUAL;
			x--;
			y--;
		}
		ops[n++] = down ? KT_ALIGN_INSERT : KT_ALIGN_DELETE;
		if (down)
			y--;
		else
			x--;
	}
	while (x > 0) {
		ops[n++] = KT_ALIGN_EQUAL;
		x--;
	}
	while (!ret && n)
		ret = emit_one(a, b, ops[--n], emit, ctx);
	free(ops);
	return ret;
}

static bool in_step_at(const struct window *a, const struct window *b, size_t i, size_t j)
{
	for (size_t t = 0; t < CONFIRM; t++) {
		if (i + t == a->len || j + t == b->len)
			return i + t == a->len && j + t == b->len;
		if (key_at(a, i + t) != key_at(b, j + t))
			return false;
	}
	return true;
}

static size_t slot_of(const struct search *s, const struct window *b, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & s->slot_mask;

	while (s->slot[h] != NONE && key_at(b, s->slot[h]) != key)
		h = (h + 1) & s->slot_mask;
	return h;
}

/* The new window's positions by key: slot[] holds each key's first position,
 * chain[] the next position with the same key. */
static void index_window(struct search *s, const struct window *b)
{
	for (size_t h = 0; h <= s->slot_mask; h++)
		s->slot[h] = NONE;
	for (size_t j = b->len; j-- > 0;) {
		size_t h = slot_of(s, b, key_at(b, j));

		s->chain[j] = s->slot[h];
		s->slot[h] = (uint32_t)j;
	}
}

static int emit_run(struct window *a, struct window *b, enum kt_align_op op, size_t n,
		    kt_align_emit emit, void *ctx)
{
	int ret = 0;

	while (!ret && n--)
		ret = emit_one(a, b, op, emit, ctx);
	return ret;
}

/* The resynchronisation block, for when more than max_d edits separate the
 * streams (a burst): the nearest (i + j) point where CONFIRM keys agree is
 * found by key lookup instead, and old[0, i) is reported deleted and
 * new[0, j) inserted, with no alignment inside, but for the last max_d / 4
 * of each, left to the next search.  Myers having failed, i + j exceeds
 * max_d, so the block is never empty and the cost of indexing a window is
 * spread over that many events.  With no such point in the windows at all,
 * both windows (less the margins) are reported as changes. */
static int resync(struct search *s, struct window *a, struct window *b,
		  kt_align_emit emit, void *ctx)
{
	size_t best = a->len + b->len, bi = a->len, bj = b->len;

	index_window(s, b);
	for (size_t i = 0; i < best && i < a->len; i++) {
		uint32_t j = s->slot[slot_of(s, b, key_at(a, i))];

		for (; j != NONE && i + j < best; j = s->chain[j]) {
			if (in_step_at(a, b, i, j)) {
				best = i + j;
				bi = i;
				bj = j;
				break;
			}
		}
	}
	/* The run must hold CONFIRM keys, so a few events just before it may
	 * still pair up: stop short by a margin Myers can then search. */
	size_t margin = s->max_d / 4;
	int ret = emit_run(a, b, KT_ALIGN_DELETE, bi - (bi < margin ? bi : margin), emit, ctx);

	return ret ? ret : emit_run(a, b, KT_ALIGN_INSERT, bj - (bj < margin ? bj : margin),
				    emit, ctx);
}

static int step(struct search *sr, struct window *a, struct window *b,
		kt_align_emit emit, void *ctx)
{
	size_t x, y;
	long d;

	if (a->len && b->len && key_at(a, 0) == key_at(b, 0))
		return emit_one(a, b, KT_ALIGN_EQUAL, emit, ctx);
	if (!a->len)
		return emit_one(a, b, KT_ALIGN_INSERT, emit, ctx);
	if (!b->len)
		return emit_one(a, b, KT_ALIGN_DELETE, emit, ctx);
	d = -1;
	if (a->eof && b->eof)
		d = myers(sr, a, b, true, &x, &y);
	if (d < 0)
		d = myers(sr, a, b, false, &x, &y);
	if (d < 0)
		return resync(sr, a, b, emit, ctx);
	return emit_path(sr, a, b, d, x, y, emit, ctx);
}

static void drain(struct window *w)
{
	uint64_t index;

	while (w->len)
		w->src->release(w->src->ctx, pop(w, &index));
	free(w->keys);
	free(w->items);
}

int kt_align(struct kt_align_src *old_src, struct kt_align_src *new_src,
	     const struct kt_align_opts *opts, kt_align_emit emit, void *ctx)
{
	size_t cap = opts && opts->window ? opts->window : 4096;
	struct search sr = { .max_d = opts && opts->max_d ? opts->max_d : 256 };
	struct window a = { 0 }, b = { 0 };
	int ret;

	if (cap > UINT32_MAX / 4)
		return -EINVAL;
	if (sr.max_d > cap)
		sr.max_d = cap;
	if (sr.max_d > MAX_D_LIMIT)
		sr.max_d = MAX_D_LIMIT;
	sr.width = 2 * sr.max_d + 3;
	sr.v = malloc((sr.max_d + 1) * sr.width * sizeof(*sr.v));
	for (sr.slot_mask = 1; sr.slot_mask < 2 * cap; sr.slot_mask *= 2)
		;
	sr.slot = malloc(sr.slot_mask * sizeof(*sr.slot));
	sr.chain = malloc(cap * sizeof(*sr.chain));
	sr.slot_mask--;
	ret = sr.v && sr.slot && sr.chain ? window_init(&a, old_src, cap) : -ENOMEM;
	if (!ret)
		ret = window_init(&b, new_src, cap);
	while (!ret && ((ret = fill(&a)) == 0 && (ret = fill(&b)) == 0) && (a.len || b.len))
		ret = step(&sr, &a, &b, emit, ctx);
	drain(&a);
	drain(&b);
	free(sr.v);
	free(sr.slot);
	free(sr.chain);
	return ret;
}
