/* tracker.h - what every kind of tracker is asked and answers */
#ifndef GT_TRACKER_H
#define GT_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "crypto.h"

#define TRACKER_MAX_REPLY	(2u << 20)	/* bytes of an HTTP reply */
#define TRACKER_MAX_PEERS	2000		/* peers kept from one reply */
#define TRACKER_MAX_MSG		1024		/* bytes of failure/warning */
#define TRACKER_MIN_INTERVAL	30		/* seconds; clamps */
#define TRACKER_MAX_INTERVAL	(4 * 3600)
#define TRACKER_ERRLEN		256
#define TRACKER_MAX_SCRAPE	74		/* info-hashes in one scrape */

enum tracker_event {
	TRACKER_EVENT_NONE,
	TRACKER_EVENT_STARTED,
	TRACKER_EVENT_COMPLETED,
	TRACKER_EVENT_STOPPED,
};

struct tracker_req {
	uint8_t			 info_hash[SHA1_LEN];
	uint8_t			 peer_id[20];
	uint16_t		 port;
	uint64_t		 uploaded;
	uint64_t		 downloaded;
	uint64_t		 left;
	uint32_t		 numwant;
	uint32_t		 key;
	enum tracker_event	 event;
	const char		*tracker_id;	/* from an earlier reply, or
						   NULL */
};

struct tracker_reply {
	char		*failure;	/* "failure reason": then nothing
					   else is set */
	char		*warning;	/* "warning message" */
	uint32_t	 interval;	/* seconds, clamped */
	uint32_t	 min_interval;	/* 0 when absent */
	char		*tracker_id;
	int64_t		 complete;	/* seeders, or -1 */
	int64_t		 incomplete;	/* leechers, or -1 */
	struct netaddr	*peers;		/* v4 and v6, without duplicates */
	size_t		 npeers;
};

/* What a tracker says of one torrent in a scrape; -1 where it is silent. */
struct tracker_scrape_entry {
	uint8_t		info_hash[SHA1_LEN];
	int64_t		complete;	/* seeders */
	int64_t		downloaded;	/* "downloaded": completed downloads */
	int64_t		incomplete;	/* leechers */
};

struct tracker_scrape {
	char				*failure;	/* or NULL */
	struct tracker_scrape_entry	*v;	/* the hashes asked about
						   that the reply names */
	size_t				 n;
};

/*
 * The peers of a reply as a parser finds them: dialable ones only
 * (addr_is_dialable), each once, at most TRACKER_MAX_PEERS.
 */
struct tracker_peers {
	struct tracker_reply	*r;
	uint16_t		*slots;	/* hash of r->peers, index + 1 */
};

/* Allocates r->peers for up to max (capped) peers. */
void		 tracker_peers_init(struct tracker_peers *,
		    struct tracker_reply *, size_t max);
/* Keeps a unless it is a duplicate or undialable; false once full. */
bool		 tracker_peers_add(struct tracker_peers *,
		    const struct netaddr *);
void		 tracker_peers_clear(struct tracker_peers *);
/*
 * A tracker's text (failure reason, warning, tracker id), NUL-terminated
 * and capped at TRACKER_MAX_MSG bytes, with control bytes and NULs as '?'
 * (display escapes the rest).
 */
char		*tracker_safe_text(const uint8_t *, size_t);

/* "started", "completed", "stopped", or "announce" for none. */
const char	*tracker_event_name(enum tracker_event);
void		 tracker_reply_clear(struct tracker_reply *);
void		 tracker_scrape_clear(struct tracker_scrape *);
/* A tracker's interval in seconds, clamped to TRACKER_MIN/MAX_INTERVAL. */
uint32_t	 tracker_clamp_interval(int64_t seconds);

#endif /* GT_TRACKER_H */
