/* The dns check: the mail DNS of this server's domains (MX and addresses,
 * DANE TLSA, SPF, DMARC, DKIM, reverse DNS), all lookups concurrent on one
 * c-ares channel (resolv.h) in the daemon's event loop. */
#ifndef DNS_H
#define DNS_H

#include "check.h"

extern const struct check check_dns;

/* The TLSA records of this server's MX hosts found by the last run, one line
 * per record ("HOST AD USAGE SELECTOR MTYPE HEXDATA"), for the tls check. */
#define DNS_TLSA_FILE "dns-tlsa"

#endif
