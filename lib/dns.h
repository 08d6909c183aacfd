/* The dns check: the mail DNS of this server's domains (MX and addresses,
 * DANE TLSA, SPF, DMARC, DKIM, reverse DNS), all lookups concurrent on one
 * c-ares channel (resolv.h) in the daemon's event loop; the checking itself
 * in bounded slices between answers (run_yield). Its configure reads every
 * file it needs (control/rcpthosts, DKIM keys, the resolver configuration,
 * its memory): a run opens none, so it may run in the probe process. */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>

#include "check.h"

extern const struct check check_dns;

/* The default domain list (control/rcpthosts): why a line is left out
 * ("wildcard", "ip-literal", "dotless", "localhost", "bad-name"), or NULL
 * when it is checked. */
const char *dns_default_skip(const char *name, size_t len);

/* MAINTD_STATE/dns.failures, "COUNT NAME" lines: fn gets each valid one
 * (name lower case, count 1 to 1000000), the rest are skipped. fn's non-zero
 * return stops and is returned. */
int dns_failures_parse(const char *buf, size_t len,
    int (*fn)(const char *name, unsigned long count, void *arg), void *arg);

/* For the root process when dns runs in the probe process: call it with
 * every finding of a dns run and the dns config value it holds. A memo
 * (debug dns: domain-failures domain=NAME sweeps=N) of a name of that
 * configuration updates the value; the end of the run (info dns: checked)
 * rewrites MAINTD_STATE/dns.failures in the state directory statedir (-1:
 * do not save) if anything changed. 1 saved, 0 nothing to do, -1 the save
 * failed (errno). */
int dns_failures_update(int statedir, void *config, const struct finding *);

#endif
