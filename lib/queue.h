/* The queue check: read-only layout and consistency scan of QMAILHOME/queue,
 * with qmail-qstat/qmail-qread statistics. The parsers below are pure
 * functions over bytes (unit-tested and fuzzed); queue.c does the I/O. */
#ifndef QUEUE_H
#define QUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "check.h"

extern const struct check check_queue;

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
 * pieces. Stops counting at the first bad record. */
struct queue_chan {
	unsigned long long t, d;	/* to do, done */
	unsigned long long off;		/* bytes seen */
	unsigned long long badoff;	/* where the error is */
	int inrecord;
	enum queue_chan_error error;
};

void queue_chan_init(struct queue_chan *);
/* 0 to go on, -1 once an error is found (no need to feed more) */
int queue_chan_feed(struct queue_chan *, const char *buf, size_t len);
enum queue_chan_error queue_chan_end(struct queue_chan *);
const char *queue_chan_reason(enum queue_chan_error);

/* /proc/locks: the pid holding a lock on the inode (dev as major:minor), or 0. */
long queue_locks_holder(const char *buf, size_t len, unsigned major, unsigned minor,
    unsigned long long ino);

#endif
