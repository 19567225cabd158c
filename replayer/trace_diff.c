#include "replayer/trace_diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "recorder/decode.h"
#include "recorder/kvm_names.h"
#include "recorder/run_bytes.h"
#include "recorder/trace_reader.h"
#include "replayer/align.h"
#include "replayer/field_diff.h"

/* An event kept while the aligner needs it: its raw record, decoded only
 * when it has to be (most aligned pairs are byte-identical). */
struct item {
	uint64_t index;
	uint8_t type;
	uint16_t vcpu;
	uint32_t len;
	uint8_t body[];
};

struct side {
	struct kt_reader *r;
	const char *path;
	struct kt_sink sink;
	int error;
};

struct differ {
	const struct kt_diff_opts *o;
	struct kt_diff_result *res;
	struct item *cur_old, *cur_new;
	struct kt_sink a, b;
	bool event_changed;
	bool skip_clocks;  /* the ioctl clocks are ignored: compare around them */
	char context[64];
};

static struct kt_event item_event(const struct item *it)
{
	return kt_event_view(it->type, it->vcpu, it->body, it->len);
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
	const char *name;

	if (ev->type != KT_REC_IOCTL) {
		snprintf(buf, size, "%s vcpu%u", kt_event_type_name(ev->type), ev->vcpu);
		return;
	}
	name = kvm_ioctl_name(ev->ioctl->request);
	if (ev->ioctl->request == KVM_RUN) {
		const char *reason = kvm_exit_reason_name(exit_reason(ev));

		snprintf(buf, size, "vcpu%u ioctl(KVM_RUN) -> %s", ev->vcpu,
			 reason ? reason : "?");
	} else {
		snprintf(buf, size, "vcpu%u ioctl(%s)", ev->vcpu, name ? name : "?");
		if (ev->ioctl->role != KT_FD_VCPU)
			snprintf(buf, size, "%s ioctl(%s)",
				 ev->ioctl->role == KT_FD_VM ? "vm" : "kvm", name ? name : "?");
	}
}

static const char *item_context(struct differ *d, const struct item *it)
{
	struct kt_event ev = item_event(it);

	describe(&ev, d->context, sizeof(d->context));
	return d->context;
}

static bool raw_equal(const struct differ *d, const struct item *a, const struct item *b)
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
	struct item *it;
	int ret = kt_reader_next(s->r, &ev);

	if (ret <= 0) {
		s->error = ret;
		return ret;
	}
	if (!(it = malloc(sizeof(*it) + ev.len)))
		return -ENOMEM;
	*it = (struct item){ .index = kt_reader_index(s->r) - 1, .type = ev.type,
			     .vcpu = ev.vcpu, .len = ev.len };
	memcpy(it->body, ev.body, ev.len);
	*key = event_key(&ev);
	*item = it;
	return 1;
}

static void side_release(void *ctx, void *item)
{
	(void)ctx;
	free(item);
}

static size_t flat_fields(struct kt_sink *s, const struct item *it, struct kt_field **out)
{
	struct kt_event ev = item_event(it);
	size_t n;

	kt_sink_reset(s);
	decode_event(s, &ev);
	n = kt_sink_nfields(s);
	*out = malloc((n + 1) * sizeof(**out));
	return *out ? kt_sink_fields(s, *out, n) : 0;
}

static void field_report(void *ctx, const char *path, const char *a, const char *b)
{
	struct differ *d = ctx;
	struct kt_diff_item di = {
		.kind = KT_DIFF_FIELD, .old_index = d->cur_old->index,
		.new_index = d->cur_new->index, .context = item_context(d, d->cur_old),
		.path = path, .old_value = a, .new_value = b,
	};

	d->res->changed_fields++;
	d->event_changed = true;
	d->o->report(d->o->ctx, &di);
}

static void compare_pair(struct differ *d, struct item *oi, struct item *ni)
{
	struct kt_field *fa, *fb;
	size_t na, nb;

	if (raw_equal(d, oi, ni))
		return;
	d->cur_old = oi;
	d->cur_new = ni;
	d->event_changed = false;
	na = flat_fields(&d->a, oi, &fa);
	nb = flat_fields(&d->b, ni, &fb);
	if (fa && fb)
		kt_field_diff(fa, na, fb, nb, d->o->ignore, d->o->only, field_report, d);
	free(fa);
	free(fb);
	d->res->changed_events += d->event_changed;
}

static int on_op(void *ctx, enum kt_align_op op, void *a, void *b, uint64_t ai, uint64_t bi)
{
	struct differ *d = ctx;
	struct kt_diff_item di = { .old_index = ai, .new_index = bi };

	if (op == KT_ALIGN_EQUAL) {
		compare_pair(d, a, b);
		return 0;
	}
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
	d->res->header_fields++;
	d->o->report(d->o->ctx, &di);
}

static void diff_headers(struct differ *d, struct side *a, struct side *b)
{
	size_t la, lb;
	const uint8_t *ha = kt_reader_header(a->r, &la), *hb = kt_reader_header(b->r, &lb);
	struct kt_field *fa, *fb;
	size_t na, nb;

	kt_sink_reset(&a->sink);
	kt_sink_reset(&b->sink);
	decode_header(&a->sink, ha, la);
	decode_header(&b->sink, hb, lb);
	na = kt_sink_nfields(&a->sink);
	nb = kt_sink_nfields(&b->sink);
	fa = malloc((na + 1) * sizeof(*fa));
	fb = malloc((nb + 1) * sizeof(*fb));
	if (fa && fb) {
		kt_sink_fields(&a->sink, fa, na);
		kt_sink_fields(&b->sink, fb, nb);
		kt_field_diff(fa, na, fb, nb, NULL, NULL, header_report, d);
	}
	free(fa);
	free(fb);
}

static int open_side(struct side *s, const char *path)
{
	int err = 0;

	s->path = path;
	kt_sink_flat(&s->sink);
	s->r = kt_reader_open(path, &err);
	return s->r ? 0 : kt_fail(err, "%s: %s", path, kt_reader_strerror(err));
}

static void close_side(struct side *s)
{
	kt_reader_close(s->r);
	kt_sink_free(&s->sink);
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
	if ((ret = open_side(&a, o->old_path)) || (ret = open_side(&b, o->new_path)))
		goto out;
	diff_headers(&d, &a, &b);
	ret = kt_align(&sa, &sb, &ao, on_op, &d);
	res->old_events = kt_reader_index(a.r);
	res->new_events = kt_reader_index(b.r);
	if (ret < 0) {
		struct side *bad = a.error < 0 ? &a : &b;

		ret = kt_fail(ret, "%s: %s after event %" PRIu64, bad->path,
			      kt_reader_strerror(ret), kt_reader_index(bad->r));
	}
out:
	if (a.r)
		close_side(&a);
	if (b.r)
		close_side(&b);
	kt_sink_free(&d.a);
	kt_sink_free(&d.b);
	return ret;
}
