/* The remote check's work as the probe process reads it, over arbitrary
 * bytes: whatever the reader accepts, the root side's writers (put_*) write
 * again without a refusal, and that text reads back to the same work (helo,
 * every domain's name, numbers, relay and port, every skip address) and
 * writes again to the same bytes; every skip read is one remotework_skipped
 * sees. Each line of accepted work is accepted alone and, unless a number in
 * it has leading zeros, written back byte for byte (a skip: to the address
 * inet_pton makes of its text), so the reader changes nothing it reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "remotework.h"

/* the writers' text of w: its length (0 is fine: no work) */
static size_t
write_work(const struct remotework *w, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	size_t len = 0;
	unsigned i;

	if (*w->helo && remotework_put_helo(buf, size, &len, w->helo) < 0)
		abort();
	for (i = 0; i < w->n; i++)
		if (remotework_put_domain(buf, size, &len, &w->d[i]) < 0)
			abort();
	for (i = 0; i < w->nskip; i++)
		if (!inet_ntop(w->skip[i].v6 ? AF_INET6 : AF_INET, w->skip[i].a, addr,
		    sizeof(addr)) || remotework_put_skip(buf, size, &len, addr) < 0)
			abort();
	return len;
}

static void
check_strings(const struct remotework *w)
{
	unsigned i;

	if (!memchr(w->helo, 0, sizeof(w->helo)) || w->n > REMOTEWORK_DOMAINS ||
	    w->nskip > REMOTEWORK_SKIPS)
		abort();
	for (i = 0; i < w->n; i++) {
		const struct remotework_domain *d = &w->d[i];

		if (!memchr(d->domain, 0, sizeof(d->domain)) || !*d->domain ||
		    !memchr(d->relay, 0, sizeof(d->relay)))
			abort();
		/* a relay has a port; the MX has none */
		if (*d->relay ? d->port < 1 || d->port > 65535 : d->port != 0)
			abort();
		if (d->oldest < 0)
			abort();
	}
	for (i = 0; i < w->nskip; i++)
		if ((w->skip[i].v6 != 0 && w->skip[i].v6 != 1) ||
		    !remotework_skipped(w, w->skip[i].v6, w->skip[i].a))
			abort();
}

static void
check_same(const struct remotework *a, const struct remotework *b)
{
	unsigned i;

	if (strcmp(a->helo, b->helo) != 0 || a->n != b->n || a->nskip != b->nskip)
		abort();
	for (i = 0; i < a->n; i++)
		if (strcmp(a->d[i].domain, b->d[i].domain) != 0 ||
		    strcmp(a->d[i].relay, b->d[i].relay) != 0 || a->d[i].port != b->d[i].port ||
		    a->d[i].recipients != b->d[i].recipients || a->d[i].oldest != b->d[i].oldest)
			abort();
	for (i = 0; i < a->nskip; i++)
		if (a->skip[i].v6 != b->skip[i].v6 ||
		    memcmp(a->skip[i].a, b->skip[i].a, a->skip[i].v6 ? 16 : 4) != 0)
			abort();
}

/* one line of accepted work, with its '\n' */
static void
check_line(const char *line, size_t n)
{
	static struct remotework one;
	struct remotework_addr a;
	char out[1024], text[64];
	const char *why;
	size_t len, i;

	if (remotework_parse(line, n, &one, &why) < 0 || one.n + one.nskip + !!*one.helo != 1)
		abort();
	if (one.nskip) {
		if (n < 7 || n - 6 >= sizeof(text))
			abort();
		memcpy(text, line + 5, n - 6);
		text[n - 6] = 0;
		if (!remotework_addr(text, &a) || a.v6 != one.skip[0].v6 ||
		    memcmp(a.a, one.skip[0].a, sizeof(a.a)) != 0)
			abort();
		return;
	}
	for (i = 0; i + 2 < n; i++)
		if (line[i] == '0' && (i == 0 || line[i - 1] == ' ') && line[i + 1] >= '0' &&
		    line[i + 1] <= '9')
			return;	/* 007 is written 7 */
	len = write_work(&one, out, sizeof(out));
	if (len != n || memcmp(out, line, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct remotework w, again;
	static char buf[32768], buf2[32768];
	const char *why = (const char *)"unset";
	size_t len, len2, off, n;

	if (remotework_parse((const char *)data, size, &w, &why) < 0) {
		if (!why)	/* a refusal names its reason */
			abort();
		return 0;
	}
	if (why)
		abort();
	check_strings(&w);
	for (off = 0; off < size; off += n + 1) {
		n = (size_t)((const uint8_t *)memchr(data + off, '\n', size - off) - (data + off));
		check_line((const char *)data + off, n + 1);
	}
	len = write_work(&w, buf, sizeof(buf));
	why = (const char *)"unset";
	if (remotework_parse(buf, len, &again, &why) < 0 || why)
		abort();
	check_same(&w, &again);
	len2 = write_work(&again, buf2, sizeof(buf2));
	if (len2 != len || memcmp(buf, buf2, len) != 0)
		abort();
	return 0;
}
