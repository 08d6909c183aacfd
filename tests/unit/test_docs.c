/* The man page documents every variable and every EVENT code of every check
 * this binary has (the check table is linked in). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

static char *man;

/* the page with roff's "\-" turned into "-" */
static int
load(void **state)
{
	const char *src = getenv("SOURCE_DIR");
	char path[4096];
	size_t n = 0, i, j;
	FILE *f;

	(void)state;
	if (!src)
		return -1;
	snprintf(path, sizeof(path), "%s/docs/qmail-maintd.8", src);
	if (!(f = fopen(path, "r")) || !(man = calloc(1, 1 << 20)))
		return -1;
	n = fread(man, 1, (1 << 20) - 1, f);
	fclose(f);
	for (i = j = 0; i < n; i++)
		if (!(man[i] == '\\' && man[i + 1] == '-'))
			man[j++] = man[i];
	man[j] = '\0';
	return 0;
}

static void
variables(void **state)
{
	const struct check *c;
	unsigned i, j;
	char name[64];

	(void)state;
	for (i = 0; conf_global_vars[i]; i++)
		if (!strstr(man, conf_global_vars[i]->name))
			fail_msg("variable %s is not in the man page", conf_global_vars[i]->name);
	for (i = 0; (c = maintd_checks[i]); i++) {
		for (j = 0; c->vars && c->vars[j]; j++)
			if (!strstr(man, c->vars[j]->name))
				fail_msg("variable %s of %s is not in the man page",
				    c->vars[j]->name, c->name);
		snprintf(name, sizeof(name), ".SS %s", c->name);
		if (!strstr(man, name))
			fail_msg("no section for check %s", c->name);
	}
}

static void
events(void **state)
{
	const struct check *c;
	char code[128];
	unsigned i, j;

	(void)state;
	for (i = 0; (c = maintd_checks[i]); i++)
		for (j = 0; c->events && c->events[j]; j++) {
			snprintf(code, sizeof(code), "%s: %s", c->name, c->events[j]);
			if (!strstr(man, code))
				fail_msg("event \"%s\" is not in the man page", code);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(variables),
		cmocka_unit_test(events),
	};

	return cmocka_run_group_tests(tests, load, NULL);
}
