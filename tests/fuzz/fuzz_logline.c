/* Log line formatting of arbitrary bytes: bounded, one line, quotes balanced. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logline.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct finding f;
	struct logline l;
	size_t n, half = size / 2;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, "fuzz", "input");
	finding_addn(&f, "a", data, half);
	finding_addn(&f, "b", data + half, size - half);
	n = logline_finding(&l, &f);
	if (n > LOGLINE_MAX || l.buf[n - 1] != '\n' || memchr(l.buf, '\n', n - 1) ||
	    memchr(l.buf, '\0', n))
		abort();
	return 0;
}
