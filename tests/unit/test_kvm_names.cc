// Names of linux/kvm.h's numbers: every ioctl and exit reason the header
// names resolves to its number and back; capabilities are listed once each.
#include <gtest/gtest.h>

#include <linux/kvm.h>

#include <map>
#include <set>
#include <string>

extern "C" {
#include "common/kvm_names.h"
}

namespace {

// The generated table, for its list of names.  Its values are not used:
// C++ sizes the uapi flexible arrays differently, so the numbers of
// KVM_SET_CPUID2, KVM_GET_MSRS... differ from the C library's.
struct kt_name {
	unsigned long value;
	const char *name;
};
#include "common/kvm_names_table.h"

TEST(KvmNames, EveryIoctlResolvesToItsNumberAndBack)
{
	std::map<std::string, std::string> aliases;
	for (const auto &e : kvm_ioctl_table) {
		long v = kvm_ioctl_by_name(e.name);
		ASSERT_NE(v, -1) << e.name;
		const char *back = kvm_ioctl_name((unsigned long)v);
		ASSERT_NE(back, nullptr) << e.name;
		EXPECT_EQ(kvm_ioctl_by_name(back), v) << e.name;
		if (std::string(back) != e.name)
			aliases[e.name] = back;
	}
	EXPECT_GT(sizeof(kvm_ioctl_table) / sizeof(kvm_ioctl_table[0]), 130u);  // 140 in 6.1
#if defined(KVM_ARM_SET_DEVICE_ADDR) && defined(KVM_GET_ONE_REG)
	// The one number two names share in 6.1: the generic name wins.
	std::map<std::string, std::string> want = {{"KVM_ARM_SET_DEVICE_ADDR", "KVM_GET_ONE_REG"}};
	EXPECT_EQ(aliases, want);
	EXPECT_STREQ(kvm_ioctl_name(KVM_ARM_SET_DEVICE_ADDR), "KVM_GET_ONE_REG");
#endif
}

TEST(KvmNames, KnownIoctls)
{
	EXPECT_STREQ(kvm_ioctl_name(KVM_RUN), "KVM_RUN");
	EXPECT_STREQ(kvm_ioctl_name(KVM_GET_SREGS), "KVM_GET_SREGS");
	EXPECT_STREQ(kvm_ioctl_name(KVM_CHECK_EXTENSION), "KVM_CHECK_EXTENSION");
	EXPECT_STREQ(kvm_ioctl_name(KVM_SET_USER_MEMORY_REGION), "KVM_SET_USER_MEMORY_REGION");
	EXPECT_EQ(kvm_ioctl_by_name("KVM_CREATE_VCPU"), (long)KVM_CREATE_VCPU);
	// x86 requests from asm/kvm.h, with the C sizes of their structs.
	long set_cpuid2 = kvm_ioctl_by_name("KVM_SET_CPUID2");
	EXPECT_EQ(_IOC_NR(set_cpuid2), 0x90u);
	EXPECT_EQ(_IOC_SIZE(set_cpuid2), 8u);
	EXPECT_EQ(_IOC_DIR(set_cpuid2), (unsigned)_IOC_WRITE);
	long get_msrs = kvm_ioctl_by_name("KVM_GET_MSRS");
	EXPECT_EQ(_IOC_NR(get_msrs), 0x88u);
	EXPECT_EQ(_IOC_SIZE(get_msrs), 8u);
	EXPECT_STREQ(kvm_ioctl_name((unsigned long)get_msrs), "KVM_GET_MSRS");
	EXPECT_EQ(kvm_ioctl_name(0xdeadbeef), nullptr);
	EXPECT_EQ(kvm_ioctl_by_name("KVM_NO_SUCH_IOCTL"), -1);
}

TEST(KvmNames, ExitReasons)
{
	for (const auto &e : kvm_exit_table)
		EXPECT_STREQ(kvm_exit_reason_name((uint32_t)kvm_exit_reason_by_name(e.name)), e.name);
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_IO), "IO");
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_HLT), "HLT");
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_UNKNOWN), "UNKNOWN");
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_X86_WRMSR), "X86_WRMSR");
	// Sub-codes that share numbers with exit reasons are not exit reasons.
	EXPECT_STREQ(kvm_exit_reason_name(1), "EXCEPTION");
	EXPECT_EQ(kvm_exit_reason_by_name("IO_OUT"), -1);
	EXPECT_EQ(kvm_exit_reason_by_name("HYPERV_SYNIC"), -1);
	EXPECT_EQ(kvm_exit_reason_by_name("MMIO"), KVM_EXIT_MMIO);
	EXPECT_EQ(kvm_exit_reason_name(1000), nullptr);
}

TEST(KvmNames, SuberrorsAndSystemEvents)
{
	EXPECT_STREQ(kvm_internal_error_name(KVM_INTERNAL_ERROR_EMULATION), "EMULATION");
	EXPECT_STREQ(kvm_internal_error_name(KVM_INTERNAL_ERROR_DELIVERY_EV), "DELIVERY_EV");
	EXPECT_EQ(kvm_internal_error_name(0), nullptr);
	EXPECT_STREQ(kvm_system_event_name(KVM_SYSTEM_EVENT_SHUTDOWN), "SHUTDOWN");
	EXPECT_STREQ(kvm_system_event_name(KVM_SYSTEM_EVENT_RESET), "RESET");
	EXPECT_STREQ(kvm_system_event_name(KVM_SYSTEM_EVENT_CRASH), "CRASH");
	EXPECT_EQ(kvm_system_event_name(0), nullptr);
}

TEST(KvmNames, CapabilitiesAreListedOnceInOrder)
{
	size_t n = kvm_cap_count();
	ASSERT_GT(n, 200u);  // 218 in 6.1
	EXPECT_EQ(kvm_cap_at(0), (uint32_t)KVM_CAP_IRQCHIP);
	std::set<uint32_t> listed;
	for (size_t i = 0; i < n; i++) {
		if (i) {
			EXPECT_LT(kvm_cap_at(i - 1), kvm_cap_at(i)) << i;
		}
		EXPECT_NE(kvm_cap_name(kvm_cap_at(i)), nullptr) << kvm_cap_at(i);
		listed.insert(kvm_cap_at(i));
	}
	// Whatever has a name is listed, so recording "all" misses none.
	for (uint32_t v = 0; v <= kvm_cap_at(n - 1) + 16; v++)
		EXPECT_EQ(kvm_cap_name(v) != nullptr, listed.count(v) == 1) << v;
	for (uint32_t cap : {KVM_CAP_SYNC_REGS, KVM_CAP_NR_VCPUS, KVM_CAP_USER_MEMORY,
			     KVM_CAP_EXT_CPUID, KVM_CAP_X86_USER_SPACE_MSR})
		EXPECT_EQ(listed.count(cap), 1u) << cap;
	EXPECT_STREQ(kvm_cap_name(KVM_CAP_SYNC_REGS), "KVM_CAP_SYNC_REGS");
	EXPECT_EQ(kvm_cap_name(100000), nullptr);
}

}  // namespace
