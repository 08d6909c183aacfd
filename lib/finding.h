/* struct finding: the one thing every check emits. Log lines, the
 * active-finding memory and the one-shot exit status derive from it. */
#ifndef FINDING_H
#define FINDING_H

#include <stddef.h>
#include <stdarg.h>

enum level { LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_CRIT, LEVEL_FATAL };

enum finding_kind {
	FINDING_STATE,	/* a condition: remembered, not repeated, cleared when gone */
	FINDING_NOTE,	/* a per-run statement (stats, actions): always logged */
	FINDING_DETAIL,	/* logged only with -v */
	FINDING_EVENT	/* something that happened (a crash): logged once, active
			   for its hold, then gone without a cleared line */
};

#define FINDING_FIELDS 16
#define FINDING_BUF 2048	/* raw value bytes; a line shows at most 970 anyway */

struct finding_field {
	const char *key;	/* static string from the code */
	unsigned off, len;	/* value bytes in buf */
};

struct finding {
	enum level level;
	enum finding_kind kind;
	const char *check;	/* set by sweep_emit when NULL */
	const char *event;	/* kebab-case code, documented in qmail-maintd(8) */
	unsigned nfields;
	unsigned nsubject;	/* the first nsubject fields identify the finding */
	int truncated;		/* a value or field did not fit */
	unsigned long hold;	/* FINDING_EVENT: seconds it stays active from now */
	struct finding_field field[FINDING_FIELDS];
	unsigned used;
	char buf[FINDING_BUF];
};

const char *level_name(enum level);

void finding_init(struct finding *, enum level, enum finding_kind,
    const char *check, const char *event);
void finding_addn(struct finding *, const char *key, const void *val, size_t len);
void finding_add(struct finding *, const char *key, const char *val);
void finding_addu(struct finding *, const char *key, unsigned long long val);
void finding_addi(struct finding *, const char *key, long long val);
void finding_addf(struct finding *, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The fields added so far are the subject: what makes two findings "the same". */
void finding_subject(struct finding *);
/* The one form of an error: error=ENAME (strerrorname_np: "EACCES"), or
 * error=errno-N for a number glibc has no name for. */
void finding_error(struct finding *, int errnum);

#endif
