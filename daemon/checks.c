#include "checks.h"

extern const struct check check_queue;
#ifdef MAINTD_TEST_CHECKS
extern const struct check check_slow;
#endif

/* A new check: one lib/ file, one line here. */
const struct check *const maintd_checks[] = {
	&check_queue,
#ifdef MAINTD_TEST_CHECKS
	&check_slow,
#endif
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
