/*
 * runtime.c: the runtime record of a zone's gateway VM,
 * state_dir/zones/<zone>/runtime.  It names the VM by identity (pid, start
 * time from /proc/PID/stat, boot id) with the zone, state directory, command
 * digest, owners and operation, so that a later zonevisord can tell whether
 * a VM from before is still alive.  It is written atomically (atomicfile.c,
 * mode 0600) once the VM is spawned, deleted after a clean close, and kept
 * when a close failed.
 *
 * runtime_check() applies DESIGN §3 to a record found where none should be:
 * a record whose process is gone (or is another process now) is deleted
 * without signalling anything; a live match, an unreadable record or one of
 * another zone is evidence that ownership cannot be proven.
 */
#include "config.h"

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

#define RUNTIME_VERSION	1
#define RUNTIME_MAX	8192

static int runtime_parse(const char *, size_t, struct runtime_record *, char *,
    size_t);

/* This boot's id, /proc/sys/kernel/random/boot_id, read once. */
const char *
runtime_boot_id(void)
{
	static char id[40];
	ssize_t n = -1;
	int fd;

	if (id[0] != '\0')
		return id;
	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) != -1) {
		n = read(fd, id, sizeof id - 1);
		close(fd);
	}
	id[n > 0 ? n : 0] = '\0';
	id[strcspn(id, "\n")] = '\0';
	return id;
}

/* A short digest of a command line, to notice a changed command. */
void
runtime_digest(const char *command, char *out, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, (const Bytef *)command, (uInt)strlen(command));
	snprintf(out, len, "%08lx", (unsigned long)crc);
}

/* Write the record at path atomically; -1 with errno on failure. */
int
runtime_write(const char *path, const struct runtime_record *rr)
{
	struct msgw *w = msgw_new();
	const char *data;
	size_t len;
	int r, err;

	msgw_map_begin(w);
	msgw_key(w, "version");
	msgw_int(w, RUNTIME_VERSION);
	msgw_key(w, "zone");
	msgw_str(w, rr->zone);
	msgw_key(w, "state_dir");
	msgw_str(w, rr->state_dir);
	msgw_key(w, "boot_id");
	msgw_str(w, rr->boot_id);
	msgw_key(w, "vm_pid");
	msgw_int(w, rr->vm_pid);
	msgw_key(w, "vm_start_time");
	msgw_int(w, (int64_t)rr->vm_start_time);
	msgw_key(w, "command_digest");
	msgw_str(w, rr->command_digest);
	msgw_key(w, "worker_pid");
	msgw_int(w, rr->worker_pid);
	msgw_key(w, "supervisor_pid");
	msgw_int(w, rr->supervisor_pid);
	msgw_key(w, "operation_id");
	msgw_str(w, rr->op_id);
	msgw_key(w, "generation");
	msgw_int(w, (int64_t)rr->generation);
	msgw_key(w, "written_at");
	msgw_int(w, rr->written_at_ms);
	msgw_map_end(w);
	data = msgw_frame(w, &len);
	r = atomicfile_write(path, data + FRAME_HEADER, len - FRAME_HEADER);
	err = errno;
	msgw_free(w);
	errno = err;
	return r;
}

/*
 * Read the record at path.  Returns 0, or 1 when there is none, or -1 with
 * a reason in cause when it cannot be read or makes no sense.
 */
int
runtime_read(const char *path, struct runtime_record *rr, char *cause,
    size_t len)
{
	char *buf;
	size_t n;
	int r;

	memset(rr, 0, sizeof *rr);
	if ((r = atomicfile_read(path, RUNTIME_MAX, &buf, &n, cause, len)) != 0)
		return r;
	r = runtime_parse(buf, n, rr, cause, len);
	free(buf);
	return r;
}

/* Decode a record's n bytes into rr; -1 with a reason in cause. */
static int
runtime_parse(const char *buf, size_t n, struct runtime_record *rr,
    char *cause, size_t len)
{
	const char *bad = NULL;
	const struct mval *m;
	struct mdoc *doc;
	int64_t pid, start, wpid, spid, gen, at;

	if ((doc = mdoc_parse_versioned(buf, n, RUNTIME_VERSION, &bad, cause,
	    len)) == NULL)
		return -1;
	m = mdoc_root(doc);
	mval_get_str(m, "zone", rr->zone, sizeof rr->zone, &bad);
	mval_get_str(m, "state_dir", rr->state_dir, sizeof rr->state_dir, &bad);
	mval_get_str(m, "boot_id", rr->boot_id, sizeof rr->boot_id, &bad);
	mval_get_str(m, "command_digest", rr->command_digest,
	    sizeof rr->command_digest, &bad);
	mval_get_str(m, "operation_id", rr->op_id, sizeof rr->op_id, &bad);
	mval_get_int(m, "vm_pid", 1, INT32_MAX, &pid, &bad);
	mval_get_int(m, "vm_start_time", 0, INT64_MAX, &start, &bad);
	mval_get_int(m, "worker_pid", 0, INT32_MAX, &wpid, &bad);
	mval_get_int(m, "supervisor_pid", 0, INT32_MAX, &spid, &bad);
	mval_get_int(m, "generation", 0, INT64_MAX, &gen, &bad);
	mval_get_int(m, "written_at", 0, INT64_MAX, &at, &bad);
	mdoc_free(doc);
	if (bad != NULL) {
		snprintf(cause, len, "field %s missing or invalid", bad);
		return -1;
	}
	rr->vm_pid = (pid_t)pid;
	rr->vm_start_time = (uint64_t)start;
	rr->worker_pid = (pid_t)wpid;
	rr->supervisor_pid = (pid_t)spid;
	rr->generation = (uint64_t)gen;
	rr->written_at_ms = at;
	return 0;
}

/*
 * Delete the record (and a temporary file left by a crash).  Not fsynced:
 * a deletion lost in a crash brings back a record whose process is proven
 * gone, which the next check deletes without signalling anything.  -1 with
 * errno (not logged: the caller reports it) if it is still there.
 */
int
runtime_delete(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/*
 * Judge a runtime record found at path for zone (whose state directory is
 * state_dir) before any VM of it is started.  Returns RUNTIME_NONE when
 * there is none, RUNTIME_DELETED when it named a process that is gone (or
 * whose pid now belongs to another process) and was deleted without any
 * signal, or RUNTIME_UNSAFE with *evidence and detail set.
 */
int
runtime_check(const char *path, const char *zone, const char *state_dir,
    int *evidence, char *detail, size_t len)
{
	struct runtime_record rr;
	char cause[256];
	int r;

	*evidence = EVD_NONE;
	detail[0] = '\0';
	if ((r = runtime_read(path, &rr, cause, sizeof cause)) == 1)
		return RUNTIME_NONE;
	if (r == -1) {
		*evidence = EVD_RECORD_PARSE_ERROR;
		snprintf(detail, len, "%s: %s", path, cause);
		return RUNTIME_UNSAFE;
	}
	if (strcmp(rr.zone, zone) != 0 || strcmp(rr.state_dir, state_dir) != 0) {
		*evidence = EVD_RECORD_SCOPE_MISMATCH;
		snprintf(detail, len, "%s: written for zone %s in %s", path,
		    rr.zone, rr.state_dir);
		return RUNTIME_UNSAFE;
	}
	if (strcmp(rr.boot_id, runtime_boot_id()) != 0 ||
	    !proc_identity_matches(rr.vm_pid, rr.vm_start_time)) {
		snprintf(detail, len, "VM pid %ld of %s is gone",
		    (long)rr.vm_pid, rr.op_id);
		runtime_delete(path);	/* the caller sees if it is still there */
		return RUNTIME_DELETED;
	}
	*evidence = EVD_STALE_RUNTIME_RECORD;
	snprintf(detail, len, "%s names VM pid %ld (started by %s), which is "
	    "still alive", path, (long)rr.vm_pid, rr.op_id);
	return RUNTIME_UNSAFE;
}
