/* walk.h - the files under a path, in mktorrent's order, for `create` */
#ifndef GT_WALK_H
#define GT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * The regular files under path (or path itself), sorted by path bytewise
 * as mktorrent does, relative to path, '/'-separated.
 * Symlinks are not followed; FIFOs, sockets and devices refuse with a
 * clear error in err unless skip_special, which skips them with a warning.
 */
struct walk_entry {
	char		*path;
	uint64_t	 length;
};
enum gt_err	 walk_tree(const char *path, bool skip_special,
		    struct walk_entry **out, size_t *n, bool *is_dir,
		    char *err);
void		 walk_free(struct walk_entry *, size_t n);

#endif /* GT_WALK_H */
