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

/* the check's own event codes; the probe's are in tlsprobe.h */
#define EV_CERT_DIFFERS		"cert-differs-from-disk"
#define EV_CERTFILE_BAD		"certfile-unreadable"
#define EV_TLSA_NO_ROLLOVER	"tlsa-no-rollover"
#define EV_SEEN_LISTENING	"seen-listening"

static const char *const tls_events[] = {
	TLS_EV_OK, TLS_EV_NOT_LISTENING, TLS_EV_CONNECT_FAILED, TLS_EV_NO_BANNER, TLS_EV_BUSY,
	TLS_EV_DIALOGUE_FAILED, TLS_EV_STARTTLS_MISSING, TLS_EV_AUTH_BEFORE_TLS,
	TLS_EV_HANDSHAKE_FAILED, TLS_EV_PROTOCOL_OLD, TLS_EV_CERT_EXPIRED, TLS_EV_CERT_EXPIRING,
	TLS_EV_CERT_UNTRUSTED, TLS_EV_CERT_NAME_MISMATCH, EV_CERT_DIFFERS, EV_CERTFILE_BAD,
	TLS_EV_TLSA_MATCH, TLS_EV_TLSA_MISMATCH, EV_TLSA_NO_ROLLOVER, TLS_EV_TLSA_LOOKUP_FAILED,
	TLS_EV_SETUP_FAILED, EV_SEEN_LISTENING, NULL
};

static const struct confvar var_targets = { "MAINTD_TLS_TARGETS",
	"smtp://127.0.0.1:25 smtps://127.0.0.1:465 submission://127.0.0.1:587 "
	"pop3://127.0.0.1:110 pop3s://127.0.0.1:995" };
static const struct confvar var_name = { "MAINTD_TLS_NAME", "" };
const struct confvar tls_var_cafile = { "MAINTD_TLS_CAFILE", "" };
const struct confvar tls_var_capath = { "MAINTD_TLS_CAPATH", "" };
static const struct confvar var_warn = { "MAINTD_CERT_WARN_DAYS", "21" };
static const struct confvar var_crit = { "MAINTD_CERT_CRIT_DAYS", "7" };
static const struct confvar var_certfiles = { "MAINTD_TLS_CERTFILES", "" };
const struct confvar tls_var_timeout = { "MAINTD_TLS_TIMEOUT", "30" };
static const struct confvar var_spread = { "MAINTD_TLS_SPREAD", "5" };
const struct confvar tls_var_dane = { "MAINTD_TLS_DANE", "1" };
static const struct confvar *const tls_vars[] = {
	&var_targets, &var_name, &tls_var_cafile, &tls_var_capath, &var_warn, &var_crit,
	&var_certfiles, &tls_var_timeout, &var_spread, &tls_var_dane, &conf_dns_servers, NULL
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
	unsigned long warn_days, crit_days, spread;
	struct tls_clientconf client;
	char name[256];		/* MAINTD_TLS_NAME; "": control/me */
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

/* the run state (run->state) */
struct tlsrun {
	struct check_run *cr;
	const struct tlsconf *cf;
	struct tls_memory *mem;	/* the config value's: this process's memory */
	struct tlsclient cl;
	unsigned pending;
	int unknown;		/* some result is unknown: clear nothing */
	char name[256];
	struct tlsprobe probe[TLS_MAXTARGETS];
	unsigned nprobe;
};

static void tls_finish(struct check_run *);


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

int
tls_clientconf_read(struct tls_clientconf *cc, struct conf_err *err)
{
	if (conf_ulong(&tls_var_timeout, 1, 3600, &cc->timeout, err) < 0 ||
	    conf_ulong(&tls_var_dane, 0, 1, &cc->dane, err) < 0 ||
	    conf_copy(&tls_var_cafile, cc->cafile, sizeof(cc->cafile), err) < 0 ||
	    conf_copy(&tls_var_capath, cc->capath, sizeof(cc->capath), err) < 0)
		return -1;
	return 0;
}

/* A CA file or directory the operator named in var: it must be there and
 * add a certificate. 0, or -1 with err filled. */
static int
ca_given(struct ca_loader *l, const struct confvar *var, const char *path,
    int (*load)(struct ca_loader *, const char *), struct conf_err *err)
{
	int n = ca_count(l->store);

	if (load(l, path) < 0)
		return conf_set_errno(err, var->name, path, errno);
	if (ca_count(l->store) == n)
		return conf_set_err(err, var->name, path, "no-certificate");
	return 0;
}

/* MAINTD_TLS_CAFILE, MAINTD_TLS_CAPATH, or the system's store (OpenSSL's
 * default file and directories, or SSL_CERT_FILE, SSL_CERT_DIR). A path
 * given that is not there, or holds no certificate, is bad-config. */
int
tls_store_load(const struct tls_clientconf *cc, X509_STORE **store, struct conf_err *err)
{
	const char *cafile = cc->cafile, *capath = cc->capath;
	struct ca_loader l = { NULL, NULL, NULL, 0, 0 };
	const char *file, *dir;
	char dirs[PATH_MAX], *p, *next;

	/* OpenSSL reads openssl.cnf (and whatever it loads) now, once: never
	 * in a run. And glibc reads /etc/localtime at the first gmtime_r (a
	 * certificate's dates) unless its time zone is set up already. */
	tzset();
	if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL))
		return conf_set_err(err, tls_var_cafile.name, cafile, "openssl-init");

	if (!(l.store = *store = X509_STORE_new()) ||
	    !(l.lookup = X509_STORE_add_lookup(l.store, X509_LOOKUP_file())))
		return conf_set_errno(err, tls_var_cafile.name, cafile, ENOMEM);
	if ((*cafile && ca_given(&l, &tls_var_cafile, cafile, ca_file, err) < 0) ||
	    (*capath && ca_given(&l, &tls_var_capath, capath, ca_dir, err) < 0))
		goto fail;
	if (!*cafile && !*capath) {
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

	if (!(cf = calloc(1, sizeof(*cf))) || !(cf->servers = strdup(conf_value(&conf_dns_servers)))) {
		conf_set_errno(err, var_targets.name, "", ENOMEM);
		goto bad;
	}
	cc.cf = cf;
	if (conf_ulong(&var_warn, 0, 3650, &cf->warn_days, err) < 0 ||
	    conf_ulong(&var_crit, 0, 3650, &cf->crit_days, err) < 0 ||
	    conf_ulong(&var_spread, 0, 300, &cf->spread, err) < 0 ||
	    tls_clientconf_read(&cf->client, err) < 0)
		goto bad;
	if (cf->crit_days > cf->warn_days) {
		conf_set_err(err, var_crit.name, conf_value(&var_crit), "above-warn-days");
		goto bad;
	}
	if (conf_list(conf_value(&var_targets), add_target, &cc) != 0 ||
	    conf_list(conf_value(&var_certfiles), add_certfile, &cc) != 0 ||
	    conf_copy(&var_name, cf->name, sizeof(cf->name), err) < 0)
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
	if (tls_store_load(&cf->client, &cf->store, err) < 0)
		goto bad;
	load_disk(cf);
	for (i = 0; i < cf->ntargets && cf->target[i].proto != TLSPROTO_SMTP; i++)
		;
	/* the resolver for TLSA records: the system's servers, read now */
	if (cf->client.dane && i < cf->ntargets && !(cf->chan = resolv_chan_new(cf->servers,
	    (unsigned)(cf->client.timeout * 1000), cf->chan_err, sizeof(cf->chan_err))))
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

/* what the probes tell: findings as they are, the target's memory, the disk */

static struct tlsrun *
run_of(const struct tlsprobe *p)
{
	return p->owner;
}

static unsigned
index_of(const struct tlsprobe *p)
{
	return (unsigned)(p - run_of(p)->probe);
}

static void
on_probe_emit(struct tlsprobe *p, struct finding *f)
{
	run_emit(run_of(p)->cr, f);
}

static void
on_probe_finish(struct tlsprobe *p)
{
	struct tlsrun *r = run_of(p);

	if (p->unknown)
		r->unknown = 1;
	/* the run ends from a fresh loop pass (if no timer can be made, the
	 * time limit ends it) */
	if (--r->pending == 0)
		run_yield(r->cr, tls_finish);
}

/* A target the operator named (or smtp on port 25) is required; the other
 * defaults once seen listening (a service that ran and stopped is not one
 * the site does not run). */
static int
on_probe_required(const struct tlsprobe *p)
{
	const struct tlsrun *r = run_of(p);
	unsigned i = index_of(p);

	return r->cf->required[i] || r->mem->seen[i];
}

/* Connected: the target is listening. The first time, the memo the root
 * process keeps (tls_seen_update). */
static void
on_probe_listening(struct tlsprobe *p)
{
	struct tlsrun *r = run_of(p);
	unsigned i = index_of(p);
	struct finding f;

	if (r->mem->seen[i])
		return;
	r->mem->seen[i] = 1;
	r->mem->dirty = 1;
	finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, NULL, EV_SEEN_LISTENING);
	finding_add(&f, "target", p->target);
	run_emit(r->cr, &f);
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
on_probe_examine(struct tlsprobe *p, X509 *leaf)
{
	const struct tlsconf *cf = run_of(p)->cf;
	struct finding f;
	unsigned i;

	for (i = 0; i < cf->ncertfiles; i++)
		if (cf->disk[i].n && X509_cmp(cf->disk[i].cert[0], leaf) == 0)
			return;
	for (i = 0; i < cf->ncertfiles; i++) {
		if (!cf->disk[i].n || !disk_is_for(&cf->disk[i], leaf, p->name))
			continue;
		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_CERT_DIFFERS);
		finding_add(&f, "target", p->target);
		finding_subject(&f);
		finding_add(&f, "file", cf->disk[i].file);
		p->bad = p->seen = 1;
		run_emit(run_of(p)->cr, &f);
		if (p->tlsa && p->tlsa->n && !disk_rollover_ok(&cf->disk[i], p->tlsa)) {
			finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, EV_TLSA_NO_ROLLOVER);
			finding_add(&f, "target", p->target);
			finding_subject(&f);
			finding_add(&f, "file", cf->disk[i].file);
			run_emit(run_of(p)->cr, &f);
		}
	}
}

static const struct tlsprobe_ops tls_probe_ops = {
	.emit = on_probe_emit,
	.finish = on_probe_finish,
	.listening = on_probe_listening,
	.required = on_probe_required,
	.examine = on_probe_examine,
};
static void
tls_cleanup(struct check_run *cr)
{
	struct tlsrun *r = cr->state;
	unsigned i;

	for (i = 0; i < r->nprobe; i++)
		tlsprobe_free(&r->probe[i]);
	resolv_free(r->cl.resolv);
	r->cl.resolv = NULL;
	tlsclient_free(&r->cl);
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

/* The samples of the probes' outcomes. A target listed twice is one series:
 * failed in either is failed. */
static void
tls_samples(const struct check_run *cr, struct metrics *m)
{
	const struct tlsrun *r = cr->state;
	const struct tlsprobe *p, *q, *days, *cert;
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

static void
setup_failed(struct tlsrun *r, const char *reason)
{
	struct finding f;
	char why[256];

	snprintf(why, sizeof(why), "%s", reason);
	if (ERR_peek_error())
		ERR_error_string_n(ERR_peek_error(), why, sizeof(why));
	ERR_clear_error();
	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TLS_EV_SETUP_FAILED);
	finding_add(&f, "what", reason);
	finding_subject(&f);
	finding_add(&f, "reason", why);
	run_emit(r->cr, &f);
	run_done(r->cr, CHECK_FAILED);
}

static void
probe_init(struct tlsrun *r, struct tlsprobe *p, unsigned index)
{
	const struct tls_target *t = &r->cf->target[index];

	p->cl = &r->cl;
	p->ops = &tls_probe_ops;
	p->owner = r;
	p->t = t;
	p->target = r->cf->tname[index];
	p->name = *t->sni ? t->sni : r->name;
	p->tlsa_port = 25;	/* what senders look up, whatever port we probe */
	/* services are not hit in lockstep */
	tlsprobe_start(p, r->cf->spread ? arc4random_uniform((uint32_t)r->cf->spread * 1000) : 0);
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
	r->cl.base = cr->base;
	r->cl.store = cf->store;
	r->cl.timeout = cf->client.timeout;
	r->cl.warn_days = cf->warn_days;
	r->cl.crit_days = cf->crit_days;
	snprintf(r->cl.helo, sizeof(r->cl.helo), "%s", *cr->conf->me ? cr->conf->me : "localhost");
	if (tlsclient_ctx(&r->cl) < 0) {
		setup_failed(r, "ssl-context");
		return;
	}
	for (i = 0; i < cf->ntargets; i++)
		if (cf->target[i].proto == TLSPROTO_SMTP)
			break;
	if (cf->client.dane && i < cf->ntargets && (!cf->chan || !(r->cl.resolv = resolv_open(cr->base,
	    cf->chan)))) {
		struct finding f;
		int e = cf->chan ? errno : cf->chan_errno;

		finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, TLS_EV_TLSA_LOOKUP_FAILED);
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
		if (tlsprobe_init(&r->probe[i], cr->base) < 0) {
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
