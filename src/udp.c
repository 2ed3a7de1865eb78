/* udp.c - the one UDP socket on the reactor, and UDP tracker exchanges */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/errqueue.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "addr.h"
#include "krpc.h"
#include "log.h"
#include "reactor.h"
#include "sockaddr.h"
#include "tracker-udp.h"
#include "udp.h"
#include "util.h"

#define UDP_READ_BATCH	64	/* datagrams read per wakeup, at most */
/* One datagram of either kind, and a byte to see an oversized one. */
#define UDP_RBUF	(MAX(TRACKER_UDP_MAX_PACKET, KRPC_MAX_PACKET) + 1)

/*
 * How it runs: a request parses its URL, resolves the host (numeric hosts
 * at once, names through evdns), then hands the exchange to the tracker's
 * struct tracker_udp, found by address (one per tracker, kept so its
 * connection id is reused).  After every input (a datagram, a timer, a new
 * exchange) udp_pump sends what the trackers queued, hands out their
 * results and re-arms the one timer at the earliest deadline.  ICMP errors
 * (IP_RECVERR) end a tracker's exchanges at once: a closed port fails fast
 * instead of after 15 s.
 *
 * The DHT shares the socket (BEP 5 on the port udp_bind chose): a datagram
 * whose first byte is 'd' is KRPC (a bencoded dict; a BEP 15 reply starts
 * with a 4-byte action 0..3, so with a 0) and goes to the krpc hooks,
 * whatever its source; ICMP errors go to both sides.  At most
 * UDP_READ_BATCH datagrams are read per wakeup, so a flood cannot starve
 * the loop.
 *
 * Callbacks may call udp_announce, udp_scrape, udp_cancel and udp_free:
 * a request is off the list before its callback runs, walks restart after
 * each callback, and udp_free inside a callback only marks the udp dead
 * (busy > 0); the outermost libevent callback frees it (udp_reap).
 */

enum udp_req_state {
	UDP_REQ_RESOLVING,	/* waiting for evdns */
	UDP_REQ_RUNNING,	/* handed to the tracker */
	UDP_REQ_FAILED,		/* to report from the kick timer */
	UDP_REQ_CANCELLED,	/* cancelled while resolving: evdns frees */
};

struct udp_tracker {
	struct netaddr		  a;
	struct tracker_udp	 *tu;
	uint64_t		  used;		/* last exchange started (ms) */
	TAILQ_ENTRY(udp_tracker)  entry;
};
TAILQ_HEAD(udp_trackers, udp_tracker);

struct udp_req {
	struct udp		 *u;
	enum udp_req_state	  state;
	enum tracker_udp_kind	  kind;
	char			  host[UDP_MAX_HOST + 1];
	uint16_t		  port;
	char			 *urldata;	/* BEP 41: path and query */
	struct tracker_req	  tr;		/* announce */
	uint8_t			(*hashes)[SHA1_LEN];	/* scrape */
	size_t			  nhashes;
	unsigned		  tries;
	struct evdns_getaddrinfo_request *dns;
	struct udp_tracker	 *t;		/* RUNNING */
	uint32_t		  id;		/* RUNNING: the exchange */
	struct tracker_udp_result res;		/* FAILED */
	udp_done_fn		 *done;
	void			 *arg;
	TAILQ_ENTRY(udp_req)	  entry;
};
TAILQ_HEAD(udp_reqs, udp_req);

struct udp {
	struct reactor		*r;
	struct prng		 rng;		/* seeds for each tracker */
	int			 fd;		/* -1 until first use */
	uint16_t		 port;		/* fd's */
	bool			 v6;		/* fd reaches IPv6 (dual-stack,
					   unless v6only) */
	bool			 v6only;	/* bound to an IPv6 address */
	struct netaddr		 bind;		/* udp_set_bind's; family 0:
					   any */
	struct event		*ev;
	uint8_t			*rbuf;		/* one datagram, and a byte */
	struct evdns_base	*dns;		/* NULL until a name is used */
	struct reactor_timer	*timer;		/* earliest tracker deadline */
	struct reactor_timer	*kick;		/* reports failed requests */
	struct udp_trackers	 trackers;
	size_t			 ntrackers;
	struct udp_reqs		 reqs;
	struct udp_krpc_hooks	 krpc;		/* datagram NULL: none */
	unsigned		 busy;		/* user callbacks running */
	bool			 dead;		/* udp_free ran inside one */
};

static void	udp_pump(struct udp *);
static void	udp_destroy(struct udp *);

/* Runs q's callback; false if the udp was freed inside it. */
static bool
udp_req_report(struct udp *u, struct udp_req *q,
    struct tracker_udp_result *res)
{
	u->busy++;
	if (q->done != NULL)
		q->done(q->arg, res);
	u->busy--;
	return !u->dead;
}

/* Ends an outermost libevent callback: frees the udp if it was freed. */
static void
udp_reap(struct udp *u)
{
	if (u->dead && u->busy == 0)
		udp_destroy(u);
}

static void
udp_req_free(struct udp_req *q)
{
	free(q->urldata);
	free(q->hashes);
	free(q);
}

/* ---- URLs ---------------------------------------------------------------- */

/*
 * "udp://host:port[/path][?query]" -> host, port and the BEP 41 URL data
 * (path and query, or "" when the path is just "/" or empty).
 */
static bool
udp_parse_url(const char *url, char *host, uint16_t *port, const char **rest)
{
	const char	*p, *h, *he, *ps;
	unsigned long	 n;
	char		*end;
	size_t		 len;

	if (strncasecmp(url, "udp://", 6) != 0)
		return false;
	h = url + 6;
	if (*h == '[') {
		he = strchr(h, ']');
		if (he == NULL || he[1] != ':')
			return false;
		len = (size_t)(he - h - 1);
		h++;
		ps = he + 2;
	} else {
		he = strchr(h, ':');
		if (he == NULL)
			return false;
		len = (size_t)(he - h);
		ps = he + 1;
	}
	if (len == 0 || len > UDP_MAX_HOST)
		return false;
	for (p = h; p < h + len; p++)
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == '@' ||
		    *p == '?' || *p == '#' || (unsigned char)*p >= 0x7f)
			return false;
	if (*ps < '0' || *ps > '9')
		return false;
	errno = 0;
	n = strtoul(ps, &end, 10);
	if (errno != 0 || n == 0 || n > 65535)
		return false;
	if (*end != '\0' && *end != '/' && *end != '?')
		return false;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (uint16_t)n;
	*rest = end;
	return true;
}

bool
udp_url_ok(const char *url)
{
	char		 host[UDP_MAX_HOST + 1];
	uint16_t	 port;
	const char	*rest;

	return udp_parse_url(url, host, &port, &rest);
}

/* ---- the socket ---------------------------------------------------------- */

static struct udp_tracker *
udp_tracker_find(struct udp *u, const struct netaddr *a)
{
	struct udp_tracker	*t;

	TAILQ_FOREACH(t, &u->trackers, entry)
		if (addr_eq(&t->a, a))
			return t;
	return NULL;
}

/* The requests on t end with e: an ICMP error, or the tracker forgotten. */
static void
udp_tracker_fail(struct udp *u, struct udp_tracker *t, enum gt_err e,
    const char *why)
{
	struct udp_req	*q, *next;

	for (q = TAILQ_FIRST(&u->reqs); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if (q->state != UDP_REQ_RUNNING || q->t != t)
			continue;
		tracker_udp_cancel(t->tu, q->id);
		q->state = UDP_REQ_FAILED;
		q->t = NULL;
		q->res.kind = q->kind;
		q->res.e = e;
		snprintf(q->res.err, sizeof(q->res.err), "%s", why);
		reactor_timer_in(u->kick, 0);
	}
}

/* Hands one datagram to the KRPC side; false if the udp was freed. */
static bool
udp_krpc_datagram(struct udp *u, const uint8_t *pkt, size_t len,
    const struct netaddr *from)
{
	u->busy++;
	u->krpc.datagram(u->krpc.arg, pkt, len, from);
	u->busy--;
	return !u->dead;
}

static void
udp_krpc_unreachable(struct udp *u, const struct netaddr *a)
{
	if (u->krpc.unreachable == NULL)
		return;
	u->busy++;
	u->krpc.unreachable(u->krpc.arg, a);
	u->busy--;
}

static void
udp_krpc_after(struct udp *u)
{
	if (u->krpc.after_input == NULL || u->dead)
		return;
	u->busy++;
	u->krpc.after_input(u->krpc.arg);
	u->busy--;
}

/* Reads ICMP errors; true if one was for the KRPC side. */
static bool
udp_read_errqueue(struct udp *u)
{
	struct sockaddr_storage	 ss;
	union {
		char		 buf[512];
		struct cmsghdr	 align;
	}			 cbuf;
	struct msghdr		 mh;
	struct cmsghdr		*cm;
	struct sock_extended_err *ee;
	struct udp_tracker	*t;
	struct netaddr		 a;
	char			 why[TRACKER_ERRLEN], as[ADDR_STRLEN];
	int			 i;
	bool			 krpc = false;

	for (i = 0; i < UDP_READ_BATCH && !u->dead; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &ss;
		mh.msg_namelen = sizeof(ss);
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		if (recvmsg(u->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return krpc;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			if (!((cm->cmsg_level == SOL_IP &&
			    cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == SOL_IPV6 &&
			    cm->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (struct sock_extended_err *)(void *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ICMP &&
			    ee->ee_origin != SO_EE_ORIGIN_ICMP6 &&
			    ee->ee_origin != SO_EE_ORIGIN_LOCAL)
				continue;
			if (!sockaddr_to_netaddr((struct sockaddr *)&ss, &a))
				continue;
			if (u->krpc.datagram != NULL) {
				udp_krpc_unreachable(u, &a);
				krpc = true;
				if (u->dead)
					return krpc;
			}
			if ((t = udp_tracker_find(u, &a)) == NULL)
				continue;
			snprintf(why, sizeof(why), "%s: %s",
			    addr_str(&a, as), strerror((int)ee->ee_errno));
			log_debug("udp tracker %s", why);
			udp_tracker_fail(u, t, GT_EIO, why);
		}
	}
	return krpc;
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp		*u = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct udp_tracker	*t;
	struct netaddr		 a;
	ssize_t			 n;
	int			 i;
	bool			 krpc = false;

	(void)what;
	for (i = 0; i < UDP_READ_BATCH && !u->dead; i++) {
		sl = sizeof(ss);
		n = recvfrom(fd, u->rbuf, UDP_RBUF, MSG_DONTWAIT,
		    (struct sockaddr *)&ss, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN too: a send may have taken the error
			   (sk_err) and left its entry in the queue, which
			   keeps epoll reporting EPOLLERR */
			if (udp_read_errqueue(u))
				krpc = true;
			break;
		}
		if (!sockaddr_to_netaddr((struct sockaddr *)&ss, &a))
			continue;
		if (n > 0 && u->rbuf[0] == 'd' && u->krpc.datagram != NULL) {
			krpc = true;
			if (!udp_krpc_datagram(u, u->rbuf, (size_t)n, &a))
				break;
			continue;
		}
		if ((t = udp_tracker_find(u, &a)) == NULL) {
			log_trace("udp: %zd bytes from a stranger", n);
			continue;
		}
		if ((size_t)n > TRACKER_UDP_MAX_PACKET) {
			log_debug("udp: oversized datagram from a tracker");
			continue;
		}
		if (tracker_udp_on_datagram(t->tu, u->rbuf, (size_t)n,
		    reactor_now_ms(u->r)) != GT_OK)
			log_debug("udp: stray datagram (%zd bytes)", n);
	}
	if (krpc)
		udp_krpc_after(u);
	if (!u->dead)
		udp_pump(u);
	udp_reap(u);
}

/* fd, bound to port, is the socket from now on. */
static void
udp_ready(struct udp *u, int fd, uint16_t port)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);
	struct netaddr		a;

	u->fd = fd;
	u->port = port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    sockaddr_to_netaddr((struct sockaddr *)&ss, &a))
		u->port = a.port;
	u->ev = event_new(reactor_base(u->r), fd, EV_READ | EV_PERSIST,
	    udp_read_cb, u);
	if (u->ev == NULL || event_add(u->ev, NULL) != 0)
		abort();		/* only on OOM, like xmalloc */
	u->rbuf = xmalloc(UDP_RBUF);
	log_debug("udp: socket open on port %u (%s)", u->port,
	    u->v6only ? "IPv6" : u->v6 ? "dual-stack" : "IPv4");
}

/* A non-blocking UDP socket of family, or -1 (said in err, may be NULL). */
static int
udp_socket(int family, char *err)
{
	int	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		if (err != NULL)
			(void)gt_fail(err, GT_EIO, "UDP socket: %s",
			    strerror(errno));
		log_warn("udp: socket: %s", strerror(errno));
	}
	return fd;
}

/* udp_open on the address of udp_set_bind alone (its family only). */
static bool
udp_open_bound(struct udp *u, uint16_t port, char *err)
{
	struct sockaddr_storage	ss;
	struct netaddr		l = u->bind;
	socklen_t		sl;
	int			fd, on = 1;
	char			as[ADDR_STRLEN];

	l.port = port;
	sl = sockaddr_from_netaddr(&l, false, &ss);
	if ((fd = udp_socket(ss.ss_family, err)) < 0)
		return false;
	if (l.family == ADDR_V6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		if (err != NULL)
			(void)gt_fail(err, GT_EIO, "UDP %s: %s",
			    addr_str(&l, as), strerror(errno));
		else
			log_warn("udp: bind to %s: %s", addr_str(&l, as),
			    strerror(errno));
		close(fd);
		return false;
	}
	u->v6 = u->v6only = l.family == ADDR_V6;
	if (u->v6)
		(void)setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
	else
		(void)setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
	udp_ready(u, fd, port);
	return true;
}

/* Can the socket send to an address of this family? */
static bool
udp_reaches(const struct udp *u, uint8_t family)
{
	return family == ADDR_V6 ? u->v6 : !u->v6only;
}

/*
 * Opens the socket on port (0: an ephemeral one): dual-stack where the
 * machine has IPv6, else IPv4.  false, and err (GT_ERRLEN bytes; may be
 * NULL) saying why, when it cannot.
 */
static bool
udp_open(struct udp *u, uint16_t port, char *err)
{
	struct sockaddr_in6	sin6;
	struct sockaddr_in	sin;
	int			fd, off = 0, on = 1;

	if (u->fd >= 0)
		return true;
	if (u->bind.family != 0)
		return udp_open_bound(u, port, err);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
	    sizeof(off)) == 0) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_any;
		sin6.sin6_port = htons(port);
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0) {
			u->v6 = true;
			(void)setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on,
			    sizeof(on));
			(void)setsockopt(fd, SOL_IP, IP_RECVERR, &on,
			    sizeof(on));
			goto ready;
		}
	}
	if (fd >= 0)
		close(fd);
	if ((fd = udp_socket(AF_INET, err)) < 0)
		return false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		if (err != NULL)	/* the caller says it */
			(void)gt_fail(err, GT_EIO, "UDP port %u: %s", port,
			    strerror(errno));
		else
			log_warn("udp: bind to port %u: %s", port,
			    strerror(errno));
		close(fd);
		return false;
	}
	u->v6 = false;
	(void)setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
ready:
	udp_ready(u, fd, port);
	return true;
}

/*
 * sendto, again when it fails with an ICMP error pending on the socket: with
 * IP_RECVERR, the kernel reports (and clears) that error at the next send,
 * whatever its address, and drops that datagram; the error itself comes
 * from the error queue too.  0, or the errno.
 */
static int
udp_sendto(struct udp *u, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *ss, socklen_t sl)
{
	int	i;

	for (i = 0; i < 3; i++) {
		if (sendto(u->fd, buf, len, 0, (const struct sockaddr *)ss,
		    sl) >= 0)
			return 0;
		switch (errno) {
		case EINTR:
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
		case EPROTO:
		case EMSGSIZE:
			continue;	/* maybe an earlier datagram's */
		default:
			return errno;
		}
	}
	return errno;
}

enum gt_err
udp_bind(struct udp *u, uint16_t port, char *err)
{
	if (u->fd >= 0) {
		if (port == 0 || port == u->port)
			return GT_OK;
		return gt_fail(err, GT_EEXIST, "UDP socket already open on "
		    "port %u", u->port);
	}
	return udp_open(u, port, err) ? GT_OK : GT_EIO;
}

void
udp_set_bind(struct udp *u, const struct netaddr *a)
{
	if (u->fd < 0)
		u->bind = *a;
}

uint16_t
udp_port(const struct udp *u)
{
	return u->fd >= 0 ? u->port : 0;
}

bool
udp_dual_stack(const struct udp *u)
{
	return u->fd >= 0 && u->v6;
}

void
udp_set_krpc(struct udp *u, const struct udp_krpc_hooks *h)
{
	if (h == NULL)
		memset(&u->krpc, 0, sizeof(u->krpc));
	else
		u->krpc = *h;
}

void
udp_send(struct udp *u, const struct netaddr *to, const uint8_t *buf,
    size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	char			as[ADDR_STRLEN];
	int			e;

	if (u->dead || !udp_open(u, 0, NULL))
		return;
	if (!udp_reaches(u, to->family)) {
		log_trace("udp: no IPv%u here for %s", to->family,
		    addr_str(to, as));
		return;
	}
	sl = sockaddr_from_netaddr(to, u->v6, &ss);
	if ((e = udp_sendto(u, buf, len, &ss, sl)) != 0)
		log_trace("udp: send to %s: %s", addr_str(to, as),
		    strerror(e));
}

static void
udp_send_all(struct udp *u, struct udp_tracker *t)
{
	struct sockaddr_storage	ss;
	socklen_t		sl;
	uint8_t			out[TRACKER_UDP_MAX_OUT];
	size_t			n;
	char			as[ADDR_STRLEN];
	int			e;

	sl = sockaddr_from_netaddr(&t->a, u->v6, &ss);
	while ((n = tracker_udp_next_datagram(t->tu, out, sizeof(out))) > 0) {
		if ((e = udp_sendto(u, out, n, &ss, sl)) != 0 &&
		    e != EAGAIN && e != EWOULDBLOCK) {
			char	why[TRACKER_ERRLEN];

			snprintf(why, sizeof(why), "%s: %s",
			    addr_str(&t->a, as), strerror(e));
			log_debug("udp tracker %s", why);
			udp_tracker_fail(u, t, GT_EIO, why);
		}
	}
}

/* Sends, reports results, re-arms the timer. */
static void
udp_pump(struct udp *u)
{
	struct tracker_udp_result	 res;
	struct udp_tracker		*t;
	struct udp_req			*q;
	uint64_t			 next = UINT64_MAX, d;

again:
	TAILQ_FOREACH(t, &u->trackers, entry) {
		if (u->fd >= 0)
			udp_send_all(u, t);
		if (tracker_udp_next_result(t->tu, &res)) {
			TAILQ_FOREACH(q, &u->reqs, entry)
				if (q->state == UDP_REQ_RUNNING &&
				    q->t == t && q->id == res.id)
					break;
			if (q != NULL) {
				TAILQ_REMOVE(&u->reqs, q, entry);
				if (!udp_req_report(u, q, &res)) {
					udp_req_free(q);
					tracker_udp_result_clear(&res);
					return;
				}
				udp_req_free(q);
			}
			tracker_udp_result_clear(&res);
			goto again;	/* the callback may add or cancel */
		}
	}
	TAILQ_FOREACH(t, &u->trackers, entry) {
		d = tracker_udp_deadline(t->tu);
		if (d < next)
			next = d;
	}
	if (next == UINT64_MAX)
		reactor_timer_cancel(u->timer);
	else
		reactor_timer_at(u->timer, next);
}

static void
udp_timer_cb(void *arg)
{
	struct udp		*u = arg;
	struct udp_tracker	*t;
	uint64_t		 now = reactor_now_ms(u->r);

	TAILQ_FOREACH(t, &u->trackers, entry)
		if (tracker_udp_deadline(t->tu) <= now)
			tracker_udp_tick(t->tu, now);
	udp_pump(u);
	udp_reap(u);
}

static void
udp_kick_cb(void *arg)
{
	struct udp	*u = arg;
	struct udp_req	*q;

again:
	TAILQ_FOREACH(q, &u->reqs, entry) {
		if (q->state != UDP_REQ_FAILED)
			continue;
		TAILQ_REMOVE(&u->reqs, q, entry);
		if (!udp_req_report(u, q, &q->res)) {
			udp_req_free(q);
			udp_reap(u);
			return;
		}
		udp_req_free(q);
		goto again;
	}
	udp_pump(u);
	udp_reap(u);
}

/* ---- requests ------------------------------------------------------------ */

static void
udp_req_fail(struct udp_req *q, enum gt_err e, const char *who,
    const char *why)
{
	q->state = UDP_REQ_FAILED;
	q->res.kind = q->kind;
	q->res.e = e;
	snprintf(q->res.err, sizeof(q->res.err), "%.200s: %.48s", who, why);
	reactor_timer_in(q->u->kick, 0);
}

/* A tracker for a, created (evicting the longest idle one) when new. */
static struct udp_tracker *
udp_tracker_get(struct udp *u, const struct netaddr *a)
{
	struct udp_tracker	*t, *old = NULL;
	struct udp_req		*q;
	bool			 busy;

	if ((t = udp_tracker_find(u, a)) != NULL)
		return t;
	if (u->ntrackers >= UDP_MAX_TRACKERS) {
		TAILQ_FOREACH(t, &u->trackers, entry) {
			busy = false;
			TAILQ_FOREACH(q, &u->reqs, entry)
				if (q->t == t)
					busy = true;
			if (!busy && (old == NULL || t->used < old->used))
				old = t;
		}
		if (old == NULL)
			return NULL;
		TAILQ_REMOVE(&u->trackers, old, entry);
		tracker_udp_free(old->tu);
		free(old);
		u->ntrackers--;
	}
	t = xcalloc(1, sizeof(*t));
	t->a = *a;
	t->tu = tracker_udp_new(a->family == ADDR_V6, prng_next(&u->rng));
	TAILQ_INSERT_TAIL(&u->trackers, t, entry);
	u->ntrackers++;
	return t;
}

static void
udp_req_start(struct udp_req *q, const struct netaddr *a)
{
	struct udp	*u = q->u;
	struct udp_tracker *t;
	uint64_t	 now = reactor_now_ms(u->r);
	char		 as[ADDR_STRLEN];

	if (!udp_reaches(u, a->family)) {
		udp_req_fail(q, GT_EIO, addr_str(a, as), a->family ==
		    ADDR_V6 ? "no IPv6 here" : "no IPv4 here (--bind)");
		return;
	}
	if ((t = udp_tracker_get(u, a)) == NULL) {
		udp_req_fail(q, GT_EIO, addr_str(a, as),
		    "too many UDP trackers");
		return;
	}
	t->used = now;
	q->t = t;
	q->state = UDP_REQ_RUNNING;
	if (q->kind == TRACKER_UDP_ANNOUNCE)
		q->id = tracker_udp_announce(t->tu, &q->tr, q->urldata,
		    q->tries, now);
	else
		q->id = tracker_udp_scrape(t->tu,
		    (const uint8_t (*)[SHA1_LEN])q->hashes, q->nhashes,
		    q->tries, now);
	log_debug("udp tracker %s: %s", addr_str(a, as),
	    q->kind == TRACKER_UDP_ANNOUNCE ? "announce" : "scrape");
	udp_pump(u);
}

static void
udp_dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct udp_req		*q = arg;
	struct udp		*u;
	struct evutil_addrinfo	*ai;
	struct netaddr		 a, pick;
	bool			 found = false;

	q->dns = NULL;
	if (q->state == UDP_REQ_CANCELLED) {
		TAILQ_REMOVE(&q->u->reqs, q, entry);
		udp_req_free(q);
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	if (result != 0) {
		if (result != EVUTIL_EAI_CANCEL)
			udp_req_fail(q, GT_ENOENT, q->host,
			    "name not resolved");
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	/* IPv4 first when both exist and the socket is not dual-stack. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (!sockaddr_to_netaddr(ai->ai_addr, &a))
			continue;
		if (!udp_reaches(q->u, a.family))
			continue;
		pick = a;
		found = true;
		break;
	}
	evutil_freeaddrinfo(res);
	if (!found) {
		udp_req_fail(q, GT_ENOENT, q->host, "no usable address");
		return;
	}
	pick.port = q->port;
	u = q->u;
	udp_req_start(q, &pick);
	udp_reap(u);
}

static struct udp_req *
udp_req_new(struct udp *u, const char *url, enum tracker_udp_kind kind,
    unsigned tries, udp_done_fn *done, void *arg)
{
	struct udp_req	*q;
	const char	*rest;

	if (u->dead)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	if (!udp_parse_url(url, q->host, &q->port, &rest) ||
	    !udp_open(u, 0, NULL)) {
		free(q);
		return NULL;
	}
	q->u = u;
	q->kind = kind;
	q->tries = tries;
	q->done = done;
	q->arg = arg;
	q->urldata = xstrdup(strcmp(rest, "/") == 0 ? "" : rest);
	TAILQ_INSERT_TAIL(&u->reqs, q, entry);
	return q;
}

static void
udp_req_go(struct udp_req *q)
{
	struct udp			*u = q->u;
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *dr;
	struct netaddr			 a;

	if (addr_parse_ip(q->host, &a) == GT_OK) {
		a.port = q->port;
		udp_req_start(q, &a);
		return;
	}
	if (u->dns == NULL) {
		u->dns = evdns_base_new(reactor_base(u->r),
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (u->dns == NULL)
			u->dns = evdns_base_new(reactor_base(u->r),
			    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (u->dns == NULL) {
			udp_req_fail(q, GT_ENOENT, q->host, "no resolver");
			return;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	q->state = UDP_REQ_RESOLVING;
	dr = evdns_getaddrinfo(u->dns, q->host, NULL, &hints, udp_dns_cb, q);
	if (q->state == UDP_REQ_RESOLVING)	/* not answered at once */
		q->dns = dr;
}

struct udp_req *
udp_announce(struct udp *u, const char *url, const struct tracker_req *tr,
    unsigned tries, udp_done_fn *done, void *arg)
{
	struct udp_req	*q;

	if ((q = udp_req_new(u, url, TRACKER_UDP_ANNOUNCE, tries, done,
	    arg)) == NULL)
		return NULL;
	q->tr = *tr;
	q->tr.tracker_id = NULL;		/* HTTP only */
	udp_req_go(q);
	return q;
}

struct udp_req *
udp_scrape(struct udp *u, const char *url, const uint8_t (*hashes)[SHA1_LEN],
    size_t n, unsigned tries, udp_done_fn *done, void *arg)
{
	struct udp_req	*q;

	if (n == 0 || n > TRACKER_MAX_SCRAPE)
		return NULL;
	if ((q = udp_req_new(u, url, TRACKER_UDP_SCRAPE, tries, done,
	    arg)) == NULL)
		return NULL;
	q->hashes = xreallocarray(NULL, n, SHA1_LEN);
	memcpy(q->hashes, hashes, n * SHA1_LEN);
	q->nhashes = n;
	udp_req_go(q);
	return q;
}

void
udp_cancel(struct udp_req *q)
{
	if (q == NULL || q->state == UDP_REQ_CANCELLED)
		return;
	if (q->state == UDP_REQ_RESOLVING && q->dns != NULL) {
		/* evdns calls udp_dns_cb, now or later, which frees q */
		q->state = UDP_REQ_CANCELLED;
		q->done = NULL;
		evdns_getaddrinfo_cancel(q->dns);
		return;
	}
	if (q->state == UDP_REQ_RUNNING && q->t != NULL)
		tracker_udp_cancel(q->t->tu, q->id);
	TAILQ_REMOVE(&q->u->reqs, q, entry);
	udp_req_free(q);
}

/* ---- the object ---------------------------------------------------------- */

struct udp *
udp_new(struct reactor *r, uint64_t seed)
{
	struct udp	*u = xcalloc(1, sizeof(*u));

	u->r = r;
	u->fd = -1;
	prng_seed(&u->rng, seed);
	u->timer = reactor_timer_new(r, udp_timer_cb, u);
	u->kick = reactor_timer_new(r, udp_kick_cb, u);
	TAILQ_INIT(&u->trackers);
	TAILQ_INIT(&u->reqs);
	return u;
}

void
udp_free(struct udp *u)
{
	if (u == NULL || u->dead)
		return;
	u->dead = true;
	if (u->busy == 0)
		udp_destroy(u);
	/* else the callback running now returns, then udp_reap frees it */
}

static void
udp_destroy(struct udp *u)
{
	struct udp_tracker	*t;
	struct udp_req		*q;

again:
	TAILQ_FOREACH(q, &u->reqs, entry)
		if (q->state == UDP_REQ_RESOLVING && q->dns != NULL) {
			q->state = UDP_REQ_CANCELLED;
			q->done = NULL;
			evdns_getaddrinfo_cancel(q->dns);
			goto again;	/* the list may have changed */
		}
	if (u->dns != NULL)
		evdns_base_free(u->dns, 0);
	u->dns = NULL;
	while ((q = TAILQ_FIRST(&u->reqs)) != NULL) {
		TAILQ_REMOVE(&u->reqs, q, entry);
		if (q->state == UDP_REQ_RUNNING && q->t != NULL)
			tracker_udp_cancel(q->t->tu, q->id);
		udp_req_free(q);
	}
	while ((t = TAILQ_FIRST(&u->trackers)) != NULL) {
		TAILQ_REMOVE(&u->trackers, t, entry);
		tracker_udp_free(t->tu);
		free(t);
	}
	reactor_timer_free(u->timer);
	reactor_timer_free(u->kick);
	if (u->ev != NULL)
		event_free(u->ev);
	if (u->fd >= 0)
		close(u->fd);
	free(u->rbuf);
	free(u);
}
