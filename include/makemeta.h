/* makemeta.h - build a .torrent from a file list and its piece hashes */
#ifndef GT_MAKEMETA_H
#define GT_MAKEMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct makemeta_file {
	const char	*path;		/* relative, '/'-separated */
	uint64_t	 length;
};

struct makemeta_opts {
	const char	 *name;
	bool		  single_file;	/* "length" instead of "files" */
	uint64_t	  piece_length;
	bool		  private;
	const char	 *source;	/* NULL: none */
	const char	 *comment;
	const char	 *created_by;
	bool		  has_date;
	int64_t		  creation_date;
	const char *const *const *tiers; /* tiers[i] is a NULL-ended list */
	size_t		  ntiers;
	const char *const *web_seeds;	/* url-list */
	size_t		  nweb_seeds;
};

/* A piece length like mature tools choose: 2^15 .. 2^24 for the size. */
uint64_t	makemeta_auto_piece_length(uint64_t total);
/*
 * Writes the bencoded torrent to out.  hashes holds one SHA-1 per piece of
 * the files laid end to end.  Fails with GT_EINVAL on an unusable option.
 */
enum gt_err	makemeta_build(const struct makemeta_opts *,
		    const struct makemeta_file *, size_t nfiles,
		    const uint8_t *hashes, size_t npieces, struct buf *out);

#endif /* GT_MAKEMETA_H */
