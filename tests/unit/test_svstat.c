#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "svstat.h"

/* Written by Debian's daemontools 0.76 supervise (od -An -tx1 supervise/status):
 * running, then after svc -p, then after svc -d. */
static const unsigned char dt_up[18] = {
	0x40, 0x00, 0x00, 0x00, 0x6b, 0x06, 0xf8, 0xd2, 0x32, 0x47, 0xb2, 0x4c,
	0xa7, 0x1a, 0x00, 0x00, 0x00, 0x75
};
static const unsigned char dt_paused[18] = {
	0x40, 0x00, 0x00, 0x00, 0x6b, 0x06, 0xf8, 0xd2, 0x32, 0x47, 0xb2, 0x4c,
	0xa7, 0x1a, 0x00, 0x00, 0x01, 0x75
};
static const unsigned char dt_down[18] = {
	0x40, 0x00, 0x00, 0x00, 0x6b, 0x06, 0xf8, 0xd4, 0x10, 0x8e, 0xca, 0xdc,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x64
};

static void
decode_daemontools(void **state)
{
	struct svstat st;
	const char *why = NULL;

	(void)state;
	assert_int_equal(svstat_decode(dt_up, sizeof(dt_up), &st, &why), 0);
	assert_string_equal(st.layout, "daemontools");
	assert_int_equal(st.pid, 6823);
	assert_int_equal(st.when, 0x6b06f8d2LL - 10);
	assert_int_equal(st.paused, 0);
	assert_int_equal(st.want, 'u');
	assert_int_equal(svstat_decode(dt_paused, sizeof(dt_paused), &st, &why), 0);
	assert_int_equal(st.paused, 1);
	assert_int_equal(svstat_decode(dt_down, sizeof(dt_down), &st, &why), 0);
	assert_int_equal(st.pid, 0);
	assert_int_equal(st.want, 'd');
	assert_int_equal(st.when, 0x6b06f8d4LL - 10);
}

static void
decode_encore(void **state)
{
	unsigned char buf[40] = { 0 };
	struct svstat st;
	const char *why;

	(void)state;
	memcpy(buf, dt_up, 18);
	buf[18] = 3;	/* svstatus_running */
	assert_int_equal(svstat_decode(buf, 20, &st, &why), 0);
	assert_string_equal(st.layout, "encore");
	assert_int_equal(st.pid, 6823);
	assert_int_equal(svstat_decode(buf, 40, &st, &why), 0);
	buf[17] = 0;	/* svc -o: no wish */
	assert_int_equal(svstat_decode(buf, 20, &st, &why), 0);
	assert_int_equal(st.want, 0);
	/* daemontools 0.76 always writes a wish */
	assert_int_equal(svstat_decode(buf, 18, &st, &why), -1);
	assert_string_equal(why, "want");
}

static void
decode_bad(void **state)
{
	unsigned char buf[64];
	struct svstat st;
	const char *why;

	(void)state;
	memcpy(buf, dt_up, 18);
	assert_int_equal(svstat_decode(buf, 0, &st, &why), -1);
	assert_string_equal(why, "short");
	assert_int_equal(svstat_decode(buf, 17, &st, &why), -1);
	assert_string_equal(why, "short");
	assert_int_equal(svstat_decode(buf, 19, &st, &why), -1);
	assert_string_equal(why, "size");
	assert_int_equal(svstat_decode(buf, 64, &st, &why), -1);
	assert_string_equal(why, "size");
	buf[17] = 'x';
	assert_int_equal(svstat_decode(buf, 18, &st, &why), -1);
	assert_string_equal(why, "want");
	memcpy(buf, dt_up, 18);
	buf[0] = 0x3f;	/* before 1970 */
	assert_int_equal(svstat_decode(buf, 18, &st, &why), -1);
	assert_string_equal(why, "time");
	memcpy(buf, dt_up, 18);
	buf[8] = 0xff;	/* nanoseconds beyond 999999999 */
	assert_int_equal(svstat_decode(buf, 18, &st, &why), -1);
	assert_string_equal(why, "time");
}

static void
runit_text(void **state)
{
	struct svstat st;
	const char *why;

	(void)state;
	assert_int_equal(svstat_runit("run\n", 4, "1234\n", 5, 1000, &st, &why), 0);
	assert_string_equal(st.layout, "runit");
	assert_int_equal(st.pid, 1234);
	assert_int_equal(st.when, 1000);
	assert_int_equal(st.want, 'u');
	assert_int_equal(st.paused, 0);
	assert_int_equal(svstat_runit("run, paused\n", 12, "7\n", 2, 5, &st, &why), 0);
	assert_int_equal(st.paused, 1);
	assert_int_equal(svstat_runit("run, want down\n", 15, "7\n", 2, 5, &st, &why), 0);
	assert_int_equal(st.want, 'd');
	assert_int_equal(svstat_runit("down\n", 5, "", 0, 5, &st, &why), 0);
	assert_int_equal(st.pid, 0);
	assert_int_equal(st.want, 'd');
	assert_int_equal(svstat_runit("down, want up\n", 14, "", 0, 5, &st, &why), 0);
	assert_int_equal(st.want, 'u');
	assert_int_equal(svstat_runit("finish\n", 7, "99\n", 3, 5, &st, &why), 0);
	assert_int_equal(st.pid, 0);
	assert_int_equal(svstat_runit("running\n", 8, "", 0, 5, &st, &why), -1);
	assert_string_equal(why, "pid");
	assert_int_equal(svstat_runit("up\n", 3, "1\n", 2, 5, &st, &why), -1);
	assert_string_equal(why, "stat");
	assert_int_equal(svstat_runit("run\n", 4, "12x\n", 4, 5, &st, &why), -1);
	assert_string_equal(why, "pid");
	assert_int_equal(svstat_runit("run\n", 4, "99999999999\n", 12, 5, &st, &why), -1);
}

static struct svstat
up(unsigned long pid, long long when)
{
	struct svstat st = { .when = when, .pid = pid, .want = 'u', .layout = "daemontools" };

	return st;
}

static void
flapping_short_uptime(void **state)
{
	struct svmem m = { 0 };
	struct svjudge j;
	struct svstat st;

	(void)state;
	/* first sight of a service up 2 s: short, but not yet flapping */
	st = up(100, 998);
	svstat_observe(&m, &st, 1000, 10, 5, &j);
	assert_true(j.shortrun);
	assert_false(j.flapping);
	assert_false(j.restarted);
	/* a few seconds later, between two restarts: down, wanted up */
	st.pid = 0;
	st.when = 1004;
	svstat_observe(&m, &st, 1005, 10, 5, &j);
	assert_true(j.shortrun);
	assert_true(j.flapping);
	assert_string_equal(j.reason, "short-uptime");
	/* up with a new pid: a restart */
	st = up(101, 1009);
	svstat_observe(&m, &st, 1010, 10, 5, &j);
	assert_true(j.restarted);
	assert_int_equal(j.restarts, 1);
	assert_int_equal(m.total, 1);
	assert_true(j.flapping);
	/* then it stays up */
	svstat_observe(&m, &st, 1100, 10, 5, &j);
	assert_false(j.shortrun);
	assert_false(j.flapping);
}

static void
young_not_flapping(void **state)
{
	struct svmem m = { 0 };
	struct svjudge j;
	struct svstat st = up(300, 1000);

	(void)state;
	/* just started, looked at twice within MINUP: the same run, no restart */
	svstat_observe(&m, &st, 1001, 10, 5, &j);
	svstat_observe(&m, &st, 1004, 10, 5, &j);
	assert_true(j.shortrun);
	assert_false(j.flapping);
	assert_false(j.restarted);
}

static void
flapping_restarts(void **state)
{
	struct svmem m = { 0 };
	struct svjudge j;
	struct svstat st;
	unsigned long pid;
	long long t = 10000;

	(void)state;
	/* every sweep (a minute apart) finds a new pid, each up 30 s */
	for (pid = 1; pid <= 6; pid++, t += 60) {
		st = up(pid, t - 30);
		svstat_observe(&m, &st, t, 10, 5, &j);
		assert_false(j.shortrun);
		assert_false(j.flapping);
	}
	assert_int_equal(j.restarts, 5);
	st = up(pid, t - 30);
	svstat_observe(&m, &st, t, 10, 5, &j);
	assert_true(j.flapping);
	assert_string_equal(j.reason, "restarts");
	assert_int_equal(j.restarts, 6);
	/* an hour later the same pid: the restarts have aged out */
	svstat_observe(&m, &st, t + SVMEM_WINDOW, 10, 5, &j);
	assert_false(j.flapping);
	assert_int_equal(j.restarts, 0);
	assert_int_equal(m.total, 6);
}

static void
flapping_stale_memory(void **state)
{
	struct svmem m = { 0 };
	struct svjudge j;
	struct svstat st = up(5, 100);

	(void)state;
	svstat_observe(&m, &st, 101, 10, 5, &j);
	/* the previous short run was seen more than an hour ago: not "in a row" */
	st = up(6, 100 + 2 * SVMEM_WINDOW);
	svstat_observe(&m, &st, 101 + 2 * SVMEM_WINDOW, 10, 5, &j);
	assert_true(j.shortrun);
	assert_false(j.flapping);
}

struct collected {
	unsigned n;
	char path[4][64];
	struct svmem m[4];
};

static void
collect(const char *path, size_t len, const struct svmem *m, void *arg)
{
	struct collected *c = arg;

	if (c->n < 4 && len < sizeof(c->path[0])) {
		memcpy(c->path[c->n], path, len);
		c->path[c->n][len] = 0;
		c->m[c->n++] = *m;
	}
}

static void
mem_roundtrip(void **state)
{
	char file[4096], line[1024];
	struct svmem m = { 0 };
	struct collected c = { 0 };
	size_t n = 0, l;

	(void)state;
	m.seen = 1795619225;
	m.lastpid = 15229;
	m.lastshort = 1;
	m.total = 7;
	m.nrecent = 2;
	m.recent[0] = 1795619100;
	m.recent[1] = 1795619225;
	n = strlen(strcpy(file, SVSTAT_HEADER));
	l = svstat_mem_format(line, sizeof(line), "/service/qmail smtpd", &m);
	assert_string_equal(line, "1795619225 15229 1 7 2 1795619100 1795619225 /service/qmail smtpd\n");
	memcpy(file + n, line, l);
	n += l;
	memset(&m, 0, sizeof(m));
	l = svstat_mem_format(line, sizeof(line), "/service/x/log", &m);
	memcpy(file + n, line, l);
	n += l;
	assert_int_equal(svstat_mem_format(line, sizeof(line), "/a\nb", &m), 0);
	assert_int_equal(svstat_mem_format(line, 10, "/service/x", &m), 0);
	assert_int_equal(svstat_mem_parse(file, n, collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.path[0], "/service/qmail smtpd");
	assert_int_equal(c.m[0].lastpid, 15229);
	assert_int_equal(c.m[0].total, 7);
	assert_int_equal(c.m[0].nrecent, 2);
	assert_int_equal(c.m[0].recent[1], 1795619225);
	assert_string_equal(c.path[1], "/service/x/log");
}

static void
mem_bad(void **state)
{
	static const char bad[] = SVSTAT_HEADER
	    "1 2 3 4 0 /lastshort-not-0-or-1\n"
	    "1 2 0 4 65 /too-many-restarts\n"
	    "1 2 0 4 2 5 /missing-a-time\n"
	    "1 2 0 4 0\n"
	    "x 2 0 4 0 /not-a-number\n"
	    "1 2 0 4 0 /good\n"
	    "1 2 0 4 0 /no-newline";
	struct collected c = { 0 };

	(void)state;
	assert_int_equal(svstat_mem_parse("svc-state 2\n", 12, collect, &c), -1);
	assert_int_equal(svstat_mem_parse("", 0, collect, &c), -1);
	assert_int_equal(svstat_mem_parse(bad, sizeof(bad) - 1, collect, &c), 6);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.path[0], "/good");
}

static void
names_prog(void **state)
{
	static const char run[] = "#!/bin/sh\nexec 2>&1\nexec envuidgid qmaild tcpserver -v 0 smtp "
	    "/var/qmail/bin/qmail-smtpd\n";

	(void)state;
	assert_true(svstat_names_prog("/service/x", run, sizeof(run) - 1, "qmail-smtpd"));
	assert_true(svstat_names_prog("/service/x", run, sizeof(run) - 1, "tcpserver"));
	assert_true(svstat_names_prog("/service/qmail-send", "", 0, "qmail-send"));
	assert_true(svstat_names_prog("/service/x", run, sizeof(run) - 1, "qmail"));	/* /var/qmail/ */
	assert_false(svstat_names_prog("/service/x", run, sizeof(run) - 1, "qmail-"));
	assert_false(svstat_names_prog("/service/x", run, sizeof(run) - 1, "smtpd"));
	assert_false(svstat_names_prog("/service/x", run, sizeof(run) - 1, "qmail-smtp"));
	assert_false(svstat_names_prog("/service/x", run, sizeof(run) - 1, ""));
	assert_true(svstat_names_prog("/service/x", "qmail-pop3d", 11, "qmail-pop3d"));
}

/* The same names as a list: each one svstat_names_prog finds, and no other. */
static int
in_list(const char *names, const char *prog)
{
	for (; *names; names += strlen(names) + 1)
		if (strcmp(names, prog) == 0)
			return 1;
	return 0;
}

static void
prog_names(void **state)
{
	static const char run[] = "#!/bin/sh\nexec 2>&1\nexec envuidgid qmaild tcpserver -v 0 smtp "
	    "/var/qmail/bin/qmail-smtpd\n";
	static const char *const probe[] = {
		"qmail-smtpd", "tcpserver", "qmail", "x", "qmail-", "smtpd", "qmail-smtp", "sh", "2",
	};
	char out[256], small[16];
	size_t i, n;

	(void)state;
	n = svstat_prog_names("/service/x", run, sizeof(run) - 1, out, sizeof(out));
	assert_true(n > 1 && n <= sizeof(out));
	assert_int_equal(out[n - 1], 0);
	assert_int_equal(out[n - 2], 0);
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
		assert_int_equal(in_list(out, probe[i]),
		    svstat_names_prog("/service/x", run, sizeof(run) - 1, probe[i]));
	/* as many as fit, always ended */
	n = svstat_prog_names("/service/qmail-send", run, sizeof(run) - 1, small, sizeof(small));
	assert_true(n <= sizeof(small));
	assert_string_equal(small, "qmail-send");
	assert_string_equal(small + 11, "bin");		/* of #!/bin/sh; then sh does not fit */
	assert_string_equal(small + 15, "");
	assert_int_equal(n, 16);
	assert_int_equal(svstat_prog_names("/s/", "", 0, small, sizeof(small)), 1);
	assert_int_equal(small[0], 0);
	assert_int_equal(svstat_prog_names("/s/x", "", 0, small, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_daemontools),
		cmocka_unit_test(decode_encore),
		cmocka_unit_test(decode_bad),
		cmocka_unit_test(runit_text),
		cmocka_unit_test(flapping_short_uptime),
		cmocka_unit_test(young_not_flapping),
		cmocka_unit_test(flapping_restarts),
		cmocka_unit_test(flapping_stale_memory),
		cmocka_unit_test(mem_roundtrip),
		cmocka_unit_test(mem_bad),
		cmocka_unit_test(names_prog),
		cmocka_unit_test(prog_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
