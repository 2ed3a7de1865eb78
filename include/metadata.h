/* metadata.h - assembling a magnet's info dict from ut_metadata pieces */
#ifndef GT_METADATA_H
#define GT_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define METADATA_PIECE		16384		/* BEP 9 piece size */
#define METADATA_MAX_SIZE	(16u << 20)	/* info dict bytes, at most */
#define METADATA_PEER_QUEUE	4		/* requests out per peer */
#define METADATA_REQUEST_MS	15000		/* unanswered: ask another */
#define METADATA_MAX_TIMEOUTS	3		/* unanswered in a row: bad */
#define METADATA_REJECT_MS	30000		/* rejected: rest the peer */
#define METADATA_MAX_PEERS	256		/* peers tracked at most */

/*
 * Peers are the caller's ids (uint32_t).  A peer is offered with the size
 * its extended handshake gave; pieces are asked from several peers at once
 * (metadata_next_request), each piece of one attempt from one peer at a
 * time, the lowest missing first; in the end game (every missing piece
 * out) a piece asked METADATA_REQUEST_MS / 2 ago or more may be asked of
 * one more peer.  When all pieces are in, their SHA-1 is checked against
 * the info-hash: a mismatch throws the attempt away; when one peer sent
 * every piece of it, that peer is bad (never asked again).  When several
 * did, the next attempt takes all pieces from one peer (the first to ask
 * that has not had its turn; turns go round), so a liar is found within
 * two attempts.  Pure: now (ms) is an argument.
 *
 * Memory: the buffer of the size chosen (at most METADATA_MAX_SIZE) and a
 * few bytes per piece, allocated when a size is chosen; a table of at most
 * METADATA_MAX_PEERS peers.  No remote index sizes anything.
 */

struct metadata;

enum metadata_result {
	METADATA_KEPT,		/* stored; more to come */
	METADATA_DONE,		/* complete and its SHA-1 matches */
	METADATA_IGNORED,	/* not asked of this peer, or a duplicate */
	METADATA_BAD,		/* malformed for its index (length, total
				   size): the peer is bad, drop it */
	METADATA_FAILED,	/* complete but the SHA-1 differs: the attempt
				   is dropped; metadata_culprits says who */
};

struct metadata	*metadata_new(const uint8_t info_hash[SHA1_LEN]);
void		 metadata_free(struct metadata *);

/*
 * A peer offers an info dict of size bytes (its metadata_size).  The first
 * size offered is the one assembled.  It is chosen again when no peer that
 * is not bad offers it any more (its sources lied, were bad or left) while
 * others offer another: then the size most of them offer (a tie: the one
 * offered first), and what was in is dropped.  A peer offering another
 * size than the one assembled is kept (true) and asked nothing until its
 * size is chosen.  Offered again, the peer's size is updated (its requests
 * go back).  false: not tracked (size 0 or over METADATA_MAX_SIZE, which
 * also forgets a tracked peer; a peer found bad; METADATA_MAX_PEERS
 * already tracked; the metadata is done).
 */
bool		 metadata_peer_add(struct metadata *, uint32_t peer,
		    uint32_t size);
/*
 * The peer left: its requests go back to be asked of others, and it is
 * forgotten, bad mark included (the caller bans; a peer unknown: no-op).
 * Call it for every peer that leaves, whatever metadata_peer_add said.
 */
void		 metadata_peer_remove(struct metadata *, uint32_t peer);
/*
 * Has the peer been found bad (metadata never asked of it again)?  While
 * it is tracked: metadata_peer_remove forgets it.
 */
bool		 metadata_peer_bad(const struct metadata *, uint32_t peer);

/*
 * The next piece to ask of peer: false when there is none for it (all
 * asked, its queue of METADATA_PEER_QUEUE full, resting after a reject,
 * bad, not added, offering another size, or another peer's turn in a
 * one-peer attempt).  Marks the piece asked at now.
 */
bool		 metadata_next_request(struct metadata *, uint32_t peer,
		    uint64_t now, uint32_t *piece);
/*
 * A DATA message from peer; data is borrowed (copied if kept).  In this
 * order: IGNORED when done, no size is chosen, or the peer is unknown or
 * bad; BAD when piece is out of range, total_size is not the size
 * assembled, or len is not the piece's (METADATA_PIECE, the last one what
 * is left); IGNORED when the piece is not asked of this peer now
 * (unsolicited, in already, or its request timed out).  Once a piece is
 * in, its requests to other peers (end game) are forgotten.  BAD also
 * drops the peer's pieces of this attempt.
 */
enum metadata_result metadata_on_data(struct metadata *, uint32_t peer,
		    uint32_t piece, uint32_t total_size, const uint8_t *data,
		    size_t len, uint64_t now);
/*
 * A REJECT: the piece goes back; the peer rests METADATA_REJECT_MS (its
 * other requests stay out).  A reject of a piece not asked of the peer
 * changes nothing.
 */
void		 metadata_on_reject(struct metadata *, uint32_t peer,
		    uint32_t piece, uint64_t now);
/*
 * Requests METADATA_REQUEST_MS old or more go back; rests end.  A peer
 * whose requests expire at METADATA_MAX_TIMEOUTS ticks with no piece from
 * it in between is bad (so a silent peer cannot hold the size it offered).
 */
void		 metadata_tick(struct metadata *, uint64_t now);
/*
 * When metadata_tick is next due (and peers are worth asking again): a
 * request's timeout, a rest's end, an end-game moment not yet ticked;
 * UINT64_MAX: nothing pending.
 */
uint64_t	 metadata_deadline(const struct metadata *);
/*
 * After METADATA_FAILED: the peers it found bad (up to max; 0 or 1), until
 * the next failure.  0: several peers sent pieces, nobody is blamed yet.
 */
size_t		 metadata_culprits(const struct metadata *, uint32_t *out,
		    size_t max);

/* Progress: the size being assembled (0: none yet), pieces in. */
uint32_t	 metadata_size(const struct metadata *);
uint32_t	 metadata_npieces(const struct metadata *);
uint32_t	 metadata_have(const struct metadata *);
/* After METADATA_DONE: the info dict's bytes (owned by the assembler). */
const uint8_t	*metadata_bytes(const struct metadata *, size_t *len);

#endif /* GT_METADATA_H */
