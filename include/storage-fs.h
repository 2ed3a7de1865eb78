/* storage-fs.h - storage back end: files under one root folder */
#ifndef GT_STORAGE_FS_H
#define GT_STORAGE_FS_H

#include <stdbool.h>

#include "err.h"

struct storage_fs;
struct storage_ops;
struct storage_view;

extern const struct storage_ops	storage_fs_ops;	/* ctx: struct storage_fs */

/*
 * Serves v's files under v->root, which must exist.  With write, root,
 * folders and files are created as needed (the empty files at once), and
 * prealloc allocates a file's blocks when it is created.  No folder or
 * file is ever reached through a symlink, so nothing is read or written
 * outside root.  v is borrowed for the back end's life (its ops and ctx
 * are not used).  err (GT_ERRLEN bytes) says why on failure.
 */
enum gt_err	 storage_fs_new(struct storage_fs **out,
		    const struct storage_view *v, bool write, bool prealloc,
		    char *err);
/* Creates the files' symlink entries (inside root only). */
enum gt_err	 storage_fs_make_symlinks(struct storage_fs *, char *err);

#endif /* GT_STORAGE_FS_H */
