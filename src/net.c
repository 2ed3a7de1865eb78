/* net.c - listener, outbound connects, one non-blocking socket per peer */
#include <sys/types.h>
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
#include "session.h"
#include "torrent.h"
#include "util.h"

/*
 * Speed first: no bufferevents.  Each connection owns its non-blocking
 * socket with one persistent EV_READ event and an EV_WRITE event added only
 * while output waits.  Reads are large, into a receive buffer of two
 * maximal frames that is compacted only when less than a frame of room is
 * left; frames are decoded in place and a PIECE's block goes to the torrent
 * straight from that buffer; the torrent writes a read's blocks with
 * gathered writes in torrent_after_input, called before the buffer is read
 * into or compacted again.  Output is written straight from the peer's
 * queue.  One timer per connection is armed to the peer's next deadline,
 * moved only when the deadline comes earlier (a timer firing early just
 * runs peer_tick and re-arms).
 */

struct net {
	struct session		*s;
	struct reactor		*r;
	int			 lfd;		/* listener, or -1 */
	struct event		*lev;
	struct event		*flush_ev;	/* runs the flush list */
	struct conn_list	 conns;		/* live connections */
	struct conn_list	 dirty;		/* output to write soon */
	size_t			 nconns;
};

static void	conn_log(const struct conn *, enum log_level, const char *,
		    ...) GT_PRINTF(3, 4);
static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_timer_cb(void *);

static void
conn_log(const struct conn *c, enum log_level lvl, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	if (lvl > log_level_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(lvl, "[%s] %s", c->name, msg);
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
	c->cand = UINT32_MAX;
	addr_str(a, c->name);
	c->rbuf = xmalloc(NET_RBUF_SIZE);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	if (c->rev == NULL || c->wev == NULL)
		abort();		/* only on OOM, like xmalloc */
	c->timer = reactor_timer_new(n->r, conn_timer_cb, c);
	TAILQ_INSERT_TAIL(&n->conns, c, entry);
	n->nconns++;
	return c;
}

/* Runs from the loop: nothing else refers to c any more. */
static void
conn_free(void *arg)
{
	struct conn	*c = arg;

	event_free(c->rev);
	event_free(c->wev);
	reactor_timer_free(c->timer);
	if (c->fd != -1)
		close(c->fd);
	peer_free(c->peer);
	free(c->serve);
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
	conn_log(c, LOG_DEBUG, "dropped: %s", why);
	event_del(c->rev);
	event_del(c->wev);
	reactor_timer_cancel(c->timer);
	if (c->dirty) {
		TAILQ_REMOVE(&n->dirty, c, dirty_entry);
		c->dirty = false;
	}
	TAILQ_REMOVE(&n->conns, c, entry);
	n->nconns--;
	/* Closing now frees the port; the fd number is not reused by us. */
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->t != NULL)
		torrent_detach(c->t, c);
	reactor_defer_free(n->r, conn_free, c);
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
			return c->created + PEER_HANDSHAKE_MS;
		break;
	case CONN_ACTIVE:
		break;
	}
	return peer_deadline(c->peer);
}

void
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
net_out_pending(struct conn *c)
{
	return c->peer == NULL ? 0 : peer_out(c->peer)->len - c->out_off;
}

void
net_flush(struct conn *c)
{
	struct buf	*out;
	ssize_t		 n;

	if (c->dead || c->peer == NULL || c->state == CONN_CONNECTING)
		return;
	out = peer_out(c->peer);
	while (c->out_off < out->len) {
		n = send(c->fd, out->data + c->out_off, out->len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			net_close(c, "write: %s", n == 0 ? "no progress" :
			    strerror(errno));
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == out->len) {
		buf_reset(out);
		c->out_off = 0;
		event_del(c->wev);
		return;
	}
	/* Keep the peer's queue under its cap: drop what went out. */
	if (c->out_off >= out->len / 2) {
		memmove(out->data, out->data + c->out_off,
		    out->len - c->out_off);
		out->len -= c->out_off;
		c->out_off = 0;
	}
	if (!event_pending(c->wev, EV_WRITE, NULL))
		event_add(c->wev, NULL);
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
		net_flush(c);
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

/* After input or a tick: let the torrent act, write, re-arm. */
static void
conn_settle(struct conn *c)
{
	if (c->dead || c->peer == NULL)
		return;
	if (c->state == CONN_ACTIVE)
		torrent_after_input(c->t, c);
	if (!conn_check_peer(c, GT_OK))
		return;
	net_flush(c);
	net_rearm(c);
}

/* The 68-byte handshake at the front of the buffer. */
static bool
conn_on_handshake(struct conn *c)
{
	struct wire_handshake	 hs;
	struct torrent		*t;
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
	if (c->t == NULL) {
		if ((t = session_find(c->net->s, hs.info_hash)) == NULL) {
			net_close(c, "handshake for an unknown info-hash");
			return false;
		}
		if (torrent_accept(t, c, &why) != GT_OK) {
			net_close(c, "%s", why != NULL ? why : "refused");
			return false;
		}
	}
	if (torrent_handshake(c->t, c, &hs, &why) != GT_OK) {
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

/*
 * The torrent has written the blocks decoded in place (torrent_after_input
 * does): the consumed bytes may go.
 */
static void
conn_compact(struct conn *c)
{
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
		if (c->state == CONN_ACTIVE) {
			torrent_after_input(c->t, c);
			if (!conn_check_peer(c, GT_OK))
				return;
		}
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
	conn_log(c, LOG_TRACE, "TCP connected");
	event_del(c->wev);
	event_add(c->rev, NULL);
	net_flush(c);			/* our handshake */
	net_rearm(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_CONNECTING) {
		conn_connected(c);
		return;
	}
	net_flush(c);
	if (!c->dead && c->state == CONN_ACTIVE &&
	    net_out_pending(c) < TORRENT_SERVE_HIGH) {
		torrent_writable(c->t, c);
		if (conn_check_peer(c, GT_OK))
			net_flush(c);
	}
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
		if (c->peer == NULL && now >= c->created + PEER_HANDSHAKE_MS) {
			net_close(c, "no handshake in %u ms",
			    PEER_HANDSHAKE_MS);
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
net_connect(struct net *n, struct torrent *t, const struct netaddr *a)
{
	struct sockaddr_storage	 ss;
	struct conn		*c;
	socklen_t		 len;
	int			 fd, r;

	(void)t;
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
		char	name[ADDR_STRLEN];

		log_debug("[%s] dropped: connect: %s", addr_str(a, name),
		    strerror(errno));
		close(fd);
		return NULL;
	}
	c = conn_new(n, fd, a, true);
	event_add(c->wev, NULL);	/* writable = connected (or failed) */
	net_rearm(c);
	return c;
}

size_t
net_nconns(const struct net *n)
{
	return n->nconns;
}

/* ---- listener ------------------------------------------------------------ */

static void
net_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct net		*n = arg;
	struct sockaddr_storage	 ss;
	struct netaddr		 a;
	struct conn		*c;
	socklen_t		 len;
	int			 fd, i;

	(void)what;
	for (i = 0; i < NET_ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!sockaddr_to_netaddr((struct sockaddr *)&ss, &a)) {
			close(fd);
			continue;
		}
		if (n->nconns >= n->s->max_peers) {
			char	name[ADDR_STRLEN];

			log_debug("[%s] dropped: over %u connections",
			    addr_str(&a, name), n->s->max_peers);
			close(fd);
			continue;
		}
		sock_tune(fd);
		c = conn_new(n, fd, &a, false);
		conn_log(c, LOG_TRACE, "accepted");
		event_add(c->rev, NULL);
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
		    listen(fd, 128) == 0 &&
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
			event_add(n->lev, NULL);
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
net_new(struct session *s)
{
	struct net	*n;

	n = xcalloc(1, sizeof(*n));
	n->s = s;
	n->r = s->r;
	n->lfd = -1;
	TAILQ_INIT(&n->conns);
	TAILQ_INIT(&n->dirty);
	n->flush_ev = event_new(reactor_base(n->r), -1, 0, net_flush_cb, n);
	if (n->flush_ev == NULL)
		abort();
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
	event_free(n->flush_ev);
	free(n);
}
