/* test-ratelimit.c - the token bucket on a fake clock */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

#define KIB	1024u
#define MIB	(1024u * 1024u)
#define T0	5000000u		/* a clock reading far from zero */

/* Takes everything there is; returns how much. */
static uint64_t
drain(struct ratelimit *rl, uint64_t now)
{
	uint64_t	a = ratelimit_avail(rl, now);

	ratelimit_spend(rl, a);
	return a;
}

Test(ratelimit, no_limit)
{
	struct ratelimit	rl;

	ratelimit_init(&rl, 0, T0);
	cr_assert_not(ratelimit_on(&rl));
	cr_assert_eq(ratelimit_avail(&rl, T0), UINT64_MAX);
	ratelimit_spend(&rl, 1u << 30);
	cr_assert_eq(ratelimit_avail(&rl, T0), UINT64_MAX);
	cr_assert_eq(ratelimit_wait_ms(&rl, 1u << 30, T0), 0);
}

/* A new bucket is full; its depth is 125 ms of the rate, 20 KiB at least. */
Test(ratelimit, depth)
{
	struct ratelimit	rl;

	ratelimit_init(&rl, MIB, T0);
	cr_assert(ratelimit_on(&rl));
	cr_assert_eq(rl.depth, MIB / 8);
	cr_assert_eq(ratelimit_avail(&rl, T0), MIB / 8);
	cr_assert_eq(ratelimit_quantum(&rl), MIB / 32);
	ratelimit_init(&rl, 10 * KIB, T0);
	cr_assert_eq(rl.depth, 20 * KIB);
	cr_assert_gt(rl.depth, 16 * KIB + 13, "a block and its header fit");
	ratelimit_init(&rl, 1, T0);
	cr_assert_eq(ratelimit_avail(&rl, T0), 20 * KIB);
}

/* Each millisecond earns rate/1000 bytes, fractions carried over. */
Test(ratelimit, refill_is_exact)
{
	struct ratelimit	rl;
	uint64_t		got = 0, t;

	ratelimit_init(&rl, 1500, T0);
	cr_assert_eq(drain(&rl, T0), 20 * KIB);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 1), 1);	/* 1.5 */
	cr_assert_eq(ratelimit_avail(&rl, T0 + 2), 3);	/* 3.0 */
	cr_assert_eq(drain(&rl, T0 + 2), 3);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 3), 1);	/* 1.5 */
	/* taking in every odd millisecond loses no fraction */
	ratelimit_init(&rl, 999, T0);
	(void)drain(&rl, T0);
	for (t = T0 + 1; t <= T0 + 10000; t += 3)
		got += drain(&rl, t);
	got += drain(&rl, T0 + 10000);
	cr_assert_eq(got, 9990, "got %llu", (unsigned long long)got);
	/* a clock that seems to go back earns nothing */
	ratelimit_init(&rl, 1000, T0);
	(void)drain(&rl, T0);
	cr_assert_eq(ratelimit_avail(&rl, T0 - 50), 0);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 5), 5);
}

/* A full bucket holds depth and no more, however long it waits. */
Test(ratelimit, depth_caps_idle_time)
{
	struct ratelimit	rl;

	ratelimit_init(&rl, MIB, T0);
	(void)drain(&rl, T0);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 1000), MIB / 8);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 3600000), MIB / 8);
	(void)drain(&rl, T0 + 3600000);
	/* what a full bucket turned away is gone: 1 ms earns 1048.576 */
	cr_assert_eq(ratelimit_avail(&rl, T0 + 3600001), 1048);
	/* the largest rates neither overflow nor stall */
	ratelimit_init(&rl, UINT64_MAX, T0);
	cr_assert_eq(rl.rate, RATELIMIT_MAX_RATE);
	(void)drain(&rl, T0);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 1), RATELIMIT_MAX_RATE / 1000);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 100000000),
	    (uint64_t)rl.depth);
}

/* Waiting exactly wait_ms gives what was asked; a millisecond less not. */
Test(ratelimit, wait_answers)
{
	static const uint64_t	rates[] = { 1, 3, 999, 1000, 1500, 65536,
		    MIB, 1234567, 100 * MIB };
	struct ratelimit	rl;
	uint64_t		w, want, q;
	size_t			i;

	for (i = 0; i < nitems(rates); i++) {
		ratelimit_init(&rl, rates[i], T0);
		cr_assert_eq(ratelimit_wait_ms(&rl, 100, T0), 0);
		(void)drain(&rl, T0 + 7);
		q = ratelimit_quantum(&rl);
		for (want = 1; want <= 2 * (uint64_t)rl.depth; want *= 3) {
			w = ratelimit_wait_ms(&rl, want, T0 + 7);
			cr_assert_gt(w, 0);
			if (want <= (uint64_t)rl.depth)
				cr_assert_geq(ratelimit_avail(&rl,
				    T0 + 7 + w), want, "rate %llu want %llu",
				    (unsigned long long)rates[i],
				    (unsigned long long)want);
			else	/* asks beyond the depth mean a full bucket */
				cr_assert_eq(ratelimit_avail(&rl,
				    T0 + 7 + w), (uint64_t)rl.depth);
			/* the bucket only remembers later readings */
			ratelimit_init(&rl, rates[i], T0);
			(void)drain(&rl, T0 + 7);
			if (w > 1)
				cr_assert_lt(ratelimit_avail(&rl, T0 + 6 + w),
				    MIN(want, (uint64_t)rl.depth),
				    "rate %llu want %llu w %llu",
				    (unsigned long long)rates[i],
				    (unsigned long long)want,
				    (unsigned long long)w);
			ratelimit_init(&rl, rates[i], T0);
			(void)drain(&rl, T0 + 7);
		}
		cr_assert_eq(ratelimit_wait_ms(&rl, q, T0 + 7),
		    (q * 1000 + rates[i] - 1) / rates[i]);
	}
}

/* Spending beyond what there is owes it: later tokens pay the debt. */
Test(ratelimit, debt)
{
	struct ratelimit	rl;

	ratelimit_init(&rl, 1000, T0);
	ratelimit_spend(&rl, 20 * KIB + 500);
	cr_assert_eq(ratelimit_avail(&rl, T0), 0);
	cr_assert_eq(ratelimit_wait_ms(&rl, 1, T0), 501);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 500), 0);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 501), 1);
}

Test(ratelimit, set_rate)
{
	struct ratelimit	rl;

	ratelimit_init(&rl, 0, T0);
	ratelimit_set_rate(&rl, MIB, T0 + 10);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 10), MIB / 8, "starts full");
	(void)drain(&rl, T0 + 10);
	ratelimit_set_rate(&rl, 2000, T0 + 20);	/* 10 ms at 1 MiB/s kept */
	cr_assert_eq(ratelimit_avail(&rl, T0 + 20), 10485);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 21), 10487);
	ratelimit_set_rate(&rl, 0, T0 + 30);
	cr_assert_eq(ratelimit_avail(&rl, T0 + 30), UINT64_MAX);
}

/*
 * A throttled connection as net runs one: it waits until a quantum is
 * back (its timer firing 0-4 ms late), then takes all there is.  Over a
 * simulated 10 s in the middle it gets the rate to within a few bytes,
 * and in no second more than the rate and the depth.
 */
Test(ratelimit, exact_over_ten_seconds)
{
	static const uint64_t	rates[] = { 20 * KIB, 500 * KIB, MIB,
		    3 * MIB + 7, 64 * MIB };
	static uint64_t		per_ms[20000];
	struct ratelimit	rl;
	uint64_t		now, w, a, got, rate, sec;
	uint32_t		jitter = 12345;
	size_t			i, t;

	for (i = 0; i < nitems(rates); i++) {
		rate = rates[i];
		memset(per_ms, 0, sizeof(per_ms));
		ratelimit_init(&rl, rate, 0);
		for (now = 0; now < nitems(per_ms);) {
			per_ms[now] += a = ratelimit_avail(&rl, now);
			ratelimit_spend(&rl, a);
			w = ratelimit_wait_ms(&rl, ratelimit_quantum(&rl), now);
			jitter = jitter * 1103515245 + 12345;
			now += MAX(w, 1) + (jitter >> 16) % 5;
		}
		/*
		 * 10 s from 5 s on: the rate, give or take the tokens
		 * waiting at either end (a quantum and a late timer's worth)
		 */
		for (got = 0, t = 5000; t < 15000; t++)
			got += per_ms[t];
		a = got > rate * 10 ? got - rate * 10 : rate * 10 - got;
		cr_assert_leq(a, ratelimit_quantum(&rl) + rate * 6 / 1000 + 1,
		    "rate %llu: got %llu in 10 s", (unsigned long long)rate,
		    (unsigned long long)got);
		cr_assert_leq(a, rate * 10 / 20, "within 5 %%");
		if (rate >= 500 * KIB)
			cr_assert_leq(a, rate * 10 / 100, "within 1 %%");
		/* no second more than the rate and one bucket */
		for (t = 0; t + 1000 <= nitems(per_ms); t += 50) {
			for (sec = 0, w = t; w < t + 1000; w++)
				sec += per_ms[w];
			cr_assert_leq(sec, rate + (uint64_t)rl.depth,
			    "rate %llu: %llu in the second from %zu ms",
			    (unsigned long long)rate,
			    (unsigned long long)sec, t);
		}
	}
}
