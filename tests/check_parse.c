/*
 * check_parse.c: the value syntaxes of zonevisor.conf and zonectl arguments
 * (parse.c).  These tests protect an operator from a configuration that
 * means something other than what it says: a stop_timeout of "1.5s" or
 * "10" must be refused rather than read as 1 s or 10 ms, a size or duration
 * too large for the daemon's integers must be refused rather than wrap, and
 * every refusal must come with a reason the operator can read.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "zonevisor.h"

static Suite *parse_suite(void);

/* A duration that must be refused, with a reason. */
#define BAD_DURATION(s) do {						\
	int64_t v_ = -7;						\
	const char *c_ = NULL;						\
	ck_assert_msg(parse_duration((s), &v_, &c_) == -1,		\
	    "duration \"%s\" was accepted as %lld", (s), (long long)v_); \
	ck_assert_ptr_nonnull(c_);					\
	ck_assert_msg(*c_ != '\0', "empty cause for \"%s\"", (s));	\
} while (0)

/* A size that must be refused, with a reason. */
#define BAD_SIZE(s) do {						\
	int64_t v_ = -7;						\
	const char *c_ = NULL;						\
	ck_assert_msg(parse_size((s), &v_, &c_) == -1,			\
	    "size \"%s\" was accepted as %lld", (s), (long long)v_);	\
	ck_assert_ptr_nonnull(c_);					\
	ck_assert_msg(*c_ != '\0', "empty cause for \"%s\"", (s));	\
} while (0)

/* A signal that must be refused, with a reason. */
#define BAD_SIGNAL(s) do {						\
	int v_ = -7;							\
	const char *c_ = NULL;						\
	ck_assert_msg(parse_signal((s), &v_, &c_) == -1,		\
	    "signal \"%s\" was accepted as %d", (s), v_);		\
	ck_assert_ptr_nonnull(c_);					\
	ck_assert_msg(*c_ != '\0', "empty cause for \"%s\"", (s));	\
} while (0)

static const struct {
	const char	*text;
	int64_t		 ms;
} good_durations[] = {
	{ "0", 0 },
	{ "250ms", 250 },
	{ "10s", 10000 },
	{ "5m", 300000 },
	{ "1h", 3600000 },
	{ "1d", 86400000 },
	{ "1h30m", 5400000 },
	{ "1m 30s", 90000 },
	{ "1s500ms", 1500 },
	{ "0s", 0 },
};

START_TEST(test_parse_duration_units)
{
	int64_t ms = -1;
	const char *cause = NULL;

	ck_assert_int_eq(parse_duration(good_durations[_i].text, &ms, &cause), 0);
	ck_assert_int_eq(ms, good_durations[_i].ms);
}
END_TEST

START_TEST(test_parse_duration_rejects_malformed)
{
	BAD_DURATION("");
	BAD_DURATION("   ");
	BAD_DURATION("-1s");
	BAD_DURATION("10");		/* no unit: 10 what? */
	BAD_DURATION("10x");
	BAD_DURATION("10S");
	BAD_DURATION("10sec");
	BAD_DURATION("s");
	BAD_DURATION("1.5s");
	BAD_DURATION("10s!");
	BAD_DURATION("ms10");
}
END_TEST

START_TEST(test_parse_duration_rejects_overflow)
{
	BAD_DURATION("99999999999999999999s");	/* more than 64 bits */
	BAD_DURATION("999999999999d");		/* fits 64 bits, not in ms */
	BAD_DURATION("9223372036854775807ms");
	BAD_DURATION("106751991167d");		/* INT64_MAX ms is ~1.07e11 d */
}
END_TEST

START_TEST(test_parse_duration_large_sums_stay_exact)
{
	int64_t ms = 0;
	const char *cause = NULL;

	/* 2^53 ms is the documented ceiling: it must parse exactly... */
	ck_assert_int_eq(parse_duration("9007199254740992ms", &ms, &cause), 0);
	ck_assert_int_eq(ms, (int64_t)1 << 53);
	/* ...and one more millisecond, even spread over groups, must not. */
	BAD_DURATION("9007199254740993ms");
	BAD_DURATION("9007199254740992ms 1ms");
}
END_TEST

static const struct {
	const char	*text;
	int64_t		 bytes;
} good_sizes[] = {
	{ "0", 0 },
	{ "1024", 1024 },
	{ "1024B", 1024 },
	{ "64K", 64 * 1024 },
	{ "4k", 4 * 1024 },
	{ "4M", 4 * 1024 * 1024 },
	{ "1G", 1024 * 1024 * 1024 },
	{ "4MiB", 4 * 1024 * 1024 },
	{ "4MB", 4 * 1024 * 1024 },
	{ "2T", (int64_t)2 * 1024 * 1024 * 1024 * 1024 },
};

START_TEST(test_parse_size_suffixes)
{
	int64_t bytes = -1;
	const char *cause = NULL;

	ck_assert_int_eq(parse_size(good_sizes[_i].text, &bytes, &cause), 0);
	ck_assert_int_eq(bytes, good_sizes[_i].bytes);
}
END_TEST

START_TEST(test_parse_size_rejects_malformed)
{
	BAD_SIZE("");
	BAD_SIZE("-1");
	BAD_SIZE("-4K");
	BAD_SIZE("4Q");
	BAD_SIZE("K");
	BAD_SIZE("4 M x");
	BAD_SIZE("4MX");
	BAD_SIZE("4KK");
	BAD_SIZE("1.5M");
}
END_TEST

START_TEST(test_parse_size_rejects_overflow)
{
	BAD_SIZE("99999999999999999999");	/* more than 64 bits */
	BAD_SIZE("9223372036854775808");	/* INT64_MAX + 1 */
	BAD_SIZE("8388608T");			/* 2^63 bytes */
	BAD_SIZE("9007199254740992K");		/* 2^63 bytes */
}
END_TEST

START_TEST(test_parse_signal_names_and_numbers)
{
	int sig = -1;
	const char *cause = NULL;

	ck_assert_int_eq(parse_signal("SIGTERM", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGTERM);
	sig = -1;
	ck_assert_int_eq(parse_signal("TERM", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGTERM);
	sig = -1;
	ck_assert_int_eq(parse_signal("term", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGTERM);
	sig = -1;
	ck_assert_int_eq(parse_signal("sigterm", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGTERM);
	sig = -1;
	ck_assert_int_eq(parse_signal("15", &sig, &cause), 0);
	ck_assert_int_eq(sig, 15);
	sig = -1;
	ck_assert_int_eq(parse_signal("SIGKILL", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGKILL);
	sig = -1;
	ck_assert_int_eq(parse_signal("SIGINT", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGINT);
	sig = -1;
	ck_assert_int_eq(parse_signal("hup", &sig, &cause), 0);
	ck_assert_int_eq(sig, SIGHUP);
	/* Real-time signals may or may not have names; only no crash here. */
	(void)parse_signal("SIGRTMIN", &sig, &cause);
}
END_TEST

START_TEST(test_parse_signal_rejects_unknown)
{
	char buf[16];

	BAD_SIGNAL("SIGFOO");
	BAD_SIGNAL("FOO");
	BAD_SIGNAL("SIG");
	BAD_SIGNAL("0");
	BAD_SIGNAL("-15");
	BAD_SIGNAL("999");
	BAD_SIGNAL("");
	BAD_SIGNAL("15x");
	BAD_SIGNAL(" 15");
	BAD_SIGNAL("SIGTERM ");
	snprintf(buf, sizeof buf, "%d", NSIG);
	BAD_SIGNAL(buf);
}
END_TEST

START_TEST(test_parse_bool_words)
{
	static const char *const yes[] = {
		"yes", "YES", "Yes", "true", "TRUE", "True", "on", "ON", "On", "1"
	};
	static const char *const no[] = {
		"no", "NO", "No", "false", "FALSE", "False", "off", "OFF", "Off", "0"
	};
	size_t i;
	int v;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		v = -1;
		ck_assert_msg(parse_bool(yes[i], &v) == 0, "%s refused", yes[i]);
		ck_assert_msg(v == 1, "%s read as %d", yes[i], v);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		v = -1;
		ck_assert_msg(parse_bool(no[i], &v) == 0, "%s refused", no[i]);
		ck_assert_msg(v == 0, "%s read as %d", no[i], v);
	}
}
END_TEST

START_TEST(test_parse_bool_rejects_others)
{
	static const char *const bad[] = {
		"maybe", "", "y", "n", "2", "yes ", " no", "enabled", "01"
	};
	size_t i;
	int v;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = -1;
		ck_assert_msg(parse_bool(bad[i], &v) == -1,
		    "\"%s\" accepted as %d", bad[i], v);
	}
}
END_TEST

START_TEST(test_parse_int_ranges)
{
	int64_t v = 0;

	ck_assert_int_eq(parse_int("1", 1, 65535, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(parse_int("65535", 1, 65535, &v), 0);
	ck_assert_int_eq(v, 65535);
	ck_assert_int_eq(parse_int("-1", -1, 255, &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(parse_int("0", 0, 0, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(parse_int("9223372036854775807", 0, INT64_MAX, &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_int_eq(parse_int("-9223372036854775808", INT64_MIN, 0, &v), 0);
	ck_assert_int_eq(v, INT64_MIN);

	v = 42;
	ck_assert_int_eq(parse_int("0", 1, 65535, &v), -1);
	ck_assert_int_eq(parse_int("65536", 1, 65535, &v), -1);
	ck_assert_int_eq(parse_int("-2", -1, 255, &v), -1);
	ck_assert_int_eq(parse_int("256", -1, 255, &v), -1);
	/* A refused value leaves the output alone. */
	ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_parse_int_rejects_malformed)
{
	int64_t v = 42;

	ck_assert_int_eq(parse_int("", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int("12abc", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int("12 ", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int(" 12", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int("\t12", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int("0x10", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int("1e2", 0, 1000, &v), -1);
	ck_assert_int_eq(parse_int("-", -10, 10, &v), -1);
	ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_parse_int_rejects_overflow)
{
	int64_t v = 42;

	ck_assert_int_eq(parse_int("9223372036854775808", 0, INT64_MAX, &v), -1);
	ck_assert_int_eq(parse_int("-9223372036854775809", INT64_MIN, 0, &v), -1);
	ck_assert_int_eq(parse_int("99999999999999999999999", INT64_MIN,
	    INT64_MAX, &v), -1);
	ck_assert_int_eq(v, 42);
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_duration_units, 0,
	    (int)(sizeof good_durations / sizeof good_durations[0]));
	tcase_add_test(tc, test_parse_duration_rejects_malformed);
	tcase_add_test(tc, test_parse_duration_rejects_overflow);
	tcase_add_test(tc, test_parse_duration_large_sums_stay_exact);
	tcase_add_loop_test(tc, test_parse_size_suffixes, 0,
	    (int)(sizeof good_sizes / sizeof good_sizes[0]));
	tcase_add_test(tc, test_parse_size_rejects_malformed);
	tcase_add_test(tc, test_parse_size_rejects_overflow);
	tcase_add_test(tc, test_parse_signal_names_and_numbers);
	tcase_add_test(tc, test_parse_signal_rejects_unknown);
	tcase_add_test(tc, test_parse_bool_words);
	tcase_add_test(tc, test_parse_bool_rejects_others);
	tcase_add_test(tc, test_parse_int_ranges);
	tcase_add_test(tc, test_parse_int_rejects_malformed);
	tcase_add_test(tc, test_parse_int_rejects_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
