/*
 * client.c: the client end of the control protocol, used by zonectl and the
 * tests: connect to the socket, send request frames, read answer frames
 * with a deadline.  Blocking I/O: a client has nothing else to do.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "zonevisor.h"

static ssize_t client_frame(struct client_conn *, int64_t, const char **);
static void client_consume(struct client_conn *, size_t);

#define CLIENT_MAX_ANSWER	(64 * 1024 * 1024)

/* Connect to the control socket at path; -1 with errno set. */
int
client_connect(struct client_conn *cc, const char *path)
{
	struct sockaddr_un sun;

	memset(cc, 0, sizeof *cc);
	cc->fd = -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((cc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(cc->fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		int err = errno;

		close(cc->fd);
		cc->fd = -1;
		errno = err;
		return -1;
	}
	return 0;
}

/* Send a finished frame and free the writer; -1 with errno on failure. */
int
client_send(struct client_conn *cc, struct msgw *w)
{
	const char *data;
	size_t len, off = 0;

	data = msgw_frame(w, &len);
	while (off < len) {
		ssize_t n = send(cc->fd, data + off, len - off, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			msgw_free(w);
			return -1;
		}
		off += (size_t)n;
	}
	msgw_free(w);
	return 0;
}

/*
 * Wait until the monotonic deadline (ms; 0 for no deadline) for a whole
 * frame at the head of cc's buffer; its payload's length, or -1 with
 * *cause: "timeout", "connection closed" or why it cannot be read.
 */
static ssize_t
client_frame(struct client_conn *cc, int64_t deadline, const char **cause)
{
	if (cc->raw > 0) {	/* the frame client_recv_raw() handed out */
		client_consume(cc, cc->raw - FRAME_HEADER);
		cc->raw = 0;
	}
	for (;;) {
		struct pollfd pfd = { cc->fd, POLLIN, 0 };
		size_t want = FRAME_HEADER;
		int timeout = -1;
		ssize_t n;

		if (cc->len >= FRAME_HEADER) {
			const unsigned char *h = (const unsigned char *)cc->buf;
			size_t flen = (size_t)h[0] << 24 | (size_t)h[1] << 16 |
			    (size_t)h[2] << 8 | h[3];

			if (flen > CLIENT_MAX_ANSWER) {
				*cause = "answer too large";
				return -1;
			}
			if (cc->len >= FRAME_HEADER + flen)
				return (ssize_t)flen;
			want = FRAME_HEADER + flen;
		}
		if (deadline > 0) {
			int64_t left = deadline - clock_mono_ms();

			if (left <= 0) {
				*cause = "timeout";
				return -1;
			}
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		n = poll(&pfd, 1, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			continue;
		/* Room for the whole frame at once when its size is known. */
		if (cc->len == cc->cap || want > cc->cap) {
			while (cc->cap < want || cc->len == cc->cap)
				cc->cap = cc->cap == 0 ? 65536 : cc->cap * 2;
			cc->buf = xreallocarray(cc->buf, cc->cap, 1);
		}
		n = read(cc->fd, cc->buf + cc->len, cc->cap - cc->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = n == 0 ? "connection closed" : strerror(errno);
			return -1;
		}
		cc->len += (size_t)n;
	}
}

/* Drop the frame at the head of cc's buffer (flen payload bytes). */
static void
client_consume(struct client_conn *cc, size_t flen)
{
	memmove(cc->buf, cc->buf + FRAME_HEADER + flen,
	    cc->len - FRAME_HEADER - flen);
	cc->len -= FRAME_HEADER + flen;
}

/*
 * Read the next answer, waiting until the monotonic deadline (ms; 0 for no
 * deadline).  NULL with *cause: "timeout", "connection closed" or why the
 * frame could not be read.
 */
struct mdoc *
client_recv(struct client_conn *cc, int64_t deadline, const char **cause)
{
	struct mdoc *doc;
	ssize_t flen;

	if ((flen = client_frame(cc, deadline, cause)) == -1)
		return NULL;
	doc = mdoc_parse(cc->buf + FRAME_HEADER, (size_t)flen, cause);
	client_consume(cc, (size_t)flen);
	return doc;
}

/*
 * The next answer's payload as it came, not decoded, valid until the next
 * call on cc; *len is its size.  NULL with *cause as client_recv().
 */
const char *
client_recv_raw(struct client_conn *cc, int64_t deadline, size_t *len,
    const char **cause)
{
	ssize_t flen;

	if ((flen = client_frame(cc, deadline, cause)) == -1)
		return NULL;
	cc->raw = FRAME_HEADER + (size_t)flen;
	*len = (size_t)flen;
	return cc->buf + FRAME_HEADER;
}

/* Close the connection. */
void
client_close(struct client_conn *cc)
{
	if (cc->fd != -1)
		close(cc->fd);
	free(cc->buf);
	memset(cc, 0, sizeof *cc);
	cc->fd = -1;
}
