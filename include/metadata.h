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
#define METADATA_REJECT_MS	30000		/* rejected: rest the peer */
#define METADATA_MAX_PEERS	256		/* peers tracked at most */

/*
 * Peers are the caller's ids (uint32_t).  A peer is offered with the size
 * its extended handshake gave; pieces are asked from several peers at once
 * (metadata_next_request), each piece of one attempt from one peer at a
 * time.  When all pieces are in, their SHA-1 is checked against the
 * info-hash: a mismatch throws the attempt away; when one peer sent every
 * piece of it, that peer is bad (never asked again).  When several did,
 * the next attempt takes all pieces from one peer, so a liar is found
 * within two attempts.  Pure: now (ms) is an argument.
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
 * size offered is the one assembled (until an attempt fails; then the
 * next offer may set another).  false: not used (size 0 or over
 * METADATA_MAX_SIZE, another size than the one being assembled, a peer
 * found bad, or METADATA_MAX_PEERS already tracked).
 */
bool		 metadata_peer_add(struct metadata *, uint32_t peer,
		    uint32_t size);
/* The peer left: its requests go back to be asked of others. */
void		 metadata_peer_remove(struct metadata *, uint32_t peer);
/* Has the peer been found bad (metadata never asked of it again)? */
bool		 metadata_peer_bad(const struct metadata *, uint32_t peer);

/*
 * The next piece to ask of peer: false when there is none for it (all
 * asked, its queue full, resting after a reject, bad, or not added).
 * Marks the piece asked at now.
 */
bool		 metadata_next_request(struct metadata *, uint32_t peer,
		    uint64_t now, uint32_t *piece);
/* A DATA message from peer; data is borrowed (copied if kept). */
enum metadata_result metadata_on_data(struct metadata *, uint32_t peer,
		    uint32_t piece, uint32_t total_size, const uint8_t *data,
		    size_t len, uint64_t now);
/* A REJECT: the piece goes back; the peer rests METADATA_REJECT_MS. */
void		 metadata_on_reject(struct metadata *, uint32_t peer,
		    uint32_t piece, uint64_t now);
/* Requests older than METADATA_REQUEST_MS go back. */
void		 metadata_tick(struct metadata *, uint64_t now);
/* When metadata_tick is next due; UINT64_MAX: nothing pending. */
uint64_t	 metadata_deadline(const struct metadata *);
/* After METADATA_FAILED: the peers it found bad (up to max). */
size_t		 metadata_culprits(const struct metadata *, uint32_t *out,
		    size_t max);

/* Progress: the size being assembled (0: none yet), pieces in. */
uint32_t	 metadata_size(const struct metadata *);
uint32_t	 metadata_npieces(const struct metadata *);
uint32_t	 metadata_have(const struct metadata *);
/* After METADATA_DONE: the info dict's bytes (owned by the assembler). */
const uint8_t	*metadata_bytes(const struct metadata *, size_t *len);

#endif /* GT_METADATA_H */
