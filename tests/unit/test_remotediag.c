/* The remote check's verdict on one connection, from the findings the tls
 * probe emits, in its order and with its fields (lib/tlsprobe.c): the first
 * failure decides, validated DANE outranks the certificate, unvalidated
 * TLSA records and notes that are not why mail waits change nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "remotediag.h"
#include "tlsprobe.h"

static struct remotediag d;

/* A finding as the probe makes it: target= first, then KEY, VALUE pairs. */
static void
add(enum level lv, const char *event, ...)
{
	struct finding f;
	const char *k, *v;
	va_list ap;

	finding_init(&f, lv, FINDING_STATE, NULL, event);
	finding_add(&f, "target", "smtp://192.0.2.25:25");
	finding_subject(&f);
	va_start(ap, event);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		finding_add(&f, k, v);
	}
	va_end(ap);
	remotediag_add(&d, &f);
}

static void
connect_failures(void **state)
{
	(void)state;
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_NOT_LISTENING, "reason", "refused", NULL);
	assert_string_equal(remotediag_result(&d), "refused");
	assert_true(remotediag_unanswered(&d));
	assert_string_equal(d.reason, "");	/* the code says it */

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_NOT_LISTENING, "reason", "timeout", NULL);
	assert_string_equal(remotediag_result(&d), "connect-timeout");
	assert_true(remotediag_unanswered(&d));

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_CONNECT_FAILED, "error", "ENETUNREACH", NULL);
	assert_string_equal(remotediag_result(&d), "connect-failed");
	assert_string_equal(d.error, "ENETUNREACH");
	assert_true(remotediag_unanswered(&d));

	/* a server answered: qmail-remote does not go on */
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_NO_BANNER, NULL);
	assert_string_equal(remotediag_result(&d), "no-greeting");
	assert_false(remotediag_unanswered(&d));
}

static void
replies(void **state)
{
	(void)state;
	/* busy: a 421, whose text the probe keeps without the code */
	remotediag_init(&d);
	add(LEVEL_WARN, TLS_EV_BUSY, "phase", "greeting", "reply", "4.3.2 too busy", NULL);
	assert_string_equal(remotediag_result(&d), "greeting-4xx");
	assert_string_equal(d.reply, "421 4.3.2 too busy");
	assert_string_equal(d.reason, "");

	remotediag_init(&d);
	add(LEVEL_WARN, TLS_EV_BUSY, "phase", "ehlo", "reply", "closing", NULL);
	assert_string_equal(remotediag_result(&d), "ehlo-rejected");
	assert_string_equal(d.reply, "421 closing");

	/* busy without a reply: a phase timed out */
	remotediag_init(&d);
	add(LEVEL_WARN, TLS_EV_BUSY, "phase", "ehlo", "reason", "timeout", NULL);
	assert_string_equal(remotediag_result(&d), "dialogue-failed");
	assert_string_equal(d.reason, "timeout");
	assert_string_equal(d.phase, "ehlo");

	/* the whole reply line for the other refusals */
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_DIALOGUE_FAILED, "phase", "greeting", "reason", "unexpected-reply",
	    "reply", "554 5.7.1 go away", NULL);
	assert_string_equal(remotediag_result(&d), "greeting-5xx");
	assert_string_equal(d.reply, "554 5.7.1 go away");
	assert_string_equal(d.reason, "");

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_DIALOGUE_FAILED, "phase", "greeting", "reason", "unexpected-reply",
	    "reply", "452 later", NULL);
	assert_string_equal(remotediag_result(&d), "greeting-4xx");

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_DIALOGUE_FAILED, "phase", "ehlo", "reason", "unexpected-reply",
	    "reply", "550 5.7.1 bad helo", NULL);
	assert_string_equal(remotediag_result(&d), "ehlo-rejected");

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_DIALOGUE_FAILED, "phase", "greeting", "reason", "line-too-long",
	    NULL);
	assert_string_equal(remotediag_result(&d), "dialogue-failed");
	assert_string_equal(d.reason, "line-too-long");
	assert_false(remotediag_unanswered(&d));
}

static void
tls_failures(void **state)
{
	(void)state;
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_STARTTLS_MISSING, NULL);
	/* the first failure decides: nothing after it changes the result */
	add(LEVEL_CRIT, TLS_EV_DIALOGUE_FAILED, "phase", "quit", "reason", "closed", NULL);
	assert_string_equal(remotediag_result(&d), "no-starttls");

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_HANDSHAKE_FAILED, "reason", "wrong version number", NULL);
	assert_string_equal(remotediag_result(&d), "handshake-failed");
	assert_string_equal(d.reason, "wrong version number");

	remotediag_init(&d);
	add(LEVEL_WARN, TLS_EV_SETUP_FAILED, "reason", "ssl", NULL);
	assert_string_equal(remotediag_result(&d), "setup-failed");
}

static void
certificates(void **state)
{
	(void)state;
	/* the first certificate finding names the result, with its reason */
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_CERT_EXPIRED, "days", "-3", "subject", "CN=mx", NULL);
	add(LEVEL_CRIT, TLS_EV_CERT_UNTRUSTED, "reason", "self-signed certificate", NULL);
	assert_string_equal(remotediag_result(&d), "cert-expired");
	assert_string_equal(d.reason, "");

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_CERT_NAME_MISMATCH, "name", "mx.example", NULL);
	add(LEVEL_CRIT, TLS_EV_CERT_UNTRUSTED, "reason", "self-signed certificate", NULL);
	assert_string_equal(remotediag_result(&d), "cert-name-mismatch");

	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_CERT_UNTRUSTED, "reason", "self-signed certificate", NULL);
	assert_string_equal(remotediag_result(&d), "cert-untrusted");
	assert_string_equal(d.reason, "self-signed certificate");

	/* notes that are not why mail waits */
	remotediag_init(&d);
	add(LEVEL_WARN, TLS_EV_CERT_EXPIRING, "days", "3", NULL);
	add(LEVEL_WARN, TLS_EV_PROTOCOL_OLD, "version", "TLSv1", NULL);
	add(LEVEL_WARN, TLS_EV_TLSA_LOOKUP_FAILED, "status", "timeout", NULL);
	add(LEVEL_INFO, TLS_EV_OK, "version", "TLSv1", NULL);
	assert_string_equal(remotediag_result(&d), "ok");
	assert_string_equal(d.reason, "");
}

static void
dane(void **state)
{
	(void)state;
	/* validated and matching: DANE-EE needs no name or CA (RFC 7672) */
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_CERT_UNTRUSTED, "reason", "self-signed certificate", NULL);
	add(LEVEL_INFO, TLS_EV_TLSA_MATCH, "usage", "3", "dnssec", "yes", NULL);
	assert_string_equal(remotediag_result(&d), "ok");
	assert_int_equal(d.dane, REMOTEDIAG_DANE_MATCH);
	assert_string_equal(d.reason, "");

	/* validated, no match: whatever the certificate */
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_TLSA_MISMATCH, "reason", "no matching DANE TLSA records",
	    "records", "1", "dnssec", "yes", NULL);
	add(LEVEL_INFO, TLS_EV_OK, NULL);
	assert_string_equal(remotediag_result(&d), "dane-mismatch");
	assert_string_equal(d.reason, "no matching DANE TLSA records");

	/* not validated: ignored as DANE senders ignore them */
	remotediag_init(&d);
	add(LEVEL_WARN, TLS_EV_TLSA_MISMATCH, "reason", "no matching DANE TLSA records",
	    "records", "1", "dnssec", "no", NULL);
	assert_string_equal(remotediag_result(&d), "ok");
	assert_int_equal(d.dane, REMOTEDIAG_DANE_NONE);
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_CERT_NAME_MISMATCH, "name", "mx.example", NULL);
	add(LEVEL_INFO, TLS_EV_TLSA_MATCH, "usage", "3", "dnssec", "no", NULL);
	assert_string_equal(remotediag_result(&d), "cert-name-mismatch");

	/* a failure before TLS outranks any of it */
	remotediag_init(&d);
	add(LEVEL_CRIT, TLS_EV_HANDSHAKE_FAILED, "reason", "alert", NULL);
	add(LEVEL_CRIT, TLS_EV_TLSA_MISMATCH, "dnssec", "yes", NULL);
	assert_string_equal(remotediag_result(&d), "handshake-failed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_failures),
		cmocka_unit_test(replies),
		cmocka_unit_test(tls_failures),
		cmocka_unit_test(certificates),
		cmocka_unit_test(dane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
