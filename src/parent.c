/*
 * parent.c: zonevisord's supervisor process.  It forks one worker per zone
 * over a socketpair, keeps the last status each worker reported (so status
 * requests never wait on a worker), forwards operations, and drives the
 * graceful shutdown.  It is a child subreaper: when a worker dies, the
 * worker's VM is reparented here, and the parent stops it itself (identity
 * checked, stop signal, stop_timeout, SIGKILL) before it forks a new worker
 * for the zone, so that two VMs of one zone are never alive at once.
 *
 * The recovery policy that decides when a failed zone starts again arrives
 * with the recovery work; until then escalations are logged and a failed
 * zone waits for an operator.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define RESPAWN_MIN_MS	1000	/* least time between two forks of one worker */

static struct config		*parent_cfg;
static struct ev_loop		*parent_loop;
static struct zone_worker	*workers;
static size_t			 nworkers;
static int			 shutting_down;
static int			 forced;
static int64_t			 started_ms;
static ev_signal		 parent_sigs[6];
static ev_timer			 shutdown_timer;

static void parent_signal(int);
static void parent_signal_cb(struct ev_loop *, ev_signal *, int);
static int parent_fork(struct zone_worker *, const struct zone_status *);
static void parent_forget_loop(void);
static void parent_send(struct zone_worker *, struct msgw *);
static void parent_dispatch_worker(struct peer *, const struct mdoc *, void *);
static void parent_bad_frame(struct peer *, const char *, void *);
static void parent_link_gone(struct peer *, const char *, void *);
static void parent_worker_exited(pid_t, const struct exit_info *, void *);
static void parent_orphan_exited(pid_t, const struct exit_info *, void *);
static void parent_orphan_timer_cb(struct ev_loop *, ev_timer *, int);
static void parent_respawn_cb(struct ev_loop *, ev_timer *, int);
static void parent_adopt_orphan(struct zone_worker *, int);
static void parent_shutdown(void);
static void parent_force(void);
static void parent_shutdown_timer_cb(struct ev_loop *, ev_timer *, int);
static void parent_check_done(void);
static void parent_sweep(void);
static int parent_mkdir_p(const char *, mode_t);
static int parent_mkdirs(const struct config *);

static const struct peer_ops parent_link_ops = {
	parent_dispatch_worker, parent_bad_frame, parent_link_gone
};
static const struct reaper_ops parent_worker_reaper = {
	NULL, parent_worker_exited
};
static const struct reaper_ops parent_orphan_reaper = {
	NULL, parent_orphan_exited
};

/* The configuration in force. */
const struct config *
parent_config(void)
{
	return parent_cfg;
}

/* 1 once a shutdown began. */
int
parent_shutting_down(void)
{
	return shutting_down;
}

/* When this zonevisord started, in realtime ms. */
int64_t
parent_started_ms(void)
{
	return started_ms;
}

/* Number of zones. */
size_t
parent_zone_count(void)
{
	return nworkers;
}

/* Zone i, in name order. */
struct zone_worker *
parent_zone_at(size_t i)
{
	return i < nworkers ? &workers[i] : NULL;
}

/* The zone called name, or NULL. */
struct zone_worker *
parent_zone(const char *name)
{
	size_t i;

	for (i = 0; i < nworkers; i++)
		if (strcmp(workers[i].zc->name, name) == 0)
			return &workers[i];
	return NULL;
}

/*
 * Ask zone zw's worker for an operation, abandoned after timeout_ms unless
 * 0.  A restart of a zone that is not running is a cold start and gets a
 * cold-start id.  The new operation id goes to op_id.  Returns -1 with
 * *cause (a CTLERR_ name) if it cannot be asked.
 */
int
parent_zone_op(struct zone_worker *zw, int op, int trigger, int64_t timeout_ms,
    char *op_id, size_t len, const char **cause)
{
	struct msg_zone_op m;
	int type;

	if (shutting_down && op != OP_STOP) {
		*cause = names_ctl_error(CTLERR_SHUTTING_DOWN);
		return -1;
	}
	if (zw->link == NULL || !zw->hello) {
		*cause = names_ctl_error(CTLERR_WORKER_UNAVAILABLE);
		return -1;
	}
	if (op == OP_RESTART && zw->st.state != ZS_RUNNING &&
	    zw->st.state != ZS_RUNNING_DEGRADED)
		op = OP_COLD_START;
	memset(&m, 0, sizeof m);
	opid_new(m.op_id, sizeof m.op_id, zw->zc->name, op);
	m.trigger = trigger;
	m.timeout_ms = timeout_ms;
	switch (op) {
	case OP_STOP:
		type = MSG_ZONE_STOP;
		break;
	case OP_RESTART:
		type = MSG_ZONE_RESTART;
		break;
	case OP_COLD_START:
		type = MSG_ZONE_COLD_START;
		break;
	default:
		type = MSG_ZONE_START;
		break;
	}
	parent_send(zw, msg_pack_zone_op(type, &m));
	snprintf(op_id, len, "%s", m.op_id);
	return 0;
}

/* Send to a worker; a broken link shows up as the worker's loss. */
static void
parent_send(struct zone_worker *zw, struct msgw *w)
{
	if (zw->link == NULL) {
		msgw_free(w);
		return;
	}
	peer_send(zw->link, w);
}

/*
 * In a freshly forked worker: detach the parent's signal watchers so the
 * worker's own loop may take those signals (libev attaches a signal to one
 * loop only).  The parent's loop itself is left alone: its descriptors are
 * closed by the worker, and touching its epoll set would change the
 * parent's.
 */
static void
parent_forget_loop(void)
{
	size_t i;

	for (i = 0; i < sizeof parent_sigs / sizeof parent_sigs[0]; i++)
		ev_signal_stop(parent_loop, &parent_sigs[i]);
}

/* Fork the worker of zw; initial is the status it starts in, or NULL. */
static int
parent_fork(struct zone_worker *zw, const struct zone_status *initial)
{
	int sv[2];
	pid_t pid;
	struct msg_hello hello;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("zone %s: socketpair", zw->zc->name);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("zone %s: fork", zw->zc->name);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		parent_forget_loop();
		worker_main(parent_cfg, zw->zc, sv[1], initial);
	}
	close(sv[1]);
	zw->pid = pid;
	zw->hello = 0;
	zw->forked_mono_ms = clock_mono_ms();
	zw->link = peer_new(parent_loop, sv[0], FRAME_MAX, CONTROL_MAX_OUTPUT,
	    &parent_link_ops, zw);
	reaper_add(pid, &parent_worker_reaper, zw);
	memset(&hello, 0, sizeof hello);
	hello.version = PROTO_VERSION;
	snprintf(hello.zone, sizeof hello.zone, "%s", zw->zc->name);
	hello.pid = getpid();
	parent_send(zw, msg_pack_hello(&hello));
	log_debug("zone %s: forked worker pid %ld", zw->zc->name, (long)pid);
	return 0;
}

/* A message from a worker; anything unexpected means the worker is lost. */
static void
parent_dispatch_worker(struct peer *p, const struct mdoc *doc, void *arg)
{
	struct zone_worker *zw = arg;
	struct msg_hello hello;
	struct msg_op_done done;
	struct msg_escalate esc;
	struct zone_status st;
	struct msgr r;
	char op_id[OP_ID_MAX];
	const char *cause;
	int type;

	if (msg_open(doc, &r, &type) != 0) {
		parent_bad_frame(p, "message without a type", zw);
		return;
	}
	if (!zw->hello && type != MSG_HELLO) {
		parent_bad_frame(p, "message before hello", zw);
		return;
	}
	switch (type) {
	case MSG_HELLO:
		if (msg_unpack_hello(&r, &hello) != 0 ||
		    hello.version != PROTO_VERSION ||
		    strcmp(hello.zone, zw->zc->name) != 0 ||
		    hello.pid != zw->pid) {
			parent_bad_frame(p, "bad hello", zw);
			return;
		}
		zw->hello = 1;
		if (zw->autostart && !shutting_down) {
			zw->autostart = 0;
			if (parent_zone_op(zw, OP_START, TRIG_CONTROLLER_START,
			    0, op_id, sizeof op_id, &cause) != 0)
				log_warnx("zone %s: autostart: %s", zw->zc->name,
				    cause);
		}
		break;
	case MSG_ZONE_STATUS:
		if (msg_unpack_zone_status(&r, &st) != 0) {
			parent_bad_frame(p, "malformed zone status", zw);
			return;
		}
		zw->st = st;
		break;
	case MSG_OP_DONE:
		if (msg_unpack_op_done(&r, &done) != 0) {
			parent_bad_frame(p, "malformed operation result", zw);
			return;
		}
		control_op_done(zw->zc->name, &done);
		break;
	case MSG_ZONE_RECORDED:
		if (msg_end(&r) != 0) {
			parent_bad_frame(p, "malformed record notice", zw);
			return;
		}
		control_zone_recorded(zw->zc->name);
		break;
	case MSG_ESCALATE:
		if (msg_unpack_escalate(&r, &esc) != 0) {
			parent_bad_frame(p, "malformed escalation", zw);
			return;
		}
		log_warnx("zone %s: %s escalated: %s; no recovery policy yet, "
		    "the zone waits for an operator", zw->zc->name,
		    names_error(esc.error), esc.message);
		break;
	default:
		parent_bad_frame(p, "unexpected message type", zw);
		break;
	}
}

/* A worker sent garbage: it is lost; kill it and let its exit clean up. */
static void
parent_bad_frame(struct peer *p, const char *cause, void *arg)
{
	struct zone_worker *zw = arg;

	log_warnx("zone %s: bad message from worker %ld (%s); killing it",
	    zw->zc->name, (long)zw->pid, cause);
	peer_free(zw->link);
	zw->link = NULL;
	if (zw->pid != 0)
		kill(zw->pid, SIGKILL);
}

/* The link closed: the worker is exiting or dead; its reaping follows. */
static void
parent_link_gone(struct peer *p, const char *why, void *arg)
{
	struct zone_worker *zw = arg;

	if (!shutting_down)
		log_warnx("zone %s: lost the link to worker %ld (%s)",
		    zw->zc->name, (long)zw->pid, why);
	peer_free(zw->link);
	zw->link = NULL;
	control_zone_lost(zw->zc->name, "the zone's worker exited");
	if (zw->pid != 0 && !shutting_down)
		kill(zw->pid, SIGKILL);
}

/*
 * A worker was reaped.  Its VM, if one is alive, is now our child: stop it
 * before a new worker may start another.
 */
static void
parent_worker_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct zone_worker *zw = arg;
	char what[96];

	reaper_describe(ei, what, sizeof what);
	zw->pid = 0;
	if (zw->link != NULL) {
		peer_free(zw->link);
		zw->link = NULL;
	}
	control_zone_lost(zw->zc->name, "the zone's worker exited");
	if (shutting_down) {
		if (ei->code != 0)
			log_warnx("zone %s: worker %ld %s", zw->zc->name,
			    (long)pid, what);
		parent_adopt_orphan(zw, SIGKILL);
		parent_check_done();
		return;
	}
	log_warnx("zone %s: worker %ld %s", zw->zc->name, (long)pid, what);
	zw->st.state = ZS_FAILED;
	zw->st.error = ERR_WORKER_LOST;
	zw->st.eligible = 1;
	snprintf(zw->st.message, sizeof zw->st.message,
	    "worker-lost: worker pid %ld %s", (long)pid, what);
	parent_adopt_orphan(zw, zw->zc->stop_signal);
	if (zw->orphan_pid == 0)
		parent_respawn_cb(parent_loop, &zw->respawn_timer, 0);
}

/*
 * Take charge of the VM a dead worker left: if the pid still names the
 * process the worker reported (same start time) it is ours, reparented to
 * us; send it sig and arm the stop deadline.
 */
static void
parent_adopt_orphan(struct zone_worker *zw, int sig)
{
	pid_t vm = zw->st.pid, ppid;

	zw->st.pid = 0;
	if (vm == 0 || !proc_identity_matches(vm, zw->st.vm_start) ||
	    proc_parent(vm, &ppid) != 0 || ppid != getpid())
		return;
	log_warnx("zone %s: stopping VM pid %ld left by its worker",
	    zw->zc->name, (long)vm);
	zw->orphan_pid = vm;
	zw->orphan_killed = sig == SIGKILL;
	reaper_add(vm, &parent_orphan_reaper, zw);
	if (kill(-vm, sig) == -1 && errno != ESRCH)
		log_warn("zone %s: kill -%ld", zw->zc->name, (long)vm);
	ev_timer_set(&zw->orphan_timer, (double)(sig == SIGKILL ? KILL_GRACE_MS :
	    zw->zc->stop_timeout_ms) / 1000., 0.);
	ev_timer_start(parent_loop, &zw->orphan_timer);
}

/* An orphaned VM's deadline passed: SIGKILL it, or give up on it. */
static void
parent_orphan_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone_worker *zw = w->data;

	if (zw->orphan_pid == 0)
		return;
	if (!zw->orphan_killed) {
		zw->orphan_killed = 1;
		log_warnx("zone %s: orphaned VM pid %ld outlived stop_timeout; "
		    "sending SIGKILL", zw->zc->name, (long)zw->orphan_pid);
		kill(-zw->orphan_pid, SIGKILL);
		ev_timer_set(w, KILL_GRACE_MS / 1000., 0.);
		ev_timer_start(loop, w);
		return;
	}
	log_warnx("zone %s: orphaned VM pid %ld survives SIGKILL; the zone "
	    "stays owner-unsafe", zw->zc->name, (long)zw->orphan_pid);
	zw->st.error = ERR_OWNER_UNSAFE;
	zw->st.eligible = 0;
	snprintf(zw->st.message, sizeof zw->st.message, "close-failed: "
	    "orphaned VM pid %ld survives SIGKILL", (long)zw->orphan_pid);
	if (shutting_down) {
		zw->orphan_pid = 0;
		parent_check_done();
	}
}

/* An orphaned VM was reaped: the zone may have a worker again. */
static void
parent_orphan_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct zone_worker *zw = arg;
	char what[96];

	reaper_describe(ei, what, sizeof what);
	log_info("zone %s: orphaned VM pid %ld %s", zw->zc->name, (long)pid,
	    what);
	ev_timer_stop(parent_loop, &zw->orphan_timer);
	zw->orphan_pid = 0;
	if (shutting_down) {
		parent_check_done();
		return;
	}
	snprintf(zw->st.message, sizeof zw->st.message,
	    "worker-lost: its VM pid %ld was stopped (%s)", (long)pid, what);
	zw->st.error = ERR_WORKER_LOST;
	zw->st.eligible = 1;
	parent_respawn_cb(parent_loop, &zw->respawn_timer, 0);
}

/* Fork a new worker for a zone whose worker was lost, at most once a second. */
static void
parent_respawn_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone_worker *zw = w->data;
	int64_t wait = zw->forked_mono_ms + RESPAWN_MIN_MS - clock_mono_ms();
	struct zone_status initial = zw->st;

	ev_timer_stop(loop, w);
	if (shutting_down || zw->pid != 0 || zw->orphan_pid != 0)
		return;
	if (wait > 0) {
		ev_timer_set(w, (double)wait / 1000., 0.);
		ev_timer_start(loop, w);
		return;
	}
	initial.state = ZS_FAILED;
	if (parent_fork(zw, &initial) != 0) {
		ev_timer_set(w, RESPAWN_MIN_MS / 1000., 0.);
		ev_timer_start(loop, w);
	}
}

/* Begin the graceful shutdown: every worker stops its VM and exits. */
static void
parent_shutdown(void)
{
	size_t i;

	shutting_down = 1;
	log_info("shutting down %zu zones (shutdown_timeout %lldms)", nworkers,
	    (long long)parent_cfg->shutdown_timeout_ms);
	for (i = 0; i < nworkers; i++) {
		ev_timer_stop(parent_loop, &workers[i].respawn_timer);
		parent_send(&workers[i], msg_pack_empty(MSG_SHUTDOWN));
	}
	ev_timer_init(&shutdown_timer, parent_shutdown_timer_cb,
	    (double)parent_cfg->shutdown_timeout_ms / 1000., 0.);
	ev_timer_start(parent_loop, &shutdown_timer);
	parent_check_done();
}

/* Skip the grace: SIGKILL the workers; their VMs are killed as orphans. */
static void
parent_force(void)
{
	size_t i;

	if (forced)
		return;
	forced = 1;
	log_warnx("shutdown: killing what is still running");
	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid != 0)
			kill(workers[i].pid, SIGKILL);
		if (workers[i].orphan_pid != 0 && !workers[i].orphan_killed) {
			workers[i].orphan_killed = 1;
			kill(-workers[i].orphan_pid, SIGKILL);
		}
	}
	ev_timer_stop(parent_loop, &shutdown_timer);
	ev_timer_set(&shutdown_timer, KILL_GRACE_MS / 1000., 0.);
	ev_timer_start(parent_loop, &shutdown_timer);
}

/* shutdown_timeout passed (or, after parent_force, its grace). */
static void
parent_shutdown_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (!forced) {
		log_warnx("shutdown_timeout passed");
		parent_force();
		return;
	}
	log_warnx("shutdown: giving up waiting");
	ev_break(loop, EVBREAK_ALL);
}

/* End the loop once no worker and no orphaned VM is left. */
static void
parent_check_done(void)
{
	size_t i;

	if (!shutting_down)
		return;
	for (i = 0; i < nworkers; i++)
		if (workers[i].pid != 0 || workers[i].orphan_pid != 0)
			return;
	ev_break(parent_loop, EVBREAK_ALL);
}

/*
 * Before exiting: kill any process still our child (strays reparented to
 * us) and reap them, so nothing of ours outlives zonevisord.
 */
static void
parent_sweep(void)
{
	int64_t deadline = clock_mono_ms() + KILL_GRACE_MS;
	pid_t *pids;
	size_t n;

	for (;;) {
		reaper_run();
		if (proc_children(&pids, &n) != 0)
			return;
		free(pids);
		if (n == 0 || clock_mono_ms() > deadline)
			return;
		reaper_kill_strays(SIGKILL);
		usleep(10000);
	}
}

/* What each signal means to zonevisord. */
static void
parent_signal(int sig)
{
	size_t i;

	switch (sig) {
	case SIGCHLD:
		reaper_run();
		break;
	case SIGTERM:
	case SIGINT:
		if (shutting_down) {
			log_info("%s again: skipping the grace", names_signal(sig));
			parent_force();
		} else {
			log_info("%s: shutting down", names_signal(sig));
			parent_shutdown();
		}
		break;
	case SIGHUP:
		log_warnx("SIGHUP: configuration reload is not available in "
		    "this version; nothing changed");
		break;
	case SIGUSR1:
		for (i = 0; i < nworkers; i++)
			parent_send(&workers[i], msg_pack_empty(MSG_REOPEN_LOGS));
		break;
	}
}

/*
 * Signals reach the loop through ev_signal watchers, so handling them here,
 * outside the signal handler, may allocate, log and fork safely.
 */
static void
parent_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	parent_signal(w->signum);
}

/* mkdir -p: create path and its missing parents with mode. */
static int
parent_mkdir_p(const char *path, mode_t mode)
{
	char *copy = xstrdup(path), *p;
	int r = 0;

	for (p = copy + 1; r == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (*p == '/') {
			*p = '\0';
			if (mkdir(copy, 0755) == -1 && errno != EEXIST)
				r = -1;
			*p = '/';
			continue;
		}
		if (mkdir(copy, mode) == -1 && errno != EEXIST)
			r = -1;
		break;
	}
	if (r == -1)
		log_warn("mkdir %s", copy);
	free(copy);
	return r;
}

/* Create state_dir, state_dir/zones (private) and runtime_dir. */
static int
parent_mkdirs(const struct config *cfg)
{
	char *zones;
	int r = 0;

	xasprintf(&zones, "%s/zones", cfg->state_dir);
	if (parent_mkdir_p(cfg->state_dir, 0755) != 0 ||
	    parent_mkdir_p(zones, 0700) != 0 ||
	    parent_mkdir_p(cfg->runtime_dir, 0755) != 0)
		r = -1;
	free(zones);
	return r;
}

/*
 * Run the supervisor until it is shut down: make directories, bind the
 * control socket, fork the workers, start autostart zones, serve.
 */
int
parent_main(struct config *cfg)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	size_t i;

	parent_cfg = cfg;
	started_ms = clock_now_ms();
	signal(SIGPIPE, SIG_IGN);
	if (parent_mkdirs(cfg) != 0)
		return ZVD_EXIT_FAILURE;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	if ((parent_loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		log_warnx("cannot create an event loop");
		return ZVD_EXIT_FAILURE;
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		ev_signal_init(&parent_sigs[i], parent_signal_cb, sigs[i]);
		ev_signal_start(parent_loop, &parent_sigs[i]);
	}
	if (control_listen(parent_loop, cfg) != 0)
		return ZVD_EXIT_RUNNING;

	nworkers = cfg->nzones;
	workers = xcalloc(nworkers == 0 ? 1 : nworkers, sizeof *workers);
	for (i = 0; i < nworkers; i++) {
		struct zone_worker *zw = &workers[i];

		zw->zc = cfg->zones[i];
		zw->autostart = zw->zc->autostart;
		zw->st.state = ZS_STOPPED;
		zw->st.desired = ZS_STOPPED;
		zw->st.exit_code = -1;
		zw->st.eligible = 1;
		ev_timer_init(&zw->orphan_timer, parent_orphan_timer_cb, 0., 0.);
		zw->orphan_timer.data = zw;
		ev_timer_init(&zw->respawn_timer, parent_respawn_cb, 0., 0.);
		zw->respawn_timer.data = zw;
		if (parent_fork(zw, NULL) != 0)
			ev_timer_start(parent_loop, &zw->respawn_timer);
	}
	log_info("zonevisord %s started: %zu zones, control socket %s",
	    PACKAGE_VERSION, nworkers, cfg->control_socket);

	ev_run(parent_loop, 0);

	control_close();
	parent_sweep();
	log_info("zonevisord stopped");
	for (i = 0; i < nworkers; i++)
		peer_free(workers[i].link);
	free(workers);
	ev_loop_destroy(parent_loop);
	return ZVD_EXIT_OK;
}
