/* wire.c - peer-wire codec: handshake, BEP 3/6/10 messages, incremental */
#include <string.h>

#include "util.h"
#include "wire.h"

#define PSTR		"BitTorrent protocol"
#define PSTRLEN		19

/*
 * Handshake (BEP 3): pstrlen, pstr, 8 reserved bytes, info_hash, peer_id.
 */
enum gt_err
wire_decode_handshake(const uint8_t *p, size_t len, struct wire_handshake *hs)
{
	if (len < WIRE_HANDSHAKE_LEN)
		return GT_EAGAIN;
	if (p[0] != PSTRLEN || memcmp(p + 1, PSTR, PSTRLEN) != 0)
		return GT_EPROTO;
	p += 1 + PSTRLEN;
	memcpy(hs->reserved, p, sizeof(hs->reserved));
	memcpy(hs->info_hash, p + 8, sizeof(hs->info_hash));
	memcpy(hs->peer_id, p + 8 + SHA1_LEN, sizeof(hs->peer_id));
	return GT_OK;
}

void
wire_encode_handshake(uint8_t out[WIRE_HANDSHAKE_LEN],
    const struct wire_handshake *hs)
{
	out[0] = PSTRLEN;
	memcpy(out + 1, PSTR, PSTRLEN);
	out += 1 + PSTRLEN;
	memcpy(out, hs->reserved, sizeof(hs->reserved));
	memcpy(out + 8, hs->info_hash, sizeof(hs->info_hash));
	memcpy(out + 8 + SHA1_LEN, hs->peer_id, sizeof(hs->peer_id));
}

/* The body of a message (after its id) has n bytes at p. */
static enum gt_err
decode_body(uint8_t id, const uint8_t *p, size_t n, struct wire_msg *m)
{
	m->id = id;
	switch (id) {
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		if (n != 0)
			return GT_EPROTO;
		break;
	case WIRE_HAVE:
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		if (n != 4)
			return GT_EPROTO;
		m->index = load_be32(p);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		if (n != 12)
			return GT_EPROTO;
		m->index = load_be32(p);
		m->begin = load_be32(p + 4);
		m->length = load_be32(p + 8);
		break;
	case WIRE_PIECE:
		if (n <= 8)			/* an empty block is an error */
			return GT_EPROTO;
		m->index = load_be32(p);
		m->begin = load_be32(p + 4);
		m->data = p + 8;
		m->len = n - 8;
		m->length = (uint32_t)m->len;	/* n <= WIRE_MAX_MSG */
		break;
	case WIRE_PORT:
		if (n != 2)
			return GT_EPROTO;
		m->port = load_be16(p);
		break;
	case WIRE_BITFIELD:
		m->data = p;			/* peer checks the length */
		m->len = n;
		break;
	case WIRE_EXTENDED:
		if (n < 1)
			return GT_EPROTO;
		m->ext_id = p[0];
		m->data = p + 1;
		m->len = n - 1;
		break;
	default:
		m->type = WIRE_UNKNOWN;		/* the caller skips it */
		m->data = p;
		m->len = n;
		return GT_OK;
	}
	m->type = (enum wire_type)id;
	return GT_OK;
}

enum gt_err
wire_decode(const uint8_t *buf, size_t len, struct wire_msg *msg,
    size_t *used)
{
	struct wire_msg	m = { .type = WIRE_KEEPALIVE };
	uint32_t	n;
	enum gt_err	e = GT_OK;

	if (len < 4)
		return GT_EAGAIN;
	n = load_be32(buf);
	if (n > WIRE_MAX_MSG)
		return GT_EPROTO;		/* refuse before allocating */
	if (len - 4 < n)
		return GT_EAGAIN;
	if (n == 0)
		m.type = WIRE_KEEPALIVE;
	else
		e = decode_body(buf[4], buf + 5, n - 1, &m);
	if (e == GT_OK) {
		*msg = m;
		*used = 4 + (size_t)n;
	}
	return e;
}

size_t
wire_frame_len(const uint8_t *buf, size_t len)
{
	if (len < 4)
		return 0;
	return 4 + (size_t)load_be32(buf);
}

/*
 * Appends a frame of the id, a fixed part of hlen bytes, then tlen bytes of
 * tail.  The whole frame is reserved first, so it is appended entirely or
 * not at all.
 */
static enum gt_err
put_frame(struct buf *out, uint8_t id, const uint8_t *head, size_t hlen,
    const uint8_t *tail, size_t tlen)
{
	uint8_t		pre[5];
	size_t		body;
	enum gt_err	e;

	if (tlen > WIRE_MAX_MSG - 1 - hlen)
		return GT_ETOOBIG;
	body = 1 + hlen + tlen;
	if ((e = buf_reserve(out, 4 + body)) != GT_OK)
		return e;
	store_be32(pre, (uint32_t)body);
	pre[4] = id;
	buf_append(out, pre, sizeof(pre));
	if (hlen > 0)
		buf_append(out, head, hlen);
	if (tlen > 0)
		buf_append(out, tail, tlen);
	return GT_OK;
}

enum gt_err
wire_put_simple(struct buf *out, enum wire_type type)
{
	switch (type) {
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		return put_frame(out, (uint8_t)type, NULL, 0, NULL, 0);
	case WIRE_KEEPALIVE:
		return wire_put_keepalive(out);
	default:
		return GT_EINVAL;
	}
}

enum gt_err
wire_put_keepalive(struct buf *out)
{
	static const uint8_t	zero[4];

	return buf_append(out, zero, sizeof(zero));
}

static enum gt_err
put_index(struct buf *out, uint8_t id, uint32_t index)
{
	uint8_t	h[4];

	store_be32(h, index);
	return put_frame(out, id, h, sizeof(h), NULL, 0);
}

enum gt_err
wire_put_have(struct buf *out, uint32_t index)
{
	return put_index(out, WIRE_HAVE, index);
}

enum gt_err
wire_put_allowed_fast(struct buf *out, uint32_t index)
{
	return put_index(out, WIRE_ALLOWED_FAST, index);
}

enum gt_err
wire_put_bitfield(struct buf *out, const uint8_t *bits, size_t nbytes)
{
	return put_frame(out, WIRE_BITFIELD, NULL, 0, bits, nbytes);
}

enum gt_err
wire_put_block_msg(struct buf *out, enum wire_type type, uint32_t index,
    uint32_t begin, uint32_t length)
{
	uint8_t	h[12];

	if (type != WIRE_REQUEST && type != WIRE_CANCEL &&
	    type != WIRE_REJECT)
		return GT_EINVAL;
	store_be32(h, index);
	store_be32(h + 4, begin);
	store_be32(h + 8, length);
	return put_frame(out, (uint8_t)type, h, sizeof(h), NULL, 0);
}

void
wire_piece_header(uint8_t out[13], uint32_t index, uint32_t begin,
    uint32_t length)
{
	store_be32(out, 9 + length);
	out[4] = WIRE_PIECE;
	store_be32(out + 5, index);
	store_be32(out + 9, begin);
}

enum gt_err
wire_put_piece(struct buf *out, uint32_t index, uint32_t begin,
    const uint8_t *data, uint32_t length)
{
	uint8_t	h[8];

	if (length == 0)
		return GT_EINVAL;		/* decoders refuse it */
	store_be32(h, index);
	store_be32(h + 4, begin);
	return put_frame(out, WIRE_PIECE, h, sizeof(h), data, length);
}

enum gt_err
wire_put_port(struct buf *out, uint16_t port)
{
	uint8_t	h[2];

	store_be16(h, port);
	return put_frame(out, WIRE_PORT, h, sizeof(h), NULL, 0);
}

enum gt_err
wire_put_extended(struct buf *out, uint8_t ext_id, const uint8_t *payload,
    size_t len)
{
	return put_frame(out, WIRE_EXTENDED, &ext_id, 1, payload, len);
}

enum gt_err
wire_put_suggest(struct buf *out, uint32_t index)
{
	return put_index(out, WIRE_SUGGEST, index);
}

/*
 * BEP 6, "Allowed Fast": x = masked ip + info-hash; then x = SHA-1(x)
 * repeatedly, each digest giving five big-endian words, each word modulo
 * npieces a candidate, kept unless already in the set.  k is capped at
 * npieces, so the loop ends (SHA-1 output being all but uniform, every
 * index turns up).  O(k^2) besides the hashing: meant for the small k
 * (about 10) that clients use.
 */
size_t
wire_allowed_fast_set(const uint8_t *ip, size_t iplen,
    const uint8_t info_hash[SHA1_LEN], uint32_t npieces, size_t k,
    uint32_t *out)
{
	uint8_t		x[16 + SHA1_LEN], h[SHA1_LEN];
	size_t		xlen, n = 0, i, j;
	uint32_t	idx;

	if (npieces == 0 || (iplen != 4 && iplen != 16))
		return 0;
	k = MIN(k, (size_t)npieces);
	memset(x, 0, sizeof(x));
	if (iplen == 4) {
		memcpy(x, ip, 3);		/* & 0xffffff00 */
		xlen = 4;
	} else {
		memcpy(x, ip, 8);		/* the /64 */
		xlen = 16;
	}
	memcpy(x + xlen, info_hash, SHA1_LEN);
	sha1(x, xlen + SHA1_LEN, h);
	while (n < k) {
		for (i = 0; i < 5 && n < k; i++) {
			idx = load_be32(h + 4 * i) % npieces;
			for (j = 0; j < n && out[j] != idx; j++)
				;
			if (j == n)
				out[n++] = idx;
		}
		if (n < k) {
			memcpy(x, h, sizeof(h));
			sha1(x, sizeof(h), h);
		}
	}
	return n;
}
