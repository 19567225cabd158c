/* The kvm_run bytes a trace keeps for KVM_RUN (trace/trace_format.h:
 * kt_run_in's completion data, kt_run_out and an IO OUT's data), found in
 * one place for the recorder that captures them and the replayer that
 * reproduces and re-supplies them. */
#ifndef KVMTRACE_RUN_BYTES_H
#define KVMTRACE_RUN_BYTES_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace/trace_format.h"

/* Where the data userspace supplies for the current exit lives (an IO IN's
 * size * count bytes, an MMIO read's len bytes), or NULL for any other exit
 * or one whose data would lie outside the run_size-byte mapping. */
uint8_t *kt_run_completion(struct kvm_run *run, size_t run_size, uint32_t *len);

/* The IO OUT data bytes that follow kt_run_out for the current exit (0 for
 * any other exit or data outside the mapping).  Inline, with the fill
 * below: both run at every exit the recorder and the replayer see. */
static inline size_t kt_run_out_data_len(const struct kvm_run *run, size_t run_size)
{
	uint64_t n;

	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT)
		return 0;
	n = (uint64_t)run->io.size * run->io.count;
	return run->io.data_offset + n <= run_size ? (size_t)n : 0;
}

/* kt_run_out then data_len bytes of OUT data into dst.  The recorder's
 * copies at every exit are 32 bytes a move where the CPU has AVX2. */
void kt_run_out_fill(const struct kvm_run *run, size_t data_len, uint8_t *dst);
/* kvm_run.s.regs' kvm_regs and kvm_sregs, which lie together, into dst. */
#define KT_SYNC_REGS_BYTES (sizeof(struct kvm_regs) + sizeof(struct kvm_sregs))
void kt_sync_regs_copy(const struct kvm_run *run, uint8_t *dst);

/* Whether an ioctl's record keeps out bytes: KVM_RUN always (kvm_run is
 * shared memory, and what KVM left there after -EINTR is part of the
 * story), any other request only when it succeeded. */
static inline int kt_ioctl_keeps_out(uint32_t request, long ret)
{
	return request == KVM_RUN || ret >= 0;
}

/* The exit reason in kt_run_out bytes, UINT32_MAX when they are short. */
uint32_t kt_run_out_reason(const uint8_t *out, size_t len);

#endif
