/* test-resume.c - the resume record codec: round trips and hostile records */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "resume.h"
#include "util.h"

#define LIT(s)	(const uint8_t *)(s), sizeof(s) - 1

/*
 * The torrent of most tests: 10 pieces of 3 blocks and 5 bytes (4 blocks),
 * the last of 20000 bytes (2 blocks), 2 files.
 */
#define PL	(3 * RESUME_BLOCK + 5)
static const struct resume_expect	X = {
	.info_hash = "0123456789abcdefghij",
	.npieces = 10,
	.piece_length = PL,
	.last_size = 20000,
	.nfiles = 2,
};

/* A record for x with the partials given as (piece, first blocks byte). */
static void
make(struct resume *r, const struct resume_expect *x, const uint32_t *pp,
    const uint8_t *pb, size_t np)
{
	size_t	i, nb;

	resume_init(r);
	memcpy(r->info_hash, x->info_hash, 20);
	r->npieces = x->npieces;
	r->piece_length = x->piece_length;
	r->last_size = x->last_size;
	r->have = xcalloc((x->npieces + 7) / 8, 1);
	r->partial = np > 0 ? xcalloc(np, sizeof(*r->partial)) : NULL;
	for (i = 0; i < np; i++) {
		r->partial[i].piece = pp[i];
		nb = (resume_piece_blocks(r, pp[i]) + 7) / 8;
		r->partial[i].blocks = xcalloc(nb, 1);
		r->partial[i].blocks[0] = pb[i];
	}
	r->npartial = np;
	r->files = x->nfiles > 0 ? xcalloc(x->nfiles, sizeof(*r->files)) :
	    NULL;
	r->nfiles = x->nfiles;
	for (i = 0; i < x->nfiles; i++)
		r->files[i].priority = RESUME_PRIO_NORMAL;
}

static void
set_have(struct resume *r, uint32_t i)
{
	r->have[i / 8] |= 0x80 >> i % 8;
}

static void
assert_same(const struct resume *a, const struct resume *b)
{
	size_t	i;

	cr_assert_arr_eq(a->info_hash, b->info_hash, 20);
	cr_assert_eq(a->npieces, b->npieces);
	cr_assert_eq(a->piece_length, b->piece_length);
	cr_assert_eq(a->last_size, b->last_size);
	cr_assert_arr_eq(a->have, b->have, (a->npieces + 7) / 8);
	cr_assert_eq(a->npartial, b->npartial);
	for (i = 0; i < a->npartial; i++) {
		cr_assert_eq(a->partial[i].piece, b->partial[i].piece);
		cr_assert_arr_eq(a->partial[i].blocks, b->partial[i].blocks,
		    (resume_piece_blocks(a, a->partial[i].piece) + 7) / 8);
	}
	cr_assert_eq(a->nfiles, b->nfiles);
	for (i = 0; i < a->nfiles; i++) {
		cr_assert_eq(a->files[i].size, b->files[i].size);
		cr_assert_eq(a->files[i].mtime_ns, b->files[i].mtime_ns);
		cr_assert_eq(a->files[i].priority, b->files[i].priority);
	}
	cr_assert_eq(a->uploaded, b->uploaded);
	cr_assert_eq(a->downloaded, b->downloaded);
	cr_assert_eq(a->clean, b->clean);
	cr_assert_eq(a->sequential, b->sequential);
}

/* Encodes r, decodes it against x, compares, and checks the bytes again. */
static void
round_trip(const struct resume *r, const struct resume_expect *x)
{
	struct resume	back;
	struct buf	b1, b2;
	char		err[GT_ERRLEN] = "";

	buf_init(&b1, RESUME_MAX_BYTES);
	buf_init(&b2, RESUME_MAX_BYTES);
	cr_assert_eq(resume_encode(r, &b1), GT_OK);
	cr_assert_eq(resume_decode(b1.data, b1.len, x, &back, err), GT_OK,
	    "%s", err);
	assert_same(r, &back);
	cr_assert_eq(resume_encode(&back, &b2), GT_OK);
	cr_assert_eq(b1.len, b2.len);
	cr_assert_arr_eq(b1.data, b2.data, b1.len);
	resume_clear(&back);
	buf_clear(&b1);
	buf_clear(&b2);
}

Test(resume, piece_blocks)
{
	struct resume	r;

	make(&r, &X, NULL, NULL, 0);
	cr_assert_eq(resume_piece_blocks(&r, 0), 4);
	cr_assert_eq(resume_piece_blocks(&r, 8), 4);
	cr_assert_eq(resume_piece_blocks(&r, 9), 2);
	r.piece_length = 2 * RESUME_BLOCK;
	r.last_size = 1;
	cr_assert_eq(resume_piece_blocks(&r, 0), 2);
	cr_assert_eq(resume_piece_blocks(&r, 9), 1);
	resume_clear(&r);
	resume_clear(&r);		/* twice is fine */
	resume_clear(NULL);
}

/* Partials, files, flags, totals; the last piece shorter. */
Test(resume, round_trip_full)
{
	static const uint32_t	pp[] = { 0, 4, 9 };
	static const uint8_t	pb[] = { 0x80, 0xf0, 0x40 };
	struct resume		r;

	make(&r, &X, pp, pb, nitems(pp));
	set_have(&r, 1);
	set_have(&r, 2);
	set_have(&r, 8);
	r.files[0] = (struct resume_file){ 123456789, 1700000000123456789,
	    0 };
	r.files[1] = (struct resume_file){ (uint64_t)1 << 40, 1,
	    RESUME_PRIO_MAX };
	r.uploaded = 1 << 20;
	r.downloaded = ((uint64_t)1 << 62) + 7;
	r.clean = true;
	r.sequential = true;
	round_trip(&r, &X);
	r.clean = false;
	round_trip(&r, &X);
	r.clean = true;
	r.sequential = false;
	round_trip(&r, &X);
	resume_clear(&r);
}

/* One piece, which is also the last; nothing verified, no partial. */
Test(resume, round_trip_one_piece)
{
	static const uint32_t		pp[] = { 0 };
	static const uint8_t		pb[] = { 0x20 };
	struct resume_expect		x = X;
	struct resume			r;

	x.npieces = 1;
	x.piece_length = 1 << 20;
	x.last_size = 12345;
	x.nfiles = 1;
	make(&r, &x, NULL, NULL, 0);
	round_trip(&r, &x);
	set_have(&r, 0);
	round_trip(&r, &x);
	resume_clear(&r);
	make(&r, &x, pp, pb, 1);	/* 1 block, 0x20 is a spare bit */
	cr_assert_eq(resume_piece_blocks(&r, 0), 1);
	r.partial[0].blocks[0] = 0x80;
	round_trip(&r, &x);
	resume_clear(&r);
	x.last_size = 3 * RESUME_BLOCK;	/* 3 blocks */
	make(&r, &x, pp, pb, 1);
	cr_assert_eq(resume_piece_blocks(&r, 0), 3);
	round_trip(&r, &x);
	resume_clear(&r);
}

/* npieces not a multiple of 8, pieces of exact blocks, many files. */
Test(resume, round_trip_odd)
{
	static const uint32_t	pp[] = { 3, 10, 12 };
	static const uint8_t	pb[] = { 0xff, 0x01, 0x80 };
	struct resume_expect	x = X;
	struct resume		r;
	uint32_t		i;

	x.npieces = 13;
	x.piece_length = 16 * RESUME_BLOCK;	/* 16 blocks: 2 bytes */
	x.last_size = 16 * RESUME_BLOCK;
	x.nfiles = 40;
	make(&r, &x, pp, pb, nitems(pp));
	r.partial[0].blocks[1] = 0x01;		/* block 15 */
	r.partial[1].blocks[1] = 0x80;
	for (i = 0; i < 13; i++)
		if (i % 3 == 0 && i != 3 && i != 12)
			set_have(&r, i);
	for (i = 0; i < 40; i++)
		r.files[i] = (struct resume_file){ i * 1000, i, i % 8 };
	round_trip(&r, &x);
	resume_clear(&r);

	x.nfiles = 0;				/* a torrent without files? */
	make(&r, &x, NULL, NULL, 0);
	round_trip(&r, &x);
	resume_clear(&r);
}

/*
 * What the record claims of a byte range: pieces in have, and the received
 * blocks of partial pieces only (a piece two files share may have blocks
 * of the second alone, before the first file exists).
 */
Test(resume, claims)
{
	static const uint32_t	pp[] = { 2, 9 };
	static const uint8_t	pb[] = { 0x60, 0x80 };	/* blocks 1, 2; 0 */
	struct resume		r;
	uint64_t		p2 = 2 * (uint64_t)PL, p9 = 9 * (uint64_t)PL;

	make(&r, &X, pp, pb, nitems(pp));
	set_have(&r, 5);
	cr_assert(!resume_claims(&r, 0, 2 * PL));		/* pieces 0-1 */
	cr_assert(!resume_claims(&r, 0, 0));
	cr_assert(resume_claims(&r, 5 * (uint64_t)PL + PL - 1, 1));
	cr_assert(resume_claims(&r, 4 * (uint64_t)PL, PL + 1));
	/* Piece 2: block 0 not received, blocks 1 and 2 are. */
	cr_assert(!resume_claims(&r, p2, RESUME_BLOCK));
	cr_assert(resume_claims(&r, p2, RESUME_BLOCK + 1));
	cr_assert(resume_claims(&r, p2 + 3 * RESUME_BLOCK - 1, 1));
	/* Block 3 (5 bytes), not received; nor is piece 3. */
	cr_assert(!resume_claims(&r, p2 + 3 * RESUME_BLOCK, 5));
	cr_assert(!resume_claims(&r, p2 + 3 * RESUME_BLOCK, PL + 5));
	/* The last piece (20000 bytes): block 0 only. */
	cr_assert(resume_claims(&r, p9 + RESUME_BLOCK - 1, 100));
	cr_assert(!resume_claims(&r, p9 + RESUME_BLOCK, 20000 - RESUME_BLOCK));
	cr_assert(!resume_claims(&r, p9 + 20000, 1000));	/* past it */
	resume_clear(&r);
}

/* A negative mtime is recorded as absent; huge totals as INT64_MAX. */
Test(resume, encode_clamps)
{
	struct resume	r, back;
	struct buf	b;
	char		err[GT_ERRLEN];

	make(&r, &X, NULL, NULL, 0);
	r.files[0].mtime_ns = -5;
	r.uploaded = UINT64_MAX;
	buf_init(&b, RESUME_MAX_BYTES);
	cr_assert_eq(resume_encode(&r, &b), GT_OK);
	cr_assert_eq(resume_decode(b.data, b.len, &X, &back, err), GT_OK);
	cr_assert_eq(back.files[0].mtime_ns, 0);
	cr_assert_eq(back.uploaded, INT64_MAX);
	resume_clear(&back);
	resume_clear(&r);
	buf_clear(&b);

	/* out's cap: nothing written */
	make(&r, &X, NULL, NULL, 0);
	buf_init(&b, 16);
	cr_assert_eq(buf_append(&b, "ab", 2), GT_OK);
	cr_assert_neq(resume_encode(&r, &b), GT_OK);
	cr_assert_eq(b.len, 2);
	resume_clear(&r);
	buf_clear(&b);
}

/* The record's keys in order, as resume_encode writes them for X. */
static struct bval *
valid_dict(void)
{
	struct bval	*d, *l, *it;
	uint8_t		 have[2] = { 0x40, 0 };	/* piece 1 */
	uint8_t		 blocks = 0xa0;		/* blocks 0 and 2 */

	d = bval_dict();
	bval_dict_set(d, "gtorrent-resume", bval_int(RESUME_VERSION));
	bval_dict_set(d, "info-hash", bval_str(X.info_hash, 20));
	bval_dict_set(d, "pieces", bval_int(X.npieces));
	bval_dict_set(d, "piece-length", bval_int(X.piece_length));
	bval_dict_set(d, "last-size", bval_int(X.last_size));
	bval_dict_set(d, "have", bval_str(have, 2));
	l = bval_list();
	it = bval_list();
	bval_list_add(it, bval_int(3));
	bval_list_add(it, bval_str(&blocks, 1));
	bval_list_add(l, it);
	bval_dict_set(d, "partial", l);
	l = bval_list();
	it = bval_list();
	bval_list_add(it, bval_int(1000));
	bval_list_add(it, bval_int(2000));
	bval_list_add(it, bval_int(4));
	bval_list_add(l, it);
	it = bval_list();
	bval_list_add(it, bval_int(0));
	bval_list_add(it, bval_int(0));
	bval_list_add(it, bval_int(0));
	bval_list_add(l, it);
	bval_dict_set(d, "files", l);
	bval_dict_set(d, "uploaded", bval_int(5));
	bval_dict_set(d, "downloaded", bval_int(6));
	bval_dict_set(d, "clean", bval_int(1));
	bval_dict_set(d, "sequential", bval_int(0));
	return d;
}

/* A [piece, blocks] entry. */
static struct bval *
part(int64_t piece, const char *blocks, size_t len)
{
	struct bval	*it;

	it = bval_list();
	bval_list_add(it, bval_int(piece));
	bval_list_add(it, bval_str(blocks, len));
	return it;
}

/* A [size, mtime, priority] entry. */
static struct bval *
file(int64_t size, int64_t mtime, int64_t prio)
{
	struct bval	*it;

	it = bval_list();
	bval_list_add(it, bval_int(size));
	bval_list_add(it, bval_int(mtime));
	bval_list_add(it, bval_int(prio));
	return it;
}

static struct bval *
list_of(struct bval *a, struct bval *b, struct bval *c)
{
	struct bval	*l;

	l = bval_list();
	if (a != NULL)
		bval_list_add(l, a);
	if (b != NULL)
		bval_list_add(l, b);
	if (c != NULL)
		bval_list_add(l, c);
	return l;
}

/*
 * Decodes the bytes against x and expects GT_EINVAL with the phrase why;
 * out, filled with a marker, must stay as it was.
 */
static void
refuse_x(const uint8_t *p, size_t len, const struct resume_expect *x,
    const char *why)
{
	struct resume	out, mark;
	char		err[GT_ERRLEN] = "";

	memset(&out, 0xa5, sizeof(out));
	memcpy(&mark, &out, sizeof(out));
	cr_assert_eq(resume_decode(p, len, x, &out, err), GT_EINVAL,
	    "accepted, expected \"%s\"", why);
	cr_assert_str_eq(err, why);
	cr_assert_arr_eq(&out, &mark, sizeof(out), "out touched");
}

static void
refuse(const uint8_t *p, size_t len, const char *why)
{
	refuse_x(p, len, &X, why);
}

/* Encodes d (taking it) and expects the phrase. */
static void
refuse_dict(struct bval *d, const char *why)
{
	struct buf	b;

	buf_init(&b, RESUME_MAX_BYTES + 1024);
	cr_assert_eq(bencode_encode_take(d, &b), GT_OK);
	refuse(b.data, b.len, why);
	buf_clear(&b);
}

/* valid_dict() with key set to v. */
static void
refuse_key(const char *key, struct bval *v, const char *why)
{
	struct bval	*d = valid_dict();

	bval_dict_set(d, key, v);
	refuse_dict(d, why);
}

Test(resume, valid_dict_is_valid)
{
	struct resume	r;
	struct buf	b;
	char		err[GT_ERRLEN] = "";

	buf_init(&b, 1 << 20);
	cr_assert_eq(bencode_encode_take(valid_dict(), &b), GT_OK);
	cr_assert_eq(resume_decode(b.data, b.len, &X, &r, err), GT_OK, "%s",
	    err);
	cr_assert_eq(r.npartial, 1);
	cr_assert_eq(r.partial[0].piece, 3);
	cr_assert_eq(r.partial[0].blocks[0], 0xa0);
	cr_assert_eq(r.have[0], 0x40);
	cr_assert_eq(r.files[0].size, 1000);
	cr_assert_eq(r.files[0].mtime_ns, 2000);
	cr_assert_eq(r.files[0].priority, 4);
	cr_assert_eq(r.uploaded, 5);
	cr_assert_eq(r.downloaded, 6);
	cr_assert(r.clean);
	cr_assert_not(r.sequential);
	resume_clear(&r);
	buf_clear(&b);
}

/* Keys it does not know are ignored, in any order. */
Test(resume, unknown_keys)
{
	struct bval	*d = valid_dict();
	struct resume	 r;
	struct buf	 b;
	char		 err[GT_ERRLEN] = "";

	bval_dict_set(d, "a-later-key", list_of(bval_int(1), bval_dict(),
	    bval_cstr("x")));
	bval_dict_set(d, "zzz", bval_int(-1));
	buf_init(&b, 1 << 20);
	cr_assert_eq(bencode_encode_take(d, &b), GT_OK);
	cr_assert_eq(resume_decode(b.data, b.len, &X, &r, err), GT_OK, "%s",
	    err);
	resume_clear(&r);
	buf_clear(&b);
}

Test(resume, truncated)
{
	struct buf	b;
	size_t		n;

	buf_init(&b, 1 << 20);
	cr_assert_eq(bencode_encode_take(valid_dict(), &b), GT_OK);
	refuse(b.data, 0, "empty");
	for (n = 1; n < b.len; n++)
		refuse(b.data, n, "truncated");
	buf_clear(&b);
}

Test(resume, trailing_garbage)
{
	struct buf	b;
	char		why[64];

	buf_init(&b, 1 << 20);
	cr_assert_eq(bencode_encode_take(valid_dict(), &b), GT_OK);
	snprintf(why, sizeof(why), "trailing data at byte %zu", b.len);
	cr_assert_eq(buf_puts(&b, "junk"), GT_OK);
	refuse(b.data, b.len, why);
	cr_assert_eq(buf_puts(&b, "e"), GT_OK);
	refuse(b.data, b.len, why);
	buf_clear(&b);
}

Test(resume, too_large)
{
	uint8_t	*p;

	p = xcalloc(RESUME_MAX_BYTES + 1, 1);
	refuse(p, RESUME_MAX_BYTES + 1, "over 67108864 bytes");
	free(p);
}

Test(resume, not_a_record)
{
	refuse(LIT("x"), "not bencoded (invalid value type at byte 0)");
	refuse(LIT("d3:fooi01ee"),
	    "not bencoded (leading zero in integer at byte 7)");
	refuse(LIT("llllllllllllllllllllllllllllllllllllllllllleeeeeeeeeeeeee"
	    "eeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
	    "not bencoded (nesting too deep at byte 8)");
	refuse(LIT("i1e"), "not a gtorrent resume record");
	refuse(LIT("le"), "not a gtorrent resume record");
	refuse(LIT("de"), "not a gtorrent resume record");
	refuse(LIT("d15:gtorrent-resume1:1e"), "not a gtorrent resume record");
	refuse(LIT("d8:announce3:urle"), "not a gtorrent resume record");
	refuse(LIT("d15:gtorrent-resumei9ee"), "version 9 not supported");
	refuse(LIT("d15:gtorrent-resumei-1ee"), "version -1 not supported");
	refuse_key("gtorrent-resume", bval_int(0), "version 0 not supported");
}

/* Far more values than a record for X holds: refused, not allocated. */
Test(resume, too_many_values)
{
	struct resume	r;
	struct buf	b;
	char		err[GT_ERRLEN] = "";
	size_t		i;

	buf_init(&b, RESUME_MAX_BYTES);
	cr_assert_eq(buf_puts(&b, "d1:xl"), GT_OK);
	for (i = 0; i < 1000000; i++)
		cr_assert_eq(buf_puts(&b, "i0e"), GT_OK);
	cr_assert_eq(buf_puts(&b, "ee"), GT_OK);
	cr_assert_eq(resume_decode(b.data, b.len, &X, &r, err), GT_EINVAL);
	cr_assert_eq(strncmp(err, "not bencoded (too many values at byte ",
	    38), 0, "%s", err);
	buf_clear(&b);
}

Test(resume, missing_keys)
{
	static const char *const keys[] = {
		"info-hash", "pieces", "piece-length", "last-size", "have",
		"partial", "files", "uploaded", "downloaded", "clean",
		"sequential",
	};
	struct buf	b;
	char		key[32], why[64];
	uint8_t		*at;
	size_t		i;

	for (i = 0; i < nitems(keys); i++) {
		buf_init(&b, 1 << 20);
		cr_assert_eq(bencode_encode_take(valid_dict(), &b), GT_OK);
		/* rename the key in place: same length, unknown */
		snprintf(key, sizeof(key), "%zu:%s", strlen(keys[i]), keys[i]);
		at = memmem(b.data, b.len, key, strlen(key));
		cr_assert_not_null(at);
		at[strlen(key) - 1] = 'X';
		snprintf(why, sizeof(why), "no \"%s\"", keys[i]);
		refuse(b.data, b.len, why);
		buf_clear(&b);
	}
}

Test(resume, wrong_types)
{
	refuse_key("info-hash", bval_int(1), "\"info-hash\" is not a string");
	refuse_key("pieces", bval_cstr("10"), "\"pieces\" is not an integer");
	refuse_key("piece-length", bval_list(),
	    "\"piece-length\" is not an integer");
	refuse_key("last-size", bval_dict(), "\"last-size\" is not an integer");
	refuse_key("have", bval_int(0), "\"have\" is not a string");
	refuse_key("partial", bval_dict(), "\"partial\" is not a list");
	refuse_key("files", bval_cstr(""), "\"files\" is not a list");
	refuse_key("uploaded", bval_cstr("5"),
	    "\"uploaded\" is not an integer");
	refuse_key("downloaded", bval_list(),
	    "\"downloaded\" is not an integer");
	refuse_key("clean", bval_cstr("1"), "\"clean\" is not an integer");
	refuse_key("sequential", bval_list(),
	    "\"sequential\" is not an integer");
}

Test(resume, negative_or_absurd_ints)
{
	refuse_key("pieces", bval_int(-10), "\"pieces\" is negative");
	refuse_key("pieces", bval_int((int64_t)1 << 40),
	    "\"pieces\" out of range");
	refuse_key("piece-length", bval_int(INT64_MIN),
	    "\"piece-length\" is negative");
	refuse_key("last-size", bval_int(INT64_MAX), "\"last-size\" out of "
	    "range");
	refuse_key("uploaded", bval_int(-1), "\"uploaded\" is negative");
	refuse_key("downloaded", bval_int(INT64_MIN),
	    "\"downloaded\" is negative");
	refuse_key("clean", bval_int(2), "\"clean\" out of range");
	refuse_key("sequential", bval_int(-1), "\"sequential\" is negative");
	refuse(LIT("d15:gtorrent-resumei99999999999999999999ee"),
	    "not bencoded (integer out of range at byte 19)");
}

Test(resume, other_torrent)
{
	refuse_key("info-hash", bval_cstr("0123456789abcdefghiJ"),
	    "of another torrent");
	refuse_key("info-hash", bval_cstr("0123456789abcdefghij0"),
	    "info-hash of 21 bytes");
	refuse_key("info-hash", bval_cstr(""), "info-hash of 0 bytes");
}

Test(resume, geometry_disagrees)
{
	struct resume_expect	x = X;
	struct buf		b;

	refuse_key("pieces", bval_int(3), "3 pieces recorded, the torrent "
	    "has 10");
	refuse_key("pieces", bval_int(0), "0 pieces recorded, the torrent "
	    "has 10");
	refuse_key("piece-length", bval_int(PL - 1), "piece length 49156 "
	    "recorded, the torrent's is 49157");
	refuse_key("last-size", bval_int(20001), "last piece of 20001 bytes "
	    "recorded, the torrent's has 20000");

	buf_init(&b, 1 << 20);
	cr_assert_eq(bencode_encode_take(valid_dict(), &b), GT_OK);
	x.nfiles = 3;
	refuse_x(b.data, b.len, &x, "2 files recorded, the torrent has 3");
	x.nfiles = 1;
	refuse_x(b.data, b.len, &x, "2 files recorded, the torrent has 1");
	x = X;
	x.npieces = 11;
	refuse_x(b.data, b.len, &x, "10 pieces recorded, the torrent has 11");
	buf_clear(&b);
}

Test(resume, have_bad)
{
	refuse_key("have", bval_str("\x40", 1), "have of 1 bytes, 2 expected");
	refuse_key("have", bval_str("\x40\0\0", 3),
	    "have of 3 bytes, 2 expected");
	refuse_key("have", bval_str("", 0), "have of 0 bytes, 2 expected");
	refuse_key("have", bval_str("\x40\x20", 2), "have with spare bits set");
	refuse_key("have", bval_str("\x40\x01", 2), "have with spare bits set");
}

Test(resume, partial_bad)
{
	refuse_key("partial", list_of(part(10, "\x80", 1), NULL, NULL),
	    "partial piece 10 out of range");
	refuse_key("partial", list_of(part(-1, "\x80", 1), NULL, NULL),
	    "partial piece -1 out of range");
	refuse_key("partial", list_of(part(INT64_MAX, "\x80", 1), NULL, NULL),
	    "partial piece 9223372036854775807 out of range");
	refuse_key("partial", list_of(part(2, "\x80", 1), part(2, "\x80", 1),
	    NULL), "partial piece 2 twice");
	refuse_key("partial", list_of(part(4, "\x80", 1), part(2, "\x80", 1),
	    NULL), "partial piece 2 out of order");
	refuse_key("partial", list_of(part(1, "\x80", 1), NULL, NULL),
	    "partial piece 1 also verified");
	refuse_key("partial", list_of(part(2, "\x80\x00", 2), NULL, NULL),
	    "partial piece 2: 2 bytes of blocks, 1 expected");
	refuse_key("partial", list_of(part(2, "", 0), NULL, NULL),
	    "partial piece 2: 0 bytes of blocks, 1 expected");
	refuse_key("partial", list_of(part(2, "\x08", 1), NULL, NULL),
	    "partial piece 2: spare bits set");
	refuse_key("partial", list_of(part(9, "\x20", 1), NULL, NULL),
	    "partial piece 9: spare bits set");	/* the last: 2 blocks */
	refuse_key("partial", list_of(part(2, "\x00", 1), NULL, NULL),
	    "partial piece 2: no block");
	refuse_key("partial", list_of(bval_int(2), NULL, NULL),
	    "partial entry 0 is not [piece, blocks]");
	refuse_key("partial", list_of(part(2, "\x80", 1), bval_list(), NULL),
	    "partial entry 1 is not [piece, blocks]");
	refuse_key("partial", list_of(list_of(bval_cstr("2"),
	    bval_cstr("\x80"), NULL), NULL, NULL),
	    "partial entry 0 is not [piece, blocks]");
	refuse_key("partial", list_of(list_of(bval_int(2), bval_int(1),
	    NULL), NULL, NULL), "partial entry 0 is not [piece, blocks]");
	refuse_key("partial", list_of(list_of(bval_int(2), bval_cstr("\x80"),
	    bval_int(0)), NULL, NULL),
	    "partial entry 0 is not [piece, blocks]");
}

Test(resume, partial_too_many)
{
	struct bval	*l;
	size_t		 i;

	l = bval_list();
	for (i = 0; i < 11; i++)
		bval_list_add(l, part((int64_t)i, "\x80", 1));
	refuse_key("partial", l, "11 partial pieces, the torrent has 10");
	l = bval_list();
	for (i = 0; i <= RESUME_MAX_PARTIAL; i++)
		bval_list_add(l, bval_list());
	refuse_key("partial", l, "65537 partial pieces, at most 65536");
}

Test(resume, files_bad)
{
	refuse_key("files", list_of(file(1, 1, 8), file(0, 0, 0), NULL),
	    "file 0: priority 8 out of range");
	refuse_key("files", list_of(file(1, 1, 0), file(0, 0, -1), NULL),
	    "file 1: priority -1 out of range");
	refuse_key("files", list_of(file(1, 1, 0), file(-1, 0, 0), NULL),
	    "file 1: negative size");
	refuse_key("files", list_of(file(1, INT64_MIN, 0), file(0, 0, 0),
	    NULL), "file 0: negative mtime");
	refuse_key("files", list_of(file(1, 1, 0), bval_int(0), NULL),
	    "file 1 is not [size, mtime, priority]");
	refuse_key("files", list_of(list_of(bval_int(1), bval_int(1), NULL),
	    file(0, 0, 0), NULL), "file 0 is not [size, mtime, priority]");
	refuse_key("files", list_of(list_of(bval_int(1), bval_int(1),
	    bval_cstr("4")), file(0, 0, 0), NULL),
	    "file 0 is not [size, mtime, priority]");
	refuse_key("files", list_of(file(1, 1, 0), NULL, NULL),
	    "1 files recorded, the torrent has 2");
	refuse_key("files", list_of(file(1, 1, 0), file(1, 1, 0),
	    file(1, 1, 0)), "3 files recorded, the torrent has 2");
}
