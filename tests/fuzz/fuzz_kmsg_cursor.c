/* The cursor file: parse, and what parses formats back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg_cursor c;
	char buf[128];
	size_t n;

	if (kmsg_cursor_parse((const char *)data, size, &c) < 0)
		return 0;
	n = kmsg_cursor_format(&c, buf, sizeof(buf));
	/* leading zeros in the number are the one accepted non-canonical form */
	if (!n || (n == size && memcmp(buf, data, n) != 0))
		abort();
	return 0;
}
