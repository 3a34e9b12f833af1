/*
 * boot.c: what zonevisord checks before any VM of a zone may start (DESIGN
 * §10): processes an earlier zonevisord may have left behind.  Three kinds
 * of evidence are gathered, once for all zones:
 *
 *  - the zone's runtime record (runtime_check(): a gone or reused pid is
 *    deleted without a signal; a live match is a leftover VM);
 *  - processes carrying the zone's marker, ZONEVISOR_ZONE_DIR in their
 *    environment, which every VM of ours has, record or not;
 *  - the zone's ingress_port, if something that is not ours listens on it.
 *
 * Leftover VMs are ours to stop: each is opened as a pidfd, its identity
 * (start time) re-checked before every signal, sent its zone's stop signal,
 * then SIGKILL after stop_timeout, all zones in parallel.  Whatever cannot
 * be resolved this way (an unreadable or foreign record, a port held by a
 * stranger, a process that survives SIGKILL) leaves the zone owner-unsafe
 * until an operator resets it.
 */
#include "config.h"

#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define MARKER		"ZONEVISOR_ZONE_DIR="
#define TOOL_MARKER	"ZONEVISOR_TOOL_DIR="

static int boot_read(const char *, char *, size_t);
static void boot_add_target(struct boot_verdict *, pid_t, uint64_t);
static int boot_listen_inode(int, unsigned long *);
static pid_t boot_socket_owner(unsigned long);

/* Read up to len - 1 bytes of a /proc file; -1 if it cannot be read. */
static int
boot_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/*
 * Find every process that carries a zone marker of this state directory:
 * ZONEVISOR_ZONE_DIR=<state_dir>/zones/<zone> in its environment (every
 * gateway VM of ours), or with tool set ZONEVISOR_TOOL_DIR=... (every tool
 * VM), whose ZONEVISOR_SLOT and ZONEVISOR_LEASE are noted too.
 */
void
boot_scan_markers(const struct config *cfg, int tool, struct boot_scan *scan)
{
	char prefix[PATH_MAX], path[64];
	static char env[65536];	/* not on a worker thread's stack */
	size_t plen, cap = 0;
	struct dirent *de;
	pid_t self = getpid();
	DIR *d;

	memset(scan, 0, sizeof *scan);
	plen = (size_t)snprintf(prefix, sizeof prefix, "%s%s/zones/",
	    tool ? TOOL_MARKER : MARKER, cfg->state_dir);
	if ((d = opendir("/proc")) == NULL) {
		log_warn("%s: opendir /proc", __func__);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct boot_process *bp = NULL;
		char *end, *p;
		long pid = strtol(de->d_name, &end, 10);
		int n;

		if (*end != '\0' || pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/environ", pid);
		if ((n = boot_read(path, env, sizeof env)) <= 0)
			continue;
		for (p = env; p < env + n; p += strlen(p) + 1)
			if (strncmp(p, prefix, plen) == 0)
				break;
		if (p >= env + n)
			continue;
		if (scan->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			scan->procs = xreallocarray(scan->procs, cap,
			    sizeof *scan->procs);
		}
		bp = &scan->procs[scan->n];
		memset(bp, 0, sizeof *bp);
		bp->slot = -1;
		if (proc_start_time((pid_t)pid, &bp->start_time) != 0)
			continue;
		bp->pid = (pid_t)pid;
		snprintf(bp->zone, sizeof bp->zone, "%s", p + plen);
		for (p = env; p < env + n; p += strlen(p) + 1) {
			if (strncmp(p, "ZONEVISOR_SLOT=", 15) == 0)
				bp->slot = (int)strtol(p + 15, NULL, 10);
			else if (strncmp(p, "ZONEVISOR_LEASE=", 16) == 0)
				snprintf(bp->lease, sizeof bp->lease, "%s",
				    p + 16);
		}
		scan->n++;
	}
	closedir(d);
}

/* Free a scan. */
void
boot_scan_free(struct boot_scan *scan)
{
	free(scan->procs);
	memset(scan, 0, sizeof *scan);
}

/* Add a process to stop, once. */
static void
boot_add_target(struct boot_verdict *v, pid_t pid, uint64_t start_time)
{
	size_t i;

	for (i = 0; i < v->ntargets; i++)
		if (v->targets[i].pid == pid)
			return;
	if (v->ntargets == BOOT_MAX_TARGETS)
		return;
	v->targets[v->ntargets].pid = pid;
	v->targets[v->ntargets].start_time = start_time;
	v->targets[v->ntargets].pidfd = -1;
	v->ntargets++;
}

/*
 * The inode of a socket listening on TCP port (IPv4 or IPv6), from
 * /proc/net/tcp{,6}.  Returns 1 and sets *inode if one listens, else 0.
 */
static int
boot_listen_inode(int port, unsigned long *inode)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		FILE *f = fopen(files[i], "re");

		if (f == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			char local[128];
			unsigned int lport, st;
			unsigned long ino;
			char *colon;

			if (sscanf(line, "%*d: %127s %*s %x %*s %*s %*s %*d %*d %lu",
			    local, &st, &ino) != 3)
				continue;
			if ((colon = strrchr(local, ':')) == NULL ||
			    sscanf(colon + 1, "%x", &lport) != 1)
				continue;
			if (st == 0x0a && (int)lport == port) {	/* LISTEN */
				*inode = ino;
				fclose(f);
				return 1;
			}
		}
		fclose(f);
	}
	return 0;
}

/* The process holding socket inode, or 0 if it cannot be seen. */
static pid_t
boot_socket_owner(unsigned long inode)
{
	char want[64], path[PATH_MAX], link[64];
	struct dirent *de, *fde;
	DIR *d, *fd;

	snprintf(want, sizeof want, "socket:[%lu]", inode);
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		if ((fd = opendir(path)) == NULL)
			continue;
		while ((fde = readdir(fd)) != NULL) {
			char fpath[PATH_MAX + 300];
			ssize_t n;

			snprintf(fpath, sizeof fpath, "%s/%s", path, fde->d_name);
			if ((n = readlink(fpath, link, sizeof link - 1)) <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) == 0) {
				closedir(fd);
				closedir(d);
				return (pid_t)pid;
			}
		}
		closedir(fd);
	}
	closedir(d);
	return 0;
}

/*
 * Judge one zone: its runtime record and marked processes.  Fills v with
 * the processes to stop (resolvable evidence) or the evidence that leaves
 * the zone owner-unsafe.
 */
void
boot_judge(const struct config *cfg, const struct zone_config *zc,
    const struct boot_scan *scan, struct boot_verdict *v)
{
	struct runtime_record rr;
	char path[PATH_MAX], cause[256];
	size_t i;
	int r;

	memset(v, 0, sizeof *v);
	snprintf(path, sizeof path, "%s/zones/%s/runtime", cfg->state_dir,
	    zc->name);
	r = runtime_check(path, zc->name, cfg->state_dir, &v->evidence,
	    v->detail, sizeof v->detail);
	if (r == RUNTIME_DELETED) {
		/* Still there if the directory is read-only: the worker retries. */
		v->record_deleted = access(path, F_OK) != 0;
		snprintf(v->deleted_detail, sizeof v->deleted_detail, "%s",
		    v->detail);
		v->detail[0] = '\0';
	} else if (r == RUNTIME_UNSAFE) {
		if (v->evidence != EVD_STALE_RUNTIME_RECORD)
			return;		/* unreadable or foreign: an operator's */
		if (runtime_read(path, &rr, cause, sizeof cause) == 0)
			boot_add_target(v, rr.vm_pid, rr.vm_start_time);
	}
	for (i = 0; i < scan->n; i++) {
		if (strcmp(scan->procs[i].zone, zc->name) != 0 ||
		    !proc_identity_matches(scan->procs[i].pid,
		    scan->procs[i].start_time))
			continue;
		if (v->evidence == EVD_NONE) {
			v->evidence = EVD_ORPHANED_VM;
			snprintf(v->detail, sizeof v->detail, "process %ld carries "
			    "the zone's marker but has no owner",
			    (long)scan->procs[i].pid);
		}
		boot_add_target(v, scan->procs[i].pid, scan->procs[i].start_time);
	}
	v->resolvable = v->ntargets > 0;
}

/*
 * After leftovers are gone: is the zone's ingress_port held by a process
 * that is not ours?  Sets port-owned evidence in v if so.
 */
void
boot_judge_port(const struct zone_config *zc, struct boot_verdict *v)
{
	unsigned long inode;
	char comm[64], path[64];
	pid_t owner;

	if (zc->ingress_port == 0 || v->evidence != EVD_NONE ||
	    !boot_listen_inode(zc->ingress_port, &inode))
		return;
	owner = boot_socket_owner(inode);
	comm[0] = '\0';
	if (owner > 0) {
		snprintf(path, sizeof path, "/proc/%ld/comm", (long)owner);
		if (boot_read(path, comm, sizeof comm) > 0)
			comm[strcspn(comm, "\n")] = '\0';
	}
	v->evidence = EVD_PORT_OWNED;
	v->resolvable = 0;
	if (owner > 0)
		snprintf(v->detail, sizeof v->detail, "ingress_port %d is held by "
		    "pid %ld (%s), which zonevisor did not start",
		    zc->ingress_port, (long)owner, comm);
	else
		snprintf(v->detail, sizeof v->detail, "ingress_port %d is held "
		    "by a process zonevisor cannot see", zc->ingress_port);
}

/*
 * Stop every target of every verdict, in parallel: the zone's stop signal,
 * SIGKILL after its stop_timeout, then KILL_GRACE_MS to die.  Identity is
 * re-checked before each signal; a process that is already gone, or whose
 * pid now names another process, is left alone.  Targets still alive at
 * the end are left in their verdict with pidfd != -1 (close failed).
 */
void
boot_terminate(struct boot_verdict **vs, const struct zone_config **zcs,
    size_t n)
{
	struct pollfd *pfds;
	size_t i, j, k, total = 0;
	int64_t now, start = clock_mono_ms(), last = 0;
	int phase;

	for (i = 0; i < n; i++)
		total += vs[i]->ntargets;
	if (total == 0)
		return;
	pfds = xcalloc(total, sizeof *pfds);
	for (phase = 0; phase < 2; phase++) {
		/* Signal: the stop signal first, SIGKILL the survivors after. */
		for (i = 0; i < n; i++) {
			for (j = 0; j < vs[i]->ntargets; j++) {
				struct boot_target *t = &vs[i]->targets[j];
				int sig = phase == 0 ? zcs[i]->stop_signal : SIGKILL;

				if (phase == 0) {
					t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
					if (t->pidfd == -1)
						continue;	/* already gone */
				}
				if (t->pidfd == -1)
					continue;
				if (!proc_identity_matches(t->pid, t->start_time) ||
				    syscall(SYS_pidfd_send_signal, t->pidfd, sig,
				    NULL, 0) == -1) {
					close(t->pidfd);
					t->pidfd = -1;
					continue;
				}
				log_info("zone %s: sent %s to leftover VM pid %ld",
				    zcs[i]->name, names_signal(sig), (long)t->pid);
				if (phase == 0 && zcs[i]->stop_timeout_ms > last)
					last = zcs[i]->stop_timeout_ms;
			}
		}
		/* Wait: until every target exited or the deadline passed. */
		for (;;) {
			int64_t deadline = start + (phase == 0 ? last : KILL_GRACE_MS);
			size_t m = 0;

			for (i = 0; i < n; i++)
				for (j = 0; j < vs[i]->ntargets; j++)
					if (vs[i]->targets[j].pidfd != -1) {
						pfds[m].fd = vs[i]->targets[j].pidfd;
						pfds[m].events = POLLIN;
						pfds[m].revents = 0;
						m++;
					}
			now = clock_mono_ms();
			if (m == 0 || now >= deadline)
				break;
			if (poll(pfds, m, (int)(deadline - now)) <= 0)
				continue;
			for (k = 0; k < m; k++) {
				if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				for (i = 0; i < n; i++)
					for (j = 0; j < vs[i]->ntargets; j++)
						if (vs[i]->targets[j].pidfd == pfds[k].fd) {
							close(pfds[k].fd);
							vs[i]->targets[j].pidfd = -1;
						}
			}
		}
		start = clock_mono_ms();
	}
	free(pfds);
}
