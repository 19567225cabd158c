#include "replayer/kexit_replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "harness/guest_abi.h"

/* One vCPU as it is replayed (each may be replayed on a thread of its
 * own): what the trace says happened in its current run, what happened
 * here, the counts of both so far, and the sinks to compare with.  The
 * recorded side is touched by the vCPU's replaying thread only; the
 * replayed side by kexits' sink (under its lock) while the vCPU runs, and
 * by that thread once kt_kexits_after_run() has returned. */
struct vcpu_side {
	struct kt_kexit_run recorded, replayed;
	struct kt_kexit_tally recorded_n, replayed_n;
	struct kt_kexit_cmp cmp;
};

struct kt_kexit_replay {
	struct kt_kexits *kx;
	struct kt_kexits_hdr recorded_hdr, here_hdr;
	struct vcpu_side v[GUEST_MAX_VCPUS];
	struct kt_kexit_cmp counts;
};

int kt_kexit_replay_new(struct kt_kexit_replay **out, const struct kt_header *hdr,
			struct kt_kexits *kx, const struct kt_pathset *ignore,
			kt_kexit_report report, void *ctx)
{
	struct kt_kexit_replay *kr;
	struct kt_kexits_hdr h;

	*out = NULL;
	if (kt_kexits_hdr_of(hdr, &h) || h.state != KT_KEXITS_ON)
		return kt_fail(-EINVAL, "--kernel-exits: the trace holds no kernel exits to "
			       "compare with (recorded without --kernel-exits, or they were "
			       "unavailable)");
	if (!(kr = calloc(1, sizeof(*kr))))
		return kt_fail(-ENOMEM, "out of memory");
	kr->kx = kx;
	kr->recorded_hdr = h;
	kt_kexits_header(kx, &kr->here_hdr);
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		kt_kexit_cmp_init(&kr->v[i].cmp, ignore, NULL, report, ctx);
	kt_kexit_cmp_init(&kr->counts, ignore, NULL, report, ctx);
	*out = kr;
	return 0;
}

void kt_kexit_replay_free(struct kt_kexit_replay *kr)
{
	if (!kr)
		return;
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++) {
		kt_kexit_run_clear(&kr->v[i].recorded, NULL);
		kt_kexit_run_clear(&kr->v[i].replayed, NULL);
		kt_kexit_tally_free(&kr->v[i].recorded_n);
		kt_kexit_tally_free(&kr->v[i].replayed_n);
		kt_kexit_cmp_free(&kr->v[i].cmp);
	}
	kt_kexit_cmp_free(&kr->counts);
	free(kr);
}

/* ---- the replay's own exits (kexits' lock held) ------------------------ */
static void on_event(void *ctx, uint16_t vcpu, const struct kt_kexit_body *b)
{
	struct kt_kexit_replay *kr = ctx;

	if (vcpu >= GUEST_MAX_VCPUS)
		return;
	kt_kexit_tally_add(&kr->v[vcpu].replayed_n, vcpu, b);
	kt_kexit_run_add(&kr->v[vcpu].replayed, 0, b, NULL);
}

static void on_lost(void *ctx, uint16_t vcpu, const struct kt_kexit_lost_body *l)
{
	struct kt_kexit_replay *kr = ctx;

	if (vcpu >= GUEST_MAX_VCPUS)
		return;
	kt_kexit_tally_lost(&kr->v[vcpu].replayed_n, l->count);
	kt_kexit_run_lost(&kr->v[vcpu].replayed, l->count);
}

int kt_kexit_replay_start(struct kt_kexit_replay *kr)
{
	const struct kt_kexits_sink sink = { .event = on_event, .lost = on_lost, .ctx = kr };

	return kt_kexits_start(kr->kx, &sink, kt_monotonic_ns());
}

/* ---- the trace's ----------------------------------------------------------- */
void kt_kexit_replay_recorded(struct kt_kexit_replay *kr, const struct kt_event *ev,
			      uint64_t index)
{
	struct kt_kexit_lost_body l;
	struct vcpu_side *v;

	if (ev->vcpu >= GUEST_MAX_VCPUS)
		return;
	v = &kr->v[ev->vcpu];
	if (ev->type == KT_REC_KEXIT) {
		kt_kexit_tally_add(&v->recorded_n, ev->vcpu, ev->body);
		kt_kexit_run_add(&v->recorded, index, ev->body, NULL);
	} else {
		memcpy(&l, ev->body, sizeof(l));
		kt_kexit_tally_lost(&v->recorded_n, l.count);
		kt_kexit_run_lost(&v->recorded, l.count);
	}
}

/* ---- around each KVM_RUN ------------------------------------------------- */
void kt_kexit_replay_before_run(struct kt_kexit_replay *kr, uint16_t vcpu)
{
	kt_kexits_before_run(kr->kx, vcpu);
}

void kt_kexit_replay_after_run(struct kt_kexit_replay *kr, uint16_t vcpu, uint64_t index,
			       const char *context)
{
	struct vcpu_side *v;
	const uint64_t at[2] = { index, index };

	kt_kexits_after_run(kr->kx, vcpu);
	if (vcpu >= GUEST_MAX_VCPUS)
		return;
	v = &kr->v[vcpu];
	kt_kexit_compare_runs(&v->cmp, &v->recorded, &v->replayed, at, context);
	kt_kexit_run_clear(&v->recorded, NULL);
	kt_kexit_run_clear(&v->replayed, NULL);
	kt_kexit_tally_run(&v->recorded_n, vcpu);
	kt_kexit_tally_run(&v->replayed_n, vcpu);
}

void kt_kexit_replay_finish(struct kt_kexit_replay *kr, uint64_t end_index, bool counts)
{
	const uint64_t at[2] = { end_index, end_index };
	struct kt_kexit_tally recorded = { 0 }, replayed = { 0 };
	int ret = 0;

	kt_kexits_stop(kr->kx);
	for (unsigned i = 0; counts && !ret && i < GUEST_MAX_VCPUS; i++)
		if (!(ret = kt_kexit_tally_merge(&recorded, &kr->v[i].recorded_n)))
			ret = kt_kexit_tally_merge(&replayed, &kr->v[i].replayed_n);
	if (counts && !ret)
		kt_kexit_compare_counts(&kr->counts, &recorded, &kr->recorded_hdr, &replayed,
					&kr->here_hdr, at);
	kt_kexit_tally_free(&recorded);
	kt_kexit_tally_free(&replayed);
}
