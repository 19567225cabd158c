/* In-kernel exits (KT_REC_KEXIT, KT_REC_KEXIT_LOST): the fields of each
 * kind by kexits' own tables (kexits/kx_layout.c), values named by its
 * name tables (exit reasons per ISA, exception vectors) and by the few
 * below, and the two short forms the rest of kvmtrace counts and compares
 * by: the reason ("exit.cpuid") and the step ("msr(read 0xc0000080)"). */
#include "decode/decode_util.h"

#include <stdio.h>

#include "common/hash.h"
#include "decode/kexit.h"
#include "kexits/kx_layout.h"
#include "kexits/kx_names.h"
#include "trace/trace_format.h"

_Static_assert(sizeof(struct kt_kexit_body) == sizeof(struct kx_event),
	       "a KEXIT body is a kexits event");

/* ---- value names ------------------------------------------------------ */
static const char *exit_reason(const struct kx_event *ev, uint64_t v)
{
	return kx_exit_reason_name(ev->u.exit.isa, (uint32_t)v);
}

static const char *isa(const struct kx_event *ev, uint64_t v)
{
	(void)ev;
	return v >= KX_ISA_VMX && v <= KX_ISA_PVM ? kx_isa_name((unsigned)v) : NULL;
}

static const char *vector(const struct kx_event *ev, uint64_t v)
{
	(void)ev;
	return kx_exception_name((unsigned)v);
}

static const char *pio_rw(const struct kx_event *ev, uint64_t v)
{
	(void)ev;
	return v ? "out" : "in";
}

static const char *msr_rw(const struct kx_event *ev, uint64_t v)
{
	(void)ev;
	return v ? "write" : "read";
}

static const char *mmio_type(const struct kx_event *ev, uint64_t v)
{
	static const char *const names[] = { "unsatisfied_read", "read", "write" };

	(void)ev;
	return v < COUNT(names) ? names[v] : NULL;
}

/* Fields whose value has a name; the rest are numbers (kx_layout's type).
 * A mode leads show's line bare, as in "msr read ecx=0xc0000080". */
static const struct {
	uint8_t kind;
	const char *field;
	const char *(*name)(const struct kx_event *ev, uint64_t v);
	bool mode;
} named[] = {
	{ KX_EXIT, "reason", exit_reason, false },
	{ KX_EXIT, "isa", isa, false },
	{ KX_PIO, "rw", pio_rw, true },
	{ KX_MMIO, "type", mmio_type, true },
	{ KX_MSR, "write", msr_rw, true },
	{ KX_INJ_EXCEPTION, "exception", vector, false },
};
_Static_assert(offsetof(struct kx_inj_exception, reinjected) == 2, "kx_layout's bit 3");

static int named_index(unsigned kind, const char *field)
{
	for (size_t i = 0; i < COUNT(named); i++)
		if (named[i].kind == kind && !strcmp(named[i].field, field))
			return (int)i;
	return -1;
}

static const char *(*namer(unsigned kind, const char *field))(const struct kx_event *, uint64_t)
{
	int i = named_index(kind, field);

	return i < 0 ? NULL : named[i].name;
}

/* What identifies a step of the sequence (what happened, not its result):
 * up to two fields of the kind; entry has none. */
static const struct {
	uint8_t kind;
	const char *id[2];
} step_ids[] = {
	{ KX_EXIT, { "reason", NULL } },
	{ KX_ENTRY, { NULL, NULL } },
	{ KX_PIO, { "rw", "port" } },
	{ KX_MMIO, { "type", "gpa" } },
	{ KX_MSR, { "write", "ecx" } },
	{ KX_CPUID, { "function", "index" } },
	{ KX_HYPERCALL, { "nr", NULL } },
	{ KX_EMULATE, { "rip", NULL } },
	{ KX_INJ_EXCEPTION, { "exception", NULL } },
};

/* ---- helpers ---------------------------------------------------------- */
static void load(struct kx_event *ev, const void *body)
{
	memcpy(ev, body, sizeof(*ev));
}

static const struct kx_field_desc *field(const struct kx_kind_desc *k, const char *name,
					 unsigned *index)
{
	for (unsigned i = 0; k && name && i < k->nfields; i++)
		if (!strcmp(k->fields[i].name, name)) {
			*index = i;
			return &k->fields[i];
		}
	return NULL;
}

/* The bytes of a byte-array field that count (an emulated instruction's
 * len of them), as hex digits. */
static void bytes_hex(const struct kx_event *ev, const struct kx_field_desc *f, char *out)
{
	unsigned n = f->size;

	if (ev->kind == KX_EMULATE && ev->u.emulate.len < n)
		n = ev->u.emulate.len;
	kt_hex_string(out, ev->u.data + f->off, n);
}

static void emit_field(struct kt_sink *s, const struct kx_event *ev,
		       const struct kx_field_desc *f, bool line)
{
	uint64_t v = kx_field_value(ev, f);
	int n = named_index(ev->kind, f->name);
	char hex[2 * KX_DATA_BYTES + 1];

	if (n >= 0) {
		s->ops->sym(s, line && named[n].mode ? NULL : f->name, v, named[n].name(ev, v));
		return;
	}
	switch (f->type) {
	case KX_T_HEX:
		kt_hex(s, f->name, v);
		break;
	case KX_T_BOOL:
		s->ops->u64(s, f->name, v, KT_BOOL);
		break;
	case KX_T_BYTES:
		bytes_hex(ev, f, hex);
		s->ops->str(s, f->name, hex);
		break;
	default:
		kt_dec(s, f->name, v);
	}
}

/* Every field the kernel published, in kexits' order; absent ones are not
 * emitted at all, so "absent on this kernel" never reads as zero. */
static void emit_kind_fields(struct kt_sink *s, const struct kx_event *ev, bool line)
{
	const struct kx_kind_desc *k = kx_kind(ev->kind);

	for (unsigned i = 0; k && i < k->nfields; i++)
		if (kx_field_present(ev, i))
			emit_field(s, ev, &k->fields[i], line);
}

/* ---- decoders ------------------------------------------------------------ */
void decode_kexit_event(struct kt_sink *s, const struct kt_event *ev)
{
	struct kx_event x;

	if (kt_short(s, sizeof(x), ev->len))
		return;
	load(&x, ev->body);
	s->ops->begin(s, "kexit");
	s->ops->sym(s, "kind", x.kind, kx_kind(x.kind) ? kx_kind_name(x.kind) : NULL);
	kt_dec(s, "ts_ns", x.ts_ns);
	kt_dec(s, "seq", x.seq);
	kt_dec(s, "tid", x.tid);
	kt_dec(s, "cpu", x.cpu);
	if (kx_kind(x.kind)) {
		s->ops->begin(s, kx_kind_name(x.kind));
		emit_kind_fields(s, &x, false);
		s->ops->end(s);
	} else {
		s->ops->bytes(s, "data", x.u.data, sizeof(x.u.data));
	}
	s->ops->end(s);
}

void decode_kexit_lost_event(struct kt_sink *s, const struct kt_event *ev)
{
	struct kt_kexit_lost_body l;

	if (kt_short(s, sizeof(l), ev->len))
		return;
	memcpy(&l, ev->body, sizeof(l));
	s->ops->begin(s, "kexit_lost");
	kt_dec(s, "seq", l.seq);
	kt_dec(s, "count", l.count);
	s->ops->end(s);
}

void decode_kexit_line(struct kt_sink *s, const void *body, size_t len)
{
	struct kx_event x;

	if (kt_short(s, sizeof(x), len))
		return;
	load(&x, body);
	s->ops->sym(s, NULL, x.kind, kx_kind(x.kind) ? kx_kind_name(x.kind) : NULL);
	emit_kind_fields(s, &x, true);
}

/* ---- host-caused exits --------------------------------------------------- */
static const struct {
	uint8_t isa;
	uint32_t reason;
} host_caused[] = {
	{ KX_ISA_SVM, 0x060 },  /* intr */
	{ KX_ISA_SVM, 0x061 },  /* nmi */
	{ KX_ISA_SVM, 0x062 },  /* smi */
	{ KX_ISA_SVM, 0x064 },  /* vintr */
	{ KX_ISA_SVM, 0x077 },  /* pause */
	{ KX_ISA_SVM, 0x400 },  /* npf */
	{ KX_ISA_VMX, 1 },      /* EXTERNAL_INTERRUPT */
	{ KX_ISA_VMX, 5 },      /* IO_SMI */
	{ KX_ISA_VMX, 6 },      /* OTHER_SMI */
	{ KX_ISA_VMX, 7 },      /* INTERRUPT_WINDOW */
	{ KX_ISA_VMX, 8 },      /* NMI_WINDOW */
	{ KX_ISA_VMX, 40 },     /* PAUSE_INSTRUCTION */
	{ KX_ISA_VMX, 48 },     /* EPT_VIOLATION */
	{ KX_ISA_VMX, 49 },     /* EPT_MISCONFIG */
	{ KX_ISA_VMX, 52 },     /* PREEMPTION_TIMER */
	{ KX_ISA_VMX, 62 },     /* PML_FULL */
};

/* kvm_inj_exception's fields: bit 3, reinjected */
#define INJ_REINJECTED 3

bool kt_kexit_host(const void *body)
{
	struct kx_event x;

	load(&x, body);
	/* An exception delivered again: a host exit cut its delivery short. */
	if (x.kind == KX_INJ_EXCEPTION)
		return kx_field_present(&x, INJ_REINJECTED) && x.u.inj_exception.reinjected;
	if (x.kind != KX_EXIT || !kx_field_present(&x, 0) || !kx_field_present(&x, 1))
		return false;
	for (size_t i = 0; i < COUNT(host_caused); i++)
		if (host_caused[i].isa == x.u.exit.isa && host_caused[i].reason == x.u.exit.reason)
			return true;
	return false;
}

/* ---- the short forms ---------------------------------------------------- */
/* One identifying value: its name, or hex; spaces become '_' so that it
 * can stand in a field path ("GP excp" -> "GP_excp"). */
static size_t id_value(const struct kx_event *ev, const char *name, char *buf, size_t len)
{
	const struct kx_kind_desc *k = kx_kind(ev->kind);
	unsigned i;
	const struct kx_field_desc *f = field(k, name, &i);
	const char *(*nm)(const struct kx_event *, uint64_t);
	const char *sym = NULL;
	uint64_t v;
	int n;

	if (!f || !kx_field_present(ev, i))
		return 0;
	v = kx_field_value(ev, f);
	if ((nm = namer(ev->kind, name)))
		sym = nm(ev, v);
	n = sym ? snprintf(buf, len, "%s", sym) : snprintf(buf, len, "0x%llx",
							     (unsigned long long)v);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '_';
	return n > 0 ? (size_t)n : 0;
}

static unsigned step_of(unsigned kind)
{
	for (unsigned i = 0; i < COUNT(step_ids); i++)
		if (step_ids[i].kind == kind)
			return i;
	return COUNT(step_ids);
}

const char *kt_kexit_reason(const void *body, char *buf, size_t len)
{
	struct kx_event x;
	unsigned st;
	const char *first;
	char v[48];

	load(&x, body);
	st = step_of(x.kind);
	if (!kx_kind(x.kind) || st == COUNT(step_ids)) {
		snprintf(buf, len, "kind%u", x.kind);
		return buf;
	}
	first = step_ids[st].id[0];
	/* Split by the first identifying field only where it is a name. */
	if (first && namer(x.kind, first) && id_value(&x, first, v, sizeof(v)))
		snprintf(buf, len, "%s.%s%s", kx_kind_name(x.kind), v,
			 x.kind == KX_INJ_EXCEPTION && kt_kexit_host(body) ? ".reinjected" : "");
	else
		snprintf(buf, len, "%s", kx_kind_name(x.kind));
	return buf;
}

const char *kt_kexit_step(const void *body, char *buf, size_t len, uint64_t *key)
{
	struct kx_event x;
	unsigned st;
	size_t used;
	char v[48];

	load(&x, body);
	st = step_of(x.kind);
	used = (size_t)snprintf(buf, len, "%s", kx_kind(x.kind) ? kx_kind_name(x.kind) : "?");
	for (unsigned i = 0; st < COUNT(step_ids) && i < 2 && step_ids[st].id[i]; i++) {
		if (!id_value(&x, step_ids[st].id[i], v, sizeof(v)))
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 strchr(buf, '(') ? " " : "(", v);
	}
	if (strchr(buf, '(') && used < len)
		snprintf(buf + used, len - used, ")");
	if (key)
		*key = kt_fnv1a64(buf, strlen(buf));
	return buf;
}

/* ---- the header field --------------------------------------------------- */
static const char *const state_names[] = {
	[KT_KEXITS_ON] = "on", [KT_KEXITS_UNAVAILABLE] = "unavailable",
};

/* Bit k: kind k, by kexits' names. */
static void kinds_flags(struct kt_sink *s, const char *name, uint32_t mask)
{
	struct kt_flag_name t[KX_KINDS + 1];

	for (unsigned k = 0; k < KX_KINDS; k++)
		t[k] = (struct kt_flag_name){ 1ull << k, kx_kind_name(k) };
	t[KX_KINDS] = (struct kt_flag_name){ 0, NULL };
	s->ops->flags(s, name, mask, t);
}

/* Per captured kind, the fields kvmtrace knows that this kernel does not
 * publish (kvm_exit's requests before 6.14): by the tracepoint's names. */
static void unpublished(struct kt_sink *s, const struct kt_kexits_hdr *h)
{
	s->ops->begin(s, "unpublished");
	for (unsigned k = 0; k < KX_KINDS; k++) {
		const struct kx_kind_desc *d = kx_kind(k);
		unsigned missing = h->known[k] & ~h->present[k];
		struct kt_flag_name t[KX_MAX_FIELDS + 1];
		unsigned n = 0;

		if (!(h->attached >> k & 1) || !missing)
			continue;
		for (unsigned i = 0; i < d->nfields && n < KX_MAX_FIELDS; i++)
			t[n++] = (struct kt_flag_name){ 1ull << i, d->fields[i].tp_field };
		t[n] = (struct kt_flag_name){ 0, NULL };
		s->ops->flags(s, d->tracepoint, missing, t);
	}
	s->ops->end(s);
}

void decode_kexits_hdr(struct kt_sink *s, const void *p, size_t len)
{
	struct kt_kexits_hdr h;

	if (kt_short(s, sizeof(h), len))
		return;
	memcpy(&h, p, sizeof(h));
	s->ops->sym(s, "state", h.state, h.state < COUNT(state_names) ?
		    state_names[h.state] : NULL);
	kinds_flags(s, "asked", h.asked);
	if (h.state != KT_KEXITS_ON)
		return;
	kinds_flags(s, "attached", h.attached);
	kt_dec(s, "ring_bytes", h.ring_bytes);
	unpublished(s, &h);
}
