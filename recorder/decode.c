#include "recorder/decode.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "recorder/kvm_names.h"
#include "recorder/trace_header.h"

/* ---- field tables for structs of plain integers ---- */
struct field {
	const char *name;
	size_t offset, size;
	enum kt_fmt fmt;
};

#define F(type, member, fmt) { #member, offsetof(type, member), sizeof(((type *)0)->member), fmt }

static uint64_t load(const uint8_t *p, size_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);  /* little-endian host */
	return v;
}

static void emit_fields(struct kt_sink *s, const struct field *f, size_t n,
			const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].offset + f[i].size > len) {
			s->ops->str(s, "error", "short buffer");
			return;
		}
		s->ops->num(s, f[i].name, load(p + f[i].offset, f[i].size), f[i].fmt, NULL);
	}
}

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

static bool short_struct(struct kt_sink *s, size_t need, size_t len)
{
	if (len >= need)
		return false;
	s->ops->str(s, "error", "short buffer");
	return true;
}

/* ---- kvm_regs ---- */
static const struct field regs_fields[] = {
	F(struct kvm_regs, rax, KT_HEX), F(struct kvm_regs, rbx, KT_HEX),
	F(struct kvm_regs, rcx, KT_HEX), F(struct kvm_regs, rdx, KT_HEX),
	F(struct kvm_regs, rsi, KT_HEX), F(struct kvm_regs, rdi, KT_HEX),
	F(struct kvm_regs, rsp, KT_HEX), F(struct kvm_regs, rbp, KT_HEX),
	F(struct kvm_regs, r8, KT_HEX), F(struct kvm_regs, r9, KT_HEX),
	F(struct kvm_regs, r10, KT_HEX), F(struct kvm_regs, r11, KT_HEX),
	F(struct kvm_regs, r12, KT_HEX), F(struct kvm_regs, r13, KT_HEX),
	F(struct kvm_regs, r14, KT_HEX), F(struct kvm_regs, r15, KT_HEX),
	F(struct kvm_regs, rip, KT_HEX), F(struct kvm_regs, rflags, KT_HEX),
};

void decode_regs(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	s->ops->begin(s, name);
	emit_fields(s, regs_fields, COUNT(regs_fields), p, len);
	s->ops->end(s);
}

/* ---- kvm_sregs ---- */
static const char *const cr0_bits[64] = {
	[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET", [5] = "NE",
	[16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG",
};
static const char *const cr4_bits[64] = {
	[0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE", [5] = "PAE",
	[6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT",
	[11] = "UMIP", [12] = "LA57", [13] = "VMXE", [14] = "SMXE", [16] = "FSGSBASE",
	[17] = "PCIDE", [18] = "OSXSAVE", [20] = "SMEP", [21] = "SMAP", [22] = "PKE",
	[23] = "CET",
};
static const char *const efer_bits[64] = {
	[0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE", [12] = "SVME",
	[13] = "LMSLE", [14] = "FFXSR", [15] = "TCE",
};

static const char *bit_names(uint64_t v, const char *const names[64], char *buf,
			     size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < 64 && n < size; i++)
		if ((v >> i) & 1) {
			int w = names[i] ? snprintf(buf + n, size - n, "%s%s", n ? " " : "", names[i]) :
					   snprintf(buf + n, size - n, "%sbit%u", n ? " " : "", i);

			n += (size_t)(w > 0 ? w : 0);
		}
	return buf;
}

const char *kt_cr0_names(uint64_t v, char *buf, size_t size)
{
	return bit_names(v, cr0_bits, buf, size);
}

static void flags(struct kt_sink *s, const char *name, uint64_t v,
		  const char *const names[64])
{
	char buf[256];

	s->ops->num(s, name, v, KT_FLAGS, bit_names(v, names, buf, sizeof(buf)));
}

static const struct field segment_fields[] = {
	F(struct kvm_segment, base, KT_HEX), F(struct kvm_segment, limit, KT_HEX),
	F(struct kvm_segment, selector, KT_HEX), F(struct kvm_segment, type, KT_DEC),
	F(struct kvm_segment, present, KT_DEC), F(struct kvm_segment, dpl, KT_DEC),
	F(struct kvm_segment, db, KT_DEC), F(struct kvm_segment, s, KT_DEC),
	F(struct kvm_segment, l, KT_DEC), F(struct kvm_segment, g, KT_DEC),
	F(struct kvm_segment, avl, KT_DEC), F(struct kvm_segment, unusable, KT_DEC),
};

static const struct {
	const char *name;
	size_t offset;
} segments[] = {
	{ "cs", offsetof(struct kvm_sregs, cs) }, { "ds", offsetof(struct kvm_sregs, ds) },
	{ "es", offsetof(struct kvm_sregs, es) }, { "fs", offsetof(struct kvm_sregs, fs) },
	{ "gs", offsetof(struct kvm_sregs, gs) }, { "ss", offsetof(struct kvm_sregs, ss) },
	{ "tr", offsetof(struct kvm_sregs, tr) }, { "ldt", offsetof(struct kvm_sregs, ldt) },
};

static void decode_dtable(struct kt_sink *s, const char *name, const struct kvm_dtable *d)
{
	s->ops->begin(s, name);
	kt_hex(s, "base", d->base);
	kt_hex(s, "limit", d->limit);
	s->ops->end(s);
}

void decode_sregs(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	struct kvm_sregs r;

	s->ops->begin(s, name);
	if (short_struct(s, sizeof(r), len)) {
		s->ops->end(s);
		return;
	}
	memcpy(&r, p, sizeof(r));
	flags(s, "cr0", r.cr0, cr0_bits);
	kt_hex(s, "cr2", r.cr2);
	kt_hex(s, "cr3", r.cr3);
	flags(s, "cr4", r.cr4, cr4_bits);
	kt_hex(s, "cr8", r.cr8);
	flags(s, "efer", r.efer, efer_bits);
	kt_hex(s, "apic_base", r.apic_base);
	for (size_t i = 0; i < COUNT(segments); i++) {
		s->ops->begin(s, segments[i].name);
		emit_fields(s, segment_fields, COUNT(segment_fields),
			    (const uint8_t *)p + segments[i].offset, sizeof(struct kvm_segment));
		s->ops->end(s);
	}
	decode_dtable(s, "gdt", &r.gdt);
	decode_dtable(s, "idt", &r.idt);
	for (size_t i = 0; i < COUNT(r.interrupt_bitmap); i++)
		if (r.interrupt_bitmap[i]) {
			char key[32];

			snprintf(key, sizeof(key), "interrupt_bitmap%zu", i);
			kt_hex(s, key, r.interrupt_bitmap[i]);
		}
	s->ops->end(s);
}

/* ---- memory region ---- */
static const struct field region_fields[] = {
	F(struct kvm_userspace_memory_region, slot, KT_DEC),
	F(struct kvm_userspace_memory_region, flags, KT_HEX),
	F(struct kvm_userspace_memory_region, guest_phys_addr, KT_HEX),
	F(struct kvm_userspace_memory_region, memory_size, KT_HEX),
	F(struct kvm_userspace_memory_region, userspace_addr, KT_HEX),
};

void decode_memory_region(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	s->ops->begin(s, name);
	emit_fields(s, region_fields, COUNT(region_fields), p, len);
	s->ops->end(s);
}

/* ---- kvm_cpuid2: entries keyed by function and index ---- */
static const struct field cpuid_entry_fields[] = {
	F(struct kvm_cpuid_entry2, flags, KT_HEX), F(struct kvm_cpuid_entry2, eax, KT_HEX),
	F(struct kvm_cpuid_entry2, ebx, KT_HEX), F(struct kvm_cpuid_entry2, ecx, KT_HEX),
	F(struct kvm_cpuid_entry2, edx, KT_HEX),
};

/* The APIC ID in leaves 1 and 0xB/0x1F is the host CPU that answered (for
 * KVM_GET_SUPPORTED_CPUID) or the vCPU's own: a field of its own, so diffs
 * can ignore it without ignoring the rest of the register. */
static void decode_cpuid_entry(struct kt_sink *s, const uint8_t *e)
{
	struct kvm_cpuid_entry2 c;

	memcpy(&c, e, sizeof(c));
	if (c.function == 1) {
		kt_dec(s, "apic_id", c.ebx >> 24);
		c.ebx &= 0x00ffffff;
	} else if (c.function == 0xb || c.function == 0x1f) {
		kt_dec(s, "x2apic_id", c.edx);
		c.edx = 0;
	}
	emit_fields(s, cpuid_entry_fields, COUNT(cpuid_entry_fields), (const uint8_t *)&c,
		    sizeof(c));
}

void decode_cpuid2(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	const size_t head = offsetof(struct kvm_cpuid2, entries);
	const size_t esize = sizeof(struct kvm_cpuid_entry2);
	uint32_t nent;

	s->ops->begin(s, name);
	if (short_struct(s, head, len)) {
		s->ops->end(s);
		return;
	}
	nent = (uint32_t)load(p, sizeof(nent));
	kt_dec(s, "nent", nent);
	for (uint32_t i = 0; i < nent && head + (i + 1) * esize <= len; i++) {
		const uint8_t *e = (const uint8_t *)p + head + i * esize;
		char key[48];

		snprintf(key, sizeof(key), "0x%08" PRIx64 ".%" PRIu64,
			 load(e + offsetof(struct kvm_cpuid_entry2, function), 4),
			 load(e + offsetof(struct kvm_cpuid_entry2, index), 4));
		s->ops->begin(s, key);
		decode_cpuid_entry(s, e);
		s->ops->end(s);
	}
	s->ops->end(s);
}

/* ---- KVM_RUN ---- */
void decode_run_in(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	struct kt_run_in in;

	s->ops->begin(s, name);
	if (!short_struct(s, sizeof(in), len)) {
		memcpy(&in, p, sizeof(in));
		kt_dec(s, "immediate_exit", in.immediate_exit);
		kt_dec(s, "request_interrupt_window", in.request_interrupt_window);
		kt_hex(s, "kvm_valid_regs", in.kvm_valid_regs);
		kt_hex(s, "kvm_dirty_regs", in.kvm_dirty_regs);
		if (in.data_len && sizeof(in) + (size_t)in.data_len <= len)
			s->ops->bytes(s, "data", (const uint8_t *)p + sizeof(in), in.data_len);
	}
	s->ops->end(s);
}

typedef void (*exit_decoder)(struct kt_sink *s, const struct kvm_run *run,
			     const uint8_t *data, size_t data_len);

static void exit_io(struct kt_sink *s, const struct kvm_run *r, const uint8_t *data,
		    size_t data_len)
{
	s->ops->num(s, "direction", r->io.direction, KT_SYM,
		    r->io.direction == KVM_EXIT_IO_OUT ? "out" : "in");
	kt_hex(s, "port", r->io.port);
	kt_dec(s, "size", r->io.size);
	kt_dec(s, "count", r->io.count);
	if (data_len)
		s->ops->bytes(s, "data", data, data_len);
}

static void exit_mmio(struct kt_sink *s, const struct kvm_run *r, const uint8_t *data,
		      size_t data_len)
{
	(void)data;
	(void)data_len;
	s->ops->num(s, "direction", r->mmio.is_write, KT_SYM,
		    r->mmio.is_write ? "write" : "read");
	kt_hex(s, "phys_addr", r->mmio.phys_addr);
	kt_dec(s, "len", r->mmio.len);
	if (r->mmio.is_write)
		s->ops->bytes(s, "data", r->mmio.data,
			      r->mmio.len <= sizeof(r->mmio.data) ? r->mmio.len : 8);
}

static void exit_hypercall(struct kt_sink *s, const struct kvm_run *r,
			   const uint8_t *data, size_t data_len)
{
	(void)data;
	(void)data_len;
	kt_hex(s, "nr", r->hypercall.nr);
	for (unsigned i = 0; i < 6; i++) {
		char key[8];

		snprintf(key, sizeof(key), "arg%u", i);
		kt_hex(s, key, r->hypercall.args[i]);
	}
	kt_hex(s, "ret", r->hypercall.ret);
}

static void exit_debug(struct kt_sink *s, const struct kvm_run *r, const uint8_t *data,
		       size_t data_len)
{
	(void)data;
	(void)data_len;
	kt_dec(s, "exception", r->debug.arch.exception);
	kt_hex(s, "pc", r->debug.arch.pc);
	kt_hex(s, "dr6", r->debug.arch.dr6);
	kt_hex(s, "dr7", r->debug.arch.dr7);
}

static void exit_fail_entry(struct kt_sink *s, const struct kvm_run *r,
			    const uint8_t *data, size_t data_len)
{
	(void)data;
	(void)data_len;
	kt_hex(s, "hardware_entry_failure_reason", r->fail_entry.hardware_entry_failure_reason);
	kt_dec(s, "cpu", r->fail_entry.cpu);
}

static void data_words(struct kt_sink *s, uint32_t ndata, const __u64 *d, uint32_t max)
{
	for (uint32_t i = 0; i < ndata && i < max; i++) {
		char key[16];

		snprintf(key, sizeof(key), "data%u", i);
		kt_hex(s, key, d[i]);
	}
}

static void exit_internal(struct kt_sink *s, const struct kvm_run *r,
			  const uint8_t *data, size_t data_len)
{
	(void)data;
	(void)data_len;
	s->ops->num(s, "suberror", r->internal.suberror, KT_SYM,
		    kvm_internal_error_name(r->internal.suberror));
	kt_dec(s, "ndata", r->internal.ndata);
	data_words(s, r->internal.ndata, r->internal.data, 16);
}

static void exit_system_event(struct kt_sink *s, const struct kvm_run *r,
			      const uint8_t *data, size_t data_len)
{
	(void)data;
	(void)data_len;
	s->ops->num(s, "type", r->system_event.type, KT_SYM,
		    kvm_system_event_name(r->system_event.type));
	kt_dec(s, "ndata", r->system_event.ndata);
	data_words(s, r->system_event.ndata, r->system_event.data, 16);
}

static void exit_msr(struct kt_sink *s, const struct kvm_run *r, const uint8_t *data,
		     size_t data_len)
{
	(void)data;
	(void)data_len;
	kt_hex(s, "index", r->msr.index);
	kt_hex(s, "data", r->msr.data);
	kt_dec(s, "reason", r->msr.reason);
	kt_dec(s, "error", r->msr.error);
}

static void exit_exception(struct kt_sink *s, const struct kvm_run *r,
			   const uint8_t *data, size_t data_len)
{
	(void)data;
	(void)data_len;
	kt_dec(s, "exception", r->ex.exception);
	kt_hex(s, "error_code", r->ex.error_code);
}

static const struct {
	uint32_t reason;
	const char *name;
	exit_decoder decode;
} exit_decoders[] = {
	{ KVM_EXIT_IO, "io", exit_io },
	{ KVM_EXIT_MMIO, "mmio", exit_mmio },
	{ KVM_EXIT_HYPERCALL, "hypercall", exit_hypercall },
	{ KVM_EXIT_DEBUG, "debug", exit_debug },
	{ KVM_EXIT_FAIL_ENTRY, "fail_entry", exit_fail_entry },
	{ KVM_EXIT_INTERNAL_ERROR, "internal", exit_internal },
	{ KVM_EXIT_SYSTEM_EVENT, "system_event", exit_system_event },
	{ KVM_EXIT_X86_RDMSR, "msr", exit_msr },
	{ KVM_EXIT_X86_WRMSR, "msr", exit_msr },
	{ KVM_EXIT_EXCEPTION, "exception", exit_exception },
};

/* kt_run_out into a zeroed kvm_run, so the union reads by member name. */
static bool load_run(const void *p, size_t len, struct kvm_run *run)
{
	memset(run, 0, sizeof(*run));
	if (len < sizeof(struct kt_run_out))
		return false;
	memcpy(run, p, sizeof(struct kt_run_out));
	return true;
}

static int exit_index(uint32_t reason)
{
	for (size_t i = 0; i < COUNT(exit_decoders); i++)
		if (exit_decoders[i].reason == reason)
			return (int)i;
	return -1;
}

void decode_exit_payload(struct kt_sink *s, const void *p, size_t len)
{
	static _Thread_local struct kvm_run run;
	int i;

	if (!load_run(p, len, &run))
		return;
	i = exit_index(run.exit_reason);
	if (i >= 0)
		exit_decoders[i].decode(s, &run, (const uint8_t *)p + sizeof(struct kt_run_out),
					len - sizeof(struct kt_run_out));
}

void decode_run_exit(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	static _Thread_local struct kvm_run run;
	int i;

	s->ops->begin(s, name);
	if (!short_struct(s, sizeof(struct kt_run_out), len)) {
		load_run(p, len, &run);
		s->ops->num(s, "reason", run.exit_reason, KT_SYM,
			    kvm_exit_reason_name(run.exit_reason));
		kt_dec(s, "ready_for_interrupt_injection", run.ready_for_interrupt_injection);
		kt_dec(s, "if_flag", run.if_flag);
		kt_hex(s, "flags", run.flags);
		kt_hex(s, "cr8", run.cr8);
		kt_hex(s, "apic_base", run.apic_base);
		i = exit_index(run.exit_reason);
		if (i >= 0) {
			s->ops->begin(s, exit_decoders[i].name);
			decode_exit_payload(s, p, len);
			s->ops->end(s);
		}
	}
	s->ops->end(s);
}

uint64_t kt_bytes_hash(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* ---- trace structs ---- */
static const char *const mode_names[] = { "long", "real", "protected", "paged32" };

void decode_run_config(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	struct kt_run_config c;

	s->ops->begin(s, name);
	if (!short_struct(s, sizeof(c), len)) {
		memcpy(&c, p, sizeof(c));
		s->ops->num(s, "mode", c.mode, KT_SYM, c.mode < 4 ? mode_names[c.mode] : NULL);
		kt_dec(s, "vcpus", c.vcpus);
		kt_hex(s, "mem_bytes", c.mem_bytes);
		kt_dec(s, "timeout_ms", c.timeout_ms);
		kt_dec(s, "max_exits", c.max_exits);
		kt_dec(s, "guest_arg", c.guest_arg);
		s->ops->num(s, "flags", c.flags, KT_FLAGS,
			    c.flags == (KT_CFG_SYNC_REGS | KT_CFG_SNAPSHOTS) ? "SYNC_REGS SNAPSHOTS" :
			    c.flags == KT_CFG_SNAPSHOTS ? "SNAPSHOTS" :
			    c.flags == KT_CFG_SYNC_REGS ? "SYNC_REGS" : "");
	}
	s->ops->end(s);
}

/* ---- ioctl arguments, by request ---- */
typedef void (*arg_decoder)(struct kt_sink *s, const char *name, const void *p, size_t len);

static void decode_int_arg(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	kt_hex(s, name, len >= 8 ? load(p, 8) : 0);
}

static void decode_cap_arg(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	uint64_t cap = len >= 8 ? load(p, 8) : 0;

	s->ops->num(s, name, cap, KT_SYM, kvm_cap_name((uint32_t)cap));
}

static void decode_dec_arg(struct kt_sink *s, const char *name, const void *p, size_t len)
{
	kt_dec(s, name, len >= 8 ? load(p, 8) : 0);
}

static const struct {
	uint32_t request;
	const char *in_name, *out_name;
	arg_decoder in, out;
} ioctl_args[] = {
	{ KVM_CHECK_EXTENSION, "cap", NULL, decode_cap_arg, NULL },
	{ KVM_GET_API_VERSION, NULL, NULL, NULL, NULL },
	{ KVM_GET_VCPU_MMAP_SIZE, NULL, NULL, NULL, NULL },
	{ KVM_CREATE_VM, "vm_type", NULL, decode_dec_arg, NULL },
	{ KVM_CREATE_VCPU, "id", NULL, decode_dec_arg, NULL },
	{ KVM_SET_TSS_ADDR, "addr", NULL, decode_int_arg, NULL },
	{ KVM_SET_USER_MEMORY_REGION, "region", NULL, decode_memory_region, NULL },
	{ KVM_GET_SUPPORTED_CPUID, NULL, "cpuid", NULL, decode_cpuid2 },
	{ KVM_SET_CPUID2, "cpuid", NULL, decode_cpuid2, NULL },
	{ KVM_GET_REGS, NULL, "regs", NULL, decode_regs },
	{ KVM_SET_REGS, "regs", NULL, decode_regs, NULL },
	{ KVM_GET_SREGS, NULL, "sregs", NULL, decode_sregs },
	{ KVM_SET_SREGS, "sregs", NULL, decode_sregs, NULL },
	{ KVM_RUN, "entry", "exit", decode_run_in, decode_run_exit },
};

void decode_ioctl_args(struct kt_sink *s, uint32_t request, const uint8_t *in,
		       size_t in_len, const uint8_t *out, size_t out_len)
{
	for (size_t i = 0; i < COUNT(ioctl_args); i++) {
		if (ioctl_args[i].request != request)
			continue;
		if (ioctl_args[i].in && in_len)
			ioctl_args[i].in(s, ioctl_args[i].in_name, in, in_len);
		if (ioctl_args[i].out && out_len)
			ioctl_args[i].out(s, ioctl_args[i].out_name, out, out_len);
		return;
	}
	if (in_len)
		s->ops->bytes(s, "in", in, in_len);
	if (out_len)
		s->ops->bytes(s, "out", out, out_len);
}

/* ---- events ---- */
static const char *const role_names[] = { "system", "vm", "vcpu" };

/* A created fd's number is the kernel's choice, not a result to compare. */
static bool returns_fd(uint32_t request)
{
	return request == KVM_CREATE_VM || request == KVM_CREATE_VCPU;
}

static void decode_ioctl_event(struct kt_sink *s, const struct kt_event *ev)
{
	const struct kt_ioctl_body *b = ev->ioctl;

	s->ops->begin(s, "ioctl");
	s->ops->num(s, "request", b->request, KT_SYM, kvm_ioctl_name(b->request));
	s->ops->num(s, "fd", b->role, KT_SYM, b->role < 3 ? role_names[b->role] : NULL);
	if (returns_fd(b->request) && b->ret >= 0)
		kt_dec(s, "new_fd", (uint64_t)b->ret);
	else
		s->ops->snum(s, "ret", b->ret);
	if (b->err)
		s->ops->num(s, "errno", (uint64_t)b->err, KT_SYM, strerrorname_np(b->err));
	kt_dec(s, "t_start_ns", b->t_start_ns);
	kt_dec(s, "dur_ns", b->dur_ns);
	s->ops->end(s);
	decode_ioctl_args(s, b->request, ev->in, b->in_len, ev->out, b->out_len);
}

static void decode_snapshot_event(struct kt_sink *s, const struct kt_event *ev)
{
	const struct kt_snapshot_body *b = (const void *)ev->body;

	if (short_struct(s, sizeof(*b), ev->len))
		return;
	s->ops->num(s, "source", b->source, KT_SYM,
		    b->source == KT_SNAP_SYNC_REGS ? "sync_regs" : "ioctl");
	decode_regs(s, "regs", &b->regs, sizeof(b->regs));
	decode_sregs(s, "sregs", &b->sregs, sizeof(b->sregs));
}

static void decode_memwrite_event(struct kt_sink *s, const struct kt_event *ev)
{
	if (short_struct(s, 8, ev->len))
		return;
	kt_hex(s, "gpa", load(ev->body, 8));
	kt_dec(s, "len", ev->len - 8);
	kt_hex(s, "hash", kt_bytes_hash(ev->body + 8, ev->len - 8));
}

static void decode_digest_event(struct kt_sink *s, const struct kt_event *ev)
{
	struct kt_digest_body d;
	const uint8_t *h = ev->body + sizeof(d);

	if (short_struct(s, sizeof(d), ev->len))
		return;
	memcpy(&d, ev->body, sizeof(d));
	kt_dec(s, "slot", d.slot);
	kt_hex(s, "gpa", d.gpa);
	kt_dec(s, "npages", d.npages);
	s->ops->begin(s, "pages");
	for (uint32_t i = 0; i < d.npages && sizeof(d) + (i + 1) * 8ull <= ev->len; i++) {
		char key[32];

		snprintf(key, sizeof(key), "0x%" PRIx64, d.gpa + (uint64_t)i * d.page_size);
		kt_hex(s, key, load(h + i * 8, 8));
	}
	s->ops->end(s);
}

static const char *const end_reason_names[] = {
	[KT_END_HALTED] = "halted", [KT_END_GUEST_EXIT] = "guest_exit",
	[KT_END_SHUTDOWN] = "shutdown", [KT_END_GUEST_ERROR] = "guest_error",
	[KT_END_TIMEOUT] = "timeout", [KT_END_INTERRUPTED] = "interrupted",
	[KT_END_KVM_ERROR] = "kvm_error",
};

const char *kt_end_reason_name(uint32_t reason)
{
	return reason < COUNT(end_reason_names) && end_reason_names[reason] ?
		end_reason_names[reason] : NULL;
}

static void decode_end_event(struct kt_sink *s, const struct kt_event *ev)
{
	struct kt_end_body e;

	if (short_struct(s, sizeof(e), ev->len))
		return;
	memcpy(&e, ev->body, sizeof(e));
	s->ops->num(s, "reason", e.reason, KT_SYM, kt_end_reason_name(e.reason));
	s->ops->snum(s, "status", e.status);
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

/* ---- header ---- */
static void hdr_string(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	char buf[512];
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;

	memcpy(buf, p, n);
	buf[n] = 0;
	s->ops->str(s, name, buf);
}

static void hdr_caps(struct kt_sink *s, const uint8_t *p, uint32_t len)
{
	s->ops->begin(s, "caps");
	for (uint32_t i = 0; i + sizeof(struct kt_cap_result) <= len;
	     i += sizeof(struct kt_cap_result)) {
		struct kt_cap_result c;
		const char *name;
		char key[32];

		memcpy(&c, p + i, sizeof(c));
		name = kvm_cap_name(c.cap);
		if (!name) {
			snprintf(key, sizeof(key), "cap%u", c.cap);
			name = key;
		}
		s->ops->snum(s, name, c.result);
	}
	s->ops->end(s);
}

static void hdr_hex(struct kt_sink *s, const char *name, const uint8_t *p, uint32_t len)
{
	char buf[2 * 64 + 1];
	uint32_t n = len < 64 ? len : 64;

	for (uint32_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * n] = 0;
	s->ops->str(s, name, buf);
}

static void hdr_field(struct kt_sink *s, uint16_t tag, const uint8_t *p, uint32_t len)
{
	switch (tag) {
	case KT_HDR_KVMTRACE_VERSION: hdr_string(s, "kvmtrace_version", p, len); break;
	case KT_HDR_KERNEL_RELEASE: hdr_string(s, "kernel_release", p, len); break;
	case KT_HDR_KERNEL_VERSION: hdr_string(s, "kernel_version", p, len); break;
	case KT_HDR_CPU_VENDOR: hdr_string(s, "cpu_vendor", p, len); break;
	case KT_HDR_CPU_MODEL_NAME: hdr_string(s, "cpu_model_name", p, len); break;
	case KT_HDR_GUEST_NAME: hdr_string(s, "guest_name", p, len); break;
	case KT_HDR_GUEST_SHA256: hdr_hex(s, "guest_sha256", p, len); break;
	case KT_HDR_GUEST_IMAGE: kt_dec(s, "guest_image_bytes", len); break;
	case KT_HDR_CAPS: hdr_caps(s, p, len); break;
	case KT_HDR_SUPPORTED_CPUID: decode_cpuid2(s, "cpuid", p, len); break;
	case KT_HDR_RUN_CONFIG: decode_run_config(s, "run", p, len); break;
	case KT_HDR_API_VERSION: kt_dec(s, "api_version", len >= 4 ? load(p, 4) : 0); break;
	case KT_HDR_VCPU_MMAP_SIZE:
		kt_dec(s, "vcpu_mmap_size", len >= 4 ? load(p, 4) : 0);
		break;
	case KT_HDR_RECORDED_AT: kt_dec(s, "recorded_at_ns", len >= 8 ? load(p, 8) : 0); break;
	case KT_HDR_CPU_SIGNATURE: {
		struct kt_cpu_signature c = { 0 };

		memcpy(&c, p, len < sizeof(c) ? len : sizeof(c));
		s->ops->begin(s, "cpu_signature");
		kt_hex(s, "family", c.family);
		kt_hex(s, "model", c.model);
		kt_dec(s, "stepping", c.stepping);
		s->ops->end(s);
		break;
	}
	default: {
		char key[32];

		snprintf(key, sizeof(key), "tag%u", tag);
		s->ops->bytes(s, key, p, len);
	}
	}
}

void decode_header(struct kt_sink *s, const uint8_t *tlv, size_t len)
{
	size_t pos = 0;
	const uint8_t *data;
	uint32_t flen;
	uint16_t tag;
	int ret;

	while ((ret = kt_tlv_next(tlv, len, &pos, &tag, &data, &flen)) == 1)
		hdr_field(s, tag, data, flen);
	if (ret < 0)
		s->ops->str(s, "error", "damaged header field");
}
