/* /proc/locks parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "queue.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long pid = queue_locks_holder((const char *)data, size, 0xfe, 0, 409523);

	if (pid < 0)
		abort();
	return 0;
}
