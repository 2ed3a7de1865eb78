/* fuzz-wire.c - libFuzzer target: the input is a peer's byte stream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "buf.h"
#include "util.h"
#include "wire.h"

#include "fuzz.h"

/* A bitfield of n bits, chosen from the first input bytes and the payload. */
static void
check_bitfield(const uint8_t *in, size_t size, const struct wire_msg *m)
{
	struct bitfield	b;
	uint32_t	n, c = 0, i, next;
	size_t		k;
	enum gt_err	e;

	if (size >= 2 && (in[0] & 1) && m->len > 0 && m->len < (1u << 28))
		n = (uint32_t)(m->len * 8 - in[1] % 8);	/* often fits */
	else if (size >= 3)
		n = (uint32_t)(in[1] << 8 | in[2]);
	else
		n = (uint32_t)m->len * 8;
	bitfield_init(&b, n);
	bitfield_set_all(&b);
	bitfield_unset_all(&b);
	e = bitfield_load(&b, m->data, m->len);
	if (e != GT_OK) {
		CHECK(e == GT_EPROTO);
		CHECK(b.count == 0);
		for (k = 0; k < bitfield_nbytes(&b); k++)
			CHECK(b.bits[k] == 0);
	} else {
		CHECK(m->len == bitfield_nbytes(&b));
		CHECK(memcmp(b.bits, m->data, m->len) == 0);
		for (k = 0; k < m->len; k++)
			c += (uint32_t)__builtin_popcount(m->data[k]);
		CHECK(c == b.count);
	}
	/* Walk the set bits: exactly count of them, each one set. */
	c = 0;
	for (i = bitfield_next_set(&b, 0); i < n; i = next) {
		CHECK(bitfield_get(&b, i));
		c++;
		next = bitfield_next_set(&b, i + 1);
		CHECK(next > i);
	}
	CHECK(i == n);
	CHECK(c == b.count);
	CHECK(bitfield_full(&b) == (b.count == n));
	bitfield_clear(&b);
}

/* Re-encodes a message; returns 0 if this type has no encoder. */
static int
reencode(struct buf *b, const struct wire_msg *m)
{
	enum gt_err	e;

	switch (m->type) {
	case WIRE_KEEPALIVE:
		e = wire_put_keepalive(b);
		break;
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		e = wire_put_simple(b, m->type);
		break;
	case WIRE_HAVE:
		e = wire_put_have(b, m->index);
		break;
	case WIRE_ALLOWED_FAST:
		e = wire_put_allowed_fast(b, m->index);
		break;
	case WIRE_BITFIELD:
		e = wire_put_bitfield(b, m->data, m->len);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		e = wire_put_block_msg(b, m->type, m->index, m->begin,
		    m->length);
		break;
	case WIRE_PIECE:
		CHECK(m->len == m->length);
		e = wire_put_piece(b, m->index, m->begin, m->data, m->length);
		break;
	case WIRE_PORT:
		e = wire_put_port(b, m->port);
		break;
	case WIRE_EXTENDED:
		e = wire_put_extended(b, m->ext_id, m->data, m->len);
		break;
	default:
		return 0;
	}
	CHECK(e == GT_OK);
	return 1;
}

static void
check_msg(const uint8_t *in, size_t size, const uint8_t *frame,
    size_t remaining, const struct wire_msg *m, size_t used, struct buf *b)
{
	struct wire_msg	m2;
	uint8_t		h[13];
	size_t		used2;

	CHECK(used >= 4 && used <= remaining && used <= WIRE_MAX_FRAME);
	CHECK(used == wire_frame_len(frame, remaining));
	if (used > 4)
		CHECK(m->type == WIRE_UNKNOWN || m->id == frame[4]);
	/* A byte less is not enough. */
	CHECK(wire_decode(frame, used - 1, &m2, &used2) == GT_EAGAIN);

	switch (m->type) {
	case WIRE_PIECE:
	case WIRE_BITFIELD:
	case WIRE_EXTENDED:
	case WIRE_UNKNOWN:
		/* data lies in the frame's body, and ends with the frame */
		CHECK(m->data >= frame + 5 && m->data <= frame + used);
		CHECK(m->len == (size_t)(frame + used - m->data));
		CHECK(m->data >= in && m->data + m->len <= in + size);
		break;
	case WIRE_KEEPALIVE:
		CHECK(used == 4);
		break;
	default:
		break;
	}
	if (m->type == WIRE_PIECE) {
		CHECK(m->len > 0);
		wire_piece_header(h, m->index, m->begin, m->length);
		CHECK(memcmp(h, frame, 13) == 0);
	}
	if (m->type == WIRE_SUGGEST) {
		CHECK(used == 9);
		CHECK(m->index == load_be32(frame + 5));
	}
	if (m->type == WIRE_UNKNOWN) {
		CHECK(m->id == frame[4]);
		CHECK(m->data == frame + 5);
	}
	if (m->type == WIRE_BITFIELD)
		check_bitfield(in, size, m);

	buf_reset(b);
	if (reencode(b, m)) {
		CHECK(b->len == used);
		CHECK(memcmp(b->data, frame, used) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct wire_handshake	hs;
	struct wire_msg		m;
	struct buf		b;
	uint8_t			out[WIRE_HANDSHAKE_LEN];
	size_t			off = 0, used, n = 0;
	enum gt_err		e;

	e = wire_decode_handshake(in, size, &hs);
	if (e == GT_OK) {
		wire_encode_handshake(out, &hs);
		CHECK(memcmp(out, in, sizeof(out)) == 0);
		off = WIRE_HANDSHAKE_LEN;	/* messages follow it */
	} else
		CHECK(e == (size < WIRE_HANDSHAKE_LEN ? GT_EAGAIN :
		    GT_EPROTO));

	buf_init(&b, WIRE_MAX_FRAME);
	for (;;) {
		used = 0;
		e = wire_decode(in + off, size - off, &m, &used);
		if (e != GT_OK)
			break;
		check_msg(in, size, in + off, size - off, &m, used, &b);
		off += used;
		n++;
	}
	if (e == GT_EAGAIN)
		CHECK(size - off < 4 ||
		    wire_frame_len(in + off, size - off) > size - off);
	else {
		CHECK(e == GT_EPROTO);
		CHECK(size - off >= 4);
	}
	CHECK(off <= size && n <= size / 4 + 1);
	buf_clear(&b);
	return 0;
}
