/* Reading a trace (trace/trace_format.h), version 2 and version 1: one
 * frame at a time, each decompressed and checked whole against its
 * checksum before any of its events is handed out, so damage is an error
 * and never different data.  Every length, count and size the trace
 * declares is checked against a limit (trace_format.h, "Limits") before
 * anything is allocated for it. */
#ifndef KVMTRACE_TRACE_READER_H
#define KVMTRACE_TRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/event.h"
#include "trace/trace_format.h"
#include "trace/trace_header.h"

struct kt_reader;

/* NULL with *err: -errno from open/read, KT_E_NOT_TRACE, KT_E_NEWER,
 * KT_E_CORRUPT, KT_E_LIMIT or KT_E_TRUNCATED (no complete header). */
struct kt_reader *kt_reader_open(const char *path, int *err);
/* The same on an fd open for reading (kt_open_regular()), read from the
 * start of the file whatever the fd's offset (pread: the reader and its
 * clones never move it, and need no lseek); the reader owns it from here
 * on, even on failure.  Lets a command open its inputs, enter the sandbox
 * and only then read. */
struct kt_reader *kt_reader_open_fd(int fd, int *err);
void kt_reader_close(struct kt_reader *r);

/* A second reader of the same file, at its first event, sharing the open
 * file (no open(2): it reads with pread) and the header.  Close it before
 * the reader it came from.  NULL when out of memory. */
struct kt_reader *kt_reader_clone(const struct kt_reader *r);

/* Hand out every event's kt_event_hash() in ev->hash (diff). */
void kt_reader_want_hashes(struct kt_reader *r);
/* Skim (a check before use): in version 2 frames where only KVM_RUN calls
 * and snapshots repeat, their deltas are passed over unread (and their
 * frames only partly decompressed); every other event comes out whole, its
 * kt_reader_index exact.  Damage in what was skimmed is found by the next
 * reading. */
void kt_reader_skim(struct kt_reader *r);

/* The header record's raw TLV body. */
const uint8_t *kt_reader_header(const struct kt_reader *r, size_t *len);
/* The same, parsed (trace/trace_header.h: kt_header_find, _run_config,
 * _guest_image, _caps, _cpuid); valid until kt_reader_close. */
const struct kt_header *kt_reader_hdr(const struct kt_reader *r);
uint16_t kt_reader_minor(const struct kt_reader *r);

/* 1: an event; 0: the clean end (after the END record, which is itself
 * returned first); <0: KT_E_TRUNCATED (the file ends inside a frame or
 * without an END record), KT_E_CORRUPT (checksum, a frame without one, a
 * malformed record), KT_E_LIMIT, -ENOMEM or a read error.  Every frame is
 * decompressed and verified whole before its first event, so events after
 * an error are never handed out and those before it are exact.  In a trace
 * of a newer minor, record types this build does not know come out raw
 * (body only). */
int kt_reader_next(struct kt_reader *r, struct kt_event *ev);
/* Events handed out so far. */
uint64_t kt_reader_index(const struct kt_reader *r);

/* Where an event lies: its frame and its index.  Diff keeps these instead
 * of the events, and reads the two events of a pair again only when their
 * hashes differ. */
struct kt_pos {
	uint64_t frame_off;    /* file offset of the event's frame */
	uint64_t frame_first;  /* index of that frame's first event */
	uint64_t index;
};

/* The position of the event kt_reader_next() handed out last. */
struct kt_pos kt_reader_pos(const struct kt_reader *r);
/* The event at pos (from kt_reader_pos on this file) into ev: 1, or an
 * error as kt_reader_next.  Cheap for positions that only move forward. */
int kt_reader_goto(struct kt_reader *r, const struct kt_pos *pos, struct kt_event *ev);

const char *kt_reader_strerror(int err);

#endif
