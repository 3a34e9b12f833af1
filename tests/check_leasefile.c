/*
 * check_leasefile.c: the record of a tool VM (leasefile.c).  A later worker
 * trusts these records to find tool VMs left behind, so the tests protect
 * that a record reads back exactly as written (mode 0600, no temporary file
 * left), that a damaged record or one with an impossible value (a pid of 0
 * would signal a whole process group; a lease id with a slash would name
 * another file) is refused with a reason, that listing skips temporary
 * files and records set aside, and that a record counts as alive only for
 * the very process it names: same pid, start time and boot.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "zonevisor.h"
#include "log.h"
#include "testdir.h"

/* A record of this very test process, as a worker would write it. */
static void
sample(struct lease_record *lr)
{
	memset(lr, 0, sizeof *lr);
	snprintf(lr->zone, sizeof lr->zone, "alpha");
	snprintf(lr->state_dir, sizeof lr->state_dir, "/var/lib/zonevisor");
	snprintf(lr->boot_id, sizeof lr->boot_id, "%s", runtime_boot_id());
	snprintf(lr->info.id, sizeof lr->info.id,
	    "0f8fad5b-d9cb-469f-a165-70867728950e");
	lr->info.slot = 3;
	lr->info.port = 19003;
	lr->info.state = LS_ACTIVE;
	lr->info.pid = getpid();
	ck_assert_int_eq(proc_start_time(getpid(), &lr->info.start_time), 0);
	snprintf(lr->info.owner, sizeof lr->info.owner, "agent:discord:42");
	lr->info.acquired_at_ms = 1700000000000;
	lr->info.ttl_ms = 1800000;
	lr->worker_pid = 4242;
	lr->supervisor_pid = 4241;
	lr->written_at_ms = 1700000000001;
}

/* Write raw bytes as the file rel of the test directory. */
static void
put(const char *rel, const void *data, size_t len)
{
	int fd = open(testdir_at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

START_TEST(test_leasefile_round_trip)
{
	struct lease_record in, out;
	char path[2048], cause[256];
	struct stat sb;

	sample(&in);
	ck_assert_int_eq(leasefile_write(tmpdir, &in), 0);
	snprintf(path, sizeof path, "%s/%s", tmpdir, in.info.id);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(access(testdir_at("0f8fad5b-d9cb-469f-a165-70867728950e.tmp"),
	    F_OK), -1);
	ck_assert_int_eq(leasefile_read(path, &out, cause, sizeof cause), 0);
	ck_assert_str_eq(out.zone, "alpha");
	ck_assert_str_eq(out.state_dir, "/var/lib/zonevisor");
	ck_assert_str_eq(out.boot_id, in.boot_id);
	ck_assert_str_eq(out.info.id, in.info.id);
	ck_assert_str_eq(out.info.owner, "agent:discord:42");
	ck_assert_int_eq(out.info.slot, 3);
	ck_assert_int_eq(out.info.port, 19003);
	ck_assert_int_eq(out.info.pid, getpid());
	ck_assert_uint_eq(out.info.start_time, in.info.start_time);
	ck_assert_int_eq(out.info.acquired_at_ms, 1700000000000);
	ck_assert_int_eq(out.info.ttl_ms, 1800000);
	ck_assert_int_eq(out.worker_pid, 4242);
	ck_assert_int_eq(out.supervisor_pid, 4241);
	ck_assert_int_eq(out.written_at_ms, 1700000000001);
	ck_assert_int_eq(leasefile_alive(&out), 1);

	ck_assert_int_eq(leasefile_delete(tmpdir, in.info.id), 0);
	ck_assert_int_eq(leasefile_read(path, &out, cause, sizeof cause), 1);
	ck_assert_int_eq(leasefile_delete(tmpdir, in.info.id), 0);
}
END_TEST

/* Bytes that are not a record, each refused with a reason. */
static const struct {
	const char	*bytes;
	size_t		 len;
	const char	*cause;
} damaged[] = {
	{ "", 0, "empty file" },
	{ "\xc1", 1, "" },
	{ "\x93\x01\x02\x03", 4, "not a map" },
	{ "\x81\xa7version\x02", 10, "version 2" },
	{ "\x81\xa7version\x01", 10, "missing or invalid" },
};

START_TEST(test_leasefile_damaged_refused)
{
	struct lease_record out;
	char cause[256] = "";

	put("r", damaged[_i].bytes, damaged[_i].len);
	ck_assert_int_eq(leasefile_read(testdir_at("r"), &out, cause,
	    sizeof cause), -1);
	ck_assert_msg(cause[0] != '\0' && strstr(cause, damaged[_i].cause) != NULL,
	    "cause \"%s\" lacks \"%s\"", cause, damaged[_i].cause);
}
END_TEST

/* Values no tool VM could have. */
START_TEST(test_leasefile_impossible_values_refused)
{
	struct lease_record in, out;
	char path[2048], cause[256];

	sample(&in);
	switch (_i) {
	case 0:
		in.info.pid = 0;
		break;
	case 1:
		in.info.port = 0;
		break;
	case 2:
		snprintf(in.info.id, sizeof in.info.id, "..");
		break;
	}
	if (_i == 2) {
		/* ".." would name the parent directory: nothing is written. */
		ck_assert_int_eq(leasefile_write(tmpdir, &in), -1);
		return;
	}
	ck_assert_int_eq(leasefile_write(tmpdir, &in), 0);
	snprintf(path, sizeof path, "%s/%s", tmpdir, in.info.id);
	ck_assert_int_eq(leasefile_read(path, &out, cause, sizeof cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, _i == 0 ? "vm_pid" : "port"));
}
END_TEST

START_TEST(test_leasefile_slash_in_id_refused)
{
	/* A hand-made record whose lease id would name another file. */
	static const char rec[] = "\x82\xa7version\x01\xa8lease_id\xa4../x";
	struct lease_record out;
	char cause[256];

	put("r", rec, sizeof rec - 1);
	ck_assert_int_eq(leasefile_read(testdir_at("r"), &out, cause,
	    sizeof cause), -1);
}
END_TEST

START_TEST(test_leasefile_list_skips_temporary_and_set_aside)
{
	struct lease_record lr;
	char **paths;
	size_t n;

	ck_assert_int_eq(leasefile_list(testdir_at("none"), &paths, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(paths[0]);
	argv_free(paths);

	sample(&lr);
	ck_assert_int_eq(leasefile_write(tmpdir, &lr), 0);
	put("x.tmp", "", 0);
	put("y.bad", "", 0);
	put(".hidden", "", 0);
	ck_assert_int_eq(leasefile_list(tmpdir, &paths, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(paths[0], lr.info.id));
	ck_assert_ptr_null(paths[1]);
	argv_free(paths);
}
END_TEST

START_TEST(test_leasefile_alive_only_for_that_process)
{
	struct lease_record lr;

	sample(&lr);
	ck_assert_int_eq(leasefile_alive(&lr), 1);
	lr.info.start_time++;		/* the pid was reused */
	ck_assert_int_eq(leasefile_alive(&lr), 0);
	sample(&lr);
	snprintf(lr.boot_id, sizeof lr.boot_id,
	    "00000000-1111-2222-3333-444444444444");
	ck_assert_int_eq(leasefile_alive(&lr), 0);
	sample(&lr);
	lr.info.pid = 4194304 + 1;	/* above any pid_max */
	ck_assert_int_eq(leasefile_alive(&lr), 0);
}
END_TEST

static Suite *
leasefile_suite(void)
{
	Suite *s = suite_create("leasefile");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, testdir_setup, testdir_teardown);
	tcase_add_test(tc, test_leasefile_round_trip);
	tcase_add_loop_test(tc, test_leasefile_damaged_refused, 0,
	    (int)(sizeof damaged / sizeof damaged[0]));
	tcase_add_loop_test(tc, test_leasefile_impossible_values_refused, 0, 3);
	tcase_add_test(tc, test_leasefile_slash_in_id_refused);
	tcase_add_test(tc, test_leasefile_list_skips_temporary_and_set_aside);
	tcase_add_test(tc, test_leasefile_alive_only_for_that_process);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init(1, LOG_LEVEL_ERROR);
	return testdir_run("leasefile", leasefile_suite());
}
