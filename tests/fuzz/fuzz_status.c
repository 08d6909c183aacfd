/* The reader of the status file (daemon/status.c) over arbitrary bytes:
 * bounded, never past the input; what it accepts writes back to a file it
 * reads the same; the plugin's status line stays within 200 bytes with one
 * '|' whatever the file says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "status.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct status_file a, b;
	struct status_verdict v;
	struct status_out *o;
	char *buf, *again, line[STATUS_NAGIOS_MAX + 1];
	unsigned long i, ln;
	const char *why, *t;
	size_t len, n;

	if (size > (1 << 20) || !(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	if (status_parse(buf, size, &a, &ln, &why) < 0) {
		if (!why || ln < 1)
			abort();
		free(buf);
		return 0;
	}
	status_judge(&a, a.written + 7, (int)(size & 1), &v);
	n = status_nagios_line(&a, &v, line, sizeof(line));
	if (n > STATUS_NAGIOS_MAX || n != strlen(line) || line[n - 1] != '\n' ||
	    !strchr(line, '|') || strchr(line, '|') != strrchr(line, '|'))
		abort();
	for (i = 0; i < a.nfindings; i++)	/* a subject the reader accepted prints as is */
		if (strchr(a.finding[i].subject, '\n'))
			abort();

	/* write back what was read; it reads the same */
	if (!(o = status_begin(a.pid, a.start, a.written, a.check, a.nchecks)))
		abort();
	for (i = 0; i < a.nfindings; i++)
		status_add(o, &a.finding[i]);
	if (!(t = status_text(o, &len)) || !(again = malloc(len + 1)))
		abort();
	memcpy(again, t, len + 1);
	status_commit(o, -1);
	if (status_parse(again, len, &b, &ln, &why) < 0 || b.pid != a.pid ||
	    b.start != a.start || b.written != a.written || b.nchecks != a.nchecks ||
	    b.nfindings != a.nfindings)
		abort();
	for (i = 0; i < a.nchecks; i++)
		if (strcmp(a.check[i].name, b.check[i].name) || a.check[i].last != b.check[i].last ||
		    a.check[i].result != b.check[i].result ||
		    a.check[i].interval != b.check[i].interval ||
		    a.check[i].timeout != b.check[i].timeout)
			abort();
	for (i = 0; i < a.nfindings; i++)
		if (a.finding[i].level != b.finding[i].level ||
		    strcmp(a.finding[i].check, b.finding[i].check) ||
		    strcmp(a.finding[i].event, b.finding[i].event) ||
		    a.finding[i].first != b.finding[i].first ||
		    strcmp(a.finding[i].subject, b.finding[i].subject))
			abort();
	status_file_free(&a);
	status_file_free(&b);
	free(again);
	free(buf);
	return 0;
}
