/*
 * control.c: the control socket that zonectl and scripts talk to.  A Unix
 * stream socket, mode 0660, owned by control_group when one is set; each
 * peer's credentials are checked with SO_PEERCRED (root, zonevisord's own
 * user, or a member of control_group).  Requests are msgpack maps
 * {v, id, cmd, zone?, args?} in frames of at most FRAME_MAX bytes; each gets
 * {id, ok: true, result} or {id, ok: false, error: {code, message}}.
 *
 * Everything a client sends is untrusted: a malformed or oversized frame
 * gets an error answer and the connection is closed, a client that stays
 * silent with a half-written frame is timed out, and past
 * CONTROL_MAX_CLIENTS connections are refused.  A client that sends
 * requests and does not read the answers has no more requests handled once
 * CONTROL_BACKLOG bytes of answers wait for it, and no more read once a
 * frame's worth (FRAME_MAX) waits: it costs that much memory and no more,
 * and is timed out like a silent one if it stays so.  None of it reaches a
 * zone.
 * Status answers, metrics and lease lists come from the parent's cache and
 * never wait on a worker; start, stop and restart answer when the worker
 * reports the operation finished, unless the client asked not to wait, and
 * lease acquire, renew and release when the worker has done them.  events
 * and logs read the zone's lifecycle and console logs in the parent;
 * followed, they answer again under the same id as records or lines come.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define CONTROL_MAX_WAITS	1024	/* operations one client may await */
#define CONTROL_REFUSAL_LOG_MS	1000	/* refusals logged at most this often */
#define CONTROL_SNDBUF		(2 * 1024 * 1024)	/* see control_big_sndbuf */
#define CONTROL_BACKLOG		(256 * 1024)	/* answers queued before a
						   client's requests wait */

/* A request id, echoed in the answer: an integer, a string, or absent. */
struct reqid {
	enum { REQID_NONE, REQID_INT, REQID_STR } kind;
	int64_t		 n;
	char		*s;
};

struct client {
	TAILQ_ENTRY(client)	 entry;
	struct peer		*peer;
	ev_timer		 idle;
	uid_t			 uid;
	pid_t			 pid;
	int			 nwaits;
	int			 nfollows;	/* events and logs follows */
};
TAILQ_HEAD(client_list, client);

/* A client awaiting the end of an operation. */
struct wait {
	TAILQ_ENTRY(wait)	 entry;
	struct client		*c;
	struct reqid		 id;
	char			 zone[ZONE_NAME_MAX + 1];
	char			 op_id[OP_ID_MAX];
	int			 lease_op;	/* LOP_* of a lease, or -1 */
};
TAILQ_HEAD(wait_list, wait);

/* A client following a zone's lifecycle log (zonectl events -f). */
struct follower {
	TAILQ_ENTRY(follower)	 entry;
	struct client		*c;
	struct reqid		 id;
	char			 zone[ZONE_NAME_MAX + 1];
	struct records_tail	 tail;
};
TAILQ_HEAD(follower_list, follower);

/*
 * A client following a zone's console log (zonectl logs -f).  Nothing tells
 * the parent that a worker wrote VM output, so an ev_stat watches the file:
 * libev has inotify report the change at once, and checks it every
 * LOGS_STAT_INTERVAL where inotify cannot (another file system, no
 * inotify).  A client that does not read what it is sent is not sent more:
 * its lines wait in the file, read on once its queue has drained.
 */
struct log_follower {
	TAILQ_ENTRY(log_follower) entry;
	struct client		*c;
	struct reqid		 id;
	struct logs_tail	 tail;
	ev_stat			 watch;
	ev_timer		 again;	/* more to read, or queue full */
};
TAILQ_HEAD(log_follower_list, log_follower);
#define LOGS_STAT_INTERVAL	1.0	/* seconds, without inotify */
#define LOGS_AGAIN		0.001	/* seconds, with more to read */
#define LOGS_WAIT_DRAIN		0.1	/* seconds, while the client lags */

static struct ev_loop		*control_loop;
static const struct config	*control_cfg;
static int			 control_fd = -1;
static ev_io			 control_accept_watch;
static ev_timer			 control_accept_pause;
static int			 control_accept_failing; /* logged once */
#define CONTROL_ACCEPT_PAUSE	0.1	/* seconds between accepts out of fds */
static struct client_list	 clients = TAILQ_HEAD_INITIALIZER(clients);
static struct wait_list		 waits = TAILQ_HEAD_INITIALIZER(waits);
static struct follower_list	 followers = TAILQ_HEAD_INITIALIZER(followers);
static struct log_follower_list	 log_followers =
    TAILQ_HEAD_INITIALIZER(log_followers);
static int			 nclients;
static int			 nfollows;	/* of every client */

static int control_bind(const char *);
static void control_accept_cb(struct ev_loop *, ev_io *, int);
static void control_big_sndbuf(int);
static void control_accept_resume_cb(struct ev_loop *, ev_timer *, int);
static int control_peer_allowed(int, uid_t *, pid_t *);
static void control_refuse(int, int, const char *);
static void control_refusal_log(const char *, ...)
    __attribute__((format(printf, 1, 2)));
static void control_idle_cb(struct ev_loop *, ev_timer *, int);
static void control_dispatch_client(struct peer *, const struct mdoc *, void *);
static void control_bad_frame(struct peer *, const char *, void *);
static void control_client_gone(struct peer *, const char *, void *);
static void control_client_free(struct client *);
static struct msgw *control_answer(const struct reqid *, int);
static void control_add_id(struct msgw *, const struct reqid *);
static void control_error(struct client *, const struct reqid *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));
static void control_reply(struct client *, struct msgw *);
static void control_status(struct client *, const struct reqid *,
    const struct mval *, const struct mval *);
static void control_operation(struct client *, const struct reqid *, int,
    const struct mval *, const struct mval *);
static void control_version(struct client *, const struct reqid *);
static void control_metrics(struct client *, const struct reqid *);
static struct zone_worker *control_zone_arg(struct client *,
    const struct reqid *, const char *, const struct mval *);
static int control_int_arg(struct client *, const struct reqid *,
    const struct mval *, const char *, int64_t, int64_t, int64_t *);
static void control_events(struct client *, const struct reqid *,
    const struct mval *, const struct mval *);
static void control_send_events(struct client *, const struct reqid *,
    const struct event_list *);
static void control_diagnose(struct client *, const struct reqid *,
    const struct mval *);
static void control_logs(struct client *, const struct reqid *,
    const struct mval *, const struct mval *);
static void control_send_logs(struct client *, const struct reqid *,
    const struct log_lines *);
static void control_logs_pump(struct log_follower *);
static void control_logs_stat_cb(struct ev_loop *, ev_stat *, int);
static void control_logs_again_cb(struct ev_loop *, ev_timer *, int);
static void control_log_follower_free(struct log_follower *);
static int control_follow_allowed(struct client *, const struct reqid *);
static void control_wait_done(struct wait *, struct msgw *);
static void control_health(struct client *, const struct reqid *,
    const struct mval *);
static void control_reset(struct client *, const struct reqid *,
    const struct mval *, const struct mval *);
static struct wait *control_wait(struct client *, const struct reqid *,
    const char *, const char *);
static const struct mval *control_arg(const struct mval *, const char *);
static int control_zone_opt(struct client *, const struct reqid *,
    const struct mval *, struct zone_worker **);
static void control_lease(struct client *, const struct reqid *,
    const struct mval *, const struct mval *);
static int control_lease_args(struct client *, const struct reqid *,
    const struct mval *, struct msg_lease_op *);
static int control_lease_id_arg(struct client *, const struct reqid *,
    const struct mval *, char *, size_t);
static int control_owner_valid(const char *);
static void control_lease_list(struct client *, const struct reqid *,
    const struct mval *);
static void control_lease_refused(struct client *, const struct reqid *,
    const struct zone_worker *, const char *);
static void control_reload(struct client *, const struct reqid *,
    const struct mval *);
static void control_reqid_free(struct reqid *);
static void control_reqid_copy(struct reqid *, const struct reqid *);

/* 1 if a zonevisord answers on the socket at path. */
int
control_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, r;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return 0;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	r = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	return r;
}

/* Bind the socket at path, refusing to take it from a live zonevisord. */
static int
control_bind(const char *path)
{
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("%s: socket", __func__);
		return -1;
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			log_warnx("%s exists and is not a socket; not touching it",
			    path);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ||
		    errno == EAGAIN) {
			log_warnx("another zonevisord is running on %s", path);
			goto fail;
		}
		close(fd);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1) {
			log_warn("%s: socket", __func__);
			return -1;
		}
		if (unlink(path) == -1) {
			log_warn("%s: unlink stale %s", __func__, path);
			goto fail;
		}
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		log_warn("%s: bind %s", __func__, path);
		goto fail;
	}
	umask(old);
	if (chmod(path, 0660) == -1)
		log_warn("%s: chmod %s", __func__, path);
	if (control_cfg->control_gid != (gid_t)-1 &&
	    chown(path, (uid_t)-1, control_cfg->control_gid) == -1)
		log_warn("%s: chown %s", __func__, path);
	if (listen(fd, 128) == -1) {
		log_warn("%s: listen", __func__);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Bind the control socket and start accepting clients. */
int
control_listen(struct ev_loop *loop, const struct config *cfg)
{
	control_loop = loop;
	control_cfg = cfg;
	if ((control_fd = control_bind(cfg->control_socket)) == -1)
		return -1;
	ev_io_init(&control_accept_watch, control_accept_cb, control_fd,
	    EV_READ);
	ev_io_start(loop, &control_accept_watch);
	ev_timer_init(&control_accept_pause, control_accept_resume_cb,
	    CONTROL_ACCEPT_PAUSE, 0.);
	return 0;
}

/*
 * A reload put cfg in force.  The socket's path and group are among the
 * settings it kept, so only the pointer changes.
 */
void
control_reconfigure(const struct config *cfg)
{
	control_cfg = cfg;
}

/* Close every client and remove the socket. */
void
control_close(void)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&clients)) != NULL)
		control_client_free(c);
	if (control_fd != -1) {
		ev_io_stop(control_loop, &control_accept_watch);
		ev_timer_stop(control_loop, &control_accept_pause);
		close(control_fd);
		control_fd = -1;
		unlink(control_cfg->control_socket);
	}
}

/* Out of descriptors: accept again a little later instead of spinning. */
static void
control_accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_io_start(loop, &control_accept_watch);
}

/* Allowed peers: root, our own user, members of control_group. */
static int
control_peer_allowed(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	gid_t groups[256];
	socklen_t glen = sizeof groups;
	gid_t want = control_cfg->control_gid;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("%s: SO_PEERCRED", __func__);
		return 0;
	}
	*uid = cred.uid;
	*pid = cred.pid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	if (want == (gid_t)-1)
		return 0;
	if (cred.gid == want)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == -1)
		return 0;
	for (i = 0; i < glen / sizeof groups[0]; i++)
		if (groups[i] == want)
			return 1;
	return 0;
}

/* Answer a connection we will not serve with one error frame, then close. */
static void
control_refuse(int fd, int code, const char *message)
{
	struct msgw *w = control_answer(NULL, 0);
	const void *data;
	size_t len;

	msgw_key(w, "error");
	msgw_map_begin(w);
	msgw_key(w, "code");
	msgw_str(w, names_ctl_error(code));
	msgw_key(w, "message");
	msgw_str(w, message);
	msgw_map_end(w);
	msgw_map_end(w);
	data = msgw_frame(w, &len);
	if (write(fd, data, len) == -1)
		log_debug("%s: write: %s", __func__, strerror(errno));
	msgw_free(w);
	close(fd);
}

/* A client connects. */
/*
 * Let a client's socket take a whole big answer (the status of a thousand
 * zones is half a megabyte) in one write: with the default limit it goes
 * in three, each waiting for the client to drain the last.  The limit is a
 * ceiling, not an allocation.  Beyond net.core.wmem_max only as root.
 */
static void
control_big_sndbuf(int fd)
{
	int size = CONTROL_SNDBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/*
 * Say why a client was refused, at most once per CONTROL_REFUSAL_LOG_MS: a
 * flood of connections must not bury the log.  The next message counts
 * the refusals it did not tell.
 */
static void
control_refusal_log(const char *fmt, ...)
{
	static int64_t last_ms = -CONTROL_REFUSAL_LOG_MS;
	static long untold;
	int64_t now = clock_mono_ms();
	char what[256];
	va_list ap;

	if (now - last_ms < CONTROL_REFUSAL_LOG_MS) {
		untold++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (untold > 0)
		log_warnx("control: refused %s (and %ld more clients since "
		    "the last refusal logged)", what, untold);
	else
		log_warnx("control: refused %s", what);
	last_ms = now;
	untold = 0;
}

static void
control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static const struct peer_ops ops = {
		control_dispatch_client, control_bad_frame, control_client_gone
	};
	struct client *c;
	uid_t uid;
	pid_t pid;
	int fd;

	if ((fd = accept4(control_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		/*
		 * Out of descriptors or memory: the connection stays queued,
		 * so the socket stays readable; pause instead of spinning, and
		 * say so once, not every 100ms.
		 */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			if (!control_accept_failing)
				log_warn("control: accept failed; clients wait "
				    "until descriptors are freed (retrying every "
				    "%.0fms)", CONTROL_ACCEPT_PAUSE * 1000.);
			control_accept_failing = 1;
			ev_io_stop(loop, w);
			/*
			 * Set again each time: a one-shot timer that fired
			 * keeps no delay, and would fire at once (a spin).
			 */
			ev_timer_set(&control_accept_pause,
			    CONTROL_ACCEPT_PAUSE, 0.);
			ev_timer_start(loop, &control_accept_pause);
		}
		return;
	}
	if (control_accept_failing)
		log_info("control: accepting clients again");
	control_accept_failing = 0;
	if (!control_peer_allowed(fd, &uid, &pid)) {
		control_refusal_log("uid %ld (pid %ld): not root, not uid %ld, "
		    "not in control_group", (long)uid, (long)pid,
		    (long)geteuid());
		control_refuse(fd, CTLERR_PERMISSION_DENIED,
		    "permission denied: not a member of control_group");
		return;
	}
	if (nclients >= CONTROL_MAX_CLIENTS) {
		control_refusal_log("a client (pid %ld): %d clients connected",
		    (long)pid, nclients);
		control_refuse(fd, CTLERR_TOO_MANY_CLIENTS,
		    "too many clients connected; try again");
		return;
	}
	control_big_sndbuf(fd);
	c = xcalloc(1, sizeof *c);
	c->uid = uid;
	c->pid = pid;
	c->peer = peer_new(loop, fd, FRAME_MAX, CONTROL_MAX_OUTPUT, &ops, c);
	peer_set_backlog(c->peer, CONTROL_BACKLOG);
	ev_timer_init(&c->idle, control_idle_cb, CONTROL_IDLE_MS / 1000.,
	    CONTROL_IDLE_MS / 1000.);
	c->idle.data = c;
	ev_timer_start(loop, &c->idle);
	TAILQ_INSERT_TAIL(&clients, c, entry);
	nclients++;
}

/* A client stayed silent too long with nothing to wait for. */
static void
control_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	if (c->nwaits > 0)
		return;
	log_debug("control: closing idle client pid %ld", (long)c->pid);
	control_client_free(c);
}

/* Forget a client, its waits and its connection. */
static void
control_client_free(struct client *c)
{
	struct wait *wt, *next;

	struct follower *f, *fnext;
	struct log_follower *lf, *lfnext;

	TAILQ_FOREACH_SAFE(wt, &waits, entry, next) {
		if (wt->c != c)
			continue;
		TAILQ_REMOVE(&waits, wt, entry);
		control_reqid_free(&wt->id);
		free(wt);
	}
	TAILQ_FOREACH_SAFE(f, &followers, entry, fnext) {
		if (f->c != c)
			continue;
		TAILQ_REMOVE(&followers, f, entry);
		records_tail_close(&f->tail);
		control_reqid_free(&f->id);
		free(f);
	}
	TAILQ_FOREACH_SAFE(lf, &log_followers, entry, lfnext)
		if (lf->c == c)
			control_log_follower_free(lf);
	ev_timer_stop(control_loop, &c->idle);
	TAILQ_REMOVE(&clients, c, entry);
	nclients--;
	nfollows -= c->nfollows;
	peer_free(c->peer);
	free(c);
}

/* The connection closed or failed. */
static void
control_client_gone(struct peer *p, const char *why, void *arg)
{
	control_client_free(arg);
}

/* A frame that could not be read: answer with the reason, then close. */
static void
control_bad_frame(struct peer *p, const char *cause, void *arg)
{
	struct client *c = arg;
	int code = strcmp(cause, "frame too large") == 0 ?
	    CTLERR_FRAME_TOO_LARGE : CTLERR_BAD_REQUEST;

	log_warnx("control: bad frame from pid %ld: %s", (long)c->pid, cause);
	control_error(c, NULL, names_ctl_error(code), "%s", cause);
	peer_close_after_flush(c->peer);
}

/* Start an answer map with its id and ok; the caller adds the rest. */
static struct msgw *
control_answer(const struct reqid *id, int ok)
{
	struct msgw *w = msgw_new();

	msgw_map_begin(w);
	msgw_key(w, "id");
	control_add_id(w, id);
	msgw_key(w, "ok");
	msgw_bool(w, ok);
	return w;
}

/* Echo a request id. */
static void
control_add_id(struct msgw *w, const struct reqid *id)
{
	if (id == NULL || id->kind == REQID_NONE)
		msgw_nil(w);
	else if (id->kind == REQID_INT)
		msgw_int(w, id->n);
	else
		msgw_str(w, id->s);
}

/* Queue an answer to a client. */
static void
control_reply(struct client *c, struct msgw *w)
{
	peer_send(c->peer, w);
}

/* Answer with an error {code, message}. */
static void
control_error(struct client *c, const struct reqid *id, const char *code,
    const char *fmt, ...)
{
	struct msgw *w = control_answer(id, 0);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	msgw_key(w, "error");
	msgw_map_begin(w);
	msgw_key(w, "code");
	msgw_str(w, code);
	msgw_key(w, "message");
	msgw_str(w, msg);
	msgw_map_end(w);
	msgw_map_end(w);
	control_reply(c, w);
}

/* Free the string of a request id. */
static void
control_reqid_free(struct reqid *id)
{
	free(id->s);
	id->s = NULL;
}

/* Copy a request id, for an answer that comes later. */
static void
control_reqid_copy(struct reqid *dst, const struct reqid *src)
{
	*dst = *src;
	dst->s = src->s != NULL ? xstrdup(src->s) : NULL;
}

/* The zone a request names, or NULL after answering with the error. */
static struct zone_worker *
control_zone_arg(struct client *c, const struct reqid *id, const char *cmd,
    const struct mval *zone)
{
	char name[ZONE_NAME_MAX + 1];
	struct zone_worker *zw;

	if (zone == NULL || mval_strcpy(zone, name, sizeof name) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "%s needs a zone name", cmd);
		return NULL;
	}
	if ((zw = parent_zone(name)) == NULL) {
		control_error(c, id, names_ctl_error(CTLERR_UNKNOWN_ZONE),
		    "unknown zone: %s", name);
		return NULL;
	}
	return zw;
}

/* Argument key of args, or NULL when absent or nil. */
static const struct mval *
control_arg(const struct mval *args, const char *key)
{
	const struct mval *v = args != NULL ? mval_get(args, key) : NULL;

	return v != NULL && mval_kind(v) != MV_NIL ? v : NULL;
}

/*
 * Integer argument key of args within [min, max], def when absent.
 * Returns -1 after answering with the error.
 */
static int
control_int_arg(struct client *c, const struct reqid *id,
    const struct mval *args, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	const struct mval *v = control_arg(args, key);

	if (v == NULL)
		return 0;
	if (mval_int(v, out) != 0 || *out < min || *out > max) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.%s must be an integer from %lld to %lld", key,
		    (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

/* status [zone | args.zones]: the supervisor and the zones asked for. */
static void
control_status(struct client *c, const struct reqid *id,
    const struct mval *zone, const struct mval *args)
{
	const struct mval *list = control_arg(args, "zones");
	const struct zone_worker **sel;
	char name[ZONE_NAME_MAX + 1];
	int64_t now = clock_now_ms();
	size_t i, n = 0, count;
	struct msgw *w;

	if (list != NULL && mval_kind(list) != MV_ARRAY) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.zones must be an array of zone names");
		return;
	}
	count = list != NULL ? mval_len(list) : zone != NULL ? 1 :
	    parent_zone_count();
	sel = xcalloc(count == 0 ? 1 : count, sizeof *sel);
	for (i = 0; i < count; i++) {
		const struct mval *v = list != NULL ? mval_at(list, i) : zone;

		if (v == NULL) {
			sel[n++] = parent_zone_at(i);
			continue;
		}
		if (mval_strcpy(v, name, sizeof name) != 0) {
			control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
			    "zone names are strings of at most %d characters",
			    ZONE_NAME_MAX);
			free(sel);
			return;
		}
		if ((sel[n++] = parent_zone(name)) == NULL) {
			control_error(c, id, names_ctl_error(CTLERR_UNKNOWN_ZONE),
			    "unknown zone: %s", name);
			free(sel);
			return;
		}
	}

	w = control_answer(id, 1);
	msgw_reserve(w, STATUS_ZONE_BYTES * (n + 1));
	msgw_key(w, "result");
	msgw_map_begin(w);
	msgw_key(w, "supervisor");
	status_pack_supervisor(w, now);
	msgw_key(w, "zones");
	msgw_array_begin(w);
	for (i = 0; i < n; i++)
		status_pack_zone(w, sel[i], now);
	msgw_array_end(w);
	msgw_map_end(w);
	msgw_map_end(w);
	free(sel);
	control_reply(c, w);
}

/* start, stop, restart: forward to the worker; answer now or when done. */
static void
control_operation(struct client *c, const struct reqid *id, int cmd,
    const struct mval *zone, const struct mval *args)
{
	static const int ops[] = { [CTL_START] = OP_START, [CTL_STOP] = OP_STOP,
	    [CTL_RESTART] = OP_RESTART,
	    [CTL_REFRESH_CREDENTIALS] = OP_CREDENTIALS_REFRESH };
	static const int triggers[] = { [CTL_START] = TRIG_OPERATOR_START,
	    [CTL_STOP] = TRIG_OPERATOR_STOP,
	    [CTL_RESTART] = TRIG_OPERATOR_RESTART,
	    [CTL_REFRESH_CREDENTIALS] = TRIG_CREDENTIALS_REFRESH };
	const struct mval *wv = control_arg(args, "wait");
	char op_id[OP_ID_MAX];
	struct zone_worker *zw;
	const char *cause, *name;
	int64_t timeout_ms = 0;
	struct msgw *w;
	int wait = 1;

	if ((zw = control_zone_arg(c, id, names_ctl_command(cmd), zone)) == NULL)
		return;
	name = zw->zc->name;
	if (wv != NULL && mval_bool(wv, &wait) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.wait must be true or false");
		return;
	}
	if (control_int_arg(c, id, args, "timeout_ms", 0, INT32_MAX,
	    &timeout_ms) != 0)
		return;
	if (cmd == CTL_STOP)
		timeout_ms = 0;	/* a stop always runs to its end */
	if (wait && c->nwaits >= CONTROL_MAX_WAITS) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "too many operations awaited on one connection");
		return;
	}
	if (parent_zone_op(zw, ops[cmd], triggers[cmd], timeout_ms, op_id,
	    sizeof op_id, &cause) != 0) {
		control_error(c, id, cause, "zone %s: cannot %s now (%s)", name,
		    names_ctl_command(cmd), cause);
		return;
	}
	if (!wait) {
		w = control_answer(id, 1);
		msgw_key(w, "result");
		msgw_map_begin(w);
		msgw_key(w, "zone");
		msgw_str(w, name);
		msgw_key(w, "operation_id");
		msgw_str(w, op_id);
		msgw_key(w, "accepted");
		msgw_bool(w, 1);
		msgw_map_end(w);
		msgw_map_end(w);
		control_reply(c, w);
		return;
	}
	control_wait(c, id, name, op_id);
}

/* Answer id when operation op_id of zone ends; the wait, to mark. */
static struct wait *
control_wait(struct client *c, const struct reqid *id, const char *zone,
    const char *op_id)
{
	struct wait *wt = xcalloc(1, sizeof *wt);

	wt->c = c;
	control_reqid_copy(&wt->id, id);
	snprintf(wt->zone, sizeof wt->zone, "%s", zone);
	snprintf(wt->op_id, sizeof wt->op_id, "%s", op_id);
	wt->lease_op = -1;
	TAILQ_INSERT_TAIL(&waits, wt, entry);
	c->nwaits++;
	return wt;
}

/* version: the daemon's version and protocol. */
static void
control_version(struct client *c, const struct reqid *id)
{
	struct msgw *w = control_answer(id, 1);

	msgw_key(w, "result");
	msgw_map_begin(w);
	msgw_key(w, "version");
	msgw_str(w, PACKAGE_VERSION);
	msgw_key(w, "protocol");
	msgw_int(w, PROTO_VERSION);
	msgw_map_end(w);
	msgw_map_end(w);
	control_reply(c, w);
}

/*
 * metrics: the Prometheus text exposition of the parent's cache,
 * {text, content_type}.
 */
static void
control_metrics(struct client *c, const struct reqid *id)
{
	struct msgw *w = control_answer(id, 1);
	size_t len;
	char *text = metrics_render(&len);

	msgw_reserve(w, len + 128);
	msgw_key(w, "result");
	msgw_map_begin(w);
	msgw_key(w, "text");
	msgw_strn(w, text, len);
	msgw_key(w, "content_type");
	msgw_str(w, METRICS_CONTENT_TYPE);
	msgw_map_end(w);
	msgw_map_end(w);
	free(text);
	control_reply(c, w);
}

/* Answer with a batch of records: {records, problems}. */
static void
control_send_events(struct client *c, const struct reqid *id,
    const struct event_list *l)
{
	struct msgw *w = control_answer(id, 1);

	msgw_key(w, "result");
	msgw_map_begin(w);
	events_pack(w, l);
	msgw_map_end(w);
	msgw_map_end(w);
	control_reply(c, w);
}

/*
 * Whether c may follow one more log: each follow holds a descriptor, a
 * buffer and a watch, and is never closed for being idle, so they are
 * bounded per connection and in all.  Answers the refusal itself.
 */
static int
control_follow_allowed(struct client *c, const struct reqid *id)
{
	if (c->nwaits >= CONTROL_MAX_WAITS ||
	    c->nfollows >= CONTROL_MAX_FOLLOWS_PER_CLIENT) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "too many follows on one connection (at most %d)",
		    CONTROL_MAX_FOLLOWS_PER_CLIENT);
		return 0;
	}
	if (nfollows >= CONTROL_MAX_FOLLOWS) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "too many follows (at most %d in all)",
		    CONTROL_MAX_FOLLOWS);
		return 0;
	}
	return 1;
}

/*
 * events zone [args.n] [args.follow]: the last n records (all without n);
 * following, the last n (10 without n) and then each record as it comes.
 */
static void
control_events(struct client *c, const struct reqid *id,
    const struct mval *zone, const struct mval *args)
{
	const struct mval *fv = control_arg(args, "follow");
	struct zone_worker *zw;
	struct event_list l;
	struct follower *f;
	int64_t n = -1;
	int follow = 0;

	if ((zw = control_zone_arg(c, id, "events", zone)) == NULL)
		return;
	if (control_int_arg(c, id, args, "n", 0, 1000000, &n) != 0)
		return;
	if (fv != NULL && mval_bool(fv, &follow) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.follow must be true or false");
		return;
	}
	if (!follow) {
		events_last(parent_config(), zw->zc, n < 0 ? 0 : (size_t)n, &l);
		control_send_events(c, id, &l);
		events_free(&l);
		return;
	}
	if (!control_follow_allowed(c, id))
		return;
	f = xcalloc(1, sizeof *f);
	f->c = c;
	control_reqid_copy(&f->id, id);
	snprintf(f->zone, sizeof f->zone, "%s", zw->zc->name);
	events_follow(parent_config(), zw->zc, n < 0 ? 10 : (size_t)n, &f->tail,
	    &l);
	control_send_events(c, id, &l);
	events_free(&l);
	TAILQ_INSERT_TAIL(&followers, f, entry);
	c->nwaits++;
	c->nfollows++;
	nfollows++;
}

/* Answer with a batch of console lines: {lines, truncated, problems}. */
static void
control_send_logs(struct client *c, const struct reqid *id,
    const struct log_lines *l)
{
	struct msgw *w = control_answer(id, 1);

	msgw_key(w, "result");
	msgw_map_begin(w);
	logs_pack(w, l);
	msgw_map_end(w);
	msgw_map_end(w);
	control_reply(c, w);
}

/*
 * logs zone [args.n] [args.follow]: the last n lines of the zone's console
 * log (LOGS_LINES_DEFAULT without n); following, then each line as it is
 * written, in batches, every one an answer with the request's id.  The
 * parent reads the files, not zonectl: the zone's directory is closed to
 * all but zonevisord's user, and control_group is who may operate zones.
 */
static void
control_logs(struct client *c, const struct reqid *id,
    const struct mval *zone, const struct mval *args)
{
	const struct mval *fv = control_arg(args, "follow");
	char path[PATH_MAX];
	struct zone_worker *zw;
	struct log_follower *lf;
	struct log_lines l;
	int64_t n = LOGS_LINES_DEFAULT;
	int follow = 0;

	if ((zw = control_zone_arg(c, id, "logs", zone)) == NULL)
		return;
	if (control_int_arg(c, id, args, "n", 0, LOGS_LINES_MAX, &n) != 0)
		return;
	if (fv != NULL && mval_bool(fv, &follow) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.follow must be true or false");
		return;
	}
	logs_path(parent_config(), zw->zc, path, sizeof path);
	if (!follow) {
		logs_last(path, zw->zc->log_keep, (size_t)n, NULL, &l);
		control_send_logs(c, id, &l);
		logs_free(&l);
		return;
	}
	if (!control_follow_allowed(c, id))
		return;
	lf = xcalloc(1, sizeof *lf);
	lf->c = c;
	control_reqid_copy(&lf->id, id);
	logs_last(path, zw->zc->log_keep, (size_t)n, &lf->tail, &l);
	control_send_logs(c, id, &l);
	logs_free(&l);
	ev_stat_init(&lf->watch, control_logs_stat_cb, lf->tail.path,
	    LOGS_STAT_INTERVAL);
	lf->watch.data = lf;
	ev_stat_start(control_loop, &lf->watch);
	ev_timer_init(&lf->again, control_logs_again_cb, 0., 0.);
	lf->again.data = lf;
	TAILQ_INSERT_TAIL(&log_followers, lf, entry);
	c->nwaits++;
	c->nfollows++;
	nfollows++;
	/* Written between the read and the watch's first stat. */
	control_logs_pump(lf);
}

/*
 * Pass on what a followed console log gained, LOGS_POLL_BYTES at a time;
 * while the client has more than CONTROL_BACKLOG waiting, read nothing.
 */
static void
control_logs_pump(struct log_follower *lf)
{
	struct log_lines l;
	int more;

	ev_timer_stop(control_loop, &lf->again);
	if (peer_queued(lf->c->peer) > CONTROL_BACKLOG) {
		ev_timer_set(&lf->again, LOGS_WAIT_DRAIN, 0.);
		ev_timer_start(control_loop, &lf->again);
		return;
	}
	more = logs_poll(&lf->tail, LOGS_POLL_BYTES, &l);
	if (l.n > 0 || l.nproblems > 0)
		control_send_logs(lf->c, &lf->id, &l);
	logs_free(&l);
	if (more) {
		ev_timer_set(&lf->again, LOGS_AGAIN, 0.);
		ev_timer_start(control_loop, &lf->again);
	}
}

/* A followed console log changed (or its directory entry did). */
static void
control_logs_stat_cb(struct ev_loop *loop, ev_stat *w, int revents)
{
	control_logs_pump(w->data);
}

/* More to read, or the client's queue may have drained. */
static void
control_logs_again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	control_logs_pump(w->data);
}

/* Stop following a console log for a client. */
static void
control_log_follower_free(struct log_follower *lf)
{
	ev_stat_stop(control_loop, &lf->watch);
	ev_timer_stop(control_loop, &lf->again);
	TAILQ_REMOVE(&log_followers, lf, entry);
	logs_tail_close(&lf->tail);
	control_reqid_free(&lf->id);
	free(lf);
}

/* diagnose zone: DESIGN §4's derived view. */
static void
control_diagnose(struct client *c, const struct reqid *id,
    const struct mval *zone)
{
	struct zone_worker *zw;
	struct msgw *w;

	if ((zw = control_zone_arg(c, id, "diagnose", zone)) == NULL)
		return;
	w = control_answer(id, 1);
	msgw_key(w, "result");
	status_pack_diagnose(w, zw, clock_now_ms());
	msgw_map_end(w);
	control_reply(c, w);
}

/* health zone: probe the zone's VM now; answer with the result. */
static void
control_health(struct client *c, const struct reqid *id,
    const struct mval *zone)
{
	struct zone_worker *zw;
	const char *cause;
	char hid[OP_ID_MAX];

	if ((zw = control_zone_arg(c, id, "health", zone)) == NULL)
		return;
	if (c->nwaits >= CONTROL_MAX_WAITS) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "too many requests awaited on one connection");
		return;
	}
	if (parent_health_probe(zw, hid, sizeof hid, &cause) != 0) {
		control_error(c, id, cause, "zone %s: %s", zw->zc->name,
		    strcmp(cause, names_ctl_error(CTLERR_NO_PROBE)) == 0 ?
		    "no health probe is configured ([health] probe = none)" :
		    "its worker is not available");
		return;
	}
	control_wait(c, id, zw->zc->name, hid);
}

/*
 * reset zone [args.force]: lift a recovery suspension; with force, clear
 * owner-unsafe evidence.  Answers when the worker has done it.
 */
static void
control_reset(struct client *c, const struct reqid *id,
    const struct mval *zone, const struct mval *args)
{
	const struct mval *fv = control_arg(args, "force");
	char op_id[OP_ID_MAX], msg[MESSAGE_MAX + 64];
	struct zone_worker *zw;
	const char *cause;
	struct msgw *w;
	int force = 0, r;

	if ((zw = control_zone_arg(c, id, "reset", zone)) == NULL)
		return;
	if (fv != NULL && mval_bool(fv, &force) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.force must be true or false");
		return;
	}
	if (c->nwaits >= CONTROL_MAX_WAITS) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "too many operations awaited on one connection");
		return;
	}
	r = parent_reset(zw, force, op_id, sizeof op_id, msg, sizeof msg, &cause);
	if (r < 0) {
		control_error(c, id, cause, "zone %s: %s", zw->zc->name, msg);
		return;
	}
	if (r == 1) {
		control_wait(c, id, zw->zc->name, op_id);
		return;
	}
	w = control_answer(id, 1);
	msgw_key(w, "result");
	msgw_map_begin(w);
	msgw_key(w, "zone");
	msgw_str(w, zw->zc->name);
	msgw_key(w, "state");
	msgw_str(w, names_state(zw->st.state));
	msgw_key(w, "message");
	msgw_str(w, msg);
	msgw_map_end(w);
	msgw_map_end(w);
	control_reply(c, w);
}

/*
 * The zone a request may name: *zw is it, or NULL when it names none.
 * Returns -1 after answering with the error.
 */
static int
control_zone_opt(struct client *c, const struct reqid *id,
    const struct mval *zone, struct zone_worker **zw)
{
	char name[ZONE_NAME_MAX + 1];

	*zw = NULL;
	if (zone == NULL)
		return 0;
	if (mval_strcpy(zone, name, sizeof name) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "zone must be a zone name of at most %d characters",
		    ZONE_NAME_MAX);
		return -1;
	}
	if ((*zw = parent_zone(name)) == NULL) {
		control_error(c, id, names_ctl_error(CTLERR_UNKNOWN_ZONE),
		    "unknown zone: %s", name);
		return -1;
	}
	return 0;
}

/*
 * lease [zone] args {op, lease, ttl_ms, owner, force} (DESIGN §7): acquire
 * a tool VM of zone; renew or release a lease, whose zone is found in the
 * workers' lease tables (zone, if given, must be it); or list the leases.
 * list is answered from the parent's cache, the others once the worker
 * has done them (control_lease_done).
 */
static void
control_lease(struct client *c, const struct reqid *id,
    const struct mval *zone, const struct mval *args)
{
	struct zone_worker *zw, *given;
	struct msg_lease_op m;
	struct wait *wt;
	const char *cause;
	char lid[OP_ID_MAX];

	if (control_lease_args(c, id, args, &m) != 0)
		return;
	if (m.op == LOP_LIST) {
		control_lease_list(c, id, zone);
		return;
	}
	if (m.op == LOP_ACQUIRE) {
		zw = control_zone_arg(c, id, "lease acquire", zone);
		if (zw == NULL)
			return;
	} else {
		if (control_zone_opt(c, id, zone, &given) != 0)
			return;
		if ((zw = parent_lease_zone(m.lease)) == NULL) {
			control_error(c, id,
			    names_ctl_error(CTLERR_UNKNOWN_LEASE),
			    "no lease %s", m.lease);
			return;
		}
		if (given != NULL && given != zw) {
			control_error(c, id,
			    names_ctl_error(CTLERR_LEASE_OF_ANOTHER_ZONE),
			    "lease %s belongs to zone %s, not %s", m.lease,
			    zw->zc->name, given->zc->name);
			return;
		}
	}
	if (c->nwaits >= CONTROL_MAX_WAITS) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "too many requests awaited on one connection");
		return;
	}
	if (parent_lease_op(zw, &m, lid, sizeof lid, &cause) != 0) {
		control_lease_refused(c, id, zw, cause);
		return;
	}
	wt = control_wait(c, id, zw->zc->name, lid);
	wt->lease_op = m.op;
}

/*
 * A lease request's args into m: op always; lease for renew and release;
 * ttl_ms for acquire and renew; owner for acquire; force for release.  An
 * argument that is malformed, or given to an op it does not apply to, is a
 * bad request.  Returns -1 after answering with the error.
 */
static int
control_lease_args(struct client *c, const struct reqid *id,
    const struct mval *args, struct msg_lease_op *m)
{
	const char *bad = names_ctl_error(CTLERR_BAD_REQUEST);
	const struct mval *v;
	char name[16];
	int op;

	memset(m, 0, sizeof *m);
	if ((v = control_arg(args, "op")) == NULL ||
	    mval_strcpy(v, name, sizeof name) != 0 ||
	    (op = names_lease_op_parse(name)) == -1) {
		control_error(c, id, bad, "args.op must be acquire, renew, "
		    "release or list");
		return -1;
	}
	m->op = op;
	if ((v = control_arg(args, "lease")) != NULL || op == LOP_RENEW ||
	    op == LOP_RELEASE) {
		if (op != LOP_RENEW && op != LOP_RELEASE) {
			control_error(c, id, bad, "args.lease applies to renew "
			    "and release only");
			return -1;
		}
		if (control_lease_id_arg(c, id, v, m->lease,
		    sizeof m->lease) != 0)
			return -1;
	}
	if ((v = control_arg(args, "ttl_ms")) != NULL) {
		if (op != LOP_ACQUIRE && op != LOP_RENEW) {
			control_error(c, id, bad, "args.ttl_ms applies to "
			    "acquire and renew only");
			return -1;
		}
		if (mval_int(v, &m->ttl_ms) != 0 || (m->ttl_ms != 0 &&
		    (m->ttl_ms < LEASE_TTL_MIN_MS ||
		    m->ttl_ms > LEASE_TTL_MAX_MS))) {
			control_error(c, id, bad, "args.ttl_ms must be 0 (the "
			    "default) or an integer from %d to %lld",
			    LEASE_TTL_MIN_MS, (long long)LEASE_TTL_MAX_MS);
			return -1;
		}
	}
	if ((v = control_arg(args, "owner")) != NULL) {
		if (op != LOP_ACQUIRE) {
			control_error(c, id, bad, "args.owner applies to "
			    "acquire only");
			return -1;
		}
		if (mval_strcpy(v, m->owner, sizeof m->owner) != 0 ||
		    !control_owner_valid(m->owner)) {
			control_error(c, id, bad, "args.owner must be 1 to %d "
			    "printable ASCII characters without spaces",
			    LEASE_OWNER_MAX - 1);
			return -1;
		}
	}
	if ((v = control_arg(args, "force")) != NULL) {
		if (op != LOP_RELEASE) {
			control_error(c, id, bad, "args.force applies to "
			    "release only");
			return -1;
		}
		if (mval_bool(v, &m->force) != 0) {
			control_error(c, id, bad, "args.force must be true or "
			    "false");
			return -1;
		}
	}
	return 0;
}

/*
 * args.lease (v, NULL when absent) into buf.  An id too long to be one is
 * no lease anyone holds: unknown-lease, like any other.  Returns -1 after
 * answering with the error.
 */
static int
control_lease_id_arg(struct client *c, const struct reqid *id,
    const struct mval *v, char *buf, size_t size)
{
	const char *s;
	size_t len;

	if (v == NULL || (s = mval_str(v, &len)) == NULL || len == 0 ||
	    memchr(s, '\0', len) != NULL) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.lease must be a lease id");
		return -1;
	}
	if (len >= size) {
		control_error(c, id, names_ctl_error(CTLERR_UNKNOWN_LEASE),
		    "no lease %.*s%s", (int)(len > 64 ? 64 : len), s,
		    len > 64 ? "..." : "");
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* 1 if s is a lease owner: 1 or more printable ASCII characters, no space. */
static int
control_owner_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '!' || *s > '~')
			return 0;
	return 1;
}

/*
 * lease list [zone]: {leases, slots} from the workers' last lease tables,
 * by zone and then slot; slots has one entry per zone with [tool-vm].
 */
static void
control_lease_list(struct client *c, const struct reqid *id,
    const struct mval *zone)
{
	struct zone_worker *only, *zw;
	struct msgw *w;
	size_t i, j;

	if (control_zone_opt(c, id, zone, &only) != 0)
		return;
	w = control_answer(id, 1);
	msgw_key(w, "result");
	msgw_map_begin(w);
	msgw_key(w, "leases");
	msgw_array_begin(w);
	for (i = 0; i < parent_zone_count(); i++) {
		zw = parent_zone_at(i);
		if (only != NULL && zw != only)
			continue;
		for (j = 0; j < zw->nleases; j++)
			status_pack_lease(w, zw->zc->name, &zw->leases[j]);
	}
	msgw_array_end(w);
	msgw_key(w, "slots");
	msgw_array_begin(w);
	for (i = 0; i < parent_zone_count(); i++) {
		zw = parent_zone_at(i);
		if ((only != NULL && zw != only) ||
		    zw->zc->tool_vm.max_leases == 0)
			continue;
		status_pack_slots(w, zw);
	}
	msgw_array_end(w);
	msgw_map_end(w);
	msgw_map_end(w);
	control_reply(c, w);
}

/* Answer a lease request parent_lease_op refused with cause, saying why. */
static void
control_lease_refused(struct client *c, const struct reqid *id,
    const struct zone_worker *zw, const char *cause)
{
	const char *name = zw->zc->name;

	if (strcmp(cause, names_ctl_error(CTLERR_SHUTTING_DOWN)) == 0)
		control_error(c, id, cause, "zonevisord is shutting down");
	else if (strcmp(cause, names_ctl_error(CTLERR_RELOADING)) == 0)
		control_error(c, id, cause, "zone %s: a reload is replacing "
		    "its worker; try again once it is done", name);
	else if (strcmp(cause, names_ctl_error(CTLERR_NO_TOOL_VM)) == 0)
		control_error(c, id, cause, "zone %s has no [tool-vm]", name);
	else if (strcmp(cause, names_ctl_error(CTLERR_ZONE_NOT_RUNNING)) == 0)
		control_error(c, id, cause, "zone %s is %s: tool VMs are lent "
		    "only while its gateway runs", name,
		    names_state(zw->st.state));
	else if (strcmp(cause, names_ctl_error(CTLERR_WORKER_UNAVAILABLE)) == 0)
		control_error(c, id, cause, "zone %s: its worker is not "
		    "available", name);
	else
		control_error(c, id, cause, "zone %s: lease request refused",
		    name);
}

/*
 * reload [args.dry_run]: load the configuration again and answer with the
 * plan (the reload goes on after the answer: retired workers still stop),
 * or with invalid-config and the error lines in error.lines.
 */
static void
control_reload(struct client *c, const struct reqid *id,
    const struct mval *args)
{
	const struct mval *dv = control_arg(args, "dry_run");
	struct reload_plan plan;
	struct msgw *w;
	size_t i;
	int dry_run = 0;

	if (dv != NULL && mval_bool(dv, &dry_run) != 0) {
		control_error(c, id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args.dry_run must be true or false");
		return;
	}
	if (parent_shutting_down()) {
		control_error(c, id, names_ctl_error(CTLERR_SHUTTING_DOWN),
		    "zonevisord is shutting down");
		return;
	}
	log_info("control: reload%s asked by pid %ld", dry_run ?
	    " --dry-run" : "", (long)c->pid);
	if (parent_reload(dry_run, &plan) != 0) {
		w = control_answer(id, 0);
		msgw_key(w, "error");
		msgw_map_begin(w);
		msgw_key(w, "code");
		msgw_str(w, names_ctl_error(CTLERR_INVALID_CONFIG));
		msgw_key(w, "message");
		msgw_str(w, plan.errs.n > 0 ? plan.errs.lines[0] :
		    "invalid configuration");
		msgw_key(w, "lines");
		msgw_array_begin(w);
		for (i = 0; i < plan.errs.n; i++)
			msgw_str(w, plan.errs.lines[i]);
		msgw_array_end(w);
		msgw_map_end(w);
		msgw_map_end(w);
		control_reply(c, w);
		reload_plan_free(&plan);
		return;
	}
	w = control_answer(id, 1);
	msgw_key(w, "result");
	reload_plan_pack(w, &plan);
	msgw_map_end(w);
	control_reply(c, w);
	reload_plan_free(&plan);
}

/* One request from a client. */
static void
control_dispatch_client(struct peer *p, const struct mdoc *doc, void *arg)
{
	struct client *c = arg;
	const struct mval *root = mdoc_root(doc), *v, *zone, *args;
	struct reqid id = { REQID_NONE, 0, NULL };
	char cmdname[32];
	int64_t version;
	int cmd;

	ev_timer_again(control_loop, &c->idle);
	if (mval_kind(root) != MV_MAP) {
		control_error(c, NULL, names_ctl_error(CTLERR_BAD_REQUEST),
		    "a request is a map {v, id, cmd, zone, args}");
		return;
	}
	if ((v = mval_get(root, "id")) != NULL) {
		if (mval_int(v, &id.n) == 0)
			id.kind = REQID_INT;
		else if ((id.s = mval_strdup(v)) != NULL && strlen(id.s) < 256)
			id.kind = REQID_STR;
		else {
			control_reqid_free(&id);
			control_error(c, NULL, names_ctl_error(CTLERR_BAD_REQUEST),
			    "id must be an integer or a short string");
			return;
		}
	}
	if ((v = mval_get(root, "v")) == NULL || mval_int(v, &version) != 0) {
		control_error(c, &id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "missing protocol version v");
		goto done;
	}
	if (version != PROTO_VERSION) {
		control_error(c, &id, names_ctl_error(CTLERR_UNSUPPORTED_VERSION),
		    "protocol version %lld is not supported (this daemon speaks "
		    "%d)", (long long)version, PROTO_VERSION);
		goto done;
	}
	if ((v = mval_get(root, "cmd")) == NULL ||
	    mval_strcpy(v, cmdname, sizeof cmdname) != 0) {
		control_error(c, &id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "missing command cmd");
		goto done;
	}
	if ((cmd = names_ctl_command_parse(cmdname)) == -1) {
		control_error(c, &id, names_ctl_error(CTLERR_UNKNOWN_COMMAND),
		    "unknown command: %s", cmdname);
		goto done;
	}
	zone = mval_get(root, "zone");
	if (zone != NULL && mval_kind(zone) == MV_NIL)
		zone = NULL;
	args = mval_get(root, "args");
	if (args != NULL && mval_kind(args) == MV_NIL)
		args = NULL;
	if (args != NULL && mval_kind(args) != MV_MAP) {
		control_error(c, &id, names_ctl_error(CTLERR_BAD_REQUEST),
		    "args must be a map");
		goto done;
	}
	switch (cmd) {
	case CTL_STATUS:
		control_status(c, &id, zone, args);
		break;
	case CTL_START:
	case CTL_STOP:
	case CTL_RESTART:
	case CTL_REFRESH_CREDENTIALS:
		control_operation(c, &id, cmd, zone, args);
		break;
	case CTL_VERSION:
		control_version(c, &id);
		break;
	case CTL_EVENTS:
		control_events(c, &id, zone, args);
		break;
	case CTL_DIAGNOSE:
		control_diagnose(c, &id, zone);
		break;
	case CTL_RESET:
		control_reset(c, &id, zone, args);
		break;
	case CTL_HEALTH:
		control_health(c, &id, zone);
		break;
	case CTL_RELOAD:
		control_reload(c, &id, args);
		break;
	case CTL_LEASE:
		control_lease(c, &id, zone, args);
		break;
	case CTL_METRICS:
		control_metrics(c, &id);
		break;
	case CTL_LOGS:
		control_logs(c, &id, zone, args);
		break;
	}
done:
	control_reqid_free(&id);
}

/*
 * One awaited answer of c is about to be sent.  With the last, the idle
 * timeout starts again: a client gets its full 30 s after its last answer,
 * not only after its last request.
 */
static void
control_wait_ended(struct client *c)
{
	if (--c->nwaits == 0)
		ev_timer_again(control_loop, &c->idle);
}

/* Answer a wait with w and forget it. */
static void
control_wait_done(struct wait *wt, struct msgw *w)
{
	TAILQ_REMOVE(&waits, wt, entry);
	control_wait_ended(wt->c);
	control_reply(wt->c, w);
	control_reqid_free(&wt->id);
	free(wt);
}

/* A worker finished an operation: answer whoever waits for it. */
void
control_op_done(const char *zone, const struct msg_op_done *done)
{
	struct wait *wt, *next;
	struct msgw *w;

	TAILQ_FOREACH_SAFE(wt, &waits, entry, next) {
		struct zone_worker *zw;

		if (strcmp(wt->zone, zone) != 0 ||
		    strcmp(wt->op_id, done->op_id) != 0)
			continue;
		zw = parent_zone(zone);
		w = control_answer(&wt->id, done->ok);
		if (done->ok) {
			msgw_key(w, "result");
			msgw_map_begin(w);
			msgw_key(w, "zone");
			msgw_str(w, zone);
			msgw_key(w, "operation_id");
			msgw_str(w, done->op_id);
			msgw_key(w, "state");
			msgw_str(w, zw != NULL ? names_state(zw->st.state) : NULL);
			msgw_key(w, "pid");
			if (zw != NULL && zw->st.pid != 0)
				msgw_int(w, zw->st.pid);
			else
				msgw_nil(w);
			msgw_key(w, "message");
			msgw_str(w, done->message);
			msgw_map_end(w);
		} else {
			msgw_key(w, "error");
			msgw_map_begin(w);
			msgw_key(w, "code");
			msgw_str(w, done->error != ERR_NONE ?
			    names_error(done->error) : "operation-failed");
			msgw_key(w, "message");
			msgw_str(w, done->message);
			msgw_key(w, "operation_id");
			msgw_str(w, done->op_id);
			msgw_map_end(w);
		}
		msgw_map_end(w);
		control_wait_done(wt, w);
	}
}

/* A worker probed as asked: answer whoever waits for the result. */
void
control_health_done(const char *zone, const struct msg_health_result *m)
{
	struct wait *wt, *next;
	struct zone_worker *zw = parent_zone(zone);
	struct msgw *w;

	TAILQ_FOREACH_SAFE(wt, &waits, entry, next) {
		if (strcmp(wt->zone, zone) != 0 || strcmp(wt->op_id, m->id) != 0)
			continue;
		w = control_answer(&wt->id, 1);
		msgw_key(w, "result");
		msgw_map_begin(w);
		msgw_key(w, "zone");
		msgw_str(w, zone);
		msgw_key(w, "probe");
		msgw_str(w, zw != NULL ? names_probe(zw->zc->health.probe) :
		    NULL);
		msgw_key(w, "ok");
		msgw_bool(w, m->ok);
		msgw_key(w, "latency_ms");
		msgw_int(w, m->latency_ms);
		msgw_key(w, "detail");
		msgw_str(w, m->detail);
		msgw_map_end(w);
		msgw_map_end(w);
		control_wait_done(wt, w);
	}
}

/*
 * A worker did a lease request (or refused it): answer whoever waits with
 * {zone, lease} (and released: true for a release), or with the worker's
 * error {code, message, lease}, lease nil when it named none.
 */
void
control_lease_done(const char *zone, const struct msg_lease_done *m)
{
	struct wait *wt, *next;
	struct msgw *w;

	TAILQ_FOREACH_SAFE(wt, &waits, entry, next) {
		if (wt->lease_op == -1 || strcmp(wt->zone, zone) != 0 ||
		    strcmp(wt->op_id, m->id) != 0)
			continue;
		w = control_answer(&wt->id, m->ok);
		if (m->ok) {
			msgw_key(w, "result");
			msgw_map_begin(w);
			msgw_key(w, "zone");
			msgw_str(w, zone);
			msgw_key(w, "lease");
			status_pack_lease(w, zone, &m->lease);
			if (wt->lease_op == LOP_RELEASE) {
				msgw_key(w, "released");
				msgw_bool(w, 1);
			}
			msgw_map_end(w);
		} else {
			msgw_key(w, "error");
			msgw_map_begin(w);
			msgw_key(w, "code");
			msgw_str(w, m->code);
			msgw_key(w, "message");
			msgw_str(w, m->message);
			msgw_key(w, "lease");
			if (m->lease.id[0] != '\0')
				status_pack_lease(w, zone, &m->lease);
			else
				msgw_nil(w);
			msgw_map_end(w);
		}
		msgw_map_end(w);
		control_wait_done(wt, w);
	}
}

/* A zone's worker is gone: every operation awaited on it failed. */
void
control_zone_lost(const char *zone, const char *why)
{
	struct wait *wt, *next;

	TAILQ_FOREACH_SAFE(wt, &waits, entry, next) {
		if (strcmp(wt->zone, zone) != 0)
			continue;
		TAILQ_REMOVE(&waits, wt, entry);
		control_wait_ended(wt->c);
		control_error(wt->c, &wt->id, names_error(ERR_WORKER_LOST),
		    "zone %s: %s before operation %s ended", zone, why,
		    wt->op_id);
		control_reqid_free(&wt->id);
		free(wt);
	}
}

/* A zone's worker appended records: pass them to whoever follows its log. */
void
control_zone_recorded(const char *zone)
{
	struct follower *f, *next;
	struct event_list l;

	TAILQ_FOREACH_SAFE(f, &followers, entry, next) {
		if (strcmp(f->zone, zone) != 0)
			continue;
		events_poll(&f->tail, &l);
		if (l.n > 0 || l.nproblems > 0)
			control_send_events(f->c, &f->id, &l);
		events_free(&l);
	}
}
