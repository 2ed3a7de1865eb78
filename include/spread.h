/* spread.h - a seed's suggestions of the pieces no peer has yet (BEP 6) */
#ifndef GT_SPREAD_H
#define GT_SPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPREAD_AHEAD_MIN	2	/* open suggestions per peer, at least */
#define SPREAD_AHEAD_MAX	16	/* and at most (PEER_SUGGEST_MAX) */
#define SPREAD_CLAIM_MS		15000	/* a piece asked for or suggested is
					   left to that peer this long */
#define SPREAD_DRY_MS		500	/* none left: look again after */
#define SPREAD_REFUSED_MAX	32	/* pieces refused to a peer, kept */

struct bitfield;
struct picker;

/*
 * Pure.  Leechers that pick rarest first see every piece that only the
 * seed has as equally rare, and choose among them at random; each keeps a
 * few of them requested from the seed, so two leechers often fetch the
 * same piece from it, and near the end of the first copy nearly all of
 * them do: a plain seed sends 1.5 to 2 copies of the file before the swarm
 * holds every piece, and the swarm cannot finish before that.  The seed
 * knows what it is asked for.  It suggests to each leecher (SUGGEST_PIECE)
 * pieces that no peer has and that no other peer asked for or was
 * suggested in the last SPREAD_CLAIM_MS, so that the leechers that follow
 * suggestions among the rarest (gtorrent, libtorrent) each fetch different
 * ones: each piece leaves the seed about once, as with super-seeding, but
 * without hiding anything.
 *
 * A leecher that asks for a piece nobody has while another peer is
 * fetching it from us, and that has a suggestion of ours open, is refused
 * it (REJECT_REQUEST), once: it then takes the suggestion, and the piece
 * later from that peer; asked again, we send it.
 *
 * A peer has a struct spread_peer, kept by the caller: zeroed, then id set
 * to a number no other peer has, not 0.  It holds the peer's open
 * suggestions (those it has neither announced nor asked for) and the
 * pieces it was refused.  The picker gives the availability (how many
 * connected peers have a piece).
 */
struct spread;

struct spread_peer {
	uint32_t	id;
	uint32_t	piece[SPREAD_AHEAD_MAX];
	uint64_t	at[SPREAD_AHEAD_MAX];	/* suggested at */
	size_t		n;
	uint64_t	dry_until;	/* nothing for it: not before */
	uint32_t	refused[SPREAD_REFUSED_MAX];	/* a ring */
	size_t		nrefused, refused_pos;
};

struct spread	*spread_new(uint32_t npieces, uint64_t seed);
void		 spread_free(struct spread *);

/*
 * The peer asked for a block of piece (or we sent it one): the piece is
 * that peer's for SPREAD_CLAIM_MS more (unless another peer's claim on it
 * runs), and no longer an open suggestion to it.
 */
void		 spread_requested(struct spread *, struct spread_peer *,
		    uint32_t piece, uint64_t now);

/*
 * The next piece to suggest to a peer that has peer_has, or UINT32_MAX:
 * its open suggestions are first pruned (those it has, those older than
 * SPREAD_CLAIM_MS), and it gets a new one only while it has fewer than
 * ahead (clamped to SPREAD_AHEAD_MIN..MAX) open.  The piece has
 * availability 0 and no claim, and is taken in index order from a random
 * start, so that the pieces go out spread over the file.  The caller
 * sends it, then calls spread_opened (or, if it could not, spread_skip).
 */
uint32_t	 spread_next(struct spread *, struct spread_peer *,
		    const struct bitfield *peer_has, const struct picker *,
		    size_t ahead, uint64_t now);
/*
 * Should the peer's request for piece be rejected?  Yes when the piece is
 * claimed by another peer, nobody has it yet, the peer has an open
 * suggestion to take instead or is choked (the request is for an
 * allowed-fast piece: the seed is busy with the peers it unchokes), and
 * it was never refused this piece before (the answer is then
 * remembered).  An unchoked peer with no new piece left gets the copy: a
 * copy is better than a seed left idle.
 */
bool		 spread_refuse(struct spread *, struct spread_peer *,
		    const struct picker *, uint32_t piece, bool choked,
		    uint64_t now);
/* The piece was suggested to the peer: open, and claimed. */
void		 spread_opened(struct spread *, struct spread_peer *,
		    uint32_t piece, uint64_t now);
/* The piece could not be suggested to it: claimed, so not picked again. */
void		 spread_skip(struct spread *, uint32_t piece, uint64_t now);

#endif
