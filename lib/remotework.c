#include "remotework.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "dnsmsg.h"

int
remotework_addr(const char *s, struct remotework_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1)
		return 1;
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->v6 = 1;
		return 1;
	}
	return 0;
}

/* A destination as qmail-remote takes one: a DNS name, or [address]. */
static int
domain_ok(const char *s)
{
	struct remotework_addr a;
	char lit[REMOTEWORK_NAME];
	size_t n = strlen(s);

	if (n >= 3 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(lit)) {
		memcpy(lit, s + 1, n - 2);
		lit[n - 2] = 0;
		return remotework_addr(lit, &a);
	}
	return dnsmsg_name_ok(s, n);
}

/* An EHLO argument: printable, no space (it goes on the wire as it is). */
static int
helo_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= REMOTEWORK_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127)
			return 0;
	return 1;
}

/* A relay: a DNS name or an address (brackets taken off). */
static int
relay_ok(const char *s)
{
	struct remotework_addr a;

	return remotework_addr(s, &a) || dnsmsg_name_ok(s, strlen(s));
}

static int
put(char *buf, size_t size, size_t *len, const char *line, int n)
{
	if (n < 0 || (size_t)n > size - *len)
		return -1;
	memcpy(buf + *len, line, (size_t)n);
	*len += (size_t)n;
	return 0;
}

int
remotework_put_helo(char *buf, size_t size, size_t *len, const char *helo)
{
	char line[REMOTEWORK_NAME + 8];

	if (!helo_ok(helo))
		return -1;
	return put(buf, size, len, line, snprintf(line, sizeof(line), "helo %s\n", helo));
}

int
remotework_put_domain(char *buf, size_t size, size_t *len, const struct remotework_domain *d)
{
	char line[2 * REMOTEWORK_NAME + 128];
	int n;

	/* what the reader takes, nothing else */
	if (!domain_ok(d->domain) || (*d->relay && (!relay_ok(d->relay) || !d->port ||
	    d->port > 65535)) || d->oldest < 0 || d->oldest > REMOTEWORK_OLDEST ||
	    d->recipients > REMOTEWORK_RECIPIENTS)
		return -1;
	n = snprintf(line, sizeof(line), "domain %s recipients %llu oldest %lld", d->domain,
	    d->recipients, d->oldest);
	if (*d->relay)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " relay %s port %u", d->relay,
		    d->port);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
	return put(buf, size, len, line, n);
}

int
remotework_put_skip(char *buf, size_t size, size_t *len, const char *address)
{
	struct remotework_addr a;
	char line[64];

	if (!remotework_addr(address, &a))
		return -1;
	return put(buf, size, len, line, snprintf(line, sizeof(line), "skip %s\n", address));
}

/* ---- the reader ---- */

#define WORDS 12

/* Splits the line at single spaces into at most WORDS words (copied into
 * store, NUL-terminated): their number, or -1. */
static int
split(const char *line, size_t len, char *store, size_t size, char **w)
{
	size_t i, k = 0;
	int n = 0;

	if (!len || len >= size)
		return -1;
	memcpy(store, line, len);
	store[len] = 0;
	if (memchr(store, 0, len))
		return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && store[i] != ' ')
			continue;
		if (i == k || n == WORDS)
			return -1;	/* an empty word, or too many */
		store[i] = 0;
		w[n++] = store + k;
		k = i + 1;
	}
	return n;
}

static int
number(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s || strlen(s) > 19)	/* up to 10^19 - 1: no overflow */
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *
name_into(char *dst, const char *s, int (*ok)(const char *))
{
	if (strlen(s) >= REMOTEWORK_NAME || !ok(s))
		return "bad-name";
	strcpy(dst, s);
	return NULL;
}

static const char *
parse_domain(struct remotework *w, char **word, int n)
{
	struct remotework_domain *d;
	unsigned long long v;
	const char *why;

	if (w->n == REMOTEWORK_DOMAINS)
		return "too-many-domains";
	if ((n != 6 && n != 10) || strcmp(word[2], "recipients") != 0 ||
	    strcmp(word[4], "oldest") != 0 ||
	    (n == 10 && (strcmp(word[6], "relay") != 0 || strcmp(word[8], "port") != 0)))
		return "bad-domain-line";
	d = &w->d[w->n];
	memset(d, 0, sizeof(*d));
	if ((why = name_into(d->domain, word[1], domain_ok)))
		return why;
	if (number(word[3], REMOTEWORK_RECIPIENTS, &d->recipients) < 0 ||
	    number(word[5], REMOTEWORK_OLDEST, &v) < 0)
		return "bad-number";
	d->oldest = (long long)v;
	if (n == 10) {
		if ((why = name_into(d->relay, word[7], relay_ok)))
			return why;
		if (number(word[9], 65535, &v) < 0 || v == 0)
			return "bad-port";
		d->port = (unsigned)v;
	}
	w->n++;
	return NULL;
}

static const char *
parse_line(struct remotework *w, const char *line, size_t len)
{
	char store[2 * REMOTEWORK_NAME + 128], *word[WORDS];
	int n = split(line, len, store, sizeof(store), word);

	if (n < 0)
		return "bad-line";
	if (strcmp(word[0], "helo") == 0) {
		if (n != 2 || !helo_ok(word[1]))
			return "bad-helo";
		strcpy(w->helo, word[1]);
		return NULL;
	}
	if (strcmp(word[0], "domain") == 0)
		return parse_domain(w, word, n);
	if (strcmp(word[0], "skip") == 0) {
		if (n != 2 || w->nskip == REMOTEWORK_SKIPS)
			return "bad-skip";
		if (!remotework_addr(word[1], &w->skip[w->nskip]))
			return "bad-address";
		w->nskip++;
		return NULL;
	}
	return "unknown-line";
}

int
remotework_parse(const char *buf, size_t len, struct remotework *w, const char **why)
{
	const char *nl;
	size_t off = 0, n;

	memset(w, 0, sizeof(*w));
	*why = NULL;
	while (off < len) {
		if (!(nl = memchr(buf + off, '\n', len - off))) {
			*why = "unterminated";
			return -1;
		}
		n = (size_t)(nl - (buf + off));
		if ((*why = parse_line(w, buf + off, n)))
			return -1;
		off += n + 1;
	}
	return 0;
}

int
remotework_skipped(const struct remotework *w, int v6, const unsigned char *a)
{
	unsigned i;

	for (i = 0; i < w->nskip; i++)
		if (w->skip[i].v6 == v6 && memcmp(w->skip[i].a, a, v6 ? 16 : 4) == 0)
			return 1;
	return 0;
}
