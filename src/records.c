/*
 * records.c: a zone's lifecycle log, state_dir/zones/<zone>/lifecycle.log.
 * Each record is a msgpack map framed as
 *
 *	u32 length (big-endian) | u32 crc32(length bytes, payload) | payload
 *
 * appended with O_APPEND by the zone's worker, the log's one writer.
 * Appends are written at once and made durable by records_sync(), which the
 * worker calls before it reports an operation finished or failed, so the
 * write of a record may overlap with the work it describes.  The log rotates
 * by size (lifecycle.log.1 ... .keep, oldest dropped).  Opening the log cuts
 * off a torn last record left by a crash, before anything follows it.
 *
 * A write that fails (a full or read-only state directory) is not logged
 * here: r->failing (or r->sync_failing) and r->error say so, and the
 * caller reports it.  A record
 * written only in part is cut off again at once, so that the records
 * appended once space returns do not follow a torn one; a log that could
 * not be opened is opened again at the next append.
 *
 * The reader trusts nothing: a record cut short at the end of the file (a
 * crash in mid-write) is ignored; a record that fails its checksum with more
 * data after it is reported with its offset, and reading resumes at the next
 * frame whose checksum holds.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define RECORD_HEADER	8

static uint32_t records_crc(const unsigned char *, uint32_t);
static size_t records_tail(const unsigned char *, size_t, int);
static void records_repair_tail(struct records *);
static int records_reopen(struct records *);
static void records_rotate(struct records *);
static int records_scan(const unsigned char *, size_t, const char *, off_t,
    int, const struct records_cbs *, void *, size_t *);
static int records_read_file(int, const char *, off_t, int,
    const struct records_cbs *, void *, off_t *);

/* The checksum of a frame: crc32 over its length bytes and its payload. */
static uint32_t
records_crc(const unsigned char *frame, uint32_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, frame, 4);
	crc = crc32(crc, frame + RECORD_HEADER, len);
	return (uint32_t)crc;
}

/*
 * Walk the frames of a log's len bytes at buf: where a torn last record
 * starts, or len when there is none, or when the damage is not a tail
 * (that is left for the reader to report).  With every set, each record's
 * checksum is verified; without, only the last one's, and the walk only
 * follows the lengths: a worker checks its log at every start, and a
 * checksum over megabytes of log for each of a thousand zones would make a
 * boot slow.
 */
static size_t
records_tail(const unsigned char *buf, size_t len, int every)
{
	size_t off = 0, last = len;
	uint32_t flen, crc;
	const unsigned char *f;

	while (off < len) {
		f = buf + off;
		if (len - off < RECORD_HEADER)
			return off;		/* torn inside a header */
		flen = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 |
		    (uint32_t)f[2] << 8 | f[3];
		crc = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 |
		    (uint32_t)f[6] << 8 | f[7];
		if (flen == 0 || flen > RECORD_MAX)
			return len;		/* damage, not a tail */
		if (len - off < RECORD_HEADER + (size_t)flen)
			return off;		/* torn inside a payload */
		if (every && records_crc(f, flen) != crc)
			return off + RECORD_HEADER + flen == len ? off : len;
		last = off;
		off += RECORD_HEADER + flen;
	}
	if (!every && last != len) {
		/* Whole to the end: but was the last one written whole? */
		f = buf + last;
		flen = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 |
		    (uint32_t)f[2] << 8 | f[3];
		crc = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 |
		    (uint32_t)f[6] << 8 | f[7];
		if (records_crc(f, flen) != crc)
			return last;
	}
	return len;
}

/*
 * Cut a torn last record (a crash in mid-write) off the end of the log, so
 * that what is appended next does not follow it and turn it into damage in
 * the middle.  Only a tail is cut: if anything before it fails its
 * checksum, the file is left as it is.
 */
static void
records_repair_tail(struct records *r)
{
	struct stat sb;
	unsigned char *buf;
	size_t len, cut;

	if (fstat(r->fd, &sb) == -1 || sb.st_size == 0 ||
	    sb.st_size > r->max_size + 2 * (RECORD_MAX + RECORD_HEADER))
		return;
	len = (size_t)sb.st_size;
	/*
	 * Mapped, not read: a log read into the heap would stay in the
	 * worker's memory for good.
	 */
	if ((buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, r->fd, 0)) ==
	    MAP_FAILED) {
		log_warn("%s: mmap %s", __func__, r->path);
		return;
	}
	/* A tail looks torn: then every record before it must be sound. */
	if ((cut = records_tail(buf, len, 0)) < len)
		cut = records_tail(buf, len, 1);
	munmap(buf, len);
	if (cut < len) {
		log_warnx("%s: dropping a torn last record (%zu bytes at offset "
		    "%zu)", r->path, len - cut, cut);
		if (ftruncate(r->fd, (off_t)cut) == -1)
			log_warn("%s: ftruncate %s", __func__, r->path);
	}
}

/*
 * Open (append to) the log at path, cutting off a torn last record.  -1
 * with errno (and r->failing, r->error) if it cannot be opened; the next
 * append tries again.
 */
int
records_open(struct records *r, const char *path, int64_t max_size, int keep)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->path = xstrdup(path);
	r->max_size = max_size;
	r->keep = keep;
	return records_reopen(r);
}

/* Open r->path, which is not open; -1 with errno, r->failing and r->error. */
static int
records_reopen(struct records *r)
{
	struct stat sb;

	r->fd = open(r->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (r->fd == -1) {
		r->failing = 1;
		r->error = errno;
		return -1;
	}
	records_repair_tail(r);
	r->size = fstat(r->fd, &sb) == 0 ? sb.st_size : 0;
	return 0;
}

/* Shift lifecycle.log.N to .N+1, drop the oldest, start a new file. */
static void
records_rotate(struct records *r)
{
	char from[PATH_MAX], to[PATH_MAX];
	int i;

	records_sync(r);
	for (i = r->keep - 1; i >= 1; i--) {
		snprintf(from, sizeof from, "%s.%d", r->path, i);
		snprintf(to, sizeof to, "%s.%d", r->path, i + 1);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("%s: rename %s", __func__, from);
	}
	snprintf(to, sizeof to, "%s.1", r->path);
	if (r->keep > 0 && rename(r->path, to) == -1)
		log_warn("%s: rename %s", __func__, r->path);
	if (r->keep == 0 && unlink(r->path) == -1)
		log_warn("%s: unlink %s", __func__, r->path);
	close(r->fd);
	r->fd = open(r->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (r->fd == -1)
		log_warn("%s: open %s", __func__, r->path);
	r->size = 0;
}

/*
 * Append one record.  Returns -1 with errno (and r->failing, r->error) if
 * it could not be written whole; nothing of it is left in the log then.
 */
int
records_append(struct records *r, const struct record *rec)
{
	return records_append_msg(r, msg_pack_record(rec));
}

/* Append one entry packed into w, which is freed; as records_append(). */
int
records_append_msg(struct records *r, struct msgw *w)
{
	const unsigned char *frame;
	unsigned char *buf;
	size_t flen, len, off = 0;
	uint32_t crc;
	int err;

	frame = msgw_frame(w, &flen);
	len = flen - FRAME_HEADER;
	if (r->max_size > 0 && r->size > 0 &&
	    r->size + (int64_t)(len + RECORD_HEADER) > r->max_size)
		records_rotate(r);
	buf = xmalloc(len + RECORD_HEADER);
	memcpy(buf, frame, FRAME_HEADER);	/* the big-endian length */
	memcpy(buf + RECORD_HEADER, frame + FRAME_HEADER, len);
	crc = records_crc(buf, (uint32_t)len);
	buf[4] = (unsigned char)(crc >> 24);
	buf[5] = (unsigned char)(crc >> 16);
	buf[6] = (unsigned char)(crc >> 8);
	buf[7] = (unsigned char)crc;
	msgw_free(w);

	err = 0;
	if (r->fd == -1 && records_reopen(r) == -1)
		err = r->error;
	while (r->fd != -1 && off < len + RECORD_HEADER) {
		ssize_t n = write(r->fd, buf + off, len + RECORD_HEADER - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? EIO : errno;
			break;
		}
		off += (size_t)n;
	}
	free(buf);
	if (off != len + RECORD_HEADER) {
		/* Cut a partial record off: what follows must not follow it. */
		if (off > 0 && ftruncate(r->fd, (off_t)r->size) == -1) {
			log_warn("%s: ftruncate %s after a partial append",
			    __func__, r->path);
			r->size += (int64_t)off;
		}
		r->failing = 1;
		r->error = err;
		errno = err;
		return -1;
	}
	r->failing = 0;
	r->size += (int64_t)off;
	r->dirty = 1;
	return 0;
}

/*
 * Make every appended record durable; -1 with errno (and r->sync_failing,
 * r->error) if fdatasync failed.
 */
int
records_sync(struct records *r)
{
	if (!r->dirty || r->fd == -1)
		return 0;
	if (fdatasync(r->fd) == -1) {
		r->sync_failing = 1;	/* still dirty: the next sync tries again */
		r->error = errno;
		return -1;
	}
	r->dirty = 0;
	r->sync_failing = 0;
	return 0;
}

/* Sync and close the log. */
void
records_close(struct records *r)
{
	if (r->fd != -1) {
		records_sync(r);
		close(r->fd);
	}
	r->fd = -1;
	free(r->path);
	r->path = NULL;
}

/*
 * Walk the frames in buf (which begins at file offset base), handing each
 * good payload to cbs->record.  A frame cut short at the end is left
 * unread (*used stops before it): at the end of a file it is a torn tail,
 * in a file still being written it is a record not yet complete.  With
 * at_eof, a full-length frame that fails its checksum at the very end is
 * taken as torn too.  Returns how many problems were reported.
 */
static int
records_scan(const unsigned char *buf, size_t len, const char *path,
    off_t base, int at_eof, const struct records_cbs *cbs, void *arg,
    size_t *used)
{
	size_t off = 0;
	int problems = 0, resyncing = 0;
	char what[PATH_MAX + 128];

	while (len - off >= RECORD_HEADER) {
		const unsigned char *f = buf + off;
		uint32_t flen = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 |
		    (uint32_t)f[2] << 8 | f[3];
		uint32_t crc = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 |
		    (uint32_t)f[6] << 8 | f[7];
		const char *cause;
		struct mdoc *doc;

		if (flen == 0 || flen > RECORD_MAX) {
			if (!resyncing) {
				snprintf(what, sizeof what, "corrupt record at "
				    "offset %lld in %s: impossible length %u",
				    (long long)(base + (off_t)off), path, flen);
				cbs->problem(what, arg);
				problems++;
				resyncing = 1;
			}
			off++;
			continue;
		}
		if (len - off < RECORD_HEADER + (size_t)flen) {
			if (resyncing) {
				off++;
				continue;
			}
			break;
		}
		if (records_crc(f, flen) != crc) {
			if (at_eof && !resyncing &&
			    off + RECORD_HEADER + flen == len)
				break;	/* torn last record */
			if (!resyncing) {
				snprintf(what, sizeof what, "corrupt record at "
				    "offset %lld in %s: checksum mismatch",
				    (long long)(base + (off_t)off), path);
				cbs->problem(what, arg);
				problems++;
				resyncing = 1;
			}
			off++;
			continue;
		}
		resyncing = 0;
		if ((doc = mdoc_parse(f + RECORD_HEADER, flen, &cause)) == NULL ||
		    mval_kind(mdoc_root(doc)) != MV_MAP) {
			snprintf(what, sizeof what, "unreadable record at offset "
			    "%lld in %s: %s", (long long)(base + (off_t)off),
			    path, doc == NULL ? cause : "not a map");
			cbs->problem(what, arg);
			problems++;
		} else
			cbs->record(f + RECORD_HEADER, flen, mdoc_root(doc), arg);
		mdoc_free(doc);
		off += RECORD_HEADER + flen;
	}
	if (resyncing)
		off = len;	/* nothing readable after the damage */
	*used = off;
	return problems;
}

/*
 * Read the records of fd from offset start to its end.  *end gets the
 * offset after the last complete frame.
 */
static int
records_read_file(int fd, const char *path, off_t start, int at_eof,
    const struct records_cbs *cbs, void *arg, off_t *end)
{
	struct stat sb;
	unsigned char *buf;
	size_t len, got = 0, used;
	char what[PATH_MAX + 64];

	*end = start;
	if (fstat(fd, &sb) == -1 || sb.st_size < start)
		return 0;
	len = (size_t)(sb.st_size - start);
	if (len == 0)
		return 0;
	buf = xmalloc(len);
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, start + (off_t)got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < len) {
		snprintf(what, sizeof what, "cannot read %s: %s", path,
		    strerror(errno));
		cbs->problem(what, arg);
	}
	records_scan(buf, got, path, start, at_eof, cbs, arg, &used);
	free(buf);
	*end = start + (off_t)used;
	return 0;
}

/*
 * Read every record of the log at path, oldest first: lifecycle.log.keep
 * ... lifecycle.log.1, then lifecycle.log.  Problems go to cbs->problem.
 */
int
records_read_all(const char *path, int keep, const struct records_cbs *cbs,
    void *arg)
{
	char name[PATH_MAX], what[PATH_MAX + 64];
	off_t end;
	int i, fd;

	for (i = keep; i >= 0; i--) {
		if (i > 0)
			snprintf(name, sizeof name, "%s.%d", path, i);
		else
			snprintf(name, sizeof name, "%s", path);
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
			if (errno != ENOENT) {
				snprintf(what, sizeof what, "cannot open %s: %s",
				    name, strerror(errno));
				cbs->problem(what, arg);
			}
			continue;
		}
		records_read_file(fd, name, 0, 1, cbs, arg, &end);
		close(fd);
	}
	return 0;
}

/* Records and problems held back until a read is known to be consistent. */
struct records_held {
	struct {
		void	*data;
		size_t	 len;
		char	*problem;	/* set for a problem, data NULL */
	}	*items;
	size_t	 n;
};

static void
records_hold_record(const void *payload, size_t len, const struct mval *map,
    void *arg)
{
	struct records_held *h = arg;

	h->items = xreallocarray(h->items, h->n + 1, sizeof *h->items);
	h->items[h->n].data = xmalloc(len);
	memcpy(h->items[h->n].data, payload, len);
	h->items[h->n].len = len;
	h->items[h->n++].problem = NULL;
}

static void
records_hold_problem(const char *what, void *arg)
{
	struct records_held *h = arg;

	h->items = xreallocarray(h->items, h->n + 1, sizeof *h->items);
	h->items[h->n].data = NULL;
	h->items[h->n++].problem = xstrdup(what);
}

/* Hand held items to cbs (when deliver), and free them. */
static void
records_release(struct records_held *h, const struct records_cbs *cbs,
    void *arg, int deliver)
{
	const char *cause;
	struct mdoc *doc;
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (deliver && h->items[i].problem != NULL)
			cbs->problem(h->items[i].problem, arg);
		else if (deliver && (doc = mdoc_parse(h->items[i].data,
		    h->items[i].len, &cause)) != NULL) {
			cbs->record(h->items[i].data, h->items[i].len,
			    mdoc_root(doc), arg);
			mdoc_free(doc);
		}
		free(h->items[i].data);
		free(h->items[i].problem);
	}
	free(h->items);
	h->items = NULL;
	h->n = 0;
}

/*
 * Begin following the log at path: read every record there is now (as
 * records_read_all does), then remember where the live file ends.  The live
 * file is opened first, and if it was rotated away while the older files
 * were read, the whole read starts over: what is handed out is one
 * consistent history, without gaps or doubles.
 */
int
records_tail_open(struct records_tail *t, const char *path, int keep,
    const struct records_cbs *cbs, void *arg)
{
	static const struct records_cbs hold = {
		records_hold_record, records_hold_problem
	};
	struct records_held held = { NULL, 0 };
	char name[PATH_MAX];
	struct stat sb;
	off_t end;
	int i, fd, attempt;

	memset(t, 0, sizeof *t);
	t->path = xstrdup(path);
	for (attempt = 0; ; attempt++) {
		t->fd = open(path, O_RDONLY | O_CLOEXEC);
		t->ino = t->fd != -1 && fstat(t->fd, &sb) == 0 ? sb.st_ino : 0;
		t->off = 0;
		for (i = keep; i >= 1; i--) {
			snprintf(name, sizeof name, "%s.%d", path, i);
			if ((fd = open(name, O_RDONLY | O_CLOEXEC)) == -1)
				continue;
			records_read_file(fd, name, 0, 1, &hold, &held, &end);
			close(fd);
		}
		if (t->fd != -1)
			records_read_file(t->fd, path, 0, 0, &hold, &held,
			    &t->off);
		if (attempt == 4 || t->fd == -1 || (stat(path, &sb) == 0 &&
		    sb.st_ino == t->ino))
			break;
		/* Rotated meanwhile: read it all again. */
		records_release(&held, cbs, arg, 0);
		close(t->fd);
	}
	records_release(&held, cbs, arg, 1);
	return 0;
}

/*
 * Read what was appended since the last call.  After a rotation the rest
 * of the old file (still open, and no longer written) is read to its end
 * first, then the new file.
 */
int
records_tail_poll(struct records_tail *t, const struct records_cbs *cbs,
    void *arg)
{
	struct stat sb;

	if (t->fd != -1)
		records_read_file(t->fd, t->path, t->off, 0, cbs, arg, &t->off);
	if (stat(t->path, &sb) == -1 || (t->fd != -1 && sb.st_ino == t->ino))
		return 0;
	if (t->fd != -1) {
		/* Appended between the read above and the rename. */
		records_read_file(t->fd, t->path, t->off, 1, cbs, arg, &t->off);
		close(t->fd);
	}
	if ((t->fd = open(t->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(t->fd, &sb) == -1)
		return 0;
	t->ino = sb.st_ino;
	t->off = 0;
	records_read_file(t->fd, t->path, 0, 0, cbs, arg, &t->off);
	return 0;
}

/* Stop following. */
void
records_tail_close(struct records_tail *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	free(t->path);
	t->path = NULL;
}
