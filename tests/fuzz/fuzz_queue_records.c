/* info/ and local|remote/ record parsers on arbitrary bytes: the first byte
 * picks a split point for feeding the channel parser in two pieces; the
 * pending domains it collects must be well-formed and add up to its T count
 * (at most: a record cut off has no domain). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	struct queue_info qi;
	const unsigned char *p;
	unsigned long long sum = 0;
	struct queue_chan c;
	struct qdoms d;
	const char *dom;
	size_t cut, len;
	uint32_t n;

	if (queue_info_parse(b, size < QUEUE_INFO_HEAD ? size : QUEUE_INFO_HEAD, size,
	    size ? data[size - 1] : 1, &qi) == 0 &&
	    (qi.sender < b || qi.sender + qi.senderlen > b + size))
		abort();
	cut = size ? data[0] % (size + 1) : 0;
	qdoms_init(&d);
	queue_chan_init(&c);
	c.doms = &d;
	queue_chan_feed(&c, b, cut);
	queue_chan_feed(&c, b + cut, size - cut);
	queue_chan_end(&c);
	qdoms_finish(&d);
	if (c.t + c.d > size || (c.error && c.badoff > size) || c.off > size)
		abort();
	if (qdoms_check(d.buf, d.len) < 0)
		abort();
	for (p = d.buf; (p = qdoms_next(p, d.buf + d.len, &dom, &len, &n, NULL)); sum += n)
		if (len > QSHAPE_DOMAIN)
			abort();
	if (sum > c.t)
		abort();
	qdoms_free(&d);
	return 0;
}
