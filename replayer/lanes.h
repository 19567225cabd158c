/* Per-vCPU lanes: one thread per lane runs a callback on the events handed
 * to it, in order, so a vCPU replayed alone never waits behind another (it
 * may spin on a lock the other holds).  The caller reads the trace and
 * pushes each vCPU's events to its lane; anything else waits for
 * kt_lanes_drain().  Knows nothing of replay: the callbacks do the work. */
#ifndef KVMTRACE_LANES_H
#define KVMTRACE_LANES_H

#include <stdint.h>

#include "trace/trace_reader.h"

#define KT_MAX_LANES 16

struct kt_lane_ops {
	/* Once, on the lane's own thread, before its first event. */
	int (*enter)(void *ctx);
	/* Each event in order.  A non-zero return (-errno with its message set)
	 * ends the lane's work: later events are dropped. */
	int (*work)(void *ctx, const struct kt_event *ev, uint64_t index);
};

struct kt_lanes;

/* A lane for every ctx[i] that is not NULL (i < n <= KT_MAX_LANES).
 * 0, or -errno with the message set. */
int kt_lanes_start(struct kt_lanes **out, unsigned n, void *const ctx[],
		   const struct kt_lane_ops *ops);
/* Copy ev into lane's queue; blocks while it is full.  0, or the error the
 * lane has hit (its message set on this thread). */
int kt_lanes_push(struct kt_lanes *ls, unsigned lane, const struct kt_event *ev,
		  uint64_t index);
/* Wait until every queue is empty and every lane idle. */
void kt_lanes_drain(struct kt_lanes *ls);
/* Drain, join, free; returns the first error a lane hit (message set). */
int kt_lanes_stop(struct kt_lanes *ls);

#endif
