/* The VM a replay rebuilds: fds recreated by role, guest memory re-mapped
 * (the trace's userspace addresses swapped for ours), recorded memory
 * writes re-applied, and each recorded ioctl issued again through the
 * choke point. */
#ifndef KVMTRACE_REPLAY_VM_H
#define KVMTRACE_REPLAY_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/guest_abi.h"
#include "harness/kvm_ioctl.h"
#include "recorder/trace_format.h"

#define RP_MAX_SLOTS 32

struct rp_slot {
	bool used;
	uint64_t gpa, size;
	uint8_t *host;
};

struct rp_vm {
	struct kvm_handle sys, vm;
	struct kvm_handle vcpu[GUEST_MAX_VCPUS];
	struct rp_slot slot[RP_MAX_SLOTS];
	size_t run_size;
	bool vm_created;
};

/* One recorded ioctl, as the trace holds it. */
struct rp_call {
	uint16_t vcpu;
	const struct kt_ioctl_body *b;
	const uint8_t *in;
	const uint8_t *out;
};

/* What the same ioctl did here.  out is in the rp_vm's scratch, valid until
 * the next call. */
struct rp_result {
	long ret;       /* the ioctl's result: >= 0, or -1 with err */
	int err;
	const uint8_t *out;
	uint32_t out_len;
	const struct kvm_run *run;  /* KVM_RUN: our kvm_run after the call */
};

/* Open kvm_path.  Returns 0 or -errno with kt_last_error() set. */
int rp_vm_open(struct rp_vm *vm, const char *kvm_path);
void rp_vm_close(struct rp_vm *vm);

/* Issue c again.  Returns 0 with *res filled (the ioctl itself may have
 * failed: that is res->ret/err), or -errno when the call cannot be
 * re-issued at all (no such fd, malformed record) with kt_last_error(). */
int rp_vm_call(struct rp_vm *vm, const struct rp_call *c, struct rp_result *res);

/* Re-apply a recorded write to guest memory. */
int rp_vm_mem_write(struct rp_vm *vm, uint64_t gpa, const void *data, size_t len);

/* Host pointer for [gpa, gpa+len), NULL when it is not guest memory. */
uint8_t *rp_vm_guest_ptr(struct rp_vm *vm, uint64_t gpa, uint64_t len);

#endif
