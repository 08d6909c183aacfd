/* Configuration: the environment (envdir ./env) and qmail's control files.
 * Every variable has a default; a bad value is fatal at start, never ignored. */
#ifndef CONF_H
#define CONF_H

#include <limits.h>
#include <stddef.h>

struct check;

/* A variable and its default; an unset or empty variable means the default. */
struct confvar {
	const char *name;
	const char *def;
};

struct conf_err {
	char var[64];
	char value[256];
	char reason[128];	/* what is wrong, when there is no errno */
	int errnum;		/* else the errno: the line says error=ENAME */
};

#define CONF_MAXCHECKS 32

struct conf {
	char qmailhome[PATH_MAX];
	char state[PATH_MAX];
	unsigned long interval;		/* MAINTD_INTERVAL */
	unsigned long remind;		/* MAINTD_REMIND */
	unsigned long maxfindings;	/* MAINTD_MAXFINDINGS */
	int verbose;			/* -v */
	unsigned nchecks;		/* the registered checks */
	const struct check *const *checks;
	unsigned char enabled[CONF_MAXCHECKS];		/* MAINTD_CHECKS, -C */
	unsigned long check_interval[CONF_MAXCHECKS];	/* MAINTD_INTERVAL_<CHECK> */
	unsigned long check_timeout[CONF_MAXCHECKS];	/* MAINTD_TIMEOUT_<CHECK> */
	char me[256];			/* control/me; "" when absent */
};

extern const struct confvar conf_qmailhome, conf_checks, conf_interval,
    conf_state, conf_remind, conf_maxfindings, conf_promfile, conf_probeuser, conf_proberoot;
/* Variables more than one check reads: each lists it in its .vars. */
extern const struct confvar conf_dns_servers;
extern const struct confvar *const conf_global_vars[];

/* The variable's value from the environment, or its default. */
const char *conf_value(const struct confvar *);

int conf_set_err(struct conf_err *, const char *var, const char *value, const char *reason);
/* The same for a failed system call: error=ENAME instead of reason=. -1. */
int conf_set_errno(struct conf_err *, const char *var, const char *value, int errnum);
/* An unsigned number in [min, max]; 0 or -1 (err filled). */
int conf_parse_ulong(const char *var, const char *value, unsigned long min,
    unsigned long max, unsigned long *out, struct conf_err *);
int conf_ulong(const struct confvar *, unsigned long min, unsigned long max,
    unsigned long *out, struct conf_err *);
/* The variable's value copied into buf: 0, or -1 (reason too-long). */
int conf_copy(const struct confvar *, char *buf, size_t size, struct conf_err *);
/* Splits a list at commas and white space; calls fn for each non-empty item
 * (not NUL-terminated) and stops at its first non-zero return, which it returns. */
int conf_list(const char *value, int (*fn)(const char *item, size_t len, void *arg), void *arg);

/* Loads the daemon's own variables (not the checks': see struct check's
 * configure) and not the control files. only: a -C list or NULL. */
int conf_load(struct conf *, const struct check *const *checks, unsigned nchecks,
    const char *only, struct conf_err *);
/* (Re)reads control/me and the other control files the daemon needs. */
int conf_read_control(struct conf *, struct conf_err *);

/* qmail's control file QMAILHOME/control/NAME whole (at most 1 MiB), malloc'd
 * in *data: 1 read, 0 absent, -1 unreadable (errno set). */
int control_read(const struct conf *, const char *name, char **data, size_t *len);
/* qmail's control file QMAILHOME/control/NAME: first line, trailing white space cut.
 * 1 read, 0 absent, -1 unreadable (errno set). */
int control_read_line(const struct conf *, const char *name, char *buf, size_t size);
/* Every line (qmail's control_readfile: white space trimmed, empty and '#' lines skipped);
 * fn's non-zero return stops. 1 read, 0 absent, -1 unreadable. */
int control_read_lines(const struct conf *, const char *name,
    int (*fn)(const char *line, size_t len, void *arg), void *arg);

/* The pure part of control_read_lines, over bytes already read. */
int control_lines(const char *data, size_t len,
    int (*fn)(const char *line, size_t len, void *arg), void *arg);

/* Index of the named check among the registered ones, or -1. */
int conf_check_index(const struct conf *, const char *name, size_t len);

#endif
