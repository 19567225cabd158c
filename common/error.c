#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

int kt_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

const char *kt_last_error(void)
{
	return last_error[0] ? last_error : strerror(0);
}

void kt_clear_error(void)
{
	last_error[0] = '\0';
}
