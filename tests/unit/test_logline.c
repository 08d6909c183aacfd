#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "logline.h"

/* the line as a C string, for strcmp */
static const char *
line_of(struct finding *f, size_t *len)
{
	static char text[LOGLINE_MAX + 1];
	struct logline l;

	*len = logline_finding(&l, f);
	memcpy(text, l.buf, *len);
	text[*len] = '\0';
	return text;
}

static void
simple_fields(void **state)
{
	struct finding f;
	size_t n;

	(void)state;
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "queue", "orphan-info");
	finding_addu(&f, "id", 123456);
	finding_addu(&f, "split", 4);
	assert_string_equal(line_of(&f, &n), "warn queue: orphan-info id=123456 split=4\n");
}

static void
quoting(void **state)
{
	struct finding f;
	size_t n;

	(void)state;
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "tls", "cert-expiring");
	finding_add(&f, "subject", "CN=mail.example.com");
	finding_add(&f, "sp", "a b");
	finding_add(&f, "q", "say \"hi\"");
	finding_add(&f, "bs", "a\\b");
	finding_add(&f, "empty", "");
	assert_string_equal(line_of(&f, &n),
	    "warn tls: cert-expiring subject=\"CN=mail.example.com\" sp=\"a b\" "
	    "q=\"say \\\"hi\\\"\" bs=\"a\\\\b\" empty=\"\"\n");
}

static void
hostile_bytes(void **state)
{
	static const char v[] = "a\0b\nc\r\x7f\xff\xc3\xa9\xed\xa0\x80\xc0\xaf";
	struct finding f;
	size_t n;

	(void)state;
	finding_init(&f, LEVEL_CRIT, FINDING_STATE, "kmsg", "crash");
	finding_addn(&f, "text", v, sizeof(v) - 1);
	/* é (valid UTF-8) stays; NUL, newline, CR, DEL, 0xff, a surrogate and an overlong are escaped */
	assert_string_equal(line_of(&f, &n),
	    "crit kmsg: crash text=\"a\\x00b\\x0ac\\x0d\\x7f\\xff\xc3\xa9\\xed\\xa0\\x80\\xc0\\xaf\"\n");
	assert_null(memchr(line_of(&f, &n), '\n', n - 1));
}

static void
hostile_keys(void **state)
{
	struct finding f;
	size_t n;

	(void)state;
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "bad check", "ev=nt");
	finding_add(&f, "k=\"y", "v");
	finding_add(&f, "", "w");
	assert_string_equal(line_of(&f, &n), "info bad_check: ev_nt k__y=v _=w\n");
}

static void
length_bound(void **state)
{
	struct finding f;
	char *big = malloc(100000);
	const char *line;
	size_t n;

	(void)state;
	memset(big, 'x', 100000);
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "queue", "bad-name");
	finding_add(&f, "id", "1");
	finding_addn(&f, "name", big, 100000);
	finding_add(&f, "after", "lost");
	line = line_of(&f, &n);
	assert_true(n <= LOGLINE_MAX);
	assert_int_equal(line[n - 1], '\n');
	assert_non_null(strstr(line, " truncated=1\n"));
	assert_null(strstr(line, "after="));
	assert_memory_equal(line, "warn queue: bad-name id=1 name=xxx", 34);
	free(big);
}

static void
length_bound_quoted_escapes(void **state)
{
	struct finding f;
	char big[3000];
	const char *line;
	size_t n, i, q = 0;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 3 ? 0x01 : '"');
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "tls", "banner");
	finding_addn(&f, "text", big, sizeof(big));
	line = line_of(&f, &n);
	assert_true(n <= LOGLINE_MAX);
	assert_non_null(strstr(line, "\" truncated=1\n"));	/* the quote is closed */
	/* quotes: the opening, the closing, and the escaped ones inside */
	for (i = 0; i < n; i++)
		if (line[i] == '"' && line[i - 1] != '\\')
			q++;
	assert_int_equal(q, 2);
	/* never an escape cut in half */
	assert_true(line[n - 15] != '\\');
}

static void
exactly_fits(void **state)
{
	struct finding f;
	char val[2000];
	size_t n, vlen;
	struct logline l;

	(void)state;
	memset(val, 'y', sizeof(val));
	/* the longest untruncated line: prefix + " v=" + value + "\n" */
	vlen = LOGLINE_MAX - 12 - 1 - strlen("info a: b v=");
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "a", "b");
	finding_addn(&f, "v", val, vlen);
	n = logline_finding(&l, &f);
	assert_int_equal(n, LOGLINE_MAX - 12);
	assert_false(l.truncated);
}

static void
subject_text(void **state)
{
	struct finding f;
	char s[LOGLINE_MAX];

	(void)state;
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "tls", "cert-expiring");
	finding_add(&f, "target", "smtp://127.0.0.1:25");
	finding_subject(&f);
	finding_addu(&f, "days", 12);
	logline_subject(s, sizeof(s), &f);
	assert_string_equal(s, "target=smtp://127.0.0.1:25");
}

static void
cleared_line(void **state)
{
	struct logline l;
	size_t n;

	(void)state;
	logline_start(&l, LEVEL_INFO, "queue", "cleared");
	logline_word(&l, "orphan-info");
	logline_raw(&l, "id=5");
	n = logline_end(&l);
	assert_memory_equal(l.buf, "info queue: cleared orphan-info id=5\n", n);
}

static void
too_many_fields(void **state)
{
	struct finding f;
	size_t n;
	unsigned i;

	(void)state;
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "a", "b");
	for (i = 0; i < FINDING_FIELDS + 3; i++)
		finding_addu(&f, "k", i);
	assert_non_null(strstr(line_of(&f, &n), " truncated=1\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_fields),
		cmocka_unit_test(quoting),
		cmocka_unit_test(hostile_bytes),
		cmocka_unit_test(hostile_keys),
		cmocka_unit_test(length_bound),
		cmocka_unit_test(length_bound_quoted_escapes),
		cmocka_unit_test(exactly_fits),
		cmocka_unit_test(subject_text),
		cmocka_unit_test(cleared_line),
		cmocka_unit_test(too_many_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
