#include "spf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SPF_NAMEMAX 254
#define T_A 1
#define T_MX 15
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28

static int
spf_is_sp(char c)
{
	return c == ' ';
}

int
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || spf_is_sp(txt[6]));
}

/* "/n" at the end of s[0..n): 1 (the slash at *at), 0 none, -1 malformed. */
static int
spf_tail_num(const char *s, size_t n, size_t *at, int *v)
{
	size_t i = n, j;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == n || i == 0 || s[i - 1] != '/')
		return 0;
	if (n - i > 3 || (s[i] == '0' && n - i > 1))
		return -1;
	for (*v = 0, j = i; j < n; j++)
		*v = *v * 10 + (s[j] - '0');
	*at = i - 1;
	return 1;
}

/* Strips the dual-cidr-length ("/n", "//m", "/n//m") from the end of a term. */
static int
spf_cidr(const char *s, size_t *len, int *c4, int *c6, enum spf_mech mech)
{
	size_t n = *len, at;
	int v, r;

	*c4 = 32;
	*c6 = 128;
	if ((r = spf_tail_num(s, n, &at, &v)) < 0)
		return -1;
	if (r && at > 0 && s[at - 1] == '/') {
		if (mech == SPF_M_IP4 || mech == SPF_M_IP6 || v > 128)
			return -1;
		*c6 = v;
		n = at - 1;
		if ((r = spf_tail_num(s, n, &at, &v)) < 0)
			return -1;
	}
	if (r) {
		if (v > (mech == SPF_M_IP6 ? 128 : 32))
			return -1;
		*(mech == SPF_M_IP6 ? c6 : c4) = v;
		n = at;
	}
	*len = n;
	return 0;
}

static const struct {
	const char *name;
	enum spf_mech mech;
	int arg;	/* 0 none, 1 optional, 2 required */
} spf_mechs[] = {
	{ "all", SPF_M_ALL, 0 }, { "include", SPF_M_INCLUDE, 2 }, { "a", SPF_M_A, 1 },
	{ "mx", SPF_M_MX, 1 }, { "ptr", SPF_M_PTR, 1 }, { "ip4", SPF_M_IP4, 2 },
	{ "ip6", SPF_M_IP6, 2 }, { "exists", SPF_M_EXISTS, 2 },
};

static int
spf_term(struct spf_term *t, const char *s, size_t len, const char **why)
{
	char addr[64];
	size_t nl, i, alen;

	t->qual = '+';
	if (len && strchr("+-~?", s[0])) {
		t->qual = s[0];
		s++;
		len--;
	}
	for (nl = 0; nl < len && s[nl] != ':' && s[nl] != '/'; nl++)
		;
	for (i = 0; i < sizeof(spf_mechs) / sizeof(spf_mechs[0]); i++)
		if (strlen(spf_mechs[i].name) == nl && strncasecmp(s, spf_mechs[i].name, nl) == 0)
			break;
	if (i == sizeof(spf_mechs) / sizeof(spf_mechs[0]))
		return *why = "unknown-mechanism", -1;
	t->mech = spf_mechs[i].mech;
	t->arg = NULL;
	t->arglen = 0;
	t->cidr4 = 32;
	t->cidr6 = 128;
	s += nl;
	len -= nl;
	if (t->mech == SPF_M_A || t->mech == SPF_M_MX || t->mech == SPF_M_IP4 ||
	    t->mech == SPF_M_IP6) {
		if (spf_cidr(s, &len, &t->cidr4, &t->cidr6, t->mech) < 0)
			return *why = "bad-cidr", -1;
	}
	if (len) {
		if (s[0] != ':' || len == 1 || !spf_mechs[i].arg)
			return *why = "syntax", -1;
		t->arg = s + 1;
		t->arglen = len - 1;
	} else if (spf_mechs[i].arg == 2)
		return *why = "syntax", -1;
	if (t->mech == SPF_M_IP4 || t->mech == SPF_M_IP6) {
		alen = t->arglen;
		if (alen >= sizeof(addr))
			return *why = "bad-address", -1;
		memcpy(addr, t->arg, alen);
		addr[alen] = 0;
		if (inet_pton(t->mech == SPF_M_IP4 ? AF_INET : AF_INET6, addr, t->ip) != 1)
			return *why = "bad-address", -1;
	}
	return 0;
}

static int
spf_modname(const char *s, size_t n)
{
	size_t i;

	if (!n || !((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("-_.", s[i])))
			return 0;
	return 1;
}

int
spf_parse(const char *txt, size_t len, struct spf_record *r, const char **why)
{
	size_t i = 6, j, eq;
	int have_exp = 0;

	r->n = 0;
	r->redirect = NULL;
	r->redirlen = 0;
	*why = "syntax";
	if (!spf_is_record(txt, len))
		return -1;
	while (i < len) {
		while (i < len && spf_is_sp(txt[i]))
			i++;
		if (i == len)
			break;
		for (j = i; j < len && !spf_is_sp(txt[j]); j++)
			;
		for (eq = i; eq < j && txt[eq] != '=' && txt[eq] != ':' && txt[eq] != '/'; eq++)
			;
		if (eq < j && txt[eq] == '=') {
			if (!spf_modname(txt + i, eq - i))
				return *why = "syntax", -1;
			if (eq - i == 8 && strncasecmp(txt + i, "redirect", 8) == 0) {
				if (r->redirect || eq + 1 == j)
					return *why = "syntax", -1;
				r->redirect = txt + eq + 1;
				r->redirlen = j - eq - 1;
			} else if (eq - i == 3 && strncasecmp(txt + i, "exp", 3) == 0) {
				if (have_exp++ || eq + 1 == j)
					return *why = "syntax", -1;
			}
		} else {
			if (r->n == SPF_MAXTERMS)
				return *why = "too-many-terms", -1;
			if (spf_term(&r->t[r->n], txt + i, j - i, why) < 0)
				return -1;
			r->n++;
		}
		i = j;
	}
	return 0;
}

/* The value of macro letter c for domain d, into buf. 0, -2 unsupported. */
static int
spf_macro_value(const struct spf_ctx *c, const char *d, char letter, char *buf, size_t size)
{
	size_t i, o = 0;

	switch (letter) {
	case 's': snprintf(buf, size, "%s@%s", c->local, c->sender); return 0;
	case 'l': snprintf(buf, size, "%s", c->local); return 0;
	case 'o': snprintf(buf, size, "%s", c->sender); return 0;
	case 'd': snprintf(buf, size, "%s", d); return 0;
	case 'h': snprintf(buf, size, "%s", c->helo); return 0;
	case 'v': snprintf(buf, size, "%s", c->family == 4 ? "in-addr" : "ip6"); return 0;
	case 'i':
		if (c->family == 4) {
			snprintf(buf, size, "%u.%u.%u.%u", c->ip[0], c->ip[1], c->ip[2], c->ip[3]);
			return 0;
		}
		for (i = 0; i < 16 && o + 4 < size; i++)
			o += (size_t)snprintf(buf + o, size - o, "%s%x.%x", i ? "." : "",
			    c->ip[i] >> 4, c->ip[i] & 15);
		return 0;
	default:
		return -2;	/* p (validated ptr), c, r, t */
	}
}

/* Splits v at any of delims, reverses if asked, keeps the rightmost keep parts. */
static size_t
spf_transform(const char *v, const char *delims, size_t nd, int rev, unsigned long keep,
    char *out, size_t size)
{
	const char *part[128];
	size_t plen[128], np = 0, i, o = 0, start = 0, k, n = strlen(v);

	for (i = 0; i <= n && np < 128; i++)
		if (i == n || memchr(delims, v[i], nd)) {
			part[np] = v + start;
			plen[np++] = i - start;
			start = i + 1;
		}
	if (rev)
		for (i = 0; i < np / 2; i++) {
			const char *tp = part[i];
			size_t tl = plen[i];

			part[i] = part[np - 1 - i];
			plen[i] = plen[np - 1 - i];
			part[np - 1 - i] = tp;
			plen[np - 1 - i] = tl;
		}
	k = keep && keep < np ? np - keep : 0;
	for (i = k; i < np; i++) {
		if (o + plen[i] + 2 > size)
			break;
		if (i > k)
			out[o++] = '.';
		memcpy(out + o, part[i], plen[i]);
		o += plen[i];
	}
	out[o] = 0;
	return o;
}

int
spf_expand(const struct spf_ctx *c, const char *d, const char *spec, size_t len,
    char *out, size_t outsize)
{
	char val[512], tr[512];
	size_t i = 0, o = 0, k, n;

	while (i < len) {
		if (spec[i] != '%') {
			if (spec[i] < 0x21 || spec[i] > 0x7e)
				return -1;
			if (o + 1 >= outsize)
				return -1;
			out[o++] = spec[i++];
			continue;
		}
		if (++i == len)
			return -1;
		if (spec[i] == '%' || spec[i] == '_' || spec[i] == '-') {
			const char *s = spec[i] == '%' ? "%" : spec[i] == '_' ? " " : "%20";

			if (o + strlen(s) >= outsize)
				return -1;
			memcpy(out + o, s, strlen(s));
			o += strlen(s);
			i++;
			continue;
		}
		if (spec[i] != '{' || i + 2 >= len)
			return -1;
		{
			char letter = (char)(spec[++i] | 32);
			unsigned long keep = 0;
			int rev = 0, r;
			const char *delims = ".";
			size_t nd = 1, ds;

			if (!strchr("slodiphcrtv", letter))
				return -1;
			i++;
			while (i < len && spec[i] >= '0' && spec[i] <= '9') {
				keep = keep * 10 + (unsigned long)(spec[i++] - '0');
				if (keep > 128)
					return -1;
			}
			if (i < len && (spec[i] | 32) == 'r') {
				rev = 1;
				i++;
			}
			for (ds = i; i < len && strchr(".-+,/_=", spec[i]); i++)
				;
			if (i > ds) {
				delims = spec + ds;
				nd = i - ds;
			}
			if (i >= len || spec[i] != '}')
				return -1;
			i++;
			if (keep == 0 && spec[ds - 1] == '0')
				return -1;
			if ((r = spf_macro_value(c, d, letter, val, sizeof(val))) < 0)
				return r;
			n = spf_transform(val, delims, nd, rev, keep, tr, sizeof(tr));
			if (o + n >= outsize)
				return -1;
			memcpy(out + o, tr, n);
			o += n;
		}
	}
	out[o] = 0;
	/* RFC 7208 7.3: too long, drop labels from the left */
	for (k = 0; o - k > 253;) {
		char *dot = memchr(out + k, '.', o - k);

		if (!dot)
			return -1;
		k = (size_t)(dot - out) + 1;
	}
	if (k)
		memmove(out, out + k, o - k + 1);
	return 0;
}

/* A name we may query: labels of 1..63 bytes, at most 253, a trailing dot allowed. */
static int
spf_valid_name(const char *s)
{
	size_t n = strlen(s), l = 0, i;

	if (n && s[n - 1] == '.')
		n--;
	if (!n || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (!l)
				return 0;
			l = 0;
		} else if (++l > 63 || (unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	}
	return l > 0 && memchr(s, '.', n) != NULL;
}

static int
spf_ipmatch(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	return !rest || ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int
spf_addrtype(const struct spf_ctx *c)
{
	return c->family == 4 ? T_A : T_AAAA;
}

static int
spf_any_ip(const struct spf_ctx *c, const struct spf_answer *a, int cidr)
{
	unsigned i;
	size_t want = c->family == 4 ? 4 : 16;

	for (i = 0; i < a->n; i++)
		if (a->rd[i].len == want && spf_ipmatch(a->rd[i].p, c->ip, cidr))
			return 1;
	return 0;
}

static void
spf_reverse(const struct spf_ctx *c, char *out, size_t size)
{
	size_t o = 0;
	int i;

	if (c->family == 4) {
		snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", c->ip[3], c->ip[2], c->ip[1], c->ip[0]);
		return;
	}
	for (i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, size - o, "%x.%x.", c->ip[i] & 15, c->ip[i] >> 4);
	snprintf(out + o, size - o, "ip6.arpa");
}

static enum spf_result spf_eval(struct spf_ctx *, const char *domain, unsigned depth);

/* Fetches and selects domain's one SPF record into *rec. */
static enum spf_result
spf_record_of(struct spf_ctx *c, const char *domain, struct spf_record *rec)
{
	struct spf_answer a;
	unsigned i, found = 0, which = 0;

	if (!spf_valid_name(domain))
		return SPF_NONE;
	c->lookup(c->arg, domain, T_TXT, &a);
	switch (a.st) {
	case SPF_DNS_PENDING: return SPF_PENDING;
	case SPF_DNS_TEMP: return SPF_TEMPERROR;
	case SPF_DNS_VOID: return SPF_NONE;
	case SPF_DNS_FOUND: break;
	}
	for (i = 0; i < a.n; i++)
		if (spf_is_record((const char *)a.rd[i].p, a.rd[i].len)) {
			found++;
			which = i;
		}
	if (!found)
		return SPF_NONE;
	if (found > 1)
		return c->why = "multiple-records", SPF_PERMERROR;
	if (spf_parse((const char *)a.rd[which].p, a.rd[which].len, rec, &c->why) < 0)
		return SPF_PERMERROR;
	return SPF_NEUTRAL;	/* "have a record" */
}

static int
spf_target(struct spf_ctx *c, const char *domain, const char *arg, size_t len,
    char out[SPF_NAMEMAX + 256], enum spf_result *err)
{
	int r;

	if (!arg) {
		snprintf(out, SPF_NAMEMAX + 256, "%s", domain);
		return 0;
	}
	if ((r = spf_expand(c, domain, arg, len, out, SPF_NAMEMAX + 256)) == -2) {
		c->why = "macro";
		*err = SPF_UNSUPPORTED;
		return -1;
	}
	if (r < 0 || !spf_valid_name(out)) {
		c->why = "bad-domain";
		*err = SPF_PERMERROR;
		return -1;
	}
	return 0;
}

static int
spf_count(struct spf_ctx *c, enum spf_result *err)
{
	if (++c->lookups > SPF_MAXLOOKUPS) {
		c->why = "lookup-limit";
		*err = SPF_PERMERROR;
		return -1;
	}
	return 0;
}

static int
spf_void(struct spf_ctx *c, enum spf_result *err)
{
	if (++c->voids > SPF_MAXVOIDS) {
		c->why = "void-limit";
		*err = SPF_PERMERROR;
		return -1;
	}
	return 0;
}

/* 1 match, 0 no match, -1 *err is the result. */
static int
spf_mech_mx(struct spf_ctx *c, const char *target, int cidr, enum spf_result *err)
{
	struct spf_answer mx, a;
	char host[SPF_NAMEMAX + 1];
	unsigned i;

	c->lookup(c->arg, target, T_MX, &mx);
	switch (mx.st) {
	case SPF_DNS_PENDING: *err = SPF_PENDING; return -1;
	case SPF_DNS_TEMP: *err = SPF_TEMPERROR; return -1;
	case SPF_DNS_VOID: return spf_void(c, err) < 0 ? -1 : 0;
	case SPF_DNS_FOUND: break;
	}
	if (mx.n > 10) {
		c->why = "mx-limit";
		*err = SPF_PERMERROR;
		return -1;
	}
	for (i = 0; i < mx.n; i++) {
		if (!mx.rd[i].len || mx.rd[i].len > SPF_NAMEMAX)
			continue;
		memcpy(host, mx.rd[i].p, mx.rd[i].len);
		host[mx.rd[i].len] = 0;
		c->lookup(c->arg, host, spf_addrtype(c), &a);
		if (a.st == SPF_DNS_PENDING) {
			*err = SPF_PENDING;
			return -1;
		}
		if (a.st == SPF_DNS_TEMP) {
			*err = SPF_TEMPERROR;
			return -1;
		}
		if (a.st == SPF_DNS_FOUND && spf_any_ip(c, &a, cidr))
			return 1;
	}
	return 0;
}

static int
spf_name_under(const char *name, const char *target)
{
	size_t n = strlen(name), t = strlen(target);

	if (t && target[t - 1] == '.')
		t--;
	if (n && name[n - 1] == '.')
		n--;
	if (n == t)
		return strncasecmp(name, target, n) == 0;
	return n > t && name[n - t - 1] == '.' && strncasecmp(name + n - t, target, t) == 0;
}

static int
spf_mech_ptr(struct spf_ctx *c, const char *target, enum spf_result *err)
{
	struct spf_answer p, a;
	char rev[80], host[SPF_NAMEMAX + 1];
	unsigned i;

	spf_reverse(c, rev, sizeof(rev));
	c->lookup(c->arg, rev, T_PTR, &p);
	if (p.st == SPF_DNS_PENDING) {
		*err = SPF_PENDING;
		return -1;
	}
	if (p.st == SPF_DNS_VOID)
		return spf_void(c, err) < 0 ? -1 : 0;
	if (p.st != SPF_DNS_FOUND)
		return 0;	/* RFC 7208 5.5: a DNS error here is no match */
	for (i = 0; i < p.n && i < 10; i++) {
		if (!p.rd[i].len || p.rd[i].len > SPF_NAMEMAX)
			continue;
		memcpy(host, p.rd[i].p, p.rd[i].len);
		host[p.rd[i].len] = 0;
		c->lookup(c->arg, host, spf_addrtype(c), &a);
		if (a.st == SPF_DNS_PENDING) {
			*err = SPF_PENDING;
			return -1;
		}
		if (a.st == SPF_DNS_FOUND && spf_any_ip(c, &a, c->family == 4 ? 32 : 128) &&
		    spf_name_under(host, target))
			return 1;
	}
	return 0;
}

static enum spf_result
spf_include_result(enum spf_result r, struct spf_ctx *c, int *match)
{
	*match = 0;
	switch (r) {
	case SPF_PASS: *match = 1; return SPF_PASS;
	case SPF_FAIL: case SPF_SOFTFAIL: case SPF_NEUTRAL: return SPF_PASS;
	case SPF_NONE: c->why = "include-none"; return SPF_PERMERROR;
	default: return r;
	}
}

/* 1 match, 0 no match, -1 *err is the result. */
static int
spf_mech(struct spf_ctx *c, const char *domain, const struct spf_term *t,
    unsigned depth, enum spf_result *err)
{
	char target[SPF_NAMEMAX + 256];
	struct spf_answer a;
	enum spf_result r;
	int match;

	switch (t->mech) {
	case SPF_M_ALL:
		return 1;
	case SPF_M_IP4:
		return c->family == 4 && spf_ipmatch(t->ip, c->ip, t->cidr4);
	case SPF_M_IP6:
		return c->family == 6 && spf_ipmatch(t->ip, c->ip, t->cidr6);
	default:
		break;
	}
	if (spf_count(c, err) < 0 || spf_target(c, domain, t->arg, t->arglen, target, err) < 0)
		return -1;
	switch (t->mech) {
	case SPF_M_INCLUDE:
		r = spf_include_result(spf_eval(c, target, depth + 1), c, &match);
		if (r != SPF_PASS) {
			*err = r;
			return -1;
		}
		return match;
	case SPF_M_MX:
		return spf_mech_mx(c, target, c->family == 4 ? t->cidr4 : t->cidr6, err);
	case SPF_M_PTR:
		return spf_mech_ptr(c, target, err);
	default:	/* a, exists */
		c->lookup(c->arg, target, t->mech == SPF_M_EXISTS ? T_A : spf_addrtype(c), &a);
		switch (a.st) {
		case SPF_DNS_PENDING: *err = SPF_PENDING; return -1;
		case SPF_DNS_TEMP: *err = SPF_TEMPERROR; return -1;
		case SPF_DNS_VOID: return spf_void(c, err) < 0 ? -1 : 0;
		case SPF_DNS_FOUND: break;
		}
		if (t->mech == SPF_M_EXISTS)
			return a.n > 0;
		return spf_any_ip(c, &a, c->family == 4 ? t->cidr4 : t->cidr6);
	}
}

static enum spf_result
spf_qual(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

static enum spf_result
spf_eval(struct spf_ctx *c, const char *domain, unsigned depth)
{
	struct spf_record rec;
	char target[SPF_NAMEMAX + 256];
	enum spf_result r;
	unsigned i;
	int m;

	if (depth > SPF_MAXLOOKUPS + 1)
		return c->why = "lookup-limit", SPF_PERMERROR;
	if ((r = spf_record_of(c, domain, &rec)) != SPF_NEUTRAL)
		return r;
	for (i = 0; i < rec.n; i++) {
		if ((m = spf_mech(c, domain, &rec.t[i], depth, &r)) < 0)
			return r;
		if (m)
			return spf_qual(rec.t[i].qual);
	}
	if (!rec.redirect)
		return SPF_NEUTRAL;
	if (spf_count(c, &r) < 0 ||
	    spf_target(c, domain, rec.redirect, rec.redirlen, target, &r) < 0)
		return r;
	if ((r = spf_eval(c, target, depth + 1)) == SPF_NONE)
		return c->why = "redirect-none", SPF_PERMERROR;
	return r;
}

enum spf_result
spf_check_host(struct spf_ctx *c, const char *domain)
{
	c->lookups = c->voids = 0;
	c->why = "";
	return spf_eval(c, domain, 0);
}

static int
spf_count_tree(struct spf_ctx *c, const char *domain, unsigned depth)
{
	struct spf_record rec;
	char target[SPF_NAMEMAX + 256];
	enum spf_result r;
	unsigned i;
	int n = 0, sub;

	if (depth > 2 * SPF_MAXLOOKUPS)
		return 0;
	r = spf_record_of(c, domain, &rec);
	if (r == SPF_PENDING)
		return -1;
	if (r == SPF_TEMPERROR)
		return -2;
	if (r != SPF_NEUTRAL)
		return 0;
	for (i = 0; i <= rec.n; i++) {
		const char *arg = i < rec.n ? rec.t[i].arg : rec.redirect;
		size_t len = i < rec.n ? rec.t[i].arglen : rec.redirlen;
		int recurse = i == rec.n || rec.t[i].mech == SPF_M_INCLUDE;

		if (i == rec.n && !rec.redirect)
			break;
		if (i < rec.n && (rec.t[i].mech == SPF_M_ALL || rec.t[i].mech == SPF_M_IP4 ||
		    rec.t[i].mech == SPF_M_IP6))
			continue;
		n++;
		if (!recurse || spf_target(c, domain, arg, len, target, &r) < 0)
			continue;
		if ((sub = spf_count_tree(c, target, depth + 1)) < 0)
			return sub;
		n += sub;
		if (n > 999)
			return 999;
	}
	return n;
}

int
spf_count_lookups(struct spf_ctx *c, const char *domain)
{
	const char *why = c->why;
	int n = spf_count_tree(c, domain, 0);

	c->why = why;
	return n;
}

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail",
	    "temperror", "permerror", "pending", "unsupported" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}
