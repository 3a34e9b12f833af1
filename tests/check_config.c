/*
 * check_config.c: loading zonevisor.conf and its zone files (config.c).
 * These tests protect the operator's side of the contract: a configuration
 * is used entirely or not at all, every value means what it says (paths
 * resolved against the file that names them, documented defaults when a key
 * is absent), and every problem is reported as "file:LINE: [section] key:
 * problem" so it can be fixed without guessing, including the easy mistakes
 * (an indented key swallowed by the command above it, a shell operator no
 * shell will run, a duplicate ingress port) that would otherwise pass
 * silently.
 *
 * Each test writes its files into a fresh directory made with mkdtemp(3)
 * inside one base directory under /tmp; the test's teardown removes its
 * directory, and main() removes the base, so a failed test (whose forked
 * process ends without teardown) leaves nothing behind either.
 */
#include "config.h"

#include <sys/resource.h>
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

#include <check.h>

#include "zonevisor.h"
#include "log.h"
#include "testdir.h"

/* A main file that needs no zones_dir key: zones.d is the default. */
#define MAIN_CONF \
	"[supervisor]\n" \
	"state_dir = state\n" \
	"runtime_dir = run\n"

static Suite *config_suite(void);
static void put(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void mk(const char *);
static struct config *load(const char *);
static void load_bad(const char *, struct config_errors *);
static int find_error(const struct config_errors *, const char *, int,
    const char *);
static void expect_error(const struct config_errors *, const char *, int,
    const char *);
static void zone_with(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

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

/* Make a directory inside the test directory. */
static void
mk(const char *rel)
{
	if (mkdir(testdir_at(rel), 0755) != 0)
		ck_abort_msg("mkdir %s: %s", testdir_at(rel), strerror(errno));
}

/* The common case: MAIN_CONF and one zone file with the given text. */
static void
zone_with(const char *zone, const char *fmt, ...)
{
	char rel[PATH_MAX];
	FILE *f;
	va_list ap;
	struct stat sb;

	if (stat(testdir_at("zonevisor.conf"), &sb) != 0)
		put("zonevisor.conf", MAIN_CONF);
	if (stat(testdir_at("zones.d"), &sb) != 0)
		mk("zones.d");
	snprintf(rel, sizeof rel, "zones.d/%s.conf", zone);
	if ((f = fopen(testdir_at(rel), "w")) == NULL)
		ck_abort_msg("fopen %s: %s", testdir_at(rel), strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
}

/* Load a configuration that must be valid. */
static struct config *
load(const char *rel)
{
	struct config_errors errs;
	struct config *cfg;
	char all[4096] = "";
	size_t i;

	cfg = config_load(testdir_at(rel), &errs);
	for (i = 0; i < errs.n; i++) {
		strncat(all, errs.lines[i], sizeof all - strlen(all) - 2);
		strncat(all, "\n", sizeof all - strlen(all) - 1);
	}
	ck_assert_msg(cfg != NULL && errs.n == 0, "config refused:\n%s", all);
	config_errors_free(&errs);
	return cfg;
}

/* Load a configuration that must be refused as a whole. */
static void
load_bad(const char *rel, struct config_errors *errs)
{
	struct config *cfg;

	cfg = config_load(testdir_at(rel), errs);
	ck_assert_msg(cfg == NULL, "a bad configuration was accepted");
	ck_assert_msg(errs->n > 0, "refused without any error line");
}

/*
 * The index of the error line that begins "<file>:<line>: " (or "<file>: "
 * when line is 0) and contains what; -1 if there is none.
 */
static int
find_error(const struct config_errors *errs, const char *rel, int line,
    const char *what)
{
	char prefix[PATH_MAX + 32];
	size_t i;

	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s:%d: ", testdir_at(rel), line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", testdir_at(rel));
	for (i = 0; i < errs->n; i++) {
		if (strncmp(errs->lines[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->lines[i] + strlen(prefix), what) != NULL)
			return (int)i;
	}
	return -1;
}

/* Assert that find_error() finds a line; show every line if not. */
static void
expect_error(const struct config_errors *errs, const char *rel, int line,
    const char *what)
{
	char all[4096] = "";
	size_t i;

	if (find_error(errs, rel, line, what) >= 0)
		return;
	for (i = 0; i < errs->n; i++) {
		strncat(all, errs->lines[i], sizeof all - strlen(all) - 2);
		strncat(all, "\n", sizeof all - strlen(all) - 1);
	}
	ck_abort_msg("no error \"%s:%d: ...%s...\" among:\n%s", rel, line,
	    what, all);
}

START_TEST(test_config_valid_files_parse)
{
	const struct zone_config *a, *b;
	struct config *cfg;

	mk("zones.d");
	put("zonevisor.conf",
	    "# the supervisor\n"
	    "[supervisor]\n"
	    "state_dir = /var/lib/zv-test\n"
	    "runtime_dir = /run/zv-test\n"
	    "zones_dir = zones.d\n"
	    "shutdown_timeout = 1m 30s\n"
	    "log_level = debug\n"
	    "log_target = stderr\n");
	/* Written in reverse order: the zones must come out sorted. */
	put("zones.d/beta.conf",
	    "[gateway]\n"
	    "command = /usr/bin/beta-vm\n");
	put("zones.d/alpha.conf",
	    "; the alpha gateway\n"
	    "[gateway]\n"
	    "command = /usr/bin/vm --name 'alpha zone' -m 512\n"
	    "cwd = ../work\n"
	    "autostart = no\n"
	    "stop_signal = SIGINT\n"
	    "stop_timeout = 2s500ms\n"
	    "ingress_port = 8443\n"
	    "env.TOKEN = abc def\n"
	    "env._MODE2 = a=b\n"
	    "\n"
	    "[log]\n"
	    "max_size = 64K\n"
	    "keep = 0\n");

	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->path, testdir_at("zonevisor.conf"));
	ck_assert_str_eq(cfg->state_dir, "/var/lib/zv-test");
	ck_assert_str_eq(cfg->runtime_dir, "/run/zv-test");
	ck_assert_str_eq(cfg->zones_dir, testdir_at("zones.d"));
	ck_assert_str_eq(cfg->control_socket, "/run/zv-test/control.sock");
	ck_assert_int_eq(cfg->shutdown_timeout_ms, 90000);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(cfg->log_to_syslog, 0);
	ck_assert_ptr_null(cfg->control_group);
	ck_assert_uint_eq(cfg->control_gid, (gid_t)-1);

	ck_assert_uint_eq(cfg->nzones, 2);
	ck_assert_str_eq(cfg->zones[0]->name, "alpha");
	ck_assert_str_eq(cfg->zones[1]->name, "beta");

	a = cfg->zones[0];
	ck_assert_ptr_eq(config_zone(cfg, "alpha"), a);
	ck_assert_str_eq(a->file, testdir_at("zones.d/alpha.conf"));
	ck_assert_str_eq(a->command, "/usr/bin/vm --name 'alpha zone' -m 512");
	ck_assert_str_eq(a->argv[0], "/usr/bin/vm");
	ck_assert_str_eq(a->argv[1], "--name");
	ck_assert_str_eq(a->argv[2], "alpha zone");
	ck_assert_str_eq(a->argv[3], "-m");
	ck_assert_str_eq(a->argv[4], "512");
	ck_assert_ptr_null(a->argv[5]);
	ck_assert_str_eq(a->cwd, testdir_at("work"));
	ck_assert_int_eq(a->autostart, 0);
	ck_assert_int_eq(a->stop_signal, SIGINT);
	ck_assert_int_eq(a->stop_timeout_ms, 2500);
	ck_assert_int_eq(a->ingress_port, 8443);
	ck_assert_uint_eq(a->nenv, 2);
	ck_assert_str_eq(a->env[0], "TOKEN=abc def");
	ck_assert_str_eq(a->env[1], "_MODE2=a=b");
	ck_assert_ptr_null(a->env[2]);
	ck_assert_int_eq(a->log_max_size, 64 * 1024);
	ck_assert_int_eq(a->log_keep, 0);

	b = cfg->zones[1];
	ck_assert_ptr_eq(config_zone(cfg, "beta"), b);
	ck_assert_str_eq(b->argv[0], "/usr/bin/beta-vm");
	ck_assert_ptr_null(b->argv[1]);
	ck_assert_ptr_null(b->cwd);
	ck_assert_int_eq(b->ingress_port, 0);
	ck_assert_uint_eq(b->nenv, 0);

	ck_assert_ptr_null(config_zone(cfg, "gamma"));
	ck_assert_ptr_null(config_zone(cfg, "alph"));
	config_free(cfg);
}
END_TEST

START_TEST(test_config_defaults)
{
	const struct zone_config *zc;
	struct config *cfg;

	/* An empty main file: every key has a default, zones.d included. */
	put("zonevisor.conf", "%s", "");
	mk("zones.d");
	put("zones.d/solo.conf", "[gateway]\ncommand = /bin/vm\n");

	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->state_dir, DEFAULT_STATE_DIR);
	ck_assert_str_eq(cfg->runtime_dir, DEFAULT_RUNTIME_DIR);
	ck_assert_str_eq(cfg->zones_dir, testdir_at("zones.d"));
	ck_assert_str_eq(cfg->control_socket, DEFAULT_RUNTIME_DIR "/control.sock");
	ck_assert_int_eq(cfg->shutdown_timeout_ms, 30000);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);
	ck_assert_int_eq(cfg->log_to_syslog, 1);
	ck_assert_uint_eq(cfg->control_gid, (gid_t)-1);

	ck_assert_uint_eq(cfg->nzones, 1);
	zc = config_zone(cfg, "solo");
	ck_assert_ptr_nonnull(zc);
	ck_assert_int_eq(zc->autostart, 1);
	ck_assert_int_eq(zc->stop_signal, SIGTERM);
	ck_assert_int_eq(zc->stop_timeout_ms, 10000);
	ck_assert_int_eq(zc->ingress_port, 0);
	ck_assert_int_eq(zc->log_max_size, 4 * 1024 * 1024);
	ck_assert_int_eq(zc->log_keep, 3);
	ck_assert_ptr_null(zc->cwd);
	ck_assert_uint_eq(zc->nenv, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_socket_follows_runtime_dir)
{
	struct config *cfg;

	put("zonevisor.conf", "[supervisor]\nruntime_dir = rt\n");
	mk("zones.d");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->runtime_dir, testdir_at("rt"));
	ck_assert_str_eq(cfg->control_socket, testdir_at("rt/control.sock"));
	ck_assert_uint_eq(cfg->nzones, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_relative_paths_resolved)
{
	char want[PATH_MAX];
	const struct zone_config *zc;
	struct config *cfg;
	const char *paths[5];
	size_t i;

	mk("etc");
	mk("etc/zones");
	mk("etc/zones/sub");
	put("etc/zonevisor.conf",
	    "[supervisor]\n"
	    "state_dir = ./a/../b//c/.\n"
	    "runtime_dir = ../run\n"
	    "zones_dir = zones/sub/..\n"
	    "control_socket = /var/../tmp/./x//zv.sock\n");
	put("etc/zones/edge.conf",
	    "[gateway]\n"
	    "command = /bin/vm\n"
	    "cwd = ../../work/./dir/\n");

	cfg = load("etc/zonevisor.conf");
	ck_assert_str_eq(cfg->state_dir, testdir_at("etc/b/c"));
	ck_assert_str_eq(cfg->runtime_dir, testdir_at("run"));
	ck_assert_str_eq(cfg->zones_dir, testdir_at("etc/zones"));
	ck_assert_str_eq(cfg->control_socket, "/tmp/x/zv.sock");
	ck_assert_uint_eq(cfg->nzones, 1);
	zc = config_zone(cfg, "edge");
	ck_assert_ptr_nonnull(zc);
	/* etc/zones/edge.conf: ../../work is next to etc/. */
	ck_assert_int_lt(snprintf(want, sizeof want, "%s/work/dir", tmpdir),
	    (int)sizeof want);
	ck_assert_str_eq(zc->cwd, want);

	paths[0] = cfg->state_dir;
	paths[1] = cfg->runtime_dir;
	paths[2] = cfg->zones_dir;
	paths[3] = cfg->control_socket;
	paths[4] = zc->cwd;
	for (i = 0; i < 5; i++) {
		ck_assert_msg(paths[i][0] == '/', "%s is not absolute", paths[i]);
		ck_assert_msg(strstr(paths[i], "/../") == NULL &&
		    strstr(paths[i], "/./") == NULL &&
		    strstr(paths[i], "//") == NULL,
		    "%s is not normalized", paths[i]);
	}
	config_free(cfg);

	/* Climbing past the root stops there, as in the kernel. */
	put("etc/zonevisor.conf",
	    "[supervisor]\n"
	    "state_dir = ../../../../../../../../../../../../..\n"
	    "runtime_dir = /..\n"
	    "zones_dir = zones\n");
	cfg = load("etc/zonevisor.conf");
	ck_assert_str_eq(cfg->state_dir, "/");
	ck_assert_str_eq(cfg->runtime_dir, "/");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_zones_sorted)
{
	static const char *const names[] = {
		"zulu", "alpha", "mike", "bravo", "yankee", "0day", "m-1", "m_0",
		"delta", "charlie",
	};
	static const char *const sorted[] = {
		"0day", "alpha", "bravo", "charlie", "delta", "m-1", "m_0",
		"mike", "yankee", "zulu",
	};
	struct config *cfg;
	size_t i;

	/* Whatever order readdir(3) returns them in. */
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		zone_with(names[i], "[gateway]\ncommand = /bin/%s\n", names[i]);
	cfg = load("zonevisor.conf");
	ck_assert_uint_eq(cfg->nzones, sizeof sorted / sizeof sorted[0]);
	for (i = 0; i < cfg->nzones; i++) {
		ck_assert_str_eq(cfg->zones[i]->name, sorted[i]);
		ck_assert_ptr_eq(config_zone(cfg, sorted[i]), cfg->zones[i]);
	}
	config_free(cfg);
}
END_TEST

START_TEST(test_config_command_continues_on_indented_lines)
{
	const struct zone_config *zc;
	struct config *cfg;

	zone_with("alpha",
	    "[gateway]\n"
	    "command = /usr/bin/vm\n"
	    "    --name 'alpha zone'\n"
	    "\t-m 512\n"
	    "autostart = no\n");
	cfg = load("zonevisor.conf");
	zc = config_zone(cfg, "alpha");
	ck_assert_ptr_nonnull(zc);
	ck_assert_str_eq(zc->argv[0], "/usr/bin/vm");
	ck_assert_str_eq(zc->argv[1], "--name");
	ck_assert_str_eq(zc->argv[2], "alpha zone");
	ck_assert_str_eq(zc->argv[3], "-m");
	ck_assert_str_eq(zc->argv[4], "512");
	ck_assert_ptr_null(zc->argv[5]);
	/* The unindented line after it is a key of its own again. */
	ck_assert_int_eq(zc->autostart, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_longest_line_accepted)
{
	char cmd[199];
	const struct zone_config *zc;
	struct config *cfg;

	/* "command = /bin/vm " and an argument: 198 characters in all. */
	memset(cmd, 'x', sizeof cmd - 1);
	cmd[sizeof cmd - 1] = '\0';
	memcpy(cmd, "command = /bin/vm ", 18);
	ck_assert_uint_eq(strlen(cmd), 198);
	zone_with("alpha", "[gateway]\n%s\nautostart = no\n", cmd);
	cfg = load("zonevisor.conf");
	zc = config_zone(cfg, "alpha");
	ck_assert_ptr_nonnull(zc);
	ck_assert_uint_eq(strlen(zc->argv[1]), 198 - 18);
	ck_assert_ptr_null(zc->argv[2]);
	ck_assert_int_eq(zc->autostart, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_ignores_other_files)
{
	struct config *cfg;

	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n");
	/* Each of these would be an error if it were read as a zone. */
	put("zones.d/notes.txt", "garbage\n");
	put("zones.d/alpha.conf.bak", "garbage\n");
	put("zones.d/alpha.conf~", "garbage\n");
	put("zones.d/beta.conf.disabled", "garbage\n");
	put("zones.d/.hidden.conf", "garbage\n");
	put("zones.d/.conf", "garbage\n");
	put("zones.d/README", "garbage\n");
	mk("zones.d/dir.conf");
	cfg = load("zonevisor.conf");
	ck_assert_uint_eq(cfg->nzones, 1);
	ck_assert_str_eq(cfg->zones[0]->name, "alpha");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_control_group)
{
	struct config_errors errs;
	struct config *cfg;

	/* Group 0 is "root" on every Debian system. */
	put("zonevisor.conf", "[supervisor]\ncontrol_group = root\n");
	mk("zones.d");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->control_group, "root");
	ck_assert_uint_eq(cfg->control_gid, 0);
	config_free(cfg);

	put("zonevisor.conf", "[supervisor]\ncontrol_group = zv-no-such-group\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 2,
	    "[supervisor] control_group: no such group");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_metrics_listen)
{
	struct config *cfg;

	put("zonevisor.conf", "[supervisor]\n");
	mk("zones.d");
	cfg = load("zonevisor.conf");
	ck_assert_ptr_null(cfg->metrics_listen);
	config_free(cfg);

	put("zonevisor.conf", "[supervisor]\nmetrics_listen = 127.0.0.1:9464\n");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->metrics_listen, "127.0.0.1:9464");
	ck_assert_str_eq(cfg->metrics_host, "127.0.0.1");
	ck_assert_int_eq(cfg->metrics_port, 9464);
	ck_assert_int_eq(cfg->metrics_family, AF_INET);
	config_free(cfg);

	put("zonevisor.conf", "[supervisor]\nmetrics_listen = [::1]:65535\n");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->metrics_host, "::1");
	ck_assert_int_eq(cfg->metrics_port, 65535);
	ck_assert_int_eq(cfg->metrics_family, AF_INET6);
	config_free(cfg);

	put("zonevisor.conf", "[supervisor]\nmetrics_listen = localhost:1\n");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->metrics_host, "127.0.0.1");
	ck_assert_int_eq(cfg->metrics_port, 1);
	config_free(cfg);

	put("zonevisor.conf", "[supervisor]\nmetrics_listen = 0.0.0.0:9464\n");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(cfg->metrics_host, "0.0.0.0");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_zone_name_valid)
{
	static const char *const good[] = {
		"a", "0", "alpha", "a-b_c", "zone-01", "9lives",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
	};
	static const char *const bad[] = {
		"", "-x", "_x", "Alpha", "a.b", "a b", "a/b", "a\xc3\xa9", "a:b",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm",
	};
	size_t i;

	ck_assert_uint_eq(strlen(good[6]), ZONE_NAME_MAX);
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(config_zone_name_valid(good[i]) == 1,
		    "\"%s\" refused", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(config_zone_name_valid(bad[i]) == 0,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

/* One bad value, the line it is on and what the error must say. */
static const struct {
	const char	*file;		/* "main" or a zone file's text */
	const char	*section;
	const char	*key;
	const char	*value;
	const char	*why;
} bad_values[] = {
	{ "main", "supervisor", "shutdown_timeout", "1.5s", "missing unit" },
	{ "main", "supervisor", "shutdown_timeout", "forever", "expected a number" },
	{ "main", "supervisor", "log_level", "verbose", "expected error" },
	{ "main", "supervisor", "log_target", "file", "expected stderr or syslog" },
	{ "main", "supervisor", "state_dir", "", "empty path" },
	{ "main", "supervisor", "metrics_listen", "", "expected HOST:PORT" },
	{ "main", "supervisor", "metrics_listen", "9464", "expected HOST:PORT" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1", "expected HOST:PORT" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1:", "from 1 to 65535" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1:0", "from 1 to 65535" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1:65536", "from 1 to 65535" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1:+80", "from 1 to 65535" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1:http", "from 1 to 65535" },
	{ "main", "supervisor", "metrics_listen", "127.0.0.1:9464x", "from 1 to 65535" },
	{ "main", "supervisor", "metrics_listen", "127.1:9464", "not an IP address" },
	{ "main", "supervisor", "metrics_listen", "metrics.example:9464", "not an IP address" },
	{ "main", "supervisor", "metrics_listen", ":9464", "expected HOST:PORT" },
	{ "main", "supervisor", "metrics_listen", "::1:9464", "in brackets" },
	{ "main", "supervisor", "metrics_listen", "[::1]9464", "expected HOST:PORT" },
	{ "main", "supervisor", "metrics_listen", "[::1]", "expected HOST:PORT" },
	{ "main", "supervisor", "metrics_listen", "[]:9464", "not an IPv6 address" },
	{ "main", "supervisor", "metrics_listen", "[127.0.0.1]:9464", "not an IPv6 address" },
	{ "main", "supervisor", "metrics_listen", "[fe80::1%eth0]:9464", "not an IPv6 address" },
	{ "zone", "gateway", "command", "", "empty command" },
	{ "zone", "gateway", "cwd", "", "empty path" },
	{ "zone", "gateway", "stop_timeout", "10", "missing unit" },
	{ "zone", "gateway", "stop_timeout", "-5s", "negative" },
	{ "zone", "gateway", "stop_timeout", "999999999999d", "too large" },
	{ "zone", "gateway", "autostart", "maybe", "expected yes or no" },
	{ "zone", "gateway", "stop_signal", "SIGFOO", "unknown signal" },
	{ "zone", "gateway", "stop_signal", "SIGSTOP", "does not end a process" },
	{ "zone", "gateway", "stop_signal", "19", "does not end a process" },
	{ "zone", "gateway", "stop_signal", "CONT", "does not end a process" },
	{ "zone", "gateway", "stop_signal", "SIGCHLD", "does not end a process" },
	{ "zone", "gateway", "stop_signal", "SIGTSTP", "does not end a process" },
	{ "zone", "gateway", "ingress_port", "0", "port number" },
	{ "zone", "gateway", "ingress_port", "65536", "port number" },
	{ "zone", "gateway", "ingress_port", "http", "port number" },
	{ "zone", "gateway", "ingress_port", "80x", "port number" },
	{ "zone", "log", "max_size", "4Q", "unknown size suffix" },
	{ "zone", "log", "max_size", "1K", "at least 4K" },
	{ "zone", "log", "max_size", "-1M", "negative" },
	{ "zone", "log", "keep", "101", "from 0 to 100" },
	{ "zone", "log", "keep", "-1", "from 0 to 100" },
	{ "zone", "gateway", "start_timeout", "0", "more than 0" },
	{ "zone", "gateway", "user", "no-such-user-zv", "unknown user" },
	{ "zone", "gateway", "user", "-3", "unknown user" },
	{ "zone", "gateway", "group", "no-such-group-zv", "unknown group" },
	{ "zone", "gateway", "umask", "8", "octal mask" },
	{ "zone", "gateway", "umask", "1000", "octal mask" },
	{ "zone", "gateway", "umask", "rwx", "octal mask" },
	{ "zone", "secrets", "TOKEN", "vault:/kv/token", "unknown secret source" },
	{ "zone", "secrets", "TOKEN", "/etc/token", "unknown secret source" },
	{ "zone", "secrets", "TOKEN", "file:etc/token", "absolute path" },
	{ "zone", "secrets", "TOKEN", "env:", "variable name" },
	{ "zone", "secrets", "TOKEN", "exec:'unclosed", "" },
	{ "zone", "secrets", "9LIVES", "env:X", "start with a letter" },
	{ "zone", "secrets", "A-B", "env:X", "letters, digits and _" },
	{ "zone", "secrets", "ZONEVISOR_X", "env:X", "set by zonevisord" },
	{ "zone", "secrets", "CREDENTIALS_DIRECTORY", "env:X", "set by zonevisord" },
	{ "zone", "secrets", "delivery", "tmpfs", "expected env or files" },
	{ "zone", "secrets", "timeout", "1ms", "at least 10ms" },
	{ "zone", "tool-vm", "command", "/bin/tool --port %p", "unknown % token" },
	{ "zone", "tool-vm", "max_leases", "0", "from 1 to 1024" },
	{ "zone", "tool-vm", "max_leases", "1025", "from 1 to 1024" },
	{ "zone", "tool-vm", "base_port", "65536", "port number" },
	{ "zone", "tool-vm", "idle_ttl", "500ms", "at least 1s" },
	{ "zone", "tool-vm", "release_on_restart", "sometimes", "yes or no" },
	{ "zone", "limits", "nofile", "-1", "a count, or unlimited" },
	{ "zone", "limits", "nofile", "unlimited", "cannot be unlimited" },
	{ "zone", "limits", "nproc", "many", "a count, or unlimited" },
	{ "zone", "limits", "core", "4Q", "unknown size suffix" },
	{ "zone", "health", "probe", "ping", "unknown probe" },
	{ "zone", "health", "probe", "HTTP", "unknown probe" },
	{ "zone", "health", "interval", "5ms", "at least 10ms" },
	{ "zone", "health", "interval", "soon", "" },
	{ "zone", "health", "timeout", "1ms", "at least 10ms" },
	{ "zone", "health", "failure_threshold", "0", "from 1 to 1000" },
	{ "zone", "health", "failure_threshold", "1001", "from 1 to 1000" },
	{ "zone", "health", "start_period", "-1s", "" },
	{ "zone", "health", "http_path", "health", "must start with /" },
	{ "zone", "health", "http_path", "/a b", "blanks and control" },
	{ "zone", "health", "exec", "/bin/check 'open", "" },
};

START_TEST(test_config_bad_value_reported)
{
	struct config_errors errs;
	char what[256];
	int line;

	snprintf(what, sizeof what, "[%s] %s: ", bad_values[_i].section,
	    bad_values[_i].key);
	if (strcmp(bad_values[_i].file, "main") == 0) {
		put("zonevisor.conf", "[supervisor]\n%s = %s\n",
		    bad_values[_i].key, bad_values[_i].value);
		mk("zones.d");
		load_bad("zonevisor.conf", &errs);
		expect_error(&errs, "zonevisor.conf", 2, what);
		expect_error(&errs, "zonevisor.conf", 2, bad_values[_i].why);
	} else {
		if (strcmp(bad_values[_i].section, "gateway") == 0) {
			/* Keep command valid unless it is the key under test. */
			zone_with("alpha", "[gateway]\n%s\n%s = %s\n",
			    strcmp(bad_values[_i].key, "command") == 0 ?
			    "" : "command = /bin/vm", bad_values[_i].key,
			    bad_values[_i].value);
			line = 3;
		} else {
			zone_with("alpha", "[gateway]\ncommand = /bin/vm\n"
			    "[%s]\n%s = %s\n", bad_values[_i].section,
			    bad_values[_i].key, bad_values[_i].value);
			line = 4;
		}
		load_bad("zonevisor.conf", &errs);
		expect_error(&errs, "zones.d/alpha.conf", line, what);
		expect_error(&errs, "zones.d/alpha.conf", line,
		    bad_values[_i].why);
	}
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_unknown_section)
{
	struct config_errors errs;

	put("zonevisor.conf", MAIN_CONF "\n[bogus]\nfoo = 1\nbar = 2\n");
	mk("zones.d");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 5, "[bogus]");
	expect_error(&errs, "zonevisor.conf", 5, "unknown section");
	/* Said once, not once per key inside it. */
	ck_assert_uint_eq(errs.n, 1);
	config_errors_free(&errs);

	/* [supervisor] belongs to the main file only. */
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n[supervisor]\n"
	    "state_dir = /x\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "[supervisor]: unknown section");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_unknown_key)
{
	struct config_errors errs;

	put("zonevisor.conf", "[supervisor]\nstate_dri = /x\n");
	mk("zones.d");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 2, "[supervisor] state_dri: unknown key");
	config_errors_free(&errs);

	put("zonevisor.conf", MAIN_CONF);
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\nautostrat = yes\n"
	    "[log]\nmax-size = 1M\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "[gateway] autostrat: unknown key");
	expect_error(&errs, "zones.d/alpha.conf", 5, "[log] max-size: unknown key");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_duplicate_key)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\ncommand = /bin/vm\nstop_signal = TERM\n"
	    "autostart = no\nstop_signal = KILL\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 5,
	    "[gateway] stop_signal: set twice (first on line 3)");
	config_errors_free(&errs);

	zone_with("alpha", "[gateway]\ncommand = /bin/vm\nenv.A = 1\nenv.A = 2\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 4, "[gateway] env.A: ");
	config_errors_free(&errs);

	put("zonevisor.conf", MAIN_CONF "state_dir = /elsewhere\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 4,
	    "[supervisor] state_dir: set twice (first on line 2)");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_key_outside_section)
{
	struct config_errors errs;

	put("zonevisor.conf", "state_dir = /x\n" MAIN_CONF);
	mk("zones.d");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 1, "outside of any [section]");
	/* The operator is told which key, not only which line. */
	expect_error(&errs, "zonevisor.conf", 1, "state_dir");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_missing_command)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\nautostart = yes\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 0,
	    "[gateway] command: required key is missing");
	config_errors_free(&errs);

	/* An empty zone file is no zone either. */
	zone_with("alpha", "%s", "");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 0, "[gateway] command: ");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_invalid_zone_file_name)
{
	static const char *const names[] = {
		"Bad Name", "-x", "UPPER", "a.b", "_x",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm",
	};
	struct config_errors errs;
	char rel[PATH_MAX], what[128];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		zone_with(names[i], "[gateway]\ncommand = /bin/vm\n");
		load_bad("zonevisor.conf", &errs);
		snprintf(rel, sizeof rel, "zones.d/%s.conf", names[i]);
		snprintf(what, sizeof what, "zone name \"%s\" is invalid",
		    names[i]);
		expect_error(&errs, rel, 0, what);
		ck_assert_uint_eq(errs.n, 1);
		config_errors_free(&errs);
		ck_assert_int_eq(unlink(testdir_at(rel)), 0);
	}
}
END_TEST

START_TEST(test_config_long_line_refused)
{
	struct config_errors errs;
	char cmd[256];

	/*
	 * 250 characters.  Neither its first 199 (a bad stop_signal) nor what
	 * lies past them (it looks like a key) may be parsed as a line: the
	 * one error is the length.
	 */
	memset(cmd, 'x', sizeof cmd);
	memcpy(cmd, "stop_signal = SIG", 17);
	memcpy(cmd + 250 - 16, " autostart=maybe", 16);
	cmd[250] = '\0';
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n%s\nautostart = no\n",
	    cmd);
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "line longer than");
	ck_assert_msg(errs.n == 1, "%zu errors, second: %s", errs.n,
	    errs.lines[errs.n > 1]);
	config_errors_free(&errs);

	/* Line numbers after a long line stay right. */
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n# %s\n"
	    "autostart = maybe\n", cmd);
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "line longer than");
	expect_error(&errs, "zones.d/alpha.conf", 4, "[gateway] autostart: ");
	config_errors_free(&errs);

	put("zonevisor.conf", "[supervisor]\nstate_dir = /%s\n", cmd);
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 2, "line longer than");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_indented_key_not_swallowed)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n  autostart = yes\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3,
	    "[gateway] autostart: indented");
	config_errors_free(&errs);

	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n\tstop_signal=KILL\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "[gateway] stop_signal: ");
	config_errors_free(&errs);

	/* Only command continues; other keys refuse an indented line. */
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\nautostart = yes\n"
	    "  no\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 4,
	    "[gateway] autostart: indented line");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_indented_env_not_swallowed)
{
	struct config_errors errs;

	/*
	 * An indented env.NAME line under command is a key too: appended to
	 * the command it would put the value on the VM's command line
	 * (visible in ps) instead of in its environment.
	 */
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n  env.TOKEN = s3cret\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "env.TOKEN");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_command_operator_refused)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\ncommand = /bin/vm | tee /tmp/log\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 2,
	    "[gateway] command: unquoted shell operator");
	config_errors_free(&errs);

	zone_with("alpha", "[gateway]\ncommand = /bin/vm --opt=$HOME\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 2, "[gateway] command: ");
	config_errors_free(&errs);

	/* On a continuation line, the error points at that line. */
	zone_with("alpha", "[gateway]\ncommand = /bin/vm\n  -x > /tmp/out\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3,
	    "[gateway] command: unquoted shell operator");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_command_semicolon_refused)
{
	struct config_errors errs;

	/*
	 * "a ; b" must be refused like "a;b", not cut at the ';' as if the
	 * rest were a comment: the VM would run without the arguments the
	 * operator wrote, and nothing would say so.
	 */
	zone_with("alpha", "[gateway]\ncommand = /bin/vm;echo\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 2,
	    "[gateway] command: unquoted shell operator");
	config_errors_free(&errs);

	zone_with("alpha", "[gateway]\ncommand = /bin/vm ; echo done\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 2, "[gateway] command: ");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_bad_env_name)
{
	static const struct {
		const char	*key;
		const char	*why;
	} bad[] = {
		{ "env.1X", "start with a letter or _" },
		{ "env.", "start with a letter or _" },
		{ "env.A-B", "letters, digits and _ only" },
		{ "env.A.B", "letters, digits and _ only" },
		{ "env.ZONEVISOR_ZONE", "set by zonevisord" },
		{ "env.ZONEVISOR_", "set by zonevisord" },
	};
	struct config_errors errs;
	char what[128];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		zone_with("alpha", "[gateway]\ncommand = /bin/vm\n%s = x\n",
		    bad[i].key);
		load_bad("zonevisor.conf", &errs);
		snprintf(what, sizeof what, "[gateway] %s: ", bad[i].key);
		expect_error(&errs, "zones.d/alpha.conf", 3, what);
		expect_error(&errs, "zones.d/alpha.conf", 3, bad[i].why);
		config_errors_free(&errs);
	}
}
END_TEST

START_TEST(test_config_health_defaults_and_values)
{
	const struct zone_config *a, *b, *c;
	struct config *cfg;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\n");
	zone_with("beta", "[gateway]\ncommand = /bin/b\ningress_port = 8080\n"
	    "start_timeout = 2m\n"
	    "[health]\nprobe = http\ninterval = 500ms\ntimeout = 250ms\n"
	    "failure_threshold = 5\nstart_period = 90s\n"
	    "http_path = /healthz?deep=1\n");
	zone_with("gamma", "[gateway]\ncommand = /bin/c\n"
	    "[health]\nprobe = exec\nexec = /usr/bin/check --zone 'gamma zone'\n");
	cfg = load("zonevisor.conf");
	a = config_zone(cfg, "alpha");
	b = config_zone(cfg, "beta");
	c = config_zone(cfg, "gamma");
	/* DESIGN §6 defaults; no probe: spawned is running. */
	ck_assert_int_eq(a->health.probe, PROBE_NONE);
	ck_assert_int_eq(a->health.interval_ms, 10000);
	ck_assert_int_eq(a->health.timeout_ms, 2000);
	ck_assert_int_eq(a->health.failure_threshold, 3);
	ck_assert_int_eq(a->health.start_period_ms, 30000);
	ck_assert_int_eq(a->start_timeout_ms, 60000);
	ck_assert_ptr_null(a->health.http_path);
	ck_assert_int_eq(b->health.probe, PROBE_HTTP);
	ck_assert_int_eq(b->health.interval_ms, 500);
	ck_assert_int_eq(b->health.timeout_ms, 250);
	ck_assert_int_eq(b->health.failure_threshold, 5);
	ck_assert_int_eq(b->health.start_period_ms, 90000);
	ck_assert_int_eq(b->start_timeout_ms, 120000);
	ck_assert_str_eq(b->health.http_path, "/healthz?deep=1");
	ck_assert_int_eq(c->health.probe, PROBE_EXEC);
	ck_assert_str_eq(c->health.exec_argv[0], "/usr/bin/check");
	ck_assert_str_eq(c->health.exec_argv[2], "gamma zone");
	ck_assert_ptr_null(c->health.exec_argv[3]);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_process_setup)
{
	const struct zone_config *a, *b;
	struct config *cfg;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\n");
	zone_with("beta", "[gateway]\ncommand = /bin/b\nuser = nobody\n"
	    "group = 65534\numask = 027\n[limits]\nnofile = 4096\n"
	    "nproc = unlimited\ncore = 64M\n");
	cfg = load("zonevisor.conf");
	a = config_zone(cfg, "alpha");
	b = config_zone(cfg, "beta");
	/* Unset: the VM inherits zonevisord's own. */
	ck_assert_ptr_null(a->user);
	ck_assert_ptr_null(a->group);
	ck_assert_int_eq(a->umask, -1);
	ck_assert_int_eq(a->limits.nofile, -1);
	ck_assert_int_eq(a->limits.nproc, -1);
	ck_assert_int_eq(a->limits.core, -1);
	ck_assert_str_eq(b->user, "nobody");
	ck_assert_str_eq(b->group, "65534");
	ck_assert_int_eq(b->umask, 027);
	ck_assert_int_eq(b->limits.nofile, 4096);
	ck_assert(b->limits.nproc == (int64_t)RLIM_INFINITY);
	ck_assert_int_eq(b->limits.core, 64 * 1024 * 1024);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_secrets)
{
	const struct zone_config *a, *b;
	struct config_errors errs;
	struct config *cfg;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\n");
	zone_with("beta", "[gateway]\ncommand = /bin/b\n[secrets]\n"
	    "TOKEN = file:/etc/zv/token\nAPI_KEY = env:ZV_API_KEY\n"
	    "DB = exec:/usr/bin/pass show 'db password'\n"
	    "delivery = files\ntimeout = 3s\n");
	cfg = load("zonevisor.conf");
	a = config_zone(cfg, "alpha");
	b = config_zone(cfg, "beta");
	ck_assert_uint_eq(a->nsecrets, 0);
	ck_assert_int_eq(a->secrets_delivery, SECRETS_ENV);
	ck_assert_int_eq(a->secrets_timeout_ms, 10000);
	ck_assert_uint_eq(b->nsecrets, 3);
	ck_assert_str_eq(b->secrets[0].name, "TOKEN");
	ck_assert_int_eq(b->secrets[0].kind, SECRET_FILE);
	ck_assert_str_eq(b->secrets[0].arg, "/etc/zv/token");
	ck_assert_str_eq(b->secrets[1].name, "API_KEY");
	ck_assert_int_eq(b->secrets[1].kind, SECRET_ENV);
	ck_assert_str_eq(b->secrets[1].arg, "ZV_API_KEY");
	ck_assert_int_eq(b->secrets[2].kind, SECRET_EXEC);
	ck_assert_str_eq(b->secrets[2].argv[0], "/usr/bin/pass");
	ck_assert_str_eq(b->secrets[2].argv[2], "db password");
	ck_assert_int_eq(b->secrets_delivery, SECRETS_FILES);
	ck_assert_int_eq(b->secrets_timeout_ms, 3000);
	config_free(cfg);

	/* A secret named twice is refused on its second line. */
	zone_with("beta", "[gateway]\ncommand = /bin/b\n[secrets]\n"
	    "TOKEN = env:A\nTOKEN = env:B\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/beta.conf", 5, "[secrets] TOKEN: secret "
	    "set twice");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_tool_vm)
{
	const struct zone_config *a, *b;
	struct config_errors errs;
	struct config *cfg;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\n");
	zone_with("beta", "[gateway]\ncommand = /bin/b\ningress_port = 9000\n"
	    "[tool-vm]\ncommand = /bin/tool --port %%port --slot %%slot "
	    "--lease %%lease --zone %%zone --pct 50%%%%\nbase_port = 9100\n"
	    "idle_ttl = 5m\nrelease_on_restart = no\n");
	cfg = load("zonevisor.conf");
	a = config_zone(cfg, "alpha");
	b = config_zone(cfg, "beta");
	ck_assert_int_eq(a->tool_vm.max_leases, 0);
	ck_assert_ptr_null(a->tool_vm.argv);
	ck_assert_int_eq(b->tool_vm.max_leases, 4);
	ck_assert_int_eq(b->tool_vm.base_port, 9100);
	ck_assert_int_eq(b->tool_vm.idle_ttl_ms, 300000);
	ck_assert_int_eq(b->tool_vm.release_on_restart, 0);
	ck_assert_str_eq(b->tool_vm.argv[2], "%port");
	ck_assert_str_eq(b->tool_vm.argv[10], "50%%");
	config_free(cfg);

	/* A range past 65535, or over the gateway's port, is refused. */
	zone_with("beta", "[gateway]\ncommand = /bin/b\ningress_port = 9101\n"
	    "[tool-vm]\ncommand = /bin/tool\nbase_port = 9100\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/beta.conf", 6, "[tool-vm] base_port: "
	    "ports 9100-9103 take [gateway] ingress_port 9101");
	config_errors_free(&errs);
	zone_with("beta", "[gateway]\ncommand = /bin/b\n[tool-vm]\n"
	    "command = /bin/tool\nbase_port = 65534\nmax_leases = 3\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/beta.conf", 5, "beyond 65535");
	config_errors_free(&errs);
	zone_with("beta", "[gateway]\ncommand = /bin/b\n[tool-vm]\n"
	    "base_port = 9100\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/beta.conf", 0, "[tool-vm] command: "
	    "required key is missing");
	config_errors_free(&errs);

	/* A long tool command goes on over indented lines, like the gateway's. */
	zone_with("beta", "[gateway]\ncommand = /bin/b\n[tool-vm]\n"
	    "command = /bin/tool --port %%port\n\t--slot %%slot\n"
	    "base_port = 9100\n");
	cfg = load("zonevisor.conf");
	b = config_zone(cfg, "beta");
	ck_assert_str_eq(b->tool_vm.command, "/bin/tool --port %port --slot %slot");
	ck_assert_str_eq(b->tool_vm.argv[4], "%slot");
	ck_assert_ptr_null(b->tool_vm.argv[5]);
	config_free(cfg);

	/* Across zones: no tool port on another zone's ports. */
	zone_with("alpha", "[gateway]\ncommand = /bin/a\ningress_port = 9102\n");
	zone_with("beta", "[gateway]\ncommand = /bin/b\n[tool-vm]\n"
	    "command = /bin/tool\nbase_port = 9100\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/beta.conf", 0, "[tool-vm] base_port: "
	    "ports 9100-9103 include the ingress_port of zone alpha");
	config_errors_free(&errs);
	zone_with("alpha", "[gateway]\ncommand = /bin/a\n[tool-vm]\n"
	    "command = /bin/tool\nbase_port = 9103\nmax_leases = 2\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/beta.conf", 0, "[tool-vm] base_port: "
	    "ports 9100-9103 overlap the [tool-vm] ports 9103-9104 of zone "
	    "alpha");
	ck_assert_uint_eq(errs.n, 1);
	config_errors_free(&errs);
	zone_with("alpha", "[gateway]\ncommand = /bin/a\n[tool-vm]\n"
	    "command = /bin/tool\nbase_port = 9104\n");
	config_free(load("zonevisor.conf"));
}
END_TEST

START_TEST(test_config_http_path_defaults_to_root)
{
	struct config *cfg;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\ningress_port = 8080\n"
	    "[health]\nprobe = http\n");
	cfg = load("zonevisor.conf");
	ck_assert_str_eq(config_zone(cfg, "alpha")->health.http_path, "/");
	config_free(cfg);
}
END_TEST

/* Probe settings that cannot work, each named on the line to change. */
static const struct {
	const char	*body;		/* after "[gateway]\ncommand = /bin/a\n" */
	int		 line;
	const char	*what;
	const char	*why;
} bad_health[] = {
	{ "[health]\nprobe = http\n", 4, "[health] probe: ",
	    "needs [gateway] ingress_port" },
	{ "[health]\nprobe = tcp\n", 4, "[health] probe: ",
	    "needs [gateway] ingress_port" },
	{ "[health]\nprobe = exec\n", 4, "[health] exec: ",
	    "needs the command to run" },
	{ "ingress_port = 80\n[health]\nprobe = tcp\ninterval = 1s\n"
	    "timeout = 1s\n", 7, "[health] timeout: ", "not shorter than "
	    "the interval" },
	{ "ingress_port = 80\n[health]\nprobe = tcp\ninterval = 1s\n", 6,
	    "[health] timeout: ", "2000ms is not shorter than the interval" },
	{ "ingress_port = 80\n[health]\nprobe = tcp\nexec = /bin/x\n", 6,
	    "[health] exec: ", "set, but the probe is tcp" },
	{ "ingress_port = 80\n[health]\nprobe = tcp\nhttp_path = /x\n", 6,
	    "[health] http_path: ", "set, but the probe is tcp" },
	{ "ingress_port = 80\nstart_timeout = 10s\n[health]\nprobe = tcp\n",
	    4, "[health] start_period: ", "longer than [gateway] start_timeout" },
	{ "[recovery]\nrestart_delay = 2s\nrestart_delay_max = 1s\n", 5,
	    "[recovery] restart_delay_max: ", "shorter than restart_delay" },
};

START_TEST(test_config_bad_health_combination)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\n%s", bad_health[_i].body);
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", bad_health[_i].line,
	    bad_health[_i].what);
	expect_error(&errs, "zones.d/alpha.conf", bad_health[_i].line,
	    bad_health[_i].why);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_duplicate_ingress_port)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\ncommand = /bin/a\ningress_port = 8443\n");
	zone_with("beta", "[gateway]\ncommand = /bin/b\ningress_port = 8443\n");
	zone_with("gamma", "[gateway]\ncommand = /bin/c\ningress_port = 8444\n");
	load_bad("zonevisor.conf", &errs);
	/* Reported once, on the second zone in name order. */
	expect_error(&errs, "zones.d/beta.conf", 0, "[gateway] ingress_port: ");
	expect_error(&errs, "zones.d/beta.conf", 0, "zone alpha");
	ck_assert_uint_eq(errs.n, 1);
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_control_socket_too_long)
{
	struct config_errors errs;
	char path[160];

	memset(path, 's', sizeof path);
	memcpy(path, "/tmp/", 5);
	path[sizeof path - 1] = '\0';
	put("zonevisor.conf", "[supervisor]\ncontrol_socket = %s\n", path);
	mk("zones.d");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 0, "[supervisor] control_socket: ");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_missing_zones_dir)
{
	struct config_errors errs;

	put("zonevisor.conf", MAIN_CONF "zones_dir = nowhere\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 0, "[supervisor] zones_dir: ");
	expect_error(&errs, "zonevisor.conf", 0, "nowhere");
	config_errors_free(&errs);

	/* The default zones.d must exist too. */
	put("zonevisor.conf", MAIN_CONF);
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 0, "[supervisor] zones_dir: ");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_missing_main_file)
{
	struct config_errors errs;

	load_bad("no-such.conf", &errs);
	ck_assert_uint_eq(errs.n, 1);
	expect_error(&errs, "no-such.conf", 0, "cannot open");
	config_errors_free(&errs);
	ck_assert_ptr_null(errs.lines);
	ck_assert_uint_eq(errs.n, 0);
}
END_TEST

START_TEST(test_config_syntax_error)
{
	struct config_errors errs;

	zone_with("alpha", "[gateway]\ncommand = /bin/vm\nthis is not a key\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "syntax error");
	config_errors_free(&errs);

	put("zonevisor.conf", MAIN_CONF "[supervisor\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 4, "syntax error");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_every_error_reported)
{
	struct config_errors errs;

	zone_with("alpha",
	    "[gateway]\n"
	    "command = /bin/vm | x\n"
	    "autostrat = yes\n"
	    "stop_signal = SIGFOO\n"
	    "ingress_port = 0\n"
	    "[log]\n"
	    "keep = many\n");
	/* Errors in two files are reported together. */
	zone_with("beta", "[gateway]\ncommand = /bin/vm\nautostart = perhaps\n");
	load_bad("zonevisor.conf", &errs);
	ck_assert_uint_eq(errs.n, 6);
	expect_error(&errs, "zones.d/alpha.conf", 2, "[gateway] command: ");
	expect_error(&errs, "zones.d/alpha.conf", 3, "[gateway] autostrat: ");
	expect_error(&errs, "zones.d/alpha.conf", 4, "[gateway] stop_signal: ");
	expect_error(&errs, "zones.d/alpha.conf", 5, "[gateway] ingress_port: ");
	expect_error(&errs, "zones.d/alpha.conf", 7, "[log] keep: ");
	expect_error(&errs, "zones.d/beta.conf", 3, "[gateway] autostart: ");
	config_errors_free(&errs);

	put("zonevisor.conf",
	    "[supervisor]\n"
	    "log_level = loud\n"
	    "shutdown_timeout = 10\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zonevisor.conf", 2, "[supervisor] log_level: ");
	expect_error(&errs, "zonevisor.conf", 3, "[supervisor] shutdown_timeout: ");
	config_errors_free(&errs);
}
END_TEST

START_TEST(test_config_syntax_error_after_key_error)
{
	struct config_errors errs;

	/* A syntax error is reported whether or not a key error came first. */
	zone_with("alpha",
	    "[gateway]\n"
	    "command = /bin/vm\n"
	    "autostart = maybe\n"
	    "this is not a key\n");
	load_bad("zonevisor.conf", &errs);
	expect_error(&errs, "zones.d/alpha.conf", 3, "[gateway] autostart: ");
	expect_error(&errs, "zones.d/alpha.conf", 4, "syntax error");
	config_errors_free(&errs);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, testdir_setup, testdir_teardown);
	tcase_add_test(tc, test_config_valid_files_parse);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_socket_follows_runtime_dir);
	tcase_add_test(tc, test_config_relative_paths_resolved);
	tcase_add_test(tc, test_config_zones_sorted);
	tcase_add_test(tc, test_config_command_continues_on_indented_lines);
	tcase_add_test(tc, test_config_longest_line_accepted);
	tcase_add_test(tc, test_config_ignores_other_files);
	tcase_add_test(tc, test_config_control_group);
	tcase_add_test(tc, test_config_metrics_listen);
	tcase_add_test(tc, test_config_zone_name_valid);
	tcase_add_loop_test(tc, test_config_bad_value_reported, 0,
	    (int)(sizeof bad_values / sizeof bad_values[0]));
	tcase_add_test(tc, test_config_unknown_section);
	tcase_add_test(tc, test_config_unknown_key);
	tcase_add_test(tc, test_config_duplicate_key);
	tcase_add_test(tc, test_config_key_outside_section);
	tcase_add_test(tc, test_config_missing_command);
	tcase_add_test(tc, test_config_invalid_zone_file_name);
	tcase_add_test(tc, test_config_long_line_refused);
	tcase_add_test(tc, test_config_indented_key_not_swallowed);
	tcase_add_test(tc, test_config_indented_env_not_swallowed);
	tcase_add_test(tc, test_config_command_operator_refused);
	tcase_add_test(tc, test_config_command_semicolon_refused);
	tcase_add_test(tc, test_config_bad_env_name);
	tcase_add_test(tc, test_config_health_defaults_and_values);
	tcase_add_test(tc, test_config_http_path_defaults_to_root);
	tcase_add_test(tc, test_config_process_setup);
	tcase_add_test(tc, test_config_secrets);
	tcase_add_test(tc, test_config_tool_vm);
	tcase_add_loop_test(tc, test_config_bad_health_combination, 0,
	    (int)(sizeof bad_health / sizeof bad_health[0]));
	tcase_add_test(tc, test_config_duplicate_ingress_port);
	tcase_add_test(tc, test_config_control_socket_too_long);
	tcase_add_test(tc, test_config_missing_zones_dir);
	tcase_add_test(tc, test_config_missing_main_file);
	tcase_add_test(tc, test_config_syntax_error);
	tcase_add_test(tc, test_config_every_error_reported);
	tcase_add_test(tc, test_config_syntax_error_after_key_error);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testdir_run("config", config_suite());
}
