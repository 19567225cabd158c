/* Helpers the decode_*.c files share: field tables for structs of plain
 * integers, length checks, little-endian loads. */
#ifndef KVMTRACE_DECODE_UTIL_H
#define KVMTRACE_DECODE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

struct kt_field_desc {
	const char *name;
	uint32_t offset, size;
	enum kt_fmt fmt;
};

#define KT_FIELD(type, member, fmt) \
	{ #member, offsetof(type, member), sizeof(((type *)0)->member), fmt }

/* Emit fields of p in table order; the first one that does not fit in len
 * becomes an error field and ends the struct. */
void kt_emit_fields(struct kt_sink *s, const struct kt_field_desc *f, size_t n,
		    const void *p, size_t len);

/* True (after emitting an error field) when len < need. */
bool kt_short(struct kt_sink *s, size_t need, size_t len);

/* decode(p, len) nested under name. */
void kt_nested(struct kt_sink *s, const char *name, kt_decoder decode, const void *p,
	       size_t len);

static inline uint64_t kt_load(const void *p, size_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);  /* the trace is little-endian, like the host */
	return v;
}

#endif
