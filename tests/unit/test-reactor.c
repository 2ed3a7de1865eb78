/* test-reactor.c - timers, deferred frees, signals, stop, the clock */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "reactor.h"
#include "util.h"

#define SLACK_MS	20	/* a timer may fire this late, never early */
#define TEST_ALARM_S	10	/* no test runs longer than this */

static struct reactor	*r;

static void
setup(void)
{
	alarm(TEST_ALARM_S);
	r = reactor_new();
	cr_assert_not_null(r);
}

static void
teardown(void)
{
	reactor_free(r);
	r = NULL;
}

TestSuite(reactor, .init = setup, .fini = teardown);

static void
stop_cb(void *arg)
{
	reactor_stop(arg);
}

/* Runs the loop; a guard timer stops it after limit_ms. */
static uint64_t
run_for(uint64_t limit_ms)
{
	struct reactor_timer	*guard = reactor_timer_new(r, stop_cb, r);
	uint64_t		 t0 = reactor_now_ms(r);

	reactor_timer_in(guard, limit_ms);
	cr_assert_eq(reactor_run(r), 0);
	reactor_timer_free(guard);
	return reactor_now_ms(r) - t0;
}

struct fired {
	int		 id;
	uint64_t	 delay;		/* asked for, ms from t0 */
	uint64_t	 at;		/* when it fired, ms from t0 */
	int		 count;
};

static uint64_t	 t0;
static int	 order[8];
static int	 norder;
static int	 nstop;		/* stop the loop after this many fire */

static void
fired_cb(void *arg)
{
	struct fired	*f = arg;

	f->at = reactor_now_ms(r) - t0;
	f->count++;
	if (norder < (int)nitems(order))
		order[norder++] = f->id;
	if (norder == nstop)
		reactor_stop(r);
}

static void
assert_on_time(const struct fired *f)
{
	cr_assert_eq(f->count, 1, "timer %d fired %d times", f->id, f->count);
	cr_assert_geq(f->at, f->delay, "timer %d early: %llu < %llu", f->id,
	    (unsigned long long)f->at, (unsigned long long)f->delay);
	cr_assert_leq(f->at, f->delay + SLACK_MS, "timer %d late: %llu ms",
	    f->id, (unsigned long long)f->at);
}

Test(reactor, timers_fire_in_order_on_time)
{
	struct fired		 f[4] = {
		{ .id = 0, .delay = 150 }, { .id = 1, .delay = 50 },
		{ .id = 2, .delay = 100 }, { .id = 3, .delay = 10 },
	};
	struct reactor_timer	*t[4];
	size_t			 i;

	norder = 0;
	nstop = 4;
	t0 = reactor_now_ms(r);
	for (i = 0; i < nitems(f); i++) {
		t[i] = reactor_timer_new(r, fired_cb, &f[i]);
		if (i % 2 == 0)
			reactor_timer_in(t[i], f[i].delay);
		else
			reactor_timer_at(t[i], t0 + f[i].delay);
		cr_assert(reactor_timer_pending(t[i]));
	}
	run_for(2000);
	cr_assert_eq(norder, 4);
	cr_assert_eq(order[0], 3);
	cr_assert_eq(order[1], 1);
	cr_assert_eq(order[2], 2);
	cr_assert_eq(order[3], 0);
	for (i = 0; i < nitems(f); i++) {
		assert_on_time(&f[i]);
		cr_assert_not(reactor_timer_pending(t[i]));
		reactor_timer_free(t[i]);
	}
}

Test(reactor, timer_in_past_fires_at_once)
{
	struct fired		 f = { .id = 0 };
	struct reactor_timer	*t = reactor_timer_new(r, fired_cb, &f);

	norder = 0;
	nstop = 1;
	t0 = reactor_now_ms(r);
	reactor_timer_at(t, t0 > 1000 ? t0 - 1000 : 0);
	run_for(1000);
	assert_on_time(&f);
	reactor_timer_free(t);
}

Test(reactor, rearm_replaces)
{
	struct fired		 f = { .id = 0, .delay = 40 };
	struct reactor_timer	*t = reactor_timer_new(r, fired_cb, &f);

	norder = 0;
	nstop = 1;
	t0 = reactor_now_ms(r);
	reactor_timer_in(t, 300);
	reactor_timer_in(t, 40);		/* replaces the 300 */
	cr_assert(reactor_timer_pending(t));
	run_for(500);
	assert_on_time(&f);

	/* and later instead of sooner */
	f = (struct fired){ .id = 0, .delay = 80 };
	norder = 0;
	t0 = reactor_now_ms(r);
	reactor_timer_in(t, 20);
	reactor_timer_at(t, t0 + 80);
	run_for(500);
	assert_on_time(&f);
	reactor_timer_free(t);
}

Test(reactor, cancel)
{
	struct fired		 f = { .id = 0 }, g = { .id = 1, .delay = 80 };
	struct reactor_timer	*t = reactor_timer_new(r, fired_cb, &f);
	struct reactor_timer	*u = reactor_timer_new(r, fired_cb, &g);

	norder = 0;
	nstop = 1;
	t0 = reactor_now_ms(r);
	reactor_timer_in(t, 30);
	reactor_timer_cancel(t);
	cr_assert_not(reactor_timer_pending(t));
	reactor_timer_cancel(t);		/* twice is fine */
	reactor_timer_in(u, 80);
	run_for(1000);
	cr_assert_eq(f.count, 0);
	assert_on_time(&g);
	reactor_timer_at(t, UINT64_MAX);	/* far away, but pending */
	cr_assert(reactor_timer_pending(t));
	reactor_timer_in(u, UINT64_MAX);
	cr_assert(reactor_timer_pending(u));
	reactor_timer_cancel(u);
	cr_assert_not(reactor_timer_pending(u));
	reactor_timer_free(t);		/* freed while pending */
	reactor_timer_free(u);
	reactor_timer_free(NULL);
	reactor_timer_cancel(NULL);
	cr_assert_not(reactor_timer_pending(NULL));
}

Test(reactor, free_pending_timer_never_fires)
{
	struct fired		 f = { .id = 0 };
	struct reactor_timer	*t = reactor_timer_new(r, fired_cb, &f);

	norder = 0;
	nstop = 99;
	reactor_timer_in(t, 10);
	reactor_timer_free(t);
	run_for(60);
	cr_assert_eq(f.count, 0);
}

/* A periodic timer: re-arms itself, then frees itself on the last tick. */
struct periodic {
	struct reactor_timer	*t;
	uint64_t		 start;
	uint64_t		 at[5];
	int			 n;
};

static void
periodic_cb(void *arg)
{
	struct periodic	*p = arg;

	p->at[p->n++] = reactor_now_ms(r) - p->start;
	if (p->n < (int)nitems(p->at)) {
		reactor_timer_in(p->t, 20);
		return;
	}
	reactor_timer_free(p->t);
	p->t = NULL;
	reactor_stop(r);
}

Test(reactor, rearm_and_free_from_callback)
{
	struct periodic	p = { .n = 0 };
	int		i;

	p.t = reactor_timer_new(r, periodic_cb, &p);
	p.start = reactor_now_ms(r);
	reactor_timer_in(p.t, 20);
	run_for(2000);
	cr_assert_eq(p.n, 5);
	cr_assert_null(p.t);
	for (i = 1; i < 5; i++) {
		cr_assert_geq(p.at[i] - p.at[i - 1], 20);
		cr_assert_leq(p.at[i] - p.at[i - 1], 20 + SLACK_MS);
	}
}

/* Deferred frees run after the callback that asked, in order. */
static int	in_callback;
static int	deferred_log[8];
static int	ndeferred;

static void
deferred_cb(void *arg)
{
	int	id = (int)(intptr_t)arg;

	cr_assert_eq(in_callback, 0, "deferred %d ran inside a callback", id);
	if (ndeferred < (int)nitems(deferred_log))
		deferred_log[ndeferred++] = id;
	if (id == 2)	/* queued from a deferred: runs too */
		reactor_defer_free(r, deferred_cb, (void *)(intptr_t)3);
	if (id == 3)
		reactor_stop(r);
}

static void
defer_from_timer_cb(void *arg)
{
	(void)arg;
	in_callback = 1;
	reactor_defer_free(r, deferred_cb, (void *)(intptr_t)1);
	reactor_defer_free(r, deferred_cb, (void *)(intptr_t)2);
	cr_assert_eq(ndeferred, 0);
	in_callback = 0;
}

Test(reactor, deferred_runs_after_callback)
{
	struct reactor_timer	*t = reactor_timer_new(r, defer_from_timer_cb,
				    NULL);
	uint64_t		 took;

	ndeferred = 0;
	reactor_timer_in(t, 10);
	took = run_for(2000);
	cr_assert_lt(took, 500);
	cr_assert_eq(ndeferred, 3);
	cr_assert_eq(deferred_log[0], 1);
	cr_assert_eq(deferred_log[1], 2);
	cr_assert_eq(deferred_log[2], 3);
	reactor_timer_free(t);
}

static void
free_cb(void *arg)
{
	free(arg);
	ndeferred++;
}

Test(reactor, free_runs_what_is_left)
{
	ndeferred = 0;
	reactor_defer_free(r, free_cb, xmalloc(32));
	reactor_defer_free(r, free_cb, xmalloc(64));
	reactor_free(r);		/* never ran the loop: still freed */
	r = NULL;
	cr_assert_eq(ndeferred, 2);
	reactor_free(NULL);
}

/* Signals */
static int	got_signo;
static int	got_count;

static void
signal_cb(void *arg, int signo)
{
	cr_assert_eq(arg, (void *)&got_signo);
	got_signo = signo;
	if (++got_count == 2)
		reactor_stop(r);
}

static void
raise_cb(void *arg)
{
	(void)arg;
	raise(SIGUSR1);
}

Test(reactor, signal_delivered_from_loop)
{
	struct reactor_timer	*t = reactor_timer_new(r, raise_cb, NULL);
	uint64_t		 took;

	got_signo = 0;
	got_count = 0;
	cr_assert_eq(reactor_on_signal(r, SIGUSR1, signal_cb, &got_signo), 0);
	cr_assert_eq(reactor_on_signal(r, SIGUSR2, signal_cb, &got_signo), 0);
	raise(SIGUSR1);		/* before the loop: held until it runs */
	reactor_timer_in(t, 30);	/* and once more from inside it */
	took = run_for(2000);
	cr_assert_eq(got_count, 2);
	cr_assert_eq(got_signo, SIGUSR1);
	cr_assert_lt(took, 1000);
	reactor_timer_free(t);
}

/* A signal that came while the loop was held, taken without waiting. */
Test(reactor, poll_takes_what_is_ready_without_waiting)
{
	uint64_t	start;

	got_signo = 0;
	got_count = 0;
	cr_assert_eq(reactor_on_signal(r, SIGUSR2, signal_cb, &got_signo), 0);
	start = reactor_clock_ms();
	cr_assert_eq(reactor_poll(r), 0);	/* nothing ready: back at once */
	cr_assert_eq(got_count, 0);
	raise(SIGUSR2);
	cr_assert_eq(reactor_poll(r), 0);
	if (got_count == 0)			/* the wakeup pipe, a step late */
		cr_assert_eq(reactor_poll(r), 0);
	cr_assert_eq(got_count, 1);
	cr_assert_eq(got_signo, SIGUSR2);
	cr_assert_lt(reactor_clock_ms() - start, 500);
}

Test(reactor, bad_signal_refused)
{
	log_set_level(LOG_ERROR);	/* libevent's warning is expected */
	cr_assert_eq(reactor_on_signal(r, 100000, signal_cb, NULL), -1);
}

Test(reactor, stop_and_run_again)
{
	struct reactor_timer	*t = reactor_timer_new(r, stop_cb, r);
	uint64_t		 a, b;

	a = reactor_now_ms(r);
	reactor_timer_in(t, 30);
	cr_assert_eq(reactor_run(r), 0);	/* nothing else: runs on */
	b = reactor_now_ms(r);
	cr_assert_geq(b - a, 30);
	cr_assert_leq(b - a, 30 + SLACK_MS);
	reactor_timer_in(t, 20);
	cr_assert_eq(reactor_run(r), 0);
	cr_assert_geq(reactor_now_ms(r) - b, 20);
	reactor_timer_free(t);
	cr_assert_not_null(reactor_base(r));
}

Test(reactor, clock_is_monotonic_ms)
{
	uint64_t	a, b;
	int		i;

	a = reactor_now_ms(r);
	for (i = 0; i < 1000; i++) {
		b = reactor_now_ms(r);
		cr_assert_geq(b, a);
		a = b;
	}
	usleep(30 * 1000);
	b = reactor_now_ms(r);
	cr_assert_geq(b - a, 30);
	cr_assert_lt(b - a, 1000);
}

/* The clock without a reactor is the reactor's clock; the wall clock. */
Test(reactor, clock_accessors)
{
	uint64_t	a, b, c;
	int64_t		w;

	a = reactor_clock_ms();
	b = reactor_now_ms(r);
	usleep(30 * 1000);
	c = reactor_clock_ms();
	cr_assert(a <= b && b <= c);
	cr_assert(c - a >= 30 && c - a < 30 + 1000, "%llu ms",
	    (unsigned long long)(c - a));
	/* nanoseconds: the same clock, finer */
	a = reactor_clock_ns();
	b = reactor_clock_ms();
	c = reactor_clock_ns();
	cr_assert(a <= c);
	cr_assert(a / 1000000 <= b && b <= c / 1000000);
	w = reactor_wall_s();
	cr_assert(w > 1700000000, "%lld", (long long)w);	/* 2023 on */
	cr_assert(w < 4102444800LL, "%lld", (long long)w);	/* 2100 */
}

struct fd_seen {
	int			 fd;
	int			 calls;
	char			 got[8];
	size_t			 n;
	struct reactor_fd	*w;
};

static void
fd_read_cb(void *arg)
{
	struct fd_seen	*s = arg;
	ssize_t		 k;

	s->calls++;
	k = read(s->fd, s->got + s->n, sizeof(s->got) - s->n);
	if (k > 0)
		s->n += (size_t)k;
	if (s->n == 3) {
		reactor_fd_free(s->w);	/* from its own callback */
		s->w = NULL;
		reactor_stop(r);
	}
}

static void
write_cb(void *arg)
{
	int	*fd = arg;

	cr_assert_eq(write(*fd, "bc", 2), 2);
}

Test(reactor, fd_readable_calls_back_until_freed)
{
	struct reactor_timer	*t = reactor_timer_new(r, write_cb, NULL);
	struct fd_seen		 s = { 0 };
	int			 p[2];
	uint64_t		 took;

	cr_assert_eq(pipe(p), 0);
	s.fd = p[0];
	cr_assert_not_null(s.w = reactor_fd_new(r, p[0], fd_read_cb, &s));
	cr_assert_eq(write(p[1], "a", 1), 1);	/* before the loop runs */
	reactor_timer_free(t);
	t = reactor_timer_new(r, write_cb, &p[1]);
	reactor_timer_in(t, 30);		/* and from inside it */
	took = run_for(2000);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(memcmp(s.got, "abc", 3), 0);
	cr_assert_eq(s.calls, 2);
	cr_assert_lt(took, 1000);
	cr_assert_null(s.w);
	/* Freed: more bytes call nothing. */
	cr_assert_eq(write(p[1], "d", 1), 1);
	run_for(50);
	cr_assert_eq(s.calls, 2);
	reactor_timer_free(t);
	close(p[0]);
	close(p[1]);
}

Test(reactor, fd_bad_refused)
{
	log_set_level(LOG_ERROR);
	cr_assert_null(reactor_fd_new(r, -1, fd_read_cb, NULL));
	reactor_fd_free(NULL);
}
