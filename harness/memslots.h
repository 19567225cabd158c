/* Guest memory as KVM memory slots, each backed by an anonymous mapping of
 * ours: the one model the harness builds its VM on and replay rebuilds a
 * trace's VM on, and the list a memory digest walks. */
#ifndef KVMTRACE_MEMSLOTS_H
#define KVMTRACE_MEMSLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KT_MAX_SLOTS 32

struct kt_memslot {
	bool used;
	uint64_t gpa, size;
	uint8_t *host;
};

struct kt_memslots {
	struct kt_memslot slot[KT_MAX_SLOTS];
};

/* Back slot with size bytes of zeroed anonymous memory at gpa; a slot that
 * already has a mapping of that size keeps it (only its gpa moves), size 0
 * unmaps it.  0, or -errno with the message set. */
int kt_memslot_map(struct kt_memslots *ms, uint32_t slot, uint64_t gpa, uint64_t size);
/* Host pointer for [gpa, gpa + len) when it lies inside one slot, else NULL. */
void *kt_memslots_ptr(const struct kt_memslots *ms, uint64_t gpa, uint64_t len);
/* Userspace writes guest memory (image load, page tables, a replayed
 * write): copy it and tell the choke point's observer, so a recording
 * holds it.  0, or -EFAULT with the message set when it is not guest
 * memory. */
int kt_memslots_write(struct kt_memslots *ms, uint64_t gpa, const void *src, size_t len);
void kt_memslots_unmap(struct kt_memslots *ms);

#endif
