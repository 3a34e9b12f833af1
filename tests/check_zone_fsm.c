/*
 * check_zone_fsm.c: the zone state machine of zone_fsm.c and the actions of
 * zone.c.  First the table itself, cell by cell against the rules every cell
 * must keep; then the machine driven for real, in this process, with the
 * fake VM: start, stop, restart, VM death, spawn failure, stop timeout, and
 * the serialization rules (a stop supersedes a restart in flight and the
 * starts queued before it; later operations wait their turn).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "log.h"
#include "zonevisor.h"

#define MAX_DONE 16

struct done {
	char	id[OP_ID_MAX];
	int	ok;
	int	error;
};

static struct ev_loop		*loop;
static struct config		 cfg;
static struct zone_config	 zc;
static char			 dir[64];
static struct done		 done[MAX_DONE];
static int			 ndone;
static int			 nescalations;
static ev_signal		 sigchld;
static ev_timer			 tick;
static struct zone		*cur;

/* Zone callbacks: remember what the worker would tell the parent. */
static void
on_report(struct zone *z)
{
}

static void
on_done(struct zone *z, const struct zone_op *op, int ok, int error,
    const char *message)
{
	ck_assert_int_lt(ndone, MAX_DONE);
	snprintf(done[ndone].id, sizeof done[ndone].id, "%s", op->id);
	done[ndone].ok = ok;
	done[ndone].error = error;
	ndone++;
}

static void
on_escalate(struct zone *z, const struct msg_escalate *esc)
{
	ck_assert_int_eq(esc->error, ERR_VM_PROCESS_MISSING);
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
	static char cmd[512];
	char path[128];
	struct zone *z;
	int argc;

	snprintf(dir, sizeof dir, "/tmp/zv-fsm.XXXXXX");
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

/* Submit an operation with id "<name>". */
static void
submit(struct zone *z, int kind, const char *id)
{
	struct zone_op *op = calloc(1, sizeof *op);

	ck_assert_ptr_nonnull(op);
	snprintf(op->id, sizeof op->id, "%s", id);
	op->kind = kind;
	op->trigger = TRIG_OPERATOR_START;
	zone_submit(z, op);
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
	char path[128], line[128];
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

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* After each test: no VM of the test survives, its directory goes. */
static void
teardown(void)
{
	if (cur != NULL && cur->vm.pid != 0)
		kill(-cur->vm.pid, SIGKILL);
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
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
	ck_assert(zone_fsm_table[ZS_FAILED][ZE_VM_EXITED].action != zone_ignore);
	/* Deadlines only matter while stopping. */
	ck_assert(zone_fsm_table[ZS_STOPPING][ZE_STOP_TIMEOUT].action == zone_kill);
	ck_assert(zone_fsm_table[ZS_STOPPING][ZE_KILL_TIMEOUT].action ==
	    zone_close_failed);
	ck_assert(zone_fsm_table[ZS_RUNNING][ZE_STOP_TIMEOUT].action == zone_ignore);
	/* Spawned and ready are separate events, taken only while starting. */
	ck_assert(zone_fsm_table[ZS_STARTING][ZE_SPAWNED].action ==
	    zone_await_ready);
	ck_assert_int_eq(zone_fsm_table[ZS_STARTING][ZE_READY].next, ZS_RUNNING);
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

static Suite *
zone_fsm_suite(void)
{
	Suite *s = suite_create("zone_fsm");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_zone_fsm_table_complete);
	tcase_add_test(tc, test_zone_fsm_table_operator_events_answered);
	tcase_add_test(tc, test_zone_fsm_table_vm_exit_never_ignored);
	suite_add_tcase(s, tc);
	tc = tcase_create("machine");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_zone_fsm_start_stop);
	tcase_add_test(tc, test_zone_fsm_vm_death_escalates);
	tcase_add_test(tc, test_zone_fsm_restart_replaces_vm);
	tcase_add_test(tc, test_zone_fsm_restart_of_stopped_zone_starts_it);
	tcase_add_test(tc, test_zone_fsm_stop_supersedes_restart);
	tcase_add_test(tc, test_zone_fsm_stop_timeout_kills);
	tcase_add_test(tc, test_zone_fsm_spawn_failure);
	tcase_add_test(tc, test_zone_fsm_shutdown_refuses_new_operations);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(zone_fsm_suite());
	int failed;

	log_init(1, LOG_LEVEL_WARN);

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
