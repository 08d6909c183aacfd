/* One event, one line, for multilog:
 *   LEVEL CHECK: EVENT key=value key="value with spaces" ...
 * Hostile bytes are escaped; no line exceeds LOGLINE_MAX bytes. */
#ifndef LOGLINE_H
#define LOGLINE_H

#include <stddef.h>
#include "finding.h"

/* multilog's t adds 26 bytes and its patterns see the first 1000 */
#define LOGLINE_MAX 970		/* including the final newline */

struct logline {
	char buf[LOGLINE_MAX];
	size_t len;
	int truncated;
};

void logline_start(struct logline *, enum level, const char *check, const char *event);
/* a bare word (sanitised like a key), e.g. the code after "cleared" */
void logline_word(struct logline *, const char *word);
void logline_field(struct logline *, const char *key, const void *val, size_t len);
/* text that is already a sequence of formatted fields ("a=1 b=\"x y\"") */
void logline_raw(struct logline *, const char *text);
/* Ends the line (truncated=1 when cut, then '\n'); returns its length. */
size_t logline_end(struct logline *);

/* The whole line for a finding. */
size_t logline_finding(struct logline *, const struct finding *);
/* Length of the valid UTF-8 sequence at p (n > 0 bytes), or 0: overlong,
 * surrogate, above U+10FFFF, or cut short. */
size_t logline_utf8_len(const unsigned char *p, size_t n);

/* The subject fields of a finding, formatted, NUL-terminated; returns length. */
size_t logline_subject(char *out, size_t size, const struct finding *);

#endif
