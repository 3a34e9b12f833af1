/*
 * zone.c: a worker's zone: its operations, its gateway VM, its records,
 * and the actions the state machine of zone_fsm.c runs (zone_spawn,
 * zone_close, ...).
 *
 * Operations are serialized: one is in flight (z->op) and later ones wait in
 * z->queue, except that a stop supersedes an in-flight or queued start or
 * restart, which then ends as failed{superseded}.  An operation with a
 * timeout is answered recovery-timeout when it passes and bumps the zone's
 * generation, but keeps the zone until the work under way settles: a VM
 * spawned for an older generation is closed as stale-generation-closed as
 * soon as it comes up, and a restart whose stop phase outlived its timeout
 * starts nothing.
 *
 * Every step is recorded in the zone's lifecycle log, and the records are
 * made durable before the parent hears an operation ended.  The runtime
 * record names the VM from its spawn until a clean close.  When the VM's
 * leader dies, the rest of its process group and any stray it left behind
 * are killed, so nothing of an old VM survives next to a new one.
 *
 * Writes to the state directory may fail (full, read-only): the zone's
 * persistence is then degraded, with the first failure and since when,
 * until every failed write has been done again (a runtime record the VM
 * still needs, a health result, a note in the lifecycle log of the records
 * lost meanwhile), retried every ZONE_PERSIST_RETRY seconds.  A failed
 * write never stops, fails or restarts the zone: a VM whose runtime record
 * cannot be written keeps running, for a gateway lost to a full disk would
 * be an outage made of a logging problem; the record is written as soon as
 * it can be, and until then the parent knows the VM from the zone's status
 * and a later zonevisord finds it by its marker (boot.c), so it is never
 * taken for absent and a second VM is never started beside it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define ZONE_PROBE_SIZE	16384	/* bytes that must fit before persistence is ok */

static void zone_record(struct zone *, int, const struct vm_ident *,
    const struct vm_ident *, int, const char *);
static void zone_record_requested(struct zone *);
static void zone_sync_cb(struct ev_loop *, ev_timer *, int);
static void zone_escalate_unsafe(struct zone *);
static struct vm_ident zone_vm_ident(const struct zone *);
static struct vm_ident zone_exited_ident(const struct zone *);
static const char *zone_op_id(const struct zone *);
static void zone_op_begin(struct zone *, struct zone_op *);
static void zone_op_answer(struct zone *, struct zone_op *, int, int,
    const char *, ...) __attribute__((format(printf, 5, 6)));
static void zone_op_end(struct zone *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void zone_op_free(struct zone *, struct zone_op *);
static void zone_op_timer_cb(struct ev_loop *, ev_timer *, int);
static int zone_op_event(int);
static int zone_op_replaces(const struct zone_op *);
static void zone_set_error(struct zone *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void zone_clear_error(struct zone *);
static void zone_note_outage(struct zone *);
static void zone_env_free(char **);
static int zone_resolve_secrets(struct zone *, char *, size_t);
static void zone_forget_secrets(struct zone *);
static void zone_write_runtime(struct zone *);
static void zone_drop_runtime(struct zone *);
static char **zone_env(struct zone *);
static void zone_signal_group(struct zone *, int);
static void zone_arm_timer(struct zone *, int64_t, int);
static void zone_timer_cb(struct ev_loop *, ev_timer *, int);
static void zone_pidfd_cb(struct ev_loop *, ev_io *, int);
static void zone_output_cb(struct ev_loop *, ev_io *, int);
static void zone_drain_output(struct zone *);
static void zone_vm_exiting(pid_t, void *);
static void zone_vm_exited(pid_t, const struct exit_info *, void *);
static void zone_ready_now(struct zone *);
static void zone_ready_by_probe(struct zone *);
static void zone_close_failing(struct zone *, int, const char *);
static void zone_sync(struct zone *);
static void zone_note_gap(struct zone *);
static int zone_probe_dir(const char *);
static void zone_persist_changed(struct zone *);
static void zone_persist_restored(struct zone *);
static void zone_persist_retry_cb(struct ev_loop *, ev_timer *, int);
static void zone_persist_report_cb(struct ev_loop *, ev_timer *, int);

static const struct reaper_ops zone_vm_reaper = {
	zone_vm_exiting, zone_vm_exited
};

/* Variables of zonevisord's own environment that a VM inherits. */
static const char *const zone_passenv[] = { "PATH", "LANG", "LC_ALL", "TZ" };

/* Create the worker's zone, stopped, with its directory and logs. */
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
	TAILQ_INIT(&z->results);
	z->st.state = ZS_STOPPED;
	z->st.desired = ZS_STOPPED;
	z->st.since_ms = clock_now_ms();
	z->st.exit_code = -1;
	z->st.eligible = 1;
	z->st.health_ok = -1;
	z->vm.pidfd = -1;
	z->vm.output_fd = -1;
	z->console.fd = -1;
	z->await_ready = zone_ready_now;
	ev_timer_init(&z->stop_timer, zone_timer_cb, 0., 0.);
	z->stop_timer.data = z;
	ev_timer_init(&z->sync_timer, zone_sync_cb, ZONE_SYNC_DELAY, 0.);
	z->sync_timer.data = z;
	ev_timer_init(&z->persist_timer, zone_persist_retry_cb,
	    ZONE_PERSIST_RETRY, ZONE_PERSIST_RETRY);
	z->persist_timer.data = z;
	ev_timer_init(&z->persist_report, zone_persist_report_cb, 0., 0.);
	z->persist_report.data = z;

	xasprintf(&z->dir, "%s/zones/%s", cfg->state_dir, zc->name);
	if (mkdir(z->dir, 0700) == -1 && errno != EEXIST)
		log_warn("zone %s: mkdir %s", zc->name, z->dir);
	xasprintf(&path, "%s/console.log", z->dir);
	console_open(&z->console, path, zc->log_max_size, zc->log_keep);
	free(path);
	xasprintf(&path, "%s/lifecycle.log", z->dir);
	/* If it cannot be opened, zone_persist_begin says so. */
	records_open(&z->log, path, zc->log_max_size, zc->log_keep);
	free(path);
	xasprintf(&z->runtime_path, "%s/runtime", z->dir);
	if (zc->nsecrets > 0 && zc->secrets_delivery == SECRETS_FILES)
		xasprintf(&z->credentials_dir, "%s/credentials/%s",
		    cfg->runtime_dir, zc->name);
	/* The worker's own copy: zc is the configuration it was forked with. */
	health_config_copy(&z->hc, &zc->health);
	if ((z->health = health_new(z)) != NULL)
		z->await_ready = zone_ready_by_probe;
	z->leases = lease_table_new(z);
	return z;
}

/* Free a zone that holds no VM any more. */
void
zone_free(struct zone *z)
{
	struct zone_result *res;
	struct zone_op *op;

	while ((op = TAILQ_FIRST(&z->queue)) != NULL) {
		TAILQ_REMOVE(&z->queue, op, entry);
		zone_op_free(z, op);
	}
	while ((res = TAILQ_FIRST(&z->results)) != NULL) {
		TAILQ_REMOVE(&z->results, res, entry);
		free(res);
	}
	if (z->op != NULL)
		zone_op_free(z, z->op);
	if (z->incoming != NULL)
		zone_op_free(z, z->incoming);
	ev_timer_stop(z->loop, &z->stop_timer);
	ev_timer_stop(z->loop, &z->sync_timer);
	ev_timer_stop(z->loop, &z->persist_timer);
	ev_timer_stop(z->loop, &z->persist_report);
	health_free(z->health);
	lease_table_free(z->leases);
	zone_forget_secrets(z);
	free(z->credentials_dir);
	health_config_clear(&z->hc);
	console_close(&z->console);
	records_close(&z->log);
	free(z->runtime_path);
	free(z->dir);
	free(z);
}

/*
 * 1 when nothing is in flight and no VM is held (a tool VM that would not
 * die is not waited for): the worker may exit.
 */
int
zone_at_rest(const struct zone *z)
{
	return z->op == NULL && TAILQ_EMPTY(&z->queue) && z->vm.pid == 0 &&
	    !lease_busy(z) && (z->st.state == ZS_STOPPED || z->st.state == ZS_FAILED ||
	    z->st.state == ZS_OWNER_UNSAFE);
}

/* The identity of the VM held now, or {0, 0}. */
static struct vm_ident
zone_vm_ident(const struct zone *z)
{
	struct vm_ident id = { z->vm.pid, z->vm.start_time };

	return id;
}

/* The identity of the VM that exited last. */
static struct vm_ident
zone_exited_ident(const struct zone *z)
{
	struct vm_ident id = { z->vm.exited_pid, z->vm.exited_start_time };

	return id;
}

/* The operation a record belongs to: the one in flight, else the VM's. */
static const char *
zone_op_id(const struct zone *z)
{
	if (z->op != NULL)
		return z->op->id;
	if (z->vm.op_id[0] != '\0')
		return z->vm.op_id;
	return z->st.op_id;
}

/*
 * Append a record made elsewhere (lease.c) to the zone's lifecycle log,
 * filling in what every record of the zone carries.
 */
void
zone_append(struct zone *z, struct record *rec)
{
	rec->zone = z->zc->name;
	rec->observed_at_ms = clock_now_ms();
	if (rec->op_id == NULL)
		rec->op_id = zone_op_id(z);
	rec->supervisor_pid = getppid();
	rec->generation = z->st.generation;
	/* Records were lost before this one: say so where they are missing. */
	if (z->gap_pending && rec->kind != REC_RECORDS_LOST)
		zone_note_gap(z);
	if (records_append(&z->log, rec) != 0) {
		if (rec->kind != REC_RECORDS_LOST) {
			z->st.records_lost++;
			if (!z->gap_pending)
				z->gap_since_ms = rec->observed_at_ms;
			z->gap_pending = 1;
		}
		zone_persist_failed(z, PS_LIFECYCLE, "lifecycle.log",
		    z->log.error);
		return;
	}
	z->recorded = 1;
	if (!ev_is_active(&z->sync_timer)) {
		/* Set each time: a one-shot timer that fired has no delay left. */
		ev_timer_set(&z->sync_timer, ZONE_SYNC_DELAY, 0.);
		ev_timer_start(z->loop, &z->sync_timer);
	}
}

/*
 * Append the records-lost note: the log has a gap from gap_since_ms to
 * now.  Once the note is in the log, the gap is accounted for.
 */
static void
zone_note_gap(struct zone *z)
{
	struct record rec;
	char when[32], msg[MESSAGE_MAX];
	time_t t = (time_t)(z->gap_since_ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof when, "%lld ms", (long long)z->gap_since_ms);
	snprintf(msg, sizeof msg, "lifecycle records could not be written "
	    "from %s until now (%.120s); %lu lost in all", when,
	    z->st.persist_cause[0] != '\0' ? z->st.persist_cause : "unknown",
	    (unsigned long)z->st.records_lost);
	memset(&rec, 0, sizeof rec);
	rec.kind = REC_RECORDS_LOST;
	rec.trigger = -1;
	rec.error = ERR_RECORD_WRITE_FAILED;
	rec.message = msg;
	zone_append(z, &rec);
	if (!z->log.failing) {
		z->gap_pending = 0;
		log_info("zone %s: noted the gap in lifecycle.log: %s",
		    z->zc->name, msg);
	}
}

/* Make the records appended lately durable; persistence follows. */
static void
zone_sync(struct zone *z)
{
	if (records_sync(&z->log) != 0)
		zone_persist_failed(z, PS_LIFECYCLE, "lifecycle.log: fdatasync",
		    z->log.error);
	else if (!z->log.failing && !z->log.sync_failing && !z->gap_pending &&
	    (z->persist_failing & PS_LIFECYCLE))
		zone_persist_ok(z, PS_LIFECYCLE);
}

/*
 * A write to the state directory failed (what: the file, err: its errno).
 * The first failure degrades the zone's persistence, is logged once, and
 * starts the retries; the zone itself is not touched.
 */
void
zone_persist_failed(struct zone *z, int what_bit, const char *what, int err)
{
	z->persist_failing |= what_bit;
	if (!ev_is_active(&z->persist_timer))
		ev_timer_again(z->loop, &z->persist_timer);
	if (z->st.persist_since_ms != 0)
		return;
	z->st.persist_since_ms = clock_now_ms();
	snprintf(z->st.persist_cause, sizeof z->st.persist_cause, "%s: %s",
	    what, err != 0 ? strerror(err) : "failed");
	log_warnx("zone %s: persistence degraded: %s; the zone keeps running, "
	    "and what cannot be written is retried every %.0fs", z->zc->name,
	    z->st.persist_cause, ZONE_PERSIST_RETRY);
	zone_persist_changed(z);
}

/*
 * A write of this kind succeeded again.  Once none is failing any more,
 * the next retry (zone_persist_retry_cb) checks that the directory takes
 * new data before it calls persistence restored: on a file system that is
 * nearly full, a small record may still fit where the next will not.
 */
void
zone_persist_ok(struct zone *z, int what_bit)
{
	z->persist_failing &= ~what_bit;
}

/* Every write works again: persistence is restored (logged once). */
static void
zone_persist_restored(struct zone *z)
{
	ev_timer_stop(z->loop, &z->persist_timer);
	log_info("zone %s: persistence restored after %llds (it failed with "
	    "%s); %lu lifecycle records lost in all", z->zc->name,
	    (long long)((clock_now_ms() - z->st.persist_since_ms) / 1000),
	    z->st.persist_cause, (unsigned long)z->st.records_lost);
	z->st.persist_since_ms = 0;
	z->st.persist_cause[0] = '\0';
	zone_persist_changed(z);
}

/*
 * A new worker's persistence: what its predecessor's zone had (st, or NULL
 * for none), with what the parent lost meanwhile (degraded, the lifecycle
 * log owes a note), and whether the log could be opened at all.  Taken
 * over, a degraded persistence is not logged again.
 */
void
zone_persist_begin(struct zone *z, const struct zone_status *st)
{
	if (st != NULL && st->persist_since_ms != 0) {
		z->st.records_lost += st->records_lost;
		z->st.persist_since_ms = st->persist_since_ms;
		snprintf(z->st.persist_cause, sizeof z->st.persist_cause, "%s",
		    st->persist_cause);
		z->persist_failing |= PS_LIFECYCLE;
		z->gap_pending = 1;
		z->gap_since_ms = st->persist_since_ms;
		if (!ev_is_active(&z->persist_timer))
			ev_timer_again(z->loop, &z->persist_timer);
	} else if (st != NULL)
		z->st.records_lost += st->records_lost;
	if (z->log.fd == -1)
		zone_persist_failed(z, PS_LIFECYCLE, "lifecycle.log",
		    z->log.error);
}

/* Persistence changed: tell the parent soon, outside whatever runs now. */
static void
zone_persist_changed(struct zone *z)
{
	if (z->report != NULL && !ev_is_active(&z->persist_report))
		ev_timer_start(z->loop, &z->persist_report);
}

static void
zone_persist_report_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone *z = w->data;

	z->report(z);
}

/*
 * 0 if new data can be written in dir again: a probe file of a few blocks,
 * written like a record (atomicfile.c), then removed.
 */
static int
zone_probe_dir(const char *dir)
{
	static const char block[ZONE_PROBE_SIZE];
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/.write-probe", dir) >=
	    (int)sizeof path)
		return -1;
	if (atomicfile_write(path, block, sizeof block) != 0)
		return -1;
	unlink(path);
	return 0;
}

/*
 * While persistence is degraded: do again what failed.  The runtime record
 * of the VM held (or its deletion), the health result not written, a
 * records-lost note (and its sync), a probe of the lease directory.
 */
static void
zone_persist_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone *z = w->data;
	char dir[PATH_MAX];

	if ((z->persist_failing & PS_RUNTIME) && !z->runtime_pending)
		zone_persist_ok(z, PS_RUNTIME);
	else if (z->persist_failing & PS_RUNTIME) {
		if (z->vm.pid != 0)
			zone_write_runtime(z);
		else if (!z->runtime_stale)
			zone_drop_runtime(z);
	}
	if ((z->persist_failing & PS_HEALTH) &&
	    (z->health == NULL || health_retry(z->health) == 0))
		zone_persist_ok(z, PS_HEALTH);
	if (z->persist_failing & PS_LEASES) {
		if (snprintf(dir, sizeof dir, "%s/leases", z->dir) <
		    (int)sizeof dir && zone_probe_dir(dir) == 0)
			zone_persist_ok(z, PS_LEASES);
	}
	if (z->persist_failing & PS_LIFECYCLE) {
		if (z->gap_pending)
			zone_note_gap(z);
		zone_sync(z);
	}
	if (z->persist_failing == 0 && zone_probe_dir(z->dir) == 0)
		zone_persist_restored(z);
	if (z->recorded)
		z->report(z);
}

/* Append a lifecycle record about this zone. */
static void
zone_record(struct zone *z, int kind, const struct vm_ident *prev,
    const struct vm_ident *cur, int error, const char *message)
{
	static const struct vm_ident none = { 0, 0 };
	struct record rec;

	memset(&rec, 0, sizeof rec);
	rec.kind = kind;
	rec.op_id = zone_op_id(z);
	rec.trigger = z->op != NULL ? z->op->trigger : -1;
	rec.previous_vm = prev != NULL ? *prev : none;
	rec.current_vm = cur != NULL ? *cur : none;
	rec.error = error;
	rec.message = message;
	rec.evidence = kind == REC_OWNER_UNSAFE_DETECTED ||
	    kind == REC_OWNER_UNSAFE_RESOLVED ? z->st.evidence : EVD_NONE;
	rec.detail = z->st.evidence_detail;
	/* Durable soon, off the path a recovery waits on. */
	zone_append(z, &rec);
}

/* Make the records appended lately durable. */
static void
zone_sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone *z = w->data;

	zone_sync(z);
}

/* Keep (or, with an empty op_id, drop) the parent's decision ahead. */
void
zone_arm(struct zone *z, const struct msg_zone_arm *arm)
{
	z->armed = *arm;
}

/* Record a decision the parent made about this zone (DESIGN §1). */
void
zone_note(struct zone *z, int kind, const char *message)
{
	zone_record(z, kind, NULL, NULL, ERR_NONE, message);
	z->report(z);
}

/* Record that the operation in flight was asked for (start-requested, ...). */
static void
zone_record_requested(struct zone *z)
{
	static const int kinds[] = {
		[OP_START] = REC_START_REQUESTED,
		[OP_STOP] = REC_STOP_REQUESTED,
		[OP_RESTART] = REC_RESTART_REQUESTED,
		[OP_COLD_START] = REC_COLD_START_REQUESTED,
		[OP_CREDENTIALS_REFRESH] = REC_CREDENTIALS_REFRESH_REQUESTED,
		[OP_RESET] = -1,	/* no record of its own */
	};
	struct vm_ident vm = zone_vm_ident(z);

	if (z->op != NULL && kinds[z->op->kind] != -1)
		zone_record(z, kinds[z->op->kind], &vm, NULL, ERR_NONE, NULL);
}

/* 1 if op replaces the VM: a restart, cold start or credentials refresh. */
static int
zone_op_replaces(const struct zone_op *op)
{
	return op->kind == OP_RESTART || op->kind == OP_COLD_START ||
	    op->kind == OP_CREDENTIALS_REFRESH;
}

/* The event that starts an operation of this kind. */
static int
zone_op_event(int kind)
{
	switch (kind) {
	case OP_STOP:
		return ZE_STOP;
	case OP_RESTART:
	case OP_COLD_START:
	case OP_CREDENTIALS_REFRESH:
		return ZE_RESTART;	/* the state tells restart from cold start */
	case OP_RESET:
		return ZE_RESET;
	default:
		return ZE_START;
	}
}

/* A new operation; its timeout, if any, starts now, queued or not. */
struct zone_op *
zone_op_new(struct zone *z, int kind, int trigger, const char *id,
    int64_t timeout_ms)
{
	struct zone_op *op = xcalloc(1, sizeof *op);

	op->z = z;
	op->kind = kind;
	op->trigger = trigger;
	op->timeout_ms = timeout_ms;
	if (id != NULL)
		snprintf(op->id, sizeof op->id, "%s", id);
	else
		opid_new(op->id, sizeof op->id, z->zc->name, kind);
	ev_timer_init(&op->timer, zone_op_timer_cb, (double)timeout_ms / 1000.,
	    0.);
	op->timer.data = op;
	if (timeout_ms > 0)
		ev_timer_start(z->loop, &op->timer);
	return op;
}

/* Free an operation and stop its timer. */
static void
zone_op_free(struct zone *z, struct zone_op *op)
{
	ev_timer_stop(z->loop, &op->timer);
	free(op);
}

/*
 * An operation's timeout passed.  In flight, it is the state machine's
 * business; still queued, it simply fails.  Either way the generation moves
 * on, so nothing the operation started can be installed late.
 */
static void
zone_op_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone_op *op = w->data;
	struct zone *z = op->z;

	if (op == z->op) {
		zone_fsm_feed(z, ZE_OP_TIMEOUT);
		return;
	}
	TAILQ_REMOVE(&z->queue, op, entry);
	z->st.generation++;
	zone_op_answer(z, op, 0, ERR_RECOVERY_TIMEOUT, "did not begin within "
	    "%lldms", (long long)op->timeout_ms);
	zone_op_free(z, op);
	zone_publish(z);
}

/* Make op the operation in flight. */
static void
zone_op_begin(struct zone *z, struct zone_op *op)
{
	z->op = op;
	snprintf(z->st.op_id, sizeof z->st.op_id, "%s", op->id);
	z->st.op_kind = op->kind;
	z->st.op_trigger = op->trigger;
	z->st.op_result = OPR_IN_FLIGHT;
	z->st.op_error = ERR_NONE;
	z->st.op_at_ms = clock_now_ms();
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
		zone_op_answer(z, op, 0, ERR_NONE, "the worker is shutting down");
		zone_op_free(z, op);
		zone_publish(z);
		return;
	}
	if (op->kind == OP_STOP) {
		lease_release_all(z, LR_STOP);
		TAILQ_FOREACH_SAFE(q, &z->queue, entry, next) {
			if (q->kind == OP_STOP)
				continue;
			TAILQ_REMOVE(&z->queue, q, entry);
			zone_op_answer(z, q, 0, ERR_SUPERSEDED,
			    "superseded by %s before it began", op->id);
			zone_op_free(z, q);
		}
		if (z->op != NULL && z->op->kind != OP_STOP &&
		    z->incoming == NULL) {
			z->incoming = op;
			zone_fsm_feed(z, ZE_STOP);
			return;
		}
		zone_publish(z);
	}
	if (z->op != NULL || z->incoming != NULL) {
		TAILQ_INSERT_TAIL(&z->queue, op, entry);
		return;
	}
	zone_op_begin(z, op);
	zone_fsm_feed(z, zone_op_event(op->kind));
}

/* Start the first queued operation; called when none is in flight. */
void
zone_next_op(struct zone *z)
{
	struct zone_op *op = TAILQ_FIRST(&z->queue);

	TAILQ_REMOVE(&z->queue, op, entry);
	zone_op_begin(z, op);
	zone_fsm_feed(z, zone_op_event(op->kind));
}

/* Stop the VM and let the worker end: on SIGTERM or without a parent. */
void
zone_shutdown(struct zone *z)
{
	zone_retire(z, TRIG_SHUTDOWN, NULL);
}

/*
 * Stop the VM as operation op_id (NULL: a new one) caused by trigger, and
 * let the worker end: a shutdown, or a reload that removes or replaces
 * the zone's worker.
 */
void
zone_retire(struct zone *z, int trigger, const char *op_id)
{
	if (z->exiting)
		return;
	z->exiting = 1;
	zone_submit(z, zone_op_new(z, OP_STOP, trigger, op_id, 0));
}

/*
 * Answer an operation: record operation-finished or operation-failed and
 * queue its result for the parent, which hears it after the status report.
 * An operation is answered once; a timed-out one keeps the zone until the
 * work it began settles, but says nothing more.
 */
static void
zone_op_answer(struct zone *z, struct zone_op *op, int ok, int error,
    const char *fmt, ...)
{
	struct zone_result *res;
	struct zone_op *saved = z->op;
	struct vm_ident vm = zone_vm_ident(z);
	va_list ap;

	if (op->answered)
		return;
	op->answered = 1;
	res = xcalloc(1, sizeof *res);
	snprintf(res->id, sizeof res->id, "%s", op->id);
	res->ok = ok;
	res->error = error;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof res->message, fmt, ap);
	va_end(ap);
	if (ok)
		log_info("zone %s: operation %s finished", z->zc->name, op->id);
	else
		log_warnx("zone %s: operation %s failed: %s: %s", z->zc->name,
		    op->id, names_error(error), res->message);
	z->op = op;	/* so the record carries its id and trigger */
	zone_record(z, ok ? REC_OPERATION_FINISHED : REC_OPERATION_FAILED,
	    NULL, &vm, error, ok ? NULL : res->message);
	z->op = saved;
	if (strcmp(z->st.op_id, op->id) == 0) {
		z->st.op_result = ok ? OPR_FINISHED : OPR_FAILED;
		z->st.op_error = error;
		z->st.op_at_ms = clock_now_ms();
	}
	TAILQ_INSERT_TAIL(&z->results, res, entry);
}

/* End the operation in flight: answer it (if not yet) and free the zone. */
static void
zone_op_end(struct zone *z, int ok, int error, const char *fmt, ...)
{
	char msg[MESSAGE_MAX];
	va_list ap;

	if (z->op == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	zone_op_answer(z, z->op, ok, error, "%s", msg);
	zone_op_free(z, z->op);
	z->op = NULL;
}

/*
 * Tell the parent what the transition just reported led to: an escalation
 * (at once), then how operations ended (once their records are durable).
 * Both come after the status report, so the parent judges them on the
 * zone's new state.
 */
void
zone_report_done(struct zone *z)
{
	struct zone_result *res;

	/* Escalations first: the parent's decision must not wait on a sync. */
	if (z->escalating) {
		z->escalating = 0;
		z->escalate(z, &z->escalation);
	}
	if (TAILQ_EMPTY(&z->results))
		return;
	zone_sync(z);
	while ((res = TAILQ_FIRST(&z->results)) != NULL) {
		TAILQ_REMOVE(&z->results, res, entry);
		z->op_done(z, res);
		free(res);
	}
}

/* Report status and results outside the state machine's loop. */
void
zone_publish(struct zone *z)
{
	z->report(z);
	zone_report_done(z);
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

/* Forget the last failure and any evidence; the zone is sound again. */
static void
zone_clear_error(struct zone *z)
{
	z->st.error = ERR_NONE;
	z->st.eligible = 1;
	z->st.message[0] = '\0';
	z->st.evidence = EVD_NONE;
	z->st.evidence_detail[0] = '\0';
}

/*
 * Remember the zone's failure as the original outage cause, unless one is
 * already known since the zone was last healthy.  A superseded operation is
 * no outage, and a secret failure is a blocker, never the cause (DESIGN §4).
 */
static void
zone_note_outage(struct zone *z)
{
	if (z->st.outage != ERR_NONE || z->st.error == ERR_NONE ||
	    z->st.error == ERR_SUPERSEDED ||
	    z->st.error == ERR_SECRET_RESOLUTION_FAILED)
		return;
	z->st.outage = z->st.error;
	snprintf(z->st.outage_message, sizeof z->st.outage_message, "%s",
	    z->st.message);
	z->st.outage_at_ms = clock_now_ms();
}

/* Write the runtime record of the VM just spawned. */
static void
zone_write_runtime(struct zone *z)
{
	struct runtime_record rr;
	struct vm_ident vm = zone_vm_ident(z);
	int err;

	memset(&rr, 0, sizeof rr);
	snprintf(rr.zone, sizeof rr.zone, "%s", z->zc->name);
	snprintf(rr.state_dir, sizeof rr.state_dir, "%s", z->cfg->state_dir);
	snprintf(rr.boot_id, sizeof rr.boot_id, "%s", runtime_boot_id());
	runtime_digest(z->zc->command, rr.command_digest,
	    sizeof rr.command_digest);
	snprintf(rr.op_id, sizeof rr.op_id, "%s", z->vm.op_id);
	rr.vm_pid = z->vm.pid;
	rr.vm_start_time = z->vm.start_time;
	rr.worker_pid = getpid();
	rr.supervisor_pid = getppid();
	rr.generation = z->vm.generation;
	rr.written_at_ms = clock_now_ms();
	if (runtime_write(z->runtime_path, &rr) == 0) {
		z->runtime_pending = 0;
		zone_record(z, REC_RUNTIME_RECORD_WRITTEN, NULL, &vm, ERR_NONE,
		    NULL);
		zone_persist_ok(z, PS_RUNTIME);
		return;
	}
	err = errno;
	zone_persist_failed(z, PS_RUNTIME, "runtime", err);
	/* Recorded once, not at every retry. */
	if (!z->runtime_pending)
		zone_record(z, REC_RUNTIME_RECORD_WRITTEN, NULL, &vm,
		    ERR_RECORD_WRITE_FAILED, "the runtime record could not be "
		    "written; the VM keeps running and the record is written "
		    "once it can be");
	z->runtime_pending = 1;
}

/* The runtime record of a VM already reaped, left for after a respawn. */
void
zone_drop_stale_runtime(struct zone *z)
{
	if (!z->runtime_stale)
		return;
	z->runtime_stale = 0;
	zone_drop_runtime(z);
}

/*
 * The VM is proven gone: delete its runtime record.  If that fails, the
 * record names a process that is gone, which no check takes for a VM; the
 * deletion is retried all the same.
 */
static void
zone_drop_runtime(struct zone *z)
{
	struct vm_ident vm = zone_exited_ident(z);

	if (runtime_delete(z->runtime_path) == 0) {
		z->runtime_pending = 0;
		zone_record(z, REC_RUNTIME_RECORD_DELETED, &vm, NULL, ERR_NONE,
		    NULL);
		zone_persist_ok(z, PS_RUNTIME);
		return;
	}
	z->runtime_pending = 1;
	zone_persist_failed(z, PS_RUNTIME, "runtime: unlink", errno);
}

/*
 * Before a VM of this zone may ever start: is there a runtime record left
 * by an earlier zonevisord?  One whose VM is gone is deleted; anything else
 * is evidence, and the zone becomes owner-unsafe.
 */
void
zone_check_runtime(struct zone *z)
{
	char detail[MESSAGE_MAX];
	int evidence, r;

	r = runtime_check(z->runtime_path, z->zc->name, z->cfg->state_dir,
	    &evidence, detail, sizeof detail);
	if (r == RUNTIME_DELETED && access(z->runtime_path, F_OK) == 0) {
		/* Gone, but still on disk: a write-protected state directory. */
		log_info("zone %s: a stale runtime record names a process that "
		    "is gone: %s", z->zc->name, detail);
		zone_drop_runtime(z);
	} else if (r == RUNTIME_DELETED) {
		log_info("zone %s: deleted a stale runtime record: %s",
		    z->zc->name, detail);
		zone_record(z, REC_RUNTIME_RECORD_DELETED, NULL, NULL, ERR_NONE,
		    detail);
		z->recorded = 1;
	} else if (r == RUNTIME_UNSAFE) {
		log_warnx("zone %s: %s: %s", z->zc->name,
		    names_evidence(evidence), detail);
		z->new_evidence = evidence;
		snprintf(z->new_evidence_detail, sizeof z->new_evidence_detail,
		    "%s", detail);
		zone_fsm_feed(z, ZE_OWNER_UNSAFE);
	}
}

/* Whether the zone's env.NAME keys set name. */
static int
zone_env_sets(const struct zone_config *zc, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < zc->nenv; i++)
		if (strncmp(zc->env[i], name, len) == 0 &&
		    zc->env[i][len] == '=')
			return 1;
	return 0;
}

/*
 * Put the few variables of zonevisord's own environment that every VM (and
 * tool VM) inherits into env, which has room, except those the zone's
 * env.NAME keys set (a program reads the first of two, so the zone's would
 * be ignored); returns how many.
 */
size_t
zone_env_passed(const struct zone_config *zc, char **env)
{
	const char *v;
	size_t i, n = 0;

	for (i = 0; i < sizeof zone_passenv / sizeof zone_passenv[0]; i++)
		if ((v = getenv(zone_passenv[i])) != NULL &&
		    !zone_env_sets(zc, zone_passenv[i]))
			xasprintf(&env[n++], "%s=%s", zone_passenv[i], v);
	return n;
}

/*
 * The VM's environment: a few variables of zonevisord's own (never all of
 * them, so nothing meant for another zone leaks in), zonevisor's markers,
 * then the zone's env.NAME settings.
 */
static char **
zone_env(struct zone *z)
{
	size_t n, i, max = 10 + z->zc->nenv + z->secrets.n;
	char **env = xcalloc(max, sizeof *env);

	n = zone_env_passed(z->zc, env);
	xasprintf(&env[n++], "ZONEVISOR_ZONE=%s", z->zc->name);
	xasprintf(&env[n++], "ZONEVISOR_ZONE_DIR=%s", z->dir);
	xasprintf(&env[n++], "ZONEVISOR_GENERATION=%llu",
	    (unsigned long long)z->st.generation);
	if (z->op != NULL)
		xasprintf(&env[n++], "ZONEVISOR_OPERATION=%s", z->op->id);
	for (i = 0; i < z->zc->nenv; i++)
		env[n++] = xstrdup(z->zc->env[i]);
	if (z->zc->secrets_delivery == SECRETS_FILES && z->zc->nsecrets > 0)
		xasprintf(&env[n++], "CREDENTIALS_DIRECTORY=%s",
		    z->credentials_dir);
	else
		for (i = 0; i < z->secrets.n; i++)
			xasprintf(&env[n++], "%s=%s", z->secrets.v[i].name,
			    z->secrets.v[i].value);
	env[n] = NULL;
	return env;
}

/* Free an environment from zone_env, wiping it: it may hold secrets. */
static void
zone_env_free(char **env)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++)
		explicit_bzero(env[i], strlen(env[i]));
	argv_free(env);
}

/*
 * Resolve the zone's secrets for the next spawn, unless a preflight just
 * did; -1 with the zone failed{secret-resolution-failed} cause in cause.
 */
static int
zone_resolve_secrets(struct zone *z, char *cause, size_t len)
{
	if (z->secrets_ready || z->zc->nsecrets == 0)
		return 0;
	if (secrets_resolve(z->zc, &z->secrets, cause, len) != 0)
		return -1;
	z->secrets_ready = 1;
	return 0;
}

/* The values were used (or are given up): wipe them. */
static void
zone_forget_secrets(struct zone *z)
{
	secrets_wipe(&z->secrets);
	z->secrets_ready = 0;
}

/* delivery = files: write the values where CREDENTIALS_DIRECTORY points. */
static int
zone_deliver_files(struct zone *z, const struct spawn_spec *spec, char *cause,
    size_t len)
{
	char parent[PATH_MAX];

	if (z->zc->secrets_delivery != SECRETS_FILES || z->zc->nsecrets == 0)
		return 0;
	/* Traversable, so that a VM of another user reaches its own. */
	snprintf(parent, sizeof parent, "%s/credentials", z->cfg->runtime_dir);
	if (mkdir(parent, 0711) == -1 && errno != EEXIST) {
		if (snprintf(cause, len, "mkdir %s: %s", parent,
		    strerror(errno)) < 0)
			cause[0] = '\0';
		return -1;
	}
	return secrets_write_dir(&z->secrets, z->credentials_dir, spec->set_ids,
	    spec->uid, spec->gid, cause, len);
}

/*
 * What to spawn, as whom and with which limits; env must be freed with
 * argv_free().  -1 with a cause if the zone's user or group is unknown.
 */
int
zone_spec(struct zone *z, struct spawn_spec *spec, char **env, char *cause,
    size_t len)
{
	memset(spec, 0, sizeof *spec);
	spec->argv = z->zc->argv;
	spec->envp = env;
	spec->cwd = z->zc->cwd != NULL ? z->zc->cwd : z->dir;
	spec->output_fd = -1;
	spec->umask = z->zc->umask;
	spec->limits = &z->zc->limits;
	if (z->zc->user == NULL && z->zc->group == NULL)
		return 0;
	spec->set_ids = 1;
	return spawn_identity(z->zc->user != NULL ? z->zc->user : "0",
	    z->zc->group, &spec->uid, &spec->gid, cause, len);
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
	/* From now, not from when this loop turn began: never kill early. */
	ev_now_update(z->loop);
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

/*
 * Where VM output passes on its way to the console log.  Static, not on the
 * stack: a worker's memory then grows only by what its VM actually writes,
 * and its stack stays a few pages deep.
 */
static char zone_output_buf[16384];

/* VM output arrived: copy it to the console log. */
static void
zone_output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct zone *z = w->data;
	ssize_t n;

	n = read(z->vm.output_fd, zone_output_buf, sizeof zone_output_buf);
	if (n > 0) {
		console_write(&z->console, zone_output_buf, (size_t)n);
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
	ssize_t n;

	if (z->vm.output_fd == -1)
		return;
	while ((n = read(z->vm.output_fd, zone_output_buf,
	    sizeof zone_output_buf)) > 0)
		console_write(&z->console, zone_output_buf, (size_t)n);
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

/* The VM was reaped: record it, release it and feed vm-exited. */
static void
zone_vm_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct zone *z = arg;
	struct vm_ident vm;
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
	z->vm.exited_start_time = z->vm.start_time;
	z->vm.uptime_ms = clock_mono_ms() - z->vm.spawned_mono_ms;
	vm = zone_exited_ident(z);
	z->vm.pid = 0;
	z->vm.start_time = 0;
	z->st.pid = 0;
	z->st.vm_start = 0;
	zone_record(z, REC_VM_EXITED, &vm, NULL, ERR_NONE, what);
	if (z->credentials_dir != NULL)
		secrets_clear_dir(z->credentials_dir);
	/* Daemons the VM left outside its group belong to it too. */
	reaper_kill_strays(SIGKILL);
	zone_drain_output(z);
	ev_timer_stop(z->loop, &z->stop_timer);
	zone_fsm_feed(z, ZE_VM_EXITED);
}

/* Readiness with a probe: its first pass, within start_timeout. */
static void
zone_ready_by_probe(struct zone *z)
{
	zone_arm_timer(z, z->zc->start_timeout_ms, ZE_READY_TIMEOUT);
	health_watch(z->health);
}

/* Readiness without a probe: spawned is ready. */
static void
zone_ready_now(struct zone *z)
{
	zone_fsm_feed(z, ZE_READY);
}

/*
 * A reload changed the zone's [health]: replace the probe without touching
 * the VM.  The probe in flight ends (an exec probe is killed and reaped),
 * zonectl health requests waiting on it are answered, and the results so
 * far are forgotten.  A VM that starts, runs or runs degraded is probed with
 * the new settings at once; without a probe any more, a starting VM is
 * ready and a degraded one runs again (as if a probe had passed).
 */
void
zone_set_health(struct zone *z, const struct health_config *hc)
{
	int s = z->st.state, live;

	health_cancel(z->health, "the health probe settings were changed by a "
	    "reload");
	health_free(z->health);
	z->health = NULL;
	health_config_clear(&z->hc);
	health_config_copy(&z->hc, hc);
	z->health = health_new(z);
	z->await_ready = z->health != NULL ? zone_ready_by_probe :
	    zone_ready_now;
	z->st.health_ok = -1;
	z->st.health_failures = 0;
	z->st.health_at_ms = 0;
	z->st.health_latency_ms = 0;
	z->st.health_detail[0] = '\0';
	log_info("zone %s: health probe now %s%s%s, applied to the running "
	    "worker", z->zc->name, names_probe(z->hc.probe),
	    z->hc.exec != NULL ? ": " : "", z->hc.exec != NULL ? z->hc.exec :
	    "");
	live = z->vm.pid != 0 && (s == ZS_STARTING || s == ZS_RUNNING ||
	    s == ZS_RUNNING_DEGRADED);
	if (live && z->health != NULL) {
		/* A start already bounded by start_timeout keeps its bound. */
		if (s == ZS_STARTING && !(ev_is_active(&z->stop_timer) &&
		    z->timer_event == ZE_READY_TIMEOUT))
			zone_arm_timer(z, z->zc->start_timeout_ms,
			    ZE_READY_TIMEOUT);
		health_watch(z->health);
	} else if (live && s == ZS_STARTING)
		zone_fsm_feed(z, ZE_READY);
	else if (live && s == ZS_RUNNING_DEGRADED)
		zone_fsm_feed(z, ZE_PROBE_PASSED);
	zone_publish(z);
}

/* Action: spawn the gateway VM of the operation in flight. */
int
zone_spawn(struct zone *z, int next)
{
	struct spawn_spec spec;
	struct spawn_result res;
	struct vm_ident vm;
	char cause[MESSAGE_MAX];
	char **env;
	int pipefd[2], r;

	z->st.desired = ZS_RUNNING;
	zone_record(z, REC_START_REQUESTED, NULL, NULL, ERR_NONE, NULL);
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		zone_set_error(z, ERR_VM_SPAWN_FAILED, 1, "pipe: %s (%s)",
		    strerror(errno), names_errno(errno));
		zone_fsm_feed(z, ZE_SPAWN_FAILED);
		return next;
	}
	if (zone_resolve_secrets(z, cause, sizeof cause) != 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		zone_drop_stale_runtime(z);
		log_warnx("%s", cause);
		zone_set_error(z, ERR_SECRET_RESOLUTION_FAILED, 1, "%s", cause);
		zone_fsm_feed(z, ZE_SPAWN_FAILED);
		return next;
	}
	env = zone_env(z);
	r = zone_spec(z, &spec, env, cause, sizeof cause);
	spec.output_fd = pipefd[1];
	if (r == 0)
		r = zone_deliver_files(z, &spec, cause, sizeof cause);
	if (r == 0)
		r = spawn_process(&spec, &res, cause, sizeof cause);
	zone_env_free(env);
	zone_forget_secrets(z);
	close(pipefd[1]);
	zone_drop_stale_runtime(z);
	if (r != 0) {
		close(pipefd[0]);
		if (z->credentials_dir != NULL)
			secrets_clear_dir(z->credentials_dir);
		zone_set_error(z, ERR_VM_SPAWN_FAILED, 1, "%s", cause);
		zone_fsm_feed(z, ZE_SPAWN_FAILED);
		return next;
	}
	z->vm.pid = res.pid;
	z->vm.pidfd = res.pidfd;
	z->vm.start_time = res.start_time;
	z->vm.generation = z->st.generation;
	snprintf(z->vm.op_id, sizeof z->vm.op_id, "%s", zone_op_id(z));
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
	if (z->op != NULL && zone_op_replaces(z->op))
		z->st.restarts++;
	log_info("zone %s: spawned VM pid %ld: %s", z->zc->name,
	    (long)res.pid, z->zc->command);
	vm = zone_vm_ident(z);
	zone_record(z, REC_VM_SPAWNED, NULL, &vm, ERR_NONE, NULL);
	zone_write_runtime(z);
	zone_fsm_feed(z, ZE_SPAWNED);
	return next;
}

/*
 * Action: a restart of a zone without a running VM is a cold start: a new
 * generation, then a start, unless the failure forbids a new VM.
 */
int
zone_cold_start(struct zone *z, int next)
{
	if (z->st.state == ZS_FAILED && !z->st.eligible) {
		zone_record_requested(z);
		zone_op_end(z, 0, z->st.error, "not eligible for a cold start: %s",
		    z->st.message);
		return ZS_FAILED;
	}
	z->st.generation++;
	zone_record(z, REC_COLD_START_REQUESTED, NULL, NULL, ERR_NONE, NULL);
	if (z->zc->tool_vm.release_on_restart)
		lease_release_all(z, LR_RESTART);
	return zone_spawn(z, ZS_STARTING);
}

/*
 * Action: a restart of a running zone.  A new generation, then a preflight
 * of everything that would make the new VM fail to spawn, before the old
 * VM is touched.
 */
int
zone_preflight(struct zone *z, int next)
{
	struct spawn_spec spec;
	struct vm_ident vm = zone_vm_ident(z);
	char **env;
	int r;

	z->st.generation++;
	z->op->generation = z->st.generation;
	zone_record(z, z->op->kind == OP_CREDENTIALS_REFRESH ?
	    REC_CREDENTIALS_REFRESH_REQUESTED : REC_RESTART_REQUESTED, &vm, NULL,
	    ERR_NONE, NULL);
	/* Secrets first: if they cannot be had, the running VM stays. */
	zone_forget_secrets(z);
	z->preflight_error = ERR_SECRET_RESOLUTION_FAILED;
	r = zone_resolve_secrets(z, z->preflight_cause,
	    sizeof z->preflight_cause);
	if (r == 0) {
		z->preflight_error = ERR_VM_SPAWN_FAILED;
		env = zone_env(z);
		r = zone_spec(z, &spec, env, z->preflight_cause,
		    sizeof z->preflight_cause);
		if (r == 0)
			r = spawn_preflight(&spec, z->preflight_cause,
			    sizeof z->preflight_cause);
		zone_env_free(env);
	}
	if (r != 0)
		zone_forget_secrets(z);
	zone_fsm_feed(z, r == 0 ? ZE_PREFLIGHT_PASSED : ZE_PREFLIGHT_FAILED);
	return next;
}

/* Action: the preflight failed; the running VM is left alone. */
int
zone_preflight_failed(struct zone *z, int next)
{
	if (z->preflight_error == ERR_SECRET_RESOLUTION_FAILED)
		log_warnx("%s; the running VM pid %ld was left alone",
		    z->preflight_cause, (long)z->vm.pid);
	zone_op_end(z, 0, z->preflight_error, "preflight: %s; the running VM "
	    "pid %ld was left alone", z->preflight_cause, (long)z->vm.pid);
	return next;
}

/*
 * Action: the restart passed its preflight.  Last check before the old VM
 * is closed: is the restart still current?
 */
int
zone_checkpoint(struct zone *z, int next)
{
	if (z->op == NULL || z->op->answered ||
	    z->op->generation != z->st.generation)
		zone_fsm_feed(z, ZE_GENERATION_STALE);
	else {
		if (z->zc->tool_vm.release_on_restart)
			lease_release_all(z, LR_RESTART);
		zone_fsm_feed(z, ZE_CHECKPOINT_PASSED);
	}
	return next;
}

/* Action: the restart went stale before the old VM was touched: keep it. */
int
zone_abandon(struct zone *z, int next)
{
	zone_forget_secrets(z);
	zone_op_end(z, 0, ERR_STALE_GENERATION_CLOSED, "abandoned before the "
	    "old VM was closed; it keeps running");
	return next;
}

/*
 * Action: begin closing the VM: the stop signal to its process group, then
 * SIGKILL after stop_timeout.  For a restart, a start follows.
 */
int
zone_close(struct zone *z, int next)
{
	struct vm_ident vm = zone_vm_ident(z);

	if (z->op != NULL && z->event != ZE_STOP &&
	    zone_op_replaces(z->op)) {
		z->next_after_stop = ZS_STARTING;
		z->st.desired = ZS_RUNNING;
	} else {
		z->next_after_stop = ZS_STOPPED;
		z->st.desired = ZS_STOPPED;
	}
	zone_record(z, REC_STOP_REQUESTED, &vm, NULL, ERR_NONE, NULL);
	zone_record(z, REC_VM_CLOSE_STARTED, &vm, NULL, ERR_NONE, NULL);
	zone_signal_group(z, z->zc->stop_signal);
	zone_arm_timer(z, z->zc->stop_timeout_ms, ZE_STOP_TIMEOUT);
	return next;
}

/* Close the VM; the zone then ends failed with error (eligible). */
static void
zone_close_failing(struct zone *z, int error, const char *why)
{
	struct vm_ident vm = zone_vm_ident(z);

	z->next_after_stop = ZS_FAILED;
	z->stop_error = error;
	zone_record(z, REC_VM_CLOSE_STARTED, &vm, NULL, error, why);
	zone_signal_group(z, z->zc->stop_signal);
	zone_arm_timer(z, z->zc->stop_timeout_ms, ZE_STOP_TIMEOUT);
}

/* Action: a VM came up for a generation that has passed: close it. */
int
zone_close_stale(struct zone *z, int next)
{
	log_warnx("zone %s: VM pid %ld came up after its operation timed out; "
	    "closing it", z->zc->name, (long)z->vm.pid);
	zone_close_failing(z, ERR_STALE_GENERATION_CLOSED, "the VM came up "
	    "after its operation timed out");
	return next;
}

/* Action: the VM was not ready within start_timeout: close it. */
int
zone_readiness_failed(struct zone *z, int next)
{
	log_warnx("zone %s: VM pid %ld not ready within start_timeout "
	    "(%lldms); closing it", z->zc->name, (long)z->vm.pid,
	    (long long)z->zc->start_timeout_ms);
	zone_close_failing(z, ERR_READINESS_FAILED, "not ready within "
	    "start_timeout");
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
 * superseded operation fails; the stop becomes the operation in flight and
 * closes whatever VM there is.
 */
int
zone_supersede(struct zone *z, int next)
{
	struct zone_op *stop = z->incoming;
	struct vm_ident vm = zone_vm_ident(z);
	int was = z->st.state;

	z->incoming = NULL;
	if (stop == NULL)
		return zone_refuse(z, z->st.state);
	zone_op_end(z, 0, ERR_SUPERSEDED, "superseded by %s", stop->id);
	zone_op_begin(z, stop);
	if (was == ZS_STARTING || was == ZS_RESTARTING) {
		z->event = ZE_STOP;
		return zone_close(z, next);
	}
	/* Already closing: just do not start again afterwards. */
	z->next_after_stop = ZS_STOPPED;
	z->st.desired = ZS_STOPPED;
	zone_record(z, REC_STOP_REQUESTED, &vm, NULL, ERR_NONE, NULL);
	return next;
}

/*
 * Action: the VM is gone after a close (or, in a restart, before it).
 * Finish the stop; or start the restart's new VM, unless the restart went
 * stale meanwhile; or settle a stale VM's close as failed.
 */
int
zone_closed(struct zone *z, int next)
{
	struct vm_ident vm = zone_exited_ident(z);
	int stale, error = ERR_NONE;

	if (z->st.state == ZS_RESTARTING)
		z->next_after_stop = ZS_STARTING;
	stale = z->op == NULL || z->op->answered ||
	    z->op->generation != z->st.generation;
	if (z->next_after_stop == ZS_STARTING && stale)
		error = ERR_STALE_GENERATION_CLOSED;
	else if (z->next_after_stop == ZS_FAILED)
		error = z->stop_error;
	zone_record(z, REC_VM_CLOSE_FINISHED, &vm, NULL, error, NULL);
	zone_drop_runtime(z);
	if (z->next_after_stop == ZS_STARTING && !z->exiting && !stale)
		return zone_spawn(z, ZS_STARTING);
	zone_forget_secrets(z);		/* resolved for a spawn that will not be */
	if (error == ERR_READINESS_FAILED) {
		zone_set_error(z, error, 1, "readiness-failed: VM pid %ld was "
		    "not ready within %lldms", (long)vm.pid,
		    (long long)z->zc->start_timeout_ms);
	} else if (z->next_after_stop == ZS_STARTING ||
	    z->next_after_stop == ZS_FAILED) {
		error = ERR_STALE_GENERATION_CLOSED;
		zone_set_error(z, error, 1, "stale-generation-closed: the "
		    "operation that wanted VM pid %ld timed out", (long)vm.pid);
	}
	if (error != ERR_NONE) {
		zone_note_outage(z);
		zone_op_end(z, 0, error, "%s", z->st.message);
		return ZS_FAILED;
	}
	zone_clear_error(z);
	zone_op_end(z, 1, ERR_NONE, "stopped");
	return ZS_STOPPED;
}

/* Action: the VM survived SIGKILL: ownership can no longer be proven. */
int
zone_close_failed(struct zone *z, int next)
{
	struct vm_ident vm = zone_vm_ident(z);

	z->st.evidence = EVD_CLOSE_FAILED;
	snprintf(z->st.evidence_detail, sizeof z->st.evidence_detail,
	    "VM pid %ld still alive %dms after SIGKILL", (long)z->vm.pid,
	    KILL_GRACE_MS);
	zone_set_error(z, ERR_OWNER_UNSAFE, 0, "close-failed: %s",
	    z->st.evidence_detail);
	zone_note_outage(z);
	zone_record(z, REC_OWNER_UNSAFE_DETECTED, &vm, NULL, ERR_OWNER_UNSAFE,
	    z->st.message);
	zone_op_end(z, 0, ERR_OWNER_UNSAFE, "%s", z->st.message);
	zone_escalate_unsafe(z);
	return next;
}

/* Tell the parent the zone became owner-unsafe, with the evidence. */
static void
zone_escalate_unsafe(struct zone *z)
{
	struct msg_escalate *esc = &z->escalation;

	memset(esc, 0, sizeof *esc);
	esc->error = ERR_OWNER_UNSAFE;
	snprintf(esc->message, sizeof esc->message, "%s", z->st.message);
	esc->exit_code = -1;
	esc->vm = zone_vm_ident(z);
	esc->evidence = z->st.evidence;
	snprintf(esc->evidence_detail, sizeof esc->evidence_detail, "%s",
	    z->st.evidence_detail);
	z->escalating = 1;
}

/* Action: the VM is ready: the start, restart or cold start is done. */
int
zone_started(struct zone *z, int next)
{
	if (z->vm.generation != z->st.generation) {
		zone_fsm_feed(z, ZE_GENERATION_STALE);
		return ZS_STARTING;
	}
	if (z->timer_event == ZE_READY_TIMEOUT)
		ev_timer_stop(z->loop, &z->stop_timer);
	zone_clear_error(z);
	z->st.outage = ERR_NONE;
	z->st.outage_message[0] = '\0';
	z->st.outage_at_ms = 0;
	zone_op_end(z, 1, ERR_NONE, "running, pid %ld", (long)z->vm.pid);
	return ZS_RUNNING;
}

/* Action: the VM could not be executed. */
int
zone_spawn_failed(struct zone *z, int next)
{
	zone_note_outage(z);
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
	zone_drop_runtime(z);
	zone_note_outage(z);
	zone_op_end(z, 0, z->st.error, "%s", z->st.message);
	return next;
}

/* Action: the VM died while running; tell the parent, whose policy decides. */
int
zone_vm_lost(struct zone *z, int next)
{
	struct msg_escalate *esc;
	char what[96];

	reaper_describe(&z->last_exit, what, sizeof what);
	zone_set_error(z, ERR_VM_PROCESS_MISSING, 1,
	    "vm-process-missing: VM pid %ld %s after %lld.%03llds",
	    (long)z->vm.exited_pid, what, (long long)(z->vm.uptime_ms / 1000),
	    (long long)(z->vm.uptime_ms % 1000));
	/* With a cold start armed, the record goes after the new VM's spawn. */
	if (z->armed.op_id[0] != '\0' && !z->exiting &&
	    z->armed.vm.pid == z->vm.exited_pid &&
	    z->armed.vm.start_time == z->vm.exited_start_time)
		z->runtime_stale = 1;
	else
		zone_drop_runtime(z);
	zone_note_outage(z);
	/* Sent after the status report; no fsync before it. */
	esc = &z->escalation;
	memset(esc, 0, sizeof *esc);
	esc->error = ERR_VM_PROCESS_MISSING;
	snprintf(esc->message, sizeof esc->message, "%s", z->st.message);
	esc->exit_code = z->last_exit.code;
	esc->exit_signal = z->last_exit.signal;
	esc->uptime_ms = z->vm.uptime_ms;
	esc->vm = zone_exited_ident(z);
	z->escalating = 1;
	/*
	 * The parent's policy decided ahead that a death of this VM is
	 * answered by a cold start at once: begin it now, without waiting for
	 * the parent to hear of the death and say so again.
	 */
	if (z->armed.op_id[0] != '\0' && !z->exiting &&
	    z->armed.vm.pid == esc->vm.pid &&
	    z->armed.vm.start_time == esc->vm.start_time) {
		snprintf(esc->acted, sizeof esc->acted, "%s", z->armed.op_id);
		zone_record(z, REC_RECOVERY_SCHEDULED, NULL, NULL, ERR_NONE,
		    "cold start at once, as the supervisor's policy decided "
		    "ahead");
		zone_submit(z, zone_op_new(z, OP_COLD_START, TRIG_AUTO_RECOVERY,
		    z->armed.op_id, z->armed.timeout_ms));
	}
	memset(&z->armed, 0, sizeof z->armed);
	return next;
}

/* Action: start a failed zone, if the failure allows a new VM. */
int
zone_start_from_failed(struct zone *z, int next)
{
	if (!z->st.eligible) {
		zone_record_requested(z);
		zone_op_end(z, 0, z->st.error,
		    "not eligible for a start until the failure is resolved: %s",
		    z->st.message);
		return ZS_FAILED;
	}
	return zone_spawn(z, ZS_STARTING);
}

/* Action: stop a failed zone: it holds no VM, so it simply settles. */
int
zone_stop_from_failed(struct zone *z, int next)
{
	z->st.desired = ZS_STOPPED;
	zone_record_requested(z);
	zone_clear_error(z);
	zone_op_end(z, 1, ERR_NONE, "stopped");
	return next;
}

/*
 * Action: stop an owner-unsafe zone.  A VM still held (one that survived
 * SIGKILL) is closed again; without one there is nothing to stop, and the
 * evidence stays until it is resolved.
 */
int
zone_stop_unsafe(struct zone *z, int next)
{
	z->st.desired = ZS_STOPPED;
	if (z->vm.pid != 0) {
		z->event = ZE_STOP;
		return zone_close(z, ZS_STOPPING);
	}
	zone_record_requested(z);
	zone_op_end(z, 1, ERR_NONE, "no VM held; the zone stays owner-unsafe "
	    "(%s)", names_evidence(z->st.evidence));
	return ZS_OWNER_UNSAFE;
}

/* Action: a VM that had survived SIGKILL is finally gone. */
int
zone_late_exit(struct zone *z, int next)
{
	struct vm_ident vm = zone_exited_ident(z);

	zone_record(z, REC_OWNER_UNSAFE_RESOLVED, &vm, NULL, ERR_NONE,
	    "the VM that survived SIGKILL is gone");
	zone_drop_runtime(z);
	zone_clear_error(z);
	z->st.desired = ZS_STOPPED;
	zone_op_end(z, 1, ERR_NONE, "stopped");
	return next;
}

/*
 * Action: the operation in flight timed out.  It fails now and the
 * generation moves on; the work under way settles on its own, and what it
 * brings up late is closed.
 */
int
zone_op_timeout(struct zone *z, int next)
{
	z->st.generation++;
	if (z->op != NULL)
		zone_op_answer(z, z->op, 0, ERR_RECOVERY_TIMEOUT, "did not "
		    "finish within %lldms", (long long)z->op->timeout_ms);
	return next;
}

/* Action: a health probe failed while running. */
int
zone_degrade(struct zone *z, int next)
{
	if (z->degraded_reason[0] == '\0')
		snprintf(z->degraded_reason, sizeof z->degraded_reason,
		    "health probe failed");
	return next;
}

/* Action: a health probe passed again. */
int
zone_recover_health(struct zone *z, int next)
{
	z->degraded_reason[0] = '\0';
	return next;
}

/* Action: evidence that another owner may hold the zone's VM resources. */
int
zone_unsafe(struct zone *z, int next)
{
	z->st.evidence = z->new_evidence;
	snprintf(z->st.evidence_detail, sizeof z->st.evidence_detail, "%s",
	    z->new_evidence_detail);
	zone_set_error(z, ERR_OWNER_UNSAFE, 0, "%s: %s",
	    names_evidence(z->st.evidence), z->st.evidence_detail);
	zone_note_outage(z);
	zone_record(z, REC_OWNER_UNSAFE_DETECTED, NULL, NULL, ERR_OWNER_UNSAFE,
	    z->st.message);
	zone_escalate_unsafe(z);
	return next;
}

/*
 * Action: zonectl reset --force, after the operator checked the evidence.
 * Refused while a VM is still held; otherwise the evidence is cleared (a
 * runtime record behind it is set aside, not deleted, for inspection) and
 * the zone may start VMs again.
 */
int
zone_reset(struct zone *z, int next)
{
	char aside[PATH_MAX];

	if (z->vm.pid != 0) {
		zone_op_end(z, 0, z->st.error, "VM pid %ld is still alive; it "
		    "must be gone before a reset", (long)z->vm.pid);
		return z->st.state;
	}
	if (z->st.state == ZS_FAILED && z->st.eligible) {
		zone_op_end(z, 1, ERR_NONE, "nothing to clear");
		return ZS_FAILED;
	}
	if (access(z->runtime_path, F_OK) == 0) {
		snprintf(aside, sizeof aside, "%s.discarded-%lld",
		    z->runtime_path, (long long)clock_now_ms());
		if (rename(z->runtime_path, aside) == -1)
			log_warn("zone %s: rename %s", z->zc->name,
			    z->runtime_path);
	}
	zone_record(z, REC_OWNER_UNSAFE_RESOLVED, NULL, NULL, ERR_NONE,
	    "cleared by an operator (zonectl reset --force)");
	log_warnx("zone %s: %s cleared by an operator", z->zc->name,
	    names_evidence(z->st.evidence));
	zone_clear_error(z);
	z->st.desired = ZS_STOPPED;
	zone_op_end(z, 1, ERR_NONE, "evidence cleared; the zone is stopped");
	return ZS_STOPPED;
}

/* Action: the operation asks for what already holds. */
int
zone_already(struct zone *z, int next)
{
	zone_record_requested(z);
	if (z->op != NULL && z->op->kind == OP_STOP)
		z->st.desired = ZS_STOPPED;
	zone_op_end(z, 1, ERR_NONE, "already %s", names_state(z->st.state));
	return next;
}

/* Action: an operation this state does not take; it fails. */
int
zone_refuse(struct zone *z, int next)
{
	int error = z->st.state == ZS_OWNER_UNSAFE ? ERR_OWNER_UNSAFE : ERR_NONE;

	log_warnx("zone %s: refusing %s in state %s", z->zc->name,
	    names_event(z->event), names_state(z->st.state));
	zone_record_requested(z);
	if (error == ERR_OWNER_UNSAFE)
		zone_op_end(z, 0, error, "the zone is owner-unsafe (%s: %s); no "
		    "VM may start until that is resolved",
		    names_evidence(z->st.evidence), z->st.evidence_detail);
	else
		zone_op_end(z, 0, error, "refused while %s",
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

/* Action: the VM runs; wait for it to be ready (no probe: it is). */
int
zone_await_ready(struct zone *z, int next)
{
	z->await_ready(z);
	return next;
}
