/*
 * status.c: what zonectl status, diagnose and lease list show, packed from
 * the parent's cache of the statuses and lease tables its workers report
 * (so answering never waits on a worker), plus the liveness the parent
 * observes itself.  The field names are the contract of DESIGN §4 and §11;
 * scripts depend on them.  Times are realtime ms since the epoch under
 * plain names (since, at, expires_at), durations carry _ms or _s.
 */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include "zonevisor.h"

static void status_pack_vm(struct msgw *, const struct zone_status *, int64_t);
static void status_pack_error(struct msgw *, int, const char *);
static void status_pack_evidence(struct msgw *, const struct zone_status *);
static void status_pack_recovery(struct msgw *, const struct recovery *,
    int64_t);
static void status_pack_last_op(struct msgw *, const struct zone_status *);
static int status_running(const struct zone_status *);
static const char *status_health(const struct zone_worker *);
static void status_pack_probe(struct msgw *, const struct zone_worker *);
static void status_pack_reload(struct msgw *, const struct reload_status *);
static void status_pack_persistence(struct msgw *, const struct zone_status *);

/* 1 if the zone's VM runs (healthy or degraded). */
static int
status_running(const struct zone_status *st)
{
	return (st->state == ZS_RUNNING || st->state == ZS_RUNNING_DEGRADED) &&
	    st->pid != 0;
}

/* {code, message}, or nil for ERR_NONE. */
static void
status_pack_error(struct msgw *w, int error, const char *message)
{
	if (error == ERR_NONE) {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "code");
	msgw_str(w, names_error(error));
	msgw_key(w, "message");
	msgw_str(w, message);
	msgw_map_end(w);
}

/* {kind, detail} of an owner-unsafe zone, or nil. */
static void
status_pack_evidence(struct msgw *w, const struct zone_status *st)
{
	if (st->evidence == EVD_NONE) {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "kind");
	msgw_str(w, names_evidence(st->evidence));
	msgw_key(w, "detail");
	msgw_str(w, st->evidence_detail);
	msgw_map_end(w);
}

/*
 * The recovery policy's view: its state, when the next attempt (or the end
 * of a suspension) comes, and its counters.
 */
static void
status_pack_recovery(struct msgw *w, const struct recovery *r, int64_t now)
{
	int64_t next = recovery_next(r), in = next - clock_mono_ms();

	if (in < 0)
		in = 0;
	msgw_map_begin(w);
	msgw_key(w, "state");
	msgw_str(w, names_recovery_state(r->state));
	msgw_key(w, "next_attempt_in_ms");
	if (r->state == RS_SCHEDULED || r->state == RS_SUSPENDED)
		msgw_int(w, in);
	else
		msgw_nil(w);
	msgw_key(w, "suspended_until");
	if (r->state == RS_SUSPENDED)
		msgw_int(w, now + in);
	else
		msgw_nil(w);
	msgw_key(w, "consecutive_failures");
	msgw_int(w, recovery_consecutive(r));
	msgw_key(w, "failed_recoveries");
	msgw_int(w, recovery_failed_total(r));
	msgw_key(w, "suspensions");
	msgw_int(w, r->suspensions);
	msgw_map_end(w);
}

/*
 * {state, since, cause, records_lost}: whether the zone's records can be
 * written.  state ok or degraded; since and cause (the first failure) are
 * nil while ok; records_lost counts lifecycle records never written.
 */
static void
status_pack_persistence(struct msgw *w, const struct zone_status *st)
{
	int degraded = st->persist_since_ms != 0;

	msgw_map_begin(w);
	msgw_key(w, "state");
	msgw_str(w, degraded ? "degraded" : "ok");
	msgw_key(w, "since");
	if (degraded)
		msgw_int(w, st->persist_since_ms);
	else
		msgw_nil(w);
	msgw_key(w, "cause");
	msgw_str(w, degraded ? st->persist_cause : NULL);
	msgw_key(w, "records_lost");
	msgw_int(w, st->records_lost);
	msgw_map_end(w);
}

/* {pid, start_time, uptime_s} of the VM, or nil. */
static void
status_pack_vm(struct msgw *w, const struct zone_status *st, int64_t now)
{
	if (st->pid == 0) {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "pid");
	msgw_int(w, st->pid);
	msgw_key(w, "start_time");
	msgw_int(w, (int64_t)st->vm_start);
	msgw_key(w, "uptime_s");
	msgw_int(w, (now - st->booted_at_ms) / 1000);
	msgw_map_end(w);
}

/* {id, operation, trigger, result, error, at} of the last operation, or nil. */
static void
status_pack_last_op(struct msgw *w, const struct zone_status *st)
{
	if (st->op_id[0] == '\0') {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "id");
	msgw_str(w, st->op_id);
	msgw_key(w, "operation");
	msgw_str(w, names_operation(st->op_kind));
	msgw_key(w, "trigger");
	msgw_str(w, names_trigger(st->op_trigger));
	msgw_key(w, "result");
	msgw_str(w, names_op_result(st->op_result));
	msgw_key(w, "error");
	msgw_str(w, st->op_result == OPR_FAILED ? names_error(st->op_error) :
	    NULL);
	msgw_key(w, "at");
	msgw_int(w, st->op_at_ms);
	msgw_map_end(w);
}

/* The supervisor object of a status answer. */
void
status_pack_supervisor(struct msgw *w, int64_t now)
{
	msgw_map_begin(w);
	msgw_key(w, "pid");
	msgw_int(w, getpid());
	msgw_key(w, "version");
	msgw_str(w, PACKAGE_VERSION);
	msgw_key(w, "protocol");
	msgw_int(w, PROTO_VERSION);
	msgw_key(w, "started_at");
	msgw_int(w, parent_started_ms());
	msgw_key(w, "uptime_s");
	msgw_int(w, (now - parent_started_ms()) / 1000);
	msgw_key(w, "config");
	msgw_str(w, parent_config()->path);
	msgw_key(w, "zones");
	msgw_int(w, (int64_t)parent_zone_count());
	msgw_key(w, "shutting_down");
	msgw_bool(w, parent_shutting_down());
	msgw_key(w, "reloading");
	msgw_bool(w, parent_reloading());
	msgw_key(w, "last_reload");
	status_pack_reload(w, parent_last_reload());
	msgw_map_end(w);
}

/* {at, ok, error} of the last reload, or nil before the first. */
static void
status_pack_reload(struct msgw *w, const struct reload_status *rs)
{
	if (rs->at_ms == 0) {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "at");
	msgw_int(w, rs->at_ms);
	msgw_key(w, "ok");
	msgw_bool(w, rs->ok);
	msgw_key(w, "error");
	msgw_str(w, rs->ok ? NULL : rs->error);
	msgw_map_end(w);
}

/* One zone in a status answer (DESIGN §11). */
void
status_pack_zone(struct msgw *w, const struct zone_worker *zw, int64_t now)
{
	const struct zone_status *st = &zw->st;

	msgw_map_begin(w);
	msgw_key(w, "name");
	msgw_str(w, zw->zc->name);
	msgw_key(w, "state");
	msgw_str(w, names_state(st->state));
	msgw_key(w, "desired");
	msgw_str(w, names_state(st->desired));
	msgw_key(w, "pid");
	if (st->pid != 0)
		msgw_int(w, st->pid);
	else
		msgw_nil(w);
	msgw_key(w, "since");
	msgw_int(w, st->since_ms);
	msgw_key(w, "uptime_s");
	if (status_running(st))
		msgw_int(w, (now - st->booted_at_ms) / 1000);
	else
		msgw_nil(w);
	msgw_key(w, "restarts");
	msgw_int(w, st->restarts);
	msgw_key(w, "health");
	msgw_str(w, status_health(zw));
	msgw_key(w, "probe");
	status_pack_probe(w, zw);
	msgw_key(w, "cold_start_eligible");
	msgw_bool(w, st->eligible);
	msgw_key(w, "last_error");
	status_pack_error(w, st->error, st->message);
	msgw_key(w, "last_exit");
	if (st->exit_code != -1 || st->exit_signal != 0) {
		msgw_map_begin(w);
		msgw_key(w, "code");
		if (st->exit_code != -1)
			msgw_int(w, st->exit_code);
		else
			msgw_nil(w);
		msgw_key(w, "signal");
		msgw_str(w, st->exit_signal != 0 ?
		    names_signal(st->exit_signal) : NULL);
		msgw_map_end(w);
	} else
		msgw_nil(w);
	msgw_key(w, "evidence");
	status_pack_evidence(w, st);
	msgw_key(w, "recovery");
	status_pack_recovery(w, &zw->rec, now);
	msgw_key(w, "persistence");
	status_pack_persistence(w, st);
	msgw_key(w, "leases");
	msgw_int(w, (int64_t)status_lease_count(zw, -1));
	msgw_key(w, "operation_id");
	msgw_str(w, st->op_id[0] != '\0' ? st->op_id : NULL);
	msgw_key(w, "generation");
	msgw_int(w, (int64_t)st->generation);
	msgw_key(w, "worker_pid");
	if (zw->pid != 0)
		msgw_int(w, zw->pid);
	else
		msgw_nil(w);
	msgw_key(w, "ingress_port");
	if (zw->zc->ingress_port != 0)
		msgw_int(w, zw->zc->ingress_port);
	else
		msgw_nil(w);
	msgw_map_end(w);
}

/*
 * A zone's health in a word: none (no probe, or no VM to probe), unknown
 * (no result yet for this VM), ok, failing (its last probe failed).
 */
static const char *
status_health(const struct zone_worker *zw)
{
	const struct zone_status *st = &zw->st;

	if (zw->zc->health.probe == PROBE_NONE || st->pid == 0)
		return "none";
	return st->health_ok == 1 ? "ok" : st->health_ok == 0 ? "failing" :
	    "unknown";
}

/* The probe and its last result, or nil without a probe. */
static void
status_pack_probe(struct msgw *w, const struct zone_worker *zw)
{
	const struct health_config *hc = &zw->zc->health;
	const struct zone_status *st = &zw->st;

	if (hc->probe == PROBE_NONE) {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "kind");
	msgw_str(w, names_probe(hc->probe));
	msgw_key(w, "interval_ms");
	msgw_int(w, hc->interval_ms);
	msgw_key(w, "failure_threshold");
	msgw_int(w, hc->failure_threshold);
	msgw_key(w, "failures");
	msgw_int(w, st->health_failures);
	msgw_key(w, "last");
	if (st->health_ok == -1 || st->pid == 0) {
		msgw_nil(w);
	} else {
		msgw_map_begin(w);
		msgw_key(w, "ok");
		msgw_bool(w, st->health_ok == 1);
		msgw_key(w, "at");
		msgw_int(w, st->health_at_ms);
		msgw_key(w, "latency_ms");
		msgw_int(w, st->health_latency_ms);
		msgw_key(w, "detail");
		msgw_str(w, st->health_detail);
		msgw_map_end(w);
	}
	msgw_map_end(w);
}

/*
 * readiness: running / degraded / failed / owner-unsafe, and stopped for a
 * zone that is deliberately down or between states.  A running zone whose
 * last probe failed is degraded, whatever the state says.
 */
const char *
status_readiness(const struct zone_status *st)
{
	switch (st->state) {
	case ZS_RUNNING:
		return st->health_ok == 0 ? "degraded" : "running";
	case ZS_RUNNING_DEGRADED:
		return "degraded";
	case ZS_FAILED:
		return "failed";
	case ZS_OWNER_UNSAFE:
		return "owner-unsafe";
	default:
		return "stopped";
	}
}

/* zonectl diagnose: the derived view of DESIGN §4. */
void
status_pack_diagnose(struct msgw *w, const struct zone_worker *zw, int64_t now)
{
	const struct zone_status *st = &zw->st;
	int worker_alive = zw->pid != 0 && kill(zw->pid, 0) == 0;

	msgw_map_begin(w);
	msgw_key(w, "zone");
	msgw_str(w, zw->zc->name);
	msgw_key(w, "state");
	msgw_str(w, names_state(st->state));
	msgw_key(w, "desired");
	msgw_str(w, names_state(st->desired));
	msgw_key(w, "readiness");
	msgw_str(w, status_readiness(st));
	msgw_key(w, "blocker");
	msgw_str(w, st->state == ZS_OWNER_UNSAFE ? "owner-unsafe" :
	    st->state == ZS_FAILED ? names_error(st->error) : "none");
	msgw_key(w, "last_error");
	status_pack_error(w, st->error, st->message);
	msgw_key(w, "health");
	msgw_str(w, status_health(zw));
	msgw_key(w, "probe");
	status_pack_probe(w, zw);
	msgw_key(w, "evidence");
	status_pack_evidence(w, st);
	msgw_key(w, "last_operation");
	status_pack_last_op(w, st);
	msgw_key(w, "original_outage_cause");
	if (st->outage != ERR_NONE) {
		msgw_map_begin(w);
		msgw_key(w, "code");
		msgw_str(w, names_error(st->outage));
		msgw_key(w, "message");
		msgw_str(w, st->outage_message);
		msgw_key(w, "at");
		msgw_int(w, st->outage_at_ms);
		msgw_map_end(w);
	} else
		msgw_nil(w);
	msgw_key(w, "vm");
	status_pack_vm(w, st, now);
	msgw_key(w, "generation");
	msgw_int(w, (int64_t)st->generation);
	msgw_key(w, "supervisor");
	msgw_map_begin(w);
	msgw_key(w, "pid");
	msgw_int(w, getpid());
	msgw_key(w, "alive");
	msgw_bool(w, 1);
	msgw_key(w, "shutting_down");
	msgw_bool(w, parent_shutting_down());
	msgw_map_end(w);
	msgw_key(w, "worker");
	msgw_map_begin(w);
	msgw_key(w, "pid");
	if (zw->pid != 0)
		msgw_int(w, zw->pid);
	else
		msgw_nil(w);
	msgw_key(w, "alive");
	msgw_bool(w, worker_alive);
	msgw_key(w, "link");
	msgw_str(w, zw->link != NULL && zw->hello ? "up" : "down");
	msgw_map_end(w);
	msgw_key(w, "tool_vm_plane");
	msgw_str(w, names_tool_plane(zw->tool_plane));
	msgw_key(w, "tool_vm_detail");
	msgw_str(w, zw->tool_detail[0] != '\0' ? zw->tool_detail : NULL);
	msgw_key(w, "leases");
	msgw_int(w, (int64_t)status_lease_count(zw, -1));
	msgw_key(w, "quarantined");
	msgw_int(w, (int64_t)status_lease_count(zw, LS_QUARANTINED));
	msgw_key(w, "persistence");
	status_pack_persistence(w, st);
	msgw_key(w, "recovery");
	status_pack_recovery(w, &zw->rec, now);
	msgw_map_end(w);
}

/*
 * The leases of zw's last lease table in state (LS_*), or all of them for
 * -1.  Every lease holds its slot until it is gone, whatever its state, so
 * the count of all is the number of slots taken.
 */
size_t
status_lease_count(const struct zone_worker *zw, int state)
{
	size_t i, n = 0;

	for (i = 0; i < zw->nleases; i++)
		if (state == -1 || zw->leases[i].state == state)
			n++;
	return n;
}

/*
 * One lease of zone: {id, zone, slot, port, state, pid, owner, acquired_at,
 * renewed_at, expires_at, ttl_ms}; pid, owner and renewed_at are nil when
 * there is none.  The one shape of a lease in every answer.
 */
void
status_pack_lease(struct msgw *w, const char *zone, const struct lease_info *l)
{
	msgw_map_begin(w);
	msgw_key(w, "id");
	msgw_str(w, l->id);
	msgw_key(w, "zone");
	msgw_str(w, zone);
	msgw_key(w, "slot");
	msgw_int(w, l->slot);
	msgw_key(w, "port");
	msgw_int(w, l->port);
	msgw_key(w, "state");
	msgw_str(w, names_lease_state(l->state));
	msgw_key(w, "pid");
	if (l->pid != 0)
		msgw_int(w, l->pid);
	else
		msgw_nil(w);
	msgw_key(w, "owner");
	msgw_str(w, l->owner[0] != '\0' ? l->owner : NULL);
	msgw_key(w, "acquired_at");
	msgw_int(w, l->acquired_at_ms);
	msgw_key(w, "renewed_at");
	if (l->renewed_at_ms != 0)
		msgw_int(w, l->renewed_at_ms);
	else
		msgw_nil(w);
	msgw_key(w, "expires_at");
	msgw_int(w, l->expires_at_ms);
	msgw_key(w, "ttl_ms");
	msgw_int(w, l->ttl_ms);
	msgw_map_end(w);
}

/*
 * The slots of a zone with [tool-vm]: {zone, max, used, free, quarantined,
 * plane, detail}; detail is nil when the worker gave none.
 */
void
status_pack_slots(struct msgw *w, const struct zone_worker *zw)
{
	size_t used = status_lease_count(zw, -1);
	size_t max = (size_t)zw->zc->tool_vm.max_leases;

	msgw_map_begin(w);
	msgw_key(w, "zone");
	msgw_str(w, zw->zc->name);
	msgw_key(w, "max");
	msgw_int(w, (int64_t)max);
	msgw_key(w, "used");
	msgw_int(w, (int64_t)used);
	msgw_key(w, "free");
	msgw_int(w, used < max ? (int64_t)(max - used) : 0);
	msgw_key(w, "quarantined");
	msgw_int(w, (int64_t)status_lease_count(zw, LS_QUARANTINED));
	msgw_key(w, "plane");
	msgw_str(w, names_tool_plane(zw->tool_plane));
	msgw_key(w, "detail");
	msgw_str(w, zw->tool_detail[0] != '\0' ? zw->tool_detail : NULL);
	msgw_map_end(w);
}
