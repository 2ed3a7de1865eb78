/* resume.c - a torrent's resume record: codec, checked like remote input */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "resume.h"
#include "util.h"

/*
 * The record comes from a file a crash may have cut short, an older or
 * newer gtorrent may have written, or anyone may have edited: every count
 * meets the torrent's own (struct resume_expect) before anything is
 * allocated for it, and every index is checked.
 *
 * Bencode values: the root, 2 per key (a dozen keys), 3 per partial
 * piece, 4 per file; room for keys and per-file values a later version
 * adds.  The bencode decoder allocates nodes as it meets values, so
 * memory follows the input, within this cap.
 */
#define NODES_SLACK		4096
#define NODES_PER_PARTIAL	3
#define NODES_PER_FILE		6
#define FILES_NODES_MAX		(1u << 24)	/* files counted for the cap */
#define DEPTH_MAX		8

_Static_assert(RESUME_BLOCK == 16384, "RESUME_BLOCK is WIRE_BLOCK");

static bool
bit_get(const uint8_t *bits, uint32_t i)
{
	return (bits[i / 8] & 0x80 >> i % 8) != 0;
}

static size_t
bit_bytes(uint32_t nbits)
{
	return ((size_t)nbits + 7) / 8;
}

/* True if bits of n bits has its spare bits (past n) clear. */
static bool
spare_clear(const uint8_t *bits, uint32_t n)
{
	if (n % 8 == 0)
		return true;
	return (bits[n / 8] & (0xffu >> n % 8)) == 0;
}

static bool
any_set(const uint8_t *bits, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (bits[i] != 0)
			return true;
	return false;
}

static uint32_t
piece_blocks(uint32_t npieces, uint32_t piece_length, uint32_t last_size,
    uint32_t piece)
{
	uint32_t	size;

	assert(piece < npieces);
	size = piece + 1 == npieces ? last_size : piece_length;
	return size / RESUME_BLOCK + (size % RESUME_BLOCK != 0);
}

void
resume_init(struct resume *r)
{
	*r = (struct resume){ 0 };
}

void
resume_clear(struct resume *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->have);
	if (r->partial != NULL)
		for (i = 0; i < r->npartial; i++)
			free(r->partial[i].blocks);
	free(r->partial);
	free(r->files);
	resume_init(r);
}

uint32_t
resume_piece_blocks(const struct resume *r, uint32_t piece)
{
	return piece_blocks(r->npieces, r->piece_length, r->last_size, piece);
}

bool
resume_claims(const struct resume *r, uint64_t offset, uint64_t len)
{
	const struct resume_partial	*p;
	uint64_t			 end = offset + len, pl = r->piece_length;
	uint64_t			 first, last, at, top, i;
	uint32_t			 b, nb;
	size_t				 k;

	if (len == 0 || pl == 0 || r->npieces == 0)
		return false;
	first = offset / pl;
	last = (end - 1) / pl;
	for (i = first; i <= last && i < r->npieces; i++)
		if (bit_get(r->have, (uint32_t)i))
			return true;
	for (k = 0; k < r->npartial; k++) {
		p = &r->partial[k];
		if (p->piece < first || p->piece > last)
			continue;
		nb = resume_piece_blocks(r, p->piece);
		top = p->piece * pl + (p->piece + 1 == r->npieces ?
		    r->last_size : pl);
		for (b = 0; b < nb; b++) {
			at = p->piece * pl + (uint64_t)b * RESUME_BLOCK;
			if (bit_get(p->blocks, b) && at < end &&
			    MIN(at + RESUME_BLOCK, top) > offset)
				return true;
		}
	}
	return false;
}

/* Encoder. */

static int64_t
clamp64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void
check_record(const struct resume *r)
{
	const struct resume_partial	*p;
	size_t				 i, nb;
	uint32_t			 blocks;

	assert(r->npieces >= 1 && r->piece_length >= 1);
	assert(r->last_size >= 1 && r->last_size <= r->piece_length);
	assert(r->have != NULL && spare_clear(r->have, r->npieces));
	assert(r->npartial <= RESUME_MAX_PARTIAL);
	assert(r->npartial == 0 || r->partial != NULL);
	assert(r->nfiles == 0 || r->files != NULL);
	for (i = 0; i < r->npartial; i++) {
		p = &r->partial[i];
		assert(p->piece < r->npieces && !bit_get(r->have, p->piece));
		assert(i == 0 || p->piece > p[-1].piece);
		blocks = resume_piece_blocks(r, p->piece);
		nb = bit_bytes(blocks);
		assert(p->blocks != NULL && spare_clear(p->blocks, blocks));
		assert(any_set(p->blocks, nb));
	}
	for (i = 0; i < r->nfiles; i++) {
		assert(r->files[i].size <= INT64_MAX);
		assert(r->files[i].priority <= RESUME_PRIO_MAX);
	}
}

enum gt_err
resume_encode(const struct resume *r, struct buf *out)
{
	const struct resume_partial	*p;
	const struct resume_file	*f;
	struct bval			*root, *list, *item;
	size_t				 i, old = out->len;
	enum gt_err			 e;

	check_record(r);
	root = bval_dict();
	bval_dict_set(root, "gtorrent-resume", bval_int(RESUME_VERSION));
	bval_dict_set(root, "info-hash", bval_str(r->info_hash, 20));
	bval_dict_set(root, "pieces", bval_int(r->npieces));
	bval_dict_set(root, "piece-length", bval_int(r->piece_length));
	bval_dict_set(root, "last-size", bval_int(r->last_size));
	bval_dict_set(root, "have", bval_str(r->have, bit_bytes(r->npieces)));
	list = bval_list();
	for (i = 0; i < r->npartial; i++) {
		p = &r->partial[i];
		item = bval_list();
		bval_list_add(item, bval_int(p->piece));
		bval_list_add(item, bval_str(p->blocks,
		    bit_bytes(resume_piece_blocks(r, p->piece))));
		bval_list_add(list, item);
	}
	bval_dict_set(root, "partial", list);
	list = bval_list();
	for (i = 0; i < r->nfiles; i++) {
		f = &r->files[i];
		item = bval_list();
		bval_list_add(item, bval_int((int64_t)f->size));
		bval_list_add(item, bval_int(MAX(f->mtime_ns, 0)));
		bval_list_add(item, bval_int(f->priority));
		bval_list_add(list, item);
	}
	bval_dict_set(root, "files", list);
	bval_dict_set(root, "uploaded", bval_int(clamp64(r->uploaded)));
	bval_dict_set(root, "downloaded", bval_int(clamp64(r->downloaded)));
	bval_dict_set(root, "clean", bval_int(r->clean));
	bval_dict_set(root, "sequential", bval_int(r->sequential));
	if ((e = bencode_encode_take(root, out)) != GT_OK)
		return e;
	if (out->len - old > RESUME_MAX_BYTES) {
		out->len = old;
		return GT_ETOOBIG;
	}
	return GT_OK;
}

/* Decoder. */

struct dec {
	const struct bencode_doc	*doc;
	const struct bencode_node	*root;
	const struct resume_expect	*x;
	char				*err;
};

/* Every flaw of the record is GT_EINVAL, with a phrase. */
#define bad(d, ...)	gt_fail((d)->err, GT_EINVAL, __VA_ARGS__)

/* A required key's value of the given type. */
static enum gt_err
get(struct dec *d, const char *key, enum bencode_type type,
    const struct bencode_node **n)
{
	static const char *const type_names[] = {
		[BENCODE_INT] = "an integer", [BENCODE_STR] = "a string",
		[BENCODE_LIST] = "a list", [BENCODE_DICT] = "a dictionary",
	};

	*n = bencode_dict_get(d->doc, d->root, key);
	if (*n == NULL)
		return bad(d, "no \"%s\"", key);
	if ((*n)->type != type)
		return bad(d, "\"%s\" is not %s", key, type_names[type]);
	return GT_OK;
}

/* A required integer in 0 .. max. */
static enum gt_err
get_uint(struct dec *d, const char *key, uint64_t max, uint64_t *v)
{
	const struct bencode_node	*n;
	enum gt_err			 e;

	if ((e = get(d, key, BENCODE_INT, &n)) != GT_OK)
		return e;
	if (n->i < 0)
		return bad(d, "\"%s\" is negative", key);
	if ((uint64_t)n->i > max)
		return bad(d, "\"%s\" out of range", key);
	*v = (uint64_t)n->i;
	return GT_OK;
}

/* The version, the torrent and its geometry. */
static enum gt_err
dec_head(struct dec *d, struct resume *r)
{
	const struct resume_expect	*x = d->x;
	const struct bencode_node	*n;
	uint64_t			 v;
	enum gt_err			 e;

	n = bencode_dict_get(d->doc, d->root, "gtorrent-resume");
	if (n == NULL || n->type != BENCODE_INT)
		return bad(d, "not a gtorrent resume record");
	if (n->i != RESUME_VERSION)
		return bad(d, "version %" PRId64 " not supported", n->i);
	if ((e = get(d, "info-hash", BENCODE_STR, &n)) != GT_OK)
		return e;
	if (n->slen != 20)
		return bad(d, "info-hash of %zu bytes", n->slen);
	if (memcmp(n->s, x->info_hash, 20) != 0)
		return bad(d, "of another torrent");
	memcpy(r->info_hash, n->s, 20);

	if ((e = get_uint(d, "pieces", UINT32_MAX, &v)) != GT_OK)
		return e;
	if (v != x->npieces)
		return bad(d, "%" PRIu64 " pieces recorded, the torrent has %"
		    PRIu32, v, x->npieces);
	r->npieces = (uint32_t)v;
	if ((e = get_uint(d, "piece-length", UINT32_MAX, &v)) != GT_OK)
		return e;
	if (v != x->piece_length)
		return bad(d, "piece length %" PRIu64 " recorded, the "
		    "torrent's is %" PRIu32, v, x->piece_length);
	r->piece_length = (uint32_t)v;
	if ((e = get_uint(d, "last-size", UINT32_MAX, &v)) != GT_OK)
		return e;
	if (v != x->last_size)
		return bad(d, "last piece of %" PRIu64 " bytes recorded, the "
		    "torrent's has %" PRIu32, v, x->last_size);
	r->last_size = (uint32_t)v;
	return GT_OK;
}

static enum gt_err
dec_have(struct dec *d, struct resume *r)
{
	const struct bencode_node	*n;
	size_t				 want = bit_bytes(r->npieces);
	enum gt_err			 e;

	if ((e = get(d, "have", BENCODE_STR, &n)) != GT_OK)
		return e;
	if (n->slen != want)
		return bad(d, "have of %zu bytes, %zu expected", n->slen,
		    want);
	if (!spare_clear(n->s, r->npieces))
		return bad(d, "have with spare bits set");
	r->have = xmalloc(want);
	memcpy(r->have, n->s, want);
	return GT_OK;
}

/* One [piece, blocks] entry after prev (UINT32_MAX before the first). */
static enum gt_err
dec_partial_one(struct dec *d, struct resume *r,
    const struct bencode_node *it, uint32_t prev, struct resume_partial *p)
{
	const struct bencode_node	*pn, *bn;
	uint32_t			 piece, blocks;
	size_t				 want;

	pn = bencode_first(d->doc, it);
	bn = bencode_next(d->doc, it, pn);
	if (it->type != BENCODE_LIST || it->count != 2 ||
	    pn->type != BENCODE_INT || bn->type != BENCODE_STR)
		return bad(d, "partial entry %zu is not [piece, blocks]",
		    r->npartial);
	if (pn->i < 0 || pn->i >= r->npieces)
		return bad(d, "partial piece %" PRId64 " out of range", pn->i);
	piece = (uint32_t)pn->i;
	if (prev != UINT32_MAX && piece == prev)
		return bad(d, "partial piece %" PRIu32 " twice", piece);
	if (prev != UINT32_MAX && piece < prev)
		return bad(d, "partial piece %" PRIu32 " out of order", piece);
	if (bit_get(r->have, piece))
		return bad(d, "partial piece %" PRIu32 " also verified",
		    piece);
	blocks = piece_blocks(r->npieces, r->piece_length, r->last_size,
	    piece);
	want = bit_bytes(blocks);
	if (bn->slen != want)
		return bad(d, "partial piece %" PRIu32 ": %zu bytes of "
		    "blocks, %zu expected", piece, bn->slen, want);
	if (!spare_clear(bn->s, blocks))
		return bad(d, "partial piece %" PRIu32 ": spare bits set",
		    piece);
	if (!any_set(bn->s, want))
		return bad(d, "partial piece %" PRIu32 ": no block", piece);
	p->piece = piece;
	p->blocks = xmalloc(want);
	memcpy(p->blocks, bn->s, want);
	return GT_OK;
}

static enum gt_err
dec_partial(struct dec *d, struct resume *r)
{
	const struct bencode_node	*n, *it;
	uint32_t			 prev = UINT32_MAX;
	enum gt_err			 e;

	if ((e = get(d, "partial", BENCODE_LIST, &n)) != GT_OK)
		return e;
	if (n->count > RESUME_MAX_PARTIAL)
		return bad(d, "%" PRIu32 " partial pieces, at most %u",
		    n->count, RESUME_MAX_PARTIAL);
	if (n->count > r->npieces)
		return bad(d, "%" PRIu32 " partial pieces, the torrent has %"
		    PRIu32, n->count, r->npieces);
	if (n->count == 0)
		return GT_OK;
	r->partial = xcalloc(n->count, sizeof(*r->partial));
	for (it = bencode_first(d->doc, n); it != NULL;
	    it = bencode_next(d->doc, n, it)) {
		assert(r->npartial < n->count);
		e = dec_partial_one(d, r, it, prev, &r->partial[r->npartial]);
		if (e != GT_OK)
			return e;
		prev = r->partial[r->npartial++].piece;
	}
	return GT_OK;
}

static enum gt_err
dec_files(struct dec *d, struct resume *r)
{
	const struct bencode_node	*n, *it, *sz, *mt, *pr;
	struct resume_file		*f;
	enum gt_err			 e;

	if ((e = get(d, "files", BENCODE_LIST, &n)) != GT_OK)
		return e;
	if (n->count != d->x->nfiles)
		return bad(d, "%" PRIu32 " files recorded, the torrent has %zu",
		    n->count, d->x->nfiles);
	if (n->count == 0)
		return GT_OK;
	r->files = xcalloc(n->count, sizeof(*r->files));
	for (it = bencode_first(d->doc, n); it != NULL;
	    it = bencode_next(d->doc, n, it)) {
		assert(r->nfiles < n->count);
		sz = bencode_first(d->doc, it);
		mt = bencode_next(d->doc, it, sz);
		pr = bencode_next(d->doc, it, mt);
		if (it->type != BENCODE_LIST || it->count != 3 ||
		    sz->type != BENCODE_INT || mt->type != BENCODE_INT ||
		    pr->type != BENCODE_INT)
			return bad(d, "file %zu is not [size, mtime, "
			    "priority]", r->nfiles);
		if (sz->i < 0)
			return bad(d, "file %zu: negative size", r->nfiles);
		if (mt->i < 0)
			return bad(d, "file %zu: negative mtime", r->nfiles);
		if (pr->i < 0 || pr->i > RESUME_PRIO_MAX)
			return bad(d, "file %zu: priority %" PRId64 " out of "
			    "range", r->nfiles, pr->i);
		f = &r->files[r->nfiles++];
		f->size = (uint64_t)sz->i;
		f->mtime_ns = mt->i;
		f->priority = (uint8_t)pr->i;
	}
	return GT_OK;
}

static enum gt_err
dec_flag(struct dec *d, const char *key, bool *flag)
{
	uint64_t	v;
	enum gt_err	e;

	if ((e = get_uint(d, key, 1, &v)) != GT_OK)
		return e;
	*flag = v != 0;
	return GT_OK;
}

static enum gt_err
dec_tail(struct dec *d, struct resume *r)
{
	enum gt_err	e;

	if ((e = get_uint(d, "uploaded", INT64_MAX, &r->uploaded)) != GT_OK ||
	    (e = get_uint(d, "downloaded", INT64_MAX,
	    &r->downloaded)) != GT_OK ||
	    (e = dec_flag(d, "clean", &r->clean)) != GT_OK)
		return e;
	return dec_flag(d, "sequential", &r->sequential);
}

/* The bencode caps: the input's, and values for what x allows. */
static void
limits(const struct resume_expect *x, struct bencode_limits *lim)
{
	size_t	files = MIN(x->nfiles, (size_t)FILES_NODES_MAX);

	*lim = (struct bencode_limits){
		.max_input = RESUME_MAX_BYTES,
		.max_depth = DEPTH_MAX,
		.max_nodes = NODES_SLACK +
		    (size_t)NODES_PER_PARTIAL * RESUME_MAX_PARTIAL +
		    NODES_PER_FILE * files,
	};
}

enum gt_err
resume_decode(const uint8_t *data, size_t len, const struct resume_expect *x,
    struct resume *out, char *err)
{
	struct bencode_limits	lim;
	struct bencode_doc	doc;
	struct bencode_error	be;
	struct resume		r;
	struct dec		d;
	enum gt_err		e;

	assert(x->npieces >= 1 && x->piece_length >= 1);
	assert(x->last_size >= 1 && x->last_size <= x->piece_length);
	if (len == 0)
		return gt_fail(err, GT_EINVAL, "empty");
	if (len > RESUME_MAX_BYTES)
		return gt_fail(err, GT_EINVAL, "over %u bytes",
		    RESUME_MAX_BYTES);
	limits(x, &lim);
	if (bencode_decode(&doc, data, len, &lim, &be) != GT_OK) {
		if (be.offset >= len || strcmp(be.reason,
		    "string length past end of input") == 0)
			return gt_fail(err, GT_EINVAL, "truncated");
		if (strcmp(be.reason, "trailing data") == 0)
			return gt_fail(err, GT_EINVAL, "trailing data at byte "
			    "%zu", be.offset);
		return gt_fail(err, GT_EINVAL, "not bencoded (%s at byte %zu)",
		    be.reason, be.offset);
	}
	resume_init(&r);
	d = (struct dec){
		.doc = &doc, .root = bencode_root(&doc), .x = x, .err = err,
	};
	if (d.root->type != BENCODE_DICT)
		e = bad(&d, "not a gtorrent resume record");
	else if ((e = dec_head(&d, &r)) == GT_OK &&
	    (e = dec_have(&d, &r)) == GT_OK &&
	    (e = dec_partial(&d, &r)) == GT_OK &&
	    (e = dec_files(&d, &r)) == GT_OK)
		e = dec_tail(&d, &r);
	bencode_doc_clear(&doc);
	if (e != GT_OK) {
		resume_clear(&r);
		return e;
	}
	*out = r;
	return GT_OK;
}
