/*
 * clock.c: the two clocks zonevisor reads.  Wall-clock milliseconds go into
 * records and status ("since", "observed-at"); monotonic milliseconds measure
 * uptimes and deadlines, which must not jump when the wall clock is set.
 */
#include "config.h"

#include <time.h>

#include "zonevisor.h"

/* Milliseconds since the epoch, for records and status. */
int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds on the monotonic clock, for uptimes and deadlines. */
int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
