/*
 * lease.c: the tool VMs a worker lends out (DESIGN §7).  A lease holds one
 * slot of the zone's [tool-vm] (port base_port + slot) and the tool VM
 * spawned for it, owned like the gateway VM: a pidfd watched by the loop,
 * reaped by reaper.c, its whole process group killed when its leader dies.
 *
 * A lease ends when it is released, when it expires (the idle reaper: no
 * renew within its ttl), when its tool VM dies, and all at once when the
 * gateway stops or (release_on_restart) restarts.  Ending one sends the
 * zone's stop signal to the tool VM's process group, SIGKILL after
 * stop_timeout, and if the VM is still alive KILL_GRACE_MS later, the slot
 * is quarantined: it stays taken, visible in lease list and diagnose, until
 * the VM is finally gone.  Only a VM that is gone frees its slot, so two
 * tool VMs never share a slot or port.
 *
 * Each lease has a record (leasefile.c) from its spawn until its VM is
 * gone.  A worker adopts the records it finds at start: a VM that is gone
 * has its record deleted, one that is alive is stopped like a released
 * lease, its slot held until then.  A zone with [tool-vm] also looks for
 * tool VMs carrying its marker (ZONEVISOR_TOOL_DIR) without a record: one
 * spawned just before its worker was killed.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define LEASE_WAITERS	4	/* release requests awaiting one lease */

struct lease {
	TAILQ_ENTRY(lease)	 entry;
	struct leases		*t;
	struct lease_info	 info;
	int			 pidfd;
	int			 child;		/* ours to reap, not a leftover */
	ev_io			 exit_watch;
	ev_timer		 deadline;	/* stop, then kill, then quarantine */
	char			 why[MESSAGE_MAX]; /* why it is being released */
	char			 waiters[LEASE_WAITERS][OP_ID_MAX];
	int			 nwaiters;
};
TAILQ_HEAD(lease_list, lease);

struct leases {
	struct zone		*z;
	struct lease_list	 list;
	ev_timer		 idle;		/* at the earliest expiry */
	char			*dir;		/* <zone dir>/leases */
	int			 spawn_failing;	/* the last spawn failed */
	int			 published;	/* the parent heard of the table */
	char			 spawn_error[MESSAGE_MAX];
};

static void lease_answer(struct zone *, const char *, const struct lease *,
    const char *, const char *, ...) __attribute__((format(printf, 5, 6)));
static void lease_record(struct lease *, int, const char *);
static struct lease *lease_find(struct leases *, const char *);
static int lease_free_slot(struct leases *);
static size_t lease_expand(const char *, const char *const [5], char *);
static char **lease_argv(const struct zone *, const struct lease_info *);
static char **lease_env(const struct zone *, const struct lease_info *);
static void lease_acquire(struct zone *, const struct msg_lease_op *);
static void lease_renew(struct zone *, const struct msg_lease_op *);
static void lease_release(struct zone *, const struct msg_lease_op *);
static void lease_watch(struct lease *);
static void lease_signal(struct lease *, int);
static void lease_stop(struct lease *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void lease_deadline_cb(struct ev_loop *, ev_timer *, int);
static void lease_pidfd_cb(struct ev_loop *, ev_io *, int);
static void lease_exiting(pid_t, void *);
static void lease_exited(pid_t, const struct exit_info *, void *);
static void lease_gone(struct lease *, const char *);
static void lease_destroy(struct lease *);
static void lease_idle_arm(struct leases *);
static void lease_adopt(struct leases *, const struct lease_info *, int,
    const char *, ...) __attribute__((format(printf, 4, 5)));
static int lease_adopt_unrecorded(struct leases *);
static int lease_id_valid(const char *);
static void lease_idle_cb(struct ev_loop *, ev_timer *, int);

static const struct reaper_ops lease_reaper = { lease_exiting, lease_exited };

/* The lease table of a zone; its directory is made if it is missing. */
struct leases *
lease_table_new(struct zone *z)
{
	struct leases *t = xcalloc(1, sizeof *t);

	t->z = z;
	TAILQ_INIT(&t->list);
	ev_timer_init(&t->idle, lease_idle_cb, 0., 0.);
	t->idle.data = t;
	xasprintf(&t->dir, "%s/leases", z->dir);
	if (z->zc->tool_vm.max_leases > 0 && mkdir(t->dir, 0700) == -1 &&
	    errno != EEXIST)
		log_warn("zone %s: mkdir %s", z->zc->name, t->dir);
	return t;
}

/*
 * Forget the table when the worker ends.  Tool VMs still alive (only
 * quarantined ones: a worker waits for the rest) keep their records, for
 * the next worker or zonevisord to deal with.
 */
void
lease_table_free(struct leases *t)
{
	struct lease *l;

	if (t == NULL)
		return;
	while ((l = TAILQ_FIRST(&t->list)) != NULL) {
		log_warnx("zone %s: leaving tool VM pid %ld of lease %s (slot "
		    "%d) behind: it would not die", t->z->zc->name,
		    (long)l->info.pid, l->info.id, l->info.slot);
		lease_destroy(l);
	}
	ev_timer_stop(t->z->loop, &t->idle);
	free(t->dir);
	free(t);
}

/* 1 while a tool VM is alive that the worker should wait for. */
int
lease_busy(const struct zone *z)
{
	const struct lease *l;

	if (z->leases == NULL)
		return 0;
	TAILQ_FOREACH(l, &z->leases->list, entry)
		if (l->info.state != LS_QUARANTINED)
			return 1;
	return 0;
}

/* The number of leases held, in any state. */
int
lease_count(const struct zone *z)
{
	const struct lease *l;
	int n = 0;

	if (z->leases != NULL)
		TAILQ_FOREACH(l, &z->leases->list, entry)
			n++;
	return n;
}

/* Tell the parent the whole table and how the tool-VM plane stands. */
void
lease_publish(struct zone *z)
{
	struct leases *t = z->leases;
	struct msg_leases m;
	struct lease *l;
	int quarantined = 0;
	size_t i = 0;

	if (t == NULL || z->leases_report == NULL)
		return;
	/* A zone without [tool-vm] (and without leftovers) has nothing to say. */
	if (z->zc->tool_vm.max_leases == 0 && TAILQ_EMPTY(&t->list) &&
	    !t->published)
		return;
	t->published = 1;
	memset(&m, 0, sizeof m);
	m.n = (size_t)lease_count(z);
	m.leases = xcalloc(m.n > 0 ? m.n : 1, sizeof *m.leases);
	TAILQ_FOREACH(l, &t->list, entry) {
		m.leases[i++] = l->info;
		if (l->info.state == LS_QUARANTINED)
			quarantined++;
	}
	if (z->zc->tool_vm.max_leases == 0)
		m.plane = TP_NONE;
	else if (t->spawn_failing) {
		m.plane = TP_FAILED;
		snprintf(m.detail, sizeof m.detail, "the last tool VM could "
		    "not be spawned: %.200s", t->spawn_error);
	} else if (quarantined >= z->zc->tool_vm.max_leases) {
		m.plane = TP_FAILED;
		snprintf(m.detail, sizeof m.detail, "all %d slots are "
		    "quarantined: their tool VMs would not die", quarantined);
	} else if (quarantined > 0) {
		m.plane = TP_DEGRADED;
		snprintf(m.detail, sizeof m.detail, "%d of %d slots "
		    "quarantined: their tool VMs would not die", quarantined,
		    z->zc->tool_vm.max_leases);
	} else
		m.plane = TP_OK;
	z->leases_report(z, &m);
	free(m.leases);
}

/* Answer request id: ok when code is NULL, else failed with code. */
static void
lease_answer(struct zone *z, const char *id, const struct lease *l,
    const char *code, const char *fmt, ...)
{
	struct msg_lease_done d;
	va_list ap;

	if (z->lease_done == NULL)
		return;
	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%s", id);
	d.ok = code == NULL;
	snprintf(d.code, sizeof d.code, "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	if (vsnprintf(d.message, sizeof d.message, fmt, ap) < 0)
		d.message[0] = '\0';
	va_end(ap);
	if (l != NULL)
		d.lease = l->info;
	z->lease_done(z, &d);
}

/* Append a lifecycle record of kind about lease l. */
static void
lease_record(struct lease *l, int kind, const char *message)
{
	struct record rec;
	struct vm_ident vm = { l->info.pid, l->info.start_time };

	memset(&rec, 0, sizeof rec);
	rec.kind = kind;
	rec.trigger = -1;
	rec.current_vm = vm;
	rec.message = message;
	rec.lease = &l->info;
	zone_append(l->t->z, &rec);
}

/* The lease of id, or NULL. */
static struct lease *
lease_find(struct leases *t, const char *id)
{
	struct lease *l;

	TAILQ_FOREACH(l, &t->list, entry)
		if (strcmp(l->info.id, id) == 0)
			return l;
	return NULL;
}

/* The lowest slot no lease holds (in any state), or -1. */
static int
lease_free_slot(struct leases *t)
{
	int slot, max = t->z->zc->tool_vm.max_leases;
	struct lease *l;

	for (slot = 0; slot < max; slot++) {
		TAILQ_FOREACH(l, &t->list, entry)
			if (l->info.slot == slot)
				break;
		if (l == NULL)
			return slot;
	}
	return -1;
}

/*
 * One word of [tool-vm] command with its tokens substituted, written to out
 * unless it is NULL; returns the length.
 */
static size_t
lease_expand(const char *in, const char *const values[5], char *out)
{
	static const char *const tokens[5] = { "%port", "%slot", "%lease",
	    "%zone", "%%" };
	size_t n = 0, i, len;

	while (*in != '\0') {
		for (i = 0; i < 5; i++)
			if (strncmp(in, tokens[i], strlen(tokens[i])) == 0)
				break;
		if (i == 5) {
			if (out != NULL)
				out[n] = *in;
			n++;
			in++;
			continue;
		}
		len = strlen(values[i]);
		if (out != NULL)
			memcpy(out + n, values[i], len);
		n += len;
		in += strlen(tokens[i]);
	}
	if (out != NULL)
		out[n] = '\0';
	return n;
}

/* [tool-vm] command with %port, %slot, %lease, %zone and %% substituted. */
static char **
lease_argv(const struct zone *z, const struct lease_info *li)
{
	char *const *in = z->zc->tool_vm.argv;
	char port[16], slot[16];
	const char *values[5] = { port, slot, li->id, z->zc->name, "%" };
	char **out;
	size_t n, i;

	snprintf(port, sizeof port, "%d", li->port);
	snprintf(slot, sizeof slot, "%d", li->slot);
	for (n = 0; in[n] != NULL; n++)
		;
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0; i < n; i++) {
		out[i] = xmalloc(lease_expand(in[i], values, NULL) + 1);
		lease_expand(in[i], values, out[i]);
	}
	return out;
}

/*
 * A tool VM's environment: a few of zonevisord's variables, the zone's
 * env.NAME settings, and markers naming the lease (never the zone's
 * secrets: those are for its gateway).
 */
static char **
lease_env(const struct zone *z, const struct lease_info *li)
{
	size_t n, i, max = 10 + z->zc->nenv;
	char **env = xcalloc(max, sizeof *env);

	n = zone_env_passed(z->zc, env);
	xasprintf(&env[n++], "ZONEVISOR_ZONE=%s", z->zc->name);
	xasprintf(&env[n++], "ZONEVISOR_TOOL_DIR=%s", z->dir);
	xasprintf(&env[n++], "ZONEVISOR_LEASE=%s", li->id);
	xasprintf(&env[n++], "ZONEVISOR_SLOT=%d", li->slot);
	xasprintf(&env[n++], "ZONEVISOR_PORT=%d", li->port);
	for (i = 0; i < z->zc->nenv; i++)
		env[n++] = xstrdup(z->zc->env[i]);
	env[n] = NULL;
	return env;
}

/* A request of the parent: acquire, renew or release. */
void
lease_request(struct zone *z, const struct msg_lease_op *m)
{
	if (z->leases == NULL || z->zc->tool_vm.max_leases == 0) {
		lease_answer(z, m->id, NULL, names_ctl_error(CTLERR_NO_TOOL_VM),
		    "zone %s has no [tool-vm]", z->zc->name);
		return;
	}
	switch (m->op) {
	case LOP_ACQUIRE:
		lease_acquire(z, m);
		break;
	case LOP_RENEW:
		lease_renew(z, m);
		break;
	case LOP_RELEASE:
		lease_release(z, m);
		break;
	default:
		lease_answer(z, m->id, NULL, names_ctl_error(CTLERR_BAD_REQUEST),
		    "unknown lease operation");
		break;
	}
}

/* Spawn a tool VM in the lowest free slot and lend it out. */
static void
lease_acquire(struct zone *z, const struct msg_lease_op *m)
{
	struct leases *t = z->leases;
	const struct tool_vm_config *tc = &z->zc->tool_vm;
	struct lease_record lr;
	struct spawn_spec spec;
	struct spawn_result res;
	char cause[MESSAGE_MAX], path[PATH_MAX];
	char **argv, **env;
	struct lease *l;
	int64_t now = clock_now_ms();
	int slot, fd = -1, r, err, quarantined = 0;
	uuid_t u;

	if (z->exiting || (z->st.state != ZS_RUNNING &&
	    z->st.state != ZS_RUNNING_DEGRADED)) {
		lease_answer(z, m->id, NULL,
		    names_ctl_error(CTLERR_ZONE_NOT_RUNNING), "zone %s is %s: "
		    "tool VMs are lent only while its gateway runs",
		    z->zc->name, z->exiting ? "shutting down" :
		    names_state(z->st.state));
		return;
	}
	if ((slot = lease_free_slot(t)) == -1) {
		TAILQ_FOREACH(l, &t->list, entry)
			quarantined += l->info.state == LS_QUARANTINED;
		lease_answer(z, m->id, NULL, names_ctl_error(CTLERR_NO_FREE_SLOT),
		    "zone %s: no free slot: all %d are taken (%d quarantined)",
		    z->zc->name, tc->max_leases, quarantined);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->t = t;
	l->pidfd = -1;
	l->child = 1;
	uuid_generate_random(u);
	uuid_unparse_lower(u, l->info.id);
	l->info.slot = slot;
	l->info.port = tc->base_port + slot;
	l->info.state = LS_ACTIVE;
	snprintf(l->info.owner, sizeof l->info.owner, "%s", m->owner);
	l->info.ttl_ms = m->ttl_ms > 0 ? m->ttl_ms : tc->idle_ttl_ms;
	l->info.acquired_at_ms = now;
	l->info.expires_at_ms = now + l->info.ttl_ms;
	ev_timer_init(&l->deadline, lease_deadline_cb, 0., 0.);
	l->deadline.data = l;

	/* As the gateway runs (user, directory, limits), but its own argv. */
	argv = lease_argv(z, &l->info);
	env = lease_env(z, &l->info);
	r = zone_spec(z, &spec, env, cause, sizeof cause);
	spec.argv = argv;
	snprintf(path, sizeof path, "%s/tool-%d.log", z->dir, slot);
	if (r == 0 && (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_APPEND | O_CLOEXEC, 0600)) == -1) {
		snprintf(cause, sizeof cause, "open %.200s: %s", path,
		    strerror(errno));
		r = -1;
	}
	spec.output_fd = fd;
	if (r == 0 && spec.set_ids && fchown(fd, spec.uid, spec.gid) == -1)
		log_warn("zone %s: chown %s", z->zc->name, path);
	if (r == 0)
		r = spawn_process(&spec, &res, cause, sizeof cause);
	if (fd != -1)
		close(fd);
	argv_free(argv);
	argv_free(env);
	if (r != 0) {
		log_warnx("zone %s: cannot spawn a tool VM for slot %d: %s",
		    z->zc->name, slot, cause);
		t->spawn_failing = 1;
		snprintf(t->spawn_error, sizeof t->spawn_error, "%s", cause);
		free(l);
		lease_publish(z);
		lease_answer(z, m->id, NULL, names_error(ERR_VM_SPAWN_FAILED),
		    "zone %s: cannot spawn a tool VM: %s", z->zc->name, cause);
		return;
	}
	t->spawn_failing = 0;
	l->info.pid = res.pid;
	l->info.start_time = res.start_time;
	l->pidfd = res.pidfd;
	reaper_add(res.pid, &lease_reaper, l);
	lease_watch(l);
	TAILQ_INSERT_TAIL(&t->list, l, entry);
	log_info("zone %s: lease %s: tool VM pid %ld in slot %d, port %d%s%s",
	    z->zc->name, l->info.id, (long)res.pid, slot, l->info.port,
	    l->info.owner[0] != '\0' ? ", for " : "", l->info.owner);

	memset(&lr, 0, sizeof lr);
	snprintf(lr.zone, sizeof lr.zone, "%s", z->zc->name);
	snprintf(lr.state_dir, sizeof lr.state_dir, "%s", z->cfg->state_dir);
	snprintf(lr.boot_id, sizeof lr.boot_id, "%s", runtime_boot_id());
	lr.info = l->info;
	lr.worker_pid = getpid();
	lr.supervisor_pid = getppid();
	lr.written_at_ms = clock_now_ms();
	if (leasefile_write(t->dir, &lr) != 0) {
		/* A tool VM nobody could find after a crash is not lent out. */
		err = errno;
		zone_persist_failed(z, PS_LEASES, "leases", err);
		lease_record(l, REC_LEASE_ACQUIRED, NULL);
		lease_stop(l, 1, "its lease record could not be written");
		lease_publish(z);
		lease_answer(z, m->id, NULL, names_error(ERR_RECORD_WRITE_FAILED),
		    "zone %s: cannot write the record of lease %s in %s: %s",
		    z->zc->name, l->info.id, t->dir, strerror(err));
		return;
	}
	zone_persist_ok(z, PS_LEASES);
	lease_record(l, REC_LEASE_ACQUIRED, NULL);
	lease_idle_arm(t);
	lease_publish(z);
	lease_answer(z, m->id, l, NULL, "acquired");
}

/* Extend a lease by its ttl (or a new one) from now. */
static void
lease_renew(struct zone *z, const struct msg_lease_op *m)
{
	struct lease *l = lease_find(z->leases, m->lease);

	if (l == NULL) {
		lease_answer(z, m->id, NULL, names_ctl_error(CTLERR_UNKNOWN_LEASE),
		    "zone %s has no lease %s", z->zc->name, m->lease);
		return;
	}
	if (l->info.state != LS_ACTIVE) {
		lease_answer(z, m->id, l, names_ctl_error(
		    l->info.state == LS_QUARANTINED ? CTLERR_LEASE_QUARANTINED :
		    CTLERR_LEASE_RELEASING), "lease %s is %s and cannot be "
		    "renewed", l->info.id, names_lease_state(l->info.state));
		return;
	}
	if (m->ttl_ms > 0)
		l->info.ttl_ms = m->ttl_ms;
	l->info.renewed_at_ms = clock_now_ms();
	l->info.expires_at_ms = l->info.renewed_at_ms + l->info.ttl_ms;
	lease_record(l, REC_LEASE_RENEWED, NULL);
	lease_idle_arm(z->leases);
	lease_publish(z);
	lease_answer(z, m->id, l, NULL, "renewed");
}

/*
 * Release a lease: answered once its tool VM is gone, or failed if it is
 * quarantined.  force sends SIGKILL at once instead of the stop signal.
 */
static void
lease_release(struct zone *z, const struct msg_lease_op *m)
{
	struct lease *l = lease_find(z->leases, m->lease);

	if (l == NULL) {
		lease_answer(z, m->id, NULL, names_ctl_error(CTLERR_UNKNOWN_LEASE),
		    "zone %s has no lease %s", z->zc->name, m->lease);
		return;
	}
	if (l->info.state == LS_QUARANTINED) {
		if (m->force)
			lease_signal(l, SIGKILL);
		lease_answer(z, m->id, l,
		    names_ctl_error(CTLERR_LEASE_QUARANTINED), "lease %s is "
		    "quarantined: tool VM pid %ld survived SIGKILL%s; slot %d "
		    "stays taken until it is gone", l->info.id,
		    (long)l->info.pid, m->force ? " (sent SIGKILL again)" : "",
		    l->info.slot);
		return;
	}
	if (l->nwaiters == LEASE_WAITERS) {
		lease_answer(z, m->id, l, names_ctl_error(CTLERR_LEASE_RELEASING),
		    "lease %s is being released already", l->info.id);
		return;
	}
	snprintf(l->waiters[l->nwaiters++], OP_ID_MAX, "%s", m->id);
	if (l->info.state == LS_ACTIVE)
		lease_stop(l, m->force, "released%s by the operator",
		    m->force ? " (forced)" : "");
	else if (m->force && l->info.state == LS_RELEASING)
		lease_stop(l, 1, "%s, then forced", l->why);
	lease_publish(z);
}

/* Release every lease of the zone: its gateway stops or restarts. */
void
lease_release_all(struct zone *z, int why)
{
	const char *reason = why == LR_STOP ? "the gateway stops" :
	    "the gateway restarts (release_on_restart)";
	struct lease *l;
	int n = 0;

	if (z->leases == NULL)
		return;
	TAILQ_FOREACH(l, &z->leases->list, entry)
		if (l->info.state == LS_ACTIVE) {
			lease_stop(l, 0, "%s", reason);
			n++;
		}
	if (n > 0) {
		log_info("zone %s: releasing all %d leases: %s", z->zc->name,
		    n, reason);
		lease_publish(z);
	}
}

/* Watch the tool VM's pidfd: readable once it exited. */
static void
lease_watch(struct lease *l)
{
	ev_io_init(&l->exit_watch, lease_pidfd_cb, l->pidfd, EV_READ);
	l->exit_watch.data = l;
	ev_io_start(l->t->z->loop, &l->exit_watch);
}

/*
 * Signal the tool VM: through its pidfd, so never another process, then
 * its process group (its leader is alive or unreaped, so the group id has
 * not been reused).
 */
static void
lease_signal(struct lease *l, int sig)
{
	log_info("zone %s: lease %s: sending %s to tool VM pid %ld",
	    l->t->z->zc->name, l->info.id, names_signal(sig),
	    (long)l->info.pid);
	if (syscall(SYS_pidfd_send_signal, l->pidfd, sig, NULL, 0) == -1) {
		if (errno != ESRCH)
			log_warn("zone %s: pidfd_send_signal %ld",
			    l->t->z->zc->name, (long)l->info.pid);
		return;
	}
	if (kill(-l->info.pid, sig) == -1 && errno != ESRCH && errno != EPERM)
		log_warn("zone %s: kill -%ld", l->t->z->zc->name,
		    (long)l->info.pid);
}

/*
 * End a lease: the stop signal with stop_timeout to go, or SIGKILL at once
 * when kill is set; the deadline takes it further.  The reason goes to the
 * lease-released record.
 */
static void
lease_stop(struct lease *l, int kill_now, const char *fmt, ...)
{
	struct zone *z = l->t->z;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(l->why, sizeof l->why, fmt, ap) < 0)
		l->why[0] = '\0';
	va_end(ap);
	ev_timer_stop(z->loop, &l->deadline);
	ev_now_update(z->loop);
	if (kill_now) {
		l->info.state = LS_KILLING;
		lease_signal(l, SIGKILL);
		ev_timer_set(&l->deadline, KILL_GRACE_MS / 1000., 0.);
	} else {
		l->info.state = LS_RELEASING;
		lease_signal(l, z->zc->stop_signal);
		ev_timer_set(&l->deadline, z->zc->stop_timeout_ms / 1000., 0.);
	}
	ev_timer_start(z->loop, &l->deadline);
	lease_idle_arm(l->t);
}

/* A deadline passed: SIGKILL after the stop signal, quarantine after that. */
static void
lease_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lease *l = w->data;
	struct zone *z = l->t->z;
	char msg[MESSAGE_MAX + 64];
	int i;

	if (l->info.state == LS_RELEASING) {
		log_warnx("zone %s: lease %s: tool VM pid %ld outlived "
		    "stop_timeout; killing it", z->zc->name, l->info.id,
		    (long)l->info.pid);
		l->info.state = LS_KILLING;
		lease_signal(l, SIGKILL);
		ev_timer_set(&l->deadline, KILL_GRACE_MS / 1000., 0.);
		ev_timer_start(loop, &l->deadline);
		lease_publish(z);
		return;
	}
	l->info.state = LS_QUARANTINED;
	snprintf(msg, sizeof msg, "tool VM pid %ld survived SIGKILL for %d ms; "
	    "slot %d quarantined until it is gone", (long)l->info.pid,
	    KILL_GRACE_MS, l->info.slot);
	log_warnx("zone %s: lease %s: %s", z->zc->name, l->info.id, msg);
	lease_record(l, REC_LEASE_QUARANTINED, msg);
	for (i = 0; i < l->nwaiters; i++)
		lease_answer(z, l->waiters[i], l,
		    names_ctl_error(CTLERR_LEASE_QUARANTINED), "lease %s: %s",
		    l->info.id, msg);
	l->nwaiters = 0;
	lease_publish(z);
	z->report(z);
}

/* The pidfd turned readable: the tool VM exited. */
static void
lease_pidfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct lease *l = w->data;

	if (l->child) {
		reaper_run();	/* lease_exited() follows */
		return;
	}
	lease_gone(l, "exited");	/* a leftover: its parent reaps it */
}

/* The leader is a zombie: kill what is left of its process group. */
static void
lease_exiting(pid_t pid, void *arg)
{
	struct lease *l = arg;

	if (kill(-pid, SIGKILL) == -1 && errno != ESRCH && errno != EPERM)
		log_warn("zone %s: kill -%ld", l->t->z->zc->name, (long)pid);
}

/* The tool VM was reaped. */
static void
lease_exited(pid_t pid, const struct exit_info *ei, void *arg)
{
	char what[96];

	reaper_describe(ei, what, sizeof what);
	lease_gone(arg, what);
}

/*
 * The tool VM is gone (how: "exited with status 0", ...): record it, free
 * the slot, delete the record and answer whoever waits.
 */
static void
lease_gone(struct lease *l, const char *how)
{
	struct zone *z = l->t->z;
	char msg[2 * MESSAGE_MAX];
	int i;

	if (l->info.state == LS_ACTIVE)
		snprintf(msg, sizeof msg, "tool VM pid %ld %s by itself",
		    (long)l->info.pid, how);
	else
		snprintf(msg, sizeof msg, "%s: tool VM pid %ld %s%s", l->why,
		    (long)l->info.pid, how, l->info.state == LS_QUARANTINED ?
		    " after its slot was quarantined" : "");
	log_info("zone %s: lease %s ended (slot %d free): %s", z->zc->name,
	    l->info.id, l->info.slot, msg);
	lease_record(l, REC_LEASE_RELEASED, msg);
	if (leasefile_delete(l->t->dir, l->info.id) != 0)
		zone_persist_failed(z, PS_LEASES, "leases: unlink", errno);
	for (i = 0; i < l->nwaiters; i++)
		lease_answer(z, l->waiters[i], l, NULL, "%s", msg);
	l->nwaiters = 0;
	lease_destroy(l);
	lease_idle_arm(z->leases);
	lease_publish(z);
	z->report(z);	/* a worker that waits for its tool VMs may end */
}

/* Unlink a lease from its table and free it. */
static void
lease_destroy(struct lease *l)
{
	struct ev_loop *loop = l->t->z->loop;

	TAILQ_REMOVE(&l->t->list, l, entry);
	ev_io_stop(loop, &l->exit_watch);
	ev_timer_stop(loop, &l->deadline);
	if (l->child)
		reaper_remove(l->info.pid);
	if (l->pidfd != -1)
		close(l->pidfd);
	free(l);
}

/* Arm the idle reaper for the earliest expiry of an active lease. */
static void
lease_idle_arm(struct leases *t)
{
	struct lease *l;
	int64_t next = INT64_MAX, now = clock_now_ms();

	ev_timer_stop(t->z->loop, &t->idle);
	TAILQ_FOREACH(l, &t->list, entry)
		if (l->info.state == LS_ACTIVE && l->info.expires_at_ms < next)
			next = l->info.expires_at_ms;
	if (next == INT64_MAX)
		return;
	ev_now_update(t->z->loop);
	ev_timer_set(&t->idle, next > now ? (double)(next - now) / 1000. : 0.,
	    0.);
	ev_timer_start(t->z->loop, &t->idle);
}

/* The idle reaper: release every lease not renewed within its ttl. */
static void
lease_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct leases *t = w->data;
	int64_t now = clock_now_ms();
	struct lease *l;
	char msg[MESSAGE_MAX];
	int n = 0;

	TAILQ_FOREACH(l, &t->list, entry) {
		if (l->info.state != LS_ACTIVE || l->info.expires_at_ms > now)
			continue;
		snprintf(msg, sizeof msg, "not renewed within its ttl of %lld "
		    "ms", (long long)l->info.ttl_ms);
		log_info("zone %s: lease %s expired: %s", t->z->zc->name,
		    l->info.id, msg);
		lease_record(l, REC_LEASE_EXPIRED, msg);
		lease_stop(l, 0, "expired: %s", msg);
		n++;
	}
	lease_idle_arm(t);
	if (n > 0)
		lease_publish(t->z);
}

/*
 * At a worker's start: the leases an earlier worker or zonevisord left.
 * A record whose tool VM is gone is deleted; a live tool VM is stopped
 * like a released lease and holds its slot until it is gone; an unreadable
 * record, or one of another zone, is set aside as <record>.bad.
 */
void
lease_adopt_leftovers(struct zone *z)
{
	struct leases *t = z->leases;
	struct lease_record lr;
	char cause[256], aside[PATH_MAX + 8], msg[MESSAGE_MAX];
	char **paths;
	size_t n, i;
	int r, adopted = 0;

	if (t == NULL || leasefile_list(t->dir, &paths, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		int pidfd;

		if ((r = leasefile_read(paths[i], &lr, cause, sizeof cause)) == 1)
			continue;
		if (r == 0 && (strcmp(lr.zone, z->zc->name) != 0 ||
		    strcmp(lr.state_dir, z->cfg->state_dir) != 0)) {
			snprintf(cause, sizeof cause, "written for zone %s in "
			    "%.150s", lr.zone, lr.state_dir);
			r = -1;
		}
		if (r == -1) {
			snprintf(aside, sizeof aside, "%s.bad", paths[i]);
			log_warnx("zone %s: lease record %s: %s; set aside as %s",
			    z->zc->name, paths[i], cause, aside);
			if (rename(paths[i], aside) == -1)
				log_warn("zone %s: rename %s", z->zc->name,
				    paths[i]);
			continue;
		}
		pidfd = -1;
		if (leasefile_alive(&lr))
			pidfd = (int)syscall(SYS_pidfd_open, lr.info.pid, 0);
		/* Opened, then checked again: the pidfd is that process. */
		if (pidfd != -1 && !leasefile_alive(&lr)) {
			close(pidfd);
			pidfd = -1;
		}
		if (pidfd == -1) {
			struct lease gone = { .t = t, .info = lr.info };

			snprintf(msg, sizeof msg, "left by worker pid %ld; its "
			    "tool VM pid %ld is gone", (long)lr.worker_pid,
			    (long)lr.info.pid);
			lease_record(&gone, REC_LEASE_RELEASED, msg);
			if (leasefile_delete(t->dir, lr.info.id) != 0)
				zone_persist_failed(z, PS_LEASES,
				    "leases: unlink", errno);
			continue;
		}
		lease_adopt(t, &lr.info, pidfd, "left by worker pid %ld of "
		    "zonevisord pid %ld", (long)lr.worker_pid,
		    (long)lr.supervisor_pid);
		adopted++;
	}
	argv_free(paths);
	adopted += lease_adopt_unrecorded(t);
	if (adopted > 0 || n > 0)
		lease_publish(z);
}

/* 1 if id has the shape of a lease id: a lower-case uuid. */
static int
lease_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f') ||
		    (id[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23))))
			return 0;
	return i == LEASE_ID_MAX - 1;
}

/*
 * Stop a tool VM left behind (its pidfd open, its identity checked): like
 * a released lease, its slot held until it is gone.
 */
static void
lease_adopt(struct leases *t, const struct lease_info *li, int pidfd,
    const char *fmt, ...)
{
	struct lease *l = xcalloc(1, sizeof *l);
	char why[MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, sizeof why, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
	l->t = t;
	l->info = *li;
	l->info.state = LS_ACTIVE;
	l->pidfd = pidfd;
	ev_timer_init(&l->deadline, lease_deadline_cb, 0., 0.);
	l->deadline.data = l;
	TAILQ_INSERT_TAIL(&t->list, l, entry);
	lease_watch(l);
	log_warnx("zone %s: lease %s: tool VM pid %ld (slot %d) was %s; "
	    "stopping it", t->z->zc->name, l->info.id, (long)l->info.pid,
	    l->info.slot, why);
	lease_stop(l, 0, "%s", why);
}

/*
 * Tool VMs of this zone that carry its marker (ZONEVISOR_TOOL_DIR) but
 * have no record: spawned by a worker killed before it wrote one.  Only a
 * zone with [tool-vm] looks (a walk of /proc).  Returns how many.
 */
static int
lease_adopt_unrecorded(struct leases *t)
{
	struct zone *z = t->z;
	struct boot_scan scan;
	struct lease_info li;
	struct lease *l;
	size_t i;
	int pidfd, n = 0;

	if (z->zc->tool_vm.max_leases == 0)
		return 0;
	boot_scan_markers(z->cfg, 1, &scan);
	for (i = 0; i < scan.n; i++) {
		const struct boot_process *bp = &scan.procs[i];

		if (strcmp(bp->zone, z->zc->name) != 0)
			continue;
		TAILQ_FOREACH(l, &t->list, entry)
			if (l->info.pid == bp->pid)
				break;
		if (l != NULL)
			continue;
		pidfd = (int)syscall(SYS_pidfd_open, bp->pid, 0);
		if (pidfd == -1)
			continue;
		if (!proc_identity_matches(bp->pid, bp->start_time)) {
			close(pidfd);
			continue;
		}
		/*
		 * What its environment says is only believed in shape: a
		 * lease id names a file to delete, a slot one to hold.
		 */
		memset(&li, 0, sizeof li);
		snprintf(li.id, sizeof li.id, "%s", lease_id_valid(bp->lease) ?
		    bp->lease : "unrecorded");
		li.slot = bp->slot >= 0 && bp->slot < z->zc->tool_vm.max_leases ?
		    bp->slot : LEASES_MAX;
		li.port = li.slot < LEASES_MAX ? z->zc->tool_vm.base_port +
		    li.slot : 0;
		li.pid = bp->pid;
		li.start_time = bp->start_time;
		li.acquired_at_ms = li.expires_at_ms = clock_now_ms();
		lease_adopt(t, &li, pidfd, "found by its marker, without a "
		    "lease record");
		n++;
	}
	boot_scan_free(&scan);
	return n;
}
