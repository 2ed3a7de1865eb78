/* choke.h - unchoke slots and the optimistic unchoke, over peer rates */
#ifndef GT_CHOKE_H
#define GT_CHOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define CHOKE_INTERVAL_MS	10000	/* regular rechoke */
#define CHOKE_OPTIMISTIC_MS	30000	/* optimistic slot rotates */
#define CHOKE_RATE_MS		20000	/* the rates are averaged this long */
#define CHOKE_DEFAULT_SLOTS	4	/* regular slots without a limit */
#define CHOKE_MAX_AUTO_SLOTS	8	/* choke_auto_slots gives at most */
#define CHOKE_TURN_BYTES	(4u << 20) /* a turn ends once it got this */
#define CHOKE_TURN_MS		60000	/* ... or once it lasted this long */

/* What the choker knows of one peer at a rechoke. */
struct choke_peer {
	uint32_t	id;		/* caller's handle, returned as is */
	bool		interested;	/* the peer wants our data */
	bool		snubbed;	/* unchoked us, sent nothing for a
					   while (peer.h) */
	bool		seed;		/* has everything: never unchoke when
					   we are seeding too */
	bool		unchoked;	/* current state */
	bool		unchokes_us;	/* it does not choke us now */
	bool		optimistic;	/* current optimistic slot */
	uint64_t	down_rate;	/* bytes/s it sends us, over
					   CHOKE_RATE_MS */
	uint64_t	up_rate;	/* bytes/s we send it, likewise */
	uint64_t	connected_ms;	/* when it connected (newcomers win
					   optimistic slots 3x as often) */
	uint64_t	turn_ms;	/* when we last unchoked it; 0: never */
	uint64_t	turn_bytes;	/* bytes we sent it since then */
	uint64_t	uploaded;	/* bytes we sent it, all told */
};

struct choke_opts {
	uint32_t	slots;		/* regular unchoke slots (e.g. 4) */
	bool		choking;	/* false: every peer that wants a
					   slot gets one, nothing else counts */
	bool		optimistic;	/* keep one optimistic slot */
	bool		anti_snub;	/* snubbed peers lose regular slots */
	bool		seeding;	/* we upload only: turns, not rates */
};

/*
 * One rechoke at now: sets unchoke[i] for every peer (true = unchoke) and
 * optimistic[i] for the one optimistic slot.  rotate_optimistic says that
 * the optimistic slot is due to move (every CHOKE_OPTIMISTIC_MS).  Pure:
 * randomness comes from prng.
 */
void	 choke_decide(const struct choke_opts *, const struct choke_peer *,
	    size_t n, bool rotate_optimistic, uint64_t now, struct prng *,
	    bool *unchoke, bool *optimistic);

/*
 * Regular slots for an upload limit of max_up_rate bytes/s (0: none), by
 * mainline BitTorrent's rule, in KiB/s: under 9: 2, under 15: 3, under
 * 42: 4, else sqrt(0.6 x rate), at most CHOKE_MAX_AUTO_SLOTS; no limit:
 * CHOKE_DEFAULT_SLOTS.
 */
uint32_t choke_auto_slots(uint64_t max_up_rate);

#endif /* GT_CHOKE_H */
