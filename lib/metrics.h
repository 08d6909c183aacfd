/* The findings again, as numbers: Prometheus text exposition (for
 * node_exporter's textfile collector) and a Nagios/Icinga plugin status line.
 * Fed with every finding the sweep runner sees, of every kind, before the
 * finding memory filters them, and with the sweep's own numbers: one source
 * of truth with the log lines, no second computation. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <time.h>

#include "finding.h"

struct conf;
struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *);
/* The certificate thresholds of the -N perfdata: MAINTD_CERT_WARN_DAYS and
 * MAINTD_CERT_CRIT_DAYS, the tls check's variables, when it has them. */
void metrics_configure(struct metrics *, const struct conf *);

/* A run of the check begins: the gauges its last run set are dropped. */
void metrics_run_begin(struct metrics *, const char *check);
void metrics_finding(struct metrics *, const struct finding *);
/* The run ended; failed: it could not check (or timed out). */
void metrics_run_end(struct metrics *, const char *check, int failed);
/* A sweep ended after seconds, at the wall-clock time end. */
void metrics_sweep(struct metrics *, double seconds, time_t end);

/* The exposition text, NUL-terminated, malloc'd; NULL when out of memory. */
char *metrics_text(const struct metrics *, size_t *len);
/* Writes the text to PATH.tmp and renames it onto PATH. 0, or -1 (errno set). */
int metrics_write(const struct metrics *, const char *path);

/* Nagios plugin states, the one-shot exit statuses */
enum { NAGIOS_OK, NAGIOS_WARNING, NAGIOS_CRITICAL, NAGIOS_UNKNOWN };
#define NAGIOS_LINE 4096

/* "QMAIL-MAINTD STATE - summary | perfdata\n" for the exit status;
 * its length (at most NAGIOS_LINE - 1, NUL-terminated). */
size_t metrics_nagios(const struct metrics *, int status, char *out, size_t size);

/* A Prometheus label value, escaped (\\ \" \n; bytes that are not valid
 * UTF-8 as the text \\xNN); NUL-terminated, its length, cut to fit. */
size_t metrics_escape_label(char *out, size_t size, const void *val, size_t len);

#endif
