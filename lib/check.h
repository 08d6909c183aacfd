/* The interface between the daemon and a check. A check is one lib/ file
 * exporting one const struct check; the daemon owns a table of them.
 *
 * The daemon calls start() with a struct sweep; the check emits findings with
 * sweep_emit() and ends with exactly one sweep_done(), at once or later from
 * the event loop. If the time limit passes or the daemon stops, cancel() is
 * called instead: the check frees its run state and emits nothing more. */
#ifndef CHECK_H
#define CHECK_H

#include <time.h>
#include "conf.h"
#include "finding.h"

struct event_base;

enum check_status {
	CHECK_OK,	/* ran to the end: findings not seen this run are cleared */
	CHECK_FAILED	/* could not check: nothing is cleared, one-shot exits 3 */
};

struct sweep {
	const struct check *check;
	struct event_base *base;
	const struct conf *conf;
	int verbose;		/* -v: emit FINDING_DETAIL lines */
	time_t start;		/* wall clock when the run started */
	void *data;		/* the check's own state for this run */

	/* the runner's */
	void (*emit_fn)(struct sweep *, const struct finding *);
	void (*done_fn)(struct sweep *, enum check_status);
	void *runner;
};

struct check {
	const char *name;		/* the CHECK word in log lines, the -C name */
	unsigned interval;		/* default seconds between timed runs; 0: MAINTD_INTERVAL */
	unsigned timeout;		/* default time limit of one run, seconds */
	const struct confvar *const *vars;	/* its own variables, NULL-terminated */
	const char *const *events;	/* every EVENT code it emits, NULL-terminated */
	/* Optional: reads and validates its variables (at start; and on SIGHUP). */
	int (*configure)(const struct conf *, struct conf_err *);
	void (*start)(struct sweep *);
	void (*cancel)(struct sweep *);	/* may be NULL for checks that finish inside start() */
	/* Optional: the name of a check that, when it runs in the same sweep, must
	 * end before this one starts (svc reads the crashes kmsg has just read). */
	const char *after;
};

static inline void
sweep_emit(struct sweep *s, struct finding *f)
{
	if (!f->check)
		f->check = s->check->name;
	s->emit_fn(s, f);
}

static inline void
sweep_done(struct sweep *s, enum check_status st)
{
	s->done_fn(s, st);
}

#endif
