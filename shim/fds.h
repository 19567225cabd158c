/* The fds of a foreign VMM that reach KVM, by role: /dev/kvm (system), a
 * VM, a vCPU, a device, another fd KVM handed out.  Looked up on every
 * interposed ioctl, so a fd that is not KVM's costs one load: a table
 * indexed by fd number, in chunks allocated only where a KVM fd landed.
 * Entries are atomic words; the VMM's own threads create, dup and close
 * fds concurrently. */
#ifndef KVMTRACE_SHIM_FDS_H
#define KVMTRACE_SHIM_FDS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/kt_types.h"

/* Fds from 0 to this are followed; a KVM fd above it is not recorded. */
#define SHIM_MAX_FD (1 << 20)

struct shim_fd {
	enum kt_fd_role role;
	uint32_t index;   /* vCPU: its entry in the session's table; others: a count */
};

/* Whether fd is a KVM fd, and which. */
bool shim_fd_get(int fd, struct shim_fd *out);
/* fd is now a KVM fd.  false when it cannot be followed (too high, no memory). */
bool shim_fd_set(int fd, enum kt_fd_role role, uint32_t index);
void shim_fd_clear(int fd);
/* dup(2) and friends: to is what from is (or nothing). */
void shim_fd_copy(int from, int to);
/* close_range(2). */
void shim_fd_clear_range(unsigned first, unsigned last);

#endif
