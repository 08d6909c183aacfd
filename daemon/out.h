/* Standard output, the log pipe to multilog. Each line is one write(2).
 *
 * When multilog stalls (its disk is full) the pipe fills. A daemon blocked in
 * write(2) could not even obey SIGTERM, so under supervise stdout is made
 * non-blocking and lines wait in a bounded queue; beyond OUT_QUEUE bytes they
 * are dropped and counted, and the count is logged once the pipe drains. */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>

struct event_base;

#define OUT_QUEUE (1024 * 1024)

/* base NULL: plain blocking writes (one-shot mode, or a terminal). */
void out_init(struct event_base *base);
void out_line(const char *line, size_t len);
/* Writes what is queued, waiting at most ms milliseconds in total. */
void out_flush(int ms);
void out_free(void);
/* Keeps every line until out_release() writes them (-N: the plugin status
 * line must come first). plugin: as a plugin's long output, with no '|'
 * (it becomes '/'). */
void out_hold(void);
void out_release(int plugin);
/* Drops what is held (-q: the table is the whole output). */
void out_discard(void);

#endif
