#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "logline.h"
#include "out.h"
#include "probe.h"

void
sweep_say(const struct finding *f)
{
	struct logline l;

	out_line(l.buf, logline_finding(&l, f));
}

static void
say_cleared(unsigned index, const char *word, const char *event, const char *subject, void *arg)
{
	struct logline l;

	(void)index;
	(void)arg;
	logline_start(&l, LEVEL_INFO, word, "cleared");
	logline_word(&l, event);
	logline_raw(&l, subject);
	out_line(l.buf, logline_end(&l));
}

/* A finding logged again (a reminder, a forced sweep, a level change)
 * says since when it is there, so that new and repeated tell apart. */
static void
say_again(struct sweep *r, const struct finding *f)
{
	static struct finding again;
	time_t since = active_seen_since(r->active);

	if (!since) {
		sweep_say(f);
		return;
	}
	again = *f;
	finding_addi(&again, "since", (long long)since);
	sweep_say(&again);
}

static void
on_emit(struct check_run *cr, const struct finding *f)
{
	struct sweep_run *run = cr->runner;
	struct sweep *r = run->sweep;
	time_t now;

	if (!run->running)
		return;
	if (r->metrics)
		metrics_finding(r->metrics, cr->check->name, f);
	switch (f->kind) {
	case FINDING_DETAIL:
		if (cr->verbose)
			sweep_say(f);
		return;
	case FINDING_NOTE:
		sweep_say(f);
		return;
	case FINDING_STATE:
	case FINDING_EVENT:
		break;
	}
	now = time(NULL);
	switch (active_seen(r->active, run->index, f, now, r->forced, r->conf->remind)) {
	case ACTIVE_LOG:
		say_again(r, f);
		break;
	case ACTIVE_QUIET:
		break;
	case ACTIVE_FULL:
		r->full[f->level]++;
		break;
	}
}

static unsigned long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Checks and findings counted apart: checks_ok + checks_failed checks ran;
 * warn and crit are their active findings. */
static void
say_done(struct sweep *r)
{
	unsigned long warn = r->full[LEVEL_WARN], crit = r->full[LEVEL_CRIT], ran = 0, full = 0;
	struct finding f;
	unsigned i, l;

	for (l = 0; l <= LEVEL_FATAL; l++)
		full += r->full[l];
	if (full) {
		finding_init(&f, LEVEL_WARN, FINDING_NOTE, "sweep", "too-many-findings");
		finding_addu(&f, "limit", r->conf->maxfindings);
		finding_addu(&f, "unremembered", full);
		sweep_say(&f);
	}
	for (i = 0; i < r->conf->nchecks; i++) {
		if (!r->ran[i])
			continue;
		ran++;
		warn += active_count(r->active, i, LEVEL_WARN);
		crit += active_count(r->active, i, LEVEL_CRIT);
	}
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "sweep", "done");
	finding_add(&f, "reason", r->reason);
	finding_addu(&f, "ms", elapsed_ms(&r->t0));
	finding_addu(&f, "checks_ok", ran - r->failed);
	finding_addu(&f, "checks_failed", r->failed);
	finding_addu(&f, "warn", warn);
	finding_addu(&f, "crit", crit);
	sweep_say(&f);
}

static int
count_active(unsigned check, const char *word, enum level level, const char *event,
    const char *subject, time_t first, void *arg)
{
	struct sweep *r = arg;

	(void)check;
	(void)subject;
	(void)first;
	metrics_active_add(r->metrics, word, event, level);
	return 0;
}

static void
end_sweep(struct sweep *r)
{
	if (r->metrics) {
		metrics_active_begin(r->metrics);
		active_foreach(r->active, count_active, r);
		metrics_sweep(r->metrics, (double)elapsed_ms(&r->t0) / 1000, time(NULL));
	}
	say_done(r);
	if (r->sweep_done)
		r->sweep_done(r, r->arg);
}

static void start_run(struct sweep *, unsigned);

/* The runs waiting for this one (struct check's after) start now. */
static void
start_waiting(struct sweep *r, unsigned index)
{
	const char *name = r->conf->checks[index]->name, *after;
	unsigned i;

	for (i = 0; i < r->conf->nchecks; i++)
		if (r->run[i].waiting && (after = r->conf->checks[i]->after) &&
		    strcmp(after, name) == 0)
			start_run(r, i);
}

static int
in_probe(const struct sweep *r, const struct check *ck)
{
	return ck->where == CHECK_PROBE && r->probe;
}

/* The run's samples while its state lives, then its release. */
static void
end_run(struct sweep_run *run, int samples)
{
	struct sweep *r = run->sweep;
	const struct check *ck = run->run.check;
	struct metrics *m = samples ? r->metrics : NULL;

	run->running = 0;
	event_del(run->limit);
	if (m)
		metrics_run_end(m, ck->name, run->failed);
	if (in_probe(r, ck)) {	/* its state is in the probe process */
		probe_run_end(r->probe, run->index, m);
		return;
	}
	/* no state: its allocation failed, there is nothing to sample */
	if (m && ck->samples && (run->run.state || !ck->run_size))
		ck->samples(&run->run, m);
	check_run_release(&run->run);
}

static void
finish_run(struct sweep_run *run, enum check_status st)
{
	struct sweep *r = run->sweep;
	int starting = r->starting;

	run->failed = st != CHECK_OK;
	r->failed += run->failed;
	end_run(run, 1);
	active_run_end(r->active, run->index, st == CHECK_OK, say_cleared, r);
	if (r->check_done)
		r->check_done(r, run->index, r->arg);
	r->pending--;
	r->starting = 1;	/* a waiting run that ends inside start() must not end the sweep */
	start_waiting(r, run->index);
	r->starting = starting;
	if (r->pending == 0 && !r->starting)
		end_sweep(r);
}

static void
on_done(struct check_run *cr, enum check_status st)
{
	struct sweep_run *run = cr->runner;

	if (run->running)
		finish_run(run, st);
}

static void
on_limit(evutil_socket_t fd, short what, void *arg)
{
	struct sweep_run *run = arg;
	struct finding f;

	(void)fd;
	(void)what;
	if (!run->running)
		return;
	finding_init(&f, LEVEL_WARN, FINDING_STATE, run->run.check->name, "timeout");
	finding_addu(&f, "limit", run->sweep->conf->check_timeout[run->index]);
	on_emit(&run->run, &f);
	finish_run(run, CHECK_FAILED);
}

int
sweep_init(struct sweep *r, struct event_base *base, const struct conf *conf,
    void *const *config)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->base = base;
	r->conf = conf;
	r->config = config;
	if (!(r->active = active_new(conf->maxfindings)))
		return -1;
	for (i = 0; i < conf->nchecks; i++) {
		r->run[i].sweep = r;
		r->run[i].index = i;
		if (!(r->run[i].limit = evtimer_new(base, on_limit, &r->run[i])))
			return -1;
		if (conf->checks[i]->input && !(r->run[i].input = malloc(CHECK_INPUT_MAX)))
			return -1;
	}
	return 0;
}

void
sweep_free(struct sweep *r)
{
	unsigned i;

	for (i = 0; i < r->conf->nchecks; i++) {
		if (r->run[i].limit)
			event_free(r->run[i].limit);
		free(r->run[i].input);
	}
	active_free(r->active);
}

int
sweep_busy(const struct sweep *r)
{
	return r->pending > 0 || r->starting;
}

static void
say_start(struct sweep *r, const unsigned char *which)
{
	char names[CONF_MAXCHECKS * 16] = "";
	struct finding f;
	unsigned i;
	size_t n = 0;

	for (i = 0; i < r->conf->nchecks; i++)
		if (which[i])
			n += (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0,
			    "%s%s", n ? "," : "", r->conf->checks[i]->name);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "sweep", "start");
	finding_add(&f, "reason", r->reason);
	finding_add(&f, "checks", names);
	sweep_say(&f);
}

static void
start_run(struct sweep *r, unsigned i)
{
	struct timeval tv = { (time_t)r->conf->check_timeout[i], 0 };
	struct sweep_run *run = &r->run[i];
	const struct check *ck = r->conf->checks[i];
	struct finding f;
	int ok;

	run->waiting = 0;
	run->running = 1;
	evtimer_add(run->limit, &tv);
	active_run_begin(r->active, i);
	if (r->metrics)
		metrics_run_begin(r->metrics, ck->name);
	if (in_probe(r, ck)) {
		memset(&run->run, 0, sizeof(run->run));
		run->run.check = ck;
		run->run.verbose = r->conf->verbose;
		run->run.start = time(NULL);
		ok = 1;
	} else
		ok = check_run_init(&run->run, ck, r->base, r->conf, r->config[i]) == 0;
	run->run.emit_fn = on_emit;
	run->run.done_fn = on_done;
	run->run.runner = run;
	/* the input only for a run that will be made (it may remember handing it) */
	if (ok && ck->input && !(in_probe(r, ck) && probe_pid(r->probe) <= 0) &&
	    (run->run.inputlen = ck->input(r->conf, r->config[i], run->input, CHECK_INPUT_MAX)))
		run->run.input = run->input;
	if (ok && in_probe(r, ck)) {
		probe_run(r->probe, &run->run, i);
		return;
	}
	if (ok) {
		ck->start(&run->run);
		return;
	}
	finding_init(&f, LEVEL_WARN, FINDING_STATE, ck->name, "no-memory");
	on_emit(&run->run, &f);
	finish_run(run, CHECK_FAILED);
}

/* Does the check wait for another one of this sweep? */
static int
runs_after(const struct sweep *r, unsigned i, const unsigned char *which)
{
	const char *after = r->conf->checks[i]->after;
	int j;

	return after && (j = conf_check_index(r->conf, after, strlen(after))) >= 0 &&
	    (unsigned)j != i && which[j];
}

int
sweep_start(struct sweep *r, const char *reason, int forced, const unsigned char *which)
{
	unsigned char now[CONF_MAXCHECKS] = { 0 };
	struct sweep_run *run;
	unsigned i;

	if (sweep_busy(r))
		return -1;
	r->reason = reason;
	r->forced = forced;
	r->failed = 0;
	memset(r->full, 0, sizeof(r->full));
	memcpy(r->ran, which, sizeof(r->ran));
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	say_start(r, which);
	r->starting = 1;
	for (i = 0; i < r->conf->nchecks; i++) {
		if (!which[i])
			continue;
		run = &r->run[i];
		run->running = 0;
		run->waiting = runs_after(r, i, which);
		now[i] = !run->waiting;
		run->failed = 0;
		r->pending++;
	}
	for (i = 0; i < r->conf->nchecks; i++)
		if (now[i])
			start_run(r, i);
	r->starting = 0;
	if (r->pending == 0)	/* every check finished inside start() */
		end_sweep(r);
	return 0;
}

void
sweep_cancel(struct sweep *r)
{
	unsigned i;

	for (i = 0; i < r->conf->nchecks; i++) {
		struct sweep_run *run = &r->run[i];

		run->waiting = 0;
		if (run->running)
			end_run(run, 0);
	}
	r->pending = 0;
}

enum maintd_status
sweep_status(const struct sweep *r)
{
	unsigned long warn = r->full[LEVEL_WARN], crit = r->full[LEVEL_CRIT];
	unsigned i;

	for (i = 0; i < r->conf->nchecks; i++) {
		if (!r->ran[i])
			continue;
		warn += active_count(r->active, i, LEVEL_WARN);
		crit += active_count(r->active, i, LEVEL_CRIT);
	}
	if (crit)
		return STATUS_CRITICAL;
	if (r->failed)
		return STATUS_UNKNOWN;
	return warn ? STATUS_WARNING : STATUS_OK;
}
