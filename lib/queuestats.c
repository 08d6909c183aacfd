/* The queuestats check: qmail-qstat's figures every minute at qmail-qstat's
 * cost, and the queue's thresholds. It reads the directory entries of
 * mess/S/ and todo/ (as qmail-qstat does), and stats only the entries it
 * did not see at its last pass: their mtimes (a mess file is written once,
 * by qmail-queue; a todo file is the envelope qmail-queue wrote) are kept in
 * MAINTD_STATE/queue-cache, one file per directory. Nothing else is opened;
 * the queue check's walk does the rest (consistency, recipients, shape) at
 * its own interval.
 *
 * A message id is its mess file's inode number, which the filesystem may
 * give to a new message once the old one is gone: a cached mtime is then
 * older than the file's. So the oldest entry of each directory is stat'ed
 * again at every pass (and the next one, until one is as cached): the
 * ages reported are always a file's own. */
#include "queue.h"
#include "queue_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "safefile.h"

#define EV_NOSEND	"send-not-running"
#define EV_SIZE		"size"
#define EV_TODO		"todo-backlog"
#define EV_OVERDUE	"overdue"
#define EV_FIGURES	"figures"
#define EV_UNREADABLE	"unreadable"
#define EV_CACHE	"cache-error"

static const char *const stats_events[] = {
	EV_NOSEND, EV_SIZE, EV_TODO, EV_OVERDUE, EV_FIGURES, EV_UNREADABLE, EV_CACHE, NULL
};

static const struct confvar var_warn = { "MAINTD_QUEUE_WARN", "10000" };
static const struct confvar var_crit = { "MAINTD_QUEUE_CRIT", "50000" };
static const struct confvar var_todo = { "MAINTD_QUEUE_TODO_AGE", "300" };
static const struct confvar *const stats_vars[] = {
	&queue_var_slice, &var_warn, &var_crit, &var_todo, NULL
};

#define TODO_CRIT 4		/* todo-backlog is crit past 4 x MAINTD_QUEUE_TODO_AGE */
#define SEND_GRACE 60		/* qmail-send seen not running this long, or twice: crit */
#define MAXSPLIT 100000
#define STAT_MAGIC "QMSTATS1"
#define STAT_MAX (64UL << 20)
#define SEND_FILE "send"
#define VERIFY_MAX 64		/* stale oldest entries stat'ed again per directory and pass */

struct stats_config {
	unsigned long slice_ms;
	unsigned long warn, crit;	/* messages; 0: off */
	unsigned long todo_age;		/* seconds; 0: off */
};

/* The cache of one directory: its entries' ids and mtimes, sorted by id. */
struct shdr {
	char magic[8];
	uint32_t kind, sub, split, pad;
	uint64_t n;
};

struct srec {
	uint64_t id;
	int64_t mtime;
};

/* qmail-send's state across runs (MAINTD_STATE/queue-cache/send) */
struct sendrec {
	char magic[8];
	int64_t since;		/* first run that saw it not running with mail queued */
	uint32_t runs;		/* runs in a row that saw it; 0: it ran */
	uint32_t pad;
};

enum sphase { S_OPEN, S_READ, S_MERGE, S_FINISH, S_END };
enum skind { K_MESS, K_TODO };

struct srun {
	struct check_run *run;		/* NULL until start() set the descriptors to -1 */
	int qfd, mfd, tfd, cachefd;
	unsigned split;
	int bigtodo;
	time_t now;
	unsigned long lifetime;
	int failed;

	enum sphase phase;
	unsigned idx, ndirs;		/* mess/0..split-1, then todo (flat, or split) */
	enum skind kind;
	unsigned sub;			/* of the current directory; 0 for a flat todo */
	DIR *dir;
	uint64_t *ids;
	size_t nids, aids, pos;
	unsigned long long entries;	/* of the current directory, names that are not ids too */
	struct srec *old, *out;		/* the cache read; the one made now */
	unsigned char *oldbuf;
	size_t nold, iold, nout;
	uint8_t *fresh;			/* out[i] was stat'ed in this pass */
	int changed;

	/* the figures */
	unsigned long long messages, todo, stated, overdue, todo_late;
	time_t mess_oldest, todo_oldest;	/* mtimes; 0: none */
	int done;			/* every directory was read */
	int running;			/* qmail-send holds lock/sendmutex */
	long pid;
	int send_known;

	struct timespec deadline;
	unsigned ops;
	char buf[65536];
};

static void *
stats_configure(const struct conf *c, struct conf_err *err)
{
	struct stats_config *cf;
	unsigned long slice, warn, crit, todo;

	(void)c;
	if (conf_ulong(&queue_var_slice, 1, 1000, &slice, err) < 0 ||
	    conf_ulong(&var_warn, 0, 1000000000, &warn, err) < 0 ||
	    conf_ulong(&var_crit, 0, 1000000000, &crit, err) < 0 ||
	    conf_ulong(&var_todo, 0, 100000000, &todo, err) < 0)
		return NULL;
	if (warn && crit && warn > crit) {
		conf_set_err(err, var_warn.name, conf_value(&var_warn), "above-MAINTD_QUEUE_CRIT");
		return NULL;
	}
	if (!(cf = malloc(sizeof(*cf)))) {
		conf_set_err(err, var_warn.name, "", "no-memory");
		return NULL;
	}
	cf->slice_ms = slice;
	cf->warn = warn;
	cf->crit = crit;
	cf->todo_age = todo;
	return cf;
}

static void
unreadable(struct srun *s, const char *path, int e)
{
	s->failed = 1;
	run_emit_about(s->run, LEVEL_WARN, EV_UNREADABLE, "path", path, e);
}

/* ---- qmail-send ---- */

/* Whether a process holds the flock of lock/sendmutex (/proc/locks). */
static void
detect_send(struct srun *s)
{
	struct stat st;
	long pid;
	int lfd;

	if ((lfd = queue_open(s->qfd, "lock", O_DIRECTORY)) < 0)
		return;
	if (fstatat(lfd, "sendmutex", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		close(lfd);
		s->send_known = 1;	/* no mutex: nothing runs that uses it */
		return;
	}
	close(lfd);
	if ((pid = queue_send_holder(&st, s->buf, sizeof(s->buf))) < 0)
		return;
	s->pid = pid;
	s->running = s->pid > 0;
	s->send_known = 1;
}

/* ---- the layout ---- */

static int
layout(struct srun *s)
{
	unsigned long long v;
	struct dirent *e;
	struct stat st;
	unsigned max = 0;
	DIR *d;
	int fd;

	if ((s->mfd = queue_open(s->qfd, "mess", O_DIRECTORY)) < 0) {
		unreadable(s, "queue/mess", errno);
		return -1;
	}
	if ((fd = queue_open(s->mfd, ".", O_DIRECTORY)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		unreadable(s, "queue/mess", errno);
		return -1;
	}
	while ((e = readdir(d)))
		if (queue_parse_id(e->d_name, &v) == 0 && v < MAXSPLIT && v + 1 > max &&
		    (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN))
			max = (unsigned)v + 1;
	closedir(d);
	if (!max) {
		unreadable(s, "queue/mess/0", ENOENT);
		return -1;
	}
	s->split = max;
	if ((s->tfd = queue_open(s->qfd, "todo", O_DIRECTORY)) < 0) {
		unreadable(s, "queue/todo", errno);
		return -1;
	}
	s->bigtodo = fstatat(s->tfd, "0", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	s->ndirs = s->split + (s->bigtodo ? s->split : 1);
	return 0;
}

/* ---- one directory ---- */

static void
dir_name(const struct srun *s, char *cache, size_t csize, char *path, size_t psize)
{
	if (s->kind == K_MESS) {
		snprintf(cache, csize, "mess.%u", s->sub);
		snprintf(path, psize, "queue/mess/%u", s->sub);
	} else if (s->bigtodo) {
		snprintf(cache, csize, "todo.%u", s->sub);
		snprintf(path, psize, "queue/todo/%u", s->sub);
	} else {
		snprintf(cache, csize, "todo");
		snprintf(path, psize, "queue/todo");
	}
}

static void
cache_load(struct srun *s)
{
	const struct shdr *h;
	char name[32], path[64];
	size_t len;

	dir_name(s, name, sizeof(name), path, sizeof(path));
	if (!(s->oldbuf = queue_cache_read(s->cachefd, name, STAT_MAX, &len)))
		return;
	h = (const struct shdr *)s->oldbuf;
	if (len < sizeof(*h) || memcmp(h->magic, STAT_MAGIC, 8) != 0 || h->kind != s->kind ||
	    h->sub != s->sub || h->split != s->split ||
	    h->n != (len - sizeof(*h)) / sizeof(struct srec) ||
	    (len - sizeof(*h)) % sizeof(struct srec)) {
		free(s->oldbuf);
		s->oldbuf = NULL;
		return;
	}
	s->old = (struct srec *)(s->oldbuf + sizeof(*h));
	s->nold = (size_t)h->n;
}

static void
cache_save(struct srun *s)
{
	char name[32], path[64];
	struct shdr *h;
	size_t len = sizeof(*h) + s->nout * sizeof(struct srec);
	unsigned char *b;

	if (s->cachefd < 0 || !s->changed)
		return;
	dir_name(s, name, sizeof(name), path, sizeof(path));
	/* out was allocated with room for the header in front of it */
	b = (unsigned char *)s->out - sizeof(*h);
	h = (struct shdr *)b;
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, STAT_MAGIC, 8);
	h->kind = s->kind;
	h->sub = s->sub;
	h->split = s->split;
	h->n = s->nout;
	safe_replace_snapshot(s->cachefd, name, b, len, 0600);
}

static void
dir_free(struct srun *s)
{
	if (s->dir) {
		closedir(s->dir);
		s->dir = NULL;
	}
	free(s->oldbuf);
	s->oldbuf = NULL;
	s->old = NULL;
	if (s->out)
		free((unsigned char *)s->out - sizeof(struct shdr));
	s->out = NULL;
	free(s->fresh);
	s->fresh = NULL;
	s->nids = s->nold = s->iold = s->nout = s->pos = 0;
	s->entries = 0;
	s->changed = 0;
}

static void
p_open(struct srun *s)
{
	char name[32], path[64], sub[16];
	int fd, at;

	if (s->idx >= s->ndirs) {
		s->done = !s->failed;
		s->phase = S_END;
		return;
	}
	s->kind = s->idx < s->split ? K_MESS : K_TODO;
	s->sub = s->kind == K_MESS ? s->idx : s->idx - s->split;
	dir_name(s, name, sizeof(name), path, sizeof(path));
	at = s->kind == K_MESS ? s->mfd : s->tfd;
	snprintf(sub, sizeof(sub), "%u", s->sub);
	fd = queue_open(at, s->kind == K_MESS || s->bigtodo ? sub : ".", O_DIRECTORY);
	if (fd < 0 || !(s->dir = fdopendir(fd))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		/* missing, or not a directory (a symlink is never followed): the
		 * queue check's missing-dir or bad-mode; the others are counted */
		if (e != ENOENT && e != ENOTDIR && e != ELOOP)
			unreadable(s, path, e);
		s->idx++;
		return;
	}
	cache_load(s);
	s->phase = S_READ;
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
p_read(struct srun *s)
{
	unsigned long long id;
	struct dirent *e;
	unsigned char *b;
	int n;

	for (n = 0; n < 64; n++) {
		if (!(e = readdir(s->dir))) {
			if (s->nids > 1)
				qsort(s->ids, s->nids, sizeof(*s->ids), id_cmp);
			/* the new cache, with room for its header in front */
			b = malloc(sizeof(struct shdr) + (s->nids ? s->nids : 1) * sizeof(struct srec));
			s->fresh = calloc(s->nids ? s->nids : 1, 1);
			if (!b || !s->fresh) {
				free(b);
				s->failed = 1;
				s->idx++;
				s->phase = S_OPEN;
				dir_free(s);
				return;
			}
			s->out = (struct srec *)(b + sizeof(struct shdr));
			s->phase = S_MERGE;
			return;
		}
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		s->entries++;
		if (queue_parse_id(e->d_name, &id) < 0)
			continue;	/* counted, as qmail-qstat does; named by the queue check */
		if (s->nids == s->aids) {
			size_t na = s->aids ? s->aids * 2 : 1024;
			uint64_t *ni = realloc(s->ids, na * sizeof(*ni));

			if (!ni) {
				s->failed = 1;
				continue;
			}
			s->ids = ni;
			s->aids = na;
		}
		s->ids[s->nids++] = id;
	}
}

static int
stat_id(struct srun *s, uint64_t id, struct stat *st)
{
	char name[24];

	snprintf(name, sizeof(name), "%llu", (unsigned long long)id);
	s->stated++;
	return fstatat(dirfd(s->dir), name, st, AT_SYMLINK_NOFOLLOW);
}

/* A bounded slice of the merge of the directory's ids with the cache. */
static void
p_merge(struct srun *s)
{
	struct stat st;
	uint64_t id;
	int n, stats = 0;

	/* a stat may wait for the disk: at most 16 between looks at the clock */
	for (n = 0; n < 1024 && stats < 16 && s->pos < s->nids; n++, s->pos++) {
		id = s->ids[s->pos];
		while (s->iold < s->nold && s->old[s->iold].id < id) {
			s->iold++;
			s->changed = 1;	/* gone since */
		}
		if (s->iold < s->nold && s->old[s->iold].id == id) {
			s->out[s->nout++] = s->old[s->iold++];
			continue;
		}
		s->changed = 1;
		stats++;
		if (stat_id(s, id, &st) < 0)
			continue;	/* gone since the readdir */
		s->fresh[s->nout] = 1;
		s->out[s->nout].id = id;
		s->out[s->nout++].mtime = (int64_t)st.st_mtime;
	}
	if (s->pos >= s->nids) {
		if (s->iold < s->nold)
			s->changed = 1;
		s->phase = S_FINISH;
	}
}

/* The oldest entry, stat'ed again until one is as cached; then the figures. */
static void
p_finish(struct srun *s)
{
	const struct stats_config *cf = s->run->config;
	unsigned long long late = 0;
	int64_t limit, oldest = 0;
	struct stat st;
	size_t i, min;
	unsigned tries;

	for (tries = 0; tries < VERIFY_MAX && s->nout; tries++) {
		for (min = 0, i = 1; i < s->nout; i++)
			if (s->out[i].mtime < s->out[min].mtime)
				min = i;
		if (s->fresh[min])
			break;
		s->fresh[min] = 1;
		if (stat_id(s, s->out[min].id, &st) < 0) {	/* gone: drop it */
			memmove(&s->out[min], &s->out[min + 1], (s->nout - min - 1) * sizeof(s->out[0]));
			memmove(&s->fresh[min], &s->fresh[min + 1], s->nout - min - 1);
			s->nout--;
			s->changed = 1;
			continue;
		}
		if ((int64_t)st.st_mtime == s->out[min].mtime)
			break;
		s->out[min].mtime = (int64_t)st.st_mtime;	/* a reused inode: a new message */
		s->changed = 1;
	}
	limit = s->kind == K_MESS ? (int64_t)(s->now - (time_t)(s->lifetime + QUEUE_GRACE)) :
	    (int64_t)(s->now - (time_t)cf->todo_age);
	for (i = 0; i < s->nout; i++) {
		if (!oldest || s->out[i].mtime < oldest)
			oldest = s->out[i].mtime;
		if (s->out[i].mtime < limit)
			late++;
	}
	if (s->kind == K_MESS) {
		s->messages += s->entries;
		s->overdue += late;
		if (oldest && (!s->mess_oldest || oldest < s->mess_oldest))
			s->mess_oldest = (time_t)oldest;
	} else {
		s->todo += s->entries;
		s->todo_late += cf->todo_age ? late : 0;
		if (oldest && (!s->todo_oldest || oldest < s->todo_oldest))
			s->todo_oldest = (time_t)oldest;
	}
	cache_save(s);
	dir_free(s);
	s->idx++;
	s->phase = S_OPEN;
}

/* ---- findings ---- */

static long long
age(const struct srun *s, time_t t)
{
	return t && s->now > t ? (long long)(s->now - t) : 0;
}

static void
emit_level(struct srun *s, enum level l, const char *event, unsigned long long n,
    const char *k, long long v, unsigned long long limit)
{
	struct finding f;

	finding_init(&f, l, FINDING_STATE, NULL, event);
	finding_addu(&f, "messages", n);
	if (k)
		finding_addi(&f, k, v);
	finding_addu(&f, "limit", limit);
	run_emit(s->run, &f);
}

/* qmail-send not running with mail queued: crit once seen at two runs in a
 * row or for SEND_GRACE seconds (MAINTD_STATE/queue-cache/send), so that a
 * restart of qmail-send never pages. */
static void
check_send(struct srun *s)
{
	struct sendrec r, *old = NULL;
	struct finding f;
	size_t len;

	if (!s->send_known)
		return;
	memset(&r, 0, sizeof(r));
	if ((old = queue_cache_read(s->cachefd, SEND_FILE, sizeof(r), &len)) && len == sizeof(r) &&
	    memcmp(old->magic, "QMSEND1", 8) == 0)
		r = *old;
	free(old);
	if (s->running || !s->messages) {
		if (r.runs && s->cachefd >= 0) {
			r.runs = 0;
			safe_replace_snapshot(s->cachefd, SEND_FILE, &r, sizeof(r), 0600);
		}
		return;
	}
	memcpy(r.magic, "QMSEND1", 8);
	if (!r.runs || r.since > (int64_t)s->now)
		r.since = (int64_t)s->now;
	if (r.runs < 1000)
		r.runs++;
	if (s->cachefd >= 0)
		safe_replace_snapshot(s->cachefd, SEND_FILE, &r, sizeof(r), 0600);
	if (r.runs < 2 && s->now - (time_t)r.since < SEND_GRACE)
		return;
	finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, EV_NOSEND);
	finding_addu(&f, "messages", s->messages);
	finding_addi(&f, "since", (long long)r.since);
	run_emit(s->run, &f);
}

static void
emit_findings(struct srun *s)
{
	const struct stats_config *cf = s->run->config;
	long long todo_age = age(s, s->todo_oldest), mess_age = age(s, s->mess_oldest);
	struct finding f;

	check_send(s);
	if (cf->crit && s->messages > cf->crit)
		emit_level(s, LEVEL_CRIT, EV_SIZE, s->messages, NULL, 0, cf->crit);
	else if (cf->warn && s->messages > cf->warn)
		emit_level(s, LEVEL_WARN, EV_SIZE, s->messages, NULL, 0, cf->warn);
	if (cf->todo_age && todo_age > (long long)(cf->todo_age * TODO_CRIT))
		emit_level(s, LEVEL_CRIT, EV_TODO, s->todo_late, "oldest", todo_age,
		    cf->todo_age * TODO_CRIT);
	else if (cf->todo_age && todo_age > (long long)cf->todo_age)
		emit_level(s, LEVEL_WARN, EV_TODO, s->todo_late, "oldest", todo_age, cf->todo_age);
	if (mess_age > (long long)(s->lifetime + QUEUE_GRACE))
		emit_level(s, LEVEL_WARN, EV_OVERDUE, s->overdue, "oldest", mess_age,
		    s->lifetime + QUEUE_GRACE);
	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, EV_FIGURES);
	finding_addu(&f, "messages", s->messages);
	finding_addu(&f, "todo", s->todo);
	finding_addi(&f, "oldest", mess_age);
	finding_addi(&f, "todo_oldest", todo_age);
	finding_add(&f, "running", s->running ? "yes" : "no");
	finding_addu(&f, "stated", s->stated);
	run_emit(s->run, &f);
}

/* ---- the run ---- */

static void
slice_begin(struct srun *s)
{
	const struct stats_config *cf = s->run->config;

	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	s->deadline.tv_nsec += (long)(cf->slice_ms % 1000) * 1000000;
	s->deadline.tv_sec += (time_t)(cf->slice_ms / 1000) + s->deadline.tv_nsec / 1000000000;
	s->deadline.tv_nsec %= 1000000000;
	s->ops = 0;
}

static int
slice_over(struct srun *s)
{
	struct timespec t;

	if (++s->ops % 4)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > s->deadline.tv_sec ||
	    (t.tv_sec == s->deadline.tv_sec && t.tv_nsec >= s->deadline.tv_nsec);
}

static void
finish(struct srun *s)
{
	run_done(s->run, s->failed ? CHECK_FAILED : CHECK_OK);
}

static void
on_step(struct check_run *run)
{
	struct srun *s = run->state;

	slice_begin(s);
	do {
		switch (s->phase) {
		case S_OPEN: p_open(s); break;
		case S_READ: p_read(s); break;
		case S_MERGE: p_merge(s); break;
		case S_FINISH: p_finish(s); break;
		case S_END:
			if (s->done)
				emit_findings(s);
			finish(s);
			return;
		}
	} while (!slice_over(s));
	if (run_yield(run, on_step) < 0) {
		s->failed = 1;
		finish(s);
	}
}

static void
stats_cleanup(struct check_run *run)
{
	struct srun *s = run->state;

	if (!s->run)
		return;
	dir_free(s);
	free(s->ids);
	if (s->qfd >= 0)
		close(s->qfd);
	if (s->mfd >= 0)
		close(s->mfd);
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->cachefd >= 0)
		close(s->cachefd);
}

static void
stats_start(struct check_run *run)
{
	struct srun *s = run->state;
	char path[PATH_MAX + 8];

	s->qfd = s->mfd = s->tfd = s->cachefd = -1;
	s->run = run;
	s->now = time(NULL);
	s->lifetime = queue_lifetime(run->conf);
	snprintf(path, sizeof(path), "%s/queue", run->conf->qmailhome);
	/* queue/ itself may be a symlink (a queue on another disk): followed */
	if ((s->qfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		unreadable(s, "queue", errno);
		finish(s);
		return;
	}
	detect_send(s);
	if (layout(s) < 0) {
		finish(s);
		return;
	}
	s->cachefd = queue_cache_dir(run, EV_CACHE);
	s->phase = S_OPEN;
	if (run_yield(run, on_step) < 0) {
		s->failed = 1;
		finish(s);
	}
}

static const struct metric_family stats_metrics[] = {
	{ "qmail_queue_messages", METRIC_GAUGE,
	    "Messages in the qmail queue (qmail-qstat's first number).",
	    { NULL, NULL }, "queue_messages", "", PERF_FIRST, 0 },
	{ "qmail_queue_todo", METRIC_GAUGE,
	    "Messages in queue/todo, not yet preprocessed (qmail-qstat's second number).",
	    { NULL, NULL }, "queue_todo", "", PERF_FIRST, 0 },
	{ "qmail_queue_oldest_seconds", METRIC_GAUGE, "Age of the oldest queued message.",
	    { NULL, NULL }, "queue_oldest", "s", PERF_FIRST, 0 },
	{ "qmail_queue_todo_oldest_seconds", METRIC_GAUGE,
	    "How long the oldest message in queue/todo has waited for preprocessing.",
	    { NULL, NULL }, NULL, "s", PERF_NONE, 0 },
	{ "qmail_queue_send_running", METRIC_GAUGE,
	    "1 when qmail-send holds lock/sendmutex, else 0.",
	    { NULL, NULL }, NULL, "", PERF_NONE, 0 },
	{ NULL, 0, NULL, { NULL, NULL }, NULL, NULL, PERF_NONE, 0 }
};
enum { SM_MESSAGES, SM_TODO, SM_OLDEST, SM_TODO_OLDEST, SM_RUNNING };

static void
stats_samples(const struct check_run *run, struct metrics *m)
{
	const struct srun *s = run->state;

	if (s->send_known)
		metrics_set(m, &stats_metrics[SM_RUNNING], NULL, NULL, s->running ? 1 : 0);
	if (!s->done)
		return;
	metrics_set(m, &stats_metrics[SM_MESSAGES], NULL, NULL, (double)s->messages);
	metrics_set(m, &stats_metrics[SM_TODO], NULL, NULL, (double)s->todo);
	metrics_set(m, &stats_metrics[SM_OLDEST], NULL, NULL, (double)age(s, s->mess_oldest));
	metrics_set(m, &stats_metrics[SM_TODO_OLDEST], NULL, NULL,
	    (double)age(s, s->todo_oldest));
}

const struct check check_queuestats = {
	.name = "queuestats",
	.interval = 60,
	.timeout = 300,
	.vars = stats_vars,
	.events = stats_events,
	.configure = stats_configure,
	.run_size = sizeof(struct srun),
	.start = stats_start,
	.cleanup = stats_cleanup,
	.metrics = stats_metrics,
	.samples = stats_samples,
};
