/* Arbitrary findings and label values through the metrics: the exposition
 * text is whole lines; the plugin output's first line is at most
 * NAGIOS_STATUS bytes with one '|', and past it '|' only starts the one
 * line of further perfdata. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static const char *const checks[] = { "queue", "tcpto", "kmsg", "tls", "dns", "svc" };
static const char *const keys[] = { "name", "target", "path", "prog", "days", "total" };

static const struct metric_family fams[] = {
	{ .name = "qmail_f_one", .type = METRIC_GAUGE, .help = "One.", .perf = "one",
	    .how = PERF_FIRST },
	{ .name = "qmail_f_sum_total", .type = METRIC_COUNTER, .help = "Sum.",
	    .label = { "prog" }, .perf = "sum", .uom = "c", .how = PERF_SUM },
	{ .name = "qmail_f_n", .type = METRIC_GAUGE, .help = "N.", .label = { "service" },
	    .perf = "n", .how = PERF_SUM_OF_N },
	{ .name = "qmail_f_each", .type = METRIC_GAUGE, .help = "Each.", .label = { "target" },
	    .perf = "each_", .how = PERF_EACH, .perf_div = 86400 },
	{ .name = "qmail_f_two", .type = METRIC_GAUGE, .help = "Two.", .label = { "a", "b" } },
	{ .name = NULL }
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics *m = metrics_new();
	char line[NAGIOS_LINE], esc[64], label[256];
	struct finding f;
	const uint8_t *p = data, *end = data + size, *q;
	size_t len, n;
	char *text;

	if (!m)
		return 0;
	metrics_register(m, fams);
	while (end - p >= 3) {
		const char *check = checks[p[0] % 6];
		unsigned fam = p[1] % 5;
		double v = (double)(int8_t)p[2] * 1e5;

		metrics_run_begin(m, check);
		finding_init(&f, (enum level)(p[1] % 4), FINDING_STATE, check, "event");
		p += 3;
		q = memchr(p, 0, (size_t)(end - p));
		n = q ? (size_t)(q - p) : (size_t)(end - p);
		finding_addn(&f, keys[n % 6], p, n);
		metrics_finding(m, check, &f);
		metrics_run_end(m, check, (int)(v < 0));
		n = n < sizeof(label) - 1 ? n : sizeof(label) - 1;
		memcpy(label, p, n);
		label[n] = 0;	/* a NUL inside the bytes cuts the label, as C strings do */
		p += n + (q != NULL);
		if (fam == 0)
			metrics_set(m, &fams[0], NULL, NULL, v);
		else if (fam == 1)
			metrics_add(m, &fams[1], label, NULL, v);
		else if (fam == 4)
			metrics_set(m, &fams[4], label, label, v);
		else {
			metrics_set(m, &fams[fam], label, NULL, v);
			metrics_limits(m, &fams[fam], label, NULL, v / 2, v / 3);
		}
	}
	metrics_sweep(m, 0.5, 1795619225);
	if ((text = metrics_text(m, &len))) {
		if (strlen(text) != len || (len && text[len - 1] != '\n'))
			abort();
		free(text);
	}
	n = metrics_nagios(m, (int)(size % 5), line, sizeof(line));
	if (n == 0 || line[n - 1] != '\n' || strlen(line) != n)
		abort();
	{
		const char *nl = strchr(line, '\n'), *bar = strchr(line, '|'), *p;
		int later = 0;

		if ((size_t)(nl - line) > NAGIOS_STATUS || !bar || bar > nl ||
		    memchr(bar + 1, '|', (size_t)(nl - bar - 1)))
			abort();
		for (p = nl + 1; *p; p = strchr(p, '\n') + 1) {
			const char *e = strchr(p, '\n'), *b = memchr(p, '|', (size_t)(e - p));

			if (b && (b != p || later++ || memchr(b + 1, '|', (size_t)(e - b - 1))))
				abort();
		}
	}
	n = metrics_escape_label(esc, sizeof(esc), data, size);
	if (n >= sizeof(esc) || strlen(esc) != n || strchr(esc, '\n'))
		abort();
	metrics_free(m);
	return 0;
}
