#include "replayer/lanes.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define QUEUE_LEN 1024
/* Event bytes queued on a lane at most (an event larger than this waits
 * for an empty queue): replay holds a bounded amount of event data
 * whatever the trace. */
#define QUEUE_BYTES (4u << 20)

struct lane {
	struct kt_lanes *ls;
	void *ctx;
	pthread_t thread;
	bool started;
	struct kt_event_copy *queue[QUEUE_LEN];
	unsigned head, count;
	size_t bytes;          /* of the events queued */
	bool busy;
	int error;             /* under ls->lock, with its message */
	char message[512];
};

struct kt_lanes {
	const struct kt_lane_ops *ops;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	bool stopping;
	struct lane lane[KT_MAX_LANES];
};

/* The lane's thread keeps its error and message for the caller's thread
 * (messages are per thread). */
static void lane_failed(struct lane *l, int err)
{
	pthread_mutex_lock(&l->ls->lock);
	if (!l->error) {
		l->error = err;
		snprintf(l->message, sizeof(l->message), "%s", kt_last_error());
	}
	pthread_mutex_unlock(&l->ls->lock);
}

static int lane_error(struct lane *l)
{
	return l->error ? kt_fail(l->error, "%s", l->message) : 0;
}

static void run_item(struct lane *l, struct kt_event_copy *c, bool skip)
{
	struct kt_event ev = kt_event_copy_view(c);
	int ret = skip ? 0 : l->ls->ops->work(l->ctx, &ev, c->index);

	if (ret)
		lane_failed(l, ret);
	free(c);
}

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct kt_lanes *ls = l->ls;
	int ret = ls->ops->enter ? ls->ops->enter(l->ctx) : 0;

	if (ret)
		lane_failed(l, ret);
	pthread_mutex_lock(&ls->lock);
	for (;;) {
		struct kt_event_copy *c;
		bool skip;

		while (!l->count && !ls->stopping)
			pthread_cond_wait(&ls->work, &ls->lock);
		if (!l->count)
			break;
		c = l->queue[l->head];
		l->head = (l->head + 1) % QUEUE_LEN;
		l->count--;
		l->bytes -= c->len;
		l->busy = true;
		skip = l->error != 0;
		pthread_mutex_unlock(&ls->lock);
		run_item(l, c, skip);
		pthread_mutex_lock(&ls->lock);
		l->busy = false;
		pthread_cond_broadcast(&ls->idle);
	}
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

int kt_lanes_start(struct kt_lanes **out, unsigned n, void *const ctx[],
		   const struct kt_lane_ops *ops)
{
	struct kt_lanes *ls = calloc(1, sizeof(*ls));
	int ret;

	*out = NULL;
	if (!ls)
		return kt_fail(-ENOMEM, "out of memory for replay lanes");
	ls->ops = ops;
	pthread_mutex_init(&ls->lock, NULL);
	pthread_cond_init(&ls->work, NULL);
	pthread_cond_init(&ls->idle, NULL);
	for (unsigned i = 0; i < n && i < KT_MAX_LANES; i++) {
		struct lane *l = &ls->lane[i];

		if (!ctx[i])
			continue;
		*l = (struct lane){ .ls = ls, .ctx = ctx[i] };
		if ((ret = pthread_create(&l->thread, NULL, lane_main, l))) {
			kt_lanes_stop(ls);
			return kt_fail(-ret, "cannot start the replay thread of vCPU %u: %s", i,
				       strerror(ret));
		}
		l->started = true;
	}
	*out = ls;
	return 0;
}

int kt_lanes_push(struct kt_lanes *ls, unsigned lane, const struct kt_event *ev,
		  uint64_t index)
{
	struct lane *l = lane < KT_MAX_LANES ? &ls->lane[lane] : NULL;
	struct kt_event_copy *c;
	int err;

	if (!l || !l->started)
		return kt_fail(-EBADF, "event %llu is for vCPU %u, which has no replay thread",
			       (unsigned long long)index, lane);
	if (!(c = kt_event_copy(ev, index)))
		return kt_fail(-ENOMEM, "out of memory for a replayed event");
	pthread_mutex_lock(&ls->lock);
	while (l->count == QUEUE_LEN || (l->count && l->bytes + c->len > QUEUE_BYTES))
		pthread_cond_wait(&ls->idle, &ls->lock);
	l->queue[(l->head + l->count) % QUEUE_LEN] = c;
	l->count++;
	l->bytes += c->len;
	err = lane_error(l);
	pthread_cond_broadcast(&ls->work);
	pthread_mutex_unlock(&ls->lock);
	return err;
}

static bool all_idle(const struct kt_lanes *ls)
{
	for (unsigned i = 0; i < KT_MAX_LANES; i++)
		if (ls->lane[i].count || ls->lane[i].busy)
			return false;
	return true;
}

void kt_lanes_drain(struct kt_lanes *ls)
{
	pthread_mutex_lock(&ls->lock);
	while (!all_idle(ls))
		pthread_cond_wait(&ls->idle, &ls->lock);
	pthread_mutex_unlock(&ls->lock);
}

int kt_lanes_stop(struct kt_lanes *ls)
{
	int err = 0;

	kt_lanes_drain(ls);
	pthread_mutex_lock(&ls->lock);
	ls->stopping = true;
	pthread_cond_broadcast(&ls->work);
	pthread_mutex_unlock(&ls->lock);
	for (unsigned i = 0; i < KT_MAX_LANES; i++)
		if (ls->lane[i].started)
			pthread_join(ls->lane[i].thread, NULL);
	for (unsigned i = 0; i < KT_MAX_LANES && !err; i++)
		err = lane_error(&ls->lane[i]);
	pthread_mutex_destroy(&ls->lock);
	pthread_cond_destroy(&ls->work);
	pthread_cond_destroy(&ls->idle);
	free(ls);
	return err;
}
