/* storage.h - multi-file piece storage and verification */
#ifndef GT_STORAGE_H
#define GT_STORAGE_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"

struct metainfo;
struct storage;

/* A file as storage sees it; paths are relative and already safe. */
struct storage_file {
	const char	*path;		/* borrowed for the call, copied */
	uint64_t	 length;
	bool		 pad;		/* padding: reads as zeros, never on disk */
	const char	*symlink;	/* safe target relative to root, or NULL */
};

enum storage_flags {
	STORAGE_WRITE = 1 << 0,		/* create folders and files as needed */
	STORAGE_PREALLOC = 1 << 1,	/* fallocate instead of sparse */
};

/*
 * Back-end: the file system under one root folder, or memory (for tests).
 * Reads and writes are by file index, offset and length; every call is
 * safe from several threads at once.
 */
struct storage_ops {
	enum gt_err	(*read)(void *ctx, size_t file, uint64_t off,
			    void *buf, size_t len);
	/* Gathered write: iov[0 .. n) one after another from off. */
	enum gt_err	(*writev)(void *ctx, size_t file, uint64_t off,
			    const struct iovec *iov, size_t n);
	/* Size and mtime (ns) of the file on disk; GT_ENOENT if missing. */
	enum gt_err	(*stat)(void *ctx, size_t file, uint64_t *size,
			    int64_t *mtime_ns);
	void		(*free)(void *ctx);
};

/*
 * Files under root, which must exist (with STORAGE_WRITE it is created).
 * No folder or file is ever reached through a symlink, so nothing is read
 * or written outside root.  err (GT_ERRLEN bytes) says why on failure.
 */
enum gt_err	 storage_open(struct storage **out, const char *root,
		    const struct storage_file *files, size_t nfiles,
		    uint64_t piece_length, unsigned flags, char *err);
/* Same, for a torrent's file list. */
enum gt_err	 storage_open_metainfo(struct storage **out, const char *root,
		    const struct metainfo *, unsigned flags, char *err);
/* In memory; the write numbered fail_write (from 1) fails, 0 = never. */
struct storage	*storage_new_memory(const struct storage_file *files,
		    size_t nfiles, uint64_t piece_length,
		    unsigned fail_write);
void		 storage_free(struct storage *);

const struct filemap *storage_filemap(const struct storage *);

/* Piece-relative block I/O; off + len <= piece size. */
enum gt_err	 storage_read(struct storage *, uint32_t piece, uint32_t off,
		    void *buf, uint32_t len);
enum gt_err	 storage_write(struct storage *, uint32_t piece, uint32_t off,
		    const void *buf, uint32_t len);
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
 * Hashes pieces [0, npieces) on nthreads threads (0 = all cores) with large
 * sequential reads.  hashes receives npieces * SHA1_LEN bytes; ok[i] is
 * false for a piece that could not be read (missing or short file).
 * progress, if set, is called from one thread at a time with the bytes
 * hashed so far.  With check_changes, a file whose size or mtime changed
 * during the run makes it fail with GT_ECHANGED (err names the file).
 */
struct storage_hash_opts {
	unsigned	  nthreads;
	bool		  check_changes;
	void		(*progress)(void *arg, uint64_t done, uint64_t total);
	void		 *arg;
};
enum gt_err	 storage_hash_all(struct storage *,
		    const struct storage_hash_opts *, uint8_t *hashes,
		    bool *ok, char *err);

/* Creates the symlink entries (inside root only). */
enum gt_err	 storage_make_symlinks(struct storage *, char *err);


#endif /* GT_STORAGE_H */
