/* udp.h - the one UDP socket on the reactor, and UDP tracker exchanges */
#ifndef GT_UDP_H
#define GT_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "tracker-udp.h"

#define UDP_MAX_TRACKERS	256	/* tracker addresses remembered */
#define UDP_MAX_HOST		255	/* bytes of a tracker's host name */

struct reactor;
struct udp;
struct udp_req;

/*
 * Done: res->e and res->err say how it went (besides tracker_udp's
 * outcomes: GT_ENOENT when the name does not resolve, GT_EIO when the
 * tracker's port is unreachable).  res is borrowed for the call; the
 * request is freed after the callback returns.
 */
typedef void	udp_done_fn(void *arg, struct tracker_udp_result *res);

/*
 * One socket (dual-stack where the machine has IPv6) bound to an ephemeral
 * port, opened on first use.  Datagrams are routed to a tracker by their
 * source address; a tracker's connection id is reused across torrents.
 */
struct udp	*udp_new(struct reactor *, uint64_t seed);
void		 udp_free(struct udp *);	/* cancels what is running */

/* Is url a udp:// tracker URL we can use ("udp://host:port[/path]")? */
bool		 udp_url_ok(const char *url);
/*
 * An announce or scrape to the tracker of url; tries as in tracker-udp.h.
 * NULL (and no callback) when url is unusable.
 */
struct udp_req	*udp_announce(struct udp *, const char *url,
		    const struct tracker_req *, unsigned tries, udp_done_fn *,
		    void *arg);
struct udp_req	*udp_scrape(struct udp *, const char *url,
		    const uint8_t (*hashes)[SHA1_LEN], size_t n, unsigned tries,
		    udp_done_fn *, void *arg);
/* The callback is not called for a cancelled request. */
void		 udp_cancel(struct udp_req *);

#endif /* GT_UDP_H */
