#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "logline.h"

static struct event *ev_write;
static struct evbuffer *queue;
static unsigned long dropped;
static int held;

static int
write_all(const char *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = write(1, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Queues the line that says how many lines were dropped. */
static void
queue_dropped_note(void)
{
	struct logline l;
	char num[32];
	int len = snprintf(num, sizeof(num), "%lu", dropped);

	dropped = 0;
	logline_start(&l, LEVEL_WARN, "maintd", "log-dropped");
	logline_field(&l, "lines", num, (size_t)len);
	evbuffer_add(queue, l.buf, logline_end(&l));
}

/* Writes queued lines until the pipe is full. 1 empty, 0 more left, -1 error. */
static int
drain(void)
{
	char line[LOGLINE_MAX];
	struct evbuffer_ptr eol;
	size_t n;
	ssize_t r;

	while (evbuffer_get_length(queue)) {
		eol = evbuffer_search(queue, "\n", 1, NULL);
		n = eol.pos < 0 ? evbuffer_get_length(queue) : (size_t)eol.pos + 1;
		if (n > sizeof(line))
			n = sizeof(line);
		evbuffer_copyout(queue, line, n);
		r = write(1, line, n);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		evbuffer_drain(queue, (size_t)r);	/* a pipe write <= PIPE_BUF is whole */
	}
	if (dropped) {
		queue_dropped_note();
		return drain();
	}
	return 1;
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (drain() == 0)
		event_add(ev_write, NULL);
}

void
out_init(struct event_base *base)
{
	struct stat st;
	int fl;

	/* only a pipe: O_NONBLOCK on a terminal would surprise the shell */
	if (!base || fstat(1, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	if ((fl = fcntl(1, F_GETFL)) < 0 || fcntl(1, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	queue = evbuffer_new();
	ev_write = event_new(base, 1, EV_WRITE, on_writable, NULL);
	if (!queue || !ev_write) {
		out_free();
		fcntl(1, F_SETFL, fl);
	}
}

void
out_line(const char *line, size_t len)
{
	if (!queue) {
		write_all(line, len);
		return;
	}
	if (evbuffer_get_length(queue) + len > OUT_QUEUE) {
		dropped++;
		return;
	}
	evbuffer_add(queue, line, len);
	if (held)
		return;
	if (drain() == 0 && !event_pending(ev_write, EV_WRITE, NULL))
		event_add(ev_write, NULL);
}

void
out_flush(int ms)
{
	struct pollfd p = { .fd = 1, .events = POLLOUT };
	struct timespec t0, t;
	int left = ms;

	if (!queue)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (drain() == 0 && left > 0) {
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
}

void
out_hold(void)
{
	if (!queue && !(queue = evbuffer_new()))
		return;
	held = 1;
}

void
out_discard(void)
{
	held = 0;
	if (queue)
		evbuffer_drain(queue, evbuffer_get_length(queue));
}

void
out_release(int plugin)
{
	size_t n, i;
	char *p;

	held = 0;
	if (!queue)
		return;
	if (dropped)
		queue_dropped_note();
	if ((n = evbuffer_get_length(queue))) {
		p = (char *)evbuffer_pullup(queue, -1);
		/* in a plugin's long output a '|' would start perfdata */
		for (i = 0; plugin && i < n; i++)
			if (p[i] == '|')
				p[i] = '/';
		write_all(p, n);
	}
	evbuffer_drain(queue, n);
}

void
out_free(void)
{
	if (ev_write)
		event_free(ev_write);
	if (queue)
		evbuffer_free(queue);
	ev_write = NULL;
	queue = NULL;
}
