/* Where decoders put what they decode.  One decoder per struct
 * (decode/decode.h) emits named fields; the sink decides what they become
 * (strace's model): strace-like text, JSON, or (path, value) pairs for the
 * differ.  Every printer uses the same decoders with a different sink. */
#ifndef KVMTRACE_SINK_H
#define KVMTRACE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum kt_fmt { KT_DEC, KT_HEX, KT_BOOL };

/* One named bit; a table ends with { 0, NULL }. */
struct kt_flag_name {
	uint64_t bit;
	const char *name;
};

struct kt_sink;

struct kt_sink_ops {
	/* A nested struct: name={...}.  Inside an array, name is NULL and the
	 * element is numbered: entries[3]. */
	void (*begin)(struct kt_sink *s, const char *name);
	/* An array of elements or values: name=[...]. */
	void (*array)(struct kt_sink *s, const char *name);
	void (*end)(struct kt_sink *s);  /* closes begin or array */
	void (*u64)(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt);
	void (*i64)(struct kt_sink *s, const char *name, int64_t v);
	/* v NULL: JSON null; (null) in text and flat. */
	void (*str)(struct kt_sink *s, const char *name, const char *v);
	/* Bytes as a C string literal: "H", "\x01\x02". */
	void (*bytes)(struct kt_sink *s, const char *name, const void *p, size_t n);
	/* Text: 0x80050033 [PE MP ET NE WP AM PG]; bits without a name show
	 * as one hex number at the end of the list. */
	void (*flags)(struct kt_sink *s, const char *name, uint64_t v,
		      const struct kt_flag_name *table);
	/* A number with its name (request, capability, exit reason); symbol
	 * NULL when it has none. */
	void (*sym)(struct kt_sink *s, const char *name, uint64_t v, const char *symbol);
};

#define KT_SINK_DEPTH 16
#define KT_SINK_PATH 256

/* A flat field: "sregs.cr0" = "0x80050033". */
struct kt_field {
	const char *path;
	const char *value;
};

struct kt_sink_level {
	bool array;      /* elements are numbered */
	bool first;      /* nothing emitted yet at this level */
	uint32_t index;  /* next element's number */
	uint16_t path_len;
};

struct kt_sink {
	const struct kt_sink_ops *ops;
	/* A rendering for people (text): decoders may fold runs of equal
	 * values (a memory digest's equal pages) into one field. */
	bool compact;
	struct kt_buf out;     /* text and JSON: the rendering */
	int depth;
	int overflow;          /* levels opened past KT_SINK_DEPTH */
	struct kt_sink_level level[KT_SINK_DEPTH];
	/* flat: the current path and the fields collected */
	char path[KT_SINK_PATH];
	struct kt_buf pool;    /* NUL-terminated paths and values */
	struct kt_buf fields;  /* (path, value) offsets into pool */
};

void kt_sink_text(struct kt_sink *s);
void kt_sink_json(struct kt_sink *s);
void kt_sink_flat(struct kt_sink *s);
/* Forget what was emitted, keep the buffers. */
void kt_sink_reset(struct kt_sink *s);
void kt_sink_free(struct kt_sink *s);
/* The rendering of a text or JSON sink, NUL-terminated.  Text puts a space
 * before every top-level field, so a printer appends fields to a line. */
const char *kt_sink_str(struct kt_sink *s);
/* The fields of a flat sink, in emission order; valid until the next emit. */
size_t kt_sink_fields(struct kt_sink *s, struct kt_field *out, size_t max);
size_t kt_sink_nfields(const struct kt_sink *s);

/* Shorthands for decoders. */
static inline void kt_hex(struct kt_sink *s, const char *name, uint64_t v)
{
	s->ops->u64(s, name, v, KT_HEX);
}

static inline void kt_dec(struct kt_sink *s, const char *name, uint64_t v)
{
	s->ops->u64(s, name, v, KT_DEC);
}

/* Append bytes to b as a C string literal ("H", "\x01\xff"), or with json
 * as a JSON string ("\u00ff").  0 or -ENOMEM. */
int kt_escape_bytes(struct kt_buf *b, const uint8_t *p, size_t n, bool json);

/* n bytes as 2n lowercase hex digits and a NUL into dst. */
void kt_hex_string(char *dst, const uint8_t *p, size_t n);

/* Append "PE MP 0x100" (the names of v's set bits in table, then any bits
 * without a name as one hex number); join separates the parts. */
int kt_flag_names(struct kt_buf *b, uint64_t v, const struct kt_flag_name *table,
		  const char *join);

/* Internal to the sinks: level bookkeeping shared by all three. */
struct kt_sink_level *kt_sink_push(struct kt_sink *s, bool array);
void kt_sink_pop(struct kt_sink *s);
static inline struct kt_sink_level *kt_sink_top(struct kt_sink *s)
{
	return &s->level[s->depth];
}
/* v in decimal or 0x-hex into buf (at least 24 bytes); returns the length. */
size_t kt_fmt_u64(char *buf, uint64_t v, enum kt_fmt fmt);
size_t kt_fmt_i64(char *buf, int64_t v);
/* Zero s and give it ops: the constructors of the sinks call this. */
void kt_sink_init(struct kt_sink *s, const struct kt_sink_ops *ops);

#endif
