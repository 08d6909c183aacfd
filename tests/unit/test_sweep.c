/* The sweep runner (daemon/sweep.c) with checks declared here: it owns each
 * run's state and release, serves timers and the time limit while a check
 * loops through run_yield(), and passes a check's samples to the generic
 * metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "check.h"
#include "config.h"
#include "metrics.h"
#include "out.h"
#include "sweep.h"

#define SPIN_STEPS 200

struct spin {
	struct check_run *run;
	unsigned steps;
	unsigned long limit;	/* steps before done; 0: never */
};

static unsigned cleanups, samples_calls, timer_fired_at;
static int timer_fired;

static void
busy_ms(unsigned ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/* One slice of a long loop: 1 ms of work, then the loop back. */
static void
spin_step(struct check_run *run)
{
	struct spin *s = run->state;

	busy_ms(1);
	if (s->limit && ++s->steps >= s->limit) {
		run_done(run, CHECK_OK);
		return;
	}
	if (!s->limit)
		s->steps++;
	if (run_yield(run, spin_step) < 0)
		run_done(run, CHECK_FAILED);
}

static void
spin_start(struct check_run *run)
{
	struct spin *s = run->state;
	const unsigned long *limit = run->config;

	s->run = run;
	s->limit = *limit;
	spin_step(run);
}

static void
spin_cleanup(struct check_run *run)
{
	(void)run;
	cleanups++;
}

static const struct metric_family spin_metrics[] = {
	{ .name = "qmail_spin_steps", .type = METRIC_GAUGE, .help = "Steps.",
	    .perf = "spin_steps", .how = PERF_FIRST },
	{ .name = NULL }
};

static void
spin_samples(const struct check_run *run, struct metrics *m)
{
	const struct spin *s = run->state;

	samples_calls++;
	metrics_set(m, &spin_metrics[0], NULL, NULL, s->steps);
}

static const struct confvar var_steps = { "TEST_SPIN_STEPS", "200" };
static const struct confvar *const spin_vars[] = { &var_steps, NULL };
static const char *const spin_events[] = { NULL };

static void *
spin_configure(const struct conf *c, struct conf_err *err)
{
	unsigned long *v = malloc(sizeof(*v));

	(void)c;
	if (v && conf_ulong(&var_steps, 0, 100000, v, err) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static const struct check check_spin = {
	.name = "spin", .interval = 60, .timeout = 1, .vars = spin_vars,
	.events = spin_events, .configure = spin_configure, .run_size = sizeof(struct spin),
	.start = spin_start, .cleanup = spin_cleanup, .metrics = spin_metrics,
	.samples = spin_samples,
};

static const struct confvar var_other = { "TEST_OTHER_N", "1" };
static const struct confvar *const other_vars[] = { &var_other, NULL };

static void *
other_configure(const struct conf *c, struct conf_err *err)
{
	unsigned long *v = malloc(sizeof(*v));

	(void)c;
	if (v && conf_ulong(&var_other, 1, 9, v, err) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static void
other_start(struct check_run *run)
{
	run_done(run, CHECK_OK);
}

static const struct check check_other = {
	.name = "other", .timeout = 5, .vars = other_vars, .events = spin_events,
	.configure = other_configure, .start = other_start,
};

static const struct check *const checks[] = { &check_spin, &check_other, NULL };

struct world {
	struct event_base *base;
	struct config cf;
	struct sweep sweep;
	int ended;
};

static void
on_sweep_done(struct sweep *sw, void *arg)
{
	struct world *w = arg;

	(void)sw;
	w->ended = 1;
	event_base_loopbreak(w->base);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct world *w = arg;
	const struct spin *s = w->sweep.run[0].run.state;

	(void)fd;
	(void)what;
	timer_fired = 1;
	timer_fired_at = s ? s->steps : SPIN_STEPS;
}

static void
world_start(struct world *w, const char *steps)
{
	struct conf_err err;

	memset(w, 0, sizeof(*w));
	setenv("QMAILHOME", "/", 1);
	setenv("MAINTD_STATE", "/nonexistent", 1);
	setenv("TEST_SPIN_STEPS", steps, 1);
	unsetenv("TEST_OTHER_N");
	cleanups = samples_calls = timer_fired_at = 0;
	timer_fired = 0;
	assert_int_equal(config_load(&w->cf, checks, 2, NULL, 0, &err), 0);
	assert_non_null(w->base = event_base_new());
	out_init(NULL);
	assert_int_equal(sweep_init(&w->sweep, w->base, &w->cf.conf, w->cf.check), 0);
	assert_non_null(w->sweep.metrics = metrics_new());
	metrics_register(w->sweep.metrics, spin_metrics);
	w->sweep.sweep_done = on_sweep_done;
	w->sweep.arg = w;
}

static void
world_end(struct world *w)
{
	metrics_free(w->sweep.metrics);
	sweep_free(&w->sweep);
	config_free(&w->cf);
	event_base_free(w->base);
	out_free();
}

/* A 1 ms timer fires while a check loops 200 ms through run_yield. */
static void
yield_serves_timers(void **state)
{
	struct timeval ms1 = { 0, 1000 };
	struct world w;
	struct event *t;
	size_t len;
	char *text;

	(void)state;
	world_start(&w, "200");
	assert_non_null(t = evtimer_new(w.base, on_timer, &w));
	evtimer_add(t, &ms1);
	assert_int_equal(sweep_start(&w.sweep, "once", 0, w.cf.conf.enabled), 0);
	event_base_dispatch(w.base);
	assert_true(w.ended);
	assert_true(timer_fired);
	assert_true(timer_fired_at < SPIN_STEPS / 2);
	assert_int_equal(sweep_status(&w.sweep), STATUS_OK);
	/* released once, sampled once, through the generic metrics */
	assert_int_equal(cleanups, 1);
	assert_int_equal(samples_calls, 1);
	assert_non_null(text = metrics_text(w.sweep.metrics, &len));
	assert_non_null(strstr(text, "\nqmail_spin_steps 200\n"));
	assert_non_null(strstr(text, "qmail_maintd_check_failed{check=\"spin\"} 0\n"));
	free(text);
	event_free(t);
	world_end(&w);
}

/* A run that never ends is ended by its time limit: failed, sampled, released. */
static void
time_limit_ends_endless_run(void **state)
{
	struct world w;
	struct timespec t0, t1;
	size_t len;
	char *text;

	(void)state;
	world_start(&w, "0");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sweep_start(&w.sweep, "once", 0, w.cf.conf.enabled), 0);
	event_base_dispatch(w.base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(w.ended);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	assert_int_equal(sweep_status(&w.sweep), STATUS_UNKNOWN);
	assert_int_equal(cleanups, 1);
	assert_int_equal(samples_calls, 1);
	assert_non_null(text = metrics_text(w.sweep.metrics, &len));
	assert_non_null(strstr(text, "qmail_maintd_check_failed{check=\"spin\"} 1\n"));
	free(text);
	world_end(&w);
}

/* SIGTERM's path: the run is released without samples, nothing more is said. */
static void
cancel_releases(void **state)
{
	struct world w;

	(void)state;
	world_start(&w, "0");
	assert_int_equal(sweep_start(&w.sweep, "once", 0, w.cf.conf.enabled), 0);
	assert_true(sweep_busy(&w.sweep));
	sweep_cancel(&w.sweep);
	assert_false(sweep_busy(&w.sweep));
	assert_int_equal(cleanups, 1);
	assert_int_equal(samples_calls, 0);
	assert_int_equal(event_base_dispatch(w.base), 1);	/* nothing left pending */
	world_end(&w);
}

/* SIGHUP: a bad variable of one check leaves every check's value in force. */
static void
reload_all_or_nothing(void **state)
{
	struct world w;
	struct conf_err err;
	void *before[2];

	(void)state;
	world_start(&w, "7");
	before[0] = w.cf.check[0];
	before[1] = w.cf.check[1];
	setenv("TEST_SPIN_STEPS", "8", 1);
	setenv("TEST_OTHER_N", "10", 1);
	assert_int_equal(config_reload(&w.cf, &err), -1);
	assert_string_equal(err.var, "TEST_OTHER_N");
	assert_string_equal(err.value, "10");
	assert_string_equal(err.reason, "out-of-range");
	assert_ptr_equal(w.cf.check[0], before[0]);
	assert_ptr_equal(w.cf.check[1], before[1]);
	assert_int_equal(*(unsigned long *)w.cf.check[0], 7);
	setenv("TEST_OTHER_N", "3", 1);
	assert_int_equal(config_reload(&w.cf, &err), 0);
	assert_int_equal(*(unsigned long *)w.cf.check[0], 8);
	assert_int_equal(*(unsigned long *)w.cf.check[1], 3);
	world_end(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yield_serves_timers),
		cmocka_unit_test(time_limit_ends_endless_run),
		cmocka_unit_test(cancel_releases),
		cmocka_unit_test(reload_all_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
