/*
 * floor.c: the fastest a supervisor can bring back a dead process on this
 * machine, as the floor that zonevisor's recovery latency is compared with.
 * It runs a command, holds it by a pidfd, and when it dies reaps it and
 * forks and execs it again at once: no records, no policy, no messages.
 * SIGTERM stops it and its child.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void
on_term(int sig)
{
	done = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	pid_t pid;
	int pidfd;

	if (argc < 2) {
		fprintf(stderr, "usage: floor command [arg ...]\n");
		return 2;
	}
	sa.sa_handler = on_term;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	while (!done) {
		struct pollfd pfd;

		if ((pid = fork()) == 0) {
			execvp(argv[1], argv + 1);
			_exit(127);
		}
		if (pid == -1 || (pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
			return 1;
		pfd.fd = pidfd;
		pfd.events = POLLIN;
		while (!done && poll(&pfd, 1, -1) != 1)
			;
		if (done)
			kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		close(pidfd);
	}
	return 0;
}
