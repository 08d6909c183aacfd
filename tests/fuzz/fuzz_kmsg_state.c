/* The kmsg state file (cursor and kept crashes): parse, and every crash
 * that parses formats to a line that parses back to the same crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"

static int
copy(const struct kmsg_crash *c, void *arg)
{
	memcpy(arg, c, sizeof(*c));
	return 0;
}

static int
again(const struct kmsg_crash *c, void *arg)
{
	static const char cur[] = "ddc9f5cf-a26d-42bc-9ebe-9ca8fe3f130b 1\n";
	char buf[4096];
	struct kmsg_crash d;
	struct kmsg_cursor k;
	size_t n;

	(void)arg;
	memcpy(buf, cur, sizeof(cur) - 1);
	n = kmsg_crash_format(c, buf + sizeof(cur) - 1, sizeof(buf) - (sizeof(cur) - 1));
	if (!n || memchr(buf + sizeof(cur) - 1, '\n', n - 1))
		abort();
	memset(&d, 0, sizeof(d));
	if (kmsg_state_parse(buf, sizeof(cur) - 1 + n, &k, copy, &d) < 0 ||
	    memcmp(&d, c, sizeof(d)) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg_cursor c;

	kmsg_state_parse((const char *)data, size, &c, again, NULL);
	return 0;
}
