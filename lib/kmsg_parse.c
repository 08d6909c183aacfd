/* The pure half of the kmsg check: /dev/kmsg records, the kernel's crash
 * lines, program names and the cursor. No I/O; every input is outside bytes. */
#include "kmsg.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct span {
	const char *p, *end;
};

static const char *
span_find(struct span s, const char *needle)
{
	size_t n = strlen(needle);

	if ((size_t)(s.end - s.p) < n)
		return NULL;
	return memmem(s.p, (size_t)(s.end - s.p), needle, n);
}

static int
span_starts(struct span s, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(s.end - s.p) >= n && memcmp(s.p, prefix, n) == 0;
}

/* Copies [p, end) to a NUL-terminated buffer, cut to fit. */
static void
copy(char *dst, size_t size, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (n >= size)
		n = size - 1;
	memcpy(dst, p, n);
	dst[n] = 0;
}

/* Decimal digits at *pp, at most max; advances *pp. -1 when none or too big. */
static int
num(const char **pp, const char *end, unsigned long long max, unsigned long long *out)
{
	const char *p = *pp;
	unsigned long long v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned long long d = (unsigned long long)(*p - '0');

		/* (max - d) / 10 would wrap for a digit above a small max */
		if (v > max / 10 || (v == max / 10 && d > max % 10))
			return -1;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return 0;
}

int
kmsg_parse_record(const char *buf, size_t len, struct kmsg_record *r)
{
	const char *p = buf, *end = buf + len, *semi, *nl;
	unsigned long long prio;

	if (num(&p, end, 1023, &prio) < 0 || p >= end || *p++ != ',' ||
	    num(&p, end, ~0ULL, &r->seq) < 0 || p >= end || *p++ != ',' ||
	    num(&p, end, ~0ULL, &r->usec) < 0 || p >= end || *p != ',')
		return -1;
	if (!(semi = memchr(p, ';', (size_t)(end - p))))
		return -1;
	r->prio = (unsigned)prio;
	r->text = semi + 1;
	nl = memchr(r->text, '\n', (size_t)(end - r->text));
	r->len = (size_t)((nl ? nl : end) - r->text);
	return 0;
}

/* A hex token as the kernel prints it ("000055930a18d1e9", "dead000"): as
 * "0x" and the digits without leading zeros. Returns the end of the token. */
static const char *
hex(const char *p, const char *end, char *out)
{
	const char *q = p;
	size_t n;

	out[0] = 0;
	while (q < end && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
	    (*q >= 'A' && *q <= 'F')))
		q++;
	if (q == p)
		return p;
	while (p < q - 1 && *p == '0')
		p++;
	n = (size_t)(q - p);
	if (n > KMSG_HEX - 3)
		n = KMSG_HEX - 3;
	memcpy(out, "0x", 2);
	memcpy(out + 2, p, n);
	out[2 + n] = 0;
	return q;
}

/* The value after key (" ip " or " ip:") in s, as hex. */
static void
field_hex(struct span s, const char *key, char *out)
{
	const char *k = span_find(s, key);

	out[0] = 0;
	if (k)
		hex(k + strlen(key), s.end, out);
}

/* "COMM[PID" ending at the '[' ... ']' just before mark: comm and pid. */
static void
comm_pid(struct span s, const char *close, struct kmsg_event *ev)
{
	const char *lb = close;
	unsigned long long pid;
	const char *p;

	while (lb > s.p && lb[-1] != '[')
		lb--;
	if (lb == s.p)
		return;
	p = lb;
	if (num(&p, close, 4194304, &pid) == 0 && p == close)
		ev->pid = (long)pid;
	copy(ev->comm, sizeof(ev->comm), s.p, lb - 1);
}

/* " in FILE[...]" at or after from, up to " likely on CPU" or the end. */
static void
in_file(struct span s, const char *from, struct kmsg_event *ev)
{
	struct span rest = { from, s.end };
	const char *in = span_find(rest, " in "), *stop, *lb;

	if (!in)
		return;
	rest.p = in + 4;
	stop = span_find(rest, " likely on CPU");
	if (!stop)
		stop = s.end;
	if (stop <= rest.p || stop[-1] != ']')
		return;
	for (lb = stop - 1; lb > rest.p && *lb != '['; lb--)
		;
	if (lb > rest.p)
		copy(ev->file, sizeof(ev->file), rest.p, lb);
}

/* COMM[PID]: segfault at ADDR ip IP sp SP error N[ in FILE[...]][ likely on CPU ...] */
static int
segfault(struct span s, struct kmsg_event *ev)
{
	const char *m = span_find(s, "]: segfault at ");
	struct span t;

	if (!m)
		return 0;
	comm_pid(s, m, ev);
	t.p = m + 15;
	t.end = s.end;
	hex(t.p, t.end, ev->addr);
	field_hex(t, " ip ", ev->ip);
	field_hex(t, " error ", ev->error);
	if ((t.p = span_find(t, " error ")))
		in_file(s, t.p + 7, ev);
	ev->signal = SIGSEGV;
	return 1;
}

static const struct {
	const char *name;
	int sig;
} traps[] = {
	{ "divide error", SIGFPE },
	{ "coprocessor segment overrun", SIGFPE },
	{ "invalid opcode", SIGILL },
	{ "overflow", SIGSEGV },
	{ "bounds", SIGSEGV },
	{ "invalid TSS", SIGSEGV },
	{ "segment not present", SIGBUS },
	{ "stack segment", SIGBUS },
	{ "alignment check", SIGBUS },
	{ "int3", SIGTRAP },
};

static int
trap_signal(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(traps) / sizeof(traps[0]); i++)
		if (strcmp(traps[i].name, name) == 0)
			return traps[i].sig;
	return 0;
}

/* traps: COMM[PID] general protection fault ip:IP sp:SP error:N in FILE[...]
 * traps: COMM[PID] trap NAME ip:IP sp:SP error:N in FILE[...]
 * traps: COMM[PID] control protection ip:IP sp:SP ssp:SSP error:N(...) in FILE[...] */
static enum kmsg_kind
trap(struct span s, struct kmsg_event *ev)
{
	const char *m, *ip;
	struct span t;

	s.p += 7;	/* "traps: " */
	if ((m = span_find(s, "] general protection fault"))) {
		snprintf(ev->trap, sizeof(ev->trap), "general protection fault");
		ev->signal = SIGSEGV;
	} else if ((m = span_find(s, "] control protection "))) {
		snprintf(ev->trap, sizeof(ev->trap), "control protection");
		ev->signal = SIGSEGV;
	} else if ((m = span_find(s, "] trap "))) {
		t.p = m + 7;
		t.end = s.end;
		if (!(ip = span_find(t, " ip:")))
			ip = s.end;
		copy(ev->trap, sizeof(ev->trap), t.p, ip);
		ev->signal = trap_signal(ev->trap);
	} else
		return KMSG_OTHER;
	comm_pid(s, m, ev);
	t.p = m;
	t.end = s.end;
	field_hex(t, " ip:", ev->ip);
	field_hex(t, " error:", ev->error);
	if ((t.p = span_find(t, " error:")))
		in_file(s, t.p + 7, ev);
	return ev->signal == SIGTRAP ? KMSG_IGNORED : KMSG_CRASH;
}

/* print-fatal-signals, by kernel age:
 *   COMM/PID: potentially unexpected fatal signal N.
 *   potentially unexpected fatal signal N.      (comm, pid in the CPU: line)
 *   COMM: potentially unexpected fatal signal N.
 *   EXE: COMM: potentially unexpected fatal signal N. */
static enum kmsg_kind
fatal_signal(struct span s, struct kmsg_event *ev)
{
	static const char key[] = "potentially unexpected fatal signal ";
	const char *m = span_find(s, key), *p, *sep, *slash;
	unsigned long long sig, pid;

	if (!m)
		return KMSG_OTHER;
	p = m + sizeof(key) - 1;
	if (num(&p, s.end, 64, &sig) < 0)
		return KMSG_OTHER;
	ev->signal = (int)sig;
	if (m - s.p >= 2 && m[-2] == ':' && m[-1] == ' ') {
		struct span pre = { s.p, m - 2 };

		if ((sep = span_find(pre, ": "))) {
			copy(ev->file, sizeof(ev->file), pre.p, sep);
			copy(ev->comm, sizeof(ev->comm), sep + 2, pre.end);
		} else {
			for (slash = pre.end; slash > pre.p && slash[-1] != '/'; slash--)
				;
			p = slash;
			if (slash > pre.p && num(&p, pre.end, 4194304, &pid) == 0 &&
			    p == pre.end) {
				ev->pid = (long)pid;
				copy(ev->comm, sizeof(ev->comm), pre.p, slash - 1);
			} else
				copy(ev->comm, sizeof(ev->comm), pre.p, pre.end);
		}
	}
	return ev->signal == SIGTRAP ? KMSG_IGNORED : KMSG_CRASH;
}

/* CPU: 0 UID: 0 PID: 1234 Comm: qmail-local Not tainted ... (older: no UID) */
static enum kmsg_kind
regs(struct span s, struct kmsg_event *ev)
{
	const char *m = span_find(s, " PID: "), *p, *c;
	unsigned long long pid;
	struct span t;

	if (!m)
		return KMSG_OTHER;
	p = m + 6;
	if (num(&p, s.end, 4194304, &pid) < 0 || !span_starts((struct span){ p, s.end }, " Comm: "))
		return KMSG_OTHER;
	ev->pid = (long)pid;
	t.p = p + 7;
	t.end = s.end;
	if (!(c = span_find(t, " Not tainted")) && !(c = span_find(t, " Tainted: ")) &&
	    !(c = memchr(t.p, ' ', (size_t)(t.end - t.p))))
		c = t.end;
	copy(ev->comm, sizeof(ev->comm), t.p, c);
	return KMSG_REGS;
}

/* Out of memory: Killed process PID (PROG) ...; Memory cgroup out of memory: ...;
 * older kernels: Out of memory: Kill process PID (PROG) score ..., Killed process ... */
static int
oom_killed(struct span s, struct kmsg_event *ev)
{
	const char *m = span_find(s, "Killed process "), *p, *close;
	unsigned long long pid;
	size_t skip = 15;
	struct span t;

	if (!m && (m = span_find(s, "Out of memory: Kill process ")))
		m += 15, skip = 13;
	if (!m || (m != s.p && m[-1] != ' '))
		return 0;
	p = m + skip;
	if (num(&p, s.end, 4194304, &pid) < 0 || s.end - p < 2 || p[0] != ' ' || p[1] != '(')
		return 0;
	t.p = p + 2;
	t.end = s.end;
	/* the comm ends at the first ") " after it, or at the last ')' */
	if (!(close = span_find(t, ") "))) {
		for (close = s.end; close > t.p && close[-1] != ')'; close--)
			;
		if (close-- == t.p)
			return 0;
	}
	copy(ev->comm, sizeof(ev->comm), t.p, close);
	ev->pid = (long)pid;
	ev->signal = SIGKILL;
	return 1;
}

/* oom-kill:constraint=...,task_memcg=...,task=PROG,pid=PID,uid=N */
static int
oom_task(struct span s, struct kmsg_event *ev)
{
	const char *t = span_find(s, ",task="), *p;
	unsigned long long pid;
	struct span rest;

	if (!t)
		return 0;
	rest.p = t + 6;
	rest.end = s.end;
	if (!(p = span_find(rest, ",pid=")))
		return 0;
	copy(ev->comm, sizeof(ev->comm), rest.p, p);
	p += 5;
	if (num(&p, s.end, 4194304, &pid) < 0)
		return 0;
	ev->pid = (long)pid;
	ev->signal = SIGKILL;
	return 1;
}

static int
suppressed(struct span s, struct kmsg_event *ev)
{
	static const char *const fns[] = { "show_signal_msg: ", "show_signal: " };
	unsigned long long n;
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (!span_starts(s, fns[i]))
			continue;
		p = s.p + strlen(fns[i]);
		if (num(&p, s.end, ~0UL, &n) == 0 &&
		    span_starts((struct span){ p, s.end }, " callbacks suppressed")) {
			ev->count = (unsigned long)n;
			return 1;
		}
	}
	return 0;
}

enum kmsg_kind
kmsg_classify(const char *text, size_t len, struct kmsg_event *ev)
{
	struct span s = { text, text + len };

	memset(ev, 0, sizeof(*ev));
	ev->pid = -1;
	ev->kind = KMSG_OTHER;
	if (span_starts(s, "traps: "))
		ev->kind = trap(s, ev);
	else if (segfault(s, ev))
		ev->kind = KMSG_CRASH;
	else if (suppressed(s, ev))
		ev->kind = KMSG_SUPPRESSED;
	else if (span_starts(s, "oom-kill:") ? oom_task(s, ev) : oom_killed(s, ev))
		ev->kind = KMSG_OOM;
	else if (span_starts(s, "CPU: "))
		ev->kind = regs(s, ev);
	else
		ev->kind = fatal_signal(s, ev);
	if (ev->kind == KMSG_OTHER) {
		memset(ev, 0, sizeof(*ev));
		ev->pid = -1;
	}
	return ev->kind;
}

const char *
kmsg_signame(int sig, char *buf, size_t size)
{
	static const char *const names[32] = {
		NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
		"SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE",
		"SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",
		"SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
		"SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"
	};

	if (sig > 0 && sig < 32)
		return names[sig];
	if (sig <= 0)
		return "unknown";
	snprintf(buf, size, "SIG%d", sig);
	return buf;
}

struct match {
	const char *comm, *file;
	int comm_hit, file_hit;
};

/* name matches an item: equal, or the item is "prefix*" and name starts with it.
 * cut: name may be the first 15 bytes of a longer program name. */
static int
item_match(const char *item, size_t len, const char *name, int cut)
{
	size_t n = strlen(name);

	if (!n)
		return 0;
	if (len && item[len - 1] == '*')
		return n >= len - 1 ? memcmp(name, item, len - 1) == 0 :
		    cut && memcmp(name, item, n) == 0;
	if (n == len)
		return memcmp(name, item, n) == 0;
	return cut && n < len && memcmp(name, item, n) == 0;
}

static int
match_one(const char *item, size_t len, void *arg)
{
	struct match *m = arg;

	m->comm_hit |= item_match(item, len, m->comm, strlen(m->comm) == KMSG_COMM - 1);
	m->file_hit |= item_match(item, len, m->file, 0);
	return 0;
}

int
kmsg_prog_match(const char *progs, const char *comm, const char *file,
    char *prog, size_t size)
{
	struct match m = { comm, file, 0, 0 };
	size_t cl = strlen(comm);

	conf_list(progs, match_one, &m);
	if (m.file_hit && (!cl || strncmp(file, comm, cl) == 0 || !m.comm_hit))
		snprintf(prog, size, "%s", file);
	else if (m.comm_hit)
		snprintf(prog, size, "%s", comm);
	else
		return 0;
	return 1;
}

static int
valid_one(const char *item, size_t len, void *arg)
{
	const char **reason = arg;
	size_t i;

	if (len > KMSG_NAME - 1)
		return *reason = "too-long", -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)item[i] < 0x21 || (unsigned char)item[i] > 0x7e ||
		    item[i] == '/' || (item[i] == '*' && i != len - 1))
			return *reason = "bad-name", -1;
	return 0;
}

static int
count_one(const char *item, size_t len, void *arg)
{
	(void)item;
	(void)len;
	++*(unsigned *)arg;
	return 0;
}

int
kmsg_progs_valid(const char *progs, const char **reason)
{
	unsigned n = 0;

	if (conf_list(progs, valid_one, reason) != 0)
		return -1;
	conf_list(progs, count_one, &n);
	if (!n)
		return *reason = "empty", -1;
	return 0;
}

int
kmsg_cursor_parse(const char *buf, size_t len, struct kmsg_cursor *c)
{
	const char *p = buf + KMSG_BOOTID, *end = buf + len;
	size_t i;

	if (len < KMSG_BOOTID + 2 || buf[KMSG_BOOTID - 1] != ' ')
		return -1;
	for (i = 0; i < KMSG_BOOTID - 1; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f') ||
		    buf[i] == '-'))
			return -1;
	if (num(&p, end, ~0ULL, &c->next) < 0 || p + 1 != end || *p != '\n')
		return -1;
	memcpy(c->bootid, buf, KMSG_BOOTID - 1);
	c->bootid[KMSG_BOOTID - 1] = 0;
	return 0;
}

size_t
kmsg_cursor_format(const struct kmsg_cursor *c, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s %llu\n", c->bootid, c->next);

	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* " STRING" of a crash line: %XX for the bytes that would split or hide
 * the line and for '%', "-" for the empty string (and %2D for "-"). */
static size_t
put_str(char *out, size_t size, size_t n, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)v;
	int dash = p[0] == '-' && !p[1];

	if (n < size)
		out[n] = ' ';
	n++;
	if (!*p) {
		if (n < size)
			out[n] = '-';
		return n + 1;
	}
	for (; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '%' || dash) {
			if (n + 3 <= size) {
				out[n] = '%';
				out[n + 1] = hex[*p >> 4];
				out[n + 2] = hex[*p & 15];
			}
			n += 3;
		} else {
			if (n < size)
				out[n] = (char)*p;
			n++;
		}
	}
	return n;
}

size_t
kmsg_crash_format(const struct kmsg_crash *c, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s %lld %llu %llu %ld %d %d", c->oom ? "oom" : "crash",
	    c->at, c->usec, c->seq, c->pid < 0 ? -1L : c->pid, c->signal, c->reported ? 1 : 0);
	size_t len;

	if (n < 0 || (size_t)n >= size)
		return 0;
	len = (size_t)n;
	len = put_str(buf, size, len, c->prog);
	len = put_str(buf, size, len, c->addr);
	len = put_str(buf, size, len, c->ip);
	len = put_str(buf, size, len, c->error);
	len = put_str(buf, size, len, c->file);
	len = put_str(buf, size, len, c->service);
	if (len + 1 >= size)
		return 0;
	buf[len++] = '\n';
	buf[len] = 0;
	return len;
}

static int
unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
	    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* " STRING" into out (size bytes with the NUL). 0, or -1. */
static int
get_str(const char **pp, const char *end, char *out, size_t size)
{
	const char *p = *pp;
	size_t n = 0;
	int hi, lo;
	char c;

	if (p >= end || *p++ != ' ' || p >= end || *p == ' ')
		return -1;
	if (*p == '-' && (p + 1 == end || p[1] == ' ')) {
		*out = 0;
		*pp = p + 1;
		return 0;
	}
	for (; p < end && *p != ' '; p++) {
		c = *p;
		if ((unsigned char)c < ' ' || (unsigned char)c >= 0x7f)
			return -1;
		if (c == '%') {
			if (end - p < 3 || (hi = unhex(p[1])) < 0 || (lo = unhex(p[2])) < 0 ||
			    !(c = (char)(hi << 4 | lo)))
				return -1;
			p += 2;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	*pp = p;
	return 0;
}

/* " N", or " -N" when neg, into *out. 0, or -1. */
static int
get_num(const char **pp, const char *end, unsigned long long max, int neg, long long *out)
{
	const char *p = *pp;
	unsigned long long v;
	int minus = 0;

	if (p >= end || *p++ != ' ')
		return -1;
	if (neg && p < end && *p == '-') {
		minus = 1;
		p++;
	}
	if (num(&p, end, max, &v) < 0)
		return -1;
	*out = minus ? -(long long)v : (long long)v;
	*pp = p;
	return 0;
}

static int
get_unum(const char **pp, const char *end, unsigned long long *out)
{
	const char *p = *pp;

	if (p >= end || *p++ != ' ' || num(&p, end, ~0ULL, out) < 0)
		return -1;
	*pp = p;
	return 0;
}

/* One crash line [p, end), without its newline. 0, or -1. */
static int
crash_line(const char *p, const char *end, struct kmsg_crash *c)
{
	long long pid, sig, rep;

	memset(c, 0, sizeof(*c));
	if (end - p >= 3 && memcmp(p, "oom", 3) == 0) {
		c->oom = 1;
		p += 3;
	} else if (end - p >= 5 && memcmp(p, "crash", 5) == 0)
		p += 5;
	else
		return -1;
	if (get_num(&p, end, (unsigned long long)LLONG_MAX, 1, &c->at) < 0 ||
	    get_unum(&p, end, &c->usec) < 0 || get_unum(&p, end, &c->seq) < 0 ||
	    get_num(&p, end, (unsigned long long)LONG_MAX, 1, &pid) < 0 || pid < -1 ||
	    get_num(&p, end, 99999, 0, &sig) < 0 || sig > 1024 ||
	    get_num(&p, end, 9, 0, &rep) < 0 || rep > 1 ||
	    get_str(&p, end, c->prog, sizeof(c->prog)) < 0 || !c->prog[0] ||
	    get_str(&p, end, c->addr, sizeof(c->addr)) < 0 ||
	    get_str(&p, end, c->ip, sizeof(c->ip)) < 0 ||
	    get_str(&p, end, c->error, sizeof(c->error)) < 0 ||
	    get_str(&p, end, c->file, sizeof(c->file)) < 0 ||
	    get_str(&p, end, c->service, sizeof(c->service)) < 0 || p != end)
		return -1;
	c->pid = (long)pid;
	c->signal = (int)sig;
	c->reported = (int)rep;
	return 0;
}

int
kmsg_state_parse(const char *buf, size_t len, struct kmsg_cursor *cur,
    int (*fn)(const struct kmsg_crash *, void *), void *arg)
{
	const char *end = buf + len, *p, *nl;
	struct kmsg_crash c;

	if (!(nl = memchr(buf, '\n', len)) ||
	    kmsg_cursor_parse(buf, (size_t)(nl - buf) + 1, cur) < 0)
		return -1;
	for (p = nl + 1; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))) || crash_line(p, nl, &c) < 0)
			return -1;
		if (fn && fn(&c, arg) != 0)
			return -1;
	}
	return 0;
}

long long
kmsg_seq_step(struct kmsg_seq *s, unsigned long long seq)
{
	unsigned long long lost;

	if (seq < s->next)
		return -1;
	lost = s->known ? seq - s->next : 0;
	s->next = seq + 1;
	s->known = 1;
	return lost > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)lost;
}
