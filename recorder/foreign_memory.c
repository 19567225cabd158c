#include "recorder/foreign_memory.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/clock.h"
#include "common/hash.h"
#include "harness/kvm_ioctl.h"
#include "harness/memslots.h"
#include "recorder/recorder.h"
#include "trace/trace_format.h"

#define PAGE 4096u
/* QEMU uses up to 509 slots in each of its two address spaces. */
#define MAX_SLOTS 1024

struct fslot {
	bool used;
	bool pending;   /* set since the last KVM_RUN: to be written whole */
	bool gone;      /* its memory was unmapped: never read again */
	bool seen;      /* the slot number was written whole before */
	uint32_t id;
	uint64_t gpa, size, uaddr;
	uint64_t *hashes;  /* changes: each page's hash as last written */
};

struct kt_foreign_memory {
	pthread_mutex_t lock;
	bool changes, ended;
	bool any_pending;
	struct fslot slot[MAX_SLOTS];
	struct kt_fmem_totals totals;
};

struct kt_foreign_memory *kt_fmem_new(bool changes)
{
	struct kt_foreign_memory *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->changes = changes;
	return m;
}

void kt_fmem_free(struct kt_foreign_memory *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		free(m->slot[i].hashes);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct fslot *find(struct kt_foreign_memory *m, uint32_t id, bool add)
{
	struct fslot *free_one = NULL;

	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		if (m->slot[i].id == id && (m->slot[i].used || m->slot[i].seen))
			return &m->slot[i];
		if (!free_one && !m->slot[i].used && !m->slot[i].seen)
			free_one = &m->slot[i];
	}
	if (add && free_one)
		free_one->id = id;
	return add ? free_one : NULL;
}

void kt_fmem_set_region(struct kt_foreign_memory *m, uint32_t id, uint64_t gpa,
			uint64_t size, uint64_t uaddr)
{
	struct fslot *s;

	pthread_mutex_lock(&m->lock);
	if (!m->ended && (s = find(m, id, size != 0))) {
		free(s->hashes);
		s->hashes = NULL;
		s->used = size != 0;
		s->gone = false;
		s->gpa = gpa;
		s->size = size & ~(uint64_t)(PAGE - 1);
		s->uaddr = uaddr;
		s->pending = s->used;
		if (s->used)
			__atomic_store_n(&m->any_pending, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->lock);
}

void kt_fmem_unmapping(struct kt_foreign_memory *m, uint64_t addr, uint64_t len)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		struct fslot *s = &m->slot[i];

		if (s->used && addr < s->uaddr + s->size && s->uaddr < addr + len)
			s->gone = true;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Still mapped (msync fails with ENOMEM on a hole): a VMM may have freed
 * memory in a way we did not see (a raw syscall). */
static const uint8_t *readable(const struct fslot *s)
{
	void *p = (void *)(uintptr_t)s->uaddr;

	if (!s->used || s->gone || !s->size || msync(p, s->size, MS_ASYNC) < 0)
		return NULL;
	return p;
}

static bool zero_page(const uint8_t *p)
{
	const uint64_t *w = (const void *)p;

	for (unsigned i = 0; i < PAGE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* Runs of pages that pass keep() (asked once a page: it may note what it
 * saw), one MEMWRITE each (the writer cuts runs over 4 MiB). */
static uint64_t write_runs(const struct fslot *s, const uint8_t *host,
			   bool (*keep)(const struct fslot *s, const uint8_t *page, uint64_t i))
{
	uint64_t npages = s->size / PAGE, written = 0, start = 0;
	bool in_run = false;

	for (uint64_t i = 0; i <= npages; i++) {
		bool k = i < npages && keep(s, host + i * PAGE, i);

		if (k && !in_run)
			start = i;
		if (!k && in_run) {
			kvm_note_mem_write(s->gpa + start * PAGE, host + start * PAGE,
					   (i - start) * PAGE);
			written += i - start;
		}
		in_run = k;
	}
	return written;
}

static bool not_zero(const struct fslot *s, const uint8_t *page, uint64_t i)
{
	(void)s;
	(void)i;
	return !zero_page(page);
}

static bool every(const struct fslot *s, const uint8_t *page, uint64_t i)
{
	(void)s;
	(void)page;
	(void)i;
	return true;
}

/* changes: a page whose hash moved (and now has the new one). */
static bool changed(const struct fslot *s, const uint8_t *page, uint64_t i)
{
	uint64_t h = kt_xxh64(page, PAGE);

	if (s->hashes[i] == h)
		return false;
	s->hashes[i] = h;
	return true;
}

static void hash_all(struct fslot *s, const uint8_t *host)
{
	uint64_t npages = s->size / PAGE;

	free(s->hashes);
	if ((s->hashes = malloc(npages * sizeof(*s->hashes))))
		for (uint64_t i = 0; i < npages; i++)
			s->hashes[i] = kt_xxh64(host + i * PAGE, PAGE);
}

/* A slot set since the last KVM_RUN, whole.  The first time its number
 * is set a replay maps zeroed memory for it, so zero pages are left out;
 * after that the replay's mapping may hold the old contents. */
static void capture_slot(struct kt_foreign_memory *m, struct fslot *s)
{
	const uint8_t *host = readable(s);

	s->pending = false;
	if (!host)
		return;
	m->totals.pages += write_runs(s, host, s->seen ? every : not_zero);
	s->seen = true;
	if (m->changes)
		hash_all(s, host);
}

static void capture_changes(struct kt_foreign_memory *m, struct fslot *s)
{
	const uint8_t *host = readable(s);

	if (host && s->hashes)
		m->totals.pages += write_runs(s, host, changed);
}

static void look(struct kt_foreign_memory *m)
{
	uint64_t t0 = kt_monotonic_ns();
	bool pending = m->any_pending;

	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		struct fslot *s = &m->slot[i];

		if (pending && s->used && s->pending)
			capture_slot(m, s);
		else if (m->changes && s->used)
			capture_changes(m, s);
	}
	/* Cleared only now: another vCPU that saw it set waits for the lock,
	 * so none enters the guest before the capture is whole (a running
	 * guest changes memory, if only the page tables' accessed bits). */
	__atomic_store_n(&m->any_pending, false, __ATOMIC_RELEASE);
	m->totals.captures++;
	m->totals.ns += kt_monotonic_ns() - t0;
}

void kt_fmem_before_run(struct kt_foreign_memory *m)
{
	/* Without changes, only a slot set since is of interest: no lock. */
	if (!m->changes && !__atomic_load_n(&m->any_pending, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&m->lock);
	if (!m->ended)
		look(m);
	pthread_mutex_unlock(&m->lock);
}

void kt_fmem_totals(struct kt_foreign_memory *m, struct kt_fmem_totals *t)
{
	pthread_mutex_lock(&m->lock);
	*t = m->totals;
	pthread_mutex_unlock(&m->lock);
}

/* The digest walks a struct kt_memslots: the first KT_MAX_SLOTS slots
 * still mapped, in the order they were first set. */
static void digest_slots(struct kt_foreign_memory *m, struct kt_memslots *ms)
{
	unsigned n = 0;

	memset(ms, 0, sizeof(*ms));
	for (unsigned i = 0; i < MAX_SLOTS && n < KT_MAX_SLOTS; i++) {
		const uint8_t *host = readable(&m->slot[i]);

		if (host)
			ms->slot[n++] = (struct kt_memslot){ .used = true, .gpa = m->slot[i].gpa,
							     .size = m->slot[i].size,
							     .host = (uint8_t *)host };
	}
}

void kt_fmem_end(struct kt_foreign_memory *m, struct kt_recorder *r, uint32_t reason,
		 int32_t status, uint64_t exits)
{
	struct kt_memslots ms;

	pthread_mutex_lock(&m->lock);
	if (m->changes)
		look(m);
	m->ended = true;
	digest_slots(m, &ms);
	kt_recorder_end(r, &ms, reason, status, exits);
	pthread_mutex_unlock(&m->lock);
}
