/* crypto.c - SHA-1/SHA-256 from libcrypto, random bytes, a seeded PRNG */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"

struct sha1_stream {
	EVP_MD_CTX	*ctx;	/* owned; initialised for SHA-1 */
};

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

struct sha1_stream *
sha1_stream_new(void)
{
	struct sha1_stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		crypto_fail("calloc");
	if ((s->ctx = EVP_MD_CTX_new()) == NULL)
		crypto_fail("EVP_MD_CTX_new");
	sha1_stream_reset(s);
	return s;
}

void
sha1_stream_free(struct sha1_stream *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->ctx);
	free(s);
}

void
sha1_stream_reset(struct sha1_stream *s)
{
	if (EVP_DigestInit_ex(s->ctx, EVP_sha1(), NULL) != 1)
		crypto_fail("EVP_DigestInit_ex");
}

void
sha1_stream_update(struct sha1_stream *s, const void *p, size_t n)
{
	if (EVP_DigestUpdate(s->ctx, p, n) != 1)
		crypto_fail("EVP_DigestUpdate");
}

void
sha1_stream_final(struct sha1_stream *s, uint8_t out[SHA1_LEN])
{
	if (EVP_DigestFinal_ex(s->ctx, out, NULL) != 1)
		crypto_fail("EVP_DigestFinal_ex");
	sha1_stream_reset(s);
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
