#include "trace/run_bytes.h"

#include <string.h>

#include "trace/trace_format.h"

uint8_t *kt_run_completion(struct kvm_run *run, size_t run_size, uint32_t *len)
{
	*len = 0;
	if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN) {
		uint64_t n = (uint64_t)run->io.size * run->io.count;

		if (run->io.data_offset + n > run_size)
			return NULL;
		*len = (uint32_t)n;
		return (uint8_t *)run + run->io.data_offset;
	}
	if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write &&
	    run->mmio.len <= sizeof(run->mmio.data)) {
		*len = run->mmio.len;
		return run->mmio.data;
	}
	return NULL;
}

size_t kt_run_out_data_len(const struct kvm_run *run, size_t run_size)
{
	uint64_t n;

	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT)
		return 0;
	n = (uint64_t)run->io.size * run->io.count;
	return run->io.data_offset + n <= run_size ? (size_t)n : 0;
}

void kt_run_out_fill(const struct kvm_run *run, size_t data_len, uint8_t *dst)
{
	memcpy(dst, run, sizeof(struct kt_run_out));
	if (data_len)
		memcpy(dst + sizeof(struct kt_run_out),
		       (const uint8_t *)run + run->io.data_offset, data_len);
}

uint32_t kt_run_out_reason(const uint8_t *out, size_t len)
{
	uint32_t reason;

	if (len < sizeof(struct kt_run_out))
		return UINT32_MAX;
	memcpy(&reason, out + offsetof(struct kvm_run, exit_reason), sizeof(reason));
	return reason;
}
