/* A sweep: one pass that runs a set of checks concurrently on the event
 * loop. It owns each check's run (state, time limit, release), passes their
 * findings through the active-finding memory to the log and the metrics,
 * and ends with "sweep: done". */
#ifndef SWEEP_H
#define SWEEP_H

#include <time.h>

#include "active.h"
#include "check.h"
#include "conf.h"
#include "metrics.h"

struct event;
struct event_base;

/* One check's run within the sweep: the check's view and the runner's. */
struct sweep_run {
	struct check_run run;
	struct sweep *sweep;
	unsigned index;
	int running;
	int waiting;		/* for the check it runs after (struct check's after) */
	int failed;		/* ended CHECK_FAILED or timed out */
	struct event *limit;
	unsigned char *input;	/* CHECK_INPUT_MAX bytes for a check with .input */
};

struct sweep {
	struct event_base *base;
	const struct conf *conf;
	void *const *config;	/* each check's configure() value, by index */
	struct active *active;
	const char *reason;	/* start, timer, hup, alrm, once */
	int forced;		/* log every active finding again */
	int starting;
	unsigned pending;	/* runs not done yet */
	unsigned failed;	/* runs that could not check */
	unsigned long full[LEVEL_FATAL + 1];	/* findings not remembered: memory full */
	unsigned char ran[CONF_MAXCHECKS];
	struct timespec t0;
	struct sweep_run run[CONF_MAXCHECKS];
	/* called once for each finished check run, then once when all are */
	void (*check_done)(struct sweep *, unsigned index, void *arg);
	void (*sweep_done)(struct sweep *, void *arg);
	void *arg;
	struct metrics *metrics;	/* NULL, or fed every finding and every run's samples */
	struct probe *probe;	/* runs the CHECK_PROBE checks; NULL: in this process */
};

int sweep_init(struct sweep *, struct event_base *, const struct conf *, void *const *config);
void sweep_free(struct sweep *);
int sweep_busy(const struct sweep *);
/* Starts the checks marked in which[]; 0, or -1 if a sweep is running. */
int sweep_start(struct sweep *, const char *reason, int forced, const unsigned char *which);
/* SIGTERM: ends every running check; no more lines from them. */
void sweep_cancel(struct sweep *);
/* The outcome of the checks of the last sweep. */
enum maintd_status sweep_status(const struct sweep *);

/* The daemon's own lines (maintd:, sweep:) are findings like every check's. */
void sweep_say(const struct finding *);

#endif
