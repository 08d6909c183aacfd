/* The memory of active findings: which conditions are open, when each was
 * last logged. Decides whether a finding is logged (new, reminder, forced)
 * and which ones are cleared when a check's run no longer sees them.
 * Bounded: at most max entries. */
#ifndef ACTIVE_H
#define ACTIVE_H

#include <time.h>
#include "finding.h"

struct active;

enum active_verdict {
	ACTIVE_QUIET,	/* known, already said: stay silent */
	ACTIVE_LOG,	/* new, changed level, reminder due, or forced */
	ACTIVE_FULL	/* new but the memory is full: not remembered */
};

typedef void active_cleared_fn(unsigned check, const char *event,
    const char *subject, void *arg);

struct active *active_new(unsigned long max);
void active_free(struct active *);

void active_run_begin(struct active *, unsigned check);
enum active_verdict active_seen(struct active *, unsigned check, const struct finding *,
    time_t now, int forced, unsigned long remind);
/* ok: the run completed, so what it did not see is gone: fn is called for each. */
void active_run_end(struct active *, unsigned check, int ok, active_cleared_fn *fn, void *arg);
/* Number of active findings of the check at the level. */
unsigned long active_count(const struct active *, unsigned check, enum level);
unsigned long active_total(const struct active *);

#endif
