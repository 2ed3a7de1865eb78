/* tracker-udp.h - BEP 15 UDP tracker protocol: packets and exchanges */
#ifndef GT_TRACKER_UDP_H
#define GT_TRACKER_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tracker.h"	/* struct tracker_req, _reply, _scrape */

#define TRACKER_UDP_PROTOCOL_ID	0x41727101980ULL
#define TRACKER_UDP_CONN_TTL_MS	60000	/* a connection id's lifetime */
#define TRACKER_UDP_RETRY_MS	15000	/* wait 15 * 2^n s for attempt n */
#define TRACKER_UDP_MAX_TRIES	9	/* n = 0..8, BEP 15's limit */
#define TRACKER_UDP_MAX_PACKET	65536	/* largest datagram accepted */
#define TRACKER_UDP_MAX_OUT	1536	/* largest datagram we send (a
					   scrape of 74 hashes is 1496) */
#define TRACKER_UDP_MAX_URLDATA	255	/* BEP 41 option payload */
#define TRACKER_UDP_MAX_PENDING	256	/* exchanges under way */

/*
 * One UDP tracker (one address): its connection id and the exchanges
 * (announces, scrapes) under way.  Pure: fed datagrams and a clock (ms),
 * it queues datagrams to send and results to collect.  The caller routes
 * to it only datagrams whose source is the tracker's address.
 */
struct tracker_udp;

enum tracker_udp_kind {
	TRACKER_UDP_ANNOUNCE,
	TRACKER_UDP_SCRAPE,
};

struct tracker_udp_result {
	uint32_t		 id;	/* from tracker_udp_announce/_scrape */
	enum tracker_udp_kind	 kind;
	/*
	 * GT_OK: the reply is in announce or scrape.  Otherwise: GT_ECANCELED
	 * (no answer after every try), GT_EPROTO (the tracker's error
	 * message, or why its reply was refused, is in err).
	 */
	enum gt_err		 e;
	char			 err[TRACKER_ERRLEN];
	struct tracker_reply	 announce;	/* kind ANNOUNCE, e GT_OK */
	struct tracker_scrape	 scrape;	/* kind SCRAPE, e GT_OK */
};

/*
 * v6: the tracker is reached over IPv6, so announce replies carry 18-byte
 * peers.  seed makes transaction ids (and nothing else) random.
 */
struct tracker_udp *tracker_udp_new(bool v6, uint64_t seed);
void		 tracker_udp_free(struct tracker_udp *);

/*
 * Starts an announce; urldata is the URL's path and query for BEP 41 (NULL
 * or "" for none), sent as options of at most TRACKER_UDP_MAX_URLDATA
 * bytes each; what does not fit in TRACKER_UDP_MAX_OUT is cut.  tries
 * (1..TRACKER_UDP_MAX_TRIES) bounds the attempts: attempt n waits
 * TRACKER_UDP_RETRY_MS << n.  Returns the exchange's id (never 0).
 */
uint32_t	 tracker_udp_announce(struct tracker_udp *,
		    const struct tracker_req *, const char *urldata,
		    unsigned tries, uint64_t now);
/* Starts a scrape of n (1..TRACKER_MAX_SCRAPE) info-hashes. */
uint32_t	 tracker_udp_scrape(struct tracker_udp *,
		    const uint8_t (*hashes)[SHA1_LEN], size_t n, unsigned tries,
		    uint64_t now);
/* Forgets an exchange; no result comes for it. */
void		 tracker_udp_cancel(struct tracker_udp *, uint32_t id);

/*
 * A datagram from the tracker.  GT_EPROTO for one that matches no exchange
 * (wrong transaction id, short, unknown action): it is ignored and the
 * exchanges go on.  A malformed reply to an exchange ends that exchange.
 */
enum gt_err	 tracker_udp_on_datagram(struct tracker_udp *,
		    const uint8_t *, size_t, uint64_t now);
/* When tracker_udp_tick is due; UINT64_MAX if nothing is pending. */
uint64_t	 tracker_udp_deadline(const struct tracker_udp *);
/* Retransmits, or ends exchanges that used all their tries. */
void		 tracker_udp_tick(struct tracker_udp *, uint64_t now);

/* Takes the next datagram to send into out; 0 when there is none. */
size_t		 tracker_udp_next_datagram(struct tracker_udp *, uint8_t *out,
		    size_t cap);
/* Takes the next result (the caller clears it); false when none. */
bool		 tracker_udp_next_result(struct tracker_udp *,
		    struct tracker_udp_result *);
void		 tracker_udp_result_clear(struct tracker_udp_result *);

#endif /* GT_TRACKER_UDP_H */
