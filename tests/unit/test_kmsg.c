#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashlog.h"
#include "kmsg.h"

#define PROGS_DEFAULT "qmail-*,tcpserver,sslserver,tai64nlocal,multilog,supervise"

static enum kmsg_kind
classify(const char *text, struct kmsg_event *ev)
{
	return kmsg_classify(text, strlen(text), ev);
}

/* The raw fixture record with this seq, parsed. */
static void
fixture_record(const char *file, unsigned long long seq, char *line, size_t size,
    struct kmsg_record *r)
{
	char path[4096];
	const char *dir = getenv("FIXTURES");
	FILE *f;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/kmsg/%s", dir, file);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, (int)size, f)) {
		if (kmsg_parse_record(line, strlen(line), r) == 0 && r->seq == seq) {
			fclose(f);
			return;
		}
	}
	fclose(f);
	fail_msg("no record %llu in %s", seq, file);
}

struct want {
	unsigned long long seq;
	enum kmsg_kind kind;
	const char *comm;
	long pid;
	int sig;
	const char *addr, *ip, *error, *file, *prog;
};

/* Every record of kmsg-raw.txt (fixtures README: what each program did). */
static const struct want raw[] = {
	{ 347, KMSG_CRASH, "qmail-remote", 10221, SIGSEGV, "0x0", "0x55930a18d1e9", "0x4",
	    "qmail-remote", "qmail-remote" },
	{ 348, KMSG_OTHER, "", -1, 0, "", "", "", "", NULL },
	{ 349, KMSG_CRASH, "qmail-smtpd", 11471, SIGFPE, "", "0x55d324614283", "0x0",
	    "qmail-smtpd", "qmail-smtpd" },
	{ 350, KMSG_CRASH, "tcpserver", 12792, SIGILL, "", "0x5617c9f832a4", "0x0",
	    "tcpserver", "tcpserver" },
	{ 351, KMSG_CRASH, "tai64nlocal", 14098, SIGSEGV, "", "0x5588f7e592d2", "0x0",
	    "tai64nlocal", "tai64nlocal" },
	{ 352, KMSG_CRASH, "multilog", 17058, SIGSEGV, "0x1000", "0x55ecae6f3216", "0x6",
	    "multilog", "multilog" },
	{ 353, KMSG_OTHER, "", -1, 0, "", "", "", "", NULL },
	{ 354, KMSG_CRASH, "qmail-send", 18480, SIGSEGV, "0xdead000", "0xdead000", "0x14",
	    "", "qmail-send" },
	{ 355, KMSG_OTHER, "", -1, 0, "", "", "", "", NULL },
	{ 356, KMSG_IGNORED, "qmail-queue", 19897, SIGTRAP, "", "0x55d0cac3a2f5", "0x0",
	    "qmail-queue", "qmail-queue" },
	{ 357, KMSG_CRASH, "qmail-remote-lo", 20441, SIGSEGV, "", "0x5567e1d2e2d2", "0x0",
	    "qmail-remote-longname", "qmail-remote-longname" },
};

static void
check_want(const struct want *w, const struct kmsg_event *ev)
{
	char prog[KMSG_NAME];

	assert_int_equal(ev->kind, w->kind);
	assert_string_equal(ev->comm, w->comm);
	assert_int_equal(ev->pid, w->pid);
	assert_int_equal(ev->signal, w->sig);
	assert_string_equal(ev->addr, w->addr);
	assert_string_equal(ev->ip, w->ip);
	assert_string_equal(ev->error, w->error);
	assert_string_equal(ev->file, w->file);
	if (w->prog) {
		assert_int_equal(kmsg_prog_match(PROGS_DEFAULT, ev->comm, ev->file, prog,
		    sizeof(prog)), 1);
		assert_string_equal(prog, w->prog);
	}
}

static void
fixture_raw(void **state)
{
	struct kmsg_record r;
	struct kmsg_event ev;
	char line[8192];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		fixture_record("kmsg-raw.txt", raw[i].seq, line, sizeof(line), &r);
		assert_int_equal(r.prio, 6);
		kmsg_classify(r.text, r.len, &ev);
		check_want(&raw[i], &ev);
	}
}

/* The dmesg renderings carry the same texts after their prefixes. */
static void
fixture_dmesg(void **state)
{
	static const char *const files[] = { "dmesg.txt", "dmesg-r.txt", "dmesg-x.txt", "dmesg-T.txt" };
	char path[4096], line[8192];
	struct kmsg_event ev;
	size_t i, k;
	FILE *f;

	(void)state;
	for (k = 0; k < 4; k++) {
		snprintf(path, sizeof(path), "%s/kmsg/%s", getenv("FIXTURES"), files[k]);
		assert_non_null(f = fopen(path, "r"));
		for (i = 0; fgets(line, sizeof(line), f); i++) {
			char *text = strstr(line, "] ") + 2;

			assert_true(i < sizeof(raw) / sizeof(raw[0]));
			text[strcspn(text, "\n")] = 0;
			classify(text, &ev);
			check_want(&raw[i], &ev);
		}
		assert_int_equal(i, sizeof(raw) / sizeof(raw[0]));
		fclose(f);
	}
}

static void
fixture_preexisting(void **state)
{
	struct kmsg_record r;
	struct kmsg_event ev;
	char line[8192], prog[KMSG_NAME];

	(void)state;
	fixture_record("kmsg-preexisting-raw.txt", 344, line, sizeof(line), &r);
	kmsg_classify(r.text, r.len, &ev);
	assert_int_equal(ev.kind, KMSG_CRASH);
	assert_string_equal(ev.comm, "qmail-remote");
	assert_int_equal(ev.pid, 2413);
	assert_string_equal(ev.addr, "0x14");
	assert_string_equal(ev.ip, "0x5617cf4ee139");
	/* prio 12: written by a user-space program; the check skips such records */
	fixture_record("kmsg-preexisting-raw.txt", 346, line, sizeof(line), &r);
	assert_int_equal(r.prio, 12);
	assert_int_equal(r.prio >> 3, 1);
	kmsg_classify(r.text, r.len, &ev);
	assert_int_equal(ev.kind, KMSG_CRASH);
	assert_int_equal(kmsg_prog_match(PROGS_DEFAULT, ev.comm, ev.file, prog, sizeof(prog)), 0);
}

/* The s/qmail documentation's lines: kernels before 6.1 ("in FILE[BASE+SIZE]"). */
static void
old_kernel_form(void **state)
{
	struct kmsg_event ev;

	(void)state;
	assert_int_equal(classify("tai64nlocal[10709]: segfault at 14 ip 000000000040061f "
	    "sp 00007fff42e59da0 error 4 in tai64nlocal[400000+2000]", &ev), KMSG_CRASH);
	assert_string_equal(ev.comm, "tai64nlocal");
	assert_int_equal(ev.pid, 10709);
	assert_string_equal(ev.addr, "0x14");
	assert_string_equal(ev.ip, "0x40061f");
	assert_string_equal(ev.error, "0x4");
	assert_string_equal(ev.file, "tai64nlocal");
	assert_int_equal(classify("sslserver[13568]: segfault at 0 ip 00007f0e2c1a3b7a "
	    "sp 00007ffd1a2b3c40 error 4 in libc-2.31.so[7f0e2c0a2000+178000]", &ev), KMSG_CRASH);
	assert_string_equal(ev.comm, "sslserver");
	assert_string_equal(ev.file, "libc-2.31.so");
	/* without " in FILE" and without "likely on CPU" */
	assert_int_equal(classify("qmail-send[5]: segfault at dead000 ip 000000000dead000 "
	    "sp 00007fff0af35a98 error 14", &ev), KMSG_CRASH);
	assert_string_equal(ev.file, "");
	assert_string_equal(ev.error, "0x14");
}

static void
hand_made(void **state)
{
	struct kmsg_event ev;
	char prog[KMSG_NAME];

	(void)state;
	/* a space and brackets in the file name */
	assert_int_equal(classify("qmail-smtpd[77]: segfault at 8 ip 0000000000401000 sp "
	    "00007ffc00000000 error 6 in my [odd] prog[1000,401000+2000] likely on CPU 1 "
	    "(core 1, socket 0)", &ev), KMSG_CRASH);
	assert_string_equal(ev.file, "my [odd] prog");
	assert_int_equal(ev.pid, 77);
	/* a comm with a space and a bracket */
	assert_int_equal(classify("traps: qmail x[1][42] trap divide error ip:1 sp:2 error:0 "
	    "in q[1,2+3]", &ev), KMSG_CRASH);
	assert_string_equal(ev.comm, "qmail x[1]");
	assert_int_equal(ev.pid, 42);
	assert_int_equal(ev.signal, SIGFPE);
	assert_string_equal(ev.trap, "divide error");
	/* fields missing: still one crash, with what is there */
	assert_int_equal(classify("qmail-remote[9]: segfault at ", &ev), KMSG_CRASH);
	assert_int_equal(ev.pid, 9);
	assert_string_equal(ev.addr, "");
	assert_string_equal(ev.ip, "");
	assert_int_equal(classify("traps: qmail-remote[x] general protection fault", &ev),
	    KMSG_CRASH);
	assert_int_equal(ev.pid, -1);
	assert_string_equal(ev.comm, "qmail-remote");
	assert_int_equal(classify("traps: qmail-remote[3] trap overflow ip:1 sp:2 error:0", &ev),
	    KMSG_CRASH);
	assert_int_equal(ev.signal, SIGSEGV);
	assert_int_equal(classify("traps: qmail-remote[3] trap stack segment ip:1 sp:2 error:0", &ev),
	    KMSG_CRASH);
	assert_int_equal(ev.signal, SIGBUS);
	assert_int_equal(classify("traps: qmail-remote[3] trap something new ip:1 sp:2 error:0", &ev),
	    KMSG_CRASH);
	assert_int_equal(ev.signal, 0);
	assert_int_equal(classify("traps: qmail-remote[3] control protection ip:1 sp:2 ssp:3 "
	    "error:3(user jmp)", &ev), KMSG_CRASH);
	assert_int_equal(ev.signal, SIGSEGV);
	/* a comm cut at 15 bytes matches the longer name it was cut from */
	classify("qmail-remote-lo[1]: segfault at 0 ip 0 sp 0 error 4 in libc.so.6[1,2+3]", &ev);
	assert_int_equal(kmsg_prog_match("qmail-remote-longname", ev.comm, ev.file, prog,
	    sizeof(prog)), 1);
	assert_string_equal(prog, "qmail-remote-lo");
	assert_int_equal(kmsg_prog_match("tcpserver", ev.comm, ev.file, prog, sizeof(prog)), 0);
	/* ... but a short comm does not match a longer name */
	assert_int_equal(kmsg_prog_match("qmail-remote", "qmail-rem", "", prog, sizeof(prog)), 0);
	assert_int_equal(kmsg_prog_match("qmail-*", "not-qmail", "not-qmail", prog, sizeof(prog)), 0);
	assert_int_equal(kmsg_prog_match("qmail-*", "x", "qmail-local", prog, sizeof(prog)), 1);
	assert_string_equal(prog, "qmail-local");
	/* not crashes */
	assert_int_equal(classify("Code: 48 89 45 f8", &ev), KMSG_OTHER);
	assert_int_equal(classify("", &ev), KMSG_OTHER);
	assert_int_equal(classify("traps: ", &ev), KMSG_OTHER);
	assert_int_equal(classify("segfault at 0", &ev), KMSG_OTHER);
	assert_int_equal(classify("oom_reaper: reaped process 5 (qmail-send), now anon-rss:0kB", &ev),
	    KMSG_OTHER);
}

static void
long_and_nul(void **state)
{
	char text[2000], big[2000];
	struct kmsg_event ev;
	size_t n;

	(void)state;
	memset(text, 'a', sizeof(text));
	assert_int_equal(kmsg_classify(text, sizeof(text), &ev), KMSG_OTHER);
	/* a 2000-byte crash line: file name cut, still a crash */
	n = (size_t)snprintf(big, sizeof(big), "qmail-remote[12]: segfault at 0 ip 1 sp 2 error 4 in ");
	memset(big + n, 'f', sizeof(big) - n);
	memcpy(big + sizeof(big) - 7, "[1+2]", 5);
	big[sizeof(big) - 2] = ' ';
	assert_int_equal(kmsg_classify(big, sizeof(big) - 2, &ev), KMSG_CRASH);
	assert_int_equal(ev.pid, 12);
	assert_int_equal(strlen(ev.file), KMSG_NAME - 1);
	/* a 2000-byte comm part */
	memset(big, 'q', sizeof(big));
	memcpy(big + 1900, "[5]: segfault at 0 ip 1 sp 2 error 4", 36);
	assert_int_equal(kmsg_classify(big, 1936, &ev), KMSG_CRASH);
	assert_int_equal(strlen(ev.comm), KMSG_COMM - 1);
	/* NULs inside */
	memcpy(text, "qmail-remote[1\0]: segfault at 0", 31);
	assert_int_equal(kmsg_classify(text, 31, &ev), KMSG_CRASH);
	assert_int_equal(ev.pid, -1);
	memcpy(text, "traps: q[1] trap \0 ip:1", 23);
	assert_int_equal(kmsg_classify(text, 23, &ev), KMSG_CRASH);
	assert_int_equal(ev.signal, 0);
}

static void
fatal_signal(void **state)
{
	struct kmsg_event ev;

	(void)state;
	assert_int_equal(classify("qmail-local/321: potentially unexpected fatal signal 6.", &ev),
	    KMSG_CRASH);
	assert_string_equal(ev.comm, "qmail-local");
	assert_int_equal(ev.pid, 321);
	assert_int_equal(ev.signal, SIGABRT);
	assert_int_equal(classify("qmail-local: qmail-local: potentially unexpected fatal signal 7.",
	    &ev), KMSG_CRASH);
	assert_string_equal(ev.file, "qmail-local");
	assert_string_equal(ev.comm, "qmail-local");
	assert_int_equal(ev.pid, -1);
	assert_int_equal(ev.signal, SIGBUS);
	assert_int_equal(classify("sslserver: potentially unexpected fatal signal 7.", &ev), KMSG_CRASH);
	assert_string_equal(ev.comm, "sslserver");
	assert_int_equal(classify("potentially unexpected fatal signal 11.", &ev), KMSG_CRASH);
	assert_string_equal(ev.comm, "");
	assert_int_equal(ev.signal, SIGSEGV);
	assert_int_equal(classify("x: potentially unexpected fatal signal 5.", &ev), KMSG_IGNORED);
	assert_int_equal(classify("potentially unexpected fatal signal x.", &ev), KMSG_OTHER);
	assert_int_equal(classify("CPU: 1 UID: 0 PID: 4242 Comm: qmail-local Not tainted 6.18.44 #1",
	    &ev), KMSG_REGS);
	assert_int_equal(ev.pid, 4242);
	assert_string_equal(ev.comm, "qmail-local");
	assert_int_equal(classify("CPU: 0 PID: 7 Comm: sslserver Tainted: G W 5.10.0", &ev), KMSG_REGS);
	assert_string_equal(ev.comm, "sslserver");
	assert_int_equal(classify("CPU: 0 PID: 7", &ev), KMSG_OTHER);
}

static void
oom_and_suppressed(void **state)
{
	struct kmsg_event ev;

	(void)state;
	assert_int_equal(classify("Out of memory: Killed process 1234 (qmail-send) total-vm:1000kB, "
	    "anon-rss:10kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0", &ev),
	    KMSG_OOM);
	assert_string_equal(ev.comm, "qmail-send");
	assert_int_equal(ev.pid, 1234);
	assert_int_equal(ev.signal, SIGKILL);
	assert_int_equal(classify("Memory cgroup out of memory: Killed process 9 (qmail-smtpd) "
	    "total-vm:1kB", &ev), KMSG_OOM);
	assert_int_equal(ev.pid, 9);
	assert_int_equal(classify("Out of memory: Kill process 77 (qmail-remote) score 900 or "
	    "sacrifice child", &ev), KMSG_OOM);
	assert_string_equal(ev.comm, "qmail-remote");
	assert_int_equal(ev.pid, 77);
	assert_int_equal(classify("Killed process 78 (a (b) c) total-vm:1kB", &ev), KMSG_OOM);
	assert_string_equal(ev.comm, "a (b");
	assert_int_equal(classify("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,"
	    "mems_allowed=0,global_oom,task_memcg=/system.slice/qmail.service,task=qmail-send,"
	    "pid=1234,uid=0", &ev), KMSG_OOM);
	assert_string_equal(ev.comm, "qmail-send");
	assert_int_equal(ev.pid, 1234);
	assert_int_equal(classify("oom-kill:task=x", &ev), KMSG_OTHER);
	assert_int_equal(classify("Out of memory: Killed process x", &ev), KMSG_OTHER);
	assert_int_equal(classify("show_signal_msg: 17 callbacks suppressed", &ev), KMSG_SUPPRESSED);
	assert_int_equal(ev.count, 17);
	assert_int_equal(classify("show_signal_msg: callbacks suppressed", &ev), KMSG_OTHER);
	assert_int_equal(classify("other_fn: 3 callbacks suppressed", &ev), KMSG_OTHER);
}

static void
records(void **state)
{
	static const char cont[] = "6,1234,5000000,-;usb 1-1: new device\n SUBSYSTEM=usb\n DEVICE=c189:1\n";
	struct kmsg_record r;

	(void)state;
	assert_int_equal(kmsg_parse_record(cont, sizeof(cont) - 1, &r), 0);
	assert_int_equal(r.prio, 6);
	assert_int_equal(r.seq, 1234);
	assert_int_equal(r.usec, 5000000);
	assert_int_equal(r.len, strlen("usb 1-1: new device"));
	assert_memory_equal(r.text, "usb 1-1: new device", r.len);
	assert_int_equal(kmsg_parse_record("4,5,6,c,more=1;x", 16, &r), 0);
	assert_int_equal(r.len, 1);
	assert_int_equal(kmsg_parse_record("6,5,6,-;", 8, &r), 0);
	assert_int_equal(r.len, 0);
	assert_int_equal(kmsg_parse_record("6,5,6,-", 7, &r), -1);
	assert_int_equal(kmsg_parse_record("6,5,6;x", 7, &r), -1);
	assert_int_equal(kmsg_parse_record(",5,6,-;x", 8, &r), -1);
	assert_int_equal(kmsg_parse_record("6,99999999999999999999,6,-;x", 28, &r), -1);
	assert_int_equal(kmsg_parse_record("6,18446744073709551615,6,-;x", 28, &r), 0);
	assert_int_equal(kmsg_parse_record("", 0, &r), -1);
	assert_int_equal(kmsg_parse_record("1", 1, &r), -1);
}

static void
cursor(void **state)
{
	static const char good[] = "ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b 341\n";
	struct kmsg_cursor c, d;
	char buf[128];
	size_t n;

	(void)state;
	assert_int_equal(kmsg_cursor_parse(good, sizeof(good) - 1, &c), 0);
	assert_string_equal(c.bootid, "ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b");
	assert_int_equal(c.next, 341);
	n = kmsg_cursor_format(&c, buf, sizeof(buf));
	assert_int_equal(n, sizeof(good) - 1);
	assert_memory_equal(buf, good, n);
	assert_int_equal(kmsg_cursor_parse(buf, n, &d), 0);
	assert_int_equal(kmsg_cursor_parse(good, sizeof(good) - 2, &c), -1);	/* no newline */
	assert_int_equal(kmsg_cursor_parse("ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b \n", 38, &c), -1);
	assert_int_equal(kmsg_cursor_parse("DDC9F5CF-a26d-42bc-9ebe-9ca8fe3f130b 1\n", 39, &c), -1);
	assert_int_equal(kmsg_cursor_parse("ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b 1\n\n", 40, &c), -1);
	assert_int_equal(kmsg_cursor_parse("ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b 1x\n", 40, &c), -1);
	assert_int_equal(kmsg_cursor_parse("", 0, &c), -1);
	assert_int_equal(kmsg_cursor_parse("\0\0\0", 3, &c), -1);
	assert_int_equal(kmsg_cursor_format(&c, buf, 5), 0);
}

/* kmsg_state_parse of a cursor line and the line */
static int
state_of(const char *line)
{
	char buf[512];
	struct kmsg_cursor c;
	int n = snprintf(buf, sizeof(buf), "ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b 1\n%s", line);

	return kmsg_state_parse(buf, (size_t)n, &c, NULL, NULL);
}

static int
collect(const struct kmsg_crash *c, void *arg)
{
	struct kmsg_crash *v = arg;
	unsigned i = 0;

	while (v[i].prog[0])
		i++;
	if (i >= 3)
		return -1;
	v[i] = *c;
	return 0;
}

/* The state file: the cursor, then crash lines whose strings hold anything a
 * file name may hold (spaces, '%', a lone '-', 8-bit bytes); every line is
 * checked, a bad one makes the whole file corrupt. */
static void
state_lines(void **state)
{
	struct kmsg_crash a, b, got[4];
	struct kmsg_cursor c;
	char buf[4096], line[2048];
	size_t n, m;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.at = 1795997557;
	a.usec = 920836666;
	a.seq = 347;
	a.pid = 10221;
	a.signal = 11;
	a.reported = 1;
	strcpy(a.prog, "qmail-remote");
	strcpy(a.addr, "0x0");
	strcpy(a.ip, "0x55930a18d1e9");
	strcpy(a.error, "0x4");
	strcpy(a.file, "my prog%20 \xff\n-x");
	a.file[12] = (char)0xff;
	a.file[13] = '\n';
	strcpy(a.service, "-");
	memset(&b, 0, sizeof(b));
	b.at = -5;
	b.pid = -1;
	b.oom = 1;
	b.signal = 9;
	strcpy(b.prog, "qmail-send");
	n = (size_t)snprintf(buf, sizeof(buf), "ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b 341\n");
	assert_true((m = kmsg_crash_format(&a, buf + n, sizeof(buf) - n)) > 0);
	assert_null(memchr(buf + n, '\xff', m));
	assert_int_equal(memchr(buf + n, '\n', m), buf + n + m - 1);
	n += m;
	assert_true((m = kmsg_crash_format(&b, line, sizeof(line))) > 0);
	assert_string_equal(line, "oom -5 0 0 -1 9 0 qmail-send - - - - -\n");
	memcpy(buf + n, line, m);
	n += m;
	memset(got, 0, sizeof(got));
	assert_int_equal(kmsg_state_parse(buf, n, &c, collect, got), 0);
	assert_int_equal(c.next, 341);
	assert_memory_equal(&got[0], &a, sizeof(a));
	assert_memory_equal(&got[1], &b, sizeof(b));
	assert_int_equal(got[2].prog[0], 0);
	assert_int_equal(state_of("crash 1 2 3 4 11 1 p - - - - -\n"), 0);
	/* the cursor alone (an older daemon's file) */
	assert_int_equal(kmsg_state_parse(buf, 41, &c, collect, got), 0);
	/* any bad line: corrupt */
	assert_int_equal(kmsg_state_parse(buf, n - 1, &c, NULL, NULL), -1);	/* no newline */
	assert_int_equal(state_of("crash 1 2 3 4 11 1 - - - - - -\n"), -1);	/* no prog */
	assert_int_equal(state_of("crash 1 2 3 4 11 2 p - - - - -\n"), -1);	/* reported 2 */
	assert_int_equal(state_of("crash 1 2 3 -2 11 1 p - - - - -\n"), -1);	/* pid -2 */
	assert_int_equal(state_of("crash 1 2 3 4 11 1 p%00 - - - - -\n"), -1);	/* NUL */
	assert_int_equal(state_of("crash 1 2 3 4 11 1 p - - - - - x\n"), -1);	/* a word more */
	assert_int_equal(state_of("kill 1 2 3 4 11 1 p - - - - -\n"), -1);
	/* too long for the buffer: nothing */
	assert_int_equal(kmsg_crash_format(&a, line, 20), 0);
}

static void
progs_and_signals(void **state)
{
	const char *why = NULL;
	char buf[16];

	(void)state;
	assert_int_equal(kmsg_progs_valid("qmail-*, tcpserver,multilog", &why), 0);
	assert_int_equal(kmsg_progs_valid("", &why), -1);
	assert_string_equal(why, "empty");
	assert_int_equal(kmsg_progs_valid(" , ", &why), -1);
	assert_int_equal(kmsg_progs_valid("a*b", &why), -1);
	assert_string_equal(why, "bad-name");
	assert_int_equal(kmsg_progs_valid("/usr/bin/x", &why), -1);
	assert_string_equal(kmsg_signame(11, buf, sizeof(buf)), "SIGSEGV");
	assert_string_equal(kmsg_signame(7, buf, sizeof(buf)), "SIGBUS");
	assert_string_equal(kmsg_signame(0, buf, sizeof(buf)), "unknown");
	assert_string_equal(kmsg_signame(40, buf, sizeof(buf)), "SIG40");
}

static void
seq_steps(void **state)
{
	struct kmsg_seq fresh = { 0, 0 }, cursor = { 100, 1 }, reboot = { 0, 1 };

	(void)state;
	/* no cursor: nothing to skip, nothing known lost */
	assert_int_equal(kmsg_seq_step(&fresh, 500), 0);
	assert_int_equal(kmsg_seq_step(&fresh, 501), 0);
	assert_int_equal(kmsg_seq_step(&fresh, 505), 3);	/* EPIPE: 502..504 overwritten */
	assert_int_equal(fresh.next, 506);
	/* a cursor: what is before it is skipped; a gap after it is lost */
	assert_int_equal(kmsg_seq_step(&cursor, 0), -1);
	assert_int_equal(kmsg_seq_step(&cursor, 99), -1);
	assert_int_equal(kmsg_seq_step(&cursor, 100), 0);
	assert_int_equal(kmsg_seq_step(&cursor, 100), -1);
	assert_int_equal(kmsg_seq_step(&cursor, 150), 49);
	assert_int_equal(cursor.next, 151);
	/* after a reboot: from 0; a first record later than 0 means some were lost */
	assert_int_equal(kmsg_seq_step(&reboot, 7), 7);
	assert_int_equal(kmsg_seq_step(&reboot, 8), 0);
}

static void
ring(void **state)
{
	struct crash c, out[4];
	unsigned i;

	(void)state;
	crashlog_clear();
	assert_int_equal(crashlog_recent(out, 4), 0);
	assert_null(crashlog_get(0));
	memset(&c, 0, sizeof(c));
	for (i = 0; i < CRASHLOG_RING + 3; i++) {
		c.seq = i;
		crashlog_add(&c);
	}
	assert_int_equal(crashlog_count(), CRASHLOG_RING);
	assert_int_equal(crashlog_recent(out, 4), 4);
	assert_int_equal(out[0].seq, CRASHLOG_RING + 2);
	assert_int_equal(out[3].seq, CRASHLOG_RING - 1);
	assert_int_equal(crashlog_get(CRASHLOG_RING - 1)->seq, 3);
	assert_null(crashlog_get(CRASHLOG_RING));
	crashlog_clear();
}

/* The services svc publishes: a crash is one's by pid or by program, within
 * its window; the first that fits wins; publishing replaces. */
static void
services(void **state)
{
	struct crashlog_service sv[] = {
		{ "/service/a", 100, 1000, 2000, "a\0exec\0qmail-smtpd\0" },
		{ "/service/b", 200, 1500, 3000, "b\0qmail-smtpd\0tcpserver\0" },
		{ "/service/c", 0, 0, 5000, NULL },
	};
	char path[16];

	(void)state;
	assert_int_equal(crashlog_publish(sv, 3), 0);
	assert_true(crashlog_published());
	assert_true(crashlog_service_of("x", 100, 1000, path, sizeof(path)));
	assert_string_equal(path, "/service/a");
	assert_false(crashlog_service_of("x", 100, 999, path, sizeof(path)));
	assert_true(crashlog_service_of("qmail-smtpd", -1, 1700, path, sizeof(path)));
	assert_string_equal(path, "/service/a");
	assert_true(crashlog_service_of("qmail-smtpd", -1, 2500, path, sizeof(path)));
	assert_string_equal(path, "/service/b");
	assert_true(crashlog_service_of("tcpserver", 5, 1500, path, 5));
	assert_string_equal(path, "/ser");		/* cut to fit */
	assert_false(crashlog_service_of("qmail-smtp", -1, 1700, path, sizeof(path)));
	assert_false(crashlog_service_of("", 0, 1700, path, sizeof(path)));
	assert_true(crashlog_service_of("c", 0, 4000, path, sizeof(path)) == 0);
	assert_int_equal(crashlog_publish(sv + 2, 1), 0);
	assert_false(crashlog_service_of("x", 100, 1000, path, sizeof(path)));
	assert_int_equal(crashlog_publish(NULL, 0), 0);
	assert_true(crashlog_published());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_raw),
		cmocka_unit_test(fixture_dmesg),
		cmocka_unit_test(fixture_preexisting),
		cmocka_unit_test(old_kernel_form),
		cmocka_unit_test(hand_made),
		cmocka_unit_test(long_and_nul),
		cmocka_unit_test(fatal_signal),
		cmocka_unit_test(oom_and_suppressed),
		cmocka_unit_test(records),
		cmocka_unit_test(cursor),
		cmocka_unit_test(state_lines),
		cmocka_unit_test(progs_and_signals),
		cmocka_unit_test(seq_steps),
		cmocka_unit_test(ring),
		cmocka_unit_test(services),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
