// A foreign VMM's recording without KVM: its header fields built and
// decoded, the fd roles named, replay's memory-gap rule, and the guest
// memory capture (recorder/foreign_memory.c) on a buffer standing in for
// the VMM's guest RAM, seen through the choke point's observer.
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "common/kt_types.h"
#include "decode/decode.h"
#include "harness/kvm_ioctl.h"
#include "recorder/foreign_header.h"
#include "recorder/foreign_memory.h"
#include "replayer/memory_gap.h"
#include "trace/trace_header.h"
}

namespace {

const char kCmdline[] = "/usr/bin/qemu-system-x86_64\0-m\0" "16\0-name\0my vm\0";

std::vector<uint8_t> header(uint32_t flags)
{
	struct kt_buf b = {};
	struct kt_foreign f = { kCmdline, sizeof(kCmdline) - 1, flags };

	EXPECT_EQ(kt_foreign_put_header(&b, &f), 0);
	std::vector<uint8_t> v(b.data, b.data + b.len);
	kt_buf_free(&b);
	return v;
}

TEST(Foreign, HeaderNamesTheProgramAndQuotesItsArguments)
{
	auto h = header(KT_FOREIGN_MEM_SLOTS | KT_FOREIGN_SYNC_REGS);
	struct kt_sink s;

	kt_sink_text(&s);
	decode_header(&s, h.data(), h.size());
	std::string text = kt_sink_str(&s);
	kt_sink_free(&s);
	EXPECT_NE(text.find("guest_name=qemu-system-x86_64"), std::string::npos) << text;
	EXPECT_NE(text.find("foreign={flags=0x5 [MEM_SLOTS SYNC_REGS]}"), std::string::npos) << text;
	EXPECT_NE(text.find("command_line=/usr/bin/qemu-system-x86_64 -m 16 -name 'my vm'"),
		  std::string::npos) << text;
	EXPECT_NE(text.find("sandbox=off"), std::string::npos) << text;
	EXPECT_EQ(text.find("guest_image"), std::string::npos) << text;
}

TEST(Foreign, ReplayTrustsDifferencesOnlyWithTheMemoryChanges)
{
	for (uint32_t flags : { KT_FOREIGN_MEM_SLOTS, KT_FOREIGN_MEM_SLOTS | KT_FOREIGN_MEM_CHANGES }) {
		auto h = header(flags);
		struct kt_header parsed;

		ASSERT_EQ(kt_header_parse(&parsed, h.data(), h.size()), 0);
		EXPECT_EQ(rp_memory_gap(&parsed), !(flags & KT_FOREIGN_MEM_CHANGES));
		kt_header_free(&parsed);
	}
	char at[64] = "";
	rp_memory_gap_note(at, sizeof(at), 7, "vcpu0 KVM_RUN", "exit.io.data");
	rp_memory_gap_note(at, sizeof(at), 9, "vcpu1 KVM_RUN", "exit.reason");  // first kept
	EXPECT_STREQ(at, "event 7 (vcpu0 KVM_RUN), exit.io.data");
}

TEST(Foreign, FdRolesHaveNames)
{
	char b[KT_FD_NAME_MAX];

	EXPECT_STREQ(kt_fd_name(b, KT_FD_DEVICE, 0), "device");
	EXPECT_STREQ(kt_fd_name(b, KT_FD_OTHER, 0), "kvm-fd");
	EXPECT_STREQ(kt_fd_name(b, (enum kt_fd_role)9, 0), "fd-role9");
}

struct Write {
	uint64_t gpa;
	std::vector<uint8_t> bytes;
};
std::vector<Write> writes;

void on_write(void *, uint64_t gpa, const void *data, size_t len)
{
	const uint8_t *p = static_cast<const uint8_t *>(data);
	writes.push_back({ gpa, std::vector<uint8_t>(p, p + len) });
}

struct Ram {
	static constexpr size_t kSize = 16 * 4096;
	uint8_t *p;
	Ram() : p(static_cast<uint8_t *>(mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {}
	~Ram() { munmap(p, kSize); }
};

class Memory : public ::testing::Test {
protected:
	struct kvm_ioctl_observer obs = {};
	void SetUp() override
	{
		writes.clear();
		obs.mem_write = on_write;
		kvm_ioctl_set_observer(&obs);
	}
	void TearDown() override { kvm_ioctl_set_observer(nullptr); }
};

TEST_F(Memory, ASlotIsWrittenWholeBeforeTheFirstRunItsZeroPagesLeftOut)
{
	Ram ram;
	struct kt_foreign_memory *m = kt_fmem_new(false);

	ram.p[0] = 1;                 // page 0
	ram.p[3 * 4096 + 5] = 2;      // pages 3 and 4, one run
	ram.p[4 * 4096] = 3;
	kt_fmem_set_region(m, 0, 0x100000, Ram::kSize, (uintptr_t)ram.p);
	kt_fmem_before_run(m);
	ASSERT_EQ(writes.size(), 2u);
	EXPECT_EQ(writes[0].gpa, 0x100000u);
	EXPECT_EQ(writes[0].bytes.size(), 4096u);
	EXPECT_EQ(writes[1].gpa, 0x100000u + 3 * 4096);
	EXPECT_EQ(writes[1].bytes.size(), 2 * 4096u);
	EXPECT_EQ(writes[1].bytes[5], 2);
	// Later runs: nothing set since, nothing written (no --memory-changes).
	ram.p[9 * 4096] = 9;
	kt_fmem_before_run(m);
	EXPECT_EQ(writes.size(), 2u);
	kt_fmem_free(m);
}

TEST_F(Memory, WithChangesTheChangedPagesBeforeEveryRun)
{
	Ram ram;
	struct kt_foreign_memory *m = kt_fmem_new(true);

	kt_fmem_set_region(m, 1, 0, Ram::kSize, (uintptr_t)ram.p);
	kt_fmem_before_run(m);
	EXPECT_TRUE(writes.empty());  // all zero
	ram.p[2 * 4096] = 7;          // a device's reply
	ram.p[11 * 4096 + 8] = 8;
	kt_fmem_before_run(m);
	ASSERT_EQ(writes.size(), 2u);
	EXPECT_EQ(writes[0].gpa, 2 * 4096u);
	EXPECT_EQ(writes[1].gpa, 11 * 4096u);
	kt_fmem_before_run(m);        // unchanged since
	EXPECT_EQ(writes.size(), 2u);
	// Unmapped memory is never read again.
	kt_fmem_unmapping(m, (uintptr_t)ram.p, Ram::kSize);
	ram.p[0] = 1;
	kt_fmem_before_run(m);
	EXPECT_EQ(writes.size(), 2u);
	kt_fmem_free(m);
}

TEST_F(Memory, ASlotSetAgainIsWrittenWholeZerosIncluded)
{
	Ram ram;
	struct kt_foreign_memory *m = kt_fmem_new(false);

	ram.p[0] = 1;
	kt_fmem_set_region(m, 2, 0, Ram::kSize, (uintptr_t)ram.p);
	kt_fmem_before_run(m);
	ASSERT_EQ(writes.size(), 1u);
	kt_fmem_set_region(m, 2, 0, 0, 0);                         // deleted
	kt_fmem_set_region(m, 2, 0, Ram::kSize, (uintptr_t)ram.p); // and set again
	kt_fmem_before_run(m);
	ASSERT_EQ(writes.size(), 2u);
	EXPECT_EQ(writes[1].bytes.size(), Ram::kSize);  // a replay's mapping is not fresh
	kt_fmem_free(m);
}

}  // namespace
