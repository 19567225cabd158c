/* Replay's one watchdog: a thread that kicks any replaying thread whose
 * KVM_RUN has outlived its limit (harness/kick.h), so a replay never hangs
 * on a vCPU that no longer does what it did when recording.  The limit
 * comes from the recording (rp_run_limit_ns). */
#ifndef KVMTRACE_WATCHDOG_H
#define KVMTRACE_WATCHDOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "trace/trace_format.h"

/* A KVM_RUN that came back when recording gets this long to come back
 * again, or RUN_LIMIT_FACTOR times its recorded duration if that is more. */
#define RP_MIN_RUN_LIMIT_NS 2000000000ull
#define RP_RUN_LIMIT_FACTOR 4

/* One thread's watch: armed while it is inside a KVM_RUN. */
struct rp_watch {
	pthread_t thread;
	atomic_uint_fast64_t deadline_ns;  /* CLOCK_MONOTONIC; 0: not armed */
	struct rp_watch *next;
};

struct rp_watchdog;

/* 0, or -errno with the message set. */
int rp_watchdog_start(struct rp_watchdog **out);
void rp_watchdog_stop(struct rp_watchdog *wd);
/* The calling thread starts being watched (and accepts kicks); w lives
 * until rp_watchdog_stop. */
void rp_watchdog_enlist(struct rp_watchdog *wd, struct rp_watch *w);

/* Stop watching w (before it is freed). */
void rp_watchdog_delist(struct rp_watchdog *wd, struct rp_watch *w);

/* How long a replayed KVM_RUN may take: a recorded KVM_RUN that was
 * itself kicked (-EINTR) is kicked again after as long as it ran; any other
 * gets max(RP_MIN_RUN_LIMIT_NS, RP_RUN_LIMIT_FACTOR x its duration). */
uint64_t rp_run_limit_ns(const struct kt_ioctl_body *recorded);

void rp_watch_arm(struct rp_watch *w, uint64_t limit_ns);
void rp_watch_disarm(struct rp_watch *w);

#endif
