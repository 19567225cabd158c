// The trace format: write/read round trip, XOR deltas, frames, truncation,
// corruption and version checks, all through the real writer and reader.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <csignal>
#include <map>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

extern "C" {
#include "common/hash.h"
#include "trace/trace_header.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"
}

#include "tests/unit/files.h"

namespace {

struct Event {
	uint8_t type;
	uint16_t vcpu;
	std::vector<uint8_t> body;  // as the reader should hand it out
};

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
	EXPECT_EQ(kt_reader_next(r, &ev), ret);  // an end or an error stays put
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

// Events in the first `frames` frames, counted by decompressing them with
// zstd directly and reading each event frame's head (not through the
// reader); the first frame holds the header alone.
size_t events_in_frames(const std::vector<uint8_t> &file, size_t frames)
{
	size_t pos = 0, events = 0;
	for (size_t i = 0; i < frames; i++) {
		size_t n = ZSTD_findFrameCompressedSize(file.data() + pos, file.size() - pos);
		std::vector<uint8_t> out(ZSTD_getFrameContentSize(file.data() + pos, n));
		EXPECT_EQ(ZSTD_decompress(out.data(), out.size(), file.data() + pos, n), out.size());
		pos += n;
		if (i == 0)
			continue;
		struct kt_frame_head head;
		EXPECT_GE(out.size(), sizeof(head));
		memcpy(&head, out.data(), sizeof(head));
		EXPECT_EQ(head.magic, KT_FRAME_MAGIC);
		events += head.records;
	}
	return events;
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
		size_t complete = 0;  // frames wholly before the cut
		for (size_t e : ends)
			complete += e <= cut;
		if (cut >= ends[0]) {
			EXPECT_EQ(ret, KT_E_TRUNCATED) << "cut " << cut;
		}
		EXPECT_EQ(got.size(), complete ? events_in_frames(file, complete) : 0)
			<< "cut " << cut;
	}
	unlink(cut_path.c_str());
	unlink(path.c_str());
}

TEST(TraceIo, AFlippedByteIsAnErrorNeverDifferentData)
{
	auto path = temp_path("flip");
	auto want = write_trace(path, 3000, 6, false);
	auto file = read_file(path);
	auto ends = frame_ends(file);
	ASSERT_GE(ends.size(), 3u);
	auto bad_path = temp_path("flip_bad");
	std::mt19937 rng(9);
	for (int i = 0; i < 40; i++) {
		auto bad = file;
		// The first few land in frames' checksums, the rest anywhere.
		size_t at = i < 8 ? ends[i % 3] - 1 - i / 3 : rng() % bad.size();
		bad[at] ^= (uint8_t)(1 + rng() % 255);
		write_file(bad_path, bad);
		std::vector<Event> got;
		int ret = read_trace(bad_path, &got);
		// A damaged frame header may also declare more than the reader takes.
		EXPECT_TRUE(ret == KT_E_CORRUPT || ret == KT_E_TRUNCATED || ret == KT_E_NOT_TRACE ||
			    ret == KT_E_LIMIT)
			<< "damage at " << at << " gave " << ret;
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
	usleep(250 * 1000);
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

// Several vCPU threads at once: each vCPU's records come back in its order,
// whatever the interleaving.
TEST(TraceIo, ConcurrentWritersKeepEachVcpusOrder)
{
	auto path = temp_path("threads");
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	ASSERT_EQ(kt_writer_header(w, header_tlv.data(), header_tlv.size()), 0);
	const unsigned threads = 4, per = 20000;
	std::vector<std::thread> ts;
	for (unsigned t = 0; t < threads; t++)
		ts.emplace_back([w, t] {
			for (uint64_t i = 0; i < per; i++) {
				struct kt_snapshot_body s = {};
				s.source = KT_SNAP_SYNC_REGS;
				s.regs.rax = i;
				s.regs.rbx = t;
				kt_writer_snapshot(w, (uint16_t)t, &s);
			}
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(kt_writer_events(w), (uint64_t)threads * per);
	struct kt_end_body end = {};
	kt_writer_end(w, &end);
	ASSERT_EQ(kt_writer_close(w), 0);

	std::vector<Event> got;
	ASSERT_EQ(read_trace(path, &got), 0);
	ASSERT_EQ(got.size(), (size_t)threads * per + 1);
	std::map<uint16_t, uint64_t> next;
	for (size_t i = 0; i + 1 < got.size(); i++) {
		struct kt_snapshot_body s;
		ASSERT_EQ(got[i].type, KT_REC_SNAPSHOT);
		memcpy(&s, got[i].body.data(), sizeof(s));
		EXPECT_EQ(s.regs.rbx, got[i].vcpu);
		ASSERT_EQ(s.regs.rax, next[got[i].vcpu]++) << "vcpu " << got[i].vcpu;
	}
	for (unsigned t = 0; t < threads; t++)
		EXPECT_EQ(next[(uint16_t)t], per);
	unlink(path.c_str());
}

// One vCPU alternating requests, with an IN exit's completion data changing
// the "in" length: all of it is delta-coded and comes back exact.
TEST(TraceIo, DeltasSurviveMixedRequestsAndChangingLengths)
{
	auto path = temp_path("mixed");
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	kt_writer_header(w, header_tlv.data(), header_tlv.size());
	std::mt19937 rng(11);
	std::vector<Event> want;
	for (unsigned i = 0; i < 3000; i++) {
		struct kt_ioctl_body b = {};
		b.role = KT_FD_VCPU;
		b.request = i % 3 == 2 ? KVM_GET_REGS : KVM_RUN;
		b.t_start_ns = 1000ull * i;
		b.dur_ns = rng() % 5000;
		std::vector<uint8_t> in(b.request == KVM_RUN ? 32 + i % 5 : 0);
		std::vector<uint8_t> out(b.request == KVM_RUN ? 288 + (i % 4 == 0) : 144);
		for (auto &c : in)
			c = (uint8_t)(rng() % 3);
		for (auto &c : out)
			c = (uint8_t)(rng() % 4 ? 0 : rng());
		b.in_len = (uint32_t)in.size();
		b.out_len = (uint32_t)out.size();
		kt_writer_ioctl(w, 1, &b, in.data(), out.data());
		Event e{KT_REC_IOCTL, 1, {}};
		const uint8_t *bp = reinterpret_cast<const uint8_t *>(&b);
		e.body.assign(bp, bp + sizeof(b));
		e.body.insert(e.body.end(), in.begin(), in.end());
		e.body.insert(e.body.end(), out.begin(), out.end());
		want.push_back(e);
	}
	struct kt_end_body end = {};
	kt_writer_end(w, &end);
	const uint8_t *ep = reinterpret_cast<const uint8_t *>(&end);
	want.push_back(Event{KT_REC_END, 0, std::vector<uint8_t>(ep, ep + sizeof(end))});
	ASSERT_EQ(kt_writer_close(w), 0);

	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	ASSERT_NE(r, nullptr);
	struct kt_event ev;
	size_t i = 0, deltas = 0;
	int ret;
	while ((ret = kt_reader_next(r, &ev)) == 1) {
		ASSERT_LT(i, want.size());
		ASSERT_EQ(std::vector<uint8_t>(ev.body, ev.body + ev.len), want[i].body) << i;
		if (ev.type == KT_REC_IOCTL) {
			EXPECT_EQ(ev.in, ev.body + sizeof(struct kt_ioctl_body));
			EXPECT_EQ(ev.out, ev.in + ev.ioctl->in_len);
		}
		deltas += (ev.flags & KT_RF_XOR) != 0;
		i++;
		EXPECT_EQ(kt_reader_index(r), i);
	}
	EXPECT_EQ(ret, 0);
	EXPECT_EQ(i, want.size());
	EXPECT_GT(deltas, want.size() / 2);  // the delta coding was really used
	kt_reader_close(r);
	unlink(path.c_str());
}

TEST(TraceIo, HeaderFieldsRoundTripTyped)
{
	struct kt_buf b = {};
	struct kt_run_config rc = {};
	rc.mode = KT_MODE_PROTECTED;
	rc.vcpus = 2;
	rc.mem_bytes = 0x400000;
	rc.guest_arg = 77;
	struct kt_cap_result caps[3] = { { KVM_CAP_SYNC_REGS, 7 }, { KVM_CAP_NR_VCPUS, 4 },
					 { KVM_CAP_IRQCHIP, -22 } };
	std::vector<uint8_t> cpuid(sizeof(struct kvm_cpuid2) + 2 * sizeof(struct kvm_cpuid_entry2));
	auto *c = reinterpret_cast<struct kvm_cpuid2 *>(cpuid.data());
	c->nent = 2;
	c->entries[1].function = 0x80000001;
	std::vector<uint8_t> image(4097);
	for (size_t i = 0; i < image.size(); i++)
		image[i] = (uint8_t)(i * 13);
	kt_tlv_put(&b, KT_HDR_KERNEL_RELEASE, "6.1.0-x", 7);  // odd length: unaligned after it
	kt_tlv_put(&b, KT_HDR_RUN_CONFIG, &rc, sizeof(rc));
	kt_tlv_put(&b, 999, "future", 6);  // a tag from a later minor
	kt_tlv_put(&b, KT_HDR_CAPS, caps, sizeof(caps));
	kt_tlv_put(&b, KT_HDR_SUPPORTED_CPUID, cpuid.data(), (uint32_t)cpuid.size());
	kt_tlv_put(&b, KT_HDR_GUEST_IMAGE, image.data(), (uint32_t)image.size());
	auto path = temp_path("header");
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	ASSERT_EQ(kt_writer_header(w, b.data, b.len), 0);
	ASSERT_EQ(kt_writer_close(w), 0);
	struct kt_reader *r = kt_reader_open(path.c_str(), &err);
	ASSERT_NE(r, nullptr) << err;
	size_t raw_len;
	const uint8_t *raw = kt_reader_header(r, &raw_len);
	EXPECT_EQ(std::vector<uint8_t>(raw, raw + raw_len), std::vector<uint8_t>(b.data, b.data + b.len));
	const struct kt_header *h = kt_reader_hdr(r);
	EXPECT_EQ(h->major, KT_FORMAT_MAJOR);
	EXPECT_EQ(h->minor, KT_FORMAT_MINOR);
	EXPECT_EQ(h->nfields, 6u);
	EXPECT_STREQ(kt_header_string(h, KT_HDR_KERNEL_RELEASE), "6.1.0-x");
	EXPECT_EQ(kt_header_string(h, KT_HDR_CPU_VENDOR), nullptr);
	uint32_t len = 0;
	const char *future = (const char *)kt_header_find(h, 999, &len);
	ASSERT_NE(future, nullptr);
	EXPECT_EQ(std::string(future, len), "future");
	struct kt_run_config got_rc;
	ASSERT_EQ(kt_header_run_config(h, &got_rc), 0);
	EXPECT_EQ(memcmp(&got_rc, &rc, sizeof(rc)), 0);
	const struct kt_cap_result *got_caps;
	size_t ncaps;
	ASSERT_EQ(kt_header_caps(h, &got_caps, &ncaps), 0);
	ASSERT_EQ(ncaps, 3u);
	EXPECT_EQ((uintptr_t)got_caps % alignof(struct kt_cap_result), 0u);
	EXPECT_EQ(got_caps[2].result, -22);
	const struct kvm_cpuid2 *got_cpuid;
	ASSERT_EQ(kt_header_cpuid(h, &got_cpuid), 0);
	EXPECT_EQ(got_cpuid->nent, 2u);
	EXPECT_EQ(got_cpuid->entries[1].function, 0x80000001u);
	const uint8_t *got_image;
	size_t image_len;
	ASSERT_EQ(kt_header_guest_image(h, &got_image, &image_len), 0);
	EXPECT_EQ(std::vector<uint8_t>(got_image, got_image + image_len), image);
	EXPECT_EQ(kt_header_guest_image(h, &got_image, &image_len), 0);
	struct kt_event ev;
	EXPECT_EQ(kt_reader_next(r, &ev), KT_E_TRUNCATED);  // a header and no END
	kt_reader_close(r);

	// A cpuid claiming more entries than it holds is malformed.
	struct kt_header parsed = {};
	struct kt_buf bad = {};
	c->nent = 3;
	kt_tlv_put(&bad, KT_HDR_SUPPORTED_CPUID, cpuid.data(), (uint32_t)cpuid.size());
	kt_tlv_put(&bad, KT_HDR_RUN_CONFIG, &rc, 8);
	ASSERT_EQ(kt_header_parse(&parsed, bad.data, bad.len), 0);
	EXPECT_EQ(kt_header_cpuid(&parsed, &got_cpuid), -EBADMSG);
	EXPECT_EQ(kt_header_run_config(&parsed, &got_rc), -EBADMSG);
	EXPECT_EQ(kt_header_caps(&parsed, &got_caps, &ncaps), -ENOENT);
	kt_header_free(&parsed);
	EXPECT_EQ(kt_header_parse(&parsed, bad.data, bad.len - 1), -EBADMSG);
	kt_buf_free(&bad);
	kt_buf_free(&b);
	unlink(path.c_str());
}

// A trace assembled frame by frame, to say what the writer never would.
std::vector<uint8_t> frame_of(const std::vector<uint8_t> &content, bool checksum = true)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	std::vector<uint8_t> z(ZSTD_compressBound(content.size()));
	z.resize(ZSTD_compress2(c, z.data(), z.size(), content.data(), content.size()));
	ZSTD_freeCCtx(c);
	return z;
}

void put_record(std::vector<uint8_t> *s, uint8_t type, const std::vector<uint8_t> &body)
{
	struct kt_rec_hdr h = { type, 0, 0, (uint32_t)body.size() };
	const uint8_t *hp = reinterpret_cast<const uint8_t *>(&h);
	s->insert(s->end(), hp, hp + sizeof(h));
	s->insert(s->end(), body.begin(), body.end());
	s->resize(s->size() + KT_REC_PADDED(body.size()) - body.size());
}

// A version 1 trace (the version 1 writer is gone; the reader keeps it).
std::vector<uint8_t> handmade(uint16_t minor, uint8_t extra_type, bool checksum)
{
	std::vector<uint8_t> head, events, file;
	struct kt_file_magic m = {};
	memcpy(m.magic, KT_MAGIC, 8);
	m.major = 1;
	m.minor = minor;
	head.assign(reinterpret_cast<uint8_t *>(&m), reinterpret_cast<uint8_t *>(&m) + sizeof(m));
	put_record(&head, KT_REC_HEADER, header_tlv);
	put_record(&events, extra_type, {1, 2, 3});
	struct kt_end_body end = {};
	const uint8_t *ep = reinterpret_cast<const uint8_t *>(&end);
	put_record(&events, KT_REC_END, std::vector<uint8_t>(ep, ep + sizeof(end)));
	file = frame_of(head);
	auto second = frame_of(events, checksum);
	file.insert(file.end(), second.begin(), second.end());
	return file;
}

TEST(TraceIo, NewerMinorRecordTypesComeOutRawOlderOnesAreCorrupt)
{
	auto path = temp_path("minor");
	write_file(path, handmade(2, 42, true));  // 1.2: newer than the last version 1
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), 0);
	ASSERT_EQ(got.size(), 2u);
	EXPECT_EQ(got[0].type, 42);
	EXPECT_EQ(got[0].body, (std::vector<uint8_t>{1, 2, 3}));
	EXPECT_EQ(got[1].type, KT_REC_END);

	got.clear();
	write_file(path, handmade(1, 42, true));
	EXPECT_EQ(read_trace(path, &got), KT_E_CORRUPT);
	EXPECT_TRUE(got.empty());
	unlink(path.c_str());
}

TEST(TraceIo, AFrameWithoutChecksumIsCorrupt)
{
	auto path = temp_path("nosum");
	write_file(path, handmade(2, 42, false));
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), KT_E_CORRUPT);
	EXPECT_TRUE(got.empty());
	unlink(path.c_str());
}

// A full disk (here: RLIMIT_FSIZE) is reported by close, and the frames
// written before it read back as a truncated trace.
TEST(TraceIo, WriteErrorsAreReportedAndTheWrittenPartStaysReadable)
{
	auto path = temp_path("full");
	struct rlimit old, lim;
	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	auto old_sig = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 6000;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	kt_writer_header(w, header_tlv.data(), header_tlv.size());
	std::mt19937 rng(3);
	std::vector<uint8_t> page(4096);
	for (int i = 0; i < 200; i++) {
		for (auto &c : page)
			c = (uint8_t)rng();  // incompressible: the limit is hit soon
		kt_writer_memwrite(w, 0x1000ull * i, page.data(), page.size());
		if (i % 10 == 9)
			usleep(120 * 1000);  // let frames go out one by one
		if (i == 40)
			break;
	}
	int ret = kt_writer_close(w);
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);
	EXPECT_EQ(ret, -EFBIG);
	std::vector<Event> got;
	EXPECT_EQ(read_trace(path, &got), KT_E_TRUNCATED);
	auto file = read_file(path);
	EXPECT_EQ(got.size(), events_in_frames(file, frame_ends(file).size()));
	for (size_t i = 0; i < got.size(); i++)
		EXPECT_EQ(got[i].type, KT_REC_MEMWRITE);
	unlink(path.c_str());
}

TEST(TraceIo, WritingToAFullDeviceFailsAtCloseWithoutCrashing)
{
	int err = 0;
	struct kt_writer *w = kt_writer_open("/dev/full", true, &err);
	if (!w)
		GTEST_SKIP() << "/dev/full: " << err;
	EXPECT_EQ(kt_writer_header(w, header_tlv.data(), header_tlv.size()), 0);
	kt_writer_memwrite(w, 0, "abc", 3);
	EXPECT_EQ(kt_writer_close(w), -ENOSPC);
}

TEST(TraceIo, LargeMemoryWritesAreSplitAtConsecutiveAddresses)
{
	auto path = temp_path("bigwrite");
	std::vector<uint8_t> image(9u << 20);
	for (size_t i = 0; i < image.size(); i++)
		image[i] = (uint8_t)(i >> 12 ^ i);
	int err = 0;
	struct kt_writer *w = kt_writer_open(path.c_str(), true, &err);
	ASSERT_NE(w, nullptr);
	kt_writer_header(w, header_tlv.data(), header_tlv.size());
	kt_writer_memwrite(w, 0x100000, image.data(), image.size());
	struct kt_end_body end = {};
	kt_writer_end(w, &end);
	ASSERT_EQ(kt_writer_close(w), 0);
	std::vector<Event> got;
	ASSERT_EQ(read_trace(path, &got), 0);
	std::vector<uint8_t> joined;
	uint64_t next = 0x100000;
	for (auto &e : got) {
		if (e.type != KT_REC_MEMWRITE)
			continue;
		uint64_t gpa;
		memcpy(&gpa, e.body.data(), 8);
		EXPECT_EQ(gpa, next);
		joined.insert(joined.end(), e.body.begin() + 8, e.body.end());
		next += e.body.size() - 8;
	}
	EXPECT_GT(got.size(), 2u);
	EXPECT_EQ(joined, image);
	unlink(path.c_str());
}

// kt_xxh64 is XXH64; zstd's frame checksum is XXH64's low 32 bits, so
// zstd is an independent implementation to check it against.
TEST(TraceIo, PageHashIsXxh64)
{
	std::mt19937 rng(17);
	for (size_t len : {0, 1, 3, 4, 7, 8, 31, 32, 33, 63, 100, 4096}) {
		std::vector<uint8_t> data(len);
		for (auto &c : data)
			c = (uint8_t)rng();
		auto z = frame_of(data);
		uint32_t sum;
		memcpy(&sum, z.data() + z.size() - 4, 4);
		EXPECT_EQ((uint32_t)kt_xxh64(data.data(), len), sum) << len;
	}
	// Word-wise FNV-1a missed two flips of the same high bit; XXH64 does not.
	std::vector<uint8_t> page(4096), flipped = page;
	flipped[7] ^= 0x80;
	flipped[15] ^= 0x80;
	EXPECT_NE(kt_xxh64(page.data(), page.size()), kt_xxh64(flipped.data(), flipped.size()));
}

}  // namespace
