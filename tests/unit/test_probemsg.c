/* The probe messages: what the probe process encodes, the root process
 * decodes the same; what does not fit the schema is refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "probemsg.h"

static struct probemsg m, d;
static unsigned char buf[PROBEMSG_MAX];

static int
decode(const unsigned char *b, size_t n, const char **why)
{
	size_t used = 0;
	int r = probemsg_decode(b, n, &d, &used, why);

	if (r == 1)
		assert_int_equal(used, n);
	return r;
}

static void
run_input_roundtrip(void **state)
{
	const char *why = NULL;
	size_t n, i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = PROBEMSG_RUN;
	m.check = 7;
	m.seq = 12;
	m.verbose = 1;
	/* the input is opaque bytes: NULs and all, up to PROBEMSG_INPUT */
	for (i = 0; i < PROBEMSG_INPUT; i++)
		m.input[i] = (unsigned char)(i * 7);
	m.inputlen = PROBEMSG_INPUT;
	assert_true((n = probemsg_encode(&m, buf, sizeof(buf))) > 0);
	assert_int_equal(decode(buf, n, &why), 1);
	assert_int_equal(d.type, PROBEMSG_RUN);
	assert_int_equal(d.verbose, 1);
	assert_int_equal(d.inputlen, PROBEMSG_INPUT);
	assert_memory_equal(d.input, m.input, PROBEMSG_INPUT);
	/* one byte more does not encode */
	m.inputlen = PROBEMSG_INPUT + 1;
	assert_int_equal(probemsg_encode(&m, buf, sizeof(buf)), 0);
	/* an input longer than its message is refused */
	m.inputlen = 3;
	assert_true((n = probemsg_encode(&m, buf, sizeof(buf))) > 0);
	buf[n - 4] = 0x7f;
	assert_int_equal(decode(buf, n, &why), -1);
}

static void
finding_roundtrip(void **state)
{
	const char *why = NULL;
	size_t n, i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = PROBEMSG_FINDING;
	m.check = 4;
	m.seq = 0xfffffffeUL;
	finding_init(&m.f, LEVEL_CRIT, FINDING_STATE, "tls", "not-listening");
	finding_add(&m.f, "target", "smtp://127.0.0.1:25");
	finding_subject(&m.f);
	finding_add(&m.f, "reply", "421 busy | \"x\"\n\xff");
	assert_true((n = probemsg_encode(&m, buf, sizeof(buf))) > 0);
	/* every prefix is "more bytes needed", never an error */
	for (i = 0; i < n; i++)
		assert_int_equal(decode(buf, i, &why), 0);
	assert_int_equal(decode(buf, n, &why), 1);
	assert_int_equal(d.type, PROBEMSG_FINDING);
	assert_int_equal(d.check, 4);
	assert_int_equal(d.seq, 0xfffffffeUL);
	assert_string_equal(d.f.event, "not-listening");
	assert_null(d.f.check);
	assert_int_equal(d.f.level, LEVEL_CRIT);
	assert_int_equal(d.f.nfields, 2);
	assert_int_equal(d.f.nsubject, 1);
	assert_string_equal(d.f.field[1].key, "reply");
	assert_int_equal(d.f.field[1].len, strlen("421 busy | \"x\"\n\xff"));
	assert_memory_equal(d.f.buf + d.f.field[1].off, "421 busy | \"x\"\n\xff", d.f.field[1].len);
}

static void
sample_roundtrip(void **state)
{
	const char *why = NULL;
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = PROBEMSG_SAMPLE;
	m.check = 3;
	m.family = 1;
	m.op = PROBEMSG_SET;
	m.has_l1 = 1;
	strcpy(m.l1, "pop3s://127.0.0.1:995");
	m.value = 12.5 * 86400;
	m.warn = NAN;
	m.crit = 7;
	assert_true((n = probemsg_encode(&m, buf, sizeof(buf))) > 0);
	assert_int_equal(decode(buf, n, &why), 1);
	assert_true(d.has_l1 && !d.has_l2);
	assert_string_equal(d.l1, "pop3s://127.0.0.1:995");
	assert_true(d.value == 12.5 * 86400 && isnan(d.warn) && d.crit == 7);
	/* a value that is not a number is refused */
	m.value = NAN;
	n = probemsg_encode(&m, buf, sizeof(buf));
	assert_int_equal(decode(buf, n, &why), -1);
	assert_string_equal(why, "bad-number");
}

static void
refused(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *why;
	} bad[] = {
		{ "\x00\x00\x20\x00", 4, "bad-length" },			/* over PROBEMSG_MAX */
		{ "\x00\x00\x00\x02\x01\x02", 6, "bad-length" },		/* under a header */
		{ "\x00\x00\x00\x07\x03\x01\x00\x00\x00\x00\x00", 11, "bad-version" },
		{ "\x00\x00\x00\x07\x02\x09\x00\x00\x00\x00\x00", 11, "bad-type" },
		{ "\x00\x00\x00\x08\x02\x06\x00\x00\x00\x00\x00\x02", 12, "bad-status" },
		{ "\x00\x00\x00\x09\x02\x06\x00\x00\x00\x00\x00\x00\x00", 13, "trailing-bytes" },
		{ "\x00\x00\x00\x08\x02\x02\x00\x00\x00\x00\x00\x05", 12, "bad-flag" },
		/* FINDING: level 9 */
		{ "\x00\x00\x00\x14\x02\x04\x00\x00\x00\x00\x00\x09\x00\x00\x00"
		  "\x00\x00\x00\x00\x01x\x00", 24, "bad-finding" },
		/* FINDING: an event in capitals */
		{ "\x00\x00\x00\x14\x02\x04\x00\x00\x00\x00\x00\x01\x00\x00\x00"
		  "\x00\x00\x00\x00\x01X\x00", 24, "bad-word" },
		/* SAMPLE: a label with a NUL */
		{ "\x00\x00\x00\x26\x02\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02" "a\x00"
		  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		  "\x00\x00\x00\x00\x00\x00\x00\x00", 42, "bad-label" },
	};
	const char *why;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(decode((const unsigned char *)bad[i].bytes, bad[i].len, &why), -1);
		assert_string_equal(why, bad[i].why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finding_roundtrip),
		cmocka_unit_test(run_input_roundtrip),
		cmocka_unit_test(sample_roundtrip),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
