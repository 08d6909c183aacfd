#include "resolv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <event2/event.h>

#include "conf.h"
#include "dnsmsg.h"

/* Queries beyond this wait their turn: dnscache, for one, drops what is
 * beyond its own limit (200), and a sweep asks thousands at once. */
#define RESOLV_MAXINFLIGHT 128

struct resolv_fd {
	ares_socket_t fd;
	struct event *ev;
	struct resolv_fd *next;
};

/* The channel, made at configure; r: the run driving it, or NULL. */
struct resolv_chan {
	ares_channel ch;
	struct resolv *r;
};

struct resolv {
	struct resolv_chan *chan;
	ares_channel ch;
	int owned;		/* resolv_new's: the channel goes with it */
	struct event_base *base;
	struct event *timer;
	struct resolv_fd *fds;
	unsigned depth;		/* inside c-ares: a free must wait */
	int dead;		/* resolv_free was called inside c-ares */
	unsigned inflight;
	struct resolv_q *qhead, **qtail;	/* not sent yet */
};

struct resolv_q {
	struct resolv *r;
	resolv_cb *cb;
	void *arg;
	unsigned char *qbuf;	/* until sent */
	int qlen;
	struct resolv_q *next;
};

static int resolv_ares_ready;	/* ares_library_init, once per process */

static void resolv_destroy(struct resolv *);
static void resolv_on_answer(void *, int, int, unsigned char *, int);

/* Sends waiting queries while there is room; not from inside a callback. */
static void
resolv_pump(struct resolv *r)
{
	struct resolv_q *q;
	unsigned char *qbuf;

	while (!r->dead && r->inflight < RESOLV_MAXINFLIGHT && (q = r->qhead)) {
		if (!(r->qhead = q->next))
			r->qtail = &r->qhead;
		qbuf = q->qbuf;
		q->qbuf = NULL;
		r->inflight++;
		ares_send(r->ch, qbuf, q->qlen, resolv_on_answer, q);
		ares_free_string(qbuf);
	}
}

static void
resolv_arm(struct resolv *r)
{
	struct timeval tv, *t;

	if (r->dead)
		return;
	if ((t = ares_timeout(r->ch, NULL, &tv)))
		evtimer_add(r->timer, t);
	else
		evtimer_del(r->timer);
}

/* Runs c-ares on fd (or on its timeouts) and then a deferred free. */
/* Leaves a section entered with depth++: a resolv_free() asked for inside a
 * callback happens now, else the timer follows c-ares' next timeout. */
static void
resolv_settle(struct resolv *r)
{
	r->depth--;
	if (r->dead && !r->depth)
		resolv_destroy(r);
	else
		resolv_arm(r);
}

static void
resolv_process(struct resolv *r, ares_socket_t rfd, ares_socket_t wfd)
{
	r->depth++;
	ares_process_fd(r->ch, rfd, wfd);
	resolv_pump(r);
	resolv_settle(r);
}

static void
resolv_on_fd(evutil_socket_t fd, short what, void *arg)
{
	resolv_process(arg, what & EV_READ ? fd : ARES_SOCKET_BAD,
	    what & EV_WRITE ? fd : ARES_SOCKET_BAD);
}

static void
resolv_on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	resolv_process(arg, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static void
resolv_sock_state(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct resolv_chan *chan = arg;
	struct resolv *r = chan->r;
	struct resolv_fd **pp, *f;
	short what = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	if (!r)
		return;	/* no run: a socket closed by ares_destroy */
	for (pp = &r->fds; *pp && (*pp)->fd != fd; pp = &(*pp)->next)
		;
	if ((f = *pp)) {
		event_free(f->ev);
		f->ev = NULL;
		if (!readable && !writable) {
			*pp = f->next;
			free(f);
			return;
		}
	} else {
		if (!readable && !writable)
			return;
		if (!(f = calloc(1, sizeof(*f))))
			return;	/* c-ares times the query out */
		f->fd = fd;
		f->next = r->fds;
		r->fds = f;
	}
	if ((f->ev = event_new(r->base, fd, what, resolv_on_fd, r)))
		event_add(f->ev, NULL);
}

/* One item of a server list: IP, IP:PORT or [IPv6]:PORT. */
static int
resolv_server_ok(const char *item, size_t len, void *arg)
{
	unsigned char a[16];
	char buf[64];
	const char *p;
	size_t alen = len, i;

	(void)arg;
	if (item[0] == '[') {
		if (!(p = memchr(item, ']', len)))
			return -1;
		alen = (size_t)(p - item) + 1;
	} else if ((p = memchr(item, ':', len)) && !memchr(p + 1, ':', len - (size_t)(p - item) - 1))
		alen = (size_t)(p - item);	/* IPv4:PORT; a bare IPv6 has more colons */
	p = item[0] == '[' ? item + 1 : item;	/* [IPv6] */
	if (alen - (size_t)(p - item) * 2 >= sizeof(buf))
		return -1;
	memcpy(buf, p, alen - (size_t)(p - item) * 2);
	buf[alen - (size_t)(p - item) * 2] = 0;
	if (inet_pton(AF_INET, buf, a) != 1 && inet_pton(AF_INET6, buf, a) != 1)
		return -1;
	if (alen < len) {
		if (item[alen] != ':' || alen + 1 == len || len - alen - 1 > 5)
			return -1;
		for (i = alen + 1; i < len; i++)
			if (!isdigit((unsigned char)item[i]))
				return -1;
		if (atoi(item + alen + 1) < 1 || atoi(item + alen + 1) > 65535)
			return -1;
	}
	return 0;
}

int
resolv_servers_ok(const char *servers)
{
	return !servers || conf_list(servers, resolv_server_ok, NULL) == 0;
}

/* "IP:PORT, IP" and white space to the comma list c-ares reads. */
static int
resolv_servers(ares_channel ch, const char *servers, char *err, size_t errlen)
{
	char *csv, *o;
	const char *s;
	int st;

	if (!(csv = malloc(strlen(servers) + 1))) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	for (s = servers, o = csv; *s; s++) {
		if (*s == ',' || isspace((unsigned char)*s)) {
			if (o > csv && o[-1] != ',')
				*o++ = ',';
		} else
			*o++ = *s;
	}
	if (o > csv && o[-1] == ',')
		o--;
	*o = 0;
	st = ares_set_servers_ports_csv(ch, csv);
	free(csv);
	if (st != ARES_SUCCESS) {
		snprintf(err, errlen, "%s", ares_strerror(st));
		errno = st == ARES_ENOMEM ? ENOMEM : 0;
		return -1;
	}
	return 0;
}

static void *
resolv_ares_err(int st, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", ares_strerror(st));
	errno = st == ARES_ENOMEM ? ENOMEM : 0;
	return NULL;
}

struct resolv_chan *
resolv_chan_new(const char *servers, unsigned timeout_ms, char *err, size_t errlen)
{
	static char lookups[] = "b";	/* never /etc/hosts (ares_send does not, anyway) */
	struct ares_options o;
	struct resolv_chan *chan;
	int st;

	if (!resolv_ares_ready) {
		if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
			return resolv_ares_err(st, err, errlen);
		resolv_ares_ready = 1;
	}
	if (!(chan = calloc(1, sizeof(*chan)))) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	/* NOCHECKRESP: c-ares 1.18 reports SERVFAIL and REFUSED answers as
	 * ECONNREFUSED, the same as an unreachable server; we read the rcode */
	o.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
	o.ednspsz = 1232;
	/* two tries: the first gets a third of the time, the second the rest */
	o.timeout = (int)(timeout_ms / 3 > 50 ? timeout_ms / 3 : 50);
	o.tries = 2;
	o.ndots = 1;
	o.lookups = lookups;
	o.sock_state_cb = resolv_sock_state;
	o.sock_state_cb_data = chan;
	/* now, and only now: /etc/resolv.conf (for the servers when none are
	 * given), /etc/nsswitch.conf, /dev/urandom */
	st = ares_init_options(&chan->ch, &o, ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS | ARES_OPT_LOOKUPS |
	    ARES_OPT_SOCK_STATE_CB);
	if (st != ARES_SUCCESS) {
		free(chan);
		return resolv_ares_err(st, err, errlen);
	}
	if (servers && *servers && resolv_servers(chan->ch, servers, err, errlen) < 0) {
		st = errno;
		resolv_chan_free(chan);
		errno = st;
		return NULL;
	}
	return chan;
}

void
resolv_chan_free(struct resolv_chan *chan)
{
	if (!chan)
		return;
	chan->r = NULL;
	ares_destroy(chan->ch);
	free(chan);
}

int
resolv_chan_servers(const struct resolv_chan *chan, char *buf, size_t size)
{
	struct ares_addr_port_node *list = NULL, *n;
	char ip[INET6_ADDRSTRLEN];
	size_t o = 0;
	int v6;

	if (size)
		*buf = 0;
	if (ares_get_servers_ports(chan->ch, &list) != ARES_SUCCESS)
		return -1;
	for (n = list; n && o < size; n = n->next) {
		v6 = n->family == AF_INET6;
		if (!inet_ntop(n->family, &n->addr, ip, sizeof(ip)))
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s%s%s%s:%d", o ? "," : "",
		    v6 ? "[" : "", ip, v6 ? "]" : "", n->udp_port ? n->udp_port : 53);
	}
	ares_free_data(list);
	return 0;
}

struct resolv *
resolv_open(struct event_base *base, struct resolv_chan *chan)
{
	struct resolv *r;

	if (chan->r) {
		errno = EBUSY;
		return NULL;
	}
	if (!(r = calloc(1, sizeof(*r))) ||
	    !(r->timer = evtimer_new(base, resolv_on_timer, r))) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->chan = chan;
	r->ch = chan->ch;
	r->base = base;
	r->qtail = &r->qhead;
	chan->r = r;
	return r;
}

struct resolv *
resolv_new(struct event_base *base, const char *servers, unsigned timeout_ms,
    char *err, size_t errlen)
{
	struct resolv_chan *chan;
	struct resolv *r;

	if (!(chan = resolv_chan_new(servers, timeout_ms, err, errlen)))
		return NULL;
	if (!(r = resolv_open(base, chan))) {
		snprintf(err, errlen, "out of memory");
		resolv_chan_free(chan);
		errno = ENOMEM;
		return NULL;
	}
	r->owned = 1;
	return r;
}

static void
resolv_destroy(struct resolv *r)
{
	struct resolv_fd *f;
	struct resolv_q *q;

	r->dead = 1;
	r->depth++;	/* callbacks of the cancellation must not recurse here */
	/* every query ends (ECANCELLED) and, the channel idle, c-ares closes its
	 * sockets (telling resolv_sock_state): the next run starts clean */
	ares_cancel(r->ch);
	r->chan->r = NULL;
	if (r->owned)
		resolv_chan_free(r->chan);
	while ((q = r->qhead)) {
		r->qhead = q->next;
		ares_free_string(q->qbuf);
		free(q);
	}
	while ((f = r->fds)) {
		r->fds = f->next;
		if (f->ev)
			event_free(f->ev);
		free(f);
	}
	event_free(r->timer);
	free(r);
}

void
resolv_free(struct resolv *r)
{
	if (!r)
		return;
	if (r->depth)
		r->dead = 1;
	else
		resolv_destroy(r);
}

static enum resolv_status
resolv_ares_status(int st)
{
	switch (st) {
	case ARES_ESERVFAIL: return RESOLV_SERVFAIL;
	case ARES_EREFUSED: return RESOLV_REFUSED;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED: return RESOLV_TIMEOUT;	/* nobody answered */
	default: return RESOLV_ERROR;
	}
}

/* The status from the answer itself: rcode, and answers of the asked type. */
static enum resolv_status
resolv_answer_status(const unsigned char *abuf, int alen)
{
	struct dnsmsg m;
	struct dnsrr rr;
	unsigned qtype;
	size_t p;
	char name[DNSMSG_NAMEMAX];
	int n;

	if (alen < 12 || dnsmsg_open(&m, abuf, (size_t)alen) < 0 || m.qdcount != 1)
		return RESOLV_ERROR;
	switch (m.rcode) {
	case 0: break;
	case 2: return RESOLV_SERVFAIL;
	case 3: return RESOLV_NXDOMAIN;
	case 5: return RESOLV_REFUSED;
	default: return RESOLV_ERROR;
	}
	if (!(p = dnsmsg_name(&m, 12, name)))
		return RESOLV_ERROR;
	qtype = (unsigned)abuf[p] << 8 | abuf[p + 1];
	while ((n = dnsmsg_next(&m, &rr)) == 1)
		if (rr.type == qtype)
			return RESOLV_OK;
	return n < 0 ? RESOLV_ERROR : RESOLV_NODATA;
}

static void
resolv_on_answer(void *arg, int st, int timeouts, unsigned char *abuf, int alen)
{
	struct resolv_q *q = arg;
	struct resolv *r = q->r;
	enum resolv_status rs;

	(void)timeouts;
	r->inflight--;
	if (st == ARES_EDESTRUCTION || st == ARES_ECANCELLED || r->dead) {
		free(q);
		return;
	}
	if (st == ARES_SUCCESS && abuf)
		rs = resolv_answer_status(abuf, alen);
	else
		rs = resolv_ares_status(st);
	if (!abuf || alen < 0)
		alen = 0;
	q->cb(q->arg, rs, alen ? abuf : NULL, (size_t)alen, alen >= 4 && (abuf[3] & 0x20));
	free(q);
}

int
resolv_query(struct resolv *r, const char *name, int type, resolv_cb *cb, void *arg)
{
	unsigned char *qbuf;
	struct resolv_q *q;
	uint16_t id;
	int qlen;

	if (r->dead || !(q = malloc(sizeof(*q))))
		return -1;
	if (ares_create_query(name, 1 /* IN */, type, 0, 1, &qbuf, &qlen, 1232) != ARES_SUCCESS) {
		free(q);
		return -1;
	}
	/* c-ares 1.18's ares_send sends the id it is given: a random one, or an
	 * off-path attacker has only the source port to guess */
	id = (uint16_t)arc4random();
	qbuf[0] = (unsigned char)(id >> 8);
	qbuf[1] = (unsigned char)id;
	qbuf[3] |= 0x20;	/* AD: tell us whether the resolver validated (RFC 6840 5.7) */
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->qbuf = qbuf;
	q->qlen = qlen;
	q->next = NULL;
	*r->qtail = q;
	r->qtail = &q->next;
	r->depth++;
	resolv_pump(r);
	resolv_settle(r);
	return 0;
}

const char *
resolv_status_name(enum resolv_status st)
{
	static const char *const names[] = { "ok", "nodata", "nxdomain", "servfail",
	    "refused", "timeout", "error" };

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "error";
}
