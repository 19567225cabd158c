#include "replayer/trace_diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"
#include "recorder/decode.h"
#include "recorder/kvm_names.h"
#include "recorder/trace_reader.h"
#include "replayer/align.h"
#include "replayer/field_diff.h"

/* An event kept while the aligner needs it: decoded once into flat fields. */
struct item {
	uint64_t index;
	char context[64];
	struct kt_field *fields;
	size_t nfields;
	char *pool;
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
	bool event_changed;
};

static uint32_t exit_reason(const struct kt_event *ev)
{
	uint32_t reason = 0;

	if (ev->ioctl->request == KVM_RUN && ev->ioctl->out_len >= sizeof(struct kt_run_out))
		memcpy(&reason, ev->out + offsetof(struct kvm_run, exit_reason), sizeof(reason));
	return reason;
}

/* What must match for two events to align: kind, vCPU, request, exit. */
static uint64_t event_key(const struct kt_event *ev)
{
	uint64_t k = (uint64_t)ev->type << 56 | (uint64_t)ev->vcpu << 40;

	if (ev->type == KT_REC_IOCTL)
		k ^= (uint64_t)ev->ioctl->request * 0x9e3779b97f4a7c15ull ^ exit_reason(ev);
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

/* Copy the sink's fields out: the item outlives the reader's buffers. */
static struct item *make_item(struct side *s, const struct kt_event *ev, uint64_t index)
{
	struct item *it = calloc(1, sizeof(*it));
	size_t n;

	if (!it)
		return NULL;
	kt_sink_reset(&s->sink);
	decode_event(&s->sink, ev);
	n = kt_sink_nfields(&s->sink);
	it->index = index;
	describe(ev, it->context, sizeof(it->context));
	it->fields = malloc((n + 1) * sizeof(*it->fields));
	it->pool = malloc(s->sink.pool.len + 1);
	if (!it->fields || !it->pool) {
		free(it->fields);
		free(it->pool);
		free(it);
		return NULL;
	}
	memcpy(it->pool, s->sink.pool.data, s->sink.pool.len);
	kt_sink_fields(&s->sink, it->fields, n);
	for (size_t i = 0; i < n; i++) {  /* rebase onto our copy of the pool */
		it->fields[i].path = it->pool + (it->fields[i].path - (const char *)s->sink.pool.data);
		it->fields[i].value = it->pool + (it->fields[i].value - (const char *)s->sink.pool.data);
	}
	it->nfields = n;
	return it;
}

static void free_item(struct item *it)
{
	if (!it)
		return;
	free(it->fields);
	free(it->pool);
	free(it);
}

static int side_next(void *ctx, uint64_t *key, void **item)
{
	struct side *s = ctx;
	struct kt_event ev;
	int ret = kt_reader_next(s->r, &ev);

	if (ret <= 0) {
		s->error = ret;
		return ret;
	}
	*key = event_key(&ev);
	*item = make_item(s, &ev, kt_reader_index(s->r) - 1);
	return *item ? 1 : -ENOMEM;
}

static void side_release(void *ctx, void *item)
{
	(void)ctx;
	free_item(item);
}

static void field_report(void *ctx, const char *path, const char *a, const char *b)
{
	struct differ *d = ctx;
	struct kt_diff_item di = {
		.kind = KT_DIFF_FIELD, .old_index = d->cur_old->index,
		.new_index = d->cur_new->index, .context = d->cur_old->context,
		.path = path, .old_value = a, .new_value = b,
	};

	d->res->changed_fields++;
	d->event_changed = true;
	d->o->report(d->o->ctx, &di);
}

static int on_op(void *ctx, enum kt_align_op op, void *a, void *b, uint64_t ai, uint64_t bi)
{
	struct differ *d = ctx;
	struct item *oi = a, *ni = b;
	struct kt_diff_item di = { .old_index = ai, .new_index = bi };

	if (op == KT_ALIGN_EQUAL) {
		d->cur_old = oi;
		d->cur_new = ni;
		d->event_changed = false;
		kt_field_diff(oi->fields, oi->nfields, ni->fields, ni->nfields, d->o->ignore,
			      d->o->only, field_report, d);
		d->res->changed_events += d->event_changed;
		return 0;
	}
	di.kind = op == KT_ALIGN_DELETE ? KT_DIFF_DELETED : KT_DIFF_INSERTED;
	di.context = op == KT_ALIGN_DELETE ? oi->context : ni->context;
	if (op == KT_ALIGN_DELETE)
		d->res->deleted++;
	else
		d->res->inserted++;
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
	return ret;
}
