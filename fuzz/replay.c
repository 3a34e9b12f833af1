/*
 * replay.c: a main() for the fuzz targets without libFuzzer, so that make
 * check, with gcc and in the sanitizer build, feeds every input kept in
 * fuzz/corpus/ (the seeds, and the input of every crash once found and
 * fixed) to each target's LLVMFuzzerTestOneInput.  Arguments are files or
 * directories of files; an input that crashes the target ends the run.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feed one file to the target; -1 if it cannot be read. */
static int
replay_file(const char *path)
{
	unsigned char *buf;
	struct stat sb;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* A copy of exactly its size, so reading past it is caught. */
	buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
	n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	if (buf == NULL || n != (size_t)sb.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	long inputs = 0;
	int i, bad = 0;
	DIR *d;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == 0 && !S_ISDIR(sb.st_mode)) {
			bad |= replay_file(argv[i]) != 0;
			inputs++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (snprintf(path, sizeof path, "%s/%s", argv[i],
			    de->d_name) >= (int)sizeof path)
				continue;
			bad |= replay_file(path) != 0;
			inputs++;
		}
		closedir(d);
	}
	printf("replay: %ld inputs\n", inputs);
	return bad || inputs == 0 ? 1 : 0;
}
