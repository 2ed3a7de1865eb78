/* crypto.h - SHA-1/SHA-256 from libcrypto, random bytes, a seeded PRNG */
#ifndef GT_CRYPTO_H
#define GT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN	20
#define SHA256_LEN	32

void	sha1(const void *, size_t, uint8_t out[SHA1_LEN]);
void	sha256(const void *, size_t, uint8_t out[SHA256_LEN]);

/* Streaming SHA-1 for hashing a piece as its blocks arrive. */
struct sha1_stream;
struct sha1_stream	*sha1_stream_new(void);
void			 sha1_stream_free(struct sha1_stream *);
void			 sha1_stream_reset(struct sha1_stream *);
void			 sha1_stream_update(struct sha1_stream *, const void *,
			     size_t);
void			 sha1_stream_final(struct sha1_stream *,
			     uint8_t out[SHA1_LEN]);

/* Cryptographically strong random bytes; aborts if none can be had. */
void	rand_bytes(void *, size_t);

/* xoshiro256** seeded from a 64-bit value: repeatable choices in tests. */
struct prng {
	uint64_t	s[4];	/* state, never all zero */
};

void		prng_seed(struct prng *, uint64_t seed);
uint64_t	prng_next(struct prng *);
/* Uniform in [0, n); n > 0. */
uint64_t	prng_below(struct prng *, uint64_t n);

#endif /* GT_CRYPTO_H */
