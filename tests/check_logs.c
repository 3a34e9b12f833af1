/*
 * check_logs.c: a zone's console log as zonectl logs reads it (logs.c).
 * These tests protect what an operator sees of a VM's output: the last N
 * lines, oldest first, across the rotated files and a line that a rotation
 * cut in two; a last line without its newline; long lines in pieces; the
 * 512 KiB bound of one answer, said to be hit; and a follower (logs_poll)
 * that hands out every line exactly once, in order, across appends, a
 * rotation (with output appended to the old file before the rename), a
 * truncation, a file that appears later and a budget that cuts a read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "zonevisor.h"
#include "testdir.h"

#define LOG	"console.log"

/* Append s to the file rel of the test's directory. */
static void
append(const char *rel, const char *s)
{
	int fd = open(testdir_at(rel), O_WRONLY | O_APPEND | O_CREAT, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* The lines of l joined with '|', in a static buffer. */
static const char *
joined(const struct log_lines *l)
{
	static char buf[65536];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < l->n && off < sizeof buf - 1; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
		    i > 0 ? "|" : "", l->v[i].s);
	return buf;
}

/* logs_last of the test's console.log, keep rotated files, n lines. */
static const char *
last(int keep, size_t n, struct log_lines *l)
{
	logs_last(testdir_at(LOG), keep, n, NULL, l);
	return joined(l);
}

START_TEST(test_logs_last_n_across_rotated_files)
{
	struct log_lines l;

	append(LOG ".2", "a1\na2\n");
	append(LOG ".1", "b1\nb2\nb-cut-");
	append(LOG, "in-two\nc1\n");
	ck_assert_str_eq(last(2, 2, &l), "b-cut-in-two|c1");
	ck_assert_int_eq(l.truncated, 0);
	logs_free(&l);
	ck_assert_str_eq(last(2, 100, &l), "a1|a2|b1|b2|b-cut-in-two|c1");
	ck_assert_int_eq(l.truncated, 0);
	logs_free(&l);
	/* keep says how far back to look. */
	ck_assert_str_eq(last(1, 100, &l), "b1|b2|b-cut-in-two|c1");
	logs_free(&l);
	ck_assert_str_eq(last(0, 100, &l), "in-two|c1");
	logs_free(&l);
	ck_assert_str_eq(last(2, 0, &l), "");
	logs_free(&l);
}
END_TEST

START_TEST(test_logs_last_unended_line_and_missing_files)
{
	struct log_lines l;

	/* No file at all: no lines, no problem. */
	ck_assert_str_eq(last(3, 20, &l), "");
	ck_assert_int_eq((int)l.nproblems, 0);
	logs_free(&l);
	append(LOG ".2", "old\n");	/* .1 missing: skipped */
	append(LOG, "x\nno newline");
	ck_assert_str_eq(last(3, 20, &l), "old|x|no newline");
	logs_free(&l);
	ck_assert_str_eq(last(3, 1, &l), "no newline");
	logs_free(&l);
	/* Empty lines are lines. */
	append(LOG, "\n\n\n");
	ck_assert_str_eq(last(3, 3, &l), "no newline||");
	logs_free(&l);
}
END_TEST

START_TEST(test_logs_last_long_lines_in_pieces)
{
	struct log_lines l;
	char *big = malloc(20001);

	memset(big, 'x', 20000);
	big[20000] = '\0';
	append(LOG, "before\n");
	append(LOG, big);
	append(LOG, "\nafter\n");
	logs_last(testdir_at(LOG), 0, 10, NULL, &l);
	ck_assert_int_eq((int)l.n, 5);
	ck_assert_str_eq(l.v[0].s, "before");
	ck_assert_int_eq((int)l.v[1].len, LOGS_LINE_MAX);
	ck_assert_int_eq((int)l.v[2].len, LOGS_LINE_MAX);
	ck_assert_int_eq((int)l.v[3].len, 20000 - 2 * LOGS_LINE_MAX);
	ck_assert_str_eq(l.v[4].s, "after");
	logs_free(&l);
	free(big);
}
END_TEST

START_TEST(test_logs_last_bounded_and_says_so)
{
	struct log_lines l;
	char line[1025];
	int i;

	/* 2 MiB of 1 KiB lines: only the newest 512 KiB can come. */
	memset(line, 'y', sizeof line - 2);
	line[sizeof line - 2] = '\n';
	line[sizeof line - 1] = '\0';
	for (i = 0; i < 2048; i++)
		append(LOG, line);
	append(LOG, "last\n");
	logs_last(testdir_at(LOG), 0, LOGS_LINES_MAX, NULL, &l);
	ck_assert_int_eq(l.truncated, 1);
	ck_assert_int_le((int)l.bytes, LOGS_ANSWER_BYTES);
	ck_assert_int_ge((int)l.n, LOGS_ANSWER_BYTES / 1024 - 2);
	ck_assert_str_eq(l.v[l.n - 1].s, "last");
	for (i = 0; i < (int)l.n - 1; i++)
		ck_assert_int_eq((int)l.v[i].len, 1023);	/* no piece */
	logs_free(&l);
	/* Enough lines within the bound: not truncated. */
	logs_last(testdir_at(LOG), 0, 10, NULL, &l);
	ck_assert_int_eq(l.truncated, 0);
	ck_assert_int_eq((int)l.n, 10);
	logs_free(&l);
}
END_TEST

/* One poll's lines, joined. */
static const char *
poll_lines(struct logs_tail *t, size_t budget, int *more)
{
	static char buf[4096];
	struct log_lines l;
	int m;

	m = logs_poll(t, budget, &l);
	if (more != NULL)
		*more = m;
	snprintf(buf, sizeof buf, "%s", joined(&l));
	logs_free(&l);
	return buf;
}

START_TEST(test_logs_follow_appends_rotation_truncation)
{
	struct logs_tail t;
	struct log_lines l;
	char from[1024];

	append(LOG ".1", "old\n");
	append(LOG, "one\ntwo\nhalf-");
	logs_last(testdir_at(LOG), 1, 1, &t, &l);
	ck_assert_str_eq(joined(&l), "two");	/* "half-" waits */
	logs_free(&l);
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "");
	append(LOG, "line\nthree\n");
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL),
	    "half-line|three");
	/* Rotation: appended to the old file before the rename, then new. */
	append(LOG, "late-in-old\ncut-");
	snprintf(from, sizeof from, "%s", testdir_at(LOG));
	ck_assert_int_eq(rename(from, testdir_at(LOG ".1")), 0);
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "late-in-old");
	append(LOG, "across\nnew\n");
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "cut-across|new");
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "");
	/*
	 * Truncation, seen (as inotify makes it) before the file has grown
	 * back past where the reader was: read again from the start.
	 */
	ck_assert_int_eq(truncate(testdir_at(LOG), 0), 0);
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "");
	append(LOG, "after-truncate\n");
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "after-truncate");
	logs_tail_close(&t);
}
END_TEST

START_TEST(test_logs_follow_file_created_later)
{
	struct logs_tail t;
	struct log_lines l;

	logs_last(testdir_at(LOG), 3, 20, &t, &l);
	ck_assert_int_eq((int)l.n, 0);
	logs_free(&l);
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "");
	append(LOG, "first\n");
	ck_assert_str_eq(poll_lines(&t, LOGS_POLL_BYTES, NULL), "first");
	logs_tail_close(&t);
}
END_TEST

START_TEST(test_logs_follow_budget_resumes)
{
	struct logs_tail t;
	struct log_lines l;
	int more;

	append(LOG, "");
	logs_last(testdir_at(LOG), 0, 0, &t, &l);
	logs_free(&l);
	append(LOG, "aaaa\nbbbb\ncccc\n");	/* 15 bytes */
	ck_assert_str_eq(poll_lines(&t, 7, &more), "aaaa");
	ck_assert_int_eq(more, 1);
	ck_assert_str_eq(poll_lines(&t, 7, &more), "bbbb");
	ck_assert_int_eq(more, 1);
	ck_assert_str_eq(poll_lines(&t, 7, &more), "cccc");
	ck_assert_int_eq(more, 0);
	logs_tail_close(&t);
}
END_TEST

static Suite *
logs_suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, testdir_setup, testdir_teardown);
	tcase_add_test(tc, test_logs_last_n_across_rotated_files);
	tcase_add_test(tc, test_logs_last_unended_line_and_missing_files);
	tcase_add_test(tc, test_logs_last_long_lines_in_pieces);
	tcase_add_test(tc, test_logs_last_bounded_and_says_so);
	tcase_add_test(tc, test_logs_follow_appends_rotation_truncation);
	tcase_add_test(tc, test_logs_follow_file_created_later);
	tcase_add_test(tc, test_logs_follow_budget_resumes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testdir_run("logs", logs_suite());
}
