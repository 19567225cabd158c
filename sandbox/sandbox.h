/* The seccomp sandbox (libseccomp): once a command has opened what it needs,
 * it gives up every system call its remaining work does not make.  A call
 * outside the allowlist traps: the process prints one line naming the call
 * and exits with KT_SANDBOX_STATUS, from any thread.
 *
 * The allowlists are tables in sandbox/allowlist.c, one per kind of work
 * (README.md, "The sandbox", says what each command may do and why). */
#ifndef KVMTRACE_SANDBOX_H
#define KVMTRACE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/exit_status.h"

/* A forbidden system call, or a sandbox that could not be set up, in every
 * command: even, so it never collides with the guest exit device's. */
#define KT_SANDBOX_STATUS KT_SANDBOX

enum kt_sandbox_profile {
	KT_SANDBOX_READ,    /* show, diff: read open traces, print */
	KT_SANDBOX_RUN,     /* run, record: the KVM_RUN loop, its threads, the
			     * trace writer's flusher */
	KT_SANDBOX_REPLAY,  /* replay: the run loop's needs, reading the trace,
			     * reusing the fds opened before (--runs) */
};

struct kt_sandbox {
	enum kt_sandbox_profile profile;
	const char *command;        /* named in a violation's message */
	/* The KVM ioctl requests allowed (argument filtering on the request);
	 * none for KT_SANDBOX_READ, which may not call ioctl at all. */
	const uint32_t *ioctls;
	size_t nioctls;
};

/* Load the filter for every thread of the process (TSYNC) and install the
 * SIGSYS handler.  0, or -errno with kt_last_error() set; nothing is left
 * half done (no filter is loaded on failure). */
int kt_sandbox_enter(const struct kt_sandbox *sb);

/* Whether kt_sandbox_enter() succeeded in this process. */
bool kt_sandbox_active(void);

/* Tests only (kvmtrace --sandbox-selftest=WHAT): make a call that no
 * profile allows: "ioctl" (TIOCGWINSZ on stderr), "open" (/dev/null for
 * writing), "socket", "execve" (/bin/true), "fork", or "thread" (socket
 * from a new thread).  In the sandbox it does not return. */
void kt_sandbox_selftest(const char *name);
/* Whether name is one of those. */
bool kt_sandbox_selftest_known(const char *name);

#endif
