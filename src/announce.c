/* announce.c - BEP 12 tiers and announce timing: when to ask whom */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "announce.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#define NONE	SIZE_MAX	/* no tracker index */

/*
 * Events: "started" is pending from announce_start until some tracker
 * answers one; it is re-sent (to the next tracker, then in the next round)
 * until then.  "completed" is sent only after "started" was answered, so
 * that the tracker knows the peer it completes: announce_completed before
 * that queues it behind "started".  In the stop sequence a pending
 * "completed" is sent only if "started" went through; otherwise it is
 * dropped and only "stopped" goes out.  Each event is sent once it is
 * answered (or, in the stop sequence, once tried).
 *
 * announce_stop treats an announce under way as abandoned: the caller has
 * cancelled its request, and its outcome is never reported.
 */

struct tracker {
	char		*url;
	unsigned	 tier;		/* as given to announce_add */
};

struct announce {
	struct prng		 rng;
	struct tracker		*v;	/* grouped by tier, in order */
	size_t			 n;

	bool			 started;	/* announce_start called */
	bool			 busy;		/* one is under way */
	bool			 backoff_wait;	/* every tracker failed */
	bool			 stopping;	/* the stop sequence */
	bool			 done;		/* nothing more, ever */
	bool			 ever_sent;

	bool			 started_ok;	/* "started" answered */
	bool			 want_completed; /* "completed" pending */
	bool			 completed_once; /* no second one */
	enum tracker_event	 sent;	/* event of the one under way */

	size_t			 pos;		/* next in this round */
	size_t			 asked;		/* under way/last asked */
	size_t			 ok;		/* last answered/NONE */
	size_t			 stop_to;	/* stop sequence target */

	uint64_t		 due;		/* next announce (ms) */
	uint64_t		 last_sent;	/* last one went out */
	uint64_t		 backoff;	/* next failed round */
	uint32_t		 min_interval;	/* seconds, 0 = none */
};

struct announce *
announce_new(uint64_t seed)
{
	struct announce	*a = xcalloc(1, sizeof(*a));

	prng_seed(&a->rng, seed);
	a->pos = 0;
	a->asked = a->ok = a->stop_to = NONE;
	a->due = UINT64_MAX;
	a->backoff = ANNOUNCE_BACKOFF_MIN_MS;
	return a;
}

void
announce_free(struct announce *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->v[i].url);
	free(a->v);
	free(a);
}

/* An index at or past k moves up by one (a tracker was inserted at k). */
static void
shift_index(size_t *i, size_t k)
{
	if (*i != NONE && *i >= k)
		(*i)++;
}

void
announce_add(struct announce *a, unsigned tier, const char *url)
{
	size_t	i, k;

	if (url == NULL || *url == '\0' || a->n >= ANNOUNCE_MAX_URLS)
		return;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].url, url) == 0)
			return;
	/* after every tracker of this tier or a lower one */
	for (k = a->n; k > 0 && a->v[k - 1].tier > tier; k--)
		;
	if (a->v == NULL)
		a->v = xcalloc(ANNOUNCE_MAX_URLS, sizeof(*a->v));
	memmove(&a->v[k + 1], &a->v[k], (a->n - k) * sizeof(*a->v));
	a->v[k] = (struct tracker){ .url = xstrdup(url), .tier = tier };
	a->n++;
	/* late adds (against the contract) keep the indices right */
	if (a->started) {
		if (a->pos > k)
			a->pos++;
		shift_index(&a->asked, k);
		shift_index(&a->ok, k);
		shift_index(&a->stop_to, k);
	}
}

size_t
announce_count(const struct announce *a)
{
	return a->n;
}

/* The end of the tier starting at i. */
static size_t
tier_end(const struct announce *a, size_t i)
{
	size_t	j = i;

	while (j < a->n && a->v[j].tier == a->v[i].tier)
		j++;
	return j;
}

static void
shuffle_tiers(struct announce *a)
{
	struct tracker	t;
	size_t		start, end, k, j;

	for (start = 0; start < a->n; start = end) {
		end = tier_end(a, start);
		/* Fisher-Yates over [start, end) */
		for (k = end - 1; k > start; k--) {
			j = start + (size_t)prng_below(&a->rng, k - start + 1);
			t = a->v[k];
			a->v[k] = a->v[j];
			a->v[j] = t;
		}
	}
}

void
announce_start(struct announce *a, uint64_t now)
{
	if (a->started)
		return;
	a->started = true;
	shuffle_tiers(a);
	a->pos = 0;
	a->due = now;
	log_debug("announce: start, %zu trackers", a->n);
}

void
announce_restart(struct announce *a, uint64_t now)
{
	if (!a->started) {
		announce_start(a, now);
		return;
	}
	a->busy = a->stopping = a->done = a->backoff_wait = false;
	a->started_ok = false;
	a->pos = 0;
	a->stop_to = NONE;
	a->backoff = ANNOUNCE_BACKOFF_MIN_MS;
	a->due = now;
	log_debug("announce: restart, %zu trackers", a->n);
}

void
announce_completed(struct announce *a, uint64_t now)
{
	if (a->completed_once || a->stopping || a->done)
		return;
	a->completed_once = true;
	a->want_completed = true;
	/* at once, unless "started" goes first or the trackers are failing */
	if (a->started && a->started_ok && !a->busy && !a->backoff_wait &&
	    now < a->due)
		a->due = now;
}

void
announce_need_peers(struct announce *a, uint64_t now)
{
	uint64_t	soonest;

	(void)now;
	if (!a->started || !a->ever_sent || a->busy || a->stopping ||
	    a->done || a->backoff_wait)
		return;
	soonest = a->last_sent + MAX((uint64_t)ANNOUNCE_NEED_PEERS_MS,
	    (uint64_t)a->min_interval * 1000);
	if (soonest < a->due)
		a->due = soonest;
}

bool
announce_stop(struct announce *a, uint64_t now)
{
	if (a->done)
		return false;
	if (a->stopping)
		return true;
	a->busy = false;	/* an announce under way is abandoned */
	if (!a->ever_sent) {
		a->done = true;
		a->due = UINT64_MAX;
		return false;
	}
	a->stopping = true;
	a->stop_to = a->ok != NONE ? a->ok : a->asked;
	if (!a->started_ok)
		a->want_completed = false;	/* never started */
	a->due = now;
	log_debug("announce: stop via %s", a->v[a->stop_to].url);
	return true;
}

uint64_t
announce_deadline(const struct announce *a)
{
	if (!a->started || a->n == 0 || a->busy || a->done)
		return UINT64_MAX;
	return a->due;
}

/* The event the next announce carries. */
static enum tracker_event
next_event(const struct announce *a)
{
	if (a->stopping)
		return a->want_completed ? TRACKER_EVENT_COMPLETED :
		    TRACKER_EVENT_STOPPED;
	if (!a->started_ok)
		return TRACKER_EVENT_STARTED;
	if (a->want_completed)
		return TRACKER_EVENT_COMPLETED;
	return TRACKER_EVENT_NONE;
}

bool
announce_next(struct announce *a, uint64_t now, const char **url,
    enum tracker_event *ev)
{
	if (announce_deadline(a) > now)
		return false;
	a->asked = a->stopping ? a->stop_to : a->pos;
	assert(a->asked < a->n);
	a->sent = next_event(a);
	a->busy = true;
	a->ever_sent = true;
	a->last_sent = now;
	*url = a->v[a->asked].url;
	*ev = a->sent;
	return true;
}

/* The stop sequence: each announce gets one try, whatever the outcome. */
static void
stop_advance(struct announce *a, uint64_t now)
{
	if (a->sent == TRACKER_EVENT_COMPLETED) {
		a->want_completed = false;
		a->due = now;
		return;
	}
	a->done = true;
	a->due = UINT64_MAX;
	log_debug("announce: stopped");
}

/* Moves tracker i to the front of its tier; the others keep their order. */
static size_t
move_to_front(struct announce *a, size_t i)
{
	struct tracker	t = a->v[i];
	size_t		start = i;

	while (start > 0 && a->v[start - 1].tier == t.tier)
		start--;
	memmove(&a->v[start + 1], &a->v[start], (i - start) * sizeof(*a->v));
	a->v[start] = t;
	return start;
}

void
announce_on_reply(struct announce *a, uint32_t interval,
    uint32_t min_interval, uint64_t now)
{
	uint64_t	wait;

	if (!a->busy)
		return;
	a->busy = false;
	if (a->stopping) {
		a->ok = a->asked;
		stop_advance(a, now);
		return;
	}
	if (a->sent == TRACKER_EVENT_STARTED)
		a->started_ok = true;
	else if (a->sent == TRACKER_EVENT_COMPLETED)
		a->want_completed = false;
	a->ok = a->asked = move_to_front(a, a->asked);
	a->pos = 0;
	a->backoff = ANNOUNCE_BACKOFF_MIN_MS;
	a->backoff_wait = false;
	a->min_interval = MIN(min_interval, TRACKER_MAX_INTERVAL);
	interval = MAX(interval, TRACKER_MIN_INTERVAL);
	interval = MIN(interval, TRACKER_MAX_INTERVAL);
	wait = (uint64_t)MAX(interval, a->min_interval) * 1000;
	/* a "completed" queued behind "started" goes at once */
	a->due = a->want_completed ? now : now + wait;
	log_debug("announce: %s answered, next in %u s", a->v[a->ok].url,
	    (unsigned)(a->due - now) / 1000);
}

void
announce_on_error(struct announce *a, uint64_t now)
{
	if (!a->busy)
		return;
	a->busy = false;
	if (a->stopping) {
		stop_advance(a, now);
		return;
	}
	if (++a->pos < a->n) {
		a->due = now;		/* the next tracker, at once */
		return;
	}
	/* every tracker failed: the event stays pending */
	a->pos = 0;
	a->due = now + a->backoff;
	a->backoff_wait = true;
	log_debug("announce: every tracker failed, retry in %u s",
	    (unsigned)(a->backoff / 1000));
	a->backoff = MIN(a->backoff * 2, (uint64_t)ANNOUNCE_BACKOFF_MAX_MS);
}

const char *
announce_current(const struct announce *a)
{
	return a->ok != NONE ? a->v[a->ok].url : NULL;
}

const char *
announce_url(const struct announce *a, size_t i)
{
	return i < a->n ? a->v[i].url : NULL;
}

unsigned
announce_tier(const struct announce *a, size_t i)
{
	assert(i < a->n);
	return a->v[i].tier;
}
