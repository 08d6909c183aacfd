/* Findings with arbitrary values through the metrics: the exposition text is
 * whole lines, the plugin status line one line with one '|'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const char *const checks[] = { "queue", "tcpto", "kmsg", "tls", "dns", "svc" };
static const char *const events[] = { "stats", "table", "crash", "ok", "checked", "service",
	"cert-expiring", "down" };
static const char *const keys[] = { "messages", "todo", "oldest", "recipients", "done", "used",
	"pruned", "prog", "target", "days", "warn", "crit", "failed", "path", "state", "total" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics *m = metrics_new();
	char line[NAGIOS_LINE], esc[64];
	struct finding f;
	const uint8_t *p = data, *end = data + size, *q;
	size_t len, n;
	char *text;

	if (!m)
		return 0;
	while (end - p >= 3) {
		const char *check = checks[p[0] % 6];

		metrics_run_begin(m, check);
		finding_init(&f, (enum level)(p[1] % 4), FINDING_STATE, check, events[p[1] / 4 % 8]);
		p += 2;
		while (p < end && *p != 0xff) {
			const char *key = keys[*p++ % 16];

			q = memchr(p, 0, (size_t)(end - p));
			n = q ? (size_t)(q - p) : (size_t)(end - p);
			finding_addn(&f, key, p, n);
			p += n + (q != NULL);
		}
		p += p < end;
		metrics_finding(m, &f);
		metrics_run_end(m, check, 0);
	}
	metrics_sweep(m, 0.5, 1795619225);
	if ((text = metrics_text(m, &len))) {
		if (strlen(text) != len || (len && text[len - 1] != '\n'))
			abort();
		free(text);
	}
	n = metrics_nagios(m, (int)(size % 5), line, sizeof(line));
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) ||
	    !strchr(line, '|') || strchr(strchr(line, '|') + 1, '|'))
		abort();
	n = metrics_escape_label(esc, sizeof(esc), data, size);
	if (n >= sizeof(esc) || strlen(esc) != n || strchr(esc, '\n'))
		abort();
	metrics_free(m);
	return 0;
}
