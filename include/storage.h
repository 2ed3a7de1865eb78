/* storage.h - multi-file piece storage and verification */
#ifndef GT_STORAGE_H
#define GT_STORAGE_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "storage-hash.h"

struct filemap;
struct metainfo;
struct storage;

/* A file as storage sees it; paths are relative and already safe. */
struct storage_file {
	const char	*path;		/* borrowed for the call, copied */
	uint64_t	 length;
	bool		 pad;		/* padding: reads as zeros, never on disk */
	const char	*symlink;	/* safe target relative to root, or NULL */
	bool		 skip;		/* not wanted: see storage_open */
};

enum storage_flags {
	STORAGE_WRITE = 1 << 0,		/* create folders and files as needed */
	STORAGE_PREALLOC = 1 << 1,	/* fallocate instead of sparse */
};

/*
 * Files under root, which must exist (with STORAGE_WRITE it is created).
 * No folder or file is ever reached through a symlink, so nothing is read
 * or written outside root.  err (GT_ERRLEN bytes) says why on failure.
 *
 * A file marked skip (not wanted) that is not on disk is never created:
 * the bytes of it that pieces shared with wanted files bring are kept in
 * the part file, root/part (STORAGE_PART if NULL), a sparse image of the
 * torrent.  A wanted file not on disk gets back what the part file holds
 * of it when it is created, so a selection changed between runs loses
 * nothing; the part file goes once no file is parked in it.
 */
#define STORAGE_PART	".gtorrent.parts"
enum gt_err	 storage_open(struct storage **out, const char *root,
		    const struct storage_file *files, size_t nfiles,
		    uint64_t piece_length, unsigned flags, const char *part,
		    char *err);
/*
 * Same, for a torrent's file list; skip (NULL: every file wanted) per
 * file; the part file is root/.HEX.parts (HEX: the info-hash).
 */
enum gt_err	 storage_open_metainfo(struct storage **out, const char *root,
		    const struct metainfo *, const bool *skip, unsigned flags,
		    char *err);
/* Is file i parked (not wanted, its bytes in the part file)? */
bool		 storage_parked(const struct storage *, size_t file);
/*
 * In memory, for tests (256 MiB of files at most); the write
 * numbered fail_write (from 1) fails, 0 = never.
 */
struct storage	*storage_new_memory(const struct storage_file *files,
		    size_t nfiles, uint64_t piece_length,
		    unsigned fail_write);
/* Memory back end: how many times storage_sync() synced file. */
unsigned	 storage_memory_syncs(const struct storage *, size_t file);
void		 storage_free(struct storage *);

const struct filemap *storage_filemap(const struct storage *);

/* Piece-relative block I/O; off + len <= piece size. */
enum gt_err	 storage_read(struct storage *, uint32_t piece, uint32_t off,
		    void *buf, uint32_t len);
enum gt_err	 storage_write(struct storage *, uint32_t piece, uint32_t off,
		    const void *buf, uint32_t len);
/*
 * Copies len bytes of a piece from off on (off + len <= piece size) to
 * outfd, a socket or a pipe, maybe non-blocking, without passing them
 * through a buffer of ours (sendfile(2) from the files; padding as zeros;
 * the memory back end by write(2)), across file boundaries.  GT_OK with
 * *sent bytes gone, fewer than len when outfd filled up (or an error came
 * after some: the next call says it); GT_EAGAIN when not one byte went;
 * GT_EIO (errno kept: EPIPE, ECONNRESET, EIO ...) when reading or writing
 * failed.  A write to a closed socket raises SIGPIPE: the process ignores
 * it.
 */
enum gt_err	 storage_send(struct storage *, uint32_t piece, uint32_t off,
		    uint32_t len, int outfd, size_t *sent);
/* Torrent-relative I/O across file boundaries. */
enum gt_err	 storage_read_at(struct storage *, uint64_t off, void *buf,
		    uint64_t len);
enum gt_err	 storage_write_at(struct storage *, uint64_t off,
		    const void *buf, uint64_t len);
/*
 * Gathered write of iov[0 .. n) to the torrent bytes from off on: one
 * pwritev per file the bytes fall in, so consecutive blocks cost one call.
 */
enum gt_err	 storage_writev_at(struct storage *, uint64_t off,
		    const struct iovec *iov, size_t n);

/* SHA-1 of a whole piece as stored. */
enum gt_err	 storage_hash_piece(struct storage *, uint32_t piece,
		    uint8_t out[SHA1_LEN]);

/*
 * SHA-1 of n whole pieces (n <= SHA1_LANES_MAX, each of the full piece
 * length) side by side, read where the page cache holds them, without a
 * copy (mmap).  False when they cannot be (a piece across files, the
 * memory back end, a short file): hash them from storage_read instead.
 */
bool		 storage_hash_mapped(struct storage *, const uint32_t *pieces,
		    size_t n, uint8_t (*out)[SHA1_LEN]);

/*
 * From now on, whenever bytes (0: never, the default) more have been
 * written, the disk is set to write out what the files hold unsynced,
 * on a thread, without waiting for it (sync_file_range WRITE), so that a
 * storage_sync has little left to wait for.  Durability is unchanged:
 * only storage_sync makes data durable.
 */
void		 storage_writeback_every(struct storage *, uint64_t bytes);
/* Tests: writeback runs started so far, after the last one finished. */
unsigned	 storage_writebacks(struct storage *);

/*
 * Every file written since the last call to stable storage (fdatasync):
 * at download completion and at a clean stop.  The first error, if any;
 * the files that failed are tried again next time.
 */
enum gt_err	 storage_sync(struct storage *);

/*
 * Hashes pieces [0, npieces) on o->nthreads threads (0 = all cores) with
 * large sequential reads.  hashes receives npieces * SHA1_LEN bytes (or
 * is NULL with o->expected); ok[i] is false for a piece that could not be
 * read (missing or short file), or with o->expected, does not match.
 * o->progress, if set, is called from one thread at a time with the bytes
 * hashed so far.  With o->check_changes, a file whose size or mtime
 * changed during the run makes it fail with GT_ECHANGED (err names the
 * file).  Signal dispositions are left alone: files are read, never
 * mapped.
 */
enum gt_err	 storage_hash_all(struct storage *,
		    const struct storage_hash_opts *o, uint8_t *hashes,
		    bool *ok, char *err);

/*
 * File i's size and modification time (ns since the epoch) as it is now:
 * GT_ENOENT when it is absent, and for padding files (never on disk).
 */
enum gt_err	 storage_stat(struct storage *, size_t file, uint64_t *size,
		    int64_t *mtime_ns);

/* Creates the symlink entries (inside root only). */
enum gt_err	 storage_make_symlinks(struct storage *, char *err);

#endif /* GT_STORAGE_H */
