/* choke.c - unchoke slots and the optimistic unchoke, over peer rates */
#include <stdlib.h>

#include "choke.h"
#include "util.h"

#define CHOKE_NEWCOMER_MS	60000	/* connected this recently: newcomer */
#define CHOKE_NEWCOMER_WEIGHT	3	/* its odds for the optimistic slot */

/* One peer competing for a regular slot, with its sort keys. */
struct choke_rank {
	uint64_t	down;		/* it sends us (0 when seeding) */
	bool		back;		/* it unchokes us (downloading) */
	bool		done;		/* its turn is over */
	uint64_t	up;		/* we send it (0 when choked) */
	uint64_t	turn_ms;	/* its last turn began */
	uint64_t	sent;		/* we sent it, all told */
	uint64_t	lot;		/* a random draw */
	uint32_t	id;
	size_t		i;		/* index into the caller's array */
};

/*
 * The order of the regular slots, best first:
 *
 * 1. Downloading, tit-for-tat: the peers that send us the most.  When we
 *    seed every rate is 0 and the rest decides.
 * 1b. downloading, among equal rates (most often: peers that sent us
 *    nothing lately, when fewer peers give than we have slots), the ones
 *    that unchoke us: a spare slot returns an unchoke (tit-for-tat), so
 *    that a peer that never unchokes anyone (a free-rider) gets no
 *    regular slot while a peer that does wants one;
 * 2. Round robin among equals, as libtorrent's round_robin seeding choker
 *    (choker.cpp, unchoke_compare_rr): a peer whose turn is over (it got
 *    CHOKE_TURN_BYTES since we unchoked it, or held the slot CHOKE_TURN_MS)
 *    goes behind every other;
 * 3. seeding, then the peers we send to fastest (a choked one counts 0:
 *    what is in flight when it was choked does not keep it first);
 *    downloading, never: among peers that send us nothing, the one that
 *    takes the most from us (a free-rider) would win;
 * 4. then the one whose last turn began longest ago (never: first);
 * 5. equal still (turns that began at one rechoke): the one we sent the
 *    least so far, so that such a group keeps its order from round to
 *    round instead of some always jumping the queue;
 * 6. then by lot, or the same ids would always win; then id and index.
 *
 * Why round robin rather than fastest_upload when seeding: fastest_upload
 * is sticky (the peers it chokes have a rate of 0 and can only come back
 * through the optimistic slot), so a seed feeds the same few peers for as
 * long as they stay and the others wait; it also favours the peers with
 * the widest download pipe, which need not be the ones that pass pieces on.
 * Turns spread the seed's pieces over every leecher, so that each has
 * something the others want to trade for, and a peer cannot keep a slot by
 * downloading fast without giving back.  libtorrent makes it its default.
 * Unlike libtorrent, a turn also ends after CHOKE_TURN_MS whatever it got,
 * so that every interested peer gets a turn within a bounded time even
 * when the slot holders cannot download.
 */
static int
choke_rank_cmp(const void *va, const void *vb)
{
	const struct choke_rank	*a = va, *b = vb;

	if (a->down != b->down)
		return a->down > b->down ? -1 : 1;
	if (a->back != b->back)
		return a->back ? -1 : 1;
	if (a->done != b->done)
		return a->done ? 1 : -1;
	if (a->up != b->up)
		return a->up > b->up ? -1 : 1;
	if (a->turn_ms != b->turn_ms)
		return a->turn_ms < b->turn_ms ? -1 : 1;
	if (a->sent != b->sent)
		return a->sent < b->sent ? -1 : 1;
	if (a->lot != b->lot)
		return a->lot < b->lot ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/*
 * Does the peer want a slot at all?  Uninterested peers are choked (they
 * would not request anything), and so are seeds while we seed.
 */
static bool
choke_wants(const struct choke_opts *o, const struct choke_peer *c)
{
	return c->interested && !(o->seeding && c->seed);
}

static bool
choke_turn_done(const struct choke_peer *c, uint64_t now)
{
	if (!c->unchoked)
		return false;
	return c->turn_bytes >= CHOKE_TURN_BYTES ||
	    (now >= c->turn_ms && now - c->turn_ms >= CHOKE_TURN_MS);
}

static uint64_t
choke_weight(const struct choke_peer *c, uint64_t now)
{
	if (c->connected_ms <= now && now - c->connected_ms < CHOKE_NEWCOMER_MS)
		return CHOKE_NEWCOMER_WEIGHT;
	return 1;
}

/*
 * The opts->slots regular slots go to the best interested peers in the
 * order above; snubbed peers compete only for the optimistic slot when
 * anti_snub is on.  The optimistic slot stays with its peer until
 * rotate_optimistic, then goes to a random interested peer left choked,
 * newcomers weighted 3x.  Without choking every interested peer is
 * unchoked (the connection limit is the only cap).
 *
 * Until the rotation the optimistic peer keeps that slot even when its
 * rate would now earn it a regular one (it is left out of the ranking,
 * as libtorrent leaves out its optimistically unchoked peers).  Were it
 * moved to a regular slot instead, the optimistic slot would be drawn
 * again at once: a peer that gives back would hand the slot on after one
 * rechoke, a peer that never does (a free-rider) would keep it the full
 * 30 s, so the draws would come about every 15 s instead of every 30 s,
 * and more often while the free-rider is not the one holding it.  With
 * six peers that give back, four slots and a free-rider, that had the
 * free-rider unchoked in 36 % of the rechokes instead of 28 %.
 */
void
choke_decide(const struct choke_opts *o, const struct choke_peer *peers,
    size_t n, bool rotate_optimistic, uint64_t now, struct prng *prng,
    bool *unchoke, bool *optimistic)
{
	struct choke_rank	*r;
	size_t			 i, nr = 0, cur = SIZE_MAX, pick = SIZE_MAX;
	uint64_t		 total = 0, x, w;
	bool			 keep;

	for (i = 0; i < n; i++)
		unchoke[i] = optimistic[i] = false;
	if (n == 0)
		return;
	if (!o->choking) {
		for (i = 0; i < n; i++)
			unchoke[i] = choke_wants(o, &peers[i]);
		return;
	}

	/* The current optimistic peer, if it still wants a slot. */
	for (i = 0; o->optimistic && i < n && cur == SIZE_MAX; i++) {
		if (peers[i].optimistic && choke_wants(o, &peers[i]))
			cur = i;
	}
	keep = cur != SIZE_MAX && !rotate_optimistic;

	r = xcalloc(n, sizeof(*r));
	for (i = 0; i < n; i++) {
		const struct choke_peer	*c = &peers[i];

		if (!choke_wants(o, c) || (o->anti_snub && c->snubbed) ||
		    (keep && i == cur))
			continue;
		r[nr++] = (struct choke_rank){
			.down = o->seeding ? 0 : c->down_rate,
			.back = !o->seeding && c->unchokes_us,
			.done = choke_turn_done(c, now),
			.up = o->seeding && c->unchoked ? c->up_rate : 0,
			.turn_ms = c->turn_ms,
			.sent = c->uploaded,
			.lot = prng_next(prng),
			.id = c->id,
			.i = i,
		};
	}
	qsort(r, nr, sizeof(*r), choke_rank_cmp);
	for (i = 0; i < nr && i < o->slots; i++)
		unchoke[r[i].i] = true;
	free(r);
	if (!o->optimistic)
		return;

	if (keep) {
		unchoke[cur] = optimistic[cur] = true;
		return;
	}

	/* A weighted draw among the others left choked. */
	for (i = 0; i < n; i++) {
		if (choke_wants(o, &peers[i]) && !unchoke[i] && i != cur)
			total += choke_weight(&peers[i], now);
	}
	if (total > 0) {
		x = prng_below(prng, total);
		for (i = 0; i < n && pick == SIZE_MAX; i++) {
			if (!choke_wants(o, &peers[i]) || unchoke[i] ||
			    i == cur)
				continue;
			w = choke_weight(&peers[i], now);
			if (x < w)
				pick = i;
			else
				x -= w;
		}
	} else if (cur != SIZE_MAX && !unchoke[cur])
		pick = cur;			/* nobody else: it stays */
	if (pick != SIZE_MAX)
		unchoke[pick] = optimistic[pick] = true;
}

/* floor(sqrt(x)), by Newton's method on integers. */
static uint64_t
isqrt(uint64_t x)
{
	uint64_t	r, y;

	if (x < 2)
		return x;
	r = x;
	y = (r + 1) / 2;
	while (y < r) {
		r = y;
		y = (r + x / r) / 2;
	}
	return r;
}

/*
 * BitTorrent 4's "max_uploads" when left to the upload rate (KiB/s):
 *
 *	rate < 9: 2, < 15: 3, < 42: 4, else int(sqrt(rate * 0.6))
 *
 * so that each slot gets a useful share (at 42 KiB/s, 5 slots of 8 KiB/s).
 * int(sqrt(x)) = isqrt(floor(x)), and rate * 0.6 = bytes * 3 / 5120.  The
 * formula grows without bound (24 slots at 1 MiB/s); the cap keeps slots
 * fewer than the peers of a small swarm, or tit-for-tat would unchoke
 * everyone and stop meaning anything.
 */
uint32_t
choke_auto_slots(uint64_t max_up_rate)
{
	uint64_t	s;

	if (max_up_rate == 0)
		return CHOKE_DEFAULT_SLOTS;
	if (max_up_rate < 9 * 1024)
		return 2;
	if (max_up_rate < 15 * 1024)
		return 3;
	if (max_up_rate < 42 * 1024)
		return 4;
	s = isqrt(max_up_rate / 5120 * 3 + max_up_rate % 5120 * 3 / 5120);
	return (uint32_t)MIN(s, CHOKE_MAX_AUTO_SLOTS);
}
