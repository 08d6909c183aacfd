#include "dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "checkstate.h"
#include "dnsmsg.h"
#include "dnstag.h"
#include "metrics.h"
#include "resolv.h"
#include "safefile.h"
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
/* a default name whose lookups fail this many sweeps in a row is
 * domain-unresolvable; before that its failures are tolerated */
#define DNS_FAIL_SWEEPS 3
/* findings kept per process to stand for a default name whose lookups
 * failed this sweep (so that they are not cleared), in all at most */
#define DNS_SAVED_MAX (1024 * 1024)
#define DNS_STATEFILE "dns.failures"
#define DNS_STATEMAX 65536	/* bytes of it read */

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
#define EV_IMPLICIT_MX "implicit-mx"
#define EV_DOMAIN_UNRESOLVABLE "domain-unresolvable"
#define EV_DOMAIN_FAILURES "domain-failures"
#define EV_UNREADABLE "unreadable"

static const char *const dns_events[] = {
	EV_MX, EV_MX_MISSING, EV_NULL_MX, EV_MX_CNAME, EV_MX_IP_LITERAL, EV_MX_UNRESOLVABLE,
	EV_TLSA, EV_TLSA_INSECURE, EV_TLSA_MALFORMED, EV_SPF_MISSING, EV_SPF_MULTIPLE,
	EV_SPF_FAIL, EV_SPF_LOOKUPS, EV_SPF_UNSUPPORTED, EV_DMARC, EV_DMARC_MISSING,
	EV_DMARC_MULTIPLE, EV_DMARC_SYNTAX, EV_DKIM_MISSING, EV_DKIM_REVOKED,
	EV_DKIM_KEY_MISMATCH, EV_PTR_MISSING, EV_FCRDNS_MISMATCH, EV_HELO_MISMATCH,
	EV_NO_SELFIPS, EV_LOOKUP_FAILED, EV_CANNOT_RUN, EV_CHECKED, EV_IMPLICIT_MX,
	EV_DOMAIN_UNRESOLVABLE, EV_DOMAIN_FAILURES, EV_UNREADABLE, NULL
};

static const struct confvar var_domains = { "MAINTD_DNS_DOMAINS", "" };
static const struct confvar var_selfips = { "MAINTD_DNS_SELFIPS", "" };
static const struct confvar var_dkim = { "MAINTD_DKIM", "" };
static const struct confvar var_timeout = { "MAINTD_DNS_TIMEOUT", "5000" };
static const struct confvar var_skip = { "MAINTD_DNS_SKIP", "" };
static const struct confvar *const dns_vars[] = {
	&var_domains, &conf_dns_servers, &var_selfips, &var_dkim, &var_timeout, &var_skip, NULL
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

/* A finding kept: its header and the bytes of buf it uses. */
struct dns_held {
	struct dns_held *next;
	size_t size;
	struct finding f;	/* cut after f.buf[f.used] */
};

/* What the check remembers from one run to the next. It lives in the config
 * value (each process its own copy) and changes with each run: per slot (a
 * default domain, or control/me), the sweeps in a row its lookups failed,
 * and per lenient job the findings of its last complete evaluation. The
 * counts are also in MAINTD_STATE/dns.failures, which the root process
 * keeps (dns_failures_update), read by configure. */
struct dns_memory {
	unsigned *fails;		/* per slot */
	struct dns_held **saved;	/* per lenient job: domains, then self */
	unsigned char *known;		/* per lenient job: saved is its last word */
	size_t savedbytes;
	int dirty;			/* fails changed since the file was written */
};

struct dns_domain {
	char name[DNS_NAMEMAX];
	int explicit;		/* from MAINTD_DNS_DOMAINS: required in full */
};

struct dns_config {
	unsigned long timeout;
	struct resolv_chan *chan;	/* made here: a run reads no file */
	char *servers;		/* MAINTD_DNS_SERVERS */
	struct dns_domain *domain;	/* MAINTD_DNS_DOMAINS, else control/rcpthosts */
	unsigned ndomains;
	int rcpthosts_err;	/* errno: control/rcpthosts could not be read */
	unsigned meslot;	/* control/me's slot: its domain's, or ndomains */
	char me[DNS_NAMEMAX];
	struct dns_ip self[DNS_MAXSELF];
	unsigned nself;
	struct dns_dkim dkim[DNS_MAXDKIM];
	unsigned ndkim;
	char state[PATH_MAX];	/* MAINTD_STATE ("": none) */
	struct dns_memory mem;	/* nslots = ndomains + 1 */
};

/* One name and type asked once per run; jobs wait on it. */
struct dns_entry {
	struct dns_entry *hnext;
	struct dns_entry *lnext;	/* all of them, in the order asked */
	struct dns_run *run;
	char *name;
	int type;
	int done, cname, reported;
	int said;		/* its lookup-failed was emitted */
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
	/* a default name (or control/me's lookups): its lookup failures are
	 * tolerated for DNS_FAIL_SWEEPS sweeps and its findings held until the
	 * job ends; explicit ones fail the run */
	int lenient;
	int isme;		/* the domain is control/me */
	unsigned slot;		/* its failure count: the name's, or control/me's */
	unsigned saveidx;	/* its findings kept: domains, then self */
	int noblame;		/* asking for control/me's addresses: not this job's */
	enum resolv_status failst;	/* its first failed lookup (lenient) */
	int failed;
	struct dns_held *held, **heldtail;
	struct dns_job *fnext;	/* failed lenient jobs, decided at the end */
};

/* the run state (run->state) */
struct dns_run {
	struct check_run *cr;
	const struct dns_config *cf;
	struct resolv *res;
	struct dns_entry **hash;
	struct dns_job *jobs;
	struct dns_job *rhead, **rtail;	/* ready to be evaluated, in order */
	struct dns_job *fhead, **ftail;	/* failed lenient jobs */
	struct dns_entry *lhead, **ltail;	/* every entry, in order */
	unsigned njobs, left, ndomains;
	unsigned long queries, failed, answered;
	int incomplete;		/* a lookup of an explicit name failed */
	int checked;		/* "checked" was emitted: the failures are counted */
	unsigned char *slotok, *slotfail;	/* per slot, this run */
	enum resolv_status *slotst;
	struct dns_memory *mem;	/* the config value's: this process's memory */
	struct timespec t0;
	char me[DNS_NAMEMAX];
	int selfst;		/* 1 known, -1 unknown, 0 not yet */
	struct dns_ip self[DNS_MAXSELF];
	unsigned nself;
	struct dkim_key key;	/* dns_dkim's, 2 KB: not on the stack of a callback */
};

static const struct metric_family dns_metrics[] = {
	/* perfdata without "c": in a -1 run (the only -N) it is that run's count */
	{ "qmail_dns_lookup_failures_total", METRIC_COUNTER, "DNS lookups that failed.",
	    { NULL, NULL }, "dns_lookup_failures", "", PERF_FIRST, 0 },
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
	if (!*buf || strlen(buf) >= sizeof(d->selector) || !dnsmsg_name_ok(buf, strlen(buf)) ||
	    !dnsmsg_name_ok(dom, strlen(dom)) || (file && !*file))
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

/* The default domain list: a reason to leave a control/rcpthosts line out,
 * or NULL to check it. */
const char *
dns_default_skip(const char *name, size_t len)
{
	struct dns_ip ip;

	if (len && name[0] == '.')
		return "wildcard";	/* rcpthosts' ".domain" names no host */
	if (len && name[len - 1] == '.')
		len--;
	if (!len)
		return "bad-name";
	if (name[0] == '[' || dns_ip_parse(name, len, &ip) == 0)
		return "ip-literal";
	if ((len == 9 && strncasecmp(name, "localhost", 9) == 0) ||
	    (len > 10 && strncasecmp(name + len - 10, ".localhost", 10) == 0))
		return "localhost";
	if (!memchr(name, '.', len))
		return "dotless";
	if (!dnsmsg_name_ok(name, len))
		return "bad-name";
	return NULL;
}

/* name (len bytes) lower case, without a trailing dot, into out[DNS_NAMEMAX] */
static void
dns_lower(char *out, const char *in, size_t len)
{
	size_t i;

	if (len && in[len - 1] == '.')
		len--;
	if (len >= DNS_NAMEMAX)
		len = DNS_NAMEMAX - 1;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = 0;
}

/* One item of MAINTD_DNS_SKIP against the name in arg: "name" leaves that
 * name out, ".name" every name below it. 1 on a match. */
static int
dns_skip_match(const char *item, size_t len, void *arg)
{
	const char *name = arg;
	size_t n = strlen(name);

	if (len && item[len - 1] == '.')
		len--;
	if (len > 1 && item[0] == '.')
		return n >= len && strncasecmp(name + n - len, item, len) == 0;
	return n == len && strncasecmp(name, item, len) == 0;
}

static int
dns_skip_ok(const char *item, size_t len, void *arg)
{
	(void)arg;
	if (len > 1 && item[0] == '.') {
		item++;
		len--;
	}
	return dnsmsg_name_ok(item, len) ? 0 : -1;
}

/* the slots by name: open addressing over the domains, built at configure */
static unsigned
dns_name_hash(const char *name)
{
	unsigned h = 2166136261u;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h;
}

struct dns_build {
	struct dns_config *cf;
	struct conf_err *err;
	const char *skip;	/* MAINTD_DNS_SKIP */
	int explicit;
	int nomem;
	unsigned cap;
	unsigned *index;	/* slot + 1 per bucket; 0 empty */
	unsigned nindex;	/* a power of 2 */
};

static int
dns_index_grow(struct dns_build *b)
{
	unsigned *ix, n = b->nindex ? b->nindex * 2 : 64, i, h;

	if (!(ix = calloc(n, sizeof(*ix))))
		return -1;
	for (i = 0; i < b->cf->ndomains; i++) {
		for (h = dns_name_hash(b->cf->domain[i].name) & (n - 1); ix[h]; h = (h + 1) & (n - 1))
			;
		ix[h] = i + 1;
	}
	free(b->index);
	b->index = ix;
	b->nindex = n;
	return 0;
}

/* The slot of name (lower case), or -1. */
static int
dns_index_find(const struct dns_build *b, const char *name)
{
	unsigned h;

	if (!b->nindex)
		return -1;
	for (h = dns_name_hash(name) & (b->nindex - 1); b->index[h]; h = (h + 1) & (b->nindex - 1))
		if (strcmp(b->cf->domain[b->index[h] - 1].name, name) == 0)
			return (int)b->index[h] - 1;
	return -1;
}

static int
dns_add_domain(const char *item, size_t len, void *arg)
{
	struct dns_build *b = arg;
	struct dns_config *cf = b->cf;
	struct dns_domain *d;
	char name[DNS_NAMEMAX], value[256];
	unsigned h;

	if (b->explicit) {
		if (!dnsmsg_name_ok(item, len)) {
			snprintf(value, sizeof(value), "%.*s", (int)len, item);
			return conf_set_err(b->err, var_domains.name, value,
			    len - (item[len - 1] == '.') > 253 ? "too-long" : "bad-name");
		}
	} else if (dns_default_skip(item, len))
		return 0;
	dns_lower(name, item, len);
	if (conf_list(b->skip, dns_skip_match, name) == 1 || dns_index_find(b, name) >= 0)
		return 0;
	if (cf->ndomains == b->cap) {
		if (!(d = realloc(cf->domain, (b->cap * 2 + 16) * sizeof(*d))))
			goto nomem;
		cf->domain = d;
		b->cap = b->cap * 2 + 16;
	}
	if ((cf->ndomains + 1) * 2 > b->nindex && dns_index_grow(b) < 0)
		goto nomem;
	d = &cf->domain[cf->ndomains];
	memcpy(d->name, name, strlen(name) + 1);
	d->explicit = b->explicit;
	for (h = dns_name_hash(name) & (b->nindex - 1); b->index[h]; h = (h + 1) & (b->nindex - 1))
		;
	b->index[h] = ++cf->ndomains;
	return 0;
nomem:
	b->nomem = 1;
	return conf_set_errno(b->err, var_domains.name, "", ENOMEM);
}

/* The slot whose failures a name's memory line counts: a default domain's,
 * or control/me's. -1: none (an explicit domain, or not configured). */
static int
dns_memory_slot(const struct dns_config *cf, const struct dns_build *b, const char *name)
{
	int i;

	if (cf->me[0] && strcmp(name, cf->me) == 0)
		return (int)cf->meslot;
	if ((i = dns_index_find(b, name)) < 0 || cf->domain[i].explicit)
		return -1;
	return i;
}

/* The state file: "COUNT NAME" lines. A pure parser: fn gets each valid
 * line (name lower case, count 1 to 1000000); others are skipped. */
struct dns_failures_ctx {
	int (*fn)(const char *name, unsigned long count, void *arg);
	void *arg;
};

static int
dns_failures_line(const char *line, size_t len, void *arg)
{
	struct dns_failures_ctx *c = arg;
	char name[DNS_NAMEMAX];
	unsigned long n = 0;
	size_t i = 0;

	while (i < len && i < 8 && line[i] >= '0' && line[i] <= '9')
		n = n * 10 + (unsigned long)(line[i++] - '0');
	if (i == 0 || i == len || line[i] != ' ' || n == 0 || n > 1000000)
		return 0;
	i++;
	if (!dnsmsg_name_ok(line + i, len - i))
		return 0;
	dns_lower(name, line + i, len - i);
	return c->fn(name, n, c->arg);
}

int
dns_failures_parse(const char *buf, size_t len,
    int (*fn)(const char *name, unsigned long count, void *arg), void *arg)
{
	struct dns_failures_ctx c = { fn, arg };

	return control_lines(buf, len, dns_failures_line, &c);
}

struct dns_load {
	struct dns_config *cf;
	const struct dns_build *b;
};

static int
dns_load_line(const char *name, unsigned long count, void *arg)
{
	struct dns_load *l = arg;
	int slot = dns_memory_slot(l->cf, l->b, name);

	if (slot >= 0)
		l->cf->mem.fails[slot] = (unsigned)count;
	return 0;
}

/* "COUNT NAME\n" for every slot with failures: 0 and its length, or -1
 * (ENOMEM: nothing, not a part, is to be saved). */
static int
dns_failures_text(const struct dns_config *cf, char **out, size_t *len)
{
	size_t o = 0, cap = 0;
	const char *name;
	char *t;
	unsigned i;
	int n;

	*out = NULL;
	for (i = 0; i <= cf->ndomains; i++) {
		if (!cf->mem.fails[i])
			continue;
		name = i == cf->meslot ? cf->me : cf->domain[i].name;
		if (o + DNS_NAMEMAX + 16 > cap) {
			if (!(t = realloc(*out, cap * 2 + 4096))) {
				free(*out);
				*out = NULL;
				return -1;
			}
			*out = t;
			cap = cap * 2 + 4096;
		}
		n = snprintf(*out + o, cap - o, "%u %s\n", cf->mem.fails[i], name);
		o += (size_t)n;
	}
	*len = o;
	return 0;
}

/* The failure counts into MAINTD_STATE: 0, or -1 (still dirty: the next
 * memo tries again). */
static int
dns_failures_save(struct dns_config *cf, int dirfd)
{
	char *text;
	size_t len;
	int r;

	if (dns_failures_text(cf, &text, &len) < 0)
		return -1;
	r = safe_replace(dirfd, DNS_STATEFILE, text ? text : "", len, 0600);

	free(text);
	if (r == 0)
		cf->mem.dirty = 0;
	return r;
}

static void
dns_held_free(struct dns_held *h)
{
	struct dns_held *next;

	for (; h; h = next) {
		next = h->next;
		free(h);
	}
}

static void
dns_config_free(void *p)
{
	struct dns_config *cf = p;
	unsigned i;

	if (!cf)
		return;
	resolv_chan_free(cf->chan);
	for (i = 0; cf->mem.saved && i <= cf->ndomains; i++)
		dns_held_free(cf->mem.saved[i]);
	free(cf->mem.saved);
	free(cf->mem.known);
	free(cf->mem.fails);
	free(cf->domain);
	free(cf->servers);
	free(cf);
}

static void *
dns_configure(const struct conf *conf, struct conf_err *err)
{
	struct dns_config *cf;
	struct dns_dkim_ctx dc = { NULL, err };
	struct dns_build b;
	struct dns_load l;
	char cerr[256], *text;
	const char *v;
	size_t len;
	int i;

	memset(&b, 0, sizeof(b));
	if (!(cf = calloc(1, sizeof(*cf))) ||
	    !(cf->servers = strdup(conf_value(&conf_dns_servers)))) {
		conf_set_errno(err, var_domains.name, "", ENOMEM);
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
	b.cf = cf;
	b.err = err;
	b.skip = conf_value(&var_skip);
	if (conf_list(b.skip, dns_skip_ok, NULL) != 0) {
		conf_set_err(err, var_skip.name, b.skip, "want names or .names");
		goto bad;
	}
	v = conf_value(&var_domains);
	if (*v) {
		b.explicit = 1;
		if (conf_list(v, dns_add_domain, &b) != 0)
			goto bad;
	} else if (control_read_lines(conf, "rcpthosts", dns_add_domain, &b) < 0)
		cf->rcpthosts_err = errno ? errno : EIO;	/* the run says it */
	if (b.nomem)
		goto bad;
	/* the names of this host: control/me and its own slot unless listed */
	if (dnsmsg_name_ok(conf->me, strlen(conf->me)))
		dns_lower(cf->me, conf->me, strlen(conf->me));
	cf->meslot = cf->ndomains;
	if (cf->me[0] && (i = dns_index_find(&b, cf->me)) >= 0)
		cf->meslot = (unsigned)i;
	if (!(cf->mem.fails = calloc(cf->ndomains + 1, sizeof(*cf->mem.fails))) ||
	    !(cf->mem.saved = calloc(cf->ndomains + 1, sizeof(*cf->mem.saved))) ||
	    !(cf->mem.known = calloc(cf->ndomains + 1, 1))) {
		conf_set_errno(err, var_domains.name, "", ENOMEM);
		goto bad;
	}
	snprintf(cf->state, sizeof(cf->state), "%s", conf->state);
	if ((text = checkstate_read(cf->state, DNS_STATEFILE, DNS_STATEMAX, &len))) {
		l.cf = cf;
		l.b = &b;
		dns_failures_parse(text, len, dns_load_line, &l);
		free(text);
	}
	/* the system's resolvers, the query-id key: read now, never by a run */
	if (!(cf->chan = resolv_chan_new(cf->servers, (unsigned)cf->timeout, cerr, sizeof(cerr)))) {
		if (errno)
			conf_set_errno(err, conf_dns_servers.name, cf->servers, errno);
		else
			conf_set_err(err, conf_dns_servers.name, cf->servers, cerr);
		goto bad;
	}
	free(b.index);
	return cf;
bad:
	free(b.index);
	dns_config_free(cf);
	return NULL;
}

/* The root process's side of the probe split: applies what a dns run
 * reported for the check's memory (debug dns: domain-failures) to the
 * config value it holds, and saves it in the state directory once the run
 * is over (info dns: checked): one write per run, however many names
 * changed. */
int
dns_failures_update(int statedir, void *config, const struct finding *f)
{
	struct dns_config *cf = config;
	char name[DNS_NAMEMAX];
	const char *d;
	size_t dlen;
	unsigned long count;
	unsigned slot;

	if (!cf || !f->event)
		return 0;
	if (strcmp(f->event, EV_CHECKED) == 0) {
		if (!cf->mem.dirty || statedir < 0)
			return 0;
		return dns_failures_save(cf, statedir) == 0 ? 1 : -1;
	}
	if (strcmp(f->event, EV_DOMAIN_FAILURES) != 0 ||
	    !(d = checkstate_field(f, "domain", &dlen)) || !dnsmsg_name_ok(d, dlen) ||
	    checkstate_number(f, "sweeps", &count) < 0)
		return 0;
	dns_lower(name, d, dlen);
	/* only a slot of this configuration: a probe process cannot name others */
	if (cf->me[0] && strcmp(name, cf->me) == 0)
		slot = cf->meslot;
	else {
		for (slot = 0; slot < cf->ndomains; slot++)
			if (!cf->domain[slot].explicit && strcmp(cf->domain[slot].name, name) == 0)
				break;
		if (slot == cf->ndomains)
			return 0;
	}
	if (cf->mem.fails[slot] != count) {
		cf->mem.fails[slot] = (unsigned)count;
		cf->mem.dirty = 1;
	}
	return 0;
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

	if (e->said)
		return;
	e->said = 1;
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
		e->run->failed++;
	else
		e->run->answered++;
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
	*run->ltail = e;
	run->ltail = &e->lnext;
	run->queries++;
	if (!n || resolv_query(run->res, low, type, dns_on_answer, e) < 0) {
		e->st = RESOLV_ERROR;
		e->done = 1;
		run->failed++;
	}
	return e;
}

/* A lookup j needed failed: an explicit name's makes the run incomplete; a
 * lenient job notes it, and the end of the run decides. */
static void
dns_blame(struct dns_job *j, struct dns_entry *e)
{
	if (j->noblame)
		return;	/* control/me's addresses: the self job's */
	if (!j->lenient) {
		dns_lookup_failed(e);
		j->run->incomplete = 1;
	} else if (!j->failed) {
		j->failed = 1;
		j->failst = e->st;
	}
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
	if (e->done) {
		if (j->emit && dns_temp(e))
			dns_blame(j, e);
		return e;
	}
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

/* A finding of the job: a lenient job's are held until the job ends. */
static void
dns_emit(struct dns_job *j, struct finding *f)
{
	struct dns_held *h;
	size_t size;

	if (!j->emit)
		return;
	if (!j->lenient) {
		run_emit(j->run->cr, f);
		return;
	}
	if (!f->check)
		f->check = j->run->cr->check->name;
	size = offsetof(struct dns_held, f) + offsetof(struct finding, buf) + f->used;
	if (!(h = malloc(size))) {
		run_emit(j->run->cr, f);	/* no memory to hold it: now, then */
		return;
	}
	h->next = NULL;
	h->size = size;
	memcpy(&h->f, f, offsetof(struct finding, buf) + f->used);
	*j->heldtail = h;
	j->heldtail = &h->next;
}

/* Emits held findings (the list stays). */
static void
dns_emit_held(struct dns_run *run, const struct dns_held *h)
{
	struct finding f;

	for (; h; h = h->next) {
		memcpy(&f, &h->f, h->size - offsetof(struct dns_held, f));
		run_emit(run->cr, &f);
	}
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
	/* the self job answers for these lookups, not a domain that asks */
	j->noblame = j->kind != JOB_SELF;
	a = dns_need(j, run->me, T_A);
	aaaa = dns_need(j, run->me, T_AAAA);
	j->noblame = 0;
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

/* The MX records: 1 when the domain has none but an address (RFC 5321
 * 5.1's implicit MX: mail goes to that host), or is this host's own name
 * without any; 0 when it has MX records (or none at all); -1 unknown. */
static int
dns_mx(struct dns_job *j)
{
	struct dns_entry *mx, *a, *aaaa;
	unsigned i, usable = 0;
	int bad[64];

	if (!(mx = dns_need(j, j->domain, T_MX)) || dns_temp(mx))
		return -1;
	if (mx->st != RESOLV_OK) {
		if (mx->st == RESOLV_NODATA) {
			a = dns_need(j, j->domain, T_A);
			aaaa = dns_need(j, j->domain, T_AAAA);
			if (!a || !aaaa)
				return -1;
			if (a->st == RESOLV_OK || aaaa->st == RESOLV_OK) {
				dns_domain_finding(j, LEVEL_INFO, EV_IMPLICIT_MX, NULL);
				return 1;
			}
			if (dns_temp(a) || dns_temp(aaaa))
				return -1;
		}
		if (j->isme && j->lenient)
			return 1;	/* the host's own name need not be in the DNS */
		dns_domain_finding(j, LEVEL_WARN, EV_MX_MISSING, NULL);
		return 0;
	}
	if (mx->n == 1 && mx->rd[0].len == 0) {
		dns_domain_finding(j, LEVEL_INFO, EV_NULL_MX, NULL);
		return 0;
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
	return 0;
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

/* relaxed: a default name of this host (implicit MX): no record is fine */
static void
dns_spf(struct dns_job *j, int relaxed)
{
	struct dns_entry *txt;
	struct finding f;
	unsigned i, n = 0;

	if (!(txt = dns_need(j, j->domain, T_TXT)) || dns_temp(txt))
		return;
	for (i = 0; txt->st == RESOLV_OK && i < txt->n; i++)
		n += spf_is_record((const char *)txt->rd[i].p, txt->rd[i].len);
	if (n == 0) {
		if (!relaxed)
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
dns_dmarc(struct dns_job *j, int relaxed)
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
	if (n == 0 && relaxed)
		return;
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
	int relaxed;

	switch (j->kind) {
	case JOB_DOMAIN:
		/* a default name of this host needs no SPF or DMARC record */
		relaxed = dns_mx(j) != 0 && j->lenient;
		dns_spf(j, relaxed);
		dns_dmarc(j, relaxed);
		break;
	case JOB_SELF:
		dns_self(j);
		break;
	case JOB_DKIM:
		dns_dkim(j);
		break;
	}
}

static void dns_save(struct dns_job *);

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
	if (!j->lenient)
		return;
	if (j->failed) {	/* decided when the run ends */
		j->run->slotfail[j->slot] = 1;
		if (!j->run->slotst[j->slot])
			j->run->slotst[j->slot] = j->failst;
		*j->run->ftail = j;
		j->run->ftail = &j->fnext;
		return;
	}
	j->run->slotok[j->slot] = 1;
	dns_emit_held(j->run, j->held);
	dns_save(j);
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

static size_t
dns_held_bytes(const struct dns_held *h)
{
	size_t n = 0;

	for (; h; h = h->next)
		n += h->size;
	return n;
}

/* A lenient job that completed: what it found is its last word, kept to
 * stand for it in a sweep where its lookups fail (within DNS_SAVED_MAX). */
static void
dns_save(struct dns_job *j)
{
	struct dns_memory *mem = j->run->mem;
	unsigned k = j->saveidx;
	size_t bytes = dns_held_bytes(j->held);

	mem->savedbytes -= dns_held_bytes(mem->saved[k]);
	dns_held_free(mem->saved[k]);
	mem->saved[k] = NULL;
	mem->known[k] = 0;
	if (mem->savedbytes + bytes > DNS_SAVED_MAX)
		return;
	mem->saved[k] = j->held;
	mem->known[k] = 1;
	mem->savedbytes += bytes;
	j->held = NULL;
	j->heldtail = &j->held;
}

static const char *
dns_slot_name(const struct dns_run *run, unsigned slot)
{
	return slot == run->cf->meslot ? run->cf->me : run->cf->domain[slot].name;
}

/* The failure counts of this run's names, and what the failed lenient jobs
 * say: below DNS_FAIL_SWEEPS their last complete word (or what they found
 * now, when there is none), from then on domain-unresolvable. */
static void
dns_decide(struct dns_run *run)
{
	struct dns_memory *mem = run->mem;
	struct finding f;
	struct dns_job *j;
	unsigned slot, n;

	for (slot = 0; slot <= run->cf->ndomains; slot++) {
		if (run->slotfail[slot])
			n = mem->fails[slot] < 1000000 ? mem->fails[slot] + 1 : 1000000;
		else if (run->slotok[slot])
			n = 0;
		else
			continue;
		if (n == mem->fails[slot])
			continue;
		mem->fails[slot] = n;
		mem->dirty = 1;
		/* the memo the root process keeps (dns_failures_update) */
		finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, EV_DOMAIN_FAILURES);
		finding_add(&f, "domain", dns_slot_name(run, slot));
		finding_addu(&f, "sweeps", n);
		run_emit(run->cr, &f);
	}
	for (j = run->fhead; j; j = j->fnext) {
		slot = j->slot;
		if (mem->fails[slot] < DNS_FAIL_SWEEPS) {
			dns_emit_held(run, mem->known[j->saveidx] ? mem->saved[j->saveidx] : j->held);
			continue;
		}
		dns_emit_held(run, j->held);
		if (run->slotok[slot] == 2)
			continue;
		run->slotok[slot] = 2;	/* said */
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_DOMAIN_UNRESOLVABLE);
		finding_add(&f, "domain", dns_slot_name(run, slot));
		finding_subject(&f);
		finding_addu(&f, "sweeps", mem->fails[slot]);
		finding_add(&f, "error", resolv_status_name(run->slotst[slot]));
		run_emit(run->cr, &f);
	}
}

static void
dns_finish(struct dns_run *run)
{
	struct check_run *cr = run->cr;
	struct dns_entry *e;
	struct timespec t;
	struct finding f;
	int fd;

	if (run->queries && !run->answered) {
		/* no answer at all: the resolver, not a domain. Every failure is
		 * said, none counted, and nothing is cleared */
		for (e = run->lhead; e; e = e->lnext)
			if (dns_temp(e))
				dns_lookup_failed(e);
		run->incomplete = 1;
	} else
		dns_decide(run);
	clock_gettime(CLOCK_MONOTONIC, &t);
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, NULL, EV_CHECKED);
	finding_addu(&f, "domains", run->ndomains);
	finding_addu(&f, "queries", run->queries);
	finding_addu(&f, "failed", run->failed);
	finding_addu(&f, "ms", (unsigned long long)((t.tv_sec - run->t0.tv_sec) * 1000 +
	    (t.tv_nsec - run->t0.tv_nsec) / 1000000));
	run_emit(cr, &f);
	run->checked = 1;
	/* Without a probe process the run is the root process: it keeps the
	 * memory itself. In the probe process (not root) the root process does,
	 * from the memos (dns_failures_update). */
	if (run->mem->dirty && geteuid() == 0 && (fd = checkstate_dir(run->cf->state)) >= 0) {
		dns_failures_save((struct dns_config *)run->cf, fd);
		close(fd);
	}
	/* a failed lookup of an explicit name hid whatever depended on it: that
	 * is no reason to clear it */
	run_done(cr, run->incomplete ? CHECK_FAILED : CHECK_OK);
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
	for (i = 0; i < run->njobs; i++)
		dns_held_free(run->jobs[i].held);
	free(run->jobs);
	run->jobs = NULL;
	run->njobs = 0;
	free(run->slotok);
	free(run->slotfail);
	free(run->slotst);
	run->slotok = run->slotfail = NULL;
	run->slotst = NULL;
}

static void
dns_samples(const struct check_run *cr, struct metrics *m)
{
	const struct dns_run *run = cr->state;

	if (run->checked)
		metrics_add(m, &dns_metrics[0], NULL, NULL, (double)run->failed);
}

/* The jobs of the configured names: the domains, this host, the DKIM
 * selectors. */
static int
dns_add_jobs(struct dns_run *run)
{
	const struct dns_config *cf = run->cf;
	unsigned i, nslots = cf->ndomains + 1;
	struct dns_job *j;

	if (!(run->jobs = calloc(cf->ndomains + 1 + cf->ndkim, sizeof(*run->jobs))) ||
	    !(run->slotok = calloc(nslots, 1)) || !(run->slotfail = calloc(nslots, 1)) ||
	    !(run->slotst = calloc(nslots, sizeof(*run->slotst))))
		return -1;
	for (i = 0; i < cf->ndomains; i++) {
		j = &run->jobs[run->njobs++];
		j->kind = JOB_DOMAIN;
		memcpy(j->domain, cf->domain[i].name, strlen(cf->domain[i].name) + 1);
		j->lenient = !cf->domain[i].explicit;
		j->isme = cf->me[0] && i == cf->meslot;
		j->slot = j->saveidx = i;
	}
	run->ndomains = cf->ndomains;
	j = &run->jobs[run->njobs++];
	j->kind = JOB_SELF;
	j->lenient = !cf->nself;	/* control/me's lookups, unless the IPs are given */
	j->slot = cf->meslot;
	j->saveidx = cf->ndomains;
	for (i = 0; i < cf->ndkim; i++) {
		j = &run->jobs[run->njobs++];
		j->kind = JOB_DKIM;
		j->dkim = &cf->dkim[i];
	}
	for (i = 0; i < run->njobs; i++) {
		run->jobs[i].run = run;
		run->jobs[i].heldtail = &run->jobs[i].held;
	}
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
	struct finding f;
	unsigned i;

	run->cr = cr;
	run->cf = cr->config;
	run->mem = (struct dns_memory *)&run->cf->mem;	/* a malloc'd value: ours to change */
	run->rtail = &run->rhead;
	run->ftail = &run->fhead;
	run->ltail = &run->lhead;
	if (run->cf->rcpthosts_err) {
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_UNREADABLE);
		finding_add(&f, "path", "control/rcpthosts");
		finding_subject(&f);
		finding_error(&f, run->cf->rcpthosts_err);
		run_emit(cr, &f);
		run_done(cr, CHECK_FAILED);
		return;
	}
	errno = ENOMEM;
	if (!(run->hash = calloc(DNS_HASH, sizeof(*run->hash))) || run_yield(cr, dns_slice) < 0 ||
	    !(run->res = resolv_open(cr->base, run->cf->chan))) {
		dns_cannot_run(cr, "resolver", errno, "out of memory");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &run->t0);
	snprintf(run->me, sizeof(run->me), "%s", run->cf->me);
	if (run->cf->nself) {
		memcpy(run->self, run->cf->self, sizeof(run->self));
		run->nself = run->cf->nself;
		run->selfst = 1;
	}
	if (dns_add_jobs(run) < 0) {
		dns_cannot_run(cr, "jobs", ENOMEM, NULL);
		return;
	}
	run->left = run->njobs;
	for (i = 0; i < run->njobs; i++)
		dns_job_ready(&run->jobs[i]);
}

const struct check check_dns = {
	.name = "dns",
	.where = CHECK_PROBE,
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
	.memo = dns_failures_update,
};
