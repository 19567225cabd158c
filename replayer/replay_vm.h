/* The VM a replay rebuilds: fds recreated by role, guest memory re-mapped
 * in the harness's memory-slot model (the trace's userspace addresses
 * swapped for ours), recorded memory writes re-applied, and each recorded
 * ioctl issued again through the choke point. */
#ifndef KVMTRACE_REPLAY_VM_H
#define KVMTRACE_REPLAY_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "harness/guest_abi.h"
#include "harness/kvm_ioctl.h"
#include "harness/memslots.h"
#include "trace/trace_format.h"

struct rp_vm {
	struct kvm_handle sys, vm;
	struct kvm_handle vcpu[GUEST_MAX_VCPUS];
	struct kt_memslots mem;
	size_t run_size;
};

/* One recorded ioctl, as the trace holds it. */
struct rp_call {
	uint16_t vcpu;
	const struct kt_ioctl_body *b;
	const uint8_t *in;
	const uint8_t *out;
};

/* What the same ioctl did here.  out lies in the caller's scratch buffer,
 * valid until its next call; for KVM_RUN it is NULL: the out bytes
 * (out_len of them, laid out as trace/run_bytes.h says) are still in run,
 * where replay compares them without a copy. */
struct rp_result {
	long ret;       /* the ioctl's result: >= 0, or -1 with err */
	int err;
	const uint8_t *out;
	uint32_t out_len;
	const struct kvm_run *run;  /* KVM_RUN: our kvm_run after the call */
};

/* Start from a dup of kvm_fd (/dev/kvm, opened and checked to be KVM API 12
 * by kt_replay_open()).  0 or -errno, message set. */
int rp_vm_open(struct rp_vm *vm, int kvm_fd);
void rp_vm_close(struct rp_vm *vm);

/* Issue c again, with the argument bytes in scratch (each replaying thread
 * has its own).  Returns 0 with *res filled (the ioctl itself may have
 * failed: that is res->ret/err), or -errno with the message set when the
 * call cannot be re-issued at all (no such fd, malformed record). */
int rp_vm_call(struct rp_vm *vm, const struct rp_call *c, struct kt_buf *scratch,
	       struct rp_result *res);

#endif
