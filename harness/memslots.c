#include "harness/memslots.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "harness/kvm_ioctl.h"

static void unmap_slot(struct kt_memslot *s)
{
	if (s->used)
		munmap(s->host, s->size);
	*s = (struct kt_memslot){ 0 };
}

int kt_memslot_map(struct kt_memslots *ms, uint32_t slot, uint64_t gpa, uint64_t size)
{
	struct kt_memslot *s;
	void *p;

	if (slot >= KT_MAX_SLOTS)
		return kt_fail(-EINVAL, "memory slot %u: kvmtrace keeps slots 0..%d", slot,
			       KT_MAX_SLOTS - 1);
	s = &ms->slot[slot];
	if (s->used && s->size == size) {
		s->gpa = gpa;
		return 0;
	}
	unmap_slot(s);
	if (!size)
		return 0;
	/* MAP_NORESERVE: a large --mem costs only the pages the guest touches. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return kt_fail(-errno, "mmap of %llu bytes for memory slot %u: %s",
			       (unsigned long long)size, slot, strerror(errno));
	*s = (struct kt_memslot){ .used = true, .gpa = gpa, .size = size, .host = p };
	return 0;
}

void *kt_memslots_ptr(const struct kt_memslots *ms, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < KT_MAX_SLOTS; i++) {
		const struct kt_memslot *s = &ms->slot[i];

		if (s->used && gpa >= s->gpa && gpa + len >= gpa &&
		    gpa + len <= s->gpa + s->size)
			return s->host + (gpa - s->gpa);
	}
	return NULL;
}

int kt_memslots_write(struct kt_memslots *ms, uint64_t gpa, const void *src, size_t len)
{
	void *dst = kt_memslots_ptr(ms, gpa, len);

	if (!dst)
		return kt_fail(-EFAULT, "guest memory write of %zu bytes at GPA 0x%llx lies "
			       "outside every memory slot", len, (unsigned long long)gpa);
	memcpy(dst, src, len);
	kvm_note_mem_write(gpa, src, len);
	return 0;
}

void kt_memslots_unmap(struct kt_memslots *ms)
{
	for (unsigned i = 0; i < KT_MAX_SLOTS; i++)
		unmap_slot(&ms->slot[i]);
}
