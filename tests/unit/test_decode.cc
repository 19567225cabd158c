// Names and decoders: the same struct decoded into text, JSON and flat
// (path, value) sinks, against known values.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "recorder/decode.h"
#include "recorder/kvm_names.h"
}

namespace {

struct Sink {
	struct kt_sink s;
	explicit Sink(void (*init)(struct kt_sink *)) { init(&s); }
	~Sink() { kt_sink_free(&s); }
	std::string str() { return kt_sink_str(&s); }
	std::map<std::string, std::string> flat()
	{
		std::vector<struct kt_field> f(kt_sink_nfields(&s));
		kt_sink_fields(&s, f.data(), f.size());
		std::map<std::string, std::string> m;
		for (auto &x : f)
			m[x.path] = x.value;
		return m;
	}
};

struct kvm_sregs long_mode_sregs()
{
	struct kvm_sregs r = {};
	r.cr0 = 0x80050033;
	r.cr4 = 0x20;
	r.efer = 0x500;
	r.cr3 = 0xffe00000;
	r.cs.selector = 8;
	r.cs.l = 1;
	r.apic_base = 0xfee00900;
	return r;
}

TEST(Names, IoctlsExitsAndCapsResolveBothWays)
{
	EXPECT_STREQ(kvm_ioctl_name(KVM_RUN), "KVM_RUN");
	EXPECT_STREQ(kvm_ioctl_name(KVM_SET_USER_MEMORY_REGION), "KVM_SET_USER_MEMORY_REGION");
	// KVM_SET_CPUID2's number encodes sizeof(struct kvm_cpuid2), which C++
	// computes differently from C (the uapi flexible array); check the C one.
	long set_cpuid2 = kvm_ioctl_by_name("KVM_SET_CPUID2");
	EXPECT_EQ(_IOC_NR(set_cpuid2), 0x90u);
	EXPECT_EQ(_IOC_SIZE(set_cpuid2), 8u);
	EXPECT_STREQ(kvm_ioctl_name(set_cpuid2), "KVM_SET_CPUID2");
	EXPECT_EQ(kvm_ioctl_by_name("KVM_GET_SREGS"), (long)KVM_GET_SREGS);
	EXPECT_EQ(kvm_ioctl_name(0xdeadbeef), nullptr);
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_IO), "IO");
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_HLT), "HLT");
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_SHUTDOWN), "SHUTDOWN");
	EXPECT_STREQ(kvm_exit_reason_name(KVM_EXIT_INTERNAL_ERROR), "INTERNAL_ERROR");
	EXPECT_EQ(kvm_exit_reason_by_name("MMIO"), KVM_EXIT_MMIO);
	EXPECT_STREQ(kvm_cap_name(KVM_CAP_SYNC_REGS), "KVM_CAP_SYNC_REGS");
	EXPECT_STREQ(kvm_internal_error_name(KVM_INTERNAL_ERROR_EMULATION), "EMULATION");
	EXPECT_STREQ(kvm_system_event_name(KVM_SYSTEM_EVENT_SHUTDOWN), "SHUTDOWN");
}

TEST(Names, EveryIoctlTheRunLoopUsesHasAName)
{
	for (unsigned long req : std::initializer_list<unsigned long>{
		     KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_SET_TSS_ADDR,
				  KVM_CREATE_VCPU, KVM_GET_VCPU_MMAP_SIZE, KVM_GET_REGS,
				  KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
				  KVM_CHECK_EXTENSION})
		EXPECT_NE(kvm_ioctl_name(req), nullptr) << std::hex << req;
}

TEST(Names, CapabilitiesAreDistinctAndMany)
{
	size_t n = kvm_cap_count();
	EXPECT_GT(n, 150u);  // linux/kvm.h of 6.1 names about 220
	std::map<uint32_t, int> seen;
	for (size_t i = 0; i < n; i++)
		EXPECT_EQ(seen[kvm_cap_at(i)]++, 0) << kvm_cap_at(i);
	EXPECT_EQ(seen.count(KVM_CAP_SYNC_REGS), 1u);
	EXPECT_EQ(seen.count(KVM_CAP_NR_VCPUS), 1u);
}

TEST(DecodeSregs, ControlRegistersWithTheirFlagNames)
{
	auto r = long_mode_sregs();
	Sink t(kt_sink_text);
	decode_sregs(&t.s, "sregs", &r, sizeof(r));
	auto text = t.str();
	EXPECT_NE(text.find("cr0=0x80050033 [PE MP ET NE WP AM PG]"), std::string::npos) << text;
	EXPECT_NE(text.find("cr4=0x20 [PAE]"), std::string::npos);
	EXPECT_NE(text.find("efer=0x500 [LME LMA]"), std::string::npos);
	EXPECT_NE(text.find("cs={base=0x0, limit=0x0, selector=0x8"), std::string::npos) << text;

	Sink f(kt_sink_flat);
	decode_sregs(&f.s, "sregs", &r, sizeof(r));
	auto m = f.flat();
	EXPECT_EQ(m["sregs.cr0"], "0x80050033");
	EXPECT_EQ(m["sregs.cs.l"], "1");
	EXPECT_EQ(m["sregs.apic_base"], "0xfee00900");
	EXPECT_EQ(m["sregs.gdt.base"], "0x0");
}

TEST(DecodeSregs, JsonCarriesValuesAndNames)
{
	auto r = long_mode_sregs();
	Sink j(kt_sink_json);
	decode_sregs(&j.s, "sregs", &r, sizeof(r));
	auto json = j.str();
	EXPECT_EQ(json.rfind("\"sregs\": {\"cr0\": 2147811379, \"cr0_name\": \"PE MP ET NE WP AM PG\"", 0), 0u)
		<< json;
	EXPECT_EQ(json.back(), '}');
}

TEST(DecodeShort, AShortBufferIsAnErrorFieldNotAnOverread)
{
	auto r = long_mode_sregs();
	Sink f(kt_sink_flat);
	decode_sregs(&f.s, "sregs", &r, sizeof(r) - 1);
	EXPECT_EQ(f.flat()["sregs.error"], "short buffer");
	Sink g(kt_sink_flat);
	struct kvm_regs regs = {};
	decode_regs(&g.s, "regs", &regs, 20);
	auto m = g.flat();
	EXPECT_EQ(m["regs.rax"], "0x0");
	EXPECT_EQ(m["regs.error"], "short buffer");
	EXPECT_EQ(m.count("regs.rdx"), 0u);
}

std::vector<uint8_t> io_out_exit(uint16_t port, char byte)
{
	std::vector<uint8_t> out(sizeof(struct kt_run_out) + 1, 0);
	struct kvm_run run;
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_IO;
	run.io.direction = KVM_EXIT_IO_OUT;
	run.io.size = 1;
	run.io.port = port;
	run.io.count = 1;
	run.io.data_offset = 4096;
	memcpy(out.data(), &run, sizeof(struct kt_run_out));
	out.back() = (uint8_t)byte;
	return out;
}

TEST(DecodeRun, IoExitRendersEveryFieldNamed)
{
	auto out = io_out_exit(0xe9, 'H');
	Sink t(kt_sink_text);
	decode_exit_payload(&t.s, out.data(), out.size());
	EXPECT_EQ(t.str(), " direction=out port=0xe9 size=1 count=1 data=\"H\"");

	Sink f(kt_sink_flat);
	decode_run_exit(&f.s, "exit", out.data(), out.size());
	auto m = f.flat();
	EXPECT_EQ(m["exit.reason"], "IO");
	EXPECT_EQ(m["exit.io.port"], "0xe9");
	EXPECT_EQ(m["exit.io.data"], "\"H\"");
	EXPECT_EQ(m["exit.io.direction"], "out");
}

TEST(DecodeRun, MmioAndShutdownExits)
{
	struct kvm_run run;
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_MMIO;
	run.mmio.phys_addr = 0x10000000;
	run.mmio.len = 4;
	run.mmio.is_write = 1;
	memcpy(run.mmio.data, "\x01\x02\x03\x04", 4);
	std::vector<uint8_t> out(sizeof(struct kt_run_out));
	memcpy(out.data(), &run, out.size());
	Sink f(kt_sink_flat);
	decode_run_exit(&f.s, "exit", out.data(), out.size());
	auto m = f.flat();
	EXPECT_EQ(m["exit.reason"], "MMIO");
	EXPECT_EQ(m["exit.mmio.phys_addr"], "0x10000000");
	EXPECT_EQ(m["exit.mmio.data"], "\"\\x01\\x02\\x03\\x04\"");

	run.exit_reason = KVM_EXIT_SHUTDOWN;
	memcpy(out.data(), &run, out.size());
	Sink g(kt_sink_flat);
	decode_run_exit(&g.s, "exit", out.data(), out.size());
	EXPECT_EQ(g.flat()["exit.reason"], "SHUTDOWN");
}

TEST(DecodeIoctl, IntegerArgumentsByRequest)
{
	uint64_t cap = KVM_CAP_SYNC_REGS, tss = 0xfffbd000;
	Sink t(kt_sink_text);
	decode_ioctl_args(&t.s, KVM_CHECK_EXTENSION, (const uint8_t *)&cap, 8, nullptr, 0);
	decode_ioctl_args(&t.s, KVM_SET_TSS_ADDR, (const uint8_t *)&tss, 8, nullptr, 0);
	EXPECT_EQ(t.str(), " cap=KVM_CAP_SYNC_REGS addr=0xfffbd000");
}

TEST(DecodeIoctl, MemoryRegion)
{
	struct kvm_userspace_memory_region r = {};
	r.slot = 1;
	r.guest_phys_addr = 0xffe00000;
	r.memory_size = 0x10000;
	r.userspace_addr = 0x7f0000000000;
	Sink f(kt_sink_flat);
	decode_ioctl_args(&f.s, KVM_SET_USER_MEMORY_REGION, (const uint8_t *)&r, sizeof(r),
			  nullptr, 0);
	auto m = f.flat();
	EXPECT_EQ(m["region.slot"], "1");
	EXPECT_EQ(m["region.guest_phys_addr"], "0xffe00000");
	EXPECT_EQ(m["region.userspace_addr"], "0x7f0000000000");
}

// kvm_cpuid2 is built by hand: C++ sees the uapi flexible array at another
// offset than C does (see test_x86_modes.cc).
TEST(DecodeCpuid, EntriesKeyedByLeafWithTheApicIdApart)
{
	const size_t head = 8;
	std::vector<uint8_t> buf(head + 2 * sizeof(struct kvm_cpuid_entry2), 0);
	uint32_t nent = 2;
	memcpy(buf.data(), &nent, 4);
	auto *e = reinterpret_cast<struct kvm_cpuid_entry2 *>(buf.data() + head);
	e[0].function = 0;
	e[0].ebx = 0x68747541;  // "Auth"
	e[1].function = 1;
	e[1].ebx = 0x05020800;
	Sink f(kt_sink_flat);
	decode_cpuid2(&f.s, "cpuid", buf.data(), buf.size());
	auto m = f.flat();
	EXPECT_EQ(m["cpuid.nent"], "2");
	EXPECT_EQ(m["cpuid.0x00000000.0.ebx"], "0x68747541");
	EXPECT_EQ(m["cpuid.0x00000001.0.apic_id"], "5");
	EXPECT_EQ(m["cpuid.0x00000001.0.ebx"], "0x20800");
}

TEST(Escape, BytesAsCLiteralsAndJson)
{
	struct kt_buf b = {};
	kt_escape_bytes(&b, (const uint8_t *)"a\"\n\x01", 4, false);
	EXPECT_EQ(std::string((char *)b.data, b.len), "\"a\\\"\\n\\x01\"");
	b.len = 0;
	kt_escape_bytes(&b, (const uint8_t *)"\xff", 1, true);
	EXPECT_EQ(std::string((char *)b.data, b.len), "\"\\u00ff\"");
	kt_buf_free(&b);
}

}  // namespace
