/* qmail-maintd-conf ACCT LOGACCT DIR: makes a service directory for
 * qmail-maintd, the way dnscache-conf does. The daemon runs as root (the
 * queue and /dev/kmsg need it); ACCT is the unprivileged account its probe
 * process runs as (env/MAINTD_PROBEUSER), chrooted to the empty DIR/root
 * (env/MAINTD_PROBEROOT), like dnscache's Gdnscache and root/. Everything is
 * written and fsync'd; an existing DIR is never touched. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "conf.h"

#define EXIT_TEMP 111
#define EXIT_USAGE 100

static const char *dir;

static void __attribute__((noreturn))
die(const char *what, const char *path)
{
	fprintf(stderr, "qmail-maintd-conf: fatal: unable to %s %s: %s\n", what, path,
	    strerror(errno));
	exit(EXIT_TEMP);
}

static void
sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		die("fsync", path);
	close(fd);
}

static void
make_dir(const char *path, mode_t mode, const struct passwd *owner)
{
	if (mkdir(path, mode) < 0)
		die("create", path);
	if (chmod(path, mode) < 0)
		die("chmod", path);
	if (owner && chown(path, owner->pw_uid, owner->pw_gid) < 0)
		die("chown", path);
}

static void
make_file(const char *path, const char *text, mode_t mode)
{
	size_t n = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0)
		die("create", path);
	if (write(fd, text, n) != (ssize_t)n || fchmod(fd, mode) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0)
		die("write", path);
}

static void
path_in(char *buf, size_t size, const char *rel)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, rel) >= size) {
		errno = ENAMETOOLONG;
		die("create", rel);
	}
}

static void
env_file(const char *name, const char *value)
{
	char path[PATH_MAX], text[512];

	path_in(path, sizeof(path), "env/");
	strncat(path, name, sizeof(path) - strlen(path) - 1);
	snprintf(text, sizeof(text), "%s\n", value);
	make_file(path, text, 0644);
}

static const char *probe_user, *probe_root;

/* The value env/ starts with: the default, or what the arguments say. */
static const char *
initial(const struct confvar *v)
{
	if (v == &conf_probeuser)
		return probe_user;
	if (v == &conf_proberoot)
		return probe_root;
	return v->def;
}

/* One file per variable, at its default. */
/* A variable that several checks read (MAINTD_DNS_SERVERS) has one file. */
static int
listed_before(unsigned check, const struct confvar *v)
{
	const struct check *c;
	unsigned i, j;

	for (i = 0; i < check && (c = maintd_checks[i]); i++)
		for (j = 0; c->vars && c->vars[j]; j++)
			if (c->vars[j] == v)
				return 1;
	return 0;
}

static void
env_files(void)
{
	const struct check *c;
	char name[64], value[32];
	unsigned i, j;
	size_t k;

	for (i = 0; conf_global_vars[i]; i++)
		env_file(conf_global_vars[i]->name, initial(conf_global_vars[i]));
	for (i = 0; (c = maintd_checks[i]); i++) {
		if (c->interval) {	/* others follow MAINTD_INTERVAL */
			snprintf(name, sizeof(name), "MAINTD_INTERVAL_%s", c->name);
			for (k = 0; name[k]; k++)
				if (name[k] >= 'a' && name[k] <= 'z')
					name[k] = (char)(name[k] - 'a' + 'A');
			snprintf(value, sizeof(value), "%u", c->interval);
			env_file(name, value);
		}
		for (j = 0; c->vars && c->vars[j]; j++)
			if (!listed_before(i, c->vars[j]))
				env_file(c->vars[j]->name, c->vars[j]->def);
	}
}

/* getpwnam's result, copied: a second call overwrites it */
static struct passwd *
account(const char *name, struct passwd *copy)
{
	struct passwd *pw = getpwnam(name);

	if (!pw) {
		fprintf(stderr, "qmail-maintd-conf: fatal: unknown account %s\n", name);
		return NULL;
	}
	*copy = *pw;
	copy->pw_name = (char *)name;
	return copy;
}

/* The qmail-maintd installed beside this program. */
static const char *
daemon_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return MAINTD_BINDIR "/qmail-maintd";
	path[n] = '\0';
	if (!(slash = strrchr(path, '/')))
		return MAINTD_BINDIR "/qmail-maintd";
	strcpy(slash + 1, "qmail-maintd");
	return path;
}

int
main(int argc, char **argv)
{
	char path[PATH_MAX], root[PATH_MAX], text[1024];
	struct passwd acct_buf, logacct_buf, *acct, *logacct;

	if (argc != 4) {
		fprintf(stderr, "usage: qmail-maintd-conf ACCT LOGACCT DIR\n");
		return EXIT_USAGE;
	}
	dir = argv[3];
	if (dir[0] != '/') {
		fprintf(stderr, "qmail-maintd-conf: fatal: DIR must start with /\n");
		return EXIT_USAGE;
	}
	if (!(acct = account(argv[1], &acct_buf)) || !(logacct = account(argv[2], &logacct_buf)))
		return EXIT_USAGE;
	if (acct->pw_uid == 0 || acct->pw_gid == 0) {
		fprintf(stderr, "qmail-maintd-conf: fatal: ACCT runs the probe process: "
		    "an unprivileged account, not %s\n", acct->pw_name);
		return EXIT_USAGE;
	}
	probe_user = acct->pw_name;
	path_in(root, sizeof(root), "root");
	probe_root = root;
	umask(022);
	make_dir(dir, 01755, NULL);
	path_in(path, sizeof(path), "log");
	make_dir(path, 0755, NULL);
	path_in(path, sizeof(path), "log/main");
	make_dir(path, 0755, logacct);
	path_in(path, sizeof(path), "env");
	make_dir(path, 0755, NULL);
	/* the daemon's, root's: writable by no one else, readable by no one else
	 * but the status file (0711) */
	path_in(path, sizeof(path), "state");
	make_dir(path, 0711, NULL);
	make_dir(root, 0755, NULL);	/* empty: the probe process's / */

	/* as root: the queue and /dev/kmsg need it; the probe process drops to ACCT */
	snprintf(text, sizeof(text), "#!/bin/sh\nexec 2>&1\nexec envdir ./env ");
	strncat(text, daemon_path(), sizeof(text) - strlen(text) - 2);
	strcat(text, "\n");
	path_in(path, sizeof(path), "run");
	make_file(path, text, 0755);

	snprintf(text, sizeof(text),
	    "#!/bin/sh\n"
	    "exec setuidgid %s multilog t s16777215 n10 ./main\n", logacct->pw_name);
	path_in(path, sizeof(path), "log/run");
	make_file(path, text, 0755);

	env_files();
	path_in(path, sizeof(path), "env");
	sync_dir(path);
	path_in(path, sizeof(path), "log");
	sync_dir(path);
	sync_dir(dir);
	return 0;
}
