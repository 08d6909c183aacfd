/* The pure half of sendlog: the line parser, the join of deliveries, the
 * bounded maps, the state codec. No I/O (sendlog_read.c does that). */
#include "sendlog.h"
#include "hash.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A remote delivery awaiting its result. */
struct sl_deliv {
	struct sl_deliv *hnext;		/* its hash bucket */
	struct sl_deliv *older, *newer;	/* in the order started */
	unsigned long long num;
	time_t when;
	char domain[];
};

/* A domain's last deferral. */
struct sl_dom {
	struct sl_dom *hnext;
	struct sl_dom *older, *newer;	/* in the order of their last deferral */
	uint64_t hash;
	time_t when;
	char *text;
	size_t dlen;
	char domain[];
};

struct sendlog {
	size_t max_open, max_dom;
	struct sl_deliv **dtab;
	size_t dmask, nopen;
	struct sl_deliv *dold, *dnew;
	struct sl_dom **mtab;
	size_t mmask, ndom;
	struct sl_dom *mold, *mnew;
	time_t now;
	time_t stamp;			/* the latest time a line carried */
	unsigned long long gen;
	struct sendlog_stats st;
	struct sendlog_cursor cur;
	size_t linelen;			/* bytes of the unfinished line kept */
	unsigned long long linebytes;	/* bytes of it seen */
	char line[SENDLOG_LINE];
};

static size_t
pow2(size_t n)
{
	size_t p = 16;

	while (p < n && p < ((size_t)1 << 30))
		p <<= 1;
	return p;
}

struct sendlog *
sendlog_new(size_t max_open, size_t max_domains)
{
	struct sendlog *sl = calloc(1, sizeof(*sl));

	if (!sl)
		return NULL;
	sl->max_open = max_open ? max_open : SENDLOG_MAX_OPEN;
	sl->max_dom = max_domains ? max_domains : SENDLOG_MAX_DOMAINS;
	sl->dmask = pow2(sl->max_open) - 1;
	sl->mmask = pow2(sl->max_dom) - 1;
	sl->dtab = calloc(sl->dmask + 1, sizeof(*sl->dtab));
	sl->mtab = calloc(sl->mmask + 1, sizeof(*sl->mtab));
	if (!sl->dtab || !sl->mtab) {
		sendlog_free(sl);
		return NULL;
	}
	return sl;
}

static void
clear_open(struct sendlog *sl)
{
	struct sl_deliv *d, *n;

	for (d = sl->dold; d; d = n) {
		n = d->newer;
		free(d);
	}
	memset(sl->dtab, 0, (sl->dmask + 1) * sizeof(*sl->dtab));
	sl->dold = sl->dnew = NULL;
	sl->nopen = 0;
}

static void
clear_domains(struct sendlog *sl)
{
	struct sl_dom *m, *n;

	for (m = sl->mold; m; m = n) {
		n = m->newer;
		free(m->text);
		free(m);
	}
	memset(sl->mtab, 0, (sl->mmask + 1) * sizeof(*sl->mtab));
	sl->mold = sl->mnew = NULL;
	sl->ndom = 0;
}

void
sendlog_free(struct sendlog *sl)
{
	if (!sl)
		return;
	if (sl->dtab)
		clear_open(sl);
	if (sl->mtab)
		clear_domains(sl);
	free(sl->dtab);
	free(sl->mtab);
	free(sl);
}

void
sendlog_clock(struct sendlog *sl, time_t now)
{
	sl->now = now < 0 ? 0 : now;
}

/* ---- open deliveries, keyed by number, oldest evicted */

static struct sl_deliv **
deliv_slot(struct sendlog *sl, unsigned long long num)
{
	struct sl_deliv **pp = &sl->dtab[(num * 0x9E3779B97F4A7C15ULL >> 20) & sl->dmask];

	while (*pp && (*pp)->num != num)
		pp = &(*pp)->hnext;
	return pp;
}

static void
deliv_unlink(struct sendlog *sl, struct sl_deliv **slot)
{
	struct sl_deliv *d = *slot;

	*slot = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		sl->dold = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		sl->dnew = d->older;
	sl->nopen--;
	sl->gen++;
}

/* Takes delivery num out of the open ones: what it was, or NULL (the
 * caller frees it). */
static struct sl_deliv *
deliv_take(struct sendlog *sl, unsigned long long num)
{
	struct sl_deliv **slot = deliv_slot(sl, num), *d = *slot;

	if (d)
		deliv_unlink(sl, slot);
	return d;
}

static void
deliv_add(struct sendlog *sl, unsigned long long num, time_t when, const char *dom, size_t n)
{
	struct sl_deliv *d;

	free(deliv_take(sl, num));	/* a number again: qmail-send restarted */
	if (sl->nopen >= sl->max_open) {
		free(deliv_take(sl, sl->dold->num));
		sl->st.evicted_open++;
	}
	if (!(d = malloc(sizeof(*d) + n + 1)))
		return;
	d->num = num;
	d->when = when;
	memcpy(d->domain, dom, n);
	d->domain[n] = 0;
	d->hnext = NULL;
	*deliv_slot(sl, num) = d;
	d->older = sl->dnew;
	d->newer = NULL;
	if (sl->dnew)
		sl->dnew->newer = d;
	else
		sl->dold = d;
	sl->dnew = d;
	sl->nopen++;
	sl->gen++;
}

/* ---- domains with a last deferral, the least recently deferred evicted */

static struct sl_dom **
dom_slot(const struct sendlog *sl, const char *dom, size_t n, uint64_t h)
{
	struct sl_dom **pp = &sl->mtab[(h ^ h >> 29) & sl->mmask];

	while (*pp && ((*pp)->hash != h || (*pp)->dlen != n || memcmp((*pp)->domain, dom, n)))
		pp = &(*pp)->hnext;
	return pp;
}

static void
dom_unlist(struct sendlog *sl, struct sl_dom *m)
{
	if (m->older)
		m->older->newer = m->newer;
	else
		sl->mold = m->newer;
	if (m->newer)
		m->newer->older = m->older;
	else
		sl->mnew = m->older;
}

static void
dom_list(struct sendlog *sl, struct sl_dom *m)
{
	m->older = sl->mnew;
	m->newer = NULL;
	if (sl->mnew)
		sl->mnew->newer = m;
	else
		sl->mold = m;
	sl->mnew = m;
}

static void
dom_evict_oldest(struct sendlog *sl)
{
	struct sl_dom *m = sl->mold;
	struct sl_dom **slot = dom_slot(sl, m->domain, m->dlen, m->hash);

	*slot = m->hnext;
	dom_unlist(sl, m);
	free(m->text);
	free(m);
	sl->ndom--;
	sl->st.evicted_domains++;
}

/* Sets domain's last deferral to text (already decoded, NUL-terminated). */
static void
dom_set(struct sendlog *sl, const char *dom, size_t n, time_t when, const char *text, size_t tlen)
{
	uint64_t h = fnv1a_of(dom, n);
	struct sl_dom **slot = dom_slot(sl, dom, n, h), *m = *slot;
	char *t;

	if (!(t = malloc(tlen + 1)))
		return;
	memcpy(t, text, tlen);
	t[tlen] = 0;
	if (m) {
		free(m->text);
		m->text = t;
		m->when = when;
		dom_unlist(sl, m);
		dom_list(sl, m);
		sl->gen++;
		return;
	}
	if (sl->ndom >= sl->max_dom)
		dom_evict_oldest(sl);
	if (!(m = malloc(sizeof(*m) + n + 1))) {
		free(t);
		return;
	}
	m->hash = h;
	m->when = when;
	m->text = t;
	m->dlen = n;
	memcpy(m->domain, dom, n);
	m->domain[n] = 0;
	m->hnext = NULL;
	*dom_slot(sl, dom, n, h) = m;
	dom_list(sl, m);
	sl->ndom++;
	sl->gen++;
}

/* ---- the line grammar */

static int
lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n))
		return -1;
	*p += n;
	return 0;
}

/* 1..20 decimal digits, no overflow. */
static int
num(const char **p, const char *end, unsigned long long *v)
{
	const char *s = *p;
	unsigned long long x = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		unsigned d = (unsigned)(**p - '0');

		if (x > (~0ULL - d) / 10)
			return -1;
		x = x * 10 + d;
		(*p)++;
	}
	if (*p == s)
		return -1;
	*v = x;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sendlog_tai64n(const char *s, size_t len, long long *sec, long *nsec)
{
	unsigned long long t = 0, ns = 0;
	size_t i;
	int v;

	if (len < 25 || s[0] != '@')
		return -1;
	for (i = 1; i < 25; i++) {
		if ((v = hexval(s[i])) < 0)
			return -1;
		if (i <= 16)
			t = t << 4 | (unsigned)v;
		else
			ns = ns << 4 | (unsigned)v;
	}
	/* 2^62 + 10: daemontools' tai_now() is time(NULL) + this */
	if (t < 4611686018427387914ULL || ns > 999999999ULL)
		return -1;
	t -= 4611686018427387914ULL;
	if (t > (unsigned long long)LLONG_MAX || (sizeof(time_t) < 8 && t > 0x7fffffffULL))
		return -1;
	*sec = (long long)t;
	*nsec = (long)ns;
	return 0;
}

size_t
sendlog_decode(const char *raw, size_t len, char *out, size_t size)
{
	size_t i, n = 0;

	if (!size)
		return 0;
	if (len && raw[len - 1] == '/')
		len--;	/* the report's last newline */
	for (i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)raw[i];

		out[n++] = c == '_' ? ' ' : c < ' ' || c > '~' ? '?' : (char)c;
	}
	out[n] = 0;
	return n;
}

/* A domain as qmail-send logs it (logsafe(): '\n' '/', unsafe bytes '_'),
 * lower-cased: the key of both maps. 0 when empty or too long. */
static size_t
domain_key(const char *s, size_t n, char *out)
{
	size_t i;

	if (n == 0 || n > SENDLOG_DOMAIN)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			c = '/';
		else if (c < 33 || c > 126 || c == '%')
			c = '_';
		else if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		out[i] = (char)c;
	}
	out[n] = 0;
	return n;
}

/* "starting delivery N: msg M to remote ADDR" (or local) after the prefix. */
static void
start_line(struct sendlog *sl, const char *p, const char *end, time_t when, int cut)
{
	unsigned long long n, msg;
	char dom[SENDLOG_DOMAIN + 1];
	const char *at;
	size_t dn;

	if (num(&p, end, &n) < 0 || lit(&p, end, ": msg ") < 0 || num(&p, end, &msg) < 0 ||
	    lit(&p, end, " to ") < 0)
		return;
	free(deliv_take(sl, n));	/* whatever it was, number n is this one now */
	if (lit(&p, end, "remote ") < 0)
		return;	/* local: not ours */
	if (cut) {
		sl->st.long_lines++;	/* the address is cut: its domain unknown */
		return;
	}
	for (at = end; at > p && at[-1] != '@'; at--)
		;
	if (at == p || !(dn = domain_key(at, (size_t)(end - at), dom)))
		return;
	deliv_add(sl, n, when, dom, dn);
	sl->st.starts++;
}

/* "delivery N: RESULT: TEXT" after the prefix. */
static void
result_line(struct sendlog *sl, const char *p, const char *end, time_t when)
{
	char text[SENDLOG_TEXT + 1];
	unsigned long long n;
	struct sl_deliv *d;
	size_t tn;
	int kind;

	if (num(&p, end, &n) < 0 || lit(&p, end, ": ") < 0)
		return;
	if (lit(&p, end, "deferral: ") == 0)
		kind = 'Z';
	else if (lit(&p, end, "failure: ") == 0)
		kind = 'D';
	else if (lit(&p, end, "success: ") == 0)
		kind = 'K';
	else if (lit(&p, end, "report mangled, will defer") == 0)
		kind = 'M';	/* qmail-send defers it; the text is its own */
	else
		return;
	if (!(d = deliv_take(sl, n))) {
		sl->st.unmatched++;
		return;
	}
	switch (kind) {
	case 'Z':
	case 'M':
		sl->st.deferrals++;
		if (kind == 'M')
			tn = (size_t)snprintf(text, sizeof(text), "report mangled, will defer");
		else
			tn = sendlog_decode(p, (size_t)(end - p), text, sizeof(text));
		dom_set(sl, d->domain, strlen(d->domain), when, text, tn);
		break;
	case 'D':
		sl->st.failures++;
		break;
	default:
		sl->st.successes++;
	}
	free(d);
}

/* One line: its prefix, then what it says. */
static void
line(struct sendlog *sl, const char *p, size_t len, int cut)
{
	const char *end = p + len;
	time_t when = sl->now;
	long long sec;
	long ns;

	sl->st.lines++;
	if (len && p[0] == '@') {
		if (len < 26 || p[25] != ' ' || sendlog_tai64n(p, len, &sec, &ns) < 0)
			return;
		when = (time_t)sec;
		p += 26;
		if (when > sl->stamp)
			sl->stamp = when;
	} else if (len && p[0] >= '0' && p[0] <= '9') {
		unsigned long long s, frac;

		/* accustamp: SECONDS[.FRACTION] and a space */
		if (num(&p, end, &s) < 0 || s > (unsigned long long)LLONG_MAX)
			return;
		if (p < end && *p == '.' && (++p, num(&p, end, &frac) < 0))
			return;
		if (p >= end || *p != ' ')
			return;
		p++;
		if (sizeof(time_t) < 8 && s > 0x7fffffffULL)
			return;
		when = (time_t)s;
		if (when > sl->stamp)
			sl->stamp = when;
	}
	if (lit(&p, end, "starting delivery ") == 0)
		start_line(sl, p, end, when, cut);
	else if (lit(&p, end, "delivery ") == 0)
		result_line(sl, p, end, when);
	else if (lit(&p, end, "status: exiting") == 0 && p == end) {
		/* qmail-send ends its deliveries before it exits: what is open is stale */
		if (sl->nopen)
			clear_open(sl), sl->gen++;
		sl->st.exits++;
	}
}

void
sendlog_feed(struct sendlog *sl, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n, k;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (nl && !sl->linebytes) {	/* a whole line in buf: no copy */
			line(sl, p, n < SENDLOG_LINE ? n : SENDLOG_LINE, n > SENDLOG_LINE);
			p = nl + 1;
			continue;
		}
		k = SENDLOG_LINE - sl->linelen;
		if (k > n)
			k = n;
		memcpy(sl->line + sl->linelen, p, k);
		sl->linelen += k;
		sl->linebytes += n;
		if (!nl)
			break;
		line(sl, sl->line, sl->linelen, sl->linebytes > SENDLOG_LINE);
		sl->linelen = 0;
		sl->linebytes = 0;
		p = nl + 1;
	}
}

void
sendlog_feed_end(struct sendlog *sl)
{
	sl->linelen = 0;
	sl->linebytes = 0;
}

unsigned long long
sendlog_pending(const struct sendlog *sl)
{
	return sl->linebytes;
}

const char *
sendlog_last_deferral(const struct sendlog *sl, const char *domain, time_t *when)
{
	char key[SENDLOG_DOMAIN + 1];
	size_t n = domain_key(domain, strlen(domain), key);
	struct sl_dom *m;

	if (!n || !(m = *dom_slot(sl, key, n, fnv1a_of(key, n))))
		return NULL;
	if (when)
		*when = m->when;
	return m->text;
}

const struct sendlog_stats *
sendlog_stats(const struct sendlog *sl)
{
	return &sl->st;
}

size_t
sendlog_open_count(const struct sendlog *sl)
{
	return sl->nopen;
}

size_t
sendlog_domain_count(const struct sendlog *sl)
{
	return sl->ndom;
}

void
sendlog_each(const struct sendlog *sl,
    int (*fn)(void *arg, const char *domain, const char *text, time_t when), void *arg)
{
	const struct sl_dom *m;

	for (m = sl->mold; m; m = m->newer)
		if (fn(arg, m->domain, m->text, m->when))
			return;
}

struct sendlog_cursor *
sendlog_cursor(struct sendlog *sl)
{
	return &sl->cur;
}

time_t
sendlog_stamp(const struct sendlog *sl)
{
	return sl->stamp;
}

unsigned long long
sendlog_generation(const struct sendlog *sl)
{
	return sl->gen;
}

/* ---- the state file
 *
 *   sendlog 1
 *   pos DEV INO OFF FPLEN FP STAMP
 *   open NUM WHEN DOMAIN		(oldest first)
 *   last WHEN DOMAIN TEXT		(after them, least recently deferred first;
 *					 ' ' written '_')
 * in this one form: whatever parses formats back to the same bytes.
 *   end
 */

size_t
sendlog_state_format(const struct sendlog *sl, const struct sendlog_pos *pos, char **out)
{
	const struct sl_deliv *d;
	const struct sl_dom *m;
	size_t size = 160, n = 0, i, tl;
	char *buf;

	*out = NULL;
	for (d = sl->dold; d; d = d->newer)
		size += 48 + strlen(d->domain);
	for (m = sl->mold; m; m = m->newer)
		size += 32 + m->dlen + strlen(m->text);
	if (!(buf = malloc(size)))
		return 0;
	n += (size_t)snprintf(buf + n, size - n, "sendlog 1\npos %llu %llu %llu %u %llu %lld\n",
	    pos->dev, pos->ino, pos->off, pos->fplen, pos->fp, (long long)sl->stamp);
	for (d = sl->dold; d; d = d->newer)
		n += (size_t)snprintf(buf + n, size - n, "open %llu %lld %s\n", d->num,
		    (long long)d->when, d->domain);
	for (m = sl->mold; m; m = m->newer) {
		n += (size_t)snprintf(buf + n, size - n, "last %lld %s ", (long long)m->when,
		    m->domain);
		tl = strlen(m->text);
		for (i = 0; i < tl; i++)
			buf[n++] = m->text[i] == ' ' ? '_' : m->text[i];
		buf[n++] = '\n';
	}
	n += (size_t)snprintf(buf + n, size - n, "end\n");
	*out = buf;
	return n;
}

size_t
sendlog_state_max(const struct sendlog *sl)
{
	return 160 + sl->max_open * (48 + SENDLOG_DOMAIN) +
	    sl->max_dom * (32 + SENDLOG_DOMAIN + SENDLOG_TEXT);
}

/* A field of bytes 33..126 up to a space or the end of the line. */
static int
field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p;

	while (*p < end && **p != ' ' && **p != '\n') {
		if ((unsigned char)**p < 33 || (unsigned char)**p > 126)
			return -1;
		(*p)++;
	}
	*f = s;
	*n = (size_t)(*p - s);
	return *n ? 0 : -1;
}

/* A number in its one written form: no leading zeros. */
static int
cnum(const char **p, const char *end, unsigned long long *v)
{
	const char *s = *p;

	if (num(p, end, v) < 0 || (*s == '0' && *p - s > 1))
		return -1;
	return 0;
}

static int
when_field(const char **p, const char *end, time_t *when)
{
	unsigned long long v;

	if (cnum(p, end, &v) < 0 || v > (unsigned long long)LLONG_MAX ||
	    (sizeof(time_t) < 8 && v > 0x7fffffffULL))
		return -1;
	*when = (time_t)v;
	return 0;
}

/* One record line (without its newline); 1 at "end", 0 for a record, -1 corrupt. */
static int
state_line(struct sendlog *sl, const char *p, const char *end, int *lasts)
{
	char key[SENDLOG_DOMAIN + 1], text[SENDLOG_TEXT + 1];
	unsigned long long a;
	const char *f;
	size_t n, i;
	time_t when;

	if (lit(&p, end, "end") == 0)
		return p == end ? 1 : -1;
	if (lit(&p, end, "open ") == 0) {
		if (*lasts)
			return -1;	/* the open deliveries come first */
		if (cnum(&p, end, &a) < 0 || lit(&p, end, " ") < 0 || when_field(&p, end, &when) < 0 ||
		    lit(&p, end, " ") < 0 || field(&p, end, &f, &n) < 0 || p != end ||
		    domain_key(f, n, key) != n || memcmp(key, f, n) || *deliv_slot(sl, a))
			return -1;
		deliv_add(sl, a, when, key, n);
		return 0;
	}
	if (lit(&p, end, "last ") == 0) {
		*lasts = 1;
		if (when_field(&p, end, &when) < 0 || lit(&p, end, " ") < 0 ||
		    field(&p, end, &f, &n) < 0 || lit(&p, end, " ") < 0 ||
		    domain_key(f, n, key) != n || memcmp(key, f, n) ||
		    (size_t)(end - p) > SENDLOG_TEXT || *dom_slot(sl, key, n, fnv1a_of(key, n)))
			return -1;
		for (i = 0; p + i < end; i++) {
			if ((unsigned char)p[i] < 33 || (unsigned char)p[i] > 126)
				return -1;
			text[i] = p[i] == '_' ? ' ' : p[i];
		}
		text[i] = 0;
		dom_set(sl, key, n, when, text, i);
		return 0;
	}
	return -1;
}

static int
state_parse(struct sendlog *sl, const char *buf, size_t len, struct sendlog_pos *pos)
{
	const char *p = buf, *end = buf + len, *nl;
	unsigned long long fplen;
	int r, lasts = 0;

	if (lit(&p, end, "sendlog 1\npos ") < 0 || cnum(&p, end, &pos->dev) < 0 ||
	    lit(&p, end, " ") < 0 || cnum(&p, end, &pos->ino) < 0 || lit(&p, end, " ") < 0 ||
	    cnum(&p, end, &pos->off) < 0 || lit(&p, end, " ") < 0 || cnum(&p, end, &fplen) < 0 ||
	    fplen > 64 || lit(&p, end, " ") < 0 || cnum(&p, end, &pos->fp) < 0 ||
	    lit(&p, end, " ") < 0 || when_field(&p, end, &sl->stamp) < 0 ||
	    lit(&p, end, "\n") < 0)
		return -1;
	pos->fplen = (unsigned)fplen;
	while (p < end) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			return -1;
		if ((r = state_line(sl, p, nl, &lasts)) < 0)
			return -1;
		p = nl + 1;
		if (r == 1)
			return p == end ? 0 : -1;
	}
	return -1;	/* no "end": cut short */
}

int
sendlog_state_parse(struct sendlog *sl, const char *buf, size_t len, struct sendlog_pos *pos)
{
	clear_open(sl);
	clear_domains(sl);
	sendlog_feed_end(sl);
	sl->gen++;
	if (state_parse(sl, buf, len, pos) == 0)
		return 0;
	clear_open(sl);
	clear_domains(sl);
	sl->stamp = 0;
	memset(pos, 0, sizeof(*pos));
	return -1;
}
