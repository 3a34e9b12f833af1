/*
 * fake_vm.c: a stand-in gateway VM for the tests and benchmarks.  It records
 * its start ("<pid> <realtime ns>" appended to --start-file), idles, and can
 * misbehave on request: ignore SIGTERM, exit after a while, write to stdout
 * and stderr, or leave children behind (in its process group, or escaped
 * into a session of their own).  Without --start-file it uses
 * $FAKE_VM_START_FILE when that is set and not empty, so that supervisors
 * which run ./run without options (runit, s6, daemontools) can run it
 * through a symlink and still have its start recorded; with
 * $FAKE_VM_NOTIFY_FD it writes a newline to that descriptor once started
 * (s6's readiness notification).  --exclusive FILE makes "never two VMs at
 * once" exact rather than sampled: the VM holds an exclusive flock on FILE
 * for its whole life (the kernel drops it as the process dies, before it
 * can be reaped), and one that finds the lock taken appends a line to
 * FILE.violation.
 */
#include <sys/file.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
usage(void)
{
	fprintf(stderr, "usage: fake-vm [--start-file F] [--ignore-term] "
	    "[--exit-after MS] [--exit-code N] [--print TEXT] [--child] "
	    "[--escaped-child F] [--marker WORD] [--spew BYTES] "
	    "[--exclusive F]\n"
	    "without --start-file, $FAKE_VM_START_FILE (if set and not empty) "
	    "is the start file\n");
	exit(2);
}

/* Append "<pid> <realtime ns>\n" to path in one write. */
static void
record_start(const char *path, pid_t pid)
{
	struct timespec ts;
	char line[64];
	int fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof line, "%ld %lld\n", (long)pid,
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644)) == -1) {
		perror(path);
		exit(1);
	}
	if (write(fd, line, (size_t)n) != n)
		exit(1);
	close(fd);
}

/*
 * Hold an exclusive lock on path for the rest of our life; if another
 * process holds it, note the violation in path.violation and go on (the
 * supervisor under test must see a VM that runs).
 */
static void
hold_exclusive(const char *path)
{
	char vpath[4096], line[128];
	int fd, vfd, n;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		perror(path);
		exit(1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return;		/* fd stays open: the lock lives with us */
	snprintf(vpath, sizeof vpath, "%s.violation", path);
	n = snprintf(line, sizeof line, "%ld started while another VM holds "
	    "the lock\n", (long)getpid());
	if ((vfd = open(vpath, O_WRONLY | O_APPEND | O_CREAT, 0644)) == -1 ||
	    write(vfd, line, (size_t)n) != n)
		perror(vpath);
	fprintf(stderr, "fake-vm: %s", line);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "start-file", required_argument, NULL, 's' },
		{ "ignore-term", no_argument, NULL, 'i' },
		{ "exit-after", required_argument, NULL, 'e' },
		{ "exit-code", required_argument, NULL, 'c' },
		{ "print", required_argument, NULL, 'p' },
		{ "child", no_argument, NULL, 'k' },
		{ "escaped-child", required_argument, NULL, 'x' },
		{ "marker", required_argument, NULL, 'm' },
		{ "spew", required_argument, NULL, 'w' },
		{ "exclusive", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	const char *start_file = NULL, *print = NULL, *escaped = NULL, *notify;
	long exit_after = -1, spew = 0;
	int ch, exit_code = 0, child = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': start_file = optarg; break;
		case 'i': signal(SIGTERM, SIG_IGN); break;
		case 'e': exit_after = strtol(optarg, NULL, 10); break;
		case 'c': exit_code = atoi(optarg); break;
		case 'p': print = optarg; break;
		case 'k': child = 1; break;
		case 'x': escaped = optarg; break;
		case 'm': break;	/* only there to be seen in ps output */
		case 'w': spew = strtol(optarg, NULL, 10); break;
		case 'l': hold_exclusive(optarg); break;
		default: usage();
		}
	}
	if (start_file == NULL) {
		/* runit, s6 and daemontools run ./run without options. */
		start_file = getenv("FAKE_VM_START_FILE");
		if (start_file != NULL && *start_file == '\0')
			start_file = NULL;
	}
	if (start_file != NULL)
		record_start(start_file, getpid());
	/* s6: readiness is a newline on the service's notification fd. */
	if ((notify = getenv("FAKE_VM_NOTIFY_FD")) != NULL && *notify != '\0') {
		int fd = atoi(notify);

		if (write(fd, "\n", 1) == -1)
			perror("fake-vm: FAKE_VM_NOTIFY_FD");
		close(fd);
	}
	if (print != NULL) {
		printf("stdout: %s\n", print);
		fflush(stdout);
		fprintf(stderr, "stderr: %s\n", print);
	}
	/* --spew N: N bytes of output in lines of 64, for log rotation. */
	for (; spew > 0; spew -= 64)
		printf("%.63s\n", "spew-spew-spew-spew-spew-spew-spew-spew-spew-spew-spew-spew-spe");
	fflush(stdout);
	if (child && fork() == 0) {
		for (;;)
			pause();
	}
	if (escaped != NULL && fork() == 0) {
		setsid();
		if (fork() == 0) {
			record_start(escaped, getpid());
			for (;;)
				pause();
		}
		_exit(0);
	}
	if (exit_after >= 0) {
		struct timespec ts = { exit_after / 1000,
		    (exit_after % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		return exit_code;
	}
	for (;;)
		pause();
}
