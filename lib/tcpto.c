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

static struct {
	unsigned long maxage;
	unsigned long prune;
	int have_owner;
	uid_t owner;
} cf = { 7200, 1, 0, 0 };

struct tcpto_run {
	struct sweep *sw;
	struct event *timer;
	int fd;
	int may_write;		/* pruning on, owner and mode as qmail made them */
	unsigned tries;
	char path[PATH_MAX + 32];
};

#ifdef LOCK_EX
/* qmail's lock_ex where flock exists (Linux, the BSDs). On Linux flock and
 * fcntl/lockf locks do not see each other, so it must be flock. */
#define TCPTO_RDONLY O_RDONLY
static int
tcpto_trylock(int fd)
{
	return flock(fd, LOCK_EX | LOCK_NB);
}
#else
/* qmail's lock_ex without flock is lockf(fd, F_LOCK, 0) at offset 0, which
 * needs a descriptor open for writing even when only reading. */
#define TCPTO_RDONLY O_RDWR
static int
tcpto_trylock(int fd)
{
	return lockf(fd, F_TLOCK, 0);
}
#endif

static int
tcpto_configure(const struct conf *c, struct conf_err *err)
{
	struct passwd *pw;

	(void)c;
	/* a shorter age would clear hosts qmail-remote may still be skipping */
	if (conf_ulong(&var_maxage, TCPTO_WINDOW, 0x7fffffffUL, &cf.maxage, err) < 0 ||
	    conf_ulong(&var_prune, 0, 1, &cf.prune, err) < 0)
		return -1;
	if ((cf.have_owner = (pw = getpwnam(TCPTO_OWNER)) != NULL))
		cf.owner = pw->pw_uid;
	return 0;
}

static void
emit_file(struct tcpto_run *r, enum level level, const char *event,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct finding f;

	finding_init(&f, level, FINDING_STATE, NULL, event);
	finding_add(&f, "file", r->path);
	finding_subject(&f);
	if (k1)
		finding_add(&f, k1, v1);
	if (k2)
		finding_add(&f, k2, v2);
	sweep_emit(r->sw, &f);
}

static void
run_free(struct tcpto_run *r)
{
	r->sw->data = NULL;
	if (r->timer)
		event_free(r->timer);
	if (r->fd >= 0)
		close(r->fd);	/* releases the lock */
	free(r);
}

static void
run_end(struct tcpto_run *r, enum check_status st)
{
	struct sweep *sw = r->sw;

	run_free(r);
	sweep_done(sw, st);
}

static void
add_addr(struct finding *f, const struct tcpto_rec *rec)
{
	char a[TCPTO_ADDRSTR];

	finding_addn(f, "ip", a, tcpto_addr_format(rec, a, sizeof(a)));
}

static void
emit_entries(struct sweep *sw, const struct tcpto_table *t, time_t now)
{
	struct finding f;
	unsigned i;

	if (!sw->verbose)
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
		sweep_emit(sw, &f);
	}
}

static void
emit_pruned(struct sweep *sw, const struct tcpto_rec *rec, time_t now)
{
	struct finding f;

	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, TCPTO_EV_PRUNED);
	add_addr(&f, rec);
	finding_addu(&f, "timeouts", rec->count);
	finding_addi(&f, "age", tcpto_age(rec, now));
	sweep_emit(sw, &f);
}

static void
emit_summary(struct sweep *sw, const struct tcpto_table *t, time_t now, unsigned pruned)
{
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
		sweep_emit(sw, &f);
	}
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, TCPTO_EV_TABLE);
	finding_add(&f, "layout", tcpto_layout_name(t->layout));
	finding_addu(&f, "slots", t->slots);
	finding_addu(&f, "used", used);
	finding_addu(&f, "skipped", skipped);
	finding_addu(&f, "pruned", pruned);
	sweep_emit(sw, &f);
	if (used == t->slots) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TCPTO_EV_FULL);
		finding_addu(&f, "slots", t->slots);
		finding_subject(&f);
		sweep_emit(sw, &f);
	}
}

static void
emit_unknown(struct sweep *sw, long long size)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TCPTO_EV_UNKNOWN);
	finding_addi(&f, "size", size);
	finding_subject(&f);
	sweep_emit(sw, &f);
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
			failed = 1;
			emit_file(r, LEVEL_WARN, TCPTO_EV_WRITEFAIL, "error",
			    w < 0 ? strerror(errno) : "short write", NULL, NULL);
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
			emit_file(r, LEVEL_WARN, TCPTO_EV_UNREADABLE, "op", "read",
			    "error", strerror(errno));
			run_end(r, CHECK_FAILED);
			return;
		}
		len += (size_t)n;
	}
	if (tcpto_decode(buf, len, &t) == TCPTO_UNKNOWN) {
		if (len > TCPTO_SIZE && fstat(r->fd, &st) == 0)
			len = (size_t)st.st_size;	/* it grew since start */
		emit_unknown(r->sw, (long long)len);
		run_end(r, CHECK_OK);
		return;
	}
	orig = t;
	if (r->may_write && tcpto_prune(buf, &t, now, cf.maxage, pruned))
		npruned = write_pruned(r, buf, &t, &orig, pruned);
	close(r->fd);
	r->fd = -1;
	emit_entries(r->sw, &orig, now);
	for (i = 0; i < orig.slots; i++)
		if (pruned[i])
			emit_pruned(r->sw, &orig.rec[i], now);
	emit_summary(r->sw, &t, now, npruned);
	run_end(r, CHECK_OK);
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
 * so a few LOCK_NB attempts suffice; else the next sweep tries again. */
static void
tcpto_lock(struct tcpto_run *r)
{
	struct timeval tv = { 0, TCPTO_LOCK_MS * 1000 };
	char tries[16];

	if (tcpto_trylock(r->fd) == 0) {
		if (r->tries && r->sw->verbose) {
			struct finding f;

			finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, TCPTO_EV_WAITED);
			finding_addu(&f, "tries", r->tries + 1);
			sweep_emit(r->sw, &f);
		}
		tcpto_locked(r);
		return;
	}
	if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EACCES && errno != EINTR) {
		emit_file(r, LEVEL_WARN, TCPTO_EV_UNREADABLE, "op", "lock", "error",
		    strerror(errno));
		run_end(r, CHECK_FAILED);
		return;
	}
	if (++r->tries >= TCPTO_LOCK_TRIES) {
		snprintf(tries, sizeof(tries), "%u", r->tries);
		emit_file(r, LEVEL_WARN, TCPTO_EV_LOCKBUSY, "tries", tries, NULL, NULL);
		run_end(r, CHECK_FAILED);
		return;
	}
	if ((!r->timer && !(r->timer = evtimer_new(r->sw->base, on_retry, r))) ||
	    evtimer_add(r->timer, &tv) < 0) {
		emit_file(r, LEVEL_WARN, TCPTO_EV_UNREADABLE, "op", "lock", "error",
		    "no timer");
		run_end(r, CHECK_FAILED);
	}
}

/* Owner and mode as qmail's install makes them (qmailr, 0644); if not,
 * something else has been at the file, and it is not written. */
static int
tcpto_perms(struct tcpto_run *r, const struct stat *st)
{
	char a[32], b[32];
	int ok = 1;

	if (!cf.have_owner || st->st_uid != cf.owner) {
		snprintf(a, sizeof(a), "%lu", (unsigned long)st->st_uid);
		if (cf.have_owner)
			snprintf(b, sizeof(b), "%lu", (unsigned long)cf.owner);
		else
			snprintf(b, sizeof(b), "none");
		emit_file(r, LEVEL_WARN, TCPTO_EV_OWNER, "uid", a, "want", b);
		ok = 0;
	}
	if ((st->st_mode & 0600) != 0600 || (st->st_mode & 07022)) {
		snprintf(a, sizeof(a), "%04o", (unsigned)(st->st_mode & 07777));
		emit_file(r, LEVEL_WARN, TCPTO_EV_MODE, "mode", a, "want", "0644");
		ok = 0;
	}
	return ok;
}

static void
tcpto_start(struct sweep *sw)
{
	struct tcpto_run *r;
	struct stat st;
	int flags;

	if (!(r = calloc(1, sizeof(*r)))) {
		sweep_done(sw, CHECK_FAILED);
		return;
	}
	r->sw = sw;
	r->fd = -1;
	sw->data = r;
	snprintf(r->path, sizeof(r->path), "%s/queue/lock/tcpto", sw->conf->qmailhome);
	/* O_NONBLOCK: a FIFO in its place must not hang the loop in open() */
	flags = (cf.prune ? O_RDWR : TCPTO_RDONLY) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if ((r->fd = open(r->path, flags)) < 0) {
		if (errno == ENOENT) {
			emit_file(r, LEVEL_WARN, TCPTO_EV_MISSING, NULL, NULL, NULL, NULL);
			run_end(r, CHECK_OK);
		} else {
			emit_file(r, LEVEL_WARN, TCPTO_EV_UNREADABLE, "op", "open", "error",
			    strerror(errno));
			run_end(r, CHECK_FAILED);
		}
		return;
	}
	if (fstat(r->fd, &st) < 0) {
		emit_file(r, LEVEL_WARN, TCPTO_EV_UNREADABLE, "op", "stat", "error",
		    strerror(errno));
		run_end(r, CHECK_FAILED);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		emit_file(r, LEVEL_WARN, TCPTO_EV_NOTFILE, NULL, NULL, NULL, NULL);
		run_end(r, CHECK_OK);
		return;
	}
	r->may_write = tcpto_perms(r, &st) && cf.prune;
	if (st.st_size != TCPTO_SIZE) {
		emit_unknown(sw, (long long)st.st_size);
		run_end(r, CHECK_OK);
		return;
	}
	tcpto_lock(r);
}

static void
tcpto_cancel(struct sweep *sw)
{
	if (sw->data)
		run_free(sw->data);
}

const struct check check_tcpto = {
	.name = "tcpto",
	.interval = 600,
	.timeout = 10,
	.vars = tcpto_vars,
	.events = tcpto_events,
	.configure = tcpto_configure,
	.start = tcpto_start,
	.cancel = tcpto_cancel,
};
