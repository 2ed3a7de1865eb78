/* session.c - torrents, peer id, listen port, HTTP tracker announces */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"
#include "metainfo.h"
#include "net.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
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
		snprintf(err, MI_ERRLEN, "cannot listen on port %u or the "
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

/* ---- the HTTP tracker client --------------------------------------------- */

struct session_tracker {
	struct session		 *s;
	struct torrent		 *t;
	char			**urls;		/* tiers flattened, in order */
	size_t			  nurls;
	size_t			  cur;		/* the one we use */
	size_t			  round_fails;	/* failures since one worked */
	struct http_req		 *req;		/* in flight, or NULL */
	enum tracker_event	  req_event;	/* ... with this event */
	struct reactor_timer	 *timer;	/* next regular announce */
	uint64_t		  next_at;	/* when it fires (ms) */
	struct reactor_timer	 *stop_timer;	/* stop: deadline, or done */
	bool			  started;	/* "started" went through */
	bool			  maybe_started; /* ... or may have */
	bool			  completed;	/* "completed" is due */
	char			 *tracker_id;
	uint32_t		  interval;	/* seconds */
	uint32_t		  min_interval;	/* seconds, 0 = none */
	uint64_t		  backoff_ms;	/* next wait after a failure */
	uint64_t		  last_sent;	/* ms */
	bool			  warned;	/* a failure was shown */
	bool			  stopping;
	bool			  stop_sent;
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

static void	tracker_announce(struct session_tracker *, enum tracker_event);
static void	tracker_stop_next(struct session_tracker *);

static bool
tracker_url_ok(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 ||
	    strncasecmp(u, "https://", 8) == 0;
}

static void
tracker_schedule(struct session_tracker *st, uint64_t ms)
{
	st->next_at = reactor_now_ms(st->s->r) + ms;
	reactor_timer_at(st->timer, st->next_at);
}

static enum tracker_event
tracker_next_event(const struct session_tracker *st)
{
	if (!st->started)
		return TRACKER_EVENT_STARTED;
	if (st->completed)
		return TRACKER_EVENT_COMPLETED;
	return TRACKER_EVENT_NONE;
}

static void
tracker_timer_cb(void *arg)
{
	struct session_tracker	*st = arg;

	st->next_at = 0;
	if (st->req == NULL && !st->stopping)
		tracker_announce(st, tracker_next_event(st));
}

static void
tracker_fail(struct session_tracker *st, const char *why)
{
	const char	*url = st->urls[st->cur];

	if (st->stopping) {
		log_debug("tracker %s: %s: %s", url,
		    tracker_event_names[st->req_event], why);
		tracker_stop_next(st);
		return;
	}
	if (!st->warned)
		log_warn("tracker %s: %s", url, why);
	else
		log_debug("tracker %s: %s", url, why);
	/* Simple BEP 12: the next URL now, until every one failed. */
	st->cur = (st->cur + 1) % st->nurls;
	if (++st->round_fails < st->nurls) {
		tracker_announce(st, st->req_event);
		return;
	}
	st->warned = true;
	st->round_fails = 0;
	log_debug("tracker: every URL failed; again in %llu s",
	    (unsigned long long)st->backoff_ms / 1000);
	tracker_schedule(st, st->backoff_ms);
	st->backoff_ms = MIN(st->backoff_ms * 2, TRACKER_BACKOFF_MAX_MS);
}

static void
tracker_success(struct session_tracker *st, struct tracker_reply *rep)
{
	uint64_t	wait;

	log_debug("tracker %s: %s ok: %zu peers, interval %u s",
	    st->urls[st->cur], tracker_event_names[st->req_event],
	    rep->npeers, rep->interval);
	if (rep->warning != NULL)
		log_warn("tracker %s: warning: %s", st->urls[st->cur],
		    rep->warning);
	st->round_fails = 0;
	st->warned = false;
	st->backoff_ms = TRACKER_BACKOFF_MIN_MS;
	st->interval = rep->interval;
	st->min_interval = rep->min_interval;
	if (rep->tracker_id != NULL) {
		free(st->tracker_id);
		st->tracker_id = xstrdup(rep->tracker_id);
	}
	switch (st->req_event) {
	case TRACKER_EVENT_STARTED:
		st->started = true;
		break;
	case TRACKER_EVENT_COMPLETED:
		st->completed = false;
		break;
	default:
		break;
	}
	if (rep->npeers > 0 && st->req_event != TRACKER_EVENT_STOPPED)
		torrent_add_peers(st->t, rep->peers, rep->npeers, false);
	if (st->stopping) {
		tracker_stop_next(st);
		return;
	}
	if (st->completed)
		wait = 0;			/* finished meanwhile */
	else
		wait = (uint64_t)st->interval * 1000;
	tracker_schedule(st, wait);
}

static void
tracker_done(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	struct session_tracker	*st = arg;
	struct tracker_reply	 rep;
	char			 err[TRACKER_ERRLEN], why[TRACKER_ERRLEN + 64];

	st->req = NULL;
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
	if (rep.failure != NULL) {
		snprintf(why, sizeof(why), "failure reason: %s", rep.failure);
		tracker_reply_clear(&rep);
		tracker_fail(st, why);
		return;
	}
	tracker_success(st, &rep);
	tracker_reply_clear(&rep);
}

static void
tracker_announce(struct session_tracker *st, enum tracker_event ev)
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
	char			*url;

	if (st->req != NULL)
		http_cancel(st->req);
	st->req = NULL;
	reactor_timer_cancel(st->timer);
	st->next_at = 0;
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
	if (st->stopping)
		ho.timeout_ms = (uint32_t)MAX(st->stop_deadline > now ?
		    st->stop_deadline - now : 1, 1);
	url = tracker_http_announce_url(st->urls[st->cur], &tr);
	log_debug("tracker %s: %s (left %llu)", st->urls[st->cur],
	    tracker_event_names[ev], (unsigned long long)tr.left);
	st->req_event = ev;
	st->last_sent = now;
	if (ev == TRACKER_EVENT_STARTED)
		st->maybe_started = true;
	st->req = http_get(session_http(st->s), url, &ho, tracker_done, st);
	free(url);
}

struct session_tracker *
session_tracker_new(struct session *s, struct torrent *t,
    const struct metainfo *m)
{
	struct session_tracker	*st;
	size_t			 i, j;

	st = xcalloc(1, sizeof(*st));
	st->s = s;
	st->t = t;
	for (i = 0; i < m->ntiers; i++) {
		for (j = 0; j < m->tiers[i].n; j++) {
			const char	*u = m->tiers[i].urls[j];

			if (!tracker_url_ok(u)) {
				log_debug("tracker %s: not supported yet", u);
				continue;
			}
			st->urls = xreallocarray(st->urls, st->nurls + 1,
			    sizeof(*st->urls));
			st->urls[st->nurls++] = xstrdup(u);
		}
	}
	st->timer = reactor_timer_new(s->r, tracker_timer_cb, st);
	st->backoff_ms = TRACKER_BACKOFF_MIN_MS;
	return st;
}

void
session_tracker_free(struct session_tracker *st)
{
	size_t	i;

	if (st == NULL)
		return;
	if (st->req != NULL)
		http_cancel(st->req);
	reactor_timer_free(st->timer);
	reactor_timer_free(st->stop_timer);
	for (i = 0; i < st->nurls; i++)
		free(st->urls[i]);
	free(st->urls);
	free(st->tracker_id);
	free(st);
}

size_t
session_tracker_count(const struct session_tracker *st)
{
	return st == NULL ? 0 : st->nurls;
}

void
session_tracker_start(struct session_tracker *st)
{
	if (st == NULL || st->nurls == 0 || st->stopping)
		return;
	tracker_announce(st, TRACKER_EVENT_STARTED);
}

void
session_tracker_completed(struct session_tracker *st)
{
	if (st == NULL || st->nurls == 0 || st->stopping)
		return;
	st->completed = true;
	if (st->req == NULL && st->started)
		tracker_announce(st, TRACKER_EVENT_COMPLETED);
	/* else: after the one in flight (tracker_success), or with left=0
	   in the "started" still to come. */
}

void
session_tracker_need_peers(struct session_tracker *st)
{
	uint64_t	wait, at;

	if (st == NULL || st->nurls == 0 || st->stopping || st->req != NULL ||
	    !st->started)
		return;
	wait = MAX((uint64_t)st->min_interval * 1000, TRACKER_NEED_PEERS_MS);
	at = st->last_sent + wait;
	if (st->next_at != 0 && st->next_at <= at)
		return;
	st->next_at = at;
	reactor_timer_at(st->timer, at);
}

static void
tracker_stop_timer_cb(void *arg)
{
	struct session_tracker	*st = arg;
	void			(*done)(void *) = st->done;

	if (st->req != NULL) {
		log_debug("tracker %s: %s: no answer in time, leaving",
		    st->urls[st->cur], tracker_event_names[st->req_event]);
		http_cancel(st->req);
		st->req = NULL;
	}
	st->done = NULL;
	if (done != NULL)
		done(st->done_arg);
}

static void
tracker_stop_next(struct session_tracker *st)
{
	if (st->completed && st->started) {
		st->completed = false;
		tracker_announce(st, TRACKER_EVENT_COMPLETED);
		return;
	}
	if ((st->started || st->maybe_started) && !st->stop_sent) {
		st->stop_sent = true;
		tracker_announce(st, TRACKER_EVENT_STOPPED);
		return;
	}
	reactor_timer_in(st->stop_timer, 0);	/* done, from the loop */
}

void
session_tracker_stop(struct session_tracker *st, uint32_t timeout_ms,
    void (*done)(void *), void *arg)
{
	st->done = done;
	st->done_arg = arg;
	if (st->stop_timer == NULL)
		st->stop_timer = reactor_timer_new(st->s->r,
		    tracker_stop_timer_cb, st);
	if (st->stopping)
		return;
	st->stopping = true;
	st->stop_deadline = reactor_now_ms(st->s->r) + timeout_ms;
	reactor_timer_cancel(st->timer);
	if (st->nurls == 0) {
		reactor_timer_in(st->stop_timer, 0);
		return;
	}
	reactor_timer_at(st->stop_timer, st->stop_deadline);
	if (st->req != NULL && st->req_event == TRACKER_EVENT_COMPLETED)
		return;			/* let it finish: tracker_done */
	if (st->req != NULL) {
		http_cancel(st->req);
		st->req = NULL;
	}
	tracker_stop_next(st);
}
