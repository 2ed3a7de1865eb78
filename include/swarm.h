/* swarm.h - one torrent's swarm policy: whom to dial, ban, unchoke, serve */
#ifndef GT_SWARM_H
#define GT_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "choke.h"

#define SWARM_MAX_CANDS		2000	/* peer addresses remembered */
#define SWARM_MAX_HALF_OPEN	16	/* our connects under way */
#define SWARM_TICK_MS		1000	/* the connection manager's period */
#define SWARM_RETRY_MIN_MS	2000	/* first redial after a failure */
#define SWARM_RETRY_MAX_MS	(5u * 60 * 1000)
#define SWARM_GIVE_UP		8	/* failed connects in a row: give up
					   (never for explicit addresses) */
#define SWARM_UNCHOKE_SLOTS	CHOKE_DEFAULT_SLOTS
#define SWARM_MAX_BANS		1024
#define SWARM_BAN_STRIKES	3	/* shares in corrupt pieces: banned */
#define SWARM_MAX_SEEN		4096	/* peer ids counted */
#define SWARM_SERVE_HIGH	(1u << 20)	/* output queued: serve later */

/*
 * Pure: fed events and a clock (ms), it keeps the candidates and their
 * backoff, bans and strikes, the peers seen, and the rhythm of dialling
 * and rechoking; it answers whom to dial, whom to ban, whom to unchoke and
 * whether to serve a request now.  The torrent does what it says.
 */
struct swarm;

struct swarm_opts {
	uint32_t	max_peers;	/* connections for this torrent */
	uint32_t	unchoke_slots;	/* regular slots; 0: derived from
					   max_up_rate (choke_auto_slots) */
	uint64_t	max_up_rate;	/* bytes/s, 0: no limit */
	bool		choking;	/* tit-for-tat; false: every
					   interested peer is unchoked */
	bool		optimistic;	/* one optimistic slot */
	bool		anti_snub;	/* snubbed peers lose regular slots */
};

struct swarm	*swarm_new(const struct swarm_opts *, uint64_t seed);
void		 swarm_free(struct swarm *);

/* ---- candidates ---- */

/*
 * Addresses to dial (a tracker, --peer, ...); explicit ones are never
 * given up.  Addresses nobody can dial (addr_is_dialable) are dropped, known
 * ones refreshed: fresh news of a failed one makes it due again.  Returns
 * how many are new.
 */
size_t		 swarm_add_peers(struct swarm *, const struct netaddr *,
		    size_t n, bool explicit);
/* Where a candidate's address came from (the first source that gave it). */
enum swarm_source {
	SWARM_SRC_TRACKER,
	SWARM_SRC_DHT,
	SWARM_SRC_PEX,
	SWARM_SRC_GIVEN,	/* --peer, x.pe=: explicit */
};
/*
 * As swarm_add_peers, saying where they came from; SWARM_SRC_GIVEN is
 * explicit (and names a known address's source from then on).
 */
size_t		 swarm_add_peers_from(struct swarm *, const struct netaddr *,
		    size_t n, enum swarm_source);
/* Candidate id's source (SWARM_SRC_TRACKER for an id it never gave). */
enum swarm_source swarm_cand_source(const struct swarm *, uint32_t id);
size_t		 swarm_ncands(const struct swarm *);
/*
 * The next candidate to dial now, round robin, marked connected; false
 * when none is due.  *id names it in the calls below.
 */
bool		 swarm_next_dial(struct swarm *, uint64_t now, uint32_t *id,
		    struct netaddr *);
/*
 * Resuming after a pause: every candidate not connected, banned nor given
 * up is due at once, backoff or not.
 */
void		 swarm_redial_now(struct swarm *);
/* The dial could not even start (no socket): retry later. */
void		 swarm_on_dial_failed(struct swarm *, uint32_t id,
		    uint64_t now);
/*
 * Its dial failed (refused, unreachable, timed out): true the first time
 * for an explicit (--peer) candidate, for one warning a peer.
 */
bool		 swarm_warn_once(struct swarm *, uint32_t id);
/* Handshakes done with it: its failure count starts again. */
void		 swarm_on_connected(struct swarm *, uint32_t id);
/* Its connection closed; handshaked: whether it ever got that far. */
void		 swarm_on_closed(struct swarm *, uint32_t id, bool handshaked,
		    uint64_t now);
/* It had every piece: not dialled again while we have them all too. */
void		 swarm_on_seed(struct swarm *, uint32_t id);
/* It was ourselves: never dialled again. */
void		 swarm_on_self(struct swarm *, uint32_t id);

/* ---- bans ---- */

/* Who sent blocks of a piece. */
struct swarm_contrib {
	struct netaddr	a;
	uint8_t		id[20];		/* peer id, zeros if unknown */
};

/* Is this address (or NULL) or peer id (or NULL) banned? */
bool		 swarm_is_banned(const struct swarm *, const struct netaddr *,
		    const uint8_t *id);
/*
 * A piece failed its hash check; c[n] sent its blocks (many: others did
 * too).  A lone sender is banned at once, each of several gets a strike
 * and SWARM_BAN_STRIKES strikes ban.  Writes the peers banned now to out
 * (room for n) and returns how many: the caller drops their connections.
 */
size_t		 swarm_on_piece_failed(struct swarm *,
		    const struct swarm_contrib *c, size_t n, bool many,
		    struct swarm_contrib *out);
size_t		 swarm_nbans(const struct swarm *);

/* ---- peers ---- */

/* A handshake with this peer id: counted once in swarm_seen. */
void		 swarm_on_handshake(struct swarm *, const uint8_t *id);
uint32_t	 swarm_seen(const struct swarm *);
/*
 * Two connections to one peer (same peer id): does the new one stay (and
 * the old one go)?  When both sides dialled, both keep the connection
 * opened by the side with the lower peer id, so they never drop one each;
 * otherwise the old one stays.
 */
bool		 swarm_keep_new(const uint8_t *our_id, const uint8_t *their_id,
		    bool new_outbound, bool old_outbound);

/* ---- rhythm ---- */

/* What the torrent has, read at each tick. */
struct swarm_counts {
	uint32_t	conns;		/* this torrent's connections */
	uint32_t	half_open;	/* outbound, handshake not yet done */
	uint32_t	peers;		/* handshakes done */
	uint32_t	leechers;	/* peers lacking pieces we could send */
	uint32_t	global_room;	/* connections the session still has */
	bool		complete;	/* we have every piece */
	bool		seeding;	/* ... and stay to serve them */
};

struct swarm_actions {
	uint32_t	dial;		/* call swarm_next_dial this often */
	bool		rechoke;	/* rechoke now (swarm_rechoke) */
	bool		rotate;		/* ... moving the optimistic slot */
	bool		need_peers;	/* ask the trackers for more */
};

/* Starts the rhythm: dial at once, rechoke every CHOKE_INTERVAL_MS. */
void		 swarm_start(struct swarm *, uint64_t now);
void		 swarm_stop(struct swarm *);
/* New candidates, or a slot came free: dial at the next tick, now. */
void		 swarm_dial_soon(struct swarm *, uint64_t now);
/* When swarm_tick is next due; UINT64_MAX when stopped. */
uint64_t	 swarm_deadline(const struct swarm *);
void		 swarm_tick(struct swarm *, const struct swarm_counts *,
		    uint64_t now, struct swarm_actions *);

/* ---- choking and serving ---- */

/*
 * A rechoke over p[n] (choke.h) as the options say: regular slots to the
 * fastest (seeding: in turns), one optimistic slot, snubbed peers lose
 * theirs; rotate moves the optimistic slot.  Sets unchoke[i] and
 * optimistic[i].
 */
void		 swarm_rechoke(struct swarm *, const struct choke_peer *p,
		    size_t n, bool rotate, bool seeding, uint64_t now,
		    bool *unchoke, bool *optimistic);
/*
 * An interested newcomer gets a free slot at once, not at the rechoke
 * (unchoked: how many are); without choking, always.
 */
bool		 swarm_unchoke_newcomer(const struct swarm *,
		    uint32_t unchoked);
/* The regular slots in use (the options' or derived). */
uint32_t	 swarm_unchoke_slots(const struct swarm *);

enum swarm_serve {
	SWARM_SERVE,		/* read it and send it now */
	SWARM_SERVE_LATER,	/* output is full: when it drains */
	SWARM_SERVE_REJECT,	/* never: reject it (or drop it) */
};
/*
 * A request the peer queued: serve it now, later, or never (we do not
 * have the piece, or we choke the peer).  pending: bytes of output queued.
 */
enum swarm_serve swarm_serve(const struct swarm *, bool have_piece,
		    bool choking, size_t pending);

#endif /* GT_SWARM_H */
