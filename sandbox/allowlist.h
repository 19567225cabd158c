/* The allowlists: which system calls each kind of work makes once setup is
 * done, with the argument conditions that narrow them. */
#ifndef KVMTRACE_ALLOWLIST_H
#define KVMTRACE_ALLOWLIST_H

#include <stddef.h>
#include <stdint.h>

/* One allowed call.  arg < 0: any arguments; otherwise allowed only when
 * (argument arg & mask) == value.  err != 0: not run, fails with that errno
 * (so that glibc takes another road).  Several rules for one call are ORed. */
struct kt_sb_rule {
	const char *name;   /* as libseccomp names it */
	int arg;
	uint64_t mask, value;
	int err;
};

struct kt_sb_rules {
	const struct kt_sb_rule *rule;
	size_t n;
};

/* The groups a profile is made of (sandbox/sandbox.c picks them). */
extern const struct kt_sb_rules kt_sb_base;      /* every command */
extern const struct kt_sb_rules kt_sb_reader;    /* reading an open trace */
extern const struct kt_sb_rules kt_sb_threads;   /* starting and running threads */
extern const struct kt_sb_rules kt_sb_fd_reuse;  /* replay --runs: rewinding, dup */
extern const struct kt_sb_rules kt_sb_sanitizer; /* ASan/LSan runtime; empty
						  * unless built with them */

#endif
