/* test-crypto.c - SHA-1/SHA-256 vectors, streaming, PRNG */
#include <criterion/criterion.h>
#include <string.h>

#include "crypto.h"
#include "util.h"

static void
assert_hex(const uint8_t *d, size_t n, const char *want)
{
	char	hex[2 * SHA256_LEN + 1];

	hex_encode(hex, d, n);
	cr_assert_str_eq(hex, want);
}

/* FIPS 180 test vectors. */
Test(crypto, sha1_vectors)
{
	uint8_t	d[SHA1_LEN];

	sha1("abc", 3, d);
	assert_hex(d, SHA1_LEN, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1("", 0, d);
	assert_hex(d, SHA1_LEN, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

Test(crypto, sha256_vector)
{
	uint8_t	d[SHA256_LEN];

	sha256("abc", 3, d);
	assert_hex(d, SHA256_LEN, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

Test(crypto, sha1_stream_matches_one_shot)
{
	struct sha1_stream	*s = sha1_stream_new();
	uint8_t			 data[100000], a[SHA1_LEN], b[SHA1_LEN];
	size_t			 i, step;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	sha1(data, sizeof(data), a);
	for (step = 1; step < sizeof(data); step = step * 3 + 1) {
		for (i = 0; i < sizeof(data); i += step)
			sha1_stream_update(s, data + i,
			    MIN(step, sizeof(data) - i));
		sha1_stream_final(s, b);	/* also resets */
		cr_assert_eq(memcmp(a, b, SHA1_LEN), 0, "step %zu", step);
	}
	sha1_stream_free(s);
	sha1_stream_free(NULL);
}

Test(crypto, prng_repeatable_and_bounded)
{
	struct prng	a, b;
	unsigned	seen[10] = { 0 };
	int		i;

	prng_seed(&a, 42);
	prng_seed(&b, 42);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(prng_next(&a), prng_next(&b));
	for (i = 0; i < 10000; i++)
		seen[prng_below(&a, 10)]++;
	for (i = 0; i < 10; i++)
		cr_assert(seen[i] > 800 && seen[i] < 1200, "bucket %d: %u",
		    i, seen[i]);
	cr_assert_eq(prng_below(&a, 1), 0);
}

Test(crypto, rand_bytes_fills)
{
	uint8_t	a[32] = { 0 }, b[32] = { 0 };

	rand_bytes(a, sizeof(a));
	rand_bytes(b, sizeof(b));
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}
