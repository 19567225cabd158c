/* Names for what kvm_exit reports, like strace's xlat tables.
 *
 * VMX and SVM: the names the kernel itself prints (the __print_symbolic
 * tables in kvm_exit's print fmt, arch/x86/include/uapi/asm/{vmx,svm}.h);
 * the unit tests check every entry against the print fmt of the 6.1, 6.12
 * and 6.18 format files in tests/unit/data/kexits.  A few VMX reasons the
 * kernel does not name are named from the Intel SDM (vol. 3, appendix C).
 *
 * PVM (isa 3): no kernel we have publishes a PVM table in its print fmt
 * (6.18 with kvm_pvm applies the SVM table to every isa but VMX).  The
 * names are those of the public PVM patches (virt-pvm/linux, RFC of
 * 2024-02 "KVM: x86/PVM: Support for kvm_exit() tracepoint", and a later
 * uapi/asm/pvm_trace.h): the exception vector for an exception, synthetic
 * reasons from 1 << 16 on.  Only what both versions agree on is named
 * (they differ from 4 << 16 on).  Inferred, not checked: the kvm_pvm of
 * the 6.18 development host reports its own codes (0x1000, 0x2000). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kexits/kx_names.h"

#include "kexits/kx_layout.h"

struct xlat {
	uint32_t val;
	const char *name;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct xlat vmx_reasons[] = {
	{ 0, "EXCEPTION_NMI" },
	{ 1, "EXTERNAL_INTERRUPT" },
	{ 2, "TRIPLE_FAULT" },
	{ 3, "INIT_SIGNAL" },
	{ 4, "SIPI_SIGNAL" },
	{ 5, "IO_SMI" },           /* SDM */
	{ 6, "OTHER_SMI" },        /* SDM */
	{ 7, "INTERRUPT_WINDOW" },
	{ 8, "NMI_WINDOW" },
	{ 9, "TASK_SWITCH" },
	{ 10, "CPUID" },
	{ 11, "GETSEC" },          /* SDM */
	{ 12, "HLT" },
	{ 13, "INVD" },
	{ 14, "INVLPG" },
	{ 15, "RDPMC" },
	{ 16, "RDTSC" },
	{ 17, "RSM" },             /* SDM */
	{ 18, "VMCALL" },
	{ 19, "VMCLEAR" },
	{ 20, "VMLAUNCH" },
	{ 21, "VMPTRLD" },
	{ 22, "VMPTRST" },
	{ 23, "VMREAD" },
	{ 24, "VMRESUME" },
	{ 25, "VMWRITE" },
	{ 26, "VMOFF" },
	{ 27, "VMON" },
	{ 28, "CR_ACCESS" },
	{ 29, "DR_ACCESS" },
	{ 30, "IO_INSTRUCTION" },
	{ 31, "MSR_READ" },
	{ 32, "MSR_WRITE" },
	{ 33, "INVALID_STATE" },
	{ 34, "MSR_LOAD_FAIL" },
	{ 36, "MWAIT_INSTRUCTION" },
	{ 37, "MONITOR_TRAP_FLAG" },
	{ 39, "MONITOR_INSTRUCTION" },
	{ 40, "PAUSE_INSTRUCTION" },
	{ 41, "MCE_DURING_VMENTRY" },
	{ 43, "TPR_BELOW_THRESHOLD" },
	{ 44, "APIC_ACCESS" },
	{ 45, "EOI_INDUCED" },
	{ 46, "GDTR_IDTR" },
	{ 47, "LDTR_TR" },
	{ 48, "EPT_VIOLATION" },
	{ 49, "EPT_MISCONFIG" },
	{ 50, "INVEPT" },
	{ 51, "RDTSCP" },
	{ 52, "PREEMPTION_TIMER" },
	{ 53, "INVVPID" },
	{ 54, "WBINVD" },
	{ 55, "XSETBV" },
	{ 56, "APIC_WRITE" },
	{ 57, "RDRAND" },
	{ 58, "INVPCID" },
	{ 59, "VMFUNC" },
	{ 60, "ENCLS" },
	{ 61, "RDSEED" },
	{ 62, "PML_FULL" },
	{ 63, "XSAVES" },
	{ 64, "XRSTORS" },
	{ 65, "ENCLV" },           /* SDM */
	{ 66, "SPP_EVENT" },       /* SDM */
	{ 67, "UMWAIT" },
	{ 68, "TPAUSE" },
	{ 69, "LOADIWKEY" },       /* SDM */
	{ 74, "BUS_LOCK" },
	{ 75, "NOTIFY" },
	{ 77, "TDCALL" },
	{ 84, "MSR_READ_IMM" },
	{ 85, "MSR_WRITE_IMM" },
};

/* A failed VM entry sets bit 31 of the reason (the kernel's only flag). */
#define VMX_FAILED_VMENTRY 0x80000000u

static const struct xlat svm_reasons[] = {
	{ 0x000, "read_cr0" },
	{ 0x002, "read_cr2" },
	{ 0x003, "read_cr3" },
	{ 0x004, "read_cr4" },
	{ 0x008, "read_cr8" },
	{ 0x010, "write_cr0" },
	{ 0x012, "write_cr2" },
	{ 0x013, "write_cr3" },
	{ 0x014, "write_cr4" },
	{ 0x018, "write_cr8" },
	{ 0x020, "read_dr0" },
	{ 0x021, "read_dr1" },
	{ 0x022, "read_dr2" },
	{ 0x023, "read_dr3" },
	{ 0x024, "read_dr4" },
	{ 0x025, "read_dr5" },
	{ 0x026, "read_dr6" },
	{ 0x027, "read_dr7" },
	{ 0x030, "write_dr0" },
	{ 0x031, "write_dr1" },
	{ 0x032, "write_dr2" },
	{ 0x033, "write_dr3" },
	{ 0x034, "write_dr4" },
	{ 0x035, "write_dr5" },
	{ 0x036, "write_dr6" },
	{ 0x037, "write_dr7" },
	{ 0x040, "DE excp" },
	{ 0x041, "DB excp" },
	{ 0x043, "BP excp" },
	{ 0x044, "OF excp" },
	{ 0x045, "BR excp" },
	{ 0x046, "UD excp" },
	{ 0x047, "NM excp" },
	{ 0x048, "DF excp" },
	{ 0x04a, "TS excp" },
	{ 0x04b, "NP excp" },
	{ 0x04c, "SS excp" },
	{ 0x04d, "GP excp" },
	{ 0x04e, "PF excp" },
	{ 0x050, "MF excp" },
	{ 0x051, "AC excp" },
	{ 0x052, "MC excp" },
	{ 0x053, "XF excp" },
	{ 0x060, "interrupt" },
	{ 0x061, "nmi" },
	{ 0x062, "smi" },
	{ 0x063, "init" },
	{ 0x064, "vintr" },
	{ 0x065, "cr0_sel_write" },
	{ 0x066, "read_idtr" },
	{ 0x067, "read_gdtr" },
	{ 0x068, "read_ldtr" },
	{ 0x069, "read_rt" },
	{ 0x06a, "write_idtr" },
	{ 0x06b, "write_gdtr" },
	{ 0x06c, "write_ldtr" },
	{ 0x06d, "write_rt" },
	{ 0x06e, "rdtsc" },
	{ 0x06f, "rdpmc" },
	{ 0x070, "pushf" },
	{ 0x071, "popf" },
	{ 0x072, "cpuid" },
	{ 0x073, "rsm" },
	{ 0x074, "iret" },
	{ 0x075, "swint" },
	{ 0x076, "invd" },
	{ 0x077, "pause" },
	{ 0x078, "hlt" },
	{ 0x079, "invlpg" },
	{ 0x07a, "invlpga" },
	{ 0x07b, "io" },
	{ 0x07c, "msr" },
	{ 0x07d, "task_switch" },
	{ 0x07e, "ferr_freeze" },
	{ 0x07f, "shutdown" },
	{ 0x080, "vmrun" },
	{ 0x081, "hypercall" },
	{ 0x082, "vmload" },
	{ 0x083, "vmsave" },
	{ 0x084, "stgi" },
	{ 0x085, "clgi" },
	{ 0x086, "skinit" },
	{ 0x087, "rdtscp" },
	{ 0x088, "icebp" },
	{ 0x089, "wbinvd" },
	{ 0x08a, "monitor" },
	{ 0x08b, "mwait" },
	{ 0x08d, "xsetbv" },
	{ 0x08e, "rdpru" },
	{ 0x08f, "write_efer_trap" },
	{ 0x090, "write_cr0_trap" },
	{ 0x094, "write_cr4_trap" },
	{ 0x098, "write_cr8_trap" },
	{ 0x0a0, "invlpgb" },
	{ 0x0a1, "invlpgb_illegal" },
	{ 0x0a2, "invpcid" },
	{ 0x0a3, "mcommit" },
	{ 0x0a4, "tlbsync" },
	{ 0x0a5, "buslock" },
	{ 0x0a6, "idle-halt" },
	{ 0x400, "npf" },
	{ 0x401, "avic_incomplete_ipi" },
	{ 0x402, "avic_unaccelerated_access" },
	{ 0x403, "vmgexit" },
	{ 0x80000001, "vmgexit_mmio_read" },
	{ 0x80000002, "vmgexit_mmio_write" },
	{ 0x80000003, "vmgexit_nmi_complete" },
	{ 0x80000004, "vmgexit_ap_hlt_loop" },
	{ 0x80000005, "vmgexit_ap_jump_table" },
	{ 0x80000010, "vmgexit_page_state_change" },
	{ 0x80000011, "vmgexit_guest_request" },
	{ 0x80000012, "vmgexit_ext_guest_request" },
	{ 0x80000013, "vmgexit_ap_creation" },
	{ 0x8000fffd, "vmgexit_hypervisor_feature" },
	{ 0xffffffff, "invalid_guest_state" },  /* SVM_EXIT_ERR, -1 */
};

static const struct xlat pvm_reasons[] = {
	{ 0, "DE excp" },
	{ 1, "DB excp" },
	{ 2, "NMI excp" },
	{ 3, "BP excp" },
	{ 4, "OF excp" },
	{ 5, "BR excp" },
	{ 6, "UD excp" },
	{ 7, "NM excp" },
	{ 8, "DF excp" },
	{ 10, "TS excp" },
	{ 12, "SS excp" },
	{ 13, "GP excp" },
	{ 14, "PF excp" },
	{ 16, "MF excp" },
	{ 17, "AC excp" },
	{ 18, "MC excp" },
	{ 19, "XM excp" },
	{ 20, "VE excp" },
	{ 1025, "FAILED_VMENTRY" },
	{ 1u << 16, "SYSCALL" },
	{ 2u << 16, "HYPERCALL" },
	{ 3u << 16, "ERETU" },
};

static const struct xlat exceptions[] = {
	{ 0, "DE" }, { 1, "DB" }, { 2, "NMI" }, { 3, "BP" }, { 4, "OF" }, { 5, "BR" },
	{ 6, "UD" }, { 7, "NM" }, { 8, "DF" }, { 10, "TS" }, { 11, "NP" }, { 12, "SS" },
	{ 13, "GP" }, { 14, "PF" }, { 16, "MF" }, { 17, "AC" }, { 18, "MC" }, { 19, "XM" },
	{ 20, "VE" }, { 21, "CP" }, { 28, "HV" }, { 29, "VC" }, { 30, "SX" },
};

static const char *xlat(const struct xlat *t, size_t n, uint32_t val)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].val == val)
			return t[i].name;
	return NULL;
}

const char *kx_isa_name(unsigned isa)
{
	static const char *const names[] = { [KX_ISA_VMX] = "VMX", [KX_ISA_SVM] = "SVM",
					     [KX_ISA_PVM] = "PVM" };

	return isa < N(names) && names[isa] ? names[isa] : "?";
}

const char *kx_exit_reason_name(unsigned isa, uint32_t reason)
{
	static _Thread_local char failed[48];
	const char *name;

	switch (isa) {
	case KX_ISA_VMX:
		name = xlat(vmx_reasons, N(vmx_reasons), reason & 0xffff);
		if (!name || !(reason & VMX_FAILED_VMENTRY))
			return name;
		snprintf(failed, sizeof(failed), "%s FAILED_VMENTRY", name);
		return failed;
	case KX_ISA_SVM:
		return xlat(svm_reasons, N(svm_reasons), reason);
	case KX_ISA_PVM:
		return xlat(pvm_reasons, N(pvm_reasons), reason);
	}
	return NULL;
}

const char *kx_exception_name(unsigned vector)
{
	return xlat(exceptions, N(exceptions), vector);
}

/* ---- one event as text ----------------------------------------------- */

struct out {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->used < o->len ? o->len - o->used : 0;

	va_start(ap, fmt);
	int n = vsnprintf(o->buf + (o->len ? o->used : 0), room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n;
}

static void put_field(struct out *o, const struct kx_event *ev,
		      const struct kx_field_desc *f, uint64_t v)
{
	put(o, " %s=", f->name);
	switch (f->type) {
	case KX_T_UNSIGNED:
	case KX_T_BOOL:
		put(o, "%llu", (unsigned long long)v);
		break;
	case KX_T_HEX:
		put(o, "%#llx", (unsigned long long)v);
		break;
	case KX_T_BYTES: {
		unsigned n = ev->kind == KX_EMULATE ? ev->u.emulate.len : f->size;

		for (unsigned i = 0; i < n && i < f->size; i++)
			put(o, "%s%02x", i ? " " : "", ev->u.data[f->off + i]);
		break;
	}
	}
}

/* What follows a field's value: the names of reasons, vectors, leaves. */
static void put_name(struct out *o, const struct kx_event *ev, const char *field)
{
	const char *name = NULL;

	if (ev->kind == KX_EXIT && !strcmp(field, "reason"))
		name = kx_exit_reason_name(ev->u.exit.isa, ev->u.exit.reason);
	else if (ev->kind == KX_EXIT && !strcmp(field, "isa"))
		name = kx_isa_name(ev->u.exit.isa);
	else if (ev->kind == KX_INJ_EXCEPTION && !strcmp(field, "exception"))
		name = kx_exception_name(ev->u.inj_exception.exception);
	if (name)
		put(o, "(%s)", name);
}

int kx_format_event(const struct kx_event *ev, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	const struct kx_kind_desc *k = kx_kind(ev->kind);

	if (len)
		buf[0] = '\0';
	put(&o, "%s", kx_kind_name(ev->kind));
	if (!k)
		return (int)o.used;
	for (unsigned i = 0; i < k->nfields; i++) {
		if (!kx_field_present(ev, i))
			continue;
		put_field(&o, ev, &k->fields[i], kx_field_value(ev, &k->fields[i]));
		put_name(&o, ev, k->fields[i].name);
	}
	return (int)o.used;
}
