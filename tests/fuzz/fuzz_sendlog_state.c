/* The sendlog cursor file: whatever parses formats back to the same bytes,
 * within the caps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendlog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sendlog *sl = sendlog_new(4, 4);
	struct sendlog_pos pos;
	size_t n;
	char *out;

	if (!sl)
		return 0;
	if (sendlog_state_parse(sl, (const char *)data, size, &pos) == 0) {
		if (sendlog_open_count(sl) > 4 || sendlog_domain_count(sl) > 4)
			abort();
		n = sendlog_state_format(sl, &pos, &out);
		/* within the caps, nothing evicted, it is the same file */
		if (!n || (sendlog_stats(sl)->evicted_open == 0 &&
		    sendlog_stats(sl)->evicted_domains == 0 && (n != size || memcmp(out, data, n))))
			abort();
		free(out);
	}
	sendlog_free(sl);
	return 0;
}
