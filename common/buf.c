#include "common/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint8_t *kt_buf_reserve(struct kt_buf *b, size_t n)
{
	if (b->len + n > b->cap || !b->data) {  /* even n == 0 gets a real pointer */
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return NULL;
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

int kt_buf_put(struct kt_buf *b, const void *p, size_t n)
{
	uint8_t *dst = kt_buf_reserve(b, n);

	if (!dst)
		return -ENOMEM;
	if (n)
		memcpy(dst, p, n);
	b->len += n;
	return 0;
}

void kt_buf_free(struct kt_buf *b)
{
	free(b->data);
	*b = (struct kt_buf){ 0 };
}
