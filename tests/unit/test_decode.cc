// Decoders and sinks: each struct decoded into the text, JSON and flat
// sinks against known values; truncated buffers never read past their end
// (every buffer here is exactly as long as claimed: run under SANITIZE=1).
#include <gtest/gtest.h>

#include <linux/kvm.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "common/kvm_names.h"
#include "decode/decode.h"
#include "trace/trace_format.h"
}

#include "tests/unit/sink.h"

namespace {

// A strict little JSON validator: true when text is exactly one value.
struct Json {
	const char *p;
	void ws() { while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++; }
	bool lit(const char *w) { size_t n = strlen(w); if (strncmp(p, w, n)) return false; p += n; return true; }
	bool str()
	{
		if (*p++ != '"')
			return false;
		while (*p && *p != '"') {
			if ((unsigned char)*p < 0x20)
				return false;
			if (*p == '\\') {
				p++;
				if (*p == 'u') {
					for (int i = 1; i <= 4; i++)
						if (!isxdigit((unsigned char)p[i]))
							return false;
					p += 4;
				} else if (!strchr("\"\\/bfnrt", *p)) {
					return false;
				}
			}
			p++;
		}
		return *p++ == '"';
	}
	bool num()
	{
		const char *s = p;
		if (*p == '-')
			p++;
		while (isdigit((unsigned char)*p))
			p++;
		return p > s && isdigit((unsigned char)p[-1]);
	}
	bool list(char close, bool keyed)
	{
		ws();
		if (*p == close)
			return ++p;
		for (;;) {
			ws();
			if (keyed && !(str() && (ws(), *p++ == ':')))
				return false;
			if (!value())
				return false;
			ws();
			if (*p == close)
				return ++p;
			if (*p++ != ',')
				return false;
		}
	}
	bool value()
	{
		ws();
		switch (*p) {
		case '{': p++; return list('}', true);
		case '[': p++; return list(']', false);
		case '"': return str();
		case 't': return lit("true");
		case 'f': return lit("false");
		case 'n': return lit("null");
		default: return num();
		}
	}
	static bool valid(const std::string &text)
	{
		Json j{text.c_str()};
		bool ok = j.value();
		j.ws();
		return ok && *j.p == 0;
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
	r.cs.present = 1;
	r.gdt.base = 0xffe06000;
	r.gdt.limit = 0x1f;
	r.apic_base = 0xfee00900;
	return r;
}

template <class F>
std::string text_of(F decode)
{
	Sink t(kt_sink_text);
	decode(&t.s);
	return t.str();
}

template <class F>
std::string json_of(F decode)
{
	Sink j(kt_sink_json);
	j.s.ops->begin(&j.s, nullptr);
	decode(&j.s);
	j.s.ops->end(&j.s);
	return j.str();
}

TEST(Sinks, TextNestsStructsAndArrays)
{
	auto text = text_of([](struct kt_sink *s) {
		kt_hex(s, "a", 42);
		s->ops->begin(s, "b");
		kt_dec(s, "c", 7);
		s->ops->array(s, "d");
		kt_dec(s, nullptr, 1);
		s->ops->begin(s, nullptr);
		s->ops->i64(s, "e", -5);
		s->ops->end(s);
		s->ops->end(s);
		s->ops->end(s);
		s->ops->sym(s, "f", 3, nullptr);
		s->ops->u64(s, "g", 1, KT_BOOL);
	});
	EXPECT_EQ(text, " a=0x2a b={c=7, d=[1, {e=-5}]} f=3 g=1");
}

TEST(Sinks, FlatPathsForStructsAndArrays)
{
	Sink f(kt_sink_flat);
	struct kt_sink *s = &f.s;
	s->ops->begin(s, "exit");
	s->ops->begin(s, "io");
	s->ops->bytes(s, "data", "H", 1);
	s->ops->end(s);
	s->ops->array(s, "entries");
	for (int i = 0; i < 4; i++) {
		s->ops->begin(s, nullptr);
		kt_hex(s, "function", (uint64_t)i);
		s->ops->end(s);
	}
	s->ops->end(s);
	s->ops->end(s);
	s->ops->array(s, "words");
	kt_hex(s, nullptr, 9);
	s->ops->end(s);
	s->ops->flags(s, "cr0", 0x80000001, kt_cr0_flags);
	s->ops->sym(s, "reason", KVM_EXIT_IO, "IO");
	std::vector<std::pair<std::string, std::string>> want = {
		{"exit.io.data", "\"H\""},
		{"exit.entries[0].function", "0x0"}, {"exit.entries[1].function", "0x1"},
		{"exit.entries[2].function", "0x2"}, {"exit.entries[3].function", "0x3"},
		{"words[0]", "0x9"}, {"cr0", "0x80000001"}, {"reason", "IO"},
	};
	EXPECT_EQ(f.fields(), want);
	kt_sink_reset(s);
	kt_dec(s, "x", 1);
	EXPECT_EQ(f.fields(), (std::vector<std::pair<std::string, std::string>>{{"x", "1"}}));
}

TEST(Sinks, JsonIsValidWithNamesBesideNumbers)
{
	auto json = json_of([](struct kt_sink *s) {
		s->ops->sym(s, "request", KVM_RUN, "KVM_RUN");
		s->ops->flags(s, "cr0", 0x80000011, kt_cr0_flags);
		s->ops->flags(s, "cr4", 0, kt_cr4_flags);
		s->ops->str(s, "name", "a\"b\\c\n");
		s->ops->bytes(s, "data", "\x01H\xff", 3);
		s->ops->array(s, "list");
		s->ops->sym(s, nullptr, 2, "two");
		s->ops->begin(s, nullptr);
		s->ops->u64(s, "ok", 1, KT_BOOL);
		s->ops->end(s);
		s->ops->end(s);
		s->ops->i64(s, "neg", INT64_MIN);
	});
	EXPECT_EQ(json, "{\"request\": 44672, \"request_name\": \"KVM_RUN\", "
			"\"cr0\": 2147483665, \"cr0_flags\": [\"PE\", \"ET\", \"PG\"], "
			"\"cr4\": 0, \"cr4_flags\": [], \"name\": \"a\\\"b\\\\c\\n\", "
			"\"data\": \"\\u0001H\\u00ff\", \"list\": [2, {\"ok\": true}], "
			"\"neg\": -9223372036854775808}");
	EXPECT_TRUE(Json::valid(json)) << json;
}

TEST(Sinks, DeepNestingStaysInsideTheSink)
{
	for (auto init : {kt_sink_text, kt_sink_json, kt_sink_flat}) {
		Sink k(init);
		for (int i = 0; i < 40; i++)
			k.s.ops->begin(&k.s, "n");
		kt_dec(&k.s, "v", 1);
		for (int i = 0; i < 40; i++)
			k.s.ops->end(&k.s);
		EXPECT_EQ(k.s.depth, 0);
	}
}

TEST(DecodeRegs, EveryRegisterInHex)
{
	struct kvm_regs r = {};
	r.rax = 0x2a;
	r.rip = 0x1000;
	r.rflags = 0x2;
	auto text = text_of([&](struct kt_sink *s) { decode_kvm_regs(s, &r, sizeof(r)); });
	EXPECT_EQ(text, " rax=0x2a rbx=0x0 rcx=0x0 rdx=0x0 rsi=0x0 rdi=0x0 rsp=0x0 rbp=0x0"
			" r8=0x0 r9=0x0 r10=0x0 r11=0x0 r12=0x0 r13=0x0 r14=0x0 r15=0x0"
			" rip=0x1000 rflags=0x2");
	Sink f(kt_sink_flat);
	f.s.ops->begin(&f.s, "regs");
	decode_kvm_regs(&f.s, &r, sizeof(r));
	f.s.ops->end(&f.s);
	EXPECT_EQ(f.flat()["regs.rax"], "0x2a");
	EXPECT_EQ(f.fields().size(), 18u);
}

TEST(DecodeSregs, LongModeControlRegistersWithTheirNames)
{
	auto r = long_mode_sregs();
	auto text = text_of([&](struct kt_sink *s) { decode_kvm_sregs(s, &r, sizeof(r)); });
	EXPECT_NE(text.find(" cr0=0x80050033 [PE MP ET NE WP AM PG] cr2=0x0 cr3=0xffe00000"
			    " cr4=0x20 [PAE] cr8=0x0 efer=0x500 [LME LMA] apic_base=0xfee00900"
			    " interrupt_bitmap=[0x0, 0x0, 0x0, 0x0]"),
		  std::string::npos) << text;
	EXPECT_EQ(text.rfind(" cs={base=0x0, limit=0x0, selector=0x8, type=0, present=1, dpl=0,"
			     " db=0, s=0, l=1, g=0, avl=0, unusable=0} ds={", 0), 0u) << text;
	EXPECT_NE(text.find(" gdt={base=0xffe06000, limit=0x1f} idt={base=0x0, limit=0x0}"),
		  std::string::npos);

	Sink f(kt_sink_flat);
	f.s.ops->begin(&f.s, "sregs");
	decode_kvm_sregs(&f.s, &r, sizeof(r));
	f.s.ops->end(&f.s);
	auto m = f.flat();
	EXPECT_EQ(m["sregs.cr0"], "0x80050033");
	EXPECT_EQ(m["sregs.cs.base"], "0x0");
	EXPECT_EQ(m["sregs.cs.l"], "1");
	EXPECT_EQ(m["sregs.gdt.base"], "0xffe06000");
	EXPECT_EQ(m["sregs.efer"], "0x500");
	EXPECT_EQ(m["sregs.interrupt_bitmap[3]"], "0x0");
	EXPECT_EQ(f.fields().size(), 8 * 12 + 2 * 2 + 7 + 4u);

	auto json = json_of([&](struct kt_sink *s) { decode_kvm_sregs(s, &r, sizeof(r)); });
	EXPECT_TRUE(Json::valid(json)) << json;
	EXPECT_NE(json.find("\"cr0\": 2147811379, \"cr0_flags\": [\"PE\", \"MP\", \"ET\", \"NE\","
			    " \"WP\", \"AM\", \"PG\"]"), std::string::npos) << json;
	EXPECT_NE(json.find("\"l\": true"), std::string::npos);
}

TEST(DecodeSregs, BitsWithoutANameShowAsHex)
{
	struct kvm_sregs r = {};
	r.cr0 = 0x80000101;
	r.cr4 = 1ull << 24;
	auto text = text_of([&](struct kt_sink *s) { decode_kvm_sregs(s, &r, sizeof(r)); });
	EXPECT_NE(text.find(" cr0=0x80000101 [PE PG 0x100]"), std::string::npos) << text;
	EXPECT_NE(text.find(" cr4=0x1000000 [0x1000000]"), std::string::npos) << text;
}

// Error fields, at any depth ("io.error" for an OUT's missing data).
size_t errors(const std::vector<std::pair<std::string, std::string>> &fields)
{
	size_t n = 0;
	for (auto &kv : fields) {
		const std::string &p = kv.first;
		if ((p == "error" || (p.size() > 6 && p.compare(p.size() - 6, 6, ".error") == 0)) &&
		    kv.second == "short buffer")
			n++;
	}
	return n;
}

// Every length short of the whole struct gives an error field; the buffer
// is exactly len bytes, so ASan catches any read past it.
void expect_short_is_error(const char *what, kt_decoder decode, const void *full,
			   size_t size)
{
	for (size_t len = 0; len < size; len++) {
		std::vector<uint8_t> buf((const uint8_t *)full, (const uint8_t *)full + len);
		Sink f(kt_sink_flat);
		decode(&f.s, len ? buf.data() : nullptr, len);
		EXPECT_EQ(errors(f.fields()), 1u) << what << " len " << len;
	}
	Sink f(kt_sink_flat);
	decode(&f.s, full, size);
	EXPECT_EQ(errors(f.fields()), 0u) << what;
}

std::vector<uint8_t> cpuid2(const std::vector<struct kvm_cpuid_entry2> &e)
{
	// Built by hand: C++ puts the uapi flexible array elsewhere than C.
	std::vector<uint8_t> b(8 + e.size() * sizeof(e[0]), 0);
	uint32_t n = (uint32_t)e.size();
	memcpy(b.data(), &n, 4);
	memcpy(b.data() + 8, e.data(), e.size() * sizeof(e[0]));
	return b;
}

std::vector<uint8_t> msrs(const std::vector<std::pair<uint32_t, uint64_t>> &e)
{
	std::vector<uint8_t> b(8 + 16 * e.size(), 0);
	uint32_t n = (uint32_t)e.size();
	memcpy(b.data(), &n, 4);
	for (size_t i = 0; i < e.size(); i++) {
		memcpy(b.data() + 8 + 16 * i, &e[i].first, 4);
		memcpy(b.data() + 8 + 16 * i + 8, &e[i].second, 8);
	}
	return b;
}

std::vector<uint8_t> run_out(const struct kvm_run &run, const std::string &data = "")
{
	std::vector<uint8_t> out(sizeof(struct kt_run_out) + data.size());
	memcpy(out.data(), &run, sizeof(struct kt_run_out));
	memcpy(out.data() + sizeof(struct kt_run_out), data.data(), data.size());
	return out;
}

struct kvm_run io_out(uint16_t port, uint8_t size, uint32_t count)
{
	struct kvm_run run;
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_IO;
	run.io.direction = KVM_EXIT_IO_OUT;
	run.io.size = size;
	run.io.port = port;
	run.io.count = count;
	run.io.data_offset = 4096;
	return run;
}

TEST(DecodeShort, NoDecoderReadsPastItsBuffer)
{
	struct kvm_regs regs = {};
	auto sregs = long_mode_sregs();
	struct kvm_userspace_memory_region region = {};
	struct kt_run_in in = {};
	struct kt_run_config cfg = {};
	struct kt_cpu_signature sig = {};
	struct kt_snapshot_body snap = {};
	auto cpuid = cpuid2(std::vector<struct kvm_cpuid_entry2>(3));
	auto m = msrs({{0x10, 1}, {0xc0000080, 0x500}});
	std::vector<uint8_t> list = {2, 0, 0, 0, 0x10, 0, 0, 0, 0x80, 0, 0, 0xc0};
	auto out = run_out(io_out(0xe9, 2, 3), "abcdef");

	expect_short_is_error("kvm_regs", decode_kvm_regs, &regs, sizeof(regs));
	expect_short_is_error("kvm_sregs", decode_kvm_sregs, &sregs, sizeof(sregs));
	expect_short_is_error("region", decode_kvm_userspace_memory_region, &region,
			      sizeof(region));
	expect_short_is_error("kvm_cpuid2", decode_kvm_cpuid2, cpuid.data(), cpuid.size());
	expect_short_is_error("kvm_msrs", decode_kvm_msrs, m.data(), m.size());
	expect_short_is_error("kvm_msr_list", decode_kvm_msr_list, list.data(), list.size());
	expect_short_is_error("kt_run_in", decode_kt_run_in, &in, sizeof(in));
	expect_short_is_error("kt_run_out", decode_kt_run_out, out.data(), out.size());
	expect_short_is_error("run summary", decode_run_exit, out.data(), out.size());
	expect_short_is_error("kt_run_config", decode_kt_run_config, &cfg, sizeof(cfg));
	expect_short_is_error("kt_cpu_signature", decode_kt_cpu_signature, &sig, sizeof(sig));
	expect_short_is_error("kt_snapshot_body", decode_kt_snapshot_body, &snap, sizeof(snap));
}

TEST(DecodeShort, FieldsBeforeTheCutAreKept)
{
	struct kvm_regs regs = {};
	regs.rax = 1;
	std::vector<uint8_t> buf((uint8_t *)&regs, (uint8_t *)&regs + 20);
	Sink f(kt_sink_flat);
	decode_kvm_regs(&f.s, buf.data(), buf.size());
	std::vector<std::pair<std::string, std::string>> want = {
		{"rax", "0x1"}, {"rbx", "0x0"}, {"error", "short buffer"}};
	EXPECT_EQ(f.fields(), want);
}

TEST(DecodeRun, IoExitLineRendersLikeStrace)
{
	auto out = run_out(io_out(0xe9, 1, 1), "H");
	Sink t(kt_sink_text);
	decode_run_exit(&t.s, out.data(), out.size());
	EXPECT_EQ("vcpu0 ioctl(KVM_RUN) = 0 ->" + t.str(),
		  "vcpu0 ioctl(KVM_RUN) = 0 -> IO out port=0xe9 size=1 count=1 data=\"H\"");

	Sink p(kt_sink_text);
	decode_exit_payload(&p.s, out.data(), out.size());
	EXPECT_EQ(p.str(), " direction=out port=0xe9 size=1 count=1 data=\"H\"");
}

TEST(DecodeRun, FullExitHasTheHeadAndThePayloadByMember)
{
	auto out = run_out(io_out(0xe9, 2, 2), "ABCD");
	Sink f(kt_sink_flat);
	f.s.ops->begin(&f.s, "exit");
	decode_kt_run_out(&f.s, out.data(), out.size());
	f.s.ops->end(&f.s);
	std::vector<std::pair<std::string, std::string>> want = {
		{"exit.reason", "IO"}, {"exit.ready_for_interrupt_injection", "0"},
		{"exit.if_flag", "0"}, {"exit.flags", "0x0"}, {"exit.cr8", "0x0"},
		{"exit.apic_base", "0x0"}, {"exit.io.direction", "out"}, {"exit.io.port", "0xe9"},
		{"exit.io.size", "2"}, {"exit.io.count", "2"}, {"exit.io.data_offset", "0x1000"},
		{"exit.io.data", "\"ABCD\""},
	};
	EXPECT_EQ(f.fields(), want);

	auto json = json_of([&](struct kt_sink *s) {
		decode_kt_run_out(s, out.data(), out.size());
	});
	EXPECT_TRUE(Json::valid(json)) << json;
	EXPECT_NE(json.find("\"reason\": 2, \"reason_name\": \"IO\""), std::string::npos);
	EXPECT_NE(json.find("\"io\": {\"direction\": 1, \"direction_name\": \"out\""),
		  std::string::npos) << json;
}

TEST(DecodeRun, InExitHasNoDataYet)
{
	auto run = io_out(0x60, 1, 1);
	run.io.direction = KVM_EXIT_IO_IN;
	auto out = run_out(run);
	Sink t(kt_sink_text);
	decode_run_exit(&t.s, out.data(), out.size());
	EXPECT_EQ(t.str(), " IO in port=0x60 size=1 count=1");
}

std::string summary(const struct kvm_run &run)
{
	auto out = run_out(run);
	Sink t(kt_sink_text);
	decode_run_exit(&t.s, out.data(), out.size());
	return t.str();
}

TEST(DecodeRun, EveryExitOfTheTable)
{
	struct kvm_run run;
	memset(&run, 0, sizeof(run));

	run.exit_reason = KVM_EXIT_MMIO;
	run.mmio.phys_addr = 0xfee00000;
	run.mmio.len = 4;
	run.mmio.is_write = 1;
	memcpy(run.mmio.data, "\x01\x02\x03\x04", 4);
	EXPECT_EQ(summary(run), " MMIO write phys_addr=0xfee00000 len=4 data=\"\\x01\\x02\\x03\\x04\"");
	run.mmio.is_write = 0;
	EXPECT_EQ(summary(run), " MMIO read phys_addr=0xfee00000 len=4");

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_HYPERCALL;
	run.hypercall.nr = 12;
	run.hypercall.args[1] = 0xff;
	EXPECT_EQ(summary(run), " HYPERCALL nr=0xc args=[0x0, 0xff, 0x0, 0x0, 0x0, 0x0] ret=0x0"
				" longmode=0");

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_DEBUG;
	run.debug.arch.exception = 1;
	run.debug.arch.pc = 0x1234;
	run.debug.arch.dr6 = 0xffff0ff0;
	run.debug.arch.dr7 = 0x400;
	EXPECT_EQ(summary(run), " DEBUG exception=1 pc=0x1234 dr6=0xffff0ff0 dr7=0x400");

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run.internal.ndata = 2;
	run.internal.data[0] = 0x10;
	run.internal.data[1] = 0x20;
	EXPECT_EQ(summary(run), " INTERNAL_ERROR suberror=EMULATION ndata=2 data=[0x10, 0x20]");
	run.internal.ndata = 1000;  // the kernel's count, capped at the array
	EXPECT_NE(summary(run).find("ndata=1000 data=[0x10, 0x20, 0x0"), std::string::npos);

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_FAIL_ENTRY;
	run.fail_entry.hardware_entry_failure_reason = 0x80000021;
	run.fail_entry.cpu = 3;
	EXPECT_EQ(summary(run), " FAIL_ENTRY hardware_entry_failure_reason=0x80000021 cpu=3");

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
	run.system_event.type = KVM_SYSTEM_EVENT_RESET;
	run.system_event.ndata = 1;
	run.system_event.data[0] = 7;
	EXPECT_EQ(summary(run), " SYSTEM_EVENT type=RESET ndata=1 data=[0x7]");
	run.system_event.ndata = 0;
	EXPECT_EQ(summary(run), " SYSTEM_EVENT type=RESET ndata=0 flags=0x7");

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_X86_RDMSR;
	run.msr.index = 0xc0000080;
	run.msr.reason = KVM_MSR_EXIT_REASON_UNKNOWN;
	EXPECT_EQ(summary(run), " X86_RDMSR index=0xc0000080 data=0x0 reason=0x2 [UNKNOWN] error=0");
	run.exit_reason = KVM_EXIT_X86_WRMSR;
	run.msr.data = 0x500;
	run.msr.error = 1;
	EXPECT_EQ(summary(run), " X86_WRMSR index=0xc0000080 data=0x500 reason=0x2 [UNKNOWN] error=1");

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_EXCEPTION;
	run.ex.exception = 13;
	run.ex.error_code = 0x18;
	EXPECT_EQ(summary(run), " EXCEPTION exception=13 error_code=0x18");

	for (uint32_t reason : {KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_EXIT_IRQ_WINDOW_OPEN,
				KVM_EXIT_INTR}) {
		memset(&run, 0, sizeof(run));
		run.exit_reason = reason;
		run.io.port = 0x1234;  // stale union bytes are not shown
		EXPECT_EQ(summary(run), std::string(" ") + kvm_exit_reason_name(reason));
	}

	memset(&run, 0, sizeof(run));
	run.exit_reason = 999;
	run.hypercall.nr = 0xab;
	run.hypercall.args[0] = 0x01;
	EXPECT_EQ(summary(run), " 999 raw=ab0000000000000001");
}

TEST(DecodeRun, EntryWithCompletionData)
{
	std::vector<uint8_t> buf(sizeof(struct kt_run_in) + 2, 0);
	struct kt_run_in in = {};
	in.immediate_exit = 1;
	in.kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	in.data_len = 2;
	memcpy(buf.data(), &in, sizeof(in));
	buf[sizeof(in)] = 0x5a;
	buf[sizeof(in) + 1] = 0;
	auto text = text_of([&](struct kt_sink *s) { decode_kt_run_in(s, buf.data(), buf.size()); });
	EXPECT_EQ(text, " request_interrupt_window=0 immediate_exit=1 valid_regs=0x3 [REGS SREGS]"
			" dirty_regs=0x0 data_len=2 data=\"Z\\x00\"");
	Sink f(kt_sink_flat);
	decode_kt_run_in(&f.s, buf.data(), buf.size() - 1);
	EXPECT_EQ(f.flat()["error"], "short buffer");
}

TEST(DecodeIoctl, IntegerArgumentsByRequest)
{
	uint64_t cap = KVM_CAP_SYNC_REGS, tss = 0xfffbd000, id = 3, zero = 0;
	Sink t(kt_sink_text);
	decode_ioctl_args(&t.s, KVM_CHECK_EXTENSION, &cap, 8, nullptr, 0);
	decode_ioctl_args(&t.s, KVM_SET_TSS_ADDR, &tss, 8, nullptr, 0);
	decode_ioctl_args(&t.s, KVM_CREATE_VCPU, &id, 8, nullptr, 0);
	decode_ioctl_args(&t.s, KVM_GET_API_VERSION, &zero, 8, nullptr, 0);
	EXPECT_EQ(t.str(), " cap=KVM_CAP_SYNC_REGS addr=0xfffbd000 id=3");
}

TEST(DecodeIoctl, StructsUnderTheirNames)
{
	struct kvm_userspace_memory_region r = {};
	r.slot = 1;
	r.guest_phys_addr = 0xffe00000;
	r.memory_size = 0x10000;
	r.userspace_addr = 0x7f0000000000;
	struct kvm_regs regs = {};
	regs.rip = 0x10;
	Sink f(kt_sink_flat);
	decode_ioctl_args(&f.s, KVM_SET_USER_MEMORY_REGION, &r, sizeof(r), nullptr, 0);
	decode_ioctl_args(&f.s, KVM_GET_REGS, nullptr, 0, &regs, sizeof(regs));
	auto m = f.flat();
	EXPECT_EQ(m["region.slot"], "1");
	EXPECT_EQ(m["region.guest_phys_addr"], "0xffe00000");
	EXPECT_EQ(m["region.memory_size"], "0x10000");
	EXPECT_EQ(m["region.userspace_addr"], "0x7f0000000000");
	EXPECT_EQ(m["regs.rip"], "0x10");
}

TEST(DecodeIoctl, MsrsAsAnArray)
{
	auto m = msrs({{0x10, 0x1234}, {0xc0000080, 0x500}});
	long get_msrs = kvm_ioctl_by_name("KVM_GET_MSRS");  // the C number, see test_kvm_names
	Sink f(kt_sink_flat);
	decode_ioctl_args(&f.s, (uint32_t)get_msrs, nullptr, 0, m.data(), m.size());
	std::vector<std::pair<std::string, std::string>> want = {
		{"msrs.nmsrs", "2"},
		{"msrs.entries[0].index", "0x10"}, {"msrs.entries[0].data", "0x1234"},
		{"msrs.entries[1].index", "0xc0000080"}, {"msrs.entries[1].data", "0x500"},
	};
	EXPECT_EQ(f.fields(), want);
	auto text = text_of([&](struct kt_sink *s) { decode_kvm_msrs(s, m.data(), m.size()); });
	EXPECT_EQ(text, " nmsrs=2 entries=[{index=0x10, data=0x1234}, {index=0xc0000080, data=0x500}]");

	std::vector<uint8_t> list = {2, 0, 0, 0, 0x10, 0, 0, 0, 0x80, 0, 0, 0xc0};
	auto lt = text_of([&](struct kt_sink *s) { decode_kvm_msr_list(s, list.data(), list.size()); });
	EXPECT_EQ(lt, " nmsrs=2 indices=[0x10, 0xc0000080]");
}

TEST(DecodeIoctl, UnknownRequestShowsItsBytes)
{
	uint8_t in[2] = {1, 2};
	auto text = text_of([&](struct kt_sink *s) {
		decode_ioctl_args(s, 0xdead, in, sizeof(in), "\x03", 1);
	});
	EXPECT_EQ(text, " in=\"\\x01\\x02\" out=\"\\x03\"");
}

// Entries are keyed by leaf.subleaf, not position, so one extra leaf on
// another kernel does not shift the rest in a diff.
TEST(DecodeCpuid, EntriesByLeafWithTheApicIdApart)
{
	std::vector<struct kvm_cpuid_entry2> e(4);
	e[0].function = 0;
	e[0].ebx = 0x68747541;  // "Auth"
	e[1].function = 1;
	e[1].ebx = 0x05020800;
	e[2].function = 7;
	e[2].ebx = 0x9;
	e[3].function = 0xb;
	e[3].index = 1;
	e[3].edx = 6;
	auto buf = cpuid2(e);
	Sink f(kt_sink_flat);
	f.s.ops->begin(&f.s, "cpuid");
	decode_kvm_cpuid2(&f.s, buf.data(), buf.size());
	f.s.ops->end(&f.s);
	auto m = f.flat();
	EXPECT_EQ(m["cpuid.nent"], "4");
	EXPECT_EQ(m["cpuid.entries.0x00000000.0.ebx"], "0x68747541");
	EXPECT_EQ(m["cpuid.entries.0x00000001.0.apic_id"], "5");
	EXPECT_EQ(m["cpuid.entries.0x00000001.0.ebx"], "0x20800");
	EXPECT_EQ(m["cpuid.entries.0x00000007.0.function"], "0x7");
	EXPECT_EQ(m["cpuid.entries.0x0000000b.1.function"], "0xb");
	EXPECT_EQ(m["cpuid.entries.0x0000000b.1.index"], "1");
	EXPECT_EQ(m["cpuid.entries.0x0000000b.1.x2apic_id"], "6");
	EXPECT_EQ(m["cpuid.entries.0x0000000b.1.edx"], "0x0");

	// nent claims more than the buffer holds: the entries that fit, then
	// the error.
	uint32_t lie = 100;
	memcpy(buf.data(), &lie, 4);
	Sink g(kt_sink_flat);
	decode_kvm_cpuid2(&g.s, buf.data(), buf.size());
	auto n = g.flat();
	EXPECT_EQ(n.count("entries.0x0000000b.1.edx"), 1u);
	EXPECT_EQ(n.size(), m.size() + 1);  // every entry that fits, then the error
	EXPECT_EQ(n["error"], "short buffer");
}

TEST(DecodeTrace, RunConfigSignatureAndSnapshot)
{
	struct kt_run_config c = {};
	c.mode = KT_MODE_LONG;
	c.vcpus = 2;
	c.mem_bytes = 0x200000;
	c.flags = KT_CFG_SYNC_REGS | KT_CFG_SNAPSHOTS;
	auto text = text_of([&](struct kt_sink *s) { decode_kt_run_config(s, &c, sizeof(c)); });
	EXPECT_EQ(text, " mode=long vcpus=2 mem_bytes=0x200000 timeout_ms=0 max_exits=0"
			" flags=0x3 [SYNC_REGS SNAPSHOTS] guest_arg=0");

	struct kt_cpu_signature sig = {6, 0x55, 7, 0x50657};
	auto st = text_of([&](struct kt_sink *s) { decode_kt_cpu_signature(s, &sig, sizeof(sig)); });
	EXPECT_EQ(st, " family=0x6 model=0x55 stepping=7 raw_eax=0x50657");

	struct kt_snapshot_body snap = {};
	snap.source = KT_SNAP_SYNC_REGS;
	snap.regs.rip = 0x42;
	snap.sregs = long_mode_sregs();
	Sink f(kt_sink_flat);
	decode_kt_snapshot_body(&f.s, &snap, sizeof(snap));
	auto m = f.flat();
	EXPECT_EQ(m["source"], "sync_regs");
	EXPECT_EQ(m["regs.rip"], "0x42");
	EXPECT_EQ(m["sregs.cr0"], "0x80050033");
	EXPECT_EQ(m["sregs.cs.selector"], "0x8");
}

TEST(DecodeEvent, KvmRunEventAsJson)
{
	auto out = run_out(io_out(0xe9, 1, 1), "H");
	struct kt_run_in in = {};
	std::vector<uint8_t> body(sizeof(struct kt_ioctl_body) + sizeof(in) + out.size());
	struct kt_ioctl_body b = {};
	b.role = KT_FD_VCPU;
	b.request = KVM_RUN;
	b.in_len = sizeof(in);
	b.out_len = (uint32_t)out.size();
	memcpy(body.data(), &b, sizeof(b));
	memcpy(body.data() + sizeof(b), &in, sizeof(in));
	memcpy(body.data() + sizeof(b) + sizeof(in), out.data(), out.size());
	struct kt_event ev = {};
	ev.type = KT_REC_IOCTL;
	ev.body = body.data();
	ev.len = (uint32_t)body.size();
	ev.ioctl = (const struct kt_ioctl_body *)body.data();
	ev.in = body.data() + sizeof(b);
	ev.out = ev.in + sizeof(in);
	auto json = json_of([&](struct kt_sink *s) { decode_event(s, &ev); });
	EXPECT_TRUE(Json::valid(json)) << json;
	EXPECT_EQ(json.rfind("{\"event\": \"ioctl\", \"vcpu\": 0, \"ioctl\": {\"request\": 44672,"
			     " \"request_name\": \"KVM_RUN\", \"fd\": 2, \"fd_name\": \"vcpu\","
			     " \"ret\": 0, \"t_start_ns\": 0, \"dur_ns\": 0}, \"entry\": {", 0), 0u)
		<< json;
	EXPECT_NE(json.find("\"data\": \"H\"}}}"), std::string::npos) << json;

	Sink f(kt_sink_flat);
	decode_event(&f.s, &ev);
	auto m = f.flat();
	EXPECT_EQ(m["ioctl.request"], "KVM_RUN");
	EXPECT_EQ(m["exit.io.data"], "\"H\"");
	EXPECT_EQ(m["entry.immediate_exit"], "0");
}

TEST(Escape, BytesAsCLiteralsAndJson)
{
	struct kt_buf b = {};
	kt_escape_bytes(&b, (const uint8_t *)"a\"\n\x01", 4, false);
	EXPECT_EQ(std::string((char *)b.data, b.len), "\"a\\\"\\n\\x01\"");
	b.len = 0;
	kt_escape_bytes(&b, (const uint8_t *)"\xff\t", 2, true);
	EXPECT_EQ(std::string((char *)b.data, b.len), "\"\\u00ff\\t\"");
	kt_buf_free(&b);
}

}  // namespace
