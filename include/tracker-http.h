/* tracker-http.h - HTTP announce URL and reply parsing (BEP 3, 7, 23, 48) */
#ifndef GT_TRACKER_HTTP_H
#define GT_TRACKER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "crypto.h"
#include "err.h"

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
	const char		*tracker_id;	/* from an earlier reply, or NULL */
};

struct tracker_reply {
	char		*failure;	/* "failure reason": nothing else is set */
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

/* The announce URL for req; keeps the tracker's own query (passkeys). */
char		*tracker_http_announce_url(const char *announce,
		    const struct tracker_req *);
/*
 * Parses a bencoded reply body (compact and dictionary peer lists, peers6).
 * A compact list's partial last entry is ignored (BEP 23 readers do);
 * peers no one can be at (addr_is_dialable) and duplicates are dropped.
 * Strings are kept with control characters replaced; a malformed body is
 * GT_EPROTO with err (TRACKER_ERRLEN bytes) saying why.
 */
enum gt_err	 tracker_http_parse(const uint8_t *body, size_t len,
		    struct tracker_reply *, char *err);
void		 tracker_reply_clear(struct tracker_reply *);
/* A tracker's interval in seconds, clamped to TRACKER_MIN/MAX_INTERVAL. */
uint32_t	 tracker_clamp_interval(int64_t seconds);

/*
 * The scrape URL for n (1..TRACKER_MAX_SCRAPE) info-hashes, by BEP 48's rule:
 * the last path segment must start with "announce", which becomes "scrape";
 * the tracker's own query is kept.  NULL when the announce URL has no
 * scrape form.
 */
char		*tracker_http_scrape_url(const char *announce,
		    const uint8_t (*hashes)[SHA1_LEN], size_t n);
/*
 * Parses a scrape reply body: the "files" dictionary, keeping only the n
 * hashes asked about (others, and duplicates, are ignored), or a "failure
 * reason".  Malformed: GT_EPROTO with err (TRACKER_ERRLEN bytes).
 */
enum gt_err	 tracker_http_parse_scrape(const uint8_t *body, size_t len,
		    const uint8_t (*hashes)[SHA1_LEN], size_t n,
		    struct tracker_scrape *, char *err);
void		 tracker_scrape_clear(struct tracker_scrape *);

#endif /* GT_TRACKER_HTTP_H */
