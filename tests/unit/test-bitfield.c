/* test-bitfield.c - bitset in wire order with an exact count */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "util.h"

/* Recounts by bitfield_get and checks the spare bits are zero. */
static void
check_consistent(const struct bitfield *b)
{
	uint32_t	i, c = 0;
	size_t		len = bitfield_nbytes(b);

	for (i = 0; i < b->n; i++)
		c += bitfield_get(b, i);
	cr_assert_eq(c, b->count, "count %u, recount %u", b->count, c);
	if (b->n % 8 != 0)
		cr_assert_eq(b->bits[len - 1] & (0xff >> (b->n % 8)), 0);
	cr_assert_eq(bitfield_full(b), b->count == b->n);
}

Test(bitfield, sizes)
{
	static const struct {
		uint32_t	n;
		size_t		nbytes;
	} cases[] = {
		{ 0, 0 }, { 1, 1 }, { 7, 1 }, { 8, 1 }, { 9, 2 }, { 16, 2 },
		{ 17, 3 }, { 2097152, 262144 }, { UINT32_MAX, 536870912 },
	};
	struct bitfield	b = { .n = 0 };
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		b.n = cases[i].n;	/* nbytes only looks at n */
		cr_assert_eq(bitfield_nbytes(&b), cases[i].nbytes,
		    "n %u", cases[i].n);
	}
}

Test(bitfield, set_unset_count)
{
	struct bitfield	b;

	bitfield_init(&b, 20);
	cr_assert_eq(b.count, 0);
	cr_assert_not(bitfield_full(&b));
	cr_assert(bitfield_set(&b, 0));
	cr_assert_not(bitfield_set(&b, 0), "second set changes nothing");
	cr_assert(bitfield_set(&b, 9));
	cr_assert(bitfield_set(&b, 19));
	cr_assert_eq(b.count, 3);
	cr_assert_eq(b.bits[0], 0x80);
	cr_assert_eq(b.bits[1], 0x40);
	cr_assert_eq(b.bits[2], 0x10);
	cr_assert(bitfield_get(&b, 9));
	cr_assert_not(bitfield_get(&b, 10));
	cr_assert(bitfield_unset(&b, 9));
	cr_assert_not(bitfield_unset(&b, 9));
	cr_assert_not(bitfield_unset(&b, 10));
	cr_assert_eq(b.count, 2);
	/* Out of range: no change, no access past the bytes. */
	cr_assert_not(bitfield_set(&b, 20));
	cr_assert_not(bitfield_get(&b, 20));
	cr_assert_not(bitfield_unset(&b, UINT32_MAX));
	cr_assert_eq(b.count, 2);
	check_consistent(&b);

	bitfield_set_all(&b);
	cr_assert_eq(b.count, 20);
	cr_assert(bitfield_full(&b));
	cr_assert_eq(b.bits[2], 0xf0, "spare bits stay zero");
	check_consistent(&b);
	cr_assert(bitfield_unset(&b, 5));
	cr_assert_not(bitfield_full(&b));
	bitfield_unset_all(&b);
	cr_assert_eq(b.count, 0);
	check_consistent(&b);
	bitfield_clear(&b);
	cr_assert_null(b.bits);
	cr_assert_eq(b.n, 0);
	bitfield_clear(&b);		/* twice is fine */
}

Test(bitfield, small_sizes)
{
	static const uint32_t	ns[] = { 0, 1, 7, 8, 9, 15, 16, 17, 64, 65 };
	struct bitfield		b;
	size_t			k;
	uint32_t		i, n;

	for (k = 0; k < nitems(ns); k++) {
		n = ns[k];
		bitfield_init(&b, n);
		cr_assert_eq(b.n, n);
		cr_assert_eq(bitfield_next_set(&b, 0), n);
		cr_assert_eq(bitfield_full(&b), n == 0);
		for (i = 0; i < n; i++) {
			cr_assert(bitfield_set(&b, i));
			cr_assert_eq(b.count, i + 1);
			cr_assert_eq(bitfield_next_set(&b, 0), 0);
			cr_assert_eq(bitfield_next_set(&b, i), i);
			cr_assert_eq(bitfield_next_set(&b, i + 1), n);
		}
		cr_assert(bitfield_full(&b));
		check_consistent(&b);
		bitfield_unset_all(&b);
		bitfield_set_all(&b);
		cr_assert_eq(b.count, n);
		check_consistent(&b);
		bitfield_clear(&b);
	}
}

Test(bitfield, zero_bits)
{
	struct bitfield	b;
	uint8_t		x = 0;

	bitfield_init(&b, 0);
	cr_assert_eq(bitfield_nbytes(&b), 0);
	cr_assert_not(bitfield_get(&b, 0));
	cr_assert_not(bitfield_set(&b, 0));
	cr_assert_eq(bitfield_next_set(&b, 0), 0);
	bitfield_set_all(&b);
	bitfield_unset_all(&b);
	cr_assert(bitfield_full(&b));
	cr_assert_eq(bitfield_load(&b, &x, 0), GT_OK);
	cr_assert_eq(bitfield_load(&b, &x, 1), GT_EPROTO);
	bitfield_clear(&b);
}

Test(bitfield, load)
{
	static const struct {
		uint32_t	 n;
		const char	*bytes;
		size_t		 len;
		enum gt_err	 want;
		uint32_t	 count;
	} cases[] = {
		{ 1, "\x80", 1, GT_OK, 1 },
		{ 1, "\x00", 1, GT_OK, 0 },
		{ 1, "\x40", 1, GT_EPROTO, 0 },		/* spare bit */
		{ 1, "\x81", 1, GT_EPROTO, 0 },		/* last spare bit */
		{ 8, "\xff", 1, GT_OK, 8 },
		{ 8, "\xff\x00", 2, GT_EPROTO, 0 },	/* too long */
		{ 8, "", 0, GT_EPROTO, 0 },		/* too short */
		{ 9, "\xff\x80", 2, GT_OK, 9 },
		{ 9, "\xff\xc0", 2, GT_EPROTO, 0 },
		{ 9, "\xff", 1, GT_EPROTO, 0 },
		{ 12, "\xa5\xf0", 2, GT_OK, 8 },
		{ 12, "\xa5\xf8", 2, GT_EPROTO, 0 },
		{ 16, "\x01\x80", 2, GT_OK, 2 },
	};
	struct bitfield	b;
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		bitfield_init(&b, cases[i].n);
		bitfield_set(&b, 0);	/* so "unchanged" is visible */
		cr_assert_eq(bitfield_load(&b, (const uint8_t *)cases[i].bytes,
		    cases[i].len), cases[i].want, "case %zu", i);
		if (cases[i].want == GT_OK) {
			cr_assert_eq(b.count, cases[i].count, "case %zu", i);
			cr_assert_eq(memcmp(b.bits, cases[i].bytes,
			    cases[i].len), 0);
		} else {
			cr_assert_eq(b.count, 1, "case %zu: changed", i);
			cr_assert_eq(b.bits[0], 0x80, "case %zu: changed", i);
		}
		check_consistent(&b);
		bitfield_clear(&b);
	}
}

Test(bitfield, load_large)
{
	struct bitfield	 b;
	uint8_t		*p;
	size_t		 i, len;
	uint32_t	 want = 0;

	bitfield_init(&b, 100003);
	len = bitfield_nbytes(&b);
	p = xmalloc(len);
	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(i * 37 + 11);
		if (i == len - 1)
			p[i] &= 0xe0;	/* 100003 % 8 = 3 bits used */
		want += (uint32_t)__builtin_popcount(p[i]);
	}
	cr_assert_eq(bitfield_load(&b, p, len), GT_OK);
	cr_assert_eq(b.count, want);
	check_consistent(&b);
	free(p);
	bitfield_clear(&b);
}

Test(bitfield, next_set)
{
	static const uint32_t	set[] = { 3, 8, 15, 16, 200, 263, 264, 999 };
	struct bitfield		b;
	size_t			k;
	uint32_t		i, j, want;

	bitfield_init(&b, 1000);
	for (k = 0; k < nitems(set); k++)
		bitfield_set(&b, set[k]);
	/* Every start position against a linear scan. */
	for (i = 0; i <= 1001; i++) {
		want = b.n;
		for (j = i; j < b.n; j++)
			if (bitfield_get(&b, j)) {
				want = j;
				break;
			}
		cr_assert_eq(bitfield_next_set(&b, i), want, "from %u", i);
	}
	/* Walk all set bits. */
	k = 0;
	for (i = bitfield_next_set(&b, 0); i < b.n;
	    i = bitfield_next_set(&b, i + 1))
		cr_assert_eq(i, set[k++]);
	cr_assert_eq(k, nitems(set));
	cr_assert_eq(bitfield_next_set(&b, UINT32_MAX), b.n);
	bitfield_clear(&b);
}

Test(bitfield, next_set_long_gap)
{
	struct bitfield	b;

	bitfield_init(&b, 2097152);
	cr_assert_eq(bitfield_next_set(&b, 0), b.n);
	bitfield_set(&b, 2097151);
	cr_assert_eq(bitfield_next_set(&b, 0), 2097151);
	cr_assert_eq(bitfield_next_set(&b, 1), 2097151);
	bitfield_set(&b, 77777);
	cr_assert_eq(bitfield_next_set(&b, 3), 77777);
	cr_assert_eq(bitfield_next_set(&b, 77778), 2097151);
	bitfield_clear(&b);
}

Test(bitfield, copy)
{
	struct bitfield	a, b = { .bits = NULL }, c;

	bitfield_init(&a, 13);
	bitfield_set(&a, 2);
	bitfield_set(&a, 12);
	bitfield_copy(&b, &a);		/* into a zeroed struct */
	cr_assert_eq(b.n, 13);
	cr_assert_eq(b.count, 2);
	cr_assert_neq(b.bits, a.bits);
	cr_assert_eq(memcmp(b.bits, a.bits, 2), 0);
	bitfield_set(&b, 3);
	cr_assert_not(bitfield_get(&a, 3), "a value, not a view");

	bitfield_init(&c, 1000);	/* into one of another size */
	bitfield_set(&c, 999);
	bitfield_copy(&c, &b);
	cr_assert_eq(c.n, 13);
	cr_assert_eq(c.count, 3);
	check_consistent(&c);
	bitfield_copy(&c, &c);
	cr_assert_eq(c.count, 3);
	bitfield_copy(&b, &a);		/* same size: reuses the bytes */
	cr_assert_eq(b.count, 2);
	cr_assert_not(bitfield_get(&b, 3));
	bitfield_clear(&a);
	bitfield_copy(&c, &a);		/* an empty one */
	cr_assert_eq(c.n, 0);
	cr_assert_eq(c.count, 0);
	bitfield_clear(&b);
	bitfield_clear(&c);
}

/* The raw helpers agree with the struct's bit order. */
Test(bitfield, raw_bit_helpers)
{
	struct bitfield	b;
	uint8_t		raw[3] = { 0 };
	uint32_t	i;

	bitfield_init(&b, 20);
	for (i = 0; i < 20; i += 3) {
		bitfield_set(&b, i);
		bitfield_bit_set(raw, i);
	}
	cr_assert_eq(memcmp(raw, b.bits, 3), 0);
	cr_assert_eq(raw[0], 0x92);		/* bits 0, 3, 6 */
	for (i = 0; i < 20; i++)
		cr_assert_eq(bitfield_bit_get(raw, i), i % 3 == 0, "%u", i);
	bitfield_bit_unset(raw, 3);
	bitfield_unset(&b, 3);
	cr_assert_eq(memcmp(raw, b.bits, 3), 0);
	cr_assert_not(bitfield_bit_get(raw, 3));
	bitfield_clear(&b);
}
