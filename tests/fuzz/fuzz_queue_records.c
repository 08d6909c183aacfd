/* info/ and local|remote/ record parsers on arbitrary bytes: the first byte
 * picks a split point for feeding the channel parser in two pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	struct queue_info qi;
	struct queue_chan c;
	size_t cut;

	if (queue_info_parse(b, size < QUEUE_INFO_HEAD ? size : QUEUE_INFO_HEAD, size,
	    size ? data[size - 1] : 1, &qi) == 0 &&
	    (qi.sender < b || qi.sender + qi.senderlen > b + size))
		abort();
	cut = size ? data[0] % (size + 1) : 0;
	queue_chan_init(&c);
	queue_chan_feed(&c, b, cut);
	queue_chan_feed(&c, b + cut, size - cut);
	queue_chan_end(&c);
	if (c.t + c.d > size || (c.error && c.badoff > size) || c.off > size)
		abort();
	return 0;
}
