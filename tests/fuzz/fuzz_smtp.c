/* SMTP replies and targets from arbitrary bytes: split into lines the way the
 * probe does, fed to smtp_reply_parse until it stops; never reads past a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsproto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	struct tls_target t;
	const char *why;
	enum smtp_parse st = SMTP_MORE;

	smtp_reply_init(&r);
	while (p < end && st == SMTP_MORE) {
		size_t len;
		char *line;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		if (len && p[len - 1] == '\r')
			len--;
		/* an exact-size copy, so ASan sees any over-read */
		if (!(line = malloc(len ? len : 1)))
			return 0;
		memcpy(line, p, len);
		st = smtp_reply_parse(&r, line, len);
		free(line);
		p = nl ? nl + 1 : end;
	}
	if (r.textlen > sizeof(r.text) || (st == SMTP_DONE && (r.code < 200 || r.code > 599)))
		abort();
	if (tls_target_parse((const char *)data, size, &t, &why) == 0) {
		struct tls_target t2;
		char name[600];
		size_t n;

		if (t.port == 0 || t.port > 65535 || !memchr(t.host, 0, sizeof(t.host)))
			abort();
		/* the name the log and tls.seen use parses back to the same target */
		n = tls_target_format(&t, name, sizeof(name));
		if (n >= sizeof(name) || tls_target_parse(name, n, &t2, &why) < 0 ||
		    t2.proto != t.proto || t2.port != t.port || strcmp(t2.host, t.host) != 0 ||
		    strcmp(t2.sni, t.sni) != 0)
			abort();
	}
	return 0;
}
