/*
 * check_recovery.c: the recovery policy of DESIGN §5 (recovery.c).  These
 * tests protect a zone from a supervisor that either gives up on it or
 * hammers it: a failure is answered after restart_delay, doubled for each
 * consecutive failed recovery up to restart_delay_max, with a jitter that
 * stays inside +-10% and really spreads; a VM that stays up for
 * stable_after resets the count; after max_failed_recoveries the zone is
 * suspended once (one decision to record), no attempt is made until the
 * suspension expires or an operator acts; restarts and cold starts keep
 * their own budgets; a decision made for a VM since replaced is dropped,
 * never two attempts answer one failure, and nothing starts while the
 * supervisor stops.
 *
 * The module is pure, so each test builds its own policy, owns the clock
 * (a plain integer it advances) and seeds the jitter itself.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "zonevisor.h"

#define T0		1000000		/* the clock at the start of a test */
#define SEEDS		10000		/* seeds tried by the jitter tests */

static Suite *recovery_suite(void);
static struct recovery_policy test_policy(void);
static void expect_scheduled(const struct recovery *,
    struct recovery_decision, int64_t, int64_t, int, const char *);
static void start_attempt(struct recovery *, int64_t *, uint64_t, int);
static void verify_until_stable(struct recovery *, int64_t *);
static void fail_recoveries(struct recovery *, int64_t *, uint64_t *, int,
    int);
static void expect_unchanged(const struct recovery *,
    const struct recovery *);

/* restart_delay 100 ms up to 1.6 s, stable after 60 s, 5 failures, 30 min. */
static struct recovery_policy
test_policy(void)
{
	struct recovery_policy p;

	memset(&p, 0, sizeof p);
	p.restart_delay_ms = 100;
	p.restart_delay_max_ms = 1600;
	p.stable_after_ms = 60000;
	p.max_failed_recoveries = 5;
	p.suspend_for_ms = 1800000;
	p.restart_timeout_ms = 600000;
	return p;
}

/* True if got lies in [0.9 want, 1.1 want]. */
#define WITHIN_JITTER(got, want) \
	((got) * 10 >= (want) * 9 && (got) * 10 <= (want) * 11)

/*
 * dec must schedule an attempt of kind at about want ms (+-10%, > 0 when
 * want is), due at now + delay, with the policy scheduled.
 */
static void
expect_scheduled(const struct recovery *r, struct recovery_decision dec,
    int64_t now, int64_t want, int kind, const char *what)
{
	ck_assert_msg(dec.action == RA_SCHEDULE,
	    "%s: action %d, not RA_SCHEDULE (why \"%s\")", what, dec.action,
	    dec.why != NULL ? dec.why : "(null)");
	ck_assert_msg(dec.kind == kind, "%s: kind %d, expected %d", what,
	    dec.kind, kind);
	if (want > 0)
		ck_assert_msg(dec.delay_ms > 0, "%s: delay %lld is not > 0",
		    what, (long long)dec.delay_ms);
	ck_assert_msg(WITHIN_JITTER(dec.delay_ms, want),
	    "%s: delay %lld ms outside [%lld, %lld] (expected about %lld)",
	    what, (long long)dec.delay_ms, (long long)(want * 9 / 10),
	    (long long)(want * 11 / 10), (long long)want);
	ck_assert_msg(r->state == RS_SCHEDULED, "%s: state %s, not scheduled",
	    what, names_recovery_state(r->state));
	ck_assert_msg(recovery_next(r) == now + dec.delay_ms,
	    "%s: next %lld, expected now + delay = %lld", what,
	    (long long)recovery_next(r), (long long)(now + dec.delay_ms));
}

/* Let the clock reach the scheduled attempt and start it for current. */
static void
start_attempt(struct recovery *r, int64_t *now, uint64_t current, int kind)
{
	struct recovery_decision dec;

	ck_assert_int_eq(r->state, RS_SCHEDULED);
	*now = recovery_next(r);
	dec = recovery_on_due(r, *now, current, 1, 0);
	ck_assert_msg(dec.action == RA_START,
	    "due attempt for source %llu: action %d, not RA_START (why \"%s\")",
	    (unsigned long long)current, dec.action,
	    dec.why != NULL ? dec.why : "(null)");
	ck_assert_int_eq(dec.kind, kind);
	ck_assert_int_eq(r->state, RS_IN_FLIGHT);
}

/* The attempt's VM runs and stays up for stable_after: a success. */
static void
verify_until_stable(struct recovery *r, int64_t *now)
{
	struct recovery_decision dec;

	recovery_on_started(r, *now);
	ck_assert_int_eq(r->state, RS_VERIFYING);
	ck_assert_int_eq(recovery_next(r), *now + r->p.stable_after_ms);
	*now += r->p.stable_after_ms;
	dec = recovery_on_due(r, *now, r->source, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r->state, RS_IDLE);
	ck_assert_int_eq(recovery_next(r), -1);
}

/*
 * 100, 200, 400, 800, 1600, then 1600 again and again: each failure of the
 * attempt in flight (its start failed, or its VM died before stable_after)
 * doubles the delay, and restart_delay_max caps it.
 */
START_TEST(test_recovery_backoff_doubles_to_cap)
{
	static const int64_t want[] = {
		100, 200, 400, 800, 1600, 1600, 1600, 1600, 1600, 1600
	};
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now;
	uint64_t src;
	uint32_t seed;
	size_t i;
	char what[64];

	p.max_failed_recoveries = 10;	/* room to see the cap */
	for (seed = 1; seed <= 50; seed++) {
		recovery_init(&r, &p, seed);
		now = T0;
		src = 1;
		dec = recovery_on_failure(&r, now, RK_COLD_START, src, 0);
		expect_scheduled(&r, dec, now, want[0], RK_COLD_START,
		    "first failure");
		ck_assert_int_eq(recovery_consecutive(&r), 0);
		for (i = 1; i < sizeof want / sizeof want[0]; i++) {
			start_attempt(&r, &now, src, RK_COLD_START);
			if (i % 2 == 0) {
				/* Started, then died before stable_after. */
				recovery_on_started(&r, now);
				ck_assert_int_eq(r.state, RS_VERIFYING);
				now += p.stable_after_ms - 1;
			} else
				now += 5;	/* the start failed */
			src++;
			dec = recovery_on_failure(&r, now, RK_COLD_START, src,
			    0);
			snprintf(what, sizeof what, "seed %u, failed recovery %zu",
			    seed, i);
			expect_scheduled(&r, dec, now, want[i], RK_COLD_START,
			    what);
			ck_assert_int_eq(recovery_consecutive(&r), (int)i);
			ck_assert_uint_eq(recovery_failed_total(&r), i);
		}
	}
}
END_TEST

/*
 * Over many seeds, every delay at every step of the backoff lies within
 * +-10% of its nominal value, and the seeds really spread it (the lowest
 * and highest differ by at least a tenth of the delay).
 */
START_TEST(test_recovery_jitter_bounds)
{
	enum { STEPS = 6 };
	static const int64_t want[STEPS] = { 100, 200, 400, 800, 1600, 1600 };
	int64_t lo[STEPS], hi[STEPS], now;
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	uint32_t seed;
	int i;

	p.max_failed_recoveries = 10;
	for (i = 0; i < STEPS; i++) {
		lo[i] = INT64_MAX;
		hi[i] = INT64_MIN;
	}
	for (seed = 1; seed <= SEEDS; seed++) {
		recovery_init(&r, &p, seed);
		now = T0;
		for (i = 0; i < STEPS; i++) {
			if (i > 0) {
				start_attempt(&r, &now, (uint64_t)i,
				    RK_COLD_START);
				now += 1;
			}
			dec = recovery_on_failure(&r, now, RK_COLD_START,
			    (uint64_t)i + 1, 0);
			ck_assert_int_eq(dec.action, RA_SCHEDULE);
			ck_assert_msg(WITHIN_JITTER(dec.delay_ms, want[i]),
			    "seed %u step %d: delay %lld outside +-10%% of %lld",
			    seed, i, (long long)dec.delay_ms,
			    (long long)want[i]);
			ck_assert_int_eq(recovery_next(&r), now + dec.delay_ms);
			if (dec.delay_ms < lo[i])
				lo[i] = dec.delay_ms;
			if (dec.delay_ms > hi[i])
				hi[i] = dec.delay_ms;
		}
	}
	for (i = 0; i < STEPS; i++)
		ck_assert_msg(hi[i] - lo[i] >= want[i] / 10,
		    "step %d: delays only span [%lld, %lld] for %lld", i,
		    (long long)lo[i], (long long)hi[i], (long long)want[i]);
}
END_TEST

/* restart_delay = 0 means at once, every time, whatever the seed. */
START_TEST(test_recovery_jitter_zero_delay)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now;
	uint32_t seed;
	int i;

	p.restart_delay_ms = 0;
	p.max_failed_recoveries = 10;
	for (seed = 0; seed <= SEEDS; seed++) {
		recovery_init(&r, &p, seed);
		now = T0;
		for (i = 0; i < (seed % 100 == 0 ? 8 : 1); i++) {
			if (i > 0) {
				start_attempt(&r, &now, (uint64_t)i,
				    RK_COLD_START);
				now += 1;
			}
			dec = recovery_on_failure(&r, now, RK_COLD_START,
			    (uint64_t)i + 1, 0);
			ck_assert_int_eq(dec.action, RA_SCHEDULE);
			ck_assert_msg(dec.delay_ms == 0,
			    "seed %u step %d: delay %lld with restart_delay 0",
			    seed, i, (long long)dec.delay_ms);
			ck_assert_int_eq(recovery_next(&r), now);
		}
	}
}
END_TEST

/*
 * The same seed gives the same delays (a failing run can be replayed);
 * another seed gives others, and even seed 0 is not a stuck generator.
 */
START_TEST(test_recovery_jitter_repeatable)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision da, db, dc;
	struct recovery a, b, c;
	int64_t now_a = T0, now_b = T0, now_c = T0;
	int64_t first = -1;
	int i, differ = 0, varied = 0;

	p.max_failed_recoveries = 10;
	recovery_init(&a, &p, 12345);
	recovery_init(&b, &p, 12345);
	recovery_init(&c, &p, 54321);
	for (i = 0; i < 8; i++) {
		if (i > 0) {
			start_attempt(&a, &now_a, (uint64_t)i, RK_COLD_START);
			start_attempt(&b, &now_b, (uint64_t)i, RK_COLD_START);
			start_attempt(&c, &now_c, (uint64_t)i, RK_COLD_START);
		}
		da = recovery_on_failure(&a, now_a, RK_COLD_START,
		    (uint64_t)i + 1, 0);
		db = recovery_on_failure(&b, now_b, RK_COLD_START,
		    (uint64_t)i + 1, 0);
		dc = recovery_on_failure(&c, now_c, RK_COLD_START,
		    (uint64_t)i + 1, 0);
		ck_assert_int_eq(da.delay_ms, db.delay_ms);
		ck_assert_int_eq(recovery_next(&a), recovery_next(&b));
		if (dc.delay_ms != da.delay_ms)
			differ = 1;
	}
	ck_assert_msg(differ, "seeds 12345 and 54321 gave the same delays");

	/* Seed 0: twenty fresh draws at 100 ms must not all be equal. */
	recovery_init(&a, &p, 0);
	for (i = 0; i < 20; i++) {
		da = recovery_on_failure(&a, T0, RK_COLD_START,
		    (uint64_t)i + 1, 0);
		ck_assert_int_eq(da.action, RA_SCHEDULE);
		ck_assert(WITHIN_JITTER(da.delay_ms, 100));
		if (first == -1)
			first = da.delay_ms;
		else if (da.delay_ms != first)
			varied = 1;
	}
	ck_assert_msg(varied, "seed 0: every delay was %lld", (long long)first);
}
END_TEST

/*
 * A VM that stays up for stable_after is a success: the policy goes idle
 * and the next failure is answered at restart_delay again, not at the
 * doubled delay of the failures before.
 */
START_TEST(test_recovery_success_resets)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0, started;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "first failure");
	start_attempt(&r, &now, 1, RK_COLD_START);
	dec = recovery_on_failure(&r, now + 3, RK_COLD_START, 2, 0);
	now += 3;
	expect_scheduled(&r, dec, now, 200, RK_COLD_START, "failed recovery 1");
	start_attempt(&r, &now, 2, RK_COLD_START);
	dec = recovery_on_failure(&r, now + 3, RK_COLD_START, 3, 0);
	now += 3;
	expect_scheduled(&r, dec, now, 400, RK_COLD_START, "failed recovery 2");
	ck_assert_int_eq(recovery_consecutive(&r), 2);

	/* This attempt's VM starts and stays up. */
	start_attempt(&r, &now, 3, RK_COLD_START);
	started = now;
	recovery_on_started(&r, now);
	ck_assert_int_eq(r.state, RS_VERIFYING);
	ck_assert_int_eq(recovery_next(&r), started + p.stable_after_ms);
	dec = recovery_on_due(&r, started + p.stable_after_ms - 1, 3, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_VERIFYING);
	ck_assert_int_eq(recovery_consecutive(&r), 2);
	now = started + p.stable_after_ms + 1;
	dec = recovery_on_due(&r, now, 3, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);
	ck_assert_int_eq(recovery_consecutive(&r), 0);
	ck_assert_uint_eq(recovery_failed_total(&r), 2);

	/* Much later the VM dies: a first failure after a stable run. */
	now += 3600000;
	dec = recovery_on_failure(&r, now, RK_COLD_START, 4, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START,
	    "first failure after a stable run");
	ck_assert_int_eq(recovery_consecutive(&r), 0);
}
END_TEST

/*
 * A VM that dies before stable_after is a failed recovery: the count grows
 * and the next delay doubles, one millisecond short of stable_after too.
 */
START_TEST(test_recovery_early_death_is_failed_recovery)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "first failure");
	start_attempt(&r, &now, 1, RK_COLD_START);
	recovery_on_started(&r, now);
	ck_assert_int_eq(r.state, RS_VERIFYING);
	now += p.stable_after_ms - 1;
	dec = recovery_on_due(&r, now, 1, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_VERIFYING);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 2, 0);
	expect_scheduled(&r, dec, now, 200, RK_COLD_START,
	    "death before stable_after");
	ck_assert_int_eq(recovery_consecutive(&r), 1);
	ck_assert_uint_eq(recovery_failed_total(&r), 1);
}
END_TEST

/*
 * A VM that dies after it has stayed up for stable_after was a success,
 * even if the failure reaches the policy before the stable check did
 * (both are due in the same loop turn, or the timer fired late): the
 * failure is a first failure after a stable run, not a failed recovery.
 */
START_TEST(test_recovery_death_after_stable_after_is_not_failed)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "first failure");
	start_attempt(&r, &now, 1, RK_COLD_START);
	recovery_on_started(&r, now);
	now += p.stable_after_ms + 1000;	/* stayed up, then died */
	dec = recovery_on_failure(&r, now, RK_COLD_START, 2, 0);
	ck_assert_msg(recovery_failed_total(&r) == 0,
	    "a VM up for stable_after + 1 s counted as a failed recovery");
	ck_assert_int_eq(recovery_consecutive(&r), 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START,
	    "death after stable_after");
}
END_TEST

/*
 * A stable run resets the counters of both budgets: after a restart that
 * kept the VM up for stable_after, a dead VM is a first failure after a
 * stable run (restart_delay), whatever the cold starts before it did.
 */
START_TEST(test_recovery_stable_run_resets_both_budgets)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;

	recovery_init(&r, &p, 7);
	/* A dead VM; its cold start fails once, the next one runs... */
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "dead VM");
	start_attempt(&r, &now, 1, RK_COLD_START);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 2, 0);
	expect_scheduled(&r, dec, now, 200, RK_COLD_START, "start failed");
	start_attempt(&r, &now, 2, RK_COLD_START);
	recovery_on_started(&r, now);
	/* ...but turns unhealthy before stable_after: restarted, and stays. */
	now += 1000;
	dec = recovery_on_failure(&r, now, RK_RESTART, 3, 0);
	expect_scheduled(&r, dec, now, 100, RK_RESTART, "unhealthy VM");
	ck_assert_int_eq(recovery_consecutive(&r), 2);
	start_attempt(&r, &now, 3, RK_RESTART);
	verify_until_stable(&r, &now);

	/* The zone ran stable for a day; then the VM dies. */
	now += 86400000;
	dec = recovery_on_failure(&r, now, RK_COLD_START, 4, 0);
	ck_assert_msg(recovery_consecutive(&r) == 0,
	    "consecutive %d after a stable run", recovery_consecutive(&r));
	expect_scheduled(&r, dec, now, 100, RK_COLD_START,
	    "first failure after a stable run");
}
END_TEST

/* Drive r through a first failure and n failed recoveries of kind. */
static void
fail_recoveries(struct recovery *r, int64_t *now, uint64_t *src, int kind,
    int n)
{
	struct recovery_decision dec;
	int i;

	dec = recovery_on_failure(r, *now, kind, ++*src, 0);
	ck_assert_int_eq(dec.action, RA_SCHEDULE);
	for (i = 0; i < n; i++) {
		start_attempt(r, now, *src, kind);
		recovery_on_started(r, *now);
		*now += 1000;
		dec = recovery_on_failure(r, *now, kind, ++*src, 0);
		ck_assert_int_eq(dec.action, RA_SCHEDULE);
	}
}

/*
 * The max_failed_recoveries-th consecutive failed recovery suspends the
 * zone: one RA_SUSPEND for suspend_for, then nothing more while suspended,
 * whatever fails and however often, and nothing starts before expiry.
 */
START_TEST(test_recovery_suspension_decided_once)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0, until;
	uint64_t src = 0;
	int i;

	recovery_init(&r, &p, 7);
	fail_recoveries(&r, &now, &src, RK_COLD_START,
	    p.max_failed_recoveries - 1);
	ck_assert_int_eq(recovery_consecutive(&r), p.max_failed_recoveries - 1);
	ck_assert_int_eq(r.state, RS_SCHEDULED);

	start_attempt(&r, &now, src, RK_COLD_START);
	now += 10;
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);
	ck_assert_int_eq(dec.delay_ms, p.suspend_for_ms);
	ck_assert_int_eq(r.state, RS_SUSPENDED);
	until = now + p.suspend_for_ms;
	ck_assert_int_eq(recovery_next(&r), until);
	ck_assert_int_eq(recovery_consecutive(&r), p.max_failed_recoveries);
	ck_assert_uint_eq(recovery_failed_total(&r),
	    (uint32_t)p.max_failed_recoveries);
	ck_assert_uint_eq(r.suspensions, 1);

	/* Failures of both kinds, same and new sources: nothing. */
	for (i = 0; i < 20; i++) {
		now += 1000;
		dec = recovery_on_failure(&r, now,
		    i % 2 ? RK_RESTART : RK_COLD_START,
		    i % 3 ? src : src + (uint64_t)i + 1, 0);
		ck_assert_msg(dec.action == RA_NONE,
		    "failure %d while suspended: action %d", i, dec.action);
		ck_assert_int_eq(r.state, RS_SUSPENDED);
		ck_assert_int_eq(recovery_next(&r), until);
	}
	ck_assert_uint_eq(r.suspensions, 1);
	ck_assert_uint_eq(recovery_failed_total(&r),
	    (uint32_t)p.max_failed_recoveries);

	/* Not before expiry. */
	dec = recovery_on_due(&r, until - 1, src, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_SUSPENDED);
	ck_assert_int_eq(recovery_next(&r), until);
}
END_TEST

/*
 * At expiry a zone still wanted gets one cold start (even if failed
 * restarts suspended it), with the counters started afresh: its failure is
 * failed recovery 1, not a new suspension.
 */
START_TEST(test_recovery_suspension_expiry_starts)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;
	uint64_t src = 0;

	recovery_init(&r, &p, 7);
	fail_recoveries(&r, &now, &src, RK_RESTART,
	    p.max_failed_recoveries - 1);
	start_attempt(&r, &now, src, RK_RESTART);
	dec = recovery_on_failure(&r, now, RK_RESTART, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);

	now = recovery_next(&r);
	dec = recovery_on_due(&r, now, src, 1, 0);
	ck_assert_int_eq(dec.action, RA_START);
	ck_assert_int_eq(dec.kind, RK_COLD_START);
	ck_assert_int_eq(r.state, RS_IN_FLIGHT);
	ck_assert_int_eq(recovery_consecutive(&r), 0);
	/* The same due time again starts nothing more. */
	dec = recovery_on_due(&r, now, src, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);

	recovery_on_started(&r, now);
	now += 1000;
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	expect_scheduled(&r, dec, now, 200, RK_COLD_START,
	    "failure after the suspension");
	ck_assert_int_eq(recovery_consecutive(&r), 1);
	ck_assert_uint_eq(r.suspensions, 1);
}
END_TEST

/* At expiry a zone no longer wanted just goes idle, counters cleared. */
START_TEST(test_recovery_suspension_expiry_unwanted)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;
	uint64_t src = 0;

	recovery_init(&r, &p, 7);
	fail_recoveries(&r, &now, &src, RK_RESTART,
	    p.max_failed_recoveries - 1);
	start_attempt(&r, &now, src, RK_RESTART);
	dec = recovery_on_failure(&r, now, RK_RESTART, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);

	now = recovery_next(&r);
	dec = recovery_on_due(&r, now, src, 0, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);
	ck_assert_int_eq(recovery_consecutive(&r), 0);

	/* And a later failure is a first failure again. */
	now += 1000;
	dec = recovery_on_failure(&r, now, RK_RESTART, ++src, 0);
	expect_scheduled(&r, dec, now, 100, RK_RESTART, "after the suspension");
}
END_TEST

/*
 * Restarts and cold starts double on their own budgets: a failed restart
 * grows the restart delay only, a failed cold start the cold-start delay
 * only, and the counters report the larger run and the sum.
 */
START_TEST(test_recovery_budgets_separate)
{
	/* Each attempt fails by an escalation of the other kind. */
	static const struct {
		int	 kind;		/* of the failure, and the next attempt */
		int64_t	 delay;
		int	 consecutive;
		uint32_t total;
	} steps[] = {
		{ RK_COLD_START, 100, 0, 0 },	/* a dead VM */
		{ RK_RESTART, 100, 1, 1 },	/* cold start failed: C=1 */
		{ RK_COLD_START, 200, 1, 2 },	/* restart failed: R=1 */
		{ RK_RESTART, 200, 2, 3 },	/* C=2 */
		{ RK_COLD_START, 400, 2, 4 },	/* R=2 */
		{ RK_RESTART, 400, 3, 5 },	/* C=3 */
		{ RK_COLD_START, 800, 3, 6 },	/* R=3 */
		{ RK_RESTART, 800, 4, 7 },	/* C=4 */
		{ RK_COLD_START, 1600, 4, 8 },	/* R=4 */
	};
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;
	size_t i;
	char what[64];

	recovery_init(&r, &p, 7);
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (i > 0) {
			start_attempt(&r, &now, i, steps[i - 1].kind);
			if (i % 2)
				recovery_on_started(&r, now);
			now += 10;
		}
		dec = recovery_on_failure(&r, now, steps[i].kind, i + 1, 0);
		snprintf(what, sizeof what, "step %zu", i);
		expect_scheduled(&r, dec, now, steps[i].delay, steps[i].kind,
		    what);
		ck_assert_int_eq(recovery_consecutive(&r),
		    steps[i].consecutive);
		ck_assert_uint_eq(recovery_failed_total(&r), steps[i].total);
	}

	/* Three failed restarts leave the cold-start delay at its base. */
	recovery_init(&r, &p, 9);
	now = T0;
	dec = recovery_on_failure(&r, now, RK_RESTART, 1, 0);
	expect_scheduled(&r, dec, now, 100, RK_RESTART, "unhealthy");
	for (i = 1; i <= 3; i++) {
		start_attempt(&r, &now, i, RK_RESTART);
		dec = recovery_on_failure(&r, now, RK_RESTART, i + 1, 0);
		expect_scheduled(&r, dec, now, 100 << i, RK_RESTART,
		    "restart failed");
	}
	start_attempt(&r, &now, 4, RK_RESTART);
	recovery_on_started(&r, now);
	now += 10;
	dec = recovery_on_failure(&r, now, RK_COLD_START, 5, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START,
	    "dead VM after failed restarts");
	ck_assert_int_eq(recovery_consecutive(&r), 4);
	ck_assert_uint_eq(recovery_failed_total(&r), 4);
}
END_TEST

/*
 * A decision made for a VM that has since been replaced is dropped at due
 * time (stale-recovery-source), and so is one for a zone no longer wanted;
 * neither starts anything nor counts as a failed recovery.
 */
START_TEST(test_recovery_stale_source_dropped)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;
	int wanted;

	for (wanted = 1; wanted >= 0; wanted--) {
		recovery_init(&r, &p, 7);
		dec = recovery_on_failure(&r, now, RK_COLD_START, 0xa, 0);
		ck_assert_int_eq(dec.action, RA_SCHEDULE);
		dec = recovery_on_due(&r, recovery_next(&r),
		    wanted ? 0xb : 0xa, wanted, 0);
		ck_assert_msg(dec.action == RA_DROP,
		    "wanted %d: action %d, not RA_DROP", wanted, dec.action);
		ck_assert_ptr_nonnull(dec.why);
		ck_assert_str_eq(dec.why, "stale-recovery-source");
		ck_assert_int_eq(r.state, RS_IDLE);
		ck_assert_int_eq(recovery_next(&r), -1);
		ck_assert_int_eq(recovery_consecutive(&r), 0);
		ck_assert_uint_eq(recovery_failed_total(&r), 0);
		/* Nothing left to come due. */
		dec = recovery_on_due(&r, now + 1000000, 0xa, 1, 0);
		ck_assert_int_eq(dec.action, RA_NONE);
	}
}
END_TEST

/*
 * A failure of another VM while an attempt is scheduled replaces it (one
 * attempt, for the newest failure, not a failed recovery); the same
 * failure reported again changes nothing: never two attempts for one.
 */
START_TEST(test_recovery_new_source_replaces_scheduled)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0, due;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 0xa, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "failure of A");
	now += 50;
	dec = recovery_on_failure(&r, now, RK_COLD_START, 0xb, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "failure of B");
	ck_assert_uint_eq(r.source, 0xb);
	ck_assert_int_eq(recovery_consecutive(&r), 0);
	ck_assert_uint_eq(recovery_failed_total(&r), 0);

	/* B again, before and at its due time: nothing new. */
	due = recovery_next(&r);
	dec = recovery_on_failure(&r, now + 1, RK_COLD_START, 0xb, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_SCHEDULED);
	ck_assert_int_eq(recovery_next(&r), due);
	ck_assert_uint_eq(r.source, 0xb);
	dec = recovery_on_failure(&r, due, RK_COLD_START, 0xb, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(recovery_next(&r), due);

	/* One attempt, for B; A's decision is gone. */
	dec = recovery_on_due(&r, due, 0xb, 1, 0);
	ck_assert_int_eq(dec.action, RA_START);
	ck_assert_int_eq(r.state, RS_IN_FLIGHT);
	dec = recovery_on_due(&r, due, 0xb, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	dec = recovery_on_due(&r, due + 1000, 0xb, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_IN_FLIGHT);
	ck_assert_int_eq(recovery_failed_total(&r), 0);

	/* A replaced schedule is not executed for the old source. */
	recovery_init(&r, &p, 7);
	recovery_on_failure(&r, T0, RK_COLD_START, 0xa, 0);
	recovery_on_failure(&r, T0 + 1, RK_COLD_START, 0xb, 0);
	dec = recovery_on_due(&r, recovery_next(&r), 0xa, 1, 0);
	ck_assert_int_eq(dec.action, RA_DROP);
}
END_TEST

/*
 * While the supervisor stops nothing is scheduled and nothing starts: not
 * a new failure, not an attempt that comes due, not a suspension's end.
 */
START_TEST(test_recovery_shutdown_starts_nothing)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;
	uint64_t src = 0;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 1);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);

	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	ck_assert_int_eq(dec.action, RA_SCHEDULE);
	dec = recovery_on_due(&r, recovery_next(&r), 1, 1, 1);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);
	dec = recovery_on_due(&r, now + 1000000, 1, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);

	/* An attempt under way fails while stopping: no new one. */
	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_RESTART, 1, 0);
	start_attempt(&r, &now, 1, RK_RESTART);
	dec = recovery_on_failure(&r, now, RK_RESTART, 2, 1);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_ne(r.state, RS_SCHEDULED);

	/* A suspension ends while stopping: nothing starts. */
	recovery_init(&r, &p, 7);
	now = T0;
	fail_recoveries(&r, &now, &src, RK_COLD_START,
	    p.max_failed_recoveries - 1);
	start_attempt(&r, &now, src, RK_COLD_START);
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);
	dec = recovery_on_due(&r, recovery_next(&r), src, 1, 1);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_ne(r.state, RS_IN_FLIGHT);
}
END_TEST

/* The whole state the policy keeps must equal the snapshot's. */
static void
expect_unchanged(const struct recovery *r, const struct recovery *old)
{
	ck_assert_int_eq(r->state, old->state);
	ck_assert_int_eq(r->kind, old->kind);
	ck_assert_uint_eq(r->source, old->source);
	ck_assert_int_eq(r->at, old->at);
	ck_assert_int_eq(r->budget[RK_COLD_START].consecutive,
	    old->budget[RK_COLD_START].consecutive);
	ck_assert_int_eq(r->budget[RK_RESTART].consecutive,
	    old->budget[RK_RESTART].consecutive);
	ck_assert_uint_eq(r->budget[RK_COLD_START].failed,
	    old->budget[RK_COLD_START].failed);
	ck_assert_uint_eq(r->budget[RK_RESTART].failed,
	    old->budget[RK_RESTART].failed);
	ck_assert_uint_eq(r->rng, old->rng);
	ck_assert_uint_eq(r->suspensions, old->suspensions);
}

/* recovery_on_due before the due time is a no-op, in every timed state. */
START_TEST(test_recovery_not_due_changes_nothing)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r, old;
	int64_t now = T0;
	uint64_t src = 0;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	ck_assert_int_eq(dec.action, RA_SCHEDULE);
	old = r;
	dec = recovery_on_due(&r, recovery_next(&r) - 1, 1, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	expect_unchanged(&r, &old);
	dec = recovery_on_due(&r, now, 2, 0, 1);	/* not even a drop */
	ck_assert_int_eq(dec.action, RA_NONE);
	expect_unchanged(&r, &old);

	start_attempt(&r, &now, 1, RK_COLD_START);
	recovery_on_started(&r, now);
	old = r;
	dec = recovery_on_due(&r, now + p.stable_after_ms - 1, 1, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	expect_unchanged(&r, &old);

	recovery_init(&r, &p, 7);
	now = T0;
	fail_recoveries(&r, &now, &src, RK_COLD_START,
	    p.max_failed_recoveries - 1);
	start_attempt(&r, &now, src, RK_COLD_START);
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);
	old = r;
	dec = recovery_on_due(&r, recovery_next(&r) - 1, src, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	expect_unchanged(&r, &old);
}
END_TEST

/*
 * An operator's start, stop or restart cancels a scheduled attempt and
 * lifts a suspension; the next failure is a first failure again.
 */
START_TEST(test_recovery_operator_cancels_and_lifts)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0, due;
	uint64_t src = 0;

	recovery_init(&r, &p, 7);
	dec = recovery_on_failure(&r, now, RK_COLD_START, 1, 0);
	ck_assert_int_eq(dec.action, RA_SCHEDULE);
	due = recovery_next(&r);
	recovery_on_operator(&r);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);
	dec = recovery_on_due(&r, due, 1, 1, 0);
	ck_assert_int_eq(dec.action, RA_NONE);
	ck_assert_int_eq(r.state, RS_IDLE);

	recovery_init(&r, &p, 7);
	now = T0;
	fail_recoveries(&r, &now, &src, RK_COLD_START,
	    p.max_failed_recoveries - 1);
	start_attempt(&r, &now, src, RK_COLD_START);
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);
	now += 1000;
	recovery_on_operator(&r);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);
	ck_assert_int_eq(recovery_consecutive(&r), 0);
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START,
	    "failure after zonectl start");
}
END_TEST

/*
 * zonectl reset says whether it had anything to forget: 1 for a
 * suspension or failed recoveries, 0 for an idle policy without failures;
 * after it, the next failure is a first failure.
 */
START_TEST(test_recovery_reset_reports)
{
	struct recovery_policy p = test_policy();
	struct recovery_decision dec;
	struct recovery r;
	int64_t now = T0;
	uint64_t src = 0;

	recovery_init(&r, &p, 7);
	ck_assert_int_eq(recovery_reset(&r), 0);
	ck_assert_int_eq(r.state, RS_IDLE);

	/* Two failed recoveries to forget. */
	fail_recoveries(&r, &now, &src, RK_RESTART, 2);
	ck_assert_int_eq(recovery_consecutive(&r), 2);
	ck_assert_int_eq(recovery_reset(&r), 1);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_consecutive(&r), 0);
	ck_assert_int_eq(recovery_reset(&r), 0);
	dec = recovery_on_failure(&r, now, RK_RESTART, ++src, 0);
	expect_scheduled(&r, dec, now, 100, RK_RESTART, "after reset");

	/* A suspension to lift. */
	recovery_init(&r, &p, 7);
	now = T0;
	fail_recoveries(&r, &now, &src, RK_COLD_START,
	    p.max_failed_recoveries - 1);
	start_attempt(&r, &now, src, RK_COLD_START);
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	ck_assert_int_eq(dec.action, RA_SUSPEND);
	ck_assert_int_eq(recovery_reset(&r), 1);
	ck_assert_int_eq(r.state, RS_IDLE);
	ck_assert_int_eq(recovery_next(&r), -1);
	ck_assert_int_eq(recovery_reset(&r), 0);
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "after reset");

	/*
	 * A first failure's recovery, scheduled: nothing to reset, and the
	 * reset leaves it scheduled, due when it was.
	 */
	recovery_init(&r, &p, 7);
	now = T0;
	dec = recovery_on_failure(&r, now, RK_COLD_START, ++src, 0);
	expect_scheduled(&r, dec, now, 100, RK_COLD_START, "first failure");
	ck_assert_int_eq(recovery_reset(&r), 0);
	ck_assert_int_eq(r.state, RS_SCHEDULED);
	ck_assert_int_eq(recovery_next(&r), now + dec.delay_ms);
}
END_TEST

static Suite *
recovery_suite(void)
{
	Suite *s = suite_create("recovery");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_recovery_backoff_doubles_to_cap);
	tcase_add_test(tc, test_recovery_jitter_bounds);
	tcase_add_test(tc, test_recovery_jitter_zero_delay);
	tcase_add_test(tc, test_recovery_jitter_repeatable);
	tcase_add_test(tc, test_recovery_success_resets);
	tcase_add_test(tc, test_recovery_early_death_is_failed_recovery);
	tcase_add_test(tc, test_recovery_death_after_stable_after_is_not_failed);
	tcase_add_test(tc, test_recovery_stable_run_resets_both_budgets);
	tcase_add_test(tc, test_recovery_suspension_decided_once);
	tcase_add_test(tc, test_recovery_suspension_expiry_starts);
	tcase_add_test(tc, test_recovery_suspension_expiry_unwanted);
	tcase_add_test(tc, test_recovery_budgets_separate);
	tcase_add_test(tc, test_recovery_stale_source_dropped);
	tcase_add_test(tc, test_recovery_new_source_replaces_scheduled);
	tcase_add_test(tc, test_recovery_shutdown_starts_nothing);
	tcase_add_test(tc, test_recovery_not_due_changes_nothing);
	tcase_add_test(tc, test_recovery_operator_cancels_and_lifts);
	tcase_add_test(tc, test_recovery_reset_reports);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(recovery_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
