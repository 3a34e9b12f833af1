/*
 * testdir.h: private directories for the unit tests that touch files.
 * main() makes one base directory under /tmp (testdir_init) and removes it
 * at the end (testdir_done); each test gets a fresh directory inside it
 * from the checked fixtures testdir_setup/testdir_teardown, so a failed
 * test, whose forked process ends without teardown, leaves nothing behind.
 * testdir_run does all of a test program's main() around its suite.
 */
#ifndef ZV_TESTDIR_H
#define ZV_TESTDIR_H

#include <check.h>

/* This test's private directory (empty outside a test). */
extern char tmpdir[1024];

int testdir_init(const char *name);
int testdir_run(const char *name, Suite *s);
void testdir_done(void);
void testdir_setup(void);
void testdir_teardown(void);
const char *testdir_at(const char *rel);
void testdir_rm_rf(const char *path);

#endif
