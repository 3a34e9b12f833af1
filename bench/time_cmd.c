/*
 * time_cmd.c: times a command the same way for every supervisor's status
 * tool (zonectl, sv, s6-svstat, svstat, supervisorctl).  It runs the command
 * R times, one after another, with stdout and stderr sent to /dev/null, and
 * prints the wall time of each run in microseconds (fork to reaped), then
 * the runs' median, p90 and max.  A run that exits non-zero is reported on
 * stderr and makes the exit status 1: a status tool that fails has not
 * answered.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	int64_t *t, t0;
	int runs, i, status, failed = 0;
	pid_t pid;

	if (argc < 3 || (runs = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: time-cmd RUNS command [arg ...]\n");
		return 2;
	}
	if ((t = calloc((size_t)runs, sizeof *t)) == NULL)
		return 1;
	for (i = 0; i < runs; i++) {
		t0 = bench_ns(CLOCK_MONOTONIC) / 1000;
		if ((pid = fork()) == -1) {
			perror("time-cmd: fork");
			return 1;
		}
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			dup2(fd, 2);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) == -1)
			;
		t[i] = bench_ns(CLOCK_MONOTONIC) / 1000 - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "time-cmd: %s: run %d failed (status "
			    "%#x)\n", argv[2], i + 1, status);
			failed = 1;
		}
		printf("%lld\n", (long long)t[i]);
	}
	qsort(t, (size_t)runs, sizeof *t, bench_cmp);
	printf("median %lld\np90 %lld\nmax %lld\n", (long long)t[runs / 2],
	    (long long)t[runs * 9 / 10 < runs ? runs * 9 / 10 : runs - 1],
	    (long long)t[runs - 1]);
	free(t);
	return failed;
}
