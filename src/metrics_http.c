/*
 * metrics_http.c: serves the Prometheus text of metrics.c over HTTP/1.x on
 * the TCP address of metrics_listen, in the parent's libev loop.  GET (or
 * HEAD) /metrics gets 200 with the exposition; another path gets 404,
 * another method on /metrics 405, and a request that is malformed, not
 * HTTP/1.x or larger than MHTTP_REQUEST_MAX bytes gets 400.  Every answer
 * closes the connection (no keep-alive, no pipelining).
 *
 * Everything a client sends is untrusted and nothing it does can reach a
 * zone: at most MHTTP_MAX_CLIENTS connections at once (the next ones get
 * 503 and are closed), a request must arrive whole within
 * MHTTP_READ_TIMEOUT, an answer is written without blocking and dropped if
 * the client takes none of it for MHTTP_WRITE_TIMEOUT or not all of it
 * within MHTTP_WRITE_MAX, and the lingering
 * close that lets the client read an answer before the connection goes is
 * bounded in time and bytes.  Requests within MHTTP_FRESH_MS of each other
 * share one text, so a flood of them costs one build per MHTTP_FRESH_MS.
 * The listener is not authenticated: bind it to loopback unless a firewall
 * guards it.  If it cannot be bound (the port is taken), zonevisord runs on
 * without it, says so, and tries again every MHTTP_RETRY seconds.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define MHTTP_MAX_CLIENTS	16	/* connections served at once */
#define MHTTP_REQUEST_MAX	8192	/* bytes of request line and headers */
#define MHTTP_READ_TIMEOUT	10.	/* s for the whole request */
#define MHTTP_WRITE_TIMEOUT	10.	/* s without progress writing */
#define MHTTP_WRITE_MAX		30.	/* s to write a whole answer */
#define MHTTP_LINGER		2.	/* s reading after the answer */
#define MHTTP_LINGER_MAX	65536	/* bytes read after the answer */
#define MHTTP_ACCEPT_PAUSE	0.1	/* s between accepts out of fds */
#define MHTTP_RETRY		10.	/* s between tries to bind */
#define MHTTP_ACCEPTS		32	/* accepted per wake-up at most */
#define MHTTP_FRESH_MS		100	/* a text this young is served again */

enum { HC_READ, HC_WRITE, HC_LINGER };

struct hclient {
	TAILQ_ENTRY(hclient)	 entry;
	int			 fd;
	int			 phase;		/* HC_* */
	ev_io			 io;
	ev_timer		 timer;
	char			 req[MHTTP_REQUEST_MAX];
	size_t			 reqlen;
	char			*out;		/* the answer */
	size_t			 outlen;
	size_t			 outoff;	/* written so far */
	size_t			 drained;	/* read while lingering */
	ev_tstamp		 write_end;	/* the answer is out by then */
};
TAILQ_HEAD(hclient_list, hclient);

static struct ev_loop		*mhttp_loop;
static int			 mhttp_fd = -1;
static int			 mhttp_family;
static char			 mhttp_host[48];
static int			 mhttp_port;
static char			 mhttp_where[80];	/* for messages */
static ev_io			 mhttp_accept_watch;
static ev_timer			 mhttp_pause;	/* accept pause, bind retry */
static int			 mhttp_failing;	/* a failure was logged */
static struct hclient_list	 mhttp_clients =
    TAILQ_HEAD_INITIALIZER(mhttp_clients);
static int			 mhttp_nclients;
static char			*mhttp_text;	/* the last text built */
static size_t			 mhttp_textlen;
static int64_t			 mhttp_text_ms;	/* when, monotonic */

static int mhttp_bind(void);
static void mhttp_retry_cb(struct ev_loop *, ev_timer *, int);
static void mhttp_accept_cb(struct ev_loop *, ev_io *, int);
static void mhttp_refuse(int);
static void mhttp_io_cb(struct ev_loop *, ev_io *, int);
static void mhttp_timer_cb(struct ev_loop *, ev_timer *, int);
static void mhttp_read(struct hclient *);
static void mhttp_write(struct hclient *);
static void mhttp_linger(struct hclient *);
static int mhttp_parse(const char *, size_t, char *, size_t, char *, size_t);
static void mhttp_answer(struct hclient *, int, const char *, const char *,
    size_t, int, const char *);
static void mhttp_request(struct hclient *, size_t);
static void mhttp_watch(struct hclient *, int);
static void mhttp_free(struct hclient *);

/*
 * Bind metrics_listen, if cfg sets it, and serve.  A failure to bind is
 * logged and retried; zonevisord runs on meanwhile.
 */
void
metrics_http_listen(struct ev_loop *loop, const struct config *cfg)
{
	if (cfg->metrics_listen == NULL)
		return;
	mhttp_loop = loop;
	mhttp_family = cfg->metrics_family;
	snprintf(mhttp_host, sizeof mhttp_host, "%s", cfg->metrics_host);
	mhttp_port = cfg->metrics_port;
	snprintf(mhttp_where, sizeof mhttp_where,
	    mhttp_family == AF_INET6 ? "[%s]:%d" : "%s:%d", mhttp_host,
	    mhttp_port);
	ev_init(&mhttp_pause, mhttp_retry_cb);
	ev_io_init(&mhttp_accept_watch, mhttp_accept_cb, -1, EV_READ);
	mhttp_retry_cb(loop, &mhttp_pause, 0);
}

/* Close the listener and every client. */
void
metrics_http_close(void)
{
	struct hclient *c;

	if (mhttp_loop == NULL)
		return;
	while ((c = TAILQ_FIRST(&mhttp_clients)) != NULL)
		mhttp_free(c);
	ev_timer_stop(mhttp_loop, &mhttp_pause);
	free(mhttp_text);
	mhttp_text = NULL;
	if (mhttp_fd != -1) {
		ev_io_stop(mhttp_loop, &mhttp_accept_watch);
		close(mhttp_fd);
		mhttp_fd = -1;
	}
	mhttp_loop = NULL;
}

/* A listening socket on the configured address, or -1 with errno. */
static int
mhttp_bind(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, saved;

	memset(&ss, 0, sizeof ss);
	if (mhttp_family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)mhttp_port);
		if (inet_pton(AF_INET6, mhttp_host, &sin6->sin6_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		len = sizeof *sin6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)mhttp_port);
		if (inet_pton(AF_INET, mhttp_host, &sin->sin_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		len = sizeof *sin;
	}
	if ((fd = socket(mhttp_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* A restarted zonevisord takes the port over from TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 64) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Try to bind (at start, then every MHTTP_RETRY s while it fails), or, out
 * of descriptors, accept again.
 */
static void
mhttp_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (mhttp_fd != -1) {	/* an accept pause ended */
		ev_io_start(loop, &mhttp_accept_watch);
		return;
	}
	if ((mhttp_fd = mhttp_bind()) == -1) {
		if (!mhttp_failing)
			log_warn("metrics: cannot listen on %s "
			    "(metrics_listen); serving no metrics over HTTP, "
			    "trying again every %.0fs", mhttp_where,
			    MHTTP_RETRY);
		mhttp_failing = 1;
		ev_timer_set(w, MHTTP_RETRY, 0.);
		ev_timer_start(loop, w);
		return;
	}
	log_info("metrics: serving http://%s/metrics", mhttp_where);
	mhttp_failing = 0;
	ev_io_set(&mhttp_accept_watch, mhttp_fd, EV_READ);
	ev_io_start(loop, &mhttp_accept_watch);
}

/* Clients connect. */
static void
mhttp_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hclient *c;
	int fd, i;

	for (i = 0; i < MHTTP_ACCEPTS; i++) {
		if ((fd = accept4(mhttp_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Queued still: pause rather than spin. */
				if (!mhttp_failing)
					log_warn("metrics: accept failed; "
					    "pausing");
				mhttp_failing = 1;
				ev_io_stop(loop, w);
				ev_timer_set(&mhttp_pause, MHTTP_ACCEPT_PAUSE,
				    0.);
				ev_timer_start(loop, &mhttp_pause);
			}
			return;
		}
		mhttp_failing = 0;
		if (mhttp_nclients >= MHTTP_MAX_CLIENTS) {
			mhttp_refuse(fd);
			continue;
		}
		c = xcalloc(1, sizeof *c);
		c->fd = fd;
		c->phase = HC_READ;
		ev_io_init(&c->io, mhttp_io_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->timer, mhttp_timer_cb, MHTTP_READ_TIMEOUT,
		    0.);
		c->timer.data = c;
		ev_timer_start(loop, &c->timer);
		TAILQ_INSERT_TAIL(&mhttp_clients, c, entry);
		mhttp_nclients++;
	}
}

/* Too many clients: one try at a 503, then close. */
static void
mhttp_refuse(int fd)
{
	static const char busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 25\r\n"
	    "Retry-After: 1\r\n"
	    "Connection: close\r\n\r\n"
	    "too many metrics clients\n";

	log_debug("metrics: %d clients connected; refusing one",
	    mhttp_nclients);
	if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("metrics: refusing: %s", strerror(errno));
	close(fd);
}

/* The socket is readable or writable. */
static void
mhttp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hclient *c = w->data;

	switch (c->phase) {
	case HC_READ:
		mhttp_read(c);
		break;
	case HC_WRITE:
		mhttp_write(c);
		break;
	case HC_LINGER:
		mhttp_linger(c);
		break;
	}
}

/* Too slow: a request that never completes, or an answer nobody reads. */
static void
mhttp_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hclient *c = w->data;

	if (c->phase != HC_LINGER)
		log_debug("metrics: closing a client that was too slow %s",
		    c->phase == HC_READ ? "sending its request" :
		    "reading the answer");
	mhttp_free(c);
}

/* Read the request until its headers end, then answer it. */
static void
mhttp_read(struct hclient *c)
{
	size_t from;
	ssize_t n;
	char *end, *lf;

	for (;;) {
		if (c->reqlen == sizeof c->req) {
			mhttp_answer(c, 400, "Bad Request", NULL, 0, 0,
			    "request too large\n");
			return;
		}
		n = recv(c->fd, c->req + c->reqlen, sizeof c->req - c->reqlen,
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {	/* gone before asking anything whole */
			mhttp_free(c);
			return;
		}
		from = c->reqlen > 3 ? c->reqlen - 3 : 0;
		c->reqlen += (size_t)n;
		if (memchr(c->req + from, '\0', c->reqlen - from) != NULL) {
			mhttp_answer(c, 400, "Bad Request", NULL, 0, 0,
			    "bad request\n");
			return;
		}
		/* The headers end with an empty line, CRLF or bare LF. */
		end = memmem(c->req + from, c->reqlen - from, "\n\r\n", 3);
		lf = memmem(c->req + from, c->reqlen - from, "\n\n", 2);
		if (end == NULL || (lf != NULL && lf < end))
			end = lf;
		if (end != NULL) {
			mhttp_request(c, (size_t)(end - c->req) + 1);
			return;
		}
	}
}

/*
 * Parse the request line and headers, the len bytes of req up to and
 * including the last header line's newline: the method to method and the
 * path (query removed) to path.  0, or -1 for a request that is not HTTP/1.x
 * or is malformed.
 */
static int
mhttp_parse(const char *req, size_t len, char *method, size_t mlen,
    char *path, size_t plen)
{
	const char *p = req, *eol, *end = req + len, *sp1, *sp2, *q, *colon;
	size_t n;

	if ((eol = memchr(p, '\n', len)) == NULL)
		return -1;
	n = (size_t)(eol - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	/* METHOD SP TARGET SP HTTP/1.x */
	if ((sp1 = memchr(p, ' ', n)) == NULL || sp1 == p ||
	    (size_t)(sp1 - p) >= mlen)
		return -1;
	for (q = p; q < sp1; q++)
		if (*q < 'A' || *q > 'Z')
			return -1;
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(p + n - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1 || sp1[1] != '/')
		return -1;
	if ((size_t)(p + n - sp2 - 1) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' || sp2[8] > '9')
		return -1;
	for (q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return -1;
	memcpy(method, p, (size_t)(sp1 - p));
	method[sp1 - p] = '\0';
	for (q = sp1 + 1; q < sp2 && *q != '?' && *q != '#'; q++)
		;
	n = (size_t)(q - sp1 - 1);
	if (n >= plen)
		n = plen - 1;	/* a long path is some path, not /metrics */
	memcpy(path, sp1 + 1, n);
	path[n] = '\0';
	/* Header lines: NAME: value, NAME without blanks. */
	for (p = eol + 1; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if ((colon = memchr(p, ':', n)) == NULL || colon == p)
			return -1;
		for (q = p; q < colon; q++)
			if ((unsigned char)*q <= ' ' || *q == 0x7f)
				return -1;
	}
	return 0;
}

/* A whole request's headers are in (len bytes): answer it. */
static void
mhttp_request(struct hclient *c, size_t len)
{
	char method[16], path[64];
	int64_t now = clock_mono_ms();

	if (mhttp_parse(c->req, len, method, sizeof method, path,
	    sizeof path) != 0) {
		mhttp_answer(c, 400, "Bad Request", NULL, 0, 0,
		    "bad request\n");
		return;
	}
	if (strcmp(path, "/metrics") != 0) {
		mhttp_answer(c, 404, "Not Found", NULL, 0, 0,
		    "not found; the metrics are at /metrics\n");
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		mhttp_answer(c, 405, "Method Not Allowed", NULL, 0, 0,
		    "only GET and HEAD\n");
		return;
	}
	/*
	 * Scrapers that come together share one text: a flood of requests
	 * costs the supervisor one build per MHTTP_FRESH_MS at most.
	 */
	if (mhttp_text == NULL || now - mhttp_text_ms >= MHTTP_FRESH_MS) {
		free(mhttp_text);
		mhttp_text = metrics_render(&mhttp_textlen);
		mhttp_text_ms = now;
	}
	mhttp_answer(c, 200, "OK", mhttp_text, mhttp_textlen,
	    strcmp(method, "HEAD") == 0, NULL);
}

/*
 * Answer with status, and body (blen bytes) or, if body is NULL, the
 * short text msg; head: the headers only.  Then write it, and close.
 */
static void
mhttp_answer(struct hclient *c, int status, const char *reason,
    const char *body, size_t blen, int head, const char *msg)
{
	char hdr[512];
	int n;

	if (body == NULL) {
		body = msg;
		blen = strlen(msg);
	}
	n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, reason,
	    status == 200 ? METRICS_CONTENT_TYPE : "text/plain; charset=utf-8",
	    blen, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof hdr) {
		mhttp_free(c);
		return;
	}
	if (head)
		blen = 0;
	if (status != 200)
		log_debug("metrics: answered %d", status);
	c->outlen = (size_t)n + blen;
	c->out = xmalloc(c->outlen);
	memcpy(c->out, hdr, (size_t)n);
	memcpy(c->out + n, body, blen);
	c->outoff = 0;
	c->phase = HC_WRITE;
	/*
	 * A write timeout, renewed by each bit of progress, and a deadline
	 * for the whole answer: a reader that takes a few bytes now and then
	 * would otherwise hold one of the few slots for ever.
	 */
	c->write_end = ev_now(mhttp_loop) + MHTTP_WRITE_MAX;
	ev_timer_stop(mhttp_loop, &c->timer);
	ev_timer_set(&c->timer, 0., MHTTP_WRITE_TIMEOUT);
	ev_timer_again(mhttp_loop, &c->timer);
	mhttp_write(c);
}

/* Watch the client's socket for events instead of what it watched. */
static void
mhttp_watch(struct hclient *c, int events)
{
	if ((c->io.events & (EV_READ | EV_WRITE)) == events &&
	    ev_is_active(&c->io))
		return;
	ev_io_stop(mhttp_loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(mhttp_loop, &c->io);
}

/* Write what the socket takes; once all is out, linger. */
static void
mhttp_write(struct hclient *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		if (ev_now(mhttp_loop) >= c->write_end) {
			log_debug("metrics: closing a client that took over "
			    "%.0fs to read the answer", MHTTP_WRITE_MAX);
			mhttp_free(c);
			return;
		}
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			mhttp_watch(c, EV_WRITE);
			return;
		}
		if (n <= 0) {
			mhttp_free(c);
			return;
		}
		c->outoff += (size_t)n;
		ev_timer_again(mhttp_loop, &c->timer);
	}
	free(c->out);
	c->out = NULL;
	/*
	 * Closing with unread input would reset the connection, and the
	 * client could lose the answer: say we are done, then read what it
	 * still sends, for a while, before closing.
	 */
	shutdown(c->fd, SHUT_WR);
	c->phase = HC_LINGER;
	ev_timer_stop(mhttp_loop, &c->timer);
	ev_timer_set(&c->timer, MHTTP_LINGER, 0.);
	ev_timer_start(mhttp_loop, &c->timer);
	mhttp_watch(c, EV_READ);
	mhttp_linger(c);
}

/* Discard what the client sends after the answer, until it closes. */
static void
mhttp_linger(struct hclient *c)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof buf, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		c->drained += (size_t)n;
		if (c->drained > MHTTP_LINGER_MAX)
			break;
	}
	mhttp_free(c);
}

/* Forget a client and close its connection. */
static void
mhttp_free(struct hclient *c)
{
	ev_io_stop(mhttp_loop, &c->io);
	ev_timer_stop(mhttp_loop, &c->timer);
	TAILQ_REMOVE(&mhttp_clients, c, entry);
	mhttp_nclients--;
	close(c->fd);
	free(c->out);
	free(c);
}
