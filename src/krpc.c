/* krpc.c - KRPC messages of the DHT (BEP 5, 32, 33, 42, 43, 51) */
#include <limits.h>
#include <string.h>

#include "bencode.h"
#include "krpc.h"
#include "util.h"

/*
 * A KRPC message nests three deep at most (dict, "a" or "r", "want" or
 * "values"); future keys get some room.  libtorrent decodes DHT packets
 * with depth 10 and 500 tokens: a response with more values than that is
 * refused whole there too.
 */
static const struct bencode_limits krpc_limits = {
	.max_input = KRPC_MAX_PACKET,
	.max_depth = 8,
	.max_nodes = 512,
};

static const char *const krpc_method_names[] = {
	[KRPC_PING] = "ping",
	[KRPC_FIND_NODE] = "find_node",
	[KRPC_GET_PEERS] = "get_peers",
	[KRPC_ANNOUNCE_PEER] = "announce_peer",
	[KRPC_SAMPLE_INFOHASHES] = "sample_infohashes",
	[KRPC_UNKNOWN_METHOD] = "unknown",
};

const char *
krpc_method_name(enum krpc_method m)
{
	if ((unsigned)m >= nitems(krpc_method_names))
		return "unknown";
	return krpc_method_names[m];
}

/* A string value of exactly len bytes under key, or NULL. */
static const uint8_t *
get_fixed(const struct bencode_doc *d, const struct bencode_node *dict,
    const char *key, size_t len)
{
	const struct bencode_node	*n;

	n = bencode_dict_get_type(d, dict, key, BENCODE_STR);
	if (n == NULL || n->slen != len)
		return NULL;
	return n->s;
}

/* An integer flag: present and non-zero. */
static bool
get_flag(const struct bencode_doc *d, const struct bencode_node *dict,
    const char *key)
{
	const struct bencode_node	*n;

	n = bencode_dict_get_type(d, dict, key, BENCODE_INT);
	return n != NULL && n->i != 0;
}

/* Whole entries of a compact node list, port 0 skipped, max taken. */
static void
take_nodes(const struct bencode_node *n, enum addr_family fam,
    struct krpc_msg *m)
{
	size_t		 iplen = fam == ADDR_V4 ? 4 : 16;
	size_t		 step = KRPC_ID_LEN + iplen + 2, i, k = 0;
	const uint8_t	*p;

	if (n == NULL)
		return;
	for (i = 0; i + step <= n->slen && k < KRPC_MAX_NODES; i += step) {
		struct krpc_node	*kn = &m->nodes[m->nnodes];

		p = n->s + i;
		memset(kn, 0, sizeof(*kn));
		memcpy(kn->id, p, KRPC_ID_LEN);
		kn->a.family = (uint8_t)fam;
		memcpy(kn->a.ip, p + KRPC_ID_LEN, iplen);
		kn->a.port = load_be16(p + KRPC_ID_LEN + iplen);
		if (kn->a.port == 0)
			continue;
		m->nnodes++;
		k++;
	}
}

/* A compact peer of 6 or 18 bytes into a; false for another length. */
static bool
compact_peer(const uint8_t *p, size_t len, struct netaddr *a)
{
	size_t	iplen;

	if (len != 6 && len != 18)
		return false;
	iplen = len - 2;
	memset(a, 0, sizeof(*a));
	a->family = iplen == 4 ? ADDR_V4 : ADDR_V6;
	memcpy(a->ip, p, iplen);
	a->port = load_be16(p + iplen);
	return true;
}

static void
take_values(const struct bencode_doc *d, const struct bencode_node *list,
    struct krpc_msg *m)
{
	const struct bencode_node	*v;
	struct netaddr			 a;

	if (list == NULL)
		return;
	for (v = bencode_first(d, list); v != NULL && m->nvalues <
	    KRPC_MAX_VALUES; v = bencode_next(d, list, v)) {
		if (v->type != BENCODE_STR ||
		    !compact_peer(v->s, v->slen, &a) || a.port == 0)
			continue;
		m->values[m->nvalues++] = a;
	}
}

static void
take_want(const struct bencode_doc *d, const struct bencode_node *list,
    struct krpc_msg *m)
{
	const struct bencode_node	*v;

	if (list == NULL)
		return;
	for (v = bencode_first(d, list); v != NULL;
	    v = bencode_next(d, list, v)) {
		if (bencode_str_eq(v, "n4"))
			m->want_n4 = true;
		else if (bencode_str_eq(v, "n6"))
			m->want_n6 = true;
	}
}

static enum krpc_method
method_of(const struct bencode_node *q)
{
	size_t	i;

	for (i = 0; i < KRPC_UNKNOWN_METHOD; i++)
		if (bencode_str_eq(q, krpc_method_names[i]))
			return (enum krpc_method)i;
	return KRPC_UNKNOWN_METHOD;
}

/* The arguments "a" of a query; GT_EINVAL with m->bad when unusable. */
static enum gt_err
decode_args(const struct bencode_doc *d, const struct bencode_node *a,
    struct krpc_msg *m)
{
	const struct bencode_node	*n;
	const uint8_t			*t;
	const char			*tkey;

	switch (m->method) {
	case KRPC_FIND_NODE:
	case KRPC_SAMPLE_INFOHASHES:
		tkey = "target";
		break;
	case KRPC_GET_PEERS:
	case KRPC_ANNOUNCE_PEER:
		tkey = "info_hash";
		break;
	default:
		tkey = NULL;
		break;
	}
	if (tkey != NULL)
		t = get_fixed(d, a, tkey, KRPC_ID_LEN);
	else if (m->method == KRPC_UNKNOWN_METHOD &&
	    (t = get_fixed(d, a, "target", KRPC_ID_LEN)) == NULL)
		t = get_fixed(d, a, "info_hash", KRPC_ID_LEN);
	else
		t = NULL;
	if (t != NULL) {
		m->has_target = true;
		memcpy(m->target, t, KRPC_ID_LEN);
	}
	take_want(d, bencode_dict_get_type(d, a, "want", BENCODE_LIST), m);
	m->scrape = get_flag(d, a, "scrape");
	m->noseed = get_flag(d, a, "noseed");
	m->seed = get_flag(d, a, "seed");
	m->implied_port = get_flag(d, a, "implied_port");
	n = bencode_dict_get_type(d, a, "port", BENCODE_INT);
	if (n != NULL && n->i >= 1 && n->i <= 65535)
		m->port = (uint16_t)n->i;
	n = bencode_dict_get_type(d, a, "token", BENCODE_STR);
	if (n != NULL && n->slen > 0 && n->slen <= KRPC_MAX_TOKEN) {
		memcpy(m->token, n->s, n->slen);
		m->tokenlen = n->slen;
	}

	if (tkey != NULL && !m->has_target)
		m->bad = m->method == KRPC_GET_PEERS ||
		    m->method == KRPC_ANNOUNCE_PEER ? "bad info_hash" :
		    "bad target";
	else if (m->method == KRPC_ANNOUNCE_PEER && m->tokenlen == 0)
		m->bad = "bad token";
	else if (m->method == KRPC_ANNOUNCE_PEER && m->port == 0 &&
	    !m->implied_port)
		m->bad = "bad port";
	return m->bad != NULL ? GT_EINVAL : GT_OK;
}

static void
decode_response(const struct bencode_doc *d, const struct bencode_node *r,
    struct krpc_msg *m)
{
	const struct bencode_node	*n, *interval, *num;

	take_nodes(bencode_dict_get_type(d, r, "nodes", BENCODE_STR),
	    ADDR_V4, m);
	take_nodes(bencode_dict_get_type(d, r, "nodes6", BENCODE_STR),
	    ADDR_V6, m);
	take_values(d, bencode_dict_get_type(d, r, "values", BENCODE_LIST),
	    m);
	n = bencode_dict_get_type(d, r, "token", BENCODE_STR);
	if (n != NULL && n->slen > 0 && n->slen <= KRPC_MAX_TOKEN) {
		memcpy(m->token, n->s, n->slen);
		m->tokenlen = n->slen;
	}
	m->bf_seeds = get_fixed(d, r, "BFsd", KRPC_BLOOM_LEN);
	m->bf_peers = get_fixed(d, r, "BFpe", KRPC_BLOOM_LEN);

	/* BEP 51 */
	interval = bencode_dict_get_type(d, r, "interval", BENCODE_INT);
	if (interval != NULL && interval->i >= 0) {
		m->sampled = true;
		m->interval = (uint32_t)MIN(interval->i,
		    (int64_t)KRPC_MAX_INTERVAL);
	}
	num = bencode_dict_get_type(d, r, "num", BENCODE_INT);
	if (num != NULL && num->i >= 0) {
		m->sampled = true;
		m->num = (uint32_t)MIN(num->i, (int64_t)UINT32_MAX);
	}
	n = bencode_dict_get_type(d, r, "samples", BENCODE_STR);
	if (n != NULL) {
		m->sampled = true;
		m->nsamples = MIN(n->slen / KRPC_ID_LEN,
		    (size_t)KRPC_MAX_SAMPLES);
		m->samples = m->nsamples > 0 ? n->s : NULL;
	}
}

static void
decode_error(const struct bencode_doc *d, const struct bencode_node *e,
    struct krpc_msg *m)
{
	const struct bencode_node	*n;

	if (e == NULL || (n = bencode_first(d, e)) == NULL)
		return;
	if (n->type == BENCODE_INT)
		m->errcode = (int)MAX(MIN(n->i, (int64_t)INT_MAX),
		    (int64_t)INT_MIN);
	if ((n = bencode_next(d, e, n)) != NULL && n->type == BENCODE_STR) {
		m->errmsglen = MIN(n->slen, (size_t)KRPC_MAX_ERRMSG);
		if (m->errmsglen > 0)
			memcpy(m->errmsg, n->s, m->errmsglen);
	}
}

static enum gt_err
decode_msg(const struct bencode_doc *d, struct krpc_msg *m)
{
	const struct bencode_node	*root, *n, *body;
	const uint8_t			*id;

	root = bencode_root(d);
	if (root->type != BENCODE_DICT)
		return GT_EPROTO;
	n = bencode_dict_get_type(d, root, "t", BENCODE_STR);
	if (n == NULL || n->slen > KRPC_MAX_TID)
		return GT_EPROTO;
	if (n->slen > 0)
		memcpy(m->tid, n->s, n->slen);
	m->tidlen = n->slen;
	n = bencode_dict_get_type(d, root, "y", BENCODE_STR);
	if (bencode_str_eq(n, "q"))
		m->kind = KRPC_QUERY;
	else if (bencode_str_eq(n, "r"))
		m->kind = KRPC_RESPONSE;
	else if (bencode_str_eq(n, "e"))
		m->kind = KRPC_ERROR;
	else
		return GT_EPROTO;
	m->method = KRPC_UNKNOWN_METHOD;

	n = bencode_dict_get_type(d, root, "v", BENCODE_STR);
	if (n != NULL) {
		m->versionlen = MIN(n->slen, (size_t)KRPC_MAX_VERSION);
		if (m->versionlen > 0)
			memcpy(m->version, n->s, m->versionlen);
	}
	n = bencode_dict_get_type(d, root, "ip", BENCODE_STR);
	if (n != NULL && compact_peer(n->s, n->slen, &m->ip))
		m->has_ip = true;

	switch (m->kind) {
	case KRPC_QUERY:
		n = bencode_dict_get_type(d, root, "q", BENCODE_STR);
		body = bencode_dict_get_type(d, root, "a", BENCODE_DICT);
		if (n == NULL || body == NULL)
			return GT_EPROTO;
		if ((id = get_fixed(d, body, "id", KRPC_ID_LEN)) == NULL)
			return GT_EPROTO;
		memcpy(m->id, id, KRPC_ID_LEN);
		m->method = method_of(n);
		m->ro = get_flag(d, root, "ro");
		return decode_args(d, body, m);
	case KRPC_RESPONSE:
		body = bencode_dict_get_type(d, root, "r", BENCODE_DICT);
		if (body == NULL ||
		    (id = get_fixed(d, body, "id", KRPC_ID_LEN)) == NULL)
			return GT_EPROTO;
		memcpy(m->id, id, KRPC_ID_LEN);
		decode_response(d, body, m);
		return GT_OK;
	case KRPC_ERROR:
		decode_error(d, bencode_dict_get_type(d, root, "e",
		    BENCODE_LIST), m);
		return GT_OK;
	}
	return GT_EPROTO;
}

enum gt_err
krpc_decode(const uint8_t *pkt, size_t len, struct krpc_msg *out)
{
	struct bencode_doc	d;
	struct krpc_msg		m = { 0 };
	enum gt_err		e;

	/* Cheap refusals first: size, then the first byte. */
	if (len > KRPC_MAX_PACKET || len < 2 || pkt[0] != 'd')
		return GT_EPROTO;
	if (bencode_decode(&d, pkt, len, &krpc_limits, NULL) != GT_OK)
		return GT_EPROTO;
	e = decode_msg(&d, &m);
	bencode_doc_clear(&d);
	if (e == GT_OK || e == GT_EINVAL)
		*out = m;
	return e;
}

/* Encoding */

/* The top-level dict with t, y and v. */
static struct bval *
envelope(const uint8_t *tid, size_t tidlen, const char *y,
    const struct krpc_msg *m)
{
	struct bval	*root = bval_dict();

	bval_dict_set(root, "t", bval_str(tid, tidlen));
	bval_dict_set(root, "y", bval_cstr(y));
	if (m != NULL && m->versionlen > 0)
		bval_dict_set(root, "v", bval_str(m->version,
		    MIN(m->versionlen, (size_t)KRPC_MAX_VERSION)));
	return root;
}

enum gt_err
krpc_put_query(struct buf *b, const struct krpc_msg *m)
{
	struct bval	*root, *a, *want;

	if (m->method >= KRPC_UNKNOWN_METHOD || m->tidlen > KRPC_MAX_TID ||
	    m->tokenlen > KRPC_MAX_TOKEN)
		return GT_EINVAL;
	root = envelope(m->tid, m->tidlen, "q", m);
	bval_dict_set(root, "q", bval_cstr(krpc_method_names[m->method]));
	if (m->ro)
		bval_dict_set(root, "ro", bval_int(1));
	a = bval_dict();
	bval_dict_set(a, "id", bval_str(m->id, KRPC_ID_LEN));
	switch (m->method) {
	case KRPC_FIND_NODE:
	case KRPC_SAMPLE_INFOHASHES:
		bval_dict_set(a, "target", bval_str(m->target, KRPC_ID_LEN));
		break;
	case KRPC_GET_PEERS:
		bval_dict_set(a, "info_hash", bval_str(m->target,
		    KRPC_ID_LEN));
		if (m->scrape)
			bval_dict_set(a, "scrape", bval_int(1));
		if (m->noseed)
			bval_dict_set(a, "noseed", bval_int(1));
		break;
	case KRPC_ANNOUNCE_PEER:
		bval_dict_set(a, "info_hash", bval_str(m->target,
		    KRPC_ID_LEN));
		bval_dict_set(a, "port", bval_int(m->port));
		if (m->implied_port)
			bval_dict_set(a, "implied_port", bval_int(1));
		bval_dict_set(a, "token", bval_str(m->token, m->tokenlen));
		if (m->seed)
			bval_dict_set(a, "seed", bval_int(1));
		break;
	default:
		break;
	}
	if (m->method != KRPC_PING && m->method != KRPC_ANNOUNCE_PEER &&
	    (m->want_n4 || m->want_n6)) {
		want = bval_list();
		if (m->want_n4)
			bval_list_add(want, bval_cstr("n4"));
		if (m->want_n6)
			bval_list_add(want, bval_cstr("n6"));
		bval_dict_set(a, "want", want);
	}
	bval_dict_set(root, "a", a);
	return bencode_encode_take(root, b);
}

/* nodes or nodes6: the entries of one family, in order. */
static struct bval *
put_nodes(const struct krpc_msg *m, enum addr_family fam)
{
	size_t		 iplen = fam == ADDR_V4 ? 4 : 16;
	size_t		 step = KRPC_ID_LEN + iplen + 2, i, k = 0;
	uint8_t		*p;

	for (i = 0; i < m->nnodes; i++)
		k += m->nodes[i].a.family == fam;
	if (k == 0)
		return NULL;
	p = xmalloc(k * step);
	for (i = 0, k = 0; i < m->nnodes; i++) {
		if (m->nodes[i].a.family != fam)
			continue;
		memcpy(p + k, m->nodes[i].id, KRPC_ID_LEN);
		addr_put_compact(&m->nodes[i].a, p + k + KRPC_ID_LEN);
		k += step;
	}
	return bval_str_take(p, k);
}

static bool
family_ok(const struct netaddr *a)
{
	return a->family == ADDR_V4 || a->family == ADDR_V6;
}

enum gt_err
krpc_put_response(struct buf *b, const struct krpc_msg *m)
{
	struct bval	*root, *r, *v;
	uint8_t		 compact[18];
	size_t		 i, n;

	if (m->tidlen > KRPC_MAX_TID || m->tokenlen > KRPC_MAX_TOKEN ||
	    m->nnodes > nitems(m->nodes) || m->nvalues > KRPC_MAX_VALUES ||
	    (m->has_ip && !family_ok(&m->ip)) ||
	    (m->sampled && m->nsamples > 0 && m->samples == NULL))
		return GT_EINVAL;
	for (i = 0; i < m->nnodes; i++)
		if (!family_ok(&m->nodes[i].a))
			return GT_EINVAL;
	for (i = 0; i < m->nvalues; i++)
		if (!family_ok(&m->values[i]))
			return GT_EINVAL;

	root = envelope(m->tid, m->tidlen, "r", m);
	if (m->has_ip) {
		n = addr_put_compact(&m->ip, compact);
		bval_dict_set(root, "ip", bval_str(compact, n));
	}
	r = bval_dict();
	bval_dict_set(r, "id", bval_str(m->id, KRPC_ID_LEN));
	if ((v = put_nodes(m, ADDR_V4)) != NULL)
		bval_dict_set(r, "nodes", v);
	if ((v = put_nodes(m, ADDR_V6)) != NULL)
		bval_dict_set(r, "nodes6", v);
	if (m->nvalues > 0) {
		v = bval_list();
		for (i = 0; i < m->nvalues; i++) {
			n = addr_put_compact(&m->values[i], compact);
			bval_list_add(v, bval_str(compact, n));
		}
		bval_dict_set(r, "values", v);
	}
	if (m->tokenlen > 0)
		bval_dict_set(r, "token", bval_str(m->token, m->tokenlen));
	if (m->bf_seeds != NULL)
		bval_dict_set(r, "BFsd", bval_str(m->bf_seeds,
		    KRPC_BLOOM_LEN));
	if (m->bf_peers != NULL)
		bval_dict_set(r, "BFpe", bval_str(m->bf_peers,
		    KRPC_BLOOM_LEN));
	if (m->sampled) {
		bval_dict_set(r, "interval", bval_int(m->interval));
		bval_dict_set(r, "num", bval_int(m->num));
		bval_dict_set(r, "samples", bval_str(m->samples,
		    m->nsamples * KRPC_ID_LEN));
	}
	bval_dict_set(root, "r", r);
	return bencode_encode_take(root, b);
}

enum gt_err
krpc_put_error(struct buf *b, const uint8_t *tid, size_t tidlen, int code,
    const char *msg)
{
	struct bval	*root, *e;

	if (tidlen > KRPC_MAX_TID)
		return GT_EINVAL;
	root = envelope(tid, tidlen, "e", NULL);
	e = bval_list();
	bval_list_add(e, bval_int(code));
	bval_list_add(e, bval_str(msg, strnlen(msg, KRPC_MAX_ERRMSG)));
	bval_dict_set(root, "e", e);
	return bencode_encode_take(root, b);
}
