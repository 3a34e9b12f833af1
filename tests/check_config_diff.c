/*
 * check_config_diff.c: what a reload does about a zone (config_diff.c).
 * These tests protect the promise of a reload: a zone whose file did not
 * change is not touched; a change to anything its VM runs with restarts
 * it; a change to [recovery], [health] or autostart alone is applied
 * without a restart; and the [supervisor] settings fixed at start are
 * told apart from those that may change.  Both sides of each comparison
 * are real configurations loaded from files with config_load, so a key
 * the parser learns but the comparison ignores shows up here.
 *
 * Each test writes its files into a fresh directory (testdir.c) that its
 * teardown removes.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "zonevisor.h"
#include "testdir.h"

/* A zone that sets most keys, so each can be changed on its own. */
#define BASE_ZONE \
	"[gateway]\n" \
	"command = /bin/sleep 1000\n" \
	"cwd = /tmp\n" \
	"autostart = yes\n" \
	"stop_signal = SIGTERM\n" \
	"stop_timeout = 5s\n" \
	"start_timeout = 60s\n" \
	"ingress_port = 18080\n" \
	"env.A = 1\n" \
	"env.B = 2\n" \
	"user = root\n" \
	"group = root\n" \
	"umask = 022\n" \
	"[limits]\n" \
	"nofile = 4096\n" \
	"nproc = 1000\n" \
	"core = 0\n" \
	"[secrets]\n" \
	"TOKEN = file:/etc/token\n" \
	"KEY = env:KEY\n" \
	"delivery = env\n" \
	"timeout = 10s\n" \
	"[log]\n" \
	"max_size = 4M\n" \
	"keep = 3\n" \
	"[recovery]\n" \
	"restart_delay = 1s\n" \
	"[health]\n" \
	"probe = tcp\n" \
	"interval = 10s\n"

static Suite *config_diff_suite(void);
static void put(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static struct config *load(void);
static int diff_of(const char *, const char *);
static char *replace(const char *, const char *, const char *);

/* Write a file inside the test directory. */
static void
put(const char *rel, const char *fmt, ...)
{
	FILE *f;
	va_list ap;

	if ((f = fopen(testdir_at(rel), "w")) == NULL)
		ck_abort_msg("fopen %s: %s", testdir_at(rel), strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
}

/* Load the test directory's zonevisor.conf, which must be valid. */
static struct config *
load(void)
{
	struct config_errors errs;
	struct config *cfg;

	cfg = config_load(testdir_at("zonevisor.conf"), &errs);
	ck_assert_msg(cfg != NULL, "config refused: %s", errs.n > 0 ?
	    errs.lines[0] : "?");
	config_errors_free(&errs);
	return cfg;
}

/* text with the first occurrence of from replaced by to (must occur). */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	ck_assert_msg(at != NULL, "\"%s\" is not in the zone text", from);
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from)) == -1)
		ck_abort_msg("asprintf");
	return out;
}

/* config_diff_zone of zone a written as before, then as after. */
static int
diff_of(const char *before, const char *after)
{
	struct config *a, *b;
	int diff;

	put("zonevisor.conf", "[supervisor]\nstate_dir = state\n"
	    "runtime_dir = run\n");
	if (mkdir(testdir_at("zones.d"), 0755) != 0 && errno != EEXIST)
		ck_abort_msg("mkdir: %s", strerror(errno));
	put("zones.d/a.conf", "%s", before);
	a = load();
	put("zones.d/a.conf", "%s", after);
	b = load();
	ck_assert_uint_eq(a->nzones, 1);
	ck_assert_uint_eq(b->nzones, 1);
	diff = config_diff_zone(a->zones[0], b->zones[0]);
	/* The comparison is symmetric. */
	ck_assert_int_eq(diff, config_diff_zone(b->zones[0], a->zones[0]));
	config_free(a);
	config_free(b);
	return diff;
}

START_TEST(test_config_diff_same_file_is_same)
{
	ck_assert_int_eq(diff_of(BASE_ZONE, BASE_ZONE), CFGDIFF_SAME);
}
END_TEST

START_TEST(test_config_diff_comments_and_order_are_same)
{
	char *b = replace(BASE_ZONE, "[log]\n", "# a comment\n[log]\n");
	char *c = replace(b, "cwd = /tmp\nautostart = yes\n",
	    "autostart = yes\ncwd = /tmp\n");

	ck_assert_int_eq(diff_of(BASE_ZONE, c), CFGDIFF_SAME);
	free(b);
	free(c);
}
END_TEST

/* Every key of what the VM runs with restarts it, each on its own. */
START_TEST(test_config_diff_vm_settings_restart)
{
	static const char *changes[][2] = {
		{ "/bin/sleep 1000", "/bin/sleep 1001" },
		{ "cwd = /tmp", "cwd = /" },
		{ "env.A = 1", "env.A = 9" },
		{ "env.B = 2\n", "env.B = 2\nenv.C = 3\n" },
		{ "stop_signal = SIGTERM", "stop_signal = SIGINT" },
		{ "stop_timeout = 5s", "stop_timeout = 6s" },
		{ "start_timeout = 60s", "start_timeout = 61s" },
		{ "ingress_port = 18080", "ingress_port = 18081" },
		{ "max_size = 4M", "max_size = 5M" },
		{ "keep = 3", "keep = 4" },
		{ "user = root", "user = nobody" },
		{ "group = root", "group = 0" },
		{ "umask = 022", "umask = 027" },
		{ "nofile = 4096", "nofile = 4097" },
		{ "nproc = 1000", "nproc = unlimited" },
		{ "core = 0", "core = 1M" },
		{ "file:/etc/token", "file:/etc/token2" },
		{ "TOKEN = file", "TOKEN2 = file" },
		{ "KEY = env:KEY", "KEY = exec:/bin/echo KEY" },
		{ "delivery = env", "delivery = files" },
		{ "timeout = 10s", "timeout = 11s" },
	};
	size_t i;

	for (i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		char *after = replace(BASE_ZONE, changes[i][0], changes[i][1]);
		int diff = diff_of(BASE_ZONE, after);

		ck_assert_msg(diff == CFGDIFF_RESTART, "\"%s\" -> \"%s\": "
		    "diff %#x, expected a restart only", changes[i][0],
		    changes[i][1], (unsigned)diff);
		free(after);
	}
}
END_TEST

START_TEST(test_config_diff_recovery_only_no_restart)
{
	static const char *changes[][2] = {
		{ "restart_delay = 1s", "restart_delay = 2s" },
		{ "restart_delay = 1s\n", "restart_delay = 1s\n"
		    "max_failed_recoveries = 3\n" },
		{ "restart_delay = 1s\n", "restart_delay = 1s\n"
		    "suspend_for = 1m\n" },
	};
	size_t i;

	for (i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		char *after = replace(BASE_ZONE, changes[i][0], changes[i][1]);

		ck_assert_int_eq(diff_of(BASE_ZONE, after), CFGDIFF_RECOVERY);
		free(after);
	}
}
END_TEST

START_TEST(test_config_diff_health_only_no_restart)
{
	char *after = replace(BASE_ZONE, "interval = 10s", "interval = 20s");
	char *http = replace(BASE_ZONE, "probe = tcp", "probe = http\n"
	    "http_path = /healthz");

	ck_assert_int_eq(diff_of(BASE_ZONE, after), CFGDIFF_HEALTH);
	ck_assert_int_eq(diff_of(BASE_ZONE, http), CFGDIFF_HEALTH);
	free(after);
	free(http);
}
END_TEST

START_TEST(test_config_diff_autostart_only_no_restart)
{
	char *after = replace(BASE_ZONE, "autostart = yes", "autostart = no");

	ck_assert_int_eq(diff_of(BASE_ZONE, after), CFGDIFF_AUTOSTART);
	free(after);
}
END_TEST

/* A restart and a policy change together: both are said. */
START_TEST(test_config_diff_flags_combine)
{
	char *b = replace(BASE_ZONE, "restart_delay = 1s", "restart_delay = 3s");
	char *c = replace(b, "/bin/sleep 1000", "/bin/sleep 7");
	char buf[64];
	int diff = diff_of(BASE_ZONE, c);

	ck_assert_int_eq(diff, CFGDIFF_RESTART | CFGDIFF_RECOVERY);
	ck_assert_str_eq(config_diff_describe(diff, buf, sizeof buf), "restart");
	ck_assert_str_eq(config_diff_describe(CFGDIFF_RECOVERY | CFGDIFF_HEALTH,
	    buf, sizeof buf), "recovery, health");
	ck_assert_str_eq(config_diff_describe(CFGDIFF_SAME, buf, sizeof buf),
	    "same");
	free(b);
	free(c);
}
END_TEST

/* The settings fixed at start are named; log_level is not among them. */
START_TEST(test_config_diff_fixed_settings)
{
	const char *names[CONFIG_FIXED_MAX];
	struct config *a, *b;
	size_t n;

	if (mkdir(testdir_at("zones.d"), 0755) != 0)
		ck_abort_msg("mkdir: %s", strerror(errno));
	put("zonevisor.conf", "[supervisor]\nstate_dir = state\n"
	    "runtime_dir = run\nlog_level = info\n");
	a = load();
	put("zonevisor.conf", "[supervisor]\nstate_dir = state\n"
	    "runtime_dir = run\nlog_level = debug\n");
	b = load();
	ck_assert_uint_eq(config_diff_fixed(a, b, names, CONFIG_FIXED_MAX), 0);
	config_free(b);
	put("zonevisor.conf", "[supervisor]\nstate_dir = state2\n"
	    "runtime_dir = run\ncontrol_socket = /tmp/zv-other.sock\n");
	b = load();
	n = config_diff_fixed(a, b, names, CONFIG_FIXED_MAX);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "state_dir");
	ck_assert_str_eq(names[1], "control_socket");
	config_free(b);
	/* metrics_listen: the address counts, not how it was written. */
	put("zonevisor.conf", "[supervisor]\nstate_dir = state\n"
	    "runtime_dir = run\nmetrics_listen = 127.0.0.1:9464\n");
	b = load();
	n = config_diff_fixed(a, b, names, CONFIG_FIXED_MAX);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "metrics_listen");
	config_free(a);
	put("zonevisor.conf", "[supervisor]\nstate_dir = state\n"
	    "runtime_dir = run\nmetrics_listen = localhost:9464\n");
	a = load();
	ck_assert_uint_eq(config_diff_fixed(a, b, names, CONFIG_FIXED_MAX), 0);
	config_free(a);
	config_free(b);
}
END_TEST

static Suite *
config_diff_suite(void)
{
	Suite *s = suite_create("config_diff");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, testdir_setup, testdir_teardown);
	tcase_add_test(tc, test_config_diff_same_file_is_same);
	tcase_add_test(tc, test_config_diff_comments_and_order_are_same);
	tcase_add_test(tc, test_config_diff_vm_settings_restart);
	tcase_add_test(tc, test_config_diff_recovery_only_no_restart);
	tcase_add_test(tc, test_config_diff_health_only_no_restart);
	tcase_add_test(tc, test_config_diff_autostart_only_no_restart);
	tcase_add_test(tc, test_config_diff_flags_combine);
	tcase_add_test(tc, test_config_diff_fixed_settings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testdir_run("config_diff", config_diff_suite());
}
