/*
 * check_lease.c: the tool VMs a worker lends out (lease.c), driven for real
 * in this process with the fake VM as tool VM.  The tests protect what an
 * agent and an operator rely on: slots are handed out lowest first, each
 * tool VM on base_port + slot with its tokens substituted, and a full zone
 * refuses with no-free-slot; a release answers only once the tool VM is
 * gone and frees its slot; a lease not renewed expires; a stop releases
 * every lease; and a tool VM that cannot be killed quarantines its slot
 * (the plane turns degraded, a release is refused, the worker does not wait
 * for it) instead of freeing it for a second tool VM on the same port.
 *
 * The last needs a process this test cannot kill: the unchecked fixture,
 * as root, starts one; the test (a forked child) gives up root before its
 * zone adopts that process from a lease record.  Without root it is
 * skipped.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "log.h"
#include "zonevisor.h"
#include "testdir.h"

#define MAX_ANSWERS 16

static struct ev_loop		*loop;
static struct config		 cfg;
static struct zone_config	 zc;
static char			 dir[1024];
static struct msg_lease_done	 answers[MAX_ANSWERS];
static int			 nanswers;
static int			 plane = -1;
static int			 ntable = -1;
static ev_signal		 sigchld;
static ev_timer			 tick;
static struct zone		*cur;
static pid_t			 unkillable;	/* root's, from the fixture */

static void
on_report(struct zone *z)
{
}

static void
on_lease_done(struct zone *z, const struct msg_lease_done *d)
{
	ck_assert_int_lt(nanswers, MAX_ANSWERS);
	answers[nanswers++] = *d;
}

static void
on_leases(struct zone *z, const struct msg_leases *m)
{
	plane = m->plane;
	ntable = (int)m->n;
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

/* A running zone (no gateway VM needed) whose tool VM is the fake VM. */
static struct zone *
make_zone(int max_leases, int64_t idle_ttl_ms)
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
	snprintf(cmd, sizeof cmd, "%s/tests/fake-vm --print port=%%port,"
	    "slot=%%slot,lease=%%lease,zone=%%zone,pct=%%%%",
	    build != NULL ? build : ".");
	zc.command = cmd;
	zc.argv = argv_split(cmd, &argc, &cause);
	ck_assert_ptr_nonnull(zc.argv);
	zc.tool_vm.command = cmd;
	zc.tool_vm.argv = zc.argv;
	zc.tool_vm.max_leases = max_leases;
	zc.tool_vm.base_port = 40000;
	zc.tool_vm.idle_ttl_ms = idle_ttl_ms;
	zc.tool_vm.release_on_restart = 1;
	zc.stop_signal = SIGTERM;
	zc.stop_timeout_ms = 100;
	zc.log_max_size = 1 << 20;
	zc.log_keep = 1;
	zc.umask = -1;
	zc.limits.nofile = zc.limits.nproc = zc.limits.core = -1;

	loop = ev_loop_new(EVFLAG_AUTO);
	ev_signal_init(&sigchld, sigchld_cb, SIGCHLD);
	ev_signal_start(loop, &sigchld);
	ev_timer_init(&tick, tick_cb, 0.01, 0.01);
	ev_timer_start(loop, &tick);
	z = zone_new(loop, &cfg, &zc);
	z->report = on_report;
	z->lease_done = on_lease_done;
	z->leases_report = on_leases;
	z->st.state = ZS_RUNNING;
	cur = z;
	nanswers = 0;
	return z;
}

/* Ask for op (on lease id, unless acquiring) and run until it is answered. */
static const struct msg_lease_done *
ask(struct zone *z, int op, const char *id, int force)
{
	struct msg_lease_op m;
	int64_t deadline = clock_mono_ms() + 10000;
	int before = nanswers;

	memset(&m, 0, sizeof m);
	snprintf(m.id, sizeof m.id, "t-lease-%d", before);
	m.op = op;
	snprintf(m.lease, sizeof m.lease, "%s", id != NULL ? id : "");
	m.force = force;
	lease_request(z, &m);
	while (nanswers == before && clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_gt(nanswers, before);
	ck_assert_str_eq(answers[before].id, m.id);
	return &answers[before];
}

/* Run the loop for ms. */
static void
run_for(int64_t ms)
{
	int64_t deadline = clock_mono_ms() + ms;

	while (clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
}

static int
alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int live = 0;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] != 'Z')
		live = 1;
	fclose(f);
	return live;
}

/* The command line of pid, its words joined by spaces. */
static void
cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
}

/* After each test: no tool VM the test started survives, its directory goes. */
static void
teardown(void)
{
	pid_t *pids;
	size_t n, i;

	if (proc_children(&pids, &n) == 0) {
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
	}
	testdir_teardown();
}

START_TEST(test_lease_slots_lowest_first_then_refused)
{
	struct zone *z = make_zone(2, 60000);
	const struct msg_lease_done *d;
	struct lease_info a, b;
	char want[256], argv[1024];

	d = ask(z, LOP_ACQUIRE, NULL, 0);
	ck_assert_msg(d->ok, "%s: %s", d->code, d->message);
	a = d->lease;
	ck_assert_int_eq(a.slot, 0);
	ck_assert_int_eq(a.port, 40000);
	ck_assert_int_eq(a.state, LS_ACTIVE);
	ck_assert_int_eq(a.ttl_ms, 60000);
	ck_assert_int_eq(a.expires_at_ms, a.acquired_at_ms + 60000);
	ck_assert(alive(a.pid));
	snprintf(want, sizeof want, "port=40000,slot=0,lease=%s,zone=t,pct=%%",
	    a.id);
	cmdline(a.pid, argv, sizeof argv);
	ck_assert_msg(strstr(argv, want) != NULL, "argv \"%s\" lacks \"%s\"",
	    argv, want);

	d = ask(z, LOP_ACQUIRE, NULL, 0);
	ck_assert(d->ok);
	b = d->lease;
	ck_assert_int_eq(b.slot, 1);
	ck_assert_int_eq(b.port, 40001);
	ck_assert_str_ne(a.id, b.id);
	ck_assert_int_eq(ntable, 2);
	ck_assert_int_eq(plane, TP_OK);

	d = ask(z, LOP_ACQUIRE, NULL, 0);
	ck_assert(!d->ok);
	ck_assert_str_eq(d->code, "no-free-slot");
	ck_assert_int_eq(lease_count(z), 2);

	/* Slot 0 freed: the next lease takes it, not slot 2. */
	d = ask(z, LOP_RELEASE, a.id, 0);
	ck_assert(d->ok);
	ck_assert(!alive(a.pid));
	d = ask(z, LOP_ACQUIRE, NULL, 0);
	ck_assert(d->ok);
	ck_assert_int_eq(d->lease.slot, 0);
}
END_TEST

START_TEST(test_lease_renew_release_unknown_and_not_running)
{
	struct zone *z = make_zone(1, 60000);
	const struct msg_lease_done *d;
	struct lease_info a;
	struct msg_lease_op m;

	d = ask(z, LOP_RENEW, "no-such-lease", 0);
	ck_assert_str_eq(d->code, "unknown-lease");
	d = ask(z, LOP_RELEASE, "no-such-lease", 0);
	ck_assert_str_eq(d->code, "unknown-lease");

	a = ask(z, LOP_ACQUIRE, NULL, 0)->lease;
	memset(&m, 0, sizeof m);
	snprintf(m.id, sizeof m.id, "t-renew");
	m.op = LOP_RENEW;
	snprintf(m.lease, sizeof m.lease, "%s", a.id);
	m.ttl_ms = 3600000;
	lease_request(z, &m);
	d = &answers[nanswers - 1];
	ck_assert(d->ok);
	ck_assert_int_eq(d->lease.ttl_ms, 3600000);
	ck_assert_int_ge(d->lease.expires_at_ms, a.acquired_at_ms + 3600000);
	ck_assert_int_gt(d->lease.renewed_at_ms, 0);

	z->st.state = ZS_STARTING;
	lease_release_all(z, LR_STOP);
	run_for(300);
	ck_assert(!alive(a.pid));
	ck_assert_int_eq(lease_count(z), 0);
	d = ask(z, LOP_ACQUIRE, NULL, 0);
	ck_assert_str_eq(d->code, "zone-not-running");
	ck_assert_int_eq(lease_count(z), 0);
}
END_TEST

START_TEST(test_lease_idle_expiry_frees_the_slot)
{
	struct zone *z = make_zone(1, 1000);
	struct lease_info a = ask(z, LOP_ACQUIRE, NULL, 0)->lease;
	int64_t deadline = clock_mono_ms() + 5000;

	run_for(500);
	ck_assert(alive(a.pid));
	while (lease_count(z) > 0 && clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(lease_count(z), 0);
	ck_assert(!alive(a.pid));
	ck_assert(ask(z, LOP_ACQUIRE, NULL, 0)->ok);
}
END_TEST

/* Root starts a process the test will not be able to kill. */
static void
unkillable_start(void)
{
	if (geteuid() != 0)
		return;
	if ((unkillable = fork()) == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
}

static void
unkillable_stop(void)
{
	if (unkillable > 0) {
		kill(unkillable, SIGKILL);
		waitpid(unkillable, NULL, 0);
	}
}

START_TEST(test_lease_unkillable_tool_vm_quarantines_its_slot)
{
	struct lease_record lr;
	struct zone *z;
	const struct msg_lease_done *d;
	char leases[1200];
	int64_t deadline;

	if (unkillable <= 0) {
		fprintf(stderr, "check_lease: not root: quarantine not tested\n");
		return;
	}
	z = make_zone(1, 60000);
	/* A record of an earlier worker naming the process. */
	memset(&lr, 0, sizeof lr);
	snprintf(lr.zone, sizeof lr.zone, "t");
	snprintf(lr.state_dir, sizeof lr.state_dir, "%s", dir);
	snprintf(lr.boot_id, sizeof lr.boot_id, "%s", runtime_boot_id());
	snprintf(lr.info.id, sizeof lr.info.id,
	    "aaaaaaaa-0000-4000-8000-00000000000a");
	lr.info.port = 40000;
	lr.info.pid = unkillable;
	ck_assert_int_eq(proc_start_time(unkillable, &lr.info.start_time), 0);
	snprintf(leases, sizeof leases, "%s/zones/t/leases", dir);
	ck_assert_int_eq(leasefile_write(leases, &lr), 0);
	/*
	 * Readable once root is given up (the records log stays open); the
	 * base directory goes when main(), still root, removes it.
	 */
	snprintf(leases, sizeof leases, "%s", tmpdir);
	ck_assert_int_eq(chmod(leases, 0755), 0);
	*strrchr(leases, '/') = '\0';
	ck_assert_int_eq(chmod(leases, 0755), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(leases, sizeof leases, "%s/zones", dir);
	ck_assert_int_eq(chmod(leases, 0755), 0);
	snprintf(leases, sizeof leases, "%s/zones/t", dir);
	ck_assert_int_eq(chmod(leases, 0755), 0);
	snprintf(leases, sizeof leases, "%s/zones/t/leases", dir);
	ck_assert_int_eq(chmod(leases, 0755), 0);
	snprintf(leases, sizeof leases, "%s/zones/t/leases/%s", dir, lr.info.id);
	ck_assert_int_eq(chmod(leases, 0644), 0);
	ck_assert_int_eq(setresgid(65534, 65534, 65534), 0);
	ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);

	lease_adopt_leftovers(z);
	ck_assert_int_eq(lease_count(z), 1);
	ck_assert(lease_busy(z));	/* a worker waits for it, so far */
	d = ask(z, LOP_ACQUIRE, NULL, 0);	/* its slot is taken */
	ck_assert_str_eq(d->code, "no-free-slot");
	/* stop_timeout (100 ms), then KILL_GRACE_MS after SIGKILL. */
	deadline = clock_mono_ms() + KILL_GRACE_MS + 3000;
	while (plane != TP_FAILED && plane != TP_DEGRADED &&
	    clock_mono_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ck_assert(alive(unkillable));
	/* Its only slot is quarantined: no tool VM can be had. */
	ck_assert_int_eq(plane, TP_FAILED);
	ck_assert_int_eq(lease_count(z), 1);
	ck_assert(!lease_busy(z));	/* a worker may end, leaving it */
	d = ask(z, LOP_RELEASE, lr.info.id, 1);
	ck_assert_str_eq(d->code, "lease-quarantined");
	ck_assert_int_eq(d->lease.state, LS_QUARANTINED);
	d = ask(z, LOP_ACQUIRE, NULL, 0);
	ck_assert_str_eq(d->code, "no-free-slot");
}
END_TEST

static Suite *
lease_suite(void)
{
	Suite *s = suite_create("lease");
	TCase *tc = tcase_create("core");

	/*
	 * fork: each test needs a process of its own (one gives up root, and
	 * the teardown kills every child of the test process); pidfd: they
	 * signal and adopt tool VMs with pidfd_send_signal and pidfd_open.
	 * scripts/valgrind picks tests by these tags.
	 */
	tcase_set_tags(tc, "fork pidfd");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, testdir_setup, teardown);
	tcase_add_unchecked_fixture(tc, unkillable_start, unkillable_stop);
	tcase_add_test(tc, test_lease_slots_lowest_first_then_refused);
	tcase_add_test(tc, test_lease_renew_release_unknown_and_not_running);
	tcase_add_test(tc, test_lease_idle_expiry_frees_the_slot);
	tcase_add_test(tc, test_lease_unkillable_tool_vm_quarantines_its_slot);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init(1, LOG_LEVEL_ERROR);
	return testdir_run("lease", lease_suite());
}
