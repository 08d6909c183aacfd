#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpto_table.h"

struct file {
	unsigned char *buf;
	size_t len;
};

static struct file
slurp(const char *name)
{
	char path[4096];
	struct file f = { NULL, 0 };
	const char *dir = getenv("FIXTURES");
	FILE *fp;
	long n;

	/* a name with a directory (sqmail/...) is under the fixtures, else under tcpto-real */
	snprintf(path, sizeof(path), "%s/%s%s", dir ? dir : "tests/fixtures",
	    strchr(name, '/') ? "" : "tcpto-real/", name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	f.buf = malloc((size_t)n + 1);
	assert_non_null(f.buf);
	assert_int_equal(fread(f.buf, 1, (size_t)n, fp), (size_t)n);
	f.buf[n] = 0;
	f.len = (size_t)n;
	fclose(fp);
	return f;
}

/* qmail-tcpto's lines against the decoded table, age = recorded time - when */
static void
check_listing_as(const char *name, enum tcpto_layout layout, unsigned slots)
{
	char fn[256], ip[64], addr[TCPTO_ADDRSTR], *line, *save = NULL;
	unsigned long ago, count;
	struct tcpto_table t;
	struct file bin, txt, tm;
	unsigned i = 0, listed = 0;
	time_t when;

	snprintf(fn, sizeof(fn), "%s.bin", name);
	bin = slurp(fn);
	snprintf(fn, sizeof(fn), "%s.qmail-tcpto.txt", name);
	txt = slurp(fn);
	snprintf(fn, sizeof(fn), "%s.qmail-tcpto.time", name);
	tm = slurp(fn);
	when = (time_t)strtoll((char *)tm.buf, NULL, 10);
	assert_true(when > 0);
	assert_int_equal(tcpto_decode(bin.buf, bin.len, &t), layout);
	assert_int_equal(t.slots, slots);
	for (line = strtok_r((char *)txt.buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(sscanf(line, "%63s timed out %lu seconds ago; # recent timeouts: %lu",
		    ip, &ago, &count), 3);
		while (i < t.slots && (t.rec[i].empty || !t.rec[i].count))
			i++;
		assert_true(i < t.slots);
		tcpto_addr_format(&t.rec[i], addr, sizeof(addr));
		assert_string_equal(addr, ip);
		assert_int_equal(t.rec[i].count, count);
		assert_int_equal(tcpto_age(&t.rec[i], when), (long long)ago);
		listed++;
		i++;
	}
	for (; i < t.slots; i++)
		assert_true(t.rec[i].empty || !t.rec[i].count);
	assert_true(listed > 0);
	free(bin.buf);
	free(txt.buf);
	free(tm.buf);
}

static void
check_listing(const char *name)
{
	check_listing_as(name, TCPTO_CLASSIC, 64);
}

/* s/qmail 3.3.10's own table and its qmail-tcpto's listing */
static void
listing_sqmail(void **state)
{
	(void)state;
	check_listing_as("sqmail/tcpto-v4", TCPTO_SQMAIL, 32);
}

static void
listing_mixed(void **state)
{
	(void)state;
	check_listing("tcpto-mixed");
}

static void
listing_full(void **state)
{
	(void)state;
	check_listing("tcpto-full");
}

static void
cleared(void **state)
{
	struct file bin = slurp("tcpto-cleared.bin"), txt = slurp("tcpto-cleared.qmail-tcpto.txt");
	struct tcpto_table t;
	unsigned i;

	(void)state;
	assert_int_equal(txt.len, 0);
	/* zeros are no layout in particular: qmail-tcpok's or a restarted qmail-send's */
	assert_int_equal(tcpto_decode(bin.buf, bin.len, &t), TCPTO_EMPTY);
	assert_string_equal(tcpto_layout_name(t.layout), "empty");
	assert_int_equal(t.slots * t.reclen, TCPTO_SIZE);
	for (i = 0; i < t.slots; i++)
		assert_true(t.rec[i].empty);
	free(bin.buf);
	free(txt.buf);
}

/* Prune with a max age between two ages: exactly the older records are zero,
 * every other byte as it was. The expectation comes from the fixture's
 * independent decoding (.decoded.txt), not from the codec. */
static void
check_prune(const char *name, unsigned long maxage, unsigned want)
{
	char fn[256], *line, *save = NULL;
	unsigned char *expect, pruned[TCPTO_MAXSLOTS];
	unsigned slot, n = 0;
	unsigned long long when;
	struct file bin, dec, tm;
	struct tcpto_table t;
	time_t now;

	snprintf(fn, sizeof(fn), "%s.bin", name);
	bin = slurp(fn);
	snprintf(fn, sizeof(fn), "%s.decoded.txt", name);
	dec = slurp(fn);
	snprintf(fn, sizeof(fn), "%s.qmail-tcpto.time", name);
	tm = slurp(fn);
	now = (time_t)strtoll((char *)tm.buf, NULL, 10);
	expect = malloc(bin.len);
	assert_non_null(expect);
	memcpy(expect, bin.buf, bin.len);
	for (line = strtok_r((char *)dec.buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#')
			continue;
		assert_int_equal(sscanf(line, "%u %*s %*u %llu", &slot, &when), 2);
		if ((long long)now - (long long)when > (long long)maxage) {
			memset(expect + slot * 16, 0, 16);
			n++;
		}
	}
	assert_int_equal(n, want);
	assert_int_equal(tcpto_decode(bin.buf, bin.len, &t), TCPTO_CLASSIC);
	assert_int_equal(tcpto_prune(bin.buf, &t, now, maxage, pruned), want);
	assert_memory_equal(bin.buf, expect, bin.len);
	assert_int_equal(bin.len, TCPTO_SIZE);
	for (slot = 0; slot < t.slots; slot++)
		if (pruned[slot])
			assert_true(t.rec[slot].empty);
	free(expect);
	free(bin.buf);
	free(dec.buf);
	free(tm.buf);
}

static void
prune_mixed(void **state)
{
	(void)state;
	/* ages 13 (x3), 142 (count 0), 80 */
	check_prune("tcpto-mixed", 50, 2);
	check_prune("tcpto-mixed", 100, 1);
	check_prune("tcpto-mixed", 142, 0);
	check_prune("tcpto-mixed", 12, 5);
}

static void
prune_full(void **state)
{
	struct file bin = slurp("tcpto-full.bin"), tm = slurp("tcpto-full.qmail-tcpto.time");
	struct tcpto_table t;
	long long age, lo = -1, hi = -1;
	time_t now = (time_t)strtoll((char *)tm.buf, NULL, 10);
	unsigned i, older = 0;

	(void)state;
	assert_int_equal(tcpto_decode(bin.buf, bin.len, &t), TCPTO_CLASSIC);
	for (i = 0; i < t.slots; i++) {
		age = tcpto_age(&t.rec[i], now);
		if (lo < 0 || age < lo)
			lo = age;
		if (age > hi)
			hi = age;
	}
	assert_true(hi > lo + 1);
	for (i = 0; i < t.slots; i++)
		older += tcpto_age(&t.rec[i], now) > (lo + hi) / 2;
	assert_true(older > 0 && older < 64);
	check_prune("tcpto-full", (unsigned long)((lo + hi) / 2), older);
	free(bin.buf);
	free(tm.buf);
}

/* s/qmail records built byte by byte, as s/qmail's tcpto_err writes them. */
static void
put_sqmail(unsigned char *b, unsigned slot, unsigned char af, const unsigned char *addr,
    unsigned count, uint32_t when)
{
	unsigned char *r = b + slot * 32;

	memset(r, 0, 32);
	r[0] = af;
	r[4] = (unsigned char)count;
	r[8] = when & 0xff;
	r[9] = (when >> 8) & 0xff;
	r[10] = (when >> 16) & 0xff;
	r[11] = when >> 24;
	if (af == 2) {
		memcpy(r + 16, addr, 4);
		memset(r + 20, '.', 12);
	} else
		memcpy(r + 16, addr, 16);
}

static void
check_sqmail(unsigned char af6)
{
	static const unsigned char v4[4] = { 192, 0, 2, 7 };
	unsigned char b[TCPTO_SIZE] = { 0 }, again[TCPTO_SIZE] = { 0 }, v6[16] = { 0x20, 0x01,
	    0x0d, 0xb8, [15] = 1 };
	char a[TCPTO_ADDRSTR];
	struct tcpto_table t;
	unsigned i;

	put_sqmail(b, 0, 2, v4, 2, 1795617376);
	put_sqmail(b, 1, af6, v6, 3, 1795617000);
	put_sqmail(b, 5, af6, v6, 0, 1700000000);
	assert_int_equal(tcpto_decode(b, sizeof(b), &t), TCPTO_SQMAIL);
	assert_int_equal(t.slots, 32);
	assert_int_equal(t.reclen, 32);
	tcpto_addr_format(&t.rec[0], a, sizeof(a));
	assert_string_equal(a, "192.0.2.7");
	assert_int_equal(t.rec[0].count, 2);
	assert_int_equal(t.rec[0].when, 1795617376);
	tcpto_addr_format(&t.rec[1], a, sizeof(a));
	assert_string_equal(a, "2001:db8::1");
	assert_int_equal(t.rec[1].count, 3);
	assert_int_equal(t.rec[1].af, af6);
	assert_int_equal(t.rec[5].count, 0);
	assert_false(t.rec[5].empty);
	assert_true(t.rec[2].empty);
	for (i = 0; i < t.slots; i++)
		tcpto_encode(TCPTO_SQMAIL, &t.rec[i], again + i * 32);
	assert_memory_equal(b, again, sizeof(b));
	assert_true(tcpto_skipped(&t.rec[0], 1795617376 + 100));
	assert_false(tcpto_skipped(&t.rec[1], 1795617000 + TCPTO_WINDOW));
}

static void
sqmail_linux(void **state)
{
	(void)state;
	check_sqmail(TCPTO_AF_INET6_LINUX);
}

static void
sqmail_bsd(void **state)
{
	(void)state;
	check_sqmail(TCPTO_AF_INET6_FREEBSD);
	check_sqmail(TCPTO_AF_INET6_NETBSD);
	check_sqmail(TCPTO_AF_INET6_DARWIN);
}

static void
sqmail_prune(void **state)
{
	static const unsigned char v4[4] = { 10, 1, 2, 3 };
	unsigned char b[TCPTO_SIZE] = { 0 }, expect[TCPTO_SIZE], pruned[TCPTO_MAXSLOTS];
	struct tcpto_table t;

	(void)state;
	put_sqmail(b, 0, 2, v4, 2, 1000000);
	put_sqmail(b, 1, 2, v4, 1, 2000000);
	put_sqmail(b, 31, 28, (const unsigned char *)"0123456789abcdef", 4, 1000000);
	memcpy(expect, b, sizeof(b));
	memset(expect, 0, 32);
	memset(expect + 31 * 32, 0, 32);
	assert_int_equal(tcpto_decode(b, sizeof(b), &t), TCPTO_SQMAIL);
	assert_int_equal(tcpto_prune(b, &t, 2000000, 7200, pruned), 2);
	assert_memory_equal(b, expect, sizeof(b));
	assert_true(pruned[0] && !pruned[1] && pruned[31]);
}

static void
classic_roundtrip(void **state)
{
	unsigned char b[TCPTO_SIZE] = { 0 }, again[TCPTO_SIZE];
	struct tcpto_rec r = { 0 };
	struct tcpto_table t;
	unsigned i;

	(void)state;
	for (i = 0; i < 64; i += 3) {
		memset(&r, 0, sizeof(r));
		r.addr[0] = 198;
		r.addr[1] = 51;
		r.addr[2] = 100;
		r.addr[3] = (unsigned char)i;
		r.count = i % 11;
		r.when = 1795617000u + i;
		tcpto_encode(TCPTO_CLASSIC, &r, b + i * 16);
	}
	assert_int_equal(tcpto_decode(b, sizeof(b), &t), TCPTO_CLASSIC);
	for (i = 0; i < 64; i++)
		tcpto_encode(TCPTO_CLASSIC, &t.rec[i], again + i * 16);
	assert_memory_equal(b, again, sizeof(b));
}

static void
unknown(void **state)
{
	unsigned char b[4096], native[2048] = { 0 };
	struct tcpto_table t;
	unsigned i, seed = 12345;
	static const unsigned char v4[4] = { 10, 1, 2, 3 };

	(void)state;
	memset(b, 0, sizeof(b));
	assert_int_equal(tcpto_decode(b, 0, &t), TCPTO_UNKNOWN);
	assert_int_equal(tcpto_decode(b, 1023, &t), TCPTO_UNKNOWN);
	assert_int_equal(tcpto_decode(b, 1025, &t), TCPTO_UNKNOWN);
	assert_int_equal(tcpto_decode(b, 2048, &t), TCPTO_UNKNOWN);
	assert_int_equal(t.slots, 0);
	/* some IPv6 patches: a native struct of 32 bytes, count at 1, 8-byte time */
	for (i = 0; i < 5; i++) {
		native[i * 32] = 10;
		native[i * 32 + 1] = 2;
		native[i * 32 + 8] = 0x60;
		native[i * 32 + 9] = 0xf2;
		native[i * 32 + 16] = 0x20;
	}
	assert_int_equal(tcpto_decode(native, sizeof(native), &t), TCPTO_UNKNOWN);
	assert_int_equal(tcpto_decode(native, 1024, &t), TCPTO_UNKNOWN);
	for (i = 0; i < TCPTO_SIZE; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (unsigned char)(seed >> 16);
	}
	assert_int_equal(tcpto_decode(b, TCPTO_SIZE, &t), TCPTO_UNKNOWN);
	/* counts above qmail's cap, and a v4 record without its padding */
	memset(b, 0, sizeof(b));
	b[0] = 1;
	b[4] = 11;
	b[8] = 1;
	assert_int_equal(tcpto_decode(b, TCPTO_SIZE, &t), TCPTO_UNKNOWN);
	memset(b, 0, sizeof(b));
	put_sqmail(b, 0, 2, v4, 1, 5);
	b[31] = 0;
	assert_int_equal(tcpto_decode(b, TCPTO_SIZE, &t), TCPTO_UNKNOWN);
	/* two AF_INET6 values in one table: no one system wrote that */
	memset(b, 0, sizeof(b));
	put_sqmail(b, 0, 10, (const unsigned char *)"0123456789abcdef", 1, 5);
	put_sqmail(b, 1, 28, (const unsigned char *)"0123456789abcdef", 1, 5);
	assert_int_equal(tcpto_decode(b, TCPTO_SIZE, &t), TCPTO_UNKNOWN);
}

static const char *
fmt6(const char *in)
{
	static char out[TCPTO_ADDRSTR];
	struct tcpto_rec r = { .v6 = 1 };

	assert_int_equal(inet_pton(AF_INET6, in, r.addr), 1);
	tcpto_addr_format(&r, out, sizeof(out));
	return out;
}

static void
rfc5952(void **state)
{
	static const unsigned short parts[] = { 0, 0, 0, 1, 0xabcd, 0xffff, 0x10 };
	char want[TCPTO_ADDRSTR], got[TCPTO_ADDRSTR];
	struct tcpto_rec r = { .v6 = 1 };
	unsigned i, j, seed = 7;

	(void)state;
	assert_string_equal(fmt6("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
	assert_string_equal(fmt6("::"), "::");
	assert_string_equal(fmt6("::1"), "::1");
	assert_string_equal(fmt6("1::"), "1::");
	assert_string_equal(fmt6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
	assert_string_equal(fmt6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
	assert_string_equal(fmt6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	assert_string_equal(fmt6("2001:DB8::ABCD"), "2001:db8::abcd");
	assert_string_equal(fmt6("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
	/* glibc's inet_ntop follows RFC 5952 too, except ::a.b.c.d */
	for (i = 0; i < 20000; i++) {
		for (j = 0; j < 8; j++) {
			seed = seed * 1103515245u + 12345u;
			r.addr[2 * j] = (unsigned char)(parts[(seed >> 16) % 7] >> 8);
			r.addr[2 * j + 1] = (unsigned char)parts[(seed >> 16) % 7];
		}
		if (!memcmp(r.addr, "\0\0\0\0\0\0\0\0\0\0\0\0", 12))
			continue;
		inet_ntop(AF_INET6, r.addr, want, sizeof(want));
		tcpto_addr_format(&r, got, sizeof(got));
		assert_string_equal(got, want);
	}
	/* a short buffer: cut, terminated */
	tcpto_addr_format(&r, got, 5);
	assert_int_equal(strlen(got), 4);
}

static void
windows(void **state)
{
	struct tcpto_rec r = { .count = 2, .when = 1000000 };

	(void)state;
	assert_true(tcpto_skipped(&r, 1000000));
	assert_true(tcpto_skipped(&r, 1000000 + TCPTO_WINDOW - 1));
	assert_false(tcpto_skipped(&r, 1000000 + TCPTO_WINDOW));
	assert_false(tcpto_skipped(&r, 999999));	/* future */
	assert_true(tcpto_future(&r, 999999));
	assert_false(tcpto_future(&r, 1000000));
	assert_false(tcpto_stale(&r, 999999 - 100000, 7200));
	assert_false(tcpto_stale(&r, 1000000 + 7200, 7200));
	assert_true(tcpto_stale(&r, 1000000 + 7201, 7200));
	r.count = 1;
	assert_false(tcpto_skipped(&r, 1000000));
	r.empty = 1;
	assert_false(tcpto_stale(&r, 2000000000, 7200));
	assert_string_equal(tcpto_layout_name(TCPTO_SQMAIL), "sqmail");
	assert_string_equal(tcpto_layout_name(TCPTO_CLASSIC), "classic");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listing_mixed),
		cmocka_unit_test(listing_full),
		cmocka_unit_test(listing_sqmail),
		cmocka_unit_test(cleared),
		cmocka_unit_test(prune_mixed),
		cmocka_unit_test(prune_full),
		cmocka_unit_test(sqmail_linux),
		cmocka_unit_test(sqmail_bsd),
		cmocka_unit_test(sqmail_prune),
		cmocka_unit_test(classic_roundtrip),
		cmocka_unit_test(unknown),
		cmocka_unit_test(rfc5952),
		cmocka_unit_test(windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
