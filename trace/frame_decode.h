/* Decoding a version 2 event frame (trace/trace_format.h) record by record,
 * for the reader.  A slot's body is patched in place by each delta, so an
 * event costs the words that changed, not its length, and the body handed
 * out is the slot's own (valid until the next record). */
#ifndef KVMTRACE_FRAME_DECODE_H
#define KVMTRACE_FRAME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/event.h"

struct kt_frame_decoder;

struct kt_frame_decoder *kt_frame_decoder_new(void);
void kt_frame_decoder_free(struct kt_frame_decoder *d);

/* Keep every event's kt_event_hash() up to date (for diff): two word mixes
 * per changed word. */
void kt_frame_decoder_hashes(struct kt_frame_decoder *d, bool on);

/* Skim: in a frame where only KVM_RUN calls and snapshots come as deltas,
 * pass those over unread (their slots' key records, which say what they
 * are, come out), every other record whole.  For a pass that checks a trace
 * before using it. */
void kt_frame_decoder_skim(struct kt_frame_decoder *d, bool on);

/* Whether the frame begun is being skimmed (only its head, OPS, KEYS and
 * RAW are read: the rest may be left undecompressed). */
bool kt_frame_decode_skimming(const struct kt_frame_decoder *d);

/* Start on a decompressed frame, which the caller keeps until the frame is
 * done.  expect: the trace index its first record must have; newer: the
 * trace is of a newer minor (record types this build does not know come
 * out raw).  0 or KT_E_CORRUPT. */
int kt_frame_decode_begin(struct kt_frame_decoder *d, const uint8_t *frame, size_t len,
			  uint64_t expect, bool newer);

/* 1 and the next event, 0 at the frame's end (every stream used up, every
 * record read), or KT_E_CORRUPT, KT_E_LIMIT, -ENOMEM.  *skipped grows by
 * the records passed over (skimming). */
int kt_frame_decode_next(struct kt_frame_decoder *d, struct kt_event *ev, uint64_t *skipped);

#endif
