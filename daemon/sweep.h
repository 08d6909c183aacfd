/* One sweep: runs a set of checks concurrently on the event loop, passes their
 * findings through the active-finding memory to the log, enforces each
 * check's time limit, and ends with "sweep: done". */
#ifndef SWEEP_H
#define SWEEP_H

#include <time.h>

#include "active.h"
#include "check.h"
#include "conf.h"
#include "metrics.h"

struct event;
struct event_base;

struct run {
	struct sweep sw;
	struct runner *runner;
	unsigned index;
	int running;
	int waiting;		/* for the check it runs after (struct check's after) */
	int failed;		/* ended CHECK_FAILED or timed out */
	struct event *limit;
};

struct runner {
	struct event_base *base;
	const struct conf *conf;
	struct active *active;
	const char *reason;	/* start, timer, hup, alrm, once */
	int forced;		/* log every active finding again */
	int starting;
	unsigned pending;	/* runs not done yet */
	unsigned failed;	/* runs that could not check */
	unsigned long full[LEVEL_FATAL + 1];	/* findings not remembered: memory full */
	unsigned char ran[CONF_MAXCHECKS];
	struct timespec t0;
	struct run run[CONF_MAXCHECKS];
	/* called once for each finished check run, then once when all are */
	void (*check_done)(struct runner *, unsigned index, void *arg);
	void (*sweep_done)(struct runner *, void *arg);
	void *arg;
	struct metrics *metrics;	/* NULL, or fed every finding before the memory */
};

int runner_init(struct runner *, struct event_base *, const struct conf *);
void runner_free(struct runner *);
int runner_busy(const struct runner *);
/* Starts the checks marked in which[]; 0, or -1 if a sweep is running. */
int runner_start(struct runner *, const char *reason, int forced, const unsigned char *which);
/* SIGTERM: cancels every running check; no more lines from them. */
void runner_cancel(struct runner *);
/* The worst outcome of the checks of the last sweep: 0 ok, 1 warn, 2 crit, 3 failed. */
int runner_status(const struct runner *);

#endif
