/* The remote check's pure parts: control/smtproutes looked up as
 * qmail-remote does (exact key, .SUFFIX keys longest first, the empty key;
 * the first key found decides, an empty value meaning the MX), and the work
 * the root process hands the probe process, written by the put_* functions
 * and read back by a reader that refuses every line it cannot trust. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "remotework.h"
#include "smtproutes.h"

/* ---- control/smtproutes ---- */

static struct smtproute r;

static int
route(const char *file, const char *domain)
{
	return smtproutes_find(file, strlen(file), domain, &r);
}

/* 1 when domain is routed to relay:port */
static int
routed(const char *file, const char *domain, const char *relay, unsigned port)
{
	return route(file, domain) == 1 && strcmp(r.relay, relay) == 0 && r.port == port;
}

static void
smtproutes_exact(void **state)
{
	const char *f = "example.com:relay.example.net\n";

	(void)state;
	assert_int_equal(route(f, "example.com"), 1);
	assert_string_equal(r.relay, "relay.example.net");
	assert_int_equal(r.port, 25);
	assert_int_equal(route(f, "example.org"), 0);
	/* an exact key is that domain only: subdomains need .example.com */
	assert_int_equal(route(f, "mail.example.com"), 0);
	/* no partial keys: neither a prefix nor a suffix not at a dot */
	assert_int_equal(route(f, "example.co"), 0);
	assert_int_equal(route(f, "xample.com"), 0);
	assert_int_equal(route("ample.com:x\n.ample.com:y\n", "example.com"), 0);
	assert_int_equal(route(f, ""), 0);
	/* a line with no ':' is no key at all */
	assert_int_equal(route("example.com\n", "example.com"), 0);
	assert_int_equal(route("example.com relay.example.net\n", "example.com"), 0);
	assert_int_equal(route("", "example.com"), 0);
}

static void
smtproutes_suffix(void **state)
{
	/* the longer suffix first, whatever the order of the lines */
	const char *f = ".c:r1.example\n.b.c:r2.example\n";
	const char *g = ".b.c:r2.example\n.c:r1.example\n";

	(void)state;
	assert_true(routed(f, "a.b.c", "r2.example", 25));
	assert_true(routed(g, "a.b.c", "r2.example", 25));
	assert_true(routed(f, "x.y.a.b.c", "r2.example", 25));
	assert_true(routed(f, "x.c", "r1.example", 25));
	/* .b.c is for b.c's subdomains, not b.c: that one is .c's */
	assert_true(routed(f, "b.c", "r1.example", 25));
	assert_true(routed(g, "b.c", "r1.example", 25));
	assert_int_equal(route(f, "c"), 0);
	assert_int_equal(route(f, "b.cc"), 0);
	/* the exact key before any suffix */
	assert_true(routed(".b.c:r2.example\na.b.c:r0.example\n.c:r1.example\n", "a.b.c",
	    "r0.example", 25));
	assert_true(routed("a.b.c:r0.example\n.a.b.c:rx.example\n", "a.b.c", "r0.example", 25));
	/* a domain that ends with a dot has "." as its last suffix */
	assert_true(routed(".:dot.example\n", "example.com.", "dot.example", 25));
	assert_int_equal(route(".:dot.example\n", "example.com"), 0);
	/* a domain that starts with a dot: its exact key */
	assert_true(routed(".example.com:lead.example\n", ".example.com", "lead.example", 25));
}

static void
smtproutes_default(void **state)
{
	const char *f = ":smarthost.isp.example:587\n.example.com:hub.example.com\n";

	(void)state;
	/* the empty key routes every domain, after every other key */
	assert_true(routed(f, "example.org", "smarthost.isp.example", 587));
	assert_true(routed(f, "c", "smarthost.isp.example", 587));
	assert_true(routed(f, "", "smarthost.isp.example", 587));
	assert_true(routed(f, "mail.example.com", "hub.example.com", 25));
	/* example.com itself is not .example.com */
	assert_true(routed(f, "example.com", "smarthost.isp.example", 587));
	/* wherever it is in the file */
	assert_true(routed(".example.com:hub.example.com\n:smarthost.isp.example\n",
	    "example.org", "smarthost.isp.example", 25));
}

static void
smtproutes_empty_value(void **state)
{
	(void)state;
	/* the first key found decides; an empty relay there is "use the MX",
	 * even with a relay on a shorter suffix or the empty key */
	assert_int_equal(route(":smarthost.example\nlocal.example:\n", "local.example"), 0);
	assert_int_equal(route(":smarthost.example\n.example.com:\n", "a.example.com"), 0);
	assert_int_equal(route(".com:hub.example\nexample.com:\n", "example.com"), 0);
	assert_true(routed(".com:hub.example\nexample.com:\n", "x.com", "hub.example", 25));
	assert_int_equal(route(".c:r1.example\n.b.c:\n", "a.b.c"), 0);
	assert_true(routed(".c:r1.example\n.b.c:\n", "b.c", "r1.example", 25));
	/* the empty key with an empty value: nothing routed */
	assert_int_equal(route(":\n", "example.com"), 0);
	assert_int_equal(route("example.com:  \n", "example.com"), 0);
	assert_int_equal(route("example.com:[]\n:smarthost.example\n", "example.com"), 0);
}

static void
smtproutes_last_line_wins(void **state)
{
	(void)state;
	assert_true(routed("example.com:first.example\nexample.com:second.example\n",
	    "example.com", "second.example", 25));
	/* the same key in another case is the same key */
	assert_true(routed("example.com:first.example\nEXAMPLE.com:second.example:26\n",
	    "example.com", "second.example", 26));
	/* a last empty value takes the route away, and the other way round */
	assert_int_equal(route("example.com:relay.example\nexample.com:\n", "example.com"), 0);
	assert_true(routed("example.com:\nexample.com:relay.example\n", "example.com",
	    "relay.example", 25));
	assert_true(routed(":a.example\n:b.example\n", "x.org", "b.example", 25));
	assert_true(routed(".c:a.example\nx.c:y\n.c:b.example\n", "z.c", "b.example", 25));
}

static void
smtproutes_case(void **state)
{
	(void)state;
	/* keys compare without case; the relay is as written */
	assert_true(routed("Example.COM:Relay.Example.NET\n", "eXample.com", "Relay.Example.NET",
	    25));
	assert_true(routed(".EXAMPLE.com:Hub\n", "mx.example.COM", "Hub", 25));
	assert_true(routed(".example.com:hub\n", "MX.EXAMPLE.COM", "hub", 25));
}

static void
smtproutes_ports(void **state)
{
	char line[64];
	unsigned p;

	(void)state;
	assert_true(routed("a.example:relay.example\n", "a.example", "relay.example", 25));
	assert_true(routed("a.example:relay.example:2525\n", "a.example", "relay.example", 2525));
	assert_true(routed("a.example:1.2.3.4:587\n", "a.example", "1.2.3.4", 587));
	assert_true(routed("a.example:1.2.3.4\n", "a.example", "1.2.3.4", 25));
	assert_true(routed("a.example:[1.2.3.4]:2525\n", "a.example", "1.2.3.4", 2525));
	assert_true(routed("a.example:[1.2.3.4]\n", "a.example", "1.2.3.4", 25));
	assert_true(routed("a.example:[::1]:26\n", "a.example", "::1", 26));
	assert_true(routed("a.example:[2001:db8::25]\n", "a.example", "2001:db8::25", 25));
	assert_true(routed("a.example:[2001:db8::25]:465\n", "a.example", "2001:db8::25", 465));
	assert_true(routed("a.example:relay.example:65535\n", "a.example", "relay.example",
	    65535));
	assert_true(routed("a.example:relay.example:1\n", "a.example", "relay.example", 1));
	assert_true(routed("a.example:relay.example:0587\n", "a.example", "relay.example", 587));
	/* qmail's scan_ulong: the digits there are; none, or 0, is port 25 */
	assert_true(routed("a.example:relay.example:\n", "a.example", "relay.example", 25));
	assert_true(routed("a.example:relay.example:0\n", "a.example", "relay.example", 25));
	assert_true(routed("a.example:relay.example:x\n", "a.example", "relay.example", 25));
	assert_true(routed("a.example:relay.example:2525abc\n", "a.example", "relay.example",
	    2525));
	/* a number too large for a port is no port: 25, not a port modulo
	 * anything (65562 is 26 modulo 2^16, 18446744073709551642 modulo 2^64) */
	for (p = 65536; p < 700000; p = p * 3 + 1) {
		snprintf(line, sizeof(line), "a.example:relay.example:%u\n", p);
		assert_true(routed(line, "a.example", "relay.example", 25));
	}
	assert_true(routed("a.example:relay.example:65562\n", "a.example", "relay.example", 25));
	assert_true(routed("a.example:relay.example:18446744073709551642\n", "a.example",
	    "relay.example", 25));
	assert_true(routed("a.example:relay.example:99999999999999999999999\n", "a.example",
	    "relay.example", 25));
}

static void
smtproutes_extra_fields(void **state)
{
	(void)state;
	/* s/qmail's and patches' fields after the port (or the relay) are not ours */
	assert_true(routed("a.example:relay.example:587:user:secret\n", "a.example",
	    "relay.example", 587));
	assert_true(routed("a.example:relay.example:587 user secret\n", "a.example",
	    "relay.example", 587));
	assert_true(routed("a.example:relay.example user secret\n", "a.example", "relay.example",
	    25));
	assert_true(routed("a.example:relay.example|tls|x\n", "a.example", "relay.example", 25));
	assert_true(routed("a.example:relay.example:465|tls\n", "a.example", "relay.example", 465));
	assert_true(routed("a.example:[192.0.2.1]:465:user:pass\n", "a.example", "192.0.2.1", 465));
	assert_true(routed("a.example:[2001:db8::1]:26 user pass\n", "a.example", "2001:db8::1",
	    26));
}

static void
smtproutes_comments_blank_whitespace(void **state)
{
	const char *f =
	    "# control/smtproutes\n"
	    "\n"
	    "   \n"
	    "\t\n"
	    "#example.com:wrong.example\n"
	    "# example.com:wrong.example\n"
	    "example.com:right.example\n"
	    "#example.com:wrong.example\n"
	    "\n";

	(void)state;
	assert_true(routed(f, "example.com", "right.example", 25));
	/* a commented-out default is no default */
	assert_int_equal(route("#:smarthost.example\n", "example.org"), 0);
	/* lines are trimmed of spaces, tabs and a CR at both ends */
	assert_true(routed("  example.com:relay.example  \n", "example.com", "relay.example", 25));
	assert_true(routed("\texample.com:relay.example:2525\t\r\n", "example.com",
	    "relay.example", 2525));
	assert_true(routed("example.com:relay.example\r\n", "example.com", "relay.example", 25));
	assert_true(routed("  # comment\nexample.com:relay.example\n", "example.com",
	    "relay.example", 25));
	assert_int_equal(route("  #example.com:relay.example\n", "example.com"), 0);
	/* a key is up to the first ':', as written: no space inside */
	assert_int_equal(route("example.com :relay.example\n", "example.com"), 0);
}

static void
smtproutes_no_trailing_newline(void **state)
{
	static const char f[] = "a.example:r1.example\nb.example:r2.example:2526XXXX";

	(void)state;
	assert_true(routed("a.example:r1.example\nb.example:r2.example", "b.example",
	    "r2.example", 25));
	assert_true(routed("a.example:r1.example\nb.example:r2.example", "a.example",
	    "r1.example", 25));
	assert_true(routed("b.example:r2.example:2526", "b.example", "r2.example", 2526));
	/* the file is its bytes: nothing past len is read */
	assert_int_equal(smtproutes_find(f, sizeof(f) - 1 - 4, "b.example", &r), 1);
	assert_string_equal(r.relay, "r2.example");
	assert_int_equal(r.port, 2526);
	assert_int_equal(smtproutes_find(f, sizeof(f) - 1 - 5, "b.example", &r), 1);
	assert_int_equal(r.port, 252);
	assert_int_equal(smtproutes_find(f, strlen("a.example:r1.example\nb.ex"), "b.example", &r),
	    0);
}

static void
smtproutes_nul_and_long(void **state)
{
	static const char f[] = "a.example:good.example\na.example:b\0ad.example\n";
	char big[400], host[256];

	(void)state;
	/* a line with a NUL is not text: skipped, so the line before it stays */
	assert_int_equal(smtproutes_find(f, sizeof(f) - 1, "a.example", &r), 1);
	assert_string_equal(r.relay, "good.example");
	/* the longest relay there is room for */
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	snprintf(big, sizeof(big), "a.example:%s:2525\n", host);
	assert_int_equal(route(big, "a.example"), 1);
	assert_int_equal(strlen(r.relay), SMTPROUTE_HOST - 1);
	assert_int_equal(r.port, 2525);
}

/* ---- the work ---- */

static char buf[16384];
static size_t len;
static struct remotework w;
static const char *why;

static int
parse(const char *s)
{
	return remotework_parse(s, strlen(s), &w, &why);
}

static struct remotework_domain
dom(const char *domain, unsigned long long recipients, long long oldest, const char *relay,
    unsigned port)
{
	struct remotework_domain d;

	memset(&d, 0, sizeof(d));
	snprintf(d.domain, sizeof(d.domain), "%s", domain);
	snprintf(d.relay, sizeof(d.relay), "%s", relay);
	d.recipients = recipients;
	d.oldest = oldest;
	d.port = port;
	return d;
}

static void
work_roundtrip(void **state)
{
	struct remotework_domain d[4];
	static const unsigned char v4[4] = { 192, 0, 2, 1 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	unsigned i;

	(void)state;
	d[0] = dom("example.com", 3, 7200, "", 0);
	d[1] = dom("example.net", 1, 86400, "smtp.relay.example", 2525);
	d[2] = dom("[192.0.2.7]", 9999999999999999999ULL, 1LL << 62, "2001:db8::25", 26);
	d[3] = dom("_dmarc.Example.ORG.", 0, 0, "192.0.2.25", 65535);
	len = 0;
	assert_int_equal(remotework_put_helo(buf, sizeof(buf), &len, "mail.example.com"), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d[i]), 0);
	assert_int_equal(remotework_put_skip(buf, sizeof(buf), &len, "192.0.2.1"), 0);
	assert_int_equal(remotework_put_skip(buf, sizeof(buf), &len, "2001:db8::1"), 0);
	assert_int_equal(len, strlen(
	    "helo mail.example.com\n"
	    "domain example.com recipients 3 oldest 7200\n"
	    "domain example.net recipients 1 oldest 86400 relay smtp.relay.example port 2525\n"
	    "domain [192.0.2.7] recipients 9999999999999999999 oldest 4611686018427387904"
	    " relay 2001:db8::25 port 26\n"
	    "domain _dmarc.Example.ORG. recipients 0 oldest 0 relay 192.0.2.25 port 65535\n"
	    "skip 192.0.2.1\n"
	    "skip 2001:db8::1\n"));
	assert_memory_equal(buf,
	    "helo mail.example.com\n"
	    "domain example.com recipients 3 oldest 7200\n"
	    "domain example.net recipients 1 oldest 86400 relay smtp.relay.example port 2525\n"
	    "domain [192.0.2.7] recipients 9999999999999999999 oldest 4611686018427387904"
	    " relay 2001:db8::25 port 26\n"
	    "domain _dmarc.Example.ORG. recipients 0 oldest 0 relay 192.0.2.25 port 65535\n"
	    "skip 192.0.2.1\n"
	    "skip 2001:db8::1\n", len);

	assert_int_equal(remotework_parse(buf, len, &w, &why), 0);
	assert_null(why);
	assert_string_equal(w.helo, "mail.example.com");
	assert_int_equal(w.n, 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(w.d[i].domain, d[i].domain);
		assert_string_equal(w.d[i].relay, d[i].relay);
		assert_int_equal(w.d[i].port, d[i].port);
		assert_true(w.d[i].recipients == d[i].recipients);
		assert_true(w.d[i].oldest == d[i].oldest);
	}
	assert_int_equal(w.nskip, 2);
	assert_int_equal(w.skip[0].v6, 0);
	assert_memory_equal(w.skip[0].a, v4, 4);
	assert_int_equal(w.skip[1].v6, 1);
	assert_memory_equal(w.skip[1].a, v6, 16);

	/* nothing at all is no work, and valid */
	assert_int_equal(remotework_parse(buf, 0, &w, &why), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.nskip, 0);
	assert_string_equal(w.helo, "");
}

static void
work_parse_starts_afresh(void **state)
{
	const char *s = "helo a.example\ndomain example.com recipients 1 oldest 2\nskip 192.0.2.1\n";

	(void)state;
	assert_int_equal(parse(s), 0);
	assert_int_equal(parse(s), 0);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.nskip, 1);
	assert_int_equal(parse("skip ::1\n"), 0);
	assert_int_equal(w.n, 0);
	assert_string_equal(w.helo, "");
	assert_int_equal(w.nskip, 1);
	assert_int_equal(w.skip[0].v6, 1);
}

static void
work_limits(void **state)
{
	struct remotework_domain d;
	char addr[32];
	unsigned i;

	(void)state;
	/* REMOTEWORK_DOMAINS domains, then one too many */
	len = 0;
	for (i = 0; i < REMOTEWORK_DOMAINS; i++) {
		snprintf(addr, sizeof(addr), "d%u.example", i);
		d = dom(addr, i, i, "", 0);
		assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), 0);
	}
	assert_int_equal(remotework_parse(buf, len, &w, &why), 0);
	assert_int_equal(w.n, REMOTEWORK_DOMAINS);
	assert_string_equal(w.d[REMOTEWORK_DOMAINS - 1].domain, "d9.example");
	d = dom("one-more.example", 1, 1, "", 0);
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(remotework_parse(buf, len, &w, &why), -1);
	assert_string_equal(why, "too-many-domains");

	/* REMOTEWORK_SKIPS skips, then one too many */
	len = 0;
	for (i = 0; i < REMOTEWORK_SKIPS; i++) {
		snprintf(addr, sizeof(addr), "10.0.%u.%u", i / 256, i % 256);
		assert_int_equal(remotework_put_skip(buf, sizeof(buf), &len, addr), 0);
	}
	assert_int_equal(remotework_parse(buf, len, &w, &why), 0);
	assert_int_equal(w.nskip, REMOTEWORK_SKIPS);
	assert_int_equal(remotework_put_skip(buf, sizeof(buf), &len, "10.1.0.0"), 0);
	assert_int_equal(remotework_parse(buf, len, &w, &why), -1);
	assert_string_equal(why, "bad-skip");
}

static void
work_refused(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		/* helo: one printable word */
		{ "helo bad\001name\n", "bad-helo" },
		{ "helo mail\texample\n", "bad-helo" },
		{ "helo a b\n", "bad-helo" },
		{ "helo\n", "bad-helo" },
		{ "helo caf\xc3\xa9.example\n", "bad-helo" },
		{ "helo del\x7f\n", "bad-helo" },
		{ "helo a.example\r\n", "bad-helo" },
		/* domain: its shape */
		{ "domain example.com\n", "bad-domain-line" },
		{ "domain example.com recipients 1\n", "bad-domain-line" },
		{ "domain example.com recipient 1 oldest 2\n", "bad-domain-line" },
		{ "domain example.com recipients 1 age 2\n", "bad-domain-line" },
		{ "domain example.com recipients 1 oldest 2 relay r.example\n", "bad-domain-line" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port\n",
		    "bad-domain-line" },
		{ "domain example.com recipients 1 oldest 2 via r.example port 25\n",
		    "bad-domain-line" },
		{ "domain example.com recipients 1 oldest 2 relay r.example prt 25\n",
		    "bad-domain-line" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port 25 x\n",
		    "bad-domain-line" },
		/* domain: not a DNS name nor an [address] */
		{ "domain bad!.example recipients 1 oldest 2\n", "bad-name" },
		{ "domain a..example recipients 1 oldest 2\n", "bad-name" },
		{ "domain .example recipients 1 oldest 2\n", "bad-name" },
		{ "domain . recipients 1 oldest 2\n", "bad-name" },
		{ "domain [] recipients 1 oldest 2\n", "bad-name" },
		{ "domain [192.0.2] recipients 1 oldest 2\n", "bad-name" },
		{ "domain [999.0.2.1] recipients 1 oldest 2\n", "bad-name" },
		{ "domain [192.0.2.1 recipients 1 oldest 2\n", "bad-name" },
		{ "domain 192.0.2.1] recipients 1 oldest 2\n", "bad-name" },
		{ "domain [example.com] recipients 1 oldest 2\n", "bad-name" },
		/* relay: not a DNS name nor an address (no brackets) */
		{ "domain example.com recipients 1 oldest 2 relay bad!relay port 25\n", "bad-name" },
		{ "domain example.com recipients 1 oldest 2 relay [192.0.2.1] port 25\n",
		    "bad-name" },
		{ "domain example.com recipients 1 oldest 2 relay a..b port 25\n", "bad-name" },
		/* numbers */
		{ "domain example.com recipients 1x oldest 2\n", "bad-number" },
		{ "domain example.com recipients 1 oldest 12a\n", "bad-number" },
		{ "domain example.com recipients -1 oldest 2\n", "bad-number" },
		{ "domain example.com recipients 1 oldest -2\n", "bad-number" },
		{ "domain example.com recipients +1 oldest 2\n", "bad-number" },
		{ "domain example.com recipients 0x10 oldest 2\n", "bad-number" },
		{ "domain example.com recipients 1 oldest 4611686018427387905\n", "bad-number" },
		{ "domain example.com recipients 1 oldest 9999999999999999999\n", "bad-number" },
		{ "domain example.com recipients 18446744073709551616 oldest 2\n", "bad-number" },
		{ "domain example.com recipients 00000000000000000001 oldest 2\n", "bad-number" },
		/* ports */
		{ "domain example.com recipients 1 oldest 2 relay r.example port 0\n", "bad-port" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port 65536\n",
		    "bad-port" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port 25x\n", "bad-port" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port -25\n", "bad-port" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port 99999999999999999999\n",
		    "bad-port" },
		/* skips */
		{ "skip\n", "bad-skip" },
		{ "skip 192.0.2.1 192.0.2.2\n", "bad-skip" },
		{ "skip 192.0.2\n", "bad-address" },
		{ "skip example.com\n", "bad-address" },
		{ "skip [192.0.2.1]\n", "bad-address" },
		{ "skip 2001:db8:::1\n", "bad-address" },
		/* lines */
		{ "hello a.example\n", "unknown-line" },
		{ "HELO a.example\n", "unknown-line" },
		{ "# comment\n", "unknown-line" },
		{ "helo a.example", "unterminated" },
		{ "helo a.example\nskip 192.0.2.1", "unterminated" },
		{ "helo  a.example\n", "bad-line" },
		{ " helo a.example\n", "bad-line" },
		{ "helo a.example \n", "bad-line" },
		{ "domain example.com  recipients 1 oldest 2\n", "bad-line" },
		{ "domain example.com recipients  oldest 2\n", "bad-line" },
		{ "\n", "bad-line" },
		{ "helo a.example\n\n", "bad-line" },
		{ "domain example.com recipients 1 oldest 2 relay r.example port 25 a b c\n",
		    "bad-line" },
		/* the first bad line's fault */
		{ "helo a.example\nbogus\nskip x\n", "unknown-line" },
		{ "skip 192.0.2.1\nhelo a b\nbogus\n", "bad-helo" },
	};
	char line[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (parse(bad[i].in) != -1 || !why || strcmp(why, bad[i].why) != 0)
			fail_msg("\"%s\": %s, expected %s", bad[i].in, why ? why : "accepted",
			    bad[i].why);
	}

	/* a NUL byte, wherever it is */
	assert_int_equal(remotework_parse("helo a\0b\n", 9, &w, &why), -1);
	assert_string_equal(why, "bad-line");
	assert_int_equal(remotework_parse("skip 192.0.2.1\0\n", 16, &w, &why), -1);
	assert_string_equal(why, "bad-line");
	assert_int_equal(remotework_parse("\0\n", 2, &w, &why), -1);
	assert_string_equal(why, "bad-line");
	assert_int_equal(remotework_parse("helo a\n\0", 8, &w, &why), -1);
	assert_string_equal(why, "unterminated");

	/* a line longer than any the writer makes */
	memset(line, 'a', sizeof(line));
	memcpy(line, "helo ", 5);
	line[sizeof(line) - 1] = '\n';
	assert_int_equal(remotework_parse(line, sizeof(line), &w, &why), -1);
	assert_string_equal(why, "bad-line");
}

static void
work_names_at_their_limits(void **state)
{
	struct remotework_domain d;
	char helo[300], name[300], in[1024];

	(void)state;
	/* a helo of 255 bytes, not 256 */
	memset(helo, 'h', 255);
	helo[255] = 0;
	len = 0;
	assert_int_equal(remotework_put_helo(buf, sizeof(buf), &len, helo), 0);
	assert_int_equal(remotework_parse(buf, len, &w, &why), 0);
	assert_string_equal(w.helo, helo);
	memset(helo, 'h', 256);
	helo[256] = 0;
	len = 0;
	assert_int_equal(remotework_put_helo(buf, sizeof(buf), &len, helo), -1);
	assert_int_equal(len, 0);
	snprintf(in, sizeof(in), "helo %s\n", helo);
	assert_int_equal(parse(in), -1);
	assert_string_equal(why, "bad-helo");

	/* a DNS name of 253 bytes (63-byte labels), not 254 */
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.61s", helo, helo, helo, helo);
	assert_int_equal(strlen(name), 253);
	d = dom(name, 1, 1, name, 25);
	len = 0;
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(remotework_parse(buf, len, &w, &why), 0);
	assert_string_equal(w.d[0].domain, name);
	assert_string_equal(w.d[0].relay, name);
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.62s", helo, helo, helo, helo);
	snprintf(in, sizeof(in), "domain %s recipients 1 oldest 1\n", name);
	assert_int_equal(parse(in), -1);
	assert_string_equal(why, "bad-name");
	/* a label of 64 bytes */
	snprintf(in, sizeof(in), "domain %.64s.example recipients 1 oldest 1\n", helo);
	assert_int_equal(parse(in), -1);
	assert_string_equal(why, "bad-name");
}

static void
work_writers_refuse(void **state)
{
	static const char *const helos[] = { "", "a b", "a\tb", "a\nb", "del\x7f", "caf\xc3\xa9" };
	static const char *const domains[] = {
		"", "bad!.example", "a..b", "[192.0.2]", "[]", "[example.com]", "192.0.2.1]",
		"a b", "example.com\nhelo x",
	};
	static const char *const relays[] = {
		"bad!relay", "[192.0.2.1]", "a..b", "a b", "relay.example port 25",
	};
	static const char *const skips[] = {
		"", "example.com", "[192.0.2.1]", "192.0.2", "192.0.2.1 ", "2001:db8:::1",
	};
	struct remotework_domain d;
	size_t i;

	(void)state;
	memset(buf, 'X', sizeof(buf));
	len = 3;
	for (i = 0; i < sizeof(helos) / sizeof(helos[0]); i++)
		assert_int_equal(remotework_put_helo(buf, sizeof(buf), &len, helos[i]), -1);
	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		d = dom(domains[i], 1, 1, "", 0);
		assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	}
	for (i = 0; i < sizeof(relays) / sizeof(relays[0]); i++) {
		d = dom("example.com", 1, 1, relays[i], 25);
		assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	}
	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++)
		assert_int_equal(remotework_put_skip(buf, sizeof(buf), &len, skips[i]), -1);
	/* numbers and ports the reader would refuse: the writer refuses them first,
	 * so one odd domain never costs the run its whole work */
	d = dom("example.com", 1, -1, "", 0);
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	d = dom("example.com", 1, REMOTEWORK_OLDEST + 1, "", 0);
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	d = dom("example.com", REMOTEWORK_RECIPIENTS + 1, 1, "", 0);
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	d = dom("example.com", 1, 1, "relay.example", 0);
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	d = dom("example.com", 1, 1, "relay.example", 65536);
	assert_int_equal(remotework_put_domain(buf, sizeof(buf), &len, &d), -1);
	/* nothing appended */
	assert_int_equal(len, 3);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'X');
}

static void
work_writers_no_room(void **state)
{
	static const char expect[] = "helo a.example\nskip 192.0.2.1\n";
	struct remotework_domain d = dom("example.com", 2, 3, "relay.example", 2525);
	const char *line = "domain example.com recipients 2 oldest 3 relay relay.example port 2525\n";
	char small[256];
	size_t size, i, n = strlen(line);

	(void)state;
	/* nothing fits in nothing */
	len = 0;
	assert_int_equal(remotework_put_helo(small, 0, &len, "a.example"), -1);
	assert_int_equal(len, 0);

	memset(small, 'X', sizeof(small));
	len = 0;
	assert_int_equal(remotework_put_helo(small, 5, &len, "a.example"), -1);
	assert_int_equal(len, 0);
	assert_int_equal(remotework_put_helo(small, sizeof(small), &len, "a.example"), 0);
	assert_int_equal(remotework_put_skip(small, sizeof(small), &len, "192.0.2.1"), 0);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(small, expect, len);

	/* every size short of the line: -1, nothing appended or touched */
	for (size = len; size < len + n; size++) {
		assert_int_equal(remotework_put_domain(small, size, &len, &d), -1);
		assert_int_equal(len, strlen(expect));
		assert_int_equal(remotework_put_skip(small, len + 8, &len, "2001:db8::1"), -1);
		assert_int_equal(remotework_put_helo(small, len + 5, &len, "b.example"), -1);
		assert_int_equal(len, strlen(expect));
	}
	assert_memory_equal(small, expect, len);
	for (i = len; i < sizeof(small); i++)
		assert_int_equal(small[i], 'X');
	/* exactly the room it needs is enough */
	assert_int_equal(remotework_put_domain(small, len + n, &len, &d), 0);
	assert_int_equal(len, strlen(expect) + n);
	assert_memory_equal(small + strlen(expect), line, n);
	assert_int_equal(remotework_parse(small, len, &w, &why), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.d[0].relay, "relay.example");
	assert_int_equal(w.d[0].port, 2525);
	assert_int_equal(w.nskip, 1);
	assert_string_equal(w.helo, "a.example");
}

static void
work_skipped(void **state)
{
	static const unsigned char v4[4] = { 192, 0, 2, 1 }, v4b[4] = { 192, 0, 2, 2 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const unsigned char v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const unsigned char mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
	static const unsigned char v6first4[16] = { 192, 0, 2, 1 };

	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(remotework_skipped(&w, 0, v4), 0);
	assert_int_equal(remotework_skipped(&w, 1, v6), 0);

	assert_int_equal(parse("skip 192.0.2.1\nskip 2001:db8::1\n"), 0);
	assert_int_equal(remotework_skipped(&w, 0, v4), 1);
	assert_int_equal(remotework_skipped(&w, 0, v4b), 0);
	assert_int_equal(remotework_skipped(&w, 1, v6), 1);
	assert_int_equal(remotework_skipped(&w, 1, v6b), 0);
	/* a family is part of the address */
	assert_int_equal(remotework_skipped(&w, 1, v6first4), 0);
	assert_int_equal(remotework_skipped(&w, 0, v6), 0);
	assert_int_equal(remotework_skipped(&w, 1, mapped), 0);
	assert_int_equal(parse("skip ::ffff:192.0.2.1\n"), 0);
	assert_int_equal(remotework_skipped(&w, 1, mapped), 1);
	assert_int_equal(remotework_skipped(&w, 0, v4), 0);
	/* any text of an address is that address */
	assert_int_equal(parse("skip 2001:0db8:0000:0000:0000:0000:0000:0001\n"), 0);
	assert_int_equal(remotework_skipped(&w, 1, v6), 1);
}

static void
work_addr(void **state)
{
	static const unsigned char v4[4] = { 192, 0, 2, 1 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct remotework_addr a;

	(void)state;
	assert_int_equal(remotework_addr("192.0.2.1", &a), 1);
	assert_int_equal(a.v6, 0);
	assert_memory_equal(a.a, v4, 4);
	assert_int_equal(remotework_addr("2001:db8::1", &a), 1);
	assert_int_equal(a.v6, 1);
	assert_memory_equal(a.a, v6, 16);
	assert_int_equal(remotework_addr("::1", &a), 1);
	assert_int_equal(a.v6, 1);
	assert_int_equal(a.a[15], 1);
	assert_int_equal(remotework_addr("", &a), 0);
	assert_int_equal(remotework_addr("example.com", &a), 0);
	assert_int_equal(remotework_addr("[192.0.2.1]", &a), 0);
	assert_int_equal(remotework_addr("192.0.2.256", &a), 0);
	assert_int_equal(remotework_addr("192.0.2.1 ", &a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smtproutes_exact),
		cmocka_unit_test(smtproutes_suffix),
		cmocka_unit_test(smtproutes_default),
		cmocka_unit_test(smtproutes_empty_value),
		cmocka_unit_test(smtproutes_last_line_wins),
		cmocka_unit_test(smtproutes_case),
		cmocka_unit_test(smtproutes_ports),
		cmocka_unit_test(smtproutes_extra_fields),
		cmocka_unit_test(smtproutes_comments_blank_whitespace),
		cmocka_unit_test(smtproutes_no_trailing_newline),
		cmocka_unit_test(smtproutes_nul_and_long),
		cmocka_unit_test(work_roundtrip),
		cmocka_unit_test(work_parse_starts_afresh),
		cmocka_unit_test(work_limits),
		cmocka_unit_test(work_refused),
		cmocka_unit_test(work_names_at_their_limits),
		cmocka_unit_test(work_writers_refuse),
		cmocka_unit_test(work_writers_no_room),
		cmocka_unit_test(work_skipped),
		cmocka_unit_test(work_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
