/* test-filemap.c - piece/offset <-> per-file spans */
#include <criterion/criterion.h>

#include <stdlib.h>

#include "filemap.h"
#include "util.h"

struct want_span {
	size_t		file;
	uint64_t	off, len;
};

static struct filemap *
make(const uint64_t *lengths, size_t n, uint64_t pl)
{
	struct filemap	*fm;

	fm = filemap_new(lengths, n, pl);
	cr_assert_not_null(fm);
	return fm;
}

static void
check_spans(const struct filemap *fm, uint64_t off, uint64_t len,
    const struct want_span *want, size_t nwant)
{
	struct filemap_span	out[64];
	size_t			n, i;

	n = filemap_spans(fm, off, len, out, nitems(out));
	cr_assert_eq(n, nwant, "spans(%llu, %llu): %zu, want %zu",
	    (unsigned long long)off, (unsigned long long)len, n, nwant);
	for (i = 0; i < n; i++) {
		cr_assert_eq(out[i].file, want[i].file, "span %zu file", i);
		cr_assert_eq(out[i].off, want[i].off, "span %zu off", i);
		cr_assert_eq(out[i].len, want[i].len, "span %zu len", i);
	}
}

static void
check_pieces(const struct filemap *fm, size_t file, uint32_t first,
    uint32_t count)
{
	uint32_t	f, c;

	filemap_file_pieces(fm, file, &f, &c);
	cr_assert_eq(c, count, "file %zu count %u want %u", file, c, count);
	if (count > 0)
		cr_assert_eq(f, first, "file %zu first %u want %u", file, f,
		    first);
}

Test(filemap, single_file)
{
	uint64_t		 len[] = { 100 };
	struct filemap		*fm = make(len, 1, 32);
	struct want_span	 w1[] = { { 0, 0, 100 } };
	struct want_span	 w2[] = { { 0, 96, 4 } };

	cr_assert_eq(filemap_total(fm), 100);
	cr_assert_eq(filemap_npieces(fm), 4);
	cr_assert_eq(filemap_piece_length(fm), 32);
	cr_assert_eq(filemap_piece_size(fm, 0), 32);
	cr_assert_eq(filemap_piece_size(fm, 2), 32);
	cr_assert_eq(filemap_piece_size(fm, 3), 4);
	cr_assert_eq(filemap_piece_size(fm, 4), 0);
	cr_assert_eq(filemap_file_offset(fm, 0), 0);
	cr_assert_eq(filemap_file_offset(fm, 1), 100);
	check_spans(fm, 0, 100, w1, 1);
	check_spans(fm, 96, 4, w2, 1);
	check_spans(fm, 96, 1000, w2, 1);	/* clamped to the total */
	check_spans(fm, 100, 1, NULL, 0);
	check_spans(fm, 5, 0, NULL, 0);
	check_pieces(fm, 0, 0, 4);
	filemap_free(fm);
}

Test(filemap, many_files)
{
	uint64_t		 len[] = { 10, 20, 30, 40 };
	struct filemap		*fm = make(len, 4, 16);
	struct want_span	 all[] = {
		{ 0, 0, 10 }, { 1, 0, 20 }, { 2, 0, 30 }, { 3, 0, 40 }
	};
	struct want_span	 p1[] = { { 1, 6, 14 }, { 2, 0, 2 } };
	struct want_span	 mid[] = {
		{ 0, 9, 1 }, { 1, 0, 20 }, { 2, 0, 1 }
	};
	struct want_span	 p6[] = { { 3, 36, 4 } };

	cr_assert_eq(filemap_total(fm), 100);
	cr_assert_eq(filemap_npieces(fm), 7);
	cr_assert_eq(filemap_piece_size(fm, 6), 4);
	cr_assert_eq(filemap_file_offset(fm, 2), 30);
	check_spans(fm, 0, 100, all, 4);
	check_spans(fm, 16, 16, p1, 2);
	check_spans(fm, 9, 22, mid, 3);
	check_spans(fm, 96, 4, p6, 1);
	check_pieces(fm, 0, 0, 1);
	check_pieces(fm, 1, 0, 2);	/* bytes 10..29 */
	check_pieces(fm, 2, 1, 3);	/* bytes 30..59 */
	check_pieces(fm, 3, 3, 4);	/* bytes 60..99 */
	filemap_free(fm);
}

Test(filemap, spans_count_beyond_max)
{
	uint64_t		 len[] = { 10, 20, 30, 40 };
	struct filemap		*fm = make(len, 4, 16);
	struct filemap_span	 out[2];

	cr_assert_eq(filemap_spans(fm, 0, 100, out, 2), 4);
	cr_assert_eq(out[0].file, 0);
	cr_assert_eq(out[1].file, 1);
	cr_assert_eq(filemap_spans(fm, 0, 100, NULL, 0), 4);
	filemap_free(fm);
}

Test(filemap, empty_files)
{
	/* empty at start, two in the middle, at the end */
	uint64_t		 len[] = { 0, 10, 0, 0, 10, 0 };
	struct filemap		*fm = make(len, 6, 8);
	struct want_span	 all[] = { { 1, 0, 10 }, { 4, 0, 10 } };
	struct want_span	 at10[] = { { 4, 0, 3 } };
	struct want_span	 p1[] = { { 1, 8, 2 }, { 4, 0, 6 } };

	cr_assert_eq(filemap_total(fm), 20);
	cr_assert_eq(filemap_npieces(fm), 3);
	check_spans(fm, 0, 20, all, 2);
	check_spans(fm, 10, 3, at10, 1);
	check_spans(fm, 8, 8, p1, 2);
	check_pieces(fm, 0, 0, 0);
	check_pieces(fm, 1, 0, 2);
	check_pieces(fm, 2, 0, 0);
	check_pieces(fm, 3, 0, 0);
	check_pieces(fm, 4, 1, 2);
	check_pieces(fm, 5, 0, 0);
	cr_assert_eq(filemap_file_offset(fm, 2), 10);
	cr_assert_eq(filemap_file_offset(fm, 5), 20);
	cr_assert_eq(filemap_file_offset(fm, 6), 20);
	filemap_free(fm);
}

Test(filemap, only_empty_files)
{
	uint64_t	 len[] = { 0, 0 };
	struct filemap	*fm = make(len, 2, 8);

	cr_assert_eq(filemap_total(fm), 0);
	cr_assert_eq(filemap_npieces(fm), 0);
	check_spans(fm, 0, 10, NULL, 0);
	check_pieces(fm, 0, 0, 0);
	check_pieces(fm, 1, 0, 0);
	filemap_free(fm);
}

Test(filemap, file_exactly_one_piece)
{
	uint64_t		 len[] = { 16, 16, 16 };
	struct filemap		*fm = make(len, 3, 16);
	struct want_span	 p1[] = { { 1, 0, 16 } };
	struct want_span	 tail[] = { { 1, 15, 1 }, { 2, 0, 1 } };

	cr_assert_eq(filemap_npieces(fm), 3);
	cr_assert_eq(filemap_piece_size(fm, 2), 16);
	check_spans(fm, 16, 16, p1, 1);
	check_spans(fm, 31, 2, tail, 2);
	check_pieces(fm, 0, 0, 1);
	check_pieces(fm, 1, 1, 1);
	check_pieces(fm, 2, 2, 1);
	filemap_free(fm);
}

Test(filemap, last_piece_one_byte)
{
	uint64_t		 len[] = { 16, 1 };
	struct filemap		*fm = make(len, 2, 8);
	struct want_span	 last[] = { { 1, 0, 1 } };

	cr_assert_eq(filemap_npieces(fm), 3);
	cr_assert_eq(filemap_piece_size(fm, 2), 1);
	check_spans(fm, 16, 1, last, 1);
	check_pieces(fm, 0, 0, 2);
	check_pieces(fm, 1, 2, 1);
	filemap_free(fm);
}

Test(filemap, spans_across_many_small_files)
{
	enum { N = 1000 };
	uint64_t		*len = calloc(N, sizeof(*len));
	struct filemap		*fm;
	struct filemap_span	 out[N];
	uint64_t		 off = 0, want_off;
	size_t			 i, n;
	uint32_t		 p, first, count;

	for (i = 0; i < N; i++)
		len[i] = i % 7 == 3 ? 0 : 1 + i % 5;	/* some empty */
	fm = make(len, N, 64);
	cr_assert_eq(filemap_total(fm), filemap_file_offset(fm, N));

	/* Every piece: spans tile it exactly, in file order. */
	for (p = 0; p < filemap_npieces(fm); p++) {
		n = filemap_spans(fm, (uint64_t)p * 64, filemap_piece_size(fm,
		    p), out, N);
		cr_assert_leq(n, N);
		want_off = (uint64_t)p * 64;
		for (i = 0; i < n; i++) {
			cr_assert_gt(out[i].len, 0);
			cr_assert_eq(filemap_file_offset(fm, out[i].file) +
			    out[i].off, want_off);
			if (i > 0)
				cr_assert_gt(out[i].file, out[i - 1].file);
			want_off += out[i].len;
		}
		cr_assert_eq(want_off, (uint64_t)p * 64 +
		    filemap_piece_size(fm, p));
	}

	/* The whole torrent: one span per non-empty file. */
	n = filemap_spans(fm, 0, filemap_total(fm), out, N);
	for (i = 0, p = 0; i < N; i++)
		if (len[i] > 0)
			p++;
	cr_assert_eq(n, p);

	/* file_pieces agrees with the offsets. */
	for (i = 0; i < N; i++) {
		filemap_file_pieces(fm, i, &first, &count);
		if (len[i] == 0) {
			cr_assert_eq(count, 0);
			continue;
		}
		cr_assert_eq(first, off / 64);
		cr_assert_eq(first + count - 1, (off + len[i] - 1) / 64);
		off += len[i];
	}
	filemap_free(fm);
	free(len);
}

Test(filemap, rejects_bad_layouts)
{
	uint64_t	big[] = { UINT64_MAX, 1 };
	uint64_t	many[] = { (uint64_t)UINT32_MAX + 1 };
	uint64_t	one[] = { 1 };

	cr_assert_null(filemap_new(one, 1, 0));
	cr_assert_null(filemap_new(big, 2, 16));
	cr_assert_null(filemap_new(many, 1, 1));
	cr_assert_null(filemap_new(one, 1, (uint64_t)UINT32_MAX + 1));
}

/*
 * Walking a range over F tiny files max spans at a time, as storage does,
 * costs O(F + F/max log F): each call stops at max and counts the rest
 * from prefix sums.  Counting the rest one by one took O(F^2 / max), 3e10
 * steps here, far beyond the timeout.
 */
Test(filemap, spans_resume_over_many_files, .timeout = 5)
{
	enum { N = 1 << 21, MAX = 64 };
	uint64_t		*len = xcalloc(N, sizeof(*len));
	struct filemap		*fm;
	struct filemap_span	 out[MAX];
	uint64_t		 off = 0, left, total;
	size_t			 i, n, k, nonempty = 0, seen = 0, last = 0;

	for (i = 0; i < N; i++) {
		len[i] = i % 5 == 2 ? 0 : 1;
		nonempty += len[i] != 0;
	}
	fm = make(len, N, 1 << 14);
	total = filemap_total(fm);
	cr_assert_eq(total, nonempty);
	for (left = total; left > 0; ) {
		n = filemap_spans(fm, off, left, out, MAX);
		cr_assert_eq(n, nonempty - seen, "at %llu",
		    (unsigned long long)off);
		for (k = 0; k < MIN(n, (size_t)MAX); k++) {
			cr_assert(seen == 0 || out[k].file > last);
			cr_assert_eq(out[k].len, 1);
			cr_assert_eq(filemap_file_offset(fm, out[k].file) +
			    out[k].off, off);
			last = out[k].file;
			off += out[k].len;
			left -= out[k].len;
			seen++;
		}
	}
	cr_assert_eq(seen, nonempty);
	/* Counting alone, and past the end. */
	cr_assert_eq(filemap_spans(fm, 0, total, NULL, 0), nonempty);
	cr_assert_eq(filemap_spans(fm, 1, total, NULL, 0), nonempty - 1);
	cr_assert_eq(filemap_spans(fm, total, 1, out, MAX), 0);
	filemap_free(fm);
	free(len);
}
