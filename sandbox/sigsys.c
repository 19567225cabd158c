#include "sandbox/sigsys.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/error.h"
#include "common/exit_status.h"

/* Names by number, filled before the filter is loaded: the handler runs in
 * signal context, where seccomp_syscall_resolve_num_arch() (malloc) may
 * not be called. */
#define MAX_NR 1024
#define NAME_LEN 32

static char names[MAX_NR][NAME_LEN];
static char command[32];
static uint32_t native_arch;

/* ---- async-signal-safe formatting: into a fixed line, no stdio ---- */
struct line {
	char buf[256];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, uint64_t v, unsigned base)
{
	char digits[24];
	int n = 0;

	if (base == 16)
		put(l, "0x");
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = digits[--n];
}

/* The ioctl request is the second argument (x86-64: rsi). */
static uint64_t ioctl_request(const void *uctx)
{
#if defined(__x86_64__)
	const ucontext_t *uc = uctx;

	return (uint64_t)uc->uc_mcontext.gregs[REG_RSI];
#else
	(void)uctx;
	return 0;
#endif
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	struct line l = { .len = 0 };
	int nr = si->si_syscall;
	int saved = errno;

	(void)sig;
	put(&l, "kvmtrace ");
	put(&l, command);
	put(&l, ": sandbox: forbidden system call ");
	if (si->si_arch != native_arch) {
		put(&l, "number ");
		put_num(&l, (uint64_t)(unsigned)nr, 10);
		put(&l, " of another architecture (");
		put_num(&l, si->si_arch, 16);
		put(&l, ")");
	} else {
		put(&l, nr >= 0 && nr < MAX_NR && names[nr][0] ? names[nr] : "unknown");
		if (nr == SYS_ioctl) {
			put(&l, " with request ");
			put_num(&l, ioctl_request(uctx), 16);
		}
		put(&l, " (number ");
		put_num(&l, (uint64_t)(unsigned)nr, 10);
		put(&l, ")");
	}
	put(&l, "; stopped with status ");
	put_num(&l, KT_SANDBOX, 10);
	put(&l, " (--no-sandbox runs without it)\n");
	/* Nothing to do about a failed write: the status still tells. */
	if (write(STDERR_FILENO, l.buf, l.len) < 0)
		errno = saved;
	_exit(KT_SANDBOX);
}

static void fill_names(uint32_t arch)
{
	for (int nr = 0; nr < MAX_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(arch, nr);

		names[nr][0] = 0;
		if (name) {
			strncat(names[nr], name, NAME_LEN - 1);
			free(name);
		}
	}
}

int kt_sigsys_install(const char *cmd, uint32_t arch)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigset_t sys;

	command[0] = 0;
	strncat(command, cmd, sizeof(command) - 1);
	native_arch = arch;
	fill_names(arch);
	sigfillset(&sa.sa_mask);  /* nothing interrupts the last words */
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return kt_fail(-errno, "sandbox: cannot install the SIGSYS handler: %s",
			       strerror(errno));
	/* A thread that blocked SIGSYS would be killed outright instead. */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	return 0;
}
