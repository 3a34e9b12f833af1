/*
 * config_diff.c: what a reload has to do about one zone, or about the
 * [supervisor] section, found by comparing the configuration in force with
 * a newly loaded one.  Pure functions of two configurations: no zone, no
 * process, no log is touched here, so the comparison is unit-tested on its
 * own (tests/check_config_diff.c).
 *
 * Every field of struct zone_config is compared; a field this file does not
 * know is a bug, because a change to it would go unnoticed and the zone
 * would keep running with the old value.  New fields go into
 * config_diff_zone, in the group that says who applies them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "zonevisor.h"

static int config_diff_str(const char *, const char *);
static int config_diff_argv(char *const *, char *const *);
static int config_diff_recovery(const struct recovery_policy *,
    const struct recovery_policy *);
static int config_diff_health(const struct health_config *,
    const struct health_config *);
static int config_diff_secrets(const struct zone_config *,
    const struct zone_config *);

/* 1 if two strings, either of which may be NULL, differ. */
static int
config_diff_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* 1 if two NULL-terminated string arrays (or NULLs) differ. */
static int
config_diff_argv(char *const *a, char *const *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a != b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 1;
	return a[i] != NULL || b[i] != NULL;
}

/* 1 if two [recovery] sections differ. */
static int
config_diff_recovery(const struct recovery_policy *a,
    const struct recovery_policy *b)
{
	return a->restart_delay_ms != b->restart_delay_ms ||
	    a->restart_delay_max_ms != b->restart_delay_max_ms ||
	    a->stable_after_ms != b->stable_after_ms ||
	    a->max_failed_recoveries != b->max_failed_recoveries ||
	    a->suspend_for_ms != b->suspend_for_ms ||
	    a->restart_timeout_ms != b->restart_timeout_ms;
}

/* 1 if two [health] sections differ. */
static int
config_diff_health(const struct health_config *a,
    const struct health_config *b)
{
	return a->probe != b->probe ||
	    a->interval_ms != b->interval_ms ||
	    a->timeout_ms != b->timeout_ms ||
	    a->failure_threshold != b->failure_threshold ||
	    a->start_period_ms != b->start_period_ms ||
	    config_diff_str(a->http_path, b->http_path) ||
	    config_diff_str(a->exec, b->exec) ||
	    config_diff_argv(a->exec_argv, b->exec_argv);
}

/* 1 if two zones' [secrets] differ: sources, delivery or deadline. */
static int
config_diff_secrets(const struct zone_config *a, const struct zone_config *b)
{
	size_t i;

	if (a->nsecrets != b->nsecrets ||
	    a->secrets_delivery != b->secrets_delivery ||
	    a->secrets_timeout_ms != b->secrets_timeout_ms)
		return 1;
	for (i = 0; i < a->nsecrets; i++)
		if (config_diff_str(a->secrets[i].name, b->secrets[i].name) ||
		    a->secrets[i].kind != b->secrets[i].kind ||
		    config_diff_str(a->secrets[i].arg, b->secrets[i].arg))
			return 1;
	return 0;
}

/*
 * How zone configuration b differs from a (the same zone's, by name): 0
 * (CFGDIFF_SAME) or an OR of CFGDIFF_* flags.  CFGDIFF_RESTART means the
 * VM must be restarted to take it; the others are applied without a
 * restart.
 */
int
config_diff_zone(const struct zone_config *a, const struct zone_config *b)
{
	int diff = CFGDIFF_SAME;

	/*
	 * What the VM runs with, or the worker that owns it: only a new
	 * worker with a new VM takes these.  New fields of struct
	 * zone_config belong here unless the parent or a running worker can
	 * apply them; then they get a flag of their own.
	 */
	if (config_diff_str(a->command, b->command) ||
	    config_diff_argv(a->argv, b->argv) ||
	    config_diff_str(a->cwd, b->cwd) ||
	    a->nenv != b->nenv || config_diff_argv(a->env, b->env) ||
	    a->stop_signal != b->stop_signal ||
	    a->stop_timeout_ms != b->stop_timeout_ms ||
	    a->start_timeout_ms != b->start_timeout_ms ||
	    a->ingress_port != b->ingress_port ||
	    a->log_max_size != b->log_max_size ||
	    a->log_keep != b->log_keep ||
	    config_diff_str(a->user, b->user) ||
	    config_diff_str(a->group, b->group) ||
	    a->umask != b->umask ||
	    a->limits.nofile != b->limits.nofile ||
	    a->limits.nproc != b->limits.nproc ||
	    a->limits.core != b->limits.core ||
	    config_diff_secrets(a, b) ||
	    config_diff_str(a->tool_vm.command, b->tool_vm.command) ||
	    a->tool_vm.max_leases != b->tool_vm.max_leases ||
	    a->tool_vm.base_port != b->tool_vm.base_port ||
	    a->tool_vm.idle_ttl_ms != b->tool_vm.idle_ttl_ms ||
	    a->tool_vm.release_on_restart != b->tool_vm.release_on_restart)
		diff |= CFGDIFF_RESTART;
	/* The file is zones_dir/<name>.conf, and zones_dir cannot change. */
	if (config_diff_str(a->file, b->file))
		diff |= CFGDIFF_RESTART;
	/* The parent's: the recovery policy, and whether the zone autostarts. */
	if (config_diff_recovery(&a->recovery, &b->recovery))
		diff |= CFGDIFF_RECOVERY;
	if (a->autostart != b->autostart)
		diff |= CFGDIFF_AUTOSTART;
	/* The worker's probes, handed to it without a restart. */
	if (config_diff_health(&a->health, &b->health))
		diff |= CFGDIFF_HEALTH;
	return diff;
}

/*
 * What diff (of config_diff_zone) says, as "restart", or the sections
 * applied without one, "recovery, health", into buf.
 */
const char *
config_diff_describe(int diff, char *buf, size_t len)
{
	static const struct {
		int		 flag;
		const char	*word;
	} words[] = {
		{ CFGDIFF_RECOVERY, "recovery" },
		{ CFGDIFF_HEALTH, "health" },
		{ CFGDIFF_AUTOSTART, "autostart" },
	};
	size_t i, off = 0;

	buf[0] = '\0';
	if (diff & CFGDIFF_RESTART) {
		snprintf(buf, len, "restart");
		return buf;
	}
	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (!(diff & words[i].flag))
			continue;
		snprintf(buf + off, len - off, "%s%s", off > 0 ? ", " : "",
		    words[i].word);
		off = strlen(buf);
	}
	if (off == 0)
		snprintf(buf, len, "same");
	return buf;
}

/*
 * The [supervisor] settings that cannot change while zonevisord runs and
 * differ between a and b: their names go to names (at most max), and the
 * count is returned.  log_level and shutdown_timeout can change and are
 * not listed.
 */
size_t
config_diff_fixed(const struct config *a, const struct config *b,
    const char **names, size_t max)
{
	size_t n = 0;

#define FIXED(cond, name) do {				\
	if ((cond) && n < max)				\
		names[n++] = (name);			\
} while (0)
	FIXED(config_diff_str(a->state_dir, b->state_dir), "state_dir");
	FIXED(config_diff_str(a->runtime_dir, b->runtime_dir), "runtime_dir");
	FIXED(config_diff_str(a->zones_dir, b->zones_dir), "zones_dir");
	FIXED(config_diff_str(a->control_socket, b->control_socket),
	    "control_socket");
	FIXED(config_diff_str(a->control_group, b->control_group) ||
	    a->control_gid != b->control_gid, "control_group");
	FIXED(a->log_to_syslog != b->log_to_syslog, "log_target");
	FIXED(a->metrics_port != b->metrics_port ||
	    strcmp(a->metrics_host, b->metrics_host) != 0, "metrics_listen");
#undef FIXED
	return n;
}
