/*
 * check_metrics.c: the Prometheus text of metrics.c, built from crafted
 * zone_workers.  Protects: the text is well formed (each family one HELP
 * and one TYPE line, then its samples, never split; sample names and
 * labels well formed; values numbers; counters end in _total), label
 * values are escaped (backslash, double quote, newline), each zone has one
 * state at 1 and every other state at 0, and each value is the cache's:
 * liveness, uptime, restarts and recovery counters, probe results (absent
 * without a probe), leases, persistence and the last reload.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "zonevisor.h"

#define NOW_MS		1800000000123LL
#define STARTED_MS	1799999990000LL

static Suite *metrics_suite(void);
static void zone_init(struct zone_worker *, struct zone_config *,
    const char *);
static char *build(struct zone_worker **, size_t, const char *,
    const struct reload_status *);
static int has_line(const char *, const char *);
static void check_well_formed(const char *);

static void
zone_init(struct zone_worker *zw, struct zone_config *zc, const char *name)
{
	memset(zw, 0, sizeof *zw);
	memset(zc, 0, sizeof *zc);
	zc->name = (char *)name;
	zc->health.probe = PROBE_NONE;
	zw->zc = zc;
	zw->st.state = ZS_STOPPED;
	zw->st.desired = ZS_STOPPED;
	zw->st.exit_code = -1;
	zw->st.health_ok = -1;
	zw->st.since_ms = NOW_MS - 1000;
	zw->rec.state = RS_IDLE;
}

/* The text of zones, as zonevisord version would give it; the caller frees. */
static char *
build(struct zone_worker **zones, size_t n, const char *version,
    const struct reload_status *rs)
{
	static const struct reload_status none;
	struct metrics_view v;
	size_t len;
	char *text;

	memset(&v, 0, sizeof v);
	v.version = version;
	v.now_ms = NOW_MS;
	v.started_ms = STARTED_MS;
	v.last_reload = rs != NULL ? rs : &none;
	v.zones = (const struct zone_worker *const *)zones;
	v.nzones = n;
	text = metrics_text(&v, &len);
	ck_assert_uint_eq(strlen(text), len);
	check_well_formed(text);
	return text;
}

/* 1 if text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

#define ck_line(text, line) \
	ck_assert_msg(has_line((text), (line)), "no line: %s", (line))
#define ck_no_line(text, line) \
	ck_assert_msg(!has_line((text), (line)), "unexpected line: %s", (line))

/*
 * The format's rules, line by line: HELP then TYPE then the samples of
 * one family, which never comes back; names [a-zA-Z_:][a-zA-Z0-9_:]*;
 * labels name="value" with only \\, \" and \n escapes; a numeric value.
 */
static void
check_well_formed(const char *text)
{
	char seen[128][96], family[96] = "", type[16] = "", name[96];
	const char *p = text, *eol, *q;
	size_t nseen = 0, i, n;
	int helped = 0;

	ck_assert_msg(text[0] != '\0' && text[strlen(text) - 1] == '\n',
	    "the text ends with a newline");
	for (; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		ck_assert_ptr_nonnull(eol);
		if (strncmp(p, "# HELP ", 7) == 0) {
			q = p + 7;
			n = strcspn(q, " \n");
			ck_assert_uint_lt(n, sizeof family);
			memcpy(family, q, n);
			family[n] = '\0';
			for (i = 0; i < nseen; i++)
				ck_assert_msg(strcmp(seen[i], family) != 0,
				    "family %s comes twice", family);
			ck_assert_uint_lt(nseen, 128);
			snprintf(seen[nseen++], sizeof seen[0], "%s", family);
			ck_assert_msg(q[n] == ' ' && q[n + 1] != '\n',
			    "%s has no help text", family);
			helped = 1;
			type[0] = '\0';
			continue;
		}
		if (strncmp(p, "# TYPE ", 7) == 0) {
			q = p + 7;
			n = strlen(family);
			ck_assert_msg(helped && strncmp(q, family, n) == 0 &&
			    q[n] == ' ', "TYPE of %.40s after HELP of %s", q,
			    family);
			q += n + 1;
			n = (size_t)(eol - q);
			ck_assert_msg((n == 5 && strncmp(q, "gauge", 5) == 0) ||
			    (n == 7 && strncmp(q, "counter", 7) == 0),
			    "type of %s", family);
			memcpy(type, q, n);
			type[n] = '\0';
			ck_assert_msg(strcmp(type, "counter") != 0 ||
			    (strlen(family) > 6 && strcmp(family +
			    strlen(family) - 6, "_total") == 0),
			    "counter %s does not end in _total", family);
			continue;
		}
		ck_assert_msg(*p != '#', "stray comment %.60s", p);
		/* A sample of the family whose HELP and TYPE came last. */
		ck_assert_msg(type[0] != '\0', "sample before TYPE: %.60s", p);
		n = 0;
		ck_assert_msg(isalpha((unsigned char)*p) || *p == '_',
		    "sample name %.60s", p);
		while (isalnum((unsigned char)p[n]) || p[n] == '_' ||
		    p[n] == ':')
			n++;
		ck_assert_uint_lt(n, sizeof name);
		memcpy(name, p, n);
		name[n] = '\0';
		ck_assert_msg(strcmp(name, family) == 0,
		    "sample %s in family %s", name, family);
		q = p + n;
		if (*q == '{') {
			q++;
			for (;;) {
				ck_assert_msg(isalpha((unsigned char)*q) ||
				    *q == '_', "label name in %.80s", p);
				while (isalnum((unsigned char)*q) || *q == '_')
					q++;
				ck_assert_msg(q[0] == '=' && q[1] == '"',
				    "label in %.80s", p);
				q += 2;
				while (*q != '"') {
					ck_assert_msg(*q != '\n' && *q != '\0',
					    "unterminated label in %.80s", p);
					if (*q == '\\') {
						ck_assert_msg(q[1] == '\\' ||
						    q[1] == '"' || q[1] == 'n',
						    "bad escape in %.80s", p);
						q++;
					}
					q++;
				}
				q++;
				if (*q == ',') {
					q++;
					continue;
				}
				ck_assert_msg(*q == '}', "labels of %.80s", p);
				q++;
				break;
			}
		}
		ck_assert_msg(*q == ' ', "no value in %.80s", p);
		q++;
		{
			char *end;

			ck_assert_msg(q < eol && !isspace((unsigned char)*q),
			    "empty value in %.80s", p);
			strtod(q, &end);
			ck_assert_msg(end == eol, "value of %.80s", p);
		}
	}
}

START_TEST(test_metrics_well_formed_without_zones)
{
	char *t = build(NULL, 0, "1.2.3", NULL);

	ck_line(t, "zonevisor_up 1");
	ck_line(t, "zonevisor_zones 0");
	ck_line(t, "zonevisor_build_info{version=\"1.2.3\",protocol=\"1\"} 1");
	ck_line(t, "zonevisor_start_time_seconds 1799999990.000");
	ck_line(t, "zonevisor_uptime_seconds 10.123");
	ck_line(t, "zonevisor_zones_by_state{state=\"running\"} 0");
	/* No reload yet: the configuration loaded at start counts. */
	ck_line(t, "zonevisor_last_reload_success 1");
	ck_line(t, "zonevisor_last_reload_timestamp_seconds 1799999990.000");
	ck_line(t, "# TYPE zonevisor_zone_restarts_total counter");
	free(t);
}
END_TEST

START_TEST(test_metrics_label_values_escaped)
{
	struct zone_worker zw, *zones[1] = { &zw };
	struct zone_config zc;
	char *t;

	zone_init(&zw, &zc, "we\"ird\\zone\nx");
	t = build(zones, 1, "1.0 \"beta\"\\2\n", NULL);
	ck_line(t, "zonevisor_build_info{version=\"1.0 \\\"beta\\\"\\\\2\\n\","
	    "protocol=\"1\"} 1");
	ck_line(t, "zonevisor_zone_up{zone=\"we\\\"ird\\\\zone\\nx\"} 0");
	ck_line(t, "zonevisor_zone_state{zone=\"we\\\"ird\\\\zone\\nx\","
	    "state=\"stopped\"} 1");
	free(t);
}
END_TEST

START_TEST(test_metrics_one_state_per_zone)
{
	struct zone_worker a, b, c, *zones[3] = { &a, &b, &c };
	struct zone_config ac, bc, cc;
	char line[160], *t;
	int s;

	zone_init(&a, &ac, "alpha");
	zone_init(&b, &bc, "beta");
	zone_init(&c, &cc, "gamma");
	a.st.state = ZS_RUNNING;
	a.st.pid = 4242;
	a.st.desired = ZS_RUNNING;
	a.st.booted_at_ms = NOW_MS - 65432;
	a.pid = 4000;
	a.hello = 1;
	b.st.state = ZS_FAILED;
	b.st.desired = ZS_RUNNING;
	c.st.state = ZS_RUNNING_DEGRADED;
	c.st.pid = 4343;
	c.st.booted_at_ms = NOW_MS - 1000;
	t = build(zones, 3, "1", NULL);
	for (s = 0; s < ZS__COUNT; s++) {
		snprintf(line, sizeof line, "zonevisor_zone_state{zone=\"alpha\","
		    "state=\"%s\"} %d", names_state(s), s == ZS_RUNNING);
		ck_line(t, line);
		snprintf(line, sizeof line, "zonevisor_zone_state{zone=\"beta\","
		    "state=\"%s\"} %d", names_state(s), s == ZS_FAILED);
		ck_line(t, line);
		snprintf(line, sizeof line, "zonevisor_zone_state{zone=\"gamma\","
		    "state=\"%s\"} %d", names_state(s), s == ZS_RUNNING_DEGRADED);
		ck_line(t, line);
		snprintf(line, sizeof line, "zonevisor_zones_by_state{state="
		    "\"%s\"} %d", names_state(s), s == ZS_RUNNING ||
		    s == ZS_FAILED || s == ZS_RUNNING_DEGRADED);
		ck_line(t, line);
	}
	ck_line(t, "zonevisor_zones 3");
	ck_line(t, "zonevisor_zone_up{zone=\"alpha\"} 1");
	ck_line(t, "zonevisor_zone_up{zone=\"beta\"} 0");
	ck_line(t, "zonevisor_zone_up{zone=\"gamma\"} 1");
	ck_line(t, "zonevisor_zone_desired_up{zone=\"beta\"} 1");
	ck_line(t, "zonevisor_zone_desired_up{zone=\"gamma\"} 0");
	ck_line(t, "zonevisor_zone_worker_up{zone=\"alpha\"} 1");
	ck_line(t, "zonevisor_zone_worker_up{zone=\"beta\"} 0");
	ck_line(t, "zonevisor_zone_vm_uptime_seconds{zone=\"alpha\"} 65.432");
	ck_line(t, "zonevisor_zone_vm_uptime_seconds{zone=\"beta\"} 0.000");
	ck_line(t, "zonevisor_zone_state_since_timestamp_seconds"
	    "{zone=\"beta\"} 1799999999.123");
	free(t);
}
END_TEST

START_TEST(test_metrics_counters_from_the_cache)
{
	struct zone_worker a, b, *zones[2] = { &a, &b };
	struct zone_config ac, bc;
	char *t;

	zone_init(&a, &ac, "alpha");
	zone_init(&b, &bc, "beta");
	a.st.restarts = 7;
	a.rec.budget[RK_COLD_START].failed = 3;
	a.rec.budget[RK_RESTART].failed = 2;
	a.rec.budget[RK_RESTART].consecutive = 2;
	a.rec.suspensions = 1;
	a.rec.state = RS_SUSPENDED;
	a.st.persist_since_ms = NOW_MS - 5;
	a.st.records_lost = 12;
	t = build(zones, 2, "1", NULL);
	ck_line(t, "zonevisor_zone_restarts_total{zone=\"alpha\"} 7");
	ck_line(t, "zonevisor_zone_restarts_total{zone=\"beta\"} 0");
	ck_line(t, "zonevisor_zone_recovery_failures_total{zone=\"alpha\","
	    "kind=\"cold-start\"} 3");
	ck_line(t, "zonevisor_zone_recovery_failures_total{zone=\"alpha\","
	    "kind=\"restart\"} 2");
	ck_line(t, "zonevisor_zone_recovery_consecutive_failures"
	    "{zone=\"alpha\"} 2");
	ck_line(t, "zonevisor_zone_recovery_suspensions_total{zone=\"alpha\"} 1");
	ck_line(t, "zonevisor_zone_recovery_state{zone=\"alpha\","
	    "state=\"suspended\"} 1");
	ck_line(t, "zonevisor_zone_recovery_state{zone=\"alpha\","
	    "state=\"idle\"} 0");
	ck_line(t, "zonevisor_zone_recovery_state{zone=\"beta\","
	    "state=\"idle\"} 1");
	ck_line(t, "zonevisor_zone_persistence_degraded{zone=\"alpha\"} 1");
	ck_line(t, "zonevisor_zone_persistence_degraded{zone=\"beta\"} 0");
	ck_line(t, "zonevisor_zone_records_lost_total{zone=\"alpha\"} 12");
	free(t);
}
END_TEST

START_TEST(test_metrics_probe_and_leases)
{
	struct zone_worker a, b, c, *zones[3] = { &a, &b, &c };
	struct zone_config ac, bc, cc;
	struct lease_info leases[3];
	char *t;

	zone_init(&a, &ac, "alpha");
	zone_init(&b, &bc, "beta");
	zone_init(&c, &cc, "gamma");
	/* alpha: a probe with a result; beta: none; gamma: no result yet. */
	ac.health.probe = PROBE_HTTP;
	a.st.state = ZS_RUNNING_DEGRADED;
	a.st.pid = 10;
	a.st.health_ok = 0;
	a.st.health_failures = 2;
	a.st.health_latency_ms = 1250;
	cc.health.probe = PROBE_TCP;
	c.st.state = ZS_STARTING;
	c.st.pid = 11;
	memset(leases, 0, sizeof leases);
	leases[0].state = LS_ACTIVE;
	leases[1].state = LS_QUARANTINED;
	leases[2].state = LS_RELEASING;
	ac.tool_vm.max_leases = 4;
	a.leases = leases;
	a.nleases = 3;
	t = build(zones, 3, "1", NULL);
	ck_line(t, "zonevisor_zone_probe_ok{zone=\"alpha\"} 0");
	ck_line(t, "zonevisor_zone_probe_latency_seconds{zone=\"alpha\"} 1.250");
	ck_line(t, "zonevisor_zone_probe_consecutive_failures{zone=\"alpha\"} 2");
	ck_assert_ptr_null(strstr(t, "probe_ok{zone=\"beta\"}"));
	ck_assert_ptr_null(strstr(t, "probe_latency_seconds{zone=\"beta\"}"));
	ck_assert_ptr_null(strstr(t, "probe_consecutive_failures{zone=\"beta\"}"));
	ck_assert_ptr_null(strstr(t, "probe_ok{zone=\"gamma\"}"));
	ck_line(t, "zonevisor_zone_probe_consecutive_failures{zone=\"gamma\"} 0");
	ck_line(t, "zonevisor_zone_leases{zone=\"alpha\"} 3");
	ck_line(t, "zonevisor_zone_leases_quarantined{zone=\"alpha\"} 1");
	ck_line(t, "zonevisor_zone_leases{zone=\"beta\"} 0");
	ck_line(t, "zonevisor_zone_lease_slots{zone=\"alpha\"} 4");
	ck_assert_ptr_null(strstr(t, "lease_slots{zone=\"beta\"}"));
	/* A probe's result is for the VM it probed: without a VM, none. */
	free(t);
	a.st.pid = 0;
	a.st.state = ZS_FAILED;
	t = build(zones, 3, "1", NULL);
	ck_assert_ptr_null(strstr(t, "probe_ok{zone=\"alpha\"}"));
	free(t);
}
END_TEST

START_TEST(test_metrics_last_reload)
{
	struct reload_status rs;
	char *t;

	memset(&rs, 0, sizeof rs);
	rs.at_ms = NOW_MS - 2000;
	rs.ok = 0;
	t = build(NULL, 0, "1", &rs);
	ck_line(t, "zonevisor_last_reload_success 0");
	ck_line(t, "zonevisor_last_reload_timestamp_seconds 1799999998.123");
	free(t);
	rs.ok = 1;
	t = build(NULL, 0, "1", &rs);
	ck_line(t, "zonevisor_last_reload_success 1");
	ck_no_line(t, "zonevisor_last_reload_success 0");
	free(t);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_metrics_well_formed_without_zones);
	tcase_add_test(tc, test_metrics_label_values_escaped);
	tcase_add_test(tc, test_metrics_one_state_per_zone);
	tcase_add_test(tc, test_metrics_counters_from_the_cache);
	tcase_add_test(tc, test_metrics_probe_and_leases);
	tcase_add_test(tc, test_metrics_last_reload);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
