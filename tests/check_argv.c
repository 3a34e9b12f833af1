/*
 * check_argv.c: the shell-like splitting of a zone's [gateway] command
 * (argv.c).  No shell ever runs, so these tests protect an operator from a
 * command that would mean one thing to a reader used to sh(1) and another
 * to zonevisord: quoting must give exactly the words sh would give, and
 * anything sh would interpret (operators, expansions, comments) must be
 * refused with a reason instead of reaching the VM as a literal argument.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "zonevisor.h"

static Suite *argv_suite(void);
static void expect_words(const char *, ...);
static void expect_error(const char *, const char *);

/*
 * Split command and check it gives exactly the NULL-terminated list of
 * words that follows, and a matching argc.
 */
static void
expect_words(const char *command, ...)
{
	const char *cause = NULL, *want;
	char **argv;
	int argc = -1, n = 0;
	va_list ap;

	argv = argv_split(command, &argc, &cause);
	ck_assert_msg(argv != NULL, "[%s] refused: %s", command,
	    cause != NULL ? cause : "(no cause)");
	va_start(ap, command);
	while ((want = va_arg(ap, const char *)) != NULL) {
		ck_assert_msg(argv[n] != NULL, "[%s]: word %d missing, want [%s]",
		    command, n, want);
		ck_assert_msg(strcmp(argv[n], want) == 0,
		    "[%s]: word %d is [%s], want [%s]", command, n, argv[n], want);
		n++;
	}
	va_end(ap);
	ck_assert_msg(argv[n] == NULL, "[%s]: extra word [%s]", command,
	    argv[n]);
	ck_assert_msg(argc == n, "[%s]: argc %d, want %d", command, argc, n);
	argv_free(argv);
}

/* Split command and check it is refused with a cause containing want. */
static void
expect_error(const char *command, const char *want)
{
	const char *cause = NULL;
	char **argv;
	int argc = -1;

	argv = argv_split(command, &argc, &cause);
	if (argv != NULL) {
		argv_free(argv);
		ck_abort_msg("[%s] accepted, want an error about %s", command,
		    want);
	}
	ck_assert_msg(cause != NULL && *cause != '\0', "[%s]: no cause",
	    command);
	ck_assert_msg(strstr(cause, want) != NULL,
	    "[%s]: cause \"%s\" does not mention \"%s\"", command, cause, want);
}

START_TEST(test_argv_plain_words)
{
	expect_words("/usr/bin/qemu", "/usr/bin/qemu", NULL);
	expect_words("/usr/bin/qemu -m 512 -nographic",
	    "/usr/bin/qemu", "-m", "512", "-nographic", NULL);
	expect_words("a=b c,d:e/f.g@h%i+j~k", "a=b", "c,d:e/f.g@h%i+j~k", NULL);
}
END_TEST

START_TEST(test_argv_blanks_separate)
{
	expect_words("  a   b\t\tc \t d  ", "a", "b", "c", "d", NULL);
	expect_words("\ta\n b\r\n", "a", "b", NULL);
}
END_TEST

START_TEST(test_argv_argc_and_terminator)
{
	const char *cause = NULL;
	char **argv;
	int argc = -1;

	argv = argv_split("one two three four five", &argc, &cause);
	ck_assert_ptr_nonnull(argv);
	ck_assert_int_eq(argc, 5);
	ck_assert_str_eq(argv[4], "five");
	ck_assert_ptr_null(argv[5]);
	argv_free(argv);

	argc = -1;
	argv = argv_split("'single'", &argc, &cause);
	ck_assert_ptr_nonnull(argv);
	ck_assert_int_eq(argc, 1);
	ck_assert_str_eq(argv[0], "single");
	ck_assert_ptr_null(argv[1]);
	argv_free(argv);

	argv_free(NULL);	/* like free(3) */
}
END_TEST

START_TEST(test_argv_single_quotes_are_literal)
{
	expect_words("'a b'", "a b", NULL);
	expect_words("'$HOME' '`id`'", "$HOME", "`id`", NULL);
	expect_words("'a\\b' 'c\\'", "a\\b", "c\\", NULL);
	expect_words("'a \"b\" c'", "a \"b\" c", NULL);
	expect_words("'| & ; < > ( ) #'", "| & ; < > ( ) #", NULL);
	expect_words("'tab\there'", "tab\there", NULL);
}
END_TEST

START_TEST(test_argv_double_quote_escapes)
{
	expect_words("\"a b\"", "a b", NULL);
	expect_words("\"say \\\"hi\\\"\"", "say \"hi\"", NULL);
	expect_words("\"back\\\\slash\"", "back\\slash", NULL);
	expect_words("\"\\$HOME\"", "$HOME", NULL);
	expect_words("\"\\`id\\`\"", "`id`", NULL);
	/* Other backslashes stay, as in sh. */
	expect_words("\"a\\nb\"", "a\\nb", NULL);
	expect_words("\"it's\"", "it's", NULL);
	expect_words("\"| & ; # ( )\"", "| & ; # ( )", NULL);
}
END_TEST

START_TEST(test_argv_backslash_outside_quotes)
{
	expect_words("a\\ b", "a b", NULL);
	expect_words("\\$HOME", "$HOME", NULL);
	expect_words("\\|\\&\\;\\<\\>\\(\\)", "|&;<>()", NULL);
	expect_words("\\'x\\'", "'x'", NULL);
	expect_words("\\\"", "\"", NULL);
	expect_words("\\\\", "\\", NULL);
	expect_words("\\#x", "#x", NULL);
	expect_words("\\a", "a", NULL);
}
END_TEST

START_TEST(test_argv_empty_arguments)
{
	expect_words("''", "", NULL);
	expect_words("\"\"", "", NULL);
	expect_words("cmd '' x \"\" y", "cmd", "", "x", "", "y", NULL);
	expect_words("cmd ''", "cmd", "", NULL);
}
END_TEST

START_TEST(test_argv_adjacent_pieces_join)
{
	expect_words("a'b'\"c\"", "abc", NULL);
	expect_words("--name='my zone'", "--name=my zone", NULL);
	expect_words("''x''", "x", NULL);
	expect_words("a\\ b'c d'\"e f\"g", "a bc de fg", NULL);
}
END_TEST

START_TEST(test_argv_hash_inside_word)
{
	expect_words("a#b", "a#b", NULL);
	expect_words("a# b", "a#", "b", NULL);
	expect_words("x '#' \"#\"", "x", "#", "#", NULL);
	expect_words("''#", "#", NULL);
}
END_TEST

START_TEST(test_argv_rejects_empty)
{
	expect_error("", "empty");
	expect_error("   ", "empty");
	expect_error("\t \n", "empty");
}
END_TEST

START_TEST(test_argv_rejects_unterminated)
{
	expect_error("'abc", "single quote");
	expect_error("cmd 'a b", "single quote");
	expect_error("\"abc", "double quote");
	expect_error("cmd \"a\\\"", "double quote");
	expect_error("\"a\\", "double quote");
	expect_error("cmd \\", "backslash");
	expect_error("\\", "backslash");
}
END_TEST

START_TEST(test_argv_rejects_operators)
{
	static const char *const cmds[] = {
		"a | b", "a|b", "a & b", "a&", "a ; b", "a;b", "a < f",
		"a>f", "a >> f", "(a)", "a )", "a 2>&1",
	};
	size_t i;

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		expect_error(cmds[i], "operator");
}
END_TEST

START_TEST(test_argv_rejects_expansions)
{
	expect_error("echo $HOME", "$");
	expect_error("echo a$b", "$");
	expect_error("echo `id`", "$");
	expect_error("echo \"$HOME\"", "$");
	expect_error("echo \"a`id`\"", "$");
	expect_error("echo \"${x}\"", "$");
}
END_TEST

START_TEST(test_argv_rejects_comment)
{
	expect_error("# cmd", "'#'");
	expect_error("cmd #comment", "'#'");
	expect_error("cmd\t# x", "'#'");
}
END_TEST

static Suite *
argv_suite(void)
{
	Suite *s = suite_create("argv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_argv_plain_words);
	tcase_add_test(tc, test_argv_blanks_separate);
	tcase_add_test(tc, test_argv_argc_and_terminator);
	tcase_add_test(tc, test_argv_single_quotes_are_literal);
	tcase_add_test(tc, test_argv_double_quote_escapes);
	tcase_add_test(tc, test_argv_backslash_outside_quotes);
	tcase_add_test(tc, test_argv_empty_arguments);
	tcase_add_test(tc, test_argv_adjacent_pieces_join);
	tcase_add_test(tc, test_argv_hash_inside_word);
	tcase_add_test(tc, test_argv_rejects_empty);
	tcase_add_test(tc, test_argv_rejects_unterminated);
	tcase_add_test(tc, test_argv_rejects_operators);
	tcase_add_test(tc, test_argv_rejects_expansions);
	tcase_add_test(tc, test_argv_rejects_comment);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(argv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
