/* One decoder per struct, table-driven, strace style: each emits the
 * struct's fields into a sink (decode/sink.h), so the text printer, the
 * JSON printer, replay and diff all decode the same way.
 *
 * decode_X(s, p, len) emits X's fields at the sink's current level (wrap
 * it in s->ops->begin/end to nest it).  Every decoder checks len: what
 * does not fit is reported as an "error" field and never read. */
#ifndef KVMTRACE_DECODE_H
#define KVMTRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/sink.h"
#include "trace/trace_reader.h"

typedef void (*kt_decoder)(struct kt_sink *s, const void *p, size_t len);

/* KVM's structs */
void decode_kvm_regs(struct kt_sink *s, const void *p, size_t len);
void decode_kvm_sregs(struct kt_sink *s, const void *p, size_t len);
void decode_kvm_userspace_memory_region(struct kt_sink *s, const void *p, size_t len);
/* kvm_cpuid2: nent, entries[i].{function,index,flags,eax..edx}; the APIC ID
 * of leaves 1, 0xB and 0x1F split into apic_id / x2apic_id so a diff can
 * ignore the host CPU that answered. */
void decode_kvm_cpuid2(struct kt_sink *s, const void *p, size_t len);
void decode_kvm_msrs(struct kt_sink *s, const void *p, size_t len);
void decode_kvm_msr_list(struct kt_sink *s, const void *p, size_t len);

/* The trace's own structs (trace/trace_format.h) */
void decode_kt_run_in(struct kt_sink *s, const void *p, size_t len);
/* kt_run_out: the kvm_run head, then the exit payload by exit reason
 * under a member named for the exit (io, mmio, ...). */
void decode_kt_run_out(struct kt_sink *s, const void *p, size_t len);
void decode_kt_run_config(struct kt_sink *s, const void *p, size_t len);
void decode_kt_snapshot_body(struct kt_sink *s, const void *p, size_t len);
void decode_kt_cpu_signature(struct kt_sink *s, const void *p, size_t len);

/* kt_run_out's exit payload alone, fields named (direction=out port=0xe9
 * size=1 count=1 data="H" for an IO OUT). */
void decode_exit_payload(struct kt_sink *s, const void *out, size_t out_len);
/* The strace-like summary of a kt_run_out: the reason, then the payload
 * with its leading mode bare: IO out port=0xe9 size=1 count=1 data="H". */
void decode_run_exit(struct kt_sink *s, const void *out, size_t out_len);

/* An ioctl's argument bytes by a table of requests: each side under its
 * struct's name (regs, sregs, region, cpuid, msrs, entry, exit, ...);
 * _IO requests' 8-byte integer as cap, addr or id; a request without an
 * entry as raw "in"/"out" bytes. */
void decode_ioctl_args(struct kt_sink *s, uint32_t request, const void *in,
		       size_t in_len, const void *out, size_t out_len);

/* A whole event: type, vCPU, and every field of its body.  The paths this
 * gives the flat sink are the field paths of replay and diff. */
void decode_event(struct kt_sink *s, const struct kt_event *ev);

/* The header's TLV fields. */
void decode_header(struct kt_sink *s, const uint8_t *tlv, size_t len);

/* Bit names of CR0, CR4, EFER and the kvm_run sync-register set. */
extern const struct kt_flag_name kt_cr0_flags[];
extern const struct kt_flag_name kt_cr4_flags[];
extern const struct kt_flag_name kt_efer_flags[];

/* Names of the trace's own enums: "ioctl", "snapshot"...; "halted"... */
const char *kt_event_type_name(uint8_t type);
const char *kt_end_reason_name(uint32_t reason);

#endif
