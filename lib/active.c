#include "active.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "hash.h"
#include "logline.h"

struct entry {
	struct entry *hnext;		/* hash chain */
	struct entry *prev, *next;	/* the check's list */
	uint64_t hash;
	unsigned check;
	unsigned gen;			/* the check's run in which it was last seen */
	enum level level;
	int event;			/* FINDING_EVENT: expires, no cleared line */
	time_t logged;
	time_t first;			/* when it was first seen */
	time_t expires;			/* an event's end of hold */
	size_t eventlen;
	const char *word;		/* the finding's CHECK word, in key */
	char key[];			/* event '\0' subject '\0' word '\0' */
};

struct active {
	unsigned long max, count;
	size_t nbuckets;
	struct entry **buckets;
	struct entry *list[CONF_MAXCHECKS];
	unsigned gen[CONF_MAXCHECKS];
	unsigned long levels[CONF_MAXCHECKS][LEVEL_FATAL + 1];
	time_t seen_first;	/* of the finding active_seen was last given, 0: new */
};


struct active *
active_new(unsigned long max)
{
	struct active *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->max = max;
	a->nbuckets = 64;
	if (!(a->buckets = calloc(a->nbuckets, sizeof(*a->buckets)))) {
		free(a);
		return NULL;
	}
	return a;
}

void
active_free(struct active *a)
{
	struct entry *e, *n;
	unsigned c;

	if (!a)
		return;
	for (c = 0; c < CONF_MAXCHECKS; c++)
		for (e = a->list[c]; e; e = n) {
			n = e->next;
			free(e);
		}
	free(a->buckets);
	free(a);
}

void
active_run_begin(struct active *a, unsigned check)
{
	a->gen[check]++;
}

static void
grow(struct active *a)
{
	size_t n = a->nbuckets * 2, i;
	struct entry **b = calloc(n, sizeof(*b)), *e, *next;

	if (!b)
		return;		/* longer chains, still correct */
	for (i = 0; i < a->nbuckets; i++)
		for (e = a->buckets[i]; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	free(a->buckets);
	a->buckets = b;
	a->nbuckets = n;
}

static struct entry *
insert(struct active *a, unsigned check, uint64_t h, const char *event,
    const char *subject, const struct finding *f)
{
	const char *word = f->check ? f->check : "";
	size_t el = strlen(event), sl = strlen(subject), wl = strlen(word);
	struct entry *e = malloc(sizeof(*e) + el + sl + wl + 3);

	if (!e)
		return NULL;
	e->hash = h;
	e->check = check;
	e->level = f->level;
	e->eventlen = el;
	memcpy(e->key, event, el + 1);
	memcpy(e->key + el + 1, subject, sl + 1);
	memcpy(e->key + el + sl + 2, word, wl + 1);
	e->word = e->key + el + sl + 2;
	e->hnext = a->buckets[h & (a->nbuckets - 1)];
	a->buckets[h & (a->nbuckets - 1)] = e;
	e->prev = NULL;
	e->next = a->list[check];
	if (e->next)
		e->next->prev = e;
	a->list[check] = e;
	a->levels[check][e->level]++;
	if (++a->count > a->nbuckets)
		grow(a);
	return e;
}

enum active_verdict
active_seen(struct active *a, unsigned check, const struct finding *f,
    time_t now, int forced, unsigned long remind)
{
	char subject[LOGLINE_MAX];
	const char *event = f->event ? f->event : "";
	struct entry *e;
	uint64_t h;
	int say;

	logline_subject(subject, sizeof(subject), f);
	h = fnv1a(FNV1A_INIT, &check, sizeof(check));
	h = fnv1a(h, event, strlen(event) + 1);
	h = fnv1a(h, subject, strlen(subject));
	for (e = a->buckets[h & (a->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->check == check && strcmp(e->key, event) == 0 &&
		    strcmp(e->key + e->eventlen + 1, subject) == 0)
			break;
	if (!e) {
		a->seen_first = 0;
		if (a->count >= a->max || !(e = insert(a, check, h, event, subject, f)))
			return ACTIVE_FULL;
		e->first = now;
		say = 1;
	} else {
		/* an event whose hold has passed (not dropped yet) is a new one */
		int again = e->event && now >= e->expires;

		if (again)
			e->first = now;
		a->seen_first = again ? 0 : e->first;
		say = again || forced || e->level != f->level ||
		    (f->kind != FINDING_EVENT && remind && now - e->logged >= (time_t)remind);
		a->levels[check][e->level]--;
		e->level = f->level;
		a->levels[check][e->level]++;
	}
	e->gen = a->gen[check];
	e->event = f->kind == FINDING_EVENT;
	if (e->event)
		e->expires = now + (time_t)(f->hold > (unsigned long)0x7fffffff ? 0x7fffffff : f->hold);
	if (say)
		e->logged = now;
	return say ? ACTIVE_LOG : ACTIVE_QUIET;
}

static void
unlink_entry(struct active *a, struct entry *e)
{
	struct entry **pp = &a->buckets[e->hash & (a->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		a->list[e->check] = e->next;
	if (e->next)
		e->next->prev = e->prev;
	a->levels[e->check][e->level]--;
	a->count--;
}

void
active_expire(struct active *a, unsigned check, time_t now)
{
	struct entry *e, *next;

	for (e = a->list[check]; e; e = next) {
		next = e->next;
		if (!e->event || e->gen == a->gen[check] || now < e->expires)
			continue;
		unlink_entry(a, e);
		free(e);
	}
}

void
active_run_end(struct active *a, unsigned check, int ok, active_cleared_fn *fn, void *arg)
{
	struct entry *e, *next;

	active_expire(a, check, time(NULL));
	if (!ok)
		return;
	for (e = a->list[check]; e; e = next) {
		next = e->next;
		if (e->gen == a->gen[check] || e->event)
			continue;
		unlink_entry(a, e);
		if (fn)
			fn(check, e->word, e->key, e->key + e->eventlen + 1, arg);
		free(e);
	}
}

unsigned long
active_count(const struct active *a, unsigned check, enum level l)
{
	return a->levels[check][l];
}

unsigned long
active_total(const struct active *a)
{
	return a->count;
}

void
active_foreach(const struct active *a, active_each_fn *fn, void *arg)
{
	const struct entry *e;
	unsigned c;

	for (c = 0; c < CONF_MAXCHECKS; c++)
		for (e = a->list[c]; e; e = e->next)
			if (fn(c, e->word, e->level, e->key, e->key + e->eventlen + 1, e->first, arg))
				return;
}

time_t
active_seen_since(const struct active *a)
{
	return a->seen_first;
}
