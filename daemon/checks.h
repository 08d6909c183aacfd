/* The table of checks this binary knows, NULL-terminated. */
#ifndef CHECKS_H
#define CHECKS_H

#include "check.h"

extern const struct check *const maintd_checks[];
unsigned maintd_nchecks(void);

#endif
