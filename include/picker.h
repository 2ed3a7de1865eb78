/* picker.h - block states, rarest-first with random tie-break, end-game */
#ifndef GT_PICKER_H
#define GT_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"		/* WIRE_BLOCK, struct block_req */

struct bitfield;
struct picker;			/* layout lives in picker.c */

struct picker_opts {
	bool		rarest_first;	/* else: in order, random start */
	bool		end_game;
	uint32_t	random_first;	/* pick this many whole pieces at random
					   before rarest-first (e.g. 4) */
	uint64_t	seed;		/* for the random choices */
	bool		bbs_plus;	/* all along, not only in end-game: the
					   rarest outstanding blocks are asked
					   of a second peer too (a share of
					   its pipeline: PICKER_BBS_SHARE) */
};

/* --bbs-plus: duplicates fill at most this fraction of a peer's pipeline. */
#define PICKER_BBS_SHARE	4

/*
 * npieces pieces of piece_length bytes, the last one last_size bytes
 * (1 <= last_size <= piece_length).  Blocks are WIRE_BLOCK bytes.
 */
struct picker	*picker_new(uint32_t npieces, uint32_t piece_length,
		    uint32_t last_size, const struct picker_opts *);
void		 picker_free(struct picker *);

/* A verified piece we hold (from a resume check or a passed hash). */
void		 picker_have(struct picker *, uint32_t piece);
/* Every piece verified (a seed). */
bool		 picker_complete(const struct picker *);
uint32_t	 picker_npieces_have(const struct picker *);
/*
 * Wanted pieces (priority above 0) not yet verified, and whether we want
 * anything that peer has.
 */
uint32_t	 picker_npieces_missing(const struct picker *);
bool		 picker_interesting(const struct picker *,
		    const struct bitfield *peer_has);

#define PICKER_PRIO_SKIP	0	/* not wanted: never picked */
#define PICKER_PRIO_NORMAL	4	/* the default of every piece */
#define PICKER_PRIO_MAX		7
/*
 * A piece's priority, 0 .. PICKER_PRIO_MAX (above: PICKER_PRIO_MAX); the
 * torrent derives it from its files' (a piece shared by files gets the
 * highest).  Any time, O(availability levels).  Among new pieces the
 * highest priority goes first, then the rarest (or in order); pieces in
 * progress are still finished first.  A piece of priority 0 is never
 * picked, not even in end-game, and counts neither for picker_interesting
 * nor for picker_rarest; its blocks that arrive are still taken.
 */
void		 picker_set_priority(struct picker *, uint32_t piece,
		    uint8_t prio);
uint8_t		 picker_priority(const struct picker *, uint32_t piece);
/*
 * In order: the lowest-index wanted pieces first (for players), still
 * finishing started pieces first (the lowest index first).  A peer gets
 * the lowest-index piece it has that is not fully requested, so several
 * peers work a few pieces ahead.  Overrides rarest_first.
 */
void		 picker_set_sequential(struct picker *, bool);
/*
 * At start, from a resume record: block (index in piece) already received
 * and on disk, not yet verified, as if picker_received had returned it;
 * never for a piece we have.  Returns true when the piece then has every
 * block (the caller hashes it and calls picker_piece_passed or
 * picker_piece_failed); false for a duplicate or out of range.
 */
bool		 picker_set_received(struct picker *, uint32_t piece,
		    uint32_t block);
/* Every wanted (priority above 0) piece verified. */
bool		 picker_wanted_complete(const struct picker *);
/* Pieces of priority above 0. */
uint32_t	 picker_npieces_wanted(const struct picker *);

/* Availability: O(1) per have, O(pieces) per bitfield. */
void		 picker_peer_add(struct picker *, const struct bitfield *);
void		 picker_peer_remove(struct picker *, const struct bitfield *);
void		 picker_peer_have(struct picker *, uint32_t piece);
uint32_t	 picker_availability(const struct picker *, uint32_t piece);
/* The lowest availability above 0 of a piece we lack; 0 if none. */
uint32_t	 picker_rarest(const struct picker *);

/*
 * Chooses up to max blocks to request from a peer that has peer_has:
 * blocks of pieces already started first (the most complete first), then
 * new pieces, the highest priority first, then rarest first with random
 * tie-break (the first random_first pieces at random).  Chosen blocks
 * count as requested.  In end-game (every missing block of a wanted piece
 * requested at least once) it returns blocks requested from
 * others, never one this peer already has outstanding: the caller passes
 * its outstanding requests for that peer in busy[nbusy].  With bbs_plus,
 * before all that (and outside end-game), up to (nbusy + max) /
 * PICKER_BBS_SHARE of the peer's pipeline (duplicates it has out
 * included) go to blocks one other peer has outstanding, of the rarest
 * pieces first: each block then has two requesters, and the first answer
 * should cancel the other (picker_requesters says who still waits).
 */
size_t		 picker_next(struct picker *, const struct bitfield *peer_has,
		    const struct block_req *busy, size_t nbusy,
		    struct block_req *out, size_t max);
bool		 picker_in_end_game(const struct picker *);

/* A request that will not be answered (choke, reject, timeout, peer gone). */
void		 picker_abandon(struct picker *, const struct block_req *);
/*
 * A block arrived.  Returns true when it was wanted (not a duplicate of one
 * already received); *piece_done is set when the piece then has every
 * block and is ready for hashing.
 */
bool		 picker_received(struct picker *, const struct block_req *,
		    bool *piece_done);
/* Hash result of a piece whose blocks all arrived. */
void		 picker_piece_passed(struct picker *, uint32_t piece);
void		 picker_piece_failed(struct picker *, uint32_t piece);
/*
 * Whether block (index within piece: offset / WIRE_BLOCK) arrived: true
 * from picker_received until a hash failure, and for every block of a
 * verified piece.  O(1).
 */
bool		 picker_block_received(const struct picker *, uint32_t piece,
		    uint32_t block);
/*
 * Piece is in progress: a block of it requested or received, and it is
 * not verified yet.  O(1).
 */
bool		 picker_in_progress(const struct picker *, uint32_t piece);
/* How many peers have requested this block and not yet answered. */
uint32_t	 picker_requesters(const struct picker *,
		    const struct block_req *);

#endif /* GT_PICKER_H */
