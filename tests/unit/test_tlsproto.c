#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tlsproto.h"

static enum smtp_parse
feed(struct smtp_reply *r, const char *line)
{
	return smtp_reply_parse(r, line, strlen(line));
}

static void
smtp_greeting_multiline(void **state)
{
	struct smtp_reply r;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "220-mx.example.com ESMTP"), SMTP_MORE);
	assert_int_equal(feed(&r, "220-please wait"), SMTP_MORE);
	assert_int_equal(feed(&r, "220 ready"), SMTP_DONE);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.lines, 3);
	assert_int_equal(r.textlen, strlen("mx.example.com ESMTP"));
	assert_memory_equal(r.text, "mx.example.com ESMTP", r.textlen);
	/* nothing after the last line */
	assert_int_equal(feed(&r, "220 again"), SMTP_BAD);
}

static void
smtp_ehlo_capabilities(void **state)
{
	struct smtp_reply r;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-mx.example.com hello"), SMTP_MORE);
	assert_int_equal(feed(&r, "250-PIPELINING"), SMTP_MORE);
	assert_int_equal(feed(&r, "250-starttls"), SMTP_MORE);
	assert_int_equal(feed(&r, "250-AUTH=LOGIN"), SMTP_MORE);
	assert_int_equal(feed(&r, "250 8BITMIME"), SMTP_DONE);
	assert_true(r.starttls);
	assert_true(r.auth);

	smtp_reply_init(&r);
	/* keywords only count as whole words, and not on the first line */
	assert_int_equal(feed(&r, "250-STARTTLS AUTH"), SMTP_MORE);
	assert_int_equal(feed(&r, "250-STARTTLSX"), SMTP_MORE);
	assert_int_equal(feed(&r, "250-AUTHENTIC"), SMTP_MORE);
	assert_int_equal(feed(&r, "250 X-AUTH PLAIN"), SMTP_DONE);
	assert_false(r.starttls);
	assert_false(r.auth);

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250"), SMTP_DONE);
	assert_int_equal(r.code, 250);
}

static void
smtp_bad_lines(void **state)
{
	static const char *const bad[] = {
		"", "22", "2200 x", "120 x", "620 x", "22x x", "220_x", "HTTP/1.1 400",
	};
	struct smtp_reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtp_reply_init(&r);
		assert_int_equal(feed(&r, bad[i]), SMTP_BAD);
	}
	/* the code must not change within a reply */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-a"), SMTP_MORE);
	assert_int_equal(feed(&r, "251 b"), SMTP_BAD);
	/* a binary NUL is just a byte */
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_parse(&r, "421 a\0b", 7), SMTP_DONE);
	assert_int_equal(r.code, 421);
	assert_int_equal(r.textlen, 3);
}

static void
smtp_too_many_lines(void **state)
{
	struct smtp_reply r;
	unsigned i;

	(void)state;
	smtp_reply_init(&r);
	for (i = 0; i < TLSPROTO_MAXLINES; i++)
		assert_int_equal(feed(&r, "250-x"), SMTP_MORE);
	assert_int_equal(feed(&r, "250 x"), SMTP_BAD);
}

static void
smtp_long_text_kept_bounded(void **state)
{
	char line[TLSPROTO_LINEMAX];
	struct smtp_reply r;

	(void)state;
	memset(line, 'a', sizeof(line));
	memcpy(line, "220 ", 4);
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_parse(&r, line, sizeof(line)), SMTP_DONE);
	assert_int_equal(r.textlen, TLSPROTO_TEXT);
}

static void
pop3_status(void **state)
{
	(void)state;
	assert_int_equal(pop3_status_parse("+OK", 3), 1);
	assert_int_equal(pop3_status_parse("+OK Dovecot ready.", 18), 1);
	assert_int_equal(pop3_status_parse("-ERR", 4), 0);
	assert_int_equal(pop3_status_parse("-ERR [IN-USE] busy", 18), 0);
	assert_int_equal(pop3_status_parse("+OKAY", 5), -1);
	assert_int_equal(pop3_status_parse("-ER", 3), -1);
	assert_int_equal(pop3_status_parse("", 0), -1);
	assert_int_equal(pop3_status_parse("220 smtp", 8), -1);
}

static void
pop3_capa(void **state)
{
	static const char *const lines[] = { "TOP", "UIDL", "SASL PLAIN", "stls", "RESP-CODES" };
	struct pop3_capa c;
	size_t i;

	(void)state;
	pop3_capa_init(&c);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(pop3_capa_parse(&c, lines[i], strlen(lines[i])), POP3_CAPA_MORE);
	assert_int_equal(pop3_capa_parse(&c, ".", 1), POP3_CAPA_DONE);
	assert_true(c.stls);
	assert_true(c.auth);

	pop3_capa_init(&c);
	assert_int_equal(pop3_capa_parse(&c, "STLSX", 5), POP3_CAPA_MORE);
	assert_int_equal(pop3_capa_parse(&c, "..", 2), POP3_CAPA_MORE);
	assert_int_equal(pop3_capa_parse(&c, ".", 1), POP3_CAPA_DONE);
	assert_false(c.stls);
	assert_false(c.auth);

	pop3_capa_init(&c);
	for (i = 0; i < TLSPROTO_MAXLINES; i++)
		assert_int_equal(pop3_capa_parse(&c, "X", 1), POP3_CAPA_MORE);
	assert_int_equal(pop3_capa_parse(&c, "X", 1), POP3_CAPA_BAD);
}

static int
target(const char *s, struct tls_target *t, const char **why)
{
	return tls_target_parse(s, strlen(s), t, why);
}

static void
targets(void **state)
{
	struct tls_target t;
	const char *why;

	(void)state;
	assert_int_equal(target("smtp://127.0.0.1:25", &t, &why), 0);
	assert_int_equal(t.proto, TLSPROTO_SMTP);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 25);
	assert_string_equal(t.sni, "");
	assert_int_equal(target("SUBMISSION://127.0.0.1:587/mail.example.com", &t, &why), 0);
	assert_int_equal(t.proto, TLSPROTO_SUBMISSION);
	assert_string_equal(t.sni, "mail.example.com");
	assert_int_equal(target("pop3s://[::1]:995", &t, &why), 0);
	assert_int_equal(t.proto, TLSPROTO_POP3S);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 995);
	assert_true(tlsproto_is_implicit(t.proto));
	assert_false(tlsproto_is_smtp(t.proto));

	assert_int_equal(target("imap://127.0.0.1:143", &t, &why), -1);
	assert_string_equal(why, "unknown-protocol");
	assert_int_equal(target("smtp://mail.example.com:25", &t, &why), -1);
	assert_string_equal(why, "not-an-address");
	assert_int_equal(target("smtp://127.0.0.1:0", &t, &why), -1);
	assert_string_equal(why, "bad-port");
	assert_int_equal(target("smtp://127.0.0.1:65536", &t, &why), -1);
	assert_int_equal(target("smtp://127.0.0.1:", &t, &why), -1);
	assert_int_equal(target("smtp://127.0.0.1", &t, &why), -1);
	assert_int_equal(target("smtp://127.0.0.1:25/", &t, &why), -1);
	assert_string_equal(why, "bad-name");
	assert_int_equal(target("smtp://127.0.0.1:25/a b", &t, &why), -1);
	assert_int_equal(target("smtp:/127.0.0.1:25", &t, &why), -1);
	assert_int_equal(target("smtp://[::1:25", &t, &why), -1);
	assert_int_equal(target("", &t, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smtp_greeting_multiline),
		cmocka_unit_test(smtp_ehlo_capabilities),
		cmocka_unit_test(smtp_bad_lines),
		cmocka_unit_test(smtp_too_many_lines),
		cmocka_unit_test(smtp_long_text_kept_bounded),
		cmocka_unit_test(pop3_status),
		cmocka_unit_test(pop3_capa),
		cmocka_unit_test(targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
