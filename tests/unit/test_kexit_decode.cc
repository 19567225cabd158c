// In-kernel exits (KT_REC_KEXIT) decoded, named, counted and compared:
// field paths by kexits' tables with absent fields left out, show's line,
// the reason and step short forms, the host-caused rule, the tally behind
// show --stats and kexits.count.*, and the run comparison behind
// kexits.sequence and kexit.*.  Every buffer is exactly as long as claimed
// (run under SANITIZE=1).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "decode/decode.h"
#include "decode/kexit.h"
#include "kexits/kx_abi.h"
#include "replayer/kexit_compare.h"
#include "trace/trace_format.h"
#include "trace/trace_header.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"
}

#include "tests/unit/sink.h"

namespace {

// A KEXIT body of kind k whose data is the kind's struct; present: every
// field unless told.
template <typename T>
struct kt_kexit_body body(uint8_t kind, const T &data, uint16_t present = 0xffff,
			  uint64_t ts = 0, uint64_t seq = 0)
{
	struct kt_kexit_body b = {};
	b.ts_ns = ts;
	b.seq = seq;
	b.tid = 4242;
	b.cpu = 1;
	b.kind = kind;
	b.present = present;
	static_assert(sizeof(T) <= sizeof(b.data), "fits");
	memcpy(b.data, &data, sizeof(data));
	return b;
}

struct kt_kexit_body svm_exit(uint32_t reason, uint64_t rip = 0x1014, uint64_t ts = 0)
{
	struct kx_exit x = {};
	x.reason = reason;
	x.isa = KX_ISA_SVM;
	x.rip = rip;
	return body(KX_EXIT, x, 0xff, ts);  // 6.1: no requests (bit 8)
}

struct kt_kexit_body entry(uint64_t ts = 0)
{
	struct kx_entry e = {};
	e.rip = 0x1016;
	return body(KX_ENTRY, e, 0x7, ts);
}

struct kt_kexit_body cpuid(uint32_t fn, uint64_t rax)
{
	struct kx_cpuid c = {};
	c.function = fn;
	c.rax = rax;
	c.found = 1;
	return body(KX_CPUID, c);
}

struct kt_kexit_body msr(uint32_t write, uint32_t ecx, uint64_t data)
{
	struct kx_msr m = {};
	m.write = write;
	m.ecx = ecx;
	m.data = data;
	return body(KX_MSR, m);
}

struct kt_kexit_body inj(uint8_t vector, bool reinjected, uint16_t present = 0xf)
{
	struct kx_inj_exception e = {};
	e.exception = vector;
	e.has_error = 1;
	e.reinjected = reinjected;
	return body(KX_INJ_EXCEPTION, e, present);
}

std::map<std::string, std::string> flat_event(const struct kt_kexit_body &b)
{
	Sink f(kt_sink_flat);
	struct kt_event ev = kt_event_view(KT_REC_KEXIT, 0, (const uint8_t *)&b, sizeof(b));

	decode_event(&f.s, &ev);
	return f.flat();
}

std::string line(const struct kt_kexit_body &b)
{
	Sink t(kt_sink_text);

	decode_kexit_line(&t.s, &b, sizeof(b));
	return t.str();
}

std::string reason(const struct kt_kexit_body &b)
{
	char buf[64];

	return kt_kexit_reason(&b, buf, sizeof(buf));
}

std::string step(const struct kt_kexit_body &b)
{
	char buf[96];

	return kt_kexit_step(&b, buf, sizeof(buf), nullptr);
}

}  // namespace

TEST(DecodeKexit, EventFieldsUnderKexitAndTheKind)
{
	auto f = flat_event(cpuid(0, 0x1c));
	EXPECT_EQ(f["event"], "kexit");
	EXPECT_EQ(f["kexit.kind"], "cpuid");
	EXPECT_EQ(f["kexit.tid"], "4242");
	EXPECT_EQ(f["kexit.cpu"], "1");
	EXPECT_EQ(f["kexit.cpuid.function"], "0x0");
	EXPECT_EQ(f["kexit.cpuid.rax"], "0x1c");
	EXPECT_TRUE(f.count("kexit.ts_ns") && f.count("kexit.seq"));
	EXPECT_EQ(f.count("kexit.cpuid.used_max_basic"), 1u);
}

TEST(DecodeKexit, FieldsTheKernelDidNotPublishAreLeftOut)
{
	auto f = flat_event(svm_exit(0x72));
	EXPECT_EQ(f["kexit.exit.reason"], "cpuid");
	EXPECT_EQ(f["kexit.exit.isa"], "SVM");
	EXPECT_EQ(f["kexit.exit.rip"], "0x1014");
	EXPECT_EQ(f.count("kexit.exit.requests"), 0u);  // before 6.14
}

TEST(DecodeKexit, ExitReasonsNamedByIsa)
{
	struct kx_exit x = {};
	x.reason = 10;
	x.isa = KX_ISA_VMX;
	EXPECT_EQ(flat_event(body(KX_EXIT, x))["kexit.exit.reason"], "CPUID");
	x.reason = 13;
	x.isa = KX_ISA_PVM;
	EXPECT_EQ(flat_event(body(KX_EXIT, x))["kexit.exit.reason"], "GP excp");
	x.reason = 0x1234;
	EXPECT_EQ(flat_event(body(KX_EXIT, x))["kexit.exit.reason"], "4660");  // no name
}

TEST(DecodeKexit, ShowLineLeadsWithTheKindAndItsMode)
{
	EXPECT_EQ(line(msr(0, 0xc0000080, 0x500)),
		  " msr read ecx=0xc0000080 data=0x500 exception=0");
	struct kx_pio p = {};
	p.rw = 1;
	p.port = 0xe9;
	p.size = p.count = 1;
	p.val = 'H';
	EXPECT_EQ(line(body(KX_PIO, p)), " pio out port=0xe9 size=1 count=1 val=0x48");
	EXPECT_EQ(line(svm_exit(0x72)).rfind(" exit reason=cpuid isa=SVM rip=0x1014", 0), 0u);
	struct kx_emulate e = {};
	e.rip = 0x1014;
	e.len = 2;
	e.insn[0] = 0x0f;
	e.insn[1] = 0xa2;
	e.insn[2] = 0xff;  // past len: not shown
	EXPECT_NE(line(body(KX_EMULATE, e)).find(" insn=0fa2 "), std::string::npos);
}

TEST(DecodeKexit, LostRecord)
{
	struct kt_kexit_lost_body l = {100, 7};
	Sink f(kt_sink_flat);
	struct kt_event ev = kt_event_view(KT_REC_KEXIT_LOST, 0, (const uint8_t *)&l, sizeof(l));

	decode_event(&f.s, &ev);
	auto m = f.flat();
	EXPECT_EQ(m["event"], "kexit_lost");
	EXPECT_EQ(m["kexit_lost.seq"], "100");
	EXPECT_EQ(m["kexit_lost.count"], "7");
}

TEST(DecodeKexit, ShortBodiesAreErrorsNotReads)
{
	auto b = cpuid(0, 1);
	std::vector<uint8_t> cut((uint8_t *)&b, (uint8_t *)&b + sizeof(b) - 1);
	Sink f(kt_sink_flat);
	struct kt_event ev = kt_event_view(KT_REC_KEXIT, 0, cut.data(), (uint32_t)cut.size());

	decode_event(&f.s, &ev);
	EXPECT_EQ(f.flat()["error"], "short buffer");
	Sink t(kt_sink_text);
	decode_kexit_line(&t.s, cut.data(), cut.size());
	EXPECT_EQ(t.str(), " error=short buffer");
}

TEST(DecodeKexit, ReasonsForCountingAndStepsForSequences)
{
	EXPECT_EQ(reason(svm_exit(0x72)), "exit.cpuid");
	EXPECT_EQ(reason(cpuid(0, 1)), "cpuid");
	EXPECT_EQ(reason(msr(0, 0xc0000080, 0)), "msr.read");
	EXPECT_EQ(reason(msr(1, 0x174, 0)), "msr.write");
	EXPECT_EQ(reason(inj(13, false)), "inj_exception.GP");
	EXPECT_EQ(reason(inj(13, true)), "inj_exception.GP.reinjected");
	EXPECT_EQ(reason(entry()), "entry");
	struct kx_exit x = {};
	x.reason = 13;
	x.isa = KX_ISA_PVM;
	EXPECT_EQ(reason(body(KX_EXIT, x)), "exit.GP_excp");  // a path, no blanks
	x.reason = 0x1234;
	EXPECT_EQ(reason(body(KX_EXIT, x)), "exit.0x1234");

	EXPECT_EQ(step(svm_exit(0x72)), "exit(cpuid)");
	EXPECT_EQ(step(cpuid(7, 1)), "cpuid(0x7 0x0)");
	EXPECT_EQ(step(msr(0, 0xc0000080, 0x500)), "msr(read 0xc0000080)");
	EXPECT_EQ(step(entry()), "entry");
	EXPECT_EQ(step(inj(13, false)), "inj_exception(GP)");
	uint64_t k1, k2;
	char buf[96];
	auto a = msr(0, 0xc0000080, 1), b = msr(0, 0xc0000080, 2);  // results differ
	kt_kexit_step(&a, buf, sizeof(buf), &k1);
	kt_kexit_step(&b, buf, sizeof(buf), &k2);
	EXPECT_EQ(k1, k2);
}

TEST(DecodeKexit, HostCausedExits)
{
	EXPECT_TRUE(kt_kexit_host(&(const struct kt_kexit_body &)svm_exit(0x60)));   // intr
	EXPECT_TRUE(kt_kexit_host(&(const struct kt_kexit_body &)svm_exit(0x400)));  // npf
	EXPECT_FALSE(kt_kexit_host(&(const struct kt_kexit_body &)svm_exit(0x72)));  // cpuid
	struct kx_exit x = {};
	x.isa = KX_ISA_VMX;
	x.reason = 1;  // EXTERNAL_INTERRUPT
	auto vmx = body(KX_EXIT, x);
	EXPECT_TRUE(kt_kexit_host(&vmx));
	auto again = inj(13, true), first = inj(13, false), unknown = inj(13, true, 0x7);
	EXPECT_TRUE(kt_kexit_host(&again));
	EXPECT_FALSE(kt_kexit_host(&first));
	EXPECT_FALSE(kt_kexit_host(&unknown));  // the kernel does not say
}

TEST(KexitTally, CountsByReasonTimesExitToEntryAndKeepsTheHostApart)
{
	struct kt_kexit_tally t = {};
	std::vector<struct kt_kexit_body> evs = {
		svm_exit(0x72, 0x1014, 100), cpuid(0, 1), entry(350),
		svm_exit(0x60, 0x1016, 400), entry(500),
		svm_exit(0x7c, 0x101b, 600), msr(0, 0xc0000080, 0x500), entry(700),
	};
	for (auto &b : evs)
		kt_kexit_tally_add(&t, 0, &b);
	kt_kexit_tally_lost(&t, 3);
	std::map<std::string, struct kt_kexit_row> rows;
	for (size_t i = 0; i < kt_buf_count(&t.rows, struct kt_kexit_row); i++)
		rows[kt_buf_at(&t.rows, struct kt_kexit_row, i).name] =
			kt_buf_at(&t.rows, struct kt_kexit_row, i);
	EXPECT_EQ(rows["exit.cpuid"].count, 1u);
	EXPECT_EQ(rows["exit.cpuid"].timed, 1u);
	EXPECT_EQ(rows["exit.cpuid"].ns, 250u);
	EXPECT_EQ(rows["exit.interrupt"].ns, 100u);
	EXPECT_EQ(rows["entry"].count, 3u);

	struct kt_kexits_hdr h = {};
	h.state = KT_KEXITS_ON;
	h.attached = 1u << KX_EXIT | 1u << KX_ENTRY | 1u << KX_MSR | 1u << KX_CPUID;
	Sink f(kt_sink_flat);
	kt_kexit_tally_emit(&f.s, &t, &h);
	std::map<std::string, std::string> want = {
		{"kexits.count.exit", "2"}, {"kexits.count.entry", "2"},
		{"kexits.count.msr", "1"}, {"kexits.count.cpuid", "1"},
		{"kexits.count.exit.cpuid", "1"}, {"kexits.count.exit.msr", "1"},
		{"kexits.count.msr.read", "1"}, {"kexits.count.lost", "3"},
		{"kexits.host.exit.interrupt", "1"}, {"kexits.host.entry", "1"},
	};
	EXPECT_EQ(f.flat(), want);

	struct kt_kexit_tally sum = {};
	EXPECT_EQ(kt_kexit_tally_merge(&sum, &t), 0);
	EXPECT_EQ(kt_kexit_tally_merge(&sum, &t), 0);
	Sink g(kt_sink_flat);
	kt_kexit_tally_emit(&g.s, &sum, &h);
	EXPECT_EQ(g.flat()["kexits.count.exit"], "4");
	EXPECT_EQ(g.flat()["kexits.host.entry"], "2");
	Sink none(kt_sink_flat);
	kt_kexit_tally_emit(&none.s, &t, nullptr);  // the trace did not capture
	EXPECT_EQ(kt_sink_nfields(&none.s), 0u);
	kt_kexit_tally_free(&t);
	kt_kexit_tally_free(&sum);
}

TEST(DecodeKexit, HeaderFieldNamesWhatTheKernelLacks)
{
	struct kt_kexits_hdr h = {};
	h.state = KT_KEXITS_ON;
	h.asked = h.attached = 1u << KX_EXIT | 1u << KX_ENTRY;
	h.known[KX_EXIT] = 0x1ff;
	h.present[KX_EXIT] = 0xff;
	h.known[KX_ENTRY] = h.present[KX_ENTRY] = 0x1f;
	Sink t(kt_sink_text);
	decode_kexits_hdr(&t.s, &h, sizeof(h));
	EXPECT_EQ(t.str(), " state=on asked=0x3 [exit entry] attached=0x3 [exit entry] "
			   "ring_bytes=0 unpublished={kvm_exit=0x100 [requests]}");
	h.state = KT_KEXITS_UNAVAILABLE;
	Sink u(kt_sink_text);
	decode_kexits_hdr(&u.s, &h, sizeof(h));
	EXPECT_EQ(u.str(), " state=unavailable asked=0x3 [exit entry]");
}

namespace {

struct Diffs {
	std::vector<std::string> paths;
	static void report(void *ctx, const struct kt_kexit_diff_item *d)
	{
		static_cast<Diffs *>(ctx)->paths.push_back(d->path);
	}
};

struct kt_kexit_run run_of(const std::vector<struct kt_kexit_body> &evs)
{
	struct kt_kexit_run r = {};
	uint64_t i = 1;

	for (auto &b : evs)
		kt_kexit_run_add(&r, i++, &b, nullptr);
	return r;
}

std::vector<std::string> compare(const std::vector<struct kt_kexit_body> &a,
				 const std::vector<struct kt_kexit_body> &b,
				 const char *ignore = nullptr)
{
	Diffs d;
	struct kt_pathset *set = kt_pathset_new();
	for (const char *p : {"kexit.ts_ns", "kexit.seq", "kexit.tid", "kexit.cpu"})
		kt_pathset_add(set, p);
	if (ignore)
		kt_pathset_add(set, ignore);
	struct kt_kexit_cmp c;
	kt_kexit_cmp_init(&c, set, nullptr, Diffs::report, &d);
	auto ra = run_of(a), rb = run_of(b);
	const uint64_t at[2] = {1, 1};
	kt_kexit_compare_runs(&c, &ra, &rb, at, "vcpu0 ioctl(KVM_RUN) -> HLT");
	kt_kexit_run_clear(&ra, nullptr);
	kt_kexit_run_clear(&rb, nullptr);
	kt_kexit_cmp_free(&c);
	kt_pathset_free(set);
	return d.paths;
}

}  // namespace

TEST(KexitCompare, SameStepsSameAnswersNothing)
{
	std::vector<struct kt_kexit_body> a = {svm_exit(0x72), cpuid(0, 1), entry()};
	auto b = a;
	b[1].ts_ns = 99;  // the capture's own fields never count
	b[1].tid = 1;
	EXPECT_TRUE(compare(a, b).empty());
}

TEST(KexitCompare, HostExitsAnywhereDoNotCount)
{
	std::vector<struct kt_kexit_body> a = {entry(), svm_exit(0x72), cpuid(0, 1)};
	// a nested page fault first; an interrupt for the host after the entry
	// back, cutting short the delivery of an exception injected there
	std::vector<struct kt_kexit_body> b = {entry(), svm_exit(0x400), entry(), svm_exit(0x72),
					       cpuid(0, 1), entry(), svm_exit(0x60),
					       inj(13, true), entry()};
	a.push_back(entry());
	EXPECT_TRUE(compare(a, b).empty());
}

TEST(KexitCompare, AnExitsEventInfoCountsOnlyWhenValid)
{
	auto stale = svm_exit(0x7b), none = svm_exit(0x7b), valid = svm_exit(0x7b);
	struct kx_exit x;
	memcpy(&x, stale.data, sizeof(x));
	x.intr_info = 0xb0d;  // SVM leaves the last vector there, V clear
	memcpy(stale.data, &x, sizeof(x));
	x.intr_info = 0x80000b0d;  // #GP being delivered
	memcpy(valid.data, &x, sizeof(x));
	EXPECT_TRUE(compare({stale}, {none}).empty());
	EXPECT_EQ(compare({valid}, {none}), std::vector<std::string>{"kexit.exit.intr_info"});
}

TEST(KexitCompare, AnotherStepIsTheSequenceAnotherAnswerAField)
{
	std::vector<struct kt_kexit_body> a = {svm_exit(0x72), cpuid(0, 1), entry()};
	std::vector<struct kt_kexit_body> fewer = {svm_exit(0x72), entry()};
	EXPECT_EQ(compare(a, fewer), std::vector<std::string>{"kexits.sequence"});
	EXPECT_TRUE(compare(a, fewer, "kexits.sequence").empty());
	auto other = a;
	other[1] = cpuid(0, 2);
	EXPECT_EQ(compare(a, other), std::vector<std::string>{"kexit.cpuid.rax"});
	EXPECT_TRUE(compare(a, other, "kexit.cpuid.*").empty());
}

TEST(KexitTrace, RecordsGoThroughTheWriterAndReaderUnchanged)
{
	char path[] = "/tmp/kt-kexit-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	int err = 0;
	struct kt_writer *w = kt_writer_open(path, true, &err);
	ASSERT_NE(w, nullptr);
	struct kt_buf hdr = {};
	struct kt_kexits_hdr h = {};
	h.state = KT_KEXITS_ON;
	ASSERT_EQ(kt_tlv_put(&hdr, KT_HDR_KEXITS, &h, sizeof(h)), 0);
	ASSERT_EQ(kt_writer_header(w, hdr.data, hdr.len), 0);
	std::vector<struct kt_kexit_body> evs = {svm_exit(0x72), cpuid(0, 0x1c), entry(),
						 msr(0, 0xc0000080, 0x500)};
	for (auto &b : evs)
		kt_writer_kexit(w, 3, &b);
	struct kt_kexit_lost_body lost = {4, 2};
	kt_writer_kexit_lost(w, 3, &lost);
	struct kt_end_body end = {};
	kt_writer_end(w, &end);
	ASSERT_EQ(kt_writer_close(w), 0);
	kt_buf_free(&hdr);

	struct kt_reader *r = kt_reader_open(path, &err);
	ASSERT_NE(r, nullptr) << kt_reader_strerror(err);
	EXPECT_EQ(kt_reader_minor(r), KT_FORMAT_MINOR);
	struct kt_kexits_hdr back;
	ASSERT_EQ(kt_kexits_hdr_of(kt_reader_hdr(r), &back), 0);
	EXPECT_EQ(back.state, (uint32_t)KT_KEXITS_ON);
	struct kt_event ev;
	for (auto &b : evs) {
		ASSERT_EQ(kt_reader_next(r, &ev), 1);
		EXPECT_EQ(ev.type, KT_REC_KEXIT);
		EXPECT_EQ(ev.vcpu, 3);
		ASSERT_EQ(ev.len, sizeof(b));
		EXPECT_EQ(memcmp(ev.body, &b, sizeof(b)), 0);  // through the XOR deltas
	}
	ASSERT_EQ(kt_reader_next(r, &ev), 1);
	EXPECT_EQ(ev.type, KT_REC_KEXIT_LOST);
	EXPECT_EQ(memcmp(ev.body, &lost, sizeof(lost)), 0);
	ASSERT_EQ(kt_reader_next(r, &ev), 1);
	EXPECT_EQ(ev.type, KT_REC_END);
	kt_reader_close(r);
	unlink(path);
}
