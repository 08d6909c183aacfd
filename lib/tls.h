/* The tls check: probes the local SMTP and POP3 services as a sending MTA
 * and a mail client would (STARTTLS offered, handshake, certificate, DANE),
 * all targets concurrently on the event loop. Its configure reads every file
 * it needs (the CA store, MAINTD_TLS_CERTFILES, the resolver configuration,
 * its memory): a run opens none, so it may run in the probe process. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "check.h"
#include "tlsa.h"

extern const struct check check_tls;

/* Whole days from now until the certificate's notAfter (negative: past). */
int tls_cert_days(const X509 *, long *days);
/* The certificate's notAfter as Unix time: 0, or -1. */
int tls_cert_not_after(const X509 *, time_t *when);
/* 1 when the TLSA record matches the certificate (selector, matching type). */
int tls_tlsa_matches(const struct tlsa_rr *, X509 *);
/* name formatted RFC 2253 style into buf; returns buf */
char *tls_name_string(const X509_NAME *, char *buf, size_t size);

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
