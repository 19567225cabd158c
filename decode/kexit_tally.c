/* Counting in-kernel exits by reason (show --stats, kexits.count.* of
 * diff and replay) and timing each kvm_exit until its vCPU's next
 * kvm_entry, as perf kvm stat does. */
#include "decode/decode_util.h"

#include <errno.h>
#include <stdio.h>

#include "decode/kexit.h"
#include "kexits/kx_layout.h"
#include "trace/trace_header.h"

struct pending_exit {
	int row;          /* -1: none */
	uint64_t ts_ns;
	bool host;       /* the last exit was host-caused */
};

static int row_of(struct kt_kexit_tally *t, const char *name, uint8_t kind)
{
	size_t n = kt_buf_count(&t->rows, struct kt_kexit_row);
	struct kt_kexit_row r = { .kind = kind };

	/* Runs of the same reason are the common case: look at the last first. */
	for (size_t i = n; i-- > 0;)
		if (!strcmp(kt_buf_at(&t->rows, struct kt_kexit_row, i).name, name))
			return (int)i;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return kt_buf_put(&t->rows, &r, sizeof(r)) ? -1 : (int)n;
}

static struct pending_exit *pending(struct kt_kexit_tally *t, uint16_t vcpu)
{
	size_t have = kt_buf_count(&t->pending, struct pending_exit);

	while (have <= vcpu) {
		struct pending_exit none = { .row = -1 };

		if (kt_buf_put(&t->pending, &none, sizeof(none)))
			return NULL;
		have++;
	}
	return &kt_buf_at(&t->pending, struct pending_exit, vcpu);
}

void kt_kexit_tally_add(struct kt_kexit_tally *t, uint16_t vcpu, const void *body)
{
	struct kt_kexit_body b;
	struct pending_exit *p;
	char name[48];
	int row;

	memcpy(&b, body, sizeof(b));
	t->events++;
	if (b.kind < KT_KEXIT_KINDS_MAX)
		t->kinds[b.kind]++;
	row = row_of(t, kt_kexit_reason(body, name, sizeof(name)), b.kind);
	if (row >= 0)
		kt_buf_at(&t->rows, struct kt_kexit_row, row).count++;
	if (!(p = pending(t, vcpu)))
		return;
	if (kt_kexit_host(body)) {
		if (row >= 0)
			kt_buf_at(&t->rows, struct kt_kexit_row, row).host = true;
		if (b.kind == KX_INJ_EXCEPTION)
			t->host_injections++;
	}
	if (b.kind == KX_EXIT) {
		bool host = kt_kexit_host(body);

		*p = (struct pending_exit){ .row = row, .ts_ns = b.ts_ns, .host = host };
		t->host_exits += host;
		return;
	}
	if (b.kind == KX_ENTRY && p->host) {
		t->host_entries++;
		p->host = false;
	}
	if (b.kind == KX_ENTRY && p->row >= 0) {
		struct kt_kexit_row *r = &kt_buf_at(&t->rows, struct kt_kexit_row, p->row);

		r->timed++;
		r->ns += b.ts_ns >= p->ts_ns ? b.ts_ns - p->ts_ns : 0;
		p->row = -1;
	}
}

void kt_kexit_tally_run(struct kt_kexit_tally *t, uint16_t vcpu)
{
	struct pending_exit *p = pending(t, vcpu);

	if (p)
		p->host = false;
}

void kt_kexit_tally_lost(struct kt_kexit_tally *t, uint64_t count)
{
	t->lost += count;
}

int kt_kexit_tally_merge(struct kt_kexit_tally *dst, const struct kt_kexit_tally *src)
{
	for (size_t i = 0; i < kt_buf_count(&src->rows, struct kt_kexit_row); i++) {
		const struct kt_kexit_row *s = &kt_buf_at(&src->rows, struct kt_kexit_row, i);
		int row = row_of(dst, s->name, s->kind);
		struct kt_kexit_row *d;

		if (row < 0)
			return -ENOMEM;
		d = &kt_buf_at(&dst->rows, struct kt_kexit_row, row);
		d->count += s->count;
		d->timed += s->timed;
		d->ns += s->ns;
		d->host |= s->host;
	}
	for (unsigned k = 0; k < KT_KEXIT_KINDS_MAX; k++)
		dst->kinds[k] += src->kinds[k];
	dst->events += src->events;
	dst->lost += src->lost;
	dst->host_exits += src->host_exits;
	dst->host_entries += src->host_entries;
	dst->host_injections += src->host_injections;
	return 0;
}

void kt_kexit_tally_free(struct kt_kexit_tally *t)
{
	kt_buf_free(&t->rows);
	kt_buf_free(&t->pending);
	memset(t, 0, sizeof(*t));
}

void kt_kexit_tally_emit(struct kt_sink *s, const struct kt_kexit_tally *t,
			 const struct kt_kexits_hdr *h)
{
	if (!h || h->state != KT_KEXITS_ON)
		return;
	size_t n = kt_buf_count(&t->rows, struct kt_kexit_row);

	s->ops->begin(s, "kexits");
	s->ops->begin(s, "count");
	for (unsigned k = 0; k < KX_KINDS; k++)
		if (h->attached >> k & 1)
			kt_dec(s, kx_kind_name(k), t->kinds[k] -
			       (k == KX_EXIT ? t->host_exits : k == KX_ENTRY ? t->host_entries :
				k == KX_INJ_EXCEPTION ? t->host_injections : 0));
	for (size_t i = 0; i < n; i++) {
		const struct kt_kexit_row *r = &kt_buf_at(&t->rows, struct kt_kexit_row, i);

		if (!r->host && strcmp(r->name, kx_kind_name(r->kind)))
			kt_dec(s, r->name, r->count);
	}
	kt_dec(s, "lost", t->lost);
	s->ops->end(s);
	s->ops->begin(s, "host");
	for (size_t i = 0; i < n; i++) {
		const struct kt_kexit_row *r = &kt_buf_at(&t->rows, struct kt_kexit_row, i);

		if (r->host)
			kt_dec(s, r->name, r->count);
	}
	kt_dec(s, "entry", t->host_entries);
	s->ops->end(s);
	s->ops->end(s);
}

int kt_kexits_hdr_of(const struct kt_header *hdr, struct kt_kexits_hdr *h)
{
	uint32_t len;
	const void *p = kt_header_find(hdr, KT_HDR_KEXITS, &len);

	memset(h, 0, sizeof(*h));
	if (!p)
		return -ENOENT;
	/* a newer minor may make it longer; an older one never shorter */
	memcpy(h, p, len < sizeof(*h) ? len : sizeof(*h));
	return 0;
}
