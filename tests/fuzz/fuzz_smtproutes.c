/* control/smtproutes looked up as qmail-remote does, over arbitrary bytes:
 * the input is a domain (up to its first NUL, cut to 255 bytes) and the file
 * (the rest; all domain when there is no NUL). A route found has a non-empty
 * relay, NUL-terminated in its buffer, and a port in 1..65535; keys compare
 * without case, so the domain in upper or lower case finds the same route;
 * and a line for the domain itself, appended to the file, is the route, as
 * the exact key comes first and the last line of a key wins. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtproutes.h"

static void
check(int found, const struct smtproute *r)
{
	if (found != 0 && found != 1)
		abort();
	if (!found)
		return;
	if (!memchr(r->relay, 0, sizeof(r->relay)) || !r->relay[0] || r->port < 1 ||
	    r->port > 65535)
		abort();
}

static int
same(int f1, const struct smtproute *a, int f2, const struct smtproute *b)
{
	return f1 == f2 && (!f1 || (strcmp(a->relay, b->relay) == 0 && a->port == b->port));
}

/* a domain that a line of the file can carry as its key, as it is */
static int
keyable(const char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i] == ':' || d[i] == '\n')
			return 0;
	if (n && (d[0] == '#' || d[0] == ' ' || d[0] == '\t' || d[0] == '\r' ||
	    d[n - 1] == ' ' || d[n - 1] == '\t' || d[n - 1] == '\r'))
		return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char tail[] = ":fuzz.relay.invalid:2626\n";
	struct smtproute r, r2;
	const uint8_t *nul = memchr(data, 0, size);
	const char *file = "";
	size_t dl = nul ? (size_t)(nul - data) : size, fl = 0, i;
	char domain[256], other[256], *more;
	int found, f2;

	if (nul) {
		file = (const char *)nul + 1;
		fl = size - dl - 1;
	}
	if (dl > sizeof(domain) - 1)
		dl = sizeof(domain) - 1;
	memcpy(domain, data, dl);
	domain[dl] = 0;

	found = smtproutes_find(file, fl, domain, &r);
	check(found, &r);

	for (i = 0; i <= dl; i++)
		other[i] = domain[i] >= 'a' && domain[i] <= 'z' ? (char)(domain[i] - 32) : domain[i];
	f2 = smtproutes_find(file, fl, other, &r2);
	check(f2, &r2);
	if (!same(found, &r, f2, &r2))
		abort();
	for (i = 0; i <= dl; i++)
		other[i] = domain[i] >= 'A' && domain[i] <= 'Z' ? (char)(domain[i] + 32) : domain[i];
	f2 = smtproutes_find(file, fl, other, &r2);
	check(f2, &r2);
	if (!same(found, &r, f2, &r2))
		abort();

	if (!keyable(domain, dl) || !(more = malloc(fl + 1 + dl + sizeof(tail))))
		return 0;
	memcpy(more, file, fl);
	more[fl] = '\n';
	memcpy(more + fl + 1, domain, dl);
	memcpy(more + fl + 1 + dl, tail, sizeof(tail) - 1);
	f2 = smtproutes_find(more, fl + 1 + dl + sizeof(tail) - 1, other, &r2);
	if (f2 != 1 || strcmp(r2.relay, "fuzz.relay.invalid") != 0 || r2.port != 2626)
		abort();
	free(more);
	return 0;
}
