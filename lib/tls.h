/* The tls check: probes the local SMTP and POP3 services as a sending MTA
 * and a mail client would (STARTTLS offered, handshake, certificate, DANE),
 * all targets concurrently on the event loop. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "check.h"
#include "tlsa.h"

extern const struct check check_tls;

/* Whole days from now until the certificate's notAfter (negative: past). */
int tls_cert_days(const X509 *, long *days);
/* 1 when the TLSA record matches the certificate (selector, matching type). */
int tls_tlsa_matches(const struct tlsa_rr *, X509 *);
/* name formatted RFC 2253 style into buf; returns buf */
char *tls_name_string(const X509_NAME *, char *buf, size_t size);

#endif
