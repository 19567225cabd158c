/* The JSON sink: begin/end make objects, array/end arrays.  Numbers are
 * JSON numbers (decimal); a symbol rides along as a sibling "<name>_name"
 * and flag names as "<name>_flags": [...], so a consumer keeps the number.
 * begin(s, NULL) at the top opens the event's own object. */
#include "decode/sink.h"

#include <string.h>

static void put(struct kt_sink *s, const char *p, size_t n)
{
	kt_buf_put(&s->out, p, n);
}

static void put_key(struct kt_sink *s, const char *name, const char *suffix)
{
	struct kt_buf *b = &s->out;

	if (kt_escape_bytes(b, (const uint8_t *)name, strlen(name), true) == 0 && suffix) {
		b->len--;  /* reopen the closing quote */
		kt_buf_put(b, suffix, strlen(suffix));
		kt_buf_put(b, "\"", 1);
	}
	put(s, ": ", 2);
}

/* The separator and key before a value; array elements and the top-level
 * object have no key. */
static void key(struct kt_sink *s, const char *name)
{
	struct kt_sink_level *l = kt_sink_top(s);

	if (!l->first)
		put(s, ", ", 2);
	l->first = false;
	if (l->array)
		return;
	if (name)
		put_key(s, name, NULL);
	else if (s->depth)
		put_key(s, "value", NULL);
}

/* A sibling of the field just written: "<name><suffix>": ... */
static bool sibling(struct kt_sink *s, const char *name, const char *suffix)
{
	if (!name || kt_sink_top(s)->array)
		return false;
	put(s, ", ", 2);
	put_key(s, name, suffix);
	return true;
}

static void put_u64(struct kt_sink *s, uint64_t v)
{
	char num[24];

	put(s, num, kt_fmt_u64(num, v, KT_DEC));
}

static void json_begin(struct kt_sink *s, const char *name)
{
	key(s, name);
	put(s, "{", 1);
	kt_sink_push(s, false);
}

static void json_array(struct kt_sink *s, const char *name)
{
	key(s, name);
	put(s, "[", 1);
	kt_sink_push(s, true);
}

static void json_end(struct kt_sink *s)
{
	put(s, kt_sink_top(s)->array ? "]" : "}", 1);
	kt_sink_pop(s);
}

static void json_u64(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt)
{
	key(s, name);
	if (fmt == KT_BOOL && v <= 1)
		put(s, v ? "true" : "false", v ? 4 : 5);
	else
		put_u64(s, v);
}

static void json_i64(struct kt_sink *s, const char *name, int64_t v)
{
	char num[24];

	key(s, name);
	put(s, num, kt_fmt_i64(num, v));
}

static void json_str(struct kt_sink *s, const char *name, const char *v)
{
	key(s, name);
	if (!v)
		put(s, "null", 4);
	else
		kt_escape_bytes(&s->out, (const uint8_t *)v, strlen(v), true);
}

static void json_bytes(struct kt_sink *s, const char *name, const void *p, size_t n)
{
	key(s, name);
	kt_escape_bytes(&s->out, p, n, true);
}

static void json_flags(struct kt_sink *s, const char *name, uint64_t v,
		       const struct kt_flag_name *table)
{
	key(s, name);
	put_u64(s, v);
	if (!sibling(s, name, "_flags"))
		return;
	put(s, "[", 1);
	if (v) {
		put(s, "\"", 1);
		kt_flag_names(&s->out, v, table, "\", \"");
		put(s, "\"", 1);
	}
	put(s, "]", 1);
}

static void json_sym(struct kt_sink *s, const char *name, uint64_t v, const char *symbol)
{
	key(s, name);
	put_u64(s, v);
	if (symbol && sibling(s, name, "_name"))
		kt_escape_bytes(&s->out, (const uint8_t *)symbol, strlen(symbol), true);
}

static const struct kt_sink_ops json_ops = {
	.begin = json_begin, .array = json_array, .end = json_end,
	.u64 = json_u64, .i64 = json_i64, .str = json_str, .bytes = json_bytes,
	.flags = json_flags, .sym = json_sym,
};

void kt_sink_json(struct kt_sink *s)
{
	kt_sink_init(s, &json_ops);
}
