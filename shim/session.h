/* The recording session of a foreign VMM: what the interposed libc calls
 * (shim/interpose.c) hand over.  The session is armed when PROGRAM starts
 * with the environment of recorder/foreign_header.h, starts the recorder
 * when PROGRAM first opens /dev/kvm (the header is written then), follows
 * KVM's fds and mappings, and finishes the trace when PROGRAM exits.
 *
 * Everything kvmtrace itself does inside PROGRAM runs with shim_busy set,
 * so its own open(), ioctl() and mmap() (the host probe, the choke point,
 * the trace writer) go straight to libc instead of back into the session. */
#ifndef KVMTRACE_SHIM_SESSION_H
#define KVMTRACE_SHIM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "shim/fds.h"

enum shim_state {
	SHIM_OFF = 0,       /* nothing asked, not the process that records, or over */
	SHIM_ARMED,         /* asked: waiting for /dev/kvm */
	SHIM_RECORDING,
};

extern int shim_state;
extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

static inline enum shim_state shim_now(void)
{
	return (enum shim_state)__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE);
}

/* Whether the interposed calls have anything to tell the session. */
static inline bool shim_watching(void)
{
	return !shim_busy && shim_now() != SHIM_OFF;
}

static inline bool shim_recording(void)
{
	return !shim_busy && shim_now() == SHIM_RECORDING;
}

/* A successful open of anything: /dev/kvm starts or joins the recording. */
void shim_opened(int fd);
/* An ioctl on a KVM fd: issued through the choke point, recorded.  Returns
 * what ioctl(2) returns, errno set on failure. */
int shim_kvm_ioctl(int fd, const struct shim_fd *f, unsigned long req, void *arg);
/* A successful mmap of fd at off: a vCPU's kvm_run. */
void shim_mapped(void *addr, size_t len, int fd, off_t off);
/* Before munmap: kvm_run mappings and guest memory going away. */
void shim_unmapping(void *addr, size_t len);

#endif
