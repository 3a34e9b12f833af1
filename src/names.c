/*
 * names.c: the kebab-case words of DESIGN.md for every enum that reaches a
 * wire, a record, a log line or an operator.  The strings come from the
 * X-macro tables of proto.h and zonevisor.h, so names cannot drift from the
 * enums they stand for.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "zonevisor.h"

#define AS_STRING(e, s) s,

static const char *const state_names[] = { ZONE_STATES(AS_STRING) };
static const char *const error_names[] = { ZONE_ERRORS(AS_STRING) };
static const char *const trigger_names[] = { TRIGGERS(AS_STRING) };
static const char *const operation_names[] = { OPERATIONS(AS_STRING) };
static const char *const ctl_command_names[] = { CTL_COMMANDS(AS_STRING) };
static const char *const ctl_error_names[] = { CTL_ERRORS(AS_STRING) };
static const char *const event_names[] = { ZONE_EVENTS(AS_STRING) };
static const char *const evidence_names[] = { EVIDENCE_KINDS(AS_STRING) };
static const char *const record_names[] = { RECORD_KINDS(AS_STRING) };
static const char *const op_result_names[] = { OP_RESULTS(AS_STRING) };
static const char *const recovery_state_names[] = { RECOVERY_STATES(AS_STRING) };
static const char *const probe_names[] = { PROBE_KINDS(AS_STRING) };
static const char *const lease_op_names[] = { LEASE_OPS(AS_STRING) };
static const char *const lease_state_names[] = { LEASE_STATES(AS_STRING) };
static const char *const tool_plane_names[] = { TOOL_PLANES(AS_STRING) };

static const char *lookup(const char *const *, int, int);
static int parse(const char *const *, int, const char *);

/* Return names[i], or "unknown" when i is out of range. */
static const char *
lookup(const char *const *names, int count, int i)
{
	if (i < 0 || i >= count)
		return "unknown";
	return names[i];
}

/* Return the index of s in names, or -1. */
static int
parse(const char *const *names, int count, const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < count; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Name of a zone state. */
const char *
names_state(int s)
{
	return lookup(state_names, ZS__COUNT, s);
}

/* Zone state of a name, or -1. */
int
names_state_parse(const char *s)
{
	return parse(state_names, ZS__COUNT, s);
}

/* Name of a zone error code. */
const char *
names_error(int e)
{
	return lookup(error_names, ERR__COUNT, e);
}

/* Zone error code of a name, or -1. */
int
names_error_parse(const char *s)
{
	return parse(error_names, ERR__COUNT, s);
}

/* Name of an operation trigger. */
const char *
names_trigger(int t)
{
	return lookup(trigger_names, TRIG__COUNT, t);
}

/* Trigger of a name, or -1. */
int
names_trigger_parse(const char *s)
{
	return parse(trigger_names, TRIG__COUNT, s);
}

/* Name of an operation, as used inside operation ids. */
const char *
names_operation(int op)
{
	return lookup(operation_names, OP__COUNT, op);
}

/* Operation of a name, or -1. */
int
names_operation_parse(const char *s)
{
	return parse(operation_names, OP__COUNT, s);
}

/* Name of a kind of owner-unsafe evidence. */
const char *
names_evidence(int e)
{
	return lookup(evidence_names, EVD__COUNT, e);
}

/* Evidence kind of a name, or -1. */
int
names_evidence_parse(const char *s)
{
	return parse(evidence_names, EVD__COUNT, s);
}

/* Name of a lifecycle record kind. */
const char *
names_record(int k)
{
	return lookup(record_names, REC__COUNT, k);
}

/* Record kind of a name, or -1. */
int
names_record_parse(const char *s)
{
	return parse(record_names, REC__COUNT, s);
}

/* Name of an operation result. */
const char *
names_op_result(int r)
{
	return lookup(op_result_names, OPR__COUNT, r);
}

/* Operation result of a name, or -1. */
int
names_op_result_parse(const char *s)
{
	return parse(op_result_names, OPR__COUNT, s);
}

/* Name of a health probe kind. */
const char *
names_probe(int k)
{
	return lookup(probe_names, PROBE__COUNT, k);
}

/* Health probe kind of a name, or -1. */
int
names_probe_parse(const char *s)
{
	return parse(probe_names, PROBE__COUNT, s);
}

/* Name of a lease operation. */
const char *
names_lease_op(int o)
{
	return lookup(lease_op_names, LOP__COUNT, o);
}

/* Lease operation of a name, or -1. */
int
names_lease_op_parse(const char *s)
{
	return parse(lease_op_names, LOP__COUNT, s);
}

/* Name of a lease state. */
const char *
names_lease_state(int st)
{
	return lookup(lease_state_names, LS__COUNT, st);
}

/* Lease state of a name, or -1. */
int
names_lease_state_parse(const char *s)
{
	return parse(lease_state_names, LS__COUNT, s);
}

/* Name of a tool-VM plane. */
const char *
names_tool_plane(int p)
{
	return lookup(tool_plane_names, TP__COUNT, p);
}

/* Tool-VM plane of a name, or -1. */
int
names_tool_plane_parse(const char *s)
{
	return parse(tool_plane_names, TP__COUNT, s);
}

/* Name of a control command. */
const char *
names_ctl_command(int c)
{
	return lookup(ctl_command_names, CTL__COUNT, c);
}

/* Control command of a name, or -1. */
int
names_ctl_command_parse(const char *s)
{
	return parse(ctl_command_names, CTL__COUNT, s);
}

/* Name of a control error code. */
const char *
names_ctl_error(int e)
{
	return lookup(ctl_error_names, CTLERR__COUNT, e);
}

/* Name of a recovery policy state, for status and diagnose. */
const char *
names_recovery_state(int s)
{
	return lookup(recovery_state_names, RS__COUNT, s);
}

/* Name of a zone event, for transition log lines. */
const char *
names_event(int e)
{
	return lookup(event_names, ZE__COUNT, e);
}

/* Name of a link message type, for log lines about bad frames. */
const char *
names_msg_type(int type)
{
	switch (type) {
	case MSG_HELLO:
		return "hello";
	case MSG_SHUTDOWN:
		return "shutdown";
	case MSG_REOPEN_LOGS:
		return "reopen-logs";
	case MSG_ZONE_START:
		return "zone-start";
	case MSG_ZONE_STOP:
		return "zone-stop";
	case MSG_ZONE_RESTART:
		return "zone-restart";
	case MSG_ZONE_COLD_START:
		return "zone-cold-start";
	case MSG_ZONE_RECORDED:
		return "zone-recorded";
	case MSG_ZONE_NOTE:
		return "zone-note";
	case MSG_ZONE_RESET:
		return "zone-reset";
	case MSG_ZONE_ARM:
		return "zone-arm";
	case MSG_HEALTH_PROBE:
		return "health-probe";
	case MSG_ZONE_CREDENTIALS_REFRESH:
		return "zone-credentials-refresh";
	case MSG_ZONE_RETIRE:
		return "zone-retire";
	case MSG_ZONE_HEALTH:
		return "zone-health";
	case MSG_HEALTH_RESULT:
		return "health-result";
	case MSG_LEASE_OP:
		return "lease-op";
	case MSG_LEASE_DONE:
		return "lease-done";
	case MSG_LEASES:
		return "leases";
	case MSG_ZONE_STATUS:
		return "zone-status";
	case MSG_OP_DONE:
		return "op-done";
	case MSG_ESCALATE:
		return "escalate";
	}
	return "unknown";
}

/* "SIGTERM" for 15; "signal 99" for numbers without a name. */
const char *
names_signal(int sig)
{
	static char buf[32];
	const char *abbrev = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (abbrev != NULL)
		snprintf(buf, sizeof buf, "SIG%s", abbrev);
	else
		snprintf(buf, sizeof buf, "signal %d", sig);
	return buf;
}

/* "ENOENT" for ENOENT, so messages name errno as well as describe it. */
const char *
names_errno(int err)
{
	const char *name = strerrorname_np(err);

	return name != NULL ? name : "E?";
}
