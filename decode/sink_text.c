/* The text sink, strace style: name=value, nested structs as name={...},
 * arrays as name=[...].  Top-level fields each start with a space so a
 * printer appends them to a line as they come; nested ones are separated
 * by ", ".  Renders into one growable buffer: no allocation per field. */
#include "decode/sink.h"

#include <string.h>

static void put(struct kt_sink *s, const char *p, size_t n)
{
	kt_buf_put(&s->out, p, n);
}

static void put_str(struct kt_sink *s, const char *p)
{
	put(s, p, strlen(p));
}

static void sep(struct kt_sink *s, const char *name)
{
	struct kt_sink_level *l = kt_sink_top(s);

	if (!s->depth)
		put(s, " ", 1);
	else if (!l->first)
		put(s, ", ", 2);
	l->first = false;
	if (name && !l->array) {
		put_str(s, name);
		put(s, "=", 1);
	}
}

static void put_u64(struct kt_sink *s, uint64_t v, enum kt_fmt fmt)
{
	char num[24];

	put(s, num, kt_fmt_u64(num, v, fmt));
}

static void text_begin(struct kt_sink *s, const char *name)
{
	sep(s, name);
	put(s, "{", 1);
	kt_sink_push(s, false);
}

static void text_array(struct kt_sink *s, const char *name)
{
	sep(s, name);
	put(s, "[", 1);
	kt_sink_push(s, true);
}

static void text_end(struct kt_sink *s)
{
	put(s, kt_sink_top(s)->array ? "]" : "}", 1);
	kt_sink_pop(s);
}

static void text_u64(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt)
{
	sep(s, name);
	put_u64(s, v, fmt == KT_HEX ? KT_HEX : KT_DEC);
}

static void text_i64(struct kt_sink *s, const char *name, int64_t v)
{
	char num[24];

	sep(s, name);
	put(s, num, kt_fmt_i64(num, v));
}

static void text_str(struct kt_sink *s, const char *name, const char *v)
{
	sep(s, name);
	put_str(s, v ? v : "(null)");
}

static void text_bytes(struct kt_sink *s, const char *name, const void *p, size_t n)
{
	sep(s, name);
	kt_escape_bytes(&s->out, p, n, false);
}

static void text_flags(struct kt_sink *s, const char *name, uint64_t v,
		       const struct kt_flag_name *table)
{
	sep(s, name);
	put_u64(s, v, KT_HEX);
	if (!v)
		return;
	put(s, " [", 2);
	kt_flag_names(&s->out, v, table, " ");
	put(s, "]", 1);
}

static void text_sym(struct kt_sink *s, const char *name, uint64_t v, const char *symbol)
{
	sep(s, name);
	if (symbol)
		put_str(s, symbol);
	else
		put_u64(s, v, KT_DEC);
}

static const struct kt_sink_ops text_ops = {
	.begin = text_begin, .array = text_array, .end = text_end,
	.u64 = text_u64, .i64 = text_i64, .str = text_str, .bytes = text_bytes,
	.flags = text_flags, .sym = text_sym,
};

void kt_sink_text(struct kt_sink *s)
{
	kt_sink_init(s, &text_ops);
	s->compact = true;
}
