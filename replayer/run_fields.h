/* replay --runs N: the fields whose replayed values change from run to run,
 * as an ignore file. */
#ifndef KVMTRACE_RUN_FIELDS_H
#define KVMTRACE_RUN_FIELDS_H

#include <stdint.h>

#include "replayer/replay.h"

/* Replay o->trace runs times; write the fields whose replayed values
 * changed between runs to ignore_out (stdout when NULL) as an ignore file.
 * *divergences: divergences from the recording, over all runs.  0 or
 * -errno with kt_last_error(). */
int kt_replay_runs(struct kt_replay_opts *o, unsigned runs, const char *ignore_out,
		uint64_t *divergences);

#endif
