/* TLSA RRs and DNS names from a raw answer: bounded, never past the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "tlsa.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsa_set s;
	struct dnsmsg m;
	struct dnsrr rr;
	char name[DNSMSG_NAMEMAX];
	unsigned i;

	if (tlsa_parse(data, size, &s) == 0)
		for (i = 0; i < s.n; i++)
			if (s.rr[i].len > TLSA_MAXDATA)
				abort();
	if (dnsmsg_open(&m, data, size) == 0)
		while (dnsmsg_next(&m, &rr) == 1)
			if (dnsmsg_name(&m, rr.rdoff, name) && strlen(name) >= DNSMSG_NAMEMAX)
				abort();
	return 0;
}
