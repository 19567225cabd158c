#include "recorder/trace_header.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/trace_format.h"

uint8_t *kt_buf_reserve(struct kt_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
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

int kt_tlv_put(struct kt_buf *b, uint16_t tag, const void *p, uint32_t len)
{
	struct kt_tlv t = { .tag = tag, .len = len };
	int ret = kt_buf_put(b, &t, sizeof(t));

	return ret ? ret : kt_buf_put(b, p, len);
}

int kt_tlv_next(const uint8_t *body, size_t body_len, size_t *pos, uint16_t *tag,
		const uint8_t **data, uint32_t *len)
{
	struct kt_tlv t;

	if (*pos >= body_len)
		return 0;
	if (body_len - *pos < sizeof(t))
		return -EBADMSG;
	memcpy(&t, body + *pos, sizeof(t));
	if (body_len - *pos - sizeof(t) < t.len)
		return -EBADMSG;
	*tag = t.tag;
	*data = body + *pos + sizeof(t);
	*len = t.len;
	*pos += sizeof(t) + t.len;
	return 1;
}

const void *kt_tlv_find(const uint8_t *body, size_t body_len, uint16_t tag,
			uint32_t *len)
{
	size_t pos = 0;
	const uint8_t *data;
	uint16_t t;

	while (kt_tlv_next(body, body_len, &pos, &t, &data, len) == 1)
		if (t == tag)
			return data;
	return NULL;
}
