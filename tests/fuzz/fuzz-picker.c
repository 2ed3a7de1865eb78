/*
 * fuzz-picker.c - libFuzzer target: the picker driven by a program of
 * peer events, priority changes and resumed blocks, against a model
 *
 * The input is a program: 2 bytes of geometry and options, then 3-byte
 * operations (op, peer, arg) on up to FZ_PEERS peers with request
 * pipelines.  Checked after every operation: each block's requester count,
 * the end-game condition over the wanted pieces, interest, the rarest
 * level and the wanted counts; on every pick: the peer has the piece, we
 * lack it, it is wanted (priority above 0), the block did not arrive, is
 * not in that peer's pipeline, is a duplicate only in end-game or with
 * bbs_plus, and new pieces are of the highest priority the peer offers
 * (and can be given: not all in its pipeline).
 */
#include <stdbool.h>
#include <string.h>

#include "bitfield.h"
#include "picker.h"
#include "util.h"

#include "fuzz.h"

#define FZ_PEERS	4
#define FZ_PIECES	40
#define FZ_BLOCKS	4
#define FZ_PIPE		12
#define FZ_BLK		16384u

struct fz {
	struct picker		*p;
	struct picker_opts	 o;
	uint32_t		 np, bpp, last;	/* last piece: bytes */
	uint32_t		 req[FZ_PIECES][FZ_BLOCKS];
	bool			 recv[FZ_PIECES][FZ_BLOCKS];
	bool			 have[FZ_PIECES];
	uint8_t			 prio[FZ_PIECES];
	bool			 in[FZ_PEERS];
	struct bitfield		 bf[FZ_PEERS];
	struct block_req	 pipe[FZ_PEERS][FZ_PIPE];
	size_t			 npipe[FZ_PEERS];
};

static uint32_t
fz_nblocks(const struct fz *f, uint32_t piece)
{
	uint32_t	sz = piece == f->np - 1 ? f->last : f->bpp * FZ_BLK;

	return sz / FZ_BLK + (sz % FZ_BLK != 0);
}

static struct block_req
fz_block(const struct fz *f, uint32_t piece, uint32_t j)
{
	uint32_t	sz = piece == f->np - 1 ? f->last : f->bpp * FZ_BLK;

	return (struct block_req){ .piece = piece, .offset = j * FZ_BLK,
	    .length = MIN(FZ_BLK, sz - j * FZ_BLK) };
}

static bool
fz_end_game(const struct fz *f)
{
	uint32_t	i, j;
	bool		any = false;

	for (i = 0; i < f->np; i++) {
		if (f->have[i] || f->prio[i] == PICKER_PRIO_SKIP)
			continue;
		any = true;
		for (j = 0; j < fz_nblocks(f, i); j++)
			if (f->req[i][j] == 0 && !f->recv[i][j])
				return false;
	}
	return any && f->o.end_game;
}

static bool
fz_unstarted(const struct fz *f, uint32_t i)
{
	uint32_t	j;

	if (f->have[i] || f->prio[i] == PICKER_PRIO_SKIP)
		return false;
	for (j = 0; j < fz_nblocks(f, i); j++)
		if (f->req[i][j] > 0 || f->recv[i][j])
			return false;
	return true;
}

static void
fz_check(const struct fz *f)
{
	struct block_req	r;
	uint32_t		i, j, k, av, low = 0, nwant = 0, nhave = 0;
	bool			interest[FZ_PEERS] = { false };

	for (i = 0; i < f->np; i++) {
		for (j = 0; j < fz_nblocks(f, i); j++) {
			r = fz_block(f, i, j);
			CHECK(picker_requesters(f->p, &r) == f->req[i][j]);
			CHECK(picker_block_received(f->p, i, j) ==
			    (f->have[i] || f->recv[i][j]));
		}
		CHECK(picker_priority(f->p, i) == f->prio[i]);
		if (f->prio[i] == PICKER_PRIO_SKIP)
			continue;
		nwant++;
		if (f->have[i]) {
			nhave++;
			continue;
		}
		for (k = 0, av = 0; k < FZ_PEERS; k++) {
			if (!f->in[k] || !bitfield_get(&f->bf[k], i))
				continue;
			av++;
			interest[k] = true;
		}
		if (av > 0 && (low == 0 || av < low))
			low = av;
	}
	CHECK(picker_rarest(f->p) == low);
	CHECK(picker_npieces_wanted(f->p) == nwant);
	CHECK(picker_wanted_complete(f->p) == (nwant == nhave));
	for (k = 0; k < FZ_PEERS; k++)
		if (f->in[k])
			CHECK(picker_interesting(f->p, &f->bf[k]) ==
			    interest[k]);
	CHECK(picker_in_end_game(f->p) == fz_end_game(f));
}

/*
 * Whether every block of piece is in peer k's pipeline (requests a hash
 * failure made stale): the picker cannot offer it to k.
 */
static bool
fz_all_busy(const struct fz *f, uint32_t k, uint32_t piece)
{
	uint32_t	j;
	size_t		y;

	for (j = 0; j < fz_nblocks(f, piece); j++) {
		for (y = 0; y < f->npipe[k]; y++)
			if (f->pipe[k][y].piece == piece &&
			    f->pipe[k][y].offset == j * FZ_BLK)
				break;
		if (y == f->npipe[k])
			return false;
	}
	return true;
}

static void
fz_pick(struct fz *f, uint32_t k, size_t max)
{
	struct block_req	out[FZ_PIPE];
	bool			unstarted[FZ_PIECES], chosen[FZ_PIECES];
	bool			was_end_game = picker_in_end_game(f->p);
	uint32_t		i, j;
	uint8_t			lowest = PICKER_PRIO_MAX + 1, best = 0;
	size_t			n, x, y;

	for (i = 0; i < f->np; i++) {
		unstarted[i] = fz_unstarted(f, i);
		chosen[i] = false;
	}
	max = MIN(max, FZ_PIPE - f->npipe[k]);
	n = picker_next(f->p, &f->bf[k], f->pipe[k], f->npipe[k], out, max);
	CHECK(n <= max);
	for (x = 0; x < n; x++) {
		i = out[x].piece;
		CHECK(i < f->np && out[x].offset % FZ_BLK == 0);
		j = out[x].offset / FZ_BLK;
		CHECK(j < fz_nblocks(f, i));
		CHECK(out[x].length == fz_block(f, i, j).length);
		CHECK(bitfield_get(&f->bf[k], i));
		CHECK(!f->have[i] && !f->recv[i][j]);
		CHECK(f->prio[i] != PICKER_PRIO_SKIP);
		for (y = 0; y < f->npipe[k]; y++)
			CHECK(f->pipe[k][y].piece != i ||
			    f->pipe[k][y].offset != out[x].offset);
		if (f->req[i][j] > 0 && !f->o.bbs_plus)
			CHECK(f->o.end_game && (was_end_game ||
			    picker_in_end_game(f->p)));
		f->req[i][j]++;
		f->pipe[k][f->npipe[k]++] = out[x];
		chosen[i] = true;
		if (unstarted[i])
			lowest = MIN(lowest, f->prio[i]);
	}
	for (i = 0; i < f->np; i++)
		if (unstarted[i] && !chosen[i] && f->prio[i] > best &&
		    bitfield_get(&f->bf[k], i) && !fz_all_busy(f, k, i))
			best = f->prio[i];
	CHECK(lowest > PICKER_PRIO_MAX || lowest >= best);
}

/* A block arrives (from a peer's pipeline, or from a resume record). */
static void
fz_arrive(struct fz *f, uint32_t i, uint32_t j, bool ok, bool done,
    uint8_t arg)
{
	uint32_t	y;

	if (f->have[i]) {
		CHECK(!ok);
		return;
	}
	CHECK(ok == !f->recv[i][j]);
	f->recv[i][j] = true;
	for (y = 0; y < fz_nblocks(f, i) && f->recv[i][y]; y++)
		;
	CHECK(done == (ok && y == fz_nblocks(f, i)));
	if (!done)
		return;
	memset(f->req[i], 0, sizeof(f->req[i]));
	if (arg % 4 == 0) {
		picker_piece_failed(f->p, i);
		memset(f->recv[i], 0, sizeof(f->recv[i]));
	} else {
		picker_piece_passed(f->p, i);
		f->have[i] = true;
	}
}

static void
fz_step(struct fz *f, uint8_t op, uint32_t k, uint8_t arg)
{
	static const uint8_t	 prios[] = { 0, 1, 4, 4, 6, 7, 9 };
	struct block_req	 r;
	uint32_t		 i = arg % f->np, j;
	size_t			 y;
	bool			 ok, done;

	switch (op % 10) {
	case 0:				/* joins, or leaves */
		if (!f->in[k]) {
			f->in[k] = true;
			bitfield_init(&f->bf[k], f->np);
			if (arg & 1)
				bitfield_set_all(&f->bf[k]);
			picker_peer_add(f->p, &f->bf[k]);
			break;
		}
		for (y = 0; y < f->npipe[k]; y++) {
			r = f->pipe[k][y];
			picker_abandon(f->p, &r);
			j = r.offset / FZ_BLK;
			if (!f->have[r.piece] && f->req[r.piece][j] > 0)
				f->req[r.piece][j]--;
		}
		f->npipe[k] = 0;
		picker_peer_remove(f->p, &f->bf[k]);
		bitfield_clear(&f->bf[k]);
		f->in[k] = false;
		break;
	case 1:				/* HAVE */
		if (f->in[k] && bitfield_set(&f->bf[k], i))
			picker_peer_have(f->p, i);
		break;
	case 2: case 3:			/* asks */
		if (f->in[k])
			fz_pick(f, k, 1 + arg % 8);
		break;
	case 4: case 5:			/* a block arrives */
		if (!f->in[k] || f->npipe[k] == 0)
			break;
		y = arg % f->npipe[k];
		r = f->pipe[k][y];
		f->pipe[k][y] = f->pipe[k][--f->npipe[k]];
		j = r.offset / FZ_BLK;
		ok = picker_received(f->p, &r, &done);
		if (!f->have[r.piece] && f->req[r.piece][j] > 0)
			f->req[r.piece][j]--;
		fz_arrive(f, r.piece, j, ok, done, arg >> 4);
		break;
	case 6:				/* a request given up */
		if (!f->in[k] || f->npipe[k] == 0)
			break;
		y = arg % f->npipe[k];
		r = f->pipe[k][y];
		f->pipe[k][y] = f->pipe[k][--f->npipe[k]];
		picker_abandon(f->p, &r);
		j = r.offset / FZ_BLK;
		if (!f->have[r.piece] && f->req[r.piece][j] > 0)
			f->req[r.piece][j]--;
		break;
	case 7:				/* a priority */
		f->prio[i] = MIN(prios[k + (arg >> 6) % 4],
		    PICKER_PRIO_MAX);
		picker_set_priority(f->p, i, prios[k + (arg >> 6) % 4]);
		break;
	case 8:				/* a block from a resume record */
		j = (arg >> 6) % fz_nblocks(f, i);
		if (f->have[i]) {
			CHECK(!picker_set_received(f->p, i, j));
			break;
		}
		done = picker_set_received(f->p, i, j);
		if (f->req[i][j] > 0)
			f->req[i][j]--;		/* as picker_received */
		fz_arrive(f, i, j, !f->recv[i][j], done, (uint8_t)k);
		break;
	default:
		picker_set_sequential(f->p, (arg & 1) != 0);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	*f;
	size_t		 pos;
	uint32_t	 k;

	if (size < 2)
		return 0;
	f = xcalloc(1, sizeof(*f));
	f->np = 1 + data[0] % FZ_PIECES;
	f->bpp = 1 + (data[0] / FZ_PIECES) % FZ_BLOCKS;
	f->last = 1 + (uint32_t)data[1] * 997 % (f->bpp * FZ_BLK);
	f->o = (struct picker_opts){
		.rarest_first = (data[1] & 1) != 0,
		.end_game = (data[1] & 2) != 0,
		.bbs_plus = (data[1] & 4) != 0,
		.random_first = data[1] >> 6,
		.seed = data[1],
	};
	memset(f->prio, PICKER_PRIO_NORMAL, sizeof(f->prio));
	f->p = picker_new(f->np, f->bpp * FZ_BLK, f->last, &f->o);
	CHECK(f->p != NULL);
	for (pos = 2; pos + 3 <= size; pos += 3) {
		fz_step(f, data[pos], data[pos + 1] % FZ_PEERS, data[pos + 2]);
		fz_check(f);
	}
	for (k = 0; k < FZ_PEERS; k++)
		bitfield_clear(&f->bf[k]);
	picker_free(f->p);
	free(f);
	return 0;
}
