#include "tlsproto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"

static const struct {
	const char *name;
	enum tlsproto proto;
} tlsproto_names[] = {
	{ "smtp", TLSPROTO_SMTP },
	{ "submission", TLSPROTO_SUBMISSION },
	{ "smtps", TLSPROTO_SMTPS },
	{ "pop3", TLSPROTO_POP3 },
	{ "pop3s", TLSPROTO_POP3S },
};

const char *
tlsproto_name(enum tlsproto p)
{
	size_t i;

	for (i = 0; i < sizeof(tlsproto_names) / sizeof(tlsproto_names[0]); i++)
		if (tlsproto_names[i].proto == p)
			return tlsproto_names[i].name;
	return "?";
}

int
tlsproto_is_smtp(enum tlsproto p)
{
	return p == TLSPROTO_SMTP || p == TLSPROTO_SUBMISSION || p == TLSPROTO_SMTPS;
}

int
tlsproto_is_implicit(enum tlsproto p)
{
	return p == TLSPROTO_SMTPS || p == TLSPROTO_POP3S;
}

static int
target_proto(const char *s, size_t len, enum tlsproto *p)
{
	size_t i;

	for (i = 0; i < sizeof(tlsproto_names) / sizeof(tlsproto_names[0]); i++)
		if (strlen(tlsproto_names[i].name) == len &&
		    strncasecmp(s, tlsproto_names[i].name, len) == 0) {
			*p = tlsproto_names[i].proto;
			return 0;
		}
	return -1;
}

static int
target_sni(const char *s, size_t len, struct tls_target *t)
{
	if (len >= sizeof(t->sni) || !dnsmsg_name_ok(s, len))
		return -1;
	memcpy(t->sni, s, len);
	t->sni[len] = 0;
	return 0;
}

size_t
tls_target_format(const struct tls_target *t, char *buf, size_t size)
{
	int v6 = strchr(t->host, ':') != NULL;
	int n = snprintf(buf, size, "%s://%s%s%s:%u%s%s", tlsproto_name(t->proto),
	    v6 ? "[" : "", t->host, v6 ? "]" : "", t->port, *t->sni ? "/" : "", t->sni);

	return n < 0 ? 0 : (size_t)n;
}

int
tls_target_parse(const char *s, size_t len, struct tls_target *t, const char **why)
{
	const char *p, *end = s + len, *host, *hend, *slash;
	unsigned char addr[16];
	unsigned long port = 0;

	memset(t, 0, sizeof(*t));
	*why = "syntax";
	if (!(p = memchr(s, ':', len)) || end - p < 3 || p[1] != '/' || p[2] != '/')
		return -1;
	if (target_proto(s, (size_t)(p - s), &t->proto) < 0) {
		*why = "unknown-protocol";
		return -1;
	}
	host = p + 3;
	slash = memchr(host, '/', (size_t)(end - host));
	if (!slash)
		slash = end;
	if (host < slash && *host == '[') {
		host++;
		if (!(hend = memchr(host, ']', (size_t)(slash - host))))
			return -1;
		p = hend + 1;
	} else {
		for (hend = slash; hend > host && hend[-1] != ':'; hend--)
			;
		if (hend == host)
			return -1;
		p = --hend;
	}
	if (p >= slash || *p != ':' || hend == host || (size_t)(hend - host) >= sizeof(t->host))
		return -1;
	memcpy(t->host, host, (size_t)(hend - host));
	if (inet_pton(AF_INET, t->host, addr) != 1 && inet_pton(AF_INET6, t->host, addr) != 1) {
		*why = "not-an-address";
		return -1;
	}
	for (p++; p < slash; p++) {
		if (*p < '0' || *p > '9' || (port = port * 10 + (unsigned long)(*p - '0')) > 65535) {
			*why = "bad-port";
			return -1;
		}
	}
	if (port == 0 || slash[-1] == ':') {
		*why = "bad-port";
		return -1;
	}
	t->port = (unsigned)port;
	if (slash < end && target_sni(slash + 1, (size_t)(end - slash - 1), t) < 0) {
		*why = "bad-name";
		return -1;
	}
	return 0;
}

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static int
smtp_keyword(const char *text, size_t len, const char *kw)
{
	size_t n = strlen(kw);

	return len >= n && strncasecmp(text, kw, n) == 0 &&
	    (len == n || text[n] == ' ' || text[n] == '=');
}

enum smtp_parse
smtp_reply_parse(struct smtp_reply *r, const char *line, size_t len)
{
	const char *text;
	size_t tlen;
	int code, last;

	if (r->complete || len < 3 || r->lines >= TLSPROTO_MAXLINES)
		return SMTP_BAD;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return SMTP_BAD;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return SMTP_BAD;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->lines && code != r->code)
		return SMTP_BAD;
	last = len == 3 || line[3] == ' ';
	text = len > 4 ? line + 4 : line + len;
	tlen = len > 4 ? len - 4 : 0;
	if (r->lines == 0) {
		r->code = code;
		r->textlen = tlen < sizeof(r->text) ? tlen : sizeof(r->text);
		memcpy(r->text, text, r->textlen);
	} else if (code == 250) {
		if (smtp_keyword(text, tlen, "STARTTLS"))
			r->starttls = 1;
		if (smtp_keyword(text, tlen, "AUTH"))
			r->auth = 1;
	}
	r->lines++;
	if (!last)
		return SMTP_MORE;
	r->complete = 1;
	return SMTP_DONE;
}

int
pop3_status_parse(const char *line, size_t len)
{
	if (len >= 3 && memcmp(line, "+OK", 3) == 0 && (len == 3 || line[3] == ' '))
		return 1;
	if (len >= 4 && memcmp(line, "-ERR", 4) == 0 && (len == 4 || line[4] == ' '))
		return 0;
	return -1;
}

void
pop3_capa_init(struct pop3_capa *c)
{
	memset(c, 0, sizeof(*c));
}

static int
pop3_word(const char *line, size_t len, const char *kw)
{
	size_t n = strlen(kw);

	return len >= n && strncasecmp(line, kw, n) == 0 && (len == n || line[n] == ' ');
}

enum pop3_capa_parse
pop3_capa_parse(struct pop3_capa *c, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.')
		return POP3_CAPA_DONE;
	if (c->lines >= TLSPROTO_MAXLINES)
		return POP3_CAPA_BAD;
	c->lines++;
	if (pop3_word(line, len, "STLS"))
		c->stls = 1;
	if (pop3_word(line, len, "SASL") || pop3_word(line, len, "USER"))
		c->auth = 1;
	return POP3_CAPA_MORE;
}
