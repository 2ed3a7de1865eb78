/* storage-hash.c - hashing every piece of a storage on several threads */
#include <sys/mman.h>

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "filemap.h"
#include "log.h"
#include "storage-backend.h"
#include "storage-hash.h"
#include "util.h"

#define STORAGE_HASH_BATCH	(4u << 20)	/* bytes per batch read */
#define STORAGE_HASH_BATCH_MAX	(64u << 20)	/* ... with big pieces */
#define STORAGE_HASH_THREADS	64
#define STORAGE_HASH_MEM	(1u << 30)	/* batch buffers, all threads */
#define STORAGE_PROGRESS_STEP	(64u << 20)	/* bytes between calls */
#define STORAGE_SPANS		64		/* spans read per round */
#define STORAGE_MAP_MIN		(1u << 20)	/* smaller batches: pread */

/*
 * Threads claim batches of whole pieces in order and hash them with
 * sha1_multi.  A batch inside one file is mapped (the back end's map op:
 * mmap, then MADV_POPULATE_READ pages it all in with one call, no fault
 * per page) and hashed in the page cache where it lies; anything else, or
 * a map that fails, is read with pread into the thread's own buffer (one
 * call per file span).  On 2 GiB in the page cache with two threads
 * (`gtorrent verify`, Linux 6.18 in a VM), CPU seconds a GiB: the copy
 * 0.19, more than SHA-1 itself (0.17 with AVX-512, 0.53 with SHA-NI);
 * the populated mapping 0.05, a PTE per page mapped and unmapped.
 * (Mapping without the populate, faulting page by page, used to cost
 * more than the copy.)  A mapped file cut short
 * while it is hashed raises SIGBUS: a handler, installed for the run,
 * maps zeros over the rest of the mapping when the fault is in the one
 * this thread is hashing, and returns (no jump out of the hashing, which
 * may be inside libcrypto); the batch is then read again with pread,
 * which sees the short file.  Any other SIGBUS goes to the program's own
 * disposition: its handler is called, or the default (the fault
 * recurring, or raised again) ends the process as it would have.
 */

struct hash_guard {
	struct {
		uint8_t	*lo, *hi;	/* a mapping being hashed (page
					   aligned) */
	}		 m[SHA1_LANES_MAX];
	volatile sig_atomic_t n;	/* how many; 0: none */
	uintptr_t	 pagesize;
	volatile sig_atomic_t cut;	/* zeros were mapped over one */
};

static _Thread_local struct hash_guard	 hash_guard;
static pthread_mutex_t			 hash_sig_lock =
					    PTHREAD_MUTEX_INITIALIZER;
static unsigned				 hash_sig_users;
static struct sigaction			 hash_sig_old;

static void
hash_on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct hash_guard	*g = &hash_guard;
	uint8_t			*a = si != NULL ? si->si_addr : NULL, *pg;
	sig_atomic_t		 k;

	for (k = 0; si != NULL && si->si_code > 0 && k < g->n; k++) {
		if (a < g->m[k].lo || a >= g->m[k].hi)
			continue;
		pg = (uint8_t *)((uintptr_t)a & ~(g->pagesize - 1));
		if (mmap(pg, (size_t)(g->m[k].hi - pg), PROT_READ, MAP_FIXED |
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
			g->cut = 1;
			return;		/* the read is tried again: zeros */
		}
		break;
	}
	/* Not ours: what the program would have had without us. */
	if (hash_sig_old.sa_flags & SA_SIGINFO) {
		hash_sig_old.sa_sigaction(sig, si, uc);
		return;
	}
	if (hash_sig_old.sa_handler == SIG_IGN)
		return;
	if (hash_sig_old.sa_handler != SIG_DFL) {
		hash_sig_old.sa_handler(sig);
		return;
	}
	sigaction(SIGBUS, &hash_sig_old, NULL);
	raise(sig);		/* a fault would recur: the same end */
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
	const struct storage_view	*v;
	const struct storage_hash_opts	*o;
	uint8_t				*hashes;
	bool				*ok;
	uint64_t			 pl;
	uint64_t			 total;
	uint32_t			 npieces;
	uint32_t			 batch;		/* pieces per batch */
	uint32_t			 nbatches;
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
	uint8_t			*buf;		/* batch bytes, or NULL: none
						   read with pread yet */
	bool			*bad;		/* per piece of the batch */
};

static void
hash_stat_file(const struct storage_view *v, size_t file,
    struct hash_stat *hs)
{
	hs->size = 0;
	hs->mtime_ns = 0;
	hs->e = v->ops->stat(v->ctx, file, &hs->size, &hs->mtime_ns);
}

static bool
hash_file_changed(struct hash_job *j, size_t file)
{
	struct hash_stat	 now, *then = &j->st[file];

	hash_stat_file(j->v, file, &now);
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
	const struct storage_view *v = j->v;
	uint64_t	 start = off, end = off + sp->len, pend, n, foff;
	size_t		 f;
	enum gt_err	 e;

	if (v->files[sp->file].pad) {
		memset(p, 0, (size_t)sp->len);
		return;
	}
	f = storage_span_file(v, sp->file, sp->off, off, &foff);
	e = v->ops->read(v->ctx, f, foff, p, (size_t)sp->len);
	if (e == GT_OK)
		return;
	if (j->o->check_changes && hash_file_changed(j, f))
		hash_set_changed(j, f);
	if (e == GT_ENOENT) {
		hash_mark_bad(j, hb, off, sp->len);
		return;
	}
	while (off < end) {
		pend = (off / j->pl + 1) * j->pl;
		n = MIN(pend, end) - off;
		if (v->ops->read(v->ctx, f, foff + (off - start), p,
		    (size_t)n) != GT_OK)
			hash_mark_bad(j, hb, off, n);
		p += n;
		off += n;
	}
}

/* The whole batch into buf with large preads. */
static void
hash_read_all(struct hash_job *j, struct hash_batch *hb)
{
	struct filemap_span	 sp[STORAGE_SPANS];
	uint64_t		 off = hb->off, len = hb->len;
	uint8_t			*p = hb->buf;
	size_t			 n, i;

	while (len > 0) {
		n = filemap_spans(j->v->fm, off, len, sp, nitems(sp));
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

/*
 * Whole pieces wait in a queue and go to sha1_multi() together, which
 * hashes several at once; the torrent's shorter last piece goes to
 * sha1().  Queued pointers point into buf.
 */
#define HASH_QUEUE	SHA1_LANES_MAX	/* pieces per sha1_multi() call */

struct hash_queue {
	const uint8_t	*msg[HASH_QUEUE];
	uint32_t	 piece[HASH_QUEUE];
	size_t		 n;
};

/* Piece p hashed to d: keep it, or compare it with what it should be. */
static void
hash_put(struct hash_job *j, uint32_t p, const uint8_t *d)
{
	if (j->hashes != NULL)
		memcpy(j->hashes + (size_t)p * SHA1_LEN, d, SHA1_LEN);
	if (j->o->expected != NULL)
		j->ok[p] = memcmp(d, j->o->expected + (size_t)p * SHA1_LEN,
		    SHA1_LEN) == 0;
	else
		j->ok[p] = true;
}

static void
hash_flush(struct hash_job *j, struct hash_queue *q)
{
	uint8_t	out[HASH_QUEUE][SHA1_LEN];
	size_t	i;

	if (q->n == 0)
		return;
	sha1_multi(q->msg, (size_t)j->pl, q->n, out);
	for (i = 0; i < q->n; i++)
		hash_put(j, q->piece[i], out[i]);
	q->n = 0;
}

static void
hash_one(struct hash_job *j, struct hash_queue *q, uint32_t p,
    const uint8_t *src, uint64_t len)
{
	uint8_t	d[SHA1_LEN];

	if (len != j->pl) {
		sha1(src, (size_t)len, d);
		hash_put(j, p, d);
		return;
	}
	q->msg[q->n] = src;
	q->piece[q->n] = p;
	if (++q->n == nitems(q->msg))
		hash_flush(j, q);
}

/* Hashes the batch's good pieces, all in data (hb->len bytes). */
static void
hash_pieces(struct hash_job *j, struct hash_batch *hb, const uint8_t *data)
{
	struct hash_queue	q = { .n = 0 };
	uint64_t		start;
	uint32_t		p;

	for (p = hb->first; p < hb->last; p++) {
		if (hb->bad[p - hb->first])
			continue;
		start = (uint64_t)p * j->pl;
		hash_one(j, &q, p, data + (start - hb->off),
		    filemap_piece_size(j->v->fm, p));
	}
	hash_flush(j, &q);
}

/* The guard over n mappings (base[i], maplen[i] bytes) about to be read. */
static void
guard_set(struct hash_guard *g, void *const *base, const size_t *maplen,
    size_t n)
{
	long	ps = sysconf(_SC_PAGESIZE);
	size_t	k;

	g->n = 0;
	g->pagesize = (uintptr_t)ps;
	g->cut = 0;
	for (k = 0; k < n; k++) {
		g->m[k].lo = base[k];
		g->m[k].hi = (uint8_t *)base[k] + (maplen[k] + g->pagesize -
		    1) / g->pagesize * g->pagesize;
	}
	g->n = (sig_atomic_t)n;
}

/*
 * hash_pieces() over data, in the mapping base (maplen bytes); false if
 * the file was cut short meanwhile (the hashes are of zeros then).
 */
static bool
hash_pieces_guarded(struct hash_job *j, struct hash_batch *hb,
    const uint8_t *data, void *base, size_t maplen)
{
	struct hash_guard	*g = &hash_guard;

	guard_set(g, &base, &maplen, 1);
	hash_pieces(j, hb, data);
	g->n = 0;
	return !g->cut;
}

/*
 * Do the torrent bytes [off, off + len) lie in one file on disk (not
 * padding)?  Then *file and *foff say where.
 */
static bool
in_one_file(const struct storage_view *v, uint64_t off, uint64_t len,
    size_t *file, uint64_t *foff)
{
	struct filemap_span	sp;

	if (filemap_spans(v->fm, off, len, &sp, 1) != 1 || sp.len != len ||
	    v->files[sp.file].pad)
		return false;
	*file = storage_span_file(v, sp.file, sp.off, off, foff);
	return true;
}

/*
 * The batch hashed where the page cache holds it, when it lies in one
 * file that has all of it; false if it could not be (read it instead).
 */
static bool
hash_batch_mapped(struct hash_job *j, struct hash_batch *hb)
{
	const struct storage_view *v = j->v;
	const uint8_t		*data;
	uint64_t		 foff;
	size_t			 f, maplen;
	void			*base;
	bool			 done;

	if (v->ops->map == NULL || hb->len < STORAGE_MAP_MIN ||
	    !in_one_file(v, hb->off, hb->len, &f, &foff))
		return false;
	if (!v->ops->map(v->ctx, f, foff, (size_t)hb->len, &data, &base,
	    &maplen))
		return false;
	done = hash_pieces_guarded(j, hb, data, base, maplen);
	munmap(base, maplen);
	if (!done)
		log_debug("%s: SIGBUS in pieces %u-%u, reading again",
		    __func__, hb->first, hb->last - 1);
	return done;
}

static void
hash_batch(struct hash_job *j, struct hash_batch *hb)
{
	uint32_t	p;

	memset(hb->bad, 0, j->batch * sizeof(*hb->bad));
	if (!hash_batch_mapped(j, hb)) {
		if (hb->buf == NULL)
			hb->buf = xmalloc((size_t)(j->batch * j->pl));
		hash_read_all(j, hb);
		hash_pieces(j, hb, hb->buf);
	}
	for (p = hb->first; p < hb->last; p++) {
		if (!hb->bad[p - hb->first])
			continue;	/* hash_put said */
		j->ok[p] = false;
		if (j->hashes != NULL)
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
storage_hash_run(const struct storage_view *v,
    const struct storage_hash_opts *o, uint8_t *hashes, bool *ok,
    size_t *changed)
{
	struct hash_job	 j = { 0 };
	pthread_t	 tids[STORAGE_HASH_THREADS];
	unsigned	 nthreads, started = 0, i;
	size_t		 f, lanes;
	int		 r;

	j.v = v;
	j.o = o;
	j.hashes = hashes;
	j.ok = ok;
	j.pl = filemap_piece_length(v->fm);
	j.total = filemap_total(v->fm);
	j.npieces = filemap_npieces(v->fm);
	if (j.npieces == 0)
		return GT_OK;
	/* enough pieces a batch to fill the kernel's lanes (sixteen with
	   AVX-512: 1 MiB pieces four to a batch hashed at a third of the
	   speed), but no more than STORAGE_HASH_BATCH_MAX bytes */
	lanes = MAX(4, sha1_lanes_width());
	j.batch = (uint32_t)MAX(1, MIN(MAX(lanes, STORAGE_HASH_BATCH / j.pl),
	    STORAGE_HASH_BATCH_MAX / j.pl));
	j.nbatches = j.npieces / j.batch + (j.npieces % j.batch != 0);
	pthread_mutex_init(&j.lock, NULL);

	if (o->check_changes) {
		j.st = xcalloc(v->nfiles, sizeof(*j.st));
		for (f = 0; f < v->nfiles; f++)
			if (!v->files[f].pad && v->files[f].length > 0)
				hash_stat_file(v, f, &j.st[f]);
	}

	if (v->ops->map != NULL)
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
	if (v->ops->map != NULL)
		hash_sig_remove();

	for (f = 0; o->check_changes && !j.changed && f < v->nfiles; f++)
		if (!v->files[f].pad && v->files[f].length > 0 &&
		    hash_file_changed(&j, f))
			hash_set_changed(&j, f);
	free(j.st);
	pthread_mutex_destroy(&j.lock);
	if (j.changed) {
		*changed = j.changed_file;
		return GT_ECHANGED;
	}
	return GT_OK;
}

bool
storage_hash_view_mapped(const struct storage_view *v,
    const uint32_t *pieces, size_t n, uint8_t (*out)[SHA1_LEN])
{
	struct hash_guard	*g = &hash_guard;
	const uint8_t		*data[SHA1_LANES_MAX];
	void			*base[SHA1_LANES_MAX];
	size_t			 maplen[SHA1_LANES_MAX], file[SHA1_LANES_MAX];
	size_t			 m, k;
	uint64_t		 pl = filemap_piece_length(v->fm);
	uint64_t		 foff[SHA1_LANES_MAX];
	bool			 done = false;

	assert(n <= SHA1_LANES_MAX);
	if (v->ops->map == NULL || n == 0 || pl > SIZE_MAX)
		return false;
	/* every piece in one file, before any is mapped */
	for (k = 0; k < n; k++)
		if (pieces[k] >= filemap_npieces(v->fm) || !in_one_file(v,
		    (uint64_t)pieces[k] * pl, pl, &file[k], &foff[k]))
			return false;
	for (m = 0; m < n; m++)
		if (!v->ops->map(v->ctx, file[m], foff[m], (size_t)pl,
		    &data[m], &base[m], &maplen[m]))
			break;
	if (m == n) {
		hash_sig_install();
		guard_set(g, base, maplen, n);
		sha1_multi(data, (size_t)pl, n, out);
		g->n = 0;
		hash_sig_remove();
		done = !g->cut;
	}
	for (k = 0; k < m; k++)
		munmap(base[k], maplen[k]);
	return done;
}
