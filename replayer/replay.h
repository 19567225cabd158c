/* Replay: re-issue a trace's ioctls on this kernel through the choke point
 * and compare every output with the recording. */
#ifndef KVMTRACE_REPLAY_H
#define KVMTRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

struct kt_pathset;
struct kt_kexits;

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
	/* --kernel-exits: capture the replay's own in-kernel exits with this
	 * (recorder/kernel_exits.h, opened by the caller) and compare them
	 * with the trace's; NULL: the trace's are passed over. */
	struct kt_kexits *kexits;
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

/* 0 when the replay ran to the end of the trace (diverged or not), or
 * -errno with kt_last_error() when it could not run (bad trace, no KVM). */
int kt_replay(const struct kt_replay_opts *o, struct kt_replay_result *res);

/* The fields replay and diff ignore unless told otherwise (timestamps,
 * durations, fd numbers, userspace addresses). */
extern const char *const kt_default_ignores[];

#endif
