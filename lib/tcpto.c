#include "tcpto.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "metrics.h"
#include "safefile.h"
#include "tcpto_table.h"

static const struct confvar var_maxage = { "MAINTD_TCPTO_MAXAGE", "7200" };
static const struct confvar var_prune = { "MAINTD_TCPTO_PRUNE", "1" };
static const struct confvar *const tcpto_vars[] = { &var_maxage, &var_prune, NULL };

static const char *const tcpto_events[] = {
	TCPTO_EV_TABLE, TCPTO_EV_ENTRY, TCPTO_EV_PRUNED, TCPTO_EV_FULL, TCPTO_EV_FUTURE,
	TCPTO_EV_UNKNOWN, TCPTO_EV_MISSING, TCPTO_EV_NOTFILE, TCPTO_EV_OWNER,
	TCPTO_EV_MODE, TCPTO_EV_UNREADABLE, TCPTO_EV_LOCKBUSY, TCPTO_EV_WAITED,
	TCPTO_EV_WRITEFAIL, NULL
};

struct tcpto_config {
	unsigned long maxage;	/* MAINTD_TCPTO_MAXAGE */
	int prune;		/* MAINTD_TCPTO_PRUNE */
	int have_owner;		/* TCPTO_OWNER exists: its uid */
	uid_t owner;
};

struct tcpto_run {
	struct check_run *run;	/* NULL until start() set fd to -1 */
	const struct tcpto_config *cf;
	struct event *timer;
	int fd;
	int may_write;		/* pruning on, owner and mode as qmail made them */
	unsigned tries;
	int table;		/* the table finding was emitted: used and pruned are known */
	unsigned used, pruned;
	char path[PATH_MAX + 32];
};

#ifdef LOCK_EX
/* qmail's lock_ex where flock exists (Linux, the BSDs). On Linux flock and
 * fcntl/lockf locks do not see each other, so it must be flock, which any
 * descriptor of the file takes. */
#define TCPTO_LOCK_RW 0
static int
tcpto_trylock(int fd)
{
	return flock(fd, LOCK_EX | LOCK_NB);
}
#else
/* qmail's lock_ex without flock is lockf(fd, F_LOCK, 0) at offset 0, which
 * needs a descriptor open for writing even when only reading. */
#define TCPTO_LOCK_RW 1
static int
tcpto_trylock(int fd)
{
	return lockf(fd, F_TLOCK, 0);
}
#endif

/* Both variables are validated before anything is returned: a bad one
 * leaves the previous configuration whole. */
static void *
tcpto_configure(const struct conf *c, struct conf_err *err)
{
	unsigned long maxage, prune;
	struct tcpto_config *cf;
	struct passwd *pw;

	(void)c;
	/* a shorter age would clear hosts qmail-remote may still be skipping */
	if (conf_ulong(&var_maxage, TCPTO_WINDOW, 0x7fffffffUL, &maxage, err) < 0 ||
	    conf_ulong(&var_prune, 0, 1, &prune, err) < 0)
		return NULL;
	if (!(cf = calloc(1, sizeof(*cf)))) {
		conf_set_err(err, var_maxage.name, "", "no-memory");
		return NULL;
	}
	cf->maxage = maxage;
	cf->prune = prune != 0;
	if ((cf->have_owner = (pw = getpwnam(TCPTO_OWNER)) != NULL))
		cf->owner = pw->pw_uid;
	return cf;
}

/* warn tcpto: EVENT file=PATH, the fields still to add */
static void
file_finding(struct finding *f, const struct tcpto_run *r, const char *event)
{
	finding_init(f, LEVEL_WARN, FINDING_STATE, NULL, event);
	finding_add(f, "file", r->path);
	finding_subject(f);
}

/* warn tcpto: unreadable file=PATH op=OP error=ENAME; the run could not check */
static void
fail_unreadable(struct tcpto_run *r, const char *op, int errnum)
{
	struct finding f;

	file_finding(&f, r, TCPTO_EV_UNREADABLE);
	finding_add(&f, "op", op);
	if (errnum)
		finding_error(&f, errnum);
	else
		finding_add(&f, "reason", "no-timer");
	run_emit(r->run, &f);
	run_done(r->run, CHECK_FAILED);
}

static void
tcpto_cleanup(struct check_run *run)
{
	struct tcpto_run *r = run->state;

	if (!r->run)	/* start() never got to set fd */
		return;
	if (r->timer)
		event_free(r->timer);
	if (r->fd >= 0)
		close(r->fd);	/* releases the lock */
}

static void
add_addr(struct finding *f, const struct tcpto_rec *rec)
{
	char a[TCPTO_ADDRSTR];

	finding_addn(f, "ip", a, tcpto_addr_format(rec, a, sizeof(a)));
}

static void
emit_entries(struct check_run *run, const struct tcpto_table *t, time_t now)
{
	struct finding f;
	unsigned i;

	if (!run->verbose)
		return;
	for (i = 0; i < t->slots; i++) {
		const struct tcpto_rec *rec = &t->rec[i];

		if (rec->empty || !rec->count)
			continue;
		finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, TCPTO_EV_ENTRY);
		add_addr(&f, rec);
		finding_addu(&f, "timeouts", rec->count);
		finding_addi(&f, "age", tcpto_age(rec, now));
		finding_add(&f, "skipped", tcpto_skipped(rec, now) ? "yes" : "no");
		run_emit(run, &f);
	}
}

static void
emit_pruned(struct check_run *run, const struct tcpto_rec *rec, time_t now)
{
	struct finding f;

	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, TCPTO_EV_PRUNED);
	add_addr(&f, rec);
	finding_addu(&f, "timeouts", rec->count);
	finding_addi(&f, "age", tcpto_age(rec, now));
	run_emit(run, &f);
}

static void
emit_summary(struct tcpto_run *r, const struct tcpto_table *t, time_t now, unsigned pruned)
{
	struct check_run *run = r->run;
	unsigned i, used = 0, skipped = 0;
	struct finding f;

	for (i = 0; i < t->slots; i++) {
		const struct tcpto_rec *rec = &t->rec[i];

		used += !rec->empty && rec->count > 0;
		skipped += tcpto_skipped(rec, now);
		if (!tcpto_future(rec, now))
			continue;
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TCPTO_EV_FUTURE);
		add_addr(&f, rec);
		finding_subject(&f);
		finding_addu(&f, "timeouts", rec->count);
		finding_addi(&f, "ahead", -tcpto_age(rec, now));
		run_emit(run, &f);
	}
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, TCPTO_EV_TABLE);
	finding_add(&f, "layout", tcpto_layout_name(t->layout));
	/* zeros tell no layout, so no number of slots */
	if (t->layout != TCPTO_EMPTY)
		finding_addu(&f, "slots", t->slots);
	finding_addu(&f, "used", used);
	finding_addu(&f, "skipped", skipped);
	finding_addu(&f, "pruned", pruned);
	run_emit(run, &f);
	r->table = 1;
	r->used = used;
	r->pruned = pruned;
	if (t->layout != TCPTO_EMPTY && used == t->slots) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TCPTO_EV_FULL);
		finding_addu(&f, "slots", t->slots);
		finding_subject(&f);
		run_emit(run, &f);
	}
}

static void
emit_unknown(struct check_run *run, long long size)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TCPTO_EV_UNKNOWN);
	finding_addi(&f, "size", size);
	finding_subject(&f);
	run_emit(run, &f);
}

/* Each stale record alone, at its offset: qmail-remote may own the rest. */
static unsigned
write_pruned(struct tcpto_run *r, const unsigned char *buf, struct tcpto_table *t,
    const struct tcpto_table *orig, unsigned char pruned[TCPTO_MAXSLOTS])
{
	unsigned i, n = 0;
	int failed = 0;
	ssize_t w;
	off_t off;

	for (i = 0; i < t->slots; i++) {
		if (!pruned[i])
			continue;
		off = (off_t)(i * t->reclen);
		if (!failed && (w = pwrite(r->fd, buf + off, t->reclen, off)) != (ssize_t)t->reclen) {
			struct finding f;

			failed = 1;
			file_finding(&f, r, TCPTO_EV_WRITEFAIL);
			if (w < 0)
				finding_error(&f, errno);
			else
				finding_add(&f, "reason", "short-write");
			run_emit(r->run, &f);
		}
		if (failed) {
			pruned[i] = 0;
			t->rec[i] = orig->rec[i];
			continue;
		}
		n++;
	}
	return n;
}

/* Under the lock: read, decide, write the stale records, report. */
static void
tcpto_locked(struct tcpto_run *r)
{
	unsigned char buf[TCPTO_SIZE + 1], pruned[TCPTO_MAXSLOTS] = { 0 };
	struct tcpto_table t, orig;
	time_t now = time(NULL);
	struct stat st;
	size_t len = 0;
	ssize_t n;
	unsigned i, npruned = 0;

	/* one byte more than the table: a file that grew is not a table */
	while (len < sizeof(buf) && (n = pread(r->fd, buf + len, sizeof(buf) - len,
	    (off_t)len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail_unreadable(r, "read", errno);
			return;
		}
		len += (size_t)n;
	}
	if (tcpto_decode(buf, len, &t) == TCPTO_UNKNOWN) {
		if (len > TCPTO_SIZE && fstat(r->fd, &st) == 0)
			len = (size_t)st.st_size;	/* it grew since start */
		emit_unknown(r->run, (long long)len);
		run_done(r->run, CHECK_OK);
		return;
	}
	orig = t;
	if (r->may_write && tcpto_prune(buf, &t, now, r->cf->maxage, pruned))
		npruned = write_pruned(r, buf, &t, &orig, pruned);
	close(r->fd);
	r->fd = -1;
	emit_entries(r->run, &orig, now);
	for (i = 0; i < orig.slots; i++)
		if (pruned[i])
			emit_pruned(r->run, &orig.rec[i], now);
	emit_summary(r, &t, now, npruned);
	run_done(r->run, CHECK_OK);
}

static void tcpto_lock(struct tcpto_run *);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tcpto_lock(arg);
}

/* Never a blocking wait: qmail-remote holds the lock for one record write,
 * so a few LOCK_NB attempts suffice; else the next run tries again. */
static void
tcpto_lock(struct tcpto_run *r)
{
	struct timeval tv = { 0, TCPTO_LOCK_MS * 1000 };
	struct finding f;

	if (tcpto_trylock(r->fd) == 0) {
		if (r->tries && r->run->verbose) {
			finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, TCPTO_EV_WAITED);
			finding_addu(&f, "tries", r->tries + 1);
			run_emit(r->run, &f);
		}
		tcpto_locked(r);
		return;
	}
	if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EACCES && errno != EINTR) {
		fail_unreadable(r, "lock", errno);
		return;
	}
	if (++r->tries >= TCPTO_LOCK_TRIES) {
		file_finding(&f, r, TCPTO_EV_LOCKBUSY);
		finding_addu(&f, "tries", r->tries);
		run_emit(r->run, &f);
		run_done(r->run, CHECK_FAILED);
		return;
	}
	/* a timer 10 ms ahead, not run_yield: qmail-remote needs the time */
	if ((!r->timer && !(r->timer = evtimer_new(r->run->base, on_retry, r))) ||
	    evtimer_add(r->timer, &tv) < 0)
		fail_unreadable(r, "lock", 0);
}

/* Mode as qmail's install makes it (0644); if not, something else has been
 * at the file, and it is not written. */
static int
tcpto_mode_ok(struct tcpto_run *r, const struct stat *st)
{
	struct finding f;

	if ((st->st_mode & 0600) != 0600 || (st->st_mode & 07022)) {
		file_finding(&f, r, TCPTO_EV_MODE);
		finding_addf(&f, "mode", "%04o", (unsigned)(st->st_mode & 07777));
		finding_add(&f, "want", "0644");
		run_emit(r->run, &f);
		return 0;
	}
	return 1;
}

/* warn tcpto: not-a-file file=PATH type=TYPE [links=N]: left alone */
static void
not_a_file(struct tcpto_run *r, const char *path, const struct stat *st)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TCPTO_EV_NOTFILE);
	finding_add(&f, "file", path);
	finding_subject(&f);
	finding_add(&f, "type", safe_type_name(st->st_mode));
	if (S_ISREG(st->st_mode))
		finding_addu(&f, "links", (unsigned long long)st->st_nlink);
	run_emit(r->run, &f);
	run_done(r->run, CHECK_OK);
}

/* One component of queue/lock/tcpto, opened in dir without following a
 * link. -1 when the run ended (a finding says why). */
static int
open_part(struct tcpto_run *r, int dir, const char *name, int flags, const char *path)
{
	struct stat st;
	int fd, e;

	if ((fd = safe_openat(dir, name, flags)) >= 0)
		return fd;
	e = errno;
	/* a symbolic link (ELOOP) or a file where a directory should be (ENOTDIR) */
	if ((e == ELOOP || e == ENOTDIR) && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(st.st_mode)) {
		not_a_file(r, path, &st);
		return -1;
	}
	if (e == ENOENT) {
		run_emit_about(r->run, LEVEL_WARN, TCPTO_EV_MISSING, "file", r->path, 0);
		run_done(r->run, CHECK_OK);
	} else
		fail_unreadable(r, "open", e);
	return -1;
}

/* The write descriptor, only for the file already checked on fd (the same
 * inode): -1 if it cannot be had (a run as another user), or is another file. */
static int
reopen_rw(int lockdir, const struct stat *was)
{
	struct stat st;
	int fd;

	if ((fd = safe_openat(lockdir, "tcpto", O_RDWR)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_dev != was->st_dev || st.st_ino != was->st_ino ||
	    !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != was->st_uid) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* queue/ belongs to qmailq and queue/lock/tcpto to qmailr: nothing below
 * QMAILHOME is followed if it is a link; the table is read only when it is
 * qmailr's regular file with one link, and opened for writing only then. */
static void
tcpto_start(struct check_run *run)
{
	struct tcpto_run *r = run->state;
	const struct tcpto_config *cf;
	char part[sizeof(r->path)];
	int home, queue, lock, fd, wfd;
	struct stat st;
	struct finding f;
	int mode_ok;

	r->fd = -1;
	r->run = run;
	r->cf = cf = run->config;
	snprintf(r->path, sizeof(r->path), "%s/queue/lock/tcpto", run->conf->qmailhome);
	if ((home = open(run->conf->qmailhome, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fail_unreadable(r, "open", errno);
		return;
	}
	snprintf(part, sizeof(part), "%s/queue", run->conf->qmailhome);
	queue = open_part(r, home, "queue", O_RDONLY | O_DIRECTORY, part);
	close(home);
	if (queue < 0)
		return;
	snprintf(part, sizeof(part), "%s/queue/lock", run->conf->qmailhome);
	lock = open_part(r, queue, "lock", O_RDONLY | O_DIRECTORY, part);
	close(queue);
	if (lock < 0)
		return;
	/* read-only first: a FIFO opens without blocking, nothing is truncated;
	 * r is gone once open_part has ended the run */
	if ((fd = open_part(r, lock, "tcpto", O_RDONLY, r->path)) < 0)
		goto out;
	r->fd = fd;
	if (fstat(r->fd, &st) < 0) {
		fail_unreadable(r, "stat", errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		not_a_file(r, r->path, &st);
		goto out;
	}
	/* anyone else's file is neither read nor written: its bytes could be
	 * anyone's (a root-only file, hard-linked there) */
	if (!cf->have_owner || st.st_uid != cf->owner) {
		file_finding(&f, r, TCPTO_EV_OWNER);
		finding_addu(&f, "uid", (unsigned long)st.st_uid);
		if (cf->have_owner)
			finding_addu(&f, "want", (unsigned long)cf->owner);
		else
			finding_add(&f, "want", "none");
		run_emit(run, &f);
		run_done(run, CHECK_OK);
		goto out;
	}
	mode_ok = tcpto_mode_ok(r, &st);
	if (st.st_size != TCPTO_SIZE) {
		emit_unknown(run, (long long)st.st_size);
		run_done(run, CHECK_OK);
		goto out;
	}
	/* not root nor qmailr: the table is listed and not pruned */
	if ((mode_ok && cf->prune) || TCPTO_LOCK_RW) {
		if ((wfd = reopen_rw(lock, &st)) >= 0) {
			close(r->fd);
			r->fd = wfd;
			r->may_write = mode_ok && cf->prune;
		} else if (TCPTO_LOCK_RW) {
			fail_unreadable(r, "lock", errno);
			goto out;
		}
	}
	close(lock);
	tcpto_lock(r);
	return;
out:
	close(lock);
}

static const struct metric_family tcpto_metrics[] = {
	{ "qmail_tcpto_entries", METRIC_GAUGE, "Used entries of the tcpto table.",
	    { NULL, NULL }, "tcpto_entries", "", PERF_FIRST, 0 },
	{ "qmail_tcpto_pruned_total", METRIC_COUNTER, "tcpto entries pruned.",
	    { NULL, NULL }, NULL, "", PERF_NONE, 0 },
	{ NULL, 0, NULL, { NULL, NULL }, NULL, NULL, PERF_NONE, 0 }
};

/* The table finding's numbers: only a run that read a table has them (an
 * add of 0 still makes the counter's sample). */
static void
tcpto_samples(const struct check_run *run, struct metrics *m)
{
	const struct tcpto_run *r = run->state;

	if (!r->table)
		return;
	metrics_set(m, &tcpto_metrics[0], NULL, NULL, r->used);
	metrics_add(m, &tcpto_metrics[1], NULL, NULL, r->pruned);
}

const struct check check_tcpto = {
	.name = "tcpto",
	.interval = 600,
	.timeout = 10,
	.vars = tcpto_vars,
	.events = tcpto_events,
	.configure = tcpto_configure,
	.run_size = sizeof(struct tcpto_run),
	.start = tcpto_start,
	.cleanup = tcpto_cleanup,
	.metrics = tcpto_metrics,
	.samples = tcpto_samples,
};
