#include "replayer/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "harness/error.h"
#include "recorder/decode.h"
#include "recorder/host_probe.h"
#include "recorder/kvm_names.h"
#include "recorder/recorder.h"
#include "recorder/run_bytes.h"
#include "recorder/trace_header.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"
#include "replayer/field_diff.h"
#include "replayer/replay_lanes.h"
#include "replayer/replay_vm.h"

const char *const kt_default_ignores[] = {
	"ioctl.t_start_ns", "ioctl.dur_ns", "ioctl.new_fd", "*.userspace_addr",
	"*cpuid.*.apic_id", "*cpuid.*.x2apic_id",
	"header.recorded_at_ns", "header.kvmtrace_version", NULL,
};

/* Header fields that describe the host, compared before the replay. */
static const char *const env_fields[] = {
	"kernel_release", "kernel_version", "cpu_*", "api_version", "caps.*",
	"cpuid.*", "vcpu_mmap_size", NULL,
};

/* A guest KVM_RUN that does not come back in this long has diverged (a
 * vCPU replayed alone may spin on a lock another vCPU holds). */
#define RUN_WATCHDOG_US 2000000

/* What one replaying thread needs of its own: the main thread has one,
 * and each vCPU thread of a multi-vCPU replay (replayer/replay_lanes.c). */
struct lane {
	struct replay *rp;
	struct kt_sink rec, rep;
	uint64_t index;          /* the recorded event being replayed */
	char context[64];
	bool env;                /* reporting environment differences */
};

struct replay {
	const struct kt_replay_opts *o;
	struct kt_replay_result *res;
	struct rp_vm vm;
	struct lane main;
	pthread_mutex_t lock;    /* res and the report callback */
	struct kt_snapshot_body snap[GUEST_MAX_VCPUS];
	bool have_snap[GUEST_MAX_VCPUS];
	struct rp_lanes *lanes;  /* vCPU threads, once a multi-vCPU run starts */
	struct kt_recorder *out; /* -o */
	struct kt_end_body end;  /* the recording's END, for -o */
	uint64_t exits;          /* KVM_RUN calls replayed */
};

static void lane_init(struct lane *l, struct replay *rp)
{
	l->rp = rp;
	kt_sink_flat(&l->rec);
	kt_sink_flat(&l->rep);
}

static void lane_free(struct lane *l)
{
	kt_sink_free(&l->rec);
	kt_sink_free(&l->rep);
}

static void report(void *ctx, const char *path, const char *recorded, const char *replayed)
{
	struct lane *l = ctx;
	struct replay *rp = l->rp;
	struct kt_divergence d = {
		.event = l->index, .context = l->env ? "environment" : l->context,
		.path = path, .recorded = recorded, .replayed = replayed,
	};

	pthread_mutex_lock(&rp->lock);
	if (l->env)
		rp->res->env_differences++;
	else
		rp->res->divergences++;
	rp->o->report(rp->o->ctx, &d, l->env);
	pthread_mutex_unlock(&rp->lock);
}

static void compare_sinks(struct lane *l, const struct kt_pathset *only)
{
	size_t na = kt_sink_nfields(&l->rec), nb = kt_sink_nfields(&l->rep);
	struct kt_field *a = malloc((na + 1) * sizeof(*a)), *b = malloc((nb + 1) * sizeof(*b));

	if (a && b) {
		kt_sink_fields(&l->rec, a, na);
		kt_sink_fields(&l->rep, b, nb);
		kt_field_diff(a, na, b, nb, l->rp->o->ignore, only, report, l);
	}
	free(a);
	free(b);
}

static int compare_environment(struct replay *rp, struct kt_reader *r)
{
	struct kt_buf here = { 0 };
	struct kt_pathset *only = kt_pathset_new();
	size_t len;
	const uint8_t *hdr = kt_reader_header(r, &len);
	int ret = kt_probe_host(rp->o->kvm_path, &here);

	for (unsigned i = 0; only && env_fields[i]; i++)
		kt_pathset_add(only, env_fields[i]);
	if (!ret && only) {
		struct lane *l = &rp->main;

		kt_sink_reset(&l->rec);
		kt_sink_reset(&l->rep);
		decode_header(&l->rec, hdr, len);
		decode_header(&l->rep, here.data, here.len);
		l->env = true;
		compare_sinks(l, only);
		l->env = false;
	}
	kt_pathset_free(only);
	kt_buf_free(&here);
	return ret;
}

/* ---- the watchdog ---- */
static void arm_watchdog(bool on)
{
	struct itimerval t = { .it_value = { .tv_sec = on ? RUN_WATCHDOG_US / 1000000 : 0,
					     .tv_usec = on ? RUN_WATCHDOG_US % 1000000 : 0 } };

	setitimer(ITIMER_REAL, &t, NULL);
}

static void install_watchdog(void)
{
	kvm_interrupt_signal(SIGALRM);
}

/* ---- events ---- */
static void keep_snapshot(struct replay *rp, uint16_t vcpu, const struct rp_result *res)
{
	if (vcpu >= GUEST_MAX_VCPUS || !res->run ||
	    !(res->run->kvm_valid_regs & KVM_SYNC_X86_SREGS))
		return;
	rp->snap[vcpu] = (struct kt_snapshot_body){
		.source = KT_SNAP_SYNC_REGS,
		.regs = res->run->s.regs.regs,
		.sregs = res->run->s.regs.sregs,
	};
	rp->have_snap[vcpu] = true;
}

static void check_exit_reason(struct lane *l, const struct kt_event *ev,
			      const struct rp_result *res)
{
	struct replay *rp = l->rp;
	uint32_t was = kt_run_out_reason(ev->out, ev->ioctl->out_len);
	uint32_t now = res->ret < 0 ? UINT32_MAX : kt_run_out_reason(res->out, res->out_len);
	const char *a = kvm_exit_reason_name(was), *b = kvm_exit_reason_name(now);

	if (ev->ioctl->ret < 0 || was == now)
		return;
	pthread_mutex_lock(&rp->lock);
	if (!rp->res->stopped)
		snprintf(rp->res->stop_reason, sizeof(rp->res->stop_reason),
			 "event %" PRIu64 ": vCPU %u exited with %s where the recording has %s; "
			 "the exit sequences no longer line up", l->index, ev->vcpu,
			 res->ret < 0 ? strerror(res->err) : b ? b : "UNKNOWN", a ? a : "UNKNOWN");
	rp->res->stopped = true;
	pthread_mutex_unlock(&rp->lock);
}

static bool same_result(const struct kt_event *ev, const struct kt_ioctl_body *mine,
			const uint8_t *out)
{
	const struct kt_ioctl_body *b = ev->ioctl;

	return b->ret == mine->ret && b->err == mine->err && b->out_len == mine->out_len &&
	       (!b->out_len || memcmp(ev->out, out, b->out_len) == 0);
}

static void compare_events(struct lane *l, const struct kt_event *recorded,
			   const struct kt_event *replayed)
{
	kt_sink_reset(&l->rec);
	kt_sink_reset(&l->rep);
	decode_event(&l->rec, recorded);
	decode_event(&l->rep, replayed);
	compare_sinks(l, NULL);
}

int rp_replay_ioctl(struct lane *l, const struct kt_event *ev, bool watchdog)
{
	struct replay *rp = l->rp;
	struct rp_call c = { .vcpu = ev->vcpu, .b = ev->ioctl, .in = ev->in, .out = ev->out };
	struct kt_ioctl_body body = *ev->ioctl;
	struct kt_event mine = *ev;
	struct rp_result res;
	const char *name = kvm_ioctl_name(ev->ioctl->request);
	bool run = ev->ioctl->request == KVM_RUN;
	int ret;

	if (ev->ioctl->role == KT_FD_VCPU)
		snprintf(l->context, sizeof(l->context), "vcpu%u %s", ev->vcpu,
			 name ? name : "ioctl");
	else
		snprintf(l->context, sizeof(l->context), "%s %s",
			 ev->ioctl->role == KT_FD_VM ? "vm" : "kvm", name ? name : "ioctl");
	if (run && watchdog)
		arm_watchdog(true);
	ret = rp_vm_call(&rp->vm, &c, &res);
	if (run && watchdog)
		arm_watchdog(false);
	if (ret)
		return ret;
	body.ret = res.ret;
	body.err = res.err;
	body.out_len = res.ret < 0 ? 0 : res.out_len;
	mine.ioctl = &body;
	mine.out = res.out;
	/* Decoding is for explaining differences: most events have none. */
	if (!same_result(ev, &body, res.out))
		compare_events(l, ev, &mine);
	if (run) {
		__atomic_fetch_add(&rp->exits, 1, __ATOMIC_RELAXED);
		keep_snapshot(rp, ev->vcpu, &res);
		check_exit_reason(l, ev, &res);
	}
	return 0;
}

void rp_replay_snapshot(struct lane *l, const struct kt_event *ev)
{
	struct replay *rp = l->rp;
	const struct kt_snapshot_body *s = (const void *)ev->body;
	struct kt_event mine = *ev;

	/* Snapshots taken by GET_REGS/GET_SREGS were compared as those ioctls. */
	if (ev->len < sizeof(*s) || s->source != KT_SNAP_SYNC_REGS ||
	    ev->vcpu >= GUEST_MAX_VCPUS)
		return;
	snprintf(l->context, sizeof(l->context), "vcpu%u snapshot", ev->vcpu);
	if (!rp->have_snap[ev->vcpu]) {
		report(l, "snapshot", "present", NULL);
		return;
	}
	mine.body = (const uint8_t *)&rp->snap[ev->vcpu];
	if (memcmp(ev->body, mine.body, sizeof(*s)) != 0)
		compare_events(l, ev, &mine);
}

static void replay_digest(struct replay *rp, const struct kt_event *ev)
{
	struct kt_digest_body d;
	struct lane *l = &rp->main;

	if (ev->len < sizeof(d))
		return;
	memcpy(&d, ev->body, sizeof(d));
	snprintf(l->context, sizeof(l->context), "memory digest, slot %u", d.slot);
	for (uint32_t i = 0; i < d.npages && sizeof(d) + (i + 1) * 8ull <= ev->len; i++) {
		uint64_t gpa = d.gpa + (uint64_t)i * d.page_size, was, now;
		const uint8_t *page = rp_vm_guest_ptr(&rp->vm, gpa, d.page_size);
		char path[64], a[24], b[24];

		memcpy(&was, ev->body + sizeof(d) + i * 8, sizeof(was));
		now = page ? kt_page_hash(page, d.page_size) : 0;
		if (page && now == was)
			continue;
		snprintf(path, sizeof(path), "digest.pages.0x%" PRIx64, gpa);
		snprintf(a, sizeof(a), "0x%" PRIx64, was);
		snprintf(b, sizeof(b), "0x%" PRIx64, now);
		if (!kt_pathset_match(rp->o->ignore, path))
			report(l, path, a, page ? b : NULL);
	}
}

static int replay_event(struct replay *rp, const struct kt_event *ev)
{
	switch (ev->type) {
	case KT_REC_IOCTL:
		return rp_replay_ioctl(&rp->main, ev, true);
	case KT_REC_SNAPSHOT:
		rp_replay_snapshot(&rp->main, ev);
		return 0;
	case KT_REC_MEMWRITE:
		return ev->len < 8 ? kt_fail(KT_E_CORRUPT, "memory write record too short") :
			rp_vm_mem_write(&rp->vm, *(const uint64_t *)ev->body, ev->body + 8,
					ev->len - 8);
	case KT_REC_DIGEST:
		replay_digest(rp, ev);
		return 0;
	case KT_REC_END:
		memcpy(&rp->end, ev->body, ev->len < sizeof(rp->end) ? ev->len : sizeof(rp->end));
		return 0;
	default:
		return 0;
	}
}

static unsigned vcpus_created(const struct replay *rp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		n += rp->vm.vcpu[i].fd >= 0;
	return n;
}

/* Several vCPUs ran at once when recording (one may spin on a lock another
 * holds): from their first KVM_RUN on, each replays on its own thread. */
static bool goes_to_lane(struct replay *rp, const struct kt_event *ev)
{
	bool vcpu_event = ev->type == KT_REC_SNAPSHOT ||
			  (ev->type == KT_REC_IOCTL && ev->ioctl->role == KT_FD_VCPU);

	if (!vcpu_event)
		return false;
	if (!rp->lanes && ev->type == KT_REC_IOCTL && ev->ioctl->request == KVM_RUN &&
	    vcpus_created(rp) > 1)
		rp->lanes = rp_lanes_start(rp, &rp->vm);
	return rp->lanes != NULL;
}

static bool stopped(struct replay *rp)
{
	bool s;

	pthread_mutex_lock(&rp->lock);
	s = rp->res->stopped;
	pthread_mutex_unlock(&rp->lock);
	return s;
}

/* -o: the replay is recorded like a run, with the trace's own guest and
 * configuration in its header. */
static int start_output(struct replay *rp, struct kt_reader *r)
{
	struct kt_run_config rc;
	struct kt_config cfg = { .kvm_path = rp->o->kvm_path };
	struct kt_record_request req = { .path = rp->o->output, .force = rp->o->force,
					  .cfg = &cfg };
	const struct kt_header *h = kt_reader_hdr(r);
	const char *name = kt_header_string(h, KT_HDR_GUEST_NAME);
	bool no_kvm;

	if (kt_header_run_config(h, &rc) ||
	    kt_header_guest_image(h, &req.image, &req.image_size))
		return kt_fail(KT_E_CORRUPT, "%s: the header lacks the run configuration or "
			       "guest image that -o needs", rp->o->trace);
	cfg = (struct kt_config){
		.guest_path = name ? name : "guest", .mode = rc.mode, .mem_bytes = rc.mem_bytes,
		.vcpus = rc.vcpus, .timeout_ms = rc.timeout_ms, .max_exits = rc.max_exits,
		.guest_arg = rc.guest_arg, .snapshots = true, .kvm_path = rp->o->kvm_path,
	};
	return kt_recorder_start(&rp->out, &req, &no_kvm);
}

static void finish_output(struct replay *rp)
{
	struct kt_mem_region regions[RP_MAX_SLOTS];
	unsigned n = 0;
	uint64_t events;

	for (unsigned i = 0; i < RP_MAX_SLOTS; i++)
		if (rp->vm.slot[i].used)
			regions[n++] = (struct kt_mem_region){ i, rp->vm.slot[i].gpa,
							       rp->vm.slot[i].size,
							       rp->vm.slot[i].host };
	kt_recorder_end(rp->out, regions, n, rp->end.reason, rp->end.status, rp->exits);
	kt_recorder_close(rp->out, &events);
	rp->out = NULL;
}

static int run_events(struct replay *rp, struct kt_reader *r)
{
	struct kt_event ev;
	int ret = 0, err = 0;

	while (!err && !stopped(rp) && (ret = kt_reader_next(r, &ev)) == 1) {
		rp->main.index = kt_reader_index(r) - 1;
		rp->res->events++;
		if (goes_to_lane(rp, &ev)) {
			err = rp_lanes_push(rp->lanes, &ev, rp->main.index);
			continue;
		}
		if (rp->lanes)
			rp_lanes_drain(rp->lanes);
		err = replay_event(rp, &ev);
	}
	if (rp->lanes) {
		int lane_err = rp_lanes_stop(rp->lanes);

		rp->lanes = NULL;
		err = err ? err : lane_err;
	}
	if (err)
		return err;
	if (stopped(rp) || ret >= 0)
		return 0;
	return kt_fail(ret, "%s: %s after event %" PRIu64, rp->o->trace,
		       kt_reader_strerror(ret), kt_reader_index(r));
}

/* For replay_lanes.c. */
struct lane *rp_lane_new(struct replay *rp)
{
	struct lane *l = calloc(1, sizeof(*l));

	if (l)
		lane_init(l, rp);
	return l;
}

void rp_lane_free(struct lane *l)
{
	lane_free(l);
	free(l);
}

void rp_lane_set_index(struct lane *l, uint64_t index)
{
	l->index = index;
}

bool rp_stopped(struct replay *rp)
{
	return stopped(rp);
}

int kt_replay(const struct kt_replay_opts *o, struct kt_replay_result *res)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct kt_reader *r;
	int err = 0, ret;

	memset(res, 0, sizeof(*res));
	if (!rp)
		return kt_fail(-ENOMEM, "out of memory");
	rp->o = o;
	rp->res = res;
	if (!(r = kt_reader_open(o->trace, &err))) {
		free(rp);
		return kt_fail(err, "%s: %s", o->trace, kt_reader_strerror(err));
	}
	lane_init(&rp->main, rp);
	pthread_mutex_init(&rp->lock, NULL);
	install_watchdog();
	ret = rp_vm_open(&rp->vm, o->kvm_path);
	if (!ret)
		ret = compare_environment(rp, r);
	if (!ret && o->output)
		ret = start_output(rp, r);
	if (!ret)
		ret = run_events(rp, r);
	if (rp->out)
		finish_output(rp);
	rp_vm_close(&rp->vm);
	lane_free(&rp->main);
	pthread_mutex_destroy(&rp->lock);
	kt_reader_close(r);
	free(rp);
	return ret;
}
