/*
 * flood.c: a test helper that abuses the control socket the way a runaway
 * script or a careless local user would, and reports what came back as
 * "name value" lines for tests/integration/control_abuse.sh.  One process,
 * non-blocking sockets and one poll loop, every wait bounded by -t.
 *
 *   connect -n N: open N connections at once (raising its own descriptor
 *     limit to the hard limit), then send a status request on each.  Each
 *     ends answered (its own id, ok, a status result), refused (one
 *     too-many-clients error frame, then the connection closes) or other
 *     (anything else, described on stderr).  Answered connections stay open
 *     until the end.
 *   burst -n N -c C: N status requests with distinct ids over C
 *     connections at once; with -W each connection writes all of its
 *     requests before reading anything.  Every request must get exactly
 *     one ok answer with its own id.
 *   stuck -n N: one connection sends N status requests as fast as the
 *     socket takes them and never reads an answer; it reports whether the
 *     daemon closed it.
 *
 * With -h FILE the helper creates FILE once its connections are in place
 * (connect: answered or refused; stuck: its requests sent) and then holds
 * them until -g FILE exists, so that the test can look at the daemon
 * meanwhile.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "zonevisor.h"

#define ANSWER_MAX	(64 * 1024 * 1024)	/* a frame bigger is garbage */

enum outcome { PENDING, ANSWERED, REFUSED, OTHER };

struct conn {
	int		 fd;
	char		*out;		/* request frames not yet written */
	size_t		 outlen;
	size_t		 outoff;
	char		*in;		/* answer bytes not yet decoded */
	size_t		 inlen;
	size_t		 incap;
	int64_t		 first_id;	/* ids first_id .. first_id + nreq - 1 */
	size_t		 nreq;
	size_t		 nans;
	unsigned char	*seen;		/* per id: answered already */
	int		 outcome;	/* connect mode */
	int		 closed;	/* the daemon closed it */
};

static const char *sock_path, *hold_file, *go_file;
static int64_t deadline;
static long timeout = 30000;
static long bad;		/* burst: answers that are not what was asked */

static void usage(void) __attribute__((noreturn));
static void note(const struct conn *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
usage(void)
{
	fprintf(stderr, "usage: flood -s socket [-t ms] [-h hold-file -g "
	    "go-file] connect -n N | burst -n N [-c C] [-W] | stuck -n N\n");
	exit(2);
}

/* Say what went wrong on one connection (the first 20 times). */
static void
note(const struct conn *c, const char *fmt, ...)
{
	static long printed;
	va_list ap;

	if (printed++ >= 20)
		return;
	fprintf(stderr, "flood: connection %lld: ", (long long)c->first_id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A non-blocking connection; retried while the listen queue is full. */
static int
open_conn(struct conn *c)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	while (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno != EAGAIN || clock_mono_ms() > deadline) {
			int err = errno;

			close(c->fd);
			c->fd = -1;
			errno = err;
			return -1;
		}
		poll(NULL, 0, 1);
	}
	return 0;
}

/* Close n connections and free them and their buffers. */
static void
conns_free(struct conn *cs, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		if (cs[i].fd != -1)
			close(cs[i].fd);
		free(cs[i].out);
		free(cs[i].in);
		free(cs[i].seen);
	}
}

/* Queue nreq status requests, ids from first. */
static void
queue_requests(struct conn *c, int64_t first, size_t nreq)
{
	size_t i, cap = 0;

	c->first_id = first;
	c->nreq = nreq;
	c->seen = xcalloc(nreq == 0 ? 1 : nreq, 1);
	for (i = 0; i < nreq; i++) {
		struct msgw *w = msgw_new();
		const void *data;
		size_t len;

		msgw_map_begin(w);
		msgw_key(w, "v");
		msgw_int(w, PROTO_VERSION);
		msgw_key(w, "id");
		msgw_int(w, first + (int64_t)i);
		msgw_key(w, "cmd");
		msgw_str(w, "status");
		msgw_map_end(w);
		data = msgw_frame(w, &len);
		if (c->outlen + len > cap) {
			cap = cap == 0 ? 64 * nreq + 64 : cap * 2;
			c->out = xreallocarray(c->out, cap, 1);
		}
		memcpy(c->out + c->outlen, data, len);
		c->outlen += len;
		msgw_free(w);
	}
}

/* Write what the socket takes; -1 once the daemon is gone. */
static int
write_some(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		c->outoff += (size_t)n;
	}
	return 0;
}

/*
 * Read what arrived: 1 with bytes in c->in, 0 on end of stream (or the
 * reset a Unix socket reports when it was closed with requests unread), 2
 * when nothing is there yet, -1 on another error.
 */
static int
read_some(struct conn *c)
{
	ssize_t n;

	if (c->incap - c->inlen < 65536) {
		c->incap = c->incap == 0 ? 65536 : c->incap * 2;
		c->in = xreallocarray(c->in, c->incap, 1);
	}
	n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 2;
	if (n == 0 || (n == -1 && errno == ECONNRESET))
		return 0;
	if (n == -1)
		return -1;
	c->inlen += (size_t)n;
	return 1;
}

/*
 * The next whole frame in c->in, decoded, or NULL: *garbage set when the
 * bytes cannot be a frame.
 */
static struct mdoc *
next_frame(struct conn *c, int *garbage)
{
	const unsigned char *h = (const unsigned char *)c->in;
	const char *cause;
	struct mdoc *doc;
	size_t len;

	*garbage = 0;
	if (c->inlen < FRAME_HEADER)
		return NULL;
	len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	if (len > ANSWER_MAX) {
		*garbage = 1;
		return NULL;
	}
	if (c->inlen < FRAME_HEADER + len)
		return NULL;
	doc = mdoc_parse(c->in + FRAME_HEADER, len, &cause);
	memmove(c->in, c->in + FRAME_HEADER + len, c->inlen - FRAME_HEADER - len);
	c->inlen -= FRAME_HEADER + len;
	if (doc == NULL)
		*garbage = 1;
	return doc;
}

/* 1 if root is {id: want, ok: true, result: {supervisor, zones: [...]}}. */
static int
status_answer(const struct mval *root, int64_t *id)
{
	const struct mval *v, *r;
	int ok;

	if (mval_kind(root) != MV_MAP || (v = mval_get(root, "id")) == NULL ||
	    mval_int(v, id) != 0)
		return 0;
	if ((v = mval_get(root, "ok")) == NULL || mval_bool(v, &ok) != 0 || !ok)
		return 0;
	if ((r = mval_get(root, "result")) == NULL || mval_kind(r) != MV_MAP)
		return 0;
	if ((v = mval_get(r, "supervisor")) == NULL || mval_kind(v) != MV_MAP)
		return 0;
	if ((v = mval_get(r, "zones")) == NULL || mval_kind(v) != MV_ARRAY)
		return 0;
	return 1;
}

/* 1 if root is {id: nil, ok: false, error: {code: too-many-clients, ...}}. */
static int
refusal(const struct mval *root)
{
	const struct mval *v, *e;
	char code[64];
	int ok;

	if (mval_kind(root) != MV_MAP || (v = mval_get(root, "id")) == NULL ||
	    mval_kind(v) != MV_NIL)
		return 0;
	if ((v = mval_get(root, "ok")) == NULL || mval_bool(v, &ok) != 0 || ok)
		return 0;
	if ((e = mval_get(root, "error")) == NULL || mval_kind(e) != MV_MAP)
		return 0;
	if ((v = mval_get(e, "code")) == NULL ||
	    mval_strcpy(v, code, sizeof code) != 0 ||
	    strcmp(code, "too-many-clients") != 0)
		return 0;
	return (v = mval_get(e, "message")) != NULL && mval_kind(v) == MV_STR;
}

/* Wait for the go file, at most timeout ms. */
static void
hold(void)
{
	struct stat sb;
	int64_t end = clock_mono_ms() + timeout;
	int fd;

	if (hold_file == NULL)
		return;
	if ((fd = open(hold_file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1)
		close(fd);
	while (go_file != NULL && stat(go_file, &sb) == -1 &&
	    clock_mono_ms() < end)
		poll(NULL, 0, 20);
}

/* connect mode: what becomes of one connection's bytes so far. */
static void
connect_judge(struct conn *c, int r)
{
	struct mdoc *doc;
	int garbage;
	int64_t id;

	while (c->outcome != OTHER && (doc = next_frame(c, &garbage)) != NULL) {
		const struct mval *root = mdoc_root(doc);

		if (c->outcome == PENDING && status_answer(root, &id) &&
		    id == c->first_id)
			c->outcome = ANSWERED;
		else if (c->outcome == PENDING && refusal(root))
			c->outcome = REFUSED;	/* closed is still to come */
		else {
			note(c, "unexpected frame after %s", c->outcome == PENDING ?
			    "nothing" : c->outcome == ANSWERED ? "its answer" :
			    "its refusal");
			c->outcome = OTHER;
		}
		mdoc_free(doc);
	}
	if (garbage) {
		note(c, "%s", "undecodable bytes");
		c->outcome = OTHER;
	}
	if (r <= 0) {
		c->closed = 1;
		if (c->outcome == PENDING || c->outcome == ANSWERED) {
			note(c, "closed %s", c->outcome == PENDING ?
			    "without an answer" : "after its answer");
			c->outcome = OTHER;
		} else if (c->inlen > 0) {
			note(c, "%s", "closed inside a frame");
			c->outcome = OTHER;
		}
	}
}

static int
run_connect(long n)
{
	struct rlimit rl;
	struct conn *cs = xcalloc((size_t)n, sizeof *cs);
	struct pollfd *pfds = xcalloc((size_t)n, sizeof *pfds);
	long i, left, answered = 0, refused = 0, other = 0, opened = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < n; i++) {
		if (open_conn(&cs[i]) == -1) {
			fprintf(stderr, "flood: connection %ld: connect: %s\n",
			    i + 1, strerror(errno));
			cs[i].outcome = OTHER;
			cs[i].closed = 1;
			continue;
		}
		opened++;
	}
	printf("connected %ld\n", opened);
	for (i = 0; i < n; i++)
		if (cs[i].fd != -1)
			queue_requests(&cs[i], i + 1, 1);
		else
			cs[i].first_id = i + 1;
	/* Every request goes out before any answer is read. */
	for (i = 0; i < n; i++)
		if (cs[i].fd != -1 && write_some(&cs[i]) == -1 &&
		    errno != EPIPE && errno != ECONNRESET) {
			note(&cs[i], "send: %s", strerror(errno));
			cs[i].outcome = OTHER;
		}
	for (;;) {
		int64_t now = clock_mono_ms();

		/* Settled: refused and closed, answered, or other. */
		for (i = left = 0; i < n; i++) {
			struct conn *c = &cs[i];

			pfds[i].fd = -1;
			if (c->outcome == OTHER || c->closed ||
			    c->outcome == ANSWERED)
				continue;
			pfds[i].fd = c->fd;
			pfds[i].events = POLLIN | (c->outoff < c->outlen ?
			    POLLOUT : 0);
			left++;
		}
		if (left == 0 || now >= deadline)
			break;
		if (poll(pfds, (nfds_t)n, (int)(deadline - now)) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			struct conn *c = &cs[i];
			int r;

			if (pfds[i].fd == -1 || pfds[i].revents == 0)
				continue;
			if (c->outoff < c->outlen)
				write_some(c);
			while ((r = read_some(c)) == 1)
				;
			if (r == -1) {
				note(c, "read: %s", strerror(errno));
				c->outcome = OTHER;
				continue;
			}
			connect_judge(c, r == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < n; i++) {
		if (cs[i].outcome == PENDING) {
			note(&cs[i], "%s", "no answer in time");
			cs[i].outcome = OTHER;
		} else if (cs[i].outcome == REFUSED && !cs[i].closed) {
			note(&cs[i], "%s", "refused but not closed in time");
			cs[i].outcome = OTHER;
		}
		answered += cs[i].outcome == ANSWERED;
		refused += cs[i].outcome == REFUSED;
		other += cs[i].outcome == OTHER;
	}
	printf("answered %ld\nrefused %ld\nother %ld\n", answered, refused,
	    other);
	fflush(stdout);
	hold();
	conns_free(cs, n);
	free(cs);
	free(pfds);
	return 0;
}

/* burst mode: check the answers that arrived on c. */
static void
burst_judge(struct conn *c)
{
	struct mdoc *doc;
	int garbage;
	int64_t id;

	while ((doc = next_frame(c, &garbage)) != NULL) {
		if (!status_answer(mdoc_root(doc), &id) || id < c->first_id ||
		    id >= c->first_id + (int64_t)c->nreq) {
			note(c, "%s", "an answer that is not a status answer "
			    "to one of its ids");
			bad++;
		} else if (c->seen[id - c->first_id]++) {
			note(c, "%s", "a second answer to one id");
			bad++;
		} else
			c->nans++;
		mdoc_free(doc);
	}
	if (garbage) {
		note(c, "%s", "undecodable bytes");
		bad++;
		c->inlen = 0;
		c->closed = 1;
	}
}

static int
run_burst(long n, long nconn, int write_first)
{
	struct conn *cs = xcalloc((size_t)nconn, sizeof *cs);
	struct pollfd *pfds = xcalloc((size_t)nconn, sizeof *pfds);
	int64_t start = clock_mono_ms(), first = 1;
	long i, left, answered = 0, lost = 0;

	for (i = 0; i < nconn; i++) {
		size_t share = (size_t)(n / nconn + (i < n % nconn));

		if (open_conn(&cs[i]) == -1) {
			fprintf(stderr, "flood: connect: %s\n", strerror(errno));
			return 1;
		}
		queue_requests(&cs[i], first, share);
		first += (int64_t)share;
	}
	for (;;) {
		int64_t now = clock_mono_ms();

		for (i = left = 0; i < nconn; i++) {
			struct conn *c = &cs[i];
			int writing = c->outoff < c->outlen;

			pfds[i].fd = -1;
			if (c->closed || (!writing && c->nans == c->nreq))
				continue;
			pfds[i].fd = c->fd;
			pfds[i].events = (writing ? POLLOUT : 0) |
			    (writing && write_first ? 0 : POLLIN);
			left++;
		}
		if (left == 0 || now >= deadline)
			break;
		if (poll(pfds, (nfds_t)nconn, (int)(deadline - now)) <= 0)
			continue;
		for (i = 0; i < nconn; i++) {
			struct conn *c = &cs[i];
			int r;

			if (pfds[i].fd == -1 || pfds[i].revents == 0)
				continue;
			if (c->outoff < c->outlen && write_some(c) == -1) {
				note(c, "send: %s", strerror(errno));
				c->closed = 1;
				continue;
			}
			if (!(pfds[i].events & POLLIN))
				continue;
			while ((r = read_some(c)) == 1)
				burst_judge(c);
			if (r != 2) {
				note(c, "%s", r == 0 ? "closed by the daemon" :
				    strerror(errno));
				c->closed = 1;
			}
		}
	}
	for (i = 0; i < nconn; i++) {
		answered += (long)cs[i].nans;
		lost += (long)(cs[i].nreq - cs[i].nans);
	}
	conns_free(cs, nconn);
	free(cs);
	free(pfds);
	printf("requests %ld\nanswered %ld\nmissing %ld\nbad %ld\nms %lld\n",
	    n, answered, lost, bad, (long long)(clock_mono_ms() - start));
	return 0;
}

static int
run_stuck(long n)
{
	struct conn c;
	struct pollfd pfd;
	int64_t end;

	memset(&c, 0, sizeof c);
	if (open_conn(&c) == -1) {
		fprintf(stderr, "flood: connect: %s\n", strerror(errno));
		return 1;
	}
	queue_requests(&c, 1, (size_t)n);
	/* Send until done, or until the daemon takes nothing for 500 ms. */
	end = clock_mono_ms() + 500;
	while (c.outoff < c.outlen && clock_mono_ms() < end &&
	    clock_mono_ms() < deadline) {
		size_t before = c.outoff;

		pfd.fd = c.fd;
		pfd.events = POLLOUT;
		if (write_some(&c) == -1)
			break;
		if (c.outoff > before)
			end = clock_mono_ms() + 500;
		poll(&pfd, 1, 50);
	}
	printf("sent %zu\n", c.outoff);
	fflush(stdout);
	hold();
	pfd.fd = c.fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	poll(&pfd, 1, 0);
	printf("closed %d\n", (pfd.revents & (POLLRDHUP | POLLHUP)) != 0);
	conns_free(&c, 1);
	return 0;
}

int
main(int argc, char **argv)
{
	long n = 0, nconn = 1;
	int ch, write_first = 0;
	const char *mode;

	while ((ch = getopt(argc, argv, "+s:t:h:g:")) != -1) {
		switch (ch) {
		case 's': sock_path = optarg; break;
		case 't': timeout = strtol(optarg, NULL, 10); break;
		case 'h': hold_file = optarg; break;
		case 'g': go_file = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (sock_path == NULL || argc < 1 || timeout <= 0)
		usage();
	mode = argv[0];
	optind = 1;
	while ((ch = getopt(argc, argv, "n:c:W")) != -1) {
		switch (ch) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'c': nconn = strtol(optarg, NULL, 10); break;
		case 'W': write_first = 1; break;
		default: usage();
		}
	}
	if (n <= 0 || nconn <= 0 || nconn > n)
		usage();
	signal(SIGPIPE, SIG_IGN);
	deadline = clock_mono_ms() + timeout;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "connect") == 0)
		return run_connect(n);
	if (strcmp(mode, "burst") == 0)
		return run_burst(n, nconn, write_first);
	if (strcmp(mode, "stuck") == 0)
		return run_stuck(n);
	usage();
}
