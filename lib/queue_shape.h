/* The queue's shape, as Postfix's qshape shows it: pending remote recipients
 * by destination domain and by the age of their message. Pure code, no I/O:
 * the domains of one remote/ file (qdoms), a bounded top-K table over a
 * whole queue (qshape), and the table for people (queue_shape_format).
 *
 * Memory is bounded by the table's capacity, never by the queue: the table
 * is a Space-Saving sketch (Metwally, Agrawal, El Abbadi 2005). While there
 * are at most capacity distinct domains every count is exact; past that, a
 * new domain takes the slot of the smallest one and inherits its count as
 * its error, so a count is exact when its error is 0 and otherwise too high
 * by at most the error. A domain with more recipients than total/capacity
 * is never lost. Slots of domains with a stuck recipient are taken last. */
#ifndef QUEUE_SHAPE_H
#define QUEUE_SHAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define QSHAPE_BUCKETS 10	/* < 5 10 20 40 80 160 320 640 1280 minutes, and older */
#define QSHAPE_DOMAIN 255	/* bytes of a domain kept; longer ones are cut */
#define QSHAPE_SLOTS 8192	/* the queue check's table: exact up to 8192 domains */

/* The bucket of a message age in seconds (negative: 0). */
unsigned qshape_bucket(long long age);
/* The upper bound in minutes of bucket b < QSHAPE_BUCKETS - 1. */
unsigned qshape_minutes(unsigned b);

/* The pending (T) recipients' domains of one remote/ file: entries of
 * [u32 count, little-endian][u8 len][len bytes], lower-cased, each domain
 * once after qdoms_finish. */
struct qdoms {
	unsigned char *buf;
	size_t len, size;
	size_t last;		/* offset of the last entry added */
	unsigned n;		/* entries */
	int nomem;		/* an entry could not be stored */
};

void qdoms_init(struct qdoms *);
void qdoms_reset(struct qdoms *);	/* empty, keeps the buffer */
void qdoms_free(struct qdoms *);
/* Adds count recipients to dom (cut to QSHAPE_DOMAIN bytes, lower-cased). */
void qdoms_add(struct qdoms *, const char *dom, size_t len, unsigned count);
/* Merges the entries of the same domain (sorted by domain). */
void qdoms_finish(struct qdoms *);

/* Walks packed entries: p at the first (or the last returned), end the end.
 * The next entry after p, or NULL at the end or on a malformed entry (then
 * *bad is set if bad is not NULL). */
const unsigned char *qdoms_next(const unsigned char *p, const unsigned char *end,
    const char **dom, size_t *len, uint32_t *count, int *bad);
/* 0 if buf[0..len) is a well-formed sequence of entries, else -1. */
int qdoms_check(const unsigned char *buf, size_t len);

/* One domain's row. */
struct qshape_row {
	char domain[QSHAPE_DOMAIN + 1];
	unsigned long long total;	/* recipients counted for it */
	unsigned long long error;	/* it may have up to this many more (0: exact) */
	unsigned long long b[QSHAPE_BUCKETS];
	long long oldest;		/* seconds: age of its oldest message; -1 none */
};

struct qshape_slot;

struct qshape {
	unsigned cap, n;
	struct qshape_slot *slot;
	unsigned *heap;			/* min-heap of slots by (stuck, count) */
	unsigned *head;			/* hash chains */
	unsigned mask;
	time_t now;
	time_t stuck_before;		/* a message born before this is stuck; 0: none */
	unsigned long long total, b[QSHAPE_BUCKETS];
	time_t oldest;			/* birth of the oldest counted message; 0 none */
	unsigned long long evictions;
	int nomem;
};

/* cap slots (>= 1); stuck_age seconds (0: nothing is stuck). 0 or -1. */
int qshape_init(struct qshape *, unsigned cap, time_t now, unsigned long stuck_age);
void qshape_free(struct qshape *);
/* count recipients to dom (as qdoms stores it) of a message born at birth */
void qshape_add(struct qshape *, const char *dom, size_t len, unsigned long long count,
    time_t birth);
/* Every entry of a qdoms buffer; -1 if it is malformed. */
int qshape_add_doms(struct qshape *, const unsigned char *buf, size_t len, time_t birth);

/* The k domains with the most recipients (ties by name), into rows; their number. */
unsigned qshape_top(const struct qshape *, struct qshape_row *rows, unsigned k);
/* The whole queue's row (domain "TOTAL") and what the n top rows leave ("other"). */
void qshape_total(const struct qshape *, struct qshape_row *);
void qshape_rest(const struct qshape *, const struct qshape_row *top, unsigned n,
    struct qshape_row *);
/* The domains with a stuck recipient, oldest first, at most max; their number
 * (*all, if not NULL: how many there are). */
unsigned qshape_stuck(const struct qshape *, struct qshape_row *rows, unsigned max,
    unsigned *all);

/* A run's result, for people: the total, the top rows, the rest. */
struct qshape_table {
	time_t when;
	unsigned n;
	struct qshape_row total, rest;
	struct qshape_row rows[];
};

/* qshape's layout: a header of bucket bounds, then TOTAL, the rows, "other"
 * (domain names sanitised: bytes outside printable ASCII as \xNN). */
void queue_shape_format(FILE *, const struct qshape_table *);

/* The last table the queue check made in this process (copied), and the
 * table for people: 0, or -1 when no queue run has made one yet. What
 * `qmail-maintd -1 -q` prints after its sweep. */
int queue_shape_publish(const struct qshape_table *);
int queue_shape_print(FILE *);
void queue_shape_clear(void);

#endif
