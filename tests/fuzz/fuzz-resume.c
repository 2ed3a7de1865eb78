/*
 * fuzz-resume.c - libFuzzer target: resume records decoded against a fixed
 * torrent
 *
 * Any input: refused with a phrase, or decoded into a record that keeps
 * every invariant of struct resume; such a record encodes (the encoder
 * asserts the invariants), decodes again to the same record, and encodes
 * again to the same bytes.
 */
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "resume.h"

#include "fuzz.h"

/* 21 pieces (not a multiple of 8) of 4 blocks, the last of 2; 3 files. */
static const struct resume_expect	fz_x = {
	.info_hash = "fuzz-resume-infohash",
	.npieces = 21,
	.piece_length = 3 * RESUME_BLOCK + 1,
	.last_size = RESUME_BLOCK + 1,
	.nfiles = 3,
};

static bool
bit(const uint8_t *bits, uint32_t i)
{
	return (bits[i / 8] & 0x80 >> i % 8) != 0;
}

static void
check_valid(const struct resume *r)
{
	uint32_t	i, nb, b;
	bool		any;
	size_t		k;

	CHECK(memcmp(r->info_hash, fz_x.info_hash, 20) == 0);
	CHECK(r->npieces == fz_x.npieces);
	CHECK(r->piece_length == fz_x.piece_length);
	CHECK(r->last_size == fz_x.last_size);
	CHECK(r->have != NULL);
	for (i = r->npieces; i < (r->npieces + 7) / 8 * 8; i++)
		CHECK(!bit(r->have, i));
	CHECK(r->npartial <= RESUME_MAX_PARTIAL);
	for (k = 0; k < r->npartial; k++) {
		CHECK(r->partial[k].piece < r->npieces);
		CHECK(k == 0 || r->partial[k].piece > r->partial[k - 1].piece);
		CHECK(!bit(r->have, r->partial[k].piece));
		nb = resume_piece_blocks(r, r->partial[k].piece);
		CHECK(nb == (r->partial[k].piece + 1 == r->npieces ? 2 : 4));
		for (b = 0, any = false; b < (nb + 7) / 8 * 8; b++) {
			if (b >= nb)
				CHECK(!bit(r->partial[k].blocks, b));
			else if (bit(r->partial[k].blocks, b))
				any = true;
		}
		CHECK(any);
	}
	CHECK(r->nfiles == fz_x.nfiles);
	for (k = 0; k < r->nfiles; k++) {
		CHECK(r->files[k].size <= INT64_MAX);
		CHECK(r->files[k].mtime_ns >= 0);
		CHECK(r->files[k].priority <= RESUME_PRIO_MAX);
	}
	CHECK(r->uploaded <= INT64_MAX && r->downloaded <= INT64_MAX);
}

static void
check_same(const struct resume *a, const struct resume *b)
{
	size_t	k;

	CHECK(memcmp(a->info_hash, b->info_hash, 20) == 0);
	CHECK(a->npieces == b->npieces && a->piece_length == b->piece_length &&
	    a->last_size == b->last_size);
	CHECK(memcmp(a->have, b->have, (a->npieces + 7) / 8) == 0);
	CHECK(a->npartial == b->npartial);
	for (k = 0; k < a->npartial; k++) {
		CHECK(a->partial[k].piece == b->partial[k].piece);
		CHECK(memcmp(a->partial[k].blocks, b->partial[k].blocks,
		    (resume_piece_blocks(a, a->partial[k].piece) + 7) / 8) ==
		    0);
	}
	CHECK(a->nfiles == b->nfiles);
	for (k = 0; k < a->nfiles; k++) {
		CHECK(a->files[k].size == b->files[k].size);
		CHECK(a->files[k].mtime_ns == b->files[k].mtime_ns);
		CHECK(a->files[k].priority == b->files[k].priority);
	}
	CHECK(a->uploaded == b->uploaded && a->downloaded == b->downloaded);
	CHECK(a->clean == b->clean && a->sequential == b->sequential);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resume	r, r2;
	struct buf	b1, b2;
	char		err[GT_ERRLEN];

	err[0] = '\0';
	if (resume_decode(data, size, &fz_x, &r, err) != GT_OK) {
		/* one short phrase, no trailing period */
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		CHECK(err[strlen(err) - 1] != '.');
		return 0;
	}
	check_valid(&r);
	buf_init(&b1, RESUME_MAX_BYTES);
	buf_init(&b2, RESUME_MAX_BYTES);
	CHECK(resume_encode(&r, &b1) == GT_OK);
	CHECK(resume_decode(b1.data, b1.len, &fz_x, &r2, err) == GT_OK);
	check_same(&r, &r2);
	CHECK(resume_encode(&r2, &b2) == GT_OK);
	CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	resume_clear(&r);
	resume_clear(&r2);
	buf_clear(&b1);
	buf_clear(&b2);
	return 0;
}
