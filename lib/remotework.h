/* The work of one run of the remote check, as the root process hands it to
 * the probe process (struct check's .input): the EHLO name, the stuck
 * domains to diagnose with their routes, and the addresses qmail-remote
 * skips now (queue/lock/tcpto). Text, one item a line:
 *	helo NAME
 *	domain DOMAIN recipients N oldest SECONDS [relay HOST port PORT]
 *	skip ADDRESS
 * Pure: the writer appends while there is room; the reader, fuzzed, trusts
 * nothing (names as DNS names or address literals, numbers in range). */
#ifndef REMOTEWORK_H
#define REMOTEWORK_H

#include <stddef.h>

#define REMOTEWORK_DOMAINS 10	/* MAINTD_STUCK_PROBES at most */
#define REMOTEWORK_SKIPS 64	/* a tcpto table's records at most */
#define REMOTEWORK_NAME 256
#define REMOTEWORK_RECIPIENTS 9999999999999999999ULL	/* 19 digits */
#define REMOTEWORK_OLDEST (1LL << 62)			/* seconds */

struct remotework_addr {
	int v6;
	unsigned char a[16];
};

struct remotework_domain {
	char domain[REMOTEWORK_NAME];	/* a name, or [address] */
	char relay[REMOTEWORK_NAME];	/* control/smtproutes' relay; "": the MX */
	unsigned port;			/* the relay's port */
	unsigned long long recipients;
	long long oldest;		/* seconds */
};

struct remotework {
	char helo[REMOTEWORK_NAME];
	unsigned n;
	struct remotework_domain d[REMOTEWORK_DOMAINS];
	unsigned nskip;
	struct remotework_addr skip[REMOTEWORK_SKIPS];
};

/* Appends one line at *len (buf of size bytes): 0, or -1 (nothing
 * appended) when it does not fit or the item is not valid. */
int remotework_put_helo(char *buf, size_t size, size_t *len, const char *helo);
int remotework_put_domain(char *buf, size_t size, size_t *len, const struct remotework_domain *);
int remotework_put_skip(char *buf, size_t size, size_t *len, const char *address);

/* The work: 0, or -1 with *why (the first bad line's fault). */
int remotework_parse(const char *buf, size_t len, struct remotework *, const char **why);

/* 1 when the address (4 or 16 bytes) is one to skip. */
int remotework_skipped(const struct remotework *, int v6, const unsigned char *a);

/* 1 when s is an IPv4 or IPv6 address literal, its bytes in *out. */
int remotework_addr(const char *s, struct remotework_addr *out);

#endif
