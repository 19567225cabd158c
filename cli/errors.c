#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"
#include "harness/error.h"

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
