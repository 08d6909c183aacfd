/* The status file: written by the daemon after every run, read by
 * `qmail-maintd -s` as any user. See status.h for the format. */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "safefile.h"

#define TIME_MAX (1ULL << 40)		/* year 36812: sums of times never overflow */
#define SECONDS_MAX (1ULL << 32)	/* an interval or a time limit */
#define TRAILER_RESERVE 256		/* the omitted and end lines */

static const char *const result_names[] = { "never", "ok", "failed" };

/* ---- writing ---- */

struct status_out {
	char *p;
	size_t n, cap;
	int err;
	unsigned nchecks;
	unsigned long nfindings;
	unsigned long omitted[LEVEL_FATAL + 1];
};

static void
out_add(struct status_out *o, const void *s, size_t len)
{
	if (o->err)
		return;
	if (o->n + len + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *p;

		while (cap < o->n + len + 1)
			cap *= 2;
		if (!(p = realloc(o->p, cap))) {
			o->err = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
	o->p[o->n] = '\0';
}

static int
word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/* A name as one word of the format: [A-Za-z0-9_.-], at most STATUS_WORD_MAX,
 * other bytes as '_', none at all as "-". Returns the bytes written to w. */
static size_t
safe_word(char *w, const char *s)
{
	size_t i;

	if (!s || !*s) {
		strcpy(w, "-");
		return 1;
	}
	for (i = 0; s[i] && i < STATUS_WORD_MAX; i++)
		w[i] = word_char((unsigned char)s[i]) ? s[i] : '_';
	w[i] = '\0';
	return i;
}

static long long
clamp_time(time_t t)
{
	return t < 0 ? 0 : (unsigned long long)t > TIME_MAX ? (long long)TIME_MAX : (long long)t;
}

struct status_out *
status_begin(pid_t pid, time_t start, time_t now, const struct status_check *c, unsigned n)
{
	struct status_out *o = calloc(1, sizeof(*o));
	char line[STATUS_LINE_MAX], name[STATUS_WORD_MAX + 1];
	unsigned i;
	int k;

	if (!o)
		return NULL;
	k = snprintf(line, sizeof(line), "qmail-maintd-status %d\npid %ld start %lld written %lld\n",
	    STATUS_VERSION, (long)pid, clamp_time(start), clamp_time(now));
	out_add(o, line, (size_t)k);
	for (i = 0; i < n && i < STATUS_MAXCHECKS; i++) {
		unsigned r = (unsigned)c[i].result < 3 ? (unsigned)c[i].result : STATUS_RESULT_FAILED;

		safe_word(name, c[i].name);
		k = snprintf(line, sizeof(line), "check %s last %lld result %s interval %lu timeout %lu\n",
		    name, clamp_time(c[i].last), result_names[r],
		    c[i].interval < SECONDS_MAX ? c[i].interval : (unsigned long)SECONDS_MAX,
		    c[i].timeout < SECONDS_MAX ? c[i].timeout : (unsigned long)SECONDS_MAX);
		out_add(o, line, (size_t)k);
		o->nchecks++;
	}
	if (o->err) {
		free(o->p);
		free(o);
		return NULL;
	}
	return o;
}

/* The subject made safe (a control byte as \xNN: there should be none) in at
 * most room bytes: whole, or cut after its last field that leaves room for
 * "truncated=1", never inside a field (a space inside quotes is not a
 * boundary). Returns its length; out has room + 1 bytes. */
static size_t
fit_subject(char *out, size_t room, const char *s)
{
	static const char mark[] = "truncated=1";
	size_t n = 0, i, last = 0;
	int quoted = 0, esc = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		size_t k = 1;

		if (c < 0x20 || c == 0x7f)
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else
			tmp[0] = (char)c;
		if (n + k > room)
			goto cut;
		memcpy(out + n, tmp, k);
		n += k;
	}
	out[n] = '\0';
	return n;
cut:
	/* the last boundary (a space outside quotes) that leaves room for the mark */
	for (i = 0; i < n; i++) {
		if (esc)
			esc = 0;
		else if (quoted && out[i] == '\\')
			esc = 1;
		else if (out[i] == '"')
			quoted = !quoted;
		else if (!quoted && out[i] == ' ' && i + 1 + sizeof(mark) - 1 <= room)
			last = i;
	}
	if (last) {
		memcpy(out + last, " ", 1);
		memcpy(out + last + 1, mark, sizeof(mark));
		return last + sizeof(mark);
	}
	memcpy(out, mark, sizeof(mark));
	return sizeof(mark) - 1;
}

void
status_add(struct status_out *o, const struct status_finding *f)
{
	char line[STATUS_LINE_MAX + 1], check[STATUS_WORD_MAX + 1], event[STATUS_WORD_MAX + 1];
	unsigned l = (unsigned)f->level <= LEVEL_FATAL ? (unsigned)f->level : LEVEL_CRIT;
	size_t n;

	safe_word(check, f->check);
	safe_word(event, f->event);
	n = (size_t)snprintf(line, sizeof(line), "finding %s %s %s first %lld",
	    level_name((enum level)l), check, event, clamp_time(f->first));
	if (f->subject && *f->subject) {
		line[n++] = ' ';
		n += fit_subject(line + n, STATUS_LINE_MAX - 1 - n, f->subject);
	}
	line[n++] = '\n';
	if (o->n + n + TRAILER_RESERVE > STATUS_MAXBYTES) {
		o->omitted[l]++;
		return;
	}
	out_add(o, line, n);
	o->nfindings++;
}

const char *
status_text(struct status_out *o, size_t *len)
{
	size_t n0 = o->n;
	char line[128];
	unsigned l;
	int k;

	for (l = 0; l <= LEVEL_FATAL; l++)
		if (o->omitted[l]) {
			k = snprintf(line, sizeof(line), "omitted %s %lu\n", level_name((enum level)l),
			    o->omitted[l]);
			out_add(o, line, (size_t)k);
		}
	k = snprintf(line, sizeof(line), "end %u %lu\n", o->nchecks, o->nfindings);
	out_add(o, line, (size_t)k);
	if (o->err)
		return NULL;
	*len = o->n;
	o->n = n0;	/* the trailer stays in the buffer until the next add */
	return o->p;
}

int
status_commit(struct status_out *o, int dirfd)
{
	const char *text;
	size_t len;
	int r = -1, e = ENOMEM;

	if (!o) {
		errno = ENOMEM;
		return -1;
	}
	if ((text = status_text(o, &len))) {
		r = safe_replace_snapshot(dirfd, STATUS_NAME, text, len, 0644);
		e = errno;
	}
	free(o->p);
	free(o);
	errno = e;
	return r;
}

int
status_write(int dirfd, pid_t pid, time_t start, const struct status_check *c, unsigned n,
    status_next_fn *next, void *arg)
{
	struct status_out *o = status_begin(pid, start, time(NULL), c, n);
	struct status_finding f;

	if (!o) {
		errno = ENOMEM;
		return -1;
	}
	while (next && next(arg, &f) == 1)
		status_add(o, &f);
	return status_commit(o, dirfd);
}

/* ---- reading ---- */

struct cursor {
	char *p;
	const char *why;
};

/* One word of [A-Za-z0-9_.-], NUL-terminated in place; then a space or the end. */
static char *
next_word(struct cursor *c)
{
	char *w = c->p;
	size_t n = 0;

	while (word_char((unsigned char)w[n]) && n <= STATUS_WORD_MAX)
		n++;
	if (!n || n > STATUS_WORD_MAX || (w[n] != ' ' && w[n] != '\0')) {
		c->why = "bad-word";
		return NULL;
	}
	c->p = w + n + (w[n] == ' ');
	w[n] = '\0';
	return w;
}

/* The literal word lit, then a space or the end. */
static int
expect(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(c->p, lit, n) != 0 || (c->p[n] != ' ' && c->p[n] != '\0')) {
		c->why = "bad-syntax";
		return -1;
	}
	c->p += n + (c->p[n] == ' ');
	return 0;
}

static int
number(struct cursor *c, unsigned long long max, unsigned long long *v)
{
	unsigned long long x = 0;
	size_t n = 0;

	while (c->p[n] >= '0' && c->p[n] <= '9') {
		if (n >= 19 || (x = x * 10 + (unsigned)(c->p[n] - '0')) > max) {
			c->why = "bad-number";
			return -1;
		}
		n++;
	}
	if (!n || (c->p[n] != ' ' && c->p[n] != '\0')) {
		c->why = "bad-number";
		return -1;
	}
	c->p += n + (c->p[n] == ' ');
	*v = x;
	return 0;
}

static int
at_end(struct cursor *c)
{
	if (*c->p) {
		c->why = "trailing-words";
		return -1;
	}
	return 0;
}

static int
parse_level(const char *w, enum level *l)
{
	unsigned i;

	for (i = 0; i <= LEVEL_FATAL; i++)
		if (strcmp(w, level_name((enum level)i)) == 0) {
			*l = (enum level)i;
			return 0;
		}
	return -1;
}

static int
parse_check(struct cursor *c, struct status_file *sf)
{
	struct status_check *k;
	unsigned long long v;
	const char *w;
	unsigned i;

	if (sf->nchecks >= STATUS_MAXCHECKS) {
		c->why = "too-many-checks";
		return -1;
	}
	k = &sf->check[sf->nchecks];
	if (!(k->name = next_word(c)) || expect(c, "last") < 0 || number(c, TIME_MAX, &v) < 0)
		return -1;
	k->last = (time_t)v;
	if (expect(c, "result") < 0 || !(w = next_word(c)))
		return -1;
	for (i = 0; i < 3 && strcmp(w, result_names[i]) != 0; i++)
		;
	if (i == 3) {
		c->why = "bad-result";
		return -1;
	}
	k->result = (int)i;
	if (expect(c, "interval") < 0 || number(c, SECONDS_MAX, &v) < 0)
		return -1;
	k->interval = (unsigned long)v;
	if (expect(c, "timeout") < 0 || number(c, SECONDS_MAX, &v) < 0 || at_end(c) < 0)
		return -1;
	k->timeout = (unsigned long)v;
	sf->nchecks++;
	return 0;
}

static int
parse_finding(struct cursor *c, struct status_file *sf, unsigned long *cap)
{
	struct status_finding *f;
	unsigned long long v;
	const char *w;

	if (sf->nfindings == *cap) {
		unsigned long ncap = *cap ? *cap * 2 : 64;
		void *p = realloc(sf->finding, ncap * sizeof(*sf->finding));

		if (!p) {
			c->why = "no-memory";
			return -1;
		}
		sf->finding = p;
		*cap = ncap;
	}
	f = &sf->finding[sf->nfindings];
	if (!(w = next_word(c)))
		return -1;
	if (parse_level(w, &f->level) < 0) {
		c->why = "bad-level";
		return -1;
	}
	if (!(f->check = next_word(c)) || !(f->event = next_word(c)) || expect(c, "first") < 0 ||
	    number(c, TIME_MAX, &v) < 0)
		return -1;
	f->first = (time_t)v;
	f->subject = c->p;	/* the rest of the line, checked for control bytes */
	sf->nfindings++;
	return 0;
}

static int
parse_omitted(struct cursor *c, struct status_file *sf)
{
	unsigned long long v;
	enum level l;
	const char *w;

	if (!(w = next_word(c)))
		return -1;
	if (parse_level(w, &l) < 0) {
		c->why = "bad-level";
		return -1;
	}
	if (number(c, ULONG_MAX, &v) < 0 || at_end(c) < 0)
		return -1;
	sf->omitted[l] += (unsigned long)v;
	return 0;
}

static int
parse_end(struct cursor *c, struct status_file *sf)
{
	unsigned long long nc, nf;

	if (number(c, STATUS_MAXCHECKS, &nc) < 0 || number(c, ULONG_MAX, &nf) < 0 || at_end(c) < 0)
		return -1;
	if (nc != sf->nchecks || nf != sf->nfindings) {
		c->why = "bad-count";
		return -1;
	}
	return 0;
}

static int
parse_pid(struct cursor *c, struct status_file *sf)
{
	unsigned long long v;

	if (number(c, INT_MAX, &v) < 0)
		return -1;
	if (v < 1) {
		c->why = "bad-pid";
		return -1;
	}
	sf->pid = (pid_t)v;
	if (expect(c, "start") < 0 || number(c, TIME_MAX, &v) < 0)
		return -1;
	sf->start = (time_t)v;
	if (expect(c, "written") < 0 || number(c, TIME_MAX, &v) < 0 || at_end(c) < 0)
		return -1;
	sf->written = (time_t)v;
	return 0;
}

int
status_parse(char *buf, size_t len, struct status_file *sf, unsigned long *lineno,
    const char **why)
{
	static const char magic[] = "qmail-maintd-status";
	unsigned long cap = 0, n = 0;
	struct cursor c = { NULL, NULL };
	int have_pid = 0, ended = 0;
	size_t off = 0, i;

	memset(sf, 0, sizeof(*sf));
	sf->buf = buf;
	*why = NULL;
	while (off < len) {
		char *line = buf + off, *nl = memchr(line, '\n', len - off), *w;

		n++;
		c.why = NULL;
		if (!nl) {
			c.why = "incomplete";
			break;
		}
		if ((size_t)(nl - line) + 1 > STATUS_LINE_MAX) {
			c.why = "line-too-long";
			break;
		}
		for (i = 0; line + i < nl; i++)
			if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
				c.why = "control-byte";
				break;
			}
		if (c.why)
			break;
		*nl = '\0';
		off = (size_t)(nl - buf) + 1;
		c.p = line;
		if (ended) {
			c.why = "after-end";
			break;
		}
		if (n == 1) {
			if (expect(&c, magic) < 0) {
				c.why = "not-a-status-file";
				break;
			}
			if (strcmp(c.p, "1") != 0) {
				c.why = "unknown-version";
				break;
			}
			continue;
		}
		if (!(w = next_word(&c)))
			break;
		if (n == 2 && strcmp(w, "pid") != 0) {
			c.why = "no-pid";
			break;
		}
		if (strcmp(w, "pid") == 0) {
			if (have_pid++ || parse_pid(&c, sf) < 0) {
				c.why = c.why ? c.why : "second-pid";
				break;
			}
		} else if (strcmp(w, "check") == 0) {
			if (parse_check(&c, sf) < 0)
				break;
		} else if (strcmp(w, "finding") == 0) {
			if (parse_finding(&c, sf, &cap) < 0)
				break;
		} else if (strcmp(w, "omitted") == 0) {
			if (parse_omitted(&c, sf) < 0)
				break;
		} else if (strcmp(w, "end") == 0) {
			if (parse_end(&c, sf) < 0)
				break;
			ended = 1;
		}
		/* another word: an addition within version 1, skipped */
	}
	if (!c.why && !ended)
		c.why = len ? "incomplete" : "empty";
	if (c.why) {
		*lineno = n ? n : 1;
		*why = c.why;
		status_file_free(sf);
		sf->buf = buf;
		return -1;
	}
	return 0;
}

void
status_file_free(struct status_file *sf)
{
	free(sf->finding);
	sf->finding = NULL;
	sf->nfindings = 0;
}

/* ---- judging ---- */

/* Seconds since the check's last run (or the daemon's start, if none). */
static long long
since_run(const struct status_file *sf, const struct status_check *c, time_t now)
{
	time_t ref = c->last ? c->last : sf->start;

	return now > ref ? (long long)(now - ref) : 0;
}

/* No run for twice its interval plus its time limit (interval 0: no timer,
 * nothing is due). */
static int
overdue(const struct status_file *sf, const struct status_check *c, time_t now)
{
	return c->interval &&
	    (unsigned long long)since_run(sf, c, now) > 2ULL * c->interval + c->timeout;
}

void
status_judge(const struct status_file *sf, time_t now, int alive, struct status_verdict *v)
{
	unsigned long i;
	unsigned k;

	memset(v, 0, sizeof(*v));
	v->alive = alive;
	v->now = now;
	v->first_overdue = -1;
	v->age = now > sf->written ? now - sf->written : 0;
	for (k = 0; k < sf->nchecks; k++) {
		const struct status_check *c = &sf->check[k];

		v->failed += c->result == STATUS_RESULT_FAILED;
		v->ran += c->result != STATUS_RESULT_NEVER;
		if (overdue(sf, c, now)) {
			if (v->first_overdue < 0)
				v->first_overdue = (int)k;
			v->overdue++;
		}
	}
	for (i = 0; i < sf->nfindings; i++) {
		v->crit += sf->finding[i].level >= LEVEL_CRIT;
		v->warn += sf->finding[i].level == LEVEL_WARN;
	}
	v->crit += sf->omitted[LEVEL_CRIT] + sf->omitted[LEVEL_FATAL];
	v->warn += sf->omitted[LEVEL_WARN];
	if (!alive || v->overdue || v->crit)
		v->state = STATUS_CRITICAL;
	else if (v->failed)
		v->state = STATUS_UNKNOWN;
	else if (v->warn)
		v->state = STATUS_WARNING;
	else
		v->state = STATUS_OK;
}

/* ---- the plugin's status line ---- */

static const char *const state_words[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* A line built of whole fields within a limit. */
struct nline {
	char buf[STATUS_NAGIOS_MAX + 1];
	size_t n, limit;
};

static int
nl_add(struct nline *l, const char *s, size_t reserve)
{
	size_t k = strlen(s);

	if (l->n + k + reserve > l->limit)
		return -1;
	memcpy(l->buf + l->n, s, k + 1);
	l->n += k;
	return 0;
}

/* Whole tokens while they fit, keeping room for "; +N more", which ends the
 * list when one does not. */
struct tokens {
	struct nline *l;
	const char *first, *sep;
	unsigned long added, total;
	int full;
};

static void
tok_add(struct tokens *t, const char *text, int last)
{
	char tok[STATUS_NAGIOS_MAX + 1];
	size_t reserve;

	if (t->full)
		return;
	/* room for what ends the list if the next token does not fit */
	reserve = last ? 0 : (size_t)snprintf(tok, sizeof(tok), "%s+%lu more", t->sep, t->total);
	snprintf(tok, sizeof(tok), "%s%s", t->added ? t->sep : t->first, text);
	if (nl_add(t->l, tok, reserve) == 0) {
		t->added++;
		return;
	}
	t->full = 1;
	snprintf(tok, sizeof(tok), "%s+%lu more", t->added ? t->sep : t->first, t->total - t->added);
	nl_add(t->l, tok, 0);
}

/* The findings of one level, check and event. */
struct group {
	const struct status_finding *f;	/* the first */
	unsigned long count;
};

static int
level_rank(enum level l)
{
	return l >= LEVEL_CRIT ? 2 : l == LEVEL_WARN ? 1 : 0;
}

static int
by_kind(const void *a, const void *b)
{
	const struct status_finding *x = *(const struct status_finding *const *)a;
	const struct status_finding *y = *(const struct status_finding *const *)b;
	int r = level_rank(y->level) - level_rank(x->level);

	if (!r)
		r = strcmp(x->check, y->check);
	if (!r)
		r = strcmp(x->event, y->event);
	return r ? r : (x < y ? -1 : x > y);
}

/* crit before warn, then the most frequent first */
static int
by_weight(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int r = level_rank(y->f->level) - level_rank(x->f->level);

	if (r)
		return r;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	r = strcmp(x->f->check, y->f->check);
	return r ? r : strcmp(x->f->event, y->f->event);
}

/* The warn and crit findings grouped by level, check and event, heaviest
 * first; malloc'd, *n groups; NULL when there are none (or no memory). */
static struct group *
group_findings(const struct status_file *sf, unsigned long *n)
{
	const struct status_finding **idx;
	struct group *g = NULL;
	unsigned long i, k = 0, m = 0;

	*n = 0;
	if (!sf->nfindings || !(idx = malloc(sf->nfindings * sizeof(*idx))))
		return NULL;
	for (i = 0; i < sf->nfindings; i++)
		if (sf->finding[i].level >= LEVEL_WARN)
			idx[m++] = &sf->finding[i];
	if (m && (g = malloc(m * sizeof(*g)))) {
		qsort(idx, m, sizeof(*idx), by_kind);
		for (i = 0; i < m; i++) {
			if (k && level_rank(g[k - 1].f->level) == level_rank(idx[i]->level) &&
			    strcmp(g[k - 1].f->check, idx[i]->check) == 0 &&
			    strcmp(g[k - 1].f->event, idx[i]->event) == 0) {
				g[k - 1].count++;
				continue;
			}
			g[k].f = idx[i];
			g[k++].count = 1;
		}
		qsort(g, k, sizeof(*g), by_weight);
		*n = k;
	}
	free(idx);
	return g;
}

static void
group_token(struct tokens *t, const struct group *g)
{
	char tok[2 * STATUS_WORD_MAX + 32];

	if (g->count > 1)
		snprintf(tok, sizeof(tok), "%s %s x%lu", g->f->check, g->f->event, g->count);
	else
		snprintf(tok, sizeof(tok), "%s %s", g->f->check, g->f->event);
	tok_add(t, tok, t->added + 1 == t->total);
}

/* The counts, then "check event [xN]" of the crit findings (the most
 * frequent first), the checks that could not check, the warn findings. */
static void
summary_normal(const struct status_file *sf, const struct status_verdict *v, struct nline *l)
{
	struct tokens t = { l, ": ", "; ", 0, 0, 0 };
	unsigned long i, ng;
	struct group *g;
	char tmp[160];
	unsigned k;

	if (!v->crit && !v->warn && !v->failed) {
		if (v->ran < sf->nchecks)
			snprintf(tmp, sizeof(tmp), "no findings, %u of %u checks have run", v->ran,
			    sf->nchecks);
		else
			snprintf(tmp, sizeof(tmp), "%u checks ok, no findings", sf->nchecks);
		nl_add(l, tmp, 0);
		return;
	}
	/* the counts that are not 0 */
	snprintf(tmp, sizeof(tmp), "%.0lu%s%s%.0lu%s%s%.0u%s", v->crit, v->crit ? " critical" : "",
	    v->crit && v->warn + v->failed ? ", " : "", v->warn, v->warn ? " warning" : "",
	    v->warn && v->failed ? ", " : "", v->failed, v->failed ? " could not check" : "");
	nl_add(l, tmp, 0);
	g = group_findings(sf, &ng);
	t.total = ng + v->failed;
	for (i = 0; i < ng && level_rank(g[i].f->level) == 2; i++)
		group_token(&t, &g[i]);
	for (k = 0; k < sf->nchecks; k++)
		if (sf->check[k].result == STATUS_RESULT_FAILED) {
			snprintf(tmp, sizeof(tmp), "%s could not check", sf->check[k].name);
			tok_add(&t, tmp, t.added + 1 == t.total);
		}
	for (; i < ng; i++)
		group_token(&t, &g[i]);
	free(g);
}

static void
perfdata(const struct status_file *sf, const struct status_verdict *v, char *out, size_t size)
{
	if (!v->alive)	/* what a dead daemon knew is not a measurement */
		snprintf(out, size, "'status_age'=%llds", (long long)v->age);
	else
		snprintf(out, size, "'findings_crit'=%lu 'findings_warn'=%lu "
		    "'checks_failed'=%u;;;0;%u 'status_age'=%llds",
		    v->crit, v->warn, v->failed, sf->nchecks, (long long)v->age);
}

size_t
status_nagios_line(const struct status_file *sf, const struct status_verdict *v, char *out,
    size_t size)
{
	char perf[STATUS_NAGIOS_MAX], tmp[2 * STATUS_WORD_MAX + 96];
	struct nline l = { .n = 0 };
	unsigned k;

	perfdata(sf, v, perf, sizeof(perf));
	/* the newline and " | perfdata" come after the summary */
	l.limit = STATUS_NAGIOS_MAX - 1 - 3 - strlen(perf);
	l.buf[0] = '\0';
	snprintf(tmp, sizeof(tmp), "QMAIL-MAINTD %s - ", state_words[v->state & 3]);
	nl_add(&l, tmp, 0);
	if (!v->alive) {
		snprintf(tmp, sizeof(tmp), "qmail-maintd (pid %ld) is not running, status %llds old",
		    (long)sf->pid, (long long)v->age);
		nl_add(&l, tmp, 0);
	} else if (v->overdue) {
		struct tokens t = { &l, ", also ", ", ", 0, v->overdue - 1, 0 };
		const struct status_check *c = &sf->check[v->first_overdue];

		snprintf(tmp, sizeof(tmp), "no run of %s for %llds (limit %llus)", c->name,
		    since_run(sf, c, v->now), 2ULL * c->interval + c->timeout);
		if (nl_add(&l, tmp, 0) < 0)	/* a name too long for the line */
			nl_add(&l, "a check has not run for too long", 0);
		for (k = (unsigned)v->first_overdue + 1; k < sf->nchecks; k++)
			if (overdue(sf, &sf->check[k], v->now))
				tok_add(&t, sf->check[k].name, t.added + 1 == t.total);
	} else
		summary_normal(sf, v, &l);
	snprintf(out, size, "%s | %s\n", l.buf, perf);
	return strlen(out);
}

/* The same for a file that could not be read: no perfdata. */
static size_t
nagios_error_line(const char *what, const char *detail, char *out, size_t size)
{
	struct nline l = { .n = 0, .limit = STATUS_NAGIOS_MAX - 1 };

	l.buf[0] = '\0';
	nl_add(&l, "QMAIL-MAINTD UNKNOWN - ", 0);
	nl_add(&l, what, 0);
	if (detail)
		nl_add(&l, detail, 0);
	snprintf(out, size, "%s\n", l.buf);
	return strlen(out);
}

/* ---- advice ---- */

static int
advice_cmp(const char *check, const char *event, const struct status_advice *a)
{
	int r = strcmp(check, a->check);

	return r ? r : strcmp(event, a->event);
}

static const char *
advice_find(const char *check, const char *event, enum level level)
{
	unsigned lo = 0, hi = status_nadvice, mid, i;
	const char *any = NULL;

	while (lo < hi) {	/* the first entry not below (check, event) */
		mid = lo + (hi - lo) / 2;
		if (advice_cmp(check, event, &status_advice[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < status_nadvice && advice_cmp(check, event, &status_advice[i]) == 0; i++) {
		if (!status_advice[i].text)
			continue;
		if (status_advice[i].levels & (1U << level))
			return status_advice[i].text;
		if (!any)
			any = status_advice[i].text;
	}
	return any;
}

const char *
status_advice_for(const char *check, const char *event, enum level level)
{
	const char *a;

	if ((unsigned)level > LEVEL_FATAL)
		level = LEVEL_CRIT;
	if ((a = advice_find(check, event, level)))
		return a;
	return advice_find("CHECK", event, level);	/* the events every check has */
}

/* ---- printing ---- */

static void
fmt_time(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (!t || !localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "never");
}

static void
fmt_age(char *buf, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, size, "%llds", s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static const enum level print_order[] = { LEVEL_FATAL, LEVEL_CRIT, LEVEL_WARN, LEVEL_INFO,
	LEVEL_DEBUG };

static void
print_human(FILE *out, const char *path, const struct status_file *sf,
    const struct status_verdict *v, time_t now)
{
	char t1[64], t2[32], t3[32];
	unsigned long i, n;
	unsigned k, o;

	fmt_time(t1, sizeof(t1), sf->start);
	fmt_age(t2, sizeof(t2), (long long)v->age);
	fprintf(out, "%s: %s\n", path, state_words[v->state & 3]);
	if (v->alive)
		fprintf(out, "qmail-maintd pid %ld running since %s; status written %s ago\n",
		    (long)sf->pid, t1, t2);
	else
		fprintf(out, "STALE: qmail-maintd pid %ld (started %s) is not running; what follows "
		    "is what it knew %s ago\n", (long)sf->pid, t1, t2);
	fprintf(out, "%lu critical, %lu warning, %u of %u checks could not check", v->crit, v->warn,
	    v->failed, sf->nchecks);
	if (v->overdue)
		fprintf(out, ", %u overdue (STALE)", v->overdue);
	fputs("\n", out);
	for (o = 0; o < sizeof(print_order) / sizeof(print_order[0]); o++) {
		enum level l = print_order[o];

		for (i = n = 0; i < sf->nfindings; i++)
			n += sf->finding[i].level == l;
		if (!n && !sf->omitted[l])
			continue;
		fprintf(out, "\n%s (%lu):\n", level_name(l), n + sf->omitted[l]);
		for (i = 0; i < sf->nfindings; i++) {
			const struct status_finding *f = &sf->finding[i];
			const char *a;

			if (f->level != l)
				continue;
			fmt_time(t1, sizeof(t1), f->first);
			fmt_age(t2, sizeof(t2), (long long)(now - f->first));
			fprintf(out, "  %s %s: %s%s%s\n      since %s (%s)\n", level_name(l), f->check,
			    f->event, *f->subject ? " " : "", f->subject, t1, t2);
			if ((a = status_advice_for(f->check, f->event, l)))
				fprintf(out, "      what to do: %s\n", a);
			else
				fprintf(out, "      what to do: see \"%s: %s\" under EVENTS in "
				    "qmail-maintd(8)\n", f->check, f->event);
		}
		if (sf->omitted[l])
			fprintf(out, "  ... %lu more not in the status file (too many findings)\n",
			    sf->omitted[l]);
	}
	fputs("\nchecks:\n", out);
	for (k = 0; k < sf->nchecks; k++) {
		const struct status_check *c = &sf->check[k];
		int late = overdue(sf, c, now);

		fmt_time(t1, sizeof(t1), c->last);
		fmt_age(t2, sizeof(t2), (long long)(now - c->last));
		fmt_age(t3, sizeof(t3), (long long)c->interval);
		fprintf(out, "  %-10s %-6s last %s%s%s%s, every %s, limit %lus%s\n", c->name,
		    result_names[(unsigned)c->result % 3], t1, c->last ? " (" : "",
		    c->last ? t2 : "", c->last ? " ago)" : "", t3, c->timeout,
		    late ? ", OVERDUE" : "");
	}
}

/* The plugin's long output: the failed checks, then the findings (crit first)
 * as the log shows them with since=, '|' (which would start perfdata) as '/';
 * within STATUS_LONG_MAX bytes. */
static void
print_nagios(FILE *out, const struct status_file *sf, const struct status_verdict *v)
{
	char line[STATUS_LINE_MAX + 3 * STATUS_WORD_MAX + 64], *p;
	unsigned long i, shown = 0, left, size = 0;
	unsigned o, k;

	status_nagios_line(sf, v, line, sizeof(line));
	fputs(line, out);
	if (!v->alive) {
		fmt_time(line, sizeof(line), sf->written);
		fprintf(out, "last known, at %s:\n", line);
	}
	for (k = 0; k < sf->nchecks; k++) {
		const struct status_check *c = &sf->check[k];

		if (v->alive && overdue(sf, c, v->now))
			size += (unsigned long)fprintf(out, "%s: no run for %llds (limit %llus)\n",
			    c->name, since_run(sf, c, v->now), 2ULL * c->interval + c->timeout);
		if (c->result == STATUS_RESULT_FAILED)
			size += (unsigned long)fprintf(out, "%s: could not check, last run %s ago\n",
			    c->name, (fmt_age(line, sizeof(line), (long long)(v->now - c->last)), line));
	}
	for (o = 0; o < sizeof(print_order) / sizeof(print_order[0]); o++)
		for (i = 0; i < sf->nfindings; i++) {
			const struct status_finding *f = &sf->finding[i];
			int n;

			if (f->level != print_order[o])
				continue;
			n = snprintf(line, sizeof(line), "%s %s: %s%s%s since=%lld\n",
			    level_name(f->level), f->check, f->event, *f->subject ? " " : "",
			    f->subject, (long long)f->first);
			if (n < 0 || (size_t)n >= sizeof(line) || size + (unsigned long)n > STATUS_LONG_MAX)
				goto more;
			for (p = line; (p = strchr(p, '|')); )
				*p = '/';
			fputs(line, out);
			size += (unsigned long)n;
			shown++;
		}
more:
	left = sf->nfindings - shown;
	for (o = 0; o <= LEVEL_FATAL; o++)
		left += sf->omitted[o];
	if (left)
		fprintf(out, "... %lu more findings: qmail-maintd -s\n", left);
}

static const char *
errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "unknown-error";
}

/* The daemon's pid exists: kill(pid, 0) says EPERM for another user's. */
static int
pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Reads path whole: a regular file of at most STATUS_MAXBYTES (plus room for
 * its trailer). 0, or -1 and errno (EFBIG, EINVAL: not a regular file). */
static int
read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t n = 0, cap;
	ssize_t r;
	int fd, e;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > STATUS_MAXBYTES + 4096) {
		errno = EFBIG;
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	if (!(*buf = malloc(cap)))
		goto fail;
	/* one more byte than fstat said: a file that grew is read to its cap */
	while (n < cap && (r = read(fd, *buf + n, cap - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		n += (size_t)r;
	}
	if (n == cap) {	/* it grew: not the file fstat described */
		errno = EAGAIN;
		goto fail;
	}
	close(fd);
	*len = n;
	return 0;
fail:
	e = errno;
	close(fd);
	free(*buf);
	*buf = NULL;
	errno = e;
	return -1;
}

int
status_report(FILE *out, const char *statedir, int nagios, time_t now)
{
	char path[PATH_MAX + 16], line[STATUS_NAGIOS_MAX + 1], detail[64];
	struct status_verdict v;
	struct status_file sf;
	unsigned long lineno;
	const char *why;
	char *buf;
	size_t len;
	int state;

	if (!statedir || !*statedir)
		statedir = ".";
	snprintf(path, sizeof(path), "%s/%s", statedir, STATUS_NAME);
	if (read_file(path, &buf, &len) < 0) {
		int e = errno;
		const char *hint = e == ENOENT ? "is the daemon running, with this MAINTD_STATE?" :
		    e == EACCES ? "the state directory must be mode 0711 and the file 0644" :
		    e == ELOOP ? "a symbolic link is not followed" : "";

		if (nagios) {
			snprintf(detail, sizeof(detail), ": %s", errname(e));
			nagios_error_line("cannot read the status file", detail, line, sizeof(line));
			fprintf(out, "%s%s: %s%s%s\n", line, path, errname(e), *hint ? ": " : "", hint);
		} else
			fprintf(out, "%s: UNKNOWN\ncannot read it: %s%s%s\n", path, errname(e),
			    *hint ? ": " : "", hint);
		return fflush(out), STATUS_UNKNOWN;
	}
	if (status_parse(buf, len, &sf, &lineno, &why) < 0) {
		if (nagios) {
			snprintf(detail, sizeof(detail), ": line %lu: %s", lineno, why);
			nagios_error_line("damaged status file", detail, line, sizeof(line));
			fprintf(out, "%s%s: line %lu: %s\n", line, path, lineno, why);
		} else
			fprintf(out, "%s: UNKNOWN\ndamaged: line %lu: %s\n", path, lineno, why);
		free(buf);
		return fflush(out), STATUS_UNKNOWN;
	}
	status_judge(&sf, now, pid_alive(sf.pid), &v);
	if (nagios)
		print_nagios(out, &sf, &v);
	else
		print_human(out, path, &sf, &v, now);
	state = v.state;
	status_file_free(&sf);
	free(buf);
	if (fflush(out) == EOF || ferror(out))
		return STATUS_UNKNOWN;
	return state;
}

int
status_main(const char *statedir, int nagios)
{
	return status_report(stdout, statedir, nagios, time(NULL));
}
