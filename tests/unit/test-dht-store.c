/* test-dht-store.c - tokens, the peer store and query rates, fake clock */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "dht-store.h"
#include "util.h"

#define T0	1000000		/* the fake clock starts here (ms) */
#define MIN_MS	(60u * 1000)

/* 127.x.y.z from a 24-bit number, so tests never leave loopback. */
static struct netaddr
lo(uint32_t n, uint16_t port)
{
	struct netaddr	a;

	memset(&a, 0, sizeof(a));
	a.family = ADDR_V4;
	a.ip[0] = 127;
	a.ip[1] = (uint8_t)(n >> 16);
	a.ip[2] = (uint8_t)(n >> 8);
	a.ip[3] = (uint8_t)n;
	a.port = port;
	return a;
}

static struct netaddr
lo6(uint16_t port)
{
	struct netaddr	a;

	memset(&a, 0, sizeof(a));
	a.family = ADDR_V6;
	a.ip[15] = 1;
	a.port = port;
	return a;
}

static void
ihash(uint8_t ih[20], uint32_t n)
{
	memset(ih, 0xab, 20);
	ih[0] = (uint8_t)(n >> 24);
	ih[1] = (uint8_t)(n >> 16);
	ih[2] = (uint8_t)(n >> 8);
	ih[3] = (uint8_t)n;
}

static struct dht_store *
mk(uint32_t max_hashes, uint32_t max_peers, uint32_t max_per_hash)
{
	struct dht_store_opts	o = {
		.max_hashes = max_hashes, .max_peers = max_peers,
		.max_per_hash = max_per_hash, .deterministic = true,
	};

	return dht_store_new(&o, 42);
}

/* ---- tokens ---- */

Test(dht_store, token_valid_now_and_after_one_rotation)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 t[DHT_STORE_TOKEN_LEN];

	dht_store_token(s, &a, T0, t);
	cr_assert(dht_store_token_ok(s, &a, t, sizeof(t), T0));
	cr_assert(dht_store_token_ok(s, &a, t, sizeof(t),
	    T0 + DHT_STORE_SECRET_MS - 1));
	cr_assert(dht_store_token_ok(s, &a, t, sizeof(t),
	    T0 + DHT_STORE_SECRET_MS));
	cr_assert(dht_store_token_ok(s, &a, t, sizeof(t),
	    T0 + 2 * DHT_STORE_SECRET_MS - 1));
	cr_assert_not(dht_store_token_ok(s, &a, t, sizeof(t),
	    T0 + 2 * DHT_STORE_SECRET_MS));
	dht_store_free(s);
}

Test(dht_store, token_rejected_after_two_rotations_even_if_unseen)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 t[DHT_STORE_TOKEN_LEN];

	dht_store_token(s, &a, T0, t);
	/* Nothing happens for a long while: both secrets must change. */
	cr_assert_not(dht_store_token_ok(s, &a, t, sizeof(t),
	    T0 + 7 * DHT_STORE_SECRET_MS));
	dht_store_free(s);
}

Test(dht_store, token_lives_5_to_10_minutes)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 t0[DHT_STORE_TOKEN_LEN], t[DHT_STORE_TOKEN_LEN];

	dht_store_token(s, &a, T0, t0);		/* the schedule starts */
	/* Made late in the first period: good until the third starts. */
	dht_store_token(s, &a, T0 + 4 * MIN_MS, t);
	cr_assert_arr_eq(t, t0, sizeof(t));
	cr_assert(dht_store_token_ok(s, &a, t, sizeof(t), T0 + 9 * MIN_MS));
	cr_assert_not(dht_store_token_ok(s, &a, t, sizeof(t),
	    T0 + 10 * MIN_MS));
	/* A new period, a new token. */
	dht_store_token(s, &a, T0 + 10 * MIN_MS, t);
	cr_assert(memcmp(t, t0, sizeof(t)) != 0);
	dht_store_free(s);
}

Test(dht_store, token_bound_to_ip_not_port)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881), b = lo(1, 1234);
	struct netaddr		 c = lo(2, 6881), d = lo6(6881), m;
	uint8_t			 t[DHT_STORE_TOKEN_LEN];

	dht_store_token(s, &a, T0, t);
	cr_assert(dht_store_token_ok(s, &b, t, sizeof(t), T0));
	cr_assert_not(dht_store_token_ok(s, &c, t, sizeof(t), T0));
	cr_assert_not(dht_store_token_ok(s, &d, t, sizeof(t), T0));
	/* ::ffff:127.0.0.1 is 127.0.0.1 */
	memset(&m, 0, sizeof(m));
	m.family = ADDR_V6;
	m.ip[10] = m.ip[11] = 0xff;
	m.ip[12] = 127;
	m.ip[15] = 1;
	cr_assert(dht_store_token_ok(s, &m, t, sizeof(t), T0));
	dht_store_token(s, &d, T0, t);
	cr_assert(dht_store_token_ok(s, &d, t, sizeof(t), T0));
	cr_assert_not(dht_store_token_ok(s, &a, t, sizeof(t), T0));
	dht_store_free(s);
}

Test(dht_store, token_wrong_length_or_bytes)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 t[DHT_STORE_TOKEN_LEN + 4];
	size_t			 i;

	memset(t, 0, sizeof(t));
	dht_store_token(s, &a, T0, t);
	cr_assert_not(dht_store_token_ok(s, &a, t, 0, T0));
	cr_assert_not(dht_store_token_ok(s, &a, t, DHT_STORE_TOKEN_LEN - 1,
	    T0));
	cr_assert_not(dht_store_token_ok(s, &a, t, DHT_STORE_TOKEN_LEN + 1,
	    T0));
	cr_assert_not(dht_store_token_ok(s, &a, t, sizeof(t), T0));
	for (i = 0; i < DHT_STORE_TOKEN_LEN; i++) {
		t[i] ^= 1;
		cr_assert_not(dht_store_token_ok(s, &a, t,
		    DHT_STORE_TOKEN_LEN, T0));
		t[i] ^= 1;
	}
	cr_assert(dht_store_token_ok(s, &a, t, DHT_STORE_TOKEN_LEN, T0));
	dht_store_free(s);
}

Test(dht_store, tokens_differ_between_stores)
{
	struct dht_store	*s1 = dht_store_new(NULL, 1);
	struct dht_store	*s2 = dht_store_new(NULL, 1);
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 t[DHT_STORE_TOKEN_LEN];

	/* Secrets from rand_bytes, not from the seed. */
	dht_store_token(s1, &a, T0, t);
	cr_assert(dht_store_token_ok(s1, &a, t, sizeof(t), T0));
	cr_assert_not(dht_store_token_ok(s2, &a, t, sizeof(t), T0));
	dht_store_free(s1);
	dht_store_free(s2);
}

/* ---- the peer store ---- */

Test(dht_store, announce_get_and_one_entry_per_ip)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct prng		 rng;
	struct netaddr		 a = lo(1, 6881), b = lo(1, 7000), out[4];
	uint8_t			 ih[20], other[20];

	prng_seed(&rng, 1);
	ihash(ih, 1);
	ihash(other, 2);
	cr_assert_eq(dht_store_get(s, ih, T0, out, 4, &rng), 0);
	cr_assert(dht_store_announce(s, ih, &a, false, T0));
	cr_assert_eq(dht_store_get(s, ih, T0, out, 4, &rng), 1);
	cr_assert(addr_eq(&out[0], &a));
	cr_assert_eq(dht_store_get(s, other, T0, out, 4, &rng), 0);
	/* The same IP, a new port: replaces. */
	cr_assert(dht_store_announce(s, ih, &b, true, T0 + 1));
	cr_assert_eq(dht_store_npeers(s), 1);
	cr_assert_eq(dht_store_nhashes(s), 1);
	cr_assert_eq(dht_store_get(s, ih, T0, out, 4, &rng), 1);
	cr_assert(addr_eq(&out[0], &b));
	cr_assert_eq(dht_store_get(s, ih, T0, out, 0, &rng), 0);
	dht_store_free(s);
}

Test(dht_store, undialable_never_stored)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 bad[6];
	uint8_t			 ih[20];
	size_t			 i;

	ihash(ih, 1);
	bad[0] = lo(1, 0);			/* port 0 */
	bad[1] = lo(1, 6881);
	memset(bad[1].ip, 0, 4);		/* 0.0.0.0 */
	bad[2] = lo(1, 6881);
	memset(bad[2].ip, 0xff, 4);		/* broadcast */
	bad[3] = lo(1, 6881);
	bad[3].ip[0] = 224;			/* multicast */
	bad[4] = lo6(6881);
	bad[4].ip[15] = 0;			/* :: */
	bad[5] = lo6(6881);
	bad[5].ip[0] = 0xff;			/* ff00::/8 */
	for (i = 0; i < nitems(bad); i++)
		cr_assert_not(dht_store_announce(s, ih, &bad[i], false, T0),
		    "entry %zu", i);
	cr_assert_eq(dht_store_npeers(s), 0);
	cr_assert_eq(dht_store_nhashes(s), 0);
	cr_assert_eq(dht_store_deadline(s), UINT64_MAX);
	dht_store_free(s);
}

Test(dht_store, expiry_with_fake_clock)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct prng		 rng;
	struct netaddr		 a = lo(1, 6881), b = lo(2, 6881), out[4];
	uint8_t			 ih[20];

	prng_seed(&rng, 1);
	ihash(ih, 1);
	dht_store_announce(s, ih, &a, false, T0);
	dht_store_announce(s, ih, &b, false, T0 + 10 * MIN_MS);
	cr_assert_eq(dht_store_deadline(s), T0 + DHT_STORE_PEER_MS);
	cr_assert_eq(dht_store_get(s, ih, T0 + DHT_STORE_PEER_MS - 1, out, 4,
	    &rng), 2);
	/* Expired peers are skipped before the sweep. */
	cr_assert_eq(dht_store_get(s, ih, T0 + DHT_STORE_PEER_MS, out, 4,
	    &rng), 1);
	cr_assert(addr_eq(&out[0], &b));
	dht_store_expire(s, T0 + DHT_STORE_PEER_MS);
	cr_assert_eq(dht_store_npeers(s), 1);
	cr_assert_eq(dht_store_deadline(s),
	    T0 + 10 * MIN_MS + DHT_STORE_PEER_MS);
	/* A refresh keeps b; the sweep runs at most once a minute. */
	dht_store_announce(s, ih, &b, false, T0 + 35 * MIN_MS);
	dht_store_expire(s, T0 + 40 * MIN_MS);
	cr_assert_eq(dht_store_npeers(s), 1);
	cr_assert_eq(dht_store_deadline(s), T0 + 65 * MIN_MS);
	dht_store_announce(s, ih, &b, false, T0 + 64 * MIN_MS);
	dht_store_expire(s, T0 + 65 * MIN_MS);
	cr_assert_eq(dht_store_deadline(s), T0 + 94 * MIN_MS);
	dht_store_expire(s, T0 + 94 * MIN_MS);
	cr_assert_eq(dht_store_npeers(s), 0);
	cr_assert_eq(dht_store_nhashes(s), 0);
	cr_assert_eq(dht_store_deadline(s), UINT64_MAX);
	cr_assert_eq(dht_store_get(s, ih, T0 + 94 * MIN_MS, out, 4, &rng), 0);
	dht_store_free(s);
}

Test(dht_store, per_hash_cap_newest_replace_oldest)
{
	struct dht_store	*s = mk(0, 0, 5);
	struct prng		 rng;
	struct netaddr		 a, out[16];
	uint8_t			 ih[20];
	uint32_t		 i, j;

	prng_seed(&rng, 1);
	ihash(ih, 1);
	for (i = 1; i <= 8; i++) {
		a = lo(i, 6881);
		cr_assert(dht_store_announce(s, ih, &a, false, T0 + i));
	}
	cr_assert_eq(dht_store_npeers(s), 5);
	cr_assert_eq(dht_store_get(s, ih, T0 + 9, out, 16, &rng), 5);
	for (j = 0; j < 5; j++)
		cr_assert_geq(out[j].ip[3], 4, "old peer %u kept",
		    out[j].ip[3]);
	/* A refresh of the oldest saves it from the next newcomer. */
	a = lo(4, 6881);
	dht_store_announce(s, ih, &a, false, T0 + 10);
	a = lo(9, 6881);
	dht_store_announce(s, ih, &a, false, T0 + 11);
	cr_assert_eq(dht_store_get(s, ih, T0 + 12, out, 16, &rng), 5);
	for (j = 0; j < 5; j++)
		cr_assert_neq(out[j].ip[3], 5);
	dht_store_free(s);
}

Test(dht_store, hash_cap_drops_least_recently_announced)
{
	struct dht_store	*s = mk(10, 0, 0);
	struct prng		 rng;
	struct netaddr		 a = lo(1, 6881), out[1];
	uint8_t			 ih[20];
	uint32_t		 i;

	prng_seed(&rng, 1);
	for (i = 0; i < 10; i++) {
		ihash(ih, i);
		dht_store_announce(s, ih, &a, false, T0 + i);
	}
	ihash(ih, 0);			/* 0 announced again: 1 is stalest */
	dht_store_announce(s, ih, &a, false, T0 + 20);
	for (i = 10; i < 15; i++) {
		ihash(ih, i);
		dht_store_announce(s, ih, &a, false, T0 + 20 + i);
	}
	cr_assert_eq(dht_store_nhashes(s), 10);
	cr_assert_eq(dht_store_npeers(s), 10);
	for (i = 0; i < 15; i++) {
		ihash(ih, i);
		cr_assert_eq(dht_store_get(s, ih, T0 + 40, out, 1, &rng),
		    i == 0 || i >= 6, "info-hash %u", i);
	}
	dht_store_free(s);
}

Test(dht_store, peer_cap_drops_least_recently_announced_hash)
{
	struct dht_store	*s = mk(0, 20, 10);
	struct prng		 rng;
	struct netaddr		 a, out[10];
	uint8_t			 ih[20];
	uint32_t		 h, i;

	prng_seed(&rng, 1);
	for (h = 0; h < 3; h++) {
		ihash(ih, h);
		for (i = 0; i < 10; i++) {
			a = lo(i + 1, 6881);
			dht_store_announce(s, ih, &a, false, T0 + h);
		}
	}
	cr_assert_eq(dht_store_npeers(s), 20);
	cr_assert_eq(dht_store_nhashes(s), 2);
	ihash(ih, 0);
	cr_assert_eq(dht_store_get(s, ih, T0 + 3, out, 10, &rng), 0);
	ihash(ih, 2);
	cr_assert_eq(dht_store_get(s, ih, T0 + 3, out, 10, &rng), 10);
	dht_store_free(s);
}

Test(dht_store, table_agrees_with_a_model_under_churn)
{
	struct dht_store	*s = mk(64, 0, 0);
	struct prng		 rng, r2;
	struct netaddr		 a = lo(1, 6881), out[1];
	uint8_t			 ih[20];
	uint64_t		 last[300], now;
	uint32_t		 i, j, n, rank;

	prng_seed(&rng, 9);
	prng_seed(&r2, 10);
	memset(last, 0, sizeof(last));
	for (now = 1; now <= 30000; now++) {
		n = (uint32_t)prng_below(&rng, nitems(last));
		ihash(ih, n);
		dht_store_announce(s, ih, &a, false, T0 + now);
		last[n] = now;
		if (now % 1000 != 0)
			continue;
		cr_assert_eq(dht_store_nhashes(s), 64);
		/* Kept: the 64 most recently announced. */
		for (i = 0; i < nitems(last); i++) {
			for (j = rank = 0; j < nitems(last); j++)
				rank += last[j] > last[i];
			ihash(ih, i);
			cr_assert_eq(dht_store_get(s, ih, T0 + now, out, 1,
			    &r2), last[i] != 0 && rank < 64,
			    "info-hash %u at %llu", i, (unsigned long long)now);
		}
	}
	dht_store_free(s);
}

Test(dht_store, unknown_family_refused)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 ih[20];

	ihash(ih, 1);
	a.family = 0;
	cr_assert_not(dht_store_announce(s, ih, &a, false, T0));
	cr_assert_not(dht_store_rate_ok(s, &a, T0));
	dht_store_free(s);
}

/* Memory with every cap reached, counted from the entries. */
static size_t
flood(struct dht_store *s, uint32_t from, uint32_t n, uint64_t now)
{
	struct netaddr	a;
	uint8_t		ih[20];
	uint32_t	i;

	for (i = from; i < from + n; i++) {
		ihash(ih, i);
		a = lo(i & 0xffffff, 6881);
		cr_assert(dht_store_announce(s, ih, &a, i & 1, now));
		cr_assert_leq(dht_store_nhashes(s), DHT_STORE_MAX_HASHES);
		cr_assert_leq(dht_store_npeers(s), DHT_STORE_MAX_PEERS);
	}
	return dht_store_memory(s);
}

Test(dht_store, flood_of_100000_hashes_stays_within_caps)
{
	struct dht_store	*s = dht_store_new(NULL, 7);
	struct prng		 rng;
	struct netaddr		 a = lo(77, 6881), out[4];
	uint8_t			 ih[20];
	size_t			 m1, m2, bound;
	uint32_t		 i;

	prng_seed(&rng, 1);
	m1 = flood(s, 0, 100000, T0);
	cr_assert_eq(dht_store_nhashes(s), DHT_STORE_MAX_HASHES);
	cr_assert_eq(dht_store_npeers(s), DHT_STORE_MAX_HASHES);
	m2 = flood(s, 100000, 100000, T0 + 1);
	cr_assert_eq(m1, m2, "memory grew from %zu to %zu", m1, m2);
	/* Entries: 10,000 info-hashes of one peer each, ~1 KiB each. */
	bound = 4 * 1024 * 1024;
	cr_assert_leq(m2, bound, "%zu bytes", m2);
	/* The most recent ones are kept, and a legitimate one still is. */
	ihash(ih, 199999);
	cr_assert_eq(dht_store_get(s, ih, T0 + 2, out, 4, &rng), 1);
	ihash(ih, 5);
	cr_assert_eq(dht_store_get(s, ih, T0 + 2, out, 4, &rng), 0);
	ihash(ih, 0xfffffff0);
	cr_assert(dht_store_announce(s, ih, &a, false, T0 + 3));
	cr_assert_eq(dht_store_get(s, ih, T0 + 3, out, 4, &rng), 1);
	/* Many peers per info-hash: the peer cap holds too. */
	for (i = 0; i < 300000; i++) {
		ihash(ih, i % 5000);
		a = lo(i & 0xffffff, 6881);
		dht_store_announce(s, ih, &a, false, T0 + 4);
		cr_assert_leq(dht_store_npeers(s), DHT_STORE_MAX_PEERS);
	}
	cr_assert_geq(dht_store_npeers(s),
	    DHT_STORE_MAX_PEERS - DHT_STORE_MAX_PER_HASH);
	m2 = dht_store_memory(s);
	bound = 12 * 1024 * 1024;
	cr_assert_leq(m2, bound, "%zu bytes", m2);
	/* Every peer expires; the memory stays for reuse, no more. */
	dht_store_expire(s, T0 + 4 + DHT_STORE_PEER_MS);
	cr_assert_eq(dht_store_npeers(s), 0);
	cr_assert_eq(dht_store_nhashes(s), 0);
	cr_assert_eq(dht_store_memory(s), m2);
	flood(s, 0, 100000, T0 + 2 * DHT_STORE_PEER_MS);
	cr_assert_eq(dht_store_memory(s), m2);
	dht_store_free(s);
}

Test(dht_store, random_subset)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct prng		 rng;
	struct netaddr		 a, out[10];
	uint8_t			 ih[20], seen[51];
	uint32_t		 i, j, k, differ = 0, first = 0;

	prng_seed(&rng, 3);
	ihash(ih, 1);
	for (i = 1; i <= 50; i++) {
		a = lo(i, 6881);
		dht_store_announce(s, ih, &a, false, T0);
	}
	memset(seen, 0, sizeof(seen));
	for (k = 0; k < 100; k++) {
		cr_assert_eq(dht_store_get(s, ih, T0, out, 10, &rng), 10);
		for (i = 0; i < 10; i++) {
			cr_assert(out[i].ip[3] >= 1 && out[i].ip[3] <= 50);
			seen[out[i].ip[3]] = 1;
			for (j = 0; j < i; j++)
				cr_assert_neq(out[i].ip[3], out[j].ip[3]);
		}
		if (k == 0)
			first = out[0].ip[3];
		else if (out[0].ip[3] != first)
			differ++;
	}
	for (i = 1; i <= 50; i++)
		cr_assert(seen[i], "peer %u never given", i);
	cr_assert_gt(differ, 50);
	dht_store_free(s);
}

Test(dht_store, get_by_family_and_noseed)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct prng		 rng;
	struct netaddr		 a, out[16];
	uint8_t			 ih[20];
	uint32_t		 i, k, seeds;

	prng_seed(&rng, 3);
	ihash(ih, 1);
	for (i = 1; i <= 6; i++) {
		a = lo(i, 6881);
		dht_store_announce(s, ih, &a, i > 3, T0);	/* 4-6 seed */
	}
	a = lo6(6881);
	dht_store_announce(s, ih, &a, false, T0);
	cr_assert_eq(dht_store_get(s, ih, T0, out, 16, &rng), 7);
	cr_assert_eq(dht_store_get_filter(s, ih, ADDR_V6, false, T0, out, 16,
	    &rng), 1);
	cr_assert(addr_eq(&out[0], &a));
	cr_assert_eq(dht_store_get_filter(s, ih, ADDR_V4, false, T0, out, 16,
	    &rng), 6);
	for (k = 0; k < 20; k++) {
		cr_assert_eq(dht_store_get_filter(s, ih, ADDR_V4, true, T0,
		    out, 4, &rng), 4);
		for (i = seeds = 0; i < 4; i++)
			seeds += out[i].ip[3] > 3;
		cr_assert_eq(seeds, 1);
		cr_assert_eq(dht_store_get_filter(s, ih, ADDR_V4, true, T0,
		    out, 2, &rng), 2);
		cr_assert(out[0].ip[3] <= 3 && out[1].ip[3] <= 3);
	}
	dht_store_free(s);
}

/* ---- BEP 33, BEP 51 ---- */

static const char bep33_vector[] =
    "F6C3F5EAA07FFD91BDE89F777F26FB2BFF37BDB8FB2BBAA2FD3DDDE7BACFFF75EE7CCBAE"
    "FE5EEDB1FBFAFF67F6ABFF5E43DDBCA3FD9B9FFDF4FFD3E9DFF12D1BDF59DB53DBE9FA5B"
    "7FF3B8FDFCDE1AFB8BEDD7BE2F3EE71EBBBFE93BCDEEFE148246C2BC5DBFF7E7EFDCF24F"
    "D8DC7ADFFD8FFFDFDDFFF7A4BBEEDF5CB95CE81FC7FCFF1FF4FFFFDFE5F7FDCBB7FD79B3"
    "FA1FC77BFE07FFF905B7B7FFC7FEFEFFE0B8370BB0CD3F5B7F2BD93FEB4386CFDD6F7FD5"
    "BFAF2E9EBFFFFEECD67ADBF7C67F17EFD5D75EBA6FFEBA7FFF47A91EB1BFBB53E8ABFB57"
    "62ABE8FF237279BFEFBFEEF5FFC5FEBFDFE5ADFFADFEE1FB737FFFFBFD9F6AEFFEEE76B6"
    "FD8F72EF";

/*
 * The one test with addresses outside loopback: BEP 33's own vector
 * (192.0.2.0/24 and 2001:db8::, documentation ranges), pure computation.
 */
Test(dht_store, bep33_test_vector)
{
	uint8_t		bloom[DHT_STORE_BLOOM_LEN], want[DHT_STORE_BLOOM_LEN];
	struct netaddr	a;
	double		est;
	unsigned	i, v;

	cr_assert_eq(strlen(bep33_vector), 2 * DHT_STORE_BLOOM_LEN);
	for (i = 0; i < DHT_STORE_BLOOM_LEN; i++) {
		cr_assert_eq(sscanf(bep33_vector + 2 * i, "%2x", &v), 1);
		want[i] = (uint8_t)v;
	}
	memset(bloom, 0, sizeof(bloom));
	memset(&a, 0, sizeof(a));
	a.family = ADDR_V4;
	a.ip[0] = 192;
	a.ip[2] = 2;
	for (i = 0; i < 256; i++) {
		a.ip[3] = (uint8_t)i;
		dht_store_bloom_add(bloom, &a);
	}
	memset(&a, 0, sizeof(a));
	a.family = ADDR_V6;
	a.ip[0] = 0x20;
	a.ip[1] = 0x01;
	a.ip[2] = 0x0d;
	a.ip[3] = 0xb8;
	for (i = 0; i <= 0x3e7; i++) {
		a.ip[14] = (uint8_t)(i >> 8);
		a.ip[15] = (uint8_t)i;
		dht_store_bloom_add(bloom, &a);
	}
	cr_assert_arr_eq(bloom, want, sizeof(want));
	est = dht_store_bloom_count(bloom);
	cr_assert(est > 1224.9307 && est < 1224.9309, "estimate %f", est);
}

Test(dht_store, bloom_count_edges)
{
	uint8_t		bloom[DHT_STORE_BLOOM_LEN];
	double		est;

	memset(bloom, 0, sizeof(bloom));
	est = dht_store_bloom_count(bloom);	/* BEP 33: c <= m - 1 */
	cr_assert(est >= 0 && est < 1, "estimate %f", est);
	memset(bloom, 0xff, sizeof(bloom));
	est = dht_store_bloom_count(bloom);
	cr_assert(est > 7000 && est < 9000, "estimate %f", est);
}

Test(dht_store, scrape_filters)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a;
	uint8_t			 ih[20], bs[DHT_STORE_BLOOM_LEN];
	uint8_t			 bp[DHT_STORE_BLOOM_LEN];
	uint8_t			 ws[DHT_STORE_BLOOM_LEN], wp[DHT_STORE_BLOOM_LEN];
	uint32_t		 i;

	ihash(ih, 1);
	cr_assert_not(dht_store_scrape(s, ih, T0, bs, bp));
	memset(ws, 0, sizeof(ws));
	memset(wp, 0, sizeof(wp));
	for (i = 1; i <= 5; i++) {
		a = lo(i, (uint16_t)(6000 + i));
		dht_store_announce(s, ih, &a, i <= 2, T0);
		a.port = 1;		/* the port is not in the filter */
		dht_store_bloom_add(i <= 2 ? ws : wp, &a);
	}
	a = lo6(6881);
	dht_store_announce(s, ih, &a, true, T0);
	dht_store_bloom_add(ws, &a);
	cr_assert(dht_store_scrape(s, ih, T0, bs, bp));
	cr_assert_arr_eq(bs, ws, sizeof(ws));
	cr_assert_arr_eq(bp, wp, sizeof(wp));
	cr_assert(dht_store_bloom_count(bs) > 2.5);
	cr_assert_not(dht_store_scrape(s, ih, T0 + DHT_STORE_PEER_MS, bs,
	    bp));
	dht_store_free(s);
}

Test(dht_store, samples)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct prng		 rng;
	struct netaddr		 a = lo(1, 6881);
	uint8_t			 ih[20], out[40][20];
	uint32_t		 i, j, k, n, seen[30];

	prng_seed(&rng, 5);
	cr_assert_eq(dht_store_samples(s, out, 10, &rng), 0);
	for (i = 0; i < 30; i++) {
		ihash(ih, i);
		dht_store_announce(s, ih, &a, false, T0);
	}
	cr_assert_eq(dht_store_samples(s, out, 40, &rng), 30);
	cr_assert_eq(dht_store_samples(s, out, 0, &rng), 0);
	memset(seen, 0, sizeof(seen));
	for (k = 0; k < 50; k++) {
		cr_assert_eq(dht_store_samples(s, out, 10, &rng), 10);
		for (i = 0; i < 10; i++) {
			n = (uint32_t)out[i][0] << 24 | (uint32_t)out[i][1] << 16 |
			    (uint32_t)out[i][2] << 8 | out[i][3];
			cr_assert_lt(n, 30);
			ihash(ih, n);
			cr_assert_arr_eq(out[i], ih, 20);
			seen[n]++;
			for (j = 0; j < i; j++)
				cr_assert(memcmp(out[i], out[j], 20) != 0);
		}
	}
	for (i = 0; i < 30; i++)
		cr_assert_gt(seen[i], 0, "info-hash %u never sampled", i);
	dht_store_free(s);
}

/* ---- query rates ---- */

Test(dht_store, one_ip_flooded_is_throttled_others_pass)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881), b = lo(2, 6881), c = lo6(1);
	uint32_t		 i, ok = 0;

	for (i = 0; i < 1000; i++)
		ok += dht_store_rate_ok(s, &a, T0);
	cr_assert_eq(ok, DHT_STORE_BURST);
	/* Another IP, or the same port-less IP in v6, still passes. */
	cr_assert(dht_store_rate_ok(s, &b, T0));
	cr_assert(dht_store_rate_ok(s, &c, T0));
	a.port = 1;
	cr_assert_not(dht_store_rate_ok(s, &a, T0));
	/* Refill: DHT_STORE_RATE a second. */
	for (i = ok = 0; i < 1000; i++)
		ok += dht_store_rate_ok(s, &a, T0 + 1000);
	cr_assert_eq(ok, DHT_STORE_RATE);
	/* A steady flood gets DHT_STORE_RATE a second, no more. */
	for (i = ok = 0; i < 10000; i++)
		ok += dht_store_rate_ok(s, &a, T0 + 1000 + i);
	cr_assert_leq(ok, DHT_STORE_RATE * 10 + 1);
	cr_assert_geq(ok, DHT_STORE_RATE * 10 - 1);
	/* Long quiet: the burst again, not more. */
	for (i = ok = 0; i < 1000; i++)
		ok += dht_store_rate_ok(s, &a, T0 + 10000000);
	cr_assert_eq(ok, DHT_STORE_BURST);
	dht_store_free(s);
}

Test(dht_store, million_source_ips_do_not_grow_memory)
{
	struct dht_store	*s = mk(0, 0, 0);
	struct netaddr		 a = lo(1, 6881), x;
	size_t			 m = dht_store_memory(s);
	uint32_t		 i, j, ok = 0;

	for (i = 0; i < 1000; i++)
		dht_store_rate_ok(s, &a, T0);
	for (i = 0; i < 1000000; i++) {
		x = lo(i + 2, 6881);
		ok += dht_store_rate_ok(s, &x, T0 + i / 1000);
		if (i % 1000 == 0)	/* the flooder goes on */
			for (j = 0; j < 100; j++)
				dht_store_rate_ok(s, &a, T0 + i / 1000);
	}
	cr_assert_eq(ok, 1000000);	/* each one new: its burst */
	cr_assert_eq(dht_store_memory(s), m);
	/* The flooder, seen all along, is still held to its rate. */
	for (i = ok = 0; i < 1000; i++)
		ok += dht_store_rate_ok(s, &a, T0 + 1000);
	cr_assert_leq(ok, DHT_STORE_RATE + 1);
	dht_store_free(s);
}
