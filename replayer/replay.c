#include "replayer/replay.h"

#include <errno.h>
#include <inttypes.h>
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
#include "recorder/trace_header.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"
#include "replayer/field_diff.h"
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

struct replay {
	const struct kt_replay_opts *o;
	struct kt_replay_result *res;
	struct rp_vm vm;
	struct kt_sink rec, rep;
	struct kt_snapshot_body snap[GUEST_MAX_VCPUS];
	bool have_snap[GUEST_MAX_VCPUS];
	uint64_t index;
	char context[64];
	struct kt_recorder *out;
};

struct report_ctx {
	struct replay *rp;
	bool env;
};

static void report(void *ctx, const char *path, const char *recorded, const char *replayed)
{
	struct report_ctx *c = ctx;
	struct replay *rp = c->rp;
	struct kt_divergence d = {
		.event = rp->index, .context = c->env ? "environment" : rp->context,
		.path = path, .recorded = recorded, .replayed = replayed,
	};

	if (c->env)
		rp->res->env_differences++;
	else
		rp->res->divergences++;
	rp->o->report(rp->o->ctx, &d, c->env);
}

static void compare_sinks(struct replay *rp, const struct kt_pathset *only, bool env)
{
	size_t na = kt_sink_nfields(&rp->rec), nb = kt_sink_nfields(&rp->rep);
	struct kt_field *a = malloc((na + 1) * sizeof(*a)), *b = malloc((nb + 1) * sizeof(*b));
	struct report_ctx c = { rp, env };

	if (a && b) {
		kt_sink_fields(&rp->rec, a, na);
		kt_sink_fields(&rp->rep, b, nb);
		kt_field_diff(a, na, b, nb, rp->o->ignore, only, report, &c);
	}
	free(a);
	free(b);
}

/* ---- environment ---- */
static int put_tlv(void *ctx, uint16_t tag, const void *data, uint32_t len)
{
	return kt_tlv_put(ctx, tag, data, len);
}

static int compare_environment(struct replay *rp, struct kt_reader *r)
{
	struct kt_buf here = { 0 };
	struct kt_pathset *only = kt_pathset_new();
	size_t len;
	const uint8_t *hdr = kt_reader_header(r, &len);
	int ret = kt_probe_host(rp->o->kvm_path, put_tlv, &here);

	for (unsigned i = 0; only && env_fields[i]; i++)
		kt_pathset_add(only, env_fields[i]);
	if (!ret && only) {
		kt_sink_reset(&rp->rec);
		kt_sink_reset(&rp->rep);
		decode_header(&rp->rec, hdr, len);
		decode_header(&rp->rep, here.data, here.len);
		compare_sinks(rp, only, true);
	}
	kt_pathset_free(only);
	kt_buf_free(&here);
	return ret;
}

/* ---- the watchdog ---- */
static void on_alarm(int sig)
{
	(void)sig;
}

static void arm_watchdog(bool on)
{
	struct itimerval t = { .it_value = { .tv_sec = on ? RUN_WATCHDOG_US / 1000000 : 0,
					     .tv_usec = on ? RUN_WATCHDOG_US % 1000000 : 0 } };

	setitimer(ITIMER_REAL, &t, NULL);
}

static void install_watchdog(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;  /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

/* ---- events ---- */
static uint32_t exit_reason_of(const uint8_t *out, uint32_t len)
{
	uint32_t reason = UINT32_MAX;

	if (len >= sizeof(struct kt_run_out))
		memcpy(&reason, out + offsetof(struct kvm_run, exit_reason), sizeof(reason));
	return reason;
}

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

static void check_exit_reason(struct replay *rp, const struct kt_event *ev,
			      const struct rp_result *res)
{
	uint32_t was = exit_reason_of(ev->out, ev->ioctl->out_len);
	uint32_t now = res->ret < 0 ? UINT32_MAX : exit_reason_of(res->out, res->out_len);
	const char *a = kvm_exit_reason_name(was), *b = kvm_exit_reason_name(now);

	if (ev->ioctl->ret < 0 || was == now)
		return;
	rp->res->stopped = true;
	snprintf(rp->res->stop_reason, sizeof(rp->res->stop_reason),
		 "event %" PRIu64 ": vCPU %u exited with %s where the recording has %s; "
		 "the exit sequences no longer line up", rp->index, ev->vcpu,
		 res->ret < 0 ? strerror(res->err) : b ? b : "UNKNOWN", a ? a : "UNKNOWN");
}

static bool same_result(const struct kt_event *ev, const struct kt_ioctl_body *mine,
			const uint8_t *out)
{
	const struct kt_ioctl_body *b = ev->ioctl;

	return b->ret == mine->ret && b->err == mine->err && b->out_len == mine->out_len &&
	       (!b->out_len || memcmp(ev->out, out, b->out_len) == 0);
}

static void compare_events(struct replay *rp, const struct kt_event *recorded,
			   const struct kt_event *replayed)
{
	kt_sink_reset(&rp->rec);
	kt_sink_reset(&rp->rep);
	decode_event(&rp->rec, recorded);
	decode_event(&rp->rep, replayed);
	compare_sinks(rp, NULL, false);
}

static int replay_ioctl(struct replay *rp, const struct kt_event *ev)
{
	struct rp_call c = { .vcpu = ev->vcpu, .b = ev->ioctl, .in = ev->in, .out = ev->out };
	struct kt_ioctl_body body = *ev->ioctl;
	struct kt_event mine = *ev;
	struct rp_result res;
	const char *name = kvm_ioctl_name(ev->ioctl->request);
	bool run = ev->ioctl->request == KVM_RUN;
	int ret;

	if (ev->ioctl->role == KT_FD_VCPU)
		snprintf(rp->context, sizeof(rp->context), "vcpu%u %s", ev->vcpu,
			 name ? name : "ioctl");
	else
		snprintf(rp->context, sizeof(rp->context), "%s %s",
			 ev->ioctl->role == KT_FD_VM ? "vm" : "kvm", name ? name : "ioctl");
	if (run)
		arm_watchdog(true);
	ret = rp_vm_call(&rp->vm, &c, &res);
	if (run)
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
		compare_events(rp, ev, &mine);
	if (run) {
		keep_snapshot(rp, ev->vcpu, &res);
		check_exit_reason(rp, ev, &res);
	}
	return 0;
}

static void replay_snapshot(struct replay *rp, const struct kt_event *ev)
{
	const struct kt_snapshot_body *s = (const void *)ev->body;
	struct kt_event mine = *ev;

	/* Snapshots taken by GET_REGS/GET_SREGS were compared as those ioctls. */
	if (ev->len < sizeof(*s) || s->source != KT_SNAP_SYNC_REGS ||
	    ev->vcpu >= GUEST_MAX_VCPUS)
		return;
	snprintf(rp->context, sizeof(rp->context), "vcpu%u snapshot", ev->vcpu);
	if (!rp->have_snap[ev->vcpu]) {
		struct report_ctx c = { rp, false };

		report(&c, "snapshot", "present", NULL);
		return;
	}
	mine.body = (const uint8_t *)&rp->snap[ev->vcpu];
	if (memcmp(ev->body, mine.body, sizeof(*s)) != 0)
		compare_events(rp, ev, &mine);
}

static void replay_digest(struct replay *rp, const struct kt_event *ev)
{
	struct kt_digest_body d;
	struct report_ctx c = { rp, false };

	if (ev->len < sizeof(d))
		return;
	memcpy(&d, ev->body, sizeof(d));
	snprintf(rp->context, sizeof(rp->context), "memory digest, slot %u", d.slot);
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
			report(&c, path, a, page ? b : NULL);
	}
}

static int replay_event(struct replay *rp, const struct kt_event *ev)
{
	switch (ev->type) {
	case KT_REC_IOCTL:
		return replay_ioctl(rp, ev);
	case KT_REC_SNAPSHOT:
		replay_snapshot(rp, ev);
		return 0;
	case KT_REC_MEMWRITE:
		return ev->len < 8 ? kt_fail(KT_E_CORRUPT, "memory write record too short") :
			rp_vm_mem_write(&rp->vm, *(const uint64_t *)ev->body, ev->body + 8,
					ev->len - 8);
	case KT_REC_DIGEST:
		replay_digest(rp, ev);
		return 0;
	default:
		return 0;
	}
}

static int run_events(struct replay *rp, struct kt_reader *r)
{
	struct kt_event ev;
	int ret;

	while (!rp->res->stopped && (ret = kt_reader_next(r, &ev)) == 1) {
		rp->index = kt_reader_index(r) - 1;
		rp->res->events++;
		if ((ret = replay_event(rp, &ev)))
			return ret;
	}
	if (rp->res->stopped)
		return 0;
	return ret < 0 ? kt_fail(ret, "%s: %s after event %" PRIu64, rp->o->trace,
				 kt_reader_strerror(ret), kt_reader_index(r)) : 0;
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
	kt_sink_flat(&rp->rec);
	kt_sink_flat(&rp->rep);
	install_watchdog();
	ret = rp_vm_open(&rp->vm, o->kvm_path);
	if (!ret)
		ret = compare_environment(rp, r);
	if (!ret)
		ret = run_events(rp, r);
	rp_vm_close(&rp->vm);
	kt_sink_free(&rp->rec);
	kt_sink_free(&rp->rep);
	kt_reader_close(r);
	free(rp);
	return ret;
}
