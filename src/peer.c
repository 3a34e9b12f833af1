/*
 * peer.c: a framed msgpack connection on a libev loop, used for the parent's
 * links to its workers, the worker's link to its parent, and control
 * clients.  Input is cut into frames (4-byte big-endian length, payload);
 * each complete frame is decoded by the message layer and handed to the
 * owner, a malformed or oversized one is reported instead.  Output is queued
 * and written as the socket accepts it, up to a cap beyond which the peer is
 * treated as gone.  A peer given a backlog (peer_set_backlog) has no more
 * frames handed out while more output than that waits for it: a client
 * that sends requests and never reads the answers then costs its buffers,
 * not the cap.  A peer freed from inside one of its own callbacks is only
 * marked, and released when the callback returns.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

/* Bytes a buffer starts with: most frames are a few hundred bytes. */
#define PEER_INITIAL	1024

struct peer {
	struct ev_loop		*loop;
	int			 fd;
	ev_io			 rio;
	ev_io			 wio;
	ev_prepare		 flush;		/* writes before the loop sleeps */
	char			*in;
	size_t			 inlen;
	size_t			 incap;
	char			*out;
	size_t			 outoff;
	size_t			 outlen;
	size_t			 outcap;
	size_t			 max_frame;
	size_t			 max_out;
	size_t			 backlog;	/* 0, or output that holds frames */
	const struct peer_ops	*ops;
	void			*arg;
	int			 busy;		/* inside a callback */
	int			 dead;		/* freed while busy */
	int			 closing;	/* close once output is written */
	int			 failed;	/* gone already reported */
	int			 werr;		/* write error not yet reported */
	int			 paused;	/* peer_pause(): read no more */
	int			 held;		/* frames wait for output to drain */
};

static void peer_read_cb(struct ev_loop *, ev_io *, int);
static void peer_write_cb(struct ev_loop *, ev_io *, int);
static void peer_flush_cb(struct ev_loop *, ev_prepare *, int);
static void peer_gone(struct peer *, const char *);
static int peer_flush(struct peer *);
static void peer_release(struct peer *);
static int peer_over_backlog(const struct peer *);
static void peer_dispatch(struct peer *);

/*
 * Wrap a connected socket.  max_frame bounds an incoming payload and
 * max_out the bytes queued for writing.
 */
struct peer *
peer_new(struct ev_loop *loop, int fd, size_t max_frame, size_t max_out,
    const struct peer_ops *ops, void *arg)
{
	struct peer *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	p->fd = fd;
	p->max_frame = max_frame;
	p->max_out = max_out;
	p->ops = ops;
	p->arg = arg;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ev_io_init(&p->rio, peer_read_cb, fd, EV_READ);
	ev_io_init(&p->wio, peer_write_cb, fd, EV_WRITE);
	ev_prepare_init(&p->flush, peer_flush_cb);
	p->rio.data = p->wio.data = p->flush.data = p;
	ev_io_start(loop, &p->rio);
	return p;
}

/* Release the memory and descriptor of a peer. */
static void
peer_release(struct peer *p)
{
	ev_io_stop(p->loop, &p->rio);
	ev_io_stop(p->loop, &p->wio);
	ev_prepare_stop(p->loop, &p->flush);
	close(p->fd);
	free(p->in);
	free(p->out);
	free(p);
}

/* Close and free a peer; safe from inside its own callbacks. */
void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	if (p->busy) {
		p->dead = 1;
		ev_io_stop(p->loop, &p->rio);
		ev_io_stop(p->loop, &p->wio);
		ev_prepare_stop(p->loop, &p->flush);
		return;
	}
	peer_release(p);
}

/* The socket of a peer. */
int
peer_fd(const struct peer *p)
{
	return p->fd;
}

/* Bytes of output queued for a peer and not yet written. */
size_t
peer_queued(const struct peer *p)
{
	return p->outlen - p->outoff;
}

/* Stop reading from a peer (its pending output is still written). */
void
peer_pause(struct peer *p)
{
	p->paused = 1;
	ev_io_stop(p->loop, &p->rio);
}

/*
 * Hand out no more frames of p while more than backlog bytes of output
 * wait for it, and read only as much as its input buffer holds; both
 * resume as the output drains.  0 (the default) never holds a peer.  For
 * peers whose frames are requests: one that is not reading its answers
 * then costs at most backlog, an answer and a full input buffer.
 */
void
peer_set_backlog(struct peer *p, size_t backlog)
{
	p->backlog = backlog;
}

/* 1 if p has more output waiting than its backlog allows. */
static int
peer_over_backlog(const struct peer *p)
{
	return p->backlog > 0 && p->outlen - p->outoff > p->backlog;
}

/* Report the peer gone once; the owner then frees it. */
static void
peer_gone(struct peer *p, const char *why)
{
	if (p->failed)
		return;
	p->failed = 1;
	ev_io_stop(p->loop, &p->rio);
	ev_io_stop(p->loop, &p->wio);
	ev_prepare_stop(p->loop, &p->flush);
	p->busy++;
	p->ops->gone(p, why, p->arg);
	p->busy--;
	if (p->dead && p->busy == 0)
		peer_release(p);
}

/*
 * Queue a finished frame and free the writer; -1 if the peer is gone.
 * Never reports the peer gone from here: a write error is handed to the
 * write watcher, so callers may send while walking their own lists.
 */
int
peer_send(struct peer *p, struct msgw *w)
{
	const void *data;
	size_t len;

	if (p->failed || p->dead || p->closing || p->werr != 0) {
		msgw_free(w);
		return -1;
	}
	data = msgw_frame(w, &len);
	if (p->outlen - p->outoff + len > p->max_out) {
		msgw_free(w);
		log_warnx("%s: peer not reading, %zu bytes queued", __func__,
		    p->outlen - p->outoff);
		p->werr = ENOBUFS;
		ev_feed_event(p->loop, &p->wio, EV_WRITE);
		return -1;
	}
	if (p->outoff > 0 && p->outoff == p->outlen)
		p->outoff = p->outlen = 0;
	if (p->outlen == 0 && len > p->outcap) {
		/* A big frame into an empty queue: keep its buffer, no copy. */
		free(p->out);
		p->out = msgw_take(w, &p->outlen, &p->outcap);
	} else {
		if (p->outlen + len > p->outcap) {
			if (p->outoff > 0) {
				memmove(p->out, p->out + p->outoff,
				    p->outlen - p->outoff);
				p->outlen -= p->outoff;
				p->outoff = 0;
			}
			while (p->outlen + len > p->outcap)
				p->outcap = p->outcap == 0 ? PEER_INITIAL :
				    p->outcap * 2;
			p->out = xreallocarray(p->out, p->outcap, 1);
		}
		memcpy(p->out + p->outlen, data, len);
		p->outlen += len;
		msgw_free(w);
	}
	/*
	 * Written when this turn of the loop is done (ev_prepare), all of it
	 * at once: the peer wakes once, and only after the work that produced
	 * the messages (a VM's respawn, say) is finished.
	 */
	if (!ev_is_active(&p->wio) && !ev_is_active(&p->flush))
		ev_prepare_start(p->loop, &p->flush);
	return 0;
}

/* The loop is about to sleep: write what this turn queued. */
static void
peer_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct peer *p = w->data;

	ev_prepare_stop(loop, w);
	if (p->failed || p->dead || ev_is_active(&p->wio))
		return;
	if (peer_flush(p) == -1) {
		p->werr = errno;
		ev_feed_event(p->loop, &p->wio, EV_WRITE);
	} else if (p->held && !peer_over_backlog(p)) {
		/*
		 * Drained enough: the write watcher, which fires as soon as
		 * the loop polls, hands out the frames held.  Not from here:
		 * answers queued as the loop is about to sleep would wait
		 * for whatever wakes it next.
		 */
		ev_io_start(p->loop, &p->wio);
	}
}

/* Write what the socket takes now; arm the write watcher for the rest. */
static int
peer_flush(struct peer *p)
{
	while (p->outoff < p->outlen) {
		ssize_t n = write(p->fd, p->out + p->outoff, p->outlen - p->outoff);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_start(p->loop, &p->wio);
				return 0;
			}
			return -1;
		}
		p->outoff += (size_t)n;
	}
	p->outoff = p->outlen = 0;
	ev_io_stop(p->loop, &p->wio);
	return 0;
}

/* Stop reading and report the peer gone once its output is written. */
void
peer_close_after_flush(struct peer *p)
{
	p->closing = 1;
	ev_io_stop(p->loop, &p->rio);
	ev_feed_event(p->loop, &p->wio, EV_WRITE);
}

/*
 * Write the queued output with blocking waits of at most timeout_ms in
 * all, for a worker that is about to exit.
 */
void
peer_flush_blocking(struct peer *p, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;

	while (p->outoff < p->outlen) {
		struct pollfd pfd = { p->fd, POLLOUT, 0 };
		int64_t left = deadline - clock_mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		n = write(p->fd, p->out + p->outoff, p->outlen - p->outoff);
		if (n == -1 && errno != EINTR && errno != EAGAIN)
			return;
		if (n > 0)
			p->outoff += (size_t)n;
	}
}

/* The socket is writable again, or a write error waits to be reported. */
static void
peer_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peer *p = w->data;

	if (p->failed || p->dead)
		return;
	if (p->werr != 0) {
		peer_gone(p, p->werr == ENOBUFS ? "peer not reading its output" :
		    strerror(p->werr));
		return;
	}
	if (peer_flush(p) == -1) {
		peer_gone(p, strerror(errno));
		return;
	}
	if (p->closing && p->outoff == p->outlen) {
		peer_gone(p, "closed after its last answer");
		return;
	}
	if (p->held && !p->closing && !peer_over_backlog(p)) {
		/* Its output drained: take the frames it sent meanwhile. */
		p->held = 0;
		if (!p->paused)
			ev_io_start(p->loop, &p->rio);
		peer_dispatch(p);
	}
}

/* Read what arrived and hand out every complete frame. */
static void
peer_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peer *p = w->data;
	ssize_t n;

	if (p->inlen == p->incap) {
		p->incap = p->incap == 0 ? PEER_INITIAL : p->incap * 2;
		if (p->incap > p->max_frame + FRAME_HEADER)
			p->incap = p->max_frame + FRAME_HEADER;
		p->in = xreallocarray(p->in, p->incap, 1);
	}
	if (p->inlen == p->incap && p->held) {
		/* Full of frames that wait for the output to drain. */
		ev_io_stop(p->loop, &p->rio);
		return;
	}
	if (p->inlen == p->incap) {
		peer_gone(p, "input buffer full");
		return;
	}
	n = read(p->fd, p->in + p->inlen, p->incap - p->inlen);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		peer_gone(p, strerror(errno));
		return;
	}
	if (n == 0) {
		peer_gone(p, p->inlen > 0 ? "connection closed inside a frame" :
		    "connection closed");
		return;
	}
	p->inlen += (size_t)n;
	peer_dispatch(p);
}

/*
 * Hand out every complete frame in the input buffer.  With a backlog, stop
 * while that much output waits: the frames stay, and more are read only
 * until the buffer is full (FRAME_MAX), so that a client which writes all
 * its requests before it reads an answer is not stuck writing.
 */
static void
peer_dispatch(struct peer *p)
{
	size_t off = 0;

	p->busy++;
	while (!p->dead && !p->failed && !p->closing &&
	    p->inlen - off >= FRAME_HEADER) {
		const unsigned char *h = (const unsigned char *)p->in + off;
		size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 |
		    (size_t)h[2] << 8 | h[3];
		struct mdoc *doc;
		const char *cause;

		if (len > p->max_frame) {
			p->ops->bad_frame(p, "frame too large", p->arg);
			off = p->inlen;
			break;
		}
		if (peer_over_backlog(p)) {
			p->held = 1;
			break;
		}
		if (p->inlen - off < FRAME_HEADER + len)
			break;
		doc = mdoc_parse(p->in + off + FRAME_HEADER, len, &cause);
		off += FRAME_HEADER + len;
		if (doc == NULL)
			p->ops->bad_frame(p, cause, p->arg);
		else {
			p->ops->frame(p, doc, p->arg);
			mdoc_free(doc);
		}
	}
	p->busy--;
	if (p->dead) {
		if (p->busy == 0)
			peer_release(p);
		return;
	}
	if (off > 0) {
		memmove(p->in, p->in + off, p->inlen - off);
		p->inlen -= off;
	}
}
