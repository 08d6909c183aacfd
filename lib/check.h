/* The interface between the daemon and a check. A check is one lib/ file
 * exporting one const struct check; the daemon owns a table of them and
 * everything around a check's logic: its configuration, its run state, its
 * time limit, where its findings go, and its metrics.
 *
 * Adding a check
 *  1. lib/NAME.c exports `const struct check check_NAME` (a header lib/NAME.h
 *     declares it); daemon/checks.c gets one line.
 *  2. Variables: a `static const struct confvar` per variable, listed in .vars.
 *     .configure reads and validates them into a malloc'd config value and
 *     returns it (or NULL with the variable, value and reason in the
 *     conf_err). No configuration in statics: the daemon swaps every check's
 *     new value in only when all are valid, and each run sees its value in
 *     run->config.
 *  3. The run: .run_size bytes of zeroed state, allocated by the daemon and
 *     handed to .start in run->state. The check emits findings with
 *     run_emit() and ends with exactly one run_done(), at once or later from
 *     the event loop; after run_done() it touches nothing of the run. If the
 *     time limit passes or the daemon stops, the run ends without run_done().
 *     Either way .cleanup (if any) then releases what the state holds
 *     (descriptors, events, buffers) and the daemon frees the state itself.
 *  4. A long loop never holds the event loop: it does a bounded slice and
 *     continues with run_yield(run, fn), a zero-timeout timer, so signals,
 *     timers, sockets and the time limit are served between slices.
 *  5. Findings: every EVENT code is a constant in the module, listed in
 *     .events and documented in qmail-maintd(8). Errors go as error=ENAME
 *     (finding_error()), reason= only where there is no errno.
 *  6. Metrics: .metrics lists the check's own families and .samples turns
 *     the run's typed results (its state) into samples when the run ends
 *     (done or time limit). lib/metrics.c never learns a check's names.
 *  7. A check that reads bytes from the network is .where = CHECK_PROBE: it
 *     runs in the unprivileged probe process, chrooted to an empty directory.
 *     Everything it needs from the filesystem (CA store, certificate files,
 *     keys, the system's resolvers) is loaded by configure() into its config
 *     value, which the probe process inherits; a run opens no file. What
 *     only the root process knows at the start of a run (another check's
 *     results, a root-only file) .input writes as bytes the run finds in
 *     run->input, and parses trusting nothing. A CHECK_ROOT check that opens
 *     a file where a less-privileged user can write goes through
 *     lib/safefile.h. */
#ifndef CHECK_H
#define CHECK_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "finding.h"

struct event;
struct event_base;
struct metric_family;
struct metrics;

enum check_status {
	CHECK_OK,	/* ran to the end: findings not seen this run are cleared */
	CHECK_FAILED	/* could not check: nothing is cleared, one-shot exits 3 */
};

/* The outcome of a one-shot run, of -N, of the status of a sweep: the
 * Monitoring Plugins' states, which are also the one-shot exit statuses. */
enum maintd_status { STATUS_OK, STATUS_WARNING, STATUS_CRITICAL, STATUS_UNKNOWN };

struct check_run;
typedef void run_fn(struct check_run *);

#define CHECK_INPUT_MAX 6144	/* bytes of a run's input (struct check's .input) */

/* One run of one check. */
struct check_run {
	const struct check *check;
	struct event_base *base;
	const struct conf *conf;	/* the daemon's: QMAILHOME, state, control/me */
	const void *config;	/* what the check's configure() returned; NULL if none */
	void *state;		/* run_size zeroed bytes: the check's own */
	int verbose;		/* -v: emit FINDING_DETAIL lines */
	time_t start;		/* wall clock when the run started */
	const unsigned char *input;	/* what .input wrote for this run; NULL: none */
	size_t inputlen;

	/* the runner's */
	struct event *yield;	/* run_yield's timer, made on first use */
	run_fn *yield_fn;
	void (*emit_fn)(struct check_run *, const struct finding *);
	void (*done_fn)(struct check_run *, enum check_status);
	void *runner;
};

enum check_where {
	CHECK_ROOT,	/* in the supervised root process */
	CHECK_PROBE	/* in the unprivileged probe process: talks to the network */
};

struct check {
	const char *name;		/* the CHECK word in log lines, the -C name */
	/* Optional: the CHECK word of its findings when another check's: the
	 * remote check diagnoses what the queue check found, as queue: lines. */
	const char *word;
	enum check_where where;
	unsigned interval;		/* default seconds between timed runs; 0: MAINTD_INTERVAL */
	unsigned timeout;		/* default time limit of one run, seconds */
	const struct confvar *const *vars;	/* its own variables, NULL-terminated */
	const char *const *events;	/* every EVENT code it emits, NULL-terminated */
	/* Optional: its variables and control files as a config value (malloc'd);
	 * NULL and err filled when one is bad. At start, and on SIGHUP. */
	void *(*configure)(const struct conf *, struct conf_err *);
	void (*config_free)(void *);	/* optional: free() when NULL */
	size_t run_size;		/* bytes of run state, zeroed; 0: none */
	run_fn *start;
	run_fn *cleanup;		/* optional: releases what the state holds */
	/* Optional: its metric families ({ NULL } ends them) and the samples of a
	 * run that ended (done or time limit), from its state. */
	const struct metric_family *metrics;
	void (*samples)(const struct check_run *, struct metrics *);
	/* Optional: the name of a check that, when it runs in the same sweep, must
	 * end before this one starts (svc reads the crashes kmsg has just read). */
	const char *after;
	/* Optional, for a CHECK_PROBE check that remembers something from one run
	 * to the next (which the probe process, without files, cannot keep): its
	 * runs report it in findings ("memos"); the root process calls this with
	 * every finding a run sent, the config value it holds, and the state
	 * directory (fd; -1: no persistent state), to keep it for configure(). */
	int (*memo)(int statedir, void *config, const struct finding *);
	/* Optional: the bytes a run needs from the root process, written there
	 * at the start of each run with the config value the root process holds
	 * (its own to change: what it remembers of earlier runs); at most size
	 * bytes in buf, their number returned (0: none). */
	size_t (*input)(const struct conf *, void *config, unsigned char *buf, size_t size);
};

/* The CHECK word of the check's findings. */
static inline const char *
check_word(const struct check *ck)
{
	return ck->word ? ck->word : ck->name;
}

static inline void
run_emit(struct check_run *run, struct finding *f)
{
	if (!f->check)
		f->check = check_word(run->check);
	run->emit_fn(run, f);
}

static inline void
run_done(struct check_run *run, enum check_status st)
{
	run->done_fn(run, st);
}

/* Calls fn(run) from the event loop after everything else that is ready
 * (signals, due timers, sockets): how a long loop gives the loop back.
 * At most one is pending per run; 0, or -1 when no timer could be made. */
int run_yield(struct check_run *, run_fn *fn);

/* The runner's: a new run's state (NULL: out of memory), and its release
 * after run_done or on cancel: the pending yield, cleanup, the state. */
int check_run_init(struct check_run *, const struct check *, struct event_base *,
    const struct conf *, const void *config);
void check_run_release(struct check_run *);

/* The common shape of a condition about one thing: LEVEL CHECK: EVENT KEY=VALUE,
 * with KEY=VALUE as its subject; errnum, when not 0, adds error=ENAME. */
void run_emit_about(struct check_run *, enum level, const char *event,
    const char *key, const char *value, int errnum);

#endif
