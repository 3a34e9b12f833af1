/*
 * spawn_floor.c: the floor of "boot at scale", the fastest N processes can
 * be started on this machine, as the mark that supervisors booting N zones
 * are compared with.  One process forks and execs N copies of a command,
 * one after another, with no records, no policy and no messages, then
 * waits; children that die meanwhile are reaped.  SIGTERM SIGKILLs every
 * child it started that is still its own and reaps them all.  The children
 * inherit the environment, so FAKE_VM_START_FILE reaches tests/fake-vm and
 * wait-starts measures this the same way as the supervisors.
 *
 * With -t each command is started by a process of its own: spawn-floor
 * forks a child per command, which vfork-execs it and waits (SIGTERM ends
 * both).  That is the process tree of a supervisor with a process per
 * service, zonevisor's or runit's, at the least it can cost.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t done, exited;

/* The children not reaped yet: an open-addressing set of pids. */
static pid_t *set;
static size_t set_size, set_count;

static void
on_signal(int sig)
{
	if (sig == SIGTERM)
		done = 1;
	else
		exited = 1;
}

static size_t
slot(pid_t pid)
{
	size_t i = ((size_t)pid * 2654435761u) & (set_size - 1);

	while (set[i] != 0 && set[i] != pid)
		i = (i + 1) & (set_size - 1);
	return i;
}

static void
set_add(pid_t pid)
{
	set[slot(pid)] = pid;
	set_count++;
}

/* Remove pid, moving later entries of its run back (no tombstones). */
static void
set_del(pid_t pid)
{
	size_t i = slot(pid), j, home;

	if (set[i] == 0)
		return;
	set[i] = 0;
	set_count--;
	for (j = (i + 1) & (set_size - 1); set[j] != 0;
	    j = (j + 1) & (set_size - 1)) {
		home = ((size_t)set[j] * 2654435761u) & (set_size - 1);
		/* Move set[j] to i unless its home lies in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			set[i] = set[j];
			set[j] = 0;
			i = j;
		}
	}
}

/* Reap every child that has exited, without waiting. */
static void
reap(void)
{
	pid_t pid;

	exited = 0;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		set_del(pid);
}

/* -t: a process of its own between spawn-floor and the command. */
static void
intermediate(char **cmd)
{
	sigset_t term, none;
	pid_t vm;
	int sig;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &term, NULL);
	if ((vm = vfork()) == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (vm > 0) {
		sigwait(&term, &sig);
		kill(vm, SIGKILL);
		while (waitpid(vm, NULL, 0) == -1 && errno == EINTR)
			;
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, old;
	char *end;
	long n, i;
	size_t k;
	pid_t pid;
	int rc = 0, tree = 0;

	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		tree = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || (n = strtol(argv[1], &end, 10)) < 1 || *end != '\0') {
		fprintf(stderr, "usage: spawn-floor [-t] count command "
		    "[arg ...]\n");
		return 2;
	}
	for (set_size = 16; set_size < 2 * (size_t)n; set_size *= 2)
		;
	if ((set = calloc(set_size, sizeof *set)) == NULL) {
		perror("spawn-floor");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_SETMASK, NULL, &old);

	for (i = 0; i < n && !done; i++) {
		if ((pid = fork()) == 0) {
			if (tree)
				intermediate(argv + 2);
			execvp(argv[2], argv + 2);
			fprintf(stderr, "spawn-floor: %s: %s\n", argv[2],
			    strerror(errno));
			_exit(127);
		}
		if (pid == -1) {
			fprintf(stderr, "spawn-floor: fork after %ld children: "
			    "%s\n", i, strerror(errno));
			done = 1;
			rc = 1;
			break;
		}
		set_add(pid);
		if (exited)
			reap();
	}

	/* Wait for SIGTERM, reaping as children die; no race with sigsuspend. */
	sigprocmask(SIG_BLOCK, &block, NULL);
	for (;;) {
		reap();
		if (done)
			break;
		sigsuspend(&old);
	}

	/*
	 * Every pid left in the set is a child not reaped yet, alive or a
	 * zombie, so it cannot belong to anyone else.
	 */
	for (k = 0; k < set_size; k++)
		if (set[k] != 0)
			kill(set[k], tree ? SIGTERM : SIGKILL);
	while (set_count > 0) {
		if ((pid = waitpid(-1, NULL, 0)) > 0)
			set_del(pid);
		else if (errno == ECHILD)
			break;
	}
	free(set);
	return rc;
}
