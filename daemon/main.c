/* qmail-maintd: the process. argv, configuration, the state lock, signals,
 * the per-check timers and the one-shot mode. Everything else is in lib/. */
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <getopt.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "checks.h"
#include "config.h"
#include "hash.h"
#include "logline.h"
#include "metrics.h"
#include "out.h"
#include "probe.h"
#include "queue_shape.h"
#include "safefile.h"
#include "status.h"
#include "sweep.h"

#define EXIT_TEMP 111
#define EXIT_USAGE 100

static struct {
	struct event_base *base;
	struct config cf;
	struct sweep sweep;
	struct event *timer[CONF_MAXCHECKS];
	struct event *kick;
	unsigned char due[CONF_MAXCHECKS];
	const char *forced;	/* a sweep-now request not served yet */
	int oneshot;
	int nagios;		/* -N: a plugin status line first */
	int status;		/* -s */
	int qshape;		/* -q: the queue's shape by destination, for people */
	int statefd;		/* MAINTD_STATE, open: the status file is replaced in it */
	time_t start;		/* of this process, for the status file */
	time_t last[CONF_MAXCHECKS];	/* when each check's last run ended */
	int result[CONF_MAXCHECKS];	/* enum status_result */
	int verbose;		/* -v */
	const char *only;	/* -C */
	unsigned long timeout;	/* -t */
	const char *promarg;	/* -P */
	char tmpstate[PATH_MAX];	/* -1's private state directory, or "" */
	int have_env;		/* ./env existed at start: envdir's */
	unsigned long long env_digest;	/* of its files then */
	const char *promfile;	/* MAINTD_PROMFILE, or NULL */
	char promdir[PATH_MAX];	/* its directory */
	const char *promname;	/* its name there */
	struct probe *probe;
	char proberoot[PATH_MAX];
} d;

/* A line of the daemon's own: a finding of the check "maintd". */
static void
say(enum level level, const char *event, const char *k1, const char *v1,
    const char *k2, const char *v2, const char *k3, const char *v3)
{
	struct finding f;

	finding_init(&f, level, FINDING_NOTE, "maintd", event);
	if (k1)
		finding_add(&f, k1, v1);
	if (k2)
		finding_add(&f, k2, v2);
	if (k3)
		finding_add(&f, k3, v3);
	sweep_say(&f);
}

static const char *
errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "unknown";
}

static void
say_config_err(enum level level, const struct conf_err *err)
{
	if (err->errnum)
		say(level, "bad-config", "var", err->var, "value", err->value, "error",
		    errname(err->errnum));
	else
		say(level, "bad-config", "var", err->var, "value", err->value, "reason",
		    err->reason);
}

/* As a plugin (-N) a refused start is UNKNOWN, with a status line first. */
static void
fatal_begin(const char *event)
{
	char line[128];
	int n;

	if (!d.nagios)
		return;
	n = snprintf(line, sizeof(line), "QMAIL-MAINTD UNKNOWN - cannot start: %s\n", event);
	if (write(1, line, (size_t)n) < 0)
		return;
}

static int
fatal_status(void)
{
	return d.nagios ? STATUS_UNKNOWN : EXIT_TEMP;
}

static void __attribute__((noreturn))
fatal_config(const struct conf_err *err)
{
	fatal_begin("bad-config");
	say_config_err(LEVEL_FATAL, err);
	exit(fatal_status());
}

static void __attribute__((noreturn))
fatal(const char *event, const char *k1, const char *v1, const char *k2, const char *v2)
{
	fatal_begin(event);
	say(LEVEL_FATAL, event, k1, v1, k2, v2, NULL, NULL);
	exit(fatal_status());
}

/* libevent's own complaints (a pipe it could not make, say) go to the log
 * in its grammar, not raw to stderr, which run sends to the same log. */
static void
libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		say(LEVEL_WARN, "libevent", "severity", severity == EVENT_LOG_WARN ? "warn" : "err",
		    "msg", msg, NULL, NULL);
}

/* libevent gives up (an internal error): a log line and exit 111, not its exit(1) */
static void __attribute__((noreturn))
libevent_fatal(int err)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", err);
	fatal("libevent", "error", buf, NULL, NULL);
}

static const char usage_text[] =
    "usage: qmail-maintd [-v] [-C check,...]              the daemon, under supervise\n"
    "       qmail-maintd -1 [-N] [-v] [-C check,...] [-t seconds] [-P file] [-w n] [-c n]\n"
    "                                                     one sweep, exit 0-3\n"
    "       qmail-maintd -s [-N] [-t seconds]             what the running daemon found\n"
    "       qmail-maintd -q                               the queue by destination and age (qshape)\n"
    "       qmail-maintd -V | --version | -h | --help\n"
    "  -1  one sweep, then exit 0 ok, 1 warning, 2 critical, 3 unknown\n"
    "  -N  as a Nagios/Icinga plugin: a status line with perfdata first (implies -1 unless -s)\n"
    "  -s  read $MAINTD_STATE/status of the running daemon (any user, no sweep)\n"
    "  -C  only these checks\n"
    "  -t  --timeout: the whole run at most this many seconds (UNKNOWN after)\n"
    "  -P  -1: write the Prometheus metrics to this file (MAINTD_PROMFILE is the daemon's)\n"
    "  -w -c  -1: warn/crit above this many queued messages (MAINTD_QUEUE_WARN/CRIT)\n"
    "  -v  also the detail lines\n"
    "See qmail-maintd(8).\n";

/* --help: the usage on stdout, exit 0 (the Monitoring Plugins' rule). */
static void __attribute__((noreturn))
help(void)
{
	fputs(usage_text, stdout);
	exit(0);
}

/* A usage error: as a plugin (-N) UNKNOWN with a status line, exit 3; else
 * djb's 100 with the usage on stderr. */
static void __attribute__((noreturn))
usage(const char *what)
{
	if (d.nagios) {
		printf("QMAIL-MAINTD UNKNOWN - usage: %s (see --help)\n", what);
		exit(STATUS_UNKNOWN);
	}
	fprintf(stderr, "qmail-maintd: %s\n%s", what, usage_text);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn))
fatal_var(const struct confvar *var, const char *value, const char *reason, int e)
{
	struct conf_err err;

	if (e)
		conf_set_errno(&err, var->name, value, e);
	else
		conf_set_err(&err, var->name, value, reason);
	fatal_config(&err);
}

static void __attribute__((noreturn))
fatal_state(int e)
{
	fatal_var(&conf_state, d.cf.conf.state, NULL, e);
}

/* The state directory exists, is this account's alone (owned by it, not
 * writable by group or others), and this process alone uses it. */
static void
lock_state(void)
{
	static const struct safe_want lockfile = { .type = S_IFREG, .one_link = 1 };
	const char *state = d.cf.conf.state;
	struct safe_want want = lockfile;
	struct stat st;
	int dir, fd, v;

	if ((dir = safe_state_dir(state)) < 0)
		fatal_state(errno);
	want.uid = (int)geteuid();
	if ((fd = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0600)) < 0)
		fatal_state(errno);
	if ((v = safe_check(fd, &want, &st)) != SAFE_OK)
		fatal_state(v < 0 ? errno : ELOOP);
	d.statefd = dir;	/* kept: the status file is replaced in it */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			fatal("already-running", "state", state, "use", "qmail-maintd -s");
		fatal_state(errno);
	}
	/* fd stays open: the lock lives as long as the process */
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* FNV-1a over the names and contents of ./env's files (envdir's, read by
 * the run script at start): -1 when there is no ./env. */
static int
env_digest(unsigned long long *h)
{
	struct dirent **ent;
	char buf[4096];
	int n, i, fd, dir;
	ssize_t r;

	if ((dir = open("env", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if ((n = scandirat(dir, ".", &ent, NULL, by_name)) < 0) {
		close(dir);
		return -1;
	}
	*h = FNV1A_INIT;
	for (i = 0; i < n; i++) {
		*h = fnv1a(*h, ent[i]->d_name, strlen(ent[i]->d_name) + 1);
		if (ent[i]->d_name[0] != '.' &&
		    (fd = openat(dir, ent[i]->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) >= 0) {
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				*h = fnv1a(*h, buf, (size_t)r);
			close(fd);
		}
		free(ent[i]);
	}
	free(ent);
	close(dir);
	return 0;
}

/* The environment is envdir's at start: a changed ./env needs svc -t, and
 * SIGHUP says so rather than seem to apply it. */
static void
say_env_changed(void)
{
	unsigned long long h;

	if (d.have_env && env_digest(&h) == 0 && h != d.env_digest)
		say(LEVEL_WARN, "env-changed", "action", "svc -t", NULL, NULL, NULL, NULL);
}

/* control files and the checks' own settings, again (SIGHUP): all or
 * nothing; the probe process starts again with what is new */
static void
reload(void)
{
	struct conf_err err;

	say_env_changed();
	if (config_reload(&d.cf, &err) < 0)
		say_config_err(LEVEL_WARN, &err);
	else if (d.probe)
		probe_restart(d.probe);
}

/* Starts the next sweep if one is owed and none is running. */
static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	unsigned char which[CONF_MAXCHECKS] = { 0 };
	unsigned i, n = 0;

	(void)fd;
	(void)what;
	(void)arg;
	if (sweep_busy(&d.sweep))
		return;
	if (d.forced) {
		const char *reason = d.forced;

		d.forced = NULL;
		memset(d.due, 0, sizeof(d.due));
		if (strcmp(reason, "hup") == 0 || strcmp(reason, "alrm") == 0)
			reload();
		sweep_start(&d.sweep, reason, 1, d.cf.conf.enabled);
		return;
	}
	for (i = 0; i < d.cf.conf.nchecks; i++) {
		which[i] = d.due[i] && d.cf.conf.enabled[i];
		n += which[i];
	}
	memset(d.due, 0, sizeof(d.due));
	if (n)
		sweep_start(&d.sweep, "timer", 0, which);
}

static void
kick(void)
{
	event_active(d.kick, EV_TIMEOUT, 0);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	d.due[(unsigned)(size_t)arg] = 1;
	kick();
}

static int
status_each(unsigned check, const char *word, enum level level, const char *event,
    const char *subject, time_t first, void *arg)
{
	struct status_finding f = { word, event, level, first, subject };

	(void)check;
	status_add(arg, &f);
	return 0;
}

/* $MAINTD_STATE/status, for qmail-maintd -s: the daemon's, never -1's. */
static void
write_status(void)
{
	struct status_check c[CONF_MAXCHECKS];
	struct status_out *o;
	unsigned i, n = 0;

	if (d.oneshot)
		return;
	for (i = 0; i < d.cf.conf.nchecks; i++)
		if (d.cf.conf.enabled[i])
			c[n++] = (struct status_check){ d.cf.conf.checks[i]->name, d.last[i],
			    d.result[i], d.cf.conf.check_interval[i], d.cf.conf.check_timeout[i] };
	if ((o = status_begin(getpid(), d.start, time(NULL), c, n)))
		active_foreach(d.sweep.active, status_each, o);
	if (status_commit(o, d.statefd) < 0)
		say(LEVEL_WARN, "status-error", "file", "status", "error", errname(errno),
		    NULL, NULL);
}

static void
on_check_done(struct sweep *r, unsigned i, void *arg)
{
	struct timeval tv = { (time_t)d.cf.conf.check_interval[i], 0 };

	(void)arg;
	d.last[i] = time(NULL);
	d.result[i] = r->run[i].failed ? STATUS_RESULT_FAILED : STATUS_RESULT_OK;
	write_status();
	if (!d.oneshot)
		evtimer_add(d.timer[i], &tv);
}

/* The metrics file after every sweep: whole, by rename, or not at all; in
 * its directory opened anew (never through a link), never through a name
 * planted there. */
static void
write_promfile(void)
{
	int dir, r = -1;

	if (!d.promfile)
		return;
	if ((dir = open(d.promdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		r = metrics_write(d.sweep.metrics, dir, d.promname);
		close(dir);
	}
	if (r < 0)
		say(LEVEL_WARN, "promfile-error", "file", d.promfile, "error", errname(errno),
		    NULL, NULL);
}

/* Said once: others can plant names there (a node_exporter directory that
 * belongs to prometheus); only the exclusive temporary file is written. */
static void
warn_promdir(const struct stat *st)
{
	char uid[24], mode[8];

	if (st->st_uid == geteuid() && !(st->st_mode & 022))
		return;
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)st->st_uid);
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(st->st_mode & 07777));
	say(LEVEL_WARN, "promdir-writable", "dir", d.promdir, "uid", uid, "mode", mode);
}

/* MAINTD_PROMFILE (the daemon's) or -P (a -1 run's, which never touches the
 * daemon's): empty (off), or a file in an existing directory. */
static void
load_promfile(struct stat *st)
{
	const char *v = d.oneshot ? (d.promarg ? d.promarg : "") : conf_value(&conf_promfile);
	const char *var = d.oneshot ? "-P" : conf_promfile.name, *slash;
	char *dir = d.promdir;
	struct conf_err err;

	if (!*v)
		return;
	if (strlen(v) >= sizeof(d.promdir) - 16)
		fatal_config((conf_set_err(&err, var, v, "too-long"), &err));
	snprintf(dir, sizeof(d.promdir), "%s", v);
	if (!(slash = strrchr(v, '/'))) {
		snprintf(dir, sizeof(d.promdir), ".");
		d.promname = v;
	} else {
		dir[slash == v ? 1 : slash - v] = 0;
		d.promname = slash + 1;
	}
	if (!*d.promname || lstat(dir, st) < 0)
		fatal_config((conf_set_err(&err, var, v, "missing"), &err));
	if (!S_ISDIR(st->st_mode))	/* a link is not followed: say which */
		fatal_config((conf_set_err(&err, var, v,
		    S_ISLNK(st->st_mode) ? "symlink" : "not-a-directory"), &err));
	d.promfile = v;
}

static int
needs_probe(void)
{
	unsigned i;

	for (i = 0; i < d.cf.conf.nchecks; i++)
		if (d.cf.conf.enabled[i] && d.cf.conf.checks[i]->where == CHECK_PROBE)
			return 1;
	return 0;
}


/* The empty directory the probe process chroots to: made if missing, root's,
 * writable by no one else, empty. */
static void
probe_root(void)
{
	static const struct safe_want want = { .type = S_IFDIR, .uid = 0, .not_writable = 1 };
	const char *v = conf_value(&conf_proberoot);
	struct stat st;
	int fd, r, n = 0;
	DIR *dir;

	if (*v)
		snprintf(d.proberoot, sizeof(d.proberoot), "%s", v);
	else if ((size_t)snprintf(d.proberoot, sizeof(d.proberoot), "%s/empty", d.cf.conf.state) >=
	    sizeof(d.proberoot))
		fatal_var(&conf_proberoot, d.proberoot, "too-long", 0);
	if (mkdir(d.proberoot, 0755) < 0 && errno != EEXIST)
		fatal_var(&conf_proberoot, d.proberoot, NULL, errno);
	if ((fd = open(d.proberoot, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		fatal_var(&conf_proberoot, d.proberoot, NULL, errno);
	if ((r = safe_check(fd, &want, &st)) != SAFE_OK)
		fatal_var(&conf_proberoot, d.proberoot, r == SAFE_OWNER ? "not-root" :
		    r == SAFE_WRITABLE ? "writable" : "not-a-directory", 0);
	if (!(dir = fdopendir(fd)))
		fatal_var(&conf_proberoot, d.proberoot, NULL, errno);
	while (readdir(dir))
		n++;
	closedir(dir);
	if (n != 2)	/* . and .. */
		fatal_var(&conf_proberoot, d.proberoot, "not-empty", 0);
}

/* MAINTD_PROBEUSER, when the daemon is root: an account that exists and is
 * not root. As another user there is nothing to drop. */
static void
probe_account(struct probe_account *a)
{
	const char *user = conf_value(&conf_probeuser);
	struct passwd *pw;

	memset(a, 0, sizeof(*a));
	if (geteuid() != 0)
		return;
	if (!(pw = getpwnam(user)))
		fatal_var(&conf_probeuser, user, "unknown-account", 0);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		fatal_var(&conf_probeuser, user, "root", 0);
	probe_root();
	a->drop = 1;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	a->root = d.proberoot;
}

static void
start_probe(void)
{
	struct probe_account a;

	if (!needs_probe())
		return;
	tzset();	/* glibc opens /etc/localtime at the first gmtime: not in the chroot */
	probe_account(&a);
	if (!(d.probe = probe_new(d.base, &d.cf, &a, d.statefd, sweep_say)))
		fatal("no-memory", NULL, NULL, NULL, NULL);
	d.sweep.probe = d.probe;
}

/* The daemon's families, then every check's, in the table's order. */
static void
new_metrics(void)
{
	unsigned i;

	if (!(d.sweep.metrics = metrics_new()))
		fatal("no-memory", NULL, NULL, NULL, NULL);
	for (i = 0; i < d.cf.conf.nchecks; i++)
		if (metrics_register(d.sweep.metrics, d.cf.conf.checks[i]->metrics) < 0)
			fatal("no-memory", NULL, NULL, NULL, NULL);
}

static void
on_sweep_done(struct sweep *r, void *arg)
{
	(void)r;
	(void)arg;
	write_promfile();
	if (d.oneshot) {
		event_base_loopbreak(d.base);
		return;
	}
#ifdef __GLIBC__
	/* a sweep's buffers (the CA store, directory listings) are freed by now:
	 * give the pages back rather than sit on them until the next sweep */
	malloc_trim(0);
#endif
	kick();
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		if (!d.forced)
			d.forced = "hup";
		kick();
		break;
	case SIGALRM:
		if (!d.forced)
			d.forced = "alrm";
		kick();
		break;
	default:
		sweep_cancel(&d.sweep);
		say(LEVEL_INFO, "exiting", "signal", sig == SIGTERM ? "TERM" : "INT",
		    NULL, NULL, NULL, NULL);
		event_base_loopbreak(d.base);
	}
}

static void
add_signals(struct event *ev[4])
{
	static const int sigs[4] = { SIGHUP, SIGALRM, SIGTERM, SIGINT };
	unsigned i, n = d.oneshot ? 0 : 4;	/* one-shot: default dispositions */

	for (i = 0; i < n; i++)
		if (!(ev[i] = evsignal_new(d.base, sigs[i], on_signal, NULL)) ||
		    evsignal_add(ev[i], NULL) < 0)
			fatal("no-signals", "error", errname(errno), NULL, NULL);
}

/* The settings that matter, once: what an operator checks first. */
static void
say_start(void)
{
	char names[CONF_MAXCHECKS * 16] = "", intervals[CONF_MAXCHECKS * 32] = "", pid[24];
	const struct conf *c = &d.cf.conf;
	struct finding f;
	size_t n = 0, m = 0;
	unsigned i;

	for (i = 0; i < c->nchecks; i++) {
		if (!c->enabled[i])
			continue;
		n += (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0,
		    "%s%s", n ? "," : "", c->checks[i]->name);
		m += (size_t)snprintf(intervals + m, m < sizeof(intervals) ? sizeof(intervals) - m : 0,
		    "%s%s:%lu", m ? "," : "", c->checks[i]->name, c->check_interval[i]);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	finding_init(&f, LEVEL_INFO, FINDING_NOTE, "maintd", "start");
	finding_add(&f, "version", MAINTD_VERSION);
	finding_add(&f, "checks", names);
	finding_add(&f, "pid", pid);
	finding_add(&f, "qmailhome", c->qmailhome);
	finding_add(&f, "state", d.tmpstate[0] ? "none" : c->state);
	if (!d.oneshot)
		finding_add(&f, "intervals", intervals);
	finding_add(&f, "probe", !d.probe ? "none" : geteuid() ? "unprivileged" :
	    conf_value(&conf_probeuser));
	sweep_say(&f);
}

/* -N: the status line and the long output, the sweep's lines (held until
 * now), then the perfdata that did not fit the status line. */
static void
say_plugin(int status)
{
	static char out[NAGIOS_LINE];
	size_t n = metrics_nagios(d.sweep.metrics, status, out, sizeof(out));
	char *tail = strstr(out, "\n|");
	size_t head = tail ? (size_t)(tail + 1 - out) : n;

	if (write(1, out, head) < 0)
		return;
	out_release(1);
	if (head < n && write(1, out + head, n - head) < 0)
		return;
}

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 }
};
#define SHORTOPTS "1C:NvVhst:P:w:c:q"

/* -N is known before any other option is judged: under it a usage error is
 * UNKNOWN with a status line. */
static void
find_nagios(int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1)
		if (c == 'N')
			d.nagios = 1;
	optind = 0;	/* GNU getopt starts again */
}

static unsigned long
number_arg(int opt, const char *v, unsigned long max)
{
	char what[64];
	unsigned long n;
	struct conf_err err;

	if (conf_parse_ulong("", v, 1, max, &n, &err) < 0) {
		snprintf(what, sizeof(what), "-%c wants a number from 1 to %lu", opt, max);
		usage(what);
	}
	return n;
}

/* -t: the whole run is UNKNOWN past it, whatever is still running. */
static void
on_deadline(int sig)
{
	static const char line[] = "QMAIL-MAINTD UNKNOWN - timeout: no result within -t seconds\n";

	(void)sig;
	if (d.nagios && write(1, line, sizeof(line) - 1) < 0)
		_exit(STATUS_UNKNOWN);
	_exit(STATUS_UNKNOWN);
}

static void
parse_args(int argc, char **argv)
{
	char bad[64];
	int c;

	find_nagios(argc, argv);
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1)
		switch (c) {
		case '1': d.oneshot = 1; break;
		case 'N': d.nagios = 1; break;
		case 's': d.status = 1; break;
		case 'q': d.qshape = d.oneshot = 1; break;
		case 'C': d.only = optarg; break;
		case 'v': d.verbose = 1; break;
		case 't': d.timeout = number_arg('t', optarg, 86400); break;
		case 'P': d.promarg = optarg; break;
		case 'w': number_arg('w', optarg, 100000000); setenv("MAINTD_QUEUE_WARN", optarg, 1); break;
		case 'c': number_arg('c', optarg, 100000000); setenv("MAINTD_QUEUE_CRIT", optarg, 1); break;
		case 'V':
			printf("qmail-maintd %s\n", MAINTD_VERSION);
			exit(0);
		case 'h': help();
		default:
			if (optopt)
				snprintf(bad, sizeof(bad), "unknown option or missing value: -%c", optopt);
			else
				snprintf(bad, sizeof(bad), "unknown option %.40s", argv[optind - 1]);
			usage(bad);
		}
	if (optind != argc)
		usage("stray argument");
	if (d.nagios && !d.status)
		d.oneshot = 1;
	if (d.status && (d.oneshot || d.only || d.promarg))
		usage("-s takes only -N and -t");
	if (d.qshape && (d.nagios || d.only))
		usage("-q is a table for people: not with -N or -C");
	if (d.qshape)
		d.only = "queue";
	if (!d.oneshot && !d.status && (d.timeout || d.promarg))
		usage("-t and -P go with -1 or -s");
	if (d.timeout) {
		signal(SIGALRM, on_deadline);
		alarm((unsigned)d.timeout);
	}
}

/* -1 with neither MAINTD_STATE nor an ./env (a run from a shell): a private
 * state directory for this run alone, removed at exit; nothing is left in
 * the current directory. */
static void
oneshot_state(void)
{
	const char *v = getenv(conf_state.name);
	struct stat st;

	if (!d.oneshot || (v && *v) || stat("env", &st) == 0)
		return;
	snprintf(d.tmpstate, sizeof(d.tmpstate), "%s/qmail-maintd.XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(d.tmpstate))
		fatal_var(&conf_state, d.tmpstate, NULL, errno);
	setenv(conf_state.name, d.tmpstate, 1);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
remove_tmpstate(void)
{
	if (d.tmpstate[0])
		nftw(d.tmpstate, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
	struct event *sig[4] = { NULL };
	struct conf_err err;
	struct stat promdir;
	unsigned i;
	int status = 0;

	parse_args(argc, argv);
	if (d.status)
		return status_main(getenv(conf_state.name) && *getenv(conf_state.name) ?
		    getenv(conf_state.name) : conf_state.def, d.nagios);
	signal(SIGPIPE, SIG_IGN);	/* a peer closing mid-write must not kill us */
	oneshot_state();
	d.have_env = !d.oneshot && env_digest(&d.env_digest) == 0;
	if (config_load(&d.cf, maintd_checks, maintd_nchecks(), d.only, d.verbose, &err) < 0)
		fatal_config(&err);
	load_promfile(&promdir);
	lock_state();
	event_set_log_callback(libevent_log);
	event_set_fatal_callback(libevent_fatal);
	if (!(d.base = event_base_new()))
		fatal("no-event-loop", "error", errname(errno), NULL, NULL);
	if (!(d.kick = event_new(d.base, -1, 0, on_kick, NULL)) ||
	    sweep_init(&d.sweep, d.base, &d.cf.conf, d.cf.check) < 0)
		fatal("no-memory", NULL, NULL, NULL, NULL);
	for (i = 0; i < d.cf.conf.nchecks; i++)
		if (!(d.timer[i] = evtimer_new(d.base, on_timer, (void *)(size_t)i)))
			fatal("no-memory", NULL, NULL, NULL, NULL);
	if (d.promfile || d.nagios)
		new_metrics();
	d.sweep.check_done = on_check_done;
	d.sweep.sweep_done = on_sweep_done;
	d.start = time(NULL);
	write_status();	/* this pid, no run yet: not a previous daemon's file */
	start_probe();
	add_signals(sig);
	out_init(d.oneshot ? NULL : d.base);
	if (d.nagios || d.qshape)
		out_hold();	/* -N: the status line first; -q: the table alone */
	say_start();
	if (d.promfile)
		warn_promdir(&promdir);
	d.forced = d.oneshot ? "once" : "start";
	kick();
	event_base_dispatch(d.base);
	if (d.oneshot)
		status = (int)sweep_status(&d.sweep);
	if (d.nagios)
		say_plugin(status);
	if (d.qshape) {
		out_discard();
		if (queue_shape_print(stdout) < 0)
			status = STATUS_UNKNOWN;	/* the walk did not end: no table */
		fflush(stdout);
	}
	out_flush(50);
	metrics_free(d.sweep.metrics);
	sweep_free(&d.sweep);
	for (i = 0; i < 4; i++)
		if (sig[i])
			event_free(sig[i]);
	for (i = 0; i < d.cf.conf.nchecks; i++)
		event_free(d.timer[i]);
	config_free(&d.cf);
	event_free(d.kick);
	out_free();
	event_base_free(d.base);
	remove_tmpstate();
	return status;
}
