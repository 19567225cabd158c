/* An event as the reader hands it out (trace/trace_reader.h): its record
 * type, vCPU and plain body, and for an IOCTL the fixed part, in and out
 * bytes; plus copies of events kept past the next read, and the event hash
 * diff compares by. */
#ifndef KVMTRACE_EVENT_H
#define KVMTRACE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/trace_format.h"

struct kt_event {
	uint8_t type;          /* enum kt_rec_type */
	uint8_t flags;         /* KT_EV_DELTA: stored as a delta */
	uint16_t vcpu;
	const uint8_t *body;   /* plain, valid until the reader's next call */
	uint32_t len;
	/* KT_REC_IOCTL only: */
	const struct kt_ioctl_body *ioctl;
	const uint8_t *in;
	const uint8_t *out;
	/* kt_event_hash() of the event, when the reader was asked for hashes
	 * (kt_reader_want_hashes), else 0. */
	uint64_t hash;
};

#define KT_EV_DELTA 0x01  /* the record was stored as a delta (either version) */

/* Whether this build knows records of type (a newer minor may add types). */
bool kt_event_known(uint8_t type);
/* A body of a known type checked against what its type needs: its struct
 * (a newer minor may lengthen a body, never shorten it), an IOCTL's
 * lengths adding up and each within KT_MAX_IOCTL_BYTES, a digest's pages
 * in the record.  0, KT_E_CORRUPT or KT_E_LIMIT. */
int kt_event_check(uint8_t type, const uint8_t *body, uint32_t len);

/* The event view of a record body kept elsewhere: body must be a checked
 * record of its type (an IOCTL's lengths adding up). */
struct kt_event kt_event_view(uint8_t type, uint16_t vcpu, const uint8_t *body, uint32_t len);

/* The hash diff compares events by: XOR of trace/words.h's kt_word_mix over
 * the body's words by part (IOCTL: the fixed part less its two clocks, in,
 * out; other types: the whole body), and of the type, vCPU and length.  The
 * IOCTL clocks are left out: diff ignores them by default and compares them
 * apart when asked. */
uint64_t kt_event_hash(const struct kt_event *ev);
/* The type, vCPU and length term of it. */
uint64_t kt_event_hash_seed(uint8_t type, uint16_t vcpu, uint32_t len);

/* An event kept past the next kt_reader_next() (a replay lane), with its
 * index in the trace. */
struct kt_event_copy {
	uint64_t index;
	uint8_t type;
	uint16_t vcpu;
	uint32_t len;
	uint8_t body[];
};

/* malloc'd (free() it), or NULL when out of memory. */
struct kt_event_copy *kt_event_copy(const struct kt_event *ev, uint64_t index);
struct kt_event kt_event_copy_view(const struct kt_event_copy *c);

#endif
