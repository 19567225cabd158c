/* Building the VM: the seed flow from open("/dev/kvm") to the loaded guest. */
#include "harness/machine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness/error.h"
#include "harness/kvm_system.h"
#include "harness/x86_modes.h"

#define SLOT_RAM 0
#define SLOT_TABLES 1

static void *map_anonymous(uint64_t size, const char *what)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		kt_fail(-errno, "mmap of %s (%llu bytes): %s", what,
			(unsigned long long)size, strerror(errno));
		return NULL;
	}
	return p;
}

static int map_guest_memory(struct kt_machine *m)
{
	int ret;

	m->ram = map_anonymous(m->cfg.mem_bytes, "guest RAM");
	if (!m->ram)
		return -ENOMEM;
	ret = kvm_set_memory_region(&m->vm, SLOT_RAM, GUEST_LOAD_GPA,
				    m->cfg.mem_bytes, m->ram);
	if (ret)
		return ret;
	m->tables = map_anonymous(GUEST_PT_SIZE, "page-table slot");
	if (!m->tables)
		return -ENOMEM;
	return kvm_set_memory_region(&m->vm, SLOT_TABLES, GUEST_PT_GPA,
				     GUEST_PT_SIZE, m->tables);
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
	if (ret < 0)
		return kt_fail((int)ret, "KVM_SET_CPUID2 on vCPU %u: %s",
			       v->h.vcpu_index, strerror((int)-ret));
	return 0;
}

static int vcpu_set_state(struct kt_machine *m, struct kt_vcpu *v)
{
	const struct x86_mode_ops *ops = x86_mode_ops(m->cfg.mode);
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	long ret;

	ret = kvm_ioctl(&v->h, KVM_GET_SREGS, &sregs);
	if (ret < 0)
		return kt_fail((int)ret, "KVM_GET_SREGS on vCPU %u: %s",
			       v->h.vcpu_index, strerror((int)-ret));
	ops->setup_sregs(&sregs, GUEST_PT_GPA);
	ret = kvm_ioctl(&v->h, KVM_SET_SREGS, &sregs);
	if (ret < 0)
		return kt_fail((int)ret, "KVM_SET_SREGS on vCPU %u (%s mode): %s",
			       v->h.vcpu_index, ops->name, strerror((int)-ret));
	x86_setup_regs(&regs, v->h.vcpu_index, m->nvcpus, m->cfg.guest_arg);
	ret = kvm_ioctl(&v->h, KVM_SET_REGS, &regs);
	if (ret < 0)
		return kt_fail((int)ret, "KVM_SET_REGS on vCPU %u: %s",
			       v->h.vcpu_index, strerror((int)-ret));
	return 0;
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
		ret = kt_guest_write(m, GUEST_PT_GPA, slot, used);
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
	pthread_mutex_init(&m->lock, NULL);
	m->no_kvm = true;
	if ((ret = kvm_open_system(&m->sys, cfg->kvm_path ? cfg->kvm_path : "/dev/kvm")))
		return ret;
	if ((ret = kvm_check_api_version(&m->sys, &m->api_version)))
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
	return kt_guest_write(m, GUEST_LOAD_GPA, image, size);
}

void *kt_guest_ptr(struct kt_machine *m, uint64_t gpa, size_t len)
{
	if (gpa + len >= gpa && gpa + len <= m->cfg.mem_bytes)
		return m->ram + gpa;
	if (gpa >= GUEST_PT_GPA && gpa + len <= GUEST_PT_GPA + GUEST_PT_SIZE)
		return m->tables + (gpa - GUEST_PT_GPA);
	return NULL;
}

int kt_guest_write(struct kt_machine *m, uint64_t gpa, const void *src, size_t len)
{
	void *dst = kt_guest_ptr(m, gpa, len);

	if (!dst)
		return kt_fail(-EFAULT, "guest write of %zu bytes at GPA 0x%llx is "
			       "outside guest memory", len, (unsigned long long)gpa);
	memcpy(dst, src, len);
	kvm_note_mem_write(gpa, src, len);
	return 0;
}

void kt_machine_close(struct kt_machine *m)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		if (m->vcpu[i].h.run || m->vcpu[i].h.fd > 0)
			kvm_close_handle(&m->vcpu[i].h);
	if (m->ram)
		munmap(m->ram, m->cfg.mem_bytes);
	if (m->tables)
		munmap(m->tables, GUEST_PT_SIZE);
	free(m->cpuid);
	kvm_close_handle(&m->vm);
	kvm_close_handle(&m->sys);
	pthread_mutex_destroy(&m->lock);
	m->ram = m->tables = NULL;
	m->cpuid = NULL;
}
