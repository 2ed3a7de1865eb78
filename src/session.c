/* session.c - torrents, peer id, listen port, tracker announces */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "announce.h"
#include "http.h"
#include "log.h"
#include "metainfo.h"
#include "net.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "udp.h"
#include "util.h"

/* ---- the session --------------------------------------------------------- */

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
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a.family = ADDR_V4;
			memcpy(a.ip, &((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a.family = ADDR_V6;
			memcpy(a.ip, &((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr, 16);
		} else
			continue;
		session_add_local(s, &a);
	}
	freeifaddrs(ifa);
}

enum gt_err
session_new(struct session **out, struct reactor *r,
    const struct session_opts *o, char *err)
{
	struct session	*s;
	enum gt_err	 e;

	s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->max_peers = o->max_peers > 0 ? o->max_peers : SESSION_DEFAULT_PEERS;
	memcpy(s->peer_id, SESSION_PEER_ID_PREFIX, 8);
	rand_bytes(s->peer_id + 8, sizeof(s->peer_id) - 8);
	rand_bytes(&s->key, sizeof(s->key));
	session_find_local(s);
	s->net = net_new(s);
	if (o->listen &&
	    (e = net_listen(s->net, o->port, &s->port)) != GT_OK) {
		snprintf(err, GT_ERRLEN, "cannot listen on port %u or the "
		    "%u after it", o->port, NET_LISTEN_TRIES - 1);
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
	net_free(s->net);
	http_free(s->http);
	udp_free(s->udp);
	free(s);
}

enum gt_err
session_add(struct session *s, struct torrent *t)
{
	if (s->ntorrents == SESSION_MAX_TORRENTS)
		return GT_ERANGE;
	if (session_find(s, torrent_info_hash(t)) != NULL)
		return GT_EEXIST;
	s->torrents[s->ntorrents++] = t;
	return GT_OK;
}

void
session_remove(struct session *s, struct torrent *t)
{
	size_t	i;

	for (i = 0; i < s->ntorrents; i++) {
		if (s->torrents[i] == t) {
			s->torrents[i] = s->torrents[--s->ntorrents];
			return;
		}
	}
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

struct http *
session_http(struct session *s)
{
	if (s->http == NULL)
		s->http = http_new(s->r);
	return s->http;
}

/* ---- the tracker client ------------------------------------------------- */

/*
 * One torrent's announces: `announce` decides when and to whom (BEP 12
 * tiers, intervals, backoff); this glue sends each one over HTTP(S) or UDP
 * and reports the outcome back.  One announce is under way at a time.
 */
struct session_tracker {
	struct session		 *s;
	struct torrent		 *t;
	struct announce		 *an;
	struct http_req		 *hreq;		/* in flight, or NULL */
	struct udp_req		 *ureq;		/* ... or this */
	const char		 *url;		/* ... to this (an's) */
	enum tracker_event	  ev;		/* ... with this event */
	struct reactor_timer	 *timer;	/* the next announce */
	struct reactor_timer	 *stop_timer;	/* stop: deadline, or done */
	char			 *tracker_id;
	int64_t			  seeders;	/* last figures, or -1 */
	int64_t			  leechers;
	bool			  warned;	/* a failure was shown */
	bool			  stopping;
	bool			  stop_begun;	/* announce_stop was called */
	uint64_t		  stop_deadline;
	void			(*done)(void *);
	void			 *done_arg;
};

static const char *const tracker_event_names[] = {
	[TRACKER_EVENT_NONE] = "announce",
	[TRACKER_EVENT_STARTED] = "started",
	[TRACKER_EVENT_COMPLETED] = "completed",
	[TRACKER_EVENT_STOPPED] = "stopped",
};

static void	tracker_pump(struct session_tracker *);

bool
session_tracker_url_ok(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 ||
	    strncasecmp(u, "https://", 8) == 0 || udp_url_ok(u);
}

static struct udp *
session_udp(struct session *s)
{
	if (s->udp == NULL) {
		uint64_t	seed;

		rand_bytes(&seed, sizeof(seed));
		s->udp = udp_new(s->r, seed);
	}
	return s->udp;
}

static void
tracker_timer_cb(void *arg)
{
	tracker_pump(arg);
}

static void
tracker_fail(struct session_tracker *st, const char *why)
{
	uint64_t	now = reactor_now_ms(st->s->r);

	if (st->stopping || st->warned)
		log_debug("tracker %s: %s: %s", st->url,
		    tracker_event_names[st->ev], why);
	else
		log_warn("tracker %s: %s", st->url, why);
	announce_on_error(st->an, now);
	if (!st->stopping && announce_deadline(st->an) > now) {
		/* every tracker failed: quiet until one works again */
		st->warned = true;
		log_debug("tracker: every URL failed; again in %llu s",
		    (unsigned long long)(announce_deadline(st->an) - now) /
		    1000);
	}
	tracker_pump(st);
}

static void
tracker_success(struct session_tracker *st, struct tracker_reply *rep)
{
	log_info("tracker %s: %s ok: %zu peers, interval %u s, "
	    "%lld seeders, %lld leechers", st->url,
	    tracker_event_names[st->ev], rep->npeers, rep->interval,
	    (long long)rep->complete, (long long)rep->incomplete);
	if (rep->warning != NULL)
		log_warn("tracker %s: warning: %s", st->url, rep->warning);
	st->warned = false;
	if (rep->tracker_id != NULL) {
		free(st->tracker_id);
		st->tracker_id = xstrdup(rep->tracker_id);
	}
	if (rep->complete >= 0)
		st->seeders = rep->complete;
	if (rep->incomplete >= 0)
		st->leechers = rep->incomplete;
	announce_on_reply(st->an, rep->interval, rep->min_interval,
	    reactor_now_ms(st->s->r));
	if (rep->npeers > 0 && st->ev != TRACKER_EVENT_STOPPED &&
	    !st->stopping)
		torrent_add_peers(st->t, rep->peers, rep->npeers, false);
	tracker_pump(st);
}

static void
tracker_reply(struct session_tracker *st, struct tracker_reply *rep)
{
	char	why[TRACKER_ERRLEN + 32];

	if (rep->failure != NULL) {
		snprintf(why, sizeof(why), "failure reason: %s", rep->failure);
		tracker_fail(st, why);
	} else
		tracker_success(st, rep);
}

static void
tracker_http_done(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	struct session_tracker	*st = arg;
	struct tracker_reply	 rep;
	char			 err[TRACKER_ERRLEN], why[TRACKER_ERRLEN + 64];

	st->hreq = NULL;
	if (e != GT_OK) {
		snprintf(why, sizeof(why), "%s", reason != NULL ? reason :
		    gt_strerror(e));
		tracker_fail(st, why);
		return;
	}
	if (status != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", status);
		tracker_fail(st, why);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	if (tracker_http_parse(body, len, &rep, err) != GT_OK) {
		snprintf(why, sizeof(why), "bad reply: %s", err);
		tracker_fail(st, why);
		return;
	}
	tracker_reply(st, &rep);
	tracker_reply_clear(&rep);
}

static void
tracker_udp_done(void *arg, struct tracker_udp_result *res)
{
	struct session_tracker	*st = arg;

	st->ureq = NULL;
	if (res->e == GT_ECANCELED)
		tracker_fail(st, "no answer");
	else if (res->e != GT_OK)
		tracker_fail(st, res->err);
	else
		tracker_reply(st, &res->announce);
}

/* Sends the announce `announce` says is due now, or arms the timer. */
static void
tracker_send(struct session_tracker *st, const char *url,
    enum tracker_event ev)
{
	struct torrent_stats	 ts;
	struct tracker_req	 tr;
	struct http_opts	 ho = {
		.timeout_ms = TRACKER_TIMEOUT_MS,
		.max_body = TRACKER_MAX_REPLY,
		.max_redirects = 3,
		.user_agent = SESSION_USER_AGENT,
	};
	uint64_t		 now = reactor_now_ms(st->s->r);
	unsigned		 tries = TRACKER_UDP_TRIES;
	char			*u;

	torrent_stats(st->t, &ts);
	memset(&tr, 0, sizeof(tr));
	memcpy(tr.info_hash, torrent_info_hash(st->t), SHA1_LEN);
	memcpy(tr.peer_id, st->s->peer_id, sizeof(tr.peer_id));
	tr.port = st->s->port;
	tr.uploaded = ts.uploaded;
	tr.downloaded = ts.downloaded;
	tr.left = ts.total - ts.have;
	tr.numwant = ev == TRACKER_EVENT_STOPPED ? 0 : TRACKER_NUMWANT;
	tr.key = st->s->key;
	tr.event = ev;
	tr.tracker_id = st->tracker_id;
	if (st->stopping) {
		ho.timeout_ms = (uint32_t)MAX(st->stop_deadline > now ?
		    st->stop_deadline - now : 1, 1);
		tries = 1;
	}
	log_debug("tracker %s: %s (left %llu)", url, tracker_event_names[ev],
	    (unsigned long long)tr.left);
	st->url = url;
	st->ev = ev;
	if (strncasecmp(url, "udp://", 6) == 0) {
		st->ureq = udp_announce(session_udp(st->s), url, &tr, tries,
		    tracker_udp_done, st);
		if (st->ureq == NULL)
			tracker_fail(st, "unusable UDP tracker URL");
		return;
	}
	u = tracker_http_announce_url(url, &tr);
	st->hreq = http_get(session_http(st->s), u, &ho, tracker_http_done,
	    st);
	free(u);
}

static void
tracker_pump(struct session_tracker *st)
{
	const char		*url;
	enum tracker_event	 ev;
	uint64_t		 now, d;

	if (st->hreq != NULL || st->ureq != NULL)
		return;
	now = reactor_now_ms(st->s->r);
	if (st->stopping && !st->stop_begun) {
		st->stop_begun = true;
		if (!announce_stop(st->an, now)) {
			reactor_timer_in(st->stop_timer, 0);	/* nothing to say */
			return;
		}
	}
	if (announce_next(st->an, now, &url, &ev)) {
		reactor_timer_cancel(st->timer);
		tracker_send(st, url, ev);
		return;
	}
	d = announce_deadline(st->an);
	if (d != UINT64_MAX) {
		reactor_timer_at(st->timer, d);
		return;
	}
	reactor_timer_cancel(st->timer);
	if (st->stopping)
		reactor_timer_in(st->stop_timer, 0);	/* done, from the loop */
}

/* Adds the usable URLs of tier to st's announce list. */
static void
tracker_add(struct session_tracker *st, unsigned tier, const char *u)
{
	if (!session_tracker_url_ok(u)) {
		log_debug("tracker %s: not supported", u);
		return;
	}
	announce_add(st->an, tier, u);
}

struct session_tracker *
session_tracker_new(struct session *s, struct torrent *t,
    const struct metainfo *m, char *const *extra, size_t nextra)
{
	struct session_tracker	*st;
	uint64_t		 seed;
	size_t			 i, j;

	st = xcalloc(1, sizeof(*st));
	st->s = s;
	st->t = t;
	rand_bytes(&seed, sizeof(seed));
	st->an = announce_new(seed);
	for (i = 0; i < m->ntiers; i++)
		for (j = 0; j < m->tiers[i].n; j++)
			tracker_add(st, (unsigned)i, m->tiers[i].urls[j]);
	for (j = 0; j < nextra; j++)
		tracker_add(st, (unsigned)m->ntiers, extra[j]);
	st->timer = reactor_timer_new(s->r, tracker_timer_cb, st);
	st->seeders = st->leechers = -1;
	return st;
}

static void
tracker_cancel(struct session_tracker *st)
{
	if (st->hreq != NULL)
		http_cancel(st->hreq);
	if (st->ureq != NULL)
		udp_cancel(st->ureq);
	st->hreq = NULL;
	st->ureq = NULL;
}

void
session_tracker_free(struct session_tracker *st)
{
	if (st == NULL)
		return;
	tracker_cancel(st);
	reactor_timer_free(st->timer);
	reactor_timer_free(st->stop_timer);
	announce_free(st->an);
	free(st->tracker_id);
	free(st);
}

size_t
session_tracker_count(const struct session_tracker *st)
{
	return st == NULL ? 0 : announce_count(st->an);
}

void
session_tracker_swarm(const struct session_tracker *st, int64_t *seeders,
    int64_t *leechers)
{
	*seeders = st == NULL ? -1 : st->seeders;
	*leechers = st == NULL ? -1 : st->leechers;
}

void
session_tracker_start(struct session_tracker *st)
{
	if (st == NULL || announce_count(st->an) == 0 || st->stopping)
		return;
	announce_start(st->an, reactor_now_ms(st->s->r));
	tracker_pump(st);
}

void
session_tracker_completed(struct session_tracker *st)
{
	if (st == NULL || announce_count(st->an) == 0 || st->stopping)
		return;
	announce_completed(st->an, reactor_now_ms(st->s->r));
	tracker_pump(st);
}

void
session_tracker_need_peers(struct session_tracker *st)
{
	if (st == NULL || announce_count(st->an) == 0 || st->stopping)
		return;
	announce_need_peers(st->an, reactor_now_ms(st->s->r));
	tracker_pump(st);
}

static void
tracker_stop_timer_cb(void *arg)
{
	struct session_tracker	*st = arg;
	void			(*done)(void *) = st->done;

	if (st->hreq != NULL || st->ureq != NULL) {
		log_debug("tracker %s: %s: no answer in time, leaving",
		    st->url, tracker_event_names[st->ev]);
		tracker_cancel(st);
	}
	reactor_timer_cancel(st->timer);
	st->done = NULL;
	if (done != NULL)
		done(st->done_arg);
}

void
session_tracker_stop(struct session_tracker *st, uint32_t timeout_ms,
    void (*done)(void *), void *arg)
{
	uint64_t	now = reactor_now_ms(st->s->r);

	st->done = done;
	st->done_arg = arg;
	if (st->stop_timer == NULL)
		st->stop_timer = reactor_timer_new(st->s->r,
		    tracker_stop_timer_cb, st);
	if (st->stopping)
		return;
	st->stopping = true;
	st->stop_deadline = now + timeout_ms;
	reactor_timer_cancel(st->timer);
	reactor_timer_at(st->stop_timer, st->stop_deadline);
	if ((st->hreq != NULL || st->ureq != NULL) &&
	    st->ev == TRACKER_EVENT_COMPLETED)
		return;		/* let it finish: tracker_pump goes on */
	tracker_cancel(st);		/* announce_stop abandons it */
	tracker_pump(st);
}
