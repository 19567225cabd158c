#include "shim/fds.h"

#include <stdlib.h>

#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)
#define NCHUNKS (SHIM_MAX_FD / CHUNK)

/* 0: not a KVM fd; else role + 1 in the low 4 bits, the index above. */
static _Atomic(uint32_t *) chunks[NCHUNKS];

static uint32_t *chunk_of(int fd, bool make)
{
	uint32_t *c, *fresh;

	if (fd < 0 || fd >= SHIM_MAX_FD)
		return NULL;
	c = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	if (c || !make)
		return c;
	if (!(fresh = calloc(CHUNK, sizeof(*fresh))))
		return NULL;
	/* Two threads may race to make it: the loser frees its own. */
	if (__atomic_compare_exchange_n(&chunks[fd >> CHUNK_BITS], &c, fresh, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return fresh;
	free(fresh);
	return c;
}

bool shim_fd_get(int fd, struct shim_fd *out)
{
	uint32_t *c = chunk_of(fd, false);
	uint32_t v = c ? __atomic_load_n(&c[fd & (CHUNK - 1)], __ATOMIC_ACQUIRE) : 0;

	if (!v)
		return false;
	*out = (struct shim_fd){ .role = (enum kt_fd_role)((v & 0xf) - 1), .index = v >> 4 };
	return true;
}

bool shim_fd_set(int fd, enum kt_fd_role role, uint32_t index)
{
	uint32_t *c = chunk_of(fd, true);

	if (!c || index >= (1u << 28))
		return false;
	__atomic_store_n(&c[fd & (CHUNK - 1)], (index << 4) | ((uint32_t)role + 1),
			 __ATOMIC_RELEASE);
	return true;
}

void shim_fd_clear(int fd)
{
	uint32_t *c = chunk_of(fd, false);

	if (c)
		__atomic_store_n(&c[fd & (CHUNK - 1)], 0, __ATOMIC_RELEASE);
}

void shim_fd_copy(int from, int to)
{
	struct shim_fd f;

	if (from == to)
		return;
	if (shim_fd_get(from, &f))
		shim_fd_set(to, f.role, f.index);
	else
		shim_fd_clear(to);
}

void shim_fd_clear_range(unsigned first, unsigned last)
{
	for (unsigned long fd = first; fd <= last && fd < SHIM_MAX_FD; fd++) {
		/* whole chunks that were never made hold nothing */
		if (!chunk_of((int)fd, false)) {
			fd |= CHUNK - 1;
			continue;
		}
		shim_fd_clear((int)fd);
	}
}
