// Field comparison of aligned events: changes, one-sided paths, filters.
#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
#include "replayer/field_diff.h"
}

namespace {

struct Diffs {
	std::vector<std::string> lines;
	static void add(void *ctx, const char *p, const char *a, const char *b)
	{
		static_cast<Diffs *>(ctx)->lines.push_back(std::string(p) + ":" + (a ? a : "-") +
							   ">" + (b ? b : "-"));
	}
};

TEST(FieldDiff, ChangesAdditionsRemovalsAndFilters)
{
	std::vector<struct kt_field> a = {{"regs.rax", "0x1"}, {"regs.rip", "0x10"},
					  {"sregs.apic_base", "0xfee00900"}, {"exit.io.data", "\"H\""}};
	std::vector<struct kt_field> b = {{"regs.rax", "0x2"}, {"regs.rip", "0x10"},
					  {"exit.io.data", "\"H\""}, {"exit.io.extra", "1"}};
	Diffs d;
	EXPECT_EQ(kt_field_diff(a.data(), a.size(), b.data(), b.size(), nullptr, nullptr,
				Diffs::add, &d), 3u);
	EXPECT_EQ(d.lines, (std::vector<std::string>{"regs.rax:0x1>0x2",
						     "sregs.apic_base:0xfee00900>-",
						     "exit.io.extra:->1"}));
	auto *ignore = kt_pathset_new();
	kt_pathset_add(ignore, "sregs.apic_base");
	kt_pathset_add(ignore, "exit.*");
	Diffs e;
	kt_field_diff(a.data(), a.size(), b.data(), b.size(), ignore, nullptr, Diffs::add, &e);
	EXPECT_EQ(e.lines, std::vector<std::string>{"regs.rax:0x1>0x2"});
	auto *only = kt_pathset_new();
	kt_pathset_add(only, "sregs.*");
	Diffs f;
	kt_field_diff(a.data(), a.size(), b.data(), b.size(), nullptr, only, Diffs::add, &f);
	EXPECT_EQ(f.lines, std::vector<std::string>{"sregs.apic_base:0xfee00900>-"});
	kt_pathset_free(ignore);
	kt_pathset_free(only);
}

TEST(FieldDiff, GlobsSpanDottedComponents)
{
	auto *set = kt_pathset_new();
	ASSERT_EQ(kt_pathset_add(set, "*.t_start_ns"), 0);
	ASSERT_EQ(kt_pathset_add(set, "header.cpuid.*"), 0);
	EXPECT_TRUE(kt_pathset_match(set, "ioctl.t_start_ns"));
	EXPECT_TRUE(kt_pathset_match(set, "header.cpuid.0x1.eax"));
	EXPECT_FALSE(kt_pathset_match(set, "header.cpuid"));
	EXPECT_FALSE(kt_pathset_match(set, "ioctl.t_end_ns"));
	EXPECT_FALSE(kt_pathset_match(nullptr, "ioctl.t_start_ns"));
	kt_pathset_free(set);
}

TEST(FieldDiff, IdenticalListsReportNothing)
{
	std::vector<struct kt_field> a = {{"regs.rax", "0x1"}, {"regs.rip", "0x10"}};
	Diffs d;
	EXPECT_EQ(kt_field_diff(a.data(), a.size(), a.data(), a.size(), nullptr, nullptr,
				Diffs::add, &d), 0u);
	EXPECT_TRUE(d.lines.empty());
}

}  // namespace
