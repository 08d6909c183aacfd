/* control/smtproutes as qmail-remote reads it: the route for a domain is the
 * line whose key is the domain, else .SUFFIX for each shorter suffix (the
 * longest first), else the empty key (every domain); keys compare without
 * case and, as in qmail's constmap, the last line of a key wins. The value is
 * RELAY[:PORT] (a host name, an address, or [address]); an empty relay means
 * "use the MX". What follows the port (s/qmail's and patches' extra fields,
 * after another ':', a space or '|') is ignored. Pure, over the file's bytes. */
#ifndef SMTPROUTES_H
#define SMTPROUTES_H

#include <stddef.h>

#define SMTPROUTE_HOST 256

struct smtproute {
	char relay[SMTPROUTE_HOST];	/* as written, brackets taken off */
	unsigned port;			/* 25 unless the line says */
};

/* 1: routed to r->relay; 0: not routed (the MX decides). */
int smtproutes_find(const char *data, size_t len, const char *domain, struct smtproute *r);

#endif
