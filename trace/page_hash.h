/* The page hash of DIGEST records (trace/trace_format.h): XXH64, seed 0,
 * over one page.  Most of a guest's pages are zero, and a page of zeros is
 * found by a memcmp that runs several times faster than the hash, so it
 * costs the recorder and the replayer almost nothing. */
#ifndef KVMTRACE_PAGE_HASH_H
#define KVMTRACE_PAGE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct kt_page_hasher {
	size_t page_size;
	uint64_t zero_hash;  /* kt_xxh64 of a page of zeros */
	int zero_known;      /* 0: out of memory to compute it, hash every page */
};

void kt_page_hasher_init(struct kt_page_hasher *h, size_t page_size);
/* kt_xxh64(page, h->page_size). */
uint64_t kt_page_hash(const struct kt_page_hasher *h, const uint8_t *page);

#endif
