/*
 * wait_starts.c: the finish line of "boot at scale", the same for every
 * supervisor.  The stand-in VM (tests/fake-vm) appends "<pid> <realtime ns>"
 * to a start file when its main() runs; this follows that file, reading
 * only what was appended since the last look, until N lines are there, and
 * prints the milliseconds from the caller's start time (taken with
 * `date +%s%N` just before it started the supervisor) to the latest start
 * among the first N lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN	128		/* "<pid> <ns>\n" is well under this */

static void
usage(void)
{
	fprintf(stderr, "usage: wait-starts -s start-file -n count -t t0-ns "
	    "[-T timeout-ms]\n");
	exit(2);
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A decimal number, whole or exit 2. */
static long long
number(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	char buf[65536 + LINE_MAX_LEN];
	size_t have = 0;
	long long n = -1, t0 = -1, timeout = 60000, deadline, latest = 0;
	long long lines = 0;
	int ch, fd = -1, bad = 0;

	while ((ch = getopt(argc, argv, "s:n:t:T:")) != -1) {
		switch (ch) {
		case 's': path = optarg; break;
		case 'n': n = number(optarg); break;
		case 't': t0 = number(optarg); break;
		case 'T': timeout = number(optarg); break;
		default: usage();
		}
	}
	if (path == NULL || n < 1 || t0 < 0 || timeout < 0 || optind != argc)
		usage();
	deadline = mono_ms() + timeout;
	while (lines < n) {
		ssize_t got;
		char *p, *nl;

		if (fd == -1 && (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 &&
		    errno != ENOENT) {
			perror(path);
			return 1;
		}
		got = fd == -1 ? 0 :
		    read(fd, buf + have, sizeof buf - have);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			perror(path);
			return 1;
		}
		if (got == 0) {
			struct timespec ms = { 0, 1000000 };

			if (mono_ms() >= deadline) {
				fprintf(stderr, "wait-starts: only %lld of %lld "
				    "started within %lld ms\n", lines, n, timeout);
				return 1;
			}
			nanosleep(&ms, NULL);
			continue;
		}
		have += (size_t)got;
		/* Take every complete line; keep a partial one for later. */
		for (p = buf; lines < n &&
		    (nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL;
		    p = nl + 1) {
			long pid;
			long long ns;

			*nl = '\0';
			if (sscanf(p, "%ld %lld", &pid, &ns) != 2) {
				if (!bad++)
					fprintf(stderr, "wait-starts: %s: "
					    "skipping a malformed line\n", path);
				continue;
			}
			if (lines++ == 0 || ns > latest)
				latest = ns;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (lines < n && have >= LINE_MAX_LEN) {
			fprintf(stderr, "wait-starts: %s: line too long\n", path);
			return 1;
		}
	}
	printf("%.2f\n", (double)(latest - t0) / 1e6);
	if (fd != -1)
		close(fd);
	return 0;
}
