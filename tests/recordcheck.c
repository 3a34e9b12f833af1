/*
 * recordcheck.c: the soak's "every log and record still reads".  Given a
 * state directory, it reads, for every zone under zones/, the lifecycle and
 * health logs with their rotated files (through records_read_all, as
 * zonectl events does), the runtime record and every lease record, and
 * prints one line per problem found: a damaged or unreadable log entry, a
 * record that does not parse.  It ends with a summary line and exits 1 if
 * there was any problem, 0 if everything read.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zonevisor.h"

struct tally {
	const char	*zone;
	long		 records;
	long		 problems;
};

static void
count_record(const void *payload, size_t len, const struct mval *map,
    void *arg)
{
	struct tally *t = arg;

	(void)payload;
	(void)len;
	(void)map;
	t->records++;
}

static void
count_problem(const char *what, void *arg)
{
	struct tally *t = arg;

	printf("zone %s: %s\n", t->zone, what);
	t->problems++;
}

/* The lease records of one zone; each must parse. */
static void
check_leases(const char *zdir, struct tally *t)
{
	char dir[PATH_MAX], cause[256], **paths;
	struct lease_record lr;
	size_t n, i;

	if (snprintf(dir, sizeof dir, "%s/leases", zdir) >= (int)sizeof dir) {
		count_problem("path too long", t);
		return;
	}
	if (leasefile_list(dir, &paths, &n) != 0) {
		count_problem("lease directory cannot be listed", t);
		return;
	}
	for (i = 0; i < n; i++) {
		if (leasefile_read(paths[i], &lr, cause, sizeof cause) == -1) {
			printf("zone %s: %s: %s\n", t->zone, paths[i], cause);
			t->problems++;
		} else
			t->records++;
	}
	argv_free(paths);
}

int
main(int argc, char **argv)
{
	static const struct records_cbs cbs = { count_record, count_problem };
	static const char *logs[] = { "lifecycle.log", "health.log" };
	char zones[PATH_MAX], zdir[PATH_MAX], path[PATH_MAX], cause[256];
	struct runtime_record rr;
	struct dirent *de;
	long nzones = 0, records = 0, problems = 0;
	size_t i;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: recordcheck STATE_DIR\n");
		return 2;
	}
	snprintf(zones, sizeof zones, "%s/zones", argv[1]);
	if ((d = opendir(zones)) == NULL) {
		perror(zones);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		struct tally t = { de->d_name, 0, 0 };

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(zdir, sizeof zdir, "%s/%s", zones, de->d_name) >=
		    (int)sizeof zdir - 32) {
			count_problem("path too long", &t);
			continue;
		}
		for (i = 0; i < sizeof logs / sizeof logs[0]; i++) {
			if (snprintf(path, sizeof path, "%s/%s", zdir,
			    logs[i]) >= (int)sizeof path)
				continue;	/* checked above */
			/* More rotated files than any configuration keeps. */
			records_read_all(path, 100, &cbs, &t);
		}
		if (snprintf(path, sizeof path, "%s/runtime", zdir) <
		    (int)sizeof path &&
		    runtime_read(path, &rr, cause, sizeof cause) == -1)
			count_problem(cause, &t);
		check_leases(zdir, &t);
		nzones++;
		records += t.records;
		problems += t.problems;
	}
	closedir(d);
	printf("recordcheck: %ld zones, %ld records read, %ld problems\n",
	    nzones, records, problems);
	return problems > 0 ? 1 : 0;
}
