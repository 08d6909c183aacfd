#include "config.h"

#include <stdlib.h>

#include "check.h"

static void
free_checks(const struct conf *c, void *const *check)
{
	unsigned i;

	for (i = 0; i < c->nchecks; i++) {
		if (!check[i])
			continue;
		if (c->checks[i]->config_free)
			c->checks[i]->config_free(check[i]);
		else
			free(check[i]);
	}
}

/* Every enabled check's value, against conf; all or none. */
static int
configure_checks(const struct conf *c, void **check, struct conf_err *err)
{
	const struct check *ck;
	unsigned i;

	for (i = 0; i < c->nchecks; i++)
		check[i] = NULL;
	for (i = 0; i < c->nchecks; i++) {
		ck = c->checks[i];
		if (!c->enabled[i] || !ck->configure)
			continue;
		if (!(check[i] = ck->configure(c, err))) {
			free_checks(c, check);
			return -1;
		}
	}
	return 0;
}

int
config_load(struct config *cf, const struct check *const *checks, unsigned nchecks,
    const char *only, int verbose, struct conf_err *err)
{
	if (conf_load(&cf->conf, checks, nchecks, only, err) < 0 ||
	    conf_read_control(&cf->conf, err) < 0)
		return -1;
	cf->conf.verbose = verbose;
	return configure_checks(&cf->conf, cf->check, err);
}

int
config_reload(struct config *cf, struct conf_err *err)
{
	struct conf next = cf->conf;
	void *check[CONF_MAXCHECKS];
	unsigned i;

	if (conf_read_control(&next, err) < 0 || configure_checks(&next, check, err) < 0)
		return -1;
	free_checks(&cf->conf, cf->check);
	cf->conf = next;
	for (i = 0; i < next.nchecks; i++)
		cf->check[i] = check[i];
	return 0;
}

void
config_free(struct config *cf)
{
	free_checks(&cf->conf, cf->check);
}
