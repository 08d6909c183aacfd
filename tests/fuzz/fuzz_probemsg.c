/* The root side's decoder of probe messages over arbitrary bytes: bounded,
 * never past the input; whatever it accepts re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probemsg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct probemsg m;
	unsigned char again[PROBEMSG_MAX];
	const char *why = NULL;
	size_t off = 0, used, n;
	int r;

	while (off < size && (r = probemsg_decode(data + off, size - off, &m, &used, &why)) == 1) {
		if (used > size - off || used > PROBEMSG_MAX)
			abort();
		n = probemsg_encode(&m, again, sizeof(again));
		/* a label with a NUL is refused, so C strings carry them whole */
		if (n != used || memcmp(again, data + off, n) != 0)
			abort();
		off += used;
	}
	return 0;
}
