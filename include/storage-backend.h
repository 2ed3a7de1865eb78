/*
 * storage-backend.h - what storage shares with its back ends and hasher
 *
 * Internal to the storage modules: storage.c owns a struct storage_view
 * and hands it (borrowed) to storage-fs.c or storage-mem.c, which serve
 * its files through struct storage_ops, and to storage-hash.c, which reads
 * through those ops.  Nothing outside storage*.c includes this header.
 */
#ifndef GT_STORAGE_BACKEND_H
#define GT_STORAGE_BACKEND_H

#include <sys/uio.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <unistd.h>

#include "err.h"

#define STORAGE_IOV	64		/* most buffers in one writev call */

struct filemap;

/* One file of the torrent, as storage keeps it. */
struct storage_entry {
	char		*path;		/* relative, '/'-separated, owned */
	uint64_t	 length;
	bool		 pad;		/* padding: zeros, never on disk */
	char		*symlink;	/* safe target relative to root, owned,
					   or NULL */
	bool		 skip;		/* not wanted: never created */
	bool		 parked;	/* not wanted and not on disk: its
					   bytes live in the part file */
	bool		 part;		/* the part file itself (the last
					   entry, outside the filemap) */
};

/*
 * A back end: reads, writes and syncs by file index, offset and length.
 * Padding files never reach it.  Every call is safe from several threads
 * at once.
 */
struct storage_ops {
	enum gt_err	(*read)(void *ctx, size_t file, uint64_t off,
			    void *buf, size_t len);
	/* Gathered write: iov[0 .. n) one after another from off;
	   n <= STORAGE_IOV. */
	enum gt_err	(*writev)(void *ctx, size_t file, uint64_t off,
			    const struct iovec *iov, size_t n);
	/*
	 * Copies len bytes of the file from off on to outfd (a socket or a
	 * pipe, maybe non-blocking) without passing them through a buffer
	 * of ours where it can (sendfile): *sent bytes went, GT_OK even when
	 * outfd filled up after some; GT_EAGAIN when not one did; GT_EIO
	 * (errno kept) when reading or writing failed.
	 */
	enum gt_err	(*send)(void *ctx, size_t file, uint64_t off,
			    size_t len, int outfd, size_t *sent);
	/* Size and mtime (ns) of the file on disk; GT_ENOENT if missing. */
	enum gt_err	(*stat)(void *ctx, size_t file, uint64_t *size,
			    int64_t *mtime_ns);
	/* Written data of the file to stable storage (fdatasync). */
	enum gt_err	(*sync)(void *ctx, size_t file);
	/*
	 * Optional (NULL: none): starts writing the file's dirty data out,
	 * without waiting for it and without making it durable.
	 */
	void		(*writeback)(void *ctx, size_t file);
	/* Deletes the file (GT_OK if it was not there). */
	enum gt_err	(*remove)(void *ctx, size_t file);
	/*
	 * Optional (NULL: none): the file's bytes [off, off + len) mapped
	 * read-only and paged in, for hashing without a copy: *p points at
	 * them, *base and *maplen go to munmap.  false when they cannot be
	 * (a shorter file, an error): the caller reads them instead.
	 */
	bool		(*map)(void *ctx, size_t file, uint64_t off, size_t len,
			    const uint8_t **p, void **base, size_t *maplen);
	void		(*free)(void *ctx);
};

/* A storage as its parts see it; every pointer is owned by storage.c. */
struct storage_view {
	const struct filemap		*fm;
	const struct storage_entry	*files;
	size_t				 nfiles;
	const char			*root;	/* folder, or NULL for memory */
	const struct storage_ops	*ops;
	void				*ctx;	/* the back end's */
	size_t				 part;	/* the part file's entry, or
						   SIZE_MAX */
};

/*
 * Where the bytes of file at foff (torrent offset toff) are kept: in the
 * file at foff, or for a parked file in the part file at toff (a sparse
 * image of the torrent holding only the parked bytes).
 */
static inline size_t
storage_span_file(const struct storage_view *v, size_t file, uint64_t foff,
    uint64_t toff, uint64_t *off)
{
	if (v->files[file].parked) {
		*off = toff;
		return v->part;
	}
	*off = foff;
	return file;
}

/*
 * ops->send's contract for bytes in memory (the memory back end, padding):
 * one write(2) of p[0 .. len) to outfd.
 */
static inline enum gt_err
storage_send_mem(int outfd, const void *p, size_t len, size_t *sent)
{
	ssize_t	n;

	do
		n = write(outfd, p, len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? GT_EAGAIN :
		    GT_EIO;
	if (n == 0 && len > 0) {
		errno = EPIPE;
		return GT_EIO;
	}
	*sent = (size_t)n;
	return GT_OK;
}

#endif /* GT_STORAGE_BACKEND_H */
