/* test-superseed.c - super-seeding (BEP 16): which piece to reveal to whom */
#include <criterion/criterion.h>

#include <string.h>

#include "bitfield.h"
#include "superseed.h"
#include "util.h"

#define T0	1000000u		/* a clock reading */
#define MAXN	64

/* A peer as the test sees it: its id and its pieces. */
struct tp {
	uint32_t	id;
	struct bitfield	has;
};

static void
tp_init(struct tp *p, uint32_t id, uint32_t n)
{
	p->id = id;
	bitfield_init(&p->has, n);
}

/* Joins with its bitfield (the set given). */
static void
join(struct superseed *ss, struct tp *p, uint64_t now)
{
	superseed_peer_add(ss, p->id, now);
	superseed_peer_bitfield(ss, p->id, &p->has, now);
}

static void
have(struct superseed *ss, struct tp *p, uint32_t piece, uint64_t now)
{
	cr_assert(bitfield_set(&p->has, piece), "piece %u twice", piece);
	superseed_peer_have(ss, p->id, piece, now);
}

static bool
next(struct superseed *ss, struct tp *p, uint64_t now, uint32_t *piece)
{
	return superseed_next(ss, p->id, &p->has, now, piece);
}

static uint32_t
must_next(struct superseed *ss, struct tp *p, uint64_t now)
{
	uint32_t	piece = UINT32_MAX;

	cr_assert(next(ss, p, now, &piece), "peer %u: no piece due", p->id);
	cr_assert_lt(piece, p->has.n);
	cr_assert(!bitfield_get(&p->has, piece), "revealed a piece it has");
	cr_assert(superseed_revealed(ss, p->id, piece));
	return piece;
}

static void
no_next(struct superseed *ss, struct tp *p, uint64_t now)
{
	uint32_t	piece = UINT32_MAX;

	cr_assert_not(next(ss, p, now, &piece), "peer %u: piece %u due",
	    p->id, piece);
}

Test(superseed, one_piece_at_a_time)
{
	struct superseed	*ss = superseed_new(16, 1);
	struct tp		 a;
	uint32_t		 p, i, nrev = 0;

	tp_init(&a, 7, 16);
	join(ss, &a, T0);
	p = must_next(ss, &a, T0);
	/* Nothing more until it is seen: not now, not a bit later. */
	no_next(ss, &a, T0);
	no_next(ss, &a, T0 + SUPERSEED_TIMEOUT_MS - 1);
	for (i = 0; i < 16; i++)
		nrev += superseed_revealed(ss, a.id, i);
	cr_assert_eq(nrev, 1);
	cr_assert(superseed_revealed(ss, a.id, p));
	cr_assert_not(superseed_revealed(ss, 8, p), "unknown peer");
	cr_assert_eq(superseed_npeers(ss), 1);
	bitfield_clear(&a.has);
	superseed_free(ss);
}

/* A peer without a bitfield gets its first piece after the wait. */
Test(superseed, waits_for_the_bitfield)
{
	struct superseed	*ss = superseed_new(4, 1);
	struct tp		 a, b;

	tp_init(&a, 1, 4);
	tp_init(&b, 2, 4);
	superseed_peer_add(ss, a.id, T0);
	superseed_peer_add(ss, b.id, T0);
	cr_assert_eq(superseed_deadline(ss), T0 + SUPERSEED_JOIN_MS);
	no_next(ss, &a, T0 + SUPERSEED_JOIN_MS - 1);
	/* b's bitfield says it has 0 to 2: it gets 3 at once */
	bitfield_set(&b.has, 0);
	bitfield_set(&b.has, 1);
	bitfield_set(&b.has, 2);
	superseed_peer_bitfield(ss, b.id, &b.has, T0 + 10);
	cr_assert_eq(superseed_deadline(ss), 0);
	cr_assert_eq(must_next(ss, &b, T0 + 10), 3);
	/* a (no bitfield, so nothing) after the wait: 3 is taken by b */
	cr_assert_neq(must_next(ss, &a, T0 + SUPERSEED_JOIN_MS), 3);
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	superseed_free(ss);
}

/* X's next piece waits for X's HAVE and another peer's HAVE of it. */
Test(superseed, next_after_seen_elsewhere)
{
	struct superseed	*ss = superseed_new(8, 2);
	struct tp		 a, b, c;
	uint32_t		 pa, pb, pc;

	tp_init(&a, 1, 8);
	tp_init(&b, 2, 8);
	tp_init(&c, 3, 8);
	join(ss, &a, T0);
	join(ss, &b, T0);
	join(ss, &c, T0);
	pa = must_next(ss, &a, T0);
	pb = must_next(ss, &b, T0);
	pc = must_next(ss, &c, T0);
	cr_assert(pa != pb && pb != pc && pa != pc, "one piece, one peer");

	/* a got it: not enough, b and c lack it */
	have(ss, &a, pa, T0 + 100);
	no_next(ss, &a, T0 + 100);
	/* b took it from a: a is due; b is not (its own piece is unseen) */
	have(ss, &b, pa, T0 + 200);
	cr_assert_eq(superseed_deadline(ss), 0);
	cr_assert_neq(must_next(ss, &a, T0 + 200), pa);
	no_next(ss, &b, T0 + 200);
	cr_assert_not(superseed_revealed(ss, a.id, pa), "a announced it");

	/* c's piece is seen (b) before c announces it: due at its HAVE */
	have(ss, &b, pc, T0 + 300);
	no_next(ss, &c, T0 + 300);
	have(ss, &c, pc, T0 + 400);
	must_next(ss, &c, T0 + 400);
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	bitfield_clear(&c.has);
	superseed_free(ss);
}

/* Alone (nobody else lacks its piece), a peer's own HAVE is enough. */
Test(superseed, lone_peer_goes_on_its_own_have)
{
	struct superseed	*ss = superseed_new(8, 3);
	struct tp		 a;
	uint32_t		 p, i, seen = 0;

	tp_init(&a, 1, 8);
	join(ss, &a, T0);
	for (i = 0; i < 8; i++) {
		p = must_next(ss, &a, T0 + i);
		cr_assert_eq(seen & (1u << p), 0, "piece %u twice", p);
		seen |= 1u << p;
		no_next(ss, &a, T0 + i);
		have(ss, &a, p, T0 + i);
	}
	cr_assert_eq(seen, 0xff);
	/* It has everything: nothing to reveal, and no busy loop */
	no_next(ss, &a, T0 + 8);
	cr_assert_geq(superseed_deadline(ss), T0 + 8 + SUPERSEED_TIMEOUT_MS);
	bitfield_clear(&a.has);
	superseed_free(ss);
}

/* Rarest first among what the peer lacks; revealed-unseen pieces last. */
Test(superseed, rarest_first)
{
	struct superseed	*ss = superseed_new(4, 4);
	struct tp		 a, b, c, d;

	tp_init(&a, 1, 4);
	tp_init(&b, 2, 4);
	tp_init(&c, 3, 4);
	tp_init(&d, 4, 4);
	/* availability: 0: 2 peers, 1: 2, 2: 1, 3: 0 */
	bitfield_set(&b.has, 0);
	bitfield_set(&b.has, 1);
	bitfield_set(&b.has, 2);
	bitfield_set(&c.has, 0);
	bitfield_set(&c.has, 1);
	join(ss, &b, T0);
	join(ss, &c, T0);
	join(ss, &a, T0);
	join(ss, &d, T0);
	cr_assert_eq(must_next(ss, &a, T0), 3);
	/* 3 is a's and unseen: d gets the next rarest */
	cr_assert_eq(must_next(ss, &d, T0), 2);
	/* c lacks 2 and 3: 3 is a's, unseen elsewhere; 2 is b's already
	   (showing it to d held nothing off): 2 */
	cr_assert_eq(must_next(ss, &c, T0), 2);
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	bitfield_clear(&c.has);
	bitfield_clear(&d.has);
	superseed_free(ss);
}

/* Ties are broken at random: many peers, many pieces, no duplicates. */
Test(superseed, distinct_while_possible)
{
	struct superseed	*ss = superseed_new(40, 5);
	struct tp		 p[10];
	uint64_t		 seen = 0;
	uint32_t		 i, k, piece;
	bool			 spread = false;

	for (i = 0; i < 10; i++) {
		tp_init(&p[i], 100 + i, 40);
		join(ss, &p[i], T0);
	}
	for (i = 0; i < 10; i++) {
		piece = must_next(ss, &p[i], T0);
		cr_assert_eq(seen & (1ull << piece), 0);
		seen |= 1ull << piece;
		spread |= piece >= 10;
	}
	cr_assert(spread, "ties broken at random, not lowest index first");
	/* 12 peers, 4 pieces: the first 4 distinct, then again */
	superseed_free(ss);
	ss = superseed_new(4, 6);
	seen = 0;
	for (i = 0; i < 10; i++) {
		bitfield_clear(&p[i].has);
		tp_init(&p[i], 100 + i, 4);
		join(ss, &p[i], T0);
	}
	for (i = 0; i < 4; i++)
		seen |= 1ull << must_next(ss, &p[i], T0);
	cr_assert_eq(seen, 0xf);
	for (k = 4; k < 10; k++)
		must_next(ss, &p[k], T0);
	for (i = 0; i < 10; i++)
		bitfield_clear(&p[i].has);
	superseed_free(ss);
}

/* A stuck peer is not starved: another piece after the timeout. */
Test(superseed, timeouts)
{
	struct superseed	*ss = superseed_new(16, 7);
	struct tp		 a, b;
	uint32_t		 p[SUPERSEED_OPEN], q, i;
	uint64_t		 t = T0;

	tp_init(&a, 1, 16);
	tp_init(&b, 2, 16);
	join(ss, &a, t);
	join(ss, &b, t);
	(void)must_next(ss, &b, t);
	/* a never downloads what it is shown: a new piece per timeout, up
	   to SUPERSEED_OPEN of them, each still served */
	for (i = 0; i < SUPERSEED_OPEN; i++) {
		if (i > 0) {
			if (i == 1)
				cr_assert_eq(superseed_deadline(ss),
				    t + SUPERSEED_TIMEOUT_MS);
			no_next(ss, &a, t + SUPERSEED_TIMEOUT_MS - 1);
			t += SUPERSEED_TIMEOUT_MS;
		}
		p[i] = must_next(ss, &a, t);
	}
	for (i = 0; i < SUPERSEED_OPEN; i++)
		cr_assert(superseed_revealed(ss, a.id, p[i]));
	no_next(ss, &a, t + 10 * SUPERSEED_TIMEOUT_MS);
	/* it fetched an old one: room again, the timeout runs from the
	   last reveal */
	have(ss, &a, p[0], t + 100);
	cr_assert_not(superseed_revealed(ss, a.id, p[0]));
	q = must_next(ss, &a, t + SUPERSEED_TIMEOUT_MS);
	cr_assert(superseed_revealed(ss, a.id, q));

	/* got it, but nobody takes it from a: the timeout runs from its
	   HAVE */
	t += SUPERSEED_TIMEOUT_MS;
	have(ss, &a, q, t + 5000);
	no_next(ss, &a, t + 5000 + SUPERSEED_TIMEOUT_MS - 1);
	must_next(ss, &a, t + 5000 + SUPERSEED_TIMEOUT_MS);
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	superseed_free(ss);
}

/* The timeout runs from the last block sent of the piece, not the reveal. */
Test(superseed, slow_download_is_progress)
{
	struct superseed	*ss = superseed_new(8, 11);
	struct tp		 a, b;
	uint32_t		 p, q, i;
	uint64_t		 t = T0;

	tp_init(&a, 1, 8);
	tp_init(&b, 2, 8);
	join(ss, &a, t);
	join(ss, &b, t);
	p = must_next(ss, &a, t);
	q = must_next(ss, &b, t);
	/* blocks of p keep going to a: no second piece meanwhile */
	for (i = 1; i <= 5; i++) {
		superseed_peer_served(ss, a.id, p, t + i * 10000u);
		no_next(ss, &a, t + i * 10000u + 9999);
	}
	/* a block of another piece is no progress on p */
	superseed_peer_served(ss, a.id, q, t + 59000);
	cr_assert_eq(superseed_deadline(ss), T0 + SUPERSEED_TIMEOUT_MS,
	    "b's timeout is first");
	superseed_peer_served(ss, b.id, q, t + 60000);
	cr_assert_eq(superseed_deadline(ss), t + 50000 +
	    SUPERSEED_TIMEOUT_MS);
	must_next(ss, &a, t + 50000 + SUPERSEED_TIMEOUT_MS);
	/* once it has the piece, blocks do not matter */
	superseed_peer_served(ss, b.id, q, t + 60001);
	have(ss, &b, q, t + 60002);
	superseed_peer_served(ss, b.id, q, t + 70000);
	no_next(ss, &b, t + 60002 + SUPERSEED_TIMEOUT_MS - 1);
	must_next(ss, &b, t + 60002 + SUPERSEED_TIMEOUT_MS);
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	superseed_free(ss);
}

Test(superseed, peers_leaving)
{
	struct superseed	*ss = superseed_new(2, 8);
	struct tp		 a, b, c;
	uint32_t		 pa, pb;

	tp_init(&a, 1, 2);
	tp_init(&b, 2, 2);
	tp_init(&c, 3, 2);
	join(ss, &a, T0);
	join(ss, &b, T0);
	pa = must_next(ss, &a, T0);
	pb = must_next(ss, &b, T0);
	cr_assert_neq(pa, pb);
	/* a leaves with its piece unfetched: pa is free for the newcomer */
	superseed_peer_remove(ss, a.id, &a.has);
	cr_assert_eq(superseed_npeers(ss), 1);
	cr_assert_not(superseed_revealed(ss, a.id, pa));
	join(ss, &c, T0 + 1);
	cr_assert_eq(must_next(ss, &c, T0 + 1), pa);
	/* b got pb; c lacks it: b waits; c leaves: b is alone, due */
	have(ss, &b, pb, T0 + 2);
	no_next(ss, &b, T0 + 2);
	superseed_peer_remove(ss, c.id, &c.has);
	cr_assert_eq(superseed_deadline(ss), 0);
	cr_assert_eq(must_next(ss, &b, T0 + 3), pa);
	/* availability went down with the leavers: pa counts nobody */
	superseed_peer_remove(ss, b.id, &b.has);
	cr_assert_eq(superseed_npeers(ss), 0);
	cr_assert_eq(superseed_deadline(ss), UINT64_MAX);
	superseed_peer_remove(ss, b.id, &b.has);	/* unknown: no-op */
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	bitfield_clear(&c.has);
	superseed_free(ss);
}

/* A bitfield that holds the piece shown before it came: announced. */
Test(superseed, late_bitfield)
{
	struct superseed	*ss = superseed_new(2, 9);
	struct tp		 a, b;
	uint32_t		 p;

	tp_init(&a, 1, 2);
	tp_init(&b, 2, 2);
	superseed_peer_add(ss, a.id, T0);
	join(ss, &b, T0);
	p = must_next(ss, &a, T0 + SUPERSEED_JOIN_MS);
	cr_assert_neq(must_next(ss, &b, T0 + SUPERSEED_JOIN_MS), p);
	bitfield_set(&a.has, p);
	superseed_peer_bitfield(ss, a.id, &a.has, T0 + SUPERSEED_JOIN_MS + 1);
	cr_assert_not(superseed_revealed(ss, a.id, p));
	/* b lacks p: a waits for b to take it */
	no_next(ss, &a, T0 + SUPERSEED_JOIN_MS + 1);
	have(ss, &b, p, T0 + SUPERSEED_JOIN_MS + 2);
	must_next(ss, &a, T0 + SUPERSEED_JOIN_MS + 2);
	bitfield_clear(&a.has);
	bitfield_clear(&b.has);
	superseed_free(ss);
}

/*
 * A swarm that passes every piece on at once: the seed sends each piece
 * exactly once before the swarm holds them all (the point of BEP 16).
 */
Test(superseed, swarm_uploads_each_piece_once)
{
	enum { NP = 6, NPC = 37 };
	struct superseed	*ss = superseed_new(NPC, 10);
	struct tp		 p[NP];
	struct bitfield		 uni;
	uint32_t		 i, k, j, piece, sent = 0, rounds = 0;
	uint64_t		 t = T0;

	bitfield_init(&uni, NPC);
	for (i = 0; i < NP; i++) {
		tp_init(&p[i], i, NPC);
		join(ss, &p[i], t);
	}
	while (!bitfield_full(&uni)) {
		cr_assert_lt(++rounds, 1000, "stalled");
		t += 10;
		/* the seed reveals and sends */
		for (i = 0; i < NP && !bitfield_full(&uni); i++) {
			if (!next(ss, &p[i], t, &piece))
				continue;
			have(ss, &p[i], piece, t);
			bitfield_set(&uni, piece);
			sent++;
		}
		/* each peer takes one missing piece from another */
		for (i = 0; i < NP; i++) {
			for (k = 1; k < NP; k++) {
				struct tp	*o = &p[(i + k) % NP];

				for (j = 0; j < NPC; j++) {
					if (bitfield_get(&o->has, j) &&
					    !bitfield_get(&p[i].has, j))
						break;
				}
				if (j < NPC) {
					have(ss, &p[i], j, t);
					break;
				}
			}
		}
	}
	cr_assert_eq(sent, NPC, "the seed sent %u pieces for %u", sent, NPC);
	cr_assert_lt(t - T0, (uint64_t)SUPERSEED_TIMEOUT_MS,
	    "progress came from HAVEs, not timeouts");
	for (i = 0; i < NP; i++)
		bitfield_clear(&p[i].has);
	bitfield_clear(&uni);
	superseed_free(ss);
}
