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

#include "check.h"
#include "conf.h"
#include "config.h"

static const struct confvar var_x = { "MAINTD_ALPHA_X", "7" };
static const struct confvar *const alpha_vars[] = { &var_x, NULL };
static unsigned long alpha_x;

/* The test sees what was configured in alpha_x. */
static void *
alpha_configure(const struct conf *c, struct conf_err *err)
{
	unsigned long *v = malloc(sizeof(*v));

	(void)c;
	if (!v || conf_ulong(&var_x, 1, 10, v, err) < 0) {
		free(v);
		return NULL;
	}
	alpha_x = *v;
	return v;
}

static void nop_start(struct check_run *run) { run_done(run, CHECK_OK); }

static const struct check alpha = { .name = "alpha", .interval = 60, .timeout = 5,
	.vars = alpha_vars, .configure = alpha_configure, .start = nop_start };
static const struct check beta = { .name = "beta", .start = nop_start };
static const struct check *const table[] = { &alpha, &beta, NULL };

static char home[] = "/tmp/test_conf.XXXXXX";

static const char *const vars[] = {
	"QMAILHOME", "MAINTD_CHECKS", "MAINTD_INTERVAL", "MAINTD_STATE", "MAINTD_REMIND",
	"MAINTD_MAXFINDINGS", "MAINTD_INTERVAL_ALPHA", "MAINTD_INTERVAL_BETA",
	"MAINTD_TIMEOUT_ALPHA", "MAINTD_TIMEOUT_BETA", "MAINTD_ALPHA_X", NULL
};

static int
reset(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv("QMAILHOME", home, 1);
	return 0;
}

static int
load(const char *only, struct conf *c, struct conf_err *err)
{
	struct config cf;
	int r;

	memset(err, 0, sizeof(*err));
	/* the daemon's loading: its own variables, then each enabled check's */
	if ((r = config_load(&cf, table, 2, only, 0, err)) == 0)
		config_free(&cf);
	*c = cf.conf;
	return r;
}

static void
defaults(void **state)
{
	struct conf c;
	struct conf_err err;

	(void)state;
	assert_int_equal(load(NULL, &c, &err), 0);
	assert_string_equal(c.qmailhome, home);
	assert_string_equal(c.state, "./state");
	assert_int_equal(c.interval, 3600);
	assert_int_equal(c.remind, 86400);
	assert_int_equal(c.maxfindings, 10000);
	assert_true(c.enabled[0] && c.enabled[1]);
	assert_int_equal(c.check_interval[0], 60);	/* alpha's own */
	assert_int_equal(c.check_interval[1], 3600);	/* MAINTD_INTERVAL */
	assert_int_equal(c.check_timeout[0], 5);
	assert_int_equal(c.check_timeout[1], 600);
	assert_int_equal(alpha_x, 7);
	/* QMAILHOME's default */
	unsetenv("QMAILHOME");
	assert_string_equal(conf_value(&conf_qmailhome), "/var/qmail");
}

static void
overrides(void **state)
{
	struct conf c;
	struct conf_err err;

	(void)state;
	setenv("MAINTD_INTERVAL", "600", 1);
	setenv("MAINTD_INTERVAL_ALPHA", "30", 1);
	setenv("MAINTD_TIMEOUT_BETA", "9", 1);
	setenv("MAINTD_CHECKS", " beta ,\t", 1);
	setenv("MAINTD_REMIND", "0", 1);
	setenv("MAINTD_STATE", "", 1);		/* empty: the default */
	setenv("MAINTD_ALPHA_X", "3", 1);
	alpha_x = 0;
	assert_int_equal(load(NULL, &c, &err), 0);
	assert_int_equal(c.check_interval[0], 30);
	assert_int_equal(c.check_interval[1], 600);
	assert_int_equal(c.check_timeout[1], 9);
	assert_false(c.enabled[0]);
	assert_true(c.enabled[1]);
	assert_int_equal(c.remind, 0);
	assert_string_equal(c.state, "./state");
	assert_int_equal(alpha_x, 0);	/* a disabled check is not configured */
	/* -C replaces MAINTD_CHECKS */
	assert_int_equal(load("alpha", &c, &err), 0);
	assert_true(c.enabled[0]);
	assert_false(c.enabled[1]);
	assert_int_equal(alpha_x, 3);
}

struct bad {
	const char *var, *value, *reason, *errvar;
};

static void
bad_values(void **state)
{
	static const struct bad bad[] = {
		{ "MAINTD_INTERVAL", "abc", "not-a-number", NULL },
		{ "MAINTD_INTERVAL", "0", "zero", NULL },
		{ "MAINTD_INTERVAL", "-5", "not-a-number", NULL },
		{ "MAINTD_INTERVAL", "10s", "not-a-number", NULL },
		{ "MAINTD_INTERVAL", " 10", "not-a-number", NULL },
		{ "MAINTD_INTERVAL", "99999999999999999999999", "out-of-range", NULL },
		{ "MAINTD_INTERVAL", "4294967296", "out-of-range", NULL },
		{ "MAINTD_INTERVAL_ALPHA", "0", "zero", NULL },
		{ "MAINTD_INTERVAL_BETA", "x", "not-a-number", NULL },
		{ "MAINTD_TIMEOUT_ALPHA", "86401", "out-of-range", NULL },
		{ "MAINTD_REMIND", "1e3", "not-a-number", NULL },
		{ "MAINTD_MAXFINDINGS", "0", "zero", NULL },
		{ "MAINTD_MAXFINDINGS", "10000001", "out-of-range", NULL },
		{ "MAINTD_CHECKS", "alpha,gamma", "unknown-check", NULL },
		{ "MAINTD_CHECKS", "alph", "unknown-check", NULL },
		{ "MAINTD_CHECKS", " , ,", "no-checks", NULL },
		{ "MAINTD_ALPHA_X", "11", "out-of-range", NULL },
		{ "QMAILHOME", "/nonexistent/qmail", "missing", NULL },
		{ "QMAILHOME", "/etc/passwd", "not-a-directory", NULL },
	};
	struct conf c;
	struct conf_err err;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset(state);
		setenv(bad[i].var, bad[i].value, 1);
		assert_int_equal(load(NULL, &c, &err), -1);
		assert_string_equal(err.var, bad[i].var);
		assert_string_equal(err.value, bad[i].value);
		assert_string_equal(err.reason, bad[i].reason);
	}
	reset(state);
	assert_int_equal(load("alpha,nope", &c, &err), -1);
	assert_string_equal(err.var, "-C");
	assert_string_equal(err.reason, "unknown-check");
}

static int
collect(const char *item, size_t len, void *arg)
{
	char *out = arg;

	strncat(out, item, len);
	strcat(out, "|");
	return 0;
}

static void
lists(void **state)
{
	char out[256] = "";

	(void)state;
	assert_int_equal(conf_list(" a, b\tc  d,,e\n", collect, out), 0);
	assert_string_equal(out, "a|b|c|d|e|");
	out[0] = 0;
	assert_int_equal(conf_list("", collect, out), 0);
	assert_string_equal(out, "");
}

static void
write_control(const char *name, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/control/%s", home, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
control_files(void **state)
{
	static const char rcpthosts[] = "# comment\nexample.test\n\n  .wild.test  \nbad\0line\nlast";
	struct conf c;
	struct conf_err err;
	char buf[64], out[256] = "";

	(void)state;
	assert_int_equal(load(NULL, &c, &err), 0);
	assert_int_equal(control_read_line(&c, "absent", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	write_control("me", "  mx1.example.test \r\nsecond\n", 28);
	assert_int_equal(conf_read_control(&c, &err), 0);
	assert_string_equal(c.me, "mx1.example.test");
	write_control("rcpthosts", rcpthosts, sizeof(rcpthosts) - 1);
	assert_int_equal(control_read_lines(&c, "rcpthosts", collect, out), 1);
	assert_string_equal(out, "example.test|.wild.test|last|");
	/* a value longer than the buffer is cut, not overflowed */
	write_control("long", "0123456789012345678901234567890123456789012345678901234567890123456789", 70);
	assert_int_equal(control_read_line(&c, "long", buf, 10), 1);
	assert_string_equal(buf, "012345678");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(defaults, reset),
		cmocka_unit_test_setup(overrides, reset),
		cmocka_unit_test_setup(bad_values, reset),
		cmocka_unit_test_setup(lists, reset),
		cmocka_unit_test_setup(control_files, reset),
	};
	char path[64];
	int r;

	if (!mkdtemp(home))
		return 1;
	snprintf(path, sizeof(path), "%s/control", home);
	mkdir(path, 0755);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	if (system("rm -rf /tmp/test_conf.??????") != 0)
		r = r ? r : 1;
	return r;
}
