#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "finding.h"
#include "metrics.h"

/* Synthetic findings shaped like the lines each check's issue specifies. */
static void
feed_queue(struct metrics *m, unsigned long messages)
{
	struct finding f;

	metrics_run_begin(m, "queue");
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "queue", "stats");
	finding_addu(&f, "messages", messages);
	finding_addu(&f, "todo", 2);
	finding_addu(&f, "preprocessed", 10);
	finding_addu(&f, "local", 3);
	finding_addu(&f, "remote", 9);
	finding_addu(&f, "bounce", 1);
	finding_addu(&f, "recipients", 14);
	finding_addu(&f, "done", 4);
	finding_addu(&f, "oldest", 86400);
	finding_addu(&f, "bytes", 123456);
	metrics_finding(m, &f);
	metrics_run_end(m, "queue", 0);
}

static void
feed_tcpto(struct metrics *m, unsigned long pruned)
{
	struct finding f;

	metrics_run_begin(m, "tcpto");
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "tcpto", "table");
	finding_add(&f, "layout", "ipv4");
	finding_addu(&f, "slots", 64);
	finding_addu(&f, "used", 5);
	finding_addu(&f, "skipped", 0);
	finding_addu(&f, "pruned", pruned);
	metrics_finding(m, &f);
	metrics_run_end(m, "tcpto", 0);
}

static void
feed_kmsg(struct metrics *m)
{
	struct finding f;
	unsigned i;

	metrics_run_begin(m, "kmsg");
	for (i = 0; i < 2; i++) {
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, "kmsg", "crash");
		finding_add(&f, "prog", "qmail-smtpd");
		finding_addu(&f, "pid", 100 + i);
		finding_subject(&f);
		finding_add(&f, "signal", "SIGSEGV");
		metrics_finding(m, &f);
	}
	metrics_run_end(m, "kmsg", 0);
}

static void
feed_tls(struct metrics *m)
{
	struct finding f;

	metrics_run_begin(m, "tls");
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "tls", "ok");
	finding_add(&f, "target", "smtp://127.0.0.1:25");
	finding_addu(&f, "days", 80);
	metrics_finding(m, &f);
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "tls", "cert-expiring");
	finding_add(&f, "target", "pop3s://127.0.0.1:995");
	finding_subject(&f);
	finding_addu(&f, "days", 12);
	finding_addu(&f, "warn", 30);
	finding_addu(&f, "crit", 7);
	metrics_finding(m, &f);
	finding_init(&f, LEVEL_CRIT, FINDING_STATE, "tls", "handshake-failed");
	finding_add(&f, "target", "smtp://127.0.0.1:587");
	finding_subject(&f);
	metrics_finding(m, &f);
	metrics_run_end(m, "tls", 0);
}

static void
feed_dns(struct metrics *m, unsigned long failed)
{
	struct finding f;

	metrics_run_begin(m, "dns");
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "dns", "checked");
	finding_addu(&f, "domains", 3);
	finding_addu(&f, "queries", 12);
	finding_addu(&f, "failed", failed);
	finding_addu(&f, "ms", 40);
	metrics_finding(m, &f);
	metrics_run_end(m, "dns", 0);
}

static void
svc_line(struct metrics *m, const char *path, const char *state, unsigned long total)
{
	struct finding f;

	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, "svc", "service");
	finding_add(&f, "path", path);
	finding_add(&f, "state", state);
	finding_addu(&f, "pid", 0);
	finding_addu(&f, "uptime", 0);
	finding_addu(&f, "restarts", 0);
	finding_addu(&f, "total", total);
	metrics_finding(m, &f);
}

static void
feed_svc(struct metrics *m, int second)
{
	struct finding f;

	metrics_run_begin(m, "svc");
	svc_line(m, "/service/qmail-smtpd", "up", second ? 9 : 8);
	if (!second) {
		svc_line(m, "/service/qmail-pop3d", "down", 0);
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, "svc", "down");
		finding_add(&f, "service", "/service/qmail-pop3d");
		finding_subject(&f);
		metrics_finding(m, &f);
	}
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "svc", "flapping");
	finding_add(&f, "service", "/service/qmail-smtpd");
	finding_subject(&f);
	finding_add(&f, "reason", "restarts");
	metrics_finding(m, &f);
	metrics_run_end(m, "svc", 0);
}

static int
has(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void
exposition(void **state)
{
	struct metrics *m = metrics_new();
	size_t len;
	char *t;

	(void)state;
	feed_queue(m, 17);
	feed_tcpto(m, 3);
	feed_tcpto(m, 4);
	feed_kmsg(m);
	feed_tls(m);
	feed_dns(m, 2);
	feed_dns(m, 1);
	feed_svc(m, 0);
	metrics_sweep(m, 0.25, 1795619225);
	assert_non_null(t = metrics_text(m, &len));
	assert_int_equal(strlen(t), len);
	assert_true(len > 0 && t[len - 1] == '\n');
	assert_true(has(t, "# TYPE qmail_queue_messages gauge"));
	assert_true(has(t, "qmail_queue_messages 17"));
	assert_true(has(t, "qmail_queue_todo 2"));
	assert_true(has(t, "qmail_queue_oldest_seconds 86400"));
	assert_true(has(t, "qmail_queue_recipients{state=\"pending\"} 14"));
	assert_true(has(t, "qmail_queue_recipients{state=\"done\"} 4"));
	assert_true(has(t, "qmail_tcpto_entries 5"));
	assert_true(has(t, "# TYPE qmail_tcpto_pruned_total counter"));
	assert_true(has(t, "qmail_tcpto_pruned_total 7"));
	assert_true(has(t, "qmail_kmsg_crashes_total{prog=\"qmail-smtpd\"} 2"));
	assert_true(has(t, "qmail_tls_cert_expiry_seconds{target=\"smtp://127.0.0.1:25\"} 6912000"));
	assert_true(has(t, "qmail_tls_probe_ok{target=\"smtp://127.0.0.1:25\"} 1"));
	assert_true(has(t, "qmail_tls_probe_ok{target=\"pop3s://127.0.0.1:995\"} 1"));
	assert_true(has(t, "qmail_tls_probe_ok{target=\"smtp://127.0.0.1:587\"} 0"));
	assert_true(has(t, "qmail_dns_lookup_failures_total 3"));
	assert_true(has(t, "qmail_svc_up{service=\"/service/qmail-smtpd\"} 1"));
	assert_true(has(t, "qmail_svc_up{service=\"/service/qmail-pop3d\"} 0"));
	assert_true(has(t, "qmail_svc_restarts_total{service=\"/service/qmail-smtpd\"} 8"));
	assert_true(has(t, "qmail_maintd_findings{check=\"svc\",level=\"crit\"} 1"));
	assert_true(has(t, "qmail_maintd_findings{check=\"svc\",level=\"warn\"} 1"));
	assert_true(has(t, "qmail_maintd_findings{check=\"kmsg\",level=\"crit\"} 2"));
	assert_true(has(t, "qmail_maintd_findings{check=\"queue\",level=\"crit\"} 0"));
	assert_true(has(t, "qmail_maintd_check_failed{check=\"queue\"} 0"));
	assert_true(has(t, "qmail_maintd_sweep_duration_seconds 0.250000"));
	assert_true(has(t, "qmail_maintd_last_sweep_timestamp_seconds 1795619225"));
	free(t);

	/* the next svc run replaces its gauges; counters stay */
	feed_svc(m, 1);
	assert_non_null(t = metrics_text(m, &len));
	assert_false(strstr(t, "qmail-pop3d"));
	assert_true(has(t, "qmail_svc_restarts_total{service=\"/service/qmail-smtpd\"} 9"));
	assert_true(has(t, "qmail_maintd_findings{check=\"svc\",level=\"crit\"} 0"));
	assert_true(has(t, "qmail_tcpto_pruned_total 7"));
	free(t);
	metrics_free(m);
}

static void
labels(void **state)
{
	static const char v[] = "a\"b\\c\nd\xff\x01" "\xc3\xa9";
	char out[64];

	(void)state;
	assert_int_equal(metrics_escape_label(out, sizeof(out), v, sizeof(v) - 1),
	    strlen("a\\\"b\\\\c\\nd\\\\xff\\\\x01\xc3\xa9"));
	assert_string_equal(out, "a\\\"b\\\\c\\nd\\\\xff\\\\x01\xc3\xa9");
	/* cut at an escape boundary, never in the middle of one */
	assert_int_equal(metrics_escape_label(out, 3, v, sizeof(v) - 1), 1);
	assert_string_equal(out, "a");
}

static void
nagios(void **state)
{
	/* the worst first: crit before warn, each in the order seen */
	static const char summary[] = "QMAIL-MAINTD CRITICAL - 2 critical, 2 warning, "
	    "0 could not check: tls handshake-failed target=smtp://127.0.0.1:587; "
	    "svc down service=/service/qmail-pop3d; tls cert-expiring target=pop3s://127.0.0.1:995";
	struct metrics *m = metrics_new();
	char line[NAGIOS_LINE];
	size_t n;

	(void)state;
	metrics_run_begin(m, "svc");
	svc_line(m, "/service/a", "up", 0);
	metrics_run_end(m, "svc", 0);
	metrics_sweep(m, 0.012, 1);
	n = metrics_nagios(m, NAGIOS_OK, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_string_equal(line, "QMAIL-MAINTD OK - 1 checks ok, no findings | "
	    "'findings_crit'=0;;;0 'findings_warn'=0;;;0 'sweep_duration'=0.012s;;;0 "
	    "'svc_up'=1;;;0;1 'svc_restarts'=0c;;;0\n");

	feed_queue(m, 17);
	feed_tls(m);
	feed_svc(m, 0);
	n = metrics_nagios(m, NAGIOS_CRITICAL, line, sizeof(line));
	assert_true(strncmp(line, summary, sizeof(summary) - 1) == 0);
	assert_true(strncmp(line + sizeof(summary) - 1, " | '", 4) == 0);
	assert_non_null(strstr(line, " 'queue_messages'=17;;;0"));
	assert_non_null(strstr(line, " 'queue_oldest'=86400s;;;0"));
	assert_non_null(strstr(line, " 'cert_days_pop3s://127.0.0.1:995'=12;30:;7:"));
	assert_non_null(strstr(line, " 'cert_days_smtp://127.0.0.1:25'=80 "));
	assert_non_null(strstr(line, " 'svc_up'=1;;;0;2"));
	assert_null(strchr(strchr(line, '|') + 1, '|'));
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', n - 1));

	/* a tiny buffer: still one terminated line */
	n = metrics_nagios(m, NAGIOS_UNKNOWN, line, 40);
	assert_true(n < 40);
	assert_int_equal(line[n - 1], '\n');
	assert_true(strncmp(line, "QMAIL-MAINTD UNKNOWN - ", 23) == 0);
	metrics_free(m);
}

/* The thresholds come from the tls check's variables, with its defaults. */
static void
cert_thresholds(void **state)
{
	static const struct confvar w = { "MAINTD_CERT_WARN_DAYS", "21" };
	static const struct confvar c = { "MAINTD_CERT_CRIT_DAYS", "7" };
	static const struct confvar *const vars[] = { &w, &c, NULL };
	static const struct check tls = { .name = "tls", .vars = vars };
	static const struct check *const checks[] = { &tls };
	struct metrics *m = metrics_new();
	struct conf conf = { .nchecks = 1, .checks = checks };
	char line[NAGIOS_LINE];

	(void)state;
	unsetenv("MAINTD_CERT_WARN_DAYS");
	setenv("MAINTD_CERT_CRIT_DAYS", "10", 1);
	metrics_configure(m, &conf);
	feed_tls(m);
	metrics_nagios(m, NAGIOS_CRITICAL, line, sizeof(line));
	assert_non_null(strstr(line, " 'cert_days_smtp://127.0.0.1:25'=80;21:;10:"));
	/* warn= and crit= on the line itself win */
	assert_non_null(strstr(line, " 'cert_days_pop3s://127.0.0.1:995'=12;30:;7:"));
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exposition),
		cmocka_unit_test(labels),
		cmocka_unit_test(nagios),
		cmocka_unit_test(cert_thresholds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
