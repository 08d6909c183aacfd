#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "active.h"

static char cleared[16][128];
static unsigned ncleared;

static void
on_cleared(unsigned check, const char *word, const char *event, const char *subject, void *arg)
{
	(void)arg;
	assert_string_equal(word, "queue");	/* make()'s: the finding's, kept */
	snprintf(cleared[ncleared++ % 16], sizeof(cleared[0]), "%u %s %s", check, event, subject);
}

static void
make(struct finding *f, enum level l, const char *event, const char *id, const char *extra)
{
	finding_init(f, l, FINDING_STATE, "queue", event);
	finding_add(f, "id", id);
	finding_subject(f);
	if (extra)
		finding_add(f, "detail", extra);
}

static enum active_verdict
see(struct active *a, unsigned check, enum level l, const char *event, const char *id,
    const char *extra, time_t now, int forced)
{
	struct finding f;

	make(&f, l, event, id, extra);
	return active_seen(a, check, &f, now, forced, 100);
}

static void
appear_repeat_remind_clear(void **state)
{
	struct active *a = active_new(100);

	(void)state;
	ncleared = 0;
	active_run_begin(a, 0);
	assert_int_equal(see(a, 0, LEVEL_WARN, "orphan-info", "1", NULL, 1000, 0), ACTIVE_LOG);
	assert_int_equal(see(a, 0, LEVEL_CRIT, "orphan-todo", "2", NULL, 1000, 0), ACTIVE_LOG);
	active_run_end(a, 0, 1, on_cleared, NULL);
	assert_int_equal(active_count(a, 0, LEVEL_WARN), 1);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 1);
	assert_int_equal(ncleared, 0);

	/* repeat: silent, whatever the other fields say */
	active_run_begin(a, 0);
	assert_int_equal(see(a, 0, LEVEL_WARN, "orphan-info", "1", "changed", 1050, 0), ACTIVE_QUIET);
	assert_int_equal(see(a, 0, LEVEL_CRIT, "orphan-todo", "2", NULL, 1050, 0), ACTIVE_QUIET);
	active_run_end(a, 0, 1, on_cleared, NULL);

	/* remind after 100 s since last logged */
	active_run_begin(a, 0);
	assert_int_equal(see(a, 0, LEVEL_WARN, "orphan-info", "1", NULL, 1100, 0), ACTIVE_LOG);
	assert_int_equal(see(a, 0, LEVEL_CRIT, "orphan-todo", "2", NULL, 1099, 0), ACTIVE_QUIET);
	active_run_end(a, 0, 1, on_cleared, NULL);
	active_run_begin(a, 0);
	assert_int_equal(see(a, 0, LEVEL_WARN, "orphan-info", "1", NULL, 1150, 0), ACTIVE_QUIET);

	/* id 2 gone: cleared, with its subject */
	active_run_end(a, 0, 1, on_cleared, NULL);
	assert_int_equal(ncleared, 1);
	assert_string_equal(cleared[0], "0 orphan-todo id=2");
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 0);
	assert_int_equal(active_total(a), 1);
	active_free(a);
}

static void
forced_and_level_change(void **state)
{
	struct active *a = active_new(100);

	(void)state;
	active_run_begin(a, 1);
	assert_int_equal(see(a, 1, LEVEL_WARN, "cert-expiring", "t", NULL, 10, 0), ACTIVE_LOG);
	active_run_end(a, 1, 1, NULL, NULL);
	active_run_begin(a, 1);
	assert_int_equal(see(a, 1, LEVEL_WARN, "cert-expiring", "t", NULL, 11, 1), ACTIVE_LOG);
	active_run_end(a, 1, 1, NULL, NULL);
	active_run_begin(a, 1);
	assert_int_equal(see(a, 1, LEVEL_CRIT, "cert-expiring", "t", NULL, 12, 0), ACTIVE_LOG);
	assert_int_equal(active_count(a, 1, LEVEL_WARN), 0);
	assert_int_equal(active_count(a, 1, LEVEL_CRIT), 1);
	active_run_end(a, 1, 1, NULL, NULL);
	active_free(a);
}

static void
failed_run_clears_nothing(void **state)
{
	struct active *a = active_new(100);

	(void)state;
	ncleared = 0;
	active_run_begin(a, 0);
	see(a, 0, LEVEL_WARN, "x", "1", NULL, 1, 0);
	active_run_end(a, 0, 1, on_cleared, NULL);
	active_run_begin(a, 0);
	active_run_end(a, 0, 0, on_cleared, NULL);
	assert_int_equal(ncleared, 0);
	assert_int_equal(active_total(a), 1);
	active_run_begin(a, 0);
	active_run_end(a, 0, 1, on_cleared, NULL);
	assert_int_equal(ncleared, 1);
	assert_int_equal(active_total(a), 0);
	active_free(a);
}

static void
checks_are_separate(void **state)
{
	struct active *a = active_new(100);

	(void)state;
	ncleared = 0;
	active_run_begin(a, 0);
	active_run_begin(a, 1);
	assert_int_equal(see(a, 0, LEVEL_WARN, "x", "1", NULL, 1, 0), ACTIVE_LOG);
	assert_int_equal(see(a, 1, LEVEL_WARN, "x", "1", NULL, 1, 0), ACTIVE_LOG);
	active_run_end(a, 0, 1, on_cleared, NULL);
	active_run_end(a, 1, 1, on_cleared, NULL);
	/* a run of check 0 alone does not clear check 1's findings */
	active_run_begin(a, 0);
	active_run_end(a, 0, 1, on_cleared, NULL);
	assert_int_equal(ncleared, 1);
	assert_string_equal(cleared[0], "0 x id=1");
	assert_int_equal(active_count(a, 1, LEVEL_WARN), 1);
	active_free(a);
}

static void
bounded(void **state)
{
	struct active *a = active_new(1000);
	char id[16];
	unsigned i, logged = 0, full = 0;
	enum active_verdict v;

	(void)state;
	active_run_begin(a, 0);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "%u", i);
		v = see(a, 0, LEVEL_WARN, "orphan-info", id, NULL, 1, 0);
		logged += v == ACTIVE_LOG;
		full += v == ACTIVE_FULL;
	}
	assert_int_equal(logged, 1000);
	assert_int_equal(full, 4000);
	assert_int_equal(active_total(a), 1000);
	/* all remembered ones are still found (the table grew several times) */
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "%u", i);
		assert_int_equal(see(a, 0, LEVEL_WARN, "orphan-info", id, NULL, 2, 0), ACTIVE_QUIET);
	}
	active_run_end(a, 0, 1, NULL, NULL);
	active_free(a);
}

static void
subject_not_other_fields(void **state)
{
	struct active *a = active_new(10);
	struct finding f;

	(void)state;
	active_run_begin(a, 0);
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "tls", "cert-expiring");
	finding_add(&f, "target", "smtp://127.0.0.1:25");
	finding_subject(&f);
	finding_addu(&f, "days", 12);
	assert_int_equal(active_seen(a, 0, &f, 1, 0, 0), ACTIVE_LOG);
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "tls", "cert-expiring");
	finding_add(&f, "target", "smtp://127.0.0.1:25");
	finding_subject(&f);
	finding_addu(&f, "days", 11);
	assert_int_equal(active_seen(a, 0, &f, 100000, 0, 0), ACTIVE_QUIET);	/* remind 0: never */
	active_free(a);
}

static enum active_verdict
see_event(struct active *a, const char *pid, unsigned long hold, time_t now, int forced)
{
	struct finding f;

	finding_init(&f, LEVEL_CRIT, FINDING_EVENT, "kmsg", "crash");
	finding_add(&f, "pid", pid);
	finding_subject(&f);
	f.hold = hold;
	return active_seen(a, 0, &f, now, forced, 1);
}

/* An event: logged once (no reminder however short MAINTD_REMIND), active
 * for its hold whether or not a run sees it again, then gone without a
 * cleared line, even after runs that failed; conditions beside it as before. */
static void
events_expire_silently(void **state)
{
	struct active *a = active_new(100);
	time_t t = time(NULL);

	(void)state;
	ncleared = 0;
	active_run_begin(a, 0);
	assert_int_equal(see_event(a, "1", 3600, t, 0), ACTIVE_LOG);
	assert_int_equal(see(a, 0, LEVEL_WARN, "bad-record", "x", NULL, t, 0), ACTIVE_LOG);
	active_run_end(a, 0, 1, on_cleared, NULL);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 1);

	/* not seen: a condition would be cleared, the event stays, silently */
	active_run_begin(a, 0);
	active_run_end(a, 0, 1, on_cleared, NULL);
	assert_int_equal(ncleared, 1);
	assert_string_equal(cleared[0], "0 bad-record id=x");
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 1);

	/* seen again (a held crash repeated): quiet, no reminder; forced: logged */
	active_run_begin(a, 0);
	assert_int_equal(see_event(a, "1", 3590, t + 10, 0), ACTIVE_QUIET);
	assert_int_equal(see_event(a, "1", 3000, t + 600, 0), ACTIVE_QUIET);
	assert_int_equal(see_event(a, "1", 3000, t + 600, 1), ACTIVE_LOG);
	active_run_end(a, 0, 0, on_cleared, NULL);

	/* the run that saw it last keeps it, whatever the clock says */
	active_expire(a, 0, t + 100000);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 1);
	/* a later run that does not see it: kept until its hold ends, then gone */
	active_run_begin(a, 0);
	active_expire(a, 0, t + 600 + 2999);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 1);
	active_expire(a, 0, t + 600 + 3000);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 0);
	assert_int_equal(active_total(a), 0);
	assert_int_equal(ncleared, 1);

	/* a failed run (nothing cleared) still lets events expire; hold 0: the
	 * event lasts until the end of the next run of its check */
	active_run_begin(a, 0);
	assert_int_equal(see_event(a, "2", 0, t, 0), ACTIVE_LOG);
	active_run_end(a, 0, 0, on_cleared, NULL);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 1);
	active_run_begin(a, 0);
	active_run_end(a, 0, 0, on_cleared, NULL);
	assert_int_equal(active_count(a, 0, LEVEL_CRIT), 0);
	assert_int_equal(ncleared, 1);

	/* past its hold, seen again before it was dropped: a new event, logged
	 * (the remote check's hourly diagnosis of one domain) */
	active_run_begin(a, 0);
	assert_int_equal(see_event(a, "3", 60, t, 0), ACTIVE_LOG);
	assert_int_equal(see_event(a, "3", 60, t + 59, 0), ACTIVE_QUIET);
	assert_int_equal(see_event(a, "3", 60, t + 59 + 60, 0), ACTIVE_LOG);
	assert_int_equal(active_seen_since(a), 0);
	active_run_end(a, 0, 1, on_cleared, NULL);
	active_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appear_repeat_remind_clear),
		cmocka_unit_test(forced_and_level_change),
		cmocka_unit_test(failed_run_clears_nothing),
		cmocka_unit_test(checks_are_separate),
		cmocka_unit_test(bounded),
		cmocka_unit_test(subject_not_other_fields),
		cmocka_unit_test(events_expire_silently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
