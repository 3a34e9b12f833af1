/*
 * secrets.c: a zone's [secrets], resolved afresh before each VM start and
 * delivered to the VM only (DESIGN §8).  A file source must be a regular
 * file owned by root or the zone's user and unreadable by group and
 * others; an env source is a variable of zonevisord's own environment; an
 * exec source is a helper run without a shell, in a group of its own, whose
 * standard output (one trailing newline cut) is the value and which is
 * killed with its group at the deadline.  Values are delivered as
 * environment variables of the VM, or as files of a private directory
 * exported as CREDENTIALS_DIRECTORY, and wiped from memory after use.
 * Messages name the zone, the secret and its source, never its value.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define SECRET_MAX	65536	/* the longest value accepted */

static int secrets_file(const struct secret_source *, uid_t, char **,
    size_t *, char *, size_t);
static int secrets_env(const struct secret_source *, char **, size_t *,
    char *, size_t);
static int secrets_exec(const struct secret_source *, const char *,
    int64_t, char **, size_t *, char *, size_t);
static void secrets_chomp(char *, size_t *);

/* Cut one trailing newline (and a carriage return before it). */
static void
secrets_chomp(char *v, size_t *len)
{
	if (*len > 0 && v[*len - 1] == '\n')
		v[--*len] = '\0';
	if (*len > 0 && v[*len - 1] == '\r')
		v[--*len] = '\0';
}

/* A file source: checked for owner and mode, then read whole. */
static int
secrets_file(const struct secret_source *s, uid_t owner, char **value,
    size_t *len, char *cause, size_t clen)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(s->arg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(cause, clen, "file %s: %s", s->arg, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(cause, clen, "file %s: not a regular file", s->arg);
		close(fd);
		return -1;
	}
	if (sb.st_uid != 0 && sb.st_uid != owner) {
		snprintf(cause, clen, "file %s: owned by uid %ld, not by root "
		    "or the zone's user", s->arg, (long)sb.st_uid);
		close(fd);
		return -1;
	}
	if (sb.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)) {
		snprintf(cause, clen, "file %s: mode %04o lets group or others "
		    "read or write it (chmod 0600 or 0400)", s->arg,
		    (unsigned)(sb.st_mode & 07777));
		close(fd);
		return -1;
	}
	buf = xmalloc(SECRET_MAX + 1);
	while (got < SECRET_MAX) {
		n = read(fd, buf + got, SECRET_MAX - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == SECRET_MAX) {
		explicit_bzero(buf, SECRET_MAX + 1);
		free(buf);
		close(fd);
		snprintf(cause, clen, "file %s: longer than %d bytes", s->arg,
		    SECRET_MAX - 1);
		return -1;
	}
	close(fd);
	buf[got] = '\0';
	*value = buf;
	*len = got;
	return 0;
}

/* An env source: a variable of zonevisord's environment. */
static int
secrets_env(const struct secret_source *s, char **value, size_t *len,
    char *cause, size_t clen)
{
	const char *v = getenv(s->arg);

	if (v == NULL) {
		snprintf(cause, clen, "env %s: not set in zonevisord's "
		    "environment", s->arg);
		return -1;
	}
	*len = strlen(v);
	*value = xstrdup(v);
	return 0;
}

/* An exec source: the helper's standard output, within the deadline. */
static int
secrets_exec(const struct secret_source *s, const char *zone,
    int64_t timeout_ms, char **value, size_t *len, char *cause, size_t clen)
{
	struct spawn_spec spec;
	struct spawn_result res;
	struct exit_info ei;
	char *env[3], *buf, what[96];
	int pipefd[2], r, status;
	int64_t deadline;
	size_t got = 0;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(cause, clen, "exec %s: pipe: %s", s->argv[0],
		    strerror(errno));
		return -1;
	}
	env[0] = xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	xasprintf(&env[1], "ZONEVISOR_ZONE=%s", zone);
	env[2] = NULL;
	memset(&spec, 0, sizeof spec);
	spec.argv = s->argv;
	spec.envp = env;
	spec.cwd = "/";
	spec.output_fd = pipefd[1];
	spec.stdout_only = 1;
	spec.umask = -1;
	r = spawn_process(&spec, &res, what, sizeof what);
	free(env[0]);
	free(env[1]);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		snprintf(cause, clen, "exec %s: %s", s->argv[0], what);
		return -1;
	}
	buf = xmalloc(SECRET_MAX + 1);
	deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };
		int64_t left = deadline - clock_mono_ms();

		if (left <= 0 || got == SECRET_MAX)
			break;
		r = poll(&pfd, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read(pipefd[0], buf + got, SECRET_MAX - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			got = n == 0 ? got : SECRET_MAX + 1;
			break;
		}
		got += (size_t)n;
	}
	close(pipefd[0]);
	/* Whatever is left of the helper's group ends now. */
	kill(-res.pid, SIGKILL);
	while (waitpid(res.pid, &status, 0) == -1 && errno == EINTR)
		;
	close(res.pidfd);
	if (clock_mono_ms() >= deadline) {
		snprintf(cause, clen, "exec %s: killed after its deadline of "
		    "%lldms", s->argv[0], (long long)timeout_ms);
		goto fail;
	}
	if (got >= SECRET_MAX) {
		snprintf(cause, clen, "exec %s: output longer than %d bytes or "
		    "unreadable", s->argv[0], SECRET_MAX - 1);
		goto fail;
	}
	memset(&ei, 0, sizeof ei);
	ei.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ei.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (ei.signal == SIGKILL && ei.code == -1)
		ei.signal = 0, ei.code = 0;	/* our kill after a clean EOF */
	if (ei.code != 0 || ei.signal != 0) {
		reaper_describe(&ei, what, sizeof what);
		snprintf(cause, clen, "exec %s: %s", s->argv[0], what);
		goto fail;
	}
	buf[got] = '\0';
	*value = buf;
	*len = got;
	return 0;
fail:
	explicit_bzero(buf, SECRET_MAX + 1);
	free(buf);
	return -1;
}

/*
 * Resolve every secret of zc afresh into *out (secrets_wipe frees it).
 * -1 with a one-line cause naming the zone, the secret and its source.
 */
int
secrets_resolve(const struct zone_config *zc, struct secret_values *out,
    char *cause, size_t clen)
{
	char why[MESSAGE_MAX];
	uid_t owner = 0;
	gid_t gid;
	size_t i;
	int r;

	memset(out, 0, sizeof *out);
	if (zc->nsecrets == 0)
		return 0;
	if (zc->user != NULL &&
	    spawn_identity(zc->user, NULL, &owner, &gid, why, sizeof why) != 0)
		owner = 0;
	out->v = xcalloc(zc->nsecrets, sizeof *out->v);
	for (i = 0; i < zc->nsecrets; i++) {
		const struct secret_source *s = &zc->secrets[i];
		struct secret_value *v = &out->v[i];

		switch (s->kind) {
		case SECRET_FILE:
			r = secrets_file(s, owner, &v->value, &v->len, why,
			    sizeof why);
			break;
		case SECRET_ENV:
			r = secrets_env(s, &v->value, &v->len, why, sizeof why);
			break;
		default:
			r = secrets_exec(s, zc->name, zc->secrets_timeout_ms,
			    &v->value, &v->len, why, sizeof why);
			break;
		}
		if (r != 0) {
			snprintf(cause, clen, "zone %s: secret %s: %s", zc->name,
			    s->name, why);
			secrets_wipe(out);
			return -1;
		}
		secrets_chomp(v->value, &v->len);
		v->name = s->name;
		out->n++;
	}
	return 0;
}

/* Wipe and free resolved values. */
void
secrets_wipe(struct secret_values *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++) {
		explicit_bzero(sv->v[i].value, sv->v[i].len);
		free(sv->v[i].value);
	}
	free(sv->v);
	memset(sv, 0, sizeof *sv);
}

/*
 * Write the values as files NAME (mode 0400) of dir (mode 0700), owned by
 * uid:gid, and remove any other file there; -1 with a cause.
 */
int
secrets_write_dir(const struct secret_values *sv, const char *dir, int chown_to,
    uid_t uid, gid_t gid, char *cause, size_t clen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t i, off;
	ssize_t n;
	int fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(cause, clen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (chmod(dir, 0700) == -1 || (chown_to && chown(dir, uid, gid) == -1)) {
		snprintf(cause, clen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	secrets_clear_dir(dir);
	for (i = 0; i < sv->n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, sv->v[i].name);
		snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, sv->v[i].name);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		    O_NOFOLLOW, 0400);
		if (fd == -1) {
			snprintf(cause, clen, "%s: %s", tmp, strerror(errno));
			return -1;
		}
		for (off = 0; off < sv->v[i].len; off += (size_t)n) {
			n = write(fd, sv->v[i].value + off, sv->v[i].len - off);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				break;
		}
		if (off != sv->v[i].len || (chown_to &&
		    fchown(fd, uid, gid) == -1) || close(fd) == -1 ||
		    rename(tmp, path) == -1) {
			snprintf(cause, clen, "%s: %s", path, strerror(errno));
			unlink(tmp);
			return -1;
		}
	}
	return 0;
}

/* Remove every file of dir (the VM is gone, or new values come). */
void
secrets_clear_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}
