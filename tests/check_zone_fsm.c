/*
 * check_zone_fsm.c: the zone state machine of zone_fsm.c and the actions of
 * zone.c, driven for real in this process with the fake VM.  Every cell of
 * the (state x event) table is exercised: the zone is brought into the
 * state with the data that state has (a VM, an operation in flight), the
 * event is fed, and the state it ends in and what became of the operation
 * are checked against the expectations below.  Then whole scenarios: start,
 * stop, restart, VM death, spawn failure, stop timeout, preflight failure,
 * a late VM after a timed-out restart (closed as stale, never two VMs), and
 * the serialization rules (a stop supersedes a restart in flight and the
 * starts queued before it; later operations wait their turn).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "log.h"
#include "zonevisor.h"
#include "testdir.h"

#define MAX_DONE 16

struct done {
	char	id[OP_ID_MAX];
	int	ok;
	int	error;
};

static struct ev_loop		*loop;
static struct config		 cfg;
static struct zone_config	 zc;
static char			 dir[1024];
static struct done		 done[MAX_DONE];
static int			 ndone;
static int			 nescalations;
static int			 nunsafe;
static ev_signal		 sigchld;
static ev_timer			 tick;
static struct zone		*cur;

/* Zone callbacks: remember what the worker would tell the parent. */
static void
on_report(struct zone *z)
{
}

static void
on_done(struct zone *z, const struct zone_result *res)
{
	ck_assert_int_lt(ndone, MAX_DONE);
	snprintf(done[ndone].id, sizeof done[ndone].id, "%s", res->id);
	done[ndone].ok = res->ok;
	done[ndone].error = res->error;
	ndone++;
}

/* Escalations: a dead VM (counted, with its identity) or owner-unsafe. */
static void
on_escalate(struct zone *z, const struct msg_escalate *esc)
{
	if (esc->error == ERR_OWNER_UNSAFE) {
		ck_assert_int_ne(esc->evidence, EVD_NONE);
		nunsafe++;
		return;
	}
	ck_assert_int_eq(esc->error, ERR_VM_PROCESS_MISSING);
	ck_assert_int_ne(esc->vm.pid, 0);
	ck_assert_uint_ne(esc->vm.start_time, 0);
	nescalations++;
}

static void
sigchld_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	reaper_run();
}

static void
tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
}

/* A zone running the fake VM with extra arguments. */
static struct zone *
make_zone(const char *extra, int64_t stop_timeout_ms)
{
	const char *build = getenv("ZV_BUILDDIR");
	const char *cause;
	static char cmd[4096];
	char path[1200];
	struct zone *z;
	int argc;

	/* Inside this test's directory, which testdir.c removes. */
	ck_assert_int_lt(snprintf(dir, sizeof dir, "%s/z.XXXXXX", tmpdir),
	    (int)sizeof dir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/zones", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = dir;
	memset(&zc, 0, sizeof zc);
	zc.name = "t";
	snprintf(cmd, sizeof cmd, "%s/tests/fake-vm --start-file %s/starts %s",
	    build != NULL ? build : ".", dir, extra);
	zc.command = cmd;
	zc.argv = argv_split(cmd, &argc, &cause);
	ck_assert_ptr_nonnull(zc.argv);
	zc.stop_signal = SIGTERM;
	zc.stop_timeout_ms = stop_timeout_ms;
	zc.log_max_size = 1 << 20;
	zc.log_keep = 1;
	zc.umask = -1;			/* zonevisord's own, as config.c has it */
	zc.limits.nofile = zc.limits.nproc = zc.limits.core = -1;

	loop = ev_loop_new(EVFLAG_AUTO);
	ev_signal_init(&sigchld, sigchld_cb, SIGCHLD);
	ev_signal_start(loop, &sigchld);
	ev_timer_init(&tick, tick_cb, 0.01, 0.01);
	ev_timer_start(loop, &tick);
	z = zone_new(loop, &cfg, &zc);
	z->report = on_report;
	z->op_done = on_done;
	z->escalate = on_escalate;
	cur = z;
	ndone = 0;
	nescalations = 0;
	return z;
}

/* Submit an operation with this id, without a timeout. */
static void
submit(struct zone *z, int kind, const char *id)
{
	zone_submit(z, zone_op_new(z, kind, TRIG_OPERATOR_START, id, 0));
}

/* Run the loop until n operations have ended, for at most 10 s. */
static void
run_until_done(int n)
{
	int64_t deadline = clock_mono_ms() + 10000;

	while (ndone < n && clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_ge(ndone, n);
}

/* Run the loop until the zone is in state, for at most 10 s. */
static void
run_until_state(struct zone *z, int state)
{
	int64_t deadline = clock_mono_ms() + 10000;

	while (z->st.state != state && clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_str_eq(names_state(z->st.state), names_state(state));
}

static int
pid_alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

/* Lines in the fake VM's start file: how many VMs were ever spawned. */
static int
starts(void)
{
	char path[1200], line[128];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/starts", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* After each test: no process the test started survives, its directory goes. */
static void
teardown(void)
{
	pid_t *pids;
	size_t n, i;

	if (cur != NULL && cur->vm.pid != 0)
		kill(-cur->vm.pid, SIGKILL);
	if (proc_children(&pids, &n) == 0) {
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
	}
	testdir_teardown();
}

/* Readiness held back: the zone stays starting until READY is fed. */
static void
hold_ready(struct zone *z)
{
}

/* Children of the test process that are alive (not zombies): its VMs. */
static int
live_vms(void)
{
	pid_t *pids;
	size_t n, i;
	int live = 0;

	if (proc_children(&pids, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		char path[64], buf[512], *p;
		FILE *f;

		snprintf(path, sizeof path, "/proc/%ld/stat", (long)pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] != 'Z')
			live++;
		fclose(f);
	}
	free(pids);
	return live;
}

/* Run the loop until the zone is in state, never seeing two VMs alive. */
static void
run_until_state_one_vm(struct zone *z, int state)
{
	int64_t deadline = clock_mono_ms() + 10000;

	while (z->st.state != state && clock_mono_ms() < deadline) {
		ck_assert_int_le(live_vms(), 1);
		ev_run(loop, EVRUN_ONCE);
	}
	ck_assert_str_eq(names_state(z->st.state), names_state(state));
}

/* The result reported for operation id, or NULL. */
static const struct done *
result_of(const char *id)
{
	int i;

	for (i = 0; i < ndone; i++)
		if (strcmp(done[i].id, id) == 0)
			return &done[i];
	return NULL;
}

/* Run the loop until n VMs have recorded their start (they have set up). */
static void
wait_starts(int n)
{
	int64_t deadline = clock_mono_ms() + 10000;

	while (starts() < n && clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(starts(), n);
}

START_TEST(test_zone_fsm_table_complete)
{
	int s, e;

	for (s = 0; s < ZS__COUNT; s++) {
		for (e = 0; e < ZE__COUNT; e++) {
			const struct zone_fsm_cell *c = &zone_fsm_table[s][e];

			ck_assert_msg(c->action != NULL, "cell %s x %s is empty",
			    names_state(s), names_event(e));
			ck_assert_msg(c->next == ZS_BY_ACTION ||
			    (c->next >= 0 && c->next < ZS__COUNT),
			    "cell %s x %s: bad next", names_state(s),
			    names_event(e));
			/* An ignored event changes nothing. */
			if (c->action == zone_ignore)
				ck_assert_int_eq(c->next, s);
		}
	}
}
END_TEST

START_TEST(test_zone_fsm_table_operator_events_answered)
{
	static const int stable[] = { ZS_STOPPED, ZS_RUNNING, ZS_FAILED };
	static const int ops[] = { ZE_START, ZE_STOP, ZE_RESTART };
	size_t i, j;

	/* At rest, every operation is acted on, never refused or ignored. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			const struct zone_fsm_cell *c =
			    &zone_fsm_table[stable[i]][ops[j]];

			ck_assert(c->action != zone_ignore);
			ck_assert(c->action != zone_refuse);
		}
	/* A stop is taken in every state: it supersedes starts and restarts. */
	for (i = 0; i < ZS__COUNT; i++) {
		ck_assert(zone_fsm_table[i][ZE_STOP].action != zone_ignore);
		ck_assert(zone_fsm_table[i][ZE_STOP].action != zone_refuse);
	}
}
END_TEST

START_TEST(test_zone_fsm_table_vm_exit_never_ignored)
{
	/* Wherever a VM can exist, its exit is acted on. */
	ck_assert(zone_fsm_table[ZS_STARTING][ZE_VM_EXITED].action != zone_ignore);
	ck_assert(zone_fsm_table[ZS_RUNNING][ZE_VM_EXITED].action == zone_vm_lost);
	ck_assert_int_eq(zone_fsm_table[ZS_RUNNING][ZE_VM_EXITED].next, ZS_FAILED);
	ck_assert(zone_fsm_table[ZS_STOPPING][ZE_VM_EXITED].action == zone_closed);
	ck_assert(zone_fsm_table[ZS_RESTARTING][ZE_VM_EXITED].action != zone_ignore);
	/* A VM that survived SIGKILL is still watched while owner-unsafe. */
	ck_assert(zone_fsm_table[ZS_OWNER_UNSAFE][ZE_VM_EXITED].action ==
	    zone_late_exit);
	/* Deadlines only matter while stopping. */
	ck_assert(zone_fsm_table[ZS_STOPPING][ZE_STOP_TIMEOUT].action == zone_kill);
	ck_assert(zone_fsm_table[ZS_STOPPING][ZE_KILL_TIMEOUT].action ==
	    zone_close_failed);
	ck_assert(zone_fsm_table[ZS_RUNNING][ZE_STOP_TIMEOUT].action == zone_ignore);
	/* Spawned and ready are separate events, taken only while starting. */
	ck_assert(zone_fsm_table[ZS_STARTING][ZE_SPAWNED].action ==
	    zone_await_ready);
	ck_assert(zone_fsm_table[ZS_STARTING][ZE_READY].action == zone_started);
	ck_assert(zone_fsm_table[ZS_RUNNING][ZE_READY].action == zone_ignore);
}
END_TEST

START_TEST(test_zone_fsm_start_stop)
{
	struct zone *z = make_zone("", 2000);
	pid_t pid;

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	ck_assert(done[0].ok);
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	ck_assert_int_eq(z->st.desired, ZS_RUNNING);
	pid = z->st.pid;
	ck_assert(pid_alive(pid));
	ck_assert_int_eq(z->st.vm_start != 0, 1);

	submit(z, OP_STOP, "t-stop-1");
	run_until_done(2);
	ck_assert(done[1].ok);
	ck_assert_int_eq(z->st.state, ZS_STOPPED);
	ck_assert_int_eq(z->st.desired, ZS_STOPPED);
	ck_assert_int_eq(z->st.pid, 0);
	ck_assert(!pid_alive(pid));
	ck_assert(zone_at_rest(z));
}
END_TEST

START_TEST(test_zone_fsm_vm_death_escalates)
{
	struct zone *z = make_zone("", 2000);

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	kill(z->st.pid, SIGKILL);
	run_until_state(z, ZS_FAILED);
	ck_assert_int_eq(z->st.error, ERR_VM_PROCESS_MISSING);
	ck_assert(z->st.eligible);
	ck_assert_int_eq(z->st.exit_signal, SIGKILL);
	ck_assert_ptr_nonnull(strstr(z->st.message, "SIGKILL"));
	ck_assert_int_eq(nescalations, 1);
	/* The worker escalates; it never starts a VM on its own. */
	ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(starts(), 1);
	/* An eligible failure may be started again. */
	submit(z, OP_START, "t-start-2");
	run_until_done(2);
	ck_assert(done[1].ok);
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	ck_assert_int_eq(z->st.error, ERR_NONE);
}
END_TEST

START_TEST(test_zone_fsm_restart_replaces_vm)
{
	struct zone *z = make_zone("", 2000);
	pid_t old;

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	old = z->st.pid;
	submit(z, OP_RESTART, "t-restart-1");
	run_until_done(2);
	wait_starts(2);
	ck_assert(done[1].ok);
	ck_assert_str_eq(done[1].id, "t-restart-1");
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	ck_assert_int_ne(z->st.pid, old);
	ck_assert(!pid_alive(old));
	ck_assert_uint_eq(z->st.restarts, 1);
}
END_TEST

START_TEST(test_zone_fsm_restart_of_stopped_zone_starts_it)
{
	struct zone *z = make_zone("", 2000);

	submit(z, OP_RESTART, "t-restart-1");
	run_until_done(1);
	ck_assert(done[0].ok);
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	wait_starts(1);
}
END_TEST

START_TEST(test_zone_fsm_stop_supersedes_restart)
{
	/* The VM ignores SIGTERM, so the restart sits in its stop phase. */
	struct zone *z = make_zone("--ignore-term", 400);
	int i;

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	submit(z, OP_RESTART, "t-restart-1");
	ck_assert_int_eq(z->st.state, ZS_STOPPING);
	submit(z, OP_RESTART, "t-restart-2");	/* queued behind it */
	submit(z, OP_STOP, "t-stop-1");
	submit(z, OP_START, "t-start-2");	/* after the stop: runs */
	run_until_done(5);
	for (i = 0; i < ndone; i++) {
		if (strcmp(done[i].id, "t-restart-1") == 0 ||
		    strcmp(done[i].id, "t-restart-2") == 0) {
			ck_assert(!done[i].ok);
			ck_assert_int_eq(done[i].error, ERR_SUPERSEDED);
		} else
			ck_assert_msg(done[i].ok, "%s failed", done[i].id);
	}
	ck_assert_str_eq(done[4].id, "t-start-2");
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	/* One VM for the start, none for the superseded restarts, one more. */
	wait_starts(2);
}
END_TEST

START_TEST(test_zone_fsm_stop_timeout_kills)
{
	struct zone *z = make_zone("--ignore-term", 300);
	int64_t t0;

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	t0 = clock_mono_ms();
	submit(z, OP_STOP, "t-stop-1");
	run_until_done(2);
	ck_assert_int_ge(clock_mono_ms() - t0, 290);
	ck_assert(done[1].ok);
	ck_assert_int_eq(z->st.state, ZS_STOPPED);
	ck_assert_int_eq(z->st.exit_signal, SIGKILL);
}
END_TEST

START_TEST(test_zone_fsm_spawn_failure)
{
	struct zone *z = make_zone("", 2000);

	argv_free(zc.argv);
	zc.argv = calloc(2, sizeof *zc.argv);
	zc.argv[0] = strdup("/nonexistent/vm");
	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	ck_assert(!done[0].ok);
	ck_assert_int_eq(done[0].error, ERR_VM_SPAWN_FAILED);
	ck_assert_int_eq(z->st.state, ZS_FAILED);
	ck_assert(z->st.eligible);
	ck_assert_ptr_nonnull(strstr(z->st.message, "ENOENT"));
	ck_assert_int_eq(nescalations, 0);
	/* A stop of the failed zone settles it as stopped. */
	submit(z, OP_STOP, "t-stop-1");
	run_until_done(2);
	ck_assert(done[1].ok);
	ck_assert_int_eq(z->st.state, ZS_STOPPED);
	ck_assert_int_eq(z->st.error, ERR_NONE);
}
END_TEST

START_TEST(test_zone_fsm_shutdown_refuses_new_operations)
{
	struct zone *z = make_zone("", 2000);

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	zone_shutdown(z);
	submit(z, OP_START, "t-start-2");
	run_until_done(3);
	ck_assert_int_eq(z->st.state, ZS_STOPPED);
	ck_assert(zone_at_rest(z));
	ck_assert_int_eq(starts(), 1);
	ck_assert(!done[1].ok || !done[2].ok);
}
END_TEST


/* What became of the operation a cell concerns. */
enum expect_op {
	OPX_NONE,		/* no operation involved */
	OPX_PENDING,	/* still in flight, unanswered */
	OPX_OK,		/* answered: finished */
	OPX_FAILED,	/* answered: failed */
	OPX_SUPERSEDED	/* the one in flight failed superseded; the stop is in flight */
};

struct cell_expect {
	int	state;
	int	event;
	int	final;		/* the state once the event and what it posts ran */
	int	op;		/* enum expect_op */
};

/*
 * Every cell that is not an "ignore" cell, with what it must do.  Cells
 * not listed must ignore their event: same state, operation untouched.
 */
static const struct cell_expect cell_expectations[] = {
	{ ZS_STOPPED, ZE_START, ZS_RUNNING, OPX_OK },
	{ ZS_STOPPED, ZE_STOP, ZS_STOPPED, OPX_OK },
	{ ZS_STOPPED, ZE_RESTART, ZS_RUNNING, OPX_OK },
	{ ZS_STOPPED, ZE_OWNER_UNSAFE, ZS_OWNER_UNSAFE, OPX_NONE },

	{ ZS_STARTING, ZE_START, ZS_STARTING, OPX_FAILED },
	{ ZS_STARTING, ZE_STOP, ZS_STOPPING, OPX_SUPERSEDED },
	{ ZS_STARTING, ZE_RESTART, ZS_STARTING, OPX_FAILED },
	{ ZS_STARTING, ZE_GENERATION_STALE, ZS_STOPPING, OPX_PENDING },
	{ ZS_STARTING, ZE_SPAWNED, ZS_STARTING, OPX_PENDING },
	{ ZS_STARTING, ZE_SPAWN_FAILED, ZS_FAILED, OPX_FAILED },
	{ ZS_STARTING, ZE_READY, ZS_RUNNING, OPX_OK },
	{ ZS_STARTING, ZE_VM_EXITED, ZS_FAILED, OPX_FAILED },
	{ ZS_STARTING, ZE_OP_TIMEOUT, ZS_STARTING, OPX_FAILED },
	{ ZS_STARTING, ZE_READY_TIMEOUT, ZS_STOPPING, OPX_PENDING },

	{ ZS_RUNNING, ZE_START, ZS_RUNNING, OPX_OK },
	{ ZS_RUNNING, ZE_STOP, ZS_STOPPING, OPX_PENDING },
	{ ZS_RUNNING, ZE_RESTART, ZS_STOPPING, OPX_PENDING },
	{ ZS_RUNNING, ZE_PREFLIGHT_PASSED, ZS_RUNNING, OPX_NONE },
	{ ZS_RUNNING, ZE_PREFLIGHT_FAILED, ZS_RUNNING, OPX_NONE },
	{ ZS_RUNNING, ZE_VM_EXITED, ZS_FAILED, OPX_NONE },
	{ ZS_RUNNING, ZE_OP_TIMEOUT, ZS_RUNNING, OPX_NONE },
	{ ZS_RUNNING, ZE_PROBE_FAILED, ZS_RUNNING_DEGRADED, OPX_NONE },

	{ ZS_RUNNING_DEGRADED, ZE_START, ZS_RUNNING_DEGRADED, OPX_OK },
	{ ZS_RUNNING_DEGRADED, ZE_STOP, ZS_STOPPING, OPX_PENDING },
	{ ZS_RUNNING_DEGRADED, ZE_RESTART, ZS_STOPPING, OPX_PENDING },
	{ ZS_RUNNING_DEGRADED, ZE_PREFLIGHT_PASSED, ZS_RUNNING, OPX_NONE },
	{ ZS_RUNNING_DEGRADED, ZE_PREFLIGHT_FAILED, ZS_RUNNING_DEGRADED, OPX_NONE },
	{ ZS_RUNNING_DEGRADED, ZE_VM_EXITED, ZS_FAILED, OPX_NONE },
	{ ZS_RUNNING_DEGRADED, ZE_OP_TIMEOUT, ZS_RUNNING_DEGRADED, OPX_NONE },
	{ ZS_RUNNING_DEGRADED, ZE_PROBE_FAILED, ZS_RUNNING_DEGRADED, OPX_NONE },
	{ ZS_RUNNING_DEGRADED, ZE_PROBE_PASSED, ZS_RUNNING, OPX_NONE },

	{ ZS_STOPPING, ZE_START, ZS_STOPPING, OPX_FAILED },
	{ ZS_STOPPING, ZE_STOP, ZS_STOPPING, OPX_SUPERSEDED },
	{ ZS_STOPPING, ZE_RESTART, ZS_STOPPING, OPX_FAILED },
	{ ZS_STOPPING, ZE_VM_EXITED, ZS_STOPPED, OPX_OK },
	{ ZS_STOPPING, ZE_STOP_TIMEOUT, ZS_STOPPING, OPX_PENDING },
	{ ZS_STOPPING, ZE_KILL_TIMEOUT, ZS_OWNER_UNSAFE, OPX_FAILED },
	{ ZS_STOPPING, ZE_OP_TIMEOUT, ZS_STOPPING, OPX_FAILED },

	{ ZS_RESTARTING, ZE_START, ZS_RESTARTING, OPX_FAILED },
	{ ZS_RESTARTING, ZE_STOP, ZS_STOPPING, OPX_SUPERSEDED },
	{ ZS_RESTARTING, ZE_RESTART, ZS_RESTARTING, OPX_FAILED },
	{ ZS_RESTARTING, ZE_CHECKPOINT_PASSED, ZS_STOPPING, OPX_PENDING },
	{ ZS_RESTARTING, ZE_GENERATION_STALE, ZS_RUNNING, OPX_FAILED },
	{ ZS_RESTARTING, ZE_VM_EXITED, ZS_RUNNING, OPX_OK },
	{ ZS_RESTARTING, ZE_OP_TIMEOUT, ZS_RESTARTING, OPX_FAILED },

	{ ZS_FAILED, ZE_START, ZS_RUNNING, OPX_OK },
	{ ZS_FAILED, ZE_STOP, ZS_STOPPED, OPX_OK },
	{ ZS_FAILED, ZE_RESTART, ZS_RUNNING, OPX_OK },
	{ ZS_FAILED, ZE_OWNER_UNSAFE, ZS_OWNER_UNSAFE, OPX_NONE },

	{ ZS_OWNER_UNSAFE, ZE_START, ZS_OWNER_UNSAFE, OPX_FAILED },
	{ ZS_OWNER_UNSAFE, ZE_STOP, ZS_OWNER_UNSAFE, OPX_OK },
	{ ZS_OWNER_UNSAFE, ZE_RESTART, ZS_OWNER_UNSAFE, OPX_FAILED },
	{ ZS_OWNER_UNSAFE, ZE_VM_EXITED, ZS_STOPPED, OPX_NONE },
	{ ZS_OWNER_UNSAFE, ZE_OWNER_UNSAFE, ZS_OWNER_UNSAFE, OPX_NONE },

	{ ZS_STOPPED, ZE_RESET, ZS_STOPPED, OPX_OK },
	{ ZS_STARTING, ZE_RESET, ZS_STARTING, OPX_FAILED },
	{ ZS_RUNNING, ZE_RESET, ZS_RUNNING, OPX_OK },
	{ ZS_RUNNING_DEGRADED, ZE_RESET, ZS_RUNNING_DEGRADED, OPX_OK },
	{ ZS_STOPPING, ZE_RESET, ZS_STOPPING, OPX_FAILED },
	{ ZS_RESTARTING, ZE_RESET, ZS_RESTARTING, OPX_FAILED },
	{ ZS_FAILED, ZE_RESET, ZS_FAILED, OPX_OK },
	{ ZS_OWNER_UNSAFE, ZE_RESET, ZS_STOPPED, OPX_OK },
};

/*
 * Bring a new zone into state s with the data that state has: a VM where
 * the state holds one, the operation in flight where there is one (its id
 * goes to op_id, else "").
 */
static struct zone *
enter_state(int s, char *op_id, size_t len)
{
	struct zone *z;
	struct zone_op *op;

	op_id[0] = '\0';
	z = make_zone(s == ZS_STOPPING ? "--ignore-term" : "", 5000);
	switch (s) {
	case ZS_STOPPED:
		break;
	case ZS_OWNER_UNSAFE:
		z->new_evidence = EVD_STALE_RUNTIME_RECORD;
		snprintf(z->new_evidence_detail, sizeof z->new_evidence_detail,
		    "test evidence");
		zone_fsm_feed(z, ZE_OWNER_UNSAFE);
		break;
	case ZS_STARTING:
		z->await_ready = hold_ready;
		submit(z, OP_START, "t-setup-start");
		wait_starts(1);
		snprintf(op_id, len, "t-setup-start");
		break;
	default:
		submit(z, OP_START, "t-setup-start");
		run_until_done(1);
		wait_starts(1);
		break;
	}
	switch (s) {
	case ZS_RUNNING_DEGRADED:
		zone_fsm_feed(z, ZE_PROBE_FAILED);
		break;
	case ZS_STOPPING:
		submit(z, OP_STOP, "t-setup-stop");
		snprintf(op_id, len, "t-setup-stop");
		break;
	case ZS_RESTARTING:
		/* A restart that passed its preflight, before the close. */
		op = zone_op_new(z, OP_RESTART, TRIG_OPERATOR_RESTART,
		    "t-setup-restart", 0);
		op->generation = ++z->st.generation;
		z->op = op;
		z->st.state = ZS_RESTARTING;
		snprintf(op_id, len, "t-setup-restart");
		break;
	case ZS_FAILED:
		kill(z->st.pid, SIGKILL);
		run_until_state(z, ZS_FAILED);
		break;
	}
	ck_assert_str_eq(names_state(z->st.state), names_state(s));
	ndone = 0;
	return z;
}

/*
 * Feed event e the way it arrives in life: operations through
 * zone_submit (a stop with one in flight as the superseding stop), a VM's
 * exit by killing the VM, everything else directly.  A start or restart
 * while an operation is in flight never reaches the machine in life (it is
 * queued); it is fed directly here to reach its cell.  The id of a new
 * operation goes to op_id, else "".
 */
static void
feed_event(struct zone *z, int e, char *op_id, size_t len)
{
	int kind;
	pid_t pid;
	int64_t deadline;

	op_id[0] = '\0';
	if (e == ZE_START || e == ZE_STOP || e == ZE_RESTART || e == ZE_RESET) {
		kind = e == ZE_START ? OP_START : e == ZE_STOP ? OP_STOP :
		    e == ZE_RESET ? OP_RESET : OP_RESTART;
		if (z->op == NULL) {
			snprintf(op_id, len, "t-cell-%s", names_operation(kind));
			submit(z, kind, op_id);
		} else if (e == ZE_STOP) {
			snprintf(op_id, len, "t-cell-stop");
			z->incoming = zone_op_new(z, OP_STOP, TRIG_OPERATOR_STOP,
			    op_id, 0);
			zone_fsm_feed(z, ZE_STOP);
		} else
			zone_fsm_feed(z, e);
		return;
	}
	if (e == ZE_VM_EXITED && z->vm.pid != 0) {
		pid = z->vm.pid;
		kill(pid, SIGKILL);
		deadline = clock_mono_ms() + 5000;
		while (z->vm.exited_pid != pid && clock_mono_ms() < deadline)
			ev_run(loop, EVRUN_ONCE);
		ck_assert_int_eq(z->vm.exited_pid, pid);
		return;
	}
	if (e == ZE_OWNER_UNSAFE) {
		z->new_evidence = EVD_RECORD_PARSE_ERROR;
		snprintf(z->new_evidence_detail, sizeof z->new_evidence_detail,
		    "more test evidence");
	}
	zone_fsm_feed(z, e);
}

/* Cell i of the table (state i / ZE__COUNT, event i % ZE__COUNT). */
START_TEST(test_zone_fsm_every_cell)
{
	int s = _i / ZE__COUNT, e = _i % ZE__COUNT;
	const struct cell_expect *x = NULL;
	char setup_op[OP_ID_MAX], new_op[OP_ID_MAX];
	const struct done *res;
	const char *which;
	struct zone *z;
	size_t k;
	int want_op;

	for (k = 0; k < sizeof cell_expectations / sizeof cell_expectations[0];
	    k++)
		if (cell_expectations[k].state == s &&
		    cell_expectations[k].event == e)
			x = &cell_expectations[k];
	if (x == NULL)
		ck_assert_msg(zone_fsm_table[s][e].action == zone_ignore,
		    "%s x %s is not an ignore cell but has no expectation",
		    names_state(s), names_event(e));
	else
		ck_assert_msg(zone_fsm_table[s][e].action != zone_ignore,
		    "%s x %s is an ignore cell", names_state(s), names_event(e));

	z = enter_state(s, setup_op, sizeof setup_op);
	feed_event(z, e, new_op, sizeof new_op);

	ck_assert_msg(z->st.state == (x != NULL ? x->final : s),
	    "%s x %s ended %s", names_state(s), names_event(e),
	    names_state(z->st.state));
	want_op = x != NULL ? x->op : setup_op[0] != '\0' ? OPX_PENDING : OPX_NONE;
	which = new_op[0] != '\0' && want_op != OPX_SUPERSEDED ? new_op : setup_op;
	res = which[0] != '\0' ? result_of(which) : NULL;
	switch (want_op) {
	case OPX_NONE:
		ck_assert_msg(ndone == 0, "%s x %s answered %s", names_state(s),
		    names_event(e), done[0].id);
		break;
	case OPX_PENDING:
		ck_assert_msg(res == NULL && z->op != NULL &&
		    strcmp(z->op->id, which) == 0 && !z->op->answered,
		    "%s x %s: %s is not in flight", names_state(s),
		    names_event(e), which);
		break;
	case OPX_OK:
	case OPX_FAILED:
		ck_assert_msg(res != NULL, "%s x %s: %s not answered",
		    names_state(s), names_event(e), which);
		ck_assert_msg(res->ok == (want_op == OPX_OK), "%s x %s: %s %s",
		    names_state(s), names_event(e), which,
		    res->ok ? "finished" : "failed");
		break;
	case OPX_SUPERSEDED:
		ck_assert(res != NULL && !res->ok &&
		    res->error == ERR_SUPERSEDED);
		ck_assert(z->op != NULL && strcmp(z->op->id, new_op) == 0);
		break;
	}
}
END_TEST

START_TEST(test_zone_fsm_late_vm_closed_stale)
{
	struct zone *z = make_zone("", 2000);
	struct zone_op *op;
	pid_t old;

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	old = z->st.pid;
	/* The new VM will not become ready before the restart times out. */
	z->await_ready = hold_ready;
	op = zone_op_new(z, OP_RESTART, TRIG_OPERATOR_RESTART, "t-restart-1", 300);
	zone_submit(z, op);
	run_until_state_one_vm(z, ZS_STARTING);
	ck_assert(!pid_alive(old));
	wait_starts(2);
	while (ndone < 2) {
		ck_assert_int_le(live_vms(), 1);
		ev_run(loop, EVRUN_ONCE);
	}
	ck_assert_str_eq(done[1].id, "t-restart-1");
	ck_assert(!done[1].ok);
	ck_assert_int_eq(done[1].error, ERR_RECOVERY_TIMEOUT);
	/* The timed-out restart still holds the zone until its VM settles. */
	ck_assert_int_eq(z->st.state, ZS_STARTING);
	ck_assert_ptr_nonnull(z->op);
	/* The VM comes up late: it is closed, never installed. */
	zone_fsm_feed(z, ZE_READY);
	ck_assert_int_eq(z->st.state, ZS_STOPPING);
	run_until_state_one_vm(z, ZS_FAILED);
	ck_assert_int_eq(z->st.error, ERR_STALE_GENERATION_CLOSED);
	ck_assert(z->st.eligible);
	ck_assert_int_eq(live_vms(), 0);
	ck_assert_ptr_null(z->op);
	ck_assert_int_eq(ndone, 2);	/* answered once, not again */
}
END_TEST

START_TEST(test_zone_fsm_restart_stop_phase_timeout)
{
	/* The old VM takes 1 s to die; the restart may take 300 ms. */
	struct zone *z = make_zone("--ignore-term", 1000);

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	zone_submit(z, zone_op_new(z, OP_RESTART, TRIG_OPERATOR_RESTART,
	    "t-restart-1", 300));
	run_until_done(2);
	ck_assert_int_eq(done[1].error, ERR_RECOVERY_TIMEOUT);
	ck_assert_int_eq(z->st.state, ZS_STOPPING);
	run_until_state_one_vm(z, ZS_FAILED);
	ck_assert_int_eq(z->st.error, ERR_STALE_GENERATION_CLOSED);
	/* The stale restart started nothing. */
	ck_assert_int_eq(starts(), 1);
	ck_assert_int_eq(live_vms(), 0);
}
END_TEST

START_TEST(test_zone_fsm_preflight_failure_keeps_vm)
{
	struct zone *z = make_zone("", 2000);
	char copy[1200], buf[65536];
	const char *build = getenv("ZV_BUILDDIR");
	ssize_t n;
	int in, out;
	pid_t pid;

	/* Run a copy of the fake VM, then take the copy away. */
	snprintf(copy, sizeof copy, "%s/vm", dir);
	snprintf(buf, sizeof buf, "%s/tests/fake-vm", build != NULL ? build : ".");
	in = open(buf, O_RDONLY);
	out = open(copy, O_WRONLY | O_CREAT, 0755);
	ck_assert(in != -1 && out != -1);
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	free(zc.argv[0]);
	zc.argv[0] = strdup(copy);
	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	pid = z->st.pid;
	ck_assert_int_eq(unlink(copy), 0);

	submit(z, OP_RESTART, "t-restart-1");
	run_until_done(2);
	ck_assert(!done[1].ok);
	ck_assert_int_eq(done[1].error, ERR_VM_SPAWN_FAILED);
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	ck_assert_int_eq(z->st.pid, pid);
	ck_assert(pid_alive(pid));
	ck_assert_int_eq(starts(), 1);
}
END_TEST

START_TEST(test_zone_fsm_stale_runtime_record)
{
	struct zone *z = make_zone("", 2000);
	struct runtime_record rr;
	pid_t sleeper;

	/* A live process named by a record of this zone: owner-unsafe. */
	if ((sleeper = fork()) == 0) {
		for (;;)
			pause();
	}
	memset(&rr, 0, sizeof rr);
	snprintf(rr.zone, sizeof rr.zone, "t");
	snprintf(rr.state_dir, sizeof rr.state_dir, "%s", dir);
	snprintf(rr.boot_id, sizeof rr.boot_id, "%s", runtime_boot_id());
	snprintf(rr.op_id, sizeof rr.op_id, "t-start-earlier");
	snprintf(rr.command_digest, sizeof rr.command_digest, "0");
	rr.vm_pid = sleeper;
	usleep(10000);
	ck_assert_int_eq(proc_start_time(sleeper, &rr.vm_start_time), 0);
	ck_assert_int_eq(runtime_write(z->runtime_path, &rr), 0);
	zone_check_runtime(z);
	ck_assert_int_eq(z->st.state, ZS_OWNER_UNSAFE);
	ck_assert_int_eq(z->st.evidence, EVD_STALE_RUNTIME_RECORD);
	ck_assert(!z->st.eligible);
	ck_assert_int_eq(nunsafe, 1);	/* escalated to the parent */
	submit(z, OP_START, "t-start-1");
	ck_assert(!done[0].ok);
	ck_assert_int_eq(done[0].error, ERR_OWNER_UNSAFE);
	ck_assert_int_eq(starts(), 0);
	ck_assert(pid_alive(sleeper));	/* nothing was signalled */
	ck_assert_int_eq(access(z->runtime_path, F_OK), 0);
}
END_TEST

START_TEST(test_zone_fsm_dead_runtime_record_deleted)
{
	struct zone *z = make_zone("", 2000);
	struct runtime_record rr;

	memset(&rr, 0, sizeof rr);
	snprintf(rr.zone, sizeof rr.zone, "t");
	snprintf(rr.state_dir, sizeof rr.state_dir, "%s", dir);
	snprintf(rr.boot_id, sizeof rr.boot_id, "%s", runtime_boot_id());
	snprintf(rr.op_id, sizeof rr.op_id, "t-start-earlier");
	snprintf(rr.command_digest, sizeof rr.command_digest, "0");
	rr.vm_pid = 999999999;
	rr.vm_start_time = 1;
	ck_assert_int_eq(runtime_write(z->runtime_path, &rr), 0);
	zone_check_runtime(z);
	ck_assert_int_eq(z->st.state, ZS_STOPPED);
	ck_assert_int_ne(access(z->runtime_path, F_OK), 0);
	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	ck_assert(done[0].ok);
}
END_TEST

START_TEST(test_zone_fsm_outage_cause_set_once)
{
	struct zone *z = make_zone("", 2000);
	char *real;

	submit(z, OP_START, "t-start-1");
	run_until_done(1);
	wait_starts(1);
	ck_assert_int_eq(z->st.outage, ERR_NONE);
	kill(z->st.pid, SIGKILL);
	run_until_state(z, ZS_FAILED);
	ck_assert_int_eq(z->st.outage, ERR_VM_PROCESS_MISSING);
	/* A later failure does not overwrite the original cause. */
	real = zc.argv[0];
	zc.argv[0] = "/nonexistent/vm";
	submit(z, OP_START, "t-start-2");
	run_until_done(2);
	zc.argv[0] = real;
	ck_assert_int_eq(z->st.error, ERR_VM_SPAWN_FAILED);
	ck_assert_int_eq(z->st.outage, ERR_VM_PROCESS_MISSING);
	/* Healthy again: the outage is over. */
	submit(z, OP_START, "t-start-3");
	run_until_done(3);
	ck_assert_int_eq(z->st.state, ZS_RUNNING);
	ck_assert_int_eq(z->st.outage, ERR_NONE);
}
END_TEST

static Suite *
zone_fsm_suite(void)
{
	Suite *s = suite_create("zone_fsm");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_zone_fsm_table_complete);
	tcase_add_test(tc, test_zone_fsm_table_operator_events_answered);
	tcase_add_test(tc, test_zone_fsm_table_vm_exit_never_ignored);
	suite_add_tcase(s, tc);
	/*
	 * Tags, by which scripts/valgrind picks tests.  fork: a test's zone,
	 * loop (holding SIGCHLD), reaper entries and children are left to the
	 * end of its process, so each needs a process of its own.  vfork: the
	 * test needs a failed exec reported by the child of spawn.c's
	 * clone(CLONE_VM | CLONE_VFORK), through the memory they share.
	 */
	tc = tcase_create("machine");
	tcase_set_tags(tc, "fork");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, testdir_setup, teardown);
	tcase_add_test(tc, test_zone_fsm_start_stop);
	tcase_add_test(tc, test_zone_fsm_vm_death_escalates);
	tcase_add_test(tc, test_zone_fsm_restart_replaces_vm);
	tcase_add_test(tc, test_zone_fsm_restart_of_stopped_zone_starts_it);
	tcase_add_test(tc, test_zone_fsm_stop_supersedes_restart);
	tcase_add_test(tc, test_zone_fsm_stop_timeout_kills);
	tcase_add_test(tc, test_zone_fsm_shutdown_refuses_new_operations);
	tcase_add_test(tc, test_zone_fsm_late_vm_closed_stale);
	tcase_add_test(tc, test_zone_fsm_restart_stop_phase_timeout);
	tcase_add_test(tc, test_zone_fsm_preflight_failure_keeps_vm);
	tcase_add_test(tc, test_zone_fsm_stale_runtime_record);
	tcase_add_test(tc, test_zone_fsm_dead_runtime_record_deleted);
	suite_add_tcase(s, tc);
	tc = tcase_create("spawn-failure");
	tcase_set_tags(tc, "fork vfork");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, testdir_setup, teardown);
	tcase_add_test(tc, test_zone_fsm_spawn_failure);
	tcase_add_test(tc, test_zone_fsm_outage_cause_set_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("cells");
	tcase_set_tags(tc, "fork");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, testdir_setup, teardown);
	tcase_add_loop_test(tc, test_zone_fsm_every_cell, 0,
	    ZS__COUNT * ZE__COUNT);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init(1, LOG_LEVEL_WARN);
	return testdir_run("zone_fsm", zone_fsm_suite());
}
