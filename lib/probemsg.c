#include "probemsg.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define HEADER 11	/* length:4 version:1 type:1 check:1 seq:4 */

/* ---- encoding ---- */

struct out {
	unsigned char *p;
	size_t n, size;
	int full;
};

static void
put(struct out *o, const void *b, size_t n)
{
	if (o->full || n > o->size - o->n) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->n, b, n);
	o->n += n;
}

static void
put_u(struct out *o, uint64_t v, unsigned bytes)
{
	unsigned char b[8];
	unsigned i;

	for (i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	put(o, b, bytes);
}

static void
put_str(struct out *o, const void *s, size_t n, unsigned lenbytes)
{
	put_u(o, n, lenbytes);
	put(o, s, n);
}

static void
put_f64(struct out *o, double d)
{
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	put_u(o, bits, 8);
}

static void
put_finding(struct out *o, const struct finding *f)
{
	unsigned i;

	put_u(o, (unsigned)f->level, 1);
	put_u(o, (unsigned)f->kind, 1);
	put_u(o, f->nsubject, 1);
	put_u(o, f->truncated != 0, 1);
	put_u(o, f->hold > 0xffffffffUL ? 0xffffffffUL : f->hold, 4);
	put_str(o, f->event, strlen(f->event), 1);
	put_u(o, f->nfields, 1);
	for (i = 0; i < f->nfields; i++) {
		put_str(o, f->field[i].key, strlen(f->field[i].key), 1);
		put_str(o, f->buf + f->field[i].off, f->field[i].len, 2);
	}
}

size_t
probemsg_encode(const struct probemsg *m, unsigned char *buf, size_t size)
{
	struct out o = { buf, 0, size < PROBEMSG_MAX ? size : PROBEMSG_MAX, 0 };

	put_u(&o, 0, 4);	/* the length, filled in below */
	put_u(&o, PROBEMSG_VERSION, 1);
	put_u(&o, m->type, 1);
	put_u(&o, m->check, 1);
	put_u(&o, m->seq & 0xffffffffUL, 4);
	switch (m->type) {
	case PROBEMSG_HELLO:
		put_u(&o, m->pid & 0xffffffffUL, 4);
		break;
	case PROBEMSG_RUN:
		put_u(&o, m->verbose != 0, 1);
		if (m->inputlen > PROBEMSG_INPUT)
			return 0;
		put_str(&o, (const char *)m->input, m->inputlen, 2);
		break;
	case PROBEMSG_CANCEL:
		break;
	case PROBEMSG_DONE:
		put_u(&o, (unsigned)m->status, 1);
		break;
	case PROBEMSG_FINDING:
		put_finding(&o, &m->f);
		break;
	case PROBEMSG_SAMPLE:
		put_u(&o, m->family, 1);
		put_u(&o, m->op, 1);
		put_u(&o, (m->has_l1 ? 1u : 0u) | (m->has_l2 ? 2u : 0u), 1);
		if (m->has_l1)
			put_str(&o, m->l1, strlen(m->l1), 2);
		if (m->has_l2)
			put_str(&o, m->l2, strlen(m->l2), 2);
		put_f64(&o, m->value);
		put_f64(&o, m->warn);
		put_f64(&o, m->crit);
		break;
	default:
		return 0;
	}
	if (o.full || m->check > 255)
		return 0;
	buf[0] = (unsigned char)((o.n - 4) >> 24);
	buf[1] = (unsigned char)((o.n - 4) >> 16);
	buf[2] = (unsigned char)((o.n - 4) >> 8);
	buf[3] = (unsigned char)(o.n - 4);
	return o.n;
}

/* ---- decoding: a sticky error cursor ---- */

struct in {
	const unsigned char *p;
	size_t n, off;
	const char *why;	/* the first error; later reads return 0 */
};

static uint64_t
get_u(struct in *in, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	if (in->why)
		return 0;
	if (bytes > in->n - in->off) {
		in->why = "short";
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v = v << 8 | in->p[in->off++];
	return v;
}

/* A str8/str16 into out (size bytes with its NUL); *len its length. */
static void
get_str(struct in *in, unsigned lenbytes, char *out, size_t size, size_t *len)
{
	size_t n = (size_t)get_u(in, lenbytes);

	*len = 0;
	out[0] = 0;
	if (in->why)
		return;
	if (n >= size) {
		in->why = "too-long";
		return;
	}
	if (n > in->n - in->off) {
		in->why = "short";
		return;
	}
	memcpy(out, in->p + in->off, n);
	out[n] = 0;
	in->off += n;
	*len = n;
}

/* An event code or a key: [a-z0-9_-], not empty. */
static int
is_word(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static void
get_word(struct in *in, char *out, size_t size)
{
	size_t n;

	get_str(in, 1, out, size, &n);
	if (!in->why && !is_word(out, n))
		in->why = "bad-word";
}

static double
get_f64(struct in *in, int finite)
{
	uint64_t bits = get_u(in, 8);
	double d;

	memcpy(&d, &bits, sizeof(d));
	if (in->why)
		return 0;
	if (finite ? !isfinite(d) : isinf(d)) {
		in->why = "bad-number";
		return 0;
	}
	return d;
}

static void
get_finding(struct in *in, struct probemsg *m)
{
	unsigned level = (unsigned)get_u(in, 1), kind = (unsigned)get_u(in, 1);
	unsigned nsubject = (unsigned)get_u(in, 1), truncated = (unsigned)get_u(in, 1);
	unsigned long hold = (unsigned long)get_u(in, 4);
	unsigned nfields, i;
	size_t vlen;

	get_word(in, m->event, sizeof(m->event));
	nfields = (unsigned)get_u(in, 1);
	if (in->why)
		return;
	if (level > LEVEL_CRIT || kind > FINDING_EVENT || truncated > 1 ||
	    nfields > FINDING_FIELDS || nsubject > nfields) {
		in->why = "bad-finding";
		return;
	}
	finding_init(&m->f, (enum level)level, (enum finding_kind)kind, NULL, m->event);
	for (i = 0; i < nfields && !in->why; i++) {
		get_word(in, m->key[i], sizeof(m->key[i]));
		vlen = (size_t)get_u(in, 2);
		if (in->why)
			break;
		if (vlen > in->n - in->off || vlen > sizeof(m->f.buf) - m->f.used) {
			in->why = vlen > in->n - in->off ? "short" : "too-long";
			break;
		}
		finding_addn(&m->f, m->key[i], in->p + in->off, vlen);
		in->off += vlen;
	}
	m->f.nsubject = nsubject;
	m->f.truncated = (int)truncated;
	m->f.hold = hold;
}

static void
get_label(struct in *in, char *out, size_t size)
{
	size_t n;

	get_str(in, 2, out, size, &n);
	if (!in->why && memchr(out, 0, n))
		in->why = "bad-label";
}

static void
get_sample(struct in *in, struct probemsg *m)
{
	unsigned labels;

	m->family = (unsigned)get_u(in, 1);
	m->op = (enum probemsg_op)get_u(in, 1);
	labels = (unsigned)get_u(in, 1);
	if (!in->why && ((unsigned)m->op > PROBEMSG_LIMITS || labels > 3 || labels == 2)) {
		in->why = "bad-sample";
		return;
	}
	m->has_l1 = (labels & 1) != 0;
	m->has_l2 = (labels & 2) != 0;
	m->l1[0] = m->l2[0] = 0;
	if (m->has_l1)
		get_label(in, m->l1, sizeof(m->l1));
	if (m->has_l2)
		get_label(in, m->l2, sizeof(m->l2));
	m->value = get_f64(in, m->op != PROBEMSG_LIMITS);
	m->warn = get_f64(in, 0);
	m->crit = get_f64(in, 0);
}

int
probemsg_decode(const unsigned char *buf, size_t len, struct probemsg *m, size_t *used,
    const char **why)
{
	struct in in = { buf, 0, 0, NULL };
	uint64_t n;

	if (len < 4)
		return 0;
	n = (uint64_t)buf[0] << 24 | (uint64_t)buf[1] << 16 | (uint64_t)buf[2] << 8 | buf[3];
	if (n + 4 > PROBEMSG_MAX || n + 4 < HEADER) {
		*why = "bad-length";
		return -1;
	}
	if (len < n + 4)
		return 0;
	in.n = (size_t)n + 4;
	in.off = 4;
	memset(m, 0, sizeof(*m));
	if (get_u(&in, 1) != PROBEMSG_VERSION) {
		*why = "bad-version";
		return -1;
	}
	m->type = (enum probemsg_type)get_u(&in, 1);
	m->check = (unsigned)get_u(&in, 1);
	m->seq = (unsigned long)get_u(&in, 4);
	switch (m->type) {
	case PROBEMSG_HELLO:
		m->pid = (unsigned long)get_u(&in, 4);
		break;
	case PROBEMSG_RUN:
		m->verbose = (int)get_u(&in, 1);
		if (!in.why && m->verbose > 1)
			in.why = "bad-flag";
		get_str(&in, 2, (char *)m->input, sizeof(m->input), &m->inputlen);
		break;
	case PROBEMSG_CANCEL:
		break;
	case PROBEMSG_DONE:
		m->status = (int)get_u(&in, 1);
		if (!in.why && m->status > 1)
			in.why = "bad-status";
		break;
	case PROBEMSG_FINDING:
		get_finding(&in, m);
		break;
	case PROBEMSG_SAMPLE:
		get_sample(&in, m);
		break;
	default:
		in.why = "bad-type";
	}
	if (!in.why && in.off != in.n)
		in.why = "trailing-bytes";
	if (in.why) {
		*why = in.why;
		return -1;
	}
	*used = in.n;
	return 1;
}
