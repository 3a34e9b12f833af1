/*
 * check_runtime.c: the runtime record of a zone's gateway VM (runtime.c).
 * These tests protect the one promise that keeps two supervisors from owning
 * one VM: a record written once the VM is spawned reads back exactly
 * (atomically, mode 0600, no temporary file left); a record that is damaged,
 * half written, of another version or carrying an impossible value (a pid of
 * 0 or -1 would signal whole process groups) is refused with a reason, never
 * half believed; and the boot-time judgment of DESIGN §3 holds: a record
 * whose process is gone, or whose pid now belongs to another process or
 * another boot, is deleted without a signal to anyone, while a live match,
 * an unreadable record or one of another zone or state directory is kept
 * and reported as owner-unsafe evidence that names the file.
 *
 * A signal sent by mistake would show: the handlers installed by
 * catch_signals() note any catchable terminating signal, SIGKILL ends the
 * test process (a failure), SIGSTOP stops it until the Check timeout.
 *
 * Each test works in a fresh directory made with mkdtemp(3) inside one base
 * directory under /tmp; the test's teardown removes its directory, and
 * main() removes the base, so a failed test (whose forked process ends
 * without teardown) leaves nothing behind either.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "zonevisor.h"
#include "log.h"
#include "testdir.h"

#define OTHER_BOOT	"00000000-1111-2222-3333-444444444444"

/* The fields of a runtime record file, in runtime_write's order. */
enum field {
	F_VERSION, F_ZONE, F_STATE_DIR, F_BOOT_ID, F_VM_PID, F_VM_START_TIME,
	F_COMMAND_DIGEST, F_WORKER_PID, F_SUPERVISOR_PID, F_OPERATION_ID,
	F_GENERATION, F_WRITTEN_AT, F__COUNT
};

static const struct field_desc {
	const char	*name;
	int		 is_str;
} fields[F__COUNT] = {
	{ "version", 0 },
	{ "zone", 1 },
	{ "state_dir", 1 },
	{ "boot_id", 1 },
	{ "vm_pid", 0 },
	{ "vm_start_time", 0 },
	{ "command_digest", 1 },
	{ "worker_pid", 0 },
	{ "supervisor_pid", 0 },
	{ "operation_id", 1 },
	{ "generation", 0 },
	{ "written_at", 0 },
};

/* How to spoil a hand-built record file. */
struct spoil {
	int		 omit;		/* F_* left out, or -1 */
	int		 wrong_type;	/* F_* given the other type, or -1 */
	int		 as_array;	/* the values as an array, no keys */
	int		 pad;		/* bytes of an extra "pad" string */
};

static volatile sig_atomic_t caught;

static Suite *runtime_suite(void);
static void on_signal(int);
static void catch_signals(void);
static void good_record(struct runtime_record *, pid_t, uint64_t);
static void pack_value(struct msgw *, const struct runtime_record *, int,
    int);
static void write_custom(const char *, const struct runtime_record *,
    const struct spoil *);
static void put_str_field(const char *, const struct runtime_record *, int,
    const char *);
static void put_int_field(const char *, const struct runtime_record *, int,
    int64_t);
static void spew(const char *, const void *, size_t);
static unsigned char *slurp(const char *, size_t *);
static int exists(const char *);
static void expect_refused(const char *, const char *);
static void expect_same(const struct runtime_record *,
    const struct runtime_record *);
static pid_t dead_pid(uint64_t *);

/* Note a signal that should never have come. */
static void
on_signal(int sig)
{
	caught = sig;
}

/* Catch every catchable signal that would end or bother a VM. */
static void
catch_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
	    SIGUSR2, SIGALRM, SIGCONT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		ck_assert_int_eq(sigaction(sigs[i], &sa, NULL), 0);
	caught = 0;
}

/* A record of zone alpha in the test directory, this boot, naming pid. */
static void
good_record(struct runtime_record *rr, pid_t pid, uint64_t start)
{
	memset(rr, 0, sizeof *rr);
	snprintf(rr->zone, sizeof rr->zone, "alpha");
	snprintf(rr->state_dir, sizeof rr->state_dir, "%s", tmpdir);
	snprintf(rr->boot_id, sizeof rr->boot_id, "%s", runtime_boot_id());
	runtime_digest("/usr/bin/gateway-vm --zone alpha", rr->command_digest,
	    sizeof rr->command_digest);
	snprintf(rr->op_id, sizeof rr->op_id,
	    "alpha-start-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	rr->vm_pid = pid;
	rr->vm_start_time = start;
	rr->worker_pid = 4242;
	rr->supervisor_pid = 4241;
	rr->generation = (UINT64_C(1) << 40) + 7;
	rr->written_at_ms = INT64_C(1700000000123);
}

/* Field f of rr, or (wrong) a value of the other type. */
static void
pack_value(struct msgw *w, const struct runtime_record *rr, int f, int wrong)
{
	if (wrong) {
		if (fields[f].is_str)
			msgw_int(w, 7);
		else
			msgw_str(w, "7");
		return;
	}
	switch (f) {
	case F_VERSION:
		msgw_int(w, 1);
		break;
	case F_ZONE:
		msgw_str(w, rr->zone);
		break;
	case F_STATE_DIR:
		msgw_str(w, rr->state_dir);
		break;
	case F_BOOT_ID:
		msgw_str(w, rr->boot_id);
		break;
	case F_VM_PID:
		msgw_int(w, rr->vm_pid);
		break;
	case F_VM_START_TIME:
		msgw_int(w, (int64_t)rr->vm_start_time);
		break;
	case F_COMMAND_DIGEST:
		msgw_str(w, rr->command_digest);
		break;
	case F_WORKER_PID:
		msgw_int(w, rr->worker_pid);
		break;
	case F_SUPERVISOR_PID:
		msgw_int(w, rr->supervisor_pid);
		break;
	case F_OPERATION_ID:
		msgw_str(w, rr->op_id);
		break;
	case F_GENERATION:
		msgw_int(w, (int64_t)rr->generation);
		break;
	case F_WRITTEN_AT:
		msgw_int(w, rr->written_at_ms);
		break;
	}
}

/* Write rr as runtime_write would, spoilt as sp says. */
static void
write_custom(const char *path, const struct runtime_record *rr,
    const struct spoil *sp)
{
	struct msgw *w = msgw_new();
	const unsigned char *frame;
	char *pad;
	size_t len;
	int f;

	if (sp->as_array)
		msgw_array_begin(w);
	else
		msgw_map_begin(w);
	for (f = 0; f < F__COUNT; f++) {
		if (f == sp->omit)
			continue;
		if (!sp->as_array)
			msgw_str(w, fields[f].name);
		pack_value(w, rr, f, f == sp->wrong_type);
	}
	if (sp->pad > 0) {
		ck_assert_ptr_nonnull(pad = malloc((size_t)sp->pad + 1));
		memset(pad, 'p', (size_t)sp->pad);
		pad[sp->pad] = '\0';
		msgw_str(w, "pad");
		msgw_str(w, pad);
		free(pad);
	}
	if (sp->as_array)
		msgw_array_end(w);
	else
		msgw_map_end(w);
	frame = msgw_frame(w, &len);
	spew(path, frame + FRAME_HEADER, len - FRAME_HEADER);
	msgw_free(w);
}

/* Write rr with field f replaced by the string s. */
static void
put_str_field(const char *path, const struct runtime_record *rr, int f,
    const char *s)
{
	struct msgw *w = msgw_new();
	const unsigned char *frame;
	size_t len;
	int i;

	msgw_map_begin(w);
	for (i = 0; i < F__COUNT; i++) {
		msgw_str(w, fields[i].name);
		if (i == f)
			msgw_str(w, s);
		else
			pack_value(w, rr, i, 0);
	}
	msgw_map_end(w);
	frame = msgw_frame(w, &len);
	spew(path, frame + FRAME_HEADER, len - FRAME_HEADER);
	msgw_free(w);
}

/* Write rr with field f replaced by the integer v. */
static void
put_int_field(const char *path, const struct runtime_record *rr, int f,
    int64_t v)
{
	struct msgw *w = msgw_new();
	const unsigned char *frame;
	size_t len;
	int i;

	msgw_map_begin(w);
	for (i = 0; i < F__COUNT; i++) {
		msgw_str(w, fields[i].name);
		if (i == f)
			msgw_int(w, v);
		else
			pack_value(w, rr, i, 0);
	}
	msgw_map_end(w);
	frame = msgw_frame(w, &len);
	spew(path, frame + FRAME_HEADER, len - FRAME_HEADER);
	msgw_free(w);
}

/* Replace a file's contents. */
static void
spew(const char *path, const void *data, size_t len)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		ck_abort_msg("open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
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

/* 1 if path exists. */
static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* runtime_read refuses the file at path with a cause that mentions what. */
static void
expect_refused(const char *path, const char *what)
{
	struct runtime_record rr;
	char cause[256];

	memset(cause, 0, sizeof cause);
	ck_assert_int_eq(runtime_read(path, &rr, cause, sizeof cause), -1);
	ck_assert_msg(cause[0] != '\0', "no cause given");
	if (what != NULL)
		ck_assert_msg(strstr(cause, what) != NULL,
		    "cause \"%s\" does not mention \"%s\"", cause, what);
}

/* Every field of got is that of want. */
static void
expect_same(const struct runtime_record *got,
    const struct runtime_record *want)
{
	ck_assert_str_eq(got->zone, want->zone);
	ck_assert_str_eq(got->state_dir, want->state_dir);
	ck_assert_str_eq(got->boot_id, want->boot_id);
	ck_assert_str_eq(got->command_digest, want->command_digest);
	ck_assert_str_eq(got->op_id, want->op_id);
	ck_assert_int_eq(got->vm_pid, want->vm_pid);
	ck_assert_uint_eq(got->vm_start_time, want->vm_start_time);
	ck_assert_int_eq(got->worker_pid, want->worker_pid);
	ck_assert_int_eq(got->supervisor_pid, want->supervisor_pid);
	ck_assert_uint_eq(got->generation, want->generation);
	ck_assert_int_eq(got->written_at_ms, want->written_at_ms);
}

/* The pid of a child that has exited and been reaped, and its start time. */
static pid_t
dead_pid(uint64_t *start)
{
	pid_t pid;
	int status;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(proc_start_time(pid, start), 0);	/* a zombie */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(kill(pid, 0), -1);
	return pid;
}

START_TEST(test_runtime_write_read_round_trip)
{
	struct runtime_record rr, got;
	const char *path = testdir_at("runtime"), *tmp = testdir_at("runtime.tmp");
	struct stat sb;
	char cause[256] = "";

	/* A temporary file left by a crash in an earlier write. */
	spew(tmp, "junk", 4);
	good_record(&rr, 31337, UINT64_C(123456789012345));
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	ck_assert(!exists(tmp));
	ck_assert_int_eq(runtime_read(path, &got, cause, sizeof cause), 0);
	expect_same(&got, &rr);

	/* A second write replaces the first entirely. */
	rr.vm_pid = 2;
	rr.vm_start_time = 0;
	rr.generation = 0;
	rr.worker_pid = 0;
	rr.supervisor_pid = 0;
	rr.written_at_ms = 0;
	snprintf(rr.zone, sizeof rr.zone, "b");
	snprintf(rr.op_id, sizeof rr.op_id, "b-stop-x");
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	ck_assert_int_eq(runtime_read(path, &got, cause, sizeof cause), 0);
	expect_same(&got, &rr);
	ck_assert(!exists(tmp));
}
END_TEST

START_TEST(test_runtime_write_without_directory_fails)
{
	struct runtime_record rr;

	good_record(&rr, 31337, 1);
	ck_assert_int_eq(runtime_write(testdir_at("gone/runtime"), &rr), -1);
	ck_assert(!exists(testdir_at("gone")));
}
END_TEST

START_TEST(test_runtime_read_missing)
{
	struct runtime_record rr;
	char cause[256] = "";

	ck_assert_int_eq(runtime_read(testdir_at("runtime"), &rr, cause, sizeof cause),
	    1);
}
END_TEST

START_TEST(test_runtime_read_every_prefix_refused)
{
	struct runtime_record rr, got;
	const char *path = testdir_at("runtime"), *cut = testdir_at("cut");
	unsigned char *buf;
	char cause[256] = "";
	size_t len, n;

	good_record(&rr, 31337, 99);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	buf = slurp(path, &len);
	for (n = 0; n < len; n++) {
		spew(cut, buf, n);
		expect_refused(cut, n == 0 ? "empty" : NULL);
	}
	spew(cut, buf, len);		/* all of it */
	ck_assert_int_eq(runtime_read(cut, &got, cause, sizeof cause), 0);
	expect_same(&got, &rr);
	free(buf);
}
END_TEST

/* Files that hold no runtime record. */
static const struct bad_file {
	const char	*name;
	const char	*bytes;
	size_t		 len;
} bad_files[] = {
	{ "never-used msgpack bytes", "\xc1\xc1\xc1\xc1", 4 },
	{ "text", "vm_pid=1234\nzone=alpha\n", 23 },
	{ "a nil", "\xc0", 1 },
	{ "an integer", "\x05", 1 },
	{ "a string", "\xa5" "alpha", 6 },
	{ "a small array", "\x93\x01\x02\x03", 4 },
	{ "an empty map", "\x80", 1 },
	{ "a map with an integer key", "\x81\x01\x02", 3 },
	{ "two maps", "\x80\x80", 2 },
	{ "zero bytes", "\0\0\0\0\0\0\0\0", 8 },
};

START_TEST(test_runtime_read_bad_file_refused)
{
	const struct bad_file *bf = &bad_files[_i];
	const char *path = testdir_at("runtime");

	spew(path, bf->bytes, bf->len);
	expect_refused(path, NULL);
}
END_TEST

START_TEST(test_runtime_read_array_refused)
{
	struct runtime_record rr;
	struct spoil sp = { -1, -1, 1, 0 };
	const char *path = testdir_at("runtime");

	/* Every value in its place, but without the keys. */
	good_record(&rr, 31337, 99);
	write_custom(path, &rr, &sp);
	expect_refused(path, "map");
}
END_TEST

START_TEST(test_runtime_read_trailing_bytes_refused)
{
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	unsigned char *buf;
	size_t len;

	good_record(&rr, 31337, 99);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	buf = slurp(path, &len);
	buf[len] = 0xc0;
	spew(path, buf, len + 1);
	free(buf);
	expect_refused(path, NULL);
}
END_TEST

START_TEST(test_runtime_read_missing_field_refused)
{
	struct runtime_record rr;
	struct spoil sp = { _i, -1, 0, 0 };
	const char *path = testdir_at("runtime");

	good_record(&rr, 31337, 99);
	write_custom(path, &rr, &sp);
	expect_refused(path, fields[_i].name);
}
END_TEST

START_TEST(test_runtime_read_wrong_type_refused)
{
	struct runtime_record rr;
	struct spoil sp = { -1, _i, 0, 0 };
	const char *path = testdir_at("runtime");

	good_record(&rr, 31337, 99);
	write_custom(path, &rr, &sp);
	expect_refused(path, fields[_i].name);
}
END_TEST

START_TEST(test_runtime_read_control_is_accepted)
{
	struct runtime_record rr, got;
	struct spoil sp = { -1, -1, 0, 0 };
	const char *path = testdir_at("runtime");
	char cause[256] = "";

	/* What the two tests above spoil reads fine unspoilt. */
	good_record(&rr, 31337, 99);
	write_custom(path, &rr, &sp);
	ck_assert_msg(runtime_read(path, &got, cause, sizeof cause) == 0,
	    "refused: %s", cause);
	expect_same(&got, &rr);
}
END_TEST

/* Integer values no record may carry. */
static const struct bad_int {
	int	field;
	int64_t	value;
} bad_ints[] = {
	{ F_VM_PID, 0 },		/* kill(0) signals the process group */
	{ F_VM_PID, -1 },		/* kill(-1) signals everything */
	{ F_VM_PID, -4242 },		/* a process group */
	{ F_VM_PID, INT64_C(1) << 31 },
	{ F_VM_START_TIME, -1 },
	{ F_WORKER_PID, -1 },
	{ F_WORKER_PID, INT64_C(1) << 31 },
	{ F_SUPERVISOR_PID, -1 },
	{ F_GENERATION, -1 },
	{ F_WRITTEN_AT, -1 },
};

START_TEST(test_runtime_read_out_of_range_refused)
{
	const struct bad_int *bi = &bad_ints[_i];
	struct runtime_record rr;
	const char *path = testdir_at("runtime");

	good_record(&rr, 31337, 99);
	put_int_field(path, &rr, bi->field, bi->value);
	expect_refused(path, fields[bi->field].name);
}
END_TEST

START_TEST(test_runtime_read_overlong_string_refused)
{
	static const struct { int field; size_t len; } cases[] = {
		{ F_ZONE, ZONE_NAME_MAX + 1 },
		{ F_STATE_DIR, 1024 },
		{ F_BOOT_ID, 40 },
		{ F_COMMAND_DIGEST, 16 },
		{ F_OPERATION_ID, OP_ID_MAX },
	};
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	char s[2048];
	size_t i;

	/* Cutting it to fit would make it name something else. */
	good_record(&rr, 31337, 99);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(s, 'a', cases[i].len);
		s[cases[i].len] = '\0';
		put_str_field(path, &rr, cases[i].field, s);
		expect_refused(path, fields[cases[i].field].name);
	}
}
END_TEST

START_TEST(test_runtime_read_version_refused)
{
	static const int64_t versions[] = { 2, 0, 3, -1, 1000000 };
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	size_t i;

	good_record(&rr, 31337, 99);
	put_int_field(path, &rr, F_VERSION, 2);
	expect_refused(path, "version 2");
	for (i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		put_int_field(path, &rr, F_VERSION, versions[i]);
		expect_refused(path, "version");
	}
	put_str_field(path, &rr, F_VERSION, "1");
	expect_refused(path, "version");
}
END_TEST

START_TEST(test_runtime_read_oversized_refused)
{
	struct runtime_record rr;
	struct spoil sp = { -1, -1, 0, 9000 };
	const char *path = testdir_at("runtime");
	struct stat sb;

	good_record(&rr, 31337, 99);
	write_custom(path, &rr, &sp);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_gt(sb.st_size, 8192);
	expect_refused(path, "8192");
}
END_TEST

START_TEST(test_runtime_check_none)
{
	char detail[512] = "x";
	int evidence = -1;

	ck_assert_int_eq(runtime_check(testdir_at("runtime"), "alpha", tmpdir,
	    &evidence, detail, sizeof detail), RUNTIME_NONE);
	ck_assert_int_eq(evidence, EVD_NONE);
	ck_assert_str_eq(detail, "");
}
END_TEST

START_TEST(test_runtime_check_gone_process_deleted)
{
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	char detail[512], pidstr[32];
	uint64_t start;
	pid_t pid;
	int evidence = -1;

	pid = dead_pid(&start);
	good_record(&rr, pid, start);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	catch_signals();
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_DELETED);
	ck_assert_int_eq(evidence, EVD_NONE);
	ck_assert(!exists(path));
	snprintf(pidstr, sizeof pidstr, "%ld", (long)pid);
	ck_assert_msg(strstr(detail, pidstr) != NULL, "detail \"%s\"", detail);
	ck_assert_int_eq(caught, 0);
}
END_TEST

START_TEST(test_runtime_check_reused_pid_deleted_unsignalled)
{
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	char detail[512];
	uint64_t start;
	int evidence = -1;

	/* Our own pid, as if the VM's pid had been handed on to us. */
	ck_assert_int_eq(proc_start_time(getpid(), &start), 0);
	good_record(&rr, getpid(), start + 1);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	catch_signals();
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_DELETED);
	ck_assert_int_eq(evidence, EVD_NONE);
	ck_assert(!exists(path));
	ck_assert_int_eq(caught, 0);
}
END_TEST

START_TEST(test_runtime_check_other_boot_deleted_unsignalled)
{
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	char detail[512];
	uint64_t start;
	int evidence = -1;

	/*
	 * Pid and start time match a live process (us), but the record is
	 * from another boot: its VM cannot have survived the reboot.
	 */
	ck_assert_int_eq(proc_start_time(getpid(), &start), 0);
	good_record(&rr, getpid(), start);
	snprintf(rr.boot_id, sizeof rr.boot_id, "%s", OTHER_BOOT);
	ck_assert_str_ne(rr.boot_id, runtime_boot_id());
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	catch_signals();
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_DELETED);
	ck_assert_int_eq(evidence, EVD_NONE);
	ck_assert(!exists(path));
	ck_assert_int_eq(caught, 0);
}
END_TEST

START_TEST(test_runtime_check_live_process_unsafe)
{
	struct runtime_record rr, got;
	const char *path = testdir_at("runtime");
	char detail[512], pidstr[32], cause[256] = "";
	uint64_t start;
	pid_t child;
	int evidence = -1, status;

	/* A VM left by an earlier supervisor, still running. */
	ck_assert_int_ne(child = fork(), -1);
	if (child == 0) {
		/* Gone with the test process, should an assertion end it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	ck_assert_int_eq(proc_start_time(child, &start), 0);
	good_record(&rr, child, start);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_UNSAFE);
	ck_assert_int_eq(evidence, EVD_STALE_RUNTIME_RECORD);
	snprintf(pidstr, sizeof pidstr, "%ld", (long)child);
	ck_assert_msg(strstr(detail, path) != NULL, "detail \"%s\"", detail);
	ck_assert_msg(strstr(detail, pidstr) != NULL, "detail \"%s\"", detail);

	/* The evidence stays for whoever resolves it. */
	ck_assert_int_eq(runtime_read(path, &got, cause, sizeof cause), 0);
	expect_same(&got, &rr);

	/* Not signalled: still running, not a zombie. */
	ck_assert_int_eq(waitpid(child, &status, WNOHANG), 0);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

/* Records found in the wrong place: another zone's, another state_dir's. */
static const struct scope_case {
	const char	*zone;
	const char	*state_dir;	/* NULL: the test directory */
} scope_cases[] = {
	{ "other", NULL },
	{ "alpha", "/var/lib/zonevisor-elsewhere" },
	{ "alpha2", NULL },
	{ "alph", NULL },
};

START_TEST(test_runtime_check_scope_mismatch_unsafe)
{
	const struct scope_case *sc = &scope_cases[_i];
	struct runtime_record rr;
	const char *path = testdir_at("runtime");
	char detail[512];
	uint64_t start;
	pid_t pid;
	int evidence = -1;

	/*
	 * Even when its process is gone, a record that is not this zone's
	 * is not this zone's to delete.
	 */
	pid = dead_pid(&start);		/* before start is read */
	good_record(&rr, pid, start);
	snprintf(rr.zone, sizeof rr.zone, "%s", sc->zone);
	if (sc->state_dir != NULL)
		snprintf(rr.state_dir, sizeof rr.state_dir, "%s",
		    sc->state_dir);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_UNSAFE);
	ck_assert_int_eq(evidence, EVD_RECORD_SCOPE_MISMATCH);
	ck_assert_msg(strstr(detail, path) != NULL, "detail \"%s\"", detail);
	ck_assert(exists(path));
}
END_TEST

START_TEST(test_runtime_check_unreadable_unsafe)
{
	struct runtime_record rr;
	struct spoil sp = { F_VM_PID, -1, 0, 0 };
	const char *path = testdir_at("runtime");
	char detail[512];
	int evidence = -1;

	spew(path, "\x93\x01\x02", 3);
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_UNSAFE);
	ck_assert_int_eq(evidence, EVD_RECORD_PARSE_ERROR);
	ck_assert_msg(strstr(detail, path) != NULL, "detail \"%s\"", detail);
	ck_assert(exists(path));

	/* One without the VM's pid cannot be judged either. */
	good_record(&rr, 31337, 99);
	write_custom(path, &rr, &sp);
	ck_assert_int_eq(runtime_check(path, "alpha", tmpdir, &evidence,
	    detail, sizeof detail), RUNTIME_UNSAFE);
	ck_assert_int_eq(evidence, EVD_RECORD_PARSE_ERROR);
	ck_assert_msg(strstr(detail, "vm_pid") != NULL, "detail \"%s\"",
	    detail);
	ck_assert(exists(path));
}
END_TEST

START_TEST(test_runtime_delete)
{
	struct runtime_record rr;
	const char *path = testdir_at("runtime"), *tmp = testdir_at("runtime.tmp");

	good_record(&rr, 31337, 99);
	ck_assert_int_eq(runtime_write(path, &rr), 0);
	spew(tmp, "junk", 4);
	ck_assert_int_eq(runtime_delete(path), 0);
	ck_assert(!exists(path));
	ck_assert(!exists(tmp));

	/* Nothing to delete is no failure. */
	ck_assert_int_eq(runtime_delete(path), 0);

	/* Only the leftover of a crashed write. */
	spew(tmp, "junk", 4);
	ck_assert_int_eq(runtime_delete(path), 0);
	ck_assert(!exists(tmp));
}
END_TEST

START_TEST(test_runtime_boot_id)
{
	const char *id = runtime_boot_id();
	char want[64] = "";
	FILE *f;
	size_t i;

	ck_assert_uint_eq(strlen(id), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_int_eq(id[i], '-');
		else
			ck_assert_msg(isxdigit((unsigned char)id[i]),
			    "boot id %s", id);
	}
	ck_assert_ptr_nonnull(f = fopen("/proc/sys/kernel/random/boot_id",
	    "r"));
	ck_assert_ptr_nonnull(fgets(want, sizeof want, f));
	fclose(f);
	want[strcspn(want, "\n")] = '\0';
	ck_assert_str_eq(id, want);
	ck_assert_str_eq(runtime_boot_id(), want);
}
END_TEST

START_TEST(test_runtime_digest)
{
	char a[16], b[16], c[16];
	size_t i;

	runtime_digest("/usr/bin/gateway-vm --zone alpha", a, sizeof a);
	runtime_digest("/usr/bin/gateway-vm --zone alpha", b, sizeof b);
	runtime_digest("/usr/bin/gateway-vm --zone beta", c, sizeof c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_uint_eq(strlen(a), 8);
	for (i = 0; i < 8; i++)
		ck_assert(isxdigit((unsigned char)a[i]));
}
END_TEST

static Suite *
runtime_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, testdir_setup, testdir_teardown);
	tcase_add_test(tc, test_runtime_write_read_round_trip);
	tcase_add_test(tc, test_runtime_write_without_directory_fails);
	tcase_add_test(tc, test_runtime_read_missing);
	tcase_add_test(tc, test_runtime_read_every_prefix_refused);
	tcase_add_loop_test(tc, test_runtime_read_bad_file_refused, 0,
	    (int)(sizeof bad_files / sizeof bad_files[0]));
	tcase_add_test(tc, test_runtime_read_array_refused);
	tcase_add_test(tc, test_runtime_read_trailing_bytes_refused);
	tcase_add_loop_test(tc, test_runtime_read_missing_field_refused, 0,
	    F__COUNT);
	tcase_add_loop_test(tc, test_runtime_read_wrong_type_refused, 0,
	    F__COUNT);
	tcase_add_test(tc, test_runtime_read_control_is_accepted);
	tcase_add_loop_test(tc, test_runtime_read_out_of_range_refused, 0,
	    (int)(sizeof bad_ints / sizeof bad_ints[0]));
	tcase_add_test(tc, test_runtime_read_overlong_string_refused);
	tcase_add_test(tc, test_runtime_read_version_refused);
	tcase_add_test(tc, test_runtime_read_oversized_refused);
	tcase_add_test(tc, test_runtime_check_none);
	tcase_add_test(tc, test_runtime_check_gone_process_deleted);
	tcase_add_test(tc, test_runtime_check_reused_pid_deleted_unsignalled);
	tcase_add_test(tc, test_runtime_check_other_boot_deleted_unsignalled);
	tcase_add_test(tc, test_runtime_check_live_process_unsafe);
	tcase_add_loop_test(tc, test_runtime_check_scope_mismatch_unsafe, 0,
	    (int)(sizeof scope_cases / sizeof scope_cases[0]));
	tcase_add_test(tc, test_runtime_check_unreadable_unsafe);
	tcase_add_test(tc, test_runtime_delete);
	tcase_add_test(tc, test_runtime_boot_id);
	tcase_add_test(tc, test_runtime_digest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* runtime.c logs the failures these tests provoke; keep quiet. */
	log_init(1, LOG_LEVEL_ERROR);
	return testdir_run("runtime", runtime_suite());
}
