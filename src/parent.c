/*
 * parent.c: zonevisord's supervisor process.  It forks one worker per zone
 * over a socketpair, keeps the last status and lease table each worker
 * reported (so status requests and lease lists never wait on a worker),
 * forwards operations and lease requests, and drives the graceful
 * shutdown.  It is a child subreaper: when a worker dies, the worker's VM
 * is reparented here, and the parent stops it itself (identity checked,
 * stop signal, stop_timeout, SIGKILL) before it forks a new worker for the
 * zone, so that two VMs of one zone are never alive at once.
 *
 * The recovery policy that decides when a failed zone starts again arrives
 * with the recovery work; until then escalations are logged and a failed
 * zone waits for an operator.
 *
 * A reload (SIGHUP, zonectl reload) replaces the configuration and acts on
 * the difference only; see parent_reload.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define RESPAWN_MIN_MS	1000	/* least time between two forks of one worker */
#define RESPAWN_MAX_MS	30000	/* most time between retries of a failed fork */

static struct config		*parent_cfg;
static struct config		*boot_cfg;	/* zonevisord.c frees it */
static struct config		**retired_cfgs;	/* replaced, maybe still pointed into */
static size_t			 nretired;
static struct reload_status	 last_reload;
static int			 state_lock = -1;
static struct ev_loop		*parent_loop;
static struct zone_worker	**workers;	/* each its own allocation, by name */
static size_t			 nworkers;
static int			 shutting_down;
static int			 forced;
static int64_t			 started_ms;
static ev_signal		 parent_sigs[6];
static ev_timer			 shutdown_timer;
static int			 parent_rv[2] = { -1, -1 };	/* rendezvous */
static ev_io			 parent_rv_watch;

static void parent_signal(int);
static void parent_signal_cb(struct ev_loop *, ev_signal *, int);
static int parent_fork(struct zone_worker *, const struct zone_status *);
static void parent_link_attach(struct zone_worker *, int);
static void parent_rendezvous_cb(struct ev_loop *, ev_io *, int);
static int parent_fork_worker(struct zone_worker *,
    const struct zone_status *, int, const struct msg_zone_op *);
static void parent_fork_all(void);
static void parent_send(struct zone_worker *, struct msgw *);
static void parent_dispatch_worker(struct peer *, const struct mdoc *, void *);
static void parent_bad_frame(struct peer *, const char *, void *);
static void parent_link_gone(struct peer *, const char *, void *);
static void parent_worker_exited(pid_t, const struct exit_info *, void *);
static void parent_orphan_exited(pid_t, const struct exit_info *, void *);
static void parent_orphan_exiting(pid_t, void *);
static void parent_record(struct zone_worker *, int, const struct vm_ident *,
    int, const char *);
static void parent_orphan_timer_cb(struct ev_loop *, ev_timer *, int);
static void parent_respawn_cb(struct ev_loop *, ev_timer *, int);
static void parent_stays_stopped(struct zone_worker *);
static void parent_fork_failed(struct zone_worker *);
static void parent_persist_failed(struct zone_worker *, const char *, int);
static void parent_adopt_orphan(struct zone_worker *, int, const char *);
static int parent_find_unreported_vm(struct zone_worker *, struct vm_ident *);
static void parent_shutdown(void);
static void parent_force(void);
static void parent_shutdown_timer_cb(struct ev_loop *, ev_timer *, int);
static void parent_check_done(void);
static void parent_sweep(void);
static uint64_t parent_source(const struct vm_ident *);
static int parent_recovery_wanted(const struct zone_worker *, int);
static void parent_recovery_failure(struct zone_worker *, int, uint64_t,
    const char *);
static void parent_recovery_act(struct zone_worker *, struct recovery_decision,
    const char *);
static void parent_recovery_arm(struct zone_worker *);
static void parent_recovery_cb(struct ev_loop *, ev_timer *, int);
static void parent_recovery_note(struct zone_worker *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void parent_escalation(struct zone_worker *, const struct msg_escalate *);
static void parent_recovery_rearm(struct zone_worker *);
static void parent_recovery_acted(struct zone_worker *,
    const struct msg_escalate *);
static int parent_mkdir_p(const char *, mode_t);
static void parent_boot(void);
static void parent_boot_verdict(struct zone_worker *, struct boot_verdict *);
static int parent_mkdirs(const struct config *);
static struct zone_worker *parent_zone_new(const struct zone_config *);
static void parent_zone_insert(struct zone_worker *);
static void parent_zone_remove(struct zone_worker *);
static const struct zone_config *parent_zone_target(const struct zone_worker *);
static struct config *parent_reload_load(struct reload_plan *);
static void parent_reload_keep(struct config *, struct reload_plan *);
static void parent_reload_plan(const struct config *, struct reload_plan *);
static void parent_reload_apply(struct config *, const struct reload_plan *);
static void parent_reload_added(struct zone_worker *,
    const struct zone_config *);
static void parent_retire(struct zone_worker *, const struct zone_config *);
static void parent_retire_send(struct zone_worker *);
static void parent_health_send(struct zone_worker *);
static void parent_leases_reset(struct zone_worker *);
static void parent_leases_store(struct zone_worker *, struct msg_leases *);
static int parent_lease_cmp(const void *, const void *);
static void parent_retired(struct zone_worker *);
static void parent_reload_fork(struct zone_worker *, int);
static int parent_config_has(const struct config *,
    const struct zone_config *);
static int parent_config_used(const struct config *);
static void parent_reload_gc(void);
static void parent_reload_signal(void);

static const struct peer_ops parent_link_ops = {
	parent_dispatch_worker, parent_bad_frame, parent_link_gone
};
static const struct reaper_ops parent_worker_reaper = {
	NULL, parent_worker_exited
};
static const struct reaper_ops parent_orphan_reaper = {
	parent_orphan_exiting, parent_orphan_exited
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
	return i < nworkers ? workers[i] : NULL;
}

/* The zone called name, or NULL. */
struct zone_worker *
parent_zone(const char *name)
{
	size_t i;

	for (i = 0; i < nworkers; i++)
		if (strcmp(workers[i]->zc->name, name) == 0)
			return workers[i];
	return NULL;
}

/*
 * Ask zone zw's worker to probe its VM's health now; the answer comes as
 * MSG_HEALTH_RESULT under the id that goes to id.  Returns -1 with *cause
 * (a CTLERR_ name) if it cannot be asked.
 */
int
parent_health_probe(struct zone_worker *zw, char *id, size_t len,
    const char **cause)
{
	static uint64_t next;
	struct msg_zone_op m;

	if (zw->zc->health.probe == PROBE_NONE) {
		*cause = names_ctl_error(CTLERR_NO_PROBE);
		return -1;
	}
	if (zw->link == NULL || !zw->hello) {
		*cause = names_ctl_error(CTLERR_WORKER_UNAVAILABLE);
		return -1;
	}
	memset(&m, 0, sizeof m);
	snprintf(m.op_id, sizeof m.op_id, "%s-health-%llu", zw->zc->name,
	    (unsigned long long)++next);
	m.trigger = TRIG_OPERATOR_START;
	parent_send(zw, msg_pack_zone_op(MSG_HEALTH_PROBE, &m));
	snprintf(id, len, "%s", m.op_id);
	return 0;
}

/*
 * Ask zone zw's worker to acquire, renew or release a lease (m, whose id
 * is set here); the answer comes as MSG_LEASE_DONE under the id that goes
 * to id.  Returns -1 with *cause (a CTLERR_ name) if it cannot be asked.
 * The worker takes a malformed request from the parent as fatal, so what
 * it would refuse is refused here first.
 */
int
parent_lease_op(struct zone_worker *zw, struct msg_lease_op *m, char *id,
    size_t len, const char **cause)
{
	static uint64_t next;

	if ((m->op != LOP_ACQUIRE && m->op != LOP_RENEW &&
	    m->op != LOP_RELEASE) || (m->op != LOP_ACQUIRE &&
	    m->lease[0] == '\0') || (m->ttl_ms != 0 &&
	    (m->ttl_ms < LEASE_TTL_MIN_MS || m->ttl_ms > LEASE_TTL_MAX_MS))) {
		*cause = names_ctl_error(CTLERR_BAD_REQUEST);
		return -1;
	}
	if (shutting_down) {
		*cause = names_ctl_error(CTLERR_SHUTTING_DOWN);
		return -1;
	}
	if (zw->retiring) {
		*cause = names_ctl_error(CTLERR_RELOADING);
		return -1;
	}
	if (zw->zc->tool_vm.max_leases == 0) {
		*cause = names_ctl_error(CTLERR_NO_TOOL_VM);
		return -1;
	}
	if (zw->link == NULL || !zw->hello) {
		*cause = names_ctl_error(CTLERR_WORKER_UNAVAILABLE);
		return -1;
	}
	if (m->op == LOP_ACQUIRE && zw->st.state != ZS_RUNNING &&
	    zw->st.state != ZS_RUNNING_DEGRADED) {
		*cause = names_ctl_error(CTLERR_ZONE_NOT_RUNNING);
		return -1;
	}
	snprintf(m->id, sizeof m->id, "%s-lease-%llu", zw->zc->name,
	    (unsigned long long)++next);
	parent_send(zw, msg_pack_lease_op(m));
	snprintf(id, len, "%s", m->id);
	return 0;
}

/* The zone whose worker last reported lease lease_id, or NULL. */
struct zone_worker *
parent_lease_zone(const char *lease_id)
{
	size_t i, j;

	if (lease_id[0] == '\0')
		return NULL;
	for (i = 0; i < nworkers; i++)
		for (j = 0; j < workers[i]->nleases; j++)
			if (strcmp(workers[i]->leases[j].id, lease_id) == 0)
				return workers[i];
	return NULL;
}

/*
 * Forget zw's lease table: its worker is gone (the next one reports the
 * leases it adopts) or its configuration changed.  The plane is what the
 * configuration promises until a worker says otherwise.
 */
static void
parent_leases_reset(struct zone_worker *zw)
{
	free(zw->leases);
	zw->leases = NULL;
	zw->nleases = 0;
	zw->tool_plane = zw->zc->tool_vm.max_leases == 0 ? TP_NONE : TP_OK;
	zw->tool_detail[0] = '\0';
}

/* Keep a worker's lease table (MSG_LEASES), sorted by slot, for the last. */
static void
parent_leases_store(struct zone_worker *zw, struct msg_leases *ml)
{
	free(zw->leases);
	zw->leases = ml->leases;
	zw->nleases = ml->n;
	ml->leases = NULL;
	if (zw->nleases > 1)
		qsort(zw->leases, zw->nleases, sizeof *zw->leases,
		    parent_lease_cmp);
	zw->tool_plane = ml->plane;
	snprintf(zw->tool_detail, sizeof zw->tool_detail, "%s", ml->detail);
}

/* qsort: leases by slot, then id. */
static int
parent_lease_cmp(const void *a, const void *b)
{
	const struct lease_info *la = a, *lb = b;

	if (la->slot != lb->slot)
		return la->slot < lb->slot ? -1 : 1;
	return strcmp(la->id, lb->id);
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
	if (zw->retiring) {
		*cause = names_ctl_error(CTLERR_RELOADING);
		return -1;
	}
	if (zw->link == NULL || !zw->hello) {
		*cause = names_ctl_error(CTLERR_WORKER_UNAVAILABLE);
		return -1;
	}
	if (op == OP_RESTART && zw->st.state != ZS_RUNNING &&
	    zw->st.state != ZS_RUNNING_DEGRADED)
		op = OP_COLD_START;
	/* An operator's word ends what the policy had in mind. */
	if ((trigger == TRIG_OPERATOR_START || trigger == TRIG_OPERATOR_STOP ||
	    trigger == TRIG_OPERATOR_RESTART ||
	    trigger == TRIG_CREDENTIALS_REFRESH) && op != OP_RESET) {
		recovery_on_operator(&zw->rec);
		zw->rec_op[0] = '\0';
		zw->ctl_op[0] = '\0';
		parent_recovery_arm(zw);
	}
	memset(&m, 0, sizeof m);
	opid_new(m.op_id, sizeof m.op_id, zw->zc->name, op);
	m.trigger = trigger;
	m.timeout_ms = timeout_ms;
	switch (op) {
	case OP_STOP:
		type = MSG_ZONE_STOP;
		break;
	case OP_RESET:
		type = MSG_ZONE_RESET;
		break;
	case OP_RESTART:
		type = MSG_ZONE_RESTART;
		break;
	case OP_COLD_START:
		type = MSG_ZONE_COLD_START;
		break;
	case OP_CREDENTIALS_REFRESH:
		type = MSG_ZONE_CREDENTIALS_REFRESH;
		break;
	default:
		type = MSG_ZONE_START;
		break;
	}
	parent_send(zw, msg_pack_zone_op(type, &m));
	snprintf(op_id, len, "%s", m.op_id);
	return 0;
}

/*
 * zonectl reset [--force]: lift a recovery suspension and forget counted
 * failures; with force, also have the worker clear owner-unsafe evidence
 * (an operator checked it).  Returns 0 and an answer in msg, 1 when the
 * worker was asked (op_id set; its answer comes as an operation's), or -1
 * with *cause a CTLERR_ name.
 */
int
parent_reset(struct zone_worker *zw, int force, char *op_id, size_t len,
    char *msg, size_t msglen, const char **cause)
{
	int unsafe = zw->st.state == ZS_OWNER_UNSAFE ||
	    (zw->st.state == ZS_FAILED && !zw->st.eligible);
	int lifted;

	if (zw->orphan_pid != 0) {
		snprintf(msg, msglen, "the orphaned VM pid %ld is still alive",
		    (long)zw->orphan_pid);
		*cause = names_ctl_error(CTLERR_WORKER_UNAVAILABLE);
		return -1;
	}
	if (unsafe && !force) {
		snprintf(msg, msglen, "the zone is owner-unsafe (%s: %s); check "
		    "that, then use reset --force", names_evidence(zw->st.evidence),
		    zw->st.evidence_detail);
		*cause = names_ctl_error(CTLERR_NEEDS_FORCE);
		return -1;
	}
	lifted = recovery_reset(&zw->rec);
	parent_recovery_arm(zw);
	if (unsafe) {
		if (parent_zone_op(zw, OP_RESET, TRIG_OPERATOR_START, 0, op_id,
		    len, cause) != 0) {
			snprintf(msg, msglen, "cannot reach the zone's worker");
			return -1;
		}
		return 1;
	}
	if (!lifted) {
		snprintf(msg, msglen, "nothing to reset: recovery is %s with no "
		    "failures counted, and the zone is not owner-unsafe",
		    names_recovery_state(zw->rec.state));
		*cause = names_ctl_error(CTLERR_NOTHING_TO_RESET);
		return -1;
	}
	log_info("zone %s: recovery reset by an operator", zw->zc->name);
	snprintf(msg, msglen, "recovery reset: suspension lifted, failures "
	    "forgotten");
	/* A zone still down that should run is recovered afresh. */
	if (parent_recovery_wanted(zw, RK_COLD_START))
		parent_recovery_failure(zw, RK_COLD_START, zw->failure,
		    "an operator's reset");
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

/* zw's worker handed over its link (rendezvous): greet it on it. */
static void
parent_link_attach(struct zone_worker *zw, int fd)
{
	struct msg_hello hello;

	zw->hello = 0;
	zw->link = peer_new(parent_loop, fd, FRAME_MAX, CONTROL_MAX_OUTPUT,
	    &parent_link_ops, zw);
	memset(&hello, 0, sizeof hello);
	hello.version = PROTO_VERSION;
	snprintf(hello.zone, sizeof hello.zone, "%s", zw->zc->name);
	hello.pid = getpid();
	parent_send(zw, msg_pack_hello(&hello));
	if (zw->health_stale)
		parent_health_send(zw);
	if (zw->retiring && !zw->retire_sent)
		parent_retire_send(zw);
}

/*
 * Hand zw's worker the zone's [health] of the configuration in force, or
 * note that its link, once it comes, must carry them first.
 */
static void
parent_health_send(struct zone_worker *zw)
{
	static struct msg_zone_health m;	/* 5 KiB: not on the stack */

	if (zw->pid == 0)
		return;		/* the next worker is forked with them */
	if (zw->link == NULL) {
		zw->health_stale = 1;
		return;
	}
	zw->health_stale = 0;
	health_config_to_msg(&zw->zc->health, &m);
	log_info("zone %s: health probe changed by the reload (now %s); "
	    "applying it without a restart", zw->zc->name,
	    names_probe(m.probe));
	parent_send(zw, msg_pack_zone_health(&m));
}

/* Links waiting at the rendezvous: each must come from its zone's worker. */
static void
parent_rendezvous_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct zone_worker *zw;
	char zone[ZONE_NAME_MAX + 2];
	pid_t pid;
	int fd, r;

	while ((r = rendezvous_recv(w->fd, zone, sizeof zone, &pid, &fd)) != 0) {
		if (r == -1) {
			log_warnx("rendezvous: a message that is not a link");
			continue;
		}
		if ((zw = parent_zone(zone)) == NULL || zw->pid != pid ||
		    zw->link != NULL) {
			log_warnx("rendezvous: a link for zone %.64s from pid "
			    "%ld, which is not its new worker", zone, (long)pid);
			close(fd);
			continue;
		}
		parent_link_attach(zw, fd);
	}
}

/*
 * Fork the worker of zw; initial is the status it starts in, or NULL.  The
 * worker hands its link over at the rendezvous.  Nothing but the fork and
 * zw's own fields is written here: every page the parent writes between two
 * forks would stay a private copy in the worker forked first (see
 * parent_fork_all).  The caller hands the pid to the reaper.
 */
static int
parent_fork_worker(struct zone_worker *zw, const struct zone_status *initial,
    int start_kind, const struct msg_zone_op *start)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		/* Retried later (parent_fork_failed), each time half as often. */
		zw->fork_delay_ms = zw->fork_delay_ms == 0 ? RESPAWN_MIN_MS :
		    zw->fork_delay_ms * 2 > RESPAWN_MAX_MS ? RESPAWN_MAX_MS :
		    zw->fork_delay_ms * 2;
		log_warn("zone %s: fork of its worker failed; trying again in "
		    "%llds", zw->zc->name, (long long)zw->fork_delay_ms / 1000);
		return -1;
	}
	if (pid == 0)
		worker_main(parent_cfg, zw->zc, parent_rv[1], initial,
		    start_kind, start);
	if (zw->fork_delay_ms != 0)
		log_info("zone %s: forked its worker again", zw->zc->name);
	zw->fork_delay_ms = 0;
	zw->pid = pid;
	zw->hello = 0;
	zw->link = NULL;
	zw->health_stale = 0;	/* forked with zw->zc's */
	zw->forked_mono_ms = clock_mono_ms();
	return 0;
}

/* Fork the worker of zw; initial is the status it starts in, or NULL. */
static int
parent_fork(struct zone_worker *zw, const struct zone_status *initial)
{
	if (parent_fork_worker(zw, initial, -1, NULL) != 0)
		return -1;
	reaper_add(zw->pid, &parent_worker_reaper, zw);
	log_debug("zone %s: forked worker pid %ld", zw->zc->name,
	    (long)zw->pid);
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
	struct msg_health_result hr;
	struct msg_lease_done ld;
	struct msg_leases ml;
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
		if (zw->lost) {
			zw->lost = 0;
			parent_recovery_failure(zw, RK_COLD_START, zw->failure,
			    "worker-lost");
		}
		if (zw->autostart && !shutting_down) {
			zw->autostart = 0;
			if (parent_zone_op(zw, zw->cold ? OP_COLD_START :
			    OP_START, TRIG_CONTROLLER_START, 0, op_id,
			    sizeof op_id, &cause) != 0)
				log_warnx("zone %s: autostart: %s", zw->zc->name,
				    cause);
			else
				snprintf(zw->ctl_op, sizeof zw->ctl_op, "%s",
				    op_id);
		}
		service_check_ready();
		break;
	case MSG_ZONE_STATUS:
		if (msg_unpack_zone_status(&r, &st) != 0) {
			parent_bad_frame(p, "malformed zone status", zw);
			return;
		}
		zw->st = st;
		parent_recovery_rearm(zw);
		break;
	case MSG_OP_DONE:
		if (msg_unpack_op_done(&r, &done) != 0) {
			parent_bad_frame(p, "malformed operation result", zw);
			return;
		}
		control_op_done(zw->zc->name, &done);
		if (zw->rec_op[0] != '\0' && strcmp(done.op_id, zw->rec_op) == 0) {
			zw->rec_op[0] = '\0';
			if (done.ok) {
				recovery_on_started(&zw->rec, clock_mono_ms());
				parent_recovery_arm(zw);
			} else
				parent_recovery_failure(zw, zw->rec.kind,
				    parent_source(NULL) ^ (uint64_t)clock_mono_ms(),
				    done.message);
		} else if (zw->ctl_op[0] != '\0' &&
		    strcmp(done.op_id, zw->ctl_op) == 0) {
			/*
			 * A start of the supervisor's own (boot autostart, a
			 * reload's start) failed: nobody was told, so the
			 * policy recovers the eligible failure (DESIGN §5).
			 */
			zw->ctl_op[0] = '\0';
			if (!done.ok && parent_recovery_wanted(zw,
			    RK_COLD_START))
				parent_recovery_failure(zw, RK_COLD_START,
				    parent_source(NULL) ^
				    (uint64_t)clock_mono_ms(), done.message);
		}
		break;
	case MSG_ZONE_RECORDED:
		if (msg_end(&r) != 0) {
			parent_bad_frame(p, "malformed record notice", zw);
			return;
		}
		control_zone_recorded(zw->zc->name);
		break;
	case MSG_HEALTH_RESULT:
		if (msg_unpack_health_result(&r, &hr) != 0) {
			parent_bad_frame(p, "malformed health result", zw);
			return;
		}
		control_health_done(zw->zc->name, &hr);
		break;
	case MSG_LEASE_DONE:
		if (msg_unpack_lease_done(&r, &ld) != 0) {
			parent_bad_frame(p, "malformed lease answer", zw);
			return;
		}
		control_lease_done(zw->zc->name, &ld);
		break;
	case MSG_LEASES:
		if (msg_unpack_leases(&r, &ml) != 0) {
			free(ml.leases);
			parent_bad_frame(p, "malformed lease table", zw);
			return;
		}
		parent_leases_store(zw, &ml);
		break;
	case MSG_ESCALATE:
		if (msg_unpack_escalate(&r, &esc) != 0) {
			parent_bad_frame(p, "malformed escalation", zw);
			return;
		}
		parent_escalation(zw, &esc);
		break;
	default:
		parent_bad_frame(p, "unexpected message type", zw);
		break;
	}
}

/* A failure's source: the VM it concerns, as one number. */
static uint64_t
parent_source(const struct vm_ident *vm)
{
	if (vm == NULL || vm->pid == 0)
		return 0;
	return (uint64_t)vm->pid << 40 ^ vm->start_time;
}

/*
 * 1 if the zone still needs the recovery its policy has in mind: for a
 * cold start, failed, allowed and meant to run; for a restart, the VM
 * that was unhealthy still running and still degraded.
 */
static int
parent_recovery_wanted(const struct zone_worker *zw, int kind)
{
	struct vm_ident vm = { zw->st.pid, zw->st.vm_start };

	if (zw->st.desired != ZS_RUNNING || zw->link == NULL || !zw->hello)
		return 0;
	if (kind == RK_RESTART)
		return zw->st.state == ZS_RUNNING_DEGRADED &&
		    parent_source(&vm) == zw->failure;
	return zw->st.state == ZS_FAILED && zw->st.eligible;
}

/* A worker escalated: the recovery policy decides. */
static void
parent_escalation(struct zone_worker *zw, const struct msg_escalate *esc)
{
	switch (esc->error) {
	case ERR_VM_PROCESS_MISSING:
		if (esc->acted[0] != '\0') {
			parent_recovery_acted(zw, esc);
			break;
		}
		parent_recovery_failure(zw, RK_COLD_START,
		    parent_source(&esc->vm), esc->message);
		break;
	case ERR_GATEWAY_SERVICE_UNHEALTHY:
		parent_recovery_failure(zw, RK_RESTART,
		    parent_source(&esc->vm), esc->message);
		break;
	case ERR_OWNER_UNSAFE:
		log_warnx("zone %s: owner-unsafe (%s): %s; no VM starts until "
		    "it is resolved (zonectl reset %s --force once checked)",
		    zw->zc->name, names_evidence(esc->evidence),
		    esc->evidence_detail, zw->zc->name);
		break;
	default:
		log_warnx("zone %s: %s escalated: %s", zw->zc->name,
		    names_error(esc->error), esc->message);
		break;
	}
}

/* Feed a failure to the zone's recovery policy and act on its decision. */
static void
parent_recovery_failure(struct zone_worker *zw, int kind, uint64_t source,
    const char *why)
{
	struct recovery_decision d;

	if (zw->retiring)
		return;	/* a reload replaces or removes the zone's worker */
	zw->failure = source;
	d = recovery_on_failure(&zw->rec, clock_mono_ms(), kind, source,
	    shutting_down);
	parent_recovery_act(zw, d, why);
}

/* Carry out a decision of the policy. */
static void
parent_recovery_act(struct zone_worker *zw, struct recovery_decision d,
    const char *why)
{
	char op_id[OP_ID_MAX];
	const char *cause;

	switch (d.action) {
	case RA_SCHEDULE:
		parent_recovery_note(zw, REC_RECOVERY_SCHEDULED, "%s in %lldms "
		    "(%d failed recoveries in a row) after %s",
		    d.kind == RK_RESTART ? "restart" : "cold start",
		    (long long)d.delay_ms, recovery_consecutive(&zw->rec), why);
		if (d.delay_ms == 0) {
			/* No timer: a zero delay means now. */
			d = recovery_on_due(&zw->rec, clock_mono_ms(),
			    zw->failure, parent_recovery_wanted(zw,
			    zw->rec.kind), shutting_down);
			parent_recovery_act(zw, d, why);
			return;
		}
		break;
	case RA_SUSPEND:
		log_warnx("zone %s: recovery suspended for %lldms after %d failed "
		    "recoveries; zonectl start or zonectl reset lifts it",
		    zw->zc->name, (long long)d.delay_ms,
		    recovery_consecutive(&zw->rec));
		parent_recovery_note(zw, REC_RECOVERY_SUSPENDED, "suspended for "
		    "%lldms after %d failed recoveries in a row; operator "
		    "required (zonectl start or zonectl reset)",
		    (long long)d.delay_ms, recovery_consecutive(&zw->rec));
		break;
	case RA_START:
		if (parent_zone_op(zw, d.kind == RK_RESTART ? OP_RESTART :
		    OP_COLD_START, TRIG_AUTO_RECOVERY,
		    zw->zc->recovery.restart_timeout_ms, op_id, sizeof op_id,
		    &cause) != 0) {
			log_warnx("zone %s: recovery cannot start (%s)",
			    zw->zc->name, cause);
			recovery_on_operator(&zw->rec);
			break;
		}
		snprintf(zw->rec_op, sizeof zw->rec_op, "%s", op_id);
		log_info("zone %s: recovery %s", zw->zc->name, op_id);
		break;
	case RA_DROP:
		log_info("zone %s: recovery dropped (%s)", zw->zc->name, d.why);
		break;
	default:
		break;
	}
	parent_recovery_arm(zw);
}

/*
 * The worker began the cold start it was armed with: the policy takes the
 * failure as if it had heard of it first, and the attempt is under way.
 */
static void
parent_recovery_acted(struct zone_worker *zw, const struct msg_escalate *esc)
{
	uint64_t source = parent_source(&esc->vm);
	struct recovery_decision d;
	int64_t now = clock_mono_ms();

	memset(&zw->armed, 0, sizeof zw->armed);
	zw->failure = source;
	d = recovery_on_failure(&zw->rec, now, RK_COLD_START, source,
	    shutting_down);
	if (d.action == RA_SCHEDULE && d.delay_ms == 0)
		d = recovery_on_due(&zw->rec, now, source, 1, shutting_down);
	if (d.action == RA_START) {
		snprintf(zw->rec_op, sizeof zw->rec_op, "%s", esc->acted);
		log_info("zone %s: recovery %s, begun by the worker as armed",
		    zw->zc->name, esc->acted);
	} else
		log_warnx("zone %s: the worker began %s, which the policy no "
		    "longer grants (%s)", zw->zc->name, esc->acted, d.why);
	parent_recovery_arm(zw);
}

/*
 * Keep the worker armed with the policy's decision for a death of its
 * current VM, when that decision is a cold start at once: then the worker
 * need not wait for a round trip through the parent to begin it.  Any
 * other decision (a delay, a suspension, a stop under way) disarms it.
 */
static void
parent_recovery_rearm(struct zone_worker *zw)
{
	struct msg_zone_arm arm;
	int want;

	want = zw->link != NULL && zw->hello && !shutting_down && !zw->retiring &&
	    zw->st.pid != 0 && zw->st.desired == ZS_RUNNING &&
	    (zw->st.state == ZS_RUNNING || zw->st.state == ZS_RUNNING_DEGRADED) &&
	    recovery_starts_at_once(&zw->rec, clock_mono_ms(), RK_COLD_START);
	if (want && zw->armed.op_id[0] != '\0' && zw->armed.vm.pid == zw->st.pid &&
	    zw->armed.vm.start_time == zw->st.vm_start)
		return;
	if (!want && zw->armed.op_id[0] == '\0')
		return;
	memset(&arm, 0, sizeof arm);
	if (want) {
		arm.vm.pid = zw->st.pid;
		arm.vm.start_time = zw->st.vm_start;
		opid_new(arm.op_id, sizeof arm.op_id, zw->zc->name,
		    OP_COLD_START);
		arm.timeout_ms = zw->zc->recovery.restart_timeout_ms;
	}
	zw->armed = arm;
	parent_send(zw, msg_pack_zone_arm(&arm));
}

/* Arm the zone's recovery timer for the policy's next due time. */
static void
parent_recovery_arm(struct zone_worker *zw)
{
	int64_t next = recovery_next(&zw->rec), wait;

	parent_recovery_rearm(zw);
	ev_timer_stop(parent_loop, &zw->rec_timer);
	if (next < 0 || shutting_down || zw->retiring)
		return;
	wait = next - clock_mono_ms();
	ev_timer_set(&zw->rec_timer, wait > 0 ? (double)wait / 1000. : 0., 0.);
	ev_timer_start(parent_loop, &zw->rec_timer);
}

/* The policy's due time came. */
static void
parent_recovery_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone_worker *zw = w->data;
	struct recovery_decision d;

	d = recovery_on_due(&zw->rec, clock_mono_ms(), zw->failure,
	    parent_recovery_wanted(zw, zw->rec.kind), shutting_down);
	parent_recovery_act(zw, d, "the policy's delay");
}

/*
 * Have a decision recorded in the zone's log: by its worker, the log's one
 * writer, or, while the zone has none, by the parent itself.
 */
static void
parent_recovery_note(struct zone_worker *zw, int kind, const char *fmt, ...)
{
	struct msg_zone_note note;
	va_list ap;

	memset(&note, 0, sizeof note);
	note.kind = kind;
	va_start(ap, fmt);
	vsnprintf(note.message, sizeof note.message, fmt, ap);
	va_end(ap);
	log_info("zone %s: %s: %s", zw->zc->name, names_record(kind),
	    note.message);
	if (zw->link != NULL && zw->hello)
		parent_send(zw, msg_pack_zone_note(&note));
	else
		parent_record(zw, kind, NULL, ERR_NONE, note.message);
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
	/* A worker a reload retires closes its link once its VM is gone. */
	int expected = shutting_down || (zw->retiring && zw->st.pid == 0);

	if (!expected)
		log_warnx("zone %s: lost the link to worker %ld (%s)",
		    zw->zc->name, (long)zw->pid, why);
	peer_free(zw->link);
	zw->link = NULL;
	parent_leases_reset(zw);
	control_zone_lost(zw->zc->name, "the zone's worker exited");
	if (zw->pid != 0 && !expected)
		kill(zw->pid, SIGKILL);
}

/*
 * Append a record to a zone's lifecycle log from the parent, which does so
 * only while the zone has no worker (DESIGN §1: one writer per log).
 */
static void
parent_record(struct zone_worker *zw, int kind, const struct vm_ident *vm,
    int error, const char *message)
{
	struct records log;
	struct record rec;
	char path[PATH_MAX];

	events_path(parent_cfg, zw->zc, path, sizeof path);
	if (records_open(&log, path, zw->zc->log_max_size,
	    zw->zc->log_keep) != 0) {
		records_close(&log);
		zw->st.records_lost++;
		parent_persist_failed(zw, "lifecycle.log", log.error);
		return;
	}
	memset(&rec, 0, sizeof rec);
	rec.zone = zw->zc->name;
	rec.kind = kind;
	rec.observed_at_ms = clock_now_ms();
	rec.op_id = zw->st.op_id;
	rec.trigger = -1;
	rec.supervisor_pid = getpid();
	if (vm != NULL)
		rec.previous_vm = *vm;
	rec.error = error;
	rec.message = message;
	rec.generation = zw->st.generation;
	rec.evidence = kind == REC_OWNER_UNSAFE_DETECTED ||
	    kind == REC_OWNER_UNSAFE_RESOLVED ? zw->st.evidence : EVD_NONE;
	rec.detail = zw->st.evidence_detail;
	if (records_append(&log, &rec) != 0 || records_sync(&log) != 0) {
		if (log.failing)
			zw->st.records_lost++;
		parent_persist_failed(zw, log.failing ? "lifecycle.log" :
		    "lifecycle.log: fdatasync", log.error);
	}
	records_close(&log);
	control_zone_recorded(zw->zc->name);
}

/*
 * A write of the parent's to a zone without a worker failed: the zone's
 * persistence is degraded (logged once); its next worker takes that over
 * and notes the gap in the log once it can.
 */
static void
parent_persist_failed(struct zone_worker *zw, const char *what, int err)
{
	if (zw->st.persist_since_ms != 0)
		return;
	zw->st.persist_since_ms = clock_now_ms();
	snprintf(zw->st.persist_cause, sizeof zw->st.persist_cause, "%s: %s",
	    what, err != 0 ? strerror(err) : "failed");
	log_warnx("zone %s: persistence degraded: %s", zw->zc->name,
	    zw->st.persist_cause);
}

/*
 * A worker was reaped.  If its VM is alive it is now our child, a VM
 * without an owner: the zone is owner-unsafe{orphaned-vm} until the parent
 * has stopped it, and only then gets a new worker.
 */
static void
parent_worker_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct zone_worker *zw = arg;
	char what[96];

	reaper_describe(ei, what, sizeof what);
	zw->pid = 0;
	zw->hello = 0;
	if (zw->link != NULL) {
		peer_free(zw->link);
		zw->link = NULL;
	}
	parent_leases_reset(zw);
	control_zone_lost(zw->zc->name, "the zone's worker exited");
	zw->rec_op[0] = '\0';
	zw->ctl_op[0] = '\0';
	memset(&zw->armed, 0, sizeof zw->armed);
	if (shutting_down) {
		if (ei->code != 0)
			log_warnx("zone %s: worker %ld %s", zw->zc->name,
			    (long)pid, what);
		parent_adopt_orphan(zw, SIGKILL, what);
		parent_check_done();
		return;
	}
	if (zw->retiring) {
		if (ei->code != 0)
			log_warnx("zone %s: worker %ld %s", zw->zc->name,
			    (long)pid, what);
		else
			log_info("zone %s: worker %ld exited for the reload",
			    zw->zc->name, (long)pid);
		parent_adopt_orphan(zw, zw->zc->stop_signal, what);
		if (zw->orphan_pid == 0)
			parent_retired(zw);
		return;
	}
	log_warnx("zone %s: worker %ld %s", zw->zc->name, (long)pid, what);
	/* Recover once a new worker greets, if the zone was meant to run. */
	zw->lost = zw->st.desired == ZS_RUNNING;
	zw->failure = parent_source(NULL) ^ (uint64_t)pid;
	parent_adopt_orphan(zw, zw->zc->stop_signal, what);
	if (zw->orphan_pid == 0) {
		if (zw->lost) {
			zw->st.state = ZS_FAILED;
			zw->st.error = ERR_WORKER_LOST;
			zw->st.eligible = 1;
			snprintf(zw->st.message, sizeof zw->st.message,
			    "worker-lost: worker pid %ld %s", (long)pid, what);
		} else
			parent_stays_stopped(zw);
		parent_respawn_cb(parent_loop, &zw->respawn_timer, 0);
	}
}

/*
 * A zone the operator stopped stays stopped when its worker is lost: the
 * new worker starts stopped, not failed, and nothing recovers it.
 */
static void
parent_stays_stopped(struct zone_worker *zw)
{
	zw->st.state = ZS_STOPPED;
	zw->st.error = ERR_NONE;
	zw->st.eligible = 0;
	zw->st.message[0] = '\0';
}

/*
 * A VM of zw's zone that its worker spawned but died before reporting (a
 * worker killed between the spawn and its next status): reparented to us,
 * it carries the zone's marker.  0 with its identity in vm if one is alive.
 * A process still between clone and exec carries no marker yet: it bears
 * the worker's name, and reaper_kill_unexeced() has killed it already.
 */
static int
parent_find_unreported_vm(struct zone_worker *zw, struct vm_ident *vm)
{
	struct boot_scan scan;
	pid_t ppid;
	size_t i;
	int r = -1;

	boot_scan_markers(parent_cfg, 0, &scan);
	for (i = 0; i < scan.n && r != 0; i++) {
		const struct boot_process *bp = &scan.procs[i];

		if (strcmp(bp->zone, zw->zc->name) != 0 ||
		    proc_parent(bp->pid, &ppid) != 0 || ppid != getpid())
			continue;
		vm->pid = bp->pid;
		vm->start_time = bp->start_time;
		r = 0;
	}
	boot_scan_free(&scan);
	return r;
}

/*
 * Take charge of the VM a dead worker left: if the pid still names the
 * process the worker reported (same start time) and is our child, it is
 * that VM, reparented to us; failing that, a VM it spawned but did not
 * report yet (parent_find_unreported_vm).  Record the evidence, send it sig and arm the
 * stop deadline.
 */
static void
parent_adopt_orphan(struct zone_worker *zw, int sig, const char *how)
{
	struct vm_ident vm = { zw->st.pid, zw->st.vm_start };
	pid_t ppid;

	zw->st.pid = 0;
	reaper_kill_unexeced();
	if (vm.pid == 0 || !proc_identity_matches(vm.pid, vm.start_time) ||
	    proc_parent(vm.pid, &ppid) != 0 || ppid != getpid()) {
		if (parent_find_unreported_vm(zw, &vm) != 0)
			return;
		log_warnx("zone %s: its worker died before it reported VM "
		    "pid %ld", zw->zc->name, (long)vm.pid);
	}
	log_warnx("zone %s: stopping VM pid %ld left by its worker",
	    zw->zc->name, (long)vm.pid);
	zw->orphan_pid = vm.pid;
	zw->orphan_start = vm.start_time;
	zw->orphan_killed = sig == SIGKILL;
	zw->st.state = ZS_OWNER_UNSAFE;
	zw->st.error = ERR_OWNER_UNSAFE;
	zw->st.eligible = 0;
	zw->st.evidence = EVD_ORPHANED_VM;
	snprintf(zw->st.evidence_detail, sizeof zw->st.evidence_detail,
	    "its worker %s; VM pid %ld is alive without an owner", how,
	    (long)vm.pid);
	snprintf(zw->st.message, sizeof zw->st.message, "orphaned-vm: %.200s",
	    zw->st.evidence_detail);
	zw->st.since_ms = clock_now_ms();
	if (!shutting_down)
		parent_record(zw, REC_OWNER_UNSAFE_DETECTED, &vm, ERR_OWNER_UNSAFE,
		    zw->st.message);
	reaper_add(vm.pid, &parent_orphan_reaper, zw);
	if (kill(-vm.pid, sig) == -1 && errno != ESRCH)
		log_warn("zone %s: kill -%ld", zw->zc->name, (long)vm.pid);
	ev_timer_set(&zw->orphan_timer, (double)(sig == SIGKILL ? KILL_GRACE_MS :
	    zw->zc->stop_timeout_ms) / 1000., 0.);
	ev_timer_start(parent_loop, &zw->orphan_timer);
}

/* An orphaned VM's deadline passed: SIGKILL it, or give up on it. */
static void
parent_orphan_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct zone_worker *zw = w->data;
	struct vm_ident vm = { zw->orphan_pid, zw->orphan_start };

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
	zw->st.evidence = EVD_CLOSE_FAILED;
	snprintf(zw->st.evidence_detail, sizeof zw->st.evidence_detail,
	    "orphaned VM pid %ld still alive %dms after SIGKILL",
	    (long)zw->orphan_pid, KILL_GRACE_MS);
	snprintf(zw->st.message, sizeof zw->st.message, "close-failed: %.200s",
	    zw->st.evidence_detail);
	if (shutting_down) {
		zw->orphan_pid = 0;
		parent_check_done();
		return;
	}
	parent_record(zw, REC_OWNER_UNSAFE_DETECTED, &vm, ERR_OWNER_UNSAFE,
	    zw->st.message);
	/* A worker again, but one that will start no VM: not eligible. */
	zw->lost = 0;
	parent_respawn_cb(parent_loop, &zw->respawn_timer, 0);
}

/* The orphaned VM's leader is a zombie: kill what is left of its group. */
static void
parent_orphan_exiting(pid_t pid, void *arg)
{
	if (kill(-pid, SIGKILL) == -1 && errno != ESRCH && errno != EPERM)
		log_warn("%s: kill -%ld", __func__, (long)pid);
}

/*
 * An orphaned VM was reaped: record the resolution, delete its runtime
 * record, and give the zone a worker again (the policy will cold-start it).
 */
static void
parent_orphan_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	struct zone_worker *zw = arg;
	struct vm_ident vm = { pid, zw->orphan_start };
	char what[96], path[PATH_MAX];

	reaper_describe(ei, what, sizeof what);
	log_info("zone %s: orphaned VM pid %ld %s", zw->zc->name, (long)pid,
	    what);
	ev_timer_stop(parent_loop, &zw->orphan_timer);
	zw->orphan_pid = 0;
	if (shutting_down) {
		parent_check_done();
		return;
	}
	parent_record(zw, REC_VM_EXITED, &vm, ERR_NONE, what);
	snprintf(path, sizeof path, "%s/zones/%s/runtime", parent_cfg->state_dir,
	    zw->zc->name);
	if (runtime_delete(path) == 0)
		parent_record(zw, REC_RUNTIME_RECORD_DELETED, &vm, ERR_NONE, NULL);
	else	/* names a VM that is gone; the next worker tries again */
		parent_persist_failed(zw, "runtime: unlink", errno);
	parent_record(zw, REC_OWNER_UNSAFE_RESOLVED, &vm, ERR_NONE,
	    "the orphaned VM was stopped by the supervisor");
	if (zw->retiring) {
		zw->st.state = ZS_STOPPED;
		zw->st.evidence = EVD_NONE;
		zw->st.evidence_detail[0] = '\0';
		parent_retired(zw);
		return;
	}
	zw->st.evidence = EVD_NONE;
	zw->st.evidence_detail[0] = '\0';
	if (zw->lost) {
		zw->st.state = ZS_FAILED;
		zw->st.error = ERR_WORKER_LOST;
		zw->st.eligible = 1;
		snprintf(zw->st.message, sizeof zw->st.message,
		    "worker-lost: its VM pid %ld was stopped (%s)", (long)pid,
		    what);
	} else
		parent_stays_stopped(zw);
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
	if (shutting_down || zw->pid != 0 || zw->retiring ||
	    (zw->orphan_pid != 0 && zw->st.evidence != EVD_CLOSE_FAILED))
		return;
	if (wait > 0) {
		ev_timer_set(w, (double)wait / 1000., 0.);
		ev_timer_start(loop, w);
		return;
	}
	if (initial.state != ZS_OWNER_UNSAFE && initial.state != ZS_STOPPED)
		initial.state = ZS_FAILED;
	if (parent_fork(zw, &initial) != 0)
		parent_fork_failed(zw);
}

/* A fork of zw's worker failed (out of processes): try again later. */
static void
parent_fork_failed(struct zone_worker *zw)
{
	ev_timer_stop(parent_loop, &zw->respawn_timer);
	ev_timer_set(&zw->respawn_timer, (double)zw->fork_delay_ms / 1000., 0.);
	ev_timer_start(parent_loop, &zw->respawn_timer);
}

/*
 * Reload (DESIGN §10): parse and check the whole configuration again, and
 * act on the difference only.  Removed zones and zones that must restart
 * are retired: their worker stops the VM (trigger reload) and exits, and
 * only once it is reaped, and any VM it left is gone too, is a new worker
 * forked with the new configuration (a changed zone) or the zone dropped
 * (a removed one); so two VMs of one zone are never alive at once.  What
 * the parent applies itself ([recovery], autostart) and unchanged zones
 * only have their configuration pointer moved to the new configuration.
 *
 * A reload that comes while zones are still being retired needs no queue:
 * it is planned against each zone's target (the configuration its next
 * worker gets), and a retiring zone only has its target replaced, so the
 * last reload wins whatever the order.  A replaced configuration is freed
 * once no zone points into it.  Returns 0, or -1 when the configuration is
 * invalid (plan->errs says why and nothing changed).
 */
int
parent_reload(int dry_run, struct reload_plan *plan)
{
	struct config *cfg;
	size_t i;

	reload_plan_init(plan);
	plan->dry_run = dry_run;
	if (!dry_run)
		service_reloading();
	if ((cfg = parent_reload_load(plan)) == NULL) {
		plan->ok = 0;
		for (i = 0; i < plan->errs.n; i++)
			log_warnx("reload: %s", plan->errs.lines[i]);
		log_warnx("reload: %s: %zu configuration error%s; the running "
		    "configuration stays in force", parent_cfg->path,
		    plan->errs.n, plan->errs.n == 1 ? "" : "s");
		if (!dry_run) {
			last_reload.at_ms = clock_now_ms();
			last_reload.ok = 0;
			snprintf(last_reload.error, sizeof last_reload.error,
			    "%s%s", plan->errs.n > 0 ? plan->errs.lines[0] :
			    "invalid configuration", plan->errs.n > 1 ?
			    " (and more)" : "");
			service_reloaded(0);
		}
		return -1;
	}
	parent_reload_plan(cfg, plan);
	reload_plan_log(plan);
	if (dry_run) {
		config_free(cfg);
		return 0;
	}
	parent_reload_apply(cfg, plan);
	last_reload.at_ms = clock_now_ms();
	last_reload.ok = 1;
	last_reload.error[0] = '\0';
	service_reloaded(1);
	return 0;
}

/* SIGHUP: a reload, reported in the log only. */
static void
parent_reload_signal(void)
{
	struct reload_plan plan;

	if (shutting_down) {
		log_info("SIGHUP: shutting down; not reloading");
		return;
	}
	log_info("SIGHUP: reloading %s", parent_cfg->path);
	parent_reload(0, &plan);
	reload_plan_free(&plan);
}

/* The outcome of the last reload. */
const struct reload_status *
parent_last_reload(void)
{
	return &last_reload;
}

/* 1 while a reload still waits for zones' workers to exit. */
int
parent_reloading(void)
{
	size_t i;

	for (i = 0; i < nworkers; i++)
		if (workers[i]->retiring)
			return 1;
	return 0;
}

/*
 * Load the configuration again from the file the daemon started with,
 * keeping the settings that cannot change now (with a note for each).
 * NULL with plan->errs set if it is invalid.
 */
static struct config *
parent_reload_load(struct reload_plan *plan)
{
	struct config *cfg;

	if ((cfg = config_load(parent_cfg->path, &plan->errs)) == NULL)
		return NULL;
	if (strcmp(cfg->zones_dir, parent_cfg->zones_dir) != 0) {
		/* The zones are those of the zones_dir in force. */
		config_free(cfg);
		if ((cfg = config_load_zones(parent_cfg->path,
		    parent_cfg->zones_dir, &plan->errs)) == NULL)
			return NULL;
		reload_plan_note(plan, "zones_dir cannot change while "
		    "zonevisord runs; keeping %s", parent_cfg->zones_dir);
	}
	parent_reload_keep(cfg, plan);
	return cfg;
}

/* Give cfg the values in force of the settings fixed at start. */
static void
parent_reload_keep(struct config *cfg, struct reload_plan *plan)
{
	const char *fixed[CONFIG_FIXED_MAX];
	size_t i, n;

	n = config_diff_fixed(parent_cfg, cfg, fixed, CONFIG_FIXED_MAX);
	for (i = 0; i < n; i++) {
		if (strcmp(fixed[i], "state_dir") == 0)
			reload_plan_note(plan, "state_dir cannot change while "
			    "zonevisord runs; keeping %s", parent_cfg->state_dir);
		else if (strcmp(fixed[i], "runtime_dir") == 0)
			reload_plan_note(plan, "runtime_dir cannot change while "
			    "zonevisord runs; keeping %s",
			    parent_cfg->runtime_dir);
		else if (strcmp(fixed[i], "control_socket") == 0)
			reload_plan_note(plan, "control_socket cannot change "
			    "while zonevisord runs; keeping %s",
			    parent_cfg->control_socket);
		else if (strcmp(fixed[i], "control_group") == 0)
			reload_plan_note(plan, "control_group cannot change "
			    "while zonevisord runs; keeping %s",
			    parent_cfg->control_group != NULL ?
			    parent_cfg->control_group : "(none)");
		else if (strcmp(fixed[i], "log_target") == 0)
			reload_plan_note(plan, "log_target cannot change while "
			    "zonevisord runs; keeping %s",
			    parent_cfg->log_to_syslog ? "syslog" : "stderr");
		else if (strcmp(fixed[i], "metrics_listen") == 0)
			reload_plan_note(plan, "metrics_listen cannot change "
			    "while zonevisord runs; keeping %s",
			    parent_cfg->metrics_listen != NULL ?
			    parent_cfg->metrics_listen : "(none)");
	}
	free(cfg->state_dir);
	cfg->state_dir = xstrdup(parent_cfg->state_dir);
	free(cfg->runtime_dir);
	cfg->runtime_dir = xstrdup(parent_cfg->runtime_dir);
	free(cfg->control_socket);
	cfg->control_socket = xstrdup(parent_cfg->control_socket);
	free(cfg->control_group);
	cfg->control_group = parent_cfg->control_group != NULL ?
	    xstrdup(parent_cfg->control_group) : NULL;
	cfg->control_gid = parent_cfg->control_gid;
	cfg->log_to_syslog = parent_cfg->log_to_syslog;
	free(cfg->metrics_listen);
	cfg->metrics_listen = parent_cfg->metrics_listen != NULL ?
	    xstrdup(parent_cfg->metrics_listen) : NULL;
	memcpy(cfg->metrics_host, parent_cfg->metrics_host,
	    sizeof cfg->metrics_host);
	cfg->metrics_port = parent_cfg->metrics_port;
	cfg->metrics_family = parent_cfg->metrics_family;
}

/* The configuration zw's next worker runs with; NULL: it is being removed. */
static const struct zone_config *
parent_zone_target(const struct zone_worker *zw)
{
	return zw->retiring ? zw->next : zw->zc;
}

/* Compare each zone's target with cfg: the plan, by name. */
static void
parent_reload_plan(const struct config *cfg, struct reload_plan *plan)
{
	const struct zone_config *cur, *nz;
	size_t i = 0, j = 0;
	int c, diff;

	while (i < nworkers || j < cfg->nzones) {
		if (i < nworkers && (cur = parent_zone_target(workers[i])) ==
		    NULL) {
			i++;	/* being removed already */
			continue;
		}
		cur = i < nworkers ? parent_zone_target(workers[i]) : NULL;
		nz = j < cfg->nzones ? cfg->zones[j] : NULL;
		c = cur == NULL ? 1 : nz == NULL ? -1 :
		    strcmp(cur->name, nz->name);
		if (c < 0) {
			reload_plan_zone(plan, cur->name, RL_REMOVED, 0);
			i++;
		} else if (c > 0) {
			reload_plan_zone(plan, nz->name, RL_ADDED, 0);
			j++;
		} else {
			diff = config_diff_zone(cur, nz);
			reload_plan_zone(plan, nz->name, diff == CFGDIFF_SAME ?
			    RL_UNCHANGED : RL_CHANGED, diff);
			i++;
			j++;
		}
	}
}

/* Carry out a plan: cfg becomes the configuration in force. */
static void
parent_reload_apply(struct config *cfg, const struct reload_plan *plan)
{
	const struct zone_config *nz;
	struct zone_worker *zw;
	size_t i;

	if (cfg->log_level != parent_cfg->log_level) {
		log_info("reload: log_level now %d", cfg->log_level);
		log_setlevel(cfg->log_level);
	}
	retired_cfgs = xreallocarray(retired_cfgs, nretired + 1,
	    sizeof *retired_cfgs);
	retired_cfgs[nretired++] = parent_cfg;
	parent_cfg = cfg;
	control_reconfigure(cfg);
	for (i = 0; i < plan->nzones; i++) {
		const struct reload_zone *rz = &plan->zones[i];

		zw = parent_zone(rz->name);
		nz = config_zone(cfg, rz->name);
		switch (rz->what) {
		case RL_REMOVED:
			parent_retire(zw, NULL);
			break;
		case RL_ADDED:
			parent_reload_added(zw, nz);
			break;
		default:
			if ((rz->diff & CFGDIFF_RESTART) || zw->retiring) {
				parent_retire(zw, nz);
				break;
			}
			zw->zc = nz;
			if (rz->diff & CFGDIFF_RECOVERY) {
				zw->rec.p = nz->recovery;
				parent_recovery_arm(zw);
			}
			/*
			 * CFGDIFF_HEALTH: the running worker replaces its
			 * probe and keeps its VM (MSG_ZONE_HEALTH); a worker
			 * whose link has not come yet gets the settings when
			 * it comes, and a worker forked later is forked with
			 * them (docs/OPERATING.md, Reload).
			 */
			if (rz->diff & CFGDIFF_HEALTH)
				parent_health_send(zw);
			break;
		}
	}
	parent_reload_gc();
}

/*
 * A zone added by a reload: a new worker that starts its VM if autostart,
 * unless a zone of that name is still being removed; then it gets the new
 * configuration once its worker is gone.
 */
static void
parent_reload_added(struct zone_worker *zw, const struct zone_config *nz)
{
	char path[PATH_MAX];

	if (zw != NULL) {
		zw->next = nz;
		zw->reload_run = nz->autostart;
		return;
	}
	zw = parent_zone_new(nz);
	zw->autostart = 0;
	parent_zone_insert(zw);
	snprintf(path, sizeof path, "%s/zones/%s", parent_cfg->state_dir,
	    nz->name);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		log_warn("mkdir %s", path);
	log_info("zone %s: added by the reload", nz->name);
	parent_reload_fork(zw, nz->autostart);
}

/*
 * Retire zw's worker for a reload: it stops its VM and exits; then the
 * zone gets a worker with next, or goes when next is NULL.  Retiring
 * again only changes next.
 */
static void
parent_retire(struct zone_worker *zw, const struct zone_config *next)
{
	zw->next = next;
	if (zw->retiring)
		return;
	zw->retiring = 1;
	zw->retire_sent = 0;
	zw->reload_run = zw->st.desired == ZS_RUNNING;
	zw->autostart = 0;
	zw->lost = 0;
	zw->rec_op[0] = '\0';
	zw->ctl_op[0] = '\0';
	ev_timer_stop(parent_loop, &zw->respawn_timer);
	parent_recovery_arm(zw);	/* disarms the worker, stops the timer */
	log_info("zone %s: %s by the reload; stopping its worker",
	    zw->zc->name, next == NULL ? "removed" : "changed");
	if (zw->pid != 0) {
		if (zw->link != NULL)
			parent_retire_send(zw);
		/* else on the link's arrival (parent_link_attach) */
	} else if (zw->orphan_pid == 0)
		parent_retired(zw);
	/* else once the orphaned VM is reaped (parent_orphan_exited) */
}

/* Tell zw's worker to stop its VM as a reload's operation, then exit. */
static void
parent_retire_send(struct zone_worker *zw)
{
	struct msg_zone_op m;

	memset(&m, 0, sizeof m);
	opid_new(m.op_id, sizeof m.op_id, zw->zc->name, OP_STOP);
	m.trigger = TRIG_RELOAD;
	parent_send(zw, msg_pack_zone_op(MSG_ZONE_RETIRE, &m));
	zw->retire_sent = 1;
}

/*
 * A retired zone's worker and VM are gone: drop the zone, or fork its new
 * worker, which starts the VM if the zone was meant to run.
 */
static void
parent_retired(struct zone_worker *zw)
{
	zw->retiring = 0;
	zw->retire_sent = 0;
	if (zw->next == NULL) {
		log_info("zone %s: removed", zw->zc->name);
		parent_zone_remove(zw);
		parent_reload_gc();
		return;
	}
	zw->zc = zw->next;
	zw->next = NULL;
	parent_leases_reset(zw);
	recovery_init(&zw->rec, &zw->zc->recovery,
	    (uint32_t)getpid() ^ (uint32_t)clock_mono_ms());
	zw->failure = 0;
	zw->lost = 0;
	zw->cold = 0;
	zw->initial = 0;
	memset(&zw->armed, 0, sizeof zw->armed);
	parent_reload_fork(zw, zw->reload_run);
	parent_reload_gc();
}

/*
 * Fork zw's worker for a reload, stopped, with its VM's start (trigger
 * reload) handed over with the fork if run.  A failed fork is retried
 * like a lost worker's.
 */
static void
parent_reload_fork(struct zone_worker *zw, int run)
{
	struct zone_status initial;
	struct msg_zone_op start;

	memset(&initial, 0, sizeof initial);
	initial.state = ZS_STOPPED;
	initial.desired = ZS_STOPPED;
	initial.exit_code = -1;
	initial.eligible = 1;
	initial.health_ok = -1;
	initial.since_ms = clock_now_ms();
	initial.generation = zw->st.generation;
	initial.restarts = zw->st.restarts;
	zw->st = initial;
	/*
	 * Meant to run from now on, as the parent sees it, though the
	 * worker's first report is still to come: a reload that retires this
	 * worker before then must hand the start on to the next one.
	 */
	if (run)
		zw->st.desired = ZS_RUNNING;
	memset(&start, 0, sizeof start);
	if (run) {
		opid_new(start.op_id, sizeof start.op_id, zw->zc->name,
		    OP_START);
		start.trigger = TRIG_RELOAD;
	}
	if (parent_fork_worker(zw, &initial, run ? OP_START : -1,
	    run ? &start : NULL) != 0) {
		zw->pid = 0;
		zw->autostart = run;
		parent_fork_failed(zw);
		return;
	}
	if (run)
		snprintf(zw->ctl_op, sizeof zw->ctl_op, "%s", start.op_id);
	reaper_add(zw->pid, &parent_worker_reaper, zw);
	log_debug("zone %s: forked worker pid %ld", zw->zc->name,
	    (long)zw->pid);
}

/* Put a new zone into workers, in name order. */
static void
parent_zone_insert(struct zone_worker *zw)
{
	size_t i;

	workers = xreallocarray(workers, nworkers + 1, sizeof *workers);
	for (i = nworkers; i > 0; i--) {
		if (strcmp(workers[i - 1]->zc->name, zw->zc->name) < 0)
			break;
		workers[i] = workers[i - 1];
	}
	workers[i] = zw;
	nworkers++;
}

/* Drop a zone without worker or VM from workers and free it. */
static void
parent_zone_remove(struct zone_worker *zw)
{
	size_t i;

	for (i = 0; i < nworkers; i++)
		if (workers[i] == zw)
			break;
	if (i == nworkers)
		return;
	memmove(&workers[i], &workers[i + 1],
	    (nworkers - i - 1) * sizeof *workers);
	nworkers--;
	ev_timer_stop(parent_loop, &zw->orphan_timer);
	ev_timer_stop(parent_loop, &zw->respawn_timer);
	ev_timer_stop(parent_loop, &zw->rec_timer);
	peer_free(zw->link);
	free(zw->leases);
	free(zw);
}

/* 1 if zc is one of cfg's zones (which are sorted by name). */
static int
parent_config_has(const struct config *cfg, const struct zone_config *zc)
{
	size_t lo = 0, hi = cfg->nzones, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(cfg->zones[mid]->name, zc->name)) == 0)
			return cfg->zones[mid] == zc;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* 1 if a zone's configuration, or its next, is one of cfg's. */
static int
parent_config_used(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < nworkers; i++) {
		const struct zone_worker *zw = workers[i];

		if (parent_config_has(cfg, zw->zc) ||
		    (zw->next != NULL && parent_config_has(cfg, zw->next)))
			return 1;
	}
	return 0;
}

/* Free the replaced configurations nothing points into any more. */
static void
parent_reload_gc(void)
{
	size_t i = 0;

	while (i < nretired) {
		if (parent_config_used(retired_cfgs[i])) {
			i++;
			continue;
		}
		if (retired_cfgs[i] != boot_cfg)
			config_free(retired_cfgs[i]);
		retired_cfgs[i] = retired_cfgs[--nretired];
	}
	if (nretired == 0) {
		free(retired_cfgs);
		retired_cfgs = NULL;
	}
}

/* Begin the graceful shutdown: every worker stops its VM and exits. */
static void
parent_shutdown(void)
{
	size_t i;

	shutting_down = 1;
	service_stopping();
	log_info("shutting down %zu zones (shutdown_timeout %lldms)", nworkers,
	    (long long)parent_cfg->shutdown_timeout_ms);
	for (i = 0; i < nworkers; i++) {
		ev_timer_stop(parent_loop, &workers[i]->respawn_timer);
		ev_timer_stop(parent_loop, &workers[i]->rec_timer);
		parent_send(workers[i], msg_pack_empty(MSG_SHUTDOWN));
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
		if (workers[i]->pid != 0)
			kill(workers[i]->pid, SIGKILL);
		if (workers[i]->orphan_pid != 0 && !workers[i]->orphan_killed) {
			workers[i]->orphan_killed = 1;
			kill(-workers[i]->orphan_pid, SIGKILL);
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
		if (workers[i]->pid != 0 || workers[i]->orphan_pid != 0)
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
		parent_reload_signal();
		break;
	case SIGUSR1:
		for (i = 0; i < nworkers; i++)
			parent_send(workers[i], msg_pack_empty(MSG_REOPEN_LOGS));
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
 * What a verdict leaves a zone with: nothing, or the owner-unsafe status
 * its worker will start in (and no autostart).  A resolved zone starts
 * with a cold start.
 */
static void
parent_boot_verdict(struct zone_worker *zw, struct boot_verdict *v)
{
	struct vm_ident vm;
	char path[PATH_MAX];
	size_t i;
	int alive = 0;

	if (v->record_deleted)
		parent_record(zw, REC_RUNTIME_RECORD_DELETED, NULL, ERR_NONE,
		    v->deleted_detail);
	if (v->evidence == EVD_NONE)
		return;
	for (i = 0; i < v->ntargets; i++)
		if (v->targets[i].pidfd != -1)
			alive++;
	if (v->resolvable && alive == 0) {
		vm.pid = v->targets[0].pid;
		vm.start_time = v->targets[0].start_time;
		snprintf(path, sizeof path, "%s/zones/%s/runtime",
		    parent_cfg->state_dir, zw->zc->name);
		if (runtime_delete(path) == 0)
			parent_record(zw, REC_RUNTIME_RECORD_DELETED, &vm,
			    ERR_NONE, NULL);
		else
			parent_persist_failed(zw, "runtime: unlink", errno);
		parent_record(zw, REC_OWNER_UNSAFE_RESOLVED, &vm, ERR_NONE,
		    "the leftover VM was stopped at boot");
		log_info("zone %s: stopped %zu leftover process%s of an earlier "
		    "zonevisord", zw->zc->name, v->ntargets,
		    v->ntargets == 1 ? "" : "es");
		zw->cold = 1;
		zw->st.evidence = EVD_NONE;
		zw->st.evidence_detail[0] = '\0';
		return;
	}
	if (v->resolvable) {
		for (i = 0; i < v->ntargets; i++) {
			if (v->targets[i].pidfd == -1)
				continue;
			v->evidence = EVD_CLOSE_FAILED;
			snprintf(v->detail, sizeof v->detail, "leftover VM pid "
			    "%ld still alive %dms after SIGKILL",
			    (long)v->targets[i].pid, KILL_GRACE_MS);
			close(v->targets[i].pidfd);
			v->targets[i].pidfd = -1;
		}
	}
	zw->st.state = ZS_OWNER_UNSAFE;
	zw->st.error = ERR_OWNER_UNSAFE;
	zw->st.eligible = 0;
	zw->st.evidence = v->evidence;
	snprintf(zw->st.evidence_detail, sizeof zw->st.evidence_detail, "%s",
	    v->detail);
	snprintf(zw->st.message, sizeof zw->st.message, "%s: %.200s",
	    names_evidence(v->evidence), v->detail);
	zw->st.since_ms = clock_now_ms();
	zw->initial = 1;
	zw->autostart = 0;
	parent_record(zw, REC_OWNER_UNSAFE_DETECTED, NULL, ERR_OWNER_UNSAFE,
	    zw->st.message);
	log_warnx("zone %s: owner-unsafe at boot: %s; no VM starts until "
	    "zonectl reset %s --force", zw->zc->name, zw->st.message,
	    zw->zc->name);
}

/*
 * Before any worker exists: wait for the workers of an earlier zonevisord
 * to let go of their zones, then find and stop what they left behind
 * (DESIGN §10).  Zones whose leftovers cannot be dealt with safely start
 * owner-unsafe.
 */
static void
parent_boot(void)
{
	struct boot_verdict **vs = xcalloc(nworkers + 1, sizeof *vs);
	struct boot_verdict **rv = xcalloc(nworkers + 1, sizeof *rv);
	const struct zone_config **zcs = xcalloc(nworkers + 1, sizeof *zcs);
	int *locks = xcalloc(nworkers + 1, sizeof *locks);
	int *lockerr = xcalloc(nworkers + 1, sizeof *lockerr);
	int64_t wait = 0, deadline;
	struct boot_scan scan;
	char path[PATH_MAX];
	size_t i, n = 0, held;

	for (i = 0; i < nworkers; i++) {
		snprintf(path, sizeof path, "%s/zones/%s", parent_cfg->state_dir,
		    workers[i]->zc->name);
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			log_warn("mkdir %s", path);
		if (workers[i]->zc->stop_timeout_ms > wait)
			wait = workers[i]->zc->stop_timeout_ms;
		locks[i] = -1;
	}
	/* An earlier worker still stopping its VM holds its zone's lock. */
	deadline = clock_mono_ms() + wait + KILL_GRACE_MS + 2000;
	do {
		held = 0;
		for (i = 0; i < nworkers; i++) {
			if (locks[i] != -1 || lockerr[i] != 0)
				continue;
			snprintf(path, sizeof path, "%s/zones/%s/worker.lock",
			    parent_cfg->state_dir, workers[i]->zc->name);
			if ((locks[i] = lock_take(path, 0)) != -1)
				continue;
			if (errno == EWOULDBLOCK)
				held++;
			else
				lockerr[i] = errno;
		}
		if (held > 0)
			usleep(20000);
	} while (held > 0 && clock_mono_ms() < deadline);

	boot_scan_markers(parent_cfg, 0, &scan);
	for (i = 0; i < nworkers; i++) {
		vs[i] = xcalloc(1, sizeof *vs[i]);
		if (locks[i] == -1) {
			vs[i]->evidence = EVD_ORPHANED_VM;
			if (lockerr[i] != 0)
				snprintf(vs[i]->detail, sizeof vs[i]->detail,
				    "the zone's worker.lock cannot be taken "
				    "(%s): an earlier worker may be alive",
				    strerror(lockerr[i]));
			else
				snprintf(vs[i]->detail, sizeof vs[i]->detail,
				    "an earlier worker of the zone still holds "
				    "its worker.lock");
			continue;
		}
		boot_judge(parent_cfg, workers[i]->zc, &scan, vs[i]);
		if (vs[i]->resolvable) {
			struct zone_worker *zw = workers[i];

			zw->st.evidence = vs[i]->evidence;
			snprintf(zw->st.evidence_detail,
			    sizeof zw->st.evidence_detail, "%s", vs[i]->detail);
			parent_record(zw, REC_OWNER_UNSAFE_DETECTED, NULL,
			    ERR_OWNER_UNSAFE, vs[i]->detail);
			log_warnx("zone %s: %s: %s; stopping it",
			    zw->zc->name, names_evidence(vs[i]->evidence),
			    vs[i]->detail);
		}
	}
	boot_scan_free(&scan);
	/* Stop every leftover of every zone at once. */
	for (i = 0; i < nworkers; i++)
		if (vs[i]->resolvable) {
			rv[n] = vs[i];
			zcs[n] = workers[i]->zc;
			n++;
		}
	boot_terminate(rv, zcs, n);
	for (i = 0; i < nworkers; i++) {
		if (vs[i]->evidence == EVD_NONE || (vs[i]->resolvable &&
		    vs[i]->ntargets > 0))
			boot_judge_port(workers[i]->zc, vs[i]);
		parent_boot_verdict(workers[i], vs[i]);
		lock_release(locks[i]);
		free(vs[i]);
	}
	free(vs);
	free(rv);
	free(zcs);
	free(locks);
	free(lockerr);
}

/* A new zone of configuration zc, stopped and without a worker yet. */
static struct zone_worker *
parent_zone_new(const struct zone_config *zc)
{
	static uint32_t n;
	struct zone_worker *zw = xcalloc(1, sizeof *zw);

	zw->zc = zc;
	zw->autostart = zc->autostart;
	zw->st.state = ZS_STOPPED;
	zw->st.desired = ZS_STOPPED;
	zw->st.exit_code = -1;
	zw->st.eligible = 1;
	zw->st.health_ok = -1;
	parent_leases_reset(zw);
	ev_timer_init(&zw->orphan_timer, parent_orphan_timer_cb, 0., 0.);
	zw->orphan_timer.data = zw;
	ev_timer_init(&zw->respawn_timer, parent_respawn_cb, 0., 0.);
	zw->respawn_timer.data = zw;
	ev_timer_init(&zw->rec_timer, parent_recovery_cb, 0., 0.);
	zw->rec_timer.data = zw;
	recovery_init(&zw->rec, &zc->recovery,
	    (uint32_t)getpid() ^ (n++ * 2654435761u));
	return zw;
}

/*
 * Fork every zone's worker at boot, one right after another, so that the
 * workers share the parent's pages as they were: a page the parent wrote
 * between two forks would be a private copy in each worker forked before
 * it, and a thousand workers would carry a thousand copies.  An autostart
 * zone's worker is handed its start with the fork and begins at once.
 */
static void
parent_fork_all(void)
{
	struct msg_zone_op start;
	size_t i;

	for (i = 0; i < nworkers; i++) {
		struct zone_worker *zw = workers[i];
		int kind = -1;

		if (zw->autostart) {
			kind = zw->cold ? OP_COLD_START : OP_START;
			memset(&start, 0, sizeof start);
			opid_new(start.op_id, sizeof start.op_id, zw->zc->name,
			    kind);
			start.trigger = TRIG_CONTROLLER_START;
		}
		if (parent_fork_worker(zw, zw->initial ? &zw->st : NULL, kind,
		    kind != -1 ? &start : NULL) != 0)
			zw->pid = 0;	/* a later worker starts it on hello */
		else if (kind != -1) {
			zw->autostart = 0;
			snprintf(zw->ctl_op, sizeof zw->ctl_op, "%s",
			    start.op_id);
		}
	}
	for (i = 0; i < nworkers; i++) {
		struct zone_worker *zw = workers[i];

		if (zw->pid == 0)
			parent_fork_failed(zw);
		else {
			reaper_add(zw->pid, &parent_worker_reaper, zw);
			log_debug("zone %s: forked worker pid %ld",
			    zw->zc->name, (long)zw->pid);
		}
	}
}

/*
 * Run the supervisor until it is shut down: make directories, bind the
 * control socket, fork the workers, start autostart zones, serve.
 */
int
parent_main(struct config *cfg)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	char path[PATH_MAX];
	size_t i;

	parent_cfg = boot_cfg = cfg;
	started_ms = clock_now_ms();
	notify_init();	/* before any fork: nothing of ours inherits it */
	spawn_ignore(SIGPIPE);
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
	snprintf(path, sizeof path, "%s/zonevisord.lock", cfg->state_dir);
	if ((state_lock = lock_take(path, 0)) == -1 && errno != EWOULDBLOCK) {
		log_warn("cannot lock state_dir %s: %s", cfg->state_dir, path);
		return ZVD_EXIT_FAILURE;
	}
	if (state_lock == -1) {
		log_warnx("another zonevisord uses state_dir %s (%s is locked)",
		    cfg->state_dir, path);
		return ZVD_EXIT_RUNNING;
	}
	nworkers = cfg->nzones;
	workers = xcalloc(nworkers == 0 ? 1 : nworkers, sizeof *workers);
	for (i = 0; i < nworkers; i++)
		workers[i] = parent_zone_new(cfg->zones[i]);
	parent_boot();
	if (control_listen(parent_loop, cfg) != 0)
		return ZVD_EXIT_RUNNING;
	metrics_http_listen(parent_loop, cfg);
	if (rendezvous_open(parent_rv) == -1) {
		log_warn("rendezvous");
		return ZVD_EXIT_FAILURE;
	}
	ev_io_init(&parent_rv_watch, parent_rendezvous_cb, parent_rv[0],
	    EV_READ);
	ev_io_start(parent_loop, &parent_rv_watch);
	parent_fork_all();
	log_info("zonevisord %s started: %zu zones, control socket %s",
	    PACKAGE_VERSION, nworkers, cfg->control_socket);
	service_start(parent_loop);

	ev_run(parent_loop, 0);

	service_stop();
	control_close();
	metrics_http_close();
	parent_sweep();
	log_info("zonevisord stopped");
	for (i = 0; i < nworkers; i++) {
		peer_free(workers[i]->link);
		free(workers[i]->leases);
		free(workers[i]);
	}
	free(workers);
	nworkers = 0;
	parent_reload_gc();
	if (parent_cfg != boot_cfg)
		config_free(parent_cfg);
	ev_io_stop(parent_loop, &parent_rv_watch);
	close(parent_rv[0]);
	close(parent_rv[1]);
	ev_loop_destroy(parent_loop);
	lock_release(state_lock);
	return ZVD_EXIT_OK;
}
