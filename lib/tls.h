/* The tls check: probes the local SMTP and POP3 services as a sending MTA
 * and a mail client would (STARTTLS offered, handshake, certificate, DANE;
 * the probe itself is lib/tlsprobe.h), all targets concurrently on the
 * event loop. Its configure reads every file
 * it needs (the CA store, MAINTD_TLS_CERTFILES, the resolver configuration,
 * its memory): a run opens none, so it may run in the probe process. */
#ifndef TLS_H
#define TLS_H

#include <limits.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "check.h"
#include "tlsa.h"
#include "tlsprobe.h"	/* the probe and its pure helpers (tls_cert_days, ...) */

extern const struct check check_tls;
/* Variables the remote check reads too (each lists them in its .vars). */
extern const struct confvar tls_var_cafile, tls_var_capath, tls_var_timeout, tls_var_dane;

/* The TLS client's settings, the same for the tls and the remote check. */
struct tls_clientconf {
	unsigned long timeout;	/* MAINTD_TLS_TIMEOUT, 1..3600 s: each phase, each query */
	unsigned long dane;	/* MAINTD_TLS_DANE, 0 or 1 */
	char cafile[PATH_MAX], capath[PATH_MAX];	/* MAINTD_TLS_CAFILE, _CAPATH */
};

/* Reads them: 0, or -1 with err filled (out of bounds, too long). */
int tls_clientconf_read(struct tls_clientconf *cc, struct conf_err *err);

/* OpenSSL set up (openssl.cnf read) and the trusted CAs: cc's cafile and
 * capath, or the system's store when both are "". 0, or -1 with err filled
 * (a path given that is not there or holds no certificate); *store is the
 * caller's to free either way. Reads files: for configure, never a run. */
int tls_store_load(const struct tls_clientconf *cc, X509_STORE **store, struct conf_err *err);

/* MAINTD_STATE/tls.seen, one target a line as the log names it: fn gets
 * each (not NUL-terminated); its non-zero return stops and is returned. */
int tls_seen_parse(const char *buf, size_t len,
    int (*fn)(const char *target, size_t len, void *arg), void *arg);

/* For the root process when tls runs in the probe process: call it with
 * every finding of a tls run and the tls config value it holds. A memo
 * (debug tls: seen-listening target=T) of a target of that configuration
 * marks it seen (from then on it is required) and rewrites
 * MAINTD_STATE/tls.seen in the state directory statedir (-1: do not save).
 * 1 saved, 0 nothing to do, -1 the save failed (errno). */
int tls_seen_update(int statedir, void *config, const struct finding *);

#endif
