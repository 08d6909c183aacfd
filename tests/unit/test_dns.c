/* The dns check's configuration and memory: the default domain list (what of
 * control/rcpthosts is left out), bad names as bad-config, the failure
 * counts' state file and the root side's update from a run's memo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"
#include "dnsmsg.h"
#include "testhome.h"

static char home[] = "/tmp/test_dns.XXXXXX";
static struct conf conf;

static void
put(const char *rel, const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(testhome_path(rel), "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	if (testhome_make(home, NULL) < 0)
		return -1;
	testhome_conf(&conf);
	setenv("MAINTD_DNS_SERVERS", "127.0.0.1:53", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testhome_remove();
}

static void
default_skip(void **state)
{
	static const struct { const char *name, *why; } t[] = {
		{ "example.com", NULL }, { "Example.COM.", NULL }, { "mx1.example.test", NULL },
		{ "localhost", "localhost" }, { "LOCALHOST.", "localhost" },
		{ "a.localhost", "localhost" }, { "mail.localhost.", "localhost" },
		{ "notlocalhost.example", NULL }, { "xlocalhost", "dotless" },
		{ "mail", "dotless" }, { ".example.com", "wildcard" },
		{ "192.0.2.1", "ip-literal" }, { "[192.0.2.1]", "ip-literal" },
		{ "[IPv6:2001:db8::1]", "ip-literal" }, { "2001:db8::1", "ip-literal" },
		{ "ex ample.com", "bad-name" }, { "a..b", "bad-name" }, { ".", "wildcard" },
	};
	char longname[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *why = dns_default_skip(t[i].name, strlen(t[i].name));

		if (t[i].why)
			assert_string_equal(why ? why : "(null)", t[i].why);
		else
			assert_null(why);
	}
	memset(longname, 'a', sizeof(longname));
	for (i = 60; i < 304; i += 61)
		longname[i] = '.';
	assert_string_equal(dns_default_skip(longname, 304), "bad-name");
}

static void
name_ok(void **state)
{
	char n[300];

	(void)state;
	assert_true(dnsmsg_name_ok("example.com", 11));
	assert_true(dnsmsg_name_ok("example.com.", 12));
	assert_true(dnsmsg_name_ok("_dmarc.x-y.example", 18));
	assert_false(dnsmsg_name_ok("", 0));
	assert_false(dnsmsg_name_ok(".", 1));
	assert_false(dnsmsg_name_ok(".a", 2));
	assert_false(dnsmsg_name_ok("a..b", 4));
	assert_false(dnsmsg_name_ok("a b", 3));
	assert_false(dnsmsg_name_ok("a\nb", 3));
	memset(n, 'a', 63);
	assert_true(dnsmsg_name_ok(n, 63));
	memset(n, 'a', 64);
	assert_false(dnsmsg_name_ok(n, 64));	/* a label of 64 */
	memset(n, 'a', sizeof(n));
	n[63] = n[127] = n[191] = '.';
	assert_true(dnsmsg_name_ok(n, 253));
	assert_true(dnsmsg_name_ok(n, 253));
	n[253] = '.';
	assert_true(dnsmsg_name_ok(n, 254));	/* 253 and the root's dot */
	n[253] = 'a';
	assert_false(dnsmsg_name_ok(n, 254));
}

static int
collect(const char *name, unsigned long count, void *arg)
{
	char *out = arg;
	size_t o = strlen(out);

	snprintf(out + o, 512 - o, "%lu:%s;", count, name);
	return 0;
}

static void
failures_parse(void **state)
{
	static const char text[] = "3 bad.example\n1 Other.Example.\n# a comment\n"
	    "0 zero.example\nx junk\n12345678 big.example\n2 two words\n1000000 max.example\n"
	    "7 \n4 last.example";
	char out[512] = "";

	(void)state;
	assert_int_equal(dns_failures_parse(text, sizeof(text) - 1, collect, out), 0);
	assert_string_equal(out, "3:bad.example;1:other.example;1000000:max.example;4:last.example;");
}

static void *
configure(struct conf_err *err)
{
	memset(err, 0, sizeof(*err));
	return check_dns.configure(&conf, err);
}

/* A run's memo, as the probe process sends it. */
static void
memo(struct finding *f, const char *domain, unsigned n)
{
	finding_init(f, LEVEL_DEBUG, FINDING_DETAIL, "dns", "domain-failures");
	finding_add(f, "domain", domain);
	finding_addu(f, "sweeps", n);
}

/* The end of the run: what changed is saved. */
static int
checked(int dfd, void *cf)
{
	struct finding f;

	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "dns", "checked");
	finding_addu(&f, "domains", 3);
	return dns_failures_update(dfd, cf, &f);
}

static void
memory(void **state)
{
	struct conf_err err;
	struct finding f;
	void *cf;
	char path[256];
	int dfd;

	(void)state;
	unsetenv("MAINTD_DNS_DOMAINS");
	put("control/rcpthosts", "localhost\nmx1.example.test\nlocal\n[192.0.2.1]\n"
	    "good.example\nBad.Example.\n.wild.example\nbad.example\nskipped.example\n");
	put("state/dns.failures", "2 bad.example\n5 unknown.example\n1 mx1.example.test\n");
	setenv("MAINTD_DNS_SKIP", "skipped.example", 1);
	assert_non_null(cf = configure(&err));
	snprintf(path, sizeof(path), "%s/state", home);
	assert_true((dfd = open(path, O_RDONLY | O_DIRECTORY)) >= 0);
	/* what was read: bad.example at 2; a third failure saves 3 */
	memo(&f, "bad.example", 2);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 0);	/* nothing changed */
	memo(&f, "BAD.example", 3);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 1);
	assert_string_equal(testhome_get("state/dns.failures"), "1 mx1.example.test\n3 bad.example\n");
	/* names not of the list (left out, skipped, unknown) change nothing */
	memo(&f, "localhost", 1);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	memo(&f, "skipped.example", 1);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	memo(&f, "other.example", 1);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	memo(&f, "bad..example", 1);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	finding_init(&f, LEVEL_DEBUG, FINDING_DETAIL, "dns", "domain-failures");
	finding_add(&f, "domain", "good.example");
	finding_add(&f, "sweeps", "1x");
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	finding_init(&f, LEVEL_WARN, FINDING_STATE, "dns", "mx-missing");
	finding_add(&f, "domain", "good.example");
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 0);
	/* back to 0: the line goes */
	memo(&f, "mx1.example.test", 0);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 1);
	assert_string_equal(testhome_get("state/dns.failures"), "3 bad.example\n");
	check_dns.config_free(cf);
	/* read back */
	assert_non_null(cf = configure(&err));
	memo(&f, "bad.example", 3);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 0);	/* 3 was read back */
	check_dns.config_free(cf);
	/* explicit domains have no memory */
	setenv("MAINTD_DNS_DOMAINS", "bad.example", 1);
	assert_non_null(cf = configure(&err));
	memo(&f, "bad.example", 4);
	assert_int_equal(dns_failures_update(dfd, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 0);
	check_dns.config_free(cf);
	unsetenv("MAINTD_DNS_DOMAINS");
	/* a state file that is a symbolic link is not read */
	snprintf(path, sizeof(path), "%s/state/dns.failures", home);
	unlink(path);
	put("elsewhere", "2 bad.example\n");
	snprintf(path, sizeof(path), "%s/elsewhere", home);
	{
		char link[256];

		snprintf(link, sizeof(link), "%s/state/dns.failures", home);
		assert_int_equal(symlink(path, link), 0);
	}
	assert_non_null(cf = configure(&err));
	memo(&f, "bad.example", 0);	/* the count read is 0: nothing changes */
	assert_int_equal(dns_failures_update(-1, cf, &f), 0);
	assert_int_equal(checked(dfd, cf), 0);
	check_dns.config_free(cf);
	close(dfd);
	unsetenv("MAINTD_DNS_SKIP");
}

static void
bad_config(void **state)
{
	char name[305];
	struct conf_err err;
	size_t i;

	(void)state;
	memset(name, 'a', 304);
	for (i = 50; i < 304; i += 51)
		name[i] = '.';
	name[304] = 0;
	setenv("MAINTD_DNS_DOMAINS", name, 1);
	assert_null(configure(&err));
	assert_string_equal(err.var, "MAINTD_DNS_DOMAINS");
	assert_string_equal(err.reason, "too-long");
	assert_true(strncmp(err.value, name, 200) == 0);
	setenv("MAINTD_DNS_DOMAINS", "good.example bad..example", 1);
	assert_null(configure(&err));
	assert_string_equal(err.value, "bad..example");
	assert_string_equal(err.reason, "bad-name");
	unsetenv("MAINTD_DNS_DOMAINS");
	setenv("MAINTD_DNS_SKIP", "ok.example,bad..example", 1);
	assert_null(configure(&err));
	assert_string_equal(err.var, "MAINTD_DNS_SKIP");
	setenv("MAINTD_DNS_SKIP", ".ok.example ok2.example.", 1);
	{
		void *cf = configure(&err);

		if (!cf)
			fail_msg("%s %s %s %d", err.var, err.value, err.reason, err.errnum);
		check_dns.config_free(cf);
	}
	unsetenv("MAINTD_DNS_SKIP");
	setenv("MAINTD_DKIM", "sel:bad..example", 1);
	assert_null(configure(&err));
	assert_string_equal(err.var, "MAINTD_DKIM");
	unsetenv("MAINTD_DKIM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_skip),
		cmocka_unit_test(name_ok),
		cmocka_unit_test(failures_parse),
		cmocka_unit_test(memory),
		cmocka_unit_test(bad_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
