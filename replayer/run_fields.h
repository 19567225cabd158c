/* replay --runs N: the fields whose replayed values change from run to run,
 * as an ignore file. */
#ifndef KVMTRACE_RUN_FIELDS_H
#define KVMTRACE_RUN_FIELDS_H

#include <stdint.h>

#include "replayer/replay.h"

/* Replay o->in runs times; write the fields whose replayed values changed
 * between runs as an ignore file to out_fd (open already: the replay is in
 * the sandbox), named ignore_out, or to stdout when ignore_out is NULL.
 * *divergences: divergences from the recording, over all runs.  0 or
 * -errno with kt_last_error(). */
int kt_replay_runs(struct kt_replay_opts *o, unsigned runs, const char *ignore_out,
		   int out_fd, uint64_t *divergences);

#endif
