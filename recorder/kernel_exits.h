/* In-kernel exits (kexits/) for a recording or a replay: the capture is
 * opened before any vCPU thread starts, each vCPU thread registers itself
 * on its first KVM_RUN, and when a KVM_RUN returns everything that vCPU
 * caused in the kernel is handed to a sink, in order, before the caller
 * goes on (so a recorder writes those KEXIT records before the KVM_RUN
 * record they belong to).  A collector thread empties the ring while no
 * KVM_RUN returns (a guest that never leaves the kernel would otherwise
 * fill it); events lost anyway are reported as such, where they happened.
 *
 *   kt_kexits_open()        before the VM exists (0.1 s: load, attach)
 *   kt_kexits_start()       a sink and the time base; the collector starts
 *   kt_kexits_before_run()  \  the choke point's observer, or the replayer,
 *   kt_kexits_after_run()   /  on the vCPU thread, around every KVM_RUN
 *   kt_kexits_stop()        every vCPU thread has finished: the rest
 *   kt_kexits_close()       after the trace is finished (0.2-0.4 s: detach)
 */
#ifndef KVMTRACE_KERNEL_EXITS_H
#define KVMTRACE_KERNEL_EXITS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "trace/trace_format.h"

enum kt_kexits_mode {
	KT_KEXITS_OFF = 0,
	KT_KEXITS_WANTED,    /* --kernel-exits: if this host can */
	KT_KEXITS_REQUIRED,  /* --kernel-exits=require: or fail */
};

struct kt_kexits_opts {
	enum kt_kexits_mode mode;
	uint32_t kinds;      /* bit k: kind k (0: every kind the kernel has);
			      * kvm_exit and kvm_entry always */
	size_t ring_bytes;   /* 0: kexits' default, 4 MiB */
};

/* Where events go.  Called with the capture's lock held, from the vCPU
 * thread after its KVM_RUN or from the collector: one call at a time. */
struct kt_kexits_sink {
	void (*event)(void *ctx, uint16_t vcpu, const struct kt_kexit_body *b);
	void (*lost)(void *ctx, uint16_t vcpu, const struct kt_kexit_lost_body *l);
	void *ctx;
};

struct kt_kexits;

/* "cpuid,msr" (kexits' kind names or tracepoint names): bits.  0, or
 * -EINVAL with kt_last_error() naming the word. */
int kt_kexits_parse_kinds(const char *list, uint32_t *kinds);

/* Load and attach.  0, or -errno with the one-line reason in
 * kt_last_error() (no privilege, no tracefs, no kvm tracepoints, no BPF). */
int kt_kexits_open(struct kt_kexits **out, const struct kt_kexits_opts *o);
void kt_kexits_close(struct kt_kexits *k);

/* The header fields KT_HDR_KEXITS and KT_HDR_KEXITS_INFO: what k captures,
 * or (k NULL) that o asked for kernel exits and why is why they are not
 * captured.  0 or -ENOMEM. */
int kt_kexits_put_header(struct kt_buf *hdr, const struct kt_kexits *k,
			 const struct kt_kexits_opts *o, const char *why);
/* The same as a struct (for a replay's own side). */
void kt_kexits_header(const struct kt_kexits *k, struct kt_kexits_hdr *h);

/* Deliver to sink from now on; event times relative to t_base (a
 * CLOCK_MONOTONIC ns, the trace's time base).  0 or -errno. */
int kt_kexits_start(struct kt_kexits *k, const struct kt_kexits_sink *sink,
		    uint64_t t_base);
/* start() with a sink that writes KEXIT and KEXIT_LOST records to w. */
struct kt_writer;
int kt_kexits_start_writing(struct kt_kexits *k, struct kt_writer *w, uint64_t t_base);
/* On the thread that runs vcpu, before its KVM_RUN: registered the first
 * time (and again if another thread takes the vCPU over). */
void kt_kexits_before_run(struct kt_kexits *k, uint16_t vcpu);
/* On that thread, after KVM_RUN returned: every event of vcpu so far,
 * and a lost record for any of them the ring dropped. */
void kt_kexits_after_run(struct kt_kexits *k, uint16_t vcpu);
/* The run is over (every vCPU thread done): stop the collector, deliver
 * what is left, unregister the threads and forget the sink.  start may be
 * called again (replay --runs). */
void kt_kexits_stop(struct kt_kexits *k);

struct kt_kexits_totals {
	uint64_t delivered;   /* events handed to sinks since open */
	uint64_t lost;        /* events the ring dropped */
	uint64_t records;     /* sink calls: events and losses */
};
void kt_kexits_totals(const struct kt_kexits *k, struct kt_kexits_totals *t);
/* The first thing that went wrong while capturing (a thread that could
 * not be registered, a flush that timed out), or NULL. */
const char *kt_kexits_problem(const struct kt_kexits *k);

#endif
