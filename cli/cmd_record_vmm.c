/* kvmtrace record [options] -- PROGRAM [ARGS...]: record a foreign VMM.
 *
 * PROGRAM runs with the shim (build/libkvmtrace-shim.so, beside this
 * binary) preloaded; the shim records its KVM ioctls through the same
 * recorder (shim/, recorder/foreign_*.h).  This side checks PROGRAM can be
 * interposed at all, creates the trace file (so an existing one is refused
 * before anything runs), passes the options through the environment,
 * waits, and says what came of it.  It does not sandbox PROGRAM (someone
 * else's program is not ours to restrict) and needs no sandbox itself: it
 * only waits.  Its status is PROGRAM's own (128 + N for a signal N), or one
 * of kvmtrace's when kvmtrace could not do its part. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/program.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "recorder/foreign_header.h"
#include "recorder/kernel_exits.h"

static const char usage[] =
	"usage: kvmtrace record [-o TRACE.zst] [--force] [--memory-changes]\n"
	"                       [--kernel-exits[=require]] [--kernel-exit-kinds LIST]\n"
	"                       -- PROGRAM [ARGS...]\n(kvmtrace help record)\n";

struct vmm_opts {
	const char *output;
	bool force, changes;
	struct kt_kexits_opts kexits;
	char **argv;           /* PROGRAM and its arguments */
};

struct vmm_run {
	char program[PATH_MAX], trace[PATH_MAX], shim[PATH_MAX], dir[PATH_MAX];
	bool links_asan;
	pid_t child;
};

bool cli_record_has_program(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return true;
	return false;
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "kvmtrace record: %s%s%s\n%s", arg ? arg : "", arg ? ": " : "", what,
		usage);
	return KT_USAGE;
}

static int parse(int argc, char **argv, struct vmm_opts *o)
{
	enum { OPT_FORCE = 256, OPT_CHANGES, OPT_KEXITS, OPT_KINDS };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "memory-changes", no_argument, NULL, OPT_CHANGES },
		{ "kernel-exits", optional_argument, NULL, OPT_KEXITS },
		{ "kernel-exit-kinds", required_argument, NULL, OPT_KINDS },
		{ 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	/* "+": stop at "--", which getopt takes away. */
	while ((c = getopt_long(argc, argv, "+o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case OPT_FORCE: o->force = true; break;
		case OPT_CHANGES: o->changes = true; break;
		case OPT_KEXITS:
			if (optarg && strcmp(optarg, "require"))
				return usage_error("the only value is 'require'", "--kernel-exits");
			o->kexits.mode = optarg ? KT_KEXITS_REQUIRED : KT_KEXITS_WANTED;
			break;
		case OPT_KINDS:
			if (kt_kexits_parse_kinds(optarg, &o->kexits.kinds))
				return usage_error(kt_last_error(), "--kernel-exit-kinds");
			if (o->kexits.mode == KT_KEXITS_OFF)
				o->kexits.mode = KT_KEXITS_WANTED;
			break;
		default:
			return usage_error(c == ':' ? "needs a value" :
					   "not an option of record -- PROGRAM (the run options "
					   "are for a guest image)", argv[optind - 1]);
		}
	}
	if (optind >= argc || strcmp(argv[optind - 1], "--"))
		return usage_error(optind >= argc ? "no PROGRAM after --" :
				   "only options go before --", optind < argc ? argv[optind] : NULL);
	o->argv = argv + optind;
	return 0;
}

/* The shim beside this binary: /proc/self/exe's folder. */
static int find_shim(struct vmm_run *r)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return kt_fail(KT_INTERNAL, "cannot find my own binary: %s", strerror(errno));
	self[n] = 0;
	snprintf(r->shim, sizeof(r->shim), "%s/%s", dirname(self), KT_SHIM_NAME);
	if (access(r->shim, R_OK) < 0)
		return kt_fail(KT_INTERNAL, "%s: %s (make builds it beside kvmtrace)", r->shim,
			       strerror(errno));
	return 0;
}

/* An absolute path (PROGRAM may change directory), created now so that an
 * existing trace is refused before PROGRAM runs; the shim truncates it. */
static int create_trace(struct vmm_run *r, const struct vmm_opts *o)
{
	char name[PATH_MAX], cwd[PATH_MAX];
	const char *base;
	int fd;

	if (o->output) {
		snprintf(name, sizeof(name), "%s", o->output);
	} else {
		base = strrchr(o->argv[0], '/');
		snprintf(name, sizeof(name), "%s.zst", base ? base + 1 : o->argv[0]);
	}
	if (name[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(r->trace, sizeof(r->trace), "%s", name);
	else if (snprintf(r->trace, sizeof(r->trace), "%s/%s", cwd, name) >= (int)sizeof(r->trace))
		return kt_fail(KT_BAD_INPUT, "%s: path too long", name);
	fd = open(r->trace, O_WRONLY | O_CREAT | O_CLOEXEC | (o->force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0 && errno == EEXIST)
		return kt_fail(KT_BAD_INPUT, "%s: trace file exists (use --force to overwrite)",
			       r->trace);
	if (fd < 0)
		return kt_fail(KT_BAD_INPUT, "%s: cannot create trace: %s", r->trace,
			       strerror(errno));
	close(fd);
	return 0;
}

static int make_dir(struct vmm_run *r)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(r->dir, sizeof(r->dir), "%s/kvmtrace-shim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r->dir))
		return kt_fail(KT_INTERNAL, "%s: %s", r->dir, strerror(errno));
	return 0;
}

static void remove_dir(const struct vmm_run *r)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", r->dir, KT_SHIM_CLAIM);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", r->dir, KT_SHIM_STATUS);
	unlink(path);
	rmdir(r->dir);
}

/* ---- the child ---- */

#ifndef KT_SHIM_PRELOAD_FIRST
#define KT_SHIM_PRELOAD_FIRST ""
#endif

/* LD_PRELOAD: a sanitized shim's runtimes first (ASan insists on being
 * the first library), what was there, then the shim. */
static void set_preload(const struct vmm_run *r)
{
	const char *was = getenv("LD_PRELOAD");
	static char v[3 * PATH_MAX + 64];

	snprintf(v, sizeof(v), "%s%s%s%s%s", KT_SHIM_PRELOAD_FIRST,
		 KT_SHIM_PRELOAD_FIRST[0] ? ":" : "", was && *was ? was : "",
		 was && *was ? ":" : "", r->shim);
	setenv("LD_PRELOAD", v, 1);
	/* A foreign program that does not link ASan itself gets the runtime
	 * for the shim's sake only: its own leaks are not kvmtrace's to
	 * report, and would change its exit status. */
	if (KT_SHIM_PRELOAD_FIRST[0] && !r->links_asan) {
		const char *opts = getenv("ASAN_OPTIONS");
		static char a[1024];

		snprintf(a, sizeof(a), "%s%sdetect_leaks=0", opts && *opts ? opts : "",
			 opts && *opts ? ":" : "");
		setenv("ASAN_OPTIONS", a, 1);
	}
}

static void set_env(const struct vmm_run *r, const struct vmm_opts *o)
{
	static const char *const kexits[] = {
		[KT_KEXITS_OFF] = "off", [KT_KEXITS_WANTED] = "on", [KT_KEXITS_REQUIRED] = "require",
	};
	char kinds[16];

	set_preload(r);
	snprintf(kinds, sizeof(kinds), "%x", o->kexits.kinds);
	setenv(KT_SHIM_ENV_TRACE, r->trace, 1);
	setenv(KT_SHIM_ENV_DIR, r->dir, 1);
	setenv(KT_SHIM_ENV_MEMORY, o->changes ? "changes" : "slots", 1);
	setenv(KT_SHIM_ENV_KEXITS, kexits[o->kexits.mode], 1);
	setenv(KT_SHIM_ENV_KEXIT_KINDS, kinds, 1);
}

/* In the child: PROGRAM, or the errno of a failed exec on the pipe. */
static void exec_program(const struct vmm_run *r, const struct vmm_opts *o, int err_fd)
{
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	set_env(r, o);
	execv(r->program, o->argv);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* ---- waiting ---- */

static volatile sig_atomic_t child_pid;

/* SIGTERM and SIGHUP are passed on to PROGRAM, which decides; SIGINT and
 * SIGQUIT from a terminal reach it anyway (same process group). */
static void pass_on(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static void handle_signals(void)
{
	struct sigaction pass = { .sa_handler = pass_on }, ignore = { .sa_handler = SIG_IGN };

	sigaction(SIGTERM, &pass, NULL);
	sigaction(SIGHUP, &pass, NULL);
	sigaction(SIGINT, &ignore, NULL);
	sigaction(SIGQUIT, &ignore, NULL);
}

static int wait_child(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return kt_fail(KT_INTERNAL, "waiting for PROGRAM: %s", strerror(errno));
	return 0;
}

static int spawn(struct vmm_run *r, const struct vmm_opts *o, int *wstatus)
{
	int pipefd[2], e = 0;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kt_fail(KT_INTERNAL, "pipe: %s", strerror(errno));
	fflush(NULL);
	if ((r->child = fork()) < 0)
		return kt_fail(KT_INTERNAL, "fork: %s", strerror(errno));
	if (r->child == 0) {
		close(pipefd[0]);
		exec_program(r, o, pipefd[1]);
	}
	child_pid = r->child;
	close(pipefd[1]);
	handle_signals();
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (wait_child(r->child, wstatus))
		return KT_INTERNAL;
	if (n == sizeof(e))
		return kt_fail(KT_BAD_INPUT, "%s: cannot execute it: %s", r->program, strerror(e));
	return 0;
}

/* ---- what came of it ---- */

struct outcome {
	bool started, done, error;
	int error_status;
	uint64_t events, exits, unrecorded;
	char message[512];
};

/* The shim's status file: "started PID", "note ...", then "done EVENTS
 * EXITS UNRECORDED" or "error STATUS MESSAGE". */
static void read_outcome(const struct vmm_run *r, struct outcome *oc)
{
	char path[PATH_MAX + 16], line[600];
	FILE *f;

	memset(oc, 0, sizeof(*oc));
	snprintf(path, sizeof(path), "%s/%s", r->dir, KT_SHIM_STATUS);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		int at = 0;

		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "started", 7))
			oc->started = true;
		else if (!strncmp(line, "note ", 5))
			fprintf(stderr, "kvmtrace: %s\n", line + 5);
		else if (sscanf(line, "done %" SCNu64 " %" SCNu64 " %" SCNu64, &oc->events,
				&oc->exits, &oc->unrecorded) == 3)
			oc->done = true;
		else if (sscanf(line, "error %d %n", &oc->error_status, &at) == 1 && at) {
			oc->error = true;
			snprintf(oc->message, sizeof(oc->message), "%s", line + at);
		}
	}
	fclose(f);
}

static int program_status(int wstatus)
{
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

static int report(const struct vmm_run *r, const struct vmm_opts *o, int wstatus)
{
	struct outcome oc;
	const char *name = o->argv[0];

	read_outcome(r, &oc);
	if (oc.error) {
		fprintf(stderr, "kvmtrace: %s: not recorded: %s\n", name, oc.message);
		unlink(r->trace);
		return oc.error_status;
	}
	if (!oc.started) {
		unlink(r->trace);
		return cli_errorf(KT_NOT_RECORDABLE, "%s never opened /dev/kvm (%s %d): nothing "
				  "recorded, no trace written", name,
				  WIFSIGNALED(wstatus) ? "killed by signal" : "exit status",
				  WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
	}
	if (!oc.done) {
		fprintf(stderr, "kvmtrace: %s ended without exit() (%s %d): %s holds the whole "
			"frames written before (kvmtrace show says where it stops)\n", name,
			WIFSIGNALED(wstatus) ? "killed by signal" : "exit status",
			WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus), r->trace);
		return program_status(wstatus);
	}
	fprintf(stderr, "kvmtrace: trace written to %s (%" PRIu64 " events, %" PRIu64
		" KVM_RUN)\n", r->trace, oc.events, oc.exits);
	if (oc.unrecorded)
		fprintf(stderr, "kvmtrace: %" PRIu64 " ioctls on KVM fds were not recorded (not "
			"KVM requests, or a KVM_RUN whose kvm_run could not be mapped)\n",
			oc.unrecorded);
	return program_status(wstatus);
}

int cmd_record_vmm(int argc, char **argv)
{
	struct vmm_opts o = { 0 };
	static struct vmm_run r;
	int status, wstatus = 0;

	if ((status = parse(argc, argv, &o)))
		return status;
	if ((status = cli_find_program(o.argv[0], r.program, sizeof(r.program))) ||
	    (status = cli_check_program(r.program, &r.links_asan)) ||
	    (status = find_shim(&r)) || (status = create_trace(&r, &o)))
		return cli_error(status);
	if ((status = make_dir(&r))) {
		unlink(r.trace);
		return cli_error(status);
	}
	status = spawn(&r, &o, &wstatus);
	if (status)
		unlink(r.trace);
	status = status ? cli_error(status) : report(&r, &o, wstatus);
	remove_dir(&r);
	return status;
}
