// Command-line parsing of run options: sizes, seconds, and every bad value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
#include "cli/run_options.h"
#include "common/error.h"
#include "harness/guest_abi.h"
}

namespace {

// The options point into argv, so Parsed keeps the strings alive.
struct Parsed {
	int ret;
	struct kt_run_options o;
	std::string error;
	std::vector<std::string> args;
};

Parsed parse(std::vector<std::string> args, bool record = false)
{
	Parsed p;
	std::vector<char *> argv;
	p.args = std::move(args);
	p.args.insert(p.args.begin(), record ? "record" : "run");
	for (auto &a : p.args)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	kt_run_options_init(&p.o);
	p.o.allow_record_options = record;
	kt_clear_error();
	p.ret = kt_parse_run_options((int)p.args.size(), argv.data(), &p.o);
	p.error = kt_last_error();
	return p;
}

TEST(ParseSize, AcceptsSuffixesAndHex)
{
	uint64_t v;
	EXPECT_EQ(kt_parse_size("2M", &v), 0);
	EXPECT_EQ(v, 2u << 20);
	EXPECT_EQ(kt_parse_size("64MiB", &v), 0);
	EXPECT_EQ(v, 64u << 20);
	EXPECT_EQ(kt_parse_size("1G", &v), 0);
	EXPECT_EQ(v, 1ull << 30);
	EXPECT_EQ(kt_parse_size("0x400000", &v), 0);
	EXPECT_EQ(v, 0x400000u);
	EXPECT_EQ(kt_parse_size("4096", &v), 0);
	EXPECT_EQ(v, 4096u);
}

TEST(ParseSize, RejectsJunk)
{
	uint64_t v;
	for (auto s : {"", "-1", "2X", "M", " 2M", "2 M", "99999999999999999999G"})
		EXPECT_NE(kt_parse_size(s, &v), 0) << s;
}

TEST(ParseSeconds, FractionsAndZero)
{
	uint64_t ms;
	EXPECT_EQ(kt_parse_seconds("0.5", &ms), 0);
	EXPECT_EQ(ms, 500u);
	EXPECT_EQ(kt_parse_seconds("0", &ms), 0);
	EXPECT_EQ(ms, 0u);
	for (auto s : {"-1", "abc", "1s", "nan", "inf", ""})
		EXPECT_NE(kt_parse_seconds(s, &ms), 0) << s;
}

TEST(RunOptions, DefaultsFollowTheGuestAbi)
{
	auto p = parse({"guest.bin"});
	ASSERT_EQ(p.ret, 0) << p.error;
	EXPECT_STREQ(p.o.cfg.guest_path, "guest.bin");
	EXPECT_EQ(p.o.cfg.mode, KT_MODE_LONG);
	EXPECT_EQ(p.o.cfg.mem_bytes, GUEST_DEFAULT_RAM);
	EXPECT_EQ(p.o.cfg.vcpus, 1u);
	EXPECT_EQ(p.o.cfg.timeout_ms, (uint64_t)KT_DEFAULT_TIMEOUT_MS);
	EXPECT_GT(p.o.cfg.timeout_ms, 0u);  // a runaway guest never hangs the tool
}

TEST(RunOptions, EveryOptionLandsInTheConfig)
{
	auto p = parse({"--mode", "paged32", "--mem", "8M", "--vcpus", "4", "--timeout",
			"2.5", "--max-exits", "100", "--guest-arg", "0x10", "-v",
			"--peek", "0x400", "--summary-json", "s.json", "g.bin"});
	ASSERT_EQ(p.ret, 0) << p.error;
	EXPECT_EQ(p.o.cfg.mode, KT_MODE_PAGED32);
	EXPECT_EQ(p.o.cfg.mem_bytes, 8u << 20);
	EXPECT_EQ(p.o.cfg.vcpus, 4u);
	EXPECT_EQ(p.o.cfg.timeout_ms, 2500u);
	EXPECT_EQ(p.o.cfg.max_exits, 100u);
	EXPECT_EQ(p.o.cfg.guest_arg, 16u);
	EXPECT_TRUE(p.o.verbose);
	ASSERT_EQ(p.o.npeeks, 1u);
	EXPECT_EQ(p.o.peek[0], 0x400u);
	EXPECT_STREQ(p.o.summary_json, "s.json");
}

struct BadCase {
	std::vector<std::string> args;
	const char *names;  // the input the one-line error must name
};

TEST(RunOptions, BadValuesNameTheInput)
{
	const BadCase cases[] = {
		{{"--mem", "1M", "g.bin"}, "--mem '1M'"},
		{{"--mem", "4G", "g.bin"}, "--mem '4G'"},
		{{"--mem", "lots", "g.bin"}, "--mem 'lots'"},
		{{"--mem", "0x200001", "g.bin"}, "--mem '0x200001'"},
		{{"--mode", "vm86", "g.bin"}, "--mode 'vm86'"},
		{{"--vcpus", "0", "g.bin"}, "--vcpus '0'"},
		{{"--vcpus", "17", "g.bin"}, "--vcpus '17'"},
		{{"--vcpus", "two", "g.bin"}, "--vcpus 'two'"},
		{{"--timeout", "-3", "g.bin"}, "--timeout '-3'"},
		{{"--frobnicate", "g.bin"}, "--frobnicate"},
		{{"g.bin", "--mem"}, "--mem"},
		{{}, "missing the guest image"},
		{{"a.bin", "b.bin"}, "b.bin"},
		{{"-o", "t.zst", "g.bin"}, "--output"},
	};
	for (const auto &c : cases) {
		auto p = parse(c.args);
		EXPECT_EQ(p.ret, -EINVAL) << c.names;
		EXPECT_NE(p.error.find(c.names), std::string::npos) << p.error;
		EXPECT_EQ(p.error.find('\n'), std::string::npos) << p.error;
	}
}

TEST(RecordOptions, OutputAndForceOnlyForRecord)
{
	auto p = parse({"-o", "t.zst", "--force", "g.bin"}, true);
	ASSERT_EQ(p.ret, 0) << p.error;
	EXPECT_STREQ(p.o.output, "t.zst");
	EXPECT_TRUE(p.o.force);
}

}  // namespace
