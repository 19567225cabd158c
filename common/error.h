/* Errors travel up as -errno codes; the message that explains them is kept
 * here, per thread, for the one place that prints it (cli/). */
#ifndef KVMTRACE_ERROR_H
#define KVMTRACE_ERROR_H

/* Record why code (a negative errno) happened; returns code so callers can
 * write `return kt_fail(-errno, "KVM_CREATE_VM: %s", ...)`. */
int kt_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *kt_last_error(void);
void kt_clear_error(void);

#endif
