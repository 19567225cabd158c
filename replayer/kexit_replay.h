/* replay --kernel-exits: the replay's own in-kernel exits, captured as a
 * recording does (recorder/kernel_exits.h), compared with the trace's
 * (replayer/kexit_compare.h): after each replayed KVM_RUN its exits
 * against the KEXIT records that came before that KVM_RUN in the trace,
 * and at the end the counts. */
#ifndef KVMTRACE_KEXIT_REPLAY_H
#define KVMTRACE_KEXIT_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "recorder/kernel_exits.h"
#include "replayer/kexit_compare.h"
#include "trace/trace_header.h"
#include "trace/trace_reader.h"

struct kt_kexit_replay;

/* A replay of the trace with header hdr, capturing with kx (opened by the
 * caller, before any vCPU thread).  -EINVAL (message set) when the trace
 * holds no kernel exits to compare with. */
int kt_kexit_replay_new(struct kt_kexit_replay **out, const struct kt_header *hdr,
			struct kt_kexits *kx, const struct kt_pathset *ignore,
			kt_kexit_report report, void *ctx);
/* Capturing from now on. */
int kt_kexit_replay_start(struct kt_kexit_replay *kr);
/* A recorded KEXIT or KEXIT_LOST, on the thread that replays its vCPU. */
void kt_kexit_replay_recorded(struct kt_kexit_replay *kr, const struct kt_event *ev,
			      uint64_t index);
/* Around the replayed KVM_RUN of vcpu (index: its record; context: its
 * description), on the thread that issues it. */
void kt_kexit_replay_before_run(struct kt_kexit_replay *kr, uint16_t vcpu);
void kt_kexit_replay_after_run(struct kt_kexit_replay *kr, uint16_t vcpu, uint64_t index,
			       const char *context);
/* Every vCPU done: stop capturing and, with counts, compare the counts
 * (end_index: the recording's END). */
void kt_kexit_replay_finish(struct kt_kexit_replay *kr, uint64_t end_index, bool counts);
void kt_kexit_replay_free(struct kt_kexit_replay *kr);

#endif
