/* stuck: the destinations the queue check found stuck at its last run, for
 * whatever diagnoses them (the probe process, once it is told). Pure data,
 * no I/O, fixed-size records that can be copied into a message as they are;
 * neither side includes the other's header.
 *
 * A stuck destination is a domain whose oldest pending remote recipient is
 * older than MAINTD_STUCK_AGE (the queue check's `warn queue: stuck`). */
#ifndef STUCK_H
#define STUCK_H

#include <stddef.h>

#define STUCK_MAX 100		/* destinations kept: the oldest first */
#define STUCK_DOMAIN 256	/* a domain, NUL-terminated (qmail's are at most 255 bytes) */

struct stuck {
	char domain[STUCK_DOMAIN];	/* lower-case, the part after the last @ */
	unsigned long long recipients;	/* its pending remote recipients */
	long long oldest;		/* seconds: age of its oldest pending recipient's message */
};

/* Replaces what was published by these n (copied, at most STUCK_MAX). */
void stuck_publish(const struct stuck *, size_t n);
/* 1 once a queue run has published (even nothing), else 0. */
int stuck_published(void);
/* The number published, and the ith (0: the oldest; NULL past the end). */
size_t stuck_count(void);
const struct stuck *stuck_get(size_t i);
void stuck_clear(void);

#endif
