/* superseed.h - super-seeding (BEP 16): which piece to reveal to whom */
#ifndef GT_SUPERSEED_H
#define GT_SUPERSEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUPERSEED_JOIN_MS	2000	/* wait this long for a bitfield */
#define SUPERSEED_TIMEOUT_MS	20000	/* no progress: reveal another */
#define SUPERSEED_OPEN		4	/* pieces revealed to one peer that it
					   has not announced yet, at most */

struct bitfield;

/*
 * Pure: a seed that masquerades as a peer with no data and tells each peer
 * of one piece at a time (the caller sends it as a HAVE).  Fed the peers'
 * arrivals, bitfields, HAVEs and departures and a clock (ms), it answers
 * which piece to reveal to a peer, and when.
 *
 * The piece revealed to a peer is the rarest it lacks, never one revealed
 * to another peer and not yet seen elsewhere if any other is left, ties
 * broken at random.  The next piece goes to peer X once X announced the
 * piece last revealed to it AND it was seen elsewhere: another peer
 * announced it since it was revealed (the strict rule of BitTornado, the
 * BEP's reference, and libtorrent's strict_super_seeding).  When no other
 * peer lacks that piece (X is alone, say), X's own HAVE is enough.  After
 * SUPERSEED_TIMEOUT_MS without progress (no block of it sent to X, or
 * nobody takes it from X), X gets another one anyway, up to SUPERSEED_OPEN
 * revealed pieces it has not announced: memory per peer is constant.
 *
 * Peers are named by the caller's id; their bitfields are borrowed for each
 * call that takes one and must be the peer's current set (the piece of a
 * HAVE included).
 */
struct superseed;

struct superseed *superseed_new(uint32_t npieces, uint64_t seed);
void		 superseed_free(struct superseed *);

/* A peer joined (handshake done); nothing known of its pieces yet. */
void		 superseed_peer_add(struct superseed *, uint32_t id,
		    uint64_t now);
/* Its first bitfield (BITFIELD, HAVE_ALL or HAVE_NONE); once. */
void		 superseed_peer_bitfield(struct superseed *, uint32_t id,
		    const struct bitfield *has, uint64_t now);
/* It announced a piece it did not announce before. */
void		 superseed_peer_have(struct superseed *, uint32_t id,
		    uint32_t piece, uint64_t now);
/*
 * We sent it a block of piece: while it downloads the piece last revealed
 * to it, its timeout waits (a slow peer is not shown a second one).
 */
void		 superseed_peer_served(struct superseed *, uint32_t id,
		    uint32_t piece, uint64_t now);
/* It left; has: its pieces then. */
void		 superseed_peer_remove(struct superseed *, uint32_t id,
		    const struct bitfield *has);
size_t		 superseed_npeers(const struct superseed *);

/*
 * Is a new piece due for peer id now?  Then true, with the piece in *piece,
 * counted as revealed (the caller sends a HAVE).  has: the peer's pieces.
 */
bool		 superseed_next(struct superseed *, uint32_t id,
		    const struct bitfield *has, uint64_t now,
		    uint32_t *piece);
/* Was this piece revealed to the peer (may we serve it)? */
bool		 superseed_revealed(const struct superseed *, uint32_t id,
		    uint32_t piece);
/*
 * When a peer is next due by the clock (a wait or a timeout ends);
 * UINT64_MAX if none.  Peers due because of an event (a HAVE) are due at
 * once: ask superseed_next after feeding the event.
 */
uint64_t	 superseed_deadline(const struct superseed *);

#endif /* GT_SUPERSEED_H */
