/*
 * reload.c: the plan of a configuration reload as the operator sees it:
 * which zones are added, removed, changed (with or without a restart) or
 * unchanged, notes about settings that cannot change while zonevisord
 * runs, or the error lines of a configuration that was refused.  The
 * parent builds a plan (parent_reload) and carries it out; this file only
 * holds it, logs it and packs it into a control answer, so SIGHUP and
 * zonectl reload report the same thing.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static void reload_pack_names(struct msgw *, const struct reload_plan *, int);
static void reload_log_names(const struct reload_plan *, int, const char *);

/* An empty plan. */
void
reload_plan_init(struct reload_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	plan->ok = 1;
}

/* Add zone name to the plan as what (RL_*), with diff for a changed zone. */
void
reload_plan_zone(struct reload_plan *plan, const char *name, int what,
    int diff)
{
	struct reload_zone *rz;

	plan->zones = xreallocarray(plan->zones, plan->nzones + 1,
	    sizeof *plan->zones);
	rz = &plan->zones[plan->nzones++];
	memset(rz, 0, sizeof *rz);
	snprintf(rz->name, sizeof rz->name, "%s", name);
	rz->what = what;
	rz->diff = diff;
}

/* Add a note for the operator (and log it as a warning). */
void
reload_plan_note(struct reload_plan *plan, const char *fmt, ...)
{
	va_list ap;
	char *note;

	va_start(ap, fmt);
	if (vasprintf(&note, fmt, ap) == -1)
		note = NULL;
	va_end(ap);
	if (note == NULL)
		return;
	log_warnx("reload: %s", note);
	plan->notes = xreallocarray(plan->notes, plan->nnotes + 1,
	    sizeof *plan->notes);
	plan->notes[plan->nnotes++] = note;
}

/* Free what a plan holds. */
void
reload_plan_free(struct reload_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nnotes; i++)
		free(plan->notes[i]);
	free(plan->notes);
	free(plan->zones);
	config_errors_free(&plan->errs);
	memset(plan, 0, sizeof *plan);
}

/* One log line listing the zones of the plan that are what, if any. */
static void
reload_log_names(const struct reload_plan *plan, int what, const char *label)
{
	char line[1024], kind[64];
	size_t i, off = 0;

	line[0] = '\0';
	for (i = 0; i < plan->nzones; i++) {
		const struct reload_zone *rz = &plan->zones[i];

		if (rz->what != what)
			continue;
		if (what == RL_CHANGED)
			snprintf(line + off, sizeof line - off, " %s (%s)",
			    rz->name, config_diff_describe(rz->diff, kind,
			    sizeof kind));
		else
			snprintf(line + off, sizeof line - off, " %s", rz->name);
		off = strlen(line);
		if (off >= sizeof line - 1)
			break;
	}
	if (off > 0)
		log_info("reload: %s:%s", label, line);
}

/* Log what a valid plan does: the zones added, removed and changed. */
void
reload_plan_log(const struct reload_plan *plan)
{
	size_t i, same = 0;

	for (i = 0; i < plan->nzones; i++)
		if (plan->zones[i].what == RL_UNCHANGED)
			same++;
	reload_log_names(plan, RL_ADDED, "added");
	reload_log_names(plan, RL_REMOVED, "removed");
	reload_log_names(plan, RL_CHANGED, "changed");
	log_info("reload%s: %zu zone%s unchanged", plan->dry_run ?
	    " (dry run)" : "", same, same == 1 ? "" : "s");
}

/* An array of the names of zones that are what. */
static void
reload_pack_names(struct msgw *w, const struct reload_plan *plan, int what)
{
	size_t i;

	msgw_array_begin(w);
	for (i = 0; i < plan->nzones; i++)
		if (plan->zones[i].what == what)
			msgw_str(w, plan->zones[i].name);
	msgw_array_end(w);
}

/*
 * The result of a reload answer: {dry_run, added, removed, changed:
 * [{zone, restart, what}], unchanged, notes}.
 */
void
reload_plan_pack(struct msgw *w, const struct reload_plan *plan)
{
	char kind[64];
	size_t i;

	msgw_map_begin(w);
	msgw_key(w, "dry_run");
	msgw_bool(w, plan->dry_run);
	msgw_key(w, "added");
	reload_pack_names(w, plan, RL_ADDED);
	msgw_key(w, "removed");
	reload_pack_names(w, plan, RL_REMOVED);
	msgw_key(w, "changed");
	msgw_array_begin(w);
	for (i = 0; i < plan->nzones; i++) {
		const struct reload_zone *rz = &plan->zones[i];

		if (rz->what != RL_CHANGED)
			continue;
		msgw_map_begin(w);
		msgw_key(w, "zone");
		msgw_str(w, rz->name);
		msgw_key(w, "restart");
		msgw_bool(w, (rz->diff & CFGDIFF_RESTART) != 0);
		msgw_key(w, "what");
		msgw_str(w, config_diff_describe(rz->diff, kind, sizeof kind));
		msgw_map_end(w);
	}
	msgw_array_end(w);
	msgw_key(w, "unchanged");
	reload_pack_names(w, plan, RL_UNCHANGED);
	msgw_key(w, "notes");
	msgw_array_begin(w);
	for (i = 0; i < plan->nnotes; i++)
		msgw_str(w, plan->notes[i]);
	msgw_array_end(w);
	msgw_map_end(w);
}
