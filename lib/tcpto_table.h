/* queue/lock/tcpto, qmail-remote's table of connect timeouts: the codec.
 * Pure functions over a byte buffer; the check's I/O is in tcpto.c.
 *
 * classic (qmail 1.03, netqmail, notqmail): 64 records of 16 bytes:
 *	0-3 IPv4, 4 count, 8-11 time (little-endian), the rest zero.
 * sqmail (s/qmail 3.x): 32 records of 32 bytes:
 *	0 address family, 4 count, 8-11 time (little-endian),
 *	16-31 IPv6, or IPv4 in 16-19 and '.' in 20-31, the rest zero. */
#ifndef TCPTO_TABLE_H
#define TCPTO_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TCPTO_SIZE 1024		/* both known layouts */
#define TCPTO_MAXSLOTS 64
#define TCPTO_MAXCOUNT 10	/* qmail-remote caps the count here */
#define TCPTO_WINDOW 5824	/* ((60 + 31) << 6): qmail-remote's longest skip */
#define TCPTO_ADDRSTR 46	/* INET6_ADDRSTRLEN */

/* TCPTO_EMPTY: every byte zero, which either layout may be; decoded as
 * classic (64 empty records of 16 bytes). */
enum tcpto_layout { TCPTO_UNKNOWN, TCPTO_CLASSIC, TCPTO_SQMAIL, TCPTO_EMPTY };

/* Address-family bytes s/qmail writes: AF_INET, and AF_INET6 of each system. */
#define TCPTO_AF_INET 2
#define TCPTO_AF_INET6_LINUX 10
#define TCPTO_AF_INET6_NETBSD 24	/* and OpenBSD */
#define TCPTO_AF_INET6_FREEBSD 28	/* and DragonFly */
#define TCPTO_AF_INET6_DARWIN 30

struct tcpto_rec {
	int empty;		/* every byte zero */
	int v6;			/* addr holds 16 bytes, else 4 */
	unsigned char af;	/* sqmail: the family byte as found */
	unsigned char addr[16];
	unsigned count;
	uint32_t when;
};

struct tcpto_table {
	enum tcpto_layout layout;
	unsigned slots;
	size_t reclen;
	struct tcpto_rec rec[TCPTO_MAXSLOTS];
};

const char *tcpto_layout_name(enum tcpto_layout);
/* Detects the layout from the size and the plausibility of every record;
 * TCPTO_UNKNOWN (t->slots 0) when it fits none; TCPTO_EMPTY when all zero. */
enum tcpto_layout tcpto_decode(const void *buf, size_t len, struct tcpto_table *t);
/* The record's bytes in a layout (reclen bytes); for tests and round trips. */
void tcpto_encode(enum tcpto_layout, const struct tcpto_rec *, unsigned char *out);
/* Dotted quad, or IPv6 in RFC 5952 form; returns the length. */
size_t tcpto_addr_format(const struct tcpto_rec *, char *out, size_t size);

/* now - when: negative for a time in the future. */
long long tcpto_age(const struct tcpto_rec *, time_t now);
/* qmail-remote skips the host now (with its longest window). */
int tcpto_skipped(const struct tcpto_rec *, time_t now);
int tcpto_future(const struct tcpto_rec *, time_t now);
/* Not empty and its last timeout more than maxage seconds ago. */
int tcpto_stale(const struct tcpto_rec *, time_t now, unsigned long maxage);
/* Zeroes every stale record in buf (the table decoded from it) and in t,
 * marking it in pruned[]; returns how many. Nothing else changes. */
unsigned tcpto_prune(unsigned char *buf, struct tcpto_table *t, time_t now,
    unsigned long maxage, unsigned char pruned[TCPTO_MAXSLOTS]);

#endif
