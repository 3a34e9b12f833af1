/*
 * vmwatch.c: the checker behind "never two VMs of one zone alive at once".
 * Every few milliseconds, until SIGTERM, it scans /proc for fake VMs of the
 * test (command line naming the test's directory and "--marker ZONE") and
 * appends a line to the output file whenever a zone has more than one live
 * (not zombie) VM.  A process whose parent is itself such a VM is part of
 * that VM (a fork, or a sanitizer's helper), not a second one.  An empty
 * output file means the invariant held.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ZONES 32

static volatile sig_atomic_t done;

static void
on_term(int sig)
{
	done = 1;
}

/* Read a /proc file; returns its length or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int
main(int argc, char **argv)
{
	const char *out = NULL, *dir = NULL, *zones[MAX_ZONES];
	int ch, nzones = 0;
	FILE *f;

	while ((ch = getopt(argc, argv, "o:d:")) != -1) {
		if (ch == 'o')
			out = optarg;
		else if (ch == 'd')
			dir = optarg;
		else
			return 2;
	}
	for (; optind < argc && nzones < MAX_ZONES; optind++)
		zones[nzones++] = argv[optind];
	if (out == NULL || dir == NULL || nzones == 0) {
		fprintf(stderr, "usage: vmwatch -o out -d dir zone...\n");
		return 2;
	}
	if ((f = fopen(out, "a")) == NULL)
		return 1;
	signal(SIGTERM, on_term);
	while (!done) {
		char pids[MAX_ZONES][256];
		int count[MAX_ZONES] = { 0 }, i, k, nseen = 0;
		long seen[256], parent[256];
		int zone_of[256];
		struct timespec ts = { 0, 5000000 };
		struct dirent *de;
		DIR *d = opendir("/proc");

		memset(pids, 0, sizeof pids);
		while (d != NULL && (de = readdir(d)) != NULL) {
			char path[300], cmd[4096], stat[512], *p, *prev = NULL;
			ssize_t n;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
			if ((n = slurp(path, cmd, sizeof cmd)) <= 0 ||
			    memmem(cmd, (size_t)n, dir, strlen(dir)) == NULL)
				continue;
			for (p = cmd; p < cmd + n; p += strlen(p) + 1) {
				if (prev != NULL && strcmp(prev, "--marker") == 0)
					break;
				prev = p;
			}
			if (p >= cmd + n)
				continue;
			for (i = 0; i < nzones; i++)
				if (strcmp(p, zones[i]) == 0)
					break;
			if (i == nzones)
				continue;
			snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
			if (slurp(path, stat, sizeof stat) <= 0 ||
			    (p = strrchr(stat, ')')) == NULL || p[2] == 'Z' ||
			    p[2] == 'X')
				continue;
			if (nseen < 256) {
				long pp = 0;

				/* Field 4 of stat, after "pid (comm) S ". */
				sscanf(p + 2, "%*c %ld", &pp);
				seen[nseen] = atol(de->d_name);
				parent[nseen] = pp;
				zone_of[nseen++] = i;
			}
		}
		for (k = 0; k < nseen; k++) {
			int j, child = 0;

			for (j = 0; j < nseen; j++)
				if (parent[k] == seen[j])
					child = 1;
			if (child)
				continue;
			i = zone_of[k];
			count[i]++;
			snprintf(pids[i] + strlen(pids[i]), sizeof pids[i] -
			    strlen(pids[i]), " %ld", seen[k]);
		}
		if (d != NULL)
			closedir(d);
		for (i = 0; i < nzones; i++)
			if (count[i] > 1) {
				fprintf(f, "%ld zone %s has %d VMs alive:%s\n",
				    (long)time(NULL), zones[i], count[i], pids[i]);
				fflush(f);
			}
		nanosleep(&ts, NULL);
	}
	fclose(f);
	return 0;
}
