/* Test helper for tests/it/tcpto_*.sh: a qmail-remote-like writer of a classic
 * queue/lock/tcpto, locking as qmail's tcpto_err does (a write descriptor
 * locked with flock(LOCK_EX), a read descriptor, one record written at i*16).
 *
 *   tcptohelper shift FILE SECONDS         add SECONDS to every record's time
 *   tcptohelper set FILE SLOT AGE COUNT    one record 10.0.0.SLOT, time now-AGE
 *   tcptohelper hold FILE MS SLOT CMD...   lock; run CMD; MS ms after CMD has
 *                                          opened FILE, refresh SLOT (time
 *                                          now) and unlock; exit with CMD's
 *                                          status
 *   tcptohelper lock FILE MS                hold the lock MS ms, write nothing
 *   tcptohelper hammer FILE N              N updates, each one checking under
 *                                          the lock that no earlier one is lost
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE 1024
#define SLOTS 64

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "tcptohelper: %s: %s\n", what, strerror(errno));
	exit(111);
}

static int fdw = -1;

/* qmail's getbuf(): open twice, lock the write descriptor, read */
static void
lock_read(const char *file, unsigned char *buf)
{
	int fdr;

	if ((fdw = open(file, O_WRONLY)) < 0 || (fdr = open(file, O_RDONLY)) < 0)
		die("open");
	if (flock(fdw, LOCK_EX) < 0)
		die("flock");
	if (read(fdr, buf, SIZE) != SIZE)
		die("read");
	close(fdr);
}

static void
write_rec(const unsigned char *buf, unsigned slot)
{
	if (pwrite(fdw, buf + slot * 16, 16, slot * 16) != 16)
		die("pwrite");
}

static void
unlock(void)
{
	close(fdw);
	fdw = -1;
}

static void
make_rec(unsigned char *r, unsigned a, unsigned b, unsigned count, unsigned long when)
{
	memset(r, 0, 16);
	r[0] = 10;
	r[2] = (unsigned char)a;
	r[3] = (unsigned char)b;
	r[4] = (unsigned char)count;
	r[8] = when & 0xff;
	r[9] = (when >> 8) & 0xff;
	r[10] = (when >> 16) & 0xff;
	r[11] = (when >> 24) & 0xff;
}

static int
do_shift(const char *file, long delta)
{
	unsigned char buf[SIZE], *r;
	unsigned i;
	unsigned long when;

	lock_read(file, buf);
	for (i = 0; i < SLOTS; i++) {
		r = buf + i * 16;
		when = r[8] | r[9] << 8 | r[10] << 16 | (unsigned long)r[11] << 24;
		if (!when)
			continue;
		when += (unsigned long)delta;
		r[8] = when & 0xff;
		r[9] = (when >> 8) & 0xff;
		r[10] = (when >> 16) & 0xff;
		r[11] = (when >> 24) & 0xff;
		write_rec(buf, i);
	}
	unlock();
	return 0;
}

static int
do_set(const char *file, unsigned slot, long age, unsigned count)
{
	unsigned char buf[SIZE];

	lock_read(file, buf);
	make_rec(buf + slot * 16, 0, slot, count, (unsigned long)(time(NULL) - age));
	write_rec(buf, slot);
	unlock();
	return 0;
}

/* whether process pid has the file open (its first lock attempt follows) */
static int
has_open(pid_t pid, const struct stat *want)
{
	char dir[64], path[400];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if (!(d = opendir(dir)))
		return 0;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			found = stat(path, &st) == 0 && st.st_ino == want->st_ino &&
			    st.st_dev == want->st_dev;
		}
	closedir(d);
	return found;
}

static int
do_hold(const char *file, long ms, unsigned slot, char **cmd)
{
	unsigned char buf[SIZE];
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 }, poll = { 0, 200000 };
	struct stat want;
	int status;
	pid_t pid, reaped = 0;

	if (stat(file, &want) < 0)
		die("stat");
	alarm(60);
	lock_read(file, buf);
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		close(fdw);	/* the lock belongs to the parent's descriptor */
		execvp(cmd[0], cmd);
		die("exec");
	}
	while (!has_open(pid, &want) && !(reaped = waitpid(pid, &status, WNOHANG)))
		nanosleep(&poll, NULL);
	nanosleep(&ts, NULL);
	make_rec(buf + slot * 16, 0, slot, 2, (unsigned long)time(NULL));
	write_rec(buf, slot);
	unlock();
	if (!reaped && waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 126;
}

static int
do_lock(const char *file, long ms)
{
	unsigned char buf[SIZE];
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	lock_read(file, buf);
	nanosleep(&ts, NULL);
	unlock();
	return 0;
}

/* Each update: under the lock, every slot holds what this writer last put
 * there, or zeros where that was stale (a prune's right); then one slot gets
 * a new record, every third one stale (older than any max age). */
static int
do_hammer(const char *file, unsigned n)
{
	unsigned char buf[SIZE], last[SIZE] = { 0 }, stale[SLOTS] = { 0 }, mine[SLOTS] = { 0 };
	static const unsigned char zero[16];
	struct timespec ts = { 0, 2000000 };
	unsigned k, s, cleared = 0;

	for (k = 0; k <= n; k++) {
		lock_read(file, buf);
		for (s = 0; s < SLOTS; s++) {
			const unsigned char *is = buf + s * 16, *was = last + s * 16;

			if (!mine[s] || !memcmp(is, was, 16))
				continue;
			if (stale[s] && !memcmp(is, zero, 16)) {
				cleared++;
				memset(last + s * 16, 0, 16);
				stale[s] = 0;
				continue;
			}
			fprintf(stderr, "tcptohelper: update %u: slot %u lost its record\n", k, s);
			return 1;
		}
		if (k == n) {
			unlock();
			break;
		}
		s = (k * 7) % SLOTS;
		stale[s] = k % 3 == 0;
		make_rec(buf + s * 16, k >> 8, k & 0xff, 1 + k % 10,
		    (unsigned long)(time(NULL) - (stale[s] ? 100000 : 0)));
		memcpy(last + s * 16, buf + s * 16, 16);
		mine[s] = 1;
		write_rec(buf, s);
		unlock();
		nanosleep(&ts, NULL);
	}
	printf("updates=%u cleared=%u\n", n, cleared);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "shift"))
		return do_shift(argv[2], strtol(argv[3], NULL, 10));
	if (argc == 6 && !strcmp(argv[1], "set"))
		return do_set(argv[2], (unsigned)atoi(argv[3]) % SLOTS, strtol(argv[4], NULL, 10),
		    (unsigned)atoi(argv[5]));
	if (argc >= 6 && !strcmp(argv[1], "hold"))
		return do_hold(argv[2], strtol(argv[3], NULL, 10), (unsigned)atoi(argv[4]) % SLOTS,
		    argv + 5);
	if (argc == 4 && !strcmp(argv[1], "lock"))
		return do_lock(argv[2], strtol(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "hammer"))
		return do_hammer(argv[2], (unsigned)atoi(argv[3]));
	fprintf(stderr, "usage: tcptohelper shift|set|hold|hammer FILE ...\n");
	return 100;
}
