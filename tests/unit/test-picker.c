/* test-picker.c - block states, rarest-first, random tie-break, end-game */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bitfield.h"
#include "crypto.h"
#include "picker.h"
#include "util.h"

#define BLK	16384u
#define KIB	1024u

/* Time limits stretch under the sanitizers. */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW	4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW	4
#endif
#endif
#ifndef SLOW
#define SLOW	1
#endif

static const struct picker_opts rarest = {
	.rarest_first = true, .end_game = true, .random_first = 0, .seed = 1,
};

static struct picker *
mk(uint32_t npieces, uint32_t plen, uint32_t last,
    const struct picker_opts *o)
{
	struct picker	*p = picker_new(npieces, plen, last, o);

	cr_assert_not_null(p);
	return p;
}

/* A bitfield of n bits with the pieces of list[] (ends at UINT32_MAX). */
static void
bf_list(struct bitfield *b, uint32_t n, const uint32_t *list)
{
	bitfield_init(b, n);
	for (; list != NULL && *list != UINT32_MAX; list++)
		bitfield_set(b, *list);
}

static void
bf_all(struct bitfield *b, uint32_t n)
{
	bitfield_init(b, n);
	bitfield_set_all(b);
}

static uint32_t
nblocks_of(uint32_t size)
{
	return size / BLK + (size % BLK != 0);
}

/*
 * Downloads everything from one peer with a pipeline of depth requests,
 * answered in order; checks each block is requested and received once and
 * that the lengths add up.
 */
struct dl_case {
	uint32_t	npieces, plen, last;
	bool		rarest_first, end_game;
	uint32_t	random_first;
	size_t		depth, max;
};

static const struct dl_case dl_cases[] = {
	{ 1, 16 * KIB, 16 * KIB, true, true, 0, 4, 4 },
	{ 1, 16 * KIB, 1, true, true, 4, 4, 1 },
	{ 4, 32 * KIB, 1696, true, true, 4, 8, 3 },
	{ 37, 64 * KIB, 5000, true, true, 4, 10, 5 },
	{ 37, 64 * KIB, 5000, false, true, 0, 10, 5 },
	{ 37, 64 * KIB, 64 * KIB, true, false, 2, 16, 16 },
	{ 300, 16 * KIB, 100, true, true, 4, 50, 7 },
	{ 300, 16 * KIB, 100, false, false, 0, 50, 50 },
	{ 9, 256 * KIB + 3, 17, true, true, 1, 30, 30 },
	{ 5, 1000, 999, true, true, 0, 3, 2 },
};

static void
run_single_peer(const struct dl_case *c, uint64_t seed)
{
	struct picker_opts	 o = {
		.rarest_first = c->rarest_first, .end_game = c->end_game,
		.random_first = c->random_first, .seed = seed,
	};
	struct picker		*p = mk(c->npieces, c->plen, c->last, &o);
	struct bitfield		 all;
	struct block_req	 pipe[64], got[64];
	uint8_t			*seen;
	uint32_t		 bpp = nblocks_of(c->plen), i, k;
	uint64_t		 total = 0, want;
	size_t			 npipe = 0, n, j;
	bool			 done;

	bf_all(&all, c->npieces);
	picker_peer_add(p, &all);
	cr_assert(picker_interesting(p, &all));
	seen = xcalloc((size_t)c->npieces * bpp, 1);
	while (!picker_complete(p)) {
		if (npipe < c->depth) {
			n = picker_next(p, &all, pipe, npipe, got,
			    MIN(c->max, c->depth - npipe));
			for (j = 0; j < n; j++) {
				k = got[j].piece * bpp +
				    got[j].offset / BLK;
				cr_assert_lt(got[j].piece, c->npieces);
				cr_assert_eq(got[j].offset % BLK, 0);
				cr_assert_eq(seen[k], 0, "block %u:%u twice",
				    got[j].piece, got[j].offset);
				seen[k] = 1;
				cr_assert_eq(picker_requesters(p, &got[j]), 1);
				pipe[npipe++] = got[j];
			}
		}
		cr_assert_gt(npipe, 0, "stalled with %u pieces",
		    picker_npieces_have(p));
		/* The oldest request is answered. */
		cr_assert(picker_received(p, &pipe[0], &done));
		cr_assert_not(picker_received(p, &pipe[0], NULL));
		total += pipe[0].length;
		seen[pipe[0].piece * bpp + pipe[0].offset / BLK] = 2;
		if (done)
			picker_piece_passed(p, pipe[0].piece);
		memmove(pipe, pipe + 1, --npipe * sizeof(pipe[0]));
	}
	want = (uint64_t)(c->npieces - 1) * c->plen + c->last;
	cr_assert_eq(total, want, "%llu bytes, want %llu",
	    (unsigned long long)total, (unsigned long long)want);
	for (i = 0; i < c->npieces; i++)
		for (k = 0; k < nblocks_of(i == c->npieces - 1 ? c->last :
		    c->plen); k++)
			cr_assert_eq(seen[i * bpp + k], 2);
	cr_assert_eq(npipe, 0);
	cr_assert_eq(picker_npieces_have(p), c->npieces);
	cr_assert_not(picker_interesting(p, &all));
	cr_assert_eq(picker_next(p, &all, NULL, 0, got, 4), 0);
	free(seen);
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, single_peer_downloads_everything_once)
{
	size_t		i;
	uint64_t	seed;

	for (i = 0; i < nitems(dl_cases); i++)
		for (seed = 1; seed <= 5; seed++)
			run_single_peer(&dl_cases[i], seed * 7919 + i);
}

/* Piece and block sizes. */
struct geo_case {
	uint32_t	npieces, plen, last;
	uint32_t	piece;		/* checked piece */
	uint32_t	nblocks, last_block;
};

static const struct geo_case geo_cases[] = {
	/* 100000 bytes in 32 KiB pieces: the last is 1696 bytes, 1 block */
	{ 4, 32768, 1696, 3, 1, 1696 },
	{ 4, 32768, 1696, 0, 2, 16384 },
	{ 1, 1000, 1000, 0, 1, 1000 },
	{ 3, 40000, 40000, 1, 3, 40000 - 2 * 16384 },
	{ 3, 40000, 16384, 2, 1, 16384 },
	{ 2, 16385, 1, 0, 2, 1 },
	{ 2, 16385, 1, 1, 1, 1 },
	{ 1, 4u << 20, 4u << 20, 0, 256, 16384 },
};

Test(picker, block_sizes)
{
	struct block_req	 out[300];
	struct bitfield		 one;
	struct picker		*p;
	uint32_t		 list[2];
	size_t			 i, n, j;

	for (i = 0; i < nitems(geo_cases); i++) {
		const struct geo_case	*g = &geo_cases[i];

		p = mk(g->npieces, g->plen, g->last, &rarest);
		list[0] = g->piece;
		list[1] = UINT32_MAX;
		bf_list(&one, g->npieces, list);
		picker_peer_add(p, &one);
		n = picker_next(p, &one, NULL, 0, out, nitems(out));
		cr_assert_eq(n, g->nblocks, "case %zu: %zu blocks", i, n);
		for (j = 0; j < n; j++) {
			cr_assert_eq(out[j].piece, g->piece);
			cr_assert_eq(out[j].offset, j * BLK);
			cr_assert_eq(out[j].length, j + 1 == n ?
			    g->last_block : BLK, "case %zu block %zu", i, j);
		}
		bitfield_clear(&one);
		picker_free(p);
	}
}

Test(picker, bad_arguments)
{
	cr_assert_null(picker_new(4, 0, 1, &rarest));
	cr_assert_null(picker_new(4, 100, 0, &rarest));
	cr_assert_null(picker_new(4, 100, 101, &rarest));
	picker_free(NULL);
}

Test(picker, zero_pieces)
{
	struct picker		*p = mk(0, 16384, 1, &rarest);
	struct bitfield		 b;
	struct block_req	 out[2];

	bitfield_init(&b, 0);
	picker_peer_add(p, &b);
	cr_assert(picker_complete(p));
	cr_assert_not(picker_interesting(p, &b));
	cr_assert_eq(picker_next(p, &b, NULL, 0, out, 2), 0);
	cr_assert_not(picker_in_end_game(p));
	bitfield_clear(&b);
	picker_free(p);
}

/* Rarest first: a piece only one of three peers has comes first. */
struct rare_case {
	uint32_t	npieces, rare;
	uint64_t	seed;
};

static const struct rare_case rare_cases[] = {
	{ 10, 0, 1 }, { 10, 9, 2 }, { 50, 17, 3 }, { 50, 33, 4 },
	{ 1000, 999, 5 }, { 1000, 500, 6 },
};

Test(picker, rarest_first)
{
	struct bitfield		 a, b, c;
	struct block_req	 out[4];
	struct picker		*p;
	struct picker_opts	 o = rarest;
	size_t			 i, n;

	for (i = 0; i < nitems(rare_cases); i++) {
		const struct rare_case	*rc = &rare_cases[i];

		o.seed = rc->seed;
		p = mk(rc->npieces, BLK, BLK, &o);
		bf_all(&a, rc->npieces);
		bf_all(&b, rc->npieces);
		bf_all(&c, rc->npieces);
		bitfield_unset(&b, rc->rare);
		bitfield_unset(&c, rc->rare);
		picker_peer_add(p, &b);
		picker_peer_add(p, &a);
		picker_peer_add(p, &c);
		cr_assert_eq(picker_availability(p, rc->rare), 1);
		cr_assert_eq(picker_availability(p, (rc->rare + 1) %
		    rc->npieces), 3);
		n = picker_next(p, &a, NULL, 0, out, 1);
		cr_assert_eq(n, 1);
		cr_assert_eq(out[0].piece, rc->rare, "case %zu: got %u", i,
		    out[0].piece);
		/* Others pick among the common ones. */
		n = picker_next(p, &b, NULL, 0, out, 4);
		cr_assert_eq(n, 4);
		for (; n > 0; n--)
			cr_assert_neq(out[n - 1].piece, rc->rare);
		bitfield_clear(&a);
		bitfield_clear(&b);
		bitfield_clear(&c);
		picker_free(p);
	}
}

/* Rarest first also across availability levels reached by haves. */
Test(picker, rarest_by_haves)
{
	struct picker		*p = mk(6, BLK, BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 out[6];
	/* availabilities 3 1 4 2 6 5 -> order 1 3 0 2 5 4 */
	static const uint32_t	 av[6] = { 3, 1, 4, 2, 6, 5 };
	static const uint32_t	 want[6] = { 1, 3, 0, 2, 5, 4 };
	uint32_t		 i, k;

	bf_all(&all, 6);
	for (i = 0; i < 6; i++)
		for (k = 0; k < av[i]; k++)
			picker_peer_have(p, i);
	for (i = 0; i < 6; i++)
		cr_assert_eq(picker_availability(p, i), av[i]);
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, 6), 6);
	for (i = 0; i < 6; i++)
		cr_assert_eq(out[i].piece, want[i], "pick %u: %u", i,
		    out[i].piece);
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, rarest_level_of_pieces_we_lack)
{
	struct picker		*p = mk(4, BLK, BLK, &rarest);
	static const uint32_t	 av[4] = { 0, 3, 2, 5 };
	uint32_t		 i, k;

	cr_assert_eq(picker_rarest(p), 0, "nobody has anything");
	for (i = 0; i < 4; i++)
		for (k = 0; k < av[i]; k++)
			picker_peer_have(p, i);
	cr_assert_eq(picker_rarest(p), 2, "0 is nobody's, 2 the rarest");
	picker_have(p, 2);		/* ours now: not a candidate */
	cr_assert_eq(picker_rarest(p), 3);
	picker_have(p, 1);
	picker_have(p, 3);
	cr_assert_eq(picker_rarest(p), 0, "only piece 0 left, nobody's");
	picker_free(p);
}

/* The first n pieces picked from a seed of npieces equal pieces. */
static void
first_picks(uint64_t seed, uint32_t random_first, uint32_t *got, size_t n)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 out[64];
	size_t			 i;

	o.seed = seed;
	o.random_first = random_first;
	p = mk(200, BLK, BLK, &o);
	bf_all(&all, 200);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, n), n);
	for (i = 0; i < n; i++)
		got[i] = out[i].piece;
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, random_tie_break_by_seed)
{
	uint32_t	a[20], b[20];
	uint64_t	seed;
	unsigned	differ = 0, firsts = 0;
	bool		seen[200] = { false };
	uint32_t	rf;

	for (rf = 0; rf <= 30; rf += 30) {
		for (seed = 1; seed <= 40; seed++) {
			first_picks(seed, rf, a, 20);
			first_picks(seed, rf, b, 20);
			cr_assert_arr_eq(a, b, sizeof(a), "seed %llu",
			    (unsigned long long)seed);
			first_picks(seed + 1000, rf, b, 20);
			if (memcmp(a, b, sizeof(a)) != 0)
				differ++;
			if (!seen[a[0]])
				firsts++;
			seen[a[0]] = true;
		}
	}
	cr_assert_geq(differ, 78, "only %u seeds differ", differ);
	cr_assert_geq(firsts, 20, "only %u distinct first pieces", firsts);
	/* Not index order, either. */
	first_picks(3, 0, a, 20);
	for (rf = 1; rf < 20 && a[rf] == a[rf - 1] + 1; rf++)
		;
	cr_assert_lt(rf, 20);
}

/*
 * random_first: the first pieces are chosen among all the peer's pieces,
 * not only the rarest; afterwards rarest-first.
 */
Test(picker, random_first_then_rarest)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all, half;
	struct block_req	 out[8];
	uint64_t		 seed;
	uint32_t		 i, common = 0;
	bool			 d;

	for (seed = 1; seed <= 30; seed++) {
		o.seed = seed;
		o.random_first = 2;
		p = mk(100, BLK, BLK, &o);
		bf_all(&all, 100);
		bitfield_init(&half, 100);
		for (i = 0; i < 100; i += 2)
			bitfield_set(&half, i);
		picker_peer_add(p, &all);
		picker_peer_add(p, &half);	/* odd pieces rarer */
		/* Two random pieces, then rarest: odd ones. */
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 2), 2);
		for (i = 0; i < 2; i++)
			if (out[i].piece % 2 == 0)
				common++;
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 8), 8);
		for (i = 0; i < 8; i++)
			cr_assert_eq(out[i].piece % 2, 1);
		bitfield_clear(&all);
		bitfield_clear(&half);
		picker_free(p);
	}
	/* About half of the 60 random picks are even pieces. */
	cr_assert_gt(common, 15);
	cr_assert_lt(common, 45);

	/* After random_first pieces are verified, rarest-first again. */
	o.seed = 9;
	o.random_first = 3;
	p = mk(40, BLK, BLK, &o);
	bf_all(&all, 40);
	bitfield_init(&half, 40);
	for (i = 0; i < 40; i += 2)
		bitfield_set(&half, i);
	picker_peer_add(p, &all);
	picker_peer_add(p, &half);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 1), 1);
		cr_assert(picker_received(p, &out[0], &d));
		cr_assert(d);
		picker_piece_passed(p, out[0].piece);
	}
	for (i = 0; i < 10; i++) {
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 1), 1);
		cr_assert_eq(out[0].piece % 2, 1);
	}
	bitfield_clear(&all);
	bitfield_clear(&half);
	picker_free(p);
}

/* rarest_first = false: index order from a random start, wrapping. */
Test(picker, in_order_from_random_start)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 out[50];
	uint32_t		 starts = 0, first = UINT32_MAX;
	uint64_t		 seed;
	size_t			 i;

	o.rarest_first = false;
	for (seed = 1; seed <= 10; seed++) {
		o.seed = seed;
		p = mk(50, BLK, BLK, &o);
		bf_all(&all, 50);
		picker_peer_add(p, &all);
		picker_peer_have(p, 3);		/* availability ignored */
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 50), 50);
		for (i = 1; i < 50; i++)
			cr_assert_eq(out[i].piece, (out[i - 1].piece + 1) % 50);
		if (out[0].piece != first)
			starts++;
		first = out[0].piece;
		bitfield_clear(&all);
		picker_free(p);
	}
	cr_assert_gt(starts, 3);
}

/* Partial pieces first: abandoned blocks come back before new pieces. */
Test(picker, partial_pieces_first)
{
	struct picker		*p = mk(10, 4 * BLK, 4 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 a[4], b[4], c[4];
	uint32_t		 piece;
	bool			 d;

	bf_all(&all, 10);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 2), 2);
	piece = a[0].piece;
	cr_assert_eq(a[1].piece, piece);
	cr_assert_eq(a[0].offset, 0);
	cr_assert_eq(a[1].offset, BLK);
	/* The rest of the same piece next. */
	cr_assert_eq(picker_next(p, &all, NULL, 0, b, 2), 2);
	cr_assert_eq(b[0].piece, piece);
	cr_assert_eq(b[0].offset, 2 * BLK);
	cr_assert_eq(b[1].offset, 3 * BLK);
	/* Abandon two; the next call returns them before a new piece. */
	picker_abandon(p, &a[1]);
	picker_abandon(p, &b[1]);
	cr_assert_eq(picker_requesters(p, &a[1]), 0);
	cr_assert_eq(picker_next(p, &all, NULL, 0, c, 3), 3);
	cr_assert_eq(c[0].piece, piece);
	cr_assert_eq(c[0].offset, BLK);
	cr_assert_eq(c[1].piece, piece);
	cr_assert_eq(c[1].offset, 3 * BLK);
	cr_assert_neq(c[2].piece, piece);
	cr_assert_eq(c[2].offset, 0);

	/*
	 * A block of the started piece comes back before anything else,
	 * also after the new piece was abandoned entirely.
	 */
	cr_assert(picker_received(p, &a[0], &d));
	cr_assert_not(d);
	picker_abandon(p, &c[0]);
	picker_abandon(p, &c[2]);	/* its piece has nothing left */
	cr_assert_eq(picker_next(p, &all, NULL, 0, c, 1), 1);
	cr_assert_eq(c[0].piece, piece);
	cr_assert_eq(c[0].offset, BLK);
	bitfield_clear(&all);
	picker_free(p);
}

/*
 * Rarest first before pieces in progress: a seed is asked for a piece only
 * it has before the rest of a piece a leecher also has (a choke left it
 * half done); with nothing rarer, the piece in progress comes first.
 */
Test(picker, rarer_new_piece_before_common_partial)
{
	struct picker		*p = mk(4, 4 * BLK, 4 * BLK, &rarest);
	struct bitfield		 seed, leech;
	struct block_req	 a[2], b[4];
	const uint32_t		 l01[] = { 0, 1, UINT32_MAX };
	uint32_t		 piece;
	bool			 d;

	bf_all(&seed, 4);
	bf_list(&leech, 4, l01);
	picker_peer_add(p, &seed);
	picker_peer_add(p, &leech);
	/* From the leecher: two blocks of piece 0 or 1 (availability 2). */
	cr_assert_eq(picker_next(p, &leech, NULL, 0, a, 2), 2);
	piece = a[0].piece;
	cr_assert(piece == 0 || piece == 1);
	/* One block came, then it choked us: the piece stays started. */
	cr_assert(picker_received(p, &a[0], &d));
	picker_abandon(p, &a[1]);
	/* The seed is asked for pieces 2 and 3 (only it has them) first. */
	cr_assert_eq(picker_next(p, &seed, NULL, 0, b, 4), 4);
	cr_assert(b[0].piece >= 2, "got piece %u", b[0].piece);
	cr_assert(b[3].piece >= 2);
	/* Room left: the piece in progress, before the other common one. */
	cr_assert_eq(picker_next(p, &seed, NULL, 0, b, 4), 4);
	cr_assert(b[0].piece >= 2);
	cr_assert_eq(picker_next(p, &seed, NULL, 0, b, 1), 1);
	cr_assert_eq(b[0].piece, piece);
	cr_assert_eq(b[0].offset, BLK);
	bitfield_clear(&seed);
	bitfield_clear(&leech);
	picker_free(p);
}

Test(picker, most_complete_partial_first)
{
	struct picker		*p = mk(10, 8 * BLK, 8 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 x[8], y[8], z[2];
	size_t			 i;

	bf_all(&all, 10);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, x, 8), 8);
	cr_assert_eq(picker_next(p, &all, NULL, 0, y, 8), 8);
	cr_assert_neq(x[0].piece, y[0].piece);
	/* x: 5 received, 3 abandoned; y: 1 received, 7 abandoned. */
	for (i = 0; i < 8; i++) {
		if (i < 5)
			cr_assert(picker_received(p, &x[i], NULL));
		else
			picker_abandon(p, &x[i]);
		if (i < 1)
			cr_assert(picker_received(p, &y[i], NULL));
		else
			picker_abandon(p, &y[i]);
	}
	cr_assert_eq(picker_next(p, &all, NULL, 0, z, 2), 2);
	cr_assert_eq(z[0].piece, x[0].piece);
	cr_assert_eq(z[1].piece, x[0].piece);
	cr_assert_eq(picker_next(p, &all, NULL, 0, z, 2), 2);
	cr_assert_eq(z[0].piece, x[0].piece);
	cr_assert_eq(z[0].offset, 7 * BLK);
	cr_assert_eq(z[1].piece, y[0].piece);
	cr_assert_eq(z[1].offset, BLK);
	bitfield_clear(&all);
	picker_free(p);
}

/* A partial piece the peer lacks is skipped, not handed out. */
Test(picker, partial_only_if_peer_has_it)
{
	struct picker		*p = mk(4, 2 * BLK, 2 * BLK, &rarest);
	struct bitfield		 b0, b1;
	struct block_req	 out[4];
	static const uint32_t	 l0[] = { 0, UINT32_MAX };
	static const uint32_t	 l1[] = { 1, UINT32_MAX };

	bf_list(&b0, 4, l0);
	bf_list(&b1, 4, l1);
	picker_peer_add(p, &b0);
	picker_peer_add(p, &b1);
	cr_assert_eq(picker_next(p, &b0, NULL, 0, out, 1), 1);
	cr_assert_eq(out[0].piece, 0);
	cr_assert_eq(picker_next(p, &b1, NULL, 0, out, 4), 2);
	cr_assert_eq(out[0].piece, 1);
	cr_assert_eq(out[1].piece, 1);
	cr_assert_eq(picker_next(p, &b0, NULL, 0, out, 4), 1);
	cr_assert_eq(out[0].piece, 0);
	cr_assert_eq(out[0].offset, BLK);
	bitfield_clear(&b0);
	bitfield_clear(&b1);
	picker_free(p);
}

/* Availability after random adds, removes and haves, against a count. */
Test(picker, availability_matches_naive_count)
{
	enum { NP = 203, NPEERS = 12, NOPS = 6000 };
	struct picker		*p;
	struct bitfield		 peers[NPEERS], all;
	struct block_req	 out[1];
	struct prng		 r;
	bool			 added[NPEERS] = { false }, had[NP];
	uint32_t		 naive, i, k, best, op;
	uint64_t		 seed;

	for (seed = 1; seed <= 3; seed++) {
		struct picker_opts	o = rarest;

		o.seed = seed;
		prng_seed(&r, seed * 31);
		p = mk(NP, BLK, BLK, &o);
		bf_all(&all, NP);
		memset(had, 0, sizeof(had));
		for (k = 0; k < NPEERS; k++) {
			bitfield_init(&peers[k], NP);
			added[k] = false;
			/* Some seeds, some sparse. */
			for (i = 0; i < NP; i++)
				if (k % 4 == 0 || prng_below(&r, 3) == 0)
					bitfield_set(&peers[k], i);
		}
		for (op = 0; op < NOPS; op++) {
			k = (uint32_t)prng_below(&r, NPEERS);
			switch (prng_below(&r, 8)) {
			case 0:
				if (added[k])
					picker_peer_remove(p, &peers[k]);
				else
					picker_peer_add(p, &peers[k]);
				added[k] = !added[k];
				break;
			case 1:
				if (prng_below(&r, 10) == 0) {
					i = (uint32_t)prng_below(&r, NP);
					picker_have(p, i);
					had[i] = true;
				}
				break;
			default:
				i = (uint32_t)prng_below(&r, NP);
				if (bitfield_set(&peers[k], i) && added[k])
					picker_peer_have(p, i);
				break;
			}
			for (i = 0; i < NP; i++) {
				naive = 0;
				for (k = 0; k < NPEERS; k++)
					if (added[k] &&
					    bitfield_get(&peers[k], i))
						naive++;
				cr_assert_eq(picker_availability(p, i), naive,
				    "op %u piece %u", op, i);
			}
			if (op % 7 != 0)
				continue;
			/* The pick is a rarest wanted piece; undo it. */
			best = UINT32_MAX;
			for (i = 0; i < NP; i++) {
				naive = picker_availability(p, i);
				if (!had[i] && naive > 0 && naive < best)
					best = naive;
			}
			if (picker_next(p, &all, NULL, 0, out, 1) == 1 ||
			    best != UINT32_MAX) {
				cr_assert_eq(picker_availability(p,
				    out[0].piece), best, "op %u", op);
				picker_abandon(p, out);
			}
		}
		for (k = 0; k < NPEERS; k++)
			bitfield_clear(&peers[k]);
		bitfield_clear(&all);
		picker_free(p);
	}
}

/* Every other peer's request gets duplicated; never one in busy[]. */
Test(picker, end_game)
{
	struct picker		*p = mk(5, 2 * BLK, BLK + 7, &rarest);
	struct bitfield		 all, part;
	struct block_req	 a[16], b[16], c[16], x[16];
	static const uint32_t	 lp[] = { 4, UINT32_MAX };
	size_t			 na, nb, nc, i, j;
	bool			 d;

	bf_all(&all, 5);
	bf_list(&part, 5, lp);
	picker_peer_add(p, &all);
	picker_peer_add(p, &part);
	/* A has 8 of 10 blocks outstanding: not yet end-game. */
	na = picker_next(p, &all, NULL, 0, a, 8);
	cr_assert_eq(na, 8);
	cr_assert_not(picker_in_end_game(p));
	/* B takes the last 2: end-game. */
	nb = picker_next(p, &all, NULL, 0, b, 16);
	cr_assert_eq(nb, 2 + 8, "B: %zu", nb);
	cr_assert(picker_in_end_game(p));
	/* The 8 duplicates are A's, each now with 2 requesters. */
	for (i = 2; i < nb; i++) {
		for (j = 0; j < na; j++)
			if (a[j].piece == b[i].piece &&
			    a[j].offset == b[i].offset)
				break;
		cr_assert_lt(j, na, "B got a block A does not have out");
		cr_assert_eq(picker_requesters(p, &b[i]), 2);
	}
	/* A, passing its own requests as busy, gets only B's two. */
	memcpy(x, a, na * sizeof(a[0]));
	nc = picker_next(p, &all, x, na, c, 16);
	cr_assert_eq(nc, 2);
	for (i = 0; i < nc; i++) {
		cr_assert((c[i].piece == b[0].piece &&
		    c[i].offset == b[0].offset) ||
		    (c[i].piece == b[1].piece &&
		    c[i].offset == b[1].offset));
		cr_assert_eq(picker_requesters(p, &c[i]), 2);
	}
	/* Everything busy: nothing. */
	memcpy(x + na, c, nc * sizeof(c[0]));
	cr_assert_eq(picker_next(p, &all, x, na + nc, c, 16), 0);
	/* C, which has only piece 4, gets blocks of piece 4 only, fewest
	   requesters first (everything has 2; receive one to make a 1). */
	cr_assert(picker_received(p, &a[0], &d));
	cr_assert_eq(picker_requesters(p, &a[0]), 1);
	nc = picker_next(p, &part, NULL, 0, c, 16);
	for (i = 0; i < nc; i++)
		cr_assert_eq(c[i].piece, 4);
	/* Duplicate answers are refused and drop the requester count. */
	cr_assert_not(picker_received(p, &a[0], &d));
	cr_assert_eq(picker_requesters(p, &a[0]), 0);
	bitfield_clear(&all);
	bitfield_clear(&part);
	picker_free(p);
}

Test(picker, end_game_fewest_requesters_first)
{
	struct picker		*p = mk(1, 3 * BLK, 3 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 a[3], out[3];

	bf_all(&all, 1);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 3), 3);
	cr_assert(picker_in_end_game(p));
	/* Second peer: one duplicate each; block 1 gets a third. */
	cr_assert_eq(picker_next(p, &all, &a[0], 1, out, 1), 1);
	cr_assert_eq(out[0].offset, BLK);
	cr_assert_eq(picker_requesters(p, &a[1]), 2);
	/* Next peer: blocks 0 and 2 (1 requester) before 1 (2). */
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, 3), 3);
	cr_assert_eq(out[0].offset, 0);
	cr_assert_eq(out[1].offset, 2 * BLK);
	cr_assert_eq(out[2].offset, BLK);
	cr_assert_eq(picker_requesters(p, &a[0]), 2);
	cr_assert_eq(picker_requesters(p, &a[1]), 3);
	bitfield_clear(&all);
	picker_free(p);
}

/*
 * End-game duplicates fill a peer's queue up to 32 requests, not to its
 * pipeline depth; the busy[] check stays exact with a deep queue.
 */
Test(picker, end_game_duplicates_capped)
{
	struct picker		*p = mk(4, 64 * BLK, 64 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 a[256], out[256];
	size_t			 na, n, i, j;

	bf_all(&all, 4);
	picker_peer_add(p, &all);
	na = picker_next(p, &all, NULL, 0, a, 256);
	cr_assert_eq(na, 256);
	cr_assert(picker_in_end_game(p));
	/* A, with everything out, gets nothing. */
	cr_assert_eq(picker_next(p, &all, a, na, out, 256), 0);
	/* B, idle: 32 duplicates at most. */
	n = picker_next(p, &all, NULL, 0, out, 256);
	cr_assert_eq(n, 32);
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			cr_assert(out[i].piece != out[j].piece ||
			    out[i].offset != out[j].offset);
	/* C, with 40 out: none; with 20 out: 12, none of those 20. */
	cr_assert_eq(picker_next(p, &all, a + 100, 40, out, 256), 0);
	n = picker_next(p, &all, a + 100, 20, out, 256);
	cr_assert_eq(n, 12);
	for (i = 0; i < n; i++)
		for (j = 100; j < 120; j++)
			cr_assert(out[i].piece != a[j].piece ||
			    out[i].offset != a[j].offset);
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, no_end_game_when_disabled)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 a[16], b[16];

	o.end_game = false;
	p = mk(3, 2 * BLK, 2 * BLK, &o);
	bf_all(&all, 3);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 16), 6);
	cr_assert_not(picker_in_end_game(p));
	cr_assert_eq(picker_next(p, &all, NULL, 0, b, 16), 0);
	/* An abandoned block goes to the next caller, once. */
	picker_abandon(p, &a[3]);
	cr_assert_eq(picker_next(p, &all, NULL, 0, b, 16), 1);
	cr_assert_eq(b[0].piece, a[3].piece);
	cr_assert_eq(b[0].offset, a[3].offset);
	cr_assert_eq(picker_next(p, &all, NULL, 0, b, 16), 0);
	bitfield_clear(&all);
	picker_free(p);
}

/* bbs_plus: is r one of l[0 .. n)? */
static bool
req_in(const struct block_req *l, size_t n, const struct block_req *r)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (l[i].piece == r->piece && l[i].offset == r->offset)
			return true;
	return false;
}

/*
 * bbs_plus: long before end-game, a second peer gets a quarter of its
 * pipeline as duplicates of blocks another peer has out, never one of its
 * own; the rest is normal progress.  Without the flag: no duplicate.
 */
Test(picker, bbs_plus_duplicates_a_share)
{
	struct picker_opts	 o = rarest;
	struct picker		*p, *q;
	struct bitfield		 all;
	struct block_req	 a[16], b[16], x[32];
	size_t			 na, nb, i, dups = 0;

	o.bbs_plus = true;
	p = mk(64, 4 * BLK, 4 * BLK, &o);
	q = mk(64, 4 * BLK, 4 * BLK, &rarest);
	bf_all(&all, 64);
	picker_peer_add(p, &all);
	picker_peer_add(q, &all);
	/* A, first: nothing is out, so nothing to duplicate. */
	na = picker_next(p, &all, NULL, 0, a, 16);
	cr_assert_eq(na, 16);
	for (i = 0; i < na; i++)
		cr_assert_eq(picker_requesters(p, &a[i]), 1);
	/* B, pipeline 16: 4 of A's blocks, then 12 new ones. */
	nb = picker_next(p, &all, NULL, 0, b, 16);
	cr_assert_eq(nb, 16);
	for (i = 0; i < nb; i++) {
		if (req_in(a, na, &b[i])) {
			dups++;
			cr_assert_eq(picker_requesters(p, &b[i]), 2);
		} else
			cr_assert_eq(picker_requesters(p, &b[i]), 1);
	}
	cr_assert_eq(dups, 16 / PICKER_BBS_SHARE, "dups %zu", dups);
	cr_assert_not(picker_in_end_game(p));
	/* A again, with its 16 out and 8 free slots: B's new blocks only,
	   6 of them ((16 + 8) / 4, none of A's own yet counted as dups). */
	memcpy(x, a, na * sizeof(a[0]));
	nb = picker_next(p, &all, x, na, x + na, 8);
	cr_assert_eq(nb, 8);
	for (i = na; i < na + nb; i++)
		cr_assert_not(req_in(a, na, &x[i]), "one of A's own");
	for (i = na, dups = 0; i < na + nb; i++)
		dups += req_in(b, 16, &x[i]);
	cr_assert_eq(dups, 2, "%zu", dups);
	/* The same with the flag off: no duplicate before end-game. */
	na = picker_next(q, &all, NULL, 0, a, 16);
	nb = picker_next(q, &all, NULL, 0, b, 16);
	cr_assert_eq(nb, 16);
	for (i = 0; i < nb; i++)
		cr_assert_not(req_in(a, na, &b[i]));
	bitfield_clear(&all);
	picker_free(q);
	picker_free(p);
}

/*
 * The duplicates already in a peer's pipeline count against its share: a
 * peer whose busy[] holds a quarter of duplicates gets only new blocks.
 */
Test(picker, bbs_plus_share_counts_busy_duplicates)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 a[16], b[32], c[16];
	size_t			 nb, nc, i, dups;

	o.bbs_plus = true;
	p = mk(64, 4 * BLK, 4 * BLK, &o);
	bf_all(&all, 64);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 16), 16);
	/* B: 16 slots, 4 duplicates (first, then the new blocks). */
	nb = picker_next(p, &all, NULL, 0, b, 16);
	cr_assert_eq(nb, 16);
	for (i = 0; i < nb; i++)
		cr_assert_eq(req_in(a, 16, &b[i]), i < 4, "b[%zu]", i);
	/* B with those 16 out and 4 slots: (16 + 4) / 4 = 5, 4 are out: one
	   more duplicate, then 3 new blocks. */
	nc = picker_next(p, &all, b, nb, c, 4);
	cr_assert_eq(nc, 4);
	for (i = 0, dups = 0; i < nc; i++) {
		cr_assert_not(req_in(b, nb, &c[i]), "one of B's own");
		dups += req_in(a, 16, &c[i]);
	}
	cr_assert_eq(dups, 1);
	/* A peer whose 4 requests out are all duplicates, 4 slots: (4 + 4) /
	   4 = 2 < 4: no more duplicates. */
	nc = picker_next(p, &all, b, 4, c, 4);
	cr_assert_eq(nc, 4);
	for (i = 0; i < nc; i++)
		cr_assert_eq(picker_requesters(p, &c[i]), 1);
	bitfield_clear(&all);
	picker_free(p);
}

/* The rarest pieces' blocks are duplicated first; never a third time. */
Test(picker, bbs_plus_rarest_first_two_at_most)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all, most;
	struct block_req	 a[16], b[16], c[16];
	size_t			 nb, nc, i;
	uint32_t		 rare;

	o.bbs_plus = true;
	p = mk(16, 4 * BLK, 4 * BLK, &o);
	bf_all(&all, 16);
	picker_peer_add(p, &all);
	picker_peer_add(p, &all);
	/* A: 4 whole pieces. */
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 16), 16);
	/* A third peer has all but the piece A asked for last: that one is
	   now the rarest (2, the others 3). */
	rare = a[12].piece;
	bf_all(&most, 16);
	bitfield_unset(&most, rare);
	picker_peer_add(p, &most);
	cr_assert_eq(picker_availability(p, rare), 2);
	cr_assert_eq(picker_availability(p, a[0].piece), 3);
	/* B: its 4 duplicates are the rarest piece's 4 blocks. */
	nb = picker_next(p, &all, NULL, 0, b, 16);
	cr_assert_eq(nb, 16);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(b[i].piece, rare, "dup %zu: piece %u", i,
		    b[i].piece);
		cr_assert_eq(picker_requesters(p, &b[i]), 2);
	}
	/* C: duplicates too, but never of those (two requesters). */
	nc = picker_next(p, &all, NULL, 0, c, 16);
	cr_assert_eq(nc, 16);
	for (i = 0; i < nc; i++) {
		cr_assert_leq(picker_requesters(p, &c[i]), 2);
		cr_assert_not(req_in(b, 4, &c[i]));
	}
	/* An answer leaves one requester; the other gets cancelled. */
	cr_assert(picker_received(p, &b[0], NULL));
	cr_assert_eq(picker_requesters(p, &b[0]), 1);
	picker_abandon(p, &b[0]);
	cr_assert_eq(picker_requesters(p, &b[0]), 0);
	cr_assert(picker_block_received(p, b[0].piece, b[0].offset / BLK));
	bitfield_clear(&most);
	bitfield_clear(&all);
	picker_free(p);
}

/*
 * A whole download with bbs_plus and two peers answering in turns: every
 * piece completes, no block is received as new twice, and the share of
 * duplicates stays within bounds.
 */
Test(picker, bbs_plus_download_completes)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 q[2][64], out[64];
	size_t			 nq[2] = { 0, 0 }, n, i, k;
	uint32_t		 npieces = 40, got = 0, dup = 0, total;
	bool			 done, fresh;
	int			 rounds = 0;

	o.bbs_plus = true;
	p = mk(npieces, 4 * BLK, 3 * BLK + 5, &o);
	total = (npieces - 1) * 4 + 4;
	bf_all(&all, npieces);
	picker_peer_add(p, &all);
	picker_peer_add(p, &all);
	while (!picker_complete(p)) {
		cr_assert_lt(rounds++, 10000);
		for (k = 0; k < 2; k++) {
			/* Top the queue up to 32. */
			n = picker_next(p, &all, q[k], nq[k], out,
			    32 - nq[k]);
			memcpy(q[k] + nq[k], out, n * sizeof(out[0]));
			nq[k] += n;
			if (nq[k] == 0)
				continue;
			/* Answer the oldest; cancel it at the other peer. */
			fresh = picker_received(p, &q[k][0], &done);
			if (fresh)
				got++;
			else
				dup++;
			for (i = 0; i < nq[1 - k]; i++)
				if (q[1 - k][i].piece == q[k][0].piece &&
				    q[1 - k][i].offset == q[k][0].offset) {
					picker_abandon(p, &q[1 - k][i]);
					memmove(&q[1 - k][i], &q[1 - k][i + 1],
					    (nq[1 - k] - i - 1) *
					    sizeof(q[0][0]));
					nq[1 - k]--;
					break;
				}
			if (done)
				picker_piece_passed(p, q[k][0].piece);
			memmove(&q[k][0], &q[k][1], (nq[k] - 1) *
			    sizeof(q[0][0]));
			nq[k]--;
		}
	}
	cr_assert_eq(got, total);
	/* Cancelled before answered: duplicates never arrive twice here. */
	cr_assert_eq(dup, 0);
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, abandon_returns_blocks)
{
	struct picker		*p = mk(2, 3 * BLK, 3 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 a[6], b[6], bad;
	size_t			 i;

	bf_all(&all, 2);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 6), 6);
	for (i = 0; i < 6; i++)
		cr_assert_eq(picker_requesters(p, &a[i]), 1);
	for (i = 0; i < 6; i++)
		picker_abandon(p, &a[i]);
	for (i = 0; i < 6; i++)
		cr_assert_eq(picker_requesters(p, &a[i]), 0);
	picker_abandon(p, &a[0]);	/* twice: harmless */
	bad = (struct block_req){ .piece = 7, .offset = 0, .length = BLK };
	picker_abandon(p, &bad);
	bad = (struct block_req){ .piece = 0, .offset = 5, .length = BLK };
	picker_abandon(p, &bad);
	cr_assert_eq(picker_requesters(p, &bad), 0);
	cr_assert_eq(picker_next(p, &all, NULL, 0, b, 6), 6);
	/* The same six blocks, in some order. */
	for (i = 0; i < 6; i++)
		cr_assert_eq(picker_requesters(p, &a[i]), 1);
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, piece_failed_makes_blocks_pickable)
{
	struct picker		*p = mk(3, 3 * BLK, 3 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 a[3], b[3];
	size_t			 i;
	bool			 d = false;

	bf_all(&all, 3);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 3), 3);
	for (i = 0; i < 3; i++) {
		cr_assert_not(d);
		cr_assert(picker_received(p, &a[i], &d));
	}
	cr_assert(d);
	picker_piece_failed(p, a[0].piece);
	for (i = 0; i < 3; i++)
		cr_assert_eq(picker_requesters(p, &a[i]), 0);
	/* Its blocks are missing again and can be received anew. */
	cr_assert(picker_received(p, &a[1], &d));
	cr_assert_not(d);
	picker_piece_failed(p, a[0].piece);
	cr_assert_eq(picker_npieces_have(p), 0);
	/* All three pieces are pickable again, a[0].piece among them. */
	for (i = 0; i < 3; i++) {
		cr_assert_eq(picker_next(p, &all, NULL, 0, b, 3), 3);
		if (b[0].piece == a[0].piece)
			break;
	}
	cr_assert_lt(i, 3);
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, received_edge_cases)
{
	struct picker		*p = mk(3, 2 * BLK, 100, &rarest);
	struct block_req	 r;
	bool			 d;

	/* Unrequested blocks of an unverified piece are accepted. */
	r = (struct block_req){ .piece = 1, .offset = BLK, .length = BLK };
	cr_assert(picker_received(p, &r, &d));
	cr_assert_not(d);
	cr_assert_not(picker_received(p, &r, &d));
	r.offset = 0;
	cr_assert(picker_received(p, &r, &d));
	cr_assert(d);
	picker_piece_passed(p, 1);
	cr_assert_eq(picker_npieces_have(p), 1);
	/* A verified piece takes nothing. */
	cr_assert_not(picker_received(p, &r, &d));
	cr_assert_not(d);
	/* Wrong geometry. */
	r = (struct block_req){ .piece = 2, .offset = 0, .length = BLK };
	cr_assert_not(picker_received(p, &r, &d));
	r.length = 100;
	cr_assert(picker_received(p, &r, &d));
	cr_assert(d);
	r = (struct block_req){ .piece = 0, .offset = 2 * BLK, .length = 1 };
	cr_assert_not(picker_received(p, &r, &d));
	r = (struct block_req){ .piece = 0, .offset = 1, .length = BLK };
	cr_assert_not(picker_received(p, &r, &d));
	r = (struct block_req){ .piece = 3, .offset = 0, .length = BLK };
	cr_assert_not(picker_received(p, &r, &d));
	cr_assert_not(picker_received(p, &r, NULL));
	picker_have(p, 2);
	picker_have(p, 2);
	cr_assert_eq(picker_npieces_have(p), 2);
	picker_free(p);
}

/* "Block received": arrived, whether or not the piece was hashed. */
Test(picker, block_received_query)
{
	struct picker		*p = mk(3, 40 * KIB, 40 * KIB, &rarest);
	struct bitfield		 all;
	struct block_req	 a[3], r;
	uint32_t		 piece, other, k;
	size_t			 i;
	bool			 d;

	bf_all(&all, 3);
	picker_peer_add(p, &all);
	for (piece = 0; piece < 4; piece++)
		for (k = 0; k < 4; k++)
			cr_assert_not(picker_block_received(p, piece, k));
	/* Requested is not received; an abandon changes nothing. */
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 3), 3);
	piece = a[0].piece;
	for (i = 0; i < 3; i++) {
		cr_assert_eq(a[i].piece, piece);
		cr_assert_not(picker_block_received(p, piece, (uint32_t)i));
	}
	cr_assert(picker_received(p, &a[1], &d));
	cr_assert(picker_block_received(p, piece, 1));
	cr_assert_not(picker_block_received(p, piece, 0));
	cr_assert_not(picker_block_received(p, piece, 2));
	cr_assert_not(picker_block_received(p, piece, 3), "past the end");
	picker_abandon(p, &a[0]);
	cr_assert(picker_block_received(p, piece, 1));
	/* All in, not yet hashed: received. */
	cr_assert(picker_received(p, &a[0], &d));
	cr_assert(picker_received(p, &a[2], &d));
	cr_assert(d);
	for (k = 0; k < 3; k++)
		cr_assert(picker_block_received(p, piece, k));
	/* A failed hash: missing again. */
	picker_piece_failed(p, piece);
	for (k = 0; k < 3; k++)
		cr_assert_not(picker_block_received(p, piece, k));
	/* Verified: every block of it is in. */
	picker_piece_passed(p, piece);
	for (k = 0; k < 3; k++)
		cr_assert(picker_block_received(p, piece, k));
	cr_assert_not(picker_block_received(p, piece, 3));
	/* An unrequested block, the short one at the end of a piece. */
	other = (piece + 1) % 3;
	r = (struct block_req){ .piece = other, .offset = 2 * BLK,
	    .length = 40 * KIB - 2 * BLK };
	cr_assert(picker_received(p, &r, &d));
	cr_assert(picker_block_received(p, other, 2));
	cr_assert_not(picker_block_received(p, other, 0));
	cr_assert_not(picker_block_received(p, other, 1));
	cr_assert_not(picker_block_received(p, 3, 0));
	cr_assert_not(picker_block_received(p, UINT32_MAX, UINT32_MAX));
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, interesting)
{
	struct picker		*p = mk(20, BLK, BLK, &rarest);
	struct bitfield		 b, none, wrong;
	struct block_req	 out[2];
	static const uint32_t	 l[] = { 3, 17, UINT32_MAX };

	bf_list(&b, 20, l);
	bitfield_init(&none, 20);
	bf_all(&wrong, 21);
	cr_assert(picker_interesting(p, &b));
	cr_assert_not(picker_interesting(p, &none));
	cr_assert_not(picker_interesting(p, &wrong));
	picker_have(p, 3);
	cr_assert(picker_interesting(p, &b));
	picker_have(p, 17);
	cr_assert_not(picker_interesting(p, &b));
	/* A peer with only pieces we have gets no requests. */
	picker_peer_add(p, &b);
	cr_assert_eq(picker_next(p, &b, NULL, 0, out, 2), 0);
	bitfield_clear(&b);
	bitfield_clear(&none);
	bitfield_clear(&wrong);
	picker_free(p);
}

/* A piece nobody has is never picked, whatever the mode. */
Test(picker, piece_nobody_has_never_picked)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 b, liar;
	struct block_req	 out[8];
	uint32_t		 mode, i;
	size_t			 n, j;

	for (mode = 0; mode < 3; mode++) {
		o.rarest_first = mode != 1;
		o.random_first = mode == 2 ? 100 : 0;
		o.seed = mode + 5;
		p = mk(30, BLK, BLK, &o);
		bf_all(&b, 30);
		bitfield_unset(&b, 11);
		picker_peer_add(p, &b);
		/* Claims piece 11 but was never added. */
		bf_all(&liar, 30);
		for (i = 0; i < 10; i++) {
			n = picker_next(p, i % 2 ? &liar : &b, NULL, 0, out,
			    nitems(out));
			for (j = 0; j < n; j++) {
				cr_assert_neq(out[j].piece, 11);
				cr_assert(picker_received(p, &out[j], NULL));
				picker_piece_passed(p, out[j].piece);
			}
		}
		cr_assert_eq(picker_npieces_have(p), 29);
		cr_assert_not(picker_complete(p));
		cr_assert_not(picker_in_end_game(p));
		cr_assert(picker_interesting(p, &liar));
		cr_assert_eq(picker_next(p, &liar, NULL, 0, out, 8), 0);
		/* Once someone announces it, it goes. */
		picker_peer_have(p, 11);
		cr_assert_eq(picker_next(p, &liar, NULL, 0, out, 8), 1);
		cr_assert_eq(out[0].piece, 11);
		cr_assert(picker_in_end_game(p));
		picker_piece_passed(p, 11);
		cr_assert(picker_complete(p));
		bitfield_clear(&b);
		bitfield_clear(&liar);
		picker_free(p);
	}
}

Test(picker, complete_after_all_passed)
{
	struct picker		*p = mk(8, BLK, 10, &rarest);
	struct bitfield		 all;
	struct block_req	 out[1];
	uint32_t		 i;

	bf_all(&all, 8);
	for (i = 0; i < 8; i++) {
		cr_assert_not(picker_complete(p));
		picker_piece_passed(p, (i * 5) % 8);
		cr_assert_eq(picker_npieces_have(p), i + 1);
	}
	cr_assert(picker_complete(p));
	cr_assert_not(picker_in_end_game(p));
	picker_peer_add(p, &all);
	cr_assert_eq(picker_availability(p, 7), 1);
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, 1), 0);
	bitfield_clear(&all);
	picker_free(p);
}

/* Many pieces in progress at once: the in-progress lookup holds up. */
Test(picker, many_pieces_in_progress)
{
	enum { NP = 3000, NREQ = 2400 };
	struct picker		*p = mk(NP, 2 * BLK, 2 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	*r = xcalloc(NREQ, sizeof(*r)), t;
	struct prng		 rng;
	bool			*gone = xcalloc(NREQ, sizeof(*gone)), d;
	uint32_t		 i, j, done = 0;

	bf_all(&all, NP);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, r, NREQ), NREQ);
	/* Shuffle, abandon the first half, receive the rest. */
	prng_seed(&rng, 77);
	for (i = NREQ - 1; i > 0; i--) {
		j = (uint32_t)prng_below(&rng, i + 1);
		t = r[i];
		r[i] = r[j];
		r[j] = t;
	}
	for (i = 0; i < NREQ / 2; i++) {
		picker_abandon(p, &r[i]);
		gone[i] = true;
		j = (uint32_t)prng_below(&rng, NREQ);
		cr_assert_eq(picker_requesters(p, &r[j]), gone[j] ? 0 : 1);
	}
	for (i = NREQ / 2; i < NREQ; i++) {
		cr_assert(picker_received(p, &r[i], &d));
		if (d)
			done++;
		j = (uint32_t)prng_below(&rng, NREQ / 2);
		cr_assert_eq(picker_requesters(p, &r[j]), 0);
	}
	/* About a quarter of the 1200 pieces had both blocks received. */
	cr_assert_gt(done, 150);
	cr_assert_lt(done, 450);
	/* The abandoned blocks of started pieces come first again. */
	cr_assert_eq(picker_next(p, &all, NULL, 0, &t, 1), 1);
	cr_assert_eq(picker_requesters(p, &t), 1);
	free(r);
	free(gone);
	bitfield_clear(&all);
	picker_free(p);
}

/*
 * Several peers requesting, answering, abandoning and announcing at random,
 * with hash failures, checked against a model of every block's requester
 * count and of the end-game condition.
 */
enum { M_NP = 23, M_BPP = 3, M_PEERS = 5, M_PIPE = 12 };

struct model {
	struct picker		*p;
	bool			 end_game;
	bool			 prios;		/* random priority changes */
	uint8_t			 prio[M_NP];
	uint32_t		 req[M_NP][M_BPP];
	bool			 recv[M_NP][M_BPP];
	bool			 have[M_NP];
	struct bitfield		 bf[M_PEERS];
	struct block_req	 pipe[M_PEERS][M_PIPE];
	size_t			 npipe[M_PEERS];
};

static uint32_t
m_nblocks(uint32_t piece)
{
	return piece == M_NP - 1 ? 2 : M_BPP;	/* last piece BLK + 5 */
}

static bool
m_end_game(const struct model *m)
{
	uint32_t	i, j;
	bool		any = false;

	for (i = 0; i < M_NP; i++) {
		if (m->have[i] || m->prio[i] == PICKER_PRIO_SKIP)
			continue;
		any = true;
		for (j = 0; j < m_nblocks(i); j++)
			if (m->req[i][j] == 0 && !m->recv[i][j])
				return false;
	}
	return any && m->end_game;
}

/* The priority queries, interest and rarest level, against the model. */
static void
m_check_prios(const struct model *m, uint32_t op)
{
	uint32_t	i, k, av, low = 0, nwant = 0, nwant_have = 0;
	bool		interest[M_PEERS] = { false };

	for (i = 0; i < M_NP; i++) {
		cr_assert_eq(picker_priority(m->p, i), m->prio[i]);
		if (m->prio[i] == PICKER_PRIO_SKIP)
			continue;
		nwant++;
		if (m->have[i]) {
			nwant_have++;
			continue;
		}
		for (k = 0, av = 0; k < M_PEERS; k++) {
			av += bitfield_get(&m->bf[k], i);
			interest[k] |= bitfield_get(&m->bf[k], i);
		}
		if (av > 0 && (low == 0 || av < low))
			low = av;
	}
	cr_assert_eq(picker_rarest(m->p), low, "op %u", op);
	cr_assert_eq(picker_npieces_wanted(m->p), nwant);
	cr_assert_eq(picker_npieces_missing(m->p), nwant - nwant_have);
	cr_assert_eq(picker_wanted_complete(m->p), nwant == nwant_have);
	for (k = 0; k < M_PEERS; k++)
		cr_assert_eq(picker_interesting(m->p, &m->bf[k]), interest[k],
		    "op %u peer %u", op, k);
}

static void
m_check(const struct model *m, uint32_t op)
{
	struct block_req	r;
	uint32_t		i, j, k, out;
	size_t			y;

	for (i = 0; i < M_NP; i++) {
		for (j = 0; j < m_nblocks(i); j++) {
			r = (struct block_req){ .piece = i,
			    .offset = j * BLK,
			    .length = i == M_NP - 1 && j == 1 ? 5 : BLK };
			cr_assert_eq(picker_requesters(m->p, &r), m->req[i][j],
			    "op %u block %u:%u", op, i, j);
			/* Never more requesters than requests out (fewer
			   after a hash failure reset the count). */
			out = 0;
			for (k = 0; k < M_PEERS; k++)
				for (y = 0; y < m->npipe[k]; y++)
					if (m->pipe[k][y].piece == i &&
					    m->pipe[k][y].offset == r.offset)
						out++;
			cr_assert_leq(m->req[i][j], out, "op %u", op);
		}
	}
	cr_assert_eq(picker_in_end_game(m->p), m_end_game(m), "op %u", op);
	if (m->prios)
		m_check_prios(m, op);
}

/* Whether the model has no block of piece requested or received. */
static bool
m_unstarted(const struct model *m, uint32_t piece)
{
	uint32_t	j;

	for (j = 0; j < m_nblocks(piece); j++)
		if (m->req[piece][j] > 0 || m->recv[piece][j])
			return false;
	return !m->have[piece];
}

/*
 * The new pieces of a pick (unstarted before it) are of the highest
 * priority among the unstarted wanted pieces the peer has, that pick's
 * pieces aside.
 */
static void
m_check_new_prio(const struct model *m, uint32_t peer, const bool *unstarted,
    const struct block_req *out, size_t n, uint32_t op)
{
	bool		chosen[M_NP] = { false };
	uint32_t	i;
	uint8_t		lowest = PICKER_PRIO_MAX + 1, best = 0;
	size_t		x;

	for (x = 0; x < n; x++) {
		chosen[out[x].piece] = true;
		if (unstarted[out[x].piece])
			lowest = MIN(lowest, m->prio[out[x].piece]);
	}
	for (i = 0; i < M_NP; i++)
		if (unstarted[i] && !chosen[i] && m->prio[i] > best &&
		    bitfield_get(&m->bf[peer], i))
			best = m->prio[i];
	cr_assert(lowest > PICKER_PRIO_MAX || lowest >= best,
	    "op %u: a new piece of priority %u before one of %u", op, lowest,
	    best);
}

/* Removes entry k of peer's pipeline. */
static struct block_req
m_unpipe(struct model *m, uint32_t peer, size_t k)
{
	struct block_req	r = m->pipe[peer][k];

	m->pipe[peer][k] = m->pipe[peer][--m->npipe[peer]];
	return r;
}

/* Priorities and sequential order in m_run. */
enum { M_PLAIN = 0, M_PRIOS = 1, M_SEQ = 2 };

static uint32_t
m_run_mode(bool end_game, bool rarest_first, uint32_t mode, uint64_t seed)
{
	static const uint8_t	 prios[] = { 0, 0, 1, 4, 6, 7 };
	struct picker_opts	 o = {
		.rarest_first = rarest_first, .end_game = end_game,
		.random_first = 2, .seed = seed,
	};
	struct model		*m = xcalloc(1, sizeof(*m));
	struct block_req	 out[M_PIPE], r;
	struct prng		 rng;
	uint32_t		 op, k, i, j, dups = 0;
	size_t			 n, x, y;
	bool			 done, ok, was_end_game, unstarted[M_NP];

	prng_seed(&rng, seed);
	m->end_game = end_game;
	m->prios = (mode & M_PRIOS) != 0;
	memset(m->prio, PICKER_PRIO_NORMAL, sizeof(m->prio));
	m->p = mk(M_NP, M_BPP * BLK, BLK + 5, &o);
	picker_set_sequential(m->p, (mode & M_SEQ) != 0);
	for (k = 0; k < M_PEERS; k++) {
		bitfield_init(&m->bf[k], M_NP);
		for (i = 0; i < M_NP; i++)
			if (k == 0 || prng_below(&rng, 3) == 0)
				bitfield_set(&m->bf[k], i);
		picker_peer_add(m->p, &m->bf[k]);
	}
	for (op = 0; op < 6000 && !picker_wanted_complete(m->p); op++) {
		k = (uint32_t)prng_below(&rng, M_PEERS);
		switch (prng_below(&rng, 10)) {
		case 0: case 1: case 2: case 3:
			was_end_game = picker_in_end_game(m->p);
			for (i = 0; i < M_NP; i++)
				unstarted[i] = m->prio[i] > 0 &&
				    m_unstarted(m, i);
			y = 1 + prng_below(&rng, 6);
			n = picker_next(m->p, &m->bf[k], m->pipe[k],
			    m->npipe[k], out, MIN(M_PIPE - m->npipe[k], y));
			if (m->prios)
				m_check_new_prio(m, k, unstarted, out, n, op);
			for (x = 0; x < n; x++) {
				i = out[x].piece;
				j = out[x].offset / BLK;
				cr_assert(bitfield_get(&m->bf[k], i));
				cr_assert_not(m->have[i]);
				cr_assert_neq(m->prio[i], PICKER_PRIO_SKIP,
				    "op %u: skipped piece %u", op, i);
				cr_assert_not(m->recv[i][j], "op %u", op);
				for (y = 0; y < m->npipe[k]; y++)
					cr_assert_not(m->pipe[k][y].piece ==
					    i && m->pipe[k][y].offset ==
					    out[x].offset, "busy block");
				if (m->req[i][j] > 0) {
					/* A duplicate: end-game only. */
					cr_assert(end_game);
					cr_assert(was_end_game ||
					    picker_in_end_game(m->p));
					dups++;
				}
				m->req[i][j]++;
				m->pipe[k][m->npipe[k]++] = out[x];
			}
			break;
		case 4: case 5: case 6: case 7:
			if (m->npipe[k] == 0)
				break;
			r = m_unpipe(m, k, prng_below(&rng, m->npipe[k]));
			i = r.piece;
			j = r.offset / BLK;
			ok = picker_received(m->p, &r, &done);
			if (m->have[i]) {
				cr_assert_not(ok);
				break;
			}
			cr_assert_eq(ok, !m->recv[i][j], "op %u", op);
			if (m->req[i][j] > 0)
				m->req[i][j]--;
			m->recv[i][j] = true;
			for (y = 0; y < m_nblocks(i) && m->recv[i][y]; y++)
				;
			cr_assert_eq(done, ok && y == m_nblocks(i));
			if (!done)
				break;
			if (prng_below(&rng, 4) == 0) {
				picker_piece_failed(m->p, i);
				memset(m->req[i], 0, sizeof(m->req[i]));
				memset(m->recv[i], 0, sizeof(m->recv[i]));
			} else {
				picker_piece_passed(m->p, i);
				memset(m->req[i], 0, sizeof(m->req[i]));
				m->have[i] = true;
			}
			break;
		case 8:
			if (m->npipe[k] == 0)
				break;
			r = m_unpipe(m, k, prng_below(&rng, m->npipe[k]));
			picker_abandon(m->p, &r);
			if (!m->have[r.piece] &&
			    m->req[r.piece][r.offset / BLK] > 0)
				m->req[r.piece][r.offset / BLK]--;
			break;
		default:
			i = (uint32_t)prng_below(&rng, M_NP);
			if (m->prios && op < 3000 && prng_below(&rng, 2)) {
				/* Mostly wanted, none skipped at the end. */
				m->prio[i] = prios[prng_below(&rng,
				    nitems(prios))];
				if (op > 2500 && m->prio[i] == 0)
					m->prio[i] = PICKER_PRIO_MAX;
				picker_set_priority(m->p, i, m->prio[i]);
			} else if (bitfield_set(&m->bf[k], i))
				picker_peer_have(m->p, i);
			break;
		}
		m_check(m, op);
	}
	cr_assert(picker_wanted_complete(m->p), "seed %llu: %u pieces",
	    (unsigned long long)seed, picker_npieces_have(m->p));
	if (!m->prios)		/* else some may be skipped */
		cr_assert(picker_complete(m->p));
	if (!end_game)
		cr_assert_eq(dups, 0);
	for (k = 0; k < M_PEERS; k++)
		bitfield_clear(&m->bf[k]);
	picker_free(m->p);
	free(m);
	return dups;
}

static uint32_t
m_run(bool end_game, bool rarest_first, uint64_t seed)
{
	return m_run_mode(end_game, rarest_first, M_PLAIN, seed);
}

Test(picker, model_many_peers)
{
	uint64_t	seed;
	uint32_t	dups = 0;

	for (seed = 1; seed <= 40; seed++) {
		dups += m_run(true, true, seed);
		m_run(false, true, seed);
		dups += m_run(true, false, seed);
	}
	cr_assert_gt(dups, 50, "end-game barely reached: %u", dups);
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 2^21 pieces of 16 KiB (32 GiB): cheap to set up and to pick from. */
Test(picker, two_million_pieces, .timeout = 60)
{
	const uint32_t		 np = 1u << 21;
	struct picker		*p;
	struct bitfield		 all, some;
	struct block_req	 out[64];
	struct timespec		 t0;
	double			 t;
	uint32_t		 i, k;
	bool			 d;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	p = mk(np, BLK, BLK, &rarest);
	bf_all(&all, np);
	picker_peer_add(p, &all);
	t = elapsed(&t0);
	cr_assert_lt(t, 0.9 * SLOW, "new + seed add took %.3f s", t);
	cr_assert_eq(picker_availability(p, np - 1), 1);

	/* A sparse peer: every 64th piece, and a few haves. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bitfield_init(&some, np);
	for (i = 0; i < np; i += 64)
		bitfield_set(&some, i);
	picker_peer_add(p, &some);
	for (i = 1; i < np; i += 4096)
		picker_peer_have(p, i);
	t = elapsed(&t0);
	cr_assert_lt(t, 0.5 * SLOW, "sparse add took %.3f s", t);
	cr_assert_eq(picker_availability(p, 64), 2);
	cr_assert_eq(picker_availability(p, 4097), 2);

	/* Picking a block at a time, as per received block. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < 20000; k++) {
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 1), 1);
		cr_assert_eq(picker_availability(p, out[0].piece), 1);
		cr_assert(picker_received(p, &out[0], &d));
		cr_assert(d);
		picker_piece_passed(p, out[0].piece);
	}
	/* The sparse peer has only common pieces: the bounded scan. */
	for (k = 0; k < 200; k++) {
		cr_assert_eq(picker_next(p, &some, NULL, 0, out, 8), 8);
		for (i = 0; i < 8; i++)
			cr_assert_eq(out[i].piece % 64, 0);
	}
	t = elapsed(&t0);
	cr_assert_lt(t, 1.0 * SLOW, "picking took %.3f s", t);
	cr_assert_eq(picker_npieces_have(p), 20000);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	picker_peer_remove(p, &all);
	picker_peer_remove(p, &some);
	t = elapsed(&t0);
	cr_assert_lt(t, 0.5 * SLOW, "removes took %.3f s", t);
	cr_assert_eq(picker_availability(p, 64), 0);
	cr_assert_eq(picker_availability(p, 4097), 1);
	bitfield_clear(&all);
	bitfield_clear(&some);
	picker_free(p);
}

/* Priorities, sequential order, resumed blocks. */

/* Is piece one of list[] (ends at UINT32_MAX)? */
static bool
piece_listed(const uint32_t *list, uint32_t piece)
{
	for (; *list != UINT32_MAX; list++)
		if (*list == piece)
			return true;
	return false;
}

/*
 * Skipped pieces are never picked, in either order, with or without
 * end-game or bbs-plus; the wanted ones all download, then nothing more
 * is asked; picker_complete waits for the skipped ones.
 */
Test(picker, skip_never_picked)
{
	static const uint32_t	 skip[] = { 0, 3, 4, 9, UINT32_MAX };
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 out[8], pipe[64];
	size_t			 n, npipe, i;
	uint32_t		 mode, k;
	bool			 d;

	bf_all(&all, 10);
	for (mode = 0; mode < 8; mode++) {
		o.rarest_first = (mode & 1) != 0;
		o.bbs_plus = (mode & 2) != 0;
		o.random_first = mode & 4;
		o.seed = 100 + mode;
		p = mk(10, 2 * BLK, BLK, &o);
		picker_peer_add(p, &all);
		for (k = 0; skip[k] != UINT32_MAX; k++)
			picker_set_priority(p, skip[k], PICKER_PRIO_SKIP);
		cr_assert_eq(picker_npieces_wanted(p), 6);
		npipe = 0;
		while (!picker_wanted_complete(p)) {
			/* Two peers' worth of requests: end-game too. */
			n = picker_next(p, &all, pipe, npipe, out, 3);
			for (i = 0; i < n; i++) {
				cr_assert_not(piece_listed(skip, out[i].piece),
				    "mode %u: piece %u", mode, out[i].piece);
				pipe[npipe++] = out[i];
			}
			n = picker_next(p, &all, NULL, 0, out, 2);
			for (i = 0; i < n; i++)
				cr_assert_not(piece_listed(skip, out[i].piece),
				    "mode %u: piece %u", mode, out[i].piece);
			cr_assert_gt(npipe, 0);
			if (picker_received(p, &pipe[0], &d) && d)
				picker_piece_passed(p, pipe[0].piece);
			pipe[0] = pipe[--npipe];
		}
		cr_assert_eq(picker_npieces_have(p), 6);
		cr_assert_not(picker_complete(p));
		cr_assert_not(picker_in_end_game(p));
		cr_assert_not(picker_interesting(p, &all));
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 8), 0);
		picker_free(p);
	}
	bitfield_clear(&all);
}

/*
 * A piece skipped while in progress: its blocks out stay counted, it is
 * not continued, end-game starts without it and duplicates none of its
 * blocks, nor does bbs-plus.
 */
Test(picker, skip_in_progress_not_continued)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 a[8], b[32];
	size_t			 n, i;
	uint32_t		 bbs, skipped;

	bf_all(&all, 3);
	for (bbs = 0; bbs < 2; bbs++) {
		o.bbs_plus = bbs != 0;
		p = mk(3, 4 * BLK, 4 * BLK, &o);
		picker_peer_add(p, &all);
		/* Two of the four blocks of one piece out, then skipped. */
		cr_assert_eq(picker_next(p, &all, NULL, 0, a, 2), 2);
		skipped = a[0].piece;
		cr_assert_eq(a[1].piece, skipped);
		picker_set_priority(p, skipped, PICKER_PRIO_SKIP);
		cr_assert_eq(picker_priority(p, skipped), PICKER_PRIO_SKIP);
		cr_assert_eq(picker_requesters(p, &a[0]), 1);
		/* The 8 blocks of the other two: end-game now. */
		n = picker_next(p, &all, a, 2, b, 8);
		cr_assert_eq(n, 8, "bbs %u: %zu", bbs, n);
		for (i = 0; i < n; i++)
			cr_assert_neq(b[i].piece, skipped);
		cr_assert(picker_in_end_game(p));
		/* Another peer: duplicates, none of the skipped piece. */
		n = picker_next(p, &all, NULL, 0, b, 32);
		cr_assert_eq(n, 8);
		for (i = 0; i < n; i++)
			cr_assert_neq(b[i].piece, skipped);
		/* Its blocks, abandoned, are not asked again. */
		picker_abandon(p, &a[0]);
		picker_abandon(p, &a[1]);
		cr_assert(picker_in_end_game(p));
		n = picker_next(p, &all, NULL, 0, b, 32);
		for (i = 0; i < n; i++)
			cr_assert_neq(b[i].piece, skipped);
		picker_free(p);
	}
	bitfield_clear(&all);
}

/* bbs-plus, long before end-game, duplicates no block of a skipped piece. */
Test(picker, skip_not_duplicated_by_bbs_plus)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 a[4], b[8];
	size_t			 n, i, dups = 0;

	o.bbs_plus = true;
	bf_all(&all, 8);
	p = mk(8, 4 * BLK, 4 * BLK, &o);
	picker_peer_add(p, &all);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 4), 4);
	/* Another peer: one of its 4 is a duplicate of A's. */
	n = picker_next(p, &all, NULL, 0, b, 4);
	cr_assert_eq(n, 4);
	for (i = 0; i < n; i++)
		dups += picker_requesters(p, &b[i]) == 2;
	cr_assert_eq(dups, 1);
	for (i = 0; i < n; i++)
		picker_abandon(p, &b[i]);
	/* A's piece skipped: none. */
	picker_set_priority(p, a[0].piece, PICKER_PRIO_SKIP);
	n = picker_next(p, &all, NULL, 0, b, 8);
	cr_assert_eq(n, 8);
	for (i = 0; i < n; i++) {
		cr_assert_neq(b[i].piece, a[0].piece);
		cr_assert_eq(picker_requesters(p, &b[i]), 1);
	}
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, interest_and_rarest_ignore_skipped)
{
	static const uint32_t	 l01[] = { 0, 1, UINT32_MAX };
	static const uint32_t	 l2[] = { 2, UINT32_MAX };
	struct picker		*p = mk(4, BLK, BLK, &rarest);
	struct bitfield		 a, b;
	struct block_req	 out[4];

	bf_list(&a, 4, l01);
	bf_list(&b, 4, l2);
	picker_peer_add(p, &a);
	picker_peer_add(p, &a);
	picker_peer_add(p, &b);
	cr_assert_eq(picker_rarest(p), 1);
	cr_assert(picker_interesting(p, &b));
	picker_set_priority(p, 2, PICKER_PRIO_SKIP);
	cr_assert_not(picker_interesting(p, &b));
	cr_assert_eq(picker_next(p, &b, NULL, 0, out, 4), 0);
	cr_assert_eq(picker_rarest(p), 2, "piece 2 (availability 1) skipped");
	cr_assert(picker_interesting(p, &a));
	picker_set_priority(p, 0, PICKER_PRIO_SKIP);
	picker_set_priority(p, 1, PICKER_PRIO_SKIP);
	cr_assert_not(picker_interesting(p, &a));
	cr_assert_eq(picker_rarest(p), 0);
	cr_assert_eq(picker_npieces_wanted(p), 1);
	/* Availability is still counted while skipped. */
	picker_peer_have(p, 2);
	cr_assert_eq(picker_availability(p, 2), 2);
	/* Wanted again: interesting, rarest, picked. */
	picker_set_priority(p, 2, PICKER_PRIO_NORMAL);
	cr_assert(picker_interesting(p, &b));
	cr_assert_eq(picker_rarest(p), 2);
	cr_assert_eq(picker_next(p, &b, NULL, 0, out, 4), 1);
	cr_assert_eq(out[0].piece, 2);
	bitfield_clear(&a);
	bitfield_clear(&b);
	picker_free(p);
}

/*
 * The highest priority first, whatever the availability, then rarest
 * first (or in order) among equals; priorities above the maximum clamp.
 */
Test(picker, high_before_normal)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all, some;
	struct block_req	 out[16];
	uint32_t		 i, mode, seed, wraps = 0;
	static const uint32_t	 common[] = { 1, 5, 9, 13, UINT32_MAX };

	bf_all(&all, 16);
	/* Pieces 1, 5, 9, 13 are the most common. */
	bf_all(&some, 16);
	for (i = 0; i < 16; i++)
		if (!piece_listed(common, i))
			bitfield_unset(&some, i);
	for (mode = 0; mode < 2; mode++)
	for (seed = 1; seed <= 20; seed++) {
		o.rarest_first = mode == 0;
		o.random_first = seed % 3;	/* random-first too */
		o.seed = seed;
		p = mk(16, BLK, BLK, &o);
		picker_peer_add(p, &all);
		picker_peer_add(p, &some);
		picker_set_priority(p, 9, PICKER_PRIO_MAX);
		picker_set_priority(p, 13, 200);
		cr_assert_eq(picker_priority(p, 13), PICKER_PRIO_MAX);
		picker_set_priority(p, 5, 5);
		picker_set_priority(p, 2, 1);
		picker_set_priority(p, 3, PICKER_PRIO_SKIP);
		cr_assert_eq(picker_priority(p, 0), PICKER_PRIO_NORMAL);
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 16), 15);
		cr_assert((out[0].piece == 9 && out[1].piece == 13) ||
		    (out[0].piece == 13 && out[1].piece == 9),
		    "mode %u seed %u: %u %u", mode, seed, out[0].piece,
		    out[1].piece);
		cr_assert_eq(out[2].piece, 5);
		/*
		 * Then the 11 normal ones: rarest first puts 1 (common)
		 * last of them; in order, from a random piece on, wrapping.
		 */
		for (i = 3; i < 14; i++)
			cr_assert_eq(picker_priority(p, out[i].piece),
			    PICKER_PRIO_NORMAL);
		if (mode == 0)
			cr_assert_eq(out[13].piece, 1, "seed %u", seed);
		for (i = 4, wraps = 0; mode == 1 && i < 14; i++)
			wraps += out[i].piece < out[i - 1].piece;
		cr_assert_leq(wraps, 1, "in order");
		cr_assert_eq(out[14].piece, 2);
		picker_free(p);
	}
	bitfield_clear(&all);
	bitfield_clear(&some);
}

/* A peer without the high pieces gets the normal ones. */
Test(picker, high_first_only_among_peer_pieces)
{
	static const uint32_t	 lo[] = { 4, 5, 6, 7, UINT32_MAX };
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all, low;
	struct block_req	 out[8];
	uint32_t		 mode, i;

	bf_all(&all, 8);
	bf_list(&low, 8, lo);
	for (mode = 0; mode < 3; mode++) {
		o.rarest_first = mode != 1;
		o.random_first = mode == 2 ? 4 : 0;
		p = mk(8, BLK, BLK, &o);
		picker_peer_add(p, &all);
		picker_peer_add(p, &low);
		for (i = 0; i < 4; i++)
			picker_set_priority(p, i, 6);
		cr_assert_eq(picker_next(p, &low, NULL, 0, out, 2), 2);
		cr_assert_geq(out[0].piece, 4);
		cr_assert_geq(out[1].piece, 4);
		cr_assert_eq(picker_next(p, &all, NULL, 0, out, 4), 4);
		for (i = 0; i < 4; i++)
			cr_assert_lt(out[i].piece, 4, "mode %u", mode);
		picker_free(p);
	}
	bitfield_clear(&all);
	bitfield_clear(&low);
}

/* Every block of piece (of nb full blocks) received or requested. */
static bool
fully_asked(const struct picker *p, uint32_t piece, uint32_t nb)
{
	struct block_req	r = { .piece = piece, .length = BLK };
	uint32_t		b;

	for (b = 0; b < nb; b++) {
		r.offset = b * BLK;
		if (!picker_block_received(p, piece, b) &&
		    picker_requesters(p, &r) == 0)
			return false;
	}
	return true;
}

/* No block of piece (of nb full blocks) received or requested. */
static bool
fully_missing(const struct picker *p, uint32_t piece, uint32_t nb)
{
	struct block_req	r = { .piece = piece, .length = BLK };
	uint32_t		b;

	for (b = 0; b < nb; b++) {
		r.offset = b * BLK;
		if (picker_block_received(p, piece, b) ||
		    picker_requesters(p, &r) != 0)
			return false;
	}
	return true;
}

/*
 * Sequential: several peers with pipelines of two blocks work the lowest
 * pieces, a peer lacking one gets the next it has, and the pieces
 * complete in (nearly) index order.
 */
Test(picker, sequential_several_peers)
{
	enum { NP = 64, NPEER = 3, DEPTH = 2 };
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 bf[NPEER];
	struct block_req	 pipe[NPEER][DEPTH], out[DEPTH];
	size_t			 npipe[NPEER] = { 0 }, n, x;
	uint32_t		 k, i, ndone = 0;
	bool			 started[NP];
	bool			 d;

	o.random_first = 4;		/* ignored when sequential */
	p = mk(NP, 2 * BLK, 2 * BLK, &o);
	picker_set_sequential(p, true);
	for (k = 0; k < NPEER; k++) {
		bitfield_init(&bf[k], NP);
		for (i = 0; i < NP; i++)
			if (k != 2 || i % 5 != 0)	/* 2 lacks 0, 5, .. */
				bitfield_set(&bf[k], i);
		picker_peer_add(p, &bf[k]);
	}
	/* First round: 0, 1, then peer 2 gets 2, not 0. */
	for (k = 0; k < NPEER; k++) {
		n = picker_next(p, &bf[k], NULL, 0, pipe[k], DEPTH);
		cr_assert_eq(n, DEPTH);
		npipe[k] = n;
		cr_assert_eq(pipe[k][0].piece, k);
		cr_assert_eq(pipe[k][1].piece, k);
	}
	while (!picker_complete(p)) {
		for (k = 0; k < NPEER; k++) {
			if (npipe[k] == 0)
				continue;
			if (picker_received(p, &pipe[k][0], &d) && d) {
				picker_piece_passed(p, pipe[k][0].piece);
				ndone++;
			}
			pipe[k][0] = pipe[k][--npipe[k]];
			for (i = 0; i < NP; i++)
				started[i] = !fully_missing(p, i, 2);
			/* The lowest piece nobody asked for yet. */
			n = picker_next(p, &bf[k], pipe[k], npipe[k], out,
			    DEPTH - npipe[k]);
			for (x = 0; x < n; x++) {
				/* Never more than a few pieces ahead. */
				cr_assert_lt(out[x].piece,
				    ndone + 2 * NPEER + 2,
				    "piece %u, %u done", out[x].piece, ndone);
				/*
				 * Every lower piece it has is fully asked,
				 * but a piece started is finished first.
				 */
				for (i = 0; i < out[x].piece; i++)
					cr_assert(!bitfield_get(&bf[k], i) ||
					    fully_asked(p, i, 2) ||
					    (!started[i] &&
					    started[out[x].piece]),
					    "peer %u got %u before %u", k,
					    out[x].piece, i);
				pipe[k][npipe[k]++] = out[x];
			}
		}
	}
	for (k = 0; k < NPEER; k++)
		bitfield_clear(&bf[k]);
	picker_free(p);
}

/* Sequential: started pieces first, the lowest index first; then in order
   from the lowest wanted piece, the highest priority first. */
Test(picker, sequential_partial_and_priority)
{
	static const uint32_t	 rest[] = { 4, 5, 6, 8, 9 };
	struct picker		*p = mk(10, 2 * BLK, 2 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 a[4], out[20];
	bool			 d;
	uint32_t		 i;

	bf_all(&all, 10);
	picker_peer_add(p, &all);
	picker_set_sequential(p, true);
	cr_assert_eq(picker_next(p, &all, NULL, 0, a, 4), 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(a[i].piece, i / 2);
	/* Piece 1 half received, 0's blocks given up: 0 first. */
	cr_assert(picker_received(p, &a[2], &d));
	picker_abandon(p, &a[3]);
	picker_abandon(p, &a[1]);
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, 3), 3);
	cr_assert_eq(out[0].piece, 0);
	cr_assert_eq(out[0].offset, BLK);
	cr_assert_eq(out[1].piece, 1);
	cr_assert_eq(out[1].offset, BLK);
	cr_assert_eq(out[2].piece, 2);
	/* Piece 7 high, 3 skipped: the rest of 2, 7, then 4, 5, 6, 8, 9. */
	picker_set_priority(p, 7, 6);
	picker_set_priority(p, 3, PICKER_PRIO_SKIP);
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, 13), 1 + 2 + 10);
	cr_assert_eq(out[0].piece, 2);
	cr_assert_eq(out[1].piece, 7);
	cr_assert_eq(out[2].piece, 7);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(out[3 + 2 * i].piece, rest[i]);
		cr_assert_eq(out[4 + 2 * i].piece, out[3 + 2 * i].piece);
	}
	/* Back from skipped below the others: it comes next. */
	picker_set_priority(p, 3, PICKER_PRIO_NORMAL);
	cr_assert_eq(picker_next(p, &all, NULL, 0, out, 2), 2);
	cr_assert_eq(out[0].piece, 3);
	bitfield_clear(&all);
	picker_free(p);
}

/* 0 -> 4 and 4 -> 0 in the middle of a download, both orders. */
Test(picker, priority_change_mid_download)
{
	struct picker_opts	 o = rarest;
	struct picker		*p;
	struct bitfield		 all;
	struct block_req	 out[64], r;
	uint32_t		 mode, i, got[8];
	size_t			 n;
	bool			 d;

	bf_all(&all, 8);
	for (mode = 0; mode < 3; mode++) {
		o.rarest_first = mode != 1;
		p = mk(8, 2 * BLK, 2 * BLK, &o);
		picker_set_sequential(p, mode == 2);
		picker_peer_add(p, &all);
		for (i = 0; i < 8; i++)
			picker_set_priority(p, i, i < 4 ? 4 : 0);
		cr_assert_eq(picker_npieces_wanted(p), 4);
		/* Download 0 .. 3 except one block. */
		n = picker_next(p, &all, NULL, 0, out, 64);
		cr_assert_eq(n, 8);
		for (i = 0; i + 1 < n; i++) {
			cr_assert_lt(out[i].piece, 4);
			if (picker_received(p, &out[i], &d) && d)
				picker_piece_passed(p, out[i].piece);
		}
		r = out[n - 1];
		cr_assert_eq(picker_npieces_have(p), 3);
		cr_assert(picker_in_end_game(p));
		/* 4 .. 7 wanted now: end-game over, they get picked. */
		for (i = 4; i < 8; i++)
			picker_set_priority(p, i, PICKER_PRIO_NORMAL);
		cr_assert_eq(picker_npieces_wanted(p), 8);
		cr_assert_not(picker_in_end_game(p));
		cr_assert(picker_interesting(p, &all));
		n = picker_next(p, &all, &r, 1, out, 4);
		cr_assert_eq(n, 4);
		memset(got, 0, sizeof(got));
		for (i = 0; i < n; i++) {
			cr_assert_geq(out[i].piece, 4);
			got[out[i].piece]++;
		}
		/* 4 -> 0 for the piece of the block out: others finish. */
		picker_set_priority(p, r.piece, PICKER_PRIO_SKIP);
		cr_assert_eq(picker_npieces_wanted(p), 7);
		for (i = 0; i < n; i++)
			picker_abandon(p, &out[i]);
		n = picker_next(p, &all, &r, 1, out, 64);
		cr_assert_eq(n, 8);
		for (i = 0; i < n; i++) {
			cr_assert_geq(out[i].piece, 4);
			if (picker_received(p, &out[i], &d) && d)
				picker_piece_passed(p, out[i].piece);
		}
		cr_assert(picker_wanted_complete(p));
		cr_assert_not(picker_complete(p));
		cr_assert_not(picker_in_end_game(p));
		/* Its late block still counts; back to 4, it completes. */
		cr_assert(picker_received(p, &r, &d));
		cr_assert(d);
		picker_set_priority(p, r.piece, PICKER_PRIO_NORMAL);
		cr_assert_not(picker_wanted_complete(p));
		picker_piece_passed(p, r.piece);
		cr_assert(picker_wanted_complete(p));
		cr_assert(picker_complete(p));
		picker_free(p);
	}
	bitfield_clear(&all);
}

Test(picker, set_received)
{
	struct picker		*p = mk(4, 3 * BLK, BLK + 1, &rarest);
	struct bitfield		 all;
	struct block_req	 out[16];
	size_t			 n, i;
	bool			 d;

	bf_all(&all, 4);
	picker_peer_add(p, &all);
	picker_have(p, 2);
	/* Piece 0 whole from the record: done on its last block. */
	cr_assert_not(picker_set_received(p, 0, 0));
	cr_assert_not(picker_set_received(p, 0, 2));
	cr_assert(picker_set_received(p, 0, 1));
	cr_assert_not(picker_set_received(p, 0, 1), "duplicate");
	picker_piece_passed(p, 0);
	/* Piece 1: blocks 0 and 2 from the record, 1 from a peer. */
	cr_assert_not(picker_set_received(p, 1, 2));
	cr_assert_not(picker_set_received(p, 1, 2), "duplicate");
	cr_assert_not(picker_set_received(p, 1, 0));
	cr_assert(picker_block_received(p, 1, 0));
	cr_assert_not(picker_block_received(p, 1, 1));
	/* Out of range, or a piece we have: refused. */
	cr_assert_not(picker_set_received(p, 1, 3));
	cr_assert_not(picker_set_received(p, 4, 0));
	cr_assert_not(picker_set_received(p, 3, 2), "last piece: 2 blocks");
	cr_assert_not(picker_set_received(p, 2, 0));
	cr_assert_not(picker_set_received(p, 0, 0));
	cr_assert_eq(picker_npieces_have(p), 2);
	/* The partial piece first, its missing block only. */
	n = picker_next(p, &all, NULL, 0, out, 16);
	cr_assert_eq(n, 1 + 2);
	cr_assert_eq(out[0].piece, 1);
	cr_assert_eq(out[0].offset, BLK);
	for (i = 1; i < n; i++)
		cr_assert_eq(out[i].piece, 3);
	cr_assert(picker_in_end_game(p));
	cr_assert(picker_received(p, &out[0], &d));
	cr_assert(d);
	/* A hash failure forgets the recorded blocks too. */
	picker_piece_failed(p, 1);
	cr_assert_not(picker_block_received(p, 1, 0));
	/* A block set while requested: the request counts as answered. */
	cr_assert_eq(out[2].offset, BLK);
	cr_assert_eq(picker_requesters(p, &out[2]), 1);
	cr_assert_not(picker_set_received(p, 3, 1));
	cr_assert_eq(picker_requesters(p, &out[2]), 0);
	cr_assert_not(picker_received(p, &out[2], &d), "duplicate");
	cr_assert(picker_received(p, &out[1], &d));
	cr_assert(d);
	picker_piece_passed(p, 3);
	cr_assert_eq(picker_npieces_have(p), 3);
	/* Mixed with received blocks, in either order. */
	cr_assert(picker_received(p, &(struct block_req){ .piece = 1,
	    .offset = 2 * BLK, .length = BLK }, &d));
	cr_assert_not(d);
	cr_assert_not(picker_set_received(p, 1, 2), "duplicate");
	cr_assert_not(picker_set_received(p, 1, 0));
	cr_assert(picker_set_received(p, 1, 1));
	picker_piece_passed(p, 1);
	cr_assert(picker_complete(p));
	bitfield_clear(&all);
	picker_free(p);
}

Test(picker, wanted_complete_vs_complete)
{
	struct picker	*p = mk(3, BLK, BLK, &rarest);
	struct picker	*z = mk(0, BLK, BLK, &rarest);

	cr_assert_eq(picker_npieces_wanted(p), 3);
	cr_assert_not(picker_wanted_complete(p));
	picker_set_priority(p, 1, PICKER_PRIO_SKIP);
	picker_set_priority(p, 7, PICKER_PRIO_SKIP);	/* out of range */
	cr_assert_eq(picker_priority(p, 7), PICKER_PRIO_SKIP);
	cr_assert_eq(picker_npieces_wanted(p), 2);
	picker_have(p, 0);
	picker_have(p, 2);
	cr_assert(picker_wanted_complete(p));
	cr_assert_not(picker_complete(p));
	picker_set_priority(p, 0, PICKER_PRIO_SKIP);
	cr_assert(picker_wanted_complete(p));
	cr_assert_eq(picker_npieces_wanted(p), 1);
	picker_set_priority(p, 1, 2);
	cr_assert_not(picker_wanted_complete(p));
	picker_set_priority(p, 1, PICKER_PRIO_SKIP);
	picker_set_priority(p, 2, PICKER_PRIO_SKIP);
	cr_assert(picker_wanted_complete(p), "nothing wanted");
	cr_assert_eq(picker_npieces_wanted(p), 0);
	picker_have(p, 1);
	cr_assert(picker_complete(p));
	cr_assert(picker_wanted_complete(p));
	cr_assert(picker_wanted_complete(z));
	cr_assert_eq(picker_npieces_wanted(z), 0);
	picker_free(p);
	picker_free(z);
}

/*
 * The model with priorities changing at random (to 0 and back) and in
 * sequential order: never a skipped piece picked, new pieces of the
 * highest priority the peer has, end-game over the wanted pieces only,
 * interest and rarest level as counted.
 */
Test(picker, model_priorities)
{
	uint64_t	seed;
	uint32_t	mode, dups = 0;

	for (seed = 1; seed <= 40; seed++) {
		for (mode = M_PRIOS; mode <= (M_PRIOS | M_SEQ); mode++) {
			dups += m_run_mode(true, true, mode, seed);
			m_run_mode(false, true, mode, seed);
			dups += m_run_mode(true, false, mode, seed);
		}
	}
	cr_assert_gt(dups, 50, "end-game barely reached: %u", dups);
}

Test(picker, in_progress_from_request_to_verify)
{
	struct picker		*p = mk(4, 2 * BLK, 2 * BLK, &rarest);
	struct bitfield		 all;
	struct block_req	 r[2];
	bool			 done = false;
	uint32_t		 i;

	bf_all(&all, 4);
	picker_peer_add(p, &all);
	for (i = 0; i < 5; i++)
		cr_assert_not(picker_in_progress(p, i));
	cr_assert_eq(picker_next(p, &all, NULL, 0, r, 1), 1);
	cr_assert(picker_in_progress(p, r[0].piece), "requested");
	picker_abandon(p, &r[0]);
	cr_assert_not(picker_in_progress(p, r[0].piece), "abandoned");
	cr_assert_eq(picker_next(p, &all, NULL, 0, r, 2), 2);
	cr_assert_eq(r[0].piece, r[1].piece);
	cr_assert(picker_received(p, &r[0], &done));
	cr_assert_not(done);
	picker_abandon(p, &r[1]);
	cr_assert(picker_in_progress(p, r[0].piece), "a block received");
	picker_piece_failed(p, r[0].piece);
	cr_assert_not(picker_in_progress(p, r[0].piece), "failed");
	cr_assert_eq(picker_next(p, &all, NULL, 0, r, 2), 2);
	cr_assert(picker_received(p, &r[0], &done));
	cr_assert(picker_received(p, &r[1], &done));
	cr_assert(done);
	cr_assert(picker_in_progress(p, r[0].piece), "being hashed");
	picker_piece_passed(p, r[0].piece);
	cr_assert_not(picker_in_progress(p, r[0].piece), "verified");
	bitfield_clear(&all);
	picker_free(p);
}
