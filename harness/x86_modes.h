/* x86 CPU state for each guest mode: page tables, GDT, segments, control
 * registers.  Pure functions over buffers and structs, so they are unit
 * tested without KVM. */
#ifndef KVMTRACE_X86_MODES_H
#define KVMTRACE_X86_MODES_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "common/kt_types.h"

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)

#define X86_PTE_P  (1ull << 0)
#define X86_PTE_RW (1ull << 1)
#define X86_PTE_US (1ull << 2)
#define X86_PTE_PS (1ull << 7)

struct x86_mode_ops {
	const char *name;
	/* Fill the table slot image (GUEST_PT_SIZE bytes); returns bytes used. */
	size_t (*build_tables)(uint8_t *slot, uint64_t slot_gpa);
	void (*setup_sregs)(struct kvm_sregs *s, uint64_t slot_gpa);
};

const struct x86_mode_ops *x86_mode_ops(enum kt_mode mode);
int x86_mode_from_name(const char *name, enum kt_mode *mode);
const char *x86_mode_name(enum kt_mode mode);

/* RIP, RSP, RFLAGS and the vCPU-index registers of the guest ABI. */
void x86_setup_regs(struct kvm_regs *r, unsigned index, unsigned nvcpus,
		    uint64_t guest_arg);

/* Give vCPU `index` its own APIC ID in the CPUID leaves that report it. */
void x86_cpuid_set_apic_id(struct kvm_cpuid2 *c, unsigned index);

#endif
