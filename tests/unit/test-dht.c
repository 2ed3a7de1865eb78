/* test-dht.c - the DHT node on an in-memory network, with a fake clock */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "dht.h"
#include "krpc.h"
#include "util.h"

#define T0		1000000		/* the fake clock starts here (ms) */
#define MAXNODES	64
#define MAXQ		20000
#define LAT		20		/* one-way latency (ms) */

struct pkt {
	uint64_t	at;
	int		from;		/* node index, or -1: the test */
	struct netaddr	src, dst;
	uint8_t		data[KRPC_MAX_PACKET];
	size_t		len;
};

struct net {
	struct dht	*n[MAXNODES];
	struct netaddr	 a[MAXNODES];
	size_t		 nn;
	struct pkt	*q;		/* in flight */
	size_t		 nq;
	struct pkt	*out;		/* sent to the test's address */
	size_t		 nout;
	uint64_t	 now;
	/* what the hooks heard */
	struct netaddr	 peers[256];
	size_t		 npeers;
	int		 pongs, nopongs;
	uint8_t		 pong_id[20];
	struct dht_search_result done[8];
	size_t		 ndone;
	bool		 stop_in_hook;
	size_t		 refreshes;	/* find_node for another id */
	uint64_t	 done_at;	/* the last search_done */
};

static struct net	N;
static int		cur;		/* the node whose hook runs */

/* 127.0.1.i:7000+i: loopback only */
static struct netaddr
addr_of(int i)
{
	struct netaddr	a;

	memset(&a, 0, sizeof(a));
	a.family = ADDR_V4;
	a.ip[0] = 127;
	a.ip[2] = 1;
	a.ip[3] = (uint8_t)i;
	a.port = (uint16_t)(7000 + i);
	return a;
}

/* The test's own address, a stranger to every node. */
static struct netaddr
tester(int k)
{
	struct netaddr	a = addr_of(200);

	a.ip[2] = 2;
	a.port = (uint16_t)(9000 + k);
	return a;
}

static void
hook_send(void *arg, const struct netaddr *to, const uint8_t *buf, size_t len)
{
	struct pkt	*p;
	int		 i = (int)(intptr_t)arg;

	cr_assert(len <= KRPC_MAX_PACKET);
	if (to->ip[2] == 2) {		/* to the test */
		cr_assert(N.nout < MAXQ);
		p = &N.out[N.nout++];
	} else {
		cr_assert(N.nq < MAXQ);
		p = &N.q[N.nq++];
	}
	{
		struct krpc_msg	*m = malloc(sizeof(*m));

		if (krpc_decode(buf, len, m) == GT_OK &&
		    m->kind == KRPC_QUERY && m->method == KRPC_FIND_NODE &&
		    memcmp(m->target, m->id, 20) != 0)
			N.refreshes++;
		free(m);
	}
	p->at = N.now + LAT;
	p->from = i;
	p->src = N.a[i];
	p->dst = *to;
	memcpy(p->data, buf, len);
	p->len = len;
}

static void
hook_peers(void *arg, const uint8_t ih[20], const struct netaddr *v, size_t n)
{
	size_t	i;

	(void)arg;
	(void)ih;
	for (i = 0; i < n && N.npeers < nitems(N.peers); i++)
		N.peers[N.npeers++] = v[i];
	if (N.stop_in_hook)
		dht_search_stop(N.n[cur], ih);
}

static void
hook_done(void *arg, const uint8_t ih[20], const struct dht_search_result *r)
{
	(void)arg;
	(void)ih;
	if (N.ndone < nitems(N.done))
		N.done[N.ndone++] = *r;
	N.done_at = N.now;
}

static void
hook_pong(void *arg, const struct netaddr *a, const uint8_t *id,
    const uint8_t *v, size_t vlen, uint32_t rtt)
{
	(void)arg;
	(void)a;
	(void)v;
	(void)vlen;
	(void)rtt;
	if (id == NULL) {
		N.nopongs++;
		return;
	}
	N.pongs++;
	memcpy(N.pong_id, id, 20);
}

static struct dht *
mknode(int i, bool ro)
{
	struct dht_opts		o = {
		.v4 = true, .seed = (uint64_t)i * 7919 + 1,
		.deterministic = true, .read_only = ro,
	};
	struct dht_hooks	h = {
		.send = hook_send, .peers = hook_peers,
		.search_done = hook_done, .pong = hook_pong,
		.arg = (void *)(intptr_t)i,
	};

	N.a[i] = addr_of(i);
	N.n[i] = dht_new(&o, &h, N.now);
	if ((size_t)i >= N.nn)
		N.nn = (size_t)i + 1;
	return N.n[i];
}

static void
setup(void)
{
	memset(&N, 0, sizeof(N));
	N.q = calloc(MAXQ, sizeof(*N.q));
	N.out = calloc(MAXQ, sizeof(*N.out));
	N.now = T0;
}

static void
teardown(void)
{
	size_t	i;

	for (i = 0; i < N.nn; i++)
		dht_free(N.n[i]);
	free(N.q);
	free(N.out);
}

static int
node_at(const struct netaddr *a)
{
	size_t	i;

	for (i = 0; i < N.nn; i++)
		if (N.n[i] != NULL && addr_eq(&N.a[i], a))
			return (int)i;
	return -1;
}

/* Runs the network until `until`, delivering and ticking. */
static void
run(uint64_t until)
{
	struct pkt	p;
	uint64_t	next;
	size_t		i, j;
	int		k;

	while (N.now < until) {
		next = until;
		for (i = 0; i < N.nq; i++)
			next = MIN(next, N.q[i].at);
		for (i = 0; i < N.nn; i++)
			if (N.n[i] != NULL)
				next = MIN(next, dht_deadline(N.n[i]));
		if (next > N.now)
			N.now = next;
		for (i = 0; i < N.nq; ) {
			if (N.q[i].at > N.now) {
				i++;
				continue;
			}
			p = N.q[i];
			N.q[i] = N.q[--N.nq];
			if ((k = node_at(&p.dst)) >= 0) {
				cur = k;
				dht_on_datagram(N.n[k], p.data, p.len, &p.src,
				    N.now);
			}
		}
		for (j = 0; j < N.nn; j++)
			if (N.n[j] != NULL && dht_deadline(N.n[j]) <= N.now) {
				cur = (int)j;
				dht_tick(N.n[j], N.now);
			}
	}
}

/* A query from the test's address k to node i. */
static void
inject(int i, int k, const uint8_t *pkt, size_t len)
{
	struct netaddr	a = tester(k);

	cur = i;
	dht_on_datagram(N.n[i], pkt, len, &a, N.now);
}

static size_t
put_query(struct krpc_msg *m, uint8_t *out, size_t max)
{
	struct buf	b;
	size_t		n;

	buf_init(&b, max);
	cr_assert_eq(krpc_put_query(&b, m), GT_OK);
	n = b.len;
	memcpy(out, b.data, n);
	buf_clear(&b);
	return n;
}

static void
qinit(struct krpc_msg *m, enum krpc_method method, uint8_t idbyte)
{
	memset(m, 0, sizeof(*m));
	m->kind = KRPC_QUERY;
	m->method = method;
	memcpy(m->tid, "aa", 2);
	m->tidlen = 2;
	memset(m->id, idbyte, 20);
}

/* Builds a DHT of n nodes that all bootstrapped from node 0. */
static void
swarm(int n)
{
	int	i;

	for (i = 0; i < n; i++)
		mknode(i, false);
	for (i = 1; i < n; i++) {
		dht_bootstrap(N.n[i], &N.a[0], N.now);
		run(N.now + 50);
	}
	run(N.now + 60 * 1000);
}

TestSuite(dht, .init = setup, .fini = teardown);

Test(dht, ping_is_answered_and_the_answer_enters_the_table)
{
	struct dht_stats	st;

	mknode(0, false);
	mknode(1, false);
	cr_assert(dht_ping(N.n[0], &N.a[1], N.now));
	run(N.now + 100);
	cr_assert_eq(N.pongs, 1);
	cr_assert_arr_eq(N.pong_id, dht_id(N.n[1]), 20);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.nodes[0], 1, "the responder is in the table");
	dht_stats(N.n[1], N.now, &st);
	cr_assert_eq(st.nodes[0], 0, "a querier is not, until verified");
}

Test(dht, ping_unanswered_times_out)
{
	struct netaddr	a = addr_of(50);

	mknode(0, false);
	cr_assert(dht_ping(N.n[0], &a, N.now));
	run(N.now + DHT_QUERY_MS + 100);
	cr_assert_eq(N.pongs, 0);
	cr_assert_eq(N.nopongs, 1);
}

Test(dht, a_swarm_finds_an_announced_peer)
{
	struct dht_search_opts	ann = { .announce = true, .port = 5555 };
	struct dht_search_opts	get = { 0 };
	struct dht_stats	st;
	uint8_t			ih[20];
	size_t			i;
	bool			found = false;

	swarm(40);
	for (i = 1; i < 40; i++) {
		dht_stats(N.n[i], N.now, &st);
		cr_assert_geq(st.nodes[0], 8, "node %zu knows %zu", i,
		    st.nodes[0]);
	}
	memset(ih, 0xab, sizeof(ih));
	cr_assert_eq(dht_search(N.n[5], ih, &ann, N.now), GT_OK);
	run(N.now + 10000);
	cr_assert_eq(N.ndone, 1);
	cr_assert_gt(N.done[0].announced, 0);
	N.ndone = 0;
	N.npeers = 0;
	cr_assert_eq(dht_search(N.n[30], ih, &get, N.now), GT_OK);
	run(N.now + 10000);
	cr_assert_eq(N.ndone, 1);
	for (i = 0; i < N.npeers; i++)
		if (addr_ip_eq(&N.peers[i], &N.a[5]) &&
		    N.peers[i].port == 5555)
			found = true;
	cr_assert(found, "the announcer was found (%zu peers)", N.npeers);
	cr_assert_gt(N.done[0].first_peer_ms, 0);
	cr_assert_leq(N.done[0].sent, 60);
	dht_stats(N.n[30], N.now, &st);
	cr_assert_eq(st.searches, 0, "a one-shot search is gone");
}

Test(dht, implied_port_announces_the_datagram_port)
{
	struct dht_search_opts	ann = { .announce = true, .port = 0 };
	struct dht_search_opts	get = { 0 };
	uint8_t			ih[20];
	size_t			i;
	bool			found = false;

	swarm(12);
	memset(ih, 0x11, sizeof(ih));
	cr_assert_eq(dht_search(N.n[3], ih, &ann, N.now), GT_OK);
	run(N.now + 10000);
	cr_assert_eq(dht_search(N.n[9], ih, &get, N.now), GT_OK);
	run(N.now + 10000);
	for (i = 0; i < N.npeers; i++)
		found |= addr_eq(&N.peers[i], &N.a[3]);
	cr_assert(found);
}

Test(dht, repeating_search_runs_again_and_stop_ends_it)
{
	struct dht_search_opts	o = { .announce = true, .port = 1234,
	    .repeat = true };
	struct dht_stats	st;
	uint8_t			ih[20];

	swarm(10);
	memset(ih, 0x22, sizeof(ih));
	cr_assert_eq(dht_search(N.n[2], ih, &o, N.now), GT_OK);
	run(N.now + 10000);
	cr_assert_eq(N.ndone, 1);
	run(N.now + DHT_REPEAT_MS + 10000);
	cr_assert_eq(N.ndone, 2, "ran again after DHT_REPEAT_MS");
	dht_stats(N.n[2], N.now, &st);
	cr_assert_eq(st.searches, 1);
	dht_search_stop(N.n[2], ih);
	dht_stats(N.n[2], N.now, &st);
	cr_assert_eq(st.searches, 0);
	run(N.now + DHT_REPEAT_MS + 10000);
	cr_assert_eq(N.ndone, 2);
}

Test(dht, stopping_a_search_from_its_own_hook_is_safe)
{
	struct dht_search_opts	ann = { .announce = true, .port = 4444 };
	struct dht_search_opts	get = { .repeat = true };
	struct dht_stats	st;
	uint8_t			ih[20];

	swarm(12);
	memset(ih, 0x33, sizeof(ih));
	cr_assert_eq(dht_search(N.n[1], ih, &ann, N.now), GT_OK);
	run(N.now + 10000);
	N.stop_in_hook = true;
	cr_assert_eq(dht_search(N.n[7], ih, &get, N.now), GT_OK);
	run(N.now + 10000);
	cr_assert_gt(N.npeers, 0);
	dht_stats(N.n[7], N.now, &st);
	cr_assert_eq(st.searches, 0);
}

Test(dht, search_caps_and_read_only)
{
	struct dht_search_opts	o = { .repeat = true };
	struct dht_search_opts	ann = { .announce = true, .port = 1 };
	uint8_t			ih[20];
	size_t			i;

	mknode(0, false);
	mknode(1, true);
	memset(ih, 0, sizeof(ih));
	for (i = 0; i < DHT_MAX_SEARCHES; i++) {
		ih[0] = (uint8_t)i;
		cr_assert_eq(dht_search(N.n[0], ih, &o, N.now), GT_OK);
	}
	ih[0] = 0xff;
	cr_assert_eq(dht_search(N.n[0], ih, &o, N.now), GT_ERANGE);
	ih[0] = 0;
	cr_assert_eq(dht_search(N.n[0], ih, &o, N.now), GT_OK, "a restart");
	cr_assert_eq(dht_search(N.n[1], ih, &ann, N.now), GT_EINVAL);
}

Test(dht, read_only_node_asks_but_never_answers_nor_enters_tables)
{
	struct dht_stats	st;

	mknode(0, false);
	mknode(1, true);
	cr_assert(dht_ping(N.n[1], &N.a[0], N.now));
	run(N.now + 100);
	cr_assert_eq(N.pongs, 1, "a read-only node's query is answered");
	N.pongs = 0;
	cr_assert(dht_ping(N.n[0], &N.a[1], N.now));
	run(N.now + DHT_QUERY_MS + 100);
	cr_assert_eq(N.pongs, 0, "a read-only node does not answer");
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.nodes[0], 0);
	run(N.now + 60000);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.nodes[0], 0, "nor does it enter by querying (ro)");
}

Test(dht, unsolicited_responses_are_dropped)
{
	struct krpc_msg		*m = calloc(1, sizeof(*m));
	struct dht_stats	 st;
	uint8_t			 pkt[KRPC_MAX_PACKET];
	struct buf		 b;
	size_t			 i, len;

	mknode(0, false);
	m->kind = KRPC_RESPONSE;
	memcpy(m->tid, "\0\0\0\0", 4);
	m->tidlen = 4;
	memset(m->id, 0x44, 20);
	for (i = 0; i < KRPC_MAX_NODES; i++) {
		memset(m->nodes[i].id, (int)i + 1, 20);
		m->nodes[i].a = addr_of((int)i + 100);
	}
	m->nnodes = KRPC_MAX_NODES;
	buf_init(&b, sizeof(pkt));
	cr_assert_eq(krpc_put_response(&b, m), GT_OK);
	len = b.len;
	memcpy(pkt, b.data, len);
	buf_clear(&b);
	for (i = 0; i < 1000; i++)
		inject(0, (int)i % 50, pkt, len);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.nodes[0], 0, "nothing entered the table");
	cr_assert_eq(st.dropped, 1000);
	cr_assert_eq(N.nout, 0, "nothing was sent back");
	free(m);
}

Test(dht, replies_to_strangers_are_at_most_four_times_the_query)
{
	struct krpc_msg	m;
	uint8_t		pkt[512];
	size_t		len, i;

	swarm(30);
	qinit(&m, KRPC_FIND_NODE, 0x77);
	m.has_target = true;
	memset(m.target, 0x10, 20);
	m.want_n4 = m.want_n6 = true;
	len = put_query(&m, pkt, sizeof(pkt));
	inject(3, 0, pkt, len);
	cr_assert_eq(N.nout, 1);
	cr_assert_leq(N.out[0].len, DHT_AMPLIFY * len, "%zu > 4 x %zu",
	    N.out[0].len, len);
	/* a get_peers with many stored values: trimmed too */
	qinit(&m, KRPC_GET_PEERS, 0x78);
	m.has_target = true;
	memset(m.target, 0x10, 20);
	len = put_query(&m, pkt, sizeof(pkt));
	for (i = 0; i < 20; i++)
		inject(3, (int)i + 1, pkt, len);
	for (i = 0; i < N.nout; i++)
		cr_assert_leq(N.out[i].len, DHT_AMPLIFY * len);
}

Test(dht, queries_over_the_rate_go_unanswered)
{
	struct dht_stats	st;
	struct krpc_msg		m;
	uint8_t			pkt[256];
	size_t			len, i;

	mknode(0, false);
	qinit(&m, KRPC_PING, 0x55);
	len = put_query(&m, pkt, sizeof(pkt));
	for (i = 0; i < 1000; i++)
		inject(0, 0, pkt, len);
	cr_assert_lt(N.nout, 100, "%zu of 1000 answered", N.nout);
	cr_assert_gt(N.nout, 0);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.limited + N.nout, 1000);
	/* another port of that IP is not; another IP is */
	N.nout = 0;
	inject(0, 1, pkt, len);
	cr_assert_eq(N.nout, 0);
	{
		struct netaddr	a = tester(0);

		a.ip[3] = 201;
		dht_on_datagram(N.n[0], pkt, len, &a, N.now);
	}
	cr_assert_eq(N.nout, 1);
}

Test(dht, announce_needs_a_token_for_that_ip)
{
	struct dht_stats	st;
	struct krpc_msg		m, r;
	uint8_t			pkt[512];
	size_t			len;

	mknode(0, false);
	qinit(&m, KRPC_ANNOUNCE_PEER, 0x56);
	m.has_target = true;
	memset(m.target, 0x99, 20);
	m.port = 6000;
	memcpy(m.token, "forged!!", 8);
	m.tokenlen = 8;
	len = put_query(&m, pkt, sizeof(pkt));
	inject(0, 0, pkt, len);
	cr_assert_eq(N.nout, 1);
	cr_assert_eq(krpc_decode(N.out[0].data, N.out[0].len, &r), GT_OK);
	cr_assert_eq(r.kind, KRPC_ERROR);
	cr_assert_eq(r.errcode, KRPC_ERR_PROTOCOL);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.stored_peers, 0);

	/* a real token, from get_peers, for that IP */
	qinit(&m, KRPC_GET_PEERS, 0x56);
	m.has_target = true;
	memset(m.target, 0x99, 20);
	len = put_query(&m, pkt, sizeof(pkt));
	inject(0, 0, pkt, len);
	cr_assert_eq(krpc_decode(N.out[1].data, N.out[1].len, &r), GT_OK);
	cr_assert_gt(r.tokenlen, 0);
	qinit(&m, KRPC_ANNOUNCE_PEER, 0x56);
	m.has_target = true;
	memset(m.target, 0x99, 20);
	m.port = 6000;
	memcpy(m.token, r.token, r.tokenlen);
	m.tokenlen = r.tokenlen;
	len = put_query(&m, pkt, sizeof(pkt));
	inject(0, 0, pkt, len);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.stored_peers, 1);
	/* the same token from another IP is refused */
	{
		struct netaddr	a = tester(0);

		a.ip[3] = 201;
		dht_on_datagram(N.n[0], pkt, len, &a, N.now);
	}
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.stored_peers, 1);
}

Test(dht, bad_arguments_get_error_203_and_unknown_methods_204)
{
	static const uint8_t	bad[] = "d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae"
	    "1:q9:find_node1:t2:xy1:y1:qe";
	static const uint8_t	unk[] = "d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae"
	    "1:q4:frob1:t2:xy1:y1:qe";
	struct krpc_msg		r;

	mknode(0, false);
	inject(0, 0, bad, sizeof(bad) - 1);
	cr_assert_eq(N.nout, 1);
	cr_assert_eq(krpc_decode(N.out[0].data, N.out[0].len, &r), GT_OK);
	cr_assert_eq(r.kind, KRPC_ERROR);
	cr_assert_eq(r.errcode, 203);
	cr_assert_eq(r.tidlen, 2);
	inject(0, 0, unk, sizeof(unk) - 1);
	cr_assert_eq(N.nout, 2);
	cr_assert_eq(krpc_decode(N.out[1].data, N.out[1].len, &r), GT_OK);
	cr_assert_eq(r.errcode, 204);
}

Test(dht, garbage_is_dropped_silently)
{
	struct dht_stats	st;
	uint8_t			pkt[KRPC_MAX_PACKET + 100];
	size_t			i, j;

	mknode(0, false);
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < sizeof(pkt); j++)
			pkt[j] = (uint8_t)(i * 31 + j * 7);
		pkt[0] = 'd';
		inject(0, (int)(i % 100), pkt, 1 + (i * 13) % sizeof(pkt));
	}
	memset(pkt, '[', sizeof(pkt));
	memset(pkt, 'l', 3000);
	inject(0, 1, pkt, 3000);
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(N.nout, 0);
	cr_assert_eq(st.nodes[0], 0);
	cr_assert_eq(st.dropped, 2001);
}

Test(dht, save_and_load_keep_the_id_and_nodes)
{
	struct dht_stats	st;
	struct buf		b;
	struct dht		*d;
	char			err[GT_ERRLEN];
	uint8_t			id[20];

	swarm(20);
	buf_init(&b, DHT_STATE_MAX);
	cr_assert_eq(dht_save(N.n[4], N.now, &b), GT_OK);
	memcpy(id, dht_id(N.n[4]), 20);
	dht_free(N.n[4]);
	N.n[4] = NULL;
	d = mknode(4, false);
	cr_assert_eq(dht_load(d, b.data, b.len, N.now, err), GT_OK, "%s",
	    err);
	cr_assert_arr_eq(dht_id(d), id, 20);
	dht_stats(d, N.now, &st);
	cr_assert_geq(st.nodes[0], 8, "%zu nodes back", st.nodes[0]);
	/* they are pinged and found good again without a bootstrap */
	run(N.now + 60000);
	dht_stats(d, N.now, &st);
	cr_assert_geq(st.good[0], 8);
	buf_clear(&b);
}

Test(dht, hostile_state_files_are_refused_and_change_nothing)
{
	static const char *const	bad[] = {
		"",
		"i1e",
		"d2:id3:abce",
		"d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes5:abcdee",
		("d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes26:"
		    "bbbbbbbbbbbbbbbbbbbb\x7f\0\0\x01\0\0e"),	/* one */
		"d2:id20:aaaaaaaaaaaaaaaaaaaa6:nodes64:abcdee",
		"llllllllllllllllllllllllllllllllllllllllllllllllllllllllee",
	};
	uint8_t		id[20];
	char		err[GT_ERRLEN];
	size_t		i;
	struct dht	*d = mknode(0, false);
	uint8_t		*big;

	memcpy(id, dht_id(d), 20);
	for (i = 0; i < nitems(bad); i++) {
		size_t	len = strlen(bad[i]);

		if (i == 4)
			len = 2 + 2 + 4 + 20 + 1 + 7 + 3 + 26 + 1;
		err[0] = 0;
		cr_assert_eq(dht_load(d, (const uint8_t *)bad[i], len, N.now,
		    err), GT_EPROTO, "case %zu", i);
		cr_assert_neq(err[0], 0);
		cr_assert_arr_eq(dht_id(d), id, 20, "case %zu", i);
	}
	big = calloc(1, DHT_STATE_MAX + 1);
	cr_assert_eq(dht_load(d, big, DHT_STATE_MAX + 1, N.now, err),
	    GT_EPROTO);
	free(big);
}

Test(dht, a_response_from_another_address_is_unsolicited)
{
	struct dht_stats	st;
	struct pkt		p;
	size_t			i;

	mknode(0, false);
	mknode(1, false);
	cr_assert(dht_ping(N.n[0], &N.a[1], N.now));
	/* node 1 answers, but the answer comes from elsewhere */
	cur = 1;
	p = N.q[0];
	N.nq = 0;
	dht_on_datagram(N.n[1], p.data, p.len, &p.src, N.now);
	cr_assert_eq(N.nq, 1);
	for (i = 0; i < 2; i++) {
		struct netaddr	a = N.a[1];

		a.port = (uint16_t)(a.port + 1 + i);
		dht_on_datagram(N.n[0], N.q[0].data, N.q[0].len, &a, N.now);
	}
	dht_stats(N.n[0], N.now, &st);
	cr_assert_eq(st.nodes[0], 0);
	cr_assert_eq(st.dropped, 2);
	cr_assert_eq(N.pongs, 0);
	dht_on_datagram(N.n[0], N.q[0].data, N.q[0].len, &N.a[1], N.now);
	cr_assert_eq(N.pongs, 1);
	/* a replay of the same answer is unsolicited now */
	dht_on_datagram(N.n[0], N.q[0].data, N.q[0].len, &N.a[1], N.now);
	cr_assert_eq(N.pongs, 1);
}

Test(dht, deadline_is_never_a_busy_loop)
{
	uint64_t	t, ticks = 0;

	swarm(8);
	t = N.now;
	while (N.now < t + 10 * 60 * 1000) {
		N.now = MAX(dht_deadline(N.n[3]), N.now + 1);
		dht_tick(N.n[3], N.now);
		ticks++;
	}
	/* an idle node with a full table sleeps: a few ticks a second at
	   most, not the 100 ms upkeep floor (6,000 in 10 min) */
	cr_assert_leq(ticks, 600, "%lu ticks", (unsigned long)ticks);
}

Test(dht, stale_buckets_are_refreshed_with_a_random_target)
{
	swarm(10);
	N.refreshes = 0;
	run(N.now + 20 * 60 * 1000);
	cr_assert_gt(N.refreshes, 0);
}

Test(dht, icmp_unreachable_fails_the_queries_to_that_address_at_once)
{
	struct netaddr	a = addr_of(50), b = addr_of(51);

	mknode(0, false);
	cr_assert(dht_ping(N.n[0], &a, N.now));
	cr_assert(dht_ping(N.n[0], &b, N.now));
	dht_on_unreachable(N.n[0], &a, N.now + 5);
	cr_assert_eq(N.nopongs, 1, "a failed at once");
	run(N.now + DHT_QUERY_MS + 100);
	cr_assert_eq(N.nopongs, 2, "b only at its timeout");
}

Test(dht, a_search_asked_before_the_bootstrap_starts_when_nodes_come)
{
	struct dht_search_opts	ann = { .announce = true, .port = 2222 };
	struct dht_search_opts	get = { 0 };
	uint8_t			ih[20];
	uint64_t		t;
	size_t			i;
	bool			found = false;

	swarm(20);
	memset(ih, 0x5a, sizeof(ih));
	cr_assert_eq(dht_search(N.n[4], ih, &ann, N.now), GT_OK);
	run(N.now + 10000);
	N.ndone = 0;
	mknode(20, false);
	t = N.now;
	cr_assert_eq(dht_search(N.n[20], ih, &get, N.now), GT_OK);
	dht_bootstrap(N.n[20], &N.a[0], N.now);
	run(N.now + 5000);
	cr_assert_eq(N.ndone, 1);
	cr_assert_lt(N.done_at - t, 1000, "done %lu ms after the ask",
	    (unsigned long)(N.done_at - t));
	for (i = 0; i < N.npeers; i++)
		found |= N.peers[i].port == 2222;
	cr_assert(found);
}

Test(dht, a_scrape_search_asks_for_and_counts_the_bloom_filters)
{
	struct dht_search_opts	ann = { .announce = true, .port = 3333,
	    .seed = true };
	struct dht_search_opts	scr = { .scrape = true };
	uint8_t			ih[20];

	swarm(12);
	memset(ih, 0x66, sizeof(ih));
	cr_assert_eq(dht_search(N.n[2], ih, &ann, N.now), GT_OK);
	run(N.now + 10000);
	N.ndone = 0;
	cr_assert_eq(dht_search(N.n[8], ih, &scr, N.now), GT_OK);
	run(N.now + 10000);
	cr_assert_eq(N.ndone, 1);
	cr_assert_geq(N.done[0].seeds, 0.5, "%f seeds", N.done[0].seeds);
	cr_assert_geq(N.done[0].leechers, 0);
}
