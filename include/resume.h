/* resume.h - a torrent's resume record: codec, checked like remote input */
#ifndef GT_RESUME_H
#define GT_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * The record is one bencoded dictionary (keys sorted):
 *	"gtorrent-resume"	RESUME_VERSION
 *	"info-hash"		20 bytes
 *	"pieces", "piece-length", "last-size"	integers
 *	"have"			the bitfield of verified pieces
 *	"partial"		list of [piece, block bitmap]
 *	"files"			list of [size, mtime_ns, priority]
 *	"uploaded", "downloaded"	integers
 *	"clean", "sequential"	0 or 1
 * Keys the decoder does not know are ignored (a later version may add some);
 * the ones above are all required.
 */
#define RESUME_VERSION		1
#define RESUME_MAX_BYTES	(64u << 20)	/* a record larger is refused
						   before decoding */
#define RESUME_MAX_PARTIAL	65536		/* partial pieces recorded at
						   most */
#define RESUME_PRIO_MAX		7		/* file priority: 0 skips */
#define RESUME_PRIO_NORMAL	4
#define RESUME_BLOCK		16384		/* block bytes (WIRE_BLOCK) */

struct resume_file {
	uint64_t	size;		/* bytes on disk when recorded (0 if
					   absent); at most INT64_MAX */
	int64_t		mtime_ns;	/* its modification time (ns since the
					   epoch; 0: absent; a negative one is
					   recorded as 0) */
	uint8_t		priority;	/* 0 .. RESUME_PRIO_MAX */
};

struct resume_partial {
	uint32_t	piece;
	uint8_t		*blocks;	/* block b of the piece received: bit b,
					   MSB first (as struct bitfield, the
					   wire's bitfield); (nblocks + 7) / 8
					   bytes, spare bits 0, a bit set */
};

/* What the record must agree with (from the torrent's metainfo). */
struct resume_expect {
	uint8_t		info_hash[20];
	uint32_t	npieces;	/* >= 1 */
	uint32_t	piece_length;	/* bytes */
	uint32_t	last_size;	/* bytes of the last piece
					   (1 .. piece_length) */
	size_t		nfiles;		/* files in the torrent, padding files
					   included */
};

struct resume {
	uint8_t		 info_hash[20];
	uint32_t	 npieces, piece_length, last_size;
	uint8_t		*have;		/* verified pieces, (npieces + 7) / 8
					   bytes, MSB first, spare bits 0 */
	struct resume_partial *partial;	/* ascending by piece, unique, none
					   of them in have; at most
					   RESUME_MAX_PARTIAL */
	size_t		 npartial;
	struct resume_file *files;
	size_t		 nfiles;
	uint64_t	 uploaded, downloaded;	/* payload, over every run
						   (INT64_MAX at most is
						   recorded) */
	bool		 clean;		/* written at a clean stop (not a
					   periodic checkpoint) */
	bool		 sequential;	/* --sequential was on */
};

void		resume_init(struct resume *);	/* zeroed */
/* Frees, leaves it as after init; NULL fields are fine. */
void		resume_clear(struct resume *);
/* Blocks in piece i < npieces (RESUME_BLOCK bytes; the last piece has
 * last_size bytes). */
uint32_t	resume_piece_blocks(const struct resume *, uint32_t piece);
/*
 * Does r claim any of the payload bytes [offset, offset + len): a piece in
 * have holding some of them, or a received block of a partial piece that
 * does?  (A piece shared by two files may have blocks of one alone.)
 */
bool		resume_claims(const struct resume *r, uint64_t offset,
		    uint64_t len);
/*
 * r must be self-consistent (the invariants above are asserted); appends
 * the bencoded record to out.  GT_ETOOBIG, out as it was, when the record
 * would pass RESUME_MAX_BYTES (which resume_decode refuses) or out's cap.
 */
enum gt_err	resume_encode(const struct resume *r, struct buf *out);
/*
 * Decodes data and checks it against x; on success fills *out, which the
 * caller later resume_clear()s.  On failure returns GT_EINVAL, leaves out
 * untouched, and err (GT_ERRLEN bytes, or NULL) says why in one short
 * phrase without a trailing period: "truncated", "of another torrent",
 * "3 pieces recorded, the torrent has 5", "partial piece 7 out of range".
 */
enum gt_err	resume_decode(const uint8_t *data, size_t len,
		    const struct resume_expect *x, struct resume *out,
		    char *err);

#endif /* GT_RESUME_H */
