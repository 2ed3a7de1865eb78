/* fuzz-peer.c - libFuzzer target: whole conversations with one peer */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "buf.h"
#include "peer.h"
#include "util.h"
#include "wire.h"

#include "fuzz.h"

/*
 * The input is a script.  Four bytes of configuration (flags, piece count,
 * piece size, last piece size), then operations, one byte each plus their
 * arguments: messages from the peer (raw frames through wire_decode, or
 * typed ones built with the encoders, including answers to the requests
 * we have out), clock jumps with peer_tick, and what the torrent does
 * (choke, fill, serve, reject, cancel, announce a piece, extended send,
 * our allowed-fast set, a suggestion).
 * The stub hooks behave like a torrent: pick hands out blocks nobody has
 * asked for, block takes them, has_piece reads a bitfield.
 *
 * Checked after every step: what the peer queued decodes frame by frame;
 * the blocks the torrent believes are asked of this peer are exactly the
 * peer's queue (every one comes back: block, abandon or our cancel); the
 * availability the torrent was told (bitfield + haves) is the peer's set;
 * a piece the peer announced is never lost; a PIECE or REJECT we send
 * answers a request the peer made and nothing answered yet; a closed peer
 * stays closed with a reason; BEP 6 messages go out only under the fast
 * extension, for pieces we have; while the peer chokes us the picker is
 * offered only its allowed-fast pieces, which it has.
 *
 * A magnet (bit 7 of the piece size byte): the peer starts without
 * metadata and holds what it hears until an operation gives it the
 * geometry (peer_set_metadata); nothing reaches the hooks before that.
 */

#define MAX_PIECES	1500
#define MAX_OPEN	4096		/* peer requests tracked */
#define MAX_PENDING	2048		/* requests the torrent holds */
#define MAX_OPS		8192		/* steps per input */

enum { B_FREE, B_ASKED, B_GOT };

struct open_req {
	struct block_req	r;
	uint32_t		n;		/* unanswered copies */
};

struct fz {
	const uint8_t		*in;
	size_t			 len, off;

	struct peer		*p;
	struct peer_config	 cfg;
	uint64_t		 now;
	uint32_t		 bpp;		/* blocks per piece */
	struct bitfield		 ours;
	uint8_t			*st;		/* per block: B_* */
	size_t			 cursor;	/* no free block before it */
	size_t			*asked;		/* blocks in B_ASKED */
	size_t			*apos;		/* per block: index in asked */
	size_t			 nasked;

	/* What the torrent was told about the peer's pieces. */
	bool			 got_bitfield;
	uint64_t		 avail;
	struct bitfield		 seen;		/* every piece announced */

	/* Requests from the peer: held by the torrent, and unanswered. */
	struct block_req	 pending[MAX_PENDING];
	size_t			 npending;
	struct open_req		 open[MAX_OPEN];
	size_t			 nopen;
	bool			 open_overflow;
	int			 serve_mode;	/* 0 hold, 1 serve, 2 reject */
	enum gt_err		 ext_err, block_err;
	bool			 in_hook;
	bool			 magnet;	/* no metadata yet (npieces 0) */
	bool			 fast;		/* negotiated */
};

static uint8_t	data[WIRE_MAX_REQUEST];
static uint8_t	scratch[WIRE_MAX_FRAME];

/* Input. */

static uint8_t
get8(struct fz *z)
{
	return z->off < z->len ? z->in[z->off++] : 0;
}

static uint16_t
get16(struct fz *z)
{
	uint16_t	v = get8(z);

	return (uint16_t)(v << 8 | get8(z));
}

static uint32_t
get32(struct fz *z)
{
	uint32_t	v = get16(z);

	return v << 16 | get16(z);
}

/* Geometry. */

static uint32_t
psize(const struct fz *z, uint32_t piece)
{
	return piece + 1 == z->cfg.npieces ? z->cfg.last_size :
	    z->cfg.piece_length;
}

static uint32_t
nblocks(const struct fz *z, uint32_t piece)
{
	uint32_t	s = psize(z, piece);

	return s / WIRE_BLOCK + (s % WIRE_BLOCK != 0);
}

static bool
blk_of(const struct fz *z, const struct block_req *r, size_t *g)
{
	if (r->piece >= z->cfg.npieces || r->offset % WIRE_BLOCK != 0 ||
	    r->offset / WIRE_BLOCK >= nblocks(z, r->piece))
		return false;
	*g = (size_t)r->piece * z->bpp + r->offset / WIRE_BLOCK;
	return true;
}

static struct block_req
blk_req(const struct fz *z, size_t g)
{
	uint32_t	piece = (uint32_t)(g / z->bpp);
	uint32_t	off = (uint32_t)(g % z->bpp) * WIRE_BLOCK;

	return (struct block_req){
		.piece = piece, .offset = off,
		.length = MIN(WIRE_BLOCK, psize(z, piece) - off),
	};
}

/* Moves block g to state to, keeping the list of asked blocks. */
static void
blk_state(struct fz *z, size_t g, int to)
{
	size_t	last;

	if (z->st[g] == B_ASKED) {
		last = z->asked[--z->nasked];
		z->asked[z->apos[g]] = last;
		z->apos[last] = z->apos[g];
	}
	if (to == B_ASKED) {
		z->apos[g] = z->nasked;
		z->asked[z->nasked++] = g;
	}
	if (to == B_FREE)
		z->cursor = MIN(z->cursor, g);
	z->st[g] = (uint8_t)to;
}

/* Peer requests: opened when fed, closed by an answer in the output. */

static void
open_add(struct fz *z, const struct block_req *r)
{
	size_t	i;

	for (i = 0; i < z->nopen; i++)
		if (memcmp(&z->open[i].r, r, sizeof(*r)) == 0) {
			z->open[i].n++;
			return;
		}
	if (z->nopen == MAX_OPEN) {
		z->open_overflow = true;
		return;
	}
	z->open[z->nopen++] = (struct open_req){ .r = *r, .n = 1 };
}

static void
open_answer(struct fz *z, const struct block_req *r)
{
	size_t	i;

	for (i = 0; i < z->nopen; i++)
		if (memcmp(&z->open[i].r, r, sizeof(*r)) == 0 &&
		    z->open[i].n > 0) {
			z->open[i].n--;
			return;
		}
	CHECK(z->open_overflow);	/* an answer to nothing */
}

/* Hooks: a torrent in miniature. */

static void
h_have(void *ctx, struct peer *p, uint32_t piece)
{
	struct fz	*z = ctx;

	CHECK(p == z->p && piece < z->cfg.npieces);
	CHECK(bitfield_get(peer_has(p), piece));
	CHECK(bitfield_set(&z->seen, piece));	/* each piece once */
	z->avail++;
}

static void
h_bitfield(void *ctx, struct peer *p, const struct bitfield *b)
{
	struct fz	*z = ctx;
	uint32_t	 i;

	CHECK(p == z->p && b->n == z->cfg.npieces);
	CHECK(!z->got_bitfield && z->avail == 0);
	z->got_bitfield = true;
	z->avail = b->count;
	for (i = 0; i < b->n; i++)
		if (bitfield_get(b, i))
			CHECK(bitfield_set(&z->seen, i));
}

static size_t
h_pick(void *ctx, struct peer *p, const struct block_req *busy,
    size_t nbusy, struct block_req *out, size_t max)
{
	struct fz		*z = ctx;
	const struct bitfield	*has = peer_pick_set(p);
	const struct bitfield	*sug = peer_suggested(p);
	size_t			 g, n = 0, total = (size_t)z->cfg.npieces *
				    z->bpp, i, gb;
	uint32_t		 piece;

	CHECK(p == z->p && nbusy == z->nasked && max > 0);
	CHECK(has->n == z->cfg.npieces);
	if (peer_is_choking(p))
		CHECK(z->fast && has->count > 0 &&
		    has->count <= PEER_FAST_MAX);
	else	/* its pieces, less those it refused lately */
		CHECK(has == peer_has(p) ||
		    (has->count <= peer_has(p)->count &&
		    has->count + PEER_REFUSED_MAX >= peer_has(p)->count));
	for (piece = bitfield_next_set(has, 0); piece < has->n;
	    piece = bitfield_next_set(has, piece + 1))
		CHECK(bitfield_get(peer_has(p), piece));
	if (sug != NULL) {
		CHECK(z->fast && !peer_is_choking(p) && sug->count > 0 &&
		    sug->count <= PEER_SUGGEST_MAX);
		for (piece = bitfield_next_set(sug, 0); piece < sug->n;
		    piece = bitfield_next_set(sug, piece + 1))
			CHECK(bitfield_get(peer_has(p), piece) &&
			    !bitfield_get(&z->ours, piece));
	}
	for (i = 0; i < nbusy; i++) {
		CHECK(blk_of(z, &busy[i], &gb));
		CHECK(z->st[gb] == B_ASKED);
	}
	while (z->cursor < total && z->st[z->cursor] != B_FREE)
		z->cursor++;
	for (g = z->cursor; g < total && n < max; g++) {
		piece = (uint32_t)(g / z->bpp);
		if (z->st[g] != B_FREE || g % z->bpp >= nblocks(z, piece) ||
		    bitfield_get(&z->ours, piece) ||
		    !bitfield_get(has, piece))
			continue;
		out[n++] = blk_req(z, g);
		blk_state(z, g, B_ASKED);
	}
	return n;
}

static void
h_abandon(void *ctx, struct peer *p, const struct block_req *r)
{
	struct fz	*z = ctx;
	size_t		 g;

	CHECK(p == z->p && blk_of(z, r, &g));
	CHECK(z->st[g] == B_ASKED);
	blk_state(z, g, B_FREE);
}

static enum gt_err
h_block(void *ctx, struct peer *p, const struct block_req *r,
    const uint8_t *d)
{
	struct fz		*z = ctx;
	struct block_req	 want;
	size_t			 g;
	uint32_t		 k;
	bool			 all = true;

	CHECK(p == z->p && d != NULL && blk_of(z, r, &g));
	want = blk_req(z, g);
	CHECK(r->length == want.length);
	CHECK(z->st[g] == B_ASKED);
	blk_state(z, g, B_GOT);
	for (k = 0; k < nblocks(z, r->piece); k++)
		all = all && z->st[(size_t)r->piece * z->bpp + k] == B_GOT;
	if (all)
		bitfield_set(&z->ours, r->piece);	/* "hashed" */
	return z->block_err;
}

static bool
h_has_piece(void *ctx, uint32_t piece)
{
	struct fz	*z = ctx;

	return bitfield_get(&z->ours, piece);
}

static bool
h_wants(void *ctx, const struct bitfield *has)
{
	struct fz	*z = ctx;
	uint32_t	 i;

	for (i = bitfield_next_set(has, 0); i < has->n;
	    i = bitfield_next_set(has, i + 1))
		if (!bitfield_get(&z->ours, i))
			return true;
	return false;
}

static void
h_request(void *ctx, struct peer *p, const struct block_req *r)
{
	struct fz	*z = ctx;

	CHECK(p == z->p && bitfield_get(&z->ours, r->piece));
	CHECK(r->length > 0 && r->length <= WIRE_MAX_REQUEST);
	CHECK(r->offset <= psize(z, r->piece) &&
	    r->length <= psize(z, r->piece) - r->offset);
	switch (z->serve_mode) {
	case 1:
		(void)peer_send_block(p, r, data);
		return;
	case 2:
		(void)peer_reject_request(p, r);
		return;
	}
	if (z->npending < MAX_PENDING)
		z->pending[z->npending++] = *r;
	else
		(void)peer_reject_request(p, r);	/* ring full */
}

static enum gt_err
h_extended(void *ctx, struct peer *p, uint8_t id, const uint8_t *payload,
    size_t len)
{
	struct fz	*z = ctx;

	CHECK(p == z->p && (len == 0 || payload != NULL));
	(void)id;
	return z->ext_err;
}

static const struct peer_hooks hooks = {
	.have = h_have, .bitfield = h_bitfield, .pick = h_pick,
	.abandon = h_abandon, .block = h_block, .has_piece = h_has_piece,
	.wants = h_wants, .request = h_request, .extended = h_extended,
};

/* Invariants. */

static void
drain(struct fz *z)
{
	struct buf		*b = peer_out(z->p);
	struct wire_msg		 m;
	struct block_req	 r;
	size_t			 off = 0, used;

	CHECK(b->len <= PEER_OUT_MAX);
	while (off < b->len) {
		CHECK(wire_decode(b->data + off, b->len - off, &m, &used) ==
		    GT_OK);
		r = (struct block_req){ m.index, m.begin, m.length };
		switch (m.type) {
		case WIRE_PIECE:
			CHECK(bitfield_get(&z->ours, m.index));
			open_answer(z, &r);
			break;
		case WIRE_REJECT:
			CHECK(peer_state(z->p) != PEER_HANDSHAKE);
			open_answer(z, &r);
			break;
		case WIRE_REQUEST:
			CHECK(m.index < z->cfg.npieces && m.length > 0 &&
			    m.length <= WIRE_BLOCK);
			break;
		case WIRE_HAVE:
			CHECK(bitfield_get(&z->ours, m.index));
			break;
		case WIRE_SUGGEST:
		case WIRE_ALLOWED_FAST:
			CHECK(z->fast && bitfield_get(&z->ours, m.index));
			break;
		case WIRE_UNKNOWN:
		case WIRE_PORT:
			CHECK(0);		/* we never send these */
			break;
		default:
			break;
		}
		off += used;
	}
	buf_reset(b);
}

static void
check(struct fz *z)
{
	const struct bitfield	*has = peer_has(z->p);
	size_t			 k;
	uint32_t		 c = 0;

	CHECK(peer_queue_len(z->p) == z->nasked);
	CHECK(peer_queue_len(z->p) <= PEER_MAX_QUEUE);
	CHECK(peer_queue_depth(z->p) >= PEER_MIN_QUEUE &&
	    peer_queue_depth(z->p) <= PEER_MAX_QUEUE);
	for (k = 0; k < bitfield_nbytes(has); k++) {
		c += (uint32_t)__builtin_popcount(has->bits[k]);
		/* announced once, held for good */
		CHECK((z->seen.bits[k] & ~has->bits[k]) == 0);
	}
	CHECK(c == has->count);
	CHECK(z->avail == has->count);
	CHECK(peer_out(z->p)->len <= PEER_OUT_MAX);
	if (peer_state(z->p) == PEER_CLOSING)
		CHECK(peer_error(z->p) != NULL && peer_deadline(z->p) == 0);
	else
		CHECK(peer_error(z->p) == NULL);
	if (z->magnet)
		CHECK(has->count == 0 && z->avail == 0 && !z->got_bitfield);
	else if (peer_is_seed(z->p))
		CHECK(has->count == z->cfg.npieces);
}

/* Feeding messages. */

static void
feed(struct fz *z, const struct wire_msg *m)
{
	enum peer_state	st = peer_state(z->p);
	enum gt_err	e;

	e = peer_on_msg(z->p, m, z->now);
	if (st == PEER_CLOSING)
		CHECK(e != GT_OK);
	if (e != GT_OK) {
		CHECK(peer_state(z->p) == PEER_CLOSING);
		return;
	}
	CHECK(peer_state(z->p) == PEER_ACTIVE);
	if (m->type == WIRE_REQUEST)
		open_add(z, &(struct block_req){ m->index, m->begin,
		    m->length });
}

/* Decodes the frames in b (encoded by us or raw) and feeds them. */
static void
feed_frames(struct fz *z, const uint8_t *b, size_t len)
{
	struct wire_msg	m;
	size_t		off = 0, used;

	while (off < len && wire_decode(b + off, len - off, &m, &used) ==
	    GT_OK) {
		feed(z, &m);
		off += used;
	}
}

static uint32_t
pick_index(struct fz *z)
{
	uint8_t	v = get8(z);

	if (v == 0xff)
		return get32(z);
	return v % (z->cfg.npieces + 2);	/* sometimes out of range */
}

static uint32_t
pick_begin(struct fz *z)
{
	uint8_t	v = get8(z);

	if (v == 0xff)
		return get32(z);
	return (uint32_t)(v % 8) * WIRE_BLOCK;
}

static uint32_t
pick_length(struct fz *z, uint32_t index, uint32_t begin)
{
	uint8_t	v = get8(z);

	switch (v % 5) {
	case 0:
	case 1:
		return WIRE_BLOCK;
	case 2:
		if (index < z->cfg.npieces && begin < psize(z, index))
			return MIN(WIRE_BLOCK, psize(z, index) - begin);
		return 1;
	case 3:
		return get16(z);
	default:
		return v == 0xff ? get32(z) : v;
	}
}

/* A BITFIELD body: all, none, bytes from the input, or malformed. */
static void
put_bitfield(struct fz *z, struct buf *b)
{
	struct bitfield	bf;
	uint8_t		mode = get8(z), step;
	size_t		n, k;
	uint32_t	i;

	bitfield_init(&bf, z->cfg.npieces);
	n = bitfield_nbytes(&bf);
	switch (mode % 6) {
	case 0:
		bitfield_set_all(&bf);
		break;
	case 1:
		break;
	case 2:
		step = (uint8_t)(1 + get8(z) % 16);
		for (i = get8(z) % step; i < bf.n; i += step)
			bitfield_set(&bf, i);
		break;
	case 3:
		for (k = 0; k < n; k++)
			bf.bits[k] = get8(z);
		/* spare bits stay as the input made them: often bad */
		break;
	case 4:
		n += (mode & 0x10) ? 1 : (n > 0 ? (size_t)-1 : 1);
		break;
	default:
		i = get16(z) % (bf.n + 1);
		bitfield_set(&bf, i);
		break;
	}
	if (mode % 6 == 4) {
		uint8_t	*tmp = xcalloc(n + 1, 1);

		(void)wire_put_bitfield(b, tmp, n);
		free(tmp);
	} else
		(void)wire_put_bitfield(b, bf.bits, n);
	bitfield_clear(&bf);
}

static void
op_typed(struct fz *z)
{
	static const enum wire_type	types[] = {
		WIRE_CHOKE, WIRE_UNCHOKE, WIRE_INTERESTED,
		WIRE_NOT_INTERESTED, WIRE_HAVE, WIRE_BITFIELD, WIRE_REQUEST,
		WIRE_PIECE, WIRE_CANCEL, WIRE_PORT, WIRE_SUGGEST,
		WIRE_HAVE_ALL, WIRE_HAVE_NONE, WIRE_REJECT,
		WIRE_ALLOWED_FAST, WIRE_EXTENDED, WIRE_KEEPALIVE,
	};
	enum wire_type	t = types[get8(z) % nitems(types)];
	struct buf	b;
	uint32_t	index, begin, length;
	uint8_t		ext[64];
	size_t		n, k;

	buf_init(&b, WIRE_MAX_FRAME);
	switch (t) {
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		(void)wire_put_simple(&b, t);
		break;
	case WIRE_KEEPALIVE:
		(void)wire_put_keepalive(&b);
		break;
	case WIRE_HAVE:
		(void)wire_put_have(&b, pick_index(z));
		break;
	case WIRE_SUGGEST:
		store_be32(scratch, 5);
		scratch[4] = WIRE_SUGGEST;
		store_be32(scratch + 5, pick_index(z));
		(void)buf_append(&b, scratch, 9);
		break;
	case WIRE_ALLOWED_FAST:
		(void)wire_put_allowed_fast(&b, pick_index(z));
		break;
	case WIRE_PORT:
		(void)wire_put_port(&b, get16(z));
		break;
	case WIRE_BITFIELD:
		put_bitfield(z, &b);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		index = pick_index(z);
		begin = pick_begin(z);
		length = pick_length(z, index, begin);
		(void)wire_put_block_msg(&b, t, index, begin, length);
		break;
	case WIRE_PIECE:
		index = pick_index(z);
		begin = pick_begin(z);
		length = pick_length(z, index, begin);
		if (length == 0 || length > WIRE_MAX_REQUEST)
			length = WIRE_BLOCK;
		(void)wire_put_piece(&b, index, begin, data, length);
		break;
	case WIRE_EXTENDED:
		n = get8(z) % sizeof(ext);
		for (k = 0; k < n; k++)
			ext[k] = get8(z);
		(void)wire_put_extended(&b, get8(z), ext, n);
		break;
	default:
		break;
	}
	feed_frames(z, b.data, b.len);
	buf_clear(&b);
}

/* Answers one of our outstanding requests: right, late, or wrong. */
static void
op_answer(struct fz *z)
{
	uint8_t			 how = get8(z), k = get8(z);
	size_t			 g, total = (size_t)z->cfg.npieces * z->bpp;
	struct block_req	 r;
	struct buf		 b;

	if (z->nasked > 0)
		g = z->asked[k % z->nasked];
	else				/* a block nobody asked for */
		g = ((size_t)how << 8 | k) % total;
	r = blk_req(z, g);
	buf_init(&b, WIRE_MAX_FRAME);
	switch (how % 8) {
	case 6:
		(void)wire_put_block_msg(&b, WIRE_REJECT, r.piece, r.offset,
		    r.length);
		break;
	case 7:
		(void)wire_put_piece(&b, r.piece, r.offset, data,
		    r.length > 1 ? r.length - 1 : 2);
		break;
	default:
		(void)wire_put_piece(&b, r.piece, r.offset, data, r.length);
		break;
	}
	feed_frames(z, b.data, b.len);
	buf_clear(&b);
}

static void
op_tick(struct fz *z)
{
	uint8_t		v = get8(z);
	uint64_t	d;
	enum gt_err	e;

	if (v == 0xff && peer_deadline(z->p) > z->now)
		z->now = peer_deadline(z->p);	/* just when due */
	else {
		d = (uint64_t)(v & 0x3f) << ((v >> 6) * 5);
		z->now += d;
	}
	e = peer_tick(z->p, z->now);
	CHECK((e == GT_OK) == (peer_state(z->p) != PEER_CLOSING));
	if (e == GT_OK)
		CHECK(peer_deadline(z->p) > z->now);
}

static void
op_serve(struct fz *z, bool reject)
{
	struct block_req	r;
	size_t			k;
	enum gt_err		e;

	if (z->npending == 0)
		return;
	k = get8(z) % z->npending;
	r = z->pending[k];
	z->pending[k] = z->pending[--z->npending];
	if (reject)
		e = peer_reject_request(z->p, &r);
	else
		e = peer_send_block(z->p, &r, data);
	if (peer_state(z->p) == PEER_ACTIVE)
		CHECK(e == GT_OK);
	else
		CHECK(e != GT_OK);
}

static void
op_cancel(struct fz *z)
{
	size_t			before = peer_queue_len(z->p), g;
	struct block_req	r;
	uint8_t			k = get8(z);

	if (z->nasked == 0)
		return;
	g = z->asked[k % z->nasked];
	r = blk_req(z, g);
	peer_cancel_block(z->p, &r);
	if (peer_queue_len(z->p) < before) {
		CHECK(peer_queue_len(z->p) + 1 == before);
		blk_state(z, g, B_FREE);	/* the torrent's own abandon */
	} else
		CHECK(peer_state(z->p) != PEER_ACTIVE);
}

static void
op_have(struct fz *z)
{
	uint32_t	piece = get16(z) % z->cfg.npieces, k;
	size_t		g;

	if (z->magnet || bitfield_get(&z->ours, piece))
		return;
	/* Verified from elsewhere; blocks asked stay asked. */
	bitfield_set(&z->ours, piece);
	for (k = 0; k < nblocks(z, piece); k++) {
		g = (size_t)piece * z->bpp + k;
		if (z->st[g] == B_FREE)
			blk_state(z, g, B_GOT);
	}
	peer_announce_have(z->p, piece, z->now);
}

static void
op_handshake(struct fz *z, uint8_t f)
{
	struct wire_handshake	hs = { .reserved = { 0 } };
	enum peer_state		st = peer_state(z->p);
	struct bitfield		none;
	enum gt_err		e;

	if (f & 1)
		hs.reserved[7] |= WIRE_RSV_FAST;
	if (f & 2)
		hs.reserved[5] |= WIRE_RSV_EXTENDED;
	memset(hs.peer_id, f, sizeof(hs.peer_id));
	bitfield_init(&none, 0);
	e = peer_on_handshake(z->p, &hs, z->magnet ? &none : &z->ours,
	    z->now);
	bitfield_clear(&none);
	CHECK((e == GT_OK) == (st == PEER_HANDSHAKE));
	if (e == GT_OK) {
		CHECK(peer_handshake(z->p) != NULL);
		z->fast = z->cfg.fast && (f & 1);
	}
}

/* Our allowed-fast set for the peer (BEP 6): a few pieces, some bad. */
static void
op_allowed_fast(struct fz *z)
{
	uint32_t	set[PEER_FAST_MAX + 8];
	size_t		n = get8(z) % nitems(set), k;

	for (k = 0; k < n; k++)
		set[k] = z->magnet ? get16(z) : pick_index(z);
	peer_set_allowed_fast(z->p, set, n, z->now);
	for (k = 0; k < n; k++)
		if (peer_allows_fast(z->p, set[k]))
			CHECK(z->fast && !z->magnet &&
			    set[k] < z->cfg.npieces &&
			    !bitfield_get(peer_has(z->p), set[k]));
}

static void
op_suggest(struct fz *z)
{
	uint32_t	piece = z->magnet ? get16(z) : pick_index(z);

	if (peer_suggest(z->p, piece, z->now))
		CHECK(z->fast && !z->magnet && bitfield_get(&z->ours, piece) &&
		    !bitfield_get(peer_has(z->p), piece) &&
		    !peer_am_choking(z->p));
}

/* The metadata arrived: the peer learns the geometry. */
static void
op_metadata(struct fz *z)
{
	enum peer_state	st = peer_state(z->p);
	enum gt_err	e;

	if (!z->magnet)
		return;
	z->magnet = false;
	e = peer_set_metadata(z->p, &z->cfg, z->now);
	if (st == PEER_CLOSING)
		CHECK(e != GT_OK);
	CHECK((e == GT_OK) == (peer_state(z->p) != PEER_CLOSING));
}

static void
setup(struct fz *z)
{
	static const uint32_t	plens[] = {
		16384, 32768, 49152, 65536, 20000, 8192, 262144, 1,
	};
	struct peer_config	c0;
	uint8_t			f = get8(z), b, pl;
	uint32_t		i;

	z->cfg.npieces = 1 + get16(z) % MAX_PIECES;
	pl = get8(z);
	z->magnet = (pl & 0x80) != 0;
	z->cfg.piece_length = plens[pl % nitems(plens)];
	z->cfg.last_size = 1 + get16(z) % z->cfg.piece_length;
	z->cfg.fast = (f & 1) != 0;
	z->cfg.extended = (f & 2) != 0;
	z->bpp = z->cfg.piece_length / WIRE_BLOCK +
	    (z->cfg.piece_length % WIRE_BLOCK != 0);
	z->st = xcalloc((size_t)z->cfg.npieces * z->bpp, 1);
	z->asked = xcalloc((size_t)z->cfg.npieces * z->bpp,
	    sizeof(*z->asked));
	z->apos = xcalloc((size_t)z->cfg.npieces * z->bpp, sizeof(*z->apos));
	bitfield_init(&z->ours, z->cfg.npieces);
	bitfield_init(&z->seen, z->cfg.npieces);
	switch (z->magnet ? 0 : (f >> 2) & 3) {
	case 1:
		bitfield_set_all(&z->ours);
		break;
	case 2:
		b = (uint8_t)(1 + get8(z) % 8);
		for (i = 0; i < z->cfg.npieces; i += b)
			bitfield_set(&z->ours, i);
		break;
	case 3:
		bitfield_set(&z->ours, 0);
		break;
	}
	for (i = 0; i < z->cfg.npieces; i++)
		if (bitfield_get(&z->ours, i))
			memset(z->st + (size_t)i * z->bpp, B_GOT, z->bpp);
	z->now = 1000 + get8(z);
	c0 = (struct peer_config){
		.fast = z->cfg.fast, .extended = z->cfg.extended,
	};
	z->p = peer_new(z->magnet ? &c0 : &z->cfg, &hooks, z, z->now);
	CHECK(z->p != NULL && peer_state(z->p) == PEER_HANDSHAKE);
	if ((f & 0x10) == 0)
		op_handshake(z, f >> 5);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct fz	*z;
	size_t		 n, total, nops = 0;
	uint8_t		 op;

	if (size < 4)
		return 0;
	z = xcalloc(1, sizeof(*z));
	z->in = in;
	z->len = size;
	setup(z);
	check(z);
	while (z->off < z->len && nops++ < MAX_OPS) {
		op = get8(z);
		switch (op % 20) {
		case 0:
		case 1:				/* raw frames */
			n = get8(z);
			n = MIN(n, z->len - z->off);
			feed_frames(z, z->in + z->off, n);
			z->off += n;
			break;
		case 2:
		case 3:
		case 4:
			op_typed(z);
			break;
		case 5:
		case 6:
		case 7:
			op_answer(z);
			break;
		case 8:
			op_tick(z);
			break;
		case 9:
			peer_set_choking(z->p, (op & 0x20) != 0, z->now);
			break;
		case 10:
			if (op & 0x80)
				op_allowed_fast(z);
			else if (op & 0x40)
				op_suggest(z);
			else
				peer_fill_requests(z->p, z->now);
			break;
		case 11:
			op_serve(z, false);
			break;
		case 12:
			op_serve(z, true);
			break;
		case 13:
			op_cancel(z);
			break;
		case 14:
			op_have(z);
			break;
		case 15:
			peer_update_interest(z->p, z->now);
			break;
		case 16:
			drain(z);
			break;
		case 17:
			n = get8(z) % 32;
			(void)peer_send_extended(z->p, get8(z), data, n);
			break;
		case 18:
			if (op & 0x80)
				op_metadata(z);
			else
				op_handshake(z, get8(z));
			break;
		default:
			z->serve_mode = (op >> 5) % 3;
			z->ext_err = (op & 0x80) && (op & 0x20) ? GT_EINVAL :
			    GT_OK;
			z->block_err = (op & 0xe0) == 0xe0 ? GT_EIO : GT_OK;
			break;
		}
		check(z);
		z->now += op & 3;
	}
	drain(z);
	/* Every block asked of this peer comes back. */
	peer_abandon_all(z->p);
	CHECK(peer_queue_len(z->p) == 0 && z->nasked == 0);
	total = (size_t)z->cfg.npieces * z->bpp;
	for (n = 0; n < total; n++)
		CHECK(z->st[n] != B_ASKED);
	peer_free(z->p);
	bitfield_clear(&z->ours);
	bitfield_clear(&z->seen);
	free(z->st);
	free(z->asked);
	free(z->apos);
	free(z);
	return 0;
}
