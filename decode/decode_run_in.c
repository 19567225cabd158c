/* struct kt_run_in: what userspace handed the vCPU for one KVM_RUN, with
 * the completion bytes of the previous exit (IN data, MMIO read data). */
#include "decode/decode_util.h"

#include <linux/kvm.h>

#include "trace/trace_format.h"

static const struct kt_flag_name sync_regs[] = {
	{ KVM_SYNC_X86_REGS, "REGS" }, { KVM_SYNC_X86_SREGS, "SREGS" },
	{ KVM_SYNC_X86_EVENTS, "EVENTS" }, { 0, NULL },
};

void decode_kt_run_in(struct kt_sink *s, const void *p, size_t len)
{
	struct kt_run_in r;

	if (kt_short(s, sizeof(r), len))
		return;
	memcpy(&r, p, sizeof(r));
	s->ops->u64(s, "request_interrupt_window", r.request_interrupt_window, KT_BOOL);
	s->ops->u64(s, "immediate_exit", r.immediate_exit, KT_BOOL);
	s->ops->flags(s, "valid_regs", r.kvm_valid_regs, sync_regs);
	s->ops->flags(s, "dirty_regs", r.kvm_dirty_regs, sync_regs);
	kt_dec(s, "data_len", r.data_len);
	if (r.data_len && !kt_short(s, sizeof(r) + (size_t)r.data_len, len))
		s->ops->bytes(s, "data", (const uint8_t *)p + sizeof(r), r.data_len);
}
