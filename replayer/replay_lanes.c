#include "replayer/replay_lanes.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/kvm_ioctl.h"

#define QUEUE_LEN 1024
#define WATCH_NS 50000000ull          /* how often the main thread looks */
#define MIN_RUN_LIMIT_NS 2000000000ull /* a KVM_RUN may take this long... */
#define RUN_LIMIT_FACTOR 4             /* ...or this many times its recording */
#define SIG_KICK SIGUSR1

struct item {
	uint64_t index;
	uint8_t type;
	uint16_t vcpu;
	uint32_t len;
	uint8_t body[];
};

struct vlane {
	struct rp_lanes *ls;
	struct lane *lane;
	pthread_t thread;
	bool started;
	struct item *queue[QUEUE_LEN];
	unsigned head, count;
	bool busy;
	atomic_uint_fast64_t run_since;  /* KVM_RUN in progress since (ns), 0 */
	atomic_uint_fast64_t run_limit;
	int error;
};

struct rp_lanes {
	struct replay *rp;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	bool stopping;
	struct vlane v[GUEST_MAX_VCPUS];
};

static struct kt_event item_event(const struct item *it)
{
	return kt_event_view(it->type, it->vcpu, it->body, it->len);
}

static void replay_item(struct vlane *v, const struct item *it)
{
	struct kt_event ev = item_event(it);
	bool run = ev.type == KT_REC_IOCTL && ev.ioctl->request == KVM_RUN;
	int ret;

	rp_lane_set_index(v->lane, it->index);
	if (ev.type != KT_REC_IOCTL) {
		rp_replay_snapshot(v->lane, &ev);
		return;
	}
	if (run) {
		uint64_t limit = ev.ioctl->dur_ns * RUN_LIMIT_FACTOR;

		atomic_store(&v->run_limit, limit > MIN_RUN_LIMIT_NS ? limit : MIN_RUN_LIMIT_NS);
		atomic_store(&v->run_since, kvm_monotonic_ns());
	}
	ret = rp_replay_ioctl(v->lane, &ev, false);
	atomic_store(&v->run_since, 0);
	if (ret && !v->error)
		v->error = ret;
}

static void *lane_main(void *arg)
{
	struct vlane *v = arg;
	struct rp_lanes *ls = v->ls;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	pthread_mutex_lock(&ls->lock);
	for (;;) {
		struct item *it;

		while (!v->count && !ls->stopping)
			pthread_cond_wait(&ls->work, &ls->lock);
		if (!v->count)
			break;
		it = v->queue[v->head];
		v->head = (v->head + 1) % QUEUE_LEN;
		v->count--;
		v->busy = true;
		pthread_mutex_unlock(&ls->lock);
		if (!v->error && !rp_stopped(ls->rp))
			replay_item(v, it);
		free(it);
		pthread_mutex_lock(&ls->lock);
		v->busy = false;
		pthread_cond_broadcast(&ls->idle);
	}
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

struct rp_lanes *rp_lanes_start(struct replay *rp, struct rp_vm *vm)
{
	struct rp_lanes *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	ls->rp = rp;
	pthread_mutex_init(&ls->lock, NULL);
	pthread_cond_init(&ls->work, NULL);
	pthread_cond_init(&ls->idle, NULL);
	kvm_interrupt_signal(SIG_KICK);
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++) {
		struct vlane *v = &ls->v[i];

		if (vm->vcpu[i].fd < 0)
			continue;
		v->ls = ls;
		v->lane = rp_lane_new(rp);
		if (!v->lane || pthread_create(&v->thread, NULL, lane_main, v)) {
			rp_lanes_stop(ls);
			return NULL;
		}
		v->started = true;
	}
	return ls;
}

/* Kick a vCPU whose KVM_RUN has gone on far longer than it did recording. */
static void watch(struct rp_lanes *ls)
{
	uint64_t now = kvm_monotonic_ns();

	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++) {
		struct vlane *v = &ls->v[i];
		uint64_t since = atomic_load(&v->run_since);

		if (v->started && since && now - since > atomic_load(&v->run_limit))
			pthread_kill(v->thread, SIG_KICK);
	}
}

/* Wait on cond for at most WATCH_NS, watching the vCPUs meanwhile. */
static void wait_watching(struct rp_lanes *ls, pthread_cond_t *cond)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)WATCH_NS;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cond, &ls->lock, &ts);
	watch(ls);
}

int rp_lanes_push(struct rp_lanes *ls, const struct kt_event *ev, uint64_t index)
{
	struct vlane *v = ev->vcpu < GUEST_MAX_VCPUS ? &ls->v[ev->vcpu] : NULL;
	struct item *it;
	int err;

	if (!v || !v->started)
		return -EBADF;
	if (!(it = malloc(sizeof(*it) + ev->len)))
		return -ENOMEM;
	*it = (struct item){ .index = index, .type = ev->type, .vcpu = ev->vcpu, .len = ev->len };
	memcpy(it->body, ev->body, ev->len);
	pthread_mutex_lock(&ls->lock);
	while (v->count == QUEUE_LEN)
		wait_watching(ls, &ls->idle);
	v->queue[(v->head + v->count) % QUEUE_LEN] = it;
	v->count++;
	err = v->error;
	pthread_cond_broadcast(&ls->work);
	pthread_mutex_unlock(&ls->lock);
	return err;
}

static bool all_idle(const struct rp_lanes *ls)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		if (ls->v[i].count || ls->v[i].busy)
			return false;
	return true;
}

void rp_lanes_drain(struct rp_lanes *ls)
{
	pthread_mutex_lock(&ls->lock);
	while (!all_idle(ls))
		wait_watching(ls, &ls->idle);
	pthread_mutex_unlock(&ls->lock);
}

int rp_lanes_stop(struct rp_lanes *ls)
{
	int err = 0;

	rp_lanes_drain(ls);
	pthread_mutex_lock(&ls->lock);
	ls->stopping = true;
	pthread_cond_broadcast(&ls->work);
	pthread_mutex_unlock(&ls->lock);
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++) {
		struct vlane *v = &ls->v[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		if (v->lane)
			rp_lane_free(v->lane);
		if (!err)
			err = v->error;
	}
	pthread_mutex_destroy(&ls->lock);
	pthread_cond_destroy(&ls->work);
	pthread_cond_destroy(&ls->idle);
	free(ls);
	return err;
}
