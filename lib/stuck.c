/* The stuck destinations of the last queue run in this process. */
#include "stuck.h"

#include <string.h>

static struct stuck list[STUCK_MAX];
static size_t count;
static int published;

void
stuck_publish(const struct stuck *s, size_t n)
{
	size_t i;

	if (n > STUCK_MAX)
		n = STUCK_MAX;
	for (i = 0; i < n; i++) {
		list[i] = s[i];
		list[i].domain[STUCK_DOMAIN - 1] = 0;
	}
	count = n;
	published = 1;
}

int
stuck_published(void)
{
	return published;
}

size_t
stuck_count(void)
{
	return count;
}

const struct stuck *
stuck_get(size_t i)
{
	return i < count ? &list[i] : NULL;
}

void
stuck_clear(void)
{
	memset(list, 0, sizeof(list));
	count = 0;
	published = 0;
}
