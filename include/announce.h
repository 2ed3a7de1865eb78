/* announce.h - BEP 12 tiers and announce timing: when to ask whom */
#ifndef GT_ANNOUNCE_H
#define GT_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"	/* enum tracker_event, interval clamps */

#define ANNOUNCE_MAX_URLS	256	/* trackers kept per torrent */
#define ANNOUNCE_BACKOFF_MIN_MS	15000	/* after every tracker failed */
#define ANNOUNCE_BACKOFF_MAX_MS	(30u * 60 * 1000)
#define ANNOUNCE_NEED_PEERS_MS	15000	/* soonest re-ask when peerless */

/*
 * The trackers of one torrent, in tiers, and the announce schedule.  Pure:
 * it never does I/O; the caller asks announce_next() what to send, sends
 * it, and reports the outcome.  One announce is under way at a time.
 *
 * BEP 12: each tier is shuffled once (announce_new's seed); trackers are
 * tried in order within a tier, then the next tier; a tracker that answers
 * moves to the front of its tier and the search starts over from the first
 * tier at the next announce.  When every tracker failed, the next round
 * waits a backoff that doubles from ANNOUNCE_BACKOFF_MIN_MS up to
 * ANNOUNCE_BACKOFF_MAX_MS; a success resets it.
 */
struct announce;

struct announce	*announce_new(uint64_t seed);
void		 announce_free(struct announce *);
/*
 * Adds url to tier (tiers need not be dense; a tier number past every
 * other starts a new last tier).  Duplicates of a URL already added are
 * ignored, and so is anything past ANNOUNCE_MAX_URLS.  Call before
 * announce_start.
 */
void		 announce_add(struct announce *, unsigned tier, const char *url);
size_t		 announce_count(const struct announce *);

/* Shuffles the tiers; the first announce ("started") is due now. */
void		 announce_start(struct announce *, uint64_t now);
/* The download completed: "completed" is sent once, at once. */
void		 announce_completed(struct announce *, uint64_t now);
/*
 * We have too few peers: announce soon, no sooner than min interval and
 * ANNOUNCE_NEED_PEERS_MS after the last announce.
 */
void		 announce_need_peers(struct announce *, uint64_t now);
/*
 * Leaving: the next announces are a pending "completed" (if any) and then
 * "stopped", due now, to the tracker that last answered (or, if none has
 * yet, the one last asked); false if no announce was ever sent (nothing
 * to do).  Each gets one try; after "stopped" the schedule is over
 * (announce_deadline is UINT64_MAX, announce_next false).
 */
bool		 announce_stop(struct announce *, uint64_t now);

/*
 * After a stop sequence (a pause), or at any time: the schedule starts
 * over as announce_start left it, "started" due now; a "completed" still
 * pending follows it, one already sent is never sent again (the tier
 * order and the tracker that last answered stay).  Before
 * announce_start: announce_start.  An announce under way is abandoned.
 */
void		 announce_restart(struct announce *, uint64_t now);

/* When the next announce is due; UINT64_MAX while one is under way or
   nothing is left to do. */
uint64_t	 announce_deadline(const struct announce *);
/*
 * If an announce is due at now: which tracker and event, and it is now
 * under way (until announce_on_reply/_on_error).  The URL is borrowed
 * and lives as long as the announce object.
 */
bool		 announce_next(struct announce *, uint64_t now,
		    const char **url, enum tracker_event *);
/*
 * The tracker answered: the event is delivered, the tracker moves to the
 * front of its tier, backoff resets, and the next regular announce is due
 * after interval (clamped to TRACKER_MIN/MAX_INTERVAL) and not before
 * min_interval (0 = none).
 */
void		 announce_on_reply(struct announce *, uint32_t interval,
		    uint32_t min_interval, uint64_t now);
/* The tracker failed (no answer, or an error): try the next one. */
void		 announce_on_error(struct announce *, uint64_t now);

/* The tracker that last answered, or NULL. */
const char	*announce_current(const struct announce *);
/* Every URL in announce order (tier by tier), for scrapes and -v. */
const char	*announce_url(const struct announce *, size_t i);
unsigned	 announce_tier(const struct announce *, size_t i);

#endif /* GT_ANNOUNCE_H */
