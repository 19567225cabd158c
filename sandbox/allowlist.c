/* The allowlists, as tables: what kvmtrace's own code, glibc and (in a
 * sanitizer build) the ASan runtime call once setup is over.  Everything
 * else traps.  README.md, "The sandbox", is the reader's version of this. */
#include "sandbox/allowlist.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

#define RULES(t) { t, sizeof(t) / sizeof(t[0]) }
#define ANY(n) { n, -1, 0, 0, 0 }
/* Allowed when argument a has none of the bits of mask set. */
#define WITHOUT(n, a, mask) { n, a, mask, 0, 0 }
/* Allowed when argument a has every bit of mask set. */
#define WITH(n, a, mask) { n, a, mask, mask, 0 }
/* Not run: fails with errno e. */
#define FAIL(n, e) { n, -1, 0, 0, e }

/* Every command, from the moment its inputs are open. */
static const struct kt_sb_rule base[] = {
	ANY("exit"),            /* a thread ends */
	ANY("exit_group"),      /* the process ends */
	ANY("rt_sigreturn"),    /* back from a signal handler (the kick, SIGSYS) */
	ANY("rt_sigprocmask"),  /* pthread_sigmask; glibc around thread start/exit */
	ANY("write"),           /* stdout (console, show), stderr, the trace file */
	ANY("close"),           /* fds closed at the end: VM, vCPUs, traces */
	/* malloc and zstd's buffers; never executable memory, so nothing can
	 * be mapped or made executable after setup. */
	ANY("brk"),
	WITHOUT("mmap", 2, PROT_EXEC),
	WITHOUT("mprotect", 2, PROT_EXEC),
	ANY("munmap"),
	ANY("mremap"),          /* realloc() of a large (mmap'ed) block */
	ANY("madvise"),         /* free() trimming, glibc releasing a thread stack */
	ANY("futex"),           /* mutexes, condition variables, pthread_join */
	/* The vDSO answers these without a system call, except on clocksources
	 * it cannot read (some VMs): then glibc makes the call. */
	ANY("clock_gettime"),
	ANY("restart_syscall"), /* a timed futex wait resumed after a stop signal */
	/* pthread_kill() (the kick that ends KVM_RUN) and abort() (an assertion)
	 * signal a thread of this process with tgkill(getpid(), tid, sig). */
	ANY("getpid"),
	ANY("gettid"),
	ANY("tgkill"),
};

/* Reading a trace already open (show, diff, replay). */
static const struct kt_sb_rule reader[] = {
	ANY("read"),
	/* trace/trace_reader.c reads at positions: the reader and its clones
	 * (diff's second look at a differing pair, replay's check) share one
	 * fd and never move its offset. */
	ANY("pread64"),
};

/* run, record and replay start threads after setup: the vCPU threads, the
 * replay's lanes and watchdog. */
static const struct kt_sb_rule threads[] = {
	/* Threads only: CLONE_THREAD required, so no fork. */
	WITH("clone", 0, CLONE_THREAD),
	/* clone3 passes its flags in memory, where a filter cannot look:
	 * ENOSYS makes glibc (2.34+) fall back to clone, which is checked. */
	FAIL("clone3", ENOSYS),
	ANY("set_robust_list"), /* glibc, in every new thread */
	ANY("rseq"),            /* glibc 2.35+, in every new thread */
	ANY("rt_sigaction"),    /* each vCPU thread installs the kick's handler */
	ANY("rt_sigtimedwait"), /* run's supervisor waits for signals and time */
	/* Not here: glibc's malloc reads /sys/devices/system/cpu/online when
	 * the ninth thread wants an arena; kt_sandbox_enter() sets the arena
	 * limit beforehand instead (mallopt M_ARENA_MAX). */
};

/* replay --runs replays the one trace fd and /dev/kvm fd again and again. */
static const struct kt_sb_rule fd_reuse[] = {
	ANY("lseek"),           /* rewind the trace for the next run */
	ANY("dup"),             /* a reader and a VM of their own, per run */
};

/* record and replay --kernel-exits, once kexits is attached (kexits/kx.c):
 * each vCPU thread registers in the BPF program's thread map (and the
 * end walks it to unregister), the collector thread sleeps between looks
 * at the ring buffer, and the end detaches the tracepoints.  Loading programs or creating maps stays forbidden. */
static const struct kt_sb_rule kexits[] = {
	{ "bpf", 0, ~0ull, BPF_MAP_LOOKUP_ELEM, 0 },
	{ "bpf", 0, ~0ull, BPF_MAP_UPDATE_ELEM, 0 },
	{ "bpf", 0, ~0ull, BPF_MAP_DELETE_ELEM, 0 },
	{ "bpf", 0, ~0ull, BPF_MAP_GET_NEXT_KEY, 0 },
	/* the collector empties the ring every few milliseconds */
	ANY("clock_nanosleep"),
	ANY("nanosleep"),
	ANY("epoll_wait"),
	ANY("epoll_pwait"),
	{ "ioctl", 1, ~0ull, PERF_EVENT_IOC_DISABLE, 0 },
};

/* The ASan+UBSan build only (make SANITIZE=1), as seen in its runs.  At
 * exit LeakSanitizer stops the world: it clones a tracer task (CLONE_VM,
 * no CLONE_THREAD) that ptraces every thread and waits for it, lists
 * /proc/self/task and reads /proc files (open read-only, getdents, lseek,
 * read), with signal handlers on an alternate stack, and prctl() for its
 * death signal and the Yama ptracer; ASan gives each new thread an
 * alternate signal stack and asks glibc for its stack (its CPU affinity).
 * None of this is in a normal build's filter. */
static const struct kt_sb_rule sanitizer[] = {
#if defined(__SANITIZE_ADDRESS__)
	WITH("clone", 0, CLONE_VM),
	ANY("ptrace"),
	ANY("wait4"),
	ANY("prctl"),
	ANY("getppid"),
	ANY("sched_yield"),
	ANY("sigaltstack"),
	ANY("rt_sigaction"),
	WITHOUT("open", 1, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND),
	ANY("read"),
	ANY("lseek"),
	ANY("getdents"),
	ANY("sched_getaffinity"),
	/* An error report: whether stderr is a terminal (for colours), and the
	 * symbolizer reading the binary and its libraries. */
	{ "ioctl", 1, ~0ull, TCGETS, 0 },
	WITHOUT("openat", 2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND),
	ANY("fcntl"),
	ANY("newfstatat"),
	ANY("readlink"),
#else
	{ 0 },
#endif
};

const struct kt_sb_rules kt_sb_base = RULES(base);
const struct kt_sb_rules kt_sb_reader = RULES(reader);
const struct kt_sb_rules kt_sb_threads = RULES(threads);
const struct kt_sb_rules kt_sb_fd_reuse = RULES(fd_reuse);
const struct kt_sb_rules kt_sb_kexits = RULES(kexits);
#if defined(__SANITIZE_ADDRESS__)
const struct kt_sb_rules kt_sb_sanitizer = RULES(sanitizer);
#else
const struct kt_sb_rules kt_sb_sanitizer = { sanitizer, 0 };
#endif
