/* net.h - listener, outbound connects, one non-blocking socket per peer */
#ifndef GT_NET_H
#define GT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "util.h"
#include "wire.h"

#define NET_CONNECT_MS		5000	/* outbound TCP connect, at most */
#define NET_RBUF_SIZE		(2 * WIRE_MAX_FRAME)	/* receive buffer of a
					   fast connection (and the net's) */
#define NET_RBUF_FAST		(64u << 10)	/* a read this big: fast */
#define NET_RBUF_IDLE_MS	2000	/* a fast connection's buffer is kept
					   this long after its last big read */
#define NET_RBUF_MIN		256	/* a partial frame's buffer, at least */
#define NET_READ_BUDGET		(1u << 20)	/* bytes per read callback */
#define NET_WRITE_BUDGET	(4u << 20)	/* bytes per write callback */
#define NET_LISTEN_TRIES	10	/* ports tried from -p upwards */
#define NET_ACCEPT_BATCH	64	/* accepts per listener callback */
#define NET_BACKLOG		1024	/* the listener's queue */
#define NET_MAX_INBOUND_WAIT	64	/* inbound connections before their
					   handshake, at most */
#define NET_HANDSHAKE_MS	10000	/* inbound: handshake within this,
					   counted from the accept */
#define NET_PAUSE_MS		250	/* accepts paused when out of fds */
#define NET_CLOSE_DISCARD	16	/* 16 KiB reads of unread input
					   dropped at a close, at most */

struct conn;
struct net;
struct net_limit;
struct peer;
struct reactor;

/*
 * What the owner of a connection (a torrent) hears; ctx is the owner's
 * per-connection state given to net_attach.  Each may call net_close on
 * this or any other connection.
 */
struct conn_hooks {
	/* The remote handshake: GT_OK to go on, else an error and *why. */
	enum gt_err	(*handshake)(void *ctx, const struct wire_handshake *,
			    const char **why);
	/*
	 * A batch of input was decoded.  Blocks the peer handed out point
	 * into the receive buffer: the owner writes them and unpins (see
	 * net_pin) before it returns; the buffer is read into again next.
	 */
	void		(*after_input)(void *ctx);
	/* Everything queued went out: the owner may queue more now. */
	void		(*writable)(void *ctx);
	/*
	 * The payload of a block the peer queued by reference (a span, see
	 * peer_out): writes at most len bytes of block r from its byte off
	 * on to fd, the connection's non-blocking socket (storage_send).
	 * GT_OK: *sent bytes (> 0) went; GT_EAGAIN: the socket is full;
	 * else the connection is closed (errno says why).  May be NULL for
	 * an owner that never queues spans.  The bytes go to the socket
	 * as they are: a transport that transforms them (encryption) must
	 * queue blocks by copy instead.
	 */
	enum gt_err	(*payload)(void *ctx, int fd, const struct block_req *r,
			    uint32_t off, size_t len, size_t *sent);
	/* The connection is closed; ctx is not used by net afterwards. */
	void		(*closed)(void *ctx);
};

/* What the net hears of connections nobody owns yet. */
struct net_hooks {
	/*
	 * An inbound connection's handshake: the owner of info_hash attaches
	 * it (net_attach) and returns GT_OK, or returns an error and *why.
	 */
	enum gt_err	(*accept)(void *arg, struct conn *,
			    const struct wire_handshake *, const char **why);
	void		*arg;
};

struct net_opts {
	uint32_t	max_conns;	/* all connections, at most */
	/* Every connection's bytes, bytes/s (0: no limit); see net_limit */
	uint64_t	max_down_rate;
	uint64_t	max_up_rate;
	/*
	 * The local address of the listener and of every outbound
	 * connection (family 0: any).  Peers of the other family are not
	 * dialled (net_connect says NULL, with a debug line).
	 */
	struct netaddr	bind;
};

struct net	*net_new(struct reactor *, const struct net_opts *,
		    const struct net_hooks *);
/* Closes every connection (their memory goes back from the loop). */
void		 net_free(struct net *);
/*
 * Listens on [::]:port (dual-stack), else 0.0.0.0:port (on net_opts' bind
 * address alone when it is set), or the next free port of tries (1: port
 * or nothing); *bound is the port.  Port 0 takes any.  err (GT_ERRLEN
 * bytes) says why it failed, in one line.
 */
enum gt_err	 net_listen(struct net *, uint16_t port, unsigned tries,
		    uint16_t *bound, char *err);
/*
 * An outbound connection; NULL (errno says why) if no socket could be made
 * or the connect failed at once.
 */
struct conn	*net_connect(struct net *, const struct netaddr *);
size_t		 net_nconns(const struct net *);

/*
 * The owner takes c: peer (owned by c from now, freed with it) runs the
 * protocol, hooks tell the owner what happens.  Our handshake must be in
 * peer_out(peer) already.
 */
void		 net_attach(struct conn *, struct peer *,
		    const struct conn_hooks *, void *ctx);
/*
 * Ends the connection: hooks.closed now, memory later from the loop.
 * Nothing more is written.
 */
void		 net_close(struct conn *, const char *fmt, ...)
		    GT_PRINTF(2, 3);
/* Writes what the peer queued, from the loop once the callback is over. */
void		 net_flush_soon(struct conn *);
/* Bytes queued and not yet written (the spans' payloads too). */
size_t		 net_out_pending(const struct conn *);
/*
 * Those, and the bytes written that the peer has not acknowledged yet (the
 * kernel's send queue): what a close could still lose, since a close with
 * input unread resets the connection and drops the send queue.
 */
size_t		 net_out_unacked(const struct conn *);
/*
 * Bytes of receive buffer c holds between reads: 0 with nothing unread,
 * a partial frame's size, or NET_RBUF_SIZE while c is fast.
 */
size_t		 net_conn_rbuf(const struct conn *);
/*
 * The owner keeps pointers into c's receive buffer (blocks it writes
 * later): the buffer must not move until the matching net_unpin.  net
 * asserts that nothing is pinned whenever it reads into, compacts or
 * frees the buffer.
 */
void		 net_pin(struct conn *);
void		 net_unpin(struct conn *);

/*
 * Rate limits: a token bucket per direction (ratelimit.h) that counts
 * every byte read from or written to a connection's socket, handshakes
 * and message headers included (not TCP/IP's own headers).  Each
 * connection is charged to the net's own limits (net_opts) and to at most
 * one more set (a torrent's, net_conn_limit); a byte goes only when all
 * of them allow it.  A connection out of tokens stops reading (writing)
 * and waits in its limit's queue; when a quarter of the bucket is back,
 * the waiting connections get equal shares in turn.  Rates are bytes/s,
 * 0 for none.
 */
struct net_limit *net_limit_new(struct net *, uint64_t down, uint64_t up);
/* Its connections go on without it (memory goes back from the loop). */
void		 net_limit_free(struct net_limit *);
void		 net_limit_set(struct net_limit *, uint64_t down, uint64_t up);
/* Bytes read and written by the connections charged to it so far. */
void		 net_limit_bytes(const struct net_limit *, uint64_t *down,
		    uint64_t *up);
/* The net's own limits (net_opts), for net_limit_set and _bytes. */
struct net_limit *net_global_limit(struct net *);
/* c is also charged to l (set once, e.g. when its owner attaches it). */
void		 net_conn_limit(struct conn *, struct net_limit *);

const struct netaddr *net_conn_addr(const struct conn *);
const char	*net_conn_name(const struct conn *);	/* "addr:port" */
bool		 net_conn_outbound(const struct conn *);
/* Why its connect failed (an errno, ETIMEDOUT too), or 0. */
int		 net_conn_connect_error(const struct conn *);
/* Why it was closed (net_close's text), within hooks.closed; else "". */
const char	*net_conn_why(const struct conn *);

#endif /* GT_NET_H */
