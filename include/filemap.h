/* filemap.h - piece/offset <-> per-file spans */
#ifndef GT_FILEMAP_H
#define GT_FILEMAP_H

#include <stddef.h>
#include <stdint.h>

struct filemap;

struct filemap_span {
	size_t		file;		/* index into the file list */
	uint64_t	off;		/* within that file */
	uint64_t	len;		/* > 0 */
};

/* lengths[] is copied; piece_length > 0.  Empty files are allowed. */
struct filemap	*filemap_new(const uint64_t *lengths, size_t nfiles,
		    uint64_t piece_length);
void		 filemap_free(struct filemap *);

uint64_t	 filemap_total(const struct filemap *);
uint32_t	 filemap_npieces(const struct filemap *);
uint64_t	 filemap_piece_length(const struct filemap *);
uint32_t	 filemap_piece_size(const struct filemap *, uint32_t piece);
uint64_t	 filemap_file_offset(const struct filemap *, size_t file);

/*
 * Splits torrent bytes [off, off + len) into spans of non-empty files, in
 * order.  Writes at most max spans and returns how many the range needs:
 * if that is more than max, go on from the end of the last span written
 * (or call again with a larger array).  O(log F + max) for F files.
 */
size_t		 filemap_spans(const struct filemap *, uint64_t off,
		    uint64_t len, struct filemap_span *out, size_t max);
/*
 * Pieces that hold bytes of the file: [*first, *first + *count).  An empty
 * file has *count == 0.
 */
void		 filemap_file_pieces(const struct filemap *, size_t file,
		    uint32_t *first, uint32_t *count);

#endif /* GT_FILEMAP_H */
