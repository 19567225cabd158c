// Trace format 2.0: what test_trace_io.cc does not cover.  Version 1
// traces (the goldens) still read and survive re-encoding; damage inside a
// frame's content (checksum intact) is an error, never a crash or other
// data; the event hash, clones, seeks and skimming; the clock code; the
// limits of the reader and the writer.
#include <gtest/gtest.h>

#include <cstring>
#include <dirent.h>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>
#include <zstd.h>

extern "C" {
#include "trace/clock_code.h"
#include "trace/trace_header.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"
#include "trace/words.h"
}

#include "tests/unit/files.h"

namespace {

struct Ev {
	uint8_t type;
	uint16_t vcpu;
	std::vector<uint8_t> body;
	bool operator==(const Ev &o) const
	{
		return type == o.type && vcpu == o.vcpu && body == o.body;
	}
};

// Every event of a trace; the final status in *status.
std::vector<Ev> read_all(const std::string &path, int *status, bool hashes = false)
{
	std::vector<Ev> got;
	int err = 0;
	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	if (!r) {
		*status = err;
		return got;
	}
	if (hashes)
		kt_reader_want_hashes(r);
	struct kt_event ev;
	int ret;
	while ((ret = kt_reader_next(r, &ev)) == 1) {
		got.push_back(Ev{ev.type, ev.vcpu, std::vector<uint8_t>(ev.body, ev.body + ev.len)});
		if (hashes) {
			EXPECT_EQ(ev.hash, kt_event_hash(&ev)) << "event " << got.size() - 1;
		}
	}
	*status = ret;
	kt_reader_close(r);
	return got;
}

std::vector<std::string> goldens()
{
	std::vector<std::string> out;
	for (const char *series : {"traces/6.1", "traces/6.12", "traces/pvm-6.18"}) {
		DIR *d = opendir(series);
		if (!d)
			continue;
		while (struct dirent *e = readdir(d)) {
			std::string n = e->d_name;
			if (n.size() > 4 && n.substr(n.size() - 4) == ".zst")
				out.push_back(std::string(series) + "/" + n);
		}
		closedir(d);
	}
	return out;
}

// Copy a trace event by event through the writer (format 2.0).
void rewrite(const std::string &in, const std::string &out)
{
	int err = 0;
	struct kt_reader *r = kt_reader_open(in.c_str(), &err);
	ASSERT_NE(r, nullptr) << in;
	struct kt_writer *w = kt_writer_open(out.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	size_t hlen;
	const uint8_t *hdr = kt_reader_header(r, &hlen);
	ASSERT_EQ(kt_writer_header(w, hdr, hlen), 0);
	struct kt_event ev;
	while (kt_reader_next(r, &ev) == 1) {
		kt_writer_lock(w);
		uint8_t *p = kt_writer_put(w, ev.type, ev.vcpu, ev.len);
		ASSERT_NE(p, nullptr);
		memcpy(p, ev.body, ev.len);
		kt_writer_unlock(w);
	}
	kt_reader_close(r);
	ASSERT_EQ(kt_writer_close(w), 0);
}

TEST(TraceV2, GoldensOfVersion1ReadAndSurviveReencoding)
{
	auto all = goldens();
	ASSERT_GE(all.size(), 20u) << "run from the repository's root";
	auto out = temp_path("golden");
	for (auto &g : all) {
		int status = 1;
		auto want = read_all(g, &status, true);
		ASSERT_EQ(status, 0) << g;
		ASSERT_GT(want.size(), 10u) << g;
		rewrite(g, out);
		auto got = read_all(out, &status, true);
		EXPECT_EQ(status, 0) << g;
		ASSERT_EQ(got.size(), want.size()) << g;
		for (size_t i = 0; i < got.size(); i++)
			ASSERT_TRUE(got[i] == want[i]) << g << " event " << i;
	}
	unlink(out.c_str());
}

// A steady loop like the port loop's, with a vCPU's registers drifting.
std::vector<Ev> write_loop(const std::string &path, size_t exits, unsigned seed,
			   unsigned vcpus = 1)
{
	std::mt19937_64 rng(seed);
	std::vector<Ev> want;
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	EXPECT_NE(w, nullptr);
	struct kt_buf hdr = {};
	kt_tlv_put(&hdr, KT_HDR_KVMTRACE_VERSION, "t", 1);
	EXPECT_EQ(kt_writer_header(w, hdr.data, hdr.len), 0);
	kt_buf_free(&hdr);
	uint64_t t = 0;
	for (size_t i = 0; i < exits; i++) {
		uint16_t vcpu = (uint16_t)(i % vcpus);
		struct kt_ioctl_body b = {};
		b.role = KT_FD_VCPU;
		b.request = KVM_RUN;
		t += 9000 + rng() % 3000;
		b.t_start_ns = t;
		b.dur_ns = 8000 + rng() % 2000;
		std::vector<uint8_t> in(32 + (i % 11 == 0 ? 1 + rng() % 8 : 0));
		std::vector<uint8_t> out(288 + (i % 5 ? 1 : 4));
		in[8] = 3;
		for (size_t k = 32; k < in.size(); k++)  // completion data: an IN's
			in[k] = (uint8_t)rng();
		out[8] = 2;
		out[40] = (uint8_t)(i % 7);
		if (i % 97 == 0)
			out[100] = (uint8_t)rng();
		b.in_len = (uint32_t)in.size();
		b.out_len = (uint32_t)out.size();
		kt_writer_ioctl(w, vcpu, &b, in.data(), out.data());
		Ev e{KT_REC_IOCTL, vcpu, {}};
		auto *bp = reinterpret_cast<const uint8_t *>(&b);
		e.body.assign(bp, bp + sizeof(b));
		e.body.insert(e.body.end(), in.begin(), in.end());
		e.body.insert(e.body.end(), out.begin(), out.end());
		want.push_back(e);
		struct kt_snapshot_body s = {};
		s.source = KT_SNAP_SYNC_REGS;
		s.regs.rcx = exits - i;
		s.regs.rflags = i % 3 ? 0x46 : 0x2;
		s.regs.rip = 0x1000 + (i & 1) * 2;
		s.sregs.cr0 = 0x80050033;
		if (i % 13 == 0)
			s.regs.rax = rng();
		kt_writer_snapshot(w, vcpu, &s);
		auto *sp = reinterpret_cast<const uint8_t *>(&s);
		want.push_back(Ev{KT_REC_SNAPSHOT, vcpu, std::vector<uint8_t>(sp, sp + sizeof(s))});
	}
	struct kt_end_body end = {};
	end.events = want.size();
	kt_writer_end(w, &end);
	auto *ep = reinterpret_cast<const uint8_t *>(&end);
	want.push_back(Ev{KT_REC_END, 0, std::vector<uint8_t>(ep, ep + sizeof(end))});
	EXPECT_EQ(kt_writer_close(w), 0);
	return want;
}

TEST(TraceV2, ASteadyLoopRoundTripsAndCostsAFewBytesAnExit)
{
	auto path = temp_path("loop");
	auto want = write_loop(path, 30000, 1, 2);
	int status = 1;
	auto got = read_all(path, &status, true);
	EXPECT_EQ(status, 0);
	ASSERT_EQ(got.size(), want.size());
	for (size_t i = 0; i < got.size(); i++)
		ASSERT_TRUE(got[i] == want[i]) << "event " << i;
	double per_exit = (double)read_file(path).size() / 30000;
	RecordProperty("bytes_per_exit", std::to_string(per_exit));
	// Uniformly random clocks (12 bits of noise each), a random register
	// every 13 exits and completion data every 11: a real port loop costs
	// about 3 (make bench).
	EXPECT_LT(per_exit, 10.0);
	unlink(path.c_str());
}

// zstd frames of a file: offset, compressed size.
std::vector<std::pair<size_t, size_t>> zframes(const std::vector<uint8_t> &file)
{
	std::vector<std::pair<size_t, size_t>> out;
	for (size_t pos = 0; pos < file.size();) {
		size_t n = ZSTD_findFrameCompressedSize(file.data() + pos, file.size() - pos);
		if (ZSTD_isError(n))
			break;
		out.push_back({pos, n});
		pos += n;
	}
	return out;
}

std::vector<uint8_t> decompress(const uint8_t *src, size_t n)
{
	std::vector<uint8_t> out(ZSTD_getFrameContentSize(src, n));
	EXPECT_EQ(ZSTD_decompress(out.data(), out.size(), src, n), out.size());
	return out;
}

std::vector<uint8_t> compress(const std::vector<uint8_t> &content)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	std::vector<uint8_t> z(ZSTD_compressBound(content.size()));
	z.resize(ZSTD_compress2(c, z.data(), z.size(), content.data(), content.size()));
	ZSTD_freeCCtx(c);
	return z;
}

// Damage the decompressed content of event frames and give them a valid
// checksum again.  The values in a frame (word deltas, clock bits) cannot
// check themselves: the checksum is what stops real damage (see
// test_trace_io.cc).  What the decoder must do with any content whatever is
// stay inside its buffers and limits: an error, or events.  Under ASan this
// is the test of that.
TEST(TraceV2, AnyContentBehindAGoodChecksumIsDecodedSafely)
{
	auto path = temp_path("damage"), bad = temp_path("damage_bad");
	auto want = write_loop(path, 3000, 2, 3);
	auto file = read_file(path);
	auto fr = zframes(file);
	ASSERT_GE(fr.size(), 3u);
	std::mt19937 rng(3);
	int errors = 0;
	for (int round = 0; round < 600; round++) {
		size_t f = 1 + rng() % (fr.size() - 1);
		auto content = decompress(file.data() + fr[f].first, fr[f].second);
		int flips = 1 + rng() % 3;
		for (int k = 0; k < flips; k++) {
			size_t at = round % 4 == 0 ? rng() % 40 : rng() % content.size();
			content[at] ^= (uint8_t)(1u << (rng() % 8));
		}
		auto z = compress(content);
		std::vector<uint8_t> out(file.begin(), file.begin() + (long)fr[f].first);
		out.insert(out.end(), z.begin(), z.end());
		out.insert(out.end(), file.begin() + (long)(fr[f].first + fr[f].second), file.end());
		write_file(bad, out);
		int status = 1;
		auto got = read_all(bad, &status);
		EXPECT_TRUE(status == 0 || status == KT_E_CORRUPT || status == KT_E_LIMIT ||
			    status == KT_E_TRUNCATED) << status;
		errors += status != 0;
		// Frames before the damaged one are untouched.
		for (size_t i = 0; i < got.size() && i < want.size() && i < 4096 * (f - 1); i++)
			ASSERT_TRUE(got[i] == want[i]) << "round " << round << " event " << i;
	}
	EXPECT_GT(errors, 200);  // much of the damage breaks the structure
	unlink(bad.c_str());
	unlink(path.c_str());
}

TEST(TraceV2, ClonesSeekToAnyEventAndStopWhereTheyAreSent)
{
	auto path = temp_path("seek");
	auto want = write_loop(path, 12000, 4);
	int err = 0;
	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	ASSERT_NE(r, nullptr);
	kt_reader_want_hashes(r);
	std::vector<struct kt_pos> pos;
	std::vector<uint64_t> hash;
	struct kt_event ev;
	while (kt_reader_next(r, &ev) == 1) {
		pos.push_back(kt_reader_pos(r));
		hash.push_back(ev.hash);
	}
	ASSERT_EQ(pos.size(), want.size());
	struct kt_reader *c = kt_reader_clone(r);
	ASSERT_NE(c, nullptr);
	std::mt19937 rng(5);
	std::vector<size_t> order;
	for (int i = 0; i < 300; i++)
		order.push_back(rng() % pos.size());
	order.push_back(0);
	order.push_back(pos.size() - 1);
	for (size_t i : order) {
		ASSERT_EQ(kt_reader_goto(c, &pos[i], &ev), 1) << i;
		EXPECT_EQ(kt_reader_index(c), i + 1);
		ASSERT_TRUE((Ev{ev.type, ev.vcpu, std::vector<uint8_t>(ev.body, ev.body + ev.len)}) ==
			    want[i]) << i;
		EXPECT_EQ(ev.hash, hash[i]) << i;
	}
	kt_reader_close(c);
	kt_reader_close(r);
	unlink(path.c_str());
}

TEST(TraceV2, SkimmingPassesOverRunsAndSnapshotsAndGivesTheRestWhole)
{
	auto path = temp_path("skim");
	auto want = write_loop(path, 5000, 6);
	int err = 0;
	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	ASSERT_NE(r, nullptr);
	kt_reader_skim(r);
	struct kt_event ev;
	size_t got = 0;
	int ret;
	while ((ret = kt_reader_next(r, &ev)) == 1) {
		size_t i = kt_reader_index(r) - 1;  // exact, whatever was passed over
		ASSERT_LT(i, want.size());
		ASSERT_TRUE((Ev{ev.type, ev.vcpu, std::vector<uint8_t>(ev.body, ev.body + ev.len)}) ==
			    want[i]) << i;
		EXPECT_FALSE(ev.flags & KT_EV_DELTA) << i;  // only key and plain records
		got++;
	}
	EXPECT_EQ(ret, 0);
	EXPECT_EQ(kt_reader_index(r), want.size());
	EXPECT_LT(got, want.size() / 10);  // most were passed over
	EXPECT_GT(got, 2u);
	kt_reader_close(r);
	unlink(path.c_str());
}

TEST(TraceV2, ClockCodeRoundTripsAnyValue)
{
	std::mt19937_64 rng(7);
	std::vector<int64_t> values;
	for (int i = 0; i < 20000; i++) {
		switch (i % 6) {
		case 0: values.push_back(8000 + (int64_t)(rng() % 2000)); break;
		case 1: values.push_back((int64_t)(rng() % 300)); break;
		case 2: values.push_back(-(int64_t)(rng() % 1000)); break;
		case 3: values.push_back((int64_t)rng()); break;  // escapes
		case 4: values.push_back(i % 12 == 4 ? INT64_MIN : INT64_MAX); break;
		default: values.push_back((int64_t)(rng() >> (rng() % 64))); break;
		}
	}
	std::vector<uint8_t> buf(values.size() * KT_CLOCK_MAX_BYTES + 8);
	struct kt_bit_writer w = { buf.data(), 0, 0 };
	struct kt_clock_model m;
	kt_clock_model_init(&m, 9000);
	for (int64_t v : values)
		kt_clock_put(&w, &m, v);
	kt_bits_flush(&w);
	size_t len = (size_t)(w.p - buf.data());
	struct kt_bit_reader r = { buf.data(), buf.data() + len, 0, 0 };
	kt_clock_model_init(&m, 9000);
	for (size_t i = 0; i < values.size(); i++) {
		int64_t v = 0;
		ASSERT_EQ(kt_clock_get(&r, &m, &v), 0) << i;
		ASSERT_EQ(v, values[i]) << i;
	}
	EXPECT_EQ(r.p, r.end);  // every byte written was read
}

TEST(TraceV2, WordsDiffFindsExactlyTheChangedWords)
{
	std::mt19937 rng(8);
	for (size_t n : {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 57, 100, 1000}) {
		std::vector<uint64_t> a(n), b(n);
		for (auto &x : a)
			x = rng();
		b = a;
		std::vector<uint32_t> want;
		for (size_t i = 0; i < n; i++)
			if (rng() % 5 == 0) {
				b[i] ^= 1ull << (rng() % 64);
				want.push_back(10 + (uint32_t)i);
			}
		std::vector<uint32_t> idx(n + 1);
		size_t c = kt_words_diff(reinterpret_cast<uint8_t *>(a.data()),
					 reinterpret_cast<uint8_t *>(b.data()), n, 10, idx.data());
		idx.resize(c);
		EXPECT_EQ(idx, want) << n;
	}
}

TEST(TraceV2, MoreKindsThanAFrameHasSlotsStillRoundTrip)
{
	auto path = temp_path("slots");
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	kt_writer_header(w, "\1\0\0\0\0\0\0\0", 8);
	std::vector<Ev> want;
	for (unsigned i = 0; i < 3000; i++) {
		struct kt_snapshot_body s = {};
		s.source = KT_SNAP_SYNC_REGS;
		s.regs.rax = i;
		uint16_t vcpu = (uint16_t)(i % 100);  // 100 keys: 63 slots, the rest plain
		kt_writer_snapshot(w, vcpu, &s);
		auto *sp = reinterpret_cast<const uint8_t *>(&s);
		want.push_back(Ev{KT_REC_SNAPSHOT, vcpu, std::vector<uint8_t>(sp, sp + sizeof(s))});
		if (i % 50 == 7) {  // a longer body (as a newer minor might write) re-keys its slot
			std::vector<uint8_t> longer(sizeof(s) + 8 * (1 + i % 3), (uint8_t)i);
			memcpy(longer.data(), &s, sizeof(s));
			kt_writer_lock(w);
			memcpy(kt_writer_put(w, KT_REC_SNAPSHOT, vcpu, (uint32_t)longer.size()),
			       longer.data(), longer.size());
			kt_writer_unlock(w);
			want.push_back(Ev{KT_REC_SNAPSHOT, vcpu, longer});
		}
	}
	struct kt_end_body end = {};
	kt_writer_end(w, &end);
	auto *ep = reinterpret_cast<const uint8_t *>(&end);
	want.push_back(Ev{KT_REC_END, 0, std::vector<uint8_t>(ep, ep + sizeof(end))});
	ASSERT_EQ(kt_writer_close(w), 0);
	int status = 1;
	auto got = read_all(path, &status, true);
	EXPECT_EQ(status, 0);
	ASSERT_EQ(got.size(), want.size());
	for (size_t i = 0; i < got.size(); i++)
		ASSERT_TRUE(got[i] == want[i]) << i;
	unlink(path.c_str());
}

TEST(TraceV2, TheWriterKeepsTheLimitsTheReaderChecks)
{
	auto path = temp_path("wlimits");
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	std::vector<uint8_t> huge(KT_MAX_HEADER_BYTES + 1);
	EXPECT_EQ(kt_writer_header(w, huge.data(), huge.size()), KT_E_LIMIT);
	EXPECT_EQ(kt_writer_header(w, "\1\0\0\0\0\0\0\0", 8), 0);
	std::vector<uint8_t> in(KT_MAX_IOCTL_BYTES + 1);
	struct kt_ioctl_body b = {};
	b.request = KVM_SET_CPUID2;
	b.in_len = (uint32_t)in.size();
	kt_writer_ioctl(w, 0, &b, in.data(), nullptr);  // dropped
	EXPECT_EQ(kt_writer_events(w), 0u);
	struct kt_end_body end = {};
	kt_writer_end(w, &end);
	EXPECT_EQ(kt_writer_close(w), KT_E_LIMIT);
	int status = 1;
	auto got = read_all(path, &status);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(got.size(), 1u);
	unlink(path.c_str());
}

TEST(TraceV2, TooManyHeaderFieldsAreALimitNotAnAllocation)
{
	struct kt_buf b = {};
	for (unsigned i = 0; i <= KT_MAX_HEADER_FIELDS; i++)
		kt_tlv_put(&b, 999, "", 0);
	struct kt_header h = {};
	EXPECT_EQ(kt_header_parse(&h, b.data, b.len), KT_E_LIMIT);
	kt_header_free(&h);
	kt_buf_free(&b);
}

// A version 2 frame made by hand: KEY records opening IOCTL slots, then a
// delta each that lengthens its in bytes to a mebibyte without storing
// them.  Five such slots ask for more than KT_MAX_SLOT_BYTES.
std::vector<uint8_t> slot_bomb_frame(unsigned slots)
{
	std::vector<uint8_t> ops, keys, changes, words, raw, clocks;
	for (unsigned s = 0; s < slots; s++) {
		ops.push_back((uint8_t)(s | KT_OP_KEY));
		struct kt_slot_key k = { KT_REC_IOCTL, 0, 0, 0xAE00u + s };
		auto *kp = reinterpret_cast<uint8_t *>(&k);
		keys.insert(keys.end(), kp, kp + sizeof(k));
		struct kt_ioctl_body b = {};
		b.request = k.request;
		uint32_t head[2] = { sizeof(b), 0 };
		auto *hp = reinterpret_cast<uint8_t *>(head);
		auto *bp = reinterpret_cast<uint8_t *>(&b);
		raw.insert(raw.end(), hp, hp + sizeof(head));
		raw.insert(raw.end(), bp, bp + sizeof(b));
	}
	for (unsigned s = 0; s < slots; s++) {
		ops.push_back((uint8_t)s);  // a delta
		changes.push_back(1);       // one changed word ...
		changes.push_back(2);       // ... word 2: errno and in_len
		uint8_t var[KT_VAR_MAX];
		size_t n = kt_var_put(var, kt_zigzag((int64_t)((uint64_t)KT_MAX_IOCTL_BYTES << 32)));
		words.insert(words.end(), var, var + n);
	}
	clocks.assign((14 * slots + 7) / 8, 0);  // each clock a zero residual at k = 6: 7 bits
	std::vector<std::vector<uint8_t> *> streams = { &ops, &keys, &raw, &changes, &words, &clocks };
	struct kt_frame_head head = { KT_FRAME_MAGIC, 2 * slots, 0, {} };
	for (unsigned i = 0; i < KT_STREAMS; i++) {
		streams[i]->resize((streams[i]->size() + 7) & ~7ul);
		head.stream_len[i] = (uint32_t)streams[i]->size();
	}
	std::vector<uint8_t> out(reinterpret_cast<uint8_t *>(&head),
				 reinterpret_cast<uint8_t *>(&head) + sizeof(head));
	for (auto *s : streams)
		out.insert(out.end(), s->begin(), s->end());
	return out;
}

std::vector<uint8_t> v2_trace(const std::vector<std::vector<uint8_t>> &frames)
{
	std::vector<uint8_t> first;
	struct kt_file_magic m = {};
	memcpy(m.magic, KT_MAGIC, 8);
	m.major = 2;
	auto *mp = reinterpret_cast<uint8_t *>(&m);
	first.assign(mp, mp + sizeof(m));
	struct kt_rec_hdr h = { KT_REC_HEADER, 0, 0, 8 };
	auto *hp = reinterpret_cast<uint8_t *>(&h);
	first.insert(first.end(), hp, hp + sizeof(h));
	const uint8_t tlv[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	first.insert(first.end(), tlv, tlv + 8);
	auto file = compress(first);
	for (auto &f : frames) {
		auto z = compress(f);
		file.insert(file.end(), z.begin(), z.end());
	}
	return file;
}

TEST(TraceV2, SlotsThatGrowWithoutBytesAreLimited)
{
	auto path = temp_path("slotbomb");
	write_file(path, v2_trace({ slot_bomb_frame(3) }));
	int status = 0;
	auto got = read_all(path, &status);
	EXPECT_EQ(status, KT_E_TRUNCATED);  // three mebibyte slots are fine (and no END)
	ASSERT_EQ(got.size(), 6u);
	EXPECT_EQ(got[5].body.size(), sizeof(struct kt_ioctl_body) + KT_MAX_IOCTL_BYTES);
	write_file(path, v2_trace({ slot_bomb_frame(5) }));
	got = read_all(path, &status);
	EXPECT_EQ(status, KT_E_LIMIT);
	EXPECT_EQ(got.size(), 8u);  // the fourth slot's delta passes KT_MAX_SLOT_BYTES
	unlink(path.c_str());
}

TEST(TraceV2, WriteErrorsAreVisibleAtOnce)
{
	int err = 0;
	struct kt_writer *w = kt_writer_open("/dev/full", true, &err);
	ASSERT_NE(w, nullptr) << err;
	kt_writer_header(w, "\1\0\0\0\0\0\0\0", 8);
	for (int i = 0; i < 200 && !kt_writer_write_error(w); i++)
		usleep(10 * 1000);
	EXPECT_EQ(kt_writer_write_error(w), -ENOSPC);
	EXPECT_EQ(kt_writer_close(w), -ENOSPC);
}

}  // namespace
