/* What replay accepts of a trace, checked over the whole trace before the
 * first ioctl, so that a trace asking for absurd memory, slots or vCPUs or
 * for an ioctl kvmtrace does not know is refused with one line and nothing
 * issued (docs/trace-format.md, "Limits").  Replay checks the same again
 * where it uses each value. */
#ifndef KVMTRACE_REPLAY_LIMITS_H
#define KVMTRACE_REPLAY_LIMITS_H

#include <stdint.h>

#include "trace/trace_reader.h"

/* Guest memory in all the slots a replay maps at once. */
#define RP_MAX_GUEST_MEM (16ull << 30)
/* A memory digest's page size: a power of two in this range. */
#define RP_MIN_PAGE 4096u
#define RP_MAX_PAGE (2u << 20)

/* The bytes an ioctl's argument needs (what the kernel may read or write
 * there), from the recorded request, lengths and in bytes; more than
 * KT_MAX_IOCTL_BYTES when the record asks for too much. */
uint64_t rp_arg_bytes(const struct kt_ioctl_body *b, const uint8_t *in);

/* One event against the limits, with the memory slots the events before it
 * mapped (start zeroed): 0, or KT_E_LIMIT with the message set (naming the
 * trace and the event). */
struct rp_limits {
	uint64_t slot_size[32];  /* harness/memslots.h's KT_MAX_SLOTS */
};
int rp_check_event(struct rp_limits *l, const char *trace, uint64_t index,
		   const struct kt_event *ev);

/* The header's asks (its vCPU count): 0, or KT_E_LIMIT with the message
 * set.  kt_replay_open() checks the header and then every event, skimming
 * (kt_reader_skim: the KVM_RUN calls and snapshots that repeat hold nothing
 * new to check); a trace that cannot be read to its end is checked as far
 * as it reads, and replay reports the damage when it gets there. */
int rp_check_header(const struct kt_reader *r, const char *trace);

#endif
