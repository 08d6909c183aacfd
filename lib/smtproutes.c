#include "smtproutes.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* One pass over the lines: a key is the domain's suffix from position at
 * (0: the domain, dl: the empty key, else a '.' of it); the smallest at
 * wins, and among lines of one key the last. */
struct search {
	const char *domain;
	size_t dl;
	size_t at;		/* of value's key */
	const char *value;	/* NULL: no key matched yet */
	size_t valuelen;
};

static int
match_line(const char *line, size_t len, void *arg)
{
	struct search *s = arg;
	const char *colon = memchr(line, ':', len);
	size_t kl, at;

	if (!colon || (kl = (size_t)(colon - line)) > s->dl)
		return 0;
	at = s->dl - kl;
	if ((at != 0 && at != s->dl && s->domain[at] != '.') ||
	    strncasecmp(line, s->domain + at, kl) != 0 || (s->value && at > s->at))
		return 0;
	s->at = at;
	s->value = colon + 1;
	s->valuelen = len - kl - 1;
	return 0;
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
	struct search s = { domain, strlen(domain), 0, NULL, 0 };

	memset(r, 0, sizeof(*r));
	control_lines(data, len, match_line, &s);
	/* an empty value: no route, the MX (qmail-remote) */
	return s.value ? parse_value(s.value, s.valuelen, r) : 0;
}
