#include "checks.h"

extern const struct check check_queue;
extern const struct check check_queuestats;
extern const struct check check_tcpto;
extern const struct check check_kmsg;
extern const struct check check_dns;
extern const struct check check_tls;
extern const struct check check_svc;
extern const struct check check_remote;
#ifdef MAINTD_TEST_CHECKS
extern const struct check check_slow, check_slowprobe;
#endif

/* A new check: one lib/ file, one line here. */
const struct check *const maintd_checks[] = {
	&check_queue,
	&check_queuestats,
	&check_tcpto,
	&check_kmsg,
	&check_dns,
	&check_tls,
	&check_svc,
	&check_remote,
#ifdef MAINTD_TEST_CHECKS
	&check_slow,
	&check_slowprobe,
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
