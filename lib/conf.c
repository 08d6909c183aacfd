#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

const struct confvar conf_qmailhome = { "QMAILHOME", "/var/qmail" };
const struct confvar conf_checks = { "MAINTD_CHECKS", "all" };
const struct confvar conf_interval = { "MAINTD_INTERVAL", "3600" };
const struct confvar conf_state = { "MAINTD_STATE", "./state" };
const struct confvar conf_remind = { "MAINTD_REMIND", "86400" };
const struct confvar conf_maxfindings = { "MAINTD_MAXFINDINGS", "10000" };
const struct confvar conf_promfile = { "MAINTD_PROMFILE", "" };
/* the probe process (daemon/probe.c): its account and its empty root */
const struct confvar conf_probeuser = { "MAINTD_PROBEUSER", "qmaintd" };
const struct confvar conf_proberoot = { "MAINTD_PROBEROOT", "" };
/* shared by the checks that resolve (dns, tls): declared once, here */
const struct confvar conf_dns_servers = { "MAINTD_DNS_SERVERS", "" };

const struct confvar *const conf_global_vars[] = {
	&conf_qmailhome, &conf_checks, &conf_interval, &conf_state,
	&conf_remind, &conf_maxfindings, &conf_promfile, &conf_probeuser, &conf_proberoot, NULL
};

#define CONTROL_MAXFILE (1 << 20)	/* a control file larger than this is not read */

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *
conf_value(const struct confvar *v)
{
	return env_or(v->name, v->def);
}

/* strlcpy: cut to fit, always terminated */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

int
conf_set_err(struct conf_err *err, const char *var, const char *value, const char *reason)
{
	copy_cut(err->var, sizeof(err->var), var);
	copy_cut(err->value, sizeof(err->value), value);
	copy_cut(err->reason, sizeof(err->reason), reason);
	err->errnum = 0;
	return -1;
}

int
conf_set_errno(struct conf_err *err, const char *var, const char *value, int errnum)
{
	conf_set_err(err, var, value, "");
	err->errnum = errnum;
	return -1;
}

int
conf_parse_ulong(const char *var, const char *value, unsigned long min,
    unsigned long max, unsigned long *out, struct conf_err *err)
{
	unsigned long v = 0;
	const char *p = value;

	if (!*p)
		return conf_set_err(err, var, value, "not-a-number");
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return conf_set_err(err, var, value, "not-a-number");
		if (v > (ULONG_MAX - (unsigned long)(*p - '0')) / 10)
			return conf_set_err(err, var, value, "out-of-range");
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return conf_set_err(err, var, value, v < min && v == 0 ? "zero" : "out-of-range");
	*out = v;
	return 0;
}

int
conf_ulong(const struct confvar *cv, unsigned long min, unsigned long max,
    unsigned long *out, struct conf_err *err)
{
	return conf_parse_ulong(cv->name, conf_value(cv), min, max, out, err);
}

static int
is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
conf_copy(const struct confvar *v, char *buf, size_t size, struct conf_err *err)
{
	const char *s = conf_value(v);

	if (strlen(s) >= size)
		return conf_set_err(err, v->name, s, "too-long");
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

int
conf_list(const char *value, int (*fn)(const char *, size_t, void *), void *arg)
{
	const char *p = value, *q;
	int r;

	for (;;) {
		while (*p && is_sep(*p))
			p++;
		if (!*p)
			return 0;
		for (q = p; *q && !is_sep(*q); q++)
			;
		if ((r = fn(p, (size_t)(q - p), arg)) != 0)
			return r;
		p = q;
	}
}

int
conf_check_index(const struct conf *c, const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < c->nchecks; i++)
		if (strlen(c->checks[i]->name) == len && memcmp(c->checks[i]->name, name, len) == 0)
			return (int)i;
	return -1;
}

struct enable_ctx {
	struct conf *c;
	const char *var, *value;
	struct conf_err *err;
};

static int
enable_one(const char *item, size_t len, void *arg)
{
	struct enable_ctx *e = arg;
	int i;

	if (len == 3 && memcmp(item, "all", 3) == 0) {
		memset(e->c->enabled, 1, e->c->nchecks);
		return 0;
	}
	if ((i = conf_check_index(e->c, item, len)) < 0)
		return conf_set_err(e->err, e->var, e->value, "unknown-check");
	e->c->enabled[i] = 1;
	return 0;
}

static int
load_enabled(struct conf *c, const char *var, const char *value, struct conf_err *err)
{
	struct enable_ctx e = { c, var, value, err };
	unsigned i, n = 0;

	memset(c->enabled, 0, sizeof(c->enabled));
	if (conf_list(value, enable_one, &e) != 0)
		return -1;
	for (i = 0; i < c->nchecks; i++)
		n += c->enabled[i];
	if (n == 0)
		return conf_set_err(err, var, value, "no-checks");
	return 0;
}

/* MAINTD_<WHAT>_<CHECK>, e.g. MAINTD_INTERVAL_KMSG */
static void
check_var(char *buf, size_t size, const char *what, const char *check)
{
	size_t n = (size_t)snprintf(buf, size, "MAINTD_%s_%s", what, check), i;

	for (i = 0; i < n && i < size; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

static int
load_check_times(struct conf *c, struct conf_err *err)
{
	char var[64], def[32];
	const struct check *k;
	unsigned i;

	for (i = 0; i < c->nchecks; i++) {
		k = c->checks[i];
		check_var(var, sizeof(var), "INTERVAL", k->name);
		if (k->interval)
			snprintf(def, sizeof(def), "%u", k->interval);
		else
			snprintf(def, sizeof(def), "%lu", c->interval);
		if (conf_parse_ulong(var, env_or(var, def), 1, 0x7fffffffUL,
		    &c->check_interval[i], err) < 0)
			return -1;
		check_var(var, sizeof(var), "TIMEOUT", k->name);
		snprintf(def, sizeof(def), "%u", k->timeout ? k->timeout : 600);
		if (conf_parse_ulong(var, env_or(var, def), 1, 86400,
		    &c->check_timeout[i], err) < 0)
			return -1;
	}
	return 0;
}

static int
load_path(char *out, size_t size, const struct confvar *cv, struct conf_err *err)
{
	const char *v = conf_value(cv);

	if (strlen(v) >= size)
		return conf_set_err(err, cv->name, v, "too-long");
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int
conf_load(struct conf *c, const struct check *const *checks, unsigned nchecks,
    const char *only, struct conf_err *err)
{
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (nchecks > CONF_MAXCHECKS)
		return conf_set_err(err, "checks", "", "too-many-checks");
	c->checks = checks;
	c->nchecks = nchecks;
	if (load_path(c->qmailhome, sizeof(c->qmailhome), &conf_qmailhome, err) < 0 ||
	    load_path(c->state, sizeof(c->state), &conf_state, err) < 0)
		return -1;
	if (stat(c->qmailhome, &st) < 0)
		return conf_set_err(err, conf_qmailhome.name, c->qmailhome,
		    errno == ENOENT ? "missing" : "unreadable");
	if (!S_ISDIR(st.st_mode))
		return conf_set_err(err, conf_qmailhome.name, c->qmailhome, "not-a-directory");
	if (only) {
		if (load_enabled(c, "-C", only, err) < 0)
			return -1;
	} else if (load_enabled(c, conf_checks.name, conf_value(&conf_checks), err) < 0)
		return -1;
	if (conf_ulong(&conf_interval, 1, 0x7fffffffUL, &c->interval, err) < 0 ||
	    conf_ulong(&conf_remind, 0, 0x7fffffffUL, &c->remind, err) < 0 ||
	    conf_ulong(&conf_maxfindings, 1, 10000000UL, &c->maxfindings, err) < 0 ||
	    load_check_times(c, err) < 0)
		return -1;
	return 0;
}

int
conf_read_control(struct conf *c, struct conf_err *err)
{
	if (control_read_line(c, "me", c->me, sizeof(c->me)) < 0)
		return conf_set_errno(err, "control/me", "", errno);
	return 0;
}

/* Reads QMAILHOME/control/NAME whole (bounded). 1 read, 0 absent, -1 error. */
int
control_read(const struct conf *c, const char *name, char **data, size_t *len)
{
	char path[PATH_MAX + 64];
	char *buf;
	ssize_t r;
	size_t n = 0;
	int fd, e;

	*data = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/control/%s", c->qmailhome, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(buf = malloc(CONTROL_MAXFILE))) {
		close(fd);
		return -1;
	}
	while (n < CONTROL_MAXFILE && (r = read(fd, buf + n, CONTROL_MAXFILE - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	*data = buf;
	*len = n;
	return 1;
}

static size_t
trim(const char *s, size_t n, size_t *start)
{
	size_t a = 0;

	while (a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
		a++;
	while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	*start = a;
	return n - a;
}

int
control_lines(const char *data, size_t len, int (*fn)(const char *, size_t, void *), void *arg)
{
	const char *nl;
	size_t off = 0, a, n;
	int r;

	while (off < len) {
		nl = memchr(data + off, '\n', len - off);
		n = nl ? (size_t)(nl - (data + off)) : len - off;
		n = trim(data + off, n, &a);
		/* a line with a NUL is not text: qmail would cut it; we skip it */
		if (n && data[off + a] != '#' && !memchr(data + off + a, '\0', n) &&
		    (r = fn(data + off + a, n, arg)) != 0)
			return r;
		off = nl ? (size_t)(nl - data) + 1 : len;
	}
	return 0;
}

int
control_read_lines(const struct conf *c, const char *name,
    int (*fn)(const char *, size_t, void *), void *arg)
{
	char *data;
	size_t len;
	int r = control_read(c, name, &data, &len);

	if (r <= 0)
		return r;
	control_lines(data, len, fn, arg);
	free(data);
	return 1;
}

int
control_read_line(const struct conf *c, const char *name, char *buf, size_t size)
{
	char *data, *nl;
	size_t len, n, a;
	int r = control_read(c, name, &data, &len);

	buf[0] = '\0';
	if (r <= 0)
		return r;
	nl = memchr(data, '\n', len);
	n = trim(data, nl ? (size_t)(nl - data) : len, &a);
	if (n >= size)
		n = size - 1;
	memcpy(buf, data + a, n);
	buf[n] = '\0';		/* a NUL inside cuts the line, as in qmail */
	free(data);
	return 1;
}
