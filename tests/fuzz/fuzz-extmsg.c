/* fuzz-extmsg.c - libFuzzer target: extension payloads from a peer */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "extmsg.h"
#include "util.h"

#include "fuzz.h"

/*
 * The first byte picks the decoder (and, for PEX, how much room the caller
 * gives); the rest is the payload.  A payload that decodes is encoded
 * again, and that decodes to the same fields.
 */

static void
check_hs_fields(const struct ext_handshake *h)
{
	size_t	n = strnlen(h->client, sizeof(h->client));

	CHECK(n <= EXT_CLIENT_MAX);
	CHECK(h->reqq == 0 ||
	    (h->reqq >= EXT_REQQ_MIN && h->reqq <= EXT_REQQ_MAX));
	CHECK(h->metadata_size <= EXT_METADATA_MAX);
	CHECK(!h->bad_metadata_size || h->metadata_size == 0);
	if (h->has_yourip) {
		CHECK(h->yourip.family == ADDR_V4 ||
		    h->yourip.family == ADDR_V6);
		CHECK(h->yourip.port == 0);
	}
}

static void
check_hs(const uint8_t *p, size_t len, struct buf *b)
{
	struct ext_handshake	h, g;
	size_t			first;
	enum gt_err		e;

	e = extmsg_parse_handshake(p, len, &h);
	if (e != GT_OK) {
		CHECK(e == GT_EPROTO);
		return;
	}
	check_hs_fields(&h);
	CHECK(extmsg_put_handshake(b, &h) == GT_OK);
	CHECK(extmsg_parse_handshake(b->data, b->len, &g) == GT_OK);
	check_hs_fields(&g);
	CHECK(g.ut_metadata == h.ut_metadata);
	CHECK(g.ut_pex == h.ut_pex);
	CHECK(g.port == h.port);
	CHECK(strcmp(g.client, h.client) == 0);
	CHECK(g.reqq == h.reqq);
	CHECK(g.has_yourip == h.has_yourip);
	CHECK(!h.has_yourip || addr_eq(&g.yourip, &h.yourip));
	CHECK(g.metadata_size == h.metadata_size);
	CHECK(!g.bad_metadata_size);	/* a bad size is not sent on */
	CHECK(g.upload_only == h.upload_only);
	/* and ours is canonical: the same bytes again */
	first = b->len;
	CHECK(extmsg_put_handshake(b, &g) == GT_OK);
	CHECK(b->len == 2 * first);
	CHECK(memcmp(b->data, b->data + first, first) == 0);
}

static void
check_md(const uint8_t *p, size_t len, struct buf *b)
{
	struct ext_md	m, m2;
	enum gt_err	e;

	e = extmsg_parse_metadata(p, len, &m);
	if (e != GT_OK) {
		CHECK(e == GT_EPROTO || e == GT_EUNSUP);
		return;
	}
	if (m.type == EXT_MD_DATA) {
		CHECK(m.len > 0 && m.len < len);
		CHECK(m.data == p + len - m.len);	/* the tail */
	} else {
		CHECK(m.type == EXT_MD_REQUEST || m.type == EXT_MD_REJECT);
		CHECK(m.data == NULL && m.len == 0);
	}
	CHECK(extmsg_put_metadata(b, m.type, m.piece, m.total_size, m.data,
	    m.len) == GT_OK);
	CHECK(extmsg_parse_metadata(b->data, b->len, &m2) == GT_OK);
	CHECK(m2.type == m.type);
	CHECK(m2.piece == m.piece);
	CHECK(m2.len == m.len);
	if (m.type == EXT_MD_DATA) {
		CHECK(m2.total_size == m.total_size);
		CHECK(memcmp(m2.data, m.data, m.len) == 0);
	}
}

#define PEX_ROOM	(2 * EXT_PEX_MAX_ADDED + 8)

static void
check_pex_entries(const struct ext_pex_peer *a, size_t na,
    const struct netaddr *d, size_t nd)
{
	size_t	i;

	for (i = 0; i < na; i++) {
		CHECK(a[i].a.family == ADDR_V4 || a[i].a.family == ADDR_V6);
		CHECK(a[i].a.port != 0);
		/* v4 entries first, as in the message */
		CHECK(i == 0 || a[i - 1].a.family <= a[i].a.family);
	}
	for (i = 0; i < nd; i++) {
		CHECK(d[i].family == ADDR_V4 || d[i].family == ADDR_V6);
		CHECK(d[i].port != 0);
		CHECK(i == 0 || d[i - 1].family <= d[i].family);
	}
}

static void
check_pex(uint8_t sel, const uint8_t *p, size_t len, struct buf *b)
{
	static struct ext_pex_peer	a[PEX_ROOM], a2[PEX_ROOM];
	static struct netaddr		d[PEX_ROOM], d2[PEX_ROOM];
	size_t				maxa, maxd, na, nd, na2, nd2, i;
	enum gt_err			e;

	/* sometimes a little room, sometimes more than the caps */
	maxa = sel & 0x10 ? (size_t)(sel >> 5) : PEX_ROOM;
	maxd = sel & 0x08 ? (size_t)(sel >> 5) : PEX_ROOM;
	e = extmsg_parse_pex(p, len, a, maxa, &na, d, maxd, &nd);
	if (e != GT_OK) {
		CHECK(e == GT_EPROTO);
		return;
	}
	CHECK(na <= maxa && na <= 2 * EXT_PEX_MAX_ADDED);
	CHECK(nd <= maxd && nd <= 2 * EXT_PEX_MAX_DROPPED);
	check_pex_entries(a, na, d, nd);
	CHECK(extmsg_put_pex(b, a, na, d, nd) == GT_OK);
	CHECK(extmsg_parse_pex(b->data, b->len, a2, PEX_ROOM, &na2, d2,
	    PEX_ROOM, &nd2) == GT_OK);
	CHECK(na2 == na && nd2 == nd);
	for (i = 0; i < na; i++) {
		CHECK(addr_eq(&a2[i].a, &a[i].a));
		CHECK(a2[i].flags == a[i].flags);
	}
	for (i = 0; i < nd; i++)
		CHECK(addr_eq(&d2[i], &d[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct buf	b;
	uint8_t		*p;
	size_t		 len;

	if (size < 1)
		return 0;
	/* a copy of exactly the payload, so ASan sees any over-read */
	len = size - 1;
	p = malloc(len > 0 ? len : 1);
	CHECK(p != NULL);
	if (len > 0)
		memcpy(p, in + 1, len);
	buf_init(&b, 1u << 20);
	switch (in[0] % 3) {
	case 0:
		check_hs(p, len, &b);
		break;
	case 1:
		check_md(p, len, &b);
		break;
	default:
		check_pex(in[0], p, len, &b);
		break;
	}
	buf_clear(&b);
	free(p);
	return 0;
}
