// diff's alignment and field comparison on crafted event streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "replayer/align.h"
}

namespace {

// A stream of keys; items are their positions (as pointers, never freed).
struct Stream {
	std::vector<uint64_t> keys;
	size_t pos = 0;
	int fail_at = -1;  // return an error instead of this item
	size_t live = 0, peak = 0;
	static int next(void *ctx, uint64_t *key, void **item)
	{
		auto *s = static_cast<Stream *>(ctx);
		if ((int)s->pos == s->fail_at)
			return -EIO;
		if (s->pos == s->keys.size())
			return 0;
		*key = s->keys[s->pos];
		*item = reinterpret_cast<void *>(s->pos + 1);
		s->pos++;
		s->peak = std::max(s->peak, ++s->live);
		return 1;
	}
	static void release(void *ctx, void *) { static_cast<Stream *>(ctx)->live--; }
	struct kt_align_src src() { return {next, release, this}; }
};

struct Ops {
	std::string script;  // "=" equal, "-" delete, "+" insert
	size_t edits() const { return std::count_if(script.begin(), script.end(),
						    [](char c) { return c != '='; }); }
};

int record(void *ctx, enum kt_align_op op, void *, void *, uint64_t, uint64_t)
{
	static_cast<Ops *>(ctx)->script += op == KT_ALIGN_EQUAL ? '=' : op == KT_ALIGN_DELETE ? '-' : '+';
	return 0;
}

Ops align(std::vector<uint64_t> a, std::vector<uint64_t> b, size_t window = 64,
	  size_t max_d = 16, int *ret = nullptr)
{
	Stream sa{a}, sb{b};
	auto xa = sa.src(), xb = sb.src();
	struct kt_align_opts o = {window, max_d};
	Ops ops;
	int r = kt_align(&xa, &xb, &o, record, &ops);
	if (ret)
		*ret = r;
	else
		EXPECT_EQ(r, 0);
	EXPECT_EQ(sa.live, 0u);
	EXPECT_EQ(sb.live, 0u);
	return ops;
}

// Minimal edit count (insertions + deletions) by the textbook LCS table.
size_t lcs_edits(const std::vector<uint64_t> &a, const std::vector<uint64_t> &b)
{
	std::vector<std::vector<size_t>> t(a.size() + 1, std::vector<size_t>(b.size() + 1));
	for (size_t i = a.size(); i-- > 0;)
		for (size_t j = b.size(); j-- > 0;)
			t[i][j] = a[i] == b[j] ? t[i + 1][j + 1] + 1 : std::max(t[i + 1][j], t[i][j + 1]);
	return a.size() + b.size() - 2 * t[0][0];
}

std::vector<uint64_t> seq(size_t n)
{
	std::vector<uint64_t> v(n);
	for (size_t i = 0; i < n; i++)
		v[i] = i * 7 + 1;
	return v;
}

TEST(Align, IdenticalStreamsAreAllEqual)
{
	EXPECT_EQ(align(seq(50), seq(50)).script, std::string(50, '='));
}

TEST(Align, BothEmptyAndOneEmpty)
{
	EXPECT_EQ(align({}, {}).script, "");
	EXPECT_EQ(align(seq(3), {}).script, "---");
	EXPECT_EQ(align({}, seq(2)).script, "++");
}

TEST(Align, OneInsertionOrDeletionAnywhereIsOneEdit)
{
	for (size_t at : {0ul, 10ul, 29ul}) {
		auto a = seq(30), b = a;
		b.insert(b.begin() + (long)at, 999);
		auto ops = align(a, b);
		EXPECT_EQ(ops.edits(), 1u) << at << " " << ops.script;
		EXPECT_EQ(ops.script[at], '+') << ops.script;
		ops = align(b, a);
		EXPECT_EQ(ops.edits(), 1u) << at << " " << ops.script;
		EXPECT_EQ(ops.script[at], '-') << ops.script;
	}
}

TEST(Align, AChangedKeyIsOneDeleteAndOneInsert)
{
	auto a = seq(20), b = a;
	b[7] = 12345;
	auto ops = align(a, b);
	EXPECT_EQ(ops.edits(), 2u) << ops.script;
	EXPECT_EQ(ops.script.substr(7, 2), "-+") << ops.script;
}

// Port-loop-like streams where keys recur (every IO exit looks alike).
TEST(Align, RepetitiveStreamsStayMinimal)
{
	std::vector<uint64_t> a;
	for (int i = 0; i < 200; i++)
		a.push_back(i % 2 ? 5 : 6);
	auto b = a;
	b.erase(b.begin() + 100, b.begin() + 102);
	EXPECT_EQ(align(a, b).edits(), 2u);
}

TEST(Align, ScatteredEditsMatchTheLcsMinimum)
{
	std::mt19937 rng(1);
	for (int round = 0; round < 200; round++) {
		auto a = seq(40 + rng() % 40), b = a;
		for (int e = 0; e < 3; e++) {
			size_t at = rng() % b.size();
			switch (rng() % 3) {
			case 0: b.insert(b.begin() + (long)at, 100000 + rng() % 5); break;
			case 1: b.erase(b.begin() + (long)at); break;
			default: b[at] = 200000 + rng() % 5;
			}
		}
		EXPECT_EQ(align(a, b, 64, 16).edits(), lcs_edits(a, b)) << "round " << round;
	}
}

TEST(Align, BurstsBeyondMaxDStillEmitEverythingOnce)
{
	auto a = seq(300);
	std::vector<uint64_t> b(200);
	for (size_t i = 0; i < b.size(); i++)
		b[i] = 1000000 + i;  // nothing in common
	auto ops = align(a, b, 32, 8);
	EXPECT_EQ(std::count(ops.script.begin(), ops.script.end(), '-'), 300);
	EXPECT_EQ(std::count(ops.script.begin(), ops.script.end(), '+'), 200);
}

TEST(Align, MemoryStaysWithinTheWindows)
{
	Stream sa{seq(100000)}, sb{seq(100000)};
	sb.keys.erase(sb.keys.begin() + 5000);
	auto xa = sa.src(), xb = sb.src();
	struct kt_align_opts o = {128, 32};
	Ops ops;
	ASSERT_EQ(kt_align(&xa, &xb, &o, record, &ops), 0);
	EXPECT_LE(sa.peak, 128u);
	EXPECT_LE(sb.peak, 128u);
	EXPECT_EQ(ops.edits(), 1u);
}

TEST(Align, ErrorsFromASourcePropagate)
{
	Stream sa{seq(50)}, sb{seq(50)};
	sb.fail_at = 20;
	auto xa = sa.src(), xb = sb.src();
	struct kt_align_opts o = {8, 4};
	Ops ops;
	EXPECT_EQ(kt_align(&xa, &xb, &o, record, &ops), -EIO);
	EXPECT_EQ(sa.live, 0u);
}

// A burst longer than max_d in otherwise equal streams: reported as the burst
// alone, the streams resynchronised after it rather than drifting apart.
TEST(Align, BurstBeyondMaxDResynchronises)
{
	auto a = seq(1000), b = a;
	for (uint64_t k = 0; k < 100; k++)
		b.insert(b.begin() + 500, 500000 + k);
	auto ops = align(a, b, 256, 16);
	EXPECT_EQ(ops.edits(), 100u) << ops.script;
	EXPECT_EQ(ops.script.find('-'), std::string::npos);
	ops = align(b, a, 256, 16);
	EXPECT_EQ(ops.edits(), 100u);
	EXPECT_EQ(ops.script.find('+'), std::string::npos);
}

}  // namespace
