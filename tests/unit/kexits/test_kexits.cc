// kexits without a kernel: the tracefs format parser and copy plan on the
// format files saved from the three kernels we run on (6.1 and 6.12 with
// kvm_amd, 6.18 with kvm_pvm; tests/unit/data/kexits/), the exit-reason
// tables against the names those kernels print, and the event decoder.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

extern "C" {
#include "common/error.h"
#include "kexits/kx.h"
#include "kexits/kx_format.h"
}

#ifndef KX_TEST_DATA
#define KX_TEST_DATA "tests/unit/data/kexits"
#endif

namespace {

const char *const kKernels[] = {"6.1", "6.12", "6.18-pvm"};

std::string Fixture(const std::string &kernel, const std::string &tp)
{
	std::ifstream f(std::string(KX_TEST_DATA) + "/" + kernel + "/" + tp + ".format");
	std::stringstream s;
	s << f.rdbuf();
	return s.str();
}

kx_tp_format Parse(const std::string &kernel, const std::string &tp)
{
	kx_tp_format fmt;
	std::string text = Fixture(kernel, tp);
	EXPECT_FALSE(text.empty()) << kernel << "/" << tp;
	EXPECT_EQ(kx_format_parse(text.c_str(), &fmt), 0) << kt_last_error();
	return fmt;
}

struct Plan {
	kx_cfg cfg;
	std::string why;
};

Plan PlanFor(unsigned kind, const kx_tp_format &fmt)
{
	Plan p;
	char why[256];
	memset(&p.cfg, 0, sizeof(p.cfg));
	kx_plan_kind(kind, &fmt, &p.cfg, why, sizeof(why));
	p.why = why;
	return p;
}

uint16_t Bits(unsigned kind, std::initializer_list<const char *> names)
{
	const kx_kind_desc *k = kx_kind(kind);
	uint16_t mask = 0;
	for (const char *n : names)
		for (unsigned i = 0; i < k->nfields; i++)
			if (!strcmp(k->fields[i].name, n))
				mask |= (uint16_t)(1u << i);
	return mask;
}

uint16_t All(unsigned kind)
{
	return (uint16_t)((1u << kx_kind(kind)->nfields) - 1);
}

}  // namespace

TEST(KexitsAbi, EventIsFixedAndFlat)
{
	EXPECT_EQ(sizeof(kx_event), 96u);
	EXPECT_EQ(offsetof(kx_event, u), 32u);
	EXPECT_EQ(offsetof(kx_exit, requests), 48u);
	EXPECT_LE(sizeof(kx_cpuid), (size_t)KX_DATA_BYTES);
}

TEST(KexitsFormat, ParsesKvmExitOfEachKernel)
{
	for (const char *k : kKernels) {
		kx_tp_format f = Parse(k, "kvm_exit");
		EXPECT_STREQ(f.name, "kvm_exit");
		EXPECT_NE(f.id, 0u);
		const kx_tp_field *reason = kx_format_field(&f, "exit_reason");
		ASSERT_NE(reason, nullptr) << k;
		EXPECT_EQ(reason->offset, 8);
		EXPECT_EQ(reason->size, 4);
		EXPECT_EQ(reason->is_signed, 0);
		const kx_tp_field *rip = kx_format_field(&f, "guest_rip");
		ASSERT_NE(rip, nullptr);
		EXPECT_EQ(rip->offset, 16);
		EXPECT_EQ(rip->size, 8);
		const kx_tp_field *pid = kx_format_field(&f, "common_pid");
		ASSERT_NE(pid, nullptr);
		EXPECT_EQ(pid->is_signed, 1);
	}
}

TEST(KexitsFormat, RequestsOnlyOn618)
{
	kx_tp_format f61 = Parse("6.1", "kvm_exit"), f612 = Parse("6.12", "kvm_exit"),
		     f618 = Parse("6.18-pvm", "kvm_exit");
	EXPECT_EQ(kx_format_field(&f61, "requests"), nullptr);
	EXPECT_EQ(kx_format_field(&f612, "requests"), nullptr);
	const kx_tp_field *req = kx_format_field(&f618, "requests");
	ASSERT_NE(req, nullptr);
	EXPECT_EQ(req->offset, 64);
	EXPECT_EQ(req->size, 8);
}

TEST(KexitsFormat, ArrayAndOddDeclarations)
{
	kx_tp_format emu = Parse("6.12", "kvm_emulate_insn");
	const kx_tp_field *insn = kx_format_field(&emu, "insn");
	ASSERT_NE(insn, nullptr);
	EXPECT_EQ(insn->offset, 21);
	EXPECT_EQ(insn->size, 15);
	EXPECT_EQ(insn->is_array, 1);
	// "field:unsigned write;" declares write with a bare "unsigned".
	kx_tp_format msr = Parse("6.1", "kvm_msr");
	const kx_tp_field *write = kx_format_field(&msr, "write");
	ASSERT_NE(write, nullptr);
	EXPECT_EQ(write->offset, 8);
	EXPECT_EQ(write->size, 4);
}

TEST(KexitsFormat, EveryFixtureParses)
{
	for (const char *k : kKernels)
		for (unsigned kind = 0; kind < KX_KINDS; kind++) {
			kx_tp_format f = Parse(k, kx_kind(kind)->tracepoint);
			EXPECT_STREQ(f.name, kx_kind(kind)->tracepoint) << k;
			EXPECT_GT(f.nfields, 4u);
		}
}

TEST(KexitsFormat, RejectsWhatIsNotAFormat)
{
	kx_tp_format f;
	EXPECT_EQ(kx_format_parse("hello\n", &f), -EINVAL);
	EXPECT_NE(std::string(kt_last_error()).find("not a tracepoint format"), std::string::npos);
	EXPECT_EQ(kx_format_parse("name: x\nID: 1\nformat:\n\tfield:int a;\tsize:4;\tsigned:1;\n",
				  &f),
		  -EINVAL);
	EXPECT_NE(std::string(kt_last_error()).find("bad field line"), std::string::npos);
	EXPECT_EQ(kx_format_field(&f, "a"), nullptr);
}

TEST(KexitsPlan, KvmExitPerKernel)
{
	Plan p61 = PlanFor(KX_EXIT, Parse("6.1", "kvm_exit"));
	EXPECT_EQ(p61.cfg.present[KX_EXIT], All(KX_EXIT) & ~Bits(KX_EXIT, {"requests"}));
	EXPECT_EQ(p61.why, "requests: not published");
	EXPECT_EQ(p61.cfg.rec_len[KX_EXIT], 60);  // up to vcpu_id

	Plan p618 = PlanFor(KX_EXIT, Parse("6.18-pvm", "kvm_exit"));
	EXPECT_EQ(p618.cfg.present[KX_EXIT], All(KX_EXIT));
	EXPECT_EQ(p618.why, "");
	EXPECT_EQ(p618.cfg.rec_len[KX_EXIT], 72);
	// exit_reason: record offset 8 -> kx_exit.reason, 4 bytes, from the stack copy.
	const kx_copy &c = p618.cfg.copy[KX_EXIT][0];
	EXPECT_EQ(c.src, 8);
	EXPECT_EQ(c.dst, offsetof(kx_exit, reason));
	EXPECT_EQ(c.len, 4);
	EXPECT_EQ(c.from_ctx, 0);
	// requests, the last field: 64 -> 48.
	const kx_copy &r = p618.cfg.copy[KX_EXIT][8];
	EXPECT_EQ(r.src, 64);
	EXPECT_EQ(r.dst, offsetof(kx_exit, requests));
	EXPECT_EQ(p618.cfg.copy[KX_EXIT][9].len, 0);
}

TEST(KexitsPlan, KvmEntryGrewFields)
{
	const uint16_t old_fields = Bits(KX_ENTRY, {"vcpu_id", "rip", "immediate_exit"});
	// Debian's 6.1.192 and 6.12 both have immediate_exit (upstream 6.9,
	// backported), neither has intr_info/error_code (6.14).
	for (const char *k : {"6.1", "6.12"}) {
		Plan p = PlanFor(KX_ENTRY, Parse(k, "kvm_entry"));
		EXPECT_EQ(p.cfg.present[KX_ENTRY], old_fields) << k;
		EXPECT_EQ(p.why, "intr_info: not published; error_code: not published");
	}
	Plan p = PlanFor(KX_ENTRY, Parse("6.18-pvm", "kvm_entry"));
	EXPECT_EQ(p.cfg.present[KX_ENTRY], All(KX_ENTRY));
	EXPECT_EQ(p.cfg.rec_len[KX_ENTRY], 36);
}

TEST(KexitsPlan, SameLayoutElsewhereOnAllKernels)
{
	for (unsigned kind = KX_PIO; kind < KX_KINDS; kind++) {
		Plan ref = PlanFor(kind, Parse("6.1", kx_kind(kind)->tracepoint));
		EXPECT_EQ(ref.cfg.present[kind], All(kind)) << kx_kind(kind)->tracepoint;
		for (const char *k : {"6.12", "6.18-pvm"}) {
			Plan p = PlanFor(kind, Parse(k, kx_kind(kind)->tracepoint));
			EXPECT_EQ(memcmp(p.cfg.copy[kind], ref.cfg.copy[kind], sizeof(ref.cfg.copy[kind])),
				  0)
				<< kx_kind(kind)->tracepoint << " on " << k;
		}
	}
}

TEST(KexitsPlan, InsnComesFromTheRecordItself)
{
	Plan p = PlanFor(KX_EMULATE, Parse("6.12", "kvm_emulate_insn"));
	EXPECT_EQ(p.cfg.present[KX_EMULATE], All(KX_EMULATE));
	const kx_copy &insn = p.cfg.copy[KX_EMULATE][3];
	EXPECT_EQ(insn.src, 21);
	EXPECT_EQ(insn.len, 15);
	EXPECT_EQ(insn.dst, offsetof(kx_emulate, insn));
	EXPECT_EQ(insn.from_ctx, 1);
	EXPECT_EQ(p.cfg.rec_len[KX_EMULATE], 38);  // failed, at 37
}

TEST(KexitsPlan, UnknownLayoutIsLeftOutNotMisread)
{
	kx_tp_format f;
	const char *text =
		"name: kvm_exit\nID: 7\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:u64 exit_reason;\toffset:8;\tsize:8;\tsigned:0;\n"   // wider
		"\tfield:short isa;\toffset:16;\tsize:2;\tsigned:1;\n"         // signed, narrower
		"\tfield:u16 vcpu_id;\toffset:18;\tsize:2;\tsigned:0;\n"       // narrower: widened
		"\tfield:u64 guest_rip;\toffset:130;\tsize:8;\tsigned:0;\n"    // beyond what is read
		"\tfield:u64 info1;\toffset:20;\tsize:8;\tsigned:0;\n";        // misaligned
	ASSERT_EQ(kx_format_parse(text, &f), 0) << kt_last_error();
	Plan p = PlanFor(KX_EXIT, f);
	EXPECT_EQ(p.cfg.present[KX_EXIT], Bits(KX_EXIT, {"vcpu_id", "info1"}));
	EXPECT_NE(p.why.find("exit_reason: wider than kexits keeps"), std::string::npos) << p.why;
	EXPECT_NE(p.why.find("isa: signed and narrower"), std::string::npos) << p.why;
	EXPECT_NE(p.why.find("guest_rip: beyond the record bytes read"), std::string::npos);
	EXPECT_EQ(p.cfg.copy[KX_EXIT][0].src, 20);  // info1 at 20: not 8-aligned
	EXPECT_EQ(p.cfg.copy[KX_EXIT][0].from_ctx, 1);
	EXPECT_EQ(p.cfg.copy[KX_EXIT][1].len, 2);  // vcpu_id, zero-extended
	EXPECT_EQ(p.cfg.copy[KX_EXIT][1].from_ctx, 0);
	EXPECT_EQ(p.cfg.rec_len[KX_EXIT], 20);
}

// ---- names, checked against what the kernels themselves print ----------

namespace {

// The { value, "name" } pairs of the __print_symbolic() that starts at
// `from` in a print fmt: values may be "0x040 + 13" or "-1", names may be
// concatenated literals ("#" "GP").
std::map<uint32_t, std::string> Symbolic(const std::string &fmt, const std::string &from)
{
	std::map<uint32_t, std::string> out;
	size_t pos = fmt.find(from);
	EXPECT_NE(pos, std::string::npos) << from;
	if (pos == std::string::npos)
		return out;
	pos += from.size();
	while (pos < fmt.size() && fmt[pos] != ')') {
		size_t open = fmt.find('{', pos), close = fmt.find('}', pos);
		if (open == std::string::npos || open > fmt.find(')', pos))
			break;
		std::string pair = fmt.substr(open + 1, close - open - 1);
		std::string expr = pair.substr(0, pair.find(','));
		std::string rest = pair.substr(pair.find(',') + 1), name;
		for (size_t q = rest.find('"'); q != std::string::npos; q = rest.find('"', q + 1)) {
			size_t end = rest.find('"', q + 1);
			name += rest.substr(q + 1, end - q - 1);
			q = end;
		}
		int64_t value = 0;
		std::stringstream terms(expr);
		for (std::string t; std::getline(terms, t, '+');)
			value += std::stoll(t, nullptr, 0);
		out[(uint32_t)value] = name;
		pos = close + 1;
	}
	return out;
}

}  // namespace

TEST(KexitsNames, VmxAndSvmAsTheKernelsPrintThem)
{
	for (const char *k : kKernels) {
		std::string fmt = Fixture(k, "kvm_exit");
		auto vmx = Symbolic(fmt, "__print_symbolic(REC->exit_reason & 0xffff,");
		auto svm = Symbolic(fmt, "__print_symbolic(REC->exit_reason,");
		EXPECT_GT(vmx.size(), 60u) << k;
		EXPECT_GT(svm.size(), 100u) << k;
		for (auto &[v, name] : vmx) {
			const char *ours = kx_exit_reason_name(KX_ISA_VMX, v);
			EXPECT_STREQ(ours ? ours : "(none)", name.c_str()) << k << " VMX " << v;
		}
		for (auto &[v, name] : svm) {
			const char *ours = kx_exit_reason_name(KX_ISA_SVM, v);
			EXPECT_STREQ(ours ? ours : "(none)", name.c_str()) << k << " SVM " << std::hex << v;
		}
	}
}

TEST(KexitsNames, ExceptionsAsTheKernelsPrintThem)
{
	for (const char *k : kKernels) {
		auto exc = Symbolic(Fixture(k, "kvm_inj_exception"), "__print_symbolic(REC->exception,");
		EXPECT_GT(exc.size(), 15u);
		for (auto &[v, name] : exc) {
			const char *ours = kx_exception_name(v);
			EXPECT_EQ("#" + std::string(ours ? ours : "(none)"), name) << k << " vector " << v;
		}
	}
}

TEST(KexitsNames, VmxFlagsPvmAndUnknown)
{
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_VMX, 10), "CPUID");
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_VMX, 0x80000021), "INVALID_STATE FAILED_VMENTRY");
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_SVM, 0x72), "cpuid");
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_SVM, 0x7c), "msr");
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_PVM, 13), "GP excp");
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_PVM, 1u << 16), "SYSCALL");
	EXPECT_STREQ(kx_exit_reason_name(KX_ISA_PVM, 1025), "FAILED_VMENTRY");
	EXPECT_EQ(kx_exit_reason_name(KX_ISA_PVM, 0x2000), nullptr);  // the 6.18 host's own code
	EXPECT_EQ(kx_exit_reason_name(KX_ISA_VMX, 35), nullptr);
	EXPECT_EQ(kx_exit_reason_name(7, 0), nullptr);
	EXPECT_STREQ(kx_isa_name(KX_ISA_PVM), "PVM");
	EXPECT_STREQ(kx_isa_name(9), "?");
}

TEST(KexitsNames, Kinds)
{
	for (unsigned k = 0; k < KX_KINDS; k++) {
		EXPECT_EQ(kx_kind_by_name(kx_kind_name(k)), (int)k);
		EXPECT_EQ(kx_kind_by_name(kx_kind(k)->tracepoint), (int)k);
		EXPECT_LE(kx_kind(k)->nfields, (unsigned)KX_MAX_FIELDS);
	}
	EXPECT_EQ(kx_kind_by_name("kvm_page_fault"), -1);
	EXPECT_EQ(kx_kind(KX_KINDS), nullptr);
	EXPECT_STREQ(kx_kind_name(KX_KINDS), "?");
}

// ---- decoding ------------------------------------------------------------

TEST(KexitsDecode, ExitWithAnAbsentField)
{
	kx_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = KX_EXIT;
	ev.present = (uint16_t)(All(KX_EXIT) & ~Bits(KX_EXIT, {"requests"}));
	ev.u.exit.reason = 0x72;
	ev.u.exit.isa = KX_ISA_SVM;
	ev.u.exit.rip = 0x1016;
	char line[256];
	kx_format_event(&ev, line, sizeof(line));
	EXPECT_STREQ(line, "exit reason=0x72(cpuid) isa=2(SVM) rip=0x1016 info1=0 info2=0 "
			   "intr_info=0 error_code=0 vcpu_id=0");
	const kx_kind_desc *k = kx_kind(KX_EXIT);
	EXPECT_EQ(kx_field_value(&ev, &k->fields[2]), 0x1016u);
	EXPECT_TRUE(kx_field_present(&ev, 0));
	EXPECT_FALSE(kx_field_present(&ev, 8));
	EXPECT_FALSE(kx_field_present(&ev, 16));
}

TEST(KexitsDecode, EmulatedInsnAndException)
{
	kx_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = KX_EMULATE;
	ev.present = All(KX_EMULATE);
	ev.u.emulate.rip = 0x1000;
	ev.u.emulate.len = 2;
	ev.u.emulate.insn[0] = 0x0f;
	ev.u.emulate.insn[1] = 0xa2;
	ev.u.emulate.flags = 9;
	char line[256];
	kx_format_event(&ev, line, sizeof(line));
	EXPECT_STREQ(line, "emulate rip=0x1000 csbase=0 len=2 insn=0f a2 flags=0x9 failed=0");

	memset(&ev, 0, sizeof(ev));
	ev.kind = KX_INJ_EXCEPTION;
	ev.present = All(KX_INJ_EXCEPTION);
	ev.u.inj_exception.exception = 13;
	ev.u.inj_exception.has_error = 1;
	kx_format_event(&ev, line, sizeof(line));
	EXPECT_STREQ(line, "inj_exception exception=13(GP) has_error=1 error_code=0 reinjected=0");
	// A short buffer is cut, never overrun; the full length is returned.
	char small[8];
	int n = kx_format_event(&ev, small, sizeof(small));
	EXPECT_STREQ(small, "inj_exc");
	EXPECT_EQ(n, (int)strlen(line));
}
