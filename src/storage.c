/* storage.c - multi-file piece storage: block I/O over a back end */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "filemap.h"
#include "log.h"
#include "metainfo.h"
#include "storage.h"
#include "storage-backend.h"
#include "storage-fs.h"
#include "storage-hash.h"
#include "storage-mem.h"
#include "util.h"

#define STORAGE_MEMORY_MAX	(256u << 20)	/* bytes, memory back-end */
#define STORAGE_SPANS		64		/* spans handled per round */

/*
 * The files and the layout; the back end (storage-fs.c, storage-mem.c)
 * and the hasher (storage-hash.c) see them through v.
 */
struct storage {
	struct storage_view	 v;		/* borrows the fields below */
	struct filemap		*fm;
	struct storage_entry	*files;
	size_t			 nfiles;
	char			*root;		/* NULL for memory */
	atomic_bool		*dirty;		/* per file: written since the
						   last sync */

	pthread_mutex_t		 lock;		/* guards nwrites and wb_ */
	unsigned		 fail_write;	/* memory: this write fails */
	unsigned		 nwrites;

	/* early writeback (storage_writeback_every) */
	uint64_t		 wb_every;	/* bytes between runs; 0: off */
	uint64_t		 wb_bytes;	/* written since the last run */
	unsigned		 wb_runs;	/* runs started */
	bool			 wb_running;	/* wb_th is to be joined */
	atomic_bool		 wb_done;	/* ... and has finished */
	pthread_t		 wb_th;
};

/* ---- opening ----------------------------------------------------------- */

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
    uint64_t piece_length, const char *part)
{
	struct storage	*s;
	uint64_t	*lengths;
	size_t		 i, nall = nfiles;
	bool		 skips = false;

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
	/* the part file: with skipped files, and on disk always (what
	   an earlier run parked there may be wanted now) */
	for (i = 0; i < nfiles; i++)
		skips |= files[i].skip && !files[i].pad;
	skips |= part != NULL;
	if (skips)
		nall++;
	s->files = xcalloc(nall, sizeof(*s->files));
	s->nfiles = nall;
	s->dirty = xcalloc(nall, sizeof(*s->dirty));
	for (i = 0; i < nfiles; i++) {
		s->files[i].path = xstrdup(files[i].path != NULL ?
		    files[i].path : "");
		s->files[i].length = files[i].length;
		s->files[i].pad = files[i].pad;
		s->files[i].skip = files[i].skip && !files[i].pad;
		if (files[i].symlink != NULL)
			s->files[i].symlink = xstrdup(files[i].symlink);
	}
	if (skips) {
		s->files[nfiles].path = xstrdup(part != NULL && *part != '\0' ?
		    part : STORAGE_PART);
		s->files[nfiles].length = filemap_total(s->fm);
		s->files[nfiles].part = true;
	}
	for (i = 0; i < nall; i++)
		atomic_init(&s->dirty[i], false);
	atomic_init(&s->wb_done, false);
	pthread_mutex_init(&s->lock, NULL);
	s->v = (struct storage_view){
		.fm = s->fm, .files = s->files, .nfiles = nall,
		.part = skips ? nfiles : SIZE_MAX,
	};
	return s;
}

/* The torrent bytes of file i in part: its first and last pieces'. */
static enum gt_err
unpark_range(struct storage *s, size_t i, uint64_t from, uint64_t to)
{
	uint8_t		*buf;
	uint64_t	 fo = filemap_file_offset(s->fm, i), n;
	enum gt_err	 e = GT_OK;
	struct iovec	 v;

	buf = xmalloc(1 << 16);
	while (e == GT_OK && from < to) {
		n = MIN(to - from, 1 << 16);
		e = s->v.ops->read(s->v.ctx, s->v.part, from, buf, (size_t)n);
		if (e == GT_OK) {
			v = (struct iovec){ .iov_base = buf, .iov_len = n };
			e = s->v.ops->writev(s->v.ctx, i, from - fo, &v, 1);
			atomic_store_explicit(&s->dirty[i], true,
			    memory_order_release);
		}
		from += n;
	}
	free(buf);
	return e;
}

/*
 * Which skipped files are parked (absent from the disk), and what the
 * part file holds of wanted files still absent, moved back to them.
 */
static enum gt_err
storage_park(struct storage *s, bool write, char *err)
{
	const struct storage_entry	*f;
	uint64_t			 size, fo, end, pl, first_end, last;
	int64_t				 mtime;
	size_t				 i, nparked = 0;
	bool				 part;
	enum gt_err			 e;

	if (s->v.part == SIZE_MAX)
		return GT_OK;
	part = s->v.ops->stat(s->v.ctx, s->v.part, &size, &mtime) == GT_OK;
	pl = filemap_piece_length(s->fm);
	for (i = 0; i < s->v.part; i++) {
		f = &s->files[i];
		if (f->pad || f->length == 0 || f->symlink != NULL ||
		    s->v.ops->stat(s->v.ctx, i, &size, &mtime) != GT_ENOENT)
			continue;
		/*
		 * Skipped, or only read (`gtorrent seed` without the
		 * selection that left it out): its bytes are in the part
		 * file, if anywhere.
		 */
		if (f->skip || (!write && part)) {
			s->files[i].parked = true;
			nparked++;
			continue;
		}
		if (!part || !write)
			continue;
		fo = filemap_file_offset(s->fm, i);
		end = fo + f->length;
		first_end = MIN(end, (fo / pl + 1) * pl);
		last = MAX(first_end, (end - 1) / pl * pl);
		if ((e = unpark_range(s, i, fo, first_end)) != GT_OK ||
		    (e = unpark_range(s, i, last, end)) != GT_OK)
			return gt_fail(err, e, "%s/%s: cannot move its data "
			    "out of %s", s->root, f->path,
			    s->files[s->v.part].path);
	}
	if (nparked == 0 && part && write &&
	    s->v.ops->remove(s->v.ctx, s->v.part) != GT_OK)
		log_warn("%s/%s: cannot remove it", s->root,
		    s->files[s->v.part].path);
	return GT_OK;
}

bool
storage_parked(const struct storage *s, size_t file)
{
	return file < s->nfiles && s->files[file].parked;
}

void
storage_free(struct storage *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (s->wb_running)
		pthread_join(s->wb_th, NULL);
	if (s->v.ops != NULL)
		s->v.ops->free(s->v.ctx);
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].symlink);
	}
	free(s->files);
	free(s->dirty);
	filemap_free(s->fm);
	free(s->root);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

enum gt_err
storage_open(struct storage **out, const char *root,
    const struct storage_file *files, size_t nfiles, uint64_t piece_length,
    unsigned flags, const char *part, char *err)
{
	struct storage_fs	*fb;
	struct storage		*s;
	enum gt_err		 e;
	size_t			 i;

	if (root == NULL || *root == '\0')
		return gt_fail(err, GT_EINVAL, "no download folder given");
	for (i = 0; i < nfiles; i++) {
		if (files[i].pad)
			continue;
		if (files[i].path == NULL || !path_is_safe(files[i].path))
			return gt_fail(err, GT_EINVAL, "%s: unsafe file path",
			    files[i].path == NULL ? "(null)" : files[i].path);
		if (files[i].symlink != NULL &&
		    !path_is_safe(files[i].symlink))
			return gt_fail(err, GT_EINVAL,
			    "%s: unsafe symlink target", files[i].path);
	}
	if (part != NULL && !path_is_safe(part))
		return gt_fail(err, GT_EINVAL, "%s: unsafe part file", part);
	if ((s = storage_new_common(files, nfiles, piece_length,
	    part != NULL ? part : "")) == NULL)
		return gt_fail(err, GT_EINVAL,
		    "%s: unusable piece length or file sizes", root);
	s->root = xstrdup(root);
	s->v.root = s->root;
	if ((e = storage_fs_new(&fb, &s->v, (flags & STORAGE_WRITE) != 0,
	    (flags & STORAGE_PREALLOC) != 0, err)) != GT_OK) {
		storage_free(s);
		return e;
	}
	s->v.ops = &storage_fs_ops;
	s->v.ctx = fb;
	if ((e = storage_park(s, (flags & STORAGE_WRITE) != 0, err)) !=
	    GT_OK) {
		storage_free(s);
		return e;
	}
	*out = s;
	return GT_OK;
}

enum gt_err
storage_open_metainfo(struct storage **out, const char *root,
    const struct metainfo *m, const bool *skip, unsigned flags, char *err)
{
	struct storage_file	*files;
	struct storage		*s;
	char			 part[2 * SHA1_LEN + 8];
	enum gt_err		 e;
	size_t			 i;

	files = xcalloc(m->nfiles, sizeof(*files));
	for (i = 0; i < m->nfiles; i++) {
		files[i].path = m->files[i].path;
		files[i].length = m->files[i].length;
		files[i].pad = (m->files[i].attr & MI_ATTR_PAD) != 0;
		files[i].symlink = m->files[i].symlink;
		files[i].skip = skip != NULL && skip[i];
	}
	part[0] = '.';
	hex_encode(part + 1, m->info_hash, SHA1_LEN);
	strcat(part, ".parts");
	e = storage_open(&s, root, files, m->nfiles, m->piece_length, flags,
	    part, err);
	free(files);
	if (e != GT_OK)
		return e;
	if (filemap_npieces(s->fm) != m->npieces ||
	    filemap_total(s->fm) != m->total_length) {
		storage_free(s);
		return gt_fail(err, GT_EINVAL,
		    "%s: file sizes do not match the piece count",
		    m->name != NULL ? m->name : root);
	}
	*out = s;
	return GT_OK;
}

struct storage *
storage_new_memory(const struct storage_file *files, size_t nfiles,
    uint64_t piece_length, unsigned fail_write)
{
	struct storage	*s;
	uint64_t	 sum = 0;
	size_t		 i;

	for (i = 0; i < nfiles; i++) {
		if (files[i].pad)
			continue;
		if (files[i].length > STORAGE_MEMORY_MAX - sum)
			return NULL;
		sum += files[i].length;
	}
	if ((s = storage_new_common(files, nfiles, piece_length, NULL)) == NULL)
		return NULL;
	s->fail_write = fail_write;
	s->v.ops = &storage_mem_ops;
	s->v.ctx = storage_mem_new(&s->v);
	return s;
}

unsigned
storage_memory_syncs(const struct storage *s, size_t file)
{
	if (s->v.ops != &storage_mem_ops)
		return 0;
	return storage_mem_syncs(s->v.ctx, file);
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
	uint64_t		 foff;
	size_t			 n, i, f;
	enum gt_err		 e;

	if (!range_ok(s, off, len))
		return GT_ERANGE;
	while (len > 0) {
		n = filemap_spans(s->fm, off, len, sp, nitems(sp));
		if (n == 0)
			return GT_ERANGE;
		n = MIN(n, nitems(sp));
		for (i = 0; i < n; i++) {
			f = storage_span_file(&s->v, sp[i].file, sp[i].off,
			    off, &foff);
			if (s->files[sp[i].file].pad)
				memset(p, 0, (size_t)sp[i].len);
			else if ((e = s->v.ops->read(s->v.ctx, f, foff, p,
			    (size_t)sp[i].len)) != GT_OK)
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

/* ---- early writeback ---------------------------------------------------- */

/*
 * The disk is set to work on what was written while the download goes
 * on, instead of all of it at the sync that makes it durable (at
 * completion, a checkpoint, the stop): with one GiB on loopback, the
 * fdatasync at completion took 0.55 to 0.7 s, against 16 ms with a run
 * every 32 MiB and under 10 ms with one every 16 MiB.
 * The back end's writeback only starts the writing (sync_file_range
 * with SYNC_FILE_RANGE_WRITE): nothing is durable until storage_sync,
 * whose dirty flags it leaves alone.  Starting it can wait for the block
 * layer and for the file system's allocation, so it runs on a thread of
 * its own, one run at a time; a run due while one is going is skipped
 * (the next write tries again).
 */
static void *
writeback_main(void *arg)
{
	struct storage	*s = arg;
	size_t		 i;

	for (i = 0; i < s->nfiles; i++)
		if (atomic_load_explicit(&s->dirty[i], memory_order_acquire))
			s->v.ops->writeback(s->v.ctx, i);
	atomic_store_explicit(&s->wb_done, true, memory_order_release);
	return NULL;
}

static void
writeback_after(struct storage *s, uint64_t written)
{
	int	r;

	if (s->wb_every == 0 || s->v.ops->writeback == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->wb_bytes += written;
	if (s->wb_bytes < s->wb_every || (s->wb_running &&
	    !atomic_load_explicit(&s->wb_done, memory_order_acquire))) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (s->wb_running)
		pthread_join(s->wb_th, NULL);
	s->wb_bytes = 0;
	atomic_store_explicit(&s->wb_done, false, memory_order_relaxed);
	if ((r = pthread_create(&s->wb_th, NULL, writeback_main, s)) != 0)
		log_debug("%s: pthread_create: %s", __func__, strerror(r));
	s->wb_running = r == 0;
	s->wb_runs += r == 0;
	pthread_mutex_unlock(&s->lock);
}

void
storage_writeback_every(struct storage *s, uint64_t bytes)
{
	pthread_mutex_lock(&s->lock);
	s->wb_every = bytes;
	pthread_mutex_unlock(&s->lock);
}

unsigned
storage_writebacks(struct storage *s)
{
	unsigned	n;

	pthread_mutex_lock(&s->lock);
	if (s->wb_running) {
		pthread_join(s->wb_th, NULL);
		s->wb_running = false;
	}
	n = s->wb_runs;
	pthread_mutex_unlock(&s->lock);
	return n;
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

/* Writes the next len bytes of iov (from *i, *skip) to one file span. */
static enum gt_err
writev_span(struct storage *s, const struct filemap_span *sp, uint64_t toff,
    const struct iovec *iov, size_t *i, size_t *skip)
{
	struct iovec	v[STORAGE_IOV];
	uint64_t	off, left = sp->len, got, take;
	size_t		k, f;
	enum gt_err	e;

	f = storage_span_file(&s->v, sp->file, sp->off, toff, &off);
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
		if (!s->files[sp->file].pad) {
			e = s->v.ops->writev(s->v.ctx, f, off, v, k);
			/* after the write, so that a sync that clears it has
			   the bytes to sync */
			atomic_store_explicit(&s->dirty[f], true,
			    memory_order_release);
			if (e != GT_OK)
				return e;
		}
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
	uint64_t		 len = 0, total;
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
	total = len;
	while (len > 0) {
		nsp = filemap_spans(s->fm, off, len, sp, nitems(sp));
		if (nsp == 0)
			return GT_ERANGE;
		nsp = MIN(nsp, nitems(sp));
		for (i = 0; i < nsp; i++) {
			if ((e = writev_span(s, &sp[i], off, iov, &k,
			    &skip)) != GT_OK)
				return e;
			off += sp[i].len;
			len -= sp[i].len;
		}
	}
	writeback_after(s, total);
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
storage_send(struct storage *s, uint32_t piece, uint32_t off, uint32_t len,
    int outfd, size_t *sent)
{
	static const uint8_t	zeros[4096];
	struct filemap_span	sp[STORAGE_SPANS];
	uint64_t		toff, foff;
	size_t			n, i, f, done = 0, got;
	enum gt_err		e = GT_OK;

	if (piece >= filemap_npieces(s->fm) ||
	    (uint64_t)off + len > filemap_piece_size(s->fm, piece))
		return GT_ERANGE;
	toff = (uint64_t)piece * filemap_piece_length(s->fm) + off;
	/* Span by span, until one is cut short (outfd is full). */
	while (done < len) {
		n = filemap_spans(s->fm, toff, len - done, sp, nitems(sp));
		if (n == 0)
			return GT_ERANGE;
		n = MIN(n, nitems(sp));
		for (i = 0; i < n; i++) {
			f = storage_span_file(&s->v, sp[i].file, sp[i].off,
			    toff, &foff);
			got = 0;
			if (s->files[sp[i].file].pad)
				e = storage_send_mem(outfd, zeros,
				    (size_t)MIN(sp[i].len, sizeof(zeros)),
				    &got);
			else
				e = s->v.ops->send(s->v.ctx, f, foff,
				    (size_t)sp[i].len, outfd, &got);
			if (e != GT_OK)
				goto out;
			done += got;
			toff += got;
			if (got < sp[i].len)
				goto out;
		}
	}
out:
	if (done == 0 && e != GT_OK)
		return e;
	*sent = done;		/* an error after some bytes: next call */
	return GT_OK;
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

bool
storage_hash_mapped(struct storage *s, const uint32_t *pieces, size_t n,
    uint8_t (*out)[SHA1_LEN])
{
	return storage_hash_view_mapped(&s->v, pieces, n, out);
}

/* ---- sync, hashing, symlinks ------------------------------------------ */

enum gt_err
storage_sync(struct storage *s)
{
	enum gt_err	e, first = GT_OK;
	size_t		i;

	for (i = 0; i < s->nfiles; i++) {
		if (!atomic_exchange_explicit(&s->dirty[i], false,
		    memory_order_acq_rel))
			continue;
		if ((e = s->v.ops->sync(s->v.ctx, i)) != GT_OK) {
			/* try again next time */
			atomic_store_explicit(&s->dirty[i], true,
			    memory_order_release);
			if (first == GT_OK)
				first = e;
		}
	}
	return first;
}

enum gt_err
storage_hash_all(struct storage *s, const struct storage_hash_opts *o,
    uint8_t *hashes, bool *ok, char *err)
{
	enum gt_err	e;
	size_t		f = 0;

	if ((e = storage_hash_run(&s->v, o, hashes, ok, &f)) != GT_ECHANGED)
		return e;
	if (s->root != NULL)
		return gt_fail(err, e, "%s/%s: file changed while being hashed",
		    s->root, s->files[f].path);
	return gt_fail(err, e, "%s: file changed while being hashed",
	    s->files[f].path);
}

enum gt_err
storage_stat(struct storage *s, size_t file, uint64_t *size,
    int64_t *mtime_ns)
{
	assert(file < s->nfiles);
	if (s->files[file].pad || s->files[file].symlink != NULL)
		return GT_ENOENT;
	return s->v.ops->stat(s->v.ctx, file, size, mtime_ns);
}

enum gt_err
storage_make_symlinks(struct storage *s, char *err)
{
	if (s->v.ops != &storage_fs_ops)
		return GT_OK;
	return storage_fs_make_symlinks(s->v.ctx, err);
}
