/*
 * notify.c: the service manager's notification protocol (sd_notify(3)),
 * without libsystemd: one datagram of "KEY=VALUE" lines to the Unix socket
 * named by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 * zonevisord says READY=1, RELOADING=1, STOPPING=1, STATUS=... and, when
 * $WATCHDOG_USEC asks for it, WATCHDOG=1.  Without $NOTIFY_SOCKET every
 * call does nothing, so zonevisord works the same outside systemd.  The
 * variables are taken out of the environment at once: no VM, helper or
 * worker of ours may speak for zonevisord.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "zonevisor.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;	/* 0: no service manager listens */
static int notify_fd = -1;
static int64_t notify_watchdog;		/* microseconds, or 0 */

/*
 * Read (and remove) $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID.
 * A malformed one is logged and ignored.
 */
void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *wpid = getenv("WATCHDOG_PID");
	size_t len;
	char *end;

	notify_addrlen = 0;
	notify_watchdog = 0;
	if (path != NULL && *path != '\0') {
		len = strlen(path);
		if ((path[0] != '/' && path[0] != '@') ||
		    len >= sizeof notify_addr.sun_path)
			log_warnx("NOTIFY_SOCKET=%s: not a socket path; not "
			    "notifying the service manager", path);
		else {
			memset(&notify_addr, 0, sizeof notify_addr);
			notify_addr.sun_family = AF_UNIX;
			memcpy(notify_addr.sun_path, path, len);
			if (path[0] == '@')
				notify_addr.sun_path[0] = '\0';
			notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un,
			    sun_path) + len + (path[0] == '@' ? 0 : 1));
		}
	}
	if (notify_addrlen != 0 && usec != NULL && (wpid == NULL ||
	    strtol(wpid, NULL, 10) == (long)getpid())) {
		long long v;

		errno = 0;
		v = strtoll(usec, &end, 10);
		if (errno != 0 || end == usec || *end != '\0' || v <= 0)
			log_warnx("WATCHDOG_USEC=%s: not a positive number; no "
			    "watchdog", usec);
		else
			notify_watchdog = v;
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* 1 if a service manager listens. */
int
notify_enabled(void)
{
	return notify_addrlen != 0;
}

/* The watchdog interval the service manager asked for, in µs, or 0. */
int64_t
notify_watchdog_usec(void)
{
	return notify_watchdog;
}

/* Send one notification: lines of KEY=VALUE, formatted as printf does. */
void
notify_send(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	if (notify_addrlen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	if (notify_fd == -1 &&
	    (notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		log_warn("%s: socket", __func__);
		return;
	}
	/*
	 * Never wait: a service manager that does not read its socket (its
	 * queue full) must not stop the event loop.  A notification it
	 * cannot take is dropped; STATUS and WATCHDOG come again.
	 */
	if (sendto(notify_fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&notify_addr, notify_addrlen) == -1)
		log_debug("%s: sendto NOTIFY_SOCKET: %s", __func__,
		    strerror(errno));
}

/* RELOADING=1 with the time systemd 253 and later expect beside it. */
void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%lld\n",
	    (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
}

/* Close the socket (at exit). */
void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
}
