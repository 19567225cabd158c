/* The one choke point through which every KVM ioctl is issued.
 *
 * Nothing else in kvmtrace calls ioctl() on a KVM fd: the recorder observes
 * this function, the replayer drives it.  Results follow the -errno
 * convention so callers can pass them up unchanged.  As in the KVM
 * selftests there are two doors: kvm_ioctl_raw() for callers to whom a
 * failure is data (replay, probing), and kvm_ioctl(), whose failure leaves
 * a message naming the ioctl, the fd and the errno in kt_last_error().
 */
#ifndef KVMTRACE_KVM_IOCTL_H
#define KVMTRACE_KVM_IOCTL_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "common/kt_types.h"

struct kvm_handle {
	int fd;
	enum kt_fd_role role;
	uint32_t vcpu_index;  /* KT_FD_VCPU only */
	struct kvm_run *run;  /* KT_FD_VCPU only, once mapped */
	size_t run_size;
};

/* Bytes an ioctl reads from or writes to userspace, as the choke point saw
 * them.  For _IO requests the integer argument is reported as 8 "in" bytes. */
struct kvm_ioctl_bytes {
	const void *data;
	size_t len;
};

/* Someone who wants to see every ioctl (the recorder).  Callbacks run on the
 * calling thread; several vCPU threads may call at once. */
struct kvm_ioctl_observer {
	void (*before)(void *ctx, const struct kvm_handle *h, unsigned long req,
		       struct kvm_ioctl_bytes in);
	void (*after)(void *ctx, const struct kvm_handle *h, unsigned long req,
		      struct kvm_ioctl_bytes out, long ret, int err,
		      uint64_t t_start_ns, uint64_t t_end_ns);
	/* Userspace wrote guest memory (image load, page tables). */
	void (*mem_write)(void *ctx, uint64_t gpa, const void *data, size_t len);
	void *ctx;
};

/* Install (or with NULL remove) the observer; not thread-safe against
 * concurrent ioctls: set it before the VM exists. */
void kvm_ioctl_set_observer(const struct kvm_ioctl_observer *obs);
const struct kvm_ioctl_observer *kvm_ioctl_observer(void);

/* Issue req on h.  arg is a pointer for _IOR/_IOW/_IOWR requests and an
 * integer (cast to a pointer) for _IO ones.  Returns the ioctl's
 * non-negative result or -errno, and sets no message. */
long kvm_ioctl_raw(const struct kvm_handle *h, unsigned long req, void *arg);

/* The same; a failure also sets kt_last_error() to
 * "KVM_SET_SREGS on vcpu0 failed: EINVAL (Invalid argument)". */
long kvm_ioctl(const struct kvm_handle *h, unsigned long req, void *arg);

/* Size in bytes of the struct behind arg for req (0 for _IO requests).
 * Handles the variable-length ones (kvm_cpuid2, kvm_msrs, ...). */
size_t kvm_ioctl_arg_size(unsigned long req, const void *arg);

/* Report a userspace write to guest memory to the observer. */
void kvm_note_mem_write(uint64_t gpa, const void *data, size_t len);

#endif
