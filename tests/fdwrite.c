/*
 * fdwrite.c: write bytes into another process's descriptor, for tests that
 * must forge what a process sends.  "fdwrite PID FD HEX" duplicates
 * descriptor FD of process PID with pidfd_getfd(2) (root, or ptrace rights
 * over PID) and writes the bytes spelled by HEX into it, as if PID had
 * written them.  It exits 0 when every byte was written, 1 otherwise, and
 * 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The bytes spelled by hex into out (at most cap); -1 if hex is not hex. */
static long
unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t len = strlen(hex), i;

	if (len % 2 != 0 || len / 2 > cap)
		return -1;
	for (i = 0; i < len / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return (long)(len / 2);
}

int
main(int argc, char **argv)
{
	unsigned char bytes[4096];
	char *end;
	long pid, target, n;
	int pidfd, fd;

	if (argc != 4) {
		fprintf(stderr, "usage: fdwrite PID FD HEX\n");
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end != '\0' || pid <= 0) {
		fprintf(stderr, "fdwrite: bad pid: %s\n", argv[1]);
		return 2;
	}
	target = strtol(argv[2], &end, 10);
	if (*end != '\0' || target < 0) {
		fprintf(stderr, "fdwrite: bad descriptor: %s\n", argv[2]);
		return 2;
	}
	n = unhex(argv[3], bytes, sizeof bytes);
	if (n < 0) {
		fprintf(stderr, "fdwrite: bad hex bytes: %s\n", argv[3]);
		return 2;
	}
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "fdwrite: pidfd_open %ld: %s\n", pid,
		    strerror(errno));
		return 1;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)target, 0);
	if (fd < 0) {
		fprintf(stderr, "fdwrite: pidfd_getfd %ld/%ld: %s\n", pid,
		    target, strerror(errno));
		return 1;
	}
	if (write(fd, bytes, (size_t)n) != n) {
		fprintf(stderr, "fdwrite: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
