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
	SHA1_KERNEL_AVX512,	/* 16 lanes of AVX-512 */
};
/* False, changing nothing, if this CPU or build lacks the kernel. */
bool	sha1_multi_force(enum sha1_kernel);
void	sha1_multi_force_scalar(bool);
/*
 * Times each kernel this CPU has with the caller's clock (ns; about half
 * a millisecond in all) and from then on uses, for each number of lanes,
 * the one that costs least a lane: on some CPUs SHA-NI streams are slow
 * and the vector kernels' eight or sixteen lanes win.  Without it, SHA-NI
 * wherever the CPU has it.
 */
void	sha1_kernel_tune(uint64_t (*clock_ns)(void));

/*
 * SHA-1 of messages that grow by whole 64-byte blocks, several side by side
 * (a piece per lane as its blocks arrive): sha1_lanes_update interleaves
 * them in the kernel sha1_multi uses, so n lanes cost about as much as n
 * messages hashed by sha1_multi.  On CPUs without SHA-NI or AVX2 a plain C
 * kernel runs them one at a time.
 */
struct sha1_lane {
	uint32_t	h[5];	/* the chaining state */
	uint64_t	len;	/* bytes hashed so far, a multiple of 64 */
};

/*
 * How many lanes hash at the kernel's best rate per byte: with fewer,
 * each byte costs more (on CPUs where SHA-NI streams are slow, over twice
 * as much in one lane as in eight).  1 with the plain C kernel.
 */
#define SHA1_LANES_MAX	16
size_t	sha1_lanes_width(void);
void	sha1_lane_init(struct sha1_lane *);
/* Adds len bytes (a multiple of 64) read from p[i] to l[i], for i < n. */
void	sha1_lanes_update(struct sha1_lane *const *l,
	    const uint8_t *const *p, size_t n, size_t len);
/* Adds the last n bytes (any length; tail may be NULL if n is 0), writes
 * the digest and starts l again. */
void	sha1_lane_final(struct sha1_lane *l, const void *tail, size_t n,
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
