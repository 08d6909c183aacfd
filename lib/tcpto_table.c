#include "tcpto_table.h"

#include <stdio.h>
#include <string.h>

#define CLASSIC_REC 16
#define SQMAIL_REC 32

static const char *const layout_names[] = { "unknown", "classic", "sqmail", "empty" };

const char *
tcpto_layout_name(enum tcpto_layout l)
{
	if ((unsigned)l >= sizeof(layout_names) / sizeof(layout_names[0]))
		return "unknown";
	return layout_names[l];
}

static int
zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static int
af_inet6(unsigned char af)
{
	return af == TCPTO_AF_INET6_LINUX || af == TCPTO_AF_INET6_NETBSD ||
	    af == TCPTO_AF_INET6_FREEBSD || af == TCPTO_AF_INET6_DARWIN;
}

/* What qmail-remote writes: count capped, unused bytes zero, a time with every address. */
static int
classic_rec(const unsigned char *r, struct tcpto_rec *out)
{
	memset(out, 0, sizeof(*out));
	if ((out->empty = zero(r, CLASSIC_REC)))
		return 1;
	if (!zero(r + 5, 3) || !zero(r + 12, 4) || r[4] > TCPTO_MAXCOUNT)
		return 0;
	memcpy(out->addr, r, 4);
	out->count = r[4];
	out->when = get_le32(r + 8);
	return out->when != 0;
}

static int
sqmail_rec(const unsigned char *r, struct tcpto_rec *out)
{
	static const char pad[12] = "............";

	memset(out, 0, sizeof(*out));
	if ((out->empty = zero(r, SQMAIL_REC)))
		return 1;
	if (!zero(r + 1, 3) || !zero(r + 5, 3) || !zero(r + 12, 4) || r[4] > TCPTO_MAXCOUNT)
		return 0;
	out->af = r[0];
	if (r[0] == TCPTO_AF_INET) {
		if (memcmp(r + 20, pad, sizeof(pad)) != 0)
			return 0;
		memcpy(out->addr, r + 16, 4);
	} else if (af_inet6(r[0])) {
		out->v6 = 1;
		memcpy(out->addr, r + 16, 16);
	} else
		return 0;
	out->count = r[4];
	out->when = get_le32(r + 8);
	return out->when != 0;
}

static int
decode_as(const unsigned char *b, struct tcpto_table *t, enum tcpto_layout l)
{
	unsigned i, n = l == TCPTO_CLASSIC ? TCPTO_SIZE / CLASSIC_REC : TCPTO_SIZE / SQMAIL_REC;
	size_t reclen = TCPTO_SIZE / n;
	unsigned char af6 = 0;
	struct tcpto_rec *r;

	for (i = 0; i < n; i++) {
		r = &t->rec[i];
		if (l == TCPTO_CLASSIC ? !classic_rec(b + i * reclen, r) :
		    !sqmail_rec(b + i * reclen, r))
			return 0;
		/* one table, one system: a single AF_INET6 value */
		if (r->v6 && af6 && r->af != af6)
			return 0;
		if (r->v6)
			af6 = r->af;
	}
	t->layout = l;
	t->slots = n;
	t->reclen = reclen;
	return 1;
}

enum tcpto_layout
tcpto_decode(const void *buf, size_t len, struct tcpto_table *t)
{
	const unsigned char *b = buf;

	memset(t, 0, sizeof(*t));
	if (len != TCPTO_SIZE)
		return TCPTO_UNKNOWN;
	/* zeroed by qmail-tcpok or at qmail-send's start: either layout */
	if (zero(b, len)) {
		decode_as(b, t, TCPTO_CLASSIC);
		return t->layout = TCPTO_EMPTY;
	}
	/* Both readings fit only if every classic address is a network address
	 * like 10.0.0.0, which no mail host has: s/qmail wins the tie. */
	if (decode_as(b, t, TCPTO_SQMAIL))
		return TCPTO_SQMAIL;
	if (decode_as(b, t, TCPTO_CLASSIC))
		return TCPTO_CLASSIC;
	memset(t, 0, sizeof(*t));
	return TCPTO_UNKNOWN;
}

void
tcpto_encode(enum tcpto_layout l, const struct tcpto_rec *r, unsigned char *out)
{
	if (l == TCPTO_CLASSIC || l == TCPTO_EMPTY) {
		memset(out, 0, CLASSIC_REC);
		if (r->empty)
			return;
		memcpy(out, r->addr, 4);
		out[4] = (unsigned char)r->count;
		put_le32(out + 8, r->when);
		return;
	}
	memset(out, 0, SQMAIL_REC);
	if (r->empty)
		return;
	out[0] = r->af;
	out[4] = (unsigned char)r->count;
	put_le32(out + 8, r->when);
	if (r->v6)
		memcpy(out + 16, r->addr, 16);
	else {
		memcpy(out + 16, r->addr, 4);
		memset(out + 20, '.', 12);
	}
}

/* RFC 5952: lower case, no leading zeros, the longest run (first of equals) of
 * two or more zero groups as "::", IPv4-mapped addresses with a dotted quad. */
static size_t
format6(const unsigned char *a, char *out, size_t size)
{
	unsigned g[8], i, best = 8, bestlen = 0, run;
	size_t n = 0;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	if (zero(a, 10) && g[5] == 0xffff)
		return (size_t)snprintf(out, size, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
	for (i = 0; i < 8; i += run ? run : 1) {
		for (run = 0; i + run < 8 && g[i + run] == 0; run++)
			;
		if (run >= 2 && run > bestlen) {
			best = i;
			bestlen = run;
		}
	}
	for (i = 0; i < 8 && n < size; i++) {
		if (i == best) {
			n += (size_t)snprintf(out + n, size - n, "::");
			i += bestlen - 1;
			continue;
		}
		n += (size_t)snprintf(out + n, size - n, "%s%x",
		    i && i != best + bestlen ? ":" : "", g[i]);
	}
	return n < size ? n : size - 1;
}

size_t
tcpto_addr_format(const struct tcpto_rec *r, char *out, size_t size)
{
	int n;

	if (!size)
		return 0;
	if (r->v6)
		return format6(r->addr, out, size);
	n = snprintf(out, size, "%u.%u.%u.%u", r->addr[0], r->addr[1], r->addr[2], r->addr[3]);
	return (size_t)n < size ? (size_t)n : size - 1;
}

long long
tcpto_age(const struct tcpto_rec *r, time_t now)
{
	return (long long)now - (long long)r->when;
}

int
tcpto_skipped(const struct tcpto_rec *r, time_t now)
{
	long long age = tcpto_age(r, now);

	/* qmail's unsigned now - when makes a future time huge: not skipped */
	return !r->empty && r->count >= 2 && age >= 0 && age < TCPTO_WINDOW;
}

int
tcpto_future(const struct tcpto_rec *r, time_t now)
{
	return !r->empty && tcpto_age(r, now) < 0;
}

int
tcpto_stale(const struct tcpto_rec *r, time_t now, unsigned long maxage)
{
	return !r->empty && tcpto_age(r, now) > (long long)maxage;
}

unsigned
tcpto_prune(unsigned char *buf, struct tcpto_table *t, time_t now, unsigned long maxage,
    unsigned char pruned[TCPTO_MAXSLOTS])
{
	unsigned i, n = 0;

	memset(pruned, 0, TCPTO_MAXSLOTS);
	for (i = 0; i < t->slots; i++) {
		if (!tcpto_stale(&t->rec[i], now, maxage))
			continue;
		memset(buf + i * t->reclen, 0, t->reclen);
		memset(&t->rec[i], 0, sizeof(t->rec[i]));
		t->rec[i].empty = 1;
		pruned[i] = 1;
		n++;
	}
	return n;
}
