/* test-share.c - fair shares of the session's caps, on a fake clock */
#include <criterion/criterion.h>

#include "share.h"

#define T0	7000000u		/* a clock reading well past 0 */

static const struct share_caps	caps50 = { .conns = 50, .half_open = 64 };

/* A torrent's report at time ms. */
static struct share_use
use(uint32_t conns, uint32_t half_open, uint32_t want, uint64_t ms)
{
	return (struct share_use){
		.conns = conns, .half_open = half_open, .want = want, .ms = ms,
	};
}

static uint32_t
total(const struct share_use *u, size_t n)
{
	uint32_t	s = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		s += u[i].conns;
	return s;
}

Test(share, level_water_filling)
{
	uint32_t	d2[] = { 100, 100 };
	uint32_t	d3[] = { 100, 100, 100 };
	uint32_t	small[] = { 5, 100 };
	uint32_t	fit[] = { 10, 20, 20 };
	uint32_t	many[100];
	size_t		i;

	cr_assert_eq(share_level(50, d2, 2), 25);
	cr_assert_eq(share_level(50, d3, 3), 17, "rounds up: 3 x 17 >= 50");
	cr_assert_eq(share_level(50, small, 2), 45, "5 unused: the other's");
	cr_assert_eq(share_level(50, fit, 3), UINT32_MAX, "all fit");
	cr_assert_eq(share_level(50, NULL, 0), UINT32_MAX);
	cr_assert_eq(share_level(0, d2, 2), 0);
	for (i = 0; i < 100; i++)
		many[i] = 3;
	cr_assert_eq(share_level(50, many, 100), 1);
}

/* One torrent: the session's free room, as before the shares. */
Test(share, one_torrent_gets_what_is_free)
{
	struct share_use	u[1] = { use(10, 2, 40, T0) };

	cr_assert_eq(share_room(&caps50, u, 1, 0, 10, T0), 40);
	/* Inbound connections not matched yet count against the cap. */
	cr_assert_eq(share_room(&caps50, u, 1, 0, 45, T0), 5);
	u[0] = use(10, 2, 500, T0);
	cr_assert_eq(share_room(&caps50, u, 1, 0, 10, T0), 40);
	u[0] = use(0, 0, 0, T0);
	cr_assert_eq(share_room(&caps50, u, 1, 0, 0, T0), 0,
	    "wants nothing");
	cr_assert(share_may_accept(&caps50, u, 1, 0, T0));
	u[0] = use(49, 0, 0, T0);
	cr_assert(share_may_accept(&caps50, u, 1, 0, T0));
}

/* Two torrents wanting more than the cap: half each. */
Test(share, two_hungry_torrents_split_the_cap)
{
	struct share_use	u[2] = {
		use(25, 0, 100, T0), use(0, 0, 100, T0),
	};

	cr_assert_eq(share_room(&caps50, u, 2, 0, total(u, 2), T0), 0,
	    "at its share while the other wants");
	cr_assert_eq(share_room(&caps50, u, 2, 1, total(u, 2), T0), 25);
	cr_assert(!share_may_accept(&caps50, u, 2, 0, T0));
	cr_assert(share_may_accept(&caps50, u, 2, 1, T0));
}

/* Unused share is the others': a torrent wanting little leaves the rest. */
Test(share, unused_share_goes_to_the_others)
{
	struct share_use	u[2] = {
		use(20, 0, 100, T0), use(5, 0, 0, T0),
	};

	cr_assert_eq(share_room(&caps50, u, 2, 0, total(u, 2), T0), 25,
	    "45 in all for it");
	/* It later wants 10 more: it may reach its share, 25, not more. */
	u[0].conns = 45;
	u[1] = use(5, 0, 10, T0);
	cr_assert_eq(share_room(&caps50, u, 2, 0, 50, T0), 0);
	cr_assert_eq(share_room(&caps50, u, 2, 1, 50, T0), 0,
	    "nothing is free");
	u[0].conns = 40;		/* five of its connections closed */
	cr_assert_eq(share_room(&caps50, u, 2, 0, 45, T0), 0,
	    "over its share: the free room is the other's");
	cr_assert_eq(share_room(&caps50, u, 2, 1, 45, T0), 5);
}

/* A torrent holding the cap from when it was alone opens nothing more. */
Test(share, holder_over_its_share_yields)
{
	struct share_use	u[2] = {
		use(40, 0, 10, T0), use(0, 0, 30, T0),
	};

	cr_assert_eq(share_room(&caps50, u, 2, 0, 40, T0), 0);
	cr_assert_eq(share_room(&caps50, u, 2, 1, 40, T0), 10,
	    "its share is 25, but only 10 are free");
	cr_assert(!share_may_accept(&caps50, u, 2, 0, T0));
}

/* Stale reports (a torrent that stopped) hold and want nothing. */
Test(share, stale_reports_are_ignored)
{
	struct share_use	u[2] = {
		use(0, 0, 100, T0), use(25, 5, 100, T0),
	};

	cr_assert_eq(share_room(&caps50, u, 2, 0, 25, T0), 25);
	u[0].ms = T0 + SHARE_STALE_MS - 1;
	cr_assert_eq(share_room(&caps50, u, 2, 0, 25,
	    T0 + SHARE_STALE_MS - 1), 25, "fresh for SHARE_STALE_MS");
	u[0].ms = T0 + SHARE_STALE_MS;
	cr_assert_eq(share_room(&caps50, u, 2, 0, 0, T0 + SHARE_STALE_MS),
	    50, "the other went silent: its share is free");
}

/* Many torrents over a small cap: one each, and never over the cap. */
Test(share, more_torrents_than_connections)
{
	struct share_use	u[100];
	uint32_t		all = 0, r;
	size_t			i, got = 0;

	for (i = 0; i < 100; i++)
		u[i] = use(0, 0, 5, T0);
	for (i = 0; i < 100; i++) {
		u[i].ms = T0 + i;
		r = share_room(&caps50, u, 100, i, all, T0 + i);
		cr_assert_leq(r, 1, "torrent %zu may open %u", i, r);
		u[i].conns += r;
		u[i].want -= r;
		all += r;
		got += r > 0;
	}
	cr_assert_eq(all, 50, "the cap is filled, not passed");
	cr_assert_eq(got, 50);
}

/* Every torrent asking in turn, again and again: the cap splits evenly. */
Test(share, rounds_converge_to_equal_shares)
{
	struct share_caps	c = { .conns = 60, .half_open = 64 };
	struct share_use	u[3];
	uint32_t		all = 0, r;
	uint64_t		now = T0;
	size_t			i, round;

	for (i = 0; i < 3; i++)
		u[i] = use(0, 0, 1000, now);
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 3; i++) {
			now += 333;
			u[i].ms = now;
			r = share_room(&c, u, 3, i, all, now);
			/* a few connects at a time, as a swarm tick does */
			r = r > 4 ? 4 : r;
			u[i].conns += r;
			all += r;
		}
	}
	for (i = 0; i < 3; i++)
		cr_assert_eq(u[i].conns, 20, "torrent %zu holds %u", i,
		    u[i].conns);
}

/* Connects under way: their own cap, shared the same way. */
Test(share, half_open_cap_is_shared)
{
	struct share_caps	c = { .conns = 1000, .half_open = 20 };
	struct share_use	u[4];
	size_t			i;

	for (i = 0; i < 4; i++)
		u[i] = use(0, 0, 100, T0);
	cr_assert_eq(share_room(&c, u, 4, 0, 0, T0), 5);
	u[0] = use(5, 5, 95, T0);
	cr_assert_eq(share_room(&c, u, 4, 0, 5, T0), 0,
	    "its 5 connects are its share");
	cr_assert_eq(share_room(&c, u, 4, 1, 5, T0), 5);
	u[0] = use(5, 0, 95, T0);		/* they completed */
	cr_assert_eq(share_room(&c, u, 4, 0, 5, T0), 5);
	/* Alone wanting: all of the half-open cap. */
	for (i = 1; i < 4; i++)
		u[i] = use(3, 0, 0, T0);
	cr_assert_eq(share_room(&c, u, 4, 0, 14, T0), 20);
}

/* Out of range and saturated figures. */
Test(share, bounds)
{
	struct share_use	u[2] = {
		use(UINT32_MAX, 0, UINT32_MAX, T0), use(0, 0, UINT32_MAX, T0),
	};

	cr_assert_eq(share_room(&caps50, u, 2, 2, 0, T0), 0);
	cr_assert(!share_may_accept(&caps50, u, 2, 2, T0));
	cr_assert_eq(share_room(&caps50, u, 2, 0, 50, T0), 0);
	cr_assert(!share_may_accept(&caps50, u, 2, 0, T0));
	cr_assert_eq(share_room(&caps50, u, 2, 1, 10, T0), 25);
}

/* Torrents started together: the first to ask does not take it all. */
Test(share, pending_torrents_count_as_wanting)
{
	struct share_use	u[3] = {
		use(0, 0, 40, T0), { .pending = true }, { .pending = true },
	};

	cr_assert_eq(share_room(&caps50, u, 3, 0, 0, T0), 17);
	cr_assert(share_may_accept(&caps50, u, 3, 0, T0));
	u[0].conns = 17;
	u[0].want = 23;
	cr_assert(!share_may_accept(&caps50, u, 3, 0, T0));
	/* Heard from: the second wants 5, the third is still pending. */
	u[1] = use(0, 0, 5, T0 + 100);
	cr_assert_eq(share_room(&caps50, u, 3, 1, 17, T0 + 100), 5);
	u[0].ms = T0 + 100;
	cr_assert_eq(share_room(&caps50, u, 3, 0, 17, T0 + 100), 6,
	    "level 23 (23 + 5 + 23 >= 50): 17 held");
	/* Never stale while pending, whatever the clock says. */
	u[0].ms = T0 + 100000;
	cr_assert_eq(share_room(&caps50, u, 3, 0, 17, T0 + 100000), 8,
	    "the second went silent: level 25 with the pending one");
}
