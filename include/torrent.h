/* torrent.h - one torrent at run time: storage, picker, peers, trackers */
#ifndef GT_TORRENT_H
#define GT_TORRENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "crypto.h"
#include "err.h"
#include "seedlimit.h"
#include "wire.h"

#define TORRENT_DEFAULT_PEERS	50	/* connections for one torrent */
#define TORRENT_CONTRIB_MAX	8	/* peers tracked per piece */
#define TORRENT_HASH_CHUNK	WIRE_MAX_REQUEST /* read back at once */
#define TORRENT_HASH_BUF	(SHA1_LANES_MAX * TORRENT_HASH_CHUNK)
#define TORRENT_SEED_DRAIN_MS	2000	/* a seeding limit reached: what is
					   queued goes out, this long at most */

struct conn;
struct dht;
struct metainfo;
struct net;
struct reactor;
struct torrent;
struct tracker_client;

/* Files first .. last (0-based, inclusive). */
struct torrent_range {
	uint32_t	first, last;
};

struct torrent_opts {
	const char	*dir;		/* download folder */
	bool		 seed;		/* keep seeding once complete */
	bool		 upload_only;	/* never download (`gtorrent seed`) */
	bool		 rarest_first;
	bool		 end_game;
	uint32_t	 max_peers;	/* connections for this torrent */
	bool		 use_trackers;
	char *const	*trackers;	/* --tracker URLs, added as a last tier
					   (a magnet's: its only tier) */
	size_t		 ntrackers;
	bool		 pex;		/* BEP 11 (never for private ones) */
	bool		 metadata_only;	/* a magnet: stop at the metadata */
	bool		 dht;		/* find peers and announce on the
					   session's DHT (never for private
					   ones, BEP 27) */
	/* Peer strategies (choke.h, picker.h) */
	bool		 choking;	/* tit-for-tat; false: every
					   interested peer is unchoked */
	bool		 optimistic;	/* one optimistic unchoke slot */
	bool		 anti_snub;	/* snubbed peers lose their slot */
	uint32_t	 upload_slots;	/* regular unchoke slots; 0: derived
					   from max_up_rate */
	bool		 bbs_plus;	/* rarest outstanding blocks from two
					   peers at once, all along */
	bool		 super_seed;	/* BEP 16 while seeding */
	/* Rate limits, bytes/s (0: none) */
	uint64_t	 max_down_rate;
	uint64_t	 max_up_rate;
	/* Seeding ends at the first limit reached (0: no such limit) */
	double		 seed_ratio;	/* uploaded / torrent size */
	uint32_t	 seed_time_s;	/* seconds seeding */
	uint32_t	 seed_idle_s;	/* seconds seeding without uploading */
	/*
	 * Fast resume: the torrent's record is kept in state_dir/resume/
	 * (NULL: none kept, every start verifies the data); recheck ignores
	 * the record once and verifies the data (the record is rewritten).
	 */
	const char	*state_dir;
	bool		 recheck;
	bool		 preallocate;	/* files allocated whole at the start
					   (a shortfall fails then) */
	/*
	 * File selection, applied once the file list is known: only the
	 * files in select[] (none: every file), less those whose path in
	 * the torrent or base name matches a glob of exclude[] (fnmatch);
	 * high[] and low[] raise or lower the priority of theirs.  A file
	 * not selected is never created (storage.h: the part file).
	 */
	const struct torrent_range *select;
	size_t		 nselect;
	char *const	*exclude;
	size_t		 nexclude;
	const struct torrent_range *high;
	size_t		 nhigh;
	const struct torrent_range *low;
	size_t		 nlow;
	bool		 sequential;	/* pieces in order, for players */
};

/* What the torrent uses of the session that holds it. */
struct torrent_host {
	struct reactor		*r;
	struct net		*net;
	struct tracker_client	*trackers;
	const uint8_t		*peer_id;	/* 20 bytes */
	uint16_t		 port;		/* we listen there; 0: not */
	uint32_t		 key;		/* the announce key */
	const char		*user_agent;	/* to HTTP trackers */
	uint32_t		 max_conns;	/* connections, all torrents */
	struct dht		*dht;		/* the session's node, or NULL */
	uint16_t		 dht_port;	/* its UDP port (PORT, BEP 5) */
	/* The torrent called into dht: its deadline may have moved. */
	void			(*dht_changed)(void *arg);
	/* Is this address:port ourselves? */
	bool			(*is_self)(void *arg, const struct netaddr *);
	/*
	 * Buffers every torrent of the session shares, each used within one
	 * call only (the loop runs one torrent at a time): TORRENT_HASH_BUF
	 * bytes to read pieces back into for hashing, WIRE_MAX_REQUEST bytes
	 * for one block (NULL: the torrent has its own).
	 */
	uint8_t			*hash_buf;
	uint8_t			*scratch;
	/*
	 * How many connects the torrent may start now, its fair share of
	 * the session's caps: it holds conns (half_open of them connects
	 * under way) and could use want more.  Asked at each swarm tick;
	 * NULL: max_conns less the session's connections.
	 */
	uint32_t		(*room)(void *arg, const struct torrent *,
				    uint32_t conns, uint32_t half_open,
				    uint32_t want);
	void			*arg;
};

struct torrent_stats {
	uint64_t	size;		/* payload bytes (no padding) */
	uint64_t	have;		/* verified bytes of the wanted pieces
					   (padding included) */
	uint64_t	total;		/* bytes of the wanted pieces (every
					   piece without a file selection;
					   padding included): the size the
					   summary line shows */
	uint64_t	downloaded;	/* payload received this run */
	uint64_t	uploaded;	/* payload sent this run */
	uint64_t	uploaded_ever;	/* ... and in the runs before (the
					   resume record's), for a ratio */
	uint64_t	wasted;		/* payload received twice this run
					   (end game, --bbs-plus) */
	uint64_t	resent;		/* payload sent this run of pieces
					   sent in full before */
	uint32_t	npieces, have_pieces;
	uint32_t	peers;		/* connections with handshakes done */
	uint32_t	conns;		/* all connections */
	uint32_t	known;		/* candidate addresses */
	uint32_t	peers_ever;	/* distinct peers we exchanged with */
	uint32_t	trackers;	/* usable tracker URLs */
	int64_t		seeders;	/* from the last announce, or -1 */
	int64_t		leechers;	/* ... or -1 */
	bool		complete;
	bool		metadata;	/* a magnet still fetching its metadata */
	uint32_t	md_pieces;	/* ... its 16 KiB pieces (0: size not
					   known yet) */
	uint32_t	md_have;	/* ... received so far */
	uint32_t	dht_peers;	/* new addresses the DHT gave */
	bool		dht;		/* searching the DHT */
	bool		paused;		/* torrent_pause */
	uint32_t	seeds;		/* of peers: those with every piece */
};

/*
 * What happened to the torrent, one thing at a time, for the command's
 * --json stream (torrent_events.event).  Pointers are borrowed for the
 * call only.
 */
enum torrent_event_kind {
	TORRENT_EV_TRACKER,	/* an announce finished (ok or not) */
	TORRENT_EV_PEER_UP,	/* a connection's handshakes are done */
	TORRENT_EV_PEER_DOWN,	/* ... and it closed (after a PEER_UP) */
	TORRENT_EV_PIECE_OK,	/* a piece passed its hash check */
	TORRENT_EV_PIECE_BAD,	/* a piece failed it */
	TORRENT_EV_ERROR,	/* the torrent cannot go on (fatal next) */
};

struct torrent_event {
	enum torrent_event_kind	 kind;
	/* TRACKER */
	const char		*url;
	const char		*announce;	/* "started", "completed",
						   "stopped" or "regular" */
	bool			 ok;		/* a reply without failure */
	const char		*error;		/* !ok: the failure reason or
						   what went wrong */
	uint32_t		 npeers;	/* ok: addresses received */
	int64_t			 seeders;	/* ok: -1 unknown */
	int64_t			 leechers;
	uint32_t		 interval;	/* ok: seconds */
	/* PEER_UP, PEER_DOWN */
	const struct netaddr	*addr;
	bool			 incoming;
	const uint8_t		*peer_id;	/* 20 bytes */
	const char		*reason;	/* PEER_DOWN: why it closed;
						   ERROR: what went wrong */
	/* PIECE_OK, PIECE_BAD */
	uint32_t		 piece;
	const struct netaddr	*contrib;	/* PIECE_BAD: the peers that
						   sent its blocks */
	size_t			 ncontrib;
	bool			 more;		/* ... and others not kept */
};

/* What the command hears about. */
struct torrent_events {
	void		(*complete)(void *arg);	/* all pieces verified */
	/* disk error (GT_EIO ...), or metadata unusable (GT_EINVAL) */
	void		(*fatal)(void *arg, enum gt_err);
	/*
	 * A magnet's metadata arrived and matches its info-hash; m lives as
	 * long as the torrent.  Data is fetched next (unless metadata_only).
	 */
	void		(*metadata)(void *arg, const struct metainfo *m);
	/*
	 * A seeding limit (seed_ratio, seed_time_s, seed_idle_s) is reached:
	 * the torrent has stopped serving and its last blocks went out (or
	 * TORRENT_SEED_DRAIN_MS passed); the owner ends it (torrent_leave).
	 * why (SEEDLIMIT_WHYLEN bytes at most) is for the user, e.g. "ratio
	 * 1.00 reached (64.0 MiB up)".
	 */
	void		(*seed_limit)(void *arg, enum seedlimit_reason,
			    const char *why);
	/*
	 * The data on disk is being checked (torrent_new, or a magnet's
	 * metadata arrived): done of total bytes hashed so far.  Called from
	 * a hashing thread, one call at a time, while the loop is held.
	 */
	void		(*checking)(void *arg, uint64_t done, uint64_t total);
	/* Each torrent_event as it happens (NULL: none made). */
	void		(*event)(void *arg, const struct torrent_event *);
	void		*arg;
};

/*
 * A torrent downloading into opts->dir; m is borrowed and must outlive it.
 * Checks data already on disk (threaded) before it returns.  err
 * (GT_ERRLEN bytes) says why it failed: GT_EIO is a disk problem.
 */
enum gt_err	 torrent_new(struct torrent **, const struct torrent_host *,
		    const struct metainfo *, const struct torrent_opts *,
		    const struct torrent_events *, char *err);
/*
 * A torrent from a magnet: no metadata yet (fetched from peers, BEP 9);
 * name (may be NULL) is shown until then, never used as a path.
 */
enum gt_err	 torrent_new_magnet(struct torrent **,
		    const struct torrent_host *, const uint8_t info_hash[20],
		    const char *name, const struct torrent_opts *,
		    const struct torrent_events *);
/* Starts announcing and connecting. */
void		 torrent_start(struct torrent *);
/*
 * Leaving: peers closed, what is complete verified and synced to disk;
 * then the trackers are told (within timeout_ms) and done(arg) runs from
 * the loop.
 */
void		 torrent_leave(struct torrent *, uint32_t timeout_ms,
		    void (*done)(void *), void *arg);
/* Closes every connection and stops connecting, at once. */
void		 torrent_stop(struct torrent *);
void		 torrent_free(struct torrent *);

const uint8_t	*torrent_info_hash(const struct torrent *);
const char	*torrent_name(const struct torrent *);
/* NULL while a magnet's metadata is missing. */
const struct metainfo *torrent_metainfo(const struct torrent *);
void		 torrent_stats(const struct torrent *, struct torrent_stats *);
/*
 * Tracker replies with a "failure reason" since the last good one (0:
 * none), and the last reason (borrowed, valid until the next call in).
 */
unsigned	 torrent_tracker_refusals(const struct torrent *,
		    const char **reason);
/*
 * Addresses to try (tracker, --peer); explicit ones are never given up.
 * Returns how many were new.
 */
size_t		 torrent_add_peers(struct torrent *, const struct netaddr *,
		    size_t n, bool explicit);
/* Peers the DHT found for the torrent (counted in dht_peers). */
void		 torrent_dht_peers(struct torrent *, const struct netaddr *,
		    size_t n);
/*
 * An inbound connection whose handshake names this torrent: attach it
 * (net_attach) or say why not.
 */
enum gt_err	 torrent_accept(struct torrent *, struct conn *,
		    const char **why);

/* ---- the full-screen view: read-only queries, pause (torrent-view.c) ---- */

/* Where a peer's address came from. */
enum torrent_peer_source {
	TORRENT_SRC_TRACKER,
	TORRENT_SRC_DHT,
	TORRENT_SRC_PEX,
	TORRENT_SRC_INCOMING,	/* it connected to us */
	TORRENT_SRC_GIVEN,	/* --peer, x.pe= */
};

#define TORRENT_CLIENT_LEN	40	/* torrent_peer_info.client */

struct torrent_peer_info {
	struct netaddr	addr;
	uint8_t		peer_id[20];
	bool		has_id;		/* always, once the handshakes are
					   done */
	char		client[TORRENT_CLIENT_LEN];	/* from the peer id
					   (peerid.h): printable ASCII, ""
					   if unknown */
	bool		am_choking, am_interested;
	bool		peer_choking, peer_interested;
	bool		snubbed;	/* anti-snubbing (peer.h) */
	bool		optimistic;	/* holds our optimistic slot */
	bool		incoming;	/* it dialled us */
	bool		seed;		/* it has every piece */
	bool		encrypted, utp;	/* false: gtorrent has neither yet */
	enum torrent_peer_source source;
	uint64_t	down_rate, up_rate;	/* payload bytes/s, recent */
	uint64_t	downloaded, uploaded;	/* payload, this connection */
	uint32_t	have_pieces;	/* their progress (0 before the
					   metadata) */
	uint32_t	requests;	/* our requests outstanding to them */
	uint64_t	connected_ms;	/* handshakes done at (monotonic) */
};
/*
 * The connections with handshakes done, in the order they were made: up
 * to max of them into out; returns how many there are.  now: monotonic ms
 * (for the rates).
 */
size_t		 torrent_peer_infos(const struct torrent *,
		    struct torrent_peer_info *out, size_t max, uint64_t now);

enum torrent_piece_state {
	TORRENT_PIECE_MISSING,
	TORRENT_PIECE_PARTIAL,	/* blocks requested or received */
	TORRENT_PIECE_HAVE,	/* verified */
	TORRENT_PIECE_SKIPPED,	/* not wanted (file selection) */
};
/*
 * Piece i's state (enum torrent_piece_state) and availability (peers
 * connected that have it, at most UINT16_MAX) for i < n, into state[i]
 * and avail[i] (either may be NULL); returns how many were written:
 * MIN(n, npieces), 0 while a magnet has no metadata.
 */
uint32_t	 torrent_piece_map(const struct torrent *, uint8_t *state,
		    uint16_t *avail, uint32_t n);

enum torrent_tracker_status {
	TORRENT_TRK_IDLE,	/* not asked yet */
	TORRENT_TRK_BUSY,	/* an announce under way */
	TORRENT_TRK_OK,		/* the last announce was answered */
	TORRENT_TRK_FAILED,	/* ... failed */
};

struct torrent_tracker_info {
	char		url[256];	/* as given, not escaped (cut to fit) */
	uint32_t	tier;
	enum torrent_tracker_status status;
	char		result[160];	/* "12 peers", "stopped", the failure
					   reason or the error, "" */
	int64_t		seeders, leechers;	/* its last figures; -1 */
	uint64_t	next_ms;	/* monotonic ms of the next announce
					   round (the same for every tracker:
					   each round starts at the first
					   tier, BEP 12); 0: none planned or
					   one under way */
};
/*
 * The usable trackers (tiers in order), up to max into out; returns how
 * many there are.  Text fields are printable ASCII.
 */
size_t		 torrent_tracker_infos(const struct torrent *,
		    struct torrent_tracker_info *out, size_t max);

/*
 * Paused: every connection closed, no dialling, no accepting, off the
 * DHT, and the trackers told "stopped" once, then nothing; the data
 * stays open and verified pieces stay.  Resumed: "started" again, the
 * DHT search again, connections again (candidates redialled at once).
 * No-op when unchanged or after torrent_stop; before torrent_start, the
 * start waits for the resume.
 */
void		 torrent_pause(struct torrent *, bool paused);
bool		 torrent_paused(const struct torrent *);

#endif /* GT_TORRENT_H */
