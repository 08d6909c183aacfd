/* sendlog: why qmail-send defers mail to a domain, from qmail-send's own log.
 *
 * qmail-send logs each delivery twice, keyed by a delivery number:
 *   starting delivery 12: msg 1114301 to remote u@drop-a.test
 *   delivery 12: deferral: Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/
 * The report is qmail-send's logsafe() form: a newline is written '/', and a
 * byte outside '!'..'~' (a space, a control byte, a byte above 126) or '%' is
 * written '_'. A struct sendlog joins the two lines by number (remote
 * deliveries only) and keeps, per destination domain, the text of the last
 * deferral and its time: what the queue check adds to a stuck domain's line.
 *
 * Lines are multilog's (an "@4000..." TAI64N label and a space), accustamp's
 * (Unix seconds with an optional fraction and a space, as the old
 * daemontools' accustamp wrote, and as the reference fixtures were made), or
 * bare. qmail-send's own lines never start with '@' or a digit.
 *
 * Pure parts (no I/O, fuzzed): the feed, the TAI64N decoder, the text decoder,
 * the state codec. The reader (sendlog_read.h) feeds it from the log file
 * incrementally. Memory is bounded: the open deliveries and the domains kept
 * are capped, the oldest evicted (and counted). No statics: everything lives
 * in the struct the caller owns. */
#ifndef SENDLOG_H
#define SENDLOG_H

#include <stddef.h>
#include <time.h>

#define SENDLOG_MAX_OPEN 4096		/* default cap of deliveries awaiting a result */
#define SENDLOG_MAX_DOMAINS 10000	/* default cap of domains with a last deferral */
#define SENDLOG_LINE 1024		/* bytes of one line looked at; the rest is skipped */
#define SENDLOG_DOMAIN 255		/* longest domain kept (RFC 1035's 253, and some) */
#define SENDLOG_TEXT 300		/* bytes of a deferral text kept, decoded */

struct sendlog;

/* What the feed has seen since sendlog_new (counts, not kept in the state). */
struct sendlog_stats {
	unsigned long long lines;	/* complete lines fed */
	unsigned long long starts;	/* remote deliveries started */
	unsigned long long deferrals;	/* deferrals joined to a remote delivery */
	unsigned long long failures;
	unsigned long long successes;
	unsigned long long unmatched;	/* results of deliveries not open (local, or evicted) */
	unsigned long long evicted_open; /* open deliveries dropped for the cap */
	unsigned long long evicted_domains; /* domains dropped for the cap */
	unsigned long long long_lines;	/* lines longer than SENDLOG_LINE (a start: ignored) */
	unsigned long long exits;	/* "status: exiting": open deliveries forgotten */
};

/* A new, empty log state; 0 caps take the defaults. NULL: out of memory. */
struct sendlog *sendlog_new(size_t max_open, size_t max_domains);
void sendlog_free(struct sendlog *);

/* The time given to lines that carry no timestamp (the time they were read). */
void sendlog_clock(struct sendlog *, time_t now);

/* Feeds len bytes of the log; a line may be split anywhere across calls.
 * Never fails: unparseable lines are skipped, memory stays under the caps. */
void sendlog_feed(struct sendlog *, const char *buf, size_t len);
/* The end of a file: an unfinished last line is dropped. */
void sendlog_feed_end(struct sendlog *);
/* Bytes of the unfinished line the feed holds (consumed = fed - this). */
unsigned long long sendlog_pending(const struct sendlog *);

/* The last deferral text of domain (any case; the address's domain as the
 * queue holds it), decoded, and its time in *when; NULL if none is known.
 * Valid until the next feed or load. */
const char *sendlog_last_deferral(const struct sendlog *, const char *domain, time_t *when);

const struct sendlog_stats *sendlog_stats(const struct sendlog *);
size_t sendlog_open_count(const struct sendlog *);
size_t sendlog_domain_count(const struct sendlog *);
/* Visits every domain with a last deferral, oldest first; fn returns nonzero to stop. */
void sendlog_each(const struct sendlog *,
    int (*fn)(void *arg, const char *domain, const char *text, time_t when), void *arg);

/* A TAI64N label "@" + 24 hex digits (len >= 25) as Unix seconds and
 * nanoseconds (daemontools' offset: TAI64 2^62 + 10 is the Unix epoch).
 * 0, or -1 when it is not a label or not representable. */
int sendlog_tai64n(const char *s, size_t len, long long *sec, long *nsec);

/* qmail-send's logsafe() text as a reader wants it: '_' becomes a space, a
 * final '/' (the report's last newline) is dropped, any byte outside
 * ' '..'~' becomes '?'. At most size - 1 bytes and a NUL; returns the length. */
size_t sendlog_decode(const char *raw, size_t len, char *out, size_t size);

/* The persistent state (the cursor file): the position in the log and
 * everything the feed holds (open deliveries, last deferrals), so that a
 * restart neither repeats nor misses a deferral. Text, one record a line. */
struct sendlog_pos {
	unsigned long long dev, ino;	/* the file read */
	unsigned long long off;		/* bytes consumed: the start of the next line */
	unsigned fplen;			/* its first fplen bytes ... */
	unsigned long long fp;		/* ... hash to this (it is still the same file) */
};

/* Where the reader (sendlog_read.h) is: kept in the struct between calls. */
struct sendlog_cursor {
	struct sendlog_pos pos;		/* the file read; pos.off: bytes consumed */
	unsigned long long rd;		/* bytes of it fed (the unfinished line included) */
	int loaded;			/* the state file was looked at */
	int have;			/* pos names a file */
	struct sendlog_pos saved;	/* what the state file says ... */
	unsigned long long saved_gen;	/* ... and the generation it holds */
	int saved_ok;
};
struct sendlog_cursor *sendlog_cursor(struct sendlog *);
/* The latest time a line's prefix carried (0: none yet); kept in the state. */
time_t sendlog_stamp(const struct sendlog *);
/* Changes whenever what the struct holds changes (a start, a result, a load). */
unsigned long long sendlog_generation(const struct sendlog *);

/* The state as text, malloc'd, in *out (length returned; 0 and *out NULL:
 * out of memory). */
size_t sendlog_state_format(const struct sendlog *, const struct sendlog_pos *, char **out);
/* The largest state sl can format (what a reader accepts to load). */
size_t sendlog_state_max(const struct sendlog *);
/* Replaces what sl holds by the state in buf. 0, or -1 (corrupt: sl is left
 * empty, *pos zeroed). */
int sendlog_state_parse(struct sendlog *, const char *buf, size_t len, struct sendlog_pos *);

#endif
