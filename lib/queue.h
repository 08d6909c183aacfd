/* The queue check: read-only layout and consistency scan of QMAILHOME/queue,
 * with qmail-qstat/qmail-qread statistics. The parsers below are pure
 * functions over bytes (unit-tested and fuzzed); queue.c does the I/O. */
#ifndef QUEUE_H
#define QUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "check.h"
#include "queue_shape.h"

extern const struct check check_queue;
/* The light pass: queue size, todo and ages every MAINTD_INTERVAL_QUEUESTATS
 * (queuestats.c). */
extern const struct check check_queuestats;
/* MAINTD_QUEUE_SLICE: both checks' slices */
extern const struct confvar queue_var_slice;

/* A message id: canonical decimal (no sign, no leading zero), fits an inode
 * number. 0 and the id, or -1 for a name qmail would not produce. */
int queue_parse_id(const char *name, unsigned long long *id);

#define QUEUE_INFO_HEAD 1024	/* bytes of info/ read; longer senders are cut */

struct queue_info {
	const char *sender;	/* inside the head buffer, not NUL-terminated */
	size_t senderlen;
};

/* info/N: exactly "F<sender>\0". head: the first headlen bytes of a file of
 * size bytes whose last byte is last. 0 good, -1 bad. */
int queue_info_parse(const char *head, size_t headlen, unsigned long long size,
    int last, struct queue_info *);

enum queue_chan_error {
	QUEUE_CHAN_OK,
	QUEUE_CHAN_BADTYPE,	/* a record that starts with neither T nor D */
	QUEUE_CHAN_PARTIAL	/* the last record is not NUL-terminated */
};

/* local/N, remote/N: "T<address>\0" or "D<address>\0" records, fed in
 * pieces. Stops counting at the first bad record. With doms set (after
 * queue_chan_init), the domain of each complete T record (the bytes after
 * its last @, "" without one) is added to it. */
struct queue_chan {
	unsigned long long t, d;	/* to do, done */
	unsigned long long off;		/* bytes seen */
	unsigned long long badoff;	/* where the error is */
	int inrecord;
	enum queue_chan_error error;
	struct qdoms *doms;		/* NULL: domains are not collected */
	char rtype;			/* of the record being read */
	int dat;			/* it has an @ */
	unsigned dlen;
	char dom[QSHAPE_DOMAIN];
};

void queue_chan_init(struct queue_chan *);
/* 0 to go on, -1 once an error is found (no need to feed more) */
int queue_chan_feed(struct queue_chan *, const char *buf, size_t len);
enum queue_chan_error queue_chan_end(struct queue_chan *);
const char *queue_chan_reason(enum queue_chan_error);

/* control/queuelifetime, or qmail's default 604800 when absent or bad */
unsigned long queue_lifetime(const struct conf *);
#define QUEUE_GRACE 86400	/* past queuelifetime: qmail-send should have bounced it */

/* Shared by the two checks: MAINTD_STATE/queue-cache, made if missing, used
 * only if it is a directory (not a link) owned by this process's effective
 * user and not writable by group or others: its fd, or -1 (no state kept,
 * or a `warn CHECK: EVENT path=...` emitted, with reason= or error=). */
int queue_cache_dir(struct check_run *, const char *event);
/* A file of that directory, at most max bytes, only if it is a regular file
 * with one link, owned by the effective user, writable by nobody else:
 * malloc'd bytes and *len, or NULL. */
void *queue_cache_read(int cfd, const char *name, size_t max, size_t *len);

/* /proc/locks: the pid holding a lock on the inode (dev as major:minor), or 0. */
long queue_locks_holder(const char *buf, size_t len, unsigned major, unsigned minor,
    unsigned long long ino);

#endif
