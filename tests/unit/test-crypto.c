/* test-crypto.c - SHA-1/SHA-256 vectors, lanes, multi-buffer, PRNG */
#include <criterion/criterion.h>
#include <stdlib.h>
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

/* ---- sha1_multi ---------------------------------------------------------- */

static const size_t multi_lens[] = {
	0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 16384,
	262144 + 7,
};

#define MULTI_MAX	17

/*
 * Every message in its own allocation ending exactly at its last byte, at
 * an odd address, so that ASan catches any read past len.
 */
static void
multi_check(enum sha1_kernel k, size_t len, size_t n, struct prng *r)
{
	uint8_t		*mem[MULTI_MAX], want[MULTI_MAX][SHA1_LEN];
	uint8_t		 got[MULTI_MAX][SHA1_LEN];
	const uint8_t	*msgs[MULTI_MAX];
	size_t		 i, j;

	for (i = 0; i < n; i++) {
		mem[i] = malloc(len + 1);
		cr_assert_not_null(mem[i]);
		for (j = 0; j <= len; j++)
			mem[i][j] = (uint8_t)prng_next(r);
		msgs[i] = mem[i] + 1;
		sha1(msgs[i], len, want[i]);
	}
	memset(got, 0xa5, sizeof(got));
	cr_assert(sha1_multi_force(k));
	sha1_multi(msgs, len, n, got);
	for (i = 0; i < n; i++)
		cr_assert_eq(memcmp(got[i], want[i], SHA1_LEN), 0,
		    "kernel %d len %zu n %zu message %zu", (int)k, len, n, i);
	for (; i < MULTI_MAX; i++)
		cr_assert_eq(got[i][0], 0xa5, "wrote past n");
	for (i = 0; i < n; i++)
		free(mem[i]);
}

static void
multi_check_kernel(enum sha1_kernel k)
{
	struct prng	r;
	size_t		l, n;

	if (!sha1_multi_force(k)) {
		cr_log_warn("kernel %d not on this CPU: skipped", (int)k);
		return;
	}
	prng_seed(&r, 7 + (uint64_t)k);
	for (l = 0; l < nitems(multi_lens); l++)
		for (n = 1; n <= MULTI_MAX; n++)
			multi_check(k, multi_lens[l], n, &r);
	cr_assert(sha1_multi_force(SHA1_KERNEL_BEST));
}

Test(crypto, sha1_multi_best)
{
	multi_check_kernel(SHA1_KERNEL_BEST);
}

Test(crypto, sha1_multi_scalar)
{
	multi_check_kernel(SHA1_KERNEL_SCALAR);
}

Test(crypto, sha1_multi_shani)
{
	multi_check_kernel(SHA1_KERNEL_SHANI);
}

Test(crypto, sha1_multi_avx512)
{
	multi_check_kernel(SHA1_KERNEL_AVX512);
}

Test(crypto, sha1_multi_avx2)
{
	multi_check_kernel(SHA1_KERNEL_AVX2);
}

/* Each length around a block edge, one to five messages, every kernel. */
Test(crypto, sha1_multi_every_short_length)
{
	static const enum sha1_kernel	ks[] = { SHA1_KERNEL_SCALAR,
	    SHA1_KERNEL_SHANI, SHA1_KERNEL_AVX2, SHA1_KERNEL_AVX512 };
	struct prng			r;
	size_t				i, len, n;

	prng_seed(&r, 99);
	for (i = 0; i < nitems(ks); i++) {
		if (!sha1_multi_force(ks[i]))
			continue;
		for (len = 0; len <= 200; len++)
			for (n = 1; n <= 5; n += 2)
				multi_check(ks[i], len, n, &r);
	}
}

Test(crypto, sha1_multi_vector_and_shared_pointers)
{
	const uint8_t	*msgs[9];
	uint8_t		 out[9][SHA1_LEN];
	size_t		 i;

	for (i = 0; i < nitems(msgs); i++)
		msgs[i] = (const uint8_t *)"abc";
	sha1_multi(msgs, 3, nitems(msgs), out);
	for (i = 0; i < nitems(msgs); i++)
		assert_hex(out[i], SHA1_LEN,
		    "a9993e364706816aba3e25717850c26c9cd0d89d");
}

Test(crypto, sha1_multi_none_and_empty)
{
	const uint8_t	*msgs[4] = { NULL, NULL, NULL, NULL };
	uint8_t		 out[4][SHA1_LEN];
	size_t		 i;

	memset(out, 0x5a, sizeof(out));
	sha1_multi(msgs, 0, 0, out);
	cr_assert_eq(out[0][0], 0x5a);
	msgs[0] = msgs[1] = msgs[2] = msgs[3] = (const uint8_t *)"";
	sha1_multi(msgs, 0, 4, out);
	for (i = 0; i < 4; i++)
		assert_hex(out[i], SHA1_LEN,
		    "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

Test(crypto, sha1_multi_force_scalar)
{
	const uint8_t	*msgs[4];
	uint8_t		 data[4][100], out[4][SHA1_LEN], want[SHA1_LEN];
	size_t		 i;

	sha1_multi_force_scalar(true);
	for (i = 0; i < 4; i++) {
		memset(data[i], (int)i, sizeof(data[i]));
		msgs[i] = data[i];
	}
	sha1_multi(msgs, sizeof(data[0]), 4, out);
	for (i = 0; i < 4; i++) {
		sha1(data[i], sizeof(data[i]), want);
		cr_assert_eq(memcmp(out[i], want, SHA1_LEN), 0);
	}
	sha1_multi_force_scalar(false);
	cr_assert(sha1_multi_force(SHA1_KERNEL_SCALAR));
	cr_assert(sha1_multi_force(SHA1_KERNEL_BEST));
}

/* ---- sha1_lane ----------------------------------------------------------- */

#define LANES_MAX	19

/*
 * n messages of different lengths fed in steps of step bytes (a multiple
 * of 64), all the lanes that still have a whole step at once, then
 * finished with their tails: each digest is sha1()'s.
 */
static void
lanes_check(enum sha1_kernel k, size_t n, size_t step, struct prng *r)
{
	struct sha1_lane	 ln[LANES_MAX], *lp[LANES_MAX];
	uint8_t			*mem[LANES_MAX], want[SHA1_LEN], got[SHA1_LEN];
	const uint8_t		*p[LANES_MAX];
	size_t			 len[LANES_MAX], off[LANES_MAX], i, j, m;

	cr_assert(sha1_multi_force(k));
	for (i = 0; i < n; i++) {
		len[i] = (size_t)prng_below(r, 5 * step) + i * 3;
		mem[i] = malloc(len[i] + 1);
		cr_assert_not_null(mem[i]);
		for (j = 0; j < len[i]; j++)
			mem[i][j] = (uint8_t)prng_next(r);
		off[i] = 0;
		sha1_lane_init(&ln[i]);
	}
	for (;;) {
		for (i = m = 0; i < n; i++)
			if (len[i] - off[i] >= step) {
				lp[m] = &ln[i];
				p[m++] = mem[i] + off[i];
				off[i] += step;
			}
		if (m == 0)
			break;
		sha1_lanes_update(lp, p, m, step);
	}
	for (i = 0; i < n; i++) {
		cr_assert_eq(ln[i].len, off[i]);
		sha1_lane_final(&ln[i], len[i] > off[i] ? mem[i] + off[i] :
		    NULL, len[i] - off[i], got);
		sha1(mem[i], len[i], want);
		cr_assert_eq(memcmp(got, want, SHA1_LEN), 0,
		    "kernel %d n %zu step %zu lane %zu len %zu", (int)k, n,
		    step, i, len[i]);
		cr_assert_eq(ln[i].len, 0, "final starts the lane again");
		free(mem[i]);
	}
	cr_assert(sha1_multi_force(SHA1_KERNEL_BEST));
}

static void
lanes_check_kernel(enum sha1_kernel k)
{
	static const size_t	steps[] = { 64, 128, 16384 };
	struct prng		r;
	size_t			n, s;

	if (!sha1_multi_force(k)) {
		cr_log_warn("kernel %d not on this CPU: skipped", (int)k);
		return;
	}
	prng_seed(&r, 99 + (uint64_t)k);
	for (s = 0; s < nitems(steps); s++)
		for (n = 1; n <= LANES_MAX; n++)
			lanes_check(k, n, steps[s], &r);
	cr_assert(sha1_multi_force(SHA1_KERNEL_BEST));
}

Test(crypto, sha1_lanes_best)
{
	lanes_check_kernel(SHA1_KERNEL_BEST);
}

Test(crypto, sha1_lanes_scalar)
{
	lanes_check_kernel(SHA1_KERNEL_SCALAR);
}

Test(crypto, sha1_lanes_shani)
{
	lanes_check_kernel(SHA1_KERNEL_SHANI);
}

Test(crypto, sha1_lanes_avx2)
{
	lanes_check_kernel(SHA1_KERNEL_AVX2);
}

Test(crypto, sha1_lanes_avx512)
{
	lanes_check_kernel(SHA1_KERNEL_AVX512);
}

Test(crypto, sha1_lane_vectors_and_tails)
{
	struct sha1_lane	l;
	uint8_t			d[SHA1_LEN], want[SHA1_LEN], data[200];
	size_t			n;

	sha1_lane_init(&l);
	sha1_lane_final(&l, NULL, 0, d);
	assert_hex(d, SHA1_LEN, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1_lane_final(&l, "abc", 3, d);
	assert_hex(d, SHA1_LEN, "a9993e364706816aba3e25717850c26c9cd0d89d");
	for (n = 0; n < sizeof(data); n++)
		data[n] = (uint8_t)(n * 13 + 1);
	/* every tail length around the one- and two-block paddings */
	for (n = 0; n <= sizeof(data); n++) {
		sha1(data, n, want);
		sha1_lane_final(&l, data, n, d);
		cr_assert_eq(memcmp(d, want, SHA1_LEN), 0, "len %zu", n);
	}
}

/*
 * A clock for sha1_kernel_tune: it times each kernel the CPU has but the
 * C one, in table order (SHA-NI x1, x2, x4, AVX2, AVX-512), three runs a
 * kernel, reading the clock twice a run.
 */
static uint64_t	fake_ns;
static uint64_t	fake_cost[5];
static int	fake_calls;

static uint64_t
fake_clock(void)
{
	fake_ns += fake_cost[fake_calls++ / 6 % 5];
	return fake_ns;
}

static size_t
tune_with(uint64_t x1, uint64_t x2, uint64_t x4, uint64_t avx2,
    uint64_t avx512)
{
	uint64_t	c[5] = { x1, x2, x4, avx2, avx512 };

	memcpy(fake_cost, c, sizeof(c));
	fake_calls = 0;
	sha1_kernel_tune(fake_clock);
	cr_assert_eq(fake_calls, 5 * 6, "every kernel timed");
	return sha1_lanes_width();
}

Test(crypto, sha1_kernel_tune_picks_by_time)
{
	struct prng	r;

	if (!sha1_multi_force(SHA1_KERNEL_SHANI) ||
	    !sha1_multi_force(SHA1_KERNEL_AVX2) ||
	    !sha1_multi_force(SHA1_KERNEL_AVX512)) {
		cr_log_warn("needs SHA-NI, AVX2 and AVX-512: skipped");
		return;
	}
	cr_assert(sha1_multi_force(SHA1_KERNEL_BEST));
	cr_assert_eq(sha1_lanes_width(), 4, "untuned: SHA-NI's four");
	/* SHA-NI streams twice as fast four at a time: four */
	cr_assert_eq(tune_with(100, 110, 200, 800, 1600), 4);
	/* eight AVX2 lanes cheaper a lane than SHA-NI's best: eight */
	cr_assert_eq(tune_with(100, 200, 400, 600, 1600), 8);
	/* sixteen AVX-512 lanes cheapest: sixteen */
	cr_assert_eq(tune_with(100, 200, 400, 600, 900), 16);
	/* results stay right whichever kernels the lanes get */
	prng_seed(&r, 5);
	lanes_check(SHA1_KERNEL_BEST, LANES_MAX, 64, &r);
	multi_check(SHA1_KERNEL_BEST, 1000, MULTI_MAX, &r);
	/* one SHA-NI stream as cheap a lane as any: one */
	cr_assert_eq(tune_with(100, 200, 400, 800, 1600), 1);
	lanes_check(SHA1_KERNEL_BEST, LANES_MAX, 128, &r);
	multi_check(SHA1_KERNEL_BEST, 100, MULTI_MAX, &r);
}

Test(crypto, sha1_lanes_width_scalar)
{
	cr_assert(sha1_multi_force(SHA1_KERNEL_SCALAR));
	cr_assert_eq(sha1_lanes_width(), 1);
	cr_assert(sha1_multi_force(SHA1_KERNEL_BEST));
}
