/* announcer.c - one torrent's announces: `announce` decides, this sends */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announce.h"
#include "announcer.h"
#include "log.h"
#include "reactor.h"
#include "tracker-client.h"
#include "util.h"

/*
 * `announce` says when to ask whom (BEP 12 tiers, intervals, backoff);
 * this glue sends each announce through the tracker client and reports
 * the outcome back to it, and the peers to the torrent.
 */
/* What the user sees of one tracker. */
struct atrk {
	char			 *url;
	unsigned		  tier;
	enum announcer_status	  status;
	char			  result[ANNOUNCER_RESULT_LEN];
	int64_t			  seeders, leechers;
};

struct announcer {
	struct reactor		 *r;
	struct tracker_client	 *tc;
	struct announcer_id	  id;
	struct announcer_hooks	  hooks;
	struct announce		 *an;
	struct tracker_call	 *call;		/* in flight, or NULL */
	const char		 *url;		/* ... to this (an's) */
	enum tracker_event	  ev;		/* ... with this event */
	struct reactor_timer	 *timer;	/* the next announce */
	struct reactor_timer	 *stop_timer;	/* stop: deadline, or done */
	char			 *tracker_id;
	int64_t			  seeders;	/* last figures, or -1 */
	int64_t			  leechers;
	bool			  warned;	/* a failure was shown */
	unsigned		  refusals;	/* "failure reason"s since the
					   last success */
	char			  refusal[TRACKER_ERRLEN];	/* the last */
	bool			  stopping;
	bool			  stop_begun;	/* announce_stop was called */
	uint64_t		  stop_deadline;
	void			(*done)(void *);
	void			 *done_arg;
	struct atrk		 *trk;		/* in the order added */
	size_t			  ntrk;
	size_t			  cur;		/* trk of the call, or ntrk */
	bool			  paused;
};

static void	announcer_pump(struct announcer *);

static uint64_t
now_ms(const struct announcer *a)
{
	return reactor_now_ms(a->r);
}

static void
announcer_timer_cb(void *arg)
{
	announcer_pump(arg);
}

static void
announcer_fail(struct announcer *a, const char *why)
{
	uint64_t	now = now_ms(a);

	if (a->hooks.result != NULL)
		a->hooks.result(a->hooks.arg, a->url, a->ev, NULL, why);
	if (a->stopping || a->warned)
		log_debug("tracker %s: %s: %s", a->url,
		    tracker_event_name(a->ev), why);
	else
		log_warn("tracker %s: %s", a->url, why);
	if (a->cur < a->ntrk) {
		a->trk[a->cur].status = ANNOUNCER_FAILED;
		snprintf(a->trk[a->cur].result, sizeof(a->trk[a->cur].result),
		    "%s", why);
	}
	announce_on_error(a->an, now);
	if (!a->stopping && announce_deadline(a->an) > now) {
		/* every tracker failed: quiet until one works again */
		a->warned = true;
		log_debug("tracker: every URL failed; again in %llu s",
		    (unsigned long long)(announce_deadline(a->an) - now) /
		    1000);
	}
	announcer_pump(a);
}

static void
announcer_success(struct announcer *a, const struct tracker_reply *rep)
{
	log_info("tracker %s: %s ok: %zu peers, interval %u s, "
	    "%lld seeders, %lld leechers", a->url, tracker_event_name(a->ev),
	    rep->npeers, rep->interval, (long long)rep->complete,
	    (long long)rep->incomplete);
	if (rep->warning != NULL)
		log_warn("tracker %s: warning: %s", a->url, rep->warning);
	if (a->hooks.result != NULL)
		a->hooks.result(a->hooks.arg, a->url, a->ev, rep, NULL);
	a->warned = false;
	a->refusals = 0;
	if (rep->tracker_id != NULL) {
		free(a->tracker_id);
		a->tracker_id = xstrdup(rep->tracker_id);
	}
	if (rep->complete >= 0)
		a->seeders = rep->complete;
	if (rep->incomplete >= 0)
		a->leechers = rep->incomplete;
	if (a->cur < a->ntrk) {
		struct atrk	*k = &a->trk[a->cur];

		k->status = ANNOUNCER_OK;
		if (a->ev == TRACKER_EVENT_STOPPED)
			snprintf(k->result, sizeof(k->result), "stopped");
		else
			snprintf(k->result, sizeof(k->result), "%zu peer%s",
			    rep->npeers, rep->npeers == 1 ? "" : "s");
		if (rep->complete >= 0)
			k->seeders = rep->complete;
		if (rep->incomplete >= 0)
			k->leechers = rep->incomplete;
	}
	announce_on_reply(a->an, rep->interval, rep->min_interval, now_ms(a));
	if (rep->npeers > 0 && a->ev != TRACKER_EVENT_STOPPED && !a->stopping)
		a->hooks.peers(a->hooks.arg, rep->peers, rep->npeers);
	announcer_pump(a);
}

static void
announcer_done(void *arg, enum gt_err e, struct tracker_reply *rep,
    const char *why)
{
	struct announcer	*a = arg;
	char			 msg[TRACKER_ERRLEN + 32];

	a->call = NULL;
	if (e != GT_OK)
		announcer_fail(a, why);
	else if (rep->failure != NULL) {
		snprintf(msg, sizeof(msg), "failure reason: %s", rep->failure);
		if (a->ev != TRACKER_EVENT_STOPPED) {
			a->refusals++;
			snprintf(a->refusal, sizeof(a->refusal), "%s",
			    rep->failure);
		}
		announcer_fail(a, msg);
	} else
		announcer_success(a, rep);
}

/* Sends the announce `announce` says is due now. */
static void
announcer_send(struct announcer *a, const char *url, enum tracker_event ev)
{
	struct tracker_call_opts o = {
		.timeout_ms = ANNOUNCER_TIMEOUT_MS,
		.udp_tries = ANNOUNCER_UDP_TRIES,
		.user_agent = a->id.user_agent,
	};
	struct tracker_req	 tr;
	uint64_t		 now = now_ms(a);
	char			 err[GT_ERRLEN];

	memset(&tr, 0, sizeof(tr));
	memcpy(tr.info_hash, a->id.info_hash, SHA1_LEN);
	memcpy(tr.peer_id, a->id.peer_id, sizeof(tr.peer_id));
	tr.port = a->id.port;
	a->hooks.figures(a->hooks.arg, &tr);
	tr.numwant = ev == TRACKER_EVENT_STOPPED ? 0 : ANNOUNCER_NUMWANT;
	tr.key = a->id.key;
	tr.event = ev;
	tr.tracker_id = a->tracker_id;
	if (a->stopping) {
		o.timeout_ms = (uint32_t)MAX(a->stop_deadline > now ?
		    a->stop_deadline - now : 1, 1);
		o.udp_tries = 1;
	}
	log_debug("tracker %s: %s (left %llu)", url, tracker_event_name(ev),
	    (unsigned long long)tr.left);
	a->url = url;
	a->ev = ev;
	for (a->cur = 0; a->cur < a->ntrk; a->cur++)
		if (strcmp(a->trk[a->cur].url, url) == 0)
			break;
	if (a->cur < a->ntrk)
		a->trk[a->cur].status = ANNOUNCER_BUSY;
	a->call = tracker_client_announce(a->tc, url, &tr, &o,
	    announcer_done, a, err);
	if (a->call == NULL)
		announcer_fail(a, err);
}

static void
announcer_pump(struct announcer *a)
{
	const char		*url;
	enum tracker_event	 ev;
	uint64_t		 now, d;

	if (a->call != NULL)
		return;
	now = now_ms(a);
	if (a->stopping && !a->stop_begun) {
		a->stop_begun = true;
		if (!announce_stop(a->an, now)) {
			/* nothing to say */
			reactor_timer_in(a->stop_timer, 0);
			return;
		}
	}
	if (announce_next(a->an, now, &url, &ev)) {
		reactor_timer_cancel(a->timer);
		announcer_send(a, url, ev);
		return;
	}
	d = announce_deadline(a->an);
	if (d != UINT64_MAX) {
		reactor_timer_at(a->timer, d);
		return;
	}
	reactor_timer_cancel(a->timer);
	if (a->stopping)
		reactor_timer_in(a->stop_timer, 0);	/* done, from loop */
}

unsigned
announcer_refusals(const struct announcer *a, const char **reason)
{
	*reason = a->refusal;
	return a->refusals;
}

struct announcer *
announcer_new(struct reactor *r, struct tracker_client *tc,
    const struct announcer_id *id, const struct announcer_hooks *hooks)
{
	struct announcer	*a;
	uint64_t		 seed;

	a = xcalloc(1, sizeof(*a));
	a->r = r;
	a->tc = tc;
	a->id = *id;
	a->hooks = *hooks;
	rand_bytes(&seed, sizeof(seed));
	a->an = announce_new(seed);
	a->timer = reactor_timer_new(r, announcer_timer_cb, a);
	a->seeders = a->leechers = -1;
	return a;
}

void
announcer_add(struct announcer *a, unsigned tier, const char *url)
{
	if (!tracker_client_url_ok(url)) {
		log_debug("tracker %s: not supported", url);
		return;
	}
	announce_add(a->an, tier, url);
	if (announce_count(a->an) == a->ntrk)
		return;		/* a duplicate, or past the cap */
	a->trk = xreallocarray(a->trk, a->ntrk + 1, sizeof(*a->trk));
	a->trk[a->ntrk++] = (struct atrk){
		.url = xstrdup(url), .tier = tier, .seeders = -1,
		.leechers = -1,
	};
	a->cur = a->ntrk;
}

void
announcer_free(struct announcer *a)
{
	size_t	i;

	if (a == NULL)
		return;
	tracker_call_cancel(a->call);
	reactor_timer_free(a->timer);
	reactor_timer_free(a->stop_timer);
	announce_free(a->an);
	free(a->tracker_id);
	for (i = 0; i < a->ntrk; i++)
		free(a->trk[i].url);
	free(a->trk);
	free(a);
}

size_t
announcer_count(const struct announcer *a)
{
	return a == NULL ? 0 : announce_count(a->an);
}

void
announcer_swarm(const struct announcer *a, int64_t *seeders,
    int64_t *leechers)
{
	*seeders = a == NULL ? -1 : a->seeders;
	*leechers = a == NULL ? -1 : a->leechers;
}

void
announcer_start(struct announcer *a)
{
	if (a == NULL || announce_count(a->an) == 0 || a->stopping ||
	    a->paused)
		return;
	announce_start(a->an, now_ms(a));
	announcer_pump(a);
}

void
announcer_completed(struct announcer *a)
{
	if (a == NULL || announce_count(a->an) == 0 || a->stopping)
		return;
	announce_completed(a->an, now_ms(a));
	announcer_pump(a);
}

void
announcer_need_peers(struct announcer *a)
{
	if (a == NULL || announce_count(a->an) == 0 || a->stopping)
		return;
	announce_need_peers(a->an, now_ms(a));
	announcer_pump(a);
}

static void
announcer_stop_cb(void *arg)
{
	struct announcer	*a = arg;
	void			(*done)(void *) = a->done;

	if (a->call != NULL) {
		log_debug("tracker %s: %s: no answer in time, leaving",
		    a->url, tracker_event_name(a->ev));
		tracker_call_cancel(a->call);
		a->call = NULL;
	}
	reactor_timer_cancel(a->timer);
	a->done = NULL;
	if (done != NULL)
		done(a->done_arg);
}

void
announcer_stop(struct announcer *a, uint32_t timeout_ms,
    void (*done)(void *), void *arg)
{
	a->done = done;
	a->done_arg = arg;
	if (a->stop_timer == NULL)
		a->stop_timer = reactor_timer_new(a->r, announcer_stop_cb, a);
	if (a->stopping)
		return;
	a->stopping = true;
	a->stop_deadline = now_ms(a) + timeout_ms;
	reactor_timer_cancel(a->timer);
	reactor_timer_at(a->stop_timer, a->stop_deadline);
	if (a->call != NULL && (a->ev == TRACKER_EVENT_COMPLETED ||
	    (a->paused && a->ev == TRACKER_EVENT_STOPPED)))
		return;		/* let it finish: announcer_pump goes on */
	tracker_call_cancel(a->call);	/* announce_stop abandons it */
	a->call = NULL;
	announcer_pump(a);
}

/* ---- for the user -------------------------------------------------------- */

size_t
announcer_trackers(const struct announcer *a, struct announcer_tracker *out,
    size_t max)
{
	uint64_t	 d;
	size_t		 i;

	if (a == NULL)
		return 0;
	d = announce_deadline(a->an);
	for (i = 0; i < a->ntrk && i < max; i++) {
		const struct atrk	*k = &a->trk[i];

		out[i] = (struct announcer_tracker){
			.url = k->url, .tier = k->tier, .status = k->status,
			.result = k->result, .seeders = k->seeders,
			.leechers = k->leechers,
			.next_ms = d != UINT64_MAX ? d : 0,
		};
	}
	return a->ntrk;
}

void
announcer_pause(struct announcer *a, bool paused)
{
	uint64_t	now;

	if (a == NULL || a->stopping || a->paused == paused)
		return;
	a->paused = paused;
	if (announce_count(a->an) == 0)
		return;
	now = now_ms(a);
	if (a->call != NULL) {		/* dropped: announce_stop/_restart
					   abandon it */
		tracker_call_cancel(a->call);
		a->call = NULL;
		if (a->cur < a->ntrk &&
		    a->trk[a->cur].status == ANNOUNCER_BUSY)
			a->trk[a->cur].status = ANNOUNCER_IDLE;
	}
	reactor_timer_cancel(a->timer);
	if (paused) {
		log_debug("tracker: paused");
		(void)announce_stop(a->an, now);
	} else {
		log_debug("tracker: resumed");
		a->warned = false;
		announce_restart(a->an, now);
	}
	announcer_pump(a);
}
