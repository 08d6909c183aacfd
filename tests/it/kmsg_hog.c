/* Touches 256 MB, one megabyte at a time: in a small memory cgroup the
 * OOM killer kills it. */
#include <stdlib.h>
#include <string.h>

int
main(void)
{
	char *p;
	int i;

	for (i = 0; i < 256; i++) {
		if (!(p = malloc(1 << 20)))
			return 111;
		memset(p, 1, 1 << 20);
	}
	return 0;
}
