/* kexits: the in-kernel KVM exits of chosen threads, captured by a BPF
 * program on the kvm tracepoints and handed over as fixed-size events.
 *
 *   struct kx *kx;
 *   if (kx_open(&kx, &opts) < 0)  -> kt_last_error() says why, in one line
 *   slot = kx_add_thread(kx, vcpu_tid, vcpu_index);
 *   ... KVM_RUN on that thread ...
 *   kx_flush(kx, slot, on_event, ctx);   every event of that run, in order
 *   kx_close(kx);
 *
 * Every function returning int returns a negative errno on failure, with
 * the reason in kt_last_error() (per thread).  Events are delivered by the
 * thread that calls kx_poll()/kx_flush(); one thread at a time. */
#ifndef KEXITS_KX_H
#define KEXITS_KX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kexits/kx_abi.h"
#include "kexits/kx_layout.h"
#include "kexits/kx_names.h"

struct kx;

#define KX_PATH_MAX 4096  /* PATH_MAX: tracefs may be anywhere (-T) */

struct kx_opts {
	size_t ring_bytes;      /* ring buffer size, a power of 2 >= 4096;
				 * 0: 4 MiB (about 40,000 events) */
	uint32_t wakeup_bytes;  /* wake a kx_poll() sleeper only once this much
				 * is unread (0: an eighth of the ring); a poll
				 * also returns at its timeout.  KX_WAKEUP_EACH:
				 * at every event that finds the reader caught
				 * up (costly: a wakeup per event or so) */
	uint32_t kinds;         /* bit k: capture kind k (0: every kind the
				 * kernel has); kvm_exit and kvm_entry always */
	const char *tracefs;    /* NULL: /sys/kernel/tracing, mounted there
				 * if it is not (needs root) */
	int verbose;            /* libbpf's messages on stderr */
};

/* What kx_open found: the tracepoints attached (the kernel has them and
 * they were asked for) and the fields the running kernel publishes. */
struct kx_info {
	uint32_t asked;                /* bit k: kind k asked for */
	uint32_t attached;             /* bit k: kind k attached */
	uint16_t present[KX_KINDS];    /* fields published, as in events */
	uint16_t wanted[KX_KINDS];     /* fields kexits knows for the kind */
	uint32_t tp_id[KX_KINDS];      /* tracepoint IDs */
	char tracefs[KX_PATH_MAX];     /* where the format files were read */
};

/* Load and attach the BPF program.  Fails with -EPERM/-EACCES (no
 * privilege), -ENOENT (no tracefs, KVM not loaded, kvm_exit or kvm_entry
 * missing), -ENOSYS (no BPF ring buffer) or what libbpf says; the optional
 * tracepoints are attached only where the kernel has them. */
int kx_open(struct kx **out, const struct kx_opts *opts);
/* Detaching waits for the kernel (an RCU grace period per tracepoint, the
 * kernel serializes them: about 40 ms each on the 6.18 host): close after
 * the trace is finished. */
void kx_close(struct kx *kx);
const struct kx_info *kx_info(const struct kx *kx);

/* One line naming what is attached and what is missing, e.g.
 * "kvm_exit (no requests) kvm_entry (no intr_info error_code) kvm_pio ..." */
int kx_describe(const struct kx *kx, char *buf, size_t len);

/* Capture the events of thread tid (tagged with vcpu), or of every thread
 * of process pid (tagged KX_VCPU_NONE).  Returns the slot (>= 0), which is
 * event.slot; at most KX_MAX_SLOTS at once. */
int kx_add_thread(struct kx *kx, pid_t tid, uint32_t vcpu);
int kx_add_process(struct kx *kx, pid_t pid);
int kx_remove(struct kx *kx, int slot);

/* Return nonzero to stop delivery; that event counts as delivered. */
typedef int kx_event_fn(const struct kx_event *ev, void *ctx);

/* Deliver what the ring holds, waiting up to timeout_ms (0: not at all,
 * -1: forever) if it is empty.  Returns the number delivered. */
int kx_poll(struct kx *kx, int timeout_ms, kx_event_fn *fn, void *ctx);

/* Deliver until every event slot produced before the call is delivered or
 * known lost (other slots' events met on the way are delivered too).  On a
 * vCPU thread right after KVM_RUN returns: the events of that run, exactly.
 * Returns the number delivered, -ETIMEDOUT if another thread's event held
 * the ring for a second. */
int kx_flush(struct kx *kx, int slot, kx_event_fn *fn, void *ctx);

struct kx_counts {
	uint64_t produced;   /* events the slot's threads hit (seq so far) */
	uint64_t lost;       /* of those, lost to a full ring */
	uint64_t delivered;  /* of those, delivered */
};
int kx_counts(const struct kx *kx, int slot, struct kx_counts *out);

#endif
