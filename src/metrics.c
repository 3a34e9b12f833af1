/*
 * metrics.c: the Prometheus text exposition (format 0.0.4) of zonevisord:
 * every zone's state, liveness, recovery counters, probe results, leases
 * and persistence, and the supervisor's own, built from the parent's cache
 * of what its workers last reported, so building it never waits on a
 * worker.  zonectl metrics gets the text over the control socket,
 * metrics_http.c serves it over HTTP.  metrics_text() is a pure function
 * of the view it is given (the unit tests craft one); metrics_render()
 * gives it the parent's.  Each family is one HELP line, one TYPE line and
 * its samples, grouped; label values are escaped (\\, \", \n); counters end
 * in _total; times are seconds, as floats with millisecond precision.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "zonevisor.h"

/* The text being built. */
struct mtext {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void mt_reserve(struct mtext *, size_t);
static void mt_printf(struct mtext *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void mt_puts(struct mtext *, const char *);
static void mt_label(struct mtext *, const char *);
static void mt_family(struct mtext *, const char *, const char *,
    const char *);
static void mt_zone_sample(struct mtext *, const char *,
    const struct zone_worker *, const char *, const char *, const char *);
static const char *ms_seconds(char *, size_t, int64_t);
static void mt_zone_int(struct mtext *, const char *,
    const struct zone_worker *, const char *, const char *, long long);
static void mt_seconds(struct mtext *, int64_t);
static int metrics_vm_up(const struct zone_status *);
static int metrics_probe_result(const struct zone_worker *);
static void metrics_supervisor(struct mtext *, const struct metrics_view *);
static void metrics_zones(struct mtext *, const struct metrics_view *);
static void metrics_zones_recovery(struct mtext *,
    const struct metrics_view *);
static void metrics_zones_probe(struct mtext *, const struct metrics_view *);
static void metrics_zones_leases(struct mtext *, const struct metrics_view *);

/* Room for n more bytes and a NUL. */
static void
mt_reserve(struct mtext *t, size_t n)
{
	if (t->len + n + 1 <= t->cap)
		return;
	while (t->len + n + 1 > t->cap)
		t->cap = t->cap == 0 ? 16384 : t->cap * 2;
	t->p = xreallocarray(t->p, t->cap, 1);
}

static void
mt_printf(struct mtext *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	mt_reserve(t, 128);
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= t->cap - t->len) {
		mt_reserve(t, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

static void
mt_puts(struct mtext *t, const char *s)
{
	size_t n = strlen(s);

	mt_reserve(t, n);
	memcpy(t->p + t->len, s, n + 1);
	t->len += n;
}

/*
 * A label value in double quotes, escaped as the format wants: backslash,
 * double quote and newline become \\, \" and \n.  Anything else (UTF-8
 * included) goes as it is.
 */
static void
mt_label(struct mtext *t, const char *v)
{
	mt_reserve(t, 2 * strlen(v) + 2);
	t->p[t->len++] = '"';
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') {
			t->p[t->len++] = '\\';
			t->p[t->len++] = *v;
		} else if (*v == '\n') {
			t->p[t->len++] = '\\';
			t->p[t->len++] = 'n';
		} else
			t->p[t->len++] = *v;
	}
	t->p[t->len++] = '"';
	t->p[t->len] = '\0';
}

/* The HELP and TYPE lines of a family (help holds no \ or newline). */
static void
mt_family(struct mtext *t, const char *name, const char *type,
    const char *help)
{
	mt_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * name{zone="..."[,label="value"]} then the value as given: a sample of
 * one zone.  label may be NULL.
 */
static void
mt_zone_sample(struct mtext *t, const char *name, const struct zone_worker *zw,
    const char *label, const char *lvalue, const char *value)
{
	mt_puts(t, name);
	mt_puts(t, "{zone=");
	mt_label(t, zw->zc->name);
	if (label != NULL) {
		mt_printf(t, ",%s=", label);
		mt_label(t, lvalue);
	}
	mt_printf(t, "} %s\n", value);
}

/* A sample of one zone whose value is an integer. */
static void
mt_zone_int(struct mtext *t, const char *name, const struct zone_worker *zw,
    const char *label, const char *lvalue, long long value)
{
	char num[32];

	snprintf(num, sizeof num, "%lld", value);
	mt_zone_sample(t, name, zw, label, lvalue, num);
}

/* Milliseconds (0 if negative) as seconds with three decimals, in buf. */
static const char *
ms_seconds(char *buf, size_t len, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	snprintf(buf, len, "%lld.%03lld", (long long)(ms / 1000),
	    (long long)(ms % 1000));
	return buf;
}

/* Milliseconds as seconds with three decimals, and a newline. */
static void
mt_seconds(struct mtext *t, int64_t ms)
{
	char num[32];

	mt_printf(t, "%s\n", ms_seconds(num, sizeof num, ms));
}

/* 1 if the zone's VM runs (healthy or degraded), as status says it. */
static int
metrics_vm_up(const struct zone_status *st)
{
	return (st->state == ZS_RUNNING || st->state == ZS_RUNNING_DEGRADED) &&
	    st->pid != 0;
}

/* 1 if the zone has a probe and a result of it for its current VM. */
static int
metrics_probe_result(const struct zone_worker *zw)
{
	return zw->zc->health.probe != PROBE_NONE && zw->st.pid != 0 &&
	    zw->st.health_ok != -1;
}

/* The supervisor's families. */
static void
metrics_supervisor(struct mtext *t, const struct metrics_view *v)
{
	const struct reload_status *rs = v->last_reload;
	size_t count[ZS__COUNT];
	size_t i;
	int s;

	mt_family(t, "zonevisor_up", "gauge",
	    "1 while zonevisord answers.");
	mt_puts(t, "zonevisor_up 1\n");
	mt_family(t, "zonevisor_build_info", "gauge",
	    "The version of zonevisord, as a label; the value is 1.");
	mt_puts(t, "zonevisor_build_info{version=");
	mt_label(t, v->version);
	mt_printf(t, ",protocol=\"%d\"} 1\n", PROTO_VERSION);
	mt_family(t, "zonevisor_start_time_seconds", "gauge",
	    "When zonevisord started, in seconds since the epoch.");
	mt_puts(t, "zonevisor_start_time_seconds ");
	mt_seconds(t, v->started_ms);
	mt_family(t, "zonevisor_uptime_seconds", "gauge",
	    "Seconds since zonevisord started.");
	mt_puts(t, "zonevisor_uptime_seconds ");
	mt_seconds(t, v->now_ms - v->started_ms);
	mt_family(t, "zonevisor_shutting_down", "gauge",
	    "1 once zonevisord is shutting down.");
	mt_printf(t, "zonevisor_shutting_down %d\n", v->shutting_down != 0);
	mt_family(t, "zonevisor_reloading", "gauge",
	    "1 while a reload is being carried out.");
	mt_printf(t, "zonevisor_reloading %d\n", v->reloading != 0);
	mt_family(t, "zonevisor_last_reload_success", "gauge",
	    "1 if the last reload succeeded (or none was asked for yet: the "
	    "configuration in force loaded at start), 0 if it was refused.");
	mt_printf(t, "zonevisor_last_reload_success %d\n",
	    rs == NULL || rs->at_ms == 0 || rs->ok);
	mt_family(t, "zonevisor_last_reload_timestamp_seconds", "gauge",
	    "When the last reload ended, in seconds since the epoch; the start "
	    "time before the first.");
	mt_puts(t, "zonevisor_last_reload_timestamp_seconds ");
	mt_seconds(t, rs != NULL && rs->at_ms != 0 ? rs->at_ms : v->started_ms);
	mt_family(t, "zonevisor_zones", "gauge", "Zones configured.");
	mt_printf(t, "zonevisor_zones %zu\n", v->nzones);

	memset(count, 0, sizeof count);
	for (i = 0; i < v->nzones; i++)
		if (v->zones[i]->st.state >= 0 &&
		    v->zones[i]->st.state < ZS__COUNT)
			count[v->zones[i]->st.state]++;
	mt_family(t, "zonevisor_zones_by_state", "gauge",
	    "Zones in each lifecycle state.");
	for (s = 0; s < ZS__COUNT; s++) {
		mt_puts(t, "zonevisor_zones_by_state{state=");
		mt_label(t, names_state(s));
		mt_printf(t, "} %zu\n", count[s]);
	}
}

/* The per-zone families of state and liveness. */
static void
metrics_zones(struct mtext *t, const struct metrics_view *v)
{
	char num[32];
	size_t i;
	int s;

	mt_family(t, "zonevisor_zone_state", "gauge",
	    "1 for the zone's current lifecycle state, 0 for the others.");
	for (i = 0; i < v->nzones; i++)
		for (s = 0; s < ZS__COUNT; s++)
			mt_zone_sample(t, "zonevisor_zone_state", v->zones[i],
			    "state", names_state(s),
			    v->zones[i]->st.state == s ? "1" : "0");
	mt_family(t, "zonevisor_zone_up", "gauge",
	    "1 if the zone's gateway VM runs (running or running-degraded).");
	for (i = 0; i < v->nzones; i++)
		mt_zone_sample(t, "zonevisor_zone_up", v->zones[i], NULL, NULL,
		    metrics_vm_up(&v->zones[i]->st) ? "1" : "0");
	mt_family(t, "zonevisor_zone_desired_up", "gauge",
	    "1 if the zone is meant to run, 0 if it is meant to be stopped.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_sample(t, "zonevisor_zone_desired_up", v->zones[i],
		    NULL, NULL,
		    v->zones[i]->st.desired == ZS_RUNNING ? "1" : "0");
	mt_family(t, "zonevisor_zone_worker_up", "gauge",
	    "1 if the zone's worker process is linked to the supervisor.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_sample(t, "zonevisor_zone_worker_up", v->zones[i],
		    NULL, NULL, v->zones[i]->pid != 0 && v->zones[i]->hello ?
		    "1" : "0");
	mt_family(t, "zonevisor_zone_state_since_timestamp_seconds", "gauge",
	    "When the zone entered its current state, in seconds since the "
	    "epoch.");
	for (i = 0; i < v->nzones; i++) {
		ms_seconds(num, sizeof num, v->zones[i]->st.since_ms);
		mt_zone_sample(t,
		    "zonevisor_zone_state_since_timestamp_seconds",
		    v->zones[i], NULL, NULL, num);
	}
	mt_family(t, "zonevisor_zone_vm_uptime_seconds", "gauge",
	    "Seconds since the zone's gateway VM was spawned; 0 without one.");
	for (i = 0; i < v->nzones; i++) {
		const struct zone_status *st = &v->zones[i]->st;
		int64_t ms = st->pid != 0 && st->booted_at_ms != 0 ?
		    v->now_ms - st->booted_at_ms : 0;

		ms_seconds(num, sizeof num, ms);
		mt_zone_sample(t, "zonevisor_zone_vm_uptime_seconds",
		    v->zones[i], NULL, NULL, num);
	}
	mt_family(t, "zonevisor_zone_restarts_total", "counter",
	    "Gateway VMs replaced by a restart, cold start (automatic "
	    "recoveries included) or credentials refresh.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_int(t, "zonevisor_zone_restarts_total",
		    v->zones[i], NULL, NULL,
		    (long long)v->zones[i]->st.restarts);
	mt_family(t, "zonevisor_zone_persistence_degraded", "gauge",
	    "1 while the zone's records cannot be written, 0 when they can.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_sample(t, "zonevisor_zone_persistence_degraded",
		    v->zones[i], NULL, NULL,
		    v->zones[i]->st.persist_since_ms != 0 ? "1" : "0");
	mt_family(t, "zonevisor_zone_records_lost_total", "counter",
	    "Lifecycle records of the zone that could not be written.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_int(t, "zonevisor_zone_records_lost_total",
		    v->zones[i], NULL, NULL,
		    (long long)v->zones[i]->st.records_lost);
}

/* The recovery policy's families. */
static void
metrics_zones_recovery(struct mtext *t, const struct metrics_view *v)
{
	static const char *const kinds[RK__COUNT] = {
		[RK_COLD_START] = "cold-start", [RK_RESTART] = "restart"
	};
	size_t i;
	int k, s;

	mt_family(t, "zonevisor_zone_recovery_failures_total", "counter",
	    "Automatic recoveries that failed, by kind: cold-start (the VM "
	    "died) or restart (the VM was unhealthy).");
	for (i = 0; i < v->nzones; i++)
		for (k = 0; k < RK__COUNT; k++)
			mt_zone_int(t, "zonevisor_zone_recovery_failures_total",
			    v->zones[i], "kind", kinds[k],
			    (long long)v->zones[i]->rec.budget[k].failed);
	mt_family(t, "zonevisor_zone_recovery_consecutive_failures", "gauge",
	    "Failed recoveries in a row, of the budget that has most.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_int(t, "zonevisor_zone_recovery_consecutive_failures",
		    v->zones[i], NULL, NULL,
		    (long long)recovery_consecutive(&v->zones[i]->rec));
	mt_family(t, "zonevisor_zone_recovery_suspensions_total", "counter",
	    "Times the zone's recovery was suspended after "
	    "max_failed_recoveries.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_int(t, "zonevisor_zone_recovery_suspensions_total",
		    v->zones[i], NULL, NULL,
		    (long long)v->zones[i]->rec.suspensions);
	mt_family(t, "zonevisor_zone_recovery_state", "gauge",
	    "1 for the state of the zone's recovery policy, 0 for the others.");
	for (i = 0; i < v->nzones; i++)
		for (s = 0; s < RS__COUNT; s++)
			mt_zone_sample(t, "zonevisor_zone_recovery_state",
			    v->zones[i], "state", names_recovery_state(s),
			    v->zones[i]->rec.state == s ? "1" : "0");
}

/*
 * The health probe's families, for zones with a probe; ok and latency only
 * once the current VM has a result.
 */
static void
metrics_zones_probe(struct mtext *t, const struct metrics_view *v)
{
	char num[32];
	size_t i;

	mt_family(t, "zonevisor_zone_probe_ok", "gauge",
	    "1 if the last health probe of the zone's VM passed, 0 if it "
	    "failed; absent without a probe or a result.");
	for (i = 0; i < v->nzones; i++)
		if (metrics_probe_result(v->zones[i]))
			mt_zone_sample(t, "zonevisor_zone_probe_ok",
			    v->zones[i], NULL, NULL,
			    v->zones[i]->st.health_ok == 1 ? "1" : "0");
	mt_family(t, "zonevisor_zone_probe_latency_seconds", "gauge",
	    "How long the last health probe of the zone's VM took.");
	for (i = 0; i < v->nzones; i++) {
		int64_t ms = v->zones[i]->st.health_latency_ms;

		if (!metrics_probe_result(v->zones[i]))
			continue;
		ms_seconds(num, sizeof num, ms);
		mt_zone_sample(t, "zonevisor_zone_probe_latency_seconds",
		    v->zones[i], NULL, NULL, num);
	}
	mt_family(t, "zonevisor_zone_probe_consecutive_failures", "gauge",
	    "Health probes failed in a row; absent without a probe.");
	for (i = 0; i < v->nzones; i++) {
		if (v->zones[i]->zc->health.probe == PROBE_NONE)
			continue;
		mt_zone_int(t, "zonevisor_zone_probe_consecutive_failures",
		    v->zones[i], NULL, NULL,
		    (long long)v->zones[i]->st.health_failures);
	}
}

/* The tool VM leases' families. */
static void
metrics_zones_leases(struct mtext *t, const struct metrics_view *v)
{
	size_t i;

	mt_family(t, "zonevisor_zone_leases", "gauge",
	    "Tool VM leases holding a slot of the zone (in use).");
	for (i = 0; i < v->nzones; i++)
		mt_zone_int(t, "zonevisor_zone_leases",
		    v->zones[i], NULL, NULL,
		    (long long)status_lease_count(v->zones[i], -1));
	mt_family(t, "zonevisor_zone_leases_quarantined", "gauge",
	    "Tool VM leases whose VM survived SIGKILL and holds its slot.");
	for (i = 0; i < v->nzones; i++)
		mt_zone_int(t, "zonevisor_zone_leases_quarantined",
		    v->zones[i], NULL, NULL,
		    (long long)status_lease_count(v->zones[i], LS_QUARANTINED));
	mt_family(t, "zonevisor_zone_lease_slots", "gauge",
	    "Tool VM slots of the zone (max_leases); absent without "
	    "[tool-vm].");
	for (i = 0; i < v->nzones; i++) {
		if (v->zones[i]->zc->tool_vm.max_leases <= 0)
			continue;
		mt_zone_int(t, "zonevisor_zone_lease_slots",
		    v->zones[i], NULL, NULL,
		    (long long)v->zones[i]->zc->tool_vm.max_leases);
	}
}

/*
 * The exposition of view v: a NUL-terminated text, malloc'ed, its length
 * in *len.
 */
char *
metrics_text(const struct metrics_view *v, size_t *len)
{
	struct mtext t = { NULL, 0, 0 };

	/* About 1.6K per zone; one allocation for most. */
	mt_reserve(&t, 4096 + 2048 * v->nzones);
	t.p[0] = '\0';
	metrics_supervisor(&t, v);
	metrics_zones(&t, v);
	metrics_zones_recovery(&t, v);
	metrics_zones_probe(&t, v);
	metrics_zones_leases(&t, v);
	*len = t.len;
	return t.p;
}

/* The exposition of the parent's cache, now. */
char *
metrics_render(size_t *len)
{
	struct metrics_view v;
	const struct zone_worker **zones;
	size_t i;
	char *text;

	memset(&v, 0, sizeof v);
	v.version = PACKAGE_VERSION;
	v.now_ms = clock_now_ms();
	v.started_ms = parent_started_ms();
	v.shutting_down = parent_shutting_down();
	v.reloading = parent_reloading();
	v.last_reload = parent_last_reload();
	v.nzones = parent_zone_count();
	zones = xcalloc(v.nzones == 0 ? 1 : v.nzones, sizeof *zones);
	for (i = 0; i < v.nzones; i++)
		zones[i] = parent_zone_at(i);
	v.zones = zones;
	text = metrics_text(&v, len);
	free(zones);
	return text;
}
