/* net.h - listener, outbound connects, one non-blocking socket per peer */
#ifndef GT_NET_H
#define GT_NET_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "picker.h"
#include "util.h"
#include "wire.h"

#define NET_CONNECT_MS		5000	/* outbound TCP connect, at most */
#define NET_RBUF_SIZE		(2 * WIRE_MAX_FRAME)	/* receive buffer */
#define NET_READ_BUDGET		(1u << 20)	/* bytes per read callback */
#define NET_LISTEN_TRIES	10	/* ports tried from -p upwards */
#define NET_ACCEPT_BATCH	16	/* accepts per listener callback */

struct event;
struct net;
struct peer;
struct reactor_timer;
struct session;
struct torrent;

enum conn_state {
	CONN_CONNECTING,	/* outbound TCP connect under way */
	CONN_HANDSHAKE,		/* waiting for the remote handshake */
	CONN_ACTIVE,		/* handshakes exchanged: the peer runs */
};

/*
 * One peer connection.  net.c owns the socket half, torrent.c the rest;
 * both are here because torrent.c walks its connections on every block.
 * Freed only from the loop, after net_close().
 */
struct conn {
	/* net.c */
	struct net		*net;
	int			 fd;
	struct event		*rev;		/* persistent EV_READ */
	struct event		*wev;		/* EV_WRITE, output waiting */
	struct reactor_timer	*timer;		/* armed to the next deadline */
	uint64_t		 armed;		/* when it fires; 0 = idle */
	enum conn_state		 state;
	bool			 outbound;
	bool			 dead;		/* closed; freed by the loop */
	bool			 dirty;		/* on the flush list */
	uint64_t		 created;	/* ms */
	uint8_t			*rbuf;		/* NET_RBUF_SIZE bytes */
	size_t			 roff, rlen;	/* unread bytes: [roff, rlen) */
	size_t			 out_off;	/* bytes of peer_out() sent */
	struct netaddr		 addr;
	char			 name[ADDR_STRLEN];
	TAILQ_ENTRY(conn)	 entry;		/* net's live list */
	TAILQ_ENTRY(conn)	 dirty_entry;	/* net's flush list */

	/* torrent.c */
	struct torrent		*t;		/* NULL until attached */
	struct peer		*peer;		/* NULL until attached */
	TAILQ_ENTRY(conn)	 tentry;	/* torrent's list */
	uint32_t		 cand;		/* candidate, or UINT32_MAX */
	uint64_t		 active_ms;	/* handshakes done at */
	bool			 optimistic;	/* holds the optimistic slot */
	struct block_req	*serve;		/* ring of requests to answer */
	size_t			 serve_head, serve_len;
};
TAILQ_HEAD(conn_list, conn);

struct net	*net_new(struct session *);
/* Closes every connection (their memory goes back from the loop). */
void		 net_free(struct net *);
/*
 * Listens on 0.0.0.0:port, or the next free port of NET_LISTEN_TRIES;
 * *bound is the port.  Port 0 takes any.
 */
enum gt_err	 net_listen(struct net *, uint16_t port, uint16_t *bound);
/* Outbound connection for t; the caller attaches the peer. */
struct conn	*net_connect(struct net *, struct torrent *,
		    const struct netaddr *);
size_t		 net_nconns(const struct net *);

/* Ends the connection: torrent_detach now, memory later from the loop. */
void		 net_close(struct conn *, const char *fmt, ...)
		    GT_PRINTF(2, 3);
/* Writes what the peer queued; may close the connection. */
void		 net_flush(struct conn *);
/* Same, from the loop once the current callback is over. */
void		 net_flush_soon(struct conn *);
/* Bytes queued and not yet written. */
size_t		 net_out_pending(struct conn *);
/* The peer's deadline may have moved earlier: re-arm the timer. */
void		 net_rearm(struct conn *);

#endif /* GT_NET_H */
