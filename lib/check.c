#include "check.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

static void
on_yield(evutil_socket_t fd, short what, void *arg)
{
	struct check_run *run = arg;
	run_fn *fn = run->yield_fn;

	(void)fd;
	(void)what;
	run->yield_fn = NULL;
	fn(run);
}

/* A zero-timeout timer, never event_active(): libevent 2.1 runs an active
 * event again before it looks at signals or timers, so re-arming one from
 * its own callback would starve SIGTERM and the time limit. */
int
run_yield(struct check_run *run, run_fn *fn)
{
	static const struct timeval now = { 0, 0 };

	if (!run->yield && !(run->yield = evtimer_new(run->base, on_yield, run)))
		return -1;
	run->yield_fn = fn;
	return evtimer_add(run->yield, &now);
}

int
check_run_init(struct check_run *run, const struct check *ck, struct event_base *base,
    const struct conf *conf, const void *config)
{
	memset(run, 0, sizeof(*run));
	run->check = ck;
	run->base = base;
	run->conf = conf;
	run->config = config;
	run->verbose = conf->verbose;
	run->start = time(NULL);
	if (ck->run_size && !(run->state = calloc(1, ck->run_size)))
		return -1;
	return 0;
}

void
check_run_release(struct check_run *run)
{
	if (run->yield) {
		event_free(run->yield);
		run->yield = NULL;
	}
	run->yield_fn = NULL;
	if (run->check->cleanup)
		run->check->cleanup(run);
	free(run->state);
	run->state = NULL;
}

void
run_emit_about(struct check_run *run, enum level level, const char *event,
    const char *key, const char *value, int errnum)
{
	struct finding f;

	finding_init(&f, level, FINDING_STATE, NULL, event);
	finding_add(&f, key, value);
	finding_subject(&f);
	if (errnum)
		finding_error(&f, errnum);
	run_emit(run, &f);
}
