/* $MAINTD_STATE/status: what the running daemon knows now, for
 * `qmail-maintd -s` (any user, no sweep, no lock) and `-s -N` (a plugin).
 *
 * The daemon rewrites it whole after every check's run (safe_replace: an
 * exclusive temporary file renamed in the state directory, mode 0644; the
 * directory is 0711, so anyone can read the file by name and no one can list
 * or plant). It holds nothing the log does not. Version 1, one record a line,
 * words separated by one space:
 *
 *   qmail-maintd-status 1
 *   pid N start T written T
 *   check NAME last T result ok|failed|never interval N timeout N
 *   finding LEVEL CHECK EVENT first T[ SUBJECT]
 *   omitted LEVEL N
 *   end CHECKS FINDINGS
 *
 * T is a Unix time (0: never); SUBJECT is the finding's subject fields as the
 * log line shows them (logline_subject: no control byte, no newline), cut
 * between fields to keep the line within STATUS_LINE_MAX. The last line
 * counts the check and finding lines: a file without it, or with other
 * counts, is damaged. A reader skips lines whose first word it does not know
 * (additions within version 1); another version number is not read. */
#ifndef STATUS_H
#define STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "finding.h"

#define STATUS_NAME "status"
#define STATUS_VERSION 1
#define STATUS_LINE_MAX 1024		/* one record, its newline included */
#define STATUS_WORD_MAX 64		/* a check, event or level name */
#define STATUS_MAXBYTES (16UL << 20)	/* findings beyond this are counted as omitted */
#define STATUS_MAXCHECKS 64
#define STATUS_NAGIOS_MAX 200		/* the plugin's status line, newline included */
#define STATUS_LONG_MAX 8000		/* its long output (Nagios keeps 8 KB) */

enum status_result { STATUS_RESULT_NEVER, STATUS_RESULT_OK, STATUS_RESULT_FAILED };

/* An enabled check. */
struct status_check {
	const char *name;
	time_t last;			/* when its last run ended; 0: never */
	int result;			/* enum status_result */
	unsigned long interval, timeout;	/* seconds */
};

/* An active finding. */
struct status_finding {
	const char *check, *event;
	enum level level;
	time_t first;			/* when it was first seen */
	const char *subject;		/* logline_subject()'s text; "" or NULL: none */
};

/* Writing, the daemon's side. Either in steps (status_add fits a push-style
 * iterator such as active_foreach) ... */
struct status_out;
struct status_out *status_begin(pid_t pid, time_t start, time_t now,
    const struct status_check *, unsigned n);	/* NULL: out of memory */
/* One active finding (out not NULL); past STATUS_MAXBYTES only counted. */
void status_add(struct status_out *, const struct status_finding *);
/* The text so far, with its end line, valid until the next call (for tests);
 * NULL when out of memory. */
const char *status_text(struct status_out *, size_t *len);
/* Replaces STATUS_NAME in statedir_fd with the text and frees out, even on
 * failure (out NULL: -1, ENOMEM). 0, or -1 and errno. */
int status_commit(struct status_out *, int statedir_fd);

/* ... or at once, pulling the findings: next fills *f and returns 1 while
 * there is one, then 0. Bounded by the caller's memory of findings
 * (MAINTD_MAXFINDINGS) and by STATUS_MAXBYTES. 0, or -1 and errno. */
typedef int status_next_fn(void *arg, struct status_finding *f);
int status_write(int statedir_fd, pid_t pid, time_t start,
    const struct status_check *, unsigned n, status_next_fn *next, void *arg);

/* Reading. The file as parsed: names point into buf. */
struct status_file {
	char *buf;
	pid_t pid;
	time_t start, written;
	unsigned nchecks;
	struct status_check check[STATUS_MAXCHECKS];
	unsigned long nfindings;
	struct status_finding *finding;		/* malloc'd */
	unsigned long omitted[LEVEL_FATAL + 1];
};

/* Parses len bytes of buf (changed in place, kept by the result). 0, or -1
 * with *line (1-based) and *why saying where and what. */
int status_parse(char *buf, size_t len, struct status_file *, unsigned long *line,
    const char **why);
void status_file_free(struct status_file *);

/* What the file says, judged at now; alive: the daemon's pid exists. */
struct status_verdict {
	int state;			/* enum maintd_status */
	int alive;
	time_t now;
	unsigned long crit, warn;	/* active findings, omitted ones included */
	unsigned failed;		/* checks whose last run failed */
	unsigned overdue;		/* checks with no run for 2 x interval + timeout */
	int first_overdue;		/* index of the first one, -1 */
	unsigned ran;			/* checks that have run */
	time_t age;			/* of the file: now - written */
};
void status_judge(const struct status_file *, time_t now, int alive, struct status_verdict *);

/* The plugin's status line (at most STATUS_NAGIOS_MAX bytes with its
 * newline, NUL-terminated; never cut inside a field; '|' only before the
 * perfdata); its length. size >= STATUS_NAGIOS_MAX + 1. */
size_t status_nagios_line(const struct status_file *, const struct status_verdict *,
    char *out, size_t size);

/* The man page's "What to do:" for an event (check "CHECK" in the table
 * stands for any check), generated at build time from docs/qmail-maintd.8
 * by daemon/advice.cmake, sorted by check then event. */
struct status_advice {
	const char *check, *event;
	unsigned levels;		/* 1 << enum level, for each level documented */
	const char *text;		/* NULL: the paragraph has no "What to do:" yet */
};
extern const struct status_advice status_advice[];
extern const unsigned status_nadvice;
/* NULL when the man page has no advice for it. */
const char *status_advice_for(const char *check, const char *event, enum level);

/* qmail-maintd -s [-N]: reads statedir's status file and prints the active
 * findings grouped by level with what to do (nagios: the plugin status line
 * and long output) on stdout. Returns the exit status, 0-3 (enum
 * maintd_status): UNKNOWN when the file is missing, unreadable or damaged,
 * CRITICAL when stale, else from the findings and failed checks. */
int status_main(const char *statedir, int nagios);
/* The same on out, judged at now (status_main: stdout, time(NULL)). */
int status_report(FILE *out, const char *statedir, int nagios, time_t now);

#endif
