/* POP3 status lines and CAPA listings from arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsproto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct pop3_capa c;
	int first = 1;
	enum pop3_capa_parse st = POP3_CAPA_MORE;

	pop3_capa_init(&c);
	while (p < end && st == POP3_CAPA_MORE) {
		size_t len;
		char *line;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (!(line = malloc(len ? len : 1)))
			return 0;
		memcpy(line, p, len);
		if (first) {
			if (pop3_status_parse(line, len) < -1)
				abort();
			first = 0;
		} else
			st = pop3_capa_parse(&c, line, len);
		free(line);
		p = nl ? nl + 1 : end;
	}
	if (c.lines > TLSPROTO_MAXLINES)
		abort();
	return 0;
}
