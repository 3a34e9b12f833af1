/*
 * mem_floor.c: the memory floor of a process per zone, for the memory
 * benchmark.  It forks N children that each do the least a worker must:
 * run a libev loop of their own that waits on a signalfd, and nothing else.
 * The proportional set size of these children (read by scripts/bench from
 * /proc/PID/smaps_rollup) is what any supervisor that forks one event-driven
 * process per service pays before it does any work.  SIGTERM ends it and
 * its children.
 */
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ev.h>

static void
child_signal_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	_exit(0);
}

/* A child: block the signals, read them from a signalfd on its own loop. */
static void
child(void)
{
	struct ev_loop *loop;
	static ev_io io;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		_exit(1);
	ev_io_init(&io, child_signal_cb, fd, EV_READ);
	ev_io_start(loop, &io);
	ev_run(loop, 0);
	_exit(0);
}

int
main(int argc, char **argv)
{
	pid_t *pids;
	sigset_t set;
	int n, i, sig;

	if (argc != 2 || (n = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: mem-floor N\n");
		return 2;
	}
	if ((pids = calloc((size_t)n, sizeof *pids)) == NULL)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		if ((pids[i] = fork()) == 0)
			child();
		if (pids[i] == -1)
			break;
	}
	sigwait(&set, &sig);
	while (--i >= 0)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
