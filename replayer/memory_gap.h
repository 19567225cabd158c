/* A foreign VMM's trace (kvmtrace record -- PROGRAM) recorded without
 * --memory-changes holds each memory slot's contents at the first KVM_RUN,
 * but not what the VMM wrote into guest memory between exits (a device's
 * reply, a virtio ring).  Replaying it, a difference may be the kernel's or
 * just the missing bytes: it cannot tell.  So the first difference stops
 * the replay with one line and status 2 instead of being reported as a
 * divergence; a replay that never differs is exact as ever. */
#ifndef KVMTRACE_MEMORY_GAP_H
#define KVMTRACE_MEMORY_GAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace_header.h"

/* Whether h is such a trace. */
bool rp_memory_gap(const struct kt_header *h);
/* Keep where the replay first parted from the recording (the first call
 * only), for rp_memory_gap_fail(). */
void rp_memory_gap_note(char *buf, size_t size, uint64_t event, const char *context,
			const char *path);
/* The one line, as kt_fail(): -ENODATA. */
int rp_memory_gap_fail(const char *trace, const char *where);

#endif
