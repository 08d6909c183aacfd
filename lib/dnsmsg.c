#include "dnsmsg.h"

#include <string.h>

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

size_t
dnsmsg_name(const struct dnsmsg *m, size_t off, char out[DNSMSG_NAMEMAX])
{
	size_t o = 0, end = 0, pos = off;
	unsigned hops = 0, c, i;

	out[0] = 0;
	for (;;) {
		if (pos >= m->len)
			return 0;
		c = m->buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= m->len || ++hops > 64)
				return 0;
			if (!end)
				end = pos + 2;
			pos = (c & 0x3f) << 8 | m->buf[pos + 1];
			continue;
		}
		if (c & 0xc0)
			return 0;	/* 0x40 and 0x80 label types are obsolete */
		if (c == 0)
			break;
		if (pos + 1 + c > m->len || o + c + 2 > DNSMSG_NAMEMAX)
			return 0;
		if (o)
			out[o++] = '.';
		for (i = 0; i < c; i++) {
			unsigned char b = m->buf[pos + 1 + i];

			out[o++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
		}
		pos += 1 + c;
	}
	out[o] = 0;
	return end ? end : pos + 1;
}

int
dnsmsg_open(struct dnsmsg *m, const unsigned char *buf, size_t len)
{
	char name[DNSMSG_NAMEMAX];
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->len = len;
	if (!buf || len < 12)
		return -1;
	m->id = get16(buf);
	m->tc = (buf[2] & 0x02) != 0;
	m->ad = (buf[3] & 0x20) != 0;
	m->rcode = buf[3] & 0x0f;
	m->qdcount = get16(buf + 4);
	m->ancount = get16(buf + 6);
	m->pos = 12;
	for (i = 0; i < m->qdcount; i++) {
		if (!(m->pos = dnsmsg_name(m, m->pos, name)) || m->pos + 4 > len)
			return -1;
		m->pos += 4;
	}
	m->left = m->ancount;
	return 0;
}

int
dnsmsg_next(struct dnsmsg *m, struct dnsrr *rr)
{
	size_t p;

	if (!m->left)
		return 0;
	if (!(p = dnsmsg_name(m, m->pos, rr->name)) || p + 10 > m->len)
		return -1;
	rr->type = get16(m->buf + p);
	rr->class = get16(m->buf + p + 2);
	rr->ttl = (unsigned long)get16(m->buf + p + 4) << 16 | get16(m->buf + p + 6);
	rr->rdlen = get16(m->buf + p + 8);
	rr->rdoff = p + 10;
	if (rr->rdoff + rr->rdlen > m->len)
		return -1;
	m->pos = rr->rdoff + rr->rdlen;
	m->left--;
	return 1;
}

int
dnsmsg_rdata(const struct dnsmsg *m, const struct dnsrr *rr, unsigned char *out,
    size_t outsize, size_t *len, unsigned *pref)
{
	const unsigned char *d = m->buf + rr->rdoff;
	char name[DNSMSG_NAMEMAX];
	size_t i, t = 0, skip = 0;

	*len = 0;
	*pref = 0;
	switch (rr->type) {
	case 1:		/* A */
	case 28:	/* AAAA */
		if (rr->rdlen != (rr->type == 1 ? 4u : 16u) || rr->rdlen > outsize)
			return -1;
		memcpy(out, d, rr->rdlen);
		*len = rr->rdlen;
		return 0;
	case 15:	/* MX */
		if (rr->rdlen < 3)
			return -1;
		*pref = get16(d);
		skip = 2;
		/* FALLTHROUGH */
	case 2:		/* NS */
	case 5:		/* CNAME */
	case 12:	/* PTR */
		if (rr->rdlen < skip + 1 || !dnsmsg_name(m, rr->rdoff + skip, name) ||
		    strlen(name) >= outsize)
			return -1;
		*len = strlen(name);
		memcpy(out, name, *len + 1);
		return 0;
	case 16:	/* TXT */
		for (i = 0; i < rr->rdlen; i += 1 + d[i]) {
			if (i + 1 + d[i] > rr->rdlen || t + d[i] > outsize)
				return -1;
			memcpy(out + t, d + i + 1, d[i]);
			t += d[i];
		}
		*len = t;
		return 0;
	default:
		return -1;
	}
}

int
dnsmsg_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;
	unsigned char c;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') || ++label > 63)
			return 0;
	}
	return 1;
}
