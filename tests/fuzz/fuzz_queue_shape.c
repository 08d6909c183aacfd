/* The queue shape's cache bytes (qdoms entries, as read back from
 * MAINTD_STATE/queue-cache) on arbitrary input: a well-formed buffer is
 * summed into a small Space-Saving table whose rows must stay consistent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_shape.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qshape_row rows[8], total, rest;
	unsigned long long sum = 0;
	struct qshape q;
	unsigned i, n, all;
	int ok = qdoms_check(data, size) == 0;
	FILE *f;

	if (qshape_init(&q, 4, 1000000, 60) < 0)
		return 0;
	/* the first byte is an age in minutes, for the buckets and stuck */
	if (qshape_add_doms(&q, data, size, 1000000 - (size ? data[0] : 0) * 60) != (ok ? 0 : -1))
		abort();
	n = qshape_top(&q, rows, 8);
	qshape_total(&q, &total);
	qshape_rest(&q, rows, n, &rest);
	for (i = 0; i < n; i++) {
		if (strlen(rows[i].domain) > QSHAPE_DOMAIN)
			abort();
		sum += rows[i].total;
	}
	if (sum + rest.total != total.total && q.evictions == 0)
		abort();
	if (qshape_stuck(&q, rows, 8, &all) > all)
		abort();
	if ((f = fopen("/dev/null", "w"))) {
		struct qshape_table *t = calloc(1, sizeof(*t) + n * sizeof(t->rows[0]));

		if (t) {
			t->n = n;
			t->total = total;
			t->rest = rest;
			memcpy(t->rows, rows, n * sizeof(rows[0]));
			queue_shape_format(f, t);
			free(t);
		}
		fclose(f);
	}
	qshape_free(&q);
	return 0;
}
