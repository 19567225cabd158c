/* The three sinks: text (strace style), JSON and flat (path, value). */
#include "recorder/sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void put(struct kt_sink *s, const char *p, size_t n)
{
	kt_buf_put(&s->out, p, n);
}

static void puts_(struct kt_sink *s, const char *p)
{
	put(s, p, strlen(p));
}

static void putf_num(struct kt_buf *b, uint64_t v, enum kt_fmt fmt)
{
	char tmp[32];
	int n = fmt == KT_HEX ? snprintf(tmp, sizeof(tmp), "0x%" PRIx64, v) :
				snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	kt_buf_put(b, tmp, (size_t)n);
}

int kt_escape_bytes(struct kt_buf *b, const uint8_t *p, size_t n, bool json)
{
	static const char hex[] = "0123456789abcdef";

	kt_buf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		char e[8];
		size_t len = 0;

		if (c == '"' || c == '\\') {
			e[len++] = '\\';
			e[len++] = (char)c;
		} else if (c == '\n') {
			e[len++] = '\\';
			e[len++] = 'n';
		} else if (c >= 0x20 && c < 0x7f) {
			e[len++] = (char)c;
		} else if (json) {
			memcpy(e, "\\u00", 4);
			len = 4;
			e[len++] = hex[c >> 4];
			e[len++] = hex[c & 15];
		} else {
			e[len++] = '\\';
			e[len++] = 'x';
			e[len++] = hex[c >> 4];
			e[len++] = hex[c & 15];
		}
		if (kt_buf_put(b, e, len))
			return -1;
	}
	return kt_buf_put(b, "\"", 1);
}

/* ---- text: name=value, nested as name={...} ---- */
/* Top-level fields each start with a space, so a printer appends them to
 * a line as they come; nested ones are separated by ", ". */
static void text_sep(struct kt_sink *s, const char *name)
{
	if (!s->depth)
		put(s, " ", 1);
	else if (!s->first[s->depth])
		put(s, ", ", 2);
	s->first[s->depth] = false;
	if (name) {
		puts_(s, name);
		put(s, "=", 1);
	}
}

static void text_begin(struct kt_sink *s, const char *name)
{
	text_sep(s, name);
	put(s, "{", 1);
	if (s->depth + 1 < KT_SINK_DEPTH)
		s->depth++;
	s->first[s->depth] = true;
}

static void text_end(struct kt_sink *s)
{
	if (s->depth)
		s->depth--;
	put(s, "}", 1);
}

static void text_num(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt,
		     const char *sym)
{
	text_sep(s, name);
	if (fmt == KT_SYM && sym) {
		puts_(s, sym);
		return;
	}
	putf_num(&s->out, v, fmt == KT_DEC || fmt == KT_SYM ? KT_DEC : KT_HEX);
	if (fmt == KT_FLAGS) {
		puts_(s, " [");
		puts_(s, sym ? sym : "");
		put(s, "]", 1);
	}
}

static void text_snum(struct kt_sink *s, const char *name, int64_t v)
{
	char tmp[32];

	text_sep(s, name);
	put(s, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, v));
}

static void text_str(struct kt_sink *s, const char *name, const char *v)
{
	text_sep(s, name);
	puts_(s, v);
}

static void text_bytes(struct kt_sink *s, const char *name, const uint8_t *p, size_t n)
{
	text_sep(s, name);
	kt_escape_bytes(&s->out, p, n, false);
}

static const struct kt_sink_ops text_ops = {
	text_begin, text_end, text_num, text_snum, text_str, text_bytes,
};

/* ---- JSON: objects; a symbol rides along as "<name>_name" ---- */
static void json_key(struct kt_sink *s, const char *name)
{
	if (!s->first[s->depth])
		put(s, ", ", 2);
	s->first[s->depth] = false;
	put(s, "\"", 1);
	puts_(s, name ? name : "value");
	put(s, "\": ", 3);
}

static void json_begin(struct kt_sink *s, const char *name)
{
	if (s->depth || name)
		json_key(s, name);
	put(s, "{", 1);
	if (s->depth + 1 < KT_SINK_DEPTH)
		s->depth++;
	s->first[s->depth] = true;
}

static void json_end(struct kt_sink *s)
{
	if (s->depth)
		s->depth--;
	put(s, "}", 1);
}

static void json_num(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt,
		     const char *sym)
{
	json_key(s, name);
	putf_num(&s->out, v, KT_DEC);
	if (sym && (fmt == KT_SYM || fmt == KT_FLAGS)) {
		char key[96];

		snprintf(key, sizeof(key), "%s_name", name ? name : "value");
		json_key(s, key);
		kt_escape_bytes(&s->out, (const uint8_t *)sym, strlen(sym), true);
	}
}

static void json_snum(struct kt_sink *s, const char *name, int64_t v)
{
	char tmp[32];

	json_key(s, name);
	put(s, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, v));
}

static void json_str(struct kt_sink *s, const char *name, const char *v)
{
	json_key(s, name);
	kt_escape_bytes(&s->out, (const uint8_t *)v, strlen(v), true);
}

static void json_bytes(struct kt_sink *s, const char *name, const uint8_t *p, size_t n)
{
	json_key(s, name);
	kt_escape_bytes(&s->out, p, n, true);
}

static const struct kt_sink_ops json_ops = {
	json_begin, json_end, json_num, json_snum, json_str, json_bytes,
};

/* ---- flat: (dotted path, rendered value) ---- */
static size_t path_push(struct kt_sink *s, const char *name)
{
	size_t len = s->path_len[s->depth], n = strlen(name ? name : "");

	if (len && n && len + 1 < sizeof(s->path))
		s->path[len++] = '.';
	if (len + n >= sizeof(s->path))
		n = sizeof(s->path) - 1 - len;
	memcpy(s->path + len, name ? name : "", n);
	s->path[len + n] = 0;
	return len + n;
}

static void flat_add(struct kt_sink *s, const char *name, const char *value, size_t vlen)
{
	size_t plen = path_push(s, name);
	size_t offs[2];

	offs[0] = s->pool.len;
	kt_buf_put(&s->pool, s->path, plen + 1);
	offs[1] = s->pool.len;
	kt_buf_put(&s->pool, value, vlen);
	kt_buf_put(&s->pool, "", 1);
	kt_buf_put(&s->fields, offs, sizeof(offs));
}

static void flat_begin(struct kt_sink *s, const char *name)
{
	size_t len = path_push(s, name);

	if (s->depth + 1 < KT_SINK_DEPTH)
		s->depth++;
	s->path_len[s->depth] = len;
}

static void flat_end(struct kt_sink *s)
{
	if (s->depth)
		s->depth--;
}

static void flat_num(struct kt_sink *s, const char *name, uint64_t v, enum kt_fmt fmt,
		     const char *sym)
{
	char tmp[160];
	int n;

	if (fmt == KT_SYM && sym) {
		flat_add(s, name, sym, strlen(sym));
		return;
	}
	n = fmt == KT_DEC || fmt == KT_SYM ? snprintf(tmp, sizeof(tmp), "%" PRIu64, v) :
					    snprintf(tmp, sizeof(tmp), "0x%" PRIx64, v);
	flat_add(s, name, tmp, (size_t)n);
}

static void flat_snum(struct kt_sink *s, const char *name, int64_t v)
{
	char tmp[32];

	flat_add(s, name, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, v));
}

static void flat_str(struct kt_sink *s, const char *name, const char *v)
{
	flat_add(s, name, v, strlen(v));
}

static void flat_bytes(struct kt_sink *s, const char *name, const uint8_t *p, size_t n)
{
	struct kt_buf b = { 0 };

	kt_escape_bytes(&b, p, n, false);
	flat_add(s, name, (const char *)b.data, b.len);
	kt_buf_free(&b);
}

static const struct kt_sink_ops flat_ops = {
	flat_begin, flat_end, flat_num, flat_snum, flat_str, flat_bytes,
};

static void init(struct kt_sink *s, const struct kt_sink_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->first[0] = true;
}

void kt_sink_text(struct kt_sink *s) { init(s, &text_ops); }
void kt_sink_json(struct kt_sink *s) { init(s, &json_ops); }
void kt_sink_flat(struct kt_sink *s) { init(s, &flat_ops); }

void kt_sink_reset(struct kt_sink *s)
{
	s->out.len = s->pool.len = s->fields.len = 0;
	s->depth = 0;
	s->first[0] = true;
	s->path[0] = 0;
	s->path_len[0] = 0;
}

void kt_sink_free(struct kt_sink *s)
{
	kt_buf_free(&s->out);
	kt_buf_free(&s->pool);
	kt_buf_free(&s->fields);
}

const char *kt_sink_str(struct kt_sink *s)
{
	if (!kt_buf_reserve(&s->out, 1))
		return "";
	s->out.data[s->out.len] = 0;
	return (const char *)s->out.data;
}

size_t kt_sink_nfields(const struct kt_sink *s)
{
	return s->fields.len / (2 * sizeof(size_t));
}

size_t kt_sink_fields(struct kt_sink *s, struct kt_field *out, size_t max)
{
	size_t n = kt_sink_nfields(s);
	const size_t *offs = (const size_t *)s->fields.data;

	for (size_t i = 0; i < n && i < max; i++) {
		out[i].path = (const char *)s->pool.data + offs[2 * i];
		out[i].value = (const char *)s->pool.data + offs[2 * i + 1];
	}
	return n < max ? n : max;
}
