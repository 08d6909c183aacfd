/* The memory of active findings: which conditions are open, when each was
 * last logged. Decides whether a finding is logged (new, reminder, forced)
 * and which ones are cleared when a check's run no longer sees them.
 * Events (FINDING_EVENT) are logged once (again only when forced or when
 * their level changes, never as reminders), stay active until their hold
 * has passed, and then expire without a cleared line, whether or not a run
 * sees them again; a run that sees one again renews its hold.
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

/* word: the CHECK word the finding was logged with (check_word, or the
 * check's name for the runner's own findings about its runs) */
typedef void active_cleared_fn(unsigned check, const char *word, const char *event,
    const char *subject, void *arg);

struct active *active_new(unsigned long max);
void active_free(struct active *);

void active_run_begin(struct active *, unsigned check);
enum active_verdict active_seen(struct active *, unsigned check, const struct finding *,
    time_t now, int forced, unsigned long remind);
/* ok: the run completed, so the conditions it did not see are gone: fn is
 * called for each. Events past their hold expire (active_expire, now). */
void active_run_end(struct active *, unsigned check, int ok, active_cleared_fn *fn, void *arg);
/* Drops, silently, the check's events whose hold ended by now, except those
 * seen by its current (or last) run. */
void active_expire(struct active *, unsigned check, time_t now);
/* Number of active findings of the check at the level. */
unsigned long active_count(const struct active *, unsigned check, enum level);
unsigned long active_total(const struct active *);
/* Each active finding: its check, CHECK word, level, event, subject
 * (logline_subject's text) and the time it was first seen; stops at fn's
 * first non-zero return. */
typedef int active_each_fn(unsigned check, const char *word, enum level, const char *event,
    const char *subject, time_t first, void *arg);
void active_foreach(const struct active *, active_each_fn *fn, void *arg);
/* When the finding last given to active_seen was first seen: 0 when it was
 * new (or not remembered). A reminder or a forced sweep logs it with since=. */
time_t active_seen_since(const struct active *);

#endif
