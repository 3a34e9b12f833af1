/*
 * fuzz.h: what the libFuzzer targets share: quiet logs, and a private file
 * to hand an input to a reader that takes a path.  Header-only, so that
 * each target stays one file.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* The entry point libFuzzer (or fuzz/replay.c) calls with each input. */
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A directory of this process for input files, made once. */
static inline const char *
fuzz_dir(void)
{
	static char dir[512];
	const char *tmp = getenv("TMPDIR");

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "%s/zv-fuzz.XXXXXX",
		    tmp != NULL && strlen(tmp) < 400 ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		log_init(1, -1);	/* below every level: silent */
	}
	return dir;
}

/* Write n bytes of data as the file name of fuzz_dir(); returns its path. */
static inline const char *
fuzz_file(const char *name, const void *data, size_t n)
{
	static char path[640];
	int fd;

	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (n > 0 && write(fd, data, n) != (ssize_t)n)
		abort();
	close(fd);
	return path;
}

#endif
