#include "replayer/kexit_compare.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kexits/kx_abi.h"

#define FNV_PRIME 0x100000001b3ull
#define STEPS_SHOWN 6      /* steps quoted from the first difference on */
#define CONTEXT_COUNTS "kernel exits, whole trace"

/* The capture's own fields: they differ between any two runs. */
static const char *const volatile_paths[] = {
	"kexit.ts_ns", "kexit.seq", "kexit.tid", "kexit.cpu",
};

/* ---- collecting a run ------------------------------------------------ */
void kt_kexit_run_add(struct kt_kexit_run *r, uint64_t index, const void *body,
		      size_t *budget)
{
	struct kt_kexit_item it = { .index = index };
	char step[96];

	memcpy(&it.b, body, sizeof(it.b));
	if (kt_kexit_host(body)) {
		if (it.b.kind == KX_EXIT)
			r->skip_entry = true;  /* and the entry back from it */
		return;
	}
	if (it.b.kind == KX_ENTRY && r->skip_entry) {
		r->skip_entry = false;
		return;
	}
	kt_kexit_step(body, step, sizeof(step), &it.key);
	r->hash = (r->hash ^ it.key) * FNV_PRIME;
	if (r->steps++ >= KT_KEXIT_KEEP || (budget && !*budget))
		return;
	if (kt_buf_put(&r->items, &it, sizeof(it)) == 0 && budget)
		(*budget)--;
}

void kt_kexit_run_lost(struct kt_kexit_run *r, uint64_t count)
{
	r->lost += count;
}

void kt_kexit_run_clear(struct kt_kexit_run *r, size_t *budget)
{
	if (budget)
		*budget += kt_buf_count(&r->items, struct kt_kexit_item);
	kt_buf_free(&r->items);
	*r = (struct kt_kexit_run){ 0 };
}

/* ---- comparing ----------------------------------------------------------- */
void kt_kexit_cmp_init(struct kt_kexit_cmp *c, const struct kt_pathset *ignore,
		       const struct kt_pathset *only, kt_kexit_report report, void *ctx)
{
	*c = (struct kt_kexit_cmp){ .ignore = ignore, .only = only, .report = report,
				    .ctx = ctx, .skip_volatile = true };
	kt_sink_flat(&c->a);
	kt_sink_flat(&c->b);
	for (size_t i = 0; i < sizeof(volatile_paths) / sizeof(volatile_paths[0]); i++)
		c->skip_volatile &= kt_pathset_match(ignore, volatile_paths[i]);
}

void kt_kexit_cmp_free(struct kt_kexit_cmp *c)
{
	kt_sink_free(&c->a);
	kt_sink_free(&c->b);
}

static bool wanted(const struct kt_kexit_cmp *c, const char *path)
{
	return !kt_pathset_match(c->ignore, path) &&
	       (!c->only || kt_pathset_match(c->only, path));
}

static void report(struct kt_kexit_cmp *c, const uint64_t index[2], const char *context,
		   const char *path, const char *a, const char *b)
{
	struct kt_kexit_diff_item d = {
		.index = { index[0], index[1] }, .context = context, .path = path,
		.value = { a, b },
	};

	c->reported++;
	c->report(c->ctx, &d);
}

static const struct kt_kexit_item *item(const struct kt_kexit_run *r, uint64_t i)
{
	return i < kt_buf_count(&r->items, struct kt_kexit_item) ?
		&kt_buf_at(&r->items, struct kt_kexit_item, i) : NULL;
}

/* "12 steps, from step 3: exit(cpuid) cpuid(0x0 0x0) entry ..." */
static void describe_from(const struct kt_kexit_run *r, uint64_t from, char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "%" PRIu64 " steps, from step %" PRIu64 ":",
				       r->steps, from);
	char step[96];

	for (uint64_t i = from; i < from + STEPS_SHOWN && used < len; i++) {
		const struct kt_kexit_item *it = item(r, i);
		const char *s = it ? kt_kexit_step(&it->b, step, sizeof(step), NULL) :
				i < r->steps ? "(not kept)" : "(end)";

		used += (size_t)snprintf(buf + used, len - used, " %s", s);
		if (!it)
			break;
	}
	if (used < len && from + STEPS_SHOWN < r->steps && item(r, from + STEPS_SHOWN))
		snprintf(buf + used, len - used, " ...");
}

static void compare_sequence(struct kt_kexit_cmp *c, const struct kt_kexit_run *a,
			     const struct kt_kexit_run *b, const uint64_t index[2],
			     const char *context)
{
	uint64_t i = 0;
	char va[512], vb[512];

	if (!wanted(c, "kexits.sequence"))
		return;
	for (; item(a, i) && item(b, i) && item(a, i)->key == item(b, i)->key; i++)
		;
	describe_from(a, i, va, sizeof(va));
	describe_from(b, i, vb, sizeof(vb));
	report(c, index, context, "kexits.sequence", va, vb);
}

struct field_ctx {
	struct kt_kexit_cmp *c;
	uint64_t index[2];
	const char *context;
};

static void field_report(void *ctx, const char *path, const char *a, const char *b)
{
	struct field_ctx *f = ctx;

	report(f->c, f->index, f->context, path, a, b);
}

/* A kvm_exit's intr_info and error_code describe an event whose delivery
 * the exit cut short only when intr_info's valid bit (31) is set; without
 * it they are whatever was left there (SVM keeps the last EXITINTINFO's
 * vector), so they are compared as 0. */
#define INTR_INFO_VALID 0x80000000u

static struct kt_kexit_body comparable(const struct kt_kexit_body *b)
{
	struct kt_kexit_body c = *b;
	struct kx_exit x;

	if (c.kind != KX_EXIT)
		return c;
	memcpy(&x, c.data, sizeof(x));
	if (!(x.intr_info & INTR_INFO_VALID)) {
		x.intr_info = 0;
		x.error_code = 0;
		memcpy(c.data, &x, sizeof(x));
	}
	return c;
}

/* The bytes compared without the capture's own fields (and the slot,
 * which no path names). */
static bool same_event(const struct kt_kexit_cmp *c, const struct kt_kexit_body *a,
		       const struct kt_kexit_body *b)
{
	struct kt_kexit_body x = *a, y = *b;

	if (!c->skip_volatile)
		return !memcmp(&x, &y, sizeof(x));
	x.ts_ns = y.ts_ns = 0;
	x.seq = y.seq = 0;
	x.tid = y.tid = 0;
	x.cpu = y.cpu = 0;
	x.slot = y.slot = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static void decode_into(struct kt_sink *s, const struct kt_kexit_body *b)
{
	struct kt_event ev = kt_event_view(KT_REC_KEXIT, (uint16_t)b->vcpu, (const void *)b,
					   sizeof(*b));

	kt_sink_reset(s);
	decode_kexit_event(s, &ev);
}

static void compare_events(struct kt_kexit_cmp *c, const struct kt_kexit_item *a,
			   const struct kt_kexit_item *b, const char *context)
{
	struct field_ctx f = { .c = c, .index = { a->index, b->index }, .context = context };
	struct kt_kexit_body x = comparable(&a->b), y = comparable(&b->b);
	char step[96], where[192];

	if (same_event(c, &x, &y))
		return;
	/* "cpuid(0x0 0x0) in vcpu0 ioctl(KVM_RUN) -> IO" */
	snprintf(where, sizeof(where), "%s in %s", kt_kexit_step(&a->b, step, sizeof(step), NULL),
		 context);
	f.context = where;
	decode_into(&c->a, &x);
	decode_into(&c->b, &y);
	kt_sink_diff(&c->a, &c->b, c->ignore, c->only, field_report, &f, NULL);
}

void kt_kexit_compare_runs(struct kt_kexit_cmp *c, const struct kt_kexit_run *a,
			   const struct kt_kexit_run *b, const uint64_t index[2],
			   const char *context)
{
	if (a->lost || b->lost)
		return;  /* incomplete: the counts (kexits.count.lost) say so */
	if (a->steps != b->steps || a->hash != b->hash) {
		compare_sequence(c, a, b, index, context);
		return;
	}
	for (uint64_t i = 0; item(a, i) && item(b, i); i++)
		compare_events(c, item(a, i), item(b, i), context);
}

void kt_kexit_compare_counts(struct kt_kexit_cmp *c, const struct kt_kexit_tally *ta,
			     const struct kt_kexits_hdr *ha, const struct kt_kexit_tally *tb,
			     const struct kt_kexits_hdr *hb, const uint64_t index[2])
{
	struct field_ctx f = { .c = c, .index = { index[0], index[1] },
			       .context = CONTEXT_COUNTS };

	kt_sink_reset(&c->a);
	kt_sink_reset(&c->b);
	kt_kexit_tally_emit(&c->a, ta, ha);
	kt_kexit_tally_emit(&c->b, tb, hb);
	kt_sink_diff(&c->a, &c->b, c->ignore, c->only, field_report, &f, NULL);
}
