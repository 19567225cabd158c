/* What happens on a forbidden system call: SIGSYS (SCMP_ACT_TRAP), whose
 * handler writes one line naming the call and exits. */
#ifndef KVMTRACE_SIGSYS_H
#define KVMTRACE_SIGSYS_H

#include <stdint.h>

/* Resolve every system call name now (the handler may not allocate) and
 * install the handler.  command is named in the message.  0 or -errno. */
int kt_sigsys_install(const char *command, uint32_t arch);

#endif
