/* test-dht-lookup.c - iterative lookups on a fake network, fake clock */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "dht-lookup.h"
#include "util.h"

#define NNODES	1000
#define KNOWN	40		/* random nodes each fake node knows */
#define T0	1000u

/* The fake network: node i is 127.(i>>8).(i&255).1 port 6881. */
struct net {
	uint8_t		id[NNODES][20];
	uint16_t	known[NNODES][KNOWN + 8];	/* + its 8 nearest */
	size_t		nknown[NNODES];
	uint64_t	r;		/* xorshift64 state */
};

static struct net	net;

static uint64_t
rnd(void)
{
	net.r ^= net.r << 13;
	net.r ^= net.r >> 7;
	net.r ^= net.r << 17;
	return net.r;
}

static struct netaddr
addr_of(size_t i)
{
	struct netaddr	a = { .family = ADDR_V4, .port = 6881 };

	a.ip[0] = 127;
	a.ip[1] = (uint8_t)(i >> 8);
	a.ip[2] = (uint8_t)(i & 255);
	a.ip[3] = 1;
	return a;
}

static size_t
index_of(const struct netaddr *a)
{
	return (size_t)a->ip[1] << 8 | a->ip[2];
}

static uint8_t sort_target[20];

static int
by_distance(const void *x, const void *y)
{
	const uint16_t	*a = x, *b = y;

	return dht_distance_cmp(sort_target, net.id[*a], net.id[*b]);
}

/* The indexes of all nodes sorted by distance to target. */
static void
brute(const uint8_t target[20], uint16_t *order)
{
	size_t	i;

	for (i = 0; i < NNODES; i++)
		order[i] = (uint16_t)i;
	memcpy(sort_target, target, 20);
	qsort(order, NNODES, sizeof(*order), by_distance);
}

/* Bits of prefix a and b share. */
static int
cpl(const uint8_t *a, const uint8_t *b)
{
	int	i, bit;

	for (i = 0; i < 20; i++) {
		if (a[i] == b[i])
			continue;
		for (bit = 0; bit < 8; bit++)
			if (((a[i] ^ b[i]) & (0x80 >> bit)) != 0)
				return i * 8 + bit;
	}
	return 160;
}

/*
 * Kademlia-shaped knowledge: for every shared-prefix length, up to 4
 * nodes (a k-bucket of 4), plus some random ones.
 */
static void
net_init(uint64_t seed)
{
	int	fill[161];
	size_t	i, j;
	int	b;

	net.r = seed * 2654435761u + 1;
	for (i = 0; i < NNODES; i++)
		for (j = 0; j < 20; j++)
			net.id[i][j] = (uint8_t)rnd();
	for (i = 0; i < NNODES; i++) {
		memset(fill, 0, sizeof(fill));
		net.nknown[i] = 0;
		for (j = 0; j < NNODES && net.nknown[i] < KNOWN + 8; j++) {
			if (j == i)
				continue;
			b = cpl(net.id[i], net.id[j]);
			if (fill[b] == 4)
				continue;
			fill[b]++;
			net.known[i][net.nknown[i]++] = (uint16_t)j;
		}
	}
}

/* What node i answers to find_node(target): its 8 closest known. */
static size_t
answer(size_t i, const uint8_t target[20], uint16_t *out)
{
	uint16_t	k[KNOWN + 8];
	size_t		n = net.nknown[i];

	memcpy(k, net.known[i], n * sizeof(*k));
	memcpy(sort_target, target, 20);
	qsort(k, n, sizeof(*k), by_distance);
	n = MIN(n, 8);
	memcpy(out, k, n * sizeof(*out));
	return n;
}

/* Runs a lookup to the end, every query answered at once. */
static void
run_lookup(struct dht_lookup *l, const uint8_t target[20], uint64_t *now)
{
	struct dht_lookup_node	q;
	struct netaddr		a;
	uint16_t		named[8];
	size_t			i, n, steps = 0;

	while (!dht_lookup_done(l)) {
		cr_assert_lt(steps++, 10000);
		if (!dht_lookup_next(l, *now, &q)) {
			*now += 10;
			dht_lookup_tick(l, *now);
			continue;
		}
		i = index_of(&q.a);
		cr_assert(dht_lookup_answered(l, &q.a, net.id[i], NULL, 0,
		    *now));
		n = answer(i, target, named);
		for (size_t j = 0; j < n; j++) {
			a = addr_of(named[j]);
			dht_lookup_add(l, net.id[named[j]], &a);
		}
	}
}

Test(dht_lookup, converges_to_the_k_closest)
{
	static uint16_t		 order[NNODES];
	struct dht_lookup_node	 res[DHT_LOOKUP_K];
	struct dht_lookup_stats	 st;
	struct dht_lookup	*l;
	struct netaddr		 a;
	uint8_t			 target[20];
	uint64_t		 now = T0, total = 0;
	size_t			 t, j, n;
	int			 trial;

	net_init(7);
	for (trial = 0; trial < 30; trial++) {
		for (j = 0; j < 20; j++)
			target[j] = (uint8_t)rnd();
		l = dht_lookup_new(target, 500, 5000);
		for (j = 0; j < 3; j++) {	/* a few bootstrap nodes */
			t = rnd() % NNODES;
			a = addr_of(t);
			dht_lookup_add(l, net.id[t], &a);
		}
		run_lookup(l, target, &now);
		n = dht_lookup_results(l, res, nitems(res));
		cr_assert_eq(n, DHT_LOOKUP_K);
		brute(target, order);
		for (j = 0; j < n; j++)
			cr_assert(memcmp(res[j].id, net.id[order[j]], 20) == 0,
			    "trial %d: result %zu is not the %zu-th closest",
			    trial, j, j);
		dht_lookup_stats(l, &st);
		cr_assert_leq(st.sent, 60, "trial %d: %u queries", trial,
		    st.sent);
		total += st.sent;
		dht_lookup_free(l);
	}
	cr_log_info("mean queries per lookup: %.1f", (double)total / 30);
}

static const uint8_t	target0[20];

static struct dht_lookup *
with_candidates(size_t n)
{
	struct dht_lookup	*l = dht_lookup_new(target0, 500, 5000);
	struct netaddr		 a;
	size_t			 i;

	net_init(11);
	for (i = 0; i < n; i++) {
		a = addr_of(i);
		dht_lookup_add(l, net.id[i], &a);
	}
	return l;
}

Test(dht_lookup, alpha_then_soft_then_hard_timeouts)
{
	struct dht_lookup	*l = with_candidates(20);
	struct dht_lookup_node	 q[2 * DHT_LOOKUP_ALPHA + 1];
	struct dht_lookup_stats	 st;
	size_t			 i;

	for (i = 0; i < DHT_LOOKUP_ALPHA; i++)
		cr_assert(dht_lookup_next(l, T0, &q[i]));
	cr_assert_not(dht_lookup_next(l, T0, &q[i]), "alpha in flight");
	cr_assert_eq(dht_lookup_deadline(l), T0 + 500);
	dht_lookup_tick(l, T0 + 499);
	cr_assert_not(dht_lookup_next(l, T0 + 499, &q[i]));
	dht_lookup_tick(l, T0 + 500);
	for (i = DHT_LOOKUP_ALPHA; i < 2 * DHT_LOOKUP_ALPHA; i++)
		cr_assert(dht_lookup_next(l, T0 + 500, &q[i]),
		    "slow ones free their slots");
	cr_assert_not(dht_lookup_done(l));
	/* a slow node's late answer still counts */
	cr_assert(dht_lookup_answered(l, &q[0].a, q[0].id, NULL, 0,
	    T0 + 900));
	dht_lookup_tick(l, T0 + 5000);	/* the rest of the first round fail */
	dht_lookup_stats(l, &st);
	cr_assert_eq(st.failed, DHT_LOOKUP_ALPHA - 1);
	cr_assert_eq(st.answered, 1);
	cr_assert_not(dht_lookup_answered(l, &q[1].a, q[1].id, NULL, 0,
	    T0 + 5001), "failed: its answer is too late");
	dht_lookup_free(l);
}

Test(dht_lookup, closer_nodes_named_are_asked_without_waiting)
{
	struct dht_lookup	*l = dht_lookup_new(target0, 500, 5000);
	struct dht_lookup_node	 q;
	struct netaddr		 a;
	uint8_t			 id[20];
	size_t			 i;

	/* ALPHA far candidates in flight ... */
	for (i = 0; i < DHT_LOOKUP_ALPHA; i++) {
		memset(id, 0xf0, sizeof(id));
		id[19] = (uint8_t)i;
		a = addr_of(i);
		dht_lookup_add(l, id, &a);
		cr_assert(dht_lookup_next(l, T0, &q));
	}
	cr_assert_not(dht_lookup_next(l, T0, &q));
	/* ... then K closer ones are named: the far ones leave the window
	   and no longer hold slots */
	for (i = 0; i < DHT_LOOKUP_K; i++) {
		memset(id, 0x01, sizeof(id));
		id[19] = (uint8_t)i;
		a = addr_of(100 + i);
		dht_lookup_add(l, id, &a);
	}
	for (i = 0; i < DHT_LOOKUP_ALPHA; i++)
		cr_assert(dht_lookup_next(l, T0 + 1, &q), "query %zu", i);
	cr_assert_eq(q.id[0], 0x01);
	cr_assert_not(dht_lookup_next(l, T0 + 1, &q));
	dht_lookup_free(l);
}

Test(dht_lookup, unasked_answers_ignored)
{
	struct dht_lookup	*l = with_candidates(5);
	struct netaddr		 a = addr_of(3), other = addr_of(900);
	struct dht_lookup_node	 q;

	cr_assert_not(dht_lookup_answered(l, &a, net.id[3], NULL, 0, T0),
	    "known but not asked");
	cr_assert_not(dht_lookup_answered(l, &other, net.id[900], NULL, 0,
	    T0), "never heard of");
	cr_assert(dht_lookup_next(l, T0, &q));
	cr_assert(dht_lookup_answered(l, &q.a, q.id, NULL, 0, T0));
	cr_assert_not(dht_lookup_answered(l, &q.a, q.id, NULL, 0, T0),
	    "twice");
	dht_lookup_free(l);
}

Test(dht_lookup, candidates_filtered_and_capped)
{
	struct dht_lookup	*l = dht_lookup_new(target0, 500, 5000);
	struct dht_lookup_stats	 st;
	struct dht_lookup_node	 q;
	struct netaddr		 a = addr_of(1), zero = { .family = ADDR_V4,
				    .port = 6881 };
	uint8_t			 id[20];
	size_t			 i;
	uint64_t		 now = T0;

	net_init(3);
	dht_lookup_add(l, net.id[1], &zero);		/* 0.0.0.0 */
	a.port = 0;
	dht_lookup_add(l, net.id[1], &a);		/* port 0 */
	dht_lookup_stats(l, &st);
	cr_assert_eq(st.candidates, 0);
	a = addr_of(1);
	dht_lookup_add(l, net.id[1], &a);
	dht_lookup_add(l, net.id[1], &a);		/* again */
	a = addr_of(2);
	dht_lookup_add(l, net.id[1], &a);		/* same id */
	dht_lookup_stats(l, &st);
	cr_assert_eq(st.candidates, 1);
	/* many: the closest DHT_LOOKUP_MAX are kept */
	for (i = 2; i < NNODES; i++) {
		a = addr_of(i);
		dht_lookup_add(l, net.id[i], &a);
	}
	/* the first asked is the closest of all */
	cr_assert(dht_lookup_next(l, now, &q));
	for (i = 0; i < NNODES; i++)
		cr_assert_geq(dht_distance_cmp(target0, net.id[i], q.id), 0);
	memset(id, 0, sizeof(id));
	cr_assert_lt(dht_distance_cmp(target0, id, q.id), 0);
	dht_lookup_free(l);
}

Test(dht_lookup, real_id_and_token_from_the_answer)
{
	struct dht_lookup	*l = dht_lookup_new(target0, 500, 5000);
	struct dht_lookup_node	 q, res[4];
	struct netaddr		 a = addr_of(5);
	uint8_t			 far[20], near[20] = { 0 };
	static const uint8_t	 tok[] = "tok123";

	memset(far, 0xff, sizeof(far));
	near[19] = 1;
	dht_lookup_add(l, far, &a);
	cr_assert(dht_lookup_next(l, T0, &q));
	cr_assert(dht_lookup_answered(l, &a, near, tok, 6, T0 + 10));
	cr_assert_eq(dht_lookup_results(l, res, 4), 1);
	cr_assert(memcmp(res[0].id, near, 20) == 0, "its real id");
	cr_assert_eq(res[0].token_len, 6);
	cr_assert(memcmp(res[0].token, tok, 6) == 0);
	cr_assert(dht_lookup_done(l));
	dht_lookup_free(l);
}

Test(dht_lookup, nobody_to_ask_is_done)
{
	struct dht_lookup	*l = dht_lookup_new(target0, 500, 5000);
	struct dht_lookup_node	 q;

	cr_assert(dht_lookup_done(l));
	cr_assert_not(dht_lookup_next(l, T0, &q));
	cr_assert_eq(dht_lookup_deadline(l), UINT64_MAX);
	dht_lookup_free(l);
}

Test(dht_lookup, distance)
{
	uint8_t	t[20] = { 0 }, a[20] = { 0 }, b[20] = { 0 };

	a[0] = 0x01;
	b[0] = 0x02;
	cr_assert_lt(dht_distance_cmp(t, a, b), 0);
	t[0] = 0x03;				/* a^t = 2, b^t = 1 */
	cr_assert_gt(dht_distance_cmp(t, a, b), 0);
	cr_assert_eq(dht_distance_cmp(t, a, a), 0);
}
