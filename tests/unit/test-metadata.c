/* test-metadata.c - assembling an info dict from ut_metadata pieces */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "metadata.h"
#include "util.h"

#define P	METADATA_PIECE
#define T0	1000000u		/* a clock reading */

/* The info dict the info-hash names, and an assembler for it. */
struct fx {
	uint8_t		*dict;
	uint32_t	 size;
	uint8_t		 hash[SHA1_LEN];
	struct metadata	*md;
	struct prng	 r;
};

static void
fx_init(struct fx *f, uint32_t size)
{
	uint32_t	i;

	prng_seed(&f->r, size);
	f->size = size;
	f->dict = xmalloc(size);
	for (i = 0; i < size; i++)
		f->dict[i] = (uint8_t)prng_next(&f->r);
	sha1(f->dict, size, f->hash);
	f->md = metadata_new(f->hash);
	cr_assert_not_null(f->md);
}

static void
fx_clear(struct fx *f)
{
	metadata_free(f->md);
	free(f->dict);
}

static uint32_t
plen(uint32_t size, uint32_t piece)
{
	return MIN(size - piece * P, P);
}

/* Peer sends piece as the dict has it. */
static enum metadata_result
honest(struct fx *f, uint32_t peer, uint32_t piece, uint64_t now)
{
	return metadata_on_data(f->md, peer, piece, f->size,
	    f->dict + (size_t)piece * P, plen(f->size, piece), now);
}

/* Peer sends random bytes of the right length for size. */
static enum metadata_result
liar(struct fx *f, uint32_t peer, uint32_t piece, uint32_t size,
    uint64_t now)
{
	uint8_t		junk[P];
	uint32_t	i, n = plen(size, piece);

	for (i = 0; i < n; i++)
		junk[i] = (uint8_t)prng_next(&f->r);
	return metadata_on_data(f->md, peer, piece, size, junk, n, now);
}

/* Everything peer may be asked now; returns how many, pieces in out. */
static size_t
ask_all(struct fx *f, uint32_t peer, uint64_t now, uint32_t *out,
    size_t max)
{
	size_t		n = 0;
	uint32_t	piece;

	while (n < max && metadata_next_request(f->md, peer, now, &piece))
		out[n++] = piece;
	return n;
}

/*
 * Rounds until a result other than KEPT or IGNORED: every peer asks all it
 * may, then answers: ids in lie[] with random bytes, the others honestly.
 */
static enum metadata_result
run(struct fx *f, const uint32_t *peers, size_t npeers, const uint32_t *lie,
    size_t nlie, uint64_t *now)
{
	uint32_t		got[METADATA_PEER_QUEUE];
	size_t			i, j, k, n;
	int			rounds;
	bool			is_liar;
	enum metadata_result	res;

	for (rounds = 0; rounds < 10000; rounds++) {
		for (i = 0; i < npeers; i++) {
			n = ask_all(f, peers[i], *now, got, nitems(got));
			is_liar = false;
			for (j = 0; j < nlie; j++)
				is_liar |= lie[j] == peers[i];
			for (k = 0; k < n; k++) {
				res = is_liar ?
				    liar(f, peers[i], got[k], f->size, *now) :
				    honest(f, peers[i], got[k], *now);
				if (res != METADATA_KEPT &&
				    res != METADATA_IGNORED)
					return res;
			}
		}
		*now += 10;
	}
	cr_assert_fail("no result after 10000 rounds");
	return METADATA_IGNORED;
}

static void
assert_done(struct fx *f)
{
	const uint8_t	*b;
	size_t		 len;

	b = metadata_bytes(f->md, &len);
	cr_assert_not_null(b);
	cr_assert_eq(len, f->size);
	cr_assert(memcmp(b, f->dict, len) == 0);
	cr_assert_eq(metadata_have(f->md), metadata_npieces(f->md));
	cr_assert_eq(metadata_deadline(f->md), UINT64_MAX);
}

Test(metadata, one_honest_peer)
{
	struct fx	f;
	uint32_t	got[8];
	size_t		len;

	fx_init(&f, 40000);			/* 16384 + 16384 + 7232 */
	cr_assert_eq(metadata_size(f.md), 0);
	cr_assert_null(metadata_bytes(f.md, &len));
	cr_assert(metadata_peer_add(f.md, 7, f.size));
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(metadata_npieces(f.md), 3);
	cr_assert_eq(metadata_have(f.md), 0);
	cr_assert_eq(ask_all(&f, 7, T0, got, nitems(got)), 3);
	cr_assert_eq(got[0], 0);
	cr_assert_eq(got[1], 1);
	cr_assert_eq(got[2], 2);
	cr_assert_eq(honest(&f, 7, 1, T0), METADATA_KEPT);
	cr_assert_eq(metadata_have(f.md), 1);
	cr_assert_eq(honest(&f, 7, 2, T0), METADATA_KEPT);
	cr_assert_eq(metadata_bytes(f.md, &len), NULL);
	cr_assert_eq(honest(&f, 7, 0, T0), METADATA_DONE);
	assert_done(&f);
	/* Done: nothing more asked, anything more ignored. */
	cr_assert_eq(ask_all(&f, 7, T0, got, nitems(got)), 0);
	cr_assert_eq(honest(&f, 7, 0, T0), METADATA_IGNORED);
	cr_assert_not(metadata_peer_add(f.md, 8, f.size));
	fx_clear(&f);
}

Test(metadata, three_peers_share_the_work)
{
	struct fx	f;
	uint32_t	got[3][8], p;
	size_t		n[3], i, k;
	bool		seen[10] = { false };
	enum metadata_result res = METADATA_KEPT;

	fx_init(&f, 10 * P - 5);		/* 10 pieces */
	for (p = 0; p < 3; p++)
		cr_assert(metadata_peer_add(f.md, 100 + p, f.size));
	for (p = 0; p < 3; p++)
		n[p] = ask_all(&f, 100 + p, T0, got[p], nitems(got[p]));
	cr_assert_eq(n[0], METADATA_PEER_QUEUE);
	cr_assert_eq(n[1], METADATA_PEER_QUEUE);
	cr_assert_eq(n[2], 10 - 2 * METADATA_PEER_QUEUE);
	for (p = 0; p < 3; p++) {
		for (k = 0; k < n[p]; k++) {
			cr_assert_lt(got[p][k], 10);
			cr_assert_not(seen[got[p][k]], "piece %u asked twice",
			    got[p][k]);
			seen[got[p][k]] = true;
		}
	}
	for (i = 0; i < 10; i++)
		cr_assert(seen[i]);
	/* Every piece is out and none is old: nothing for anyone. */
	cr_assert_eq(ask_all(&f, 102, T0 + 1, got[2], nitems(got[2])), 0);
	for (p = 0; p < 3; p++)
		for (k = 0; k < n[p]; k++)
			res = honest(&f, 100 + p, got[p][k], T0);
	cr_assert_eq(res, METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, one_piece)
{
	struct fx	f;
	uint32_t	piece;

	fx_init(&f, 100);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert_eq(metadata_npieces(f.md), 1);
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(piece, 0);
	cr_assert_not(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, size_one)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	peer = 1;

	fx_init(&f, 1);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert_eq(run(&f, &peer, 1, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, exact_multiple)
{
	struct fx	f;
	uint32_t	got[4];
	uint8_t		buf[P];

	fx_init(&f, 2 * P);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert_eq(metadata_npieces(f.md), 2);
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 2);
	/* The last piece is a whole one: 16383 bytes is malformed. */
	memcpy(buf, f.dict + P, P);
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_KEPT);
	cr_assert_eq(metadata_on_data(f.md, 1, 1, f.size, buf, P - 1, T0),
	    METADATA_BAD);
	fx_clear(&f);

	fx_init(&f, 2 * P);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 2);
	cr_assert_eq(honest(&f, 1, 1, T0), METADATA_KEPT);
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

/* Wrong lengths, sizes and indices: BAD, and the peer is asked nothing. */
struct bad_case {
	const char	*name;
	uint32_t	 piece;
	int32_t		 dsize;		/* total_size - true size */
	int32_t		 dlen;		/* len - the piece's length */
};

static const struct bad_case bad_cases[] = {
	{ "short piece", 0, 0, -1 },
	{ "long piece", 0, 0, 1 },
	{ "empty piece", 1, 0, -16384 },
	{ "short last piece", 2, 0, -1 },
	{ "long last piece", 2, 0, 1 },
	{ "last piece as a whole one", 2, 0, 16384 - 7232 },
	{ "total size one less", 0, -1, 0 },
	{ "total size one more", 0, 1, 0 },
	{ "total size much more", 0, 1 << 30, 0 },
	{ "index one past", 3, 0, 0 },
	{ "index far past", 0x7fffffff, 0, 0 },
	{ "index UINT32_MAX", UINT32_MAX, 0, 0 },
};

Test(metadata, bad_pieces)
{
	const struct bad_case	*c;
	struct fx		 f;
	uint32_t		 got[4], other;
	static uint8_t		 buf[2 * P];
	size_t			 len, i;

	for (i = 0; i < nitems(bad_cases); i++) {
		c = &bad_cases[i];
		fx_init(&f, 40000);
		cr_assert(metadata_peer_add(f.md, 1, f.size));
		cr_assert(metadata_peer_add(f.md, 2, f.size));
		cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 3);
		cr_assert_eq(honest(&f, 1, 1, T0), METADATA_KEPT, "%s",
		    c->name);
		len = c->piece < 3 ?
		    (size_t)((int64_t)plen(f.size, c->piece) + c->dlen) : P;
		cr_assert_eq(metadata_on_data(f.md, 1, c->piece,
		    (uint32_t)((int64_t)f.size + c->dsize), buf, len, T0),
		    METADATA_BAD, "%s", c->name);
		cr_assert(metadata_peer_bad(f.md, 1), "%s", c->name);
		/* Its pieces go back, the one it sent included. */
		cr_assert_eq(metadata_have(f.md), 0, "%s", c->name);
		cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 0,
		    "%s", c->name);
		cr_assert_eq(ask_all(&f, 2, T0, got, nitems(got)), 3,
		    "%s", c->name);
		/* Bad stays bad: its data ignored, its offer refused. */
		cr_assert_eq(honest(&f, 1, 0, T0), METADATA_IGNORED);
		cr_assert_not(metadata_peer_add(f.md, 1, f.size));
		for (other = 0; other < 3; other++)
			honest(&f, 2, got[other], T0);
		assert_done(&f);
		fx_clear(&f);
	}
}

Test(metadata, unsolicited_ignored)
{
	struct fx	f;
	uint32_t	piece;

	fx_init(&f, 40000);
	/* Nothing chosen yet: ignored, nobody blamed. */
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_IGNORED);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_IGNORED);
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(piece, 0);
	/* Asked of 1, not of 2; peer 9 was never added. */
	cr_assert_eq(honest(&f, 2, 0, T0), METADATA_IGNORED);
	cr_assert_eq(honest(&f, 9, 0, T0), METADATA_IGNORED);
	cr_assert_eq(honest(&f, 1, 1, T0), METADATA_IGNORED);
	cr_assert_not(metadata_peer_bad(f.md, 1));
	cr_assert_not(metadata_peer_bad(f.md, 2));
	cr_assert_eq(metadata_have(f.md), 0);
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_KEPT);
	fx_clear(&f);
}

Test(metadata, duplicate_ignored)
{
	struct fx	f;
	uint32_t	piece;

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_KEPT);
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_IGNORED);
	/* Even a different copy of it changes nothing. */
	cr_assert_eq(liar(&f, 1, 0, f.size, T0), METADATA_IGNORED);
	cr_assert_eq(metadata_have(f.md), 1);
	cr_assert_not(metadata_peer_bad(f.md, 1));
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(piece, 1);
	fx_clear(&f);
}

Test(metadata, reject_rests_the_peer)
{
	struct fx	f;
	uint32_t	piece, got[4];

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(piece, 0);
	/* A reject of a piece not asked of it changes nothing. */
	metadata_on_reject(f.md, 1, 2, T0);
	metadata_on_reject(f.md, 2, 0, T0);
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_eq(piece, 1);
	metadata_on_reject(f.md, 1, 0, T0 + 5);
	/* Piece 0 goes to the other peer; 1 rests. */
	cr_assert_not(metadata_next_request(f.md, 1, T0 + 5, &piece));
	cr_assert(metadata_next_request(f.md, 2, T0 + 5, &piece));
	cr_assert_eq(piece, 0);
	/* Its other request (piece 1) stays out: it may still answer. */
	cr_assert_eq(honest(&f, 1, 1, T0 + 6), METADATA_KEPT);
	metadata_on_reject(f.md, 2, 0, T0 + 10);
	cr_assert_eq(metadata_deadline(f.md), T0 + 5 + METADATA_REJECT_MS);
	metadata_tick(f.md, T0 + 5 + METADATA_REJECT_MS - 1);
	cr_assert_not(metadata_next_request(f.md, 1,
	    T0 + 5 + METADATA_REJECT_MS - 1, &piece));
	metadata_tick(f.md, T0 + 5 + METADATA_REJECT_MS);
	cr_assert_eq(metadata_deadline(f.md), T0 + 10 + METADATA_REJECT_MS);
	cr_assert_eq(ask_all(&f, 1, T0 + 5 + METADATA_REJECT_MS, got,
	    nitems(got)), 2);
	cr_assert_eq(got[0], 0);
	cr_assert_eq(got[1], 2);
	cr_assert_eq(honest(&f, 1, 0, T0 + 40000), METADATA_KEPT);
	cr_assert_eq(honest(&f, 1, 2, T0 + 40000), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, timeout_gives_the_piece_to_another)
{
	struct fx	f;
	uint32_t	piece, got[4];

	fx_init(&f, 5 * P);			/* 5 pieces */
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(metadata_deadline(f.md), UINT64_MAX);
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 4);
	cr_assert_eq(metadata_deadline(f.md), T0 + METADATA_REQUEST_MS);
	cr_assert(metadata_next_request(f.md, 2, T0 + 100, &piece));
	cr_assert_eq(piece, 4);
	cr_assert_eq(honest(&f, 2, 4, T0 + 200), METADATA_KEPT);
	cr_assert_eq(honest(&f, 1, 3, T0 + 200), METADATA_KEPT);
	/* 0..2 out to 1 since T0; nothing unasked left: the end game's moment */
	cr_assert_eq(metadata_deadline(f.md), T0 + METADATA_REQUEST_MS / 2);
	metadata_tick(f.md, T0 + METADATA_REQUEST_MS / 2 - 1);
	cr_assert_eq(metadata_deadline(f.md), T0 + METADATA_REQUEST_MS / 2);
	metadata_tick(f.md, T0 + METADATA_REQUEST_MS / 2);
	cr_assert_eq(metadata_deadline(f.md), T0 + METADATA_REQUEST_MS);
	metadata_tick(f.md, T0 + METADATA_REQUEST_MS - 1);
	cr_assert_eq(metadata_deadline(f.md), T0 + METADATA_REQUEST_MS);
	metadata_tick(f.md, T0 + METADATA_REQUEST_MS);
	cr_assert_eq(metadata_deadline(f.md), UINT64_MAX);
	/* 0..2 are back, asked of the other peer. */
	cr_assert_eq(ask_all(&f, 2, T0 + METADATA_REQUEST_MS, got,
	    nitems(got)), 3);
	cr_assert_eq(got[0], 0);
	cr_assert_eq(got[1], 1);
	cr_assert_eq(got[2], 2);
	/* 1 answers late: no longer asked of it. */
	cr_assert_eq(honest(&f, 1, 0, T0 + METADATA_REQUEST_MS + 1),
	    METADATA_IGNORED);
	cr_assert_not(metadata_peer_bad(f.md, 1));
	cr_assert_eq(honest(&f, 2, 0, T0 + METADATA_REQUEST_MS + 1),
	    METADATA_KEPT);
	cr_assert_eq(honest(&f, 2, 1, T0 + METADATA_REQUEST_MS + 1),
	    METADATA_KEPT);
	cr_assert_eq(honest(&f, 2, 2, T0 + METADATA_REQUEST_MS + 1),
	    METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, end_game_asks_a_second_peer)
{
	struct fx	f;
	uint32_t	piece;

	fx_init(&f, 100);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_peer_add(f.md, 3, f.size));
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_not(metadata_next_request(f.md, 2, T0, &piece));
	cr_assert_not(metadata_next_request(f.md, 2,
	    T0 + METADATA_REQUEST_MS / 2 - 1, &piece));
	/* Half the timeout gone: a second peer may be asked, not a third. */
	cr_assert_not(metadata_next_request(f.md, 1,
	    T0 + METADATA_REQUEST_MS / 2, &piece));
	cr_assert(metadata_next_request(f.md, 2,
	    T0 + METADATA_REQUEST_MS / 2, &piece));
	cr_assert_eq(piece, 0);
	cr_assert_not(metadata_next_request(f.md, 3,
	    T0 + METADATA_REQUEST_MS, &piece));
	cr_assert_eq(honest(&f, 2, 0, T0 + 8000), METADATA_DONE);
	cr_assert_eq(honest(&f, 1, 0, T0 + 8001), METADATA_IGNORED);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, end_game_slow_peer_answers_first)
{
	struct fx	f;
	uint32_t	piece;

	fx_init(&f, P + 1);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert(metadata_next_request(f.md, 2, T0 + 8000, &piece));
	cr_assert_eq(piece, 0);
	cr_assert(metadata_next_request(f.md, 2, T0 + 8000, &piece));
	cr_assert_eq(piece, 1);
	cr_assert_eq(honest(&f, 1, 0, T0 + 9000), METADATA_KEPT);
	/* 2's request for 0 is forgotten: its queue has room again. */
	cr_assert_eq(honest(&f, 2, 0, T0 + 9001), METADATA_IGNORED);
	cr_assert_eq(honest(&f, 2, 1, T0 + 9002), METADATA_DONE);
	cr_assert_eq(honest(&f, 1, 1, T0 + 9003), METADATA_IGNORED);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, liar_alone_then_honest)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	liars[] = { 66 }, honest_peer = 7, out[4];

	fx_init(&f, 3 * P + 10);
	cr_assert(metadata_peer_add(f.md, 66, f.size));
	cr_assert_eq(run(&f, liars, 1, liars, 1, &now), METADATA_FAILED);
	cr_assert_eq(metadata_culprits(f.md, out, nitems(out)), 1);
	cr_assert_eq(out[0], 66);
	cr_assert_eq(metadata_culprits(f.md, out, 0), 0);
	cr_assert(metadata_peer_bad(f.md, 66));
	cr_assert_eq(metadata_have(f.md), 0);
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(ask_all(&f, 66, now, out, nitems(out)), 0);
	cr_assert(metadata_peer_add(f.md, 7, f.size));
	cr_assert_eq(run(&f, &honest_peer, 1, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

/*
 * A liar and an honest peer share an attempt: nobody can be blamed.  The
 * next attempt is one peer's; whichever asks first, within two more
 * attempts the honest peer's data wins, and the liar is blamed if it was
 * tried alone.
 */
static void
liar_mixed(uint32_t first, uint32_t second)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	peers[] = { first, second }, lie[] = { 66 }, out[4];
	uint32_t	got[4], piece;
	int		attempt;
	size_t		n, k;
	enum metadata_result res;

	fx_init(&f, 8 * P);
	cr_assert(metadata_peer_add(f.md, first, f.size));
	cr_assert(metadata_peer_add(f.md, second, f.size));
	cr_assert_eq(run(&f, peers, 2, lie, 1, &now), METADATA_FAILED);
	cr_assert_eq(metadata_culprits(f.md, out, nitems(out)), 0);
	cr_assert_not(metadata_peer_bad(f.md, 66));
	cr_assert_not(metadata_peer_bad(f.md, 7));

	/* One peer's attempt: the first to ask gets it all. */
	n = ask_all(&f, first, now, got, nitems(got));
	cr_assert_eq(n, METADATA_PEER_QUEUE);
	cr_assert_not(metadata_next_request(f.md, second, now, &piece));
	for (k = 0; k < n; k++)
		cr_assert_eq(first == 66 ? liar(&f, first, got[k], f.size, now) :
		    honest(&f, first, got[k], now), METADATA_KEPT);
	cr_assert_not(metadata_next_request(f.md, second, now, &piece));
	for (attempt = 0; attempt < 2; attempt++) {
		res = run(&f, peers, 2, lie, 1, &now);
		if (res == METADATA_DONE)
			break;
		cr_assert_eq(res, METADATA_FAILED);
		cr_assert_eq(metadata_culprits(f.md, out, nitems(out)), 1);
		cr_assert_eq(out[0], 66);
		cr_assert(metadata_peer_bad(f.md, 66));
	}
	cr_assert_eq(res, METADATA_DONE);
	cr_assert_eq(attempt, first == 66 ? 1 : 0);
	cr_assert_not(metadata_peer_bad(f.md, 7));
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, liar_mixed_liar_tried_first)
{
	liar_mixed(66, 7);
}

Test(metadata, liar_mixed_honest_tried_first)
{
	liar_mixed(7, 66);
}

/* Several liars among honest peers: they are found, the dict is had. */
Test(metadata, many_liars)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	peers[] = { 1, 2, 3, 4, 5, 6 }, lie[] = { 1, 3, 5 };
	int		attempt;
	enum metadata_result res = METADATA_FAILED;
	size_t		i;

	fx_init(&f, 20 * P + 3);
	for (i = 0; i < nitems(peers); i++)
		cr_assert(metadata_peer_add(f.md, peers[i], f.size));
	for (attempt = 0; attempt < 10 && res != METADATA_DONE; attempt++)
		res = run(&f, peers, nitems(peers), lie, nitems(lie), &now);
	cr_assert_eq(res, METADATA_DONE);
	for (i = 0; i < nitems(peers); i++)
		if (peers[i] % 2 == 0)
			cr_assert_not(metadata_peer_bad(f.md, peers[i]));
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, liar_offers_a_wrong_size_first)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	got[4], out[2], honest_peers[] = { 2, 3 };
	uint32_t	wrong = 50000;
	size_t		n, k;
	enum metadata_result res = METADATA_KEPT;

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 66, wrong));
	/* The others are kept, asked nothing while 50000 is assembled. */
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_peer_add(f.md, 3, f.size));
	cr_assert_eq(metadata_size(f.md), wrong);
	cr_assert_eq(metadata_npieces(f.md), 4);
	cr_assert_eq(ask_all(&f, 2, now, got, nitems(got)), 0);
	/* Honest data of the other size is malformed here. */
	n = ask_all(&f, 66, now, got, nitems(got));
	cr_assert_eq(n, 4);
	for (k = 0; k < n; k++)
		res = liar(&f, 66, got[k], wrong, now);
	cr_assert_eq(res, METADATA_FAILED);
	cr_assert_eq(metadata_culprits(f.md, out, nitems(out)), 1);
	cr_assert_eq(out[0], 66);
	/* Nobody left offers 50000: the size the others offer is chosen. */
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(metadata_npieces(f.md), 3);
	cr_assert_eq(run(&f, honest_peers, 2, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, wrong_size_liar_sends_malformed)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	got[4], honest_peer = 2;
	uint8_t		junk[100] = { 0 };

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 66, 1000000));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(ask_all(&f, 66, now, got, nitems(got)), 4);
	cr_assert_eq(metadata_on_data(f.md, 66, 0, 1000000, junk,
	    sizeof(junk), now), METADATA_BAD);
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(run(&f, &honest_peer, 1, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, size_chosen_again_when_its_peers_leave)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	got[4], peers[] = { 2, 3 };

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 66, 99999));
	cr_assert_eq(ask_all(&f, 66, now, got, nitems(got)), 4);
	cr_assert(metadata_peer_add(f.md, 5, 12345));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_peer_add(f.md, 3, f.size));
	cr_assert_eq(metadata_size(f.md), 99999);
	/* The only source goes: the size most offer (2 against 1). */
	metadata_peer_remove(f.md, 66);
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(run(&f, peers, 2, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, last_source_gone_keeps_what_is_in)
{
	struct fx	f;
	uint32_t	got[4], piece;

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 3);
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_KEPT);
	metadata_peer_remove(f.md, 1);
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(metadata_have(f.md), 1);
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_next_request(f.md, 2, T0, &piece));
	cr_assert_eq(piece, 1);
	cr_assert_eq(honest(&f, 2, 1, T0), METADATA_KEPT);
	cr_assert(metadata_next_request(f.md, 2, T0, &piece));
	cr_assert_eq(honest(&f, 2, 2, T0), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, sizes_refused)
{
	struct fx	f;
	uint32_t	piece;

	fx_init(&f, 100);
	cr_assert_not(metadata_peer_add(f.md, 1, 0));
	cr_assert_not(metadata_peer_add(f.md, 2, METADATA_MAX_SIZE + 1));
	cr_assert_not(metadata_peer_add(f.md, 3, UINT32_MAX));
	cr_assert_eq(metadata_size(f.md), 0);
	cr_assert_eq(metadata_npieces(f.md), 0);
	cr_assert_not(metadata_next_request(f.md, 1, T0, &piece));
	cr_assert_not(metadata_next_request(f.md, 2, T0, &piece));
	cr_assert_eq(metadata_deadline(f.md), UINT64_MAX);
	/* The cap itself is accepted. */
	cr_assert(metadata_peer_add(f.md, 4, METADATA_MAX_SIZE));
	cr_assert_eq(metadata_npieces(f.md), METADATA_MAX_SIZE / P);
	/* Offering a bad size later forgets the peer and its requests. */
	cr_assert(metadata_next_request(f.md, 4, T0, &piece));
	cr_assert_not(metadata_peer_add(f.md, 4, 0));
	cr_assert_eq(metadata_deadline(f.md), UINT64_MAX);
	cr_assert_not(metadata_next_request(f.md, 4, T0, &piece));
	fx_clear(&f);
}

Test(metadata, peer_cap)
{
	struct fx	f;
	uint32_t	i, piece;

	fx_init(&f, 100);
	for (i = 0; i < METADATA_MAX_PEERS; i++)
		cr_assert(metadata_peer_add(f.md, 1000 + i, f.size));
	cr_assert_not(metadata_peer_add(f.md, 5, f.size));
	cr_assert_not(metadata_next_request(f.md, 5, T0, &piece));
	/* Offered again: still tracked, not a new one. */
	cr_assert(metadata_peer_add(f.md, 1000, f.size));
	metadata_peer_remove(f.md, 1003);
	metadata_peer_remove(f.md, 424242);	/* unknown: no-op */
	cr_assert(metadata_peer_add(f.md, 5, f.size));
	cr_assert_not(metadata_peer_add(f.md, 6, f.size));
	cr_assert(metadata_next_request(f.md, 5, T0, &piece));
	fx_clear(&f);
}

Test(metadata, removal_returns_requests)
{
	struct fx	f;
	uint32_t	got[4];

	fx_init(&f, 6 * P);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 4);
	cr_assert_eq(ask_all(&f, 2, T0, got, nitems(got)), 2);
	cr_assert_eq(got[0], 4);
	metadata_peer_remove(f.md, 1);
	cr_assert_eq(honest(&f, 1, 0, T0), METADATA_IGNORED);
	cr_assert_eq(ask_all(&f, 2, T0, got, nitems(got)), 2);
	cr_assert_eq(got[0], 0);
	cr_assert_eq(got[1], 1);
	cr_assert(metadata_peer_add(f.md, 3, f.size));
	cr_assert_eq(ask_all(&f, 3, T0, got, nitems(got)), 2);
	cr_assert_eq(got[0], 2);
	cr_assert_eq(got[1], 3);
	/* The deadline follows the requests left. */
	metadata_peer_remove(f.md, 2);
	metadata_peer_remove(f.md, 3);
	cr_assert_eq(metadata_deadline(f.md), UINT64_MAX);
	fx_clear(&f);
}

Test(metadata, peer_offers_again)
{
	struct fx	f;
	uint32_t	got[4];

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 3);
	/* Same size: nothing changes; another: its requests go back. */
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	cr_assert_eq(ask_all(&f, 2, T0, got, nitems(got)), 0);
	cr_assert(metadata_peer_add(f.md, 1, f.size + 1));
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(ask_all(&f, 1, T0, got, nitems(got)), 0);
	cr_assert_eq(ask_all(&f, 2, T0, got, nitems(got)), 3);
	fx_clear(&f);
}

Test(metadata, free_null)
{
	metadata_free(NULL);
}

Test(metadata, size_tie_goes_to_the_first_offered)
{
	struct fx	f;
	uint32_t	got[4];

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 66, 99999));
	cr_assert(metadata_peer_add(f.md, 5, 12345));
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert(metadata_peer_add(f.md, 6, 12345));
	cr_assert(metadata_peer_add(f.md, 3, f.size));
	cr_assert_eq(ask_all(&f, 66, T0, got, nitems(got)), 4);
	metadata_peer_remove(f.md, 66);
	cr_assert_eq(metadata_size(f.md), 12345);
	cr_assert_eq(metadata_have(f.md), 0);
	cr_assert_eq(metadata_deadline(f.md), UINT64_MAX);
	fx_clear(&f);
}

Test(metadata, next_source_offers_another_size)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	got[4], peer = 2;

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 66, 99999));
	cr_assert_eq(ask_all(&f, 66, now, got, nitems(got)), 4);
	cr_assert_eq(liar(&f, 66, got[0], 99999, now), METADATA_KEPT);
	metadata_peer_remove(f.md, 66);
	cr_assert_eq(metadata_size(f.md), 99999);	/* kept meanwhile */
	cr_assert_eq(metadata_have(f.md), 1);
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(metadata_size(f.md), f.size);
	cr_assert_eq(metadata_have(f.md), 0);
	cr_assert_eq(run(&f, &peer, 1, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

/* In a one-peer attempt, a peer that rejects hands its turn on. */
Test(metadata, one_peer_attempt_turn_passes_on_reject)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	peers[] = { 66, 7 }, lie[] = { 66 }, got[4], piece;
	size_t		n;

	fx_init(&f, 8 * P);
	cr_assert(metadata_peer_add(f.md, 66, f.size));
	cr_assert(metadata_peer_add(f.md, 7, f.size));
	cr_assert_eq(run(&f, peers, 2, lie, 1, &now), METADATA_FAILED);
	n = ask_all(&f, 66, now, got, nitems(got));
	cr_assert_eq(n, METADATA_PEER_QUEUE);
	cr_assert_not(metadata_next_request(f.md, 7, now, &piece));
	metadata_on_reject(f.md, 66, got[0], now);
	cr_assert(metadata_next_request(f.md, 7, now, &piece));
	cr_assert_eq(piece, got[0]);
	/* 66 answers the rest; 7 takes over: two sources, no blame. */
	cr_assert_eq(liar(&f, 66, got[1], f.size, now), METADATA_KEPT);
	fx_clear(&f);
}

Test(metadata, silent_peer_cannot_hold_its_size)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	got[4], honest_peers[] = { 2 };
	int		i;

	fx_init(&f, 40000);
	cr_assert(metadata_peer_add(f.md, 66, 50000));	/* then silent */
	cr_assert(metadata_peer_add(f.md, 2, f.size));
	cr_assert_eq(metadata_size(f.md), 50000);
	for (i = 0; i < METADATA_MAX_TIMEOUTS; i++) {
		cr_assert_not(metadata_peer_bad(f.md, 66));
		cr_assert_gt(ask_all(&f, 66, now, got, nitems(got)), 0);
		now += METADATA_REQUEST_MS;
		metadata_tick(f.md, now);
	}
	cr_assert(metadata_peer_bad(f.md, 66), "silent: bad");
	cr_assert_eq(metadata_size(f.md), f.size, "the other size chosen");
	cr_assert_eq(run(&f, honest_peers, 1, NULL, 0, &now), METADATA_DONE);
	assert_done(&f);
	fx_clear(&f);
}

Test(metadata, an_answer_resets_the_timeouts)
{
	struct fx	f;
	uint64_t	now = T0;
	uint32_t	piece;
	int		i;

	fx_init(&f, 10 * P);
	cr_assert(metadata_peer_add(f.md, 1, f.size));
	for (i = 0; i < 3 * METADATA_MAX_TIMEOUTS; i++) {
		/* one request answered, the rest expire */
		cr_assert(metadata_next_request(f.md, 1, now, &piece));
		cr_assert_eq(honest(&f, 1, piece, now), METADATA_KEPT);
		while (metadata_next_request(f.md, 1, now, &piece))
			;
		now += METADATA_REQUEST_MS;
		metadata_tick(f.md, now);
		if (metadata_have(f.md) == 9)
			break;
	}
	cr_assert_not(metadata_peer_bad(f.md, 1));
	fx_clear(&f);
}
