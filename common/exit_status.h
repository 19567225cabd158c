/* Exit statuses of the kvmtrace command, documented in README.md.
 * Even numbers are kvmtrace's own; odd numbers 1..255 come from the guest's
 * exit device ((value << 1) | 1, as QEMU's isa-debug-exit), so the two never
 * collide.  replay and diff use diff(1)'s 0/1/2 instead (see their docs). */
#ifndef KVMTRACE_EXIT_STATUS_H
#define KVMTRACE_EXIT_STATUS_H

enum kvmtrace_status {
	KT_OK = 0,              /* every vCPU halted */
	KT_USAGE = 2,           /* bad command line */
	KT_BAD_INPUT = 4,       /* guest image or trace file unusable */
	KT_NO_KVM = 6,          /* /dev/kvm missing, no permission, API != 12 */
	KT_KVM_ERROR = 8,       /* a KVM ioctl failed */
	KT_GUEST_SHUTDOWN = 10, /* triple fault */
	KT_GUEST_ERROR = 12,    /* entry failure, internal error, unhandled exit */
	KT_TIMEOUT = 14,        /* --timeout or --max-exits reached */
	KT_TRACE_TRUNCATED = 16,/* show/replay: trace ends mid-stream */
	KT_INTERRUPTED = 18,    /* SIGINT/SIGTERM (trace finished properly) */
	KT_INTERNAL = 20,       /* out of memory and other host trouble */
	/* Every command: the seccomp sandbox could not be set up, or kvmtrace
	 * made a system call it forbids (sandbox/sandbox.h). */
	KT_SANDBOX = 22,
	KT_NO_KEXITS = 24,      /* record --kernel-exits=require: in-kernel
				 * exits cannot be captured here */
	KT_NOT_RECORDABLE = 26, /* record -- PROGRAM: PROGRAM cannot be
				 * interposed (static, not x86-64) or never
				 * opened /dev/kvm: no trace */
};

/* replay and diff: diff(1)'s statuses. */
enum kvmtrace_diff_status {
	KT_SAME = 0,        /* identical (environment differences aside) */
	KT_DIFFERENT = 1,   /* diverged / different */
	KT_TROUBLE = 2,     /* bad input, unreadable trace, no KVM */
};

/* Guest exit device: the status kvmtrace exits with for a written value. */
static inline int kt_guest_exit_status(unsigned value)
{
	return (int)(((value << 1) | 1) & 0xff);
}

#endif
