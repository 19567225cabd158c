#include "replayer/watchdog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "harness/kick.h"

#define POLL_NS 20000000ull  /* how often the watchdog looks */

struct rp_watchdog {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	struct rp_watch *watches;
	pthread_t thread;
};

/* Kick every thread past its deadline; again at every look until its
 * KVM_RUN returns (a kick landing just before the call enters is lost). */
static void look(struct rp_watchdog *wd)
{
	uint64_t now = kt_monotonic_ns();

	for (struct rp_watch *w = wd->watches; w; w = w->next) {
		uint64_t deadline = atomic_load(&w->deadline_ns);

		if (deadline && now >= deadline)
			kt_kick(w->thread);
	}
}

static void *watchdog_main(void *arg)
{
	struct rp_watchdog *wd = arg;

	pthread_mutex_lock(&wd->lock);
	while (!wd->stopping) {
		struct timespec ts = kt_monotonic_at(kt_monotonic_ns() + POLL_NS);

		pthread_cond_timedwait(&wd->wake, &wd->lock, &ts);
		look(wd);
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

static int init_sync(struct rp_watchdog *wd)
{
	int ret = kt_cond_init_monotonic(&wd->wake);

	if (!ret)
		pthread_mutex_init(&wd->lock, NULL);
	return ret;
}

int rp_watchdog_start(struct rp_watchdog **out)
{
	struct rp_watchdog *wd = calloc(1, sizeof(*wd));
	int ret;

	*out = NULL;
	if (!wd)
		return kt_fail(-ENOMEM, "out of memory for the replay watchdog");
	if ((ret = init_sync(wd))) {
		free(wd);
		return kt_fail(ret, "replay watchdog: %s", strerror(-ret));
	}
	if ((ret = pthread_create(&wd->thread, NULL, watchdog_main, wd))) {
		pthread_cond_destroy(&wd->wake);
		pthread_mutex_destroy(&wd->lock);
		free(wd);
		return kt_fail(-ret, "cannot start the replay watchdog: %s", strerror(ret));
	}
	*out = wd;
	return 0;
}

void rp_watchdog_stop(struct rp_watchdog *wd)
{
	if (!wd)
		return;
	pthread_mutex_lock(&wd->lock);
	wd->stopping = true;
	pthread_cond_signal(&wd->wake);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	pthread_cond_destroy(&wd->wake);
	pthread_mutex_destroy(&wd->lock);
	free(wd);
}

void rp_watchdog_enlist(struct rp_watchdog *wd, struct rp_watch *w)
{
	kt_kick_accept();
	w->thread = pthread_self();
	atomic_store(&w->deadline_ns, 0);
	pthread_mutex_lock(&wd->lock);
	w->next = wd->watches;
	wd->watches = w;
	pthread_mutex_unlock(&wd->lock);
}

void rp_watchdog_delist(struct rp_watchdog *wd, struct rp_watch *w)
{
	pthread_mutex_lock(&wd->lock);
	for (struct rp_watch **p = &wd->watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&wd->lock);
}

uint64_t rp_run_limit_ns(const struct kt_ioctl_body *recorded)
{
	uint64_t limit = recorded->dur_ns * RP_RUN_LIMIT_FACTOR;

	if (recorded->ret < 0 && recorded->err == EINTR)
		return recorded->dur_ns;
	return limit > RP_MIN_RUN_LIMIT_NS ? limit : RP_MIN_RUN_LIMIT_NS;
}

void rp_watch_arm(struct rp_watch *w, uint64_t limit_ns)
{
	atomic_store(&w->deadline_ns, kt_monotonic_ns() + (limit_ns ? limit_ns : 1));
}

void rp_watch_disarm(struct rp_watch *w)
{
	atomic_store(&w->deadline_ns, 0);
}
