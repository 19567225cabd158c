// SPDX-License-Identifier: GPL-2.0
/* The in-kernel half of kexits: one program per kvm tracepoint, each
 * filtering to the registered threads (or processes), copying the fields
 * the copy plan names out of the tracepoint's record into a fixed
 * struct kx_event, and streaming it through one ring buffer.
 *
 * No vmlinux.h and no CO-RE: the record layout comes from the running
 * kernel's format files, read by userspace and frozen into .rodata before
 * load, so the verifier sees every offset and length as a constant. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kexits/kx_abi.h"

char LICENSE[] SEC("license") = "GPL";  /* bpf_probe_read_kernel */

const volatile struct kx_cfg kx_cfg;
struct kx_slot kx_slots[KX_MAX_SLOTS];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_MAX_SLOTS);
	__type(key, __u32);    /* tid */
	__type(value, __u32);  /* slot */
} kx_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_MAX_SLOTS);
	__type(key, __u32);    /* tgid */
	__type(value, __u32);  /* slot */
} kx_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);  /* set by userspace before load */
} kx_ring SEC(".maps");

/* Aligned scalars come from the record already read onto the stack; the
 * rest (kvm_emulate_insn's insn[15]) straight from the tracepoint's. */
static __always_inline void kx_copy_field(__u8 *dst, const __u8 *rec, void *ctx,
					  struct kx_copy c)
{
	if (c.from_ctx) {
		if (c.len <= 16)
			bpf_probe_read_kernel(dst + c.dst, c.len, (const __u8 *)ctx + c.src);
		return;
	}
	switch (c.len) {
	case 1:
		dst[c.dst] = rec[c.src];
		break;
	case 2:
		*(__u16 *)(dst + c.dst) = *(const __u16 *)(rec + c.src);
		break;
	case 4:
		*(__u32 *)(dst + c.dst) = *(const __u32 *)(rec + c.src);
		break;
	case 8:
		*(__u64 *)(dst + c.dst) = *(const __u64 *)(rec + c.src);
		break;
	}
}

static __always_inline int kx_capture(void *ctx, const int kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = (__u32)(id >> 32);
	__u32 *slotp = bpf_map_lookup_elem(&kx_threads, &tid);

	if (!slotp)
		slotp = bpf_map_lookup_elem(&kx_procs, &tgid);
	if (!slotp)
		return 0;
	__u32 slot = *slotp;
	if (slot >= KX_MAX_SLOTS)
		return 0;
	struct kx_slot *s = &kx_slots[slot];
	__u64 seq = __sync_fetch_and_add(&s->seq, 1);

	__u64 rec[KX_REC_MAX / 8];
	__u32 n = kx_cfg.rec_len[kind];
	if (n == 0 || n > KX_REC_MAX || bpf_probe_read_kernel(rec, n, ctx)) {
		__sync_fetch_and_add(&s->lost, 1);
		return 0;
	}

	struct kx_event *ev = bpf_ringbuf_reserve(&kx_ring, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&s->lost, 1);
		return 0;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->seq = seq;
	ev->tid = tid;
	ev->vcpu = s->vcpu;
	ev->cpu = bpf_get_smp_processor_id();
	ev->kind = kind;
	ev->slot = slot;
	ev->present = kx_cfg.present[kind];
	__builtin_memset(ev->u.data, 0, sizeof(ev->u.data));
#pragma unroll
	for (int i = 0; i < KX_MAX_FIELDS; i++) {
		struct kx_copy c = kx_cfg.copy[kind][i];

		if (!c.len)
			break;
		kx_copy_field(ev->u.data, (const __u8 *)rec, ctx, c);
	}

	/* Wake the reader once wakeup_bytes are unread, looking every 16th
	 * event of a slot: a wakeup per event would cost more than the rest. */
	__u64 flags = 0;
	if (kx_cfg.wakeup_bytes > KX_WAKEUP_EACH)
		flags = (seq & 15) == 0 &&
			bpf_ringbuf_query(&kx_ring, BPF_RB_AVAIL_DATA) >= kx_cfg.wakeup_bytes ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(ev, flags);
	return 0;
}

#define KX_PROG(name, kind) \
	SEC("tracepoint/kvm/" #name) int kx_##name(void *ctx) { return kx_capture(ctx, kind); }

KX_PROG(kvm_exit, KX_EXIT)
KX_PROG(kvm_entry, KX_ENTRY)
KX_PROG(kvm_pio, KX_PIO)
KX_PROG(kvm_mmio, KX_MMIO)
KX_PROG(kvm_msr, KX_MSR)
KX_PROG(kvm_cpuid, KX_CPUID)
KX_PROG(kvm_hypercall, KX_HYPERCALL)
KX_PROG(kvm_emulate_insn, KX_EMULATE)
KX_PROG(kvm_inj_exception, KX_INJ_EXCEPTION)
