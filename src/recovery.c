/*
 * recovery.c: the recovery policy of DESIGN §5, one per zone, run by the
 * parent on each escalation.  It is a pure module: no system calls, the
 * clock comes in as an argument and the jitter from a seeded generator, so
 * every rule is tested without waiting.
 *
 * A failure schedules an attempt after restart_delay, doubled for each
 * consecutive failed recovery up to restart_delay_max, with +-10% jitter.
 * An attempt succeeds once its VM has stayed up for stable_after; it fails
 * if its start fails or the VM dies before then.  After
 * max_failed_recoveries consecutive failures the zone is suspended for
 * suspend_for: one decision to record, no attempts, until it expires or an
 * operator acts.  Restarts (health escalations) and cold starts (a dead VM)
 * keep separate budgets.  A decision made for a VM that has since been
 * replaced is dropped, and nothing starts while the supervisor stops.
 */
#include "config.h"

#include <string.h>

#include "zonevisor.h"

static uint32_t recovery_random(struct recovery *);
static int64_t recovery_delay(struct recovery *, int);
static struct recovery_decision decision(int, int, int64_t, const char *);

/* A fresh, idle policy. */
void
recovery_init(struct recovery *r, const struct recovery_policy *p,
    uint32_t seed)
{
	memset(r, 0, sizeof *r);
	r->p = *p;
	r->state = RS_IDLE;
	r->rng = seed != 0 ? seed : 0x9e3779b9;
}

/* xorshift32: enough to spread restarts, and repeatable in tests. */
static uint32_t
recovery_random(struct recovery *r)
{
	uint32_t x = r->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->rng = x;
	return x;
}

/* The delay before the next attempt of kind, jitter included. */
static int64_t
recovery_delay(struct recovery *r, int kind)
{
	int64_t d = r->p.restart_delay_ms;
	int n = r->budget[kind].consecutive;
	int64_t spread;

	while (n-- > 0 && d < r->p.restart_delay_max_ms)
		d = d > r->p.restart_delay_max_ms / 2 ? r->p.restart_delay_max_ms :
		    d * 2;
	if (d > r->p.restart_delay_max_ms)
		d = r->p.restart_delay_max_ms;
	if (d == 0)
		return 0;
	/* Uniform in [d - d/10, d + d/10]: never more than 10% off. */
	spread = 2 * (d / 10);
	return d - d / 10 + (int64_t)(recovery_random(r) % (uint64_t)(spread + 1));
}

static struct recovery_decision
decision(int action, int kind, int64_t delay, const char *why)
{
	struct recovery_decision d = { action, kind, delay, why };

	return d;
}

/*
 * A failure was escalated: kind is the budget it draws on (RK_COLD_START
 * for a dead VM, RK_RESTART for an unhealthy one), source names the VM it
 * concerns.  Returns what to do: schedule an attempt, suspend, or nothing.
 */
struct recovery_decision
recovery_on_failure(struct recovery *r, int64_t now, int kind, uint64_t source,
    int stopping)
{
	int64_t delay;

	if (stopping)
		return decision(RA_NONE, kind, 0, "controller-stopping");
	switch (r->state) {
	case RS_SUSPENDED:
		return decision(RA_NONE, kind, 0, "suspended");
	case RS_SCHEDULED:
		if (source == r->source)
			return decision(RA_NONE, kind, 0, "already scheduled");
		/* The VM it was for was replaced meanwhile: this one counts. */
		break;
	case RS_VERIFYING:
		if (now >= r->at) {
			/* It had stayed up long enough: a success, then this. */
			recovery_on_due(r, now, r->source, 0, stopping);
			break;
		}
		/* FALLTHROUGH */
	case RS_IN_FLIGHT:
		/* The attempt under way failed. */
		r->budget[r->kind].consecutive++;
		r->budget[r->kind].failed++;
		break;
	default:
		break;
	}
	if (r->budget[kind].consecutive >= r->p.max_failed_recoveries ||
	    r->budget[r->kind].consecutive >= r->p.max_failed_recoveries) {
		r->state = RS_SUSPENDED;
		r->kind = kind;
		r->source = source;
		r->at = now + r->p.suspend_for_ms;
		r->suspensions++;
		return decision(RA_SUSPEND, kind, r->p.suspend_for_ms,
		    "max_failed_recoveries reached");
	}
	delay = recovery_delay(r, kind);
	r->state = RS_SCHEDULED;
	r->kind = kind;
	r->source = source;
	r->at = now + delay;
	return decision(RA_SCHEDULE, kind, delay, "scheduled");
}

/*
 * Time has come (now >= recovery_next()).  current is the source of the
 * zone's failure now, wanted whether the zone still needs recovering
 * (failed, allowed a new VM, meant to run).  Returns RA_START with the kind
 * of operation to order, RA_DROP for a stale decision, or RA_NONE.
 */
struct recovery_decision
recovery_on_due(struct recovery *r, int64_t now, uint64_t current, int wanted,
    int stopping)
{
	switch (r->state) {
	case RS_SCHEDULED:
		if (now < r->at)
			break;
		if (stopping) {
			r->state = RS_IDLE;
			return decision(RA_NONE, r->kind, 0, "controller-stopping");
		}
		if (!wanted || current != r->source) {
			r->state = RS_IDLE;
			return decision(RA_DROP, r->kind, 0, "stale-recovery-source");
		}
		r->state = RS_IN_FLIGHT;
		return decision(RA_START, r->kind, 0, "due");
	case RS_VERIFYING:
		if (now < r->at)
			break;
		/* A stable run: counting starts afresh, for both budgets. */
		r->budget[RK_COLD_START].consecutive = 0;
		r->budget[RK_RESTART].consecutive = 0;
		r->state = RS_IDLE;
		return decision(RA_NONE, r->kind, 0, "stable");
	case RS_SUSPENDED:
		if (now < r->at)
			break;
		r->budget[RK_COLD_START].consecutive = 0;
		r->budget[RK_RESTART].consecutive = 0;
		r->state = RS_IDLE;
		if (!wanted || stopping)
			return decision(RA_NONE, r->kind, 0, "suspension over");
		r->state = RS_IN_FLIGHT;
		r->kind = RK_COLD_START;
		r->source = current;
		return decision(RA_START, RK_COLD_START, 0, "suspension over");
	default:
		break;
	}
	return decision(RA_NONE, r->kind, 0, "not due");
}

/* The attempt's operation finished: its VM runs; now it must stay up. */
void
recovery_on_started(struct recovery *r, int64_t now)
{
	if (r->state != RS_IN_FLIGHT)
		return;
	r->state = RS_VERIFYING;
	r->at = now + r->p.stable_after_ms;
}

/*
 * An operator started, stopped or restarted the zone: whatever was
 * scheduled is off, a suspension is lifted, and counting starts afresh.
 */
void
recovery_on_operator(struct recovery *r)
{
	r->state = RS_IDLE;
	r->budget[RK_COLD_START].consecutive = 0;
	r->budget[RK_RESTART].consecutive = 0;
}

/*
 * zonectl reset: lift a suspension and forget failures; 0 if there are
 * none, and then nothing changes: a recovery already scheduled for a first
 * failure stays scheduled (a refused reset cancelled it, and the zone was
 * left down for good).
 */
int
recovery_reset(struct recovery *r)
{
	int had = r->state == RS_SUSPENDED ||
	    r->budget[RK_COLD_START].consecutive > 0 ||
	    r->budget[RK_RESTART].consecutive > 0;

	if (had)
		recovery_on_operator(r);
	return had;
}

/* When recovery_on_due() must next be called, or -1 for never. */
int64_t
recovery_next(const struct recovery *r)
{
	switch (r->state) {
	case RS_SCHEDULED:
	case RS_VERIFYING:
	case RS_SUSPENDED:
		return r->at;
	default:
		return -1;
	}
}

/* Consecutive failed recoveries, of the budget that has most. */
int
recovery_consecutive(const struct recovery *r)
{
	return r->budget[RK_COLD_START].consecutive >
	    r->budget[RK_RESTART].consecutive ?
	    r->budget[RK_COLD_START].consecutive :
	    r->budget[RK_RESTART].consecutive;
}

/* Failed recoveries since zonevisord started, both budgets. */
uint32_t
recovery_failed_total(const struct recovery *r)
{
	return r->budget[RK_COLD_START].failed + r->budget[RK_RESTART].failed;
}

/*
 * 1 if a failure of kind now would be answered by a start at once (no
 * delay, no suspension): the parent then arms the worker with that
 * decision ahead of time, so a recovery need not wait for a round trip.
 */
int
recovery_starts_at_once(const struct recovery *r, int64_t now, int kind)
{
	struct recovery copy = *r;
	struct recovery_decision d;

	if (r->state == RS_SCHEDULED || r->state == RS_SUSPENDED ||
	    r->state == RS_IN_FLIGHT)
		return 0;
	d = recovery_on_failure(&copy, now, kind, ~(uint64_t)0, 0);
	return d.action == RA_SCHEDULE && d.delay_ms == 0;
}
