#include "kexits/kx_format.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* "KEY:N;" somewhere in line: N, or -1. */
static long field_number(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	char *end;

	if (!p)
		return -1;
	long v = strtol(p + strlen(key), &end, 10);
	return end != p + strlen(key) && *end == ';' && v >= 0 ? v : -1;
}

/* The declared name: the last identifier of "unsigned int exit_reason" or
 * "__u8 insn[15]". */
static int decl_name(const char *decl, size_t len, struct kx_tp_field *f)
{
	while (len && isspace((unsigned char)decl[len - 1]))
		len--;
	if (len && decl[len - 1] == ']') {
		const char *open = memchr(decl, '[', len);
		if (!open)
			return -1;
		f->is_array = 1;
		len = (size_t)(open - decl);
	}
	size_t start = len;
	while (start && (isalnum((unsigned char)decl[start - 1]) || decl[start - 1] == '_'))
		start--;
	if (start == len || len - start >= sizeof(f->name))
		return -1;
	memcpy(f->name, decl + start, len - start);
	f->name[len - start] = '\0';
	return 0;
}

static int parse_field(const char *line, struct kx_tp_field *f)
{
	const char *decl = strstr(line, "field:");
	const char *semi = decl ? strchr(decl, ';') : NULL;
	long off = field_number(line, "offset:");
	long size = field_number(line, "size:");
	long sgn = field_number(line, "signed:");

	memset(f, 0, sizeof(*f));
	if (!semi || off < 0 || off > UINT16_MAX || size <= 0 || size > UINT16_MAX || sgn > 1)
		return -1;
	decl += strlen("field:");
	if (decl_name(decl, (size_t)(semi - decl), f))
		return -1;
	f->offset = (uint16_t)off;
	f->size = (uint16_t)size;
	f->is_signed = sgn == 1;
	return 0;
}

int kx_format_parse(const char *text, struct kx_tp_format *out)
{
	memset(out, 0, sizeof(*out));
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;  /* only the print fmt is longer */
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;

		const char *p = buf;
		while (isspace((unsigned char)*p))
			p++;
		if (!strncmp(p, "name:", 5)) {
			p += 5;
			while (*p == ' ')
				p++;
			if (strlen(p) >= sizeof(out->name))
				return kt_fail(-EINVAL, "format: tracepoint name too long");
			strcpy(out->name, p);
		} else if (!strncmp(p, "ID:", 3)) {
			out->id = (uint32_t)strtoul(p + 3, NULL, 10);
		} else if (!strncmp(p, "field:", 6)) {
			if (out->nfields == KX_TP_MAX_FIELDS)
				return kt_fail(-EINVAL, "format of %s: more than %d fields",
					       out->name, KX_TP_MAX_FIELDS);
			if (parse_field(p, &out->fields[out->nfields]))
				return kt_fail(-EINVAL, "format of %s: bad field line \"%s\"",
					       out->name, p);
			out->nfields++;
		}
	}
	if (!out->name[0] || !out->nfields)
		return kt_fail(-EINVAL, "not a tracepoint format (no name or no fields)");
	return 0;
}

const struct kx_tp_field *kx_format_field(const struct kx_tp_format *f, const char *name)
{
	for (unsigned i = 0; i < f->nfields; i++)
		if (!strcmp(f->fields[i].name, name))
			return &f->fields[i];
	return NULL;
}
