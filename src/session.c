/* session.c - torrents, peer id, listen port, trackers, connections */
#include <sys/types.h>
#include <sys/socket.h>

#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "metainfo.h"
#include "net.h"
#include "reactor.h"
#include "session.h"
#include "sockaddr.h"
#include "torrent.h"
#include "tracker-client.h"
#include "util.h"

struct session {
	struct reactor		 *r;
	struct net		 *net;
	struct tracker_client	 *trackers;
	uint8_t			  peer_id[20];
	uint32_t		  key;		/* announce "key" */
	uint16_t		  port;		/* where we listen; 0 if not */
	uint32_t		  max_peers;
	struct netaddr		  local[SESSION_MAX_LOCAL];	/* our IPs */
	size_t			  nlocal;
	struct torrent		 *torrents[SESSION_MAX_TORRENTS];
	size_t			  ntorrents;
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

/* net: an inbound connection's handshake names a torrent. */
static enum gt_err
session_accept(void *arg, struct conn *c, const struct wire_handshake *hs,
    const char **why)
{
	struct session	*s = arg;
	struct torrent	*t;

	if ((t = session_find(s, hs->info_hash)) == NULL) {
		*why = "handshake for an unknown info-hash";
		return GT_ENOENT;
	}
	return torrent_accept(t, c, why);
}

enum gt_err
session_new(struct session **out, struct reactor *r,
    const struct session_opts *o, char *err)
{
	struct session	*s;
	struct net_opts	 no;
	struct net_hooks nh;
	enum gt_err	 e;

	s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->max_peers = o->max_peers > 0 ? o->max_peers : SESSION_DEFAULT_PEERS;
	memcpy(s->peer_id, SESSION_PEER_ID_PREFIX, 8);
	rand_bytes(s->peer_id + 8, sizeof(s->peer_id) - 8);
	rand_bytes(&s->key, sizeof(s->key));
	session_find_local(s);
	no = (struct net_opts){ .max_conns = s->max_peers };
	nh = (struct net_hooks){ .accept = session_accept, .arg = s };
	s->net = net_new(r, &no, &nh);
	s->trackers = tracker_client_new(r);
	if (o->listen &&
	    (e = net_listen(s->net, o->port, &s->port)) != GT_OK) {
		session_free(s);
		return gt_fail(err, e, "cannot listen on port %u or the %u "
		    "after it", o->port, NET_LISTEN_TRIES - 1);
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
	net_free(s->net);
	tracker_client_free(s->trackers);
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
		.is_self = session_self_cb, .arg = s,
	};
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
	s->torrents[s->ntorrents++] = t;
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
	s->torrents[s->ntorrents++] = t;
	*out = t;
	return GT_OK;
}

void
session_remove_torrent(struct session *s, struct torrent *t)
{
	size_t	i;

	for (i = 0; i < s->ntorrents; i++) {
		if (s->torrents[i] == t) {
			s->torrents[i] = s->torrents[--s->ntorrents];
			break;
		}
	}
	torrent_free(t);
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
