/* The crash classifier on any text: bounded, NUL-terminated results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"

static void
terminated(const char *s, size_t size)
{
	if (!memchr(s, 0, size))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg_event ev;
	enum kmsg_kind k = kmsg_classify((const char *)data, size, &ev);

	if (k != ev.kind || k > KMSG_REGS)
		abort();
	terminated(ev.comm, sizeof(ev.comm));
	terminated(ev.file, sizeof(ev.file));
	terminated(ev.addr, sizeof(ev.addr));
	terminated(ev.ip, sizeof(ev.ip));
	terminated(ev.error, sizeof(ev.error));
	terminated(ev.trap, sizeof(ev.trap));
	if (k == KMSG_OTHER && (ev.comm[0] || ev.pid != -1))
		abort();
	return 0;
}
