#include "replayer/trace_diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/kvm_names.h"
#include "decode/decode.h"
#include "replayer/align.h"
#include "replayer/environment.h"
#include "replayer/field_diff.h"
#include "replayer/kexit_diff.h"
#include "trace/run_bytes.h"
#include "trace/trace_reader.h"

/* Events are kept as raw records while the aligner needs them (struct
 * kt_event_copy) and decoded only when they have to be: most aligned pairs
 * are byte-identical. */
typedef struct kt_event_copy item_t;

struct side {
	struct kt_reader *r;
	const char *path;
	int error;
	struct kt_kexit_diff *kexits;  /* takes the KEXIT records */
	int which;                     /* 0 old, 1 new */
};

struct differ {
	const struct kt_diff_opts *o;
	struct kt_diff_result *res;
	item_t *cur_old, *cur_new;
	struct kt_sink a, b;
	bool event_changed;
	bool env;          /* the pair compared restates the host */
	bool skip_clocks;  /* the ioctl clocks are ignored: compare around them */
	struct kt_env_seen env_seen;
	char context[64];
	struct kt_kexit_diff *kexits;
	uint64_t kexit_event[2];  /* the events of the last kernel-exit difference */
};

static struct kt_event item_event(const item_t *it)
{
	return kt_event_copy_view(it);
}

static uint32_t exit_reason(const struct kt_event *ev)
{
	return ev->ioctl->request == KVM_RUN ?
		kt_run_out_reason(ev->out, ev->ioctl->out_len) : 0;
}

/* What must match for two events to align: kind, vCPU, request, exit
 * reason and, for IO, the port and direction. */
static uint64_t event_key(const struct kt_event *ev)
{
	uint64_t k = (uint64_t)ev->type << 56 | (uint64_t)ev->vcpu << 40;

	if (ev->type == KT_REC_IOCTL) {
		uint32_t reason = exit_reason(ev);

		k ^= (uint64_t)ev->ioctl->request * 0x9e3779b97f4a7c15ull ^ reason;
		if (reason == KVM_EXIT_IO) {
			struct kvm_run run;

			memcpy(&run, ev->out, sizeof(struct kt_run_out));
			k ^= (uint64_t)run.io.port << 8 ^ (uint64_t)run.io.direction << 24;
		}
	}
	return k;
}

static void describe(const struct kt_event *ev, char *buf, size_t size)
{
	const char *name, *reason;
	char fd[KT_FD_NAME_MAX];

	if (ev->type != KT_REC_IOCTL) {
		snprintf(buf, size, "%s vcpu%u", kt_event_type_name(ev->type), ev->vcpu);
		return;
	}
	name = kvm_ioctl_name(ev->ioctl->request);
	kt_fd_name(fd, ev->ioctl->role, ev->vcpu);
	if (ev->ioctl->request != KVM_RUN) {
		snprintf(buf, size, "%s ioctl(%s)", fd, name ? name : "?");
		return;
	}
	reason = kvm_exit_reason_name(exit_reason(ev));
	snprintf(buf, size, "%s ioctl(KVM_RUN) -> %s", fd, reason ? reason : "?");
}

static const char *item_context(struct differ *d, const item_t *it)
{
	struct kt_event ev = item_event(it);

	describe(&ev, d->context, sizeof(d->context));
	return d->context;
}

static bool raw_equal(const struct differ *d, const item_t *a, const item_t *b)
{
	const size_t clocks = offsetof(struct kt_ioctl_body, t_start_ns);
	const size_t after = offsetof(struct kt_ioctl_body, dur_ns) + 8;

	if (a->type != b->type || a->vcpu != b->vcpu || a->len != b->len)
		return false;
	if (a->type != KT_REC_IOCTL || !d->skip_clocks || a->len < after)
		return memcmp(a->body, b->body, a->len) == 0;
	return memcmp(a->body, b->body, clocks) == 0 &&
	       memcmp(a->body + after, b->body + after, a->len - after) == 0;
}

static int side_next(void *ctx, uint64_t *key, void **item)
{
	struct side *s = ctx;
	struct kt_event ev;
	item_t *it;
	int ret;

	/* In-kernel exits are compared with their KVM_RUN, not aligned. */
	while ((ret = kt_reader_next(s->r, &ev)) == 1 &&
	       kt_kexit_diff_take(s->kexits, s->which, &ev, kt_reader_index(s->r) - 1))
		;
	if (ret <= 0) {
		s->error = ret;
		return ret;
	}
	if (!(it = kt_event_copy(&ev, kt_reader_index(s->r) - 1)))
		return -ENOMEM;
	*key = event_key(&ev);
	*item = it;
	return 1;
}

static void side_release(void *ctx, void *item)
{
	(void)ctx;
	free(item);
}

static void decode_item(struct kt_sink *s, const item_t *it)
{
	struct kt_event ev = item_event(it);

	kt_sink_reset(s);
	decode_event(s, &ev);
}

static void field_report(void *ctx, const char *path, const char *a, const char *b)
{
	struct differ *d = ctx;
	struct kt_event ev = item_event(d->cur_old);
	char buf[96];
	struct kt_diff_item di = {
		.kind = d->env ? KT_DIFF_ENV : KT_DIFF_FIELD, .old_index = d->cur_old->index,
		.new_index = d->cur_new->index, .context = item_context(d, d->cur_old),
		.path = d->env ? kt_env_path(&ev, path, buf, sizeof(buf)) : path,
		.old_value = a, .new_value = b,
	};

	if (d->env) {
		path = di.path;
		if (!kt_env_first(&d->env_seen, path, a, b))
			return;
		d->res->env_fields++;
	} else {
		d->res->changed_fields++;
		d->event_changed = true;
	}
	d->o->report(d->o->ctx, &di);
}

/* The environment rule (replayer/environment.h) for an aligned pair. */
static enum kt_env_kind pair_env(const item_t *it)
{
	struct kt_event ev = item_event(it);

	return ev.type == KT_REC_IOCTL ? kt_env_request(ev.ioctl->request, ev.ioctl->role) :
					 KT_ENV_NO;
}

static int compare_pair(struct differ *d, item_t *oi, item_t *ni)
{
	enum kt_env_kind env;
	int ret;

	if (raw_equal(d, oi, ni) || (env = pair_env(oi)) == KT_ENV_IN_HEADER)
		return 0;
	d->cur_old = oi;
	d->cur_new = ni;
	d->event_changed = false;
	d->env = env == KT_ENV_YES;
	decode_item(&d->a, oi);
	decode_item(&d->b, ni);
	ret = kt_sink_diff(&d->a, &d->b, d->o->ignore, d->o->only, field_report, d, NULL);
	d->res->changed_events += d->event_changed;
	return ret;
}

static int on_op(void *ctx, enum kt_align_op op, void *a, void *b, uint64_t ai, uint64_t bi)
{
	struct differ *d = ctx;
	struct kt_diff_item di = { .old_index = ai, .new_index = bi };

	kt_kexit_diff_op(d->kexits, a ? ((item_t *)a)->index : KT_KEXIT_NO_EVENT,
			 b ? ((item_t *)b)->index : KT_KEXIT_NO_EVENT);
	if (op == KT_ALIGN_EQUAL)
		return compare_pair(d, a, b);
	di.kind = op == KT_ALIGN_DELETE ? KT_DIFF_DELETED : KT_DIFF_INSERTED;
	di.context = item_context(d, op == KT_ALIGN_DELETE ? a : b);
	if (op == KT_ALIGN_DELETE) {
		di.old_index = ((item_t *)a)->index;
		d->res->deleted++;
	} else {
		di.new_index = ((item_t *)b)->index;
		d->res->inserted++;
	}
	d->o->report(d->o->ctx, &di);
	return 0;
}

/* A kernel-exit difference (replayer/kexit_compare.h) is a field of the
 * events it names. */
static void kexit_report(void *ctx, const struct kt_kexit_diff_item *k)
{
	struct differ *d = ctx;
	struct kt_diff_item di = {
		.kind = KT_DIFF_FIELD, .old_index = k->index[0], .new_index = k->index[1],
		.context = k->context, .path = k->path,
		.old_value = k->value[0], .new_value = k->value[1],
	};

	d->res->changed_fields++;
	if (k->index[0] != d->kexit_event[0] || k->index[1] != d->kexit_event[1])
		d->res->changed_events++;
	d->kexit_event[0] = k->index[0];
	d->kexit_event[1] = k->index[1];
	d->o->report(d->o->ctx, &di);
}

static void header_report(void *ctx, const char *path, const char *a, const char *b)
{
	struct differ *d = ctx;
	char full[300];
	struct kt_diff_item di = { .kind = KT_DIFF_HEADER, .path = full,
				   .old_value = a, .new_value = b };

	snprintf(full, sizeof(full), "header.%s", path);
	if (d->o->ignore && kt_pathset_match(d->o->ignore, full))
		return;
	if (d->o->only && !kt_pathset_match(d->o->only, full))
		return;
	if (kt_env_header_field(path)) {
		if (!kt_env_first(&d->env_seen, full, a, b))
			return;
		di.kind = KT_DIFF_ENV;
		d->res->env_fields++;
	} else {
		d->res->header_fields++;
	}
	d->o->report(d->o->ctx, &di);
}

static int diff_headers(struct differ *d, struct side *a, struct side *b)
{
	size_t la, lb;
	const uint8_t *ha = kt_reader_header(a->r, &la), *hb = kt_reader_header(b->r, &lb);

	kt_sink_reset(&d->a);
	kt_sink_reset(&d->b);
	decode_header(&d->a, ha, la);
	decode_header(&d->b, hb, lb);
	return kt_sink_diff(&d->a, &d->b, NULL, NULL, header_report, d, NULL);
}

static int open_side(struct side *s, const char *path, int fd)
{
	int err = 0;

	s->path = path;
	s->r = fd >= 0 ? kt_reader_open_fd(fd, &err) : kt_reader_open(path, &err);
	if (!s->r && fd < 0 && (err == -EINVAL || err == -EISDIR))
		return err;  /* not a regular file: the message names it already */
	return s->r ? 0 : kt_fail(err, "%s: %s", path, kt_reader_strerror(err));
}

int kt_trace_diff(const struct kt_diff_opts *o, struct kt_diff_result *res)
{
	struct side a = { 0 }, b = { 0 };
	struct differ d = { .o = o, .res = res };
	struct kt_align_src sa = { side_next, side_release, &a };
	struct kt_align_src sb = { side_next, side_release, &b };
	struct kt_align_opts ao = { .window = 4096, .max_d = 256 };
	int ret;

	memset(res, 0, sizeof(*res));
	kt_sink_flat(&d.a);
	kt_sink_flat(&d.b);
	d.skip_clocks = kt_pathset_match(o->ignore, "ioctl.t_start_ns") &&
			kt_pathset_match(o->ignore, "ioctl.dur_ns");
	ret = open_side(&a, o->old_path, o->have_fds ? o->old_fd : -1);
	if (o->have_fds && ret)
		close(o->new_fd);
	if (!ret)
		ret = open_side(&b, o->new_path, o->have_fds ? o->new_fd : -1);
	if (ret || (ret = diff_headers(&d, &a, &b)))
		goto out;
	d.kexits = kt_kexit_diff_new(kt_reader_hdr(a.r), kt_reader_hdr(b.r), o->ignore,
				     o->only, kexit_report, &d);
	if (!d.kexits) {
		ret = -ENOMEM;
		goto out;
	}
	a.kexits = b.kexits = d.kexits;
	b.which = 1;
	d.kexit_event[0] = d.kexit_event[1] = KT_KEXIT_NO_EVENT;
	ret = kt_align(&sa, &sb, &ao, on_op, &d);
	res->old_events = kt_reader_index(a.r);
	res->new_events = kt_reader_index(b.r);
	if (ret >= 0)
		kt_kexit_diff_finish(d.kexits, (const uint64_t[2]){ res->old_events - 1,
								    res->new_events - 1 });
	if (ret < 0) {
		struct side *bad = a.error < 0 ? &a : &b;

		ret = kt_fail(ret, "%s: %s after event %" PRIu64, bad->path,
			      kt_reader_strerror(ret), kt_reader_index(bad->r));
	}
out:
	kt_reader_close(a.r);
	kt_reader_close(b.r);
	kt_kexit_diff_free(d.kexits);
	kt_env_seen_free(&d.env_seen);
	kt_sink_free(&d.a);
	kt_sink_free(&d.b);
	return ret;
}
