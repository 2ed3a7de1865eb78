/* udp.h - the one UDP socket on the reactor, and UDP tracker exchanges */
#ifndef GT_UDP_H
#define GT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
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
 * The DHT's side of the socket: KRPC datagrams are those whose first byte
 * is 'd' (a BEP 15 reply starts with a 0), whatever their source.
 */
struct udp_krpc_hooks {
	/* One datagram; pkt is borrowed for the call. */
	void	(*datagram)(void *arg, const uint8_t *pkt, size_t len,
		    const struct netaddr *from);
	/* ICMP said a (any address we sent to) is unreachable; may be NULL. */
	void	(*unreachable)(void *arg, const struct netaddr *a);
	/* After a batch of the above (re-arm timers); may be NULL. */
	void	(*after_input)(void *arg);
	void	*arg;
};

/*
 * One socket (dual-stack where the machine has IPv6), opened on first use
 * on an ephemeral port, or by udp_bind.  Datagrams are routed to the KRPC
 * hooks by their first byte, else to a tracker by their source address; a
 * tracker's connection id is reused across torrents.  At most 64
 * datagrams are read per wakeup.
 */
struct udp	*udp_new(struct reactor *, uint64_t seed);
void		 udp_free(struct udp *);	/* cancels what is running */
/*
 * Opens the socket now on port (0: any).  GT_EIO (err, GT_ERRLEN bytes,
 * says why) when the port cannot be had; GT_EEXIST when the socket is
 * open already on another port.
 */
enum gt_err	 udp_bind(struct udp *, uint16_t port, char *err);
/*
 * The socket, once opened, is bound to a's address (its port ignored) and
 * reaches that family only: call before the first use.
 */
void		 udp_set_bind(struct udp *, const struct netaddr *);
uint16_t	 udp_port(const struct udp *);	/* 0: not open */
/* Can the socket reach IPv6 addresses (false until open)? */
bool		 udp_dual_stack(const struct udp *);
/* hooks is copied; NULL: KRPC datagrams go the trackers' way (dropped). */
void		 udp_set_krpc(struct udp *, const struct udp_krpc_hooks *);
/*
 * One datagram to to (IPv4 mapped on a dual-stack socket), opening the
 * socket if need be; dropped when it cannot go (UDP is lossy).
 */
void		 udp_send(struct udp *, const struct netaddr *to,
		    const uint8_t *buf, size_t len);

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
