/*
 * zonectl.c: the operator's control tool.  It speaks the control protocol
 * of proto.h to zonevisord, prints answers as an aligned table (or, with
 * --json, as the JSON of the daemon's own answer), and exits with the codes
 * of DESIGN §11 so scripts can tell a failed operation (1) from bad usage
 * (2), a zone that is not running (3), an unknown zone (4), a permission
 * problem (5) and a daemon that does not answer (6); lease commands add an
 * unknown lease (9), a lease of another zone (10), no free slot (11) and a
 * zone without tool VMs (12).
 *
 * On a terminal it is a little friendlier: a wait for start, stop, restart
 * or refresh-credentials shows a live progress line (on stderr, else
 * stdout, whichever is a terminal), cleared when the answer comes, and
 * states are coloured when stdout is a terminal, unless NO_COLOR is set
 * and not empty (https://no-color.org) or TERM is dumb.  Neither happens
 * with --json or when the output goes to a pipe or a file.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zonevisor.h"

#define WAIT_TIMEOUT_MS		(5 * 60 * 1000)
#define REQUEST_TIMEOUT_MS	(30 * 1000)
#define PROGRESS_DELAY_MS	200	/* a wait shorter than this shows none */
#define PROGRESS_TICK_MS	100	/* the line's redraws */

#define COLOUR_RESET		"\033[0m"
#define COLOUR_GREEN		"\033[32m"
#define COLOUR_YELLOW		"\033[33m"
#define COLOUR_RED		"\033[31m"

static const char	*socket_path;
static int		 json;
static int64_t		 timeout_ms = -1;
static struct client_conn conn;
static int64_t		 next_id = 1;
static int		 colour;	/* stdout is a terminal that may colour */
static FILE		*progress;	/* the terminal for progress, or NULL */
static int		 progress_shown; /* columns the progress line takes */

static void usage(FILE *, int) __attribute__((noreturn));
static void die(int, const char *, ...) __attribute__((format(printf, 2, 3),
    noreturn));
static void ctl_connect(void);
static int64_t ctl_send(const char *, const char *, int, int, char **);
static int64_t ctl_send_args(const char *, const char *, struct msgw *);
static int64_t ctl_send_flag(const char *, const char *, const char *, int);
static struct mdoc *ctl_recv(int64_t, int64_t);
static void ctl_recv_failed(const char *, int64_t) __attribute__((noreturn));
static int status_json_raw(int64_t);
static int error_exit_code(const char *);
static const char *str_field(const struct mval *, const char *, char *, size_t);
static int64_t int_field(const struct mval *, const char *, int64_t);
static void format_uptime(int64_t, char *, size_t);
static int cmd_status(int, char **);
static int cmd_operation(const char *, int, char **);
static int cmd_version(int, char **);
static int cmd_metrics(int, char **);
static int cmd_events(int, char **);
static int cmd_diagnose(int, char **);
static int cmd_reset(int, char **);
static int cmd_health(int, char **);
static int cmd_reload(int, char **);
static int cmd_lease(int, char **);
static struct msgw *lease_args(int, const char *, int64_t, const char *, int);
static void print_lease(const struct mval *);
static void print_lease_table(const struct mval *);
static int owner_valid(const char *);
static void print_names(const struct mval *, const char *, const char *);
static const struct mval *ctl_request(const char *, const char *,
    struct mdoc **, int *);
static void format_time(int64_t, char *, size_t);
static void print_record(const struct mval *);
static int print_error(const struct mval *, const char *);
static int answer_ok(const struct mval *);
static char **all_zones(int *);
static int cmd_logs(int, char **);
static int zone_stream(const char *, const char *, int64_t,
    void (*)(const char *, const struct mval *), int, char **);
static void print_line(const char *, const struct mval *);
static const char *state_colour(const char *);
static void print_painted(const char *, int);
static void progress_draw(const char *, char **, const int *, int, int64_t);
static void progress_clear(void);
static struct mdoc *ctl_recv_progress(int64_t, int64_t, const char *,
    char **, const int *, int);

/* Print the synopsis and exit with code. */
static void
usage(FILE *f, int code)
{
	fprintf(f,
	    "usage: zonectl [-s socket] [--json] [--timeout duration] command\n"
	    "commands:\n"
	    "  status [zone ...]                   show zones (exit 3 if a named zone is not running)\n"
	    "  start [--no-wait] zone ... | --all  start zones, wait until running or failed\n"
	    "  stop [--no-wait] zone ... | --all   stop zones\n"
	    "  restart [--no-wait] zone ... | --all\n"
	    "  events zone [-n N] [-f]             lifecycle records (-f: follow)\n"
	    "  logs zone [-n N] [-f]               console output: the last N lines\n"
	    "                                      (default %d; -f: follow)\n"
	    "  diagnose zone                       readiness, blocker, outage cause\n"
	    "  health zone                         probe the zone's VM now (exit 1 if it fails)\n"
	    "  refresh-credentials [--no-wait] zone ... | --all\n"
	    "                                      resolve secrets afresh, then restart (or start)\n"
	    "  reset zone [--force]                lift a recovery suspension; --force also\n"
	    "                                      clears owner-unsafe evidence (exit 8: nothing to reset)\n"
	    "  reload [--dry-run]                  load the configuration again; print the plan\n"
	    "                                      (--dry-run: only print it; exit 1: invalid)\n"
	    "  lease acquire zone [--ttl D] [--owner NAME]\n"
	    "                                      lend out a tool VM (exit 11: no free slot,\n"
	    "                                      12: no [tool-vm], 3: zone not running)\n"
	    "  lease renew lease [--ttl D] [--zone zone]\n"
	    "                                      extend a lease by D (default: its own ttl)\n"
	    "  lease release lease [--force] [--zone zone]\n"
	    "                                      stop its tool VM and free the slot (exit 9:\n"
	    "                                      unknown lease, 10: lease of another zone)\n"
	    "  lease list [zone]                   leases of every zone, or of one\n"
	    "  metrics                             Prometheus text exposition of every zone\n"
	    "  version                             client and daemon versions\n"
	    "--timeout bounds the wait; for start and restart it also bounds the\n"
	    "operation itself, which fails with recovery-timeout when it passes.\n"
	    "The socket is -s, else $ZONEVISOR_SOCKET, else %s.\n",
	    LOGS_LINES_DEFAULT, DEFAULT_SOCKET);
	exit(code);
}

/* Print "zonectl: message" and exit with code. */
static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("zonectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Connect, or exit 6 (5 when the socket refuses us). */
static void
ctl_connect(void)
{
	if (client_connect(&conn, socket_path) == 0)
		return;
	if (errno == EACCES || errno == EPERM)
		die(ZC_EXIT_PERMISSION, "cannot connect to %s: %s", socket_path,
		    strerror(errno));
	die(ZC_EXIT_UNREACHABLE, "cannot reach zonevisord at %s: %s (is it "
	    "running? use -s or ZONEVISOR_SOCKET)", socket_path, strerror(errno));
}

/*
 * Send {v, id, cmd, zone?, args?}; args holds "wait" when wait >= 0,
 * "timeout_ms" with --timeout, and "zones" when nzones > 0.  Returns the
 * request id.
 */
static int64_t
ctl_send(const char *cmd, const char *zone, int wait, int nzones, char **zones)
{
	struct msgw *args = NULL;
	int i;

	if (wait >= 0 || nzones > 0) {
		args = msgw_new();
		msgw_map_begin(args);
		if (wait >= 0) {
			msgw_key(args, "wait");
			msgw_bool(args, wait);
			if (timeout_ms > 0) {
				msgw_key(args, "timeout_ms");
				msgw_int(args, timeout_ms);
			}
		}
		if (nzones > 0) {
			msgw_key(args, "zones");
			msgw_array_begin(args);
			for (i = 0; i < nzones; i++)
				msgw_str(args, zones[i]);
			msgw_array_end(args);
		}
		msgw_map_end(args);
	}
	return ctl_send_args(cmd, zone, args);
}

/* Send cmd with args {key: flag}, a request's one boolean option. */
static int64_t
ctl_send_flag(const char *cmd, const char *zone, const char *key, int flag)
{
	struct msgw *args = msgw_new();

	msgw_map_begin(args);
	msgw_str(args, key);
	msgw_bool(args, flag);
	msgw_map_end(args);
	return ctl_send_args(cmd, zone, args);
}

/* Send {v, id, cmd, zone?, args?} with args already packed (or NULL). */
static int64_t
ctl_send_args(const char *cmd, const char *zone, struct msgw *args)
{
	struct msgw *w = msgw_new();
	int64_t id = next_id++;
	const char *data;
	size_t len;

	msgw_map_begin(w);
	msgw_key(w, "v");
	msgw_int(w, PROTO_VERSION);
	msgw_key(w, "id");
	msgw_int(w, id);
	msgw_key(w, "cmd");
	msgw_str(w, cmd);
	if (zone != NULL) {
		msgw_key(w, "zone");
		msgw_str(w, zone);
	}
	if (args != NULL) {
		data = msgw_frame(args, &len);
		msgw_key(w, "args");
		msgw_raw(w, data + FRAME_HEADER, len - FRAME_HEADER);
		msgw_free(args);
	}
	msgw_map_end(w);
	if (client_send(&conn, w) != 0) {
		int err = errno;
		const char *cause;
		struct mdoc *doc;

		/* A daemon that refuses us says why, then closes. */
		doc = client_recv(&conn, clock_mono_ms() + 1000, &cause);
		if (doc != NULL && !answer_ok(mdoc_root(doc)))
			exit(print_error(mdoc_root(doc), NULL));
		die(ZC_EXIT_UNREACHABLE, "cannot send to zonevisord: %s",
		    strerror(err));
	}
	return id;
}

/* Read one answer within timeout ms of start; exit on failure. */
static struct mdoc *
ctl_recv(int64_t start, int64_t timeout)
{
	const char *cause;
	struct mdoc *doc;

	doc = client_recv(&conn, timeout > 0 ? start + timeout : 0, &cause);
	if (doc != NULL)
		return doc;
	ctl_recv_failed(cause, timeout);
}

/* Exit for an answer that could not be read (cause from client_recv). */
static void
ctl_recv_failed(const char *cause, int64_t timeout)
{
	if (strcmp(cause, "timeout") == 0)
		die(ZC_EXIT_FAILED, "no answer from zonevisord within %lldms",
		    (long long)timeout);
	if (strcmp(cause, "connection closed") == 0)
		die(ZC_EXIT_UNREACHABLE, "zonevisord closed the connection");
	die(ZC_EXIT_PROTOCOL, "unreadable answer from zonevisord: %s", cause);
}

/*
 * status --json of every zone: an ok answer is printed straight from its
 * bytes.  A thousand zones are half a megabyte, and decoding them into a
 * tree first would triple the time.  Anything else goes the usual way.
 */
static int
status_json_raw(int64_t start)
{
	int64_t timeout = timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS;
	const char *data, *cause;
	struct mdoc *doc;
	struct mitem ok;
	size_t len, off;
	int rc;

	if ((data = client_recv_raw(&conn, start + timeout, &len,
	    &cause)) == NULL)
		ctl_recv_failed(cause, timeout);
	if (mraw_get(data, len, "ok", &off) == 0 &&
	    mraw_item(data, len, &off, &ok) == 0 && ok.kind == MV_BOOL &&
	    ok.b && mraw_get(data, len, "result", &off) == 0) {
		if (json_print_raw(stdout, data, len, off) != 0)
			die(ZC_EXIT_PROTOCOL, "unreadable answer from zonevisord: "
			    "malformed msgpack");
		fputc('\n', stdout);
		return ZC_EXIT_OK;
	}
	if ((doc = mdoc_parse(data, len, &cause)) == NULL)
		die(ZC_EXIT_PROTOCOL, "unreadable answer from zonevisord: %s",
		    cause);
	if (answer_ok(mdoc_root(doc)))
		die(ZC_EXIT_PROTOCOL, "status answer without a result");
	rc = print_error(mdoc_root(doc), NULL);
	mdoc_free(doc);
	return rc;
}

/* The exit code for an error code of the daemon. */
static int
error_exit_code(const char *code)
{
	if (strcmp(code, names_ctl_error(CTLERR_UNKNOWN_ZONE)) == 0)
		return ZC_EXIT_UNKNOWN_ZONE;
	if (strcmp(code, names_ctl_error(CTLERR_NOTHING_TO_RESET)) == 0)
		return ZC_EXIT_NOTHING;
	if (strcmp(code, names_ctl_error(CTLERR_ZONE_NOT_RUNNING)) == 0)
		return ZC_EXIT_NOT_RUNNING;
	if (strcmp(code, names_ctl_error(CTLERR_UNKNOWN_LEASE)) == 0)
		return ZC_EXIT_UNKNOWN_LEASE;
	if (strcmp(code, names_ctl_error(CTLERR_LEASE_OF_ANOTHER_ZONE)) == 0)
		return ZC_EXIT_LEASE_ZONE;
	if (strcmp(code, names_ctl_error(CTLERR_NO_FREE_SLOT)) == 0)
		return ZC_EXIT_NO_SLOT;
	if (strcmp(code, names_ctl_error(CTLERR_NO_TOOL_VM)) == 0)
		return ZC_EXIT_NO_TOOL_VM;
	if (strcmp(code, names_ctl_error(CTLERR_PERMISSION_DENIED)) == 0)
		return ZC_EXIT_PERMISSION;
	if (strcmp(code, names_ctl_error(CTLERR_BAD_REQUEST)) == 0 ||
	    strcmp(code, names_ctl_error(CTLERR_UNKNOWN_COMMAND)) == 0 ||
	    strcmp(code, names_ctl_error(CTLERR_UNSUPPORTED_VERSION)) == 0 ||
	    strcmp(code, names_ctl_error(CTLERR_FRAME_TOO_LARGE)) == 0)
		return ZC_EXIT_USAGE;
	return ZC_EXIT_FAILED;
}

/* A string field of a map into buf, or "-" when absent or nil. */
static const char *
str_field(const struct mval *m, const char *key, char *buf, size_t len)
{
	const struct mval *v = m != NULL ? mval_get(m, key) : NULL;

	if (v == NULL || mval_strcpy(v, buf, len) != 0)
		snprintf(buf, len, "-");
	return buf;
}

/* An integer field of a map, or def when absent or nil. */
static int64_t
int_field(const struct mval *m, const char *key, int64_t def)
{
	const struct mval *v = m != NULL ? mval_get(m, key) : NULL;
	int64_t n;

	if (v == NULL || mval_int(v, &n) != 0)
		return def;
	return n;
}

/* "3d4h", "2h5m", "4m12s" or "12s". */
static void
format_uptime(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s >= 86400)
		snprintf(buf, len, "%lldd%lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lldm%llds", (long long)(s / 60),
		    (long long)(s % 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

/* The answer's error, printed; returns its exit code. */
static int
print_error(const struct mval *root, const char *zone)
{
	const struct mval *err = mval_get(root, "error");
	char code[64], msg[512];

	str_field(err, "code", code, sizeof code);
	str_field(err, "message", msg, sizeof msg);
	if (json) {
		/* Scripts get the error on stdout as JSON too. */
		fputs("{\"error\":", stdout);
		if (err != NULL)
			json_print(stdout, err);
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
		fflush(stdout);
	}
	if (zone != NULL && strstr(msg, zone) == NULL)
		fprintf(stderr, "zonectl: %s: %s: %s\n", zone, code, msg);
	else
		fprintf(stderr, "zonectl: %s: %s\n", code, msg);
	return error_exit_code(code);
}

/* 1 if the answer says ok: true. */
static int
answer_ok(const struct mval *root)
{
	const struct mval *v = mval_get(root, "ok");
	int ok = 0;

	if (v == NULL || mval_bool(v, &ok) != 0)
		die(ZC_EXIT_PROTOCOL, "answer without ok");
	return ok;
}

/* status [zone ...]: a table, or the daemon's JSON. */
static int
cmd_status(int argc, char **argv)
{
	const struct mval *root, *result, *zones, *z;
	char name[80], state[32], err[64], health[32], up[32], pid[16];
	int64_t start = clock_mono_ms();
	struct mdoc *doc;
	size_t i, n, width = 4, swidth = 5;
	int rc = ZC_EXIT_OK;

	ctl_connect();
	ctl_send("status", NULL, -1, argc, argv);
	if (json && argc == 0)
		return status_json_raw(start);
	doc = ctl_recv(start, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
	root = mdoc_root(doc);
	if (!answer_ok(root)) {
		rc = print_error(root, NULL);
		mdoc_free(doc);
		return rc;
	}
	result = mval_get(root, "result");
	zones = result != NULL ? mval_get(result, "zones") : NULL;
	if (zones == NULL || mval_kind(zones) != MV_ARRAY)
		die(ZC_EXIT_PROTOCOL, "status answer without zones");
	n = mval_len(zones);
	for (i = 0; i < n; i++) {
		z = mval_at(zones, i);
		str_field(z, "state", state, sizeof state);
		if (argc > 0 && strcmp(state, "running") != 0 &&
		    strcmp(state, "running-degraded") != 0)
			rc = ZC_EXIT_NOT_RUNNING;
		if (strlen(state) > swidth)
			swidth = strlen(state);
		if (strlen(str_field(z, "name", name, sizeof name)) > width)
			width = strlen(name);
	}
	if (json) {
		json_print(stdout, result);
		fputc('\n', stdout);
		mdoc_free(doc);
		return rc;
	}
	printf("%-*s  %-*s  %-8s  %-8s  %-8s  %-6s  %s\n", (int)width, "ZONE",
	    (int)swidth, "STATE", "PID", "UPTIME", "RESTARTS", "HEALTH",
	    "LAST ERROR");
	for (i = 0; i < n; i++) {
		const struct mval *le;

		z = mval_at(zones, i);
		le = mval_get(z, "last_error");
		if (int_field(z, "pid", 0) > 0)
			snprintf(pid, sizeof pid, "%lld",
			    (long long)int_field(z, "pid", 0));
		else
			snprintf(pid, sizeof pid, "-");
		format_uptime(int_field(z, "uptime_s", -1), up, sizeof up);
		printf("%-*s  ", (int)width, str_field(z, "name", name,
		    sizeof name));
		print_painted(str_field(z, "state", state, sizeof state),
		    (int)swidth);
		printf("  %-8s  %-8s  %-8lld  ", pid, up,
		    (long long)int_field(z, "restarts", 0));
		print_painted(str_field(z, "health", health, sizeof health), 6);
		printf("  %s\n", le != NULL && mval_kind(le) == MV_MAP ?
		    str_field(le, "code", err, sizeof err) : "-");
	}
	mdoc_free(doc);
	return rc;
}

/* Every zone's name, from a status request. */
static char **
all_zones(int *count)
{
	const struct mval *root, *result, *zones;
	int64_t start = clock_mono_ms();
	struct mdoc *doc;
	char **names;
	size_t i, n;

	ctl_send("status", NULL, -1, 0, NULL);
	doc = ctl_recv(start, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
	root = mdoc_root(doc);
	if (!answer_ok(root))
		exit(print_error(root, NULL));
	result = mval_get(root, "result");
	zones = result != NULL ? mval_get(result, "zones") : NULL;
	if (zones == NULL || mval_kind(zones) != MV_ARRAY)
		die(ZC_EXIT_PROTOCOL, "status answer without zones");
	n = mval_len(zones);
	names = calloc(n + 1, sizeof *names);
	if (names == NULL)
		die(ZC_EXIT_FAILED, "out of memory");
	for (i = 0; i < n; i++) {
		const struct mval *v = mval_get(mval_at(zones, i), "name");

		if (v == NULL || (names[i] = mval_strdup(v)) == NULL)
			die(ZC_EXIT_PROTOCOL, "zone without a name");
	}
	mdoc_free(doc);
	*count = (int)n;
	return names;
}

/*
 * start, stop, restart: one request per zone, sent together; the answers
 * come as each operation ends.  The exit code is the worst of them.
 */
static int
cmd_operation(const char *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	int64_t start, *ids, timeout;
	int ch, i, wait = 1, all = 0, rc = ZC_EXIT_OK, nzones, *answered;
	char **zones;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			wait = 0;
			break;
		case 'a':
			all = 1;
			break;
		default:
			usage(stderr, ZC_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((argc == 0) == !all) {
		fprintf(stderr, "zonectl: %s needs zone names or --all\n", cmd);
		usage(stderr, ZC_EXIT_USAGE);
	}
	for (i = 0; i < argc; i++)
		if (!config_zone_name_valid(argv[i]))
			die(ZC_EXIT_UNKNOWN_ZONE, "unknown zone: %s (not a valid "
			    "zone name)", argv[i]);
	ctl_connect();
	zones = argv;
	nzones = argc;
	if (all)
		zones = all_zones(&nzones);
	if (nzones == 0) {
		if (json)
			printf("{\"results\":[]}\n");
		else
			printf("no zones\n");
		if (all)
			free(zones);
		return ZC_EXIT_OK;
	}
	ids = calloc((size_t)nzones, sizeof *ids);
	answered = calloc((size_t)nzones, sizeof *answered);
	if (ids == NULL || answered == NULL)
		die(ZC_EXIT_FAILED, "out of memory");
	start = clock_mono_ms();
	for (i = 0; i < nzones; i++)
		ids[i] = ctl_send(cmd, zones[i], wait, 0, NULL);
	/* The daemon abandons the operation at --timeout; wait for its answer. */
	timeout = timeout_ms > 0 ? timeout_ms + 5000 : wait ? WAIT_TIMEOUT_MS :
	    REQUEST_TIMEOUT_MS;
	if (json)
		fputs("{\"results\":[", stdout);
	for (i = 0; i < nzones; i++) {
		struct mdoc *doc = wait ? ctl_recv_progress(start, timeout, cmd,
		    zones, answered, nzones) : ctl_recv(start, timeout);
		const struct mval *root = mdoc_root(doc), *result;
		int64_t id = int_field(root, "id", -1);
		const char *zone = NULL;
		char state[32], msg[256];
		int k, code;

		for (k = 0; k < nzones; k++)
			if (ids[k] == id) {
				zone = zones[k];
				answered[k] = 1;
			}
		if (json) {
			if (i > 0)
				fputc(',', stdout);
			json_print(stdout, root);
		}
		if (!answer_ok(root)) {
			if (json) {
				const struct mval *err = mval_get(root, "error");

				code = error_exit_code(str_field(err, "code",
				    state, sizeof state));
			} else
				code = print_error(root, zone);
			if (code > rc)
				rc = code;
		} else if (!json) {
			result = mval_get(root, "result");
			if (!wait)
				printf("%s: %s accepted (%s)\n", zone != NULL ?
				    zone : "?", cmd, str_field(result,
				    "operation_id", msg, sizeof msg));
			else {
				printf("%s: ", zone != NULL ? zone : "?");
				print_painted(str_field(result, "state", state,
				    sizeof state), 0);
				if (int_field(result, "pid", 0) > 0)
					printf(" (pid %lld)", (long long)
					    int_field(result, "pid", 0));
				putchar('\n');
			}
		}
		if (progress != NULL)
			fflush(stdout);	/* before the progress line's redraw */
		mdoc_free(doc);
	}
	if (json)
		fputs("]}\n", stdout);
	free(ids);
	free(answered);
	if (all) {
		for (i = 0; i < nzones; i++)
			free(zones[i]);
		free(zones);
	}
	return rc;
}

/* version: this client's and the daemon's. */
static int
cmd_version(int argc, char **argv)
{
	const struct mval *result;
	struct mdoc *doc;
	char version[64];
	int rc;

	if (argc > 0)
		usage(stderr, ZC_EXIT_USAGE);
	if ((result = ctl_request("version", NULL, &doc, &rc)) == NULL)
		return rc;
	if (json) {
		printf("{\"client\":{\"version\":\"%s\",\"protocol\":%d},"
		    "\"daemon\":", PACKAGE_VERSION, PROTO_VERSION);
		json_print(stdout, result);
		fputs("}\n", stdout);
	} else
		printf("zonectl %s, zonevisord %s (protocol %lld)\n",
		    PACKAGE_VERSION, str_field(result, "version", version,
		    sizeof version), (long long)int_field(result, "protocol", 0));
	mdoc_free(doc);
	return ZC_EXIT_OK;
}

/*
 * metrics: the daemon's Prometheus text, printed as it came (--json: the
 * answer's result, {text, content_type}).
 */
static int
cmd_metrics(int argc, char **argv)
{
	const struct mval *result, *text;
	struct mdoc *doc;
	const char *s;
	size_t len;
	int rc;

	if (argc > 0)
		usage(stderr, ZC_EXIT_USAGE);
	if ((result = ctl_request("metrics", NULL, &doc, &rc)) == NULL)
		return rc;
	text = mval_get(result, "text");
	if (text == NULL || (s = mval_str(text, &len)) == NULL)
		die(ZC_EXIT_PROTOCOL, "metrics answer without a text");
	if (json) {
		json_print(stdout, result);
		fputc('\n', stdout);
	} else
		fwrite(s, 1, len, stdout);
	mdoc_free(doc);
	if (fflush(stdout) == EOF)
		die(ZC_EXIT_FAILED, "writing the metrics: %s", strerror(errno));
	return ZC_EXIT_OK;
}

/* Milliseconds since the epoch as 2026-11-27T18:07:09.123Z. */
static void
format_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lldZ", s, (long long)(ms % 1000));
}

/* One record as a line: time, kind, operation, trigger, VMs, error. */
static void
print_record(const struct mval *r)
{
	char when[40], kind[40], op[OP_ID_MAX], trig[40], code[64], msg[512];
	const struct mval *v;

	format_time(int_field(r, "observed_at", 0), when, sizeof when);
	printf("%s  %-29s  %s  %s", when, str_field(r, "kind", kind, sizeof kind),
	    str_field(r, "operation_id", op, sizeof op),
	    str_field(r, "trigger", trig, sizeof trig));
	if ((v = mval_get(r, "previous_vm")) != NULL && mval_kind(v) == MV_MAP)
		printf("  previous_vm=%lld", (long long)int_field(v, "pid", 0));
	if ((v = mval_get(r, "current_vm")) != NULL && mval_kind(v) == MV_MAP)
		printf("  current_vm=%lld", (long long)int_field(v, "pid", 0));
	if (mval_get(r, "error_code") != NULL)
		printf("  error=%s", str_field(r, "error_code", code, sizeof code));
	if (mval_get(r, "error_message") != NULL)
		printf("  (%s)", str_field(r, "error_message", msg, sizeof msg));
	if ((v = mval_get(r, "evidence")) != NULL && mval_kind(v) == MV_MAP)
		printf("  evidence=%s", str_field(v, "kind", code, sizeof code));
	putchar('\n');
}

/* One lifecycle record: as a line, or (--json) as a JSON object. */
static void
print_event(const char *zone, const struct mval *r)
{
	(void)zone;
	if (json) {
		json_print(stdout, r);
		putchar('\n');
	} else
		print_record(r);
}

/*
 * events zone [-n N] [-f]: the zone's lifecycle records, oldest first, as
 * lines or (--json) one JSON object per line; -f keeps printing new ones.
 */
static int
cmd_events(int argc, char **argv)
{
	return zone_stream("events", "records", 1000000, print_event, argc,
	    argv);
}

/*
 * Send cmd (about zone, unless NULL) and wait for the answer: its result,
 * a map, with *doc to free; or NULL with *rc the exit code when the daemon
 * refused.
 */
static const struct mval *
ctl_request(const char *cmd, const char *zone, struct mdoc **doc, int *rc)
{
	const struct mval *root, *res;
	int64_t start = clock_mono_ms();

	if (zone != NULL && !config_zone_name_valid(zone))
		die(ZC_EXIT_UNKNOWN_ZONE, "unknown zone: %s (not a valid zone "
		    "name)", zone);
	ctl_connect();
	ctl_send(cmd, zone, -1, 0, NULL);
	*doc = ctl_recv(start, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
	root = mdoc_root(*doc);
	if (!answer_ok(root)) {
		*rc = print_error(root, zone);
		mdoc_free(*doc);
		return NULL;
	}
	res = mval_get(root, "result");
	if (res == NULL || mval_kind(res) != MV_MAP)
		die(ZC_EXIT_PROTOCOL, "%s answer without a result", cmd);
	return res;
}

/* diagnose zone: readiness, blocker, last operation, outage cause. */
static int
cmd_diagnose(int argc, char **argv)
{
	const struct mval *d, *v;
	char a[512], b[512], c[512], when[40];
	struct mdoc *doc;
	int alive = 0, rc;

	if (argc != 1)
		usage(stderr, ZC_EXIT_USAGE);
	if ((d = ctl_request("diagnose", argv[0], &doc, &rc)) == NULL)
		return rc;
	if (json) {
		json_print(stdout, d);
		putchar('\n');
		mdoc_free(doc);
		return ZC_EXIT_OK;
	}
	printf("zone:            %s\n", str_field(d, "zone", a, sizeof a));
	printf("state:           %s (desired %s)\n",
	    str_field(d, "state", a, sizeof a),
	    str_field(d, "desired", b, sizeof b));
	printf("readiness:       %s\n", str_field(d, "readiness", a, sizeof a));
	printf("blocker:         %s\n", str_field(d, "blocker", a, sizeof a));
	v = mval_get(d, "probe");
	if (v != NULL && mval_kind(v) == MV_MAP) {
		const struct mval *last = mval_get(v, "last");

		printf("health:          %s (%s probe, %lld failed in a row)",
		    str_field(d, "health", a, sizeof a), str_field(v, "kind", b,
		    sizeof b), (long long)int_field(v, "failures", 0));
		if (last != NULL && mval_kind(last) == MV_MAP)
			printf(": %s", str_field(last, "detail", c, sizeof c));
		putchar('\n');
	} else
		printf("health:          no probe\n");
	v = mval_get(d, "last_error");
	printf("last error:      %s\n", v != NULL && mval_kind(v) == MV_MAP ?
	    str_field(v, "message", a, sizeof a) : "-");
	v = mval_get(d, "evidence");
	if (v != NULL && mval_kind(v) == MV_MAP)
		printf("evidence:        %s: %s\n", str_field(v, "kind", a,
		    sizeof a), str_field(v, "detail", b, sizeof b));
	v = mval_get(d, "last_operation");
	if (v != NULL && mval_kind(v) == MV_MAP) {
		format_time(int_field(v, "at", 0), when, sizeof when);
		printf("last operation:  %s (%s) %s at %s", str_field(v, "id",
		    a, sizeof a), str_field(v, "trigger", b, sizeof b),
		    str_field(v, "result", c, sizeof c), when);
		if (mval_get(v, "error") != NULL &&
		    mval_kind(mval_get(v, "error")) == MV_STR)
			printf(": %s", str_field(v, "error", a, sizeof a));
		putchar('\n');
	} else
		printf("last operation:  -\n");
	v = mval_get(d, "original_outage_cause");
	if (v != NULL && mval_kind(v) == MV_MAP) {
		format_time(int_field(v, "at", 0), when, sizeof when);
		printf("outage cause:    %s at %s (%s)\n", str_field(v, "code", a,
		    sizeof a), when, str_field(v, "message", b, sizeof b));
	} else
		printf("outage cause:    -\n");
	v = mval_get(d, "vm");
	if (v != NULL && mval_kind(v) == MV_MAP)
		printf("vm:              pid %lld, up %llds\n",
		    (long long)int_field(v, "pid", 0),
		    (long long)int_field(v, "uptime_s", 0));
	else
		printf("vm:              -\n");
	v = mval_get(d, "worker");
	if (v != NULL && mval_get(v, "alive") != NULL &&
	    mval_bool(mval_get(v, "alive"), &alive) != 0)
		alive = 0;
	printf("worker:          pid %lld, %s, link %s\n",
	    (long long)int_field(v, "pid", 0), alive ? "alive" : "not running",
	    str_field(v, "link", a, sizeof a));
	printf("tool VMs:        %s", str_field(d, "tool_vm_plane", a,
	    sizeof a));
	if (strcmp(a, "none") != 0) {
		v = mval_get(d, "tool_vm_detail");
		if (v != NULL && mval_kind(v) == MV_STR)
			printf(": %s", str_field(d, "tool_vm_detail", b,
			    sizeof b));
		printf(" (%lld leases, %lld quarantined)",
		    (long long)int_field(d, "leases", 0),
		    (long long)int_field(d, "quarantined", 0));
	}
	putchar('\n');
	v = mval_get(d, "persistence");
	if (v != NULL && mval_kind(v) == MV_MAP &&
	    strcmp(str_field(v, "state", a, sizeof a), "degraded") == 0) {
		format_time(int_field(v, "since", 0), when, sizeof when);
		printf("persistence:     degraded since %s: %s", when,
		    str_field(v, "cause", b, sizeof b));
	} else
		printf("persistence:     %s", v != NULL && mval_kind(v) ==
		    MV_MAP ? a : "-");
	if (int_field(v, "records_lost", 0) > 0)
		printf(" (%lld lifecycle records lost)",
		    (long long)int_field(v, "records_lost", 0));
	putchar('\n');
	v = mval_get(d, "recovery");
	printf("recovery:        %s\n", str_field(v, "state", a, sizeof a));
	mdoc_free(doc);
	return ZC_EXIT_OK;
}

/* health zone: probe now; exit 0 if the probe passed, 1 if it failed. */
static int
cmd_health(int argc, char **argv)
{
	const struct mval *res, *okv;
	struct mdoc *doc;
	char detail[512], kind[32];
	int ok = 0, rc;

	if (argc != 1)
		usage(stderr, ZC_EXIT_USAGE);
	if ((res = ctl_request("health", argv[0], &doc, &rc)) == NULL)
		return rc;
	if ((okv = mval_get(res, "ok")) == NULL || mval_bool(okv, &ok) != 0)
		die(ZC_EXIT_PROTOCOL, "health answer without ok");
	if (json) {
		json_print(stdout, res);
		putchar('\n');
	} else {
		printf("%s: ", argv[0]);
		print_painted(ok ? "ok" : "failed", 0);
		printf(" (%s probe, %lldms): %s\n", str_field(res, "probe",
		    kind, sizeof kind), (long long)int_field(res, "latency_ms",
		    0), str_field(res, "detail", detail, sizeof detail));
	}
	mdoc_free(doc);
	return ok ? ZC_EXIT_OK : ZC_EXIT_FAILED;
}

/* reset zone [--force]: the daemon says what it did. */
static int
cmd_reset(int argc, char **argv)
{
	const struct mval *root, *result;
	int64_t start = clock_mono_ms();
	struct mdoc *doc;
	char msg[512];
	int i, force = 0, rc = ZC_EXIT_OK;
	const char *zone = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (zone == NULL && argv[i][0] != '-')
			zone = argv[i];
		else
			usage(stderr, ZC_EXIT_USAGE);
	}
	if (zone == NULL)
		usage(stderr, ZC_EXIT_USAGE);
	if (!config_zone_name_valid(zone))
		die(ZC_EXIT_UNKNOWN_ZONE, "unknown zone: %s (not a valid zone "
		    "name)", zone);
	ctl_connect();
	ctl_send_flag("reset", zone, "force", force);
	doc = ctl_recv(start, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
	root = mdoc_root(doc);
	if (!answer_ok(root))
		rc = print_error(root, zone);
	else if (json) {
		json_print(stdout, mval_get(root, "result"));
		putchar('\n');
	} else {
		result = mval_get(root, "result");
		printf("%s: %s\n", zone, str_field(result, "message", msg,
		    sizeof msg));
	}
	mdoc_free(doc);
	return rc;
}

/* "label: a b c" for an array of names, if it is not empty. */
static void
print_names(const struct mval *res, const char *key, const char *label)
{
	const struct mval *a = mval_get(res, key);
	char name[ZONE_NAME_MAX + 1];
	size_t i;

	if (a == NULL || mval_kind(a) != MV_ARRAY || mval_len(a) == 0)
		return;
	printf("%s:", label);
	for (i = 0; i < mval_len(a); i++)
		if (mval_strcpy(mval_at(a, i), name, sizeof name) == 0)
			printf(" %s", name);
	putchar('\n');
}

/*
 * reload [--dry-run]: the daemon loads its configuration again and answers
 * with the plan; an invalid configuration's error lines go to stderr.
 */
static int
cmd_reload(int argc, char **argv)
{
	const struct mval *root, *res, *err, *lines, *changed, *notes;
	int64_t start = clock_mono_ms();
	struct mdoc *doc;
	char code[64], line[1024], zone[ZONE_NAME_MAX + 1], what[64];
	int i, dry_run = 0, rc = ZC_EXIT_OK;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			dry_run = 1;
		else
			usage(stderr, ZC_EXIT_USAGE);
	}
	ctl_connect();
	ctl_send_flag("reload", NULL, "dry_run", dry_run);
	doc = ctl_recv(start, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
	root = mdoc_root(doc);
	if (!answer_ok(root)) {
		err = mval_get(root, "error");
		lines = err != NULL ? mval_get(err, "lines") : NULL;
		if (strcmp(str_field(err, "code", code, sizeof code),
		    names_ctl_error(CTLERR_INVALID_CONFIG)) == 0 &&
		    lines != NULL && mval_kind(lines) == MV_ARRAY) {
			if (json) {
				fputs("{\"error\":", stdout);
				json_print(stdout, err);
				fputs("}\n", stdout);
			}
			for (k = 0; k < mval_len(lines); k++)
				if (mval_strcpy(mval_at(lines, k), line,
				    sizeof line) == 0)
					fprintf(stderr, "zonectl: %s\n", line);
			fprintf(stderr, "zonectl: invalid configuration (%zu "
			    "error%s); the running configuration stays in "
			    "force\n", mval_len(lines),
			    mval_len(lines) == 1 ? "" : "s");
			rc = ZC_EXIT_FAILED;
		} else
			rc = print_error(root, NULL);
		mdoc_free(doc);
		return rc;
	}
	res = mval_get(root, "result");
	if (res == NULL || mval_kind(res) != MV_MAP)
		die(ZC_EXIT_PROTOCOL, "reload answer without a result");
	if (json) {
		json_print(stdout, res);
		putchar('\n');
		mdoc_free(doc);
		return ZC_EXIT_OK;
	}
	if (dry_run)
		printf("dry run: nothing changed\n");
	print_names(res, "added", "added");
	print_names(res, "removed", "removed");
	changed = mval_get(res, "changed");
	for (k = 0; changed != NULL && mval_kind(changed) == MV_ARRAY &&
	    k < mval_len(changed); k++) {
		const struct mval *c = mval_at(changed, k);
		const struct mval *rv = mval_get(c, "restart");
		int restart = 0;

		if (rv != NULL && mval_bool(rv, &restart) != 0)
			restart = 0;
		str_field(c, "zone", zone, sizeof zone);
		str_field(c, "what", what, sizeof what);
		if (restart)
			printf("changed: %s (restart)\n", zone);
		else
			printf("changed: %s (%s only, no restart)\n", zone, what);
	}
	print_names(res, "unchanged", "unchanged");
	notes = mval_get(res, "notes");
	for (k = 0; notes != NULL && mval_kind(notes) == MV_ARRAY &&
	    k < mval_len(notes); k++)
		if (mval_strcpy(mval_at(notes, k), line, sizeof line) == 0)
			printf("note: %s\n", line);
	mdoc_free(doc);
	return rc;
}

/* 1 if s is a lease owner: 1 to 64 printable ASCII characters, no space. */
static int
owner_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= LEASE_OWNER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '!' || s[i] > '~')
			return 0;
	return 1;
}

/* The args of a lease request: {op, lease?, ttl_ms?, owner?, force?}. */
static struct msgw *
lease_args(int op, const char *lease, int64_t ttl, const char *owner,
    int force)
{
	struct msgw *args = msgw_new();

	msgw_map_begin(args);
	msgw_key(args, "op");
	msgw_str(args, names_lease_op(op));
	if (lease != NULL) {
		msgw_key(args, "lease");
		msgw_str(args, lease);
	}
	if (ttl > 0) {
		msgw_key(args, "ttl_ms");
		msgw_int(args, ttl);
	}
	if (owner != NULL) {
		msgw_key(args, "owner");
		msgw_str(args, owner);
	}
	if (op == LOP_RELEASE) {
		msgw_key(args, "force");
		msgw_bool(args, force);
	}
	msgw_map_end(args);
	return args;
}

/* A lease as aligned "key: value" lines, its expiry in local time. */
static void
print_lease(const struct mval *l)
{
	char a[128], when[64];
	int64_t exp = int_field(l, "expires_at", 0), in;
	time_t t = (time_t)(exp / 1000);
	struct tm tm;

	printf("lease:    %s\n", str_field(l, "id", a, sizeof a));
	printf("zone:     %s\n", str_field(l, "zone", a, sizeof a));
	printf("slot:     %lld\n", (long long)int_field(l, "slot", -1));
	printf("port:     %lld\n", (long long)int_field(l, "port", 0));
	if (int_field(l, "pid", 0) > 0)
		printf("pid:      %lld\n", (long long)int_field(l, "pid", 0));
	else
		printf("pid:      -\n");
	if (mval_get(l, "owner") != NULL &&
	    mval_kind(mval_get(l, "owner")) == MV_STR)
		printf("owner:    %s\n", str_field(l, "owner", a, sizeof a));
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
	in = (exp - clock_now_ms()) / 1000;
	if (in > 0)
		printf("expires:  %s (in %llds)\n", when, (long long)in);
	else
		printf("expires:  %s (now)\n", when);
}

/* Leases as a table: LEASE ZONE SLOT PORT STATE PID OWNER EXPIRES. */
static void
print_lease_table(const struct mval *leases)
{
	char id[LEASE_ID_MAX], zone[ZONE_NAME_MAX + 1], state[32];
	char owner[LEASE_OWNER_MAX], pid[16], in[40];
	size_t i, n = mval_len(leases), zw = 4, sw = 5, ow = 5;
	int64_t now = clock_now_ms();

	if (n == 0) {
		printf("no leases\n");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct mval *l = mval_at(leases, i);

		if (strlen(str_field(l, "zone", zone, sizeof zone)) > zw)
			zw = strlen(zone);
		if (strlen(str_field(l, "state", state, sizeof state)) > sw)
			sw = strlen(state);
		if (strlen(str_field(l, "owner", owner, sizeof owner)) > ow)
			ow = strlen(owner);
	}
	printf("%-36s  %-*s  %4s  %5s  %-*s  %-7s  %-*s  %s\n", "LEASE",
	    (int)zw, "ZONE", "SLOT", "PORT", (int)sw, "STATE", "PID", (int)ow,
	    "OWNER", "EXPIRES");
	for (i = 0; i < n; i++) {
		const struct mval *l = mval_at(leases, i);
		int64_t left = (int_field(l, "expires_at", 0) - now) / 1000;

		if (int_field(l, "pid", 0) > 0)
			snprintf(pid, sizeof pid, "%lld",
			    (long long)int_field(l, "pid", 0));
		else
			snprintf(pid, sizeof pid, "-");
		if (left > 0) {
			format_uptime(left, state, sizeof state);
			snprintf(in, sizeof in, "in %s", state);
		} else
			snprintf(in, sizeof in, "now");
		printf("%-36s  %-*s  %4lld  %5lld  %-*s  %-7s  %-*s  %s\n",
		    str_field(l, "id", id, sizeof id), (int)zw,
		    str_field(l, "zone", zone, sizeof zone),
		    (long long)int_field(l, "slot", -1),
		    (long long)int_field(l, "port", 0), (int)sw,
		    str_field(l, "state", state, sizeof state), pid, (int)ow,
		    str_field(l, "owner", owner, sizeof owner), in);
	}
}

/*
 * lease acquire zone [--ttl D] [--owner NAME] | renew lease [--ttl D]
 * [--zone zone] | release lease [--force] [--zone zone] | list [zone]:
 * one lease request.  What the daemon would refuse as malformed is
 * refused here first (exit 2), and nothing is sent.
 */
static int
cmd_lease(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "owner", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "zone", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 }
	};
	/* The options each op takes, as getopt's letters. */
	static const char *const takes[] = { [LOP_ACQUIRE] = "to",
	    [LOP_RENEW] = "tz", [LOP_RELEASE] = "fz", [LOP_LIST] = "" };
	const char *zone = NULL, *owner = NULL, *lease = NULL, *cause, *sub;
	const struct mval *root, *res, *l;
	int64_t ttl = 0, start, timeout;
	struct mdoc *doc;
	char a[128];
	int ch, op, i, force = 0, rc = ZC_EXIT_OK;

	if (argc < 2)
		usage(stderr, ZC_EXIT_USAGE);
	sub = argv[1];
	if ((op = names_lease_op_parse(sub)) == -1) {
		fprintf(stderr, "zonectl: unknown lease command: %s\n", sub);
		usage(stderr, ZC_EXIT_USAGE);
	}
	argc--;
	argv++;
	optind = 0;	/* start afresh, permuting: options may follow */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			usage(stderr, ZC_EXIT_USAGE);
		if (strchr(takes[op], ch) == NULL) {
			for (i = 0; longopts[i].val != ch; i++)
				;
			die(ZC_EXIT_USAGE, "lease %s does not take --%s", sub,
			    longopts[i].name);
		}
		switch (ch) {
		case 't':
			if (parse_duration(optarg, &ttl, &cause) != 0)
				die(ZC_EXIT_USAGE, "bad --ttl %s: %s", optarg,
				    cause);
			if (ttl < LEASE_TTL_MIN_MS || ttl > LEASE_TTL_MAX_MS)
				die(ZC_EXIT_USAGE, "bad --ttl %s: a lease "
				    "lives from 1s to 24h", optarg);
			break;
		case 'o':
			if (!owner_valid(optarg))
				die(ZC_EXIT_USAGE, "bad --owner %s: 1 to %d "
				    "printable characters without spaces",
				    optarg, LEASE_OWNER_MAX - 1);
			owner = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'z':
			zone = optarg;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 0 && op != LOP_LIST)) {
		fprintf(stderr, "zonectl: lease %s takes %s\n", sub,
		    op == LOP_ACQUIRE ? "one zone" : op == LOP_LIST ?
		    "at most one zone" : "one lease id");
		usage(stderr, ZC_EXIT_USAGE);
	}
	if (op == LOP_RENEW || op == LOP_RELEASE) {
		lease = argv[0];
		if (*lease == '\0')
			die(ZC_EXIT_USAGE, "lease %s needs a lease id", sub);
	} else if (argc == 1)
		zone = argv[0];
	if (zone != NULL && !config_zone_name_valid(zone))
		die(ZC_EXIT_UNKNOWN_ZONE, "unknown zone: %s (not a valid zone "
		    "name)", zone);
	ctl_connect();
	start = clock_mono_ms();
	ctl_send_args("lease", zone, lease_args(op, lease, ttl, owner, force));
	/* A release waits for the tool VM to stop: up to its stop_timeout. */
	timeout = timeout_ms > 0 ? timeout_ms : op == LOP_RELEASE ?
	    WAIT_TIMEOUT_MS : REQUEST_TIMEOUT_MS;
	doc = ctl_recv(start, timeout);
	root = mdoc_root(doc);
	if (!answer_ok(root)) {
		rc = print_error(root, zone);
		mdoc_free(doc);
		return rc;
	}
	res = mval_get(root, "result");
	if (res == NULL || mval_kind(res) != MV_MAP)
		die(ZC_EXIT_PROTOCOL, "lease answer without a result");
	l = op == LOP_LIST ? mval_get(res, "leases") : mval_get(res, "lease");
	if (l == NULL || mval_kind(l) != (op == LOP_LIST ? MV_ARRAY : MV_MAP))
		die(ZC_EXIT_PROTOCOL, "lease answer without %s",
		    op == LOP_LIST ? "leases" : "a lease");
	if (json) {
		json_print(stdout, res);
		putchar('\n');
	} else if (op == LOP_LIST)
		print_lease_table(l);
	else if (op == LOP_RELEASE)
		printf("released lease %s (zone %s, slot %lld)\n", lease,
		    str_field(l, "zone", a, sizeof a),
		    (long long)int_field(l, "slot", -1));
	else
		print_lease(l);
	mdoc_free(doc);
	return rc;
}

/* The colour of a state or health word, or NULL for none. */
static const char *
state_colour(const char *s)
{
	if (strcmp(s, "running") == 0 || strcmp(s, "ok") == 0)
		return COLOUR_GREEN;
	if (strcmp(s, "failed") == 0 || strcmp(s, "owner-unsafe") == 0 ||
	    strcmp(s, "failing") == 0)
		return COLOUR_RED;
	if (strcmp(s, "running-degraded") == 0 || strcmp(s, "starting") == 0 ||
	    strcmp(s, "stopping") == 0 || strcmp(s, "restarting") == 0)
		return COLOUR_YELLOW;
	return NULL;
}

/* A state word to stdout, coloured if it may be, padded to width. */
static void
print_painted(const char *s, int width)
{
	const char *c = colour ? state_colour(s) : NULL;
	int len = (int)strlen(s);

	if (c != NULL)
		printf("%s%s%s", c, s, COLOUR_RESET);
	else
		fputs(s, stdout);
	if (width > len)
		printf("%*s", width - len, "");
}

/*
 * Draw "starting alpha and 2 more... 2.1s" over the progress line: the
 * first zone not yet answered and how many others wait, cut to the
 * terminal's width so that it never wraps (a carriage return could not
 * reach back over a wrapped line).
 */
static void
progress_draw(const char *cmd, char **zones, const int *answered, int n,
    int64_t ms)
{
	struct winsize ws;
	const char *verb, *first = NULL;
	char line[256], more[32] = "";
	int i, waiting = 0, len, cols = 80;

	for (i = 0; i < n; i++)
		if (!answered[i] && waiting++ == 0)
			first = zones[i];
	if (first == NULL)
		return;
	if (waiting > 1)
		snprintf(more, sizeof more, " and %d more", waiting - 1);
	verb = strcmp(cmd, "start") == 0 ? "starting" : strcmp(cmd, "stop") ==
	    0 ? "stopping" : strcmp(cmd, "restart") == 0 ? "restarting" :
	    "refreshing credentials of";
	if (ms < 60000)
		len = snprintf(line, sizeof line, "%s %s%s... %lld.%llds", verb,
		    first, more, (long long)(ms / 1000),
		    (long long)(ms % 1000 / 100));
	else
		len = snprintf(line, sizeof line, "%s %s%s... %lldm%02llds",
		    verb, first, more, (long long)(ms / 60000),
		    (long long)(ms % 60000 / 1000));
	if (ioctl(fileno(progress), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col;
	if (len >= cols)
		len = cols - 1;
	if (len >= (int)sizeof line)
		len = (int)sizeof line - 1;
	fprintf(progress, "\r%.*s", len, line);
	if (progress_shown > len)
		fprintf(progress, "%*s", progress_shown - len, "");
	fflush(progress);
	if (len > progress_shown)
		progress_shown = len;
}

/* Blank the progress line, if one is shown, and go back to its start. */
static void
progress_clear(void)
{
	if (progress == NULL || progress_shown == 0)
		return;
	fprintf(progress, "\r%*s\r", progress_shown, "");
	fflush(progress);
	progress_shown = 0;
}

/*
 * ctl_recv for a wait of cmd on zones: the same answer within timeout ms
 * of start, with a progress line on a terminal meanwhile, redrawn every
 * PROGRESS_TICK_MS once PROGRESS_DELAY_MS have passed, and cleared before
 * the answer is returned (or zonectl exits).
 */
static struct mdoc *
ctl_recv_progress(int64_t start, int64_t timeout, const char *cmd,
    char **zones, const int *answered, int n)
{
	int64_t deadline = start + timeout, now, until;
	const char *cause;
	struct mdoc *doc;

	if (progress == NULL)
		return ctl_recv(start, timeout);
	for (;;) {
		now = clock_mono_ms();
		until = now < start + PROGRESS_DELAY_MS ? start +
		    PROGRESS_DELAY_MS : now + PROGRESS_TICK_MS;
		if (until > deadline)
			until = deadline;
		if ((doc = client_recv(&conn, until, &cause)) != NULL) {
			progress_clear();
			return doc;
		}
		if (strcmp(cause, "timeout") != 0 ||
		    clock_mono_ms() >= deadline) {
			progress_clear();
			ctl_recv_failed(cause, timeout);
		}
		progress_draw(cmd, zones, answered, n, clock_mono_ms() - start);
	}
}

/* One console line: as it is, or (--json) {"zone", "line"}. */
static void
print_line(const char *zone, const struct mval *v)
{
	const char *s;
	size_t len;

	if (mval_kind(v) != MV_STR)
		die(ZC_EXIT_PROTOCOL, "logs answer with a line that is no string");
	s = mval_str(v, &len);
	if (json) {
		fputs("{\"zone\":", stdout);
		json_string(stdout, zone, strlen(zone));
		fputs(",\"line\":", stdout);
		json_string(stdout, s, len);
		fputs("}\n", stdout);
	} else {
		fwrite(s, 1, len, stdout);
		putchar('\n');
	}
}

/*
 * logs zone [-n N] [-f]: the zone's console output, the last N lines, then
 * (-f) each line as the VM writes it, until interrupted, or until
 * --timeout has passed (exit 0).
 *
 * zonevisord reads the files, not zonectl.  The console log lives in the
 * zone's directory, which only zonevisord's user may enter (mode 0700), and
 * the operators of control_group are not that user: through the control
 * socket they see what they may already act on, with the same permission
 * check as every other command.  zonectl need not know the state_dir
 * either, nor follow rotation itself: the daemon, which owns the files,
 * does it as events -f does for lifecycle records.
 */
static int
cmd_logs(int argc, char **argv)
{
	return zone_stream("logs", "lines", LOGS_LINES_MAX, print_line, argc,
	    argv);
}

/*
 * events and logs: send {n, follow} about the zone argv names, then print
 * the items (under key) of each answer with print, and its problems and
 * truncation as warnings; with -f, keep printing the answers that follow
 * until interrupted, or until --timeout has passed (exit 0).
 */
static int
zone_stream(const char *cmd, const char *key, int64_t max_n,
    void (*print)(const char *, const struct mval *), int argc, char **argv)
{
	const struct mval *root, *result, *items, *problems, *tv;
	int64_t n = -1, start, deadline;
	int ch, follow = 0, truncated = 0;
	struct msgw *args;
	struct mdoc *doc;
	const char *zone, *cause;
	size_t i;

	optind = 0;	/* start afresh, permuting: CMD zone -n N works */
	opterr = 0;
	while ((ch = getopt(argc, argv, ":n:f")) != -1) {
		switch (ch) {
		case 'n':
			if (parse_int(optarg, 0, max_n, &n) != 0)
				die(ZC_EXIT_USAGE, "bad -n %s: expected a count "
				    "from 0 to %lld", optarg, (long long)max_n);
			break;
		case 'f':
			follow = 1;
			break;
		case ':':
			die(ZC_EXIT_USAGE, "%s: -%c needs a value", cmd, optopt);
		default:
			die(ZC_EXIT_USAGE, "%s: unknown option -%c", cmd, optopt);
		}
	}
	if (argc - optind != 1)
		die(ZC_EXIT_USAGE, "%s takes one zone: %s zone [-n N] [-f]", cmd,
		    cmd);
	zone = argv[optind];
	if (!config_zone_name_valid(zone))
		die(ZC_EXIT_UNKNOWN_ZONE, "unknown zone: %s (not a valid zone "
		    "name)", zone);
	ctl_connect();
	args = msgw_new();
	msgw_map_begin(args);
	if (n >= 0) {
		msgw_key(args, "n");
		msgw_int(args, n);
	}
	msgw_key(args, "follow");
	msgw_bool(args, follow);
	msgw_map_end(args);
	start = clock_mono_ms();
	ctl_send_args(cmd, zone, args);
	/* Following, --timeout is how long to follow; by default, forever. */
	deadline = timeout_ms > 0 ? start + timeout_ms : follow ? 0 :
	    start + REQUEST_TIMEOUT_MS;
	do {
		if ((doc = client_recv(&conn, deadline, &cause)) == NULL) {
			if (follow && strcmp(cause, "timeout") == 0)
				return ZC_EXIT_OK;
			ctl_recv_failed(cause, deadline - start);
		}
		root = mdoc_root(doc);
		if (!answer_ok(root)) {
			int rc = print_error(root, zone);

			mdoc_free(doc);
			return rc;
		}
		result = mval_get(root, "result");
		items = result != NULL ? mval_get(result, key) : NULL;
		problems = result != NULL ? mval_get(result, "problems") : NULL;
		if (items == NULL || mval_kind(items) != MV_ARRAY)
			die(ZC_EXIT_PROTOCOL, "%s answer without %s", cmd, key);
		tv = mval_get(result, "truncated");
		if (tv != NULL && mval_bool(tv, &truncated) == 0 && truncated)
			fprintf(stderr, "zonectl: warning: older %s left out: "
			    "an answer holds at most %d KiB of them\n", key,
			    LOGS_ANSWER_BYTES / 1024);
		for (i = 0; problems != NULL && mval_kind(problems) ==
		    MV_ARRAY && i < mval_len(problems); i++) {
			char what[1024];

			if (mval_strcpy(mval_at(problems, i), what,
			    sizeof what) == 0)
				fprintf(stderr, "zonectl: warning: %s\n", what);
		}
		for (i = 0; i < mval_len(items); i++)
			print(zone, mval_at(items, i));
		fflush(stdout);
		mdoc_free(doc);
	} while (follow);
	return ZC_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cause, *cmd;
	int ch;

	/*
	 * One thread: stdio need not lock.  A big answer (the status of a
	 * thousand zones) goes out in few writes when stdout is no terminal.
	 */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 65536);
	socket_path = getenv("ZONEVISOR_SOCKET");
	if (socket_path == NULL || *socket_path == '\0')
		socket_path = DEFAULT_SOCKET;
	/* "+": options end at the command, which has options of its own. */
	while ((ch = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 't':
			if (parse_duration(optarg, &timeout_ms, &cause) != 0 ||
			    timeout_ms == 0)
				die(ZC_EXIT_USAGE, "bad --timeout %s: %s", optarg,
				    timeout_ms == 0 ? "must not be 0" : cause);
			break;
		case 'h':
			usage(stdout, ZC_EXIT_OK);
		default:
			usage(stderr, ZC_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage(stderr, ZC_EXIT_USAGE);
	if (!json) {
		const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

		colour = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
		    (term == NULL || strcmp(term, "dumb") != 0);
		progress = isatty(STDERR_FILENO) ? stderr :
		    isatty(STDOUT_FILENO) ? stdout : NULL;
	}
	cmd = argv[0];
	if (strcmp(cmd, "status") == 0) {
		for (ch = 1; ch < argc; ch++)
			if (!config_zone_name_valid(argv[ch]))
				die(ZC_EXIT_UNKNOWN_ZONE, "unknown zone: %s (not "
				    "a valid zone name)", argv[ch]);
		return cmd_status(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 ||
	    strcmp(cmd, "restart") == 0 ||
	    strcmp(cmd, "refresh-credentials") == 0)
		return cmd_operation(cmd, argc, argv);
	if (strcmp(cmd, "version") == 0)
		return cmd_version(argc - 1, argv + 1);
	if (strcmp(cmd, "metrics") == 0)
		return cmd_metrics(argc - 1, argv + 1);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(argc, argv);
	if (strcmp(cmd, "diagnose") == 0)
		return cmd_diagnose(argc - 1, argv + 1);
	if (strcmp(cmd, "reset") == 0)
		return cmd_reset(argc, argv);
	if (strcmp(cmd, "health") == 0)
		return cmd_health(argc - 1, argv + 1);
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(argc, argv);
	if (strcmp(cmd, "lease") == 0)
		return cmd_lease(argc, argv);
	if (strcmp(cmd, "logs") == 0)
		return cmd_logs(argc, argv);
	fprintf(stderr, "zonectl: unknown command: %s\n", cmd);
	usage(stderr, ZC_EXIT_USAGE);
}
