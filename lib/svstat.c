#include "svstat.h"

#include <stdio.h>
#include <string.h>

static unsigned long long
be64(const unsigned char *p)
{
	unsigned long long v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static unsigned long
le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 |
	    (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

static int
bad(const char **why, const char *w)
{
	if (why)
		*why = w;
	return -1;
}

/* The first 18 bytes, common to every layout. */
static int
decode_record(const unsigned char *p, struct svstat *st, const char **why)
{
	unsigned long long label = be64(p);
	unsigned long nano = (unsigned long)p[8] << 24 | (unsigned long)p[9] << 16 |
	    (unsigned long)p[10] << 8 | p[11];

	if (label < SVSTAT_TAI_EPOCH || label - SVSTAT_TAI_EPOCH > (1ULL << 40) ||
	    nano > 999999999UL)
		return bad(why, "time");
	st->when = (long long)(label - SVSTAT_TAI_EPOCH);
	st->pid = le32(p + 12);
	st->paused = st->pid && p[16];
	if (p[17] != 'u' && p[17] != 'd' && p[17] != 0)
		return bad(why, "want");
	st->want = (char)p[17];
	return 0;
}

int
svstat_decode(const void *buf, size_t len, struct svstat *st, const char **why)
{
	memset(st, 0, sizeof(*st));
	switch (len) {
	case SVSTAT_DAEMONTOOLS:
		st->layout = "daemontools";
		break;
	case SVSTAT_ENCORE:
	case SVSTAT_ENCORE_LOG:
		st->layout = "encore";
		break;
	default:
		return bad(why, len < SVSTAT_DAEMONTOOLS ? "short" : "size");
	}
	if (decode_record(buf, st, why) < 0)
		return -1;
	if (len == SVSTAT_DAEMONTOOLS && st->want == 0)
		return bad(why, "want");
	return 0;
}

static int
starts(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && memcmp(p, word, w) == 0;
}

/* A decimal number filling [p, p+n) (a final newline allowed); -1 if not one. */
static int
number(const char *p, size_t n, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n && p[n - 1] == '\n')
		n--;
	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (max - (unsigned long long)(p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static int
contains(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if (memcmp(p + i, word, w) == 0)
			return 1;
	return 0;
}

int
svstat_runit(const void *statv, size_t statlen, const void *pidv, size_t pidlen,
    long long mtime, struct svstat *st, const char **why)
{
	const char *s = statv, *p = pidv;
	unsigned long long pid = 0;
	int run;

	memset(st, 0, sizeof(*st));
	st->layout = "runit";
	st->when = mtime;
	if (statlen > 200 || pidlen > 32)
		return bad(why, "size");
	if (starts(s, statlen, "run"))
		run = 1;
	else if (starts(s, statlen, "down") || starts(s, statlen, "finish"))
		run = 0;
	else
		return bad(why, "stat");
	if (pidlen && !(pidlen == 1 && p[0] == '\n') && number(p, pidlen, 0xffffffffULL, &pid) < 0)
		return bad(why, "pid");
	if (run && pid == 0)
		return bad(why, "pid");
	st->pid = run ? (unsigned long)pid : 0;
	st->paused = run && contains(s, statlen, ", paused");
	/* runsv writes the wish only when it differs from the state */
	if (contains(s, statlen, ", want down"))
		st->want = 'd';
	else if (contains(s, statlen, ", want up"))
		st->want = 'u';
	else
		st->want = run ? 'u' : 'd';
	return 0;
}

static void
add_restart(struct svmem *m, long long now)
{
	if (m->nrecent == SVMEM_RECENT) {
		memmove(m->recent, m->recent + 1, (SVMEM_RECENT - 1) * sizeof(m->recent[0]));
		m->nrecent--;
	}
	m->recent[m->nrecent++] = now;
	m->total++;
}

static void
prune_recent(struct svmem *m, long long now)
{
	unsigned i = 0;

	while (i < m->nrecent && now - m->recent[i] >= SVMEM_WINDOW)
		i++;
	if (i) {
		memmove(m->recent, m->recent + i, (m->nrecent - i) * sizeof(m->recent[0]));
		m->nrecent -= i;
	}
}

void
svstat_observe(struct svmem *m, const struct svstat *st, long long now,
    unsigned long minup, unsigned long maxrestarts, struct svjudge *j)
{
	long long age = now - st->when;
	int recent = m->seen && now >= m->seen && now - m->seen <= SVMEM_WINDOW;
	/* the same young run seen twice (a start, then a SIGHUP sweep) is not flapping */
	int samerun = st->pid && st->pid == m->lastpid;

	memset(j, 0, sizeof(*j));
	if (age < 0)
		age = 0;
	/* down but wanted up: between two of supervise's restarts */
	j->shortrun = (st->pid || st->want == 'u') && age < (long long)minup;
	if (st->pid && m->lastpid && st->pid != m->lastpid) {
		j->restarted = 1;
		add_restart(m, now);
	}
	prune_recent(m, now);
	j->restarts = m->nrecent;
	if (j->shortrun && m->lastshort && recent && !samerun) {
		j->flapping = 1;
		j->reason = "short-uptime";
	} else if (j->restarts > maxrestarts) {
		j->flapping = 1;
		j->reason = "restarts";
	}
	m->lastshort = j->shortrun;
	if (st->pid)
		m->lastpid = st->pid;
	m->seen = now;
}

static int
namechar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '.' || c == '+';
}

int
svstat_names_prog(const char *path, const char *run, size_t runlen, const char *prog)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(prog), i;

	if (n == 0)
		return 0;
	base = base ? base + 1 : path;
	if (strcmp(base, prog) == 0)
		return 1;
	for (i = 0; i + n <= runlen; i++)
		if (memcmp(run + i, prog, n) == 0 &&
		    (i == 0 || !namechar((unsigned char)run[i - 1])) &&
		    (i + n == runlen || !namechar((unsigned char)run[i + n])))
			return 1;
	return 0;
}

size_t
svstat_prog_names(const char *path, const char *run, size_t runlen, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n = 0, i, j, len;

	if (size == 0)
		return 0;
	base = base ? base + 1 : path;
	len = strlen(base);
	if (len && len + 2 <= size) {
		memcpy(out, base, len + 1);
		n = len + 1;
	}
	for (i = 0; i < runlen; i = j) {
		for (j = i; j < runlen && namechar((unsigned char)run[j]); j++)
			;
		if (j == i) {
			j++;
			continue;
		}
		len = j - i;
		if (n + len + 2 > size)
			break;
		memcpy(out + n, run + i, len);
		out[n + len] = 0;
		n += len + 1;
	}
	out[n] = 0;
	return n + 1;
}

/* The next space-separated number of a state line. */
static int
field(const char **p, const char *end, unsigned long long max, unsigned long long *out)
{
	const char *q = *p;

	while (q < end && *q != ' ')
		q++;
	if (q == end || number(*p, (size_t)(q - *p), max, out) < 0)
		return -1;
	*p = q + 1;
	return 0;
}

static int
parse_line(const char *p, const char *end, struct svmem *m, const char **path)
{
	unsigned long long v[5], t;
	unsigned i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < 5; i++)
		if (field(&p, end, i == 3 ? ~0ULL : 0x7fffffffffffULL, &v[i]) < 0)
			return -1;
	if (v[1] > 0xffffffffULL || v[2] > 1 || v[4] > SVMEM_RECENT)
		return -1;
	m->seen = (long long)v[0];
	m->lastpid = (unsigned long)v[1];
	m->lastshort = (int)v[2];
	m->total = v[3];
	m->nrecent = (unsigned)v[4];
	for (i = 0; i < m->nrecent; i++) {
		if (field(&p, end, 0x7fffffffffffULL, &t) < 0)
			return -1;
		m->recent[i] = (long long)t;
	}
	if (p >= end)
		return -1;
	*path = p;
	return 0;
}

int
svstat_mem_parse(const char *buf, size_t len,
    void (*fn)(const char *, size_t, const struct svmem *, void *), void *arg)
{
	size_t hl = sizeof(SVSTAT_HEADER) - 1;
	const char *p, *end = buf + len, *nl, *path;
	struct svmem m;
	int skipped = 0;

	if (len < hl || memcmp(buf, SVSTAT_HEADER, hl) != 0)
		return -1;
	for (p = buf + hl; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p)))) {
			skipped++;	/* a last line without newline: cut short */
			break;
		}
		if (parse_line(p, nl, &m, &path) < 0) {
			skipped++;
			continue;
		}
		fn(path, (size_t)(nl - path), &m, arg);
	}
	return skipped;
}

size_t
svstat_mem_format(char *out, size_t size, const char *path, const struct svmem *m)
{
	size_t n;
	unsigned i;
	int r;

	if (!*path || strchr(path, '\n'))
		return 0;
	r = snprintf(out, size, "%lld %lu %d %llu %u", m->seen, m->lastpid, m->lastshort ? 1 : 0,
	    m->total, m->nrecent);
	if (r < 0 || (size_t)r >= size)
		return 0;
	n = (size_t)r;
	for (i = 0; i < m->nrecent; i++) {
		r = snprintf(out + n, size - n, " %lld", m->recent[i]);
		if (r < 0 || (size_t)r >= size - n)
			return 0;
		n += (size_t)r;
	}
	r = snprintf(out + n, size - n, " %s\n", path);
	if (r < 0 || (size_t)r >= size - n)
		return 0;
	return n + (size_t)r;
}
