#include "replayer/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/kvm_names.h"
#include "decode/decode.h"
#include "recorder/recorder.h"
#include "replayer/environment.h"
#include "replayer/field_diff.h"
#include "replayer/kexit_replay.h"
#include "replayer/lanes.h"
#include "replayer/memory_gap.h"
#include "replayer/replay_vm.h"
#include "replayer/watchdog.h"
#include "trace/page_hash.h"
#include "trace/run_bytes.h"
#include "trace/trace_reader.h"

const char *const kt_default_ignores[] = {
	"ioctl.t_start_ns", "ioctl.dur_ns", "ioctl.new_fd", "*.userspace_addr",
	"*cpuid.*.apic_id", "*cpuid.*.x2apic_id",
	"header.recorded_at_ns", "header.kvmtrace_version", "header.sandbox",
	/* in-kernel exits: the capture's own fields, and the host's exits */
	"kexit.ts_ns", "kexit.seq", "kexit.tid", "kexit.cpu", "kexits.host.*", NULL,
};

/* What one replaying thread needs of its own: the main thread has one,
 * and so does each vCPU thread of a multi-vCPU replay. */
struct lane {
	struct replay *rp;
	struct kt_sink rec, rep;
	struct kt_buf scratch;   /* the ioctl argument being replayed */
	struct rp_watch watch;
	bool enlisted;
	uint64_t index;          /* the recorded event being replayed */
	/* "vcpu0 KVM_RUN": written only when a difference is reported, from
	 * the event (or, without one, the text set with it). */
	char context[64];
	bool have_context;
	const struct kt_event *event;  /* the recorded event being compared */
	bool env;                /* the event compared restates the host */
};

struct replay {
	const struct kt_replay_opts *o;
	struct kt_replay_result *res;
	struct rp_vm vm;
	struct rp_watchdog *watchdog;
	struct lane main;
	struct lane *vcpu_lane[GUEST_MAX_VCPUS];
	struct kt_lanes *lanes;  /* vCPU threads, once a multi-vCPU run starts */
	pthread_mutex_t lock;    /* res, env_seen and the report callback */
	struct kt_env_seen env_seen;
	/* Each vCPU's kvm_run after its last KVM_RUN with sync regs, whose
	 * regs and sregs the next snapshot is compared with in place: written
	 * and read by the one thread that replays that vCPU. */
	const struct kvm_run *snap[GUEST_MAX_VCPUS];
	atomic_bool stopped;     /* res->stopped, for the hot path */
	unsigned vcpus;          /* created so far */
	struct kt_recorder *out; /* -o */
	struct kt_end_body end;  /* the recording's END, for -o */
	atomic_uint_fast64_t exits;  /* KVM_RUN calls replayed */
	struct kt_kexit_replay *kexits;  /* --kernel-exits */
	/* A foreign VMM's trace without its memory writes between exits:
	 * the first difference stops it (replayer/memory_gap.h). */
	bool memory_gap;
	char gap_at[200];
};

static void lane_init(struct lane *l, struct replay *rp)
{
	*l = (struct lane){ .rp = rp };
	kt_sink_flat(&l->rec);
	kt_sink_flat(&l->rep);
}

static void lane_free(struct lane *l)
{
	if (l->enlisted)
		rp_watchdog_delist(l->rp->watchdog, &l->watch);
	kt_sink_free(&l->rec);
	kt_sink_free(&l->rep);
	kt_buf_free(&l->scratch);
}

/* ---- reporting ---- */
/* "vcpu0 KVM_RUN", "vm KVM_CHECK_EXTENSION": formatted only for an event
 * that has a difference to report. */
static const char *lane_context(struct lane *l)
{
	const struct kt_event *ev = l->event;
	char fd[KT_FD_NAME_MAX];
	const char *name;

	if (l->have_context || !ev)
		return l->context;
	if (ev->type == KT_REC_IOCTL) {
		name = kvm_ioctl_name(ev->ioctl->request);
		kt_fd_name(fd, ev->ioctl->role, ev->vcpu);
		snprintf(l->context, sizeof(l->context), "%s %s", fd, name ? name : "ioctl");
	} else {
		snprintf(l->context, sizeof(l->context), "vcpu%u snapshot", ev->vcpu);
	}
	l->have_context = true;
	return l->context;
}

/* The event the next reports are about, its context written when needed. */
static void set_event(struct lane *l, const struct kt_event *ev)
{
	l->event = ev;
	l->have_context = false;
}

/* A context that is not an event's ("header", "memory digest, slot 1"). */
static void set_context(struct lane *l, const char *text)
{
	snprintf(l->context, sizeof(l->context), "%s", text);
	l->event = NULL;
	l->have_context = true;
}

static void report(void *ctx, const char *path, const char *recorded, const char *replayed)
{
	struct lane *l = ctx;
	struct replay *rp = l->rp;
	struct kt_divergence d = {
		.event = l->index, .context = lane_context(l),
		.path = path, .recorded = recorded, .replayed = replayed,
	};

	pthread_mutex_lock(&rp->lock);
	if (!l->env && rp->memory_gap) {  /* not a divergence we can vouch for */
		rp_memory_gap_note(rp->gap_at, sizeof(rp->gap_at), d.event, d.context, d.path);
		rp->res->stopped = true;
	} else if (!l->env) {
		rp->res->divergences++;
		rp->o->report(rp->o->ctx, &d, false);
	} else if (kt_env_first(&rp->env_seen, path, recorded, replayed)) {
		rp->res->env_differences++;
		rp->o->report(rp->o->ctx, &d, true);
	}
	pthread_mutex_unlock(&rp->lock);
}

/* An environment field of the header, not ignored: report it under its
 * header path, as diff does. */
static void report_env_header(void *ctx, const char *path, const char *recorded,
			      const char *replayed)
{
	struct lane *l = ctx;
	char full[300];

	snprintf(full, sizeof(full), "header.%s", path);
	/* what a capture would find here says nothing unless this replay captures */
	if (!strncmp(path, "kexits", 6) && !l->rp->o->kexits)
		return;
	if (kt_env_header_field(path) && !kt_pathset_match(l->rp->o->ignore, full))
		report(ctx, full, recorded, replayed);
}

static void report_event(void *ctx, const char *path, const char *recorded,
			 const char *replayed)
{
	struct lane *l = ctx;
	char buf[96];

	report(ctx, l->env ? kt_env_path(l->event, path, buf, sizeof(buf)) : path,
	       recorded, replayed);
}

/* An in-kernel exit difference (replayer/kexit_compare.h), at the
 * recorded event it is about. */
static void report_kexit(void *ctx, const struct kt_kexit_diff_item *k)
{
	struct replay *rp = ctx;
	struct kt_divergence d = {
		.event = k->index[0], .context = k->context, .path = k->path,
		.recorded = k->value[0], .replayed = k->value[1],
	};

	pthread_mutex_lock(&rp->lock);
	rp->res->divergences++;
	rp->o->report(rp->o->ctx, &d, false);
	pthread_mutex_unlock(&rp->lock);
}

/* The header fields that describe the host (replayer/environment.h). */
static const uint16_t host_tags[] = {
	KT_HDR_KERNEL_RELEASE, KT_HDR_KERNEL_VERSION, KT_HDR_CPU_VENDOR, KT_HDR_CPU_SIGNATURE,
	KT_HDR_API_VERSION, KT_HDR_CAPS, KT_HDR_SUPPORTED_CPUID, KT_HDR_VCPU_MMAP_SIZE,
	KT_HDR_CPU_MODEL_NAME, KT_HDR_KVM_BACKEND,
	KT_HDR_KEXITS,  /* last: only with --kernel-exits */
};

/* Replaying on the host that recorded: every host field byte for byte the
 * same (and, with kexits, the capture's), nothing to decode. */
static bool same_host(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		      bool kexits)
{
	size_t n = sizeof(host_tags) / sizeof(host_tags[0]) - (kexits ? 0 : 1);

	for (size_t i = 0; i < n; i++) {
		uint32_t la = 0, lb = 0;
		const void *fa = kt_tlv_find(a, alen, host_tags[i], &la);
		const void *fb = kt_tlv_find(b, blen, host_tags[i], &lb);

		if (!fa != !fb || la != lb || (fa && memcmp(fa, fb, la)))
			return false;
	}
	return true;
}

/* The recorded host against this one (probed once, by kt_replay_open()). */
static int compare_environment(struct replay *rp, struct kt_reader *r)
{
	const struct kt_buf *host = &rp->o->in->host;
	struct kt_buf here = { 0 };
	struct lane *l = &rp->main;
	size_t len;
	const uint8_t *hdr = kt_reader_header(r, &len);
	int ret = kt_buf_put(&here, host->data, host->len) ?
		kt_fail(-ENOMEM, "out of memory for the host's header") : 0;

	/* With --kernel-exits this host's capture belongs to its environment. */
	if (!ret && rp->o->kexits)
		ret = kt_kexits_put_header(&here, rp->o->kexits, NULL, NULL);
	if (!ret && !same_host(hdr, len, here.data, here.len, rp->o->kexits != NULL)) {
		kt_sink_reset(&l->rec);
		kt_sink_reset(&l->rep);
		decode_header(&l->rec, hdr, len);
		decode_header(&l->rep, here.data, here.len);
		set_context(l, "header");
		l->env = true;
		ret = kt_sink_diff(&l->rec, &l->rep, NULL, NULL, report_env_header, l, NULL);
		l->env = false;
	}
	kt_buf_free(&here);
	return ret;
}

/* ---- events ---- */
static void keep_snapshot(struct replay *rp, uint16_t vcpu, const struct rp_result *res)
{
	if (vcpu >= GUEST_MAX_VCPUS || !res->run)
		return;
	rp->snap[vcpu] = res->run->kvm_valid_regs & KVM_SYNC_X86_SREGS ? res->run : NULL;
}

static void check_exit_reason(struct lane *l, const struct kt_event *ev,
			      const struct rp_result *res)
{
	struct replay *rp = l->rp;
	uint32_t was = kt_run_out_reason(ev->out, ev->ioctl->out_len);
	uint32_t now = res->ret < 0 ? UINT32_MAX : res->run->exit_reason;
	const char *a, *b;

	if (ev->ioctl->ret < 0 || was == now)
		return;
	a = kvm_exit_reason_name(was);
	b = kvm_exit_reason_name(now);
	pthread_mutex_lock(&rp->lock);
	if (!rp->res->stopped)
		snprintf(rp->res->stop_reason, sizeof(rp->res->stop_reason),
			 "event %" PRIu64 ": vCPU %u exited with %s where the recording has %s; "
			 "the exit sequences no longer line up", l->index, ev->vcpu,
			 res->ret < 0 ? strerror(res->err) : b ? b : "UNKNOWN", a ? a : "UNKNOWN");
	rp->res->stopped = true;
	atomic_store(&rp->stopped, true);
	pthread_mutex_unlock(&rp->lock);
}

/* KVM_RUN's out bytes are compared where they lie, in kvm_run: the head
 * and exit union, then an IO OUT's data. */
static bool same_run_out(const struct kt_event *ev, const struct rp_result *res)
{
	const struct kvm_run *run = res->run;
	size_t n = res->out_len - sizeof(struct kt_run_out);

	return memcmp(ev->out, run, sizeof(struct kt_run_out)) == 0 &&
	       (!n || memcmp(ev->out + sizeof(struct kt_run_out),
			     (const uint8_t *)run + run->io.data_offset, n) == 0);
}

static bool same_result(const struct kt_event *ev, const struct kt_ioctl_body *mine,
			const struct rp_result *res)
{
	const struct kt_ioctl_body *b = ev->ioctl;

	if (b->ret != mine->ret || b->err != mine->err || b->out_len != mine->out_len)
		return false;
	if (!b->out_len)
		return true;
	if (res->run)
		return same_run_out(ev, res);
	return res->out && memcmp(ev->out, res->out, b->out_len) == 0;
}

/* Decoding is for explaining differences: called only when there is one. */
static int compare_events(struct lane *l, const struct kt_event *recorded,
			  const struct kt_event *replayed)
{
	kt_sink_reset(&l->rec);
	kt_sink_reset(&l->rep);
	decode_event(&l->rec, recorded);
	decode_event(&l->rep, replayed);
	l->event = recorded;
	return kt_sink_diff(&l->rec, &l->rep, l->rp->o->ignore, NULL, report_event, l, NULL);
}

/* What KVM_RUN left, laid out as the recording lays it out, for decoding. */
static const uint8_t *run_out_bytes(struct lane *l, const struct rp_result *res)
{
	uint8_t *p;

	l->scratch.len = 0;
	if (!(p = kt_buf_reserve(&l->scratch, res->out_len)))
		return NULL;
	kt_run_out_fill(res->run, res->out_len - sizeof(struct kt_run_out), p);
	return p;
}

static int replay_ioctl(struct lane *l, const struct kt_event *ev)
{
	struct replay *rp = l->rp;
	struct rp_call c = { .vcpu = ev->vcpu, .b = ev->ioctl, .in = ev->in, .out = ev->out };
	struct kt_ioctl_body body = *ev->ioctl;
	struct kt_event mine = *ev;
	struct rp_result res;
	bool run = ev->ioctl->request == KVM_RUN;
	enum kt_env_kind env;
	int ret = 0;

	set_event(l, ev);
	if (run && rp->kexits)
		kt_kexit_replay_before_run(rp->kexits, ev->vcpu);
	if (run)
		rp_watch_arm(&l->watch, rp_run_limit_ns(ev->ioctl));
	ret = rp_vm_call(&rp->vm, &c, &l->scratch, &res);
	if (run)
		rp_watch_disarm(&l->watch);
	if (run && rp->kexits && !ret)
		kt_kexit_replay_after_run(rp->kexits, ev->vcpu, l->index, l->context);
	if (ret)
		return ret;
	body.ret = res.ret;
	body.err = res.err;
	body.out_len = kt_ioctl_keeps_out(body.request, res.ret) ? res.out_len : 0;
	env = run ? KT_ENV_NO : kt_env_request(body.request, body.role);
	if (env != KT_ENV_IN_HEADER && !same_result(ev, &body, &res)) {
		mine.ioctl = &body;
		mine.out = run ? run_out_bytes(l, &res) : res.out;
		if (!mine.out && body.out_len)
			return kt_fail(-ENOMEM, "out of memory for a KVM_RUN result");
		l->env = env == KT_ENV_YES;
		ret = compare_events(l, ev, &mine);
		l->env = false;
	}
	if (run) {
		atomic_fetch_add_explicit(&rp->exits, 1, memory_order_relaxed);
		keep_snapshot(rp, ev->vcpu, &res);
		check_exit_reason(l, ev, &res);
	}
	return ret;
}

/* A snapshot that differs: ours laid out as the recording's, and decoded. */
static int compare_snapshot(struct lane *l, const struct kt_event *ev, const struct kvm_run *run)
{
	struct kt_snapshot_body mine = { .source = KT_SNAP_SYNC_REGS };
	struct kt_event copy = *ev;

	mine.regs = run->s.regs.regs;
	mine.sregs = run->s.regs.sregs;
	copy.body = (const uint8_t *)&mine;
	copy.len = sizeof(mine);
	return compare_events(l, ev, &copy);
}

/* Snapshots taken by GET_REGS/GET_SREGS were compared as those ioctls; a
 * sync-regs one is compared with kvm_run's regs and sregs in place. */
static int replay_snapshot(struct lane *l, const struct kt_event *ev)
{
	struct replay *rp = l->rp;
	const struct kt_snapshot_body *s = (const void *)ev->body;
	const size_t regs = offsetof(struct kt_snapshot_body, regs);
	const struct kvm_run *run;

	if (ev->len < sizeof(*s) || s->source != KT_SNAP_SYNC_REGS ||
	    ev->vcpu >= GUEST_MAX_VCPUS)
		return 0;
	set_event(l, ev);
	if (!(run = rp->snap[ev->vcpu])) {
		report(l, "snapshot", "present", NULL);
		return 0;
	}
	if (memcmp(ev->body + regs, &run->s.regs.regs, KT_SYNC_REGS_BYTES) == 0)
		return 0;
	return compare_snapshot(l, ev, run);
}

static void replay_digest(struct replay *rp, const struct kt_event *ev)
{
	struct kt_digest_body d;
	struct lane *l = &rp->main;
	struct kt_page_hasher ph;
	char context[40];

	if (ev->len < sizeof(d))
		return;
	memcpy(&d, ev->body, sizeof(d));
	snprintf(context, sizeof(context), "memory digest, slot %u", d.slot);
	set_context(l, context);
	kt_page_hasher_init(&ph, d.page_size);
	for (uint32_t i = 0; i < d.npages && sizeof(d) + (i + 1) * 8ull <= ev->len; i++) {
		uint64_t gpa = d.gpa + (uint64_t)i * d.page_size, was, now;
		const uint8_t *page = kt_memslots_ptr(&rp->vm.mem, gpa, d.page_size);
		char path[64], a[24], b[24];

		memcpy(&was, ev->body + sizeof(d) + i * 8, sizeof(was));
		now = page ? kt_page_hash(&ph, page) : 0;
		if (page && now == was)
			continue;
		snprintf(path, sizeof(path), "digest.pages.0x%" PRIx64, gpa);
		snprintf(a, sizeof(a), "0x%" PRIx64, was);
		snprintf(b, sizeof(b), "0x%" PRIx64, now);
		if (!kt_pathset_match(rp->o->ignore, path))
			report(l, path, a, page ? b : NULL);
	}
}

static int replay_memwrite(struct replay *rp, const struct kt_event *ev)
{
	uint64_t gpa;

	if (ev->len < sizeof(gpa))
		return kt_fail(KT_E_CORRUPT, "memory write record too short");
	memcpy(&gpa, ev->body, sizeof(gpa));
	return kt_memslots_write(&rp->vm.mem, gpa, ev->body + sizeof(gpa),
				 ev->len - sizeof(gpa));
}

static int replay_event(struct replay *rp, const struct kt_event *ev)
{
	switch (ev->type) {
	case KT_REC_IOCTL:
		return replay_ioctl(&rp->main, ev);
	case KT_REC_SNAPSHOT:
		return replay_snapshot(&rp->main, ev);
	case KT_REC_MEMWRITE:
		return replay_memwrite(rp, ev);
	case KT_REC_DIGEST:
		replay_digest(rp, ev);
		return 0;
	case KT_REC_END:
		memcpy(&rp->end, ev->body, ev->len < sizeof(rp->end) ? ev->len : sizeof(rp->end));
		return 0;
	case KT_REC_KEXIT:
	case KT_REC_KEXIT_LOST:
		if (rp->kexits)
			kt_kexit_replay_recorded(rp->kexits, ev, rp->main.index);
		return 0;
	default:
		return 0;
	}
}

static bool stopped(struct replay *rp)
{
	return atomic_load_explicit(&rp->stopped, memory_order_relaxed);
}

/* What went wrong with one event, said with the trace and the event. */
static int event_failed(struct replay *rp, uint64_t index, int err)
{
	char why[400];

	snprintf(why, sizeof(why), "%s", kt_last_error());
	return kt_fail(err, "%s: event %" PRIu64 ": %s", rp->o->trace, index, why);
}

/* ---- vCPU lanes ---- */
static int lane_enter(void *ctx)
{
	struct lane *l = ctx;

	rp_watchdog_enlist(l->rp->watchdog, &l->watch);
	l->enlisted = true;
	return 0;
}

static int lane_work(void *ctx, const struct kt_event *ev, uint64_t index)
{
	struct lane *l = ctx;
	int ret;

	if (stopped(l->rp))
		return 0;
	l->index = index;
	if (ev->type == KT_REC_KEXIT || ev->type == KT_REC_KEXIT_LOST) {
		if (l->rp->kexits)
			kt_kexit_replay_recorded(l->rp->kexits, ev, index);
		return 0;
	}
	ret = ev->type == KT_REC_IOCTL ? replay_ioctl(l, ev) : replay_snapshot(l, ev);
	return ret ? event_failed(l->rp, index, ret) : 0;
}

static const struct kt_lane_ops lane_ops = { .enter = lane_enter, .work = lane_work };

static int start_lanes(struct replay *rp)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++) {
		if (rp->vm.vcpu[i].fd < 0)
			continue;
		if (!(rp->vcpu_lane[i] = malloc(sizeof(struct lane))))
			return kt_fail(-ENOMEM, "out of memory for replay lanes");
		lane_init(rp->vcpu_lane[i], rp);
	}
	return kt_lanes_start(&rp->lanes, GUEST_MAX_VCPUS, (void *const *)rp->vcpu_lane,
			      &lane_ops);
}

static int stop_lanes(struct replay *rp)
{
	int ret = rp->lanes ? kt_lanes_stop(rp->lanes) : 0;

	rp->lanes = NULL;
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		if (rp->vcpu_lane[i]) {
			lane_free(rp->vcpu_lane[i]);
			free(rp->vcpu_lane[i]);
			rp->vcpu_lane[i] = NULL;
		}
	return ret;
}

/* The vCPUs the replay has created (counted once a KVM_CREATE_VCPU has been
 * replayed, not at every event). */
static unsigned vcpus_created(const struct replay *rp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		n += rp->vm.vcpu[i].fd >= 0;
	return n;
}

/* Several vCPUs ran at once when recording (one may spin on a lock another
 * holds): from their first KVM_RUN on, each replays on its own thread.
 * 1: ev goes to a lane; 0: to the main thread; <0: lanes failed to start. */
static int goes_to_lane(struct replay *rp, const struct kt_event *ev)
{
	bool vcpu_event = ev->type == KT_REC_SNAPSHOT ||
			  (ev->type == KT_REC_IOCTL && ev->ioctl->role == KT_FD_VCPU) ||
			  (rp->kexits && (ev->type == KT_REC_KEXIT ||
					  ev->type == KT_REC_KEXIT_LOST));
	int ret;

	if (!vcpu_event)
		return 0;
	if (!rp->lanes && ev->type == KT_REC_IOCTL && ev->ioctl->request == KVM_RUN &&
	    rp->vcpus > 1 && (ret = start_lanes(rp)))
		return ret;
	return rp->lanes != NULL;
}

/* ---- -o: started by kt_replay_open(), finished here ---- */
static int finish_output(struct replay *rp)
{
	uint64_t events;

	kt_recorder_end(rp->out, &rp->vm.mem, rp->end.reason, rp->end.status,
			atomic_load(&rp->exits));
	return kt_recorder_close(rp->out, &events);
}

static int run_events(struct replay *rp, struct kt_reader *r)
{
	struct kt_event ev;
	int ret = 0, err = 0;

	while (!err && !stopped(rp) && (ret = kt_reader_next(r, &ev)) == 1) {
		rp->main.index = kt_reader_index(r) - 1;
		rp->res->events++;
		if ((err = goes_to_lane(rp, &ev)) > 0) {
			err = kt_lanes_push(rp->lanes, ev.vcpu, &ev, rp->main.index);
			continue;
		}
		if (err)
			break;
		if (rp->lanes)
			kt_lanes_drain(rp->lanes);
		if ((err = replay_event(rp, &ev)))
			err = event_failed(rp, rp->main.index, err);
		else if (ev.type == KT_REC_IOCTL && ev.ioctl->request == KVM_CREATE_VCPU)
			rp->vcpus = vcpus_created(rp);
	}
	ret = ret < 0 ? ret : 0;
	if (rp->lanes) {
		int lane_err = stop_lanes(rp);

		err = err ? err : lane_err;
	}
	if (err)
		return err;
	if (stopped(rp) || ret >= 0)
		return 0;
	return kt_fail(ret, "%s: %s after event %" PRIu64, rp->o->trace,
		       kt_reader_strerror(ret), kt_reader_index(r));
}

static int setup(struct replay *rp, struct kt_reader *r)
{
	int ret;

	if ((ret = rp_watchdog_start(&rp->watchdog)))
		return ret;
	rp_watchdog_enlist(rp->watchdog, &rp->main.watch);
	rp->main.enlisted = true;
	/* The trace was checked against the limits by kt_replay_open(). */
	if ((ret = rp_vm_open(&rp->vm, rp->o->in->kvm_fd)))
		return ret;
	rp->out = rp->o->in->out;  /* ours to finish from here */
	rp->o->in->out = NULL;
	rp->memory_gap = rp_memory_gap(kt_reader_hdr(r));
	if ((ret = compare_environment(rp, r)))
		return ret;
	if (rp->o->kexits &&
	    ((ret = kt_kexit_replay_new(&rp->kexits, kt_reader_hdr(r), rp->o->kexits,
					rp->o->ignore, report_kexit, rp)) ||
	     (ret = kt_kexit_replay_start(rp->kexits))))
		return ret;
	return 0;
}

static int replay_trace(struct replay *rp, struct kt_reader *r)
{
	int ret = setup(rp, r);

	if (!ret)
		ret = run_events(rp, r);
	stop_lanes(rp);
	if (rp->kexits) {  /* the counts mean nothing for a replay cut short */
		kt_kexit_replay_finish(rp->kexits, rp->res->events ? rp->res->events - 1 : 0,
				       !ret && !rp->res->stopped);
		kt_kexit_replay_free(rp->kexits);
	}
	if (rp->out) {
		int out = finish_output(rp);

		ret = ret ? ret : out;
	}
	rp_vm_close(&rp->vm);
	lane_free(&rp->main);
	rp_watchdog_stop(rp->watchdog);
	return ret;
}

int kt_replay(const struct kt_replay_opts *o, struct kt_replay_result *res)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct kt_reader *r;
	int err = 0, ret, fd;

	memset(res, 0, sizeof(*res));
	if (!rp)
		return kt_fail(-ENOMEM, "out of memory");
	rp->o = o;
	rp->res = res;
	/* Each run reads the trace from the start, on an fd of its own. */
	if (lseek(o->in->trace_fd, 0, SEEK_SET) < 0 || (fd = dup(o->in->trace_fd)) < 0) {
		free(rp);
		return kt_fail(-errno, "%s: %s", o->trace, strerror(errno));
	}
	if (!(r = kt_reader_open_fd(fd, &err))) {
		free(rp);
		return kt_fail(err, "%s: %s", o->trace, kt_reader_strerror(err));
	}
	lane_init(&rp->main, rp);
	pthread_mutex_init(&rp->lock, NULL);
	ret = replay_trace(rp, r);
	if (!ret && rp->memory_gap && res->stopped)
		ret = rp_memory_gap_fail(o->trace, rp->gap_at[0] ? rp->gap_at : res->stop_reason);
	kt_env_seen_free(&rp->env_seen);
	pthread_mutex_destroy(&rp->lock);
	kt_reader_close(r);
	free(rp);
	return ret;
}
