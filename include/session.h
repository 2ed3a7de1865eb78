/* session.h - torrents, peer id, listen port, HTTP tracker announces */
#ifndef GT_SESSION_H
#define GT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "crypto.h"
#include "err.h"
#include "tracker-http.h"

/*
 * Our Azureus-style peer id: "-GQ0100-" and 12 random bytes.  "GQ" is used
 * by no client in BEP 20's list, Vuze's or Transmission's tables ("GT" is
 * taken); 0100 is version 0.1.0.
 */
#define SESSION_PEER_ID_PREFIX	"-GQ0100-"
#define SESSION_USER_AGENT	"gtorrent/0.1.0"
#define SESSION_DEFAULT_PORT	6881
#define SESSION_DEFAULT_PEERS	50
#define SESSION_MAX_TORRENTS	64
#define SESSION_MAX_LOCAL	64	/* our own addresses remembered */

/* Announce timing. */
#define TRACKER_TIMEOUT_MS	15000	/* one regular announce */
#define TRACKER_BACKOFF_MIN_MS	15000	/* after a failure, doubling */
#define TRACKER_BACKOFF_MAX_MS	(30u * 60 * 1000)
#define TRACKER_NEED_PEERS_MS	15000	/* re-announce while peerless */
#define TRACKER_NUMWANT		80

struct http;
struct net;
struct reactor;
struct torrent;
struct metainfo;

struct session_opts {
	uint16_t	port;		/* first listen port tried; 0: any */
	bool		listen;		/* accept inbound connections */
	uint32_t	max_peers;	/* connections, all torrents */
};

struct session {
	struct reactor	 *r;
	struct http	 *http;		/* NULL until a tracker is used */
	struct net	 *net;
	uint8_t		  peer_id[20];
	uint32_t	  key;		/* announce "key" */
	uint16_t	  port;		/* where we listen; 0 if not */
	uint32_t	  max_peers;
	struct netaddr	  local[SESSION_MAX_LOCAL];	/* our addresses */
	size_t		  nlocal;
	struct torrent	 *torrents[SESSION_MAX_TORRENTS];
	size_t		  ntorrents;
};

/* A session on r; err (MI_ERRLEN bytes) says why it failed. */
enum gt_err	 session_new(struct session **, struct reactor *,
		    const struct session_opts *, char *err);
void		 session_free(struct session *);
enum gt_err	 session_add(struct session *, struct torrent *);
void		 session_remove(struct session *, struct torrent *);
struct torrent	*session_find(struct session *, const uint8_t *info_hash);
/* Is this address:port ourselves (our listen port on one of our IPs)? */
bool		 session_is_self(const struct session *,
		    const struct netaddr *);
struct http	*session_http(struct session *);

/*
 * The HTTP tracker client of one torrent: BEP 3/23/7 announces, interval,
 * min interval, tracker id, backoff on failure (15 s doubling to 30 min),
 * and simple BEP 12: the tiers' URLs in order, the first that works.
 */
struct session_tracker;

struct session_tracker *session_tracker_new(struct session *,
		    struct torrent *, const struct metainfo *);
void		 session_tracker_free(struct session_tracker *);
/* How many usable (http/https) URLs it has. */
size_t		 session_tracker_count(const struct session_tracker *);
void		 session_tracker_start(struct session_tracker *);
/* We finished downloading: "completed" goes out now. */
void		 session_tracker_completed(struct session_tracker *);
/* The torrent lacks peers: announce soon (as min interval allows). */
void		 session_tracker_need_peers(struct session_tracker *);
/*
 * Leave: sends what is pending ("completed"), then "stopped", all within
 * timeout_ms; then done(arg) runs from the loop.
 */
void		 session_tracker_stop(struct session_tracker *,
		    uint32_t timeout_ms, void (*done)(void *), void *arg);

#endif /* GT_SESSION_H */
