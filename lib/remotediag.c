#include "remotediag.h"

#include <stdio.h>
#include <string.h>

#include "checkstate.h"
#include "tlsprobe.h"

void
remotediag_init(struct remotediag *g)
{
	memset(g, 0, sizeof(*g));
}


static void
copy_field(const struct finding *f, const char *key, char *out, size_t size)
{
	size_t len;
	const char *v = checkstate_field(f, key, &len);

	if (v)
		snprintf(out, size, "%.*s", (int)len, v);
}

static int
is(const char *ev, const char *code)
{
	return strcmp(ev, code) == 0;
}

/* A failure of the dialogue as a result code: the reply's class at the
 * greeting, the EHLO refused, or else the dialogue failed. */
static const char *
dialogue_code(const struct remotediag *g)
{
	if (strcmp(g->phase, "greeting") == 0 && (g->reply[0] == '4' || g->reply[0] == '5'))
		return g->reply[0] == '4' ? "greeting-4xx" : "greeting-5xx";
	if (strncmp(g->phase, "ehlo", 4) == 0)
		return "ehlo-rejected";
	return "dialogue-failed";
}

void
remotediag_add(struct remotediag *g, const struct finding *f)
{
	const char *ev = f->event, *code = NULL;
	char reason[256] = "", dnssec[8] = "";

	if (is(ev, TLS_EV_TLSA_MATCH) || is(ev, TLS_EV_TLSA_MISMATCH)) {
		/* records a validating resolver did not vouch for are ignored by
		 * DANE senders (RFC 7672 2.2): so here */
		copy_field(f, "dnssec", dnssec, sizeof(dnssec));
		if (strcmp(dnssec, "yes") != 0)
			return;
		g->dane = is(ev, TLS_EV_TLSA_MATCH) ? REMOTEDIAG_DANE_MATCH : REMOTEDIAG_DANE_MISMATCH;
		if (g->dane == REMOTEDIAG_DANE_MISMATCH)
			copy_field(f, "reason", g->reason, sizeof(g->reason));
		return;
	}
	if (is(ev, TLS_EV_CERT_EXPIRED) || is(ev, TLS_EV_CERT_UNTRUSTED) ||
	    is(ev, TLS_EV_CERT_NAME_MISMATCH)) {
		if (!*g->cert) {
			snprintf(g->cert, sizeof(g->cert), "%s", ev);
			copy_field(f, "reason", g->certreason, sizeof(g->certreason));
		}
		return;
	}
	if (*g->code || f->level < LEVEL_WARN)
		return;		/* the first failure decides; cert-expiring and the like do not */
	if (!is(ev, TLS_EV_NOT_LISTENING) && !is(ev, TLS_EV_CONNECT_FAILED) &&
	    !is(ev, TLS_EV_NO_BANNER) && !is(ev, TLS_EV_BUSY) && !is(ev, TLS_EV_DIALOGUE_FAILED) &&
	    !is(ev, TLS_EV_STARTTLS_MISSING) && !is(ev, TLS_EV_HANDSHAKE_FAILED) &&
	    !is(ev, TLS_EV_SETUP_FAILED))
		return;		/* protocol-old, auth-before-tls, tlsa-lookup-failed: not why */
	copy_field(f, "reason", reason, sizeof(reason));
	copy_field(f, "error", g->error, sizeof(g->error));
	copy_field(f, "phase", g->phase, sizeof(g->phase));
	copy_field(f, "reply", g->reply, sizeof(g->reply));
	if (is(ev, TLS_EV_NOT_LISTENING))
		code = strcmp(reason, "refused") == 0 ? "refused" : "connect-timeout";
	else if (is(ev, TLS_EV_CONNECT_FAILED))
		code = "connect-failed";
	else if (is(ev, TLS_EV_NO_BANNER))
		code = "no-greeting";
	else if (is(ev, TLS_EV_BUSY)) {
		/* 421: the reply text is without its code */
		if (*g->reply) {
			char text[sizeof(g->reply)];

			snprintf(text, sizeof(text), "%s", g->reply);
			snprintf(g->reply, sizeof(g->reply), "421 %.*s", TLSPROTO_TEXT, text);
			code = strcmp(g->phase, "greeting") == 0 ? "greeting-4xx" : dialogue_code(g);
		} else
			code = "dialogue-failed";	/* a timeout */
	} else if (is(ev, TLS_EV_DIALOGUE_FAILED))
		code = dialogue_code(g);
	else if (is(ev, TLS_EV_STARTTLS_MISSING))
		code = "no-starttls";
	else if (is(ev, TLS_EV_HANDSHAKE_FAILED))
		code = "handshake-failed";
	else
		code = "setup-failed";
	/* the reply says it for a refusal; "timeout" is the code's for a connect */
	if (strncmp(code, "greeting-", 9) != 0 && strcmp(code, "ehlo-rejected") != 0 &&
	    !is(ev, TLS_EV_NOT_LISTENING))
		snprintf(g->reason, sizeof(g->reason), "%s", reason);
	snprintf(g->code, sizeof(g->code), "%s", code);
}

int
remotediag_unanswered(const struct remotediag *g)
{
	return strcmp(g->code, "refused") == 0 || strcmp(g->code, "connect-timeout") == 0 ||
	    strcmp(g->code, "connect-failed") == 0;
}

const char *
remotediag_result(struct remotediag *g)
{
	if (*g->code)
		return g->code;
	if (g->dane == REMOTEDIAG_DANE_MISMATCH)
		return "dane-mismatch";
	if (g->dane == REMOTEDIAG_DANE_MATCH)
		return "ok";	/* DANE-EE and DANE-TA: no name or CA check (RFC 7672) */
	if (*g->cert) {
		snprintf(g->reason, sizeof(g->reason), "%s", g->certreason);
		return g->cert;
	}
	return "ok";
}
