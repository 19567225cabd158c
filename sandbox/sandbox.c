#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "sandbox/allowlist.h"
#include "sandbox/sigsys.h"

#define MAX_GROUPS 6

/* Each profile is a union of rule groups (sandbox/allowlist.c). */
static const struct {
	const struct kt_sb_rules *group[MAX_GROUPS];
	bool ioctls;
} profiles[] = {
	[KT_SANDBOX_READ] = { { &kt_sb_base, &kt_sb_reader, &kt_sb_sanitizer }, false },
	[KT_SANDBOX_RUN] = { { &kt_sb_base, &kt_sb_threads, &kt_sb_sanitizer }, true },
	[KT_SANDBOX_REPLAY] = { { &kt_sb_base, &kt_sb_reader, &kt_sb_threads, &kt_sb_fd_reuse,
				  &kt_sb_sanitizer }, true },
};

static bool active;

bool kt_sandbox_active(void)
{
	return active;
}

static int add_rule(scmp_filter_ctx ctx, const struct kt_sb_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	uint32_t action = r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW;
	int ret;

	if (nr == __NR_SCMP_ERROR)
		return kt_fail(-EINVAL, "sandbox: libseccomp does not know the system call %s",
			       r->name);
	if (r->arg < 0)
		ret = seccomp_rule_add(ctx, action, nr, 0);
	else
		ret = seccomp_rule_add(ctx, action, nr, 1,
				       SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, r->mask,
						r->value));
	return ret ? kt_fail(ret, "sandbox: cannot allow %s: %s", r->name, strerror(-ret)) : 0;
}

/* ioctl is allowed for the listed requests only, compared in full (64
 * bits): a request with stray high bits traps too. */
static int add_ioctls(scmp_filter_ctx ctx, const uint32_t *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   SCMP_A1(SCMP_CMP_EQ, (uint64_t)req[i]));

		if (ret)
			return kt_fail(ret, "sandbox: cannot allow ioctl 0x%x: %s", req[i],
				       strerror(-ret));
	}
	/* KVM_RUN is the hot path: test ioctl first. */
	seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	return 0;
}

static int build(scmp_filter_ctx ctx, const struct kt_sandbox *sb)
{
	int ret;

	/* Every thread, including those started before (the trace writer's
	 * flusher, replay's watchdog), gets the filter at once. */
	if ((ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) ||
	    (ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP)))
		return kt_fail(ret, "sandbox: %s", strerror(-ret));
	/* A binary tree of syscall numbers instead of a list: optional. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t g = 0; g < MAX_GROUPS && profiles[sb->profile].group[g]; g++) {
		const struct kt_sb_rules *rules = profiles[sb->profile].group[g];

		for (size_t i = 0; i < rules->n; i++)
			if ((ret = add_rule(ctx, &rules->rule[i])))
				return ret;
	}
	if (profiles[sb->profile].ioctls)
		return add_ioctls(ctx, sb->ioctls, sb->nioctls);
	return 0;
}

/* ---- --sandbox-selftest: a call no profile allows, to see it stopped ---- */
static void call_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

static void *socket_thread(void *arg)
{
	(void)arg;
	call_socket();
	return NULL;
}

static void call_ioctl(void)
{
	struct winsize w;

	ioctl(STDERR_FILENO, TIOCGWINSZ, &w);  /* a request no allowlist names */
}

static void call_open(void)
{
	open("/dev/null", O_WRONLY | O_CLOEXEC);
}

static void call_execve(void)
{
	char *const argv[] = { "/bin/true", NULL };

	execve(argv[0], argv, argv + 1);
}

static void call_fork(void)
{
	if (fork() == 0)
		_exit(0);
}

static void call_in_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, socket_thread, NULL) == 0)
		pthread_join(t, NULL);
}

static const struct {
	const char *name;
	void (*call)(void);
} selftests[] = {
	{ "ioctl", call_ioctl }, { "open", call_open }, { "socket", call_socket },
	{ "execve", call_execve }, { "fork", call_fork }, { "thread", call_in_thread },
};

bool kt_sandbox_selftest_known(const char *name)
{
	for (size_t i = 0; i < sizeof(selftests) / sizeof(selftests[0]); i++)
		if (!strcmp(selftests[i].name, name))
			return true;
	return false;
}

void kt_sandbox_selftest(const char *name)
{
	for (size_t i = 0; i < sizeof(selftests) / sizeof(selftests[0]); i++)
		if (!strcmp(selftests[i].name, name))
			selftests[i].call();
}

/* glibc's malloc works out how many arenas it may have (8 per CPU) the
 * first time a ninth thread needs one, by reading
 * /sys/devices/system/cpu/online: an open() the sandbox forbids.  Setting
 * the same limit now means it never asks. */
static void fix_arena_limit(void)
{
#if defined(__GLIBC__)
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	mallopt(M_ARENA_MAX, 8 * (int)(cpus > 0 ? cpus : 2));
#endif
}

int kt_sandbox_enter(const struct kt_sandbox *sb)
{
	scmp_filter_ctx ctx;
	int ret;

	if ((ret = kt_sigsys_install(sb->command, seccomp_arch_native())))
		return ret;
	fix_arena_limit();
	if (!(ctx = seccomp_init(SCMP_ACT_TRAP)))
		return kt_fail(-ENOMEM, "sandbox: seccomp_init failed");
	ret = build(ctx, sb);
	if (!ret && (ret = seccomp_load(ctx)))
		ret = kt_fail(ret, "sandbox: cannot load the seccomp filter: %s (a kernel "
			      "without seccomp filters? --no-sandbox runs without it)",
			      strerror(-ret));
	seccomp_release(ctx);
	if (ret)
		return ret;
	active = true;
	return 0;
}
