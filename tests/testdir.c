/*
 * testdir.c: the base directory of a unit-test program and each test's
 * private directory inside it (see testdir.h).  The base's path is made
 * real, so that paths the code under test resolves compare equal to ours.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "testdir.h"

char tmpdir[1024];
static char basedir[1024];

/* nftw(3) callback: remove one file or (empty, by FTW_DEPTH) directory. */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Remove a directory tree. */
void
testdir_rm_rf(const char *path)
{
	if (path[0] != '\0')
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make the base directory /tmp/zv-check-NAME.XXXXXX; -1 (said) if not. */
int
testdir_init(const char *name)
{
	char *real;

	if (snprintf(basedir, sizeof basedir, "/tmp/zv-check-%s.XXXXXX",
	    name) >= (int)sizeof basedir || mkdtemp(basedir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	if ((real = realpath(basedir, NULL)) != NULL) {
		snprintf(basedir, sizeof basedir, "%s", real);
		free(real);
	}
	return 0;
}

/*
 * main() of a test program: run suite s in base directory
 * /tmp/zv-check-NAME.XXXXXX, remove it, and return the exit status.
 */
int
testdir_run(const char *name, Suite *s)
{
	SRunner *sr;
	int failed;

	if (testdir_init(name) == -1)
		return EXIT_FAILURE;
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	testdir_done();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Remove the base directory and all in it. */
void
testdir_done(void)
{
	testdir_rm_rf(basedir);
}

/* Checked fixture: a fresh private directory for this test. */
void
testdir_setup(void)
{
	if (snprintf(tmpdir, sizeof tmpdir, "%s/t.XXXXXX", basedir) >=
	    (int)sizeof tmpdir || mkdtemp(tmpdir) == NULL)
		ck_abort_msg("mkdtemp %s: %s", tmpdir, strerror(errno));
}

/* Checked fixture: remove it again. */
void
testdir_teardown(void)
{
	testdir_rm_rf(tmpdir);
	tmpdir[0] = '\0';
}

/* The absolute path of rel inside the test directory (a few at a time). */
const char *
testdir_at(const char *rel)
{
	static char ring[8][PATH_MAX];
	static int next;
	char *p = ring[next++ % 8];

	if (snprintf(p, PATH_MAX, "%s/%s", tmpdir, rel) >= PATH_MAX)
		ck_abort_msg("path too long: %s/%s", tmpdir, rel);
	return p;
}
