/* The root process's side of the checks' memory: what a run in the probe
 * process reports (a finding, whose bytes the probe process chose) applied
 * by dns_failures_update and tls_seen_update, and the state files' parsers.
 * Input: a line of state file text, then after a NUL byte the finding as
 * "event\nkey=value\n..." (keys from the finding's own set, values any
 * bytes). Nothing is saved (no state directory); nothing may crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dns.h"
#include "dnsmsg.h"
#include "tls.h"

static void *dnscf, *tlscf;

static int
count_line(const char *name, unsigned long count, void *arg)
{
	(void)arg;
	if (!dnsmsg_name_ok(name, strlen(name)) || count == 0 || count > 1000000)
		abort();
	return 0;
}

static int
seen_line(const char *t, size_t len, void *arg)
{
	(void)t;
	(void)arg;
	if (len == 0)
		abort();
	return 0;
}

static void
configs(void)
{
	static struct conf conf;
	struct conf_err err;

	if (dnscf)
		return;
	memset(&conf, 0, sizeof(conf));
	strcpy(conf.qmailhome, "/nonexistent");
	strcpy(conf.me, "mx.fuzz.test");
	setenv("MAINTD_DNS_SERVERS", "127.0.0.1", 1);
	setenv("MAINTD_DNS_DOMAINS", "a.fuzz.test b.fuzz.test", 1);
	setenv("MAINTD_TLS_DANE", "0", 1);
	if (!(dnscf = check_dns.configure(&conf, &err)) || !(tlscf = check_tls.configure(&conf, &err)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "domain", "sweeps", "target", "error" };
	const char *p = (const char *)data, *end = p + size, *nul, *nl, *eq;
	struct finding f;
	char event[65];
	size_t i, n;

	configs();
	nul = memchr(p, 0, size);
	dns_failures_parse(p, nul ? (size_t)(nul - p) : size, count_line, NULL);
	tls_seen_parse(p, nul ? (size_t)(nul - p) : size, seen_line, NULL);
	if (!nul)
		return 0;
	p = nul + 1;
	if (!(nl = memchr(p, '\n', (size_t)(end - p))))
		return 0;
	n = (size_t)(nl - p) < sizeof(event) - 1 ? (size_t)(nl - p) : sizeof(event) - 1;
	memcpy(event, p, n);
	event[n] = 0;
	finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, event);
	for (p = nl + 1; p < end && f.nfields < FINDING_FIELDS; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		if (!(eq = memchr(p, '=', (size_t)(nl - p))))
			continue;
		for (i = 0; i < 4 && (strlen(keys[i]) != (size_t)(eq - p) ||
		    memcmp(keys[i], p, (size_t)(eq - p)) != 0); i++)
			;
		finding_addn(&f, i < 4 ? keys[i] : "other", eq + 1, (size_t)(nl - eq - 1));
	}
	if (dns_failures_update(-1, dnscf, &f) < 0 || tls_seen_update(-1, tlscf, &f) < 0)
		abort();
	return 0;
}
