// Page tables, GDT and segment setup for each guest mode, without KVM.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

extern "C" {
#include "harness/guest_abi.h"
#include "harness/x86_modes.h"
}

namespace {

uint64_t u64_at(const std::vector<uint8_t> &slot, size_t off)
{
	uint64_t v;
	memcpy(&v, slot.data() + off, sizeof(v));
	return v;
}

std::vector<uint8_t> tables_for(enum kt_mode mode)
{
	std::vector<uint8_t> slot(GUEST_PT_SIZE);
	size_t used = x86_mode_ops(mode)->build_tables(slot.data(), GUEST_PT_GPA);
	EXPECT_LE(used, GUEST_PT_SIZE);
	return slot;
}

// Walk the long-mode tables as the MMU would, for a 2 MiB page.
uint64_t translate_long(const std::vector<uint8_t> &slot, uint64_t va)
{
	uint64_t pml4e = u64_at(slot, GUEST_PML4_OFF + ((va >> 39) & 511) * 8);
	if (!(pml4e & X86_PTE_P))
		return ~0ull;
	uint64_t pdpt = (pml4e & ~0xfffull) - GUEST_PT_GPA;
	uint64_t pdpte = u64_at(slot, pdpt + ((va >> 30) & 511) * 8);
	if (!(pdpte & X86_PTE_P))
		return ~0ull;
	uint64_t pd = (pdpte & ~0xfffull) - GUEST_PT_GPA;
	uint64_t pde = u64_at(slot, pd + ((va >> 21) & 511) * 8);
	if (!(pde & X86_PTE_P) || !(pde & X86_PTE_PS))
		return ~0ull;
	return (pde & ~0x1fffffull) + (va & 0x1fffff);
}

TEST(LongModeTables, IdentityMapsTheLowFourGiB)
{
	auto slot = tables_for(KT_MODE_LONG);
	for (uint64_t va : {0x0ull, 0x400ull, 0x1fffffull, 0x200000ull, 0x10000000ull,
			    GUEST_PT_GPA, GUEST_TSS_GPA, 0xffffffffull})
		EXPECT_EQ(translate_long(slot, va), va) << std::hex << va;
}

TEST(LongModeTables, MapNothingAboveFourGiB)
{
	auto slot = tables_for(KT_MODE_LONG);
	EXPECT_EQ(translate_long(slot, 0x100000000ull), ~0ull);
}

TEST(LongModeTables, FitInTheirSlotBeforeTheGdt)
{
	EXPECT_LE(GUEST_PD_OFF + 4 * 0x1000, GUEST_GDT_OFF);
	auto slot = tables_for(KT_MODE_LONG);
	EXPECT_EQ(u64_at(slot, GUEST_GDT_OFF), 0u);  // the null descriptor
}

TEST(LongModeSregs, EnableLongModeWithA64BitCodeSegment)
{
	struct kvm_sregs s = {};
	x86_mode_ops(KT_MODE_LONG)->setup_sregs(&s, GUEST_PT_GPA);
	EXPECT_EQ(s.cr0, 0x80050033ull);  // PE MP ET NE WP AM PG
	EXPECT_EQ(s.cr3, GUEST_PT_GPA + GUEST_PML4_OFF);
	EXPECT_TRUE(s.cr4 & X86_CR4_PAE);
	EXPECT_EQ(s.efer, X86_EFER_LME | X86_EFER_LMA);
	EXPECT_EQ(s.cs.selector, GUEST_SEL_CODE64);
	EXPECT_EQ(s.cs.l, 1);
	EXPECT_EQ(s.cs.db, 0);  // L=1 requires D=0
	EXPECT_EQ(s.cs.type, 11);
	EXPECT_EQ(s.ds.selector, GUEST_SEL_DATA);
	EXPECT_EQ(s.ss.selector, GUEST_SEL_DATA);
	EXPECT_EQ(s.gdt.base, GUEST_PT_GPA + GUEST_GDT_OFF);
}

// The descriptor in the GDT must agree with the cached segment KVM is given.
TEST(LongModeSregs, GdtDescriptorsMatchTheSegments)
{
	auto slot = tables_for(KT_MODE_LONG);
	uint64_t code = u64_at(slot, GUEST_GDT_OFF + GUEST_SEL_CODE64);
	EXPECT_EQ((code >> 53) & 1, 1u);  // L
	EXPECT_EQ((code >> 47) & 1, 1u);  // P
	EXPECT_EQ((code >> 40) & 0xf, 11u);
	uint64_t data = u64_at(slot, GUEST_GDT_OFF + GUEST_SEL_DATA);
	EXPECT_EQ((data >> 40) & 0xf, 3u);
}

TEST(ProtectedSregs, FlatThirtyTwoBitWithoutPaging)
{
	struct kvm_sregs s = {};
	x86_mode_ops(KT_MODE_PROTECTED)->setup_sregs(&s, GUEST_PT_GPA);
	EXPECT_EQ(s.cr0 & X86_CR0_PE, X86_CR0_PE);
	EXPECT_EQ(s.cr0 & X86_CR0_PG, 0u);
	EXPECT_EQ(s.cs.selector, GUEST_SEL_CODE32);
	EXPECT_EQ(s.cs.db, 1);
	EXPECT_EQ(s.cs.l, 0);
	EXPECT_EQ(s.cs.limit, 0xffffffffu);
	EXPECT_EQ(s.efer, 0u);
}

TEST(Paged32, OneFourMiBPsePageIdentityMapsLowMemory)
{
	auto slot = tables_for(KT_MODE_PAGED32);
	uint32_t pde;
	memcpy(&pde, slot.data() + GUEST_PML4_OFF, sizeof(pde));
	EXPECT_EQ(pde & 0xffc00000u, 0u);
	EXPECT_TRUE(pde & X86_PTE_PS);
	EXPECT_TRUE(pde & X86_PTE_P);
	struct kvm_sregs s = {};
	x86_mode_ops(KT_MODE_PAGED32)->setup_sregs(&s, GUEST_PT_GPA);
	EXPECT_TRUE(s.cr0 & X86_CR0_PG);
	EXPECT_TRUE(s.cr4 & X86_CR4_PSE);
	EXPECT_FALSE(s.cr4 & X86_CR4_PAE);
	EXPECT_EQ(s.cr3, GUEST_PT_GPA + GUEST_PML4_OFF);
}

TEST(RealMode, StartsAtTheImageNotTheResetVector)
{
	struct kvm_sregs s = {};
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	x86_mode_ops(KT_MODE_REAL)->setup_sregs(&s, GUEST_PT_GPA);
	EXPECT_EQ(s.cs.selector, 0);
	EXPECT_EQ(s.cs.base, 0u);
	EXPECT_EQ(s.cr0 & X86_CR0_PE, 0u);
}

TEST(Regs, EntryStackAndArgumentsPerVcpu)
{
	struct kvm_regs r;
	x86_setup_regs(&r, 3, 4, 77);
	EXPECT_EQ(r.rip, GUEST_ENTRY_RIP);
	EXPECT_EQ(r.rsp, GUEST_STACK_TOP - 3 * GUEST_STACK_PER_VCPU);
	EXPECT_EQ(r.rdi, 3u);
	EXPECT_EQ(r.rsi, 4u);
	EXPECT_EQ(r.rdx, 77u);
	EXPECT_EQ(r.rflags, 2u);
}

TEST(Modes, NamesRoundTrip)
{
	for (auto name : {"long", "real", "protected", "paged32"}) {
		enum kt_mode m;
		ASSERT_EQ(x86_mode_from_name(name, &m), 0) << name;
		EXPECT_STREQ(x86_mode_name(m), name);
	}
	enum kt_mode m;
	EXPECT_NE(x86_mode_from_name("vm86", &m), 0);
}

// Built by hand: in C++ the uapi flexible-array macro moves `entries` to
// offset 12, while the C code (and the kernel) put it at 8.
TEST(Cpuid, EachVcpuGetsItsOwnApicId)
{
	const size_t entries_off = 8;
	alignas(8) uint8_t buf[entries_off + 2 * sizeof(struct kvm_cpuid_entry2)] = {};
	auto *e = reinterpret_cast<struct kvm_cpuid_entry2 *>(buf + entries_off);
	uint32_t nent = 2;
	memcpy(buf, &nent, sizeof(nent));
	e[0].function = 1;
	e[0].ebx = 0xff123456;
	e[1].function = 0xb;
	x86_cpuid_set_apic_id(reinterpret_cast<struct kvm_cpuid2 *>(buf), 5);
	EXPECT_EQ(e[0].ebx, 0x05123456u);
	EXPECT_EQ(e[1].edx, 5u);
}

}  // namespace
