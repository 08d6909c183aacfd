/* sendlog_read: qmail-send's multilog `current`, read incrementally into a
 * struct sendlog (sendlog.h) from a cursor kept in the state directory.
 *
 * The cursor file (SENDLOG_CURSOR in MAINTD_STATE, written with
 * safe_replace) holds the file's device, inode, the offset of the next whole
 * line and a fingerprint of its first bytes, plus what the struct holds (the
 * deliveries awaiting a result, the last deferral per domain): a restart
 * continues where the last run ended, neither repeating nor missing a line.
 *
 *  - current is the same file (device, inode, first bytes): read on from the
 *    offset;
 *  - current is another file: multilog renamed the one we were reading
 *    (@TAI64N.s, .u, previous); it is found in the same directory by its
 *    inode and read to its end first, then the files multilog rotated after
 *    it (the @TAI64N names above its own, in order), then the new current
 *    from 0. Gone (deleted by multilog's n): `lost`, and on with the
 *    files rotated at or after the last time a line carried (their names
 *    are the time of their rotation), then current;
 *  - current is shorter than the offset, or its first bytes changed:
 *    `restarted`, read again from 0;
 *  - no cursor (the first run, or a corrupt one): current from 0, not the
 *    files rotated before it (bounded: multilog's s, not s times n).
 *
 * Files in the log directory (owned by the log account, e.g. qmaill) are
 * opened relative to it with O_NOFOLLOW and must be regular files; the
 * directory itself is the administrator's choice (MAINTD_SENDLOG's path).
 * A call reads at most max bytes, so that the caller yields between calls. */
#ifndef SENDLOG_READ_H
#define SENDLOG_READ_H

#include <stddef.h>
#include <time.h>

#include "sendlog.h"

#define SENDLOG_CURSOR "sendlog.cursor"	/* in the state directory */
#define SENDLOG_READ_MAX (1U << 20)	/* default bytes per call */

/* What one call did. */
struct sendlog_rd {
	const char *what;	/* on -1, what failed: "state-read", "state-save",
				 * "log-dir", "log-open", "log-type", "log-read" */
	const char *type;	/* "log-type": what the file is (safe_type_name) */
	unsigned long long bytes;	/* bytes fed by this call */
	int rotated;		/* a renamed file was read to its end */
	int lost;		/* the file read before is gone: lines may be missed */
	int restarted;		/* current shrank or was replaced: read from 0 */
	int bad_state;		/* the cursor file was corrupt: ignored, started afresh */
};

/* Reads path (qmail-send's multilog current) into sl, at most max bytes (0:
 * SENDLOG_READ_MAX); lines without a timestamp get now. statedir_fd is
 * MAINTD_STATE opened (safe_state_dir); the cursor is loaded from it on the
 * first call of a new sl and saved there when the end is reached. -1: no
 * state directory, sl's memory is the only cursor (a new sl reads current
 * from its start).
 * 1: more to read (yield, call again), 0: at the end and saved,
 * -1: errno and rd->what (sl stays consistent: a later call goes on). */
int sendlog_read(struct sendlog *sl, int statedir_fd, const char *path, size_t max,
    time_t now, struct sendlog_rd *rd);

#endif
