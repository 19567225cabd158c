/* The header record's TLV fields (recorder/trace_format.h), built and read. */
#ifndef KVMTRACE_TRACE_HEADER_H
#define KVMTRACE_TRACE_HEADER_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. */
struct kt_buf {
	uint8_t *data;
	size_t len, cap;
};

int kt_buf_put(struct kt_buf *b, const void *p, size_t n);
/* Make room for n more bytes; returns where they go or NULL. */
uint8_t *kt_buf_reserve(struct kt_buf *b, size_t n);
void kt_buf_free(struct kt_buf *b);

/* Append one field.  0 or -ENOMEM. */
int kt_tlv_put(struct kt_buf *b, uint16_t tag, const void *p, uint32_t len);

/* The first field with tag in a TLV body, or NULL.  *len gets its length. */
const void *kt_tlv_find(const uint8_t *body, size_t body_len, uint16_t tag,
			uint32_t *len);

/* Walk the fields: start with *pos = 0; returns 1 and fills tag/data/len,
 * 0 at the end, -EBADMSG for a field that overruns the body. */
int kt_tlv_next(const uint8_t *body, size_t body_len, size_t *pos, uint16_t *tag,
		const uint8_t **data, uint32_t *len);

#endif
