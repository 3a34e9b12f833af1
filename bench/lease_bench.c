/*
 * lease_bench.c: what a tool VM lease costs.  Against a running zonevisord
 * it acquires a lease of zone -z and releases it, -n times over one
 * connection, timing each request from send to answer: an acquire is
 * answered once the tool VM is spawned (exec done) and its lease record is
 * written and fsynced; a release once the VM is gone (stop signal, reaped).
 * The floor runs the tool VM command given after "--" the same number of
 * times with nothing around it: fork, exec confirmed through a close-on-exec
 * pipe (as zonevisor confirms it), then SIGTERM and waitpid.  It prints
 * "name value" lines for scripts/bench: the median, p90 and max of each, in
 * microseconds, and errors.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#include "xmalloc.h"
#include "zonevisor.h"

#define ANSWER_TIMEOUT_MS	30000

static void
usage(void)
{
	fprintf(stderr, "usage: lease-bench -s SOCKET -z ZONE [-n N] -- "
	    "TOOL-COMMAND...\n");
	exit(2);
}

/*
 * Send a lease request (op, with lease for a release) and wait for its
 * answer; the lease id of an answer goes to id.  Returns the latency in
 * ns, or -1 with the reason printed.
 */
static int64_t
request(struct client_conn *conn, int64_t n, const char *zone, const char *op,
    char *id, size_t len)
{
	const struct mval *root, *v, *lease;
	const char *cause;
	struct mdoc *doc;
	struct msgw *w = msgw_new();
	int64_t t0, t1;
	int ok = 0;

	msgw_map_begin(w);
	msgw_key(w, "v");
	msgw_int(w, PROTO_VERSION);
	msgw_key(w, "id");
	msgw_int(w, n);
	msgw_key(w, "cmd");
	msgw_str(w, "lease");
	msgw_key(w, "zone");
	msgw_str(w, zone);
	msgw_key(w, "args");
	msgw_map_begin(w);
	msgw_key(w, "op");
	msgw_str(w, op);
	if (strcmp(op, "release") == 0) {
		msgw_key(w, "lease");
		msgw_str(w, id);
	}
	msgw_map_end(w);
	msgw_map_end(w);
	t0 = bench_ns(CLOCK_MONOTONIC);
	if (client_send(conn, w) != 0) {
		fprintf(stderr, "lease-bench: send: %s\n", strerror(errno));
		return -1;
	}
	doc = client_recv(conn, clock_mono_ms() + ANSWER_TIMEOUT_MS, &cause);
	t1 = bench_ns(CLOCK_MONOTONIC);
	if (doc == NULL) {
		fprintf(stderr, "lease-bench: answer: %s\n", cause);
		return -1;
	}
	root = mdoc_root(doc);
	if ((v = mval_get(root, "ok")) == NULL || mval_bool(v, &ok) != 0 ||
	    !ok) {
		fprintf(stderr, "lease-bench: %s refused\n", op);
		mdoc_free(doc);
		return -1;
	}
	lease = mval_get(mval_get(root, "result"), "lease");
	if (strcmp(op, "acquire") == 0 && (lease == NULL ||
	    mval_strcpy(mval_get(lease, "id"), id, len) != 0)) {
		fprintf(stderr, "lease-bench: acquire without a lease id\n");
		mdoc_free(doc);
		return -1;
	}
	mdoc_free(doc);
	return t1 - t0;
}

/* The floor of one cycle: start (exec confirmed), then stop and reap. */
static int
floor_cycle(char **cmd, int64_t *start_ns, int64_t *stop_ns)
{
	int64_t t0 = bench_ns(CLOCK_MONOTONIC), t1;
	int pipefd[2], status;
	char c;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(pipefd[0]);
		dup2(null, 1);
		dup2(null, 2);
		setsid();
		execv(cmd[0], cmd);
		(void)write(pipefd[1], "x", 1);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 0) {	/* EOF: exec done */
		close(pipefd[0]);
		waitpid(pid, &status, 0);
		return -1;
	}
	close(pipefd[0]);
	t1 = bench_ns(CLOCK_MONOTONIC);
	*start_ns = t1 - t0;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	*stop_ns = bench_ns(CLOCK_MONOTONIC) - t1;
	return 0;
}

/* Print name.median, name.p90 and name.max of n samples, in µs. */
static void
report(const char *name, int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp);
	printf("%s.median %lld\n", name, (long long)(v[n / 2] / 1000));
	printf("%s.p90 %lld\n", name, (long long)(v[n * 9 / 10] / 1000));
	printf("%s.max %lld\n", name, (long long)(v[n - 1] / 1000));
}

int
main(int argc, char **argv)
{
	const char *socket_path = NULL, *zone = NULL;
	int64_t *acq, *rel, *fstart, *fstop, t;
	struct client_conn conn;
	char id[LEASE_ID_MAX], *end;
	int ch, n = 100, i, errors = 0;

	while ((ch = getopt(argc, argv, "s:z:n:")) != -1) {
		switch (ch) {
		case 's': socket_path = optarg; break;
		case 'z': zone = optarg; break;
		case 'n':
			n = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 100000)
				usage();
			break;
		default: usage();
		}
	}
	if (socket_path == NULL || zone == NULL || optind >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (client_connect(&conn, socket_path) == -1) {
		fprintf(stderr, "lease-bench: cannot connect to %s: %s\n",
		    socket_path, strerror(errno));
		return 1;
	}
	acq = xcalloc((size_t)n, sizeof *acq);
	rel = xcalloc((size_t)n, sizeof *rel);
	fstart = xcalloc((size_t)n, sizeof *fstart);
	fstop = xcalloc((size_t)n, sizeof *fstop);
	/* Alternate: a noisy moment then costs both sides alike. */
	for (i = 0; i < n; i++) {
		if ((t = request(&conn, 2 * i, zone, "acquire", id,
		    sizeof id)) < 0 ||
		    (acq[i] = t, t = request(&conn, 2 * i + 1, zone, "release",
		    id, sizeof id)) < 0) {
			errors++;
			break;
		}
		rel[i] = t;
		if (floor_cycle(argv + optind, &fstart[i], &fstop[i]) != 0) {
			fprintf(stderr, "lease-bench: cannot run %s\n",
			    argv[optind]);
			errors++;
			break;
		}
	}
	client_close(&conn);
	if (errors == 0) {
		report("acquire", acq, n);
		report("release", rel, n);
		report("floor_start", fstart, n);
		report("floor_stop", fstop, n);
	}
	printf("cycles %d\n", errors == 0 ? n : i);
	printf("errors %d\n", errors);
	free(acq);
	free(rel);
	free(fstart);
	free(fstop);
	return errors == 0 ? 0 : 1;
}
