#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"	/* enum maintd_status */
#include "logline.h"
#include "safefile.h"

/* The daemon's own families: fed by the runner, about every check alike. */
static const struct metric_family daemon_families[] = {
	{ .name = "qmail_maintd_findings", .type = METRIC_GAUGE,
	    .help = "Warn and crit findings of the last run of each check.",
	    .label = { "check", "level" } },
	{ .name = "qmail_maintd_check_failed", .type = METRIC_GAUGE,
	    .help = "1 when the last run of the check could not check or timed out.",
	    .label = { "check" } },
	{ .name = "qmail_maintd_sweep_duration_seconds", .type = METRIC_GAUGE,
	    .help = "Duration of the last sweep.",
	    .perf = "sweep_duration", .uom = "s", .how = PERF_FIRST },
	{ .name = "qmail_maintd_last_sweep_timestamp_seconds", .type = METRIC_GAUGE,
	    .help = "Unix time the last sweep ended." },
	{ .name = "qmail_maintd_active_findings", .type = METRIC_GAUGE,
	    .help = "Active warn and crit findings, by check, event code and level.",
	    .label = { "check", "event", "level" } },
	{ .name = NULL }
};
#define FAM_FINDINGS (&daemon_families[0])
#define FAM_FAILED (&daemon_families[1])
#define FAM_SWEEP_DURATION (&daemon_families[2])
#define FAM_SWEEP_LAST (&daemon_families[3])
#define FAM_ACTIVE (&daemon_families[4])

struct sample {
	const struct metric_family *fam;
	char *l1, *l2, *l3;
	double v;
	char *owner;		/* the check whose next run end drops it; NULL: kept */
	double warn, crit;	/* thresholds for the perfdata, NAN: none */
};

#define METRICS_TOP 3
#define METRICS_LISTS 64

struct top {
	enum level level;
	char *owner;
	char text[160];
};

struct metrics {
	struct sample *s;
	size_t n, cap;
	const struct metric_family *list[METRICS_LISTS];	/* families in output order */
	unsigned nlist;
	const char *owner;	/* of the gauges set now */
	metric_record_fn *record;	/* a recorder: set/add/limits go there */
	void *record_arg;
	struct top top[METRICS_TOP];
	unsigned ntop;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(struct metrics));

	if (m)
		metrics_register(m, daemon_families);
	return m;
}

struct metrics *
metrics_recorder(metric_record_fn *fn, void *arg)
{
	struct metrics *m = calloc(1, sizeof(struct metrics));

	if (m) {
		m->record = fn;
		m->record_arg = arg;
	}
	return m;
}

int
metrics_register(struct metrics *m, const struct metric_family *fams)
{
	unsigned i;

	for (i = 0; i < m->nlist; i++)
		if (m->list[i] == fams)
			return 0;	/* one list, two checks: once */
	if (!fams)
		return 0;
	if (m->nlist == METRICS_LISTS)
		return -1;
	m->list[m->nlist++] = fams;
	return 0;
}

static void
sample_clear(struct sample *s)
{
	free(s->l1);
	free(s->l2);
	free(s->l3);
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
same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static struct sample *
lookup3(const struct metrics *m, const struct metric_family *fam, const char *l1,
    const char *l2, const char *l3)
{
	struct sample *s;
	size_t i;

	for (i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->fam == fam && same(s->l1, l1) && same(s->l2, l2) && same(s->l3, l3))
			return s;
	}
	return NULL;
}

static const struct sample *
lookup_first(const struct metrics *m, const struct metric_family *fam)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->s[i].fam == fam)
			return &m->s[i];
	return NULL;
}

/* The sample of the family with these labels, created at 0 when new. */
static struct sample *
sample3(struct metrics *m, const struct metric_family *fam, const char *l1, const char *l2,
    const char *l3,
    const char *owner)
{
	struct sample *s;

	if ((s = lookup3(m, fam, l1, l2, l3)))
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
	if ((l1 && !(s->l1 = strdup(l1))) || (l2 && !(s->l2 = strdup(l2))) ||
	    (l3 && !(s->l3 = strdup(l3))) ||
	    (owner && !(s->owner = strdup(owner)))) {
		sample_clear(s);
		return NULL;
	}
	m->n++;
	return s;
}

static struct sample *
lookup(const struct metrics *m, const struct metric_family *fam, const char *l1, const char *l2)
{
	return lookup3(m, fam, l1, l2, NULL);
}

static struct sample *
sample(struct metrics *m, const struct metric_family *fam, const char *l1, const char *l2,
    const char *owner)
{
	return sample3(m, fam, l1, l2, NULL, owner);
}

void
metrics_set(struct metrics *m, const struct metric_family *fam, const char *l1,
    const char *l2, double v)
{
	struct sample *s;

	if (m->record) {
		m->record(m->record_arg, fam, METRIC_SET, l1, l2, v, NAN, NAN);
		return;
	}
	if ((s = sample(m, fam, l1, l2, m->owner)))
		s->v = v;
}

void
metrics_add(struct metrics *m, const struct metric_family *fam, const char *l1,
    const char *l2, double v)
{
	struct sample *s;

	if (m->record) {
		m->record(m->record_arg, fam, METRIC_ADD, l1, l2, v, NAN, NAN);
		return;
	}
	if ((s = sample(m, fam, l1, l2, NULL)))
		s->v += v;
}

void
metrics_limits(struct metrics *m, const struct metric_family *fam, const char *l1,
    const char *l2, double warn, double crit)
{
	struct sample *s;

	if (m->record) {
		m->record(m->record_arg, fam, METRIC_LIMITS, l1, l2, NAN, warn, crit);
		return;
	}
	if ((s = lookup(m, fam, l1, l2))) {
		s->warn = warn;
		s->crit = crit;
	}
}

void
metrics_owner(struct metrics *m, const char *check)
{
	m->owner = check;
}

/* Drops the samples the check owns of the families that pass keep == 0. */
static void
drop_owned(struct metrics *m, const char *check, int findings)
{
	size_t i, j;

	for (i = j = 0; i < m->n; i++) {
		if (m->s[i].owner && strcmp(m->s[i].owner, check) == 0 &&
		    (m->s[i].fam == FAM_FINDINGS) == findings)
			sample_clear(&m->s[i]);
		else
			m->s[j++] = m->s[i];
	}
	m->n = j;
}

void
metrics_run_begin(struct metrics *m, const char *check)
{
	size_t i, j;

	drop_owned(m, check, 1);
	for (i = j = 0; i < m->ntop; i++) {
		if (strcmp(m->top[i].owner, check) == 0)
			free(m->top[i].owner);
		else
			m->top[j++] = m->top[i];
	}
	m->ntop = j;
	/* zeros, so that an alert on the series sees the check ran clean */
	sample(m, FAM_FINDINGS, check, "warn", check);
	sample(m, FAM_FINDINGS, check, "crit", check);
}

void
metrics_run_end(struct metrics *m, const char *check, int failed)
{
	drop_owned(m, check, 0);
	m->owner = check;
	metrics_set(m, FAM_FAILED, check, NULL, failed ? 1 : 0);
}

void
metrics_active_begin(struct metrics *m)
{
	size_t i, j;

	for (i = j = 0; i < m->n; i++) {
		if (m->s[i].fam == FAM_ACTIVE)
			sample_clear(&m->s[i]);
		else
			m->s[j++] = m->s[i];
	}
	m->n = j;
}

void
metrics_active_add(struct metrics *m, const char *check, const char *event, enum level level)
{
	struct sample *s;

	if (level != LEVEL_WARN && level != LEVEL_CRIT)
		return;
	if ((s = sample3(m, FAM_ACTIVE, check, event, level_name(level), NULL)))
		s->v++;
}

void
metrics_sweep(struct metrics *m, double seconds, time_t end)
{
	m->owner = NULL;
	metrics_set(m, FAM_SWEEP_DURATION, NULL, NULL, seconds);
	metrics_set(m, FAM_SWEEP_LAST, NULL, NULL, (double)end);
}

/* Remembers the worst findings for the plugin summary. */
static void
top(struct metrics *m, const char *check, const struct finding *f)
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
	if (!(t->owner = strdup(check)))
		return;
	t->level = f->level;
	logline_subject(subj, sizeof(subj), f);
	snprintf(t->text, sizeof(t->text), "%s %s%s%s", f->check, f->event, *subj ? " " : "", subj);
	m->ntop++;
}

/* Counts the warn and crit findings of the check's run: by the check's
 * name, the owner metrics_run_begin resets, whatever word they are logged
 * with (the summary line shows that word, as the log does). */
void
metrics_finding(struct metrics *m, const char *check, const struct finding *f)
{
	struct sample *s;

	if (!f->check || !f->event || (f->level != LEVEL_WARN && f->level != LEVEL_CRIT))
		return;
	if ((s = sample(m, FAM_FINDINGS, check, f->level == LEVEL_CRIT ? "crit" : "warn", check)))
		s->v++;
	top(m, check, f);
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
put_label(struct buf *b, const char *key, const char *val, int first)
{
	char esc[1024];
	size_t n = metrics_escape_label(esc, sizeof(esc), val, val ? strlen(val) : 0);

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

static void
put_family(struct buf *b, const struct metrics *m, const struct metric_family *fm)
{
	const struct sample *s;
	size_t i;
	int any = 0;

	for (i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->fam != fm)
			continue;
		if (!any++) {
			puts_(b, "# HELP ");
			puts_(b, fm->name);
			puts_(b, " ");
			puts_(b, fm->help);
			puts_(b, "\n# TYPE ");
			puts_(b, fm->name);
			puts_(b, fm->type == METRIC_COUNTER ? " counter\n" : " gauge\n");
		}
		puts_(b, fm->name);
		if (fm->label[0])
			put_label(b, fm->label[0], s->l1, 1);
		if (fm->label[0] && fm->label[1])
			put_label(b, fm->label[1], s->l2, 0);
		if (fm->label[0] && fm->label[1] && fm->label[2])
			put_label(b, fm->label[2], s->l3, 0);
		if (fm->label[0])
			puts_(b, "}");
		put_value(b, s->v);
	}
}

char *
metrics_text(const struct metrics *m, size_t *len)
{
	struct buf b = { 0 };
	const struct metric_family *fm;
	unsigned l;

	for (l = 0; l < m->nlist; l++)
		for (fm = m->list[l]; fm->name; fm++)
			put_family(&b, m, fm);
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
metrics_write(const struct metrics *m, int dirfd, const char *name)
{
	size_t len;
	char *text;
	int r, e;

	if (!(text = metrics_text(m, &len))) {
		errno = ENOMEM;
		return -1;
	}
	r = safe_replace_snapshot(dirfd, name, text, len, 0644);
	e = errno;
	free(text);
	errno = e;
	return r;
}

/* The sum of the family's samples (whose second label is l2, if given);
 * their number in *n. */
static double
sum(const struct metrics *m, const struct metric_family *fam, const char *l2, size_t *n)
{
	double v = 0;
	size_t i, k = 0;

	for (i = 0; i < m->n; i++)
		if (m->s[i].fam == fam && (!l2 || same(m->s[i].l2, l2))) {
			v += m->s[i].v;
			k++;
		}
	if (n)
		*n = k;
	return v;
}

/* A perfdata label: the Monitoring Plugins want [a-z0-9_] only; a sample
 * of a per-target family is named by its index (listed in the long output). */
static void
perf_label(struct buf *b, const char *name, unsigned index)
{
	char c[2] = { 0, 0 }, num[16];
	size_t i;

	puts_(b, "'");
	for (i = 0; name[i] && i < 60; i++) {
		c[0] = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ?
		    name[i] : '_';
		puts_(b, c);
	}
	if (index) {
		snprintf(num, sizeof(num), "%u", index);
		puts_(b, num);
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

/* 'label'=value[UOM];[warn];[crit];[min];[max], with a space before it */
static void
perf(struct buf *b, const char *label, unsigned index, double v, const char *uom, double min,
    double max)
{
	puts_(b, " ");
	perf_label(b, label, index);
	perf_num(b, v);
	puts_(b, uom ? uom : "");
	puts_(b, ";;;");
	perf_num(b, min);
	if (max == max) {
		puts_(b, ";");
		perf_num(b, max);
	}
}

/* One value per sample, "W:" thresholds (alerts below W, as days left want);
 * with names: the "LABELn = target" lines of the long output instead. */
static void
perf_each(struct buf *b, const struct metrics *m, const struct metric_family *fm, int names)
{
	const struct sample *s;
	unsigned index = 0;
	char num[16];
	size_t i;

	for (i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->fam != fm)
			continue;
		index++;
		if (names) {
			char c[2] = { 0, 0 };
			const char *p;

			snprintf(num, sizeof(num), "%u", index);
			puts_(b, fm->perf);	/* a constant of [a-z_] */
			puts_(b, num);
			puts_(b, " = ");
			for (p = s->l1 ? s->l1 : ""; *p; p++) {
				c[0] = *p == '|' ? '/' : (unsigned char)*p < 0x20 ? ' ' : *p;
				puts_(b, c);
			}
			puts_(b, "\n");
			continue;
		}
		puts_(b, " ");
		perf_label(b, fm->perf, index);
		perf_num(b, fm->perf_div > 0 ? (double)(long long)(s->v / fm->perf_div) : s->v);
		if (s->warn != s->warn && s->crit != s->crit)
			continue;	/* no thresholds known */
		puts_(b, ";");
		perf_num(b, s->warn);
		puts_(b, s->warn == s->warn ? ":;" : ";");
		perf_num(b, s->crit);
		if (s->crit == s->crit)
			puts_(b, ":");
	}
}

static void
perf_family(struct buf *b, const struct metrics *m, const struct metric_family *fm)
{
	size_t n;
	double v = sum(m, fm, NULL, &n);

	if (!n)
		return;
	switch (fm->how) {
	case PERF_FIRST:
	case PERF_SUM:
		perf(b, fm->perf, 0, fm->how == PERF_FIRST ? lookup_first(m, fm)->v : v, fm->uom, 0,
		    NAN);
		break;
	case PERF_SUM_OF_N:
		perf(b, fm->perf, 0, v, fm->uom, 0, (double)n);
		break;
	case PERF_NONE:
	case PERF_EACH:
		break;
	}
}

/* Every family's perfdata but the findings', in order; the per-sample ones last. */
static void
perfdata(struct buf *b, const struct metrics *m)
{
	const struct metric_family *fm;
	unsigned l;

	for (l = 0; l < m->nlist; l++)
		for (fm = m->list[l]; fm->name; fm++)
			perf_family(b, m, fm);
	for (l = 0; l < m->nlist; l++)
		for (fm = m->list[l]; fm->name; fm++)
			if (fm->how == PERF_EACH)
				perf_each(b, m, fm, 0);
}

/* Text from outside in the plugin output: no '|' (it starts perfdata), no newline. */
static void
plugin_text(struct buf *b, const char *s)
{
	char c[2] = { 0, 0 };

	for (; *s; s++) {
		c[0] = *s == '|' ? '/' : (*s == '\n' || *s == '\r') ? ' ' : *s;
		puts_(b, c);
	}
}

size_t
metrics_nagios(const struct metrics *m, int status, char *out, size_t size)
{
	static const char *const word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	double crit = sum(m, FAM_FINDINGS, "crit", NULL), warn = sum(m, FAM_FINDINGS, "warn", NULL);
	const struct metric_family *fm;
	struct buf line = { 0 }, first = { 0 }, rest = { 0 }, more = { 0 }, later = { 0 };
	const char *p, *q;
	double failed;
	size_t checks, n;
	char tmp[160];
	unsigned i, l;

	if (status < 0 || status > STATUS_UNKNOWN)
		status = STATUS_UNKNOWN;
	failed = sum(m, FAM_FAILED, NULL, &checks);
	snprintf(tmp, sizeof(tmp), "QMAIL-MAINTD %s - ", word[status]);
	puts_(&line, tmp);
	if (crit + warn + failed == 0)
		snprintf(tmp, sizeof(tmp), "%zu checks ok, no findings", checks);
	else
		snprintf(tmp, sizeof(tmp), "%.0f critical, %.0f warning, %.0f could not check",
		    crit, warn, failed);
	puts_(&line, tmp);
	perf(&first, "findings_crit", 0, crit, "", 0, NAN);
	perf(&first, "findings_warn", 0, warn, "", 0, NAN);
	/* the worst findings: on the status line while it stays within
	 * NAGIOS_STATUS bytes, whole; all of them in the long output */
	for (l = LEVEL_CRIT + 1, n = 0; l-- > LEVEL_WARN;)
		for (i = 0; i < m->ntop; i++) {
			struct buf item = { 0 };

			if (m->top[i].level != l)
				continue;
			puts_(&item, n ? "; " : ": ");
			plugin_text(&item, m->top[i].text);
			if (!item.err && line.n + item.n + 3 + first.n + 1 <= NAGIOS_STATUS) {
				puts_(&line, item.p);
				n++;
			}
			plugin_text(&rest, m->top[i].text);
			puts_(&rest, "\n");
			free(item.p);
		}
	/* the other perfdata: on the status line while whole items fit, the
	 * rest after the long output, as the guidelines allow */
	perfdata(&more, m);
	for (p = more.p; p && *p; p = q) {
		q = strstr(p + 1, " '");
		q = q ? q : p + strlen(p);
		if (later.p || line.n + 2 + first.n + (size_t)(q - p) > NAGIOS_STATUS)
			put(&later, p, (size_t)(q - p));
		else
			put(&first, p, (size_t)(q - p));
	}
	puts_(&line, " |");
	puts_(&line, first.p);
	puts_(&line, "\n");
	puts_(&line, rest.p ? rest.p : "");
	for (l = 0; l < m->nlist; l++)
		for (fm = m->list[l]; fm->name; fm++)
			if (fm->how == PERF_EACH)
				perf_each(&line, m, fm, 1);
	if (later.p) {
		puts_(&line, "|");
		puts_(&line, later.p);
		puts_(&line, "\n");
	}
	free(more.p);
	free(later.p);
	free(rest.p);
	free(first.p);
	if (line.err || !line.p) {
		free(line.p);
		n = (size_t)snprintf(out, size, "QMAIL-MAINTD %s - out of memory\n", word[status]);
		return n < size ? n : size ? size - 1 : 0;
	}
	if (line.n + 1 > size && size) {	/* too long: whole lines only */
		char *cut;

		line.p[size - 1] = 0;
		if ((cut = strrchr(line.p, '\n')))
			cut[1] = 0;
		else	/* not even the status line: the state alone */
			snprintf(line.p, size, "QMAIL-MAINTD %s\n", word[status]);
		line.n = strlen(line.p);
	}
	n = (size_t)snprintf(out, size, "%s", line.p);
	free(line.p);
	return n < size ? n : size ? size - 1 : 0;
}
