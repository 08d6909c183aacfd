/* lib/queue_shape.c: one file's domains, the top-K table, the table for
 * people; lib/stuck.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_shape.h"
#include "stuck.h"

static void
buckets(void **state)
{
	(void)state;
	assert_int_equal(qshape_bucket(-5), 0);
	assert_int_equal(qshape_bucket(0), 0);
	assert_int_equal(qshape_bucket(299), 0);
	assert_int_equal(qshape_bucket(300), 1);
	assert_int_equal(qshape_bucket(599), 1);
	assert_int_equal(qshape_bucket(600), 2);
	assert_int_equal(qshape_bucket(40 * 60), 4);
	assert_int_equal(qshape_bucket(1280 * 60 - 1), 8);
	assert_int_equal(qshape_bucket(1280 * 60), 9);
	assert_int_equal(qshape_bucket(1LL << 40), 9);
	assert_int_equal(qshape_minutes(0), 5);
	assert_int_equal(qshape_minutes(8), 1280);
}

static void
doms(void **state)
{
	char longname[400];
	const unsigned char *p;
	struct qdoms d;
	const char *dom;
	size_t len;
	uint32_t n;
	int bad = 0;

	(void)state;
	qdoms_init(&d);
	qdoms_add(&d, "B.org", 5, 1);
	qdoms_add(&d, "b.ORG", 5, 2);	/* merged with the one before */
	assert_int_equal(d.n, 1);
	qdoms_add(&d, "a.net", 5, 1);
	qdoms_add(&d, "b.org", 5, 1);
	assert_int_equal(d.n, 3);
	qdoms_finish(&d);
	assert_int_equal(d.n, 2);
	assert_int_equal(qdoms_check(d.buf, d.len), 0);
	p = qdoms_next(d.buf, d.buf + d.len, &dom, &len, &n, NULL);
	assert_memory_equal(dom, "a.net", 5);
	assert_int_equal(n, 1);
	p = qdoms_next(p, d.buf + d.len, &dom, &len, &n, NULL);
	assert_memory_equal(dom, "b.org", 5);
	assert_int_equal(n, 4);
	assert_null(qdoms_next(p, d.buf + d.len, &dom, &len, &n, &bad));
	assert_int_equal(bad, 0);
	/* malformed: a length past the end, a cut header */
	assert_int_equal(qdoms_check(d.buf, d.len - 1), -1);
	assert_int_equal(qdoms_check(d.buf, 3), -1);
	assert_int_equal(qdoms_check(d.buf, 0), 0);
	/* a domain longer than QSHAPE_DOMAIN is cut */
	memset(longname, 'x', sizeof(longname));
	qdoms_reset(&d);
	qdoms_add(&d, longname, sizeof(longname), 1);
	qdoms_next(d.buf, d.buf + d.len, &dom, &len, &n, NULL);
	assert_int_equal(len, QSHAPE_DOMAIN);
	qdoms_free(&d);
}

static void
exact(void **state)
{
	struct qshape q;
	struct qshape_row rows[4], total, rest;
	time_t now = 1000000;
	unsigned all;

	(void)state;
	assert_int_equal(qshape_init(&q, 16, now, 3600), 0);
	qshape_add(&q, "a.test", 6, 3, now - 60);	/* < 5 min */
	qshape_add(&q, "b.test", 6, 1, now - 7200);	/* 120 min: stuck */
	qshape_add(&q, "a.test", 6, 2, now - 100000);	/* > 1280 min: stuck */
	qshape_add(&q, "c.test", 6, 1, now - 400);	/* 5..10 */
	assert_int_equal(qshape_top(&q, rows, 2), 2);
	assert_string_equal(rows[0].domain, "a.test");
	assert_int_equal(rows[0].total, 5);
	assert_int_equal(rows[0].error, 0);
	assert_int_equal(rows[0].b[0], 3);
	assert_int_equal(rows[0].b[9], 2);
	assert_int_equal(rows[0].oldest, 100000);
	assert_string_equal(rows[1].domain, "b.test");	/* ties by name */
	assert_int_equal(rows[1].b[5], 1);
	qshape_total(&q, &total);
	assert_int_equal(total.total, 7);
	assert_int_equal(total.oldest, 100000);
	qshape_rest(&q, rows, 2, &rest);
	assert_string_equal(rest.domain, "other");
	assert_int_equal(rest.total, 1);
	assert_int_equal(rest.b[1], 1);
	assert_int_equal(rest.oldest, 400);
	assert_int_equal(qshape_stuck(&q, rows, 4, &all), 2);
	assert_int_equal(all, 2);
	assert_string_equal(rows[0].domain, "a.test");	/* the oldest first */
	assert_string_equal(rows[1].domain, "b.test");
	assert_int_equal(qshape_stuck(&q, rows, 1, &all), 1);
	assert_int_equal(all, 2);
	qshape_free(&q);
	/* no stuck age: nothing is stuck */
	assert_int_equal(qshape_init(&q, 16, now, 0), 0);
	qshape_add(&q, "a.test", 6, 1, now - 1000000);
	assert_int_equal(qshape_stuck(&q, rows, 4, &all), 0);
	qshape_free(&q);
}

/* Space-Saving: the smallest slot is taken over and its count becomes the
 * newcomer's error; a stuck domain's slot is taken last. */
static void
evictions(void **state)
{
	struct qshape q;
	struct qshape_row rows[3];
	time_t now = 1000000;

	(void)state;
	assert_int_equal(qshape_init(&q, 2, now, 3600), 0);
	qshape_add(&q, "a", 1, 5, now);
	qshape_add(&q, "b", 1, 3, now);
	qshape_add(&q, "c", 1, 1, now);	/* takes b's slot */
	assert_int_equal(qshape_top(&q, rows, 3), 2);
	assert_string_equal(rows[0].domain, "a");
	assert_int_equal(rows[0].total, 5);
	assert_int_equal(rows[0].error, 0);
	assert_string_equal(rows[1].domain, "c");
	assert_int_equal(rows[1].total, 1);
	assert_int_equal(rows[1].error, 3);
	assert_int_equal(q.evictions, 1);
	qshape_free(&q);

	assert_int_equal(qshape_init(&q, 2, now, 3600), 0);
	qshape_add(&q, "old", 3, 1, now - 7200);	/* stuck */
	qshape_add(&q, "big", 3, 10, now);
	qshape_add(&q, "new", 3, 1, now);	/* takes big's slot, not old's */
	assert_int_equal(qshape_stuck(&q, rows, 3, NULL), 1);
	assert_string_equal(rows[0].domain, "old");
	qshape_free(&q);
}

/* Random skewed streams against an exact count: every true count lies in
 * [total, total + error], a domain above total/cap is never lost, and the
 * heavy hitters that came early are exact. */
static void
bounds(void **state)
{
	enum { NDOM = 2000, CAP = 64 };
	static unsigned long long truth[NDOM];
	struct qshape_row rows[CAP];
	struct qshape q;
	char name[16];
	unsigned i, k, run, n;
	unsigned long long total = 0;
	time_t now = 1000000;

	(void)state;
	for (run = 0; run < 5; run++) {
		srand(run + 1);
		memset(truth, 0, sizeof(truth));
		total = 0;
		assert_int_equal(qshape_init(&q, CAP, now, 0), 0);
		for (i = 0; i < 50000; i++) {
			/* 5 heavy domains take half the stream */
			k = rand() % 2 ? (unsigned)(rand() % 5) : 5 + (unsigned)(rand() % (NDOM - 5));
			snprintf(name, sizeof(name), "d%u", k);
			qshape_add(&q, name, strlen(name), 1, now - rand() % 100000);
			truth[k]++;
			total++;
		}
		n = qshape_top(&q, rows, CAP);
		assert_int_equal(n, CAP);
		for (i = 0; i < n; i++) {
			k = (unsigned)atoi(rows[i].domain + 1);
			assert_true(truth[k] >= rows[i].total);
			assert_true(truth[k] <= rows[i].total + rows[i].error);
		}
		for (k = 0; k < NDOM; k++) {
			if (truth[k] <= total / CAP)
				continue;
			for (i = 0; i < n; i++)
				if ((unsigned)atoi(rows[i].domain + 1) == k)
					break;
			assert_true(i < n);
		}
		for (i = 0; i < 5; i++) {	/* the top five: exact */
			k = (unsigned)atoi(rows[i].domain + 1);
			assert_true(k < 5);
			assert_int_equal(rows[i].error, 0);
			assert_int_equal(rows[i].total, truth[k]);
		}
		qshape_free(&q);
	}
}

static void
table(void **state)
{
	struct qshape_table *t = calloc(1, sizeof(*t) + 2 * sizeof(t->rows[0]));
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	queue_shape_clear();
	f = open_memstream(&out, &len);
	assert_int_equal(queue_shape_print(f), -1);	/* nothing published */
	strcpy(t->total.domain, "TOTAL");
	t->total.total = 13;
	t->total.b[0] = 10;
	t->total.b[9] = 3;
	t->n = 1;
	strcpy(t->rows[0].domain, "ex\tample.com");
	t->rows[0].total = 12;
	t->rows[0].b[0] = 9;
	t->rows[0].b[9] = 3;
	strcpy(t->rest.domain, "other");
	t->rest.total = 1;
	t->rest.b[0] = 1;
	assert_int_equal(queue_shape_publish(t), 0);
	memset(t, 0, sizeof(*t));	/* a copy was kept */
	assert_int_equal(queue_shape_print(f), 0);
	fclose(f);
	assert_string_equal(out,
	    "                 T  5 10 20 40 80 160 320 640 1280 1280+\n"
	    "          TOTAL 13 10  0  0  0  0   0   0   0    0     3\n"
	    "ex\\x09ample.com 12  9  0  0  0  0   0   0   0    0     3\n"
	    "          other  1  1  0  0  0  0   0   0   0    0     0\n");
	free(out);
	free(t);
	queue_shape_clear();
}

static void
stuck(void **state)
{
	struct stuck s[STUCK_MAX + 5];
	unsigned i;

	(void)state;
	stuck_clear();
	assert_int_equal(stuck_published(), 0);
	assert_null(stuck_get(0));
	memset(s, 0, sizeof(s));
	for (i = 0; i < STUCK_MAX + 5; i++) {
		snprintf(s[i].domain, sizeof(s[i].domain), "d%u.test", i);
		s[i].recipients = i;
		s[i].oldest = 5000 - i;
	}
	memset(s[0].domain, 'x', sizeof(s[0].domain));	/* no NUL: made one */
	stuck_publish(s, STUCK_MAX + 5);
	assert_int_equal(stuck_published(), 1);
	assert_int_equal(stuck_count(), STUCK_MAX);
	assert_int_equal(strlen(stuck_get(0)->domain), STUCK_DOMAIN - 1);
	assert_string_equal(stuck_get(1)->domain, "d1.test");
	assert_null(stuck_get(STUCK_MAX));
	stuck_publish(s, 0);
	assert_int_equal(stuck_count(), 0);
	assert_int_equal(stuck_published(), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets),
		cmocka_unit_test(doms),
		cmocka_unit_test(exact),
		cmocka_unit_test(evictions),
		cmocka_unit_test(bounds),
		cmocka_unit_test(table),
		cmocka_unit_test(stuck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
