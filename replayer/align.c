#include "replayer/align.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* Agreement needed after a resynchronisation point, so that a key that
 * merely recurs (another IO exit) does not count as being back in step. */
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

/* Do a from i and b from j agree for CONFIRM events (or to both ends)? */
static bool agrees(const struct window *a, size_t i, const struct window *b, size_t j)
{
	for (size_t k = 0; k < CONFIRM; k++) {
		bool ea = i + k >= a->len, eb = j + k >= b->len;

		if (ea || eb) {
			bool a_done = ea && a->eof, b_done = eb && b->eof;

			/* A stream that ended agrees only with one that ended
			 * too; past a full window, agreement is all we can see. */
			if (a_done || b_done)
				return a_done && b_done;
			return true;
		}
		if (key_at(a, i + k) != key_at(b, j + k))
			return false;
	}
	return true;
}

/* The nearest resynchronisation point, by increasing i + j. */
static bool resync(const struct window *a, const struct window *b, size_t max_d,
		   size_t *ri, size_t *rj)
{
	for (size_t d = 1; d <= max_d; d++)
		for (size_t i = 0; i <= d; i++) {
			size_t j = d - i;

			if (i > a->len || j > b->len)
				continue;
			if ((i == a->len && a->eof && j == b->len && b->eof) ||
			    (i < a->len && j < b->len && agrees(a, i, b, j))) {
				*ri = i;
				*rj = j;
				return true;
			}
		}
	return false;
}

static int step(struct window *a, struct window *b, size_t max_d, kt_align_emit emit,
		void *ctx)
{
	size_t i, j;
	int ret = 0;

	if (a->len && b->len && key_at(a, 0) == key_at(b, 0))
		return emit_one(a, b, KT_ALIGN_EQUAL, emit, ctx);
	if (!a->len)
		return emit_one(a, b, KT_ALIGN_INSERT, emit, ctx);
	if (!b->len)
		return emit_one(a, b, KT_ALIGN_DELETE, emit, ctx);
	if (!resync(a, b, max_d, &i, &j))
		i = j = 1;  /* too far apart: one change at a time keeps memory bounded */
	while (!ret && i--)
		ret = emit_one(a, b, KT_ALIGN_DELETE, emit, ctx);
	while (!ret && j--)
		ret = emit_one(a, b, KT_ALIGN_INSERT, emit, ctx);
	return ret;
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
	size_t max_d = opts && opts->max_d ? opts->max_d : 256;
	struct window a, b;
	int ret;

	if (max_d > cap)
		max_d = cap;
	ret = window_init(&a, old_src, cap);
	if (!ret)
		ret = window_init(&b, new_src, cap);
	while (!ret && ((ret = fill(&a)) == 0 && (ret = fill(&b)) == 0) && (a.len || b.len))
		ret = step(&a, &b, max_d, emit, ctx);
	drain(&a);
	drain(&b);
	return ret;
}
