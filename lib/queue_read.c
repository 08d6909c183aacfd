/* Reading info/local/remote files, in place or on the reader thread. The
 * thread only opens, reads and closes files and fills results; findings,
 * the cache and everything else stay on the event loop's thread. */
#include "queue_read.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

int
queue_open(int at, const char *path, int flags)
{
	int fd;

	flags |= O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
	if ((fd = openat(at, path, flags | O_NOATIME)) < 0 && errno == EPERM)
		fd = openat(at, path, flags);	/* O_NOATIME needs the owner or CAP_FOWNER */
	return fd;
}

long
queue_send_holder(const struct stat *mutex, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/locks", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (len < size && (n = read(fd, buf + len, size - len)) > 0)
		len += (size_t)n;
	close(fd);
	return queue_locks_holder(buf, len, major(mutex->st_dev), minor(mutex->st_dev),
	    (unsigned long long)mutex->st_ino);
}

static int
open_file(int dirfd, const char *name)
{
	return queue_open(dirfd, name, O_NONBLOCK);
}

/* A read that first tries not to wait for the disk: a file whose pages are
 * not in memory makes the reader ask for the next ones ahead. */
static ssize_t
read_fast(int fd, char *buf, size_t len, unsigned *cold)
{
	struct iovec iov = { buf, len };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (n >= 0 || (errno != EAGAIN && errno != EOPNOTSUPP))
		return n;
	if (errno == EAGAIN && cold)
		*cold = QFILE_COLD;
	return read(fd, buf, len);
}

/* info/N: its head, its last byte; "F<sender>\0" or bad */
static int
read_info(int fd, struct qfile_res *res, unsigned *cold)
{
	unsigned char last = 1;
	ssize_t n = read_fast(fd, res->head, sizeof(res->head), cold);

	if (n > 0 && res->st.st_size > n && pread(fd, &last, 1, res->st.st_size - 1) != 1)
		last = 1;
	else if (n > 0 && res->st.st_size <= n)
		last = (unsigned char)res->head[n - 1];
	return queue_info_parse(res->head, n > 0 ? (size_t)n : 0,
	    (unsigned long long)res->st.st_size, last, &res->qi);
}

/* local|remote/N, in pieces */
static void
read_chan(int fd, struct qfile_res *res, char *buf, size_t size, unsigned *cold, int doms)
{
	struct queue_chan *c = &res->chan;
	ssize_t n;

	queue_chan_init(c);
	if (doms) {
		qdoms_reset(&res->doms);
		c->doms = &res->doms;
	}
	while (c->off < (unsigned long long)res->st.st_size &&
	    (n = read_fast(fd, buf, size, cold)) > 0)
		if (queue_chan_feed(c, buf, (size_t)n) < 0)
			break;
	queue_chan_end(c);
	c->doms = NULL;
	if (doms)
		qdoms_finish(&res->doms);
}

void
qfile_read(int dirfd, const char *name, int fd, enum qfile kind, struct qfile_res *res,
    char *buf, size_t size, unsigned *cold)
{
	res->err = 0;
	res->qi.sender = "";
	res->qi.senderlen = 0;
	queue_chan_init(&res->chan);
	qdoms_reset(&res->doms);
	if (fd < 0 && (fd = open_file(dirfd, name)) < 0) {
		res->err = errno;
		res->r = errno == ENOENT ? -2 : -3;
		return;
	}
	if (fstat(fd, &res->st) < 0)
		res->err = errno;
	if (res->err || !S_ISREG(res->st.st_mode)) {
		close(fd);
		res->r = -3;
		return;
	}
	res->r = 0;
	if (kind == QFILE_INFO)
		res->r = read_info(fd, res, cold);
	else
		read_chan(fd, res, buf, size, cold, kind == QFILE_REMOTE);
	close(fd);
}

/* ---- the reader thread ---- */

#define BATCH 16	/* a waiting side is woken for this many results, or room */

struct qreader {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t ready, room;	/* for the walk, for the worker; and stop */
	size_t n, produced, consumed;	/* results [consumed, produced) are ready */
	size_t want;			/* the walk waits for produced >= want, or 0 */
	size_t roomwant;		/* the worker waits for consumed >= roomwant, or 0 */
	int stop;
	qreader_job job;
	void *arg;
	/* the worker's alone */
	size_t ahead, pf;		/* files [produced, pf) are open in fd[] */
	unsigned cold;
	int fd[QREADER_RING];
	enum qfile kind[QREADER_RING];
	int none[QREADER_RING];		/* result slot of a job with nothing to read */
	struct qfile_res res[QREADER_RING];
	char buf[65536];
};

/* Opens the next files ahead of job i and, once a read has found a file not
 * in memory, asks the kernel to read them now (POSIX_FADV_WILLNEED starts
 * the I/O without waiting): several reads in flight instead of one. */
static void
open_ahead(struct qreader *rd, size_t i)
{
	char name[32];
	size_t k;
	int dirfd;

	if (rd->pf < i)
		rd->pf = i;
	for (; rd->pf < rd->n && rd->pf < i + rd->ahead; rd->pf++) {
		k = rd->pf % QREADER_RING;
		rd->fd[k] = -1;
		if ((rd->kind[k] = rd->job(rd->arg, rd->pf, &dirfd, name, sizeof(name))) ==
		    QFILE_NONE)
			continue;
		if ((rd->fd[k] = open_file(dirfd, name)) < 0) {
			if (errno == EMFILE || errno == ENFILE)
				break;	/* again once ours are read and closed */
			continue;	/* qfile_read opens it again and says why */
		}
		if (rd->cold) {
			rd->cold--;
			posix_fadvise(rd->fd[k], 0, 0, POSIX_FADV_WILLNEED);
		}
	}
}

static void
read_job(struct qreader *rd, size_t i)
{
	size_t k = i % QREADER_RING;
	char name[32];
	enum qfile kind;
	int dirfd = -1, fd = -1;

	if (i < rd->pf) {	/* opened ahead (or found to be nothing) */
		kind = rd->kind[k];
		fd = rd->fd[k];
		if (kind != QFILE_NONE && fd < 0)	/* its open failed: again, to say why */
			rd->job(rd->arg, i, &dirfd, name, sizeof(name));
	} else
		kind = rd->job(rd->arg, i, &dirfd, name, sizeof(name));
	rd->none[k] = kind == QFILE_NONE;
	if (kind != QFILE_NONE)
		qfile_read(dirfd, name, fd, kind, &rd->res[k], rd->buf, sizeof(rd->buf), &rd->cold);
}

static void *
reader_main(void *arg)
{
	struct qreader *rd = arg;
	size_t i;
	int stop = 0;

	for (i = 0; i < rd->n; i++) {
		pthread_mutex_lock(&rd->mu);
		if (i >= rd->consumed + QREADER_RING)	/* full: wait for a batch of room */
			rd->roomwant = i + 1 + BATCH - QREADER_RING;
		while (i >= rd->consumed + QREADER_RING && !rd->stop)
			pthread_cond_wait(&rd->room, &rd->mu);
		rd->roomwant = 0;
		stop = rd->stop;
		pthread_mutex_unlock(&rd->mu);
		if (stop)
			break;
		open_ahead(rd, i);
		read_job(rd, i);
		pthread_mutex_lock(&rd->mu);
		rd->produced = i + 1;
		if (rd->want && rd->produced >= rd->want)
			pthread_cond_signal(&rd->ready);
		pthread_mutex_unlock(&rd->mu);
	}
	pthread_mutex_lock(&rd->mu);
	rd->want = 0;
	pthread_cond_signal(&rd->ready);	/* the end: whatever the walk waits for */
	pthread_mutex_unlock(&rd->mu);
	for (; i < rd->pf; i++)	/* stopped: what was opened ahead */
		if (rd->fd[i % QREADER_RING] >= 0)
			close(rd->fd[i % QREADER_RING]);
	return NULL;
}

struct qreader *
qreader_start(size_t n, qreader_job job, void *arg, size_t ahead)
{
	struct qreader *rd = calloc(1, sizeof(*rd));

	if (!rd)
		return NULL;
	rd->n = n;
	rd->job = job;
	rd->arg = arg;
	rd->ahead = ahead < 1 ? 1 : ahead > QREADER_RING ? QREADER_RING : ahead;
	/* on Linux these inits cannot fail; pthread_create can (EAGAIN) */
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->ready, NULL);
	pthread_cond_init(&rd->room, NULL);
	if (pthread_create(&rd->tid, NULL, reader_main, rd) != 0) {
		pthread_cond_destroy(&rd->room);
		pthread_cond_destroy(&rd->ready);
		pthread_mutex_destroy(&rd->mu);
		free(rd);
		return NULL;
	}
	return rd;
}

const struct qfile_res *
qreader_result(struct qreader *rd, size_t i)
{
	pthread_mutex_lock(&rd->mu);
	if (rd->produced <= i) {	/* wake for a batch, not for each file */
		rd->want = i + BATCH < rd->n ? i + BATCH : rd->n;
		while (rd->produced <= i)
			pthread_cond_wait(&rd->ready, &rd->mu);
		rd->want = 0;
	}
	pthread_mutex_unlock(&rd->mu);
	return rd->none[i % QREADER_RING] ? NULL : &rd->res[i % QREADER_RING];
}

void
qreader_release(struct qreader *rd, size_t i)
{
	pthread_mutex_lock(&rd->mu);
	rd->consumed = i;
	if (rd->roomwant && rd->consumed >= rd->roomwant)
		pthread_cond_signal(&rd->room);
	pthread_mutex_unlock(&rd->mu);
}

void
qreader_stop(struct qreader *rd)
{
	size_t i;

	if (!rd)
		return;
	pthread_mutex_lock(&rd->mu);
	rd->stop = 1;
	pthread_cond_signal(&rd->room);
	pthread_mutex_unlock(&rd->mu);
	pthread_join(rd->tid, NULL);
	for (i = 0; i < QREADER_RING; i++)
		qdoms_free(&rd->res[i].doms);
	pthread_cond_destroy(&rd->room);
	pthread_cond_destroy(&rd->ready);
	pthread_mutex_destroy(&rd->mu);
	free(rd);
}
