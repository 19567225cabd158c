/* The KT_RF_XOR delta of one version 1 record (trace/trace_format.h),
 * undone by the reader with the keys the version 1 writer kept, in the same
 * order.  A record is cut into parts, each with its own key:
 *   KT_REC_IOCTL: the fixed struct kt_ioctl_body (key: type + vcpu), then
 *                 the in bytes and the out bytes (keys: vcpu + request + which)
 *   any other:    the whole body (key: type + vcpu)
 * so an IN exit's longer "in" never shifts the "out" bytes it is XORed
 * against.  Tables are per frame: bump t->frame at every frame start. */
#ifndef KVMTRACE_TRACE_DELTA_H
#define KVMTRACE_TRACE_DELTA_H

#include <stdint.h>

#include "trace/trace_format.h"
#include "trace/xor_keys.h"

/* In place: body (stored form) becomes plain.  0, -ENOMEM, or KT_E_CORRUPT
 * for an ioctl whose lengths disagree with its record or a delta flag with
 * nothing to be a delta against. */
int kt_delta_decode(struct kt_xor_table *t, const struct kt_rec_hdr *h, uint8_t *body);

#endif
