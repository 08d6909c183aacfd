#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dnsmsg.h"
#include "tlsa.h"

/* A response: header, question _25._tcp.mx.example (compressed answers). */
static size_t
msg_start(unsigned char *b, int ad, unsigned rcode, unsigned ancount)
{
	static const unsigned char q[] = "\003_25\004_tcp\002mx\007example\000\000\064\000\001";
	size_t n = 12;

	memset(b, 0, 12);
	b[0] = 0x12;
	b[1] = 0x34;
	b[2] = 0x81;
	b[3] = (unsigned char)(0x80 | (ad ? 0x20 : 0) | rcode);
	b[5] = 1;
	b[7] = (unsigned char)ancount;
	memcpy(b + n, q, sizeof(q) - 1);
	return n + sizeof(q) - 1;
}

static size_t
msg_rr(unsigned char *b, size_t n, unsigned type, const unsigned char *rd, size_t rdlen)
{
	b[n++] = 0xc0;
	b[n++] = 12;
	b[n++] = (unsigned char)(type >> 8);
	b[n++] = (unsigned char)type;
	b[n++] = 0;
	b[n++] = 1;
	memcpy(b + n, "\0\0\016\020", 4);
	n += 4;
	b[n++] = (unsigned char)(rdlen >> 8);
	b[n++] = (unsigned char)rdlen;
	memcpy(b + n, rd, rdlen);
	return n + rdlen;
}

static void
tlsa_good(void **state)
{
	unsigned char b[512], rd[35];
	struct tlsa_set s;
	size_t n;

	(void)state;
	rd[0] = 3;
	rd[1] = 1;
	rd[2] = 1;
	memset(rd + 3, 0xab, 32);
	n = msg_start(b, 1, 0, 2);
	n = msg_rr(b, n, TLSA_TYPE, rd, sizeof(rd));
	rd[0] = 2;
	n = msg_rr(b, n, TLSA_TYPE, rd, sizeof(rd));
	assert_int_equal(tlsa_parse(b, n, &s), 0);
	assert_int_equal(s.ad, 1);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.malformed, 0);
	assert_int_equal(s.rr[0].usage, 3);
	assert_int_equal(s.rr[1].usage, 2);
	assert_int_equal(s.rr[0].selector, 1);
	assert_int_equal(s.rr[0].mtype, 1);
	assert_int_equal(s.rr[0].len, 32);
	assert_int_equal(s.rr[0].data[31], 0xab);
}

static void
tlsa_bad_rrs(void **state)
{
	unsigned char b[512], rd[35];
	struct tlsa_set s;
	size_t n;

	(void)state;
	memset(rd, 0, sizeof(rd));
	rd[0] = 3;
	rd[1] = 1;
	rd[2] = 1;
	n = msg_start(b, 0, 0, 4);
	n = msg_rr(b, n, TLSA_TYPE, rd, 20);		/* SHA-256 of 17 bytes */
	n = msg_rr(b, n, TLSA_TYPE, rd, 2);		/* no room for the fields */
	rd[0] = 9;
	n = msg_rr(b, n, TLSA_TYPE, rd, sizeof(rd));	/* unknown usage */
	n = msg_rr(b, n, 5, (const unsigned char *)"\0", 1);	/* a CNAME: skipped */
	assert_int_equal(tlsa_parse(b, n, &s), 0);
	assert_int_equal(s.ad, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.malformed, 3);
}

static void
tlsa_truncated(void **state)
{
	unsigned char b[512], rd[35] = { 3, 1, 1 };
	struct tlsa_set s;
	size_t n, cut;

	(void)state;
	n = msg_start(b, 1, 0, 1);
	n = msg_rr(b, n, TLSA_TYPE, rd, sizeof(rd));
	for (cut = 0; cut < n; cut++)
		assert_int_equal(tlsa_parse(b, cut, &s), -1);
	assert_int_equal(tlsa_parse(NULL, 0, &s), -1);
}

static void
dnsmsg_loop(void **state)
{
	unsigned char b[64] = { 0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
	    0xc0, 12 };	/* a question name pointing at itself */
	struct dnsmsg m;
	char name[DNSMSG_NAMEMAX];

	(void)state;
	assert_int_equal(dnsmsg_open(&m, b, 20), -1);
	m.buf = b;
	m.len = 20;
	assert_int_equal(dnsmsg_name(&m, 12, name), 0);
}

static void
dnsmsg_names(void **state)
{
	unsigned char b[512];
	struct dnsmsg m;
	struct dnsrr rr;
	char name[DNSMSG_NAMEMAX];
	size_t n;

	(void)state;
	n = msg_start(b, 0, 3, 1);
	b[13] = 'S';	/* "_25" -> "S25": names come out in lower case */
	n = msg_rr(b, n, 15, (const unsigned char *)"\0\012\002MX\300\025", 8);
	assert_int_equal(dnsmsg_open(&m, b, n), 0);
	assert_int_equal(m.rcode, 3);
	assert_int_equal(dnsmsg_next(&m, &rr), 1);
	assert_string_equal(rr.name, "s25._tcp.mx.example");
	assert_int_equal(rr.type, 15);
	assert_int_equal(rr.ttl, 3600);
	assert_int_not_equal(dnsmsg_name(&m, rr.rdoff + 2, name), 0);
	assert_string_equal(name, "mx.mx.example");
	assert_int_equal(dnsmsg_next(&m, &rr), 0);
}

static void
dnsmsg_rdatas(void **state)
{
	unsigned char b[512], out[64];
	struct dnsmsg m;
	struct dnsrr rr;
	unsigned pref;
	size_t n, len;

	(void)state;
	n = msg_start(b, 0, 0, 4);
	n = msg_rr(b, n, 15, (const unsigned char *)"\0\012\002mx\300\025", 7);
	n = msg_rr(b, n, 16, (const unsigned char *)"\003v=s\002pf\0", 7);
	n = msg_rr(b, n, 1, (const unsigned char *)"\300\0\2\1", 4);
	n = msg_rr(b, n, 16, (const unsigned char *)"\011short", 6);	/* string past rdata */
	assert_int_equal(dnsmsg_open(&m, b, n), 0);
	assert_int_equal(dnsmsg_next(&m, &rr), 1);
	assert_int_equal(dnsmsg_rdata(&m, &rr, out, sizeof(out), &len, &pref), 0);
	assert_int_equal(pref, 10);
	assert_string_equal((char *)out, "mx.mx.example");
	assert_int_equal(dnsmsg_rdata(&m, &rr, out, 5, &len, &pref), -1);	/* no room */
	assert_int_equal(dnsmsg_next(&m, &rr), 1);
	assert_int_equal(dnsmsg_rdata(&m, &rr, out, sizeof(out), &len, &pref), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "v=spf", 5);
	assert_int_equal(dnsmsg_next(&m, &rr), 1);
	assert_int_equal(dnsmsg_rdata(&m, &rr, out, sizeof(out), &len, &pref), 0);
	assert_int_equal(len, 4);
	assert_int_equal(out[0], 192);
	assert_int_equal(dnsmsg_next(&m, &rr), 1);
	assert_int_equal(dnsmsg_rdata(&m, &rr, out, sizeof(out), &len, &pref), -1);
	assert_int_equal(dnsmsg_next(&m, &rr), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlsa_good),
		cmocka_unit_test(tlsa_bad_rrs),
		cmocka_unit_test(tlsa_truncated),
		cmocka_unit_test(dnsmsg_loop),
		cmocka_unit_test(dnsmsg_names),
		cmocka_unit_test(dnsmsg_rdatas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
