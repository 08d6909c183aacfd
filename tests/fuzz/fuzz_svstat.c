/* supervise/status bytes, runit's stat/pid text and the svc state file:
 * no crash, no hang; what parses formats back to something that parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svstat.h"

static void
reformat(const char *path, size_t len, const struct svmem *m, void *arg)
{
	char p[256], line[2048];
	size_t n;

	(void)arg;
	if (len >= sizeof(p) || memchr(path, 0, len))
		return;
	memcpy(p, path, len);
	p[len] = 0;
	if (m->nrecent > SVMEM_RECENT)
		abort();
	n = svstat_mem_format(line, sizeof(line), p, m);
	if (n && (line[n - 1] != '\n' || memchr(line, '\n', n - 1)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svmem m = { 0 };
	struct svjudge j;
	struct svstat st;
	const char *why;
	size_t half = size / 2;

	if (svstat_decode(data, size, &st, &why) == 0) {
		svstat_observe(&m, &st, 1795619225, 10, 5, &j);
		svstat_observe(&m, &st, 1795619230, 10, 5, &j);
		if (j.restarts > SVMEM_RECENT)
			abort();
	}
	svstat_runit(data, half, data + half, size - half, 1795619225, &st, &why);
	svstat_mem_parse((const char *)data, size, reformat, NULL);
	svstat_names_prog("/service/qmail-smtpd", (const char *)data, size, "qmail-smtpd");
	/* the names as a list: always ended by an empty one, within the buffer */
	{
		char names[512];
		size_t n = svstat_prog_names("/service/qmail-smtpd", (const char *)data, size,
		    names, sizeof(names));

		if (n < 1 || n > sizeof(names) || names[n - 1] || (n > 1 && names[n - 2]))
			abort();
	}
	return 0;
}
