/* spread.c - a seed's suggestions of the pieces no peer has yet (BEP 6) */
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "crypto.h"
#include "picker.h"
#include "spread.h"
#include "util.h"

struct spread {
	uint32_t	 npieces;
	uint64_t	*claim;		/* per piece: left alone until */
	uint32_t	*owner;		/* ... for this peer's id */
	uint32_t	 cursor;	/* the scan starts here */
	uint64_t	 dry_until;	/* no piece for anyone: not before */
};

struct spread *
spread_new(uint32_t npieces, uint64_t seed)
{
	struct spread	*s;
	struct prng	 rng;

	s = xcalloc(1, sizeof(*s));
	s->npieces = npieces;
	s->claim = xcalloc(MAX(npieces, 1), sizeof(*s->claim));
	s->owner = xcalloc(MAX(npieces, 1), sizeof(*s->owner));
	prng_seed(&rng, seed);
	s->cursor = npieces > 0 ? (uint32_t)prng_below(&rng, npieces) : 0;
	return s;
}

void
spread_free(struct spread *s)
{
	if (s == NULL)
		return;
	free(s->claim);
	free(s->owner);
	free(s);
}

/* Claims piece for peer id (0: nobody in particular). */
static void
claim(struct spread *s, uint32_t piece, uint32_t id, uint64_t now)
{
	if (piece >= s->npieces)
		return;
	s->claim[piece] = now + SPREAD_CLAIM_MS;
	s->owner[piece] = id;
}

static bool
claimed_by_other(const struct spread *s, uint32_t piece, uint32_t id,
    uint64_t now)
{
	return piece < s->npieces && s->claim[piece] > now &&
	    s->owner[piece] != id;
}

/* Drops open entry i of the peer's, keeping the order. */
static void
drop(struct spread_peer *sp, size_t i)
{
	sp->n--;
	memmove(sp->piece + i, sp->piece + i + 1,
	    (sp->n - i) * sizeof(*sp->piece));
	memmove(sp->at + i, sp->at + i + 1, (sp->n - i) * sizeof(*sp->at));
}

void
spread_requested(struct spread *s, struct spread_peer *sp, uint32_t piece,
    uint64_t now)
{
	size_t	i;

	if (!claimed_by_other(s, piece, sp->id, now))
		claim(s, piece, sp->id, now);
	for (i = 0; i < sp->n; i++) {
		if (sp->piece[i] == piece) {
			drop(sp, i);
			return;
		}
	}
}

uint32_t
spread_next(struct spread *s, struct spread_peer *sp,
    const struct bitfield *peer_has, const struct picker *pk, size_t ahead,
    uint64_t now)
{
	uint32_t	k, piece;
	size_t		i;
	bool		mine = false;	/* some piece failed for it alone */

	for (i = 0; i < sp->n; ) {
		if (bitfield_get(peer_has, sp->piece[i]) ||
		    now - sp->at[i] >= SPREAD_CLAIM_MS)
			drop(sp, i);
		else
			i++;
	}
	ahead = MIN(MAX(ahead, SPREAD_AHEAD_MIN), SPREAD_AHEAD_MAX);
	if (sp->n >= ahead || s->npieces == 0 || now < s->dry_until ||
	    now < sp->dry_until)
		return UINT32_MAX;
	for (k = 0; k < s->npieces; k++) {
		piece = s->cursor + k;
		if (piece >= s->npieces)
			piece -= s->npieces;
		if (picker_availability(pk, piece) != 0 ||
		    s->claim[piece] > now)
			continue;
		if (bitfield_get(peer_has, piece)) {
			mine = true;
			continue;
		}
		s->cursor = piece + 1 < s->npieces ? piece + 1 : 0;
		return piece;
	}
	if (mine)
		sp->dry_until = now + SPREAD_DRY_MS;
	else
		s->dry_until = now + SPREAD_DRY_MS;
	return UINT32_MAX;
}

void
spread_opened(struct spread *s, struct spread_peer *sp, uint32_t piece,
    uint64_t now)
{
	claim(s, piece, sp->id, now);
	if (sp->n < SPREAD_AHEAD_MAX) {
		sp->piece[sp->n] = piece;
		sp->at[sp->n] = now;
		sp->n++;
	}
}

void
spread_skip(struct spread *s, uint32_t piece, uint64_t now)
{
	claim(s, piece, 0, now);
}

bool
spread_refuse(struct spread *s, struct spread_peer *sp,
    const struct picker *pk, uint32_t piece, bool choked, uint64_t now)
{
	size_t	i;

	if ((sp->n == 0 && !choked) || !claimed_by_other(s, piece, sp->id, now) ||
	    s->owner[piece] == 0 || picker_availability(pk, piece) != 0)
		return false;
	for (i = 0; i < sp->nrefused; i++) {
		if (sp->refused[i] == piece)
			return false;
	}
	sp->refused[sp->refused_pos] = piece;
	sp->refused_pos = (sp->refused_pos + 1) % SPREAD_REFUSED_MAX;
	if (sp->nrefused < SPREAD_REFUSED_MAX)
		sp->nrefused++;
	return true;
}
