#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "harness/error.h"
#include "recorder/sink.h"

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

void cli_json_string(const char *v)
{
	struct kt_buf b = { 0 };

	if (!v) {
		fputs("null", stdout);
		return;
	}
	kt_escape_bytes(&b, (const uint8_t *)v, strlen(v), true);
	fwrite(b.data, 1, b.len, stdout);
	kt_buf_free(&b);
}
