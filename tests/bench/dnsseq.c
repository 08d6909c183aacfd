/* The one-at-a-time baseline for tests/bench/dns.sh: the same resolv channel
 * as the dns check, but each query sent only after the previous answer.
 *   dnsseq SERVERS < "NAME TYPE" lines     (TYPE: A AAAA MX TXT PTR TLSA)
 * prints: queries=N failed=N ms=N qps=N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "resolv.h"

struct seq {
	struct event_base *base;
	struct resolv *r;
	unsigned long n, failed;
};

static int
seq_type(const char *t)
{
	static const struct { const char *name; int type; } types[] = {
		{ "A", 1 }, { "AAAA", 28 }, { "MX", 15 }, { "TXT", 16 }, { "PTR", 12 }, { "TLSA", 52 },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i].name) == 0)
			return types[i].type;
	return -1;
}

static void seq_next(struct seq *);

static void
seq_on_answer(void *arg, enum resolv_status st, const unsigned char *abuf, size_t alen, int ad)
{
	struct seq *s = arg;

	(void)abuf;
	(void)alen;
	(void)ad;
	s->failed += st != RESOLV_OK && st != RESOLV_NODATA && st != RESOLV_NXDOMAIN;
	seq_next(s);
}

static void
seq_next(struct seq *s)
{
	char name[300], type[16];
	int t;

	while (scanf("%299s %15s", name, type) == 2) {
		if ((t = seq_type(type)) < 0)
			continue;
		s->n++;
		if (resolv_query(s->r, name, t, seq_on_answer, s) == 0)
			return;
		s->failed++;
	}
	event_base_loopbreak(s->base);
}

int
main(int argc, char **argv)
{
	struct seq s = { 0 };
	struct timespec t0, t1;
	char err[256];
	double ms;

	if (argc != 2) {
		fprintf(stderr, "usage: dnsseq SERVERS < queries\n");
		return 100;
	}
	if (!(s.base = event_base_new()) ||
	    !(s.r = resolv_new(s.base, argv[1], 5000, err, sizeof(err)))) {
		fprintf(stderr, "dnsseq: %s\n", s.base ? err : "no event base");
		return 111;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	seq_next(&s);
	if (s.n)
		event_base_dispatch(s.base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("queries=%lu failed=%lu ms=%.0f qps=%.0f\n", s.n, s.failed, ms,
	    ms > 0 ? (double)s.n * 1000 / ms : 0);
	resolv_free(s.r);
	event_base_free(s.base);
	return 0;
}
