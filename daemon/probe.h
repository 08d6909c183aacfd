/* The probe process: every check that talks to the network (struct check's
 * where == CHECK_PROBE) runs there, never in the root process. Forked at
 * start and again after each reload, it chroots to an empty directory,
 * becomes MAINTD_PROBEUSER, sets no_new_privs, bounds its resources and
 * checks that it cannot get root back before it reads a byte from the
 * network. The two talk over a socketpair (lib/probemsg.h); the root side
 * validates every message against the check table before it logs it.
 *
 * If the probe process dies, its running checks end as failed and it is
 * started again with backoff; the other checks never notice. */
#ifndef PROBE_H
#define PROBE_H

#include <sys/types.h>

#include "check.h"
#include "config.h"
#include "metrics.h"

struct event_base;
struct probe;

struct probe_account {
	int drop;		/* 1: chroot and setuid (the daemon runs as root) */
	uid_t uid;
	gid_t gid;
	const char *root;	/* the empty directory to chroot to */
};

/* say: how the probe's own lines (probe-died, probe-protocol) are logged.
 * statedir: MAINTD_STATE, open and checked (the caller's; -1: none), where
 * the checks' memos are kept. */
struct probe *probe_new(struct event_base *, const struct config *, const struct probe_account *,
    int statedir, void (*say)(const struct finding *));
void probe_free(struct probe *);	/* kills the process and reaps it */
/* A new probe process with the configuration as it is now (after a reload). */
void probe_restart(struct probe *);

/* The sweep's side. Starts the run of check index in the probe process: its
 * findings come through run->emit_fn, its end through run->done_fn. */
void probe_run(struct probe *, struct check_run *, unsigned index);
/* The run ended (done, or the time limit): its samples go to m (NULL: none),
 * and a run the probe process still has is cancelled there. */
void probe_run_end(struct probe *, unsigned index, struct metrics *m);

/* The pid of the probe process, 0 while there is none (tests, status). */
pid_t probe_pid(const struct probe *);

#endif
