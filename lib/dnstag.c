#include "dnstag.h"

#include <string.h>
#include <strings.h>

static int
tag_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
tag_trim(const char **s, size_t *n)
{
	while (*n && tag_ws(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && tag_ws((*s)[*n - 1]))
		(*n)--;
}

static int
tag_name_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || !((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
tag_parse(const char *s, size_t len, struct taglist *l)
{
	size_t i = 0, j, k;
	unsigned m;

	l->n = 0;
	while (i < len) {
		const char *seg, *eq;
		struct tag *t;
		size_t slen;

		for (j = i; j < len && s[j] != ';'; j++)
			;
		seg = s + i;
		slen = j - i;
		i = j + 1;
		tag_trim(&seg, &slen);
		if (!slen)
			continue;	/* ";;" and a trailing ";" */
		if (!(eq = memchr(seg, '=', slen)) || l->n == TAG_MAX)
			return -1;
		t = &l->t[l->n];
		t->name = seg;
		t->nlen = (size_t)(eq - seg);
		tag_trim(&t->name, &t->nlen);
		t->val = eq + 1;
		t->vlen = (size_t)(seg + slen - t->val);
		tag_trim(&t->val, &t->vlen);
		if (!tag_name_ok(t->name, t->nlen))
			return -1;
		for (k = 0; k < t->vlen; k++)
			if ((unsigned char)t->val[k] < 0x21 && !tag_ws(t->val[k]))
				return -1;
		for (m = 0; m < l->n; m++)
			if (l->t[m].nlen == t->nlen && memcmp(l->t[m].name, t->name, t->nlen) == 0)
				return -1;
		l->n++;
	}
	return 0;
}

const struct tag *
tag_get(const struct taglist *l, const char *name)
{
	size_t n = strlen(name);
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->t[i].nlen == n && memcmp(l->t[i].name, name, n) == 0)
			return &l->t[i];
	return NULL;
}

static int
tag_is(const struct tag *t, const char *val)
{
	return t && t->vlen == strlen(val) && strncasecmp(t->val, val, t->vlen) == 0;
}

/* "v" [ws] "=" [ws] word, then white space, ";" or the end. */
static int
tag_first_is(const char *s, size_t len, const char *word)
{
	size_t i = 0, w = strlen(word);

	while (i < len && tag_ws(s[i]))
		i++;
	if (i == len || s[i++] != 'v')
		return 0;
	while (i < len && tag_ws(s[i]))
		i++;
	if (i == len || s[i++] != '=')
		return 0;
	while (i < len && tag_ws(s[i]))
		i++;
	if (len - i < w || memcmp(s + i, word, w) != 0)
		return 0;
	i += w;
	return i == len || s[i] == ';' || tag_ws(s[i]);
}

int
dmarc_is_record(const char *s, size_t len)
{
	return tag_first_is(s, len, "DMARC1");
}

static const char *
dmarc_policy(const struct tag *t)
{
	static const char *const policies[] = { "none", "quarantine", "reject" };
	unsigned i;

	for (i = 0; i < 3; i++)
		if (tag_is(t, policies[i]))
			return policies[i];
	return NULL;
}

int
dmarc_parse(const char *s, size_t len, const char **policy, const char **subpolicy,
    const char **why)
{
	struct taglist l;
	const struct tag *t;
	unsigned i, pct = 0;

	*policy = *subpolicy = "";
	if (!dmarc_is_record(s, len) || tag_parse(s, len, &l) < 0)
		return *why = "syntax", -1;
	if (!(t = tag_get(&l, "p")))
		return *why = "no-policy", -1;
	if (!(*policy = dmarc_policy(t)))
		return *policy = "", *why = "bad-policy", -1;
	*subpolicy = *policy;
	if ((t = tag_get(&l, "sp")) && !(*subpolicy = dmarc_policy(t)))
		return *subpolicy = "", *why = "bad-sp", -1;
	if ((t = tag_get(&l, "adkim")) && !tag_is(t, "r") && !tag_is(t, "s"))
		return *why = "bad-adkim", -1;
	if ((t = tag_get(&l, "aspf")) && !tag_is(t, "r") && !tag_is(t, "s"))
		return *why = "bad-aspf", -1;
	if ((t = tag_get(&l, "pct"))) {
		if (!t->vlen || t->vlen > 3)
			return *why = "bad-pct", -1;
		for (i = 0; i < t->vlen; i++) {
			if (t->val[i] < '0' || t->val[i] > '9')
				return *why = "bad-pct", -1;
			pct = pct * 10 + (unsigned)(t->val[i] - '0');
		}
		if (pct > 100)
			return *why = "bad-pct", -1;
	}
	return 0;
}

int
dkim_is_record(const char *s, size_t len)
{
	struct taglist l;

	if (tag_first_is(s, len, "DKIM1"))
		return 1;
	return tag_parse(s, len, &l) == 0 && tag_get(&l, "p") != NULL;
}

long
tag_base64(const char *s, size_t len, unsigned char *out, size_t outsize)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	unsigned bits = 0, pad = 0;
	int v;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (tag_ws(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -1;
		if (c >= 'A' && c <= 'Z') v = c - 'A';
		else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
		else if (c >= '0' && c <= '9') v = c - '0' + 52;
		else if (c == '+') v = 62;
		else if (c == '/') v = 63;
		else return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outsize)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)o;
}

int
dkim_parse(const char *s, size_t len, struct dkim_key *k, const char **why)
{
	struct taglist l;
	const struct tag *t;
	long n;

	k->ed25519 = 0;
	k->len = 0;
	if (tag_parse(s, len, &l) < 0)
		return *why = "syntax", -1;
	if ((t = tag_get(&l, "v")) && (t != &l.t[0] || !tag_is(t, "DKIM1")))
		return *why = "bad-version", -1;
	if ((t = tag_get(&l, "k"))) {
		if (tag_is(t, "ed25519"))
			k->ed25519 = 1;
		else if (!tag_is(t, "rsa"))
			return *why = "bad-key-type", -1;
	}
	if (!(t = tag_get(&l, "p")))
		return *why = "no-key", -1;
	if ((n = tag_base64(t->val, t->vlen, k->key, sizeof(k->key))) < 0)
		return *why = "bad-base64", -1;
	k->len = (size_t)n;
	return 0;
}
