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

/* What diff keeps of an event while the aligner needs it: where it lies,
 * its hash (trace/event.h), and what names it or keys its alignment; never
 * its body.  So memory is bounded by the window, whatever the trace, and an
 * aligned pair whose hashes agree is equal without a byte compared.  The
 * two events of a pair that differ are read again, at their positions, by
 * a second reader of each trace (its "explainer"), and only then decoded. */
struct item {
	uint64_t index;
	struct kt_pos pos;
	uint64_t hash;
	uint64_t t_start, dur;   /* IOCTL clocks: not in the hash */
	uint32_t len, request, reason;
	uint16_t vcpu;
	uint8_t type, role;
};

struct side {
	struct kt_reader *r;
	struct kt_reader *explain;  /* a clone of r, made when first needed */
	const char *path;
	int error;
	struct item *ring;          /* the items alive, first in first out */
	size_t cap, head, count;
	struct kt_kexit_diff *kexits;  /* takes the KEXIT records */
	int which;                     /* 0 old, 1 new */
};

struct differ {
	const struct kt_diff_opts *o;
	struct kt_diff_result *res;
	struct side *a, *b;
	struct item *cur_old, *cur_new;
	const struct kt_event *ev_old;  /* cur_old read again, for field reports */
	struct kt_sink sa, sb;
	bool event_changed;
	bool env;          /* the pair compared restates the host */
	bool skip_clocks;  /* the ioctl clocks are ignored: compare around them */
	struct kt_env_seen env_seen;
	char context[64];
	struct kt_kexit_diff *kexits;
	uint64_t kexit_event[2];  /* the events of the last kernel-exit difference */
};

static uint32_t exit_reason(const struct kt_event *ev)
{
	return ev->ioctl->request == KVM_RUN ?
		kt_run_out_reason(ev->out, ev->ioctl->out_len) : 0;
}

/* What must match for two events to align: kind, vCPU, request, exit
 * reason and, for IO, the port and direction. */
static uint64_t event_key(const struct kt_event *ev, uint32_t reason)
{
	uint64_t k = (uint64_t)ev->type << 56 | (uint64_t)ev->vcpu << 40;

	if (ev->type == KT_REC_IOCTL) {
		k ^= (uint64_t)ev->ioctl->request * 0x9e3779b97f4a7c15ull ^ reason;
		if (reason == KVM_EXIT_IO) {
			struct kvm_run run;

			memcpy(&run, ev->out, sizeof(struct kt_run_out));
			k ^= (uint64_t)run.io.port << 8 ^ (uint64_t)run.io.direction << 24;
		}
	}
	return k;
}

/* "vcpu0 ioctl(KVM_RUN) -> IO", "snapshot vcpu0": from the item alone. */
static const char *item_context(struct differ *d, const struct item *it)
{
	const char *name, *reason;
	char fd[KT_FD_NAME_MAX];

	if (it->type != KT_REC_IOCTL) {
		snprintf(d->context, sizeof(d->context), "%s vcpu%u",
			 kt_event_type_name(it->type), it->vcpu);
		return d->context;
	}
	name = kvm_ioctl_name(it->request);
	kt_fd_name(fd, it->role, it->vcpu);
	if (it->request != KVM_RUN) {
		snprintf(d->context, sizeof(d->context), "%s ioctl(%s)", fd, name ? name : "?");
		return d->context;
	}
	reason = kvm_exit_reason_name(it->reason);
	snprintf(d->context, sizeof(d->context), "%s ioctl(KVM_RUN) -> %s", fd,
		 reason ? reason : "?");
	return d->context;
}

static struct item *ring_push(struct side *s)
{
	struct item *it = &s->ring[(s->head + s->count) % s->cap];

	s->count++;
	return it;
}

static int side_next(void *ctx, uint64_t *key, void **out)
{
	struct side *s = ctx;
	struct kt_event ev;
	struct item *it;
	int ret;

	/* In-kernel exits are compared with their KVM_RUN, not aligned. */
	while ((ret = kt_reader_next(s->r, &ev)) == 1 &&
	       kt_kexit_diff_take(s->kexits, s->which, &ev, kt_reader_index(s->r) - 1))
		;
	if (ret <= 0) {
		s->error = ret;
		return ret;
	}
	if (s->count == s->cap)
		return -ENOMEM;  /* never: the aligner holds at most its window */
	it = ring_push(s);
	*it = (struct item){ .index = kt_reader_index(s->r) - 1, .pos = kt_reader_pos(s->r),
			     .hash = ev.hash, .len = ev.len, .vcpu = ev.vcpu, .type = ev.type };
	if (ev.type == KT_REC_IOCTL) {
		it->request = ev.ioctl->request;
		it->role = ev.ioctl->role;
		it->reason = exit_reason(&ev);
		it->t_start = ev.ioctl->t_start_ns;
		it->dur = ev.ioctl->dur_ns;
	}
	*key = event_key(&ev, it->reason);
	*out = it;
	return 1;
}

static void side_release(void *ctx, void *item)
{
	struct side *s = ctx;

	(void)item;  /* the aligner gives items back in the order it took them */
	s->head = (s->head + 1) % s->cap;
	s->count--;
}

/* The event of an item, read again by the side's explainer. */
static int explain(struct side *s, const struct item *it, struct kt_event *ev)
{
	int ret;

	if (!s->explain && !(s->explain = kt_reader_clone(s->r)))
		return kt_fail(-ENOMEM, "out of memory");
	ret = kt_reader_goto(s->explain, &it->pos, ev);
	if (ret == 1)
		return 0;
	return kt_fail(ret < 0 ? ret : KT_E_CORRUPT, "%s: %s reading event %" PRIu64 " again",
		       s->path, kt_reader_strerror(ret < 0 ? ret : KT_E_CORRUPT), it->index);
}

static void field_report(void *ctx, const char *path, const char *a, const char *b)
{
	struct differ *d = ctx;
	char buf[96];
	struct kt_diff_item di = {
		.kind = d->env ? KT_DIFF_ENV : KT_DIFF_FIELD, .old_index = d->cur_old->index,
		.new_index = d->cur_new->index, .context = item_context(d, d->cur_old),
		.path = d->env ? kt_env_path(d->ev_old, path, buf, sizeof(buf)) : path,
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
static enum kt_env_kind pair_env(const struct item *it)
{
	return it->type == KT_REC_IOCTL ? kt_env_request(it->request, it->role) : KT_ENV_NO;
}

static bool same(const struct differ *d, const struct item *a, const struct item *b)
{
	if (a->type != b->type || a->vcpu != b->vcpu || a->len != b->len || a->hash != b->hash)
		return false;
	return a->type != KT_REC_IOCTL || d->skip_clocks ||
	       (a->t_start == b->t_start && a->dur == b->dur);
}

static int compare_pair(struct differ *d, struct item *oi, struct item *ni)
{
	struct kt_event eo, en;
	enum kt_env_kind env;
	int ret;

	if (same(d, oi, ni) || (env = pair_env(oi)) == KT_ENV_IN_HEADER)
		return 0;
	if ((ret = explain(d->a, oi, &eo)) || (ret = explain(d->b, ni, &en)))
		return ret;
	d->cur_old = oi;
	d->cur_new = ni;
	d->ev_old = &eo;
	d->event_changed = false;
	d->env = env == KT_ENV_YES;
	kt_sink_reset(&d->sa);
	kt_sink_reset(&d->sb);
	decode_event(&d->sa, &eo);
	decode_event(&d->sb, &en);
	ret = kt_sink_diff(&d->sa, &d->sb, d->o->ignore, d->o->only, field_report, d, NULL);
	d->res->changed_events += d->event_changed;
	return ret;
}

static int on_op(void *ctx, enum kt_align_op op, void *a, void *b, uint64_t ai, uint64_t bi)
{
	struct differ *d = ctx;
	struct kt_diff_item di = { .old_index = ai, .new_index = bi };

	kt_kexit_diff_op(d->kexits, a ? ((struct item *)a)->index : KT_KEXIT_NO_EVENT,
			 b ? ((struct item *)b)->index : KT_KEXIT_NO_EVENT);
	if (op == KT_ALIGN_EQUAL)
		return compare_pair(d, a, b);
	di.kind = op == KT_ALIGN_DELETE ? KT_DIFF_DELETED : KT_DIFF_INSERTED;
	di.context = item_context(d, op == KT_ALIGN_DELETE ? a : b);
	if (op == KT_ALIGN_DELETE) {
		di.old_index = ((struct item *)a)->index;
		d->res->deleted++;
	} else {
		di.new_index = ((struct item *)b)->index;
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

	kt_sink_reset(&d->sa);
	kt_sink_reset(&d->sb);
	decode_header(&d->sa, ha, la);
	decode_header(&d->sb, hb, lb);
	return kt_sink_diff(&d->sa, &d->sb, NULL, NULL, header_report, d, NULL);
}

#define WINDOW 4096

/* fd >= 0: the trace is open already (and the reader owns fd from here). */
static int open_side(struct side *s, const char *path, int fd)
{
	int err = 0;

	s->path = path;
	s->r = fd >= 0 ? kt_reader_open_fd(fd, &err) : kt_reader_open(path, &err);
	if (!s->r && fd < 0 && (err == -EINVAL || err == -EISDIR))
		return err;  /* not a regular file: the message names it already */
	if (!s->r)
		return kt_fail(err, "%s: %s", path, kt_reader_strerror(err));
	s->cap = WINDOW + 4;
	if (!(s->ring = calloc(s->cap, sizeof(*s->ring))))
		return kt_fail(-ENOMEM, "out of memory");
	kt_reader_want_hashes(s->r);
	return 0;
}

static void close_side(struct side *s)
{
	kt_reader_close(s->explain);
	kt_reader_close(s->r);
	free(s->ring);
}

int kt_trace_diff(const struct kt_diff_opts *o, struct kt_diff_result *res)
{
	struct side a = { 0 }, b = { 0 };
	struct differ d = { .o = o, .res = res, .a = &a, .b = &b };
	struct kt_align_src sa = { side_next, side_release, &a };
	struct kt_align_src sb = { side_next, side_release, &b };
	struct kt_align_opts ao = { .window = WINDOW, .max_d = 256 };
	int ret;

	memset(res, 0, sizeof(*res));
	kt_sink_flat(&d.sa);
	kt_sink_flat(&d.sb);
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
		ret = kt_fail(-ENOMEM, "out of memory comparing in-kernel exits");
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
	if (ret < 0 && (a.error < 0 || b.error < 0)) {
		struct side *bad = a.error < 0 ? &a : &b;

		ret = kt_fail(ret, "%s: %s after event %" PRIu64, bad->path,
			      kt_reader_strerror(ret), kt_reader_index(bad->r));
	}
out:
	close_side(&a);
	close_side(&b);
	kt_kexit_diff_free(d.kexits);
	kt_env_seen_free(&d.env_seen);
	kt_sink_free(&d.sa);
	kt_sink_free(&d.sb);
	return ret;
}
