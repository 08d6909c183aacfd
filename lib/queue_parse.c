/* Pure parsers of the queue check: names, info/ and local|remote/ records,
 * /proc/locks. No I/O. */
#include "queue.h"

#include <string.h>

int
queue_parse_id(const char *name, unsigned long long *id)
{
	unsigned long long v = 0;
	const char *p = name;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1]))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (~0ULL - (unsigned)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (p - name > 20)
		return -1;
	*id = v;
	return 0;
}

int
queue_info_parse(const char *head, size_t headlen, unsigned long long size,
    int last, struct queue_info *qi)
{
	const char *nul;

	qi->sender = "";
	qi->senderlen = 0;
	if (size < 2 || headlen == 0 || head[0] != 'F' || last != 0)
		return -1;
	if (headlen > size)
		headlen = (size_t)size;
	nul = memchr(head + 1, 0, headlen - 1);
	if (nul && (unsigned long long)(nul - head) + 1 != size)
		return -1;	/* bytes after the sender */
	qi->sender = head + 1;
	qi->senderlen = nul ? (size_t)(nul - head - 1) : headlen - 1;
	return 0;
}

void
queue_chan_init(struct queue_chan *c)
{
	memset(c, 0, sizeof(*c));
}

/* Bytes p..e of a T record's address: keep what follows its last @. */
static void
chan_domain(struct queue_chan *c, const char *p, const char *e)
{
	const char *at = memrchr(p, '@', (size_t)(e - p));
	size_t n;

	if (at) {
		c->dat = 1;
		c->dlen = 0;
		p = at + 1;
	}
	n = (size_t)(e - p);
	if (n > sizeof(c->dom) - c->dlen)
		n = sizeof(c->dom) - c->dlen;
	memcpy(c->dom + c->dlen, p, n);
	c->dlen += (unsigned)n;
}

int
queue_chan_feed(struct queue_chan *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nul;

	if (c->error)
		return -1;
	while (p < end) {
		if (!c->inrecord) {
			if (*p == 'T')
				c->t++;
			else if (*p == 'D')
				c->d++;
			else {
				c->error = QUEUE_CHAN_BADTYPE;
				c->badoff = c->off + (unsigned long long)(p - buf);
				c->off += len;
				return -1;
			}
			c->rtype = *p;
			c->dat = 0;
			c->dlen = 0;
			c->inrecord = 1;
			p++;
		}
		nul = memchr(p, 0, (size_t)(end - p));
		if (c->doms && c->rtype == 'T')
			chan_domain(c, p, nul ? nul : end);
		if (!nul)
			break;
		if (c->doms && c->rtype == 'T')
			qdoms_add(c->doms, c->dom, c->dat ? c->dlen : 0, 1);
		c->inrecord = 0;
		p = nul + 1;
	}
	c->off += len;
	return 0;
}

enum queue_chan_error
queue_chan_end(struct queue_chan *c)
{
	if (!c->error && c->inrecord) {
		c->error = QUEUE_CHAN_PARTIAL;
		c->badoff = c->off;
	}
	return c->error;
}

const char *
queue_chan_reason(enum queue_chan_error e)
{
	switch (e) {
	case QUEUE_CHAN_OK: return "ok";
	case QUEUE_CHAN_BADTYPE: return "type";
	case QUEUE_CHAN_PARTIAL: return "unterminated";
	}
	return "?";
}

static const char *
locks_word(const char *p, const char *end, const char **w, size_t *wl)
{
	while (p < end && *p == ' ')
		p++;
	*w = p;
	while (p < end && *p != ' ')
		p++;
	*wl = (size_t)(p - *w);
	return p;
}

static int
locks_hex(const char *p, size_t n, unsigned long long *v)
{
	*v = 0;
	if (n == 0 || n > 8)
		return -1;
	for (; n; n--, p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			return -1;
		*v = *v * 16 + (unsigned)d;
	}
	return 0;
}

static int
locks_dec(const char *p, size_t n, unsigned long long *v)
{
	*v = 0;
	if (n == 0 || n > 20)
		return -1;
	for (; n; n--, p++) {
		if (*p < '0' || *p > '9' || *v > (~0ULL - 9) / 10)
			return -1;
		*v = *v * 10 + (unsigned)(*p - '0');
	}
	return 0;
}

/* "1: FLOCK  ADVISORY  WRITE 1234 fd:01:56789 0 EOF"; a waiter has "-> " after
 * the number and holds nothing. */
static long
locks_line(const char *p, const char *end, unsigned major, unsigned minor,
    unsigned long long ino)
{
	unsigned long long pid, ma, mi, in;
	const char *w, *c1, *c2;
	size_t wl;
	int i;

	p = locks_word(p, end, &w, &wl);	/* "N:" */
	p = locks_word(p, end, &w, &wl);
	if (wl == 2 && memcmp(w, "->", 2) == 0)
		return 0;
	if (wl != 5 || memcmp(w, "FLOCK", 5) != 0)
		return 0;
	for (i = 0; i < 2; i++)		/* ADVISORY WRITE */
		p = locks_word(p, end, &w, &wl);
	p = locks_word(p, end, &w, &wl);
	if (locks_dec(w, wl, &pid) < 0 || pid == 0 || pid > 0x7fffffff)
		return 0;
	locks_word(p, end, &w, &wl);
	if (!(c1 = memchr(w, ':', wl)) || !(c2 = memchr(c1 + 1, ':', wl - (size_t)(c1 + 1 - w))))
		return 0;
	if (locks_hex(w, (size_t)(c1 - w), &ma) < 0 ||
	    locks_hex(c1 + 1, (size_t)(c2 - c1 - 1), &mi) < 0 ||
	    locks_dec(c2 + 1, (size_t)(w + wl - c2 - 1), &in) < 0)
		return 0;
	if (ma != major || mi != minor || in != ino)
		return 0;
	return (long)pid;
}

long
queue_locks_holder(const char *buf, size_t len, unsigned major, unsigned minor,
    unsigned long long ino)
{
	const char *p = buf, *end = buf + len, *nl;
	long pid;

	while (p < end) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		if ((pid = locks_line(p, nl, major, minor, ino)) > 0)
			return pid;
		p = nl + 1;
	}
	return 0;
}
