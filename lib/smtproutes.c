#include "smtproutes.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

struct search {
	const char *key;
	size_t keylen;
	const char *value;	/* of the last line of the key; NULL: none yet */
	size_t valuelen;
};

static int
match_line(const char *line, size_t len, void *arg)
{
	struct search *s = arg;
	const char *colon = memchr(line, ':', len);

	if (!colon || (size_t)(colon - line) != s->keylen ||
	    strncasecmp(line, s->key, s->keylen) != 0)
		return 0;
	s->value = colon + 1;
	s->valuelen = len - s->keylen - 1;
	return 0;	/* on: the last one wins */
}

/* RELAY[:PORT...] into r (v is not NUL-terminated): 1, or 0 for an empty
 * relay. */
static int
parse_value(const char *v, size_t n, struct smtproute *r)
{
	const char *host = v, *rest, *end;
	unsigned long port = 0;
	size_t hl = 0, i;

	if (n && v[0] == '[' && (end = memchr(v, ']', n))) {
		host = v + 1;
		hl = (size_t)(end - host);
		rest = end + 1;
	} else {
		while (hl < n && v[hl] != ':' && v[hl] != ' ' && v[hl] != '|')
			hl++;
		rest = v + hl;
	}
	n -= (size_t)(rest - v);
	if (!hl || hl >= sizeof(r->relay))
		return 0;
	memcpy(r->relay, host, hl);
	r->relay[hl] = 0;
	r->port = 25;
	if (n && rest[0] == ':') {
		/* qmail's scan_ulong: the digits there are; none (or 0) is port 25 */
		for (i = 1; i < n && rest[i] >= '0' && rest[i] <= '9' && port < 65536; i++)
			port = port * 10 + (unsigned long)(rest[i] - '0');
		if (port && port < 65536)
			r->port = (unsigned)port;
	}
	return 1;
}

int
smtproutes_find(const char *data, size_t len, const char *domain, struct smtproute *r)
{
	size_t dl = strlen(domain), i;
	struct search s;

	memset(r, 0, sizeof(*r));
	for (i = 0; i <= dl; i++) {
		if (i != 0 && i != dl && domain[i] != '.')
			continue;
		s.key = domain + i;
		s.keylen = dl - i;
		s.value = NULL;
		control_lines(data, len, match_line, &s);
		if (s.value)	/* an empty value: no route, the MX (qmail-remote) */
			return parse_value(s.value, s.valuelen, r);
	}
	return 0;
}
