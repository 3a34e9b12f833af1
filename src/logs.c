/*
 * logs.c: a zone's console log as zonectl logs sees it.  The parent reads
 * state_dir/zones/<zone>/console.log and its rotated files itself, so that
 * a member of control_group, who cannot enter the zone's directory (mode
 * 0700), still gets the VM's output through the control socket.  The last
 * N lines are read backwards from the end, across the rotated files, at
 * most LOGS_ANSWER_BYTES of them; following, the live file is held open
 * and read on from where that ended, as tail -F does: when console.log is
 * renamed away (console.c's rotation) the rest of the old file is read
 * before the new one, and when it shrinks (keep = 0 truncates it) it is
 * read again from its start.  Lines longer than LOGS_LINE_MAX come in
 * pieces; following, a line without its newline yet waits for it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"
#include "zonevisor.h"

#define LOGS_READ_CHUNK	65536	/* bytes read at a time */

static void logs_add(struct log_lines *, const char *, size_t);
static void logs_problem(struct log_lines *, const char *, const char *, int);
static void logs_feed(struct logs_tail *, const char *, size_t,
    struct log_lines *);
static int logs_open_live(struct logs_tail *, struct log_lines *);

/* The zone's console log: state_dir/zones/<zone>/console.log. */
void
logs_path(const struct config *cfg, const struct zone_config *zc, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/zones/%s/console.log", cfg->state_dir, zc->name);
}

/* Append a copy of one line. */
static void
logs_add(struct log_lines *l, const char *s, size_t len)
{
	struct log_line *ln;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	ln = &l->v[l->n++];
	ln->s = xmalloc(len + 1);
	memcpy(ln->s, s, len);
	ln->s[len] = '\0';
	ln->len = len;
	l->bytes += len;
}

/* Note a file that could not be read: "path: strerror". */
static void
logs_problem(struct log_lines *l, const char *what, const char *path, int err)
{
	char buf[PATH_MAX + 128];

	snprintf(buf, sizeof buf, "%s %s: %s", what, path, strerror(err));
	l->problems = xreallocarray(l->problems, l->nproblems + 1,
	    sizeof *l->problems);
	l->problems[l->nproblems++] = xstrdup(buf);
}

/*
 * Cut bytes into lines: each newline ends the line held so far, a line
 * reaching LOGS_LINE_MAX is passed on as a piece, and what follows the last
 * newline is held for the next call.
 */
static void
logs_feed(struct logs_tail *t, const char *p, size_t len, struct log_lines *l)
{
	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t seg = nl != NULL ? (size_t)(nl - p) : len, take;

		while (seg > 0) {
			if (t->plen == LOGS_LINE_MAX) {
				logs_add(l, t->partial, t->plen);
				t->plen = 0;
			}
			take = seg < LOGS_LINE_MAX - t->plen ? seg :
			    LOGS_LINE_MAX - t->plen;
			memcpy(t->partial + t->plen, p, take);
			t->plen += take;
			p += take;
			len -= take;
			seg -= take;
		}
		if (nl == NULL)
			break;
		logs_add(l, t->partial, t->plen);
		t->plen = 0;
		p++;
		len--;
	}
}

/* Open the live file at t->path into t; -1 if it is not there (yet). */
static int
logs_open_live(struct logs_tail *t, struct log_lines *l)
{
	struct stat sb;

	if ((t->fd = open(t->path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT && l != NULL && !t->failing)
			logs_problem(l, "cannot open", t->path, errno);
		t->failing = errno != ENOENT;
		return -1;
	}
	t->failing = 0;
	if (fstat(t->fd, &sb) == -1) {
		close(t->fd);
		t->fd = -1;
		return -1;
	}
	t->dev = sb.st_dev;
	t->ino = sb.st_ino;
	t->off = 0;
	t->draining = 0;
	return 0;
}

/*
 * The last n lines of the console log at path and its keep rotated files,
 * oldest first, into l.  With t, the log is followed from there on: t
 * holds the live file open where the lines end, and a last line without
 * its newline, which logs_poll completes.  Without t, such a line is the
 * last one.  At most LOGS_ANSWER_BYTES are read; if that is not enough for
 * n lines, l->truncated says the lines before them were left out.
 */
void
logs_last(const char *path, int keep, size_t n, struct logs_tail *t,
    struct log_lines *l)
{
	struct logs_tail own;
	char name[PATH_MAX], *buf;
	size_t pos, cap = LOGS_ANSWER_BYTES, nl = 0, skip, i;
	off_t end;
	int fd, k, attempt, whole = 1;
	struct stat sb;

	memset(l, 0, sizeof *l);
	if (t == NULL)
		t = &own;
	memset(t, 0, sizeof *t);
	t->path = xstrdup(path);
	t->partial = xmalloc(LOGS_LINE_MAX);
	buf = xmalloc(cap);
	for (attempt = 0; ; attempt++) {
		/* Newest first: the live file up to its size now, then .1... */
		pos = cap;
		nl = 0;
		whole = 1;
		if (logs_open_live(t, attempt == 0 ? l : NULL) == 0 &&
		    fstat(t->fd, &sb) == 0)
			t->off = sb.st_size;
		for (k = 0; k <= keep && whole && nl <= n; k++) {
			if (k == 0) {
				if ((fd = t->fd) == -1)
					continue;
				end = t->off;
			} else {
				snprintf(name, sizeof name, "%s.%d", path, k);
				if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
					if (errno != ENOENT && attempt == 0)
						logs_problem(l, "cannot open",
						    name, errno);
					continue;
				}
				end = fstat(fd, &sb) == 0 ? sb.st_size : 0;
			}
			while (end > 0 && nl <= n) {
				size_t chunk = LOGS_READ_CHUNK;
				ssize_t r;

				if ((off_t)chunk > end)
					chunk = (size_t)end;
				if (chunk > pos)
					chunk = pos;
				if (chunk == 0) {
					whole = 0;	/* out of room */
					break;
				}
				r = pread(fd, buf + pos - chunk, chunk,
				    end - (off_t)chunk);
				if (r == -1 && errno == EINTR)
					continue;
				if (r != (ssize_t)chunk) {
					/* Shrunk under us: what is read ends. */
					whole = 0;
					break;
				}
				pos -= chunk;
				end -= (off_t)chunk;
				for (i = 0; i < chunk; i++)
					if (buf[pos + i] == '\n')
						nl++;
			}
			if (end > 0)
				whole = 0;
			if (k > 0)
				close(fd);
		}
		/* Rotated while the older files were read: read it again. */
		if (attempt == 4 || t->fd == -1 || (stat(path, &sb) == 0 &&
		    sb.st_dev == t->dev && sb.st_ino == t->ino))
			break;
		close(t->fd);
		t->fd = -1;
	}
	/*
	 * buf[pos..cap) holds the end of the log.  Unless it reaches back to
	 * the start of the oldest file, its first line may be a piece: drop
	 * it.  Then cut the rest into lines and keep the last n.
	 */
	skip = 0;
	if (!whole || nl > n) {
		char *first = memchr(buf + pos, '\n', cap - pos);

		skip = first != NULL ? (size_t)(first - (buf + pos)) + 1 :
		    cap - pos;
	}
	logs_feed(t, buf + pos + skip, cap - pos - skip, l);
	if (t == &own) {
		if (own.plen > 0)
			logs_add(l, own.partial, own.plen);
		own.plen = 0;
		logs_tail_close(&own);
	}
	if (l->n > n) {
		for (i = 0; i < l->n - n; i++) {
			l->bytes -= l->v[i].len;
			free(l->v[i].s);
		}
		memmove(l->v, l->v + (l->n - n), n * sizeof *l->v);
		l->n = n;
	} else if (!whole && nl <= n)
		l->truncated = 1;
	free(buf);
}

/*
 * What was appended to a followed log since the last call, at most budget
 * bytes of it; 1 if more may wait (call again soon), else 0.
 */
int
logs_poll(struct logs_tail *t, size_t budget, struct log_lines *l)
{
	char buf[LOGS_READ_CHUNK];
	struct stat sb;

	memset(l, 0, sizeof *l);
	for (;;) {
		if (t->fd == -1 && logs_open_live(t, l) == -1)
			return 0;
		while (budget > 0) {
			size_t want = budget < sizeof buf ? budget : sizeof buf;
			ssize_t r = pread(t->fd, buf, want, t->off);

			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			t->off += r;
			budget -= (size_t)r;
			logs_feed(t, buf, (size_t)r, l);
		}
		if (budget == 0)
			return 1;
		if (stat(t->path, &sb) == -1)
			return 0;	/* renamed away, not yet created anew */
		if (sb.st_dev != t->dev || sb.st_ino != t->ino) {
			/*
			 * Rotated.  Read the old file once more (what was
			 * appended between the read above and the rename),
			 * then go on with the new one.
			 */
			if (!t->draining) {
				t->draining = 1;
				continue;
			}
			close(t->fd);
			t->fd = -1;
			continue;
		}
		if (fstat(t->fd, &sb) == 0 && sb.st_size < t->off) {
			t->off = 0;	/* truncated: read it from the start */
			continue;
		}
		return 0;
	}
}

/* Pack "lines", "truncated" and "problems" into an open map. */
void
logs_pack(struct msgw *w, const struct log_lines *l)
{
	size_t i;

	msgw_key(w, "lines");
	msgw_array_begin(w);
	for (i = 0; i < l->n; i++)
		msgw_utf8(w, l->v[i].s, l->v[i].len);
	msgw_array_end(w);
	msgw_key(w, "truncated");
	msgw_bool(w, l->truncated);
	msgw_key(w, "problems");
	msgw_str_array(w, l->problems, l->nproblems);
}

/* Free what a list of lines holds. */
void
logs_free(struct log_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].s);
	for (i = 0; i < l->nproblems; i++)
		free(l->problems[i]);
	free(l->v);
	free(l->problems);
	memset(l, 0, sizeof *l);
}

/* Stop following: close the file, free the line held. */
void
logs_tail_close(struct logs_tail *t)
{
	if (t->fd != -1)
		close(t->fd);
	free(t->path);
	free(t->partial);
	memset(t, 0, sizeof *t);
	t->fd = -1;
}
