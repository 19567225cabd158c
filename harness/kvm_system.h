/* Thin, explaining wrappers around the /dev/kvm and VM-level ioctls of the
 * seed flow.  Each returns 0 (or a value) or -errno with kt_last_error()
 * naming the ioctl, the fd and the reason. */
#ifndef KVMTRACE_KVM_SYSTEM_H
#define KVMTRACE_KVM_SYSTEM_H

#include "harness/kvm_ioctl.h"

#define KVM_API_EXPECTED 12

/* Open path and check that it speaks KVM API 12 (KVM_GET_API_VERSION).
 * Every failure means "no usable KVM here": the message names path and why
 * (missing, no permission, not a KVM device, another API version). */
int kvm_open_system(struct kvm_handle *sys, const char *path);
/* KVM_CHECK_EXTENSION's answer, or -errno (no message: a probe). */
int kvm_check_extension(const struct kvm_handle *h, unsigned cap);
int kvm_vcpu_mmap_size(const struct kvm_handle *sys, size_t *size);
/* Allocates *out (free() it). */
int kvm_supported_cpuid(const struct kvm_handle *sys, struct kvm_cpuid2 **out);
int kvm_create_vm(const struct kvm_handle *sys, struct kvm_handle *vm);
int kvm_set_tss_addr(const struct kvm_handle *vm, uint64_t gpa);
int kvm_set_memory_region(const struct kvm_handle *vm, uint32_t slot,
			  uint64_t gpa, uint64_t size, void *host);
int kvm_create_vcpu(const struct kvm_handle *vm, unsigned index,
		    struct kvm_handle *vcpu);
int kvm_map_run(struct kvm_handle *vcpu, size_t size);
void kvm_close_handle(struct kvm_handle *h);

#endif
