/* choke.h - unchoke slots and the optimistic unchoke, over peer rates */
#ifndef GT_CHOKE_H
#define GT_CHOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define CHOKE_INTERVAL_MS	10000	/* regular rechoke */
#define CHOKE_OPTIMISTIC_MS	30000	/* optimistic slot rotates */

/* What the choker knows of one peer at a rechoke. */
struct choke_peer {
	uint32_t	id;		/* caller's handle, returned as is */
	bool		interested;	/* the peer wants our data */
	bool		snubbed;	/* sent us nothing for a while */
	bool		seed;		/* has everything: never unchoke when
					   we are seeding too */
	bool		unchoked;	/* current state */
	bool		optimistic;	/* current optimistic slot */
	uint64_t	down_rate;	/* bytes/s it sends us */
	uint64_t	up_rate;	/* bytes/s we send it */
	uint64_t	connected_ms;	/* when it connected (newcomers win
					   optimistic slots 3x as often) */
};

struct choke_opts {
	uint32_t	slots;		/* regular unchoke slots (e.g. 4) */
	bool		optimistic;	/* keep one optimistic slot */
	bool		anti_snub;	/* snubbed peers lose regular slots */
	bool		seeding;	/* rank by up_rate instead of down_rate */
};

/*
 * One rechoke at now: sets unchoke[i] for every peer (true = unchoke) and
 * optimistic[i] for the one optimistic slot.  rotate_optimistic says that
 * the optimistic slot is due to move (every CHOKE_OPTIMISTIC_MS).  Pure:
 * randomness comes from prng.
 */
void	choke_decide(const struct choke_opts *, const struct choke_peer *,
	    size_t n, bool rotate_optimistic, uint64_t now, struct prng *,
	    bool *unchoke, bool *optimistic);

#endif /* GT_CHOKE_H */
