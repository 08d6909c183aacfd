/* One probe's connection: the plaintext dialogue (tlsproto.c), the upgrade
 * to TLS and the examination of what was served. The owner turns what it
 * reports into its own findings (lib/tls.c, lib/remote.c). */
#include "tlsprobe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

static const char *const phase_names[] = {
	"delay", "dns", "connect", "greeting", "ehlo", "starttls", "handshake",
	"ehlo-tls", "capa", "stls", "capa-tls", "quit", "done"
};

const char *
tlsprobe_phase_name(enum tlsprobe_phase ph)
{
	return ph <= P_DONE ? phase_names[ph] : "?";
}

static void probe_finish(struct tlsprobe *);

/* An address as the name (a relay of control/smtproutes): no SNI for it
 * (RFC 6066 3), and the certificate's IP addresses are what must match. */
static int
name_is_address(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
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
probe_finding(struct tlsprobe *p, struct finding *f, enum level lv, enum finding_kind k,
    const char *event)
{
	finding_init(f, lv, k, NULL, event);
	finding_add(f, "target", p->target);
	if (k == FINDING_STATE)
		finding_subject(f);
}

static void
probe_emit(struct tlsprobe *p, struct finding *f)
{
	if (f->level >= LEVEL_WARN)
		p->bad = 1;
	p->seen = 1;
	p->ops->emit(p, f);
}

static void
probe_say(struct tlsprobe *p, enum level lv, const char *event, const char *key, const char *val)
{
	struct finding f;

	probe_finding(p, &f, lv, FINDING_STATE, event);
	if (key)
		finding_add(&f, key, val);
	probe_emit(p, &f);
}

/* A finding that says the probe got no TLS session. */
static void
probe_fail(struct tlsprobe *p, enum level lv, const char *event, const char *key, const char *val)
{
	p->failed = 1;
	probe_say(p, lv, event, key, val);
}

/* The same (crit) with error=ENAME, a system call's failure, after phase=. */
static void
probe_fail_errno(struct tlsprobe *p, const char *event, const char *phase, int errnum)
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
probe_days(struct tlsprobe *p, struct finding *f, long days)
{
	finding_addi(f, "days", days);
	p->has_days = 1;
	p->days = days;
}

/* the connection */

static void
probe_timer(struct tlsprobe *p)
{
	struct timeval tv = { (time_t)p->cl->timeout, 0 };

	evtimer_add(p->timer, &tv);
}

static void
probe_send(struct tlsprobe *p, const char *cmd, enum tlsprobe_phase next)
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
probe_ehlo(struct tlsprobe *p, enum tlsprobe_phase next)
{
	const char *me = p->cl->helo;
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "EHLO %s", *me ? me : "localhost");
	probe_send(p, cmd, next);
}

static void
probe_quit(struct tlsprobe *p)
{
	probe_send(p, "QUIT", P_QUIT);
}

/* The dialogue stopped in the current phase: why (reason), and the reply
 * that stopped it, when there is one. */
static void
probe_stopped(struct tlsprobe *p, enum level lv, const char *event, const char *reason,
    const char *reply, size_t len)
{
	struct finding f;

	p->failed = 1;
	probe_finding(p, &f, lv, FINDING_STATE, event);
	finding_add(&f, "phase", tlsprobe_phase_name(p->phase));
	if (reason)
		finding_add(&f, "reason", reason);
	if (reply)
		finding_addn(&f, "reply", reply, len);
	probe_emit(p, &f);
}

/* A 421 or a timeout: the service is there but cannot tell us now. */
static void
probe_busy(struct tlsprobe *p, const char *reason, const char *reply, size_t len)
{
	probe_stopped(p, LEVEL_WARN, TLS_EV_BUSY, reason, reply, len);
	p->unknown = 1;
}

static void
probe_dialogue_failed(struct tlsprobe *p, const char *reason, const char *reply, size_t len)
{
	probe_stopped(p, LEVEL_CRIT, TLS_EV_DIALOGUE_FAILED, reason, reply, len);
}

static void
probe_handshake_failed(struct tlsprobe *p, const char *reason)
{
	probe_fail(p, LEVEL_CRIT, TLS_EV_HANDSHAKE_FAILED, "reason", reason);
}

/* Why the connection failed: OpenSSL's reason or "connection closed by
 * peer" in buf (0), or the socket's errno (buf unset). */
static int
probe_ssl_error(struct tlsprobe *p, char *buf, size_t size)
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
probe_examine_cert(struct tlsprobe *p, SSL *ssl, X509 *leaf)
{
	const struct tlsclient *cl = p->cl;
	struct finding f;
	X509_STORE_CTX *vc;
	char subject[512];
	long days;

	tls_name_string(X509_get_subject_name(leaf), subject, sizeof(subject));
	p->has_not_after = tls_cert_not_after(leaf, &p->not_after) == 0;
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, TLS_EV_CERT_EXPIRED);
		if (tls_cert_days(leaf, &days) == 0)
			probe_days(p, &f, days);
		finding_add(&f, "subject", subject);
		probe_emit(p, &f);
	} else if (tls_cert_days(leaf, &days) == 0 && days < (long)cl->warn_days) {
		probe_finding(p, &f, days < (long)cl->crit_days ? LEVEL_CRIT : LEVEL_WARN,
		    FINDING_STATE, TLS_EV_CERT_EXPIRING);
		probe_days(p, &f, days);
		finding_add(&f, "subject", subject);
		probe_emit(p, &f);
	}
	if ((name_is_address(p->name) ? X509_check_ip_asc(leaf, p->name, 0) :
	    X509_check_host(leaf, p->name, 0, 0, NULL)) != 1) {
		probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, TLS_EV_CERT_NAME_MISMATCH);
		finding_add(&f, "name", p->name);
		finding_add(&f, "subject", subject);
		probe_emit(p, &f);
	}
	if ((vc = X509_STORE_CTX_new()) &&
	    X509_STORE_CTX_init(vc, cl->store, leaf, SSL_get_peer_cert_chain(ssl))) {
		/* expiry is its own finding */
		X509_STORE_CTX_set_flags(vc, X509_V_FLAG_NO_CHECK_TIME);
		if (X509_verify_cert(vc) != 1) {
			probe_finding(p, &f, LEVEL_CRIT, FINDING_STATE, TLS_EV_CERT_UNTRUSTED);
			finding_add(&f, "reason",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)));
			finding_add(&f, "subject", subject);
			probe_emit(p, &f);
		}
	}
	X509_STORE_CTX_free(vc);
}

static void
probe_examine_dane(struct tlsprobe *p, SSL *ssl)
{
	uint8_t usage, selector, mtype;
	struct finding f;
	int depth;

	if (!p->dane)
		return;
	if ((depth = SSL_get0_dane_authority(ssl, NULL, NULL)) >= 0 &&
	    SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, NULL, NULL) >= 0) {
		probe_finding(p, &f, LEVEL_INFO, FINDING_NOTE, TLS_EV_TLSA_MATCH);
		finding_addu(&f, "usage", usage);
		finding_addu(&f, "selector", selector);
		finding_addu(&f, "mtype", mtype);
		finding_addi(&f, "depth", depth);
		finding_add(&f, "dnssec", p->dane_ad ? "yes" : "no");
		probe_emit(p, &f);
		return;
	}
	/* without DNSSEC, DANE-validating senders ignore the records */
	probe_finding(p, &f, p->dane_ad ? LEVEL_CRIT : LEVEL_WARN, FINDING_STATE, TLS_EV_TLSA_MISMATCH);
	finding_add(&f, "reason", X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	finding_addu(&f, "records", p->tlsa->n);
	finding_add(&f, "dnssec", p->dane_ad ? "yes" : "no");
	probe_emit(p, &f);
}

static void
probe_examine(struct tlsprobe *p)
{
	SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
	const char *version = SSL_get_version(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);

	if (strcmp(version, "TLSv1") == 0 || strcmp(version, "TLSv1.1") == 0)
		probe_say(p, LEVEL_WARN, TLS_EV_PROTOCOL_OLD, "version", version);
	if (!leaf) {
		probe_handshake_failed(p, "no certificate");
		return;
	}
	probe_examine_cert(p, ssl, leaf);
	probe_examine_dane(p, ssl);
	if (p->ops->examine)
		p->ops->examine(p, leaf);
}

static void
probe_ok(struct tlsprobe *p)
{
	SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	char name[512];
	struct finding f;
	long days;

	if (p->bad || !leaf)
		return;
	probe_finding(p, &f, LEVEL_INFO, FINDING_NOTE, TLS_EV_OK);
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
probe_add_tlsa(struct tlsprobe *p, SSL *ssl)
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
probe_upgrade(struct tlsprobe *p)
{
	evutil_socket_t fd = bufferevent_getfd(p->bev);
	struct bufferevent *b;
	SSL *ssl;

	/* detach the socket so that freeing the plain bufferevent keeps it open */
	bufferevent_setfd(p->bev, -1);
	bufferevent_free(p->bev);
	p->bev = NULL;
	p->phase = P_HANDSHAKE;
	if (!(ssl = SSL_new(p->cl->ctx)) ||
	    (!name_is_address(p->name) && !SSL_set_tlsext_host_name(ssl, p->name)) ||
	    probe_add_tlsa(p, ssl) < 0) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		probe_fail(p, LEVEL_WARN, TLS_EV_SETUP_FAILED, "reason", "ssl");
		p->unknown = 1;
		probe_finish(p);
		return;
	}
	if (!(b = bufferevent_openssl_socket_new(p->cl->base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
		/* libevent freed the SSL; the socket is still ours */
		evutil_closesocket(fd);
		probe_fail(p, LEVEL_WARN, TLS_EV_SETUP_FAILED, "reason", "bufferevent");
		p->unknown = 1;
		probe_finish(p);
		return;
	}
	p->bev = b;
	bufferevent_setcb(b, on_read, NULL, on_event, p);
	bufferevent_enable(b, EV_READ | EV_WRITE);
	probe_timer(p);
}

static void
probe_handshake_done(struct tlsprobe *p)
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
probe_go_tls(struct tlsprobe *p)
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
		probe_finding(p, &f, LEVEL_WARN, FINDING_STATE, TLS_EV_TLSA_LOOKUP_FAILED);
		finding_add(&f, "status", resolv_status_name(p->dns_status));
		probe_emit(p, &f);
		p->unknown = 1;
	}
	probe_upgrade(p);
}

static void
smtp_line(struct tlsprobe *p, const char *line, size_t len)
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
			probe_say(p, LEVEL_CRIT, TLS_EV_AUTH_BEFORE_TLS, NULL, NULL);
		if (!r->starttls) {
			probe_fail(p, LEVEL_CRIT, TLS_EV_STARTTLS_MISSING, NULL, NULL);
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
pop3_line(struct tlsprobe *p, const char *line, size_t len)
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
			probe_fail(p, LEVEL_CRIT, TLS_EV_STARTTLS_MISSING, NULL, NULL);
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
			probe_fail(p, LEVEL_CRIT, TLS_EV_STARTTLS_MISSING, NULL, NULL);
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
	struct tlsprobe *p = arg;
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
 * SYN): crit when the owner requires the service, else a service the site
 * does not run. */
static void
probe_not_listening(struct tlsprobe *p, const char *reason)
{
	int required = p->ops->required ? p->ops->required(p) : 1;

	if (!required)
		p->absent = 1;	/* no probe_ok sample: no service, not a failed one */
	probe_fail(p, required ? LEVEL_CRIT : LEVEL_INFO, TLS_EV_NOT_LISTENING, "reason", reason);
}

static void
probe_closed(struct tlsprobe *p, short what)
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
			probe_fail_errno(p, TLS_EV_CONNECT_FAILED, NULL, errnum);
		else
			probe_fail(p, LEVEL_CRIT, TLS_EV_CONNECT_FAILED, "reason", why);
		break;
	case P_HANDSHAKE:
		if ((errnum = probe_ssl_error(p, why, sizeof(why))))
			probe_fail_errno(p, TLS_EV_HANDSHAKE_FAILED, NULL, errnum);
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
			probe_fail_errno(p, TLS_EV_DIALOGUE_FAILED, tlsprobe_phase_name(p->phase), errnum);
		else
			probe_dialogue_failed(p, why, NULL, 0);
		break;
	}
	probe_finish(p);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct tlsprobe *p = arg;

	if (p->bev != bev || p->phase == P_DONE)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (p->phase == P_HANDSHAKE) {
			probe_handshake_done(p);
			return;
		}
		if (p->ops->listening)
			p->ops->listening(p);
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
probe_connect(struct tlsprobe *p)
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
	if (!(p->bev = bufferevent_socket_new(p->cl->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
		probe_fail(p, LEVEL_WARN, TLS_EV_SETUP_FAILED, "reason", "bufferevent");
		p->unknown = 1;
		probe_finish(p);
		return;
	}
	bufferevent_setcb(p->bev, on_read, NULL, on_event, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	probe_timer(p);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		probe_fail_errno(p, TLS_EV_CONNECT_FAILED, NULL, errno);
		probe_finish(p);
	}
}

static void
on_tlsa(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct tlsprobe *p = arg;

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
probe_lookup(struct tlsprobe *p)
{
	char qname[300];

	snprintf(qname, sizeof(qname), "_%u._tcp.%s", p->tlsa_port, p->name);
	p->dns = DNS_PENDING;
	if (resolv_query(p->cl->resolv, qname, TLSA_TYPE, on_tlsa, p) < 0) {
		p->dns = DNS_DONE;
		p->dns_status = RESOLV_ERROR;
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tlsprobe *p = arg;

	(void)fd;
	(void)what;
	switch (p->phase) {
	case P_DELAY:
		if (p->t->proto == TLSPROTO_SMTP && p->cl->resolv && p->tlsa_port)
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
		probe_fail(p, LEVEL_CRIT, TLS_EV_NO_BANNER, NULL, NULL);
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

/* the end of a probe */

void
tlsprobe_free(struct tlsprobe *p)
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


/* The connection is over: freed now, the owner told. */
static void
probe_finish(struct tlsprobe *p)
{
	if (p->phase == P_DONE)
		return;
	tlsprobe_free(p);
	p->ops->finish(p);
}

int
tlsprobe_init(struct tlsprobe *p, struct event_base *base)
{
	p->phase = P_DELAY;
	return (p->timer = evtimer_new(base, on_timer, p)) ? 0 : -1;
}

void
tlsprobe_start(struct tlsprobe *p, unsigned delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000 };

	p->phase = P_DELAY;
	evtimer_add(p->timer, &tv);
}

int
tlsclient_ctx(struct tlsclient *cl)
{
	/* accept whatever the service offers, so that old protocols and bad
	 * certificates are reported rather than refused */
	if (!(cl->ctx = SSL_CTX_new(TLS_client_method())))
		return -1;
	SSL_CTX_set1_cert_store(cl->ctx, cl->store);
	if (!SSL_CTX_set_min_proto_version(cl->ctx, TLS1_VERSION) ||
	    !SSL_CTX_set_cipher_list(cl->ctx, "ALL:@SECLEVEL=0") ||
	    SSL_CTX_dane_enable(cl->ctx) <= 0)
		return -1;
	SSL_CTX_set_security_level(cl->ctx, 0);
	SSL_CTX_set_options(cl->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_NONE, NULL);
	return 0;
}

void
tlsclient_free(struct tlsclient *cl)
{
	SSL_CTX_free(cl->ctx);
	cl->ctx = NULL;
}
