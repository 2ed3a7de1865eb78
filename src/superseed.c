/* superseed.c - super-seeding (BEP 16): which piece to reveal to whom */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "crypto.h"
#include "superseed.h"
#include "util.h"

#define SS_NONE		UINT32_MAX

/* One peer we super-seed to. */
struct ss_peer {
	uint32_t	id;		/* the caller's */
	uint32_t	cur;		/* piece last revealed, or SS_NONE */
	uint32_t	open[SUPERSEED_OPEN];	/* revealed, not announced by
						   the peer (cur among them
						   until it announces it) */
	uint32_t	nopen;
	uint64_t	since;		/* joined, cur revealed, served or
					   announced: the timeouts run from
					   here */
	uint64_t	retry;		/* nothing left to reveal: not before */
	bool		known;		/* its bitfield (or a HAVE) came */
	bool		got;		/* it announced cur */
	bool		spread;		/* cur seen elsewhere since revealed */
	bool		pending;	/* cur counts in pend[] */
};

struct superseed {
	uint32_t	 npieces;
	uint32_t	*avail;		/* peers announcing each piece */
	uint32_t	*pend;		/* peers it was revealed to, unseen
					   elsewhere yet */
	struct ss_peer	*peers;
	size_t		 n, cap;
	struct prng	 rng;		/* tie-breaks */
};

struct superseed *
superseed_new(uint32_t npieces, uint64_t seed)
{
	struct superseed	*ss;

	ss = xcalloc(1, sizeof(*ss));
	ss->npieces = npieces;
	ss->avail = xcalloc(MAX(npieces, 1), sizeof(*ss->avail));
	ss->pend = xcalloc(MAX(npieces, 1), sizeof(*ss->pend));
	prng_seed(&ss->rng, seed);
	return ss;
}

void
superseed_free(struct superseed *ss)
{
	if (ss == NULL)
		return;
	free(ss->avail);
	free(ss->pend);
	free(ss->peers);
	free(ss);
}

static struct ss_peer *
ss_find(const struct superseed *ss, uint32_t id)
{
	size_t	i;

	for (i = 0; i < ss->n; i++) {
		if (ss->peers[i].id == id)
			return &ss->peers[i];
	}
	return NULL;
}

static bool
ss_is_open(const struct ss_peer *p, uint32_t piece)
{
	uint32_t	i;

	for (i = 0; i < p->nopen; i++) {
		if (p->open[i] == piece)
			return true;
	}
	return false;
}

static void
ss_open_del(struct ss_peer *p, uint32_t piece)
{
	uint32_t	i;

	for (i = 0; i < p->nopen; i++) {
		if (p->open[i] == piece) {
			p->open[i] = p->open[--p->nopen];
			return;
		}
	}
}

/* p's piece no longer holds others off it. */
static void
ss_release(struct superseed *ss, struct ss_peer *p)
{
	if (!p->pending)
		return;
	assert(ss->pend[p->cur] > 0);
	ss->pend[p->cur]--;
	p->pending = false;
}

/* Another peer than p announced p's piece: it spread. */
static void
ss_spread(struct superseed *ss, struct ss_peer *p)
{
	p->spread = true;
	ss_release(ss, p);
}

/* p announced piece (counted in avail already). */
static void
ss_own(struct ss_peer *p, uint32_t piece, uint64_t now)
{
	ss_open_del(p, piece);
	if (p->cur == piece && !p->got) {
		p->got = true;
		p->since = now;
	}
}

void
superseed_peer_add(struct superseed *ss, uint32_t id, uint64_t now)
{
	struct ss_peer	*p;

	if (ss_find(ss, id) != NULL)
		return;
	if (ss->n == ss->cap) {
		ss->cap = ss->cap < 8 ? 8 : 2 * ss->cap;
		ss->peers = xreallocarray(ss->peers, ss->cap,
		    sizeof(*ss->peers));
	}
	p = &ss->peers[ss->n++];
	*p = (struct ss_peer){ .id = id, .cur = SS_NONE, .since = now };
}

void
superseed_peer_bitfield(struct superseed *ss, uint32_t id,
    const struct bitfield *has, uint64_t now)
{
	struct ss_peer	*p = ss_find(ss, id), *q;
	uint32_t	 i;
	size_t		 k;

	if (p == NULL)
		return;
	assert(has->n == ss->npieces);
	p->known = true;
	for (i = bitfield_next_set(has, 0); i < has->n;
	    i = bitfield_next_set(has, i + 1))
		ss->avail[i]++;
	for (k = p->nopen; k-- > 0;) {
		if (bitfield_get(has, p->open[k]))
			ss_own(p, p->open[k], now);
	}
	for (k = 0; k < ss->n; k++) {
		q = &ss->peers[k];
		if (q != p && q->cur != SS_NONE && bitfield_get(has, q->cur))
			ss_spread(ss, q);
	}
}

void
superseed_peer_have(struct superseed *ss, uint32_t id, uint32_t piece,
    uint64_t now)
{
	struct ss_peer	*p = ss_find(ss, id), *q;
	size_t		 k;

	if (p == NULL || piece >= ss->npieces)
		return;
	p->known = true;
	ss->avail[piece]++;
	ss_own(p, piece, now);
	for (k = 0; k < ss->n; k++) {
		q = &ss->peers[k];
		if (q != p && q->cur == piece)
			ss_spread(ss, q);
	}
}

void
superseed_peer_served(struct superseed *ss, uint32_t id, uint32_t piece,
    uint64_t now)
{
	struct ss_peer	*p = ss_find(ss, id);

	if (p != NULL && p->cur == piece && !p->got && now > p->since)
		p->since = now;
}

void
superseed_peer_remove(struct superseed *ss, uint32_t id,
    const struct bitfield *has)
{
	struct ss_peer	*p = ss_find(ss, id);
	uint32_t	 i;

	if (p == NULL)
		return;
	assert(has->n == ss->npieces);
	for (i = bitfield_next_set(has, 0); i < has->n;
	    i = bitfield_next_set(has, i + 1)) {
		if (ss->avail[i] > 0)
			ss->avail[i]--;
	}
	ss_release(ss, p);
	*p = ss->peers[--ss->n];
}

size_t
superseed_npeers(const struct superseed *ss)
{
	return ss->n;
}

/* When p is due for a new piece (0: at once), UINT64_MAX: not by time. */
static uint64_t
ss_due_at(const struct superseed *ss, const struct ss_peer *p)
{
	uint64_t	t;

	if (p->cur == SS_NONE)
		t = p->known ? 0 : p->since + SUPERSEED_JOIN_MS;
	else if (p->nopen >= SUPERSEED_OPEN)
		return UINT64_MAX;	/* it fetches none of them */
	else if (p->got && (p->spread || ss->avail[p->cur] >= ss->n))
		t = 0;			/* seen elsewhere, or nobody else
					   lacks it */
	else
		t = p->since + SUPERSEED_TIMEOUT_MS;
	return MAX(t, p->retry);
}

/*
 * The rarest piece p lacks and was not revealed to it: pieces revealed to
 * others and not seen elsewhere yet come last, then fewest holders, ties
 * at random.  SS_NONE if there is none.
 */
static uint32_t
ss_choose(struct superseed *ss, const struct ss_peer *p,
    const struct bitfield *has)
{
	uint64_t	key, best_key = UINT64_MAX, ties = 0;
	uint32_t	i, best = SS_NONE;

	for (i = 0; i < ss->npieces; i++) {
		if (bitfield_bit_get(has->bits, i) || ss_is_open(p, i))
			continue;
		key = (uint64_t)(ss->pend[i] > 0) << 32 | ss->avail[i];
		if (key < best_key) {
			best_key = key;
			best = i;
			ties = 1;
		} else if (key == best_key &&
		    prng_below(&ss->rng, ++ties) == 0)
			best = i;
	}
	return best;
}

bool
superseed_next(struct superseed *ss, uint32_t id, const struct bitfield *has,
    uint64_t now, uint32_t *piece)
{
	struct ss_peer	*p = ss_find(ss, id);
	uint32_t	 c;

	if (p == NULL || ss_due_at(ss, p) > now)
		return false;
	assert(has->n == ss->npieces);
	if ((c = ss_choose(ss, p, has)) == SS_NONE) {
		p->retry = now + SUPERSEED_TIMEOUT_MS;
		return false;
	}
	ss_release(ss, p);
	assert(p->nopen < SUPERSEED_OPEN);
	p->open[p->nopen++] = c;
	p->cur = c;
	p->got = false;
	p->since = now;
	p->retry = 0;
	/* Already elsewhere (late in the swarm): its own HAVE will do. */
	p->spread = ss->avail[c] > 0;
	if (!p->spread) {
		ss->pend[c]++;
		p->pending = true;
	}
	*piece = c;
	return true;
}

bool
superseed_revealed(const struct superseed *ss, uint32_t id, uint32_t piece)
{
	const struct ss_peer	*p = ss_find(ss, id);

	return p != NULL && ss_is_open(p, piece);
}

uint64_t
superseed_deadline(const struct superseed *ss)
{
	uint64_t	t = UINT64_MAX;
	size_t		i;

	for (i = 0; i < ss->n; i++)
		t = MIN(t, ss_due_at(ss, &ss->peers[i]));
	return t;
}
