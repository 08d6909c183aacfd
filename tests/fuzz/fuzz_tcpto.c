/* The tcpto codec on arbitrary bytes: a decoded table re-encodes to the same
 * bytes, addresses format within bounds, a prune changes only what it says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpto_table.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[TCPTO_SIZE], rec[32], pruned[TCPTO_MAXSLOTS];
	char addr[TCPTO_ADDRSTR];
	struct tcpto_table t;
	unsigned i;
	size_t n;
	time_t now;

	if (tcpto_decode(data, size, &t) != TCPTO_UNKNOWN ? size != TCPTO_SIZE : t.slots != 0)
		abort();
	/* longer inputs: their first table's worth, so the fuzzer gets past the size */
	if (size < TCPTO_SIZE)
		return 0;
	size = TCPTO_SIZE;
	if (tcpto_decode(data, size, &t) == TCPTO_UNKNOWN)
		return 0;
	if (t.slots * t.reclen != TCPTO_SIZE)
		abort();
	for (i = 0; i < t.slots; i++) {
		tcpto_encode(t.layout, &t.rec[i], rec);
		if (memcmp(rec, data + i * t.reclen, t.reclen) != 0)
			abort();
		n = tcpto_addr_format(&t.rec[i], addr, sizeof(addr));
		if (n >= sizeof(addr) || strlen(addr) != n)
			abort();
	}
	memcpy(buf, data, size);
	now = (time_t)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24);
	tcpto_prune(buf, &t, now, TCPTO_WINDOW, pruned);
	for (i = 0; i < t.slots; i++) {
		const unsigned char *was = data + i * t.reclen, *is = buf + i * t.reclen;

		if (pruned[i] ? memcmp(is, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) ||
		    (t.reclen == 32 && memcmp(is + 16, is, 16)) : memcmp(is, was, t.reclen))
			abort();
	}
	return 0;
}
