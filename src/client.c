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
 * Read the next answer, waiting until the monotonic deadline (ms; 0 for no
 * deadline).  NULL with *cause: "timeout", "connection closed" or why the
 * frame could not be read.
 */
struct mdoc *
client_recv(struct client_conn *cc, int64_t deadline, const char **cause)
{
	for (;;) {
		struct pollfd pfd = { cc->fd, POLLIN, 0 };
		int timeout = -1;
		ssize_t n;

		if (cc->len >= FRAME_HEADER) {
			const unsigned char *h = (const unsigned char *)cc->buf;
			size_t flen = (size_t)h[0] << 24 | (size_t)h[1] << 16 |
			    (size_t)h[2] << 8 | h[3];

			if (flen > CLIENT_MAX_ANSWER) {
				*cause = "answer too large";
				return NULL;
			}
			if (cc->len >= FRAME_HEADER + flen) {
				struct mdoc *doc = mdoc_parse(cc->buf +
				    FRAME_HEADER, flen, cause);

				memmove(cc->buf, cc->buf + FRAME_HEADER + flen,
				    cc->len - FRAME_HEADER - flen);
				cc->len -= FRAME_HEADER + flen;
				return doc;
			}
		}
		if (deadline > 0) {
			int64_t left = deadline - clock_mono_ms();

			if (left <= 0) {
				*cause = "timeout";
				return NULL;
			}
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		n = poll(&pfd, 1, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			continue;
		if (cc->len == cc->cap) {
			cc->cap = cc->cap == 0 ? 65536 : cc->cap * 2;
			cc->buf = xreallocarray(cc->buf, cc->cap, 1);
		}
		n = read(cc->fd, cc->buf + cc->len, cc->cap - cc->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = n == 0 ? "connection closed" : strerror(errno);
			return NULL;
		}
		cc->len += (size_t)n;
	}
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
