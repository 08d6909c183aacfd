/* The kmsg check over N in-memory records (1 in 100 a watched crash):
 * wall time of one run, records per second. Usage: kmsg_bench N STATEDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "kmsg.h"

static unsigned long lines;
static int status = -1;

static void
on_emit(struct check_run *run, const struct finding *f)
{
	(void)run;
	(void)f;
	lines++;
}

static void
on_done(struct check_run *run, enum check_status st)
{
	status = st;
	check_run_release(run);
	event_base_loopbreak(run->base);
}

int
main(int argc, char **argv)
{
	unsigned long i, n = argc > 2 ? strtoul(argv[1], NULL, 10) : 0;
	struct timespec t0, t1;
	struct conf conf;
	struct conf_err err;
	struct check_run run;
	struct event_base *base = event_base_new();
	void *config;
	char **rec, num[32];
	double s;

	if (!n)
		return 100;
	memset(&conf, 0, sizeof(conf));
	snprintf(conf.state, sizeof(conf.state), "%s", argv[2]);
	snprintf(num, sizeof(num), "%lu", n);
	setenv("MAINTD_KMSG_MAXREC", num, 1);
	setenv("MAINTD_KMSG_BACKLOG", num, 1);
	if (!(rec = calloc(n, sizeof(*rec))) || !(config = check_kmsg.configure(&conf, &err)))
		return 111;
	for (i = 0; i < n; i++) {
		rec[i] = malloc(256);
		if (i % 100 == 0)
			snprintf(rec[i], 256, "6,%lu,%lu,-;qmail-remote[%lu]: segfault at 0 ip "
			    "000055930a18d1e9 sp 00007ffc451f3df0 error 4 in qmail-remote"
			    "[11e9,55930a18d000+1000] likely on CPU 0 (core 0, socket 0)\n", i, i * 1000, i);
		else
			snprintf(rec[i], 256, "6,%lu,%lu,-;Code: 48 89 45 f8 48 8b 45 f8 48 8d 15 36 "
			    "0e 00 00 48 89 d6 48 89 c7 e8 97 fe ff ff\n", i, i * 1000);
	}
	kmsg_test_source((const char *const *)rec, (unsigned)n);
	if (check_run_init(&run, &check_kmsg, base, &conf, config) < 0)
		return 111;
	run.emit_fn = on_emit;
	run.done_fn = on_done;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_kmsg.start(&run);
	if (status < 0)
		event_base_dispatch(base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("records=%lu lines=%lu status=%d ms=%.1f records/s=%.0f\n", n, lines, status,
	    s * 1000, (double)n / s);
	return 0;
}
