/* Files the root process opens where a less-privileged user can write
 * (queue/ is qmailq's, supervise/ a service owner's, the metrics directory
 * may be prometheus'): never through a symbolic link, never blocking on a
 * FIFO, checked with fstat before use, replaced only through an exclusive
 * temporary file renamed inside the same opened directory.
 *
 * The base directory a path starts from (QMAILHOME, MAINTD_STATE, a service
 * directory) is the administrator's choice and is opened as given; every
 * component below it is opened with O_NOFOLLOW, one at a time. */
#ifndef SAFEFILE_H
#define SAFEFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Opens relpath ("queue/lock/tcpto", or one name) under the directory base
 * (an fd, or AT_FDCWD with relpath made absolute by the caller) one component
 * at a time with O_NOFOLLOW; the last with flags | O_NOFOLLOW | O_NONBLOCK |
 * O_CLOEXEC | O_NOCTTY. -1 and errno (ELOOP: a symbolic link on the way). */
int safe_openat(int base, const char *relpath, int flags);

/* What a file must be before it is used. */
struct safe_want {
	mode_t type;		/* S_IFREG, S_IFDIR; 0: any */
	int uid;		/* its owner, or -1: any */
	int one_link;		/* a regular file with exactly one link */
	int not_writable;	/* neither group- nor other-writable */
};

enum safe_verdict {
	SAFE_OK,
	SAFE_TYPE,		/* not the type wanted */
	SAFE_OWNER,		/* another owner */
	SAFE_LINKS,		/* hard links: a name that is not the only one */
	SAFE_WRITABLE		/* writable by group or others */
};

/* fstat(fd) into *st and the first way it differs from want. -1: fstat failed. */
int safe_check(int fd, const struct safe_want *, struct stat *st);
/* "symlink", "fifo", "directory", "file", "socket", "device", "other": an
 * st_mode's type for a finding's type= field. */
const char *safe_type_name(mode_t mode);

/* Replaces name in the directory dirfd with len bytes: a temporary
 * ".name.tmp" made O_CREAT|O_EXCL|O_NOFOLLOW (a stale one, left by a crash,
 * is unlinked first: unlinkat never follows a link), written, fsync'ed, given
 * mode, renamed onto name inside dirfd. 0, or -1 and errno. */
int safe_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode);
/* The same without the fsync, for a snapshot the next run writes again (the
 * status file, the metrics file, the queue's caches): an fsync on the event
 * loop can wait seconds on a busy disk, and SIGTERM would wait with it. The
 * rename still makes it whole or absent for a reader. */
int safe_replace_snapshot(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode);

/* Opens (and first makes, mode 0711, if missing) the state directory path:
 * it must be a directory owned by this process's effective uid and not
 * writable by group or others. fd, or -1 with errno (EPERM: the owner,
 * EACCES: writable by others, ENOTDIR). */
int safe_state_dir(const char *path);

#endif
