/* queue-gen QUEUEDIR N [SPLIT [DOMAINS]]: a synthetic qmail queue with qmail's
 * exact layout (owners, modes, lock files, split subdirectories, flat todo/
 * intd/bounce) and N messages whose ids are their inode numbers, in mixed states:
 *   70% preprocessed: mess + info + remote (a third also local; some
 *       records done; 5% bouncing)
 *   20% not yet preprocessed: mess + intd + todo
 *   10% being queued: mess (+ intd for half)
 * Message files are made the way qmail-queue makes them: a pid/ file,
 * linked to mess/S/INODE, unlinked. For benchmarks and the yield test.
 * With DOMAINS, each remote/ file has 1 to 4 recipients (a fifth of them
 * done) to DOMAINS distinct domains dN.test: half of them to d0..d9.test,
 * the rest spread evenly; some in upper case, some with an @ in the quoted
 * local part (the queue shape's test and benchmark). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static uid_t qq, qs, qr;
static gid_t gq;
static const char *top;
static unsigned long split = 23;
static unsigned long domains;	/* 0: every remote/ file the same */

static void
die(const char *what)
{
	fprintf(stderr, "queue-gen: %s: %s\n", what, strerror(errno));
	exit(111);
}

static void
mkd(const char *path, uid_t u, mode_t m)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", top, path);
	if (mkdir(p, m) < 0 && errno != EEXIST)
		die(p);
	if (chown(p, u, gq) < 0 || chmod(p, m) < 0)
		die(p);
}

static void
mkf(const char *path, uid_t u, mode_t m, const void *data, size_t len)
{
	char p[4096];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", top, path);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, m)) < 0)
		die(p);
	if ((len && write(fd, data, len) != (ssize_t)len) || fchown(fd, u, gq) < 0 ||
	    fchmod(fd, m) < 0)
		die(p);
	close(fd);
}

static void
layout(void)
{
	static const struct { const char *d; int split; int who; mode_t m; } dirs[] = {
		{ "mess", 1, 0, 0750 }, { "info", 1, 1, 0700 }, { "local", 1, 1, 0700 },
		{ "remote", 1, 1, 0700 }, { "todo", 0, 0, 0750 }, { "intd", 0, 0, 0700 },
		{ "bounce", 0, 1, 0700 }, { "pid", 0, 0, 0700 }, { "lock", 0, 0, 0750 },
	};
	static const char zero[1024];
	char p[4096];
	unsigned i;
	unsigned long s;

	if (mkdir(top, 0750) < 0 && errno != EEXIST)
		die(top);
	if (chown(top, qq, gq) < 0 || chmod(top, 0750) < 0)
		die(top);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		mkd(dirs[i].d, dirs[i].who ? qs : qq, dirs[i].m);
		for (s = 0; dirs[i].split && s < split; s++) {
			snprintf(p, sizeof(p), "%s/%lu", dirs[i].d, s);
			mkd(p, dirs[i].who ? qs : qq, dirs[i].m);
		}
	}
	mkf("lock/tcpto", qr, 0644, zero, sizeof(zero));
	mkf("lock/sendmutex", qs, 0600, "", 0);
	snprintf(p, sizeof(p), "%s/lock/trigger", top);
	if (mkfifo(p, 0622) < 0 || chown(p, qs, gq) < 0 || chmod(p, 0622) < 0)
		die(p);
}

/* qmail-queue: pid/ file -> mess/S/INODE; returns the id */
static unsigned long
mess(unsigned long n)
{
	char pid[4096], m[4096], body[600];
	struct stat st;
	size_t len = 100 + n % 400;
	int fd;

	snprintf(pid, sizeof(pid), "%s/pid/%ld.0.%lu", top, (long)getpid(), n);
	if ((fd = open(pid, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 || fstat(fd, &st) < 0)
		die(pid);
	snprintf(m, sizeof(m), "%s/mess/%lu/%lu", top, (unsigned long)st.st_ino % split,
	    (unsigned long)st.st_ino);
	if (link(pid, m) < 0 || unlink(pid) < 0)
		die(m);
	memset(body, 'x', sizeof(body));
	if (write(fd, body, len) != (ssize_t)len || fchown(fd, qq, gq) < 0)
		die(m);
	close(fd);
	return (unsigned long)st.st_ino;
}

static unsigned long long
rnd(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* remote/ records of message n: deterministic, skewed over the domains */
static size_t
remote_of(unsigned long n, char *buf, size_t size)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL ^ (n * 0x100000001b3ULL + 1);
	unsigned k, nr;
	size_t len = 0;

	rnd(&x);
	nr = 1 + (unsigned)(rnd(&x) % 4);
	for (k = 0; k < nr && len + 128 < size; k++) {
		unsigned long d = rnd(&x) % 2 || domains <= 10 ? rnd(&x) % (domains < 10 ? domains : 10) :
		    10 + rnd(&x) % (domains - 10);
		int done = rnd(&x) % 5 == 0, upper = rnd(&x) % 7 == 0, quoted = rnd(&x) % 11 == 0;

		len += (size_t)snprintf(buf + len, size - len, "%c%su%lu.%u%s@%s%lu.%s", done ? 'D' : 'T',
		    quoted ? "\"" : "", n, k, quoted ? "@x\"" : "", upper ? "D" : "d", d,
		    upper ? "TEST" : "test") + 1;	/* the NUL snprintf wrote */
	}
	return len;
}

static void
message(unsigned long n)
{
	static const char env[] = "u0\0p1\0Fbench@example.test\0Trcpt@example.test\0";
	static const char rem[] = "Ta1@remote.test\0Ta2@remote.test\0";
	static const char loc[] = "Dl1@local.test\0Tl2@local.test\0";
	unsigned long id = mess(n), kind = n % 10;
	char p[256], q[256];

	if (kind < 7) {
		snprintf(p, sizeof(p), "info/%lu/%lu", id % split, id);
		mkf(p, qs, 0600, "Fbench@example.test", 20);
		snprintf(p, sizeof(p), "remote/%lu/%lu", id % split, id);
		if (domains) {
			char r[1024];

			mkf(p, qs, 0600, r, remote_of(n, r, sizeof(r)));
		} else
			mkf(p, qs, 0600, rem, sizeof(rem) - 1);
		if (n % 3 == 0) {
			snprintf(p, sizeof(p), "local/%lu/%lu", id % split, id);
			mkf(p, qs, 0600, loc, sizeof(loc) - 1);
		}
		if (n % 20 == 1) {
			snprintf(p, sizeof(p), "bounce/%lu", id);
			mkf(p, qs, 0600, "<a@b>:\nfailed\n\n", 15);
		}
	} else if (kind < 9 || n % 2) {
		snprintf(p, sizeof(p), "intd/%lu", id);
		mkf(p, qq, 0644, env, sizeof(env) - 1);
		if (kind < 9) {
			snprintf(p, sizeof(p), "%s/intd/%lu", top, id);
			snprintf(q, sizeof(q), "%s/todo/%lu", top, id);
			if (link(p, q) < 0)
				die(q);
		}
	}
}

int
main(int argc, char **argv)
{
	struct passwd *pw;
	struct group *gr;
	unsigned long n, i;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: queue-gen QUEUEDIR N [SPLIT [DOMAINS]]\n");
		return 100;
	}
	top = argv[1];
	n = strtoul(argv[2], NULL, 10);
	if (argc >= 4)
		split = strtoul(argv[3], NULL, 10);
	if (argc == 5)
		domains = strtoul(argv[4], NULL, 10);
	if (!split || split > 100000)
		return 100;
	if (!(pw = getpwnam("qmailq")) || !(qq = pw->pw_uid, pw = getpwnam("qmails")) ||
	    !(qs = pw->pw_uid, pw = getpwnam("qmailr")) || !(gr = getgrnam("qmail"))) {
		fprintf(stderr, "queue-gen: the qmail users do not exist (tests/setup-host.sh)\n");
		return 111;
	}
	qr = pw->pw_uid;
	gq = gr->gr_gid;
	umask(022);
	layout();
	for (i = 0; i < n; i++)
		message(i);
	return 0;
}
