#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "probemsg.h"

/* what sweep.c lets .input write always travels in a RUN message */
_Static_assert(CHECK_INPUT_MAX <= PROBEMSG_INPUT, "a run's input fits a RUN message");

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define PROBE_SAMPLES 4096	/* samples of one run at most */
#define PROBE_BACKOFF_MAX 60	/* seconds between restarts at most */

struct psample {
	const struct metric_family *fam;
	enum metric_op op;
	char *l1, *l2;
	double v, warn, crit;
};

/* A run of one check, as the root side sees it. */
struct prun {
	struct check_run *run;	/* the sweep's; NULL when none */
	unsigned long seq;
	int running;		/* in the probe process */
	struct psample *s;
	size_t ns;
};

struct probe {
	struct event_base *base;
	const struct config *cf;
	struct probe_account acct;
	int statedir;		/* the caller's, for the memos */
	void (*say)(const struct finding *);
	pid_t pid;
	struct bufferevent *bev;
	struct event *restart;
	unsigned backoff;	/* seconds before the next start */
	unsigned long seq;
	struct prun run[CONF_MAXCHECKS];
};

/* ---- the root side ---- */

static void
say2(struct probe *p, enum level level, const char *event, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	struct finding f;

	finding_init(&f, level, FINDING_NOTE, "maintd", event);
	if (k1)
		finding_add(&f, k1, v1);
	if (k2)
		finding_add(&f, k2, v2);
	p->say(&f);
}

static void
clear_samples(struct prun *pr)
{
	size_t i;

	for (i = 0; i < pr->ns; i++) {
		free(pr->s[i].l1);
		free(pr->s[i].l2);
	}
	free(pr->s);
	pr->s = NULL;
	pr->ns = 0;
}

static int
send_msg(struct probe *p, const struct probemsg *m)
{
	unsigned char buf[PROBEMSG_MAX];
	size_t n = probemsg_encode(m, buf, sizeof(buf));

	return p->bev && n && bufferevent_write(p->bev, buf, n) == 0 ? 0 : -1;
}

/* The runs the probe process had end as failed. */
static void
fail_runs(struct probe *p)
{
	unsigned i;

	for (i = 0; i < CONF_MAXCHECKS; i++) {
		struct prun *pr = &p->run[i];

		if (pr->running && pr->run) {
			pr->running = 0;
			pr->run->done_fn(pr->run, CHECK_FAILED);
		}
	}
}

static void start_child(struct probe *);

static void
on_restart(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_child(arg);
}

/* The process is gone or must go: reap it, fail its runs, start again later. */
static void
lose_child(struct probe *p, int backoff)
{
	struct timeval tv = { 0, 0 };

	if (p->bev) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->pid = 0;
	}
	fail_runs(p);
	if (!backoff)
		return;
	tv.tv_sec = p->backoff;
	p->backoff = p->backoff ? p->backoff * 2 : 1;
	if (p->backoff > PROBE_BACKOFF_MAX)
		p->backoff = PROBE_BACKOFF_MAX;
	evtimer_add(p->restart, &tv);
}

static void
protocol_error(struct probe *p, const char *why)
{
	say2(p, LEVEL_CRIT, "probe-protocol", "reason", why, NULL, NULL);
	lose_child(p, 1);
}

/* "SIGKILL", "exit-1": how the process ended. */
static void
status_text(int st, char *buf, size_t size)
{
	const char *n;

	if (WIFSIGNALED(st) && (n = sigabbrev_np(WTERMSIG(st))))
		snprintf(buf, size, "SIG%s", n);
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "signal-%d", WTERMSIG(st));
	else
		snprintf(buf, size, "exit-%d", WEXITSTATUS(st));
}

static void
child_died(struct probe *p)
{
	char status[32] = "unknown", pid[24];
	int st, i;

	snprintf(pid, sizeof(pid), "%ld", (long)p->pid);
	/* it closed its end: it is exiting; a moment, then it is made to */
	for (i = 0; i < 100; i++) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);

		if (r == p->pid) {
			status_text(st, status, sizeof(status));
			p->pid = 0;
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		usleep(1000);
	}
	say2(p, LEVEL_CRIT, "probe-died", "pid", pid, "status", status);
	lose_child(p, 1);
}

static const struct check *
probe_check(const struct probe *p, unsigned index)
{
	const struct conf *c = &p->cf->conf;

	if (index >= c->nchecks || !c->enabled[index] || c->checks[index]->where != CHECK_PROBE)
		return NULL;
	return c->checks[index];
}

/* The check's own constant for the event, or NULL: not one of its codes. */
static const char *
known_event(const struct check *ck, const char *event)
{
	unsigned i;

	for (i = 0; ck->events && ck->events[i]; i++)
		if (strcmp(ck->events[i], event) == 0)
			return ck->events[i];
	return NULL;
}

static const struct metric_family *
known_family(const struct check *ck, const struct probemsg *m)
{
	const struct metric_family *fam;
	unsigned i;

	for (i = 0, fam = ck->metrics; fam && fam[i].name; i++)
		if (i == m->family)
			break;
	if (!fam || !fam[i].name)
		return NULL;
	fam += i;
	/* exactly the labels the family has */
	if (m->has_l1 != (fam->label[0] != NULL) ||
	    m->has_l2 != (fam->label[0] != NULL && fam->label[1] != NULL))
		return NULL;
	return fam;
}

static char *
dup_label(int has, const char *l)
{
	return has ? strdup(l) : NULL;
}

static const char *
keep_sample(struct prun *pr, const struct metric_family *fam, const struct probemsg *m)
{
	struct psample *s;

	if (pr->ns == PROBE_SAMPLES)
		return "too-many-samples";
	if (!(s = realloc(pr->s, (pr->ns + 1) * sizeof(*s))))
		return NULL;	/* out of memory: the sample is lost, not the process */
	pr->s = s;
	s = &pr->s[pr->ns];
	s->fam = fam;
	s->op = (enum metric_op)m->op;
	s->l1 = dup_label(m->has_l1, m->l1);
	s->l2 = dup_label(m->has_l2, m->l2);
	s->v = m->value;
	s->warn = m->warn;
	s->crit = m->crit;
	if ((m->has_l1 && !s->l1) || (m->has_l2 && !s->l2)) {
		free(s->l1);
		free(s->l2);
		return NULL;
	}
	pr->ns++;
	return NULL;
}

/* What the check remembers between runs, kept by the root process in the
 * config value it holds and in a file of the state directory. */
static void
keep_memo(struct probe *p, const struct check *ck, unsigned index, const struct finding *f)
{
	if (ck->memo && p->cf->check[index])
		ck->memo(p->statedir, p->cf->check[index], f);
}

/* One decoded message: NULL, or why it is refused. */
static const char *
handle(struct probe *p, struct probemsg *m)
{
	const struct check *ck;
	struct prun *pr;

	if (m->type == PROBEMSG_HELLO)
		return m->pid == (unsigned long)p->pid ? NULL : "bad-hello";
	if (m->type != PROBEMSG_FINDING && m->type != PROBEMSG_SAMPLE && m->type != PROBEMSG_DONE)
		return "bad-type";
	if (!(ck = probe_check(p, m->check)))
		return "bad-check";
	pr = &p->run[m->check];
	if (!pr->running || m->seq != (pr->seq & 0xffffffffUL))
		return NULL;	/* a run that ended here already: its late words */
	switch (m->type) {
	case PROBEMSG_FINDING:
		if (!(m->f.event = known_event(ck, m->event)))
			return "unknown-event";
		m->f.check = check_word(ck);
		pr->run->emit_fn(pr->run, &m->f);
		keep_memo(p, ck, m->check, &m->f);
		return NULL;
	case PROBEMSG_SAMPLE: {
		const struct metric_family *fam = known_family(ck, m);

		return fam ? keep_sample(pr, fam, m) : "unknown-family";
	}
	default:
		pr->running = 0;
		p->backoff = 0;		/* a run went through: it works */
		pr->run->done_fn(pr->run, m->status == CHECK_OK ? CHECK_OK : CHECK_FAILED);
		return NULL;
	}
}

/* The next whole message of in, taken out of it: 1; 0: not whole yet;
 * -1: malformed (*why). Both sides read their socket through it. */
static int
next_msg(struct evbuffer *in, struct probemsg *m, const char **why)
{
	size_t len = evbuffer_get_length(in), used;
	unsigned char *data;
	int r;

	if (len > PROBEMSG_MAX)
		len = PROBEMSG_MAX;
	if (!len || !(data = evbuffer_pullup(in, (ssize_t)len)))
		return 0;
	if ((r = probemsg_decode(data, len, m, &used, why)) == 1)
		evbuffer_drain(in, used);
	return r;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	static struct probemsg m;	/* 20 KB: not on the stack */
	struct probe *p = arg;
	const char *why;
	int r;

	while (p->bev && (r = next_msg(bufferevent_get_input(bev), &m, &why)) != 0)
		if (r < 0 || (why = handle(p, &m))) {
			protocol_error(p, why);
			return;
		}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		child_died(arg);
}

void
probe_run(struct probe *p, struct check_run *run, unsigned index)
{
	struct prun *pr = &p->run[index];
	static struct probemsg m;	/* 26 KB: not on the stack */

	clear_samples(pr);
	pr->run = run;
	pr->seq = ++p->seq;
	memset(&m, 0, sizeof(m));
	m.type = PROBEMSG_RUN;
	m.check = index;
	m.seq = pr->seq & 0xffffffffUL;
	m.verbose = run->verbose;
	if (run->input && run->inputlen <= sizeof(m.input) - 1) {
		memcpy(m.input, run->input, run->inputlen);
		m.inputlen = run->inputlen;
	}
	if (p->pid <= 0 || send_msg(p, &m) < 0) {
		struct finding f;

		finding_init(&f, LEVEL_WARN, FINDING_STATE, run->check->name, "probe-unavailable");
		run->emit_fn(run, &f);
		run->done_fn(run, CHECK_FAILED);
		return;
	}
	pr->running = 1;
}

void
probe_run_end(struct probe *p, unsigned index, struct metrics *mx)
{
	struct prun *pr = &p->run[index];
	struct probemsg m;
	size_t i;

	if (pr->running) {	/* the time limit, or SIGTERM */
		pr->running = 0;
		memset(&m, 0, sizeof(m));
		m.type = PROBEMSG_CANCEL;
		m.check = index;
		m.seq = pr->seq & 0xffffffffUL;
		send_msg(p, &m);
	}
	for (i = 0; mx && i < pr->ns; i++) {
		struct psample *s = &pr->s[i];

		if (s->op == METRIC_SET)
			metrics_set(mx, s->fam, s->l1, s->l2, s->v);
		else if (s->op == METRIC_ADD)
			metrics_add(mx, s->fam, s->l1, s->l2, s->v);
		else
			metrics_limits(mx, s->fam, s->l1, s->l2, s->warn, s->crit);
	}
	clear_samples(pr);
	pr->run = NULL;
}

pid_t
probe_pid(const struct probe *p)
{
	return p->pid;
}

/* ---- the probe process ---- */

struct child {
	struct event_base *base;
	struct bufferevent *bev;
	const struct config *cf;
	struct metrics *recorder;
	unsigned current;	/* the check whose samples are being recorded */
	struct crun {
		struct check_run run;
		unsigned long seq;
		int running;
		size_t inputlen;
		unsigned char input[PROBEMSG_INPUT];
	} run[CONF_MAXCHECKS];
};

static void
child_send(struct child *c, const struct probemsg *m)
{
	unsigned char buf[PROBEMSG_MAX];
	size_t n = probemsg_encode(m, buf, sizeof(buf));

	if (n)
		bufferevent_write(c->bev, buf, n);
}

/* The check_run is the first member of its crun. */
static struct crun *
crun_of(struct check_run *run)
{
	return (struct crun *)(void *)run;
}

static void
child_emit(struct check_run *run, const struct finding *f)
{
	struct child *c = run->runner;
	struct crun *cr = crun_of(run);
	static struct probemsg m;

	memset(&m, 0, offsetof(struct probemsg, f));
	m.type = PROBEMSG_FINDING;
	m.check = (unsigned)(cr - c->run);
	m.seq = cr->seq;
	m.f = *f;
	child_send(c, &m);
}

static void
child_record(void *arg, const struct metric_family *fam, enum metric_op op, const char *l1,
    const char *l2, double v, double warn, double crit)
{
	struct child *c = arg;
	const struct check *ck = c->cf->conf.checks[c->current];
	static struct probemsg m;

	memset(&m, 0, sizeof(m));
	m.type = PROBEMSG_SAMPLE;
	m.check = c->current;
	m.seq = c->run[c->current].seq;
	m.family = (unsigned)(fam - ck->metrics);
	m.op = (enum probemsg_op)op;
	if ((m.has_l1 = l1 != NULL))
		snprintf(m.l1, sizeof(m.l1), "%s", l1);
	if ((m.has_l2 = l2 != NULL))
		snprintf(m.l2, sizeof(m.l2), "%s", l2);
	m.value = v;
	m.warn = warn;
	m.crit = crit;
	child_send(c, &m);
}

static void
child_done(struct check_run *run, enum check_status st)
{
	struct child *c = run->runner;
	struct crun *cr = crun_of(run);
	struct probemsg m;

	c->current = (unsigned)(cr - c->run);
	if (run->check->samples && c->recorder)
		run->check->samples(run, c->recorder);
	memset(&m, 0, sizeof(m));
	m.type = PROBEMSG_DONE;
	m.check = c->current;
	m.seq = cr->seq;
	m.status = st;
	child_send(c, &m);
	cr->running = 0;
	check_run_release(run);
}

static void
child_cancel(struct crun *cr)
{
	if (cr->running) {
		cr->running = 0;
		check_run_release(&cr->run);
	}
}

static void
child_start(struct child *c, const struct probemsg *m)
{
	const struct conf *conf = &c->cf->conf;
	struct crun *cr = &c->run[m->check];
	const struct check *ck;

	if (m->check >= conf->nchecks || !conf->enabled[m->check] ||
	    (ck = conf->checks[m->check])->where != CHECK_PROBE)
		_exit(100);	/* the root process does not ask this */
	child_cancel(cr);
	cr->seq = m->seq;
	if (check_run_init(&cr->run, ck, c->base, conf, c->cf->check[m->check]) < 0) {
		struct probemsg d = { .type = PROBEMSG_DONE, .check = m->check, .seq = m->seq,
			.status = CHECK_FAILED };

		child_send(c, &d);
		return;
	}
	cr->run.verbose = m->verbose;
	memcpy(cr->input, m->input, m->inputlen);
	if ((cr->inputlen = m->inputlen)) {
		cr->run.input = cr->input;
		cr->run.inputlen = cr->inputlen;
	}
	cr->run.emit_fn = child_emit;
	cr->run.done_fn = child_done;
	cr->run.runner = c;
	cr->running = 1;
	ck->start(&cr->run);
}

static void
child_read(struct bufferevent *bev, void *arg)
{
	static struct probemsg m;
	struct child *c = arg;
	const char *why;
	int r;

	while ((r = next_msg(bufferevent_get_input(bev), &m, &why)) != 0) {
		if (r < 0)
			_exit(100);	/* the root process does not send this */
		if (m.type == PROBEMSG_RUN)
			child_start(c, &m);
		else if (m.type == PROBEMSG_CANCEL && m.check < CONF_MAXCHECKS &&
		    c->run[m.check].seq == m.seq)
			child_cancel(&c->run[m.check]);
	}
}

static void
child_event(struct bufferevent *bev, short what, void *arg)
{
	struct child *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		event_base_loopbreak(c->base);	/* the root process is gone */
}

/* Dies rather than go on with more than it should have. */
static void __attribute__((noreturn))
child_fail(void)
{
	_exit(111);
}

static void
child_limits(void)
{
	struct rlimit nofile = { 256, 256 }, zero = { 0, 0 };

	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CORE, &zero) < 0 ||
	    setrlimit(RLIMIT_FSIZE, &zero) < 0 || setrlimit(RLIMIT_NPROC, &zero) < 0)
		child_fail();
#ifndef UNDER_ASAN
	{
		/* not under ASan: its shadow memory is terabytes of address space */
		struct rlimit as = { 1UL << 30, 1UL << 30 };

		if (setrlimit(RLIMIT_AS, &as) < 0)
			child_fail();
	}
#endif
}

/* chroot, the account, no_new_privs; then proof that root cannot come back. */
static void
child_drop(const struct probe_account *a)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (a->drop) {
		if (chroot(a->root) < 0 || chdir("/") < 0 || setgroups(1, &a->gid) < 0 ||
		    setresgid(a->gid, a->gid, a->gid) < 0 || setresuid(a->uid, a->uid, a->uid) < 0)
			child_fail();
		if (getresuid(&r, &e, &s) < 0 || r != a->uid || e != a->uid || s != a->uid ||
		    getresgid(&gr, &ge, &gs) < 0 || gr != a->gid || ge != a->gid || gs != a->gid)
			child_fail();
		if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 || chroot("/") != -1)
			child_fail();
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail();
	child_limits();
}

static void __attribute__((noreturn))
child_main(int sock, const struct config *cf, const struct probe_account *a, pid_t parent)
{
	static struct child c;	/* with every check's input: not on the stack */
	int null;

	memset(&c, 0, sizeof(c));
	c.cf = cf;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		child_fail();
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGALRM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* the socket on 3, nothing on 0 1 2 (the log is the root process's),
	 * every other descriptor of the root process closed */
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(sock, 3) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0 || dup2(null, 2) < 0 || close_range(4, ~0U, 0) < 0)
		child_fail();
	child_drop(a);
	if (!(c.base = event_base_new()) || !(c.recorder = metrics_recorder(child_record, &c)) ||
	    !(c.bev = bufferevent_socket_new(c.base, 3, 0)))
		child_fail();
	bufferevent_setcb(c.bev, child_read, NULL, child_event, &c);
	bufferevent_enable(c.bev, EV_READ);
	{
		struct probemsg hello = { .type = PROBEMSG_HELLO, .pid = (unsigned long)getpid() };

		child_send(&c, &hello);
	}
	event_base_dispatch(c.base);
	_exit(0);
}

static void
start_child(struct probe *p)
{
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	if ((p->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (p->pid == 0) {
		close(sv[0]);
		child_main(sv[1], p->cf, &p->acct, parent);
	}
	close(sv[1]);
	evutil_make_socket_nonblocking(sv[0]);
	if (!(p->bev = bufferevent_socket_new(p->base, sv[0], BEV_OPT_CLOSE_ON_FREE))) {
		close(sv[0]);
		lose_child(p, 1);
		return;
	}
	bufferevent_setcb(p->bev, on_read, NULL, on_event, p);
	bufferevent_enable(p->bev, EV_READ);
	return;
fail:
	p->pid = 0;
	{
		char e[32];

		snprintf(e, sizeof(e), "%s", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		say2(p, LEVEL_CRIT, "probe-died", "pid", "0", "status", e);
	}
	lose_child(p, 1);
}

struct probe *
probe_new(struct event_base *base, const struct config *cf, const struct probe_account *a,
    int statedir, void (*say)(const struct finding *))
{
	struct probe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->base = base;
	p->cf = cf;
	p->acct = *a;
	p->statedir = statedir;
	p->say = say;
	if (!(p->restart = evtimer_new(base, on_restart, p))) {
		free(p);
		return NULL;
	}
	start_child(p);
	return p;
}

void
probe_restart(struct probe *p)
{
	lose_child(p, 0);
	event_del(p->restart);
	p->backoff = 0;
	start_child(p);
}

void
probe_free(struct probe *p)
{
	unsigned i;

	if (!p)
		return;
	lose_child(p, 0);
	for (i = 0; i < CONF_MAXCHECKS; i++)
		clear_samples(&p->run[i]);
	event_free(p->restart);
	free(p);
}
