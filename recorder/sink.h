/* Where decoders put what they decode.  One decoder per struct
 * (recorder/decode.h) emits named fields; the sink decides what they become:
 * strace-like text, JSON, or (path, value) pairs for the differ. */
#ifndef KVMTRACE_SINK_H
#define KVMTRACE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder/trace_header.h"

enum kt_fmt {
	KT_DEC,
	KT_HEX,
	KT_SYM,    /* sym names the value (request, capability, exit reason) */
	KT_FLAGS,  /* sym lists the names of the set bits, space separated */
};

struct kt_sink;

struct kt_sink_ops {
	void (*begin)(struct kt_sink *s, const char *name);  /* nested struct */
	void (*end)(struct kt_sink *s);
	/* A number, with its symbolic rendering for KT_SYM and KT_FLAGS
	 * (sym may be NULL when the value has no name). */
	void (*num)(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt,
		    const char *sym);
	void (*snum)(struct kt_sink *s, const char *name, int64_t v);
	void (*str)(struct kt_sink *s, const char *name, const char *v);
	void (*bytes)(struct kt_sink *s, const char *name, const uint8_t *p, size_t n);
};

#define KT_SINK_DEPTH 16

/* A flat field: "sregs.cr0" = "0x80050033". */
struct kt_field {
	const char *path;
	const char *value;
};

struct kt_sink {
	const struct kt_sink_ops *ops;
	struct kt_buf out;            /* text and JSON: the rendering */
	int depth;
	bool first[KT_SINK_DEPTH];    /* nothing printed yet at this depth */
	/* flat: the current path and the fields collected */
	char path[256];
	size_t path_len[KT_SINK_DEPTH];
	struct kt_buf pool;           /* strings of the fields */
	struct kt_buf fields;         /* offsets (path, value) into pool */
};

void kt_sink_text(struct kt_sink *s);
void kt_sink_json(struct kt_sink *s);
void kt_sink_flat(struct kt_sink *s);
/* Forget what was emitted, keep the buffers. */
void kt_sink_reset(struct kt_sink *s);
void kt_sink_free(struct kt_sink *s);
/* The rendering of a text or JSON sink, NUL-terminated. */
const char *kt_sink_str(struct kt_sink *s);
/* The fields of a flat sink, in emission order; valid until the next emit. */
size_t kt_sink_fields(struct kt_sink *s, struct kt_field *out, size_t max);
size_t kt_sink_nfields(const struct kt_sink *s);

/* Shorthands for decoders. */
static inline void kt_hex(struct kt_sink *s, const char *name, uint64_t v)
{
	s->ops->num(s, name, v, KT_HEX, NULL);
}

static inline void kt_dec(struct kt_sink *s, const char *name, uint64_t v)
{
	s->ops->num(s, name, v, KT_DEC, NULL);
}

/* Render bytes as a C string literal ("H", "\x01\xff") into b. */
int kt_escape_bytes(struct kt_buf *b, const uint8_t *p, size_t n, bool json);

#endif
