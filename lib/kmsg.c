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
static const struct confvar *const kmsg_vars[] = {
	&var_progs, &var_backlog, &var_loop, &var_maxrec, &var_device, NULL
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
static const char *const kmsg_events[] = {
	EV_CRASH, EV_OOM, EV_LOOP, EV_SCANNED, EV_LOST, EV_SUPPRESSED, EV_UNAVAILABLE,
	EV_OTHER, EV_BADCURSOR, EV_CURSORFAIL, EV_BACKLOG, EV_BADRECORD, NULL
};

#define KMSG_LOOP_WINDOW 3600
#define KMSG_CHUNK 512		/* reads per turn of the event loop, */
#define KMSG_CHUNK_BYTES 262144	/* or bytes (a device of large reads) */
#define KMSG_READBUF 16384	/* a record never exceeds 8 KiB; smaller reads fail */
#define KMSG_PENDING 8		/* records to wait for the CPU: line of a fatal signal */
#define KMSG_DUP_SEQ 64		/* a second line for the same pid within this is the same crash */
#define KMSG_RECHECK 64		/* crashes looked at for one read again */
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static const struct metric_family kmsg_metrics[] = {
	{ .name = "qmail_kmsg_crashes_total", .type = METRIC_COUNTER,
	    .help = "Crashes of programs seen in the kernel log.", .label = { "prog", NULL },
	    .perf = "kmsg_crashes", .uom = "c", .how = PERF_SUM },
	{ .name = NULL }
};

struct kmsg_config {
	unsigned long backlog, loop, maxrec;
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

struct kmsg_run {
	struct check_run *run;		/* NULL until start() set fd to -1 */
	const struct kmsg_config *cf;
	struct event *ev;		/* a FIFO's: readable again */
	int fd;
	int fifo;			/* the device is a FIFO: EAGAIN is not its end */
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
};

static void *
kmsg_configure(const struct conf *c, struct conf_err *err)
{
	const char *progs = conf_value(&var_progs), *dev = conf_value(&var_device), *why;
	unsigned long backlog, loop, maxrec;
	struct kmsg_config *cf;
	size_t len = strlen(progs);

	(void)c;
	if (conf_ulong(&var_backlog, 0, 1000000, &backlog, err) < 0 ||
	    conf_ulong(&var_loop, 0, CRASHLOG_RING, &loop, err) < 0 ||
	    conf_ulong(&var_maxrec, 1, 100000000, &maxrec, err) < 0)
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
	free(r->counts);
}

/* Could not read the kernel log: one condition, cleared when it works again.
 * errnum 0: the boot id was short. */
static void
unavailable(struct kmsg_run *r, const char *what, int errnum)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_UNAVAILABLE);
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

/* 1 loaded, 0 none (or corrupt: reported). */
static int
cursor_load(struct kmsg_run *r)
{
	struct finding f;
	char buf[128];
	size_t n;

	snprintf(r->path, sizeof(r->path), "%s/kmsg.cursor", r->run->conf->state);
	if (read_small(r->path, buf, sizeof(buf), &n) < 0) {
		if (errno != ENOENT) {
			finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_BADCURSOR);
			finding_error(&f, errno);
			run_emit(r->run, &f);
		}
		return 0;
	}
	if (kmsg_cursor_parse(buf, n, &r->cur) < 0) {
		finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_BADCURSOR);
		finding_add(&f, "reason", "corrupt");
		finding_addu(&f, "bytes", n);
		run_emit(r->run, &f);
		return 0;
	}
	return 1;
}

/* Atomically: a temporary file, fsync, rename, fsync of the directory. */
static int
cursor_save(struct kmsg_run *r)
{
	char tmp[sizeof(r->path) + 8], line[128];
	size_t n = kmsg_cursor_format(&r->cur, line, sizeof(line));
	int fd, e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", r->path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	errno = EIO;	/* for a short write */
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, r->path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	if ((fd = open(r->run->conf->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
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

static void
other(struct kmsg_run *r, const struct kmsg_event *ev)
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
	run_emit(r->run, &f);
}

/* A watched crash or OOM kill to report? Counts it; 0 in pass 1 or backlog. */
static int
to_report(struct kmsg_run *r)
{
	r->found++;
	if (r->pass == 1)
		return 0;
	if (r->skip) {
		r->skip--;
		r->skipped++;
		return 0;
	}
	return 1;
}

static void
crash(struct kmsg_run *r, const struct kmsg_event *ev, unsigned long long seq,
    unsigned long long usec)
{
	char prog[KMSG_NAME], sig[16], service[PATH_MAX + 8] = "";
	time_t when = r->boot_wall + (time_t)(usec / 1000000);
	int has_service = 0;
	struct finding f;

	if (duplicate(r, ev->pid, seq, r->pass == 1 ? &r->count_crash : &last_crash))
		return;
	if (!kmsg_prog_match(r->cf->progs, ev->comm, ev->file, prog, sizeof(prog))) {
		other(r, ev);
		return;
	}
	if (r->pass == 2) {
		r->crashes++;
		/* the supervised service that restarts it, as the svc check saw it */
		has_service = crashlog_service_of(prog, ev->pid, when, service, sizeof(service));
		remember(prog, ev, seq, when, 0, service);
	}
	if (!to_report(r))
		return;
	finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_CRASH);
	finding_add(&f, "prog", prog);
	if (ev->pid >= 0)
		finding_addi(&f, "pid", ev->pid);
	finding_add(&f, "signal", kmsg_signame(ev->signal, sig, sizeof(sig)));
	if (ev->addr[0])
		finding_add(&f, "addr", ev->addr);
	if (ev->ip[0])
		finding_add(&f, "ip", ev->ip);
	if (ev->error[0])
		finding_add(&f, "error", ev->error + 2);	/* as printed, without 0x */
	if (ev->file[0])
		finding_add(&f, "file", ev->file);
	boot_time(&f, usec);
	finding_addu(&f, "seq", seq);
	finding_subject(&f);
	if (has_service)	/* after the subject: not part of it */
		finding_add(&f, "service", service);
	run_emit(r->run, &f);
	count_crash(r, prog);
}

static void
oom(struct kmsg_run *r, const struct kmsg_event *ev, unsigned long long seq,
    unsigned long long usec)
{
	char prog[KMSG_NAME];
	struct finding f;

	if (duplicate(r, ev->pid, seq, r->pass == 1 ? &r->count_oom : &last_oom))
		return;
	if (!kmsg_prog_match(r->cf->progs, ev->comm, "", prog, sizeof(prog)))
		return;
	if (r->pass == 2)
		remember(prog, ev, seq, r->boot_wall + (time_t)(usec / 1000000), 1, "");
	if (!to_report(r))
		return;
	finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_OOM);
	finding_add(&f, "prog", prog);
	finding_addi(&f, "pid", ev->pid);
	boot_time(&f, usec);
	finding_addu(&f, "seq", seq);
	finding_subject(&f);
	run_emit(r->run, &f);
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

/* Programs that crashed at least MAINTD_KMSG_LOOP times within the window. */
static void
crash_loops(struct kmsg_run *r)
{
	time_t since = time(NULL) - KMSG_LOOP_WINDOW;
	unsigned i, j, n = crashlog_count(), count;
	const struct crash *c, *d;
	struct finding f;

	if (!r->cf->loop)
		return;
	for (i = 0; i < n; i++) {
		c = crashlog_get(i);
		if (c->oom || c->when < since)
			continue;
		for (j = 0; j < i; j++) {
			d = crashlog_get(j);
			if (!d->oom && d->when >= since && strcmp(d->prog, c->prog) == 0)
				break;
		}
		if (j < i)
			continue;	/* counted with its newer crash */
		for (count = 0, j = i; j < n; j++) {
			d = crashlog_get(j);
			count += !d->oom && d->when >= since && strcmp(d->prog, c->prog) == 0;
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

static void
report(struct kmsg_run *r)
{
	struct finding f;

	pend_flush(r);
	crash_loops(r);
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
	if (r->bad)
		note(r, LEVEL_WARN, EV_BADRECORD, "count", r->bad);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_SCANNED);
	finding_addu(&f, "records", r->records);
	finding_addu(&f, "crashes", r->crashes);
	if (r->seq.next)
		finding_addu(&f, "seq", r->seq.next - 1);
	if (r->more)
		finding_addu(&f, "more", 1);
	run_emit(r->run, &f);
}

/* The end of the run: its report, the cursor, run_done. */
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
	if (cursor_save(r) < 0) {
		e = errno;
		finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_CURSORFAIL);
		finding_add(&f, "path", r->path);
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
	r->fifo = 0;
	if (test_src.rec) {
		test_src.at = 0;
		return r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	/* O_NONBLOCK: /dev/kmsg says EAGAIN at its end; a FIFO opens without a writer */
	if ((r->fd = open(r->cf->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
	    fstat(r->fd, &st) == 0)
		r->fifo = S_ISFIFO(st.st_mode);
	return r->fd;
}

/* One record per call, like read(2) on /dev/kmsg. */
static ssize_t
device_read(struct kmsg_run *r)
{
	const char *rec;
	size_t n;

	if (!test_src.rec)
		return read(r->fd, r->buf, sizeof(r->buf));
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
	r->run = run;
	r->cf = run->config;
	r->boot_wall = boot_wall();
	if (boot_id(r->bootid) < 0) {
		unavailable(r, BOOT_ID_PATH, errno);
		return;
	}
	have = cursor_load(r);
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

static void
kmsg_samples(const struct check_run *run, struct metrics *m)
{
	const struct kmsg_run *r = run->state;
	size_t i;

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
