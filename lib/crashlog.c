#include "crashlog.h"

#include <stdlib.h>
#include <string.h>

static struct crash ring[CRASHLOG_RING];
static unsigned ring_head, ring_n;	/* next slot; entries held */

void
crashlog_add(const struct crash *c)
{
	ring[ring_head] = *c;
	ring_head = (ring_head + 1) % CRASHLOG_RING;
	if (ring_n < CRASHLOG_RING)
		ring_n++;
}

unsigned
crashlog_count(void)
{
	return ring_n;
}

const struct crash *
crashlog_get(unsigned n)
{
	return n < ring_n ? &ring[(ring_head + CRASHLOG_RING - 1 - n) % CRASHLOG_RING] : NULL;
}

unsigned
crashlog_recent(struct crash *out, unsigned max)
{
	unsigned i;

	for (i = 0; i < max && i < ring_n; i++)
		out[i] = *crashlog_get(i);
	return i;
}

void
crashlog_clear(void)
{
	ring_head = ring_n = 0;
}

/* The published services and, after them in the same block, their strings. */
static struct {
	struct crashlog_service *v;
	size_t n;
	int published;
} svc;

static size_t
names_len(const char *names)
{
	const char *p = names;

	if (!p)
		return 1;
	while (*p)
		p += strlen(p) + 1;
	return (size_t)(p - names) + 1;
}

int
crashlog_publish(const struct crashlog_service *v, size_t n)
{
	size_t i, bytes = n * sizeof(*v), len;
	struct crashlog_service *nv = NULL;
	char *s;

	for (i = 0; i < n; i++)
		bytes += strlen(v[i].path) + 1 + names_len(v[i].names);
	if (n && !(nv = malloc(bytes))) {
		free(svc.v);
		svc.v = NULL;
		svc.n = 0;
		return -1;
	}
	s = (char *)(nv + n);
	for (i = 0; i < n; i++) {
		nv[i] = v[i];
		len = strlen(v[i].path) + 1;
		nv[i].path = memcpy(s, v[i].path, len);
		s += len;
		len = names_len(v[i].names);
		nv[i].names = v[i].names ? memcpy(s, v[i].names, len) : memcpy(s, "", 1);
		s += len;
	}
	free(svc.v);
	svc.v = nv;
	svc.n = n;
	svc.published = 1;
	return 0;
}

int
crashlog_published(void)
{
	return svc.published;
}

static int
runs(const char *names, const char *prog)
{
	for (; *names; names += strlen(names) + 1)
		if (strcmp(names, prog) == 0)
			return 1;
	return 0;
}

int
crashlog_service_of(const char *prog, long pid, time_t when, char *path, size_t size)
{
	const struct crashlog_service *s;
	size_t i, n;

	for (i = 0; i < svc.n; i++) {
		s = &svc.v[i];
		if (when < s->from || when > s->until)
			continue;
		if ((pid > 0 && (unsigned long)pid == s->pid) || (*prog && runs(s->names, prog))) {
			if (size) {
				n = strlen(s->path);
				if (n >= size)
					n = size - 1;
				memcpy(path, s->path, n);
				path[n] = 0;
			}
			return 1;
		}
	}
	return 0;
}
