/*
 * bench.h: what the benchmark programs share: a clock in nanoseconds and
 * the order qsort(3) sorts their samples in.  Header-only: each program
 * stays one file that links nothing of the others.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <time.h>

/* The time on clock (CLOCK_MONOTONIC, or CLOCK_REALTIME to compare with a
 * timestamp another process wrote) in nanoseconds. */
static inline int64_t
bench_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* qsort(3) order of int64_t samples, smallest first. */
static inline int
bench_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

#endif
