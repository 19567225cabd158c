#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "decode/sink.h"

int cli_error(int status)
{
	fflush(stdout);
	fprintf(stderr, "kvmtrace: %s\n", kt_last_error());
	return status;
}

int cli_errorf(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("kvmtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

void cli_print_difference_json(const struct cli_difference *d)
{
	struct kt_sink s;

	kt_sink_json(&s);
	s.ops->begin(&s, NULL);
	s.ops->str(&s, "kind", d->kind);
	for (unsigned i = 0; i < 2; i++)
		if (d->index_key[i])
			kt_dec(&s, d->index_key[i], d->index[i]);
	s.ops->str(&s, "context", d->context);
	s.ops->str(&s, "path", d->path);
	for (unsigned i = 0; i < 2; i++)
		s.ops->str(&s, d->value_key[i], d->value[i]);
	s.ops->end(&s);
	puts(kt_sink_str(&s));
	kt_sink_free(&s);
}

void cli_print_environment(const char *path, const char *a, const char *b)
{
	printf("environment: %s: %s -> %s\n", path, a ? a : "(absent)", b ? b : "(absent)");
}

void cli_print_json_reason(const char *kind, const char *reason)
{
	struct kt_sink s;

	kt_sink_json(&s);
	s.ops->begin(&s, NULL);
	s.ops->str(&s, "kind", kind);
	s.ops->str(&s, "reason", reason);
	s.ops->end(&s);
	puts(kt_sink_str(&s));
	kt_sink_free(&s);
}
