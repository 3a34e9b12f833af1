/*
 * reaper.c: the one place a process reaps its children.  zonevisord and every
 * worker are child subreapers, so besides the children they forked they
 * inherit the orphans of their descendants.  reaper_run() is called when
 * SIGCHLD arrives or a pidfd turns readable; it peeks at each zombie with
 * WNOWAIT, lets the owner act while the pid is still pinned (a VM's owner
 * kills the rest of its process group then, while the group id cannot have
 * been reused), reaps it and hands the exit status to the owner.  Unknown
 * pids (strays) are logged and reaped.  Two reaping paths would lose exit
 * statuses, so nothing else calls wait.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

struct reaper_entry {
	pid_t			 pid;
	const struct reaper_ops	*ops;
	void			*arg;
};

static struct reaper_entry	*entries;
static size_t			 nentries, capentries;
/* A worker's table from its parent, kept reachable for leak checkers. */
static struct reaper_entry	*volatile reaper_inherited;

static struct reaper_entry *reaper_find(pid_t);
static void reaper_info(const siginfo_t *, struct exit_info *);

/* Forget every owner; a forked worker starts with an empty table. */
void
reaper_reset(void)
{
	/*
	 * The table inherited from the parent is dropped, not freed: freeing
	 * it would copy the pages its chunk touches into this process.
	 */
	reaper_inherited = entries;
	entries = NULL;
	nentries = capentries = 0;
}

/* Find the owner entry of pid, or NULL. */
static struct reaper_entry *
reaper_find(pid_t pid)
{
	size_t i;

	for (i = 0; i < nentries; i++)
		if (entries[i].pid == pid)
			return &entries[i];
	return NULL;
}

/* Record that ops/arg own pid; replaces an earlier owner of the same pid. */
void
reaper_add(pid_t pid, const struct reaper_ops *ops, void *arg)
{
	struct reaper_entry *e;

	if ((e = reaper_find(pid)) == NULL) {
		if (nentries == capentries) {
			capentries = capentries == 0 ? 16 : capentries * 2;
			entries = xreallocarray(entries, capentries,
			    sizeof *entries);
		}
		e = &entries[nentries++];
	}
	e->pid = pid;
	e->ops = ops;
	e->arg = arg;
}

/* Drop the owner of pid; its exit will then be reaped as a stray's. */
void
reaper_remove(pid_t pid)
{
	struct reaper_entry *e;

	if ((e = reaper_find(pid)) != NULL)
		*e = entries[--nentries];
}

/* 1 if pid has an owner. */
int
reaper_owns(pid_t pid)
{
	return reaper_find(pid) != NULL;
}

/* Turn waitid()'s siginfo into an exit_info. */
static void
reaper_info(const siginfo_t *si, struct exit_info *ei)
{
	ei->code = -1;
	ei->signal = 0;
	ei->core = 0;
	if (si->si_code == CLD_EXITED)
		ei->code = si->si_status;
	else {
		ei->signal = si->si_status;
		ei->core = si->si_code == CLD_DUMPED;
	}
}

/* Reap every child that has exited and hand each status to its owner. */
void
reaper_run(void)
{
	for (;;) {
		struct reaper_entry *e;
		const struct reaper_ops *ops;
		struct exit_info ei;
		siginfo_t si;
		void *arg;
		pid_t pid;
		char what[96];

		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("%s: waitid", __func__);
			return;
		}
		if ((pid = si.si_pid) == 0)
			return;
		if ((e = reaper_find(pid)) != NULL && e->ops->exiting != NULL)
			e->ops->exiting(pid, e->arg);
		memset(&si, 0, sizeof si);
		while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) == -1) {
			if (errno != EINTR) {
				log_warn("%s: waitid %ld", __func__, (long)pid);
				return;
			}
		}
		reaper_info(&si, &ei);
		if ((e = reaper_find(pid)) == NULL) {
			reaper_describe(&ei, what, sizeof what);
			log_info("reaped stray process %ld: %s", (long)pid, what);
			continue;
		}
		ops = e->ops;
		arg = e->arg;
		reaper_remove(pid);
		ops->exited(pid, &ei, arg);
	}
}

/* Wait for one child this process just forked and nobody else knows of. */
int
reaper_reap_now(pid_t pid, struct exit_info *ei)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)pid, &si, WEXITED) == -1) {
		if (errno != EINTR) {
			log_warn("%s: waitid %ld", __func__, (long)pid);
			return -1;
		}
	}
	reaper_info(&si, ei);
	return 0;
}

/*
 * Send sig to every child without an owner whose name starts with prefix
 * (any, for NULL).  They are our unreaped children, so their pids cannot
 * have been reused.
 */
static void
reaper_kill_unowned(int sig, const char *prefix, const char *what)
{
	char comm[32];
	pid_t *pids;
	size_t n, i;

	if (proc_children(&pids, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (reaper_owns(pids[i]))
			continue;
		if (prefix != NULL && (proc_comm(pids[i], comm,
		    sizeof comm) != 0 || strncmp(comm, prefix,
		    strlen(prefix)) != 0))
			continue;
		log_info("sending %s to %s %ld", names_signal(sig), what,
		    (long)pids[i]);
		if (kill(pids[i], sig) == -1 && errno != ESRCH)
			log_warn("%s: kill %ld", __func__, (long)pids[i]);
	}
	free(pids);
}

/*
 * Send sig to every child without an owner: orphans of a VM that left its
 * process group and were reparented to us.
 */
void
reaper_kill_strays(int sig)
{
	reaper_kill_unowned(sig, NULL, "stray process");
}

/*
 * SIGKILL every child without an owner that a worker spawned but that has
 * not exec'd yet.  A worker killed between clone and execve leaves such a
 * child: it still bears the worker's name (WORKER_COMM_PREFIX) and not yet
 * the marker a scan looks for, and would become a VM nobody knows.  Killed
 * before it execs, it never runs the VM's code.
 */
void
reaper_kill_unexeced(void)
{
	reaper_kill_unowned(SIGKILL, WORKER_COMM_PREFIX,
	    "not yet executed spawn of a lost worker");
}

/* "exited with status 1" or "killed by signal 9 (SIGKILL)". */
void
reaper_describe(const struct exit_info *ei, char *buf, size_t len)
{
	if (ei->signal == 0)
		snprintf(buf, len, "exited with status %d", ei->code);
	else
		snprintf(buf, len, "killed by signal %d (%s)%s", ei->signal,
		    names_signal(ei->signal), ei->core ? ", core dumped" : "");
}
