/* The trace's own structs and events (trace/trace_format.h): run
 * configuration, CPU signature, snapshot, memory write, digest, end, and
 * the table of event types that ties them together. */
#include "decode/decode_util.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "common/kvm_names.h"
#include "decode/kexit.h"
#include "trace/trace_format.h"

static const char *const mode_names[] = {
	[KT_MODE_LONG] = "long", [KT_MODE_REAL] = "real",
	[KT_MODE_PROTECTED] = "protected", [KT_MODE_PAGED32] = "paged32",
};

static const struct kt_flag_name cfg_flags[] = {
	{ KT_CFG_SYNC_REGS, "SYNC_REGS" }, { KT_CFG_SNAPSHOTS, "SNAPSHOTS" }, { 0, NULL },
};

void decode_kt_run_config(struct kt_sink *s, const void *p, size_t len)
{
	struct kt_run_config c;

	if (kt_short(s, sizeof(c), len))
		return;
	memcpy(&c, p, sizeof(c));
	s->ops->sym(s, "mode", c.mode, c.mode < COUNT(mode_names) ? mode_names[c.mode] : NULL);
	kt_dec(s, "vcpus", c.vcpus);
	kt_hex(s, "mem_bytes", c.mem_bytes);
	kt_dec(s, "timeout_ms", c.timeout_ms);
	kt_dec(s, "max_exits", c.max_exits);
	s->ops->flags(s, "flags", c.flags, cfg_flags);
	kt_dec(s, "guest_arg", c.guest_arg);
}

static const struct kt_field_desc signature_fields[] = {
	KT_FIELD(struct kt_cpu_signature, family, KT_HEX),
	KT_FIELD(struct kt_cpu_signature, model, KT_HEX),
	KT_FIELD(struct kt_cpu_signature, stepping, KT_DEC),
	KT_FIELD(struct kt_cpu_signature, raw_eax, KT_HEX),
};

void decode_kt_cpu_signature(struct kt_sink *s, const void *p, size_t len)
{
	kt_emit_fields(s, signature_fields, COUNT(signature_fields), p, len);
}

static const char *const snap_sources[] = {
	[KT_SNAP_SYNC_REGS] = "sync_regs", [KT_SNAP_IOCTL] = "ioctl",
};

void decode_kt_snapshot_body(struct kt_sink *s, const void *p, size_t len)
{
	const struct kt_snapshot_body *b = p;
	uint32_t src;

	if (kt_short(s, sizeof(*b), len))
		return;
	src = (uint32_t)kt_load(p, sizeof(src));
	s->ops->sym(s, "source", src, src < COUNT(snap_sources) ? snap_sources[src] : NULL);
	kt_nested(s, "regs", decode_kvm_regs, &b->regs, sizeof(b->regs));
	kt_nested(s, "sregs", decode_kvm_sregs, &b->sregs, sizeof(b->sregs));
}

/* ---- events ---- */
static const char *const role_names[] = {
	[KT_FD_SYSTEM] = "system", [KT_FD_VM] = "vm", [KT_FD_VCPU] = "vcpu",
	[KT_FD_DEVICE] = "device", [KT_FD_OTHER] = "other",
};

/* A created fd's number is the kernel's choice, not a result to compare. */
static bool returns_fd(uint32_t request)
{
	return request == KVM_CREATE_VM || request == KVM_CREATE_VCPU;
}

static void decode_ioctl_event(struct kt_sink *s, const struct kt_event *ev)
{
	const struct kt_ioctl_body *b = ev->ioctl;

	s->ops->begin(s, "ioctl");
	s->ops->sym(s, "request", b->request, kvm_ioctl_name(b->request));
	s->ops->sym(s, "fd", b->role, b->role < COUNT(role_names) ? role_names[b->role] : NULL);
	if (returns_fd(b->request) && b->ret >= 0)
		kt_dec(s, "new_fd", (uint64_t)b->ret);
	else
		s->ops->i64(s, "ret", b->ret);
	if (b->err)
		s->ops->sym(s, "errno", (uint64_t)b->err, strerrorname_np(b->err));
	kt_dec(s, "t_start_ns", b->t_start_ns);
	kt_dec(s, "dur_ns", b->dur_ns);
	s->ops->end(s);
	decode_ioctl_args(s, b->request, ev->in, b->in_len, ev->out, b->out_len);
}

static void decode_snapshot_event(struct kt_sink *s, const struct kt_event *ev)
{
	decode_kt_snapshot_body(s, ev->body, ev->len);
}

static void decode_memwrite_event(struct kt_sink *s, const struct kt_event *ev)
{
	if (kt_short(s, 8, ev->len))
		return;
	kt_hex(s, "gpa", kt_load(ev->body, 8));
	kt_dec(s, "len", ev->len - 8);
	kt_hex(s, "hash", kt_fnv1a64(ev->body + 8, ev->len - 8));
}

/* Pages that fit in the record (a short one is reported after them). */
static uint32_t digest_pages(const struct kt_digest_body *d, uint32_t len)
{
	uint64_t fit = (len - sizeof(*d)) / 8;

	return fit < d->npages ? (uint32_t)fit : d->npages;
}

/* For people: a run of equal pages is one field,
 * "0x2000..0x1fe000 (509 pages)" = hash. */
static void digest_runs(struct kt_sink *s, const struct kt_digest_body *d,
			const uint8_t *h, uint32_t n)
{
	for (uint32_t i = 0, j; i < n; i = j) {
		uint64_t v = kt_load(h + i * 8, 8);
		char key[64];

		for (j = i + 1; j < n && kt_load(h + j * 8, 8) == v; j++)
			;
		if (j - i == 1)
			snprintf(key, sizeof(key), "0x%" PRIx64, d->gpa + (uint64_t)i * d->page_size);
		else
			snprintf(key, sizeof(key), "0x%" PRIx64 "..0x%" PRIx64 " (%u pages)",
				 d->gpa + (uint64_t)i * d->page_size,
				 d->gpa + (uint64_t)(j - 1) * d->page_size, j - i);
		kt_hex(s, key, v);
	}
}

/* Every page keyed by its address, so a diff names the page that changed. */
static void digest_pages_each(struct kt_sink *s, const struct kt_digest_body *d,
			      const uint8_t *h, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		char key[24];

		kt_fmt_u64(key, d->gpa + (uint64_t)i * d->page_size, KT_HEX);
		kt_hex(s, key, kt_load(h + i * 8, 8));
	}
}

static void decode_digest_event(struct kt_sink *s, const struct kt_event *ev)
{
	struct kt_digest_body d;
	const uint8_t *h = ev->body + sizeof(d);

	if (kt_short(s, sizeof(d), ev->len))
		return;
	memcpy(&d, ev->body, sizeof(d));
	kt_dec(s, "slot", d.slot);
	kt_hex(s, "gpa", d.gpa);
	kt_dec(s, "npages", d.npages);
	s->ops->begin(s, "pages");
	(s->compact ? digest_runs : digest_pages_each)(s, &d, h, digest_pages(&d, ev->len));
	s->ops->end(s);
	kt_short(s, sizeof(d) + (size_t)d.npages * 8, ev->len);
}

static const char *const end_reason_names[] = {
	[KT_END_HALTED] = "halted", [KT_END_GUEST_EXIT] = "guest_exit",
	[KT_END_SHUTDOWN] = "shutdown", [KT_END_GUEST_ERROR] = "guest_error",
	[KT_END_TIMEOUT] = "timeout", [KT_END_INTERRUPTED] = "interrupted",
	[KT_END_KVM_ERROR] = "kvm_error", [KT_END_VMM_EXIT] = "vmm_exit",
};

const char *kt_end_reason_name(uint32_t reason)
{
	return reason < COUNT(end_reason_names) ? end_reason_names[reason] : NULL;
}

static void decode_end_event(struct kt_sink *s, const struct kt_event *ev)
{
	struct kt_end_body e;

	if (kt_short(s, sizeof(e), ev->len))
		return;
	memcpy(&e, ev->body, sizeof(e));
	s->ops->sym(s, "reason", e.reason, kt_end_reason_name(e.reason));
	s->ops->i64(s, "status", e.status);
	kt_dec(s, "events", e.events);
	kt_dec(s, "exits", e.exits);
}

static const struct {
	uint8_t type;
	const char *name;
	void (*decode)(struct kt_sink *s, const struct kt_event *ev);
} event_decoders[] = {
	{ KT_REC_IOCTL, "ioctl", decode_ioctl_event },
	{ KT_REC_SNAPSHOT, "snapshot", decode_snapshot_event },
	{ KT_REC_MEMWRITE, "memwrite", decode_memwrite_event },
	{ KT_REC_DIGEST, "digest", decode_digest_event },
	{ KT_REC_END, "end", decode_end_event },
	{ KT_REC_KEXIT, "kexit", decode_kexit_event },
	{ KT_REC_KEXIT_LOST, "kexit_lost", decode_kexit_lost_event },
};

const char *kt_event_type_name(uint8_t type)
{
	for (size_t i = 0; i < COUNT(event_decoders); i++)
		if (event_decoders[i].type == type)
			return event_decoders[i].name;
	return "unknown";
}

void decode_event(struct kt_sink *s, const struct kt_event *ev)
{
	s->ops->str(s, "event", kt_event_type_name(ev->type));
	kt_dec(s, "vcpu", ev->vcpu);
	for (size_t i = 0; i < COUNT(event_decoders); i++)
		if (event_decoders[i].type == ev->type) {
			event_decoders[i].decode(s, ev);
			return;
		}
	s->ops->bytes(s, "body", ev->body, ev->len);
}
