/* crashlog: what the kmsg and svc checks know of each other's world, in this
 * process. Pure data, no I/O; neither check includes the other's header.
 *
 * Crashes: kmsg adds each crash (and OOM kill) of a watched program it reads;
 * svc reads them to name the program of a flapping service; kmsg reads them
 * again for its crash loops.
 * Services: after each of its runs svc publishes the services it saw
 * restarting (their last pid, the programs they run, the time window in
 * which a crash belongs to them); kmsg names the service in its crash lines. */
#ifndef CRASHLOG_H
#define CRASHLOG_H

#include <stddef.h>
#include <time.h>

#define CRASHLOG_RING 1024	/* crashes remembered, the oldest dropped first */
#define CRASHLOG_PROG 64
#define CRASHLOG_SERVICE 256

struct crash {
	char prog[CRASHLOG_PROG];
	long pid;		/* -1 unknown */
	int signal;		/* SIGKILL (9) for an OOM kill */
	int oom;
	time_t when;		/* wall clock of the kernel record */
	unsigned long long seq;	/* the kernel record's */
	char service[CRASHLOG_SERVICE];	/* the service restarting it; "" unknown (or too long) */
};

void crashlog_add(const struct crash *);
/* The number of crashes remembered, and the nth newest of them (0: the
 * newest; NULL past the oldest). A later crashlog_add reuses the slot. */
unsigned crashlog_count(void);
const struct crash *crashlog_get(unsigned n);
/* Copies up to max of them, newest first; returns the count. */
unsigned crashlog_recent(struct crash *out, unsigned max);
void crashlog_clear(void);

/* A supervised service, as svc saw it. */
struct crashlog_service {
	const char *path;	/* the service directory */
	unsigned long pid;	/* its last pid; 0 none */
	time_t from, until;	/* a crash at a time within [from, until] may be its */
	/* the names of the programs it runs (its directory's, the words of its
	 * run script), each NUL-terminated, an empty one last */
	const char *names;
};

/* Replaces the services published before by these n (copied). 0, or -1
 * (out of memory: none are published then). */
int crashlog_publish(const struct crashlog_service *, size_t n);
/* 1 once something (even nothing) was published in this process, else 0. */
int crashlog_published(void);
/* The first published service whose window holds when and whose pid is pid
 * (pid > 0) or which runs prog: 1 and its path in path (cut to fit), or 0. */
int crashlog_service_of(const char *prog, long pid, time_t when, char *path, size_t size);

#endif
