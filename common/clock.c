#include "common/clock.h"

uint64_t kt_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct timespec kt_monotonic_at(uint64_t at_ns)
{
	return (struct timespec){ .tv_sec = (time_t)(at_ns / 1000000000u),
				  .tv_nsec = (long)(at_ns % 1000000000u) };
}
