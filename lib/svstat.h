/* Supervised services, the pure part: supervise's status bytes, runit's
 * text status, what the svc check remembers of each service between sweeps
 * (its state file) and the judgement of flapping. No I/O here. */
#ifndef SVSTAT_H
#define SVSTAT_H

#include <stddef.h>
#include <time.h>

/* supervise/status sizes */
#define SVSTAT_DAEMONTOOLS 18	/* daemontools 0.76 */
#define SVSTAT_ENCORE 20	/* daemontools-encore, runit (same first 18 bytes) */
#define SVSTAT_ENCORE_LOG 40	/* daemontools-encore with its own ./log: two records */

/* 2^62 + 10: the TAI64 label of the Unix epoch as daemontools writes it */
#define SVSTAT_TAI_EPOCH 4611686018427387914ULL

struct svstat {
	long long when;		/* Unix seconds of the last change of state */
	unsigned long pid;	/* 0: down */
	int paused;
	char want;		/* 'u', 'd', or 0 (none: encore's svc -o) */
	const char *layout;	/* "daemontools", "encore", "runit" */
};

/* Decodes supervise/status. 0, or -1 with *why set (a short word). */
int svstat_decode(const void *buf, size_t len, struct svstat *, const char **why);
/* runit's supervise/stat ("run", "down", "finish", then ", paused", ", want down"...)
 * and supervise/pid (decimal, empty when down); mtime of stat is the change time. */
int svstat_runit(const void *stat, size_t statlen, const void *pid, size_t pidlen,
    long long mtime, struct svstat *, const char **why);

#define SVMEM_RECENT 64		/* restart times remembered: MAINTD_SVC_RESTARTS < this */
#define SVMEM_WINDOW 3600	/* restarts are counted over the last hour */

/* What was seen of one service at earlier sweeps. */
struct svmem {
	long long seen;			/* when it was last observed; 0: never */
	unsigned long lastpid;		/* the last non-zero pid seen */
	int lastshort;			/* the last observation was a short run */
	unsigned long long total;	/* restarts observed, ever */
	unsigned nrecent;
	long long recent[SVMEM_RECENT];	/* restart times, oldest first */
};

struct svjudge {
	int shortrun;		/* up (or restarting) for less than minup now */
	int restarted;		/* a new pid since the last observation */
	unsigned restarts;	/* in the last hour */
	int flapping;
	const char *reason;	/* "short-uptime" or "restarts" when flapping */
};

/* Folds an observation into the memory and judges it. */
void svstat_observe(struct svmem *, const struct svstat *, long long now,
    unsigned long minup, unsigned long maxrestarts, struct svjudge *);

/* The state file: "svc-state 1\n" then one line per service:
 *   seen lastpid lastshort total n t1 ... tn path
 * parse calls fn for each valid line; bad lines are skipped.
 * Returns the number of lines skipped, or -1 when the header is wrong. */
int svstat_mem_parse(const char *buf, size_t len,
    void (*fn)(const char *path, size_t pathlen, const struct svmem *, void *), void *arg);
/* One line for the state file into out; its length, or 0 if it does not fit
 * or the path cannot be stored (a newline in it). */
size_t svstat_mem_format(char *out, size_t size, const char *path, const struct svmem *);
#define SVSTAT_HEADER "svc-state 1\n"

/* Is prog the program of the service at path: the directory's name, or a
 * word of its run script (as in "exec /var/qmail/bin/qmail-smtpd")? */
int svstat_names_prog(const char *path, const char *run, size_t runlen, const char *prog);

/* The same names as a list: the directory's name and each word of the run
 * script (a run of the characters of program names), each NUL-terminated,
 * an empty one last, into out, as many as fit. Its
 * length with the last NUL (1 for none; 0 when size is 0). */
size_t svstat_prog_names(const char *path, const char *run, size_t runlen, char *out,
    size_t size);

#endif
