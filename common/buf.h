/* A growable byte buffer, also used as the storage of growable arrays
 * (kt_buf_push() appends one element).  Every layer uses it. */
#ifndef KVMTRACE_BUF_H
#define KVMTRACE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct kt_buf {
	uint8_t *data;
	size_t len, cap;
};

/* Append n bytes.  0 or -ENOMEM. */
int kt_buf_put(struct kt_buf *b, const void *p, size_t n);
/* Make room for n more bytes; returns where they go (len unchanged) or NULL. */
uint8_t *kt_buf_reserve(struct kt_buf *b, size_t n);
void kt_buf_free(struct kt_buf *b);

/* Arrays of T kept in a kt_buf. */
#define kt_buf_count(b, T) ((b)->len / sizeof(T))
#define kt_buf_at(b, T, i) (((T *)(void *)(b)->data)[i])

#endif
