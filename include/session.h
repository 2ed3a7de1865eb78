/* session.h - torrents, peer id, listen port, tracker announces */
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
#define TRACKER_TIMEOUT_MS	15000	/* one HTTP announce */
#define TRACKER_UDP_TRIES	2	/* a UDP announce: 15 s, then 30 s */
#define TRACKER_NUMWANT		80

struct http;
struct net;
struct udp;
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
	struct udp	 *udp;		/* NULL until a UDP tracker is used */
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

/* A session on r; err (GT_ERRLEN bytes) says why it failed. */
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
 * The tracker client of one torrent: announces over HTTP(S) (BEP 3/23/7)
 * and UDP (BEP 15), scheduled by `announce` (BEP 12 tiers, interval, min
 * interval, backoff); tracker id kept.  extra: --tracker URLs, a last tier.
 */
struct session_tracker;

/* Can we announce to url (http://, https://, udp://host:port)? */
bool		 session_tracker_url_ok(const char *url);

struct session_tracker *session_tracker_new(struct session *,
		    struct torrent *, const struct metainfo *,
		    char *const *extra, size_t nextra);
void		 session_tracker_free(struct session_tracker *);
/* How many usable (http, https, udp) URLs it has. */
size_t		 session_tracker_count(const struct session_tracker *);
/* Seeders and leechers from the last announce reply (-1: unknown). */
void		 session_tracker_swarm(const struct session_tracker *,
		    int64_t *seeders, int64_t *leechers);
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
