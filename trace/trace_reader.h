/* Reading a trace (trace/trace_format.h): one frame at a time, each
 * checked whole against its checksum before any of its events is handed
 * out, so damage is an error and never different data. */
#ifndef KVMTRACE_TRACE_READER_H
#define KVMTRACE_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace_format.h"
#include "trace/trace_header.h"

struct kt_reader;

struct kt_event {
	uint8_t type;          /* enum kt_rec_type */
	uint8_t flags;
	uint16_t vcpu;
	const uint8_t *body;   /* plain (un-XORed), valid until the next call */
	uint32_t len;
	/* KT_REC_IOCTL only: */
	const struct kt_ioctl_body *ioctl;
	const uint8_t *in;
	const uint8_t *out;
};

/* NULL with *err: -errno from open/read, KT_E_NOT_TRACE, KT_E_NEWER,
 * KT_E_CORRUPT or KT_E_TRUNCATED (no complete header). */
struct kt_reader *kt_reader_open(const char *path, int *err);
/* The same on an fd open for reading (kt_open_regular()), read from its
 * current offset; the reader owns it from here on, even on failure.  Lets a
 * command open its inputs, enter the sandbox and only then read. */
struct kt_reader *kt_reader_open_fd(int fd, int *err);
void kt_reader_close(struct kt_reader *r);

/* The header record's raw TLV body. */
const uint8_t *kt_reader_header(const struct kt_reader *r, size_t *len);
/* The same, parsed (trace/trace_header.h: kt_header_find, _run_config,
 * _guest_image, _caps, _cpuid); valid until kt_reader_close. */
const struct kt_header *kt_reader_hdr(const struct kt_reader *r);
uint16_t kt_reader_minor(const struct kt_reader *r);

/* 1: an event; 0: the clean end (after the END record, which is itself
 * returned first); <0: KT_E_TRUNCATED (the file ends inside a frame or
 * without an END record), KT_E_CORRUPT (checksum, a frame without one, a
 * malformed record), -ENOMEM or a read error.  Every frame is decompressed
 * and verified whole before its first event, so events after an error are
 * never handed out and those before it are exact.  In a trace of a newer
 * minor, record types this build does not know come out raw (body only). */
int kt_reader_next(struct kt_reader *r, struct kt_event *ev);
/* Events handed out so far. */
uint64_t kt_reader_index(const struct kt_reader *r);

const char *kt_reader_strerror(int err);

/* The event view of a record body kept elsewhere: body must be a checked
 * record of its type. */
struct kt_event kt_event_view(uint8_t type, uint16_t vcpu, const uint8_t *body, uint32_t len);

/* An event kept past the next kt_reader_next() (by the differ's aligner, a
 * replay lane), with its index in the trace. */
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
