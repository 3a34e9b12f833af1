/*
 * check_json.c: zonectl --json (json.c).  Scripts parse what it prints, so
 * every value must come out as valid JSON whatever the daemon put in it:
 * quotes, backslashes and control characters escaped, valid UTF-8 kept,
 * invalid bytes replaced by U+FFFD, integers exact to their extremes,
 * non-finite floats as null, and containers nested as they came.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "zonevisor.h"

static Suite *json_suite(void);
static char *print_value(struct msgw *);
static char *print_string(const char *, size_t);

/* Decode the frame w holds and print it as JSON; the caller frees. */
static char *
print_value(struct msgw *w)
{
	const char *frame, *cause = NULL;
	struct mdoc *doc;
	size_t len, size = 0;
	char *out = NULL;
	FILE *f;

	frame = msgw_frame(w, &len);
	doc = mdoc_parse(frame + FRAME_HEADER, len - FRAME_HEADER, &cause);
	ck_assert_msg(doc != NULL, "parse: %s", cause);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &size));
	json_print(f, mdoc_root(doc));
	fclose(f);
	mdoc_free(doc);
	msgw_free(w);
	return out;
}

/* s (len bytes) packed as one msgpack string, printed as JSON. */
static char *
print_string(const char *s, size_t len)
{
	struct msgw *w = msgw_new();

	msgw_strn(w, s, len);
	return print_value(w);
}

#define EXPECT_STRING(in, want) do {					\
	char *got_ = print_string((in), sizeof (in) - 1);		\
	ck_assert_str_eq(got_, (want));					\
	free(got_);							\
} while (0)

START_TEST(test_json_plain_string)
{
	EXPECT_STRING("alpha-start-1 running", "\"alpha-start-1 running\"");
	EXPECT_STRING("", "\"\"");
}
END_TEST

START_TEST(test_json_escapes)
{
	EXPECT_STRING("say \"hi\"", "\"say \\\"hi\\\"\"");
	EXPECT_STRING("C:\\vm", "\"C:\\\\vm\"");
	EXPECT_STRING("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	EXPECT_STRING("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	/* A NUL inside the string is escaped, not an end. */
	EXPECT_STRING("a\0b", "\"a\\u0000b\"");
}
END_TEST

START_TEST(test_json_utf8)
{
	/* Two-, three- and four-byte sequences pass unchanged. */
	EXPECT_STRING("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Stray continuation, bad lead byte, truncated sequence at the end. */
	EXPECT_STRING("\x80x\xffy\xe2\x82", "\"\\ufffdx\\ufffdy\\ufffd\\ufffd\"");
	/* Overlong encoding and an encoded surrogate are not UTF-8. */
	EXPECT_STRING("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	EXPECT_STRING("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(test_json_long_string_worst_case)
{
	/* Every byte expands to six: the buffer must grow for all of them. */
	size_t n = 100000, i;
	char *in = malloc(n), *got;

	ck_assert_ptr_nonnull(in);
	memset(in, 0x01, n);
	got = print_string(in, n);
	ck_assert_uint_eq(strlen(got), n * 6 + 2);
	for (i = 1; i < n * 6; i += 6)
		ck_assert_int_eq(memcmp(got + i, "\\u0001", 6), 0);
	free(got);
	free(in);
}
END_TEST

START_TEST(test_json_scalars)
{
	struct msgw *w = msgw_new();
	char *got;

	msgw_array_begin(w);
	msgw_int(w, 0);
	msgw_int(w, -1);
	msgw_int(w, INT64_MAX);
	msgw_int(w, INT64_MIN);
	msgw_bool(w, 1);
	msgw_bool(w, 0);
	msgw_nil(w);
	msgw_double(w, 0.5);
	msgw_double(w, 1.0 / 0.0);
	msgw_array_end(w);
	got = print_value(w);
	ck_assert_str_eq(got, "[0,-1,9223372036854775807,-9223372036854775808,"
	    "true,false,null,0.5,null]");
	free(got);
}
END_TEST

START_TEST(test_json_nested)
{
	struct msgw *w = msgw_new();
	char *got;

	msgw_map_begin(w);
	msgw_str(w, "zones");
	msgw_array_begin(w);
	msgw_map_begin(w);
	msgw_str(w, "name");
	msgw_str(w, "al\"pha");
	msgw_str(w, "recovery");
	msgw_map_begin(w);
	msgw_map_end(w);
	msgw_map_end(w);
	msgw_array_begin(w);
	msgw_array_end(w);
	msgw_array_end(w);
	msgw_str(w, "ok");
	msgw_bool(w, 1);
	msgw_map_end(w);
	got = print_value(w);
	ck_assert_str_eq(got, "{\"zones\":[{\"name\":\"al\\\"pha\","
	    "\"recovery\":{}},[]],\"ok\":true}");
	free(got);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("print");

	tcase_add_test(tc, test_json_plain_string);
	tcase_add_test(tc, test_json_escapes);
	tcase_add_test(tc, test_json_utf8);
	tcase_add_test(tc, test_json_long_string_worst_case);
	tcase_add_test(tc, test_json_scalars);
	tcase_add_test(tc, test_json_nested);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
