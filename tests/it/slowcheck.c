/* A test-only check, linked into qmail-maintd-test (never into qmail-maintd):
 * a run lasts MAINTD_SLOW_MS milliseconds and emits one finding per line of
 * the file MAINTD_SLOW_FINDINGS ("warn NAME" or "crit NAME"), so tests can
 * drive the sweep machinery and the finding memory of the real daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check.h"

static const struct confvar var_ms = { "MAINTD_SLOW_MS", "0" };
static const struct confvar var_findings = { "MAINTD_SLOW_FINDINGS", "" };
static const struct confvar *const slow_vars[] = { &var_ms, &var_findings, NULL };
static const char *const slow_events[] = { "ran", "item", NULL };

static unsigned long slow_ms;

static int
slow_configure(const struct conf *c, struct conf_err *err)
{
	(void)c;
	return conf_ulong(&var_ms, 0, 3600000, &slow_ms, err);
}

static void
emit_items(struct sweep *sw)
{
	const char *path = conf_value(&var_findings);
	char line[256], name[200], level[16];
	struct finding f;
	FILE *fp;

	if (!*path || !(fp = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%15s %199s", level, name) == 2) {
			finding_init(&f, strcmp(level, "crit") == 0 ? LEVEL_CRIT : LEVEL_WARN,
			    FINDING_STATE, NULL, "item");
			finding_add(&f, "name", name);
			finding_subject(&f);
			sweep_emit(sw, &f);
		}
	fclose(fp);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sweep *sw = arg;

	(void)fd;
	(void)what;
	event_free(sw->data);
	sw->data = NULL;
	sweep_done(sw, CHECK_OK);
}

static void
slow_start(struct sweep *sw)
{
	struct timeval tv = { (time_t)(slow_ms / 1000), (suseconds_t)(slow_ms % 1000) * 1000 };
	struct finding f;

	emit_items(sw);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, "ran");
	finding_addu(&f, "ms", slow_ms);
	sweep_emit(sw, &f);
	if (!slow_ms || !(sw->data = evtimer_new(sw->base, on_timer, sw)) ||
	    evtimer_add(sw->data, &tv) < 0)
		sweep_done(sw, CHECK_OK);
}

static void
slow_cancel(struct sweep *sw)
{
	if (sw->data)
		event_free(sw->data);
	sw->data = NULL;
}

const struct check check_slow = {
	.name = "slow",
	.interval = 0,
	.timeout = 60,
	.vars = slow_vars,
	.events = slow_events,
	.configure = slow_configure,
	.start = slow_start,
	.cancel = slow_cancel,
};
