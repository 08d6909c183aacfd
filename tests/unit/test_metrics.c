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

/* The generic path: families declared here, by a check of this test program,
 * go through the same metrics_* calls the sweep runner makes; lib/metrics.c
 * knows no check. */
static const struct metric_family demo_fams[] = {
	{ .name = "qmail_demo_items", .type = METRIC_GAUGE, .help = "Items seen.",
	    .perf = "demo_items", .how = PERF_FIRST },
	{ .name = "qmail_demo_age_seconds", .type = METRIC_GAUGE, .help = "Age.",
	    .perf = "demo_age", .uom = "s", .how = PERF_FIRST },
	{ .name = "qmail_demo_done_total", .type = METRIC_COUNTER, .help = "Done.",
	    .label = { "prog" }, .perf = "demo_done", .uom = "c", .how = PERF_SUM },
	{ .name = "qmail_demo_up", .type = METRIC_GAUGE, .help = "Up.",
	    .label = { "service" }, .perf = "demo_up", .how = PERF_SUM_OF_N },
	{ .name = "qmail_demo_expiry_seconds", .type = METRIC_GAUGE, .help = "Expiry.",
	    .label = { "target" }, .perf = "days_", .how = PERF_EACH, .perf_div = 86400 },
	{ .name = "qmail_demo_pair", .type = METRIC_GAUGE, .help = "Two labels.",
	    .label = { "a", "b" } },
	{ .name = NULL }
};

/* One run of "demo", as the runner does it: begin, findings, end, samples. */
static void
demo_run(struct metrics *m, unsigned items, const char *down, int failed)
{
	struct finding f;

	metrics_run_begin(m, "demo");
	finding_init(&f, LEVEL_CRIT, FINDING_STATE, "demo", "broken");
	finding_add(&f, "target", "smtp://127.0.0.1:587");
	finding_subject(&f);
	metrics_finding(m, "demo", &f);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "demo", "stats");
	finding_addu(&f, "items", 99);		/* a field is never read as a number */
	metrics_finding(m, "demo", &f);
	metrics_run_end(m, "demo", failed);
	/* the check's .samples */
	metrics_set(m, &demo_fams[0], NULL, NULL, items);
	metrics_set(m, &demo_fams[1], NULL, NULL, 86400);
	metrics_add(m, &demo_fams[2], "qmail-smtpd", NULL, 2);
	metrics_set(m, &demo_fams[3], "/service/qmail-smtpd", NULL, 1);
	if (down)
		metrics_set(m, &demo_fams[3], down, NULL, 0);
	metrics_set(m, &demo_fams[4], "smtp://127.0.0.1:25", NULL, 80 * 86400 + 5);
	metrics_set(m, &demo_fams[4], "pop3s://127.0.0.1:995", NULL, 12 * 86400);
	metrics_limits(m, &demo_fams[4], "pop3s://127.0.0.1:995", NULL, 30, 7);
	metrics_set(m, &demo_fams[5], "x", "y\"", 1.5);
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
	assert_int_equal(metrics_register(m, demo_fams), 0);
	demo_run(m, 17, "/service/qmail-pop3d", 0);
	demo_run(m, 18, "/service/qmail-pop3d", 0);
	metrics_sweep(m, 0.25, 1795619225);
	assert_non_null(t = metrics_text(m, &len));
	assert_int_equal(strlen(t), len);
	assert_true(len > 0 && t[len - 1] == '\n');
	assert_true(has(t, "# HELP qmail_demo_items Items seen."));
	assert_true(has(t, "# TYPE qmail_demo_items gauge"));
	assert_true(has(t, "qmail_demo_items 18"));
	assert_true(has(t, "# TYPE qmail_demo_done_total counter"));
	assert_true(has(t, "qmail_demo_done_total{prog=\"qmail-smtpd\"} 4"));
	assert_true(has(t, "qmail_demo_up{service=\"/service/qmail-pop3d\"} 0"));
	assert_true(has(t, "qmail_demo_expiry_seconds{target=\"smtp://127.0.0.1:25\"} 6912005"));
	assert_true(has(t, "qmail_demo_pair{a=\"x\",b=\"y\\\"\"} 1.500000"));
	assert_true(has(t, "qmail_maintd_findings{check=\"demo\",level=\"crit\"} 1"));
	assert_true(has(t, "qmail_maintd_findings{check=\"demo\",level=\"warn\"} 0"));
	assert_true(has(t, "qmail_maintd_check_failed{check=\"demo\"} 0"));
	assert_true(has(t, "qmail_maintd_sweep_duration_seconds 0.250000"));
	assert_true(has(t, "qmail_maintd_last_sweep_timestamp_seconds 1795619225"));
	/* the daemon's families first, then the check's, in declaration order */
	assert_true(strstr(t, "qmail_maintd_findings") < strstr(t, "qmail_demo_items"));
	assert_true(strstr(t, "qmail_demo_items") < strstr(t, "qmail_demo_age_seconds"));
	free(t);

	/* the next run replaces its gauges; counters stay */
	demo_run(m, 3, NULL, 1);
	assert_non_null(t = metrics_text(m, &len));
	assert_false(strstr(t, "qmail-pop3d"));
	assert_true(has(t, "qmail_demo_items 3"));
	assert_true(has(t, "qmail_demo_done_total{prog=\"qmail-smtpd\"} 6"));
	assert_true(has(t, "qmail_maintd_check_failed{check=\"demo\"} 1"));
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
	struct metrics *m = metrics_new();
	char line[NAGIOS_LINE];
	size_t n;

	(void)state;
	metrics_run_begin(m, "idle");
	metrics_run_end(m, "idle", 0);
	metrics_sweep(m, 0.012, 1);
	n = metrics_nagios(m, STATUS_OK, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_string_equal(line, "QMAIL-MAINTD OK - 1 checks ok, no findings | "
	    "'findings_crit'=0;;;0 'findings_warn'=0;;;0 'sweep_duration'=0.012s;;;0\n");

	/* the perfdata of every family, the per-sample ones last */
	metrics_register(m, demo_fams);
	demo_run(m, 17, "/service/qmail-pop3d", 0);
	n = metrics_nagios(m, STATUS_CRITICAL, line, sizeof(line));
	assert_string_equal(line, "QMAIL-MAINTD CRITICAL - 1 critical, 0 warning, "
	    "0 could not check: demo broken target=smtp://127.0.0.1:587 | "
	    "'findings_crit'=1;;;0 'findings_warn'=0;;;0 'sweep_duration'=0.012s;;;0 "
	    "'demo_items'=17;;;0\n"
	    "demo broken target=smtp://127.0.0.1:587\n"
	    "days_1 = smtp://127.0.0.1:25\n"
	    "days_2 = pop3s://127.0.0.1:995\n"
	    "| 'demo_age'=86400s;;;0 'demo_done'=2c;;;0 'demo_up'=1;;;0;2 "
	    "'days_1'=80 'days_2'=12;30:;7:\n");
	assert_int_equal(line[n - 1], '\n');
	assert_true(strchr(line, '\n') - line <= NAGIOS_STATUS);

	/* a tiny buffer: still one terminated line */
	n = metrics_nagios(m, STATUS_UNKNOWN, line, 40);
	assert_true(n < 40);
	assert_int_equal(line[n - 1], '\n');
	assert_true(strncmp(line, "QMAIL-MAINTD UNKNOWN", 20) == 0);
	metrics_free(m);
}

/* A check whose findings are logged under another check's word (remote's
 * "queue"): counted under its own name, so the queue check's next run does
 * not drop them; the summary line shows them as logged. */
static void
word(void **state)
{
	struct metrics *m = metrics_new();
	struct finding f;
	char line[NAGIOS_LINE];
	size_t len;
	char *text;

	(void)state;
	metrics_run_begin(m, "remote");
	finding_init(&f, LEVEL_WARN, FINDING_EVENT, "queue", "stuck-diagnosis");
	finding_add(&f, "domain", "example.test");
	finding_subject(&f);
	metrics_finding(m, "remote", &f);
	metrics_run_end(m, "remote", 0);
	metrics_run_begin(m, "queue");
	metrics_run_end(m, "queue", 0);
	metrics_sweep(m, 0.5, 1);
	assert_non_null(text = metrics_text(m, &len));
	assert_non_null(strstr(text, "qmail_maintd_findings{check=\"remote\",level=\"warn\"} 1\n"));
	assert_non_null(strstr(text, "qmail_maintd_findings{check=\"queue\",level=\"warn\"} 0\n"));
	free(text);
	metrics_nagios(m, STATUS_WARNING, line, sizeof(line));
	assert_non_null(strstr(line, ": queue stuck-diagnosis domain=example.test"));
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exposition),
		cmocka_unit_test(labels),
		cmocka_unit_test(nagios),
		cmocka_unit_test(word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
