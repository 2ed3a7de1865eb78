/* extmsg.c - BEP 10 extended handshake, ut_metadata (BEP 9), ut_pex (BEP 11) */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "extmsg.h"
#include "util.h"

/*
 * Every payload arrives inside one peer-wire frame, which the wire codec
 * caps; these caps bound the bencode walk itself.  Real handshakes hold a
 * few dozen values (libtorrent decodes them with a 1000-token limit).
 */
static const struct bencode_limits ext_limits = {
	.max_input = 1u << 20,
	.max_depth = 16,
	.max_nodes = 4096,
};

/*
 * One bencoded dict at the start of p; *used is its length.  Trailing
 * bytes are the caller's business (ut_metadata's piece; libtorrent ignores
 * them after a handshake or PEX message, and so do we).
 */
static enum gt_err
decode_dict(struct bencode_doc *d, const uint8_t *p, size_t len,
    size_t *used)
{
	if (bencode_decode_prefix(d, p, len, &ext_limits, NULL,
	    used) != GT_OK)
		return GT_EPROTO;
	if (bencode_root(d)->type != BENCODE_DICT) {
		bencode_doc_clear(d);
		return GT_EPROTO;
	}
	return GT_OK;
}

/* An extension id from m: 1..255, else 0 (absent, disabled or absurd). */
static uint8_t
ext_id(const struct bencode_doc *d, const struct bencode_node *m,
    const char *name)
{
	const struct bencode_node	*n;

	n = bencode_dict_get_type(d, m, name, BENCODE_INT);
	if (n == NULL || n->i < 1 || n->i > 255)
		return 0;
	return (uint8_t)n->i;
}

enum gt_err
extmsg_parse_handshake(const uint8_t *p, size_t len, struct ext_handshake *out)
{
	struct bencode_doc		 d;
	const struct bencode_node	*root, *m, *n;
	const uint8_t			*nul;
	struct ext_handshake		 h = { 0 };
	size_t				 used, vlen;

	if (decode_dict(&d, p, len, &used) != GT_OK)
		return GT_EPROTO;
	root = bencode_root(&d);

	if ((m = bencode_dict_get_type(&d, root, "m", BENCODE_DICT)) != NULL) {
		h.ut_metadata = ext_id(&d, m, "ut_metadata");
		h.ut_pex = ext_id(&d, m, "ut_pex");
	}
	if ((n = bencode_dict_get_type(&d, root, "p", BENCODE_INT)) != NULL &&
	    n->i >= 1 && n->i <= 65535)
		h.port = (uint16_t)n->i;
	if ((n = bencode_dict_get_type(&d, root, "v", BENCODE_STR)) != NULL) {
		/* up to the first NUL, at most EXT_CLIENT_MAX bytes */
		vlen = MIN(n->slen, (size_t)EXT_CLIENT_MAX);
		if (vlen > 0 && (nul = memchr(n->s, '\0', vlen)) != NULL)
			vlen = (size_t)(nul - n->s);
		if (vlen > 0)
			memcpy(h.client, n->s, vlen);
		h.client[vlen] = '\0';
	}
	if ((n = bencode_dict_get_type(&d, root, "reqq", BENCODE_INT)) !=
	    NULL) {
		if (n->i < EXT_REQQ_MIN)
			h.reqq = EXT_REQQ_MIN;
		else if (n->i > EXT_REQQ_MAX)
			h.reqq = EXT_REQQ_MAX;
		else
			h.reqq = (uint32_t)n->i;
	}
	if ((n = bencode_dict_get_type(&d, root, "yourip", BENCODE_STR)) !=
	    NULL && (n->slen == 4 || n->slen == 16)) {
		h.has_yourip = true;
		h.yourip.family = n->slen == 4 ? ADDR_V4 : ADDR_V6;
		memcpy(h.yourip.ip, n->s, n->slen);
	}
	if ((n = bencode_dict_get_type(&d, root, "metadata_size",
	    BENCODE_INT)) != NULL) {
		if (n->i >= 1 && n->i <= (int64_t)EXT_METADATA_MAX)
			h.metadata_size = (uint32_t)n->i;
		else
			h.bad_metadata_size = true;
	}
	if ((n = bencode_dict_get_type(&d, root, "upload_only",
	    BENCODE_INT)) != NULL)
		h.upload_only = n->i != 0;

	bencode_doc_clear(&d);
	*out = h;
	return GT_OK;
}

enum gt_err
extmsg_put_handshake(struct buf *b, const struct ext_handshake *h)
{
	struct bval	*root, *m;
	size_t		 iplen;

	if (h->has_yourip && h->yourip.family != ADDR_V4 &&
	    h->yourip.family != ADDR_V6)
		return GT_EINVAL;
	root = bval_dict();
	m = bval_dict();
	if (h->ut_metadata != 0)
		bval_dict_set(m, "ut_metadata", bval_int(h->ut_metadata));
	if (h->ut_pex != 0)
		bval_dict_set(m, "ut_pex", bval_int(h->ut_pex));
	bval_dict_set(root, "m", m);
	if (h->port != 0)
		bval_dict_set(root, "p", bval_int(h->port));
	if (h->client[0] != '\0')
		bval_dict_set(root, "v", bval_str(h->client,
		    strnlen(h->client, EXT_CLIENT_MAX)));
	if (h->reqq != 0)
		bval_dict_set(root, "reqq", bval_int(h->reqq));
	if (h->has_yourip) {
		iplen = h->yourip.family == ADDR_V4 ? 4 : 16;
		bval_dict_set(root, "yourip", bval_str(h->yourip.ip, iplen));
	}
	if (h->metadata_size != 0)
		bval_dict_set(root, "metadata_size",
		    bval_int(h->metadata_size));
	if (h->upload_only)
		bval_dict_set(root, "upload_only", bval_int(1));
	return bencode_encode_take(root, b);
}

enum gt_err
extmsg_parse_metadata(const uint8_t *p, size_t len, struct ext_md *out)
{
	struct bencode_doc		 d;
	const struct bencode_node	*root, *n;
	struct ext_md			 md = { 0 };
	size_t				 used;
	enum gt_err			 e = GT_EPROTO;

	if (decode_dict(&d, p, len, &used) != GT_OK)
		return GT_EPROTO;
	root = bencode_root(&d);

	if ((n = bencode_dict_get_type(&d, root, "msg_type",
	    BENCODE_INT)) == NULL)
		goto out;
	switch (n->i) {
	case EXT_MD_REQUEST:
	case EXT_MD_DATA:
	case EXT_MD_REJECT:
		md.type = (enum ext_md_type)n->i;
		break;
	default:
		e = GT_EUNSUP;		/* BEP 9: ignore it */
		goto out;
	}
	if ((n = bencode_dict_get_type(&d, root, "piece", BENCODE_INT)) ==
	    NULL || n->i < 0 || n->i > (int64_t)UINT32_MAX)
		goto out;
	md.piece = (uint32_t)n->i;
	if (md.type != EXT_MD_DATA) {
		if (used != len)
			goto out;	/* bytes after a request or reject */
	} else {
		if ((n = bencode_dict_get_type(&d, root, "total_size",
		    BENCODE_INT)) == NULL || n->i < 0 ||
		    n->i > (int64_t)UINT32_MAX)
			goto out;
		md.total_size = (uint32_t)n->i;
		if (used == len)
			goto out;	/* a piece is never empty */
		md.data = p + used;
		md.len = len - used;
	}
	e = GT_OK;
out:
	bencode_doc_clear(&d);
	if (e == GT_OK)
		*out = md;
	return e;
}

enum gt_err
extmsg_put_metadata(struct buf *b, enum ext_md_type type, uint32_t piece,
    uint32_t total_size, const uint8_t *data, size_t len)
{
	struct bval	*root;
	size_t		 old = b->len;
	enum gt_err	 e;

	if (type != EXT_MD_REQUEST && type != EXT_MD_DATA &&
	    type != EXT_MD_REJECT)
		return GT_EINVAL;
	if (type == EXT_MD_DATA && (data == NULL || len == 0))
		return GT_EINVAL;
	root = bval_dict();
	bval_dict_set(root, "msg_type", bval_int(type));
	bval_dict_set(root, "piece", bval_int(piece));
	if (type == EXT_MD_DATA)
		bval_dict_set(root, "total_size", bval_int(total_size));
	if ((e = bencode_encode_take(root, b)) != GT_OK)
		return e;
	if (type == EXT_MD_DATA && (e = buf_append(b, data, len)) != GT_OK)
		b->len = old;
	return e;
}

/* One family's compact list and its .f flags. */
struct pex_list {
	enum addr_family		 fam;
	const struct bencode_node	*list;
	const struct bencode_node	*flags;
};

/*
 * Appends the entries of l to added (or dropped) at *n, taking at most
 * max of them; entries of port 0 are skipped, and flags stay with their
 * entry.
 */
static void
pex_take(const struct pex_list *l, struct ext_pex_peer *added,
    struct netaddr *dropped, size_t *n, size_t max)
{
	struct netaddr	a;
	size_t		step = l->fam == ADDR_V4 ? 6 : 18, i, k = 0, got;

	if (l->list == NULL)
		return;
	for (i = 0; i + step <= l->list->slen && k < max; i += step) {
		if (addr_parse_compact(l->fam, l->list->s + i, step, &a, 1,
		    &got) != GT_OK || got != 1)
			continue;
		if (added != NULL) {
			added[*n + k] = (struct ext_pex_peer){ .a = a };
			if (l->flags != NULL && i / step < l->flags->slen)
				added[*n + k].flags = l->flags->s[i / step];
		} else
			dropped[*n + k] = a;
		k++;
	}
	*n += k;
}

enum gt_err
extmsg_parse_pex(const uint8_t *p, size_t len, struct ext_pex_peer *added,
    size_t max_added, size_t *nadded, struct netaddr *dropped,
    size_t max_dropped, size_t *ndropped)
{
	static const char *const	 keys[4] = {
		"added", "added6", "dropped", "dropped6",
	};
	struct bencode_doc		 d;
	const struct bencode_node	*root;
	struct pex_list			 l[4];
	size_t				 used, i, na = 0, nd = 0;

	if (decode_dict(&d, p, len, &used) != GT_OK)
		return GT_EPROTO;
	root = bencode_root(&d);
	for (i = 0; i < 4; i++) {
		l[i] = (struct pex_list){
			.fam = i % 2 == 0 ? ADDR_V4 : ADDR_V6,
			.list = bencode_dict_get_type(&d, root, keys[i],
			    BENCODE_STR),
		};
		if (l[i].list != NULL &&
		    l[i].list->slen % (i % 2 == 0 ? 6 : 18) != 0) {
			bencode_doc_clear(&d);
			return GT_EPROTO;
		}
	}
	l[0].flags = bencode_dict_get_type(&d, root, "added.f", BENCODE_STR);
	l[1].flags = bencode_dict_get_type(&d, root, "added6.f", BENCODE_STR);

	for (i = 0; i < 2; i++)
		pex_take(&l[i], added, NULL, &na,
		    MIN(max_added - na, (size_t)EXT_PEX_MAX_ADDED));
	for (i = 2; i < 4; i++)
		pex_take(&l[i], NULL, dropped, &nd,
		    MIN(max_dropped - nd, (size_t)EXT_PEX_MAX_DROPPED));
	bencode_doc_clear(&d);
	*nadded = na;
	*ndropped = nd;
	return GT_OK;
}

/* Compact bytes of the entries of family fam: addresses and flags. */
static void
pex_put_family(struct bval *root, enum addr_family fam, const char *key,
    const char *fkey, const struct netaddr *a, const struct ext_pex_peer *pp,
    size_t n)
{
	const struct netaddr	*x;
	uint8_t			*s, *f = NULL;
	size_t			 i, slen = 0, flen = 0;

	s = xmalloc(n * 18 + 1);
	if (fkey != NULL)
		f = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		x = pp != NULL ? &pp[i].a : &a[i];
		if (x->family != fam)
			continue;
		slen += addr_put_compact(x, s + slen);
		if (f != NULL)
			f[flen++] = pp[i].flags;
	}
	bval_dict_set(root, key, bval_str_take(s, slen));
	if (f != NULL)
		bval_dict_set(root, fkey, bval_str_take(f, flen));
}

enum gt_err
extmsg_put_pex(struct buf *b, const struct ext_pex_peer *added, size_t nadded,
    const struct netaddr *dropped, size_t ndropped)
{
	struct bval	*root;
	size_t		 i;

	for (i = 0; i < nadded; i++)
		if (added[i].a.family != ADDR_V4 &&
		    added[i].a.family != ADDR_V6)
			return GT_EINVAL;
	for (i = 0; i < ndropped; i++)
		if (dropped[i].family != ADDR_V4 &&
		    dropped[i].family != ADDR_V6)
			return GT_EINVAL;
	/* every key, even empty, as libtorrent sends them */
	root = bval_dict();
	pex_put_family(root, ADDR_V4, "added", "added.f", NULL, added, nadded);
	pex_put_family(root, ADDR_V6, "added6", "added6.f", NULL, added,
	    nadded);
	pex_put_family(root, ADDR_V4, "dropped", NULL, dropped, NULL,
	    ndropped);
	pex_put_family(root, ADDR_V6, "dropped6", NULL, dropped, NULL,
	    ndropped);
	return bencode_encode_take(root, b);
}
