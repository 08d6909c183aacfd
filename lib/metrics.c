#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "logline.h"

enum fam {
	F_FINDINGS, F_FAILED, F_SWEEP_DURATION, F_SWEEP_LAST,
	F_QUEUE_MESSAGES, F_QUEUE_TODO, F_QUEUE_OLDEST, F_QUEUE_RECIPIENTS,
	F_TCPTO_ENTRIES, F_TCPTO_PRUNED, F_KMSG_CRASHES,
	F_TLS_EXPIRY, F_TLS_OK, F_DNS_FAILURES, F_SVC_UP, F_SVC_RESTARTS,
	F_COUNT
};

static const struct family {
	const char *name, *type, *help, *label1, *label2;
} families[F_COUNT] = {
	{ "qmail_maintd_findings", "gauge",
	    "Warn and crit findings of the last run of each check.", "check", "level" },
	{ "qmail_maintd_check_failed", "gauge",
	    "1 when the last run of the check could not check or timed out.", "check", NULL },
	{ "qmail_maintd_sweep_duration_seconds", "gauge",
	    "Duration of the last sweep.", NULL, NULL },
	{ "qmail_maintd_last_sweep_timestamp_seconds", "gauge",
	    "Unix time the last sweep ended.", NULL, NULL },
	{ "qmail_queue_messages", "gauge", "Messages in the qmail queue.", NULL, NULL },
	{ "qmail_queue_todo", "gauge", "Messages in queue/todo, not yet preprocessed.", NULL, NULL },
	{ "qmail_queue_oldest_seconds", "gauge", "Age of the oldest queued message.", NULL, NULL },
	{ "qmail_queue_recipients", "gauge",
	    "Recipients of queued messages: pending or done.", "state", NULL },
	{ "qmail_tcpto_entries", "gauge", "Used entries of the tcpto table.", NULL, NULL },
	{ "qmail_tcpto_pruned_total", "counter", "tcpto entries pruned.", NULL, NULL },
	{ "qmail_kmsg_crashes_total", "counter",
	    "Crashes of programs seen in the kernel log.", "prog", NULL },
	{ "qmail_tls_cert_expiry_seconds", "gauge",
	    "Seconds until the certificate of the probed service expires.", "target", NULL },
	{ "qmail_tls_probe_ok", "gauge", "1 when the last TLS probe of the target succeeded.",
	    "target", NULL },
	{ "qmail_dns_lookup_failures_total", "counter", "DNS lookups that failed.", NULL, NULL },
	{ "qmail_svc_up", "gauge", "1 when the supervised service is up.", "service", NULL },
	{ "qmail_svc_restarts_total", "counter",
	    "Restarts of the supervised service observed by the svc check.", "service", NULL },
};

struct sample {
	enum fam fam;
	char *l1, *l2;
	size_t l1len, l2len;
	double v;
	char *owner;		/* the check whose next run drops it; NULL: kept */
	double warn, crit;	/* thresholds for the perfdata, NAN: none */
};

#define METRICS_TOP 3

struct top {
	enum level level;
	char *owner;
	char text[160];
};

struct metrics {
	struct sample *s;
	size_t n, cap;
	double cert_warn, cert_crit;	/* days; NAN: unknown */
	struct top top[METRICS_TOP];
	unsigned ntop;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(struct metrics));

	if (m)
		m->cert_warn = m->cert_crit = NAN;
	return m;
}

static const struct confvar *
find_var(const struct conf *c, const char *name)
{
	const struct check *ck;
	unsigned i, j;

	for (i = 0; i < c->nchecks; i++)
		for (ck = c->checks[i], j = 0; ck->vars && ck->vars[j]; j++)
			if (strcmp(ck->vars[j]->name, name) == 0)
				return ck->vars[j];
	return NULL;
}

void
metrics_configure(struct metrics *m, const struct conf *c)
{
	const struct confvar *w = find_var(c, "MAINTD_CERT_WARN_DAYS");
	const struct confvar *cr = find_var(c, "MAINTD_CERT_CRIT_DAYS");
	struct conf_err err;
	unsigned long wv, cv;

	m->cert_warn = m->cert_crit = NAN;
	if (w && cr && conf_ulong(w, 0, 100000, &wv, &err) == 0 &&
	    conf_ulong(cr, 0, 100000, &cv, &err) == 0) {
		m->cert_warn = (double)wv;
		m->cert_crit = (double)cv;
	}
}

static void
sample_clear(struct sample *s)
{
	free(s->l1);
	free(s->l2);
	free(s->owner);
}

void
metrics_free(struct metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		sample_clear(&m->s[i]);
	for (i = 0; i < m->ntop; i++)
		free(m->top[i].owner);
	free(m->s);
	free(m);
}

static int
same(const char *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static char *
memdup0(const void *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		if (n)
			memcpy(d, p, n);
		d[n] = 0;
	}
	return d;
}

static struct sample *
lookup(const struct metrics *m, enum fam fam, const void *l1, size_t l1len,
    const void *l2, size_t l2len)
{
	struct sample *s;
	size_t i;

	for (i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->fam == fam && same(s->l1, s->l1len, l1, l1len) &&
		    same(s->l2, s->l2len, l2, l2len))
			return s;
	}
	return NULL;
}

/* The sample of the family with these labels, created at 0 when new. */
static struct sample *
sample(struct metrics *m, enum fam fam, const void *l1, size_t l1len,
    const void *l2, size_t l2len, const char *owner)
{
	struct sample *s;

	if ((s = lookup(m, fam, l1, l1len, l2, l2len)))
		return s;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;

		if (!(s = realloc(m->s, cap * sizeof(*s))))
			return NULL;
		m->s = s;
		m->cap = cap;
	}
	s = &m->s[m->n];
	memset(s, 0, sizeof(*s));
	s->fam = fam;
	s->warn = s->crit = NAN;
	s->l1len = l1len;
	s->l2len = l2len;
	if ((l1 && !(s->l1 = memdup0(l1, l1len))) || (l2 && !(s->l2 = memdup0(l2, l2len))) ||
	    (owner && !(s->owner = strdup(owner)))) {
		sample_clear(s);
		return NULL;
	}
	m->n++;
	return s;
}

static void
set(struct metrics *m, enum fam fam, const void *l1, size_t l1len, double v, const char *owner)
{
	struct sample *s = sample(m, fam, l1, l1len, NULL, 0, owner);

	if (s)
		s->v = v;
}

static void
add(struct metrics *m, enum fam fam, const void *l1, size_t l1len, double v)
{
	struct sample *s = sample(m, fam, l1, l1len, NULL, 0, NULL);

	if (s)
		s->v += v;
}

void
metrics_run_begin(struct metrics *m, const char *check)
{
	size_t i, j;

	for (i = j = 0; i < m->n; i++) {
		if (m->s[i].owner && strcmp(m->s[i].owner, check) == 0)
			sample_clear(&m->s[i]);
		else
			m->s[j++] = m->s[i];
	}
	m->n = j;
	for (i = j = 0; i < m->ntop; i++) {
		if (strcmp(m->top[i].owner, check) == 0)
			free(m->top[i].owner);
		else
			m->top[j++] = m->top[i];
	}
	m->ntop = j;
	/* zeros, so that an alert on the series sees the check ran clean */
	sample(m, F_FINDINGS, check, strlen(check), "warn", 4, check);
	sample(m, F_FINDINGS, check, strlen(check), "crit", 4, check);
}

void
metrics_run_end(struct metrics *m, const char *check, int failed)
{
	set(m, F_FAILED, check, strlen(check), failed ? 1 : 0, check);
}

void
metrics_sweep(struct metrics *m, double seconds, time_t end)
{
	set(m, F_SWEEP_DURATION, NULL, 0, seconds, NULL);
	set(m, F_SWEEP_LAST, NULL, 0, (double)end, NULL);
}

static int
field(const struct finding *f, const char *key, const char **v, size_t *len)
{
	unsigned i;

	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->field[i].key, key) == 0) {
			*v = f->buf + f->field[i].off;
			*len = f->field[i].len;
			return 1;
		}
	return 0;
}

/* A decimal number field (optional sign, digits, optional fraction). */
static int
number(const struct finding *f, const char *key, double *out)
{
	char tmp[64], *end;
	const char *v;
	size_t len, i;

	if (!field(f, key, &v, &len) || len == 0 || len >= sizeof(tmp))
		return 0;
	for (i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || v[i] == '.' || (i == 0 && v[i] == '-')))
			return 0;
	memcpy(tmp, v, len);
	tmp[len] = 0;
	*out = strtod(tmp, &end);
	/* bounded: a line never overflows its number buffer */
	return *end == 0 && *out > -1e18 && *out < 1e18;
}

static int
is(const struct finding *f, const char *check, const char *event)
{
	return strcmp(f->check, check) == 0 && strcmp(f->event, event) == 0;
}

static void
set_field(struct metrics *m, const struct finding *f, const char *key, enum fam fam)
{
	double v;

	if (number(f, key, &v))
		set(m, fam, NULL, 0, v, f->check);
}

static void
from_queue(struct metrics *m, const struct finding *f)
{
	double v;

	set_field(m, f, "messages", F_QUEUE_MESSAGES);
	set_field(m, f, "todo", F_QUEUE_TODO);
	set_field(m, f, "oldest", F_QUEUE_OLDEST);
	if (number(f, "recipients", &v))
		set(m, F_QUEUE_RECIPIENTS, "pending", 7, v, f->check);
	if (number(f, "done", &v))
		set(m, F_QUEUE_RECIPIENTS, "done", 4, v, f->check);
}

/* The tls check's events of a probe that got no TLS session. */
static int
probe_failed(const char *event)
{
	static const char *const failed[] = { "not-listening", "connect-failed", "no-banner",
		"busy", "dialogue-failed", "starttls-missing", "handshake-failed", "setup-failed",
		NULL };
	unsigned i;

	for (i = 0; failed[i]; i++)
		if (strcmp(event, failed[i]) == 0)
			return 1;
	return 0;
}

static void
from_tls(struct metrics *m, const struct finding *f)
{
	struct sample *s;
	const char *t;
	size_t tlen;
	double v;
	int ok;

	if (!field(f, "target", &t, &tlen))
		return;
	if (number(f, "days", &v) || (number(f, "seconds", &v) && (v /= 86400, 1))) {
		if ((s = sample(m, F_TLS_EXPIRY, t, tlen, NULL, 0, f->check))) {
			s->v = v * 86400;
			if (number(f, "warn", &v))
				s->warn = v;
			if (number(f, "crit", &v))
				s->crit = v;
		}
	}
	/* any other finding of the target means the TLS handshake worked; a failure wins */
	ok = !probe_failed(f->event);
	if (ok && !lookup(m, F_TLS_OK, t, tlen, NULL, 0))
		set(m, F_TLS_OK, t, tlen, 1, f->check);
	else if (!ok)
		set(m, F_TLS_OK, t, tlen, 0, f->check);
}

static void
from_svc(struct metrics *m, const struct finding *f)
{
	const char *p, *st;
	size_t plen, stlen;
	double v;

	if (!field(f, "path", &p, &plen) || !field(f, "state", &st, &stlen))
		return;
	set(m, F_SVC_UP, p, plen, same("up", 2, st, stlen), f->check);
	if (number(f, "total", &v))
		set(m, F_SVC_RESTARTS, p, plen, v, f->check);
}

/* Remembers the worst findings for the plugin summary. */
static void
top(struct metrics *m, const struct finding *f)
{
	char subj[120];
	struct top *t;
	unsigned i;

	if (m->ntop == METRICS_TOP) {
		for (i = 0; i < m->ntop && m->top[i].level >= f->level; i++)
			;
		if (i == m->ntop)
			return;
		free(m->top[i].owner);
		memmove(&m->top[i], &m->top[i + 1], (m->ntop - i - 1) * sizeof(m->top[0]));
		m->ntop--;
	}
	t = &m->top[m->ntop];
	if (!(t->owner = strdup(f->check)))
		return;
	t->level = f->level;
	logline_subject(subj, sizeof(subj), f);
	snprintf(t->text, sizeof(t->text), "%s %s%s%s", f->check, f->event, *subj ? " " : "", subj);
	m->ntop++;
}

void
metrics_finding(struct metrics *m, const struct finding *f)
{
	double v;

	if (!f->check || !f->event)
		return;
	if (f->level == LEVEL_WARN || f->level == LEVEL_CRIT) {
		struct sample *s = sample(m, F_FINDINGS, f->check, strlen(f->check),
		    f->level == LEVEL_CRIT ? "crit" : "warn", 4, f->check);

		if (s)
			s->v++;
		top(m, f);
	}
	if (is(f, "queue", "stats"))
		from_queue(m, f);
	else if (is(f, "tcpto", "table")) {
		set_field(m, f, "used", F_TCPTO_ENTRIES);
		if (number(f, "pruned", &v))
			add(m, F_TCPTO_PRUNED, NULL, 0, v);
	} else if (is(f, "kmsg", "crash")) {
		const char *p;
		size_t plen;

		if (field(f, "prog", &p, &plen))
			add(m, F_KMSG_CRASHES, p, plen, 1);
	} else if (strcmp(f->check, "tls") == 0)
		from_tls(m, f);
	else if (is(f, "dns", "checked")) {
		if (number(f, "failed", &v))
			add(m, F_DNS_FAILURES, NULL, 0, v);
	} else if (is(f, "svc", "service"))
		from_svc(m, f);
}

struct buf {
	char *p;
	size_t n, cap;
	int err;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (b->n + n + 1 > cap)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->err = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

size_t
metrics_escape_label(char *out, size_t size, const void *val, size_t len)
{
	const unsigned char *v = val;
	char tmp[8];
	size_t i = 0, n = 0, seq, tl;

	if (size == 0)
		return 0;
	while (i < len) {
		seq = logline_utf8_len(v + i, len - i);
		if (seq == 0 || v[i] < 0x20 || v[i] == 0x7f) {
			if (v[i] == '\n')
				tl = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
			else
				tl = (size_t)snprintf(tmp, sizeof(tmp), "\\\\x%02x", v[i]);
			seq = 1;
		} else if (v[i] == '\\' || v[i] == '"') {
			tmp[0] = '\\';
			tmp[1] = (char)v[i];
			tl = 2;
		} else {
			memcpy(tmp, v + i, seq);
			tl = seq;
		}
		if (n + tl >= size)
			break;
		memcpy(out + n, tmp, tl);
		n += tl;
		i += seq;
	}
	out[n] = 0;
	return n;
}

static void
put_label(struct buf *b, const char *key, const char *val, size_t len, int first)
{
	char esc[1024];
	size_t n = metrics_escape_label(esc, sizeof(esc), val, len);

	puts_(b, first ? "{" : ",");
	puts_(b, key);
	puts_(b, "=\"");
	put(b, esc, n);
	puts_(b, "\"");
}

static int
integral(double v)
{
	return v > -1e15 && v < 1e15 && v == (double)(long long)v;
}

static void
put_value(struct buf *b, double v)
{
	char num[64];

	if (integral(v))
		snprintf(num, sizeof(num), " %.0f\n", v);
	else
		snprintf(num, sizeof(num), " %.6f\n", v);
	puts_(b, num);
}

char *
metrics_text(const struct metrics *m, size_t *len)
{
	struct buf b = { 0 };
	const struct family *fm;
	const struct sample *s;
	size_t i;
	unsigned f;
	int any;

	for (f = 0; f < F_COUNT; f++) {
		fm = &families[f];
		for (any = 0, i = 0; i < m->n; i++) {
			s = &m->s[i];
			if (s->fam != f)
				continue;
			if (!any++) {
				puts_(&b, "# HELP ");
				puts_(&b, fm->name);
				puts_(&b, " ");
				puts_(&b, fm->help);
				puts_(&b, "\n# TYPE ");
				puts_(&b, fm->name);
				puts_(&b, " ");
				puts_(&b, fm->type);
				puts_(&b, "\n");
			}
			puts_(&b, fm->name);
			if (fm->label1)
				put_label(&b, fm->label1, s->l1, s->l1len, 1);
			if (fm->label2)
				put_label(&b, fm->label2, s->l2, s->l2len, 0);
			if (fm->label1)
				puts_(&b, "}");
			put_value(&b, s->v);
		}
	}
	if (!b.p)
		put(&b, "", 0);
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

int
metrics_write(const struct metrics *m, const char *path)
{
	char tmp[4096];
	size_t len, off = 0;
	ssize_t r;
	char *text;
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!(text = metrics_text(m, &len))) {
		errno = ENOMEM;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto fail;
	while (off < len) {
		if ((r = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		off += (size_t)r;
	}
	if (fsync(fd) < 0)
		goto fail_fd;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail_fd;
	}
	free(text);
	return 0;
fail_fd:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	free(text);
	errno = e;
	return -1;
}

static double
sum(const struct metrics *m, enum fam fam, const char *l2)
{
	double v = 0;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->s[i].fam == fam && (!l2 || same(m->s[i].l2, m->s[i].l2len, l2, strlen(l2))))
			v += m->s[i].v;
	return v;
}

static const struct sample *
find(const struct metrics *m, enum fam fam)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->s[i].fam == fam)
			return &m->s[i];
	return NULL;
}

/* A perfdata label: quoted; ' and = would end it, so they become _ */
static void
perf_label(struct buf *b, const char *prefix, const char *val, size_t len)
{
	char c[2] = { 0, 0 };
	size_t i;

	puts_(b, " '");
	puts_(b, prefix);
	for (i = 0; i < len && i < 100; i++) {
		c[0] = val[i];
		if (c[0] == '\'' || c[0] == '=' || c[0] == '|' ||
		    (unsigned char)c[0] < 0x21 || (unsigned char)c[0] >= 0x7f)
			c[0] = '_';
		puts_(b, c);
	}
	puts_(b, "'=");
}

static void
perf_num(struct buf *b, double v)
{
	char num[64];

	if (v != v)	/* NAN: no value */
		return;
	snprintf(num, sizeof(num), integral(v) ? "%.0f" : "%.3f", v);
	puts_(b, num);
}

static void
perf(struct buf *b, const char *label, double v, const char *uom, double warn, double crit,
    double min, double max)
{
	perf_label(b, label, "", 0);
	perf_num(b, v);
	puts_(b, uom);
	puts_(b, ";");
	perf_num(b, warn);
	puts_(b, ";");
	perf_num(b, crit);
	puts_(b, ";");
	perf_num(b, min);
	if (max == max) {
		puts_(b, ";");
		perf_num(b, max);
	}
}

static void
perf_if(struct buf *b, const struct metrics *m, enum fam fam, const char *label, const char *uom)
{
	const struct sample *s = find(m, fam);

	if (s)
		perf(b, label, s->v, uom, NAN, NAN, 0, NAN);
}

static void
perfdata(struct buf *b, const struct metrics *m)
{
	const struct sample *s;
	double up = 0, n = 0, warn, crit;
	size_t i;

	perf(b, "findings_crit", sum(m, F_FINDINGS, "crit"), "", NAN, NAN, 0, NAN);
	perf(b, "findings_warn", sum(m, F_FINDINGS, "warn"), "", NAN, NAN, 0, NAN);
	perf_if(b, m, F_SWEEP_DURATION, "sweep_duration", "s");
	perf_if(b, m, F_QUEUE_MESSAGES, "queue_messages", "");
	perf_if(b, m, F_QUEUE_TODO, "queue_todo", "");
	perf_if(b, m, F_QUEUE_OLDEST, "queue_oldest", "s");
	perf_if(b, m, F_TCPTO_ENTRIES, "tcpto_entries", "");
	if (find(m, F_KMSG_CRASHES))
		perf(b, "kmsg_crashes", sum(m, F_KMSG_CRASHES, NULL), "c", NAN, NAN, 0, NAN);
	perf_if(b, m, F_DNS_FAILURES, "dns_lookup_failures", "c");
	for (i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->fam == F_SVC_UP) {
			up += s->v;
			n++;
		}
	}
	if (n)
		perf(b, "svc_up", up, "", NAN, NAN, 0, n);
	if (find(m, F_SVC_RESTARTS))
		perf(b, "svc_restarts", sum(m, F_SVC_RESTARTS, NULL), "c", NAN, NAN, 0, NAN);
	for (i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->fam != F_TLS_EXPIRY)
			continue;
		perf_label(b, "cert_days_", s->l1, s->l1len);
		perf_num(b, (double)(long long)(s->v / 86400));
		warn = s->warn == s->warn ? s->warn : m->cert_warn;
		crit = s->crit == s->crit ? s->crit : m->cert_crit;
		if (warn != warn && crit != crit)
			continue;	/* no thresholds known */
		/* "W:" alerts below W, as days left want */
		puts_(b, ";");
		perf_num(b, warn);
		puts_(b, warn == warn ? ":;" : ";");
		perf_num(b, crit);
		if (crit == crit)
			puts_(b, ":");
	}
}

/* The summary may not contain '|' (it starts the perfdata) nor a newline. */
static void
summary_text(struct buf *b, const char *s)
{
	char c[2] = { 0, 0 };

	for (; *s; s++) {
		c[0] = *s == '|' ? '/' : (*s == '\n' ? ' ' : *s);
		puts_(b, c);
	}
}

size_t
metrics_nagios(const struct metrics *m, int status, char *out, size_t size)
{
	static const char *const word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	double crit = sum(m, F_FINDINGS, "crit"), warn = sum(m, F_FINDINGS, "warn");
	double failed = sum(m, F_FAILED, NULL), checks = 0;
	struct buf b = { 0 };
	char tmp[128];
	unsigned i, l;
	size_t n;

	if (status < 0 || status > NAGIOS_UNKNOWN)
		status = NAGIOS_UNKNOWN;
	for (n = 0; n < m->n; n++)
		checks += m->s[n].fam == F_FAILED;
	snprintf(tmp, sizeof(tmp), "QMAIL-MAINTD %s - ", word[status]);
	puts_(&b, tmp);
	if (crit + warn + failed == 0) {
		snprintf(tmp, sizeof(tmp), "%.0f checks ok, no findings", checks);
		puts_(&b, tmp);
	} else {
		snprintf(tmp, sizeof(tmp), "%.0f critical, %.0f warning, %.0f could not check",
		    crit, warn, failed);
		puts_(&b, tmp);
		for (l = LEVEL_CRIT + 1, n = 0; l-- > LEVEL_WARN;)
			for (i = 0; i < m->ntop; i++)
				if (m->top[i].level == l) {
					puts_(&b, n++ ? "; " : ": ");
					summary_text(&b, m->top[i].text);
				}
	}
	puts_(&b, " |");
	perfdata(&b, m);
	if (b.err || !b.p) {
		free(b.p);
		n = (size_t)snprintf(out, size, "QMAIL-MAINTD %s - out of memory\n", word[status]);
		return n < size ? n : size ? size - 1 : 0;
	}
	/* too long: cut at the last perfdata item that fits */
	if (b.n + 2 > size && size) {
		char *cut;

		b.p[size - 2] = 0;
		if ((cut = strrchr(b.p, ' ')))
			*cut = 0;
		b.n = strlen(b.p);
	}
	n = (size_t)snprintf(out, size, "%s\n", b.p);
	free(b.p);
	return n < size ? n : size ? size - 1 : 0;
}
