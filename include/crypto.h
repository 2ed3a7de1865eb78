/* crypto.h - SHA-1/SHA-256 from libcrypto, random bytes, a seeded PRNG */
#ifndef GT_CRYPTO_H
#define GT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN	20
#define SHA256_LEN	32

void	sha1(const void *, size_t, uint8_t out[SHA1_LEN]);
void	sha256(const void *, size_t, uint8_t out[SHA256_LEN]);

/*
 * SHA-1 of n messages that all have length len: out[i] is the digest of
 * msgs[i].  Hashes several at once where the CPU allows (SHA-NI or AVX2),
 * which beats n calls of sha1().
 */
void	sha1_multi(const uint8_t *const *msgs, size_t len, size_t n,
	    uint8_t (*out)[SHA1_LEN]);

/* For tests: which kernel sha1_multi() uses. */
enum sha1_kernel {
	SHA1_KERNEL_BEST,	/* the fastest this CPU runs (default) */
	SHA1_KERNEL_SCALAR,	/* sha1() per message */
	SHA1_KERNEL_AVX2,	/* 8 lanes of AVX2 */
	SHA1_KERNEL_SHANI,	/* interleaved SHA-NI streams */
};
/* False, changing nothing, if this CPU or build lacks the kernel. */
bool	sha1_multi_force(enum sha1_kernel);
void	sha1_multi_force_scalar(bool);

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
