/*
 * zone_fsm.c: the zone lifecycle state machine of a worker, as one table of
 * (state x event) -> {next state, action} with every cell written out: a
 * cell that ignores or refuses an event says so.  zone_fsm_feed() is the one
 * entry point; it runs an event and every event the actions post, to
 * completion, logs each transition as "zone alpha: running -> stopping on
 * stop-requested", reports the new status to the parent, and starts the
 * next queued operation once none is in flight.
 */
#include "config.h"

#include "log.h"
#include "zonevisor.h"

#define IGNORE(s)	{ (s), zone_ignore }
#define REFUSE(s)	{ (s), zone_refuse }

const struct zone_fsm_cell zone_fsm_table[ZS__COUNT][ZE__COUNT] = {
	/* No VM. */
	[ZS_STOPPED] = {
		[ZE_START] =		{ ZS_STARTING, zone_spawn },
		[ZE_STOP] =		{ ZS_STOPPED, zone_already },
		[ZE_RESTART] =		{ ZS_STARTING, zone_cold_start },
		[ZE_PREFLIGHT_PASSED] =	IGNORE(ZS_STOPPED),
		[ZE_PREFLIGHT_FAILED] =	IGNORE(ZS_STOPPED),
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_STOPPED),
		[ZE_GENERATION_STALE] =	IGNORE(ZS_STOPPED),
		[ZE_SPAWNED] =		IGNORE(ZS_STOPPED),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_STOPPED),
		[ZE_READY] =		IGNORE(ZS_STOPPED),
		[ZE_VM_EXITED] =	IGNORE(ZS_STOPPED),
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_STOPPED),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_STOPPED),
		[ZE_OP_TIMEOUT] =	IGNORE(ZS_STOPPED),
		[ZE_PROBE_FAILED] =	IGNORE(ZS_STOPPED),
		[ZE_PROBE_PASSED] =	IGNORE(ZS_STOPPED),
		[ZE_OWNER_UNSAFE] =	{ ZS_OWNER_UNSAFE, zone_unsafe },
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_STOPPED),
		[ZE_RESET] =		{ ZS_STOPPED, zone_already },
	},
	/* VM spawned, not yet ready; a start, restart or cold start in flight. */
	[ZS_STARTING] = {
		[ZE_START] =		REFUSE(ZS_STARTING),
		[ZE_STOP] =		{ ZS_STOPPING, zone_supersede },
		[ZE_RESTART] =		REFUSE(ZS_STARTING),
		[ZE_PREFLIGHT_PASSED] =	IGNORE(ZS_STARTING),
		[ZE_PREFLIGHT_FAILED] =	IGNORE(ZS_STARTING),
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_STARTING),
		[ZE_GENERATION_STALE] =	{ ZS_STOPPING, zone_close_stale },
		[ZE_SPAWNED] =		{ ZS_STARTING, zone_await_ready },
		[ZE_SPAWN_FAILED] =	{ ZS_FAILED, zone_spawn_failed },
		[ZE_READY] =		{ ZS_BY_ACTION, zone_started },
		[ZE_VM_EXITED] =	{ ZS_FAILED, zone_start_exited },
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_STARTING),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_STARTING),
		[ZE_OP_TIMEOUT] =	{ ZS_STARTING, zone_op_timeout },
		[ZE_PROBE_FAILED] =	IGNORE(ZS_STARTING),
		[ZE_PROBE_PASSED] =	IGNORE(ZS_STARTING),
		[ZE_OWNER_UNSAFE] =	IGNORE(ZS_STARTING),
		[ZE_READY_TIMEOUT] =	{ ZS_STOPPING, zone_readiness_failed },
		[ZE_RESET] =		REFUSE(ZS_STARTING),
	},
	/* VM alive and ready. */
	[ZS_RUNNING] = {
		[ZE_START] =		{ ZS_RUNNING, zone_already },
		[ZE_STOP] =		{ ZS_STOPPING, zone_close },
		[ZE_RESTART] =		{ ZS_RUNNING, zone_preflight },
		[ZE_PREFLIGHT_PASSED] =	{ ZS_RESTARTING, zone_checkpoint },
		[ZE_PREFLIGHT_FAILED] =	{ ZS_RUNNING, zone_preflight_failed },
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_RUNNING),
		[ZE_GENERATION_STALE] =	IGNORE(ZS_RUNNING),
		[ZE_SPAWNED] =		IGNORE(ZS_RUNNING),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_RUNNING),
		[ZE_READY] =		IGNORE(ZS_RUNNING),
		[ZE_VM_EXITED] =	{ ZS_FAILED, zone_vm_lost },
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_RUNNING),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_RUNNING),
		[ZE_OP_TIMEOUT] =	{ ZS_RUNNING, zone_op_timeout },
		[ZE_PROBE_FAILED] =	{ ZS_RUNNING_DEGRADED, zone_degrade },
		[ZE_PROBE_PASSED] =	IGNORE(ZS_RUNNING),
		[ZE_OWNER_UNSAFE] =	IGNORE(ZS_RUNNING),
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_RUNNING),
		[ZE_RESET] =		{ ZS_RUNNING, zone_already },
	},
	/* VM alive, its health probes failing below the escalation threshold. */
	[ZS_RUNNING_DEGRADED] = {
		[ZE_START] =		{ ZS_RUNNING_DEGRADED, zone_already },
		[ZE_STOP] =		{ ZS_STOPPING, zone_close },
		[ZE_RESTART] =		{ ZS_RUNNING_DEGRADED, zone_preflight },
		[ZE_PREFLIGHT_PASSED] =	{ ZS_RESTARTING, zone_checkpoint },
		[ZE_PREFLIGHT_FAILED] =	{ ZS_RUNNING_DEGRADED, zone_preflight_failed },
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_GENERATION_STALE] =	IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_SPAWNED] =		IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_READY] =		IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_VM_EXITED] =	{ ZS_FAILED, zone_vm_lost },
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_OP_TIMEOUT] =	{ ZS_RUNNING_DEGRADED, zone_op_timeout },
		[ZE_PROBE_FAILED] =	{ ZS_RUNNING_DEGRADED, zone_degrade },
		[ZE_PROBE_PASSED] =	{ ZS_RUNNING, zone_recover_health },
		[ZE_OWNER_UNSAFE] =	IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_RUNNING_DEGRADED),
		[ZE_RESET] =		{ ZS_RUNNING_DEGRADED, zone_already },
	},
	/* Closing the VM: a stop, or the stop phase of a restart. */
	[ZS_STOPPING] = {
		[ZE_START] =		REFUSE(ZS_STOPPING),
		[ZE_STOP] =		{ ZS_STOPPING, zone_supersede },
		[ZE_RESTART] =		REFUSE(ZS_STOPPING),
		[ZE_PREFLIGHT_PASSED] =	IGNORE(ZS_STOPPING),
		[ZE_PREFLIGHT_FAILED] =	IGNORE(ZS_STOPPING),
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_STOPPING),
		[ZE_GENERATION_STALE] =	IGNORE(ZS_STOPPING),
		[ZE_SPAWNED] =		IGNORE(ZS_STOPPING),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_STOPPING),
		[ZE_READY] =		IGNORE(ZS_STOPPING),
		[ZE_VM_EXITED] =	{ ZS_BY_ACTION, zone_closed },
		[ZE_STOP_TIMEOUT] =	{ ZS_STOPPING, zone_kill },
		[ZE_KILL_TIMEOUT] =	{ ZS_OWNER_UNSAFE, zone_close_failed },
		[ZE_OP_TIMEOUT] =	{ ZS_STOPPING, zone_op_timeout },
		[ZE_PROBE_FAILED] =	IGNORE(ZS_STOPPING),
		[ZE_PROBE_PASSED] =	IGNORE(ZS_STOPPING),
		[ZE_OWNER_UNSAFE] =	IGNORE(ZS_STOPPING),
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_STOPPING),
		[ZE_RESET] =		REFUSE(ZS_STOPPING),
	},
	/* A restart passed its preflight and is about to close the old VM. */
	[ZS_RESTARTING] = {
		[ZE_START] =		REFUSE(ZS_RESTARTING),
		[ZE_STOP] =		{ ZS_STOPPING, zone_supersede },
		[ZE_RESTART] =		REFUSE(ZS_RESTARTING),
		[ZE_PREFLIGHT_PASSED] =	IGNORE(ZS_RESTARTING),
		[ZE_PREFLIGHT_FAILED] =	IGNORE(ZS_RESTARTING),
		[ZE_CHECKPOINT_PASSED] = { ZS_STOPPING, zone_close },
		[ZE_GENERATION_STALE] =	{ ZS_RUNNING, zone_abandon },
		[ZE_SPAWNED] =		IGNORE(ZS_RESTARTING),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_RESTARTING),
		[ZE_READY] =		IGNORE(ZS_RESTARTING),
		[ZE_VM_EXITED] =	{ ZS_BY_ACTION, zone_closed },
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_RESTARTING),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_RESTARTING),
		[ZE_OP_TIMEOUT] =	{ ZS_RESTARTING, zone_op_timeout },
		[ZE_PROBE_FAILED] =	IGNORE(ZS_RESTARTING),
		[ZE_PROBE_PASSED] =	IGNORE(ZS_RESTARTING),
		[ZE_OWNER_UNSAFE] =	IGNORE(ZS_RESTARTING),
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_RESTARTING),
		[ZE_RESET] =		REFUSE(ZS_RESTARTING),
	},
	/* No VM; the last operation failed or the VM died. */
	[ZS_FAILED] = {
		[ZE_START] =		{ ZS_BY_ACTION, zone_start_from_failed },
		[ZE_STOP] =		{ ZS_STOPPED, zone_stop_from_failed },
		[ZE_RESTART] =		{ ZS_BY_ACTION, zone_cold_start },
		[ZE_PREFLIGHT_PASSED] =	IGNORE(ZS_FAILED),
		[ZE_PREFLIGHT_FAILED] =	IGNORE(ZS_FAILED),
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_FAILED),
		[ZE_GENERATION_STALE] =	IGNORE(ZS_FAILED),
		[ZE_SPAWNED] =		IGNORE(ZS_FAILED),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_FAILED),
		[ZE_READY] =		IGNORE(ZS_FAILED),
		[ZE_VM_EXITED] =	IGNORE(ZS_FAILED),
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_FAILED),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_FAILED),
		[ZE_OP_TIMEOUT] =	IGNORE(ZS_FAILED),
		[ZE_PROBE_FAILED] =	IGNORE(ZS_FAILED),
		[ZE_PROBE_PASSED] =	IGNORE(ZS_FAILED),
		[ZE_OWNER_UNSAFE] =	{ ZS_OWNER_UNSAFE, zone_unsafe },
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_FAILED),
		[ZE_RESET] =		{ ZS_BY_ACTION, zone_reset },
	},
	/* Ownership cannot be proven: no new VM until the evidence is resolved. */
	[ZS_OWNER_UNSAFE] = {
		[ZE_START] =		REFUSE(ZS_OWNER_UNSAFE),
		[ZE_STOP] =		{ ZS_BY_ACTION, zone_stop_unsafe },
		[ZE_RESTART] =		REFUSE(ZS_OWNER_UNSAFE),
		[ZE_PREFLIGHT_PASSED] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_PREFLIGHT_FAILED] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_CHECKPOINT_PASSED] = IGNORE(ZS_OWNER_UNSAFE),
		[ZE_GENERATION_STALE] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_SPAWNED] =		IGNORE(ZS_OWNER_UNSAFE),
		[ZE_SPAWN_FAILED] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_READY] =		IGNORE(ZS_OWNER_UNSAFE),
		[ZE_VM_EXITED] =	{ ZS_STOPPED, zone_late_exit },
		[ZE_STOP_TIMEOUT] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_KILL_TIMEOUT] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_OP_TIMEOUT] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_PROBE_FAILED] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_PROBE_PASSED] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_OWNER_UNSAFE] =	{ ZS_OWNER_UNSAFE, zone_unsafe },
		[ZE_READY_TIMEOUT] =	IGNORE(ZS_OWNER_UNSAFE),
		[ZE_RESET] =		{ ZS_BY_ACTION, zone_reset },
	},
};

/*
 * Feed one event to a zone.  Called again from inside an action (through
 * zone_post), it only queues the event: the outer call runs it next, so
 * every event sees the state the previous one left.
 */
void
zone_fsm_feed(struct zone *z, int ev)
{
	if (z->npending == ZONE_PENDING_MAX)
		fatalx("zone %s: event queue overflow on %s", z->zc->name,
		    names_event(ev));
	z->pending[z->npending++] = ev;
	if (z->feeding)
		return;
	z->feeding = 1;
	for (;;) {
		const struct zone_fsm_cell *cell;
		int from, to, i;

		if (z->npending == 0) {
			if (z->op != NULL || TAILQ_EMPTY(&z->queue))
				break;
			zone_next_op(z);
			continue;
		}
		ev = z->pending[0];
		for (i = 1; i < z->npending; i++)
			z->pending[i - 1] = z->pending[i];
		z->npending--;

		from = z->st.state;
		cell = &zone_fsm_table[from][ev];
		z->event = ev;
		to = cell->action(z, cell->next);
		if (cell->action == zone_ignore)
			continue;
		if (to != from) {
			log_info("zone %s: %s -> %s on %s", z->zc->name,
			    names_state(from), names_state(to), names_event(ev));
			z->st.state = to;
			z->st.since_ms = clock_now_ms();
		} else
			log_debug("zone %s: %s on %s", z->zc->name,
			    names_state(from), names_event(ev));
		z->report(z);
		zone_report_done(z);
	}
	zone_drop_stale_runtime(z);
	z->feeding = 0;
}
