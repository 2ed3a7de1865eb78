/* test-peer.c - one connection's protocol state, with fake hooks and clock */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "peer.h"
#include "util.h"
#include "wire.h"

#define BLK	16384u
#define KIB	1024u
#define T0	1000u			/* the fake clock at the start */

/*
 * The fake torrent: a tiny in-order picker over per-block states, and a
 * record of every hook call.
 */
struct fake {
	struct bitfield		 ours;		/* pieces we have */
	uint32_t		 npieces, plen, last, bpp;
	uint8_t			*st;		/* per block: 0 free, 1 asked,
						   2 received */
	size_t			 cursor;	/* no free block before it */
	struct peer		*peer;
	bool			 check_data;
	bool			 serve;		/* answer requests at once */
	bool			 serve_ref;	/* ... by reference */
	bool			 reject;	/* reject them at once */
	bool			 skip_stalled;	/* pick nothing for a stalled
						   peer (as the torrent) */
	enum gt_err		 block_err, ext_err;

	size_t			 nhave, nbitfield, npick, nabandon, nblock;
	size_t			 nrequest, nextended, bad_data;
	uint32_t		 last_have;
	uint64_t		 block_bytes;
	struct block_req	 last_request;
	uint8_t			 last_ext_id;
	size_t			 last_ext_len;
	size_t			 nport;
	uint16_t		 last_port;
};

struct fx {
	struct fake	 f;
	struct peer	*p;
	uint64_t	 now;
};

struct fx_opts {
	uint32_t	 npieces, plen, last;
	const uint32_t	*ours;		/* pieces we have, UINT32_MAX ends */
	bool		 ours_all;
	bool		 we_fast, they_fast, we_ext, they_ext;
	bool		 no_handshake;
	bool		 no_anti_snub;
};

static const uint32_t	have0[] = { 0, UINT32_MAX };
static uint8_t		frame[4 + WIRE_MAX_MSG];
static uint8_t		zeros[WIRE_MAX_REQUEST];

static uint8_t
pat(uint32_t piece, uint32_t off)
{
	return (uint8_t)(piece * 131u + off * 7u + (off >> 9));
}

static void
fill_pat(uint8_t *p, uint32_t piece, uint32_t off, uint32_t len)
{
	uint32_t	i;

	for (i = 0; i < len; i++)
		p[i] = pat(piece, off + i);
}

static bool
pat_ok(uint32_t piece, uint32_t off, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] != pat(piece, off + (uint32_t)i))
			return false;
	}
	return true;
}

static uint32_t
psize(const struct fake *f, uint32_t piece)
{
	return piece + 1 == f->npieces ? f->last : f->plen;
}

static size_t
blk_index(const struct fake *f, const struct block_req *r)
{
	return (size_t)r->piece * f->bpp + r->offset / BLK;
}

/* Hooks. */

static void
h_have(void *ctx, struct peer *p, uint32_t piece)
{
	struct fake	*f = ctx;

	cr_assert_eq(p, f->peer);
	f->nhave++;
	f->last_have = piece;
}

static void
h_bitfield(void *ctx, struct peer *p, const struct bitfield *b)
{
	struct fake	*f = ctx;

	cr_assert_eq(p, f->peer);
	cr_assert_eq(b->n, f->npieces);
	f->nbitfield++;
}

static size_t
h_pick(void *ctx, struct peer *p, const struct block_req *busy, size_t nbusy,
    struct block_req *out, size_t max)
{
	struct fake		*f = ctx;
	const struct bitfield	*has = peer_pick_set(p);
	size_t			 n = 0, g, i, nb = (size_t)f->npieces * f->bpp;
	uint32_t		 piece, k, size;

	f->npick++;
	cr_assert_eq(nbusy, peer_queue_len(p));
	if (f->skip_stalled && peer_is_stalled(p))
		return 0;
	while (f->cursor < nb && f->st[f->cursor] != 0)
		f->cursor++;
	for (g = f->cursor; g < nb && n < max; g++) {
		piece = (uint32_t)(g / f->bpp);
		k = (uint32_t)(g % f->bpp);
		size = psize(f, piece);
		if (f->st[g] != 0 || bitfield_get(&f->ours, piece) ||
		    !bitfield_get(has, piece) || k * BLK >= size)
			continue;
		out[n] = (struct block_req){
			.piece = piece, .offset = k * BLK,
			.length = MIN(BLK, size - k * BLK),
		};
		for (i = 0; i < nbusy; i++)
			cr_assert(busy[i].piece != piece ||
			    busy[i].offset != k * BLK, "picked a busy block");
		f->st[g] = 1;
		n++;
	}
	return n;
}

static void
h_abandon(void *ctx, struct peer *p, const struct block_req *r)
{
	struct fake	*f = ctx;
	size_t		 g = blk_index(f, r);

	cr_assert_eq(p, f->peer);
	cr_assert_eq(f->st[g], 1, "abandoned a block not asked");
	f->st[g] = 0;
	f->cursor = MIN(f->cursor, g);
	f->nabandon++;
}

static enum gt_err
h_block(void *ctx, struct peer *p, const struct block_req *r,
    const uint8_t *data)
{
	struct fake	*f = ctx;
	size_t		 g = blk_index(f, r);

	cr_assert_eq(p, f->peer);
	cr_assert_eq(f->st[g], 1, "block %u+%u not asked", r->piece,
	    r->offset);
	f->st[g] = 2;
	f->nblock++;
	f->block_bytes += r->length;
	if (f->check_data && !pat_ok(r->piece, r->offset, data, r->length))
		f->bad_data++;
	return f->block_err;
}

static bool
h_has_piece(void *ctx, uint32_t piece)
{
	struct fake	*f = ctx;

	return bitfield_get(&f->ours, piece);
}

static bool
h_wants(void *ctx, const struct bitfield *has)
{
	struct fake	*f = ctx;
	uint32_t	 i;

	for (i = 0; i < f->npieces; i++) {
		if (bitfield_get(has, i) && !bitfield_get(&f->ours, i))
			return true;
	}
	return false;
}

static void
h_request(void *ctx, struct peer *p, const struct block_req *r)
{
	struct fake	*f = ctx;
	static uint8_t	 data[WIRE_MAX_REQUEST];

	cr_assert_eq(p, f->peer);
	cr_assert(bitfield_get(&f->ours, r->piece));
	f->nrequest++;
	f->last_request = *r;
	if (f->reject)
		(void)peer_reject_request(p, r);
	else if (f->serve_ref)
		(void)peer_queue_block(p, r);
	else if (f->serve) {
		fill_pat(data, r->piece, r->offset, r->length);
		(void)peer_send_block(p, r, data);
	}
}

static enum gt_err
h_extended(void *ctx, struct peer *p, uint8_t id, const uint8_t *payload,
    size_t len)
{
	struct fake	*f = ctx;

	cr_assert_eq(p, f->peer);
	(void)payload;
	f->nextended++;
	f->last_ext_id = id;
	f->last_ext_len = len;
	return f->ext_err;
}

static void
h_port(void *ctx, struct peer *p, uint16_t port)
{
	struct fake	*f = ctx;

	cr_assert_eq(p, f->peer);
	f->nport++;
	f->last_port = port;
}

static const struct peer_hooks hooks = {
	.have = h_have,
	.bitfield = h_bitfield,
	.pick = h_pick,
	.abandon = h_abandon,
	.block = h_block,
	.has_piece = h_has_piece,
	.wants = h_wants,
	.request = h_request,
	.extended = h_extended,
	.port = h_port,
};

/* Fixture. */

static void
fx_init(struct fx *x, const struct fx_opts *o)
{
	struct fake		*f = &x->f;
	struct peer_config	 cfg = {
		.npieces = o->npieces != 0 ? o->npieces : 10,
		.piece_length = o->plen != 0 ? o->plen : 64 * KIB,
		.last_size = o->last != 0 ? o->last : 20000,
		.fast = o->we_fast,
		.extended = o->we_ext,
		.anti_snub = !o->no_anti_snub,
	};
	struct wire_handshake	 hs = { .reserved = { 0 } };
	const uint32_t		*l;
	enum gt_err		 e;

	memset(x, 0, sizeof(*x));
	x->now = T0;
	f->npieces = cfg.npieces;
	f->plen = cfg.piece_length;
	f->last = cfg.last_size;
	f->bpp = (f->plen + BLK - 1) / BLK;
	f->st = xcalloc((size_t)f->npieces * f->bpp, 1);
	f->check_data = true;
	bitfield_init(&f->ours, f->npieces);
	if (o->ours_all)
		bitfield_set_all(&f->ours);
	for (l = o->ours; l != NULL && *l != UINT32_MAX; l++)
		bitfield_set(&f->ours, *l);
	x->p = f->peer = peer_new(&cfg, &hooks, f, x->now);
	cr_assert_not_null(x->p);
	cr_assert_eq(peer_state(x->p), PEER_HANDSHAKE);
	if (o->no_handshake)
		return;
	if (o->they_fast)
		hs.reserved[7] |= WIRE_RSV_FAST;
	if (o->they_ext)
		hs.reserved[5] |= WIRE_RSV_EXTENDED;
	memset(hs.peer_id, 0xab, sizeof(hs.peer_id));
	e = peer_on_handshake(x->p, &hs, &f->ours, x->now);
	cr_assert_eq(e, GT_OK);
	cr_assert_eq(peer_state(x->p), PEER_ACTIVE);
	cr_assert_not_null(peer_handshake(x->p));
}

/* The default: 10 pieces of 64 KiB (last 20000 bytes), we have piece 0. */
static void
fx_std(struct fx *x, bool fast)
{
	struct fx_opts	o = {
		.ours = have0, .we_fast = true, .they_fast = fast,
		.we_ext = true, .they_ext = true,
	};

	fx_init(x, &o);
}

static void
fx_free(struct fx *x)
{
	peer_free(x->p);
	bitfield_clear(&x->f.ours);
	free(x->f.st);
}

/* Messages to the peer, through the real decoder. */

static enum gt_err
feed_raw(struct fx *x, int id, const uint8_t *body, size_t n)
{
	struct wire_msg	m;
	size_t		used, len;

	if (id == WIRE_KEEPALIVE) {		/* a zero-length frame */
		memset(frame, 0, 4);
		len = 4;
	} else {
		store_be32(frame, (uint32_t)(1 + n));
		frame[4] = (uint8_t)id;
		if (n > 0)
			memcpy(frame + 5, body, n);
		len = 5 + n;
	}
	cr_assert_eq(wire_decode(frame, len, &m, &used), GT_OK);
	cr_assert_eq(used, len);
	return peer_on_msg(x->p, &m, x->now);
}

static enum gt_err
feed0(struct fx *x, int id)
{
	return feed_raw(x, id, NULL, 0);
}

static enum gt_err
feed_idx(struct fx *x, int id, uint32_t index)
{
	uint8_t	b[4];

	store_be32(b, index);
	return feed_raw(x, id, b, 4);
}

static enum gt_err
feed_blk(struct fx *x, int id, uint32_t piece, uint32_t begin, uint32_t len)
{
	uint8_t	b[12];

	store_be32(b, piece);
	store_be32(b + 4, begin);
	store_be32(b + 8, len);
	return feed_raw(x, id, b, 12);
}

static enum gt_err
feed_piece(struct fx *x, uint32_t piece, uint32_t begin, uint32_t len)
{
	static uint8_t	b[8 + WIRE_MAX_REQUEST];

	cr_assert_leq(len, WIRE_MAX_REQUEST);
	store_be32(b, piece);
	store_be32(b + 4, begin);
	fill_pat(b + 8, piece, begin, len);
	return feed_raw(x, WIRE_PIECE, b, 8 + len);
}

/* A PIECE without the copies, for long simulations (data unchecked). */
static enum gt_err
feed_piece_fast(struct fx *x, const struct block_req *r)
{
	struct wire_msg	m = {
		.type = WIRE_PIECE, .id = WIRE_PIECE, .index = r->piece,
		.begin = r->offset, .length = r->length, .data = zeros,
		.len = r->length,
	};

	return peer_on_msg(x->p, &m, x->now);
}

/* A BITFIELD of the pieces in list (UINT32_MAX ends), or of all. */
static enum gt_err
feed_bits(struct fx *x, const uint32_t *list, bool all)
{
	struct bitfield	b;
	enum gt_err	e;

	bitfield_init(&b, x->f.npieces);
	if (all)
		bitfield_set_all(&b);
	for (; list != NULL && *list != UINT32_MAX; list++)
		bitfield_set(&b, *list);
	e = feed_raw(x, WIRE_BITFIELD, b.bits, bitfield_nbytes(&b));
	bitfield_clear(&b);
	return e;
}

/* What the peer queued for sending, decoded. */

struct got {
	enum wire_type	type;
	uint32_t	index, begin, length;
	size_t		len;
	bool		data_ok;
	uint8_t		ext_id;
};

static struct got	got[8192];

static size_t
drain(struct fx *x)
{
	struct buf	*b = peer_out(x->p);
	struct wire_msg	 m;
	size_t		 off = 0, n = 0, used;

	while (off < b->len) {
		cr_assert_eq(wire_decode(b->data + off, b->len - off, &m,
		    &used), GT_OK, "bad frame in the output");
		cr_assert_lt(n, nitems(got));
		got[n] = (struct got){
			.type = m.type, .index = m.index, .begin = m.begin,
			.length = m.length, .len = m.len, .data_ok = true,
			.ext_id = m.ext_id,
		};
		if (m.type == WIRE_PIECE)
			got[n].data_ok = pat_ok(m.index, m.begin, m.data,
			    m.len);
		n++;
		off += used;
	}
	buf_reset(b);
	return n;
}

static size_t
count_type(size_t n, enum wire_type t)
{
	size_t	i, c = 0;

	for (i = 0; i < n; i++)
		c += got[i].type == t;
	return c;
}

/* Takes the REQUESTs out of got[0..n) and appends them to q. */
static size_t
take_requests(size_t n, struct block_req *q, size_t nq, size_t max)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (got[i].type != WIRE_REQUEST)
			continue;
		cr_assert_lt(nq, max);
		q[nq++] = (struct block_req){ got[i].index, got[i].begin,
		    got[i].length };
	}
	return nq;
}

/* Bitfield, interested, unchoke: the peer has every piece. */
static size_t
start_download(struct fx *x, struct block_req *q, size_t max)
{
	size_t	n;

	drain(x);
	cr_assert_eq(feed_bits(x, NULL, true), GT_OK);
	cr_assert(peer_am_interested(x->p));
	cr_assert_eq(feed0(x, WIRE_UNCHOKE), GT_OK);
	n = drain(x);
	return take_requests(n, q, 0, max);
}

/* Tests. */

Test(peer, full_exchange)
{
	static const uint32_t	theirs[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9,
				    UINT32_MAX };
	struct fx		x;
	struct block_req	q[64];
	size_t			n, nq, i, head = 0, total_req;
	uint32_t		piece, k;

	fx_std(&x, false);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_BITFIELD);
	cr_assert_eq(got[0].len, 2);
	cr_assert(peer_am_choking(x.p) && !peer_am_interested(x.p));
	cr_assert(peer_is_choking(x.p) && !peer_is_interested(x.p));

	cr_assert_eq(feed_bits(&x, theirs, false), GT_OK);
	cr_assert_eq(x.f.nbitfield, 1);
	cr_assert_eq(peer_has(x.p)->count, 9);
	cr_assert_not(peer_is_seed(x.p));
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_INTERESTED);
	cr_assert(peer_am_interested(x.p));

	cr_assert_eq(feed0(&x, WIRE_INTERESTED), GT_OK);
	cr_assert(peer_is_interested(x.p));

	x.now += 5;
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	cr_assert_not(peer_is_choking(x.p));
	n = drain(&x);
	nq = take_requests(n, q, 0, nitems(q));
	cr_assert_eq(nq, n, "only requests");
	cr_assert_eq(nq, peer_queue_depth(x.p));
	cr_assert_eq(nq, peer_queue_len(x.p));
	cr_assert_geq(nq, 16);
	/* In the fake picker's order: piece 1 block 0, 1, ... */
	for (i = 0; i < nq; i++) {
		piece = 1 + (uint32_t)(i / 4);
		k = (uint32_t)(i % 4);
		cr_assert_eq(q[i].piece, piece);
		cr_assert_eq(q[i].offset, k * BLK);
		cr_assert_eq(q[i].length, BLK);
	}

	/* Answer in order; the pipeline is topped up after each block. */
	total_req = nq;
	while (head < nq) {
		x.now++;
		cr_assert_eq(feed_piece(&x, q[head].piece, q[head].offset,
		    q[head].length), GT_OK, "%s", peer_error(x.p));
		head++;
		n = drain(&x);
		total_req += count_type(n, WIRE_REQUEST);
		nq = take_requests(n, q, nq, nitems(q));
		cr_assert_leq(peer_queue_len(x.p), peer_queue_depth(x.p));
		cr_assert_eq(peer_queue_len(x.p), nq - head);
	}
	cr_assert_eq(total_req, 8 * 4 + 2);
	cr_assert_eq(q[nq - 1].piece, 9);
	cr_assert_eq(q[nq - 1].offset, BLK);
	cr_assert_eq(q[nq - 1].length, 20000 - BLK);
	cr_assert_eq(x.f.nblock, 34);
	cr_assert_eq(x.f.bad_data, 0);
	cr_assert_eq(x.f.block_bytes, 8 * 64 * KIB + 20000);
	cr_assert_eq(peer_downloaded(x.p), 8 * 64 * KIB + 20000);
	cr_assert_eq(peer_queue_len(x.p), 0);
	cr_assert_eq(x.f.nabandon, 0);
	cr_assert_eq(peer_state(x.p), PEER_ACTIVE);
	cr_assert_null(peer_error(x.p));
	fx_free(&x);
}

/* What we send right after the handshake. */
struct hs_case {
	bool		we_fast, they_fast;
	int		ours;		/* 0 none, 1 piece 0, 2 all */
	int		want;		/* a wire type, or -1 for nothing */
};

static const struct hs_case hs_cases[] = {
	{ false, false, 0, -1 },
	{ false, false, 1, WIRE_BITFIELD },
	{ false, false, 2, WIRE_BITFIELD },
	{ true, false, 0, -1 },
	{ false, true, 2, WIRE_BITFIELD },
	{ true, true, 0, WIRE_HAVE_NONE },
	{ true, true, 1, WIRE_BITFIELD },
	{ true, true, 2, WIRE_HAVE_ALL },
};

Test(peer, handshake_first_message)
{
	struct fx	x;
	size_t		k, n;

	for (k = 0; k < nitems(hs_cases); k++) {
		const struct hs_case	*c = &hs_cases[k];
		struct fx_opts		 o = {
			.ours = c->ours == 1 ? have0 : NULL,
			.ours_all = c->ours == 2,
			.we_fast = c->we_fast, .they_fast = c->they_fast,
		};

		fx_init(&x, &o);
		n = drain(&x);
		if (c->want < 0)
			cr_assert_eq(n, 0, "case %zu", k);
		else {
			cr_assert_eq(n, 1, "case %zu", k);
			cr_assert_eq(got[0].type, (enum wire_type)c->want,
			    "case %zu", k);
		}
		if (c->want == WIRE_BITFIELD)
			cr_assert_eq(got[0].len, 2);
		/* HAVE_ALL is accepted only when fast is on both sides. */
		cr_assert_eq(feed0(&x, WIRE_HAVE_ALL) == GT_OK,
		    c->we_fast && c->they_fast, "case %zu", k);
		fx_free(&x);
	}
}

/* Every protocol violation closes, with a reason. */
enum { M_END, M_RAW, M_IDX, M_BLK, M_PIECE, M_BITS, M_BITSRAW, M_UNCHOKE };


struct step {
	int		 kind;
	int		 id;
	uint32_t	 a, b, c;
	const uint8_t	*raw;
	size_t		 rawlen;
};

struct bad_case {
	const char	*name;
	bool		 fast;
	struct step	 steps[4];	/* all but the last succeed */
	const char	*reason;
};

static const uint8_t	bits_short[1] = { 0x7f };
static const uint8_t	bits_spare[2] = { 0x7f, 0xc0 };	/* bit 9 ok */
static const uint8_t	bits_spare2[2] = { 0x7f, 0xe0 };	/* bit 10 */
static const uint8_t	bits_long[3] = { 0x7f, 0xc0, 0 };

static const struct bad_case bad_cases[] = {
	{ "have all after bitfield", true, { { M_BITS, 0, 0, 0, 0, NULL, 0 },
	    { M_RAW, WIRE_HAVE_ALL, 0, 0, 0, NULL, 0 } }, "second bitfield" },
	{ "have none after bitfield", true, { { M_BITS, 0, 0, 0, 0, NULL,
	    0 }, { M_RAW, WIRE_HAVE_NONE, 0, 0, 0, NULL, 0 } },
	    "second bitfield" },
	{ "late have all", true, { { M_IDX, WIRE_HAVE, 3, 0, 0, NULL, 0 },
	    { M_RAW, WIRE_HAVE_ALL, 0, 0, 0, NULL, 0 } }, "late bitfield" },
	{ "second bitfield spare bits", false, { { M_BITS, 0, 0, 0, 0, NULL,
	    0 }, { M_BITSRAW, 0, 0, 0, 0, bits_spare2, 2 } },
	    "bad bitfield" },
	{ "bitfield after have, short", false, { { M_IDX, WIRE_HAVE, 3, 0, 0,
	    NULL, 0 }, { M_BITSRAW, 0, 0, 0, 0, bits_short, 1 } },
	    "bad bitfield" },
	{ "late have none", true, { { M_RAW, WIRE_INTERESTED, 0, 0, 0, NULL,
	    0 }, { M_RAW, WIRE_HAVE_NONE, 0, 0, 0, NULL, 0 } },
	    "late bitfield" },
	{ "bitfield short", false, { { M_BITSRAW, 0, 0, 0, 0, bits_short,
	    1 } }, "bad bitfield" },
	{ "bitfield long", false, { { M_BITSRAW, 0, 0, 0, 0, bits_long, 3 } },
	    "bad bitfield" },
	{ "bitfield spare bits", false, { { M_BITSRAW, 0, 0, 0, 0,
	    bits_spare2, 2 } }, "bad bitfield" },
	{ "have out of range", false, { { M_IDX, WIRE_HAVE, 10, 0, 0, NULL,
	    0 } }, "have 10" },
	{ "request piece out of range", false, { { M_BLK, WIRE_REQUEST, 10, 0,
	    BLK, NULL, 0 } }, "request for piece 10" },
	{ "request too long", false, { { M_BLK, WIRE_REQUEST, 0, 0,
	    WIRE_MAX_REQUEST + 1, NULL, 0 } }, "request of" },
	{ "request empty", false, { { M_BLK, WIRE_REQUEST, 0, 0, 0, NULL,
	    0 } }, "request of 0" },
	{ "request past piece end", false, { { M_BLK, WIRE_REQUEST, 0,
	    48 * KIB, BLK + 1, NULL, 0 } }, "past the end" },
	{ "request begin past end", false, { { M_BLK, WIRE_REQUEST, 0,
	    UINT32_MAX, 1, NULL, 0 } }, "past the end" },
	{ "request past last piece end", false, { { M_BLK, WIRE_REQUEST, 9,
	    BLK, BLK, NULL, 0 } }, "past the end" },
	{ "request piece we lack", false, { { M_BLK, WIRE_REQUEST, 5, 0, BLK,
	    NULL, 0 } }, "do not have" },
	{ "unrequested piece", false, { { M_PIECE, 0, 3, 0, BLK, NULL, 0 } },
	    "unrequested piece" },
	{ "piece after choke", false, { { M_UNCHOKE, 0, 0, 0, 0, NULL, 0 },
	    { M_RAW, WIRE_CHOKE, 0, 0, 0, NULL, 0 },
	    { M_PIECE, 0, 9, 0, BLK, NULL, 0 } }, "unrequested" },
	{ "piece wrong length", false, { { M_UNCHOKE, 0, 0, 0, 0, NULL, 0 },
	    { M_PIECE, 0, 1, 0, 100, NULL, 0 } }, "wrong length" },
	{ "piece too long", true, { { M_UNCHOKE, 0, 0, 0, 0, NULL, 0 },
	    { M_PIECE, 0, 1, BLK, BLK + 1, NULL, 0 } }, "wrong length" },
	{ "have all without fast", false, { { M_RAW, WIRE_HAVE_ALL, 0, 0, 0,
	    NULL, 0 } }, "without fast" },
	{ "have none without fast", false, { { M_RAW, WIRE_HAVE_NONE, 0, 0,
	    0, NULL, 0 } }, "without fast" },
	{ "reject without fast", false, { { M_UNCHOKE, 0, 0, 0, 0, NULL, 0 },
	    { M_BLK, WIRE_REJECT, 1, 0, BLK, NULL, 0 } }, "without fast" },
	{ "reject for nothing", true, { { M_BLK, WIRE_REJECT, 1, 0, BLK, NULL,
	    0 } }, "not requested" },
	{ "reject of another length", true, { { M_UNCHOKE, 0, 0, 0, 0, NULL,
	    0 }, { M_BLK, WIRE_REJECT, 1, 0, 100, NULL, 0 } },
	    "not requested" },
	{ "suggest out of range", true, { { M_IDX, WIRE_SUGGEST, 10, 0, 0,
	    NULL, 0 } }, "suggest" },
	{ "suggest without fast", false, { { M_IDX, WIRE_SUGGEST, 1, 0, 0,
	    NULL, 0 } }, "suggest without fast" },
	{ "allowed fast without fast", false, { { M_IDX, WIRE_ALLOWED_FAST,
	    1, 0, 0, NULL, 0 } }, "allowed fast without fast" },
	{ "allowed fast out of range", true, { { M_IDX, WIRE_ALLOWED_FAST,
	    99, 0, 0, NULL, 0 } }, "allowed fast" },
};

static enum gt_err
run_step(struct fx *x, const struct step *s)
{
	enum gt_err	e;

	switch (s->kind) {
	case M_RAW:
		return feed0(x, s->id);
	case M_IDX:
		return feed_idx(x, s->id, s->a);
	case M_BLK:
		return feed_blk(x, s->id, s->a, s->b, s->c);
	case M_PIECE:
		return feed_piece(x, s->a, s->b, s->c);
	case M_BITS:
		return feed_bits(x, NULL, true);
	case M_BITSRAW:
		return feed_raw(x, WIRE_BITFIELD, s->raw, s->rawlen);
	case M_UNCHOKE:
		/* bitfield, unchoke: requests out */
		if ((e = feed_bits(x, NULL, true)) != GT_OK ||
		    (e = feed0(x, WIRE_UNCHOKE)) != GT_OK)
			return e;
		cr_assert_gt(peer_queue_len(x->p), 0);
		return GT_OK;
	}
	cr_assert_fail("bad step");
	return GT_EINVAL;
}

Test(peer, violations_close_with_reason)
{
	struct fx	x;
	size_t		k, i;
	enum gt_err	e;

	for (k = 0; k < nitems(bad_cases); k++) {
		const struct bad_case	*c = &bad_cases[k];

		fx_std(&x, c->fast);
		for (i = 0; c->steps[i].kind != M_END; i++) {
			e = run_step(&x, &c->steps[i]);
			if (c->steps[i + 1].kind != M_END) {
				cr_assert_eq(e, GT_OK, "%s: step %zu: %s",
				    c->name, i, peer_error(x.p));
				continue;
			}
			cr_assert_eq(e, GT_EPROTO, "%s: %d", c->name, e);
			cr_assert_eq(peer_state(x.p), PEER_CLOSING, "%s",
			    c->name);
			cr_assert_not_null(peer_error(x.p));
			cr_assert(strstr(peer_error(x.p), c->reason) != NULL,
			    "%s: reason \"%s\"", c->name, peer_error(x.p));
		}
		/* Closed for good: later calls return the error. */
		cr_assert_eq(feed0(&x, WIRE_KEEPALIVE), GT_EPROTO);
		cr_assert_eq(peer_tick(x.p, x.now), GT_EPROTO);
		cr_assert_eq(peer_deadline(x.p), 0);
		fx_free(&x);
	}
}

Test(peer, bitfield_spare_bits_in_range_ok)
{
	struct fx	x;

	fx_std(&x, false);
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, bits_spare, 2), GT_OK);
	cr_assert_eq(peer_has(x.p)->count, 9);
	cr_assert_eq(x.f.nbitfield, 1);
	fx_free(&x);
}

/*
 * A later BITFIELD (aria2c sends one in place of HAVEs) updates what the
 * peer has: new pieces count as HAVEs, pieces it had are never lost.
 */
Test(peer, later_bitfield_updates)
{
	static const uint32_t	only0[] = { 0, UINT32_MAX };
	static const uint32_t	more[] = { 0, 3, 5, UINT32_MAX };
	static const uint32_t	fewer[] = { 3, UINT32_MAX };
	struct fx		x;
	size_t			n;

	fx_std(&x, false);
	drain(&x);
	cr_assert_eq(feed_bits(&x, only0, false), GT_OK);
	cr_assert_eq(x.f.nbitfield, 1);
	cr_assert_not(peer_am_interested(x.p));
	cr_assert_eq(drain(&x), 0);

	/* Pieces 3 and 5 are new: two HAVEs, and now we are interested. */
	cr_assert_eq(feed_bits(&x, more, false), GT_OK, "%s",
	    peer_error(x.p));
	cr_assert_eq(x.f.nbitfield, 1, "no second whole-set hook");
	cr_assert_eq(x.f.nhave, 2);
	cr_assert_eq(x.f.last_have, 5);
	cr_assert_eq(peer_has(x.p)->count, 3);
	cr_assert(peer_am_interested(x.p));
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_INTERESTED);

	/* Bits cleared in a later one are ignored: nothing is lost. */
	cr_assert_eq(feed_bits(&x, fewer, false), GT_OK);
	cr_assert_eq(x.f.nhave, 2);
	cr_assert_eq(peer_has(x.p)->count, 3);
	cr_assert(bitfield_get(peer_has(x.p), 0));
	cr_assert(bitfield_get(peer_has(x.p), 5));
	cr_assert(peer_am_interested(x.p));

	/* The same set again: nothing happens. */
	cr_assert_eq(feed_bits(&x, more, false), GT_OK);
	cr_assert_eq(x.f.nhave, 2);
	cr_assert_eq(drain(&x), 0);

	/* Unchoked: a new piece in an update is requested at once. */
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	n = drain(&x);
	cr_assert_gt(count_type(n, WIRE_REQUEST), 0);
	cr_assert_eq(feed_bits(&x, NULL, true), GT_OK);
	cr_assert_eq(x.f.nhave, 2 + 7);
	cr_assert(peer_is_seed(x.p));
	cr_assert_eq(peer_state(x.p), PEER_ACTIVE);
	fx_free(&x);
}

Test(peer, bitfield_after_haves_and_have_none)
{
	static const uint32_t	some[] = { 3, 4, UINT32_MAX };
	static const uint32_t	two[] = { 2, UINT32_MAX };
	struct fx		x;

	/* HAVEs first, then a BITFIELD: only the new pieces are HAVEs. */
	fx_std(&x, false);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 3), GT_OK);
	cr_assert_eq(feed_bits(&x, some, false), GT_OK, "%s",
	    peer_error(x.p));
	cr_assert_eq(x.f.nbitfield, 0);
	cr_assert_eq(x.f.nhave, 2);
	cr_assert_eq(x.f.last_have, 4);
	cr_assert_eq(peer_has(x.p)->count, 2);
	cr_assert(peer_am_interested(x.p));
	fx_free(&x);

	/* Some other message first (no bitfield): the same. */
	fx_std(&x, false);
	cr_assert_eq(feed0(&x, WIRE_INTERESTED), GT_OK);
	cr_assert_eq(feed_bits(&x, two, false), GT_OK);
	cr_assert_eq(x.f.nbitfield, 0);
	cr_assert_eq(x.f.nhave, 1);
	fx_free(&x);

	/* HAVE_NONE, then a BITFIELD. */
	fx_std(&x, true);
	cr_assert_eq(feed0(&x, WIRE_HAVE_NONE), GT_OK);
	cr_assert_eq(feed_bits(&x, two, false), GT_OK);
	cr_assert_eq(x.f.nbitfield, 1);
	cr_assert_eq(x.f.nhave, 1);
	cr_assert_eq(x.f.last_have, 2);
	cr_assert(peer_am_interested(x.p));
	fx_free(&x);

	/* HAVE_ALL, then an empty BITFIELD: still a seed. */
	fx_std(&x, true);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_OK);
	cr_assert_eq(feed_bits(&x, NULL, false), GT_OK);
	cr_assert_eq(x.f.nhave, 0);
	cr_assert(peer_is_seed(x.p));
	fx_free(&x);
}

Test(peer, before_and_second_handshake)
{
	struct fx_opts		o = { .no_handshake = true };
	struct fx		x;
	struct wire_handshake	hs = { .reserved = { 0 } };

	fx_init(&x, &o);
	cr_assert_null(peer_handshake(x.p));
	cr_assert_eq(feed0(&x, WIRE_INTERESTED), GT_EPROTO);
	cr_assert(strstr(peer_error(x.p), "before handshake") != NULL);
	fx_free(&x);

	fx_std(&x, false);
	cr_assert_eq(peer_on_handshake(x.p, &hs, &x.f.ours, x.now),
	    GT_EPROTO);
	cr_assert(strstr(peer_error(x.p), "second handshake") != NULL);
	fx_free(&x);
}

Test(peer, extended_before_bitfield)
{
	static const uint8_t	payload[] = { 'd', 'e' };
	uint8_t			body[3] = { 0, 'd', 'e' };
	uint8_t			port[2] = { 0x1a, 0xe1 };
	struct fx		x;
	size_t			n;

	fx_std(&x, true);
	cr_assert_eq(feed_raw(&x, WIRE_EXTENDED, body, sizeof(body)), GT_OK);
	cr_assert_eq(x.f.nextended, 1);
	cr_assert_eq(x.f.last_ext_id, 0);
	cr_assert_eq(x.f.last_ext_len, 2);
	cr_assert_eq(feed0(&x, WIRE_KEEPALIVE), GT_OK);
	cr_assert_eq(feed_raw(&x, WIRE_PORT, port, sizeof(port)), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_OK);
	cr_assert(peer_is_seed(x.p));
	cr_assert(peer_am_interested(x.p));
	drain(&x);
	cr_assert_eq(peer_send_extended(x.p, 3, payload, sizeof(payload)),
	    GT_OK);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_EXTENDED);
	cr_assert_eq(got[0].ext_id, 3);
	cr_assert_eq(got[0].len, 2);

	/* The torrent refusing a payload closes the peer. */
	x.f.ext_err = GT_EINVAL;
	cr_assert_eq(feed_raw(&x, WIRE_EXTENDED, body, sizeof(body)),
	    GT_EINVAL);
	cr_assert(strstr(peer_error(x.p), "extended") != NULL);
	fx_free(&x);
}

Test(peer, extended_not_negotiated_ignored)
{
	struct fx_opts	o = { .ours = have0, .we_ext = true };
	uint8_t		body[3] = { 0, 'd', 'e' };
	struct fx	x;

	fx_init(&x, &o);
	cr_assert_eq(feed_raw(&x, WIRE_EXTENDED, body, sizeof(body)), GT_OK);
	cr_assert_eq(x.f.nextended, 0);
	cr_assert_eq(peer_send_extended(x.p, 1, body, 1), GT_EUNSUP);
	fx_free(&x);
}

Test(peer, haves_and_interest)
{
	struct fx	x;
	size_t		n;

	fx_std(&x, false);
	drain(&x);
	/* No bitfield (plain: optional); a have of a piece we hold. */
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 0), GT_OK);
	cr_assert_eq(x.f.nhave, 1);
	cr_assert_eq(x.f.last_have, 0);
	cr_assert_not(peer_am_interested(x.p));
	cr_assert_eq(drain(&x), 0);

	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 3), GT_OK);
	cr_assert_eq(x.f.nhave, 2);
	cr_assert(peer_am_interested(x.p));
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_INTERESTED);

	/* Duplicates are ignored: availability counted once. */
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 3), GT_OK);
	cr_assert_eq(x.f.nhave, 2);
	cr_assert_eq(drain(&x), 0);
	cr_assert_eq(peer_has(x.p)->count, 2);

	/* We got piece 3: HAVE, and nothing left to want. */
	bitfield_set(&x.f.ours, 3);
	peer_announce_have(x.p, 3, x.now);
	n = drain(&x);
	cr_assert_eq(n, 2);
	cr_assert_eq(got[0].type, WIRE_HAVE);
	cr_assert_eq(got[0].index, 3);
	cr_assert_eq(got[1].type, WIRE_NOT_INTERESTED);
	cr_assert_not(peer_am_interested(x.p));

	/* Still wanted: HAVE only. */
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 7), GT_OK);
	drain(&x);
	bitfield_set(&x.f.ours, 4);
	peer_announce_have(x.p, 4, x.now);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_HAVE);
	cr_assert(peer_am_interested(x.p));

	/* peer_update_interest follows hooks.wants. */
	bitfield_set(&x.f.ours, 7);
	peer_update_interest(x.p, x.now);
	cr_assert_not(peer_am_interested(x.p));
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_NOT_INTERESTED);
	fx_free(&x);
}

Test(peer, have_none_and_uninteresting_bitfield)
{
	static const uint32_t	only0[] = { 0, UINT32_MAX };
	struct fx		x;

	fx_std(&x, true);
	drain(&x);
	cr_assert_eq(feed0(&x, WIRE_HAVE_NONE), GT_OK);
	cr_assert_eq(x.f.nbitfield, 1);
	cr_assert_eq(peer_has(x.p)->count, 0);
	cr_assert_eq(drain(&x), 0);
	fx_free(&x);

	fx_std(&x, false);
	drain(&x);
	cr_assert_eq(feed_bits(&x, only0, false), GT_OK);
	cr_assert_not(peer_am_interested(x.p));
	cr_assert_eq(drain(&x), 0);
	fx_free(&x);
}

Test(peer, ignored_messages)
{
	struct fx	x;
	uint8_t		body[5] = { 1, 2, 3, 4, 5 };

	fx_std(&x, true);
	cr_assert_eq(feed_raw(&x, 99, body, sizeof(body)), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_SUGGEST, 9), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_ALLOWED_FAST, 2), GT_OK);
	cr_assert_eq(feed_blk(&x, WIRE_CANCEL, 0, 0, BLK), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_NOT_INTERESTED), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_CHOKE), GT_OK);
	cr_assert_eq(peer_state(x.p), PEER_ACTIVE);
	fx_free(&x);
}

Test(peer, choke_abandons_plain)
{
	struct fx		x;
	struct block_req	q[64];
	size_t			nq, n, out;

	fx_std(&x, false);
	nq = start_download(&x, q, nitems(q));
	cr_assert_eq(nq, 32);
	x.now += 10;
	cr_assert_eq(feed_piece(&x, q[0].piece, q[0].offset, q[0].length),
	    GT_OK);
	drain(&x);
	out = peer_queue_len(x.p);
	cr_assert_eq(out, 33, "slow start: one more per block");
	cr_assert_eq(feed0(&x, WIRE_CHOKE), GT_OK);
	cr_assert_eq(x.f.nabandon, out);
	cr_assert_eq(peer_queue_len(x.p), 0);
	cr_assert(peer_is_choking(x.p));
	cr_assert_eq(drain(&x), 0);
	/* A block that crossed the choke is dropped quietly. */
	cr_assert_eq(feed_piece(&x, q[5].piece, q[5].offset, q[5].length),
	    GT_OK);
	cr_assert_eq(x.f.nblock, 1);
	/* Unchoked again: the abandoned blocks are asked again. */
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	n = drain(&x);
	cr_assert_gt(count_type(n, WIRE_REQUEST), 0);
	cr_assert_eq(peer_queue_len(x.p), count_type(n, WIRE_REQUEST));
	fx_free(&x);
}

/*
 * A piece it rejected while unchoking us (a seed that sends it to another
 * peer already) is not asked of it again for PEER_REFUSED_MS.
 */
Test(peer, reject_while_unchoked_avoids_the_piece)
{
	struct fx		x;
	struct block_req	q[64];
	const struct bitfield	*set;
	size_t			nq;
	uint32_t		piece;

	fx_std(&x, true);
	nq = start_download(&x, q, nitems(q));
	cr_assert_eq(nq, 32);
	piece = q[0].piece;
	cr_assert(bitfield_get(peer_pick_set(x.p), piece));
	x.now += 5;
	cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[0].piece, q[0].offset,
	    q[0].length), GT_OK);
	cr_assert_eq(x.f.nabandon, 1);
	set = peer_pick_set(x.p);
	cr_assert_not(bitfield_get(set, piece), "asked of it again");
	cr_assert(bitfield_get(set, piece + 1));
	cr_assert(bitfield_get(peer_has(x.p), piece), "it still has it");
	cr_assert_leq(peer_deadline(x.p), T0 + 5 + PEER_REFUSED_MS,
	    "no tick to ask again");
	x.now = T0 + 5 + PEER_REFUSED_MS;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert(bitfield_get(peer_pick_set(x.p), piece), "for good");
	/* Choked meanwhile (no pick): the tick still forgets the refusal. */
	x.now += 5;
	cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[1].piece, q[1].offset,
	    q[1].length), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_CHOKE), GT_OK);
	x.now += PEER_REFUSED_MS;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_gt(peer_deadline(x.p), x.now, "a tick due at once, forever");
	fx_free(&x);
}

Test(peer, choke_under_fast_waits_for_rejects)
{
	struct fx		x;
	struct block_req	q[64];
	size_t			nq, i;

	fx_std(&x, true);
	nq = start_download(&x, q, nitems(q));
	cr_assert_eq(nq, 32);
	cr_assert_eq(feed0(&x, WIRE_CHOKE), GT_OK);
	cr_assert_eq(x.f.nabandon, 0);
	cr_assert_eq(peer_queue_len(x.p), 32);
	/* A block may still come while choked. */
	cr_assert_eq(feed_piece(&x, q[0].piece, q[0].offset, q[0].length),
	    GT_OK);
	cr_assert_eq(x.f.nblock, 1);
	for (i = 1; i < 20; i++) {
		cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[i].piece,
		    q[i].offset, q[i].length), GT_OK);
		cr_assert_eq(x.f.nabandon, i);
	}
	cr_assert_eq(peer_queue_len(x.p), 12);
	cr_assert_eq(count_type(drain(&x), WIRE_REQUEST), 0, "no refill");
	/* The rest never rejected: given up after PEER_REQUEST_MS. */
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_REQUEST_MS);
	cr_assert_eq(peer_tick(x.p, T0 + PEER_REQUEST_MS - 1), GT_OK);
	cr_assert_eq(x.f.nabandon, 19);
	x.now = T0 + PEER_REQUEST_MS;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_eq(x.f.nabandon, 31);
	cr_assert_eq(peer_queue_len(x.p), 0);
	cr_assert_not(peer_is_snubbed(x.p), "choked, not snubbing");
	/* A second reject for one given up on is the expected answer. */
	cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[25].piece, q[25].offset,
	    q[25].length), GT_OK);
	fx_free(&x);
}

Test(peer, request_while_choking)
{
	struct fx	x;
	size_t		n;

	fx_std(&x, false);
	drain(&x);
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, BLK), GT_OK);
	cr_assert_eq(x.f.nrequest, 0);
	cr_assert_eq(drain(&x), 0, "plain: ignored");
	fx_free(&x);

	fx_std(&x, true);
	drain(&x);
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, BLK, 100), GT_OK);
	cr_assert_eq(x.f.nrequest, 0);
	n = drain(&x);
	cr_assert_eq(n, 1, "fast: rejected");
	cr_assert_eq(got[0].type, WIRE_REJECT);
	cr_assert_eq(got[0].index, 0);
	cr_assert_eq(got[0].begin, BLK);
	cr_assert_eq(got[0].length, 100);
	fx_free(&x);
}

Test(peer, serve_and_cancel)
{
	static uint8_t		data[BLK];
	struct block_req	r = { 0, BLK, BLK };
	struct fx		x;
	size_t			n;
	int			fast;

	for (fast = 0; fast < 2; fast++) {
		fx_std(&x, fast);
		drain(&x);
		peer_set_choking(x.p, false, x.now);
		n = drain(&x);
		cr_assert_eq(n, 1);
		cr_assert_eq(got[0].type, WIRE_UNCHOKE);
		cr_assert_not(peer_am_choking(x.p));

		/* Requested, then cancelled before the torrent answered. */
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, BLK, BLK), GT_OK);
		cr_assert_eq(x.f.nrequest, 1);
		cr_assert_eq(x.f.last_request.offset, BLK);
		cr_assert_eq(feed_blk(&x, WIRE_CANCEL, 0, BLK, BLK), GT_OK);
		n = drain(&x);
		if (fast) {
			cr_assert_eq(n, 1);
			cr_assert_eq(got[0].type, WIRE_REJECT);
			cr_assert_eq(got[0].begin, BLK);
		} else
			cr_assert_eq(n, 0);
		fill_pat(data, 0, BLK, BLK);
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
		cr_assert_eq(drain(&x), 0, "cancelled: not sent");
		cr_assert_eq(peer_uploaded(x.p), 0);

		/* Requested and answered. */
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, BLK, BLK), GT_OK);
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
		n = drain(&x);
		cr_assert_eq(n, 1);
		cr_assert_eq(got[0].type, WIRE_PIECE);
		cr_assert_eq(got[0].index, 0);
		cr_assert_eq(got[0].begin, BLK);
		cr_assert_eq(got[0].len, BLK);
		cr_assert(got[0].data_ok);
		cr_assert_eq(peer_uploaded(x.p), BLK);
		/* Only once. */
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
		cr_assert_eq(drain(&x), 0);
		fx_free(&x);
	}
}

/* The torrent will not serve a request: REJECT with fast, else silence. */
/*
 * Choking a fast peer while we send it a piece lets it finish that piece
 * (a piece's size at most): its requests for it stay, the others are
 * rejected.
 */
Test(peer, choke_lets_the_piece_in_progress_finish)
{
	struct fx		x;
	struct block_req	r;
	uint8_t			data[BLK] = { 0 };
	size_t			n;
	uint32_t		k;

	fx_std(&x, true);
	peer_set_choking(x.p, false, x.now);
	drain(&x);
	for (k = 0; k < 4; k++)
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, k * BLK, BLK), GT_OK);
	r = (struct block_req){ 0, 0, BLK };
	cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
	drain(&x);
	cr_assert_not(peer_allows_fast(x.p, 0), "unchoked: not needed");
	peer_set_choking(x.p, true, x.now);
	n = drain(&x);
	cr_assert_eq(count_type(n, WIRE_REJECT), 0, "its piece's requests");
	cr_assert(peer_allows_fast(x.p, 0));
	for (k = 1; k < 4; k++) {
		cr_assert(peer_next_request(x.p, &r));
		cr_assert_eq(r.offset, k * BLK);
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
	}
	cr_assert_eq(peer_uploaded(x.p), 4 * BLK);
	cr_assert(peer_allows_fast(x.p, 0), "48 KiB sent choked of 64");
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, BLK), GT_OK);
	cr_assert(peer_next_request(x.p, &r));
	cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
	cr_assert_not(peer_allows_fast(x.p, 0), "a piece's size went out");
	/* choked again: the last block sent was of piece 0, a new allowance */
	peer_set_choking(x.p, false, x.now);
	peer_set_choking(x.p, true, x.now);
	cr_assert(peer_allows_fast(x.p, 0), "the last block was of piece 0");
	fx_free(&x);
}

Test(peer, reject_request)
{
	struct fx		x;
	struct block_req	r = { 0, BLK, BLK };
	uint8_t			data[BLK] = { 0 };
	size_t			n, i;

	fx_std(&x, true);
	peer_set_choking(x.p, false, x.now);
	drain(&x);
	x.f.reject = true;
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, BLK, BLK), GT_OK);
	cr_assert_eq(x.f.nrequest, 1);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_REJECT);
	cr_assert_eq(got[0].index, 0);
	cr_assert_eq(got[0].begin, BLK);
	cr_assert_eq(got[0].length, BLK);
	/* Answered: a late send or a cancel adds nothing. */
	cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
	cr_assert_eq(feed_blk(&x, WIRE_CANCEL, 0, BLK, BLK), GT_OK);
	cr_assert_eq(drain(&x), 0);
	cr_assert_eq(peer_uploaded(x.p), 0);
	/* Rejected requests do not count against the peer's queue. */
	for (i = 0; i < PEER_MAX_PEER_QUEUE + 10; i++)
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, BLK), GT_OK,
		    "%s", peer_error(x.p));
	n = drain(&x);
	cr_assert_eq(count_type(n, WIRE_REJECT), PEER_MAX_PEER_QUEUE + 10);

	/* Later, from outside the hook. */
	x.f.reject = false;
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, 100), GT_OK);
	cr_assert_eq(drain(&x), 0);
	r = (struct block_req){ 0, 0, 100 };
	cr_assert_eq(peer_reject_request(x.p, &r), GT_OK);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_REJECT);
	cr_assert_eq(got[0].length, 100);
	/* Twice, or one never asked: nothing. */
	cr_assert_eq(peer_reject_request(x.p, &r), GT_OK);
	r.length = 7;
	cr_assert_eq(peer_reject_request(x.p, &r), GT_OK);
	cr_assert_eq(drain(&x), 0);
	cr_assert_eq(peer_state(x.p), PEER_ACTIVE);
	fx_free(&x);

	/* Without the fast extension: dropped without a word. */
	fx_std(&x, false);
	peer_set_choking(x.p, false, x.now);
	drain(&x);
	x.f.reject = true;
	for (i = 0; i < PEER_MAX_PEER_QUEUE + 10; i++)
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, BLK), GT_OK,
		    "%s", peer_error(x.p));
	cr_assert_eq(drain(&x), 0);
	r = (struct block_req){ 0, 0, BLK };
	cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
	cr_assert_eq(drain(&x), 0);
	fx_free(&x);
}

Test(peer, choking_drops_peer_requests)
{
	static uint8_t		data[BLK];
	struct block_req	r = { 0, 0, BLK };
	struct fx		x;
	size_t			n;
	int			fast;

	for (fast = 0; fast < 2; fast++) {
		fx_std(&x, fast);
		peer_set_choking(x.p, false, x.now);
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, BLK), GT_OK);
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, BLK, BLK), GT_OK);
		drain(&x);
		peer_set_choking(x.p, true, x.now);
		cr_assert(peer_am_choking(x.p));
		n = drain(&x);
		cr_assert_eq(got[0].type, WIRE_CHOKE);
		cr_assert_eq(n, fast ? 3u : 1u);
		cr_assert_eq(count_type(n, WIRE_REJECT), fast ? 2u : 0u);
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
		cr_assert_eq(drain(&x), 0);
		/* No change, no message. */
		peer_set_choking(x.p, true, x.now);
		cr_assert_eq(drain(&x), 0);
		fx_free(&x);
	}
}

Test(peer, too_many_peer_requests)
{
	struct fx	x;
	uint32_t	i;

	fx_std(&x, false);
	peer_set_choking(x.p, false, x.now);
	for (i = 0; i < PEER_MAX_PEER_QUEUE; i++)
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, i, 1), GT_OK);
	cr_assert_eq(x.f.nrequest, PEER_MAX_PEER_QUEUE);
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, i, 1), GT_EPROTO);
	cr_assert(strstr(peer_error(x.p), "requests queued") != NULL);
	fx_free(&x);
}

/* The torrent answering at once, nobody draining: the cap closes it. */
Test(peer, output_cap_closes)
{
	struct fx	x;
	uint32_t	i;
	enum gt_err	e = GT_OK;

	fx_std(&x, false);
	x.f.serve = true;
	peer_set_choking(x.p, false, x.now);
	for (i = 0; i < 100 && e == GT_OK; i++)
		e = feed_blk(&x, WIRE_REQUEST, 0, 0, 64 * KIB);
	cr_assert_eq(e, GT_ETOOBIG);
	cr_assert_leq(peer_out(x.p)->len, PEER_OUT_MAX);
	cr_assert_eq(i, PEER_OUT_MAX / (64 * KIB + 13) + 1);
	cr_assert_eq(peer_state(x.p), PEER_CLOSING);
	cr_assert(strstr(peer_error(x.p), "output") != NULL);
	fx_free(&x);
}

/* By reference, the cap counts the payloads queued as well. */
Test(peer, output_cap_closes_by_reference)
{
	struct fx	x;
	uint32_t	i;
	enum gt_err	e = GT_OK;

	fx_std(&x, false);
	x.f.serve_ref = true;
	peer_set_choking(x.p, false, x.now);
	for (i = 0; i < 100 && e == GT_OK; i++)
		e = feed_blk(&x, WIRE_REQUEST, 0, 0, 64 * KIB);
	cr_assert_eq(e, GT_ETOOBIG);
	cr_assert_leq(peer_out_pending(x.p), PEER_OUT_MAX);
	cr_assert_eq(i, PEER_OUT_MAX / (64 * KIB + 13) + 1);
	cr_assert_eq(peer_state(x.p), PEER_CLOSING);
	cr_assert(strstr(peer_error(x.p), "output") != NULL);
	/* A control message cannot take the room the payloads hold. */
	cr_assert_lt(peer_out(x.p)->len, (size_t)64 * KIB);
	fx_free(&x);
}

/*
 * Blocks queued by reference: the PIECE header in the output, the payload
 * a span after it, in order with the other messages; the writer's side
 * (drain, span done) moves the spans along; cancelled: nothing queued.
 */
Test(peer, queue_block_by_reference)
{
	const struct peer_span	*sp;
	struct block_req	 r;
	struct wire_msg		 m;
	struct buf		*b;
	struct fx		 x;
	size_t			 used, at0;
	uint32_t		 k;

	fx_std(&x, true);
	peer_set_choking(x.p, false, x.now);
	drain(&x);
	for (k = 0; k < 4; k++)
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, k * BLK, BLK),
		    GT_OK);
	/* The fourth is cancelled before it is answered: a REJECT. */
	cr_assert_eq(feed_blk(&x, WIRE_CANCEL, 0, 3 * BLK, BLK), GT_OK);
	drain(&x);
	cr_assert_null(peer_out_span(x.p));
	for (k = 0; k < 4; k++) {
		r = (struct block_req){ 0, k * BLK, BLK };
		cr_assert_eq(peer_queue_block(x.p, &r), GT_OK);
		if (k == 0)
			peer_announce_have(x.p, 0, x.now);	/* between */
	}
	cr_assert_eq(peer_uploaded(x.p), 3 * BLK);
	b = peer_out(x.p);
	cr_assert_eq(b->len, 3 * 13 + 9);
	cr_assert_eq(peer_out_pending(x.p), b->len + 3 * BLK);

	/* [PIECE 0+0 header] payload [HAVE][PIECE 0+BLK header] payload ... */
	sp = peer_out_span(x.p);
	cr_assert_not_null(sp);
	cr_assert_eq(sp->at, 13);
	cr_assert_eq(sp->r.offset, 0);
	cr_assert_eq(load_be32(b->data), 9 + BLK);
	cr_assert_eq(b->data[4], WIRE_PIECE);
	cr_assert_eq(load_be32(b->data + 9), 0);
	/* The writer: the header went, then the payload. */
	peer_out_drain(x.p, 13);
	sp = peer_out_span(x.p);
	cr_assert_eq(sp->at, 0);
	peer_out_span_done(x.p);
	sp = peer_out_span(x.p);
	cr_assert_eq(sp->r.offset, BLK);
	cr_assert_eq(sp->at, 9 + 13);
	cr_assert_eq(wire_decode(b->data, b->len, &m, &used), GT_OK);
	cr_assert_eq(m.type, WIRE_HAVE);
	cr_assert_eq(wire_decode(b->data + used, b->len - used, &m, &used),
	    GT_EAGAIN, "a PIECE whose bytes are not in the buffer");
	at0 = sp->at;
	peer_out_drain(x.p, 5);		/* part of the HAVE */
	cr_assert_eq(peer_out_span(x.p)->at, at0 - 5);
	peer_out_drain(x.p, at0 - 5);
	peer_out_span_done(x.p);
	cr_assert_eq(peer_out_span(x.p)->r.offset, 2 * BLK);
	cr_assert_eq(peer_out_span(x.p)->at, 13);
	peer_out_drain(x.p, 13);
	peer_out_span_done(x.p);
	cr_assert_null(peer_out_span(x.p));
	cr_assert_eq(peer_out_pending(x.p), 0);
	cr_assert_not(peer_next_request(x.p, &r));
	fx_free(&x);
}

/* A queue that drained gives its memory back. */
Test(peer, drained_output_gives_memory_back)
{
	static uint8_t	big[64 * KIB];
	struct fx	x;
	struct buf	*b;

	fx_std(&x, true);
	drain(&x);
	b = peer_out(x.p);
	cr_assert_eq(peer_send_extended(x.p, 0, big, sizeof(big)), GT_OK);
	cr_assert_geq(b->cap, sizeof(big));
	peer_out_drain(x.p, 1000);
	cr_assert_geq(b->cap, sizeof(big), "not drained yet");
	peer_out_drain(x.p, b->len);
	cr_assert_eq(b->len, 0);
	cr_assert_eq(b->cap, 0, "drained: freed");
	/* Small queues keep their buffer. */
	peer_announce_have(x.p, 0, x.now);
	peer_out_drain(x.p, b->len);
	cr_assert_gt(b->cap, 0);
	fx_free(&x);
}

Test(peer, block_hook_error_closes)
{
	struct fx		x;
	struct block_req	q[64];

	fx_std(&x, false);
	start_download(&x, q, nitems(q));
	x.f.block_err = GT_EIO;
	cr_assert_eq(feed_piece(&x, q[0].piece, q[0].offset, q[0].length),
	    GT_EIO);
	cr_assert_eq(peer_state(x.p), PEER_CLOSING);
	fx_free(&x);
}

Test(peer, handshake_timeout)
{
	struct fx_opts	o = { .no_handshake = true };
	struct fx	x;

	fx_init(&x, &o);
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_HANDSHAKE_MS);
	cr_assert_eq(peer_tick(x.p, T0 + PEER_HANDSHAKE_MS - 1), GT_OK);
	cr_assert_eq(peer_state(x.p), PEER_HANDSHAKE);
	cr_assert_eq(peer_tick(x.p, T0 + PEER_HANDSHAKE_MS), GT_EPROTO);
	cr_assert(strstr(peer_error(x.p), "handshake") != NULL);
	fx_free(&x);
}

Test(peer, keepalive_then_idle)
{
	struct fx	x;
	size_t		n;
	uint64_t	t;

	fx_std(&x, false);
	drain(&x);
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_KEEPALIVE_MS);
	cr_assert_eq(peer_tick(x.p, T0 + PEER_KEEPALIVE_MS - 1), GT_OK);
	cr_assert_eq(drain(&x), 0);
	t = T0 + PEER_KEEPALIVE_MS;
	cr_assert_eq(peer_tick(x.p, t), GT_OK);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_KEEPALIVE);
	/* Next: idle (nothing received) before the next keep-alive. */
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_IDLE_MS);

	/* Receiving anything pushes the idle deadline. */
	x.now = T0 + 100000;
	cr_assert_eq(feed0(&x, WIRE_KEEPALIVE), GT_OK);
	cr_assert_eq(peer_deadline(x.p), t + PEER_KEEPALIVE_MS);
	/* Sending anything pushes the keep-alive. */
	x.now = T0 + 101000;
	peer_set_choking(x.p, false, x.now);
	cr_assert_eq(peer_deadline(x.p), x.now + PEER_KEEPALIVE_MS);
	cr_assert_eq(peer_tick(x.p, T0 + 100000 + PEER_IDLE_MS - 1), GT_OK);
	cr_assert_eq(peer_tick(x.p, T0 + 100000 + PEER_IDLE_MS), GT_EPROTO);
	cr_assert(strstr(peer_error(x.p), "idle") != NULL);
	fx_free(&x);
}

/*
 * A request timeout gives the requests up and halves the pipeline; it
 * does not snub (anti-snubbing waits PEER_SNUB_MS without a block).
 */
Test(peer, request_timeout_does_not_snub)
{
	struct fx		x;
	struct block_req	q[64];
	size_t			nq, n;

	fx_std(&x, false);
	nq = start_download(&x, q, nitems(q));
	cr_assert_eq(nq, 32);
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_REQUEST_MS);
	x.now = T0 + PEER_REQUEST_MS - 1;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_eq(x.f.nabandon, 0);
	x.now++;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_eq(x.f.nabandon, 32);
	cr_assert_not(peer_is_snubbed(x.p));
	cr_assert(peer_is_stalled(x.p));
	/* Re-filled, to half the depth. */
	cr_assert_eq(peer_queue_depth(x.p), 16);
	cr_assert_eq(peer_queue_len(x.p), 16);
	n = drain(&x);
	cr_assert_eq(count_type(n, WIRE_REQUEST), 16);
	cr_assert_eq(peer_deadline(x.p), x.now + PEER_REQUEST_MS);
	/* A block given up on arrives late: no error, not delivered. */
	cr_assert_eq(feed_piece(&x, q[20].piece, q[20].offset, q[20].length),
	    GT_OK);
	cr_assert_eq(x.f.nblock, 0);
	cr_assert(peer_is_stalled(x.p));
	cr_assert_eq(feed_piece(&x, got[0].index, got[0].begin,
	    got[0].length), GT_OK);
	cr_assert_eq(x.f.nblock, 1);
	cr_assert_not(peer_is_stalled(x.p), "a block ends it");
	fx_free(&x);
}

/*
 * A stalled peer the torrent asks nothing more of (others are sending):
 * the snub clock runs on from its last block, without requests out.
 */
static void
stalled_then(bool anti_snub)
{
	struct fx_opts		o = {
		.ours = have0, .we_fast = true, .they_fast = false,
		.we_ext = true, .they_ext = true, .no_anti_snub = !anti_snub,
	};
	struct fx		x;
	struct block_req	q[64];

	fx_init(&x, &o);
	x.f.skip_stalled = true;
	start_download(&x, q, nitems(q));
	x.now = T0 + PEER_REQUEST_MS;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert(peer_is_stalled(x.p));
	cr_assert_eq(peer_queue_len(x.p), 0, "nothing asked of it");
	cr_assert_eq(count_type(drain(&x), WIRE_REQUEST), 0);
	if (anti_snub)
		cr_assert_eq(peer_deadline(x.p), T0 + PEER_SNUB_MS);
	else
		cr_assert_gt(peer_deadline(x.p), T0 + PEER_SNUB_MS);
	cr_assert_eq(peer_tick(x.p, T0 + PEER_SNUB_MS - 1), GT_OK);
	cr_assert_not(peer_is_snubbed(x.p));
	cr_assert_eq(peer_tick(x.p, T0 + PEER_SNUB_MS), GT_OK);
	cr_assert_eq(peer_is_snubbed(x.p), anti_snub);
	cr_assert_eq(peer_queue_depth(x.p), anti_snub ? PEER_SNUB_QUEUE :
	    16);
	fx_free(&x);
}

Test(peer, stalled_peer_snubbed_at_60_s)
{
	stalled_then(true);
}

Test(peer, stalled_peer_never_snubbed_without_anti_snub)
{
	stalled_then(false);
}

/*
 * Anti-snubbing: unchoked, requests out, no block for PEER_SNUB_MS (60 s,
 * not 30 s, and not at the first request timeout): snubbed, and the
 * pipeline shrinks to PEER_SNUB_QUEUE; a block ends it.
 */
Test(peer, snub_after_60_s)
{
	struct fx		x;
	struct block_req	q[64];
	size_t			n;

	cr_assert_eq(PEER_SNUB_MS, 60000);
	fx_std(&x, false);
	start_download(&x, q, nitems(q));
	x.now = T0 + PEER_REQUEST_MS;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	x.now = T0 + 30000;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_not(peer_is_snubbed(x.p), "30 s is not a snub");
	cr_assert_eq(x.f.nabandon, 32, "timed out at 20 s");
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_REQUEST_MS * 2);
	x.now = T0 + PEER_REQUEST_MS * 2;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_not(peer_is_snubbed(x.p));
	/* 60 s is both the snub and the third timeout. */
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_SNUB_MS);
	x.now = T0 + PEER_SNUB_MS - 1;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_not(peer_is_snubbed(x.p));
	x.now++;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert(peer_is_snubbed(x.p));
	cr_assert_eq(peer_queue_depth(x.p), PEER_SNUB_QUEUE);
	cr_assert_eq(peer_queue_len(x.p), PEER_SNUB_QUEUE);
	drain(&x);
	cr_assert_eq(feed_piece(&x, got[0].index, got[0].begin,
	    got[0].length), GT_OK);
	cr_assert_eq(x.f.nblock, 1);
	cr_assert_not(peer_is_snubbed(x.p), "a block ends it");
	cr_assert_gt(peer_queue_depth(x.p), PEER_SNUB_QUEUE);
	n = drain(&x);
	cr_assert_gt(count_type(n, WIRE_REQUEST), 1, "pipeline regrows");
	fx_free(&x);
}

/* --no-anti-snubbing: never snubbed, the pipeline keeps its depth. */
Test(peer, no_anti_snub)
{
	struct fx_opts		o = {
		.ours = have0, .we_fast = true, .they_fast = true,
		.we_ext = true, .they_ext = true, .no_anti_snub = true,
		.npieces = 64,	/* more than PEER_REFUSED_MAX avoided */
	};
	struct fx		x;
	struct block_req	q[64];
	size_t			nq, i;

	fx_init(&x, &o);
	nq = start_download(&x, q, nitems(q));
	/* Rejects (no timeouts) keep the depth at 32 all along. */
	for (x.now = T0 + 1000; x.now < T0 + 5 * PEER_SNUB_MS;
	    x.now += 1000) {
		for (i = 0; i < nq; i++)
			cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[i].piece,
			    q[i].offset, q[i].length), GT_OK);
		nq = take_requests(drain(&x), q, 0, nitems(q));
		cr_assert_eq(nq, 32);
		cr_assert_gt(peer_deadline(x.p), x.now);
		cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
		cr_assert_not(peer_is_snubbed(x.p));
	}
	cr_assert_eq(peer_queue_depth(x.p), 32);
	fx_free(&x);
}

/*
 * Under fast a peer can reject every request, forever: no timeout fires,
 * but no block for PEER_SNUB_MS while unchoked marks it snubbed.
 */
Test(peer, snub_without_blocks)
{
	struct fx_opts		o = {
		.ours = have0, .we_fast = true, .they_fast = true,
		.we_ext = true, .they_ext = true,
		.npieces = 64,	/* more than PEER_REFUSED_MAX avoided */
	};
	struct fx		x;
	struct block_req	q[64];
	size_t			nq, i;

	fx_init(&x, &o);
	nq = start_download(&x, q, nitems(q));
	for (x.now = T0 + 15000; x.now < T0 + PEER_SNUB_MS; x.now += 15000) {
		for (i = 0; i < nq; i++)
			cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[i].piece,
			    q[i].offset, q[i].length), GT_OK);
		nq = take_requests(drain(&x), q, 0, nitems(q));
		cr_assert_eq(nq, 32, "asked again");
		cr_assert_eq(peer_queue_len(x.p), 32);
	}
	cr_assert_eq(x.f.nabandon, 3 * 32);
	/* (the refused pieces' 10 s may end first) */
	cr_assert_leq(peer_deadline(x.p), T0 + PEER_SNUB_MS);
	cr_assert_eq(peer_tick(x.p, T0 + PEER_SNUB_MS - 1), GT_OK);
	cr_assert_not(peer_is_snubbed(x.p));
	cr_assert_eq(peer_tick(x.p, T0 + PEER_SNUB_MS), GT_OK);
	cr_assert(peer_is_snubbed(x.p));
	cr_assert_eq(peer_queue_depth(x.p), PEER_SNUB_QUEUE);
	fx_free(&x);
}

/* Snub time counts from when we started waiting, not from the unchoke. */
Test(peer, snub_counts_from_first_request)
{
	struct fx	x;
	uint32_t	i;

	fx_std(&x, false);
	drain(&x);
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	cr_assert_eq(peer_queue_len(x.p), 0, "nothing wanted yet");
	x.now = T0 + 100000;
	for (i = 1; i < 10; i++)
		cr_assert_eq(feed_idx(&x, WIRE_HAVE, i), GT_OK);
	cr_assert_eq(peer_queue_len(x.p), 32);
	cr_assert_eq(peer_deadline(x.p), x.now + PEER_REQUEST_MS);
	cr_assert_eq(peer_tick(x.p, x.now + 1000), GT_OK);
	cr_assert_not(peer_is_snubbed(x.p));
	fx_free(&x);
}

Test(peer, deadline_is_earliest)
{
	struct fx		x;
	struct block_req	q[64];

	fx_std(&x, false);
	drain(&x);
	/* Idle and keep-alive only. */
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_KEEPALIVE_MS);
	x.now = T0 + 50000;
	cr_assert_eq(feed0(&x, WIRE_KEEPALIVE), GT_OK);
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_KEEPALIVE_MS);
	/* Requests out: their timeout is first. */
	start_download(&x, q, nitems(q));
	cr_assert_eq(peer_deadline(x.p), x.now + PEER_REQUEST_MS);
	/* A block came: the requests left have PEER_REQUEST_MS from it. */
	x.now += 5000;
	cr_assert_eq(feed_piece(&x, q[0].piece, q[0].offset, q[0].length),
	    GT_OK);
	cr_assert_eq(peer_deadline(x.p), x.now + PEER_REQUEST_MS);
	/* A tick before any deadline changes nothing. */
	drain(&x);
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_eq(drain(&x), 0);
	cr_assert_eq(peer_queue_len(x.p), peer_queue_depth(x.p));
	fx_free(&x);
}

/*
 * A peer that delivers, only slowly (a rate limit at either end): its
 * requests outlive PEER_REQUEST_MS while blocks keep coming, up to
 * PEER_REQUEST_MAX_MS.
 */
Test(peer, slow_but_delivering_peer_keeps_its_requests)
{
	struct fx		x;
	struct block_req	q[64];
	size_t			nq, i;

	fx_std(&x, false);
	nq = start_download(&x, q, nitems(q));
	cr_assert_eq(nq, 32);
	/* A block every 15 s: nothing expires for 45 s. */
	for (i = 0; i < 3; i++) {
		x.now += 15000;
		cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
		cr_assert_eq(x.f.nabandon, 0, "a delivering peer keeps them");
		cr_assert_eq(feed_piece(&x, q[i].piece, q[i].offset,
		    q[i].length), GT_OK);
	}
	cr_assert_not(peer_is_stalled(x.p));
	/* The oldest still out was sent at T0: at T0 + 60 s it goes. */
	cr_assert_eq(peer_deadline(x.p), T0 + PEER_REQUEST_MAX_MS);
	x.now = T0 + PEER_REQUEST_MAX_MS;
	cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	cr_assert_eq(x.f.nabandon, nq - 3);
	fx_free(&x);
}

Test(peer, end_game_cancel_and_late_piece)
{
	struct fx		x;
	struct block_req	q[64], other = { 9, 0, BLK };
	size_t			n;
	int			fast;

	for (fast = 0; fast < 2; fast++) {
		fx_std(&x, fast);
		start_download(&x, q, nitems(q));
		peer_cancel_block(x.p, &q[5]);
		peer_cancel_block(x.p, &q[6]);
		peer_cancel_block(x.p, &other);		/* not ours: no-op */
		n = drain(&x);
		cr_assert_eq(n, 2);
		cr_assert_eq(got[0].type, WIRE_CANCEL);
		cr_assert_eq(got[0].index, q[5].piece);
		cr_assert_eq(got[0].begin, q[5].offset);
		cr_assert_eq(got[0].length, q[5].length);
		cr_assert_eq(peer_queue_len(x.p), 30);
		cr_assert_eq(x.f.nabandon, 0);
		/* The peer sent it anyway: accepted, not delivered. */
		cr_assert_eq(feed_piece(&x, q[5].piece, q[5].offset,
		    q[5].length), GT_OK);
		cr_assert_eq(x.f.nblock, 0);
		if (fast) {
			/* Or rejected it, as BEP 6 asks. */
			cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[6].piece,
			    q[6].offset, q[6].length), GT_OK);
			cr_assert_eq(x.f.nabandon, 0);
		}
		/* But only once. */
		cr_assert_eq(feed_piece(&x, q[5].piece, q[5].offset,
		    q[5].length), GT_EPROTO);
		cr_assert(strstr(peer_error(x.p), "unrequested") != NULL);
		fx_free(&x);
	}
}

/*
 * End-game can cancel more requests than the ring of dropped ones holds
 * (PEER_MAX_QUEUE): answers to those pushed out unanswered are accepted,
 * as many as were lost, and no more.
 */
Test(peer, cancels_past_the_dropped_ring)
{
	struct fx_opts		 o = {
		.npieces = 400, .ours = have0, .we_fast = true,
		.they_fast = true,
	};
	struct fx		 x;
	struct block_req	*q = xcalloc(2048, sizeof(*q));
	size_t			 nq, head = 0, n, lost;

	fx_init(&x, &o);
	nq = start_download(&x, q, 2048);
	while (head < PEER_MAX_QUEUE + 100) {
		for (; head < nq; head++)
			peer_cancel_block(x.p, &q[head]);
		cr_assert_eq(peer_queue_len(x.p), 0);
		peer_fill_requests(x.p, x.now);
		n = drain(&x);
		cr_assert_gt(count_type(n, WIRE_CANCEL), 0);
		nq = take_requests(n, q, nq, 2048);
	}
	lost = head - PEER_MAX_QUEUE;
	/* Late answers, oldest first: the lost ones, then ring entries. */
	for (n = 0; n < lost + 10; n++)
		cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[n].piece,
		    q[n].offset, q[n].length), GT_OK, "reject %zu", n);
	cr_assert_eq(feed_piece(&x, q[lost + 10].piece, q[lost + 10].offset,
	    q[lost + 10].length), GT_OK);
	cr_assert_eq(x.f.nblock, 0);
	cr_assert_eq(x.f.nabandon, 0);
	/* Every lost one answered: an unknown reject is an error again. */
	cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[0].piece, q[0].offset,
	    q[0].length), GT_EPROTO);
	cr_assert(strstr(peer_error(x.p), "not requested") != NULL);
	free(q);
	fx_free(&x);
}

Test(peer, abandon_all)
{
	struct fx		x;
	struct block_req	q[64];

	fx_std(&x, false);
	start_download(&x, q, nitems(q));
	peer_abandon_all(x.p);
	cr_assert_eq(x.f.nabandon, 32);
	cr_assert_eq(peer_queue_len(x.p), 0);
	peer_abandon_all(x.p);
	cr_assert_eq(x.f.nabandon, 32);
	fx_free(&x);
	peer_free(NULL);
}

/*
 * One fast peer on loopback: 64 blocks per ms (1 GiB/s), answered as soon
 * as asked.  The pipeline must open up to PEER_MAX_QUEUE quickly and stay
 * there once the rate estimate takes over.
 */
Test(peer, pipeline_grows_for_fast_peer)
{
	struct fx_opts		 o = {
		.npieces = 16384, .plen = 256 * KIB, .last = 256 * KIB,
		.we_fast = true, .they_fast = true,
	};
	struct fx		 x;
	struct block_req	*q;
	size_t			 qmax = 1 << 19, head = 0, nq, k, n;
	size_t			 prev, reached = 0;
	uint64_t		 ms;

	q = xcalloc(qmax, sizeof(*q));
	fx_init(&x, &o);
	x.f.check_data = false;
	drain(&x);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	nq = take_requests(drain(&x), q, 0, qmax);
	cr_assert_geq(nq, 16);
	cr_assert_leq(nq, 64);
	prev = peer_queue_depth(x.p);
	for (ms = 0; ms < 3000; ms++) {
		x.now++;
		for (k = 0; k < 64 && head < nq; k++) {
			cr_assert_eq(feed_piece_fast(&x, &q[head++]), GT_OK);
			n = drain(&x);
			nq = take_requests(n, q, nq, qmax);
			cr_assert_geq(peer_queue_depth(x.p), PEER_MIN_QUEUE);
			cr_assert_leq(peer_queue_depth(x.p), PEER_MAX_QUEUE);
			cr_assert_leq(peer_queue_len(x.p),
			    peer_queue_depth(x.p));
			if (ms < 100)
				cr_assert_geq(peer_queue_depth(x.p), prev,
				    "slow start never shrinks");
			prev = peer_queue_depth(x.p);
			if (reached == 0 && prev == PEER_MAX_QUEUE)
				reached = ms + 1;
		}
	}
	cr_assert_gt(reached, 0, "depth stuck at %zu", prev);
	cr_assert_lt(reached, 100, "took %zu ms", reached);
	cr_assert_eq(peer_queue_depth(x.p), PEER_MAX_QUEUE);
	cr_assert_eq(peer_queue_len(x.p), PEER_MAX_QUEUE);
	cr_assert_eq(x.f.nblock, head);
	cr_assert_gt(head, 64 * 2900);
	/* ~1 GiB/s measured. */
	cr_assert_gt(peer_down_rate(x.p, x.now), 950u * 1024 * 1024);
	cr_assert_lt(peer_down_rate(x.p, x.now), 1100u * 1024 * 1024);
	fx_free(&x);
	free(q);
}

/* A slow peer (~50 KB/s): once measured, the pipeline is ~2 s of data. */
Test(peer, pipeline_shrinks_for_slow_peer)
{
	struct fx_opts		o = {
		.npieces = 100, .plen = 256 * KIB, .last = 256 * KIB,
		.we_fast = true, .they_fast = true,
	};
	struct fx		x;
	struct block_req	q[4096];
	size_t			head = 0, nq, max_depth = 0;

	fx_init(&x, &o);
	drain(&x);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	nq = take_requests(drain(&x), q, 0, nitems(q));
	while (x.now < T0 + 15000) {
		x.now += 320;
		cr_assert_lt(head, nq);
		cr_assert_eq(feed_piece(&x, q[head].piece, q[head].offset,
		    q[head].length), GT_OK);
		head++;
		nq = take_requests(drain(&x), q, nq, nitems(q));
		max_depth = MAX(max_depth, peer_queue_depth(x.p));
		cr_assert_eq(peer_tick(x.p, x.now), GT_OK);
	}
	cr_assert_lt(max_depth, 64, "slow start is bounded by the blocks");
	/* 51200 B/s * 2 s / 16 KiB = 6.25 blocks */
	cr_assert_geq(peer_queue_depth(x.p), PEER_MIN_QUEUE);
	cr_assert_leq(peer_queue_depth(x.p), 8);
	cr_assert_gt(peer_down_rate(x.p, x.now), 45000);
	cr_assert_lt(peer_down_rate(x.p, x.now), 56000);
	cr_assert_eq(x.f.bad_data, 0);
	cr_assert_not(peer_is_snubbed(x.p));
	fx_free(&x);
}

Test(peer, rates)
{
	static uint8_t		data[BLK];
	struct fx_opts		o = {
		.npieces = 200, .plen = 256 * KIB, .last = 256 * KIB,
		.ours_all = true,
	};
	struct fx		x;
	struct block_req	r;
	uint32_t		i;

	fx_init(&x, &o);
	x.f.check_data = false;
	cr_assert_eq(peer_down_rate(x.p, x.now), 0);
	cr_assert_eq(peer_up_rate(x.p, x.now), 0);
	peer_set_choking(x.p, false, x.now);
	/* We upload 16 KiB every 100 ms: 163840 B/s. */
	for (i = 0; i < 100; i++) {
		x.now += 100;
		r = (struct block_req){ i / 16, (i % 16) * BLK, BLK };
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, r.piece, r.offset,
		    r.length), GT_OK);
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
		drain(&x);
		if (i >= 15) {
			cr_assert_gt(peer_up_rate(x.p, x.now), 163840 * 9 / 10,
			    "%u: %llu", i, (unsigned long long)
			    peer_up_rate(x.p, x.now));
			cr_assert_lt(peer_up_rate(x.p, x.now),
			    163840 * 11 / 10);
		}
	}
	cr_assert_eq(peer_uploaded(x.p), 100 * BLK);
	cr_assert_eq(peer_down_rate(x.p, x.now), 0);
	/* Stopped: the rate decays to zero within the window. */
	cr_assert_gt(peer_up_rate(x.p, x.now + 2000), 0);
	cr_assert_eq(peer_up_rate(x.p, x.now + 6000), 0);
	fx_free(&x);
}

/*
 * The choker's rates average PEER_RATE_AVG_MS (20 s): 10 s at 160 KiB/s,
 * then 10 s of nothing, read 8 s later: the short rate says 0, the average
 * about 10 s x 160 KiB / 20 s; 20 s after the last block, 0.
 */
Test(peer, rates_over_20_s)
{
	static uint8_t		data[BLK];
	struct fx_opts		o = {
		.npieces = 200, .plen = 256 * KIB, .last = 256 * KIB,
		.ours_all = true,
	};
	struct fx		x;
	struct block_req	r;
	uint64_t		avg, end;
	uint32_t		i;

	fx_init(&x, &o);
	x.f.check_data = false;
	cr_assert_eq(peer_up_rate_avg(x.p, x.now), 0);
	peer_set_choking(x.p, false, x.now);
	for (i = 0; i < 100; i++) {
		x.now += 100;
		r = (struct block_req){ i / 16, (i % 16) * BLK, BLK };
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, r.piece, r.offset,
		    r.length), GT_OK);
		cr_assert_eq(peer_send_block(x.p, &r, data), GT_OK);
		drain(&x);
	}
	/* 10 s in: the average covers the 10 s since the first block. */
	avg = peer_up_rate_avg(x.p, x.now);
	cr_assert(avg > 163840 * 9 / 10 && avg < 163840 * 11 / 10, "%llu",
	    (unsigned long long)avg);
	end = x.now;
	x.now = end + 8000;
	cr_assert_eq(peer_up_rate(x.p, x.now), 0);
	avg = peer_up_rate_avg(x.p, x.now);
	cr_assert(avg > 163840 / 2 * 8 / 10 && avg < 163840 / 2 * 12 / 10,
	    "%llu", (unsigned long long)avg);
	cr_assert_eq(peer_down_rate_avg(x.p, x.now), 0);
	cr_assert_gt(peer_up_rate_avg(x.p, end + 18000), 0);
	cr_assert_eq(peer_up_rate_avg(x.p, end + PEER_RATE_AVG_MS + 1000), 0);
	fx_free(&x);
}

/* ---- a magnet: no metadata until peer_set_metadata ---- */

/* A peer made before the metadata (npieces 0), handshake done. */
static void
fx_magnet(struct fx *x, bool they_fast)
{
	struct fake		*f = &x->f;
	struct peer_config	 cfg = { .fast = true, .extended = true };
	struct wire_handshake	 hs = { .reserved = { 0 } };
	struct bitfield		 none;

	memset(x, 0, sizeof(*x));
	x->now = T0;
	f->npieces = 10;		/* what the metadata will say */
	f->plen = 64 * KIB;
	f->last = 20000;
	f->bpp = (f->plen + BLK - 1) / BLK;
	f->st = xcalloc((size_t)f->npieces * f->bpp, 1);
	bitfield_init(&f->ours, f->npieces);
	bitfield_set(&f->ours, 0);
	x->p = f->peer = peer_new(&cfg, &hooks, f, x->now);
	if (they_fast)
		hs.reserved[7] |= WIRE_RSV_FAST;
	hs.reserved[5] |= WIRE_RSV_EXTENDED;
	memset(hs.peer_id, 0xcd, sizeof(hs.peer_id));
	bitfield_init(&none, 0);
	cr_assert_eq(peer_on_handshake(x->p, &hs, &none, x->now), GT_OK);
	bitfield_clear(&none);
}

static enum gt_err
fx_metadata(struct fx *x)
{
	struct peer_config	cfg = {
		.npieces = x->f.npieces, .piece_length = x->f.plen,
		.last_size = x->f.last, .fast = true, .extended = true,
	};

	return peer_set_metadata(x->p, &cfg, x->now);
}

Test(peer, magnet_first_message)
{
	struct fx	x;
	size_t		n;

	fx_magnet(&x, true);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_HAVE_NONE, "fast: have none");
	cr_assert_not(peer_is_seed(x.p));
	fx_free(&x);

	fx_magnet(&x, false);
	cr_assert_eq(drain(&x), 0, "plain: nothing (a bitfield is optional)");
	fx_free(&x);
}

Test(peer, magnet_holds_bitfield_and_haves)
{
	struct fx	x;
	uint8_t		bits[2] = { 0x50, 0x00 };	/* pieces 1 and 3 */
	size_t		n;

	fx_magnet(&x, true);
	drain(&x);
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, bits, 2), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 5), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 7), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 7), GT_OK);	/* again */
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	cr_assert_eq(x.f.nbitfield + x.f.nhave + x.f.npick, 0,
	    "nothing reaches the torrent before the metadata");
	cr_assert_not(peer_am_interested(x.p));
	cr_assert_eq(drain(&x), 0);

	cr_assert_eq(fx_metadata(&x), GT_OK);
	cr_assert_eq(x.f.nbitfield, 1, "one bitfield with it all");
	cr_assert_eq(x.f.nhave, 0);
	cr_assert_eq(peer_has(x.p)->count, 4);
	cr_assert(bitfield_get(peer_has(x.p), 7));
	cr_assert(peer_am_interested(x.p));
	n = drain(&x);
	cr_assert_eq(count_type(n, WIRE_INTERESTED), 1);
	cr_assert_gt(count_type(n, WIRE_REQUEST), 0, "unchoked: requests");
	fx_free(&x);
}

Test(peer, magnet_have_all)
{
	struct fx	x;

	fx_magnet(&x, true);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_OK);
	cr_assert(peer_is_seed(x.p));
	cr_assert_eq(fx_metadata(&x), GT_OK);
	cr_assert(peer_is_seed(x.p));
	cr_assert_eq(peer_has(x.p)->count, 10);
	fx_free(&x);
}

Test(peer, magnet_checked_at_metadata)
{
	struct fx	x;
	uint8_t		bits[3] = { 0xff, 0xc0, 0x00 };
	uint8_t		spare[2] = { 0xff, 0xc1 };	/* spare bit set */

	fx_magnet(&x, true);
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, bits, 3), GT_OK);
	cr_assert_eq(fx_metadata(&x), GT_EPROTO, "3 bytes for 10 pieces");
	cr_assert_eq(peer_state(x.p), PEER_CLOSING);
	cr_assert_eq(x.f.nbitfield, 0);
	fx_free(&x);

	fx_magnet(&x, true);
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, spare, 2), GT_OK);
	cr_assert_eq(fx_metadata(&x), GT_EPROTO, "spare bits set");
	fx_free(&x);

	fx_magnet(&x, true);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 10), GT_OK);
	cr_assert_eq(fx_metadata(&x), GT_EPROTO, "have 10 of 10 pieces");
	cr_assert_not_null(strstr(peer_error(x.p), "have 10"));
	fx_free(&x);

	/* good bits, then a bad HAVE: the torrent was told nothing, and the
	   peer holds nothing it would take back when the connection closes */
	fx_magnet(&x, true);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 12), GT_OK);
	cr_assert_eq(fx_metadata(&x), GT_EPROTO);
	cr_assert_eq(x.f.nbitfield, 0);
	cr_assert_eq(peer_has(x.p)->count, 0);
	fx_free(&x);

	fx_magnet(&x, true);
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, UINT32_MAX), GT_OK,
	    "held: no allocation from the index");
	cr_assert_eq(fx_metadata(&x), GT_EPROTO);
	fx_free(&x);
}

Test(peer, magnet_ordering_rules_hold)
{
	struct fx	x;
	uint8_t		a[2] = { 0x80, 0 }, b[3] = { 0, 0, 0 };

	fx_magnet(&x, false);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_EPROTO, "no fast");
	fx_free(&x);

	fx_magnet(&x, true);
	cr_assert_eq(feed0(&x, WIRE_HAVE_NONE), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_HAVE_ALL), GT_EPROTO, "second");
	fx_free(&x);

	fx_magnet(&x, true);
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, a, 2), GT_OK);
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, b, 3), GT_EPROTO,
	    "a bitfield changing length");
	fx_free(&x);

	/* an update ORs in; a later bit is never lost */
	fx_magnet(&x, true);
	a[0] = 0x80;
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, a, 2), GT_OK);
	a[0] = 0x40;
	cr_assert_eq(feed_raw(&x, WIRE_BITFIELD, a, 2), GT_OK);
	cr_assert_eq(fx_metadata(&x), GT_OK);
	cr_assert_eq(peer_has(x.p)->count, 2);
	fx_free(&x);
}

Test(peer, magnet_requests_rejected)
{
	struct fx	x;
	size_t		n;

	fx_magnet(&x, true);
	drain(&x);
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 999999, 0, BLK), GT_OK);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_REJECT);
	cr_assert_eq(got[0].index, 999999);
	cr_assert_eq(x.f.nrequest, 0);
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 0, 0, 0), GT_EPROTO,
	    "an empty request still breaks the protocol");
	fx_free(&x);

	fx_magnet(&x, false);
	drain(&x);
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 3, 0, BLK), GT_OK);
	cr_assert_eq(drain(&x), 0, "plain: dropped silently");
	cr_assert_eq(feed_blk(&x, WIRE_PIECE, 3, 0, BLK), GT_EPROTO,
	    "we asked for nothing");
	fx_free(&x);
}

Test(peer, magnet_haves_bounded)
{
	struct fx	x;
	uint32_t	i;

	fx_magnet(&x, true);
	for (i = 0; i < 100000; i++)
		cr_assert_eq(feed_idx(&x, WIRE_HAVE, i % 10), GT_OK);
	cr_assert_eq(fx_metadata(&x), GT_OK, "the first ones are kept");
	cr_assert_eq(peer_has(x.p)->count, 10);
	fx_free(&x);
}

Test(peer, reqq_caps_the_pipeline)
{
	struct fx		x;
	struct block_req	q[2048];
	size_t			nq;

	fx_std(&x, true);
	peer_set_reqq(x.p, 5);
	nq = start_download(&x, q, nitems(q));
	cr_assert_eq(nq, 5, "at most its reqq out");
	fx_free(&x);
}

/* BEP 5 PORT: theirs reaches the hook (not port 0), ours goes out. */
Test(peer, port_messages)
{
	struct fx	 x;
	struct wire_msg	 m;
	struct buf	*b;
	size_t		 used;
	uint8_t		 p6881[2] = { 0x1a, 0xe1 }, p0[2] = { 0, 0 };

	fx_std(&x, true);
	(void)drain(&x);
	cr_assert_eq(feed_raw(&x, WIRE_PORT, p6881, 2), GT_OK);
	cr_assert_eq(x.f.nport, 1);
	cr_assert_eq(x.f.last_port, 6881);
	cr_assert_eq(feed_raw(&x, WIRE_PORT, p0, 2), GT_OK);
	cr_assert_eq(x.f.nport, 1);
	cr_assert_eq(peer_state(x.p), PEER_ACTIVE);
	cr_assert_eq(peer_send_port(x.p, 51413), GT_OK);
	b = peer_out(x.p);
	cr_assert_eq(wire_decode(b->data, b->len, &m, &used), GT_OK);
	cr_assert_eq(m.type, WIRE_PORT);
	cr_assert_eq(m.port, 51413);
	cr_assert_eq(used, b->len);
	fx_free(&x);
}

/* A magnet's peer (no metadata yet) reports PORT all the same. */
Test(peer, port_before_metadata)
{
	struct fx	x;
	uint8_t		p[2] = { 0x1a, 0xe2 };

	fx_magnet(&x, true);
	cr_assert_eq(feed_raw(&x, WIRE_PORT, p, 2), GT_OK);
	cr_assert_eq(x.f.nport, 1);
	cr_assert_eq(x.f.last_port, 6882);
	fx_free(&x);
}

/* BEP 6: allowed fast, reject on choke, suggestions. */

/* The ALLOWED_FAST frames in got[0..n), in order, into out. */
static size_t
take_allowed(size_t n, uint32_t *out, size_t max)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (got[i].type != WIRE_ALLOWED_FAST)
			continue;
		cr_assert_lt(k, max);
		out[k++] = got[i].index;
	}
	return k;
}

/* Ours go out for pieces we have: now, and the others as we get them. */
Test(peer, allowed_fast_sent_for_pieces_we_have)
{
	static const uint32_t	ours[] = { 0, 2, 5, UINT32_MAX };
	static const uint32_t	set[] = { 5, 3, 0, 5, 99 };
	struct fx_opts		o = {
		.ours = ours, .we_fast = true, .they_fast = true,
	};
	struct fx		x;
	uint32_t		af[8];
	size_t			n;

	fx_init(&x, &o);
	drain(&x);
	peer_set_allowed_fast(x.p, set, nitems(set), x.now);
	n = drain(&x);
	cr_assert_eq(take_allowed(n, af, nitems(af)), 2, "5 and 0 now");
	cr_assert_eq(af[0], 5);
	cr_assert_eq(af[1], 0);
	cr_assert(peer_allows_fast(x.p, 5) && peer_allows_fast(x.p, 0));
	cr_assert_not(peer_allows_fast(x.p, 2), "not in the set");
	cr_assert_not(peer_allows_fast(x.p, 99));
	/* Piece 3 verified: HAVE, then its ALLOWED_FAST, once. */
	bitfield_set(&x.f.ours, 3);
	peer_announce_have(x.p, 3, x.now);
	n = drain(&x);
	cr_assert_eq(n, 2);
	cr_assert_eq(got[0].type, WIRE_HAVE);
	cr_assert_eq(got[1].type, WIRE_ALLOWED_FAST);
	cr_assert_eq(got[1].index, 3);
	bitfield_set(&x.f.ours, 2);
	peer_announce_have(x.p, 2, x.now);
	n = drain(&x);
	cr_assert_eq(count_type(n, WIRE_ALLOWED_FAST), 0);
	/* The peer announces 5: no longer served while choked. */
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 5), GT_OK);
	cr_assert_not(peer_allows_fast(x.p, 5));
	fx_free(&x);

	/* Without the fast extension: nothing. */
	o.they_fast = false;
	fx_init(&x, &o);
	drain(&x);
	peer_set_allowed_fast(x.p, set, nitems(set), x.now);
	cr_assert_eq(drain(&x), 0);
	cr_assert_not(peer_allows_fast(x.p, 5));
	fx_free(&x);
}

/*
 * Choking a fast peer: its requests of allowed-fast pieces are served, the
 * others REJECTed, before and after the choke.
 */
Test(peer, choked_peer_gets_allowed_fast_pieces)
{
	static const uint32_t	ours[] = { 0, 1, 2, UINT32_MAX };
	static const uint32_t	set[] = { 1 };
	struct fx_opts		o = {
		.ours = ours, .we_fast = true, .they_fast = true,
	};
	struct fx		x;
	struct block_req	r;
	size_t			n;

	fx_init(&x, &o);
	peer_set_allowed_fast(x.p, set, 1, x.now);
	cr_assert_eq(feed0(&x, WIRE_HAVE_NONE), GT_OK);
	cr_assert_eq(feed0(&x, WIRE_INTERESTED), GT_OK);
	drain(&x);
	cr_assert(peer_am_choking(x.p));
	/* Piece 1 is allowed: queued for the torrent, no answer yet. */
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 1, 0, BLK), GT_OK);
	cr_assert_eq(x.f.nrequest, 1);
	cr_assert_eq(drain(&x), 0);
	cr_assert(peer_next_request(x.p, &r));
	cr_assert_eq(r.piece, 1);
	/* Piece 2 is not: rejected at once. */
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 2, 0, BLK), GT_OK);
	cr_assert_eq(x.f.nrequest, 1);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_REJECT);
	cr_assert_eq(got[0].index, 2);
	/* Served while choked. */
	x.f.serve = true;
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 1, BLK, BLK), GT_OK);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_PIECE);
	cr_assert_eq(got[0].index, 1);
	cr_assert(got[0].data_ok);
	fx_free(&x);
}

/* Twice the piece served while choked: further requests are rejected. */
Test(peer, allowed_fast_is_bounded)
{
	static const uint32_t	ours[] = { 0, 1, UINT32_MAX };
	static const uint32_t	set[] = { 1 };
	struct fx_opts		o = {
		.ours = ours, .we_fast = true, .they_fast = true,
	};
	struct fx		x;
	uint32_t		k;
	size_t			n;

	fx_init(&x, &o);
	peer_set_allowed_fast(x.p, set, 1, x.now);
	x.f.serve = true;
	drain(&x);
	for (k = 0; k < 2 * 4; k++)
		cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 1, (k % 4) * BLK, BLK),
		    GT_OK);
	n = drain(&x);
	cr_assert_eq(count_type(n, WIRE_PIECE), 8);
	cr_assert_not(peer_allows_fast(x.p, 1));
	cr_assert_eq(feed_blk(&x, WIRE_REQUEST, 1, 0, BLK), GT_OK);
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_REJECT);
	fx_free(&x);
}

/*
 * We choke a fast peer with requests queued: one REJECT for each not in
 * its allowed-fast set; the allowed ones stay queued and are served.
 * Without fast: dropped silently.
 */
Test(peer, choke_rejects_all_but_allowed_fast)
{
	static const uint32_t	ours[] = { 0, 1, 2, 3, UINT32_MAX };
	static const uint32_t	set[] = { 2 };
	struct fx_opts		o = {
		.ours = ours, .we_fast = true, .they_fast = true,
	};
	struct fx		x;
	struct block_req	r;
	uint32_t		piece;
	size_t			n, i;
	int			fast;

	for (fast = 0; fast < 2; fast++) {
		o.they_fast = fast;
		fx_init(&x, &o);
		peer_set_allowed_fast(x.p, set, 1, x.now);
		peer_set_choking(x.p, false, x.now);
		drain(&x);
		for (piece = 0; piece < 4; piece++) {
			cr_assert_eq(feed_blk(&x, WIRE_REQUEST, piece, 0, BLK),
			    GT_OK);
			cr_assert_eq(feed_blk(&x, WIRE_REQUEST, piece, BLK,
			    BLK), GT_OK);
		}
		cr_assert_eq(x.f.nrequest, 8);
		peer_set_choking(x.p, true, x.now);
		n = drain(&x);
		cr_assert_eq(got[0].type, WIRE_CHOKE);
		if (!fast) {
			cr_assert_eq(n, 1);
			cr_assert_not(peer_next_request(x.p, &r));
			fx_free(&x);
			continue;
		}
		cr_assert_eq(n, 1 + 6);
		for (i = 1; i < n; i++) {
			cr_assert_eq(got[i].type, WIRE_REJECT);
			cr_assert_neq(got[i].index, 2);
		}
		/* The two of piece 2 stay, in order. */
		cr_assert(peer_next_request(x.p, &r));
		cr_assert_eq(r.piece, 2);
		cr_assert_eq(r.offset, 0);
		cr_assert_eq(peer_reject_request(x.p, &r), GT_OK);
		cr_assert(peer_next_request(x.p, &r));
		cr_assert_eq(r.piece, 2);
		cr_assert_eq(r.offset, BLK);
		fx_free(&x);
	}
}

/*
 * The peer chokes us but allows piece 3: we ask for blocks of piece 3
 * only (the picker sees peer_pick_set), and again once unchoked for all.
 */
Test(peer, requests_allowed_fast_while_choked)
{
	static const uint32_t	theirs[] = { 3, 4, 5, UINT32_MAX };
	struct fx		x;
	struct block_req	q[64];
	size_t			n, nq, i;

	fx_std(&x, true);
	drain(&x);
	cr_assert_eq(feed_bits(&x, theirs, false), GT_OK);
	cr_assert(peer_am_interested(x.p));
	cr_assert_eq(count_type(drain(&x), WIRE_REQUEST), 0, "choked");
	/* Allowed, but it does not have 7: nothing asked. */
	cr_assert_eq(feed_idx(&x, WIRE_ALLOWED_FAST, 7), GT_OK);
	cr_assert_eq(count_type(drain(&x), WIRE_REQUEST), 0);
	cr_assert_eq(feed_idx(&x, WIRE_ALLOWED_FAST, 3), GT_OK);
	n = drain(&x);
	nq = take_requests(n, q, 0, nitems(q));
	cr_assert_eq(nq, 4, "the four blocks of piece 3");
	for (i = 0; i < nq; i++)
		cr_assert_eq(q[i].piece, 3);
	/* It gets 7 later: asked too. */
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 7), GT_OK);
	n = drain(&x);
	nq = take_requests(n, q, 0, nitems(q));
	cr_assert_eq(nq, 4);
	for (i = 0; i < nq; i++)
		cr_assert_eq(q[i].piece, 7);
	/* A block comes while choked; the rest when unchoked. */
	cr_assert_eq(feed_piece(&x, 3, 0, BLK), GT_OK);
	cr_assert_eq(x.f.nblock, 1);
	cr_assert_eq(count_type(drain(&x), WIRE_REQUEST), 0);
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	n = drain(&x);
	nq = take_requests(n, q, 0, nitems(q));
	cr_assert_gt(nq, 0);
	for (i = 0; i < nq; i++)
		cr_assert(q[i].piece == 4 || q[i].piece == 5);
	fx_free(&x);
}

/*
 * A reject of an allowed-fast piece while choked withdraws it: no
 * request/reject loop.  Extra ALLOWED_FAST past the cap are ignored.
 */
Test(peer, allowed_fast_reject_and_cap)
{
	struct fx		x;
	struct block_req	q[64];
	struct fx_opts		o = {
		.npieces = 200, .ours = have0, .we_fast = true,
		.they_fast = true,
	};
	size_t			n, nq, i;
	uint32_t		k;

	fx_init(&x, &o);
	drain(&x);
	cr_assert_eq(feed_bits(&x, NULL, true), GT_OK);
	drain(&x);
	cr_assert_eq(feed_idx(&x, WIRE_ALLOWED_FAST, 9), GT_OK);
	n = drain(&x);
	nq = take_requests(n, q, 0, nitems(q));
	cr_assert_eq(nq, 4);
	for (i = 0; i < nq; i++)
		cr_assert_eq(feed_blk(&x, WIRE_REJECT, q[i].piece,
		    q[i].offset, q[i].length), GT_OK);
	cr_assert_eq(count_type(drain(&x), WIRE_REQUEST), 0, "withdrawn");
	cr_assert_eq(peer_queue_len(x.p), 0);
	cr_assert_eq(peer_pick_set(x.p)->count, 0);
	/* The cap: PEER_FAST_MAX kept, the rest ignored, no error. */
	for (k = 10; k < 10 + PEER_FAST_MAX + 20; k++)
		cr_assert_eq(feed_idx(&x, WIRE_ALLOWED_FAST, k), GT_OK);
	cr_assert_eq(peer_pick_set(x.p)->count, PEER_FAST_MAX);
	cr_assert_eq(peer_state(x.p), PEER_ACTIVE);
	fx_free(&x);
}

/* Suggestions: kept (bounded), only for pieces it has and we lack. */
Test(peer, suggestions_received)
{
	static const uint32_t	theirs[] = { 1, 2, 3, UINT32_MAX };
	struct fx		x;
	const struct bitfield	*s;
	struct fx_opts		o = {
		.npieces = 100, .ours = have0, .we_fast = true,
		.they_fast = true,
	};
	uint32_t		k;

	fx_init(&x, &o);
	drain(&x);
	cr_assert_eq(feed_bits(&x, theirs, false), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_SUGGEST, 2), GT_OK);
	cr_assert_eq(feed_idx(&x, WIRE_SUGGEST, 0), GT_OK);	/* ours */
	cr_assert_eq(feed_idx(&x, WIRE_SUGGEST, 50), GT_OK);	/* not its */
	cr_assert_null(peer_suggested(x.p), "choked: none");
	cr_assert_eq(feed0(&x, WIRE_UNCHOKE), GT_OK);
	s = peer_suggested(x.p);
	cr_assert_not_null(s);
	cr_assert_eq(s->count, 1);
	cr_assert(bitfield_get(s, 2));
	/* It gets 50: suggested and now held. */
	cr_assert_eq(feed_idx(&x, WIRE_HAVE, 50), GT_OK);
	s = peer_suggested(x.p);
	cr_assert_eq(s->count, 2);
	cr_assert(bitfield_get(s, 50));
	/* We get 2: no longer suggested. */
	bitfield_set(&x.f.ours, 2);
	s = peer_suggested(x.p);
	cr_assert_eq(s->count, 1);
	cr_assert_not(bitfield_get(s, 2));
	/* Bounded: the oldest go. */
	cr_assert_eq(feed_bits(&x, NULL, true), GT_OK);	/* an update */
	for (k = 60; k < 60 + PEER_SUGGEST_MAX; k++)
		cr_assert_eq(feed_idx(&x, WIRE_SUGGEST, k), GT_OK);
	s = peer_suggested(x.p);
	cr_assert_eq(s->count, PEER_SUGGEST_MAX);
	cr_assert_not(bitfield_get(s, 50));
	fx_free(&x);
}

/* We suggest: fast, unchoked, interested, lacking it; each piece once. */
Test(peer, suggest_sent_once)
{
	static const uint32_t	ours[] = { 0, 1, 2, UINT32_MAX };
	static const uint32_t	theirs[] = { 1, UINT32_MAX };
	struct fx_opts		o = {
		.ours = ours, .we_fast = true, .they_fast = true,
	};
	struct fx		x;
	size_t			n;

	fx_init(&x, &o);
	cr_assert_eq(feed_bits(&x, theirs, false), GT_OK);
	drain(&x);
	cr_assert_not(peer_suggest(x.p, 2, x.now), "choked");
	peer_set_choking(x.p, false, x.now);
	cr_assert_not(peer_suggest(x.p, 2, x.now), "not interested");
	cr_assert_eq(feed0(&x, WIRE_INTERESTED), GT_OK);
	drain(&x);
	cr_assert_not(peer_suggest(x.p, 1, x.now), "it has 1");
	cr_assert_not(peer_suggest(x.p, 5, x.now), "we lack 5");
	cr_assert_not(peer_suggest(x.p, 10, x.now), "out of range");
	cr_assert(peer_suggest(x.p, 2, x.now));
	cr_assert_not(peer_suggest(x.p, 2, x.now), "once");
	n = drain(&x);
	cr_assert_eq(n, 1);
	cr_assert_eq(got[0].type, WIRE_SUGGEST);
	cr_assert_eq(got[0].index, 2);
	fx_free(&x);

	o.they_fast = false;
	fx_init(&x, &o);
	peer_set_choking(x.p, false, x.now);
	cr_assert_eq(feed0(&x, WIRE_INTERESTED), GT_OK);
	drain(&x);
	cr_assert_not(peer_suggest(x.p, 2, x.now), "no fast");
	cr_assert_eq(drain(&x), 0);
	fx_free(&x);
}
