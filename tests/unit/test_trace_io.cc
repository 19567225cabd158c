// The trace format: write/read round trip, XOR deltas, frames, truncation,
// corruption and version checks, all through the real writer and reader.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>
#include <zstd.h>

extern "C" {
#include "recorder/trace_header.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"
}

namespace {

struct Event {
	uint8_t type;
	uint16_t vcpu;
	std::vector<uint8_t> body;  // as the reader should hand it out
};

std::string temp_path(const char *name)
{
	return std::string(testing::TempDir()) + "kt_" + name + "_" +
	       std::to_string(getpid()) + ".zst";
}

std::vector<uint8_t> read_file(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), {});
}

void write_file(const std::string &path, const std::vector<uint8_t> &data)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(data.data()), (std::streamsize)data.size());
}

const std::vector<uint8_t> header_tlv = [] {
	struct kt_buf b = {};
	kt_tlv_put(&b, KT_HDR_KVMTRACE_VERSION, "test", 4);
	kt_tlv_put(&b, KT_HDR_KERNEL_RELEASE, "6.12.0-test", 11);
	std::vector<uint8_t> v(b.data, b.data + b.len);
	kt_buf_free(&b);
	return v;
}();

// A port-loop-like stream: KVM_RUN ioctls with slowly changing payloads,
// snapshots, a memory write, an END; payloads random where asked.
std::vector<Event> write_trace(const std::string &path, size_t n, unsigned seed,
			       bool random_payloads)
{
	std::mt19937 rng(seed);
	std::vector<Event> events;
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	EXPECT_NE(w, nullptr) << err;
	EXPECT_EQ(kt_writer_header(w, header_tlv.data(), header_tlv.size()), 0);
	uint64_t gpa = 0x1000;
	std::vector<uint8_t> image(300);
	for (auto &c : image)
		c = (uint8_t)rng();
	kt_writer_memwrite(w, gpa, image.data(), image.size());
	Event mw{KT_REC_MEMWRITE, 0, std::vector<uint8_t>(8)};
	memcpy(mw.body.data(), &gpa, 8);
	mw.body.insert(mw.body.end(), image.begin(), image.end());
	events.push_back(mw);
	for (size_t i = 0; i < n; i++) {
		uint16_t vcpu = (uint16_t)(i % 3);
		struct kt_ioctl_body b = {};
		b.role = KT_FD_VCPU;
		b.request = KVM_RUN;
		b.t_start_ns = i * 40000;
		b.dur_ns = 39000 + rng() % 100;
		std::vector<uint8_t> in(sizeof(struct kt_run_in), 0), out(sizeof(struct kt_run_out) + 1);
		for (size_t k = 0; k < out.size(); k++)
			out[k] = random_payloads ? (uint8_t)rng() : (uint8_t)(k + (i & 1));
		if (i % 7 == 0)
			out.resize(out.size() + 3);  // lengths vary within a key
		b.in_len = (uint32_t)in.size();
		b.out_len = (uint32_t)out.size();
		kt_writer_ioctl(w, vcpu, &b, in.data(), out.data());
		Event e{KT_REC_IOCTL, vcpu, {}};
		const uint8_t *bp = reinterpret_cast<const uint8_t *>(&b);
		e.body.insert(e.body.end(), bp, bp + sizeof(b));
		e.body.insert(e.body.end(), in.begin(), in.end());
		e.body.insert(e.body.end(), out.begin(), out.end());
		events.push_back(e);
		struct kt_snapshot_body s = {};
		s.source = KT_SNAP_SYNC_REGS;
		s.regs.rip = 0x10 + (i & 1) * 2;
		s.regs.rcx = n - i;
		kt_writer_snapshot(w, vcpu, &s);
		const uint8_t *sp = reinterpret_cast<const uint8_t *>(&s);
		events.push_back(Event{KT_REC_SNAPSHOT, vcpu, std::vector<uint8_t>(sp, sp + sizeof(s))});
	}
	struct kt_end_body end = {};
	end.reason = KT_END_HALTED;
	end.events = events.size();
	kt_writer_end(w, &end);
	const uint8_t *ep = reinterpret_cast<const uint8_t *>(&end);
	events.push_back(Event{KT_REC_END, 0, std::vector<uint8_t>(ep, ep + sizeof(end))});
	EXPECT_EQ(kt_writer_close(w), 0);
	return events;
}

// Read everything; returns the final status (0 clean end, <0 error).
int read_trace(const std::string &path, std::vector<Event> *got, int *open_err = nullptr)
{
	int err = 0;
	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	if (open_err)
		*open_err = err;
	if (!r)
		return err;
	struct kt_event ev;
	int ret;
	while ((ret = kt_reader_next(r, &ev)) == 1)
		got->push_back(Event{ev.type, ev.vcpu, std::vector<uint8_t>(ev.body, ev.body + ev.len)});
	kt_reader_close(r);
	return ret;
}

void expect_prefix(const std::vector<Event> &want, const std::vector<Event> &got)
{
	ASSERT_LE(got.size(), want.size());
	for (size_t i = 0; i < got.size(); i++) {
		EXPECT_EQ(got[i].type, want[i].type) << i;
		EXPECT_EQ(got[i].vcpu, want[i].vcpu) << i;
		ASSERT_EQ(got[i].body, want[i].body) << "event " << i;
	}
}

// Offsets where zstd frames end, found the way the reader finds them.
std::vector<size_t> frame_ends(const std::vector<uint8_t> &file)
{
	std::vector<size_t> ends;
	size_t pos = 0;
	while (pos < file.size()) {
		size_t n = ZSTD_findFrameCompressedSize(file.data() + pos, file.size() - pos);
		if (ZSTD_isError(n))
			break;
		pos += n;
		ends.push_back(pos);
	}
	return ends;
}

TEST(TraceIo, RoundTripIsByteExact)
{
	auto path = temp_path("roundtrip");
	auto want = write_trace(path, 10000, 1, false);
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), 0);
	ASSERT_EQ(got.size(), want.size());
	expect_prefix(want, got);
	unlink(path.c_str());
}

TEST(TraceIo, RandomPayloadsRoundTrip)
{
	auto path = temp_path("random");
	auto want = write_trace(path, 3000, 7, true);
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), 0);
	ASSERT_EQ(got.size(), want.size());
	expect_prefix(want, got);
	unlink(path.c_str());
}

TEST(TraceIo, ManyFramesAndTheHeaderSurvive)
{
	auto path = temp_path("frames");
	write_trace(path, 9000, 2, false);  // 18000+ records: several frames
	auto file = read_file(path);
	EXPECT_GE(frame_ends(file).size(), 5u);
	int err = 0;
	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	ASSERT_NE(r, nullptr);
	size_t len;
	const uint8_t *hdr = kt_reader_header(r, &len);
	uint32_t flen;
	const void *rel = kt_tlv_find(hdr, len, KT_HDR_KERNEL_RELEASE, &flen);
	ASSERT_NE(rel, nullptr);
	EXPECT_EQ(std::string((const char *)rel, flen), "6.12.0-test");
	kt_reader_close(r);
	unlink(path.c_str());
}

TEST(TraceIo, RepetitiveExitsCostFewBytes)
{
	auto path = temp_path("small");
	write_trace(path, 20000, 3, false);
	auto file = read_file(path);
	// ioctl + snapshot per exit; the stream varies only in timestamps.
	EXPECT_LT((double)file.size() / 20000, 8.0) << file.size();
	RecordProperty("bytes_per_exit", std::to_string((double)file.size() / 20000));
	unlink(path.c_str());
}

// Cut at every frame boundary and at many random offsets: every event of
// the frames complete before the cut, then "truncated", never a crash.
TEST(TraceIo, CutTracesYieldCompleteFramesThenTruncation)
{
	auto path = temp_path("cut");
	auto want = write_trace(path, 6000, 4, false);
	auto file = read_file(path);
	auto ends = frame_ends(file);
	ASSERT_GE(ends.size(), 3u);
	std::vector<size_t> cuts(ends.begin(), ends.end() - 1);
	std::mt19937 rng(5);
	for (int i = 0; i < 60; i++)
		cuts.push_back(rng() % file.size());
	auto cut_path = temp_path("cut_piece");
	for (size_t cut : cuts) {
		write_file(cut_path, std::vector<uint8_t>(file.begin(), file.begin() + (long)cut));
		std::vector<Event> got;
		int ret = read_trace(cut_path, &got);
		EXPECT_TRUE(ret == KT_E_TRUNCATED || ret == KT_E_NOT_TRACE) << "cut " << cut << " " << ret;
		expect_prefix(want, got);
		size_t complete = 0;  // frames wholly before the cut hold these records
		for (size_t e : ends)
			if (e <= cut)
				complete = e;
		if (complete && cut > ends[0]) {
			std::vector<Event> whole;
			write_file(cut_path, std::vector<uint8_t>(file.begin(), file.begin() + (long)complete));
			read_trace(cut_path, &whole);
			EXPECT_EQ(got.size(), whole.size()) << "cut " << cut;
		}
	}
	unlink(cut_path.c_str());
	unlink(path.c_str());
}

TEST(TraceIo, AFlippedByteIsAnErrorNeverDifferentData)
{
	auto path = temp_path("flip");
	auto want = write_trace(path, 3000, 6, false);
	auto file = read_file(path);
	auto bad_path = temp_path("flip_bad");
	std::mt19937 rng(9);
	for (int i = 0; i < 40; i++) {
		auto bad = file;
		bad[rng() % bad.size()] ^= (uint8_t)(1 + rng() % 255);
		write_file(bad_path, bad);
		std::vector<Event> got;
		int ret = read_trace(bad_path, &got);
		EXPECT_NE(ret, 0) << "damage went unnoticed";
		expect_prefix(want, got);
	}
	unlink(bad_path.c_str());
	unlink(path.c_str());
}

TEST(TraceIo, NotATraceAndNewerVersionsAreRefused)
{
	auto path = temp_path("other");
	write_file(path, std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), KT_E_NOT_TRACE);

	std::string text = "just some text compressed with zstd, not a trace";
	std::vector<uint8_t> z(ZSTD_compressBound(text.size()));
	z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 1));
	write_file(path, z);
	EXPECT_EQ(read_trace(path, &got), KT_E_NOT_TRACE);

	struct kt_file_magic m = {};
	memcpy(m.magic, KT_MAGIC, 8);
	m.major = KT_FORMAT_MAJOR + 1;
	z.assign(ZSTD_compressBound(sizeof(m)), 0);
	z.resize(ZSTD_compress(z.data(), z.size(), &m, sizeof(m), 1));
	write_file(path, z);
	EXPECT_EQ(read_trace(path, &got), KT_E_NEWER);
	EXPECT_STRNE(kt_reader_strerror(KT_E_NEWER), kt_reader_strerror(KT_E_NOT_TRACE));
	unlink(path.c_str());
}

// The 100 ms bound: an event written and then nothing else, with the
// writer still open, is readable by another reader soon after.
TEST(TraceIo, FramesAreFlushedWithinAFewHundredMilliseconds)
{
	auto path = temp_path("flush");
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	kt_writer_header(w, header_tlv.data(), header_tlv.size());
	uint64_t gpa = 0;
	kt_writer_memwrite(w, gpa, "x", 1);
	usleep(400 * 1000);
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), KT_E_TRUNCATED);  // no END yet
	EXPECT_EQ(got.size(), 1u);
	EXPECT_EQ(kt_writer_close(w), 0);
	unlink(path.c_str());
}

TEST(TraceIo, WriterRefusesToOverwriteWithoutForce)
{
	auto path = temp_path("exists");
	write_file(path, {1, 2, 3});
	int err = 0;
	EXPECT_EQ(kt_writer_open(path.c_str(), false, &err), nullptr);
	EXPECT_EQ(err, -EEXIST);
	EXPECT_EQ(read_file(path), (std::vector<uint8_t>{1, 2, 3}));
	unlink(path.c_str());
}

}  // namespace
