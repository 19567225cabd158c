#include "trace/page_hash.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

void kt_page_hasher_init(struct kt_page_hasher *h, size_t page_size)
{
	uint8_t *zeros = calloc(1, page_size ? page_size : 1);

	h->page_size = page_size;
	h->zero_known = zeros != NULL && page_size >= 8;
	h->zero_hash = h->zero_known ? kt_xxh64(zeros, page_size) : 0;
	free(zeros);
}

static int is_zero(const uint8_t *p, size_t n)
{
	uint64_t first;

	memcpy(&first, p, sizeof(first));
	/* Zero in its first word and equal to itself shifted by a word. */
	return first == 0 && memcmp(p, p + 8, n - 8) == 0;
}

uint64_t kt_page_hash(const struct kt_page_hasher *h, const uint8_t *page)
{
	if (h->zero_known && is_zero(page, h->page_size))
		return h->zero_hash;
	return kt_xxh64(page, h->page_size);
}
