#include "svc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashlog.h"
#include "metrics.h"
#include "safefile.h"
#include "svstat.h"

/* empty: whichever of /service and /etc/service exists (services_dir) */
static const struct confvar var_services = { "MAINTD_SERVICES", "" };
static const struct confvar var_minup = { "MAINTD_SVC_MINUP", "10" };
static const struct confvar var_restarts = { "MAINTD_SVC_RESTARTS", "5" };
static const struct confvar *const svc_vars[] = {
	&var_services, &var_minup, &var_restarts, NULL
};
static const char *const svc_events[] = {
	SVC_NOT_SUPERVISED, SVC_DOWN, SVC_PAUSED, SVC_FLAPPING, SVC_LOG_DOWN,
	SVC_UNREADABLE, SVC_BAD_STATUS, SVC_BAD_FILE, SVC_TOO_MANY, SVC_STATE_ERROR,
	SVC_SERVICE, SVC_SKIPPED, NULL
};

static const struct metric_family svc_metrics[] = {
	{ .name = "qmail_svc_up", .type = METRIC_GAUGE,
	    .help = "1 when the supervised service is up.", .label = { "service", NULL },
	    .perf = "svc_up", .uom = "", .how = PERF_SUM_OF_N },
	{ .name = "qmail_svc_restarts_total", .type = METRIC_COUNTER,
	    .help = "Restarts of the supervised service observed by the svc check.",
	    .label = { "service", NULL }, .perf = "svc_restarts", .uom = "c", .how = PERF_SUM },
	{ .name = NULL }
};
#define FAM_UP (&svc_metrics[0])
#define FAM_RESTARTS (&svc_metrics[1])

#define SVC_STATEFILE "svc.state"
#define SVC_STATEMAX (8 << 20)	/* a larger state file is not read */
#define SVC_SLICE 50		/* services looked at per turn of the event loop */
#define SVC_RUNMAX 4096		/* bytes of a run script searched for program names */
#define SVC_CRASHES 64		/* the newest crashes looked at for a flapping service */

struct svc_config {
	char services[PATH_MAX];
	unsigned long minup, restarts;
};

/* What the last sweeps saw of a service, and what this one sees. */
struct mem {
	char *path;
	struct svmem m;
};

struct memtab {
	struct mem *v;
	size_t n, cap;
	int failed;
};

/* One service as seen now. */
struct obs {
	int supervised;
	int known;		/* status read and decoded */
	struct svstat st;
	struct svjudge j;
	long long age;		/* seconds in the current state */
};

/* A service's numbers for the metrics. */
struct svc_sample {
	char *path;
	int up;
	unsigned long long total;
};

struct svc_run {
	struct check_run *run;
	const struct svc_config *cf;
	int denied;		/* a service could not be looked at (EACCES, EPERM) */
	char **names;		/* the entries of MAINTD_SERVICES */
	size_t n, next;		/* next: the first not looked at yet */
	struct memtab old, now;	/* the state file as read; as it will be written */
	struct svc_sample *samples;
	size_t nsamples, capsamples;
};

static void publish_saved(const struct conf *);

/* MAINTD_SERVICES, or the scanned directory that exists: djb's /service,
 * else Debian's /etc/service (daemontools-run); /service when neither does. */
static const char *
services_dir(void)
{
	const char *v = conf_value(&var_services);
	struct stat st;

	if (*v)
		return v;
	if (stat("/service", &st) < 0 && stat("/etc/service", &st) == 0 && S_ISDIR(st.st_mode))
		return "/etc/service";
	return "/service";
}

static void *
svc_configure(const struct conf *c, struct conf_err *err)
{
	const char *dir = services_dir();
	unsigned long minup, restarts;
	struct svc_config *cf;
	size_t n = strlen(dir);

	if (n >= sizeof(cf->services) - 64) {
		conf_set_err(err, var_services.name, dir, "too-long");
		return NULL;
	}
	if (conf_ulong(&var_minup, 1, 86400, &minup, err) < 0 ||
	    conf_ulong(&var_restarts, 1, SVMEM_RECENT - 1, &restarts, err) < 0)
		return NULL;
	if (!(cf = calloc(1, sizeof(*cf)))) {
		conf_set_err(err, var_services.name, dir, "no-memory");
		return NULL;
	}
	while (n > 1 && dir[n - 1] == '/')
		n--;
	memcpy(cf->services, dir, n);
	cf->services[n] = 0;
	cf->minup = minup;
	cf->restarts = restarts;
	/* the kmsg check, first in a sweep with both, names the services of its
	 * crashes from what this check saw last: at start, its state file */
	if (!crashlog_published())
		publish_saved(c);
	return cf;
}

/* strlcpy: cut to fit, always terminated */
static void
copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int
mem_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mem *)a)->path, ((const struct mem *)b)->path);
}

static struct mem *
mem_add(struct memtab *t, const char *path, size_t len, const struct svmem *m)
{
	struct mem *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;

		if (!(e = realloc(t->v, cap * sizeof(*e)))) {
			t->failed = 1;
			return NULL;
		}
		t->v = e;
		t->cap = cap;
	}
	e = &t->v[t->n];
	if (!(e->path = strndup(path, len))) {
		t->failed = 1;
		return NULL;
	}
	e->m = *m;
	t->n++;
	return e;
}

static void
mem_free(struct memtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static void
on_mem(const char *path, size_t len, const struct svmem *m, void *arg)
{
	struct memtab *t = arg;

	if (t->n < 2 * SVC_MAXSERVICES)
		mem_add(t, path, len, m);
}

/* Everything below a service directory may belong to the service's owner
 * (or to whoever runs supervise for it): nothing there is followed if it is
 * a symbolic link, each file is examined with fstat before it is used, and
 * a FIFO never blocks an open. The service directories themselves, entries
 * of MAINTD_SERVICES, are the administrator's and are followed. */

/* The file of a refused open: what is there instead, for a bad-file finding. */
struct refusal {
	const char *file;	/* "supervise/ok" */
	const char *want;	/* "fifo", "file", "directory" */
	struct stat st;
};

/* A directory under dir, not through a symbolic link unless root (or this
 * process's user) owns the link: runit's packages link supervise/ to /run.
 * The link is read from its own inode (O_PATH), so it cannot be swapped
 * between its check and its use. fd; -1 (errno); -2: refused (*why). */
static int
open_subdir(int dir, const char *name, struct refusal *why)
{
	char target[PATH_MAX];
	ssize_t n;
	int fd, lfd, e;

	if ((fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 ||
	    (errno != ENOTDIR && errno != ELOOP))
		return fd;
	if ((lfd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(lfd, &why->st) < 0) {
		e = errno;
		close(lfd);
		errno = e;
		return -1;
	}
	if (!S_ISLNK(why->st.st_mode)) {	/* a file: no such directory */
		close(lfd);
		errno = ENOTDIR;
		return -1;
	}
	if ((why->st.st_uid != 0 && why->st.st_uid != geteuid()) ||
	    (n = readlinkat(lfd, "", target, sizeof(target) - 1)) <= 0) {
		close(lfd);
		why->want = "directory";
		return -2;
	}
	close(lfd);
	target[n] = 0;
	return openat(target[0] == '/' ? AT_FDCWD : dir, target,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A regular file with one link in dir, read-only. fd; -1 (errno); -2: refused. */
static int
open_file(int dir, const char *name, struct refusal *why)
{
	int fd, e;

	why->want = "file";
	if ((fd = safe_openat(dir, name, O_RDONLY)) < 0) {
		e = errno;
		if (e == ELOOP && fstatat(dir, name, &why->st, AT_SYMLINK_NOFOLLOW) == 0)
			return -2;
		errno = e;
		return -1;
	}
	if (fstat(fd, &why->st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(why->st.st_mode) || why->st.st_nlink != 1) {
		close(fd);
		return -2;
	}
	return fd;
}

/* Reads at most size bytes of fd, and closes it; their number, or -1 (errno). */
static ssize_t
read_fd(int fd, char *buf, size_t size)
{
	ssize_t r;
	size_t n = 0;
	int e;

	while (n < size && (r = read(fd, buf + n, size - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	return (ssize_t)n;
}

/* A service directory by its path: the parent as given, its last name (a
 * service's log/) through open_subdir. fd, or -1. */
static int
open_service(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct refusal why;
	size_t n;
	int dir, fd;

	if (!slash || !slash[1] || (n = (size_t)(slash - path)) >= sizeof(parent))
		return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memcpy(parent, path, n ? n : 1);
	parent[n ? n : 1] = 0;
	if ((dir = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	fd = open_subdir(dir, slash + 1, &why);
	close(dir);
	return fd;
}

/* The state directory, as the daemon checked it at start (safe_state_dir):
 * fd, or -1 (errno; ENOENT: there is no persistent state). */
static int
state_dir(const struct conf *c)
{
	if (!c->state[0]) {
		errno = ENOENT;
		return -1;
	}
	return open(c->state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void
mem_load(const struct conf *c, struct memtab *t)
{
	static const struct safe_want want = { .type = S_IFREG, .one_link = 1 };
	struct safe_want w = want;
	struct stat st;
	ssize_t n;
	char *buf;
	int dir, fd;

	if ((dir = state_dir(c)) < 0)
		return;
	fd = safe_openat(dir, SVC_STATEFILE, O_RDONLY);
	close(dir);
	if (fd < 0)
		return;
	w.uid = (int)geteuid();
	if (safe_check(fd, &w, &st) != SAFE_OK || st.st_size > SVC_STATEMAX ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return;
	}
	n = read_fd(fd, buf, (size_t)st.st_size);
	if (n > 0)
		svstat_mem_parse(buf, (size_t)n, on_mem, t);
	free(buf);
	if (t->n)
		qsort(t->v, t->n, sizeof(t->v[0]), mem_cmp);
}

/* Written to an exclusive temporary file in the state directory and renamed:
 * never half a state, never through a planted name. */
static void
mem_save(struct check_run *run, const struct memtab *t)
{
	char line[2 * PATH_MAX], *buf, *nb;
	size_t i, n, len, cap = 65536;
	int dir, e = 0;

	if ((dir = state_dir(run->conf)) < 0) {
		if (errno != ENOENT || run->conf->state[0])
			run_emit_about(run, LEVEL_WARN, SVC_STATE_ERROR, "file", SVC_STATEFILE, errno);
		return;
	}
	if (!(buf = malloc(cap)))
		e = ENOMEM;
	len = buf ? (size_t)snprintf(buf, cap, "%s", SVSTAT_HEADER) : 0;
	for (i = 0; buf && i < t->n; i++) {
		if (!(n = svstat_mem_format(line, sizeof(line), t->v[i].path, &t->v[i].m)))
			continue;
		if (len + n > cap) {
			if (!(nb = realloc(buf, cap * 2 + n))) {
				e = ENOMEM;
				break;
			}
			buf = nb;
			cap = cap * 2 + n;
		}
		memcpy(buf + len, line, n);
		len += n;
	}
	if (!e && safe_replace(dir, SVC_STATEFILE, buf, len, 0600) < 0)
		e = errno;
	if (e)
		run_emit_about(run, LEVEL_WARN, SVC_STATE_ERROR, "file", SVC_STATEFILE, e);
	free(buf);
	close(dir);
}

/* svok: supervise holds supervise/ok, a FIFO, open for reading while it
 * runs. The name is examined (O_PATH) before it is opened for writing, and
 * the write open must reach the same FIFO. *sup: supervise/, open, when 1.
 * 1 running, 0 not, -1 could not tell (errno set), -2 refused (*why). */
static int
supervised(int dir, int *sup, struct refusal *why)
{
	struct stat st;
	int fd, p, e;

	*sup = -1;
	why->file = "supervise";
	if ((fd = open_subdir(dir, "supervise", why)) < 0)
		return fd == -2 ? -2 : errno == ENOENT ? 0 : -1;
	why->file = "supervise/ok";
	why->want = "fifo";
	if ((p = openat(fd, "ok", O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(p, &why->st) < 0) {
		e = errno;
		if (p >= 0)
			close(p);
		close(fd);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	close(p);
	if (!S_ISFIFO(why->st.st_mode)) {
		close(fd);
		return -2;
	}
	if ((p = safe_openat(fd, "ok", O_WRONLY)) < 0) {
		e = errno;
		close(fd);
		if (e == ELOOP)		/* a link now: swapped in between */
			why->st.st_mode = S_IFLNK | 0777;
		errno = e;
		return e == ENXIO || e == ENOENT ? 0 : e == ELOOP ? -2 : -1;
	}
	e = fstat(p, &st) < 0 || st.st_dev != why->st.st_dev || st.st_ino != why->st.st_ino;
	close(p);
	if (e) {	/* replaced between the two opens */
		close(fd);
		return -2;
	}
	*sup = fd;
	return 1;
}

/* supervise/status, else runit's stat and pid, in supervise/ (sup).
 * 0, -1 (errno set), -2 (*why set), -3 refused (*ref). */
static int
read_status(int sup, struct svstat *st, long long *size, const char **why,
    struct refusal *ref)
{
	char buf[SVSTAT_ENCORE_LOG + 1], pid[64];
	struct refusal r2;
	struct stat sb;
	ssize_t n, pn;
	int fd;

	ref->file = "supervise/status";
	if ((fd = open_file(sup, "status", ref)) >= 0) {
		*size = (long long)ref->st.st_size;
		if ((n = read_fd(fd, buf, sizeof(buf))) < 0)
			return -1;
		if (svstat_decode(buf, (size_t)n, st, why) < 0)
			return -2;
		/* runsv writes the same 20 bytes as encore's supervise, and its text files */
		if (n == SVSTAT_ENCORE && fstatat(sup, "stat", &sb, AT_SYMLINK_NOFOLLOW) == 0)
			st->layout = "runit";
		return 0;
	}
	if (fd == -2)
		return -3;
	if (errno != ENOENT)
		return -1;
	ref->file = "supervise/stat";
	if ((fd = open_file(sup, "stat", ref)) == -2)
		return -3;
	if (fd < 0)
		return -1;
	*size = (long long)ref->st.st_size;
	sb = ref->st;
	if ((n = read_fd(fd, buf, sizeof(buf))) < 0)
		return -1;
	r2.file = "supervise/pid";
	if ((fd = open_file(sup, "pid", &r2)) == -2) {
		*ref = r2;
		return -3;
	}
	if (fd < 0 || (pn = read_fd(fd, pid, sizeof(pid))) < 0)
		return -1;
	return svstat_runit(buf, (size_t)n, pid, (size_t)pn, (long long)sb.st_mtime, st, why) < 0 ?
	    -2 : 0;
}

/* No down file (any entry of that name counts, as it does for supervise) */
static int
normally_up(int dir)
{
	struct stat sb;

	return fstatat(dir, "down", &sb, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

/* The first bytes of the service's run script, for the program names in it. */
static size_t
read_run(int dir, char *buf, size_t size)
{
	struct refusal why;
	ssize_t n;
	int fd;

	if ((fd = open_file(dir, "run", &why)) < 0)
		return 0;
	n = read_fd(fd, buf, size);
	return n > 0 ? (size_t)n : 0;
}

static size_t
read_run_path(const char *path, char *buf, size_t size)
{
	size_t n;
	int dir;

	if ((dir = open_service(path)) < 0)
		return 0;
	n = read_run(dir, buf, size);
	close(dir);
	return n;
}

/* A crash the kmsg check read since the previous look at the service (at
 * least SVC_XREF_WINDOW back) of one of its pids or of its program. */
static int
crash_of(int dir, const char *path, unsigned long pid, unsigned long prevpid, long long since,
    long long now, char *prog, size_t size)
{
	char run[SVC_RUNMAX];
	size_t runlen = read_run(dir, run, sizeof(run));
	const struct crash *c;
	unsigned i;

	for (i = 0; i < SVC_CRASHES && (c = crashlog_get(i)); i++) {
		if (c->oom || (long long)c->when < since || (long long)c->when > now + 5)
			continue;
		if ((c->pid > 0 && ((unsigned long)c->pid == pid ||
		    (unsigned long)c->pid == prevpid)) ||
		    svstat_names_prog(path, run, runlen, c->prog)) {
			copy(prog, size, c->prog);
			return 1;
		}
	}
	return 0;
}

static int
service_cmp(const void *a, const void *b)
{
	return strcmp(((const struct crashlog_service *)a)->path,
	    ((const struct crashlog_service *)b)->path);
}

/* For the crash lines of the kmsg check: the services that were restarting
 * at their last look (a short run, or a restart within SVC_XREF_WINDOW of
 * the crash), each for crashes within SVC_XREF_WINDOW of that look, with
 * their last pid and the programs their directory and run script name. */
static void
publish(const struct memtab *t)
{
	struct crashlog_service *v = calloc(t->n ? t->n : 1, sizeof(*v));
	char run[SVC_RUNMAX], **names = calloc(t->n ? t->n : 1, sizeof(*names));
	size_t i, n = 0, len, size;
	long long last;

	if (!v || !names) {
		crashlog_publish(NULL, 0);
		free(v);
		free(names);
		return;
	}
	for (i = 0; i < t->n; i++) {
		const struct svmem *m = &t->v[i].m;
		struct crashlog_service *s = &v[n];

		if (!m->lastshort && !m->nrecent)
			continue;
		last = m->nrecent ? m->recent[m->nrecent - 1] : 0;
		s->from = (time_t)(m->seen - SVC_XREF_WINDOW);
		s->until = (time_t)(m->seen + SVC_XREF_WINDOW);
		if (!m->lastshort && last + SVC_XREF_WINDOW < (long long)s->until)
			s->until = (time_t)(last + SVC_XREF_WINDOW);
		if (s->until < s->from)
			continue;
		s->path = t->v[i].path;
		s->pid = m->lastpid;
		len = read_run_path(s->path, run, sizeof(run));
		size = strlen(s->path) + 2 * len + 2;
		if (!(names[n] = malloc(size)))
			continue;
		svstat_prog_names(s->path, run, len, names[n], size);
		s->names = names[n];
		n++;
	}
	qsort(v, n, sizeof(*v), service_cmp);
	crashlog_publish(v, n);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(v);
}

/* What the last run, perhaps of an earlier process, saw. */
static void
publish_saved(const struct conf *c)
{
	struct memtab t = { 0 };

	mem_load(c, &t);
	publish(&t);
	mem_free(&t);
}

static void
sample_add(struct svc_run *s, const char *path, int up, unsigned long long total)
{
	struct svc_sample *v;

	if (s->nsamples == s->capsamples) {
		size_t cap = s->capsamples ? s->capsamples * 2 : 32;

		if (!(v = realloc(s->samples, cap * sizeof(*v))))
			return;
		s->samples = v;
		s->capsamples = cap;
	}
	v = &s->samples[s->nsamples];
	if (!(v->path = strdup(path)))
		return;
	v->up = up;
	v->total = total;
	s->nsamples++;
}

/* The metrics' numbers of every service looked at; the line only with -v. */
static void
say_detail(struct svc_run *s, const char *path, const struct obs *o, const struct svmem *m)
{
	struct finding f;
	int up = o->supervised && o->known && o->st.pid;

	sample_add(s, path, up, m->total);
	if (!s->run->verbose)
		return;
	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, SVC_SERVICE);
	finding_add(&f, "path", path);
	finding_add(&f, "state", up ? "up" : "down");
	finding_addu(&f, "pid", up ? o->st.pid : 0);
	finding_addi(&f, "uptime", o->known ? o->age : 0);
	finding_addu(&f, "restarts", m->nrecent);
	finding_addu(&f, "total", m->total);
	if (!o->supervised)
		finding_add(&f, "supervise", "no");
	else if (o->known)
		finding_add(&f, "layout", o->st.layout);
	run_emit(s->run, &f);
}

static void
say_bad_status(struct check_run *run, const char *path, long long size, const char *why)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, SVC_BAD_STATUS);
	finding_add(&f, "service", path);
	finding_subject(&f);
	finding_addi(&f, "size", size);
	finding_add(&f, "reason", why);
	run_emit(run, &f);
}

/* Not running but it should: wanted up for a while, or stopped but normally up.
 * parent: the service whose log this is, when that one is up: log-down. */
static void
say_down(struct svc_run *s, int dir, const char *path, const char *parent, const struct obs *o)
{
	struct finding f;

	if (o->st.pid || !((o->st.want == 'u' && o->age >= (long long)s->cf->minup) ||
	    (o->st.want == 'd' && normally_up(dir))))
		return;
	if (parent) {
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, SVC_LOG_DOWN);
		finding_add(&f, "service", parent);
		finding_subject(&f);
		finding_add(&f, "log", path);
	} else {
		finding_init(&f, LEVEL_CRIT, FINDING_STATE, NULL, SVC_DOWN);
		finding_add(&f, "service", path);
		finding_subject(&f);
	}
	finding_add(&f, "want", o->st.want == 'u' ? "up" : "down");
	finding_addi(&f, "since", o->age);
	run_emit(s->run, &f);
}

/* prevseen, prevpid: the previous look, where a crash read by kmsg may start */
static void
say_flapping(struct check_run *run, int dir, const char *path, const struct obs *o,
    long long prevseen, unsigned long prevpid)
{
	long long since = (long long)run->start - SVC_XREF_WINDOW;
	struct finding f;
	char prog[CRASHLOG_PROG];

	if (!o->j.flapping)
		return;
	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, SVC_FLAPPING);
	finding_add(&f, "service", path);
	finding_subject(&f);
	finding_add(&f, "reason", o->j.reason);
	finding_addi(&f, "uptime", o->st.pid ? o->age : 0);
	finding_addu(&f, "restarts", o->j.restarts);
	if (prevseen && prevseen < since)
		since = prevseen;
	if (crash_of(dir, path, o->st.pid, prevpid, since, (long long)run->start, prog,
	    sizeof(prog)))
		finding_add(&f, "prog", prog);
	run_emit(run, &f);
}

/* warn svc: bad-file service=PATH file=F type=T want=W [links=N]: a file of
 * supervise's that is not what supervise makes; not followed, not read. */
static void
say_bad_file(struct check_run *run, const char *path, const struct refusal *why)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, SVC_BAD_FILE);
	finding_add(&f, "service", path);
	finding_add(&f, "file", why->file);
	finding_subject(&f);
	finding_add(&f, "type", safe_type_name(why->st.st_mode));
	finding_add(&f, "want", why->want);
	if (S_ISREG(why->st.st_mode) && why->st.st_nlink != 1)
		finding_addu(&f, "links", (unsigned long long)why->st.st_nlink);
	run_emit(run, &f);
}

/* warn svc: unreadable service=PATH error=ENAME; a service that could not
 * be looked at for want of permission makes the run could-not-check */
static void
say_unreadable(struct svc_run *s, const char *path, int errnum)
{
	run_emit_about(s->run, LEVEL_WARN, SVC_UNREADABLE, "service", path, errnum);
	if (errnum == EACCES || errnum == EPERM)
		s->denied = 1;
}

/* Looks at one service directory (dir); emits its findings. parent: see say_down. */
static void
look(struct svc_run *s, int dir, const char *path, struct svmem *m, const char *parent,
    struct obs *o)
{
	struct check_run *run = s->run;
	struct refusal ref = { 0 };
	const char *why = "";
	long long size = 0, prevseen;
	unsigned long prevpid;
	int r, sup;

	memset(o, 0, sizeof(*o));
	if ((r = supervised(dir, &sup, &ref)) == -1) {
		say_unreadable(s, path, errno);
		return;
	}
	if (r == -2) {
		say_bad_file(run, path, &ref);
		return;
	}
	if (!(o->supervised = r)) {
		run_emit_about(run, LEVEL_CRIT, SVC_NOT_SUPERVISED, "service", path, 0);
		say_detail(s, path, o, m);
		return;
	}
	r = read_status(sup, &o->st, &size, &why, &ref);
	if (r == -1)
		say_unreadable(s, path, errno);
	close(sup);
	if (r == -1)
		return;
	if (r == -3) {
		say_bad_file(run, path, &ref);
		return;
	}
	if (r == -2) {
		say_bad_status(run, path, size, why);
		return;
	}
	o->known = 1;
	o->age = (long long)run->start - o->st.when;
	if (o->age < 0)
		o->age = 0;
	prevseen = m->seen;
	prevpid = m->lastpid;
	svstat_observe(m, &o->st, (long long)run->start, s->cf->minup, s->cf->restarts, &o->j);
	if (o->st.paused)
		run_emit_about(run, LEVEL_WARN, SVC_PAUSED, "service", path, 0);
	say_down(s, dir, path, parent, o);
	say_flapping(run, dir, path, o, prevseen, prevpid);
	say_detail(s, path, o, m);
}

/* The service's memory for this sweep: the remembered one, or a new one. */
static struct svmem *
recall(struct memtab *old, struct memtab *now, const char *path)
{
	struct mem key = { .path = (char *)path }, *e;
	static const struct svmem zero;

	e = old->n ? bsearch(&key, old->v, old->n, sizeof(old->v[0]), mem_cmp) : NULL;
	e = mem_add(now, path, strlen(path), e ? &e->m : &zero);
	return e ? &e->m : NULL;
}

static void
look_service(struct svc_run *s, int dir, const char *path)
{
	char logpath[PATH_MAX + 8];
	struct svmem scratch = { 0 }, *m;
	struct refusal ref = { .file = "log" };
	struct obs o, lo;
	int up, log;

	m = recall(&s->old, &s->now, path);
	look(s, dir, path, m ? m : &scratch, NULL, &o);
	if (strlen(path) + sizeof("/log") > sizeof(logpath))
		return;
	copy(logpath, sizeof(logpath), path);
	strcat(logpath, "/log");
	if ((log = open_subdir(dir, "log", &ref)) == -2) {
		say_bad_file(s->run, path, &ref);
		return;
	}
	if (log < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			say_unreadable(s, logpath, errno);
		return;
	}
	up = o.supervised && o.known && o.st.pid;
	memset(&scratch, 0, sizeof(scratch));
	m = recall(&s->old, &s->now, logpath);
	look(s, log, logpath, m ? m : &scratch, up ? path : NULL, &lo);
	close(log);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of MAINTD_SERVICES, sorted, as svscan sees them (no dot files). */
static char **
list_services(struct check_run *run, const char *services, size_t *np, int *err)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, extra = 0;
	struct dirent *d;
	DIR *dir;

	if (!(dir = opendir(services))) {
		*err = errno;
		return NULL;
	}
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (n == SVC_MAXSERVICES) {
			extra++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if (!(nv = realloc(v, cap * sizeof(*v))))
				break;
			v = nv;
		}
		if (!(v[n] = strdup(d->d_name)))
			break;
		n++;
	}
	closedir(dir);
	if (extra) {
		struct finding f;

		finding_init(&f, LEVEL_WARN, FINDING_NOTE, NULL, SVC_TOO_MANY);
		finding_addu(&f, "limit", SVC_MAXSERVICES);
		finding_addu(&f, "ignored", extra);
		run_emit(run, &f);
	}
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	*np = n;
	return v;
}

static void
skipped(struct check_run *run, const char *path)
{
	struct finding f;

	if (!run->verbose)
		return;
	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, SVC_SKIPPED);
	finding_add(&f, "path", path);
	finding_add(&f, "reason", "not-a-directory");
	run_emit(run, &f);
}

/* SVC_SLICE services, then the loop serves the others; the last slice saves
 * the state and publishes what it saw for the kmsg check. */
static void
svc_slice(struct check_run *run)
{
	struct svc_run *s = run->state;
	char path[PATH_MAX + 8];
	struct stat sb;
	size_t end;
	int dir;

	for (;;) {
		end = s->n - s->next > SVC_SLICE ? s->next + SVC_SLICE : s->n;
		for (; s->next < end; s->next++) {
			snprintf(path, sizeof(path), "%s/%s", s->cf->services, s->names[s->next]);
			/* MAINTD_SERVICES is the administrator's: its links are followed */
			if (stat(path, &sb) < 0)
				say_unreadable(s, path, errno);
			else if (!S_ISDIR(sb.st_mode))
				skipped(run, path);
			else if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				say_unreadable(s, path, errno);
			else {
				look_service(s, dir, path);
				close(dir);
			}
		}
		if (s->next == s->n)
			break;
		if (run_yield(run, svc_slice) == 0)
			return;
		/* no timer: the rest now */
	}
	if (s->now.failed)	/* some services are forgotten */
		run_emit_about(run, LEVEL_WARN, SVC_STATE_ERROR, "file", SVC_STATEFILE, ENOMEM);
	mem_save(run, &s->now);
	publish(&s->now);
	run_done(run, s->denied ? CHECK_FAILED : CHECK_OK);
}

static void
svc_start(struct check_run *run)
{
	struct svc_run *s = run->state;
	int err = 0;

	s->run = run;
	s->cf = run->config;
	if (!(s->names = list_services(run, s->cf->services, &s->n, &err)) && err) {
		run_emit_about(run, LEVEL_WARN, SVC_UNREADABLE, "service", s->cf->services, err);
		run_done(run, CHECK_FAILED);
		return;
	}
	mem_load(run->conf, &s->old);
	svc_slice(run);
}

static void
svc_cleanup(struct check_run *run)
{
	struct svc_run *s = run->state;
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	mem_free(&s->old);
	mem_free(&s->now);
	for (i = 0; i < s->nsamples; i++)
		free(s->samples[i].path);
	free(s->samples);
}

static void
svc_samples(const struct check_run *run, struct metrics *m)
{
	const struct svc_run *s = run->state;
	size_t i;

	for (i = 0; i < s->nsamples; i++) {
		metrics_set(m, FAM_UP, s->samples[i].path, NULL, s->samples[i].up);
		/* a counter by type; its value is this check's own running total */
		metrics_set(m, FAM_RESTARTS, s->samples[i].path, NULL, (double)s->samples[i].total);
	}
}

const struct check check_svc = {
	.name = "svc",
	.interval = 60,
	.timeout = 60,
	.vars = svc_vars,
	.events = svc_events,
	.configure = svc_configure,
	.run_size = sizeof(struct svc_run),
	.start = svc_start,
	.cleanup = svc_cleanup,
	.metrics = svc_metrics,
	.samples = svc_samples,
	.after = "kmsg",	/* the crashes of this sweep are read first */
};
