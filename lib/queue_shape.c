/* The queue's shape: pending remote recipients by domain and age. Pure code
 * over bytes and numbers (unit-tested and fuzzed), plus the last table for
 * people, kept for `qmail-maintd -1 -q`. */
#include "queue_shape.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

static const unsigned bucket_minutes[QSHAPE_BUCKETS - 1] = {
	5, 10, 20, 40, 80, 160, 320, 640, 1280
};

unsigned
qshape_bucket(long long age)
{
	unsigned b;

	for (b = 0; b < QSHAPE_BUCKETS - 1; b++)
		if (age < (long long)bucket_minutes[b] * 60)
			return b;
	return QSHAPE_BUCKETS - 1;
}

unsigned
qshape_minutes(unsigned b)
{
	return b < QSHAPE_BUCKETS - 1 ? bucket_minutes[b] : 0;
}

/* ---- one file's domains ---- */

#define ENTRY_HEAD 5	/* u32 count, u8 len */

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

void
qdoms_init(struct qdoms *d)
{
	memset(d, 0, sizeof(*d));
}

void
qdoms_reset(struct qdoms *d)
{
	d->len = 0;
	d->last = 0;
	d->n = 0;
	d->nomem = 0;
}

void
qdoms_free(struct qdoms *d)
{
	free(d->buf);
	qdoms_init(d);
}

void
qdoms_add(struct qdoms *d, const char *dom, size_t len, unsigned count)
{
	unsigned char low[QSHAPE_DOMAIN];
	unsigned char *e;
	size_t i, need;

	if (len > QSHAPE_DOMAIN)
		len = QSHAPE_DOMAIN;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)dom[i];

		low[i] = ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
	}
	/* the same domain as the entry just before (sorted recipient lists) */
	if (d->n) {
		e = d->buf + d->last;
		if (e[4] == len && memcmp(e + ENTRY_HEAD, low, len) == 0) {
			uint32_t c = get32(e);

			put32(e, c + count < c ? UINT32_MAX : c + count);
			return;
		}
	}
	need = d->len + ENTRY_HEAD + len;
	if (need > d->size) {
		size_t n = d->size ? d->size * 2 : 256;
		unsigned char *b;

		while (n < need)
			n *= 2;
		if (!(b = realloc(d->buf, n))) {
			d->nomem = 1;
			return;
		}
		d->buf = b;
		d->size = n;
	}
	d->last = d->len;
	e = d->buf + d->len;
	put32(e, count);
	e[4] = (unsigned char)len;
	memcpy(e + ENTRY_HEAD, low, len);
	d->len = need;
	d->n++;
}

const unsigned char *
qdoms_next(const unsigned char *p, const unsigned char *end, const char **dom, size_t *len,
    uint32_t *count, int *bad)
{
	if (p >= end)
		return NULL;
	if ((size_t)(end - p) < ENTRY_HEAD || (size_t)(end - p) < ENTRY_HEAD + (size_t)p[4]) {
		if (bad)
			*bad = 1;
		return NULL;
	}
	*count = get32(p);
	*len = p[4];
	*dom = (const char *)p + ENTRY_HEAD;
	return p + ENTRY_HEAD + p[4];
}

int
qdoms_check(const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf, *end = buf + len;
	const char *dom;
	size_t dl;
	uint32_t c;
	int bad = 0;

	while ((p = qdoms_next(p, end, &dom, &dl, &c, &bad)))
		;
	return bad ? -1 : 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a;
	const unsigned char *y = *(const unsigned char *const *)b;
	size_t n = x[4] < y[4] ? x[4] : y[4];
	int c = memcmp(x + ENTRY_HEAD, y + ENTRY_HEAD, n);

	return c ? c : (int)x[4] - (int)y[4];
}

void
qdoms_finish(struct qdoms *d)
{
	const unsigned char **ent, *p, *end;
	unsigned char *out, *o;
	unsigned i, k = 0;

	if (d->n < 2)
		return;
	/* a failed allocation leaves duplicates: harmless, qshape adds them up */
	if (!(ent = malloc(d->n * sizeof(*ent))))
		return;
	if (!(out = malloc(d->len))) {
		free(ent);
		return;
	}
	for (p = d->buf, end = d->buf + d->len; p < end && k < d->n; p += ENTRY_HEAD + p[4])
		ent[k++] = p;
	qsort(ent, k, sizeof(*ent), entry_cmp);
	o = out;
	for (i = 0; i < k; i++) {
		if (o > out && entry_cmp(&ent[i], &ent[i - 1]) == 0) {
			unsigned char *prev = o - ENTRY_HEAD - ent[i][4];
			uint32_t a = get32(prev), b = get32(ent[i]);

			put32(prev, a + b < a ? UINT32_MAX : a + b);
			continue;
		}
		memcpy(o, ent[i], ENTRY_HEAD + (size_t)ent[i][4]);
		o += ENTRY_HEAD + ent[i][4];
	}
	free(ent);
	free(d->buf);
	d->buf = out;
	d->size = d->len;
	d->len = (size_t)(o - out);
	/* entries after a merge: count them again */
	for (d->n = 0, p = out; p < o; p += ENTRY_HEAD + p[4]) {
		d->last = (size_t)(p - out);
		d->n++;
	}
}

/* ---- the table ---- */

struct qshape_slot {
	uint64_t hash;
	time_t oldest;			/* birth of its oldest message */
	char *name;
	uint32_t count;			/* counted + error: its rank (saturated) */
	uint32_t err;
	uint32_t b[QSHAPE_BUCKETS];
	unsigned heap;			/* its place in the heap */
	unsigned next;			/* hash chain: slot + 1, 0 the end */
	unsigned char len, stuck;
};

int
qshape_init(struct qshape *q, unsigned cap, time_t now, unsigned long stuck_age)
{
	unsigned size = 1;

	memset(q, 0, sizeof(*q));
	if (cap < 1)
		cap = 1;
	while (size < cap * 2)
		size <<= 1;
	q->slot = calloc(cap, sizeof(*q->slot));
	q->heap = calloc(cap, sizeof(*q->heap));
	q->head = calloc(size, sizeof(*q->head));
	if (!q->slot || !q->heap || !q->head) {
		qshape_free(q);
		return -1;
	}
	q->cap = cap;
	q->mask = size - 1;
	q->now = now;
	q->stuck_before = stuck_age ? now - (time_t)stuck_age : 0;
	return 0;
}

void
qshape_free(struct qshape *q)
{
	unsigned i;

	for (i = 0; q->slot && i < q->n; i++)
		free(q->slot[i].name);
	free(q->slot);
	free(q->heap);
	free(q->head);
	memset(q, 0, sizeof(*q));
}

static int
heap_less(const struct qshape *q, unsigned a, unsigned b)
{
	const struct qshape_slot *x = &q->slot[a], *y = &q->slot[b];

	if (x->stuck != y->stuck)
		return x->stuck < y->stuck;
	return x->count < y->count;
}

static void
heap_swap(struct qshape *q, unsigned i, unsigned j)
{
	unsigned t = q->heap[i];

	q->heap[i] = q->heap[j];
	q->heap[j] = t;
	q->slot[q->heap[i]].heap = i;
	q->slot[q->heap[j]].heap = j;
}

static void
heap_up(struct qshape *q, unsigned i)
{
	while (i > 0 && heap_less(q, q->heap[i], q->heap[(i - 1) / 2])) {
		heap_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* a key only grows: down is the only way */
static void
heap_down(struct qshape *q, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && heap_less(q, q->heap[l], q->heap[m]))
			m = l;
		if (r < q->n && heap_less(q, q->heap[r], q->heap[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(q, i, m);
		i = m;
	}
}

static void
chain_remove(struct qshape *q, unsigned s)
{
	unsigned *p = &q->head[q->slot[s].hash & q->mask];

	while (*p && *p != s + 1)
		p = &q->slot[*p - 1].next;
	if (*p)
		*p = q->slot[s].next;
	q->slot[s].next = 0;
}

static void
count_into(struct qshape_slot *s, unsigned b, unsigned long long count, time_t birth)
{
	unsigned long long v = s->b[b] + count, c = s->count + count;

	s->count = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
	s->b[b] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	if (!s->oldest || birth < s->oldest)
		s->oldest = birth;
}

void
qshape_add(struct qshape *q, const char *dom, size_t len, unsigned long long count,
    time_t birth)
{
	unsigned b = qshape_bucket((long long)(q->now - birth)), i;
	uint64_t h;
	struct qshape_slot *s;
	char *name;

	if (!count || !q->cap)
		return;
	if (len > QSHAPE_DOMAIN)
		len = QSHAPE_DOMAIN;
	q->total += count;
	q->b[b] += count;
	if (!q->oldest || birth < q->oldest)
		q->oldest = birth;
	h = fnv1a_of(dom, len);
	for (i = q->head[h & q->mask]; i; i = s->next) {
		s = &q->slot[i - 1];
		if (s->hash == h && s->len == len && memcmp(s->name, dom, len) == 0) {
			count_into(s, b, count, birth);
			if (q->stuck_before && birth < q->stuck_before)
				s->stuck = 1;
			heap_down(q, s->heap);
			return;
		}
	}
	if (!(name = malloc(len + 1))) {
		q->nomem = 1;
		return;
	}
	memcpy(name, dom, len);
	name[len] = 0;
	if (q->n < q->cap) {
		i = q->n++;
		s = &q->slot[i];
		memset(s, 0, sizeof(*s));
		s->heap = i;
		q->heap[i] = i;
	} else {	/* Space-Saving: the smallest slot is taken over */
		i = q->heap[0];
		s = &q->slot[i];
		chain_remove(q, i);
		free(s->name);
		s->err = s->count;
		memset(s->b, 0, sizeof(s->b));
		s->oldest = 0;
		s->stuck = 0;
		q->evictions++;
	}
	s->hash = h;
	s->name = name;
	s->len = (unsigned char)len;
	count_into(s, b, count, birth);
	s->stuck = q->stuck_before && birth < q->stuck_before;
	s->next = q->head[h & q->mask];
	q->head[h & q->mask] = i + 1;
	if (s->err)	/* the old smallest's place, the root: its key grew */
		heap_down(q, s->heap);
	else
		heap_up(q, s->heap);
}

int
qshape_add_doms(struct qshape *q, const unsigned char *buf, size_t len, time_t birth)
{
	const unsigned char *p = buf, *end = buf + len;
	const char *dom;
	size_t dl;
	uint32_t c;
	int bad = 0;

	while ((p = qdoms_next(p, end, &dom, &dl, &c, &bad)))
		qshape_add(q, dom, dl, c, birth);
	return bad ? -1 : 0;
}

static void
row_of(const struct qshape *q, const struct qshape_slot *s, struct qshape_row *r)
{
	unsigned b;

	memset(r, 0, sizeof(*r));
	memcpy(r->domain, s->name, s->len);
	r->error = s->err;
	r->total = s->count - s->err;
	for (b = 0; b < QSHAPE_BUCKETS; b++)
		r->b[b] = s->b[b];
	r->oldest = s->oldest ? (long long)(q->now - s->oldest) : -1;
}

static int
rank_cmp(const void *a, const void *b, void *arg)
{
	const struct qshape *q = arg;
	const struct qshape_slot *x = &q->slot[*(const unsigned *)a];
	const struct qshape_slot *y = &q->slot[*(const unsigned *)b];
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(x->name, y->name, n);
	return c ? c : (int)x->len - (int)y->len;
}

static int
age_cmp(const void *a, const void *b, void *arg)
{
	const struct qshape *q = arg;
	const struct qshape_slot *x = &q->slot[*(const unsigned *)a];
	const struct qshape_slot *y = &q->slot[*(const unsigned *)b];

	if (x->oldest != y->oldest)
		return x->oldest < y->oldest ? -1 : 1;
	return rank_cmp(a, b, arg);
}

static unsigned
pick(const struct qshape *q, struct qshape_row *rows, unsigned k, int stuck,
    int (*cmp)(const void *, const void *, void *), unsigned *all)
{
	unsigned *idx, i, n = 0;

	if (all)
		*all = 0;
	if (!q->n || !k || !(idx = malloc(q->n * sizeof(*idx))))
		return 0;
	for (i = 0; i < q->n; i++)
		if (!stuck || q->slot[i].stuck)
			idx[n++] = i;
	if (all)
		*all = n;
	qsort_r(idx, n, sizeof(*idx), cmp, (void *)q);
	if (k > n)
		k = n;
	for (i = 0; i < k; i++)
		row_of(q, &q->slot[idx[i]], &rows[i]);
	free(idx);
	return k;
}

unsigned
qshape_top(const struct qshape *q, struct qshape_row *rows, unsigned k)
{
	return pick(q, rows, k, 0, rank_cmp, NULL);
}

unsigned
qshape_stuck(const struct qshape *q, struct qshape_row *rows, unsigned max, unsigned *all)
{
	return pick(q, rows, max, 1, age_cmp, all);
}

void
qshape_total(const struct qshape *q, struct qshape_row *r)
{
	unsigned b;

	memset(r, 0, sizeof(*r));
	strcpy(r->domain, "TOTAL");
	r->total = q->total;
	for (b = 0; b < QSHAPE_BUCKETS; b++)
		r->b[b] = q->b[b];
	r->oldest = q->oldest ? (long long)(q->now - q->oldest) : -1;
}

void
qshape_rest(const struct qshape *q, const struct qshape_row *top, unsigned n,
    struct qshape_row *r)
{
	unsigned i, j, b;
	time_t oldest = 0;

	memset(r, 0, sizeof(*r));
	strcpy(r->domain, "other");
	r->total = q->total;
	for (b = 0; b < QSHAPE_BUCKETS; b++)
		r->b[b] = q->b[b];
	for (i = 0; i < n; i++) {
		r->total -= top[i].total < r->total ? top[i].total : r->total;
		for (b = 0; b < QSHAPE_BUCKETS; b++)
			r->b[b] -= top[i].b[b] < r->b[b] ? top[i].b[b] : r->b[b];
	}
	/* the oldest of the slots that are not in the top */
	for (i = 0; i < q->n; i++) {
		const struct qshape_slot *s = &q->slot[i];

		for (j = 0; j < n; j++)
			if (strlen(top[j].domain) == s->len &&
			    memcmp(top[j].domain, s->name, s->len) == 0)
				break;
		if (j == n && s->oldest && (!oldest || s->oldest < oldest))
			oldest = s->oldest;
	}
	r->oldest = r->total && oldest ? (long long)(q->now - oldest) : -1;
}

/* ---- for people ---- */

static size_t
safe_name(char *out, size_t size, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in && o + 5 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (c > 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = 0;
	return o;
}

static int
digits(unsigned long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void
widths(const struct qshape_row *r, int *dw, int *w)
{
	char name[QSHAPE_DOMAIN * 4 + 1];
	unsigned b;
	int n = (int)safe_name(name, sizeof(name), r->domain);

	if (n > *dw)
		*dw = n;
	if (digits(r->total) > w[0])
		w[0] = digits(r->total);
	for (b = 0; b < QSHAPE_BUCKETS; b++)
		if (digits(r->b[b]) > w[b + 1])
			w[b + 1] = digits(r->b[b]);
}

static void
line(FILE *f, const struct qshape_row *r, int dw, const int *w)
{
	char name[QSHAPE_DOMAIN * 4 + 1];
	unsigned b;

	safe_name(name, sizeof(name), r->domain);
	fprintf(f, "%*s %*llu", dw, name, w[0], r->total);
	for (b = 0; b < QSHAPE_BUCKETS; b++)
		fprintf(f, " %*llu", w[b + 1], r->b[b]);
	if (r->error)
		fprintf(f, "  (up to %llu more)", r->error);
	fputc('\n', f);
}

void
queue_shape_format(FILE *f, const struct qshape_table *t)
{
	int w[QSHAPE_BUCKETS + 1], dw = 6;
	char label[16];
	unsigned i, b;

	w[0] = 1;
	for (b = 0; b < QSHAPE_BUCKETS; b++) {
		if (b < QSHAPE_BUCKETS - 1)
			snprintf(label, sizeof(label), "%u", qshape_minutes(b));
		else
			snprintf(label, sizeof(label), "%u+", qshape_minutes(b - 1));
		w[b + 1] = (int)strlen(label);
	}
	widths(&t->total, &dw, w);
	widths(&t->rest, &dw, w);
	for (i = 0; i < t->n; i++)
		widths(&t->rows[i], &dw, w);
	fprintf(f, "%*s %*s", dw, "", w[0], "T");
	for (b = 0; b < QSHAPE_BUCKETS; b++) {
		if (b < QSHAPE_BUCKETS - 1)
			snprintf(label, sizeof(label), "%u", qshape_minutes(b));
		else
			snprintf(label, sizeof(label), "%u+", qshape_minutes(b - 1));
		fprintf(f, " %*s", w[b + 1], label);
	}
	fputc('\n', f);
	line(f, &t->total, dw, w);
	for (i = 0; i < t->n; i++)
		line(f, &t->rows[i], dw, w);
	if (t->rest.total)
		line(f, &t->rest, dw, w);
}

static struct qshape_table *published;

int
queue_shape_publish(const struct qshape_table *t)
{
	size_t size = sizeof(*t) + t->n * sizeof(t->rows[0]);
	struct qshape_table *c = malloc(size);

	if (!c)
		return -1;
	memcpy(c, t, size);
	free(published);
	published = c;
	return 0;
}

int
queue_shape_print(FILE *f)
{
	if (!published)
		return -1;
	queue_shape_format(f, published);
	return fflush(f) == 0 ? 0 : -1;
}

void
queue_shape_clear(void)
{
	free(published);
	published = NULL;
}
