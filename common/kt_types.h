/* Names for what a run is made of that several layers speak of: the guest
 * modes, the roles of KVM fds, and how a run ended.  The trace stores these
 * values (trace/trace_format.h), the harness produces them, the decoders
 * name them. */
#ifndef KVMTRACE_KT_TYPES_H
#define KVMTRACE_KT_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum kt_mode { KT_MODE_LONG = 0, KT_MODE_REAL = 1, KT_MODE_PROTECTED = 2,
	       KT_MODE_PAGED32 = 3 };

/* Which KVM fd an ioctl went to.  A foreign VMM (kvmtrace record --
 * PROGRAM) also reaches fds that KVM hands out besides these: a device's
 * (KVM_CREATE_DEVICE) and any other (KVM_GET_STATS_FD, guest_memfd). */
enum kt_fd_role { KT_FD_SYSTEM = 0, KT_FD_VM = 1, KT_FD_VCPU = 2, KT_FD_DEVICE = 3,
		  KT_FD_OTHER = 4 };

enum kt_end_reason {
	KT_END_HALTED = 1, KT_END_GUEST_EXIT = 2, KT_END_SHUTDOWN = 3,
	KT_END_GUEST_ERROR = 4, KT_END_TIMEOUT = 5, KT_END_INTERRUPTED = 6,
	KT_END_KVM_ERROR = 7,
	KT_END_VMM_EXIT = 8,  /* a foreign VMM exited; status is its exit status */
};

/* "vcpu3", "vm" or "kvm": the fd an ioctl went to, as every message and
 * printed event names it.  Returns buf. */
#define KT_FD_NAME_MAX 16
const char *kt_fd_name(char buf[KT_FD_NAME_MAX], enum kt_fd_role role, unsigned vcpu);

#endif
