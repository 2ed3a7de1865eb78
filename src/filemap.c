/* filemap.c - piece/offset <-> per-file spans */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "filemap.h"
#include "util.h"

struct filemap {
	uint64_t	*offsets;	/* nfiles + 1 prefix sums, owned */
	size_t		*nonempty;	/* nfiles + 1: non-empty files before
					   each, owned */
	size_t		 nfiles;
	uint64_t	 piece_length;
	uint64_t	 total;
	uint32_t	 npieces;
};

/*
 * Returns NULL when the layout cannot be represented: piece_length 0 or
 * over UINT32_MAX, a total that overflows, or more than UINT32_MAX pieces.
 */
struct filemap *
filemap_new(const uint64_t *lengths, size_t nfiles, uint64_t piece_length)
{
	struct filemap	*fm;
	uint64_t	 total = 0, npieces;
	size_t		 i;

	if (piece_length == 0 || piece_length > UINT32_MAX)
		return NULL;
	if (nfiles > SIZE_MAX / sizeof(uint64_t) - 1 ||
	    nfiles > SIZE_MAX / sizeof(size_t) - 1)
		return NULL;
	for (i = 0; i < nfiles; i++) {
		if (lengths[i] > UINT64_MAX - total)
			return NULL;
		total += lengths[i];
	}
	npieces = total / piece_length + (total % piece_length != 0);
	if (npieces > UINT32_MAX)
		return NULL;

	fm = xcalloc(1, sizeof(*fm));
	fm->offsets = xreallocarray(NULL, nfiles + 1, sizeof(uint64_t));
	fm->nonempty = xreallocarray(NULL, nfiles + 1, sizeof(size_t));
	fm->offsets[0] = 0;
	fm->nonempty[0] = 0;
	for (i = 0; i < nfiles; i++) {
		fm->offsets[i + 1] = fm->offsets[i] + lengths[i];
		fm->nonempty[i + 1] = fm->nonempty[i] + (lengths[i] != 0);
	}
	fm->nfiles = nfiles;
	fm->piece_length = piece_length;
	fm->total = total;
	fm->npieces = (uint32_t)npieces;
	return fm;
}

void
filemap_free(struct filemap *fm)
{
	if (fm == NULL)
		return;
	free(fm->offsets);
	free(fm->nonempty);
	free(fm);
}

uint64_t
filemap_total(const struct filemap *fm)
{
	return fm->total;
}

uint32_t
filemap_npieces(const struct filemap *fm)
{
	return fm->npieces;
}

uint64_t
filemap_piece_length(const struct filemap *fm)
{
	return fm->piece_length;
}

/* 0 for a piece out of range. */
uint32_t
filemap_piece_size(const struct filemap *fm, uint32_t piece)
{
	if (piece >= fm->npieces)
		return 0;
	if (piece + 1 < fm->npieces)
		return (uint32_t)fm->piece_length;
	return (uint32_t)(fm->total - (uint64_t)piece * fm->piece_length);
}

/* file == nfiles gives the total. */
uint64_t
filemap_file_offset(const struct filemap *fm, size_t file)
{
	assert(file <= fm->nfiles);
	return fm->offsets[file];
}

/* The first file whose end is past off, i.e. the non-empty file holding it. */
static size_t
filemap_find(const struct filemap *fm, uint64_t off)
{
	size_t	lo = 0, hi = fm->nfiles, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fm->offsets[mid + 1] > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Writes spans until max, then counts the rest from the prefix sums: a
 * caller walking a long range max spans at a time pays O(max + log F) per
 * call, not O(F).
 */
size_t
filemap_spans(const struct filemap *fm, uint64_t off, uint64_t len,
    struct filemap_span *out, size_t max)
{
	uint64_t	end, start, stop;
	size_t		first, i, n = 0;

	if (off >= fm->total || len == 0)
		return 0;
	end = len > fm->total - off ? fm->total : off + len;
	first = filemap_find(fm, off);
	for (i = first; i < fm->nfiles && n < max; i++) {
		if (fm->offsets[i] >= end)
			return n;
		if (fm->offsets[i + 1] == fm->offsets[i])
			continue;		/* empty file */
		start = MAX(off, fm->offsets[i]);
		stop = MIN(end, fm->offsets[i + 1]);
		out[n].file = i;
		out[n].off = start - fm->offsets[i];
		out[n].len = stop - start;
		n++;
	}
	/* The last file holding a byte of the range is that of end - 1. */
	return fm->nonempty[filemap_find(fm, end - 1) + 1] -
	    fm->nonempty[first];
}

void
filemap_file_pieces(const struct filemap *fm, size_t file, uint32_t *first,
    uint32_t *count)
{
	uint64_t	start, end;

	assert(file < fm->nfiles);
	start = fm->offsets[file];
	end = fm->offsets[file + 1];
	*first = (uint32_t)(start / fm->piece_length);
	if (end == start) {
		*count = 0;
		return;
	}
	*count = (uint32_t)((end - 1) / fm->piece_length - *first + 1);
}
