#include "replayer/kexit_diff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/kvm_names.h"
#include "trace/run_bytes.h"

/* A KVM_RUN read but not yet emitted by the aligner, with its exits. */
struct queued_run {
	uint64_t index;
	uint16_t vcpu;
	uint32_t reason;      /* its exit reason, for the context */
	struct kt_kexit_run run;
};

struct side {
	bool on;                    /* the trace captured kernel exits */
	struct kt_kexits_hdr hdr;
	struct kt_buf pending;      /* struct kt_kexit_run per vCPU: since its last KVM_RUN */
	struct kt_buf queue;        /* struct queued_run, in index order from head */
	size_t head;
	struct kt_kexit_tally tally;
	size_t budget;
};

struct kt_kexit_diff {
	struct side side[2];
	struct kt_kexit_cmp cmp;
};

struct kt_kexit_diff *kt_kexit_diff_new(const struct kt_header *old_hdr,
					const struct kt_header *new_hdr,
					const struct kt_pathset *ignore,
					const struct kt_pathset *only,
					kt_kexit_report report, void *ctx)
{
	struct kt_kexit_diff *kd = calloc(1, sizeof(*kd));
	const struct kt_header *hdr[2] = { old_hdr, new_hdr };

	if (!kd) {
		kt_fail(-ENOMEM, "out of memory");
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		kd->side[i].on = !kt_kexits_hdr_of(hdr[i], &kd->side[i].hdr) &&
				 kd->side[i].hdr.state == KT_KEXITS_ON;
		kd->side[i].budget = KT_KEXIT_BUDGET;
	}
	kt_kexit_cmp_init(&kd->cmp, ignore, only, report, ctx);
	return kd;
}

static void free_side(struct side *s)
{
	for (size_t i = 0; i < kt_buf_count(&s->pending, struct kt_kexit_run); i++)
		kt_kexit_run_clear(&kt_buf_at(&s->pending, struct kt_kexit_run, i), NULL);
	for (size_t i = s->head; i < kt_buf_count(&s->queue, struct queued_run); i++)
		kt_kexit_run_clear(&kt_buf_at(&s->queue, struct queued_run, i).run, NULL);
	kt_buf_free(&s->pending);
	kt_buf_free(&s->queue);
	kt_kexit_tally_free(&s->tally);
}

void kt_kexit_diff_free(struct kt_kexit_diff *kd)
{
	if (!kd)
		return;
	free_side(&kd->side[0]);
	free_side(&kd->side[1]);
	kt_kexit_cmp_free(&kd->cmp);
	free(kd);
}

/* The vCPU's exits since its last KVM_RUN (NULL when out of memory). */
static struct kt_kexit_run *pending(struct side *s, uint16_t vcpu)
{
	const struct kt_kexit_run none = { 0 };

	while (kt_buf_count(&s->pending, struct kt_kexit_run) <= vcpu)
		if (kt_buf_put(&s->pending, &none, sizeof(none)))
			return NULL;
	return &kt_buf_at(&s->pending, struct kt_kexit_run, vcpu);
}

/* A KVM_RUN: its exits are the ones collected for its vCPU. */
static void queue_run(struct side *s, const struct kt_event *ev, uint64_t index)
{
	struct kt_kexit_run *p = pending(s, ev->vcpu);
	struct queued_run q = {
		.index = index, .vcpu = ev->vcpu,
		.reason = kt_run_out_reason(ev->out, ev->ioctl->out_len),
	};

	if (!p)
		return;
	q.run = *p;
	*p = (struct kt_kexit_run){ 0 };
	/* Drop what the aligner has emitted before growing the queue. */
	if (s->head && s->head >= kt_buf_count(&s->queue, struct queued_run) / 2) {
		size_t keep = s->queue.len - s->head * sizeof(q);

		memmove(s->queue.data, s->queue.data + s->head * sizeof(q), keep);
		s->queue.len = keep;
		s->head = 0;
	}
	if (kt_buf_put(&s->queue, &q, sizeof(q)))
		kt_kexit_run_clear(&q.run, &s->budget);
}

int kt_kexit_diff_take(struct kt_kexit_diff *kd, int side, const struct kt_event *ev,
		       uint64_t index)
{
	struct side *s = &kd->side[side];
	struct kt_kexit_lost_body l;
	struct kt_kexit_run *p;

	switch (ev->type) {
	case KT_REC_KEXIT:
		kt_kexit_tally_add(&s->tally, ev->vcpu, ev->body);
		if ((p = pending(s, ev->vcpu)))
			kt_kexit_run_add(p, index, ev->body, &s->budget);
		return 1;
	case KT_REC_KEXIT_LOST:
		memcpy(&l, ev->body, sizeof(l));
		kt_kexit_tally_lost(&s->tally, l.count);
		if ((p = pending(s, ev->vcpu)))
			kt_kexit_run_lost(p, l.count);
		return 1;
	case KT_REC_IOCTL:
		if (s->on && ev->ioctl->request == KVM_RUN && ev->ioctl->role == KT_FD_VCPU) {
			queue_run(s, ev, index);
			kt_kexit_tally_run(&s->tally, ev->vcpu);
		}
		return 0;
	default:
		return 0;
	}
}

/* The queued run of that KVM_RUN, taken off the queue; NULL if the event
 * is not a queued KVM_RUN. */
static struct queued_run *take_run(struct side *s, uint64_t index)
{
	struct queued_run *q;

	if (index == KT_KEXIT_NO_EVENT || s->head >= kt_buf_count(&s->queue, struct queued_run))
		return NULL;
	q = &kt_buf_at(&s->queue, struct queued_run, s->head);
	if (q->index != index)
		return NULL;
	s->head++;
	return q;
}

void kt_kexit_diff_op(struct kt_kexit_diff *kd, uint64_t old_index, uint64_t new_index)
{
	struct queued_run *a = take_run(&kd->side[0], old_index);
	struct queued_run *b = take_run(&kd->side[1], new_index);
	char context[64], fd[KT_FD_NAME_MAX];

	if (a && b) {
		const char *reason = kvm_exit_reason_name(a->reason);
		const uint64_t index[2] = { a->index, b->index };

		kt_fd_name(fd, KT_FD_VCPU, a->vcpu);
		snprintf(context, sizeof(context), "%s ioctl(KVM_RUN) -> %s", fd,
			 reason ? reason : "?");
		kt_kexit_compare_runs(&kd->cmp, &a->run, &b->run, index, context);
	}
	if (a)
		kt_kexit_run_clear(&a->run, &kd->side[0].budget);
	if (b)
		kt_kexit_run_clear(&b->run, &kd->side[1].budget);
}

void kt_kexit_diff_finish(struct kt_kexit_diff *kd, const uint64_t end_index[2])
{
	const struct side *a = &kd->side[0], *b = &kd->side[1];

	kt_kexit_compare_counts(&kd->cmp, &a->tally, a->on ? &a->hdr : NULL, &b->tally,
				b->on ? &b->hdr : NULL, end_index);
}
