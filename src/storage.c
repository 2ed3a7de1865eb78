/* storage.c - multi-file piece storage and verification */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filemap.h"
#include "log.h"
#include "metainfo.h"
#include "storage.h"
#include "util.h"

#define STORAGE_FD_CACHE	64		/* open files kept */
#define STORAGE_MEMORY_MAX	(256u << 20)	/* bytes, memory back-end */
#define STORAGE_HASH_BATCH	(4u << 20)	/* bytes per batch read */
#define STORAGE_HASH_BATCH_MAX	(64u << 20)	/* ... with big pieces */
#define STORAGE_HASH_THREADS	64
#define STORAGE_HASH_MEM	(1u << 30)	/* batch buffers, all threads */
#define STORAGE_PROGRESS_STEP	(64u << 20)	/* bytes between calls */
#define STORAGE_IO_CHUNK	(1u << 30)	/* bytes per pread */
#define STORAGE_SPANS		64		/* spans handled per round */
#define STORAGE_IOV		64		/* buffers per pwritev */

struct storage_entry {
	char		*path;		/* owned, relative, '/'-separated */
	uint64_t	 length;
	bool		 pad;
	char		*symlink;	/* owned, or NULL */
};

struct storage {
	struct filemap		 *fm;
	struct storage_entry	 *files;
	size_t			  nfiles;
	char			 *root;		/* NULL for memory */
	unsigned		  flags;
	const struct storage_ops *ops;
	void			 *ctx;

	pthread_mutex_t		  lock;		/* guards nwrites */
	unsigned		  fail_write;	/* memory: this write fails */
	unsigned		  nwrites;
};

static int64_t
stat_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* ---- file back-end ---------------------------------------------------- */

struct fdslot {
	int		 fd;		/* -1: free */
	size_t		 file;
	bool		 rw;		/* opened O_RDWR */
	unsigned	 busy;		/* calls using fd right now */
	uint64_t	 used;		/* tick of the last use, for LRU */
};

struct fsback {
	struct storage	*s;		/* borrowed: files, root */
	int		 rootfd;
	unsigned	 flags;
	pthread_mutex_t	 lock;		/* guards everything below */
	struct fdslot	 slots[STORAGE_FD_CACHE];
	int		*slot_of;	/* per file: index into slots or -1 */
	uint64_t	 tick;
};

/* Why opening name in dfd failed with errno r, for the log. */
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
fs_walk(struct fsback *fb, const char *path, bool create, int *dirfd,
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
		log_debug("%s: %s/%s: %s", __func__, fb->s->root, path,
		    strerror(saved));
		return GT_ENOENT;
	}
	comp[MIN(n, sizeof(comp) - 1)] = '\0';
	why = fs_why(dfd, comp, saved);
	if (dfd != fb->rootfd)
		close(dfd);
	log_warn("%s/%s: folder %.*s: %s", fb->s->root, path,
	    (int)(p - path + n), path, why);
	return GT_EIO;
}

static void
fs_closedir(struct fsback *fb, int dfd)
{
	if (dfd != fb->rootfd)
		close(dfd);
}

/* Opens file (creating it, sized, if create); the fd must be closed. */
static enum gt_err
fs_open(struct fsback *fb, size_t file, bool create, bool *rw, int *out)
{
	struct storage_entry	*f = &fb->s->files[file];
	struct stat		 st;
	const char		*base, *what;
	bool			 created = false;
	int			 dfd, fd, flags, r;
	enum gt_err		 e;

	if ((e = fs_walk(fb, f->path, create, &dfd, &base)) != GT_OK)
		return e;
	/* O_NONBLOCK: a FIFO planted here must not hang the open. */
	flags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	*rw = (fb->flags & STORAGE_WRITE) != 0;
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
			log_debug("%s: %s/%s: %s", __func__, fb->s->root,
			    f->path, strerror(r));
			return GT_ENOENT;
		}
		log_warn("%s/%s: %s", fb->s->root, f->path, fs_why(dfd, base,
		    r));
		fs_closedir(fb, dfd);
		return GT_EIO;
	}
	fs_closedir(fb, dfd);

	if (fstat(fd, &st) == -1) {
		what = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		what = "not a regular file";
		goto fail;
	}
	if (created && f->length > 0) {
		if (fb->flags & STORAGE_PREALLOC) {
			r = posix_fallocate(fd, 0, (off_t)f->length);
			if (r != 0) {
				what = strerror(r);
				goto fail;
			}
		} else if (ftruncate(fd, (off_t)f->length) == -1) {
			what = strerror(errno);
			goto fail;
		}
	}
	if (!*rw)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*out = fd;
	return GT_OK;

fail:
	log_warn("%s/%s: %s", fb->s->root, f->path, what);
	close(fd);
	return GT_EIO;
}

/*
 * Gets an fd for file from the cache, or opens and caches it.  *slot is -1
 * when the fd is not cached (every slot busy); fs_release() undoes this.
 */
static enum gt_err
fs_acquire(struct fsback *fb, size_t file, bool write, int *fd, int *slot)
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
fs_release(struct fsback *fb, int fd, int slot)
{
	if (slot == -1) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&fb->lock);
	fb->slots[slot].busy--;
	pthread_mutex_unlock(&fb->lock);
}

static enum gt_err
fs_read(void *ctx, size_t file, uint64_t off, void *buf, size_t len)
{
	struct fsback	*fb = ctx;
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
			log_warn("%s/%s: read: %s", fb->s->root,
			    fb->s->files[file].path, strerror(errno));
			e = GT_EIO;
			break;
		}
		if (n == 0) {
			log_debug("%s: %s/%s: short file (%zu bytes missing "
			    "at %llu)", __func__, fb->s->root,
			    fb->s->files[file].path, len,
			    (unsigned long long)off);
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

/* Advances *i and *skip (bytes of iov[*i] done) by n bytes. */
static void
iov_advance(const struct iovec *iov, size_t *i, size_t *skip, size_t n)
{
	size_t	left;

	while (n > 0) {
		left = iov[*i].iov_len - *skip;
		if (n < left) {
			*skip += n;
			return;
		}
		n -= left;
		(*i)++;
		*skip = 0;
	}
}

static enum gt_err
fs_writev(void *ctx, size_t file, uint64_t off, const struct iovec *iov,
    size_t n)
{
	struct fsback	*fb = ctx;
	struct iovec	 v[STORAGE_IOV];
	size_t		 i = 0, skip = 0, k;
	ssize_t		 w;
	enum gt_err	 e;
	int		 fd, slot;

	if (~fb->flags & STORAGE_WRITE)
		return GT_EINVAL;
	if ((e = fs_acquire(fb, file, true, &fd, &slot)) != GT_OK)
		return e == GT_ENOENT ? GT_EIO : e;
	for (;;) {
		while (i < n && iov[i].iov_len == skip) {
			i++;
			skip = 0;
		}
		if (i == n)
			break;
		for (k = 0; k < STORAGE_IOV && i + k < n; k++)
			v[k] = iov[i + k];
		v[0].iov_base = (uint8_t *)v[0].iov_base + skip;
		v[0].iov_len -= skip;
		w = pwritev(fd, v, (int)k, (off_t)off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("%s/%s: write: %s", fb->s->root,
			    fb->s->files[file].path, w == 0 ?
			    "no progress" : strerror(errno));
			e = GT_EIO;
			break;
		}
		off += (uint64_t)w;
		iov_advance(iov, &i, &skip, (size_t)w);
	}
	fs_release(fb, fd, slot);
	return e;
}

static enum gt_err
fs_stat(void *ctx, size_t file, uint64_t *size, int64_t *mtime_ns)
{
	struct fsback	*fb = ctx;
	const char	*path = fb->s->files[file].path, *base;
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
		log_warn("%s/%s: %s", fb->s->root, path, strerror(r));
		return GT_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		log_debug("%s: %s/%s: not a regular file", __func__,
		    fb->s->root, path);
		return GT_EIO;
	}
	*size = (uint64_t)st.st_size;
	*mtime_ns = stat_mtime_ns(&st);
	return GT_OK;
}

static void
fs_free(void *ctx)
{
	struct fsback	*fb = ctx;
	int		 i;

	for (i = 0; i < STORAGE_FD_CACHE; i++)
		if (fb->slots[i].fd != -1)
			close(fb->slots[i].fd);
	if (fb->rootfd != -1)
		close(fb->rootfd);
	pthread_mutex_destroy(&fb->lock);
	free(fb->slot_of);
	free(fb);
}

static const struct storage_ops fs_ops = {
	.read = fs_read,
	.writev = fs_writev,
	.stat = fs_stat,
	.free = fs_free,
};

/* ---- memory back-end -------------------------------------------------- */

struct memback {
	pthread_mutex_t	  lock;
	uint8_t		**data;		/* per file, owned; NULL for padding */
	uint64_t	 *length;
	size_t		  nfiles;
};

static enum gt_err
mem_read(void *ctx, size_t file, uint64_t off, void *buf, size_t len)
{
	struct memback	*mb = ctx;

	if (file >= mb->nfiles || off > mb->length[file] ||
	    len > mb->length[file] - off)
		return GT_ERANGE;
	pthread_mutex_lock(&mb->lock);
	if (mb->data[file] != NULL)
		memcpy(buf, mb->data[file] + off, len);
	else
		memset(buf, 0, len);
	pthread_mutex_unlock(&mb->lock);
	return GT_OK;
}

static enum gt_err
mem_writev(void *ctx, size_t file, uint64_t off, const struct iovec *iov,
    size_t n)
{
	struct memback	*mb = ctx;
	uint64_t	 len = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (file >= mb->nfiles || off > mb->length[file] ||
	    len > mb->length[file] - off)
		return GT_ERANGE;
	pthread_mutex_lock(&mb->lock);
	for (i = 0; i < n && mb->data[file] != NULL; i++) {
		memcpy(mb->data[file] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	pthread_mutex_unlock(&mb->lock);
	return GT_OK;
}

static enum gt_err
mem_stat(void *ctx, size_t file, uint64_t *size, int64_t *mtime_ns)
{
	struct memback	*mb = ctx;

	if (file >= mb->nfiles)
		return GT_ERANGE;
	*size = mb->length[file];
	*mtime_ns = 0;
	return GT_OK;
}

static void
mem_free(void *ctx)
{
	struct memback	*mb = ctx;
	size_t		 i;

	for (i = 0; i < mb->nfiles; i++)
		free(mb->data[i]);
	free(mb->data);
	free(mb->length);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

static const struct storage_ops mem_ops = {
	.read = mem_read,
	.writev = mem_writev,
	.stat = mem_stat,
	.free = mem_free,
};

/* ---- common ----------------------------------------------------------- */

static bool
path_is_safe(const char *path)
{
	const char	*p = path;
	size_t		 n;

	if (strlen(path) > MI_MAX_PATH)
		return false;
	for (;;) {
		n = strcspn(p, "/");
		if (n == 0 || n > MI_MAX_COMPONENT ||
		    (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

static struct storage *
storage_new_common(const struct storage_file *files, size_t nfiles,
    uint64_t piece_length)
{
	struct storage	*s;
	uint64_t	*lengths;
	size_t		 i;

	lengths = xreallocarray(NULL, nfiles, sizeof(*lengths));
	for (i = 0; i < nfiles; i++)
		lengths[i] = files[i].length;
	s = xcalloc(1, sizeof(*s));
	s->fm = filemap_new(lengths, nfiles, piece_length);
	free(lengths);
	if (s->fm == NULL) {
		free(s);
		return NULL;
	}
	s->files = xcalloc(nfiles, sizeof(*s->files));
	s->nfiles = nfiles;
	for (i = 0; i < nfiles; i++) {
		s->files[i].path = xstrdup(files[i].path != NULL ?
		    files[i].path : "");
		s->files[i].length = files[i].length;
		s->files[i].pad = files[i].pad;
		if (files[i].symlink != NULL)
			s->files[i].symlink = xstrdup(files[i].symlink);
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void
storage_free(struct storage *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (s->ops != NULL)
		s->ops->free(s->ctx);
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].symlink);
	}
	free(s->files);
	filemap_free(s->fm);
	free(s->root);
	pthread_mutex_destroy(&s->lock);
	free(s);
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

enum gt_err
storage_open(struct storage **out, const char *root,
    const struct storage_file *files, size_t nfiles, uint64_t piece_length,
    unsigned flags, char *err)
{
	struct storage	*s;
	struct fsback	*fb;
	enum gt_err	 e;
	size_t		 i;
	bool		 rw;
	int		 fd, saved;

	if (root == NULL || *root == '\0') {
		(void)gt_fail(err, GT_EIO, "no download folder given");
		return GT_EINVAL;
	}
	for (i = 0; i < nfiles; i++) {
		if (files[i].pad)
			continue;
		if (files[i].path == NULL || !path_is_safe(files[i].path)) {
			(void)gt_fail(err, GT_EIO, "%s: unsafe file path", files[i].path ==
			    NULL ? "(null)" : files[i].path);
			return GT_EINVAL;
		}
		if (files[i].symlink != NULL &&
		    !path_is_safe(files[i].symlink)) {
			(void)gt_fail(err, GT_EIO, "%s: unsafe symlink target",
			    files[i].path);
			return GT_EINVAL;
		}
	}
	if ((s = storage_new_common(files, nfiles, piece_length)) == NULL) {
		(void)gt_fail(err, GT_EIO, "%s: unusable piece length or file sizes", root);
		return GT_EINVAL;
	}
	s->root = xstrdup(root);
	s->flags = flags;

	fb = xcalloc(1, sizeof(*fb));
	fb->s = s;
	fb->flags = flags;
	fb->rootfd = -1;
	pthread_mutex_init(&fb->lock, NULL);
	for (i = 0; i < STORAGE_FD_CACHE; i++)
		fb->slots[i].fd = -1;
	fb->slot_of = xreallocarray(NULL, nfiles, sizeof(*fb->slot_of));
	for (i = 0; i < nfiles; i++)
		fb->slot_of[i] = -1;
	s->ops = &fs_ops;
	s->ctx = fb;

	if ((flags & STORAGE_WRITE) && mkdir_parents(root) == -1) {
		saved = errno;
		(void)gt_fail(err, GT_EIO, "%s: %s", root, strerror(saved));
		log_warn("%s: mkdir: %s", root, strerror(saved));
		storage_free(s);
		return GT_EIO;
	}
	fb->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fb->rootfd == -1) {
		saved = errno;
		(void)gt_fail(err, GT_EIO, "%s: %s", root, strerror(saved));
		log_debug("%s: %s: %s", __func__, root, strerror(saved));
		storage_free(s);
		return saved == ENOENT ? GT_ENOENT : GT_EIO;
	}

	/* Empty files exist only if created now: no write ever reaches them. */
	for (i = 0; (flags & STORAGE_WRITE) && i < nfiles; i++) {
		if (files[i].length > 0 || files[i].pad ||
		    files[i].symlink != NULL)
			continue;
		if ((e = fs_open(fb, i, true, &rw, &fd)) != GT_OK) {
			(void)gt_fail(err, GT_EIO, "%s/%s: cannot create the file", root,
			    files[i].path);
			storage_free(s);
			return e == GT_ENOENT ? GT_EIO : e;
		}
		close(fd);
	}
	*out = s;
	return GT_OK;
}

enum gt_err
storage_open_metainfo(struct storage **out, const char *root,
    const struct metainfo *m, unsigned flags, char *err)
{
	struct storage_file	*files;
	struct storage		*s;
	enum gt_err		 e;
	size_t			 i;

	files = xcalloc(m->nfiles, sizeof(*files));
	for (i = 0; i < m->nfiles; i++) {
		files[i].path = m->files[i].path;
		files[i].length = m->files[i].length;
		files[i].pad = (m->files[i].attr & MI_ATTR_PAD) != 0;
		files[i].symlink = m->files[i].symlink;
	}
	e = storage_open(&s, root, files, m->nfiles, m->piece_length, flags,
	    err);
	free(files);
	if (e != GT_OK)
		return e;
	if (filemap_npieces(s->fm) != m->npieces ||
	    filemap_total(s->fm) != m->total_length) {
		(void)gt_fail(err, GT_EIO, "%s: file sizes do not match the piece count",
		    m->name != NULL ? m->name : root);
		storage_free(s);
		return GT_EINVAL;
	}
	*out = s;
	return GT_OK;
}

struct storage *
storage_new_memory(const struct storage_file *files, size_t nfiles,
    uint64_t piece_length, unsigned fail_write)
{
	struct storage	*s;
	struct memback	*mb;
	uint64_t	 sum = 0;
	size_t		 i;

	for (i = 0; i < nfiles; i++) {
		if (files[i].pad)
			continue;
		if (files[i].length > STORAGE_MEMORY_MAX - sum)
			return NULL;
		sum += files[i].length;
	}
	if ((s = storage_new_common(files, nfiles, piece_length)) == NULL)
		return NULL;
	s->fail_write = fail_write;
	mb = xcalloc(1, sizeof(*mb));
	pthread_mutex_init(&mb->lock, NULL);
	mb->nfiles = nfiles;
	mb->data = xcalloc(nfiles, sizeof(*mb->data));
	mb->length = xcalloc(nfiles, sizeof(*mb->length));
	for (i = 0; i < nfiles; i++) {
		mb->length[i] = files[i].length;
		if (!files[i].pad && files[i].length > 0)
			mb->data[i] = xcalloc(1, (size_t)files[i].length);
	}
	s->ops = &mem_ops;
	s->ctx = mb;
	return s;
}

const struct filemap *
storage_filemap(const struct storage *s)
{
	return s->fm;
}

/* ---- block I/O -------------------------------------------------------- */

static bool
range_ok(const struct storage *s, uint64_t off, uint64_t len)
{
	uint64_t	total = filemap_total(s->fm);

	return off <= total && len <= total - off && len <= SIZE_MAX;
}

enum gt_err
storage_read_at(struct storage *s, uint64_t off, void *buf, uint64_t len)
{
	struct filemap_span	 sp[STORAGE_SPANS];
	uint8_t			*p = buf;
	size_t			 n, i;
	enum gt_err		 e;

	if (!range_ok(s, off, len))
		return GT_ERANGE;
	while (len > 0) {
		n = filemap_spans(s->fm, off, len, sp, nitems(sp));
		if (n == 0)
			return GT_ERANGE;
		n = MIN(n, nitems(sp));
		for (i = 0; i < n; i++) {
			if (s->files[sp[i].file].pad)
				memset(p, 0, (size_t)sp[i].len);
			else if ((e = s->ops->read(s->ctx, sp[i].file,
			    sp[i].off, p, (size_t)sp[i].len)) != GT_OK)
				return e;
			p += sp[i].len;
			off += sp[i].len;
			len -= sp[i].len;
		}
	}
	return GT_OK;
}

/* Memory back-end tests: is this the write that must fail? */
static bool
write_fails(struct storage *s)
{
	bool	fail;

	if (s->fail_write == 0)
		return false;
	pthread_mutex_lock(&s->lock);
	fail = ++s->nwrites == s->fail_write;
	pthread_mutex_unlock(&s->lock);
	if (fail)
		log_debug("%s: write %u fails on purpose", __func__,
		    s->fail_write);
	return fail;
}

enum gt_err
storage_write_at(struct storage *s, uint64_t off, const void *buf,
    uint64_t len)
{
	struct iovec	v = { .iov_base = (void *)(uintptr_t)buf };

	if (len > SIZE_MAX)
		return GT_ERANGE;
	v.iov_len = (size_t)len;
	return storage_writev_at(s, off, &v, 1);
}

/* Writes the next len bytes of iov (from *i, *skip) to one file span. */
static enum gt_err
writev_span(struct storage *s, const struct filemap_span *sp,
    const struct iovec *iov, size_t *i, size_t *skip)
{
	struct iovec	v[STORAGE_IOV];
	uint64_t	off = sp->off, left = sp->len, got, take;
	size_t		k;
	enum gt_err	e;

	while (left > 0) {
		for (k = 0, got = 0; k < STORAGE_IOV && got < left; ) {
			if (iov[*i].iov_len == *skip) {
				(*i)++;
				*skip = 0;
				continue;
			}
			take = MIN(iov[*i].iov_len - *skip, left - got);
			v[k].iov_base = (uint8_t *)iov[*i].iov_base + *skip;
			v[k++].iov_len = (size_t)take;
			got += take;
			iov_advance(iov, i, skip, (size_t)take);
		}
		if (!s->files[sp->file].pad &&
		    (e = s->ops->writev(s->ctx, sp->file, off, v, k)) != GT_OK)
			return e;
		off += got;
		left -= got;
	}
	return GT_OK;
}

enum gt_err
storage_writev_at(struct storage *s, uint64_t off, const struct iovec *iov,
    size_t n)
{
	struct filemap_span	 sp[STORAGE_SPANS];
	uint64_t		 len = 0;
	size_t			 nsp, i, k = 0, skip = 0;
	enum gt_err		 e;

	for (i = 0; i < n; i++) {
		if (iov[i].iov_len > UINT64_MAX - len)
			return GT_ERANGE;
		len += iov[i].iov_len;
	}
	if (!range_ok(s, off, len))
		return GT_ERANGE;
	if (write_fails(s))
		return GT_EIO;
	while (len > 0) {
		nsp = filemap_spans(s->fm, off, len, sp, nitems(sp));
		if (nsp == 0)
			return GT_ERANGE;
		nsp = MIN(nsp, nitems(sp));
		for (i = 0; i < nsp; i++) {
			if ((e = writev_span(s, &sp[i], iov, &k, &skip)) !=
			    GT_OK)
				return e;
			off += sp[i].len;
			len -= sp[i].len;
		}
	}
	return GT_OK;
}

enum gt_err
storage_read(struct storage *s, uint32_t piece, uint32_t off, void *buf,
    uint32_t len)
{
	if (piece >= filemap_npieces(s->fm) ||
	    (uint64_t)off + len > filemap_piece_size(s->fm, piece))
		return GT_ERANGE;
	return storage_read_at(s, (uint64_t)piece *
	    filemap_piece_length(s->fm) + off, buf, len);
}

enum gt_err
storage_write(struct storage *s, uint32_t piece, uint32_t off,
    const void *buf, uint32_t len)
{
	if (piece >= filemap_npieces(s->fm) ||
	    (uint64_t)off + len > filemap_piece_size(s->fm, piece))
		return GT_ERANGE;
	return storage_write_at(s, (uint64_t)piece *
	    filemap_piece_length(s->fm) + off, buf, len);
}

enum gt_err
storage_hash_piece(struct storage *s, uint32_t piece, uint8_t out[SHA1_LEN])
{
	uint8_t		*buf;
	uint32_t	 size;
	enum gt_err	 e;

	if (piece >= filemap_npieces(s->fm))
		return GT_ERANGE;
	size = filemap_piece_size(s->fm, piece);
	buf = xmalloc(size);
	e = storage_read(s, piece, 0, buf, size);
	if (e == GT_OK)
		sha1(buf, size, out);
	free(buf);
	return e;
}

/* ---- hashing everything ----------------------------------------------- */

/*
 * Large single-file spans are hashed straight from an mmap of the page
 * cache: pread's copy costs about a fifth of SHA-1's speed.  A file cut
 * short while mapped raises SIGBUS; the handler below jumps back and the
 * batch is read again with pread, which sees the short file.  The
 * handler is process-wide, so it is installed for the run with a count.
 */
#define STORAGE_MAP_MIN		(256u << 10)	/* smaller spans: pread */

static _Thread_local sigjmp_buf	*hash_jmp;	/* set around mapped hashing */
static pthread_mutex_t		 hash_sig_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned			 hash_sig_users;
static struct sigaction		 hash_sig_old;

static void
hash_on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	if (hash_jmp != NULL)
		siglongjmp(*hash_jmp, 1);
	/* Not ours: the old disposition sees the fault when it recurs. */
	sigaction(SIGBUS, &hash_sig_old, NULL);
}

static void
hash_sig_install(void)
{
	struct sigaction	sa;

	pthread_mutex_lock(&hash_sig_lock);
	if (hash_sig_users++ == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = hash_on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, &hash_sig_old);
	}
	pthread_mutex_unlock(&hash_sig_lock);
}

static void
hash_sig_remove(void)
{
	pthread_mutex_lock(&hash_sig_lock);
	if (--hash_sig_users == 0)
		sigaction(SIGBUS, &hash_sig_old, NULL);
	pthread_mutex_unlock(&hash_sig_lock);
}

struct hash_stat {
	enum gt_err	 e;		/* GT_OK or GT_ENOENT (else unknown) */
	uint64_t	 size;
	int64_t		 mtime_ns;
};

struct hash_job {
	struct storage			*s;
	const struct storage_hash_opts	*o;
	uint8_t				*hashes;
	bool				*ok;
	uint64_t			 pl;
	uint64_t			 total;
	uint32_t			 npieces;
	uint32_t			 batch;		/* pieces per batch */
	uint32_t			 nbatches;
	bool				 map;		/* try mmap */
	struct hash_stat		*st;		/* check_changes */

	pthread_mutex_t			 lock;		/* guards below */
	uint32_t			 next;		/* batch to claim */
	uint64_t			 done;
	uint64_t			 reported;
	bool				 changed;
	size_t				 changed_file;
};

/* One batch: pieces [first, last), torrent bytes [off, off + len). */
struct hash_batch {
	uint32_t		 first, last;
	uint64_t		 off, len;
	uint8_t			*buf;		/* len bytes */
	bool			*bad;		/* per piece of the batch */
	struct filemap_span	 sp[STORAGE_SPANS];
	size_t			 nsp;
	uint64_t		 spoff[STORAGE_SPANS];	/* torrent offsets */
	const uint8_t		*src[STORAGE_SPANS];	/* mapped, or NULL:
							   bytes are in buf */
	void			*map[STORAGE_SPANS];	/* for munmap */
	size_t			 maplen[STORAGE_SPANS];
};

static void
hash_stat_file(struct storage *s, size_t file, struct hash_stat *hs)
{
	hs->size = 0;
	hs->mtime_ns = 0;
	hs->e = s->ops->stat(s->ctx, file, &hs->size, &hs->mtime_ns);
}

static bool
hash_file_changed(struct hash_job *j, size_t file)
{
	struct hash_stat	 now, *then = &j->st[file];

	hash_stat_file(j->s, file, &now);
	return now.e != then->e || now.size != then->size ||
	    now.mtime_ns != then->mtime_ns;
}

static void
hash_set_changed(struct hash_job *j, size_t file)
{
	pthread_mutex_lock(&j->lock);
	if (!j->changed) {
		j->changed = true;
		j->changed_file = file;
	}
	pthread_mutex_unlock(&j->lock);
}

/* Marks the batch's pieces overlapping torrent bytes [off, off + len). */
static void
hash_mark_bad(struct hash_job *j, struct hash_batch *hb, uint64_t off,
    uint64_t len)
{
	uint64_t	p, last;

	last = (off + len - 1) / j->pl;
	for (p = off / j->pl; p <= last; p++)
		hb->bad[p - hb->first] = true;
}

/*
 * Reads span sp (torrent offset off) to p; when that fails, retries piece
 * by piece so that a short file only spoils the pieces past its end.
 */
static void
hash_read_span(struct hash_job *j, struct hash_batch *hb,
    const struct filemap_span *sp, uint64_t off, uint8_t *p)
{
	struct storage	*s = j->s;
	uint64_t	 start = off, end = off + sp->len, pend, n;
	enum gt_err	 e;

	if (s->files[sp->file].pad) {
		memset(p, 0, (size_t)sp->len);
		return;
	}
	e = s->ops->read(s->ctx, sp->file, sp->off, p, (size_t)sp->len);
	if (e == GT_OK)
		return;
	if (j->o->check_changes && hash_file_changed(j, sp->file))
		hash_set_changed(j, sp->file);
	if (e == GT_ENOENT) {
		hash_mark_bad(j, hb, off, sp->len);
		return;
	}
	while (off < end) {
		pend = (off / j->pl + 1) * j->pl;
		n = MIN(pend, end) - off;
		if (s->ops->read(s->ctx, sp->file, sp->off + (off - start),
		    p, (size_t)n) != GT_OK)
			hash_mark_bad(j, hb, off, n);
		p += n;
		off += n;
	}
}

/* The plain way: the whole batch into buf with large preads. */
static void
hash_read_all(struct hash_job *j, struct hash_batch *hb)
{
	struct filemap_span	 sp[STORAGE_SPANS];
	uint64_t		 off = hb->off, len = hb->len;
	uint8_t			*p = hb->buf;
	size_t			 n, i;

	while (len > 0) {
		n = filemap_spans(j->s->fm, off, len, sp, nitems(sp));
		if (n == 0)
			break;
		n = MIN(n, nitems(sp));
		for (i = 0; i < n; i++) {
			hash_read_span(j, hb, &sp[i], off, p);
			p += sp[i].len;
			off += sp[i].len;
			len -= sp[i].len;
		}
	}
}

/* Maps bytes [off, off + len) of file; fails if the file is shorter. */
static bool
fs_map(struct fsback *fb, size_t file, uint64_t off, size_t len,
    void **map, size_t *maplen, const uint8_t **p)
{
	struct stat	 st;
	uint64_t	 moff, delta;
	long		 pagesize = sysconf(_SC_PAGESIZE);
	void		*m;
	int		 fd, slot;

	if (pagesize <= 0 || fs_acquire(fb, file, false, &fd, &slot) != GT_OK)
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
		log_debug("%s: %s/%s: mmap: %s", __func__, fb->s->root,
		    fb->s->files[file].path, strerror(errno));
		return false;
	}
	madvise(m, len + delta, MADV_SEQUENTIAL);
	*map = m;
	*maplen = len + delta;
	*p = (const uint8_t *)m + delta;
	return true;
}

static void
hash_unmap(struct hash_batch *hb)
{
	size_t	i;

	for (i = 0; i < hb->nsp; i++)
		if (hb->map[i] != NULL)
			munmap(hb->map[i], hb->maplen[i]);
	hb->nsp = 0;
}

/*
 * Maps the batch's large spans and reads the rest into buf.  False when
 * the batch has too many spans to bother.
 */
static bool
hash_map_batch(struct hash_job *j, struct hash_batch *hb)
{
	struct storage	*s = j->s;
	uint64_t	 off = hb->off;
	size_t		 n, i;

	n = filemap_spans(s->fm, hb->off, hb->len, hb->sp, nitems(hb->sp));
	if (n > nitems(hb->sp))
		return false;
	hb->nsp = n;
	for (i = 0; i < n; i++) {
		hb->spoff[i] = off;
		hb->src[i] = NULL;
		hb->map[i] = NULL;
		if (s->files[hb->sp[i].file].pad ||
		    hb->sp[i].len < STORAGE_MAP_MIN ||
		    !fs_map(s->ctx, hb->sp[i].file, hb->sp[i].off,
		    (size_t)hb->sp[i].len, &hb->map[i], &hb->maplen[i],
		    &hb->src[i]))
			hash_read_span(j, hb, &hb->sp[i], off,
			    hb->buf + (off - hb->off));
		off += hb->sp[i].len;
	}
	return true;
}

/*
 * Whole pieces wait in a queue and go to sha1_multi() together, which
 * hashes several at once; the torrent's shorter last piece goes to
 * sha1().  Queued pointers point into mappings or buf, both kept until
 * the queue is flushed.
 */
#define HASH_QUEUE	16		/* pieces per sha1_multi() call */

struct hash_queue {
	const uint8_t	*msg[HASH_QUEUE];
	uint32_t	 piece[HASH_QUEUE];
	size_t		 n;
};

static void
hash_flush(struct hash_job *j, struct hash_queue *q)
{
	uint8_t	out[HASH_QUEUE][SHA1_LEN];
	size_t	i;

	if (q->n == 0)
		return;
	sha1_multi(q->msg, (size_t)j->pl, q->n, out);
	for (i = 0; i < q->n; i++)
		memcpy(j->hashes + (size_t)q->piece[i] * SHA1_LEN, out[i],
		    SHA1_LEN);
	q->n = 0;
}

static void
hash_one(struct hash_job *j, struct hash_queue *q, uint32_t p,
    const uint8_t *src, uint64_t len)
{
	if (len != j->pl) {
		sha1(src, (size_t)len, j->hashes + (size_t)p * SHA1_LEN);
		return;
	}
	q->msg[q->n] = src;
	q->piece[q->n] = p;
	if (++q->n == nitems(q->msg))
		hash_flush(j, q);
}

/*
 * Hashes the batch's good pieces.  With spans mapped, a piece inside one
 * mapped span is hashed in place; one that crosses a file boundary is
 * gathered into buf first.
 */
static void
hash_pieces(struct hash_job *j, struct hash_batch *hb, bool mapped)
{
	const struct filemap_span	*sp;
	struct hash_queue		 q = { .n = 0 };
	uint64_t			 start, end, a, b;
	uint32_t			 p;
	uint8_t				*dst;
	size_t				 k = 0, i;

	for (p = hb->first; p < hb->last; p++) {
		if (hb->bad[p - hb->first])
			continue;
		start = (uint64_t)p * j->pl;
		end = start + filemap_piece_size(j->s->fm, p);
		dst = hb->buf + (start - hb->off);
		if (!mapped) {
			hash_one(j, &q, p, dst, end - start);
			continue;
		}
		while (hb->spoff[k] + hb->sp[k].len <= start)
			k++;
		sp = &hb->sp[k];
		if (hb->src[k] != NULL && end <= hb->spoff[k] + sp->len) {
			hash_one(j, &q, p, hb->src[k] + (start - hb->spoff[k]),
			    end - start);
			continue;
		}
		for (i = k; i < hb->nsp && hb->spoff[i] < end; i++) {
			if (hb->src[i] == NULL)
				continue;	/* already in buf */
			a = MAX(start, hb->spoff[i]);
			b = MIN(end, hb->spoff[i] + hb->sp[i].len);
			memcpy(hb->buf + (a - hb->off), hb->src[i] +
			    (a - hb->spoff[i]), (size_t)(b - a));
		}
		hash_one(j, &q, p, dst, end - start);
	}
	hash_flush(j, &q);
}

/* hash_pieces() over mapped bytes; false if SIGBUS cut it short. */
static bool
hash_pieces_guarded(struct hash_job *j, struct hash_batch *hb)
{
	sigjmp_buf	jb;

	if (sigsetjmp(jb, 1) != 0) {
		hash_jmp = NULL;	/* a leaked digest context, at worst */
		return false;
	}
	hash_jmp = &jb;
	hash_pieces(j, hb, true);
	hash_jmp = NULL;
	return true;
}

static void
hash_batch(struct hash_job *j, struct hash_batch *hb)
{
	uint32_t	p;

	memset(hb->bad, 0, j->batch * sizeof(*hb->bad));
	if (j->map && hash_map_batch(j, hb)) {
		if (hash_pieces_guarded(j, hb)) {
			hash_unmap(hb);
			goto out;
		}
		hash_unmap(hb);
		log_debug("%s: SIGBUS in pieces %u-%u, reading again",
		    __func__, hb->first, hb->last - 1);
		memset(hb->bad, 0, j->batch * sizeof(*hb->bad));
	}
	hash_read_all(j, hb);
	hash_pieces(j, hb, false);
out:
	for (p = hb->first; p < hb->last; p++) {
		j->ok[p] = !hb->bad[p - hb->first];
		if (!j->ok[p])
			memset(j->hashes + (size_t)p * SHA1_LEN, 0, SHA1_LEN);
	}
}

static void *
hash_worker(void *arg)
{
	struct hash_job		*j = arg;
	struct hash_batch	*hb;
	uint32_t		 b;

	hb = xcalloc(1, sizeof(*hb));
	hb->buf = xmalloc((size_t)(j->batch * j->pl));
	hb->bad = xcalloc(j->batch, sizeof(*hb->bad));
	for (;;) {
		pthread_mutex_lock(&j->lock);
		b = j->changed ? j->nbatches : j->next;
		if (b < j->nbatches)
			j->next++;
		pthread_mutex_unlock(&j->lock);
		if (b >= j->nbatches)
			break;

		hb->first = b * j->batch;
		hb->last = MIN(hb->first + j->batch, j->npieces);
		hb->off = (uint64_t)hb->first * j->pl;
		hb->len = MIN((uint64_t)hb->last * j->pl, j->total) - hb->off;
		hash_batch(j, hb);

		pthread_mutex_lock(&j->lock);
		j->done += hb->len;
		if (j->o->progress != NULL && (j->done - j->reported >=
		    STORAGE_PROGRESS_STEP || j->done == j->total)) {
			j->reported = j->done;
			j->o->progress(j->o->arg, j->done, j->total);
		}
		pthread_mutex_unlock(&j->lock);
	}
	free(hb->bad);
	free(hb->buf);
	free(hb);
	return NULL;
}

static unsigned
hash_nthreads(unsigned want, const struct hash_job *j)
{
	uint64_t	batch_bytes = (uint64_t)j->batch * j->pl;
	long		n;

	if (want == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		want = n < 1 ? 1 : (unsigned)MIN(n, STORAGE_HASH_THREADS);
	}
	want = MIN(want, STORAGE_HASH_THREADS);
	want = (unsigned)MIN(want, MAX(1, STORAGE_HASH_MEM / batch_bytes));
	return MIN(want, j->nbatches);
}

enum gt_err
storage_hash_all(struct storage *s, const struct storage_hash_opts *o,
    uint8_t *hashes, bool *ok, char *err)
{
	struct hash_job	 j = { 0 };
	pthread_t	 tids[STORAGE_HASH_THREADS];
	unsigned	 nthreads, started = 0, i;
	size_t		 f;
	int		 r;

	j.s = s;
	j.o = o;
	j.hashes = hashes;
	j.ok = ok;
	j.pl = filemap_piece_length(s->fm);
	j.total = filemap_total(s->fm);
	j.npieces = filemap_npieces(s->fm);
	if (j.npieces == 0)
		return GT_OK;
	/* at least 4 pieces a batch so sha1_multi has lanes to fill, but no
	   more than STORAGE_HASH_BATCH_MAX bytes */
	j.batch = (uint32_t)MAX(1, MIN(MAX(4, STORAGE_HASH_BATCH / j.pl),
	    STORAGE_HASH_BATCH_MAX / j.pl));
	j.nbatches = j.npieces / j.batch + (j.npieces % j.batch != 0);
	j.map = s->ops == &fs_ops;
	pthread_mutex_init(&j.lock, NULL);

	if (o->check_changes) {
		j.st = xcalloc(s->nfiles, sizeof(*j.st));
		for (f = 0; f < s->nfiles; f++)
			if (!s->files[f].pad && s->files[f].length > 0)
				hash_stat_file(s, f, &j.st[f]);
	}
	if (j.map)
		hash_sig_install();

	nthreads = hash_nthreads(o->nthreads, &j);
	for (i = 1; i < nthreads; i++) {
		if ((r = pthread_create(&tids[started], NULL, hash_worker,
		    &j)) != 0) {
			log_warn("%s: pthread_create: %s", __func__,
			    strerror(r));
			break;
		}
		started++;
	}
	hash_worker(&j);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (j.map)
		hash_sig_remove();

	for (f = 0; o->check_changes && !j.changed && f < s->nfiles; f++)
		if (!s->files[f].pad && s->files[f].length > 0 &&
		    hash_file_changed(&j, f))
			hash_set_changed(&j, f);
	free(j.st);
	pthread_mutex_destroy(&j.lock);
	if (j.changed) {
		if (s->root != NULL)
			(void)gt_fail(err, GT_EIO, "%s/%s: file changed while being hashed",
			    s->root, s->files[j.changed_file].path);
		else
			(void)gt_fail(err, GT_EIO, "%s: file changed while being hashed",
			    s->files[j.changed_file].path);
		return GT_ECHANGED;
	}
	return GT_OK;
}

/* ---- symlinks --------------------------------------------------------- */

enum gt_err
storage_make_symlinks(struct storage *s, char *err)
{
	struct fsback	*fb;
	const char	*base, *q;
	char		*target;
	size_t		 i, depth, k, tlen;
	enum gt_err	 e;
	int		 dfd;

	if (s->ops != &fs_ops)
		return GT_OK;
	fb = s->ctx;
	for (i = 0; i < s->nfiles; i++) {
		if (s->files[i].symlink == NULL || s->files[i].pad)
			continue;
		depth = 0;
		for (q = s->files[i].path; *q != '\0'; q++)
			depth += *q == '/';
		tlen = strlen(s->files[i].symlink);
		target = xmalloc(depth * 3 + tlen + 1);
		for (k = 0; k < depth; k++)
			memcpy(target + k * 3, "../", 3);
		memcpy(target + depth * 3, s->files[i].symlink, tlen + 1);

		if ((e = fs_walk(fb, s->files[i].path, true, &dfd,
		    &base)) != GT_OK) {
			(void)gt_fail(err, GT_EIO, "%s/%s: cannot create its folder",
			    s->root, s->files[i].path);
			free(target);
			return e == GT_ENOENT ? GT_EIO : e;
		}
		if (symlinkat(target, dfd, base) == -1) {
			if (errno != EEXIST) {
				(void)gt_fail(err, GT_EIO, "%s/%s: %s", s->root,
				    s->files[i].path, strerror(errno));
				log_warn("%s/%s: symlink: %s", s->root,
				    s->files[i].path, strerror(errno));
				fs_closedir(fb, dfd);
				free(target);
				return GT_EIO;
			}
			log_warn("%s/%s: already exists, symlink not made",
			    s->root, s->files[i].path);
		}
		fs_closedir(fb, dfd);
		free(target);
	}
	return GT_OK;
}
