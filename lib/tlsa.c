#include "tlsa.h"

#include <string.h>

#include "dnsmsg.h"

/* RFC 6698 2.1 and RFC 7218: the values a sender can use. */
static int
tlsa_usable(unsigned usage, unsigned selector, unsigned mtype, size_t len)
{
	if (usage > 3 || selector > 1 || mtype > 2)
		return 0;
	if (mtype == 1)
		return len == 32;
	if (mtype == 2)
		return len == 64;
	return len > 0 && len <= TLSA_MAXDATA;
}

int
tlsa_parse(const unsigned char *abuf, size_t alen, struct tlsa_set *set)
{
	struct dnsmsg m;
	struct dnsrr rr;
	struct tlsa_rr *t;
	const unsigned char *d;
	int r;

	memset(set, 0, sizeof(*set));
	if (dnsmsg_open(&m, abuf, alen) < 0)
		return -1;
	set->ad = m.ad;
	while ((r = dnsmsg_next(&m, &rr)) == 1) {
		if (rr.type != TLSA_TYPE || rr.class != 1)
			continue;
		d = abuf + rr.rdoff;
		if (rr.rdlen < 3 || !tlsa_usable(d[0], d[1], d[2], rr.rdlen - 3) ||
		    set->n == TLSA_MAXRR) {
			set->malformed++;
			continue;
		}
		t = &set->rr[set->n++];
		t->usage = d[0];
		t->selector = d[1];
		t->mtype = d[2];
		t->len = rr.rdlen - 3;
		memcpy(t->data, d + 3, t->len);
	}
	return r < 0 ? -1 : 0;
}
