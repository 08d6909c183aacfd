/* sendlog: lines per second of the parser and the reader over a real
 * qmail-send log repeated to SIZE MB, the heap it keeps, and the worst case
 * of the caps (every open delivery and domain at its longest).
 * Usage: sendlog_bench LOG MB DIR   (DIR: an empty scratch directory) */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safefile.h"
#include "sendlog.h"
#include "sendlog_read.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int
main(int argc, char **argv)
{
	struct sendlog *sl;
	struct sendlog_rd rd;
	char path[4096], line[1024], *log, *state;
	size_t len, total, i, n, lines = 0, calls = 0;
	struct mallinfo2 mi;
	long rss0;
	double t;
	FILE *f;
	int fd, sfd, r;

	if (argc != 4)
		return 100;
	if (!(f = fopen(argv[1], "rb")))
		return 111;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	log = malloc(len);
	if (fread(log, 1, len, f) != len)
		return 111;
	fclose(f);
	for (i = 0; i < len; i++)
		lines += log[i] == '\n';
	total = (size_t)atoi(argv[2]) << 20;
	total = total / len * len;
	lines = lines * (total / len);

	/* the parser alone, from memory, one copy of the log a call */
	sl = sendlog_new(0, 0);
	t = now();
	for (i = 0; i < total; i += len)
		sendlog_feed(sl, log, len);
	t = now() - t;
	printf("parser: %zu MB, %zu lines in %.3f s: %.0f lines/s, %.0f MB/s; %llu deferrals\n",
	    total >> 20, lines, t, (double)lines / t, (double)total / 1048576 / t,
	    sendlog_stats(sl)->deferrals);
	sendlog_free(sl);

	/* the reader over the same bytes as a file, 1 MiB a call */
	snprintf(path, sizeof(path), "%s/main", argv[3]);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/main/current", argv[3]);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return 111;
	for (i = 0; i < total; i += len)
		if (write(fd, log, len) != (ssize_t)len)
			return 111;
	close(fd);
	free(log);
	malloc_trim(0);
	snprintf(line, sizeof(line), "%s/state", argv[3]);
	if ((sfd = safe_state_dir(line)) < 0)
		return 111;
	rss0 = maxrss_kb();
	sl = sendlog_new(0, 0);
	t = now();
	while ((r = sendlog_read(sl, sfd, path, 0, time(NULL), &rd)) == 1)
		calls++;
	t = now() - t;
	if (r < 0) {
		perror(rd.what);
		return 111;
	}
	mi = mallinfo2();
	printf("reader: %zu lines in %.3f s: %.0f lines/s, %zu calls of <= 1 MiB; "
	    "heap in use %zu KB; max RSS %ld KB (%ld KB before)\n", lines, t, (double)lines / t,
	    calls + 1, mi.uordblks / 1024, maxrss_kb(), rss0);
	sendlog_free(sl);

	/* the caps' worst case: 4096 open deliveries and 10000 domains, all long */
	sl = sendlog_new(0, 0);
	memset(line, 'x', sizeof(line));
	for (i = 0; i < SENDLOG_MAX_DOMAINS + SENDLOG_MAX_OPEN; i++) {
		n = (size_t)snprintf(line, sizeof(line), "starting delivery %zu: msg 1 to remote a@%0250zu\n", i, i);
		sendlog_feed(sl, line, n);
		if (i < SENDLOG_MAX_DOMAINS) {
			n = (size_t)snprintf(line, sizeof(line), "delivery %zu: deferral: %0400d/\n", i, 0);
			sendlog_feed(sl, line, n);
		}
	}
	mi = mallinfo2();
	n = sendlog_state_format(sl, &(struct sendlog_pos){ 1, 2, 3, 4, 5 }, &state);
	t = now();
	if (safe_replace(sfd, "worst.cursor", state, n, 0600) < 0)
		return 111;
	t = now() - t;
	printf("worst case: %zu open, %zu domains: heap in use %zu KB; state file %zu KB, "
	    "written in %.3f s; max RSS %ld KB\n", sendlog_open_count(sl), sendlog_domain_count(sl),
	    mi.uordblks / 1024, n / 1024, t, maxrss_kb());
	sendlog_free(sl);
	/* a run that starts from it: the cursor file parsed into a new struct */
	sl = sendlog_new(0, 0);
	t = now();
	if (sendlog_state_parse(sl, state, n, &(struct sendlog_pos){ 0, 0, 0, 0, 0 }) < 0)
		return 111;
	t = now() - t;
	printf("worst case: cursor file parsed in %.3f s (%zu domains)\n", t,
	    sendlog_domain_count(sl));
	free(state);
	sendlog_free(sl);
	close(sfd);
	return 0;
}
