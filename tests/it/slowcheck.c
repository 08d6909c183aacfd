/* A test-only check, linked into qmail-maintd-test (never into qmail-maintd):
 * a run lasts MAINTD_SLOW_MS milliseconds and emits one finding per line of
 * the file MAINTD_SLOW_FINDINGS ("warn NAME" or "crit NAME"), so tests can
 * drive the sweep machinery and the finding memory of the real daemon.
 *
 * With MAINTD_SLOW_TICK_MS set, a timer of that period runs while the run
 * lasts, and the run ends with "info slow: ticks n=N late_max_us=L": how
 * late the loop served it, while other checks ran beside it.
 *
 * check_slowprobe is the same check run in the probe process (CHECK_PROBE):
 * tests of the probe process drive it without a network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "check.h"
#include "metrics.h"

static const struct confvar var_ms = { "MAINTD_SLOW_MS", "0" };
static const struct confvar var_tick = { "MAINTD_SLOW_TICK_MS", "0" };
static const struct confvar var_findings = { "MAINTD_SLOW_FINDINGS", "" };
static const struct confvar *const slow_vars[] = { &var_ms, &var_tick, &var_findings, NULL };
static const struct confvar pvar_ms = { "MAINTD_SLOWPROBE_MS", "0" };
static const struct confvar pvar_tick = { "MAINTD_SLOWPROBE_TICK_MS", "0" };
static const struct confvar pvar_findings = { "MAINTD_SLOWPROBE_FINDINGS", "" };
static const struct confvar *const slowprobe_vars[] = { &pvar_ms, &pvar_tick, &pvar_findings,
	NULL };
static const char *const slow_events[] = { "ran", "item", "ticks", NULL };

struct slow_config {
	unsigned long ms, tick_ms;
	const char *path;	/* slow: its findings file, read by each run */
	char items[4096];	/* slowprobe: that file, read here: the probe process has no files */
};

struct slow_run {
	struct check_run *run;
	struct event *end, *tick;
	struct timespec due;	/* of the next tick */
	unsigned long ticks, late_max_us, items;
};

static const struct metric_family slow_metrics[] = {
	{ .name = "qmail_slow_items", .type = METRIC_GAUGE,
	    .help = "Items of the test-only slow check.", .perf = "slow_items", .how = PERF_FIRST },
	{ .name = NULL }
}, slowprobe_metrics[] = {
	{ .name = "qmail_slowprobe_items", .type = METRIC_GAUGE,
	    .help = "Items of the test-only slow check in the probe process.",
	    .perf = "slowprobe_items", .how = PERF_FIRST },
	{ .name = NULL }
};

static void *
configure_vars(const struct confvar *const *v, int now, struct conf_err *err)
{
	struct slow_config *cf = calloc(1, sizeof(*cf));
	const char *path = conf_value(v[2]);
	FILE *fp;

	if (cf && (conf_ulong(v[0], 0, 3600000, &cf->ms, err) < 0 ||
	    conf_ulong(v[1], 0, 1000, &cf->tick_ms, err) < 0)) {
		free(cf);
		return NULL;
	}
	if (!cf)
		conf_set_err(err, v[0]->name, "", "no-memory");
	else if (!now)
		cf->path = path;
	else if (*path && (fp = fopen(path, "r"))) {
		cf->items[fread(cf->items, 1, sizeof(cf->items) - 1, fp)] = 0;
		fclose(fp);
	}
	return cf;
}

static void *
slow_configure(const struct conf *c, struct conf_err *err)
{
	(void)c;
	return configure_vars(slow_vars, 0, err);
}

static void *
slowprobe_configure(const struct conf *c, struct conf_err *err)
{
	(void)c;
	return configure_vars(slowprobe_vars, 1, err);
}

static void
emit_items(struct slow_run *s)
{
	const struct slow_config *cf = s->run->config;
	char name[200], level[16], items[sizeof(cf->items)];
	const char *line = cf->items;
	struct finding f;
	FILE *fp;

	if (cf->path && *cf->path && (fp = fopen(cf->path, "r"))) {
		items[fread(items, 1, sizeof(items) - 1, fp)] = 0;
		fclose(fp);
		line = items;
	}
	for (; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "")
		if (sscanf(line, "%15s %199s", level, name) == 2) {
			finding_init(&f, strcmp(level, "crit") == 0 ? LEVEL_CRIT : LEVEL_WARN,
			    FINDING_STATE, NULL, "item");
			finding_add(&f, "name", name);
			finding_subject(&f);
			run_emit(s->run, &f);
			s->items++;
		}
}

static struct timeval
ms_tv(unsigned long ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

static void
next_due(struct slow_run *s, unsigned long ms)
{
	clock_gettime(CLOCK_MONOTONIC, &s->due);
	s->due.tv_nsec += (long)ms * 1000000;
	s->due.tv_sec += s->due.tv_nsec / 1000000000;
	s->due.tv_nsec %= 1000000000;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct slow_run *s = arg;
	const struct slow_config *cf = s->run->config;
	struct timeval tv = ms_tv(cf->tick_ms);
	struct timespec now;
	long long late;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &now);
	late = (long long)(now.tv_sec - s->due.tv_sec) * 1000000 +
	    (now.tv_nsec - s->due.tv_nsec) / 1000;
	if (late > 0 && (unsigned long)late > s->late_max_us)
		s->late_max_us = (unsigned long)late;
	s->ticks++;
	next_due(s, cf->tick_ms);
	evtimer_add(s->tick, &tv);
}

static void
on_end(evutil_socket_t fd, short what, void *arg)
{
	struct slow_run *s = arg;
	const struct slow_config *cf = s->run->config;
	struct finding f;

	(void)fd;
	(void)what;
	if (cf->tick_ms) {
		finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, "ticks");
		finding_addu(&f, "n", s->ticks);
		finding_addu(&f, "late_max_us", s->late_max_us);
		run_emit(s->run, &f);
	}
	run_done(s->run, CHECK_OK);
}

static void
slow_start(struct check_run *run)
{
	const struct slow_config *cf = run->config;
	struct slow_run *s = run->state;
	struct timeval tv = ms_tv(cf->ms), tick = ms_tv(cf->tick_ms);
	struct finding f;

	s->run = run;
	emit_items(s);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, "ran");
	finding_addu(&f, "ms", cf->ms);
	run_emit(run, &f);
	if (cf->tick_ms && (s->tick = evtimer_new(run->base, on_tick, s))) {
		next_due(s, cf->tick_ms);
		evtimer_add(s->tick, &tick);
	}
	if (!cf->ms || !(s->end = evtimer_new(run->base, on_end, s)) ||
	    evtimer_add(s->end, &tv) < 0)
		run_done(run, CHECK_OK);
}

static void
slow_cleanup(struct check_run *run)
{
	struct slow_run *s = run->state;

	if (s->end)
		event_free(s->end);
	if (s->tick)
		event_free(s->tick);
}

static void
slow_samples(const struct check_run *run, struct metrics *m)
{
	const struct slow_run *s = run->state;

	metrics_set(m, run->check->metrics, NULL, NULL, (double)s->items);
}

const struct check check_slow = {
	.name = "slow",
	.interval = 0,
	.timeout = 60,
	.vars = slow_vars,
	.events = slow_events,
	.configure = slow_configure,
	.run_size = sizeof(struct slow_run),
	.start = slow_start,
	.cleanup = slow_cleanup,
	.metrics = slow_metrics,
	.samples = slow_samples,
};

const struct check check_slowprobe = {
	.name = "slowprobe",
	.where = CHECK_PROBE,
	.interval = 0,
	.timeout = 60,
	.vars = slowprobe_vars,
	.events = slow_events,
	.configure = slowprobe_configure,
	.run_size = sizeof(struct slow_run),
	.start = slow_start,
	.cleanup = slow_cleanup,
	.metrics = slowprobe_metrics,
	.samples = slow_samples,
};
