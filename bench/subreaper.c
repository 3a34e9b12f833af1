/*
 * subreaper.c: runs scripts/bench as a child subreaper.  runsvdir and svscan
 * exit before the runsv and supervise processes they started; those are
 * then reparented to the nearest subreaper, and without one to PID 1, which
 * in a container may never reap them.  Under this program they come here
 * and are reaped at once, so the benchmark leaves no zombie behind.
 *
 *   subreaper command [arg ...]    exits with the command's status
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void
forward(int sig)
{
	got = sig;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	pid_t cmd, pid;
	int status, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: subreaper command [arg ...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		perror("subreaper: PR_SET_CHILD_SUBREAPER");
	if ((cmd = fork()) == -1) {
		perror("subreaper: fork");
		return 1;
	}
	if (cmd == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	/* ^C or a TERM meant for the benchmark goes to it, which cleans up. */
	sa.sa_handler = forward;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		if (got != 0) {
			kill(cmd, got);
			got = 0;
		}
		if ((pid = wait(&status)) == -1) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: nothing left */
		}
		if (pid == cmd) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
			break;
		}
	}
	/* The command is done: reap what is dead, do not wait for the rest. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		;
	if (pid == 0)
		fprintf(stderr, "subreaper: processes the command started are "
		    "still running\n");
	return rc;
}
