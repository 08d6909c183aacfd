/* DANE TLSA records (RFC 6698): parsed from a raw DNS answer, since c-ares
 * 1.18 has no TLSA parser. Pure functions, fuzzed.
 * (Interface fixed here; implemented by the dns check's work, issue 6.) */
#ifndef TLSA_H
#define TLSA_H

#include <stddef.h>

#define TLSA_TYPE 52
#define TLSA_MAXRR 16
#define TLSA_MAXDATA 512	/* SHA-512 is 64; a full SPKI or certificate fits */

struct tlsa_rr {
	unsigned char usage, selector, mtype;
	size_t len;
	unsigned char data[TLSA_MAXDATA];
};

struct tlsa_set {
	int ad;			/* the answer's AD bit: DNSSEC-validated */
	unsigned n;
	unsigned malformed;	/* TLSA RRs present but unusable */
	struct tlsa_rr rr[TLSA_MAXRR];
};

/* Parses every TLSA RR of the answer section (CNAMEs followed by owner name
 * are fine to ignore). 0, or -1 when the message itself is malformed. */
int tlsa_parse(const unsigned char *abuf, size_t alen, struct tlsa_set *);

#endif
