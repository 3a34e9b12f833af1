/*
 * control_bench.c: control throughput of a running zonevisord.  Each client
 * is a thread with its own connection that sends one request (version by
 * default) and waits for its answer, over and over, until the duration
 * ends.  It prints "name value" lines for scripts/bench: clients, answered
 * requests, seconds, throughput (requests per second), the median, p90 and
 * max latency in microseconds, and errors (answers with ok false and lost
 * connections, which are not counted as requests).  The client library
 * keeps no global state, so one connection per thread is safe.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "xmalloc.h"
#include "zonevisor.h"

#define ANSWER_TIMEOUT_MS	10000

struct bench_client {
	pthread_t		 thread;
	struct client_conn	 conn;
	int64_t			*lat;		/* ns, one per answered request */
	size_t			 nlat;
	size_t			 cap;
	long long		 errors;
	int			 lost;		/* the connection failed */
	char			 why[256];	/* the first error, if any */
};

static const char *socket_path, *command = "version", *zone;
static int64_t end_ns;
static pthread_barrier_t ready, go;

static void
usage(void)
{
	fprintf(stderr, "usage: control-bench -s socket [-c clients] "
	    "[-d seconds] [-C command] [-z zone]\n");
	exit(2);
}

/* Note the first error of a client. */
static void
note_error(struct bench_client *bc, const char *what, const char *detail)
{
	bc->errors++;
	if (bc->why[0] == '\0')
		snprintf(bc->why, sizeof bc->why, "%s: %s", what, detail);
}

/* Send {v, id, cmd, zone?} like zonectl's ctl_send_args(). */
static int
send_request(struct bench_client *bc, int64_t id)
{
	struct msgw *w = msgw_new();

	msgw_map_begin(w);
	msgw_str(w, "v");
	msgw_int(w, PROTO_VERSION);
	msgw_str(w, "id");
	msgw_int(w, id);
	msgw_str(w, "cmd");
	msgw_str(w, command);
	if (zone != NULL) {
		msgw_str(w, "zone");
		msgw_str(w, zone);
	}
	msgw_map_end(w);
	return client_send(&bc->conn, w);
}

/* One client: request, answer, until the end time. */
static void *
run_client(void *arg)
{
	struct bench_client *bc = arg;
	int64_t id = 1, t0, t1;

	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	while ((t0 = bench_ns(CLOCK_MONOTONIC)) < end_ns) {
		const struct mval *root, *v, *err, *c, *m;
		const char *cause;
		struct mdoc *doc;
		char code[64], msg[160];
		int ok;

		if (send_request(bc, id++) != 0) {
			note_error(bc, "send", strerror(errno));
			bc->lost = 1;
			break;
		}
		doc = client_recv(&bc->conn, clock_mono_ms() +
		    ANSWER_TIMEOUT_MS, &cause);
		t1 = bench_ns(CLOCK_MONOTONIC);
		if (doc == NULL) {
			note_error(bc, "answer", cause);
			bc->lost = 1;
			break;
		}
		root = mdoc_root(doc);
		if ((v = mval_get(root, "ok")) == NULL ||
		    mval_bool(v, &ok) != 0) {
			note_error(bc, "answer", "without ok");
		} else if (!ok) {
			err = mval_get(root, "error");
			c = err != NULL ? mval_get(err, "code") : NULL;
			m = err != NULL ? mval_get(err, "message") : NULL;
			if (c == NULL || mval_strcpy(c, code, sizeof code) != 0)
				strcpy(code, "error");
			if (m == NULL || mval_strcpy(m, msg, sizeof msg) != 0)
				msg[0] = '\0';
			note_error(bc, code, msg);
		} else {
			if (bc->nlat == bc->cap) {
				bc->cap = bc->cap == 0 ? 4096 : bc->cap * 2;
				bc->lat = xreallocarray(bc->lat, bc->cap,
				    sizeof *bc->lat);
			}
			bc->lat[bc->nlat++] = t1 - t0;
		}
		mdoc_free(doc);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct bench_client *bcs;
	int64_t *lat, start, elapsed;
	long long errors = 0;
	size_t total = 0, off;
	double seconds = 3;
	const char *why = NULL;
	char *end;
	int ch, clients = 8, i, lost = 0;

	while ((ch = getopt(argc, argv, "s:c:d:C:z:")) != -1) {
		switch (ch) {
		case 's': socket_path = optarg; break;
		case 'c':
			clients = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || clients < 1 || clients > 4096)
				usage();
			break;
		case 'd':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || !(seconds > 0) || seconds > 86400)
				usage();
			break;
		case 'C': command = optarg; break;
		case 'z': zone = optarg; break;
		default: usage();
		}
	}
	if (socket_path == NULL || optind != argc)
		usage();

	bcs = xcalloc((size_t)clients, sizeof *bcs);
	for (i = 0; i < clients; i++)
		if (client_connect(&bcs[i].conn, socket_path) == -1) {
			fprintf(stderr, "control-bench: cannot connect to %s: "
			    "%s\n", socket_path, strerror(errno));
			return 1;
		}
	pthread_barrier_init(&ready, NULL, (unsigned)clients + 1);
	pthread_barrier_init(&go, NULL, (unsigned)clients + 1);
	for (i = 0; i < clients; i++)
		if ((errno = pthread_create(&bcs[i].thread, NULL, run_client,
		    &bcs[i])) != 0) {
			perror("control-bench: pthread_create");
			return 1;
		}
	pthread_barrier_wait(&ready);
	start = bench_ns(CLOCK_MONOTONIC);
	end_ns = start + (int64_t)(seconds * 1e9);
	pthread_barrier_wait(&go);
	for (i = 0; i < clients; i++)
		pthread_join(bcs[i].thread, NULL);
	elapsed = bench_ns(CLOCK_MONOTONIC) - start;

	for (i = 0; i < clients; i++) {
		total += bcs[i].nlat;
		errors += bcs[i].errors;
		lost += bcs[i].lost;
		if (why == NULL && bcs[i].why[0] != '\0')
			why = bcs[i].why;
	}
	lat = xcalloc(total > 0 ? total : 1, sizeof *lat);
	for (i = 0, off = 0; i < clients; i++) {
		if (bcs[i].nlat > 0)
			memcpy(lat + off, bcs[i].lat,
			    bcs[i].nlat * sizeof *lat);
		off += bcs[i].nlat;
	}
	qsort(lat, total, sizeof *lat, bench_cmp);

	printf("clients %d\n", clients);
	printf("requests %zu\n", total);
	printf("seconds %.2f\n", (double)elapsed / 1e9);
	printf("throughput %.0f\n", (double)total * 1e9 / (double)elapsed);
	printf("median %lld\n", total > 0 ?
	    (long long)(lat[total / 2] / 1000) : 0);
	printf("p90 %lld\n", total > 0 ?
	    (long long)(lat[total * 9 / 10] / 1000) : 0);
	printf("max %lld\n", total > 0 ?
	    (long long)(lat[total - 1] / 1000) : 0);
	printf("errors %lld\n", errors);
	if (why != NULL)
		fprintf(stderr, "control-bench: first error: %s\n", why);
	if (lost > 0)
		fprintf(stderr, "control-bench: %d of %d connections lost\n",
		    lost, clients);

	for (i = 0; i < clients; i++) {
		client_close(&bcs[i].conn);
		free(bcs[i].lat);
	}
	free(bcs);
	free(lat);
	return total > 0 && lost == 0 ? 0 : 1;
}
