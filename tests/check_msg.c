/*
 * check_msg.c: the message layer (msg.c), the only code that touches
 * msgpack.  These tests protect both ends of every link: what one side
 * packs, the other unpacks field for field, behind a correct 4-byte frame
 * header; and whatever a confused or hostile peer sends instead (truncated
 * or trailing bytes, forged container counts meant to make msgpack-c
 * allocate gigabytes, nesting too deep, wrong arity, wrong types, unknown
 * names, out-of-range values) is refused with a reason rather than crashing
 * the parent or being half-believed.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "zonevisor.h"

/* One field of a hand-built link message. */
struct field {
	char		 kind;		/* 'i'nt, 's'tring, 'b'ool, 'n'il */
	int64_t		 i;
	const char	*s;
};

#define I(v)	{ 'i', (v), NULL }
#define S(v)	{ 's', 0, (v) }
#define B(v)	{ 'b', (v), NULL }
#define NIL	{ 'n', 0, NULL }
#define NFIELDS	40

static Suite *msg_suite(void);
static const unsigned char *payload(struct msgw *, size_t *);
static struct mdoc *open_frame(struct msgw *, struct msgr *, int);
static void parse_bad(const void *, size_t, const char *);
static struct msgw *build(const struct field *, size_t);
static int unpack_any(const void *, size_t);
static void walk(const struct mval *, int);
static char *repeat(char, size_t);
static void sample_lease(struct lease_info *, int);
static void expect_same_lease(const struct lease_info *,
    const struct lease_info *);

/*
 * The payload of a finished frame, after checking that its 4-byte
 * big-endian header holds the payload's length.
 */
static const unsigned char *
payload(struct msgw *w, size_t *len)
{
	const unsigned char *f;
	size_t flen;
	uint32_t hdr;

	f = msgw_frame(w, &flen);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(flen, FRAME_HEADER);
	hdr = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 |
	    (uint32_t)f[2] << 8 | (uint32_t)f[3];
	ck_assert_uint_eq(hdr, flen - FRAME_HEADER);
	*len = flen - FRAME_HEADER;
	return f + FRAME_HEADER;
}

/* Parse a frame's payload and open it as a link message of type want. */
static struct mdoc *
open_frame(struct msgw *w, struct msgr *r, int want)
{
	const unsigned char *p;
	const char *cause = NULL;
	struct mdoc *d;
	size_t len;
	int type = -1;

	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_msg(d != NULL, "payload refused: %s", cause);
	ck_assert_int_eq(msg_open(d, r, &type), 0);
	ck_assert_int_eq(type, want);
	return d;
}

/* mdoc_parse() must refuse data, with a cause (containing want, if any). */
static void
parse_bad(const void *data, size_t len, const char *want)
{
	const char *cause = NULL;
	struct mdoc *d;

	d = mdoc_parse(data, len, &cause);
	if (d != NULL) {
		mdoc_free(d);
		ck_abort_msg("%zu bytes accepted, want \"%s\"", len,
		    want != NULL ? want : "a refusal");
	}
	ck_assert_msg(cause != NULL && *cause != '\0', "refused without cause");
	if (want != NULL)
		ck_assert_msg(strstr(cause, want) != NULL,
		    "cause \"%s\", want \"%s\"", cause, want);
}

/* A link message [f0, f1, ...] built with the writer API. */
static struct msgw *
build(const struct field *f, size_t n)
{
	struct msgw *w = msgw_new();
	size_t i;

	msgw_array_begin(w);
	for (i = 0; i < n; i++) {
		switch (f[i].kind) {
		case 'i':
			msgw_int(w, f[i].i);
			break;
		case 's':
			msgw_str(w, f[i].s);
			break;
		case 'b':
			msgw_bool(w, (int)f[i].i);
			break;
		default:
			msgw_nil(w);
			break;
		}
	}
	msgw_array_end(w);
	return w;
}

/*
 * Parse a payload and unpack it as its type says, the way a receiver
 * would: 0 only if parsing, opening, unpacking and msg_end() all succeed.
 */
static int
unpack_any(const void *data, size_t len)
{
	union {
		struct msg_hello	hello;
		struct msg_zone_op	op;
		struct zone_status	st;
		struct msg_op_done	done;
		struct msg_escalate	esc;
		struct msg_health_result hr;
		struct msg_zone_health	zh;
		struct msg_lease_op	lop;
		struct msg_lease_done	ld;
		struct msg_leases	ls;
	} u;
	const char *cause;
	struct mdoc *d;
	struct msgr r;
	int type, rc;

	if ((d = mdoc_parse(data, len, &cause)) == NULL)
		return -1;
	if (msg_open(d, &r, &type) != 0) {
		mdoc_free(d);
		return -1;
	}
	switch (type) {
	case MSG_HELLO:
		rc = msg_unpack_hello(&r, &u.hello);
		break;
	case MSG_SHUTDOWN:
	case MSG_REOPEN_LOGS:
		rc = 0;
		break;
	case MSG_ZONE_START:
	case MSG_ZONE_STOP:
	case MSG_ZONE_RESTART:
		rc = msg_unpack_zone_op(&r, &u.op);
		break;
	case MSG_ZONE_STATUS:
		rc = msg_unpack_zone_status(&r, &u.st);
		break;
	case MSG_OP_DONE:
		rc = msg_unpack_op_done(&r, &u.done);
		break;
	case MSG_HEALTH_RESULT:
		rc = msg_unpack_health_result(&r, &u.hr);
		break;
	case MSG_ESCALATE:
		rc = msg_unpack_escalate(&r, &u.esc);
		break;
	case MSG_ZONE_HEALTH:
		rc = msg_unpack_zone_health(&r, &u.zh);
		break;
	case MSG_LEASE_OP:
		rc = msg_unpack_lease_op(&r, &u.lop);
		break;
	case MSG_LEASE_DONE:
		rc = msg_unpack_lease_done(&r, &u.ld);
		break;
	case MSG_LEASES:
		rc = msg_unpack_leases(&r, &u.ls);
		free(u.ls.leases);	/* also when unpacking failed */
		break;
	default:
		rc = -1;
		break;
	}
	if (msg_end(&r) != 0)
		rc = -1;
	mdoc_free(d);
	return rc;
}

/* Visit every value with every getter; only memory errors can fail here. */
static void
walk(const struct mval *v, int depth)
{
	char buf[8];
	int64_t i;
	double dbl;
	size_t n, j, len;
	int b;
	char *s;

	ck_assert_int_le(depth, MSG_MAX_DEPTH + 1);
	(void)mval_int(v, &i);
	(void)mval_bool(v, &b);
	(void)mval_double(v, &dbl);
	(void)mval_str(v, &len);
	(void)mval_strcpy(v, buf, sizeof buf);
	free(mval_strdup(v));
	(void)mval_get(v, "k");
	n = mval_len(v);
	if (mval_kind(v) == MV_ARRAY) {
		for (j = 0; j < n; j++)
			walk(mval_at(v, j), depth + 1);
		ck_assert_ptr_null(mval_at(v, n));
	} else if (mval_kind(v) == MV_MAP) {
		for (j = 0; j < n; j++) {
			walk(mval_key(v, j), depth + 1);
			walk(mval_val(v, j), depth + 1);
		}
		ck_assert_ptr_null(mval_key(v, n));
	} else
		ck_assert_uint_eq(n, 0);
	if ((s = mval_strdup(v)) != NULL) {
		ck_assert_int_eq(mval_kind(v), MV_STR);
		free(s);
	}
}

/* A lease with every field set, told apart by i. */
static void
sample_lease(struct lease_info *l, int i)
{
	memset(l, 0, sizeof *l);
	snprintf(l->id, sizeof l->id, "0123abcd-0000-4000-8000-%012d", i);
	l->slot = i;
	l->port = 20000 + i;
	l->state = i % LS__COUNT;
	l->pid = 4242 + i;
	l->start_time = UINT64_C(1) << 40 | (uint64_t)i;
	if (i % 2 == 0)
		snprintf(l->owner, sizeof l->owner, "agent-%d", i);
	l->acquired_at_ms = INT64_C(1700000000000) + i;
	l->renewed_at_ms = i % 2 == 0 ? 0 : INT64_C(1700000060000) + i;
	l->expires_at_ms = INT64_C(1700003600000) + i;
	l->ttl_ms = i == 0 ? LEASE_TTL_MAX_MS : LEASE_TTL_MIN_MS + i;
}

/* Every field of got is that of want. */
static void
expect_same_lease(const struct lease_info *got, const struct lease_info *want)
{
	ck_assert_str_eq(got->id, want->id);
	ck_assert_int_eq(got->slot, want->slot);
	ck_assert_int_eq(got->port, want->port);
	ck_assert_int_eq(got->state, want->state);
	ck_assert_int_eq(got->pid, want->pid);
	ck_assert_uint_eq(got->start_time, want->start_time);
	ck_assert_str_eq(got->owner, want->owner);
	ck_assert_int_eq(got->acquired_at_ms, want->acquired_at_ms);
	ck_assert_int_eq(got->renewed_at_ms, want->renewed_at_ms);
	ck_assert_int_eq(got->expires_at_ms, want->expires_at_ms);
	ck_assert_int_eq(got->ttl_ms, want->ttl_ms);
}

/* A NUL-terminated string of n copies of c. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_msg_hello_round_trip)
{
	static const struct msg_hello in[] = {
		{ PROTO_VERSION, "alpha", 4242 },
		{ UINT32_MAX, "zone_with-64-characters-in-its-name-abcdefghijklmnopqrstuvwxyz01",
		    INT_MAX },
		{ 0, "0", 1 },
	};
	struct msg_hello out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i;

	ck_assert_uint_eq(strlen(in[1].zone), ZONE_NAME_MAX);
	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		w = msg_pack_hello(&in[i]);
		d = open_frame(w, &r, MSG_HELLO);
		memset(&out, 0xa5, sizeof out);
		ck_assert_int_eq(msg_unpack_hello(&r, &out), 0);
		ck_assert_uint_eq(out.version, in[i].version);
		ck_assert_str_eq(out.zone, in[i].zone);
		ck_assert_int_eq(out.pid, in[i].pid);
		ck_assert_int_eq(msg_end(&r), 0);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_empty_round_trip)
{
	static const int types[] = { MSG_SHUTDOWN, MSG_REOPEN_LOGS };
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		w = msg_pack_empty(types[i]);
		d = open_frame(w, &r, types[i]);
		ck_assert_uint_eq(mval_len(mdoc_root(d)), 1);
		ck_assert_int_eq(msg_end(&r), 0);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_zone_op_round_trip)
{
	static const int types[] = {
		MSG_ZONE_START, MSG_ZONE_STOP, MSG_ZONE_RESTART,
		MSG_ZONE_COLD_START
	};
	struct msg_zone_op in, out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i;
	int trig;
	char *longest;

	longest = repeat('o', OP_ID_MAX - 1);
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		for (trig = 0; trig < TRIG__COUNT; trig++) {
			memset(&in, 0, sizeof in);
			snprintf(in.op_id, sizeof in.op_id,
			    "alpha-%s-6f1c0a52-4b7e-4c1e-9d43-%d",
			    names_trigger(trig), (int)i);
			if (trig == TRIG__COUNT - 1)
				memcpy(in.op_id, longest, OP_ID_MAX);
			in.trigger = trig;
			in.timeout_ms = trig == 0 ? 0 : INT64_C(600000) + trig;
			w = msg_pack_zone_op(types[i], &in);
			d = open_frame(w, &r, types[i]);
			memset(&out, 0xa5, sizeof out);
			ck_assert_int_eq(msg_unpack_zone_op(&r, &out), 0);
			ck_assert_str_eq(out.op_id, in.op_id);
			ck_assert_int_eq(out.trigger, trig);
			ck_assert_int_eq(out.timeout_ms, in.timeout_ms);
			ck_assert_int_eq(msg_end(&r), 0);
			mdoc_free(d);
			msgw_free(w);
		}
	}
	free(longest);
}
END_TEST

START_TEST(test_msg_zone_status_round_trip)
{
	struct zone_status in, out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	int k;

	/* Every state and every error code goes across by name. */
	for (k = 0; k < ZS__COUNT * ERR__COUNT; k++) {
		memset(&in, 0, sizeof in);
		in.state = k % ZS__COUNT;
		in.desired = k % 2 ? ZS_RUNNING : ZS_STOPPED;
		in.pid = k == 0 ? 0 : 100000 + k;
		in.vm_start = k == 1 ? (uint64_t)INT64_MAX : 123456789012ULL + k;
		in.since_ms = INT64_C(1700000000123) + k;
		in.booted_at_ms = k == 2 ? 0 : INT64_C(1700000000000);
		snprintf(in.op_id, sizeof in.op_id, "alpha-start-%d", k);
		in.error = k / ZS__COUNT;
		snprintf(in.message, sizeof in.message,
		    "VM \"exited\" \\ with status %d: caf\xc3\xa9", k);
		in.eligible = k % 3 == 0;
		in.restarts = k == 3 ? UINT32_MAX : (uint32_t)k;
		in.exit_code = k % 4 == 0 ? -1 : k % 4 == 1 ? 255 : k;
		in.exit_signal = k % 5 == 0 ? 128 : k % 5 == 1 ? 0 : 9;
		in.generation = k == 5 ? (uint64_t)INT64_MAX : (uint64_t)k * 7;
		in.evidence = k % EVD__COUNT;
		snprintf(in.evidence_detail, sizeof in.evidence_detail,
		    "/state/zones/alpha/runtime: evidence %d", k);
		in.op_kind = k % OP__COUNT;
		in.op_trigger = k % TRIG__COUNT;
		in.op_result = k % OPR__COUNT;
		in.op_error = (k + 3) % ERR__COUNT;
		in.op_at_ms = INT64_C(1700000000999) + k;
		in.outage = (k + 1) % ERR__COUNT;
		snprintf(in.outage_message, sizeof in.outage_message,
		    "first cause %d", k);
		in.outage_at_ms = k % 2 ? 0 : INT64_C(1700000000555);
		in.health_ok = (int)(k % 3) - 1;
		in.health_failures = (int)k * 7;
		in.health_at_ms = INT64_C(1700000000777) + (int64_t)k;
		in.health_latency_ms = (int64_t)k * 11;
		snprintf(in.health_detail, sizeof in.health_detail,
		    "GET /health: %d", 200 + (int)k);
		/* Persistence ok (no time, no cause) or degraded (both). */
		if (k % 3 != 0) {
			in.persist_since_ms = INT64_C(1700000000333) + k;
			snprintf(in.persist_cause, sizeof in.persist_cause,
			    "lifecycle.log: No space left on device (%d)", k);
		}
		in.records_lost = k == 6 ? UINT32_MAX : (uint32_t)k * 3;
		if (k == 4) {
			in.op_id[0] = '\0';	/* no operation yet */
			in.message[0] = '\0';
		}

		w = msg_pack_zone_status(&in);
		d = open_frame(w, &r, MSG_ZONE_STATUS);
		memset(&out, 0xa5, sizeof out);
		ck_assert_int_eq(msg_unpack_zone_status(&r, &out), 0);
		ck_assert_int_eq(out.state, in.state);
		ck_assert_int_eq(out.desired, in.desired);
		ck_assert_int_eq(out.pid, in.pid);
		ck_assert_uint_eq(out.vm_start, in.vm_start);
		ck_assert_int_eq(out.since_ms, in.since_ms);
		ck_assert_int_eq(out.booted_at_ms, in.booted_at_ms);
		ck_assert_str_eq(out.op_id, in.op_id);
		ck_assert_int_eq(out.error, in.error);
		ck_assert_str_eq(out.message, in.message);
		ck_assert_int_eq(out.eligible, in.eligible);
		ck_assert_uint_eq(out.restarts, in.restarts);
		ck_assert_int_eq(out.exit_code, in.exit_code);
		ck_assert_int_eq(out.exit_signal, in.exit_signal);
		ck_assert_uint_eq(out.generation, in.generation);
		ck_assert_int_eq(out.evidence, in.evidence);
		ck_assert_str_eq(out.evidence_detail, in.evidence_detail);
		ck_assert_int_eq(out.op_kind, in.op_kind);
		ck_assert_int_eq(out.op_trigger, in.op_trigger);
		ck_assert_int_eq(out.op_result, in.op_result);
		ck_assert_int_eq(out.op_error, in.op_error);
		ck_assert_int_eq(out.op_at_ms, in.op_at_ms);
		ck_assert_int_eq(out.outage, in.outage);
		ck_assert_str_eq(out.outage_message, in.outage_message);
		ck_assert_int_eq(out.outage_at_ms, in.outage_at_ms);
		ck_assert_int_eq(out.health_ok, in.health_ok);
		ck_assert_int_eq(out.health_failures, in.health_failures);
		ck_assert_int_eq(out.health_at_ms, in.health_at_ms);
		ck_assert_int_eq(out.health_latency_ms, in.health_latency_ms);
		ck_assert_str_eq(out.health_detail, in.health_detail);
		ck_assert_int_eq(out.persist_since_ms, in.persist_since_ms);
		ck_assert_str_eq(out.persist_cause, in.persist_cause);
		ck_assert_uint_eq(out.records_lost, in.records_lost);
		ck_assert_int_eq(msg_end(&r), 0);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_op_done_round_trip)
{
	struct msg_op_done in, out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	char *longest;
	int e;

	longest = repeat('m', MESSAGE_MAX - 1);
	for (e = 0; e < ERR__COUNT; e++) {
		memset(&in, 0, sizeof in);
		snprintf(in.op_id, sizeof in.op_id, "beta-stop-%d", e);
		in.ok = e == ERR_NONE;
		in.error = e;
		if (e == ERR__COUNT - 1)
			memcpy(in.message, longest, MESSAGE_MAX);
		else
			snprintf(in.message, sizeof in.message, "failed: %s",
			    names_error(e));
		w = msg_pack_op_done(&in);
		d = open_frame(w, &r, MSG_OP_DONE);
		memset(&out, 0xa5, sizeof out);
		ck_assert_int_eq(msg_unpack_op_done(&r, &out), 0);
		ck_assert_str_eq(out.op_id, in.op_id);
		ck_assert_int_eq(out.ok, in.ok);
		ck_assert_int_eq(out.error, in.error);
		ck_assert_str_eq(out.message, in.message);
		ck_assert_int_eq(msg_end(&r), 0);
		mdoc_free(d);
		msgw_free(w);
	}
	free(longest);
}
END_TEST

START_TEST(test_msg_note_and_arm_round_trip)
{
	struct msg_zone_note note = { REC_RECOVERY_SUSPENDED,
	    "suspended for 1800000ms after 10 failed recoveries in a row" }, nout;
	struct msg_zone_arm arm, aout;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;

	w = msg_pack_zone_note(&note);
	d = open_frame(w, &r, MSG_ZONE_NOTE);
	ck_assert_int_eq(msg_unpack_zone_note(&r, &nout), 0);
	ck_assert_int_eq(nout.kind, note.kind);
	ck_assert_str_eq(nout.message, note.message);
	mdoc_free(d);
	msgw_free(w);
	/* A worker records only the parent's decisions, nothing else. */
	note.kind = REC_VM_SPAWNED;
	w = msg_pack_zone_note(&note);
	d = open_frame(w, &r, MSG_ZONE_NOTE);
	ck_assert_int_ne(msg_unpack_zone_note(&r, &nout), 0);
	mdoc_free(d);
	msgw_free(w);

	memset(&arm, 0, sizeof arm);
	arm.vm.pid = 4242;
	arm.vm.start_time = 987654321;
	snprintf(arm.op_id, sizeof arm.op_id, "alpha-cold-start-1");
	arm.timeout_ms = 600000;
	w = msg_pack_zone_arm(&arm);
	d = open_frame(w, &r, MSG_ZONE_ARM);
	ck_assert_int_eq(msg_unpack_zone_arm(&r, &aout), 0);
	ck_assert_int_eq(aout.vm.pid, 4242);
	ck_assert_uint_eq(aout.vm.start_time, 987654321);
	ck_assert_str_eq(aout.op_id, arm.op_id);
	ck_assert_int_eq(aout.timeout_ms, 600000);
	mdoc_free(d);
	msgw_free(w);
	/* A disarm names no VM; an arm without a VM or a VM without an op is bad. */
	memset(&arm, 0, sizeof arm);
	w = msg_pack_zone_arm(&arm);
	d = open_frame(w, &r, MSG_ZONE_ARM);
	ck_assert_int_eq(msg_unpack_zone_arm(&r, &aout), 0);
	ck_assert_str_eq(aout.op_id, "");
	mdoc_free(d);
	msgw_free(w);
	arm.vm.pid = 7;
	w = msg_pack_zone_arm(&arm);
	d = open_frame(w, &r, MSG_ZONE_ARM);
	ck_assert_int_ne(msg_unpack_zone_arm(&r, &aout), 0);
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_zone_health_round_trip)
{
	static struct msg_zone_health in, out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	char *s;

	memset(&in, 0, sizeof in);
	in.probe = PROBE_HTTP;
	in.interval_ms = INT64_MAX / 2;
	in.timeout_ms = 10;
	in.failure_threshold = 1000;
	in.start_period_ms = 0;
	s = repeat('p', HEALTH_PATH_MAX - 2);
	snprintf(in.http_path, sizeof in.http_path, "/%s", s);
	free(s);
	w = msg_pack_zone_health(&in);
	d = open_frame(w, &r, MSG_ZONE_HEALTH);
	memset(&out, 0xa5, sizeof out);
	ck_assert_int_eq(msg_unpack_zone_health(&r, &out), 0);
	ck_assert_int_eq(out.probe, PROBE_HTTP);
	ck_assert_int_eq(out.interval_ms, INT64_MAX / 2);
	ck_assert_int_eq(out.timeout_ms, 10);
	ck_assert_int_eq(out.failure_threshold, 1000);
	ck_assert_int_eq(out.start_period_ms, 0);
	ck_assert_str_eq(out.http_path, in.http_path);
	ck_assert_str_eq(out.exec, "");
	mdoc_free(d);
	msgw_free(w);

	/* The longest exec a zone file may hold; none at all for none. */
	memset(&in, 0, sizeof in);
	in.probe = PROBE_EXEC;
	in.interval_ms = 100;
	in.timeout_ms = 50;
	in.failure_threshold = 1;
	in.start_period_ms = 7;
	s = repeat('x', HEALTH_EXEC_MAX - 1);
	snprintf(in.exec, sizeof in.exec, "%s", s);
	free(s);
	w = msg_pack_zone_health(&in);
	d = open_frame(w, &r, MSG_ZONE_HEALTH);
	ck_assert_int_eq(msg_unpack_zone_health(&r, &out), 0);
	ck_assert_str_eq(out.exec, in.exec);
	ck_assert_int_eq(out.start_period_ms, 7);
	mdoc_free(d);
	msgw_free(w);
	in.probe = PROBE_NONE;
	in.exec[0] = '\0';
	w = msg_pack_zone_health(&in);
	d = open_frame(w, &r, MSG_ZONE_HEALTH);
	ck_assert_int_eq(msg_unpack_zone_health(&r, &out), 0);
	ck_assert_int_eq(out.probe, PROBE_NONE);
	mdoc_free(d);
	msgw_free(w);

	/* An http path with a blank, or not absolute, is refused. */
	in.probe = PROBE_HTTP;
	snprintf(in.http_path, sizeof in.http_path, "/a b");
	w = msg_pack_zone_health(&in);
	d = open_frame(w, &r, MSG_ZONE_HEALTH);
	ck_assert_int_ne(msg_unpack_zone_health(&r, &out), 0);
	mdoc_free(d);
	msgw_free(w);
	snprintf(in.http_path, sizeof in.http_path, "health");
	w = msg_pack_zone_health(&in);
	d = open_frame(w, &r, MSG_ZONE_HEALTH);
	ck_assert_int_ne(msg_unpack_zone_health(&r, &out), 0);
	mdoc_free(d);
	msgw_free(w);
	ck_assert_str_eq(names_msg_type(MSG_ZONE_HEALTH), "zone-health");
}
END_TEST

START_TEST(test_msg_escalate_round_trip)
{
	static const struct msg_escalate in[] = {
		{ ERR_VM_PROCESS_MISSING, "VM 4242 exited with status 1", 1, 0,
		    93000, { 4242, 123456789 }, EVD_NONE, "",
		    "a-cold-start-5b0e4d38-2f51-4a6b-9c2e-8d1f7a3b6c90" },
		{ ERR_VM_START_FAILED, "killed by SIGKILL", -1, 9, 0, { 0, 0 },
		    EVD_NONE, "", "" },
		{ ERR_OWNER_UNSAFE, "", 255, 128, INT64_MAX, { 7, UINT64_C(1) << 50 },
		    EVD_STALE_RUNTIME_RECORD, "/var/lib/zonevisor/zones/a/runtime",
		    "" },
	};
	struct msg_escalate out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		w = msg_pack_escalate(&in[i]);
		d = open_frame(w, &r, MSG_ESCALATE);
		memset(&out, 0xa5, sizeof out);
		ck_assert_int_eq(msg_unpack_escalate(&r, &out), 0);
		ck_assert_int_eq(out.error, in[i].error);
		ck_assert_str_eq(out.message, in[i].message);
		ck_assert_int_eq(out.exit_code, in[i].exit_code);
		ck_assert_int_eq(out.exit_signal, in[i].exit_signal);
		ck_assert_int_eq(out.uptime_ms, in[i].uptime_ms);
		ck_assert_int_eq(out.vm.pid, in[i].vm.pid);
		ck_assert_uint_eq(out.vm.start_time, in[i].vm.start_time);
		ck_assert_int_eq(out.evidence, in[i].evidence);
		ck_assert_str_eq(out.evidence_detail, in[i].evidence_detail);
		ck_assert_str_eq(out.acted, in[i].acted);
		ck_assert_int_eq(msg_end(&r), 0);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_lease_op_round_trip)
{
	static const struct msg_lease_op in[] = {
		{ "alpha-lease-1", LOP_ACQUIRE, "", 0, "agent-1", 0 },
		{ "alpha-lease-2", LOP_ACQUIRE, "", LEASE_TTL_MIN_MS, "", 0 },
		{ "alpha-lease-3", LOP_RENEW, "0123abcd-0000-4000-8000-000000000001",
		    LEASE_TTL_MAX_MS, "", 0 },
		{ "alpha-lease-4", LOP_RELEASE,
		    "0123abcd-0000-4000-8000-000000000001", 0, "", 1 },
	};
	struct msg_lease_op out, list;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		w = msg_pack_lease_op(&in[i]);
		d = open_frame(w, &r, MSG_LEASE_OP);
		memset(&out, 0xa5, sizeof out);
		ck_assert_int_eq(msg_unpack_lease_op(&r, &out), 0);
		ck_assert_str_eq(out.id, in[i].id);
		ck_assert_int_eq(out.op, in[i].op);
		ck_assert_str_eq(out.lease, in[i].lease);
		ck_assert_int_eq(out.ttl_ms, in[i].ttl_ms);
		ck_assert_str_eq(out.owner, in[i].owner);
		ck_assert_int_eq(out.force, in[i].force);
		mdoc_free(d);
		msgw_free(w);
	}
	/* list is the parent's to answer: never on the link. */
	list = in[0];
	list.op = LOP_LIST;
	w = msg_pack_lease_op(&list);
	d = open_frame(w, &r, MSG_LEASE_OP);
	ck_assert_int_ne(msg_unpack_lease_op(&r, &out), 0);
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_lease_done_round_trip)
{
	struct msg_lease_done in[3], out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i;

	memset(in, 0, sizeof in);
	snprintf(in[0].id, sizeof in[0].id, "alpha-lease-1");
	in[0].ok = 1;
	snprintf(in[0].message, sizeof in[0].message, "acquired");
	sample_lease(&in[0].lease, 0);
	snprintf(in[1].id, sizeof in[1].id, "alpha-lease-2");
	snprintf(in[1].code, sizeof in[1].code, "%s",
	    names_ctl_error(CTLERR_NO_FREE_SLOT));
	snprintf(in[1].message, sizeof in[1].message, "zone alpha: no free "
	    "slot: all 2 are taken (0 quarantined)");
	snprintf(in[2].id, sizeof in[2].id, "alpha-lease-3");
	snprintf(in[2].code, sizeof in[2].code, "%s",
	    names_ctl_error(CTLERR_LEASE_QUARANTINED));
	sample_lease(&in[2].lease, 3);
	in[2].lease.state = LS_QUARANTINED;
	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		w = msg_pack_lease_done(&in[i]);
		d = open_frame(w, &r, MSG_LEASE_DONE);
		memset(&out, 0xa5, sizeof out);
		ck_assert_int_eq(msg_unpack_lease_done(&r, &out), 0);
		ck_assert_str_eq(out.id, in[i].id);
		ck_assert_int_eq(out.ok, in[i].ok);
		ck_assert_str_eq(out.code, in[i].code);
		ck_assert_str_eq(out.message, in[i].message);
		expect_same_lease(&out.lease, &in[i].lease);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_leases_round_trip)
{
	static const size_t counts[] = { 0, 1, 5 };
	struct lease_info leases[5];
	struct msg_leases in, out;
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	size_t i, k;

	for (i = 0; i < 5; i++)
		sample_lease(&leases[i], (int)i);
	for (k = 0; k < sizeof counts / sizeof counts[0]; k++) {
		memset(&in, 0, sizeof in);
		in.plane = counts[k] == 0 ? TP_NONE : counts[k] == 1 ? TP_OK :
		    TP_DEGRADED;
		if (in.plane == TP_DEGRADED)
			snprintf(in.detail, sizeof in.detail, "1 of 5 slots "
			    "quarantined: their tool VMs would not die");
		in.leases = leases;
		in.n = counts[k];
		w = msg_pack_leases(&in);
		d = open_frame(w, &r, MSG_LEASES);
		ck_assert_int_eq(msg_unpack_leases(&r, &out), 0);
		ck_assert_int_eq(out.plane, in.plane);
		ck_assert_str_eq(out.detail, in.detail);
		ck_assert_uint_eq(out.n, in.n);
		ck_assert_ptr_nonnull(out.leases);
		for (i = 0; i < out.n; i++)
			expect_same_lease(&out.leases[i], &leases[i]);
		free(out.leases);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_lease_names)
{
	int i;

	for (i = 0; i < LOP__COUNT; i++)
		ck_assert_int_eq(names_lease_op_parse(names_lease_op(i)), i);
	for (i = 0; i < LS__COUNT; i++)
		ck_assert_int_eq(names_lease_state_parse(names_lease_state(i)),
		    i);
	for (i = 0; i < TP__COUNT; i++)
		ck_assert_int_eq(names_tool_plane_parse(names_tool_plane(i)),
		    i);
	ck_assert_str_eq(names_lease_op(LOP_ACQUIRE), "acquire");
	ck_assert_str_eq(names_lease_state(LS_QUARANTINED), "quarantined");
	ck_assert_str_eq(names_tool_plane(TP_DEGRADED), "degraded");
	ck_assert_str_eq(names_ctl_error(CTLERR_UNKNOWN_LEASE), "unknown-lease");
	ck_assert_str_eq(names_ctl_command(CTL_LEASE), "lease");
	ck_assert_int_eq(names_lease_op_parse("Acquire"), -1);
	ck_assert_int_eq(names_lease_op_parse(""), -1);
	ck_assert_int_eq(names_lease_state_parse("expired"), -1);
	ck_assert_int_eq(names_tool_plane_parse("ok "), -1);
	ck_assert_str_eq(names_lease_op(LOP__COUNT), "unknown");
	ck_assert_str_eq(names_lease_state(-1), "unknown");
}
END_TEST

START_TEST(test_msg_parse_refuses_empty_and_truncated)
{
	struct zone_status st;
	struct msg_hello h = { PROTO_VERSION, "alpha", 4242 };
	const unsigned char *p;
	struct msgw *w;
	size_t len, cut;

	parse_bad("", 0, "empty");

	memset(&st, 0, sizeof st);
	st.state = ZS_RUNNING;
	st.desired = ZS_RUNNING;
	st.pid = 77;
	st.since_ms = 1;
	st.exit_code = -1;
	snprintf(st.op_id, sizeof st.op_id, "alpha-start-1");
	snprintf(st.message, sizeof st.message, "all well");
	w = msg_pack_zone_status(&st);
	p = payload(w, &len);
	ck_assert_int_eq(unpack_any(p, len), 0);
	for (cut = 0; cut < len; cut++)
		parse_bad(p, cut, NULL);
	msgw_free(w);

	w = msg_pack_hello(&h);
	p = payload(w, &len);
	ck_assert_int_eq(unpack_any(p, len), 0);
	for (cut = 0; cut < len; cut++)
		parse_bad(p, cut, NULL);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_parse_refuses_trailing_bytes)
{
	unsigned char buf[256];
	struct msgw *w;
	const unsigned char *p;
	size_t len;

	w = msg_pack_empty(MSG_SHUTDOWN);
	p = payload(w, &len);
	ck_assert_uint_lt(len + 1, sizeof buf);
	memcpy(buf, p, len);
	buf[len] = 0xc0;
	parse_bad(buf, len + 1, "trailing");
	/* Two whole messages in one frame are no better. */
	memcpy(buf + len, p, len);
	parse_bad(buf, 2 * len, "trailing");
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_parse_refuses_invalid_type_byte)
{
	static const unsigned char alone[] = { 0xc1 };
	static const unsigned char inside[] = { 0x92, 0x01, 0xc1 };
	static const unsigned char as_key[] = { 0x81, 0xc1, 0x01 };

	parse_bad(alone, sizeof alone, "type byte");
	parse_bad(inside, sizeof inside, "type byte");
	parse_bad(as_key, sizeof as_key, "type byte");
}
END_TEST

/* The string msgw_utf8 packs from in, compared with want. */
static void
check_utf8(const char *in, size_t inlen, const char *want)
{
	struct msgw *w = msgw_new();
	const unsigned char *p;
	const struct mval *v;
	const char *cause = NULL, *s;
	struct mdoc *d;
	size_t len, slen;

	msgw_utf8(w, in, inlen);
	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_msg(d != NULL, "refused: %s", cause);
	v = mdoc_root(d);
	ck_assert_int_eq(mval_kind(v), MV_STR);
	s = mval_str(v, &slen);
	ck_assert_uint_eq(slen, strlen(want));
	ck_assert_mem_eq(s, want, slen);
	mdoc_free(d);
	msgw_free(w);
}

/* Console bytes reach clients as valid UTF-8: bad bytes become U+FFFD. */
START_TEST(test_msg_utf8_replaces_invalid_bytes)
{
	check_utf8("plain ascii", 11, "plain ascii");
	check_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check_utf8("a\xff" "b", 3, "a\xef\xbf\xbd" "b");
	/* a sequence cut short, an overlong form and a surrogate */
	check_utf8("x\xe2\x82", 3, "x\xef\xbf\xbd\xef\xbf\xbd");
	check_utf8("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	check_utf8("\xed\xa0\x80", 3,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	check_utf8("", 0, "");
}
END_TEST

START_TEST(test_msg_parse_depth_limit)
{
	unsigned char buf[MSG_MAX_DEPTH + 2];
	const char *cause = NULL;
	struct mdoc *d;

	/* MSG_MAX_DEPTH nested arrays around a nil: accepted. */
	memset(buf, 0x91, MSG_MAX_DEPTH);
	buf[MSG_MAX_DEPTH] = 0xc0;
	d = mdoc_parse(buf, MSG_MAX_DEPTH + 1, &cause);
	ck_assert_msg(d != NULL, "depth %d refused: %s", MSG_MAX_DEPTH, cause);
	mdoc_free(d);

	/* One more: refused, whatever max_depth a caller asks for. */
	memset(buf, 0x91, MSG_MAX_DEPTH + 1);
	buf[MSG_MAX_DEPTH + 1] = 0xc0;
	parse_bad(buf, sizeof buf, "nested");
	cause = NULL;
	ck_assert_int_eq(msg_check(buf, sizeof buf, MSG_MAX_DEPTH + 100,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_int_eq(msg_check(buf, sizeof buf, INT_MAX, &cause), -1);

	/* Maps count as containers too. */
	memset(buf, 0x91, MSG_MAX_DEPTH);
	buf[MSG_MAX_DEPTH] = 0x80;
	buf[MSG_MAX_DEPTH + 1] = 0xc0;
	parse_bad(buf, MSG_MAX_DEPTH + 1, NULL);
}
END_TEST

START_TEST(test_msg_parse_refuses_forged_counts)
{
	/* array32 of 2^32-1 elements in a 10-byte payload. */
	static const unsigned char array32[] = {
		0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05
	};
	static const unsigned char array16[] = {
		0xdc, 0xff, 0xff, 0x01, 0x02
	};
	static const unsigned char map32[] = {
		0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa1, 'k', 0x01, 0xa1, 'l', 0x02
	};
	static const unsigned char map16[] = {
		0xde, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04
	};
	static const unsigned char fixarray[] = { 0x93, 0x01, 0x02 };
	static const unsigned char fixmap_half[] = { 0x81, 0xa1, 'k' };
	static const unsigned char str32[] = {
		0xdb, 0x00, 0x01, 0x00, 0x00, 'a', 'b', 'c'
	};
	static const unsigned char str32_max[] = {
		0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c'
	};
	static const unsigned char str8[] = { 0xd9, 0x10, 'a', 'b' };
	static const unsigned char fixstr[] = { 0xa5, 'a', 'b' };
	static const unsigned char bin32[] = {
		0xc6, 0x7f, 0xff, 0xff, 0xff, 0x00
	};
	static const unsigned char ext32[] = {
		0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00
	};
	static const unsigned char fixext16[] = { 0xd8, 0x01, 0x00, 0x00 };
	static const unsigned char str32_hdr[] = { 0xdb, 0x00, 0x00 };
	static const unsigned char uint64_cut[] = { 0xcf, 0x00, 0x00, 0x00 };
	const char *cause = NULL;

	parse_bad(array32, sizeof array32, "count exceeds");
	parse_bad(array16, sizeof array16, "count exceeds");
	parse_bad(map32, sizeof map32, "count exceeds");
	parse_bad(map16, sizeof map16, NULL);
	parse_bad(fixarray, sizeof fixarray, NULL);
	parse_bad(fixmap_half, sizeof fixmap_half, NULL);
	parse_bad(str32, sizeof str32, "truncated");
	parse_bad(str32_max, sizeof str32_max, "truncated");
	parse_bad(str8, sizeof str8, "truncated");
	parse_bad(fixstr, sizeof fixstr, "truncated");
	parse_bad(bin32, sizeof bin32, "truncated");
	parse_bad(ext32, sizeof ext32, "truncated");
	parse_bad(fixext16, sizeof fixext16, "truncated");
	parse_bad(str32_hdr, sizeof str32_hdr, "truncated");
	parse_bad(uint64_cut, sizeof uint64_cut, "truncated");

	/* msg_check says the same without mdoc_parse in front of it. */
	ck_assert_int_eq(msg_check(array32, sizeof array32, MSG_MAX_DEPTH,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_ne(cause, "");
}
END_TEST

START_TEST(test_msg_check_accepts_every_type)
{
	/*
	 * [nil, false, true, 1, -1, u8..u64, i8..i64, f32, f64, str8, bin8,
	 * ext8, fixext1, fixext2, fixext4, [], {}, bin16, fixext8, fixext16,
	 * str16, str32, ext16, ext32, bin32, array16, map16, map32]
	 */
	static const unsigned char all[] = {
		0xdc, 0x00, 0x22,
		0xc0, 0xc2, 0xc3, 0x01, 0xff,
		0xcc, 0xff, 0xcd, 0xff, 0xff, 0xce, 0xff, 0xff, 0xff, 0xff,
		0xcf, 0, 0, 0, 0, 0, 0, 0, 1,
		0xd0, 0x80, 0xd1, 0x80, 0x00, 0xd2, 0x80, 0, 0, 0,
		0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0,
		0xca, 0x3f, 0xc0, 0, 0,
		0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
		0xd9, 0x02, 'h', 'i', 0xc4, 0x01, 0x00, 0xc7, 0x01, 0x05, 0x00,
		0xd4, 0x05, 0x00, 0xd5, 0x05, 0, 0, 0xd6, 0x05, 0, 0, 0, 0,
		0x90, 0x80, 0xc5, 0x00, 0x00,
		0xd7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
		0xd8, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xda, 0x00, 0x01, 'x', 0xdb, 0x00, 0x00, 0x00, 0x02, 'y', 'z',
		0xc8, 0x00, 0x01, 0x05, 0x00, 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00,
		0xc6, 0x00, 0x00, 0x00, 0x01, 0x00,
		0xdc, 0x00, 0x01, 0xc0, 0xde, 0x00, 0x01, 0xa1, 'k', 0xc0,
		0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 'l', 0xc3,
	};
	const char *cause = NULL;
	struct mdoc *d;
	double dbl;

	ck_assert_int_eq(msg_check(all, sizeof all, MSG_MAX_DEPTH, &cause), 0);
	d = mdoc_parse(all, sizeof all, &cause);
	ck_assert_msg(d != NULL, "refused: %s", cause);
	ck_assert_uint_eq(mval_len(mdoc_root(d)), 34);
	ck_assert_int_eq(mval_kind(mval_at(mdoc_root(d), 31)), MV_ARRAY);
	ck_assert_int_eq(mval_kind(mval_get(mval_at(mdoc_root(d), 33), "l")),
	    MV_BOOL);
	ck_assert_int_eq(mval_kind(mval_at(mdoc_root(d), 0)), MV_NIL);
	ck_assert_int_eq(mval_kind(mval_at(mdoc_root(d), 16)), MV_BIN);
	ck_assert_int_eq(mval_kind(mval_at(mdoc_root(d), 17)), MV_EXT);
	ck_assert_int_eq(mval_kind(mval_at(mdoc_root(d), 22)), MV_MAP);
	ck_assert_int_eq(mval_double(mval_at(mdoc_root(d), 13), &dbl), 0);
	ck_assert(dbl == 1.5);
	ck_assert_int_eq(mval_double(mval_at(mdoc_root(d), 14), &dbl), 0);
	ck_assert(dbl == 1.5);
	walk(mdoc_root(d), 0);
	mdoc_free(d);

	/* The depth argument is honoured below MSG_MAX_DEPTH too. */
	ck_assert_int_eq(msg_check("\x91\x91\xc0", 3, 2, &cause), 0);
	cause = NULL;
	ck_assert_int_eq(msg_check("\x91\x91\x91\xc0", 4, 2, &cause), -1);
	ck_assert_ptr_nonnull(cause);
}
END_TEST

/* Every valid message of the link, as built by a peer. */
static const struct field base_hello[] = {
	I(MSG_HELLO), I(PROTO_VERSION), S("alpha"), I(4242)
};
static const struct field base_zone_op[] = {
	I(MSG_ZONE_START), S("alpha-start-1"), S("operator-start"), I(0)
};
static const struct field base_status[] = {
	I(MSG_ZONE_STATUS), S("running"), S("running"), I(4242), I(1234),
	I(1700000000000), I(1700000000000), I(3), S("none"), S(""), B(1),
	S("none"), S(""), I(0), I(-1), I(0), S("alpha-start-1"), S("start"),
	S("operator-start"), S("finished"), S("none"), I(1700000000000),
	S("none"), S(""), I(0), I(1), I(0), I(1700000000000), I(3),
	S("GET /health: 200"), I(1700000000100),
	S("lifecycle.log: No space left on device"), I(2)
};
static const struct field base_op_done[] = {
	I(MSG_OP_DONE), S("alpha-start-1"), B(1), S("none"), S("")
};
static const struct field base_escalate[] = {
	I(MSG_ESCALATE), S("vm-process-missing"), S("gone"), I(1), I(0), I(5000),
	I(4242), I(99), S("none"), S(""), S("")
};

static const struct field base_health_result[] = {
	I(MSG_HEALTH_RESULT), S("alpha-health-1"), B(1), I(3), S("ok")
};

static const struct field base_zone_health[] = {
	I(MSG_ZONE_HEALTH), S("exec"), I(5000), I(1000), I(3), I(30000), S(""),
	S("/usr/local/bin/check-gateway --port 8080")
};

static const struct field base_lease_op[] = {
	I(MSG_LEASE_OP), S("alpha-lease-1"), S("acquire"), S(""), I(0),
	S("agent-1"), B(0)
};

#define LEASE_A	S("0123abcd-0000-4000-8000-000000000000"), I(0), I(20000), \
	S("active"), I(4242), I(99), S("agent-1"), I(1700000000000), I(0), \
	I(1700003600000), I(3600000)
#define LEASE_B	S("0123abcd-0000-4000-8000-000000000001"), I(1), I(20001), \
	S("quarantined"), I(4243), I(100), S(""), I(1700000000000), \
	I(1700000060000), I(1700003660000), I(3600000)
static const struct field base_lease_done[] = {
	I(MSG_LEASE_DONE), S("alpha-lease-1"), B(1), S(""), S("acquired"),
	LEASE_A
};

static const struct field base_leases[] = {
	I(MSG_LEASES), S("degraded"), S("1 of 2 slots quarantined"), I(2),
	LEASE_A, LEASE_B
};
#undef LEASE_A
#undef LEASE_B

static const struct {
	const struct field	*base;
	size_t			 n;
} bases[] = {
#define BASE(b) { b, sizeof b / sizeof b[0] }
	BASE(base_hello), BASE(base_zone_op), BASE(base_status),
	BASE(base_op_done), BASE(base_escalate), BASE(base_health_result),
	BASE(base_zone_health), BASE(base_lease_op), BASE(base_lease_done),
	BASE(base_leases),
#undef BASE
};

/* A base message with one field replaced, dropped or added. */
#define REPLACE	0
#define DROP	1	/* the last field */
#define EXTRA	2	/* an int after the last field */
static const struct {
	const char	*what;
	int		 base;		/* index into bases[] */
	int		 how;
	size_t		 index;
	struct field	 f;
} bad_fields[] = {
	{ "hello without pid", 0, DROP, 0, NIL },
	{ "hello with an extra field", 0, EXTRA, 0, NIL },
	{ "hello version as string", 0, REPLACE, 1, S("1") },
	{ "hello version > 2^32-1", 0, REPLACE, 1, I(INT64_C(4294967296)) },
	{ "hello zone as int", 0, REPLACE, 2, I(7) },
	{ "hello zone too long", 0, REPLACE, 2,
	    S("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm") },
	{ "hello negative pid", 0, REPLACE, 3, I(-1) },
	{ "hello pid > INT_MAX", 0, REPLACE, 3, I(INT64_C(2147483648)) },
	{ "zone op empty op_id", 1, REPLACE, 1, S("") },
	{ "zone op nil op_id", 1, REPLACE, 1, NIL },
	{ "zone op unknown trigger", 1, REPLACE, 2, S("operator-panic") },
	{ "zone op trigger upper case", 1, REPLACE, 2, S("OPERATOR-START") },
	{ "zone op trigger as int", 1, REPLACE, 2, I(1) },
	{ "zone op negative timeout", 1, REPLACE, 3, I(-1) },
	{ "zone op timeout as string", 1, REPLACE, 3, S("10s") },
	{ "zone op without timeout", 1, DROP, 0, NIL },
	{ "zone op with an extra field", 1, EXTRA, 0, NIL },
	{ "status unknown state", 2, REPLACE, 1, S("sleeping") },
	{ "status unknown desired state", 2, REPLACE, 2, S("Running") },
	{ "status negative pid", 2, REPLACE, 3, I(-1) },
	{ "status vm_start as string", 2, REPLACE, 4, S("1234") },
	{ "status negative since_ms", 2, REPLACE, 5, I(-1) },
	{ "status negative generation", 2, REPLACE, 7, I(-1) },
	{ "status unknown error", 2, REPLACE, 8, S("oops") },
	{ "status message as int", 2, REPLACE, 9, I(3) },
	{ "status eligible as int", 2, REPLACE, 10, I(1) },
	{ "status unknown evidence", 2, REPLACE, 11, S("hunch") },
	{ "status evidence detail as int", 2, REPLACE, 12, I(1) },
	{ "status restarts > 2^32-1", 2, REPLACE, 13, I(INT64_C(4294967296)) },
	{ "status exit_code 300", 2, REPLACE, 14, I(300) },
	{ "status exit_code -2", 2, REPLACE, 14, I(-2) },
	{ "status exit_signal 129", 2, REPLACE, 15, I(129) },
	{ "status negative exit_signal", 2, REPLACE, 15, I(-1) },
	{ "status op_id as bool", 2, REPLACE, 16, B(0) },
	{ "status unknown operation", 2, REPLACE, 17, S("reboot") },
	{ "status unknown trigger", 2, REPLACE, 18, S("cron") },
	{ "status unknown op result", 2, REPLACE, 19, S("maybe") },
	{ "status unknown op error", 2, REPLACE, 20, S("whoops") },
	{ "status negative op time", 2, REPLACE, 21, I(-5) },
	{ "status unknown outage", 2, REPLACE, 22, S("gremlins") },
	{ "status negative outage time", 2, REPLACE, 24, I(-1) },
	{ "status health ok 2", 2, REPLACE, 25, I(2) },
	{ "status health ok -2", 2, REPLACE, 25, I(-2) },
	{ "status negative health failures", 2, REPLACE, 26, I(-1) },
	{ "status negative health latency", 2, REPLACE, 28, I(-1) },
	{ "status health detail as int", 2, REPLACE, 29, I(0) },
	{ "status negative persistence time", 2, REPLACE, 30, I(-1) },
	{ "status persistence cause as int", 2, REPLACE, 31, I(0) },
	{ "status degraded without a cause", 2, REPLACE, 31, S("") },
	{ "status cause while ok", 2, REPLACE, 30, I(0) },
	{ "status negative records_lost", 2, REPLACE, 32, I(-1) },
	{ "status records_lost > 2^32-1", 2, REPLACE, 32,
	    I(INT64_C(4294967296)) },
	{ "status without records_lost", 2, DROP, 0, NIL },
	{ "status with an extra field", 2, EXTRA, 0, NIL },
	{ "op done ok as int", 3, REPLACE, 2, I(1) },
	{ "op done unknown error", 3, REPLACE, 3, S("nope") },
	{ "op done without message", 3, DROP, 0, NIL },
	{ "op done with an extra field", 3, EXTRA, 0, NIL },
	{ "escalate unknown error", 4, REPLACE, 1, S("none-such") },
	{ "escalate error nil", 4, REPLACE, 1, NIL },
	{ "escalate exit_code 300", 4, REPLACE, 3, I(300) },
	{ "escalate exit_signal 129", 4, REPLACE, 4, I(129) },
	{ "escalate negative uptime", 4, REPLACE, 5, I(-1) },
	{ "escalate negative vm pid", 4, REPLACE, 6, I(-4) },
	{ "escalate unknown evidence", 4, REPLACE, 8, S("rumour") },
	{ "escalate without acted", 4, DROP, 0, NIL },
	{ "escalate acted as int", 4, REPLACE, 10, I(3) },
	{ "escalate with an extra field", 4, EXTRA, 0, NIL },
	{ "health result ok as int", 5, REPLACE, 2, I(1) },
	{ "health result negative latency", 5, REPLACE, 3, I(-1) },
	{ "health result detail as int", 5, REPLACE, 4, I(0) },
	{ "health result without detail", 5, DROP, 0, NIL },
	{ "health result with an extra field", 5, EXTRA, 0, NIL },
	{ "zone health unknown probe", 6, REPLACE, 1, S("ping") },
	{ "zone health probe as int", 6, REPLACE, 1, I(1) },
	{ "zone health probe nil", 6, REPLACE, 1, NIL },
	{ "zone health interval 9ms", 6, REPLACE, 2, I(9) },
	{ "zone health interval as string", 6, REPLACE, 2, S("5s") },
	{ "zone health timeout 9ms", 6, REPLACE, 3, I(9) },
	{ "zone health timeout = interval", 6, REPLACE, 3, I(5000) },
	{ "zone health timeout > interval", 6, REPLACE, 3, I(6000) },
	{ "zone health failure threshold 0", 6, REPLACE, 4, I(0) },
	{ "zone health failure threshold 1001", 6, REPLACE, 4, I(1001) },
	{ "zone health negative start period", 6, REPLACE, 5, I(-1) },
	{ "zone health http_path for exec", 6, REPLACE, 6, S("/health") },
	{ "zone health http_path as int", 6, REPLACE, 6, I(0) },
	{ "zone health exec probe without exec", 6, REPLACE, 7, S("") },
	{ "zone health exec as int", 6, REPLACE, 7, I(0) },
	{ "zone health without exec", 6, DROP, 0, NIL },
	{ "zone health with an extra field", 6, EXTRA, 0, NIL },
	{ "lease op unknown op", 7, REPLACE, 2, S("borrow") },
	{ "lease op list on the link", 7, REPLACE, 2, S("list") },
	{ "lease op op as int", 7, REPLACE, 2, I(0) },
	{ "lease op empty id", 7, REPLACE, 1, S("") },
	{ "lease op renew without a lease", 7, REPLACE, 2, S("renew") },
	{ "lease op ttl below 1000 ms", 7, REPLACE, 4, I(LEASE_TTL_MIN_MS - 1) },
	{ "lease op ttl above 24 h", 7, REPLACE, 4, I(LEASE_TTL_MAX_MS + 1) },
	{ "lease op negative ttl", 7, REPLACE, 4, I(-1000) },
	{ "lease op owner too long", 7, REPLACE, 5,
	    S("o123456789o123456789o123456789o123456789o123456789o123456789o1234") },
	{ "lease op force as int", 7, REPLACE, 6, I(1) },
	{ "lease op without force", 7, DROP, 0, NIL },
	{ "lease op with an extra field", 7, EXTRA, 0, NIL },
	{ "lease done empty id", 8, REPLACE, 1, S("") },
	{ "lease done failed without code", 8, REPLACE, 2, B(0) },
	{ "lease done ok as int", 8, REPLACE, 2, I(1) },
	{ "lease done lease id too long", 8, REPLACE, 5,
	    S("0123abcd-0000-4000-8000-0000000000000") },
	{ "lease done negative slot", 8, REPLACE, 6, I(-1) },
	{ "lease done port 70000", 8, REPLACE, 7, I(70000) },
	{ "lease done unknown lease state", 8, REPLACE, 8, S("leased") },
	{ "lease done negative pid", 8, REPLACE, 9, I(-1) },
	{ "lease done negative expiry", 8, REPLACE, 14, I(-1) },
	{ "lease done ttl above 24 h", 8, REPLACE, 15, I(LEASE_TTL_MAX_MS + 1) },
	{ "lease done without ttl", 8, DROP, 0, NIL },
	{ "lease done with an extra field", 8, EXTRA, 0, NIL },
	{ "leases unknown plane", 9, REPLACE, 1, S("fine") },
	{ "leases plane nil", 9, REPLACE, 1, NIL },
	{ "leases count 3 for 2 leases", 9, REPLACE, 3, I(3) },
	{ "leases count 1 for 2 leases", 9, REPLACE, 3, I(1) },
	{ "leases negative count", 9, REPLACE, 3, I(-1) },
	{ "leases count as string", 9, REPLACE, 3, S("2") },
	{ "leases negative slot", 9, REPLACE, 5, I(-1) },
	{ "leases port 70000", 9, REPLACE, 6, I(70000) },
	{ "leases second lease unknown state", 9, REPLACE, 18, S("gone") },
	{ "leases second lease owner as int", 9, REPLACE, 21, I(7) },
	{ "leases without the last field", 9, DROP, 0, NIL },
	{ "leases with an extra field", 9, EXTRA, 0, NIL },
};

START_TEST(test_msg_unpack_accepts_bases)
{
	const unsigned char *p;
	struct msgw *w;
	size_t len;

	/* So that each refusal below is due to its one change. */
	w = build(bases[_i].base, bases[_i].n);
	p = payload(w, &len);
	ck_assert_int_eq(unpack_any(p, len), 0);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_unpack_refuses_bad_fields)
{
	struct field f[NFIELDS];
	const unsigned char *p;
	struct msgw *w;
	size_t n, len;

	n = bases[bad_fields[_i].base].n;
	memcpy(f, bases[bad_fields[_i].base].base, n * sizeof f[0]);
	switch (bad_fields[_i].how) {
	case REPLACE:
		ck_assert_uint_lt(bad_fields[_i].index, n);
		f[bad_fields[_i].index] = bad_fields[_i].f;
		break;
	case DROP:
		n--;
		break;
	case EXTRA:
		f[n++] = (struct field)I(0);
		break;
	}
	w = build(f, n);
	p = payload(w, &len);
	ck_assert_msg(unpack_any(p, len) != 0, "%s: accepted",
	    bad_fields[_i].what);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_unpack_refuses_long_strings)
{
	struct field f[NFIELDS];
	const unsigned char *p;
	struct msgw *w;
	size_t len;
	char *s;

	/* A message of MESSAGE_MAX bytes does not fit its buffer. */
	memcpy(f, base_status, sizeof base_status);
	s = repeat('m', MESSAGE_MAX);
	f[9] = (struct field)S(s);
	w = build(f, sizeof base_status / sizeof base_status[0]);
	p = payload(w, &len);
	ck_assert_int_ne(unpack_any(p, len), 0);
	msgw_free(w);
	free(s);

	/* Nor an operation id of OP_ID_MAX bytes. */
	memcpy(f, base_zone_op, sizeof base_zone_op);
	s = repeat('o', OP_ID_MAX);
	f[1] = (struct field)S(s);
	w = build(f, sizeof base_zone_op / sizeof base_zone_op[0]);
	p = payload(w, &len);
	ck_assert_int_ne(unpack_any(p, len), 0);
	msgw_free(w);
	free(s);

	/* A NUL inside a string would cut it short: refused. */
	w = msgw_new();
	msgw_array_begin(w);
	msgw_int(w, MSG_OP_DONE);
	msgw_strn(w, "alpha\0-start-1", 14);
	msgw_bool(w, 1);
	msgw_str(w, "none");
	msgw_str(w, "");
	msgw_array_end(w);
	p = payload(w, &len);
	ck_assert_int_ne(unpack_any(p, len), 0);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_open_refuses_non_messages)
{
	struct msgw *w;
	struct mdoc *d;
	struct msgr r;
	const unsigned char *p;
	const char *cause;
	size_t len, i;
	int type;

	for (i = 0; i < 7; i++) {
		w = msgw_new();
		switch (i) {
		case 0:			/* a map, not an array */
			msgw_map_begin(w);
			msgw_str(w, "type");
			msgw_int(w, MSG_HELLO);
			msgw_map_end(w);
			break;
		case 1:			/* a bare integer */
			msgw_int(w, MSG_HELLO);
			break;
		case 2:			/* a string */
			msgw_str(w, "hello");
			break;
		case 3:			/* an empty array */
			msgw_array_begin(w);
			msgw_array_end(w);
			break;
		case 4:			/* type as a string */
			msgw_array_begin(w);
			msgw_str(w, "1");
			msgw_int(w, 1);
			msgw_array_end(w);
			break;
		case 5:			/* negative type */
			msgw_array_begin(w);
			msgw_int(w, -1);
			msgw_array_end(w);
			break;
		case 6:			/* type beyond int */
			msgw_array_begin(w);
			msgw_int(w, INT64_C(4294967297));
			msgw_array_end(w);
			break;
		}
		p = payload(w, &len);
		d = mdoc_parse(p, len, &cause);
		ck_assert_ptr_nonnull(d);
		type = -7;
		ck_assert_msg(msg_open(d, &r, &type) == -1,
		    "case %zu opened as type %d", i, type);
		mdoc_free(d);
		msgw_free(w);
	}
}
END_TEST

START_TEST(test_msg_writer_nested)
{
	const struct mval *root, *a, *inner, *v;
	const unsigned char *p;
	const char *cause, *s;
	struct msgw *w;
	struct mdoc *d;
	int64_t i;
	double dbl;
	size_t len;
	int b;

	w = msgw_new();
	msgw_map_begin(w);
	msgw_str(w, "a");
	msgw_array_begin(w);
	msgw_int(w, 1);
	msgw_str(w, "x");
	msgw_map_begin(w);
	msgw_str(w, "b");
	msgw_bool(w, 1);
	msgw_map_end(w);
	msgw_array_end(w);
	msgw_str(w, "c");
	msgw_nil(w);
	msgw_str(w, "d");
	msgw_double(w, 1.5);
	msgw_str(w, "e");
	msgw_int(w, -7);
	msgw_str(w, "f");
	msgw_str(w, NULL);	/* packs nil */
	msgw_map_end(w);
	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_ptr_nonnull(d);

	root = mdoc_root(d);
	ck_assert_int_eq(mval_kind(root), MV_MAP);
	ck_assert_uint_eq(mval_len(root), 5);
	ck_assert_ptr_nonnull(s = mval_str(mval_key(root, 0), &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(s[0], 'a');
	ck_assert_ptr_null(mval_key(root, 5));
	ck_assert_ptr_null(mval_val(root, 5));
	ck_assert_ptr_null(mval_at(root, 0));	/* a map is no array */

	ck_assert_ptr_nonnull(a = mval_get(root, "a"));
	ck_assert_int_eq(mval_kind(a), MV_ARRAY);
	ck_assert_uint_eq(mval_len(a), 3);
	ck_assert_int_eq(mval_int(mval_at(a, 0), &i), 0);
	ck_assert_int_eq(i, 1);
	ck_assert_ptr_nonnull(s = mval_str(mval_at(a, 1), &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(s[0], 'x');
	ck_assert_ptr_null(mval_at(a, 3));
	ck_assert_ptr_null(mval_get(a, "b"));	/* an array is no map */
	inner = mval_at(a, 2);
	ck_assert_int_eq(mval_kind(inner), MV_MAP);
	ck_assert_ptr_nonnull(v = mval_get(inner, "b"));
	ck_assert_int_eq(mval_bool(v, &b), 0);
	ck_assert_int_eq(b, 1);

	ck_assert_ptr_nonnull(v = mval_get(root, "c"));
	ck_assert_int_eq(mval_kind(v), MV_NIL);
	ck_assert_ptr_nonnull(v = mval_get(root, "d"));
	ck_assert_int_eq(mval_double(v, &dbl), 0);
	ck_assert(dbl == 1.5);
	ck_assert_int_eq(mval_int(v, &i), -1);	/* a float is no integer */
	ck_assert_ptr_nonnull(v = mval_get(root, "e"));
	ck_assert_int_eq(mval_int(v, &i), 0);
	ck_assert_int_eq(i, -7);
	ck_assert_int_eq(mval_bool(v, &b), -1);
	ck_assert_ptr_null(mval_str(v, &len));
	ck_assert_ptr_nonnull(v = mval_get(root, "f"));
	ck_assert_int_eq(mval_kind(v), MV_NIL);
	ck_assert_ptr_null(mval_get(root, "missing"));
	ck_assert_ptr_null(mval_get(root, ""));
	ck_assert_ptr_null(mval_get(root, "aa"));
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_writer_large_counts)
{
	const unsigned char *p;
	const char *cause;
	struct msgw *w;
	struct mdoc *d;
	char key[16];
	int64_t v;
	size_t len;
	int k;

	/* More elements than a fixarray or fixmap header can count. */
	w = msgw_new();
	msgw_map_begin(w);
	for (k = 0; k < 40; k++) {
		snprintf(key, sizeof key, "k%d", k);
		msgw_str(w, key);
		msgw_array_begin(w);
		msgw_array_end(w);
	}
	msgw_str(w, "list");
	msgw_array_begin(w);
	for (k = 0; k < 70000; k++)
		msgw_int(w, k);
	msgw_array_end(w);
	msgw_map_end(w);
	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(mval_len(mdoc_root(d)), 41);
	ck_assert_uint_eq(mval_len(mval_get(mdoc_root(d), "k39")), 0);
	ck_assert_uint_eq(mval_len(mval_get(mdoc_root(d), "list")), 70000);
	ck_assert_int_eq(mval_int(mval_at(mval_get(mdoc_root(d), "list"),
	    69999), &v), 0);
	ck_assert_int_eq(v, 69999);
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_writer_deepest_nesting)
{
	const struct mval *v;
	const unsigned char *p;
	const char *cause;
	struct msgw *w;
	struct mdoc *d;
	size_t len;
	int k;

	/* The writer's limit and the reader's limit agree. */
	w = msgw_new();
	for (k = 0; k < MSG_MAX_DEPTH; k++)
		msgw_array_begin(w);
	msgw_int(w, 42);
	for (k = 0; k < MSG_MAX_DEPTH; k++)
		msgw_array_end(w);
	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_msg(d != NULL, "refused: %s", cause);
	v = mdoc_root(d);
	for (k = 0; k < MSG_MAX_DEPTH; k++)
		v = mval_at(v, 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(mval_kind(v), MV_INT);
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_writer_int_extremes)
{
	static const int64_t values[] = {
		0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768,
		-32769, INT64_C(4294967295), INT64_C(4294967296), INT64_MAX,
		INT64_MIN,
	};
	const unsigned char *p;
	const char *cause;
	struct msgw *w;
	struct mdoc *d;
	int64_t v;
	size_t i, len;

	w = msgw_new();
	msgw_array_begin(w);
	for (i = 0; i < sizeof values / sizeof values[0]; i++)
		msgw_int(w, values[i]);
	msgw_array_end(w);
	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		ck_assert_int_eq(mval_int(mval_at(mdoc_root(d), i), &v), 0);
		ck_assert_int_eq(v, values[i]);
	}
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_mval_int_refuses_uint64)
{
	static const unsigned char big[] = {
		0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	static const unsigned char just_over[] = {
		0xcf, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
	};
	static const unsigned char max[] = {
		0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	const char *cause = NULL;
	struct mdoc *d;
	double dbl;
	int64_t v;

	d = mdoc_parse(big, sizeof big, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(mval_kind(mdoc_root(d)), MV_INT);
	v = 42;
	ck_assert_int_eq(mval_int(mdoc_root(d), &v), -1);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(mval_double(mdoc_root(d), &dbl), -1);
	mdoc_free(d);

	d = mdoc_parse(just_over, sizeof just_over, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(mval_int(mdoc_root(d), &v), -1);
	mdoc_free(d);

	d = mdoc_parse(max, sizeof max, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(mval_int(mdoc_root(d), &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	mdoc_free(d);
}
END_TEST

/*
 * A document outlives the buffer it was parsed from: zonectl's reader moves
 * the next frame over the bytes of the one it just parsed (events -f).
 */
START_TEST(test_msg_doc_outlives_its_buffer)
{
	struct msgw *w = msgw_new();
	const unsigned char *p;
	const char *cause = NULL, *s;
	struct mdoc *doc;
	size_t len, slen;
	char *buf;

	msgw_map_begin(w);
	msgw_key(w, "zone");
	msgw_key(w, "alpha-with-a-longer-name");
	msgw_map_end(w);
	p = payload(w, &len);
	buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, p, len);
	doc = mdoc_parse(buf, len, &cause);
	ck_assert_msg(doc != NULL, "%s", cause);
	memset(buf, 'X', len);
	free(buf);
	s = mval_str(mval_get(mdoc_root(doc), "zone"), &slen);
	ck_assert_uint_eq(slen, strlen("alpha-with-a-longer-name"));
	ck_assert_int_eq(memcmp(s, "alpha-with-a-longer-name", slen), 0);
	mdoc_free(doc);
	msgw_free(w);
}
END_TEST

/*
 * The in-place reader (zonectl --json status) sees the same values the
 * decoder does, and refuses bytes that run past the end.
 */
START_TEST(test_msg_raw_reader)
{
	struct msgw *w = msgw_new();
	const unsigned char *p;
	struct mitem it;
	size_t len, off = 0, cut;

	msgw_map_begin(w);
	msgw_key(w, "n");
	msgw_int(w, INT64_MIN);
	msgw_key(w, "u");
	msgw_int(w, 70000);
	msgw_key(w, "s");
	msgw_key(w, "hello");
	msgw_key(w, "a");
	msgw_array_begin(w);
	msgw_bool(w, 1);
	msgw_nil(w);
	msgw_double(w, 2.5);
	msgw_array_end(w);
	msgw_map_end(w);
	p = payload(w, &len);
	ck_assert_int_eq(mraw_get(p, len, "u", &off), 0);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert_int_eq(it.kind, MV_INT);
	ck_assert_int_eq(it.i, 70000);
	ck_assert_int_eq(mraw_get(p, len, "n", &off), 0);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert(it.i == INT64_MIN);
	ck_assert_int_eq(mraw_get(p, len, "s", &off), 0);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert_int_eq(it.kind, MV_STR);
	ck_assert_int_eq(memcmp(it.s, "hello", 5), 0);
	ck_assert_int_eq(mraw_get(p, len, "a", &off), 0);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert_int_eq(it.kind, MV_ARRAY);
	ck_assert_uint_eq(it.len, 3);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert_int_eq(it.kind, MV_BOOL);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert_int_eq(it.kind, MV_NIL);
	ck_assert_int_eq(mraw_item(p, len, &off, &it), 0);
	ck_assert(it.kind == MV_FLOAT && it.d == 2.5);
	ck_assert_uint_eq(off, len);
	ck_assert_int_eq(mraw_get(p, len, "missing", &off), 1);
	/* Every truncation is refused somewhere, never read past. */
	for (cut = 0; cut < len; cut++) {
		off = 0;
		ck_assert_int_eq(mraw_skip(p, cut, &off, MSG_MAX_DEPTH), -1);
	}
	msgw_free(w);
}
END_TEST

START_TEST(test_msg_mval_strcpy_limits)
{
	const struct mval *root;
	const unsigned char *p;
	const char *cause, *s;
	struct msgw *w;
	struct mdoc *d;
	char buf[8];
	size_t len;
	char *dup;

	w = msgw_new();
	msgw_array_begin(w);
	msgw_str(w, "abcd");
	msgw_strn(w, "ab\0cd", 5);
	msgw_str(w, "");
	msgw_int(w, 5);
	msgw_array_end(w);
	p = payload(w, &len);
	d = mdoc_parse(p, len, &cause);
	ck_assert_ptr_nonnull(d);
	root = mdoc_root(d);

	/* Exactly fits (with its NUL), then one byte too small. */
	memset(buf, 'z', sizeof buf);
	ck_assert_int_eq(mval_strcpy(mval_at(root, 0), buf, 5), 0);
	ck_assert_str_eq(buf, "abcd");
	memset(buf, 'z', sizeof buf);
	ck_assert_int_eq(mval_strcpy(mval_at(root, 0), buf, 4), -1);
	ck_assert_int_eq(buf[4], 'z');	/* nothing written past size */

	/* An embedded NUL is refused by both copies, seen by mval_str. */
	ck_assert_int_eq(mval_strcpy(mval_at(root, 1), buf, sizeof buf), -1);
	ck_assert_ptr_null(mval_strdup(mval_at(root, 1)));
	ck_assert_ptr_nonnull(s = mval_str(mval_at(root, 1), &len));
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(memcmp(s, "ab\0cd", 5), 0);

	/* The empty string copies, even into one byte. */
	ck_assert_int_eq(mval_strcpy(mval_at(root, 2), buf, 1), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_ptr_nonnull(dup = mval_strdup(mval_at(root, 2)));
	ck_assert_str_eq(dup, "");
	free(dup);

	/* An integer is no string. */
	ck_assert_int_eq(mval_strcpy(mval_at(root, 3), buf, sizeof buf), -1);
	ck_assert_ptr_null(mval_strdup(mval_at(root, 3)));
	ck_assert_ptr_nonnull(dup = mval_strdup(mval_at(root, 0)));
	ck_assert_str_eq(dup, "abcd");
	free(dup);
	mdoc_free(d);
	msgw_free(w);
}
END_TEST

/* Where the exit tests keep their writer, so it is not reported leaked. */
static struct msgw *fatal_w;

START_TEST(test_msg_writer_unclosed_frame_is_fatal)
{
	size_t len;

	/* A bug in a pack function must not put a broken frame on the wire. */
	(void)freopen("/dev/null", "w", stderr);	/* fatalx() logs */
	fatal_w = msgw_new();
	msgw_array_begin(fatal_w);
	msgw_int(fatal_w, MSG_HELLO);
	(void)msgw_frame(fatal_w, &len);
}
END_TEST

START_TEST(test_msg_writer_two_objects_is_fatal)
{
	size_t len;

	(void)freopen("/dev/null", "w", stderr);
	fatal_w = msgw_new();
	msgw_int(fatal_w, 1);
	msgw_int(fatal_w, 2);
	(void)msgw_frame(fatal_w, &len);
}
END_TEST

START_TEST(test_msg_fuzz_random_bytes)
{
	unsigned char buf[64];
	const char *cause;
	struct mdoc *d;
	size_t len, j;
	int k, parsed = 0;

	srand(1);
	for (k = 0; k < 20000; k++) {
		len = (size_t)rand() % (sizeof buf + 1);
		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)rand();
		cause = NULL;
		d = mdoc_parse(buf, len, &cause);
		if (d == NULL) {
			ck_assert_msg(cause != NULL && *cause != '\0',
			    "refused without cause");
			continue;
		}
		parsed++;
		ck_assert_int_eq(msg_check(buf, len, MSG_MAX_DEPTH, &cause), 0);
		walk(mdoc_root(d), 0);
		mdoc_free(d);
		(void)unpack_any(buf, len);
	}
	/* Some must parse, or the loop tests nothing past the first byte. */
	ck_assert_int_gt(parsed, 0);
}
END_TEST

START_TEST(test_msg_fuzz_mutated_status)
{
	unsigned char buf[512];
	const unsigned char *p;
	struct zone_status st;
	const char *cause;
	struct msgw *w;
	struct mdoc *d;
	size_t len, n;
	int k, flips, parsed = 0;

	/* Corrupt a real status a few bytes at a time: nearer misses. */
	memset(&st, 0, sizeof st);
	st.state = ZS_FAILED;
	st.desired = ZS_RUNNING;
	st.pid = 4242;
	st.vm_start = 99999;
	st.since_ms = 1700000000000;
	st.error = ERR_VM_START_FAILED;
	st.exit_code = 3;
	snprintf(st.op_id, sizeof st.op_id, "alpha-start-1");
	snprintf(st.message, sizeof st.message, "exited with status 3");
	w = msg_pack_zone_status(&st);
	p = payload(w, &len);
	ck_assert_uint_le(len, sizeof buf);

	srand(1);
	for (k = 0; k < 20000; k++) {
		memcpy(buf, p, len);
		n = len;
		for (flips = 1 + rand() % 3; flips > 0; flips--)
			buf[(size_t)rand() % len] = (unsigned char)rand();
		if (rand() % 4 == 0)
			n = (size_t)rand() % (len + 1);
		cause = NULL;
		if ((d = mdoc_parse(buf, n, &cause)) == NULL) {
			ck_assert_ptr_nonnull(cause);
			continue;
		}
		parsed++;
		walk(mdoc_root(d), 0);
		mdoc_free(d);
		(void)unpack_any(buf, n);
	}
	ck_assert_int_gt(parsed, 0);
	msgw_free(w);
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_msg_hello_round_trip);
	tcase_add_test(tc, test_msg_empty_round_trip);
	tcase_add_test(tc, test_msg_zone_op_round_trip);
	tcase_add_test(tc, test_msg_note_and_arm_round_trip);
	tcase_add_test(tc, test_msg_zone_status_round_trip);
	tcase_add_test(tc, test_msg_op_done_round_trip);
	tcase_add_test(tc, test_msg_escalate_round_trip);
	tcase_add_test(tc, test_msg_zone_health_round_trip);
	tcase_add_test(tc, test_msg_lease_op_round_trip);
	tcase_add_test(tc, test_msg_lease_done_round_trip);
	tcase_add_test(tc, test_msg_leases_round_trip);
	tcase_add_test(tc, test_msg_lease_names);
	tcase_add_test(tc, test_msg_parse_refuses_empty_and_truncated);
	tcase_add_test(tc, test_msg_parse_refuses_trailing_bytes);
	tcase_add_test(tc, test_msg_parse_refuses_invalid_type_byte);
	tcase_add_test(tc, test_msg_parse_depth_limit);
	tcase_add_test(tc, test_msg_utf8_replaces_invalid_bytes);
	tcase_add_test(tc, test_msg_parse_refuses_forged_counts);
	tcase_add_test(tc, test_msg_check_accepts_every_type);
	tcase_add_loop_test(tc, test_msg_unpack_accepts_bases, 0,
	    (int)(sizeof bases / sizeof bases[0]));
	tcase_add_loop_test(tc, test_msg_unpack_refuses_bad_fields, 0,
	    (int)(sizeof bad_fields / sizeof bad_fields[0]));
	tcase_add_test(tc, test_msg_unpack_refuses_long_strings);
	tcase_add_test(tc, test_msg_open_refuses_non_messages);
	tcase_add_test(tc, test_msg_writer_nested);
	tcase_add_test(tc, test_msg_writer_large_counts);
	tcase_add_test(tc, test_msg_writer_deepest_nesting);
	tcase_add_test(tc, test_msg_writer_int_extremes);
	tcase_add_test(tc, test_msg_mval_int_refuses_uint64);
	tcase_add_test(tc, test_msg_mval_strcpy_limits);
	tcase_add_test(tc, test_msg_doc_outlives_its_buffer);
	tcase_add_test(tc, test_msg_raw_reader);
	tcase_add_test(tc, test_msg_fuzz_random_bytes);
	tcase_add_test(tc, test_msg_fuzz_mutated_status);
	suite_add_tcase(s, tc);
	/*
	 * These end their process: tagged fork, so that a run without fork
	 * mode (scripts/valgrind) leaves them to a run with it.
	 */
	tc = tcase_create("fatal");
	tcase_set_tags(tc, "fork");
	tcase_add_exit_test(tc, test_msg_writer_unclosed_frame_is_fatal, 1);
	tcase_add_exit_test(tc, test_msg_writer_two_objects_is_fatal, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(msg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
