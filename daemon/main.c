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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "checks.h"
#include "config.h"
#include "logline.h"
#include "metrics.h"
#include "out.h"
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
	const char *promfile;	/* MAINTD_PROMFILE, or NULL */
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

static void __attribute__((noreturn))
usage(void)
{
	static const char msg[] =
	    "usage: qmail-maintd [-1] [-N] [-v] [-C check,...]\n"
	    "       qmail-maintd -V | -h\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_USAGE);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn))
fatal_state(int e)
{
	struct conf_err err;

	fatal_config((conf_set_errno(&err, conf_state.name, d.cf.conf.state, e), &err));
}

/* The state directory exists and this process alone uses it. */
static void
lock_state(void)
{
	const char *state = d.cf.conf.state;
	char path[PATH_MAX + 8];
	int fd;

	if (mkdir(state, 0700) < 0 && errno != EEXIST)
		fatal_state(errno);
	snprintf(path, sizeof(path), "%s/lock", state);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		fatal_state(errno);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			fatal("already-running", "state", state, NULL, NULL);
		fatal_state(errno);
	}
	/* fd stays open: the lock lives as long as the process */
}

/* control files and the checks' own settings, again (SIGHUP): all or nothing */
static void
reload(void)
{
	struct conf_err err;

	if (config_reload(&d.cf, &err) < 0)
		say_config_err(LEVEL_WARN, &err);
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

static void
on_check_done(struct sweep *r, unsigned i, void *arg)
{
	struct timeval tv = { (time_t)d.cf.conf.check_interval[i], 0 };

	(void)r;
	(void)arg;
	if (!d.oneshot)
		evtimer_add(d.timer[i], &tv);
}

/* The metrics file after every sweep: whole, by rename, or not at all. */
static void
write_promfile(void)
{
	if (!d.promfile || metrics_write(d.sweep.metrics, d.promfile) == 0)
		return;
	say(LEVEL_WARN, "promfile-error", "file", d.promfile, "error", errname(errno),
	    NULL, NULL);
}

/* MAINTD_PROMFILE: empty (off), or a file in an existing directory. */
static void
load_promfile(void)
{
	const char *v = conf_value(&conf_promfile);
	char dir[PATH_MAX], *slash;
	struct conf_err err;
	struct stat st;

	if (!*v)
		return;
	if (strlen(v) >= sizeof(dir) - 8)
		fatal_config((conf_set_err(&err, conf_promfile.name, v, "too-long"), &err));
	snprintf(dir, sizeof(dir), "%s", v);
	if (!(slash = strrchr(dir, '/')))
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	if (v[strlen(v) - 1] == '/' || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		fatal_config((conf_set_err(&err, conf_promfile.name, v, "missing"), &err));
	d.promfile = v;
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

static void
say_start(void)
{
	char names[CONF_MAXCHECKS * 16] = "", pid[24];
	size_t n = 0;
	unsigned i;

	for (i = 0; i < d.cf.conf.nchecks; i++)
		if (d.cf.conf.enabled[i])
			n += (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0,
			    "%s%s", n ? "," : "", d.cf.conf.checks[i]->name);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	say(LEVEL_INFO, "start", "version", MAINTD_VERSION, "checks", names, "pid", pid);
}

int
main(int argc, char **argv)
{
	struct event *sig[4] = { NULL };
	const char *only = NULL;
	struct conf_err err;
	unsigned i;
	int c, verbose = 0, status = 0;

	while ((c = getopt(argc, argv, "1C:NvVh")) != -1)
		switch (c) {
		case '1': d.oneshot = 1; break;
		case 'N': d.oneshot = d.nagios = 1; break;
		case 'C': only = optarg; break;
		case 'v': verbose = 1; break;
		case 'V':
			printf("qmail-maintd %s\n", MAINTD_VERSION);
			return 0;
		default: usage();
		}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);	/* a peer closing mid-write must not kill us */
	if (config_load(&d.cf, maintd_checks, maintd_nchecks(), only, verbose, &err) < 0)
		fatal_config(&err);
	load_promfile();
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
	add_signals(sig);
	out_init(d.oneshot ? NULL : d.base);
	if (d.nagios)
		out_hold();
	if (!d.oneshot)
		say_start();
	d.forced = d.oneshot ? "once" : "start";
	kick();
	event_base_dispatch(d.base);
	if (d.oneshot)
		status = (int)sweep_status(&d.sweep);
	if (d.nagios) {
		char line[NAGIOS_LINE];
		size_t n = metrics_nagios(d.sweep.metrics, status, line, sizeof(line));

		if (write(1, line, n) < 0)
			status = STATUS_UNKNOWN;
		out_release();
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
	return status;
}
