#include "harness/exits.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/exit_status.h"
#include "common/kvm_names.h"
#include "harness/devices.h"
#include "harness/machine.h"

typedef enum kt_exit_action (*exit_handler)(struct kt_vcpu *v, struct kvm_run *run);

static enum kt_exit_action on_io(struct kt_vcpu *v, struct kvm_run *run)
{
	struct kt_io_access a = {
		.port = run->io.port,
		.size = run->io.size,
		.count = run->io.count,
		.data = (uint8_t *)run + run->io.data_offset,
		.vcpu = v->h.vcpu_index,
	};

	if (run->io.direction == KVM_EXIT_IO_OUT)
		kt_port_out(v->m, &a);
	else
		kt_port_in(v->m, &a);
	return KT_EXIT_CONTINUE;
}

static enum kt_exit_action on_mmio(struct kt_vcpu *v, struct kvm_run *run)
{
	kt_mmio_access(v->m, run->mmio.phys_addr, run->mmio.data,
		       run->mmio.len, run->mmio.is_write);
	return KT_EXIT_CONTINUE;
}

static enum kt_exit_action on_hlt(struct kt_vcpu *v, struct kvm_run *run)
{
	(void)v;
	(void)run;
	return KT_EXIT_VCPU_DONE;
}

static enum kt_exit_action on_shutdown(struct kt_vcpu *v, struct kvm_run *run)
{
	(void)run;
	kt_machine_end(v->m, KT_END_SHUTDOWN, KT_GUEST_SHUTDOWN, v->h.vcpu_index,
		       "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", v->h.vcpu_index);
	return KT_EXIT_STOP;
}

static enum kt_exit_action on_fail_entry(struct kt_vcpu *v, struct kvm_run *run)
{
	kt_machine_end(v->m, KT_END_GUEST_ERROR, KT_GUEST_ERROR, v->h.vcpu_index,
		       "vCPU %u: VM entry failed: hardware_entry_failure_reason=0x%" PRIx64
		       " cpu=%u", v->h.vcpu_index,
		       (uint64_t)run->fail_entry.hardware_entry_failure_reason,
		       run->fail_entry.cpu);
	return KT_EXIT_STOP;
}

static enum kt_exit_action on_internal_error(struct kt_vcpu *v, struct kvm_run *run)
{
	const char *sub = kvm_internal_error_name(run->internal.suberror);
	char data[160] = "";
	int n = 0;

	for (uint32_t i = 0; i < run->internal.ndata && i < 4 && n < (int)sizeof(data); i++)
		n += snprintf(data + n, sizeof(data) - (size_t)n, " data[%u]=0x%llx", i,
			      (unsigned long long)run->internal.data[i]);
	kt_machine_end(v->m, KT_END_GUEST_ERROR, KT_GUEST_ERROR, v->h.vcpu_index,
		       "vCPU %u: KVM internal error: suberror=%s(%u) ndata=%u%s",
		       v->h.vcpu_index, sub ? sub : "?", run->internal.suberror,
		       run->internal.ndata, data);
	return KT_EXIT_STOP;
}

static enum kt_exit_action on_system_event(struct kt_vcpu *v, struct kvm_run *run)
{
	kt_machine_end(v->m, KT_END_GUEST_ERROR, KT_GUEST_ERROR, v->h.vcpu_index,
		       "vCPU %u: system event type %u", v->h.vcpu_index,
		       run->system_event.type);
	return KT_EXIT_STOP;
}

/* The run was kicked (timeout, signal, another vCPU ended it). */
static enum kt_exit_action on_intr(struct kt_vcpu *v, struct kvm_run *run)
{
	(void)run;
	return atomic_load(&v->m->stopping) ? KT_EXIT_STOP : KT_EXIT_CONTINUE;
}

static const exit_handler handlers[KT_MAX_EXIT_REASON] = {
	[KVM_EXIT_IO] = on_io,
	[KVM_EXIT_MMIO] = on_mmio,
	[KVM_EXIT_HLT] = on_hlt,
	[KVM_EXIT_SHUTDOWN] = on_shutdown,
	[KVM_EXIT_FAIL_ENTRY] = on_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR] = on_internal_error,
	[KVM_EXIT_SYSTEM_EVENT] = on_system_event,
	[KVM_EXIT_INTR] = on_intr,
};

enum kt_exit_action kt_handle_exit(struct kt_vcpu *v)
{
	struct kvm_run *run = v->h.run;
	uint32_t reason = run->exit_reason;
	const char *name;

	if (reason < KT_MAX_EXIT_REASON && handlers[reason])
		return handlers[reason](v, run);
	name = kvm_exit_reason_name(reason);
	kt_machine_end(v->m, KT_END_GUEST_ERROR, KT_GUEST_ERROR, v->h.vcpu_index,
		       "vCPU %u: unhandled exit reason %s (%u)", v->h.vcpu_index,
		       name ? name : "unknown", reason);
	return KT_EXIT_STOP;
}
