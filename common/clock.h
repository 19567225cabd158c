/* The one clock kvmtrace times things with: CLOCK_MONOTONIC in ns. */
#ifndef KVMTRACE_CLOCK_H
#define KVMTRACE_CLOCK_H

#include <stdint.h>
#include <time.h>

uint64_t kt_monotonic_ns(void);

/* The CLOCK_MONOTONIC time at_ns as a timespec, for timed waits on
 * condition variables made with pthread_condattr_setclock(CLOCK_MONOTONIC). */
struct timespec kt_monotonic_at(uint64_t at_ns);

#endif
