/* storage-fs.c - storage back end: files under one root folder */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metainfo.h"
#include "storage-backend.h"
#include "storage-fs.h"
#include "util.h"

#define STORAGE_FD_CACHE	64		/* open files kept */
#define STORAGE_IO_CHUNK	(1u << 30)	/* bytes per pread */

struct fdslot {
	int		 fd;		/* -1: free */
	size_t		 file;
	bool		 rw;		/* opened O_RDWR */
	unsigned	 busy;		/* calls using fd right now */
	uint64_t	 used;		/* tick of the last use, for LRU */
};

struct storage_fs {
	const struct storage_view *v;	/* borrowed: files, root */
	int		 rootfd;
	bool		 write;		/* open read-write, create */
	bool		 prealloc;	/* fallocate new files */
	pthread_mutex_t	 lock;		/* guards everything below */
	struct fdslot	 slots[STORAGE_FD_CACHE];
	int		*slot_of;	/* per file: index into slots or -1 */
	uint64_t	 tick;
};

static int64_t
stat_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Why opening name in dfd failed with errno r, for the log. */
/* A failed call's errno as callers hear it: disk full and denied apart. */
static enum gt_err
fs_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return GT_ENOSPC;
	case EACCES:
	case EPERM:
	case EROFS:
		return GT_EACCES;
	default:
		return GT_EIO;
	}
}

static const char *
fs_why(int dfd, const char *name, int r)
{
	struct stat	st;

	if ((r == ELOOP || r == ENOTDIR) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return "is a symbolic link (not followed)";
	return strerror(r);
}

/*
 * Opens the folder holding path, component by component from root, never
 * through a symlink.  *dirfd is root's fd itself when path has no folder
 * (do not close it then); *base points into path.
 */
static enum gt_err
fs_walk(struct storage_fs *fb, const char *path, bool create, int *dirfd,
    const char **base)
{
	const char	*p = path, *slash, *why;
	char		 comp[MI_MAX_COMPONENT + 1];
	size_t		 n;
	int		 dfd = fb->rootfd, nfd, saved;

	while ((slash = strchr(p, '/')) != NULL) {
		n = (size_t)(slash - p);
		if (n >= sizeof(comp)) {
			saved = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && create) {
			if (mkdirat(dfd, comp, 0777) == -1 && errno != EEXIST) {
				saved = errno;
				goto fail;
			}
			nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd == -1) {
			saved = errno;
			goto fail;
		}
		if (dfd != fb->rootfd)
			close(dfd);
		dfd = nfd;
		p = slash + 1;
	}
	*dirfd = dfd;
	*base = p;
	return GT_OK;

fail:
	if (saved == ENOENT) {
		if (dfd != fb->rootfd)
			close(dfd);
		log_debug("%s: %s/%s: %s", __func__, fb->v->root, path,
		    strerror(saved));
		return GT_ENOENT;
	}
	comp[MIN(n, sizeof(comp) - 1)] = '\0';
	why = fs_why(dfd, comp, saved);
	if (dfd != fb->rootfd)
		close(dfd);
	log_warn("%s/%s: folder %.*s: %s", fb->v->root, path,
	    (int)(p - path + n), path, why);
	return fs_errno(saved);
}

static void
fs_closedir(struct storage_fs *fb, int dfd)
{
	if (dfd != fb->rootfd)
		close(dfd);
}

/* Opens file (creating it, sized, if create); the fd must be closed. */
static enum gt_err
fs_open(struct storage_fs *fb, size_t file, bool create, bool *rw, int *out)
{
	const struct storage_entry *f = &fb->v->files[file];
	struct stat		 st;
	const char		*base, *what;
	bool			 created = false;
	int			 dfd, fd, flags, r;
	enum gt_err		 e;

	if ((e = fs_walk(fb, f->path, create, &dfd, &base)) != GT_OK)
		return e;
	/* O_NONBLOCK: a FIFO planted here must not hang the open. */
	flags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	*rw = fb->write;
	flags |= *rw ? O_RDWR : O_RDONLY;
	fd = openat(dfd, base, flags);
	if (fd == -1 && *rw && !create && (errno == EACCES ||
	    errno == EROFS)) {
		*rw = false;		/* read-only file: fine for reading */
		fd = openat(dfd, base, (flags & ~O_RDWR) | O_RDONLY);
	}
	if (fd == -1 && errno == ENOENT && create) {
		fd = openat(dfd, base, flags | O_CREAT | O_EXCL, 0666);
		if (fd != -1)
			created = true;
		else if (errno == EEXIST)
			fd = openat(dfd, base, flags);
	}
	if (fd == -1) {
		r = errno;
		if (r == ENOENT) {
			fs_closedir(fb, dfd);
			log_debug("%s: %s/%s: %s", __func__, fb->v->root,
			    f->path, strerror(r));
			return GT_ENOENT;
		}
		log_warn("%s/%s: %s", fb->v->root, f->path, fs_why(dfd, base,
		    r));
		fs_closedir(fb, dfd);
		return fs_errno(r);
	}
	fs_closedir(fb, dfd);

	r = 0;		/* the errno for fs_errno(), if any */
	if (fstat(fd, &st) == -1) {
		what = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		what = "not a regular file";
		goto fail;
	}
	if (created && f->length > 0 &&
	    ftruncate(fd, (off_t)f->length) == -1) {
		r = errno;
		what = strerror(errno);
		goto fail;
	}
	if (!*rw)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*out = fd;
	return GT_OK;

fail:
	log_warn("%s/%s: %s", fb->v->root, f->path, what);
	close(fd);
	return fs_errno(r);
}

/*
 * Gets an fd for file from the cache, or opens and caches it.  *slot is -1
 * when the fd is not cached (every slot busy); fs_release() undoes this.
 */
static enum gt_err
fs_acquire(struct storage_fs *fb, size_t file, bool write, int *fd, int *slot)
{
	struct fdslot	*sl;
	enum gt_err	 e;
	bool		 rw;
	int		 i, best, nfd;

	pthread_mutex_lock(&fb->lock);
	if ((i = fb->slot_of[file]) != -1 && (!write || fb->slots[i].rw)) {
		sl = &fb->slots[i];
		sl->busy++;
		sl->used = ++fb->tick;
		*fd = sl->fd;
		*slot = i;
		pthread_mutex_unlock(&fb->lock);
		return GT_OK;
	}
	pthread_mutex_unlock(&fb->lock);

	if ((e = fs_open(fb, file, write, &rw, &nfd)) != GT_OK)
		return e;

	pthread_mutex_lock(&fb->lock);
	if ((i = fb->slot_of[file]) != -1) {
		sl = &fb->slots[i];
		if (sl->rw || !rw) {
			/* Another thread opened it meanwhile: use theirs. */
			close(nfd);
			goto take;
		}
		if (sl->busy == 0) {
			close(sl->fd);		/* upgrade to read-write */
			goto install;
		}
		pthread_mutex_unlock(&fb->lock);
		*fd = nfd;
		*slot = -1;
		return GT_OK;
	}
	best = -1;
	for (i = 0; i < STORAGE_FD_CACHE; i++) {
		sl = &fb->slots[i];
		if (sl->fd == -1) {
			best = i;
			break;
		}
		if (sl->busy == 0 && (best == -1 ||
		    sl->used < fb->slots[best].used))
			best = i;
	}
	if (best == -1) {
		pthread_mutex_unlock(&fb->lock);
		*fd = nfd;
		*slot = -1;
		return GT_OK;
	}
	i = best;
	sl = &fb->slots[i];
	if (sl->fd != -1) {
		close(sl->fd);
		fb->slot_of[sl->file] = -1;
	}
install:
	sl->fd = nfd;
	sl->file = file;
	sl->rw = rw;
	sl->busy = 0;
	fb->slot_of[file] = i;
take:
	sl->busy++;
	sl->used = ++fb->tick;
	*fd = sl->fd;
	*slot = i;
	pthread_mutex_unlock(&fb->lock);
	return GT_OK;
}

static void
fs_release(struct storage_fs *fb, int fd, int slot)
{
	if (slot == -1) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&fb->lock);
	fb->slots[slot].busy--;
	pthread_mutex_unlock(&fb->lock);
}

/* A read or send found the file ending before off + len. */
static void
fs_log_short(const struct storage_fs *fb, size_t file, size_t len,
    uint64_t off, const char *fn)
{
	log_debug("%s: %s/%s: short file (%zu bytes missing at %llu)", fn,
	    fb->v->root, fb->v->files[file].path, len,
	    (unsigned long long)off);
}

static enum gt_err
fs_read(void *ctx, size_t file, uint64_t off, void *buf, size_t len)
{
	struct storage_fs	*fb = ctx;
	uint8_t		*p = buf;
	ssize_t		 n;
	enum gt_err	 e;
	int		 fd, slot;

	if ((e = fs_acquire(fb, file, false, &fd, &slot)) != GT_OK)
		return e;
	while (len > 0) {
		n = pread(fd, p, MIN(len, STORAGE_IO_CHUNK), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("%s/%s: read: %s", fb->v->root,
			    fb->v->files[file].path, strerror(errno));
			e = GT_EIO;
			break;
		}
		if (n == 0) {
			fs_log_short(fb, file, len, off, __func__);
			e = GT_EIO;
			break;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	fs_release(fb, fd, slot);
	return e;
}

/*
 * Maps [off, off + len) of file read-only and pages it in with one call
 * (MADV_POPULATE_READ, Linux 5.14): no fault per page, and an I/O error
 * shows here rather than as SIGBUS later.  Only what the file holds now.
 */
static bool
fs_map(void *ctx, size_t file, uint64_t off, size_t len, const uint8_t **p,
    void **base, size_t *maplen)
{
	struct storage_fs	*fb = ctx;
	struct stat		 st;
	uint64_t		 moff, delta;
	long			 pagesize = sysconf(_SC_PAGESIZE);
	void			*m;
	int			 fd, slot;

	if (pagesize <= 0 || len == 0 ||
	    fs_acquire(fb, file, false, &fd, &slot) != GT_OK)
		return false;
	if (fstat(fd, &st) == -1 || (uint64_t)st.st_size < off + len) {
		fs_release(fb, fd, slot);
		return false;
	}
	moff = off - off % (uint64_t)pagesize;
	delta = off - moff;
	m = mmap(NULL, len + delta, PROT_READ, MAP_SHARED, fd, (off_t)moff);
	fs_release(fb, fd, slot);
	if (m == MAP_FAILED) {
		log_debug("%s: %s/%s: mmap: %s", __func__, fb->v->root,
		    fb->v->files[file].path, strerror(errno));
		return false;
	}
#ifdef MADV_POPULATE_READ
	if (madvise(m, len + delta, MADV_POPULATE_READ) == -1 &&
	    errno != EINVAL) {		/* EINVAL: an older kernel */
		log_debug("%s: %s/%s: populate: %s", __func__, fb->v->root,
		    fb->v->files[file].path, strerror(errno));
		munmap(m, len + delta);
		return false;
	}
#endif
	*base = m;
	*maplen = len + delta;
	*p = (const uint8_t *)m + delta;
	return true;
}

/*
 * sendfile(2): the page cache's pages go to the socket as they are, with
 * no copy through a buffer of ours (nor, for TCP, into the socket's).
 */
static enum gt_err
fs_send(void *ctx, size_t file, uint64_t off, size_t len, int outfd,
    size_t *sent)
{
	struct storage_fs	*fb = ctx;
	off_t			 o = (off_t)off;
	ssize_t			 n;
	enum gt_err		 e;
	int			 fd, slot, saved;

	if ((e = fs_acquire(fb, file, false, &fd, &slot)) != GT_OK)
		return e;
	do
		n = sendfile(outfd, fd, &o, MIN(len, STORAGE_IO_CHUNK));
	while (n == -1 && errno == EINTR);
	saved = errno;
	if (n > 0) {
		*sent = (size_t)n;
		e = GT_OK;
	} else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		e = GT_EAGAIN;
	} else {
		if (n == 0) {
			fs_log_short(fb, file, len, off, __func__);
			saved = EIO;
		}
		e = GT_EIO;
	}
	fs_release(fb, fd, slot);
	errno = saved;
	return e;
}

static enum gt_err
fs_writev(void *ctx, size_t file, uint64_t off, const struct iovec *iov,
    size_t n)
{
	struct storage_fs	*fb = ctx;
	struct iovec		 v[STORAGE_IOV];
	size_t			 k = 0;
	ssize_t			 w;
	enum gt_err		 e;
	int			 fd, slot;

	assert(n <= STORAGE_IOV);
	if (!fb->write)
		return GT_EINVAL;
	if ((e = fs_acquire(fb, file, true, &fd, &slot)) != GT_OK)
		return e == GT_ENOENT ? GT_EIO : e;
	memcpy(v, iov, n * sizeof(*v));
	for (;;) {
		while (k < n && v[k].iov_len == 0)
			k++;
		if (k == n)
			break;
		w = pwritev(fd, v + k, (int)(n - k), (off_t)off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* The caller's error says it (one line). */
			log_debug("%s/%s: write: %s", fb->v->root,
			    fb->v->files[file].path, w == 0 ?
			    "no progress" : strerror(errno));
			e = w == 0 ? GT_EIO : fs_errno(errno);
			break;
		}
		off += (uint64_t)w;
		for (; w > 0 && (size_t)w >= v[k].iov_len; k++)
			w -= (ssize_t)v[k].iov_len;
		if (w > 0) {		/* partial: the rest of v[k] */
			v[k].iov_base = (uint8_t *)v[k].iov_base + w;
			v[k].iov_len -= (size_t)w;
		}
	}
	fs_release(fb, fd, slot);
	return e;
}

static enum gt_err
fs_stat(void *ctx, size_t file, uint64_t *size, int64_t *mtime_ns)
{
	struct storage_fs	*fb = ctx;
	const char	*path = fb->v->files[file].path, *base;
	struct stat	 st;
	enum gt_err	 e;
	int		 dfd, r;

	if ((e = fs_walk(fb, path, false, &dfd, &base)) != GT_OK)
		return e;
	r = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW);
	if (r == -1)
		r = errno;
	fs_closedir(fb, dfd);
	if (r == ENOENT)
		return GT_ENOENT;
	if (r != 0) {
		log_warn("%s/%s: %s", fb->v->root, path, strerror(r));
		return GT_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		log_debug("%s: %s/%s: not a regular file", __func__,
		    fb->v->root, path);
		return GT_EIO;
	}
	*size = (uint64_t)st.st_size;
	*mtime_ns = stat_mtime_ns(&st);
	return GT_OK;
}

static enum gt_err
fs_sync(void *ctx, size_t file)
{
	struct storage_fs	*fb = ctx;
	enum gt_err		 e;
	int			 fd, slot, r;

	if ((e = fs_acquire(fb, file, false, &fd, &slot)) != GT_OK)
		return e == GT_ENOENT ? GT_EIO : e;
	while ((r = fdatasync(fd)) == -1 && errno == EINTR)
		continue;
	if (r == -1 && errno != EINVAL) {	/* EINVAL: cannot sync */
		e = fs_errno(errno);
		log_warn("%s/%s: fdatasync: %s", fb->v->root,
		    fb->v->files[file].path, strerror(errno));
	}
	fs_release(fb, fd, slot);
	return e;
}

/* Linux's sync_file_range; elsewhere nothing (the sync does it all). */
static void
fs_writeback(void *ctx, size_t file)
{
#ifdef SYNC_FILE_RANGE_WRITE
	struct storage_fs	*fb = ctx;
	int			 fd, slot;

	if (fs_acquire(fb, file, false, &fd, &slot) != GT_OK)
		return;
	if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == -1)
		log_debug("%s/%s: sync_file_range: %s", fb->v->root,
		    fb->v->files[file].path, strerror(errno));
	fs_release(fb, fd, slot);
#else
	(void)ctx;
	(void)file;
#endif
}

static enum gt_err
fs_remove(void *ctx, size_t file)
{
	struct storage_fs	*fb = ctx;
	const char		*path = fb->v->files[file].path, *base;
	enum gt_err		 e;
	int			 dfd, r = 0;

	if ((e = fs_walk(fb, path, false, &dfd, &base)) != GT_OK)
		return e == GT_ENOENT ? GT_OK : e;
	if (unlinkat(dfd, base, 0) != 0 && errno != ENOENT)
		r = errno;
	fs_closedir(fb, dfd);
	if (r != 0) {
		log_warn("%s/%s: %s", fb->v->root, path, strerror(r));
		return fs_errno(r);
	}
	return GT_OK;
}

static void
fs_free(void *ctx)
{
	struct storage_fs	*fb = ctx;
	int			 i;

	if (fb == NULL)
		return;
	for (i = 0; i < STORAGE_FD_CACHE; i++)
		if (fb->slots[i].fd != -1)
			close(fb->slots[i].fd);
	if (fb->rootfd != -1)
		close(fb->rootfd);
	pthread_mutex_destroy(&fb->lock);
	free(fb->slot_of);
	free(fb);
}

/* mkdir -p; the root given by the user may go through symlinks. */
static int
mkdir_parents(const char *path)
{
	char	*p, *q;
	int	 r = 0;

	p = xstrdup(path);
	for (q = p + 1; *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0777) == -1 && errno != EEXIST) {
			r = -1;
			break;
		}
		*q = '/';
	}
	if (r == 0 && mkdir(p, 0777) == -1 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

const struct storage_ops storage_fs_ops = {
	.read = fs_read,
	.writev = fs_writev,
	.send = fs_send,
	.stat = fs_stat,
	.sync = fs_sync,
	.writeback = fs_writeback,
	.remove = fs_remove,
	.map = fs_map,
	.free = fs_free,
};

/* A wanted file with bytes on disk (not padding, a link, the part file). */
static bool
fs_allocatable(const struct storage_entry *f)
{
	return f->length > 0 && !f->pad && f->symlink == NULL && !f->skip &&
	    !f->part;
}

/* Bytes of file i not allocated on disk yet. */
static uint64_t
fs_unallocated(struct storage_fs *fb, size_t i)
{
	const struct storage_entry	*f = &fb->v->files[i];
	struct stat			 st;
	const char			*base;
	uint64_t			 have = 0;
	int				 dfd;

	if (fs_walk(fb, f->path, false, &dfd, &base) == GT_OK) {
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			have = (uint64_t)st.st_blocks * 512;
		fs_closedir(fb, dfd);
	}
	return have >= f->length ? 0 : f->length - have;
}

/*
 * --preallocate: the space every file needs is checked against the free
 * space first (a shortfall fails before anything is written), then each
 * file is allocated whole (fallocate; where the file system cannot, the
 * files stay sparse, with a notice).
 */
static enum gt_err
fs_prealloc(struct storage_fs *fb, char *err)
{
	const struct storage_view	*v = fb->v;
	struct statvfs			 vfs;
	char				 a[32], b[32];
	uint64_t			 need = 0, avail;
	size_t				 i;
	enum gt_err			 e;
	bool				 rw;
	int				 fd, r;

	for (i = 0; i < v->nfiles; i++)
		if (fs_allocatable(&v->files[i]))
			need += fs_unallocated(fb, i);
	if (need == 0)
		return GT_OK;
	if (fstatvfs(fb->rootfd, &vfs) == 0) {
		avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (need > avail)
			return gt_fail(err, GT_ENOSPC, "%s: %s more needed, %s "
			    "free: %s", v->root, human_size(a, sizeof(a),
			    need, 1), human_size(b, sizeof(b), avail, 1),
			    strerror(ENOSPC));
	}
	for (i = 0; i < v->nfiles; i++) {
		if (!fs_allocatable(&v->files[i]))
			continue;
		if ((e = fs_open(fb, i, true, &rw, &fd)) != GT_OK)
			return gt_fail(err, e == GT_ENOENT ? GT_EIO : e,
			    "%s/%s: cannot create the file", v->root,
			    v->files[i].path);
		r = fallocate(fd, 0, 0, (off_t)v->files[i].length) == 0 ? 0 :
		    errno;
		close(fd);
		if (r == EOPNOTSUPP || r == ENOSYS) {
			log_warn("%s: the file system cannot preallocate: the "
			    "files stay sparse", v->root);
			return GT_OK;
		}
		if (r != 0)
			return gt_fail(err, fs_errno(r), "%s/%s: preallocate: "
			    "%s", v->root, v->files[i].path, strerror(r));
	}
	return GT_OK;
}

enum gt_err
storage_fs_new(struct storage_fs **out, const struct storage_view *v,
    bool write, bool prealloc, char *err)
{
	struct storage_fs	*fb;
	enum gt_err		 e;
	size_t			 i;
	bool			 rw;
	int			 fd, saved;

	fb = xcalloc(1, sizeof(*fb));
	fb->v = v;
	fb->write = write;
	fb->prealloc = prealloc;
	fb->rootfd = -1;
	pthread_mutex_init(&fb->lock, NULL);
	for (i = 0; i < STORAGE_FD_CACHE; i++)
		fb->slots[i].fd = -1;
	fb->slot_of = xreallocarray(NULL, v->nfiles, sizeof(*fb->slot_of));
	for (i = 0; i < v->nfiles; i++)
		fb->slot_of[i] = -1;

	if (write && mkdir_parents(v->root) == -1) {
		saved = errno;
		log_debug("%s: mkdir: %s", v->root, strerror(saved));
		e = gt_fail(err, fs_errno(saved), "%s: %s", v->root,
		    strerror(saved));
		goto fail;
	}
	fb->rootfd = open(v->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fb->rootfd == -1) {
		saved = errno;
		log_debug("%s: %s: %s", __func__, v->root, strerror(saved));
		e = gt_fail(err, saved == ENOENT ? GT_ENOENT : GT_EIO, "%s: %s",
		    v->root, strerror(saved));
		goto fail;
	}

	/* Empty files exist only if created now: no write ever reaches them. */
	for (i = 0; write && i < v->nfiles; i++) {
		if (v->files[i].length > 0 || v->files[i].pad ||
		    v->files[i].symlink != NULL || v->files[i].skip)
			continue;
		if ((e = fs_open(fb, i, true, &rw, &fd)) != GT_OK) {
			e = gt_fail(err, e == GT_ENOENT ? GT_EIO : e,
			    "%s/%s: cannot create the file", v->root,
			    v->files[i].path);
			goto fail;
		}
		close(fd);
	}
	if (write && prealloc && (e = fs_prealloc(fb, err)) != GT_OK)
		goto fail;
	*out = fb;
	return GT_OK;

fail:
	fs_free(fb);
	return e;
}

enum gt_err
storage_fs_make_symlinks(struct storage_fs *fb, char *err)
{
	const struct storage_entry *f;
	const char	*base, *q, *root = fb->v->root;
	char		*target;
	size_t		 i, depth, k, tlen;
	enum gt_err	 e;
	int		 dfd, saved;

	for (i = 0; i < fb->v->nfiles; i++) {
		f = &fb->v->files[i];
		if (f->symlink == NULL || f->pad)
			continue;
		depth = 0;
		for (q = f->path; *q != '\0'; q++)
			depth += *q == '/';
		tlen = strlen(f->symlink);
		target = xmalloc(depth * 3 + tlen + 1);
		for (k = 0; k < depth; k++)
			memcpy(target + k * 3, "../", 3);
		memcpy(target + depth * 3, f->symlink, tlen + 1);

		if ((e = fs_walk(fb, f->path, true, &dfd, &base)) != GT_OK) {
			free(target);
			return gt_fail(err, e == GT_ENOENT ? GT_EIO : e,
			    "%s/%s: cannot create its folder", root, f->path);
		}
		if (symlinkat(target, dfd, base) == -1) {
			saved = errno;
			fs_closedir(fb, dfd);
			free(target);
			if (saved != EEXIST) {
				log_warn("%s/%s: symlink: %s", root, f->path,
				    strerror(saved));
				return gt_fail(err, GT_EIO, "%s/%s: %s", root,
				    f->path, strerror(saved));
			}
			log_warn("%s/%s: already exists, symlink not made",
			    root, f->path);
			continue;
		}
		fs_closedir(fb, dfd);
		free(target);
	}
	return GT_OK;
}
