/* The one clock kvmtrace times things with: CLOCK_MONOTONIC in ns. */
#ifndef KVMTRACE_CLOCK_H
#define KVMTRACE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

uint64_t kt_monotonic_ns(void);

/* The CLOCK_MONOTONIC time at_ns as a timespec, for timed waits on
 * condition variables made with pthread_condattr_setclock(CLOCK_MONOTONIC). */
struct timespec kt_monotonic_at(uint64_t at_ns);

/* A condition variable whose timed waits take kt_monotonic_at() times.
 * 0 or -errno. */
int kt_cond_init_monotonic(pthread_cond_t *cond);

#endif
