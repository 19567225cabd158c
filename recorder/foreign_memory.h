/* Guest memory of a foreign VMM (kvmtrace record -- PROGRAM).  A VMM
 * writes guest memory with plain stores (loading its firmware, answering a
 * device), which no ioctl shows; replay needs those bytes.  So the memory
 * slots the VMM sets (KVM_SET_USER_MEMORY_REGION, ..._REGION2) are
 * tracked, and before a KVM_RUN:
 *
 *   - each slot set since the last KVM_RUN is written whole (its pages
 *     that are not zero, the first time the slot number is set: a replay
 *     maps zeroed memory for it) as MEMWRITE records;
 *   - with changes on (record --memory-changes), every page whose XXH64
 *     hash differs from the one seen before is written too.  That costs a
 *     hash of all guest memory at every KVM_RUN (about 0.2 ms per 2 MiB
 *     here), and it finds the guest's own writes as well as the VMM's:
 *     replaying them is harmless where the vCPUs do not race on memory.
 *
 * At the end, the pages that changed since (with changes on), a digest of
 * each slot still mapped, and the END record.  Thread-safe: every call
 * takes the one lock, so a capture finishes before any vCPU enters. */
#ifndef KVMTRACE_FOREIGN_MEMORY_H
#define KVMTRACE_FOREIGN_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kt_recorder;
struct kt_foreign_memory;

/* NULL when out of memory. */
struct kt_foreign_memory *kt_fmem_new(bool changes);
void kt_fmem_free(struct kt_foreign_memory *m);

/* A successful KVM_SET_USER_MEMORY_REGION(2): slot (as_id << 16 | id)
 * now maps [gpa, gpa + size) to the VMM's uaddr; size 0 deletes it. */
void kt_fmem_set_region(struct kt_foreign_memory *m, uint32_t slot, uint64_t gpa,
			uint64_t size, uint64_t uaddr);
/* The VMM is about to unmap [addr, addr + len): slots backed by it are no
 * longer read. */
void kt_fmem_unmapping(struct kt_foreign_memory *m, uint64_t addr, uint64_t len);
/* Before a KVM_RUN, on its thread: what the VMM wrote since, as MEMWRITE
 * records (through the choke point's observer, kvm_note_mem_write()). */
void kt_fmem_before_run(struct kt_foreign_memory *m);

struct kt_fmem_totals {
	uint64_t captures;     /* looks at guest memory */
	uint64_t pages;        /* pages written as MEMWRITE */
	uint64_t ns;           /* time spent looking */
};
void kt_fmem_totals(struct kt_foreign_memory *m, struct kt_fmem_totals *t);

/* The run is over: the last changes, each slot's digest, END (reason,
 * status, exits), through r.  Nothing is read after it. */
void kt_fmem_end(struct kt_foreign_memory *m, struct kt_recorder *r, uint32_t reason,
		 int32_t status, uint64_t exits);

#endif
