/*
 * console.c: the console log of a zone, state_dir/zones/<zone>/console.log,
 * which receives the VM's stdout and stderr as they are.  When a write would
 * take it past max_size it is rotated (console.log.1 ... .keep, the oldest
 * dropped); SIGUSR1 reopens it for external rotation tools.  Output that
 * cannot be written (a full or read-only state directory) is dropped,
 * logged once until a write succeeds again.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static void console_rotate(struct console *);

/* Open (append to) the console log at path. */
int
console_open(struct console *c, const char *path, int64_t max_size, int keep)
{
	c->path = xstrdup(path);
	c->max_size = max_size;
	c->keep = keep;
	c->fd = -1;
	c->failing = 0;
	return console_reopen(c);
}

/* Close and open the file again, e.g. after an external rotation. */
int
console_reopen(struct console *c)
{
	struct stat sb;

	if (c->fd != -1)
		close(c->fd);
	c->fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd == -1) {
		if (!c->failing)
			log_warn("%s: open %s", __func__, c->path);
		c->failing = 1;
		return -1;
	}
	c->size = fstat(c->fd, &sb) == 0 ? sb.st_size : 0;
	return 0;
}

/* Shift console.log.N to .N+1, drop the oldest, start a new file. */
static void
console_rotate(struct console *c)
{
	char from[PATH_MAX], to[PATH_MAX];
	int i;

	if (c->keep == 0) {
		if (ftruncate(c->fd, 0) == -1)
			log_warn("%s: truncate %s", __func__, c->path);
		c->size = 0;
		return;
	}
	for (i = c->keep - 1; i >= 1; i--) {
		snprintf(from, sizeof from, "%s.%d", c->path, i);
		snprintf(to, sizeof to, "%s.%d", c->path, i + 1);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("%s: rename %s", __func__, from);
	}
	snprintf(to, sizeof to, "%s.1", c->path);
	if (rename(c->path, to) == -1)
		log_warn("%s: rename %s", __func__, c->path);
	console_reopen(c);
}

/* Append VM output, rotating first if it would pass max_size. */
void
console_write(struct console *c, const char *buf, size_t len)
{
	if (c->fd == -1 && console_reopen(c) == -1)
		return;
	if (c->max_size > 0 && c->size > 0 &&
	    c->size + (int64_t)len > c->max_size)
		console_rotate(c);
	while (len > 0) {
		ssize_t n = write(c->fd, buf, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (!c->failing)
				log_warn("%s: write %s; VM output is dropped "
				    "until it can be written", __func__, c->path);
			c->failing = 1;
			return;
		}
		buf += n;
		len -= (size_t)n;
		c->size += n;
	}
	if (c->failing)
		log_info("%s: VM output is written again", c->path);
	c->failing = 0;
}

/* Close the console log. */
void
console_close(struct console *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->path);
	c->path = NULL;
}
