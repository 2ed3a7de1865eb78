/* peer.h - one connection's protocol state: choke, interest, requests */
#ifndef GT_PEER_H
#define GT_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "buf.h"
#include "err.h"
#include "wire.h"

#define PEER_MIN_QUEUE		4	/* outstanding requests, at least */
#define PEER_MAX_QUEUE		1024	/* and at most */
#define PEER_MAX_PEER_QUEUE	1024	/* requests we hold for the peer */
#define PEER_HANDSHAKE_MS	10000	/* to finish the handshake */
#define PEER_IDLE_MS		120000	/* nothing received: close */
#define PEER_KEEPALIVE_MS	90000	/* nothing sent: send a keep-alive */
#define PEER_REQUEST_MS		20000	/* a request unanswered, and no
					   block since: abandon it */
#define PEER_REQUEST_MAX_MS	60000	/* ... unanswered, whatever came */
#define PEER_SNUB_MS		60000	/* unchoked, requests out, no block:
					   snubbed (with anti_snub) */
#define PEER_SNUB_QUEUE		1	/* requests out to a snubbed peer */
#define PEER_RATE_AVG_MS	20000	/* peer_*_rate_avg window */
#define PEER_ADDR_LEN		48	/* an address in logs (as addr_str) */
#define PEER_OUT_MAX		(4u << 20) /* queued output bytes, cap */
#define PEER_FAST_MAX		32	/* allowed-fast pieces, each way */
#define PEER_SUGGEST_MAX	16	/* suggestions from the peer kept */
#define PEER_REFUSED_MAX	16	/* pieces it rejected while unchoking
					   us, kept ... */
#define PEER_REFUSED_MS		10000	/* ... and not asked of it again for
					   this long */

struct peer;

/*
 * What the torrent does for a peer.  Called synchronously from peer_on_*
 * and peer_tick; none of them may free the peer (return an error from the
 * call that must end the connection instead).
 */
struct peer_hooks {
	/*
	 * Availability: the peer announced a piece (a HAVE, or a piece new
	 * in a later BITFIELD), or its whole set (the first BITFIELD,
	 * HAVE_ALL or HAVE_NONE; called once at most).
	 */
	void		(*have)(void *ctx, struct peer *, uint32_t piece);
	void		(*bitfield)(void *ctx, struct peer *,
			    const struct bitfield *);
	/*
	 * Blocks to request next (the picker): as picker_next, from the
	 * pieces peer_pick_set() gives (while the peer chokes us, only its
	 * allowed-fast pieces), preferring peer_suggested() ones.  out is
	 * busy + nbusy: the picks extend the queue.
	 */
	size_t		(*pick)(void *ctx, struct peer *,
			    const struct block_req *busy, size_t nbusy,
			    struct block_req *out, size_t max);
	/* A request of ours will not be answered (choke, reject, timeout). */
	void		(*abandon)(void *ctx, struct peer *,
			    const struct block_req *);
	/*
	 * A requested block arrived; data is borrowed for the call.  An error
	 * (e.g. the disk failed) is returned by peer_on_msg.
	 */
	enum gt_err	(*block)(void *ctx, struct peer *,
			    const struct block_req *, const uint8_t *data);
	/* Do we hold this verified piece (to serve it)? */
	bool		(*has_piece)(void *ctx, uint32_t piece);
	/* Should we be interested in a peer that has these pieces? */
	bool		(*wants)(void *ctx, const struct bitfield *);
	/* The peer asked for a block we have, while we unchoke it or of
	   a piece of its allowed-fast set (may be NULL: the torrent takes requests with peer_next_request and
	   answers them with peer_send_block or peer_reject_request). */
	void		(*request)(void *ctx, struct peer *,
			    const struct block_req *);
	/* A BEP 10 extended message (id 0 = the extended handshake). */
	enum gt_err	(*extended)(void *ctx, struct peer *, uint8_t ext_id,
			    const uint8_t *payload, size_t len);
	/* A PORT message (BEP 5): its DHT node's port, never 0; may be NULL. */
	void		(*port)(void *ctx, struct peer *, uint16_t port);
};

/*
 * npieces 0: the metadata is not known yet (a magnet).  The peer then holds
 * what the remote announces (bounded), rejects its requests and asks for
 * nothing until peer_set_metadata.
 */
struct peer_config {
	uint32_t	npieces;
	uint32_t	piece_length;
	uint32_t	last_size;	/* bytes in the last piece */
	bool		fast;		/* we offer BEP 6 */
	bool		extended;	/* we offer BEP 10 */
	bool		anti_snub;	/* mark snubbing peers (see
					   peer_is_snubbed); off: never */
};

enum peer_state {
	PEER_HANDSHAKE,		/* waiting for the remote handshake */
	PEER_ACTIVE,
	PEER_CLOSING,		/* an error ended it; the caller closes */
};

struct peer	*peer_new(const struct peer_config *, const struct peer_hooks *,
		    void *ctx, uint64_t now);
void		 peer_free(struct peer *);
/* Log lines name the peer "[id-tail addr]"; addr as addr_str gives it. */
void		 peer_set_addr(struct peer *, const char *addr);
/* Calls hooks.abandon for each request of ours still out (before free). */
void		 peer_abandon_all(struct peer *);

/*
 * BEP 6, our allowed-fast set for this peer (wire_allowed_fast_set, at most
 * PEER_FAST_MAX pieces; call once, after peer_on_handshake, with the
 * metadata): it may download these pieces while we choke it.  One
 * ALLOWED_FAST is queued for each piece of it we have, now or when
 * peer_announce_have announces it.  Without the fast extension: nothing.
 */
void		 peer_set_allowed_fast(struct peer *, const uint32_t *pieces,
		    size_t n, uint64_t now);
/*
 * Whether we serve the peer piece while we choke it: in our allowed-fast
 * set, the peer has not announced it, and no more than twice the piece
 * was sent to it while choked (a request past that gets a REJECT); or
 * the piece we were sending it when we choked it (the fast extension
 * only), until a piece's size went out since.
 */
bool		 peer_allows_fast(const struct peer *, uint32_t piece);
/*
 * The pieces the picker may choose from for this peer: every piece it has
 * while it unchokes us; while it chokes us (fast extension), the pieces of
 * the allowed-fast set it gave us (at most PEER_FAST_MAX) that it has.
 * Valid until the next call into the peer.
 */
const struct bitfield *peer_pick_set(struct peer *);
/*
 * The pieces it suggested (SUGGEST_PIECE, the last PEER_SUGGEST_MAX) that
 * it has and we lack, while it unchokes us; NULL when none.  The torrent
 * decides how far to prefer them.
 */
const struct bitfield *peer_suggested(struct peer *);
/* The same as a list (after peer_suggested), oldest first, *n long. */
const uint32_t	*peer_suggestions(const struct peer *, size_t *n);
/*
 * SUGGEST_PIECE (BEP 6): piece is cheap for us to serve now.  Queued only
 * with the fast extension, while we unchoke the peer and it is interested,
 * lacks the piece, and was never suggested it before.  Returns whether it
 * was queued.
 */
bool		 peer_suggest(struct peer *, uint32_t piece, uint64_t now);

/*
 * The remote handshake arrived (the caller checked the info-hash and that
 * it is not ourselves).  Queues our bitfield (or HAVE_ALL/HAVE_NONE with
 * the fast extension) built from have.
 */
enum gt_err	 peer_on_handshake(struct peer *, const struct wire_handshake *,
		    const struct bitfield *have, uint64_t now);
/*
 * One decoded message.  Validates everything against the torrent: indexes,
 * ranges, bitfield length and spare bits, a second or late HAVE_ALL or
 * HAVE_NONE, a BEP 6 message without the fast extension, an unrequested or
 * mis-sized piece: GT_EPROTO (or GT_ERANGE) ends the connection, with the
 * reason in peer_error().  A BITFIELD after the first one or after other
 * messages is an update: its new pieces count as HAVEs (hooks.have), its
 * cleared bits are ignored.
 */
enum gt_err	 peer_on_msg(struct peer *, const struct wire_msg *,
		    uint64_t now);
/*
 * The metadata arrived (the peer was made with npieces 0): the held
 * BITFIELD/HAVE_ALL/HAVEs are checked against cfg (a mismatch closes) and
 * reported to hooks.bitfield once; interest follows.  fast and extended
 * stay as negotiated.
 */
enum gt_err	 peer_set_metadata(struct peer *, const struct peer_config *,
		    uint64_t now);
/* The peer's BEP 10 "reqq": our pipeline to it stays within n (0: none). */
void		 peer_set_reqq(struct peer *, size_t n);
/* Timeouts, keep-alives, request top-up; returns an error to close. */
enum gt_err	 peer_tick(struct peer *, uint64_t now);
/* When peer_tick is next due (monotonic ms). */
uint64_t	 peer_deadline(const struct peer *);

/*
 * Output.  peer_out() holds the bytes to send, but a block answered by
 * reference (peer_queue_block) is only its 13-byte PIECE header there:
 * its payload, which the torrent's storage holds, is a span queued beside
 * the buffer, to go on the wire right before out byte `at` (after the
 * header).  The writer (net) sends out's bytes up to the first span's at,
 * then that payload, which it gets from the owner without a copy through
 * our memory (conn_hooks.payload: storage_send), then pops the span
 * (peer_out_span_done), and so on; it drops what went from out's front
 * with peer_out_drain, which moves the spans' `at` along.  No socket or
 * file is touched here: a span is a description.  The bytes of out and
 * the payloads queued stay within PEER_OUT_MAX together; a drained queue
 * gives its memory back (over PEER_OUT_KEEP).
 */
struct peer_span {
	size_t			at;	/* payload goes before out byte at */
	struct block_req	r;	/* the block: r.length payload bytes */
};
struct buf	*peer_out(struct peer *);
/* The oldest span not yet written, or NULL. */
const struct peer_span *peer_out_span(const struct peer *);
/* Its payload is all out: the next one becomes the oldest. */
void		 peer_out_span_done(struct peer *);
/* n bytes of out went (no further than the oldest span's at): drop them. */
void		 peer_out_drain(struct peer *, size_t n);
/* Bytes of out plus the payloads of the spans queued. */
size_t		 peer_out_pending(const struct peer *);

/* Decisions from the torrent and the choker. */
void		 peer_set_choking(struct peer *, bool choke, uint64_t now);
void		 peer_update_interest(struct peer *, uint64_t now);
/* We verified a piece: tell the peer, drop interest if nothing is left. */
void		 peer_announce_have(struct peer *, uint32_t piece,
		    uint64_t now);
/* Ask the picker for more blocks, up to the pipeline depth. */
void		 peer_fill_requests(struct peer *, uint64_t now);
/* Another peer delivered this block first (end-game): cancel ours. */
void		 peer_cancel_block(struct peer *, const struct block_req *);
/* Answer a request the torrent accepted; data is copied. */
enum gt_err	 peer_send_block(struct peer *, const struct block_req *,
		    const uint8_t *data);
/*
 * The same, the payload by reference: the header is queued and a span
 * (see peer_out) for the writer to fill from storage.  Accounting (upload,
 * rates, fast-set allowances) is the same; so are the errors.
 */
enum gt_err	 peer_queue_block(struct peer *, const struct block_req *);
/* The oldest request the peer queued and we have not answered. */
bool		 peer_next_request(const struct peer *, struct block_req *);
/*
 * A request the torrent will not serve (its queue is full, the piece
 * cannot be read): forgets it and, with the fast extension, queues a
 * REJECT_REQUEST (BEP 6); without it the peer just never gets an answer.
 * May be called from hooks.request.  Unknown or already answered: no-op.
 */
enum gt_err	 peer_reject_request(struct peer *, const struct block_req *);
enum gt_err	 peer_send_extended(struct peer *, uint8_t ext_id,
		    const uint8_t *payload, size_t len);
/* A PORT message (BEP 5): our DHT node's UDP port. */
enum gt_err	 peer_send_port(struct peer *, uint16_t port);

/* What the torrent and choker read. */
enum peer_state	 peer_state(const struct peer *);
const char	*peer_error(const struct peer *);	/* why it is closing */
const struct bitfield *peer_has(const struct peer *);
const struct wire_handshake *peer_handshake(const struct peer *);
bool		 peer_am_choking(const struct peer *);
bool		 peer_am_interested(const struct peer *);
bool		 peer_is_choking(const struct peer *);
bool		 peer_is_interested(const struct peer *);
bool		 peer_is_seed(const struct peer *);
bool		 peer_is_fast(const struct peer *);	/* BEP 6 both ways */
/* Its requests we have not answered, oldest first; *n of them. */
const struct block_req *peer_requests_queued(const struct peer *, size_t *n);
/*
 * Anti-snubbing (cfg.anti_snub): the peer unchoked us, we had requests
 * out (or it is stalled), and no block came for PEER_SNUB_MS.  Our
 * pipeline to it shrinks to PEER_SNUB_QUEUE until a block comes (and the
 * choker takes its regular slot away).  A request timeout alone does not
 * snub: it stalls.
 */
bool		 peer_is_snubbed(const struct peer *);
/*
 * A request of ours timed out while it unchoked us and no block came
 * since (whatever cfg.anti_snub says): the torrent leaves blocks to the
 * others while they send.
 */
bool		 peer_is_stalled(const struct peer *);
uint64_t	 peer_downloaded(const struct peer *);	/* payload bytes */
uint64_t	 peer_uploaded(const struct peer *);
/* Payload rates over the last few seconds, bytes per second. */
uint64_t	 peer_down_rate(const struct peer *, uint64_t now);
uint64_t	 peer_up_rate(const struct peer *, uint64_t now);
/* The same over the last PEER_RATE_AVG_MS (the choker's). */
uint64_t	 peer_down_rate_avg(const struct peer *, uint64_t now);
uint64_t	 peer_up_rate_avg(const struct peer *, uint64_t now);
size_t		 peer_queue_len(const struct peer *);	/* our requests out */
size_t		 peer_queue_depth(const struct peer *);	/* its target */

#endif /* GT_PEER_H */
