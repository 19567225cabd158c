/* Encoding a version 2 event frame (trace/trace_format.h): the flusher
 * hands over the plain records a frame collected and gets the frame's
 * content back, ready to compress.  Each record is compared word by word
 * with the previous record of its slot, which still lies plain in the same
 * buffer, so nothing is copied to remember it. */
#ifndef KVMTRACE_FRAME_ENCODE_H
#define KVMTRACE_FRAME_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct kt_frame_encoder;

struct kt_frame_encoder *kt_frame_encoder_new(void);
void kt_frame_encoder_free(struct kt_frame_encoder *e);

/* recs: n plain records (struct kt_rec_hdr, body, zero padding to 8), each
 * one the writer checked (an IOCTL's lengths add up and are within
 * KT_MAX_IOCTL_BYTES).  out gets the frame's content (its old content is
 * dropped).  0 or -ENOMEM. */
int kt_frame_encode(struct kt_frame_encoder *e, const uint8_t *recs, size_t len, uint32_t n,
		    uint64_t first_event, struct kt_buf *out);

#endif
