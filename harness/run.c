/* The KVM_RUN loop: one thread per vCPU, the main thread keeping time and
 * watching for signals. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/exit_status.h"
#include "harness/exits.h"
#include "harness/kick.h"
#include "harness/machine.h"

#define SIG_DONE SIGUSR2  /* the last vCPU thread tells main it is done */

/* KVM_RUN itself, and the snapshots and final registers after it. */
const uint32_t kt_run_loop_requests[] = { KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS };
const size_t kt_run_loop_nrequests =
	sizeof(kt_run_loop_requests) / sizeof(kt_run_loop_requests[0]);

static int snapshot_by_ioctl(struct kt_vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	long ret = kvm_ioctl(&v->h, KVM_GET_REGS, &regs);

	if (ret >= 0)
		ret = kvm_ioctl(&v->h, KVM_GET_SREGS, &sregs);
	return (int)ret;
}

static void count_exit(struct kt_vcpu *v)
{
	struct kt_machine *m = v->m;
	uint32_t reason = v->h.run->exit_reason;
	uint64_t total = atomic_fetch_add(&m->total_exits, 1) + 1;

	v->exits++;
	v->exits_by_reason[reason < KT_MAX_EXIT_REASON ? reason : 0]++;
	if (m->cfg.max_exits && total >= m->cfg.max_exits &&
	    reason != KVM_EXIT_HLT)
		kt_machine_end(m, KT_END_TIMEOUT, KT_TIMEOUT, v->h.vcpu_index,
			       "exit limit reached (--max-exits %llu)",
			       (unsigned long long)m->cfg.max_exits);
}

/* A KVM_RUN that failed rather than exited. */
static bool run_failed(struct kt_vcpu *v, long ret)
{
	if (ret >= 0)
		return false;
	if (ret == -EINTR || ret == -EAGAIN) {
		v->h.run->exit_reason = KVM_EXIT_INTR;
		return false;
	}
	kt_machine_end(v->m, KT_END_KVM_ERROR, KT_KVM_ERROR, v->h.vcpu_index,
		       "KVM_RUN on vCPU %u failed: %s", v->h.vcpu_index,
		       strerror((int)-ret));
	return true;
}

static void vcpu_loop(struct kt_vcpu *v)
{
	struct kt_machine *m = v->m;

	while (!atomic_load(&m->stopping)) {
		long ret = kvm_ioctl_raw(&v->h, KVM_RUN, NULL);

		if (run_failed(v, ret))
			return;
		if (ret >= 0)
			count_exit(v);
		if (v->ioctl_snapshots && snapshot_by_ioctl(v) < 0)
			return;
		if (kt_handle_exit(v) != KT_EXIT_CONTINUE)
			return;
	}
}

static void *vcpu_thread(void *arg)
{
	struct kt_vcpu *v = arg;
	struct kt_machine *m = v->m;

	kt_kick_accept();
	vcpu_loop(v);
	v->have_final_regs = kvm_ioctl(&v->h, KVM_GET_REGS, &v->final_regs) == 0;
	if (atomic_fetch_sub(&m->running, 1) == 1)
		pthread_kill(m->main_thread, SIG_DONE);
	return NULL;
}

/* The kick must interrupt KVM_RUN, and a SIG_DONE that lands after the
 * supervisor stopped waiting must do no harm. */
static void install_handlers(void)
{
	kt_signal_interrupts(KT_SIG_KICK);
	kt_signal_interrupts(SIG_DONE);
}

static uint64_t deadline_ns(const struct kt_machine *m)
{
	return m->cfg.timeout_ms ? kt_monotonic_ns() + m->cfg.timeout_ms * 1000000ull : 0;
}

/* Wait for every vCPU thread, ending the run on a timeout or a signal. */
static void supervise(struct kt_machine *m, const sigset_t *waitset)
{
	uint64_t deadline = deadline_ns(m);

	while (atomic_load(&m->running) > 0) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };
		int sig = sigtimedwait(waitset, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM)
			kt_machine_end(m, KT_END_INTERRUPTED, KT_INTERRUPTED, 0,
				       "interrupted by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
		else if (deadline && kt_monotonic_ns() >= deadline && !m->outcome_set)
			kt_machine_end(m, KT_END_TIMEOUT, KT_TIMEOUT, 0,
				       "timed out after %.3g s (--timeout)",
				       (double)m->cfg.timeout_ms / 1000.0);
	}
}

int kt_machine_run(struct kt_machine *m)
{
	sigset_t waitset, old;
	int ret = 0;

	sigemptyset(&waitset);
	sigaddset(&waitset, SIGINT);
	sigaddset(&waitset, SIGTERM);
	sigaddset(&waitset, SIG_DONE);
	sigaddset(&waitset, KT_SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &waitset, &old);
	install_handlers();
	sigdelset(&waitset, KT_SIG_KICK);
	m->main_thread = pthread_self();
	atomic_store(&m->running, m->nvcpus);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		ret = -pthread_create(&m->vcpu[i].thread, NULL, vcpu_thread, &m->vcpu[i]);
		if (ret) {
			atomic_fetch_sub(&m->running, m->nvcpus - i);
			kt_machine_end(m, KT_END_KVM_ERROR, KT_INTERNAL, i,
				       "cannot start vCPU thread %u: %s", i, strerror(-ret));
			break;
		}
		m->vcpu[i].thread_started = true;
	}
	supervise(m, &waitset);
	/* A joined thread's descriptor may be unmapped (glibc keeps about 40 MiB
	 * of stacks cached): kt_machine_end() below must not kick it. */
	for (unsigned i = 0; i < m->nvcpus; i++)
		if (m->vcpu[i].thread_started) {
			pthread_join(m->vcpu[i].thread, NULL);
			m->vcpu[i].thread_started = false;
		}
	if (!m->outcome_set)
		kt_machine_end(m, KT_END_HALTED, KT_OK, 0, "all vCPUs halted");
	fflush(stdout);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
