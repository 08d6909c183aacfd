/* Configuration parsers on arbitrary bytes: numbers, lists, control files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static int
count(const char *item, size_t len, void *arg)
{
	if (len == 0 || memchr(item, ',', len))
		abort();
	++*(size_t *)arg;
	return 0;
}

static int
line(const char *s, size_t len, void *arg)
{
	if (len == 0 || s[0] == '#' || s[0] == ' ' || s[len - 1] == ' ' || memchr(s, '\n', len))
		abort();
	++*(size_t *)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct conf_err err;
	unsigned long v;
	size_t n = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	conf_parse_ulong("FUZZ", s, 1, 86400, &v, &err);
	conf_list(s, count, &n);
	control_lines((const char *)data, size, line, &n);
	free(s);
	return 0;
}
