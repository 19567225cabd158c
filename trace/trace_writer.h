/* Writing a trace (trace/trace_format.h, version 2).  A recording thread
 * only copies its record into the current frame under a short lock; a
 * flusher thread encodes full frames (sparse word deltas, trace/
 * frame_encode.h), compresses and writes them (double buffering), and ends
 * a frame KT_FRAME_MAX_NS after its first record even when nothing else
 * arrives, so a recorder killed at any moment leaves a trace readable up to
 * its last frame. */
#ifndef KVMTRACE_TRACE_WRITER_H
#define KVMTRACE_TRACE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace_format.h"

struct kt_writer;

/* Create path (O_EXCL unless force).  NULL with -errno in *err. */
struct kt_writer *kt_writer_open(const char *path, bool force, int *err);
/* The file magic and the KT_REC_HEADER record, written out at once.
 * KT_E_LIMIT for a header over KT_MAX_HEADER_BYTES. */
int kt_writer_header(struct kt_writer *w, const void *tlv, size_t len);

/* Events; safe from several threads at once.  Errors are kept for close:
 * after a failed write (ENOSPC) nothing more is written, so the file holds
 * whole frames and reads as truncated.  A memwrite larger than 4 MiB
 * becomes several records at consecutive gpas; any other record that no
 * frame can hold, or an IOCTL with more than KT_MAX_IOCTL_BYTES in or out,
 * is dropped with KT_E_LIMIT. */
void kt_writer_ioctl(struct kt_writer *w, uint16_t vcpu, const struct kt_ioctl_body *b,
		     const void *in, const void *out);
void kt_writer_snapshot(struct kt_writer *w, uint16_t vcpu,
			const struct kt_snapshot_body *s);
void kt_writer_memwrite(struct kt_writer *w, uint64_t gpa, const void *data, size_t len);
void kt_writer_digest(struct kt_writer *w, const struct kt_digest_body *d,
		      const uint64_t *hashes);
void kt_writer_end(struct kt_writer *w, const struct kt_end_body *e);
/* In-kernel exits (1.2). */
void kt_writer_kexit(struct kt_writer *w, uint16_t vcpu, const struct kt_kexit_body *k);
void kt_writer_kexit_lost(struct kt_writer *w, uint16_t vcpu,
			  const struct kt_kexit_lost_body *l);

/* The hot path, for a recorder that fills records straight from where the
 * bytes lie (kvm_run): between lock and unlock, each put returns room for
 * one record's body of len bytes, which the caller fills before the next
 * put (a put may hand the frame before it to the flusher), or NULL when it
 * is dropped (the error kept as above).  An IOCTL body's lengths must add
 * up. */
void kt_writer_lock(struct kt_writer *w);
uint8_t *kt_writer_put(struct kt_writer *w, uint8_t type, uint16_t vcpu, uint32_t len);
void kt_writer_unlock(struct kt_writer *w);

/* The first write error (-errno), or 0: cheap enough to ask after every
 * exit, so that a recorder stops its guest as soon as the disk is full. */
int kt_writer_write_error(const struct kt_writer *w);

uint64_t kt_writer_events(struct kt_writer *w);
/* Events in the frames written out whole so far. */
uint64_t kt_writer_written(struct kt_writer *w);
/* Write out what is left and stop the flusher: no event may follow.  0
 * or the first error (-errno). */
int kt_writer_flush(struct kt_writer *w);
/* Flush, close, free.  0 or the first error (-errno). */
int kt_writer_close(struct kt_writer *w);

#endif
