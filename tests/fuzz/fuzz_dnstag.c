/* DMARC and DKIM tag lists: bounded, never past the buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "dnstag.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dkim_key k;
	struct taglist l;
	const char *s = (const char *)data, *p, *sp, *why;
	unsigned i;

	if (tag_parse(s, size, &l) == 0)
		for (i = 0; i < l.n; i++)
			if (l.t[i].name < s || l.t[i].val + l.t[i].vlen > s + size)
				abort();
	dmarc_is_record(s, size);
	dmarc_parse(s, size, &p, &sp, &why);
	dkim_is_record(s, size);
	if (dkim_parse(s, size, &k, &why) == 0 && k.len > DKIM_KEYMAX)
		abort();
	return 0;
}
