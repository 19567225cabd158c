/* The kinds kexits captures: for each kvm tracepoint, the fields it keeps
 * (tracepoint field -> member of the kind's struct in kx_abi.h), and the
 * copy plan the BPF program follows, built from the running kernel's
 * format file. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kexits/kx_layout.h"

#define F(type, member, tp, t) \
	{ #member, tp, offsetof(type, member), sizeof(((type *)0)->member), t }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct kx_field_desc exit_fields[] = {
	F(struct kx_exit, reason, "exit_reason", KX_T_HEX),
	F(struct kx_exit, isa, "isa", KX_T_UNSIGNED),
	F(struct kx_exit, rip, "guest_rip", KX_T_HEX),
	F(struct kx_exit, info1, "info1", KX_T_HEX),
	F(struct kx_exit, info2, "info2", KX_T_HEX),
	F(struct kx_exit, intr_info, "intr_info", KX_T_HEX),
	F(struct kx_exit, error_code, "error_code", KX_T_HEX),
	F(struct kx_exit, vcpu_id, "vcpu_id", KX_T_UNSIGNED),
	F(struct kx_exit, requests, "requests", KX_T_HEX),
};

static const struct kx_field_desc entry_fields[] = {
	F(struct kx_entry, vcpu_id, "vcpu_id", KX_T_UNSIGNED),
	F(struct kx_entry, rip, "rip", KX_T_HEX),
	F(struct kx_entry, immediate_exit, "immediate_exit", KX_T_BOOL),
	F(struct kx_entry, intr_info, "intr_info", KX_T_HEX),
	F(struct kx_entry, error_code, "error_code", KX_T_HEX),
};

static const struct kx_field_desc pio_fields[] = {
	F(struct kx_pio, rw, "rw", KX_T_UNSIGNED),
	F(struct kx_pio, port, "port", KX_T_HEX),
	F(struct kx_pio, size, "size", KX_T_UNSIGNED),
	F(struct kx_pio, count, "count", KX_T_UNSIGNED),
	F(struct kx_pio, val, "val", KX_T_HEX),
};

static const struct kx_field_desc mmio_fields[] = {
	F(struct kx_mmio, type, "type", KX_T_UNSIGNED),
	F(struct kx_mmio, len, "len", KX_T_UNSIGNED),
	F(struct kx_mmio, gpa, "gpa", KX_T_HEX),
	F(struct kx_mmio, val, "val", KX_T_HEX),
};

static const struct kx_field_desc msr_fields[] = {
	F(struct kx_msr, write, "write", KX_T_UNSIGNED),
	F(struct kx_msr, ecx, "ecx", KX_T_HEX),
	F(struct kx_msr, data, "data", KX_T_HEX),
	F(struct kx_msr, exception, "exception", KX_T_BOOL),
};

static const struct kx_field_desc cpuid_fields[] = {
	F(struct kx_cpuid, function, "function", KX_T_HEX),
	F(struct kx_cpuid, index, "index", KX_T_HEX),
	F(struct kx_cpuid, rax, "rax", KX_T_HEX),
	F(struct kx_cpuid, rbx, "rbx", KX_T_HEX),
	F(struct kx_cpuid, rcx, "rcx", KX_T_HEX),
	F(struct kx_cpuid, rdx, "rdx", KX_T_HEX),
	F(struct kx_cpuid, found, "found", KX_T_BOOL),
	F(struct kx_cpuid, used_max_basic, "used_max_basic", KX_T_BOOL),
};

static const struct kx_field_desc hypercall_fields[] = {
	F(struct kx_hypercall, nr, "nr", KX_T_HEX),
	F(struct kx_hypercall, a0, "a0", KX_T_HEX),
	F(struct kx_hypercall, a1, "a1", KX_T_HEX),
	F(struct kx_hypercall, a2, "a2", KX_T_HEX),
	F(struct kx_hypercall, a3, "a3", KX_T_HEX),
};

static const struct kx_field_desc emulate_fields[] = {
	F(struct kx_emulate, rip, "rip", KX_T_HEX),
	F(struct kx_emulate, csbase, "csbase", KX_T_HEX),
	F(struct kx_emulate, len, "len", KX_T_UNSIGNED),
	F(struct kx_emulate, insn, "insn", KX_T_BYTES),
	F(struct kx_emulate, flags, "flags", KX_T_HEX),
	F(struct kx_emulate, failed, "failed", KX_T_BOOL),
};

static const struct kx_field_desc inj_exception_fields[] = {
	F(struct kx_inj_exception, exception, "exception", KX_T_UNSIGNED),
	F(struct kx_inj_exception, has_error, "has_error", KX_T_BOOL),
	F(struct kx_inj_exception, error_code, "error_code", KX_T_HEX),
	F(struct kx_inj_exception, reinjected, "reinjected", KX_T_BOOL),
};

static const struct kx_kind_desc kinds[KX_KINDS] = {
	[KX_EXIT] = { "kvm_exit", "exit", 1, exit_fields, N(exit_fields) },
	[KX_ENTRY] = { "kvm_entry", "entry", 1, entry_fields, N(entry_fields) },
	[KX_PIO] = { "kvm_pio", "pio", 0, pio_fields, N(pio_fields) },
	[KX_MMIO] = { "kvm_mmio", "mmio", 0, mmio_fields, N(mmio_fields) },
	[KX_MSR] = { "kvm_msr", "msr", 0, msr_fields, N(msr_fields) },
	[KX_CPUID] = { "kvm_cpuid", "cpuid", 0, cpuid_fields, N(cpuid_fields) },
	[KX_HYPERCALL] = { "kvm_hypercall", "hypercall", 0, hypercall_fields,
			   N(hypercall_fields) },
	[KX_EMULATE] = { "kvm_emulate_insn", "emulate", 0, emulate_fields,
			 N(emulate_fields) },
	[KX_INJ_EXCEPTION] = { "kvm_inj_exception", "inj_exception", 0, inj_exception_fields,
			       N(inj_exception_fields) },
};

_Static_assert(N(exit_fields) <= KX_MAX_FIELDS, "kvm_exit fields fit the plan");
_Static_assert(N(cpuid_fields) <= KX_MAX_FIELDS, "kvm_cpuid fields fit the plan");

const struct kx_kind_desc *kx_kind(unsigned kind)
{
	return kind < KX_KINDS ? &kinds[kind] : NULL;
}

const char *kx_kind_name(unsigned kind)
{
	return kind < KX_KINDS ? kinds[kind].name : "?";
}

int kx_kind_by_name(const char *name)
{
	for (unsigned k = 0; k < KX_KINDS; k++)
		if (!strcmp(kinds[k].name, name) || !strcmp(kinds[k].tracepoint, name))
			return (int)k;
	return -1;
}

uint64_t kx_field_value(const struct kx_event *ev, const struct kx_field_desc *f)
{
	uint64_t v = 0;

	/* Little-endian host and event: the low bytes of v. */
	memcpy(&v, ev->u.data + f->off, f->size < 8 ? f->size : 8);
	return v;
}

int kx_field_present(const struct kx_event *ev, unsigned field)
{
	return field < 16 && (ev->present >> field & 1);
}

static void note(char *why, size_t whylen, const char *field, const char *reason)
{
	size_t used;

	if (!why || !whylen)
		return;
	used = strlen(why);
	if (used < whylen)
		snprintf(why + used, whylen - used, "%s%s: %s", used ? "; " : "", field, reason);
}

/* Why tp cannot fill f, or NULL if it can.  A narrower unsigned field is
 * zero-extended (insn[15] into [16]); a wider or a narrower signed one is a
 * layout kexits does not know, left out rather than misread. */
static const char *unusable(const struct kx_tp_field *tp, const struct kx_field_desc *f)
{
	if (tp->size > f->size)
		return "wider than kexits keeps";
	if (tp->size < f->size && tp->is_signed)
		return "signed and narrower than kexits keeps";
	if ((unsigned)tp->offset + tp->size > KX_REC_MAX)
		return "beyond the record bytes read";
	return NULL;
}

void kx_plan_kind(unsigned kind, const struct kx_tp_format *fmt, struct kx_cfg *cfg,
		  char *why, size_t whylen)
{
	const struct kx_kind_desc *k = kx_kind(kind);
	unsigned n = 0, rec_len = 8;  /* the common header is always there */

	if (why && whylen)
		why[0] = '\0';
	if (!k)
		return;
	memset(cfg->copy[kind], 0, sizeof(cfg->copy[kind]));
	cfg->present[kind] = 0;
	for (unsigned i = 0; i < k->nfields; i++) {
		const struct kx_field_desc *f = &k->fields[i];
		const struct kx_tp_field *tp = kx_format_field(fmt, f->tp_field);
		const char *bad = tp ? unusable(tp, f) : "not published";

		if (bad) {
			note(why, whylen, f->tp_field, bad);
			continue;
		}
		struct kx_copy *c = &cfg->copy[kind][n++];
		c->src = (uint8_t)tp->offset;
		c->dst = f->off;
		c->len = (uint8_t)tp->size;
		/* Scalars come from the record read onto the BPF stack, where
		 * loads must be aligned; anything else is read from the
		 * tracepoint's record directly. */
		int scalar = (c->len == 1 || c->len == 2 || c->len == 4 || c->len == 8) &&
			     c->src % c->len == 0;
		c->from_ctx = !scalar;
		if (scalar && tp->offset + tp->size > rec_len)
			rec_len = tp->offset + tp->size;
		cfg->present[kind] |= (uint16_t)(1u << i);
	}
	cfg->rec_len[kind] = (uint8_t)rec_len;
}
