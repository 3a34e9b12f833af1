/*
 * leasefile.c: the record of one tool VM, <zone dir>/leases/<lease id>.
 * Like a gateway's runtime record it names the VM by identity (pid, start
 * time, boot id) with its zone, state directory, slot, port and owners, so
 * that a worker or zonevisord that comes later can tell a tool VM left
 * behind from a process that merely reuses its pid.  A record is written
 * atomically (atomicfile.c) right after its VM is spawned and deleted once
 * the VM is gone; one whose VM will not die is kept.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define LEASEFILE_VERSION	1
#define LEASEFILE_MAX		8192

static int leasefile_id_ok(const char *);
static int leasefile_parse(const char *, size_t, struct lease_record *,
    char *, size_t);

/* 1 if id can name a file of the leases directory and nothing else. */
static int
leasefile_id_ok(const char *id)
{
	return id[0] != '\0' && id[0] != '.' && strchr(id, '/') == NULL;
}

/* Write lr as dir/<lease id>; -1 with errno on failure. */
int
leasefile_write(const char *dir, const struct lease_record *lr)
{
	struct msgw *w = msgw_new();
	char path[PATH_MAX];
	const char *data;
	size_t len;
	int r, err;

	if (!leasefile_id_ok(lr->info.id)) {
		log_warnx("%s: bad lease id \"%s\"", __func__, lr->info.id);
		msgw_free(w);
		errno = EINVAL;
		return -1;
	}
	msgw_map_begin(w);
	msgw_key(w, "version");
	msgw_int(w, LEASEFILE_VERSION);
	msgw_key(w, "zone");
	msgw_str(w, lr->zone);
	msgw_key(w, "state_dir");
	msgw_str(w, lr->state_dir);
	msgw_key(w, "boot_id");
	msgw_str(w, lr->boot_id);
	msgw_key(w, "lease_id");
	msgw_str(w, lr->info.id);
	msgw_key(w, "slot");
	msgw_int(w, lr->info.slot);
	msgw_key(w, "port");
	msgw_int(w, lr->info.port);
	msgw_key(w, "owner");
	msgw_str(w, lr->info.owner);
	msgw_key(w, "vm_pid");
	msgw_int(w, lr->info.pid);
	msgw_key(w, "vm_start_time");
	msgw_int(w, (int64_t)lr->info.start_time);
	msgw_key(w, "acquired_at");
	msgw_int(w, lr->info.acquired_at_ms);
	msgw_key(w, "ttl_ms");
	msgw_int(w, lr->info.ttl_ms);
	msgw_key(w, "worker_pid");
	msgw_int(w, lr->worker_pid);
	msgw_key(w, "supervisor_pid");
	msgw_int(w, lr->supervisor_pid);
	msgw_key(w, "written_at");
	msgw_int(w, lr->written_at_ms);
	msgw_map_end(w);
	data = msgw_frame(w, &len);
	if (snprintf(path, sizeof path, "%s/%s", dir, lr->info.id) >=
	    (int)sizeof path) {
		r = -1;
		err = ENAMETOOLONG;
	} else {
		r = atomicfile_write(path, data + FRAME_HEADER,
		    len - FRAME_HEADER);
		err = errno;
	}
	msgw_free(w);
	errno = err;
	return r;
}

/*
 * Read the record at path.  Returns 0, or 1 when there is none, or -1 with
 * a reason in cause when it cannot be read or makes no sense.
 */
int
leasefile_read(const char *path, struct lease_record *lr, char *cause,
    size_t len)
{
	char *buf;
	size_t n;
	int r;

	memset(lr, 0, sizeof *lr);
	if ((r = atomicfile_read(path, LEASEFILE_MAX, &buf, &n, cause, len)) != 0)
		return r;
	r = leasefile_parse(buf, n, lr, cause, len);
	free(buf);
	return r;
}

/* Decode a record's n bytes into lr; -1 with a reason in cause. */
static int
leasefile_parse(const char *buf, size_t n, struct lease_record *lr,
    char *cause, size_t len)
{
	const char *bad = NULL;
	const struct mval *m;
	struct mdoc *doc;
	int64_t slot, port, pid, start, at, ttl, wpid, spid, written;

	if ((doc = mdoc_parse_versioned(buf, n, LEASEFILE_VERSION, &bad, cause,
	    len)) == NULL)
		return -1;
	m = mdoc_root(doc);
	mval_get_str(m, "zone", lr->zone, sizeof lr->zone, &bad);
	mval_get_str(m, "state_dir", lr->state_dir, sizeof lr->state_dir, &bad);
	mval_get_str(m, "boot_id", lr->boot_id, sizeof lr->boot_id, &bad);
	mval_get_str(m, "lease_id", lr->info.id, sizeof lr->info.id, &bad);
	mval_get_int(m, "slot", 0, 2 * LEASES_MAX, &slot, &bad);
	mval_get_int(m, "port", 1, 65535, &port, &bad);
	mval_get_str(m, "owner", lr->info.owner, sizeof lr->info.owner, &bad);
	mval_get_int(m, "vm_pid", 1, INT32_MAX, &pid, &bad);
	mval_get_int(m, "vm_start_time", 0, INT64_MAX, &start, &bad);
	mval_get_int(m, "acquired_at", 0, INT64_MAX, &at, &bad);
	mval_get_int(m, "ttl_ms", 0, LEASE_TTL_MAX_MS, &ttl, &bad);
	mval_get_int(m, "worker_pid", 0, INT32_MAX, &wpid, &bad);
	mval_get_int(m, "supervisor_pid", 0, INT32_MAX, &spid, &bad);
	mval_get_int(m, "written_at", 0, INT64_MAX, &written, &bad);
	mdoc_free(doc);
	if (bad != NULL) {
		snprintf(cause, len, "field %s missing or invalid", bad);
		return -1;
	}
	if (!leasefile_id_ok(lr->info.id)) {
		snprintf(cause, len, "field lease_id invalid");
		return -1;
	}
	lr->info.slot = (int)slot;
	lr->info.port = (int)port;
	lr->info.state = LS_ACTIVE;
	lr->info.pid = (pid_t)pid;
	lr->info.start_time = (uint64_t)start;
	lr->info.acquired_at_ms = at;
	lr->info.ttl_ms = ttl;
	lr->worker_pid = (pid_t)wpid;
	lr->supervisor_pid = (pid_t)spid;
	lr->written_at_ms = written;
	return 0;
}

/*
 * Delete dir/<id> and a temporary file a crash left beside it; -1 with
 * errno (not logged: the caller reports it) if it is still there.
 */
int
leasefile_delete(const char *dir, const char *id)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s.tmp", dir, id);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s", dir, id);
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/*
 * The records in dir, as paths to be freed with argv_free(): every regular
 * name but temporary files and records set aside (*.tmp, *.bad).  A missing
 * directory has none; -1 (logged) if it cannot be read.
 */
int
leasefile_list(const char *dir, char ***paths, size_t *n)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*paths = xcalloc(1, sizeof **paths);
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s: opendir %s", __func__, dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || (l > 4 &&
		    (strcmp(de->d_name + l - 4, ".tmp") == 0 ||
		    strcmp(de->d_name + l - 4, ".bad") == 0)))
			continue;
		if (*n + 1 >= cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*paths = xreallocarray(*paths, cap, sizeof **paths);
		}
		xasprintf(&(*paths)[(*n)++], "%s/%s", dir, de->d_name);
		(*paths)[*n] = NULL;
	}
	closedir(d);
	return 0;
}

/* 1 if the tool VM lr names is alive: same boot, pid and start time. */
int
leasefile_alive(const struct lease_record *lr)
{
	return strcmp(lr->boot_id, runtime_boot_id()) == 0 &&
	    proc_identity_matches(lr->info.pid, lr->info.start_time);
}
