/* Building the VM: the seed flow from open("/dev/kvm") to the loaded guest. */
#include "harness/machine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "harness/kick.h"
#include "harness/kvm_system.h"
#include "harness/x86_modes.h"

#define SLOT_RAM 0
#define SLOT_TABLES 1

static int add_slot(struct kt_machine *m, uint32_t slot, uint64_t gpa, uint64_t size)
{
	int ret = kt_memslot_map(&m->mem, slot, gpa, size);

	if (ret)
		return ret;
	return kvm_set_memory_region(&m->vm, slot, gpa, size, m->mem.slot[slot].host);
}

static int map_guest_memory(struct kt_machine *m)
{
	int ret = add_slot(m, SLOT_RAM, GUEST_LOAD_GPA, m->cfg.mem_bytes);

	return ret ? ret : add_slot(m, SLOT_TABLES, GUEST_PT_GPA, GUEST_PT_SIZE);
}

static int vcpu_set_cpuid(struct kt_machine *m, struct kt_vcpu *v)
{
	size_t size = sizeof(*m->cpuid) + m->cpuid->nent * sizeof(m->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	long ret;

	if (!c)
		return kt_fail(-ENOMEM, "out of memory for CPUID");
	memcpy(c, m->cpuid, size);
	x86_cpuid_set_apic_id(c, v->h.vcpu_index);
	ret = kvm_ioctl(&v->h, KVM_SET_CPUID2, c);
	free(c);
	return ret < 0 ? (int)ret : 0;
}

static int vcpu_set_state(struct kt_machine *m, struct kt_vcpu *v)
{
	const struct x86_mode_ops *ops = x86_mode_ops(m->cfg.mode);
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	long ret;

	if ((ret = kvm_ioctl(&v->h, KVM_GET_SREGS, &sregs)) < 0)
		return (int)ret;
	ops->setup_sregs(&sregs, GUEST_PT_GPA);
	if ((ret = kvm_ioctl(&v->h, KVM_SET_SREGS, &sregs)) < 0)
		return kt_fail((int)ret, "%s (%s mode)", kt_last_error(), ops->name);
	x86_setup_regs(&regs, v->h.vcpu_index, m->nvcpus, m->cfg.guest_arg);
	ret = kvm_ioctl(&v->h, KVM_SET_REGS, &regs);
	return ret < 0 ? (int)ret : 0;
}

/* Snapshots come free with every exit through kvm_run.s.regs when the
 * kernel has KVM_CAP_SYNC_REGS; otherwise the run loop asks for them. */
static void vcpu_enable_snapshots(struct kt_machine *m, struct kt_vcpu *v)
{
	const unsigned want = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;

	if (!m->cfg.snapshots)
		return;
	if ((m->sync_regs & want) == want)
		v->h.run->kvm_valid_regs = want;
	else
		v->ioctl_snapshots = true;
}

static int create_vcpu(struct kt_machine *m, unsigned index)
{
	struct kt_vcpu *v = &m->vcpu[index];
	int ret;

	v->m = m;
	ret = kvm_create_vcpu(&m->vm, index, &v->h);
	if (ret)
		return ret;
	if (!m->run_size && (ret = kvm_vcpu_mmap_size(&m->sys, &m->run_size)))
		return ret;
	ret = kvm_map_run(&v->h, m->run_size);
	if (ret)
		return ret;
	ret = vcpu_set_cpuid(m, v);
	if (ret)
		return ret;
	if (index == 0) {
		uint8_t *slot = calloc(1, GUEST_PT_SIZE);
		size_t used;

		if (!slot)
			return kt_fail(-ENOMEM, "out of memory for page tables");
		used = x86_mode_ops(m->cfg.mode)->build_tables(slot, GUEST_PT_GPA);
		ret = kt_memslots_write(&m->mem, GUEST_PT_GPA, slot, used);
		free(slot);
		if (ret)
			return ret;
	}
	vcpu_enable_snapshots(m, v);
	return vcpu_set_state(m, v);
}

int kt_machine_open(struct kt_machine *m, const struct kt_config *cfg)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->sys.fd = m->vm.fd = -1;
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		m->vcpu[i].h.fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->no_kvm = true;
	if ((ret = kvm_open_system(&m->sys, cfg->kvm_path ? cfg->kvm_path : "/dev/kvm")))
		return ret;
	m->no_kvm = false;
	if ((ret = kvm_create_vm(&m->sys, &m->vm)))
		return ret;
	if ((ret = kvm_set_tss_addr(&m->vm, GUEST_TSS_GPA)))
		return ret;
	if ((ret = map_guest_memory(m)))
		return ret;
	if ((ret = kvm_supported_cpuid(&m->sys, &m->cpuid)))
		return ret;
	if (cfg->snapshots)
		m->sync_regs = kvm_check_extension(&m->vm, KVM_CAP_SYNC_REGS);
	if (m->sync_regs < 0)
		m->sync_regs = 0;
	m->nvcpus = cfg->vcpus;
	for (unsigned i = 0; i < cfg->vcpus; i++)
		if ((ret = create_vcpu(m, i)))
			return ret;
	return 0;
}

int kt_machine_load(struct kt_machine *m, const void *image, size_t size)
{
	if (size > m->cfg.mem_bytes)
		return kt_fail(-EFBIG, "guest image (%zu bytes) is larger than guest RAM",
			       size);
	return kt_memslots_write(&m->mem, GUEST_LOAD_GPA, image, size);
}

void kt_machine_end(struct kt_machine *m, enum kt_end_reason reason,
		    int status, unsigned vcpu, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&m->lock);
	if (!m->outcome_set) {
		m->outcome_set = true;
		m->outcome.reason = reason;
		m->outcome.status = status;
		m->outcome.vcpu = vcpu;
		va_start(ap, fmt);
		vsnprintf(m->outcome.detail, sizeof(m->outcome.detail), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&m->lock);
	atomic_store(&m->stopping, true);
	/* immediate_exit covers a vCPU that is about to enter KVM_RUN when the
	 * kick lands; the kick covers one already inside. */
	for (unsigned i = 0; i < m->nvcpus; i++) {
		m->vcpu[i].h.run->immediate_exit = 1;
		if (m->vcpu[i].thread_started)
			kt_kick(m->vcpu[i].thread);
	}
}

void kt_machine_close(struct kt_machine *m)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		kvm_close_handle(&m->vcpu[i].h);
	kt_memslots_unmap(&m->mem);
	free(m->cpuid);
	m->cpuid = NULL;
	kvm_close_handle(&m->vm);
	kvm_close_handle(&m->sys);
	pthread_mutex_destroy(&m->lock);
}
