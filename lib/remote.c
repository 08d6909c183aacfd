/* The remote check: why mail to a stuck domain does not leave. For the
 * domains the queue check found stuck (lib/stuck.h), the oldest first, at
 * most MAINTD_STUCK_PROBES a run and each at most once per
 * MAINTD_STUCK_INTERVAL, it does what qmail-remote would do and what the
 * s/qmail documentation does by hand: control/smtproutes, else the MX set
 * (implicit MX, null MX), the hosts' addresses in preference order, the
 * addresses qmail-remote skips now (queue/lock/tcpto), then one connection
 * at a time to the first address that accepts one, through lib/tlsprobe.h
 * (greeting, EHLO as control/helohost or control/me, STARTTLS, handshake,
 * certificate, DANE, QUIT; never MAIL FROM). One finding per domain:
 *	warn queue: stuck-diagnosis domain=D mx=HOST ip=ADDR result=CODE ...
 *
 * The choice of domains, the routes, the EHLO name and the tcpto table are
 * the root process's (remote_input: it reads control/ and queue/lock/ and
 * remembers what it diagnosed when); the run, in the probe process, gets
 * them as lib/remotework.h text and talks to the network. */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <openssl/err.h>

#include "checkstate.h"
#include "dnsmsg.h"
#include "hash.h"
#include "remotediag.h"
#include "remotework.h"
#include "resolv.h"
#include "safefile.h"
#include "smtproutes.h"
#include "stuck.h"
#include "tcpto_table.h"
#include "tls.h"
#include "tlsprobe.h"

#define EV_DIAGNOSIS "stuck-diagnosis"

static const char *const remote_events[] = { EV_DIAGNOSIS, NULL };

static const struct confvar var_probes = { "MAINTD_STUCK_PROBES", "5" };
static const struct confvar var_interval = { "MAINTD_STUCK_INTERVAL", "3600" };
static const struct confvar *const remote_vars[] = {
	&var_probes, &var_interval, &tls_var_cafile, &tls_var_capath, &tls_var_timeout,
	&tls_var_dane, &conf_dns_servers, NULL
};

#define T_A 1
#define T_MX 15
#define T_AAAA 28

#define REMOTE_MX 16		/* MX hosts of a domain looked at */
#define REMOTE_ADDRS 32		/* addresses of a domain tried at most */
#define REMOTE_MEMORY 1000	/* domains remembered (when diagnosed) */
#define REMOTE_STATEFILE "remote.diagnosed"
#define REMOTE_ROUTESMAX 65536	/* bytes of control/smtproutes looked at */

/* When each domain was last diagnosed: a hash of its name and the time. */
struct diagnosed {
	uint64_t hash;
	long long when;
};

struct remoteconf {
	unsigned long probes, interval;
	struct tls_clientconf client;
	X509_STORE *store;
	char *servers;
	struct resolv_chan *chan;	/* NULL: see chan_errno, chan_err */
	int chan_errno;
	char chan_err[256];
	char state[PATH_MAX];
	/* the root process's memory, MAINTD_STATE/remote.diagnosed */
	struct diagnosed mem[REMOTE_MEMORY];
	unsigned nmem;
};

/* ---- the root process: which domains, their routes, the skipped addresses ---- */

static struct diagnosed *
memory_find(struct remoteconf *cf, uint64_t h)
{
	unsigned i;

	for (i = 0; i < cf->nmem; i++)
		if (cf->mem[i].hash == h)
			return &cf->mem[i];
	return NULL;
}

static void
memory_mark(struct remoteconf *cf, uint64_t h, time_t now)
{
	struct diagnosed *m = memory_find(cf, h);
	unsigned i, oldest = 0;

	if (!m && cf->nmem < REMOTE_MEMORY)
		m = &cf->mem[cf->nmem++];
	if (!m) {	/* full: the longest ago goes */
		for (i = 1; i < cf->nmem; i++)
			if (cf->mem[i].when < cf->mem[oldest].when)
				oldest = i;
		m = &cf->mem[oldest];
	}
	m->hash = h;
	m->when = (long long)now;
}

/* Forgets the domains whose interval has passed (or whose time is ahead). */
static void
memory_prune(struct remoteconf *cf, time_t now)
{
	unsigned i, k = 0;

	for (i = 0; i < cf->nmem; i++)
		if (cf->mem[i].when <= (long long)now &&
		    (long long)now - cf->mem[i].when < (long long)cf->interval)
			cf->mem[k++] = cf->mem[i];
	cf->nmem = k;
}

static int
memory_line(const char *line, size_t len, void *arg)
{
	struct remoteconf *cf = arg;
	unsigned long long h;
	long long when;
	char buf[64];

	if (len >= sizeof(buf) || cf->nmem == REMOTE_MEMORY)
		return 0;
	memcpy(buf, line, len);
	buf[len] = 0;
	if (sscanf(buf, "%16llx %lld", &h, &when) == 2 && when > 0)
		memory_mark(cf, (uint64_t)h, (time_t)when);
	return 0;
}

static void
memory_save(const struct remoteconf *cf)
{
	char *buf;
	size_t len = 0;
	unsigned i;
	int dir;

	if ((dir = checkstate_dir(cf->state)) < 0)
		return;
	if ((buf = malloc(cf->nmem * 40 + 1))) {
		for (i = 0; i < cf->nmem; i++)
			len += (size_t)sprintf(buf + len, "%016llx %lld\n",
			    (unsigned long long)cf->mem[i].hash, cf->mem[i].when);
		safe_replace(dir, REMOTE_STATEFILE, buf, len, 0600);
		free(buf);
	}
	close(dir);
}

/* The addresses qmail-remote skips now, from queue/lock/tcpto (read without
 * its lock: a torn record costs one diagnosis its skip, nothing more). */
static void
put_skips(const struct conf *c, char *buf, size_t size, size_t *len, time_t now)
{
	static const struct safe_want one_file = { .type = S_IFREG, .uid = -1, .one_link = 1 };
	unsigned char table[TCPTO_SIZE + 1];
	struct tcpto_table t;
	struct stat st;
	char addr[TCPTO_ADDRSTR];
	int home, fd;
	ssize_t n;
	unsigned i;

	if ((home = open(c->qmailhome, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	fd = safe_openat(home, "queue/lock/tcpto", O_RDONLY);
	close(home);
	if (fd < 0)
		return;
	/* qmailr's file: only a regular one of one link is read */
	n = safe_check(fd, &one_file, &st) == SAFE_OK ? read(fd, table, sizeof(table)) : -1;
	close(fd);
	if (n <= 0 || tcpto_decode(table, (size_t)n, &t) == TCPTO_UNKNOWN)
		return;
	for (i = 0; i < t.slots; i++)
		if (!t.rec[i].empty && tcpto_skipped(&t.rec[i], now) &&
		    tcpto_addr_format(&t.rec[i], addr, sizeof(addr)))
			remotework_put_skip(buf, size, len, addr);
}

/* Is a stuck domain not diagnosed within MAINTD_STUCK_INTERVAL? If none is,
 * the run needs no work and the control files are not read. */
static int
any_due(struct remoteconf *cf)
{
	const struct stuck *s;
	size_t i;

	for (i = 0; (s = stuck_get(i)); i++)
		if (!memory_find(cf, fnv1a_of(s->domain, strlen(s->domain))))
			return 1;
	return 0;
}

static size_t
remote_input(const struct conf *c, void *config, unsigned char *out, size_t size)
{
	struct remoteconf *cf = config;
	char *routes = NULL, *cut;
	size_t routeslen = 0;
	struct remotework_domain d;
	struct smtproute route;
	const struct stuck *s;
	char helo[256], *buf = (char *)out;
	time_t now = time(NULL);
	size_t len = 0, i;
	unsigned n = 0;
	uint64_t h;

	if (!cf || !cf->probes || !stuck_count())
		return 0;
	memory_prune(cf, now);
	if (!any_due(cf))
		return 0;
	if (control_read_line(c, "helohost", helo, sizeof(helo)) != 1 || !*helo)
		snprintf(helo, sizeof(helo), "%s", *c->me ? c->me : "localhost");
	if (remotework_put_helo(buf, size, &len, helo) < 0)
		remotework_put_helo(buf, size, &len, "localhost");
	put_skips(c, buf, size, &len, now);
	if (control_read(c, "smtproutes", &routes, &routeslen) == 1 && routeslen > REMOTE_ROUTESMAX)
		/* whole lines of the first REMOTE_ROUTESMAX bytes */
		routeslen = (cut = memrchr(routes, '\n', REMOTE_ROUTESMAX)) ?
		    (size_t)(cut - routes) + 1 : 0;
	for (i = 0; i < stuck_count() && n < cf->probes; i++) {
		s = stuck_get(i);
		h = fnv1a_of(s->domain, strlen(s->domain));
		if (memory_find(cf, h))
			continue;	/* diagnosed less than MAINTD_STUCK_INTERVAL ago */
		memset(&d, 0, sizeof(d));
		snprintf(d.domain, sizeof(d.domain), "%s", s->domain);
		d.recipients = s->recipients;
		d.oldest = s->oldest;
		if (routes && smtproutes_find(routes, routeslen, s->domain, &route)) {
			snprintf(d.relay, sizeof(d.relay), "%s", route.relay);
			d.port = route.port;
		}
		if (remotework_put_domain(buf, size, &len, &d) < 0)
			continue;	/* not a name a query can carry, or no room */
		memory_mark(cf, h, now);
		n++;
	}
	free(routes);
	if (!n)
		return 0;
	memory_save(cf);
	return len;
}

/* ---- configuration ---- */

static void
remote_config_free(void *p)
{
	struct remoteconf *cf = p;

	if (!cf)
		return;
	X509_STORE_free(cf->store);
	resolv_chan_free(cf->chan);
	free(cf->servers);
	free(cf);
}

static void *
remote_configure(const struct conf *c, struct conf_err *err)
{
	struct remoteconf *cf;
	char *text;
	size_t len;

	if (!(cf = calloc(1, sizeof(*cf))) || !(cf->servers = strdup(conf_value(&conf_dns_servers)))) {
		conf_set_errno(err, var_probes.name, "", ENOMEM);
		goto bad;
	}
	if (conf_ulong(&var_probes, 0, REMOTEWORK_DOMAINS, &cf->probes, err) < 0 ||
	    conf_ulong(&var_interval, 0, 30 * 86400, &cf->interval, err) < 0 ||
	    tls_clientconf_read(&cf->client, err) < 0)
		goto bad;
	if (!resolv_servers_ok(cf->servers)) {
		conf_set_err(err, conf_dns_servers.name, cf->servers,
		    "want IP, IP:PORT or [IPv6]:PORT");
		goto bad;
	}
	snprintf(cf->state, sizeof(cf->state), "%s", c->state);
	if (!cf->probes)
		return cf;	/* no outbound connection, no query: nothing to load */
	if (tls_store_load(&cf->client, &cf->store, err) < 0)
		goto bad;
	if (!(cf->chan = resolv_chan_new(cf->servers, (unsigned)(cf->client.timeout * 1000), cf->chan_err,
	    sizeof(cf->chan_err))))
		cf->chan_errno = errno;	/* each diagnosis says it (dns-failed) */
	if ((text = checkstate_read(cf->state, REMOTE_STATEFILE, REMOTE_MEMORY * 40, &len))) {
		control_lines(text, len, memory_line, cf);
		free(text);
	}
	return cf;
bad:
	remote_config_free(cf);
	return NULL;
}

/* ---- the run, in the probe process ---- */

struct remoterun;
struct diag;

struct query {
	struct diag *g;
	int type;
	unsigned mx;		/* the MX host it is for */
};

struct mxhost {
	char name[DNSMSG_NAMEMAX];
	unsigned pref;
	struct query qa, qaaaa;
	int tempfail;		/* a lookup of its addresses failed for now */
};

struct addr {
	unsigned mx;		/* its host */
	struct remotework_addr a;
	char ip[INET6_ADDRSTRLEN];
};

struct diag {
	struct remoterun *run;
	const struct remotework_domain *d;
	int done, waiting;
	int implicit;		/* no MX: the domain's own addresses */
	unsigned queries;	/* outstanding */
	struct query qmx;
	struct mxhost mx[REMOTE_MX];
	unsigned nmx;
	struct addr addr[REMOTE_ADDRS];
	unsigned naddr, next, skipped, tried;
	unsigned last;		/* the address tried last */
	int first_skipped;	/* index of the first skipped address; -1 none */
	struct event *step;
	/* the connection */
	int probing;
	struct tlsprobe probe;
	struct tls_target target;
	char tname[80];
	struct remotediag out;	/* what the connection (or DNS) found */
};

struct remoterun {
	struct check_run *cr;
	const struct remoteconf *cf;
	struct remotework work;
	struct tlsclient cl;
	struct resolv *resolv;
	struct diag diag[REMOTEWORK_DOMAINS];
	unsigned pending;	/* domains not said yet */
};

static void remote_finish(struct check_run *);
static void diag_next(struct diag *);

static const char *
host_of(const struct diag *g, const struct addr *a)
{
	return *g->d->relay ? g->d->relay : g->mx[a->mx].name;
}

/* The one line of the domain; then the run goes on without it. */
static void
diag_say(struct diag *g, const char *code, const struct addr *a)
{
	struct remoterun *r = g->run;
	struct finding f;

	if (g->done)
		return;
	g->done = 1;
	finding_init(&f, LEVEL_WARN, FINDING_EVENT, NULL, EV_DIAGNOSIS);
	finding_add(&f, "domain", g->d->domain);
	finding_subject(&f);
	/* active until the next diagnosis may come */
	f.hold = r->cf->interval ? r->cf->interval : 1;
	if (*g->d->relay)
		finding_add(&f, "relay", g->d->relay);
	else if (a)
		finding_add(&f, "mx", host_of(g, a));
	else if (g->nmx && !g->implicit)	/* no address: the first MX host */
		finding_add(&f, "mx", g->mx[0].name);
	if (a)
		finding_add(&f, "ip", a->ip);
	if (*g->d->relay)
		finding_addu(&f, "port", g->d->port);
	finding_add(&f, "result", code);
	if (strcmp(code, "tcpto-skipped") == 0)
		finding_add(&f, "tcpto", "skipped");
	if (*g->out.reply)
		finding_add(&f, "reply", g->out.reply);
	if (*g->out.reason)
		finding_add(&f, "reason", g->out.reason);
	if (*g->out.error)
		finding_add(&f, "error", g->out.error);
	if (g->out.dane == REMOTEDIAG_DANE_MATCH)
		finding_add(&f, "dane", "match");
	if (g->tried > 1)
		finding_addu(&f, "tried", g->tried);
	if (g->skipped && strcmp(code, "tcpto-skipped") != 0)
		finding_addu(&f, "skipped", g->skipped);
	run_emit(r->cr, &f);
	if (--r->pending == 0)
		run_yield(r->cr, remote_finish);
}

static void
diag_dns_failed(struct diag *g, enum resolv_status st)
{
	snprintf(g->out.reason, sizeof(g->out.reason), "%s", resolv_status_name(st));
	diag_say(g, "dns-failed", NULL);
}

/* -- what the probe tells -- */

static void
on_probe_emit(struct tlsprobe *p, struct finding *f)
{
	remotediag_add(&((struct diag *)p->owner)->out, f);
}

static int
ip_busy(const struct remoterun *r, const char *ip)
{
	unsigned i;

	for (i = 0; i < r->work.n; i++)
		if (r->diag[i].probing && strcmp(r->diag[i].addr[r->diag[i].next].ip, ip) == 0)
			return 1;
	return 0;
}

static void
on_step(evutil_socket_t fd, short what, void *arg)
{
	struct diag *g = arg;
	struct remoterun *r = g->run;
	const struct addr *a = &g->addr[g->next];
	unsigned i;

	(void)fd;
	(void)what;
	if (remotediag_unanswered(&g->out) && g->next + 1 < g->naddr) {
		g->next++;
		diag_next(g);
	} else
		diag_say(g, remotediag_result(&g->out), a);
	/* an address this one held may be free now */
	for (i = 0; i < r->work.n; i++)
		if (r->diag[i].waiting && !r->diag[i].done)
			diag_next(&r->diag[i]);
}

static void
on_probe_finish(struct tlsprobe *p)
{
	struct diag *g = p->owner;
	struct timeval now = { 0, 0 };

	g->probing = 0;
	evtimer_add(g->step, &now);	/* from a fresh loop pass, not inside libevent's callback */
}

static const struct tlsprobe_ops remote_probe_ops = {
	.emit = on_probe_emit,
	.finish = on_probe_finish,
};

static void
diag_connect(struct diag *g, const struct addr *a)
{
	struct remoterun *r = g->run;
	struct tlsprobe *p = &g->probe;
	struct remotework_addr lit;

	remotediag_init(&g->out);
	memset(p, 0, sizeof(*p));
	memset(&g->target, 0, sizeof(g->target));
	g->target.proto = TLSPROTO_SMTP;
	snprintf(g->target.host, sizeof(g->target.host), "%s", a->ip);
	g->target.port = *g->d->relay ? g->d->port : 25;
	tls_target_format(&g->target, g->tname, sizeof(g->tname));
	p->cl = &r->cl;
	p->ops = &remote_probe_ops;
	p->owner = g;
	p->t = &g->target;
	p->target = g->tname;
	p->name = host_of(g, a);
	/* DANE TLSA at _PORT._tcp.HOST, for a host name */
	p->tlsa_port = r->cl.resolv && !remotework_addr(p->name, &lit) ? g->target.port : 0;
	g->tried++;
	g->last = (unsigned)(a - g->addr);
	if (tlsprobe_init(p, r->cr->base) < 0) {
		snprintf(g->out.reason, sizeof(g->out.reason), "event");
		diag_say(g, "setup-failed", a);
		return;
	}
	g->probing = 1;
	tlsprobe_start(p, 0);
}

/* The next address qmail-remote would try: skipped ones passed over, one
 * connection at a time to an address. */
static void
diag_next(struct diag *g)
{
	const struct addr *a;

	g->waiting = 0;
	for (; g->next < g->naddr; g->next++) {
		a = &g->addr[g->next];
		if (!remotework_skipped(&g->run->work, a->a.v6, a->a.a))
			break;
		if (g->first_skipped < 0)
			g->first_skipped = (int)g->next;
		g->skipped++;
	}
	if (g->next == g->naddr) {
		if (g->tried)	/* the rest skipped: what the last one tried did */
			diag_say(g, remotediag_result(&g->out), &g->addr[g->last]);
		else		/* every address skipped */
			diag_say(g, "tcpto-skipped",
			    &g->addr[g->first_skipped < 0 ? 0 : g->first_skipped]);
		return;
	}
	a = &g->addr[g->next];
	if (ip_busy(g->run, a->ip)) {
		g->waiting = 1;
		return;
	}
	diag_connect(g, a);
}

/* -- the DNS part -- */

static void
add_addr(struct diag *g, unsigned mx, int v6, const unsigned char *bytes)
{
	struct addr *a;

	if (g->naddr == REMOTE_ADDRS)
		return;
	a = &g->addr[g->naddr++];
	a->mx = mx;
	a->a.v6 = v6;
	memcpy(a->a.a, bytes, v6 ? 16 : 4);
	inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, a->ip, sizeof(a->ip));
}

/* Every address is known: in the MX preference order (stable), then on. */
static void
diag_addresses_done(struct diag *g)
{
	struct addr t;
	unsigned i, k, tempfail = 0;

	if (g->done)
		return;
	for (i = 0; i < g->nmx; i++)
		tempfail |= (unsigned)g->mx[i].tempfail;
	if (!g->naddr) {
		if (tempfail)
			diag_dns_failed(g, RESOLV_TIMEOUT);
		else if (*g->d->relay)
			diag_say(g, "mx-unresolvable", NULL);	/* the relay has no address */
		else
			diag_say(g, g->implicit ? "no-mx" : "mx-unresolvable", NULL);
		return;
	}
	for (i = 1; i < g->naddr; i++)
		for (k = i; k > 0 && g->mx[g->addr[k - 1].mx].pref > g->mx[g->addr[k].mx].pref; k--) {
			t = g->addr[k];
			g->addr[k] = g->addr[k - 1];
			g->addr[k - 1] = t;
		}
	diag_next(g);
}

static void
on_addresses(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct query *q = arg;
	struct diag *g = q->g;
	struct dnsmsg m;
	struct dnsrr rr;
	unsigned char rd[16];
	size_t len;
	unsigned pref;

	(void)ad;
	if (st == RESOLV_OK && dnsmsg_open(&m, abuf, alen) == 0) {
		while (dnsmsg_next(&m, &rr) == 1)
			if (rr.type == (unsigned)q->type &&
			    dnsmsg_rdata(&m, &rr, rd, sizeof(rd), &len, &pref) == 0)
				add_addr(g, q->mx, q->type == T_AAAA, rd);
	} else if (st != RESOLV_OK && st != RESOLV_NODATA && st != RESOLV_NXDOMAIN)
		g->mx[q->mx].tempfail = 1;
	if (--g->queries == 0)
		diag_addresses_done(g);
}

/* A and AAAA of each host (MX hosts, the domain for an implicit MX, the relay). */
static void
diag_lookup_hosts(struct diag *g)
{
	struct remoterun *r = g->run;
	struct remotework_addr lit;
	unsigned i;

	for (i = 0; i < g->nmx; i++)
		if (remotework_addr(g->mx[i].name, &lit))	/* an address as the relay */
			add_addr(g, i, lit.v6, lit.a);
	/* one count held while the queries go out: an answer given at once (an
	 * error c-ares reports from ares_send) must not find it at 0 early */
	g->queries++;
	for (i = 0; i < g->nmx; i++) {
		if (remotework_addr(g->mx[i].name, &lit))
			continue;
		g->mx[i].qa = (struct query){ g, T_A, i };
		g->mx[i].qaaaa = (struct query){ g, T_AAAA, i };
		g->queries += 2;
		if (resolv_query(r->resolv, g->mx[i].name, T_A, on_addresses, &g->mx[i].qa) < 0) {
			g->queries--;
			g->mx[i].tempfail = 1;
		}
		if (resolv_query(r->resolv, g->mx[i].name, T_AAAA, on_addresses, &g->mx[i].qaaaa) < 0) {
			g->queries--;
			g->mx[i].tempfail = 1;
		}
	}
	if (--g->queries == 0)
		diag_addresses_done(g);
}

static void
add_host(struct diag *g, const char *name, unsigned pref)
{
	if (g->nmx == REMOTE_MX)
		return;
	snprintf(g->mx[g->nmx].name, sizeof(g->mx[g->nmx].name), "%s", name);
	g->mx[g->nmx++].pref = pref;
}

static void
on_mx(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct diag *g = ((struct query *)arg)->g;
	unsigned char rd[DNSMSG_NAMEMAX];
	struct dnsmsg m;
	struct dnsrr rr;
	size_t len;
	unsigned pref, null = 0, total = 0;

	(void)ad;
	g->queries--;
	if (st == RESOLV_NXDOMAIN) {
		snprintf(g->out.reason, sizeof(g->out.reason), "nxdomain");
		diag_say(g, "no-mx", NULL);
		return;
	}
	if (st != RESOLV_OK && st != RESOLV_NODATA) {
		diag_dns_failed(g, st);
		return;
	}
	if (st == RESOLV_OK && dnsmsg_open(&m, abuf, alen) == 0)
		while (dnsmsg_next(&m, &rr) == 1) {
			if (rr.type != T_MX || dnsmsg_rdata(&m, &rr, rd, sizeof(rd), &len, &pref) < 0)
				continue;
			total++;
			if (!*rd)
				null++;	/* "." (RFC 7505) */
			else
				add_host(g, (const char *)rd, pref);
		}
	if (null && !g->nmx) {
		diag_say(g, "null-mx", NULL);
		return;
	}
	if (!total) {	/* no MX: the domain's own addresses (RFC 5321 5.1) */
		g->implicit = 1;
		add_host(g, g->d->domain, 0);
	}
	diag_lookup_hosts(g);
}

static void
diag_start(struct diag *g)
{
	struct remoterun *r = g->run;
	const struct remotework_domain *d = g->d;
	struct remotework_addr lit;
	size_t n = strlen(d->domain);
	char ip[REMOTEWORK_NAME];

	g->first_skipped = -1;
	if (!(g->step = evtimer_new(r->cr->base, on_step, g))) {
		snprintf(g->out.reason, sizeof(g->out.reason), "event");
		diag_say(g, "setup-failed", NULL);
		return;
	}
	if (*d->relay) {	/* control/smtproutes: the relay, not the MX */
		add_host(g, d->relay, 0);
		if (remotework_addr(d->relay, &lit)) {
			diag_lookup_hosts(g);	/* no query for an address */
			return;
		}
	} else if (d->domain[0] == '[' && n > 2) {	/* an address literal */
		snprintf(ip, sizeof(ip), "%.*s", (int)(n - 2), d->domain + 1);
		if (remotework_addr(ip, &lit)) {
			add_host(g, ip, 0);
			add_addr(g, 0, lit.v6, lit.a);
			diag_addresses_done(g);
			return;
		}
	}
	if (!r->resolv) {
		snprintf(g->out.reason, sizeof(g->out.reason), "%s", r->cf->chan ? "no-resolver" :
		    *r->cf->chan_err ? r->cf->chan_err : "no-resolver");
		diag_say(g, "dns-failed", NULL);
		return;
	}
	if (*d->relay) {
		diag_lookup_hosts(g);
		return;
	}
	g->qmx = (struct query){ g, T_MX, 0 };
	g->queries = 1;
	if (resolv_query(r->resolv, d->domain, T_MX, on_mx, &g->qmx) < 0) {
		g->queries = 0;
		diag_dns_failed(g, RESOLV_ERROR);
	}
}

static void
remote_finish(struct check_run *cr)
{
	run_done(cr, CHECK_OK);
}

static void
remote_cleanup(struct check_run *cr)
{
	struct remoterun *r = cr->state;
	unsigned i;

	for (i = 0; i < r->work.n; i++) {
		tlsprobe_free(&r->diag[i].probe);
		if (r->diag[i].step)
			event_free(r->diag[i].step);
		r->diag[i].step = NULL;
	}
	resolv_free(r->resolv);
	r->resolv = NULL;
	tlsclient_free(&r->cl);
}

/* The run diagnoses nothing: one line without a domain says why. */
static void
cannot_run(struct check_run *cr, const char *result, const char *reason)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_DIAGNOSIS);
	finding_add(&f, "result", result);
	finding_add(&f, "reason", reason);
	run_emit(cr, &f);
	run_done(cr, CHECK_FAILED);
}

static void
remote_start(struct check_run *cr)
{
	struct remoterun *r = cr->state;
	const struct remoteconf *cf = cr->config;
	const char *why;
	unsigned i;

	r->cr = cr;
	r->cf = cf;
	if (!cf || !cf->probes || !cr->input) {
		run_done(cr, CHECK_OK);	/* nothing stuck, or nothing to do now */
		return;
	}
	/* the root process wrote it: not from the network, but trusted no more */
	if (remotework_parse((const char *)cr->input, cr->inputlen, &r->work, &why) < 0) {
		cannot_run(cr, "bad-input", why);
		return;
	}
	r->cl.base = cr->base;
	r->cl.store = cf->store;
	r->cl.timeout = cf->client.timeout;
	snprintf(r->cl.helo, sizeof(r->cl.helo), "%s", *r->work.helo ? r->work.helo : "localhost");
	if (tlsclient_ctx(&r->cl) < 0) {
		ERR_clear_error();
		cannot_run(cr, "setup-failed", "ssl-context");
		return;
	}
	if (cf->chan)
		r->resolv = resolv_open(cr->base, cf->chan);
	if (r->resolv && cf->client.dane)
		r->cl.resolv = r->resolv;	/* TLSA through the same channel */
	r->pending = r->work.n;
	for (i = 0; i < r->work.n; i++) {
		r->diag[i].run = r;
		r->diag[i].d = &r->work.d[i];
	}
	if (!r->work.n) {
		run_done(cr, CHECK_OK);
		return;
	}
	for (i = 0; i < r->work.n; i++)
		diag_start(&r->diag[i]);
}

const struct check check_remote = {
	.name = "remote",
	.word = "queue",
	.where = CHECK_PROBE,
	.interval = 0,
	.timeout = 900,
	.vars = remote_vars,
	.events = remote_events,
	.configure = remote_configure,
	.config_free = remote_config_free,
	.run_size = sizeof(struct remoterun),
	.start = remote_start,
	.cleanup = remote_cleanup,
	.after = "queue",
	.input = remote_input,
};
