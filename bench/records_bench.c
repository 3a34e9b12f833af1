/*
 * records_bench.c: how long appending a lifecycle record takes, with the
 * fdatasync that makes it durable (the path every operation's end and
 * every escalation waits on) and without it.  It writes real records with
 * records_append() into a log in a scratch directory (on the filesystem
 * given with -d, default /var/tmp), times each one, and prints
 * "name value unit" lines for scripts/bench.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "zonevisor.h"

/* Append n records, syncing each when sync is set; report the figures. */
static void
run(const char *dir, const char *name, int n, int sync)
{
	struct records r;
	struct record rec;
	char path[512];
	int64_t *lat = calloc((size_t)n, sizeof *lat), t0, start;
	double total_s;
	int i;

	snprintf(path, sizeof path, "%s/lifecycle.log", dir);
	unlink(path);
	if (records_open(&r, path, (int64_t)1 << 40, 1) != 0) {
		fprintf(stderr, "records-bench: cannot open %s\n", path);
		exit(1);
	}
	memset(&rec, 0, sizeof rec);
	rec.zone = "bench";
	rec.kind = REC_VM_SPAWNED;
	rec.op_id = "bench-restart-7d1c2b8e-2f4a-4c1e-9b7d-3a5f6e8c9d01";
	rec.trigger = TRIG_AUTO_RECOVERY;
	rec.supervisor_pid = getpid();
	rec.current_vm.pid = 123456;
	rec.current_vm.start_time = 987654321;
	start = bench_ns(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		t0 = bench_ns(CLOCK_MONOTONIC);
		rec.observed_at_ms = clock_now_ms();
		rec.generation = (uint64_t)i;
		if (records_append(&r, &rec) != 0 || (sync && records_sync(&r) != 0)) {
			fprintf(stderr, "records-bench: write failed\n");
			exit(1);
		}
		lat[i] = bench_ns(CLOCK_MONOTONIC) - t0;
	}
	total_s = (double)(bench_ns(CLOCK_MONOTONIC) - start) / 1e9;
	printf("%s.bytes %lld bytes\n", name, (long long)(r.size / n));
	records_close(&r);
	unlink(path);
	qsort(lat, (size_t)n, sizeof *lat, bench_cmp);
	printf("%s.records %d count\n", name, n);
	printf("%s.median %.1f us\n", name, (double)lat[n / 2] / 1000.);
	printf("%s.p90 %.1f us\n", name, (double)lat[n * 9 / 10] / 1000.);
	printf("%s.p99 %.1f us\n", name, (double)lat[n * 99 / 100] / 1000.);
	printf("%s.max %.1f us\n", name, (double)lat[n - 1] / 1000.);
	printf("%s.throughput %.0f records/s\n", name, n / total_s);
	free(lat);
}

int
main(int argc, char **argv)
{
	const char *base = "/var/tmp";
	char dir[512];
	int ch, n = 2000;

	while ((ch = getopt(argc, argv, "d:n:")) != -1) {
		switch (ch) {
		case 'd':
			base = optarg;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: records-bench [-d dir] [-n count]\n");
			return 2;
		}
	}
	if (n < 10) {
		fprintf(stderr, "records-bench: -n must be at least 10\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/zv-records-bench.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	run(dir, "append_fsync", n, 1);
	run(dir, "append_nosync", n * 10, 0);
	rmdir(dir);
	return 0;
}
