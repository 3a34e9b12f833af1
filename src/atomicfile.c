/*
 * atomicfile.c: replace a small file so that a crash leaves either the old
 * content or the new one, never a mix: write a temporary file beside it
 * (mode 0600), fsync it, rename it over the file, then fsync the
 * directory so that the rename itself survives.  Runtime records and lease
 * records are written this way, and read back whole by atomicfile_read().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static int atomicfile_fsync_dir(const char *);

/* fsync the directory holding path, so a rename in it is durable. */
static int
atomicfile_fsync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, r = 0;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		r = -1;
	if (fd != -1)
		close(fd);
	free(copy);
	return r;
}

/*
 * Write len bytes of data as the file at path atomically.  -1 with errno
 * if it could not be (not logged: a full or read-only state directory
 * fails every write, and the caller says so once); the old file, if any,
 * is then left as it was.
 */
int
atomicfile_write(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd, err = 0;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? EIO : errno;
			break;
		}
		off += (size_t)n;
	}
	if (off == len && fsync(fd) == -1)
		err = errno;
	if (off != len || err != 0) {
		close(fd);
		unlink(tmp);
		errno = err;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		err = errno;
		unlink(tmp);
		errno = err;
		return -1;
	}
	if (atomicfile_fsync_dir(path) == -1)
		log_warn("%s: fsync of the directory of %s", __func__, path);
	return 0;
}

/*
 * Read the whole file at path, smaller than max bytes, into *data (to be
 * freed).  Returns 0, or 1 when there is no such file, or -1 with a reason
 * in cause.
 */
int
atomicfile_read(const char *path, size_t max, char **data, size_t *n,
    char *cause, size_t len)
{
	ssize_t got;
	int fd;

	*data = NULL;
	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(cause, len, "cannot open: %s", strerror(errno));
		return -1;
	}
	*data = xmalloc(max);
	got = read(fd, *data, max);
	close(fd);
	if (got < 0 || (size_t)got == max) {
		if (got < 0)
			snprintf(cause, len, "cannot read: %s", strerror(errno));
		else
			snprintf(cause, len, "%zu bytes or more", max);
		free(*data);
		*data = NULL;
		return -1;
	}
	*n = (size_t)got;
	return 0;
}
