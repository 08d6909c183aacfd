/* The daemon's configuration with every real check (daemon/checks.c): a
 * reload (SIGHUP) with one bad variable of any check leaves every check's
 * previous configuration value in force, and names that variable once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "config.h"
#include "testhome.h"

static char home[] = "/tmp/test_config.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	if (testhome_make(home, "mx1.example.test") < 0)
		return -1;
	setenv("QMAILHOME", home, 1);
	setenv("MAINTD_STATE", "/nonexistent", 1);
	setenv("MAINTD_DNS_SERVERS", "127.0.0.1:53", 1);
	setenv("MAINTD_DNS_DOMAINS", "example.test", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testhome_remove();
}

/* One bad variable per check, beside a valid change of another variable of
 * the same check where it has one (the old tcpto stored MAXAGE before it
 * validated PRUNE). */
static const struct {
	const char *check, *good_var, *good_val, *bad_var, *bad_val, *reason;
} bad[] = {
	{ "queue", NULL, NULL, "MAINTD_QUEUE_SLICE", "0", "zero" },
	{ "tcpto", "MAINTD_TCPTO_MAXAGE", "9000", "MAINTD_TCPTO_PRUNE", "2", "out-of-range" },
	{ "kmsg", "MAINTD_KMSG_LOOP", "7", "MAINTD_KMSG_BACKLOG", "x", "not-a-number" },
	{ "dns", "MAINTD_DNS_DOMAINS", "other.test", "MAINTD_DNS_TIMEOUT", "x", "not-a-number" },
	{ "tls", "MAINTD_CERT_CRIT_DAYS", "3", "MAINTD_CERT_WARN_DAYS", "x", "not-a-number" },
	{ "svc", "MAINTD_SVC_RESTARTS", "9", "MAINTD_SVC_MINUP", "x", "not-a-number" },
};

static void
reload_keeps_every_value(void **state)
{
	struct config cf;
	struct conf_err err;
	void *before[CONF_MAXCHECKS];
	unsigned i, k;

	(void)state;
	assert_int_equal(config_load(&cf, maintd_checks, maintd_nchecks(), NULL, 0, &err), 0);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		assert_true(conf_check_index(&cf.conf, bad[k].check, strlen(bad[k].check)) >= 0);
		memcpy(before, cf.check, sizeof(before));
		if (bad[k].good_var)
			setenv(bad[k].good_var, bad[k].good_val, 1);
		setenv(bad[k].bad_var, bad[k].bad_val, 1);
		memset(&err, 0, sizeof(err));
		assert_int_equal(config_reload(&cf, &err), -1);
		assert_string_equal(err.var, bad[k].bad_var);
		assert_string_equal(err.value, bad[k].bad_val);
		assert_string_equal(err.reason, bad[k].reason);
		for (i = 0; i < cf.conf.nchecks; i++)
			assert_ptr_equal(cf.check[i], before[i]);
		unsetenv(bad[k].bad_var);
		if (bad[k].good_var)
			unsetenv(bad[k].good_var);
		/* and with the variable valid again, a reload replaces the values */
		assert_int_equal(config_reload(&cf, &err), 0);
	}
	config_free(&cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reload_keeps_every_value),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
