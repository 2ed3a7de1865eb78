/* test-wire.c - peer-wire codec */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "wire.h"

#define B(lit)	(const uint8_t *)(lit), sizeof(lit) - 1

static const uint8_t	block[] = "0123456789abcdef";
static const uint8_t	bits[] = { 0xff, 0x0f, 0x80 };
static const uint8_t	ext[] = "d1:md11:ut_metadatai3eee";

/* One message and its expected frame. */
struct rt_case {
	const char	*name;
	struct wire_msg	 m;		/* fields the encoder takes */
	const char	*frame;		/* expected bytes */
	size_t		 flen;
};

#define FRAME(lit)	.frame = (lit), .flen = sizeof(lit) - 1

static const struct rt_case rt_cases[] = {
	{ "keepalive", { .type = WIRE_KEEPALIVE }, FRAME("\0\0\0\0") },
	{ "choke", { .type = WIRE_CHOKE }, FRAME("\0\0\0\1\0") },
	{ "unchoke", { .type = WIRE_UNCHOKE }, FRAME("\0\0\0\1\1") },
	{ "interested", { .type = WIRE_INTERESTED }, FRAME("\0\0\0\1\2") },
	{ "not_interested", { .type = WIRE_NOT_INTERESTED },
	    FRAME("\0\0\0\1\3") },
	{ "have_all", { .type = WIRE_HAVE_ALL }, FRAME("\0\0\0\1\x0e") },
	{ "have_none", { .type = WIRE_HAVE_NONE }, FRAME("\0\0\0\1\x0f") },
	{ "have", { .type = WIRE_HAVE, .index = 0x01020304 },
	    FRAME("\0\0\0\5\4\1\2\3\4") },
	{ "have_max", { .type = WIRE_HAVE, .index = UINT32_MAX },
	    FRAME("\0\0\0\5\4\xff\xff\xff\xff") },
	{ "allowed_fast", { .type = WIRE_ALLOWED_FAST, .index = 7 },
	    FRAME("\0\0\0\5\x11\0\0\0\7") },
	{ "suggest", { .type = WIRE_SUGGEST, .index = 0x0a0b0c0d },
	    FRAME("\0\0\0\5\x0d\x0a\x0b\x0c\x0d") },
	{ "bitfield", { .type = WIRE_BITFIELD, .data = bits, .len = 3 },
	    FRAME("\0\0\0\4\5\xff\x0f\x80") },
	{ "bitfield_empty", { .type = WIRE_BITFIELD, .data = bits, .len = 0 },
	    FRAME("\0\0\0\1\5") },
	{ "request", { .type = WIRE_REQUEST, .index = 1, .begin = 16384,
	    .length = 16384 },
	    FRAME("\0\0\0\x0d\6\0\0\0\1\0\0\x40\0\0\0\x40\0") },
	{ "cancel", { .type = WIRE_CANCEL, .index = 2, .begin = 0,
	    .length = 100 },
	    FRAME("\0\0\0\x0d\x08\0\0\0\2\0\0\0\0\0\0\0\x64") },
	{ "reject", { .type = WIRE_REJECT, .index = 0xdeadbeef,
	    .begin = 0x11223344, .length = 0x55667788 },
	    FRAME("\0\0\0\x0d\x10\xde\xad\xbe\xef\x11\x22\x33\x44"
	    "\x55\x66\x77\x88") },
	{ "piece", { .type = WIRE_PIECE, .index = 3, .begin = 32768,
	    .data = block, .len = 16 },
	    FRAME("\0\0\0\x19\7\0\0\0\3\0\0\x80\0" "0123456789abcdef") },
	{ "piece_1", { .type = WIRE_PIECE, .index = 0, .begin = 0,
	    .data = block, .len = 1 },
	    FRAME("\0\0\0\x0a\7\0\0\0\0\0\0\0\0" "0") },
	{ "port", { .type = WIRE_PORT, .port = 6881 },
	    FRAME("\0\0\0\3\x09\x1a\xe1") },
	{ "extended", { .type = WIRE_EXTENDED, .ext_id = 0, .data = ext,
	    .len = sizeof(ext) - 1 },
	    FRAME("\0\0\0\x1a\x14\0" "d1:md11:ut_metadatai3eee") },
	{ "extended_empty", { .type = WIRE_EXTENDED, .ext_id = 3,
	    .data = ext, .len = 0 }, FRAME("\0\0\0\2\x14\3") },
};

static enum gt_err
encode(struct buf *b, const struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_KEEPALIVE:
		return wire_put_keepalive(b);
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		return wire_put_simple(b, m->type);
	case WIRE_HAVE:
		return wire_put_have(b, m->index);
	case WIRE_ALLOWED_FAST:
		return wire_put_allowed_fast(b, m->index);
	case WIRE_SUGGEST:
		return wire_put_suggest(b, m->index);
	case WIRE_BITFIELD:
		return wire_put_bitfield(b, m->data, m->len);
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		return wire_put_block_msg(b, m->type, m->index, m->begin,
		    m->length);
	case WIRE_PIECE:
		return wire_put_piece(b, m->index, m->begin, m->data,
		    (uint32_t)m->len);
	case WIRE_PORT:
		return wire_put_port(b, m->port);
	case WIRE_EXTENDED:
		return wire_put_extended(b, m->ext_id, m->data, m->len);
	default:
		cr_assert_fail("no encoder for %d", m->type);
		return GT_EINVAL;
	}
}

static void
check_same(const struct wire_msg *got, const struct wire_msg *want,
    const char *name)
{
	cr_assert_eq(got->type, want->type, "%s: type", name);
	switch (want->type) {
	case WIRE_HAVE:
	case WIRE_ALLOWED_FAST:
	case WIRE_SUGGEST:
		cr_assert_eq(got->index, want->index, "%s: index", name);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		cr_assert_eq(got->index, want->index, "%s: index", name);
		cr_assert_eq(got->begin, want->begin, "%s: begin", name);
		cr_assert_eq(got->length, want->length, "%s: length", name);
		break;
	case WIRE_PIECE:
		cr_assert_eq(got->index, want->index, "%s: index", name);
		cr_assert_eq(got->begin, want->begin, "%s: begin", name);
		cr_assert_eq(got->length, want->len, "%s: length", name);
		break;
	case WIRE_PORT:
		cr_assert_eq(got->port, want->port, "%s: port", name);
		break;
	case WIRE_EXTENDED:
		cr_assert_eq(got->ext_id, want->ext_id, "%s: ext_id", name);
		break;
	default:
		break;
	}
	if (want->type == WIRE_PIECE || want->type == WIRE_BITFIELD ||
	    want->type == WIRE_EXTENDED || want->type == WIRE_UNKNOWN) {
		cr_assert_eq(got->len, want->len, "%s: len", name);
		cr_assert_eq(memcmp(got->data, want->data, want->len), 0,
		    "%s: data", name);
	}
	if (want->type != WIRE_KEEPALIVE && want->type != WIRE_UNKNOWN)
		cr_assert_eq(got->id, (uint8_t)want->type, "%s: id", name);
}

Test(wire, round_trip)
{
	struct buf	b;
	struct wire_msg	m;
	size_t		i, k, used;

	for (i = 0; i < nitems(rt_cases); i++) {
		const struct rt_case	*c = &rt_cases[i];

		buf_init(&b, 1 << 20);
		cr_assert_eq(encode(&b, &c->m), GT_OK, "%s", c->name);
		cr_assert_eq(b.len, c->flen, "%s: frame length", c->name);
		cr_assert_eq(memcmp(b.data, c->frame, c->flen), 0,
		    "%s: frame bytes", c->name);
		cr_assert_eq(wire_frame_len(b.data, b.len), c->flen);
		memset(&m, 0xa5, sizeof(m));
		used = 0;
		cr_assert_eq(wire_decode(b.data, b.len, &m, &used), GT_OK,
		    "%s: decode", c->name);
		cr_assert_eq(used, c->flen, "%s: used", c->name);
		check_same(&m, &c->m, c->name);
		if (m.data != NULL && c->m.len > 0)
			cr_assert(m.data >= b.data &&
			    m.data + m.len <= b.data + b.len,
			    "%s: data points into the input", c->name);
		/* Every strict prefix wants more. */
		for (k = 0; k < c->flen; k++)
			cr_assert_eq(wire_decode(b.data, k, &m, &used),
			    GT_EAGAIN, "%s: prefix %zu", c->name, k);
		buf_clear(&b);
	}
}

Test(wire, suggest_decodes)
{
	struct wire_msg	m;
	size_t		used;

	cr_assert_eq(wire_decode(B("\0\0\0\5\x0d\0\0\1\0"), &m, &used),
	    GT_OK);
	cr_assert_eq(m.type, WIRE_SUGGEST);
	cr_assert_eq(m.index, 256);
	cr_assert_eq(used, 9);
}

Test(wire, wrong_sizes)
{
	static const struct {
		const char	*name;
		const char	*frame;
		size_t		 len;
	} cases[] = {
#define BAD(name, lit)	{ name, lit, sizeof(lit) - 1 }
		BAD("choke+1", "\0\0\0\2\0\0"),
		BAD("unchoke+1", "\0\0\0\2\1\0"),
		BAD("interested+4", "\0\0\0\5\2\0\0\0\0"),
		BAD("not_interested+1", "\0\0\0\2\3\0"),
		BAD("have_all+1", "\0\0\0\2\x0e\0"),
		BAD("have_none+1", "\0\0\0\2\x0f\0"),
		BAD("have-1", "\0\0\0\4\4\0\0\0"),
		BAD("have+1", "\0\0\0\6\4\0\0\0\0\0"),
		BAD("have empty", "\0\0\0\1\4"),
		BAD("suggest-1", "\0\0\0\4\x0d\0\0\0"),
		BAD("suggest+1", "\0\0\0\6\x0d\0\0\0\0\0"),
		BAD("allowed_fast-1", "\0\0\0\4\x11\0\0\0"),
		BAD("allowed_fast+1", "\0\0\0\6\x11\0\0\0\0\0"),
		BAD("request-1", "\0\0\0\x0c\6\0\0\0\0\0\0\0\0\0\0\0"),
		BAD("request+1", "\0\0\0\x0e\6\0\0\0\0\0\0\0\0\0\0\0\0\0"),
		BAD("request empty", "\0\0\0\1\6"),
		BAD("cancel-1", "\0\0\0\x0c\x08\0\0\0\0\0\0\0\0\0\0\0"),
		BAD("cancel+1", "\0\0\0\x0e\x08\0\0\0\0\0\0\0\0\0\0\0\0\0"),
		BAD("reject-1", "\0\0\0\x0c\x10\0\0\0\0\0\0\0\0\0\0\0"),
		BAD("reject+1", "\0\0\0\x0e\x10\0\0\0\0\0\0\0\0\0\0\0\0\0"),
		BAD("piece empty block", "\0\0\0\x09\7\0\0\0\0\0\0\0\0"),
		BAD("piece short header", "\0\0\0\x05\7\0\0\0\0"),
		BAD("piece id only", "\0\0\0\1\7"),
		BAD("port-1", "\0\0\0\2\x09\0"),
		BAD("port+1", "\0\0\0\4\x09\0\0\0"),
		BAD("port empty", "\0\0\0\1\x09"),
		BAD("extended empty", "\0\0\0\1\x14"),
#undef BAD
	};
	struct wire_msg	m, before;
	size_t		i, used;

	for (i = 0; i < nitems(cases); i++) {
		memset(&m, 0x5a, sizeof(m));
		before = m;
		used = 12345;
		cr_assert_eq(wire_decode((const uint8_t *)cases[i].frame,
		    cases[i].len, &m, &used), GT_EPROTO, "%s", cases[i].name);
		cr_assert_eq(used, 12345, "%s: used written", cases[i].name);
		cr_assert_eq(memcmp(&m, &before, sizeof(m)), 0,
		    "%s: msg written", cases[i].name);
	}
}

Test(wire, length_prefix_caps)
{
	uint8_t		p[4];
	struct wire_msg	m;
	size_t		used;

	cr_assert_eq(wire_decode(B("\xff\xff\xff\xff"), &m, &used),
	    GT_EPROTO);
	store_be32(p, WIRE_MAX_MSG + 1);
	cr_assert_eq(wire_decode(p, 4, &m, &used), GT_EPROTO);
	store_be32(p, WIRE_MAX_MSG);
	cr_assert_eq(wire_decode(p, 4, &m, &used), GT_EAGAIN);
	cr_assert_eq(wire_frame_len(p, 4), WIRE_MAX_FRAME);
	cr_assert_eq(wire_frame_len(p, 3), 0);
	cr_assert_eq(wire_frame_len(B("\xff\xff\xff\xff")),
	    (size_t)4 + UINT32_MAX);
	cr_assert_eq(wire_decode(p, 0, &m, &used), GT_EAGAIN);
	cr_assert_eq(wire_decode(p, 3, &m, &used), GT_EAGAIN);
}

Test(wire, largest_message)
{
	struct buf	 b;
	struct wire_msg	 m;
	uint8_t		*big;
	size_t		 used;

	big = xcalloc(WIRE_MAX_MSG, 1);
	big[0] = 0x80;
	buf_init(&b, WIRE_MAX_FRAME);
	cr_assert_eq(wire_put_bitfield(&b, big, WIRE_MAX_MSG - 1), GT_OK);
	cr_assert_eq(b.len, WIRE_MAX_FRAME);
	cr_assert_eq(wire_decode(b.data, b.len, &m, &used), GT_OK);
	cr_assert_eq(m.type, WIRE_BITFIELD);
	cr_assert_eq(m.len, WIRE_MAX_MSG - 1);
	cr_assert_eq(used, WIRE_MAX_FRAME);
	buf_reset(&b);
	/* One more byte could not be decoded: the encoder refuses it. */
	cr_assert_eq(wire_put_bitfield(&b, big, WIRE_MAX_MSG), GT_ETOOBIG);
	cr_assert_eq(wire_put_extended(&b, 1, big, WIRE_MAX_MSG - 1),
	    GT_ETOOBIG);
	cr_assert_eq(wire_put_extended(&b, 1, big, SIZE_MAX), GT_ETOOBIG);
	cr_assert_eq(b.len, 0);
	buf_clear(&b);
	free(big);
}

/* A stream of frames fed one byte at a time. */
Test(wire, incremental)
{
	static const struct wire_msg	want[] = {
		{ .type = WIRE_BITFIELD, .data = bits, .len = 3 },
		{ .type = WIRE_HAVE, .index = 9 },
		{ .type = WIRE_KEEPALIVE },
		{ .type = WIRE_UNCHOKE },
		{ .type = WIRE_PIECE, .index = 1, .begin = 2, .data = block,
		    .len = 16 },
		{ .type = WIRE_KEEPALIVE },
		{ .type = WIRE_EXTENDED, .ext_id = 2, .data = ext,
		    .len = sizeof(ext) - 1 },
		{ .type = WIRE_REQUEST, .index = 4, .begin = 5,
		    .length = 6 },
		{ .type = WIRE_PORT, .port = 1 },
		{ .type = WIRE_HAVE_NONE },
	};
	struct buf	b;
	struct wire_msg	m;
	size_t		i, start = 0, fed, used, k = 0;
	enum gt_err	e;

	buf_init(&b, 1 << 16);
	for (i = 0; i < nitems(want); i++)
		cr_assert_eq(encode(&b, &want[i]), GT_OK);
	for (fed = 0; fed <= b.len; fed++) {
		e = wire_decode(b.data + start, fed - start, &m, &used);
		if (e == GT_EAGAIN)
			continue;
		cr_assert_eq(e, GT_OK, "at byte %zu", fed);
		cr_assert_lt(k, nitems(want));
		cr_assert_eq(used, fed - start, "frame %zu completes at once",
		    k);
		check_same(&m, &want[k], "stream");
		k++;
		start += used;
	}
	cr_assert_eq(k, nitems(want));
	cr_assert_eq(start, b.len);
	buf_clear(&b);
}

Test(wire, several_frames_in_one_buffer)
{
	static const uint8_t	s[] = "\0\0\0\0" "\0\0\0\1\2"
	    "\0\0\0\5\4\0\0\0\1" "\0\0\0\x0d";	/* a truncated request */
	static const enum wire_type	types[] = {
		WIRE_KEEPALIVE, WIRE_INTERESTED, WIRE_HAVE,
	};
	struct wire_msg	m;
	size_t		off = 0, used, k;

	for (k = 0; k < nitems(types); k++) {
		cr_assert_eq(wire_decode(s + off, sizeof(s) - 1 - off, &m,
		    &used), GT_OK);
		cr_assert_eq(m.type, types[k]);
		off += used;
	}
	cr_assert_eq(wire_decode(s + off, sizeof(s) - 1 - off, &m, &used),
	    GT_EAGAIN);
	cr_assert_eq(wire_frame_len(s + off, sizeof(s) - 1 - off), 17);
}

Test(wire, keepalive)
{
	struct buf	b;
	struct wire_msg	m;
	size_t		used;

	buf_init(&b, 64);
	cr_assert_eq(wire_put_keepalive(&b), GT_OK);
	cr_assert_eq(wire_put_simple(&b, WIRE_KEEPALIVE), GT_OK);
	cr_assert_eq(b.len, 8);
	cr_assert_eq(memcmp(b.data, "\0\0\0\0\0\0\0\0", 8), 0);
	cr_assert_eq(wire_decode(b.data, 8, &m, &used), GT_OK);
	cr_assert_eq(m.type, WIRE_KEEPALIVE);
	cr_assert_eq(m.len, 0);
	cr_assert_eq(used, 4);
	buf_clear(&b);
}

Test(wire, unknown_id)
{
	static const struct {
		const char	*frame;
		size_t		 len;
		uint8_t		 id;
		size_t		 body;
	} cases[] = {
		{ "\0\0\0\1\x0a", 5, 10, 0 },
		{ "\0\0\0\4\x0b" "abc", 8, 11, 3 },
		{ "\0\0\0\2\x12" "z", 6, 18, 1 },
		{ "\0\0\0\3\x15" "zz", 7, 21, 2 },
		{ "\0\0\0\1\xff", 5, 255, 0 },
	};
	struct wire_msg	m;
	size_t		i, used;

	for (i = 0; i < nitems(cases); i++) {
		cr_assert_eq(wire_decode((const uint8_t *)cases[i].frame,
		    cases[i].len, &m, &used), GT_OK, "case %zu", i);
		cr_assert_eq(m.type, WIRE_UNKNOWN);
		cr_assert_eq(m.id, cases[i].id);
		cr_assert_eq(m.len, cases[i].body);
		cr_assert_eq(m.data, (const uint8_t *)cases[i].frame + 5);
		cr_assert_eq(used, cases[i].len);
	}
}

Test(wire, handshake)
{
	struct wire_handshake	hs = { .reserved = { 0 } }, got;
	uint8_t			out[WIRE_HANDSHAKE_LEN];
	uint8_t			bad[WIRE_HANDSHAKE_LEN];
	uint8_t			more[WIRE_HANDSHAKE_LEN + 5];
	size_t			i;

	hs.reserved[5] = WIRE_RSV_EXTENDED;
	hs.reserved[7] = WIRE_RSV_DHT | WIRE_RSV_FAST;
	for (i = 0; i < SHA1_LEN; i++)
		hs.info_hash[i] = (uint8_t)(0xa0 + i);
	memcpy(hs.peer_id, "-GT0001-abcdefghijkl", 20);
	wire_encode_handshake(out, &hs);
	cr_assert_eq(out[0], 19);
	cr_assert_eq(memcmp(out + 1, "BitTorrent protocol", 19), 0);
	cr_assert_eq(memcmp(out + 20, "\0\0\0\0\0\x10\0\x05", 8), 0);
	cr_assert_eq(memcmp(out + 28, hs.info_hash, 20), 0);
	cr_assert_eq(memcmp(out + 48, "-GT0001-abcdefghijkl", 20), 0);

	memset(&got, 0, sizeof(got));
	cr_assert_eq(wire_decode_handshake(out, sizeof(out), &got), GT_OK);
	cr_assert_eq(memcmp(&got, &hs, sizeof(hs)), 0);
	/* Trailing bytes (the first messages) are not its business. */
	memcpy(more, out, sizeof(out));
	memcpy(more + sizeof(out), "\0\0\0\1\2", 5);
	cr_assert_eq(wire_decode_handshake(more, sizeof(more), &got), GT_OK);
	cr_assert_eq(memcmp(&got, &hs, sizeof(hs)), 0);

	for (i = 0; i < WIRE_HANDSHAKE_LEN; i++)
		cr_assert_eq(wire_decode_handshake(out, i, &got), GT_EAGAIN,
		    "short %zu", i);

	memcpy(bad, out, sizeof(bad));
	bad[0] = 18;
	cr_assert_eq(wire_decode_handshake(bad, sizeof(bad), &got), GT_EPROTO);
	bad[0] = 20;
	cr_assert_eq(wire_decode_handshake(bad, sizeof(bad), &got), GT_EPROTO);
	for (i = 1; i < 20; i++) {
		memcpy(bad, out, sizeof(bad));
		bad[i] ^= 0x20;
		memset(&got, 0x77, sizeof(got));
		cr_assert_eq(wire_decode_handshake(bad, sizeof(bad), &got),
		    GT_EPROTO, "pstr byte %zu", i);
		cr_assert_eq(got.peer_id[0], 0x77, "written on error");
	}
	/* Anything goes in reserved, info_hash and peer_id. */
	memcpy(bad, out, sizeof(bad));
	memset(bad + 20, 0xff, 48);
	cr_assert_eq(wire_decode_handshake(bad, sizeof(bad), &got), GT_OK);
	cr_assert_eq(got.reserved[0], 0xff);
}

Test(wire, piece_header)
{
	static const uint32_t	lens[] = { 1, 16, 16384, 131072 };
	struct buf		 b;
	uint8_t			 h[13], *data;
	size_t			 i;

	data = xcalloc(131072, 1);
	for (i = 0; i < nitems(lens); i++) {
		buf_init(&b, 1 << 20);
		cr_assert_eq(wire_put_piece(&b, 0x0a0b0c0d, 0x4000, data,
		    lens[i]), GT_OK);
		wire_piece_header(h, 0x0a0b0c0d, 0x4000, lens[i]);
		cr_assert_eq(b.len, 13 + (size_t)lens[i]);
		cr_assert_eq(memcmp(h, b.data, 13), 0, "length %u", lens[i]);
		cr_assert_eq(wire_frame_len(h, 13), 13 + (size_t)lens[i]);
		buf_clear(&b);
	}
	free(data);
}

Test(wire, bad_encoder_arguments)
{
	struct buf	b;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_simple(&b, WIRE_HAVE), GT_EINVAL);
	cr_assert_eq(wire_put_simple(&b, WIRE_PIECE), GT_EINVAL);
	cr_assert_eq(wire_put_simple(&b, WIRE_UNKNOWN), GT_EINVAL);
	cr_assert_eq(wire_put_block_msg(&b, WIRE_PIECE, 0, 0, 1), GT_EINVAL);
	cr_assert_eq(wire_put_block_msg(&b, WIRE_HAVE, 0, 0, 1), GT_EINVAL);
	cr_assert_eq(wire_put_piece(&b, 0, 0, block, 0), GT_EINVAL);
	cr_assert_eq(b.len, 0);
	buf_clear(&b);
}

/* A full buffer refuses the frame whole: no partial frame is left. */
Test(wire, cap_is_whole_frames)
{
	struct buf	b;

	buf_init(&b, 23);
	cr_assert_eq(wire_put_have(&b, 1), GT_OK);		/* 9 */
	cr_assert_eq(wire_put_have(&b, 2), GT_OK);		/* 18 */
	cr_assert_eq(wire_put_have(&b, 3), GT_ETOOBIG);
	cr_assert_eq(wire_put_piece(&b, 0, 0, block, 1), GT_ETOOBIG);
	cr_assert_eq(wire_put_block_msg(&b, WIRE_REQUEST, 0, 0, 1),
	    GT_ETOOBIG);
	cr_assert_eq(wire_put_extended(&b, 0, ext, 5), GT_ETOOBIG);
	cr_assert_eq(wire_put_port(&b, 1), GT_ETOOBIG);
	cr_assert_eq(b.len, 18);
	cr_assert_eq(wire_put_simple(&b, WIRE_CHOKE), GT_OK);	/* 23 */
	cr_assert_eq(wire_put_keepalive(&b), GT_ETOOBIG);
	cr_assert_eq(b.len, 23);
	buf_clear(&b);
}

/*
 * BEP 6's own example: a torrent of 1313 pieces, info-hash twenty 0xaa
 * bytes, a peer at 80.4.4.200 (data only: no socket is ever made).
 */
static const uint8_t	bep6_ip[4] = { 80, 4, 4, 200 };
static const uint32_t	bep6_k9[] = {
	1059, 431, 808, 1217, 287, 376, 1188, 353, 508,
};

Test(wire, allowed_fast_bep6_vectors)
{
	uint8_t		ih[SHA1_LEN];
	uint32_t	out[16];
	size_t		n, i;

	memset(ih, 0xaa, sizeof(ih));
	n = wire_allowed_fast_set(bep6_ip, 4, ih, 1313, 7, out);
	cr_assert_eq(n, 7);
	for (i = 0; i < n; i++)
		cr_assert_eq(out[i], bep6_k9[i], "k=7, [%zu]: %u", i, out[i]);
	n = wire_allowed_fast_set(bep6_ip, 4, ih, 1313, 9, out);
	cr_assert_eq(n, 9);
	for (i = 0; i < n; i++)
		cr_assert_eq(out[i], bep6_k9[i], "k=9, [%zu]: %u", i, out[i]);
}

/* The low octet does not matter: one /24, one set. */
Test(wire, allowed_fast_masks_the_last_octet)
{
	uint8_t		ih[SHA1_LEN], ip[4];
	uint32_t	a[10], b[10];
	unsigned	last;

	memset(ih, 0xaa, sizeof(ih));
	memcpy(ip, bep6_ip, sizeof(ip));
	cr_assert_eq(wire_allowed_fast_set(ip, 4, ih, 1313, 10, a), 10);
	for (last = 0; last < 256; last += 51) {
		ip[3] = (uint8_t)last;
		cr_assert_eq(wire_allowed_fast_set(ip, 4, ih, 1313, 10, b),
		    10);
		cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	}
	ip[2]++;			/* the next /24: another set */
	cr_assert_eq(wire_allowed_fast_set(ip, 4, ih, 1313, 10, b), 10);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	ih[0] ^= 1;			/* another torrent: another set */
	cr_assert_eq(wire_allowed_fast_set(bep6_ip, 4, ih, 1313, 10, b), 10);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}

/* k over the piece count: every piece, each once; no pieces, none. */
Test(wire, allowed_fast_small_torrents)
{
	uint8_t		ih[SHA1_LEN];
	uint32_t	out[16], seen;
	size_t		n, i;

	memset(ih, 0x11, sizeof(ih));
	for (uint32_t np = 1; np <= 12; np++) {
		n = wire_allowed_fast_set(bep6_ip, 4, ih, np, 10, out);
		cr_assert_eq(n, MIN(np, 10u), "%u pieces", np);
		seen = 0;
		for (i = 0; i < n; i++) {
			cr_assert_lt(out[i], np);
			cr_assert_eq(seen & (1u << out[i]), 0, "duplicate");
			seen |= 1u << out[i];
		}
	}
	cr_assert_eq(wire_allowed_fast_set(bep6_ip, 4, ih, 0, 10, out), 0);
	cr_assert_eq(wire_allowed_fast_set(bep6_ip, 4, ih, 100, 0, out), 0);
	cr_assert_eq(wire_allowed_fast_set(bep6_ip, 5, ih, 100, 10, out), 0);
}

/* IPv6: the /64 decides (::1 and ::2 share one, 2001:db8:0:1:: not). */
Test(wire, allowed_fast_ipv6_by_64)
{
	uint8_t		ih[SHA1_LEN], ip[16] = { 0 };
	uint32_t	a[10], b[10];

	memset(ih, 0xaa, sizeof(ih));
	ip[15] = 1;
	cr_assert_eq(wire_allowed_fast_set(ip, 16, ih, 1313, 10, a), 10);
	ip[15] = 2;
	ip[9] = 0x77;
	cr_assert_eq(wire_allowed_fast_set(ip, 16, ih, 1313, 10, b), 10);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	ip[7] = 1;
	cr_assert_eq(wire_allowed_fast_set(ip, 16, ih, 1313, 10, b), 10);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}
