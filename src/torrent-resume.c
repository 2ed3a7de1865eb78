/*
 * torrent-resume.c - fast resume: the torrent's record, its checkpoints,
 * and the lock on its data
 *
 * The record (resume.h) says which pieces are verified, which blocks of
 * the others arrived, and each file's size and modification time when it
 * was written.  It lives in state_dir/resume/HEX-KEY.resume (HEX: the
 * info-hash; KEY: of the data's path, see record_path) and is written
 * whole, atomically, after the data it describes is synced (statefile.h):
 * within TORRENT_RESUME_MS of a change while running (a checkpoint, on a
 * thread), and at the stop (a clean record, synchronously).
 *
 * At the start a record that agrees with the files spares the data check.
 * A clean record must find every file as it left it (size and mtime).  A
 * checkpoint may find later mtimes on the files it describes, since the
 * run that wrote it went on writing, but only into the pieces it did not
 * record as verified; a file older or of another size is a change.  A
 * changed file, or a record that is missing, of another torrent, or
 * hostile, gets a one-line notice and the data is checked as without one.
 * Blocks of partial pieces are trusted only once their piece passes its
 * hash (those of a piece with every block there are hashed at once).
 *
 * The lock: state_dir/resume/KEY.lock, KEY the SHA-1 of the data's real
 * path, held with flock() for the torrent's life, so that a second
 * gtorrent writing the same data refuses to start (`gtorrent seed` only
 * reads, and takes none).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bitfield.h"
#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "metainfo.h"
#include "picker.h"
#include "resume.h"
#include "statefile.h"
#include "storage.h"
#include "torrent-int.h"
#include "util.h"
#include "wire.h"

#define RESUME_DIR		"resume"
#define RESUME_LOCK_MAX		64	/* bytes of a lock file we read */

/* state_dir/resume, created if need be; malloc'd, or NULL. */
static char *
resume_dir(const struct torrent *t)
{
	char	*dir;

	if (t->o.state_dir == NULL)
		return NULL;
	dir = xasprintf("%s/%s", t->o.state_dir, RESUME_DIR);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_warn("%s: %s: resume records are not kept", dir,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The data's key: the SHA-1 of its real path, DIR/NAME, in hex. */
static void
data_key(const struct torrent *t, char hex[2 * SHA1_LEN + 1])
{
	char	 real[PATH_MAX], *key;
	uint8_t	 md[SHA1_LEN];

	if (realpath(t->dir, real) == NULL)
		snprintf(real, sizeof(real), "%s", t->dir);
	key = xasprintf("%s/%s", real, t->m->name);
	sha1(key, strlen(key), md);
	free(key);
	hex_encode(hex, md, SHA1_LEN);
}

/* ---- the lock -------------------------------------------------------- */

enum gt_err
torrent_resume_lock(struct torrent *t, char *err)
{
	char		*dir, *path;
	char		 hex[2 * SHA1_LEN + 1], pid[RESUME_LOCK_MAX];
	ssize_t		 n;
	int		 fd, saved;

	if (t->o.upload_only || (dir = resume_dir(t)) == NULL)
		return GT_OK;	/* `gtorrent seed` only reads: many may */
	data_key(t, hex);
	path = xasprintf("%s/%s.lock", dir, hex);
	free(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		log_warn("%s: %s: the data is not locked", path,
		    strerror(errno));
		free(path);
		return GT_OK;
	}
	free(path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		saved = errno;
		if (saved != EWOULDBLOCK) {
			log_warn("%s: lock: %s: the data is not locked",
			    t->name, strerror(saved));
			close(fd);
			return GT_OK;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		close(fd);
		pid[n > 0 ? n : 0] = '\0';
		pid[strspn(pid, "0123456789")] = '\0';
		return gt_fail(err, GT_EEXIST, "%s/%s: in use by another "
		    "gtorrent%s%s%s", t->dir, t->m->name, pid[0] != '\0' ?
		    " (pid " : "", pid, pid[0] != '\0' ? ")" : "");
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_debug("%s: cannot write our pid: %s", __func__,
		    strerror(errno));
	t->rs_lock = fd;
	return GT_OK;
}

/* ---- loading ------------------------------------------------------------- */

/*
 * state_dir/resume/HEX-KEY.resume: the torrent's info-hash and the first
 * 16 digits of its data's key, so that one torrent in two folders has
 * two records (one would pass for the other: same sizes, later mtimes).
 */
static char *
record_path(const struct torrent *t)
{
	char	*dir, *path, hex[2 * SHA1_LEN + 1], key[2 * SHA1_LEN + 1];

	if ((dir = resume_dir(t)) == NULL)
		return NULL;
	hex_encode(hex, t->info_hash, SHA1_LEN);
	data_key(t, key);
	path = xasprintf("%s/%s-%.16s.resume", dir, hex, key);
	free(dir);
	return path;
}

static void
expect_of(const struct torrent *t, struct resume_expect *x)
{
	const struct metainfo	*m = t->m;

	memset(x, 0, sizeof(*x));
	memcpy(x->info_hash, t->info_hash, SHA1_LEN);
	x->npieces = m->npieces;
	x->piece_length = (uint32_t)m->piece_length;
	x->last_size = metainfo_piece_size(m, m->npieces - 1);
	x->nfiles = m->nfiles;
}

/*
 * Does the record claim data of file i: a verified piece holding bytes of
 * it, or a received block of a partial one?  (A piece shared with the next
 * file may have blocks of that file only: this one is not written yet.)
 * Never for a file without bytes on disk (empty, padding, a link) or
 * skipped (priority 0: what pieces bring of it is kept in the part file).
 */
static bool
record_claims(const struct metainfo *m, const struct resume *r, size_t i)
{
	const struct mi_file	*mf = &m->files[i];

	if (r->files[i].priority == 0 || mf->length == 0 ||
	    (mf->attr & (MI_ATTR_PAD | MI_ATTR_SYMLINK)) != 0)
		return false;
	return resume_claims(r, mf->offset, mf->length);
}

/*
 * The record's file i against the disk: NULL when they agree, else what
 * changed (for the notice).
 */
static const char *
file_changed(struct torrent *t, const struct resume *r, size_t i)
{
	const struct resume_file	*f = &r->files[i];
	uint64_t			 size;
	int64_t				 mtime;
	enum gt_err			 e;

	e = storage_stat(t->st, i, &size, &mtime);
	/* Absent then: fine unless the record claims some of its data. */
	if (f->mtime_ns == 0 && f->size == 0 && !record_claims(t->m, r, i))
		return NULL;
	if (e == GT_ENOENT)
		return "is missing";
	if (e != GT_OK)
		return "cannot be read";
	if (size != f->size)
		return "changed size";
	if (r->clean ? mtime != f->mtime_ns : mtime < f->mtime_ns)
		return "was modified";
	return NULL;
}

/* Does every piece the record claims lie in files that agree with it? */
static bool
files_agree(struct torrent *t, const struct resume *r)
{
	const char	*why;
	size_t		 i;

	for (i = 0; i < r->nfiles; i++) {
		if ((why = file_changed(t, r, i)) == NULL)
			continue;
		log_warn("%s: %s/%s %s since the resume record: checking the "
		    "data", t->name, t->dir, t->m->files[i].path, why);
		return false;
	}
	return true;
}

/* A partial piece whose blocks are all here: hashed now. */
static void
resume_verify_piece(struct torrent *t, uint32_t piece)
{
	uint8_t		md[SHA1_LEN];

	if (storage_hash_piece(t->st, piece, md) == GT_OK &&
	    memcmp(md, metainfo_piece_hash(t->m, piece), SHA1_LEN) == 0) {
		picker_piece_passed(t->pk, piece);
		torrent_have_piece(t, piece);
	} else
		picker_piece_failed(t->pk, piece);
}

static void
resume_apply(struct torrent *t, const struct resume *r)
{
	const struct resume_partial	*p;
	uint32_t			 i, b, nb, blocks = 0;
	size_t				 k;
	bool				 full;

	for (i = 0; i < r->npieces; i++) {
		if (!bitfield_bit_get(r->have, i))
			continue;
		picker_have(t->pk, i);
		torrent_have_piece(t, i);
	}
	for (k = 0; k < r->npartial; k++) {
		p = &r->partial[k];
		nb = resume_piece_blocks(r, p->piece);
		full = false;
		for (b = 0; b < nb; b++)
			if (bitfield_bit_get(p->blocks, b)) {
				full = picker_set_received(t->pk, p->piece, b);
				blocks++;
			}
		bitfield_set(&t->rs_partial, p->piece);
		if (full)
			resume_verify_piece(t, p->piece);
	}
	t->up_before = r->uploaded;
	t->down_before = r->downloaded;
	log_info("%s: resume record: %u of %u pieces here, %u blocks of %zu "
	    "more; no data check", t->name, t->have.count, t->m->npieces,
	    blocks, r->npartial);
}

bool
torrent_resume_load(struct torrent *t)
{
	struct resume_expect	 x;
	struct resume		 r;
	char			 err[GT_ERRLEN], *path;
	uint8_t			*data;
	size_t			 len;
	enum gt_err		 e;
	bool			 ok = false;

	if ((path = record_path(t)) == NULL)
		return false;
	if (t->o.recheck) {
		log_info("%s: --recheck: checking the data", t->name);
		free(path);
		return false;
	}
	e = statefile_read(path, RESUME_MAX_BYTES, &data, &len, err);
	free(path);
	if (e == GT_ENOENT) {
		log_info("%s: no resume record: checking the data", t->name);
		return false;
	}
	if (e != GT_OK) {
		log_warn("%s: resume record ignored (%s): checking the data",
		    t->name, err);
		return false;
	}
	expect_of(t, &x);
	resume_init(&r);
	if (resume_decode(data, len, &x, &r, err) != GT_OK)
		log_warn("%s: resume record ignored (%s): checking the data",
		    t->name, err);
	else if ((ok = files_agree(t, &r)))
		resume_apply(t, &r);
	resume_clear(&r);
	free(data);
	return ok;
}

/* ---- writing ------------------------------------------------------------- */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pieces that may hold blocks not yet verified, ascending, at most
 * RESUME_MAX_PARTIAL: those in progress this run, and those the record
 * gave blocks of.
 */
static uint32_t *
torrent_partial_pieces(const struct torrent *t, uint32_t *np)
{
	uint32_t	*v, n = 0, i, k;

	v = xreallocarray(NULL, t->pcount + t->rs_partial.count + 1,
	    sizeof(*v));
	for (k = 0; k <= t->pmask; k++)
		if (t->ptab[k] != NULL)
			v[n++] = torrent_prog_piece(t->ptab[k]);
	for (i = 0; (i = bitfield_next_set(&t->rs_partial, i)) <
	    t->rs_partial.n; i++)
		v[n++] = i;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 0, k = 0; i < n; i++)		/* unique */
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	*np = MIN(k, RESUME_MAX_PARTIAL);
	return v;
}

/* The record as things are: every block it lists is written already. */
static void
resume_build(struct torrent *t, struct resume *r, bool clean,
    const char **gone)
{
	struct resume_partial	*p;
	uint32_t		*pieces, n, i, b, nb, got;
	size_t			 f;
	uint64_t		 size;
	int64_t			 mtime;

	resume_init(r);
	memcpy(r->info_hash, t->info_hash, SHA1_LEN);
	r->npieces = t->m->npieces;
	r->piece_length = (uint32_t)t->m->piece_length;
	r->last_size = metainfo_piece_size(t->m, t->m->npieces - 1);
	r->have = xmalloc(bitfield_nbytes(&t->have));
	memcpy(r->have, t->have.bits, bitfield_nbytes(&t->have));
	pieces = torrent_partial_pieces(t, &n);
	if (t->fatal)
		n = 0;		/* see resume_on */
	r->partial = xcalloc(n > 0 ? n : 1, sizeof(*r->partial));
	for (i = 0; i < n; i++) {
		p = &r->partial[r->npartial];
		p->piece = pieces[i];
		nb = resume_piece_blocks(r, p->piece);
		p->blocks = xcalloc((nb + 7) / 8, 1);
		got = 0;
		for (b = 0; b < nb; b++)
			if (picker_block_received(t->pk, p->piece, b)) {
				bitfield_bit_set(p->blocks, b);
				got++;
			}
		if (got == 0 || bitfield_get(&t->have, p->piece)) {
			free(p->blocks);	/* nothing to say of it */
			p->blocks = NULL;
			continue;
		}
		r->npartial++;
	}
	free(pieces);
	r->nfiles = t->m->nfiles;
	r->files = xcalloc(r->nfiles > 0 ? r->nfiles : 1, sizeof(*r->files));
	if (t->rs_present == NULL)
		t->rs_present = xcalloc(r->nfiles > 0 ? r->nfiles : 1,
		    sizeof(*t->rs_present));
	for (f = 0; f < r->nfiles; f++) {
		r->files[f].priority = torrent_file_priority(t, f);
		if (storage_stat(t->st, f, &size, &mtime) == GT_OK) {
			r->files[f].size = size;
			r->files[f].mtime_ns = mtime;
			t->rs_present[f] = true;
		} else if (*gone == NULL && (t->rs_present[f] ||
		    record_claims(t->m, r, f)))
			*gone = t->m->files[f].path;	/* deleted: maybe
							   before we saw it */
	}
	r->uploaded = t->up_before + t->uploaded;
	r->downloaded = t->down_before + t->downloaded;
	r->clean = clean;
}

/* What a checkpoint would change, in one figure. */
static uint64_t
resume_gen(const struct torrent *t)
{
	return t->downloaded + t->have.count;
}

/*
 * After a disk error only the final record is written, of the verified
 * pieces alone (a block that failed to be written may be counted as
 * received), and not as clean: the old one stands if the data cannot be
 * synced.
 */
static bool
resume_on(const struct torrent *t, bool final)
{
	return t->rs_path != NULL && t->st != NULL && t->pk != NULL &&
	    (final || !t->fatal);
}

/*
 * A record of things as they are: synchronously and clean (final), or as
 * a checkpoint on the writer's thread (skipped while the last one is
 * still being written: the timer tries again).
 */
void
torrent_resume_save(struct torrent *t, bool final)
{
	struct resume	 r;
	struct buf	 b;
	uint8_t		*data;
	const char	*gone = NULL;
	char		 err[GT_ERRLEN];
	size_t		 len;
	enum gt_err	 e;

	if (!resume_on(t, final))
		return;
	reactor_timer_cancel(t->rs_timer);
	if (!final && statefile_busy(t->rs_sf)) {
		reactor_timer_in(t->rs_timer, TORRENT_RESUME_MS);
		return;
	}
	if ((e = statefile_wait(t->rs_sf, err)) != GT_OK)
		log_warn("%s: %s", t->name, err);
	if (torrent_wq_flush(t) != GT_OK)
		return;		/* fatal: the last record stands */
	resume_build(t, &r, final && !t->fatal, &gone);
	if (gone != NULL && !t->fatal) {
		/* Written since to an unlinked file: lost with the process. */
		resume_clear(&r);
		snprintf(err, sizeof(err), "%s was deleted (a restart "
		    "downloads it again)", gone);
		torrent_fatal(t, GT_ENOENT, err);
		return;
	}
	buf_init(&b, RESUME_MAX_BYTES);
	e = resume_encode(&r, &b);
	resume_clear(&r);
	if (e != GT_OK) {
		buf_clear(&b);
		log_warn("%s: resume record too large: not written", t->name);
		return;
	}
	t->rs_gen = resume_gen(t);
	t->rs_up = t->uploaded;
	t->rs_saved_ms = now_ms(t);
	data = buf_take(&b, &len);
	if (!final) {
		statefile_start(t->rs_sf, t->st, t->rs_path, data, len);
		return;
	}
	if (statefile_write(t->st, t->rs_path, data, len, err) != GT_OK)
		log_warn("%s: resume record not written: %s", t->name, err);
	else
		log_debug("%s: clean resume record written", t->name);
	free(data);
}

void
torrent_resume_timer_cb(void *arg)
{
	struct torrent	*t = arg;

	if (t->stopped)
		return;
	torrent_resume_save(t, false);
}

/*
 * Something a record holds changed: a checkpoint within TORRENT_RESUME_MS
 * (upload totals alone, within TORRENT_RESUME_IDLE_MS).
 */
void
torrent_resume_touch(struct torrent *t)
{
	if (!resume_on(t, false) || t->stopped ||
	    reactor_timer_pending(t->rs_timer))
		return;
	if (resume_gen(t) != t->rs_gen)
		reactor_timer_in(t->rs_timer, TORRENT_RESUME_MS);
	else if (t->uploaded != t->rs_up)
		reactor_timer_in(t->rs_timer, TORRENT_RESUME_IDLE_MS);
}

/* The record's path, the writer and its timer; after the data opened. */
void
torrent_resume_init(struct torrent *t)
{
	if (t->rs_sf != NULL || (t->rs_path = record_path(t)) == NULL)
		return;
	t->rs_sf = statefile_new();
	t->rs_timer = reactor_timer_new(t->r, torrent_resume_timer_cb, t);
	t->rs_gen = UINT64_MAX;		/* a first record soon */
}

void
torrent_resume_free(struct torrent *t)
{
	char	err[GT_ERRLEN];

	if (t->rs_sf != NULL && statefile_wait(t->rs_sf, err) != GT_OK)
		log_warn("%s: %s", t->name, err);
	statefile_free(t->rs_sf);
	t->rs_sf = NULL;
	reactor_timer_free(t->rs_timer);
	t->rs_timer = NULL;
	free(t->rs_path);
	t->rs_path = NULL;
	free(t->rs_present);
	t->rs_present = NULL;
	bitfield_clear(&t->rs_partial);
	if (t->rs_lock != -1)
		close(t->rs_lock);	/* and the lock with it */
	t->rs_lock = -1;
}
