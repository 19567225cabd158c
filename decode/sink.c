/* What the three sinks share: lifecycle, nesting levels, number and byte
 * rendering.  Numbers are formatted by hand: the printer renders millions
 * of fields and snprintf's format parsing shows in its profile. */
#include "decode/sink.h"

#include <errno.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

void kt_hex_string(char *dst, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hexdigits[p[i] >> 4];
		dst[2 * i + 1] = hexdigits[p[i] & 15];
	}
	dst[2 * n] = 0;
}

size_t kt_fmt_u64(char *buf, uint64_t v, enum kt_fmt fmt)
{
	char tmp[24];
	size_t n = 0, len = 0;

	if (fmt == KT_HEX) {
		do {
			tmp[n++] = hexdigits[v & 15];
			v >>= 4;
		} while (v);
		buf[len++] = '0';
		buf[len++] = 'x';
	} else {
		do {
			tmp[n++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
	}
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = 0;
	return len;
}

size_t kt_fmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return kt_fmt_u64(buf, (uint64_t)v, KT_DEC);
	buf[0] = '-';
	/* -(v + 1) + 1 keeps INT64_MIN out of signed overflow */
	return 1 + kt_fmt_u64(buf + 1, (uint64_t)-(v + 1) + 1, KT_DEC);
}

/* The escape of one byte; returns its length (at most 6). */
static size_t escape_byte(char *e, uint8_t c, bool json)
{
	static const struct { uint8_t c; char e; } named[] = {
		{ '"', '"' }, { '\\', '\\' }, { '\n', 'n' }, { '\t', 't' }, { '\r', 'r' },
	};

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (named[i].c == c) {
			e[0] = '\\';
			e[1] = named[i].e;
			return 2;
		}
	if (c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		return 1;
	}
	if (json) {
		memcpy(e, "\\u00", 4);
		e[4] = hexdigits[c >> 4];
		e[5] = hexdigits[c & 15];
		return 6;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hexdigits[c >> 4];
	e[3] = hexdigits[c & 15];
	return 4;
}

int kt_escape_bytes(struct kt_buf *b, const uint8_t *p, size_t n, bool json)
{
	/* worst case: 6 bytes per input byte plus the quotes */
	char *dst = n <= (SIZE_MAX - 2) / 6 ? (char *)kt_buf_reserve(b, 6 * n + 2) : NULL;
	size_t len = 0;

	if (!dst)
		return -ENOMEM;
	dst[len++] = '"';
	for (size_t i = 0; i < n; i++)
		len += escape_byte(dst + len, p[i], json);
	dst[len++] = '"';
	b->len += len;
	return 0;
}

int kt_flag_names(struct kt_buf *b, uint64_t v, const struct kt_flag_name *table,
		  const char *join)
{
	size_t jlen = strlen(join);
	bool first = true;
	int ret = 0;

	for (; table && table->name; table++) {
		if (!(v & table->bit))
			continue;
		if (!first)
			ret |= kt_buf_put(b, join, jlen);
		ret |= kt_buf_put(b, table->name, strlen(table->name));
		v &= ~table->bit;
		first = false;
	}
	if (v) {
		char num[24];

		if (!first)
			ret |= kt_buf_put(b, join, jlen);
		ret |= kt_buf_put(b, num, kt_fmt_u64(num, v, KT_HEX));
	}
	return ret ? -ENOMEM : 0;
}

/* Levels past KT_SINK_DEPTH are counted, not kept: their fields land in
 * the deepest kept level rather than outside the sink. */
struct kt_sink_level *kt_sink_push(struct kt_sink *s, bool array)
{
	struct kt_sink_level *l;

	if (s->depth + 1 >= KT_SINK_DEPTH) {
		s->overflow++;
		return kt_sink_top(s);
	}
	l = &s->level[++s->depth];
	l->array = array;
	l->first = true;
	l->index = 0;
	l->path_len = s->level[s->depth - 1].path_len;
	return l;
}

void kt_sink_pop(struct kt_sink *s)
{
	if (s->overflow)
		s->overflow--;
	else if (s->depth)
		s->depth--;
}

void kt_sink_reset(struct kt_sink *s)
{
	s->out.len = s->pool.len = s->fields.len = 0;
	s->depth = s->overflow = 0;
	memset(&s->level[0], 0, sizeof(s->level[0]));
	s->level[0].first = true;
	s->path[0] = 0;
}

void kt_sink_init(struct kt_sink *s, const struct kt_sink_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	kt_sink_reset(s);
}

void kt_sink_free(struct kt_sink *s)
{
	kt_buf_free(&s->out);
	kt_buf_free(&s->pool);
	kt_buf_free(&s->fields);
}

const char *kt_sink_str(struct kt_sink *s)
{
	uint8_t *end = kt_buf_reserve(&s->out, 1);

	if (!end)
		return "";
	*end = 0;
	return (const char *)s->out.data;
}

size_t kt_sink_nfields(const struct kt_sink *s)
{
	return s->fields.len / (2 * sizeof(size_t));
}

size_t kt_sink_fields(struct kt_sink *s, struct kt_field *out, size_t max)
{
	size_t n = kt_sink_nfields(s);
	size_t offs[2];

	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		memcpy(offs, s->fields.data + i * sizeof(offs), sizeof(offs));
		out[i].path = (const char *)s->pool.data + offs[0];
		out[i].value = (const char *)s->pool.data + offs[1];
	}
	return n;
}
