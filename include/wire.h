/* wire.h - peer-wire codec: handshake, BEP 3/6/10 messages, incremental */
#ifndef GT_WIRE_H
#define GT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"

#define WIRE_HANDSHAKE_LEN	68
/* The one block size: bytes per request we make (picker, peer, torrent). */
#define WIRE_BLOCK		16384
#define WIRE_MAX_REQUEST	131072		/* largest request we serve */
/* Largest message body accepted: a bitfield for 2^21 pieces, a block. */
#define WIRE_MAX_MSG		(262144 + 64)
#define WIRE_MAX_FRAME		(4 + WIRE_MAX_MSG)

/* We serve every block we ask for; a PIECE of the largest request fits. */
_Static_assert(WIRE_BLOCK > 0 && WIRE_BLOCK <= WIRE_MAX_REQUEST,
    "WIRE_BLOCK must be a request we serve");
_Static_assert(WIRE_MAX_MSG >= 9 + WIRE_MAX_REQUEST,
    "WIRE_MAX_MSG must hold a PIECE of WIRE_MAX_REQUEST bytes");

/* Reserved-bit flags we understand (BEP 5, 6, 10). */
#define WIRE_RSV_DHT		0x01	/* reserved[7] */
#define WIRE_RSV_FAST		0x04	/* reserved[7] */
#define WIRE_RSV_EXTENDED	0x10	/* reserved[5] */

enum wire_type {
	WIRE_CHOKE = 0,
	WIRE_UNCHOKE = 1,
	WIRE_INTERESTED = 2,
	WIRE_NOT_INTERESTED = 3,
	WIRE_HAVE = 4,
	WIRE_BITFIELD = 5,
	WIRE_REQUEST = 6,
	WIRE_PIECE = 7,
	WIRE_CANCEL = 8,
	WIRE_PORT = 9,			/* BEP 5 */
	WIRE_SUGGEST = 13,		/* BEP 6 */
	WIRE_HAVE_ALL = 14,
	WIRE_HAVE_NONE = 15,
	WIRE_REJECT = 16,
	WIRE_ALLOWED_FAST = 17,
	WIRE_EXTENDED = 20,		/* BEP 10 */
	WIRE_KEEPALIVE = 256,		/* zero-length frame */
	WIRE_UNKNOWN = 257,		/* an id we skip */
};

/* A block of a piece: what REQUEST, PIECE, CANCEL and REJECT name. */
struct block_req {
	uint32_t	piece;
	uint32_t	offset;		/* multiple of WIRE_BLOCK */
	uint32_t	length;		/* WIRE_BLOCK, or less at a piece's end */
};

struct wire_handshake {
	uint8_t		reserved[8];
	uint8_t		info_hash[SHA1_LEN];
	uint8_t		peer_id[20];
};

/* A decoded message; data points into the input buffer (borrowed). */
struct wire_msg {
	enum wire_type	 type;
	uint8_t		 id;		/* raw id (for WIRE_UNKNOWN) */
	uint32_t	 index;		/* HAVE, REQUEST, PIECE, CANCEL, ... */
	uint32_t	 begin;		/* REQUEST, PIECE, CANCEL, REJECT */
	uint32_t	 length;	/* REQUEST, CANCEL, REJECT */
	uint16_t	 port;		/* PORT */
	uint8_t		 ext_id;	/* EXTENDED */
	const uint8_t	*data;		/* BITFIELD bits, PIECE block,
					   EXTENDED payload after ext_id */
	size_t		 len;
};

/* GT_EAGAIN until 68 bytes; GT_EPROTO unless "\x13BitTorrent protocol". */
enum gt_err	wire_decode_handshake(const uint8_t *, size_t,
		    struct wire_handshake *);
void		wire_encode_handshake(uint8_t out[WIRE_HANDSHAKE_LEN],
		    const struct wire_handshake *);

/*
 * Decodes one length-prefixed message from the start of buf.  GT_EAGAIN:
 * need more bytes; GT_EPROTO: a length over WIRE_MAX_MSG (refused before
 * anything is buffered) or a body of the wrong size for its id.  On
 * success *used is the frame's length.  Ranges are not checked here (the
 * codec does not know the torrent): peer does that.
 */
enum gt_err	wire_decode(const uint8_t *buf, size_t len, struct wire_msg *,
		    size_t *used);
/* Bytes of the frame starting at buf, once 4 bytes are there; else 0. */
size_t		wire_frame_len(const uint8_t *buf, size_t len);

/* Encoders append one whole frame to out. */
enum gt_err	wire_put_simple(struct buf *, enum wire_type);	/* no body */
enum gt_err	wire_put_keepalive(struct buf *);
enum gt_err	wire_put_have(struct buf *, uint32_t index);
enum gt_err	wire_put_bitfield(struct buf *, const uint8_t *bits,
		    size_t nbytes);
/* REQUEST, CANCEL, REJECT */
enum gt_err	wire_put_block_msg(struct buf *, enum wire_type,
		    uint32_t index, uint32_t begin, uint32_t length);
/* The 13-byte header of a PIECE frame; the block's bytes follow it. */
void		wire_piece_header(uint8_t out[13], uint32_t index,
		    uint32_t begin, uint32_t length);
enum gt_err	wire_put_piece(struct buf *, uint32_t index, uint32_t begin,
		    const uint8_t *data, uint32_t length);
enum gt_err	wire_put_port(struct buf *, uint16_t port);
enum gt_err	wire_put_allowed_fast(struct buf *, uint32_t index);
enum gt_err	wire_put_extended(struct buf *, uint8_t ext_id,
		    const uint8_t *payload, size_t len);
/* SUGGEST_PIECE (BEP 6). */
enum gt_err	wire_put_suggest(struct buf *, uint32_t index);

/*
 * The BEP 6 allowed-fast set of a peer: min(k, npieces) distinct pieces of
 * a torrent of npieces, written to out in the BEP's order; returns how
 * many.  ip is the peer's address, 4 bytes (IPv4: the BEP's algorithm,
 * over ip & 0xffffff00, so one /24 gets one set) or 16 bytes (IPv6, not
 * in the BEP: the same algorithm over the /64 prefix followed by eight
 * zero bytes, one set per /64 as one per /24 for IPv4; libtorrent hashes
 * all 16 bytes instead).  A v4-mapped address must be passed as IPv4.
 * Any other length, or npieces 0: no pieces.
 */
size_t		wire_allowed_fast_set(const uint8_t *ip, size_t iplen,
		    const uint8_t info_hash[SHA1_LEN], uint32_t npieces,
		    size_t k, uint32_t *out);

#endif /* GT_WIRE_H */
