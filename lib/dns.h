/* The dns check: the mail DNS of this server's domains (MX and addresses,
 * DANE TLSA, SPF, DMARC, DKIM, reverse DNS), all lookups concurrent on one
 * c-ares channel (resolv.h) in the daemon's event loop; the checking itself
 * in bounded slices between answers (run_yield). */
#ifndef DNS_H
#define DNS_H

#include "check.h"

extern const struct check check_dns;

#endif
