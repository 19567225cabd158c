/* A VM as kvmtrace builds it: /dev/kvm, one VM, guest RAM, N vCPUs. */
#ifndef KVMTRACE_MACHINE_H
#define KVMTRACE_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/kt_types.h"
#include "harness/config.h"
#include "harness/guest_abi.h"
#include "harness/kvm_ioctl.h"
#include "harness/memslots.h"

#define KT_MAX_EXIT_REASON 64

struct kt_vcpu {
	struct kvm_handle h;
	struct kt_machine *m;
	pthread_t thread;
	bool thread_started;
	bool ioctl_snapshots;    /* no sync regs: GET_REGS/GET_SREGS per exit */
	uint64_t exits;
	uint64_t exits_by_reason[KT_MAX_EXIT_REASON];
	struct kvm_regs final_regs;
	bool have_final_regs;
};

/* How a run ended; the first vCPU to end the run decides. */
struct kt_outcome {
	enum kt_end_reason reason;
	int status;              /* kvmtrace exit status */
	unsigned vcpu;
	char detail[256];
};

struct kt_machine {
	struct kt_config cfg;
	struct kvm_handle sys;
	struct kvm_handle vm;
	bool no_kvm;              /* setup failed at /dev/kvm or its API version */
	size_t run_size;
	struct kt_memslots mem;  /* RAM (slot 0) and the page-table slot (1) */
	struct kvm_cpuid2 *cpuid;
	int sync_regs;           /* KVM_CAP_SYNC_REGS mask, 0 if absent */
	struct kt_vcpu vcpu[GUEST_MAX_VCPUS];
	unsigned nvcpus;

	atomic_bool stopping;
	atomic_uint_fast64_t total_exits;
	atomic_uint running;
	pthread_mutex_t lock;    /* guards outcome and the console */
	bool outcome_set;
	struct kt_outcome outcome;
	pthread_t main_thread;
};

/* Setup, in the seed flow's order.  Each returns 0 or -errno with the
 * reason left in kt_last_error(). */
int kt_machine_open(struct kt_machine *m, const struct kt_config *cfg);
int kt_machine_load(struct kt_machine *m, const void *image, size_t size);
/* Run until every vCPU halts or the run is ended; fills m->outcome. */
int kt_machine_run(struct kt_machine *m);
/* Every ioctl request kt_machine_run() issues: the sandbox of run and
 * record allows these and no other (keep it in step with harness/run.c). */
extern const uint32_t kt_run_loop_requests[];
extern const size_t kt_run_loop_nrequests;
void kt_machine_close(struct kt_machine *m);

/* End the run (first caller wins) and kick every vCPU out of KVM_RUN. */
void kt_machine_end(struct kt_machine *m, enum kt_end_reason reason,
		    int status, unsigned vcpu, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));


#endif
