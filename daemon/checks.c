#include "checks.h"

extern const struct check check_queue;
extern const struct check check_tcpto;
#ifdef MAINTD_TEST_CHECKS
extern const struct check check_slow;
#endif

/* A new check: one lib/ file, one line here. */
const struct check *const maintd_checks[] = {
#ifdef MAINTD_TEST_CHECKS
	&check_slow,
#endif
	&check_queue,
	&check_tcpto,
	NULL
};

unsigned
maintd_nchecks(void)
{
	unsigned n = 0;

	while (maintd_checks[n])
		n++;
	return n;
}
