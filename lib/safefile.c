#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
safe_openat(int base, const char *relpath, int flags)
{
	char comp[NAME_MAX + 1];
	const char *p = relpath, *slash;
	int fd = base, next, e;
	size_t n;

	for (;;) {
		while (*p == '/')
			p++;
		if (!(slash = strchr(p, '/')) || !slash[strspn(slash, "/")])
			break;	/* p is the last component */
		n = (size_t)(slash - p);
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != base)
			close(fd);
		if ((fd = next) < 0)
			return -1;
		p = slash;
	}
	n = strcspn(p, "/");
	if (n == 0 || n > NAME_MAX) {
		errno = n ? ENAMETOOLONG : EINVAL;
		goto fail;
	}
	memcpy(comp, p, n);
	comp[n] = 0;
	next = openat(fd, comp, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	e = errno;
	if (fd != base)
		close(fd);
	errno = e;
	return next;
fail:
	e = errno;
	if (fd != base)
		close(fd);
	errno = e;
	return -1;
}

int
safe_check(int fd, const struct safe_want *w, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return -1;
	if (w->type && (st->st_mode & S_IFMT) != w->type)
		return SAFE_TYPE;
	if (w->uid >= 0 && st->st_uid != (uid_t)w->uid)
		return SAFE_OWNER;
	if (w->one_link && S_ISREG(st->st_mode) && st->st_nlink != 1)
		return SAFE_LINKS;
	if (w->not_writable && (st->st_mode & 022))
		return SAFE_WRITABLE;
	return SAFE_OK;
}

const char *
safe_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symlink";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFCHR:
	case S_IFBLK: return "device";
	default: return "other";
	}
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len) {
		if ((w = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
    int durable);

int
safe_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
	return replace(dirfd, name, buf, len, mode, 1);
}

int
safe_replace_snapshot(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
	return replace(dirfd, name, buf, len, mode, 0);
}

static int
replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode, int durable)
{
	char tmp[NAME_MAX + 1];
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* a link or file planted under the temporary name is removed, never followed */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -1;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	    mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) < 0 || fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0))
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

int
safe_state_dir(const char *path)
{
	static const struct safe_want want = { .type = S_IFDIR, .not_writable = 1 };
	struct safe_want w = want;
	struct stat st;
	int fd, v;

	if (mkdir(path, 0711) < 0 && errno != EEXIST)
		return -1;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	w.uid = (int)geteuid();
	if ((v = safe_check(fd, &w, &st)) != SAFE_OK) {
		close(fd);
		errno = v < 0 ? errno : v == SAFE_TYPE ? ENOTDIR : v == SAFE_OWNER ? EPERM : EACCES;
		return -1;
	}
	return fd;
}
