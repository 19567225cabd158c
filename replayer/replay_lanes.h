/* Multi-vCPU replay: each vCPU replays its own events on its own thread, as
 * it ran when recording, so a vCPU spinning on a lock another holds is not
 * stuck behind it.  The main thread reads the trace and hands each vCPU
 * its events in order; anything else waits until every vCPU has caught up.
 * A KVM_RUN that does not come back is kicked out with a signal. */
#ifndef KVMTRACE_REPLAY_LANES_H
#define KVMTRACE_REPLAY_LANES_H

#include <stdbool.h>
#include <stdint.h>

#include "recorder/trace_reader.h"
#include "replayer/replay_vm.h"

struct replay;
struct lane;
struct rp_lanes;

/* One thread per vCPU that exists in vm; NULL when they cannot start
 * (the replay then goes on in one thread). */
struct rp_lanes *rp_lanes_start(struct replay *rp, struct rp_vm *vm);
/* Hand a vCPU event (copied) to its thread; blocks while its queue is full.
 * 0, or an error a lane hit. */
int rp_lanes_push(struct rp_lanes *ls, const struct kt_event *ev, uint64_t index);
/* Wait until every queue is empty and every vCPU idle. */
void rp_lanes_drain(struct rp_lanes *ls);
/* Drain, join, free; returns the first error a lane hit. */
int rp_lanes_stop(struct rp_lanes *ls);

/* From replay.c, for the lanes. */
struct lane *rp_lane_new(struct replay *rp);
void rp_lane_free(struct lane *l);
void rp_lane_set_index(struct lane *l, uint64_t index);
int rp_replay_ioctl(struct lane *l, const struct kt_event *ev, bool watchdog);
void rp_replay_snapshot(struct lane *l, const struct kt_event *ev);
bool rp_stopped(struct replay *rp);

#endif
