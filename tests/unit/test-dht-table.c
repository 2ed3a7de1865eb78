/* test-dht-table.c - the DHT routing table, stepped with a fake clock */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "dht-table.h"
#include "util.h"

#define T0	1000000		/* the fake clock starts here (ms) */
#define PORT	6881

static const uint8_t	self[20] = {
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
};

/* 127.x.y.1 with x.y = i: a /24 of its own for each i. */
static struct netaddr
v4(unsigned i)
{
	struct netaddr	a;

	memset(&a, 0, sizeof(a));
	a.family = ADDR_V4;
	a.ip[0] = 127;
	a.ip[1] = (uint8_t)(i >> 8);
	a.ip[2] = (uint8_t)i;
	a.ip[3] = 1;
	a.port = PORT;
	return a;
}

/* 127.9.9.last: one /24 for all. */
static struct netaddr
v4_net(uint8_t last)
{
	struct netaddr	a = v4(0x0909);

	a.ip[3] = last;
	return a;
}

static unsigned
common(const uint8_t *a, const uint8_t *b)
{
	unsigned	i, n;

	for (i = 0; i < 160; i++) {
		n = 7 - i % 8;
		if (((a[i / 8] >> n) & 1) != ((b[i / 8] >> n) & 1))
			return i;
	}
	return 160;
}

/* An id sharing exactly c leading bits with ours, the rest from rng. */
static void
id_at(unsigned c, struct prng *rng, uint8_t id[20])
{
	unsigned	i, n;

	for (i = 0; i < 20; i++)
		id[i] = (uint8_t)prng_next(rng);
	for (i = 0; i <= c && i < 160; i++) {
		n = 7 - i % 8;
		id[i / 8] = (uint8_t)(id[i / 8] & ~(1u << n));
		if (i < c)
			id[i / 8] |= self[i / 8] & (1u << n);
		else
			id[i / 8] |= ~self[i / 8] & (1u << n);
	}
	cr_assert_eq(common(id, self), c);
}

static struct dht_table *
mk(void)
{
	struct dht_table_opts	o = { .family = ADDR_V4, .seed = 7,
	    .loopback_rules = true };

	memcpy(o.id, self, 20);
	return dht_table_new(&o, T0);
}

static bool
has(const struct dht_table *t, const uint8_t *id, uint64_t now)
{
	struct dht_table_node	v[DHT_TABLE_MAX_NODES];
	size_t			n, i;

	n = dht_table_closest(t, id, now, v, nitems(v));
	for (i = 0; i < n; i++)
		if (memcmp(v[i].id, id, 20) == 0)
			return true;
	return false;
}

static size_t
cached(const struct dht_table *t, size_t i)
{
	size_t	c;

	dht_table_bucket_count(t, i, &c);
	return c;
}

/* ---- insertion and splits ------------------------------------------------ */

Test(dht_table, splits_only_our_bucket)
{
	struct dht_table	*t = mk();
	struct prng		 rng;
	uint8_t			 id[20];
	unsigned		 c, k, ip = 0;
	size_t			 i, good, q;

	prng_seed(&rng, 1);
	/* 10 nodes at each distance 0..20: 8 in a bucket, 2 cached */
	for (c = 0; c <= 20; c++)
		for (k = 0; k < 10; k++) {
			struct netaddr a = v4(ip++);

			id_at(c, &rng, id);
			cr_assert_eq(dht_table_on_response(t, id, &a, T0),
			    k < 8, "c %u k %u", c, k);
		}
	cr_assert_eq(dht_table_nbuckets(t), 22);
	for (i = 0; i <= 20; i++) {
		cr_assert_eq(dht_table_bucket_count(t, i, NULL), 8);
		cr_assert_eq(cached(t, i), 2);
	}
	cr_assert_eq(dht_table_bucket_count(t, 21, NULL), 0);
	cr_assert_eq(dht_table_count(t, T0, &good, &q), 21 * 8);
	cr_assert_eq(good, 21 * 8);
	cr_assert_eq(q, 0);
	/* good, then questionable after 15 minutes of silence */
	dht_table_count(t, T0 + DHT_TABLE_GOOD_MS, &good, &q);
	cr_assert_eq(good, 0);
	cr_assert_eq(q, 21 * 8);
	dht_table_free(t);
}

Test(dht_table, never_over_the_cap)
{
	struct dht_table	*t = mk();
	struct prng		 rng;
	uint8_t			 id[20];
	unsigned		 c, k, ip = 0;
	size_t			 i, total = 0, tc = 0;

	prng_seed(&rng, 2);
	for (c = 0; c < 160; c++)
		for (k = 0; k < 20; k++) {
			struct netaddr a = v4(ip++);

			id_at(c, &rng, id);
			if (k % 2)
				dht_table_on_query(t, id, &a, T0 + k);
			else
				dht_table_on_response(t, id, &a, T0 + k);
		}
	/* and random ones */
	for (k = 0; k < 20000; k++) {
		struct netaddr a = v4(ip++ & 0xffff);

		for (i = 0; i < 20; i++)
			id[i] = (uint8_t)prng_next(&rng);
		if (k % 3 == 0)
			dht_table_on_query(t, id, &a, T0 + k);
		else if (k % 3 == 1)
			dht_table_on_response(t, id, &a, T0 + k);
		else
			dht_table_on_timeout(t, id, &a, T0 + k);
	}
	cr_assert_leq(dht_table_nbuckets(t), DHT_TABLE_MAX_BUCKETS);
	for (i = 0; i < dht_table_nbuckets(t); i++) {
		cr_assert_leq(dht_table_bucket_count(t, i, NULL), DHT_TABLE_K);
		cr_assert_leq(cached(t, i), DHT_TABLE_REPL);
		total += dht_table_bucket_count(t, i, NULL);
		tc += cached(t, i);
	}
	cr_assert_eq(total, dht_table_count(t, T0, NULL, NULL));
	cr_assert_leq(total + tc, DHT_TABLE_MAX_NODES);
	cr_assert_eq(dht_table_nbuckets(t), 160);
	dht_table_free(t);
}

/* ---- safety -------------------------------------------------------------- */

Test(dht_table, refuses_undialable_and_ourselves)
{
	struct dht_table	*t = mk();
	struct netaddr		 a;
	uint8_t			 id[20] = { 0xaa };

	a = v4(1);
	a.port = 0;
	cr_assert(!dht_table_on_response(t, id, &a, T0));
	a = v4(1);
	memset(a.ip, 0, 4);				/* 0.0.0.0 */
	cr_assert(!dht_table_on_response(t, id, &a, T0));
	a.ip[0] = 224;					/* multicast */
	cr_assert(!dht_table_on_response(t, id, &a, T0));
	memset(a.ip, 255, 4);				/* broadcast */
	cr_assert(!dht_table_on_response(t, id, &a, T0));
	a = v4(1);
	cr_assert(!dht_table_on_response(t, self, &a, T0));	/* ourselves */
	memset(&a, 0, sizeof(a));			/* ::1 in a v4 table */
	a.family = ADDR_V6;
	a.ip[15] = 1;
	a.port = PORT;
	cr_assert(!dht_table_on_response(t, id, &a, T0));
	dht_table_on_query(t, id, &a, T0);
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 0);
	cr_assert_eq(cached(t, 0), 0);
	/* ::ffff:127.0.1.1 is 127.0.1.1 */
	a.ip[15] = 1;
	a.ip[14] = 1;
	a.ip[12] = 127;
	a.ip[10] = a.ip[11] = 0xff;
	cr_assert(dht_table_on_response(t, id, &a, T0));
	a = v4(1);
	cr_assert(has(t, id, T0));
	dht_table_free(t);
}

Test(dht_table, v6_table)
{
	struct dht_table_opts	 o = { .family = ADDR_V6, .seed = 7,
	    .loopback_rules = true };
	struct dht_table	*t;
	struct dht_table_node	 v[4];
	struct netaddr		 a;
	uint8_t			 id[20] = { 0xaa }, id2[20] = { 0xbb };

	memcpy(o.id, self, 20);
	t = dht_table_new(&o, T0);
	a = v4(1);
	cr_assert(!dht_table_on_response(t, id, &a, T0));
	memset(&a, 0, sizeof(a));
	a.family = ADDR_V6;
	a.ip[15] = 1;
	a.port = PORT;
	cr_assert(dht_table_on_response(t, id, &a, T0));
	a.port = PORT + 1;		/* one entry per IP */
	cr_assert(!dht_table_on_response(t, id2, &a, T0));
	cr_assert_eq(dht_table_closest(t, id, T0, v, 4), 1);
	cr_assert_eq(v[0].a.family, ADDR_V6);
	cr_assert_eq(v[0].a.port, PORT);
	dht_table_free(t);
}

Test(dht_table, one_entry_per_ip)
{
	struct dht_table	*t = mk();
	struct netaddr		 a = v4(5), b;
	uint8_t			 A[20] = { 0xa0 }, B[20] = { 0xb0 },
				 C[20] = { 0xc0 };
	unsigned		 i;

	cr_assert(dht_table_on_response(t, A, &a, T0));
	b = a;
	b.port = PORT + 1;
	cr_assert(!dht_table_on_response(t, B, &b, T0));	/* other port */
	dht_table_on_query(t, B, &b, T0);
	dht_table_on_query(t, B, &a, T0);			/* other id */
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 1);
	cr_assert_eq(cached(t, 0), 0);
	cr_assert(has(t, A, T0));
	cr_assert(!has(t, B, T0));
	/* a new id answering from the same IP and port: the old is gone */
	cr_assert(dht_table_on_response(t, C, &a, T0 + 1));
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 1);
	cr_assert(has(t, C, T0));
	cr_assert(!has(t, A, T0));
	/* another port of a bad node's IP may take its place */
	dht_table_on_timeout(t, C, &a, T0 + 2);
	dht_table_on_timeout(t, C, &a, T0 + 3);
	cr_assert(!dht_table_on_response(t, B, &b, T0 + 4));
	dht_table_on_timeout(t, C, &a, T0 + 5);
	cr_assert(dht_table_on_response(t, B, &b, T0 + 6));
	cr_assert(has(t, B, T0 + 6));
	cr_assert(!has(t, C, T0 + 6));
	/* 5,000 ids from one IP: one entry still */
	for (i = 0; i < 5000; i++) {
		b.port = (uint16_t)(1000 + i % 50);
		store_be32(C, (uint32_t)i);
		if (i % 2)
			dht_table_on_query(t, C, &b, T0 + 10 + i);
		else
			dht_table_on_response(t, C, &b, T0 + 10 + i);
	}
	cr_assert_leq(dht_table_count(t, T0, NULL, NULL), 1);
	cr_assert_eq(cached(t, 0), 0);
	dht_table_free(t);
}

Test(dht_table, two_per_subnet_and_bucket)
{
	struct dht_table	*t = mk();
	struct dht_table_opts	 o = { .family = ADDR_V4, .subnet_max = 8,
	    .loopback_rules = true };
	struct prng		 rng;
	struct netaddr		 a;
	uint8_t			 id[20];
	unsigned		 i;

	prng_seed(&rng, 3);
	for (i = 0; i < 5; i++) {
		a = v4_net((uint8_t)(i + 1));
		id_at(0, &rng, id);
		cr_assert_eq(dht_table_on_response(t, id, &a, T0), i < 2);
		dht_table_on_query(t, id, &a, T0);	/* nor the cache */
	}
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 2);
	cr_assert_eq(cached(t, 0), 0);
	/* another bucket takes two more of that /24 */
	id_at(0, &rng, id);
	a = v4(100);
	cr_assert(dht_table_on_response(t, id, &a, T0));	/* splits */
	for (i = 0; i < 7; i++) {
		a = v4(200 + i);
		id_at(0, &rng, id);
		dht_table_on_response(t, id, &a, T0);
	}
	cr_assert_eq(dht_table_nbuckets(t), 2);
	for (i = 0; i < 3; i++) {
		a = v4_net((uint8_t)(i + 10));
		id_at(1, &rng, id);
		cr_assert_eq(dht_table_on_response(t, id, &a, T0), i < 2);
	}
	dht_table_free(t);

	/* the cap is the caller's to raise (a loopback DHT) */
	memcpy(o.id, self, 20);
	t = dht_table_new(&o, T0);
	for (i = 0; i < 8; i++) {
		a = v4_net((uint8_t)(i + 1));
		id_at(0, &rng, id);
		cr_assert(dht_table_on_response(t, id, &a, T0));
	}
	dht_table_free(t);
}

/* ---- states and replacement ---------------------------------------------- */

/* Bucket 0 full of 8 far good nodes answering at T0, and split. */
static struct dht_table *
mk_full(uint8_t ids[8][20], struct prng *rng)
{
	struct dht_table	*t = mk();
	struct netaddr		 a;
	uint8_t			 near[20];
	unsigned		 i;

	for (i = 0; i < 8; i++) {
		a = v4(i + 1);
		id_at(0, rng, ids[i]);
		cr_assert(dht_table_on_response(t, ids[i], &a, T0 + i));
	}
	a = v4(50);
	id_at(1, rng, near);
	cr_assert(dht_table_on_response(t, near, &a, T0 + 8));	/* splits */
	cr_assert_eq(dht_table_nbuckets(t), 2);
	cr_assert_eq(dht_table_bucket_count(t, 0, NULL), 8);
	return t;
}

Test(dht_table, bad_after_timeouts)
{
	struct dht_table	*t = mk();
	struct dht_table_node	 v[2];
	struct netaddr		 a = v4(1);
	uint8_t			 id[20] = { 0x11 };
	size_t			 good, q, i;

	cr_assert(dht_table_on_response(t, id, &a, T0));
	for (i = 0; i < DHT_TABLE_MAX_FAILS; i++) {
		dht_table_count(t, T0, &good, &q);
		cr_assert_eq(good, i == 0);
		cr_assert_eq(q, i > 0);
		dht_table_on_timeout(t, id, &a, T0 + i);
	}
	cr_assert_eq(dht_table_count(t, T0, &good, &q), 1);
	cr_assert_eq(good + q, 0);
	cr_assert_eq(dht_table_closest(t, id, T0, v, 2), 0);
	/* an answer brings it back */
	cr_assert(dht_table_on_response(t, id, &a, T0 + 10));
	dht_table_count(t, T0 + 10, &good, &q);
	cr_assert_eq(good, 1);
	/* a timeout for another id or port changes nothing */
	a.port++;
	dht_table_on_timeout(t, id, &a, T0 + 11);
	a.port--;
	id[0] ^= 1;
	dht_table_on_timeout(t, id, &a, T0 + 11);
	dht_table_count(t, T0 + 11, &good, &q);
	cr_assert_eq(good, 1);
	dht_table_free(t);
}

Test(dht_table, questionable_pinged_and_replaced)
{
	struct prng		 rng;
	uint8_t			 ids[8][20], nw[20], nw2[20], target[20];
	struct dht_table	*t;
	struct dht_table_node	 p, p2;
	struct netaddr		 a = v4(60), a2 = v4(61);
	uint64_t		 now;

	prng_seed(&rng, 4);
	t = mk_full(ids, &rng);
	id_at(0, &rng, nw);
	id_at(0, &rng, nw2);
	cr_assert(!dht_table_on_response(t, nw, &a, T0 + 100));
	cr_assert(!dht_table_on_response(t, nw2, &a2, T0 + 101));
	cr_assert_eq(cached(t, 0), 2);
	/* all good: nobody to ping until the first turns questionable */
	cr_assert(!dht_table_next_ping(t, T0 + 100, &p));
	cr_assert_eq(dht_table_deadline(t), T0 + DHT_TABLE_GOOD_MS);
	now = T0 + DHT_TABLE_GOOD_MS;
	cr_assert(dht_table_next_ping(t, now, &p));
	cr_assert_arr_eq(p.id, ids[0], 20);		/* the oldest */
	cr_assert_eq(p.state, DHT_TABLE_QUESTIONABLE);
	/* one ping at a time in a bucket */
	cr_assert(!dht_table_next_ping(t, now + 7, &p2));
	/* it answers: good again, the next is pinged */
	cr_assert(dht_table_on_response(t, p.id, &p.a, now + 10));
	cr_assert(dht_table_next_ping(t, now + 10, &p2));
	cr_assert_arr_eq(p2.id, ids[1], 20);
	/* it does not: the newest newcomer takes its place at once */
	dht_table_on_timeout(t, p2.id, &p2.a, now + 20);
	cr_assert(!has(t, ids[1], now + 20));
	cr_assert(has(t, nw2, now + 20));
	cr_assert_eq(dht_table_bucket_count(t, 0, NULL), 8);
	cr_assert_eq(cached(t, 0), 1);
	/* and again for the other */
	cr_assert(dht_table_next_ping(t, now + 30, &p2));
	cr_assert_arr_eq(p2.id, ids[2], 20);
	/* a lost ping (no report): the next one after the gap */
	cr_assert(!dht_table_next_ping(t, now + 31, &p));
	while (dht_table_next_refresh(t, now + 31, target))
		;
	cr_assert_eq(dht_table_deadline(t), now + 30 + DHT_TABLE_PING_GAP_MS);
	cr_assert(dht_table_next_ping(t, now + 30 + DHT_TABLE_PING_GAP_MS,
	    &p));
	cr_assert_arr_eq(p.id, ids[2], 20);	/* asked again */
	dht_table_on_timeout(t, p.id, &p.a, now + 40 + DHT_TABLE_PING_GAP_MS);
	cr_assert(has(t, nw, now + 50 + DHT_TABLE_PING_GAP_MS));
	cr_assert_eq(cached(t, 0), 0);
	dht_table_free(t);
}

Test(dht_table, bad_replaced_at_once)
{
	struct prng		 rng;
	uint8_t			 ids[8][20], nw[20];
	struct dht_table	*t;
	struct netaddr		 a = v4(60), b = v4(3);
	unsigned		 i;

	prng_seed(&rng, 5);
	t = mk_full(ids, &rng);
	for (i = 0; i < DHT_TABLE_MAX_FAILS; i++)
		dht_table_on_timeout(t, ids[2], &b, T0 + 10 + i);
	id_at(0, &rng, nw);
	cr_assert(dht_table_on_response(t, nw, &a, T0 + 20));
	cr_assert(!has(t, ids[2], T0 + 20));
	cr_assert(has(t, nw, T0 + 20));
	cr_assert_eq(dht_table_bucket_count(t, 0, NULL), 8);
	dht_table_free(t);
}

Test(dht_table, queries_never_displace)
{
	struct prng		 rng;
	uint8_t			 ids[8][20], q[20][20];
	struct dht_table	*t;
	struct dht_table_node	 p;
	struct netaddr		 a;
	uint64_t		 now = T0 + 2 * DHT_TABLE_GOOD_MS;
	unsigned		 i;

	prng_seed(&rng, 6);
	t = mk_full(ids, &rng);
	for (i = 0; i < 20; i++) {
		a = v4(100 + i);
		id_at(0, &rng, q[i]);
		dht_table_on_query(t, q[i], &a, now + i);
	}
	cr_assert_eq(dht_table_bucket_count(t, 0, NULL), 8);
	cr_assert_eq(cached(t, 0), DHT_TABLE_REPL);
	for (i = 0; i < 20; i++)
		cr_assert(!has(t, q[i], now + 100));
	/* questionable nodes: not pinged for unverified newcomers */
	cr_assert(!dht_table_next_ping(t, now + 100, &p));
	/* a timeout does not let an unverified node in either */
	a = v4(1);
	dht_table_on_timeout(t, ids[0], &a, now + 101);
	cr_assert(has(t, ids[0], now + 101));
	/* a bad node makes room: an unverified node is pinged to fill it */
	dht_table_on_timeout(t, ids[0], &a, now + 102);
	dht_table_on_timeout(t, ids[0], &a, now + 103);
	cr_assert(dht_table_next_ping(t, now + 104, &p));
	cr_assert_arr_eq(p.id, q[19], 20);	/* the latest heard from */
	cr_assert(dht_table_on_response(t, p.id, &p.a, now + 105));
	cr_assert(has(t, p.id, now + 105));
	cr_assert(!has(t, ids[0], now + 105));
	dht_table_free(t);
}

Test(dht_table, query_refreshes_good)
{
	struct dht_table	*t = mk();
	struct netaddr		 a = v4(1), b = v4(2);
	uint8_t			 id[20] = { 0x11 }, id2[20] = { 0x22 };
	size_t			 good, q;

	cr_assert(dht_table_on_response(t, id, &a, T0));
	dht_table_on_query(t, id, &a, T0 + DHT_TABLE_GOOD_MS - 1);
	dht_table_count(t, T0 + DHT_TABLE_GOOD_MS + 10, &good, &q);
	cr_assert_eq(good, 1);
	/* a query alone: cached, pinged, enters when it answers */
	dht_table_on_query(t, id2, &b, T0);
	cr_assert_eq(cached(t, 0), 1);
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 1);
	dht_table_free(t);
}

Test(dht_table, unverified_pinged_when_room)
{
	struct dht_table	*t = mk();
	struct dht_table_node	 p;
	struct netaddr		 a = v4(1);
	uint8_t			 id[20] = { 0x11 };

	dht_table_on_query(t, id, &a, T0);
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 0);
	cr_assert_eq(dht_table_deadline(t), 0);
	cr_assert(dht_table_next_ping(t, T0, &p));
	cr_assert_arr_eq(p.id, id, 20);
	cr_assert(!dht_table_next_ping(t, T0 + 1, &p));
	/* lost: dropped from the cache */
	dht_table_on_timeout(t, id, &a, T0 + 2);
	cr_assert_eq(cached(t, 0), 0);
	dht_table_on_query(t, id, &a, T0 + 3);
	cr_assert(dht_table_next_ping(t, T0 + 3, &p));
	cr_assert(dht_table_on_response(t, id, &a, T0 + 4));
	cr_assert_eq(cached(t, 0), 0);
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 1);
	dht_table_free(t);
}

/* ---- closest ------------------------------------------------------------- */

static const uint8_t	*sort_target;

static int
brute_cmp(const void *x, const void *y)
{
	const struct dht_table_node	*a = x, *b = y;
	int				 i, da, db;

	if ((a->state == DHT_TABLE_GOOD) != (b->state == DHT_TABLE_GOOD))
		return a->state == DHT_TABLE_GOOD ? -1 : 1;
	for (i = 0; i < 20; i++) {
		da = a->id[i] ^ sort_target[i];
		db = b->id[i] ^ sort_target[i];
		if (da != db)
			return da - db;
	}
	return 0;
}

static int
dist_cmp(const void *x, const void *y)
{
	const struct dht_table_node	*a = x, *b = y;
	int				 i, da, db;

	for (i = 0; i < 20; i++) {
		da = a->id[i] ^ sort_target[i];
		db = b->id[i] ^ sort_target[i];
		if (da != db)
			return da - db;
	}
	return 0;
}

Test(dht_table, closest_against_brute_force)
{
	static struct dht_table_node	all[DHT_TABLE_MAX_NODES],
					want[DHT_TABLE_MAX_NODES];
	struct dht_table		*t = mk();
	struct dht_table_node		 got[16];
	struct prng			 rng;
	struct netaddr			 a;
	uint8_t				 id[20], target[20];
	size_t				 n, m, i, k, good, q, ngood;
	uint64_t			 now = T0 + DHT_TABLE_GOOD_MS / 2;

	prng_seed(&rng, 8);
	for (i = 0; i < 600; i++) {
		a = v4((unsigned)i);
		id_at((unsigned)prng_below(&rng, 12), &rng, id);
		/* a third answer late (good), the others early */
		dht_table_on_response(t, id, &a, i % 3 ? T0 : now);
		if (i % 7 == 0)		/* some bad */
			for (k = 0; k < DHT_TABLE_MAX_FAILS; k++)
				dht_table_on_timeout(t, id, &a, now);
	}
	now += DHT_TABLE_GOOD_MS / 2 + 1;
	n = dht_table_closest(t, self, now, all, nitems(all));
	cr_assert_eq(dht_table_count(t, now, &good, &q) >= n, true);
	cr_assert_eq(n, good + q);
	cr_assert_gt(good, 10);
	cr_assert_gt(q, 10);
	for (i = 0, ngood = 0; i < n; i++) {
		cr_assert_neq(all[i].state, DHT_TABLE_BAD);
		ngood += all[i].state == DHT_TABLE_GOOD;
	}
	cr_assert_eq(ngood, good);
	for (k = 0; k < 200; k++) {
		for (i = 0; i < 20; i++)
			target[i] = (uint8_t)prng_next(&rng);
		if (k % 2)
			memcpy(target, self, 1 + k % 19);
		sort_target = target;
		memcpy(want, all, n * sizeof(*all));
		qsort(want, n, sizeof(*want), brute_cmp);
		m = MIN(n, k % 16 + 1);
		qsort(want, m, sizeof(*want), dist_cmp);
		cr_assert_eq(dht_table_closest(t, target, now, got, m), m);
		for (i = 0; i < m; i++)
			cr_assert_arr_eq(got[i].id, want[i].id, 20,
			    "target %zu place %zu", k, i);
	}
	dht_table_free(t);
}

/* ---- refresh ------------------------------------------------------------- */

Test(dht_table, refresh_deadlines)
{
	struct dht_table	*t = mk();
	struct prng		 rng;
	struct netaddr		 a;
	uint8_t			 id[20], id1[20], target[20];
	unsigned		 c, k, ip = 0, seen = 0;
	struct netaddr		 a1;
	uint64_t		 now;

	cr_assert_eq(dht_table_deadline(t), T0 + DHT_TABLE_REFRESH_MS);
	cr_assert(!dht_table_next_refresh(t, T0 + DHT_TABLE_REFRESH_MS - 1,
	    target));
	cr_assert(dht_table_next_refresh(t, T0 + DHT_TABLE_REFRESH_MS,
	    target));
	cr_assert(!dht_table_next_refresh(t, T0 + DHT_TABLE_REFRESH_MS,
	    target));
	cr_assert_eq(dht_table_deadline(t), T0 + 2 * DHT_TABLE_REFRESH_MS);

	/* three buckets: 0 and 1 full, 2 (ours) with one node */
	prng_seed(&rng, 9);
	now = T0 + 3 * DHT_TABLE_REFRESH_MS;
	for (c = 0; c < 3; c++)
		for (k = 0; k < (c < 2 ? 8u : 1u); k++) {
			a = v4(ip++);
			id_at(c + (c == 2) * 5, &rng, id);
			dht_table_on_response(t, id, &a, now);
			if (c == 1) {
				memcpy(id1, id, 20);
				a1 = a;
			}
		}
	cr_assert_eq(dht_table_nbuckets(t), 3);
	cr_assert_eq(dht_table_deadline(t), now + DHT_TABLE_REFRESH_MS);
	/* bucket 1 hears from a node later: refreshed later */
	dht_table_on_response(t, id1, &a1, now + 1000);
	now += DHT_TABLE_REFRESH_MS;
	while (dht_table_next_refresh(t, now, target)) {
		c = 0;
		while (c < 160 && ((target[c / 8] ^ self[c / 8]) &
		    (0x80 >> (c % 8))) == 0)
			c++;
		/* in bucket 0, 1, or at 2 bits or more for the last */
		seen |= 1u << MIN(c, 2);
	}
	cr_assert_eq(seen, 0x1 | 0x4);
	cr_assert_eq(dht_table_deadline(t), now + 1000);
	cr_assert(dht_table_next_refresh(t, now + 1000, target));
	cr_assert_eq(common(target, self), 1);
	dht_table_free(t);
}

/* ---- persistence --------------------------------------------------------- */

Test(dht_table, export_import)
{
	static struct dht_table_node	v[DHT_TABLE_MAX_NODES];
	struct dht_table		*t = mk(), *u;
	struct dht_table_node		 p;
	struct prng			 rng;
	struct netaddr			 a;
	uint8_t				 id[20];
	size_t				 n, i, good, q, pinged = 0;
	uint64_t			 now = T0 + 5000;

	prng_seed(&rng, 10);
	for (i = 0; i < 40; i++) {
		a = v4((unsigned)i);
		id_at((unsigned)(i % 5), &rng, id);
		dht_table_on_response(t, id, &a, T0);
	}
	for (i = 0; i < DHT_TABLE_MAX_FAILS; i++)	/* not exported */
		dht_table_on_timeout(t, id, &a, T0 + 1);
	dht_table_count(t, T0 + 1, &good, &q);
	n = dht_table_export(t, T0 + 1, v, nitems(v));
	cr_assert_eq(n, good);
	cr_assert_eq(dht_table_export(t, T0 + 1, v, 3), 3);
	n = dht_table_export(t, T0 + 1, v, nitems(v));
	v[n] = v[0];			/* a duplicate */
	v[n + 1] = v[1];
	v[n + 1].a.port = 0;		/* undialable */

	u = mk();
	cr_assert_eq(dht_table_import(u, v, n + 2, now), n);
	dht_table_count(u, now, &good, &q);
	cr_assert_eq(good, 0);
	cr_assert_eq(q, n);
	/* each is pinged once, then not before the gap */
	while (dht_table_next_ping(u, now, &p)) {
		cr_assert(has(u, p.id, now));
		pinged++;
		cr_assert_leq(pinged, n);
		if (pinged % 2)
			dht_table_on_response(u, p.id, &p.a, now + 1);
		else
			dht_table_on_timeout(u, p.id, &p.a, now + 1);
	}
	cr_assert_eq(pinged, n);
	cr_assert_eq(dht_table_deadline(u), now + DHT_TABLE_PING_GAP_MS);
	dht_table_count(u, now + 1, &good, &q);
	cr_assert_eq(good, (n + 1) / 2);
	dht_table_free(t);
	dht_table_free(u);
}

/* ---- BEP 42 -------------------------------------------------------------- */

Test(dht_table, crc32c)
{
	cr_assert_eq(dht_table_crc32c("123456789", 9), 0xe3069283);
	cr_assert_eq(dht_table_crc32c("", 0), 0);
}

/* The examples of BEP 42 (no traffic: a pure function's test data). */
static const struct {
	uint8_t		ip[4];
	uint8_t		r;
	const char	*id;
} bep42[] = {
	{ { 124, 31, 75, 21 }, 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401" },
	{ { 21, 75, 31, 124 }, 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256" },
	{ { 65, 23, 51, 170 }, 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616" },
	{ { 84, 124, 73, 14 }, 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41" },
	{ { 43, 213, 53, 83 }, 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a" },
};

Test(dht_table, bep42_vectors)
{
	struct netaddr	a;
	struct prng	rng;
	uint8_t		id[20], mine[20];
	size_t		i;

	prng_seed(&rng, 11);
	for (i = 0; i < nitems(bep42); i++) {
		memset(&a, 0, sizeof(a));
		a.family = ADDR_V4;
		memcpy(a.ip, bep42[i].ip, 4);
		cr_assert_eq(hex_decode(id, bep42[i].id, 20), 0);
		cr_assert_eq(id[19], bep42[i].r);
		cr_assert(dht_table_id_valid(id, &a), "vector %zu", i);
		dht_table_make_id(&a, bep42[i].r, mine, &rng);
		cr_assert_eq(mine[0], id[0]);
		cr_assert_eq(mine[1], id[1]);
		cr_assert_eq(mine[2] & 0xf8, id[2] & 0xf8);
		cr_assert_eq(mine[19], bep42[i].r);
		cr_assert(dht_table_id_valid(mine, &a));
		/* the 21st bit, another r, another address: invalid */
		id[2] ^= 0x08;
		cr_assert(!dht_table_id_valid(id, &a));
		id[2] ^= 0x08;
		id[19] ^= 1;
		cr_assert(!dht_table_id_valid(id, &a));
		id[19] ^= 1;
		a.ip[3] ^= 1;
		cr_assert(!dht_table_id_valid(id, &a));
	}
}

Test(dht_table, bep42_local_exempt)
{
	struct netaddr	a;
	uint8_t		id[20] = { 0x12, 0x34 };
	struct prng	rng;

	a = v4(1);
	cr_assert(dht_table_id_valid(id, &a));
	memset(&a, 0, sizeof(a));
	a.family = ADDR_V6;
	a.ip[15] = 1;
	cr_assert(dht_table_id_valid(id, &a));
	/* make_id on loopback still follows BEP 42's formula */
	prng_seed(&rng, 12);
	dht_table_make_id(&a, 3, id, &rng);
	cr_assert_eq(id[19], 3);
	dht_table_make_id(NULL, 5, id, &rng);
	cr_assert_eq(id[19], 5);
}

Test(dht_table, loopback_is_one_entry_per_port_without_subnet_cap)
{
	struct dht_table_opts	 o = { .family = ADDR_V4, .seed = 7 };
	struct dht_table	*t;
	struct prng		 rng;
	struct netaddr		 a;
	uint8_t			 id[20];
	unsigned		 i;

	memcpy(o.id, self, 20);
	t = dht_table_new(&o, T0);
	prng_seed(&rng, 3);
	/* eight nodes on one IP, ports apart, in the farthest bucket */
	for (i = 0; i < 8; i++) {
		id_at(0, &rng, id);
		a = v4_net(1);
		a.port = (uint16_t)(PORT + i);
		cr_assert(dht_table_on_response(t, id, &a, T0));
		cr_assert(dht_table_verified(t, &a));
	}
	cr_assert_eq(dht_table_count(t, T0, NULL, NULL), 8);
	a.port = PORT + 100;
	cr_assert_not(dht_table_verified(t, &a));
	dht_table_free(t);
}

Test(dht_table, verified_needs_an_answer_from_that_port)
{
	struct dht_table	*t = mk();
	struct prng		 rng;
	struct netaddr		 a = v4(1), b;
	uint8_t			 id[20];

	prng_seed(&rng, 4);
	id_at(0, &rng, id);
	dht_table_on_query(t, id, &a, T0);
	cr_assert_not(dht_table_verified(t, &a), "a query verifies nothing");
	cr_assert(dht_table_on_response(t, id, &a, T0));
	cr_assert(dht_table_verified(t, &a));
	b = a;
	b.port = PORT + 1;
	cr_assert_not(dht_table_verified(t, &b));
	b = v4(2);
	cr_assert_not(dht_table_verified(t, &b));
	dht_table_free(t);
}

Test(dht_table, a_querier_near_us_is_pinged_and_splits_our_full_bucket)
{
	struct dht_table	*t = mk();
	struct dht_table_node	 n;
	struct prng		 rng;
	struct netaddr		 a;
	uint8_t			 id[20];
	unsigned		 i;

	prng_seed(&rng, 9);
	/* our one bucket, full of far nodes */
	for (i = 0; i < DHT_TABLE_K; i++) {
		id_at(0, &rng, id);
		a = v4(10 + i);
		cr_assert(dht_table_on_response(t, id, &a, T0));
	}
	cr_assert_eq(dht_table_nbuckets(t), 1);
	/* a node close to us only queries: it waits in the cache ... */
	id_at(12, &rng, id);
	a = v4(99);
	dht_table_on_query(t, id, &a, T0 + 1);
	cr_assert_not(has(t, id, T0 + 1));
	/* ... is pinged (a split makes room for it) ... */
	cr_assert(dht_table_next_ping(t, T0 + 2, &n));
	cr_assert_arr_eq(n.id, id, 20);
	/* ... and enters when it answers */
	cr_assert(dht_table_on_response(t, id, &a, T0 + 3));
	cr_assert(has(t, id, T0 + 3));
	cr_assert_gt(dht_table_nbuckets(t), 1);
	dht_table_free(t);
}
