/* reactor.c - the one event loop: timers, signals, deferred frees, clock */
#include <sys/queue.h>

#include <assert.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "reactor.h"
#include "util.h"

#define REACTOR_MAX_ARM_MS	(30ull * 24 * 3600 * 1000) /* then re-armed */

/*
 * The clock.  reactor_now_ms() reads CLOCK_MONOTONIC on every call instead
 * of caching one reading per loop iteration: libevent has no "prepare" hook,
 * so a cache refreshed only in the callbacks this file owns would go stale in
 * the callbacks net.c and http.c register on the base themselves.  The read
 * is a vDSO call (tens of nanoseconds), and callers hand one reading to the
 * pure layer as `now`, so a callback still sees a single consistent time.
 *
 * The base is made with EVENT_BASE_FLAG_PRECISE_TIMER so that libevent runs
 * its timers on the same CLOCK_MONOTONIC (without the flag it picks the
 * 4 ms CLOCK_MONOTONIC_COARSE); together with the check in timer_cb this
 * means a timer armed for T finds reactor_now_ms() >= T when it fires.
 */

struct reactor_defer {
	void			(*fn)(void *);
	void			 *arg;
	STAILQ_ENTRY(reactor_defer) entry;
};
STAILQ_HEAD(reactor_defers, reactor_defer);

struct reactor_signal {
	struct reactor		 *r;
	struct event		 *ev;
	int			  signo;
	void			(*cb)(void *, int);
	void			 *arg;
	LIST_ENTRY(reactor_signal) entry;
};

struct reactor {
	struct event_base	*base;
	struct event		*defer_ev;	/* runs the deferred list */
	struct reactor_defers	 defers;	/* FIFO, run after a callback */
	LIST_HEAD(, reactor_signal) signals;	/* freed with the reactor */
};

struct reactor_timer {
	struct reactor	*r;
	struct event	*ev;
	void		(*cb)(void *);
	void		*arg;
	uint64_t	 when;		/* absolute ms, valid while pending */
};

static void
reactor_log_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
	case EVENT_LOG_MSG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warn("libevent: %s", msg);
		break;
	default:
		log_error("libevent: %s", msg);
		break;
	}
}

static void
reactor_fatal_cb(int err)
{
	log_error("libevent: fatal error %d", err);
	abort();
}

static void
reactor_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reactor		*r = arg;
	struct reactor_defers	 run;
	struct reactor_defer	*d;

	(void)fd;
	(void)what;
	/* Take the list: frees deferred from here run on the next pass. */
	STAILQ_INIT(&run);
	STAILQ_CONCAT(&run, &r->defers);
	while ((d = STAILQ_FIRST(&run)) != NULL) {
		STAILQ_REMOVE_HEAD(&run, entry);
		d->fn(d->arg);
		free(d);
	}
}

struct reactor *
reactor_new(void)
{
	struct reactor		*r;
	struct event_config	*cfg;

	event_set_log_callback(reactor_log_cb);
	event_set_fatal_callback(reactor_fatal_cb);

	r = xcalloc(1, sizeof(*r));
	STAILQ_INIT(&r->defers);
	LIST_INIT(&r->signals);
	if ((cfg = event_config_new()) == NULL) {
		log_error("%s: event_config_new failed", __func__);
		free(r);
		return NULL;
	}
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	r->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (r->base == NULL) {
		log_error("%s: event_base_new failed", __func__);
		free(r);
		return NULL;
	}
	r->defer_ev = event_new(r->base, -1, 0, reactor_defer_cb, r);
	if (r->defer_ev == NULL) {
		log_error("%s: event_new failed", __func__);
		event_base_free(r->base);
		free(r);
		return NULL;
	}
	log_debug("%s: libevent %s, method %s", __func__, event_get_version(),
	    event_base_get_method(r->base));
	return r;
}

void
reactor_free(struct reactor *r)
{
	struct reactor_signal	*s;

	if (r == NULL)
		return;
	/* What was handed to the loop is still freed, in order. */
	while (!STAILQ_EMPTY(&r->defers))
		reactor_defer_cb(-1, 0, r);
	while ((s = LIST_FIRST(&r->signals)) != NULL) {
		LIST_REMOVE(s, entry);
		event_free(s->ev);
		free(s);
	}
	event_free(r->defer_ev);
	event_base_free(r->base);
	free(r);
}

struct event_base *
reactor_base(struct reactor *r)
{
	return r->base;
}

int
reactor_run(struct reactor *r)
{
	if (event_base_loop(r->base, EVLOOP_NO_EXIT_ON_EMPTY) == -1) {
		log_error("%s: event_base_loop failed", __func__);
		return -1;
	}
	return 0;
}

int
reactor_poll(struct reactor *r)
{
	if (event_base_loop(r->base, EVLOOP_NONBLOCK) == -1) {
		log_error("%s: event_base_loop failed", __func__);
		return -1;
	}
	return 0;
}

void
reactor_stop(struct reactor *r)
{
	event_base_loopbreak(r->base);
}

uint64_t
reactor_now_ms(struct reactor *r)
{
	(void)r;
	return reactor_clock_ms();
}

uint64_t
reactor_clock_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();	/* POSIX requires it; nothing works without */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
reactor_clock_ns(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t
reactor_wall_s(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		abort();
	return (int64_t)ts.tv_sec;
}

void
reactor_defer_free(struct reactor *r, void (*fn)(void *), void *arg)
{
	struct reactor_defer	*d;

	assert(fn != NULL);
	d = xmalloc(sizeof(*d));
	*d = (struct reactor_defer){ .fn = fn, .arg = arg };
	STAILQ_INSERT_TAIL(&r->defers, d, entry);
	/* Activating an already active event is a no-op. */
	event_active(r->defer_ev, EV_TIMEOUT, 0);
}

/* ---- timers ----------------------------------------------------------- */

static void
timer_arm(struct reactor_timer *t, uint64_t ms)
{
	struct timeval	tv;

	ms = MIN(ms, REACTOR_MAX_ARM_MS);	/* timer_cb re-arms later */
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	/* event_add counts from the cached loop time; bring it up to now. */
	event_base_update_cache_time(t->r->base);
	if (evtimer_add(t->ev, &tv) != 0)
		log_error("%s: evtimer_add failed", __func__);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reactor_timer	*t = arg;
	uint64_t		 now = reactor_now_ms(t->r);

	(void)fd;
	(void)what;
	if (now < t->when) {		/* early by a rounding: wait it out */
		timer_arm(t, t->when - now);
		return;
	}
	t->cb(t->arg);			/* may re-arm or free t */
}

struct reactor_timer *
reactor_timer_new(struct reactor *r, void (*cb)(void *), void *arg)
{
	struct reactor_timer	*t;

	assert(cb != NULL);
	t = xmalloc(sizeof(*t));
	*t = (struct reactor_timer){ .r = r, .cb = cb, .arg = arg };
	if ((t->ev = evtimer_new(r->base, timer_cb, t)) == NULL) {
		log_error("%s: evtimer_new failed", __func__);
		abort();	/* only fails on OOM, like xmalloc */
	}
	return t;
}

void
reactor_timer_free(struct reactor_timer *t)
{
	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
}

void
reactor_timer_at(struct reactor_timer *t, uint64_t when_ms)
{
	uint64_t	now = reactor_now_ms(t->r);

	t->when = when_ms;
	timer_arm(t, when_ms > now ? when_ms - now : 0);
}

void
reactor_timer_in(struct reactor_timer *t, uint64_t ms)
{
	uint64_t	now = reactor_now_ms(t->r);

	t->when = ms > UINT64_MAX - now ? UINT64_MAX : now + ms;
	timer_arm(t, ms);
}

void
reactor_timer_cancel(struct reactor_timer *t)
{
	if (t != NULL)
		evtimer_del(t->ev);
}

bool
reactor_timer_pending(const struct reactor_timer *t)
{
	return t != NULL && evtimer_pending(t->ev, NULL);
}

/* ---- readable fds ---------------------------------------------------- */

struct reactor_fd {
	struct event	*ev;
	void		(*cb)(void *);
	void		*arg;
};

static void
fd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reactor_fd	*f = arg;

	(void)fd;
	(void)what;
	f->cb(f->arg);			/* may free f */
}

struct reactor_fd *
reactor_fd_new(struct reactor *r, int fd, void (*cb)(void *), void *arg)
{
	struct reactor_fd	*f;

	assert(cb != NULL);
	if (fd < 0) {
		log_warn("%s: no fd to watch", __func__);
		return NULL;
	}
	f = xmalloc(sizeof(*f));
	*f = (struct reactor_fd){ .cb = cb, .arg = arg };
	f->ev = event_new(r->base, fd, EV_READ | EV_PERSIST, fd_cb, f);
	if (f->ev == NULL || event_add(f->ev, NULL) != 0) {
		log_warn("%s: cannot watch fd %d", __func__, fd);
		if (f->ev != NULL)
			event_free(f->ev);
		free(f);
		return NULL;
	}
	return f;
}

void
reactor_fd_free(struct reactor_fd *f)
{
	if (f == NULL)
		return;
	event_free(f->ev);
	free(f);
}

/* ---- signals ---------------------------------------------------------- */

static void
signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reactor_signal	*s = arg;

	(void)fd;
	(void)what;
	s->cb(s->arg, s->signo);
}

int
reactor_on_signal(struct reactor *r, int signo, void (*cb)(void *, int),
    void *arg)
{
	struct reactor_signal	*s;

	assert(cb != NULL);
	s = xmalloc(sizeof(*s));
	*s = (struct reactor_signal){ .r = r, .signo = signo, .cb = cb,
	    .arg = arg };
	s->ev = evsignal_new(r->base, signo, signal_cb, s);
	if (s->ev == NULL || evsignal_add(s->ev, NULL) != 0) {
		log_warn("%s: cannot watch signal %d", __func__, signo);
		if (s->ev != NULL)
			event_free(s->ev);
		free(s);
		return -1;
	}
	LIST_INSERT_HEAD(&r->signals, s, entry);
	return 0;
}
