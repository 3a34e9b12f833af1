/*
 * worker.c: the process that owns one zone.  zonevisord forks it; it then
 * makes itself a clean process (its own libev loop from ev_loop_new(), never
 * the default loop that would reap its VM behind its back; default signal
 * dispositions; no descriptor but its link to the parent; a name such as
 * zv:alpha), becomes a child subreaper so the VM's strays come back to it,
 * and serves the parent's operations over a msgpack socketpair.
 *
 * If the parent dies (EOF on the link, or the SIGTERM that PR_SET_PDEATHSIG
 * sends), the worker stops its VM gracefully and exits: nothing is left
 * running without an owner.  A malformed frame from the parent is treated
 * the same way: the worker trusts nothing it cannot read.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static struct ev_loop	*worker_loop;
static struct zone	*worker_zone;
static struct peer	*worker_link;
static int		 worker_hello;
static ev_io		 worker_sigio;	/* a signalfd of the signals below */
static int		 worker_lock = -1;

#define WORKER_LOCK_WAIT_MS	10000
#define WORKER_STACK_SIZE	(512 * 1024)	/* the worker thread's */

static int worker_setup(const struct zone_config *, int);
static void *worker_run(void *);
static void worker_signal(int);
static void worker_signal_cb(struct ev_loop *, ev_io *, int);
static void worker_send(struct msgw *);
static void worker_report(struct zone *);
static void worker_op_done(struct zone *, const struct zone_result *);
static void worker_escalate(struct zone *, const struct msg_escalate *);
static void worker_health_answered(struct zone *,
    const struct msg_health_result *);
static void worker_lease_done(struct zone *, const struct msg_lease_done *);
static void worker_leases_report(struct zone *, const struct msg_leases *);
static void worker_dispatch_parent(struct peer *, const struct mdoc *, void *);
static void worker_lose_parent(const char *);
static void worker_bad_frame(struct peer *, const char *, void *);
static void worker_parent_gone(struct peer *, const char *, void *);
static void worker_zone_op(int, struct msgr *);

static const struct peer_ops worker_link_ops = {
	worker_dispatch_parent, worker_bad_frame, worker_parent_gone
};

/*
 * Make the freshly forked process a worker: take a name, die with the
 * parent, drop every descriptor but the rendezvous and stdio, reset
 * signals, and become a subreaper.  Returns the rendezvous, moved to
 * descriptor 3.
 */
static int
worker_setup(const struct zone_config *zc, int fd)
{
	pid_t parent = getppid();
	char name[32];

	snprintf(name, sizeof name, WORKER_COMM_PREFIX "%s", zc->name);
	prctl(PR_SET_NAME, name);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		log_warn("%s: PR_SET_PDEATHSIG", __func__);
	if (getppid() != parent)
		_exit(0);	/* the parent died before the line above */
	/* Own process group: a ^C meant for zonevisord reaches it alone. */
	setpgid(0, 0);
	if (fd > 3) {
		close_range(3, (unsigned int)fd - 1, 0);
		if (dup3(fd, 3, O_CLOEXEC) == 3) {
			close(fd);
			fd = 3;
		}
	}
	close_range((unsigned int)fd + 1, ~0U, 0);
	spawn_child_reset();
	spawn_ignore(SIGPIPE);
	spawn_ignore(SIGINT);
	log_procinit(name);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("%s: PR_SET_CHILD_SUBREAPER", __func__);
	reaper_reset();
	return fd;
}

/* What each signal means to a worker. */
static void
worker_signal(int sig)
{
	switch (sig) {
	case SIGCHLD:
		reaper_run();
		break;
	case SIGTERM:
		log_info("SIGTERM: stopping the VM, then exiting");
		zone_shutdown(worker_zone);
		break;
	case SIGUSR1:
		console_reopen(&worker_zone->console);
		break;
	case SIGHUP:
		break;	/* the parent reloads; a worker has nothing to do */
	}
}

/*
 * Signals reach the loop here, through a signalfd, so handling them may do
 * anything.  (Not libev's signal watchers: the parent's, inherited with its
 * memory, still claim the signals for the parent's loop.)
 */
static void
worker_signal_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct signalfd_siginfo si[8];
	ssize_t n, i;

	while ((n = read(w->fd, si, sizeof si)) > 0)
		for (i = 0; i < n / (ssize_t)sizeof si[0]; i++)
			worker_signal((int)si[i].ssi_signo);
	if (zone_at_rest(worker_zone) && worker_zone->exiting)
		ev_break(loop, EVBREAK_ALL);
}

/* Send a message to the parent; a lost parent is noticed by the reader. */
static void
worker_send(struct msgw *w)
{
	if (worker_link == NULL) {
		msgw_free(w);
		return;
	}
	peer_send(worker_link, w);
}

/*
 * Report the zone's status (and that records were appended, for followers
 * of its log); end the loop once a shutdown is complete.
 */
static void
worker_report(struct zone *z)
{
	worker_send(msg_pack_zone_status(&z->st));
	if (z->recorded) {
		z->recorded = 0;
		worker_send(msg_pack_empty(MSG_ZONE_RECORDED));
	}
	if (z->exiting && zone_at_rest(z))
		ev_break(worker_loop, EVBREAK_ALL);
}

/* Tell the parent an operation ended. */
static void
worker_op_done(struct zone *z, const struct zone_result *res)
{
	struct msg_op_done m;

	memset(&m, 0, sizeof m);
	snprintf(m.op_id, sizeof m.op_id, "%s", res->id);
	m.ok = res->ok;
	m.error = res->error;
	snprintf(m.message, sizeof m.message, "%s", res->message);
	worker_send(msg_pack_op_done(&m));
}

/* Answer the parent's request for a probe now. */
static void
worker_health_answered(struct zone *z, const struct msg_health_result *m)
{
	worker_send(msg_pack_health_result(m));
}

/* Answer the parent's lease request. */
static void
worker_lease_done(struct zone *z, const struct msg_lease_done *m)
{
	worker_send(msg_pack_lease_done(m));
}

/* Tell the parent the zone's lease table. */
static void
worker_leases_report(struct zone *z, const struct msg_leases *m)
{
	worker_send(msg_pack_leases(m));
}

/* Hand a failure to the parent's recovery policy. */
static void
worker_escalate(struct zone *z, const struct msg_escalate *esc)
{
	log_info("zone %s: escalating %s to the supervisor", z->zc->name,
	    names_error(esc->error));
	worker_send(msg_pack_escalate(esc));
}

/* Queue an operation the parent asked for. */
static void
worker_zone_op(int type, struct msgr *r)
{
	struct msg_zone_op m;
	int kind;

	if (msg_unpack_zone_op(r, &m) != 0) {
		worker_bad_frame(worker_link, "malformed zone operation", NULL);
		return;
	}
	kind = type == MSG_ZONE_STOP ? OP_STOP : type == MSG_ZONE_RESTART ?
	    OP_RESTART : type == MSG_ZONE_COLD_START ? OP_COLD_START :
	    type == MSG_ZONE_RESET ? OP_RESET :
	    type == MSG_ZONE_CREDENTIALS_REFRESH ? OP_CREDENTIALS_REFRESH :
	    OP_START;
	zone_submit(worker_zone, zone_op_new(worker_zone, kind, m.trigger,
	    m.op_id, m.timeout_ms));
}

/* A message from the parent. */
static void
worker_dispatch_parent(struct peer *p, const struct mdoc *doc, void *arg)
{
	struct msg_hello hello;
	struct msg_zone_note note;
	struct msg_zone_arm arm;
	struct msg_zone_op op;
	static struct msg_zone_health mh;	/* not on the thread's small stack */
	struct msg_lease_op lop;
	struct health_config hc;
	const char *cause;
	struct msgr r;
	int type;

	if (msg_open(doc, &r, &type) != 0) {
		worker_bad_frame(p, "message without a type", arg);
		return;
	}
	if (!worker_hello && type != MSG_HELLO) {
		worker_bad_frame(p, "message before hello", arg);
		return;
	}
	switch (type) {
	case MSG_HELLO:
		if (msg_unpack_hello(&r, &hello) != 0 ||
		    hello.version != PROTO_VERSION) {
			worker_bad_frame(p, "bad hello or protocol version", arg);
			return;
		}
		worker_hello = 1;
		break;
	case MSG_SHUTDOWN:
		if (msg_end(&r) != 0) {
			worker_bad_frame(p, "malformed shutdown", arg);
			return;
		}
		zone_shutdown(worker_zone);
		break;
	case MSG_ZONE_RETIRE:
		if (msg_unpack_zone_op(&r, &op) != 0) {
			worker_bad_frame(p, "malformed retire", arg);
			return;
		}
		zone_retire(worker_zone, op.trigger, op.op_id);
		break;
	case MSG_REOPEN_LOGS:
		console_reopen(&worker_zone->console);
		break;
	case MSG_ZONE_ARM:
		if (msg_unpack_zone_arm(&r, &arm) != 0) {
			worker_bad_frame(p, "malformed arm", arg);
			return;
		}
		zone_arm(worker_zone, &arm);
		break;
	case MSG_ZONE_HEALTH:
		if (msg_unpack_zone_health(&r, &mh) != 0) {
			worker_bad_frame(p, "malformed health settings", arg);
			return;
		}
		if (health_config_from_msg(&hc, &mh, &cause) != 0) {
			health_config_clear(&hc);
			worker_bad_frame(p, cause, arg);
			return;
		}
		zone_set_health(worker_zone, &hc);
		health_config_clear(&hc);
		break;
	case MSG_ZONE_NOTE:
		if (msg_unpack_zone_note(&r, &note) != 0) {
			worker_bad_frame(p, "malformed note", arg);
			return;
		}
		zone_note(worker_zone, note.kind, note.message);
		break;
	case MSG_ZONE_START:
	case MSG_ZONE_STOP:
	case MSG_ZONE_RESTART:
	case MSG_ZONE_COLD_START:
	case MSG_ZONE_RESET:
	case MSG_ZONE_CREDENTIALS_REFRESH:
		worker_zone_op(type, &r);
		break;
	case MSG_LEASE_OP:
		if (msg_unpack_lease_op(&r, &lop) != 0) {
			worker_bad_frame(p, "malformed lease request", arg);
			return;
		}
		lease_request(worker_zone, &lop);
		break;
	case MSG_HEALTH_PROBE:
		if (msg_unpack_zone_op(&r, &op) != 0) {
			worker_bad_frame(p, "malformed health probe", arg);
			return;
		}
		health_probe_now(worker_zone, op.op_id);
		break;
	default:
		worker_bad_frame(p, "unexpected message type", arg);
		break;
	}
}

/* No parent to trust any more: stop the VM, then exit. */
static void
worker_lose_parent(const char *why)
{
	log_warnx("%s; stopping the zone and exiting", why);
	peer_free(worker_link);
	worker_link = NULL;
	zone_shutdown(worker_zone);
}

/* The parent sent something unreadable: it is trusted no more. */
static void
worker_bad_frame(struct peer *p, const char *cause, void *arg)
{
	char why[128];

	snprintf(why, sizeof why, "bad message from the parent (%s)", cause);
	worker_lose_parent(why);
}

/* The parent is gone. */
static void
worker_parent_gone(struct peer *p, const char *why, void *arg)
{
	char msg[128];

	snprintf(msg, sizeof msg, "lost the link to the parent (%s)", why);
	worker_lose_parent(msg);
}

/* What worker_run needs, handed over from worker_main. */
struct worker_args {
	const struct config		*cfg;
	const struct zone_config	*zc;
	int				 fd;
	const struct zone_status	*initial;
	int				 start_kind;	/* or -1 */
	struct msg_zone_op		 start;
};

/*
 * The worker's life: set up, greet the parent, serve it until told to stop
 * (or until it is gone), then exit.  initial, when set, is the status the
 * zone starts with (failed{worker-lost} after a predecessor died); start,
 * when set, is an operation (of kind start_kind) to begin as soon as the
 * worker is up, as if the parent had sent it: a zone's autostart at boot,
 * which then does not wait for the parent to get round to this worker.
 *
 * The worker runs on a thread of its own so that glibc gives it a malloc
 * arena of its own: on the main arena, inherited from the parent, each
 * allocation would reuse a free chunk somewhere in the parent's heap and
 * copy that whole page, and a worker would end up with three times the
 * memory it needs.  The main thread blocks every signal and waits; the
 * worker thread handles them.
 */
void
worker_main(const struct config *cfg, const struct zone_config *zc, int fd,
    const struct zone_status *initial, int start_kind,
    const struct msg_zone_op *start)
{
	static struct worker_args args;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all;

	args.cfg = cfg;
	args.zc = zc;
	if ((args.fd = rendezvous_link(worker_setup(zc, fd), zc->name)) == -1)
		_exit(1);
	args.initial = initial;
	args.start_kind = start != NULL ? start_kind : -1;
	if (start != NULL)
		args.start = *start;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
	if (pthread_create(&thread, &attr, worker_run, &args) != 0) {
		log_warnx("zone %s: cannot start the worker thread; running "
		    "on the main one", zc->name);
		worker_run(&args);
	}
	pthread_join(thread, NULL);
	_exit(1);	/* not reached: worker_run exits the process */
}

/* The worker thread: everything worker_main describes. */
static void *
worker_run(void *arg)
{
	const struct worker_args *a = arg;
	const struct config *cfg = a->cfg;
	const struct zone_config *zc = a->zc;
	const struct zone_status *initial = a->initial;
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGUSR1, SIGHUP };
	static char lockpath[PATH_MAX];	/* not on the thread's small stack */
	struct msg_hello hello;
	sigset_t set;
	int fd = a->fd, sigfd;
	size_t i;

	if ((worker_loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		fatalx("zone %s: cannot create an event loop", zc->name);
	/* Every signal is blocked (worker_main): these are read from here. */
	sigemptyset(&set);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&set, sigs[i]);
	if ((sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("zone %s: signalfd", zc->name);
	ev_io_init(&worker_sigio, worker_signal_cb, sigfd, EV_READ);
	ev_io_start(worker_loop, &worker_sigio);
	worker_link = peer_new(worker_loop, fd, FRAME_MAX, CONTROL_MAX_OUTPUT,
	    &worker_link_ops, NULL);
	memset(&hello, 0, sizeof hello);
	hello.version = PROTO_VERSION;
	snprintf(hello.zone, sizeof hello.zone, "%s", zc->name);
	hello.pid = getpid();
	worker_send(msg_pack_hello(&hello));

	worker_zone = zone_new(worker_loop, cfg, zc);
	worker_zone->report = worker_report;
	worker_zone->op_done = worker_op_done;
	worker_zone->escalate = worker_escalate;
	worker_zone->health_answered = worker_health_answered;
	worker_zone->lease_done = worker_lease_done;
	worker_zone->leases_report = worker_leases_report;
	if (initial != NULL) {
		worker_zone->st.state = initial->state;
		worker_zone->st.desired = initial->desired;
		worker_zone->st.evidence = initial->evidence;
		snprintf(worker_zone->st.evidence_detail,
		    sizeof worker_zone->st.evidence_detail, "%s",
		    initial->evidence_detail);
		worker_zone->st.error = initial->error;
		worker_zone->st.eligible = initial->eligible;
		worker_zone->st.restarts = initial->restarts;
		worker_zone->st.generation = initial->generation;
		worker_zone->st.outage = initial->outage;
		worker_zone->st.outage_at_ms = initial->outage_at_ms;
		snprintf(worker_zone->st.message, sizeof worker_zone->st.message,
		    "%s", initial->message);
		snprintf(worker_zone->st.outage_message,
		    sizeof worker_zone->st.outage_message, "%s",
		    initial->outage_message);
	}
	zone_persist_begin(worker_zone, initial);
	/*
	 * Before any VM may start: the zone's lock (an earlier worker still
	 * stopping its VM holds it), then a VM left by an earlier zonevisord?
	 */
	snprintf(lockpath, sizeof lockpath, "%s/worker.lock", worker_zone->dir);
	if ((worker_lock = lock_take(lockpath, WORKER_LOCK_WAIT_MS)) == -1) {
		worker_zone->new_evidence = EVD_ORPHANED_VM;
		if (errno == EWOULDBLOCK)
			snprintf(worker_zone->new_evidence_detail,
			    sizeof worker_zone->new_evidence_detail, "%.150s is "
			    "held by another process: an earlier worker of this "
			    "zone is alive", lockpath);
		else
			snprintf(worker_zone->new_evidence_detail,
			    sizeof worker_zone->new_evidence_detail, "%.150s "
			    "cannot be taken (%s): an earlier worker of this "
			    "zone may be alive", lockpath, strerror(errno));
		zone_fsm_feed(worker_zone, ZE_OWNER_UNSAFE);
	} else {
		zone_check_runtime(worker_zone);
		lease_adopt_leftovers(worker_zone);
	}
	lease_publish(worker_zone);
	worker_report(worker_zone);
	log_debug("zone %s: worker ready", zc->name);
	if (a->start_kind != -1)
		zone_submit(worker_zone, zone_op_new(worker_zone, a->start_kind,
		    a->start.trigger, a->start.op_id, a->start.timeout_ms));

	ev_run(worker_loop, 0);

	if (worker_link != NULL)
		peer_flush_blocking(worker_link, 1000);
	log_info("zone %s: worker exiting", zc->name);
	peer_free(worker_link);
	zone_free(worker_zone);
	ev_loop_destroy(worker_loop);
	lock_release(worker_lock);
	exit(0);
}
