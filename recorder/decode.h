/* One decoder per struct, table-driven, strace style: each emits the
 * struct's fields into a sink (recorder/sink.h), so the text printer, the
 * JSON printer, replay and diff all decode the same way.  Every decoder
 * checks len and never reads past it. */
#ifndef KVMTRACE_DECODE_H
#define KVMTRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/sink.h"
#include "recorder/trace_reader.h"

void decode_regs(struct kt_sink *s, const char *name, const void *p, size_t len);
void decode_sregs(struct kt_sink *s, const char *name, const void *p, size_t len);
void decode_memory_region(struct kt_sink *s, const char *name, const void *p, size_t len);
void decode_cpuid2(struct kt_sink *s, const char *name, const void *p, size_t len);
void decode_run_in(struct kt_sink *s, const char *name, const void *p, size_t len);
/* kt_run_out: exit reason and its payload, by a table of exit reasons. */
void decode_run_exit(struct kt_sink *s, const char *name, const void *p, size_t len);
/* The exit payload alone (IO: direction, port, size, count, data), at the
 * current depth: the tail of `show`'s KVM_RUN line. */
void decode_exit_payload(struct kt_sink *s, const void *p, size_t len);
void decode_run_config(struct kt_sink *s, const char *name, const void *p, size_t len);

/* An ioctl's argument bytes, by a table of requests: `in` under "in" and
 * `out` under "out" unless the request's table entry names them. */
void decode_ioctl_args(struct kt_sink *s, uint32_t request, const uint8_t *in,
		       size_t in_len, const uint8_t *out, size_t out_len);

/* A whole event: type, vCPU, and every field of its body.  The paths this
 * gives the flat sink are the field paths of replay and diff. */
void decode_event(struct kt_sink *s, const struct kt_event *ev);

/* The header's TLV fields. */
void decode_header(struct kt_sink *s, const uint8_t *tlv, size_t len);

/* "[PE MP ET NE WP AM PG]" style names of the set bits of CR0/CR4/EFER. */
const char *kt_cr0_names(uint64_t v, char *buf, size_t size);

/* Names of the trace's own enums: "ioctl", "snapshot"...; "halted"... */
const char *kt_event_type_name(uint8_t type);
const char *kt_end_reason_name(uint32_t reason);

/* A 64-bit FNV-1a of bytes (memory writes shown by hash, not in full). */
uint64_t kt_bytes_hash(const void *p, size_t len);

#endif
