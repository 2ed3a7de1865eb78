/* choke.c - unchoke slots and the optimistic unchoke, over peer rates */
#include <stdlib.h>

#include "choke.h"
#include "util.h"

#define CHOKE_NEWCOMER_MS	60000	/* connected this recently: newcomer */
#define CHOKE_NEWCOMER_WEIGHT	3	/* its odds for the optimistic slot */

struct choke_rank {
	uint64_t	rate;
	uint32_t	id;
	size_t		i;		/* index into the caller's array */
};

/* Fastest first; equal rates by id, then by index: deterministic. */
static int
choke_rank_cmp(const void *va, const void *vb)
{
	const struct choke_rank	*a = va, *b = vb;

	if (a->rate != b->rate)
		return a->rate > b->rate ? -1 : 1;
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

static uint64_t
choke_weight(const struct choke_peer *c, uint64_t now)
{
	if (c->connected_ms <= now && now - c->connected_ms < CHOKE_NEWCOMER_MS)
		return CHOKE_NEWCOMER_WEIGHT;
	return 1;
}

/*
 * The reference choker: the opts->slots fastest interested peers (by the
 * rate they send to us, or we send to them when seeding) are unchoked;
 * snubbed peers compete only for the optimistic slot when anti_snub is on.
 * The optimistic slot stays with its peer until rotate_optimistic, then
 * goes to a random interested peer left choked, newcomers weighted 3x.
 */
void
choke_decide(const struct choke_opts *o, const struct choke_peer *peers,
    size_t n, bool rotate_optimistic, uint64_t now, struct prng *prng,
    bool *unchoke, bool *optimistic)
{
	struct choke_rank	*r;
	size_t			 i, nr = 0, cur = SIZE_MAX, pick = SIZE_MAX;
	uint64_t		 total = 0, x, w;

	for (i = 0; i < n; i++)
		unchoke[i] = optimistic[i] = false;
	if (n == 0)
		return;

	r = xcalloc(n, sizeof(*r));
	for (i = 0; i < n; i++) {
		const struct choke_peer	*c = &peers[i];

		if (!choke_wants(o, c) || (o->anti_snub && c->snubbed))
			continue;
		r[nr++] = (struct choke_rank){
			.rate = o->seeding ? c->up_rate : c->down_rate,
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

	/* The current optimistic peer, if it still needs the slot. */
	for (i = 0; i < n && cur == SIZE_MAX; i++) {
		if (peers[i].optimistic && choke_wants(o, &peers[i]) &&
		    !unchoke[i])
			cur = i;
	}
	if (cur != SIZE_MAX && !rotate_optimistic) {
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
	} else
		pick = cur;			/* nobody else: it stays */
	if (pick != SIZE_MAX)
		unchoke[pick] = optimistic[pick] = true;
}
