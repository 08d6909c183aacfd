/* The status file (daemon/status.c): what the daemon writes after every run
 * and `qmail-maintd -s [-N]` reads as any user; the plugin output against the
 * Monitoring Plugins grammar; the man page's "What to do:" table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "checks.h"
#include "logline.h"
#include "status.h"

/* Issue 15 item 7: every event code of qmail-maintd(8) has its "What to do:"
 * sentence, in the generated table too (test_docs' advice test reads the page
 * itself). On: every check's paragraphs have theirs; 0 would require only
 * those of maintd, sweep and the every-check events. */
#ifndef STATUS_REQUIRE_ADVICE_FOR_EVERY_EVENT
#define STATUS_REQUIRE_ADVICE_FOR_EVERY_EVENT 1
#endif

#define NOW ((time_t)1764000000)

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(dir, sizeof(dir), "/tmp/test_status.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct status_check checks3[] = {
	{ "queue", NOW - 10, STATUS_RESULT_OK, 300, 60 },
	{ "tls", NOW - 20, STATUS_RESULT_OK, 3600, 60 },
	{ "svc", 0, STATUS_RESULT_NEVER, 3600, 60 },
};

/* The text of a status file: these checks and findings, written at NOW. */
static char *
text_of(pid_t pid, const struct status_check *c, unsigned nc, const struct status_finding *f,
    unsigned nf, size_t *len)
{
	struct status_out *o = status_begin(pid, NOW - 3600, NOW, c, nc);
	const char *t;
	char *copy;
	unsigned i;

	assert_non_null(o);
	for (i = 0; i < nf; i++)
		status_add(o, &f[i]);
	assert_non_null(t = status_text(o, len));
	assert_non_null(copy = malloc(*len + 1));
	memcpy(copy, t, *len + 1);
	assert_int_equal(status_commit(o, -1), -1);	/* frees it; no directory */
	return copy;
}

static void
put_file(const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/status", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* status_report's output and exit status over the file in dir, at now.
 * (Not inlined: gcc -O3 takes the memstream's buffer for a dangling local.) */
static __attribute__((noinline)) char *
report(int nagios, time_t now, int *st)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	assert_non_null(f);
	*st = status_report(f, dir, nagios, now);
	fclose(f);
	return out;
}

static void
round_trip(void **state)
{
	const struct status_finding f[] = {
		{ "kmsg", "crash", LEVEL_CRIT, NOW - 100,
		    "prog=qmail-remote pid=2413 signal=SIGSEGV" },
		{ "queue", "orphan-info", LEVEL_WARN, NOW - 50, "id=123456" },
		{ "tls", "cert-expiring", LEVEL_WARN, NOW - 40,
		    "target=smtp://127.0.0.1:25 subject=\"CN=mail example\"" },
		{ "svc", "paused", LEVEL_WARN, NOW - 30, "" },
	};
	struct status_file sf;
	unsigned long line;
	const char *why;
	size_t len;
	char *t = text_of(4242, checks3, 3, f, 4, &len);

	(void)state;
	assert_string_equal(t,
	    "qmail-maintd-status 1\n"
	    "pid 4242 start 1763996400 written 1764000000\n"
	    "check queue last 1763999990 result ok interval 300 timeout 60\n"
	    "check tls last 1763999980 result ok interval 3600 timeout 60\n"
	    "check svc last 0 result never interval 3600 timeout 60\n"
	    "finding crit kmsg crash first 1763999900 prog=qmail-remote pid=2413 signal=SIGSEGV\n"
	    "finding warn queue orphan-info first 1763999950 id=123456\n"
	    "finding warn tls cert-expiring first 1763999960 target=smtp://127.0.0.1:25 "
	    "subject=\"CN=mail example\"\n"
	    "finding warn svc paused first 1763999970\n"
	    "end 3 4\n");
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	assert_int_equal(sf.pid, 4242);
	assert_int_equal(sf.start, NOW - 3600);
	assert_int_equal(sf.written, NOW);
	assert_int_equal(sf.nchecks, 3);
	assert_string_equal(sf.check[1].name, "tls");
	assert_int_equal(sf.check[1].last, NOW - 20);
	assert_int_equal(sf.check[1].result, STATUS_RESULT_OK);
	assert_int_equal(sf.check[1].interval, 3600);
	assert_int_equal(sf.check[2].result, STATUS_RESULT_NEVER);
	assert_int_equal(sf.nfindings, 4);
	assert_int_equal(sf.finding[0].level, LEVEL_CRIT);
	assert_string_equal(sf.finding[0].check, "kmsg");
	assert_string_equal(sf.finding[0].event, "crash");
	assert_int_equal(sf.finding[0].first, NOW - 100);
	assert_string_equal(sf.finding[0].subject, f[0].subject);
	assert_string_equal(sf.finding[2].subject, f[2].subject);
	assert_string_equal(sf.finding[3].subject, "");
	status_file_free(&sf);
	free(t);
}

/* The subject as the log shows it: logline_subject of a real finding. */
static void
round_trip_logline(void **state)
{
	struct finding fi;
	char subj[LOGLINE_MAX];
	struct status_finding f = { "tls", "busy", LEVEL_WARN, NOW, subj };
	struct status_file sf;
	unsigned long line;
	const char *why;
	size_t len;
	char *t;

	(void)state;
	finding_init(&fi, LEVEL_WARN, FINDING_STATE, "tls", "busy");
	finding_add(&fi, "target", "smtp://[::1]:25");
	finding_add(&fi, "reply", "421 mx1 busy | try\nlater \"now\"\x01\xff");
	finding_subject(&fi);
	logline_subject(subj, sizeof(subj), &fi);
	t = text_of(1, checks3, 1, &f, 1, &len);
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	assert_string_equal(sf.finding[0].subject, subj);
	assert_non_null(strstr(subj, "\\x0a"));	/* the newline stayed escaped */
	status_file_free(&sf);
	free(t);
}

static int
has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
			return 1;
	return 0;
}

static void
hostile_subject(void **state)
{
	static char longsub[8000], huge[4000];
	struct status_finding f[4] = {
		{ "ev il\ncheck", "crash\n finding crit x", LEVEL_CRIT, NOW,
		    "a=1\nfinding crit forged event first 1 x=1\r\x7f\x1b[2J" },
		{ "", NULL, (enum level)99, -5, NULL },
		{ "queue", "many", LEVEL_WARN, NOW, longsub },
		{ "queue", "one", LEVEL_WARN, NOW, huge },
	};
	struct status_file sf;
	unsigned long line;
	const char *why, *p, *q, *cutat;
	size_t len, n = 0;
	char *t;
	int i;

	(void)state;
	/* many whole fields, then one quoted with spaces (and an escaped quote)
	 * across where the line ends: the cut falls before it, not inside */
	for (i = 0; n < 850; i++)
		n += (size_t)snprintf(longsub + n, sizeof(longsub) - n, "%sk%d=vvvvvvvvvv",
		    i ? " " : "", i);
	cutat = longsub + n;
	n += (size_t)snprintf(longsub + n, sizeof(longsub) - n, " q=\"a \\\" b");
	while (n < 1300)
		n += (size_t)snprintf(longsub + n, sizeof(longsub) - n, " x");
	n += (size_t)snprintf(longsub + n, sizeof(longsub) - n, "\" k=1");
	while (n < sizeof(longsub) - 64)
		n += (size_t)snprintf(longsub + n, sizeof(longsub) - n, " k=v");
	/* one field longer than a line */
	memset(huge, 'h', sizeof(huge) - 1);
	memcpy(huge, "k=", 2);
	t = text_of(1, checks3, 1, f, 4, &len);
	assert_false(has_control(t, len));
	for (p = t; (q = strchr(p, '\n')); p = q + 1)
		assert_true((size_t)(q - p) + 1 <= STATUS_LINE_MAX);
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	assert_int_equal(sf.nfindings, 4);
	/* names are words; the forged line stayed inside the subject */
	assert_string_equal(sf.finding[0].check, "ev_il_check");
	assert_string_equal(sf.finding[0].event, "crash__finding_crit_x");
	assert_non_null(strstr(sf.finding[0].subject, "a=1\\x0afinding crit forged"));
	assert_string_equal(sf.finding[1].check, "-");
	assert_string_equal(sf.finding[1].event, "-");
	assert_int_equal(sf.finding[1].level, LEVEL_CRIT);
	assert_int_equal(sf.finding[1].first, 0);
	/* cut between fields, marked */
	n = strlen(sf.finding[2].subject);
	assert_true(n < STATUS_LINE_MAX);
	assert_int_equal(n, (size_t)(cutat - longsub) + strlen(" truncated=1"));
	assert_memory_equal(sf.finding[2].subject, longsub, (size_t)(cutat - longsub));
	assert_string_equal(sf.finding[2].subject + (cutat - longsub), " truncated=1");
	assert_string_equal(sf.finding[3].subject, "truncated=1");
	status_file_free(&sf);
	free(t);
}

static void
bad_files(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "empty" },
		{ "hello\n", "not-a-status-file" },
		{ "qmail-maintd-status 2\npid 1 start 1 written 1\nend 0 0\n", "unknown-version" },
		{ "qmail-maintd-status 1\n", "incomplete" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n", "incomplete" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\nend 0 0", "incomplete" },
		{ "qmail-maintd-status 1\ncheck a last 0 result ok interval 1 timeout 1\nend 1 0\n",
		    "no-pid" },
		{ "qmail-maintd-status 1\npid 0 start 1 written 1\nend 0 0\n", "bad-pid" },
		{ "qmail-maintd-status 1\npid 99999999999 start 1 written 1\nend 0 0\n",
		    "bad-number" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\npid 2 start 1 written 1\n"
		    "end 0 0\n", "second-pid" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\nend 1 0\n", "bad-count" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\nend 0 0\nend 0 0\n",
		    "after-end" },
		{ "qmail-maintd-status 1\npid 1 start -1 written 1\nend 0 0\n", "bad-number" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "check a last 0 result maybe interval 1 timeout 1\nend 1 0\n", "bad-result" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "check a last 0 result ok interval 1 timeout 1 extra\nend 1 0\n",
		    "trailing-words" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "check a last 0 result ok interval 99999999999 timeout 1\nend 1 0\n",
		    "bad-number" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "finding panic a b first 1 x=1\nend 0 1\n", "bad-level" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "finding crit a b first 1 x=\x01\nend 0 1\n", "control-byte" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "finding crit a b\nend 0 1\n", "bad-syntax" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "finding crit a b first 1 x=1\nend 0 2\n", "bad-count" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "finding crit a/b b first 1\nend 0 1\n", "bad-word" },
		{ "qmail-maintd-status 1\npid  1 start 1 written 1\nend 0 0\n", "bad-number" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\r\nend 0 0\n", "control-byte" },
		{ "qmail-maintd-status 1\npid 1 start 1 written 1\nomitted crit x\nend 0 0\n",
		    "bad-number" },
	};
	struct status_file sf;
	unsigned long line;
	const char *why;
	unsigned i;
	char buf[4096];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].text);

		memcpy(buf, cases[i].text, n + 1);
		if (status_parse(buf, n, &sf, &line, &why) == 0)
			fail_msg("case %u parsed: %s", i, cases[i].text);
		if (strcmp(why, cases[i].why) != 0)
			fail_msg("case %u: %s, not %s", i, why, cases[i].why);
		assert_true(line >= 1);
	}
	/* a NUL byte is a control byte */
	memcpy(buf, "qmail-maintd-status 1\npid 1 start 1 written 1\0\nend 0 0\n", 56);
	assert_int_equal(status_parse(buf, 55, &sf, &line, &why), -1);
	assert_string_equal(why, "control-byte");
	assert_int_equal(line, 2);
	/* a line too long */
	{
		static char big[STATUS_LINE_MAX + 200];
		int n = snprintf(big, sizeof(big), "qmail-maintd-status 1\npid 1 start 1 written 1\n"
		    "finding crit a b first 1 ");

		memset(big + n, 'x', STATUS_LINE_MAX);
		memcpy(big + n + STATUS_LINE_MAX, "\nend 0 1\n", 10);
		assert_int_equal(status_parse(big, strlen(big), &sf, &line, &why), -1);
		assert_string_equal(why, "line-too-long");
		assert_int_equal(line, 3);
	}
	/* a line this version does not know is skipped; so is omitted */
	strcpy(buf, "qmail-maintd-status 1\npid 1 start 1 written 1\nfuture 1 2 3 \"x\"\n"
	    "omitted warn 7\nomitted crit 2\nend 0 0\n");
	assert_int_equal(status_parse(buf, strlen(buf), &sf, &line, &why), 0);
	assert_int_equal(sf.omitted[LEVEL_WARN], 7);
	assert_int_equal(sf.omitted[LEVEL_CRIT], 2);
	status_file_free(&sf);
}

static void
missing_or_garbage_unknown(void **state)
{
	char path[128], *out;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/status", dir);
	unlink(path);
	out = report(1, NOW, &st);
	assert_int_equal(st, STATUS_UNKNOWN);
	assert_non_null(strstr(out, "QMAIL-MAINTD UNKNOWN - cannot read the status file: ENOENT\n"));
	free(out);
	out = report(0, NOW, &st);
	assert_int_equal(st, STATUS_UNKNOWN);
	assert_non_null(strstr(out, "ENOENT"));
	free(out);

	put_file("qmail-maintd-status 1\npid 1 start 1 written 1\n", 45);	/* cut short */
	out = report(1, NOW, &st);
	assert_int_equal(st, STATUS_UNKNOWN);
	assert_non_null(strstr(out, "QMAIL-MAINTD UNKNOWN - damaged status file: line 2: incomplete\n"));
	free(out);
	put_file("\x7f" "ELF\x02\x01\x01", 7);
	out = report(1, NOW, &st);
	assert_int_equal(st, STATUS_UNKNOWN);
	free(out);

	/* a directory, a symbolic link: not read */
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	out = report(1, NOW, &st);
	assert_int_equal(st, STATUS_UNKNOWN);
	assert_non_null(strstr(out, "EISDIR") ? strstr(out, "EISDIR") : strstr(out, "EINVAL"));
	free(out);
	rmdir(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	out = report(1, NOW, &st);
	assert_int_equal(st, STATUS_UNKNOWN);
	assert_non_null(strstr(out, "ELOOP"));
	free(out);
	unlink(path);
}

static pid_t
dead_pid(void)
{
	pid_t p = fork();
	int ws;

	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, &ws, 0), p);
	return p;
}

static void
stale_by_pid(void **state)
{
	const struct status_finding f = { "queue", "orphan-info", LEVEL_WARN, NOW, "id=1" };
	size_t len;
	char *t = text_of(getpid(), checks3, 3, &f, 1, &len), *out;
	int st;

	(void)state;
	put_file(t, len);
	free(t);
	out = report(1, NOW + 5, &st);
	assert_int_equal(st, STATUS_WARNING);	/* alive and fresh: from the findings */
	assert_non_null(strstr(out, "QMAIL-MAINTD WARNING - 1 warning: queue orphan-info | "));
	free(out);

	t = text_of(dead_pid(), checks3, 3, &f, 1, &len);
	put_file(t, len);
	free(t);
	out = report(1, NOW + 5, &st);
	assert_int_equal(st, STATUS_CRITICAL);
	assert_non_null(strstr(out, "is not running, status 5s old | 'status_age'=5s\n"));
	assert_non_null(strstr(out, "\nwarn queue: orphan-info id=1 since=1764000000\n"));
	free(out);
	out = report(0, NOW + 5, &st);
	assert_int_equal(st, STATUS_CRITICAL);
	assert_non_null(strstr(out, "STALE: qmail-maintd pid "));
	free(out);
	/* pid 1 exists whoever asks (kill says EPERM): not stale */
	t = text_of(1, checks3, 3, NULL, 0, &len);
	put_file(t, len);
	free(t);
	out = report(1, NOW + 5, &st);
	assert_int_equal(st, STATUS_OK);
	free(out);
}

static void
stale_by_age(void **state)
{
	struct status_check c[3];
	struct status_verdict v;
	struct status_file sf;
	unsigned long line;
	const char *why;
	size_t len;
	char *t, *out;
	int st;

	(void)state;
	memcpy(c, checks3, sizeof(c));
	/* queue: every 300 s, limit 60: overdue after 660 s without a run */
	c[0].last = NOW - 660;
	t = text_of(getpid(), c, 3, NULL, 0, &len);
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	status_judge(&sf, NOW, 1, &v);
	assert_int_equal(v.overdue, 0);
	assert_int_equal(v.state, STATUS_OK);
	status_judge(&sf, NOW + 1, 1, &v);
	assert_int_equal(v.overdue, 1);
	assert_int_equal(v.first_overdue, 0);
	assert_int_equal(v.state, STATUS_CRITICAL);
	status_file_free(&sf);
	free(t);

	/* a check that never ran counts from the daemon's start (NOW - 3600):
	 * svc, every 60 s, limit 60, is overdue; so is queue */
	c[2].interval = 60;
	t = text_of(getpid(), c, 3, NULL, 0, &len);
	put_file(t, len);
	free(t);
	out = report(1, NOW + 1, &st);
	assert_int_equal(st, STATUS_CRITICAL);
	assert_non_null(strstr(out, "QMAIL-MAINTD CRITICAL - no run of queue for 661s (limit 660s), "
	    "also svc | 'findings_crit'=0 "));
	free(out);
}

static void
judge_states(void **state)
{
	struct status_check c[3];
	const struct status_finding crit = { "kmsg", "crash", LEVEL_CRIT, NOW, "prog=x" };
	const struct status_finding warn = { "queue", "orphan-info", LEVEL_WARN, NOW, "id=1" };
	const struct status_finding info = { "queue", "note", LEVEL_INFO, NOW, "" };
	struct status_finding both[2] = { warn, crit };
	struct status_verdict v;
	struct status_file sf;
	unsigned long line;
	const char *why;
	size_t len;
	char *t;

	(void)state;
	memcpy(c, checks3, sizeof(c));
	c[1].result = STATUS_RESULT_FAILED;
	/* failed check: UNKNOWN, unless there is a crit finding */
	t = text_of(1, c, 3, &warn, 1, &len);
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	status_judge(&sf, NOW, 1, &v);
	assert_int_equal(v.state, STATUS_UNKNOWN);
	assert_int_equal(v.failed, 1);
	assert_int_equal(v.ran, 2);
	status_file_free(&sf);
	free(t);
	t = text_of(1, c, 3, both, 2, &len);
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	status_judge(&sf, NOW, 1, &v);
	assert_int_equal(v.state, STATUS_CRITICAL);
	assert_int_equal(v.crit, 1);
	assert_int_equal(v.warn, 1);
	status_file_free(&sf);
	free(t);
	/* an info finding is no alarm */
	t = text_of(1, checks3, 3, &info, 1, &len);
	assert_int_equal(status_parse(t, len, &sf, &line, &why), 0);
	status_judge(&sf, NOW, 1, &v);
	assert_int_equal(v.state, STATUS_OK);
	status_file_free(&sf);
	free(t);
}

/* The Monitoring Plugins grammar: the status line within 200 bytes, '|' only
 * before the perfdata, each 'label'=value[UOM];[warn];[crit];[min];[max] with
 * labels of [a-z0-9_]; no '|' in the long output. */
static void
check_plugin_grammar(const char *out)
{
	static const char head[] = "^QMAIL-MAINTD (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+"
	    "( \\| ('[a-z0-9_]+'=-?[0-9]+(\\.[0-9]+)?(s|ms|us|%|B|KB|MB|TB|c)?"
	    "(;(-?[0-9.:~@]*)){0,4}( |$))+)?$";
	const char *nl = strchr(out, '\n');
	char first[512];
	regex_t re;
	size_t n;

	assert_non_null(nl);
	n = (size_t)(nl - out);
	if (n + 1 > STATUS_NAGIOS_MAX)
		fail_msg("status line of %zu bytes: %.*s", n + 1, (int)n, out);
	memcpy(first, out, n);
	first[n] = '\0';
	assert_int_equal(regcomp(&re, head, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&re, first, 0, NULL, 0) != 0)
		fail_msg("not the plugin grammar: %s", first);
	regfree(&re);
	if (strchr(nl + 1, '|'))
		fail_msg("a '|' in the long output: %s", nl + 1);
	assert_false(has_control(out, strlen(out)));
}

static void
nagios_line_limit(void **state)
{
	struct status_finding f[300];
	char checks[300][24], events[300][64], subj[300][64], *t, *out, *p, *q, *bar;
	unsigned i, shown = 0, total = 0;
	unsigned long more = 0;
	size_t len;
	int st;

	(void)state;
	for (i = 0; i < 300; i++) {
		snprintf(checks[i], sizeof(checks[i]), "check%u", i % 7);
		snprintf(events[i], sizeof(events[i]), "event-code-%u", i % 37);
		snprintf(subj[i], sizeof(subj[i]), "k=%u reply=\"a | b\"", i);
		f[i] = (struct status_finding){ checks[i], events[i],
		    i % 3 ? LEVEL_WARN : LEVEL_CRIT, NOW, subj[i] };
	}
	t = text_of(getpid(), checks3, 3, f, 150, &len);
	put_file(t, len);
	free(t);
	out = report(1, NOW, &st);
	assert_int_equal(st, STATUS_CRITICAL);
	check_plugin_grammar(out);
	/* every summary token is a whole "check event [xN]", then "+N more" */
	p = strstr(out, " - 50 critical, 100 warning: ");
	assert_non_null(p);
	p += strlen(" - 50 critical, 100 warning: ");
	bar = strstr(p, " | ");
	assert_non_null(bar);
	*bar = '\0';
	for (; p && *p; p = q) {
		char tok[128];
		unsigned a, b, x;
		int used = 0;

		q = strstr(p, "; ");
		snprintf(tok, sizeof(tok), "%.*s", q ? (int)(q - p) : (int)strlen(p), p);
		if (q)
			q += 2;
		if (sscanf(tok, "+%lu more%n", &more, &used) == 1 && (size_t)used == strlen(tok)) {
			assert_null(q);
			break;
		}
		if (sscanf(tok, "check%u event-code-%u x%u%n", &a, &b, &x, &used) == 3 &&
		    (size_t)used == strlen(tok))
			total += x;
		else if (sscanf(tok, "check%u event-code-%u%n", &a, &b, &used) == 2 &&
		    (size_t)used == strlen(tok))
			total++;
		else
			fail_msg("a token cut or unknown: \"%s\"", tok);
		shown++;
	}
	if (!shown || !more || shown + more > 150)
		fail_msg("%u shown, %lu more: %s", shown, more, out);
	free(out);

	/* the long output: bounded, '|' replaced, the rest counted */
	out = report(1, NOW, &st);
	assert_true(strlen(out) < STATUS_LONG_MAX + 2 * STATUS_NAGIOS_MAX);
	assert_non_null(strstr(out, "reply=\"a / b\" since="));
	assert_non_null(strstr(out, " more findings: qmail-maintd -s\n"));
	free(out);

	/* hostile names cannot break the grammar either */
	f[0] = (struct status_finding){ "c|x'y", "e|v=nt;1", LEVEL_CRIT, NOW, "a=|" };
	t = text_of(getpid(), checks3, 3, f, 1, &len);
	put_file(t, len);
	free(t);
	out = report(1, NOW, &st);
	check_plugin_grammar(out);
	free(out);
}

/* Every state's output keeps the grammar: OK, WARNING, UNKNOWN (failed check,
 * missing file, damaged file), CRITICAL (findings, stale). */
static void
perfdata_grammar(void **state)
{
	struct status_check c[3];
	const struct status_finding w = { "queue", "orphan-info", LEVEL_WARN, NOW, "id=1" };
	static const int want[] = { STATUS_OK, STATUS_WARNING, STATUS_UNKNOWN, STATUS_CRITICAL,
		STATUS_CRITICAL, STATUS_UNKNOWN };
	char path[128], *t, *out;
	size_t len;
	int st, k;

	(void)state;
	for (k = 0; k < 6; k++) {
		pid_t pid = k == 4 ? dead_pid() : getpid();

		memcpy(c, checks3, sizeof(c));
		if (k == 2)
			c[0].result = STATUS_RESULT_FAILED;
		if (k == 3)
			c[0].last = NOW - 100000;
		t = text_of(pid, c, 3, &w, k == 0 ? 0 : 1, &len);
		put_file(t, k == 5 ? len - 3 : len);
		free(t);
		out = report(1, NOW + 1, &st);
		check_plugin_grammar(out);
		assert_int_equal(st, want[k]);
		if (k == 1)
			assert_non_null(strstr(out, " | 'findings_crit'=0 'findings_warn'=1 "
			    "'checks_failed'=0;;;0;3 'status_age'=1s\n"));
		free(out);
	}
	snprintf(path, sizeof(path), "%s/status", dir);
	unlink(path);
	out = report(1, NOW, &st);
	check_plugin_grammar(out);
	free(out);
}

static void
human_output(void **state)
{
	const struct status_finding f[] = {
		{ "slow", "item", LEVEL_WARN, NOW - 7200, "name=a" },
		{ "tls", "timeout", LEVEL_WARN, NOW - 60, "limit=60" },
		{ "maintd", "probe-died", LEVEL_CRIT, NOW - 30, "pid=12 status=SIGKILL" },
	};
	char *t, *out, *crit, *warn;
	size_t len;
	int st;

	(void)state;
	t = text_of(getpid(), checks3, 3, f, 3, &len);
	put_file(t, len);
	free(t);
	out = report(0, NOW, &st);
	assert_int_equal(st, STATUS_CRITICAL);
	crit = strstr(out, "\ncrit (1):\n  crit maintd: probe-died pid=12 status=SIGKILL\n"
	    "      since 2025-11-24 15:59:30 (30s)\n      what to do: Look for a crash");
	warn = strstr(out, "\nwarn (2):\n  warn slow: item name=a\n      since 2025-11-24 14:00:00 (2h00m)\n"
	    "      what to do: see \"slow: item\" under EVENTS in qmail-maintd(8)\n");
	assert_non_null(crit);
	assert_non_null(warn);
	assert_true(crit < warn);
	/* tls: timeout is documented as CHECK: timeout */
	assert_non_null(strstr(out, "  warn tls: timeout limit=60\n      since 2025-11-24 15:59:00 (60s)\n"
	    "      what to do: Find what the check waits on"));
	assert_non_null(strstr(out, "  svc        never  last never, every 60m, limit 60s\n"));
	free(out);
}

static void
write_file(void **state)
{
	char path[128], tmp[128], buf[4096];
	struct stat st;
	ssize_t n;
	int dfd, fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/status", dir);
	snprintf(tmp, sizeof(tmp), "%s/.status.tmp", dir);
	unlink(path);
	unlink("/tmp/test_status-planted");
	/* a link planted under the temporary name is removed, not followed */
	assert_int_equal(symlink("/tmp/test_status-planted", tmp), 0);
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	umask(077);	/* the mode is 0644 whatever the umask */
	assert_int_equal(status_write(dfd, getpid(), NOW, checks3, 3, NULL, NULL), 0);
	umask(022);
	close(dfd);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(lstat("/tmp/test_status-planted", &st), -1);
	assert_int_equal(lstat(tmp, &st), -1);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\nend 3 0\n"));
}

/* The pull form: next() hands out the findings one by one. */
struct pull {
	const struct status_finding *f;
	unsigned n, i;
};

static int
pull_next(void *arg, struct status_finding *out)
{
	struct pull *p = arg;

	if (p->i == p->n)
		return 0;
	*out = p->f[p->i++];
	return 1;
}

static void
write_pull(void **state)
{
	const struct status_finding f[] = {
		{ "queue", "orphan-info", LEVEL_WARN, NOW, "id=1" },
		{ "kmsg", "crash", LEVEL_CRIT, NOW, "prog=x" },
	};
	struct pull p = { f, 2, 0 };
	struct status_check c[2];
	char *out;
	int dfd, st;

	(void)state;
	memcpy(c, checks3, sizeof(c));
	c[0].last = c[1].last = time(NULL);
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_int_equal(status_write(dfd, getpid(), time(NULL), c, 2, pull_next, &p), 0);
	close(dfd);
	out = report(1, time(NULL), &st);
	assert_int_equal(st, STATUS_CRITICAL);
	if (!strstr(out, "QMAIL-MAINTD CRITICAL - 1 critical, 1 warning: kmsg crash; queue orphan-info | "))
		fail_msg("%s", out);
	assert_non_null(strstr(out, "QMAIL-MAINTD CRITICAL - 1 critical, 1 warning: kmsg crash; queue orphan-info | "));
	free(out);
}

/* Past STATUS_MAXBYTES the findings are counted, not written; the reader
 * counts them all the same. */
static void
omitted_findings(void **state)
{
	static char subj[900];
	struct status_out *o = status_begin(1, NOW, NOW, checks3, 3);
	struct status_finding f = { "queue", "x", LEVEL_WARN, NOW, subj };
	struct status_verdict v;
	struct status_file sf;
	unsigned long i, line, n = STATUS_MAXBYTES / 900 + 100;
	const char *why, *t;
	char *copy;
	size_t len;

	(void)state;
	memset(subj, 's', sizeof(subj) - 1);
	memcpy(subj, "k=", 2);
	for (i = 0; i < n; i++) {
		f.level = i % 2 ? LEVEL_WARN : LEVEL_CRIT;
		status_add(o, &f);
	}
	assert_non_null(t = status_text(o, &len));
	assert_true(len <= STATUS_MAXBYTES);
	copy = malloc(len);
	memcpy(copy, t, len);
	status_commit(o, -1);
	assert_int_equal(status_parse(copy, len, &sf, &line, &why), 0);
	assert_true(sf.nfindings < n);
	assert_true(sf.omitted[LEVEL_WARN] + sf.omitted[LEVEL_CRIT] == n - sf.nfindings);
	status_judge(&sf, NOW, 1, &v);
	assert_int_equal(v.crit + v.warn, n);
	status_file_free(&sf);
	free(copy);
}

static void
advice_lookup(void **state)
{
	(void)state;
	assert_non_null(status_advice_for("sweep", "too-many-findings", LEVEL_WARN));
	/* an event every check has, documented as CHECK: */
	assert_string_equal(status_advice_for("queue", "timeout", LEVEL_WARN),
	    status_advice_for("CHECK", "timeout", LEVEL_WARN));
	assert_null(status_advice_for("slow", "item", LEVEL_WARN));
	assert_null(status_advice_for("", "", LEVEL_CRIT));
	assert_null(status_advice_for("zzzz", "zzzz", (enum level)77));
}

static int
advice_cmp(const struct status_advice *a, const struct status_advice *b)
{
	int r = strcmp(a->check, b->check);

	return r ? r : strcmp(a->event, b->event);
}

/* qmail-maintd(8) with roff's "\-" as "-" */
static char *
man_page(void)
{
	const char *src = getenv("SOURCE_DIR");
	char path[4096], *m;
	size_t n, i, j;
	FILE *f;

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/docs/qmail-maintd.8", src);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(m = calloc(1, 1 << 20));
	n = fread(m, 1, (1 << 20) - 1, f);
	fclose(f);
	for (i = j = 0; i < n; i++)
		if (!(m[i] == '\\' && m[i + 1] == '-'))
			m[j++] = m[i];
	m[j] = '\0';
	return m;
}

/* The table is sorted (the lookup is a binary search) and holds every
 * event of every check that the page documents: the generator read every
 * paragraph. */
static void
advice_table(void **state)
{
	char *man = man_page();
	const struct check *c;
	unsigned i, j, k;

	(void)state;
	assert_true(status_nadvice > 50);
	for (i = 1; i < status_nadvice; i++)
		if (advice_cmp(&status_advice[i - 1], &status_advice[i]) > 0)
			fail_msg("not sorted at %s %s", status_advice[i].check, status_advice[i].event);
	for (i = 0; i < status_nadvice; i++) {
		assert_true(status_advice[i].levels != 0);
		if (status_advice[i].text)
			assert_null(strchr(status_advice[i].text, '\\'));	/* no roff left */
	}
	for (i = 0; (c = maintd_checks[i]); i++)
		for (j = 0; c->events && c->events[j]; j++) {
			char code[128];

			/* one the page does not name at all is test_docs' to report */
			snprintf(code, sizeof(code), "%s: %s", c->name, c->events[j]);
			if (!strstr(man, code))
				continue;
			for (k = 0; k < status_nadvice; k++)
				if (strcmp(status_advice[k].check, c->name) == 0 &&
				    strcmp(status_advice[k].event, c->events[j]) == 0)
					break;
			if (k == status_nadvice)
				fail_msg("event %s: %s is not a paragraph the generator found", c->name,
				    c->events[j]);
		}
	free(man);
}

/* Every documented event has its "What to do:" (the daemon's own always). */
static void
advice_every_event(void **state)
{
	unsigned i, missing = 0;

	(void)state;
	for (i = 0; i < status_nadvice; i++) {
		const struct status_advice *a = &status_advice[i];
		int own = strcmp(a->check, "maintd") == 0 || strcmp(a->check, "sweep") == 0 ||
		    strcmp(a->check, "CHECK") == 0;

		if (a->text)
			continue;
		if (own || STATUS_REQUIRE_ADVICE_FOR_EVERY_EVENT)
			fail_msg("qmail-maintd(8): \"%s: %s\" has no \"What to do:\"", a->check, a->event);
		missing++;
	}
	if (missing)
		print_message("%u of %u documented events have no \"What to do:\" yet "
		    "(STATUS_REQUIRE_ADVICE_FOR_EVERY_EVENT is off)\n", missing, status_nadvice);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(round_trip_logline),
		cmocka_unit_test(hostile_subject),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(missing_or_garbage_unknown),
		cmocka_unit_test(stale_by_pid),
		cmocka_unit_test(stale_by_age),
		cmocka_unit_test(judge_states),
		cmocka_unit_test(nagios_line_limit),
		cmocka_unit_test(perfdata_grammar),
		cmocka_unit_test(human_output),
		cmocka_unit_test(write_file),
		cmocka_unit_test(write_pull),
		cmocka_unit_test(omitted_findings),
		cmocka_unit_test(advice_lookup),
		cmocka_unit_test(advice_table),
		cmocka_unit_test(advice_every_event),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
