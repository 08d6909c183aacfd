/* The daemon's configuration as one value: struct conf (its variables and
 * control/me) and each enabled check's configure() value. A reload builds a
 * whole new one and swaps it in only when every part is valid, so SIGHUP is
 * all-or-nothing. */
#ifndef CONFIG_H
#define CONFIG_H

#include "conf.h"

struct config {
	struct conf conf;
	void *check[CONF_MAXCHECKS];	/* by index; NULL for a check without configure */
};

/* At start: 0, or -1 with err (nothing to free). only: a -C list or NULL. */
int config_load(struct config *, const struct check *const *checks, unsigned nchecks,
    const char *only, int verbose, struct conf_err *);
/* SIGHUP: the control files and every check's configuration again. 0: the new
 * configuration is in force; -1: the previous one still is, err says why. */
int config_reload(struct config *, struct conf_err *);
void config_free(struct config *);

#endif
