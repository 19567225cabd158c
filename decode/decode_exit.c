/* kvm_run as the trace keeps it (struct kt_run_out): the 32-byte head, the
 * 256-byte exit union, then an IO OUT's data bytes.  The payload is decoded
 * by a table of exit reasons, for three uses: the full struct (replay, diff,
 * JSON), the named fields of show's KVM_RUN line, and the bare summary. */
#include "decode/decode_util.h"
#include "trace/run_bytes.h"

#include <linux/kvm.h>

#include "common/kvm_names.h"
#include "trace/trace_format.h"

_Static_assert(offsetof(struct kvm_run, exit_reason) == 8, "kvm_run head moved");
_Static_assert(offsetof(struct kvm_run, io) == KT_RUN_HEAD_BYTES, "exit union moved");
_Static_assert(sizeof(struct kt_run_out) == KT_RUN_HEAD_BYTES + KT_RUN_UNION_BYTES,
	       "kt_run_out size");

struct exit_view {
	const struct kvm_run *run;  /* head and union only: nothing past them */
	const uint8_t *data;        /* bytes after kt_run_out */
	size_t data_len;
	bool line;                  /* leave out fields a reader never needs */
	bool bare;                  /* the leading mode without its name */
};

/* A field that leads a line: "out", "write"; named in full decodes. */
static void mode(struct kt_sink *s, const struct exit_view *x, const char *name,
		 uint64_t v, const char *symbol)
{
	s->ops->sym(s, x->bare ? NULL : name, v, symbol);
}

static void exit_io(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;
	bool out = r->io.direction == KVM_EXIT_IO_OUT;
	size_t need = (size_t)r->io.size * r->io.count;

	mode(s, x, "direction", r->io.direction, out ? "out" : "in");
	kt_hex(s, "port", r->io.port);
	kt_dec(s, "size", r->io.size);
	kt_dec(s, "count", r->io.count);
	if (!x->line)
		kt_hex(s, "data_offset", r->io.data_offset);
	/* An IN's data arrives with the next KVM_RUN (kt_run_in). */
	if (out && !kt_short(s, need, x->data_len))
		s->ops->bytes(s, "data", x->data, need);
}

/* A read's data is what userspace answers on the next entry. */
static void exit_mmio(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;
	size_t n = r->mmio.len < sizeof(r->mmio.data) ? r->mmio.len : sizeof(r->mmio.data);

	if (x->bare)
		mode(s, x, "is_write", r->mmio.is_write, r->mmio.is_write ? "write" : "read");
	kt_hex(s, "phys_addr", r->mmio.phys_addr);
	kt_dec(s, "len", r->mmio.len);
	if (!x->bare)
		s->ops->u64(s, "is_write", r->mmio.is_write, KT_BOOL);
	if (r->mmio.is_write)
		s->ops->bytes(s, "data", r->mmio.data, n);
}

static void words(struct kt_sink *s, const char *name, const __u64 *w, size_t n)
{
	s->ops->array(s, name);
	for (size_t i = 0; i < n; i++)
		kt_hex(s, NULL, w[i]);
	s->ops->end(s);
}

static void exit_hypercall(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;

	kt_hex(s, "nr", r->hypercall.nr);
	words(s, "args", r->hypercall.args, COUNT(r->hypercall.args));
	kt_hex(s, "ret", r->hypercall.ret);
	kt_dec(s, "longmode", r->hypercall.longmode);
}

static void exit_debug(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;

	kt_dec(s, "exception", r->debug.arch.exception);
	kt_hex(s, "pc", r->debug.arch.pc);
	kt_hex(s, "dr6", r->debug.arch.dr6);
	kt_hex(s, "dr7", r->debug.arch.dr7);
}

static void exit_internal(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;
	uint32_t n = r->internal.ndata;

	s->ops->sym(s, "suberror", r->internal.suberror,
		    kvm_internal_error_name(r->internal.suberror));
	kt_dec(s, "ndata", n);
	words(s, "data", r->internal.data,
	      n < COUNT(r->internal.data) ? n : COUNT(r->internal.data));
}

static void exit_fail_entry(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;

	kt_hex(s, "hardware_entry_failure_reason", r->fail_entry.hardware_entry_failure_reason);
	kt_dec(s, "cpu", r->fail_entry.cpu);
}

/* Kernels before 5.18 left ndata zero and passed one word, flags. */
static void exit_system_event(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;
	uint32_t n = r->system_event.ndata;

	s->ops->sym(s, "type", r->system_event.type,
		    kvm_system_event_name(r->system_event.type));
	kt_dec(s, "ndata", n);
	if (n)
		words(s, "data", r->system_event.data,
		      n < COUNT(r->system_event.data) ? n : COUNT(r->system_event.data));
	else
		kt_hex(s, "flags", r->system_event.flags);
}

static const struct kt_flag_name msr_reasons[] = {
	{ KVM_MSR_EXIT_REASON_INVAL, "INVAL" }, { KVM_MSR_EXIT_REASON_UNKNOWN, "UNKNOWN" },
	{ KVM_MSR_EXIT_REASON_FILTER, "FILTER" }, { 0, NULL },
};

static void exit_msr(struct kt_sink *s, const struct exit_view *x)
{
	const struct kvm_run *r = x->run;

	kt_hex(s, "index", r->msr.index);
	kt_hex(s, "data", r->msr.data);
	s->ops->flags(s, "reason", r->msr.reason, msr_reasons);
	kt_dec(s, "error", r->msr.error);
}

static void exit_exception(struct kt_sink *s, const struct exit_view *x)
{
	kt_dec(s, "exception", x->run->ex.exception);
	kt_hex(s, "error_code", x->run->ex.error_code);
}

/* An exit without a decoder: the union in hex, up to its last non-zero
 * byte, so nothing the kernel said is lost. */
static void exit_unknown(struct kt_sink *s, const struct exit_view *x)
{
	const uint8_t *u = (const uint8_t *)&x->run->io;
	char buf[2 * KT_RUN_UNION_BYTES + 1];
	size_t n = KT_RUN_UNION_BYTES;

	while (n && !u[n - 1])
		n--;
	kt_hex_string(buf, u, n);
	s->ops->str(s, "raw", buf);
}

typedef void (*exit_decoder)(struct kt_sink *s, const struct exit_view *x);

/* member: the kvm_run union member, the payload's name in full decodes.
 * Exits that carry nothing have no member and no decoder. */
static const struct {
	uint32_t reason;
	const char *member;
	exit_decoder decode;
} exits[] = {
	{ KVM_EXIT_IO, "io", exit_io },
	{ KVM_EXIT_MMIO, "mmio", exit_mmio },
	{ KVM_EXIT_HYPERCALL, "hypercall", exit_hypercall },
	{ KVM_EXIT_DEBUG, "debug", exit_debug },
	{ KVM_EXIT_INTERNAL_ERROR, "internal", exit_internal },
	{ KVM_EXIT_FAIL_ENTRY, "fail_entry", exit_fail_entry },
	{ KVM_EXIT_SYSTEM_EVENT, "system_event", exit_system_event },
	{ KVM_EXIT_X86_RDMSR, "msr", exit_msr },
	{ KVM_EXIT_X86_WRMSR, "msr", exit_msr },
	{ KVM_EXIT_EXCEPTION, "ex", exit_exception },
	{ KVM_EXIT_HLT, NULL, NULL },
	{ KVM_EXIT_SHUTDOWN, NULL, NULL },
	{ KVM_EXIT_IRQ_WINDOW_OPEN, NULL, NULL },
	{ KVM_EXIT_INTR, NULL, NULL },
};

static const char *member_of(uint32_t reason, exit_decoder *decode)
{
	for (size_t i = 0; i < COUNT(exits); i++)
		if (exits[i].reason == reason) {
			*decode = exits[i].decode;
			return exits[i].member;
		}
	*decode = exit_unknown;
	return "unknown";
}

/* Only the head and the union are copied: kvm_run's tail (sync regs) is
 * never read, and copying 288 bytes keeps this cheap per event. */
static bool load(struct kvm_run *run, const void *p, size_t len)
{
	if (len < sizeof(struct kt_run_out))
		return false;
	memcpy(run, p, sizeof(struct kt_run_out));
	return true;
}

static void payload(struct kt_sink *s, const void *p, size_t len, bool line, bool bare,
		    bool nest)
{
	struct kvm_run run;
	struct exit_view x = {
		.run = &run, .data = (const uint8_t *)p + sizeof(struct kt_run_out),
		.line = line, .bare = bare,
	};
	exit_decoder decode;
	const char *member;

	if (kt_short(s, sizeof(struct kt_run_out), len) || !load(&run, p, len))
		return;
	x.data_len = len - sizeof(struct kt_run_out);
	member = member_of(run.exit_reason, &decode);
	if (!decode)
		return;
	if (nest)
		s->ops->begin(s, member);
	decode(s, &x);
	if (nest)
		s->ops->end(s);
}

void decode_exit_payload(struct kt_sink *s, const void *out, size_t out_len)
{
	payload(s, out, out_len, true, false, false);
}

void decode_run_exit(struct kt_sink *s, const void *out, size_t out_len)
{
	uint32_t reason;

	if (kt_short(s, sizeof(struct kt_run_out), out_len))
		return;
	reason = kt_run_out_reason(out, out_len);
	s->ops->sym(s, NULL, reason, kvm_exit_reason_name(reason));
	payload(s, out, out_len, true, true, false);
}

/* The head fields KVM writes.  request_interrupt_window and immediate_exit
 * are userspace's (decoded under entry, kt_run_in): what they hold after
 * the call is whatever userspace left there meanwhile (a run ended by a
 * kick sets immediate_exit), not something KVM answered. */
#define H(member, fmt) KT_FIELD(struct kvm_run, member, fmt)
static const struct kt_field_desc head_fields[] = {
	H(ready_for_interrupt_injection, KT_BOOL), H(if_flag, KT_BOOL), H(flags, KT_HEX),
	H(cr8, KT_HEX), H(apic_base, KT_HEX),
};

void decode_kt_run_out(struct kt_sink *s, const void *p, size_t len)
{
	uint32_t reason;

	if (kt_short(s, sizeof(struct kt_run_out), len))
		return;
	reason = kt_run_out_reason(p, len);
	s->ops->sym(s, "reason", reason, kvm_exit_reason_name(reason));
	kt_emit_fields(s, head_fields, COUNT(head_fields), p, len);
	payload(s, p, len, false, false, true);
}
