#include "harness/x86_modes.h"

#include <string.h>

#include "harness/guest_abi.h"

#define GDT_ENTRIES 4

/* Flat descriptors: base 0, limit 4 GiB, granularity 4 KiB. */
static const uint64_t gdt_image[GDT_ENTRIES] = {
	0,
	0x00af9b000000ffffull, /* GUEST_SEL_CODE64: L=1, execute/read */
	0x00cf93000000ffffull, /* GUEST_SEL_DATA: read/write, D/B=1 */
	0x00cf9b000000ffffull, /* GUEST_SEL_CODE32: D/B=1, execute/read */
};

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static size_t build_gdt(uint8_t *slot)
{
	memcpy(slot + GUEST_GDT_OFF, gdt_image, sizeof(gdt_image));
	return GUEST_GDT_OFF + sizeof(gdt_image);
}

/* Identity map of the low 4 GiB with 2 MiB pages: one PML4 entry, four
 * PDPT entries, four full page directories. */
static size_t build_long_tables(uint8_t *slot, uint64_t gpa)
{
	const uint64_t flags = X86_PTE_P | X86_PTE_RW | X86_PTE_US;

	put_u64(slot + GUEST_PML4_OFF, (gpa + GUEST_PDPT_OFF) | flags);
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pd = GUEST_PD_OFF + i * 0x1000;

		put_u64(slot + GUEST_PDPT_OFF + i * 8, (gpa + pd) | flags);
		for (uint64_t j = 0; j < 512; j++)
			put_u64(slot + pd + j * 8,
				((i * 512 + j) << 21) | flags | X86_PTE_PS);
	}
	return build_gdt(slot);
}

/* One 4 MiB PSE page mapping 0..4 MiB, as kvm-hello-world's -p mode. */
static size_t build_paged32_tables(uint8_t *slot, uint64_t gpa)
{
	uint32_t pde = X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_PS;

	(void)gpa;
	memcpy(slot + GUEST_PML4_OFF, &pde, sizeof(pde));
	return build_gdt(slot);
}

static size_t build_gdt_only(uint8_t *slot, uint64_t gpa)
{
	(void)gpa;
	return build_gdt(slot);
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type,
			 int l, int db)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = (uint8_t)db, .s = 1,
		.l = (uint8_t)l, .g = 1,
	};
}

static void flat_segments(struct kvm_sregs *s, uint64_t gpa, uint16_t cs_sel,
			  int l)
{
	flat_segment(&s->cs, cs_sel, 11, l, !l);
	flat_segment(&s->ds, GUEST_SEL_DATA, 3, 0, 1);
	s->es = s->fs = s->gs = s->ss = s->ds;
	s->gdt.base = gpa + GUEST_GDT_OFF;
	s->gdt.limit = GDT_ENTRIES * 8 - 1;
}

static void setup_long(struct kvm_sregs *s, uint64_t gpa)
{
	flat_segments(s, gpa, GUEST_SEL_CODE64, 1);
	s->cr3 = gpa + GUEST_PML4_OFF;
	s->cr4 = X86_CR4_PAE;
	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		 X86_CR0_WP | X86_CR0_AM | X86_CR0_PG;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
}

static void setup_protected(struct kvm_sregs *s, uint64_t gpa)
{
	flat_segments(s, gpa, GUEST_SEL_CODE32, 0);
	s->cr0 |= X86_CR0_PE;
}

static void setup_paged32(struct kvm_sregs *s, uint64_t gpa)
{
	setup_protected(s, gpa);
	s->cr3 = gpa + GUEST_PML4_OFF;
	s->cr4 |= X86_CR4_PSE;
	s->cr0 |= X86_CR0_PG;
}

/* Real mode keeps the reset state but for CS, moved from the reset vector
 * to base 0 so that execution starts at the image's first byte. */
static void setup_real(struct kvm_sregs *s, uint64_t gpa)
{
	(void)gpa;
	s->cs.selector = 0;
	s->cs.base = 0;
}

static const struct x86_mode_ops modes[] = {
	[KT_MODE_LONG] = { "long", build_long_tables, setup_long },
	[KT_MODE_REAL] = { "real", build_gdt_only, setup_real },
	[KT_MODE_PROTECTED] = { "protected", build_gdt_only, setup_protected },
	[KT_MODE_PAGED32] = { "paged32", build_paged32_tables, setup_paged32 },
};

#define NMODES (sizeof(modes) / sizeof(modes[0]))

const struct x86_mode_ops *x86_mode_ops(enum kt_mode mode)
{
	return (unsigned)mode < NMODES ? &modes[mode] : NULL;
}

int x86_mode_from_name(const char *name, enum kt_mode *mode)
{
	for (unsigned i = 0; i < NMODES; i++)
		if (strcmp(modes[i].name, name) == 0) {
			*mode = (enum kt_mode)i;
			return 0;
		}
	return -1;
}

const char *x86_mode_name(enum kt_mode mode)
{
	const struct x86_mode_ops *ops = x86_mode_ops(mode);

	return ops ? ops->name : "unknown";
}

void x86_setup_regs(struct kvm_regs *r, unsigned index, unsigned nvcpus,
		    uint64_t guest_arg)
{
	*r = (struct kvm_regs){
		.rip = GUEST_ENTRY_RIP,
		.rsp = GUEST_STACK_TOP - index * GUEST_STACK_PER_VCPU,
		.rflags = 0x2, /* bit 1 is reserved and always set */
		.rdi = index,
		.rsi = nvcpus,
		.rdx = guest_arg,
	};
}

void x86_cpuid_set_apic_id(struct kvm_cpuid2 *c, unsigned index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (index << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = index;
	}
}
