/* Raw DNS answers: every RR's rdata as the dns check keeps it, bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[300];
	struct dnsmsg m;
	struct dnsrr rr;
	unsigned pref;
	size_t len;

	if (dnsmsg_open(&m, data, size) < 0)
		return 0;
	while (dnsmsg_next(&m, &rr) == 1) {
		if (rr.rdoff + rr.rdlen > size)
			abort();
		if (dnsmsg_rdata(&m, &rr, out, sizeof(out), &len, &pref) == 0 && len > sizeof(out))
			abort();
	}
	return 0;
}
