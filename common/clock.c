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

int kt_cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int ret;

	if ((ret = pthread_condattr_init(&attr)))
		return -ret;
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return -ret;
}
