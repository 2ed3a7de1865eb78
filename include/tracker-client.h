/* tracker-client.h - tracker requests over HTTP(S) and UDP, one interface */
#ifndef GT_TRACKER_CLIENT_H
#define GT_TRACKER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "tracker.h"

#define TRACKER_CLIENT_REDIRECTS	3	/* HTTP redirects followed */

struct reactor;
struct tracker_call;
struct tracker_client;
struct udp;

/*
 * Done: e is GT_OK with the reply (which may carry a failure reason), or
 * an error and a one-line why.  The reply is the callee's: it may take the
 * strings it wants and must not free it.  The call is freed after the
 * callback returns.
 */
typedef void	tracker_announce_fn(void *arg, enum gt_err,
		    struct tracker_reply *, const char *why);
typedef void	tracker_scrape_fn(void *arg, enum gt_err,
		    struct tracker_scrape *, const char *why);

struct tracker_call_opts {
	uint32_t	timeout_ms;	/* an HTTP request, whole */
	unsigned	udp_tries;	/* UDP: attempt n waits 15 * 2^n s */
	const char	*user_agent;
};

/* HTTP(S) and UDP on r, each made on first use. */
struct tracker_client *tracker_client_new(struct reactor *);
void		 tracker_client_free(struct tracker_client *);
/*
 * UDP trackers go through u (borrowed: it outlives tc), the socket the
 * DHT shares, instead of one of tc's own; before any call.
 */
void		 tracker_client_use_udp(struct tracker_client *, struct udp *);
/*
 * Every request from a's address (its port ignored; family 0: any): the
 * HTTP ones, and those on tc's own UDP socket; before any call.
 */
void		 tracker_client_bind(struct tracker_client *,
		    const struct netaddr *);

/* Can we talk to this tracker (http://, https://, udp://host:port)? */
bool		 tracker_client_url_ok(const char *url);
/*
 * An announce or a scrape of n (1..TRACKER_MAX_SCRAPE) info-hashes.  NULL,
 * and err (GT_ERRLEN bytes) saying why, when url cannot be used for it;
 * the callback is not called then.
 */
struct tracker_call *tracker_client_announce(struct tracker_client *,
		    const char *url, const struct tracker_req *,
		    const struct tracker_call_opts *, tracker_announce_fn *,
		    void *arg, char *err);
struct tracker_call *tracker_client_scrape(struct tracker_client *,
		    const char *url, const uint8_t (*hashes)[SHA1_LEN],
		    size_t n, const struct tracker_call_opts *,
		    tracker_scrape_fn *, void *arg, char *err);
/* The callback is not called for a cancelled call; NULL is fine. */
void		 tracker_call_cancel(struct tracker_call *);

#endif /* GT_TRACKER_CLIENT_H */
