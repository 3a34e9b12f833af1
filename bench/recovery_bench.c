/*
 * recovery_bench.c: recovery latency, measured the same way for every
 * supervisor: the stand-in VM (tests/fake-vm) appends "<pid> <realtime ns>"
 * to a start file when its main() runs; this SIGKILLs the newest one once
 * it has been up for the settle time, and measures the time until a new
 * line appears, taken from the replacement's own timestamp.  Prints each
 * latency, then "median", "p90" and "max" lines (microseconds).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* The last line of the start file: pid and start time; lines counted. */
static int
last_start(const char *path, long *pid, long long *ns, int *lines)
{
	char line[128];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%ld %lld", pid, ns) == 2)
			n++;
	fclose(f);
	*lines = n;
	return n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	int ch, n = 20, settle = 1100, i, lines, got;
	long long ns;
	int64_t *lat, t0;
	long pid;

	while ((ch = getopt(argc, argv, "s:n:w:")) != -1) {
		switch (ch) {
		case 's': path = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'w': settle = atoi(optarg); break;
		default: return 2;
		}
	}
	if (path == NULL || n < 1) {
		fprintf(stderr, "usage: recovery-bench -s start-file [-n count] "
		    "[-w settle-ms]\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof *lat);
	for (i = 0; i < n; i++) {
		int64_t waited = 0;

		while (last_start(path, &pid, &ns, &lines) != 0) {
			usleep(10000);
			if ((waited += 10) > 10000) {
				fprintf(stderr, "recovery-bench: nothing started\n");
				return 1;
			}
		}
		/* Let it run for the settle time first. */
		while (bench_ns(CLOCK_REALTIME) - ns < (int64_t)settle * 1000000)
			usleep(10000);
		t0 = bench_ns(CLOCK_REALTIME);
		if (kill((pid_t)pid, SIGKILL) == -1) {
			perror("kill");
			return 1;
		}
		for (waited = 0; ; waited++) {
			long npid;
			long long nns;

			if (last_start(path, &npid, &nns, &got) == 0 &&
			    got > lines) {
				lat[i] = (nns - t0) / 1000;
				break;
			}
			if (waited > 100000) {	/* 10 s of 100 us polls */
				fprintf(stderr, "recovery-bench: no replacement "
				    "within 10 s\n");
				return 1;
			}
			usleep(100);
		}
		printf("%lld\n", (long long)lat[i]);
		fflush(stdout);
	}
	qsort(lat, (size_t)n, sizeof *lat, bench_cmp);
	printf("median %lld\np90 %lld\nmax %lld\n", (long long)lat[n / 2],
	    (long long)lat[n * 9 / 10 < n ? n * 9 / 10 : n - 1],
	    (long long)lat[n - 1]);
	free(lat);
	return 0;
}
