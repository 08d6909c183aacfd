/* Reading the queue's info/, local/ and remote/ files: one at a time
 * (qfile_read), or ahead of the walk on one worker thread (qreader), so that
 * a sweep that must read every one of them uses a second CPU and keeps the
 * disk busy. Nothing here writes, and mess/ and pid/ are never opened. */
#ifndef QUEUE_READ_H
#define QUEUE_READ_H

#include <stddef.h>
#include <sys/stat.h>

#include "queue.h"

/* openat(2) read-only, no symlink, close-on-exec, plus flags; with
 * O_NOATIME where allowed, so reading leaves qmail's atimes alone */
int queue_open(int at, const char *path, int flags);

/* The pid holding qmail-send's flock on mutex (lock/sendmutex, as
 * fstat'ed), from /proc/locks read into buf (the lines that fit are enough
 * in practice): > 0, 0 none, or -1 (errno) when /proc/locks cannot be read. */
long queue_send_holder(const struct stat *mutex, char *buf, size_t size);

/* QFILE_REMOTE: a channel file whose pending domains are collected */
enum qfile { QFILE_NONE, QFILE_INFO, QFILE_CHAN, QFILE_REMOTE };

struct qfile_res {
	int r;			/* 0 read; -1 a bad info; -2 gone; -3 not a regular file, or not openable */
	int err;		/* errno, when r is -3 and the file could not be opened or fstat'ed */
	struct stat st;
	struct queue_chan chan;		/* QFILE_CHAN, QFILE_REMOTE */
	struct qdoms doms;		/* QFILE_REMOTE; its buffer is kept for the next file */
	struct queue_info qi;		/* QFILE_INFO; its sender points into head */
	char head[QUEUE_INFO_HEAD];
};

/* Reads dirfd/name as kind into res (fd: the file already open, else -1;
 * closed in any case; res->doms zeroed or from an earlier call: free it
 * with qdoms_free once done with res). buf is scratch for channel files. *cold (if cold is
 * not NULL) is set to QFILE_COLD when the file's pages were not in memory. */
#define QFILE_COLD 4096
void qfile_read(int dirfd, const char *name, int fd, enum qfile kind, struct qfile_res *res,
    char *buf, size_t size, unsigned *cold);

/* Job i of n: what to read (QFILE_NONE: nothing), in which directory and
 * under which name. Called on the worker thread: it must only read what
 * the walk does not change while the reader runs. */
typedef enum qfile (*qreader_job)(void *arg, size_t i, int *dirfd, char *name, size_t size);

#define QREADER_RING 64		/* results ready ahead of the walk, and files open ahead */

struct qreader;
/* Starts reading jobs 0..n-1 in order, at most ahead files open at a time
 * (1..QREADER_RING). NULL if no thread could be made: read in place. */
struct qreader *qreader_start(size_t n, qreader_job, void *arg, size_t ahead);
/* Job i's result, waiting for it; NULL if job i has nothing to read. Valid
 * until qreader_release() passes it. i never goes back. */
const struct qfile_res *qreader_result(struct qreader *, size_t i);
/* Jobs before i are done with. */
void qreader_release(struct qreader *, size_t i);
/* Stops the worker (at once, even mid-way), closes what it opened, frees. */
void qreader_stop(struct qreader *);

#endif
