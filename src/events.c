/*
 * events.c: a zone's lifecycle records as zonectl events sees them.  The
 * parent reads the zone's log files itself (it never asks the worker, the
 * log's one writer): the last N records across the rotated files, and for
 * follow mode whatever is appended after them, woken by the worker's
 * MSG_ZONE_RECORDED.  Records are passed on as the msgpack maps they are on
 * disk; damage found on the way is passed on as "problems" lines.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"
#include "zonevisor.h"

static void events_add(const void *, size_t, const struct mval *, void *);
static void events_problem(const char *, void *);

static const struct records_cbs events_cbs = { events_add, events_problem };

/* Keep a record; with a limit, only the newest limit ones are kept. */
static void
events_add(const void *payload, size_t len, const struct mval *map, void *arg)
{
	struct event_list *l = arg;
	struct event *e;

	if (l->limit > 0 && l->n == l->limit) {
		/* A ring of the newest limit records: drop the oldest. */
		e = &l->events[l->head];
		free(e->data);
		l->head = (l->head + 1) % l->limit;
	} else {
		if (l->n == l->cap) {
			l->cap = l->cap == 0 ? 64 : l->cap * 2;
			if (l->limit > 0 && l->cap > l->limit)
				l->cap = l->limit;
			l->events = xreallocarray(l->events, l->cap,
			    sizeof *l->events);
		}
		e = &l->events[l->n++];
	}
	e->data = xmalloc(len);
	memcpy(e->data, payload, len);
	e->len = len;
}

/* Keep a line about damage found. */
static void
events_problem(const char *what, void *arg)
{
	struct event_list *l = arg;

	log_warnx("lifecycle log: %s", what);
	l->problems = xreallocarray(l->problems, l->nproblems + 1,
	    sizeof *l->problems);
	l->problems[l->nproblems++] = xstrdup(what);
}

/* The zone's log path: state_dir/zones/<zone>/lifecycle.log. */
void
events_path(const struct config *cfg, const struct zone_config *zc, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/zones/%s/lifecycle.log", cfg->state_dir, zc->name);
}

/* The last n records (all of them for n == 0) of a zone, oldest first. */
void
events_last(const struct config *cfg, const struct zone_config *zc, size_t n,
    struct event_list *l)
{
	char path[PATH_MAX];

	memset(l, 0, sizeof *l);
	l->limit = n;
	events_path(cfg, zc, path, sizeof path);
	records_read_all(path, zc->log_keep, &events_cbs, l);
}

/* Begin following a zone's log: the last n records, then a tail. */
void
events_follow(const struct config *cfg, const struct zone_config *zc,
    size_t n, struct records_tail *t, struct event_list *l)
{
	char path[PATH_MAX];

	memset(l, 0, sizeof *l);
	l->limit = n;
	events_path(cfg, zc, path, sizeof path);
	records_tail_open(t, path, zc->log_keep, &events_cbs, l);
}

/* What was appended to a followed log since the last call. */
void
events_poll(struct records_tail *t, struct event_list *l)
{
	memset(l, 0, sizeof *l);
	records_tail_poll(t, &events_cbs, l);
}

/* Pack "records": [...] and "problems": [...] into an open map. */
void
events_pack(struct msgw *w, const struct event_list *l)
{
	size_t i;

	msgw_key(w, "records");
	msgw_array_begin(w);
	for (i = 0; i < l->n; i++) {
		const struct event *e = &l->events[(l->head + i) % l->n];

		msgw_raw(w, e->data, e->len);
	}
	msgw_array_end(w);
	msgw_key(w, "problems");
	msgw_str_array(w, l->problems, l->nproblems);
}

/* Free what a list holds. */
void
events_free(struct event_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->events[i].data);
	for (i = 0; i < l->nproblems; i++)
		free(l->problems[i]);
	free(l->events);
	free(l->problems);
	memset(l, 0, sizeof *l);
}
