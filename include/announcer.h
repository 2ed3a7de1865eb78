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
/*
 * Replies with a "failure reason" since the last success (0: none), and
 * the last reason (borrowed).
 */
unsigned	 announcer_refusals(const struct announcer *,
		    const char **reason);
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

/* ---- for the user: each tracker's last outcome, pausing ---- */

#define ANNOUNCER_RESULT_LEN	160	/* announcer_tracker.result */

enum announcer_status {
	ANNOUNCER_IDLE,		/* not asked yet */
	ANNOUNCER_BUSY,		/* an announce under way */
	ANNOUNCER_OK,		/* the last one was answered */
	ANNOUNCER_FAILED,	/* ... failed (no answer, an error, a
				   failure reason) */
};

struct announcer_tracker {
	const char		*url;		/* lives as the announcer */
	unsigned		 tier;
	enum announcer_status	 status;
	const char		*result;	/* "12 peers", why it failed, or
						   ""; lives until the next
						   event of the loop */
	int64_t			 seeders;	/* its last figures, or -1 */
	int64_t			 leechers;
	uint64_t		 next_ms;	/* the next announce round
						   (monotonic ms), the same for
						   every tracker: it starts at
						   the first tier (BEP 12); 0:
						   none planned, or one under
						   way */
};

/* The usable trackers in the order added, up to max; how many there are. */
size_t		 announcer_trackers(const struct announcer *,
		    struct announcer_tracker *, size_t max);
/*
 * Paused: an announce under way is dropped, "stopped" goes out (once, if
 * anything was ever sent), then nothing.  Resumed: "started" at once and
 * the schedule again.  No-op after announcer_stop.
 */
void		 announcer_pause(struct announcer *, bool paused);

#endif /* GT_ANNOUNCER_H */
