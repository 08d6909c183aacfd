/* qmail-send's log: arbitrary bytes fed in pieces split where the first two
 * bytes say, under small caps. Memory stays under the caps, and the state
 * the feed leaves always formats into a cursor file that parses back to the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendlog.h"

static int
visit(void *arg, const char *domain, const char *text, time_t when)
{
	const struct sendlog *sl = arg;
	time_t w;

	if (strlen(text) > SENDLOG_TEXT || sendlog_last_deferral(sl, domain, &w) != text ||
	    w != when)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sendlog *sl = sendlog_new(8, 8), *again;
	struct sendlog_pos pos = { 1, 2, 3, 4, 5 }, p2;
	unsigned seed = 0;
	size_t off, n, len, len2;
	char *a, *b;

	if (!sl)
		return 0;
	if (size >= 2) {
		seed = (unsigned)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
	}
	sendlog_clock(sl, (time_t)seed);
	for (off = 0; off < size; off += n) {
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % ((seed & 0xff) + 1);
		if (n > size - off)
			n = size - off;
		sendlog_feed(sl, (const char *)data + off, n);
		if ((seed >> 8 & 0x3f) == 0)
			sendlog_feed_end(sl);
	}
	if (sendlog_open_count(sl) > 8 || sendlog_domain_count(sl) > 8)
		abort();
	sendlog_each(sl, visit, sl);
	sendlog_last_deferral(sl, (const char *)"", NULL);
	len = sendlog_state_format(sl, &pos, &a);
	if (!len)
		abort();
	if (len > sendlog_state_max(sl))
		abort();
	if (!(again = sendlog_new(8, 8)))
		abort();
	if (sendlog_state_parse(again, a, len, &p2) < 0)
		abort();
	len2 = sendlog_state_format(again, &p2, &b);
	if (len2 != len || memcmp(a, b, len))
		abort();
	free(a);
	free(b);
	sendlog_free(again);
	sendlog_free(sl);
	return 0;
}
