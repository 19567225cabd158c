#include "trace/run_bytes.h"

#include <immintrin.h>
#include <string.h>

#include "trace/trace_format.h"

_Static_assert(offsetof(struct kvm_sync_regs, sregs) == sizeof(struct kvm_regs),
	       "kvm_regs and kvm_sregs lie together in kvm_run");

/* 32 x n32 bytes, unrolled: a fixed-size copy of 32-byte moves. */
#define COPY32(dst, src, n32)								\
	do {										\
		_Pragma("GCC unroll 16")						\
		for (size_t i_ = 0; i_ < (n32); i_++)					\
			_mm256_storeu_si256((void *)((dst) + 32 * i_),			\
					    _mm256_loadu_si256((const void *)((src) + 32 * i_))); \
	} while (0)

__attribute__((target("avx2")))
static void run_out_avx2(const uint8_t *run, uint8_t *dst)
{
	COPY32(dst, run, sizeof(struct kt_run_out) / 32);
}

__attribute__((target("avx2")))
static void sync_regs_avx2(const uint8_t *src, uint8_t *dst)
{
	const size_t whole = KT_SYNC_REGS_BYTES / 32 * 32;

	COPY32(dst, src, KT_SYNC_REGS_BYTES / 32);
	memcpy(dst + whole, src + whole, KT_SYNC_REGS_BYTES - whole);
}

void kt_run_out_fill(const struct kvm_run *run, size_t data_len, uint8_t *dst)
{
	const uint8_t *r = (const uint8_t *)run;

	_Static_assert(sizeof(struct kt_run_out) % 32 == 0, "whole moves");
	if (__builtin_cpu_supports("avx2"))
		run_out_avx2(r, dst);
	else
		memcpy(dst, r, sizeof(struct kt_run_out));
	if (data_len == 1)
		dst[sizeof(struct kt_run_out)] = r[run->io.data_offset];
	else if (data_len)
		memcpy(dst + sizeof(struct kt_run_out), r + run->io.data_offset, data_len);
}

void kt_sync_regs_copy(const struct kvm_run *run, uint8_t *dst)
{
	const uint8_t *src = (const uint8_t *)&run->s.regs.regs;

	if (__builtin_cpu_supports("avx2"))
		sync_regs_avx2(src, dst);
	else
		memcpy(dst, src, KT_SYNC_REGS_BYTES);
}

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
