/* The kmsg check's runs over records from memory (kmsg_test_source): the
 * cursor, the backlog, lost records, fatal-signal dumps, duplicates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "crashlog.h"
#include "kmsg.h"
#include "logline.h"
#include "metrics.h"

static struct conf conf;
static char out[65536];
static size_t outlen;
static int status;
static struct metrics *metrics;	/* the runs' samples, when set */

static long long last_at;	/* at= of the last crash line */
static enum finding_kind kind_of_bad, kind_of_cursorfail;
static unsigned long last_hold;
static enum finding_kind last_kind;

/* The line, with at=SECONDS written at=T (it depends on the boot time) */
static void
on_emit(struct check_run *run, const struct finding *f)
{
	struct logline l;
	size_t n = logline_finding(&l, f);
	char *at = strstr(l.buf, " at="), *end;

	(void)run;
	if (strcmp(f->event, "bad-record") == 0)
		kind_of_bad = f->kind;
	if (strcmp(f->event, "cursor-failed") == 0)
		kind_of_cursorfail = f->kind;
	if (at) {
		last_at = strtoll(at + 4, &end, 10);
		last_hold = f->hold;
		last_kind = f->kind;
		memmove(at + 5, end, (size_t)(l.buf + n - end) + 1);
		at[4] = 'T';
		n -= (size_t)(end - at - 5);
	}
	if (outlen + n < sizeof(out)) {
		memcpy(out + outlen, l.buf, n);
		outlen += n;
		out[outlen] = 0;
	}
}

/* as the daemon's runner does: the samples, then the release */
static void
on_done(struct check_run *run, enum check_status st)
{
	status = st;
	if (metrics)
		check_kmsg.samples(run, metrics);
	check_run_release(run);
	event_base_loopbreak(run->base);
}

/* One run over the records; the lines it logged are in out. */
static int
run(const char *const *rec, unsigned n)
{
	struct event_base *base = event_base_new();
	struct check_run r;
	struct conf_err err;
	void *config;

	assert_non_null(config = check_kmsg.configure(&conf, &err));
	assert_int_equal(check_run_init(&r, &check_kmsg, base, &conf, config), 0);
	r.verbose = 1;
	r.emit_fn = on_emit;
	r.done_fn = on_done;
	outlen = 0;
	out[0] = 0;
	status = -1;
	kmsg_test_source(rec, n);
	check_kmsg.start(&r);
	if (status < 0)
		event_base_dispatch(base);
	assert_null(r.state);
	event_base_free(base);
	free(config);
	return status;
}

static int
has(const char *line)
{
	return strstr(out, line) != NULL;
}

static unsigned
lines(const char *what)
{
	const char *p = out;
	unsigned n = 0;

	while ((p = strstr(p, what))) {
		n++;
		p++;
	}
	return n;
}

#define RUN(recs) run(recs, sizeof(recs) / sizeof(recs[0]))

static int
setup(void **state)
{
	char dir[] = "/tmp/test_kmsg_run.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf.state, sizeof(conf.state), "%s", dir);
	unsetenv("MAINTD_KMSG_BACKLOG");
	unsetenv("MAINTD_KMSG_LOOP");
	unsetenv("MAINTD_KMSG_MAXREC");
	unsetenv("MAINTD_KMSG_PROGS");
	unsetenv("MAINTD_KMSG_DEVICE");
	/* the records say 1 s after boot: with the default, a host up for more
	 * than an hour would sum them up; hold 0: nothing is reported again */
	setenv("MAINTD_KMSG_FRESH", "100000000", 1);
	setenv("MAINTD_KMSG_HOLD", "0", 1);
	crashlog_clear();
	return 0;
}

static void
unlink_cursor(void)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/kmsg.cursor", conf.state);
	unlink(path);
}

static int
teardown(void **state)
{
	(void)state;
	unlink_cursor();
	rmdir(conf.state);
	kmsg_test_source(NULL, 0);
	return 0;
}

#define SEGV(seq, prog, pid) \
	"6," #seq ",1000000,-;" prog "[" #pid "]: segfault at 0 ip 0000000000401000 " \
	"sp 00007ffc00000000 error 4 in " prog "[1000,401000+1000] likely on CPU 0 (core 0, socket 0)\n"

static void
backlog_cursor_lost(void **state)
{
	static const char *const first[] = {
		SEGV(10, "qmail-remote", 1), SEGV(11, "not-qmail", 9), SEGV(12, "qmail-remote", 2),
		"6,13,1000000,-;Code: 48 89 45\n", SEGV(14, "qmail-remote", 3),
		"12,15,1000000,-;" "qmail-smtpd[77]: segfault at 0 ip 1 sp 2 error 4\n",	/* user space */
	};
	static const char *const second[] = {
		SEGV(10, "qmail-remote", 1), SEGV(14, "qmail-remote", 3),	/* before the cursor */
		"EPIPE", SEGV(20, "tcpserver", 4),			/* 16..19 overwritten */
		"6,21,1,-;show_signal_msg: 12 callbacks suppressed\n",
		"garbage", SEGV(22, "tcpserver", 5),
	};

	(void)state;
	setenv("MAINTD_KMSG_BACKLOG", "2", 1);
	assert_non_null(metrics = metrics_new());
	assert_int_equal(metrics_register(metrics, check_kmsg.metrics), 0);
	assert_int_equal(RUN(first), CHECK_OK);
	assert_false(has("pid=1 "));
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=2 signal=SIGSEGV addr=0x0 ip=0x401000 "
	    "error=4 file=qmail-remote at=T boot_time=1.000000 seq=12\n"));
	assert_int_equal(last_kind, FINDING_EVENT);
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=3 "));
	assert_true(has("debug kmsg: other prog=not-qmail pid=9 signal=SIGSEGV file=not-qmail boot_time=1.000000\n"));
	assert_true(has("warn kmsg: backlog-skipped count=1 limit=2\n"));
	assert_false(has("pid=77"));
	assert_true(has("info kmsg: scanned records=6 crashes=3 seq=15\n"));
	assert_false(has("lost-records"));

	assert_int_equal(RUN(second), CHECK_OK);
	assert_int_equal(lines("crit kmsg: crash "), 2);
	assert_true(has("crash prog=tcpserver pid=4 "));
	assert_true(has("crash prog=tcpserver pid=5 "));
	assert_true(has("warn kmsg: lost-records count=4\n"));
	assert_true(has("warn kmsg: suppressed count=12\n"));
	assert_true(has("warn kmsg: bad-record count=1\n"));
	assert_true(has("info kmsg: scanned records=3 crashes=2 seq=22\n"));
	assert_false(has("backlog"));
	/* one for each crash line, by prog, across the runs */
	{
		size_t len;
		char *t = metrics_text(metrics, &len);

		assert_non_null(t);
		assert_non_null(strstr(t, "# TYPE qmail_kmsg_crashes_total counter\n"));
		assert_non_null(strstr(t, "qmail_kmsg_crashes_total{prog=\"qmail-remote\"} 2\n"));
		assert_non_null(strstr(t, "qmail_kmsg_crashes_total{prog=\"tcpserver\"} 2\n"));
		free(t);
	}
	metrics_free(metrics);
	metrics = NULL;
}

static void
fatal_signals(void **state)
{
	static const char *const recs[] = {
		"6,1,5000000,-;qmail-local: qmail-local: potentially unexpected fatal signal 6.\n",
		"6,2,5000001,-;CPU: 1 UID: 0 PID: 4242 Comm: qmail-local Not tainted 6.18.44 #1\n",
		SEGV(3, "qmail-send", 50),
		"6,4,5000002,-;qmail-send: qmail-send: potentially unexpected fatal signal 11.\n",
		"6,5,5000003,-;CPU: 0 UID: 0 PID: 50 Comm: qmail-send Not tainted 6.18.44 #1\n",
		"6,6,5000004,-;sslserver/61: potentially unexpected fatal signal 7.\n",
		"6,7,5000005,-;potentially unexpected fatal signal 4.\n",
	};

	(void)state;
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("crit kmsg: crash prog=qmail-local pid=4242 signal=SIGABRT file=qmail-local "
	    "at=T boot_time=5.000000 seq=1\n"));
	assert_int_equal(lines("prog=qmail-send "), 1);	/* segfault and fatal signal: one crash */
	assert_true(has("crit kmsg: crash prog=sslserver pid=61 signal=SIGBUS at=T boot_time=5.000004 seq=6\n"));
	/* no comm and no CPU: line: not a watched program */
	assert_true(has("debug kmsg: other prog=\"\" signal=SIGILL boot_time=5.000005\n"));
	assert_true(has("info kmsg: scanned records=7 crashes=3 seq=7\n"));
}

static void
oom_and_loop(void **state)
{
	struct timespec mono;
	char r[4][256];
	const char *recs[6];
	unsigned long long now;
	struct crash c[8];

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	now = (unsigned long long)mono.tv_sec * 1000000;
	snprintf(r[0], sizeof(r[0]), "6,1,%llu,-;qmail-smtpd[5]: segfault at 0 ip 1 sp 2 error 4\n", now);
	snprintf(r[1], sizeof(r[1]), "6,2,%llu,-;traps: qmail-smtpd[6] trap divide error ip:1 sp:2 error:0\n", now);
	snprintf(r[2], sizeof(r[2]), "6,3,%llu,-;oom-kill:constraint=CONSTRAINT_NONE,task=qmail-send,pid=70,uid=0\n", now);
	snprintf(r[3], sizeof(r[3]), "6,4,%llu,-;Out of memory: Killed process 70 (qmail-send) total-vm:1kB\n", now);
	recs[0] = r[0];
	recs[1] = r[1];
	recs[2] = r[2];
	recs[3] = r[3];
	recs[4] = "6,5,1,-;Out of memory: Killed process 71 (bash) total-vm:1kB\n";
	recs[5] = "6,6,1,-;traps: qmail-smtpd[7] trap int3 ip:1 sp:2 error:0\n";
	setenv("MAINTD_KMSG_LOOP", "2", 1);
	assert_int_equal(run(recs, 6), CHECK_OK);
	assert_int_equal(lines("crit kmsg: oom-kill prog=qmail-send pid=70 "), 1);
	assert_false(has("pid=71"));
	assert_false(has("pid=7 "));
	assert_true(has("crit kmsg: crash-loop prog=qmail-smtpd count=2 window=3600\n"));
	assert_int_equal(crashlog_recent(c, 8), 3);
	assert_string_equal(c[0].prog, "qmail-send");
	assert_int_equal(c[0].oom, 1);
	assert_int_equal(c[1].pid, 6);
	assert_int_equal(c[1].signal, 8);
	assert_int_equal(c[2].pid, 5);
	assert_true(c[2].when > time(NULL) - 5 && c[2].when <= time(NULL) + 1);
	/* the next run (nothing new) still sees the loop from memory */
	assert_int_equal(run(recs, 6), CHECK_OK);
	assert_true(has("crash-loop prog=qmail-smtpd count=2 "));
	assert_false(has("crit kmsg: crash "));
}

static void
maxrec_and_reboot(void **state)
{
	static const char *const recs[] = {
		SEGV(3, "qmail-remote", 1), SEGV(4, "qmail-remote", 2), SEGV(5, "qmail-remote", 3),
	};
	char path[PATH_MAX + 32], line[128];
	FILE *f;

	(void)state;
	setenv("MAINTD_KMSG_MAXREC", "2", 1);
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("info kmsg: scanned records=2 crashes=2 seq=4 more=1\n"));
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("info kmsg: scanned records=1 crashes=1 seq=5\n"));
	assert_true(has("pid=3 "));
	/* another boot's cursor: from seq 0 of this one; 0..2 were overwritten */
	snprintf(path, sizeof(path), "%s/kmsg.cursor", conf.state);
	assert_non_null(f = fopen(path, "w"));
	fputs("00000000-0000-0000-0000-000000000000 99\n", f);
	fclose(f);
	unsetenv("MAINTD_KMSG_MAXREC");
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_int_equal(lines("crit kmsg: crash "), 3);
	assert_true(has("warn kmsg: lost-records count=3\n"));
	assert_false(has("backlog"));
	/* a cursor of this boot past the end of its log: reported, pulled back */
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(strchr(line, ' '), 16, " 1000\n");
	assert_non_null(f = fopen(path, "w"));
	fputs(line, f);
	fclose(f);
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("warn kmsg: bad-cursor reason=ahead seq=1000\n"));
	assert_true(has("info kmsg: scanned records=0 crashes=0 seq=5\n"));
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_false(has("bad-cursor"));
	/* a corrupt cursor: reported, the backlog is read again */
	assert_non_null(f = fopen(path, "w"));
	fputs("x\n", f);
	fclose(f);
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("warn kmsg: bad-cursor reason=corrupt bytes=2\n"));
	assert_int_equal(lines("crit kmsg: crash "), 3);
}

static void
unreadable_state(void **state)
{
	static const char *const recs[] = { SEGV(3, "qmail-remote", 1) };
	char saved[sizeof(conf.state)];

	(void)state;
	memcpy(saved, conf.state, sizeof(saved));
	snprintf(conf.state, sizeof(conf.state), "/nonexistent/state");
	assert_int_equal(RUN(recs), CHECK_FAILED);
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=1 "));
	assert_true(has("warn kmsg: cursor-failed path=/nonexistent/state/kmsg.cursor error=ENOENT\n"));
	memcpy(conf.state, saved, sizeof(saved));
}

/* Records that do not parse, and records read again out of order, count
 * against MAINTD_KMSG_MAXREC: a device of garbage ends the run. */
static void
garbage_counts(void **state)
{
	static const char *const junk[] = {
		"x", "y", "z", "x", "y", "z", "x", "y", "z", "x", "y", "z",
	};
	static const char *const again[] = {
		SEGV(1, "qmail-remote", 1), SEGV(1, "qmail-remote", 1), SEGV(1, "qmail-remote", 1),
		SEGV(1, "qmail-remote", 1), SEGV(1, "qmail-remote", 1), SEGV(1, "qmail-remote", 1),
		SEGV(1, "qmail-remote", 1), SEGV(1, "qmail-remote", 1), SEGV(2, "qmail-remote", 2),
	};

	(void)state;
	setenv("MAINTD_KMSG_MAXREC", "5", 1);
	assert_int_equal(RUN(junk), CHECK_OK);
	assert_true(has("warn kmsg: bad-record count=5\n"));
	assert_true(has("info kmsg: scanned records=0 crashes=0 more=1\n"));
	assert_int_equal(RUN(again), CHECK_OK);
	assert_true(has("info kmsg: scanned records=1 crashes=1 seq=1 more=1\n"));
	assert_int_equal(lines("crit kmsg: crash "), 1);
}

/* The service of a crash: what the svc check published, in its window. */
static void
service_of_crash(void **state)
{
	static const char *const recs[] = { SEGV(1, "qmail-remote", 41), SEGV(2, "qmail-send", 42) };
	struct crashlog_service sv[2] = {
		{ "/service/remote", 41, 0, 0, "remote\0exec\0" },
		{ "/service/send", 0, 0, 0, "send\0qmail-send\0" },
	};
	const struct crash *c;
	struct timespec mono;
	time_t when;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	/* the records' boot_time is 1 s: their wall clock is about now - uptime + 1 */
	when = time(NULL) - mono.tv_sec + 1;
	sv[0].from = sv[1].from = when - 10;
	sv[0].until = when + 10;
	sv[1].until = when - 5;		/* its window is over */
	assert_int_equal(crashlog_publish(sv, 2), 0);
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=41 signal=SIGSEGV addr=0x0 "
	    "ip=0x401000 error=4 file=qmail-remote at=T boot_time=1.000000 seq=1 "
	    "service=/service/remote\n"));
	assert_true(has("crit kmsg: crash prog=qmail-send pid=42 signal=SIGSEGV addr=0x0 "
	    "ip=0x401000 error=4 file=qmail-send at=T boot_time=1.000000 seq=2\n"));
	assert_non_null(c = crashlog_get(1));
	assert_string_equal(c->service, "/service/remote");
	assert_non_null(c = crashlog_get(0));
	assert_string_equal(c->service, "");
	/* by program name, in its window */
	sv[1].until = when + 10;
	assert_int_equal(crashlog_publish(sv, 2), 0);
	crashlog_clear();
	unlink_cursor();
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has(" seq=2 service=/service/send\n"));
	assert_int_equal(crashlog_publish(NULL, 0), 0);
}

/* A record of now - ago seconds (by the monotonic clock, as the kernel's) */
static void
record_at(char *buf, size_t size, unsigned seq, const char *prog, unsigned pid, long ago)
{
	struct timespec mono;
	long long usec;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	usec = ((long long)mono.tv_sec - ago) * 1000000;
	snprintf(buf, size, "6,%u,%lld,-;%s[%u]: segfault at 0 ip 0000000000401000 "
	    "sp 00007ffc00000000 error 4 in %s[1000,401000+1000]\n", seq, usec > 0 ? usec : 1,
	    prog, pid, prog);
}

/* History is a summary, news is a page: on the first run, the crashes older
 * than MAINTD_KMSG_FRESH are one backlog line; the young one is a crash
 * line with at=, an event held for MAINTD_KMSG_HOLD. A later process (a -1
 * run) reports it again while it is held, with again=1; then no more. */
static void
history_and_news(void **state)
{
	struct timespec mono;
	char r[4][256], line[256];
	const char *recs[4];
	long up, fresh;
	time_t now;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if ((up = (long)mono.tv_sec) < 8) {
		printf("# skipped: up %ld s, too short for an old record\n", up);
		return;
	}
	fresh = up / 2;		/* boot + 1 s is older, now - 1 s younger */
	snprintf(line, sizeof(line), "%ld", fresh);
	setenv("MAINTD_KMSG_FRESH", line, 1);
	setenv("MAINTD_KMSG_HOLD", "3600", 1);
	record_at(r[0], sizeof(r[0]), 1, "qmail-remote", 11, up - 1);
	record_at(r[1], sizeof(r[1]), 2, "qmail-smtpd", 12, up - 1);
	record_at(r[2], sizeof(r[2]), 3, "qmail-remote", 13, up - 2);
	record_at(r[3], sizeof(r[3]), 4, "qmail-send", 14, 1);
	recs[0] = r[0];
	recs[1] = r[1];
	recs[2] = r[2];
	recs[3] = r[3];
	now = time(NULL);
	assert_int_equal(run(recs, 4), CHECK_OK);
	assert_int_equal(lines("crit kmsg: crash "), 1);
	assert_true(has("crit kmsg: crash prog=qmail-send pid=14 signal=SIGSEGV addr=0x0 "
	    "ip=0x401000 error=4 file=qmail-send at=T boot_time="));
	assert_int_equal(last_kind, FINDING_EVENT);
	assert_true(last_at >= now - 3 && last_at <= now + 1);
	assert_true(last_hold >= 3596 && last_hold <= 3600);
	assert_int_equal(lines("info kmsg: backlog crashes=3 progs=qmail-remote,qmail-smtpd oldest="), 1);
	{
		long long oldest, newest;
		const char *p = strstr(out, " oldest=");

		assert_int_equal(sscanf(p, " oldest=%lld newest=%lld", &oldest, &newest), 2);
		assert_true(oldest >= now - up && oldest <= now - up + 3);
		assert_true(newest >= oldest + 1 && newest <= oldest + 2);
	}
	assert_false(has("backlog-skipped"));
	assert_true(has("info kmsg: scanned records=4 crashes=4 seq=4\n"));

	/* a new process (a second -1 run): nothing new, the crash still held */
	crashlog_clear();
	assert_int_equal(run(recs, 4), CHECK_OK);
	assert_int_equal(lines("crit kmsg: crash "), 1);
	assert_true(has("crit kmsg: crash prog=qmail-send pid=14 signal=SIGSEGV addr=0x0 "
	    "ip=0x401000 error=4 file=qmail-send at=T boot_time="));
	assert_true(has(" seq=4 again=1\n"));
	assert_int_equal(last_kind, FINDING_EVENT);
	assert_true(last_hold >= 3590 && last_hold <= 3600);
	assert_false(has("backlog"));
	assert_true(has("info kmsg: scanned records=0 crashes=0 seq=4\n"));

	/* past its hold: gone, silently */
	setenv("MAINTD_KMSG_HOLD", "1", 1);
	sleep(2);
	assert_int_equal(run(recs, 4), CHECK_OK);
	assert_false(has("crit "));
	assert_false(has("cleared"));
}

/* A crash loop across -1 runs: each a new process, the crashes of the
 * earlier ones come from the state. */
static void
loop_across_runs(void **state)
{
	char r[3][256];
	const char *recs[3];

	(void)state;
	setenv("MAINTD_KMSG_LOOP", "3", 1);
	setenv("MAINTD_KMSG_FRESH", "3600", 1);
	record_at(r[0], sizeof(r[0]), 1, "qmail-smtpd", 21, 5);
	record_at(r[1], sizeof(r[1]), 2, "qmail-smtpd", 22, 3);
	record_at(r[2], sizeof(r[2]), 3, "qmail-smtpd", 23, 1);
	recs[0] = r[0];
	assert_int_equal(run(recs, 1), CHECK_OK);
	assert_false(has("crash-loop"));
	crashlog_clear();
	recs[1] = r[1];
	assert_int_equal(run(recs, 2), CHECK_OK);
	assert_int_equal(lines("crit kmsg: crash "), 1);
	assert_false(has("crash-loop"));
	crashlog_clear();
	recs[2] = r[2];
	assert_int_equal(run(recs, 3), CHECK_OK);
	assert_true(has("crit kmsg: crash-loop prog=qmail-smtpd count=3 window=3600\n"));
	/* a fourth process, nothing new: the loop lasts while the crashes are in the hour */
	crashlog_clear();
	assert_int_equal(run(recs, 3), CHECK_OK);
	assert_true(has("crit kmsg: crash-loop prog=qmail-smtpd count=3 window=3600\n"));
	assert_false(has("crit kmsg: crash "));
}

/* bad-record and cursor-failed are conditions (said once by the daemon,
 * cleared when gone), not notes repeated by every run. */
static void
conditions(void **state)
{
	static const char *const junk[] = { "x", SEGV(1, "qmail-remote", 1) };
	char saved[sizeof(conf.state)];

	(void)state;
	assert_int_equal(RUN(junk), CHECK_OK);
	assert_true(has("warn kmsg: bad-record count=1\n"));
	assert_int_equal(kind_of_bad, FINDING_STATE);
	memcpy(saved, conf.state, sizeof(saved));
	snprintf(conf.state, sizeof(conf.state), "/nonexistent/state");
	assert_int_equal(RUN(junk), CHECK_FAILED);
	assert_true(has("warn kmsg: cursor-failed path=/nonexistent/state/kmsg.cursor error=ENOENT\n"));
	assert_int_equal(kind_of_cursorfail, FINDING_STATE);
	memcpy(conf.state, saved, sizeof(saved));
}

/* No persistent state (a -1 run without MAINTD_STATE): every run is a first
 * run, nothing is saved, nothing fails. */
static void
no_state(void **state)
{
	static const char *const recs[] = { SEGV(1, "qmail-remote", 1) };
	char saved[sizeof(conf.state)];

	(void)state;
	memcpy(saved, conf.state, sizeof(saved));
	conf.state[0] = 0;
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=1 "));
	assert_false(has("cursor"));
	assert_int_equal(RUN(recs), CHECK_OK);
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=1 "));
	memcpy(conf.state, saved, sizeof(saved));
}

/* A long run gives the loop back: a 1 ms timer keeps firing during it. */
#define LONG_RECORDS 400000

struct ticker {
	struct event *ev;
	unsigned long ticks;
	long long late_max_us;
	struct timespec due;
};

static long long
us_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000000LL + (now.tv_nsec - t->tv_nsec) / 1000;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;
	long long late = us_since(&t->due);

	(void)fd;
	(void)what;
	if (status >= 0)	/* the run is over */
		return;
	t->ticks++;
	if (late > t->late_max_us)
		t->late_max_us = late;
	clock_gettime(CLOCK_MONOTONIC, &t->due);
	t->due.tv_nsec += 1000000;
	if (t->due.tv_nsec >= 1000000000) {
		t->due.tv_sec++;
		t->due.tv_nsec -= 1000000000;
	}
}

static void
timer_during_long_run(void **state)
{
	static const struct timeval ms = { 0, 1000 };
	struct event_base *base = event_base_new();
	char **recs = calloc(LONG_RECORDS, sizeof(*recs));
	struct ticker t = { 0 };
	struct check_run r;
	struct conf_err err;
	struct timespec t0;
	void *config;
	unsigned i;

	(void)state;
	assert_non_null(recs);
	for (i = 0; i < LONG_RECORDS; i++)
		assert_true(asprintf(&recs[i], "6,%u,1000000,-;eth0: link is up %u\n", i + 1, i) > 0);
	setenv("MAINTD_KMSG_MAXREC", "100000000", 1);
	assert_non_null(config = check_kmsg.configure(&conf, &err));
	assert_int_equal(check_run_init(&r, &check_kmsg, base, &conf, config), 0);
	r.emit_fn = on_emit;
	r.done_fn = on_done;
	outlen = 0;
	status = -1;
	assert_non_null(t.ev = event_new(base, -1, EV_PERSIST, on_tick, &t));
	kmsg_test_source((const char *const *)recs, LONG_RECORDS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_MONOTONIC, &t.due);
	t.due.tv_nsec += 1000000;	/* ignoring a carry: the first tick only */
	event_add(t.ev, &ms);
	check_kmsg.start(&r);
	event_base_dispatch(base);
	assert_int_equal(status, CHECK_OK);
	assert_true(has("info kmsg: scanned records=400000 crashes=0 seq=400000\n"));
	printf("# %u records (twice: no cursor) in %lld ms; a 1 ms timer fired %lu times, "
	    "at most %lld us late\n", LONG_RECORDS, us_since(&t0) / 1000, t.ticks, t.late_max_us);
	assert_true(t.ticks >= 2);
	event_free(t.ev);
	event_base_free(base);
	free(config);
	for (i = 0; i < LONG_RECORDS; i++)
		free(recs[i]);
	free(recs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(backlog_cursor_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(fatal_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(oom_and_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(maxrec_and_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_state, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(service_of_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(history_and_news, setup, teardown),
		cmocka_unit_test_setup_teardown(loop_across_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(conditions, setup, teardown),
		cmocka_unit_test_setup_teardown(no_state, setup, teardown),
		cmocka_unit_test_setup_teardown(timer_during_long_run, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
