#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "queue.h"

static void
ids(void **state)
{
	unsigned long long id;

	(void)state;
	assert_int_equal(queue_parse_id("1114396", &id), 0);
	assert_int_equal(id, 1114396);
	assert_int_equal(queue_parse_id("0", &id), 0);
	assert_int_equal(queue_parse_id("18446744073709551615", &id), 0);
	assert_true(id == 18446744073709551615ULL);
	assert_int_equal(queue_parse_id("18446744073709551616", &id), -1);
	assert_int_equal(queue_parse_id("123456789012345678901234567890", &id), -1);
	assert_int_equal(queue_parse_id("123abc", &id), -1);
	assert_int_equal(queue_parse_id("-1", &id), -1);
	assert_int_equal(queue_parse_id("+1", &id), -1);
	assert_int_equal(queue_parse_id("01", &id), -1);
	assert_int_equal(queue_parse_id("", &id), -1);
	assert_int_equal(queue_parse_id(" 1", &id), -1);
}

static int
info(const char *b, size_t n)
{
	struct queue_info qi;

	return queue_info_parse(b, n, n, n ? (unsigned char)b[n - 1] : 1, &qi);
}

static void
infos(void **state)
{
	struct queue_info qi;
	static const char head[] = "Fa@b";

	(void)state;
	assert_int_equal(queue_info_parse("Falice@example.test", 20, 20, 0, &qi), 0);
	assert_int_equal(qi.senderlen, 18);
	assert_memory_equal(qi.sender, "alice@example.test", 18);
	assert_int_equal(info("F", 2), 0);		/* null sender: "F\0" */
	assert_int_equal(info("F#@[]", 6), 0);		/* double bounce */
	assert_int_equal(info("Xfoo", 5), -1);
	assert_int_equal(info("Ffoo", 4), -1);		/* not NUL-terminated */
	assert_int_equal(info("", 0), -1);
	assert_int_equal(info("\0\0\0", 3), -1);
	assert_int_equal(info("Fa\0b", 5), -1);	/* bytes after the sender */
	/* a huge file: only the head and the last byte are read */
	assert_int_equal(queue_info_parse(head, 4, 1ULL << 30, 0, &qi), 0);
	assert_int_equal(qi.senderlen, 3);
	assert_int_equal(queue_info_parse("Fa\0\0", 4, 1ULL << 30, 0, &qi), -1);
}

static void
channels(void **state)
{
	static const char rec[] = "Ta@b\0Dc@d\0Te@f\0";
	struct queue_chan c;
	size_t i;

	(void)state;
	for (i = 0; i <= sizeof(rec) - 1; i++) {	/* every split point */
		queue_chan_init(&c);
		queue_chan_feed(&c, rec, i);
		queue_chan_feed(&c, rec + i, sizeof(rec) - 1 - i);
		assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_OK);
		assert_int_equal(c.t, 2);
		assert_int_equal(c.d, 1);
	}
	queue_chan_init(&c);
	assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_OK);	/* empty */
	queue_chan_init(&c);
	assert_int_equal(queue_chan_feed(&c, "Ta\0Xb\0", 6), -1);
	assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_BADTYPE);
	assert_int_equal(c.badoff, 3);
	queue_chan_init(&c);
	queue_chan_feed(&c, "Ta\0Tb", 5);
	assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_PARTIAL);
	queue_chan_init(&c);
	queue_chan_feed(&c, "\0\0\0", 3);	/* sparse */
	assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_BADTYPE);
	assert_int_equal(c.badoff, 0);
	assert_string_equal(queue_chan_reason(QUEUE_CHAN_PARTIAL), "unterminated");
}

/* The pending domains of remote records: after the last @, lower-cased,
 * "" without an @, D records left out; the same at every split point. */
static void
domains(void **state)
{
	static const char rec[] = "Ta@Example.COM\0Db@x.org\0T\"c@d\"@example.com\0Tnoat\0"
	    "Te@[10.0.0.1]\0Tf@example.com\0";
	const unsigned char *p, *end;
	struct queue_chan c;
	struct qdoms d;
	const char *dom;
	size_t i, len;
	uint32_t n;

	(void)state;
	qdoms_init(&d);
	for (i = 0; i <= sizeof(rec) - 1; i++) {
		qdoms_reset(&d);
		queue_chan_init(&c);
		c.doms = &d;
		queue_chan_feed(&c, rec, i);
		queue_chan_feed(&c, rec + i, sizeof(rec) - 1 - i);
		assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_OK);
		qdoms_finish(&d);
		assert_int_equal(c.t, 5);
		assert_int_equal(d.n, 3);
		p = d.buf;
		end = d.buf + d.len;
		p = qdoms_next(p, end, &dom, &len, &n, NULL);
		assert_int_equal(len, 0);	/* "noat" */
		assert_int_equal(n, 1);
		p = qdoms_next(p, end, &dom, &len, &n, NULL);
		assert_int_equal(len, 10);
		assert_memory_equal(dom, "[10.0.0.1]", 10);
		assert_int_equal(n, 1);
		p = qdoms_next(p, end, &dom, &len, &n, NULL);
		assert_int_equal(len, 11);
		assert_memory_equal(dom, "example.com", 11);
		assert_int_equal(n, 3);
		assert_null(qdoms_next(p, end, &dom, &len, &n, NULL));
	}
	/* a record cut off is counted by t but has no domain */
	qdoms_reset(&d);
	queue_chan_init(&c);
	c.doms = &d;
	queue_chan_feed(&c, "Ta@b\0Tc@d", 9);
	assert_int_equal(queue_chan_end(&c), QUEUE_CHAN_PARTIAL);
	assert_int_equal(d.n, 1);
	qdoms_free(&d);
}

static void
locks(void **state)
{
	static const char l[] =
	    "1: POSIX  ADVISORY  WRITE 9549 fe:00:404740 0 EOF\n"
	    "2: FLOCK  ADVISORY  WRITE 14195 fe:00:409523 0 EOF\n"
	    "2: -> FLOCK  ADVISORY  WRITE 15000 fe:00:409524 0 EOF\n"
	    "3: FLOCK  ADVISORY  WRITE 777 08:11:409524 0 EOF";

	(void)state;
	assert_int_equal(queue_locks_holder(l, sizeof(l) - 1, 0xfe, 0, 409523), 14195);
	assert_int_equal(queue_locks_holder(l, sizeof(l) - 1, 0xfe, 0, 404740), 0);	/* POSIX */
	assert_int_equal(queue_locks_holder(l, sizeof(l) - 1, 0xfe, 0, 409524), 0);	/* waiter */
	assert_int_equal(queue_locks_holder(l, sizeof(l) - 1, 8, 0x11, 409524), 777);
	assert_int_equal(queue_locks_holder(l, sizeof(l) - 1, 8, 0x11, 1), 0);
	assert_int_equal(queue_locks_holder("", 0, 0, 0, 0), 0);
	assert_int_equal(queue_locks_holder("1: FLOCK", 8, 0, 0, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids),
		cmocka_unit_test(infos),
		cmocka_unit_test(channels),
		cmocka_unit_test(domains),
		cmocka_unit_test(locks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
