#include "kexits/kx_error.h"

#include <stdarg.h>
#include <stdio.h>

#include "kexits/kx.h"

static _Thread_local char last_error[512];

int kx_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

const char *kx_last_error(void)
{
	return last_error[0] ? last_error : "no error";
}
