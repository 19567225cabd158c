/* Replay: re-issue a trace's ioctls on this kernel through the choke point
 * and compare every output with the recording. */
#ifndef KVMTRACE_REPLAY_H
#define KVMTRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

struct kt_pathset;
struct kt_recorder;
struct kt_replay_inputs;

/* One difference between the recording and the replay. */
struct kt_divergence {
	uint64_t event;          /* index of the recorded event */
	const char *context;     /* "vcpu0 KVM_RUN", "header" */
	const char *path;        /* "exit.io.port" */
	const char *recorded;    /* NULL: absent in the recording */
	const char *replayed;    /* NULL: absent in the replay */
};

struct kt_replay_opts {
	const char *trace;
	const char *kvm_path;
	const struct kt_pathset *ignore;
	const char *output;      /* -o: write the replay as a trace, or NULL */
	bool force;
	bool sandboxed;          /* -o's header: the replay runs in the sandbox */
	/* From kt_replay_open(): what every run replays from. */
	struct kt_replay_inputs *in;
	/* Called for every divergence and, once each, for every environment
	 * difference (env true: the host differs, replayer/environment.h). */
	void (*report)(void *ctx, const struct kt_divergence *d, bool env);
	void *ctx;
};

struct kt_replay_result {
	uint64_t events, divergences, env_differences;
	bool stopped;            /* the exit sequence stopped lining up */
	char stop_reason[256];
};

/* Distinct ioctl requests a trace may hold for replay. */
#define KT_REPLAY_MAX_REQUESTS 128

/* What a replay opens and learns before it enters the sandbox, so that no
 * run (not even the tenth of --runs 10) opens anything: the trace and
 * /dev/kvm (each run reads and drives a dup of its own), this host's
 * header fields for the environment, every ioctl request the trace will
 * have replay issue (all known KVM requests: the sandbox allows these
 * alone), and the -o trace, created with its header. */
struct kt_replay_inputs {
	int trace_fd, kvm_fd;
	struct kt_buf host;
	uint32_t requests[KT_REPLAY_MAX_REQUESTS];
	size_t nrequests;
	struct kt_recorder *out;
};

/* Open o->trace (a regular file) and o->kvm_path, read the trace through
 * once for its requests, probe the host, start -o.  0, or -errno with
 * kt_last_error(): unreadable trace, a request that is not a KVM ioctl
 * kvmtrace knows, no KVM. */
int kt_replay_open(struct kt_replay_inputs *in, const struct kt_replay_opts *o);
void kt_replay_close(struct kt_replay_inputs *in);

/* Replay o->in once.  0 when the replay ran to the end of the trace
 * (diverged or not), or -errno with kt_last_error() when it could not run
 * (bad trace, no KVM). */
int kt_replay(const struct kt_replay_opts *o, struct kt_replay_result *res);

/* The fields replay and diff ignore unless told otherwise (timestamps,
 * durations, fd numbers, userspace addresses). */
extern const char *const kt_default_ignores[];

#endif
