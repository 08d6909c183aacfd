#include "logline.h"

#include <string.h>

#define TRUNC_MARK " truncated=1"

/* Room left for content, keeping space for the truncation mark and '\n'. */
static size_t
room(const struct logline *l)
{
	size_t cap = LOGLINE_MAX - (sizeof(TRUNC_MARK) - 1) - 1;

	return l->len >= cap ? 0 : cap - l->len;
}

static int
is_keychar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

size_t
logline_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
needs_escape(const unsigned char *p, size_t n, size_t *seq)
{
	if (p[0] < 0x20 || p[0] == 0x7f) {
		*seq = 1;
		return 1;
	}
	*seq = logline_utf8_len(p, n);
	if (*seq == 0) {
		*seq = 1;
		return 1;
	}
	return 0;
}

static int
needs_quote(const unsigned char *v, size_t n)
{
	size_t i, seq;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i += seq) {
		if (v[i] == ' ' || v[i] == '"' || v[i] == '\\' || v[i] == '=')
			return 1;
		if (needs_escape(v + i, n - i, &seq))
			return 1;
	}
	return 0;
}

static void
put(struct logline *l, const char *s, size_t n)
{
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Appends a token made of safe characters; all or nothing. */
static int
put_token(struct logline *l, const char *lead, const char *tok)
{
	size_t n = strlen(lead), i, tl = tok ? strlen(tok) : 0;

	if (tl == 0)
		tl = 1;
	if (n + tl > room(l)) {
		l->truncated = 1;
		return 0;
	}
	put(l, lead, n);
	if (!tok || !*tok) {
		put(l, "_", 1);
		return 1;
	}
	for (i = 0; tok[i]; i++)
		l->buf[l->len++] = is_keychar((unsigned char)tok[i]) ? tok[i] : '_';
	return 1;
}

void
logline_start(struct logline *l, enum level level, const char *check, const char *event)
{
	l->len = 0;
	l->truncated = 0;
	put_token(l, "", level_name(level));
	put_token(l, " ", check);
	put(l, ":", 1);
	put_token(l, " ", event);
}

void
logline_word(struct logline *l, const char *word)
{
	if (!l->truncated)
		put_token(l, " ", word);
}

/* One unit of a value (a byte, an escape or a UTF-8 character) into out. */
static size_t
value_unit(const unsigned char *v, size_t n, int quoted, char out[4], size_t *consumed)
{
	static const char hex[] = "0123456789abcdef";
	size_t seq;

	if (needs_escape(v, n, &seq)) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[v[0] >> 4];
		out[3] = hex[v[0] & 15];
		*consumed = 1;
		return 4;
	}
	if (quoted && (v[0] == '"' || v[0] == '\\')) {
		out[0] = '\\';
		out[1] = (char)v[0];
		*consumed = 1;
		return 2;
	}
	memcpy(out, v, seq);
	*consumed = seq;
	return seq;
}

void
logline_field(struct logline *l, const char *key, const void *val, size_t n)
{
	const unsigned char *v = val;
	int quoted = needs_quote(v, n);
	size_t i = 0, ulen, used;
	char unit[4];

	if (l->truncated)
		return;
	/* key, '=', and for a quoted value both quotes must fit */
	if (!put_token(l, " ", key))
		return;
	if (room(l) < (size_t)(1 + 2 * quoted)) {
		l->truncated = 1;
		return;
	}
	put(l, "=", 1);
	if (quoted)
		put(l, "\"", 1);
	while (i < n) {
		ulen = value_unit(v + i, n - i, quoted, unit, &used);
		if (ulen + (size_t)quoted > room(l)) {
			l->truncated = 1;
			break;
		}
		put(l, unit, ulen);
		i += used;
	}
	if (quoted)
		put(l, "\"", 1);
}

void
logline_raw(struct logline *l, const char *text)
{
	size_t n = strlen(text);

	if (l->truncated || n == 0)
		return;
	if (n + 1 > room(l)) {
		l->truncated = 1;
		return;
	}
	put(l, " ", 1);
	put(l, text, n);
}

size_t
logline_end(struct logline *l)
{
	if (l->truncated)
		put(l, TRUNC_MARK, sizeof(TRUNC_MARK) - 1);
	put(l, "\n", 1);
	return l->len;
}

static void
add_fields(struct logline *l, const struct finding *f, unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i < to && i < f->nfields; i++)
		logline_field(l, f->field[i].key, f->buf + f->field[i].off, f->field[i].len);
}

size_t
logline_finding(struct logline *l, const struct finding *f)
{
	logline_start(l, f->level, f->check, f->event);
	add_fields(l, f, 0, f->nfields);
	if (f->truncated)
		l->truncated = 1;
	return logline_end(l);
}

size_t
logline_subject(char *out, size_t size, const struct finding *f)
{
	struct logline l;
	size_t n;

	l.len = 0;
	l.truncated = 0;
	add_fields(&l, f, 0, f->nsubject);
	n = l.len ? l.len - 1 : 0;	/* drop the leading space */
	if (n >= size)
		n = size - 1;
	memcpy(out, l.buf + (l.len ? 1 : 0), n);
	out[n] = '\0';
	return n;
}
