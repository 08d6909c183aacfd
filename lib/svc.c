#include "svc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmsg.h"
#include "svstat.h"

static const struct confvar var_services = { "MAINTD_SERVICES", "/service" };
static const struct confvar var_minup = { "MAINTD_SVC_MINUP", "10" };
static const struct confvar var_restarts = { "MAINTD_SVC_RESTARTS", "5" };
static const struct confvar *const svc_vars[] = {
	&var_services, &var_minup, &var_restarts, NULL
};
static const char *const svc_events[] = {
	SVC_NOT_SUPERVISED, SVC_DOWN, SVC_PAUSED, SVC_FLAPPING, SVC_LOG_DOWN,
	SVC_UNREADABLE, SVC_BAD_STATUS, SVC_TOO_MANY, SVC_STATE_ERROR,
	SVC_SERVICE, SVC_SKIPPED, NULL
};

#define SVC_STATEFILE "svc.state"
#define SVC_STATEMAX (8 << 20)	/* a larger state file is not read */

static struct {
	char services[PATH_MAX];
	unsigned long minup, restarts;
} cf;

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

static int
svc_configure(const struct conf *c, struct conf_err *err)
{
	const char *dir = conf_value(&var_services);
	unsigned long minup, restarts;
	size_t n = strlen(dir);

	(void)c;
	if (n >= sizeof(cf.services) - 64)
		return conf_set_err(err, var_services.name, dir, "too-long");
	/* all or nothing: on SIGHUP a bad value keeps the previous ones */
	if (conf_ulong(&var_minup, 1, 86400, &minup, err) < 0 ||
	    conf_ulong(&var_restarts, 1, SVMEM_RECENT - 1, &restarts, err) < 0)
		return -1;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	memcpy(cf.services, dir, n);
	cf.services[n] = 0;
	cf.minup = minup;
	cf.restarts = restarts;
	return 0;
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

static const char *
errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "unknown";
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

static void
statefile(const struct conf *c, char *buf, size_t size, const char *suffix)
{
	snprintf(buf, size, "%s/%s%s", c->state, SVC_STATEFILE, suffix);
}

/* Reads a small file, at most size bytes; their number, or -1 (errno set).
 * *whole: the file's size, when wanted. */
static ssize_t
read_small(const char *path, char *buf, size_t size, long long *whole)
{
	struct stat sb;
	ssize_t r;
	size_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -1;
	if (whole)
		*whole = fstat(fd, &sb) == 0 ? (long long)sb.st_size : 0;
	while (n < size && (r = read(fd, buf + n, size - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	return (ssize_t)n;
}

static void
mem_load(const struct conf *c, struct memtab *t)
{
	char path[PATH_MAX + 32];
	struct stat st;
	ssize_t n;
	char *buf;

	statefile(c, path, sizeof(path), "");
	if (stat(path, &st) < 0 || st.st_size > SVC_STATEMAX || !(buf = malloc((size_t)st.st_size + 1)))
		return;
	n = read_small(path, buf, (size_t)st.st_size, NULL);
	if (n > 0)
		svstat_mem_parse(buf, (size_t)n, on_mem, t);
	free(buf);
	if (t->n)
		qsort(t->v, t->n, sizeof(t->v[0]), mem_cmp);
}

static void
say_state_error(struct sweep *sw, const char *file, int e)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, SVC_STATE_ERROR);
	finding_add(&f, "file", file);
	finding_subject(&f);
	finding_add(&f, "error", errname(e));
	sweep_emit(sw, &f);
}

/* Written to a temporary file and renamed: never half a state. */
static void
mem_save(struct sweep *sw, const struct memtab *t)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32], line[2 * PATH_MAX];
	size_t i, n;
	FILE *fp;
	int e;

	statefile(sw->conf, path, sizeof(path), "");
	statefile(sw->conf, tmp, sizeof(tmp), ".tmp");
	if (!(fp = fopen(tmp, "we"))) {
		say_state_error(sw, tmp, errno);
		return;
	}
	fputs(SVSTAT_HEADER, fp);
	for (i = 0; i < t->n; i++)
		if ((n = svstat_mem_format(line, sizeof(line), t->v[i].path, &t->v[i].m)))
			fwrite(line, 1, n, fp);
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) < 0) {
		e = errno;
		fclose(fp);
		unlink(tmp);
		say_state_error(sw, tmp, e);
		return;
	}
	fclose(fp);
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		say_state_error(sw, path, e);
	}
}

static void
emit_service(struct sweep *sw, enum level level, const char *event, const char *path)
{
	struct finding f;

	finding_init(&f, level, FINDING_STATE, NULL, event);
	finding_add(&f, "service", path);
	finding_subject(&f);
	sweep_emit(sw, &f);
}

static void
emit_error(struct sweep *sw, const char *event, const char *path, const char *k, const char *v)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, event);
	finding_add(&f, "service", path);
	finding_subject(&f);
	finding_add(&f, k, v);
	sweep_emit(sw, &f);
}

/* svok: supervise holds supervise/ok open for reading while it runs.
 * 1 running, 0 not, -1 could not tell (errno set). */
static int
supervised(const char *dir)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/supervise/ok", dir);
	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENXIO || errno == ENOENT ? 0 : -1;
}

/* supervise/status, else runit's stat and pid. 0, -1 (errno set), -2 (*why set). */
static int
read_status(const char *dir, struct svstat *st, long long *size, const char **why)
{
	char path[PATH_MAX + 32], buf[SVSTAT_ENCORE_LOG + 1], pid[64];
	struct stat sb;
	ssize_t n, pn;

	snprintf(path, sizeof(path), "%s/supervise/status", dir);
	if ((n = read_small(path, buf, sizeof(buf), size)) >= 0) {
		if (svstat_decode(buf, (size_t)n, st, why) < 0)
			return -2;
		/* runsv writes the same 20 bytes as encore's supervise, and its text files */
		snprintf(path, sizeof(path), "%s/supervise/stat", dir);
		if (n == SVSTAT_ENCORE && stat(path, &sb) == 0)
			st->layout = "runit";
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	snprintf(path, sizeof(path), "%s/supervise/stat", dir);
	if (stat(path, &sb) < 0 || (n = read_small(path, buf, sizeof(buf), size)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/supervise/pid", dir);
	if ((pn = read_small(path, pid, sizeof(pid), NULL)) < 0)
		return -1;
	return svstat_runit(buf, (size_t)n, pid, (size_t)pn, (long long)sb.st_mtime, st, why) < 0 ?
	    -2 : 0;
}

static int
normally_up(const char *dir)
{
	char path[PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/down", dir);
	return stat(path, &sb) < 0 && errno == ENOENT;
}

/* The first bytes of the service's run script, for the program names in it. */
static size_t
read_run(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX + 8];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/run", dir);
	n = read_small(path, buf, size, NULL);
	return n > 0 ? (size_t)n : 0;
}

/* A crash the kmsg check read since the previous look at the service (at
 * least SVC_XREF_WINDOW back) of one of its pids or of its program. */
static int
crash_of(const char *path, unsigned long pid, unsigned long prevpid, long long since,
    long long now, char *prog, size_t size)
{
	static struct kmsg_crash c[64];
	char run[4096];
	size_t runlen = read_run(path, run, sizeof(run));
	unsigned i, n = kmsg_recent(c, 64);

	for (i = 0; i < n; i++) {
		if (c[i].oom || (long long)c[i].when < since || (long long)c[i].when > now + 5)
			continue;
		if ((c[i].pid > 0 && ((unsigned long)c[i].pid == pid ||
		    (unsigned long)c[i].pid == prevpid)) ||
		    svstat_names_prog(path, run, runlen, c[i].prog)) {
			copy(prog, size, c[i].prog);
			return 1;
		}
	}
	return 0;
}

static int
restarting(const struct svmem *m, time_t when)
{
	return m->lastshort || (m->nrecent && m->recent[m->nrecent - 1] >= (long long)when - SVC_XREF_WINDOW);
}

/* The state file as last read, for svc_service_of: a backlog of crashes
 * must not read it once each. */
static struct {
	struct memtab t;
	struct stat st;
	int valid;
} xref;

static const struct memtab *
xref_load(const struct conf *c)
{
	char path[PATH_MAX + 32];
	struct stat st;

	statefile(c, path, sizeof(path), "");
	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (xref.valid && st.st_ino == xref.st.st_ino && st.st_dev == xref.st.st_dev &&
	    st.st_size == xref.st.st_size && st.st_mtim.tv_sec == xref.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == xref.st.st_mtim.tv_nsec)
		return &xref.t;
	mem_free(&xref.t);
	mem_load(c, &xref.t);
	xref.st = st;
	xref.valid = 1;
	return &xref.t;
}

int
svc_service_of(const struct conf *c, const char *prog, long pid, time_t when,
    char *path, size_t size)
{
	const struct memtab *t = xref_load(c);
	char run[4096];
	size_t i, runlen;

	for (i = 0; i < t->n; i++) {
		const struct svmem *m = &t->v[i].m;

		if (!restarting(m, when) || (long long)when < m->seen - SVC_XREF_WINDOW ||
		    (long long)when > m->seen + SVC_XREF_WINDOW)
			continue;
		runlen = read_run(t->v[i].path, run, sizeof(run));
		if ((pid > 0 && (unsigned long)pid == m->lastpid) ||
		    svstat_names_prog(t->v[i].path, run, runlen, prog)) {
			copy(path, size, t->v[i].path);
			return 1;
		}
	}
	return 0;
}

static void
say_detail(struct sweep *sw, const char *path, const struct obs *o, const struct svmem *m)
{
	struct finding f;
	int up = o->supervised && o->known && o->st.pid;

	/* always built: the metrics take qmail_svc_up and the restart counter from it */
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
	sweep_emit(sw, &f);
}

static void
say_bad_status(struct sweep *sw, const char *path, long long size, const char *why)
{
	struct finding f;

	finding_init(&f, LEVEL_WARN, FINDING_STATE, NULL, SVC_BAD_STATUS);
	finding_add(&f, "service", path);
	finding_subject(&f);
	finding_addi(&f, "size", size);
	finding_add(&f, "reason", why);
	sweep_emit(sw, &f);
}

/* Not running but it should: wanted up for a while, or stopped but normally up.
 * parent: the service whose log this is, when that one is up: log-down. */
static void
say_down(struct sweep *sw, const char *path, const char *parent, const struct obs *o)
{
	struct finding f;

	if (o->st.pid || !((o->st.want == 'u' && o->age >= (long long)cf.minup) ||
	    (o->st.want == 'd' && normally_up(path))))
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
	sweep_emit(sw, &f);
}

/* prevseen, prevpid: the previous look, where a crash read by kmsg may start */
static void
say_flapping(struct sweep *sw, const char *path, const struct obs *o, long long prevseen,
    unsigned long prevpid)
{
	long long since = (long long)sw->start - SVC_XREF_WINDOW;
	struct finding f;
	char prog[64];

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
	if (crash_of(path, o->st.pid, prevpid, since, (long long)sw->start, prog, sizeof(prog)))
		finding_add(&f, "prog", prog);
	sweep_emit(sw, &f);
}

/* Looks at one service directory; emits its findings. parent: see say_down. */
static void
look(struct sweep *sw, const char *path, struct svmem *m, const char *parent, struct obs *o)
{
	const char *why = "";
	long long size = 0, prevseen;
	unsigned long prevpid;
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = supervised(path)) < 0) {
		emit_error(sw, SVC_UNREADABLE, path, "error", errname(errno));
		return;
	}
	if (!(o->supervised = r)) {
		emit_service(sw, LEVEL_CRIT, SVC_NOT_SUPERVISED, path);
		say_detail(sw, path, o, m);
		return;
	}
	if ((r = read_status(path, &o->st, &size, &why)) == -1) {
		emit_error(sw, SVC_UNREADABLE, path, "error", errname(errno));
		return;
	}
	if (r == -2) {
		say_bad_status(sw, path, size, why);
		return;
	}
	o->known = 1;
	o->age = (long long)sw->start - o->st.when;
	if (o->age < 0)
		o->age = 0;
	prevseen = m->seen;
	prevpid = m->lastpid;
	svstat_observe(m, &o->st, (long long)sw->start, cf.minup, cf.restarts, &o->j);
	if (o->st.paused)
		emit_service(sw, LEVEL_WARN, SVC_PAUSED, path);
	say_down(sw, path, parent, o);
	say_flapping(sw, path, o, prevseen, prevpid);
	say_detail(sw, path, o, m);
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
look_service(struct sweep *sw, const char *path, struct memtab *old, struct memtab *now)
{
	char logpath[PATH_MAX + 8];
	struct svmem scratch = { 0 }, *m;
	struct stat sb;
	struct obs o, lo;
	int up;

	m = recall(old, now, path);
	look(sw, path, m ? m : &scratch, NULL, &o);
	if (strlen(path) + sizeof("/log") > sizeof(logpath))
		return;
	copy(logpath, sizeof(logpath), path);
	strcat(logpath, "/log");
	if (stat(logpath, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return;
	up = o.supervised && o.known && o.st.pid;
	memset(&scratch, 0, sizeof(scratch));
	m = recall(old, now, logpath);
	look(sw, logpath, m ? m : &scratch, up ? path : NULL, &lo);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of MAINTD_SERVICES, sorted, as svscan sees them (no dot files). */
static char **
list_services(struct sweep *sw, size_t *np, int *err)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, extra = 0;
	struct dirent *d;
	DIR *dir;

	if (!(dir = opendir(cf.services))) {
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
		sweep_emit(sw, &f);
	}
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	*np = n;
	return v;
}

static void
skipped(struct sweep *sw, const char *path)
{
	struct finding f;

	if (!sw->verbose)
		return;
	finding_init(&f, LEVEL_INFO, FINDING_DETAIL, NULL, SVC_SKIPPED);
	finding_add(&f, "path", path);
	finding_add(&f, "reason", "not-a-directory");
	sweep_emit(sw, &f);
}

static void
svc_start(struct sweep *sw)
{
	struct memtab old = { 0 }, now = { 0 };
	char path[PATH_MAX + 8];
	struct stat sb;
	char **names;
	size_t n = 0, i;
	int err = 0;

	if (!(names = list_services(sw, &n, &err)) && err) {
		emit_error(sw, SVC_UNREADABLE, cf.services, "error", errname(err));
		sweep_done(sw, CHECK_FAILED);
		return;
	}
	mem_load(sw->conf, &old);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", cf.services, names[i]);
		if (stat(path, &sb) < 0)
			emit_error(sw, SVC_UNREADABLE, path, "error", errname(errno));
		else if (!S_ISDIR(sb.st_mode))
			skipped(sw, path);
		else
			look_service(sw, path, &old, &now);
		free(names[i]);
	}
	free(names);
	if (now.failed)
		say_state_error(sw, SVC_STATEFILE, ENOMEM);	/* some services are forgotten */
	mem_save(sw, &now);
	mem_free(&old);
	mem_free(&now);
	sweep_done(sw, CHECK_OK);
}

const struct check check_svc = {
	.name = "svc",
	.interval = 60,
	.timeout = 60,
	.vars = svc_vars,
	.events = svc_events,
	.configure = svc_configure,
	.start = svc_start,
	.cancel = NULL,
	.after = "kmsg",	/* the crashes of this sweep are read first */
};
