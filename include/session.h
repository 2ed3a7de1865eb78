/* session.h - torrents, peer id, listen port, trackers, connections */
#ifndef GT_SESSION_H
#define GT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

/*
 * Our Azureus-style peer id: "-GQ0100-" and 12 random bytes.  "GQ" is used
 * by no client in BEP 20's list, Vuze's or Transmission's tables ("GT" is
 * taken); 0100 is version 0.1.0.
 */
#define SESSION_PEER_ID_PREFIX	"-GQ0100-"
#define SESSION_USER_AGENT	"gtorrent/0.1.0"
#define SESSION_DEFAULT_PORT	6881
#define SESSION_DEFAULT_PEERS	50
#define SESSION_MAX_TORRENTS	1000	/* torrents in one session */
#define SESSION_MAX_HALF_OPEN	64	/* our connects under way, all
					   torrents (each: SWARM_MAX_HALF_OPEN) */
#define SESSION_MAX_LOCAL	64	/* our own addresses remembered */

struct dht;
struct dht_hooks;
struct metainfo;
struct reactor;
struct session;
struct torrent;
struct torrent_events;
struct torrent_opts;

struct session_opts {
	uint16_t	port;		/* first listen port tried; 0: any */
	bool		port_exact;	/* port alone (given by the user):
					   taken, session_new fails */
	bool		listen;		/* accept inbound connections */
	/*
	 * The local address (family 0: any) of the listener, the outbound
	 * peer connections (peers of the other family are not dialled),
	 * the UDP socket of the DHT and the UDP trackers, and HTTP tracker
	 * requests.
	 */
	struct netaddr	bind;
	uint32_t	max_peers;	/* connections, all torrents, shared
					   fairly between them (share.h) */
	/*
	 * The DHT node (BEP 5), on the UDP socket the UDP trackers share,
	 * bound to dht_port (taken: session_new fails; 0: the listen port,
	 * or any when not listening or when its UDP twin is taken).  Its
	 * bootstrap nodes are "HOST:PORT" strings, numeric or resolved
	 * (NULL with n 0: the built-in public routers, unless a saved
	 * table was loaded and gives a good node within 30 s); its
	 * routing table is kept in state_dir/dht.dat
	 * (NULL: not kept), read at the start (a bad file is a warning) and
	 * written every 10 minutes and at session_free when it holds a
	 * good node.
	 */
	bool		dht;
	uint16_t	dht_port;
	char *const	*dht_bootstrap;
	size_t		ndht_bootstrap;
	const char	*state_dir;
	/* Global rate limits over every torrent, bytes/s (0: none) */
	uint64_t	max_down_rate;
	uint64_t	max_up_rate;
};

/*
 * A session on r: one listener and connection cap, one tracker client,
 * one peer id for every torrent it holds.  err (GT_ERRLEN bytes) says why
 * it failed.
 */
enum gt_err	 session_new(struct session **, struct reactor *,
		    const struct session_opts *, char *err);
/* Frees the torrents still in it, then the rest. */
void		 session_free(struct session *);
uint16_t	 session_port(const struct session *);	/* 0: not listening */
uint16_t	 session_dht_port(const struct session *);	/* 0: no DHT */

/*
 * A new torrent in the session (torrent_new's arguments and errors; at
 * most SESSION_MAX_TORRENTS: GT_ERANGE, one per info-hash: GT_EEXIST).
 * Until it first asks for connections (it started), it is counted as
 * wanting its share of them: start it, or remove it.
 */
enum gt_err	 session_add_torrent(struct session *, const struct metainfo *,
		    const struct torrent_opts *, const struct torrent_events *,
		    struct torrent **, char *err);
/* A torrent from a magnet (torrent_new_magnet), info_hash 20 bytes. */
enum gt_err	 session_add_magnet(struct session *, const uint8_t *info_hash,
		    const char *name, const struct torrent_opts *,
		    const struct torrent_events *, struct torrent **,
		    char *err);
/* Takes t out of the session and frees it. */
void		 session_remove_torrent(struct session *, struct torrent *);
struct torrent	*session_find(struct session *, const uint8_t *info_hash);
size_t		 session_ntorrents(const struct session *);
/*
 * The DHT node, or NULL when off: for dht_search, dht_ping and dht_stats
 * (`gtorrent dht`, the status line).  A torrent's own searches are the
 * session's; hooks (copied; NULL to remove) also hear every search's
 * peers and ends and every pong, beside the torrents (pongs include those
 * of the pings a peer's PORT message causes: filter by address).  The
 * session re-arms the node's timer after each datagram it sends.
 */
struct dht	*session_dht(struct session *);
void		 session_dht_watch(struct session *,
		    const struct dht_hooks *);
/* Is this address:port ourselves (our listen port on one of our IPs)? */
bool		 session_is_self(const struct session *,
		    const struct netaddr *);

#endif /* GT_SESSION_H */
