/* The kmsg check: reads /dev/kmsg from where the last sweep stopped and
 * reports each crash of a watched program once. It reads in slices of
 * KMSG_CHUNK records and lets the event loop serve everything else between
 * them (run_yield). The parsing is in kmsg_parse.c; the crashes also go to
 * crashlog.h, and the service of a crash comes from there. */
#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "crashlog.h"
#include "metrics.h"
#include "safefile.h"

#define KMSG_DEFAULT_PROGS \
	"qmail-*,sendmail,splogger,tcp-env,bouncesaying,condredirect,datemail,elq," \
	"except,forward,maildir2mbox,maildirmake,maildirwatch,mailsubj,pinq,predate," \
	"preline,qail,qbiff,qreceipt,qsmhook,mailforward," \
	"tcpserver,tcpclient,tcprules,tcprulescheck,tcpcat,mconnect,mconnect-io," \
	"rblsmtpd,addcr,delcr,fixcrio,recordio,argv0," \
	"sslserver,sslclient,sslhandle,sslcat,sslconnect," \
	"svscan,svscanboot,supervise,svc,svok,svstat,readproctitle,multilog," \
	"tai64n,tai64nlocal,setuidgid,envuidgid,envdir,softlimit,setlock,fghack,pgrphack"

static const struct confvar var_progs = { "MAINTD_KMSG_PROGS", KMSG_DEFAULT_PROGS };
static const struct confvar var_backlog = { "MAINTD_KMSG_BACKLOG", "100" };
static const struct confvar var_loop = { "MAINTD_KMSG_LOOP", "5" };
static const struct confvar var_maxrec = { "MAINTD_KMSG_MAXREC", "100000" };
static const struct confvar var_device = { "MAINTD_KMSG_DEVICE", "/dev/kmsg" };
static const struct confvar var_fresh = { "MAINTD_KMSG_FRESH", "3600" };
static const struct confvar var_hold = { "MAINTD_KMSG_HOLD", "3600" };
static const struct confvar *const kmsg_vars[] = {
	&var_progs, &var_backlog, &var_loop, &var_maxrec, &var_device, &var_fresh, &var_hold, NULL
};

#define EV_CRASH	"crash"
#define EV_OOM		"oom-kill"
#define EV_LOOP		"crash-loop"
#define EV_SCANNED	"scanned"
#define EV_LOST		"lost-records"
#define EV_SUPPRESSED	"suppressed"
#define EV_UNAVAILABLE	"unavailable"
#define EV_OTHER	"other"
#define EV_BADCURSOR	"bad-cursor"
#define EV_CURSORFAIL	"cursor-failed"
#define EV_BACKLOG	"backlog-skipped"
#define EV_BADRECORD	"bad-record"
#define EV_HISTORY	"backlog"	/* the first run's old crashes, in one line */
#define EV_UNREADABLE	"unreadable"
static const char *const kmsg_events[] = {
	EV_CRASH, EV_OOM, EV_LOOP, EV_SCANNED, EV_LOST, EV_SUPPRESSED, EV_UNAVAILABLE,
	EV_OTHER, EV_BADCURSOR, EV_CURSORFAIL, EV_BACKLOG, EV_BADRECORD, EV_HISTORY,
	EV_UNREADABLE, NULL
};

#define KMSG_LOOP_WINDOW 3600
#define KMSG_CHUNK 512		/* reads per turn of the event loop, */
#define KMSG_CHUNK_BYTES 262144	/* or bytes (a device of large reads) */
#define KMSG_READBUF 16384	/* a record never exceeds 8 KiB; smaller reads fail */
#define KMSG_PENDING 8		/* records to wait for the CPU: line of a fatal signal */
#define KMSG_DUP_SEQ 64		/* a second line for the same pid within this is the same crash */
#define KMSG_RECHECK 64		/* crashes looked at for one read again */
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define KMSG_STATEFILE "kmsg.cursor"
#define KMSG_STATEMAX (4 << 20)	/* a larger state file is corrupt */
#define KMSG_HISTPROGS 32	/* program names in the backlog line */

static const struct metric_family kmsg_metrics[] = {
	{ .name = "qmail_kmsg_crashes_total", .type = METRIC_COUNTER,
	    .help = "Crashes of programs seen in the kernel log.", .label = { "prog", NULL },
	    /* perfdata without "c": in a -1 run (the only -N) the run's own crashes */
	    .perf = "kmsg_crashes", .uom = "", .how = PERF_SUM },
	{ .name = NULL }
};

struct kmsg_config {
	unsigned long backlog, loop, maxrec;
	unsigned long fresh, hold;	/* MAINTD_KMSG_FRESH, MAINTD_KMSG_HOLD */
	char device[256];
	char progs[];		/* MAINTD_KMSG_PROGS */
};

/* the last reported crash and OOM kill: the kernel may print two lines for one */
struct kmsg_last {
	char bootid[KMSG_BOOTID];
	long pid;
	unsigned long long seq;
};
static struct kmsg_last last_crash, last_oom;

/* crash lines of this run by program: the counter's samples */
struct kmsg_count {
	char prog[KMSG_NAME];
	unsigned long n;
};

/* A crash in the state: read by an earlier run (loaded), or by this one. */
struct kept {
	struct kmsg_crash c;
	int loaded;
};

struct kmsg_run {
	struct check_run *run;		/* NULL until start() set fd to -1 */
	const struct kmsg_config *cf;
	struct event *ev;		/* a FIFO's: readable again */
	int fd;
	int fifo;			/* the device is a FIFO: EAGAIN is not its end */
	int stream;			/* not /dev/kmsg (a file, a FIFO): records split at lines */
	size_t slen, soff;		/* bytes in sbuf; where its next line starts */
	int statefd;			/* MAINTD_STATE, open; -1: none (errno in state_err) */
	int state_err;
	time_t now;
	struct kept *kept;		/* a ring of at most KMSG_KEEP, the oldest at khead */
	size_t nkept, capkept, khead;
	unsigned long hist;		/* the first run's crashes older than MAINTD_KMSG_FRESH */
	long long hist_old, hist_new;
	unsigned nhistprogs, histmore;
	char histprogs[KMSG_HISTPROGS][KMSG_NAME];
	int pass;			/* 1: counting the backlog; 2: reporting */
	int fresh;			/* no cursor: the backlog limit applies */
	struct kmsg_cursor cur;
	char bootid[KMSG_BOOTID];
	struct kmsg_seq seq;
	unsigned long long top;		/* 1 + the highest seq in the buffer */
	unsigned long long prev;	/* the seq of the pass's last record */
	int have_prev;
	unsigned long counted;		/* records of this pass counted against MAXREC */
	unsigned long records, crashes, lost, suppressed, bad, skip, skipped, found;
	int more;
	time_t boot_wall;
	struct kmsg_last count_crash, count_oom;	/* pass 1's */
	struct kmsg_event pend;		/* a fatal signal waiting for its CPU: line */
	unsigned long long pend_seq, pend_usec;
	int pend_left;
	struct kmsg_count *counts;
	size_t ncounts, capcounts;
	char path[PATH_MAX + 32];
	char buf[KMSG_READBUF];
	char sbuf[KMSG_READBUF];
};

static void *
kmsg_configure(const struct conf *c, struct conf_err *err)
{
	const char *progs = conf_value(&var_progs), *dev = conf_value(&var_device), *why;
	unsigned long backlog, loop, maxrec, fresh, hold;
	struct kmsg_config *cf;
	size_t len = strlen(progs);

	(void)c;
	if (conf_ulong(&var_backlog, 0, 1000000, &backlog, err) < 0 ||
	    conf_ulong(&var_loop, 0, KMSG_KEEP, &loop, err) < 0 ||
	    conf_ulong(&var_maxrec, 1, 100000000, &maxrec, err) < 0 ||
	    conf_ulong(&var_fresh, 0, 100000000, &fresh, err) < 0 ||
	    conf_ulong(&var_hold, 0, 100000000, &hold, err) < 0)
		return NULL;
	if (kmsg_progs_valid(progs, &why) < 0) {
		conf_set_err(err, var_progs.name, progs, why);
		return NULL;
	}
	if (strlen(dev) >= sizeof(cf->device)) {
		conf_set_err(err, var_device.name, dev, "too-long");
		return NULL;
	}
	if (!(cf = calloc(1, sizeof(*cf) + len + 1))) {
		conf_set_err(err, var_progs.name, progs, "no-memory");
		return NULL;
	}
	cf->backlog = backlog;
	cf->loop = loop;
	cf->maxrec = maxrec;
	cf->fresh = fresh;
	cf->hold = hold;
	memcpy(cf->device, dev, strlen(dev) + 1);
	memcpy(cf->progs, progs, len + 1);
	return cf;
}

static void
kmsg_cleanup(struct check_run *run)
{
	struct kmsg_run *r = run->state;

	if (!r->run)	/* start() never ran */
		return;
	if (r->ev)
		event_free(r->ev);
	if (r->fd >= 0)
		close(r->fd);
	if (r->statefd >= 0)
		close(r->statefd);
	free(r->counts);
	free(r->kept);
}

/* Could not read the kernel log: one condition, cleared when it works again;
 * unreadable when not permitted (a -1 run as a user: could not look).
 * errnum 0: the boot id was short. */
static void
unavailable(struct kmsg_run *r, const char *what, int errnum)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL,
	    errnum == EACCES || errnum == EPERM ? EV_UNREADABLE : EV_UNAVAILABLE);
	finding_subject(&f);
	finding_add(&f, "path", what);
	if (errnum)
		finding_error(&f, errnum);
	else
		finding_add(&f, "reason", "short");
	run_emit(r->run, &f);
	run_done(r->run, CHECK_FAILED);
}

static void
note(struct kmsg_run *r, enum level level, const char *event, const char *key,
    unsigned long long val)
{
	struct finding f;

	finding_init(&f, level, FINDING_NOTE, NULL, event);
	finding_addu(&f, key, val);
	run_emit(r->run, &f);
}

static int
read_small(const char *path, char *buf, size_t size, size_t *len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* 0, or -1 with errno set (0: too short) */
static int
boot_id(char *out)
{
	char buf[64];
	size_t n;

	if (read_small(BOOT_ID_PATH, buf, sizeof(buf), &n) < 0)
		return -1;
	if (n < KMSG_BOOTID - 1) {
		errno = 0;
		return -1;
	}
	memcpy(out, buf, KMSG_BOOTID - 1);
	out[KMSG_BOOTID - 1] = 0;
	return 0;
}

/* The state directory, as the daemon checked it at start (safe_state_dir).
 * -1 and r->state_err when there is none (0: no persistent state). */
static void
state_open(struct kmsg_run *r)
{
	const char *dir = r->run->conf->state;

	snprintf(r->path, sizeof(r->path), "%s/%s", dir, KMSG_STATEFILE);
	r->statefd = -1;
	r->state_err = 0;
	if (dir[0] &&
	    (r->statefd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r->state_err = errno;
}

/* The crash of the nth oldest kept, n < nkept. */
static struct kept *
kept_get(struct kmsg_run *r, size_t n)
{
	return &r->kept[(r->khead + n) % r->capkept];
}

/* Keeps a crash for the state: the oldest goes when KMSG_KEEP are kept. */
static void
keep(struct kmsg_run *r, const struct kmsg_crash *c, int loaded)
{
	struct kept *v;
	size_t cap, i;

	if (r->nkept == r->capkept && r->capkept < KMSG_KEEP) {
		cap = r->capkept ? r->capkept * 2 : 16;
		if (cap > KMSG_KEEP)
			cap = KMSG_KEEP;
		if (!(v = malloc(cap * sizeof(*v))))
			return;
		for (i = 0; i < r->nkept; i++)
			v[i] = *kept_get(r, i);
		free(r->kept);
		r->kept = v;
		r->capkept = cap;
		r->khead = 0;
	}
	if (!r->capkept)
		return;
	if (r->nkept == r->capkept) {	/* full: the oldest slot is reused */
		v = &r->kept[r->khead];
		r->khead = (r->khead + 1) % r->capkept;
	} else
		v = kept_get(r, r->nkept++);
	v->c = *c;
	v->loaded = loaded;
}

static int
on_loaded(const struct kmsg_crash *c, void *arg)
{
	keep(arg, c, 1);
	return 0;
}

static void
bad_cursor(struct kmsg_run *r, const char *reason, int errnum, unsigned long long bytes)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_BADCURSOR);
	if (errnum)
		finding_error(&f, errnum);
	else {
		finding_add(&f, "reason", reason);
		finding_addu(&f, "bytes", bytes);
	}
	run_emit(r->run, &f);
}

/* The cursor and the kept crashes: only from a regular file of this user's
 * with one link. 1 loaded, 0 none (or unusable: reported). */
static int
state_load(struct kmsg_run *r)
{
	static const struct safe_want want = { .type = S_IFREG, .one_link = 1 };
	struct safe_want w = want;
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd, v;

	if (r->statefd < 0)
		return 0;
	if ((fd = safe_openat(r->statefd, KMSG_STATEFILE, O_RDONLY)) < 0) {
		if (errno != ENOENT)
			bad_cursor(r, NULL, errno, 0);
		return 0;
	}
	w.uid = (int)geteuid();
	if ((v = safe_check(fd, &w, &st)) != SAFE_OK) {
		if (v < 0)
			bad_cursor(r, NULL, errno, 0);
		else
			bad_cursor(r, v == SAFE_TYPE ? "not-a-file" : v == SAFE_OWNER ? "owner" : "links",
			    0, (unsigned long long)st.st_size);
		close(fd);
		return 0;
	}
	if (st.st_size > KMSG_STATEMAX || !(buf = malloc((size_t)st.st_size + 1))) {
		bad_cursor(r, "corrupt", 0, (unsigned long long)st.st_size);
		close(fd);
		return 0;
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bad_cursor(r, NULL, errno, 0);
			free(buf);
			close(fd);
			return 0;
		}
		len += (size_t)n;
	}
	close(fd);
	if (kmsg_state_parse(buf, len, &r->cur, on_loaded, r) < 0) {
		bad_cursor(r, "corrupt", 0, len);
		r->nkept = r->khead = 0;
		free(buf);
		return 0;
	}
	free(buf);
	return 1;
}

/* The cursor and the crashes still of use (within MAINTD_KMSG_HOLD or the
 * crash-loop window): an exclusive temporary file in the state directory,
 * fsync'ed, renamed over the old one, the directory fsync'ed. 0, or -1 (errno). */
static int
state_save(struct kmsg_run *r)
{
	long long keep_from = (long long)r->now - (long long)(r->cf->hold > KMSG_LOOP_WINDOW ?
	    r->cf->hold : KMSG_LOOP_WINDOW);
	size_t i, n, len, cap = 4096;
	char *buf, *nb;
	struct kept *k;
	int e;

	if (r->statefd < 0) {
		errno = r->state_err;
		return r->state_err ? -1 : 0;
	}
	if (!(buf = malloc(cap)))
		return -1;
	len = kmsg_cursor_format(&r->cur, buf, cap);
	for (i = 0; i < r->nkept; i++) {
		k = kept_get(r, i);
		if (k->c.at < keep_from)
			continue;
		if (cap - len < 4096) {
			if (!(nb = realloc(buf, cap * 2))) {
				free(buf);
				errno = ENOMEM;
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		if ((n = kmsg_crash_format(&k->c, buf + len, cap - len)))
			len += n;
	}
	if (safe_replace(r->statefd, KMSG_STATEFILE, buf, len, 0600) < 0) {
		e = errno;
		free(buf);
		errno = e;
		return -1;
	}
	free(buf);
	fsync(r->statefd);
	return 0;
}

static void
boot_time(struct finding *f, unsigned long long usec)
{
	finding_addf(f, "boot_time", "%llu.%06llu", usec / 1000000, usec % 1000000);
}

/* Already said: the same pid again right after (segfault and fatal-signal lines). */
static int
duplicate(struct kmsg_run *r, long pid, unsigned long long seq, struct kmsg_last *last)
{
	if (pid >= 0 && pid == last->pid && strcmp(last->bootid, r->bootid) == 0 &&
	    seq > last->seq && seq - last->seq <= KMSG_DUP_SEQ)
		return 1;
	memcpy(last->bootid, r->bootid, sizeof(last->bootid));
	last->pid = pid;
	last->seq = seq;
	return 0;
}

/* Read again (the cursor could not be saved): already in the crashlog? */
static int
known_crash(const struct crash *k)
{
	const struct crash *c;
	unsigned i;

	for (i = 0; i < KMSG_RECHECK && (c = crashlog_get(i)); i++)
		if (c->seq == k->seq && c->pid == k->pid && strcmp(c->prog, k->prog) == 0)
			return 1;
	return 0;
}

static void
remember(const char *prog, const struct kmsg_event *ev, unsigned long long seq, time_t when,
    int oom, const char *service)
{
	struct crash c;
	size_t n = strnlen(prog, sizeof(c.prog) - 1);	/* cut to fit, on purpose */

	memset(&c, 0, sizeof(c));
	memcpy(c.prog, prog, n);
	c.pid = ev->pid;
	c.signal = ev->signal;
	c.oom = oom;
	c.when = when;
	c.seq = seq;
	if (strlen(service) < sizeof(c.service))
		memcpy(c.service, service, strlen(service) + 1);
	if (!known_crash(&c))
		crashlog_add(&c);
}

/* One more crash line of prog, for the counter. */
static void
count_crash(struct kmsg_run *r, const char *prog)
{
	struct kmsg_count *v;
	size_t i;

	for (i = 0; i < r->ncounts; i++)
		if (strcmp(r->counts[i].prog, prog) == 0) {
			r->counts[i].n++;
			return;
		}
	if (r->ncounts == r->capcounts) {
		size_t cap = r->capcounts ? r->capcounts * 2 : 8;

		if (!(v = realloc(r->counts, cap * sizeof(*v))))
			return;
		r->counts = v;
		r->capcounts = cap;
	}
	v = &r->counts[r->ncounts++];
	snprintf(v->prog, sizeof(v->prog), "%s", prog);
	v->n = 1;
}

/* debug kmsg: other: with its boot_time, so a reused pid's line is told apart */
static void
other(struct kmsg_run *r, const struct kmsg_event *ev, unsigned long long usec)
{
	char sig[16];
	struct finding f;

	if (!r->run->verbose || r->pass != 2)
		return;
	finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, EV_OTHER);
	finding_add(&f, "prog", ev->comm);
	if (ev->pid >= 0)
		finding_addi(&f, "pid", ev->pid);
	finding_add(&f, "signal", kmsg_signame(ev->signal, sig, sizeof(sig)));
	if (ev->file[0])
		finding_add(&f, "file", ev->file);
	boot_time(&f, usec);
	run_emit(r->run, &f);
}

/* Seconds the crash stays active from now: MAINTD_KMSG_HOLD from its time. */
static unsigned long
hold_left(const struct kmsg_run *r, const struct kmsg_crash *c)
{
	long long left = c->at + (long long)r->cf->hold - (long long)r->now;

	return left > 0 ? (unsigned long)left : 0;
}

/* crit kmsg: crash|oom-kill ...: an event, active for MAINTD_KMSG_HOLD from
 * the crash's time. again: read by an earlier run (of another process). */
static void
emit_crash(struct kmsg_run *r, const struct kmsg_crash *c, int again)
{
	char sig[16];
	struct finding f;

	finding_init(&f, LEVEL_CRIT, FINDING_EVENT, NULL, c->oom ? EV_OOM : EV_CRASH);
	finding_add(&f, "prog", c->prog);
	if (c->pid >= 0)
		finding_addi(&f, "pid", c->pid);
	if (!c->oom) {
		finding_add(&f, "signal", kmsg_signame(c->signal, sig, sizeof(sig)));
		if (c->addr[0])
			finding_add(&f, "addr", c->addr);
		if (c->ip[0])
			finding_add(&f, "ip", c->ip);
		if (c->error[0])
			finding_add(&f, "error", c->error + (strncmp(c->error, "0x", 2) ? 0 : 2));
		if (c->file[0])
			finding_add(&f, "file", c->file);
	}
	finding_addi(&f, "at", c->at);
	boot_time(&f, c->usec);
	finding_addu(&f, "seq", c->seq);
	finding_subject(&f);
	if (c->service[0])	/* after the subject: not part of it */
		finding_add(&f, "service", c->service);
	if (again)
		finding_addu(&f, "again", 1);
	f.hold = hold_left(r, c);
	run_emit(r->run, &f);
}

/* One more of the first run's crashes older than MAINTD_KMSG_FRESH. */
static void
history(struct kmsg_run *r, const struct kmsg_crash *c)
{
	unsigned i;

	if (!r->hist++ || c->at < r->hist_old)
		r->hist_old = c->at;
	if (r->hist == 1 || c->at > r->hist_new)
		r->hist_new = c->at;
	for (i = 0; i < r->nhistprogs; i++)
		if (strcmp(r->histprogs[i], c->prog) == 0)
			return;
	if (r->nhistprogs == KMSG_HISTPROGS) {
		r->histmore++;
		return;
	}
	snprintf(r->histprogs[r->nhistprogs++], KMSG_NAME, "%s", c->prog);
}

/* A watched crash or OOM kill (k filled but for reported): pass 1 counts
 * what pass 2 would report; pass 2 reports it, or sums it up (older than
 * MAINTD_KMSG_FRESH on the first run), or skips it (beyond
 * MAINTD_KMSG_BACKLOG), and keeps it for the state either way. */
static void
found(struct kmsg_run *r, struct kmsg_crash *k)
{
	int old = r->fresh && (long long)r->now - k->at > (long long)r->cf->fresh;

	if (r->pass == 1) {
		r->found += !old;
		return;
	}
	if (old)
		history(r, k);
	else if (r->skip) {
		r->skip--;
		r->skipped++;
	} else {
		k->reported = 1;
		emit_crash(r, k, 0);
		if (!k->oom)
			count_crash(r, k->prog);
	}
	keep(r, k, 0);
}

static void
crash(struct kmsg_run *r, const struct kmsg_event *ev, unsigned long long seq,
    unsigned long long usec)
{
	char prog[KMSG_NAME], service[PATH_MAX + 8] = "";
	time_t when = r->boot_wall + (time_t)(usec / 1000000);
	struct kmsg_crash k;

	if (duplicate(r, ev->pid, seq, r->pass == 1 ? &r->count_crash : &last_crash))
		return;
	if (!kmsg_prog_match(r->cf->progs, ev->comm, ev->file, prog, sizeof(prog))) {
		other(r, ev, usec);
		return;
	}
	memset(&k, 0, sizeof(k));
	if (r->pass == 2) {
		r->crashes++;
		/* the supervised service that restarts it, as the svc check saw it */
		if (crashlog_service_of(prog, ev->pid, when, service, sizeof(service)) &&
		    strlen(service) < sizeof(k.service))
			memcpy(k.service, service, strlen(service) + 1);
		remember(prog, ev, seq, when, 0, service);
	}
	snprintf(k.prog, sizeof(k.prog), "%s", prog);
	k.pid = ev->pid;
	k.signal = ev->signal;
	memcpy(k.addr, ev->addr, sizeof(k.addr));
	memcpy(k.ip, ev->ip, sizeof(k.ip));
	memcpy(k.error, ev->error, sizeof(k.error));
	memcpy(k.file, ev->file, sizeof(k.file));
	k.at = (long long)when;
	k.usec = usec;
	k.seq = seq;
	found(r, &k);
}

static void
oom(struct kmsg_run *r, const struct kmsg_event *ev, unsigned long long seq,
    unsigned long long usec)
{
	time_t when = r->boot_wall + (time_t)(usec / 1000000);
	char prog[KMSG_NAME];
	struct kmsg_crash k;

	if (duplicate(r, ev->pid, seq, r->pass == 1 ? &r->count_oom : &last_oom))
		return;
	if (!kmsg_prog_match(r->cf->progs, ev->comm, "", prog, sizeof(prog)))
		return;
	if (r->pass == 2)
		remember(prog, ev, seq, when, 1, "");
	memset(&k, 0, sizeof(k));
	snprintf(k.prog, sizeof(k.prog), "%s", prog);
	k.pid = ev->pid;
	k.signal = 9;
	k.oom = 1;
	k.at = (long long)when;
	k.usec = usec;
	k.seq = seq;
	found(r, &k);
}

static void
pend_flush(struct kmsg_run *r)
{
	if (r->pend_left) {
		r->pend_left = 0;
		crash(r, &r->pend, r->pend_seq, r->pend_usec);
	}
}

/* One record read. Every one counts against MAINTD_KMSG_MAXREC but those
 * before the cursor in rising order: the buffer read again up to it. */
static void
record(struct kmsg_run *r, const char *buf, size_t len)
{
	struct kmsg_record rec;
	struct kmsg_event ev;
	long long lost;
	int rising;

	if (kmsg_parse_record(buf, len, &rec) < 0) {
		r->counted++;
		r->bad += r->pass == 2;
		return;
	}
	if (rec.seq >= r->top)
		r->top = rec.seq + 1;
	rising = !r->have_prev || rec.seq > r->prev;
	r->prev = rec.seq;
	r->have_prev = 1;
	if ((lost = kmsg_seq_step(&r->seq, rec.seq)) < 0) {
		r->counted += !rising;
		return;
	}
	r->counted++;
	if (r->pass == 2)
		r->lost += (unsigned long long)lost;
	r->records++;
	if (rec.prio >> 3 != 0)		/* written by user space, not the kernel */
		return;
	kmsg_classify(rec.text, rec.len, &ev);
	if (r->pend_left) {
		if (ev.kind == KMSG_REGS && (!r->pend.comm[0] ||
		    strncmp(r->pend.comm, ev.comm, KMSG_COMM) == 0)) {
			r->pend.pid = ev.pid;
			memcpy(r->pend.comm, ev.comm, sizeof(ev.comm));
			pend_flush(r);
		} else if (--r->pend_left == 0)
			crash(r, &r->pend, r->pend_seq, r->pend_usec);
	}
	switch (ev.kind) {
	case KMSG_CRASH:
		if (ev.pid < 0) {	/* a fatal-signal line: the pid comes later */
			pend_flush(r);
			r->pend = ev;
			r->pend_seq = rec.seq;
			r->pend_usec = rec.usec;
			r->pend_left = KMSG_PENDING;
		} else
			crash(r, &ev, rec.seq, rec.usec);
		break;
	case KMSG_OOM:
		oom(r, &ev, rec.seq, rec.usec);
		break;
	case KMSG_SUPPRESSED:
		if (r->pass == 2)
			r->suppressed += ev.count;
		break;
	default:
		break;
	}
}

/* Programs that crashed at least MAINTD_KMSG_LOOP times within the window,
 * counted from the kept crashes: those of earlier runs too, also of earlier
 * -1 runs, through the state. */
static void
crash_loops(struct kmsg_run *r)
{
	long long since = (long long)r->now - KMSG_LOOP_WINDOW;
	const struct kmsg_crash *c, *d;
	size_t i, j, n = r->nkept;
	unsigned long count;
	struct finding f;

	if (!r->cf->loop)
		return;
	for (i = n; i-- > 0;) {		/* newest first: one line per program */
		c = &kept_get(r, i)->c;
		if (c->oom || c->at < since)
			continue;
		for (j = i + 1; j < n; j++) {
			d = &kept_get(r, j)->c;
			if (!d->oom && d->at >= since && strcmp(d->prog, c->prog) == 0)
				break;
		}
		if (j < n)
			continue;	/* counted with its newer crash */
		for (count = 0, j = 0; j <= i; j++) {
			d = &kept_get(r, j)->c;
			count += !d->oom && d->at >= since && strcmp(d->prog, c->prog) == 0;
		}
		if (count < r->cf->loop)
			continue;
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_LOOP);
		finding_add(&f, "prog", c->prog);
		finding_subject(&f);
		finding_addu(&f, "count", count);
		finding_addu(&f, "window", KMSG_LOOP_WINDOW);
		run_emit(r->run, &f);
	}
}

/* The crashes earlier runs reported, still within MAINTD_KMSG_HOLD: active
 * again (a daemon that saw them says nothing; a new process logs them once,
 * with again=1). */
static void
held(struct kmsg_run *r)
{
	struct kept *k;
	size_t i;

	for (i = 0; i < r->nkept; i++) {
		k = kept_get(r, i);
		if (k->loaded && k->c.reported && hold_left(r, &k->c) > 0)
			emit_crash(r, &k->c, 1);
	}
}

/* info kmsg: backlog crashes=N progs=A,B oldest=T newest=T */
static void
say_history(struct kmsg_run *r)
{
	char progs[KMSG_HISTPROGS * 24];
	struct finding f;
	size_t n = 0;
	unsigned i;

	if (!r->hist)
		return;
	for (i = 0; i < r->nhistprogs && n < sizeof(progs); i++)
		n += (size_t)snprintf(progs + n, sizeof(progs) - n, "%s%s", i ? "," : "",
		    r->histprogs[i]);
	if (r->histmore && n < sizeof(progs))
		snprintf(progs + n, sizeof(progs) - n, ",+%u", r->histmore);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_HISTORY);
	finding_addu(&f, "crashes", r->hist);
	finding_add(&f, "progs", progs);
	finding_addi(&f, "oldest", r->hist_old);
	finding_addi(&f, "newest", r->hist_new);
	run_emit(r->run, &f);
}

static void
report(struct kmsg_run *r)
{
	struct finding f;

	pend_flush(r);
	held(r);
	crash_loops(r);
	say_history(r);
	if (r->lost)
		note(r, LEVEL_WARN, EV_LOST, "count", r->lost);
	if (r->suppressed)
		note(r, LEVEL_WARN, EV_SUPPRESSED, "count", r->suppressed);
	if (r->skipped) {
		finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_BACKLOG);
		finding_addu(&f, "count", r->skipped);
		finding_addu(&f, "limit", r->cf->backlog);
		run_emit(r->run, &f);
	}
	if (r->bad) {	/* a condition: records that never parse are read every run */
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_BADRECORD);
		finding_subject(&f);
		finding_addu(&f, "count", r->bad);
		run_emit(r->run, &f);
	}
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_SCANNED);
	finding_addu(&f, "records", r->records);
	finding_addu(&f, "crashes", r->crashes);
	if (r->seq.next)
		finding_addu(&f, "seq", r->seq.next - 1);
	if (r->more)
		finding_addu(&f, "more", 1);
	run_emit(r->run, &f);
}

/* The end of the run: its report, the state, run_done. */
static void
done(struct kmsg_run *r)
{
	struct finding f;
	int e;

	if (r->top && r->seq.next > r->top) {
		/* a cursor past the end of this boot's log would skip what comes */
		finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_BADCURSOR);
		finding_add(&f, "reason", "ahead");
		finding_addu(&f, "seq", r->seq.next);
		run_emit(r->run, &f);
		r->seq.next = r->top;
	}
	report(r);
	r->cur.next = r->seq.next;
	if (state_save(r) < 0) {
		e = errno;
		/* a condition: said once, cleared by the first run that saves */
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_CURSORFAIL);
		finding_add(&f, "path", r->path);
		finding_subject(&f);
		finding_error(&f, e);
		run_emit(r->run, &f);
		run_done(r->run, CHECK_FAILED);
		return;
	}
	run_done(r->run, CHECK_OK);
}

/* kmsg_test_source(): records from memory instead of the device */
static struct {
	const char *const *rec;
	unsigned n, at;
} test_src;

void
kmsg_test_source(const char *const *records, unsigned n)
{
	test_src.rec = records;
	test_src.n = n;
	test_src.at = 0;
}

static int
device_open(struct kmsg_run *r)
{
	struct stat st;

	if (r->ev) {
		event_free(r->ev);
		r->ev = NULL;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fifo = r->stream = 0;
	r->slen = r->soff = 0;
	if (test_src.rec) {
		test_src.at = 0;
		return r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	/* O_NONBLOCK: /dev/kmsg says EAGAIN at its end; a FIFO opens without a writer */
	if ((r->fd = open(r->cf->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
	    fstat(r->fd, &st) == 0) {
		r->fifo = S_ISFIFO(st.st_mode);
		r->stream = !S_ISCHR(st.st_mode);
	}
	return r->fd;
}

/* A file or a FIFO of records (tests, a saved log): one line per record,
 * the continuation lines (" KEY=VALUE") skipped. Like device_read. At most
 * one read(2) a call: a buffer of continuation lines only is EINTR, which
 * kmsg_slice counts as a step, so a file of them cannot hold the loop. */
static ssize_t
stream_read(struct kmsg_run *r)
{
	char *p, *nl;
	size_t n;
	ssize_t got;
	int reads = 0;

	for (;;) {
		p = r->sbuf + r->soff;
		while ((nl = memchr(p, '\n', r->slen - r->soff))) {
			n = (size_t)(nl - p) + 1;
			r->soff += n;
			if (*p != ' ') {
				memcpy(r->buf, p, n);
				return (ssize_t)n;
			}
			p = nl + 1;
		}
		if (r->soff) {		/* the start of a line to the front */
			memmove(r->sbuf, r->sbuf + r->soff, r->slen - r->soff);
			r->slen -= r->soff;
			r->soff = 0;
		}
		if (r->slen == sizeof(r->sbuf)) {	/* a line longer than a record */
			n = r->slen;
			memcpy(r->buf, r->sbuf, n);
			r->slen = 0;
			return (ssize_t)n;
		}
		if (reads++) {
			errno = EINTR;
			return -1;
		}
		if ((got = read(r->fd, r->sbuf + r->slen, sizeof(r->sbuf) - r->slen)) > 0) {
			r->slen += (size_t)got;
			continue;
		}
		if (got < 0 || !r->slen)
			return got;
		n = r->slen;	/* the last line, without its newline */
		memcpy(r->buf, r->sbuf, n);
		r->slen = 0;
		if (r->buf[0] != ' ')
			return (ssize_t)n;
	}
}

/* One record per call, like read(2) on /dev/kmsg. */
static ssize_t
device_read(struct kmsg_run *r)
{
	const char *rec;
	size_t n;

	if (!test_src.rec)
		return r->stream ? stream_read(r) : read(r->fd, r->buf, sizeof(r->buf));
	if (test_src.at >= test_src.n) {
		errno = EAGAIN;
		return -1;
	}
	rec = test_src.rec[test_src.at++];
	if (strcmp(rec, "EPIPE") == 0) {
		errno = EPIPE;
		return -1;
	}
	n = strlen(rec) < sizeof(r->buf) ? strlen(rec) : sizeof(r->buf);
	memcpy(r->buf, rec, n);
	return (ssize_t)n;
}

/* The end of the buffer in pass 1: how many to skip, then read it again. */
static int
pass_two(struct kmsg_run *r)
{
	r->skip = r->found > r->cf->backlog ? r->found - r->cf->backlog : 0;
	r->found = r->records = r->counted = 0;
	r->have_prev = 0;
	r->pend_left = 0;
	r->seq.next = 0;
	r->seq.known = 0;
	r->pass = 2;
	return device_open(r);
}

static void kmsg_slice(struct check_run *);

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kmsg_slice(arg);
}

/* A FIFO with nothing to read yet: its next bytes, or its writer's close. */
static int
wait_readable(struct kmsg_run *r)
{
	if (!r->ev && !(r->ev = event_new(r->run->base, r->fd, EV_READ, on_readable, r->run)))
		return -1;
	return event_add(r->ev, NULL);
}

/* Up to KMSG_CHUNK records (or KMSG_CHUNK_BYTES), then the event loop
 * serves the rest of the world before the next slice: signals, timers, the
 * run's time limit. */
static void
kmsg_slice(struct check_run *run)
{
	struct kmsg_run *r = run->state;
	size_t bytes = 0;
	unsigned i;
	ssize_t n;
	int bound;

	for (i = 0; i < KMSG_CHUNK && bytes < KMSG_CHUNK_BYTES; i++) {
		if ((bound = r->counted >= r->cf->maxrec)) {
			if (r->pass == 2) {
				r->more = 1;
				done(r);
				return;
			}
			n = -1, errno = EAGAIN;	/* pass 1: as if at the end */
		} else
			n = device_read(r);
		if (n > 0) {
			record(r, r->buf, (size_t)n);
			bytes += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;	/* EPIPE: overwritten; the seq gap counts them */
		if (n < 0 && errno != EAGAIN) {
			unavailable(r, r->cf->device, errno);
			return;
		}
		if (n < 0 && r->fifo && !bound) {
			if (wait_readable(r) < 0)
				run_done(run, CHECK_FAILED);
			return;
		}
		if (r->pass == 2) {
			done(r);
			return;
		}
		if (pass_two(r) < 0) {
			unavailable(r, r->cf->device, errno);
			return;
		}
	}
	if (run_yield(run, kmsg_slice) < 0)
		run_done(run, CHECK_FAILED);
}

static time_t
boot_wall(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);	/* printk's clock stops in suspend, too */
	return rt.tv_sec - mono.tv_sec - (rt.tv_nsec < mono.tv_nsec);
}

static void
kmsg_start(struct check_run *run)
{
	struct kmsg_run *r = run->state;
	int have;

	r->fd = -1;
	r->statefd = -1;
	r->run = run;
	r->cf = run->config;
	r->now = time(NULL);
	r->boot_wall = boot_wall();
	if (boot_id(r->bootid) < 0) {
		unavailable(r, BOOT_ID_PATH, errno);
		return;
	}
	state_open(r);
	have = state_load(r);
	if (have && strcmp(r->cur.bootid, r->bootid) != 0)
		r->seq.known = 1;	/* rebooted: the new boot's buffer from seq 0 */
	else if (have) {
		r->seq.next = r->cur.next;
		r->seq.known = 1;
	} else
		r->fresh = 1;
	memcpy(r->cur.bootid, r->bootid, sizeof(r->cur.bootid));
	r->pass = r->fresh ? 1 : 2;
	if (device_open(r) < 0) {
		unavailable(r, r->cf->device, errno);
		return;
	}
	if (run_yield(run, kmsg_slice) < 0)
		run_done(run, CHECK_FAILED);
}

struct zero_ctx {
	struct metrics *m;
};

/* A watched name that is not a pattern: its counter exists from the start,
 * at 0, so that increase() sees its first crash. */
static int
zero_prog(const char *item, size_t len, void *arg)
{
	struct zero_ctx *z = arg;
	char name[KMSG_NAME];

	if (len < sizeof(name) && !memchr(item, '*', len)) {
		memcpy(name, item, len);
		name[len] = 0;
		metrics_add(z->m, &kmsg_metrics[0], name, NULL, 0);
	}
	return 0;
}

static void
kmsg_samples(const struct check_run *run, struct metrics *m)
{
	const struct kmsg_run *r = run->state;
	const struct kmsg_config *cf = run->config;
	struct zero_ctx z = { m };
	size_t i;

	conf_list(cf->progs, zero_prog, &z);
	for (i = 0; i < r->ncounts; i++)
		metrics_add(m, &kmsg_metrics[0], r->counts[i].prog, NULL, (double)r->counts[i].n);
}

const struct check check_kmsg = {
	.name = "kmsg",
	.interval = 60,
	.timeout = 60,
	.vars = kmsg_vars,
	.events = kmsg_events,
	.configure = kmsg_configure,
	.run_size = sizeof(struct kmsg_run),
	.start = kmsg_start,
	.cleanup = kmsg_cleanup,
	.metrics = kmsg_metrics,
	.samples = kmsg_samples,
};
