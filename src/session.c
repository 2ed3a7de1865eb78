/* session.c - torrents, peer id, listen port, trackers, connections */
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "buf.h"
#include "crypto.h"
#include "dht.h"
#include "dht-keep.h"
#include "log.h"
#include "metainfo.h"
#include "net.h"
#include "reactor.h"
#include "session.h"
#include "share.h"
#include "sockaddr.h"
#include "statefile.h"
#include "torrent.h"
#include "tracker-client.h"
#include "udp.h"
#include "util.h"
#include "wire.h"

#define SESSION_DHT_FILE	"dht.dat"
#define SESSION_DHT_HOST	255	/* bytes of a bootstrap host name */

/* The well-known public routers (no test ever uses them). */
static const char *const session_dht_routers[] = {
	"router.bittorrent.com:6881",
	"router.utorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"dht.libtorrent.org:25401",
};

/* A bootstrap node's name being resolved. */
struct sresolve {
	struct session			 *s;
	struct evdns_getaddrinfo_request *req;	/* NULL: answered at once */
	uint16_t			  port;
	LIST_ENTRY(sresolve)		  entry;
	char				  host[SESSION_DHT_HOST + 1];
};
LIST_HEAD(sresolves, sresolve);

struct session {
	struct reactor		 *r;
	struct net		 *net;
	struct tracker_client	 *trackers;
	uint8_t			  peer_id[20];
	uint32_t		  key;		/* announce "key" */
	uint16_t		  port;		/* where we listen; 0 if not */
	uint32_t		  max_peers;
	uint8_t			 *hash_buf;	/* the torrents' (torrent.h) */
	uint8_t			 *scratch;
	struct netaddr		  local[SESSION_MAX_LOCAL];	/* our IPs */
	size_t			  nlocal;
	struct torrent		**torrents;
	struct share_use	 *use;		/* torrents[i]'s, for the caps */
	size_t			  ntorrents;
	struct share_caps	  caps;		/* connections, connects */

	/* The DHT (NULL when off) on the udp it shares with the trackers. */
	struct udp		 *udp;
	struct dht		 *dht;
	uint16_t		  dht_port;
	struct reactor_timer	 *dht_timer;	/* dht_deadline */
	struct reactor_timer	 *dht_kick;	/* re-arm it, from the loop */
	struct dht_keep		  keep;		/* saves, routers: when */
	struct reactor_timer	 *keep_timer;	/* its deadline */
	struct dht_hooks	  watch;	/* session_dht_watch's */
	char			 *state_dir;	/* NULL: state not kept */
	struct evdns_base	 *dns;		/* bootstrap names */
	struct sresolves	  resolving;
};

static void
session_add_local(struct session *s, const struct netaddr *a)
{
	size_t	i;

	for (i = 0; i < s->nlocal; i++)
		if (addr_ip_eq(&s->local[i], a))
			return;
	if (s->nlocal < SESSION_MAX_LOCAL)
		s->local[s->nlocal++] = *a;
}

/* Our interface addresses, to recognise ourselves in peer lists. */
static void
session_find_local(struct session *s)
{
	struct ifaddrs	*ifa, *i;
	struct netaddr	 a;

	if (getifaddrs(&ifa) == -1) {
		log_debug("%s: getifaddrs failed", __func__);
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL &&
		    sockaddr_to_netaddr(i->ifa_addr, &a))
			session_add_local(s, &a);
	freeifaddrs(ifa);
}

static size_t
session_index(const struct session *s, const struct torrent *t)
{
	size_t	i;

	for (i = 0; i < s->ntorrents; i++)
		if (s->torrents[i] == t)
			break;
	return i;
}

/* net: an inbound connection's handshake names a torrent. */
static enum gt_err
session_accept(void *arg, struct conn *c, const struct wire_handshake *hs,
    const char **why)
{
	struct session	*s = arg;
	struct torrent	*t;
	size_t		 i;

	if ((t = session_find(s, hs->info_hash)) == NULL) {
		*why = "handshake for an unknown info-hash";
		return GT_ENOENT;
	}
	i = session_index(s, t);
	if (s->ntorrents > 1 && !share_may_accept(&s->caps, s->use,
	    s->ntorrents, i, reactor_now_ms(s->r))) {
		*why = "over the torrent's fair share of connections";
		return GT_ERANGE;
	}
	return torrent_accept(t, c, why);
}

/* A torrent's tick: its use noted, its fair share of the caps. */
static uint32_t
session_room(void *arg, const struct torrent *t, uint32_t conns,
    uint32_t half_open, uint32_t want)
{
	struct session	*s = arg;
	uint64_t	 now = reactor_now_ms(s->r);
	size_t		 i = session_index(s, t), all;

	if (i == s->ntorrents)
		return 0;
	s->use[i] = (struct share_use){
		.conns = conns, .half_open = half_open, .want = want,
		.ms = now,
	};
	all = net_nconns(s->net);
	return share_room(&s->caps, s->use, s->ntorrents, i,
	    all > UINT32_MAX ? UINT32_MAX : (uint32_t)all, now);
}

/* ---- the DHT node -------------------------------------------------------- */

static void
session_dht_rearm(struct session *s)
{
	uint64_t	d;

	if (s->dht == NULL)
		return;
	if ((d = dht_deadline(s->dht)) == UINT64_MAX)
		reactor_timer_cancel(s->dht_timer);
	else
		reactor_timer_at(s->dht_timer, d);
}

/* The node's deadline may have moved inside a call: re-arm from the loop. */
static void
session_dht_soon(void *arg)
{
	struct session	*s = arg;

	if (s->dht != NULL && !reactor_timer_pending(s->dht_kick))
		reactor_timer_in(s->dht_kick, 0);
}

static void
session_dht_kick_cb(void *arg)
{
	session_dht_rearm(arg);
}

static void
session_dht_timer_cb(void *arg)
{
	struct session	*s = arg;

	dht_tick(s->dht, reactor_now_ms(s->r));
	session_dht_rearm(s);
}

/* -- the node's hooks -- */

static void
sdht_send(void *arg, const struct netaddr *to, const uint8_t *buf,
    size_t len)
{
	struct session	*s = arg;

	udp_send(s->udp, to, buf, len);
	session_dht_soon(s);
}

static void
sdht_peers(void *arg, const uint8_t info_hash[20], const struct netaddr *a,
    size_t n)
{
	struct session	*s = arg;
	struct torrent	*t;

	if ((t = session_find(s, info_hash)) != NULL)
		torrent_dht_peers(t, a, n);
	if (s->watch.peers != NULL)
		s->watch.peers(s->watch.arg, info_hash, a, n);
}

static void
sdht_search_done(void *arg, const uint8_t info_hash[20],
    const struct dht_search_result *res)
{
	struct session	*s = arg;
	char		 hex[2 * SHA1_LEN + 1];

	hex_encode(hex, info_hash, SHA1_LEN);
	log_debug("dht: search %.8s (IPv%u) done in %u ms: %u queries, %u "
	    "answers, %u peers, %u announces", hex, res->family,
	    res->elapsed_ms, res->sent, res->answered, res->peers,
	    res->announced);
	if (s->watch.search_done != NULL)
		s->watch.search_done(s->watch.arg, info_hash, res);
}

static void
sdht_pong(void *arg, const struct netaddr *a, const uint8_t *id,
    const uint8_t *v, size_t vlen, uint32_t rtt_ms)
{
	struct session	*s = arg;

	if (s->watch.pong != NULL)
		s->watch.pong(s->watch.arg, a, id, v, vlen, rtt_ms);
}

/* -- the udp's KRPC side -- */

static void
sudp_datagram(void *arg, const uint8_t *pkt, size_t len,
    const struct netaddr *from)
{
	struct session	*s = arg;

	dht_on_datagram(s->dht, pkt, len, from, reactor_now_ms(s->r));
}

static void
sudp_unreachable(void *arg, const struct netaddr *a)
{
	struct session	*s = arg;

	dht_on_unreachable(s->dht, a, reactor_now_ms(s->r));
}

static void
sudp_after_input(void *arg)
{
	session_dht_rearm(arg);
}

/* -- state: state_dir/dht.dat -- */

/* mkdir -p path, new folders 0700. */
static bool
mkdir_p(const char *path)
{
	char	*p = xstrdup(path), *q;
	bool	 ok = true;

	for (q = p + 1; ok; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		if (q[-1] != '/') {
			char	c = *q;

			*q = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				ok = false;
			*q = c;
		}
		if (*q == '\0')
			break;
	}
	free(p);
	return ok;
}

/* Writes the node's state whole (statefile.h). */
static void
session_dht_save(struct session *s)
{
	struct buf	 b;
	char		*path, err[GT_ERRLEN];

	if (s->dht == NULL || s->state_dir == NULL)
		return;
	buf_init(&b, DHT_STATE_MAX);
	if (dht_save(s->dht, reactor_now_ms(s->r), &b) != GT_OK) {
		log_warn("dht: state too large to save");
		buf_clear(&b);
		return;
	}
	path = xasprintf("%s/%s", s->state_dir, SESSION_DHT_FILE);
	if (!mkdir_p(s->state_dir))
		log_warn("dht: cannot make %s: %s", s->state_dir,
		    strerror(errno));
	else if (statefile_write(NULL, path, b.data, b.len, err) != GT_OK)
		log_warn("dht: cannot save the state: %s", err);
	else
		log_debug("dht: state saved in %s (%zu bytes)", path, b.len);
	free(path);
	buf_clear(&b);
}

/*
 * Reads state_dir/dht.dat into the node: a hostile file like any input,
 * a bad one is a warning and ignored.  true if the node took it.
 */
static bool
session_dht_load(struct session *s)
{
	uint8_t		*data;
	char		*path, err[GT_ERRLEN];
	size_t		 len;
	enum gt_err	 e;
	bool		 ok = false;

	if (s->state_dir == NULL)
		return false;
	path = xasprintf("%s/%s", s->state_dir, SESSION_DHT_FILE);
	e = statefile_read(path, DHT_STATE_MAX, &data, &len, err);
	if (e != GT_OK) {
		if (e != GT_ENOENT)
			log_warn("dht: saved state ignored: %s", err);
		free(path);
		return false;
	}
	if (dht_load(s->dht, data, len, reactor_now_ms(s->r), err) != GT_OK)
		log_warn("dht: %s ignored: %s", path, err);
	else {
		log_debug("dht: state loaded from %s", path);
		ok = true;
	}
	free(data);
	free(path);
	return ok;
}

/* -- bootstrap -- */

static void
session_dht_add_bootstrap(struct session *s, struct netaddr *a)
{
	char	as[ADDR_STRLEN];

	addr_unmap(a);
	if (a->family == ADDR_V6 && !udp_dual_stack(s->udp))
		return;
	log_debug("dht: bootstrap from %s", addr_str(a, as));
	dht_bootstrap(s->dht, a, reactor_now_ms(s->r));
	session_dht_soon(s);
}

static void
session_dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct sresolve		*q = arg;
	struct session		*s = q->s;
	struct evutil_addrinfo	*ai;
	struct netaddr		 a;
	unsigned		 n = 0;

	if (s != NULL)		/* else orphaned by session_free */
		LIST_REMOVE(q, entry);
	if (s == NULL || result == EVUTIL_EAI_CANCEL)
		goto out;
	if (result != 0)
		log_warn("dht: bootstrap node %s not resolved: %s", q->host,
		    evutil_gai_strerror(result));
	for (ai = res; result == 0 && ai != NULL && n < 4; ai = ai->ai_next) {
		if (!sockaddr_to_netaddr(ai->ai_addr, &a))
			continue;
		a.port = q->port;
		session_dht_add_bootstrap(s, &a);
		n++;
	}
out:
	if (res != NULL)
		evutil_freeaddrinfo(res);
	free(q);
}

/*
 * "HOST:PORT" ("[v6]:PORT" too) into host and port; false when it is not
 * one.
 */
static bool
split_host_port(const char *hp, char *host, uint16_t *port)
{
	const char	*c, *h = hp;
	size_t		 len;
	char		*end;
	unsigned long	 n;

	if ((c = strrchr(hp, ':')) == NULL)
		return false;
	len = (size_t)(c - hp);
	if (*h == '[') {
		if (len < 2 || c[-1] != ']')
			return false;
		h++;
		len -= 2;
	}
	if (len == 0 || len > SESSION_DHT_HOST || c[1] < '0' || c[1] > '9')
		return false;
	errno = 0;
	n = strtoul(c + 1, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > 65535)
		return false;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (uint16_t)n;
	return true;
}

/* One bootstrap node: a numeric address at once, a name through evdns. */
static void
session_dht_bootstrap(struct session *s, const char *hp)
{
	struct evutil_addrinfo	 hints;
	struct sresolve		*q;
	struct evdns_getaddrinfo_request *req;
	struct netaddr		 a;

	if (addr_parse(hp, 0, &a) == GT_OK) {
		session_dht_add_bootstrap(s, &a);
		return;
	}
	q = xcalloc(1, sizeof(*q));
	if (!split_host_port(hp, q->host, &q->port)) {
		log_warn("dht: bootstrap node '%s' is not HOST:PORT", hp);
		free(q);
		return;
	}
	if (s->dns == NULL) {
		s->dns = evdns_base_new(reactor_base(s->r),
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (s->dns == NULL) {
			log_warn("dht: no resolver for bootstrap node %s", hp);
			free(q);
			return;
		}
	}
	q->s = s;
	LIST_INSERT_HEAD(&s->resolving, q, entry);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = udp_dual_stack(s->udp) ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	req = evdns_getaddrinfo(s->dns, q->host, NULL, &hints, session_dns_cb,
	    q);
	if (req != NULL)	/* else answered at once, and q freed */
		q->req = req;
}

static size_t
session_dht_good(struct session *s)
{
	struct dht_stats	st;

	dht_stats(s->dht, reactor_now_ms(s->r), &st);
	return st.good[0] + st.good[1];
}

/* Saves and the public routers, as dht-keep says. */
static void
session_keep_cb(void *arg)
{
	struct session	*s = arg;
	unsigned	 a;
	size_t		 i;

	a = dht_keep_tick(&s->keep, session_dht_good(s), reactor_now_ms(s->r));
	if (a & DHT_KEEP_SAVE)
		session_dht_save(s);
	for (i = 0; (a & DHT_KEEP_ROUTERS) && i < nitems(session_dht_routers);
	    i++)
		session_dht_bootstrap(s, session_dht_routers[i]);
	if (dht_keep_deadline(&s->keep) != UINT64_MAX)
		reactor_timer_at(s->keep_timer, dht_keep_deadline(&s->keep));
}

/*
 * The node on a udp bound to the DHT port (opts, else the listen port if
 * free, else any); trackers share it.
 */
static enum gt_err
session_dht_new(struct session *s, const struct session_opts *o, char *err)
{
	struct udp_krpc_hooks	 uh = {
		.datagram = sudp_datagram, .unreachable = sudp_unreachable,
		.after_input = sudp_after_input, .arg = s,
	};
	struct dht_hooks	 dh = {
		.send = sdht_send, .peers = sdht_peers,
		.search_done = sdht_search_done, .pong = sdht_pong, .arg = s,
	};
	struct dht_opts		 dopt;
	uint64_t		 seed;
	size_t			 i;
	uint16_t		 port = o->dht_port != 0 ? o->dht_port : s->port;
	enum gt_err		 e;
	bool			 loaded;

	rand_bytes(&seed, sizeof(seed));
	s->udp = udp_new(s->r, seed);
	if (o->bind.family != 0)
		udp_set_bind(s->udp, &o->bind);
	if ((e = udp_bind(s->udp, port, err)) != GT_OK) {
		if (o->dht_port != 0 || port == 0)
			return e;
		log_info("dht: UDP port %u taken, using another", port);
		if ((e = udp_bind(s->udp, 0, err)) != GT_OK)
			return e;
	}
	s->dht_port = udp_port(s->udp);
	tracker_client_use_udp(s->trackers, s->udp);
	rand_bytes(&seed, sizeof(seed));
	dopt = (struct dht_opts){
		.v4 = o->bind.family != ADDR_V6, .v6 = udp_dual_stack(s->udp),
		.seed = seed,
	};
	s->dht = dht_new(&dopt, &dh, reactor_now_ms(s->r));
	s->dht_timer = reactor_timer_new(s->r, session_dht_timer_cb, s);
	s->dht_kick = reactor_timer_new(s->r, session_dht_kick_cb, s);
	s->keep_timer = reactor_timer_new(s->r, session_keep_cb, s);
	if (o->state_dir != NULL)
		s->state_dir = xstrdup(o->state_dir);
	udp_set_krpc(s->udp, &uh);
	loaded = session_dht_load(s);
	log_info("dht: node on UDP port %u (%s)", s->dht_port,
	    !dopt.v4 ? "IPv6" : dopt.v6 ? "IPv4 and IPv6" : "IPv4");
	for (i = 0; i < o->ndht_bootstrap; i++)
		session_dht_bootstrap(s, o->dht_bootstrap[i]);
	/* The public routers: now, later or never (dht-keep.h). */
	dht_keep_init(&s->keep, s->state_dir != NULL, loaded,
	    o->ndht_bootstrap > 0, reactor_now_ms(s->r));
	session_keep_cb(s);		/* the routers, now if due */
	session_dht_rearm(s);
	return GT_OK;
}

static void
session_dht_free(struct session *s)
{
	struct sresolve	*q;

	if (s->dht != NULL) {
		if (dht_keep_final(&s->keep, session_dht_good(s)))
			session_dht_save(s);
		else if (s->state_dir != NULL)
			log_debug("dht: no good node, state not saved");
		udp_set_krpc(s->udp, NULL);
	}
	while ((q = LIST_FIRST(&s->resolving)) != NULL) {
		evdns_getaddrinfo_cancel(q->req);	/* calls back: freed */
		if (LIST_FIRST(&s->resolving) == q) {
			/* not called back: orphaned, freed when it is */
			LIST_REMOVE(q, entry);
			q->s = NULL;
		}
	}
	if (s->dns != NULL)
		evdns_base_free(s->dns, 0);
	reactor_timer_free(s->dht_timer);
	reactor_timer_free(s->dht_kick);
	reactor_timer_free(s->keep_timer);
	dht_free(s->dht);
	free(s->state_dir);
}

uint16_t
session_dht_port(const struct session *s)
{
	return s->dht != NULL ? s->dht_port : 0;
}

struct dht *
session_dht(struct session *s)
{
	return s->dht;
}

void
session_dht_watch(struct session *s, const struct dht_hooks *h)
{
	if (h == NULL)
		memset(&s->watch, 0, sizeof(s->watch));
	else
		s->watch = *h;
}

enum gt_err
session_new(struct session **out, struct reactor *r,
    const struct session_opts *o, char *err)
{
	struct session	*s;
	struct net_opts	 no;
	struct net_hooks nh;
	enum gt_err	 e;
	char		 nerr[GT_ERRLEN];

	s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->max_peers = o->max_peers > 0 ? o->max_peers : SESSION_DEFAULT_PEERS;
	s->caps = (struct share_caps){
		.conns = s->max_peers, .half_open = SESSION_MAX_HALF_OPEN,
	};
	memcpy(s->peer_id, SESSION_PEER_ID_PREFIX, 8);
	rand_bytes(s->peer_id + 8, sizeof(s->peer_id) - 8);
	rand_bytes(&s->key, sizeof(s->key));
	LIST_INIT(&s->resolving);
	session_find_local(s);
	no = (struct net_opts){
		.max_conns = s->max_peers,
		.max_down_rate = o->max_down_rate,
		.max_up_rate = o->max_up_rate,
		.bind = o->bind,
	};
	nh = (struct net_hooks){ .accept = session_accept, .arg = s };
	s->net = net_new(r, &no, &nh);
	s->trackers = tracker_client_new(r);
	tracker_client_bind(s->trackers, &o->bind);
	if (o->listen && (e = net_listen(s->net, o->port, o->port_exact ? 1 :
	    NET_LISTEN_TRIES, &s->port, nerr)) != GT_OK) {
		session_free(s);
		if (o->port_exact && o->port != 0)
			return gt_fail(err, e, "%s (another -p N, or -p 0 for "
			    "any free port)", nerr);
		return gt_fail(err, e, "%s", nerr);
	}
	if (o->dht && (e = session_dht_new(s, o, err)) != GT_OK) {
		session_free(s);
		return e;
	}
	*out = s;
	return GT_OK;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	while (s->ntorrents > 0)
		session_remove_torrent(s, s->torrents[0]);
	session_dht_free(s);
	net_free(s->net);
	tracker_client_free(s->trackers);
	udp_free(s->udp);
	free(s->torrents);
	free(s->use);
	free(s->hash_buf);
	free(s->scratch);
	free(s);
}

uint16_t
session_port(const struct session *s)
{
	return s->port;
}

static bool
session_self_cb(void *arg, const struct netaddr *a)
{
	return session_is_self(arg, a);
}

/* What a torrent of s uses of it; NULL (err set) when s is full. */
static bool
session_host(struct session *s, const uint8_t *info_hash,
    struct torrent_host *h, enum gt_err *e, char *err)
{
	*h = (struct torrent_host){
		.r = s->r, .net = s->net, .trackers = s->trackers,
		.peer_id = s->peer_id, .port = s->port, .key = s->key,
		.user_agent = SESSION_USER_AGENT, .max_conns = s->max_peers,
		.dht = s->dht, .dht_port = s->dht_port,
		.dht_changed = session_dht_soon,
		.is_self = session_self_cb, .room = session_room, .arg = s,
	};
	if (s->scratch == NULL) {
		s->hash_buf = xmalloc(TORRENT_HASH_BUF);
		s->scratch = xmalloc(WIRE_MAX_REQUEST);
	}
	h->hash_buf = s->hash_buf;
	h->scratch = s->scratch;
	if (s->ntorrents == SESSION_MAX_TORRENTS) {
		*e = gt_fail(err, GT_ERANGE, "over %u torrents",
		    SESSION_MAX_TORRENTS);
		return false;
	}
	if (session_find(s, info_hash) != NULL) {
		*e = gt_fail(err, GT_EEXIST, "torrent already in the "
		    "session");
		return false;
	}
	return true;
}

/* t joins the torrents (session_host said there is room). */
static void
session_keep(struct session *s, struct torrent *t)
{
	s->torrents = xreallocarray(s->torrents, s->ntorrents + 1,
	    sizeof(*s->torrents));
	s->use = xreallocarray(s->use, s->ntorrents + 1, sizeof(*s->use));
	s->use[s->ntorrents] = (struct share_use){ .pending = true };
	s->torrents[s->ntorrents++] = t;
}

enum gt_err
session_add_torrent(struct session *s, const struct metainfo *m,
    const struct torrent_opts *o, const struct torrent_events *ev,
    struct torrent **out, char *err)
{
	struct torrent_host	 h;
	struct torrent		*t;
	enum gt_err		 e;

	if (!session_host(s, m->info_hash, &h, &e, err))
		return e;
	if ((e = torrent_new(&t, &h, m, o, ev, err)) != GT_OK)
		return e;
	session_keep(s, t);
	*out = t;
	return GT_OK;
}

enum gt_err
session_add_magnet(struct session *s, const uint8_t *info_hash,
    const char *name, const struct torrent_opts *o,
    const struct torrent_events *ev, struct torrent **out, char *err)
{
	struct torrent_host	 h;
	struct torrent		*t;
	enum gt_err		 e;

	if (!session_host(s, info_hash, &h, &e, err))
		return e;
	if ((e = torrent_new_magnet(&t, &h, info_hash, name, o, ev)) !=
	    GT_OK)
		return e;
	session_keep(s, t);
	*out = t;
	return GT_OK;
}

void
session_remove_torrent(struct session *s, struct torrent *t)
{
	size_t	i;

	if ((i = session_index(s, t)) < s->ntorrents) {
		s->ntorrents--;
		s->torrents[i] = s->torrents[s->ntorrents];
		s->use[i] = s->use[s->ntorrents];
	}
	torrent_free(t);
}

size_t
session_ntorrents(const struct session *s)
{
	return s->ntorrents;
}

struct torrent *
session_find(struct session *s, const uint8_t *info_hash)
{
	size_t	i;

	for (i = 0; i < s->ntorrents; i++)
		if (memcmp(torrent_info_hash(s->torrents[i]), info_hash,
		    SHA1_LEN) == 0)
			return s->torrents[i];
	return NULL;
}

bool
session_is_self(const struct session *s, const struct netaddr *a)
{
	static const uint8_t	zero[16];
	size_t			i;

	if (s->port == 0 || a->port != s->port)
		return false;
	if (addr_is_loopback(a) || memcmp(a->ip, zero,
	    a->family == ADDR_V4 ? 4 : 16) == 0)
		return true;
	for (i = 0; i < s->nlocal; i++)
		if (addr_ip_eq(&s->local[i], a))
			return true;
	return false;
}
