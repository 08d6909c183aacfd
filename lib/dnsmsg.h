/* A bounds-checked reader of raw DNS messages (RFC 1035 section 4): the
 * header, the answer section and names in rdata. Pure functions, fuzzed. */
#ifndef DNSMSG_H
#define DNSMSG_H

#include <stddef.h>

#define DNSMSG_NAMEMAX 256	/* a presentation name, dots included, NUL-terminated */

struct dnsmsg {
	const unsigned char *buf;
	size_t len;
	unsigned id, rcode, qdcount, ancount;
	int ad, tc;
	size_t pos;		/* the next answer RR */
	unsigned left;		/* answer RRs not read yet */
};

struct dnsrr {
	char name[DNSMSG_NAMEMAX];	/* owner, lower case, no trailing dot */
	unsigned type, class;
	unsigned long ttl;
	size_t rdoff, rdlen;		/* rdata within the message */
};

/* Reads the header and skips the question section. 0, or -1 if malformed. */
int dnsmsg_open(struct dnsmsg *, const unsigned char *buf, size_t len);
/* The next answer RR: 1, 0 at the end of the answer section, -1 if malformed. */
int dnsmsg_next(struct dnsmsg *, struct dnsrr *);
/* Expands the (possibly compressed) name at off into out, lower case, without
 * the trailing dot ("" for the root). Returns the offset just past the name
 * in place, or 0 when malformed. */
size_t dnsmsg_name(const struct dnsmsg *, size_t off, char out[DNSMSG_NAMEMAX]);

/* The rdata of an RR as a value: A and AAAA their address bytes (exact
 * length), MX its preference (*pref) and name, PTR, CNAME and NS a name, TXT
 * its strings joined (RFC 7208 3.3). Names come NUL-terminated (not in *len).
 * 0, or -1 when malformed, too long for out, or of another type. */
int dnsmsg_rdata(const struct dnsmsg *, const struct dnsrr *, unsigned char *out,
    size_t outsize, size_t *len, unsigned *pref);

/* 1 when s (len bytes, one trailing dot allowed) is a host or domain name
 * a query can carry: 1 to 253 bytes without the dot, labels of 1 to 63
 * letters, digits, '-' or '_'. 0 otherwise. */
int dnsmsg_name_ok(const char *s, size_t len);

#endif
