/* picker.c - block states, rarest-first with random tie-break, end-game */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "crypto.h"
#include "picker.h"
#include "util.h"
#include "wire.h"		/* WIRE_BLOCK alone: nothing is linked */

/* Bytes per block: the one definition is WIRE_BLOCK. */
#define PICKER_BLOCK		((uint32_t)WIRE_BLOCK)
/* Refused by picker_new; at least MI_MAX_PIECES. */
#define PICKER_MAX_PIECES	(1u << 24)
/* Order positions the rarest-first walk visits before it scans the peer. */
#define PICKER_WALK_BUDGET	4096u
/* Random probes for a random-first piece before a scan from a random spot. */
#define PICKER_RANDOM_PROBES	16
/* Pieces the peer scan collects per pass. */
#define PICKER_SCAN_BATCH	64
/*
 * End-game duplicates go to a peer only while it has fewer requests than
 * this outstanding.  A peer that runs dry helps finish what the others
 * hold, but cannot ask again for everything still on its way from them
 * (pipelines are up to PEER_MAX_QUEUE deep): each duplicate ends in a
 * cancel and, often, a block received twice.
 */
#define PICKER_END_GAME_QUEUE	32

/* Order segments: segment s holds the candidates of priority MAX - s. */
#define PICKER_NSEG		PICKER_PRIO_MAX

/* Per block of a piece in progress: received flag and requester count. */
#define BLK_RECV		0x80000000u
#define BLK_REQ_MASK		0x7fffffffu

/* --bbs-plus: a piece in progress whose blocks may be duplicated. */
struct bbs_cand {
	uint32_t	avail;		/* its availability */
	uint32_t	idx;		/* in the dl list */
};

/*
 * A piece in progress: some block requested or received.  An entry whose
 * blocks are all missing again is freed, so the list stays as short as the
 * pieces actually in flight.
 */
struct dl {
	uint32_t	piece;
	uint32_t	nblocks;
	uint32_t	nreq;		/* blocks requested, not received */
	uint32_t	nrecv;		/* blocks received */
	bool		full;		/* nreq + nrecv == nblocks */
	uint32_t	stamp;		/* picker_next call that tried it */
	uint32_t	blk[];		/* BLK_RECV | requesters */
};

/*
 * Pieces we want (priority above 0) and do not have ("candidates") sit in
 * order[0 .. ncand) sorted by priority, highest first, then availability:
 * segment s (priority PICKER_PRIO_MAX - s) holds nlev buckets, and bucket
 * b = s * nlev + a (availability a) is order[bstart[b] .. bstart[b + 1]),
 * bstart[0] = 0 and bstart[PICKER_NSEG * nlev] = ncand.  Within a bucket
 * the order is random: shuffled at the start, and a piece moving into a
 * bucket swaps with a random member of it.  The other pieces (we have them
 * or priority 0: set in unwanted) follow in order[ncand .. npieces), in no
 * order; their availability is still counted.  pos[] is the inverse of
 * order[].  While every priority is the default (prio == NULL) only the
 * segment of PICKER_PRIO_NORMAL is used.
 *
 * An availability change of a candidate swaps it with the edge of its
 * bucket and moves the boundary: O(1).  Taking a piece out of the
 * candidates (we got it, or it is not wanted) walks it through the buckets
 * above, putting it back walks it down: O(segments x levels).
 *
 * Pieces in progress stay among the candidates, marked in started and
 * found through a small open-addressing hash of the dl list.
 */
struct picker {
	uint32_t		 npieces;
	uint32_t		 piece_length;
	uint32_t		 last_size;
	struct picker_opts	 opts;
	struct prng		 rng;

	uint32_t		*avail;		/* per piece */
	uint32_t		*pos;		/* per piece: index in order */
	uint32_t		*order;
	uint32_t		*bstart;	/* NSEG * nlev + 1 boundaries */
	uint32_t		 nlev;		/* availability levels */

	struct bitfield		 have;		/* verified */
	struct bitfield		 unwanted;	/* have, or priority 0 */
	struct bitfield		 started;	/* has a dl entry */
	uint32_t		 nhave;
	uint32_t		 cursor;	/* in-order mode: first piece */

	uint8_t			*prio;		/* per piece; NULL: all 4 */
	/* With prio: the pieces of priority i (1 ..), made when first used. */
	struct bitfield		 lvl[PICKER_PRIO_MAX + 1];
	uint32_t		 nwant;		/* pieces of priority above 0 */
	uint32_t		 nwant_have;	/* of those, verified */
	uint32_t		 ndl_skip;	/* dl entries of priority 0 */
	uint32_t		 nfull_skip;	/* of those, fully requested */
	bool			 sequential;
	uint32_t		 seq_from;	/* pieces below: all unwanted */

	struct dl		**dl;
	uint32_t		 ndl;
	uint32_t		 dlcap;
	uint32_t		 nfull;		/* dl entries fully requested */
	uint32_t		 stamp;		/* picker_next calls */
	uint32_t		*hash;		/* dl index + 1; 0 empty */
	uint32_t		 hmask;		/* hash size - 1 */

	uint64_t		*seen;		/* end-game: blocks to skip */
	size_t			 seencap;	/* entries, a power of 2 */

	struct bbs_cand		*bbs;		/* bbs_plus: pieces to copy */
	uint32_t		 bbscap;
};

/* Geometry. */

static uint32_t
piece_size(const struct picker *p, uint32_t piece)
{
	return piece == p->npieces - 1 ? p->last_size : p->piece_length;
}

static uint32_t
piece_nblocks(const struct picker *p, uint32_t piece)
{
	uint32_t	sz = piece_size(p, piece);

	return sz / PICKER_BLOCK + (sz % PICKER_BLOCK != 0);
}

static uint32_t
block_length(const struct picker *p, uint32_t piece, uint32_t i)
{
	uint32_t	sz = piece_size(p, piece);

	return MIN(PICKER_BLOCK, sz - i * PICKER_BLOCK);
}

/* The block index of r, or UINT32_MAX if r is not exactly one block. */
static uint32_t
block_index(const struct picker *p, const struct block_req *r)
{
	uint32_t	i;

	if (r->piece >= p->npieces || r->offset % PICKER_BLOCK != 0)
		return UINT32_MAX;
	i = r->offset / PICKER_BLOCK;
	if (i >= piece_nblocks(p, r->piece) ||
	    r->length != block_length(p, r->piece, i))
		return UINT32_MAX;
	return i;
}

static bool
peer_ok(const struct picker *p, const struct bitfield *b)
{
	return b != NULL && b->n == p->npieces && b->bits != NULL;
}

/* Priorities. */

static uint8_t
prio_of(const struct picker *p, uint32_t piece)
{
	return p->prio == NULL ? PICKER_PRIO_NORMAL : p->prio[piece];
}

static bool
skipped(const struct picker *p, uint32_t piece)
{
	return p->prio != NULL && p->prio[piece] == PICKER_PRIO_SKIP;
}

/* The segment of a candidate. */
static uint32_t
seg_of(const struct picker *p, uint32_t piece)
{
	return PICKER_PRIO_MAX - prio_of(p, piece);
}

/* The bucket of availability a in segment s; PICKER_NSEG * nlev: after. */
static uint32_t
bucket(const struct picker *p, uint32_t s, uint32_t a)
{
	return s * p->nlev + a;
}

static uint32_t
bucket_of(const struct picker *p, uint32_t piece)
{
	return bucket(p, seg_of(p, piece), p->avail[piece]);
}

static bool
seg_empty(const struct picker *p, uint32_t s)
{
	return p->bstart[bucket(p, s, 0)] == p->bstart[bucket(p, s + 1, 0)];
}

/* How many segments hold candidates. */
static uint32_t
segs_used(const struct picker *p)
{
	uint32_t	s, n = 0;

	for (s = 0; s < PICKER_NSEG; s++)
		n += !seg_empty(p, s);
	return n;
}

/* The last bytes k .. len - 1 (fewer than 8) of a bitfield, zero-padded. */
static uint64_t
chunk_tail_be64(const uint8_t *bits, size_t k, size_t len)
{
	uint8_t	tmp[8] = { 0 };

	memcpy(tmp, bits + k, len - k);
	return load_be64(tmp);
}

/*
 * Bytes k .. k + 7 of a bitfield of len bytes, zero-padded, as a word.
 * Small, to be inlined in the scans: the tail case is apart.
 */
static inline uint64_t
chunk_be64(const uint8_t *bits, size_t k, size_t len)
{
	if (len - k >= 8)
		return load_be64(bits + k);
	return chunk_tail_be64(bits, k, len);
}

/*
 * Up to cap pieces at or after *from, in index order, that the peer has,
 * that we want (priority above 0, and only those set in only unless it is
 * NULL), do not have, and (if skip_started) have not started; *from moves
 * past the last one returned (to npieces at the end).  Zero words are
 * skipped eight bytes at a time: O(npieces / 64 + pieces returned).
 */
static uint32_t
collect_wanted(const struct picker *p, const struct bitfield *peer,
    const uint8_t *only, bool skip_started, uint32_t *from, uint32_t *idx,
    uint32_t cap)
{
	size_t		k, len = bitfield_nbytes(peer);
	uint64_t	w, mask;
	uint32_t	n = 0, bit, i;

	if (*from >= p->npieces) {
		*from = p->npieces;
		return 0;
	}
	k = (size_t)(*from / 64) * 8;
	mask = UINT64_MAX >> (*from % 64);
	for (; k < len; k += 8, mask = UINT64_MAX) {
		w = chunk_be64(peer->bits, k, len) &
		    ~chunk_be64(p->unwanted.bits, k, len);
		if (only != NULL && w != 0)
			w &= chunk_be64(only, k, len);
		if (skip_started && w != 0)
			w &= ~chunk_be64(p->started.bits, k, len);
		/* Bit 63 of w is the first piece of the chunk. */
		for (w &= mask; w != 0; w &= ~(UINT64_C(1) << (63 - bit))) {
			bit = (uint32_t)__builtin_clzll(w);
			i = (uint32_t)(k * 8) + bit;
			if (n == cap) {
				*from = i;
				return n;
			}
			idx[n++] = i;
		}
	}
	*from = p->npieces;
	return n;
}

/* The first wanted piece at or after i (see above), or npieces. */
static uint32_t
scan_wanted(const struct picker *p, const struct bitfield *peer,
    const uint8_t *only, uint32_t i, bool skip_started)
{
	uint32_t	piece;

	if (collect_wanted(p, peer, only, skip_started, &i, &piece, 1) == 0)
		return p->npieces;
	return piece;
}

/* Uniform in [0, n), n > 0, without a division in the common case. */
static uint32_t
rand_below(struct prng *r, uint32_t n)
{
	uint64_t	m = (prng_next(r) >> 32) * n;
	uint32_t	t;

	if ((uint32_t)m < n) {
		t = (uint32_t)-n % n;
		while ((uint32_t)m < t)
			m = (prng_next(r) >> 32) * n;
	}
	return (uint32_t)(m >> 32);
}

/* The availability order. */

static void
order_swap(struct picker *p, uint32_t i, uint32_t j)
{
	uint32_t	a = p->order[i], b = p->order[j];

	p->order[i] = b;
	p->order[j] = a;
	p->pos[b] = i;
	p->pos[a] = j;
}

/* Swaps the piece at i with a random member of bucket b. */
static void
order_mix(struct picker *p, uint32_t i, uint32_t b)
{
	uint32_t	lo = p->bstart[b], n = p->bstart[b + 1] - lo;

	if (n > 1)
		order_swap(p, i, lo + rand_below(&p->rng, n));
}

/*
 * Rebuilds the boundaries for nlev levels, bucket (s, a) taking the pieces
 * of the old bucket (s, a - shift): shift 0 adds an empty level on top,
 * 1 moves every bucket up one (a seed came), -1 down one (a seed left and
 * every bucket 0 is empty).  O(segments x levels).
 */
static void
buckets_relayout(struct picker *p, uint32_t nlev, int shift)
{
	uint32_t	*nb, on = p->nlev, s, a;
	int64_t		 oa;

	nb = xcalloc((size_t)PICKER_NSEG * nlev + 1, sizeof(*nb));
	for (s = 0; s < PICKER_NSEG; s++) {
		for (a = 0; a < nlev; a++) {
			oa = (int64_t)a - shift;
			if (oa < 0)		/* the segment's start */
				nb[s * nlev + a] = p->bstart[s * on];
			else if (oa >= on)	/* its end */
				nb[s * nlev + a] = p->bstart[(s + 1) * on];
			else
				nb[s * nlev + a] = p->bstart[s * on + oa];
		}
	}
	nb[PICKER_NSEG * nlev] = p->bstart[PICKER_NSEG * on];
	free(p->bstart);
	p->bstart = nb;
	p->nlev = nlev;
}

static void
avail_inc(struct picker *p, uint32_t piece)
{
	uint32_t	a = p->avail[piece], b, last;

	if (a == UINT32_MAX)
		return;
	p->avail[piece] = a + 1;
	if (bitfield_bit_get(p->unwanted.bits, piece))
		return;
	if (a + 1 == p->nlev)
		buckets_relayout(p, p->nlev + 1, 0);
	b = bucket(p, seg_of(p, piece), a);
	last = p->bstart[b + 1] - 1;
	order_swap(p, p->pos[piece], last);
	p->bstart[b + 1]--;		/* piece is first of bucket b + 1 */
	order_mix(p, last, b + 1);
}

static void
avail_dec(struct picker *p, uint32_t piece)
{
	uint32_t	a = p->avail[piece], b, first;

	if (a == 0)
		return;			/* a peer removed twice: ignore */
	p->avail[piece] = a - 1;
	if (bitfield_bit_get(p->unwanted.bits, piece))
		return;
	b = bucket(p, seg_of(p, piece), a);
	first = p->bstart[b];
	order_swap(p, p->pos[piece], first);
	p->bstart[b]++;			/* piece is last of bucket b - 1 */
	order_mix(p, first, b - 1);
}

/*
 * Moves a piece from bucket from to bucket to (PICKER_NSEG * nlev: behind
 * every bucket), swapping it over each boundary between: O(|to - from|).
 * It lands at the edge of its new bucket.
 */
static void
order_move(struct picker *p, uint32_t piece, uint32_t from, uint32_t to)
{
	uint32_t	b, i = p->pos[piece], j;

	for (b = from; b < to; b++) {
		j = p->bstart[b + 1] - 1;	/* last of bucket b */
		order_swap(p, i, j);
		p->bstart[b + 1]--;
		i = j;
	}
	for (b = from; b > to; b--) {
		j = p->bstart[b];		/* first of bucket b */
		order_swap(p, i, j);
		p->bstart[b]++;
		i = j;
	}
}

/* Takes a candidate out (we have it or do not want it). */
static void
order_remove(struct picker *p, uint32_t piece)
{
	order_move(p, piece, bucket_of(p, piece), bucket(p, PICKER_NSEG, 0));
}

/* Puts a piece back among the candidates, by its priority. */
static void
order_insert(struct picker *p, uint32_t piece)
{
	uint32_t	b;

	/* Out of the order, its availability may pass the levels. */
	if (p->avail[piece] >= p->nlev)
		buckets_relayout(p, p->avail[piece] + 1, 0);
	b = bucket_of(p, piece);
	order_move(p, piece, bucket(p, PICKER_NSEG, 0), b);
	order_mix(p, p->pos[piece], b);
}

/* The list of pieces in progress. */

static uint32_t
hash_slot(const struct picker *p, uint32_t piece)
{
	uint32_t	h = piece * 0x9e3779b1u;

	return (h ^ h >> 16) & p->hmask;
}

static uint32_t
dl_find_index(const struct picker *p, uint32_t piece)
{
	uint32_t	h, v;

	if (!bitfield_bit_get(p->started.bits, piece))
		return UINT32_MAX;
	for (h = hash_slot(p, piece); (v = p->hash[h]) != 0;
	    h = (h + 1) & p->hmask) {
		if (p->dl[v - 1]->piece == piece)
			return v - 1;
	}
	return UINT32_MAX;
}

static struct dl *
dl_find(const struct picker *p, uint32_t piece)
{
	uint32_t	i = dl_find_index(p, piece);

	return i == UINT32_MAX ? NULL : p->dl[i];
}

static void
hash_put(struct picker *p, uint32_t piece, uint32_t idx)
{
	uint32_t	h;

	for (h = hash_slot(p, piece); p->hash[h] != 0; h = (h + 1) & p->hmask)
		;
	p->hash[h] = idx + 1;
}

static void
hash_rebuild(struct picker *p, uint32_t size)
{
	uint32_t	i;

	free(p->hash);
	p->hash = xcalloc(size, sizeof(*p->hash));
	p->hmask = size - 1;
	for (i = 0; i < p->ndl; i++)
		hash_put(p, p->dl[i]->piece, i);
}

/* Finds the hash slot holding dl index idx (which must be there). */
static uint32_t
hash_slot_of(const struct picker *p, uint32_t idx)
{
	uint32_t	h;

	for (h = hash_slot(p, p->dl[idx]->piece); p->hash[h] != idx + 1;
	    h = (h + 1) & p->hmask)
		assert(p->hash[h] != 0);
	return h;
}

/* Linear-probing delete with backward shift: no tombstones. */
static void
hash_del(struct picker *p, uint32_t idx)
{
	uint32_t	i, j, home;

	i = hash_slot_of(p, idx);
	p->hash[i] = 0;
	for (j = (i + 1) & p->hmask; p->hash[j] != 0; j = (j + 1) & p->hmask) {
		home = hash_slot(p, p->dl[p->hash[j] - 1]->piece);
		/* Move j back to i if its home is not in (i, j]. */
		if (((j - home) & p->hmask) >= ((j - i) & p->hmask)) {
			p->hash[i] = p->hash[j];
			p->hash[j] = 0;
			i = j;
		}
	}
}

static void
dl_sync(struct picker *p, struct dl *d)
{
	bool	full = d->nreq + d->nrecv == d->nblocks;

	if (full != d->full) {
		d->full = full;
		if (full)
			p->nfull++;
		else
			p->nfull--;
		if (skipped(p, d->piece)) {
			if (full)
				p->nfull_skip++;
			else
				p->nfull_skip--;
		}
	}
}

static struct dl *
dl_start(struct picker *p, uint32_t piece)
{
	struct dl	*d;
	uint32_t	 nb = piece_nblocks(p, piece);

	if (p->ndl == p->dlcap) {
		p->dlcap = p->dlcap == 0 ? 16 : p->dlcap * 2;
		p->dl = xreallocarray(p->dl, p->dlcap, sizeof(*p->dl));
	}
	d = xcalloc(1, sizeof(*d) + (size_t)nb * sizeof(d->blk[0]));
	d->piece = piece;
	d->nblocks = nb;
	p->dl[p->ndl++] = d;
	if ((uint64_t)p->ndl * 2 > (uint64_t)p->hmask + 1)
		hash_rebuild(p, (p->hmask + 1) * 2);
	else
		hash_put(p, piece, p->ndl - 1);
	bitfield_set(&p->started, piece);
	if (skipped(p, piece))
		p->ndl_skip++;
	return d;
}

static void
dl_drop(struct picker *p, uint32_t idx)
{
	struct dl	*d = p->dl[idx];
	uint32_t	 last = p->ndl - 1;

	hash_del(p, idx);
	if (idx != last) {
		/* The last entry takes idx's place. */
		p->hash[hash_slot_of(p, last)] = idx + 1;
		p->dl[idx] = p->dl[last];
	}
	p->ndl--;
	if (d->full)
		p->nfull--;
	if (skipped(p, d->piece)) {
		p->ndl_skip--;
		if (d->full)
			p->nfull_skip--;
	}
	bitfield_unset(&p->started, d->piece);
	free(d);
}

/* Frees the entry of piece if none of its blocks is requested or received. */
static void
dl_maybe_drop(struct picker *p, uint32_t piece)
{
	uint32_t	idx = dl_find_index(p, piece);

	if (idx != UINT32_MAX && p->dl[idx]->nreq == 0 &&
	    p->dl[idx]->nrecv == 0)
		dl_drop(p, idx);
}

/* Public interface. */

struct picker *
picker_new(uint32_t npieces, uint32_t piece_length, uint32_t last_size,
    const struct picker_opts *opts)
{
	struct picker	*p;
	uint32_t	 i, j;

	if (npieces > PICKER_MAX_PIECES || piece_length == 0 ||
	    last_size == 0 || last_size > piece_length)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->npieces = npieces;
	p->piece_length = piece_length;
	p->last_size = last_size;
	if (opts != NULL)
		p->opts = *opts;
	prng_seed(&p->rng, p->opts.seed);
	p->avail = xcalloc(npieces, sizeof(*p->avail));
	p->pos = xmalloc((size_t)npieces * sizeof(*p->pos));
	p->order = xmalloc((size_t)npieces * sizeof(*p->order));
	/* Inside-out Fisher-Yates: order is a random permutation. */
	for (i = 0; i < npieces; i++) {
		j = rand_below(&p->rng, i + 1);
		if (j != i) {
			p->order[i] = p->order[j];
			p->pos[p->order[i]] = i;
		}
		p->order[j] = i;
		p->pos[i] = j;
	}
	/* One level: every piece in bucket 0 of the NORMAL segment. */
	p->nlev = 1;
	p->bstart = xcalloc(PICKER_NSEG + 1, sizeof(*p->bstart));
	for (i = PICKER_PRIO_MAX - PICKER_PRIO_NORMAL + 1; i <= PICKER_NSEG;
	    i++)
		p->bstart[i] = npieces;
	bitfield_init(&p->have, npieces);
	bitfield_init(&p->unwanted, npieces);
	bitfield_init(&p->started, npieces);
	p->nwant = npieces;
	p->cursor = npieces == 0 ? 0 :
	    rand_below(&p->rng, npieces);
	p->hash = xcalloc(64, sizeof(*p->hash));
	p->hmask = 63;
	return p;
}

void
picker_free(struct picker *p)
{
	uint32_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ndl; i++)
		free(p->dl[i]);
	free(p->dl);
	free(p->hash);
	free(p->seen);
	free(p->bbs);
	bitfield_clear(&p->have);
	bitfield_clear(&p->unwanted);
	bitfield_clear(&p->started);
	for (i = 0; i < nitems(p->lvl); i++)
		bitfield_clear(&p->lvl[i]);
	free(p->prio);
	free(p->bstart);
	free(p->order);
	free(p->pos);
	free(p->avail);
	free(p);
}

void
picker_have(struct picker *p, uint32_t piece)
{
	uint32_t	idx;

	if (piece >= p->npieces || bitfield_bit_get(p->have.bits, piece))
		return;
	if ((idx = dl_find_index(p, piece)) != UINT32_MAX)
		dl_drop(p, idx);
	if (bitfield_set(&p->unwanted, piece))
		order_remove(p, piece);
	bitfield_set(&p->have, piece);
	p->nhave++;
	if (!skipped(p, piece))
		p->nwant_have++;
}

bool
picker_complete(const struct picker *p)
{
	return p->nhave == p->npieces;
}

uint32_t
picker_npieces_have(const struct picker *p)
{
	return p->nhave;
}

bool
picker_wanted_complete(const struct picker *p)
{
	return p->nwant_have == p->nwant;
}

uint32_t
picker_npieces_wanted(const struct picker *p)
{
	return p->nwant;
}

uint32_t
picker_npieces_missing(const struct picker *p)
{
	return p->nwant - p->nwant_have;
}

bool
picker_interesting(const struct picker *p, const struct bitfield *peer_has)
{
	if (!peer_ok(p, peer_has) || peer_has->count == 0)
		return false;
	return scan_wanted(p, peer_has, NULL, 0, false) < p->npieces;
}

/* The pieces of priority level, made (empty) when first used. */
static struct bitfield *
lvl_get(struct picker *p, uint8_t level)
{
	if (p->lvl[level].bits == NULL)
		bitfield_init(&p->lvl[level], p->npieces);
	return &p->lvl[level];
}

void
picker_set_priority(struct picker *p, uint32_t piece, uint8_t prio)
{
	struct dl	*d;
	uint32_t	 from, to;
	uint8_t		 old;
	bool		 have;

	if (piece >= p->npieces)
		return;
	prio = MIN(prio, PICKER_PRIO_MAX);
	if ((old = prio_of(p, piece)) == prio)
		return;
	if (p->prio == NULL) {
		p->prio = xmalloc(p->npieces);
		memset(p->prio, PICKER_PRIO_NORMAL, p->npieces);
		bitfield_set_all(lvl_get(p, PICKER_PRIO_NORMAL));
	}
	have = bitfield_bit_get(p->have.bits, piece);
	if (!bitfield_bit_get(p->unwanted.bits, piece)) {
		/* A candidate: to its new segment, or out. */
		from = bucket_of(p, piece);
		p->prio[piece] = prio;
		if (prio == PICKER_PRIO_SKIP)
			order_move(p, piece, from, bucket(p, PICKER_NSEG, 0));
		else {
			to = bucket_of(p, piece);
			order_move(p, piece, from, to);
			order_mix(p, p->pos[piece], to);
		}
	} else if (old == PICKER_PRIO_SKIP && !have) {
		/* Wanted again. */
		p->prio[piece] = prio;
		order_insert(p, piece);
		p->seq_from = MIN(p->seq_from, piece);
	}
	p->prio[piece] = prio;
	if (prio == PICKER_PRIO_SKIP)
		bitfield_set(&p->unwanted, piece);
	else if (!have)
		bitfield_unset(&p->unwanted, piece);
	if (old != PICKER_PRIO_SKIP)
		bitfield_unset(&p->lvl[old], piece);
	if (prio != PICKER_PRIO_SKIP)
		bitfield_set(lvl_get(p, prio), piece);
	/* The counts of wanted pieces and of skipped ones in progress. */
	d = dl_find(p, piece);
	if (old == PICKER_PRIO_SKIP) {
		p->nwant++;
		p->nwant_have += have;
		if (d != NULL) {
			p->ndl_skip--;
			p->nfull_skip -= d->full;
		}
	} else if (prio == PICKER_PRIO_SKIP) {
		p->nwant--;
		p->nwant_have -= have;
		if (d != NULL) {
			p->ndl_skip++;
			p->nfull_skip += d->full;
		}
	}
}

uint8_t
picker_priority(const struct picker *p, uint32_t piece)
{
	return piece < p->npieces ? prio_of(p, piece) : PICKER_PRIO_SKIP;
}

void
picker_set_sequential(struct picker *p, bool on)
{
	p->sequential = on;
}

void
picker_peer_add(struct picker *p, const struct bitfield *b)
{
	uint32_t	i;

	if (!peer_ok(p, b))
		return;
	if (b->count == p->npieces && p->npieces > 0) {
		/*
		 * A seed: every bucket moves up one level, in place.  The
		 * new buckets 0 are empty; the order within buckets stays.
		 */
		buckets_relayout(p, p->nlev + 1, 1);
		for (i = 0; i < p->npieces; i++)
			if (p->avail[i] != UINT32_MAX)
				p->avail[i]++;
		return;
	}
	for (i = bitfield_next_set(b, 0); i < p->npieces;
	    i = bitfield_next_set(b, i + 1))
		avail_inc(p, i);
}

/* Whether no candidate has availability 0. */
static bool
levels_zero_empty(const struct picker *p)
{
	uint32_t	s;

	for (s = 0; s < PICKER_NSEG; s++)
		if (p->bstart[bucket(p, s, 0)] != p->bstart[bucket(p, s, 1)])
			return false;
	return true;
}

void
picker_peer_remove(struct picker *p, const struct bitfield *b)
{
	uint32_t	i;

	if (!peer_ok(p, b))
		return;
	if (b->count == p->npieces && p->npieces > 0 && p->nlev > 1 &&
	    levels_zero_empty(p)) {
		/* A seed leaves and every bucket 0 is empty: shift down. */
		buckets_relayout(p, p->nlev - 1, -1);
		for (i = 0; i < p->npieces; i++)
			if (p->avail[i] > 0)
				p->avail[i]--;
		return;
	}
	for (i = bitfield_next_set(b, 0); i < p->npieces;
	    i = bitfield_next_set(b, i + 1))
		avail_dec(p, i);
}

void
picker_peer_have(struct picker *p, uint32_t piece)
{
	if (piece < p->npieces)
		avail_inc(p, piece);
}

uint32_t
picker_availability(const struct picker *p, uint32_t piece)
{
	return piece < p->npieces ? p->avail[piece] : 0;
}

uint32_t
picker_rarest(const struct picker *p)
{
	uint32_t	s, a, b, best = 0;

	for (s = 0; s < PICKER_NSEG; s++) {
		for (a = 1; a < p->nlev && (best == 0 || a < best); a++) {
			b = bucket(p, s, a);
			if (p->bstart[b + 1] > p->bstart[b]) {
				best = a;
				break;
			}
		}
	}
	return best;
}

/* Picking. */

/* One picker_next call. */
struct pick {
	const struct bitfield	*has;		/* the peer's pieces */
	const struct block_req	*busy;		/* its outstanding requests */
	size_t			 nbusy;
	struct block_req	*out;
	size_t			 n;		/* chosen so far */
	size_t			 max;
	uint32_t		 stamp;		/* marks dl entries tried */
};

static bool
in_list(const struct block_req *l, size_t nl, uint32_t piece, uint32_t off)
{
	size_t	i;

	for (i = 0; i < nl; i++)
		if (l[i].piece == piece && l[i].offset == off)
			return true;
	return false;
}

static bool
piece_in_list(const struct block_req *l, size_t nl, uint32_t piece)
{
	size_t	i;

	for (i = 0; i < nl; i++)
		if (l[i].piece == piece)
			return true;
	return false;
}

static void
choose(struct picker *p, struct pick *c, struct dl *d, uint32_t i)
{
	d->blk[i]++;
	c->out[c->n++] = (struct block_req){
		.piece = d->piece,
		.offset = i * PICKER_BLOCK,
		.length = block_length(p, d->piece, i),
	};
}

/*
 * Requests the missing blocks of d, skipping any the peer still has
 * outstanding (possible after a hash failure reset them).  Returns how many.
 */
static size_t
take_missing(struct picker *p, struct pick *c, struct dl *d)
{
	size_t		n0 = c->n;
	uint32_t	i;
	bool		check = piece_in_list(c->busy, c->nbusy, d->piece);

	d->stamp = c->stamp;
	for (i = 0; i < d->nblocks && c->n < c->max; i++) {
		if (d->blk[i] != 0 || (check && in_list(c->busy, c->nbusy,
		    d->piece, i * PICKER_BLOCK)))
			continue;
		choose(p, c, d, i);
		d->nreq++;
	}
	dl_sync(p, d);
	return c->n - n0;
}

static size_t
take_new(struct picker *p, struct pick *c, uint32_t piece)
{
	struct dl	*d = dl_start(p, piece);
	size_t		 k;

	if ((k = take_missing(p, c, d)) == 0)
		dl_maybe_drop(p, piece);
	return k;
}

/*
 * Where a candidate stands in the order: its segment (priority), then its
 * availability.
 */
static uint64_t
order_key(const struct picker *p, uint32_t piece)
{
	return (uint64_t)seg_of(p, piece) << 32 | p->avail[piece];
}

/*
 * Blocks of wanted pieces in progress the peer has and no further in the
 * order than max_key, the most complete piece first (sequential: the
 * lowest index first; ties: list order).  O(ndl) per piece taken.
 */
static void
pick_partial(struct picker *p, struct pick *c, uint64_t max_key)
{
	struct dl	*d, *best;
	uint32_t	 i;

	while (c->n < c->max) {
		best = NULL;
		for (i = 0; i < p->ndl; i++) {
			d = p->dl[i];
			if (d->full || d->stamp == c->stamp ||
			    !bitfield_bit_get(c->has->bits, d->piece) ||
			    skipped(p, d->piece) ||
			    (max_key != UINT64_MAX &&
			    order_key(p, d->piece) > max_key))
				continue;
			if (best == NULL || (p->sequential ?
			    d->piece < best->piece :
			    d->nreq + d->nrecv > best->nreq + best->nrecv))
				best = d;
		}
		if (best == NULL)
			break;
		take_missing(p, c, best);
	}
}

static bool
new_wanted(const struct picker *p, const struct bitfield *has,
    uint32_t piece)
{
	return bitfield_bit_get(has->bits, piece) &&
	    !bitfield_bit_get(p->unwanted.bits, piece) &&
	    !bitfield_bit_get(p->started.bits, piece) && p->avail[piece] > 0;
}

/*
 * A piece the peer has that we want and have not started, at random:
 * uniform random probes, then the first one after a random spot.  With
 * several priorities in use, only one of the highest.
 */
static uint32_t
pick_random_piece(struct picker *p, const struct bitfield *has)
{
	const uint8_t	*only = NULL;
	uint32_t	 i, s, start;
	uint8_t		 top = PICKER_PRIO_SKIP;
	int		 k;

	if (segs_used(p) > 1) {
		for (s = 0; seg_empty(p, s); s++)
			;
		top = (uint8_t)(PICKER_PRIO_MAX - s);
		only = p->lvl[top].bits;
	}
	for (k = 0; k < PICKER_RANDOM_PROBES; k++) {
		i = rand_below(&p->rng, p->npieces);
		if (new_wanted(p, has, i) &&
		    (only == NULL || p->prio[i] == top))
			return i;
	}
	start = rand_below(&p->rng, p->npieces);
	for (i = scan_wanted(p, has, only, start, true); i < p->npieces;
	    i = scan_wanted(p, has, only, i + 1, true))
		if (p->avail[i] > 0)
			return i;
	for (i = scan_wanted(p, has, only, 0, true); i < start;
	    i = scan_wanted(p, has, only, i + 1, true))
		if (p->avail[i] > 0)
			return i;
	return UINT32_MAX;
}

/*
 * The eligible pieces with the smallest order positions, found by scanning
 * the peer's bits: what the walk would find, at O(npieces / 64 + pieces the
 * peer has that we want) per batch of PICKER_SCAN_BATCH pieces.
 */
static void
pick_scan(struct picker *p, struct pick *c)
{
	uint32_t	best[PICKER_SCAN_BATCH], idx[256];
	uint32_t	from, i, j, k, nb, ni, cap, pp;
	size_t		taken;

	while (c->n < c->max) {
		cap = (uint32_t)MIN(c->max - c->n, PICKER_SCAN_BATCH);
		nb = 0;
		from = 0;
		while ((ni = collect_wanted(p, c->has, NULL, true, &from, idx,
		    nitems(idx))) > 0) {
			for (j = 0; j < ni; j++) {
				i = idx[j];
				if (p->avail[i] == 0)
					continue;
				pp = p->pos[i];
				if (nb == cap && pp >= p->pos[best[nb - 1]])
					continue;
				/* Insert into best[], sorted by position. */
				k = nb < cap ? nb++ : nb - 1;
				for (; k > 0 && p->pos[best[k - 1]] > pp; k--)
					best[k] = best[k - 1];
				best[k] = i;
			}
		}
		taken = 0;
		for (k = 0; k < nb && c->n < c->max; k++)
			taken += take_new(p, c, best[k]);
		if (taken == 0)
			break;		/* none, or all busy */
	}
}

/*
 * Rarest first: walk each segment (the highest priority first) through its
 * buckets from availability 1 up; the order within a bucket is random.
 * After PICKER_WALK_BUDGET positions without filling out, scan the peer's
 * bits instead (same result, bounded cost).
 */
static void
pick_rarest(struct picker *p, struct pick *c)
{
	uint32_t	i, s, end, piece, budget;

	budget = PICKER_WALK_BUDGET;
	for (s = 0; s < PICKER_NSEG && c->n < c->max; s++) {
		end = p->bstart[bucket(p, s + 1, 0)];
		for (i = p->bstart[bucket(p, s, 1)];
		    i < end && c->n < c->max; i++) {
			if (budget-- == 0) {
				pick_scan(p, c);
				return;
			}
			piece = p->order[i];
			if (bitfield_bit_get(c->has->bits, piece) &&
			    !bitfield_bit_get(p->started.bits, piece))
				take_new(p, c, piece);
		}
	}
}

/*
 * The order_key of the first piece in the order (the highest priority,
 * then the rarest) the peer has that we want and have not started;
 * UINT64_MAX when the walk finds none within its budget.
 */
static uint64_t
rarest_new_key(const struct picker *p, const struct bitfield *has)
{
	uint32_t	i, s, end, piece, budget;

	budget = PICKER_WALK_BUDGET;
	for (s = 0; s < PICKER_NSEG && budget > 0; s++) {
		end = p->bstart[bucket(p, s + 1, 0)];
		for (i = p->bstart[bucket(p, s, 1)]; i < end && budget > 0;
		    i++, budget--) {
			piece = p->order[i];
			if (bitfield_bit_get(has->bits, piece) &&
			    !bitfield_bit_get(p->started.bits, piece))
				return order_key(p, piece);
		}
	}
	return UINT64_MAX;
}

/*
 * In index order from start, wrapping unless sequential, only the pieces
 * set in only unless it is NULL.
 */
static void
pick_from(struct picker *p, struct pick *c, const uint8_t *only,
    uint32_t start)
{
	uint32_t	i;

	for (i = scan_wanted(p, c->has, only, start, true);
	    i < p->npieces && c->n < c->max;
	    i = scan_wanted(p, c->has, only, i + 1, true))
		if (p->avail[i] > 0)
			take_new(p, c, i);
	if (p->sequential)
		return;			/* nothing wanted below start */
	for (i = scan_wanted(p, c->has, only, 0, true);
	    i < start && c->n < c->max;
	    i = scan_wanted(p, c->has, only, i + 1, true))
		if (p->avail[i] > 0)
			take_new(p, c, i);
}

/*
 * In index order: from a random first piece, wrapping, or (sequential)
 * from the lowest wanted piece we lack.  With several priorities in use,
 * a pass per priority, the highest first: O(npieces / 64) each.
 */
static void
pick_in_order(struct picker *p, struct pick *c)
{
	uint32_t	s, start = p->cursor;

	if (p->sequential) {
		while (p->seq_from < p->npieces &&
		    bitfield_bit_get(p->unwanted.bits, p->seq_from))
			p->seq_from++;
		start = p->seq_from;
	}
	if (segs_used(p) <= 1) {
		pick_from(p, c, NULL, start);
		return;
	}
	for (s = 0; s < PICKER_NSEG && c->n < c->max; s++)
		if (!seg_empty(p, s))
			pick_from(p, c, p->lvl[PICKER_PRIO_MAX - s].bits,
			    start);
}

/*
 * The end-game's set of blocks the peer must not get: its outstanding
 * requests and the blocks chosen in this call.  Open addressing on
 * piece:offset + 1 (0 = empty), at most half full.
 */
static size_t
seen_slot(const struct picker *p, uint32_t piece, uint32_t off)
{
	uint64_t	k = ((uint64_t)piece << 32 | off) + 1;
	size_t		h;

	h = (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 32) & (p->seencap - 1);
	while (p->seen[h] != 0 && p->seen[h] != k)
		h = (h + 1) & (p->seencap - 1);
	return h;
}

static void
seen_add(struct picker *p, uint32_t piece, uint32_t off)
{
	p->seen[seen_slot(p, piece, off)] = ((uint64_t)piece << 32 | off) + 1;
}

static bool
seen_has(const struct picker *p, uint32_t piece, uint32_t off)
{
	return p->seen[seen_slot(p, piece, off)] != 0;
}

static void
seen_reset(struct picker *p, size_t n)
{
	size_t	cap = 64;

	while (cap < 2 * n)
		cap *= 2;
	if (cap > p->seencap) {
		free(p->seen);
		p->seen = xcalloc(cap, sizeof(*p->seen));
		p->seencap = cap;
	} else
		memset(p->seen, 0, p->seencap * sizeof(*p->seen));
}

/*
 * End-game: blocks requested from others and not received, fewest
 * requesters first, never one in busy[] or already chosen.  O(levels x
 * blocks in flight + nbusy + max); only at the very end of a download.
 */
static void
pick_end_game(struct picker *p, struct pick *c)
{
	struct dl	*d;
	uint32_t	 level = 1, next, i, j, v, off;
	size_t		 k;

	seen_reset(p, c->nbusy + c->max);
	for (k = 0; k < c->nbusy; k++)
		seen_add(p, c->busy[k].piece, c->busy[k].offset);
	for (k = 0; k < c->n; k++)
		seen_add(p, c->out[k].piece, c->out[k].offset);
	while (c->n < c->max) {
		next = UINT32_MAX;
		for (i = 0; i < p->ndl && c->n < c->max; i++) {
			d = p->dl[i];
			if (d->nreq == 0 || skipped(p, d->piece) ||
			    !bitfield_bit_get(c->has->bits, d->piece))
				continue;
			for (j = 0; j < d->nblocks && c->n < c->max; j++) {
				v = d->blk[j];
				if ((v & BLK_RECV) != 0 || v == 0 || v < level)
					continue;
				if (v > level) {
					next = MIN(next, v);
					continue;
				}
				off = j * PICKER_BLOCK;
				if (v == BLK_REQ_MASK ||
				    seen_has(p, d->piece, off))
					continue;
				choose(p, c, d, j);
				seen_add(p, d->piece, off);
			}
		}
		if (next == UINT32_MAX)
			break;
		level = next;
	}
}

/* --bbs-plus. */

static int
bbs_cmp(const void *a, const void *b)
{
	const struct bbs_cand	*x = a, *y = b;

	if (x->avail != y->avail)
		return x->avail < y->avail ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Of busy[], the blocks someone else has been asked for too. */
static size_t
bbs_count_dups(const struct picker *p, const struct pick *c, size_t cap)
{
	size_t	k, n = 0;

	for (k = 0; k < c->nbusy && n < cap; k++)
		if (picker_requesters(p, &c->busy[k]) > 1)
			n++;
	return n;
}

/*
 * Blocks with exactly one requester (not this peer: busy[] is skipped),
 * the rarest pieces first, until the duplicates in the peer's pipeline
 * reach 1/PICKER_BBS_SHARE of it.  O(nbusy + ndl log ndl + blocks
 * looked at).
 */
static void
pick_bbs(struct picker *p, struct pick *c)
{
	struct dl	*d;
	size_t		 budget, dups, k, n = 0, end;
	uint32_t	 i, j;

	budget = (c->nbusy + c->max) / PICKER_BBS_SHARE;
	if (budget == 0 || (dups = bbs_count_dups(p, c, budget)) >= budget)
		return;
	end = c->n + MIN(budget - dups, c->max - c->n);
	if (p->bbscap < p->ndl) {
		p->bbscap = p->dlcap;
		p->bbs = xreallocarray(p->bbs, p->bbscap, sizeof(*p->bbs));
	}
	for (i = 0; i < p->ndl; i++) {
		d = p->dl[i];
		if (d->nreq > 0 && !skipped(p, d->piece) &&
		    bitfield_bit_get(c->has->bits, d->piece))
			p->bbs[n++] = (struct bbs_cand){
				.avail = p->avail[d->piece], .idx = i,
			};
	}
	if (n == 0)
		return;
	qsort(p->bbs, n, sizeof(*p->bbs), bbs_cmp);
	seen_reset(p, c->nbusy + c->n);
	for (k = 0; k < c->nbusy; k++)
		seen_add(p, c->busy[k].piece, c->busy[k].offset);
	for (k = 0; k < c->n; k++)
		seen_add(p, c->out[k].piece, c->out[k].offset);
	for (k = 0; k < n && c->n < end; k++) {
		d = p->dl[p->bbs[k].idx];
		for (j = 0; j < d->nblocks && c->n < end; j++)
			if (d->blk[j] == 1 &&
			    !seen_has(p, d->piece, j * PICKER_BLOCK))
				choose(p, c, d, j);	/* now 2: not again */
	}
}

/* Every missing block of a wanted piece requested at least once. */
static bool
end_game_reached(const struct picker *p)
{
	uint32_t	missing = p->nwant - p->nwant_have;

	return missing > 0 && p->ndl - p->ndl_skip == missing &&
	    p->nfull - p->nfull_skip == missing;
}

bool
picker_in_end_game(const struct picker *p)
{
	return p->opts.end_game && end_game_reached(p);
}

/*
 * Common case, a call per received block: O(ndl) for the partial pieces,
 * then O(1) when the rarest bucket holds a piece the peer has.  Worst case
 * per call: O(ndl x pieces taken) + O(PICKER_WALK_BUDGET + npieces / 64 +
 * pieces the peer has) per PICKER_SCAN_BATCH new pieces (a peer holding only
 * pieces more common than the rest, e.g. a partial peer next to a seed),
 * plus the end-game pass above.
 */
size_t
picker_next(struct picker *p, const struct bitfield *peer_has,
    const struct block_req *busy, size_t nbusy, struct block_req *out,
    size_t max)
{
	struct pick	c = {
		.has = peer_has, .busy = busy, .nbusy = busy ? nbusy : 0,
		.out = out, .max = max,
	};
	uint32_t	piece;
	bool		rarest;

	if (++p->stamp == 0)
		p->stamp = 1;		/* 0: never tried */
	c.stamp = p->stamp;

	if (max == 0 || p->nwant_have == p->nwant || !peer_ok(p, peer_has) ||
	    peer_has->count == 0)
		return 0;
	if (p->opts.bbs_plus && !picker_in_end_game(p))
		pick_bbs(p, &c);
	/*
	 * Priority then rarest first rules, pieces in progress first among
	 * equals (as libtorrent's picker): a piece we started from another
	 * peer is asked of this one only if it is of no lower priority and no
	 * more common than the first new piece this one has.  A seed's
	 * upload then goes to pieces only it has, not to pieces a choke left
	 * half done that others can give.  In order, pieces in progress
	 * always come first.
	 */
	rarest = p->opts.rarest_first && !p->sequential;
	pick_partial(p, &c, rarest ? rarest_new_key(p, peer_has) : UINT64_MAX);
	if (rarest) {
		/* Random until random_first pieces are ours or under way. */
		while (c.n < c.max &&
		    p->nhave + p->ndl < p->opts.random_first) {
			piece = pick_random_piece(p, peer_has);
			if (piece == UINT32_MAX || take_new(p, &c, piece) == 0)
				break;
		}
		if (c.n < c.max)
			pick_rarest(p, &c);
		pick_partial(p, &c, UINT64_MAX);	/* room left */
	} else if (c.n < c.max)
		pick_in_order(p, &c);
	if (c.n < c.max && picker_in_end_game(p) &&
	    c.nbusy + c.n < PICKER_END_GAME_QUEUE) {
		c.max = MIN(c.max, PICKER_END_GAME_QUEUE - c.nbusy);
		pick_end_game(p, &c);
	}
	return c.n;
}

void
picker_abandon(struct picker *p, const struct block_req *r)
{
	struct dl	*d;
	uint32_t	 i;

	if ((i = block_index(p, r)) == UINT32_MAX ||
	    (d = dl_find(p, r->piece)) == NULL ||
	    (d->blk[i] & BLK_REQ_MASK) == 0)
		return;
	d->blk[i]--;
	if (d->blk[i] == 0) {
		d->nreq--;		/* back to missing */
		dl_sync(p, d);
		dl_maybe_drop(p, r->piece);
	}
}

bool
picker_received(struct picker *p, const struct block_req *r,
    bool *piece_done)
{
	struct dl	*d;
	uint32_t	 i;

	if (piece_done != NULL)
		*piece_done = false;
	if ((i = block_index(p, r)) == UINT32_MAX ||
	    bitfield_bit_get(p->have.bits, r->piece))
		return false;
	if ((d = dl_find(p, r->piece)) == NULL)
		d = dl_start(p, r->piece);	/* unrequested, still useful */
	if ((d->blk[i] & BLK_RECV) != 0) {
		if ((d->blk[i] & BLK_REQ_MASK) != 0)
			d->blk[i]--;		/* that peer answered */
		return false;
	}
	if (d->blk[i] != 0) {
		d->blk[i]--;			/* requested -> received */
		d->nreq--;
	}
	d->blk[i] |= BLK_RECV;
	d->nrecv++;
	dl_sync(p, d);
	if (d->nrecv == d->nblocks && piece_done != NULL)
		*piece_done = true;
	return true;
}

bool
picker_set_received(struct picker *p, uint32_t piece, uint32_t block)
{
	struct block_req	r;
	bool			done;

	if (piece >= p->npieces || block >= piece_nblocks(p, piece))
		return false;
	r = (struct block_req){
		.piece = piece,
		.offset = block * PICKER_BLOCK,
		.length = block_length(p, piece, block),
	};
	return picker_received(p, &r, &done) && done;
}

void
picker_piece_passed(struct picker *p, uint32_t piece)
{
	picker_have(p, piece);
}

void
picker_piece_failed(struct picker *p, uint32_t piece)
{
	uint32_t	idx;

	/* Every block missing, no requesters: the entry goes. */
	if (piece < p->npieces &&
	    (idx = dl_find_index(p, piece)) != UINT32_MAX)
		dl_drop(p, idx);
}

bool
picker_in_progress(const struct picker *p, uint32_t piece)
{
	return piece < p->npieces && bitfield_bit_get(p->started.bits, piece);
}

bool
picker_block_received(const struct picker *p, uint32_t piece, uint32_t block)
{
	const struct dl	*d;

	if (piece >= p->npieces || block >= piece_nblocks(p, piece))
		return false;
	if (bitfield_bit_get(p->have.bits, piece))
		return true;
	return (d = dl_find(p, piece)) != NULL &&
	    (d->blk[block] & BLK_RECV) != 0;
}

uint32_t
picker_requesters(const struct picker *p, const struct block_req *r)
{
	struct dl	*d;
	uint32_t	 i;

	if ((i = block_index(p, r)) == UINT32_MAX ||
	    (d = dl_find(p, r->piece)) == NULL)
		return 0;
	return d->blk[i] & BLK_REQ_MASK;
}
