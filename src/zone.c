/*
 * zone.c: a worker's zone: its operations, its gateway VM, and the actions
 * the state machine of zone_fsm.c runs (zone_spawn, zone_close, ...).
 *
 * Operations are serialized: one is in flight (z->op) and later ones wait in
 * z->queue, except that a stop supersedes an in-flight or queued start or
 * restart, which then ends as failed{superseded}.  The VM is held by a pidfd;
 * its exit is learnt from the worker's one reaping loop, and when the VM's
 * leader dies the rest of its process group and any stray it left behind are
 * killed, so that nothing of an old VM survives next to a new one.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static void zone_op_end(struct zone *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void zone_set_error(struct zone *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void zone_clear_error(struct zone *);
static char **zone_env(struct zone *);
static void zone_signal_group(struct zone *, int);
static void zone_arm_timer(struct zone *, int64_t, int);
static void zone_timer_cb(struct ev_loop *, ev_timer *, int);
static void zone_pidfd_cb(struct ev_loop *, ev_io *, int);
static void zone_output_cb(struct ev_loop *, ev_io *, int);
static void zone_drain_output(struct zone *);
static void zone_vm_exiting(pid_t, void *);
static void zone_vm_exited(pid_t, const struct exit_info *, void *);
static int zone_op_event(int);

static const struct reaper_ops zone_vm_reaper = {
	zone_vm_exiting, zone_vm_exited
};

/* Variables of zonevisord's own environment that a VM inherits. */
static const char *const zone_passenv[] = { "PATH", "LANG", "LC_ALL", "TZ" };

/* Create the worker's zone, stopped, with its state directory. */
struct zone *
zone_new(struct ev_loop *loop, const struct config *cfg,
    const struct zone_config *zc)
{
	struct zone *z = xcalloc(1, sizeof *z);
	char *path;

	z->loop = loop;
	z->cfg = cfg;
	z->zc = zc;
	TAILQ_INIT(&z->queue);
	TAILQ_INIT(&z->finished);
	z->st.state = ZS_STOPPED;
	z->st.desired = ZS_STOPPED;
	z->st.since_ms = clock_now_ms();
	z->st.exit_code = -1;
	z->st.eligible = 1;
	z->vm.pidfd = -1;
	z->vm.output_fd = -1;
	z->console.fd = -1;
	ev_timer_init(&z->stop_timer, zone_timer_cb, 0., 0.);
	z->stop_timer.data = z;

	xasprintf(&z->dir, "%s/zones/%s", cfg->state_dir, zc->name);
	if (mkdir(z->dir, 0700) == -1 && errno != EEXIST)
		log_warn("zone %s: mkdir %s", zc->name, z->dir);
	xasprintf(&path, "%s/console.log", z->dir);
	console_open(&z->console, path, zc->log_max_size, zc->log_keep);
	free(path);
	return z;
}

/* Free a zone that holds no VM any more. */
void
zone_free(struct zone *z)
{
	struct zone_op *op;

	while ((op = TAILQ_FIRST(&z->queue)) != NULL) {
		TAILQ_REMOVE(&z->queue, op, entry);
		free(op);
	}
	while ((op = TAILQ_FIRST(&z->finished)) != NULL) {
		TAILQ_REMOVE(&z->finished, op, entry);
		free(op);
	}
	free(z->op);
	free(z->incoming);
	ev_timer_stop(z->loop, &z->stop_timer);
	console_close(&z->console);
	free(z->dir);
	free(z);
}

/* 1 when nothing is in flight and no VM is held: the worker may exit. */
int
zone_at_rest(const struct zone *z)
{
	return z->op == NULL && TAILQ_EMPTY(&z->queue) && z->vm.pid == 0 &&
	    (z->st.state == ZS_STOPPED || z->st.state == ZS_FAILED);
}

/* The event that starts an operation of this kind. */
static int
zone_op_event(int kind)
{
	switch (kind) {
	case OP_STOP:
		return ZE_STOP;
	case OP_RESTART:
		return ZE_RESTART;
	default:
		return ZE_START;
	}
}

/*
 * Take an operation.  A stop supersedes a start or restart in flight and
 * every one still queued; anything else waits for the operation in flight.
 */
void
zone_submit(struct zone *z, struct zone_op *op)
{
	struct zone_op *q, *next;

	log_info("zone %s: operation %s (%s)", z->zc->name, op->id,
	    names_trigger(op->trigger));
	if (z->exiting && op->kind != OP_STOP) {
		z->op_done(z, op, 0, ERR_NONE, "the worker is shutting down");
		free(op);
		return;
	}
	if (op->kind == OP_STOP) {
		TAILQ_FOREACH_SAFE(q, &z->queue, entry, next) {
			if (q->kind == OP_STOP)
				continue;
			TAILQ_REMOVE(&z->queue, q, entry);
			z->op_done(z, q, 0, ERR_SUPERSEDED,
			    "superseded by a stop before it began");
			free(q);
		}
		if (z->op != NULL && z->op->kind != OP_STOP &&
		    z->incoming == NULL) {
			z->incoming = op;
			zone_fsm_feed(z, ZE_STOP);
			return;
		}
	}
	if (z->op != NULL || z->incoming != NULL) {
		TAILQ_INSERT_TAIL(&z->queue, op, entry);
		return;
	}
	z->op = op;
	zone_fsm_feed(z, zone_op_event(op->kind));
}

/* Start the first queued operation; called when none is in flight. */
void
zone_next_op(struct zone *z)
{
	struct zone_op *op = TAILQ_FIRST(&z->queue);

	TAILQ_REMOVE(&z->queue, op, entry);
	z->op = op;
	zone_fsm_feed(z, zone_op_event(op->kind));
}

/* Stop the VM and let the worker end: on SIGTERM or without a parent. */
void
zone_shutdown(struct zone *z)
{
	struct zone_op *op;

	if (z->exiting)
		return;
	z->exiting = 1;
	op = xcalloc(1, sizeof *op);
	op->kind = OP_STOP;
	op->trigger = TRIG_SHUTDOWN;
	opid_new(op->id, sizeof op->id, z->zc->name, OP_STOP);
	zone_submit(z, op);
}

/*
 * End the operation in flight.  The parent hears of it only after the
 * status of the transition under way (zone_report_done), so an answer to a
 * waiting client never shows the state the zone is leaving.
 */
static void
zone_op_end(struct zone *z, int ok, int error, const char *fmt, ...)
{
	struct zone_op *op = z->op;
	va_list ap;

	if (op == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(op->message, sizeof op->message, fmt, ap);
	va_end(ap);
	op->ok = ok;
	op->error = error;
	if (ok)
		log_info("zone %s: operation %s finished", z->zc->name, op->id);
	else
		log_warnx("zone %s: operation %s failed: %s: %s", z->zc->name,
		    op->id, names_error(error), op->message);
	TAILQ_INSERT_TAIL(&z->finished, op, entry);
	z->op = NULL;
}

/* Tell the parent about the operations that ended; after a status report. */
void
zone_report_done(struct zone *z)
{
	struct zone_op *op;

	while ((op = TAILQ_FIRST(&z->finished)) != NULL) {
		TAILQ_REMOVE(&z->finished, op, entry);
		z->op_done(z, op, op->ok, op->error, op->message);
		free(op);
	}
}

/* Record why the zone failed: code, message and cold-start eligibility. */
static void
zone_set_error(struct zone *z, int error, int eligible, const char *fmt, ...)
{
	va_list ap;

	z->st.error = error;
	z->st.eligible = eligible;
	va_start(ap, fmt);
	vsnprintf(z->st.message, sizeof z->st.message, fmt, ap);
	va_end(ap);
}

/* Forget the last failure; the zone is healthy again. */
static void
zone_clear_error(struct zone *z)
{
	z->st.error = ERR_NONE;
	z->st.eligible = 1;
	z->st.message[0] = '\0';
}

/*
 * The VM's environment: a few variables of zonevisord's own (never all of
 * them, so nothing meant for another zone leaks in), zonevisor's markers,
 * then the zone's env.NAME settings.
 */
static char **
zone_env(struct zone *z)
{
	size_t n = 0, i, max = 8 + z->zc->nenv;
	char **env = xcalloc(max, sizeof *env);
	const char *v;

	for (i = 0; i < sizeof zone_passenv / sizeof zone_passenv[0]; i++)
		if ((v = getenv(zone_passenv[i])) != NULL)
			xasprintf(&env[n++], "%s=%s", zone_passenv[i], v);
	xasprintf(&env[n++], "ZONEVISOR_ZONE=%s", z->zc->name);
	xasprintf(&env[n++], "ZONEVISOR_ZONE_DIR=%s", z->dir);
	if (z->op != NULL)
		xasprintf(&env[n++], "ZONEVISOR_OPERATION=%s", z->op->id);
	for (i = 0; i < z->zc->nenv; i++)
		env[n++] = xstrdup(z->zc->env[i]);
	env[n] = NULL;
	return env;
}

/* Signal the VM's process group; its leader is unreaped, so the id is ours. */
static void
zone_signal_group(struct zone *z, int sig)
{
	if (z->vm.pid == 0)
		return;
	log_info("zone %s: sending %s to VM pid %ld and its process group",
	    z->zc->name, names_signal(sig), (long)z->vm.pid);
	if (kill(-z->vm.pid, sig) == -1 && errno != ESRCH)
		log_warn("zone %s: kill -%ld", z->zc->name, (long)z->vm.pid);
}

/* Arm the stop timer to feed ev after ms. */
static void
zone_arm_timer(struct zone *z, int64_t ms, int ev)
{
	ev_timer_stop(z->loop, &z->stop_timer);
	z->timer_event = ev;
	ev_timer_set(&z->stop_timer, (double)ms / 1000., 0.);
	ev_timer_start(z->loop, &z->stop_timer);
}

/* The stop or kill deadline passed. */
static void
zone_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone *z = w->data;

	zone_fsm_feed(z, z->timer_event);
}

/* The pidfd turned readable: the VM exited; the reaper collects it. */
static void
zone_pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	reaper_run();
}

/* VM output arrived: copy it to the console log. */
static void
zone_output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct zone *z = w->data;
	char buf[65536];
	ssize_t n;

	n = read(z->vm.output_fd, buf, sizeof buf);
	if (n > 0) {
		console_write(&z->console, buf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	ev_io_stop(loop, w);
	close(z->vm.output_fd);
	z->vm.output_fd = -1;
}

/* Copy what the VM wrote before it died, then close its output pipe. */
static void
zone_drain_output(struct zone *z)
{
	char buf[65536];
	ssize_t n;

	if (z->vm.output_fd == -1)
		return;
	while ((n = read(z->vm.output_fd, buf, sizeof buf)) > 0)
		console_write(&z->console, buf, (size_t)n);
	ev_io_stop(z->loop, &z->vm.output_watch);
	close(z->vm.output_fd);
	z->vm.output_fd = -1;
}

/*
 * The VM's leader is a zombie, not yet reaped: its process group id cannot
 * have been reused, so kill whatever is left in the group now.
 */
static void
zone_vm_exiting(pid_t pid, void *arg)
{
	struct zone *z = arg;

	if (kill(-pid, SIGKILL) == -1 && errno != ESRCH && errno != EPERM)
		log_warn("zone %s: kill -%ld", z->zc->name, (long)pid);
}

/* The VM was reaped: release it and feed vm-exited. */
static void
zone_vm_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct zone *z = arg;
	char what[96];

	reaper_describe(ei, what, sizeof what);
	log_info("zone %s: VM pid %ld %s", z->zc->name, (long)pid, what);
	ev_io_stop(z->loop, &z->vm.exit_watch);
	close(z->vm.pidfd);
	z->vm.pidfd = -1;
	z->last_exit = *ei;
	z->st.exit_code = ei->code;
	z->st.exit_signal = ei->signal;
	z->vm.exited_pid = pid;
	z->vm.uptime_ms = clock_mono_ms() - z->vm.spawned_mono_ms;
	z->vm.pid = 0;
	z->st.pid = 0;
	z->st.vm_start = 0;
	/* Daemons the VM left outside its group belong to it too. */
	reaper_kill_strays(SIGKILL);
	zone_drain_output(z);
	ev_timer_stop(z->loop, &z->stop_timer);
	zone_fsm_feed(z, ZE_VM_EXITED);
}

/* Action: spawn the gateway VM of z->op. */
int
zone_spawn(struct zone *z, int next)
{
	struct spawn_spec spec;
	struct spawn_result res;
	char cause[MESSAGE_MAX];
	char **env;
	int pipefd[2], r;

	z->st.desired = ZS_RUNNING;
	if (z->op != NULL)
		snprintf(z->st.op_id, sizeof z->st.op_id, "%s", z->op->id);
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		zone_set_error(z, ERR_VM_SPAWN_FAILED, 1, "pipe: %s (%s)",
		    strerror(errno), names_errno(errno));
		zone_fsm_feed(z, ZE_SPAWN_FAILED);
		return next;
	}
	env = zone_env(z);
	spec.argv = z->zc->argv;
	spec.envp = env;
	spec.cwd = z->zc->cwd != NULL ? z->zc->cwd : z->dir;
	spec.output_fd = pipefd[1];
	r = spawn_process(&spec, &res, cause, sizeof cause);
	argv_free(env);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		zone_set_error(z, ERR_VM_SPAWN_FAILED, 1, "%s", cause);
		zone_fsm_feed(z, ZE_SPAWN_FAILED);
		return next;
	}
	z->vm.pid = res.pid;
	z->vm.pidfd = res.pidfd;
	z->vm.start_time = res.start_time;
	z->vm.spawned_mono_ms = clock_mono_ms();
	z->vm.output_fd = pipefd[0];
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	reaper_add(res.pid, &zone_vm_reaper, z);
	ev_io_init(&z->vm.exit_watch, zone_pidfd_cb, res.pidfd, EV_READ);
	z->vm.exit_watch.data = z;
	ev_io_start(z->loop, &z->vm.exit_watch);
	ev_io_init(&z->vm.output_watch, zone_output_cb, pipefd[0], EV_READ);
	z->vm.output_watch.data = z;
	ev_io_start(z->loop, &z->vm.output_watch);

	z->st.pid = res.pid;
	z->st.vm_start = res.start_time;
	z->st.booted_at_ms = clock_now_ms();
	z->st.exit_code = -1;
	z->st.exit_signal = 0;
	if (z->op != NULL && z->op->kind == OP_RESTART)
		z->st.restarts++;
	log_info("zone %s: spawned VM pid %ld: %s", z->zc->name,
	    (long)res.pid, z->zc->command);
	zone_fsm_feed(z, ZE_SPAWNED);
	return next;
}

/* Action: the VM runs; with no readiness probe, spawned means ready. */
int
zone_await_ready(struct zone *z, int next)
{
	zone_fsm_feed(z, ZE_READY);
	return next;
}

/* Action: the VM is ready; the start or restart is done. */
int
zone_started(struct zone *z, int next)
{
	zone_clear_error(z);
	zone_op_end(z, 1, ERR_NONE, "running, pid %ld", (long)z->vm.pid);
	return next;
}

/* Action: the VM could not be executed. */
int
zone_spawn_failed(struct zone *z, int next)
{
	zone_op_end(z, 0, z->st.error, "%s", z->st.message);
	return next;
}

/* Action: the VM died before it was ready. */
int
zone_start_exited(struct zone *z, int next)
{
	char what[96];

	reaper_describe(&z->last_exit, what, sizeof what);
	zone_set_error(z, ERR_VM_START_FAILED, 1, "VM pid %ld %s while starting",
	    (long)z->vm.exited_pid, what);
	zone_op_end(z, 0, z->st.error, "%s", z->st.message);
	return next;
}

/* Action: the VM died while running; tell the parent, whose policy decides. */
int
zone_vm_lost(struct zone *z, int next)
{
	struct msg_escalate esc;
	char what[96];

	reaper_describe(&z->last_exit, what, sizeof what);
	zone_set_error(z, ERR_VM_PROCESS_MISSING, 1,
	    "vm-process-missing: VM pid %ld %s after %lld.%03llds",
	    (long)z->vm.exited_pid, what, (long long)(z->vm.uptime_ms / 1000),
	    (long long)(z->vm.uptime_ms % 1000));
	memset(&esc, 0, sizeof esc);
	esc.error = ERR_VM_PROCESS_MISSING;
	snprintf(esc.message, sizeof esc.message, "%s", z->st.message);
	esc.exit_code = z->last_exit.code;
	esc.exit_signal = z->last_exit.signal;
	esc.uptime_ms = z->vm.uptime_ms;
	z->escalate(z, &esc);
	return next;
}

/*
 * Action: begin closing the VM (stop or restart of a running zone): the
 * stop signal to its process group, then SIGKILL after stop_timeout.
 */
int
zone_close(struct zone *z, int next)
{
	if (z->event == ZE_RESTART) {
		z->next_after_stop = ZS_STARTING;
		z->st.desired = ZS_RUNNING;
	} else {
		z->next_after_stop = ZS_STOPPED;
		z->st.desired = ZS_STOPPED;
	}
	if (z->op != NULL)
		snprintf(z->st.op_id, sizeof z->st.op_id, "%s", z->op->id);
	zone_signal_group(z, z->zc->stop_signal);
	zone_arm_timer(z, z->zc->stop_timeout_ms, ZE_STOP_TIMEOUT);
	return next;
}

/* Action: the stop timeout passed; SIGKILL the group. */
int
zone_kill(struct zone *z, int next)
{
	log_warnx("zone %s: VM pid %ld still alive after stop_timeout (%lldms)",
	    z->zc->name, (long)z->vm.pid, (long long)z->zc->stop_timeout_ms);
	zone_signal_group(z, SIGKILL);
	zone_arm_timer(z, KILL_GRACE_MS, ZE_KILL_TIMEOUT);
	return next;
}

/*
 * Action: a stop arrives while a start or restart is in flight.  The
 * superseded operation fails; the stop becomes the operation in flight.
 */
int
zone_supersede(struct zone *z, int next)
{
	struct zone_op *stop = z->incoming;
	int was = z->st.state;

	z->incoming = NULL;
	if (stop == NULL)
		return zone_refuse(z, z->st.state);
	if (z->op != NULL)
		zone_op_end(z, 0, ERR_SUPERSEDED, "superseded by %s", stop->id);
	z->op = stop;
	snprintf(z->st.op_id, sizeof z->st.op_id, "%s", stop->id);
	z->next_after_stop = ZS_STOPPED;
	z->st.desired = ZS_STOPPED;
	if (was == ZS_STARTING) {
		z->event = ZE_STOP;
		return zone_close(z, next);
	}
	return next;
}

/* Action: the VM is gone after a stop; finish, or start again for a restart. */
int
zone_closed(struct zone *z, int next)
{
	if (z->next_after_stop == ZS_STARTING && !z->exiting)
		return zone_spawn(z, ZS_STARTING);
	zone_clear_error(z);
	zone_op_end(z, 1, ERR_NONE, "stopped");
	return ZS_STOPPED;
}

/* Action: the VM survived SIGKILL: ownership can no longer be proven. */
int
zone_close_failed(struct zone *z, int next)
{
	zone_set_error(z, ERR_OWNER_UNSAFE, 0, "close-failed: VM pid %ld still "
	    "alive %dms after SIGKILL", (long)z->vm.pid, KILL_GRACE_MS);
	zone_op_end(z, 0, z->st.error, "%s", z->st.message);
	return next;
}

/* Action: start a failed zone, if the failure allows a new VM. */
int
zone_start_from_failed(struct zone *z, int next)
{
	if (!z->st.eligible || z->vm.pid != 0) {
		zone_op_end(z, 0, z->st.error,
		    "not eligible for a start until the failure is resolved: %s",
		    z->st.message);
		return ZS_FAILED;
	}
	return zone_spawn(z, ZS_STARTING);
}

/* Action: stop a failed zone: close a VM still held, else just settle. */
int
zone_stop_from_failed(struct zone *z, int next)
{
	if (z->vm.pid != 0) {
		z->event = ZE_STOP;
		return zone_close(z, ZS_STOPPING);
	}
	z->st.desired = ZS_STOPPED;
	zone_clear_error(z);
	zone_op_end(z, 1, ERR_NONE, "stopped");
	return ZS_STOPPED;
}

/* Action: a VM that had survived SIGKILL is finally gone. */
int
zone_late_exit(struct zone *z, int next)
{
	char what[96];

	reaper_describe(&z->last_exit, what, sizeof what);
	zone_set_error(z, z->st.error, 1, "%.150s; VM pid %ld later %s",
	    z->st.message, (long)z->vm.exited_pid, what);
	return next;
}

/* Action: the operation asks for what already holds. */
int
zone_already(struct zone *z, int next)
{
	zone_op_end(z, 1, ERR_NONE, "already %s", names_state(z->st.state));
	return next;
}

/* Action: an event this state does not take; fail its operation. */
int
zone_refuse(struct zone *z, int next)
{
	log_warnx("zone %s: refusing %s in state %s", z->zc->name,
	    names_event(z->event), names_state(z->st.state));
	zone_op_end(z, 0, ERR_NONE, "refused while %s",
	    names_state(z->st.state));
	return next;
}

/* Action: an event that means nothing in this state. */
int
zone_ignore(struct zone *z, int next)
{
	log_debug("zone %s: ignoring %s in state %s", z->zc->name,
	    names_event(z->event), names_state(z->st.state));
	return next;
}
