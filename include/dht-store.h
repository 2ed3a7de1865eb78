/* dht-store.h - what a DHT node keeps for others: tokens, peers, rates */
#ifndef GT_DHT_STORE_H
#define GT_DHT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DHT_STORE_TOKEN_LEN	8	/* bytes of SHA-1(secret, IP) */
#define DHT_STORE_SECRET_MS	(5u * 60 * 1000)	/* token secrets rotate */
#define DHT_STORE_PEER_MS	(30u * 60 * 1000)	/* an announce lives */
#define DHT_STORE_SWEEP_MS	(60u * 1000)	/* expiry sweeps at most this
						   often (get skips the
						   expired meanwhile) */
#define DHT_STORE_MAX_HASHES	10000	/* info-hashes stored */
#define DHT_STORE_MAX_PEERS	100000	/* peers stored, all info-hashes */
#define DHT_STORE_MAX_PER_HASH	100	/* peers stored per info-hash */
#define DHT_STORE_RATE		20	/* queries/s per source IP ... */
#define DHT_STORE_BURST		50	/* ... after a burst of this many */
#define DHT_STORE_RATE_SLOTS	4096	/* source IPs tracked */
#define DHT_STORE_BLOOM_LEN	256	/* BEP 33: m = 2048 bits, k = 2 */

/*
 * Pure: fed requests and a clock (ms), it answers with tokens, stored
 * peers, scrape filters and samples, and says whether a source IP is over
 * its query rate.  Everything is capped when created: memory stays flat
 * whatever the requests.
 *
 * Tokens (BEP 5): the first DHT_STORE_TOKEN_LEN bytes of SHA-1 of a secret
 * and the requester's IP (not its port).  Secrets rotate every
 * DHT_STORE_SECRET_MS on a fixed schedule; a token is good in the period
 * it was made and the next one, so for 5 to 10 minutes.
 *
 * Peers (BEP 5, BEP 33 seeds): one entry per IP per info-hash (a new port
 * or seed flag from that IP replaces the old), living DHT_STORE_PEER_MS
 * after its last announce.  Addresses nobody can dial (addr_is_dialable)
 * are never stored.  When an info-hash has max_per_hash peers, a new one
 * replaces the least recently announced.  When the store is full (a new
 * info-hash beyond max_hashes, or a new peer beyond max_peers), the least
 * recently announced info-hash is dropped with all its peers: a flood
 * pushes out stale entries rather than locking out new torrents, and
 * live peers announce again every 15-30 minutes.
 *
 * Rates: a token bucket per source IP (per /64 for IPv6) in a table of
 * rate_slots (4-way set-associative, keyed hash, the least recently seen
 * way replaced): one flooding IP is throttled while others pass, and any
 * number of source IPs costs the same memory.
 */
struct dht_store;
struct prng;

struct dht_store_opts {
	uint32_t	max_hashes;	/* 0: DHT_STORE_MAX_HASHES */
	uint32_t	max_peers;	/* 0: DHT_STORE_MAX_PEERS */
	uint32_t	max_per_hash;	/* 0: DHT_STORE_MAX_PER_HASH (<= 1024) */
	uint32_t	rate;		/* 0: DHT_STORE_RATE queries/s */
	uint32_t	burst;		/* 0: DHT_STORE_BURST queries */
	uint32_t	rate_slots;	/* 0: DHT_STORE_RATE_SLOTS */
	bool		deterministic;	/* secrets and hash keys from the seed,
					   not rand_bytes (simulator, fuzzing;
					   never a real node) */
};

/* opts may be NULL: the defaults. */
struct dht_store	*dht_store_new(const struct dht_store_opts *,
			    uint64_t seed);
void			 dht_store_free(struct dht_store *);

/* ---- tokens ---- */

void		 dht_store_token(struct dht_store *,
		    const struct netaddr *requester, uint64_t now,
		    uint8_t out[DHT_STORE_TOKEN_LEN]);
/* Made for this IP in this secret period or the last; constant time. */
bool		 dht_store_token_ok(struct dht_store *,
		    const struct netaddr *requester, const uint8_t *token,
		    size_t len, uint64_t now);

/* ---- peers ---- */

/* Stores or refreshes peer for info_hash; false if it is not dialable. */
bool		 dht_store_announce(struct dht_store *,
		    const uint8_t info_hash[20], const struct netaddr *peer,
		    bool seed, uint64_t now);
/*
 * Up to max live peers of info_hash, a random subset when there are more;
 * returns how many it wrote.
 */
size_t		 dht_store_get(struct dht_store *,
		    const uint8_t info_hash[20], uint64_t now,
		    struct netaddr *out, size_t max, struct prng *);
/*
 * The same, only peers of family (ADDR_V4, ADDR_V6; 0: any), and with
 * noseed (BEP 33) leechers first, seeds only to fill the rest.
 */
size_t		 dht_store_get_filter(struct dht_store *,
		    const uint8_t info_hash[20], uint8_t family, bool noseed,
		    uint64_t now, struct netaddr *out, size_t max,
		    struct prng *);
/* Drops expired peers and info-hashes left empty. */
void		 dht_store_expire(struct dht_store *, uint64_t now);
/* When dht_store_expire is next due; UINT64_MAX when empty. */
uint64_t	 dht_store_deadline(const struct dht_store *);
/* Stored (the expired ones until the next sweep). */
size_t		 dht_store_nhashes(const struct dht_store *);
size_t		 dht_store_npeers(const struct dht_store *);
/* Bytes the store holds now; never more than with every cap reached. */
size_t		 dht_store_memory(const struct dht_store *);

/* ---- BEP 33 scrape, BEP 51 samples ---- */

/*
 * The bloom filters of the live seeds and leechers ("BFsd", "BFpe") of
 * info_hash; false, leaving them alone, when it has no live peer.
 */
bool		 dht_store_scrape(struct dht_store *,
		    const uint8_t info_hash[20], uint64_t now,
		    uint8_t seeds[DHT_STORE_BLOOM_LEN],
		    uint8_t peers[DHT_STORE_BLOOM_LEN]);
/* Adds a's IP (not its port) to a BEP 33 filter. */
void		 dht_store_bloom_add(uint8_t bloom[DHT_STORE_BLOOM_LEN],
		    const struct netaddr *a);
/* BEP 33's estimate of how many IPs a filter (or a union) holds. */
double		 dht_store_bloom_count(const uint8_t bloom[DHT_STORE_BLOOM_LEN]);
/*
 * BEP 51: up to max stored info-hashes, a random subset when there are
 * more; returns how many it wrote (dht_store_nhashes is "num").
 */
size_t		 dht_store_samples(struct dht_store *, uint8_t (*out)[20],
		    size_t max, struct prng *);

/* ---- query rates ---- */

/* May this source IP be answered now?  Takes one query from its bucket. */
bool		 dht_store_rate_ok(struct dht_store *, const struct netaddr *ip,
		    uint64_t now);

#endif /* GT_DHT_STORE_H */
