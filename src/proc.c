/*
 * proc.c: facts about processes read from /proc.  A process's identity is
 * its pid plus its start time (field 22 of /proc/PID/stat, in clock ticks
 * since boot): a pid can be reused, the pair cannot, so every signal sent to
 * a process zonevisor did not just fork is preceded by an identity check.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static int proc_stat_field(pid_t, int, uint64_t *);
static int proc_children_of(const char *, pid_t **, size_t *, size_t *);

/* Read numeric field n (1-based, as in proc(5)) of /proc/PID/stat. */
static int
proc_stat_field(pid_t pid, int n, uint64_t *out)
{
	char path[64], buf[1024], *p;
	ssize_t len;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	/* The command (field 2) may hold spaces and parentheses. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field < n; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -1;
	}
	p++;
	if (n == 3) {
		*out = (uint64_t)(unsigned char)*p;
		return 0;
	}
	*out = strtoull(p, NULL, 10);
	return 0;
}

/* Start time of pid in clock ticks since boot; -1 if it does not exist. */
int
proc_start_time(pid_t pid, uint64_t *start)
{
	return proc_stat_field(pid, 22, start);
}

/* Parent pid of pid; -1 if it does not exist. */
int
proc_parent(pid_t pid, pid_t *ppid)
{
	uint64_t v;

	if (proc_stat_field(pid, 4, &v) != 0)
		return -1;
	*ppid = (pid_t)v;
	return 0;
}

/* The name of pid (/proc/PID/comm, at most 15 bytes); -1 if it is gone. */
int
proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if (len == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* 1 if pid exists and started at start_time, 0 otherwise. */
int
proc_identity_matches(pid_t pid, uint64_t start_time)
{
	uint64_t now;

	if (pid <= 0 || proc_start_time(pid, &now) != 0)
		return 0;
	return now == start_time;
}

/* Append the pids listed in the children file at path; -1 if unreadable. */
static int
proc_children_of(const char *path, pid_t **pids, size_t *n, size_t *cap)
{
	char buf[8192], *p, *next;
	ssize_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len < 0 || len == (ssize_t)sizeof buf - 1)
		return -1;	/* too many to read at once: scan instead */
	buf[len] = '\0';
	for (p = buf; *p != '\0'; p = next) {
		long pid = strtol(p, &next, 10);

		if (next == p)
			break;
		if (*n == *cap) {
			*cap = *cap == 0 ? 16 : *cap * 2;
			*pids = xreallocarray(*pids, *cap, sizeof **pids);
		}
		(*pids)[(*n)++] = (pid_t)pid;
	}
	return 0;
}

/*
 * List the children of the calling process: those of each of its threads
 * (/proc/self/task/TID/children: a worker's VM is its worker thread's
 * child, an orphan it inherits as a subreaper its main thread's) when the
 * kernel has them; else a scan of /proc.  The caller frees *pids.
 */
int
proc_children(pid_t **pids, size_t *n)
{
	DIR *d;
	struct dirent *de;
	pid_t self = getpid(), ppid;
	size_t cap = 0;
	char path[300];	/* a d_name is at most 255 bytes */
	int ok = 0;

	*pids = NULL;
	*n = 0;
	if ((d = opendir("/proc/self/task")) != NULL) {
		ok = 1;
		while (ok && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/self/task/%s/children",
			    de->d_name);
			if (proc_children_of(path, pids, n, &cap) != 0)
				ok = 0;
		}
		closedir(d);
		if (ok)
			return 0;
		free(*pids);
		*pids = NULL;
		*n = 0;
		cap = 0;
	}
	if ((d = opendir("/proc")) == NULL) {
		log_warn("%s: opendir /proc", __func__);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == self)
			continue;
		if (proc_parent((pid_t)pid, &ppid) != 0 || ppid != self)
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*pids = xreallocarray(*pids, cap, sizeof **pids);
		}
		(*pids)[(*n)++] = (pid_t)pid;
	}
	closedir(d);
	return 0;
}
