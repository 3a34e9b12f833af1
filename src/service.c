/*
 * service.c: what zonevisord tells the service manager it runs under
 * (systemd's Type=notify; the protocol is in notify.c).  READY=1 once the
 * control socket is bound and every zone's worker has greeted, so that the
 * autostart zones have been launched (or after SERVICE_READY_MAX_S, naming
 * the zones still missing, so that one worker that cannot be forked does
 * not hold the whole service in "activating"); RELOADING=1 and READY=1
 * around a reload; STOPPING=1 at shutdown; a STATUS= line with the zone
 * counts whenever they change (looked at every second); WATCHDOG=1 at half
 * the interval the manager asked for.  Outside a service manager nothing
 * here runs: no timer, no wake-up.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "zonevisor.h"

#define SERVICE_READY_MAX_S	30.	/* READY=1 at the latest */
#define SERVICE_STATUS_S	1.	/* how often the counts are looked at */

static struct ev_loop	*service_loop;
static ev_timer		 service_watchdog;
static ev_timer		 service_status;
static ev_timer		 service_ready_max;
static int		 service_ready_sent;
static char		 service_last_status[256];

static void service_watchdog_cb(struct ev_loop *, ev_timer *, int);
static void service_status_cb(struct ev_loop *, ev_timer *, int);
static void service_ready_max_cb(struct ev_loop *, ev_timer *, int);
static void service_ready(void);
static void service_status_line(char *, size_t);

/*
 * The control socket is bound and the workers forked: start the watchdog
 * and the status line, and say READY=1 as soon as every worker greeted.
 */
void
service_start(struct ev_loop *loop)
{
	int64_t usec = notify_watchdog_usec();

	if (!notify_enabled())
		return;
	service_loop = loop;
	if (usec > 0) {
		ev_timer_init(&service_watchdog, service_watchdog_cb, 0.,
		    (double)usec / 2e6);
		ev_timer_again(loop, &service_watchdog);
		notify_send("WATCHDOG=1\n");
	}
	ev_timer_init(&service_status, service_status_cb, SERVICE_STATUS_S,
	    SERVICE_STATUS_S);
	ev_timer_start(loop, &service_status);
	ev_timer_init(&service_ready_max, service_ready_max_cb,
	    SERVICE_READY_MAX_S, 0.);
	ev_timer_start(loop, &service_ready_max);
	service_check_ready();
}

/* A worker greeted: is every zone launched now? */
void
service_check_ready(void)
{
	size_t i, n = parent_zone_count();

	if (service_loop == NULL || service_ready_sent)
		return;
	for (i = 0; i < n; i++)
		if (!parent_zone_at(i)->hello)
			return;
	service_ready();
}

static void
service_ready(void)
{
	char status[256];

	service_ready_sent = 1;
	ev_timer_stop(service_loop, &service_ready_max);
	service_status_line(status, sizeof status);
	snprintf(service_last_status, sizeof service_last_status, "%s",
	    status);
	notify_send("READY=1\nSTATUS=%s\nMAINPID=%ld\n", status,
	    (long)getpid());
}

/* Some worker never greeted: ready all the same, saying which. */
static void
service_ready_max_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	size_t i, n = parent_zone_count();

	for (i = 0; i < n; i++)
		if (!parent_zone_at(i)->hello)
			log_warnx("zone %s: no worker %.0fs after start; telling "
			    "the service manager READY=1 all the same",
			    parent_zone_at(i)->zc->name, SERVICE_READY_MAX_S);
	service_ready();
}

/*
 * A reload begins (not a dry run).  Before the first READY=1 there is
 * nothing to announce: readiness comes once every zone is launched.
 */
void
service_reloading(void)
{
	if (service_loop != NULL && service_ready_sent)
		notify_reloading();
}

/* A reload was applied or refused: ready again, with the new counts. */
void
service_reloaded(int ok)
{
	char status[256];

	if (service_loop == NULL || !service_ready_sent)
		return;
	service_status_line(status, sizeof status);
	snprintf(service_last_status, sizeof service_last_status, "%s",
	    status);
	notify_send("READY=1\nSTATUS=%s%s\n", ok ? "" : "reload refused; ",
	    status);
}

/* Shutdown begins. */
void
service_stopping(void)
{
	if (service_loop == NULL)
		return;
	service_ready_sent = 1;	/* a worker greeting now is no readiness */
	ev_timer_stop(service_loop, &service_status);
	ev_timer_stop(service_loop, &service_ready_max);
	notify_send("STOPPING=1\nSTATUS=stopping every zone\n");
}

/* At exit: stop the timers. */
void
service_stop(void)
{
	if (service_loop == NULL)
		return;
	ev_timer_stop(service_loop, &service_watchdog);
	ev_timer_stop(service_loop, &service_status);
	ev_timer_stop(service_loop, &service_ready_max);
	service_loop = NULL;
	notify_close();
}

static void
service_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	notify_send("WATCHDOG=1\n");
}

static void
service_status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char status[256];

	service_status_line(status, sizeof status);
	if (strcmp(status, service_last_status) == 0)
		return;
	snprintf(service_last_status, sizeof service_last_status, "%s",
	    status);
	notify_send("STATUS=%s\n", status);
}

/* "N zones: R running, D degraded, F failed, S stopped, O other". */
static void
service_status_line(char *buf, size_t len)
{
	size_t i, n = parent_zone_count();
	size_t running = 0, degraded = 0, failed = 0, stopped = 0, other = 0;

	for (i = 0; i < n; i++) {
		const struct zone_status *st = &parent_zone_at(i)->st;

		switch (st->state) {
		case ZS_RUNNING:
			running++;
			break;
		case ZS_RUNNING_DEGRADED:
			degraded++;
			break;
		case ZS_FAILED:
		case ZS_OWNER_UNSAFE:
			failed++;
			break;
		case ZS_STOPPED:
			stopped++;
			break;
		default:
			other++;
			break;
		}
	}
	snprintf(buf, len, "%zu zone%s: %zu running, %zu degraded, %zu failed, "
	    "%zu stopped, %zu starting or stopping", n, n == 1 ? "" : "s",
	    running, degraded, failed, stopped, other);
}
