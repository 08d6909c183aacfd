#include "checkstate.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

char *
checkstate_read(const char *state, const char *name, size_t max, size_t *lenp)
{
	struct safe_want want = { S_IFREG, (int)geteuid(), 1, 1 };
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int dfd, fd;

	if (!*state || (dfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	fd = safe_openat(dfd, name, O_RDONLY);
	close(dfd);
	if (fd < 0)
		return NULL;
	if (safe_check(fd, &want, &st) != SAFE_OK || !(buf = malloc(max + 1)))
		goto fail;
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	*lenp = len;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

int
checkstate_dir(const char *state)
{
	struct safe_want want = { S_IFDIR, (int)geteuid(), 0, 1 };
	struct stat st;
	int fd;

	if (!*state || (fd = open(state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (safe_check(fd, &want, &st) != SAFE_OK) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *
checkstate_field(const struct finding *f, const char *key, size_t *len)
{
	unsigned i;

	for (i = 0; i < f->nfields && i < FINDING_FIELDS; i++)
		if (f->field[i].key && strcmp(f->field[i].key, key) == 0 &&
		    f->field[i].off <= f->used && f->field[i].len <= f->used - f->field[i].off &&
		    f->used <= FINDING_BUF) {
			*len = f->field[i].len;
			return f->buf + f->field[i].off;
		}
	return NULL;
}

int
checkstate_number(const struct finding *f, const char *key, unsigned long *out)
{
	const char *v;
	size_t len, i;

	if (!(v = checkstate_field(f, key, &len)) || len == 0 || len > 7)
		return -1;
	*out = 0;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		*out = *out * 10 + (unsigned long)(v[i] - '0');
	}
	return 0;
}
