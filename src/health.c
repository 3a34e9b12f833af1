/*
 * health.c: a worker's health probes of its gateway VM (DESIGN §6).  From
 * the VM's spawn on, a probe runs every interval (while the zone starts,
 * at most every second), never two at once: an exec probe as a process of
 * its own group without a shell, killed with its group at the timeout; a
 * tcp or http probe as a non-blocking connection on the worker's loop to
 * the zone's ingress_port on loopback.  While the zone starts, the first
 * passing probe makes it ready (the zone's start_timeout bounds the wait);
 * while it runs, a failure degrades it, failure_threshold failures in a row
 * escalate gateway-service-unhealthy to the parent, and a pass heals it.
 * Each result goes to health.log in the lifecycle log's framing; routine
 * passes are coalesced into the next written entry.  A result that cannot
 * be written degrades the zone's persistence and is written again by
 * health_retry once it can be.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define HEALTH_START_CADENCE_MS	1000	/* most time between probes while starting */
#define HEALTH_QUIET_MS		60000	/* a pass is written at least this often */
#define HEALTH_LOG_MAX		(1024 * 1024)
#define HEALTH_LOG_KEEP		1
#define HEALTH_ASKED_MAX	8	/* probes asked for at once (zonectl health) */

/* The result of one probe. */
struct health_result {
	int		ok;		/* 1 passed, 0 failed, -1 none yet */
	int		failures;	/* in a row, this one included */
	int64_t		at_ms;		/* realtime ms it ended */
	int64_t		latency_ms;
	char		detail[MESSAGE_MAX];
};

struct health {
	struct zone		*z;
	const struct health_config *hc;
	struct records		 log;		/* health.log */
	ev_timer		 tick;		/* the next probe */
	ev_timer		 deadline;	/* the probe in flight times out */
	struct vm_ident		 vm;		/* the VM watched; {0, 0}: none */
	struct vm_ident		 probed;	/* the VM the probe in flight is of */
	int64_t			 vm_since;	/* monotonic ms it was spawned */
	int			 inflight;	/* a probe runs (or is being reaped) */
	int			 settled;	/* its result is taken */
	int64_t			 began;		/* monotonic ms it began */
	pid_t			 pid;		/* exec probe */
	int			 pidfd;
	ev_io			 exit_watch;
	int			 fd;		/* tcp and http probes */
	ev_io			 io;
	int			 connected;
	char			 buf[256];	/* the start of the answer */
	size_t			 got;
	size_t			 sent;
	struct health_result	 last;
	struct health_result	 unwritten;	/* failed to be written: retried */
	int			 pending;	/* unwritten holds one */
	int			 written;	/* a result was ever written */
	uint32_t		 coalesced;	/* passes not written since */
	int64_t			 written_at;	/* monotonic ms of the last entry */
	char			 asked[HEALTH_ASKED_MAX][OP_ID_MAX];
	int			 nasked;	/* waiting for the next result */
};

static void health_schedule(struct health *, int64_t);
static int health_same_vm(const struct health *);
static int health_current(const struct health *);
static void health_tick_cb(struct ev_loop *, ev_timer *, int);
static void health_deadline_cb(struct ev_loop *, ev_timer *, int);
static void health_begin(struct health *);
static int health_exec(struct health *, char *, size_t);
static int health_connect(struct health *, char *, size_t);
static void health_io_cb(struct ev_loop *, ev_io *, int);
static void health_http_read(struct health *);
static void health_exit_cb(struct ev_loop *, ev_io *, int);
static void health_probe_exiting(pid_t, void *);
static void health_probe_exited(pid_t, const struct exit_info *, void *);
static void health_close_fd(struct health *);
static void health_settle(struct health *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int health_write(struct health *, const struct health_result *);
static int health_append(struct health *, const struct health_result *);
static void health_judge(struct health *, const struct health_result *);
static void health_answer(struct zone *, const char *, int, int64_t,
    const char *);

static const struct reaper_ops health_reaper = {
	health_probe_exiting,
	health_probe_exited,
};

/* The health of z's gateway by z->hc, or NULL when z has no probe. */
struct health *
health_new(struct zone *z)
{
	struct health *h;
	char *path;

	if (z->hc.probe == PROBE_NONE)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->z = z;
	h->hc = &z->hc;
	h->pidfd = -1;
	h->fd = -1;
	h->last.ok = -1;
	ev_timer_init(&h->tick, health_tick_cb, 0., 0.);
	h->tick.data = h;
	ev_timer_init(&h->deadline, health_deadline_cb, 0., 0.);
	h->deadline.data = h;
	xasprintf(&path, "%s/health.log", z->dir);
	/* If it cannot be opened now, the first result tries again. */
	records_open(&h->log, path, HEALTH_LOG_MAX, HEALTH_LOG_KEEP);
	free(path);
	return h;
}

/* Copy src into dst, which then owns its strings. */
void
health_config_copy(struct health_config *dst, const struct health_config *src)
{
	size_t n, i;

	*dst = *src;
	dst->http_path = src->http_path != NULL ? xstrdup(src->http_path) :
	    NULL;
	dst->exec = src->exec != NULL ? xstrdup(src->exec) : NULL;
	dst->exec_argv = NULL;
	if (src->exec_argv == NULL)
		return;
	for (n = 0; src->exec_argv[n] != NULL; n++)
		;
	dst->exec_argv = xcalloc(n + 1, sizeof *dst->exec_argv);
	for (i = 0; i < n; i++)
		dst->exec_argv[i] = xstrdup(src->exec_argv[i]);
}

/*
 * The settings that MSG_ZONE_HEALTH carries, into hc (owned; exec split
 * again like the zone file's).  Returns -1 with *cause if exec does not
 * split.
 */
int
health_config_from_msg(struct health_config *hc,
    const struct msg_zone_health *m, const char **cause)
{
	int argc;

	memset(hc, 0, sizeof *hc);
	hc->probe = m->probe;
	hc->interval_ms = m->interval_ms;
	hc->timeout_ms = m->timeout_ms;
	hc->failure_threshold = m->failure_threshold;
	hc->start_period_ms = m->start_period_ms;
	if (m->http_path[0] != '\0')
		hc->http_path = xstrdup(m->http_path);
	if (m->exec[0] != '\0') {
		if ((hc->exec_argv = argv_split(m->exec, &argc, cause)) ==
		    NULL)
			return -1;
		hc->exec = xstrdup(m->exec);
	}
	return 0;
}

/* The settings of hc as MSG_ZONE_HEALTH carries them. */
void
health_config_to_msg(const struct health_config *hc,
    struct msg_zone_health *m)
{
	memset(m, 0, sizeof *m);
	m->probe = hc->probe;
	m->interval_ms = hc->interval_ms;
	m->timeout_ms = hc->timeout_ms;
	m->failure_threshold = hc->failure_threshold;
	m->start_period_ms = hc->start_period_ms;
	if (hc->http_path != NULL)
		snprintf(m->http_path, sizeof m->http_path, "%s",
		    hc->http_path);
	if (hc->exec != NULL)
		snprintf(m->exec, sizeof m->exec, "%s", hc->exec);
}

/* Free the strings of hc (not hc itself). */
void
health_config_clear(struct health_config *hc)
{
	free(hc->http_path);
	free(hc->exec);
	argv_free(hc->exec_argv);
	memset(hc, 0, sizeof *hc);
}

/*
 * Answer the zonectl health requests still waiting with why: the probe
 * that would have answered them is going (its settings changed).
 */
void
health_cancel(struct health *h, const char *why)
{
	if (h == NULL)
		return;
	while (h->nasked > 0) {
		h->nasked--;
		health_answer(h->z, h->asked[h->nasked], 0, 0, why);
	}
}

/* End the probe in flight and free everything. */
void
health_free(struct health *h)
{
	if (h == NULL)
		return;
	ev_timer_stop(h->z->loop, &h->tick);
	ev_timer_stop(h->z->loop, &h->deadline);
	health_close_fd(h);
	if (h->pid > 0) {
		struct exit_info ei;

		kill(-h->pid, SIGKILL);
		if (reaper_reap_now(h->pid, &ei) != 0)
			log_warnx("zone %s: health probe pid %ld not reaped",
			    h->z->zc->name, (long)h->pid);
	}
	if (h->pidfd != -1) {
		ev_io_stop(h->z->loop, &h->exit_watch);
		close(h->pidfd);
	}
	records_close(&h->log);
	free(h);
}

/* A new VM was spawned: probe it until it is ready, and then on. */
void
health_watch(struct health *h)
{
	h->vm.pid = h->z->vm.pid;
	h->vm.start_time = h->z->vm.start_time;
	h->vm_since = clock_mono_ms();
	memset(&h->last, 0, sizeof h->last);
	h->last.ok = -1;
	h->z->st.health_ok = -1;
	h->z->st.health_failures = 0;
	h->z->st.health_at_ms = 0;
	h->z->st.health_latency_ms = 0;
	h->z->st.health_detail[0] = '\0';
	health_schedule(h, 0);
}

/*
 * zonectl health: probe now (or take the probe in flight) and answer id
 * with its result through the zone's health_answered hook.
 */
void
health_probe_now(struct zone *z, const char *id)
{
	struct health *h = z->health;

	if (h == NULL) {
		health_answer(z, id, 0, 0, "no health probe is configured");
		return;
	}
	if (!health_current(h)) {
		health_answer(z, id, 0, 0, z->vm.pid == 0 ? "no VM is running" :
		    "the VM is being stopped or replaced");
		return;
	}
	if (h->nasked == HEALTH_ASKED_MAX) {
		health_answer(z, id, 0, 0, "too many probes asked for at once");
		return;
	}
	snprintf(h->asked[h->nasked++], OP_ID_MAX, "%s", id);
	if (!h->inflight)
		health_begin(h);
}

/* Answer one zonectl health request. */
static void
health_answer(struct zone *z, const char *id, int ok, int64_t latency,
    const char *detail)
{
	struct msg_health_result m;

	memset(&m, 0, sizeof m);
	snprintf(m.id, sizeof m.id, "%s", id);
	m.ok = ok;
	m.latency_ms = latency;
	snprintf(m.detail, sizeof m.detail, "%s", detail);
	if (z->health_answered != NULL)
		z->health_answered(z, &m);
}

/* Run the next probe after ms (0: at the next loop turn). */
static void
health_schedule(struct health *h, int64_t ms)
{
	ev_timer_stop(h->z->loop, &h->tick);
	ev_timer_set(&h->tick, (double)ms / 1000., 0.);
	ev_timer_start(h->z->loop, &h->tick);
}

/* 1 while the VM watched is still the zone's. */
static int
health_same_vm(const struct health *h)
{
	return h->vm.pid != 0 && h->z->vm.pid == h->vm.pid &&
	    h->z->vm.start_time == h->vm.start_time;
}

/* 1 while the VM watched is the zone's and may be probed (not closing). */
static int
health_current(const struct health *h)
{
	int s = h->z->st.state;

	return health_same_vm(h) && (s == ZS_STARTING || s == ZS_RUNNING ||
	    s == ZS_RUNNING_DEGRADED);
}

/*
 * Time for a probe: begin one unless one runs.  While the VM is being
 * closed no probe starts (a restart given up keeps it, so the watch goes
 * on); once it is gone, the watch ends.
 */
static void
health_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health *h = w->data;

	if (!health_same_vm(h)) {
		h->vm.pid = 0;
		return;
	}
	if (!h->inflight && health_current(h))
		health_begin(h);
	health_schedule(h, h->z->st.state == ZS_STARTING &&
	    h->hc->interval_ms > HEALTH_START_CADENCE_MS ?
	    HEALTH_START_CADENCE_MS : h->hc->interval_ms);
}

/* Begin one probe of the current VM. */
static void
health_begin(struct health *h)
{
	char cause[MESSAGE_MAX];
	int r;

	h->inflight = 1;
	h->settled = 0;
	h->probed = h->vm;
	h->began = clock_mono_ms();
	ev_now_update(h->z->loop);
	ev_timer_set(&h->deadline, (double)h->hc->timeout_ms / 1000., 0.);
	ev_timer_start(h->z->loop, &h->deadline);
	if (h->hc->probe == PROBE_EXEC)
		r = health_exec(h, cause, sizeof cause);
	else
		r = health_connect(h, cause, sizeof cause);
	if (r != 0)
		health_settle(h, 0, "%s", cause);
}

/* Start the exec probe: no shell, its own process group, no output. */
static int
health_exec(struct health *h, char *cause, size_t len)
{
	struct spawn_spec spec;
	struct spawn_result res;
	char *env[5];
	int n = 0, i;

	env[n++] = xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	xasprintf(&env[n++], "ZONEVISOR_HEALTH_ZONE=%s", h->z->zc->name);
	xasprintf(&env[n++], "ZONEVISOR_HEALTH_VM_PID=%ld", (long)h->vm.pid);
	if (h->z->zc->ingress_port != 0)
		xasprintf(&env[n++], "ZONEVISOR_HEALTH_PORT=%d",
		    h->z->zc->ingress_port);
	env[n] = NULL;
	memset(&spec, 0, sizeof spec);
	spec.argv = h->hc->exec_argv;
	spec.envp = env;
	spec.cwd = h->z->zc->cwd != NULL ? h->z->zc->cwd : h->z->dir;
	spec.output_fd = -1;
	spec.umask = h->z->zc->umask;
	/* As the VM's user: a probe needs no more than the VM has. */
	if (h->z->zc->user != NULL || h->z->zc->group != NULL) {
		spec.set_ids = 1;
		i = spawn_identity(h->z->zc->user != NULL ? h->z->zc->user :
		    "0", h->z->zc->group, &spec.uid, &spec.gid, cause, len);
	} else
		i = 0;
	if (i == 0)
		i = spawn_process(&spec, &res, cause, len);
	while (n > 0)
		free(env[--n]);
	if (i != 0)
		return -1;
	h->pid = res.pid;
	h->pidfd = res.pidfd;
	reaper_add(res.pid, &health_reaper, h);
	ev_io_init(&h->exit_watch, health_exit_cb, h->pidfd, EV_READ);
	h->exit_watch.data = h;
	ev_io_start(h->z->loop, &h->exit_watch);
	return 0;
}

/* Connect, without blocking, to the ingress port on loopback. */
static int
health_connect(struct health *h, char *cause, size_t len)
{
	struct sockaddr_in sin;

	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd == -1) {
		snprintf(cause, len, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)h->z->zc->ingress_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->connected = 0;
	h->got = 0;
	h->sent = 0;
	if (connect(h->fd, (struct sockaddr *)&sin, sizeof sin) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(cause, len, "connect to 127.0.0.1:%d: %s",
		    h->z->zc->ingress_port, strerror(errno));
		health_close_fd(h);
		return -1;
	}
	ev_io_init(&h->io, health_io_cb, h->fd, EV_WRITE);
	h->io.data = h;
	ev_io_start(h->z->loop, &h->io);
	return 0;
}

/* The connection made progress: connected, request sent, answer read. */
static void
health_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health *h = w->data;
	char req[1200];
	int err = 0, n;
	socklen_t elen = sizeof err;
	ssize_t r;

	if (!h->connected) {
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0) {
			health_settle(h, 0, "connect to 127.0.0.1:%d: %s",
			    h->z->zc->ingress_port, strerror(err));
			return;
		}
		h->connected = 1;
		if (h->hc->probe == PROBE_TCP) {
			health_settle(h, 1, "connected to 127.0.0.1:%d",
			    h->z->zc->ingress_port);
			return;
		}
	}
	n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d"
	    "\r\nUser-Agent: zonevisor\r\nConnection: close\r\n\r\n",
	    h->hc->http_path, h->z->zc->ingress_port);
	if (h->sent < (size_t)n) {
		r = send(h->fd, req + h->sent, (size_t)n - h->sent,
		    MSG_NOSIGNAL);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r == -1) {
			health_settle(h, 0, "send to 127.0.0.1:%d: %s",
			    h->z->zc->ingress_port, strerror(errno));
			return;
		}
		h->sent += (size_t)r;
		if (h->sent < (size_t)n)
			return;
		ev_io_stop(loop, &h->io);
		ev_io_set(&h->io, h->fd, EV_READ);
		ev_io_start(loop, &h->io);
		return;
	}
	health_http_read(h);
}

/* Read the answer until its status line is complete; 2xx passes. */
static void
health_http_read(struct health *h)
{
	char *eol;
	ssize_t r;
	int code;

	r = recv(h->fd, h->buf + h->got, sizeof h->buf - 1 - h->got, 0);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1) {
		health_settle(h, 0, "read from 127.0.0.1:%d: %s",
		    h->z->zc->ingress_port, strerror(errno));
		return;
	}
	h->got += (size_t)r;
	h->buf[h->got] = '\0';
	eol = strstr(h->buf, "\r\n");
	if (eol == NULL && r > 0 && h->got < sizeof h->buf - 1)
		return;
	if (eol != NULL)
		*eol = '\0';
	if (sscanf(h->buf, "HTTP/1.%*1[01] %3d", &code) != 1 || code < 100) {
		health_settle(h, 0, "GET %s: %s", h->hc->http_path, h->got == 0 ?
		    "connection closed without an answer" : "not an HTTP answer");
		return;
	}
	health_settle(h, code >= 200 && code < 300, "GET %s: %d",
	    h->hc->http_path, code);
}

/* The exec probe's pidfd turned readable: the reaper collects it. */
static void
health_exit_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	reaper_run();
}

/* The probe is a zombie: end what else runs in its group. */
static void
health_probe_exiting(pid_t pid, void *arg)
{
	kill(-pid, SIGKILL);
}

/* The probe was reaped: exit 0 passes. */
static void
health_probe_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct health *h = arg;
	char what[96];

	ev_io_stop(h->z->loop, &h->exit_watch);
	close(h->pidfd);
	h->pidfd = -1;
	h->pid = 0;
	reaper_describe(ei, what, sizeof what);
	if (!h->settled)
		health_settle(h, ei->signal == 0 && ei->code == 0, "%s %s",
		    h->hc->exec_argv[0], what);
	h->inflight = 0;
}

/* The probe ran out of time: a failure; an exec probe dies with its group. */
static void
health_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health *h = w->data;

	if (h->pid > 0) {
		log_info("zone %s: health probe pid %ld timed out; killing its "
		    "process group", h->z->zc->name, (long)h->pid);
		kill(-h->pid, SIGKILL);
	}
	health_settle(h, 0, "timed out after %lldms",
	    (long long)h->hc->timeout_ms);
}

static void
health_close_fd(struct health *h)
{
	if (h->fd == -1)
		return;
	ev_io_stop(h->z->loop, &h->io);
	close(h->fd);
	h->fd = -1;
}

/* Take the probe's result (once) and act on it. */
static void
health_settle(struct health *h, int ok, const char *fmt, ...)
{
	struct health_result res;
	va_list ap;
	int changed;

	if (h->settled)
		return;
	h->settled = 1;
	ev_timer_stop(h->z->loop, &h->deadline);
	health_close_fd(h);
	if (h->pid == 0)
		h->inflight = 0;	/* an exec probe: once it is reaped */
	memset(&res, 0, sizeof res);
	res.ok = ok;
	res.at_ms = clock_now_ms();
	res.latency_ms = clock_mono_ms() - h->began;
	va_start(ap, fmt);
	vsnprintf(res.detail, sizeof res.detail, fmt, ap);
	va_end(ap);
	while (h->nasked > 0) {
		h->nasked--;
		health_answer(h->z, h->asked[h->nasked], ok, res.latency_ms,
		    res.detail);
	}
	if (!health_current(h) || h->probed.pid != h->vm.pid ||
	    h->probed.start_time != h->vm.start_time)
		return;		/* about a VM that is no longer the zone's */
	res.failures = ok ? 0 : h->last.failures + 1;
	changed = health_write(h, &res) || res.ok != h->last.ok;
	h->last = res;
	h->z->st.health_ok = res.ok;
	h->z->st.health_failures = res.failures;
	h->z->st.health_at_ms = res.at_ms;
	h->z->st.health_latency_ms = res.latency_ms;
	snprintf(h->z->st.health_detail, sizeof h->z->st.health_detail, "%s",
	    res.detail);
	health_judge(h, &res);
	if (changed)
		zone_publish(h->z);
}

/*
 * Write a result to health.log: every failure, every change, and a pass
 * at least every HEALTH_QUIET_MS; the passes between are counted.  1 if
 * it was written.  One that cannot be written is kept for health_retry.
 */
static int
health_write(struct health *h, const struct health_result *res)
{
	int64_t now = clock_mono_ms();

	if (res->ok && h->written && h->last.ok == 1 && !h->pending &&
	    now - h->written_at < HEALTH_QUIET_MS) {
		h->coalesced++;
		return 0;
	}
	if (health_append(h, res) != 0) {
		h->unwritten = *res;
		h->pending = 1;
		return 0;
	}
	h->pending = 0;
	h->written = 1;
	h->written_at = now;
	h->coalesced = 0;
	return 1;
}

/*
 * While the zone's persistence is degraded: write the result that could
 * not be written.  0 once health.log takes results again (or nothing is
 * owed to it).
 */
int
health_retry(struct health *h)
{
	if (!h->pending)
		return 0;
	if (health_append(h, &h->unwritten) != 0)
		return -1;
	h->pending = 0;
	h->written = 1;
	h->written_at = clock_mono_ms();
	h->coalesced = 0;
	return 0;
}

/* Append one result to health.log; -1 (the zone's persistence told). */
static int
health_append(struct health *h, const struct health_result *res)
{
	struct msgw *w;

	w = msgw_new();
	msgw_map_begin(w);
	msgw_key(w, "zone");
	msgw_str(w, h->z->zc->name);
	msgw_key(w, "kind");
	msgw_key(w, "health-probe");
	msgw_key(w, "observed_at_ms");
	msgw_int(w, res->at_ms);
	msgw_key(w, "probe");
	msgw_str(w, names_probe(h->hc->probe));
	msgw_key(w, "ok");
	msgw_bool(w, res->ok);
	msgw_key(w, "latency_ms");
	msgw_int(w, res->latency_ms);
	msgw_key(w, "detail");
	msgw_str(w, res->detail);
	msgw_key(w, "failures");
	msgw_int(w, res->failures);
	msgw_key(w, "state");
	msgw_str(w, names_state(h->z->st.state));
	msgw_key(w, "vm_pid");
	msgw_int(w, h->vm.pid);
	msgw_key(w, "passes_coalesced");
	msgw_int(w, h->coalesced);
	msgw_map_end(w);
	if (records_append_msg(&h->log, w) != 0) {
		zone_persist_failed(h->z, PS_HEALTH, "health.log", h->log.error);
		return -1;
	}
	zone_persist_ok(h->z, PS_HEALTH);
	return 0;
}

/* What a result means for the zone: ready, degraded, healed, escalated. */
static void
health_judge(struct health *h, const struct health_result *res)
{
	struct zone *z = h->z;
	struct msg_escalate *esc;

	if (z->st.state == ZS_STARTING) {
		if (res->ok)
			zone_fsm_feed(z, ZE_READY);
		else if (clock_mono_ms() - h->vm_since >= h->hc->start_period_ms)
			log_debug("zone %s: not ready yet: %s", z->zc->name,
			    res->detail);
		return;
	}
	if (res->ok) {
		zone_fsm_feed(z, ZE_PROBE_PASSED);
		return;
	}
	log_warnx("zone %s: health probe failed (%d in a row): %s",
	    z->zc->name, res->failures, res->detail);
	/* Long details are cut: the whole is in health.log. */
	if (snprintf(z->degraded_reason, sizeof z->degraded_reason,
	    "%s probe failed %d time%s in a row: %s", names_probe(h->hc->probe),
	    res->failures, res->failures == 1 ? "" : "s", res->detail) < 0)
		z->degraded_reason[0] = '\0';
	if (res->failures % h->hc->failure_threshold == 0) {
		esc = &z->escalation;
		memset(esc, 0, sizeof *esc);
		esc->error = ERR_GATEWAY_SERVICE_UNHEALTHY;
		if (snprintf(esc->message, sizeof esc->message,
		    "gateway-service-unhealthy: %s", z->degraded_reason) < 0)
			esc->message[0] = '\0';
		esc->exit_code = -1;
		esc->uptime_ms = clock_mono_ms() - z->vm.spawned_mono_ms;
		esc->vm = h->vm;
		z->escalating = 1;	/* sent after the status report */
	}
	zone_fsm_feed(z, ZE_PROBE_FAILED);
}
