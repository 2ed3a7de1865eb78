/* test-spread.c - a seed's suggestions of the pieces no peer has yet */
#include <criterion/criterion.h>

#include "bitfield.h"
#include "picker.h"
#include "spread.h"

#define T0	1000000u		/* a clock reading */
#define NP	64			/* pieces */

/* A seed's picker: every piece ours, availability from the peers. */
static struct picker *
seed_picker(void)
{
	struct picker_opts	 o = { .rarest_first = true, .seed = 7 };
	struct picker		*pk;
	uint32_t		 i;

	pk = picker_new(NP, 1 << 18, 1 << 18, &o);
	for (i = 0; i < NP; i++)
		picker_have(pk, i);
	return pk;
}

/* Suggests to the peer until it is full; returns how many it got. */
static size_t
fill(struct spread *s, struct spread_peer *sp, const struct bitfield *has,
    const struct picker *pk, size_t ahead, uint64_t now, struct bitfield *all)
{
	uint32_t	piece;
	size_t		n = 0;

	while ((piece = spread_next(s, sp, has, pk, ahead, now)) !=
	    UINT32_MAX) {
		cr_assert_lt(piece, NP);
		cr_assert(!bitfield_get(has, piece), "suggested a piece it has");
		cr_assert_eq(picker_availability(pk, piece), 0);
		if (all != NULL)
			cr_assert(bitfield_set(all, piece),
			    "piece %u suggested twice", piece);
		spread_opened(s, sp, piece, now);
		n++;
		cr_assert_leq(n, SPREAD_AHEAD_MAX);
	}
	return n;
}

Test(spread, peers_get_different_pieces_none_anyone_has)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 1);
	struct spread_peer	 sp[4] = { { .id = 1 }, { .id = 2 }, { .id = 3 },
				     { .id = 4 } };
	struct bitfield		 has[4], all, other;
	size_t			 i;
	uint32_t		 k;

	bitfield_init(&all, NP);
	bitfield_init(&other, NP);
	for (k = 0; k < NP; k += 2)		/* a peer has the even ones */
		bitfield_set(&other, k);
	picker_peer_add(pk, &other);
	for (i = 0; i < 4; i++) {
		bitfield_init(&has[i], NP);
		cr_assert_eq(fill(s, &sp[i], &has[i], pk, 3, T0, &all), 3);
	}
	for (k = 0; k < NP; k++)
		if (bitfield_get(&all, k))
			cr_assert(k % 2 == 1, "piece %u: another peer has it", k);
	/* 32 odd pieces, 12 claimed: 20 more, then none. */
	for (i = 0; i < 4; i++)
		cr_assert_eq(fill(s, &sp[i], &has[i], pk, 8, T0, &all), 5);
	cr_assert_eq(all.count, 32);
	spread_free(s);
	picker_free(pk);
}

Test(spread, ahead_is_clamped_and_a_request_makes_room)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 2);
	struct spread_peer	 sp = { 0 };
	struct bitfield		 has;

	bitfield_init(&has, NP);
	cr_assert_eq(fill(s, &sp, &has, pk, 0, T0, NULL), SPREAD_AHEAD_MIN);
	cr_assert_eq(sp.n, SPREAD_AHEAD_MIN);
	/* It asks for the first: the second stays open, one more comes. */
	spread_requested(s, &sp, sp.piece[0], T0 + 10);
	cr_assert_eq(sp.n, SPREAD_AHEAD_MIN - 1);
	cr_assert_eq(fill(s, &sp, &has, pk, 0, T0 + 10, NULL), 1);
	/* It got one (a HAVE): room again. */
	bitfield_set(&has, sp.piece[0]);
	cr_assert_eq(fill(s, &sp, &has, pk, 0, T0 + 20, NULL), 1);
	cr_assert_eq(fill(s, &sp, &has, pk, 1000, T0 + 20, NULL),
	    SPREAD_AHEAD_MAX - SPREAD_AHEAD_MIN);
	spread_free(s);
	picker_free(pk);
}

Test(spread, a_claim_holds_for_claim_ms)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 3);
	struct spread_peer	 a = { .id = 1 }, b = { .id = 2 };
	struct bitfield		 has, other;
	uint32_t		 k, got;

	bitfield_init(&has, NP);
	bitfield_init(&other, NP);
	for (k = 1; k < NP; k++)		/* only piece 0 is new */
		bitfield_set(&other, k);
	picker_peer_add(pk, &other);
	spread_requested(s, &a, 0, T0);		/* a asked for it */
	cr_assert_eq(spread_next(s, &b, &has, pk, 2, T0), UINT32_MAX);
	/* claimed still, and dry: not looked at for SPREAD_DRY_MS */
	cr_assert_eq(spread_next(s, &b, &has, pk, 2,
	    T0 + SPREAD_DRY_MS), UINT32_MAX);
	cr_assert_eq(spread_next(s, &b, &has, pk, 2,
	    T0 + SPREAD_CLAIM_MS - 1), UINT32_MAX);
	got = spread_next(s, &b, &has, pk, 2,
	    T0 + SPREAD_CLAIM_MS + SPREAD_DRY_MS);
	cr_assert_eq(got, 0);
	/* skipped (it could not be told): claimed all the same */
	spread_skip(s, 0, T0 + 2 * SPREAD_CLAIM_MS);
	cr_assert_eq(spread_next(s, &b, &has, pk, 2,
	    T0 + 2 * SPREAD_CLAIM_MS + SPREAD_DRY_MS), UINT32_MAX);
	spread_free(s);
	picker_free(pk);
}

Test(spread, an_unanswered_suggestion_expires)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 4);
	struct spread_peer	 a = { .id = 1 }, b = { .id = 2 };
	struct bitfield		 has, other;
	uint32_t		 k, first;

	bitfield_init(&has, NP);
	bitfield_init(&other, NP);
	for (k = 1; k < NP; k++)
		bitfield_set(&other, k);
	picker_peer_add(pk, &other);
	first = spread_next(s, &a, &has, pk, 2, T0);
	cr_assert_eq(first, 0);
	spread_opened(s, &a, first, T0);
	cr_assert_eq(spread_next(s, &b, &has, pk, 2, T0 + 1), UINT32_MAX);
	cr_assert_eq(a.n, 1);
	/* a never asked: after SPREAD_CLAIM_MS it is b's to take */
	cr_assert_eq(spread_next(s, &b, &has, pk, 2, T0 + SPREAD_CLAIM_MS),
	    0);
	spread_opened(s, &b, 0, T0 + SPREAD_CLAIM_MS);
	cr_assert_eq(spread_next(s, &a, &has, pk, 2, T0 + SPREAD_CLAIM_MS),
	    UINT32_MAX);
	cr_assert_eq(a.n, 0, "the stale suggestion stays open");
	spread_free(s);
	picker_free(pk);
}

Test(spread, a_peer_with_every_new_piece_does_not_dry_the_others)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 5);
	struct spread_peer	 a = { .id = 1 }, b = { .id = 2 };
	struct bitfield		 full, none;

	bitfield_init(&full, NP);
	bitfield_init(&none, NP);
	bitfield_set_all(&full);
	/* a has every piece (not counted in availability here) */
	cr_assert_eq(spread_next(s, &a, &full, pk, 2, T0), UINT32_MAX);
	cr_assert_neq(spread_next(s, &b, &none, pk, 2, T0), UINT32_MAX);
	spread_free(s);
	picker_free(pk);
}

Test(spread, every_piece_once_in_order_from_a_random_start)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 6);
	struct spread_peer	 sp = { 0 };
	struct bitfield		 has, all;
	uint32_t		 piece, prev = UINT32_MAX, wraps = 0;
	size_t			 n = 0;

	bitfield_init(&has, NP);
	bitfield_init(&all, NP);
	while ((piece = spread_next(s, &sp, &has, pk, 2, T0)) !=
	    UINT32_MAX) {
		cr_assert(bitfield_set(&all, piece));
		spread_requested(s, &sp, piece, T0);	/* taken at once */
		if (prev != UINT32_MAX && piece != prev + 1) {
			cr_assert_eq(piece, 0);
			cr_assert_eq(prev, NP - 1);
			wraps++;
		}
		prev = piece;
		cr_assert_leq(++n, NP);
	}
	cr_assert_eq(n, NP);
	cr_assert_leq(wraps, 1);
	spread_free(s);
	spread_free(NULL);
	picker_free(pk);
}

Test(spread, a_piece_another_peer_fetches_is_refused_once)
{
	struct picker		*pk = seed_picker();
	struct spread		*s = spread_new(NP, 7);
	struct spread_peer	 a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct bitfield		 other;

	bitfield_init(&other, NP);
	bitfield_set(&other, 9);		/* someone has piece 9 */
	picker_peer_add(pk, &other);
	spread_requested(s, &a, 5, T0);
	spread_requested(s, &a, 9, T0);
	cr_assert(!spread_refuse(s, &b, pk, 5, false, T0),
	    "b has nothing else");
	cr_assert(spread_refuse(s, &c, pk, 5, true, T0),
	    "c is choked: its allowed-fast request waits for a");
	spread_opened(s, &b, 20, T0);		/* now it has */
	cr_assert(!spread_refuse(s, &a, pk, 5, false, T0), "its own claim");
	cr_assert(!spread_refuse(s, &b, pk, 6, false, T0), "nobody's claim");
	cr_assert(!spread_refuse(s, &b, pk, 9, false, T0), "9 is in the swarm");
	cr_assert(spread_refuse(s, &b, pk, 5, false, T0), "a is fetching 5");
	cr_assert(!spread_refuse(s, &b, pk, 5, false, T0 + 1), "refused once only");
	/* b's request does not take a's claim over */
	spread_requested(s, &b, 5, T0 + 2);
	cr_assert(!spread_refuse(s, &a, pk, 5, false, T0 + 3));
	/* a's claim lapses: nothing to refuse for */
	cr_assert(!spread_refuse(s, &b, pk, 5, false, T0 + SPREAD_CLAIM_MS));
	/* a piece claimed by nobody in particular (skipped) is not refused */
	spread_skip(s, 7, T0);
	cr_assert(!spread_refuse(s, &b, pk, 7, false, T0 + 1));
	spread_free(s);
	picker_free(pk);
}
