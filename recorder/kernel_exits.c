#include "recorder/kernel_exits.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "harness/guest_abi.h"
#include "kexits/kx.h"
#include "trace/trace_header.h"
#include "trace/trace_writer.h"

/* The trace's record body is kexits' event, field for field: the trace
 * format (trace/) may not include kexits/, so it defines its own struct
 * and this file, which includes both, holds them together. */
#define SAME_FIELD(f) \
	_Static_assert(offsetof(struct kt_kexit_body, f) == offsetof(struct kx_event, f) && \
		       sizeof(((struct kt_kexit_body *)0)->f) == \
		       sizeof(((struct kx_event *)0)->f), "kt_kexit_body." #f " is kx_event's")
SAME_FIELD(ts_ns);
SAME_FIELD(seq);
SAME_FIELD(tid);
SAME_FIELD(vcpu);
SAME_FIELD(cpu);
SAME_FIELD(kind);
SAME_FIELD(slot);
SAME_FIELD(present);
_Static_assert(offsetof(struct kt_kexit_body, data) == offsetof(struct kx_event, u) &&
	       KT_KEXIT_DATA_BYTES == KX_DATA_BYTES, "kt_kexit_body.data is kx_event.u");
_Static_assert(sizeof(struct kt_kexit_body) == sizeof(struct kx_event), "same size");
_Static_assert(KX_KINDS <= KT_KEXIT_KINDS_MAX, "every kind fits the header");
_Static_assert(KX_ISA_VMX == 1 && KX_ISA_SVM == 2 && KX_ISA_PVM == 3, "isa numbers");

/* The collector's nap: at 5 ms a 4 MiB ring (about 40,000 events) only
 * overflows past 8 million events a second. */
#define COLLECT_NS 5000000L
/* A collection that found this much goes again at once. */
#define COLLECT_BUSY 4096

struct vcpu_reg {
	pid_t tid;      /* the thread registered for the vCPU, 0: none */
	int slot;       /* its kexits slot, -1: registering failed */
};

struct kt_kexits {
	struct kx *kx;
	struct kt_kexits_opts opts;
	pthread_mutex_t lock;     /* delivery is single-threaded (kx.h) */
	struct kt_kexits_sink sink;
	uint64_t t_base;
	struct vcpu_reg reg[GUEST_MAX_VCPUS];
	uint64_t next_seq[KX_MAX_SLOTS];   /* per slot: the seq expected next */
	uint16_t slot_vcpu[KX_MAX_SLOTS];
	bool slot_used[KX_MAX_SLOTS];
	pthread_t collector;
	bool collecting;
	atomic_bool stopping;
	uint64_t delivered, lost, records;
	char problem[256];
};

static pid_t my_tid(void)
{
	static _Thread_local pid_t tid;

	if (!tid)
		tid = gettid();
	return tid;
}

int kt_kexits_parse_kinds(const char *list, uint32_t *kinds)
{
	char word[32];

	*kinds = 0;
	if (!*list)
		return kt_fail(-EINVAL, "no kinds given");
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		int k;

		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
		if ((k = kx_kind_by_name(word)) < 0)
			return kt_fail(-EINVAL, "'%s' is not a kind of kernel exit (exit, entry, "
				       "pio, mmio, msr, cpuid, hypercall, emulate, inj_exception)",
				       word);
		*kinds |= 1u << k;
		p += n + (p[n] == ',');
	}
	return 0;
}

int kt_kexits_open(struct kt_kexits **out, const struct kt_kexits_opts *o)
{
	struct kx_opts xo = { .ring_bytes = o->ring_bytes, .kinds = o->kinds };
	struct kt_kexits *k = calloc(1, sizeof(*k));
	int ret;

	*out = NULL;
	if (!k)
		return kt_fail(-ENOMEM, "out of memory");
	if ((ret = kx_open(&k->kx, &xo))) {
		free(k);
		return ret;  /* kexits' one line */
	}
	k->opts = *o;
	pthread_mutex_init(&k->lock, NULL);
	for (unsigned v = 0; v < GUEST_MAX_VCPUS; v++)
		k->reg[v].slot = -1;
	*out = k;
	return 0;
}

void kt_kexits_close(struct kt_kexits *k)
{
	if (!k)
		return;
	kt_kexits_stop(k);
	kx_close(k->kx);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void kt_kexits_header(const struct kt_kexits *k, struct kt_kexits_hdr *h)
{
	const struct kx_info *info = kx_info(k->kx);

	memset(h, 0, sizeof(*h));
	h->state = KT_KEXITS_ON;
	h->asked = info->asked;
	h->attached = info->attached;
	h->ring_bytes = (uint32_t)(k->opts.ring_bytes ? k->opts.ring_bytes : 4u << 20);
	for (unsigned i = 0; i < KX_KINDS; i++) {
		h->present[i] = info->present[i];
		h->known[i] = info->wanted[i];
	}
}

int kt_kexits_put_header(struct kt_buf *hdr, const struct kt_kexits *k,
			 const struct kt_kexits_opts *o, const char *why)
{
	struct kt_kexits_hdr h = { .state = KT_KEXITS_UNAVAILABLE };
	char text[512];
	int ret;

	if (k) {
		kt_kexits_header(k, &h);
		kx_describe(k->kx, text, sizeof(text));
		why = text;
	} else {
		/* kvm_exit and kvm_entry are always asked for */
		h.asked = (o->kinds ? o->kinds : (1u << KX_KINDS) - 1) |
			  1u << KX_EXIT | 1u << KX_ENTRY;
	}
	if ((ret = kt_tlv_put(hdr, KT_HDR_KEXITS, &h, sizeof(h))))
		return ret;
	return kt_tlv_put(hdr, KT_HDR_KEXITS_INFO, why ? why : "", (uint32_t)strlen(why ? why : ""));
}

/* ---- delivery (with the lock held) ---------------------------------- */

static void note_problem(struct kt_kexits *k, int err)
{
	if (!k->problem[0])
		snprintf(k->problem, sizeof(k->problem), "%s", err ? kt_last_error() : "?");
}

static void report_lost(struct kt_kexits *k, unsigned slot, uint64_t upto)
{
	struct kt_kexit_lost_body l = { .seq = k->next_seq[slot],
					.count = upto - k->next_seq[slot] };

	k->lost += l.count;
	k->records++;
	k->next_seq[slot] = upto;
	if (k->sink.lost)
		k->sink.lost(k->sink.ctx, k->slot_vcpu[slot], &l);
}

static int deliver(const struct kx_event *ev, void *ctx)
{
	struct kt_kexits *k = ctx;
	struct kt_kexit_body b;

	if (ev->slot >= KX_MAX_SLOTS || !k->slot_used[ev->slot])
		return 0;  /* a registration already given up */
	if (ev->seq > k->next_seq[ev->slot])
		report_lost(k, ev->slot, ev->seq);
	k->next_seq[ev->slot] = ev->seq + 1;
	memcpy(&b, ev, sizeof(b));
	b.ts_ns = ev->ts_ns > k->t_base ? ev->ts_ns - k->t_base : 0;
	k->delivered++;
	k->records++;
	if (k->sink.event)
		k->sink.event(k->sink.ctx, k->slot_vcpu[ev->slot], &b);
	return 0;
}

/* Events the ring dropped at the end of what slot produced so far. */
static void trailing_losses(struct kt_kexits *k, int slot)
{
	struct kx_counts c;

	if (!kx_counts(k->kx, slot, &c) && c.produced > k->next_seq[slot])
		report_lost(k, (unsigned)slot, c.produced);
}

static void *collect(void *arg)
{
	struct kt_kexits *k = arg;
	const struct timespec nap = { 0, COLLECT_NS };
	int n = 0;

	while (!atomic_load(&k->stopping)) {
		if (n < COLLECT_BUSY)
			nanosleep(&nap, NULL);
		pthread_mutex_lock(&k->lock);
		n = kx_poll(k->kx, 0, deliver, k);
		if (n < 0)
			note_problem(k, n);
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

int kt_kexits_start(struct kt_kexits *k, const struct kt_kexits_sink *sink, uint64_t t_base)
{
	int ret;

	pthread_mutex_lock(&k->lock);
	k->sink = *sink;
	k->t_base = t_base;
	pthread_mutex_unlock(&k->lock);
	atomic_store(&k->stopping, false);
	if ((ret = -pthread_create(&k->collector, NULL, collect, k)))
		return kt_fail(ret, "kernel exits: cannot start the collector: %s", strerror(-ret));
	k->collecting = true;
	return 0;
}

static void write_event(void *ctx, uint16_t vcpu, const struct kt_kexit_body *b)
{
	kt_writer_kexit(ctx, vcpu, b);
}

static void write_lost(void *ctx, uint16_t vcpu, const struct kt_kexit_lost_body *l)
{
	kt_writer_kexit_lost(ctx, vcpu, l);
}

int kt_kexits_start_writing(struct kt_kexits *k, struct kt_writer *w, uint64_t t_base)
{
	const struct kt_kexits_sink sink = { .event = write_event, .lost = write_lost, .ctx = w };

	return kt_kexits_start(k, &sink, t_base);
}

/* ---- the vCPU threads --------------------------------------------------- */

static void unregister(struct kt_kexits *k, struct vcpu_reg *r)
{
	if (r->slot >= 0) {
		kx_poll(k->kx, 0, deliver, k);  /* its events before its slot goes */
		trailing_losses(k, r->slot);
		kx_remove(k->kx, r->slot);
		k->slot_used[r->slot] = false;
	}
	*r = (struct vcpu_reg){ .slot = -1 };
}

void kt_kexits_before_run(struct kt_kexits *k, uint16_t vcpu)
{
	struct vcpu_reg *r;
	pid_t tid = my_tid();
	int slot;

	if (vcpu >= GUEST_MAX_VCPUS)
		return;
	r = &k->reg[vcpu];
	/* Only this vCPU's thread writes its entry: no lock to look. */
	if (__atomic_load_n(&r->tid, __ATOMIC_ACQUIRE) == tid)
		return;
	pthread_mutex_lock(&k->lock);
	unregister(k, r);
	slot = kx_add_thread(k->kx, tid, vcpu);
	if (slot < 0) {
		note_problem(k, slot);
	} else {
		k->next_seq[slot] = 0;
		k->slot_vcpu[slot] = vcpu;
		k->slot_used[slot] = true;
	}
	r->slot = slot < 0 ? -1 : slot;
	__atomic_store_n(&r->tid, tid, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&k->lock);
}

void kt_kexits_after_run(struct kt_kexits *k, uint16_t vcpu)
{
	int slot, n;

	if (vcpu >= GUEST_MAX_VCPUS || (slot = k->reg[vcpu].slot) < 0)
		return;
	pthread_mutex_lock(&k->lock);
	n = kx_flush(k->kx, slot, deliver, k);
	if (n < 0)
		note_problem(k, n);
	/* The vCPU is out of the guest: what it produced is final. */
	trailing_losses(k, slot);
	pthread_mutex_unlock(&k->lock);
}

void kt_kexits_stop(struct kt_kexits *k)
{
	if (k->collecting) {
		atomic_store(&k->stopping, true);
		pthread_join(k->collector, NULL);
		k->collecting = false;
	}
	pthread_mutex_lock(&k->lock);
	for (unsigned v = 0; v < GUEST_MAX_VCPUS; v++)
		unregister(k, &k->reg[v]);
	k->sink = (struct kt_kexits_sink){ 0 };
	pthread_mutex_unlock(&k->lock);
}

void kt_kexits_totals(const struct kt_kexits *k, struct kt_kexits_totals *t)
{
	t->delivered = k->delivered;
	t->lost = k->lost;
	t->records = k->records;
}

const char *kt_kexits_problem(const struct kt_kexits *k)
{
	return k->problem[0] ? k->problem : NULL;
}
