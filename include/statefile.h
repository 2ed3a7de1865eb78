/* statefile.h - small state files written whole, atomically, off the loop */
#ifndef GT_STATEFILE_H
#define GT_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct statefile;
struct storage;

/*
 * Writes path atomically: path.tmp is written and fsync'd, renamed over
 * path, and the folder fsync'd, so a crash leaves the old file or the new
 * one, whole.  With st, the data files written so far are synced first
 * (storage_sync): a record never describes data the disk lacks.  err
 * (GT_ERRLEN bytes) names the file and the reason.
 */
enum gt_err	 statefile_write(struct storage *st, const char *path,
		    const uint8_t *data, size_t len, char *err);

/*
 * Reads path whole: a regular file (never through a symlink) of at most
 * max bytes, into *data (malloc'd, NUL-terminated, *len bytes without
 * it).  GT_ENOENT when there is none; else err (GT_ERRLEN bytes) names
 * the file and what is wrong (GT_ETOOBIG: over max; GT_ECHANGED: it
 * grew while read; GT_EIO).
 */
enum gt_err	 statefile_read(const char *path, size_t max, uint8_t **data,
		    size_t *len, char *err);

/* One background writer: statefile_write on a thread, one at a time. */
struct statefile *statefile_new(void);
/* Waits for the write in flight, then frees (NULL: nothing). */
void		 statefile_free(struct statefile *);
/*
 * Starts statefile_write(st, path, data, len) on a thread; takes data
 * (malloc'd).  False, with data freed, while the previous write is still
 * in flight.  st must outlive the write (statefile_wait or _free first).
 */
bool		 statefile_start(struct statefile *, struct storage *st,
		    const char *path, uint8_t *data, size_t len);
/* True while a write is in flight. */
bool		 statefile_busy(struct statefile *);
/*
 * Waits for the write in flight, if any.  The result of the last write
 * finished since the previous call (GT_OK if none), its error text in err.
 */
enum gt_err	 statefile_wait(struct statefile *, char *err);

#endif /* GT_STATEFILE_H */
