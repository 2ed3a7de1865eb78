/* crypto.c - SHA-1/SHA-256, multi-buffer SHA-1, random bytes, a PRNG */
#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA1_X86	1	/* SHA-NI and AVX2 kernels */
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "crypto.h"
#include "util.h"

static void
crypto_fail(const char *what)
{
	fprintf(stderr, "gtorrent: libcrypto: %s failed\n", what);
	abort();
}

static void
digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out)
{
	if (EVP_Digest(p, n, out, NULL, md, NULL) != 1)
		crypto_fail("EVP_Digest");
}

void
sha1(const void *p, size_t n, uint8_t out[SHA1_LEN])
{
	digest(EVP_sha1(), p, n, out);
}

void
sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	digest(EVP_sha256(), p, n, out);
}

/* ---- multi-buffer SHA-1 ----------------------------------------------- */

/*
 * Pieces are independent messages of one length, so several can be hashed
 * at once.  A SHA-NI round instruction (sha1rnds4) has a latency of
 * several cycles but can issue more often: interleaving four independent
 * streams keeps it busy, where one stream (OpenSSL's) waits on each
 * result.  Without SHA-NI, AVX2 runs eight messages in the 32-bit lanes
 * of a ymm register.  A kernel updates w states by nblocks 64-byte blocks
 * read from w pointers; sha1_multi_group() adds the padding (FIPS 180-4
 * section 5.1.1) and writes the digests.  Kernels are compiled for their
 * instruction set alone and picked at run time from CPUID.
 */
typedef void	sha1_blocks_fn(uint32_t (*)[5], const uint8_t *const *,
		    size_t);

static const uint32_t sha1_iv[5] = {
	0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
};

static inline uint32_t
rol32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/* One round of the C kernel: f is the round function's value. */
#define C_ROUND(f, k, i) do {						\
	x = rol32(a, 5) + (f) + e + (k) + w[(i)];			\
	e = d;								\
	d = c;								\
	c = rol32(b, 30);						\
	b = a;								\
	a = x;								\
} while (0)

/* One stream in plain C, for CPUs with no SHA-NI, AVX2 or AVX-512. */
static void
sha1_scalar_x1(uint32_t (*st)[5], const uint8_t *const *p, size_t nblocks)
{
	const uint8_t	*q = p[0];
	uint32_t	 w[80], a, b, c, d, e, x;
	size_t		 i;

	for (; nblocks > 0; nblocks--, q += 64) {
		for (i = 0; i < 16; i++)
			w[i] = load_be32(q + 4 * i);
		for (; i < 80; i++)
			w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^
			    w[i - 16], 1);
		a = st[0][0];
		b = st[0][1];
		c = st[0][2];
		d = st[0][3];
		e = st[0][4];
		for (i = 0; i < 20; i++)
			C_ROUND(d ^ (b & (c ^ d)), 0x5a827999, i);
		for (; i < 40; i++)
			C_ROUND(b ^ c ^ d, 0x6ed9eba1, i);
		for (; i < 60; i++)
			C_ROUND((b & c) | (d & (b | c)), 0x8f1bbcdc, i);
		for (; i < 80; i++)
			C_ROUND(b ^ c ^ d, 0xca62c1d6, i);
		st[0][0] += a;
		st[0][1] += b;
		st[0][2] += c;
		st[0][3] += d;
		st[0][4] += e;
	}
}

#ifdef SHA1_X86

/*
 * Hashes msgs[0..k) through fn, a kernel of width lanes (k <= width):
 * the spare lanes rehash msgs[0] and are thrown away.  The last one or
 * two blocks (tail bytes, 0x80, zeros, the bit length) are built here.
 */
static void
sha1_multi_group(sha1_blocks_fn *fn, size_t width,
    const uint8_t *const *msgs, size_t k, size_t len,
    uint8_t (*out)[SHA1_LEN])
{
	uint32_t	 st[SHA1_LANES_MAX][5];
	uint8_t		 tail[SHA1_LANES_MAX][128];
	const uint8_t	*p[SHA1_LANES_MAX] = { NULL };
	size_t		 full = len / 64, rest = len % 64, ntail, i, j;
	uint64_t	 bits = (uint64_t)len << 3;

	assert(width <= SHA1_LANES_MAX);
	ntail = rest < 56 ? 1 : 2;
	for (i = 0; i < width; i++) {
		memcpy(st[i], sha1_iv, sizeof(sha1_iv));
		p[i] = msgs[i < k ? i : 0];
	}
	fn(st, p, full);
	for (i = 0; i < width; i++) {
		memset(tail[i], 0, ntail * 64);
		if (rest > 0)
			memcpy(tail[i], p[i] + full * 64, rest);
		tail[i][rest] = 0x80;
		store_be64(tail[i] + ntail * 64 - 8, bits);
		p[i] = tail[i];
	}
	fn(st, p, ntail);
	for (i = 0; i < k; i++)
		for (j = 0; j < 5; j++)
			store_be32(out[i] + 4 * j, st[i][j]);
}

/*
 * SHA-NI: ABCD sits in one xmm register, A in the top dword; E rides in
 * the top dword of the round input.  Message words are byte-swapped with
 * W[i] in the top dword.  Stream s uses abcd<s>, prev<s> (ABCD before the
 * last sha1rnds4, whose A gives the next E), m<s>[4] (a ring of four
 * groups of four words), e<s> (E at block start) and save<s>.
 */
#define NI_TARGET	__attribute__((target("sha,sse4.1")))

#define NI_DECL(s)							\
	__m128i		 abcd##s, prev##s, e##s, save##s, m##s[4];	\
	const uint8_t	*p##s = p[s]

#define NI_LOAD(s) do {							\
	abcd##s = _mm_shuffle_epi32(_mm_loadu_si128(			\
	    (const __m128i *)st[s]), 0x1b);				\
	e##s = _mm_set_epi32((int)st[s][4], 0, 0, 0);			\
	prev##s = abcd##s;						\
} while (0)

#define NI_MSG(s, i)							\
	_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p##s + (i)),	\
	    bswap)

/* Rounds 4g..4g+3 of stream s; W[4g..4g+3] enters ring slot g & 3. */
#define NI_GROUP(g, s) do {						\
	__m128i	in_;							\
									\
	if ((g) < 4)							\
		m##s[(g) & 3] = NI_MSG(s, (g) & 3);			\
	else								\
		m##s[(g) & 3] = _mm_sha1msg2_epu32(_mm_xor_si128(	\
		    _mm_sha1msg1_epu32(m##s[(g) & 3],			\
		    m##s[((g) + 1) & 3]), m##s[((g) + 2) & 3]),		\
		    m##s[((g) + 3) & 3]);				\
	if ((g) == 0)							\
		in_ = _mm_add_epi32(e##s, m##s[0]);			\
	else								\
		in_ = _mm_sha1nexte_epu32(prev##s, m##s[(g) & 3]);	\
	prev##s = abcd##s;						\
	abcd##s = _mm_sha1rnds4_epu32(abcd##s, in_, (g) / 5);		\
} while (0)

#define NI_BLOCK_START(s)	save##s = abcd##s

#define NI_BLOCK_END(s) do {						\
	e##s = _mm_sha1nexte_epu32(prev##s, e##s);			\
	abcd##s = _mm_add_epi32(abcd##s, save##s);			\
	p##s += 64;							\
} while (0)

#define NI_STORE(s) do {						\
	_mm_storeu_si128((__m128i *)st[s],				\
	    _mm_shuffle_epi32(abcd##s, 0x1b));				\
	st[s][4] = (uint32_t)_mm_extract_epi32(e##s, 3);		\
} while (0)

#define NI_ROUNDS(G)							\
	G(0) G(1) G(2) G(3) G(4) G(5) G(6) G(7) G(8) G(9)		\
	G(10) G(11) G(12) G(13) G(14) G(15) G(16) G(17) G(18) G(19)

#define NI_BSWAP							\
	_mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL)

NI_TARGET static void
sha1_shani_x1(uint32_t (*st)[5], const uint8_t *const *p, size_t nblocks)
{
	const __m128i	bswap = NI_BSWAP;
	NI_DECL(0);

	NI_LOAD(0);
	while (nblocks-- > 0) {
		NI_BLOCK_START(0);
#define NI_G1(g)	NI_GROUP(g, 0);
		NI_ROUNDS(NI_G1)
#undef NI_G1
		NI_BLOCK_END(0);
	}
	NI_STORE(0);
}

NI_TARGET static void
sha1_shani_x2(uint32_t (*st)[5], const uint8_t *const *p, size_t nblocks)
{
	const __m128i	bswap = NI_BSWAP;
	NI_DECL(0);
	NI_DECL(1);

	NI_LOAD(0);
	NI_LOAD(1);
	while (nblocks-- > 0) {
		NI_BLOCK_START(0);
		NI_BLOCK_START(1);
#define NI_G2(g)	NI_GROUP(g, 0); NI_GROUP(g, 1);
		NI_ROUNDS(NI_G2)
#undef NI_G2
		NI_BLOCK_END(0);
		NI_BLOCK_END(1);
	}
	NI_STORE(0);
	NI_STORE(1);
}

NI_TARGET static void
sha1_shani_x4(uint32_t (*st)[5], const uint8_t *const *p, size_t nblocks)
{
	const __m128i	bswap = NI_BSWAP;
	NI_DECL(0);
	NI_DECL(1);
	NI_DECL(2);
	NI_DECL(3);

	NI_LOAD(0);
	NI_LOAD(1);
	NI_LOAD(2);
	NI_LOAD(3);
	while (nblocks-- > 0) {
		NI_BLOCK_START(0);
		NI_BLOCK_START(1);
		NI_BLOCK_START(2);
		NI_BLOCK_START(3);
#define NI_G4(g)	NI_GROUP(g, 0); NI_GROUP(g, 1); NI_GROUP(g, 2);	\
			NI_GROUP(g, 3);
		NI_ROUNDS(NI_G4)
#undef NI_G4
		NI_BLOCK_END(0);
		NI_BLOCK_END(1);
		NI_BLOCK_END(2);
		NI_BLOCK_END(3);
	}
	NI_STORE(0);
	NI_STORE(1);
	NI_STORE(2);
	NI_STORE(3);
}

/*
 * AVX2: lane l of each ymm register belongs to message l.  Words are
 * gathered by loading 32 bytes of each message and transposing 8 x 8.
 * There is no vector rotate, hence AV_ROTL's two shifts.
 */
#define AV_TARGET	__attribute__((target("avx2")))

#define AV_ROTL(x, n)							\
	_mm256_or_si256(_mm256_slli_epi32((x), (n)),			\
	    _mm256_srli_epi32((x), 32 - (n)))
#define AV_XOR(x, y)	_mm256_xor_si256((x), (y))
#define AV_ADD(x, y)	_mm256_add_epi32((x), (y))
#define AV_CH(b, c, d)	AV_XOR((d), _mm256_and_si256((b), AV_XOR((c), (d))))
#define AV_PAR(b, c, d)	AV_XOR(AV_XOR((b), (c)), (d))
#define AV_MAJ(b, c, d)							\
	_mm256_or_si256(_mm256_and_si256((b), (c)),			\
	    _mm256_and_si256((d), _mm256_or_si256((b), (c))))

#define AV_F(t, b, c, d)						\
	((t) < 20 ? AV_ADD(AV_CH(b, c, d), k0) :			\
	(t) < 40 ? AV_ADD(AV_PAR(b, c, d), k1) :			\
	(t) < 60 ? AV_ADD(AV_MAJ(b, c, d), k2) :			\
	AV_ADD(AV_PAR(b, c, d), k3))

/* W[t], t >= 16, replaces W[t - 16] in the ring of sixteen. */
#define AV_W(t)								\
	((t) < 16 ? w[(t)] : (w[(t) & 15] = AV_ROTL(			\
	    AV_XOR(AV_XOR(w[((t) - 3) & 15], w[((t) - 8) & 15]),	\
	    AV_XOR(w[((t) - 14) & 15], w[(t) & 15])), 1)))

#define AV_ROUND(t, a, b, c, d, e) do {					\
	__m256i	wt_ = AV_W(t);						\
									\
	e = AV_ADD(AV_ADD(e, AV_ROTL(a, 5)),				\
	    AV_ADD(AV_F(t, b, c, d), wt_));				\
	b = AV_ROTL(b, 30);						\
} while (0)

/* Five rounds bring the names back to where they started. */
#define AV_ROUND5(t) do {						\
	AV_ROUND((t), a, b, c, d, e);					\
	AV_ROUND((t) + 1, e, a, b, c, d);				\
	AV_ROUND((t) + 2, d, e, a, b, c);				\
	AV_ROUND((t) + 3, c, d, e, a, b);				\
	AV_ROUND((t) + 4, b, c, d, e, a);				\
} while (0)

/* w[0..7] = big-endian words 0..7 at p[l] + off, lane l. */
AV_TARGET static void
sha1_avx2_words(__m256i *w, const uint8_t *const *p, size_t off)
{
	const __m256i	bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4,
	    11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4,
	    11, 10, 9, 8, 15, 14, 13, 12);
	__m256i		r0, r1, r2, r3, r4, r5, r6, r7;
	__m256i		t0, t1, t2, t3, t4, t5, t6, t7;

	r0 = _mm256_loadu_si256((const __m256i *)(p[0] + off));
	r1 = _mm256_loadu_si256((const __m256i *)(p[1] + off));
	r2 = _mm256_loadu_si256((const __m256i *)(p[2] + off));
	r3 = _mm256_loadu_si256((const __m256i *)(p[3] + off));
	r4 = _mm256_loadu_si256((const __m256i *)(p[4] + off));
	r5 = _mm256_loadu_si256((const __m256i *)(p[5] + off));
	r6 = _mm256_loadu_si256((const __m256i *)(p[6] + off));
	r7 = _mm256_loadu_si256((const __m256i *)(p[7] + off));

	/* Pairs of lanes: words 0,1 | 4,5 and 2,3 | 6,7. */
	t0 = _mm256_unpacklo_epi32(r0, r1);
	t1 = _mm256_unpackhi_epi32(r0, r1);
	t2 = _mm256_unpacklo_epi32(r2, r3);
	t3 = _mm256_unpackhi_epi32(r2, r3);
	t4 = _mm256_unpacklo_epi32(r4, r5);
	t5 = _mm256_unpackhi_epi32(r4, r5);
	t6 = _mm256_unpacklo_epi32(r6, r7);
	t7 = _mm256_unpackhi_epi32(r6, r7);

	/* Four lanes: word k | word k + 4 in each half. */
	r0 = _mm256_unpacklo_epi64(t0, t2);
	r1 = _mm256_unpackhi_epi64(t0, t2);
	r2 = _mm256_unpacklo_epi64(t1, t3);
	r3 = _mm256_unpackhi_epi64(t1, t3);
	r4 = _mm256_unpacklo_epi64(t4, t6);
	r5 = _mm256_unpackhi_epi64(t4, t6);
	r6 = _mm256_unpacklo_epi64(t5, t7);
	r7 = _mm256_unpackhi_epi64(t5, t7);

	/* Eight lanes: low halves give words 0-3, high halves 4-7. */
	w[0] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r0, r4, 0x20),
	    bswap);
	w[1] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r1, r5, 0x20),
	    bswap);
	w[2] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r2, r6, 0x20),
	    bswap);
	w[3] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r3, r7, 0x20),
	    bswap);
	w[4] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r0, r4, 0x31),
	    bswap);
	w[5] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r1, r5, 0x31),
	    bswap);
	w[6] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r2, r6, 0x31),
	    bswap);
	w[7] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r3, r7, 0x31),
	    bswap);
}

AV_TARGET static void
sha1_avx2_x8(uint32_t (*st)[5], const uint8_t *const *p, size_t nblocks)
{
	const __m256i	k0 = _mm256_set1_epi32(0x5a827999);
	const __m256i	k1 = _mm256_set1_epi32(0x6ed9eba1);
	const __m256i	k2 = _mm256_set1_epi32((int)0x8f1bbcdc);
	const __m256i	k3 = _mm256_set1_epi32((int)0xca62c1d6);
	__m256i		a, b, c, d, e, sa, sb, sc, sd, se, w[16];
	uint32_t	v[5][8];
	size_t		i, off;

	for (i = 0; i < 40; i++)
		v[i / 8][i % 8] = st[i % 8][i / 8];
	a = _mm256_loadu_si256((const __m256i *)v[0]);
	b = _mm256_loadu_si256((const __m256i *)v[1]);
	c = _mm256_loadu_si256((const __m256i *)v[2]);
	d = _mm256_loadu_si256((const __m256i *)v[3]);
	e = _mm256_loadu_si256((const __m256i *)v[4]);
	for (off = 0; off < nblocks * 64; off += 64) {
		sha1_avx2_words(w, p, off);
		sha1_avx2_words(w + 8, p, off + 32);
		sa = a;
		sb = b;
		sc = c;
		sd = d;
		se = e;
		AV_ROUND5(0);
		AV_ROUND5(5);
		AV_ROUND5(10);
		AV_ROUND5(15);
		AV_ROUND5(20);
		AV_ROUND5(25);
		AV_ROUND5(30);
		AV_ROUND5(35);
		AV_ROUND5(40);
		AV_ROUND5(45);
		AV_ROUND5(50);
		AV_ROUND5(55);
		AV_ROUND5(60);
		AV_ROUND5(65);
		AV_ROUND5(70);
		AV_ROUND5(75);
		a = AV_ADD(a, sa);
		b = AV_ADD(b, sb);
		c = AV_ADD(c, sc);
		d = AV_ADD(d, sd);
		e = AV_ADD(e, se);
	}
	_mm256_storeu_si256((__m256i *)v[0], a);
	_mm256_storeu_si256((__m256i *)v[1], b);
	_mm256_storeu_si256((__m256i *)v[2], c);
	_mm256_storeu_si256((__m256i *)v[3], d);
	_mm256_storeu_si256((__m256i *)v[4], e);
	for (i = 0; i < 40; i++)
		st[i % 8][i / 8] = v[i / 8][i % 8];
}

/*
 * AVX-512: sixteen lanes in a zmm register, as AVX2's eight, with a
 * rotate instruction and vpternlogd for the round functions (one
 * instruction for Ch, Maj or the parity, and for three of the four XORs
 * of the message schedule).  Words are loaded 64 bytes a lane and
 * transposed 16 x 16.
 */
#define X5_TARGET	__attribute__((target("avx512f,avx512bw")))

#define X5_ADD(x, y)	_mm512_add_epi32((x), (y))
#define X5_ROTL(x, n)	_mm512_rol_epi32((x), (n))
/* vpternlogd truth tables: b ? c : d, b ^ c ^ d, majority */
#define X5_CH(b, c, d)	_mm512_ternarylogic_epi32((b), (c), (d), 0xca)
#define X5_PAR(b, c, d)	_mm512_ternarylogic_epi32((b), (c), (d), 0x96)
#define X5_MAJ(b, c, d)	_mm512_ternarylogic_epi32((b), (c), (d), 0xe8)

#define X5_F(t, b, c, d)						\
	((t) < 20 ? X5_ADD(X5_CH(b, c, d), k0) :			\
	(t) < 40 ? X5_ADD(X5_PAR(b, c, d), k1) :			\
	(t) < 60 ? X5_ADD(X5_MAJ(b, c, d), k2) :			\
	X5_ADD(X5_PAR(b, c, d), k3))

#define X5_W(t)								\
	((t) < 16 ? w[(t)] : (w[(t) & 15] = X5_ROTL(			\
	    _mm512_xor_si512(X5_PAR(w[((t) - 3) & 15],			\
	    w[((t) - 8) & 15], w[((t) - 14) & 15]), w[(t) & 15]), 1)))

#define X5_ROUND(t, a, b, c, d, e) do {					\
	__m512i	wt_ = X5_W(t);						\
									\
	e = X5_ADD(X5_ADD(e, X5_ROTL(a, 5)),				\
	    X5_ADD(X5_F(t, b, c, d), wt_));				\
	b = X5_ROTL(b, 30);						\
} while (0)

#define X5_ROUND5(t) do {						\
	X5_ROUND((t), a, b, c, d, e);					\
	X5_ROUND((t) + 1, e, a, b, c, d);				\
	X5_ROUND((t) + 2, d, e, a, b, c);				\
	X5_ROUND((t) + 3, c, d, e, a, b);				\
	X5_ROUND((t) + 4, b, c, d, e, a);				\
} while (0)

/* w[0..15] = the big-endian words of the 64 bytes at p[l] + off, lane l. */
X5_TARGET static void
sha1_avx512_words(__m512i *w, const uint8_t *const *p, size_t off)
{
	const __m512i	bswap = _mm512_set_epi32(
	    0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203,
	    0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203,
	    0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203,
	    0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
	__m512i		r[16], t[16], lo, hi, lo2, hi2;
	size_t		i, j;

	for (i = 0; i < 16; i++)
		r[i] = _mm512_loadu_si512((const void *)(p[i] + off));
	/* pairs of lanes, then fours: t[4g + j] holds, for lanes 4g..4g+3,
	   words j, j + 4, j + 8 and j + 12 in its four 128-bit parts */
	for (i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
	}
	for (i = 0; i < 16; i += 4) {
		r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
		r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
		r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
		r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
	/* sixteen lanes: part k of r[j], r[4 + j], r[8 + j], r[12 + j] */
	for (j = 0; j < 4; j++) {
		lo = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x44);
		hi = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xee);
		lo2 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x44);
		hi2 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xee);
		w[j] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(lo, lo2,
		    0x88), bswap);
		w[j + 4] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(lo, lo2,
		    0xdd), bswap);
		w[j + 8] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(hi, hi2,
		    0x88), bswap);
		w[j + 12] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(hi,
		    hi2, 0xdd), bswap);
	}
}

X5_TARGET static void
sha1_avx512_x16(uint32_t (*st)[5], const uint8_t *const *p, size_t nblocks)
{
	const __m512i	k0 = _mm512_set1_epi32(0x5a827999);
	const __m512i	k1 = _mm512_set1_epi32(0x6ed9eba1);
	const __m512i	k2 = _mm512_set1_epi32((int)0x8f1bbcdc);
	const __m512i	k3 = _mm512_set1_epi32((int)0xca62c1d6);
	__m512i		a, b, c, d, e, sa, sb, sc, sd, se, w[16];
	uint32_t	v[5][16];
	size_t		i, off;

	for (i = 0; i < 80; i++)
		v[i / 16][i % 16] = st[i % 16][i / 16];
	a = _mm512_loadu_si512((const void *)v[0]);
	b = _mm512_loadu_si512((const void *)v[1]);
	c = _mm512_loadu_si512((const void *)v[2]);
	d = _mm512_loadu_si512((const void *)v[3]);
	e = _mm512_loadu_si512((const void *)v[4]);
	for (off = 0; off < nblocks * 64; off += 64) {
		sha1_avx512_words(w, p, off);
		sa = a;
		sb = b;
		sc = c;
		sd = d;
		se = e;
		X5_ROUND5(0);
		X5_ROUND5(5);
		X5_ROUND5(10);
		X5_ROUND5(15);
		X5_ROUND5(20);
		X5_ROUND5(25);
		X5_ROUND5(30);
		X5_ROUND5(35);
		X5_ROUND5(40);
		X5_ROUND5(45);
		X5_ROUND5(50);
		X5_ROUND5(55);
		X5_ROUND5(60);
		X5_ROUND5(65);
		X5_ROUND5(70);
		X5_ROUND5(75);
		a = X5_ADD(a, sa);
		b = X5_ADD(b, sb);
		c = X5_ADD(c, sc);
		d = X5_ADD(d, sd);
		e = X5_ADD(e, se);
	}
	_mm512_storeu_si512((void *)v[0], a);
	_mm512_storeu_si512((void *)v[1], b);
	_mm512_storeu_si512((void *)v[2], c);
	_mm512_storeu_si512((void *)v[3], d);
	_mm512_storeu_si512((void *)v[4], e);
	for (i = 0; i < 80; i++)
		st[i % 16][i / 16] = v[i / 16][i % 16];
}

/*
 * CPUID leaf 7 EBX: bit 5 AVX2, 16 AVX-512F, 29 SHA, 30 AVX-512BW; leaf 1
 * ECX: bit 19 SSE4.1, 27 OSXSAVE.  Called once a kernel (cpu_kernels).
 */
static bool
cpu_has(enum sha1_kernel k)
{
	unsigned int	a, b, c, d, lo, hi, ecx1;

	if (!__get_cpuid(1, &a, &b, &ecx1, &d))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	if (k == SHA1_KERNEL_SHANI)
		return (b & (1u << 29)) != 0 && (ecx1 & (1u << 19)) != 0;
	if ((ecx1 & (1u << 27)) == 0)
		return false;
	/* The OS must save the registers: XCR0 bits 1 (SSE), 2 (AVX), and
	   5-7 (opmasks and zmm) for AVX-512. */
	__asm__ ("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	(void)hi;
	if (k == SHA1_KERNEL_AVX2)
		return (b & (1u << 5)) != 0 && (lo & 0x6) == 0x6;
	if (k == SHA1_KERNEL_AVX512)
		return (b & (1u << 16)) != 0 && (b & (1u << 30)) != 0 &&
		    (lo & 0xe6) == 0xe6;
	return false;
}

#else /* !SHA1_X86 */

static bool
cpu_has(enum sha1_kernel k)
{
	(void)k;
	return false;
}

#endif /* SHA1_X86 */

/*
 * The kernels, each with what one call costs (16 KiB a lane): relative
 * guesses until sha1_kernel_tune times them.  The guesses have four SHA-NI
 * streams run twice as fast as one (as on the CPUs the interleaving was
 * first measured on) and the vector kernels lose to SHA-NI.
 */
struct sha1_kern {
	sha1_blocks_fn		*fn;
	size_t			 width;		/* lanes */
	enum sha1_kernel	 family;
	_Atomic uint64_t	 cost;
};

static struct sha1_kern	sha1_kerns[] = {
	{ sha1_scalar_x1, 1, SHA1_KERNEL_SCALAR, 400 },
#ifdef SHA1_X86
	{ sha1_shani_x1, 1, SHA1_KERNEL_SHANI, 100 },
	{ sha1_shani_x2, 2, SHA1_KERNEL_SHANI, 110 },
	{ sha1_shani_x4, 4, SHA1_KERNEL_SHANI, 200 },
	{ sha1_avx2_x8, 8, SHA1_KERNEL_AVX2, 800 },
	{ sha1_avx512_x16, 16, SHA1_KERNEL_AVX512, 1600 },
#endif
};

static _Atomic int	sha1_cpu = -1;		/* families the CPU has, bits */
static _Atomic int	sha1_kernel_cur = -1;	/* enum sha1_kernel, or -1 */

static int
cpu_kernels(void)
{
	int	m = atomic_load_explicit(&sha1_cpu, memory_order_relaxed);

	if (m < 0) {
		m = 1 << SHA1_KERNEL_SCALAR;
		if (cpu_has(SHA1_KERNEL_SHANI))
			m |= 1 << SHA1_KERNEL_SHANI;
		if (cpu_has(SHA1_KERNEL_AVX2))
			m |= 1 << SHA1_KERNEL_AVX2;
		if (cpu_has(SHA1_KERNEL_AVX512))
			m |= 1 << SHA1_KERNEL_AVX512;
		atomic_store_explicit(&sha1_cpu, m, memory_order_relaxed);
	}
	return m;
}

/* The families allowed now: the CPU's, or the one forced, and scalar. */
static int
kernels_allowed(void)
{
	int	k = atomic_load_explicit(&sha1_kernel_cur,
		    memory_order_relaxed);

	if (k < 0 || k == SHA1_KERNEL_BEST)
		return cpu_kernels();
	return 1 << k | 1 << SHA1_KERNEL_SCALAR;
}

/*
 * The kernel for n lanes still to hash: the cheapest a lane used (ties go
 * to the narrower); how many of the n it takes is min(n, width).
 */
static const struct sha1_kern *
kernel_for(size_t n)
{
	const struct sha1_kern	*best = &sha1_kerns[0], *k;
	uint64_t		 c, bc = UINT64_MAX;
	int			 allowed = kernels_allowed();
	size_t			 i, m;

	for (i = 0; i < nitems(sha1_kerns); i++) {
		k = &sha1_kerns[i];
		if ((allowed & 1 << k->family) == 0)
			continue;
		m = MIN(n, k->width);
		c = atomic_load_explicit(&sha1_kerns[i].cost,
		    memory_order_relaxed) * SHA1_LANES_MAX * 2 / m;
		if (c < bc) {
			bc = c;
			best = k;
		}
	}
	return best;
}

bool
sha1_multi_force(enum sha1_kernel k)
{
	if (k != SHA1_KERNEL_BEST && (cpu_kernels() & 1 << k) == 0)
		return false;
	atomic_store_explicit(&sha1_kernel_cur, (int)k, memory_order_relaxed);
	return true;
}

void
sha1_multi_force_scalar(bool on)
{
	sha1_multi_force(on ? SHA1_KERNEL_SCALAR : SHA1_KERNEL_BEST);
}

void
sha1_multi(const uint8_t *const *msgs, size_t len, size_t n,
    uint8_t (*out)[SHA1_LEN])
{
	const struct sha1_kern	*k;
	size_t			 i, m;

	for (i = 0; i < n; i += m) {
		k = kernel_for(n - i);
		m = MIN(n - i, k->width);
		if (k->width == 1)	/* one stream: libcrypto's as fast */
			sha1(msgs[i], len, out[i]);
		else
			sha1_multi_group(k->fn, k->width, msgs + i, m, len,
			    out + i);
	}
}

/* The fastest of three runs of k over its lanes of len bytes, in ns,
   after one not timed. */
static uint64_t
kernel_time(const struct sha1_kern *k, const uint8_t *const *p, size_t len,
    uint64_t (*clock_ns)(void))
{
	uint32_t	st[SHA1_LANES_MAX][5];
	uint64_t	t0, t, best = UINT64_MAX;
	int		run;

	memset(st, 0, sizeof(st));
	k->fn(st, p, len / 64);		/* warm up */
	for (run = 0; run < 3; run++) {
		t0 = clock_ns();
		k->fn(st, p, len / 64);
		t = clock_ns() - t0;
		best = MIN(best, t);
	}
	return MAX(best, 1);
}

void
sha1_kernel_tune(uint64_t (*clock_ns)(void))
{
	const uint8_t	*p[SHA1_LANES_MAX];
	uint64_t	 c[nitems(sha1_kerns)];
	uint8_t		*buf;
	size_t		 i, len = 16384;
	int		 has = cpu_kernels();

	if ((has & ~(1 << SHA1_KERNEL_SCALAR)) == 0)
		return;			/* nothing to choose from */
	buf = xmalloc(SHA1_LANES_MAX * len);
	for (i = 0; i < SHA1_LANES_MAX * len; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (i = 0; i < SHA1_LANES_MAX; i++)
		p[i] = buf + i * len;
	/* The C kernel, slowest by far, is not timed: never picked then. */
	for (i = 0; i < nitems(sha1_kerns); i++) {
		c[i] = 0;
		if (sha1_kerns[i].family == SHA1_KERNEL_SCALAR)
			c[i] = UINT64_MAX / (4 * SHA1_LANES_MAX);
		else if ((has & 1 << sha1_kerns[i].family) != 0)
			c[i] = kernel_time(&sha1_kerns[i], p, len, clock_ns);
	}
	free(buf);
	for (i = 0; i < nitems(sha1_kerns); i++)
		if (c[i] != 0)
			atomic_store_explicit(&sha1_kerns[i].cost, c[i],
			    memory_order_relaxed);
}

size_t
sha1_lanes_width(void)
{
	return kernel_for(SHA1_LANES_MAX)->width;
}

void
sha1_lane_init(struct sha1_lane *l)
{
	memcpy(l->h, sha1_iv, sizeof(l->h));
	l->len = 0;
}

void
sha1_lanes_update(struct sha1_lane *const *l, const uint8_t *const *p,
    size_t n, size_t len)
{
	uint32_t		 st[SHA1_LANES_MAX][5];
	const uint8_t		*q[SHA1_LANES_MAX];
	const struct sha1_kern	*k;
	size_t			 i, j, m, from;

	assert(len % 64 == 0);
	if (len == 0)
		return;
	for (i = 0; i < n; i += m) {
		k = kernel_for(n - i);
		m = MIN(n - i, k->width);
		for (j = 0; j < k->width; j++) {
			from = i + (j < m ? j : 0);
			memcpy(st[j], l[from]->h, sizeof(st[j]));
			q[j] = p[from];
		}
		k->fn(st, q, len / 64);
		for (j = 0; j < m; j++) {
			memcpy(l[i + j]->h, st[j], sizeof(st[j]));
			l[i + j]->len += len;
		}
	}
}

void
sha1_lane_final(struct sha1_lane *l, const void *tail, size_t n,
    uint8_t out[SHA1_LEN])
{
	struct sha1_lane	*lp = l;
	const uint8_t		*q = tail;
	uint8_t			 pad[128];
	uint64_t		 bits = (l->len + n) << 3;
	size_t			 full = n - n % 64, rest = n % 64, j;
	size_t			 npad = rest < 56 ? 64 : 128;

	sha1_lanes_update(&lp, &q, 1, full);
	memset(pad, 0, npad);
	if (rest > 0)
		memcpy(pad, q + full, rest);
	pad[rest] = 0x80;
	store_be64(pad + npad - 8, bits);
	q = pad;
	sha1_lanes_update(&lp, &q, 1, npad);
	for (j = 0; j < 5; j++)
		store_be32(out + 4 * j, l->h[j]);
	sha1_lane_init(l);
}

void
rand_bytes(void *p, size_t n)
{
	if (n > 0 && RAND_bytes(p, (int)n) != 1)
		crypto_fail("RAND_bytes");
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
prng_seed(struct prng *r, uint64_t seed)
{
	int	i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
prng_next(struct prng *r)
{
	uint64_t	*s = r->s;
	uint64_t	 result = rotl(s[1] * 5, 7) * 9;
	uint64_t	 t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t
prng_below(struct prng *r, uint64_t n)
{
	uint64_t	x, limit = UINT64_MAX - UINT64_MAX % n;

	do
		x = prng_next(r);
	while (x >= limit);
	return x % n;
}
