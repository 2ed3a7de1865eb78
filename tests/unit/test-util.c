/* test-util.c - byte order, hex, sizes */
#include <criterion/criterion.h>
#include <string.h>

#include "util.h"

Test(util, be_round_trip)
{
	uint8_t	b[8];

	store_be16(b, 0x1234);
	cr_assert_eq(b[0], 0x12);
	cr_assert_eq(load_be16(b), 0x1234);
	store_be32(b, 0xdeadbeef);
	cr_assert_eq(b[0], 0xde);
	cr_assert_eq(b[3], 0xef);
	cr_assert_eq(load_be32(b), 0xdeadbeef);
	store_be64(b, 0x0102030405060708ULL);
	cr_assert_eq(b[0], 1);
	cr_assert_eq(b[7], 8);
	cr_assert_eq(load_be64(b), 0x0102030405060708ULL);
}

Test(util, hex)
{
	static const uint8_t	in[] = { 0x00, 0xab, 0xff, 0x10 };
	char			out[9];
	uint8_t			back[4];

	hex_encode(out, in, sizeof(in));
	cr_assert_str_eq(out, "00abff10");
	cr_assert_eq(hex_decode(back, "00ABff10", 4), 0);
	cr_assert_eq(memcmp(back, in, 4), 0);
	cr_assert_eq(hex_decode(back, "0g", 1), -1);
	cr_assert_eq(hex_decode(back, "0", 1), -1);	/* NUL is no digit */
}

Test(util, human_size)
{
	static const struct {
		uint64_t	 n;
		const char	*want;
	} cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.00 KiB" },
		{ 1536, "1.50 KiB" }, { 1ULL << 30, "1.00 GiB" },
		{ UINT64_MAX, "16.00 EiB" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		cr_assert_str_eq(human_size(buf, sizeof(buf), cases[i].n),
		    cases[i].want);
}

Test(util, strings)
{
	char	*s;

	s = xstrndup("abcdef", 3);
	cr_assert_str_eq(s, "abc");
	free(s);
	s = xasprintf("%d-%s", 42, "x");
	cr_assert_str_eq(s, "42-x");
	free(s);
}
