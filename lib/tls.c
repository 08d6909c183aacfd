/* The tls check. Every target is one probe: a random start offset, for smtp
 * targets a TLSA lookup, then one connection that speaks the plaintext
 * dialogue (tlsproto.c), upgrades to TLS and examines what was served.
 * All probes run concurrently; each phase is bounded by MAINTD_TLS_TIMEOUT.
 * Each probe keeps its typed outcome (failed, certificate days) for the
 * check's metrics. */
#include "tls.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "checkstate.h"
#include "dnsmsg.h"
#include "metrics.h"
#include "resolv.h"
#include "safefile.h"
#include "tlsproto.h"

#define TLS_MAXTARGETS 32
#define TLS_MAXFILES 16
#define TLS_MAXCHAIN 8
#define TLS_TARGETLEN 600	/* PROTO://HOST:PORT/SNI */
#define TLS_STATEFILE "tls.seen"
#define TLS_STATEMAX (TLS_MAXTARGETS * 2 * TLS_TARGETLEN)

/* every event code of the check */
#define EV_OK			"ok"
#define EV_NOT_LISTENING	"not-listening"
#define EV_CONNECT_FAILED	"connect-failed"
#define EV_NO_BANNER		"no-banner"
#define EV_BUSY			"busy"
#define EV_DIALOGUE_FAILED	"dialogue-failed"
#define EV_STARTTLS_MISSING	"starttls-missing"
#define EV_AUTH_BEFORE_TLS	"auth-before-tls"
#define EV_HANDSHAKE_FAILED	"handshake-failed"
#define EV_PROTOCOL_OLD		"protocol-old"
#define EV_CERT_EXPIRED		"cert-expired"
#define EV_CERT_EXPIRING	"cert-expiring"
#define EV_CERT_UNTRUSTED	"cert-untrusted"
#define EV_CERT_NAME_MISMATCH	"cert-name-mismatch"
#define EV_CERT_DIFFERS		"cert-differs-from-disk"
#define EV_CERTFILE_BAD		"certfile-unreadable"
#define EV_TLSA_MATCH		"tlsa-match"
#define EV_TLSA_MISMATCH	"tlsa-mismatch"
#define EV_TLSA_NO_ROLLOVER	"tlsa-no-rollover"
#define EV_TLSA_LOOKUP_FAILED	"tlsa-lookup-failed"
#define EV_SETUP_FAILED		"setup-failed"
#define EV_SEEN_LISTENING	"seen-listening"

static const char *const tls_events[] = {
	EV_OK, EV_NOT_LISTENING, EV_CONNECT_FAILED, EV_NO_BANNER, EV_BUSY,
	EV_DIALOGUE_FAILED, EV_STARTTLS_MISSING, EV_AUTH_BEFORE_TLS,
	EV_HANDSHAKE_FAILED, EV_PROTOCOL_OLD, EV_CERT_EXPIRED, EV_CERT_EXPIRING,
	EV_CERT_UNTRUSTED, EV_CERT_NAME_MISMATCH, EV_CERT_DIFFERS, EV_CERTFILE_BAD,
	EV_TLSA_MATCH, EV_TLSA_MISMATCH, EV_TLSA_NO_ROLLOVER, EV_TLSA_LOOKUP_FAILED,
	EV_SETUP_FAILED, EV_SEEN_LISTENING, NULL
};

static const struct confvar var_targets = { "MAINTD_TLS_TARGETS",
	"smtp://127.0.0.1:25 smtps://127.0.0.1:465 submission://127.0.0.1:587 "
	"pop3://127.0.0.1:110 pop3s://127.0.0.1:995" };
static const struct confvar var_name = { "MAINTD_TLS_NAME", "" };
static const struct confvar var_cafile = { "MAINTD_TLS_CAFILE", "" };
static const struct confvar var_capath = { "MAINTD_TLS_CAPATH", "" };
static const struct confvar var_warn = { "MAINTD_CERT_WARN_DAYS", "21" };
static const struct confvar var_crit = { "MAINTD_CERT_CRIT_DAYS", "7" };
static const struct confvar var_certfiles = { "MAINTD_TLS_CERTFILES", "" };
static const struct confvar var_timeout = { "MAINTD_TLS_TIMEOUT", "30" };
static const struct confvar var_spread = { "MAINTD_TLS_SPREAD", "5" };
static const struct confvar var_dane = { "MAINTD_TLS_DANE", "1" };
static const struct confvar *const tls_vars[] = {
	&var_targets, &var_name, &var_cafile, &var_capath, &var_warn, &var_crit,
	&var_certfiles, &var_timeout, &var_spread, &var_dane, &conf_dns_servers, NULL
};

struct diskcert {
	const char *file;
	X509 *cert[TLS_MAXCHAIN];	/* leaf first */
	unsigned n;
	int errnum;		/* unreadable: errno, or -1 no certificate in it */
};

/* What the check remembers from one run to the next: which targets have been
 * seen listening (a service that ran and stopped is not one the site does not
 * run). In the config value (each process its copy), changed by the runs;
 * the root process keeps it in MAINTD_STATE/tls.seen (tls_seen_update). */
struct tls_memory {
	unsigned char seen[TLS_MAXTARGETS];
	int dirty;		/* changed since the file was written */
};

/* the check's configuration value (run->config): everything a run needs
 * from the filesystem is read here, so that a run opens no file */
struct tlsconf {
	struct tls_target target[TLS_MAXTARGETS];
	char tname[TLS_MAXTARGETS][TLS_TARGETLEN];	/* as logged */
	/* a target the operator named (MAINTD_TLS_TARGETS), or smtp on port 25:
	 * not listening is crit; the other defaults once seen listening */
	unsigned char required[TLS_MAXTARGETS];
	unsigned ntargets;
	char certfile[TLS_MAXFILES][PATH_MAX];
	unsigned ncertfiles;
	struct diskcert disk[TLS_MAXFILES];	/* MAINTD_TLS_CERTFILES, as read */
	unsigned long warn_days, crit_days, timeout, spread, dane;
	char name[256];		/* MAINTD_TLS_NAME; "": control/me */
	char cafile[PATH_MAX], capath[PATH_MAX];
	X509_STORE *store;	/* the trusted CAs, every one loaded */
	char *servers;		/* MAINTD_DNS_SERVERS */
	struct resolv_chan *chan;	/* for TLSA; NULL: no smtp target or no DANE */
	int chan_errno;		/* or why there is none */
	char chan_err[256];
	char state[PATH_MAX];	/* MAINTD_STATE ("": none) */
	struct tls_memory mem;
};

enum { TLS_M_EXPIRY, TLS_M_OK, TLS_M_NOTAFTER };

static const struct metric_family tls_metrics[] = {
	[TLS_M_EXPIRY] = { "qmail_tls_cert_expiry_seconds", METRIC_GAUGE,
	    "Seconds until the certificate of the probed service expires.", { "target", NULL },
	    "cert_days_", "", PERF_EACH, 86400 },
	[TLS_M_OK] = { "qmail_tls_probe_ok", METRIC_GAUGE,
	    "1 when the last TLS probe of the target succeeded.", { "target", NULL },
	    NULL, "", PERF_NONE, 0 },
	[TLS_M_NOTAFTER] = { "qmail_tls_cert_not_after_timestamp_seconds", METRIC_GAUGE,
	    "Unix time the certificate of the probed service expires (its notAfter).",
	    { "target", NULL }, NULL, "", PERF_NONE, 0 },
	{ NULL }
};

enum phase {
	P_DELAY, P_DNS, P_CONNECT, P_GREETING, P_EHLO, P_STARTTLS, P_HANDSHAKE,
	P_EHLO_TLS, P_CAPA, P_STLS, P_CAPA_TLS, P_QUIT, P_DONE
};

static const char *const phase_names[] = {
	"delay", "dns", "connect", "greeting", "ehlo", "starttls", "handshake",
	"ehlo-tls", "capa", "stls", "capa-tls", "quit", "done"
};

struct tlsrun;

struct probe {
	struct tlsrun *run;
	const struct tls_target *t;
	unsigned index;		/* of the target in the configuration */
	const char *target;	/* PROTO://HOST:PORT[/SNI] for the log */
	const char *name;	/* the name the certificate must carry */
	enum phase phase;
	int tls;		/* the TLS session is up */
	int bad;		/* a warn or crit finding was emitted */
	/* the outcome, for the metrics */
	int seen;		/* a finding of the target was emitted */
	int failed;		/* it got no TLS session (probe_fail and its kin) */
	int has_days;		/* a finding told the certificate's days */
	int absent;		/* an optional target not listening: no sample */
	long days;
	int has_not_after;	/* its certificate was read: whatever else was found */
	time_t not_after;
	int capa_status;	/* POP3: CAPA's +OK seen */
	struct event *timer;
	struct bufferevent *bev;
	struct smtp_reply reply;
	struct pop3_capa capa;
	enum { DNS_NONE, DNS_PENDING, DNS_DONE } dns;
	enum resolv_status dns_status;
	int dane;		/* TLSA records were given to OpenSSL */
	int dane_ad;
	struct tlsa_set *tlsa;
};

/* the run state (run->state) */
struct tlsrun {
	struct check_run *cr;
	const struct tlsconf *cf;
	struct tls_memory *mem;	/* the config value's: this process's memory */
	SSL_CTX *ctx;
	struct resolv *resolv;
	unsigned pending;
	int unknown;		/* some result is unknown: clear nothing */
	char name[256];
	struct probe probe[TLS_MAXTARGETS];
	unsigned nprobe;
};

static void probe_finish(struct probe *);

/* configuration */

struct tls_confctx {
	struct tlsconf *cf;
	struct conf_err *err;
};

static int
add_target(const char *item, size_t len, void *arg)
{
	struct tls_confctx *c = arg;
	struct tlsconf *cf = c->cf;
	char value[256];
	const char *why;

	snprintf(value, sizeof(value), "%.*s", (int)len, item);
	if (cf->ntargets == TLS_MAXTARGETS)
		return conf_set_err(c->err, var_targets.name, value, "too-many");
	if (tls_target_parse(item, len, &cf->target[cf->ntargets], &why) < 0)
		return conf_set_err(c->err, var_targets.name, value, why);
	tls_target_format(&cf->target[cf->ntargets], cf->tname[cf->ntargets], TLS_TARGETLEN);
	cf->ntargets++;
	return 0;
}

static int
add_certfile(const char *item, size_t len, void *arg)
{
	struct tls_confctx *c = arg;
	struct tlsconf *cf = c->cf;
	char value[256];

	snprintf(value, sizeof(value), "%.*s", (int)len, item);
	if (cf->ncertfiles == TLS_MAXFILES)
		return conf_set_err(c->err, var_certfiles.name, value, "too-many");
	if (len >= sizeof(cf->certfile[0]) || *item != '/')
		return conf_set_err(c->err, var_certfiles.name, value, "not-absolute");
	memcpy(cf->certfile[cf->ncertfiles], item, len);
	cf->certfile[cf->ncertfiles++][len] = 0;
	return 0;
}

/* A string variable into buf; -1 (err filled) when it does not fit. */
static int
tls_conf_string(const struct confvar *v, char *buf, size_t size, struct conf_err *err)
{
	const char *s = conf_value(v);

	if (strlen(s) >= size)
		return conf_set_err(err, v->name, s, "too-long");
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* MAINTD_TLS_CERTFILES, read now: the certificates a run compares with
 * what is served (a renewed file is seen after svc -h or a restart). */
static void
load_disk(struct tlsconf *cf)
{
	struct diskcert *d;
	unsigned i;
	X509 *x;
	FILE *fp;

	for (i = 0; i < cf->ncertfiles; i++) {
		d = &cf->disk[i];
		d->file = cf->certfile[i];
		if (!(fp = fopen(d->file, "re"))) {
			d->errnum = errno ? errno : EIO;
			continue;
		}
		while (d->n < TLS_MAXCHAIN && (x = PEM_read_X509(fp, NULL, NULL, NULL)))
			d->cert[d->n++] = x;
		fclose(fp);
		ERR_clear_error();
		if (d->n == 0)
			d->errnum = -1;
	}
}

/* The trusted CAs, all loaded now: OpenSSL's hashed-directory lookup would
 * open files while verifying, which a chrooted run cannot. Each file once
 * (the hash links of a directory lead to files already read). */
struct ca_loader {
	X509_STORE *store;
	X509_LOOKUP *lookup;
	struct { dev_t dev; ino_t ino; } *seen;
	size_t nseen, cap;
};

static int
ca_count(X509_STORE *store)
{
	return sk_X509_OBJECT_num(X509_STORE_get0_objects(store));
}

/* One PEM file: 1 read (certificates added or not), 0 already read, -1
 * (errno) not a readable regular file. */
static int
ca_file(struct ca_loader *l, const char *path)
{
	struct stat st;
	size_t i;
	void *p;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	for (i = 0; i < l->nseen; i++)
		if (l->seen[i].dev == st.st_dev && l->seen[i].ino == st.st_ino)
			return 0;
	if (l->nseen == l->cap) {
		if (!(p = realloc(l->seen, (l->cap * 2 + 64) * sizeof(*l->seen))))
			return -1;
		l->seen = p;
		l->cap = l->cap * 2 + 64;
	}
	l->seen[l->nseen].dev = st.st_dev;
	l->seen[l->nseen++].ino = st.st_ino;
	X509_load_cert_crl_file(l->lookup, path, X509_FILETYPE_PEM);
	ERR_clear_error();	/* a file of keys or text adds nothing */
	return 1;
}

/* Every regular file of the directory (names with a leading dot skipped). */
static int
ca_dir(struct ca_loader *l, const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!(d = opendir(dir)))
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path))
			ca_file(l, path);
	closedir(d);
	return 0;
}

/* MAINTD_TLS_CAFILE, MAINTD_TLS_CAPATH, or the system's store (OpenSSL's
 * default file and directories, or SSL_CERT_FILE, SSL_CERT_DIR). A path
 * given that is not there, or holds no certificate, is bad-config. */
static int
load_store(struct tlsconf *cf, struct conf_err *err)
{
	struct ca_loader l = { NULL, NULL, NULL, 0, 0 };
	const char *file, *dir;
	char dirs[PATH_MAX], *p, *next;
	int n;

	if (!(l.store = cf->store = X509_STORE_new()) ||
	    !(l.lookup = X509_STORE_add_lookup(l.store, X509_LOOKUP_file())))
		return conf_set_errno(err, var_cafile.name, cf->cafile, ENOMEM);
	if (*cf->cafile) {
		n = ca_count(l.store);
		if (ca_file(&l, cf->cafile) < 0) {
			conf_set_errno(err, var_cafile.name, cf->cafile, errno);
			goto fail;
		}
		if (ca_count(l.store) == n) {
			conf_set_err(err, var_cafile.name, cf->cafile, "no-certificate");
			goto fail;
		}
	}
	if (*cf->capath) {
		n = ca_count(l.store);
		if (ca_dir(&l, cf->capath) < 0) {
			conf_set_errno(err, var_capath.name, cf->capath, errno);
			goto fail;
		}
		if (ca_count(l.store) == n) {
			conf_set_err(err, var_capath.name, cf->capath, "no-certificate");
			goto fail;
		}
	}
	if (!*cf->cafile && !*cf->capath) {
		/* the system's: what is missing is skipped, as OpenSSL does */
		if (!(file = getenv(X509_get_default_cert_file_env())) || !*file)
			file = X509_get_default_cert_file();
		ca_file(&l, file);
		if (!(dir = getenv(X509_get_default_cert_dir_env())) || !*dir)
			dir = X509_get_default_cert_dir();
		snprintf(dirs, sizeof(dirs), "%s", dir);
		for (p = dirs; p; p = next) {
			if ((next = strchr(p, ':')))
				*next++ = 0;
			if (*p)
				ca_dir(&l, p);
		}
	}
	free(l.seen);
	ERR_clear_error();
	return 0;
fail:
	free(l.seen);
	ERR_clear_error();
	return -1;
}

/* tls.seen: one target per line, as logged; those of this configuration
 * are marked seen. */
static int
seen_line(const char *line, size_t len, void *arg)
{
	struct tlsconf *cf = arg;
	unsigned i;

	for (i = 0; i < cf->ntargets; i++)
		if (strlen(cf->tname[i]) == len && memcmp(cf->tname[i], line, len) == 0)
			cf->mem.seen[i] = 1;
	return 0;
}

int
tls_seen_parse(const char *buf, size_t len,
    int (*fn)(const char *target, size_t len, void *arg), void *arg)
{
	return control_lines(buf, len, fn, arg);
}

static int
seen_save(struct tlsconf *cf, int dirfd)
{
	char buf[TLS_MAXTARGETS * (TLS_TARGETLEN + 1)];
	size_t o = 0;
	unsigned i;
	int r;

	for (i = 0; i < cf->ntargets; i++)
		if (cf->mem.seen[i])
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\n", cf->tname[i]);
	if ((r = safe_replace(dirfd, TLS_STATEFILE, buf, o, 0600)) == 0)
		cf->mem.dirty = 0;
	return r;
}

int
tls_seen_update(int statedir, void *config, const struct finding *f)
{
	struct tlsconf *cf = config;
	const char *t;
	size_t len;
	unsigned i;

	if (!cf || !f->event || strcmp(f->event, EV_SEEN_LISTENING) != 0 ||
	    !(t = checkstate_field(f, "target", &len)))
		return 0;
	/* only a target of this configuration: a probe process cannot name others */
	for (i = 0; i < cf->ntargets; i++)
		if (strlen(cf->tname[i]) == len && memcmp(cf->tname[i], t, len) == 0)
			break;
	if (i == cf->ntargets || (cf->mem.seen[i] && !cf->mem.dirty))
		return 0;
	cf->mem.seen[i] = 1;
	cf->mem.dirty = 1;
	if (statedir < 0)
		return 0;
	return seen_save(cf, statedir) == 0 ? 1 : -1;
}

static void
tls_config_free(void *p)
{
	struct tlsconf *cf = p;
	unsigned i, k;

	if (!cf)
		return;
	for (i = 0; i < cf->ncertfiles; i++)
		for (k = 0; k < cf->disk[i].n; k++)
			X509_free(cf->disk[i].cert[k]);
	X509_STORE_free(cf->store);
	resolv_chan_free(cf->chan);
	free(cf->servers);
	free(cf);
}

static void *
tls_configure(const struct conf *c, struct conf_err *err)
{
	struct tlsconf *cf;
	struct tls_confctx cc = { NULL, err };
	const char *targets = getenv(var_targets.name);
	char *text;
	size_t len;
	unsigned i;

	/* OpenSSL reads openssl.cnf (and whatever it loads) now, once: never
	 * in a run. And glibc reads /etc/localtime at the first gmtime_r (a
	 * certificate's dates) unless its time zone is set up already. */
	tzset();
	if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL)) {
		conf_set_err(err, var_targets.name, "", "openssl-init");
		return NULL;
	}
	if (!(cf = calloc(1, sizeof(*cf))) || !(cf->servers = strdup(conf_value(&conf_dns_servers)))) {
		conf_set_errno(err, var_targets.name, "", ENOMEM);
		goto bad;
	}
	cc.cf = cf;
	if (conf_ulong(&var_warn, 0, 3650, &cf->warn_days, err) < 0 ||
	    conf_ulong(&var_crit, 0, 3650, &cf->crit_days, err) < 0 ||
	    conf_ulong(&var_timeout, 1, 3600, &cf->timeout, err) < 0 ||
	    conf_ulong(&var_spread, 0, 300, &cf->spread, err) < 0 ||
	    conf_ulong(&var_dane, 0, 1, &cf->dane, err) < 0)
		goto bad;
	if (cf->crit_days > cf->warn_days) {
		conf_set_err(err, var_crit.name, conf_value(&var_crit), "above-warn-days");
		goto bad;
	}
	if (conf_list(conf_value(&var_targets), add_target, &cc) != 0 ||
	    conf_list(conf_value(&var_certfiles), add_certfile, &cc) != 0 ||
	    tls_conf_string(&var_name, cf->name, sizeof(cf->name), err) < 0 ||
	    tls_conf_string(&var_cafile, cf->cafile, sizeof(cf->cafile), err) < 0 ||
	    tls_conf_string(&var_capath, cf->capath, sizeof(cf->capath), err) < 0)
		goto bad;
	if (*cf->name && !dnsmsg_name_ok(cf->name, strlen(cf->name))) {
		conf_set_err(err, var_name.name, cf->name,
		    strlen(cf->name) > 253 ? "too-long" : "bad-name");
		goto bad;
	}
	if (!resolv_servers_ok(cf->servers)) {
		conf_set_err(err, conf_dns_servers.name, cf->servers,
		    "want IP, IP:PORT or [IPv6]:PORT");
		goto bad;
	}
	for (i = 0; i < cf->ntargets; i++)
		cf->required[i] = (targets && *targets) ||
		    (cf->target[i].proto == TLSPROTO_SMTP && cf->target[i].port == 25);
	if (load_store(cf, err) < 0)
		goto bad;
	load_disk(cf);
	for (i = 0; i < cf->ntargets && cf->target[i].proto != TLSPROTO_SMTP; i++)
		;
	/* the resolver for TLSA records: the system's servers, read now */
	if (cf->dane && i < cf->ntargets && !(cf->chan = resolv_chan_new(cf->servers,
	    (unsigned)(cf->timeout * 1000), cf->chan_err, sizeof(cf->chan_err))))
		cf->chan_errno = errno;	/* the run says it (tlsa-lookup-failed) */
	snprintf(cf->state, sizeof(cf->state), "%s", c->state);
	if ((text = checkstate_read(cf->state, TLS_STATEFILE, TLS_STATEMAX, &len))) {
		tls_seen_parse(text, len, seen_line, cf);
		free(text);
	}
	return cf;
bad:
	tls_config_free(cf);
	return NULL;
}

/* pure helpers */

int
tls_cert_days(const X509 *x, long *days)
{
	int d, s;

	if (!ASN1_TIME_diff(&d, &s, NULL, X509_get0_notAfter(x)))
		return -1;
	*days = d;
	return 0;
}

int
tls_cert_not_after(const X509 *x, time_t *when)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return -1;
	*when = timegm(&tm);
	return 0;
}

char *
tls_name_string(const X509_NAME *n, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	*buf = 0;
	if (!b)
		return buf;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_read(b, buf, (int)size - 1)) > 0)
		buf[len] = 0;
	BIO_free(b);
	return buf;
}

int
tls_tlsa_matches(const struct tlsa_rr *rr, X509 *x)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int len, ok = 0;

	if (rr->selector == 0)
		len = i2d_X509(x, &der);
	else if (rr->selector == 1)
		len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	else
		return 0;
	if (len <= 0)
		return 0;
	switch (rr->mtype) {
	case 0:
		ok = rr->len == (size_t)len && memcmp(rr->data, der, (size_t)len) == 0;
		break;
	case 1:
	case 2:
		ok = EVP_Digest(der, (size_t)len, md, &mdlen,
		    rr->mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL) &&
		    rr->len == mdlen && memcmp(rr->data, md, mdlen) == 0;
		break;
	}
	OPENSSL_free(der);
	return ok;
}

/* findings */

static void
probe_finding(struct probe *p, struct finding *f, enum level lv, enum finding_kind k,
    const char *event)
{
	finding_init(f, lv, k, NULL, event);
	finding_add(f, "target", p->target);
	if (k == FINDING_STATE)
		finding_subject(f);
}

static void
probe_emit(struct probe *p, struct finding *f)
{
	if (f->level >= LEVEL_WARN)
		p->bad = 1;
	p->seen = 1;
	run_emit(p->run->cr, f);
}

static void
probe_say(struct probe *p, enum level lv, const char *event, const char *key, const char *val)
{
	struct finding f;

	probe_finding(p, &f, lv, FINDING_STATE, event);
	if (key)
		finding_add(&f, key, val);
	probe_emit(p, &f);
}

/* A finding that says the probe got no TLS session. */
static void
probe_fail(struct probe *p, enum level lv, const char *event, const char *key, const char *val)
{
	p->failed = 1;
	probe_say(p, lv, event, key, val);
}

/* The same (crit) with error=ENAME, a system call's failure, after phase=. */
static void
probe_fail_errno(struct probe *p, const char *event, const char *phase, int errnum)
{
	struct finding f;

	p->failed = 1;
	probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, event);
	if (phase)
		finding_add(&f, "phase", phase);
	finding_error(&f, errnum);
	probe_emit(p, &f);
}

static void
probe_days(struct probe *p, struct finding *f, long days)
{
	finding_addi(f, "days", days);
	p->has_days = 1;
	p->days = days;
}

/* the connection */

static void
probe_timer(struct probe *p)
{
	struct timeval tv = { (time_t)p->run->cf->timeout, 0 };

	evtimer_add(p->timer, &tv);
}

static void
probe_send(struct probe *p, const char *cmd, enum phase next)
{
	p->phase = next;
	smtp_reply_init(&p->reply);
	pop3_capa_init(&p->capa);
	p->capa_status = 0;
	bufferevent_write(p->bev, cmd, strlen(cmd));
	bufferevent_write(p->bev, "\r\n", 2);
	probe_timer(p);
}

static void
probe_ehlo(struct probe *p, enum phase next)
{
	const char *me = p->run->cr->conf->me;
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "EHLO %s", *me ? me : "localhost");
	probe_send(p, cmd, next);
}

static void
probe_quit(struct probe *p)
{
	probe_send(p, "QUIT", P_QUIT);
}

static void
probe_busy(struct probe *p, const char *reason, const char *reply, size_t len)
{
	struct finding f;

	p->failed = 1;
	probe_finding(p, &f, LEVEL_WARN, FINDING_STATE, EV_BUSY);
	finding_add(&f, "phase", phase_names[p->phase]);
	if (reason)
		finding_add(&f, "reason", reason);
	if (reply)
		finding_addn(&f, "reply", reply, len);
	probe_emit(p, &f);
	p->run->unknown = 1;
}

static void
probe_dialogue_failed(struct probe *p, const char *reason, const char *reply, size_t len)
{
	struct finding f;

	p->failed = 1;
	probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, EV_DIALOGUE_FAILED);
	finding_add(&f, "phase", phase_names[p->phase]);
	finding_add(&f, "reason", reason);
	if (reply)
		finding_addn(&f, "reply", reply, len);
	probe_emit(p, &f);
}

static void
probe_handshake_failed(struct probe *p, const char *reason)
{
	probe_fail(p, LEVEL_CRIT, EV_HANDSHAKE_FAILED, "reason", reason);
}

/* Why the connection failed: OpenSSL's reason or "connection closed by
 * peer" in buf (0), or the socket's errno (buf unset). */
static int
probe_ssl_error(struct probe *p, char *buf, size_t size)
{
	unsigned long e, last = 0;
	int soerr = EVUTIL_SOCKET_ERROR();

	/* libevent queues SSL_get_error()'s code (library 0) besides OpenSSL's errors */
	while ((e = bufferevent_get_openssl_error(p->bev)))
		if (ERR_GET_LIB(e) != 0 || !last)
			last = e;
	if (last && ERR_GET_LIB(last) == 0)
		last = 0;	/* only SSL_get_error()'s code: say what the socket says */
	if (last && ERR_reason_error_string(last))
		snprintf(buf, size, "%s", ERR_reason_error_string(last));
	else if (last)
		ERR_error_string_n(last, buf, size);
	else if (soerr)
		return soerr;
	else
		snprintf(buf, size, "connection closed by peer");
	return 0;
}

/* The served certificate, as a peer would judge it. */
static void
probe_examine_cert(struct probe *p, SSL *ssl, X509 *leaf)
{
	struct tlsrun *r = p->run;
	struct finding f;
	X509_STORE_CTX *vc;
	char subject[512];
	long days;

	tls_name_string(X509_get_subject_name(leaf), subject, sizeof(subject));
	p->has_not_after = tls_cert_not_after(leaf, &p->not_after) == 0;
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, EV_CERT_EXPIRED);
		if (tls_cert_days(leaf, &days) == 0)
			probe_days(p, &f, days);
		finding_add(&f, "subject", subject);
		probe_emit(p, &f);
	} else if (tls_cert_days(leaf, &days) == 0 && days < (long)r->cf->warn_days) {
		probe_finding(p, &f, days < (long)r->cf->crit_days ? LEVEL_CRIT : LEVEL_WARN,
		    FINDING_STATE, EV_CERT_EXPIRING);
		probe_days(p, &f, days);
		finding_add(&f, "subject", subject);
		probe_emit(p, &f);
	}
	if (X509_check_host(leaf, p->name, 0, 0, NULL) != 1) {
		probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, EV_CERT_NAME_MISMATCH);
		finding_add(&f, "name", p->name);
		finding_add(&f, "subject", subject);
		probe_emit(p, &f);
	}
	if ((vc = X509_STORE_CTX_new()) &&
	    X509_STORE_CTX_init(vc, r->cf->store, leaf, SSL_get_peer_cert_chain(ssl))) {
		/* expiry is its own finding */
		X509_STORE_CTX_set_flags(vc, X509_V_FLAG_NO_CHECK_TIME);
		if (X509_verify_cert(vc) != 1) {
			probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, EV_CERT_UNTRUSTED);
			finding_add(&f, "reason",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)));
			finding_add(&f, "subject", subject);
			probe_emit(p, &f);
		}
	}
	X509_STORE_CTX_free(vc);
}

/* Is the disk file the certificate of this service? Same subject or same name. */
static int
disk_is_for(const struct diskcert *d, X509 *leaf, const char *name)
{
	return X509_NAME_cmp(X509_get_subject_name(d->cert[0]), X509_get_subject_name(leaf)) == 0 ||
	    X509_check_host(d->cert[0], name, 0, 0, NULL) == 1;
}

static int
disk_rollover_ok(const struct diskcert *d, const struct tlsa_set *s)
{
	unsigned i, k;

	for (i = 0; i < s->n; i++) {
		if (s->rr[i].usage == 3 && tls_tlsa_matches(&s->rr[i], d->cert[0]))
			return 1;
		if (s->rr[i].usage == 2)
			for (k = 1; k < d->n; k++)
				if (tls_tlsa_matches(&s->rr[i], d->cert[k]))
					return 1;
	}
	return 0;
}

static void
probe_examine_disk(struct probe *p, X509 *leaf)
{
	const struct tlsconf *cf = p->run->cf;
	struct finding f;
	unsigned i;

	for (i = 0; i < cf->ncertfiles; i++)
		if (cf->disk[i].n && X509_cmp(cf->disk[i].cert[0], leaf) == 0)
			return;
	for (i = 0; i < cf->ncertfiles; i++) {
		if (!cf->disk[i].n || !disk_is_for(&cf->disk[i], leaf, p->name))
			continue;
		probe_finding(p, &f, LEVEL_WARN, FINDING_STATE, EV_CERT_DIFFERS);
		finding_add(&f, "file", cf->disk[i].file);
		probe_emit(p, &f);
		if (p->tlsa && p->tlsa->n && !disk_rollover_ok(&cf->disk[i], p->tlsa)) {
			probe_finding(p, &f, LEVEL_WARN, FINDING_STATE, EV_TLSA_NO_ROLLOVER);
			finding_add(&f, "file", cf->disk[i].file);
			probe_emit(p, &f);
		}
	}
}

static void
probe_examine_dane(struct probe *p, SSL *ssl)
{
	uint8_t usage, selector, mtype;
	struct finding f;
	int depth;

	if (!p->dane)
		return;
	if ((depth = SSL_get0_dane_authority(ssl, NULL, NULL)) >= 0 &&
	    SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, NULL, NULL) >= 0) {
		probe_finding(p, &f, LEVEL_INFO, FINDING_NOTE, EV_TLSA_MATCH);
		finding_addu(&f, "usage", usage);
		finding_addu(&f, "selector", selector);
		finding_addu(&f, "mtype", mtype);
		finding_addi(&f, "depth", depth);
		finding_add(&f, "dnssec", p->dane_ad ? "yes" : "no");
		probe_emit(p, &f);
		return;
	}
	/* without DNSSEC, DANE-validating senders ignore the records */
	probe_finding(p, &f, p->dane_ad ? LEVEL_CRIT : LEVEL_WARN, FINDING_STATE, EV_TLSA_MISMATCH);
	finding_add(&f, "reason", X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	finding_addu(&f, "records", p->tlsa->n);
	finding_add(&f, "dnssec", p->dane_ad ? "yes" : "no");
	probe_emit(p, &f);
}

static void
probe_examine(struct probe *p)
{
	SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
	const char *version = SSL_get_version(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);

	if (strcmp(version, "TLSv1") == 0 || strcmp(version, "TLSv1.1") == 0)
		probe_say(p, LEVEL_WARN, EV_PROTOCOL_OLD, "version", version);
	if (!leaf) {
		probe_handshake_failed(p, "no certificate");
		return;
	}
	probe_examine_cert(p, ssl, leaf);
	probe_examine_dane(p, ssl);
	probe_examine_disk(p, leaf);
}

static void
probe_ok(struct probe *p)
{
	SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	char name[512];
	struct finding f;
	long days;

	if (p->bad || !leaf)
		return;
	probe_finding(p, &f, LEVEL_INFO, FINDING_NOTE, EV_OK);
	finding_add(&f, "version", SSL_get_version(ssl));
	finding_add(&f, "cipher", SSL_get_cipher_name(ssl));
	finding_add(&f, "subject", tls_name_string(X509_get_subject_name(leaf), name, sizeof(name)));
	finding_add(&f, "issuer", tls_name_string(X509_get_issuer_name(leaf), name, sizeof(name)));
	if (tls_cert_days(leaf, &days) == 0)
		probe_days(p, &f, days);
	probe_emit(p, &f);
}

static void on_read(struct bufferevent *, void *);
static void on_event(struct bufferevent *, short, void *);

static int
probe_add_tlsa(struct probe *p, SSL *ssl)
{
	const struct tlsa_rr *rr;
	unsigned i, n = 0;

	if (!p->tlsa || !p->tlsa->n)
		return 0;
	if (SSL_dane_enable(ssl, p->name) <= 0)
		return -1;
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < p->tlsa->n; i++) {
		rr = &p->tlsa->rr[i];
		/* RFC 7672: SMTP uses DANE-TA(2) and DANE-EE(3) only */
		if (rr->usage != 2 && rr->usage != 3)
			continue;
		if (SSL_dane_tlsa_add(ssl, rr->usage, rr->selector, rr->mtype,
		    rr->data, rr->len) > 0)
			n++;
	}
	p->dane = n > 0;
	p->dane_ad = p->tlsa->ad;
	return 0;
}

/* Hands the connection's socket to OpenSSL. */
static void
probe_upgrade(struct probe *p)
{
	evutil_socket_t fd = bufferevent_getfd(p->bev);
	struct bufferevent *b;
	SSL *ssl;

	/* detach the socket so that freeing the plain bufferevent keeps it open */
	bufferevent_setfd(p->bev, -1);
	bufferevent_free(p->bev);
	p->bev = NULL;
	p->phase = P_HANDSHAKE;
	if (!(ssl = SSL_new(p->run->ctx)) ||
	    !SSL_set_tlsext_host_name(ssl, p->name) || probe_add_tlsa(p, ssl) < 0) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		probe_fail(p, LEVEL_WARN, EV_SETUP_FAILED, "reason", "ssl");
		p->run->unknown = 1;
		probe_finish(p);
		return;
	}
	if (!(b = bufferevent_openssl_socket_new(p->run->cr->base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
		/* libevent freed the SSL; the socket is still ours */
		evutil_closesocket(fd);
		probe_fail(p, LEVEL_WARN, EV_SETUP_FAILED, "reason", "bufferevent");
		p->run->unknown = 1;
		probe_finish(p);
		return;
	}
	p->bev = b;
	bufferevent_setcb(b, on_read, NULL, on_event, p);
	bufferevent_enable(b, EV_READ | EV_WRITE);
	probe_timer(p);
}

static void
probe_handshake_done(struct probe *p)
{
	p->tls = 1;
	probe_examine(p);
	smtp_reply_init(&p->reply);
	if (tlsproto_is_implicit(p->t->proto)) {
		p->phase = P_GREETING;
		probe_timer(p);
		/* the greeting may have come with the handshake */
		if (evbuffer_get_length(bufferevent_get_input(p->bev)))
			on_read(p->bev, p);
	} else if (tlsproto_is_smtp(p->t->proto))
		probe_ehlo(p, P_EHLO_TLS);
	else
		probe_send(p, "CAPA", P_CAPA_TLS);
}

/* STARTTLS injection defence: nothing may follow the go-ahead in clear.
 * DANE needs the TLSA records before the handshake: wait for them. */
static void
probe_go_tls(struct probe *p)
{
	struct finding f;

	if (evbuffer_get_length(bufferevent_get_input(p->bev))) {
		probe_dialogue_failed(p, "data-after-starttls", NULL, 0);
		probe_finish(p);
		return;
	}
	if (p->dns == DNS_PENDING) {
		p->phase = P_DNS;
		probe_timer(p);
		return;
	}
	if (p->dns == DNS_DONE && p->dns_status != RESOLV_OK &&
	    p->dns_status != RESOLV_NODATA && p->dns_status != RESOLV_NXDOMAIN) {
		probe_finding(p, &f, LEVEL_WARN, FINDING_STATE, EV_TLSA_LOOKUP_FAILED);
		finding_add(&f, "status", resolv_status_name(p->dns_status));
		probe_emit(p, &f);
		p->run->unknown = 1;
	}
	probe_upgrade(p);
}

static void
smtp_line(struct probe *p, const char *line, size_t len)
{
	struct smtp_reply *r = &p->reply;

	switch (smtp_reply_parse(r, line, len)) {
	case SMTP_MORE:
		return;
	case SMTP_BAD:
		if (p->phase == P_QUIT) {
			probe_finish(p);
			return;
		}
		probe_dialogue_failed(p, "bad-reply", line, len);
		probe_finish(p);
		return;
	case SMTP_DONE:
		break;
	}
	if (p->phase == P_QUIT) {
		probe_finish(p);
		return;
	}
	if (r->code == 421) {
		probe_busy(p, NULL, r->text, r->textlen);
		probe_finish(p);
		return;
	}
	switch (p->phase) {
	case P_GREETING:
		if (r->code != 220)
			break;
		probe_ehlo(p, p->tls ? P_EHLO_TLS : P_EHLO);
		return;
	case P_EHLO:
		if (r->code != 250)
			break;
		if (p->t->proto == TLSPROTO_SUBMISSION && r->auth)
			probe_say(p, LEVEL_CRIT, EV_AUTH_BEFORE_TLS, NULL, NULL);
		if (!r->starttls) {
			probe_fail(p, LEVEL_CRIT, EV_STARTTLS_MISSING, NULL, NULL);
			probe_quit(p);
			return;
		}
		probe_send(p, "STARTTLS", P_STARTTLS);
		return;
	case P_STARTTLS:
		if (r->code != 220) {
			char why[300];

			snprintf(why, sizeof(why), "STARTTLS refused: %d %.*s", r->code,
			    (int)r->textlen, r->text);
			probe_handshake_failed(p, why);
			probe_quit(p);
			return;
		}
		probe_go_tls(p);
		return;
	case P_EHLO_TLS:
		if (r->code != 250)
			break;
		probe_ok(p);
		probe_quit(p);
		return;
	default:
		break;
	}
	probe_dialogue_failed(p, "unexpected-reply", line, len);
	probe_quit(p);
}

static void
pop3_line(struct probe *p, const char *line, size_t len)
{
	int st;

	if (p->phase == P_QUIT) {
		probe_finish(p);
		return;
	}
	if ((p->phase == P_CAPA || p->phase == P_CAPA_TLS) && p->capa_status) {
		switch (pop3_capa_parse(&p->capa, line, len)) {
		case POP3_CAPA_MORE:
			return;
		case POP3_CAPA_BAD:
			probe_dialogue_failed(p, "capa-too-long", NULL, 0);
			probe_finish(p);
			return;
		case POP3_CAPA_DONE:
			break;
		}
		if (p->phase == P_CAPA_TLS) {
			probe_ok(p);
			probe_quit(p);
		} else if (!p->capa.stls) {
			probe_fail(p, LEVEL_CRIT, EV_STARTTLS_MISSING, NULL, NULL);
			probe_quit(p);
		} else
			probe_send(p, "STLS", P_STLS);
		return;
	}
	if ((st = pop3_status_parse(line, len)) < 0) {
		probe_dialogue_failed(p, "bad-reply", line, len);
		probe_finish(p);
		return;
	}
	switch (p->phase) {
	case P_GREETING:
		if (!st) {
			probe_busy(p, NULL, line, len);
			probe_finish(p);
			return;
		}
		probe_send(p, "CAPA", p->tls ? P_CAPA_TLS : P_CAPA);
		return;
	case P_CAPA:
	case P_CAPA_TLS:
		if (st) {
			p->capa_status = 1;
			return;
		}
		if (p->phase == P_CAPA) {
			/* no CAPA (RFC 2449): a client cannot learn of STLS */
			probe_fail(p, LEVEL_CRIT, EV_STARTTLS_MISSING, NULL, NULL);
		} else
			probe_ok(p);
		probe_quit(p);
		return;
	case P_STLS:
		if (!st) {
			char why[300];

			snprintf(why, sizeof(why), "STLS refused: %.*s", (int)len, line);
			probe_handshake_failed(p, why);
			probe_quit(p);
			return;
		}
		probe_go_tls(p);
		return;
	default:
		probe_dialogue_failed(p, "unexpected-reply", line, len);
		probe_finish(p);
		return;
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	while (p->bev == bev && p->phase != P_DONE && p->phase != P_HANDSHAKE &&
	    p->phase != P_DNS) {
		if (!(line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
			if (evbuffer_get_length(in) > TLSPROTO_LINEMAX) {
				probe_dialogue_failed(p, "line-too-long", NULL, 0);
				probe_finish(p);
			}
			return;
		}
		if (len > TLSPROTO_LINEMAX) {
			probe_dialogue_failed(p, "line-too-long", NULL, 0);
			probe_finish(p);
		} else if (tlsproto_is_smtp(p->t->proto))
			smtp_line(p, line, len);
		else
			pop3_line(p, line, len);
		free(line);
	}
}

/* Nothing accepts connections on the port (refused, or no answer to the
 * SYN): a service the site does not run, unless the operator named it, it
 * is smtp on port 25, or it has been seen listening. */
static void
probe_not_listening(struct probe *p, const char *reason)
{
	int required = p->run->cf->required[p->index] || p->run->mem->seen[p->index];

	if (!required)
		p->absent = 1;	/* no probe_ok sample: no service, not a failed one */
	probe_fail(p, required ? LEVEL_CRIT : LEVEL_INFO, EV_NOT_LISTENING, "reason", reason);
}

/* Connected: the target is listening. The first time, the memo the root
 * process keeps (tls_seen_update). */
static void
probe_listening(struct probe *p)
{
	struct tlsrun *r = p->run;
	struct finding f;

	if (r->mem->seen[p->index])
		return;
	r->mem->seen[p->index] = 1;
	r->mem->dirty = 1;
	finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, EV_SEEN_LISTENING);
	finding_add(&f, "target", p->target);
	run_emit(r->cr, &f);
}

static void
probe_closed(struct probe *p, short what)
{
	char why[256];
	int errnum;

	switch (p->phase) {
	case P_CONNECT:
		if (EVUTIL_SOCKET_ERROR() == ECONNREFUSED) {
			probe_not_listening(p, "refused");
			break;
		}
		if ((errnum = probe_ssl_error(p, why, sizeof(why))))
			probe_fail_errno(p, EV_CONNECT_FAILED, NULL, errnum);
		else
			probe_fail(p, LEVEL_CRIT, EV_CONNECT_FAILED, "reason", why);
		break;
	case P_HANDSHAKE:
		if ((errnum = probe_ssl_error(p, why, sizeof(why))))
			probe_fail_errno(p, EV_HANDSHAKE_FAILED, NULL, errnum);
		else
			probe_handshake_failed(p, why);
		break;
	case P_STARTTLS:
	case P_STLS:
	case P_DNS:
		probe_handshake_failed(p, "connection closed after STARTTLS");
		break;
	case P_QUIT:
		break;
	default:
		if (what & BEV_EVENT_EOF)
			probe_dialogue_failed(p, "closed", NULL, 0);
		else if ((errnum = probe_ssl_error(p, why, sizeof(why))))
			probe_fail_errno(p, EV_DIALOGUE_FAILED, phase_names[p->phase], errnum);
		else
			probe_dialogue_failed(p, why, NULL, 0);
		break;
	}
	probe_finish(p);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;

	if (p->bev != bev || p->phase == P_DONE)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (p->phase == P_HANDSHAKE) {
			probe_handshake_done(p);
			return;
		}
		probe_listening(p);
		if (tlsproto_is_implicit(p->t->proto))
			probe_upgrade(p);
		else {
			p->phase = P_GREETING;
			smtp_reply_init(&p->reply);
			probe_timer(p);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		probe_closed(p, what);
}

static void
probe_connect(struct probe *p)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, p->t->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p->t->port);
		sl = sizeof(*s4);
	} else {
		inet_pton(AF_INET6, p->t->host, &s6->sin6_addr);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p->t->port);
		sl = sizeof(*s6);
	}
	p->phase = P_CONNECT;
	if (!(p->bev = bufferevent_socket_new(p->run->cr->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
		probe_fail(p, LEVEL_WARN, EV_SETUP_FAILED, "reason", "bufferevent");
		p->run->unknown = 1;
		probe_finish(p);
		return;
	}
	bufferevent_setcb(p->bev, on_read, NULL, on_event, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	probe_timer(p);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		probe_fail_errno(p, EV_CONNECT_FAILED, NULL, errno);
		probe_finish(p);
	}
}

static void
on_tlsa(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct probe *p = arg;

	if (p->phase == P_DONE || p->dns != DNS_PENDING)
		return;
	p->dns = DNS_DONE;
	p->dns_status = st;
	if (st == RESOLV_OK) {
		if (!(p->tlsa = calloc(1, sizeof(*p->tlsa))) ||
		    tlsa_parse(abuf, alen, p->tlsa) < 0) {
			free(p->tlsa);
			p->tlsa = NULL;
			p->dns_status = RESOLV_ERROR;
		} else
			p->tlsa->ad = ad;
	}
	if (p->phase == P_DNS)
		probe_go_tls(p);
}

/* The TLSA records for the name senders look up: _25._tcp.MX. */
static void
probe_lookup(struct probe *p)
{
	char qname[300];

	snprintf(qname, sizeof(qname), "_25._tcp.%s", p->name);
	p->dns = DNS_PENDING;
	if (resolv_query(p->run->resolv, qname, TLSA_TYPE, on_tlsa, p) < 0) {
		p->dns = DNS_DONE;
		p->dns_status = RESOLV_ERROR;
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	switch (p->phase) {
	case P_DELAY:
		if (p->t->proto == TLSPROTO_SMTP && p->run->resolv)
			probe_lookup(p);
		probe_connect(p);
		return;
	case P_DNS:
		/* resolv's own timeout is the same; this is a safety net */
		p->dns = DNS_DONE;
		p->dns_status = RESOLV_TIMEOUT;
		probe_go_tls(p);
		return;
	case P_CONNECT:
		probe_not_listening(p, "timeout");
		break;
	case P_GREETING:
		probe_fail(p, LEVEL_CRIT, EV_NO_BANNER, NULL, NULL);
		break;
	case P_HANDSHAKE:
		probe_handshake_failed(p, "timeout");
		break;
	case P_QUIT:
	case P_DONE:
		break;
	default:
		probe_busy(p, "timeout", NULL, 0);
		break;
	}
	probe_finish(p);
}

/* the run */

static void
probe_free(struct probe *p)
{
	SSL *ssl;

	if (p->bev) {
		if (p->tls && (ssl = bufferevent_openssl_get_ssl(p->bev)))
			SSL_shutdown(ssl);	/* libevent never sends close_notify */
		bufferevent_free(p->bev);
		p->bev = NULL;
		ERR_clear_error();
	}
	if (p->timer)
		event_free(p->timer);
	p->timer = NULL;
	free(p->tlsa);
	p->tlsa = NULL;
	p->phase = P_DONE;
}

static void
tls_cleanup(struct check_run *cr)
{
	struct tlsrun *r = cr->state;
	unsigned i;

	for (i = 0; i < r->nprobe; i++)
		probe_free(&r->probe[i]);
	resolv_free(r->resolv);
	r->resolv = NULL;
	SSL_CTX_free(r->ctx);
	r->ctx = NULL;
}

static void
tls_finish(struct check_run *cr)
{
	const struct tlsrun *r = cr->state;
	int fd;

	/* Without a probe process the run is the root process: it keeps the
	 * memory itself. In the probe process (not root) the root process does,
	 * from the memos (tls_seen_update). */
	if (r->mem->dirty && geteuid() == 0 && (fd = checkstate_dir(r->cf->state)) >= 0) {
		seen_save((struct tlsconf *)r->cf, fd);
		close(fd);
	}
	run_done(cr, r->unknown ? CHECK_FAILED : CHECK_OK);
}

static void
probe_finish(struct probe *p)
{
	struct tlsrun *r = p->run;

	if (p->phase == P_DONE)
		return;
	/* free the connection now; the run ends from a fresh loop pass (if no
	 * timer can be made, the time limit ends it) */
	probe_free(p);
	if (--r->pending == 0)
		run_yield(r->cr, tls_finish);
}

/* The samples of the probes' outcomes. A target listed twice is one series:
 * failed in either is failed. */
static void
tls_samples(const struct check_run *cr, struct metrics *m)
{
	const struct tlsrun *r = cr->state;
	const struct probe *p, *q, *days, *cert;
	unsigned i, k;
	int seen, failed;

	for (i = 0; i < r->nprobe; i++) {
		p = &r->probe[i];
		for (k = 0; k < i && strcmp(r->probe[k].target, p->target) != 0; k++)
			;
		if (k < i)
			continue;
		seen = failed = 0;
		days = cert = NULL;
		for (k = i; k < r->nprobe; k++) {
			q = &r->probe[k];
			if (strcmp(q->target, p->target) != 0 || q->absent)
				continue;
			seen |= q->seen;
			failed |= q->failed;
			if (q->has_days)
				days = q;
			if (q->has_not_after)
				cert = q;
		}
		if (cert)
			metrics_set(m, &tls_metrics[TLS_M_NOTAFTER], p->target, NULL,
			    (double)cert->not_after);
		if (days) {
			metrics_set(m, &tls_metrics[TLS_M_EXPIRY], p->target, NULL,
			    (double)days->days * 86400);
			metrics_limits(m, &tls_metrics[TLS_M_EXPIRY], p->target, NULL,
			    (double)r->cf->warn_days, (double)r->cf->crit_days);
		}
		if (seen)
			metrics_set(m, &tls_metrics[TLS_M_OK], p->target, NULL, failed ? 0 : 1);
	}
}

/* What configure could not read of MAINTD_TLS_CERTFILES. */
static void
say_disk(struct tlsrun *r)
{
	const struct diskcert *d;
	struct finding f;
	unsigned i;

	for (i = 0; i < r->cf->ncertfiles; i++) {
		d = &r->cf->disk[i];
		if (!d->errnum)
			continue;
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_CERTFILE_BAD);
		finding_add(&f, "file", d->file);
		finding_subject(&f);
		if (d->errnum < 0)
			finding_add(&f, "reason", "no-certificate");
		else
			finding_error(&f, d->errnum);
		run_emit(r->cr, &f);
	}
}

static int
setup_ctx(struct tlsrun *r)
{
	/* accept whatever the service offers, so that old protocols and bad
	 * certificates are reported rather than refused */
	if (!(r->ctx = SSL_CTX_new(TLS_client_method())))
		return -1;
	SSL_CTX_set1_cert_store(r->ctx, r->cf->store);	/* loaded by configure */
	if (!SSL_CTX_set_min_proto_version(r->ctx, TLS1_VERSION) ||
	    !SSL_CTX_set_cipher_list(r->ctx, "ALL:@SECLEVEL=0") ||
	    SSL_CTX_dane_enable(r->ctx) <= 0)
		return -1;
	SSL_CTX_set_security_level(r->ctx, 0);
	SSL_CTX_set_options(r->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_NONE, NULL);
	return 0;
}

static void
setup_failed(struct tlsrun *r, const char *reason)
{
	struct finding f;
	char why[256];

	snprintf(why, sizeof(why), "%s", reason);
	if (ERR_peek_error())
		ERR_error_string_n(ERR_peek_error(), why, sizeof(why));
	ERR_clear_error();
	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_SETUP_FAILED);
	finding_add(&f, "what", reason);
	finding_subject(&f);
	finding_add(&f, "reason", why);
	run_emit(r->cr, &f);
	run_done(r->cr, CHECK_FAILED);
}

static void
probe_init(struct tlsrun *r, struct probe *p, unsigned index)
{
	const struct tls_target *t = &r->cf->target[index];
	struct timeval tv = { 0, 0 };
	unsigned ms;

	p->run = r;
	p->t = t;
	p->index = index;
	p->phase = P_DELAY;
	p->target = r->cf->tname[index];
	p->name = *t->sni ? t->sni : r->name;
	/* services are not hit in lockstep */
	ms = r->cf->spread ? arc4random_uniform((uint32_t)r->cf->spread * 1000) : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

static void
tls_start(struct check_run *cr)
{
	struct tlsrun *r = cr->state;
	const struct tlsconf *cf = cr->config;
	unsigned i;

	r->cr = cr;
	r->cf = cf;
	r->mem = (struct tls_memory *)&cf->mem;	/* a malloc'd value: ours to change */
	snprintf(r->name, sizeof(r->name), "%s", *cf->name ? cf->name : cr->conf->me);
	if (!*r->name)
		snprintf(r->name, sizeof(r->name), "localhost");
	if (setup_ctx(r) < 0) {
		setup_failed(r, "ssl-context");
		return;
	}
	for (i = 0; i < cf->ntargets; i++)
		if (cf->target[i].proto == TLSPROTO_SMTP)
			break;
	if (cf->dane && i < cf->ntargets && (!cf->chan || !(r->resolv = resolv_open(cr->base,
	    cf->chan)))) {
		struct finding f;
		int e = cf->chan ? errno : cf->chan_errno;

		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_TLSA_LOOKUP_FAILED);
		finding_add(&f, "status", "no-resolver");
		finding_subject(&f);
		if (e)
			finding_error(&f, e);
		else
			finding_add(&f, "reason", cf->chan_err);
		run_emit(cr, &f);
		r->unknown = 1;
	}
	say_disk(r);
	r->nprobe = r->pending = cf->ntargets;
	for (i = 0; i < cf->ntargets; i++)
		if (!(r->probe[i].timer = evtimer_new(cr->base, on_timer, &r->probe[i]))) {
			setup_failed(r, "event");
			return;
		}
	for (i = 0; i < cf->ntargets; i++)
		probe_init(r, &r->probe[i], i);
	if (r->nprobe == 0)
		tls_finish(cr);
}

const struct check check_tls = {
	.name = "tls",
	.where = CHECK_PROBE,
	.interval = 0,
	.timeout = 300,
	.vars = tls_vars,
	.events = tls_events,
	.configure = tls_configure,
	.config_free = tls_config_free,
	.run_size = sizeof(struct tlsrun),
	.start = tls_start,
	.cleanup = tls_cleanup,
	.metrics = tls_metrics,
	.samples = tls_samples,
	.memo = tls_seen_update,
};
