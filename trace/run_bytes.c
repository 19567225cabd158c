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

uint32_t kt_run_out_reason(const uint8_t *out, size_t len)
{
	uint32_t reason;

	if (len < sizeof(struct kt_run_out))
		return UINT32_MAX;
	memcpy(&reason, out + offsetof(struct kvm_run, exit_reason), sizeof(reason));
	return reason;
}
