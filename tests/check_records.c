/*
 * check_records.c: a zone's lifecycle log (records.c).  These tests protect
 * what an operator reads after something went wrong: every record the worker
 * appended comes back field for field and in the order it was appended,
 * across rotations and across a crash; a record torn by a crash in mid-write
 * is ignored silently, while damage in the middle of a file is reported once
 * with the file and the offset where it starts and never hides the good
 * records after it; garbage never crashes the reader; a log that cannot be
 * written says so instead of pretending; and "zonectl events --follow" (the
 * tail reader) hands out every record exactly once, in order, including the
 * ones appended around a rotation.
 *
 * Some tests play the worker while the reader is busy: a record callback
 * (which records.c calls synchronously from inside a read) appends to the
 * log through a second writer, pinning down an interleaving that two real
 * processes can produce.
 *
 * Each test works in a fresh directory made with mkdtemp(3) inside one base
 * directory under /tmp; the test's teardown removes its directory, and
 * main() removes the base, so a failed test (whose forked process ends
 * without teardown) leaves nothing behind either.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <zlib.h>

#include "zonevisor.h"
#include "log.h"
#include "testdir.h"

#define LOG_NAME	"lifecycle.log"
#define SAMPLES		40	/* every kind, trigger, error and evidence */

/* A record and the strings it points to. */
struct sample {
	struct record	r;
	char		op_id[OP_ID_MAX];
	char		message[MESSAGE_MAX];
	char		detail[MESSAGE_MAX];
};

/* What a reader handed to the callbacks. */
struct seen {
	unsigned char	**rec;		/* copies of the payloads */
	size_t		 *len;
	size_t		  n;
	char		**problems;
	size_t		  nproblems;
	/* Run once from inside the next record callback, then cleared. */
	void		(*hook)(struct seen *);
	struct records	 *writer;	/* the hook's writer */
	int		  next;		/* the hook's next sample */
};

static Suite *records_suite(void);
static const char *rotated(const char *, int);
static void sample(int, struct sample *);
static size_t frame_len(const struct record *);
static void on_record(const void *, size_t, const struct mval *, void *);
static void on_problem(const char *, void *);
static void seen_reset(struct seen *);
static int64_t seq_at(const struct seen *, size_t);
static void expect_seqs(const struct seen *, const int *, size_t);
static void expect_run(const struct seen *, int, int);
static void expect_problem(const struct seen *, size_t, const char *,
    long long, const char *);
static void expect_str(const struct mval *, const char *, const char *, int);
static void expect_int(const struct mval *, const char *, int64_t, int);
static size_t expect_vm(const struct mval *, const char *,
    const struct vm_ident *, int);
static void expect_absent(const struct mval *, const char *, int);
static void expect_record(const unsigned char *, size_t,
    const struct record *, int);
static void append_sample(struct records *, int);
static void write_samples(const char *, int, int, int64_t, int, off_t *);
static unsigned char *slurp(const char *, size_t *);
static void spew(const char *, const void *, size_t, int);
static off_t file_size(const char *);
static size_t make_frame(const void *, uint32_t, unsigned char *);
static void read_log(const char *, int, struct seen *);
static void hook_append_two(struct seen *);
static void hook_rotate(struct seen *);

static const struct records_cbs cbs = { on_record, on_problem };

/* path.n, as rotation names it (a few at a time). */
static const char *
rotated(const char *path, int n)
{
	static char ring[4][PATH_MAX];
	static int next;
	char *p = ring[next++ % 4];

	if (snprintf(p, PATH_MAX, "%s.%d", path, n) >= PATH_MAX)
		ck_abort_msg("path too long: %s.%d", path, n);
	return p;
}

/*
 * Sample record i: its generation is i, so the order records come back in
 * can be read off them; the other fields vary with i so that every optional
 * field is both present and absent, and every kind, trigger (and none),
 * error and evidence kind appears within SAMPLES records.
 */
static void
sample(int i, struct sample *s)
{
	struct record *r = &s->r;

	memset(s, 0, sizeof *s);
	r->zone = "alpha";
	r->kind = i % REC__COUNT;
	r->observed_at_ms = INT64_C(1700000000000) + (int64_t)i * 1001;
	if (i % 4 != 3) {
		snprintf(s->op_id, sizeof s->op_id,
		    "alpha-restart-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1%02d",
		    i % 100);
		r->op_id = s->op_id;
	}
	r->trigger = i % (TRIG__COUNT + 1) - 1;
	r->supervisor_pid = 1000 + i;
	if (i % 2 == 1) {
		r->previous_vm.pid = 2000 + i;
		r->previous_vm.start_time = 5000000 + (uint64_t)i;
	}
	if (i % 3 != 0) {
		r->current_vm.pid = 3000 + i;
		r->current_vm.start_time = UINT64_C(6000000000) + (uint64_t)i;
	}
	r->error = i % ERR__COUNT;
	if (i % 5 == 3)
		r->message = "";
	else if (i % 5 != 4) {
		snprintf(s->message, sizeof s->message, "record %04d", i);
		r->message = s->message;
	}
	r->generation = (uint64_t)i;
	r->evidence = i % EVD__COUNT;
	if (i % 6 != 5) {
		snprintf(s->detail, sizeof s->detail, "detail of %d", i);
		r->detail = s->detail;
	}
}

/* Bytes a record takes in the log: 8-byte header and msgpack payload. */
static size_t
frame_len(const struct record *r)
{
	struct msgw *w = msg_pack_record(r);
	size_t len;

	msgw_frame(w, &len);
	msgw_free(w);
	return len - FRAME_HEADER + 8;
}

/* records_cbs.record: keep a copy of the payload; run a pending hook. */
static void
on_record(const void *p, size_t len, const struct mval *m, void *arg)
{
	struct seen *s = arg;
	void (*hook)(struct seen *) = s->hook;

	ck_assert_int_eq(mval_kind(m), MV_MAP);
	s->rec = realloc(s->rec, (s->n + 1) * sizeof *s->rec);
	s->len = realloc(s->len, (s->n + 1) * sizeof *s->len);
	ck_assert(s->rec != NULL && s->len != NULL);
	ck_assert_ptr_nonnull(s->rec[s->n] = malloc(len));
	memcpy(s->rec[s->n], p, len);
	s->len[s->n++] = len;
	if (hook != NULL) {
		s->hook = NULL;
		hook(s);
	}
}

/* records_cbs.problem: keep the text. */
static void
on_problem(const char *what, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_nonnull(what);
	s->problems = realloc(s->problems,
	    (s->nproblems + 1) * sizeof *s->problems);
	ck_assert_ptr_nonnull(s->problems);
	ck_assert_ptr_nonnull(s->problems[s->nproblems++] = strdup(what));
}

/* Forget what was seen (the hook state stays). */
static void
seen_reset(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->rec[i]);
	for (i = 0; i < s->nproblems; i++)
		free(s->problems[i]);
	free(s->rec);
	free(s->len);
	free(s->problems);
	s->rec = NULL;
	s->len = NULL;
	s->problems = NULL;
	s->n = s->nproblems = 0;
}

/* The generation (sample number) of the i-th record seen. */
static int64_t
seq_at(const struct seen *s, size_t i)
{
	const struct mval *v;
	const char *cause = NULL;
	struct mdoc *d;
	int64_t g = -1;

	ck_assert_uint_lt(i, s->n);
	d = mdoc_parse(s->rec[i], s->len[i], &cause);
	ck_assert_msg(d != NULL, "record %zu: %s", i, cause);
	v = mval_get(mdoc_root(d), "generation");
	ck_assert_msg(v != NULL && mval_int(v, &g) == 0,
	    "record %zu has no generation", i);
	mdoc_free(d);
	return g;
}

/* The records seen are exactly samples want[0..n-1], each intact. */
static void
expect_seqs(const struct seen *s, const int *want, size_t n)
{
	struct sample smp;
	char got[512], exp[512];
	size_t i, glen = 0, elen = 0;
	int same = s->n == n;

	got[0] = exp[0] = '\0';
	for (i = 0; i < s->n && glen < sizeof got - 32; i++) {
		glen += (size_t)snprintf(got + glen, sizeof got - glen, " %lld",
		    (long long)seq_at(s, i));
		if (i >= n || seq_at(s, i) != want[i])
			same = 0;
	}
	for (i = 0; i < n && elen < sizeof exp - 32; i++)
		elen += (size_t)snprintf(exp + elen, sizeof exp - elen, " %d",
		    want[i]);
	ck_assert_msg(same, "samples seen:%s; expected:%s", got, exp);
	for (i = 0; i < n; i++) {
		sample(want[i], &smp);
		expect_record(s->rec[i], s->len[i], &smp.r, want[i]);
	}
}

/* The records seen are exactly samples first..last, in order. */
static void
expect_run(const struct seen *s, int first, int last)
{
	int want[256];
	int i;

	ck_assert_int_le(last - first + 1, 256);
	for (i = first; i <= last; i++)
		want[i - first] = i;
	expect_seqs(s, want, (size_t)(last - first + 1));
}

/* Problem i names path, "offset off" and says why. */
static void
expect_problem(const struct seen *s, size_t i, const char *path,
    long long off, const char *why)
{
	char where[64];
	const char *p;

	ck_assert_uint_lt(i, s->nproblems);
	p = s->problems[i];
	snprintf(where, sizeof where, "offset %lld ", off);
	ck_assert_msg(strstr(p, where) != NULL, "problem \"%s\" lacks \"%s\"",
	    p, where);
	ck_assert_msg(strstr(p, path) != NULL, "problem \"%s\" lacks %s", p,
	    path);
	ck_assert_msg(strstr(p, why) != NULL, "problem \"%s\" lacks \"%s\"",
	    p, why);
}

/* Field key of map m is the string want, or nil when want is NULL. */
static void
expect_str(const struct mval *m, const char *key, const char *want, int idx)
{
	const struct mval *v = mval_get(m, key);
	const char *s;
	size_t len;

	ck_assert_msg(v != NULL, "sample %d: no %s", idx, key);
	if (want == NULL) {
		ck_assert_msg(mval_kind(v) == MV_NIL, "sample %d: %s not nil",
		    idx, key);
		return;
	}
	s = mval_str(v, &len);
	ck_assert_msg(s != NULL, "sample %d: %s is no string", idx, key);
	ck_assert_msg(len == strlen(want) && memcmp(s, want, len) == 0,
	    "sample %d: %s is \"%.*s\", expected \"%s\"", idx, key, (int)len,
	    s, want);
}

/* Field key of map m is the integer want. */
static void
expect_int(const struct mval *m, const char *key, int64_t want, int idx)
{
	const struct mval *v = mval_get(m, key);
	int64_t got;

	ck_assert_msg(v != NULL, "sample %d: no %s", idx, key);
	ck_assert_msg(mval_int(v, &got) == 0, "sample %d: %s is no integer",
	    idx, key);
	ck_assert_msg(got == want, "sample %d: %s is %lld, expected %lld",
	    idx, key, (long long)got, (long long)want);
}

/* Field key of map m is absent. */
static void
expect_absent(const struct mval *m, const char *key, int idx)
{
	ck_assert_msg(mval_get(m, key) == NULL, "sample %d: %s present", idx,
	    key);
}

/* A VM identity field: {pid, start_time}, absent for none; 1 if present. */
static size_t
expect_vm(const struct mval *m, const char *key, const struct vm_ident *vm,
    int idx)
{
	const struct mval *v;

	if (vm->pid == 0) {
		expect_absent(m, key, idx);
		return 0;
	}
	v = mval_get(m, key);
	ck_assert_msg(v != NULL, "sample %d: no %s", idx, key);
	ck_assert_int_eq(mval_kind(v), MV_MAP);
	ck_assert_uint_eq(mval_len(v), 2);
	expect_int(v, "pid", vm->pid, idx);
	expect_int(v, "start_time", (int64_t)vm->start_time, idx);
	return 1;
}

/* The payload holds every field of want and nothing else. */
static void
expect_record(const unsigned char *p, size_t len, const struct record *want,
    int idx)
{
	const struct mval *m, *v;
	const char *cause = NULL;
	struct mdoc *d;
	size_t keys = 7;

	d = mdoc_parse(p, len, &cause);
	ck_assert_msg(d != NULL, "sample %d: %s", idx, cause);
	m = mdoc_root(d);
	ck_assert_int_eq(mval_kind(m), MV_MAP);
	expect_str(m, "zone", want->zone, idx);
	expect_str(m, "kind", names_record(want->kind), idx);
	expect_int(m, "observed_at", want->observed_at_ms, idx);
	expect_str(m, "operation_id", want->op_id, idx);
	expect_str(m, "trigger", want->trigger >= 0 ?
	    names_trigger(want->trigger) : NULL, idx);
	expect_int(m, "supervisor_pid", want->supervisor_pid, idx);
	expect_int(m, "generation", (int64_t)want->generation, idx);
	keys += expect_vm(m, "previous_vm", &want->previous_vm, idx);
	keys += expect_vm(m, "current_vm", &want->current_vm, idx);
	if (want->error != ERR_NONE) {
		expect_str(m, "error_code", names_error(want->error), idx);
		keys++;
	} else
		expect_absent(m, "error_code", idx);
	if (want->message != NULL && want->message[0] != '\0') {
		expect_str(m, "error_message", want->message, idx);
		keys++;
	} else
		expect_absent(m, "error_message", idx);
	if (want->evidence != EVD_NONE) {
		v = mval_get(m, "evidence");
		ck_assert_msg(v != NULL, "sample %d: no evidence", idx);
		ck_assert_int_eq(mval_kind(v), MV_MAP);
		ck_assert_uint_eq(mval_len(v), 2);
		expect_str(v, "kind", names_evidence(want->evidence), idx);
		expect_str(v, "detail", want->detail, idx);
		keys++;
	} else
		expect_absent(m, "evidence", idx);
	ck_assert_msg(mval_len(m) == keys,
	    "sample %d: %zu fields, expected %zu", idx, mval_len(m), keys);
	mdoc_free(d);
}

/* Append sample i through r. */
static void
append_sample(struct records *r, int i)
{
	struct sample s;

	sample(i, &s);
	ck_assert_msg(records_append(r, &s.r) == 0, "append of sample %d", i);
}

/*
 * Append samples first..first+n-1 to the log at path through a writer of
 * its own, then sync and close it.  off[k] (when off is not NULL) gets the
 * file offset sample first+k was written at, which holds without rotation.
 */
static void
write_samples(const char *path, int first, int n, int64_t max_size, int keep,
    off_t *off)
{
	struct records r;
	int i;

	ck_assert_int_eq(records_open(&r, path, max_size, keep), 0);
	for (i = 0; i < n; i++) {
		if (off != NULL)
			off[i] = (off_t)r.size;
		append_sample(&r, first + i);
	}
	ck_assert_int_eq(records_sync(&r), 0);
	records_close(&r);
}

/* The whole of a file. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	unsigned char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		ck_abort_msg("open %s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(buf = malloc((size_t)sb.st_size + 1));
	ck_assert_int_eq(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

/* Write (or, with append, add) bytes to a file. */
static void
spew(const char *path, const void *data, size_t len, int append)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
	    0600);
	if (fd == -1)
		ck_abort_msg("open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* Size of a file, -1 if there is none. */
static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* A well-formed log frame (length, crc32 of length and payload, payload). */
static size_t
make_frame(const void *payload, uint32_t len, unsigned char *out)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	out[0] = (unsigned char)(len >> 24);
	out[1] = (unsigned char)(len >> 16);
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
	crc = crc32(crc, out, 4);
	crc = crc32(crc, payload, len);
	out[4] = (unsigned char)(crc >> 24);
	out[5] = (unsigned char)(crc >> 16);
	out[6] = (unsigned char)(crc >> 8);
	out[7] = (unsigned char)crc;
	memcpy(out + 8, payload, len);
	return 8 + (size_t)len;
}

/* records_read_all into s, which it must not fail. */
static void
read_log(const char *path, int keep, struct seen *s)
{
	ck_assert_int_eq(records_read_all(path, keep, &cbs, s), 0);
}

/* Hook: the worker appends the next two samples meanwhile. */
static void
hook_append_two(struct seen *s)
{
	append_sample(s->writer, s->next++);
	append_sample(s->writer, s->next++);
}

/* Hook: the worker appends the next sample meanwhile, which rotates. */
static void
hook_rotate(struct seen *s)
{
	append_sample(s->writer, s->next++);
}

START_TEST(test_records_round_trip_every_field)
{
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	struct stat sb;

	write_samples(path, 0, SAMPLES, 0, 3, NULL);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	read_log(path, 3, &s);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 0, SAMPLES - 1);
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_reopen_appends_after_existing)
{
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);

	/* A worker restart opens the log again and goes on appending. */
	write_samples(path, 0, 3, 0, 2, NULL);
	write_samples(path, 3, 2, 0, 2, NULL);
	read_log(path, 2, &s);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 0, 4);
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_reopen_counts_existing_size)
{
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	off_t size;

	/*
	 * The size cap holds across a restart: a writer opened on a full
	 * log rotates before its first append instead of growing it.
	 */
	write_samples(path, 0, 3, 0, 2, NULL);
	size = file_size(path);
	write_samples(path, 3, 1, (int64_t)size + 1, 2, NULL);
	ck_assert_int_eq(file_size(rotated(path, 1)), size);
	read_log(rotated(path, 1), 0, &s);
	expect_run(&s, 0, 2);
	seen_reset(&s);
	read_log(path, 0, &s);
	expect_run(&s, 3, 3);
	seen_reset(&s);
}
END_TEST

/* How a crash in mid-write leaves the end of the log. */
static const struct torn_case {
	const char	*name;
	/*
	 * 'c': cut n bytes off the end; 'l': leave only n bytes of the last
	 * record; 'g': append n bytes of garbage.
	 */
	char		 how;
	int		 n;
} torn_cases[] = {
	{ "last record cut by 1 byte", 'c', 1 },
	{ "last record cut by 5 bytes", 'c', 5 },
	{ "only 1 byte of the last record", 'l', 1 },
	{ "only the header of the last record", 'l', 8 },
	{ "header and 4 bytes of the last record", 'l', 12 },
	{ "1 byte of a new header", 'g', 1 },
	{ "3 bytes of a new header", 'g', 3 },
	{ "7 bytes of a new header", 'g', 7 },
};

START_TEST(test_records_torn_tail_ignored)
{
	static const unsigned char junk[] = { 0x00, 0x00, 0x01, 0x02, 0xde,
	    0xad, 0xbe };
	const struct torn_case *tc = &torn_cases[_i];
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	off_t off[4], size;

	write_samples(path, 0, 4, 0, 0, off);
	size = file_size(path);
	switch (tc->how) {
	case 'c':
		ck_assert_int_eq(truncate(path, size - tc->n), 0);
		break;
	case 'l':
		ck_assert_int_eq(truncate(path, off[3] + tc->n), 0);
		break;
	default:
		spew(path, junk, (size_t)tc->n, 1);
		break;
	}
	read_log(path, 0, &s);
	ck_assert_msg(s.nproblems == 0, "%s: problem \"%s\"", tc->name,
	    s.nproblems > 0 ? s.problems[0] : "");
	expect_run(&s, 0, tc->how == 'g' ? 3 : 2);
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_bad_checksum_at_end_is_torn)
{
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	unsigned char *buf;
	size_t len;
	off_t off[4];

	/* Full length, but its bytes never all reached the disk. */
	write_samples(path, 0, 4, 0, 0, off);
	buf = slurp(path, &len);
	buf[off[3] + 8 + (len - (size_t)off[3] - 8) / 2] ^= 0x40;
	spew(path, buf, len, 0);
	free(buf);
	read_log(path, 0, &s);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 0, 2);
	seen_reset(&s);
}
END_TEST

/* How a torn record from a crash and the records after a restart compare. */
static const struct restart_case {
	const char	*name;
	int		 after;		/* samples appended after the restart */
} restart_cases[] = {
	{ "later records longer than the torn one", 12 },
	{ "later record shorter than the torn one", 1 },
};

START_TEST(test_records_torn_tail_then_restart_keeps_new_records)
{
	const struct restart_case *rc = &restart_cases[_i];
	struct sample big;
	struct records r;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	char msg[MESSAGE_MAX];
	int want[32], i, n = 0;
	off_t torn;

	/*
	 * The worker crashes while appending a long record (an error
	 * message and evidence detail near MESSAGE_MAX), leaving its header
	 * and 4 bytes; the next worker appends more.  Every complete record,
	 * before the tear and after it, must be readable: the ones after the
	 * restart are what the operator looks for.
	 */
	write_samples(path, 0, 3, 0, 0, NULL);
	for (i = 0; i < 3; i++)
		want[n++] = i;
	torn = file_size(path);
	sample(99, &big);
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	big.r.message = msg;
	big.r.evidence = EVD_CLOSE_FAILED;
	big.r.detail = msg;
	ck_assert_int_eq(records_open(&r, path, 0, 0), 0);
	ck_assert_int_eq(records_append(&r, &big.r), 0);
	records_close(&r);
	ck_assert_int_eq(truncate(path, torn + 12), 0);

	ck_assert_int_eq(records_open(&r, path, 0, 0), 0);
	for (i = 0; i < rc->after; i++) {
		append_sample(&r, 10 + i);
		want[n++] = 10 + i;
	}
	records_close(&r);
	/* The case is what its name says: compare with the torn length. */
	ck_assert_msg((file_size(path) - torn > (off_t)frame_len(&big.r)) ==
	    (rc->after > 1), "%s: %lld bytes after the tear, torn record %zu",
	    rc->name, (long long)(file_size(path) - torn), frame_len(&big.r));
	read_log(path, 0, &s);
	ck_assert_msg(s.n == (size_t)n, "%s: %zu of %d records readable",
	    rc->name, s.n, n);
	expect_seqs(&s, want, (size_t)n);
	/* The tear, now in the middle, may be reported: once at most. */
	ck_assert_uint_le(s.nproblems, 1);
	if (s.nproblems == 1)
		expect_problem(&s, 0, path, (long long)torn, "corrupt");
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_corrupt_middle_reported)
{
	static const int want[] = { 0, 2, 3, 4 };
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	unsigned char *buf;
	size_t len;
	off_t off[5];

	write_samples(path, 0, 5, 0, 0, off);
	buf = slurp(path, &len);
	buf[off[1] + 8 + (off[2] - off[1] - 8) / 2] ^= 0x01;
	spew(path, buf, len, 0);
	free(buf);
	read_log(path, 0, &s);
	expect_seqs(&s, want, 4);
	ck_assert_uint_eq(s.nproblems, 1);
	expect_problem(&s, 0, path, (long long)off[1], "checksum");
	seen_reset(&s);
}
END_TEST

/* Lengths no record can have. */
static const uint32_t bad_lengths[] = { 0xffffffffu, 0, RECORD_MAX + 1 };

START_TEST(test_records_impossible_length_resyncs)
{
	static const int want[] = { 0, 2, 3, 4 };
	uint32_t bad = bad_lengths[_i];
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	unsigned char *buf;
	size_t len;
	off_t off[5];

	/* Reading resumes at the next frame whose checksum holds. */
	write_samples(path, 0, 5, 0, 0, off);
	buf = slurp(path, &len);
	buf[off[1]] = (unsigned char)(bad >> 24);
	buf[off[1] + 1] = (unsigned char)(bad >> 16);
	buf[off[1] + 2] = (unsigned char)(bad >> 8);
	buf[off[1] + 3] = (unsigned char)bad;
	spew(path, buf, len, 0);
	free(buf);
	read_log(path, 0, &s);
	expect_seqs(&s, want, 4);
	ck_assert_uint_eq(s.nproblems, 1);
	expect_problem(&s, 0, path, (long long)off[1], "impossible length");
	seen_reset(&s);
}
END_TEST

/* Damage in the middle of a log, as a restarting writer finds it. */
static const char *const middle_damage[] = { "checksum", "impossible length" };

START_TEST(test_records_reopen_leaves_damage_alone)
{
	static const int want[] = { 0, 2, 3, 4, 5 };
	struct seen s = { 0 };
	struct sample smp;
	const char *path = testdir_at(LOG_NAME);
	unsigned char *buf;
	size_t len;
	off_t off[5];

	/*
	 * Opening the log cuts a torn tail off; it must not take damage in
	 * the middle for one and cut the good records after it.
	 */
	write_samples(path, 0, 5, 0, 0, off);
	buf = slurp(path, &len);
	if (_i == 0)
		buf[off[1] + 8 + (off[2] - off[1] - 8) / 2] ^= 0x01;
	else
		memset(buf + off[1], 0xff, 4);
	spew(path, buf, len, 0);
	free(buf);
	write_samples(path, 5, 1, 0, 0, NULL);
	sample(5, &smp);
	ck_assert_int_eq(file_size(path), (off_t)(len + frame_len(&smp.r)));
	read_log(path, 0, &s);
	expect_seqs(&s, want, 5);
	ck_assert_uint_eq(s.nproblems, 1);
	expect_problem(&s, 0, path, (long long)off[1], middle_damage[_i]);
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_corrupt_rotated_file_named)
{
	static const int want[] = { 0, 2, 3, 4, 5, 6 };
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME), *old = rotated(path, 1);
	unsigned char *buf;
	size_t len;
	off_t off[5];

	write_samples(old, 0, 5, 0, 0, off);
	write_samples(path, 5, 2, 0, 0, NULL);
	buf = slurp(old, &len);
	buf[off[1] + 9] ^= 0x80;
	spew(old, buf, len, 0);
	free(buf);
	read_log(path, 2, &s);
	expect_seqs(&s, want, 6);
	ck_assert_uint_eq(s.nproblems, 1);
	expect_problem(&s, 0, old, (long long)off[1], "checksum");
	seen_reset(&s);
}
END_TEST

/* Payloads that pass the checksum but are no record. */
static const struct unreadable_case {
	const char		*name;
	unsigned char		 bytes[4];
	uint32_t		 len;
} unreadable_cases[] = {
	{ "an array", { 0x92, 0x01, 0x02 }, 3 },
	{ "a string", { 0xa3, 'a', 'b', 'c' }, 4 },
	{ "no msgpack", { 0xc1 }, 1 },
	{ "a truncated map", { 0x82, 0xa1, 'k' }, 3 },
};

START_TEST(test_records_unreadable_payload_reported)
{
	const struct unreadable_case *uc = &unreadable_cases[_i];
	static const int want[] = { 0, 1 };
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	unsigned char frame[16];
	size_t flen;
	off_t bad;

	write_samples(path, 0, 1, 0, 0, NULL);
	bad = file_size(path);
	flen = make_frame(uc->bytes, uc->len, frame);
	spew(path, frame, flen, 1);
	write_samples(path, 1, 1, 0, 0, NULL);
	read_log(path, 0, &s);
	expect_seqs(&s, want, 2);
	ck_assert_msg(s.nproblems == 1, "%s: %zu problems", uc->name,
	    s.nproblems);
	expect_problem(&s, 0, path, (long long)bad, "unreadable");
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_rotation_keeps_newest)
{
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	struct sample smp;
	size_t longest = 0;
	int i, k;

	for (i = 0; i < 30; i++) {
		sample(i, &smp);
		if (frame_len(&smp.r) > longest)
			longest = frame_len(&smp.r);
	}
	ck_assert_uint_lt(longest, 600);
	write_samples(path, 0, 30, 600, 2, NULL);
	ck_assert_int_gt(file_size(rotated(path, 1)), 0);
	ck_assert_int_gt(file_size(rotated(path, 2)), 0);
	ck_assert_int_eq(file_size(rotated(path, 3)), -1);
	ck_assert_int_le(file_size(path), 600 + (off_t)longest);
	for (k = 1; k <= 2; k++)
		ck_assert_int_le(file_size(rotated(path, k)),
		    600 + (off_t)longest);

	/* A reader asking for more files than there are gets the same. */
	for (k = 2; k <= 5; k += 3) {
		read_log(path, k, &s);
		ck_assert_uint_eq(s.nproblems, 0);
		ck_assert_uint_gt(s.n, 3);
		ck_assert_uint_lt(s.n, 30);	/* the oldest were dropped */
		expect_run(&s, 30 - (int)s.n, 29);
		seen_reset(&s);
	}
}
END_TEST

START_TEST(test_records_rotation_keep_zero_drops_old)
{
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);

	write_samples(path, 0, 30, 600, 0, NULL);
	ck_assert_int_eq(file_size(rotated(path, 1)), -1);
	ck_assert_int_le(file_size(path), 600);
	read_log(path, 2, &s);
	ck_assert_uint_eq(s.nproblems, 0);
	ck_assert_uint_gt(s.n, 0);
	ck_assert_uint_lt(s.n, 30);
	expect_run(&s, 30 - (int)s.n, 29);
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_sync)
{
	struct records r;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);

	ck_assert_int_eq(records_open(&r, path, 0, 0), 0);
	ck_assert_int_eq(records_sync(&r), 0);		/* nothing yet */
	append_sample(&r, 0);
	ck_assert_int_eq(r.dirty, 1);
	ck_assert_int_eq(records_sync(&r), 0);
	ck_assert_int_eq(r.dirty, 0);
	ck_assert_int_eq(records_sync(&r), 0);		/* nothing new */
	ck_assert_int_eq(r.dirty, 0);
	/* Readable by another process while the writer keeps it open. */
	read_log(path, 0, &s);
	expect_run(&s, 0, 0);
	seen_reset(&s);
	records_close(&r);
	ck_assert_int_eq(r.fd, -1);
}
END_TEST

/* The tail reader across the writer's rotation, for each keep. */
static const int tail_keeps[] = { 0, 1, 2 };

START_TEST(test_records_tail_follows_appends_and_rotation)
{
	int keep = tail_keeps[_i];
	struct records_tail t;
	struct records w;
	struct seen s = { 0 };
	struct sample smp;
	const char *path = testdir_at(LOG_NAME);
	int64_t max;
	int i, rotations = 0;

	write_samples(path, 0, 3, 0, keep, NULL);
	ck_assert_int_eq(records_tail_open(&t, path, keep, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 0, 2);
	seen_reset(&s);

	/* Room for samples 3, 4 and 5; sample 6 rotates. */
	max = (int64_t)file_size(path);
	for (i = 3; i <= 5; i++) {
		sample(i, &smp);
		max += (int64_t)frame_len(&smp.r);
	}
	ck_assert_int_eq(records_open(&w, path, max, keep), 0);
	append_sample(&w, 3);
	append_sample(&w, 4);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 3, 4);
	seen_reset(&s);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);

	/* Sample 5 goes to the old file, 6 starts the new one. */
	for (i = 5; i <= 8; i++) {
		int64_t before = w.size;

		append_sample(&w, i);
		if (w.size < before)
			rotations++;
	}
	ck_assert_int_eq(rotations, 1);
	ck_assert_int_eq(file_size(rotated(path, 1)), keep > 0 ? max : -1);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 5, 8);
	seen_reset(&s);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);

	/* And on in the new file. */
	append_sample(&w, 9);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	expect_run(&s, 9, 9);
	seen_reset(&s);
	records_close(&w);
	records_tail_close(&t);
}
END_TEST

START_TEST(test_records_tail_open_reads_rotated_files)
{
	struct records_tail t;
	struct seen all = { 0 }, s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	size_t i;

	write_samples(path, 0, 30, 600, 2, NULL);
	read_log(path, 2, &all);
	ck_assert_int_eq(records_tail_open(&t, path, 2, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	ck_assert_uint_eq(s.n, all.n);
	for (i = 0; i < s.n; i++)
		ck_assert_int_eq(seq_at(&s, i), seq_at(&all, i));
	ck_assert_int_eq(seq_at(&s, s.n - 1), 29);
	records_tail_close(&t);
	seen_reset(&s);
	seen_reset(&all);
}
END_TEST

START_TEST(test_records_tail_log_created_later)
{
	struct records_tail t;
	struct records w;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);

	ck_assert_int_eq(records_tail_open(&t, path, 2, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.nproblems, 0);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);

	ck_assert_int_eq(records_open(&w, path, 0, 2), 0);
	append_sample(&w, 0);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	expect_run(&s, 0, 0);
	seen_reset(&s);
	append_sample(&w, 1);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	expect_run(&s, 1, 1);
	ck_assert_uint_eq(s.nproblems, 0);
	seen_reset(&s);
	records_close(&w);
	records_tail_close(&t);
}
END_TEST

START_TEST(test_records_tail_waits_for_partial_frame)
{
	struct records_tail t;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME), *scratch = testdir_at("scratch.log");
	unsigned char *frame;
	size_t len, cuts[5], prev = 0, i;

	/* A record read while the worker is still writing it. */
	write_samples(path, 0, 1, 0, 0, NULL);
	write_samples(scratch, 1, 1, 0, 0, NULL);
	frame = slurp(scratch, &len);
	cuts[0] = 1;
	cuts[1] = 5;
	cuts[2] = 8;		/* the header, no payload */
	cuts[3] = len / 2;
	cuts[4] = len - 1;
	ck_assert_int_eq(records_tail_open(&t, path, 0, &cbs, &s), 0);
	expect_run(&s, 0, 0);
	seen_reset(&s);
	for (i = 0; i < 5; i++) {
		spew(path, frame + prev, cuts[i] - prev, 1);
		prev = cuts[i];
		ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
		ck_assert_msg(s.n == 0, "record seen with %zu of %zu bytes",
		    prev, len);
		ck_assert_uint_eq(s.nproblems, 0);
	}
	spew(path, frame + prev, len - prev, 1);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 1, 1);
	seen_reset(&s);
	free(frame);
	records_tail_close(&t);
}
END_TEST

START_TEST(test_records_tail_poll_concurrent_rotation)
{
	struct records_tail t;
	struct records w;
	struct seen s = { 0 };
	struct sample smp;
	const char *path = testdir_at(LOG_NAME);
	int64_t max;

	/*
	 * While a poll hands out sample 3, the worker appends sample 4 (it
	 * fits in the old file) and sample 5 (which rotates).  The poll, or
	 * the next one, must still return 4: it is in the old file, after
	 * the place the poll had read up to.
	 */
	write_samples(path, 0, 3, 0, 1, NULL);
	ck_assert_int_eq(records_tail_open(&t, path, 1, &cbs, &s), 0);
	expect_run(&s, 0, 2);
	seen_reset(&s);
	sample(3, &smp);
	max = (int64_t)file_size(path) + (int64_t)frame_len(&smp.r);
	sample(4, &smp);
	max += (int64_t)frame_len(&smp.r);
	ck_assert_int_eq(records_open(&w, path, max, 1), 0);
	append_sample(&w, 3);
	s.writer = &w;
	s.next = 4;
	s.hook = hook_append_two;
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_int_eq(s.next, 6);
	/* Sample 4 went to the old file. */
	ck_assert_int_eq(file_size(rotated(path, 1)), max);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 3, 5);
	seen_reset(&s);
	records_close(&w);
	records_tail_close(&t);
}
END_TEST

START_TEST(test_records_tail_open_concurrent_rotation)
{
	struct records_tail t;
	struct records w;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);

	/*
	 * lifecycle.log.2 holds samples 0-1, .1 holds 2-3, the live file
	 * 4-5.  While the tail reader is still reading .2, the worker
	 * appends sample 6, which rotates.  Between the open and the next
	 * poll every sample must come back once, in order.
	 */
	write_samples(rotated(path, 2), 0, 2, 0, 0, NULL);
	write_samples(rotated(path, 1), 2, 2, 0, 0, NULL);
	write_samples(path, 4, 2, 0, 0, NULL);
	ck_assert_int_eq(records_open(&w, path, 1, 2), 0);
	s.writer = &w;
	s.next = 6;
	s.hook = hook_rotate;
	ck_assert_int_eq(records_tail_open(&t, path, 2, &cbs, &s), 0);
	ck_assert_int_eq(s.next, 7);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_run(&s, 0, 6);
	seen_reset(&s);
	records_close(&w);
	records_tail_close(&t);
}
END_TEST

/* Files that are garbage from their first byte. */
static const struct garbage_case {
	const char	*name;
	unsigned char	 head[4];	/* the first length field */
} garbage_cases[] = {
	{ "impossible first length", { 0xff, 0x12, 0x34, 0x56 } },
	{ "plausible first length", { 0x00, 0x00, 0x01, 0x00 } },
};

START_TEST(test_records_garbage_file_reported)
{
	const struct garbage_case *gc = &garbage_cases[_i];
	struct records_tail t;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);
	unsigned char buf[4096];
	uint32_t x = 2463534242u;	/* xorshift32, fixed seed */
	size_t i;

	for (i = 0; i < sizeof buf; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	memcpy(buf, gc->head, 4);
	spew(path, buf, sizeof buf, 0);
	read_log(path, 0, &s);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_msg(s.nproblems == 1, "%s: %zu problems", gc->name,
	    s.nproblems);
	expect_problem(&s, 0, path, 0, "corrupt");
	seen_reset(&s);

	/* The tail reader too, and it does not report it again. */
	ck_assert_int_eq(records_tail_open(&t, path, 0, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.nproblems, 1);
	seen_reset(&s);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.nproblems, 0);
	records_tail_close(&t);
}
END_TEST

START_TEST(test_records_empty_file)
{
	struct records_tail t;
	struct seen s = { 0 };
	const char *path = testdir_at(LOG_NAME);

	spew(path, "", 0, 0);
	spew(rotated(path, 1), "", 0, 0);
	read_log(path, 1, &s);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.nproblems, 0);
	ck_assert_int_eq(records_tail_open(&t, path, 1, &cbs, &s), 0);
	ck_assert_int_eq(records_tail_poll(&t, &cbs, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.nproblems, 0);
	records_tail_close(&t);
}
END_TEST

START_TEST(test_records_append_without_directory_fails)
{
	struct records r;
	struct sample smp;
	const char *dir = testdir_at("zone"), *path = testdir_at("zone/" LOG_NAME);

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(records_open(&r, path, 0, 2), -1);
	ck_assert_int_eq(r.fd, -1);
	sample(0, &smp);
	ck_assert_int_eq(records_append(&r, &smp.r), -1);
	ck_assert_int_eq(records_append(&r, &smp.r), -1);	/* again */
	records_close(&r);
	ck_assert_int_eq(file_size(dir), -1);
}
END_TEST

START_TEST(test_records_append_fails_when_rotation_cannot_reopen)
{
	struct records r;
	struct sample smp;
	const char *dir = testdir_at("zone"), *path = testdir_at("zone/" LOG_NAME);

	/* The zone directory vanishes under a running worker. */
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(records_open(&r, path, 1, 2), 0);
	append_sample(&r, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	sample(1, &smp);
	ck_assert_int_eq(records_append(&r, &smp.r), -1);	/* rotates */
	ck_assert_int_eq(records_append(&r, &smp.r), -1);
	records_close(&r);
}
END_TEST

START_TEST(test_records_partial_append_is_cut_off)
{
	static const int want[] = { 0, 1, 2, 4 };
	struct seen s = { 0 };
	struct records r;
	struct sample smp;
	struct rlimit rl, small;
	const char *path = testdir_at(LOG_NAME);
	off_t before;

	/*
	 * A full disk takes part of a record and refuses the rest (here the
	 * file size limit does, which needs no filesystem of its own).  What
	 * was written is cut off again, so the records appended once space
	 * returns follow the last whole one, and the log reads cleanly.
	 */
	write_samples(path, 0, 3, 0, 2, NULL);
	ck_assert_int_eq(records_open(&r, path, 0, 2), 0);
	before = file_size(path);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small = rl;
	small.rlim_cur = (rlim_t)before + 10;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	sample(3, &smp);
	ck_assert_int_eq(records_append(&r, &smp.r), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(r.failing, 1);
	ck_assert_int_eq(r.error, EFBIG);
	ck_assert_int_eq(file_size(path), before);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	append_sample(&r, 4);
	ck_assert_int_eq(r.failing, 0);
	ck_assert_int_eq(records_sync(&r), 0);
	records_close(&r);
	read_log(path, 2, &s);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_seqs(&s, want, sizeof want / sizeof want[0]);
	seen_reset(&s);
}
END_TEST

START_TEST(test_records_append_reopens_when_possible)
{
	static const int want[] = { 1 };
	struct seen s = { 0 };
	struct records r;
	struct sample smp;
	const char *dir = testdir_at("zone"), *path = testdir_at("zone/" LOG_NAME);

	/* A log that could not be opened is opened by a later append. */
	ck_assert_int_eq(records_open(&r, path, 0, 2), -1);
	ck_assert_int_eq(r.failing, 1);
	ck_assert_int_eq(r.error, ENOENT);
	sample(0, &smp);
	ck_assert_int_eq(records_append(&r, &smp.r), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	append_sample(&r, 1);
	ck_assert_int_eq(r.failing, 0);
	records_close(&r);
	read_log(path, 2, &s);
	ck_assert_uint_eq(s.nproblems, 0);
	expect_seqs(&s, want, 1);
	seen_reset(&s);
}
END_TEST

static Suite *
records_suite(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, testdir_setup, testdir_teardown);
	tcase_add_test(tc, test_records_round_trip_every_field);
	tcase_add_test(tc, test_records_reopen_appends_after_existing);
	tcase_add_test(tc, test_records_reopen_counts_existing_size);
	tcase_add_loop_test(tc, test_records_torn_tail_ignored, 0,
	    (int)(sizeof torn_cases / sizeof torn_cases[0]));
	tcase_add_test(tc, test_records_bad_checksum_at_end_is_torn);
	tcase_add_loop_test(tc,
	    test_records_torn_tail_then_restart_keeps_new_records, 0,
	    (int)(sizeof restart_cases / sizeof restart_cases[0]));
	tcase_add_test(tc, test_records_corrupt_middle_reported);
	tcase_add_loop_test(tc, test_records_impossible_length_resyncs, 0,
	    (int)(sizeof bad_lengths / sizeof bad_lengths[0]));
	tcase_add_loop_test(tc, test_records_reopen_leaves_damage_alone, 0,
	    (int)(sizeof middle_damage / sizeof middle_damage[0]));
	tcase_add_test(tc, test_records_corrupt_rotated_file_named);
	tcase_add_loop_test(tc, test_records_unreadable_payload_reported, 0,
	    (int)(sizeof unreadable_cases / sizeof unreadable_cases[0]));
	tcase_add_test(tc, test_records_rotation_keeps_newest);
	tcase_add_test(tc, test_records_rotation_keep_zero_drops_old);
	tcase_add_test(tc, test_records_sync);
	tcase_add_loop_test(tc, test_records_tail_follows_appends_and_rotation,
	    0, (int)(sizeof tail_keeps / sizeof tail_keeps[0]));
	tcase_add_test(tc, test_records_tail_open_reads_rotated_files);
	tcase_add_test(tc, test_records_tail_log_created_later);
	tcase_add_test(tc, test_records_tail_waits_for_partial_frame);
	tcase_add_test(tc, test_records_tail_poll_concurrent_rotation);
	tcase_add_test(tc, test_records_tail_open_concurrent_rotation);
	tcase_add_loop_test(tc, test_records_garbage_file_reported, 0,
	    (int)(sizeof garbage_cases / sizeof garbage_cases[0]));
	tcase_add_test(tc, test_records_empty_file);
	tcase_add_test(tc, test_records_append_without_directory_fails);
	tcase_add_test(tc, test_records_partial_append_is_cut_off);
	tcase_add_test(tc, test_records_append_reopens_when_possible);
	tcase_add_test(tc,
	    test_records_append_fails_when_rotation_cannot_reopen);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* records.c logs the failures these tests provoke; keep quiet. */
	log_init(1, LOG_LEVEL_ERROR);
	return testdir_run("records", records_suite());
}
