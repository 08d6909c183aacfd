/* SPF records, macros and check_host() over a DNS made of the input itself:
 * bounded, never past a buffer, always a result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf.h"

struct fz {
	const uint8_t *data;
	size_t size;
	struct spf_rdata rd[4];
};

/* Every TXT query answers the input's lines; A answers 4 bytes of it. */
static void
fz_lookup(void *arg, const char *name, int type, struct spf_answer *a)
{
	struct fz *f = arg;
	size_t i, start = 0;

	(void)name;
	a->n = 0;
	a->rd = f->rd;
	a->st = SPF_DNS_FOUND;
	if (f->size && f->data[0] == 'T') {
		a->st = SPF_DNS_TEMP;
		return;
	}
	if (type == 16 || type == 15 || type == 12) {
		for (i = 0; i <= f->size && a->n < 4; i++)
			if (i == f->size || f->data[i] == '\n') {
				f->rd[a->n].p = f->data + start;
				f->rd[a->n++].len = i - start;
				start = i + 1;
			}
	} else if (f->size >= (type == 1 ? 4u : 16u)) {
		f->rd[0].p = f->data;
		f->rd[0].len = type == 1 ? 4 : 16;
		a->n = 1;
	}
	if (!a->n)
		a->st = SPF_DNS_VOID;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record r;
	struct spf_ctx c;
	struct fz f = { data, size, { { 0, 0 } } };
	const char *why;
	char out[300];
	enum spf_result res;

	if (spf_parse((const char *)data, size, &r, &why) == 0 && r.n > SPF_MAXTERMS)
		abort();
	memset(&c, 0, sizeof(c));
	c.family = size & 1 ? 6 : 4;
	memset(c.ip, 0x5a, sizeof(c.ip));
	c.local = "postmaster";
	c.sender = "example.com";
	c.helo = "mx.example.com";
	c.lookup = fz_lookup;
	c.arg = &f;
	if (spf_expand(&c, "example.com", (const char *)data, size, out, sizeof(out)) == 0 &&
	    strlen(out) >= sizeof(out))
		abort();
	res = spf_check_host(&c, "example.com");
	if (res > SPF_UNSUPPORTED || c.lookups > SPF_MAXLOOKUPS + 1)
		abort();
	spf_count_lookups(&c, "example.com");
	return 0;
}
