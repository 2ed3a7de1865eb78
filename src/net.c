/* net.c - listener, outbound connects, one non-blocking socket per peer */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

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
 * the buffer is read into or compacted again (asserted).  Output is written
 * straight from the peer's queue; when it is all out, hooks.writable lets
 * the owner queue more (serving requests), within a budget per callback,
 * so a peer that sends nothing keeps getting what it asked for.  One timer
 * per connection is armed to the next deadline, moved only when the
 * deadline comes earlier (a timer firing early just re-arms).
 *
 * Under a flood: connections over max_conns are closed at accept, at most
 * NET_MAX_INBOUND_WAIT inbound ones wait for their handshake, each at most
 * NET_HANDSHAKE_MS from its accept whatever it sends, and when the process
 * runs out of descriptors a spare one lets us accept and close at once
 * while accepting pauses for NET_PAUSE_MS (no busy loop on EMFILE).
 */

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
	bool			 dead;		/* closed; freed by the loop */
	bool			 dirty;		/* on the flush list */
	uint64_t		 created;	/* ms */
	uint8_t			*rbuf;		/* NET_RBUF_SIZE bytes */
	size_t			 roff, rlen;	/* unread bytes: [roff, rlen) */
	unsigned		 pins;		/* owner's pointers into rbuf */
	size_t			 out_off;	/* bytes of peer_out() sent */
	struct netaddr		 addr;
	char			 name[ADDR_STRLEN];
	struct peer		*peer;		/* NULL until attached */
	const struct conn_hooks	*hooks;		/* the owner's, or NULL */
	void			*ctx;
	TAILQ_ENTRY(conn)	 entry;		/* net's live list */
	TAILQ_ENTRY(conn)	 dirty_entry;	/* net's flush list */
};
TAILQ_HEAD(conn_list, conn);

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
};

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_timer_cb(void *);

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
	c->rbuf = xmalloc(NET_RBUF_SIZE);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	if (c->rev == NULL || c->wev == NULL)
		abort();		/* only on OOM, like xmalloc */
	c->timer = reactor_timer_new(n->r, conn_timer_cb, c);
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

	assert(c->pins == 0);
	event_free(c->rev);
	event_free(c->wev);
	reactor_timer_free(c->timer);
	if (c->fd != -1)
		close(c->fd);
	peer_free(c->peer);
	free(c->rbuf);
	free(c);
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
		close(c->fd);
		c->fd = -1;
	}
	if (c->hooks != NULL)
		c->hooks->closed(c->ctx);
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
	return peer_deadline(c->peer);
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
	return c->peer == NULL ? 0 : peer_out(c->peer)->len - c->out_off;
}

/*
 * Sends what is queued, at most *budget bytes.  Returns true when all of
 * it went out; false when the socket is full (or c died).
 */
static bool
conn_send(struct conn *c, size_t *budget)
{
	struct buf	*out = peer_out(c->peer);
	size_t		 len;
	ssize_t		 n;

	while (c->out_off < out->len) {
		if (*budget == 0)
			return false;
		len = MIN(out->len - c->out_off, *budget);
		n = send(c->fd, out->data + c->out_off, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			net_close(c, "write: %s", n == 0 ? "no progress" :
			    strerror(errno));
			return false;
		}
		c->out_off += (size_t)n;
		*budget -= (size_t)n;
	}
	if (c->out_off == out->len) {
		buf_reset(out);
		c->out_off = 0;
		return true;
	}
	/* Keep the peer's queue under its cap: drop what went out. */
	if (c->out_off >= out->len / 2) {
		buf_drain(out, c->out_off);
		c->out_off = 0;
	}
	return false;
}

/*
 * Writes what the peer queued; when all of it is out, the owner may queue
 * more (hooks.writable), and so on within NET_WRITE_BUDGET.  EV_WRITE stays
 * armed while anything waits, or while the budget ran out (the owner may
 * have more: the socket is writable, so we are back at once).
 */
static void
conn_write(struct conn *c)
{
	size_t	budget = NET_WRITE_BUDGET;
	bool	more = false;

	if (c->dead || c->peer == NULL || c->state == CONN_CONNECTING)
		return;
	for (;;) {
		if (!conn_send(c, &budget)) {
			more = true;
			break;
		}
		if (c->state != CONN_ACTIVE)
			break;
		if (budget == 0) {
			more = true;
			break;
		}
		c->hooks->writable(c->ctx);
		if (!conn_check_peer(c, GT_OK))
			return;
		if (peer_out(c->peer)->len == 0)
			break;
	}
	if (c->dead)
		return;
	if (!more)
		event_del(c->wev);
	else if (!event_pending(c->wev, EV_WRITE, NULL) &&
	    !ev_on(c->wev, __func__))
		net_close(c, "cannot wait for output room");
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

/* The consumed bytes may go (nothing points into them: asserted). */
static void
conn_compact(struct conn *c)
{
	assert(c->pins == 0);
	if (c->roff == c->rlen)
		c->roff = c->rlen = 0;
	else if (NET_RBUF_SIZE - c->rlen < WIRE_MAX_FRAME) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	size_t		 budget = NET_READ_BUDGET, room;
	ssize_t		 n;

	(void)what;
	while (!c->dead && budget > 0) {
		assert(c->pins == 0);
		room = NET_RBUF_SIZE - c->rlen;
		assert(room >= WIRE_MAX_FRAME - WIRE_HANDSHAKE_LEN);
		n = read(fd, c->rbuf + c->rlen, room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1) {
			net_close(c, "read: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			net_close(c, "closed by the peer");
			return;
		}
		c->rlen += (size_t)n;
		budget -= MIN((size_t)n, budget);
		if (!conn_process(c, reactor_now_ms(c->net->r)))
			return;
		if ((size_t)n < room)
			break;		/* drained the socket */
		/* Blocks are written from rbuf before it is read into again. */
		if (!conn_after_input(c))
			return;
		conn_compact(c);
	}
	conn_settle(c);
	if (!c->dead)
		conn_compact(c);
}

static void
conn_connected(struct conn *c)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
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
	switch (c->state) {
	case CONN_CONNECTING:
		if (now >= c->created + NET_CONNECT_MS) {
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
	int			 fd, r;
	char			 name[ADDR_STRLEN];

	len = sockaddr_from_netaddr(a, false, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_debug("%s: socket: %s", __func__, strerror(errno));
		return NULL;
	}
	sock_tune(fd);
	do {
		r = connect(fd, (struct sockaddr *)&ss, len);
	} while (r == -1 && errno == EINTR);
	if (r == -1 && errno != EINPROGRESS) {
		log_debug("[%s] dropped: connect: %s", addr_str(a, name),
		    strerror(errno));
		close(fd);
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

bool
net_conn_outbound(const struct conn *c)
{
	return c->outbound;
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
 * (v4 peers arrive v4-mapped and are unmapped), else 0.0.0.0.  -1 with
 * errno set when the port is not free.
 */
static int
listen_socket(uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	socklen_t		 len;
	int			 fd, one = 1, off = 0, af, saved;

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
		if (af == AF_INET || saved == EADDRINUSE)
			return -1;
	}
}

enum gt_err
net_listen(struct net *n, uint16_t port, uint16_t *bound)
{
	unsigned	i, tries = port == 0 ? 1 : NET_LISTEN_TRIES;
	int		fd, saved = 0;

	for (i = 0; i < tries && (uint32_t)port + i <= 65535; i++) {
		if ((fd = listen_socket((uint16_t)(port + i), bound)) != -1) {
			n->lfd = fd;
			n->lev = event_new(reactor_base(n->r), fd,
			    EV_READ | EV_PERSIST, net_accept_cb, n);
			if (n->lev == NULL)
				abort();
			if (!ev_on(n->lev, __func__))
				return GT_EIO;
			log_debug("%s: listening on port %u", __func__,
			    *bound);
			return GT_OK;
		}
		saved = errno;
		log_debug("%s: port %u: %s", __func__, port + i,
		    strerror(saved));
	}
	log_error("cannot listen on ports %u-%u: %s", port,
	    port + tries - 1, strerror(saved));
	return GT_EIO;
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
	if (n->lev != NULL)
		event_free(n->lev);
	if (n->lfd != -1)
		close(n->lfd);
	if (n->spare != -1)
		close(n->spare);
	reactor_timer_free(n->resume);
	event_free(n->flush_ev);
	free(n);
}
