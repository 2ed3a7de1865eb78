/* net.c - listener, outbound connects, one non-blocking socket per peer */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <linux/sockios.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "ratelimit.h"
#include "reactor.h"
#include "sockaddr.h"
#include "util.h"

/*
 * Speed first: no bufferevents.  Each connection owns its non-blocking
 * socket with one persistent EV_READ event and an EV_WRITE event added only
 * while output waits.  Reads are large, into a receive buffer of two
 * maximal frames that is compacted only when less than a frame of room is
 * left; frames are decoded in place and a PIECE's block goes to the owner
 * straight from that buffer.  The owner pins the buffer while it keeps
 * such pointers and writes them in hooks.after_input, which runs before
 * the buffer is read into or compacted again (asserted).
 *
 * Receive buffers cost what the connection uses (a thousand idle peers
 * would otherwise hold 512 KiB each, touched as reads wander through
 * them).  A connection with nothing unread has no buffer: it reads into
 * the net's one (reads are never nested), and what is left at the end of
 * the pass, a partial frame, moves to a buffer of its own just big enough
 * for that frame, which it reads into until the frame is whole and then
 * frees.  A connection that is fast (a read of NET_RBUF_FAST bytes or
 * more) keeps a buffer of its own of the full size, as above, until
 * NET_RBUF_IDLE_MS after its last big read (its timer), so a fast
 * transfer reads exactly as before.
 *
 * Output is written straight from the peer's queue, and a block's payload
 * queued there by reference (a span, peer.h) straight from the owner's
 * files to the socket through hooks.payload (sendfile: no copy through our
 * memory nor into the socket's, the PIECE header just before it with
 * MSG_MORE); when it is all out, hooks.writable lets the owner queue more
 * (serving requests), within a budget per callback, so a peer that sends
 * nothing keeps getting what it asked for.  One timer per connection is
 * armed to the next deadline, moved only when the deadline comes earlier
 * (a timer firing early just re-arms).
 *
 * Under a flood: connections over max_conns are closed at accept, at most
 * NET_MAX_INBOUND_WAIT inbound ones wait for their handshake, each at most
 * NET_HANDSHAKE_MS from its accept whatever it sends, and when the process
 * runs out of descriptors a spare one lets us accept and close at once
 * while accepting pauses for NET_PAUSE_MS (no busy loop on EMFILE).
 *
 * Rate limits (net_limit): a read or a write asks each bucket the
 * connection is charged to for at most the bytes it holds, and spends
 * what went.  A connection that finds a bucket empty drops its EV_READ
 * (EV_WRITE) and waits in that bucket's queue; the bucket's timer fires
 * when a quantum of tokens is back and gives each waiting connection, in
 * queue order, an equal share of what there is.  One that used its share
 * and has more goes to the back of the queue (round robin); one that
 * drained its socket (its output) goes back to its events.  Nothing runs
 * while every bucket is empty: no busy loop.
 */

enum net_dir {
	NET_DOWN,		/* reads */
	NET_UP,			/* writes */
};

/* What a read or write pass ended on. */
enum net_io {
	IO_DONE,		/* drained the socket (sent all queued) */
	IO_AGAIN,		/* socket full (writes) */
	IO_BUDGET,		/* the pass's budget ran out: maybe more */
	IO_LIMITED,		/* a bucket is empty: c waits in its queue */
	IO_DEAD,		/* c closed */
};

/*
 * A connection's life: CONNECTING (outbound only), HANDSHAKE until the
 * remote handshake arrived and its owner took it, then ACTIVE.  Closed
 * connections are freed from the loop, never inside a callback.
 */
enum conn_state {
	CONN_CONNECTING,	/* outbound TCP connect under way */
	CONN_HANDSHAKE,		/* waiting for the remote handshake */
	CONN_ACTIVE,		/* handshakes exchanged: the peer runs */
};

struct conn {
	struct net		*net;
	int			 fd;
	struct event		*rev;		/* persistent EV_READ */
	struct event		*wev;		/* EV_WRITE, output waiting */
	struct reactor_timer	*timer;		/* armed to the next deadline */
	uint64_t		 armed;		/* when it fires; 0 = idle */
	enum conn_state		 state;
	bool			 outbound;
	int			 connect_err;	/* errno of a failed connect */
	bool			 dead;		/* closed; freed by the loop */
	bool			 dirty;		/* on the flush list */
	uint64_t		 created;	/* ms */
	uint8_t			*rbuf;		/* own, the net's, or NULL */
	size_t			 rcap;		/* its size */
	size_t			 roff, rlen;	/* unread bytes: [roff, rlen) */
	bool			 rshared;	/* rbuf is the net's (a pass) */
	uint64_t		 rfast_until;	/* ms: fast until then */
	unsigned		 pins;		/* owner's pointers into rbuf */
	size_t			 out_off;	/* bytes of peer_out() sent */
	size_t			 span_off;	/* ... of the oldest span's
						   payload */
	struct netaddr		 addr;
	char			 name[ADDR_STRLEN];
	struct peer		*peer;		/* NULL until attached */
	const struct conn_hooks	*hooks;		/* the owner's, or NULL */
	void			*ctx;
	TAILQ_ENTRY(conn)	 entry;		/* net's live list */
	TAILQ_ENTRY(conn)	 dirty_entry;	/* net's flush list */
	struct net_limit	*lim[2];	/* the net's, the owner's */
	uint64_t		 bytes[2];	/* read, written */
	struct net_limit	*waiting[2];	/* [dir]: in its queue */
	TAILQ_ENTRY(conn)	 wait_entry[2];
	const char		*why;		/* net_close's, during
						   hooks->closed */
};
TAILQ_HEAD(conn_list, conn);

struct net_limit {
	struct net		*net;
	struct ratelimit	 b[2];		/* [enum net_dir] */
	struct conn_list	 wait[2];	/* connections out of tokens */
	size_t			 nwait[2];
	struct reactor_timer	*timer[2];	/* a quantum is back */
	uint64_t		 bytes[2];	/* charged so far */
	bool			 dead;		/* freed from the loop */
	/*
	 * The global bucket's tokens are shared equally between the torrents
	 * (the limits set with net_conn_limit) whose connections wait for
	 * them, then between each torrent's connections: ngroups is on the
	 * global limit, inglobal and snap on the torrents'.
	 */
	uint32_t		 ngroups[2];	/* torrents waiting here */
	uint32_t		 inglobal[2];	/* its conns waiting globally */
	uint32_t		 snap[2];	/* ... when the tokens came */
};

struct net {
	struct reactor		*r;
	struct net_opts		 o;
	struct net_hooks	 hooks;
	int			 lfd;		/* listener, or -1 */
	struct event		*lev;
	struct reactor_timer	*resume;	/* accepts paused until */
	int			 spare;		/* fd kept for EMFILE, or -1 */
	uint64_t		 fds_warned;	/* ms, the last warning */
	struct event		*flush_ev;	/* runs the flush list */
	struct conn_list	 conns;		/* live connections */
	struct conn_list	 dirty;		/* output to write soon */
	size_t			 nconns;
	size_t			 nwaiting;	/* inbound, not yet owned */
	uint8_t			*rbuf;		/* shared: NET_RBUF_SIZE bytes */
	struct conn		*rbuf_user;	/* reading into it now */
	struct net_limit	*global;	/* net_opts' rates */
};

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_timer_cb(void *);
static uint64_t	rbuf_deadline(const struct conn *);
static void	conn_resume(struct conn *, enum net_dir, struct net_limit *,
		    uint64_t);

/* event_add, checked: false (and logged) if libevent refused. */
static bool
ev_on(struct event *ev, const char *what)
{
	if (event_add(ev, NULL) == 0)
		return true;
	log_error("%s: event_add failed", what);
	return false;
}

static void
sock_tune(int fd)
{
	int	one = 1;

	/* Requests are small and latency-bound; we batch writes anyway. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Binds fd to the local address a on port (0: any; an outbound socket, whose
 * port is left to the connect where the system allows it).  false, errno
 * set, when it cannot.
 */
static bool
sock_bind_local(int fd, const struct netaddr *a, uint16_t port)
{
	struct sockaddr_storage	ss;
	struct netaddr		l = *a;
	socklen_t		len;
	int			one = 1;

	l.port = port;
	len = sockaddr_from_netaddr(&l, false, &ss);
	if (port == 0)
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
	return bind(fd, (struct sockaddr *)&ss, len) == 0;
}

/* ---- rate limits --------------------------------------------------------- */

/* c joins (delta 1) or leaves (-1) the waiters of l, by its torrent. */
static void
limit_group(struct conn *c, struct net_limit *l, enum net_dir d, int delta)
{
	struct net_limit	*g = c->lim[1];

	if (l != l->net->global || g == NULL)
		return;
	if (delta > 0 && g->inglobal[d]++ == 0)
		l->ngroups[d]++;
	else if (delta < 0 && --g->inglobal[d] == 0)
		l->ngroups[d]--;
}

static void
limit_unqueue(struct conn *c, enum net_dir d)
{
	struct net_limit	*l = c->waiting[d];

	if (l == NULL)
		return;
	limit_group(c, l, d, -1);
	TAILQ_REMOVE(&l->wait[d], c, wait_entry[d]);
	l->nwait[d]--;
	c->waiting[d] = NULL;
}

/* Someone waits for l's tokens: its timer fires when a quantum is back. */
static void
limit_arm(struct net_limit *l, enum net_dir d, uint64_t now)
{
	struct ratelimit	*b = &l->b[d];

	if (l->dead || l->nwait[d] == 0 ||
	    reactor_timer_pending(l->timer[d]))
		return;
	reactor_timer_at(l->timer[d], now +
	    ratelimit_wait_ms(b, ratelimit_quantum(b), now));
}

/* c found l empty: its reads (writes) stop until l's timer resumes them. */
static void
conn_throttle(struct conn *c, enum net_dir d, struct net_limit *l,
    uint64_t now)
{
	assert(c->waiting[d] == NULL && !c->dead && !l->dead);
	event_del(d == NET_DOWN ? c->rev : c->wev);
	c->waiting[d] = l;
	TAILQ_INSERT_TAIL(&l->wait[d], c, wait_entry[d]);
	l->nwait[d]++;
	limit_group(c, l, d, 1);
	limit_arm(l, d, now);
}

/*
 * The bytes c may move in direction d now: the fewest any of its buckets
 * holds (SIZE_MAX: no limit).  At 0, *empty is the bucket that is empty.
 */
static size_t
conn_allow(struct conn *c, enum net_dir d, uint64_t now,
    struct net_limit **empty)
{
	struct net_limit	*l;
	uint64_t		 a, allow = SIZE_MAX;
	int			 i;

	for (i = 0; i < 2; i++) {
		l = c->lim[i];
		if (l == NULL || !ratelimit_on(&l->b[d]))
			continue;
		a = ratelimit_avail(&l->b[d], now);
		if (a < allow)
			allow = a;
		if (a == 0) {
			*empty = l;
			break;
		}
	}
	return (size_t)allow;
}

/* n bytes went through c's socket: every bucket of c pays. */
static void
conn_charge(struct conn *c, enum net_dir d, size_t n)
{
	struct net_limit	*l;
	int			 i;

	c->bytes[d] += n;
	for (i = 0; i < 2; i++) {
		if ((l = c->lim[i]) == NULL)
			continue;
		ratelimit_spend(&l->b[d], n);
		l->bytes[d] += n;
	}
}

/*
 * l's timer: once a quantum is back, the waiting connections get equal
 * shares of the tokens, in queue order (those that use theirs up and have
 * more go to the back).  On the global bucket the shares are equal per
 * torrent first (connections not yet with a torrent count as one more),
 * so a torrent with many connections does not crowd out one with few.
 */
static void
limit_wake(struct net_limit *l, enum net_dir d)
{
	struct ratelimit	*b = &l->b[d];
	struct conn		*c;
	uint64_t		 now = reactor_now_ms(l->net->r), w, avail;
	uint64_t		 total, share;
	size_t			 i, n = l->nwait[d], loose = 0, groups;

	if (l->dead || n == 0)
		return;
	if ((w = ratelimit_wait_ms(b, ratelimit_quantum(b), now)) > 0) {
		reactor_timer_at(l->timer[d], now + w);	/* others spent */
		return;
	}
	TAILQ_FOREACH(c, &l->wait[d], wait_entry[d]) {
		if (c->lim[1] != NULL && l == l->net->global)
			c->lim[1]->snap[d] = c->lim[1]->inglobal[d];
		else
			loose++;
	}
	groups = l->ngroups[d] + (loose > 0);
	total = ratelimit_avail(b, now);
	for (i = 0; i < n && !l->dead; i++) {
		if ((c = TAILQ_FIRST(&l->wait[d])) == NULL)
			break;
		if ((avail = ratelimit_avail(b, now)) == 0)
			break;
		if (avail == UINT64_MAX)
			share = UINT64_MAX;
		else
			share = total / groups / (c->lim[1] != NULL &&
			    l == l->net->global ? c->lim[1]->snap[d] : loose);
		limit_unqueue(c, d);
		conn_resume(c, d, l, share == UINT64_MAX ? UINT64_MAX :
		    MAX(MIN(share, avail), 1));
	}
	if (!l->dead)
		limit_arm(l, d, now);
}

static void
limit_down_cb(void *arg)
{
	limit_wake(arg, NET_DOWN);
}

static void
limit_up_cb(void *arg)
{
	limit_wake(arg, NET_UP);
}

struct net_limit *
net_limit_new(struct net *n, uint64_t down, uint64_t up)
{
	struct net_limit	*l;
	uint64_t		 now = reactor_now_ms(n->r);

	l = xcalloc(1, sizeof(*l));
	l->net = n;
	ratelimit_init(&l->b[NET_DOWN], down, now);
	ratelimit_init(&l->b[NET_UP], up, now);
	TAILQ_INIT(&l->wait[NET_DOWN]);
	TAILQ_INIT(&l->wait[NET_UP]);
	l->timer[NET_DOWN] = reactor_timer_new(n->r, limit_down_cb, l);
	l->timer[NET_UP] = reactor_timer_new(n->r, limit_up_cb, l);
	return l;
}

static void
limit_free_cb(void *arg)
{
	struct net_limit	*l = arg;

	reactor_timer_free(l->timer[NET_DOWN]);
	reactor_timer_free(l->timer[NET_UP]);
	free(l);
}

void
net_limit_free(struct net_limit *l)
{
	struct net	*n;
	struct conn	*c;
	int		 i;

	if (l == NULL)
		return;
	n = l->net;
	l->dead = true;
	reactor_timer_cancel(l->timer[NET_DOWN]);
	reactor_timer_cancel(l->timer[NET_UP]);
	TAILQ_FOREACH(c, &n->conns, entry)
		for (i = 0; i < 2; i++) {
			if (c->lim[i] != l)
				continue;
			if (i == 1) {	/* waiting globally: no torrent now */
				limit_group(c, c->waiting[NET_DOWN] != NULL ?
				    c->waiting[NET_DOWN] : l, NET_DOWN, -1);
				limit_group(c, c->waiting[NET_UP] != NULL ?
				    c->waiting[NET_UP] : l, NET_UP, -1);
			}
			c->lim[i] = NULL;
		}
	/* Its waiters go back to their events (the others may stop them). */
	while ((c = TAILQ_FIRST(&l->wait[NET_DOWN])) != NULL) {
		limit_unqueue(c, NET_DOWN);
		if (!ev_on(c->rev, __func__))
			net_close(c, "cannot wait for input");
	}
	while ((c = TAILQ_FIRST(&l->wait[NET_UP])) != NULL) {
		limit_unqueue(c, NET_UP);
		if (!ev_on(c->wev, __func__))
			net_close(c, "cannot wait for output room");
	}
	reactor_defer_free(n->r, limit_free_cb, l);
}

void
net_limit_set(struct net_limit *l, uint64_t down, uint64_t up)
{
	uint64_t	now = reactor_now_ms(l->net->r);
	int		d;

	ratelimit_set_rate(&l->b[NET_DOWN], down, now);
	ratelimit_set_rate(&l->b[NET_UP], up, now);
	for (d = NET_DOWN; d <= NET_UP; d++)
		if (l->nwait[d] > 0)
			reactor_timer_at(l->timer[d], now);
}

void
net_limit_bytes(const struct net_limit *l, uint64_t *down, uint64_t *up)
{
	*down = l->bytes[NET_DOWN];
	*up = l->bytes[NET_UP];
}

struct net_limit *
net_global_limit(struct net *n)
{
	return n->global;
}

void
net_conn_limit(struct conn *c, struct net_limit *l)
{
	int	d;

	assert(c->lim[1] == NULL && !l->dead);
	c->lim[1] = l;
	for (d = NET_DOWN; d <= NET_UP; d++)
		if (c->waiting[d] != NULL)
			limit_group(c, c->waiting[d], d, 1);
	/* what went before (an inbound handshake) is l's too */
	for (d = NET_DOWN; d <= NET_UP; d++) {
		ratelimit_spend(&l->b[d], c->bytes[d]);
		l->bytes[d] += c->bytes[d];
	}
}

/* ---- connections --------------------------------------------------------- */

static struct conn *
conn_new(struct net *n, int fd, const struct netaddr *a, bool outbound)
{
	struct event_base	*base = reactor_base(n->r);
	struct conn		*c;

	c = xcalloc(1, sizeof(*c));
	c->net = n;
	c->fd = fd;
	c->outbound = outbound;
	c->state = outbound ? CONN_CONNECTING : CONN_HANDSHAKE;
	c->created = reactor_now_ms(n->r);
	c->addr = *a;
	addr_str(a, c->name);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	if (c->rev == NULL || c->wev == NULL)
		abort();		/* only on OOM, like xmalloc */
	c->timer = reactor_timer_new(n->r, conn_timer_cb, c);
	c->lim[0] = n->global;
	TAILQ_INSERT_TAIL(&n->conns, c, entry);
	n->nconns++;
	if (!outbound)
		n->nwaiting++;
	return c;
}

/* Runs from the loop: nothing else refers to c any more. */
static void
conn_free(void *arg)
{
	struct conn	*c = arg;

	assert(c->pins == 0 && !c->rshared);
	event_free(c->rev);
	event_free(c->wev);
	reactor_timer_free(c->timer);
	if (c->fd != -1)
		close(c->fd);
	peer_free(c->peer);
	free(c->rbuf);
	free(c);
}

/*
 * Reads and drops what the peer sent that we have not read (bounded): a
 * close with input unread answers with a reset, which drops what is still
 * in our send queue (the last blocks of a leecher we leave), where a close
 * without sends them and a FIN.
 */
static void
conn_discard_input(int fd)
{
	uint8_t	junk[16384];
	int	i;

	for (i = 0; i < NET_CLOSE_DISCARD; i++) {
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	}
}

void
net_close(struct conn *c, const char *fmt, ...)
{
	struct net	*n = c->net;
	char		 why[256];
	va_list		 ap;

	if (c->dead)
		return;
	c->dead = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_obj_at(LOG_DEBUG, c->name, "dropped: %s", why);
	event_del(c->rev);
	event_del(c->wev);
	reactor_timer_cancel(c->timer);
	limit_unqueue(c, NET_DOWN);
	limit_unqueue(c, NET_UP);
	if (c->dirty) {
		TAILQ_REMOVE(&n->dirty, c, dirty_entry);
		c->dirty = false;
	}
	TAILQ_REMOVE(&n->conns, c, entry);
	n->nconns--;
	if (!c->outbound && c->hooks == NULL)
		n->nwaiting--;
	/* Closing now frees the port; the fd number is not reused by us. */
	if (c->fd != -1) {
		conn_discard_input(c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (c->hooks != NULL) {
		c->why = why;
		c->hooks->closed(c->ctx);
		c->why = NULL;
	}
	reactor_defer_free(n->r, conn_free, c);
}

void
net_attach(struct conn *c, struct peer *p, const struct conn_hooks *hooks,
    void *ctx)
{
	assert(c->hooks == NULL && c->peer == NULL && !c->dead);
	assert(hooks->handshake != NULL && hooks->after_input != NULL &&
	    hooks->writable != NULL && hooks->closed != NULL);
	if (!c->outbound)
		c->net->nwaiting--;
	c->peer = p;
	c->hooks = hooks;
	c->ctx = ctx;
}

void
net_pin(struct conn *c)
{
	c->pins++;
}

void
net_unpin(struct conn *c)
{
	assert(c->pins > 0);
	c->pins--;
}

/* The peer ended the connection through its state: close with its reason. */
static bool
conn_check_peer(struct conn *c, enum gt_err e)
{
	const char	*why;

	if (c->dead)
		return false;
	if (c->peer != NULL && peer_state(c->peer) == PEER_CLOSING) {
		why = peer_error(c->peer);
		net_close(c, "%s", why != NULL ? why : gt_strerror(e));
		return false;
	}
	if (e != GT_OK) {
		net_close(c, "%s", gt_strerror(e));
		return false;
	}
	return true;
}

static uint64_t
conn_deadline(const struct conn *c)
{
	uint64_t	d;

	switch (c->state) {
	case CONN_CONNECTING:
		return c->created + NET_CONNECT_MS;
	case CONN_HANDSHAKE:
		if (c->peer == NULL)
			return c->created + NET_HANDSHAKE_MS;
		break;
	case CONN_ACTIVE:
		break;
	}
	d = peer_deadline(c->peer);
	return MIN(d, rbuf_deadline(c));
}

/* The peer's deadline may have moved earlier: re-arm the timer. */
static void
net_rearm(struct conn *c)
{
	uint64_t	d;

	if (c->dead)
		return;
	d = conn_deadline(c);
	if (c->armed != 0 && c->armed <= d)
		return;		/* fires earlier; it re-arms then */
	c->armed = d == 0 ? 1 : d;
	reactor_timer_at(c->timer, c->armed);
}

size_t
net_out_pending(const struct conn *c)
{
	return c->peer == NULL ? 0 : peer_out_pending(c->peer) - c->out_off -
	    c->span_off;
}

size_t
net_out_unacked(const struct conn *c)
{
	int	n = 0;

	if (c->fd >= 0 && ioctl(c->fd, SIOCOUTQ, &n) != 0)
		n = 0;
	return net_out_pending(c) + (n > 0 ? (size_t)n : 0);
}

/*
 * One write of what is queued: out's bytes up to the oldest span (with
 * MSG_MORE before a payload: header and payload leave together), else
 * that span's payload (hooks.payload, sendfile).  Bytes written, 0 when
 * the socket is full, -1 when c was closed.  Not corked: each sendfile
 * pushes a block's segment, and bigger segments of page-cache pages
 * (TCP_CORK per pass, per 2 or 4 blocks, Nagle) cost the seeder 50 to
 * 100 % more CPU on loopback and did not speed the leecher up.
 */
static ssize_t
conn_send_once(struct conn *c, size_t len)
{
	struct buf		*out = peer_out(c->peer);
	const struct peer_span	*sp = peer_out_span(c->peer);
	size_t			 sent = 0;
	ssize_t			 n;
	enum gt_err		 e;

	if (sp == NULL || c->out_off < sp->at) {
		len = MIN(len, (sp != NULL ? sp->at : out->len) - c->out_off);
		do
			n = send(c->fd, out->data + c->out_off, len,
			    MSG_NOSIGNAL | (sp != NULL ? MSG_MORE : 0));
		while (n == -1 && errno == EINTR);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			net_close(c, "write: %s", n == 0 ? "no progress" :
			    strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
		return n;
	}
	assert(c->hooks != NULL && c->hooks->payload != NULL);
	len = MIN(len, sp->r.length - c->span_off);
	e = c->hooks->payload(c->ctx, c->fd, &sp->r, (uint32_t)c->span_off,
	    len, &sent);
	if (e == GT_EAGAIN)
		return 0;
	if (e != GT_OK || sent == 0 || sent > len) {
		net_close(c, "write: piece %u+%u: %s", sp->r.piece,
		    sp->r.offset, e == GT_OK ? "no progress" :
		    strerror(errno));
		return -1;
	}
	c->span_off += sent;
	if (c->span_off == sp->r.length) {
		peer_out_span_done(c->peer);
		c->span_off = 0;
	}
	return (ssize_t)sent;
}

/*
 * Sends what is queued, at most *budget bytes and what the buckets allow:
 * IO_DONE when all of it went out, else why not (IO_LIMITED: *empty is
 * the empty bucket).
 */
static enum net_io
conn_send(struct conn *c, size_t *budget, uint64_t now,
    struct net_limit **empty)
{
	struct buf	*out = peer_out(c->peer);
	enum net_io	 r = IO_DONE;
	size_t		 allow;
	ssize_t		 n;

	while (c->out_off < out->len || peer_out_span(c->peer) != NULL) {
		if (*budget == 0) {
			r = IO_BUDGET;
			break;
		}
		if ((allow = conn_allow(c, NET_UP, now, empty)) == 0) {
			r = IO_LIMITED;
			break;
		}
		if ((n = conn_send_once(c, MIN(*budget, allow))) == -1)
			return IO_DEAD;
		if (n == 0) {
			r = IO_AGAIN;
			break;
		}
		conn_charge(c, NET_UP, (size_t)n);
		*budget -= (size_t)n;
	}
	if (c->out_off == out->len && peer_out_span(c->peer) == NULL) {
		peer_out_drain(c->peer, c->out_off);	/* memory back */
		c->out_off = 0;
		return IO_DONE;
	}
	/* Keep the peer's queue under its cap: drop what went out. */
	if (c->out_off >= out->len / 2) {
		peer_out_drain(c->peer, c->out_off);
		c->out_off = 0;
	}
	return r;
}

/*
 * Writes what the peer queued; when all of it is out, the owner may queue
 * more (hooks.writable), and so on within budget.  Out of tokens, c waits
 * in the empty bucket's queue (IO_LIMITED).
 */
static enum net_io
conn_output(struct conn *c, size_t budget)
{
	struct net_limit	*empty = NULL;
	uint64_t		 now = reactor_now_ms(c->net->r);
	enum net_io		 r;

	for (;;) {
		if ((r = conn_send(c, &budget, now, &empty)) != IO_DONE)
			break;
		if (c->state != CONN_ACTIVE)
			return IO_DONE;
		if (budget == 0)
			return IO_BUDGET;
		c->hooks->writable(c->ctx);
		if (!conn_check_peer(c, GT_OK))
			return IO_DEAD;
		if (peer_out_pending(c->peer) == 0)
			return IO_DONE;
	}
	if (r == IO_LIMITED)
		conn_throttle(c, NET_UP, empty, now);
	return r;
}

/*
 * Writes within budget.  EV_WRITE stays armed while anything waits for
 * room, or while the budget ran out (the owner may have more: the socket
 * is writable, so we are back at once); but when the budget was share's
 * share of its tokens, c goes to the back of its queue instead.
 */
static void
conn_write_some(struct conn *c, size_t budget, struct net_limit *share)
{
	if (c->dead || c->peer == NULL || c->state == CONN_CONNECTING)
		return;
	if (c->waiting[NET_UP] != NULL)
		return;			/* its bucket's timer writes */
	switch (conn_output(c, budget)) {
	case IO_DEAD:
	case IO_LIMITED:
		return;
	case IO_DONE:
		event_del(c->wev);
		return;
	case IO_BUDGET:
		if (share != NULL && !share->dead &&
		    ratelimit_on(&share->b[NET_UP])) {
			conn_throttle(c, NET_UP, share,
			    reactor_now_ms(c->net->r));
			return;
		}
		break;
	case IO_AGAIN:
		break;
	}
	if (!event_pending(c->wev, EV_WRITE, NULL) &&
	    !ev_on(c->wev, __func__))
		net_close(c, "cannot wait for output room");
}

static void
conn_write(struct conn *c)
{
	conn_write_some(c, NET_WRITE_BUDGET, NULL);
}

static void
net_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net	*n = arg;
	struct conn	*c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&n->dirty)) != NULL) {
		TAILQ_REMOVE(&n->dirty, c, dirty_entry);
		c->dirty = false;
		conn_write(c);
		net_rearm(c);
	}
}

void
net_flush_soon(struct conn *c)
{
	struct net	*n = c->net;

	if (c->dead || c->dirty)
		return;
	c->dirty = true;
	TAILQ_INSERT_TAIL(&n->dirty, c, dirty_entry);
	event_active(n->flush_ev, EV_TIMEOUT, 0);
}

/* The owner writes the blocks of the batch just decoded. */
static bool
conn_after_input(struct conn *c)
{
	if (c->state == CONN_ACTIVE) {
		c->hooks->after_input(c->ctx);
		if (!conn_check_peer(c, GT_OK))
			return false;
	}
	assert(c->pins == 0);
	return true;
}

/* After input or a tick: let the owner act, write, re-arm. */
static void
conn_settle(struct conn *c)
{
	if (c->dead || c->peer == NULL)
		return;
	if (!conn_after_input(c))
		return;
	conn_write(c);
	net_rearm(c);
}

/* The 68-byte handshake at the front of the buffer. */
static bool
conn_on_handshake(struct conn *c)
{
	struct net		*n = c->net;
	struct wire_handshake	 hs;
	const char		*why = NULL;
	enum gt_err		 e;

	e = wire_decode_handshake(c->rbuf + c->roff, c->rlen - c->roff, &hs);
	if (e == GT_EAGAIN)
		return false;
	if (e != GT_OK) {
		net_close(c, "not a BitTorrent handshake");
		return false;
	}
	c->roff += WIRE_HANDSHAKE_LEN;
	if (c->hooks == NULL) {
		e = n->hooks.accept(n->hooks.arg, c, &hs, &why);
		if (c->dead)
			return false;
		if (e != GT_OK || c->hooks == NULL) {
			net_close(c, "%s", why != NULL ? why : "refused");
			return false;
		}
	}
	if (c->hooks->handshake(c->ctx, &hs, &why) != GT_OK) {
		if (!c->dead)
			net_close(c, "%s", why != NULL ? why : "refused");
		return false;
	}
	if (c->dead)
		return false;
	c->state = CONN_ACTIVE;
	return conn_check_peer(c, GT_OK);
}

/* Decodes what is buffered; returns false once c is dead. */
static bool
conn_process(struct conn *c, uint64_t now)
{
	struct wire_msg	m;
	size_t		used;
	enum gt_err	e;

	if (c->state == CONN_HANDSHAKE && !conn_on_handshake(c))
		return !c->dead;
	while (c->state == CONN_ACTIVE && !c->dead) {
		e = wire_decode(c->rbuf + c->roff, c->rlen - c->roff, &m,
		    &used);
		if (e == GT_EAGAIN)
			break;
		if (e != GT_OK) {
			net_close(c, "bad message: %s", gt_strerror(e));
			return false;
		}
		e = peer_on_msg(c->peer, &m, now);
		c->roff += used;
		if (!conn_check_peer(c, e))
			return false;
	}
	return !c->dead;
}

/* ---- receive buffers ----------------------------------------------------- */

/*
 * The bytes the frame at roff takes in all, header included; always more
 * than is unread (the frame is partial, else it would have been decoded).
 */
static size_t
rbuf_need(const struct conn *c)
{
	size_t	unread = c->rlen - c->roff, need;

	if (c->state != CONN_ACTIVE)
		need = WIRE_HANDSHAKE_LEN;
	else if (unread < 4)
		need = 4;
	else
		need = 4 + (size_t)MIN(load_be32(c->rbuf + c->roff),
		    WIRE_MAX_MSG);
	return MAX(need, unread + 1);
}

/* c's unread bytes move to a buffer of its own of cap bytes (0: none). */
static void
rbuf_move(struct conn *c, size_t cap)
{
	size_t	 unread = c->rlen - c->roff;
	uint8_t	*nb = NULL;

	assert(c->pins == 0 && unread <= cap);
	if (cap > 0) {
		nb = xmalloc(cap);
		if (unread > 0)
			memcpy(nb, c->rbuf + c->roff, unread);
	}
	if (c->rshared) {
		assert(c->net->rbuf_user == c);
		c->net->rbuf_user = NULL;
		c->rshared = false;
	} else
		free(c->rbuf);
	c->rbuf = nb;
	c->rcap = cap;
	c->roff = 0;
	c->rlen = unread;
}

/*
 * Before a read (nothing pinned): room for at least the rest of the frame
 * at roff.  With nothing unread, c reads into the net's buffer unless it
 * keeps a full-size one of its own (it is fast); a full-size buffer is
 * compacted when less than a frame of room is left, a small one holds its
 * partial frame at the front and grows to the frame's size.
 */
static void
rbuf_prepare(struct conn *c)
{
	struct net	*n = c->net;
	size_t		 unread = c->rlen - c->roff, need;

	assert(c->pins == 0);
	if (unread == 0 && c->rcap < NET_RBUF_SIZE) {
		rbuf_move(c, 0);
		if (n->rbuf == NULL)
			n->rbuf = xmalloc(NET_RBUF_SIZE);
		assert(n->rbuf_user == NULL);
		n->rbuf_user = c;
		c->rbuf = n->rbuf;
		c->rcap = NET_RBUF_SIZE;
		c->rshared = true;
		return;
	}
	if (unread == 0)
		c->roff = c->rlen = 0;
	else if (c->roff > 0 && (c->rcap < NET_RBUF_SIZE ||
	    c->rcap - c->rlen < WIRE_MAX_FRAME)) {
		memmove(c->rbuf, c->rbuf + c->roff, unread);
		c->rlen = unread;
		c->roff = 0;
	}
	if (c->rcap < NET_RBUF_SIZE && (need = rbuf_need(c)) > c->rcap) {
		c->rbuf = xrealloc(c->rbuf, need);
		c->rcap = need;
	}
	assert(c->rcap - c->roff >= rbuf_need(c));
}

/*
 * After a read pass, and at c's timer (nothing pinned): the net's buffer
 * goes back, what is unread moving to c's own, full-size while c is fast,
 * else just big enough for the partial frame; c's own buffer goes once
 * nothing is unread, a full-size one only once c is not fast any more
 * (down to its partial frame, if any).
 */
static void
rbuf_trim(struct conn *c, uint64_t now)
{
	bool	fast = now < c->rfast_until;
	size_t	small;

	if (c->rbuf == NULL)
		return;
	if (c->dead) {
		if (c->rshared)
			c->roff = c->rlen;	/* dropped with c */
		else
			return;			/* freed with c */
	}
	small = MAX(rbuf_need(c), NET_RBUF_MIN);
	if (c->roff == c->rlen && (c->rshared || c->rcap < NET_RBUF_SIZE ||
	    !fast))
		rbuf_move(c, 0);
	else if (c->rshared)
		rbuf_move(c, fast ? NET_RBUF_SIZE : small);
	else if (c->rcap == NET_RBUF_SIZE && !fast)
		rbuf_move(c, small);
	else if (c->roff == c->rlen)
		c->roff = c->rlen = 0;
}

/* When a full-size buffer of c's own may shrink (UINT64_MAX: never). */
static uint64_t
rbuf_deadline(const struct conn *c)
{
	if (c->rbuf == NULL || c->rshared || c->rcap < NET_RBUF_SIZE)
		return UINT64_MAX;
	return c->rfast_until;
}

size_t
net_conn_rbuf(const struct conn *c)
{
	return c->rshared ? 0 : c->rcap;
}

/*
 * Reads and decodes within budget and what the buckets allow: IO_DONE
 * once the socket is drained, IO_BUDGET when the budget ran out first,
 * IO_LIMITED when a bucket did (c then waits in its queue).
 */
static enum net_io
conn_input(struct conn *c, size_t budget)
{
	struct net_limit	*empty = NULL;
	uint64_t		 now = reactor_now_ms(c->net->r);
	enum net_io		 r = IO_BUDGET;
	size_t			 want, allow;
	ssize_t			 n;

	while (!c->dead && budget > 0) {
		if ((allow = conn_allow(c, NET_DOWN, now, &empty)) == 0) {
			r = IO_LIMITED;
			break;
		}
		rbuf_prepare(c);
		want = MIN(MIN(c->rcap - c->rlen, budget), allow);
		n = read(c->fd, c->rbuf + c->rlen, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = IO_DONE;
			break;
		}
		if (n <= 0) {
			if (n == -1)
				net_close(c, "read: %s", strerror(errno));
			else
				net_close(c, "closed by the peer");
			r = IO_DEAD;
			break;
		}
		conn_charge(c, NET_DOWN, (size_t)n);
		c->rlen += (size_t)n;
		budget -= (size_t)n;
		now = reactor_now_ms(c->net->r);
		if ((size_t)n >= NET_RBUF_FAST)
			c->rfast_until = now + NET_RBUF_IDLE_MS;
		if (!conn_process(c, now)) {
			r = IO_DEAD;
			break;
		}
		if ((size_t)n < want) {
			r = IO_DONE;		/* drained the socket */
			break;
		}
		/* Blocks are written from rbuf before it is read into again. */
		if (!conn_after_input(c)) {
			r = IO_DEAD;
			break;
		}
	}
	/* queued before the owner runs: it may close c or free the bucket */
	if (r == IO_LIMITED)
		conn_throttle(c, NET_DOWN, empty, now);
	conn_settle(c);
	rbuf_trim(c, now);
	if (c->dead)
		return IO_DEAD;
	net_rearm(c);
	return r;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)conn_input(arg, NET_READ_BUDGET);
}

/*
 * l's timer gave c share bytes of its tokens in direction d: c reads
 * (writes) them, then goes back to the end of l's queue if it has more,
 * else back to its events.
 */
static void
conn_resume(struct conn *c, enum net_dir d, struct net_limit *l,
    uint64_t share)
{
	enum net_io	r;

	if (c->dead)
		return;
	if (d == NET_UP) {
		conn_write_some(c, (size_t)MIN(share, NET_WRITE_BUDGET), l);
		net_rearm(c);
		return;
	}
	r = conn_input(c, (size_t)MIN(share, NET_READ_BUDGET));
	if (r == IO_DEAD || r == IO_LIMITED)
		return;
	if (r == IO_BUDGET && !l->dead && ratelimit_on(&l->b[d]))
		conn_throttle(c, d, l, reactor_now_ms(c->net->r));
	else if (!ev_on(c->rev, __func__))
		net_close(c, "cannot wait for input");
}

static void
conn_connected(struct conn *c)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		c->connect_err = err;
		net_close(c, "connect: %s", strerror(err));
		return;
	}
	c->state = CONN_HANDSHAKE;
	log_obj_at(LOG_TRACE, c->name, "TCP connected");
	event_del(c->wev);
	if (!ev_on(c->rev, __func__)) {
		net_close(c, "cannot wait for input");
		return;
	}
	conn_write(c);			/* our handshake */
	net_rearm(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_CONNECTING)
		conn_connected(c);
	else
		conn_write(c);
}

static void
conn_timer_cb(void *arg)
{
	struct conn	*c = arg;
	uint64_t	 now = reactor_now_ms(c->net->r);
	enum gt_err	 e;

	c->armed = 0;
	if (c->dead)
		return;
	rbuf_trim(c, now);
	switch (c->state) {
	case CONN_CONNECTING:
		if (now >= c->created + NET_CONNECT_MS) {
			c->connect_err = ETIMEDOUT;
			net_close(c, "connect: timed out");
			return;
		}
		break;
	case CONN_HANDSHAKE:
		if (c->peer == NULL && now >= c->created + NET_HANDSHAKE_MS) {
			net_close(c, "no handshake in %u ms",
			    NET_HANDSHAKE_MS);
			return;
		}
		if (c->peer == NULL)
			break;
		/* FALLTHROUGH */
	case CONN_ACTIVE:
		e = peer_tick(c->peer, now);
		if (!conn_check_peer(c, e))
			return;
		conn_settle(c);
		return;
	}
	net_rearm(c);
}

struct conn *
net_connect(struct net *n, const struct netaddr *a)
{
	struct sockaddr_storage	 ss;
	struct conn		*c;
	socklen_t		 len;
	int			 fd, r, saved;
	char			 name[ADDR_STRLEN];

	if (n->o.bind.family != 0 && a->family != n->o.bind.family) {
		log_debug("[%s] dropped: not IPv%u like --bind",
		    addr_str(a, name), n->o.bind.family);
		errno = EAFNOSUPPORT;
		return NULL;
	}
	len = sockaddr_from_netaddr(a, false, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		saved = errno;
		log_debug("%s: socket: %s", __func__, strerror(saved));
		errno = saved;
		return NULL;
	}
	sock_tune(fd);
	if (n->o.bind.family != 0 && !sock_bind_local(fd, &n->o.bind, 0)) {
		saved = errno;
		log_debug("[%s] dropped: bind to --bind address: %s",
		    addr_str(a, name), strerror(saved));
		close(fd);
		errno = saved;
		return NULL;
	}
	do {
		r = connect(fd, (struct sockaddr *)&ss, len);
	} while (r == -1 && errno == EINTR);
	if (r == -1 && errno != EINPROGRESS) {
		saved = errno;
		log_debug("[%s] dropped: connect: %s", addr_str(a, name),
		    strerror(saved));
		close(fd);
		errno = saved;
		return NULL;
	}
	c = conn_new(n, fd, a, true);
	/* writable = connected (or failed) */
	if (!ev_on(c->wev, __func__)) {
		net_close(c, "cannot wait for the connect");
		return NULL;
	}
	net_rearm(c);
	return c;
}

size_t
net_nconns(const struct net *n)
{
	return n->nconns;
}

const struct netaddr *
net_conn_addr(const struct conn *c)
{
	return &c->addr;
}

const char *
net_conn_name(const struct conn *c)
{
	return c->name;
}

const char *
net_conn_why(const struct conn *c)
{
	return c->why != NULL ? c->why : "";
}

bool
net_conn_outbound(const struct conn *c)
{
	return c->outbound;
}

int
net_conn_connect_error(const struct conn *c)
{
	return c->connect_err;
}

/* ---- listener ------------------------------------------------------------ */

static void
net_resume_cb(void *arg)
{
	struct net	*n = arg;

	if (n->lev != NULL && !ev_on(n->lev, __func__))
		log_error("not accepting connections any more");
}

/* Out of descriptors: take the waiting connection on the spare, drop it. */
static void
net_out_of_fds(struct net *n, int lfd)
{
	uint64_t	now = reactor_now_ms(n->r);
	int		fd;

	if (n->fds_warned == 0 || now - n->fds_warned >= 60000) {
		log_warn("out of file descriptors: refusing connections");
		n->fds_warned = now;
	} else
		log_debug("out of file descriptors: refusing connections");
	if (n->spare != -1) {
		close(n->spare);
		n->spare = -1;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd != -1)
			close(fd);
		n->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	event_del(n->lev);
	reactor_timer_in(n->resume, NET_PAUSE_MS);
}

static void
net_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct net		*n = arg;
	struct sockaddr_storage	 ss;
	struct netaddr		 a;
	struct conn		*c;
	socklen_t		 len;
	int			 fd, i;
	char			 name[ADDR_STRLEN];

	(void)what;
	for (i = 0; i < NET_ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				net_out_of_fds(n, lfd);
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!sockaddr_to_netaddr((struct sockaddr *)&ss, &a)) {
			close(fd);
			continue;
		}
		if (n->nconns >= n->o.max_conns ||
		    n->nwaiting >= NET_MAX_INBOUND_WAIT) {
			log_debug("[%s] dropped: over %s", addr_str(&a, name),
			    n->nconns >= n->o.max_conns ? "the connection cap" :
			    "the cap on connections before their handshake");
			close(fd);
			continue;
		}
		sock_tune(fd);
		c = conn_new(n, fd, &a, false);
		log_obj_at(LOG_TRACE, c->name, "accepted");
		if (!ev_on(c->rev, __func__)) {
			net_close(c, "cannot wait for input");
			continue;
		}
		net_rearm(c);
	}
}

/*
 * A listening socket on port: dual-stack [::] where the machine has IPv6
 * (v4 peers arrive v4-mapped and are unmapped), else 0.0.0.0; only on
 * local when its family is set.  -1 with errno set when the port is not
 * free.
 */
static int
listen_socket(const struct netaddr *local, uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct netaddr		 l;
	socklen_t		 len;
	int			 fd, one = 1, off = 0, af, saved;

	if (local->family != 0) {
		l = *local;
		l.port = port;
		len = sockaddr_from_netaddr(&l, false, &ss);
		af = ss.ss_family;
		if ((fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			return -1;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (af == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		goto bind;
	}
	for (af = AF_INET6;; af = AF_INET) {
		memset(&ss, 0, sizeof(ss));
		fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1 && af == AF_INET6)
			continue;		/* no IPv6 here */
		if (fd == -1)
			return -1;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (af == AF_INET6) {
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			    sizeof(off));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6addr_any;
			sin6->sin6_port = htons(port);
			len = sizeof(*sin6);
		} else {
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
			sin->sin_port = htons(port);
			len = sizeof(*sin);
		}
bind:
		if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
		    listen(fd, NET_BACKLOG) == 0 &&
		    getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
			*bound = ntohs(af == AF_INET6 ? sin6->sin6_port :
			    sin->sin_port);
			return fd;
		}
		saved = errno;
		close(fd);
		errno = saved;
		/* a taken port is taken for both; else try plain IPv4 */
		if (af == AF_INET || saved == EADDRINUSE ||
		    local->family != 0)
			return -1;
	}
}

enum gt_err
net_listen(struct net *n, uint16_t port, unsigned tries, uint16_t *bound,
    char *err)
{
	unsigned	i;
	int		fd, saved = 0;
	char		as[ADDR_STRLEN], where[ADDR_STRLEN + 1];

	if (port == 0 || tries == 0)
		tries = 1;
	for (i = 0; i < tries && (uint32_t)port + i <= 65535; i++) {
		if ((fd = listen_socket(&n->o.bind, (uint16_t)(port + i),
		    bound)) != -1) {
			n->lfd = fd;
			n->lev = event_new(reactor_base(n->r), fd,
			    EV_READ | EV_PERSIST, net_accept_cb, n);
			if (n->lev == NULL)
				abort();
			if (!ev_on(n->lev, __func__))
				return gt_fail(err, GT_EIO, "cannot wait for "
				    "connections");
			log_debug("%s: listening on port %u", __func__,
			    *bound);
			return GT_OK;
		}
		saved = errno;
		log_debug("%s: port %u: %s", __func__, port + i,
		    strerror(saved));
	}
	where[0] = '\0';
	if (n->o.bind.family != 0)
		snprintf(where, sizeof(where), "%s ",
		    addr_ip_str(&n->o.bind, as));
	if (i <= 1)
		return gt_fail(err, GT_EIO, "cannot listen on %sport %u: %s",
		    where, port, strerror(saved));
	return gt_fail(err, GT_EIO, "cannot listen on %sports %u-%u: %s",
	    where, port, port + i - 1, strerror(saved));
}

/* ---- the whole ----------------------------------------------------------- */

struct net *
net_new(struct reactor *r, const struct net_opts *o,
    const struct net_hooks *hooks)
{
	struct net	*n;

	n = xcalloc(1, sizeof(*n));
	n->r = r;
	n->o = *o;
	n->hooks = *hooks;
	n->lfd = -1;
	n->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	TAILQ_INIT(&n->conns);
	TAILQ_INIT(&n->dirty);
	n->flush_ev = event_new(reactor_base(r), -1, 0, net_flush_cb, n);
	if (n->flush_ev == NULL)
		abort();
	n->resume = reactor_timer_new(r, net_resume_cb, n);
	n->global = net_limit_new(n, o->max_down_rate, o->max_up_rate);
	return n;
}

void
net_free(struct net *n)
{
	struct conn	*c;

	if (n == NULL)
		return;
	while ((c = TAILQ_FIRST(&n->conns)) != NULL)
		net_close(c, "shutting down");
	net_limit_free(n->global);
	if (n->lev != NULL)
		event_free(n->lev);
	if (n->lfd != -1)
		close(n->lfd);
	if (n->spare != -1)
		close(n->spare);
	reactor_timer_free(n->resume);
	event_free(n->flush_ev);
	free(n->rbuf);
	free(n);
}
