/* The I/O half of sendlog: qmail-send's log file from a saved cursor. */
#include "sendlog_read.h"
#include "hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

#define FPMAX 64		/* bytes of a file's start that identify it */
#define CHUNK 65536

static ssize_t
pread_full(int fd, char *buf, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The hash of fd's first n bytes; -1 if it has fewer. */
static int
fingerprint(int fd, unsigned n, unsigned long long *fp)
{
	char b[FPMAX];

	if (n > FPMAX || pread_full(fd, b, n, 0) != (ssize_t)n)
		return -1;
	*fp = fnv1a_of(b, n);
	return 0;
}

/* fd is still the file pos names: its first bytes and its length. */
static int
same_file(int fd, const struct stat *st, const struct sendlog_pos *pos, unsigned long long rd)
{
	unsigned long long fp;

	if ((unsigned long long)st->st_dev != pos->dev ||
	    (unsigned long long)st->st_ino != pos->ino ||
	    (unsigned long long)st->st_size < rd)
		return 0;
	if (pos->fplen && (fingerprint(fd, pos->fplen, &fp) < 0 || fp != pos->fp))
		return 0;
	return 1;
}

/* A regular file name under dfd, never through a link; -1 and rd->what. */
static int
open_log(int dfd, const char *name, struct stat *st, struct sendlog_rd *rd)
{
	const struct safe_want reg = { S_IFREG, -1, 0, 0 };
	int fd, v, e;

	if ((fd = safe_openat(dfd, name, O_RDONLY)) < 0) {
		rd->what = "log-open";
		return -1;
	}
	if ((v = safe_check(fd, &reg, st)) != SAFE_OK) {
		e = v < 0 ? errno : EINVAL;
		if (v > 0) {
			rd->what = "log-type";
			rd->type = safe_type_name(st->st_mode);
		} else
			rd->what = "log-read";
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* multilog's name for a file it rotated: "@", a TAI64N label, ".s" (safely
 * written) or ".u" (current after a crash); in time order as strings. */
static int
rotated_name(const char *s)
{
	size_t i;

	if (s[0] != '@' || strlen(s) != 27 || s[25] != '.' || (s[26] != 's' && s[26] != 'u'))
		return 0;
	for (i = 1; i < 25; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The file of the directory (other than current) with pos's inode: where
 * multilog renamed what was current. fd and its name, or -1 (none). */
static int
find_renamed(int dfd, const char *current, const struct sendlog_pos *pos, struct stat *st,
    char name[NAME_MAX + 1])
{
	struct sendlog_rd ignore;
	struct dirent *e;
	struct stat s;
	DIR *d;
	int fd = -1, dup;

	if ((dup = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (!(d = fdopendir(dup))) {
		close(dup);
		return -1;
	}
	while ((e = readdir(d))) {
		/* d_ino first: no fstatat for every file of a directory qmaill
		 * can fill (a mount point's d_ino differs, but it is no log) */
		if ((unsigned long long)e->d_ino != pos->ino || !strcmp(e->d_name, ".") ||
		    !strcmp(e->d_name, "..") || !strcmp(e->d_name, current))
			continue;
		if (fstatat(dfd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(s.st_mode) ||
		    (unsigned long long)s.st_ino != pos->ino ||
		    (unsigned long long)s.st_dev != pos->dev)
			continue;
		memset(&ignore, 0, sizeof(ignore));
		if ((fd = open_log(dfd, e->d_name, st, &ignore)) >= 0 &&
		    (unsigned long long)st->st_ino != pos->ino) {
			close(fd);	/* renamed again meanwhile */
			fd = -1;
		}
		if (fd >= 0)
			snprintf(name, NAME_MAX + 1, "%s", e->d_name);
		break;
	}
	closedir(d);
	return fd;
}

/* The file multilog rotated next after the one named after (several
 * rotations since the last read): the oldest rotated name above it; or,
 * after is NULL, the oldest rotated at or after the time since (its name is
 * the time it was rotated, after its last line). 0 and its stat, or -1
 * (none: current is next). */
static int
next_rotated(int dfd, const char *after, time_t since, struct stat *st)
{
	char best[NAME_MAX + 1] = "";
	struct dirent *e;
	struct stat s;
	long long sec;
	long ns;
	DIR *d;
	int dup;

	if ((after && !rotated_name(after)) ||
	    (dup = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (!(d = fdopendir(dup))) {
		close(dup);
		return -1;
	}
	while ((e = readdir(d)))
		if (rotated_name(e->d_name) && (after ? strcmp(e->d_name, after) > 0 :
		    sendlog_tai64n(e->d_name, 25, &sec, &ns) == 0 && sec >= (long long)since) &&
		    (!best[0] || strcmp(e->d_name, best) < 0) &&
		    fstatat(dfd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(s.st_mode)) {
			snprintf(best, sizeof(best), "%s", e->d_name);
			*st = s;
		}
	closedir(d);
	return best[0] ? 0 : -1;
}

/* Feeds fd from cur->rd: 1 at its end, 0 when the budget is spent, -1 error. */
static int
drain(struct sendlog *sl, int fd, char *buf, size_t bufsize, size_t *budget,
    struct sendlog_rd *rd)
{
	struct sendlog_cursor *cur = sendlog_cursor(sl);
	size_t want;
	ssize_t r;

	for (;;) {
		if (!*budget)
			return 0;
		want = *budget < bufsize ? *budget : bufsize;
		r = pread(fd, buf, want, (off_t)cur->rd);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rd->what = "log-read";
			return -1;
		}
		if (r == 0)
			return 1;
		sendlog_feed(sl, buf, (size_t)r);
		cur->rd += (unsigned long long)r;
		*budget -= (size_t)r;
		rd->bytes += (unsigned long long)r;
	}
}

static int
load_state(struct sendlog *sl, int sfd, struct sendlog_rd *rd)
{
	const struct safe_want reg = { S_IFREG, -1, 0, 0 };
	struct sendlog_cursor *cur = sendlog_cursor(sl);
	struct sendlog_pos pos;
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = safe_openat(sfd, SENDLOG_CURSOR, O_RDONLY)) < 0) {
		if (errno != ENOENT) {
			rd->what = "state-read";
			return -1;
		}
		cur->loaded = 1;
		return 0;
	}
	if (safe_check(fd, &reg, &st) != SAFE_OK ||
	    (unsigned long long)st.st_size > sendlog_state_max(sl)) {
		close(fd);
		rd->bad_state = 1;
		cur->loaded = 1;
		return 0;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		rd->what = "state-read";
		return -1;
	}
	n = pread_full(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (n < 0) {
		free(buf);
		rd->what = "state-read";
		return -1;
	}
	if (sendlog_state_parse(sl, buf, (size_t)n, &pos) < 0 || (!pos.dev && !pos.ino)) {
		rd->bad_state = 1;
	} else {
		cur->pos = pos;
		cur->rd = pos.off;
		cur->have = 1;
		cur->saved = pos;
		cur->saved_gen = sendlog_generation(sl);
		cur->saved_ok = 1;
	}
	free(buf);
	cur->loaded = 1;
	return 0;
}

static int
save_state(struct sendlog *sl, int sfd, struct sendlog_rd *rd)
{
	struct sendlog_cursor *cur = sendlog_cursor(sl);
	char *buf;
	size_t n;
	int r;

	if (cur->saved_ok && cur->saved_gen == sendlog_generation(sl) &&
	    cur->saved.dev == cur->pos.dev && cur->saved.ino == cur->pos.ino &&
	    cur->saved.off == cur->pos.off && cur->saved.fplen == cur->pos.fplen &&
	    cur->saved.fp == cur->pos.fp)
		return 0;
	if (!(n = sendlog_state_format(sl, &cur->pos, &buf))) {
		rd->what = "state-save";
		errno = ENOMEM;
		return -1;
	}
	r = safe_replace(sfd, SENDLOG_CURSOR, buf, n, 0600);
	free(buf);
	if (r < 0) {
		rd->what = "state-save";
		return -1;
	}
	cur->saved = cur->pos;
	cur->saved_gen = sendlog_generation(sl);
	cur->saved_ok = 1;
	return 0;
}

/* Begins the file st from its start. */
static void
begin(struct sendlog *sl, const struct stat *st)
{
	struct sendlog_cursor *cur = sendlog_cursor(sl);

	sendlog_feed_end(sl);
	memset(&cur->pos, 0, sizeof(cur->pos));
	cur->pos.dev = (unsigned long long)st->st_dev;
	cur->pos.ino = (unsigned long long)st->st_ino;
	cur->rd = 0;
	cur->have = 1;
}

int
sendlog_read(struct sendlog *sl, int sfd, const char *path, size_t max, time_t now,
    struct sendlog_rd *rd)
{
	struct sendlog_cursor *cur = sendlog_cursor(sl);
	char dir[PATH_MAX], name[NAME_MAX + 1], *buf = NULL;
	const char *base, *slash;
	size_t budget = max ? max : SENDLOG_READ_MAX, bufsize;
	struct stat st, ost;
	int dfd = -1, fd = -1, ofd = -1, r = -1, e, end, recovered = 0;

	memset(rd, 0, sizeof(*rd));
	sendlog_clock(sl, now);
	if (!cur->loaded && sfd >= 0 && load_state(sl, sfd, rd) < 0)
		return -1;
	cur->loaded = 1;
	if ((slash = strrchr(path, '/'))) {
		base = slash + 1;
		if ((size_t)(slash - path) + 2 > sizeof(dir)) {
			errno = ENAMETOOLONG;
			rd->what = "log-dir";
			return -1;
		}
		if (slash == path)
			strcpy(dir, "/");
		else {
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = 0;
		}
	} else {
		base = path;
		strcpy(dir, ".");
	}
	/* the directory is the administrator's choice: opened as named */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rd->what = "log-dir";
		return -1;
	}
	if ((fd = open_log(dfd, base, &st, rd)) < 0)
		goto out;
	bufsize = budget < CHUNK ? budget : CHUNK;
	if (!(buf = malloc(bufsize))) {
		rd->what = "log-read";
		goto out;
	}
	if (cur->have && ((unsigned long long)st.st_dev != cur->pos.dev ||
	    (unsigned long long)st.st_ino != cur->pos.ino)) {
		/* current is a new file: multilog renamed the one we read; finish
		 * it, and any it rotated after it, in their order */
		for (;;) {
			if ((ofd = find_renamed(dfd, base, &cur->pos, &ost, name)) >= 0 &&
			    same_file(ofd, &ost, &cur->pos, cur->rd)) {
				if ((end = drain(sl, ofd, buf, bufsize, &budget, rd)) < 0)
					goto out;
				if (!end) {
					r = 1;
					goto out;
				}
				rd->rotated = 1;
			} else {
				/* gone (multilog's n): on with those rotated after
				 * the last line read, once */
				if (ofd >= 0)
					close(ofd);
				ofd = -1;
				rd->lost = 1;
				if (!recovered++ && sendlog_stamp(sl) &&
				    next_rotated(dfd, NULL, sendlog_stamp(sl), &ost) == 0) {
					begin(sl, &ost);
					continue;
				}
				break;
			}
			close(ofd);
			ofd = -1;
			if (next_rotated(dfd, name, 0, &ost) < 0)
				break;
			begin(sl, &ost);
		}
		begin(sl, &st);
	} else if (!cur->have)
		begin(sl, &st);
	else if (!same_file(fd, &st, &cur->pos, cur->rd)) {
		rd->restarted = 1;
		begin(sl, &st);
	}
	if ((end = drain(sl, fd, buf, bufsize, &budget, rd)) < 0)
		goto out;
	if (!end) {
		r = 1;
		goto out;
	}
	/* at the end: the position of the next whole line, the file's first bytes */
	cur->pos.off = cur->rd - sendlog_pending(sl);
	if (cur->pos.fplen < FPMAX && cur->rd > cur->pos.fplen) {
		cur->pos.fplen = cur->rd < FPMAX ? (unsigned)cur->rd : FPMAX;
		if (fingerprint(fd, cur->pos.fplen, &cur->pos.fp) < 0) {
			rd->what = "log-read";
			cur->pos.fplen = 0;
			errno = EIO;
			goto out;
		}
	}
	r = sfd >= 0 && save_state(sl, sfd, rd) < 0 ? -1 : 0;
out:
	e = errno;
	free(buf);
	if (ofd >= 0)
		close(ofd);
	if (fd >= 0)
		close(fd);
	close(dfd);
	errno = e;
	return r;
}
