/* test-krpc.c - KRPC codec: BEP 5 examples, extensions, caps, hostile input */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "krpc.h"
#include "util.h"

/*
 * BEP 5's examples, byte for byte.  Its "values" ("axje.u", "idhtnm") and
 * "nodes" ("def456...") are not loopback addresses or not whole entries;
 * the tests use 127.0.0.x compact entries in their place.
 */
#define ID_A	"abcdefghij0123456789"
#define ID_M	"mnopqrstuvwxyz123456"
#define ID_0	"0123456789abcdefghij"
/* 127.0.0.1:6881 and 127.0.0.2:6882, compact */
#define P1	"\x7f\x00\x00\x01\x1a\xe1"
#define P2	"\x7f\x00\x00\x02\x1a\xe2"
/* ::1 port 6881, compact */
#define P6	"\x00\x00\x00\x00\x00\x00\x00\x00" \
		"\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe1"

static struct buf	out;

static void
setup(void)
{
	buf_init(&out, 1u << 20);
}

static void
teardown(void)
{
	buf_clear(&out);
}

TestSuite(krpc, .init = setup, .fini = teardown);

static enum gt_err
dec(const void *p, size_t len, struct krpc_msg *m)
{
	memset(m, 0xa5, sizeof(*m));	/* stale bytes must not survive */
	return krpc_decode(p, len, m);
}

#define DEC(lit, m)	dec((lit), sizeof(lit) - 1, (m))

static void
assert_out(const char *want, size_t len)
{
	cr_assert_eq(out.len, len, "length %zu, want %zu: %.*s", out.len,
	    len, (int)out.len, (const char *)out.data);
	cr_assert(memcmp(out.data, want, len) == 0, "got %.*s want %s",
	    (int)out.len, (const char *)out.data, want);
	buf_reset(&out);
}

#define OUT(lit)	assert_out((lit), sizeof(lit) - 1)

static void
set_tid(struct krpc_msg *m, const char *t)
{
	m->tidlen = strlen(t);
	memcpy(m->tid, t, m->tidlen);
}

static const char	ping_q[] =
    "d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:y1:qe";
static const char	ping_r[] =
    "d1:rd2:id20:" ID_M "e1:t2:aa1:y1:re";

Test(krpc, bep5_ping)
{
	struct krpc_msg	m;

	cr_assert_eq(DEC(ping_q, &m), GT_OK);
	cr_assert_eq(m.kind, KRPC_QUERY);
	cr_assert_eq(m.method, KRPC_PING);
	cr_assert_eq(m.tidlen, 2);
	cr_assert(memcmp(m.tid, "aa", 2) == 0);
	cr_assert(memcmp(m.id, ID_A, 20) == 0);
	cr_assert_not(m.ro);
	cr_assert_not(m.has_target);
	cr_assert_eq(m.versionlen, 0);
	cr_assert_null(m.bad);
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT(ping_q);

	cr_assert_eq(DEC(ping_r, &m), GT_OK);
	cr_assert_eq(m.kind, KRPC_RESPONSE);
	cr_assert_eq(m.method, KRPC_UNKNOWN_METHOD);
	cr_assert(memcmp(m.id, ID_M, 20) == 0);
	cr_assert_eq(m.nnodes, 0);
	cr_assert_eq(m.nvalues, 0);
	cr_assert_eq(m.tokenlen, 0);
	cr_assert_not(m.has_ip);
	cr_assert_not(m.sampled);
	cr_assert_null(m.bf_seeds);
	cr_assert_null(m.bf_peers);
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	OUT(ping_r);
}

Test(krpc, bep5_find_node)
{
	static const char	q[] = "d1:ad2:id20:" ID_A "6:target20:" ID_M
	    "e1:q9:find_node1:t2:aa1:y1:qe";
	static const char	r_bep[] = "d1:rd2:id20:" ID_0
	    "5:nodes9:def456...e1:t2:aa1:y1:re";
	static const char	r[] = "d1:rd2:id20:" ID_0
	    "5:nodes26:" ID_M P1 "e1:t2:aa1:y1:re";
	struct krpc_msg		m;
	char			s[ADDR_STRLEN];

	cr_assert_eq(DEC(q, &m), GT_OK);
	cr_assert_eq(m.method, KRPC_FIND_NODE);
	cr_assert(m.has_target);
	cr_assert(memcmp(m.target, ID_M, 20) == 0);
	cr_assert_not(m.want_n4);
	cr_assert_not(m.want_n6);
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT(q);

	/* the example's 9-byte "nodes" holds no whole entry */
	cr_assert_eq(DEC(r_bep, &m), GT_OK);
	cr_assert_eq(m.nnodes, 0);

	cr_assert_eq(DEC(r, &m), GT_OK);
	cr_assert_eq(m.nnodes, 1);
	cr_assert(memcmp(m.nodes[0].id, ID_M, 20) == 0);
	cr_assert_str_eq(addr_str(&m.nodes[0].a, s), "127.0.0.1:6881");
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	OUT(r);
}

Test(krpc, bep5_get_peers)
{
	static const char	q[] = "d1:ad2:id20:" ID_A "9:info_hash20:"
	    ID_M "e1:q9:get_peers1:t2:aa1:y1:qe";
	static const char	rv[] = "d1:rd2:id20:" ID_A
	    "5:token8:aoeusnth6:valuesl6:" P1 "6:" P2 "ee1:t2:aa1:y1:re";
	static const char	rn[] = "d1:rd2:id20:" ID_A
	    "5:nodes26:" ID_0 P2 "5:token8:aoeusnthe1:t2:aa1:y1:re";
	struct krpc_msg		m;
	char			s[ADDR_STRLEN];

	cr_assert_eq(DEC(q, &m), GT_OK);
	cr_assert_eq(m.method, KRPC_GET_PEERS);
	cr_assert(m.has_target);
	cr_assert(memcmp(m.target, ID_M, 20) == 0);
	cr_assert_not(m.scrape);
	cr_assert_not(m.noseed);
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT(q);

	cr_assert_eq(DEC(rv, &m), GT_OK);
	cr_assert_eq(m.tokenlen, 8);
	cr_assert(memcmp(m.token, "aoeusnth", 8) == 0);
	cr_assert_eq(m.nvalues, 2);
	cr_assert_str_eq(addr_str(&m.values[0], s), "127.0.0.1:6881");
	cr_assert_str_eq(addr_str(&m.values[1], s), "127.0.0.2:6882");
	cr_assert_eq(m.nnodes, 0);
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	OUT(rv);

	cr_assert_eq(DEC(rn, &m), GT_OK);
	cr_assert_eq(m.nvalues, 0);
	cr_assert_eq(m.nnodes, 1);
	cr_assert_str_eq(addr_str(&m.nodes[0].a, s), "127.0.0.2:6882");
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	OUT(rn);
}

Test(krpc, bep5_announce_peer)
{
	static const char	q[] = "d1:ad2:id20:" ID_A "12:implied_porti1e"
	    "9:info_hash20:" ID_M "4:porti6881e5:token8:aoeusnthe"
	    "1:q13:announce_peer1:t2:aa1:y1:qe";
	static const char	r[] = "d1:rd2:id20:" ID_M "e1:t2:aa1:y1:re";
	struct krpc_msg		m;

	cr_assert_eq(DEC(q, &m), GT_OK);
	cr_assert_eq(m.method, KRPC_ANNOUNCE_PEER);
	cr_assert(memcmp(m.target, ID_M, 20) == 0);
	cr_assert(m.implied_port);
	cr_assert_eq(m.port, 6881);
	cr_assert_eq(m.tokenlen, 8);
	cr_assert_not(m.seed);
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT(q);
	cr_assert_eq(DEC(r, &m), GT_OK);
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	OUT(r);
}

Test(krpc, bep5_error)
{
	static const char	e[] =
	    "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
	struct krpc_msg		m;

	cr_assert_eq(DEC(e, &m), GT_OK);
	cr_assert_eq(m.kind, KRPC_ERROR);
	cr_assert_eq(m.errcode, KRPC_ERR_GENERIC);
	cr_assert_eq(m.errmsglen, 23);
	cr_assert(memcmp(m.errmsg, "A Generic Error Ocurred", 23) == 0);
	cr_assert_eq(krpc_put_error(&out, (const uint8_t *)"aa", 2, 201,
	    "A Generic Error Ocurred"), GT_OK);
	OUT(e);
}

/* BEP 32, 33, 42, 43, 51 and "v", as we send them. */
Test(krpc, extensions_encoded)
{
	struct krpc_msg	m = { 0 };
	uint8_t		bf[KRPC_BLOOM_LEN];

	set_tid(&m, "xy");
	memcpy(m.id, ID_A, 20);
	memcpy(m.target, ID_M, 20);
	m.method = KRPC_GET_PEERS;
	m.want_n4 = m.want_n6 = true;
	m.scrape = m.noseed = m.ro = true;
	memcpy(m.version, KRPC_VERSION, KRPC_VERSION_LEN);
	m.versionlen = KRPC_VERSION_LEN;
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "6:noseedi1e"
	    "6:scrapei1e4:wantl2:n42:n6ee1:q9:get_peers2:roi1e1:t2:xy"
	    "1:v4:GQ\x00\x01" "1:y1:qe");

	m = (struct krpc_msg){ .method = KRPC_SAMPLE_INFOHASHES };
	set_tid(&m, "s");
	memcpy(m.id, ID_A, 20);
	memcpy(m.target, ID_M, 20);
	m.want_n6 = true;
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT("d1:ad2:id20:" ID_A "6:target20:" ID_M "4:wantl2:n6ee"
	    "1:q17:sample_infohashes1:t1:s1:y1:qe");

	m = (struct krpc_msg){ .method = KRPC_ANNOUNCE_PEER, .port = 51413,
	    .seed = true, .tokenlen = 1, .token = "k" };
	set_tid(&m, "a");
	memcpy(m.id, ID_A, 20);
	memcpy(m.target, ID_M, 20);
	m.want_n4 = true;	/* announce_peer takes no want */
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	OUT("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M "4:porti51413e"
	    "4:seedi1e5:token1:ke1:q13:announce_peer1:t1:a1:y1:qe");

	/* a response with everything */
	memset(bf, 'B', sizeof(bf));
	m = (struct krpc_msg){ .kind = KRPC_RESPONSE, .has_ip = true };
	set_tid(&m, "r");
	memcpy(m.id, ID_0, 20);
	cr_assert_eq(addr_parse("127.0.0.9:7000", 0, &m.ip), GT_OK);
	cr_assert_eq(addr_parse("[::1]:6881", 0, &m.nodes[0].a), GT_OK);
	memcpy(m.nodes[0].id, ID_M, 20);
	cr_assert_eq(addr_parse("127.0.0.1:6881", 0, &m.nodes[1].a), GT_OK);
	memcpy(m.nodes[1].id, ID_A, 20);
	m.nnodes = 2;
	cr_assert_eq(addr_parse("[::1]:6881", 0, &m.values[0]), GT_OK);
	cr_assert_eq(addr_parse("127.0.0.2:6882", 0, &m.values[1]), GT_OK);
	m.nvalues = 2;
	m.bf_seeds = m.bf_peers = bf;
	m.sampled = true;
	m.interval = 60;
	m.num = 3;
	m.samples = (const uint8_t *)ID_M ID_A;
	m.nsamples = 2;
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	cr_assert_eq(krpc_decode(out.data, out.len, &m), GT_OK);
	cr_assert_eq(m.nnodes, 2);
	cr_assert_eq(m.nodes[0].a.family, ADDR_V4, "nodes before nodes6");
	cr_assert_eq(m.nodes[1].a.family, ADDR_V6);
	cr_assert(memcmp(m.nodes[1].id, ID_M, 20) == 0);
	cr_assert_eq(m.values[0].family, ADDR_V6, "values keep their order");
	cr_assert(m.has_ip);
	cr_assert_eq(m.ip.port, 7000);
	cr_assert_not_null(m.bf_seeds);
	cr_assert(memcmp(m.bf_peers, bf, sizeof(bf)) == 0);
	cr_assert(m.sampled);
	cr_assert_eq(m.interval, 60);
	cr_assert_eq(m.num, 3);
	cr_assert_eq(m.nsamples, 2);
	cr_assert(memcmp(m.samples, ID_M ID_A, 40) == 0);
}

Test(krpc, extensions_decoded)
{
	struct krpc_msg	m;
	char		s[ADDR_STRLEN];

	/* ro and v in a query, want of both families and junk */
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "6:target20:" ID_M
	    "4:wantl2:n62:n3i4e2:n4ee1:q9:find_node2:roi1e1:t0:"
	    "1:v6:LT\x02\x00zz1:y1:qe", &m), GT_OK);
	cr_assert(m.ro);
	cr_assert(m.want_n4);
	cr_assert(m.want_n6);
	cr_assert_eq(m.tidlen, 0, "an empty tid is a tid");
	cr_assert_eq(m.versionlen, 4, "v cut at 4 bytes");
	cr_assert(memcmp(m.version, "LT\x02\x00", 4) == 0);

	/* ip of both families; a 4-byte ip is not compact: absent */
	cr_assert_eq(DEC("d2:ip18:" P6 "1:rd2:id20:" ID_M "e1:t1:x1:y1:re",
	    &m), GT_OK);
	cr_assert(m.has_ip);
	cr_assert_str_eq(addr_str(&m.ip, s), "[::1]:6881");
	cr_assert_eq(DEC("d2:ip6:" P1 "1:eli202e1:xe1:t1:x1:y1:ee", &m),
	    GT_OK);
	cr_assert(m.has_ip, "errors carry ip too");
	cr_assert_eq(m.errcode, 202);
	cr_assert_eq(DEC("d2:ip4:\x7f\x00\x00\x01" "1:rd2:id20:" ID_M
	    "e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert_not(m.has_ip);

	/* BEP 33 */
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "6:noseedi1e6:scrapei1ee1:q9:get_peers1:t1:x1:y1:qe", &m),
	    GT_OK);
	cr_assert(m.scrape);
	cr_assert(m.noseed);
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "4:porti1e4:seedi1e5:token1:te1:q13:announce_peer1:t1:x"
	    "1:y1:qe", &m), GT_OK);
	cr_assert(m.seed);
	cr_assert_not(m.implied_port);

	/* BEP 51: a short last sample is ignored, interval clamped */
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "8:intervali99999e3:numi-1e"
	    "7:samples45:" ID_A ID_M "12345e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert(m.sampled);
	cr_assert_eq(m.interval, KRPC_MAX_INTERVAL);
	cr_assert_eq(m.num, 0, "a negative num is absent");
	cr_assert_eq(m.nsamples, 2);
	cr_assert(memcmp(m.samples, ID_A ID_M, 40) == 0);
}

/* Unknown methods decode (the node answers 204), with a target if any. */
Test(krpc, unknown_method)
{
	struct krpc_msg	m;

	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "e1:q4:vote1:t1:x1:y1:qe", &m), GT_OK);
	cr_assert_eq(m.method, KRPC_UNKNOWN_METHOD);
	cr_assert(m.has_target);
	cr_assert(memcmp(m.target, ID_M, 20) == 0);
	cr_assert_eq(krpc_put_query(&out, &m), GT_EINVAL);
	cr_assert_eq(out.len, 0);
	cr_assert_str_eq(krpc_method_name(m.method), "unknown");
	cr_assert_str_eq(krpc_method_name(KRPC_SAMPLE_INFOHASHES),
	    "sample_infohashes");
}

static void
round_trip_query(enum krpc_method meth, bool n4, bool n6)
{
	struct krpc_msg	m = { 0 }, g;
	size_t		i;

	m.kind = KRPC_QUERY;
	m.method = meth;
	m.tidlen = KRPC_MAX_TID;
	for (i = 0; i < KRPC_MAX_TID; i++)
		m.tid[i] = (uint8_t)(i * 7);
	memset(m.id, 0x11, 20);
	if (meth != KRPC_PING) {
		m.has_target = true;
		memset(m.target, 0x22, 20);
	}
	if (meth != KRPC_PING && meth != KRPC_ANNOUNCE_PEER) {
		m.want_n4 = n4;
		m.want_n6 = n6;
	}
	if (meth == KRPC_ANNOUNCE_PEER) {
		m.port = 1;
		m.implied_port = n4;
		m.seed = n6;
		m.tokenlen = KRPC_MAX_TOKEN;
		memset(m.token, 0, KRPC_MAX_TOKEN);
	}
	if (meth == KRPC_GET_PEERS) {
		m.scrape = n4;
		m.noseed = n6;
	}
	m.ro = n6;
	cr_assert_eq(krpc_put_query(&out, &m), GT_OK);
	cr_assert_eq(krpc_decode(out.data, out.len, &g), GT_OK);
	buf_reset(&out);
	cr_assert_eq(g.kind, KRPC_QUERY);
	cr_assert_eq(g.method, meth);
	cr_assert_eq(g.tidlen, m.tidlen);
	cr_assert(memcmp(g.tid, m.tid, m.tidlen) == 0);
	cr_assert(memcmp(g.id, m.id, 20) == 0);
	cr_assert_eq(g.has_target, m.has_target);
	cr_assert(memcmp(g.target, m.target, 20) == 0 || !m.has_target);
	cr_assert_eq(g.want_n4, m.want_n4);
	cr_assert_eq(g.want_n6, m.want_n6);
	cr_assert_eq(g.port, m.port);
	cr_assert_eq(g.implied_port, m.implied_port);
	cr_assert_eq(g.seed, m.seed);
	cr_assert_eq(g.scrape, m.scrape);
	cr_assert_eq(g.noseed, m.noseed);
	cr_assert_eq(g.ro, m.ro);
	cr_assert_eq(g.tokenlen, m.tokenlen);
	cr_assert(memcmp(g.token, m.token, m.tokenlen) == 0);
}

Test(krpc, round_trip_queries)
{
	enum krpc_method	meth;
	int			f;

	for (meth = KRPC_PING; meth < KRPC_UNKNOWN_METHOD; meth++)
		for (f = 0; f < 4; f++)
			round_trip_query(meth, f & 1, f & 2);
}

static void
round_trip_response(enum addr_family fam)
{
	struct krpc_msg	m = { .kind = KRPC_RESPONSE }, g;
	char		s[ADDR_STRLEN], t[ADDR_STRLEN];
	size_t		i;

	m.tidlen = 2;
	memcpy(m.tid, "\x00\xff", 2);
	memset(m.id, 0x33, 20);
	for (i = 0; i < KRPC_MAX_NODES; i++) {
		snprintf(s, sizeof(s), fam == ADDR_V4 ? "127.0.0.%zu:%zu" :
		    "[::1]:%zu%zu", i + 1, i + 1);
		cr_assert_eq(addr_parse(s, 0, &m.nodes[i].a), GT_OK, "%s", s);
		memset(m.nodes[i].id, (int)i, 20);
	}
	m.nnodes = KRPC_MAX_NODES;
	for (i = 0; i < KRPC_MAX_VALUES; i++) {
		m.values[i] = m.nodes[i % KRPC_MAX_NODES].a;
		m.values[i].port = (uint16_t)(1000 + i);
	}
	m.nvalues = KRPC_MAX_VALUES;
	m.tokenlen = 4;
	memcpy(m.token, "\x00tok", 4);
	m.has_ip = true;
	m.ip = m.nodes[3].a;
	m.versionlen = 2;
	memcpy(m.version, "GQ", 2);
	cr_assert_eq(krpc_put_response(&out, &m), GT_OK);
	cr_assert_eq(krpc_decode(out.data, out.len, &g), GT_OK);
	buf_reset(&out);
	cr_assert_eq(g.kind, KRPC_RESPONSE);
	cr_assert_eq(g.tidlen, 2);
	cr_assert(memcmp(g.tid, "\x00\xff", 2) == 0);
	cr_assert(memcmp(g.id, m.id, 20) == 0);
	cr_assert_eq(g.nnodes, m.nnodes);
	for (i = 0; i < m.nnodes; i++) {
		cr_assert(addr_eq(&g.nodes[i].a, &m.nodes[i].a), "%s != %s",
		    addr_str(&g.nodes[i].a, s), addr_str(&m.nodes[i].a, t));
		cr_assert(memcmp(g.nodes[i].id, m.nodes[i].id, 20) == 0);
	}
	cr_assert_eq(g.nvalues, m.nvalues);
	for (i = 0; i < m.nvalues; i++)
		cr_assert(addr_eq(&g.values[i], &m.values[i]));
	cr_assert_eq(g.tokenlen, 4);
	cr_assert(memcmp(g.token, m.token, 4) == 0);
	cr_assert(g.has_ip);
	cr_assert(addr_eq(&g.ip, &m.ip));
	cr_assert_eq(g.versionlen, 2);
	cr_assert_not(g.sampled);
}

Test(krpc, round_trip_responses)
{
	round_trip_response(ADDR_V4);
	round_trip_response(ADDR_V6);
}

Test(krpc, round_trip_errors)
{
	struct krpc_msg	m;
	char		big[300];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(krpc_put_error(&out, (const uint8_t *)"t", 1,
	    KRPC_ERR_METHOD, "Method Unknown"), GT_OK);
	cr_assert_eq(krpc_decode(out.data, out.len, &m), GT_OK);
	buf_reset(&out);
	cr_assert_eq(m.kind, KRPC_ERROR);
	cr_assert_eq(m.errcode, 204);
	cr_assert_eq(m.errmsglen, 14);
	cr_assert_eq(krpc_put_error(&out, NULL, 0, -5, big), GT_OK);
	cr_assert_eq(krpc_decode(out.data, out.len, &m), GT_OK);
	cr_assert_eq(m.tidlen, 0);
	cr_assert_eq(m.errcode, -5);
	cr_assert_eq(m.errmsglen, KRPC_MAX_ERRMSG);
	buf_reset(&out);
	cr_assert_eq(krpc_put_error(&out, (const uint8_t *)big, 33, 201, ""),
	    GT_EINVAL, "an oversized tid is never echoed");
	cr_assert_eq(out.len, 0);
}

/* Builds d1:t<tidlen>:...1:y1:q1:q4:ping1:ad2:id20:...ee (sorted keys). */
static size_t
ping_with_tid(uint8_t *p, size_t tidlen)
{
	size_t	n;

	n = (size_t)sprintf((char *)p, "d1:ad2:id20:" ID_A "e1:q4:ping"
	    "1:t%zu:", tidlen);
	memset(p + n, 'T', tidlen);
	n += tidlen;
	memcpy(p + n, "1:y1:qe", 7);
	return n + 7;
}

Test(krpc, cap_tid)
{
	static uint8_t	p[80000];
	struct krpc_msg	m;
	size_t		n;

	n = ping_with_tid(p, KRPC_MAX_TID);
	cr_assert_eq(dec(p, n, &m), GT_OK);
	cr_assert_eq(m.tidlen, KRPC_MAX_TID);
	n = ping_with_tid(p, KRPC_MAX_TID + 1);
	cr_assert_eq(dec(p, n, &m), GT_EPROTO, "33-byte tid");
	cr_assert_eq(m.tidlen, (size_t)0xa5a5a5a5a5a5a5a5,
	    "nothing written");
	n = ping_with_tid(p, 4000);
	cr_assert_lt(n, KRPC_MAX_PACKET);
	cr_assert_eq(dec(p, n, &m), GT_EPROTO, "4000-byte tid");
	/* 70 KB: refused on its length, before any parsing */
	n = ping_with_tid(p, 70000);
	cr_assert_eq(dec(p, n, &m), GT_EPROTO, "70 KB tid");
	cr_assert_eq(dec(p, KRPC_MAX_PACKET + 1, &m), GT_EPROTO);
}

/* A find_node response with count v4 (or v6) nodes. */
static size_t
nodes_response(uint8_t *p, size_t count, enum addr_family fam)
{
	size_t	n, i, step = fam == ADDR_V4 ? 26 : 38;

	n = (size_t)sprintf((char *)p, "d1:rd2:id20:" ID_M "%s%zu:",
	    fam == ADDR_V4 ? "5:nodes" : "6:nodes6", count * step);
	for (i = 0; i < count; i++) {
		memset(p + n, (int)i, 20);
		if (fam == ADDR_V4)
			memcpy(p + n + 20, P1, 6);
		else
			memcpy(p + n + 20, P6, 18);
		p[n + step - 1] = (uint8_t)(i + 1);	/* port != 0 */
		n += step;
	}
	memcpy(p + n, "e1:t1:x1:y1:re", 14);
	return n + 14;
}

Test(krpc, cap_nodes)
{
	static uint8_t	p[40000];
	struct krpc_msg	m;
	size_t		n;

	n = nodes_response(p, 150, ADDR_V4);
	cr_assert_leq(n, KRPC_MAX_PACKET);
	cr_assert_eq(dec(p, n, &m), GT_OK);
	cr_assert_eq(m.nnodes, KRPC_MAX_NODES, "only the cap taken");
	cr_assert_eq(m.nodes[15].a.port, 0x1a00 + 16);
	cr_assert_eq(m.nodes[15].id[0], 15);
	n = nodes_response(p, 100, ADDR_V6);
	cr_assert_eq(dec(p, n, &m), GT_OK);
	cr_assert_eq(m.nnodes, KRPC_MAX_NODES);
	cr_assert_eq(m.nodes[0].a.family, ADDR_V6);
	/* 1000 nodes do not fit a datagram we accept */
	n = nodes_response(p, 1000, ADDR_V4);
	cr_assert_gt(n, KRPC_MAX_PACKET);
	cr_assert_eq(dec(p, n, &m), GT_EPROTO);
}

Test(krpc, cap_values)
{
	static uint8_t	p[KRPC_MAX_PACKET + 100];
	struct krpc_msg	m;
	size_t		n, i;

	n = (size_t)sprintf((char *)p, "d1:rd2:id20:" ID_M "6:valuesl");
	for (i = 0; i < 300; i++) {
		memcpy(p + n, "6:" P1, 8);
		n += 8;
	}
	memcpy(p + n, "ee1:t1:x1:y1:re", 15);
	n += 15;
	cr_assert_eq(dec(p, n, &m), GT_OK);
	cr_assert_eq(m.nvalues, KRPC_MAX_VALUES);
	/* more values than the decoder's value cap: refused whole */
	n = (size_t)sprintf((char *)p, "d1:rd2:id20:" ID_M "6:valuesl");
	for (i = 0; i < 600; i++) {
		memcpy(p + n, "0:", 2);
		n += 2;
	}
	memcpy(p + n, "ee1:t1:x1:y1:re", 15);
	n += 15;
	cr_assert_eq(dec(p, n, &m), GT_EPROTO);
}

Test(krpc, deep_nesting)
{
	static uint8_t	p[KRPC_MAX_PACKET];
	struct krpc_msg	m;
	size_t		n, i, depth;

	/* "z" holds depth-2 lists: depth 8 in all is fine, 9 is not */
	for (depth = 6; depth <= 7; depth++) {
		n = (size_t)sprintf((char *)p, "d1:ad2:id20:" ID_A "1:z");
		for (i = 0; i < depth; i++)
			p[n++] = 'l';
		for (i = 0; i < depth; i++)
			p[n++] = 'e';
		n += (size_t)sprintf((char *)p + n,
		    "e1:q4:ping1:t1:x1:y1:qe");
		cr_assert_eq(dec(p, n, &m), depth == 6 ? GT_OK : GT_EPROTO,
		    "depth %zu", depth + 2);
	}
	/* a whole datagram of '[' */
	memset(p, 'l', sizeof(p));
	p[0] = 'd';
	cr_assert_eq(dec(p, sizeof(p), &m), GT_EPROTO);
}

Test(krpc, malformed_envelope)
{
	struct krpc_msg	m;

	cr_assert_eq(DEC("", &m), GT_EPROTO);
	cr_assert_eq(DEC("d", &m), GT_EPROTO);
	cr_assert_eq(DEC("de", &m), GT_EPROTO);
	cr_assert_eq(DEC("le", &m), GT_EPROTO, "not a dict");
	cr_assert_eq(DEC("i1e", &m), GT_EPROTO);
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "e1:t1:x1:y1:reX", &m),
	    GT_EPROTO, "trailing bytes");
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "e1:y1:re", &m), GT_EPROTO,
	    "no t");
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "e1:ti1e1:y1:re", &m),
	    GT_EPROTO, "t not a string");
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "e1:t1:xe", &m), GT_EPROTO,
	    "no y");
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "e1:t1:x1:y1:ze", &m),
	    GT_EPROTO, "y unknown");
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "e1:t1:x1:y2:rre", &m),
	    GT_EPROTO);
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "e1:t1:x1:y1:qe", &m),
	    GT_EPROTO, "query without q");
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "e1:qi1e1:t1:x1:y1:qe", &m),
	    GT_EPROTO, "q not a string");
	cr_assert_eq(DEC("d1:q4:ping1:t1:x1:y1:qe", &m), GT_EPROTO,
	    "query without a");
	cr_assert_eq(DEC("d1:al2:ide1:q4:ping1:t1:x1:y1:qe", &m),
	    GT_EPROTO, "a not a dict");
	cr_assert_eq(DEC("d1:ad2:id19:abcdefghij012345678e1:q4:ping"
	    "1:t1:x1:y1:qe", &m), GT_EPROTO, "19-byte id");
	cr_assert_eq(DEC("d1:ad2:id21:abcdefghij0123456789Xe1:q4:ping"
	    "1:t1:x1:y1:qe", &m), GT_EPROTO, "21-byte id");
	cr_assert_eq(DEC("d1:t1:x1:y1:re", &m), GT_EPROTO, "no r");
	cr_assert_eq(DEC("d1:rde1:t1:x1:y1:re", &m), GT_EPROTO, "no id");
	cr_assert_eq(DEC("d1:rd2:idi5ee1:t1:x1:y1:re", &m), GT_EPROTO);
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "e1:ad2:id20:" ID_A
	    "e1:q4:ping1:t1:x1:y1:qe", &m), GT_EPROTO, "repeated key");
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "e1:q4:ping1:t1:x1:y1:qe"
	    "\0", &m), GT_EPROTO);

	/* errors need only t and y */
	cr_assert_eq(DEC("d1:t1:x1:y1:ee", &m), GT_OK);
	cr_assert_eq(m.kind, KRPC_ERROR);
	cr_assert_eq(m.errcode, 0);
	cr_assert_eq(m.errmsglen, 0);
	cr_assert_eq(DEC("d1:e3:abc1:t1:x1:y1:ee", &m), GT_OK);
	cr_assert_eq(m.errcode, 0);
	cr_assert_eq(DEC("d1:eli99999999999e3:abce1:t1:x1:y1:ee", &m),
	    GT_OK);
	cr_assert_eq(m.errcode, INT_MAX, "clamped");
	cr_assert_eq(m.errmsglen, 3);
}

Test(krpc, bad_arguments)
{
	struct krpc_msg	m;

	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "e1:q9:find_node1:t1:x1:y1:qe",
	    &m), GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad target");
	cr_assert_eq(m.kind, KRPC_QUERY, "filled for a 203");
	cr_assert_eq(m.tidlen, 1);
	cr_assert_eq(m.tid[0], 'x');
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "6:target19:abcdefghij012345678"
	    "e1:q17:sample_infohashes1:t1:x1:y1:qe", &m), GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad target");
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "6:target20:" ID_M
	    "e1:q9:get_peers1:t1:x1:y1:qe", &m), GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad info_hash");
	/* announce_peer: token, port */
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "4:porti1ee1:q13:announce_peer1:t1:x1:y1:qe", &m), GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad token");
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "4:porti1e5:token0:e1:q13:announce_peer1:t1:x1:y1:qe", &m),
	    GT_EINVAL);
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "4:porti1e5:token33:123456789012345678901234567890123"
	    "e1:q13:announce_peer1:t1:x1:y1:qe", &m), GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad token");
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "5:token1:ke1:q13:announce_peer1:t1:x1:y1:qe", &m), GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad port");
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "4:porti0e5:token1:ke1:q13:announce_peer1:t1:x1:y1:qe", &m),
	    GT_EINVAL);
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "9:info_hash20:" ID_M
	    "4:porti65536e5:token1:ke1:q13:announce_peer1:t1:x1:y1:qe", &m),
	    GT_EINVAL);
	cr_assert_str_eq(m.bad, "bad port");
	/* implied_port needs no port */
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "12:implied_porti1e"
	    "9:info_hash20:" ID_M "5:token1:ke1:q13:announce_peer1:t1:x"
	    "1:y1:qe", &m), GT_OK);
	cr_assert(m.implied_port);
	cr_assert_eq(m.port, 0);
	cr_assert_null(m.bad);
}

Test(krpc, malformed_optional_fields)
{
	struct krpc_msg	m;

	/* a trailing partial node is ignored; port-0 nodes are skipped */
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "5:nodes27:" ID_A P1 "X"
	    "6:nodes638:" ID_A "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1\0\0"
	    "e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert_eq(m.nnodes, 1);
	cr_assert_eq(m.nodes[0].a.family, ADDR_V4);
	/* nodes of the wrong type: absent */
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "5:nodesi1e6:nodes6le"
	    "e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert_eq(m.nnodes, 0);
	/* values: wrong lengths, port 0, non-strings skipped */
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "6:valuesl5:\x7f\0\0\1\1"
	    "6:\x7f\0\0\1\0\0i6e18:" P6 "7:" P1 "X6:" P2 "ee1:t1:x1:y1:re", &m),
	    GT_OK);
	cr_assert_eq(m.nvalues, 2);
	cr_assert_eq(m.values[0].family, ADDR_V6);
	cr_assert_eq(m.values[1].port, 6882);
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "6:values6:" P1
	    "e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert_eq(m.nvalues, 0, "values not a list");
	/* a token over the cap, blooms of the wrong size: absent */
	cr_assert_eq(DEC("d4:BFpe3:abc4:BFsd0:1:rd4:BFpe1:x2:id20:" ID_M
	    "5:token33:123456789012345678901234567890123"
	    "e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert_eq(m.tokenlen, 0);
	cr_assert_null(m.bf_seeds);
	cr_assert_null(m.bf_peers);
	/* samples of the wrong type, interval negative: not sampled */
	cr_assert_eq(DEC("d1:rd2:id20:" ID_M "8:intervali-1e7:samplesi1e"
	    "e1:t1:x1:y1:re", &m), GT_OK);
	cr_assert_not(m.sampled);
	cr_assert_null(m.samples);
	/* ro, implied_port of the wrong type: not set; want not a list */
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "6:target20:" ID_M
	    "4:want2:n4e1:q9:find_node2:ro1:11:t1:x1:y1:qe", &m), GT_OK);
	cr_assert_not(m.ro);
	cr_assert_not(m.want_n4);
	cr_assert_eq(DEC("d1:ad2:id20:" ID_A "6:target20:" ID_M
	    "e1:q9:find_node2:roi0e1:t1:x1:vi1e1:y1:qe", &m), GT_OK);
	cr_assert_not(m.ro, "ro 0");
	cr_assert_eq(m.versionlen, 0, "v not a string");
}

Test(krpc, encoder_limits)
{
	struct krpc_msg	m = { .method = KRPC_PING };
	struct buf	small;

	set_tid(&m, "aa");
	memcpy(m.id, ID_A, 20);
	buf_init(&small, 20);
	cr_assert_eq(buf_append(&small, "xyz", 3), GT_OK);
	cr_assert_eq(krpc_put_query(&small, &m), GT_ETOOBIG);
	cr_assert_eq(small.len, 3, "left as it was");
	cr_assert_eq(krpc_put_response(&small, &m), GT_ETOOBIG);
	cr_assert_eq(small.len, 3);
	cr_assert_eq(krpc_put_error(&small, m.tid, 2, 201, "long enough"),
	    GT_ETOOBIG);
	cr_assert_eq(small.len, 3);
	buf_clear(&small);

	m.tidlen = KRPC_MAX_TID + 1;
	cr_assert_eq(krpc_put_query(&out, &m), GT_EINVAL);
	cr_assert_eq(krpc_put_response(&out, &m), GT_EINVAL);
	m.tidlen = 2;
	m.method = KRPC_UNKNOWN_METHOD;
	cr_assert_eq(krpc_put_query(&out, &m), GT_EINVAL);
	m.nvalues = 1;		/* a zeroed address: no family */
	cr_assert_eq(krpc_put_response(&out, &m), GT_EINVAL);
	m.nvalues = 0;
	m.nnodes = 1;
	cr_assert_eq(krpc_put_response(&out, &m), GT_EINVAL);
	m.nnodes = 0;
	m.has_ip = true;
	cr_assert_eq(krpc_put_response(&out, &m), GT_EINVAL);
	cr_assert_eq(out.len, 0);
}
