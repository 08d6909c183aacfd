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

#include "kmsg.h"
#include "logline.h"

static struct conf conf;
static char out[65536];
static size_t outlen;
static int status;

static void
on_emit(struct sweep *sw, const struct finding *f)
{
	struct logline l;
	size_t n = logline_finding(&l, f);

	(void)sw;
	if (outlen + n < sizeof(out)) {
		memcpy(out + outlen, l.buf, n);
		outlen += n;
		out[outlen] = 0;
	}
}

static void
on_done(struct sweep *sw, enum check_status st)
{
	status = st;
	event_base_loopbreak(sw->base);
}

/* One run over the records; the lines it logged are in out. */
static int
run(const char *const *rec, unsigned n)
{
	struct event_base *base = event_base_new();
	struct conf_err err;
	struct sweep sw;

	assert_int_equal(check_kmsg.configure(&conf, &err), 0);
	memset(&sw, 0, sizeof(sw));
	sw.check = &check_kmsg;
	sw.base = base;
	sw.conf = &conf;
	sw.verbose = 1;
	sw.emit_fn = on_emit;
	sw.done_fn = on_done;
	outlen = 0;
	out[0] = 0;
	status = -1;
	kmsg_test_source(rec, n);
	check_kmsg.start(&sw);
	if (status < 0)
		event_base_dispatch(base);
	event_base_free(base);
	assert_null(sw.data);
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
	kmsg_ring_clear();
	return 0;
}

static int
teardown(void **state)
{
	char path[PATH_MAX + 32];

	(void)state;
	snprintf(path, sizeof(path), "%s/kmsg.cursor", conf.state);
	unlink(path);
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
	assert_int_equal(RUN(first), CHECK_OK);
	assert_false(has("pid=1 "));
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=2 signal=SIGSEGV addr=0x0 ip=0x401000 "
	    "error=4 file=qmail-remote boot_time=1.000000 seq=12\n"));
	assert_true(has("crit kmsg: crash prog=qmail-remote pid=3 "));
	assert_true(has("debug kmsg: other prog=not-qmail pid=9 signal=SIGSEGV file=not-qmail\n"));
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
	    "boot_time=5.000000 seq=1\n"));
	assert_int_equal(lines("prog=qmail-send "), 1);	/* segfault and fatal signal: one crash */
	assert_true(has("crit kmsg: crash prog=sslserver pid=61 signal=SIGBUS boot_time=5.000004 seq=6\n"));
	/* no comm and no CPU: line: not a watched program */
	assert_true(has("debug kmsg: other prog=\"\" signal=SIGILL\n"));
	assert_true(has("info kmsg: scanned records=7 crashes=3 seq=7\n"));
}

static void
oom_and_loop(void **state)
{
	struct timespec mono;
	char r[4][256];
	const char *recs[6];
	unsigned long long now;
	struct kmsg_crash c[8];

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
	assert_int_equal(kmsg_recent(c, 8), 3);
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
	assert_non_null(f = fopen(path, "r+"));
	assert_non_null(fgets(line, sizeof(line), f));
	snprintf(strchr(line, ' '), 16, " 1000\n");
	rewind(f);
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
	assert_true(has("warn kmsg: cursor-failed reason="));
	memcpy(conf.state, saved, sizeof(saved));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
