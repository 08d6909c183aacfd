/* The queue check. It never writes, renames or deletes in the queue, never
 * opens mess/ or pid/ files (qmail's cleanup keys on their atime), opens
 * directories and info|local|remote with O_NOATIME, and walks one split
 * subdirectory at a time in slices that yield to the event loop (a first
 * run, with no cache, reads local/remote on a reader thread: queue_read.c).
 * A suspected inconsistency is reported only after the files involved are
 * stat'ed again (present, unchanged since before the scan; the others still
 * absent). */
#include "queue.h"
#include "queue_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "safefile.h"
#include "sendlog.h"
#include "sendlog_read.h"
#include "stuck.h"

#define EV_QSEND	"qmail-send"
#define EV_STATS	"stats"
#define EV_LAYOUT	"layout"
#define EV_MESSAGE	"message"
#define EV_BADSPLIT	"bad-split"
#define EV_MISSING	"missing-dir"
#define EV_BADOWNER	"bad-owner"
#define EV_BADMODE	"bad-mode"
#define EV_BADLOCK	"bad-lock"
#define EV_ORPHINFO	"orphan-info"
#define EV_ORPHLOCAL	"orphan-local"
#define EV_ORPHREMOTE	"orphan-remote"
#define EV_ORPHBOUNCE	"orphan-bounce"
#define EV_ORPHTODO	"orphan-todo"
#define EV_ORPHINTD	"orphan-intd"
#define EV_WRONGSPLIT	"wrong-split"
#define EV_INODE	"inode-mismatch"
#define EV_BADNAME	"bad-name"
#define EV_BADINFO	"bad-info"
#define EV_BADCHAN	"bad-channel"
#define EV_STALEMESS	"stale-mess"
#define EV_STALEPID	"stale-pid"
#define EV_EXPIRED	"expired"
#define EV_UNREADABLE	"unreadable"
#define EV_NOUSER	"unknown-user"
#define EV_UNKNOWN	"unknown-entry"
#define EV_SHAPE	"shape"
#define EV_STUCK	"stuck"
#define EV_CACHE	"cache-error"
#define EV_SENDLOG	"sendlog-unreadable"
#define EV_SENDLOST	"sendlog-lost"
#define EV_SENDCURSOR	"sendlog-cursor"

static const char *const queue_events[] = {
	EV_QSEND, EV_STATS, EV_LAYOUT, EV_MESSAGE, EV_BADSPLIT, EV_MISSING, EV_BADOWNER,
	EV_BADMODE, EV_BADLOCK, EV_ORPHINFO, EV_ORPHLOCAL, EV_ORPHREMOTE,
	EV_ORPHBOUNCE, EV_ORPHTODO, EV_ORPHINTD, EV_WRONGSPLIT, EV_INODE,
	EV_BADNAME, EV_BADINFO, EV_BADCHAN, EV_STALEMESS, EV_STALEPID,
	EV_EXPIRED, EV_UNREADABLE, EV_NOUSER, EV_UNKNOWN, EV_SHAPE, EV_STUCK, EV_CACHE,
	EV_SENDLOG, EV_SENDLOST, EV_SENDCURSOR, NULL
};

const struct confvar queue_var_slice = { "MAINTD_QUEUE_SLICE", "10" };
static const struct confvar var_top = { "MAINTD_QUEUE_TOPDOMAINS", "10" };
static const struct confvar var_stuck = { "MAINTD_STUCK_AGE", "3600" };
static const struct confvar var_sendlog = { "MAINTD_SENDLOG", "" };
static const struct confvar *const queue_vars[] = {
	&queue_var_slice, &var_top, &var_stuck, &var_sendlog, NULL
};

#define OSSIFIED 129600		/* qmail-send/qmail-clean: 36 h of atime */
#define LIFETIME 604800		/* control/queuelifetime default */
#define GRACE QUEUE_GRACE	/* past queuelifetime before "expired" */
#define MAXSPLIT 100000
#define MAXCAND 1024
#define CHANBUF 65536

enum qdir { D_MESS, D_INFO, D_LOCAL, D_REMOTE, D_TODO, D_INTD, D_BOUNCE, D_PID, D_LOCK, ND };
static const char *const qdir_name[ND] = {
	"mess", "info", "local", "remote", "todo", "intd", "bounce", "pid", "lock"
};

enum who { W_QMAILQ, W_QMAILS, W_QMAILR };
/* owner and mode of each directory (queue/ itself is checked apart) */
static const struct { enum who owner; mode_t mode; } qdir_want[ND] = {
	{ W_QMAILQ, 0750 }, { W_QMAILS, 0700 }, { W_QMAILS, 0700 }, { W_QMAILS, 0700 },
	{ W_QMAILQ, 0750 }, { W_QMAILQ, 0700 }, { W_QMAILS, 0700 }, { W_QMAILQ, 0700 },
	{ W_QMAILQ, 0750 },
};

struct queue_config {
	unsigned long slice_ms;		/* MAINTD_QUEUE_SLICE */
	unsigned long top;		/* MAINTD_QUEUE_TOPDOMAINS */
	unsigned long stuck_age;	/* MAINTD_STUCK_AGE; 0: off */
	char sendlog[PATH_MAX];		/* MAINTD_SENDLOG: qmail-send's current; "": none */
};

struct cand {
	const char *event;
	enum level level;
	unsigned char dir;	/* where the file is */
	int sub;		/* its split subdirectory, -1 flat */
	unsigned absent;	/* dirs of the same id that must not exist */
	unsigned long long id;
	ino_t ino;
	struct timespec ctime;
	const char *k1;		/* one extra field */
	long long v1;
	int octal;
	char name[NAME_MAX + 1];
};

struct ent {
	unsigned long long id;
	unsigned char dir;
};

/* The cache in MAINTD_STATE/queue-cache/S: what an info/local/remote file
 * of split subdirectory S said when last read, keyed by inode, size and
 * ctime (which any write changes), so a steady-state run stats instead
 * of reading. Only good files settled for CACHE_SETTLE seconds are kept
 * (changes within one clock tick can share a ctime). The file is a header
 * and entries sorted by (id, dir): a record, then, for a remote/ file, its
 * pending domains (dlen bytes of qdoms entries, padded to 8). It is read
 * forward through a window as the walk goes (the walk looks ids up in
 * order), and written from memory, one subdirectory at a time. */
#define CACHE_MAGIC "QMCACHE2"
#define CACHE_SETTLE 2
#define CACHE_MAX (256UL << 20)
#define CACHE_WINDOW 65536

struct crec {
	uint64_t id, ino;
	int64_t csec;
	uint32_t size, cnsec, t, d;
	uint32_t dlen;		/* bytes of domains after it */
	uint8_t dir, pad[3];
};

_Static_assert(sizeof(struct crec) == 48, "cache record layout");

struct chdr {
	char magic[8];
	uint32_t split, sub;
	uint64_t n;		/* entries */
	uint64_t bytes;		/* after the header */
};

struct stats {
	unsigned long long messages, todo, info, local, remote, bounce, rcpt, done, bytes;
	time_t oldest;
};

enum phase { P_SUBOPEN, P_SUBREAD, P_GROUP, P_CONFIRM, P_FLATOPEN, P_FLAT, P_END };

struct qrun {
	struct check_run *run;		/* NULL until start() set the descriptors to -1 */
	struct sendlog *sl;		/* MAINTD_SENDLOG read this run: the last deferrals */
	int slfd;			/* MAINTD_STATE for its cursor; -1 */
	int qfd;			/* queue/ */
	int dfd[ND];			/* flat dirs and the top of split ones */
	int dferr[ND];			/* why dfd is -1 */
	unsigned split;
	int bigtodo;			/* todo/ and intd/ split too */
	int running;			/* qmail-send */
	int failed;
	uid_t uid[3];
	gid_t gid[2];
	int haveuid[3];
	time_t now;
	struct timespec start;		/* fine: multigrain file times can be ahead of the coarse clock */
	struct timespec settled;	/* the start on the coarse clock: older files are settled */
	unsigned long lifetime;

	enum phase phase;
	unsigned sub;			/* current split subdirectory */
	unsigned sdir;			/* index into sdirs */
	unsigned nsdirs;
	unsigned char sdirs[6];
	DIR *subdir[ND];
	struct ent *ents;
	size_t nents, aents, gpos;
	size_t ahead;			/* files open ahead, given RLIMIT_NOFILE */
	struct qreader *rd;		/* reads this subdirectory's files, or NULL */
	struct qfile_res fres;		/* a file read in place */
	unsigned flatidx;
	DIR *flat;

	struct cand *cand;
	size_t ncand, cpos;
	enum phase after;		/* once the candidates are confirmed */

	/* the cache of this subdirectory: read forward, made anew */
	int cinfd;			/* its file, or -1 */
	size_t ncin;			/* entries in it; 0: none to use */
	unsigned long long inleft;	/* bytes of it not yet in the window */
	unsigned char *win;		/* the window: [wpos, wlen) not yet looked at */
	size_t wsize, wlen, wpos;
	struct crec cur;		/* the entry looked at, when havecur */
	const unsigned char *curdoms;	/* its domains, in the window */
	int havecur;
	unsigned char *cout;		/* the header, then the entries to write */
	size_t ncout, lcout, acout;	/* entries, bytes, allocated */
	int cachefd;			/* MAINTD_STATE/queue-cache */
	int *xfd;			/* flat phase: mess/S and info/S kept open, or NULL */

	struct qshape shape;
	int haveshape;
	struct qshape_table *table;	/* the run's shape, once it got to the end */
	unsigned nstuck;		/* stuck domains (all of them, not only those reported) */

	struct stats st;
	int stats_done;			/* the stats finding was emitted: st is complete */
	struct timespec deadline;
	unsigned ops;
	char buf[CHANBUF];
};

static void *
queue_configure(const struct conf *c, struct conf_err *err)
{
	const char *sendlog = conf_value(&var_sendlog);
	struct queue_config *cf;
	unsigned long slice, top, stuck;

	(void)c;
	if (conf_ulong(&queue_var_slice, 1, 1000, &slice, err) < 0 ||
	    conf_ulong(&var_top, 1, 1000, &top, err) < 0 ||
	    conf_ulong(&var_stuck, 0, 100000000, &stuck, err) < 0)
		return NULL;
	if (*sendlog && (sendlog[0] != '/' || strlen(sendlog) >= PATH_MAX)) {
		conf_set_err(err, var_sendlog.name, sendlog, sendlog[0] != '/' ? "not-absolute" :
		    "too-long");
		return NULL;
	}
	if (!(cf = malloc(sizeof(*cf)))) {
		conf_set_err(err, queue_var_slice.name, "", "no-memory");
		return NULL;
	}
	cf->slice_ms = slice;
	cf->top = top;
	cf->stuck_age = stuck;
	snprintf(cf->sendlog, sizeof(cf->sendlog), "%s", sendlog);
	return cf;
}

/* ---- findings ---- */

/* "queue" or "queue/PATH" */
static const char *
qpath(char *buf, size_t size, const char *path)
{
	snprintf(buf, size, "queue%s%s", *path ? "/" : "", path);
	return buf;
}

static void
emit_path(struct qrun *q, enum level l, const char *event, const char *path,
    const char *k, const char *v)
{
	char p[PATH_MAX];
	struct finding f;

	finding_init(&f, l, FINDING_STATE, NULL, event);
	finding_add(&f, "path", qpath(p, sizeof(p), path));
	finding_subject(&f);
	finding_add(&f, k, v);
	run_emit(q->run, &f);
}

static void
emit_missing(struct qrun *q, const char *path)
{
	char p[PATH_MAX];

	run_emit_about(q->run, LEVEL_CRIT, EV_MISSING, "path", qpath(p, sizeof(p), path), 0);
}

static void
emit_unreadable(struct qrun *q, const char *path, int e)
{
	char p[PATH_MAX];

	q->failed = 1;
	run_emit_about(q->run, LEVEL_WARN, EV_UNREADABLE, "path", qpath(p, sizeof(p), path), e);
}

static void
cand_path(const struct qrun *q, const struct cand *c, unsigned dir, char *buf, size_t n)
{
	int split = dir <= D_REMOTE || (q->bigtodo && (dir == D_TODO || dir == D_INTD));

	if (dir == c->dir && c->sub >= 0)
		snprintf(buf, n, "%s/%d/%s", qdir_name[dir], c->sub, c->name);
	else if (dir == c->dir && c->sub < 0)
		snprintf(buf, n, "%s/%s", qdir_name[dir], c->name);
	else if (split)
		snprintf(buf, n, "%s/%llu/%llu", qdir_name[dir], c->id % q->split, c->id);
	else
		snprintf(buf, n, "%s/%llu", qdir_name[dir], c->id);
}

static void
emit_cand(struct qrun *q, const struct cand *c)
{
	char path[PATH_MAX];
	struct finding f;

	finding_init(&f, c->level, FINDING_STATE, NULL, c->event);
	cand_path(q, c, c->dir, path, sizeof(path));
	if (strcmp(c->event, EV_BADNAME) == 0 || strcmp(c->event, EV_STALEPID) == 0) {
		finding_addf(&f, "path", "queue/%s", path);
		finding_subject(&f);
	} else {
		finding_addu(&f, "id", c->id);
		if (strcmp(c->event, EV_BADOWNER) == 0 || strcmp(c->event, EV_BADMODE) == 0 ||
		    strcmp(c->event, EV_WRONGSPLIT) == 0)
			finding_add(&f, "dir", qdir_name[c->dir]);
		finding_subject(&f);
		finding_addf(&f, "path", "queue/%s", path);
	}
	if (c->k1 && c->octal)
		finding_addf(&f, c->k1, "%04llo", (unsigned long long)c->v1);
	else if (c->k1)
		finding_addi(&f, c->k1, c->v1);
	run_emit(q->run, &f);
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static int open_dir(int at, const char *path);

/* The directory holding a message file: d itself (sub < 0) or its split
 * subdirectory sub, opened one component at a time with O_NOFOLLOW (a path
 * like "mess/3/ID" would follow a symlink planted as mess/3): the walk's
 * open subdirectory, one kept open for the flat phase, or a new one that
 * the caller closes (*tmp). -1 and errno. */
static int
dir_at(struct qrun *q, unsigned d, int sub, int *tmp)
{
	char name[16];
	int *keep = NULL;

	*tmp = -1;
	if (q->dfd[d] < 0) {
		errno = q->dferr[d];	/* reported when it was opened */
		return -1;
	}
	if (sub < 0)
		return q->dfd[d];
	if (q->subdir[d] && q->sub == (unsigned)sub)
		return dirfd(q->subdir[d]);
	snprintf(name, sizeof(name), "%d", sub);
	if (q->xfd && (d == D_MESS || d == D_INFO) && (unsigned)sub < q->split) {
		keep = &q->xfd[(d == D_INFO ? q->split : 0) + (unsigned)sub];
		if (*keep < 0)
			*keep = open_dir(q->dfd[d], name);
		return *keep;
	}
	return *tmp = open_dir(q->dfd[d], name);
}

/* fstatat(2) of a message file, AT_SYMLINK_NOFOLLOW, through dir_at. */
static int
stat_at(struct qrun *q, unsigned d, int sub, const char *name, struct stat *st)
{
	int tmp, fd = dir_at(q, d, sub, &tmp), r, e;

	if (fd < 0)
		return -1;
	r = fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW);
	e = errno;
	if (tmp >= 0)
		close(tmp);
	errno = e;
	return r;
}

/* Where the file of candidate c in directory dir is: its subdirectory
 * (-1: flat) and its name. */
static int
cand_loc(const struct qrun *q, const struct cand *c, unsigned dir, char *name, size_t n)
{
	int split = dir <= D_REMOTE || (q->bigtodo && (dir == D_TODO || dir == D_INTD));

	if (dir == c->dir) {
		snprintf(name, n, "%s", c->name);
		return c->sub;
	}
	snprintf(name, n, "%llu", c->id);
	return split ? (int)(c->id % q->split) : -1;
}

/* Confirms a candidate: its file unchanged and older than the scan, the
 * absent files still absent, then its file once more. */
static int
confirm(struct qrun *q, const struct cand *c)
{
	char name[NAME_MAX + 1];
	struct stat st;
	unsigned d;
	int pass, sub;

	for (pass = 0; pass < 2; pass++) {
		sub = cand_loc(q, c, c->dir, name, sizeof(name));
		if (stat_at(q, c->dir, sub, name, &st) < 0 || st.st_ino != c->ino ||
		    st.st_ctim.tv_sec != c->ctime.tv_sec || st.st_ctim.tv_nsec != c->ctime.tv_nsec ||
		    !ts_before(&st.st_ctim, &q->settled))
			return 0;
		if (pass)
			break;
		for (d = 0; d < ND; d++) {
			if (!(c->absent & (1u << d)))
				continue;
			sub = cand_loc(q, c, d, name, sizeof(name));
			if (stat_at(q, d, sub, name, &st) == 0 || errno != ENOENT)
				return 0;
		}
	}
	return 1;
}

static struct cand *
cand_new(struct qrun *q, const char *event, enum level l, unsigned dir, int sub,
    const char *name, unsigned long long id, const struct stat *st)
{
	struct cand *c;

	if (q->ncand == MAXCAND) {	/* full: settle these now */
		size_t i;

		for (i = 0; i < q->ncand; i++)
			if (confirm(q, &q->cand[i]))
				emit_cand(q, &q->cand[i]);
		q->ncand = 0;
	}
	c = &q->cand[q->ncand++];
	memset(c, 0, offsetof(struct cand, name));
	c->event = event;
	c->level = l;
	c->dir = (unsigned char)dir;
	c->sub = sub;
	c->id = id;
	c->ino = st->st_ino;
	c->ctime = st->st_ctim;
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

static void
cand_extra(struct cand *c, const char *k, long long v, int octal)
{
	c->k1 = k;
	c->v1 = v;
	c->octal = octal;
}

/* ---- owners and modes ---- */

/* getpwnam(3)/getgrnam(3) gave NULL: 1 if the name does not exist, 0 if the
 * database could not be read (then reported: no false unknown-user). */
static int
no_such_name(struct qrun *q, const char *db)
{
	int e = errno;

	if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM)
		return 1;
	q->failed = 1;
	run_emit_about(q->run, LEVEL_WARN, EV_UNREADABLE, "path", db, e);
	return 0;
}

static void
unknown_user(struct qrun *q, const char *name)
{
	run_emit_about(q->run, LEVEL_WARN, EV_NOUSER, "name", name, 0);
}

static void
lookup_ids(struct qrun *q)
{
	static const char *const users[3] = { "qmailq", "qmails", "qmailr" };
	static const char *const groups[2] = { "qmail", "sqmail" };
	struct passwd *pw;
	struct group *gr;
	int unknown = 1;
	unsigned i;

	q->gid[0] = q->gid[1] = (gid_t)-1;	/* unknown: not checked */
	for (i = 0; i < 3; i++) {
		errno = 0;
		if ((pw = getpwnam(users[i]))) {
			q->uid[i] = pw->pw_uid;
			q->haveuid[i] = 1;
		} else if (!no_such_name(q, "/etc/passwd"))
			return;
		else
			unknown_user(q, users[i]);
	}
	for (i = 0; i < 2; i++) {
		errno = 0;
		if ((gr = getgrnam(groups[i]))) {
			q->gid[i] = gr->gr_gid;
			unknown = 0;
		} else if (!no_such_name(q, "/etc/group"))
			return;
	}
	if (unknown)
		unknown_user(q, "qmail");
}

static int
owner_ok(const struct qrun *q, const struct stat *st, enum who w, int group)
{
	if (q->haveuid[w] && st->st_uid != q->uid[w])
		return 0;
	if (group && (q->gid[0] != (gid_t)-1 || q->gid[1] != (gid_t)-1) &&
	    st->st_gid != q->gid[0] && st->st_gid != q->gid[1])
		return 0;
	return 1;
}

static const char *
type_name(mode_t m)
{
	if (S_ISREG(m)) return "file";
	if (S_ISDIR(m)) return "dir";
	if (S_ISLNK(m)) return "symlink";
	if (S_ISFIFO(m)) return "fifo";
	if (S_ISSOCK(m)) return "socket";
	return "device";
}

/* A directory of the layout; 0 if it can be walked. */
static int
check_dir(struct qrun *q, const char *path, unsigned d, const struct stat *st)
{
	char buf[32];
	struct finding f;

	if (!S_ISDIR(st->st_mode)) {
		emit_path(q, LEVEL_CRIT, EV_BADMODE, path, "type", type_name(st->st_mode));
		return -1;
	}
	if (!owner_ok(q, st, qdir_want[d].owner, 1)) {
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_BADOWNER);
		finding_addf(&f, "path", "queue/%s", path);
		finding_subject(&f);
		finding_addu(&f, "uid", st->st_uid);
		finding_addu(&f, "gid", st->st_gid);
		run_emit(q->run, &f);
	}
	if ((st->st_mode & 07777) != qdir_want[d].mode) {
		snprintf(buf, sizeof(buf), "%04o", (unsigned)(st->st_mode & 07777));
		emit_path(q, LEVEL_CRIT, EV_BADMODE, path, "mode", buf);
	}
	return 0;
}

static int
open_dir(int at, const char *path)
{
	return queue_open(at, path, O_DIRECTORY);
}

static void
bad_lock(struct qrun *q, const char *name, const char *reason, const char *detail)
{
	struct finding f;

	finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_BADLOCK);
	finding_addf(&f, "path", "queue/lock/%s", name);
	finding_subject(&f);
	finding_add(&f, "reason", reason);
	if (detail)
		finding_add(&f, "found", detail);
	run_emit(q->run, &f);
}

static void
check_lock(struct qrun *q, const char *name, int fifo, enum who w, mode_t mode,
    off_t size, struct stat *st)
{
	char buf[32];

	if (q->dfd[D_LOCK] < 0)
		return;
	if (fstatat(q->dfd[D_LOCK], name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		st->st_ino = 0;
		bad_lock(q, name, errno == ENOENT ? "missing" : "unreadable", NULL);
		return;
	}
	if (fifo ? !S_ISFIFO(st->st_mode) : !S_ISREG(st->st_mode))
		bad_lock(q, name, "type", type_name(st->st_mode));
	else if (!owner_ok(q, st, w, 1)) {
		snprintf(buf, sizeof(buf), "%lu:%lu", (unsigned long)st->st_uid,
		    (unsigned long)st->st_gid);
		bad_lock(q, name, "owner", buf);
	} else if ((st->st_mode & 07777) != mode) {
		snprintf(buf, sizeof(buf), "%04o", (unsigned)(st->st_mode & 07777));
		bad_lock(q, name, "mode", buf);
	} else if (size >= 0 && st->st_size != size) {
		snprintf(buf, sizeof(buf), "%lld", (long long)st->st_size);
		bad_lock(q, name, "size", buf);
	}
}

/* qmail-send holds a flock on lock/sendmutex; /proc/locks shows it. */
static void
detect_send(struct qrun *q, const struct stat *mutex)
{
	struct finding f;
	long pid = mutex->st_ino ? queue_send_holder(mutex, q->buf, sizeof(q->buf)) : 0;

	q->running = pid > 0;
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_QSEND);
	finding_add(&f, "running", pid > 0 ? "yes" : "no");
	if (pid > 0)
		finding_addi(&f, "pid", pid);
	run_emit(q->run, &f);
}

static int
split_count(struct qrun *q, unsigned d, unsigned *maxp)
{
	unsigned long long v;
	struct dirent *e;
	unsigned n = 0, max = 0;
	DIR *dir;
	int fd;

	if ((fd = open_dir(q->dfd[d], ".")) < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		emit_unreadable(q, qdir_name[d], errno);
		return -1;
	}
	while ((e = readdir(dir)))
		if (queue_parse_id(e->d_name, &v) == 0 && v < MAXSPLIT &&
		    (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)) {
			n++;
			if (v + 1 > max)
				max = (unsigned)v + 1;
		}
	closedir(dir);
	*maxp = max;
	return (int)n;
}

static void
bad_split(struct qrun *q, unsigned d, unsigned n, unsigned max)
{
	struct finding f;

	finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_BADSPLIT);
	finding_addf(&f, "path", "queue/%s", qdir_name[d]);
	finding_subject(&f);
	finding_addu(&f, "subdirs", n);
	finding_addu(&f, "max", max);
	finding_addu(&f, "split", q->split);
	run_emit(q->run, &f);
}

static void
emit_layout(struct qrun *q)
{
	struct finding f;
	struct stat st;
	struct group *gr;

	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_LAYOUT);
	finding_addu(&f, "split", q->split);
	finding_add(&f, "todo", q->bigtodo ? "split" : "flat");
	if (fstat(q->qfd, &st) == 0 && (gr = getgrgid(st.st_gid)))
		finding_add(&f, "group", gr->gr_name);
	else
		finding_addu(&f, "group", fstat(q->qfd, &st) == 0 ? st.st_gid : 0);
	run_emit(q->run, &f);
}

/* Entries of queue/ that no qmail of ours makes (another fork's directory,
 * a stray file): reported, never touched. s/qmail 4.3 adds dkim/. */
static void
unknown_entries(struct qrun *q)
{
	struct dirent *e;
	struct finding f;
	struct stat st;
	unsigned d;
	DIR *dir;
	int fd;

	if ((fd = open_dir(q->qfd, ".")) < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;	/* the layout's own checks report an unreadable queue/ */
	}
	while ((e = readdir(dir))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "dkim") == 0)
			continue;
		for (d = 0; d < ND && strcmp(e->d_name, qdir_name[d]) != 0; d++)
			;
		if (d < ND || fstatat(q->qfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_UNKNOWN);
		finding_addf(&f, "path", "queue/%s", e->d_name);
		finding_subject(&f);
		finding_add(&f, "type", type_name(st.st_mode));
		run_emit(q->run, &f);
	}
	closedir(dir);
}

/* The layout: directories, lock files, the split. 0 to scan, -1 to stop. */
static int
layout(struct qrun *q)
{
	struct stat st, mutex;
	unsigned d, max;
	int r;

	for (d = 0; d < ND; d++) {
		q->dfd[d] = -1;
		if (fstatat(q->qfd, qdir_name[d], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			q->dferr[d] = errno;
			if (errno == ENOENT)
				emit_missing(q, qdir_name[d]);
			else
				emit_unreadable(q, qdir_name[d], errno);
			continue;
		}
		q->dferr[d] = ENOTDIR;
		if (check_dir(q, qdir_name[d], d, &st) < 0)
			continue;
		if ((q->dfd[d] = open_dir(q->qfd, qdir_name[d])) < 0) {
			q->dferr[d] = errno;
			emit_unreadable(q, qdir_name[d], errno);
		}
	}
	unknown_entries(q);
	memset(&mutex, 0, sizeof(mutex));	/* no lock/: not running, as far as we know */
	check_lock(q, "tcpto", 0, W_QMAILR, 0644, 1024, &st);
	check_lock(q, "trigger", 1, W_QMAILS, 0622, -1, &st);
	check_lock(q, "sendmutex", 0, W_QMAILS, 0600, 0, &mutex);
	detect_send(q, &mutex);
	if (q->dfd[D_MESS] < 0)
		return -1;
	if ((r = split_count(q, D_MESS, &max)) <= 0) {
		if (r == 0)
			emit_missing(q, "mess/0");
		return -1;
	}
	q->split = max;
	if ((unsigned)r != max)
		bad_split(q, D_MESS, (unsigned)r, max);
	for (d = D_INFO; d <= D_REMOTE; d++)
		if (q->dfd[d] >= 0 && (r = split_count(q, d, &max)) >= 0 &&
		    ((unsigned)r != q->split || max != q->split))
			bad_split(q, d, (unsigned)r, max);
	q->bigtodo = q->dfd[D_TODO] >= 0 &&
	    fstatat(q->dfd[D_TODO], "0", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	emit_layout(q);
	q->nsdirs = 0;
	for (d = D_MESS; d <= D_INTD; d++)
		if (d <= D_REMOTE || q->bigtodo)
			q->sdirs[q->nsdirs++] = (unsigned char)d;
	return 0;
}

/* ---- slices ---- */

static void
slice_begin(struct qrun *q)
{
	const struct queue_config *cf = q->run->config;

	clock_gettime(CLOCK_MONOTONIC, &q->deadline);
	q->deadline.tv_nsec += (long)(cf->slice_ms % 1000) * 1000000;
	q->deadline.tv_sec += (time_t)(cf->slice_ms / 1000) + q->deadline.tv_nsec / 1000000000;
	q->deadline.tv_nsec %= 1000000000;
	q->ops = 0;
}

static int
slice_over(struct qrun *q)
{
	struct timespec t;

	if (++q->ops % 32)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return !ts_before(&t, &q->deadline);
}

/* ---- message files ---- */

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (int)x->dir - (int)y->dir;
}

/* A message file's owner and mode: mess/intd/todo/pid are qmailq's and
 * world-readable at most; info/local/remote/bounce are qmails' alone. */
static int
file_check(struct qrun *q, unsigned d, int sub, const char *name, unsigned long long id,
    const struct stat *st)
{
	int qq = d == D_MESS || d == D_TODO || d == D_INTD || d == D_PID;
	enum level l = d == D_MESS ? LEVEL_CRIT : LEVEL_WARN;
	mode_t m = st->st_mode & 07777;

	if (!S_ISREG(st->st_mode)) {
		cand_extra(cand_new(q, EV_BADMODE, l, d, sub, name, id, st), "mode",
		    (long long)(st->st_mode & 0177777), 1);
		return -1;
	}
	if (!owner_ok(q, st, qq ? W_QMAILQ : W_QMAILS, 0))
		cand_extra(cand_new(q, EV_BADOWNER, l, d, sub, name, id, st), "uid",
		    (long long)st->st_uid, 0);
	else if (!(m & 0400) || (m & (qq ? 07022 : 07077)))
		cand_extra(cand_new(q, EV_BADMODE, l, d, sub, name, id, st), "mode",
		    (long long)m, 1);
	return 0;
}

static int
bouncing(struct qrun *q, unsigned long long id)
{
	char name[48];
	struct stat st;

	snprintf(name, sizeof(name), "%llu", id);
	return q->dfd[D_BOUNCE] >= 0 && fstatat(q->dfd[D_BOUNCE], name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0;
}

static void
emit_message(struct qrun *q, unsigned long long id, const struct stat *info,
    const struct stat *mess, int havemess, const struct queue_info *qi,
    const unsigned long long *t, unsigned long long done)
{
	struct finding f;

	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, EV_MESSAGE);
	finding_addu(&f, "id", id);
	finding_addi(&f, "age", (long long)(q->now - info->st_mtime));
	finding_addi(&f, "bytes", havemess ? (long long)mess->st_size : -1);
	finding_addn(&f, "sender", qi->sender, qi->senderlen);
	finding_addu(&f, "local", t[0]);
	finding_addu(&f, "remote", t[1]);
	finding_addu(&f, "done", done);
	finding_addu(&f, "bouncing", (unsigned long long)bouncing(q, id));
	run_emit(q->run, &f);
}

/* The cache directory's files: opened without following a link, used only
 * if they are regular files with one link, owned by this process's
 * effective user and writable by nobody else. malloc'd bytes, or NULL. */
void *
queue_cache_read(int cfd, const char *name, size_t max, size_t *len)
{
	struct safe_want want = { .type = S_IFREG, .one_link = 1, .not_writable = 1 };
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	want.uid = (int)geteuid();
	if (cfd < 0 || (fd = safe_openat(cfd, name, O_RDONLY)) < 0)
		return NULL;
	if (safe_check(fd, &want, &st) != SAFE_OK || (unsigned long long)st.st_size > max ||
	    !(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return NULL;
	}
	*len = got;
	return buf;
}

int
queue_cache_dir(struct check_run *run, const char *event)
{
	struct safe_want want = { .type = S_IFDIR, .not_writable = 1 };
	char path[PATH_MAX + 16];
	const char *reason = NULL;
	struct finding f;
	struct stat st;
	int sfd, cfd, e = 0, v;

	if (!run->conf->state[0])
		return -1;	/* no state kept: no cache */
	snprintf(path, sizeof(path), "%s/queue-cache", run->conf->state);
	/* MAINTD_STATE is the administrator's (the daemon checked it at start) */
	if ((sfd = open(run->conf->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = errno;
		goto bad;
	}
	if (mkdirat(sfd, "queue-cache", 0700) < 0 && errno != EEXIST) {
		e = errno;
		close(sfd);
		goto bad;
	}
	cfd = openat(sfd, "queue-cache", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	e = errno;
	close(sfd);
	if (cfd < 0) {
		if (e == ENOTDIR || e == ELOOP)
			reason = "type";
		goto bad;
	}
	want.uid = (int)geteuid();
	if ((v = safe_check(cfd, &want, &st)) == SAFE_OK)
		return cfd;
	e = errno;
	close(cfd);
	if (v > 0)
		reason = v == SAFE_TYPE ? "type" : v == SAFE_OWNER ? "owner" : "writable";
bad:
	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, event);
	finding_add(&f, "path", path);
	finding_subject(&f);
	if (reason)
		finding_add(&f, "reason", reason);
	else
		finding_error(&f, e);
	run_emit(run, &f);
	return -1;
}

static void
cache_close(struct qrun *q)
{
	if (q->cinfd >= 0)
		close(q->cinfd);
	q->cinfd = -1;
	q->ncin = 0;
	q->havecur = 0;
	q->wlen = q->wpos = 0;
	q->inleft = 0;
}

static void
cache_load(struct qrun *q)
{
	struct safe_want want = { .type = S_IFREG, .one_link = 1, .not_writable = 1 };
	struct chdr h;
	struct stat st;
	char name[16];

	cache_close(q);
	q->ncout = 0;
	q->lcout = sizeof(struct chdr);
	snprintf(name, sizeof(name), "%u", q->sub);
	want.uid = (int)geteuid();
	if (q->cachefd < 0 || (q->cinfd = safe_openat(q->cachefd, name, O_RDONLY)) < 0)
		return;
	if (safe_check(q->cinfd, &want, &st) != SAFE_OK || st.st_size < (off_t)sizeof(h) ||
	    (unsigned long long)st.st_size > CACHE_MAX ||
	    read(q->cinfd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.split != q->split || h.sub != q->sub ||
	    h.bytes != (unsigned long long)st.st_size - sizeof(h) ||
	    h.n > h.bytes / sizeof(struct crec)) {
		cache_close(q);
		return;
	}
	if (!q->win && !(q->win = malloc(CACHE_WINDOW))) {
		cache_close(q);
		return;
	}
	if (!q->wsize)
		q->wsize = CACHE_WINDOW;
	q->ncin = (size_t)h.n;
	q->inleft = h.bytes;
}

/* At least need bytes from wpos in the window (read more, or make it
 * bigger for one large entry): 0, or -1 at the end or on a short file. */
static int
cache_fill(struct qrun *q, size_t need)
{
	ssize_t n;

	if (q->wlen - q->wpos >= need)
		return 0;
	if (need > q->inleft + (q->wlen - q->wpos))
		return -1;
	memmove(q->win, q->win + q->wpos, q->wlen - q->wpos);
	q->wlen -= q->wpos;
	q->wpos = 0;
	if (need > q->wsize) {
		unsigned char *w = realloc(q->win, need);

		if (!w)
			return -1;
		q->win = w;
		q->wsize = need;
	}
	while (q->wlen < need) {
		size_t want = q->wsize - q->wlen;

		if (want > q->inleft)
			want = (size_t)q->inleft;
		if ((n = read(q->cinfd, q->win + q->wlen, want)) <= 0)
			return -1;
		q->wlen += (size_t)n;
		q->inleft -= (unsigned long long)n;
	}
	return 0;
}

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The next entry of the file into cur: 0, or -1 (the end, or a bad entry:
 * the rest of the file is not used). */
static int
cache_next(struct qrun *q)
{
	size_t dl;

	q->havecur = 0;
	if (q->cinfd < 0 || cache_fill(q, sizeof(struct crec)) < 0)
		goto end;
	memcpy(&q->cur, q->win + q->wpos, sizeof(q->cur));
	dl = q->cur.dlen;
	if (dl > CACHE_MAX || cache_fill(q, sizeof(struct crec) + pad8(dl)) < 0)
		goto end;
	q->curdoms = q->win + q->wpos + sizeof(struct crec);
	if (dl && (q->cur.dir != D_REMOTE || qdoms_check(q->curdoms, dl) < 0))
		goto end;
	q->wpos += sizeof(struct crec) + pad8(dl);
	q->havecur = 1;
	return 0;
end:
	cache_close(q);
	return -1;
}

/* One write of header and entries, by safe_replace. */
static void
cache_save(struct qrun *q)
{
	struct chdr h;
	char name[16];

	cache_close(q);
	if (q->cachefd < 0)
		return;
	if (!q->cout) {	/* nothing cached yet: the header alone */
		if (!(q->cout = malloc(65536)))
			return;
		q->acout = 65536;
		q->lcout = sizeof(h);
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CACHE_MAGIC, 8);
	h.split = q->split;
	h.sub = q->sub;
	h.n = q->ncout;
	h.bytes = q->lcout - sizeof(h);
	memcpy(q->cout, &h, sizeof(h));
	snprintf(name, sizeof(name), "%u", q->sub);
	safe_replace_snapshot(q->cachefd, name, q->cout, q->lcout, 0600);
}

/* The entry of (id, d), if the file is as cached: the walk asks in order. */
static const struct crec *
cache_find(struct qrun *q, unsigned long long id, unsigned d, const struct stat *st)
{
	const struct crec *r = &q->cur;

	if (!q->havecur && cache_next(q) < 0)
		return NULL;
	while (r->id < id || (r->id == id && r->dir < d))
		if (cache_next(q) < 0)
			return NULL;
	if (r->id != id || r->dir != d || r->ino != (uint64_t)st->st_ino ||
	    r->size != (unsigned long long)st->st_size || r->csec != (int64_t)st->st_ctim.tv_sec ||
	    r->cnsec != (uint32_t)st->st_ctim.tv_nsec)
		return NULL;
	if (r->dir == D_REMOTE && r->t && !r->dlen)
		return NULL;	/* pending recipients, but no domains: read it */
	return r;
}

static void
cache_add(struct qrun *q, unsigned long long id, unsigned d, const struct stat *st,
    unsigned long long t, unsigned long long done, const unsigned char *doms, size_t dlen)
{
	struct crec r;
	size_t need;

	if (q->cachefd < 0 || st->st_ctim.tv_sec > q->start.tv_sec - CACHE_SETTLE ||
	    t > UINT32_MAX || done > UINT32_MAX || (unsigned long long)st->st_size > UINT32_MAX)
		return;
	if (d != D_REMOTE || !t)
		dlen = 0;
	if (dlen > UINT32_MAX || (d == D_REMOTE && t && !dlen))
		return;
	need = q->lcout + sizeof(r) + pad8(dlen);
	if (need > q->acout) {
		size_t n = q->acout ? q->acout * 2 : 65536;
		unsigned char *b;

		while (n < need)
			n *= 2;
		if (n > CACHE_MAX || !(b = realloc(q->cout, n)))
			return;
		q->cout = b;
		q->acout = n;
	}
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.dir = (uint8_t)d;
	r.ino = (uint64_t)st->st_ino;
	r.size = (uint32_t)st->st_size;
	r.csec = (int64_t)st->st_ctim.tv_sec;
	r.cnsec = (uint32_t)st->st_ctim.tv_nsec;
	r.t = (uint32_t)t;
	r.d = (uint32_t)done;
	r.dlen = (uint32_t)dlen;
	memcpy(q->cout + q->lcout, &r, sizeof(r));
	if (dlen)
		memcpy(q->cout + q->lcout + sizeof(r), doms, dlen);
	memset(q->cout + q->lcout + sizeof(r) + dlen, 0, pad8(dlen) - dlen);
	q->lcout = need;
	q->ncout++;
}

/* An info/local/remote file known to the cache and unchanged: its record
 * (c filled from it; for remote/, *doms its domains), or NULL to read it. */
static const struct crec *
cached(struct qrun *q, int dirfd, const char *name, unsigned long long id, unsigned d,
    struct stat *st, struct queue_chan *c, const unsigned char **doms, size_t *dlen)
{
	const struct crec *r;

	if (!q->ncin || (d == D_INFO && q->run->verbose) ||
	    fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st->st_mode) ||
	    !(r = cache_find(q, id, d, st)))
		return NULL;
	queue_chan_init(c);
	c->t = r->t;
	c->d = r->d;
	*doms = r->dlen ? q->curdoms : NULL;
	*dlen = r->dlen;
	return r;
}

/* What the files of one message id in one split subdirectory showed. */
struct msg {
	unsigned long long id, t[2], done;
	int sub, badinfo;
	int have[ND];
	struct stat st[ND];
	struct queue_info qi;
	const unsigned char *doms;	/* remote/'s pending domains (qdoms entries) */
	size_t domslen;
	char name[24];
};

/* mess, todo, intd: stat only */
static void
msg_stat(struct qrun *q, struct msg *m, unsigned d)
{
	if (fstatat(dirfd(q->subdir[d]), m->name, &m->st[d], AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (d == D_MESS) {
		q->st.bytes += (unsigned long long)m->st[d].st_size;
		if (!q->st.oldest || m->st[d].st_mtime < q->st.oldest)
			q->st.oldest = m->st[d].st_mtime;
	}
	m->have[d] = file_check(q, d, m->sub, m->name, m->id, &m->st[d]) == 0;
}

/* info, local, remote: read by the reader thread, from the cache, or read here */
static void
msg_read(struct qrun *q, struct msg *m, unsigned d, size_t i)
{
	int fd = dirfd(q->subdir[d]), r;
	const struct qfile_res *f = q->rd ? qreader_result(q->rd, i) : NULL;
	const unsigned char *doms = NULL;
	size_t dlen = 0;
	struct queue_chan c;
	struct cand *k;

	if (!f && cached(q, fd, m->name, m->id, d, &m->st[d], &c, &doms, &dlen))
		r = 0;
	else {
		if (!f) {
			qfile_read(fd, m->name, -1, d == D_INFO ? QFILE_INFO :
			    d == D_REMOTE ? QFILE_REMOTE : QFILE_CHAN,
			    &q->fres, q->buf, sizeof(q->buf), NULL);
			f = &q->fres;
		}
		r = f->r;
		m->st[d] = f->st;
		c = f->chan;
		if (d == D_INFO)
			m->qi = f->qi;	/* points into f: used before the release */
		if (d == D_REMOTE) {	/* the same: used before the release */
			doms = f->doms.buf;
			dlen = f->doms.len;
		}
		errno = f->err;
	}
	if (r == -2)	/* gone */
		return;
	if (r == -3) {	/* not a regular file, or not readable */
		int e = errno;
		char path[64];

		if (fstatat(fd, m->name, &m->st[d], AT_SYMLINK_NOFOLLOW) < 0 ||
		    file_check(q, d, m->sub, m->name, m->id, &m->st[d]) < 0)
			return;
		/* there, but its counts are unknown: no orphan verdicts on it */
		m->have[d] = 1;
		snprintf(path, sizeof(path), "%s/%d/%s", qdir_name[d], m->sub, m->name);
		emit_unreadable(q, path, e);
		return;
	}
	m->have[d] = 1;
	file_check(q, d, m->sub, m->name, m->id, &m->st[d]);
	if (d == D_INFO) {
		q->st.info++;
		if (!(m->badinfo = r < 0))
			cache_add(q, m->id, d, &m->st[d], 0, 0, NULL, 0);
		return;
	}
	if (d == D_LOCAL)
		q->st.local++;
	else {
		q->st.remote++;
		m->doms = doms;
		m->domslen = dlen;
	}
	m->t[d - D_LOCAL] = c.t;
	m->done += c.d;
	if (!c.error) {
		/* a list cut short by a failed allocation is not kept */
		if (!f || !f->doms.nomem)
			cache_add(q, m->id, d, &m->st[d], c.t, c.d, doms, dlen);
		return;
	}
	k = cand_new(q, EV_BADCHAN, LEVEL_WARN, d, m->sub, m->name, m->id, &m->st[d]);
	k->absent = 1u << D_TODO;
	cand_extra(k, "offset", (long long)c.badoff, 0);
}

/* The candidate findings about a message, from what its files showed. */
static void
msg_verdicts(struct qrun *q, struct msg *m)
{
	struct cand *k;
	unsigned d;

	if (m->have[D_MESS] && m->st[D_MESS].st_ino != m->id)
		cand_extra(cand_new(q, EV_INODE, LEVEL_CRIT, D_MESS, m->sub, m->name, m->id,
		    &m->st[D_MESS]), "inode", (long long)m->st[D_MESS].st_ino, 0);
	if (m->have[D_TODO] && !m->have[D_MESS]) {
		k = cand_new(q, EV_ORPHTODO, LEVEL_WARN, D_TODO, m->sub, m->name, m->id,
		    &m->st[D_TODO]);
		k->absent = 1u << D_MESS;
	}
	if (!m->have[D_INFO] && !m->have[D_LOCAL] && !m->have[D_REMOTE] && !m->have[D_INTD] &&
	    !m->have[D_MESS])
		return;
	/* everything below is legitimate while todo/N exists: with a split
	 * todo/ we know; a flat one is looked at only when confirming */
	if (q->bigtodo && m->have[D_TODO])
		return;
	if (!m->have[D_MESS]) {
		static const char *const ev[] = { EV_ORPHINFO, EV_ORPHLOCAL, EV_ORPHREMOTE };

		for (d = D_INFO; d <= D_REMOTE; d++)
			if (m->have[d] && (d == D_INFO || !m->have[D_INFO])) {
				k = cand_new(q, ev[d - D_INFO], LEVEL_WARN, d, m->sub, m->name,
				    m->id, &m->st[d]);
				k->absent = 1u << D_MESS | 1u << D_TODO | (d == D_INFO ? 0 : 1u << D_INFO);
			}
		if (m->have[D_INTD]) {
			k = cand_new(q, EV_ORPHINTD, LEVEL_WARN, D_INTD, m->sub, m->name, m->id,
			    &m->st[D_INTD]);
			k->absent = 1u << D_MESS | 1u << D_TODO;
		}
	} else if (!m->have[D_INFO]) {
		for (d = D_LOCAL; d <= D_REMOTE; d++)
			if (m->have[d]) {
				k = cand_new(q, d == D_LOCAL ? EV_ORPHLOCAL : EV_ORPHREMOTE,
				    LEVEL_WARN, d, m->sub, m->name, m->id, &m->st[d]);
				k->absent = 1u << D_INFO | 1u << D_TODO;
			}
		if (!q->running && q->now - m->st[D_MESS].st_atime > OSSIFIED) {
			k = cand_new(q, EV_STALEMESS, LEVEL_WARN, D_MESS, m->sub, m->name, m->id,
			    &m->st[D_MESS]);
			k->absent = 1u << D_INFO | 1u << D_TODO;
			cand_extra(k, "idle", (long long)(q->now - m->st[D_MESS].st_atime), 0);
		}
	}
	if (m->have[D_INFO] && m->badinfo) {
		k = cand_new(q, EV_BADINFO, LEVEL_WARN, D_INFO, m->sub, m->name, m->id,
		    &m->st[D_INFO]);
		k->absent = 1u << D_TODO;
	} else if (m->have[D_INFO] &&
	    q->now - m->st[D_INFO].st_mtime > (time_t)(q->lifetime + GRACE)) {
		k = cand_new(q, EV_EXPIRED, LEVEL_WARN, D_INFO, m->sub, m->name, m->id,
		    &m->st[D_INFO]);
		k->absent = 1u << D_TODO;
		cand_extra(k, "age", (long long)(q->now - m->st[D_INFO].st_mtime), 0);
	}
}


/* One message id of the current split subdirectory: ents[i..j). */
static void
group(struct qrun *q, size_t i, size_t j)
{
	struct msg m;
	unsigned d;

	memset(&m, 0, sizeof(m));
	m.id = q->ents[i].id;
	m.sub = (int)q->sub;
	m.qi.sender = "";
	snprintf(m.name, sizeof(m.name), "%llu", m.id);
	for (; i < j; i++) {
		d = q->ents[i].dir;
		if (d == D_MESS || d == D_TODO || d == D_INTD)
			msg_stat(q, &m, d);
		else
			msg_read(q, &m, d, i);
	}
	if (m.have[D_INFO]) {
		q->st.rcpt += m.t[0] + m.t[1];
		q->st.done += m.done;
		if (q->haveshape && m.have[D_REMOTE] && m.domslen)
			qshape_add_doms(&q->shape, m.doms, m.domslen, m.st[D_INFO].st_mtime);
		if (!q->st.oldest || m.st[D_INFO].st_mtime < q->st.oldest)
			q->st.oldest = m.st[D_INFO].st_mtime;
		if (q->run->verbose)
			emit_message(q, m.id, &m.st[D_INFO], &m.st[D_MESS], m.have[D_MESS], &m.qi,
			    m.t, m.done);
	}
	msg_verdicts(q, &m);
}

/* An entry that is not a message id, or one in the wrong subdirectory. */
static int
odd_entry(struct qrun *q, unsigned d, int sub, const char *name, unsigned long long *id)
{
	struct stat st;
	int at = sub >= 0 ? dirfd(q->subdir[d]) : q->dfd[d];

	if (queue_parse_id(name, id) == 0 && (sub < 0 || *id % q->split == (unsigned)sub))
		return 0;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 1;
	if (queue_parse_id(name, id) < 0)
		cand_new(q, EV_BADNAME, LEVEL_WARN, d, sub, name, 0, &st);
	else
		cand_extra(cand_new(q, EV_WRONGSPLIT, LEVEL_CRIT, d, sub, name, *id, &st),
		    "expect", (long long)(*id % q->split), 0);
	return 1;
}

/* ---- the phases ---- */

static void
sub_close(struct qrun *q)
{
	unsigned d;

	for (d = 0; d < ND; d++)
		if (q->subdir[d]) {
			closedir(q->subdir[d]);
			q->subdir[d] = NULL;
		}
}

static void
p_subopen(struct qrun *q)
{
	unsigned d = q->sdirs[q->sdir];
	char path[32];
	struct stat st;
	int fd;

	q->phase = P_SUBREAD;
	if (q->sdir == 0)
		cache_load(q);
	if (q->dfd[d] < 0)
		return;
	snprintf(path, sizeof(path), "%u", q->sub);
	if ((fd = open_dir(q->dfd[d], path)) < 0 || !(q->subdir[d] = fdopendir(fd))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (e == ELOOP || e == ENOTDIR) {	/* O_NOFOLLOW|O_DIRECTORY on a symlink: ENOTDIR */
			snprintf(path, sizeof(path), "%u", q->sub);
			if (fstatat(q->dfd[d], path, &st, AT_SYMLINK_NOFOLLOW) < 0)
				st.st_mode = e == ELOOP ? S_IFLNK : S_IFREG;
		}
		snprintf(path, sizeof(path), "%s/%u", qdir_name[d], q->sub);
		if (e == ENOENT)	/* reported as bad-split or missing-dir */
			emit_missing(q, path);
		else if (e == ELOOP || e == ENOTDIR)
			emit_path(q, LEVEL_CRIT, EV_BADMODE, path, "type", type_name(st.st_mode));
		else
			emit_unreadable(q, path, e);
		return;
	}
	if (fstat(fd, &st) == 0) {
		snprintf(path, sizeof(path), "%s/%u", qdir_name[d], q->sub);
		check_dir(q, path, d, &st);
	}
}

/* The reader thread's job i: ents[i] if it is a local/remote file to read.
 * The walk's own thread stats mess/todo/intd and reads info/, which shares
 * the work about evenly (measured: 1.0x find at 1M messages, 1.3x with
 * the reader doing info/ too). The walk does not change ents or the
 * subdirectories while the reader runs. */
static enum qfile
reader_job(void *arg, size_t i, int *dfd, char *name, size_t size)
{
	const struct qrun *q = arg;
	const struct ent *e = &q->ents[i];

	if (e->dir < D_LOCAL || e->dir > D_REMOTE)
		return QFILE_NONE;
	*dfd = dirfd(q->subdir[e->dir]);
	snprintf(name, size, "%llu", e->id);
	return e->dir == D_REMOTE ? QFILE_REMOTE : QFILE_CHAN;
}

static void
next_sdir(struct qrun *q)
{
	if (++q->sdir < q->nsdirs) {
		q->phase = P_SUBOPEN;
		return;
	}
	if (q->nents)
		qsort(q->ents, q->nents, sizeof(*q->ents), ent_cmp);
	q->gpos = 0;
	q->phase = P_GROUP;
	/* with no cache to answer (the first run), every info/local/remote
	 * file is read: local/remote on the reader thread, ahead of the walk */
	if (q->nents && !q->ncin)
		q->rd = qreader_start(q->nents, reader_job, q, q->ahead);
}

static int
ent_add(struct qrun *q, unsigned long long id, unsigned d)
{
	if (q->nents == q->aents) {
		size_t n = q->aents ? q->aents * 2 : 4096;
		struct ent *e = realloc(q->ents, n * sizeof(*e));

		if (!e)
			return -1;
		q->ents = e;
		q->aents = n;
	}
	q->ents[q->nents].id = id;
	q->ents[q->nents++].dir = (unsigned char)d;
	return 0;
}

static void
p_subread(struct qrun *q)
{
	unsigned d = q->sdirs[q->sdir];
	unsigned long long id;
	struct dirent *e;
	int n;

	if (!q->subdir[d]) {
		next_sdir(q);
		return;
	}
	for (n = 0; n < 64; n++) {
		if (!(e = readdir(q->subdir[d]))) {
			next_sdir(q);
			return;
		}
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (d == D_MESS)
			q->st.messages++;
		else if (d == D_TODO)
			q->st.todo++;
		if (odd_entry(q, d, (int)q->sub, e->d_name, &id))
			continue;
		if (ent_add(q, id, d) < 0) {
			q->failed = 1;
			next_sdir(q);
			return;
		}
	}
}

static void
p_group(struct qrun *q)
{
	size_t j = q->gpos;

	if (q->gpos >= q->nents) {
		qreader_stop(q->rd);
		q->rd = NULL;
		cache_save(q);
		q->nents = 0;
		q->cpos = 0;
		q->phase = P_CONFIRM;
		q->after = P_SUBOPEN;
		return;
	}
	while (j < q->nents && q->ents[j].id == q->ents[q->gpos].id)
		j++;
	group(q, q->gpos, j);
	q->gpos = j;
	if (q->rd)
		qreader_release(q->rd, j);
}

static const unsigned char flat_dirs[] = { D_TODO, D_INTD, D_BOUNCE, D_PID };

/* The flat phase stats mess/S/ID and info/S/ID for each todo/intd/bounce
 * entry: their subdirectories stay open during it when the descriptors
 * allow (2 x split of at most an eighth of RLIMIT_NOFILE). */
static void
flat_keep(struct qrun *q)
{
	struct rlimit rl;
	size_t i, n = 2 * (size_t)q->split;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    (rl.rlim_cur != RLIM_INFINITY && n > rl.rlim_cur / 8) || !(q->xfd = malloc(n * sizeof(int))))
		return;
	for (i = 0; i < n; i++)
		q->xfd[i] = -1;
}

static void
flat_close(struct qrun *q)
{
	size_t i;

	if (!q->xfd)
		return;
	for (i = 0; i < 2 * (size_t)q->split; i++)
		if (q->xfd[i] >= 0)
			close(q->xfd[i]);
	free(q->xfd);
	q->xfd = NULL;
}

static void
p_confirm(struct qrun *q)
{
	if (q->cpos < q->ncand) {
		if (confirm(q, &q->cand[q->cpos]))
			emit_cand(q, &q->cand[q->cpos]);
		q->cpos++;
		return;
	}
	q->ncand = 0;
	q->phase = q->after;
	if (q->phase == P_SUBOPEN) {
		sub_close(q);
		q->sdir = 0;
		if (++q->sub >= q->split) {
			q->phase = P_FLATOPEN;
			q->flatidx = 0;
			flat_keep(q);
		}
	}
}

static void
p_flatopen(struct qrun *q)
{
	unsigned d;
	int fd;

	for (; q->flatidx < sizeof(flat_dirs); q->flatidx++) {
		d = flat_dirs[q->flatidx];
		if (q->dfd[d] < 0 || (q->bigtodo && (d == D_TODO || d == D_INTD)))
			continue;
		if ((fd = open_dir(q->dfd[d], ".")) < 0 || !(q->flat = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			emit_unreadable(q, qdir_name[d], errno);
			continue;
		}
		q->phase = P_FLAT;
		return;
	}
	q->phase = P_END;
}

static void
flat_entry(struct qrun *q, unsigned d, const char *name)
{
	unsigned long long id = 0;
	char path[64];
	struct stat st, other;
	struct cand *k;
	unsigned needs = 0;

	if (d != D_PID && odd_entry(q, d, -1, name, &id))
		return;
	if (fstatat(q->dfd[d], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (file_check(q, d, -1, name, id, &st) < 0)
		return;
	if (d == D_PID) {
		if (q->now - st.st_atime > OSSIFIED)
			cand_extra(cand_new(q, EV_STALEPID, LEVEL_WARN, d, -1, name, 0, &st),
			    "idle", (long long)(q->now - st.st_atime), 0);
		return;
	}
	if (d == D_BOUNCE)
		q->st.bounce++;
	/* todo without mess; intd without mess, bounce without info (and, for
	 * these two, no todo: confirm() looks) */
	snprintf(path, sizeof(path), "%llu", id);
	if (stat_at(q, d == D_BOUNCE ? D_INFO : D_MESS, (int)(id % q->split), path, &other) < 0 &&
	    errno == ENOENT)
		needs = d == D_TODO ? 1u << D_MESS :
		    (d == D_BOUNCE ? 1u << D_INFO : 1u << D_MESS) | 1u << D_TODO;
	if (!needs)
		return;
	k = cand_new(q, d == D_TODO ? EV_ORPHTODO : d == D_INTD ? EV_ORPHINTD : EV_ORPHBOUNCE,
	    LEVEL_WARN, d, -1, name, id, &st);
	k->absent = needs;
}

static void
p_flat(struct qrun *q)
{
	unsigned d = flat_dirs[q->flatidx];
	struct dirent *e;
	int n;

	for (n = 0; n < 32; n++) {
		if (!(e = readdir(q->flat))) {
			closedir(q->flat);
			q->flat = NULL;
			q->flatidx++;
			q->cpos = 0;
			q->phase = P_CONFIRM;
			q->after = P_FLATOPEN;
			return;
		}
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (d == D_TODO)
			q->st.todo++;
		flat_entry(q, d, e->d_name);
	}
}

static void
emit_stats(struct qrun *q)
{
	struct finding f;

	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_STATS);
	finding_addu(&f, "messages", q->st.messages);
	finding_addu(&f, "todo", q->st.todo);
	finding_addu(&f, "preprocessed", q->st.info);
	finding_addu(&f, "local", q->st.local);
	finding_addu(&f, "remote", q->st.remote);
	finding_addu(&f, "bounce", q->st.bounce);
	finding_addu(&f, "recipients", q->st.rcpt);
	finding_addu(&f, "done", q->st.done);
	finding_addi(&f, "oldest", q->st.oldest ? (long long)(q->now - q->st.oldest) : 0);
	finding_addu(&f, "bytes", q->st.bytes);
	run_emit(q->run, &f);
	q->stats_done = 1;
}

static const char *const bucket_key[QSHAPE_BUCKETS] = {
	"lt5", "lt10", "lt20", "lt40", "lt80", "lt160", "lt320", "lt640", "lt1280", "ge1280"
};

static void
emit_shape(struct qrun *q, const struct qshape_row *r)
{
	struct finding f;
	unsigned b;

	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, EV_SHAPE);
	finding_add(&f, "domain", r->domain);
	finding_subject(&f);
	finding_addu(&f, "total", r->total);
	for (b = 0; b < QSHAPE_BUCKETS; b++)
		finding_addu(&f, bucket_key[b], r->b[b]);
	finding_addi(&f, "oldest", r->oldest);
	if (r->error)
		finding_addu(&f, "error", r->error);
	run_emit(q->run, &f);
}

/* The stuck line says why, in qmail-send's own words: the last deferral of
 * the domain that MAINTD_SENDLOG shows, and how old it is. */
static void
add_last_deferral(struct qrun *q, struct finding *f, const char *domain)
{
	const char *why;
	time_t when;

	if (q->sl && (why = sendlog_last_deferral(q->sl, domain, &when))) {
		finding_add(f, "last_deferral", why);
		finding_addi(f, "last_deferral_age", (long long)(q->now - when));
	}
}

/* The end of a walk: the shape by domain (-v lines, the table kept for the
 * metrics and for -q) and the stuck destinations (findings, published). */
static void
shape_end(struct qrun *q)
{
	const struct queue_config *cf = q->run->config;
	struct qshape_table *t;
	struct qshape_row *rows;
	struct stuck *st;
	unsigned i, n;

	if (!q->haveshape)
		return;
	if ((t = calloc(1, sizeof(*t) + cf->top * sizeof(t->rows[0])))) {
		t->when = q->now;
		t->n = qshape_top(&q->shape, t->rows, (unsigned)cf->top);
		qshape_total(&q->shape, &t->total);
		qshape_rest(&q->shape, t->rows, t->n, &t->rest);
		if (q->run->verbose) {
			for (i = 0; i < t->n; i++)
				emit_shape(q, &t->rows[i]);
			emit_shape(q, &t->rest);
		}
		queue_shape_publish(t);
		q->table = t;
	}
	rows = malloc(STUCK_MAX * sizeof(*rows));
	st = malloc(STUCK_MAX * sizeof(*st));
	if (!rows || !st) {
		free(rows);
		free(st);
		return;
	}
	n = qshape_stuck(&q->shape, rows, STUCK_MAX, &q->nstuck);
	for (i = 0; i < n; i++) {
		struct finding f;

		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_STUCK);
		finding_add(&f, "domain", rows[i].domain);
		finding_subject(&f);
		finding_addu(&f, "recipients", rows[i].total);
		finding_addi(&f, "oldest", rows[i].oldest);
		add_last_deferral(q, &f, rows[i].domain);
		run_emit(q->run, &f);
		memset(&st[i], 0, sizeof(st[i]));
		snprintf(st[i].domain, sizeof(st[i].domain), "%s", rows[i].domain);
		st[i].recipients = rows[i].total;
		st[i].oldest = rows[i].oldest;
	}
	stuck_publish(st, n);
	free(rows);
	free(st);
}

static void on_step(struct check_run *);
static void finish(struct qrun *);

/* MAINTD_SENDLOG, read from its cursor in bounded turns before the walk
 * (none: straight to the walk). What it cannot read is a warning; the walk
 * goes on regardless. */
static void
sendlog_step(struct check_run *run)
{
	const struct queue_config *cf = run->config;
	struct qrun *q = run->state;
	struct sendlog_rd rd;
	struct finding f;
	int r, e;

	if (!cf->sendlog[0])
		goto walk;
	if (!q->sl) {
		if (!(q->sl = sendlog_new(0, 0)))
			goto walk;
		q->slfd = run->conf->state[0] ? safe_state_dir(run->conf->state) : -1;
	}
	memset(&rd, 0, sizeof(rd));
	r = sendlog_read(q->sl, q->slfd, cf->sendlog, SENDLOG_READ_MAX, q->now, &rd);
	e = errno;	/* the lines below write, allocate: they may change it */
	if (r == 1 && run_yield(run, sendlog_step) == 0)
		return;
	if (rd.bad_state) {
		finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_SENDCURSOR);
		finding_add(&f, "reason", "corrupt");
		run_emit(run, &f);
	}
	if (rd.lost) {
		finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_SENDLOST);
		finding_add(&f, "path", cf->sendlog);
		run_emit(run, &f);
	}
	if (r < 0) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_SENDLOG);
		finding_add(&f, "path", cf->sendlog);
		finding_subject(&f);
		finding_add(&f, "what", rd.what ? rd.what : "log-read");
		if (rd.type)
			finding_add(&f, "type", rd.type);
		else
			finding_error(&f, e);
		run_emit(run, &f);
	}
walk:
	q->phase = P_SUBOPEN;
	if (run_yield(run, on_step) < 0) {
		q->failed = 1;
		finish(q);
	}
}

/* The run's cleanup: the reader thread is joined, everything closed. */
static void
queue_cleanup(struct check_run *run)
{
	struct qrun *q = run->state;
	unsigned d;

	if (!q->run)	/* start() never got to set its descriptors */
		return;
	qreader_stop(q->rd);
	sub_close(q);
	if (q->flat)
		closedir(q->flat);
	for (d = 0; d < ND; d++)
		if (q->dfd[d] >= 0)
			close(q->dfd[d]);
	if (q->qfd >= 0)
		close(q->qfd);
	if (q->cachefd >= 0)
		close(q->cachefd);
	flat_close(q);
	free(q->ents);
	free(q->cand);
	cache_close(q);
	free(q->win);
	free(q->cout);
	qdoms_free(&q->fres.doms);
	if (q->haveshape)
		qshape_free(&q->shape);
	free(q->table);
	sendlog_free(q->sl);
	if (q->slfd >= 0)
		close(q->slfd);
}

/* The end: cleanup runs inside run_done, so q is not touched after it. */
static void
finish(struct qrun *q)
{
	run_done(q->run, q->failed ? CHECK_FAILED : CHECK_OK);
}

/* One slice of the walk, then the loop's turn (run_yield: a timer, not
 * event_active, so signals, timers and I/O run between slices). */
static void
on_step(struct check_run *run)
{
	struct qrun *q = run->state;

	slice_begin(q);
	do {
		switch (q->phase) {
		case P_SUBOPEN: p_subopen(q); break;
		case P_SUBREAD: p_subread(q); break;
		case P_GROUP: p_group(q); break;
		case P_CONFIRM: p_confirm(q); break;
		case P_FLATOPEN: p_flatopen(q); break;
		case P_FLAT: p_flat(q); break;
		case P_END:
			flat_close(q);
			emit_stats(q);
			shape_end(q);
			finish(q);
			return;
		}
	} while (!slice_over(q));
	if (run_yield(run, on_step) < 0) {
		q->failed = 1;
		finish(q);
	}
}

unsigned long
queue_lifetime(const struct conf *c)
{
	unsigned long v;
	char buf[32];

	if (control_read_line(c, "queuelifetime", buf, sizeof(buf)) == 1 &&
	    conf_parse_ulong("queuelifetime", buf, 0, 100000000, &v, &(struct conf_err){ 0 }) == 0)
		return v;
	return LIFETIME;
}

static void
queue_start(struct check_run *run)
{
	char path[PATH_MAX + 8];
	struct qrun *q = run->state;
	struct rlimit rl;
	struct stat st;
	unsigned d;

	q->qfd = -1;
	q->cachefd = -1;
	q->cinfd = -1;
	q->slfd = -1;
	for (d = 0; d < ND; d++)
		q->dfd[d] = -1;
	q->run = run;
	if (!(q->cand = calloc(MAXCAND, sizeof(*q->cand)))) {
		run_done(run, CHECK_FAILED);
		return;
	}
	q->now = time(NULL);
	clock_gettime(CLOCK_REALTIME, &q->start);
	/* file times come from the coarse clock (or are finer, later): a file
	 * changed after this has a ctime at or after it */
	clock_gettime(CLOCK_REALTIME_COARSE, &q->settled);
	q->lifetime = queue_lifetime(run->conf);
	/* what is left of the descriptors is for the other checks' sockets */
	q->ahead = QREADER_RING;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 16 < QREADER_RING)
		q->ahead = (size_t)(rl.rlim_cur / 16);
	lookup_ids(q);
	snprintf(path, sizeof(path), "%s/queue", run->conf->qmailhome);
	/* queue/ itself may be a symlink (a queue on another disk): followed */
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (errno == ENOENT || !S_ISDIR(st.st_mode))
			emit_missing(q, "");
		else
			emit_unreadable(q, "", errno);
		finish(q);
		return;
	}
	if (!owner_ok(q, &st, W_QMAILQ, 1) || (st.st_mode & 07777) != 0750) {
		struct finding f;

		finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL,
		    owner_ok(q, &st, W_QMAILQ, 1) ? EV_BADMODE : EV_BADOWNER);
		finding_add(&f, "path", "queue");
		finding_subject(&f);
		finding_addf(&f, "mode", "%04o", (unsigned)(st.st_mode & 07777));
		finding_addu(&f, "uid", st.st_uid);
		run_emit(run, &f);
	}
	if ((q->qfd = open_dir(AT_FDCWD, path)) < 0 && (q->qfd = open(path, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) < 0) {
		emit_unreadable(q, "", errno);
		finish(q);
		return;
	}
	q->cachefd = queue_cache_dir(run, EV_CACHE);
	q->haveshape = qshape_init(&q->shape, QSHAPE_SLOTS, q->now,
	    ((const struct queue_config *)run->config)->stuck_age) == 0;
	if (layout(q) < 0) {
		finish(q);
		return;
	}
	if (run_yield(run, sendlog_step) < 0) {
		q->failed = 1;
		finish(q);
	}
}

/* The message counts and ages are the light pass's (queuestats.c), which
 * measures them every minute; the walk's own figures are in its stats line. */
static const struct metric_family queue_metrics[] = {
	{ "qmail_queue_recipients", METRIC_GAUGE,
	    "Recipients of queued messages: pending or done.",
	    { "state", NULL }, NULL, "", PERF_NONE, 0 },
	{ "qmail_queue_destination_recipients", METRIC_GAUGE,
	    "Pending remote recipients by destination domain: the top MAINTD_QUEUE_TOPDOMAINS "
	    "and domain=\"other\".",
	    { "domain", NULL }, NULL, "", PERF_NONE, 0 },
	{ "qmail_queue_stuck_domains", METRIC_GAUGE,
	    "Destination domains whose oldest pending recipient is older than MAINTD_STUCK_AGE.",
	    { NULL, NULL }, NULL, "", PERF_NONE, 0 },
	{ NULL, 0, NULL, { NULL, NULL }, NULL, NULL, PERF_NONE, 0 }
};
enum { QM_RECIPIENTS, QM_DEST, QM_STUCK };

/* The numbers of the walk, when it got to the end. */
static void
queue_samples(const struct check_run *run, struct metrics *m)
{
	const struct qrun *q = run->state;
	unsigned i;

	if (!q->stats_done)
		return;
	metrics_set(m, &queue_metrics[QM_RECIPIENTS], "pending", NULL, (double)q->st.rcpt);
	metrics_set(m, &queue_metrics[QM_RECIPIENTS], "done", NULL, (double)q->st.done);
	if (!q->table)
		return;
	for (i = 0; i < q->table->n; i++)
		metrics_set(m, &queue_metrics[QM_DEST], q->table->rows[i].domain, NULL,
		    (double)q->table->rows[i].total);
	metrics_set(m, &queue_metrics[QM_DEST], "other", NULL, (double)q->table->rest.total);
	metrics_set(m, &queue_metrics[QM_STUCK], NULL, NULL, (double)q->nstuck);
}

const struct check check_queue = {
	.name = "queue",
	.interval = 0,
	.timeout = 900,
	.vars = queue_vars,
	.events = queue_events,
	.configure = queue_configure,
	.run_size = sizeof(struct qrun),
	.start = queue_start,
	.cleanup = queue_cleanup,
	.metrics = queue_metrics,
	.samples = queue_samples,
};
