/* fuzz-krpc.c - libFuzzer target: KRPC datagrams from the DHT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "krpc.h"
#include "util.h"

#include "fuzz.h"

/*
 * The input is one datagram.  A message that decodes is encoded again as
 * its kind (a query of an unknown method or with bad arguments as the
 * error the node would send), that decodes to the same fields, and
 * encoding those gives the same bytes (ours are canonical).
 */

static bool
within(const uint8_t *p, size_t len, const uint8_t *in, size_t inlen)
{
	return p >= in && len <= inlen && (size_t)(p - in) <= inlen - len;
}

/* Invariants of any decoded message; in is the datagram. */
static void
check_fields(const struct krpc_msg *m, const uint8_t *in, size_t inlen)
{
	size_t	i;

	CHECK(m->kind == KRPC_QUERY || m->kind == KRPC_RESPONSE ||
	    m->kind == KRPC_ERROR);
	CHECK(m->method <= KRPC_UNKNOWN_METHOD);
	CHECK(m->kind == KRPC_QUERY || m->method == KRPC_UNKNOWN_METHOD);
	CHECK(m->tidlen <= KRPC_MAX_TID);
	CHECK(m->versionlen <= KRPC_MAX_VERSION);
	CHECK(m->tokenlen <= KRPC_MAX_TOKEN);
	CHECK(m->nnodes <= 2 * KRPC_MAX_NODES);
	for (i = 0; i < m->nnodes; i++) {
		CHECK(m->nodes[i].a.family == ADDR_V4 ||
		    m->nodes[i].a.family == ADDR_V6);
		CHECK(m->nodes[i].a.port != 0);
		CHECK(i == 0 ||
		    m->nodes[i - 1].a.family <= m->nodes[i].a.family);
	}
	CHECK(m->nvalues <= KRPC_MAX_VALUES);
	for (i = 0; i < m->nvalues; i++) {
		CHECK(m->values[i].family == ADDR_V4 ||
		    m->values[i].family == ADDR_V6);
		CHECK(m->values[i].port != 0);
	}
	if (m->has_ip)
		CHECK(m->ip.family == ADDR_V4 || m->ip.family == ADDR_V6);
	CHECK(m->bf_seeds == NULL ||
	    within(m->bf_seeds, KRPC_BLOOM_LEN, in, inlen));
	CHECK(m->bf_peers == NULL ||
	    within(m->bf_peers, KRPC_BLOOM_LEN, in, inlen));
	CHECK(m->interval <= KRPC_MAX_INTERVAL);
	CHECK(m->nsamples <= KRPC_MAX_SAMPLES);
	CHECK((m->samples == NULL) == (m->nsamples == 0));
	CHECK(m->samples == NULL ||
	    within(m->samples, m->nsamples * KRPC_ID_LEN, in, inlen));
	CHECK(m->sampled || (m->nsamples == 0 && m->interval == 0 &&
	    m->num == 0));
	CHECK(m->errmsglen <= KRPC_MAX_ERRMSG);
}

/* What a query of m's method carries on the wire, the rest zeroed. */
static void
query_view(const struct krpc_msg *m, struct krpc_msg *v)
{
	*v = (struct krpc_msg){
		.kind = KRPC_QUERY,
		.method = m->method,
		.tidlen = m->tidlen,
		.versionlen = m->versionlen,
		.ro = m->ro,
	};
	memcpy(v->tid, m->tid, m->tidlen);
	memcpy(v->version, m->version, m->versionlen);
	memcpy(v->id, m->id, KRPC_ID_LEN);
	switch (m->method) {
	case KRPC_FIND_NODE:
	case KRPC_SAMPLE_INFOHASHES:
	case KRPC_GET_PEERS:
		v->want_n4 = m->want_n4;
		v->want_n6 = m->want_n6;
		break;
	default:
		break;
	}
	if (m->method != KRPC_PING) {
		v->has_target = m->has_target;
		memcpy(v->target, m->target, KRPC_ID_LEN);
	}
	if (m->method == KRPC_GET_PEERS) {
		v->scrape = m->scrape;
		v->noseed = m->noseed;
	}
	if (m->method == KRPC_ANNOUNCE_PEER) {
		v->port = m->port;
		v->implied_port = m->implied_port;
		v->seed = m->seed;
		v->tokenlen = m->tokenlen;
		memcpy(v->token, m->token, m->tokenlen);
	}
}

static void
same_query(const struct krpc_msg *a, const struct krpc_msg *b)
{
	struct krpc_msg	x, y;

	query_view(a, &x);
	query_view(b, &y);
	CHECK(x.method == y.method);
	CHECK(x.tidlen == y.tidlen && memcmp(x.tid, y.tid, x.tidlen) == 0);
	CHECK(x.versionlen == y.versionlen &&
	    memcmp(x.version, y.version, x.versionlen) == 0);
	CHECK(memcmp(x.id, y.id, KRPC_ID_LEN) == 0);
	CHECK(x.ro == y.ro);
	CHECK(x.has_target == y.has_target);
	CHECK(memcmp(x.target, y.target, KRPC_ID_LEN) == 0);
	CHECK(x.want_n4 == y.want_n4 && x.want_n6 == y.want_n6);
	CHECK(x.scrape == y.scrape && x.noseed == y.noseed);
	CHECK(x.port == y.port && x.implied_port == y.implied_port);
	CHECK(x.seed == y.seed);
	CHECK(x.tokenlen == y.tokenlen &&
	    memcmp(x.token, y.token, x.tokenlen) == 0);
}

static void
same_response(const struct krpc_msg *a, const struct krpc_msg *b)
{
	size_t	i;

	CHECK(a->tidlen == b->tidlen &&
	    memcmp(a->tid, b->tid, a->tidlen) == 0);
	CHECK(a->versionlen == b->versionlen &&
	    memcmp(a->version, b->version, a->versionlen) == 0);
	CHECK(memcmp(a->id, b->id, KRPC_ID_LEN) == 0);
	CHECK(a->nnodes == b->nnodes);
	for (i = 0; i < a->nnodes; i++) {
		CHECK(memcmp(a->nodes[i].id, b->nodes[i].id,
		    KRPC_ID_LEN) == 0);
		CHECK(addr_eq(&a->nodes[i].a, &b->nodes[i].a));
	}
	CHECK(a->nvalues == b->nvalues);
	for (i = 0; i < a->nvalues; i++)
		CHECK(addr_eq(&a->values[i], &b->values[i]));
	CHECK(a->tokenlen == b->tokenlen &&
	    memcmp(a->token, b->token, a->tokenlen) == 0);
	CHECK(a->has_ip == b->has_ip);
	CHECK(!a->has_ip || addr_eq(&a->ip, &b->ip));
	CHECK((a->bf_seeds == NULL) == (b->bf_seeds == NULL));
	CHECK(a->bf_seeds == NULL ||
	    memcmp(a->bf_seeds, b->bf_seeds, KRPC_BLOOM_LEN) == 0);
	CHECK((a->bf_peers == NULL) == (b->bf_peers == NULL));
	CHECK(a->bf_peers == NULL ||
	    memcmp(a->bf_peers, b->bf_peers, KRPC_BLOOM_LEN) == 0);
	CHECK(a->sampled == b->sampled);
	CHECK(a->interval == b->interval && a->num == b->num);
	CHECK(a->nsamples == b->nsamples);
	CHECK(a->nsamples == 0 || memcmp(a->samples, b->samples,
	    a->nsamples * KRPC_ID_LEN) == 0);
}

/* An error with code and C-string msg goes out and comes back. */
static void
check_error(const struct krpc_msg *m, int code, const char *msg,
    struct buf *b)
{
	struct krpc_msg	g;
	size_t		first;

	CHECK(krpc_put_error(b, m->tid, m->tidlen, code, msg) == GT_OK);
	CHECK(krpc_decode(b->data, b->len, &g) == GT_OK);
	CHECK(g.kind == KRPC_ERROR);
	CHECK(g.tidlen == m->tidlen &&
	    memcmp(g.tid, m->tid, m->tidlen) == 0);
	CHECK(g.errcode == code);
	CHECK(g.errmsglen == strlen(msg));
	CHECK(memcmp(g.errmsg, msg, g.errmsglen) == 0);
	CHECK(!g.has_ip && g.versionlen == 0);
	first = b->len;
	CHECK(krpc_put_error(b, g.tid, g.tidlen, g.errcode,
	    msg) == GT_OK);
	CHECK(b->len == 2 * first);
	CHECK(memcmp(b->data, b->data + first, first) == 0);
}

/*
 * Encodes m as its kind into b, decodes that into *g (borrowing from a
 * copy, so that b may grow), encodes *g into b2: the same bytes.
 */
static void
check_msg(const struct krpc_msg *m, struct buf *b)
{
	static struct krpc_msg	g, h;
	char			msg[KRPC_MAX_ERRMSG + 1];
	struct buf		b2;
	uint8_t			*c;

	if (m->kind == KRPC_ERROR) {
		/* the message up to its first NUL, as a C string */
		memcpy(msg, m->errmsg, m->errmsglen);
		msg[m->errmsglen] = '\0';
		check_error(m, m->errcode, msg, b);
		return;
	}
	if (m->kind == KRPC_QUERY && m->method == KRPC_UNKNOWN_METHOD) {
		CHECK(krpc_put_query(b, m) == GT_EINVAL);
		CHECK(b->len == 0);
		check_error(m, KRPC_ERR_METHOD, "Method Unknown", b);
		return;
	}
	buf_init(&b2, 1u << 20);
	if (m->kind == KRPC_QUERY)
		CHECK(krpc_put_query(b, m) == GT_OK);
	else
		CHECK(krpc_put_response(b, m) == GT_OK);
	c = malloc(b->len);
	CHECK(c != NULL);
	memcpy(c, b->data, b->len);
	CHECK(krpc_decode(c, b->len, &g) == GT_OK);
	CHECK(g.kind == m->kind);
	check_fields(&g, c, b->len);
	if (m->kind == KRPC_QUERY) {
		same_query(m, &g);
		CHECK(krpc_put_query(&b2, &g) == GT_OK);
	} else {
		same_response(m, &g);
		CHECK(krpc_put_response(&b2, &g) == GT_OK);
	}
	CHECK(b2.len == b->len);
	CHECK(memcmp(b2.data, b->data, b->len) == 0);
	CHECK(krpc_decode(b2.data, b2.len, &h) == GT_OK);
	if (m->kind == KRPC_QUERY)
		same_query(&g, &h);
	else
		same_response(&g, &h);
	free(c);
	buf_clear(&b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static struct krpc_msg	m;
	struct buf		b;
	uint8_t			*p;
	enum gt_err		e;

	/* a copy of exactly the datagram, so ASan sees any over-read */
	p = malloc(size > 0 ? size : 1);
	CHECK(p != NULL);
	if (size > 0)
		memcpy(p, in, size);
	buf_init(&b, 1u << 20);
	e = krpc_decode(p, size, &m);
	if (e == GT_OK) {
		CHECK(size <= KRPC_MAX_PACKET);
		CHECK(m.bad == NULL);
		check_fields(&m, p, size);
		check_msg(&m, &b);
	} else if (e == GT_EINVAL) {
		/* a query with unusable arguments: answered with a 203 */
		CHECK(m.kind == KRPC_QUERY && m.bad != NULL);
		CHECK(m.method < KRPC_UNKNOWN_METHOD);
		check_fields(&m, p, size);
		check_error(&m, KRPC_ERR_PROTOCOL, m.bad, &b);
	} else {
		CHECK(e == GT_EPROTO);
	}
	buf_clear(&b);
	free(p);
	return 0;
}
