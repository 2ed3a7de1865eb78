/* announcer.h - one torrent's announces: `announce` decides, this sends */
#ifndef GT_ANNOUNCER_H
#define GT_ANNOUNCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "tracker.h"

#define ANNOUNCER_TIMEOUT_MS	15000	/* one HTTP announce */
#define ANNOUNCER_UDP_TRIES	2	/* a UDP announce: 15 s, then 30 s */
#define ANNOUNCER_NUMWANT	80

struct announcer;
struct reactor;
struct tracker_client;

/* What the announcer asks of and tells the torrent. */
struct announcer_hooks {
	/* Fills uploaded, downloaded and left for an announce. */
	void		(*figures)(void *arg, struct tracker_req *);
	/* Peers from a reply. */
	void		(*peers)(void *arg, const struct netaddr *, size_t n);
	/*
	 * An announce to url ended: rep (before peers), or NULL and why (a
	 * failure reason, or what went wrong).  NULL: not told.
	 */
	void		(*result)(void *arg, const char *url,
			    enum tracker_event, const struct tracker_reply *rep,
			    const char *why);
	void		*arg;
};

/* Who we are to the trackers. */
struct announcer_id {
	uint8_t		 info_hash[SHA1_LEN];
	uint8_t		 peer_id[20];
	uint16_t	 port;		/* where we listen; 0 if not */
	uint32_t	 key;		/* the announce "key" */
	const char	*user_agent;
};

/*
 * A torrent's announces over HTTP(S) (BEP 3/23/7) and UDP (BEP 15), on the
 * schedule of `announce` (BEP 12 tiers, interval, min interval, backoff);
 * the tracker id is kept.  One announce is under way at a time.
 */
struct announcer *announcer_new(struct reactor *, struct tracker_client *,
		    const struct announcer_id *,
		    const struct announcer_hooks *);
void		 announcer_free(struct announcer *);
/* Adds url to tier (unusable kinds are skipped, logged at debug level). */
void		 announcer_add(struct announcer *, unsigned tier,
		    const char *url);
/* How many usable URLs it has. */
size_t		 announcer_count(const struct announcer *);
/* Seeders and leechers from the last announce reply (-1: unknown). */
void		 announcer_swarm(const struct announcer *, int64_t *seeders,
		    int64_t *leechers);
void		 announcer_start(struct announcer *);
/* We finished downloading: "completed" goes out now. */
void		 announcer_completed(struct announcer *);
/* We lack peers: announce soon (as min interval allows). */
void		 announcer_need_peers(struct announcer *);
/*
 * Leave: sends what is pending ("completed"), then "stopped", all within
 * timeout_ms; then done(arg) runs from the loop.
 */
void		 announcer_stop(struct announcer *, uint32_t timeout_ms,
		    void (*done)(void *), void *arg);

#endif /* GT_ANNOUNCER_H */
