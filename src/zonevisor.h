/*
 * zonevisor.h: the private header of zonevisord and zonectl.  Types and
 * prototypes are grouped by the file that defines them; every exported
 * function of foo.c is foo_*.  The wire protocol lives apart in proto.h.
 */
#ifndef ZV_ZONEVISOR_H
#define ZV_ZONEVISOR_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "proto.h"

/* glibc's <sys/queue.h> lacks the BSD _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/* Exit codes of zonevisord. */
#define ZVD_EXIT_OK		0
#define ZVD_EXIT_FAILURE	1	/* a run-time failure after start-up */
#define ZVD_EXIT_USAGE		2	/* bad command line */
#define ZVD_EXIT_CONFIG		3	/* the configuration has errors */
#define ZVD_EXIT_RUNNING	4	/* another zonevisord owns the control socket */

/* Exit codes of zonectl (DESIGN §11). */
#define ZC_EXIT_OK		0
#define ZC_EXIT_FAILED		1	/* the operation failed */
#define ZC_EXIT_USAGE		2	/* bad command line or request */
#define ZC_EXIT_NOT_RUNNING	3	/* status: a named zone is not running */
#define ZC_EXIT_UNKNOWN_ZONE	4
#define ZC_EXIT_PERMISSION	5
#define ZC_EXIT_UNREACHABLE	6	/* no daemon answers on the socket */
#define ZC_EXIT_PROTOCOL	7	/* the daemon's answer could not be read */
#define ZC_EXIT_NOTHING		8	/* reset: nothing to reset */
#define ZC_EXIT_UNKNOWN_LEASE	9	/* lease: no such lease */
#define ZC_EXIT_LEASE_ZONE	10	/* lease: the lease is another zone's */
#define ZC_EXIT_NO_SLOT		11	/* lease acquire: every slot is taken */
#define ZC_EXIT_NO_TOOL_VM	12	/* lease: the zone has no [tool-vm] */

#define KILL_GRACE_MS		5000	/* how long a SIGKILLed VM may take to die */
#define WORKER_COMM_PREFIX	"zv:"	/* a worker's name: zv:ZONE */
#define CONTROL_MAX_CLIENTS	256
#define CONTROL_IDLE_MS		30000	/* a client silent this long is closed */
#define CONTROL_MAX_FOLLOWS_PER_CLIENT 16	/* events -f and logs -f */
#define CONTROL_MAX_FOLLOWS	256	/* of every client together */
#define CONTROL_MAX_OUTPUT	(16 * 1024 * 1024)

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG		SYSCONFDIR "/zonevisor/zonevisor.conf"
#define DEFAULT_STATE_DIR	"/var/lib/zonevisor"
#define DEFAULT_RUNTIME_DIR	"/run/zonevisor"
#define DEFAULT_SOCKET		DEFAULT_RUNTIME_DIR "/control.sock"

/* recovery.c: the settings of [recovery] (DESIGN §5). */
struct recovery_policy {
	int64_t		restart_delay_ms;
	int64_t		restart_delay_max_ms;
	int64_t		stable_after_ms;
	int		max_failed_recoveries;
	int64_t		suspend_for_ms;
	int64_t		restart_timeout_ms;
};

#define RECOVERY_STATES(X) \
	X(RS_IDLE, "idle") \
	X(RS_SCHEDULED, "scheduled") \
	X(RS_IN_FLIGHT, "in-flight") \
	X(RS_VERIFYING, "verifying") \
	X(RS_SUSPENDED, "suspended")
enum recovery_state { RECOVERY_STATES(AS_ENUM) RS__COUNT };

/* The two budgets: a dead VM is cold-started, an unhealthy one restarted. */
enum recovery_kind { RK_COLD_START, RK_RESTART, RK__COUNT };

/* What the policy tells the parent to do. */
enum recovery_action { RA_NONE, RA_SCHEDULE, RA_START, RA_SUSPEND, RA_DROP };

struct recovery_budget {
	int		consecutive;	/* failed recoveries in a row */
	uint32_t	failed;		/* failed recoveries in all */
};

struct recovery {
	struct recovery_policy	 p;
	int			 state;		/* RS_* */
	int			 kind;		/* RK_* of the attempt */
	uint64_t		 source;	/* the failure it answers */
	int64_t			 at;		/* due, stable, or suspended until */
	struct recovery_budget	 budget[RK__COUNT];
	uint32_t		 rng;
	uint32_t		 suspensions;
};

struct recovery_decision {
	int		 action;	/* RA_* */
	int		 kind;		/* RK_* to order with RA_START */
	int64_t		 delay_ms;	/* RA_SCHEDULE: in; RA_SUSPEND: for */
	const char	*why;
};

void recovery_init(struct recovery *, const struct recovery_policy *, uint32_t);
struct recovery_decision recovery_on_failure(struct recovery *, int64_t, int,
    uint64_t, int);
struct recovery_decision recovery_on_due(struct recovery *, int64_t, uint64_t,
    int, int);
void recovery_on_started(struct recovery *, int64_t);
void recovery_on_operator(struct recovery *);
int recovery_reset(struct recovery *);
int64_t recovery_next(const struct recovery *);
int recovery_consecutive(const struct recovery *);
uint32_t recovery_failed_total(const struct recovery *);
int recovery_starts_at_once(const struct recovery *, int64_t, int);

/* config.c: [limits] of a zone's VM; -1 leaves a limit as it is. */
struct spawn_limits {
	int64_t		nofile;
	int64_t		nproc;
	int64_t		core;
};

/* config.c: one secret of [secrets] (DESIGN §8): where its value comes from. */
enum { SECRET_FILE, SECRET_ENV, SECRET_EXEC };
enum { SECRETS_ENV, SECRETS_FILES };	/* delivery */
struct secret_source {
	char		*name;
	int		 kind;		/* SECRET_* */
	char		*arg;		/* file path, variable, or helper command */
	char		**argv;		/* SECRET_EXEC: the helper, split */
};

/* secrets.c: resolved values, wiped by secrets_wipe(). */
struct secret_value {
	const char	*name;
	char		*value;
	size_t		 len;
};
struct secret_values {
	struct secret_value	*v;
	size_t			 n;
};

/* config.c: the settings of [tool-vm] (DESIGN §7); max_leases 0: none. */
struct tool_vm_config {
	char		*command;	/* as written, with %port %slot %lease %zone */
	char		**argv;		/* split; tokens substituted per lease */
	int		 max_leases;
	int		 base_port;	/* slot s listens on base_port + s */
	int64_t		 idle_ttl_ms;
	int		 release_on_restart;
};

/* config.c: the settings of [health] (DESIGN §6). */
struct health_config {
	int		 probe;		/* PROBE_* */
	int64_t		 interval_ms;
	int64_t		 timeout_ms;
	int		 failure_threshold;
	int64_t		 start_period_ms;	/* failures then are not yet failures */
	char		*http_path;
	char		*exec;		/* as written, for messages */
	char		**exec_argv;	/* split like a shell, NULL-terminated */
};

/* config.c */
struct zone_config {
	char		*name;
	char		*file;
	char		*command;	/* as written, for messages */
	char		**argv;		/* split like a shell, NULL-terminated */
	char		*cwd;		/* NULL: the state directory of the zone */
	char		**env;		/* NAME=VALUE from env.NAME keys, NULL-terminated */
	size_t		 nenv;
	int		 autostart;
	int		 stop_signal;
	int64_t		 stop_timeout_ms;
	int64_t		 start_timeout_ms; /* spawned until ready, with a probe */
	int		 ingress_port;	/* 0 when unset */
	char		*user;		/* NULL: zonevisord's own */
	char		*group;		/* NULL: the user's primary group */
	int		 umask;		/* -1: zonevisord's own */
	struct spawn_limits limits;	/* [limits] */
	struct secret_source *secrets;	/* [secrets] */
	size_t		 nsecrets;
	int		 secrets_delivery; /* SECRETS_* */
	int64_t		 secrets_timeout_ms; /* an exec helper's deadline */
	int64_t		 log_max_size;	/* console.log rotation */
	int		 log_keep;
	struct recovery_policy recovery;
	struct health_config health;
	struct tool_vm_config tool_vm;
};

struct config {
	char			*path;
	char			*state_dir;
	char			*runtime_dir;
	char			*zones_dir;
	char			*control_socket;
	char			*control_group;
	gid_t			 control_gid;	/* (gid_t)-1 when unset */
	int			 log_level;	/* LOG_LEVEL_* */
	int			 log_to_syslog;
	int64_t			 shutdown_timeout_ms;
	char			*metrics_listen; /* as written; NULL: no HTTP metrics */
	char			 metrics_host[48]; /* its address literal */
	int			 metrics_port;
	int			 metrics_family;	/* AF_INET or AF_INET6 */
	struct zone_config	**zones;	/* sorted by name */
	size_t			 nzones;
};

struct config_errors {
	char	**lines;
	size_t	  n;
};

struct config *config_load(const char *, struct config_errors *);
struct config *config_load_zones(const char *, const char *,
    struct config_errors *);
void config_free(struct config *);
void config_errors_free(struct config_errors *);
const struct zone_config *config_zone(const struct config *, const char *);
int config_zone_name_valid(const char *);

/* config_diff.c: what a reload does about a zone (flags, OR-ed). */
#define CFGDIFF_SAME		0
#define CFGDIFF_RECOVERY	0x01	/* [recovery]: the parent applies it */
#define CFGDIFF_HEALTH		0x02	/* [health]: the worker applies it */
#define CFGDIFF_AUTOSTART	0x04	/* autostart: matters when the zone is added */
#define CFGDIFF_RESTART		0x08	/* anything else: a new worker and VM */
#define CONFIG_FIXED_MAX	8	/* [supervisor] settings fixed at start */

int config_diff_zone(const struct zone_config *, const struct zone_config *);
const char *config_diff_describe(int, char *, size_t);
size_t config_diff_fixed(const struct config *, const struct config *,
    const char **, size_t);

/* parse.c */
int parse_duration(const char *, int64_t *, const char **);
int parse_size(const char *, int64_t *, const char **);
int parse_signal(const char *, int *, const char **);
int parse_bool(const char *, int *);
int parse_int(const char *, int64_t, int64_t, int64_t *);
int parse_listen(const char *, char *, size_t, int *, int *, const char **);

/* argv.c */
char **argv_split(const char *, int *, const char **);
void argv_free(char **);

/* names.c (the rest is in proto.h) */
const char *names_event(int);
const char *names_recovery_state(int);
const char *names_signal(int);
const char *names_errno(int);

/* opid.c */
void opid_new(char *, size_t, const char *, int);

/* clock.c */
int64_t clock_now_ms(void);
int64_t clock_mono_ms(void);

/* proc.c */
int proc_start_time(pid_t, uint64_t *);
int proc_parent(pid_t, pid_t *);
int proc_children(pid_t **, size_t *);
int proc_comm(pid_t, char *, size_t);
int proc_identity_matches(pid_t, uint64_t);

/* spawn.c */
struct spawn_spec {
	char *const	*argv;
	char *const	*envp;
	const char	*cwd;
	int		 output_fd;	/* stdout and stderr; -1 for /dev/null */
	int		 set_ids;	/* run as uid:gid, no supplementary groups */
	uid_t		 uid;
	gid_t		 gid;
	int		 umask;		/* -1: inherited */
	const struct spawn_limits *limits; /* NULL: inherited */
	int		 stdout_only;	/* stderr to /dev/null, not output_fd */
};

struct spawn_result {
	pid_t		pid;
	int		pidfd;
	uint64_t	start_time;
};

int spawn_process(const struct spawn_spec *, struct spawn_result *, char *, size_t);
int spawn_resolve(const char *, const char *, char *, size_t);
int spawn_preflight(const struct spawn_spec *, char *, size_t);
int spawn_identity(const char *, const char *, uid_t *, gid_t *, char *,
    size_t);
void spawn_child_reset(void);
void spawn_ignore(int);
void spawn_raise_nofile(void);

/* secrets.c */
int secrets_resolve(const struct zone_config *, struct secret_values *,
    char *, size_t);
void secrets_wipe(struct secret_values *);
int secrets_write_dir(const struct secret_values *, const char *, int, uid_t,
    gid_t, char *, size_t);
void secrets_clear_dir(const char *);

/* rendezvous.c */
int rendezvous_open(int [2]);
int rendezvous_link(int, const char *);
int rendezvous_recv(int, char *, size_t, pid_t *, int *);

/* reaper.c */
struct exit_info {
	int	code;		/* exit status, or -1 when killed */
	int	signal;		/* killing signal, or 0 */
	int	core;
};

struct reaper_ops {
	void	(*exiting)(pid_t, void *);	/* zombie, not yet reaped */
	void	(*exited)(pid_t, const struct exit_info *, void *);
};

void reaper_reset(void);
void reaper_add(pid_t, const struct reaper_ops *, void *);
void reaper_remove(pid_t);
int reaper_owns(pid_t);
void reaper_run(void);
int reaper_reap_now(pid_t, struct exit_info *);
void reaper_kill_strays(int);
void reaper_kill_unexeced(void);
void reaper_describe(const struct exit_info *, char *, size_t);

/* peer.c */
struct peer;

struct peer_ops {
	void	(*frame)(struct peer *, const struct mdoc *, void *);
	void	(*bad_frame)(struct peer *, const char *, void *);
	void	(*gone)(struct peer *, const char *, void *);
};

struct peer *peer_new(struct ev_loop *, int, size_t, size_t,
    const struct peer_ops *, void *);
void peer_free(struct peer *);
int peer_send(struct peer *, struct msgw *);
void peer_close_after_flush(struct peer *);
void peer_pause(struct peer *);
void peer_set_backlog(struct peer *, size_t);
void peer_flush_blocking(struct peer *, int);
int peer_fd(const struct peer *);
size_t peer_queued(const struct peer *);

/* console.c */
struct console {
	char	*path;
	int	 fd;
	int64_t	 size;
	int64_t	 max_size;
	int	 keep;
	int	 failing;	/* the last write failed (logged once) */
};

int console_open(struct console *, const char *, int64_t, int);
void console_write(struct console *, const char *, size_t);
int console_reopen(struct console *);
void console_close(struct console *);

/* records.c: a zone's lifecycle log. */
#define RECORD_MAX	65536	/* largest record payload */

struct records {
	char	*path;
	int	 fd;
	int64_t	 size;
	int64_t	 max_size;
	int	 keep;
	int	 dirty;		/* appended since the last sync */
	int	 failing;	/* the last append failed */
	int	 sync_failing;	/* the last fdatasync failed */
	int	 error;		/* the errno of either */
};

struct records_cbs {
	void	(*record)(const void *, size_t, const struct mval *, void *);
	void	(*problem)(const char *, void *);
};

struct records_tail {
	char	*path;
	int	 fd;
	ino_t	 ino;
	off_t	 off;
};

int records_open(struct records *, const char *, int64_t, int);
int records_append(struct records *, const struct record *);
int records_append_msg(struct records *, struct msgw *);
int records_sync(struct records *);
void records_close(struct records *);
int records_read_all(const char *, int, const struct records_cbs *, void *);
int records_tail_open(struct records_tail *, const char *, int,
    const struct records_cbs *, void *);
int records_tail_poll(struct records_tail *, const struct records_cbs *,
    void *);
void records_tail_close(struct records_tail *);

/* atomicfile.c */
int atomicfile_write(const char *, const void *, size_t);
int atomicfile_read(const char *, size_t, char **, size_t *, char *, size_t);

/* leasefile.c: the record of one tool VM, <zone dir>/leases/<lease id>. */
struct lease_record {
	char		zone[ZONE_NAME_MAX + 1];
	char		state_dir[1024];
	char		boot_id[40];
	struct lease_info info;
	pid_t		worker_pid;
	pid_t		supervisor_pid;
	int64_t		written_at_ms;
};
int leasefile_write(const char *, const struct lease_record *);
int leasefile_read(const char *, struct lease_record *, char *, size_t);
int leasefile_delete(const char *, const char *);
int leasefile_list(const char *, char ***, size_t *);
int leasefile_alive(const struct lease_record *);

/* runtime.c: the runtime record of a zone's gateway VM. */
struct runtime_record {
	char		zone[ZONE_NAME_MAX + 1];
	char		state_dir[1024];
	char		boot_id[40];
	char		command_digest[16];
	char		op_id[OP_ID_MAX];
	pid_t		vm_pid;
	uint64_t	vm_start_time;
	pid_t		worker_pid;
	pid_t		supervisor_pid;
	uint64_t	generation;
	int64_t		written_at_ms;
};

enum { RUNTIME_NONE, RUNTIME_DELETED, RUNTIME_UNSAFE };

int runtime_write(const char *, const struct runtime_record *);
int runtime_read(const char *, struct runtime_record *, char *, size_t);
int runtime_delete(const char *);
const char *runtime_boot_id(void);
void runtime_digest(const char *, char *, size_t);
int runtime_check(const char *, const char *, const char *, int *, char *,
    size_t);

/* Zone events of the worker's state machine. */
#define ZONE_EVENTS(X) \
	X(ZE_START, "start-requested") \
	X(ZE_STOP, "stop-requested") \
	X(ZE_RESTART, "restart-requested") \
	X(ZE_PREFLIGHT_PASSED, "preflight-passed") \
	X(ZE_PREFLIGHT_FAILED, "preflight-failed") \
	X(ZE_CHECKPOINT_PASSED, "checkpoint-passed") \
	X(ZE_GENERATION_STALE, "generation-stale") \
	X(ZE_SPAWNED, "spawned") \
	X(ZE_SPAWN_FAILED, "spawn-failed") \
	X(ZE_READY, "ready") \
	X(ZE_VM_EXITED, "vm-exited") \
	X(ZE_STOP_TIMEOUT, "stop-timeout") \
	X(ZE_KILL_TIMEOUT, "kill-timeout") \
	X(ZE_OP_TIMEOUT, "operation-timeout") \
	X(ZE_PROBE_FAILED, "probe-failed") \
	X(ZE_PROBE_PASSED, "probe-passed") \
	X(ZE_OWNER_UNSAFE, "owner-unsafe-detected") \
	X(ZE_READY_TIMEOUT, "readiness-timeout") \
	X(ZE_RESET, "reset-requested")
enum zone_event { ZONE_EVENTS(AS_ENUM) ZE__COUNT };

/* zone.c: one operation asked of a zone. */
struct zone;
struct zone_op {
	TAILQ_ENTRY(zone_op)	 entry;
	struct zone		*z;
	char			 id[OP_ID_MAX];
	int			 kind;		/* OP_* as asked */
	int			 trigger;	/* TRIG_* */
	int64_t			 timeout_ms;	/* 0: none */
	ev_timer		 timer;		/* abandons it at timeout_ms */
	uint64_t		 generation;	/* a restart's, set by its preflight */
	int			 answered;	/* its result went out already */
};
TAILQ_HEAD(zone_op_queue, zone_op);

/* zone.c: the result of an operation, sent after the status it led to. */
struct zone_result {
	TAILQ_ENTRY(zone_result) entry;
	char			 id[OP_ID_MAX];
	int			 ok;
	int			 error;
	char			 message[MESSAGE_MAX];
};
TAILQ_HEAD(zone_result_queue, zone_result);

/* zone.c: the gateway VM a worker owns. */
struct zone_vm {
	pid_t		pid;		/* 0 when none */
	int		pidfd;
	uint64_t	start_time;
	uint64_t	generation;	/* of the operation that spawned it */
	char		op_id[OP_ID_MAX]; /* that operation */
	int64_t		spawned_mono_ms;
	pid_t		exited_pid;	/* the last VM, for messages */
	uint64_t	exited_start_time;
	int64_t		uptime_ms;	/* how long the last VM ran */
	ev_io		exit_watch;	/* pidfd readable: the VM exited */
	int		output_fd;	/* read end of the VM's stdout/stderr */
	ev_io		output_watch;
};

/* health.c: the probes of a zone's gateway. */
struct health;
/* lease.c: the tool VMs a worker lends out. */
struct leases;
/* Why the leases of a zone are released all at once. */
enum { LR_STOP, LR_RESTART };

/* zone.c: the worker's zone, driven by zone_fsm.c. */
#define ZONE_PENDING_MAX 8
#define ZONE_SYNC_DELAY	0.02	/* seconds from a record to its fsync */
#define ZONE_PERSIST_RETRY 1.0	/* seconds between retries of failed writes */

/* What a zone writes to its state directory (persistence), as bits. */
#define PS_LIFECYCLE	0x01	/* lifecycle.log: append or fdatasync */
#define PS_HEALTH	0x02	/* health.log */
#define PS_RUNTIME	0x04	/* the runtime record: write or delete */
#define PS_LEASES	0x08	/* lease records */

struct zone {
	const struct config		*cfg;
	const struct zone_config	*zc;
	struct ev_loop			*loop;
	struct zone_status		 st;		/* what the parent sees */
	struct zone_vm			 vm;
	struct console			 console;
	struct records			 log;		/* lifecycle.log */
	char				*dir;		/* state_dir/zones/<zone> */
	char				*runtime_path;
	int				 next_after_stop; /* ZS_STOPPED, _STARTING, _FAILED */
	int				 stop_error;	/* ERR_* when next is _FAILED */
	char				 preflight_cause[MESSAGE_MAX];
	int				 preflight_error;	/* ERR_* of a failed preflight */
	struct secret_values		 secrets;	/* resolved for the next spawn */
	int				 secrets_ready;
	char				*credentials_dir;	/* delivery = files */
	struct zone_op			*op;		/* in flight, or NULL */
	struct zone_op_queue		 queue;		/* waiting behind it */
	struct zone_result_queue	 results;	/* not yet reported */
	struct zone_op			*incoming;	/* a stop superseding z->op */
	struct exit_info		 last_exit;
	ev_timer			 stop_timer;
	int				 timer_event;	/* fed when it fires */
	ev_timer			 sync_timer;	/* makes records durable */
	int				 exiting;	/* stop, then end the worker */
	int				 event;		/* being handled, ZE_* */
	int				 pending[ZONE_PENDING_MAX];
	int				 npending;
	int				 feeding;
	int				 recorded;	/* records appended since the report */
	struct msg_escalate		 escalation;	/* sent after the report */
	int				 escalating;
	struct msg_zone_arm		 armed;		/* the parent's decision ahead */
	int				 runtime_stale;	/* to delete once respawned */
	int				 new_evidence;	/* for ZE_OWNER_UNSAFE */
	char				 new_evidence_detail[MESSAGE_MAX];
	char				 degraded_reason[MESSAGE_MAX];
	int				 persist_failing; /* PS_* failing now */
	int				 runtime_pending; /* the runtime record on disk is
							   not what it should be */
	int				 gap_pending;	/* lifecycle records were lost
							   and no records-lost note says so */
	int64_t				 gap_since_ms;	/* realtime ms of the first one */
	ev_timer			 persist_timer;	/* retries failed writes */
	ev_timer			 persist_report; /* reports a change soon */
	struct health_config		 hc;		/* [health], owned: a reload may
							   replace it (zone_set_health) */
	struct health			*health;	/* NULL without a probe */
	void				(*report)(struct zone *);
	void				(*op_done)(struct zone *, const struct zone_result *);
	void				(*escalate)(struct zone *, const struct msg_escalate *);
	void				(*await_ready)(struct zone *);
	void				(*health_answered)(struct zone *,
					    const struct msg_health_result *);
	struct leases			*leases;	/* [tool-vm]'s tool VMs */
	void				(*lease_done)(struct zone *,
					    const struct msg_lease_done *);
	void				(*leases_report)(struct zone *,
					    const struct msg_leases *);
};

struct zone *zone_new(struct ev_loop *, const struct config *,
    const struct zone_config *);
void zone_free(struct zone *);
void zone_submit(struct zone *, struct zone_op *);
struct zone_op *zone_op_new(struct zone *, int, int, const char *, int64_t);
void zone_shutdown(struct zone *);
void zone_retire(struct zone *, int, const char *);
void zone_check_runtime(struct zone *);
void zone_note(struct zone *, int, const char *);
void zone_arm(struct zone *, const struct msg_zone_arm *);
void zone_set_health(struct zone *, const struct health_config *);
int zone_at_rest(const struct zone *);
void zone_next_op(struct zone *);
void zone_report_done(struct zone *);
void zone_publish(struct zone *);
void zone_drop_stale_runtime(struct zone *);
int zone_spawn(struct zone *, int);
int zone_cold_start(struct zone *, int);
int zone_preflight(struct zone *, int);
int zone_preflight_failed(struct zone *, int);
int zone_checkpoint(struct zone *, int);
int zone_abandon(struct zone *, int);
int zone_close(struct zone *, int);
int zone_close_stale(struct zone *, int);
int zone_kill(struct zone *, int);
int zone_refuse(struct zone *, int);
int zone_ignore(struct zone *, int);
int zone_already(struct zone *, int);
int zone_await_ready(struct zone *, int);
int zone_started(struct zone *, int);
int zone_spawn_failed(struct zone *, int);
int zone_start_exited(struct zone *, int);
int zone_vm_lost(struct zone *, int);
int zone_supersede(struct zone *, int);
int zone_closed(struct zone *, int);
int zone_close_failed(struct zone *, int);
int zone_start_from_failed(struct zone *, int);
int zone_stop_from_failed(struct zone *, int);
int zone_stop_unsafe(struct zone *, int);
int zone_late_exit(struct zone *, int);
int zone_op_timeout(struct zone *, int);
int zone_degrade(struct zone *, int);
int zone_recover_health(struct zone *, int);
int zone_unsafe(struct zone *, int);
int zone_reset(struct zone *, int);
int zone_readiness_failed(struct zone *, int);

void zone_append(struct zone *, struct record *);
void zone_persist_failed(struct zone *, int, const char *, int);
void zone_persist_ok(struct zone *, int);
void zone_persist_begin(struct zone *, const struct zone_status *);
size_t zone_env_passed(const struct zone_config *, char **);
int zone_spec(struct zone *, struct spawn_spec *, char **, char *, size_t);
/* lease.c */
struct leases *lease_table_new(struct zone *);
void lease_table_free(struct leases *);
void lease_adopt_leftovers(struct zone *);
void lease_request(struct zone *, const struct msg_lease_op *);
void lease_release_all(struct zone *, int);
int lease_busy(const struct zone *);
int lease_count(const struct zone *);
void lease_publish(struct zone *);
/* health.c */
void health_config_copy(struct health_config *, const struct health_config *);
int health_config_from_msg(struct health_config *,
    const struct msg_zone_health *, const char **);
void health_config_to_msg(const struct health_config *,
    struct msg_zone_health *);
void health_config_clear(struct health_config *);
void health_cancel(struct health *, const char *);
struct health *health_new(struct zone *);
void health_free(struct health *);
void health_watch(struct health *);
void health_probe_now(struct zone *, const char *);
int health_retry(struct health *);

/* zone_fsm.c */
#define ZS_BY_ACTION	(-1)	/* the action returns the next state */

struct zone_fsm_cell {
	int	 next;
	int	(*action)(struct zone *, int);
};

extern const struct zone_fsm_cell zone_fsm_table[ZS__COUNT][ZE__COUNT];
void zone_fsm_feed(struct zone *, int);

/* lock.c */
int lock_take(const char *, int64_t);
void lock_release(int);

/* notify.c: the service manager's notifications (sd_notify protocol). */
void notify_init(void);
int notify_enabled(void);
int64_t notify_watchdog_usec(void);
void notify_send(const char *, ...) __attribute__((format(printf, 1, 2)));
void notify_reloading(void);
void notify_close(void);

/* service.c: READY, RELOADING, STOPPING, STATUS and WATCHDOG, told when. */
void service_start(struct ev_loop *);
void service_check_ready(void);
void service_reloading(void);
void service_reloaded(int);
void service_stopping(void);
void service_stop(void);

/* boot.c: what an earlier zonevisord may have left behind. */
#define BOOT_MAX_TARGETS 16

struct boot_process {
	pid_t		pid;
	uint64_t	start_time;
	char		zone[ZONE_NAME_MAX + 1];
	int		slot;			/* a tool VM's, or -1 */
	char		lease[LEASE_ID_MAX];	/* a tool VM's, or "" */
};

struct boot_scan {
	struct boot_process	*procs;
	size_t			 n;
};

struct boot_target {
	pid_t		pid;
	uint64_t	start_time;
	int		pidfd;		/* open while it may still be alive */
};

struct boot_verdict {
	int			evidence;	/* EVD_*, EVD_NONE when clean */
	char			detail[MESSAGE_MAX];
	int			resolvable;	/* stopping targets resolves it */
	int			record_deleted;	/* a stale record went, unsignalled */
	char			deleted_detail[MESSAGE_MAX];
	struct boot_target	targets[BOOT_MAX_TARGETS];
	size_t			ntargets;
};

void boot_scan_markers(const struct config *, int, struct boot_scan *);
void boot_scan_free(struct boot_scan *);
void boot_judge(const struct config *, const struct zone_config *,
    const struct boot_scan *, struct boot_verdict *);
void boot_judge_port(const struct zone_config *, struct boot_verdict *);
void boot_terminate(struct boot_verdict **, const struct zone_config **,
    size_t);

/* worker.c */
void worker_main(const struct config *, const struct zone_config *, int,
    const struct zone_status *, int, const struct msg_zone_op *)
    __attribute__((noreturn));

/* parent.c: the parent's record of a zone and its worker. */
struct zone_worker {
	const struct zone_config	*zc;
	pid_t				 pid;		/* worker pid, 0 when none */
	struct peer			*link;
	int				 hello;		/* the worker's hello arrived */
	int				 autostart;	/* start it once its worker greets */
	struct zone_status		 st;		/* last status it reported */
	pid_t				 orphan_pid;	/* VM left by a lost worker */
	uint64_t			 orphan_start;
	ev_timer			 orphan_timer;
	int				 orphan_killed;
	ev_timer			 respawn_timer;
	int64_t				 forked_mono_ms;
	int64_t				 fork_delay_ms;	/* after a failed fork: the
							   next try waits this long */
	struct recovery			 rec;		/* the recovery policy */
	ev_timer			 rec_timer;
	char				 rec_op[OP_ID_MAX]; /* its operation in flight */
	char				 ctl_op[OP_ID_MAX]; /* a start of the
							   supervisor's own
							   (boot, reload) */
	uint64_t			 failure;	/* the failure it answers */
	int				 lost;		/* recover once the new worker greets */
	struct msg_zone_arm		 armed;		/* what the worker is armed with */
	int				 cold;		/* autostart as a cold start */
	int				 initial;	/* st holds what the worker starts with */
	int				 retiring;	/* a reload stops this worker */
	int				 retire_sent;	/* ... and told it so */
	const struct zone_config	*next;		/* retiring: the config of the worker
							   to fork next; NULL: zone removed */
	int				 reload_run;	/* retiring: start the next worker's VM */
	int				 health_stale;	/* a reload changed [health] before the
							   worker's link came: send it then */
	struct lease_info		*leases;	/* the worker's last MSG_LEASES, by
							   slot; NULL when none */
	size_t				 nleases;
	int				 tool_plane;	/* TP_* of that report */
	char				 tool_detail[MESSAGE_MAX];
};

/* reload.c: the plan of a reload. */
enum reload_what { RL_ADDED, RL_REMOVED, RL_CHANGED, RL_UNCHANGED };

struct reload_zone {
	char		name[ZONE_NAME_MAX + 1];
	int		what;		/* RL_* */
	int		diff;		/* CFGDIFF_* of a changed zone */
};

struct reload_plan {
	int			 ok;		/* the new configuration is valid */
	int			 dry_run;
	struct reload_zone	*zones;		/* by name */
	size_t			 nzones;
	char			**notes;	/* settings kept, for the operator */
	size_t			 nnotes;
	struct config_errors	 errs;		/* why it is not ok */
};

/* The outcome of the last reload, for status. */
struct reload_status {
	int64_t		at_ms;		/* realtime ms; 0: none yet */
	int		ok;
	char		error[MESSAGE_MAX];
};

void reload_plan_init(struct reload_plan *);
void reload_plan_zone(struct reload_plan *, const char *, int, int);
void reload_plan_note(struct reload_plan *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void reload_plan_free(struct reload_plan *);
void reload_plan_log(const struct reload_plan *);
void reload_plan_pack(struct msgw *, const struct reload_plan *);

int parent_main(struct config *);
struct zone_worker *parent_zone(const char *);
size_t parent_zone_count(void);
struct zone_worker *parent_zone_at(size_t);
const struct config *parent_config(void);
int parent_shutting_down(void);
int64_t parent_started_ms(void);
int parent_health_probe(struct zone_worker *, char *, size_t, const char **);
int parent_lease_op(struct zone_worker *, struct msg_lease_op *, char *,
    size_t, const char **);
struct zone_worker *parent_lease_zone(const char *);
int parent_zone_op(struct zone_worker *, int, int, int64_t, char *, size_t,
    const char **);
int parent_reset(struct zone_worker *, int, char *, size_t, char *, size_t,
    const char **);
int parent_reload(int, struct reload_plan *);
const struct reload_status *parent_last_reload(void);
int parent_reloading(void);

/* control.c */
int control_in_use(const char *);
int control_listen(struct ev_loop *, const struct config *);
void control_reconfigure(const struct config *);
void control_close(void);
void control_op_done(const char *, const struct msg_op_done *);
void control_zone_lost(const char *, const char *);
void control_health_done(const char *, const struct msg_health_result *);
void control_lease_done(const char *, const struct msg_lease_done *);
void control_zone_recorded(const char *);

/* client.c */
struct client_conn {
	int	 fd;
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 raw;	/* a frame (with header) handed out raw, dropped next */
};

int client_connect(struct client_conn *, const char *);
int client_send(struct client_conn *, struct msgw *);
struct mdoc *client_recv(struct client_conn *, int64_t, const char **);
const char *client_recv_raw(struct client_conn *, int64_t, size_t *,
    const char **);
void client_close(struct client_conn *);

/* events.c */
struct event {
	void	*data;		/* a record's msgpack map */
	size_t	 len;
};

struct event_list {
	struct event	 *events;
	size_t		  n;
	size_t		  cap;
	size_t		  limit;	/* keep the newest limit; 0: all */
	size_t		  head;		/* oldest, once the ring is full */
	char		**problems;
	size_t		  nproblems;
};

void events_path(const struct config *, const struct zone_config *, char *,
    size_t);
void events_last(const struct config *, const struct zone_config *, size_t,
    struct event_list *);
void events_follow(const struct config *, const struct zone_config *, size_t,
    struct records_tail *, struct event_list *);
void events_poll(struct records_tail *, struct event_list *);
void events_pack(struct msgw *, const struct event_list *);
void events_free(struct event_list *);

/* logs.c */
#define LOGS_LINES_DEFAULT	20	/* zonectl logs without -n */
#define LOGS_LINES_MAX		10000	/* -n at most */
#define LOGS_LINE_MAX		8192	/* longer lines come in pieces */
#define LOGS_ANSWER_BYTES	(512 * 1024) /* of the last lines, at most */
#define LOGS_POLL_BYTES		65536	/* read per wake while following */

struct log_line {
	char	*s;
	size_t	 len;
};

struct log_lines {
	struct log_line	 *v;
	size_t		  n;
	size_t		  cap;
	size_t		  bytes;
	int		  truncated;	/* older lines did not fit */
	char		**problems;
	size_t		  nproblems;
};

/* A followed console log: the live file and a line not yet ended. */
struct logs_tail {
	char	*path;
	int	 fd;		/* -1 until the file exists */
	dev_t	 dev;
	ino_t	 ino;
	off_t	 off;
	int	 draining;	/* rotated: the old file is read once more */
	int	 failing;	/* an open failure was reported */
	char	*partial;	/* LOGS_LINE_MAX bytes */
	size_t	 plen;
};

void logs_path(const struct config *, const struct zone_config *, char *,
    size_t);
void logs_last(const char *, int, size_t, struct logs_tail *,
    struct log_lines *);
int logs_poll(struct logs_tail *, size_t, struct log_lines *);
void logs_pack(struct msgw *, const struct log_lines *);
void logs_free(struct log_lines *);
void logs_tail_close(struct logs_tail *);

/* status.c */
#define STATUS_ZONE_BYTES	720	/* about what one zone's status packs to */
void status_pack_supervisor(struct msgw *, int64_t);
void status_pack_zone(struct msgw *, const struct zone_worker *, int64_t);
void status_pack_diagnose(struct msgw *, const struct zone_worker *, int64_t);
const char *status_readiness(const struct zone_status *);
void status_pack_lease(struct msgw *, const char *, const struct lease_info *);
void status_pack_slots(struct msgw *, const struct zone_worker *);
size_t status_lease_count(const struct zone_worker *, int);

/* metrics.c: the Prometheus text exposition of a view of the cache. */
struct metrics_view {
	const char			 *version;
	int64_t				  now_ms;	/* realtime */
	int64_t				  started_ms;	/* realtime */
	int				  shutting_down;
	int				  reloading;
	const struct reload_status	 *last_reload;
	const struct zone_worker *const	 *zones;	/* by name */
	size_t				  nzones;
};
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
char *metrics_text(const struct metrics_view *, size_t *);
char *metrics_render(size_t *);

/* metrics_http.c: the same text over HTTP, on metrics_listen. */
void metrics_http_listen(struct ev_loop *, const struct config *);
void metrics_http_close(void);

/* json.c */
void json_print(FILE *, const struct mval *);
void json_string(FILE *, const char *, size_t);
int json_print_raw(FILE *, const void *, size_t, size_t);

#endif
