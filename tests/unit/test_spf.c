#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "spf.h"

/* A DNS of a few names: "name type value" rows; "TEMP" or "PENDING" values. */
struct row {
	const char *name;
	int type;
	const char *val;
};

struct fake {
	const struct row *rows;
	struct spf_rdata rd[16];
	unsigned char bin[16][16];
	unsigned asked;
};

static void
fake_lookup(void *arg, const char *name, int type, struct spf_answer *a)
{
	struct fake *f = arg;
	const struct row *r;

	f->asked++;
	a->st = SPF_DNS_VOID;
	a->n = 0;
	a->rd = f->rd;
	for (r = f->rows; r->name; r++) {
		if (strcmp(r->name, name) != 0 || r->type != type || a->n == 16)
			continue;
		if (strcmp(r->val, "TEMP") == 0) {
			a->st = SPF_DNS_TEMP;
			return;
		}
		if (strcmp(r->val, "PENDING") == 0) {
			a->st = SPF_DNS_PENDING;
			return;
		}
		a->st = SPF_DNS_FOUND;
		if (type == 1 || type == 28) {
			inet_pton(type == 1 ? AF_INET : AF_INET6, r->val, f->bin[a->n]);
			f->rd[a->n].p = f->bin[a->n];
			f->rd[a->n].len = type == 1 ? 4 : 16;
		} else {
			f->rd[a->n].p = (const unsigned char *)r->val;
			f->rd[a->n].len = strlen(r->val);
		}
		a->n++;
	}
}

static enum spf_result
check(const struct row *rows, const char *ip, const char *domain, struct spf_ctx *c)
{
	static struct fake f;

	memset(&f, 0, sizeof(f));
	memset(c, 0, sizeof(*c));
	f.rows = rows;
	c->family = strchr(ip, ':') ? 6 : 4;
	inet_pton(c->family == 4 ? AF_INET : AF_INET6, ip, c->ip);
	c->local = "postmaster";
	c->sender = domain;
	c->helo = "mx.example.org";
	c->lookup = fake_lookup;
	c->arg = &f;
	return spf_check_host(c, domain);
}

static void
parse_terms(void **state)
{
	static const char rec[] = "v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::/32 ~a/24//64 "
	    "?mx:mail.example.org/30 include:_spf.example.net exists:%{i}.x.example "
	    "ptr redirect=other.example exp=explain.example unknown-mod=x";
	struct spf_record r;
	const char *why;

	(void)state;
	assert_int_equal(spf_parse(rec, strlen(rec), &r, &why), 0);
	assert_int_equal(r.n, 7);
	assert_int_equal(r.t[0].mech, SPF_M_IP4);
	assert_int_equal(r.t[0].cidr4, 24);
	assert_int_equal(r.t[0].ip[0], 192);
	assert_int_equal(r.t[1].qual, '-');
	assert_int_equal(r.t[1].mech, SPF_M_IP6);
	assert_int_equal(r.t[1].cidr6, 32);
	assert_int_equal(r.t[2].qual, '~');
	assert_int_equal(r.t[2].cidr4, 24);
	assert_int_equal(r.t[2].cidr6, 64);
	assert_null(r.t[2].arg);
	assert_int_equal(r.t[3].cidr4, 30);
	assert_int_equal(r.t[3].arglen, strlen("mail.example.org"));
	assert_int_equal(r.t[4].mech, SPF_M_INCLUDE);
	assert_int_equal(r.t[6].mech, SPF_M_PTR);
	assert_int_equal(r.redirlen, strlen("other.example"));
}

static void
parse_errors(void **state)
{
	static const char *const bad[] = { "v=spf1 ip4:1.2.3.4/33", "v=spf1 foo",
	    "v=spf1 include", "v=spf1 redirect=a.example redirect=b.example",
	    "v=spf1 ip4:1.2.3", "v=spf1 a:", "v=spf1 all:x", "v=spf1 ip6:::1//64",
	    "v=spf10", "spf1", NULL };
	struct spf_record r;
	const char *why;
	unsigned i;

	(void)state;
	for (i = 0; bad[i]; i++)
		assert_int_equal(spf_parse(bad[i], strlen(bad[i]), &r, &why), -1);
	assert_true(spf_is_record("V=SPF1", 6));
	assert_false(spf_is_record("v=spf1x", 7));
}

static void
macros(void **state)
{
	struct spf_ctx c;
	char out[300];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.family = 4;
	inet_pton(AF_INET, "192.0.2.3", c.ip);
	c.local = "postmaster";
	c.sender = "example.com";
	c.helo = "mx.example.org";
	assert_int_equal(spf_expand(&c, "example.com", "%{ir}.%{v}._spf.%{d2}", 21, out, sizeof(out)), 0);
	assert_string_equal(out, "3.2.0.192.in-addr._spf.example.com");
	assert_int_equal(spf_expand(&c, "a.b.example.com", "%{l}.%{o}.%{h}%%%_%-", 20, out, sizeof(out)), 0);
	assert_string_equal(out, "postmaster.example.com.mx.example.org% %20");
	assert_int_equal(spf_expand(&c, "d.example", "%{s}", 4, out, sizeof(out)), 0);
	assert_string_equal(out, "postmaster@example.com");
	assert_int_equal(spf_expand(&c, "d.example", "%{p}.x", 6, out, sizeof(out)), -2);
	assert_int_equal(spf_expand(&c, "d.example", "%{x}", 4, out, sizeof(out)), -1);
	assert_int_equal(spf_expand(&c, "d.example", "%{d", 3, out, sizeof(out)), -1);
	assert_int_equal(spf_expand(&c, "d.example", "50%", 3, out, sizeof(out)), -1);
	c.family = 6;
	inet_pton(AF_INET6, "2001:db8::cb01", c.ip);
	assert_int_equal(spf_expand(&c, "d.example", "%{ir}.%{v}", 10, out, sizeof(out)), 0);
	assert_string_equal(out, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6");
}

static const struct row dns[] = {
	{ "ex.test", 16, "v=spf1 mx a:web.ex.test include:inc.test -all" },
	{ "ex.test", 16, "google-site-verification=abc" },
	{ "ex.test", 15, "mx1.ex.test" },
	{ "mx1.ex.test", 1, "192.0.2.1" },
	{ "mx1.ex.test", 28, "2001:db8::1" },
	{ "web.ex.test", 1, "192.0.2.80" },
	{ "inc.test", 16, "v=spf1 ip4:198.51.100.0/24 ?all" },
	{ "soft.test", 16, "v=spf1 ~all" },
	{ "redir.test", 16, "v=spf1 redirect=ex.test" },
	{ "two.test", 16, "v=spf1 -all" },
	{ "two.test", 16, "v=spf1 +all" },
	{ "temp.test", 16, "TEMP" },
	{ "pend.test", 16, "v=spf1 a:later.test -all" },
	{ "later.test", 1, "PENDING" },
	{ "void.test", 16, "v=spf1 a:n1.test a:n2.test a:n3.test +all" },
	{ "noinc.test", 16, "v=spf1 include:nothing.test +all" },
	{ "macro.test", 16, "v=spf1 exists:%{p}.macro.test -all" },
	{ "ex.test", 12, "x" },
	{ "3.2.0.192.in-addr.arpa", 12, "host.ptr.test" },
	{ "host.ptr.test", 1, "192.0.2.3" },
	{ "ptr.test", 16, "v=spf1 ptr -all" },
	{ "exists.test", 16, "v=spf1 exists:%{ir}.list.test -all" },
	{ "3.2.0.192.list.test", 1, "127.0.0.2" },
	{ "loop.test", 16, "v=spf1 include:loop.test -all" },
	{ NULL, 0, NULL }
};

static void
evaluate(void **state)
{
	struct spf_ctx c;

	(void)state;
	assert_int_equal(check(dns, "192.0.2.1", "ex.test", &c), SPF_PASS);	/* mx */
	assert_int_equal(check(dns, "2001:db8::1", "ex.test", &c), SPF_PASS);	/* mx, AAAA */
	assert_int_equal(check(dns, "192.0.2.80", "ex.test", &c), SPF_PASS);	/* a: */
	assert_int_equal(check(dns, "198.51.100.7", "ex.test", &c), SPF_PASS);	/* include */
	assert_int_equal(c.lookups, 3);
	assert_int_equal(check(dns, "203.0.113.1", "ex.test", &c), SPF_FAIL);
	assert_int_equal(check(dns, "203.0.113.1", "soft.test", &c), SPF_SOFTFAIL);
	assert_int_equal(check(dns, "192.0.2.80", "redir.test", &c), SPF_PASS);
	assert_int_equal(check(dns, "203.0.113.1", "redir.test", &c), SPF_FAIL);
	assert_int_equal(check(dns, "203.0.113.1", "two.test", &c), SPF_PERMERROR);
	assert_string_equal(c.why, "multiple-records");
	assert_int_equal(check(dns, "203.0.113.1", "nothing.test", &c), SPF_NONE);
	assert_int_equal(check(dns, "203.0.113.1", "temp.test", &c), SPF_TEMPERROR);
	assert_int_equal(check(dns, "203.0.113.1", "pend.test", &c), SPF_PENDING);
	assert_int_equal(check(dns, "203.0.113.1", "void.test", &c), SPF_PERMERROR);
	assert_string_equal(c.why, "void-limit");
	assert_int_equal(check(dns, "203.0.113.1", "noinc.test", &c), SPF_PERMERROR);
	assert_string_equal(c.why, "include-none");
	assert_int_equal(check(dns, "203.0.113.1", "macro.test", &c), SPF_UNSUPPORTED);
	assert_int_equal(check(dns, "192.0.2.3", "ptr.test", &c), SPF_PASS);
	assert_int_equal(check(dns, "192.0.2.4", "ptr.test", &c), SPF_FAIL);
	assert_int_equal(check(dns, "192.0.2.3", "exists.test", &c), SPF_PASS);
	assert_int_equal(check(dns, "192.0.2.4", "exists.test", &c), SPF_FAIL);
	assert_int_equal(check(dns, "192.0.2.4", "loop.test", &c), SPF_PERMERROR);
	assert_string_equal(c.why, "lookup-limit");
	assert_int_equal(spf_count_lookups(&c, "ex.test"), 3);
	assert_true(spf_count_lookups(&c, "loop.test") > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_terms),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(macros),
		cmocka_unit_test(evaluate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
