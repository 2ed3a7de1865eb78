/* test-announce.c - BEP 12 tiers, events, intervals and backoff */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "announce.h"
#include "util.h"

#define SEC	1000ULL

/* A started announce object with ntier tiers of per[t] trackers each,
   named "http://t<tier>-<i>/announce". */
static struct announce *
make(uint64_t seed, const size_t *per, size_t ntier, uint64_t now)
{
	struct announce	*a = announce_new(seed);
	char		 url[64];
	size_t		 t, i;

	for (t = 0; t < ntier; t++)
		for (i = 0; i < per[t]; i++) {
			snprintf(url, sizeof(url), "http://t%zu-%zu/announce",
			    t, i);
			announce_add(a, (unsigned)t, url);
		}
	announce_start(a, now);
	return a;
}

/* Asserts the announce due at now goes to tracker index i with ev. */
static void
expect(struct announce *a, uint64_t now, size_t i, enum tracker_event ev)
{
	const char		*url = NULL;
	enum tracker_event	 got = TRACKER_EVENT_NONE;

	cr_assert_leq(announce_deadline(a), now);
	cr_assert(announce_next(a, now, &url, &got), "due at %llu",
	    (unsigned long long)now);
	cr_assert_str_eq(url, announce_url(a, i));
	cr_assert_eq(got, ev, "event %d, want %d", got, ev);
	cr_assert_eq(announce_deadline(a), UINT64_MAX, "under way");
}

static void
expect_url(struct announce *a, uint64_t now, const char *want,
    enum tracker_event ev)
{
	const char		*url = NULL;
	enum tracker_event	 got = TRACKER_EVENT_NONE;

	cr_assert(announce_next(a, now, &url, &got));
	cr_assert_str_eq(url, want);
	cr_assert_eq(got, ev, "event %d, want %d", got, ev);
}

static void
expect_nothing(struct announce *a, uint64_t now)
{
	const char		*url;
	enum tracker_event	 ev;

	cr_assert_not(announce_next(a, now, &url, &ev));
}

Test(announce, shuffled_within_tiers_only)
{
	static const size_t	 per[] = { 5, 3, 1, 4 };
	struct announce		*a;
	char			 first[5][64];
	bool			 differs = false;
	uint64_t		 seed;
	size_t			 i, t, start, seen;

	for (seed = 1; seed <= 64; seed++) {
		a = make(seed, per, nitems(per), 0);
		cr_assert_eq(announce_count(a), 13);
		start = 0;
		for (t = 0; t < nitems(per); t++) {
			seen = 0;
			for (i = start; i < start + per[t]; i++) {
				char	pfx[16];
				int	k;

				snprintf(pfx, sizeof(pfx), "http://t%zu-", t);
				cr_assert(strncmp(announce_url(a, i), pfx,
				    strlen(pfx)) == 0, "seed %llu: %s at %zu",
				    (unsigned long long)seed,
				    announce_url(a, i), i);
				cr_assert_eq(announce_tier(a, i), t);
				k = announce_url(a, i)[strlen(pfx)] - '0';
				cr_assert(k >= 0 && (size_t)k < per[t]);
				seen |= (size_t)1 << k;
			}
			cr_assert_eq(seen, ((size_t)1 << per[t]) - 1,
			    "a permutation of the tier");
			start += per[t];
		}
		if (seed == 1)
			for (i = 0; i < 5; i++)
				snprintf(first[i], sizeof(first[i]), "%s",
				    announce_url(a, i));
		else
			for (i = 0; i < 5; i++)
				differs |= strcmp(first[i],
				    announce_url(a, i)) != 0;
		announce_free(a);
	}
	cr_assert(differs, "seeds give different orders");
}

Test(announce, same_seed_same_order)
{
	static const size_t	 per[] = { 6, 6 };
	struct announce		*a = make(42, per, 2, 0);
	struct announce		*b = make(42, per, 2, 0);
	size_t			 i;

	for (i = 0; i < 12; i++)
		cr_assert_str_eq(announce_url(a, i), announce_url(b, i));
	announce_free(a);
	announce_free(b);
}

Test(announce, sparse_tiers_in_order)
{
	struct announce	*a = announce_new(1);

	announce_add(a, 5, "http://five/announce");
	announce_add(a, 2, "http://two/announce");
	announce_add(a, 9, "http://nine/announce");
	announce_add(a, 2, "http://two-b/announce");
	announce_start(a, 0);
	cr_assert_eq(announce_count(a), 4);
	cr_assert_eq(announce_tier(a, 0), 2);
	cr_assert_eq(announce_tier(a, 1), 2);
	cr_assert_str_eq(announce_url(a, 2), "http://five/announce");
	cr_assert_eq(announce_tier(a, 2), 5);
	cr_assert_str_eq(announce_url(a, 3), "http://nine/announce");
	cr_assert_eq(announce_tier(a, 3), 9);
	cr_assert_null(announce_url(a, 4));
	announce_free(a);
}

Test(announce, nothing_before_start)
{
	struct announce	*a = announce_new(1);

	announce_add(a, 0, "http://h/announce");
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	expect_nothing(a, 1000);
	announce_start(a, 500);
	cr_assert_eq(announce_deadline(a), 500);
	expect_nothing(a, 499);
	announce_free(a);
	announce_free(NULL);
}

Test(announce, first_is_started_to_tier0_first)
{
	static const size_t	 per[] = { 3, 2 };
	struct announce		*a = make(7, per, 2, 100);

	cr_assert_eq(announce_deadline(a), 100);
	expect(a, 100, 0, TRACKER_EVENT_STARTED);
	expect_nothing(a, 100);		/* one at a time */
	cr_assert_null(announce_current(a));
	announce_free(a);
}

Test(announce, error_walks_tier_then_next_tier)
{
	static const size_t	 per[] = { 2, 2, 1 };
	struct announce		*a = make(3, per, 3, 0);
	size_t			 i;

	for (i = 0; i < 5; i++) {
		expect(a, 10 * i, i, TRACKER_EVENT_STARTED);
		announce_on_error(a, 10 * i);
		if (i < 4)
			cr_assert_eq(announce_deadline(a), 10 * i,
			    "the next one at once");
	}
	cr_assert_eq(announce_deadline(a), 40 + 15 * SEC);
	cr_assert_null(announce_current(a));
	announce_free(a);
}

Test(announce, answer_moves_to_front_of_tier)
{
	static const size_t	 per[] = { 4 };
	struct announce		*a = make(9, per, 1, 0);
	char			 u[4][64];
	size_t			 i;

	for (i = 0; i < 4; i++)
		snprintf(u[i], sizeof(u[i]), "%s", announce_url(a, i));
	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	expect(a, 0, 1, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	expect(a, 0, 2, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 60, 0, 5);
	cr_assert_str_eq(announce_current(a), u[2]);
	cr_assert_str_eq(announce_url(a, 0), u[2]);
	cr_assert_str_eq(announce_url(a, 1), u[0]);
	cr_assert_str_eq(announce_url(a, 2), u[1]);
	cr_assert_str_eq(announce_url(a, 3), u[3]);
	cr_assert_eq(announce_deadline(a), 5 + 60 * SEC);
	expect_nothing(a, 4 + 60 * SEC);
	expect_url(a, 5 + 60 * SEC, u[2], TRACKER_EVENT_NONE);
	announce_free(a);
}

Test(announce, answer_in_later_tier_restarts_at_tier0)
{
	static const size_t	 per[] = { 1, 3 };
	struct announce		*a = make(11, per, 2, 0);
	char			 t0[64], t1[3][64];
	size_t			 i;

	snprintf(t0, sizeof(t0), "%s", announce_url(a, 0));
	for (i = 0; i < 3; i++)
		snprintf(t1[i], sizeof(t1[i]), "%s", announce_url(a, i + 1));
	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	expect(a, 0, 1, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	expect(a, 0, 2, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 100, 0, 0);
	cr_assert_str_eq(announce_current(a), t1[1]);
	cr_assert_str_eq(announce_url(a, 0), t0, "other tiers untouched");
	cr_assert_str_eq(announce_url(a, 1), t1[1]);
	cr_assert_str_eq(announce_url(a, 2), t1[0]);
	cr_assert_str_eq(announce_url(a, 3), t1[2]);
	/* the next announce tries tier 0 first, then the new front of 1 */
	expect_url(a, 100 * SEC, t0, TRACKER_EVENT_NONE);
	announce_on_error(a, 100 * SEC);
	expect_url(a, 100 * SEC, t1[1], TRACKER_EVENT_NONE);
	announce_on_reply(a, 100, 0, 100 * SEC);
	announce_free(a);
}

/* Fails every tracker of a (n of them) from now; returns the deadline. */
static uint64_t
fail_round(struct announce *a, size_t n, uint64_t now,
    enum tracker_event ev)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		expect(a, now, i, ev);
		announce_on_error(a, now);
	}
	return announce_deadline(a);
}

Test(announce, backoff_doubles_capped_reset_by_success)
{
	static const size_t	 per[] = { 1, 1 };
	static const uint64_t	 want[] = {
		15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800,
	};
	struct announce		*a = make(1, per, 2, 0);
	uint64_t		 now = 0, due;
	size_t			 i;

	for (i = 0; i < nitems(want); i++) {
		due = fail_round(a, 2, now, TRACKER_EVENT_STARTED);
		cr_assert_eq(due - now, want[i] * SEC, "round %zu: %llu", i,
		    (unsigned long long)(due - now));
		expect_nothing(a, due - 1);
		now = due;
	}
	expect(a, now, 0, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, now);
	now += 1800 * SEC;
	due = fail_round(a, 2, now, TRACKER_EVENT_NONE);
	cr_assert_eq(due - now, 15 * SEC, "a success resets the backoff");
	announce_free(a);
}

Test(announce, started_pending_across_failures)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(5, per, 1, 0);
	uint64_t		 now = 0;
	int			 r;

	for (r = 0; r < 3; r++)
		now = fail_round(a, 2, now, TRACKER_EVENT_STARTED);
	expect(a, now, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, now);
	expect(a, now, 1, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 60, 0, now);
	now += 60 * SEC;
	expect(a, now, 0, TRACKER_EVENT_NONE);
	announce_free(a);
}

/* Starts a and has its first tracker answer "started" at now. */
static void
answer_started(struct announce *a, uint64_t now, uint32_t interval,
    uint32_t min_interval)
{
	expect(a, now, 0, TRACKER_EVENT_STARTED);
	announce_on_reply(a, interval, min_interval, now);
}

Test(announce, completed_sent_once)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 1800, 0);
	announce_completed(a, 10 * SEC);
	cr_assert_eq(announce_deadline(a), 10 * SEC, "at once");
	expect(a, 10 * SEC, 0, TRACKER_EVENT_COMPLETED);
	announce_on_reply(a, 1800, 0, 10 * SEC);
	cr_assert_eq(announce_deadline(a), 1810 * SEC);
	announce_completed(a, 20 * SEC);
	cr_assert_eq(announce_deadline(a), 1810 * SEC, "not again");
	expect(a, 1810 * SEC, 0, TRACKER_EVENT_NONE);
	announce_free(a);
}

Test(announce, completed_waits_for_started)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	announce_completed(a, 0);
	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	cr_assert_eq(announce_deadline(a), 15 * SEC);
	expect(a, 15 * SEC, 0, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, 16 * SEC);
	cr_assert_eq(announce_deadline(a), 16 * SEC,
	    "completed right after started");
	expect(a, 16 * SEC, 0, TRACKER_EVENT_COMPLETED);
	announce_on_reply(a, 1800, 0, 17 * SEC);
	expect(a, 1817 * SEC, 0, TRACKER_EVENT_NONE);
	announce_free(a);
}

Test(announce, completed_kept_across_failures)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(1, per, 1, 0);
	uint64_t		 now;

	answer_started(a, 0, 1800, 0);
	announce_completed(a, SEC);
	now = fail_round(a, 2, SEC, TRACKER_EVENT_COMPLETED);
	cr_assert_eq(now, 16 * SEC);
	expect(a, now, 0, TRACKER_EVENT_COMPLETED);
	announce_on_reply(a, 1800, 0, now);
	expect(a, now + 1800 * SEC, 0, TRACKER_EVENT_NONE);
	announce_free(a);
}

Test(announce, completed_during_announce_goes_next)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 60, 0);
	expect(a, 60 * SEC, 0, TRACKER_EVENT_NONE);
	announce_completed(a, 61 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	announce_on_reply(a, 60, 0, 62 * SEC);
	expect(a, 62 * SEC, 0, TRACKER_EVENT_COMPLETED);
	announce_free(a);
}

Test(announce, interval_clamped)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 0, 0);
	cr_assert_eq(announce_deadline(a), TRACKER_MIN_INTERVAL * SEC);
	expect(a, TRACKER_MIN_INTERVAL * SEC, 0, TRACKER_EVENT_NONE);
	announce_on_reply(a, 1000000000, 0, 100 * SEC);
	cr_assert_eq(announce_deadline(a),
	    100 * SEC + TRACKER_MAX_INTERVAL * SEC);
	announce_free(a);
}

Test(announce, min_interval_over_interval)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 60, 120);
	cr_assert_eq(announce_deadline(a), 120 * SEC);
	announce_free(a);
}

Test(announce, need_peers_no_sooner_than_15s)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	expect(a, SEC, 0, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, 2 * SEC);
	announce_need_peers(a, 3 * SEC);
	cr_assert_eq(announce_deadline(a), SEC + ANNOUNCE_NEED_PEERS_MS,
	    "15 s after the last send");
	announce_need_peers(a, 4 * SEC);
	cr_assert_eq(announce_deadline(a), SEC + ANNOUNCE_NEED_PEERS_MS);
	expect(a, 16 * SEC, 0, TRACKER_EVENT_NONE);
	announce_on_reply(a, 20 * 60, 0, 16 * SEC);
	/* long after the last send: due at once */
	announce_need_peers(a, 100 * SEC);
	cr_assert_eq(announce_deadline(a), 31 * SEC);
	expect(a, 100 * SEC, 0, TRACKER_EVENT_NONE);
	announce_free(a);
}

Test(announce, need_peers_respects_min_interval)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 1800, 300);
	announce_need_peers(a, 20 * SEC);
	cr_assert_eq(announce_deadline(a), 300 * SEC);
	expect_nothing(a, 299 * SEC);
	expect(a, 300 * SEC, 0, TRACKER_EVENT_NONE);
	announce_free(a);
}

Test(announce, need_peers_never_later_nor_while_busy)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 30, 0);
	announce_need_peers(a, SEC);
	cr_assert_eq(announce_deadline(a), 15 * SEC);
	expect(a, 15 * SEC, 0, TRACKER_EVENT_NONE);
	announce_need_peers(a, 16 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX, "under way");
	announce_on_reply(a, 30, 0, 16 * SEC);
	cr_assert_eq(announce_deadline(a), 46 * SEC);
	announce_need_peers(a, 17 * SEC);
	cr_assert_eq(announce_deadline(a), 30 * SEC);
	announce_free(a);
}

Test(announce, need_peers_waits_out_backoff)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(1, per, 1, 0);

	answer_started(a, 0, 60, 0);
	fail_round(a, 1, 60 * SEC, TRACKER_EVENT_NONE);
	cr_assert_eq(announce_deadline(a), 75 * SEC);
	announce_need_peers(a, 61 * SEC);
	cr_assert_eq(announce_deadline(a), 75 * SEC);
	announce_free(a);
}

Test(announce, stop_after_answer_goes_to_current)
{
	static const size_t	 per[] = { 3 };
	struct announce		*a = make(2, per, 1, 0);
	const char		*cur;

	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	expect(a, 0, 1, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, 0);
	cur = announce_current(a);
	cr_assert(announce_stop(a, 50 * SEC));
	cr_assert_eq(announce_deadline(a), 50 * SEC);
	expect_url(a, 50 * SEC, cur, TRACKER_EVENT_STOPPED);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	announce_on_reply(a, 1800, 0, 51 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX, "done");
	expect_nothing(a, UINT64_MAX - 1);
	announce_free(a);
}

Test(announce, stop_without_answer_goes_to_last_asked)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(2, per, 1, 0);
	char			 first[64];

	snprintf(first, sizeof(first), "%s", announce_url(a, 0));
	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	cr_assert(announce_stop(a, SEC));
	expect_url(a, SEC, first, TRACKER_EVENT_STOPPED);
	announce_on_error(a, 2 * SEC);	/* one try only */
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	expect_nothing(a, 3 * SEC);
	announce_free(a);
}

Test(announce, stop_sends_pending_completed_first)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(2, per, 1, 0);
	const char		*cur;

	answer_started(a, 0, 1800, 0);
	cur = announce_current(a);
	announce_completed(a, SEC);
	cr_assert(announce_stop(a, SEC));
	expect_url(a, SEC, cur, TRACKER_EVENT_COMPLETED);
	announce_on_error(a, 2 * SEC);
	cr_assert_eq(announce_deadline(a), 2 * SEC);
	expect_url(a, 2 * SEC, cur, TRACKER_EVENT_STOPPED);
	announce_on_reply(a, 1800, 0, 3 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	announce_free(a);
}

Test(announce, stop_drops_completed_never_started)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(2, per, 1, 0);

	announce_completed(a, 0);
	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_on_error(a, 0);
	cr_assert(announce_stop(a, SEC));
	expect(a, SEC, 0, TRACKER_EVENT_STOPPED);
	announce_on_reply(a, 1800, 0, SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	announce_free(a);
}

Test(announce, stop_abandons_announce_under_way)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(2, per, 1, 0);

	answer_started(a, 0, 60, 0);
	expect(a, 60 * SEC, 0, TRACKER_EVENT_NONE);
	cr_assert(announce_stop(a, 61 * SEC));
	cr_assert_eq(announce_deadline(a), 61 * SEC);
	expect(a, 61 * SEC, 0, TRACKER_EVENT_STOPPED);
	announce_on_reply(a, 60, 0, 62 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	announce_free(a);
}

Test(announce, stop_before_any_announce)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(2, per, 1, 0);
	struct announce		*b = announce_new(3);

	cr_assert_not(announce_stop(a, 0));
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	expect_nothing(a, 1000);
	announce_free(a);
	announce_add(b, 0, "http://h/announce");
	cr_assert_not(announce_stop(b, 0), "never started");
	announce_start(b, 0);
	cr_assert_eq(announce_deadline(b), UINT64_MAX);
	announce_free(b);
}

Test(announce, nothing_after_stop)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(2, per, 1, 0);

	answer_started(a, 0, 60, 0);
	cr_assert(announce_stop(a, SEC));
	cr_assert(announce_stop(a, SEC), "a second call changes nothing");
	expect(a, SEC, 0, TRACKER_EVENT_STOPPED);
	announce_on_error(a, SEC);
	cr_assert_not(announce_stop(a, 2 * SEC));
	announce_completed(a, 3 * SEC);
	announce_need_peers(a, 4 * SEC);
	announce_on_reply(a, 60, 0, 5 * SEC);	/* nothing under way */
	announce_on_error(a, 5 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	expect_nothing(a, 10000 * SEC);
	announce_free(a);
}

Test(announce, duplicates_ignored)
{
	struct announce	*a = announce_new(1);

	announce_add(a, 0, "http://a/announce");
	announce_add(a, 0, "http://a/announce");
	announce_add(a, 3, "http://a/announce");
	announce_add(a, 1, "http://b/announce");
	announce_add(a, 1, "");
	announce_add(a, 1, NULL);
	cr_assert_eq(announce_count(a), 2);
	announce_start(a, 0);
	cr_assert_str_eq(announce_url(a, 0), "http://a/announce");
	cr_assert_eq(announce_tier(a, 0), 0, "the first add wins");
	cr_assert_eq(announce_tier(a, 1), 1);
	announce_free(a);
}

Test(announce, url_cap)
{
	struct announce	*a = announce_new(1);
	char		 url[64];
	size_t		 i;

	for (i = 0; i < ANNOUNCE_MAX_URLS + 50; i++) {
		snprintf(url, sizeof(url), "http://h%zu/announce", i);
		announce_add(a, (unsigned)(i % 7), url);
	}
	cr_assert_eq(announce_count(a), ANNOUNCE_MAX_URLS);
	announce_start(a, 0);
	for (i = 1; i < ANNOUNCE_MAX_URLS; i++)
		cr_assert_leq(announce_tier(a, i - 1), announce_tier(a, i));
	announce_free(a);
}

Test(announce, zero_urls)
{
	struct announce	*a = announce_new(1);

	cr_assert_eq(announce_count(a), 0);
	announce_start(a, 0);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	expect_nothing(a, 0);
	announce_need_peers(a, 0);
	announce_completed(a, 0);
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	cr_assert_null(announce_current(a));
	cr_assert_null(announce_url(a, 0));
	cr_assert_not(announce_stop(a, 0));
	announce_free(a);
}

Test(announce, outcomes_without_announce_ignored)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(1, per, 1, 0);

	announce_on_error(a, 0);
	announce_on_reply(a, 60, 0, 0);
	cr_assert_null(announce_current(a));
	cr_assert_eq(announce_deadline(a), 0);
	expect(a, 0, 0, TRACKER_EVENT_STARTED);
	announce_free(a);
}

/* A pause: "stopped" once, nothing more; the resume: "started" again. */
Test(announce, restart_after_stop)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = make(2, per, 1, 0);
	const char		*cur;

	answer_started(a, 0, 1800, 0);
	cur = announce_current(a);
	cr_assert(announce_stop(a, 10 * SEC));
	expect_url(a, 10 * SEC, cur, TRACKER_EVENT_STOPPED);
	announce_on_reply(a, 1800, 0, 11 * SEC);
	announce_need_peers(a, 12 * SEC);
	cr_assert_eq(announce_deadline(a), UINT64_MAX, "paused");
	expect_nothing(a, 5000 * SEC);
	announce_restart(a, 6000 * SEC);
	cr_assert_eq(announce_deadline(a), 6000 * SEC);
	expect_url(a, 6000 * SEC, cur, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, 6000 * SEC);
	cr_assert_eq(announce_deadline(a), 7800 * SEC);
	/* and it can pause again */
	cr_assert(announce_stop(a, 6100 * SEC));
	expect_url(a, 6100 * SEC, cur, TRACKER_EVENT_STOPPED);
	announce_free(a);
}

Test(announce, restart_keeps_completed_once)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(2, per, 1, 0);

	answer_started(a, 0, 1800, 0);
	announce_completed(a, SEC);
	expect(a, SEC, 0, TRACKER_EVENT_COMPLETED);
	announce_on_reply(a, 1800, 0, SEC);
	cr_assert(announce_stop(a, 2 * SEC));
	expect(a, 2 * SEC, 0, TRACKER_EVENT_STOPPED);
	announce_on_reply(a, 1800, 0, 2 * SEC);
	announce_restart(a, 3 * SEC);
	announce_completed(a, 3 * SEC);
	expect(a, 3 * SEC, 0, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, 3 * SEC);
	cr_assert_eq(announce_deadline(a), 1803 * SEC, "no second completed");
	announce_free(a);
}

Test(announce, restart_sends_completed_of_the_pause)
{
	static const size_t	 per[] = { 1 };
	struct announce		*a = make(2, per, 1, 0);

	answer_started(a, 0, 1800, 0);
	cr_assert(announce_stop(a, SEC));
	expect(a, SEC, 0, TRACKER_EVENT_STOPPED);
	announce_on_reply(a, 1800, 0, SEC);
	announce_completed(a, 2 * SEC);		/* completed while paused */
	cr_assert_eq(announce_deadline(a), UINT64_MAX);
	announce_restart(a, 3 * SEC);
	announce_completed(a, 3 * SEC);
	expect(a, 3 * SEC, 0, TRACKER_EVENT_STARTED);
	announce_on_reply(a, 1800, 0, 3 * SEC);
	expect(a, 3 * SEC, 0, TRACKER_EVENT_COMPLETED);
	announce_free(a);
}

Test(announce, restart_before_start_and_while_busy)
{
	static const size_t	 per[] = { 2 };
	struct announce		*a = announce_new(4);
	struct announce		*b = make(2, per, 1, 0);

	announce_add(a, 0, "http://h/announce");
	announce_restart(a, 5 * SEC);		/* = announce_start */
	expect_url(a, 5 * SEC, "http://h/announce", TRACKER_EVENT_STARTED);
	announce_restart(a, 6 * SEC);		/* abandons the one under way */
	expect_url(a, 6 * SEC, "http://h/announce", TRACKER_EVENT_STARTED);
	announce_free(a);
	/* never sent: the stop is nothing, the restart starts over */
	cr_assert_not(announce_stop(b, 0));
	announce_restart(b, SEC);
	expect(b, SEC, 0, TRACKER_EVENT_STARTED);
	announce_free(b);
}
