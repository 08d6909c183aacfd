/* A /dev/kmsg record as read(2) returns it: parsed, classified, matched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg_record r;
	struct kmsg_event ev;
	char prog[KMSG_NAME];

	if (kmsg_parse_record((const char *)data, size, &r) < 0)
		return 0;
	if (r.text < (const char *)data || r.text + r.len > (const char *)data + size ||
	    memchr(r.text, '\n', r.len))
		abort();
	kmsg_classify(r.text, r.len, &ev);
	if (kmsg_prog_match("qmail-*,tcpserver", ev.comm, ev.file, prog, sizeof(prog)) &&
	    strlen(prog) >= sizeof(prog))
		abort();
	return 0;
}
