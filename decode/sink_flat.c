/* The flat sink: (dotted path, rendered value) pairs for replay and diff,
 * e.g. regs.rax = 0x2a, sregs.cs.base = 0x0, exit.io.data = "H",
 * cpuid.entries[3].function = 0x7.  Paths and values go into one pool
 * buffer; a field is two offsets into it. */
#include "decode/sink.h"

#include <string.h>

/* Append a segment to the current path: ".name", or "[i]" for the next
 * element of an array; returns the new length.  Paths longer than the
 * buffer are cut, never overrun. */
static size_t extend(struct kt_sink *s, const char *name)
{
	struct kt_sink_level *l = kt_sink_top(s);
	size_t len = l->path_len, room = KT_SINK_PATH - 1;
	char seg[KT_SINK_PATH];
	size_t n = 0;

	if (l->array) {
		seg[n++] = '[';
		n += kt_fmt_u64(seg + n, l->index++, KT_DEC);
		seg[n++] = ']';
	} else if (name) {
		size_t nlen = strnlen(name, sizeof(seg) - 2);

		if (len)
			seg[n++] = '.';
		memcpy(seg + n, name, nlen);
		n += nlen;
	}
	if (len + n > room)
		n = room - len;
	memcpy(s->path + len, seg, n);
	s->path[len + n] = 0;
	return len + n;
}

/* Start a field: its path goes into the pool, and the caller appends the
 * value and closes it with finish(). */
static size_t start(struct kt_sink *s, const char *name)
{
	size_t plen = extend(s, name);
	size_t offs[2] = { s->pool.len, 0 };

	kt_buf_put(&s->pool, s->path, plen + 1);
	offs[1] = s->pool.len;
	kt_buf_put(&s->fields, offs, sizeof(offs));
	return offs[1];
}

static void finish(struct kt_sink *s)
{
	kt_buf_put(&s->pool, "", 1);
}

static void add(struct kt_sink *s, const char *name, const char *v, size_t n)
{
	start(s, name);
	kt_buf_put(&s->pool, v, n);
	finish(s);
}

static void flat_nest(struct kt_sink *s, const char *name, bool array)
{
	size_t len = extend(s, name);

	kt_sink_push(s, array)->path_len = (uint16_t)len;
}

static void flat_begin(struct kt_sink *s, const char *name)
{
	flat_nest(s, name, false);
}

static void flat_array(struct kt_sink *s, const char *name)
{
	flat_nest(s, name, true);
}

static void flat_end(struct kt_sink *s)
{
	kt_sink_pop(s);
}

static void flat_u64(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt)
{
	char num[24];

	add(s, name, num, kt_fmt_u64(num, v, fmt == KT_HEX ? KT_HEX : KT_DEC));
}

static void flat_i64(struct kt_sink *s, const char *name, int64_t v)
{
	char num[24];

	add(s, name, num, kt_fmt_i64(num, v));
}

static void flat_str(struct kt_sink *s, const char *name, const char *v)
{
	if (!v)
		v = "(null)";
	add(s, name, v, strlen(v));
}

static void flat_bytes(struct kt_sink *s, const char *name, const void *p, size_t n)
{
	start(s, name);
	kt_escape_bytes(&s->pool, p, n, false);
	finish(s);
}

/* The names follow from the number: the differ compares the number. */
static void flat_flags(struct kt_sink *s, const char *name, uint64_t v,
		       const struct kt_flag_name *table)
{
	(void)table;
	flat_u64(s, name, v, KT_HEX);
}

static void flat_sym(struct kt_sink *s, const char *name, uint64_t v, const char *symbol)
{
	if (symbol)
		flat_str(s, name, symbol);
	else
		flat_u64(s, name, v, KT_DEC);
}

static const struct kt_sink_ops flat_ops = {
	.begin = flat_begin, .array = flat_array, .end = flat_end,
	.u64 = flat_u64, .i64 = flat_i64, .str = flat_str, .bytes = flat_bytes,
	.flags = flat_flags, .sym = flat_sym,
};

void kt_sink_flat(struct kt_sink *s)
{
	kt_sink_init(s, &flat_ops);
}
