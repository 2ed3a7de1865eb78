/* statefile.c - small state files written whole, atomically, off the loop */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "statefile.h"
#include "storage.h"
#include "util.h"

struct statefile {
	pthread_t	 th;
	bool		 running;	/* th to join */
	atomic_bool	 done;		/* th has finished its write */
	/* The job, owned by the thread while it runs */
	struct storage	*st;
	char		*path;
	uint8_t		*data;
	size_t		 len;
	enum gt_err	 e;
	char		 err[GT_ERRLEN];
};

/* The folder of path, for its fsync ("." if none); malloc'd. */
static char *
dir_of(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

enum gt_err
statefile_write(struct storage *st, const char *path, const uint8_t *data,
    size_t len, char *err)
{
	char		*tmp, *dir;
	const char	*what;
	int		 fd, dfd, saved;

	if (st != NULL && storage_sync(st) != GT_OK)
		return gt_fail(err, GT_EIO, "%s: not written: the data files "
		    "could not be synced", path);
	tmp = xasprintf("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		saved = errno;
		free(tmp);
		return gt_fail(err, GT_EIO, "%s: %s", path, strerror(saved));
	}
	what = NULL;
	if (write_all(fd, data, len) != 0)
		what = "write";
	else if (fsync(fd) != 0)
		what = "fsync";
	saved = errno;
	if (close(fd) != 0 && what == NULL) {
		what = "close";
		saved = errno;
	}
	if (what == NULL && rename(tmp, path) != 0) {
		what = "rename";
		saved = errno;
	}
	if (what != NULL) {
		unlink(tmp);
		free(tmp);
		return gt_fail(err, GT_EIO, "%s: %s: %s", path, what,
		    strerror(saved));
	}
	free(tmp);
	dir = dir_of(path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(dfd) != 0)	/* the rename itself */
			log_debug("%s: fsync: %s", dir, strerror(errno));
		close(dfd);
	}
	free(dir);
	return GT_OK;
}

enum gt_err
statefile_read(const char *path, size_t max, uint8_t **out, size_t *outlen,
    char *err)
{
	struct stat	 st;
	uint8_t		*data;
	size_t		 len = 0, cap;
	ssize_t		 n;
	int		 fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		saved = errno;
		return gt_fail(err, saved == ENOENT ? GT_ENOENT : GT_EIO,
		    "%s: %s", path, strerror(saved));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return gt_fail(err, GT_EIO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return gt_fail(err, GT_ETOOBIG, "%s: over %zu bytes", path,
		    max);
	}
	cap = (size_t)st.st_size;
	data = xmalloc(cap + 1);
	while (len <= cap) {	/* one byte past its size: it grew */
		n = read(fd, data + len, cap + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			free(data);
			return gt_fail(err, GT_EIO, "%s: %s", path,
			    strerror(saved));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > cap) {
		free(data);
		return gt_fail(err, GT_ECHANGED, "%s: changed while read",
		    path);
	}
	data[len] = '\0';
	*out = data;
	*outlen = len;
	return GT_OK;
}

struct statefile *
statefile_new(void)
{
	struct statefile	*sf = xcalloc(1, sizeof(*sf));

	atomic_init(&sf->done, false);
	return sf;
}

static void *
statefile_main(void *arg)
{
	struct statefile	*sf = arg;

	sf->e = statefile_write(sf->st, sf->path, sf->data, sf->len,
	    sf->err);
	atomic_store_explicit(&sf->done, true, memory_order_release);
	return NULL;
}

/* Joins a finished (or running) thread; its job's result stays in sf. */
static void
statefile_join(struct statefile *sf)
{
	if (!sf->running)
		return;
	pthread_join(sf->th, NULL);
	sf->running = false;
	free(sf->path);
	free(sf->data);
	sf->path = NULL;
	sf->data = NULL;
}

void
statefile_free(struct statefile *sf)
{
	if (sf == NULL)
		return;
	statefile_join(sf);
	free(sf);
}

bool
statefile_busy(struct statefile *sf)
{
	return sf->running &&
	    !atomic_load_explicit(&sf->done, memory_order_acquire);
}

bool
statefile_start(struct statefile *sf, struct storage *st, const char *path,
    uint8_t *data, size_t len)
{
	int	r;

	if (statefile_busy(sf)) {
		free(data);
		return false;
	}
	if (sf->running && sf->e != GT_OK)
		log_warn("%s", sf->err);	/* not waited for: say it */
	statefile_join(sf);
	sf->st = st;
	sf->path = xstrdup(path);
	sf->data = data;
	sf->len = len;
	sf->e = GT_OK;
	sf->err[0] = '\0';
	atomic_store_explicit(&sf->done, false, memory_order_relaxed);
	if ((r = pthread_create(&sf->th, NULL, statefile_main, sf)) != 0) {
		/* No thread to spare: write it here. */
		log_debug("%s: pthread_create: %s", __func__, strerror(r));
		sf->e = statefile_write(st, path, data, len, sf->err);
		if (sf->e != GT_OK)
			log_warn("%s", sf->err);
		free(sf->path);
		free(sf->data);
		sf->path = NULL;
		sf->data = NULL;
		return true;
	}
	sf->running = true;
	return true;
}

enum gt_err
statefile_wait(struct statefile *sf, char *err)
{
	enum gt_err	e;

	if (!sf->running)
		return GT_OK;
	statefile_join(sf);
	e = sf->e;
	if (e != GT_OK)
		snprintf(err, GT_ERRLEN, "%s", sf->err);
	sf->e = GT_OK;
	return e;
}
