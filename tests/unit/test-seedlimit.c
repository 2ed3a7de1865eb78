/* test-seedlimit.c - when seeding ends, on a fake clock */
#include <criterion/criterion.h>

#include <string.h>

#include "seedlimit.h"

#define MIB	(1024u * 1024u)
#define T0	5000000u		/* a clock reading well past 0 */

static struct seedlimit
mk(double ratio, uint32_t time_s, uint32_t idle_s, uint64_t size)
{
	struct seedlimit_opts	o = {
		.ratio = ratio, .time_s = time_s, .idle_s = idle_s,
	};
	struct seedlimit	sl;

	seedlimit_init(&sl, &o, size);
	return sl;
}

Test(seedlimit, none_set_never_ends)
{
	struct seedlimit	sl = mk(0, 0, 0, 64 * MIB);
	uint64_t		t;

	cr_assert(!seedlimit_active(&sl));
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_deadline(&sl), UINT64_MAX);
	for (t = T0; t < T0 + 86400000ull * 30; t += 3600000)
		cr_assert_eq(seedlimit_check(&sl, t, t), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, UINT64_MAX, t),
	    SEEDLIMIT_NONE);
}

/* Ratio 1: the torrent's size uploaded, not a byte less. */
Test(seedlimit, ratio_at_exactly_the_size)
{
	struct seedlimit	sl = mk(1.0, 0, 0, 64 * MIB);

	cr_assert(seedlimit_active(&sl));
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_deadline(&sl), UINT64_MAX, "ratio alone: "
	    "no timer");
	cr_assert_eq(seedlimit_on_upload(&sl, 64 * MIB - 1, T0 + 10),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, 64 * MIB - 1, T0 + 20),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, 64 * MIB, T0 + 30),
	    SEEDLIMIT_RATIO);
	/* Latched: later calls say the same. */
	cr_assert_eq(seedlimit_check(&sl, 64 * MIB + 5, T0 + 40),
	    SEEDLIMIT_RATIO);
	cr_assert_eq(seedlimit_reached(&sl), SEEDLIMIT_RATIO);
	cr_assert_eq(seedlimit_deadline(&sl), UINT64_MAX);
}

/* Fractional ratios round the byte target up. */
Test(seedlimit, ratio_fractional_rounds_up)
{
	struct seedlimit	sl = mk(0.5, 0, 0, 1001);

	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_on_upload(&sl, 500, T0), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, 501, T0), SEEDLIMIT_RATIO);

	sl = mk(2.5, 0, 0, 4);
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_on_upload(&sl, 9, T0), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, 10, T0), SEEDLIMIT_RATIO);
}

/*
 * The ratio counts the whole run, the download too (as aria2), but ends
 * nothing before seeding begins: met while downloading, it ends seeding
 * as soon as it starts.
 */
Test(seedlimit, ratio_counts_upload_while_downloading)
{
	struct seedlimit	sl = mk(1.0, 0, 0, 1000);

	cr_assert_eq(seedlimit_on_upload(&sl, 600, T0), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, 1200, T0 + 1), SEEDLIMIT_NONE,
	    "not seeding yet");
	cr_assert_eq(seedlimit_check(&sl, 1200, T0 + 2), SEEDLIMIT_NONE);
	seedlimit_start(&sl, 1200, T0 + 100);
	cr_assert_eq(seedlimit_check(&sl, 1200, T0 + 100), SEEDLIMIT_RATIO);
}

/* Seed time counts from seedlimit_start, whatever is uploaded. */
Test(seedlimit, time_from_start)
{
	struct seedlimit	sl = mk(0, 6, 0, 10 * MIB);
	uint64_t		t;

	cr_assert_eq(seedlimit_deadline(&sl), UINT64_MAX, "not seeding");
	cr_assert_eq(seedlimit_check(&sl, 0, T0 + 100000), SEEDLIMIT_NONE);
	seedlimit_start(&sl, 0, T0);
	seedlimit_start(&sl, 0, T0 + 3000);	/* again: no-op */
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 6000);
	for (t = T0; t < T0 + 6000; t += 250)
		cr_assert_eq(seedlimit_check(&sl, t * 10, t), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, t * 10, T0 + 6000),
	    SEEDLIMIT_TIME);
	cr_assert_eq(seedlimit_deadline(&sl), UINT64_MAX);
}

/* Idle: each upload pushes the deadline; silence ends it. */
Test(seedlimit, idle_pushed_by_uploads)
{
	struct seedlimit	sl = mk(0, 0, 30, 10 * MIB);

	seedlimit_start(&sl, 100, T0);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 30000);
	/* An upload at +20 s: the deadline moves to +50 s. */
	cr_assert_eq(seedlimit_on_upload(&sl, 200, T0 + 20000),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 50000);
	/* The timer armed at +30 s fires early: nothing, new deadline. */
	cr_assert_eq(seedlimit_check(&sl, 200, T0 + 30000), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 50000);
	/* A check with the same figure is no upload. */
	cr_assert_eq(seedlimit_check(&sl, 200, T0 + 40000), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 50000);
	cr_assert_eq(seedlimit_check(&sl, 200, T0 + 49999), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, 200, T0 + 50000), SEEDLIMIT_IDLE);
}

/* Uploads before seeding began do not shorten the idle time. */
Test(seedlimit, idle_counts_from_start)
{
	struct seedlimit	sl = mk(0, 0, 10, 10 * MIB);

	cr_assert_eq(seedlimit_on_upload(&sl, 50, T0), SEEDLIMIT_NONE);
	seedlimit_start(&sl, 50, T0 + 60000);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 70000);
	cr_assert_eq(seedlimit_check(&sl, 50, T0 + 69999), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, 50, T0 + 70000), SEEDLIMIT_IDLE);
}

/* The first limit reached wins; the deadline is the nearer one. */
Test(seedlimit, first_reached_wins)
{
	struct seedlimit	sl = mk(2.0, 60, 20, 1000);

	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 20000);
	cr_assert_eq(seedlimit_on_upload(&sl, 10, T0 + 15000),
	    SEEDLIMIT_NONE);
	/* idle now due at +35 s, time at +60 s */
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 35000);
	cr_assert_eq(seedlimit_on_upload(&sl, 20, T0 + 30000),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, 30, T0 + 45000),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 60000, "time is nearer");
	cr_assert_eq(seedlimit_check(&sl, 30, T0 + 60000), SEEDLIMIT_TIME);

	/* Ratio before time. */
	sl = mk(2.0, 60, 20, 1000);
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_on_upload(&sl, 2000, T0 + 1000),
	    SEEDLIMIT_RATIO);
	cr_assert_eq(seedlimit_check(&sl, 2000, T0 + 60000),
	    SEEDLIMIT_RATIO);
}

Test(seedlimit, describe)
{
	struct seedlimit	sl = mk(1.0, 6, 30, 64 * MIB);
	char			why[SEEDLIMIT_WHYLEN];

	seedlimit_describe(&sl, why, sizeof(why));
	cr_assert_str_eq(why, "no seeding limit reached");
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_on_upload(&sl, 64 * MIB, T0 + 10),
	    SEEDLIMIT_RATIO);
	seedlimit_describe(&sl, why, sizeof(why));
	cr_assert_str_eq(why, "ratio 1.00 reached (64.0 MiB up)");
	cr_assert_str_eq(seedlimit_reason_name(seedlimit_reached(&sl)),
	    "ratio");

	sl = mk(0, 6, 0, 64 * MIB);
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_on_upload(&sl, 1536, T0 + 10),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, 1536, T0 + 6000), SEEDLIMIT_TIME);
	seedlimit_describe(&sl, why, sizeof(why));
	cr_assert_str_eq(why, "seed time 0.1 min reached (6 s seeding, "
	    "1.5 KiB up)");

	sl = mk(0, 0, 90, 64 * MIB);
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_check(&sl, 0, T0 + 90000), SEEDLIMIT_IDLE);
	seedlimit_describe(&sl, why, sizeof(why));
	cr_assert_str_eq(why, "seed idle 1.5 min reached (nothing up for "
	    "90 s, 0 B up)");
	cr_assert_str_eq(seedlimit_reason_name(SEEDLIMIT_IDLE), "idle");

	/* Short buffers are cut, NUL-terminated. */
	seedlimit_describe(&sl, why, 8);
	cr_assert_eq(strlen(why), 7);
}

/* Absurd inputs: a size of 0 ends a ratio at once; huge ratios cap. */
Test(seedlimit, edges)
{
	struct seedlimit	sl = mk(1.0, 0, 0, 0);

	seedlimit_start(&sl, 0, 0);
	cr_assert_eq(seedlimit_check(&sl, 0, 0), SEEDLIMIT_RATIO);

	sl = mk(1e6, 0, 0, UINT64_MAX / 2);
	seedlimit_start(&sl, 0, 0);
	cr_assert_eq(seedlimit_on_upload(&sl, UINT64_MAX / 2, 1),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_on_upload(&sl, UINT64_MAX - 1, 2),
	    SEEDLIMIT_RATIO);

	sl = mk(-1.0, 0, 0, 1000);
	cr_assert(!seedlimit_active(&sl));
}

/* A pause counts neither as seeding time nor as idle time. */
Test(seedlimit, pause_skipped)
{
	struct seedlimit	sl = mk(0, 100, 30, 64 * MIB);
	struct seedlimit	before = mk(0, 100, 30, 64 * MIB);

	seedlimit_skip(&before, 1000);		/* not seeding: no-op */
	cr_assert_eq(before.start_ms, 0);
	seedlimit_start(&sl, 0, T0);
	cr_assert_eq(seedlimit_on_upload(&sl, MIB, T0 + 10000),
	    SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 40000, "idle first");
	/* paused from T0 + 20 s to T0 + 520 s */
	seedlimit_skip(&sl, 500000);
	cr_assert_eq(seedlimit_deadline(&sl), T0 + 540000);
	cr_assert_eq(seedlimit_check(&sl, MIB, T0 + 539999), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, MIB, T0 + 540000), SEEDLIMIT_IDLE);
	seedlimit_skip(&sl, 1000);		/* reached: no-op */
	cr_assert_eq(sl.end_ms, T0 + 540000);
	/* seeding time: 100 s of it, the pause left out */
	sl = mk(0, 100, 0, 64 * MIB);
	seedlimit_start(&sl, 0, T0);
	seedlimit_skip(&sl, 50000);
	cr_assert_eq(seedlimit_check(&sl, 0, T0 + 149999), SEEDLIMIT_NONE);
	cr_assert_eq(seedlimit_check(&sl, 0, T0 + 150000), SEEDLIMIT_TIME);
}
