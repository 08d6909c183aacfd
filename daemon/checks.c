#include "checks.h"

extern const struct check check_tcpto;
extern const struct check check_kmsg;
extern const struct check check_svc;
#ifdef MAINTD_TEST_CHECKS
extern const struct check check_slow;
#endif

/* A new check: one lib/ file, one line here. */
const struct check *const maintd_checks[] = {
#ifdef MAINTD_TEST_CHECKS
	&check_slow,
#endif
	&check_tcpto,
	&check_kmsg,
	&check_svc,
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
