/* One probe: a connection that talks to an SMTP, submission or POP3 service
 * the way a sending MTA or a mail client does (the greeting, EHLO or CAPA,
 * STARTTLS or STLS, the handshake with SNI and DANE TLSA when published),
 * examines what was served (protocol, expiry, trust, name, TLSA) and says
 * QUIT. It never sends MAIL FROM. Every phase is bounded by the client's
 * timeout. What it finds it reports as findings of the tls check's codes
 * (target=, then e.g. starttls-missing reason=...) through its owner's ops:
 * the tls check logs them as they are, the remote check (the MX our mail is
 * stuck on) turns them into one diagnosis. No file is opened: the CA store
 * and resolver channel come from the owner's configure. */
#ifndef TLSPROBE_H
#define TLSPROBE_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "finding.h"
#include "resolv.h"
#include "tlsa.h"
#include "tlsproto.h"

/* the event codes a probe emits (documented under the tls check) */
#define TLS_EV_OK		"ok"
#define TLS_EV_NOT_LISTENING	"not-listening"
#define TLS_EV_CONNECT_FAILED	"connect-failed"
#define TLS_EV_NO_BANNER	"no-banner"
#define TLS_EV_BUSY		"busy"
#define TLS_EV_DIALOGUE_FAILED	"dialogue-failed"
#define TLS_EV_STARTTLS_MISSING	"starttls-missing"
#define TLS_EV_AUTH_BEFORE_TLS	"auth-before-tls"
#define TLS_EV_HANDSHAKE_FAILED	"handshake-failed"
#define TLS_EV_PROTOCOL_OLD	"protocol-old"
#define TLS_EV_CERT_EXPIRED	"cert-expired"
#define TLS_EV_CERT_EXPIRING	"cert-expiring"
#define TLS_EV_CERT_UNTRUSTED	"cert-untrusted"
#define TLS_EV_CERT_NAME_MISMATCH "cert-name-mismatch"
#define TLS_EV_TLSA_MATCH	"tlsa-match"
#define TLS_EV_TLSA_MISMATCH	"tlsa-mismatch"
#define TLS_EV_TLSA_LOOKUP_FAILED "tlsa-lookup-failed"
#define TLS_EV_SETUP_FAILED	"setup-failed"

/* What the probes of one run share. */
struct tlsclient {
	struct event_base *base;
	SSL_CTX *ctx;			/* tlsclient_ctx */
	X509_STORE *store;		/* the trusted CAs (the owner's) */
	struct resolv *resolv;		/* TLSA lookups; NULL: no DANE */
	unsigned long timeout;		/* seconds, each phase */
	unsigned long warn_days, crit_days;	/* cert-expiring */
	char helo[256];			/* the EHLO argument */
};

struct tlsprobe;

struct tlsprobe_ops {
	void (*emit)(struct tlsprobe *, struct finding *);	/* every finding */
	void (*finish)(struct tlsprobe *);	/* it ended; its connection is freed */
	/* optional: the TCP connection was accepted */
	void (*listening)(struct tlsprobe *);
	/* optional: 1 when not listening is crit, 0 info (absent: 1) */
	int (*required)(const struct tlsprobe *);
	/* optional: more about the served leaf certificate */
	void (*examine)(struct tlsprobe *, X509 *leaf);
};

enum tlsprobe_phase {
	P_DELAY, P_DNS, P_CONNECT, P_GREETING, P_EHLO, P_STARTTLS, P_HANDSHAKE,
	P_EHLO_TLS, P_CAPA, P_STLS, P_CAPA_TLS, P_QUIT, P_DONE
};

struct tlsprobe {
	/* the owner's, set before tlsprobe_start */
	const struct tlsclient *cl;
	const struct tlsprobe_ops *ops;
	void *owner;
	const struct tls_target *t;
	const char *target;	/* PROTO://HOST:PORT[/SNI] for the log */
	const char *name;	/* the name the certificate must carry; SNI */
	unsigned tlsa_port;	/* TLSA at _PORT._tcp.NAME (smtp only; 0: none) */

	enum tlsprobe_phase phase;
	int tls;		/* the TLS session is up */
	int bad;		/* a warn or crit finding was emitted */
	/* the outcome */
	int seen;		/* a finding of the target was emitted */
	int failed;		/* it got no TLS session */
	int unknown;		/* some result is unknown (setup, TLSA lookup, busy) */
	int has_days;		/* a finding told the certificate's days */
	int absent;		/* not listening and not required: no service */
	long days;
	int has_not_after;	/* its certificate was read: whatever else was found */
	time_t not_after;
	struct tlsa_set *tlsa;	/* what the TLSA lookup found (NULL: nothing) */

	/* the probe's own */
	int capa_status;
	struct event *timer;
	struct bufferevent *bev;
	struct smtp_reply reply;
	struct pop3_capa capa;
	enum { DNS_NONE, DNS_PENDING, DNS_DONE } dns;
	enum resolv_status dns_status;
	int dane, dane_ad;
};

/* The client's SSL context (accepting whatever is offered so that it can
 * be reported): 0, or -1 (OpenSSL's error queue says why). */
int tlsclient_ctx(struct tlsclient *);
void tlsclient_free(struct tlsclient *);	/* the context */

/* The probe's timer: 0, or -1. Then tlsprobe_start begins after delay_ms;
 * ops->finish is called exactly once, from the event loop, unless
 * tlsprobe_free (always safe, also twice) cancels it first. */
int tlsprobe_init(struct tlsprobe *, struct event_base *);
void tlsprobe_start(struct tlsprobe *, unsigned delay_ms);
void tlsprobe_free(struct tlsprobe *);
const char *tlsprobe_phase_name(enum tlsprobe_phase);

/* Whole days from now until the certificate's notAfter (negative: past). */
int tls_cert_days(const X509 *, long *days);
/* The certificate's notAfter as Unix time: 0, or -1. */
int tls_cert_not_after(const X509 *, time_t *when);
/* 1 when the TLSA record matches the certificate (selector, matching type). */
int tls_tlsa_matches(const struct tlsa_rr *, X509 *);
/* name formatted RFC 2253 style into buf; returns buf */
char *tls_name_string(const X509_NAME *, char *buf, size_t size);

#endif
