// The error contract: every function that returns a negative errno has set
// the message that explains it (kt_last_error()), and the message names
// what failed.  Each test takes a failing path on purpose.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

extern "C" {
#include "common/error.h"
#include "common/kt_types.h"
#include "harness/kvm_ioctl.h"
#include "harness/kvm_system.h"
#include "harness/memslots.h"
#include "replayer/lanes.h"
}

namespace {

// Calls f after clearing the message; expects a negative return and a
// fresh message that contains every one of want.
template <typename F>
void ExpectFailsWith(F f, std::initializer_list<const char *> want)
{
	kt_clear_error();
	long ret = f();
	ASSERT_LT(ret, 0);
	std::string msg = kt_last_error();
	EXPECT_NE(msg, "Success");
	for (const char *w : want)
		EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
}

TEST(ErrorContract, OpeningAMissingKvmDeviceNamesThePath)
{
	kvm_handle h;
	ExpectFailsWith([&] { return kvm_open_system(&h, "/nonexistent/kvm"); },
			{"/nonexistent/kvm", "No such file"});
	EXPECT_EQ(h.fd, -1);
}

TEST(ErrorContract, ADeviceThatIsNotKvmIsSaidOnceSo)
{
	kvm_handle h;
	ExpectFailsWith([&] { return kvm_open_system(&h, "/dev/null"); },
			{"/dev/null", "not a KVM device"});
	std::string msg = kt_last_error();
	// The reason once, not twice.
	EXPECT_EQ(msg.find("Inappropriate ioctl"), msg.rfind("Inappropriate ioctl"));
}

TEST(ErrorContract, TheCheckedIoctlNamesTheIoctlTheFdAndTheErrno)
{
	kvm_handle h = {};
	h.fd = -1;
	h.role = KT_FD_VCPU;
	h.vcpu_index = 3;
	kvm_regs regs;
	ExpectFailsWith([&] { return kvm_ioctl(&h, KVM_GET_REGS, &regs); },
			{"KVM_GET_REGS", "vcpu3", "EBADF"});
}

TEST(ErrorContract, TheRawIoctlLeavesTheMessageAlone)
{
	kvm_handle h = {};
	h.fd = -1;
	kt_clear_error();
	EXPECT_EQ(kvm_ioctl_raw(&h, KVM_GET_API_VERSION, nullptr), -EBADF);
	EXPECT_STREQ(kt_last_error(), "Success");
}

TEST(ErrorContract, MemorySlotsOutOfRangeAndWritesOutsideMemory)
{
	kt_memslots ms = {};
	ExpectFailsWith([&] { return kt_memslot_map(&ms, KT_MAX_SLOTS, 0, 4096); },
			{"memory slot", "32"});
	ASSERT_EQ(kt_memslot_map(&ms, 0, 0x1000, 0x2000), 0);
	char byte = 1;
	ExpectFailsWith([&] { return kt_memslots_write(&ms, 0x2fff, &byte, 2); },
			{"0x2fff", "outside"});
	EXPECT_EQ(kt_memslots_write(&ms, 0x2fff, &byte, 1), 0);
	kt_memslots_unmap(&ms);
}

int Work(void *, const kt_event *, uint64_t)
{
	return kt_fail(-EIO, "lane failed on purpose");
}

TEST(ErrorContract, ALaneErrorReachesTheCallingThreadWithItsMessage)
{
	static const kt_lane_ops ops = {nullptr, Work};
	int ctx = 0;
	void *ctxs[2] = {&ctx, nullptr};
	kt_lanes *ls;
	ASSERT_EQ(kt_lanes_start(&ls, 2, ctxs, &ops), 0);
	uint8_t body[8] = {};
	kt_event ev = kt_event_view(KT_REC_MEMWRITE, 0, body, sizeof(body));
	ExpectFailsWith([&] { return kt_lanes_push(ls, 1, &ev, 7); },
			{"event 7", "vCPU 1"});
	EXPECT_EQ(kt_lanes_push(ls, 0, &ev, 8), 0);
	kt_clear_error();  // the lane's message must come from the lane
	ExpectFailsWith([&] { return kt_lanes_stop(ls); }, {"lane failed on purpose"});
}

}  // namespace
