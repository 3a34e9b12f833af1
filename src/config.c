/*
 * config.c: reads zonevisor.conf and zones_dir/<zone>.conf with libinih into
 * a struct config, validating every value.  Each problem becomes one line
 * "file:line: [section] key: problem" in a list the caller prints, and any
 * problem makes the whole load fail, so a configuration is used entirely or
 * not at all.
 *
 * libinih gives its handler no line numbers and cuts lines at 200 bytes, so
 * the file is fed through our own reader, which counts lines, notes section
 * headers and continuation lines, and refuses over-long lines instead of
 * letting their remainder be parsed as a line of its own.  A long [gateway]
 * command may continue on indented lines.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <ini.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

#define CFG_SEEN_MAX	64

struct cfg_parse {
	struct config		*cfg;
	struct zone_config	*zc;		/* NULL while reading zonevisor.conf */
	const char		*file;
	char			*dir;		/* for relative paths */
	struct config_errors	*errs;
	FILE			*f;
	int			 line;		/* line last handed to libinih */
	int			 continuation;	/* it began with blanks */
	int			 have_key;	/* a key line since the section began */
	int			 blank_semicolon; /* " ;" in it: libinih cut it there */
	char			 section[64];
	int			 section_line;
	char			 bad_section[64];
	struct {
		char	section[64];
		char	key[80];
		int	line;
	}			 seen[CFG_SEEN_MAX];
	int			 nseen;
	int			 first_key_error;	/* line libinih will report */
};

struct cfg_key {
	const char	*section;
	const char	*name;
	int		(*set)(struct cfg_parse *, const char *, const char **);
	int		 continues;	/* may go on over indented lines */
};

static void cfg_error(struct cfg_parse *, int, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 5, 6)));
static char *cfg_reader(char *, int, void *);
static int cfg_handler(void *, const char *, const char *, const char *);
static int cfg_handle_key(struct cfg_parse *, const char *, const char *,
    const char *);
static int cfg_parse_file(struct cfg_parse *);
static int cfg_looks_like_key(const struct cfg_key *, const char *, char *,
    size_t);
static void cfg_normalize(char *);
static char *cfg_path(struct cfg_parse *, const char *);
static int set_path(struct cfg_parse *, char **, const char *, const char **);
static int set_state_dir(struct cfg_parse *, const char *, const char **);
static int set_runtime_dir(struct cfg_parse *, const char *, const char **);
static int set_zones_dir(struct cfg_parse *, const char *, const char **);
static int set_control_socket(struct cfg_parse *, const char *, const char **);
static int set_control_group(struct cfg_parse *, const char *, const char **);
static int set_log_level(struct cfg_parse *, const char *, const char **);
static int set_log_target(struct cfg_parse *, const char *, const char **);
static int set_shutdown_timeout(struct cfg_parse *, const char *, const char **);
static int set_metrics_listen(struct cfg_parse *, const char *, const char **);
static int set_command(struct cfg_parse *, const char *, const char **);
static int set_cwd(struct cfg_parse *, const char *, const char **);
static int set_autostart(struct cfg_parse *, const char *, const char **);
static int set_stop_signal(struct cfg_parse *, const char *, const char **);
static int set_stop_timeout(struct cfg_parse *, const char *, const char **);
static int set_ingress_port(struct cfg_parse *, const char *, const char **);
static int set_env(struct cfg_parse *, const char *, const char *, const char **);
static int set_log_max_size(struct cfg_parse *, const char *, const char **);
static int set_restart_delay(struct cfg_parse *, const char *, const char **);
static int set_restart_delay_max(struct cfg_parse *, const char *, const char **);
static int set_stable_after(struct cfg_parse *, const char *, const char **);
static int set_max_failed(struct cfg_parse *, const char *, const char **);
static int set_suspend_for(struct cfg_parse *, const char *, const char **);
static int set_restart_timeout(struct cfg_parse *, const char *, const char **);
static int set_log_keep(struct cfg_parse *, const char *, const char **);
static int set_start_timeout(struct cfg_parse *, const char *, const char **);
static int set_tool_command(struct cfg_parse *, const char *, const char **);
static int set_max_leases(struct cfg_parse *, const char *, const char **);
static int set_base_port(struct cfg_parse *, const char *, const char **);
static int set_idle_ttl(struct cfg_parse *, const char *, const char **);
static int set_release_on_restart(struct cfg_parse *, const char *,
    const char **);
static int set_principal(char **, const char *, int, const char **);
static int set_user(struct cfg_parse *, const char *, const char **);
static int set_secret(struct cfg_parse *, const char *, const char *,
    const char **);
static int set_delivery(struct cfg_parse *, const char *, const char **);
static int set_secrets_timeout(struct cfg_parse *, const char *,
    const char **);
static int set_group(struct cfg_parse *, const char *, const char **);
static int set_umask(struct cfg_parse *, const char *, const char **);
static int set_limit(int64_t *, const char *, int, const char **);
static int set_nofile(struct cfg_parse *, const char *, const char **);
static int set_nproc(struct cfg_parse *, const char *, const char **);
static int set_core(struct cfg_parse *, const char *, const char **);
static int set_probe(struct cfg_parse *, const char *, const char **);
static int set_probe_duration(int64_t *, const char *, const char **);
static int set_interval(struct cfg_parse *, const char *, const char **);
static int set_probe_timeout(struct cfg_parse *, const char *, const char **);
static int set_failure_threshold(struct cfg_parse *, const char *,
    const char **);
static int set_start_period(struct cfg_parse *, const char *, const char **);
static int set_http_path(struct cfg_parse *, const char *, const char **);
static int set_exec(struct cfg_parse *, const char *, const char **);
static int cfg_seen_line(const struct cfg_parse *, const char *, const char *);
static void cfg_zone_check(struct cfg_parse *, struct zone_config *);
static void cfg_tool_vm_check(struct cfg_parse *, struct zone_config *);
static struct zone_config *cfg_zone_load(struct config *, const char *,
    const char *, struct config_errors *);
static void cfg_zone_free(struct zone_config *);
static int cfg_zone_cmp(const void *, const void *);
static void cfg_check(struct config *, struct config_errors *);

static const struct cfg_key main_keys[] = {
	{ "supervisor", "state_dir", set_state_dir, 0 },
	{ "supervisor", "runtime_dir", set_runtime_dir, 0 },
	{ "supervisor", "zones_dir", set_zones_dir, 0 },
	{ "supervisor", "control_socket", set_control_socket, 0 },
	{ "supervisor", "control_group", set_control_group, 0 },
	{ "supervisor", "log_level", set_log_level, 0 },
	{ "supervisor", "log_target", set_log_target, 0 },
	{ "supervisor", "shutdown_timeout", set_shutdown_timeout, 0 },
	{ "supervisor", "metrics_listen", set_metrics_listen, 0 },
	{ NULL, NULL, NULL, 0 }
};

static const struct cfg_key zone_keys[] = {
	{ "gateway", "command", set_command, 1 },
	{ "gateway", "cwd", set_cwd, 0 },
	{ "gateway", "autostart", set_autostart, 0 },
	{ "gateway", "stop_signal", set_stop_signal, 0 },
	{ "gateway", "stop_timeout", set_stop_timeout, 0 },
	{ "gateway", "ingress_port", set_ingress_port, 0 },
	{ "gateway", "start_timeout", set_start_timeout, 0 },
	{ "gateway", "user", set_user, 0 },
	{ "gateway", "group", set_group, 0 },
	{ "gateway", "umask", set_umask, 0 },
	{ "secrets", "delivery", set_delivery, 0 },
	{ "secrets", "timeout", set_secrets_timeout, 0 },
	{ "tool-vm", "command", set_tool_command, 1 },
	{ "tool-vm", "max_leases", set_max_leases, 0 },
	{ "tool-vm", "base_port", set_base_port, 0 },
	{ "tool-vm", "idle_ttl", set_idle_ttl, 0 },
	{ "tool-vm", "release_on_restart", set_release_on_restart, 0 },
	{ "limits", "nofile", set_nofile, 0 },
	{ "limits", "nproc", set_nproc, 0 },
	{ "limits", "core", set_core, 0 },
	{ "health", "probe", set_probe, 0 },
	{ "health", "interval", set_interval, 0 },
	{ "health", "timeout", set_probe_timeout, 0 },
	{ "health", "failure_threshold", set_failure_threshold, 0 },
	{ "health", "start_period", set_start_period, 0 },
	{ "health", "http_path", set_http_path, 0 },
	{ "health", "exec", set_exec, 0 },
	{ "log", "max_size", set_log_max_size, 0 },
	{ "log", "keep", set_log_keep, 0 },
	{ "recovery", "restart_delay", set_restart_delay, 0 },
	{ "recovery", "restart_delay_max", set_restart_delay_max, 0 },
	{ "recovery", "stable_after", set_stable_after, 0 },
	{ "recovery", "max_failed_recoveries", set_max_failed, 0 },
	{ "recovery", "suspend_for", set_suspend_for, 0 },
	{ "recovery", "restart_timeout", set_restart_timeout, 0 },
	{ NULL, NULL, NULL, 0 }
};

/* Add one error line "file:line: [section] key: problem". */
static void
cfg_error(struct cfg_parse *p, int line, const char *section, const char *key,
    const char *fmt, ...)
{
	struct config_errors *e = p->errs;
	char msg[512], where[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof where, "%s:%d: ", p->file, line);
	else
		snprintf(where, sizeof where, "%s: ", p->file);
	e->lines = xreallocarray(e->lines, e->n + 1, sizeof *e->lines);
	if (section != NULL && key != NULL)
		xasprintf(&e->lines[e->n++], "%s[%s] %s: %s", where, section,
		    key, msg);
	else if (section != NULL)
		xasprintf(&e->lines[e->n++], "%s[%s]: %s", where, section, msg);
	else if (key != NULL)
		xasprintf(&e->lines[e->n++], "%s%s: %s", where, key, msg);
	else
		xasprintf(&e->lines[e->n++], "%s%s", where, msg);
}

/*
 * libinih's line reader: count lines, remember section headers, indented
 * lines and " ;" (which libinih takes for the start of a comment), report
 * over-long lines and lines that are neither comment, section nor key, and
 * hand libinih an empty line instead of either, so that each problem is
 * reported once with its line even after an earlier error.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	const char *s, *c;
	size_t len;
	int ch;

	if (fgets(str, num, p->f) == NULL)
		return NULL;
	p->line++;
	len = strlen(str);
	p->continuation = 0;
	p->blank_semicolon = 0;
	if (len > 0 && str[len - 1] != '\n' && !feof(p->f)) {
		while ((ch = fgetc(p->f)) != EOF && ch != '\n')
			;
		cfg_error(p, p->line, NULL, NULL,
		    "line longer than %d characters (continue a long command on "
		    "indented lines)", num - 2);
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	s = str;
	if (p->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	p->continuation = *s == ' ' || *s == '\t';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\n' || *s == '\r' || *s == ';' || *s == '#')
		return str;
	for (c = s; *c != '\0'; c++)
		if (*c == ';' && c > s && (c[-1] == ' ' || c[-1] == '\t'))
			p->blank_semicolon = 1;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			goto syntax;
		if ((size_t)(end - s - 1) < sizeof p->section) {
			snprintf(p->section, sizeof p->section, "%.*s",
			    (int)(end - s - 1), s + 1);
			p->section_line = p->line;
		}
		p->have_key = 0;
		return str;
	}
	if (p->continuation && p->have_key)
		return str;
	/* libinih wants "name = value" or "name: value" before any comment. */
	for (c = s; *c != '\0' && *c != '=' && *c != ':'; c++)
		if (*c == ';' && (c[-1] == ' ' || c[-1] == '\t'))
			break;
	if (*c != '=' && *c != ':')
		goto syntax;
	p->have_key = 1;
	return str;

syntax:
	cfg_error(p, p->line, NULL, NULL,
	    "syntax error (expected [section] or key = value)");
	snprintf(str, (size_t)num, "\n");
	p->continuation = 0;
	return str;
}

/* Collapse "//", "/./" and "dir/../" in an absolute path, in place. */
static void
cfg_normalize(char *path)
{
	char *in = path, *out = path;

	while (*in != '\0') {
		if (in[0] == '/' && (in[1] == '/' || in[1] == '\0') && out > path) {
			in++;
			continue;
		}
		if (in[0] == '/' && in[1] == '.' && (in[2] == '/' || in[2] == '\0')) {
			in += 2;
			continue;
		}
		if (in[0] == '/' && in[1] == '.' && in[2] == '.' &&
		    (in[3] == '/' || in[3] == '\0')) {
			while (out > path && *--out != '/')
				;
			in += 3;
			continue;
		}
		*out++ = *in++;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/* Resolve a path against the directory of the file being read. */
static char *
cfg_path(struct cfg_parse *p, const char *value)
{
	char *out;

	if (value[0] == '/')
		out = xstrdup(value);
	else
		xasprintf(&out, "%s/%s", p->dir, value);
	cfg_normalize(out);
	return out;
}

/* Set a path-valued option, refusing empty values. */
static int
set_path(struct cfg_parse *p, char **dst, const char *value, const char **cause)
{
	if (*value == '\0') {
		*cause = "empty path";
		return -1;
	}
	free(*dst);
	*dst = cfg_path(p, value);
	return 0;
}

static int
set_state_dir(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_path(p, &p->cfg->state_dir, v, cause);
}

static int
set_runtime_dir(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_path(p, &p->cfg->runtime_dir, v, cause);
}

static int
set_zones_dir(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_path(p, &p->cfg->zones_dir, v, cause);
}

static int
set_control_socket(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_path(p, &p->cfg->control_socket, v, cause);
}

/* control_group: the group whose members may use the control socket. */
static int
set_control_group(struct cfg_parse *p, const char *v, const char **cause)
{
	struct group *gr;

	if ((gr = getgrnam(v)) == NULL) {
		*cause = "no such group";
		return -1;
	}
	free(p->cfg->control_group);
	p->cfg->control_group = xstrdup(v);
	p->cfg->control_gid = gr->gr_gid;
	return 0;
}

static int
set_log_level(struct cfg_parse *p, const char *v, const char **cause)
{
	static const char *const levels[] = { "error", "warning", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (strcmp(v, levels[i]) == 0) {
			p->cfg->log_level = (int)i;
			return 0;
		}
	}
	*cause = "expected error, warning, info or debug";
	return -1;
}

static int
set_log_target(struct cfg_parse *p, const char *v, const char **cause)
{
	if (strcmp(v, "stderr") == 0)
		p->cfg->log_to_syslog = 0;
	else if (strcmp(v, "syslog") == 0)
		p->cfg->log_to_syslog = 1;
	else {
		*cause = "expected stderr or syslog";
		return -1;
	}
	return 0;
}

static int
set_shutdown_timeout(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->cfg->shutdown_timeout_ms, cause);
}

/* metrics_listen: where the Prometheus metrics are served over HTTP. */
static int
set_metrics_listen(struct cfg_parse *p, const char *v, const char **cause)
{
	struct config *cfg = p->cfg;

	if (parse_listen(v, cfg->metrics_host, sizeof cfg->metrics_host,
	    &cfg->metrics_port, &cfg->metrics_family, cause) != 0)
		return -1;
	free(cfg->metrics_listen);
	cfg->metrics_listen = xstrdup(v);
	return 0;
}

/* [gateway] command: split now so errors point at the file. */
static int
set_command(struct cfg_parse *p, const char *v, const char **cause)
{
	char **argv;
	int argc;

	if (p->blank_semicolon) {
		*cause = "\" ;\" starts a comment in this file and would cut the "
		    "command short (and no shell runs, so ';' separates nothing)";
		return -1;
	}
	if ((argv = argv_split(v, &argc, cause)) == NULL)
		return -1;
	argv_free(p->zc->argv);
	free(p->zc->command);
	p->zc->argv = argv;
	p->zc->command = xstrdup(v);
	return 0;
}

static int
set_cwd(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_path(p, &p->zc->cwd, v, cause);
}

static int
set_autostart(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_bool(v, &p->zc->autostart) != 0) {
		*cause = "expected yes or no";
		return -1;
	}
	return 0;
}

static int
set_stop_signal(struct cfg_parse *p, const char *v, const char **cause)
{
	int sig;

	if (parse_signal(v, &sig, cause) != 0)
		return -1;
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU || sig == SIGCONT || sig == SIGCHLD) {
		*cause = "this signal does not end a process";
		return -1;
	}
	p->zc->stop_signal = sig;
	return 0;
}

static int
set_stop_timeout(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->zc->stop_timeout_ms, cause);
}

static int
set_ingress_port(struct cfg_parse *p, const char *v, const char **cause)
{
	int64_t n;

	if (parse_int(v, 1, 65535, &n) != 0) {
		*cause = "expected a port number from 1 to 65535";
		return -1;
	}
	p->zc->ingress_port = (int)n;
	return 0;
}

/* [gateway] env.NAME = value: one variable of the VM's environment. */
static int
set_env(struct cfg_parse *p, const char *name, const char *v,
    const char **cause)
{
	const char *c;
	size_t i, nlen = strlen(name);

	if (nlen == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '_')) {
		*cause = "variable names start with a letter or _";
		return -1;
	}
	for (c = name; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_') {
			*cause = "variable names hold letters, digits and _ only";
			return -1;
		}
	}
	if (strncmp(name, "ZONEVISOR_", 10) == 0) {
		*cause = "ZONEVISOR_* variables are set by zonevisord";
		return -1;
	}
	for (i = 0; i < p->zc->nenv; i++) {
		if (strncmp(p->zc->env[i], name, nlen) == 0 &&
		    p->zc->env[i][nlen] == '=') {
			*cause = "variable set twice";
			return -1;
		}
	}
	p->zc->env = xreallocarray(p->zc->env, p->zc->nenv + 2,
	    sizeof *p->zc->env);
	xasprintf(&p->zc->env[p->zc->nenv++], "%s=%s", name, v);
	p->zc->env[p->zc->nenv] = NULL;
	return 0;
}

static int
set_log_max_size(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_size(v, &p->zc->log_max_size, cause) != 0)
		return -1;
	if (p->zc->log_max_size < 4096) {
		*cause = "must be at least 4K";
		return -1;
	}
	return 0;
}

static int
set_log_keep(struct cfg_parse *p, const char *v, const char **cause)
{
	int64_t n;

	if (parse_int(v, 0, 100, &n) != 0) {
		*cause = "expected a number of files from 0 to 100";
		return -1;
	}
	p->zc->log_keep = (int)n;
	return 0;
}

static int
set_restart_delay(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->zc->recovery.restart_delay_ms, cause);
}

static int
set_restart_delay_max(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->zc->recovery.restart_delay_max_ms, cause);
}

static int
set_stable_after(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->zc->recovery.stable_after_ms, cause);
}

static int
set_max_failed(struct cfg_parse *p, const char *v, const char **cause)
{
	int64_t n;

	if (parse_int(v, 1, 1000000, &n) != 0) {
		*cause = "expected a count from 1 to 1000000";
		return -1;
	}
	p->zc->recovery.max_failed_recoveries = (int)n;
	return 0;
}

static int
set_suspend_for(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->zc->recovery.suspend_for_ms, cause);
}

static int
set_restart_timeout(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_duration(v, &p->zc->recovery.restart_timeout_ms, cause) != 0)
		return -1;
	if (p->zc->recovery.restart_timeout_ms == 0) {
		*cause = "must be more than 0";
		return -1;
	}
	return 0;
}

static int
set_start_timeout(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_duration(v, &p->zc->start_timeout_ms, cause) != 0)
		return -1;
	if (p->zc->start_timeout_ms == 0) {
		*cause = "must be more than 0";
		return -1;
	}
	return 0;
}

/*
 * [secrets] NAME = file:/path | env:VARIABLE | exec:/helper arg...: where
 * the secret NAME comes from.  Messages name the secret, never a value.
 */
static int
set_secret(struct cfg_parse *p, const char *name, const char *v,
    const char **cause)
{
	struct zone_config *zc = p->zc;
	struct secret_source s;
	const char *c;
	int argc;
	size_t i;

	if (!(isalpha((unsigned char)name[0]) || name[0] == '_')) {
		*cause = "secret names start with a letter or _";
		return -1;
	}
	for (c = name; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_') {
			*cause = "secret names hold letters, digits and _ only";
			return -1;
		}
	}
	if (strncmp(name, "ZONEVISOR_", 10) == 0 ||
	    strcmp(name, "CREDENTIALS_DIRECTORY") == 0) {
		*cause = "this name is set by zonevisord";
		return -1;
	}
	for (i = 0; i < zc->nsecrets; i++) {
		if (strcmp(zc->secrets[i].name, name) == 0) {
			*cause = "secret set twice";
			return -1;
		}
	}
	memset(&s, 0, sizeof s);
	if (strncmp(v, "file:", 5) == 0) {
		s.kind = SECRET_FILE;
		if (v[5] != '/') {
			*cause = "file: needs an absolute path";
			return -1;
		}
		s.arg = xstrdup(v + 5);
	} else if (strncmp(v, "env:", 4) == 0) {
		s.kind = SECRET_ENV;
		if (v[4] == '\0' || strchr(v + 4, '=') != NULL) {
			*cause = "env: needs a variable name";
			return -1;
		}
		s.arg = xstrdup(v + 4);
	} else if (strncmp(v, "exec:", 5) == 0) {
		s.kind = SECRET_EXEC;
		if (p->blank_semicolon) {
			*cause = "\" ;\" starts a comment in this file and would "
			    "cut the helper's command short";
			return -1;
		}
		if ((s.argv = argv_split(v + 5, &argc, cause)) == NULL)
			return -1;
		s.arg = xstrdup(v + 5);
	} else {
		*cause = "unknown secret source (expected file:/path, "
		    "env:VARIABLE or exec:/helper)";
		return -1;
	}
	s.name = xstrdup(name);
	zc->secrets = xreallocarray(zc->secrets, zc->nsecrets + 1,
	    sizeof *zc->secrets);
	zc->secrets[zc->nsecrets++] = s;
	return 0;
}

static int
set_delivery(struct cfg_parse *p, const char *v, const char **cause)
{
	if (strcmp(v, "env") == 0)
		p->zc->secrets_delivery = SECRETS_ENV;
	else if (strcmp(v, "files") == 0)
		p->zc->secrets_delivery = SECRETS_FILES;
	else {
		*cause = "expected env or files";
		return -1;
	}
	return 0;
}

static int
set_secrets_timeout(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_duration(v, &p->zc->secrets_timeout_ms, cause) != 0)
		return -1;
	if (p->zc->secrets_timeout_ms < 10) {
		*cause = "must be at least 10ms";
		return -1;
	}
	return 0;
}

/*
 * [tool-vm] command: split like [gateway] command; %port, %slot, %lease,
 * %zone and %% are the only % tokens, substituted for each lease.
 */
static int
set_tool_command(struct cfg_parse *p, const char *v, const char **cause)
{
	static const char *const tokens[] = { "%port", "%slot", "%lease",
	    "%zone", "%%" };
	const char *c;
	char **argv;
	size_t i;
	int argc;

	if (p->blank_semicolon) {
		*cause = "\" ;\" starts a comment in this file and would cut the "
		    "command short";
		return -1;
	}
	for (c = strchr(v, '%'); c != NULL; c = strchr(c, '%')) {
		for (i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
			if (strncmp(c, tokens[i], strlen(tokens[i])) == 0)
				break;
		if (i == sizeof tokens / sizeof tokens[0]) {
			*cause = "unknown % token (expected %port, %slot, "
			    "%lease, %zone or %%)";
			return -1;
		}
		c += strlen(tokens[i]);
	}
	if ((argv = argv_split(v, &argc, cause)) == NULL)
		return -1;
	argv_free(p->zc->tool_vm.argv);
	free(p->zc->tool_vm.command);
	p->zc->tool_vm.argv = argv;
	p->zc->tool_vm.command = xstrdup(v);
	return 0;
}

static int
set_max_leases(struct cfg_parse *p, const char *v, const char **cause)
{
	int64_t n;

	if (parse_int(v, 1, 1024, &n) != 0) {
		*cause = "expected a count from 1 to 1024";
		return -1;
	}
	p->zc->tool_vm.max_leases = (int)n;
	return 0;
}

static int
set_base_port(struct cfg_parse *p, const char *v, const char **cause)
{
	int64_t n;

	if (parse_int(v, 1, 65535, &n) != 0) {
		*cause = "expected a port number from 1 to 65535";
		return -1;
	}
	p->zc->tool_vm.base_port = (int)n;
	return 0;
}

static int
set_idle_ttl(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_duration(v, &p->zc->tool_vm.idle_ttl_ms, cause) != 0)
		return -1;
	if (p->zc->tool_vm.idle_ttl_ms < 1000) {
		*cause = "must be at least 1s";
		return -1;
	}
	return 0;
}

static int
set_release_on_restart(struct cfg_parse *p, const char *v, const char **cause)
{
	if (parse_bool(v, &p->zc->tool_vm.release_on_restart) != 0) {
		*cause = "expected yes or no";
		return -1;
	}
	return 0;
}

/* A user or group: a name of the system's databases, or a number. */
static int
set_principal(char **dst, const char *v, int is_user, const char **cause)
{
	char *end;
	long n;
	int known;

	errno = 0;
	known = is_user ? getpwnam(v) != NULL : getgrnam(v) != NULL;
	if (!known) {
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < 0 || n > INT32_MAX) {
			*cause = is_user ? "unknown user (not in the user "
			    "database, and not a number)" : "unknown group (not "
			    "in the group database, and not a number)";
			return -1;
		}
	}
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

static int
set_user(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_principal(&p->zc->user, v, 1, cause);
}

static int
set_group(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_principal(&p->zc->group, v, 0, cause);
}

/* An octal mode mask such as 027 or 0077. */
static int
set_umask(struct cfg_parse *p, const char *v, const char **cause)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 0 || n > 0777) {
		*cause = "expected an octal mask from 000 to 777, such as 027";
		return -1;
	}
	p->zc->umask = (int)n;
	return 0;
}

/* A limit: "unlimited", or a count (size: a size such as 64M). */
static int
set_limit(int64_t *dst, const char *v, int size, const char **cause)
{
	if (strcmp(v, "unlimited") == 0 || strcmp(v, "infinity") == 0) {
		*dst = (int64_t)RLIM_INFINITY;
		return 0;
	}
	if (size)
		return parse_size(v, dst, cause);
	if (parse_int(v, 0, INT32_MAX, dst) != 0) {
		*cause = "expected a count, or unlimited";
		return -1;
	}
	return 0;
}

static int
set_nofile(struct cfg_parse *p, const char *v, const char **cause)
{
	struct rlimit rl;

	if (set_limit(&p->zc->limits.nofile, v, 0, cause) != 0)
		return -1;
	/* Above the system's ceiling, setrlimit would fail at every spawn. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && geteuid() != 0 &&
	    (rlim_t)p->zc->limits.nofile > rl.rlim_max) {
		*cause = "above zonevisord's own hard limit";
		return -1;
	}
	if (p->zc->limits.nofile == (int64_t)RLIM_INFINITY) {
		*cause = "nofile cannot be unlimited (the kernel caps it at "
		    "fs.nr_open)";
		return -1;
	}
	return 0;
}

static int
set_nproc(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_limit(&p->zc->limits.nproc, v, 0, cause);
}

static int
set_core(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_limit(&p->zc->limits.core, v, 1, cause);
}

static int
set_probe(struct cfg_parse *p, const char *v, const char **cause)
{
	int k;

	if ((k = names_probe_parse(v)) < 0) {
		*cause = "unknown probe (expected none, exec, tcp or http)";
		return -1;
	}
	p->zc->health.probe = k;
	return 0;
}

/* A duration of at least 10ms: probes are not a busy loop. */
static int
set_probe_duration(int64_t *ms, const char *v, const char **cause)
{
	if (parse_duration(v, ms, cause) != 0)
		return -1;
	if (*ms < 10) {
		*cause = "must be at least 10ms";
		return -1;
	}
	return 0;
}

static int
set_interval(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_probe_duration(&p->zc->health.interval_ms, v, cause);
}

static int
set_probe_timeout(struct cfg_parse *p, const char *v, const char **cause)
{
	return set_probe_duration(&p->zc->health.timeout_ms, v, cause);
}

static int
set_failure_threshold(struct cfg_parse *p, const char *v, const char **cause)
{
	int64_t n;

	if (parse_int(v, 1, 1000, &n) != 0) {
		*cause = "expected a count from 1 to 1000";
		return -1;
	}
	p->zc->health.failure_threshold = (int)n;
	return 0;
}

static int
set_start_period(struct cfg_parse *p, const char *v, const char **cause)
{
	return parse_duration(v, &p->zc->health.start_period_ms, cause);
}

/* An absolute path of printable characters, no blanks: a request line. */
static int
set_http_path(struct cfg_parse *p, const char *v, const char **cause)
{
	const char *c;

	if (v[0] != '/') {
		*cause = "must start with /";
		return -1;
	}
	if (strlen(v) > 1024) {
		*cause = "longer than 1024 characters";
		return -1;
	}
	for (c = v; *c != '\0'; c++) {
		if (*c <= ' ' || *c == 0x7f) {
			*cause = "blanks and control characters are not allowed "
			    "(percent-encode them)";
			return -1;
		}
	}
	free(p->zc->health.http_path);
	p->zc->health.http_path = xstrdup(v);
	return 0;
}

static int
set_exec(struct cfg_parse *p, const char *v, const char **cause)
{
	char **argv;
	int argc;

	if (p->blank_semicolon) {
		*cause = "\" ;\" starts a comment in this file and would cut the "
		    "command short";
		return -1;
	}
	/* A reload hands it to a running worker in a message (MSG_ZONE_HEALTH). */
	if (strlen(v) >= HEALTH_EXEC_MAX) {
		*cause = "longer than 4095 characters";
		return -1;
	}
	if ((argv = argv_split(v, &argc, cause)) == NULL)
		return -1;
	argv_free(p->zc->health.exec_argv);
	free(p->zc->health.exec);
	p->zc->health.exec_argv = argv;
	p->zc->health.exec = xstrdup(v);
	return 0;
}

/* The line a key of this file was set on, or 0 when it was not. */
static int
cfg_seen_line(const struct cfg_parse *p, const char *section, const char *key)
{
	int i;

	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i].section, section) == 0 &&
		    strcmp(p->seen[i].key, key) == 0)
			return p->seen[i].line;
	return 0;
}

/* libinih's handler; remembers the first line it refused. */
static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parse *p = user;

	if (cfg_handle_key(p, section, name, value) != 0)
		return 1;
	if (p->first_key_error == 0)
		p->first_key_error = p->line;
	return 0;
}

/* Find the key, refuse duplicates, set the value; 0 on error. */
static int
cfg_handle_key(struct cfg_parse *p, const char *section, const char *name,
    const char *value)
{
	const struct cfg_key *keys = p->zc != NULL ? zone_keys : main_keys;
	const struct cfg_key *k;
	const char *cause = NULL;
	int i, known_section = 0;

	if (*section == '\0') {
		cfg_error(p, p->line, NULL, name, "key outside of any [section]");
		return 0;
	}
	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->section, section) == 0)
			known_section = 1;
	if (!known_section) {
		if (strcmp(p->bad_section, section) != 0) {
			snprintf(p->bad_section, sizeof p->bad_section, "%s",
			    section);
			cfg_error(p, p->section_line, section, NULL,
			    "unknown section");
		}
		return 0;
	}
	if (p->zc != NULL && strcmp(section, "gateway") == 0 &&
	    strncmp(name, "env.", 4) == 0) {
		if (set_env(p, name + 4, value, &cause) != 0) {
			cfg_error(p, p->line, section, name, "%s", cause);
			return 0;
		}
		return 1;
	}
	if (p->zc != NULL && strcmp(section, "secrets") == 0 &&
	    strcmp(name, "delivery") != 0 && strcmp(name, "timeout") != 0) {
		if (set_secret(p, name, value, &cause) != 0) {
			cfg_error(p, p->line, section, name, "%s", cause);
			return 0;
		}
		return 1;
	}
	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->section, section) == 0 &&
		    strcmp(k->name, name) == 0)
			break;
	if (k->name == NULL) {
		cfg_error(p, p->line, section, name, "unknown key");
		return 0;
	}
	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i].section, section) == 0 &&
		    strcmp(p->seen[i].key, name) == 0)
			break;
	if (p->continuation && i < p->nseen) {
		/* An indented line goes on with the key above it. */
		char word[80];
		const char *so_far;
		char *joined;
		int r;

		if (!k->continues) {
			cfg_error(p, p->line, section, name, "indented line "
			    "would continue this key; remove the indentation");
			return 0;
		}
		if (cfg_looks_like_key(keys, value, word, sizeof word)) {
			cfg_error(p, p->line, section, word, "indented, so it "
			    "would continue %s; remove the indentation", name);
			return 0;
		}
		so_far = strcmp(section, "tool-vm") == 0 ?
		    p->zc->tool_vm.command : p->zc->command;
		if (so_far == NULL)	/* the first line had an error */
			return 1;
		xasprintf(&joined, "%s %s", so_far, value);
		r = k->set(p, joined, &cause);
		free(joined);
		if (r != 0) {
			cfg_error(p, p->line, section, name, "%s", cause);
			return 0;
		}
		return 1;
	}
	if (i < p->nseen) {
		cfg_error(p, p->line, section, name,
		    "set twice (first on line %d)", p->seen[i].line);
		return 0;
	}
	if (p->nseen < CFG_SEEN_MAX) {
		snprintf(p->seen[p->nseen].section, sizeof p->seen[0].section,
		    "%s", section);
		snprintf(p->seen[p->nseen].key, sizeof p->seen[0].key, "%s",
		    name);
		p->seen[p->nseen++].line = p->line;
	}
	if (k->set(p, value, &cause) != 0) {
		cfg_error(p, p->line, section, name, "%s", cause);
		return 0;
	}
	return 1;
}

/*
 * 1 if an indented line reads "NAME = ..." for a key of this kind of file
 * or an env.NAME: a key indented by mistake, not more of the command.
 */
static int
cfg_looks_like_key(const struct cfg_key *keys, const char *line, char *word,
    size_t len)
{
	const struct cfg_key *k;
	size_t n = 0;

	while (isalnum((unsigned char)line[n]) || line[n] == '_' ||
	    line[n] == '.')
		n++;
	if (n == 0 || n >= len)
		return 0;
	memcpy(word, line, n);
	word[n] = '\0';
	while (line[n] == ' ' || line[n] == '\t')
		n++;
	if (line[n] != '=' && line[n] != ':')
		return 0;
	if (strncmp(word, "env.", 4) == 0)
		return 1;
	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->name, word) == 0)
			return 1;
	return 0;
}

/* Parse one file with libinih; -1 if it could not be opened. */
static int
cfg_parse_file(struct cfg_parse *p)
{
	char *copy;
	int r;

	if ((p->f = fopen(p->file, "re")) == NULL) {
		cfg_error(p, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	/* An absolute directory, so relative paths survive a chdir("/"). */
	if ((copy = realpath(p->file, NULL)) == NULL)
		copy = xstrdup(p->file);
	p->dir = xstrdup(dirname(copy));
	free(copy);
	r = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	fclose(p->f);
	if (r > 0 && r != p->first_key_error)
		cfg_error(p, r, NULL, NULL,
		    "syntax error (expected [section] or key = value)");
	else if (r < 0)
		cfg_error(p, 0, NULL, NULL, "cannot parse (out of memory)");
	return 0;
}

/* 1 if name is a valid zone name: ^[a-z0-9][a-z0-9_-]{0,63}$. */
int
config_zone_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > ZONE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    (i == 0 || (c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

/* Read one zone file; NULL if it had errors (they are in errs). */
static struct zone_config *
cfg_zone_load(struct config *cfg, const char *path, const char *name,
    struct config_errors *errs)
{
	struct cfg_parse p;
	struct zone_config *zc = xcalloc(1, sizeof *zc);
	size_t before = errs->n;

	zc->name = xstrdup(name);
	zc->file = xstrdup(path);
	zc->autostart = 1;
	zc->stop_signal = SIGTERM;
	zc->stop_timeout_ms = 10000;
	zc->log_max_size = 4 * 1024 * 1024;
	zc->log_keep = 3;
	zc->recovery.restart_delay_ms = 100;
	zc->recovery.restart_delay_max_ms = 60000;
	zc->recovery.stable_after_ms = 60000;
	zc->recovery.max_failed_recoveries = 10;
	zc->recovery.suspend_for_ms = 30 * 60000;
	zc->recovery.restart_timeout_ms = 10 * 60000;
	zc->start_timeout_ms = 60000;
	zc->umask = -1;
	zc->secrets_timeout_ms = 10000;
	zc->tool_vm.idle_ttl_ms = 30 * 60000;
	zc->tool_vm.release_on_restart = 1;
	zc->limits.nofile = -1;
	zc->limits.nproc = -1;
	zc->limits.core = -1;
	zc->health.probe = PROBE_NONE;
	zc->health.interval_ms = 10000;
	zc->health.timeout_ms = 2000;
	zc->health.failure_threshold = 3;
	zc->health.start_period_ms = 30000;

	memset(&p, 0, sizeof p);
	p.cfg = cfg;
	p.zc = zc;
	p.file = path;
	p.errs = errs;
	if (cfg_parse_file(&p) == 0 && zc->argv == NULL &&
	    errs->n == before)
		cfg_error(&p, 0, "gateway", "command", "required key is missing");
	if (errs->n == before)
		cfg_zone_check(&p, zc);
	free(p.dir);
	if (errs->n != before) {
		cfg_zone_free(zc);
		return NULL;
	}
	return zc;
}

/*
 * [tool-vm]: a command and a base_port when the section is used, and a
 * port range that fits and leaves the gateway's port alone.
 */
static void
cfg_tool_vm_check(struct cfg_parse *p, struct zone_config *zc)
{
	struct tool_vm_config *t = &zc->tool_vm;
	int used = t->command != NULL || t->max_leases != 0 ||
	    t->base_port != 0 || cfg_seen_line(p, "tool-vm", "idle_ttl") ||
	    cfg_seen_line(p, "tool-vm", "release_on_restart");
	int line = cfg_seen_line(p, "tool-vm", "base_port");

	if (!used)
		return;
	if (t->command == NULL) {
		cfg_error(p, 0, "tool-vm", "command", "required key is missing");
		return;
	}
	if (t->base_port == 0) {
		cfg_error(p, 0, "tool-vm", "base_port", "required key is missing");
		return;
	}
	if (t->max_leases == 0)
		t->max_leases = 4;
	if (t->base_port + t->max_leases - 1 > 65535)
		cfg_error(p, line, "tool-vm", "base_port", "%d leases from port "
		    "%d go beyond 65535", t->max_leases, t->base_port);
	else if (zc->ingress_port >= t->base_port &&
	    zc->ingress_port < t->base_port + t->max_leases)
		cfg_error(p, line, "tool-vm", "base_port", "ports %d-%d take "
		    "[gateway] ingress_port %d", t->base_port,
		    t->base_port + t->max_leases - 1, zc->ingress_port);
}

/*
 * Checks between the keys of one zone file, each reported on the line of
 * the key that has to change.
 */
static void
cfg_zone_check(struct cfg_parse *p, struct zone_config *zc)
{
	struct health_config *h = &zc->health;
	int line;

	if (zc->recovery.restart_delay_max_ms < zc->recovery.restart_delay_ms)
		cfg_error(p, cfg_seen_line(p, "recovery", "restart_delay_max") ?
		    cfg_seen_line(p, "recovery", "restart_delay_max") :
		    cfg_seen_line(p, "recovery", "restart_delay"), "recovery",
		    "restart_delay_max", "shorter than restart_delay");
	cfg_tool_vm_check(p, zc);
	if (h->probe == PROBE_NONE)
		return;
	line = cfg_seen_line(p, "health", "probe");
	if ((h->probe == PROBE_TCP || h->probe == PROBE_HTTP) &&
	    zc->ingress_port == 0)
		cfg_error(p, line, "health", "probe", "probe = %s needs "
		    "[gateway] ingress_port", names_probe(h->probe));
	if (h->probe == PROBE_EXEC && h->exec_argv == NULL)
		cfg_error(p, line, "health", "exec", "an exec probe needs the "
		    "command to run");
	if (h->probe != PROBE_EXEC && h->exec_argv != NULL)
		cfg_error(p, cfg_seen_line(p, "health", "exec"), "health",
		    "exec", "set, but the probe is %s", names_probe(h->probe));
	if (h->probe != PROBE_HTTP && h->http_path != NULL)
		cfg_error(p, cfg_seen_line(p, "health", "http_path"), "health",
		    "http_path", "set, but the probe is %s",
		    names_probe(h->probe));
	if (h->timeout_ms >= h->interval_ms) {
		line = cfg_seen_line(p, "health", "timeout");
		cfg_error(p, line ? line : cfg_seen_line(p, "health",
		    "interval"), "health", "timeout", "%lldms is not shorter "
		    "than the interval (%lldms)", (long long)h->timeout_ms,
		    (long long)h->interval_ms);
	}
	if (h->start_period_ms > zc->start_timeout_ms) {
		line = cfg_seen_line(p, "health", "start_period");
		cfg_error(p, line ? line : cfg_seen_line(p, "gateway",
		    "start_timeout"), "health", "start_period", "%lldms is "
		    "longer than [gateway] start_timeout (%lldms)",
		    (long long)h->start_period_ms,
		    (long long)zc->start_timeout_ms);
	}
	if (h->probe == PROBE_HTTP && h->http_path == NULL)
		h->http_path = xstrdup("/");
}

/* Free one zone's configuration. */
static void
cfg_zone_free(struct zone_config *zc)
{
	size_t i;

	if (zc == NULL)
		return;
	free(zc->name);
	free(zc->file);
	free(zc->command);
	argv_free(zc->argv);
	free(zc->cwd);
	argv_free(zc->env);
	free(zc->user);
	free(zc->group);
	free(zc->tool_vm.command);
	argv_free(zc->tool_vm.argv);
	for (i = 0; i < zc->nsecrets; i++) {
		free(zc->secrets[i].name);
		free(zc->secrets[i].arg);
		argv_free(zc->secrets[i].argv);
	}
	free(zc->secrets);
	free(zc->health.http_path);
	free(zc->health.exec);
	argv_free(zc->health.exec_argv);
	free(zc);
}

/* Order zones by name. */
static int
cfg_zone_cmp(const void *a, const void *b)
{
	const struct zone_config *za = *(struct zone_config *const *)a;
	const struct zone_config *zb = *(struct zone_config *const *)b;

	return strcmp(za->name, zb->name);
}

static void cfg_check_tool_ports(struct cfg_parse *,
    const struct zone_config *, const struct zone_config *);

/* Checks that span files: unique ports, socket path length. */
static void
cfg_check(struct config *cfg, struct config_errors *errs)
{
	struct cfg_parse p;
	size_t i, j;

	memset(&p, 0, sizeof p);
	p.errs = errs;
	p.file = cfg->path;
	if (strlen(cfg->control_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		cfg_error(&p, 0, "supervisor", "control_socket",
		    "path longer than %zu characters",
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	for (i = 0; i < cfg->nzones; i++) {
		for (j = 0; j < i; j++) {
			if (cfg->zones[i]->ingress_port != 0 &&
			    cfg->zones[i]->ingress_port ==
			    cfg->zones[j]->ingress_port) {
				p.file = cfg->zones[i]->file;
				cfg_error(&p, 0, "gateway", "ingress_port",
				    "port %d is also the ingress_port of zone %s",
				    cfg->zones[i]->ingress_port,
				    cfg->zones[j]->name);
			}
			cfg_check_tool_ports(&p, cfg->zones[i], cfg->zones[j]);
			cfg_check_tool_ports(&p, cfg->zones[j], cfg->zones[i]);
		}
	}
}

/* Zone a's [tool-vm] ports must not meet zone b's (b before a for overlaps). */
static void
cfg_check_tool_ports(struct cfg_parse *p, const struct zone_config *a,
    const struct zone_config *b)
{
	const struct tool_vm_config *ta = &a->tool_vm, *tb = &b->tool_vm;
	int alast = ta->base_port + ta->max_leases - 1;

	if (ta->max_leases == 0)
		return;
	p->file = a->file;
	if (b->ingress_port >= ta->base_port && b->ingress_port <= alast)
		cfg_error(p, 0, "tool-vm", "base_port", "ports %d-%d include "
		    "the ingress_port of zone %s", ta->base_port, alast,
		    b->name);
	if (tb->max_leases > 0 && strcmp(a->name, b->name) > 0 &&
	    ta->base_port <= tb->base_port + tb->max_leases - 1 &&
	    tb->base_port <= alast)
		cfg_error(p, 0, "tool-vm", "base_port", "ports %d-%d overlap "
		    "the [tool-vm] ports %d-%d of zone %s", ta->base_port, alast,
		    tb->base_port, tb->base_port + tb->max_leases - 1, b->name);
}

/*
 * Load the configuration at path and every zone file of its zones_dir.
 * Returns NULL if anything is wrong; errs then lists every problem found.
 */
struct config *
config_load(const char *path, struct config_errors *errs)
{
	return config_load_zones(path, NULL, errs);
}

/*
 * config_load, but with the zone files of zones_dir instead of the one the
 * file names, unless zones_dir is NULL: a reload keeps the zones_dir the
 * daemon started with.
 */
struct config *
config_load_zones(const char *path, const char *zones_dir,
    struct config_errors *errs)
{
	struct config *cfg;
	struct cfg_parse p;
	struct dirent *de;
	char *real;
	DIR *d;

	errs->lines = NULL;
	errs->n = 0;
	memset(&p, 0, sizeof p);
	p.file = path;
	p.errs = errs;
	/* Absolute, so relative paths in it survive a chdir("/"). */
	if ((real = realpath(path, NULL)) == NULL) {
		cfg_error(&p, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	cfg = xcalloc(1, sizeof *cfg);
	cfg->path = real;
	cfg->control_gid = (gid_t)-1;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_to_syslog = 1;
	cfg->shutdown_timeout_ms = 30000;

	p.cfg = cfg;
	/* On errors here, go on: the zone files' errors are worth seeing too. */
	if (cfg_parse_file(&p) != 0) {
		free(p.dir);
		config_free(cfg);
		return NULL;
	}
	if (cfg->state_dir == NULL)
		cfg->state_dir = xstrdup(DEFAULT_STATE_DIR);
	if (cfg->runtime_dir == NULL)
		cfg->runtime_dir = xstrdup(DEFAULT_RUNTIME_DIR);
	if (zones_dir != NULL) {
		free(cfg->zones_dir);
		cfg->zones_dir = xstrdup(zones_dir);
	}
	if (cfg->zones_dir == NULL)
		cfg->zones_dir = cfg_path(&p, "zones.d");
	if (cfg->control_socket == NULL)
		xasprintf(&cfg->control_socket, "%s/control.sock",
		    cfg->runtime_dir);
	free(p.dir);
	p.dir = NULL;

	if ((d = opendir(cfg->zones_dir)) == NULL) {
		cfg_error(&p, 0, "supervisor", "zones_dir", "cannot open %s: %s",
		    cfg->zones_dir, strerror(errno));
		config_free(cfg);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		struct zone_config *zc;
		char *file, *name;
		size_t len = strlen(de->d_name);
		struct stat sb;

		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		xasprintf(&file, "%s/%s", cfg->zones_dir, de->d_name);
		name = xstrndup(de->d_name, len - 5);
		if (stat(file, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			/* directories and sockets named *.conf are not zones */
		} else if (!config_zone_name_valid(name)) {
			p.file = file;
			cfg_error(&p, 0, NULL, NULL, "zone name \"%s\" is invalid "
			    "(it must match ^[a-z0-9][a-z0-9_-]{0,63}$)", name);
		} else if ((zc = cfg_zone_load(cfg, file, name, errs)) != NULL) {
			cfg->zones = xreallocarray(cfg->zones, cfg->nzones + 1,
			    sizeof *cfg->zones);
			cfg->zones[cfg->nzones++] = zc;
		}
		free(name);
		free(file);
	}
	closedir(d);
	if (cfg->nzones > 1)
		qsort(cfg->zones, cfg->nzones, sizeof *cfg->zones, cfg_zone_cmp);
	cfg_check(cfg, errs);
	if (errs->n > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Free a configuration. */
void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nzones; i++)
		cfg_zone_free(cfg->zones[i]);
	free(cfg->zones);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->runtime_dir);
	free(cfg->zones_dir);
	free(cfg->control_socket);
	free(cfg->control_group);
	free(cfg->metrics_listen);
	free(cfg);
}

/* Free the error lines of a failed load. */
void
config_errors_free(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = 0;
}

/* The configuration of zone name, or NULL. */
const struct zone_config *
config_zone(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nzones; i++)
		if (strcmp(cfg->zones[i]->name, name) == 0)
			return cfg->zones[i];
	return NULL;
}
