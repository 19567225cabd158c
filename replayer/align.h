/* Aligning two event streams for diff, in bounded memory: a windowed
 * shortest-edit alignment.  Matching heads pass through at once; at a
 * mismatch a Myers O(ND) search over the two windows finds the fewest
 * deletions and insertions that bring the streams back in step (a few equal
 * keys in a row), and that stretch is emitted.  So one extra or missing exit
 * is one insertion or deletion, not a cascade; memory is two windows and
 * the search rounds, whatever the length.  Once both streams have ended
 * inside the windows, the search aims at their ends, so the edit count is
 * the LCS minimum.
 *
 * Resynchronisation: when more than max_d edits separate the streams (a
 * burst), the nearest point where a few keys agree again is found by key
 * lookup and everything before it, but for a short margin left to the next
 * search, is reported as deletions (old) then insertions (new), unaligned.
 * With no such point in either window, both windows are reported so. */
#ifndef KVMTRACE_ALIGN_H
#define KVMTRACE_ALIGN_H

#include <stddef.h>
#include <stdint.h>

struct kt_align_src {
	/* 1 and an item with its key, 0 at the end, <0 an error (passed up). */
	int (*next)(void *ctx, uint64_t *key, void **item);
	void (*release)(void *ctx, void *item);  /* once the item is emitted */
	void *ctx;
};

enum kt_align_op {
	KT_ALIGN_EQUAL,   /* the two items align */
	KT_ALIGN_DELETE,  /* only in old */
	KT_ALIGN_INSERT,  /* only in new */
};

/* Items and indexes are NULL/0 for the side an op does not involve; a
 * non-zero return stops the alignment and is passed up. */
typedef int (*kt_align_emit)(void *ctx, enum kt_align_op op, void *old_item,
			     void *new_item, uint64_t old_index, uint64_t new_index);

struct kt_align_opts {
	size_t window;  /* events held per side (default 4096) */
	size_t max_d;   /* most edits searched, i + j (default 256, at most 1024) */
};

int kt_align(struct kt_align_src *old_src, struct kt_align_src *new_src,
	     const struct kt_align_opts *opts, kt_align_emit emit, void *ctx);

#endif
