/*
 * rendezvous.c: how a freshly forked worker hands the parent its end of the
 * link between them.  The parent holds one private socketpair (datagrams
 * with boundaries, SOCK_SEQPACKET) whose other end every worker inherits;
 * a worker makes its own link socketpair, sends one end over the rendezvous
 * with its zone's name (SCM_RIGHTS), and keeps the other.  The kernel adds
 * the sender's verified pid (SCM_CREDENTIALS), which the parent matches
 * against the worker it forked for that zone.
 *
 * Why not a socketpair per worker made before the fork: the parent would
 * hold two descriptors per zone at every fork, and each of a thousand
 * workers would inherit two thousand of them only to close them again.
 * With the rendezvous a worker inherits a handful.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "zonevisor.h"

#define RENDEZVOUS_TRIES	500	/* of 10 ms, when fds in flight run out */

/* The parent's rendezvous: fds[0] stays with it, fds[1] goes to workers. */
int
rendezvous_open(int fds[2])
{
	int on = 1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1)
		return -1;
	if (setsockopt(fds[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

/*
 * In a worker: make the link, hand one end to the parent with zone's name,
 * close the rendezvous.  Returns the worker's end, or -1 (logged).
 */
int
rendezvous_link(int rvfd, const char *zone)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	int sv[2], tries = 0;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("zone %s: socketpair", zone);
		return -1;
	}
	memset(&msg, 0, sizeof msg);
	memset(&u, 0, sizeof u);
	iov.iov_base = (void *)zone;
	iov.iov_len = strlen(zone);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sv[0], sizeof(int));
	/* ETOOMANYREFS: too many descriptors of this user in flight. */
	while ((n = sendmsg(rvfd, &msg, MSG_NOSIGNAL)) == -1 &&
	    (errno == EINTR || ((errno == ETOOMANYREFS || errno == EAGAIN ||
	    errno == ENOBUFS) && ++tries < RENDEZVOUS_TRIES)))
		if (errno != EINTR)
			usleep(10000);
	close(sv[0]);
	close(rvfd);
	if (n == -1) {
		log_warn("zone %s: cannot hand the link to the parent", zone);
		close(sv[1]);
		return -1;
	}
	return sv[1];
}

/*
 * In the parent: take one waiting link.  Returns 1 with the zone's name,
 * the sender's pid and the link's descriptor; 0 when none waits (or an
 * empty message was dropped); -1 for a message that is not a link
 * (dropped, with any descriptor in it closed).
 */
int
rendezvous_recv(int rvfd, char *zone, size_t len, pid_t *pid, int *fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4) +
				    CMSG_SPACE(sizeof(struct ucred))];
	} u;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	struct ucred cred;
	int got_cred = 0, nfds, i, one;
	ssize_t n;

	*fd = -1;
	memset(&msg, 0, sizeof msg);
	iov.iov_base = zone;
	iov.iov_len = len - 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	while ((n = recvmsg(rvfd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	zone[n] = '\0';
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof cred)) {
			memcpy(&cred, CMSG_DATA(c), sizeof cred);
			got_cred = 1;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (i = 0; i < nfds; i++) {
				memcpy(&one, CMSG_DATA(c) + i * sizeof(int),
				    sizeof one);
				if (*fd == -1)
					*fd = one;
				else
					close(one);
			}
		}
	}
	/* An empty datagram, or (never here: we hold the other end) the end. */
	if (n == 0) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return 0;
	}
	if (*fd == -1 || !got_cred ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return -1;
	}
	*pid = cred.pid;
	return 1;
}
