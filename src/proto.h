/*
 * proto.h: the wire protocol of zonevisor, shared by zonevisord, zonectl and
 * the tests.  It holds the protocol version, the numbered message types of the
 * parent <-> worker link, the kebab-case vocabularies (states, error codes,
 * triggers, control commands) as one X-macro table each, and the message
 * layer of msg.c: the only code that touches msgpack.
 *
 * Framing, on both the worker socketpairs and the control socket: a 4-byte
 * big-endian payload length, then exactly one msgpack object.  Frames larger
 * than FRAME_MAX are refused without reading their payload.
 */
#ifndef ZV_PROTO_H
#define ZV_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_VERSION	1		/* link and control protocol version */
#define FRAME_HEADER	4		/* bytes of the big-endian length */
#define FRAME_MAX	(1024 * 1024)	/* largest payload accepted */
#define MSG_MAX_DEPTH	16		/* deepest container nesting accepted */

#define ZONE_NAME_MAX	64		/* ^[a-z0-9][a-z0-9_-]{0,63}$ */
#define OP_ID_MAX	128		/* <zone>-<operation>-<uuid> and NUL */
#define MESSAGE_MAX	256		/* error messages carried in statuses */
#define HEALTH_PATH_MAX	1025		/* [health] http_path and NUL */
#define HEALTH_EXEC_MAX	4096		/* [health] exec and NUL */
#define LEASE_ID_MAX	37		/* a lease id: a lower-case uuid and NUL */
#define LEASE_OWNER_MAX	65		/* --owner NAME and NUL */
#define LEASE_TTL_MIN_MS 1000		/* bounds of a lease's --ttl */
#define LEASE_TTL_MAX_MS (24 * 3600 * 1000LL)
#define LEASES_MAX	1024		/* [tool-vm] max_leases at most */

#define AS_ENUM(e, s) e,

/* Zone lifecycle states (DESIGN §2); the wire carries the strings. */
#define ZONE_STATES(X) \
	X(ZS_STOPPED, "stopped") \
	X(ZS_STARTING, "starting") \
	X(ZS_RUNNING, "running") \
	X(ZS_RUNNING_DEGRADED, "running-degraded") \
	X(ZS_STOPPING, "stopping") \
	X(ZS_RESTARTING, "restarting") \
	X(ZS_FAILED, "failed") \
	X(ZS_OWNER_UNSAFE, "owner-unsafe")
enum zone_state { ZONE_STATES(AS_ENUM) ZS__COUNT };

/* Error codes of a failed zone or operation (DESIGN §2). */
#define ZONE_ERRORS(X) \
	X(ERR_NONE, "none") \
	X(ERR_VM_SPAWN_FAILED, "vm-spawn-failed") \
	X(ERR_VM_START_FAILED, "vm-start-failed") \
	X(ERR_READINESS_FAILED, "readiness-failed") \
	X(ERR_VM_PROCESS_MISSING, "vm-process-missing") \
	X(ERR_GATEWAY_SERVICE_UNHEALTHY, "gateway-service-unhealthy") \
	X(ERR_SECRET_RESOLUTION_FAILED, "secret-resolution-failed") \
	X(ERR_RECORD_WRITE_FAILED, "record-write-failed") \
	X(ERR_STALE_GENERATION_CLOSED, "stale-generation-closed") \
	X(ERR_SUPERSEDED, "superseded") \
	X(ERR_RECOVERY_TIMEOUT, "recovery-timeout") \
	X(ERR_WORKER_LOST, "worker-lost") \
	X(ERR_OWNER_UNSAFE, "owner-unsafe")
enum zone_error { ZONE_ERRORS(AS_ENUM) ERR__COUNT };

/* What caused an operation (DESIGN §3). */
#define TRIGGERS(X) \
	X(TRIG_CONTROLLER_START, "controller-start") \
	X(TRIG_OPERATOR_START, "operator-start") \
	X(TRIG_OPERATOR_STOP, "operator-stop") \
	X(TRIG_OPERATOR_RESTART, "operator-restart") \
	X(TRIG_AUTO_RECOVERY, "auto-recovery") \
	X(TRIG_CREDENTIALS_REFRESH, "credentials-refresh") \
	X(TRIG_RELOAD, "reload") \
	X(TRIG_SHUTDOWN, "shutdown")
enum trigger { TRIGGERS(AS_ENUM) TRIG__COUNT };

/* Why zonevisor cannot prove it is the only owner of a zone's VM (DESIGN §2). */
#define EVIDENCE_KINDS(X) \
	X(EVD_NONE, "none") \
	X(EVD_ORPHANED_VM, "orphaned-vm") \
	X(EVD_STALE_RUNTIME_RECORD, "stale-runtime-record") \
	X(EVD_RECORD_PARSE_ERROR, "record-parse-error") \
	X(EVD_RECORD_SCOPE_MISMATCH, "record-scope-mismatch") \
	X(EVD_CLOSE_FAILED, "close-failed") \
	X(EVD_PORT_OWNED, "port-owned")
enum evidence { EVIDENCE_KINDS(AS_ENUM) EVD__COUNT };

/* Kinds of lifecycle records (DESIGN §3). */
#define RECORD_KINDS(X) \
	X(REC_START_REQUESTED, "start-requested") \
	X(REC_STOP_REQUESTED, "stop-requested") \
	X(REC_RESTART_REQUESTED, "restart-requested") \
	X(REC_COLD_START_REQUESTED, "cold-start-requested") \
	X(REC_CREDENTIALS_REFRESH_REQUESTED, "credentials-refresh-requested") \
	X(REC_VM_SPAWNED, "vm-spawned") \
	X(REC_VM_EXITED, "vm-exited") \
	X(REC_VM_CLOSE_STARTED, "vm-close-started") \
	X(REC_VM_CLOSE_FINISHED, "vm-close-finished") \
	X(REC_RUNTIME_RECORD_WRITTEN, "runtime-record-written") \
	X(REC_RUNTIME_RECORD_DELETED, "runtime-record-deleted") \
	X(REC_OWNER_UNSAFE_DETECTED, "owner-unsafe-detected") \
	X(REC_OWNER_UNSAFE_RESOLVED, "owner-unsafe-resolved") \
	X(REC_RECOVERY_SCHEDULED, "recovery-scheduled") \
	X(REC_RECOVERY_SUSPENDED, "recovery-suspended") \
	X(REC_OPERATION_FINISHED, "operation-finished") \
	X(REC_OPERATION_FAILED, "operation-failed") \
	X(REC_LEASE_ACQUIRED, "lease-acquired") \
	X(REC_LEASE_RENEWED, "lease-renewed") \
	X(REC_LEASE_EXPIRED, "lease-expired") \
	X(REC_LEASE_RELEASED, "lease-released") \
	X(REC_LEASE_QUARANTINED, "lease-quarantined") \
	X(REC_RECORDS_LOST, "records-lost")	/* the gap lost records left */
enum record_kind { RECORD_KINDS(AS_ENUM) REC__COUNT };

/* How the last operation of a zone stands. */
#define OP_RESULTS(X) \
	X(OPR_NONE, "none") \
	X(OPR_IN_FLIGHT, "in-flight") \
	X(OPR_FINISHED, "finished") \
	X(OPR_FAILED, "failed")
enum op_result { OP_RESULTS(AS_ENUM) OPR__COUNT };

/* Operations; the middle word of an operation id (DESIGN §3). */
#define OPERATIONS(X) \
	X(OP_START, "start") \
	X(OP_STOP, "stop") \
	X(OP_RESTART, "restart") \
	X(OP_COLD_START, "cold-start") \
	X(OP_CREDENTIALS_REFRESH, "credentials-refresh") \
	X(OP_RESET, "reset")
enum operation { OPERATIONS(AS_ENUM) OP__COUNT };

/* Health probe kinds of a zone's [health] probe (DESIGN §6). */
#define PROBE_KINDS(X) \
	X(PROBE_NONE, "none") \
	X(PROBE_EXEC, "exec") \
	X(PROBE_TCP, "tcp") \
	X(PROBE_HTTP, "http")
enum probe_kind { PROBE_KINDS(AS_ENUM) PROBE__COUNT };

/* What a lease request asks (MSG_LEASE_OP; args.op of a lease request). */
#define LEASE_OPS(X) \
	X(LOP_ACQUIRE, "acquire") \
	X(LOP_RENEW, "renew") \
	X(LOP_RELEASE, "release") \
	X(LOP_LIST, "list")
enum lease_op { LEASE_OPS(AS_ENUM) LOP__COUNT };

/* How a lease stands (DESIGN §7). */
#define LEASE_STATES(X) \
	X(LS_ACTIVE, "active") \
	X(LS_RELEASING, "releasing")		/* stop signal sent */ \
	X(LS_KILLING, "killing")		/* SIGKILL sent */ \
	X(LS_QUARANTINED, "quarantined")	/* survived SIGKILL: slot held */
enum lease_state { LEASE_STATES(AS_ENUM) LS__COUNT };

/* The tool-VM plane of a zone, worst first from the bottom (diagnose). */
#define TOOL_PLANES(X) \
	X(TP_NONE, "none")		/* no [tool-vm] */ \
	X(TP_OK, "ok") \
	X(TP_DEGRADED, "degraded")	/* a slot is quarantined */ \
	X(TP_FAILED, "failed")		/* tool VMs cannot be had */
enum tool_plane { TOOL_PLANES(AS_ENUM) TP__COUNT };

/* Control requests: the "cmd" string of a request (DESIGN §11). */
#define CTL_COMMANDS(X) \
	X(CTL_STATUS, "status") \
	X(CTL_START, "start") \
	X(CTL_STOP, "stop") \
	X(CTL_RESTART, "restart") \
	X(CTL_VERSION, "version") \
	X(CTL_EVENTS, "events") \
	X(CTL_DIAGNOSE, "diagnose") \
	X(CTL_RESET, "reset") \
	X(CTL_HEALTH, "health") \
	X(CTL_REFRESH_CREDENTIALS, "refresh-credentials") \
	X(CTL_RELOAD, "reload") \
	X(CTL_LEASE, "lease") \
	X(CTL_METRICS, "metrics") \
	X(CTL_LOGS, "logs")
enum ctl_command { CTL_COMMANDS(AS_ENUM) CTL__COUNT };

/* Error codes of control responses that are not zone error codes. */
#define CTL_ERRORS(X) \
	X(CTLERR_BAD_REQUEST, "bad-request") \
	X(CTLERR_UNKNOWN_COMMAND, "unknown-command") \
	X(CTLERR_UNKNOWN_ZONE, "unknown-zone") \
	X(CTLERR_UNSUPPORTED_VERSION, "unsupported-version") \
	X(CTLERR_PERMISSION_DENIED, "permission-denied") \
	X(CTLERR_TOO_MANY_CLIENTS, "too-many-clients") \
	X(CTLERR_FRAME_TOO_LARGE, "frame-too-large") \
	X(CTLERR_SHUTTING_DOWN, "shutting-down") \
	X(CTLERR_NOT_ELIGIBLE, "not-eligible") \
	X(CTLERR_WORKER_UNAVAILABLE, "worker-unavailable") \
	X(CTLERR_NOTHING_TO_RESET, "nothing-to-reset") \
	X(CTLERR_NEEDS_FORCE, "needs-force") \
	X(CTLERR_NO_PROBE, "no-probe") \
	X(CTLERR_INVALID_CONFIG, "invalid-config") \
	X(CTLERR_RELOADING, "reloading") \
	X(CTLERR_UNKNOWN_LEASE, "unknown-lease") \
	X(CTLERR_LEASE_OF_ANOTHER_ZONE, "lease-of-another-zone") \
	X(CTLERR_NO_FREE_SLOT, "no-free-slot") \
	X(CTLERR_ZONE_NOT_RUNNING, "zone-not-running") \
	X(CTLERR_NO_TOOL_VM, "no-tool-vm") \
	X(CTLERR_LEASE_RELEASING, "lease-releasing") \
	X(CTLERR_LEASE_QUARANTINED, "lease-quarantined")
enum ctl_error { CTL_ERRORS(AS_ENUM) CTLERR__COUNT };

/*
 * Message types of the parent <-> worker link, numbered in blocks and never
 * renumbered.  Every message is a msgpack array [type, field...]; beside each
 * value are its fields.
 */
enum msg_type {
	/* 1..99: link */
	MSG_HELLO = 1,		/* version, zone, pid */
	MSG_SHUTDOWN = 2,	/* (none): stop the VM (trigger shutdown), then exit */
	MSG_REOPEN_LOGS = 3,	/* (none): reopen console.log */

	/* 100..199: parent -> worker, zone operations */
	MSG_ZONE_START = 100,	/* op_id, trigger, timeout_ms */
	MSG_ZONE_STOP = 101,	/* op_id, trigger, timeout_ms */
	MSG_ZONE_RESTART = 102,	/* op_id, trigger, timeout_ms */
	MSG_ZONE_COLD_START = 103, /* op_id, trigger, timeout_ms */
	MSG_ZONE_NOTE = 104,	/* record kind, message: record a decision of the parent */
	MSG_ZONE_RESET = 105,	/* op_id, trigger, timeout_ms: clear owner-unsafe evidence */
	MSG_ZONE_ARM = 106,	/* vm_pid, vm_start, op_id, timeout_ms: if that VM dies,
				   cold-start at once as op_id ("" disarms) */
	MSG_HEALTH_PROBE = 107,	/* op_id, trigger, timeout_ms: probe now, answer
				   with MSG_HEALTH_RESULT under op_id */
	MSG_ZONE_CREDENTIALS_REFRESH = 110, /* op_id, trigger, timeout_ms */
	MSG_ZONE_RETIRE = 108,	/* op_id, trigger, timeout_ms: stop the VM as op_id
				   (a reload's), then exit, like MSG_SHUTDOWN */
	MSG_LEASE_OP = 111,	/* struct msg_lease_op: answered by MSG_LEASE_DONE */
	MSG_ZONE_HEALTH = 109,	/* probe, interval_ms, timeout_ms, failure_threshold,
				   start_period_ms, http_path, exec: a reload's
				   new [health], applied without a restart */

	/* 200..299: worker -> parent, reports */
	MSG_ZONE_STATUS = 200,	/* struct zone_status, field by field in its order */
	MSG_OP_DONE = 201,	/* op_id, ok, error, message */
	MSG_ESCALATE = 202,	/* error, message, exit_code, exit_signal, uptime_ms,
				   vm_pid, vm_start, evidence, evidence_detail, acted */
	MSG_ZONE_RECORDED = 203, /* (none): lifecycle records were appended */
	MSG_HEALTH_RESULT = 204, /* id, ok, latency_ms, detail */
	MSG_LEASE_DONE = 205,	/* struct msg_lease_done, field by field */
	MSG_LEASES = 206,	/* plane, plane_detail, [lease_info...]: the
				   worker's whole lease table, after each change */
};

/* MSG_HELLO: both ends send one first and check the version. */
struct msg_hello {
	uint32_t	version;
	char		zone[ZONE_NAME_MAX + 1];
	pid_t		pid;
};

/* MSG_ZONE_START, _STOP, _RESTART, _COLD_START. */
struct msg_zone_op {
	char		op_id[OP_ID_MAX];
	int		trigger;		/* TRIG_* */
	int64_t		timeout_ms;		/* 0: none; else abandon it after this */
};

/* MSG_ZONE_STATUS: everything the parent shows of a zone. */
struct zone_status {
	int		state;			/* ZS_* */
	int		desired;		/* ZS_RUNNING or ZS_STOPPED */
	pid_t		pid;			/* VM pid, 0 when none */
	uint64_t	vm_start;		/* VM start time, /proc/PID/stat field 22 */
	int64_t		since_ms;		/* realtime ms the state was entered */
	int64_t		booted_at_ms;		/* realtime ms the VM was spawned, 0 when none */
	uint64_t	generation;		/* bumped by restarts, cold starts, timeouts */
	int		error;			/* ERR_* of a failed state or ERR_NONE */
	char		message[MESSAGE_MAX];
	int		eligible;		/* cold_start_eligible */
	int		evidence;		/* EV_* of an owner-unsafe state */
	char		evidence_detail[MESSAGE_MAX];
	uint32_t	restarts;		/* restarts since the worker began */
	int		exit_code;		/* last VM exit status, -1 when none */
	int		exit_signal;		/* last VM killing signal, 0 when none */
	char		op_id[OP_ID_MAX];	/* last operation, "" when none */
	int		op_kind;		/* OP_* */
	int		op_trigger;		/* TRIG_* */
	int		op_result;		/* OPR_* */
	int		op_error;		/* ERR_* when it failed */
	int64_t		op_at_ms;		/* when it began or ended */
	int		outage;			/* ERR_* first cause since last healthy */
	char		outage_message[MESSAGE_MAX];
	int64_t		outage_at_ms;
	int		health_ok;		/* last probe: 1 passed, 0 failed, -1 none */
	int		health_failures;	/* failed probes in a row */
	int64_t		health_at_ms;		/* realtime ms the last probe ended */
	int64_t		health_latency_ms;
	char		health_detail[MESSAGE_MAX];
	int64_t		persist_since_ms;	/* realtime ms records began to fail,
						   0 while persistence is ok */
	char		persist_cause[MESSAGE_MAX]; /* the first failure, "" when ok */
	uint32_t	records_lost;		/* lifecycle records never written */
};

/* A VM's identity: pid and start time (0, 0 for none). */
struct vm_ident {
	pid_t		pid;
	uint64_t	start_time;
};

/* One lifecycle record (DESIGN §3); strings may be NULL. */
struct record {
	const char	*zone;
	int		 kind;			/* REC_* */
	int64_t		 observed_at_ms;
	const char	*op_id;
	int		 trigger;		/* TRIG_*, or -1 */
	pid_t		 supervisor_pid;
	struct vm_ident	 previous_vm;
	struct vm_ident	 current_vm;
	int		 error;			/* ERR_* */
	const char	*message;
	uint64_t	 generation;
	int		 evidence;		/* EV_* */
	const char	*detail;
	const struct lease_info *lease;		/* lease records, or NULL */
};

/* MSG_OP_DONE: an operation finished (ok) or failed. */
struct msg_op_done {
	char		op_id[OP_ID_MAX];
	int		ok;
	int		error;			/* ERR_* */
	char		message[MESSAGE_MAX];
};

/* MSG_ESCALATE: the worker hands a failure to the parent's policy. */
struct msg_escalate {
	int		error;			/* ERR_* */
	char		message[MESSAGE_MAX];
	int		exit_code;
	int		exit_signal;
	int64_t		uptime_ms;
	struct vm_ident	vm;			/* the VM concerned, or {0, 0} */
	int		evidence;		/* EVD_* with ERR_OWNER_UNSAFE */
	char		evidence_detail[MESSAGE_MAX];
	char		acted[OP_ID_MAX];	/* the armed cold start begun, or "" */
};

/*
 * MSG_ZONE_ARM: a decision of the parent's policy made ahead of time, so
 * that a recovery need not wait for a round trip: if that VM dies, begin
 * the cold start op_id at once.
 */
struct msg_zone_arm {
	struct vm_ident	vm;
	char		op_id[OP_ID_MAX];	/* "" disarms */
	int64_t		timeout_ms;
};

/* MSG_HEALTH_RESULT: the answer to MSG_HEALTH_PROBE. */
struct msg_health_result {
	char		id[OP_ID_MAX];
	int		ok;
	int64_t		latency_ms;
	char		detail[MESSAGE_MAX];
};

/*
 * MSG_ZONE_HEALTH: every setting of a zone's [health] (struct health_config
 * of zonevisor.h), exec as written; "" for a string that is unset.
 */
struct msg_zone_health {
	int		probe;			/* PROBE_* */
	int64_t		interval_ms;
	int64_t		timeout_ms;
	int		failure_threshold;
	int64_t		start_period_ms;
	char		http_path[HEALTH_PATH_MAX];
	char		exec[HEALTH_EXEC_MAX];
};

/* One lease as the worker holds it (MSG_LEASE_DONE, MSG_LEASES). */
struct lease_info {
	char		id[LEASE_ID_MAX];	/* "" for none */
	int		slot;
	int		port;
	int		state;			/* LS_* */
	pid_t		pid;			/* tool VM pid */
	uint64_t	start_time;
	char		owner[LEASE_OWNER_MAX];	/* "" when not given */
	int64_t		acquired_at_ms;		/* realtime ms */
	int64_t		renewed_at_ms;		/* realtime ms, 0: never */
	int64_t		expires_at_ms;		/* realtime ms */
	int64_t		ttl_ms;			/* what a renew extends it by */
};

/* MSG_LEASE_OP: acquire, renew or release a lease. */
struct msg_lease_op {
	char		id[OP_ID_MAX];		/* echoed in MSG_LEASE_DONE */
	int		op;			/* LOP_ACQUIRE, _RENEW, _RELEASE */
	char		lease[LEASE_ID_MAX];	/* renew, release; "" for acquire */
	int64_t		ttl_ms;			/* 0: the lease's own, or idle_ttl */
	char		owner[LEASE_OWNER_MAX];	/* acquire */
	int		force;			/* release: SIGKILL at once */
};

/* MSG_LEASE_DONE: the answer to MSG_LEASE_OP. */
struct msg_lease_done {
	char		id[OP_ID_MAX];
	int		ok;
	char		code[32];		/* failed: a CTLERR_ or ERR_ name */
	char		message[MESSAGE_MAX];
	struct lease_info lease;		/* the lease concerned */
};

/* MSG_LEASES: a worker's lease table. */
struct msg_leases {
	int		 plane;			/* TP_* */
	char		 detail[MESSAGE_MAX];
	struct lease_info *leases;		/* unpack: malloc'ed */
	size_t		 n;
};

/* MSG_ZONE_NOTE: a decision of the parent for the worker to record. */
struct msg_zone_note {
	int		kind;			/* REC_RECOVERY_SCHEDULED, _SUSPENDED */
	char		message[MESSAGE_MAX];
};

/* names.c: the kebab-case strings of every vocabulary above. */
const char *names_state(int);
int names_state_parse(const char *);
const char *names_error(int);
int names_error_parse(const char *);
const char *names_trigger(int);
int names_trigger_parse(const char *);
const char *names_operation(int);
int names_operation_parse(const char *);
const char *names_evidence(int);
int names_evidence_parse(const char *);
const char *names_record(int);
int names_record_parse(const char *);
const char *names_op_result(int);
int names_op_result_parse(const char *);
const char *names_probe(int);
int names_probe_parse(const char *);
const char *names_ctl_command(int);
int names_ctl_command_parse(const char *);
const char *names_ctl_error(int);
const char *names_msg_type(int);
const char *names_lease_op(int);
int names_lease_op_parse(const char *);
const char *names_lease_state(int);
int names_lease_state_parse(const char *);
const char *names_tool_plane(int);
int names_tool_plane_parse(const char *);

/* msg.c: writing.  Containers get their counts patched on *_end. */
struct msgw;
struct msgw *msgw_new(void);
void msgw_free(struct msgw *);
void msgw_array_begin(struct msgw *);
void msgw_array_end(struct msgw *);
void msgw_map_begin(struct msgw *);
void msgw_map_end(struct msgw *);
void msgw_int(struct msgw *, int64_t);
void msgw_bool(struct msgw *, int);
void msgw_nil(struct msgw *);
void msgw_double(struct msgw *, double);
void msgw_str(struct msgw *, const char *);		/* NULL packs nil */
void msgw_strn(struct msgw *, const char *, size_t);
void msgw_str_array(struct msgw *, char *const *, size_t);
void msgw_utf8(struct msgw *, const char *, size_t);	/* U+FFFD for bad bytes */
size_t utf8_len(const unsigned char *, size_t);	/* valid sequence at s, or 0 */
/* A string literal, a key most often: its length is known when compiled. */
#define msgw_key(w, lit)	msgw_strn((w), "" lit, sizeof(lit) - 1)
void msgw_raw(struct msgw *, const void *, size_t);
const void *msgw_frame(struct msgw *, size_t *);
void msgw_reserve(struct msgw *, size_t);
char *msgw_take(struct msgw *, size_t *, size_t *);

/* msg.c: reading.  A document is one checked frame payload. */
enum mval_kind { MV_NIL, MV_BOOL, MV_INT, MV_FLOAT, MV_STR, MV_BIN, MV_ARRAY, MV_MAP, MV_EXT };
struct mdoc;
struct mval;
int msg_check(const void *, size_t, int, const char **);
struct mdoc *mdoc_parse(const void *, size_t, const char **);
struct mdoc *mdoc_parse_versioned(const void *, size_t, int64_t,
    const char **, char *, size_t);
const struct mval *mdoc_root(const struct mdoc *);
void mdoc_free(struct mdoc *);
enum mval_kind mval_kind(const struct mval *);

/* One msgpack value's header, read in place (mraw_item). */
struct mitem {
	enum mval_kind	 kind;
	int64_t		 i;	/* MV_INT */
	int		 big;	/* MV_INT above INT64_MAX */
	double		 d;	/* MV_FLOAT */
	int		 b;	/* MV_BOOL */
	const char	*s;	/* MV_STR: not NUL-terminated */
	uint64_t	 len;	/* MV_STR bytes, MV_ARRAY/MV_MAP entries */
};
int mraw_item(const void *, size_t, size_t *, struct mitem *);
int mraw_skip(const void *, size_t, size_t *, int);
int mraw_get(const void *, size_t, const char *, size_t *);
int mval_int(const struct mval *, int64_t *);
int mval_bool(const struct mval *, int *);
int mval_double(const struct mval *, double *);
const char *mval_str(const struct mval *, size_t *);
int mval_strcpy(const struct mval *, char *, size_t);
char *mval_strdup(const struct mval *);
size_t mval_len(const struct mval *);
const struct mval *mval_at(const struct mval *, size_t);
const struct mval *mval_key(const struct mval *, size_t);
const struct mval *mval_val(const struct mval *, size_t);
const struct mval *mval_get(const struct mval *, const char *);
int mval_get_str(const struct mval *, const char *, char *, size_t,
    const char **);
int mval_get_int(const struct mval *, const char *, int64_t, int64_t,
    int64_t *, const char **);

/* msg.c: link messages, one pack/unpack pair per structure. */
struct msgw *msg_pack_hello(const struct msg_hello *);
struct msgw *msg_pack_empty(int);
struct msgw *msg_pack_zone_op(int, const struct msg_zone_op *);
struct msgw *msg_pack_zone_status(const struct zone_status *);
struct msgw *msg_pack_op_done(const struct msg_op_done *);
struct msgw *msg_pack_escalate(const struct msg_escalate *);
struct msgw *msg_pack_record(const struct record *);
struct msgw *msg_pack_zone_note(const struct msg_zone_note *);
struct msgw *msg_pack_zone_arm(const struct msg_zone_arm *);
struct msgw *msg_pack_health_result(const struct msg_health_result *);
struct msgw *msg_pack_zone_health(const struct msg_zone_health *);
struct msgw *msg_pack_lease_op(const struct msg_lease_op *);
struct msgw *msg_pack_lease_done(const struct msg_lease_done *);
struct msgw *msg_pack_leases(const struct msg_leases *);
struct msgr {
	const struct mval	*array;
	size_t			 next;
	int			 error;
};
int msg_open(const struct mdoc *, struct msgr *, int *);
int msg_end(struct msgr *);
int msg_unpack_hello(struct msgr *, struct msg_hello *);
int msg_unpack_zone_op(struct msgr *, struct msg_zone_op *);
int msg_unpack_zone_status(struct msgr *, struct zone_status *);
int msg_unpack_op_done(struct msgr *, struct msg_op_done *);
int msg_unpack_escalate(struct msgr *, struct msg_escalate *);
int msg_unpack_zone_note(struct msgr *, struct msg_zone_note *);
int msg_unpack_zone_arm(struct msgr *, struct msg_zone_arm *);
int msg_unpack_health_result(struct msgr *, struct msg_health_result *);
int msg_unpack_zone_health(struct msgr *, struct msg_zone_health *);
int msg_unpack_lease_op(struct msgr *, struct msg_lease_op *);
int msg_unpack_lease_done(struct msgr *, struct msg_lease_done *);
int msg_unpack_leases(struct msgr *, struct msg_leases *);

#endif
