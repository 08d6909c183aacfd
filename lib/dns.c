#include "dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dnsmsg.h"
#include "dnstag.h"
#include "metrics.h"
#include "resolv.h"
#include "spf.h"
#include "tlsa.h"

#define T_A 1
#define T_CNAME 5
#define T_PTR 12
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28

#define DNS_MAXSELF 16
#define DNS_MAXDKIM 32
#define DNS_HASH 16384
#define DNS_NAMEMAX 256
/* jobs evaluated in one pass of the event loop, at most this long (µs): a
 * thousand domains whose answers arrive together do not hold the loop */
#define DNS_SLICE_US 2000

/* every EVENT code of the check */
#define EV_MX "mx"
#define EV_MX_MISSING "mx-missing"
#define EV_NULL_MX "null-mx"
#define EV_MX_CNAME "mx-cname"
#define EV_MX_IP_LITERAL "mx-ip-literal"
#define EV_MX_UNRESOLVABLE "mx-unresolvable"
#define EV_TLSA "tlsa"
#define EV_TLSA_INSECURE "tlsa-insecure"
#define EV_TLSA_MALFORMED "tlsa-malformed"
#define EV_SPF_MISSING "spf-missing"
#define EV_SPF_MULTIPLE "spf-multiple"
#define EV_SPF_FAIL "spf-fail"
#define EV_SPF_LOOKUPS "spf-lookups"
#define EV_SPF_UNSUPPORTED "spf-unsupported"
#define EV_DMARC "dmarc"
#define EV_DMARC_MISSING "dmarc-missing"
#define EV_DMARC_MULTIPLE "dmarc-multiple"
#define EV_DMARC_SYNTAX "dmarc-syntax"
#define EV_DKIM_MISSING "dkim-missing"
#define EV_DKIM_REVOKED "dkim-revoked"
#define EV_DKIM_KEY_MISMATCH "dkim-key-mismatch"
#define EV_PTR_MISSING "ptr-missing"
#define EV_FCRDNS_MISMATCH "fcrdns-mismatch"
#define EV_HELO_MISMATCH "helo-mismatch"
#define EV_NO_SELFIPS "no-selfips"
#define EV_LOOKUP_FAILED "lookup-failed"
#define EV_CANNOT_RUN "cannot-run"
#define EV_CHECKED "checked"

static const char *const dns_events[] = {
	EV_MX, EV_MX_MISSING, EV_NULL_MX, EV_MX_CNAME, EV_MX_IP_LITERAL, EV_MX_UNRESOLVABLE,
	EV_TLSA, EV_TLSA_INSECURE, EV_TLSA_MALFORMED, EV_SPF_MISSING, EV_SPF_MULTIPLE,
	EV_SPF_FAIL, EV_SPF_LOOKUPS, EV_SPF_UNSUPPORTED, EV_DMARC, EV_DMARC_MISSING,
	EV_DMARC_MULTIPLE, EV_DMARC_SYNTAX, EV_DKIM_MISSING, EV_DKIM_REVOKED,
	EV_DKIM_KEY_MISMATCH, EV_PTR_MISSING, EV_FCRDNS_MISMATCH, EV_HELO_MISMATCH,
	EV_NO_SELFIPS, EV_LOOKUP_FAILED, EV_CANNOT_RUN, EV_CHECKED, NULL
};

static const struct confvar var_domains = { "MAINTD_DNS_DOMAINS", "" };
static const struct confvar var_selfips = { "MAINTD_DNS_SELFIPS", "" };
static const struct confvar var_dkim = { "MAINTD_DKIM", "" };
static const struct confvar var_timeout = { "MAINTD_DNS_TIMEOUT", "5000" };
static const struct confvar *const dns_vars[] = {
	&var_domains, &conf_dns_servers, &var_selfips, &var_dkim, &var_timeout, NULL
};

struct dns_ip {
	int family;		/* 4 or 6 */
	unsigned char a[16];
};

struct dns_dkim {
	char selector[64], domain[DNS_NAMEMAX];
	int haskey, ed25519;
	size_t spkilen, rawlen;
	unsigned char spki[DKIM_KEYMAX];	/* SubjectPublicKeyInfo (rsa) */
	unsigned char raw[DKIM_KEYMAX];		/* RSAPublicKey, or the raw ed25519 key */
};

struct dns_config {
	unsigned long timeout;
	char *domains;		/* MAINTD_DNS_DOMAINS; "": control/rcpthosts */
	char *servers;		/* MAINTD_DNS_SERVERS */
	struct dns_ip self[DNS_MAXSELF];
	unsigned nself;
	struct dns_dkim dkim[DNS_MAXDKIM];
	unsigned ndkim;
};

/* One name and type asked once per run; jobs wait on it. */
struct dns_entry {
	struct dns_entry *hnext;
	struct dns_run *run;
	char *name;
	int type;
	int done, cname, reported;
	enum resolv_status st;
	unsigned n;
	struct spf_rdata *rd;	/* A/AAAA bytes, MX/PTR names, TXT strings joined */
	unsigned *pref;		/* MX */
	struct tlsa_set *tlsa;
	unsigned nwait, wcap;
	struct dns_job **wait;
};

enum dns_jobkind { JOB_DOMAIN, JOB_SELF, JOB_DKIM };

/* A unit of checking, evaluated again (in the next slice) whenever an
 * answer it waits for arrives; once nothing is missing, a last pass emits
 * its findings. */
struct dns_job {
	struct dns_run *run;
	enum dns_jobkind kind;
	char domain[DNS_NAMEMAX];
	const struct dns_dkim *dkim;
	int done, emit, queued;
	unsigned missing;
	struct dns_job *rnext;	/* the ready queue */
};

/* the run state (run->state) */
struct dns_run {
	struct check_run *cr;
	const struct dns_config *cf;
	struct resolv *res;
	struct dns_entry **hash;
	struct dns_job *jobs;
	struct dns_job *rhead, **rtail;	/* ready to be evaluated, in order */
	unsigned njobs, left, ndomains;
	unsigned long queries, failed;
	int checked;		/* "checked" was emitted: the failures are counted */
	struct timespec t0;
	char me[DNS_NAMEMAX];
	int selfst;		/* 1 known, -1 unknown, 0 not yet */
	struct dns_ip self[DNS_MAXSELF];
	unsigned nself;
	struct dkim_key key;	/* dns_dkim's, 2 KB: not on the stack of a callback */
};

static const struct metric_family dns_metrics[] = {
	{ "qmail_dns_lookup_failures_total", METRIC_COUNTER, "DNS lookups that failed.",
	    { NULL, NULL }, "dns_lookup_failures", "c", PERF_FIRST, 0 },
	{ NULL }
};

static const char *
dns_type_name(int type)
{
	switch (type) {
	case T_A: return "A";
	case T_PTR: return "PTR";
	case T_MX: return "MX";
	case T_TXT: return "TXT";
	case T_AAAA: return "AAAA";
	case TLSA_TYPE: return "TLSA";
	default: return "?";
	}
}

static int
dns_temp(const struct dns_entry *e)
{
	return e->st != RESOLV_OK && e->st != RESOLV_NODATA && e->st != RESOLV_NXDOMAIN;
}

static void
dns_ip_str(const struct dns_ip *ip, char *buf, size_t size)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

static int
dns_ip_parse(const char *s, size_t len, struct dns_ip *ip)
{
	char buf[64];

	if (len && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->a) == 1)
		ip->family = 4;
	else if (inet_pton(AF_INET6, buf, ip->a) == 1)
		ip->family = 6;
	else
		return -1;
	return 0;
}

static void
dns_reverse(const struct dns_ip *ip, char *out, size_t size)
{
	size_t o = 0;
	int i;

	if (ip->family == 4) {
		snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", ip->a[3], ip->a[2], ip->a[1], ip->a[0]);
		return;
	}
	for (i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, size - o, "%x.%x.", ip->a[i] & 15, ip->a[i] >> 4);
	snprintf(out + o, size - o, "ip6.arpa");
}

/* configuration */

static int
dns_selfip_add(const char *item, size_t len, void *arg)
{
	struct dns_config *cf = arg;

	if (cf->nself == DNS_MAXSELF || dns_ip_parse(item, len, &cf->self[cf->nself]) < 0)
		return -1;
	cf->nself++;
	return 0;
}

/* The public half of a private key file, as DKIM publishes it. On failure
 * *why says what is wrong, or is NULL when errno does. */
static int
dns_dkim_keyfile(struct dns_dkim *d, const char *path, const char **why)
{
	EVP_PKEY *k;
	FILE *fp;
	unsigned char *p;
	int n;

	if (!(fp = fopen(path, "r")))
		return *why = NULL, -1;
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (!k)
		return *why = "not a PEM private key", -1;
	d->haskey = 1;
	d->ed25519 = EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519;
	if (d->ed25519) {
		d->rawlen = sizeof(d->raw);
		if (EVP_PKEY_get_raw_public_key(k, d->raw, &d->rawlen) != 1)
			d->haskey = 0;
	} else {
		n = i2d_PUBKEY(k, NULL);
		if (n <= 0 || (size_t)n > sizeof(d->spki))
			d->haskey = 0;
		else {
			p = d->spki;
			d->spkilen = (size_t)i2d_PUBKEY(k, &p);
		}
		n = i2d_PublicKey(k, NULL);
		if (n > 0 && (size_t)n <= sizeof(d->raw)) {
			p = d->raw;
			d->rawlen = (size_t)i2d_PublicKey(k, &p);
		}
	}
	EVP_PKEY_free(k);
	if (!d->haskey)
		return *why = "unusable key", -1;
	return 0;
}

struct dns_dkim_ctx {
	struct dns_config *cf;
	struct conf_err *err;
};

static int
dns_dkim_add(const char *item, size_t len, void *arg)
{
	struct dns_dkim_ctx *c = arg;
	struct dns_dkim *d;
	char buf[1024], *dom, *file;
	const char *why = "want selector:domain[:keyfile]";
	size_t i;

	if (len >= sizeof(buf) || c->cf->ndkim == DNS_MAXDKIM)
		goto bad;
	memcpy(buf, item, len);
	buf[len] = 0;
	if (!(dom = strchr(buf, ':')))
		goto bad;
	*dom++ = 0;
	if ((file = strchr(dom, ':')))
		*file++ = 0;
	d = &c->cf->dkim[c->cf->ndkim];
	memset(d, 0, sizeof(*d));
	if (!*buf || strlen(buf) >= sizeof(d->selector) || !*dom ||
	    strlen(dom) >= sizeof(d->domain) || (file && !*file))
		goto bad;
	memcpy(d->selector, buf, strlen(buf) + 1);
	for (i = 0; dom[i]; i++)
		d->domain[i] = (char)tolower((unsigned char)dom[i]);
	if (file && dns_dkim_keyfile(d, file, &why) < 0)
		goto bad;
	c->cf->ndkim++;
	return 0;
bad:
	if (!why)
		return conf_set_errno(c->err, var_dkim.name, conf_value(&var_dkim), errno);
	conf_set_err(c->err, var_dkim.name, conf_value(&var_dkim), why);
	return -1;
}

static void
dns_config_free(void *p)
{
	struct dns_config *cf = p;

	if (cf) {
		free(cf->domains);
		free(cf->servers);
		free(cf);
	}
}

static void *
dns_configure(const struct conf *conf, struct conf_err *err)
{
	struct dns_config *cf;
	struct dns_dkim_ctx dc = { NULL, err };
	const char *v;

	(void)conf;
	if (!(cf = calloc(1, sizeof(*cf))) ||
	    !(cf->domains = strdup(conf_value(&var_domains))) ||
	    !(cf->servers = strdup(conf_value(&conf_dns_servers)))) {
		conf_set_err(err, var_domains.name, "", "out-of-memory");
		goto bad;
	}
	dc.cf = cf;
	if (conf_ulong(&var_timeout, 100, 600000, &cf->timeout, err) < 0)
		goto bad;
	if (!resolv_servers_ok(cf->servers)) {
		conf_set_err(err, conf_dns_servers.name, cf->servers,
		    "want IP, IP:PORT or [IPv6]:PORT");
		goto bad;
	}
	v = conf_value(&var_selfips);
	if (conf_list(v, dns_selfip_add, cf) != 0) {
		conf_set_err(err, var_selfips.name, v, "want at most 16 IP addresses");
		goto bad;
	}
	if (conf_list(conf_value(&var_dkim), dns_dkim_add, &dc) != 0)
		goto bad;
	return cf;
bad:
	dns_config_free(cf);
	return NULL;
}

/* the answer cache */

static unsigned
dns_hash(const char *name, int type)
{
	unsigned h = 2166136261u ^ (unsigned)type;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h % DNS_HASH;
}

static void
dns_entry_free(struct dns_entry *e)
{
	unsigned i;

	for (i = 0; i < e->n; i++)
		free((void *)e->rd[i].p);
	free(e->rd);
	free(e->pref);
	free(e->tlsa);
	free(e->wait);
	free(e->name);
	free(e);
}

static int
dns_entry_item(struct dns_entry *e, const void *p, size_t len, unsigned pref)
{
	struct spf_rdata *rd;
	unsigned *pr;
	unsigned char *copy;

	if (!(rd = realloc(e->rd, (e->n + 1) * sizeof(*rd))))
		return -1;
	e->rd = rd;
	if (!(pr = realloc(e->pref, (e->n + 1) * sizeof(*pr))))
		return -1;
	e->pref = pr;
	if (!(copy = malloc(len + 1)))
		return -1;
	memcpy(copy, p, len);
	copy[len] = 0;
	rd[e->n].p = copy;
	rd[e->n].len = len;
	pr[e->n++] = pref;
	return 0;
}

/* The RRs of the asked type in the answer; notes a CNAME at the name itself. */
static int
dns_entry_fill(struct dns_entry *e, const unsigned char *abuf, size_t alen)
{
	unsigned char buf[4096];
	struct dnsmsg m;
	struct dnsrr rr;
	unsigned pref;
	size_t len;
	int r;

	if (e->type == TLSA_TYPE) {
		if (!(e->tlsa = malloc(sizeof(*e->tlsa))))
			return -1;
		return tlsa_parse(abuf, alen, e->tlsa);
	}
	if (dnsmsg_open(&m, abuf, alen) < 0)
		return -1;
	while ((r = dnsmsg_next(&m, &rr)) == 1) {
		if (rr.type == T_CNAME && strcmp(rr.name, e->name) == 0)
			e->cname = 1;
		if (rr.type != (unsigned)e->type || rr.class != 1)
			continue;
		if (dnsmsg_rdata(&m, &rr, buf, sizeof(buf), &len, &pref) < 0 ||
		    dns_entry_item(e, buf, len, pref) < 0)
			return -1;
	}
	return r;
}

static void dns_job_ready(struct dns_job *);

static void
dns_lookup_failed(struct dns_entry *e)
{
	struct finding f;

	e->run->failed++;
	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_LOOKUP_FAILED);
	finding_add(&f, "name", e->name);
	finding_add(&f, "type", dns_type_name(e->type));
	finding_subject(&f);
	finding_add(&f, "error", resolv_status_name(e->st));
	run_emit(e->run->cr, &f);
}

static void
dns_entry_done(struct dns_entry *e)
{
	struct dns_job **wait = e->wait;
	unsigned i, n = e->nwait;

	e->done = 1;
	if (dns_temp(e))
		dns_lookup_failed(e);
	e->wait = NULL;
	e->nwait = e->wcap = 0;
	for (i = 0; i < n; i++)
		dns_job_ready(wait[i]);
	free(wait);
}

static void
dns_on_answer(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct dns_entry *e = arg;

	(void)ad;
	e->st = st;
	/* NXDOMAIN and NODATA too: a dangling CNAME is still a CNAME */
	if (abuf && (st == RESOLV_OK || st == RESOLV_NODATA || st == RESOLV_NXDOMAIN)) {
		if (dns_entry_fill(e, abuf, alen) < 0)
			e->st = RESOLV_ERROR;
		else if (st == RESOLV_OK &&
		    (e->type == TLSA_TYPE ? !e->tlsa->n && !e->tlsa->malformed : !e->n))
			e->st = RESOLV_NODATA;	/* only RRs of other types or classes */
	}
	dns_entry_done(e);
}

static struct dns_entry *
dns_entry_get(struct dns_run *run, const char *name, int type)
{
	char low[DNS_NAMEMAX];
	struct dns_entry *e;
	size_t n, i;
	unsigned h;

	n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = 0;
	h = dns_hash(low, type);
	for (e = run->hash[h]; e; e = e->hnext)
		if (e->type == type && strcmp(e->name, low) == 0)
			return e;
	if (!(e = calloc(1, sizeof(*e))) || !(e->name = strdup(low))) {
		free(e);
		return NULL;
	}
	e->run = run;
	e->type = type;
	e->hnext = run->hash[h];
	run->hash[h] = e;
	run->queries++;
	if (!n || resolv_query(run->res, low, type, dns_on_answer, e) < 0) {
		e->st = RESOLV_ERROR;
		e->done = 1;
		dns_lookup_failed(e);
	}
	return e;
}

/* The answer if it is there; else asks for it and notes that j waits. */
static struct dns_entry *
dns_need(struct dns_job *j, const char *name, int type)
{
	struct dns_entry *e;
	struct dns_job **w;
	unsigned i;

	if (!(e = dns_entry_get(j->run, name, type)))
		return NULL;	/* out of memory: the run's time limit ends it */
	if (e->done)
		return e;
	j->missing++;
	for (i = 0; i < e->nwait; i++)
		if (e->wait[i] == j)
			return NULL;
	if (e->nwait == e->wcap) {
		if (!(w = realloc(e->wait, (e->wcap * 2 + 4) * sizeof(*w))))
			return NULL;
		e->wait = w;
		e->wcap = e->wcap * 2 + 4;
	}
	e->wait[e->nwait++] = j;
	return NULL;
}

static void
dns_emit(struct dns_job *j, struct finding *f)
{
	if (j->emit)
		run_emit(j->run->cr, f);
}

static int
dns_has_ip(const struct dns_entry *e, const struct dns_ip *ip)
{
	unsigned i;
	size_t len = ip->family == 4 ? 4 : 16;

	if (!e || e->st != RESOLV_OK)
		return 0;
	for (i = 0; i < e->n; i++)
		if (e->rd[i].len == len && memcmp(e->rd[i].p, ip->a, len) == 0)
			return 1;
	return 0;
}

/* this server's addresses: MAINTD_DNS_SELFIPS or control/me's */
static int
dns_selfips(struct dns_job *j)
{
	struct dns_run *run = j->run;
	struct dns_entry *a, *aaaa;
	unsigned i, k;

	if (run->selfst)
		return run->selfst;
	if (!run->me[0])
		return run->selfst = -1;
	a = dns_need(j, run->me, T_A);
	aaaa = dns_need(j, run->me, T_AAAA);
	if (!a || !aaaa)
		return 0;
	if (dns_temp(a) && dns_temp(aaaa))
		return run->selfst = -1;
	for (k = 0; k < 2; k++) {
		struct dns_entry *e = k ? aaaa : a;

		for (i = 0; e->st == RESOLV_OK && i < e->n && run->nself < DNS_MAXSELF; i++) {
			run->self[run->nself].family = k ? 6 : 4;
			memcpy(run->self[run->nself++].a, e->rd[i].p, e->rd[i].len);
		}
	}
	return run->selfst = 1;
}

/* MX and DANE */

static void
dns_hexfield(struct finding *f, const char *key, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char buf[129];
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < sizeof(buf); i++) {
		buf[2 * i] = hex[p[i] >> 4];
		buf[2 * i + 1] = hex[p[i] & 15];
	}
	finding_addn(f, key, buf, 2 * i);
}

static void
dns_tlsa_report(struct dns_job *j, const char *host, struct dns_entry *e)
{
	struct finding f;
	const struct tlsa_set *s = e->tlsa;
	unsigned i;

	if (!j->emit || e->reported || e->st != RESOLV_OK)
		return;
	e->reported = 1;
	for (i = 0; j->run->cr->verbose && i < s->n; i++) {
		finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, EV_TLSA);
		finding_add(&f, "mx", host);
		finding_addu(&f, "usage", s->rr[i].usage);
		finding_addu(&f, "selector", s->rr[i].selector);
		finding_addu(&f, "mtype", s->rr[i].mtype);
		finding_addu(&f, "ad", (unsigned)s->ad);
		finding_addu(&f, "len", s->rr[i].len);
		dns_hexfield(&f, "data", s->rr[i].data, s->rr[i].len < 64 ? s->rr[i].len : 64);
		run_emit(j->run->cr, &f);
	}
	if (s->malformed) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_TLSA_MALFORMED);
		finding_add(&f, "mx", host);
		finding_subject(&f);
		finding_addu(&f, "count", s->malformed);
		run_emit(j->run->cr, &f);
	}
	if (s->n && !s->ad) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_TLSA_INSECURE);
		finding_add(&f, "mx", host);
		finding_subject(&f);
		finding_addu(&f, "records", s->n);
		run_emit(j->run->cr, &f);
	}
}

static int
dns_is_literal(const char *host)
{
	struct dns_ip ip;

	return dns_ip_parse(host, strlen(host), &ip) == 0;
}

static void
dns_mx_detail(struct dns_job *j, unsigned pref, const char *host, const struct dns_entry *e)
{
	struct finding f;
	struct dns_ip ip;
	char buf[64];
	unsigned i;

	if (!j->emit || !j->run->cr->verbose)
		return;
	for (i = 0; e && e->st == RESOLV_OK && i < e->n; i++) {
		ip.family = e->type == T_A ? 4 : 6;
		memcpy(ip.a, e->rd[i].p, e->rd[i].len);
		dns_ip_str(&ip, buf, sizeof(buf));
		finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, EV_MX);
		finding_add(&f, "domain", j->domain);
		finding_addu(&f, "pref", pref);
		finding_add(&f, "mx", host);
		finding_add(&f, "ip", buf);
		run_emit(j->run->cr, &f);
	}
	if (!e) {
		finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, EV_MX);
		finding_add(&f, "domain", j->domain);
		finding_addu(&f, "pref", pref);
		finding_add(&f, "mx", host);
		run_emit(j->run->cr, &f);
	}
}

static void
dns_domain_finding(struct dns_job *j, enum level l, const char *event, const char *mx)
{
	struct finding f;

	finding_init(&f, l, FINDING_STATE, NULL, event);
	finding_add(&f, "domain", j->domain);
	if (mx)
		finding_add(&f, "mx", mx);
	finding_subject(&f);
	dns_emit(j, &f);
}

/* One MX host: 1 usable (or unknown), 0 no address. */
static int
dns_mx_host(struct dns_job *j, unsigned pref, const char *host, int *unresolvable)
{
	struct dns_entry *a, *aaaa, *t;
	char tname[DNS_NAMEMAX + 16];
	unsigned i;
	int self = 0;

	*unresolvable = 0;
	if (dns_is_literal(host)) {
		dns_domain_finding(j, LEVEL_WARN, EV_MX_IP_LITERAL, host);
		return 0;
	}
	a = dns_need(j, host, T_A);
	aaaa = dns_need(j, host, T_AAAA);
	if (!a || !aaaa)
		return 1;
	if (a->cname || aaaa->cname)
		dns_domain_finding(j, LEVEL_WARN, EV_MX_CNAME, host);
	if (a->st != RESOLV_OK && aaaa->st != RESOLV_OK) {
		dns_mx_detail(j, pref, host, NULL);
		if (dns_temp(a) || dns_temp(aaaa))
			return 1;
		*unresolvable = 1;
		return 0;
	}
	dns_mx_detail(j, pref, host, a);
	dns_mx_detail(j, pref, host, aaaa);
	if (dns_selfips(j) == 1)
		for (i = 0; i < j->run->nself && !self; i++)
			self = dns_has_ip(a, &j->run->self[i]) || dns_has_ip(aaaa, &j->run->self[i]);
	if (self) {
		snprintf(tname, sizeof(tname), "_25._tcp.%s", host);
		if ((t = dns_need(j, tname, TLSA_TYPE)))
			dns_tlsa_report(j, host, t);
	}
	return 1;
}

static void
dns_mx(struct dns_job *j)
{
	struct dns_entry *mx;
	unsigned i, usable = 0;
	int bad[64];

	if (!(mx = dns_need(j, j->domain, T_MX)) || dns_temp(mx))
		return;
	if (mx->st != RESOLV_OK) {
		dns_domain_finding(j, LEVEL_WARN, EV_MX_MISSING, NULL);
		return;
	}
	if (mx->n == 1 && mx->rd[0].len == 0) {
		dns_domain_finding(j, LEVEL_INFO, EV_NULL_MX, NULL);
		return;
	}
	for (i = 0; i < mx->n && i < 64; i++) {
		bad[i] = 0;
		if (mx->rd[i].len)	/* a null MX among others: RFC 7505 says ignore */
			usable += dns_mx_host(j, mx->pref[i], (const char *)mx->rd[i].p, &bad[i]);
	}
	for (i = 0; i < mx->n && i < 64; i++)
		if (bad[i])
			dns_domain_finding(j, usable ? LEVEL_WARN : LEVEL_CRIT, EV_MX_UNRESOLVABLE,
			    (const char *)mx->rd[i].p);
}

/* SPF */

static void
dns_spf_lookup(void *arg, const char *name, int type, struct spf_answer *ans)
{
	struct dns_entry *e = dns_need(arg, name, type);

	ans->n = 0;
	ans->rd = NULL;
	if (!e)
		ans->st = SPF_DNS_PENDING;
	else if (dns_temp(e))
		ans->st = SPF_DNS_TEMP;
	else if (e->st != RESOLV_OK)
		ans->st = SPF_DNS_VOID;
	else {
		ans->st = SPF_DNS_FOUND;
		ans->n = e->n;
		ans->rd = e->rd;
	}
}

static void
dns_spf_eval(struct dns_job *j)
{
	struct dns_run *run = j->run;
	struct spf_ctx c;
	struct finding f;
	enum spf_result r;
	char ip[64];
	unsigned i;
	int n, unsupported = 0;

	memset(&c, 0, sizeof(c));
	c.local = "postmaster";
	c.sender = j->domain;
	c.helo = run->me[0] ? run->me : j->domain;
	c.lookup = dns_spf_lookup;
	c.arg = j;
	for (i = 0; i < run->nself; i++) {
		c.family = run->self[i].family;
		memcpy(c.ip, run->self[i].a, 16);
		r = spf_check_host(&c, j->domain);
		if (r == SPF_PENDING || r == SPF_PASS || r == SPF_NONE || r == SPF_TEMPERROR)
			continue;
		if (r == SPF_UNSUPPORTED) {
			unsupported = 1;
			continue;
		}
		dns_ip_str(&run->self[i], ip, sizeof(ip));
		finding_init(&f, r == SPF_FAIL || r == SPF_PERMERROR ? LEVEL_CRIT : LEVEL_WARN,
		    FINDING_STATE, NULL, EV_SPF_FAIL);
		finding_add(&f, "domain", j->domain);
		finding_add(&f, "ip", ip);
		finding_subject(&f);
		finding_add(&f, "result", spf_result_name(r));
		if (r == SPF_PERMERROR)
			finding_add(&f, "reason", c.why);
		dns_emit(j, &f);
	}
	if (unsupported)
		dns_domain_finding(j, LEVEL_WARN, EV_SPF_UNSUPPORTED, NULL);
	if ((n = spf_count_lookups(&c, j->domain)) > SPF_MAXLOOKUPS) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_SPF_LOOKUPS);
		finding_add(&f, "domain", j->domain);
		finding_subject(&f);
		finding_addu(&f, "count", (unsigned)n);
		finding_addu(&f, "limit", SPF_MAXLOOKUPS);
		dns_emit(j, &f);
	}
}

static void
dns_spf(struct dns_job *j)
{
	struct dns_entry *txt;
	struct finding f;
	unsigned i, n = 0;

	if (!(txt = dns_need(j, j->domain, T_TXT)) || dns_temp(txt))
		return;
	for (i = 0; txt->st == RESOLV_OK && i < txt->n; i++)
		n += spf_is_record((const char *)txt->rd[i].p, txt->rd[i].len);
	if (n == 0) {
		dns_domain_finding(j, LEVEL_WARN, EV_SPF_MISSING, NULL);
		return;
	}
	if (n > 1) {
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_SPF_MULTIPLE);
		finding_add(&f, "domain", j->domain);
		finding_subject(&f);
		finding_addu(&f, "count", n);
		dns_emit(j, &f);
		return;
	}
	if (dns_selfips(j) == 1)
		dns_spf_eval(j);
}

/* DMARC and DKIM */

/* _dmarc.D, else the nearest parent's record, whose sp= applies (the tree
 * walk of DMARCbis: RFC 7489's organisational domain needs the Public
 * Suffix List). Top-level domains are not asked. */
static void
dns_dmarc(struct dns_job *j)
{
	char name[DNS_NAMEMAX + 16];
	const char *at, *next, *policy, *subpolicy, *why;
	struct dns_entry *e;
	struct finding f;
	unsigned i, n, which = 0;

	for (at = j->domain;; at = next + 1) {
		snprintf(name, sizeof(name), "_dmarc.%s", at);
		if (!(e = dns_need(j, name, T_TXT)) || dns_temp(e))
			return;
		for (i = n = 0; e->st == RESOLV_OK && i < e->n; i++)
			if (dmarc_is_record((const char *)e->rd[i].p, e->rd[i].len)) {
				n++;
				which = i;
			}
		if (n || !(next = strchr(at, '.')) || !strchr(next + 1, '.'))
			break;
	}
	if (n == 1 && dmarc_parse((const char *)e->rd[which].p, e->rd[which].len, &policy,
	    &subpolicy, &why) == 0) {
		finding_init(&f, LEVEL_INFO, FINDING_STATE, NULL, EV_DMARC);
		finding_add(&f, "domain", j->domain);
		finding_add(&f, "policy", at == j->domain ? policy : subpolicy);
		finding_subject(&f);
	} else {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL,
		    n == 0 ? EV_DMARC_MISSING : n > 1 ? EV_DMARC_MULTIPLE : EV_DMARC_SYNTAX);
		finding_add(&f, "domain", j->domain);
		finding_subject(&f);
		if (n > 1)
			finding_addu(&f, "count", n);
		else if (n == 1)
			finding_add(&f, "reason", why);
	}
	if (n && at != j->domain)
		finding_add(&f, "from", at);
	dns_emit(j, &f);
}

static void
dns_dkim_finding(struct dns_job *j, enum level l, const char *event, const char *reason)
{
	struct finding f;

	finding_init(&f, l, FINDING_STATE, NULL, event);
	finding_add(&f, "selector", j->dkim->selector);
	finding_add(&f, "domain", j->dkim->domain);
	finding_subject(&f);
	if (reason)
		finding_add(&f, "reason", reason);
	dns_emit(j, &f);
}

static int
dns_dkim_matches(const struct dns_dkim *d, const struct dkim_key *k)
{
	if (d->ed25519 != k->ed25519)
		return 0;
	if (k->len == d->spkilen && d->spkilen && memcmp(k->key, d->spki, k->len) == 0)
		return 1;
	return k->len == d->rawlen && memcmp(k->key, d->raw, k->len) == 0;
}

static void
dns_dkim(struct dns_job *j)
{
	struct dkim_key *k = &j->run->key;
	char name[DNS_NAMEMAX + 96];
	const char *why = "no-record";
	struct dns_entry *e;
	unsigned i;
	int found = 0;

	snprintf(name, sizeof(name), "%s._domainkey.%s", j->dkim->selector, j->dkim->domain);
	if (!(e = dns_need(j, name, T_TXT)) || dns_temp(e))
		return;
	if (e->st != RESOLV_OK)
		why = resolv_status_name(e->st);
	for (i = 0; e->st == RESOLV_OK && i < e->n && !found; i++)
		if (dkim_is_record((const char *)e->rd[i].p, e->rd[i].len))
			found = dkim_parse((const char *)e->rd[i].p, e->rd[i].len, k, &why) == 0;
	if (!found)
		dns_dkim_finding(j, LEVEL_WARN, EV_DKIM_MISSING, why);
	else if (!k->len)
		dns_dkim_finding(j, LEVEL_WARN, EV_DKIM_REVOKED, NULL);
	else if (j->dkim->haskey && !dns_dkim_matches(j->dkim, k))
		dns_dkim_finding(j, LEVEL_CRIT, EV_DKIM_KEY_MISMATCH, NULL);
}

/* reverse DNS of this server */

static void
dns_ip_finding(struct dns_job *j, const char *event, const struct dns_ip *ip,
    const char *k, const char *v)
{
	struct finding f;
	char buf[64];

	dns_ip_str(ip, buf, sizeof(buf));
	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, event);
	finding_add(&f, "ip", buf);
	finding_subject(&f);
	if (k)
		finding_add(&f, k, v);
	dns_emit(j, &f);
}

static void
dns_self_ip(struct dns_job *j, const struct dns_ip *ip)
{
	struct dns_entry *ptr, *a, *me;
	char rev[80];
	unsigned i, confirmed = 0, unknown = 0;
	int type = ip->family == 4 ? T_A : T_AAAA;

	dns_reverse(ip, rev, sizeof(rev));
	if ((ptr = dns_need(j, rev, T_PTR)) && !dns_temp(ptr)) {
		if (ptr->st != RESOLV_OK)
			dns_ip_finding(j, EV_PTR_MISSING, ip, NULL, NULL);
		else {
			for (i = 0; i < ptr->n && i < 10; i++) {
				if (!ptr->rd[i].len || !(a = dns_need(j, (const char *)ptr->rd[i].p, type)))
					unknown++;
				else if (dns_temp(a))
					unknown++;
				else
					confirmed += dns_has_ip(a, ip);
			}
			if (!confirmed && !unknown)
				dns_ip_finding(j, EV_FCRDNS_MISMATCH, ip, "ptr",
				    (const char *)ptr->rd[0].p);
		}
	}
	if (j->run->me[0] && (me = dns_need(j, j->run->me, type)) && !dns_temp(me) &&
	    !dns_has_ip(me, ip))
		dns_ip_finding(j, EV_HELO_MISMATCH, ip, "helo", j->run->me);
}

static void
dns_self(struct dns_job *j)
{
	struct finding f;
	unsigned i;

	if (dns_selfips(j) != 1)
		return;
	if (!j->run->nself) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_NO_SELFIPS);
		finding_add(&f, "me", j->run->me);
		finding_subject(&f);
		dns_emit(j, &f);
	}
	for (i = 0; i < j->run->nself; i++)
		dns_self_ip(j, &j->run->self[i]);
}

/* the run */

static void
dns_job_eval(struct dns_job *j)
{
	switch (j->kind) {
	case JOB_DOMAIN:
		dns_mx(j);
		dns_spf(j);
		dns_dmarc(j);
		break;
	case JOB_SELF:
		dns_self(j);
		break;
	case JOB_DKIM:
		dns_dkim(j);
		break;
	}
}

static void
dns_job_run(struct dns_job *j)
{
	j->missing = 0;
	j->emit = 0;
	dns_job_eval(j);
	if (j->missing)
		return;
	j->emit = 1;
	dns_job_eval(j);
	j->done = 1;
	j->run->left--;
}

static void dns_slice(struct check_run *);

/* j is evaluated again in the next slice; never from inside c-ares. */
static void
dns_job_ready(struct dns_job *j)
{
	struct dns_run *run = j->run;

	if (j->done || j->queued)
		return;
	j->queued = 1;
	j->rnext = NULL;
	*run->rtail = j;
	run->rtail = &j->rnext;
	if (run->rhead == j)	/* the queue was empty: no slice is pending */
		run_yield(run->cr, dns_slice);
}

static void
dns_finish(struct dns_run *run)
{
	struct check_run *cr = run->cr;
	struct timespec t;
	struct finding f;
	/* a failed lookup hid whatever depended on it: that is no reason to clear it */
	int failed = run->failed > 0;

	clock_gettime(CLOCK_MONOTONIC, &t);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_CHECKED);
	finding_addu(&f, "domains", run->ndomains);
	finding_addu(&f, "queries", run->queries);
	finding_addu(&f, "failed", run->failed);
	finding_addu(&f, "ms", (unsigned long long)((t.tv_sec - run->t0.tv_sec) * 1000 +
	    (t.tv_nsec - run->t0.tv_nsec) / 1000000));
	run_emit(cr, &f);
	run->checked = 1;
	run_done(cr, failed ? CHECK_FAILED : CHECK_OK);
}

/* Evaluates ready jobs for at most DNS_SLICE_US, then gives the loop back. */
static void
dns_slice(struct check_run *cr)
{
	struct dns_run *run = cr->state;
	struct timespec t0, t;
	struct dns_job *j;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((j = run->rhead)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000 + (t.tv_nsec - t0.tv_nsec) / 1000 > DNS_SLICE_US) {
			run_yield(cr, dns_slice);
			return;
		}
		if (!(run->rhead = j->rnext))
			run->rtail = &run->rhead;
		j->queued = 0;
		dns_job_run(j);
	}
	if (!run->left)
		dns_finish(run);
}

static void
dns_cleanup(struct check_run *cr)
{
	struct dns_run *run = cr->state;
	struct dns_entry *e;
	unsigned i;

	resolv_free(run->res);
	run->res = NULL;
	for (i = 0; run->hash && i < DNS_HASH; i++)
		while ((e = run->hash[i])) {
			run->hash[i] = e->hnext;
			dns_entry_free(e);
		}
	free(run->hash);
	run->hash = NULL;
	free(run->jobs);
	run->jobs = NULL;
}

static void
dns_samples(const struct check_run *cr, struct metrics *m)
{
	const struct dns_run *run = cr->state;

	if (run->checked)
		metrics_add(m, &dns_metrics[0], NULL, NULL, (double)run->failed);
}

struct dns_domains {
	struct dns_run *run;
	unsigned cap;
};

static int
dns_add_domain(const char *item, size_t len, void *arg)
{
	struct dns_domains *d = arg;
	struct dns_run *run = d->run;
	struct dns_job *j, *jobs;
	size_t i;

	if (!len || item[0] == '.' || len >= DNS_NAMEMAX)
		return 0;	/* rcpthosts' ".domain" wildcards name no host */
	if (run->njobs == d->cap) {
		if (!(jobs = realloc(run->jobs, (d->cap * 2 + 16) * sizeof(*jobs))))
			return -1;
		run->jobs = jobs;
		d->cap = d->cap * 2 + 16;
	}
	j = &run->jobs[run->njobs++];
	memset(j, 0, sizeof(*j));
	j->kind = JOB_DOMAIN;
	for (i = 0; i < len; i++)
		j->domain[i] = (char)tolower((unsigned char)item[i]);
	if (i && j->domain[i - 1] == '.')
		i--;
	j->domain[i] = 0;
	run->ndomains++;
	return 0;
}

static int
dns_add_jobs(struct dns_run *run)
{
	struct dns_domains d = { run, 0 };
	struct dns_job *jobs;
	const char *v = run->cf->domains;
	unsigned i;

	if (*v ? conf_list(v, dns_add_domain, &d) != 0 :
	    control_read_lines(run->cr->conf, "rcpthosts", dns_add_domain, &d) < 0)
		return -1;
	if (!(jobs = realloc(run->jobs, (run->njobs + 1 + run->cf->ndkim) * sizeof(*jobs))))
		return -1;
	run->jobs = jobs;
	memset(&jobs[run->njobs], 0, sizeof(*jobs));
	jobs[run->njobs++].kind = JOB_SELF;
	for (i = 0; i < run->cf->ndkim; i++) {
		memset(&jobs[run->njobs], 0, sizeof(*jobs));
		jobs[run->njobs].kind = JOB_DKIM;
		jobs[run->njobs++].dkim = &run->cf->dkim[i];
	}
	for (i = 0; i < run->njobs; i++)
		jobs[i].run = run;
	return 0;
}

static void
dns_cannot_run(struct check_run *cr, const char *what, int errnum, const char *reason)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, EV_CANNOT_RUN);
	finding_add(&f, "what", what);
	if (errnum)
		finding_error(&f, errnum);
	else
		finding_add(&f, "reason", reason);
	run_emit(cr, &f);
	run_done(cr, CHECK_FAILED);
}

/* Every job is queued; the first slice runs from the event loop (the
 * yield asked for here, so that a timer that cannot be made fails now). */
static void
dns_start(struct check_run *cr)
{
	struct dns_run *run = cr->state;
	char err[256] = "out of memory";
	unsigned i;

	run->cr = cr;
	run->cf = cr->config;
	run->rtail = &run->rhead;
	errno = ENOMEM;
	if (!(run->hash = calloc(DNS_HASH, sizeof(*run->hash))) || run_yield(cr, dns_slice) < 0 ||
	    !(run->res = resolv_new(cr->base, run->cf->servers, (unsigned)run->cf->timeout,
	    err, sizeof(err)))) {
		dns_cannot_run(cr, "resolver", errno, err);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &run->t0);
	snprintf(run->me, sizeof(run->me), "%s", cr->conf->me);
	if (run->cf->nself) {
		memcpy(run->self, run->cf->self, sizeof(run->self));
		run->nself = run->cf->nself;
		run->selfst = 1;
	}
	if (dns_add_jobs(run) < 0) {
		dns_cannot_run(cr, "rcpthosts", errno ? errno : EIO, NULL);
		return;
	}
	run->left = run->njobs;
	for (i = 0; i < run->njobs; i++)
		dns_job_ready(&run->jobs[i]);
}

const struct check check_dns = {
	.name = "dns",
	.interval = 0,
	.timeout = 300,
	.vars = dns_vars,
	.events = dns_events,
	.configure = dns_configure,
	.config_free = dns_config_free,
	.run_size = sizeof(struct dns_run),
	.start = dns_start,
	.cleanup = dns_cleanup,
	.metrics = dns_metrics,
	.samples = dns_samples,
};
