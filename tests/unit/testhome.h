/* A scratch QMAILHOME for the unit tests of checks that read qmail's control
 * files and a state directory: made in the test's mkdtemp template with
 * control/ (0755) and state/ (0700), files read and written by their path
 * under it, removed at teardown. Each test program has its own. */
#ifndef TESTHOME_H
#define TESTHOME_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

static char *testhome;		/* the made directory: the test's template */

/* me: the text of control/me, or NULL for none. 0, or -1. */
static inline int
testhome_make(char *tmpl, const char *me)
{
	char path[PATH_MAX];
	FILE *f;

	if (!mkdtemp(tmpl))
		return -1;
	testhome = tmpl;
	snprintf(path, sizeof(path), "%s/control", testhome);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/state", testhome);
	mkdir(path, 0700);
	if (!me)
		return 0;
	snprintf(path, sizeof(path), "%s/control/me", testhome);
	if (!(f = fopen(path, "w")))
		return -1;
	fprintf(f, "%s\n", me);
	return fclose(f);
}

/* The daemon's conf for it: QMAILHOME, its state/, control/me's name. */
static inline void
testhome_conf(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->qmailhome, sizeof(c->qmailhome), "%s", testhome);
	snprintf(c->state, sizeof(c->state), "%s/state", testhome);
	snprintf(c->me, sizeof(c->me), "mx1.example.test");
}

/* The path of rel under it (a static buffer). */
static inline const char *
testhome_path(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", testhome, rel);
	return path;
}

/* rel's text (a static buffer, at most 4095 bytes), or NULL when absent. */
static inline char *
testhome_get(const char *rel)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(testhome_path(rel), O_RDONLY)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static inline int
testhome_remove(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", testhome);
	return system(cmd);
}

#endif
