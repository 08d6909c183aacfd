/* The findings again, as numbers: Prometheus text exposition (for
 * node_exporter's textfile collector) and the Nagios/Icinga perfdata, both
 * from one set of samples.
 *
 * Generic: it knows no check. The daemon registers each check's families
 * (struct check's .metrics); a check's .samples sets its gauges and adds to
 * its counters at the end of each of its runs. The daemon's own families
 * (findings per check and level, failed checks, the sweep's duration and
 * end) are fed by the runner. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <time.h>

#include "finding.h"

struct metrics;

enum metric_type { METRIC_GAUGE, METRIC_COUNTER };

/* How a family shows in the Nagios perfdata. */
enum perf_how {
	PERF_NONE,
	PERF_FIRST,	/* 'perf'=value of its (one) sample */
	PERF_SUM,	/* 'perf'=sum of its samples, when it has any */
	PERF_SUM_OF_N,	/* 'perf'=sum;;;0;N with N the number of samples */
	PERF_EACH	/* one 'perfLABEL1'=value per sample, with its thresholds */
};

struct metric_family {
	const char *name;		/* qmail_CHECK_...; NULL ends a list */
	enum metric_type type;
	const char *help;
	const char *label[3];		/* label names, NULL when fewer (a third: the daemon's) */
	const char *perf;		/* the perfdata label (PERF_EACH: its prefix) */
	const char *uom;		/* its unit: "", "s", "c" */
	enum perf_how how;
	double perf_div;		/* PERF_EACH: the whole number of value / perf_div; 0: as is */
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *);
/* A check's families, in output order after the daemon's own. 0, or -1. */
int metrics_register(struct metrics *, const struct metric_family *);

/* For a check's .samples. Label values are NUL-terminated (NULL: the family
 * has no such label). A gauge is set, and dropped when the same check's next
 * run ends; a counter is added to and kept. */
void metrics_set(struct metrics *, const struct metric_family *, const char *l1,
    const char *l2, double v);
void metrics_add(struct metrics *, const struct metric_family *, const char *l1,
    const char *l2, double v);
/* The perfdata thresholds of a sample already set (NAN: none). */
void metrics_limits(struct metrics *, const struct metric_family *, const char *l1,
    const char *l2, double warn, double crit);

/* A metrics object that keeps nothing: every metrics_set, metrics_add and
 * metrics_limits made on it goes to fn instead (the probe process sends
 * them to the root process, which applies them to its own). */
enum metric_op { METRIC_SET, METRIC_ADD, METRIC_LIMITS };
typedef void metric_record_fn(void *arg, const struct metric_family *, enum metric_op,
    const char *l1, const char *l2, double v, double warn, double crit);
struct metrics *metrics_recorder(metric_record_fn *, void *arg);

/* The runner's. A run of the check begins: its finding counts start at 0. */
void metrics_run_begin(struct metrics *, const char *check);
void metrics_finding(struct metrics *, const char *check, const struct finding *);
/* The run ended; failed: it could not check (or timed out). Its previous
 * gauges are dropped; then the caller calls the check's .samples. */
void metrics_run_end(struct metrics *, const char *check, int failed);
/* Who owns the gauges metrics_set makes from now on (the check whose
 * .samples runs). */
void metrics_owner(struct metrics *, const char *check);
/* The active findings, counted anew at the end of each sweep: begin, then
 * one add for each (only warn and crit count). */
void metrics_active_begin(struct metrics *);
void metrics_active_add(struct metrics *, const char *check, const char *event, enum level);
/* A sweep ended after seconds, at the wall-clock time end. */
void metrics_sweep(struct metrics *, double seconds, time_t end);

/* The exposition text, NUL-terminated, malloc'd; NULL when out of memory. */
char *metrics_text(const struct metrics *, size_t *len);
/* Replaces the file name in the directory dirfd with the text (safe_replace:
 * an exclusive temporary file, never a planted link, renamed in the same
 * directory), mode 0644. 0, or -1 (errno set). */
int metrics_write(const struct metrics *, int dirfd, const char *name);

#define NAGIOS_LINE 16384	/* the whole plugin output at most */
#define NAGIOS_STATUS 200	/* its first line at most, never cut inside a field */

/* The Monitoring Plugins' output for the status (enum maintd_status):
 *   QMAIL-MAINTD STATE - summary | 'findings_crit'=N;;;0 'findings_warn'=N;;;0
 *   the worst findings, one a line
 *   LABELn = target, for each per-target perfdata label
 *   | the other perfdata
 * No '|' but the two perfdata separators, labels of [a-z0-9_]; its length (at
 * most size - 1, NUL-terminated, cut only between lines). */
size_t metrics_nagios(const struct metrics *, int status, char *out, size_t size);
/* A Prometheus label value, escaped (\\ \" \n; bytes that are not valid
 * UTF-8 as the text \\xNN); NUL-terminated, its length, cut to fit. */
size_t metrics_escape_label(char *out, size_t size, const void *val, size_t len);

#endif
