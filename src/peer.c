/* peer.c - one connection's protocol state: choke, interest, requests */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "peer.h"
#include "util.h"

#define PEER_INIT_QUEUE		32	/* pipeline depth before any block */
#define PEER_PIPELINE_MS	2000	/* keep this much data requested */
#define PEER_SLOW_START_MS	2000	/* rate estimate meaningless before */
#define PEER_DROPPED_MAX	PEER_MAX_QUEUE	/* late replies tolerated */
#define PEER_DROPPED_MIN	16	/* ... room for, at first */
#define RATE_SHORT		5	/* seconds: the pipeline's rate */
#define RATE_BUCKETS		(PEER_RATE_AVG_MS / 1000) /* one-second
						   buckets: the choker's */
#define RATE_MIN_SPAN_MS	1000	/* divide by no less than this */
#define PEER_PENDING_HAVES	4096	/* HAVEs held before the metadata */
#define PEER_FAST_SERVE_X	2	/* pieces' worth served while choked */
#define PEER_OUT_KEEP		16384	/* output bytes kept allocated once
					   it drained; more are freed */
#define PEER_SPANS_KEEP		64	/* the same for queued spans */

/* Serving the largest request must not overflow our output. */
_Static_assert(PEER_OUT_MAX >= 4 + 9 + WIRE_MAX_REQUEST,
    "PEER_OUT_MAX must hold a PIECE frame of WIRE_MAX_REQUEST bytes");

/*
 * Payload rate: bytes in one-second buckets over the last RATE_BUCKETS
 * seconds, O(1) per sample.  An estimate over the last w seconds (w <=
 * RATE_BUCKETS: RATE_SHORT for the pipeline, all of them for the choker)
 * divides by the time covered, at most the window, at least
 * RATE_MIN_SPAN_MS (so one early block does not look like a fast link).
 */
struct rate {
	uint64_t	bucket[RATE_BUCKETS];	/* bytes of second s at s % N */
	uint64_t	sec;		/* second of the newest sample */
	uint64_t	start;		/* ms of the first sample */
	bool		started;
};

/*
 * Requests in the order they were made, kept contiguous at req[head ..
 * head + len) so that our outstanding ones can be handed to the picker as
 * busy[] as they are.  Replies come mostly in order, so removal is mostly
 * at the head: O(1).  cap stays within 2 * max; compaction happens at most
 * once per cap / 2 removals.
 */
struct reqq {
	struct block_req	*req;
	uint64_t		*ms;	/* when each was sent, or NULL */
	size_t			 head, len, cap;
	size_t			 max;	/* entries at most */
	bool			 with_ms;
};

struct peer {
	struct peer_config	 cfg;
	struct peer_hooks	 hooks;
	void			*ctx;
	enum peer_state		 state;
	enum gt_err		 err;		/* why it is closing */
	char			 why[128];
	char			 tail[9];	/* peer id tail, for the log */
	char			 addr[PEER_ADDR_LEN];	/* for the log, or "" */
	char			 name[PEER_ADDR_LEN + 10]; /* "tail addr" */
	uint64_t		 now;		/* latest clock reading seen */

	struct wire_handshake	 hs;		/* the remote handshake */
	bool			 got_hs;
	bool			 fast;		/* BEP 6 on both sides */
	bool			 extended;	/* BEP 10 on both sides */

	bool			 am_choking, am_interested;
	bool			 peer_choking, peer_interested;
	bool			 snubbed;	/* see peer_is_snubbed */
	bool			 stalled;	/* see peer_is_stalled */
	bool			 got_bitfield;	/* BITFIELD or HAVE_ALL/NONE */
	bool			 got_other;	/* a message closing the window
						   for a bitfield */

	struct bitfield		 has;		/* the peer's pieces */
	/*
	 * Before the metadata (cfg.npieces == 0) the piece count is unknown:
	 * what the peer announces is held as sent, bounded by the message
	 * cap (a BITFIELD) and PEER_PENDING_HAVES, and checked against the
	 * torrent in peer_set_metadata.
	 */
	uint8_t			*pend_bits;	/* a BITFIELD's bytes, or NULL */
	size_t			 pend_nbits;	/* ... its length */
	uint32_t		*pend_have;	/* HAVE indices */
	size_t			 npend_have;
	bool			 pend_all;	/* HAVE_ALL */
	bool			 pend_lost;	/* HAVEs over the cap dropped */
	size_t			 reqq;		/* its "reqq"; 0: unknown */
	struct buf		 out;		/* bytes to send; its max is
						   PEER_OUT_MAX less span_bytes */
	/*
	 * Blocks answered by reference (peer_queue_block), oldest first:
	 * spans[span_head .. span_head + nspans).  Each one's payload goes
	 * on the wire before out byte `at`.
	 */
	struct peer_span	*spans;
	size_t			 nspans, span_head, spans_cap;
	size_t			 span_bytes;	/* their payloads' bytes */

	struct reqq		 ours;		/* our requests, oldest first */
	struct reqq		 theirs;	/* the peer's, unanswered */
	struct block_req	*dropped;	/* ring of requests given up
						   (cancel, timeout, choke) */
	size_t			 ndropped, dropped_pos;
	size_t			 dropped_cap;	/* allocated, up to
						   PEER_DROPPED_MAX */
	size_t			 dropped_lost;	/* pushed out of the ring
						   unanswered */

	size_t			 depth;		/* pipeline target */
	bool			 slow_start;
	bool			 got_block;
	uint64_t		 first_block;	/* ms of the first block */
	bool			 waiting;	/* unchoked, requests out (or
						   stalled) */
	uint64_t		 wait_since;	/* ... since then no block */

	uint64_t		 created, last_recv, last_send;
	uint64_t		 last_block;	/* a block we asked for came */
	uint64_t		 downloaded, uploaded;
	struct rate		 down, up;

	/*
	 * BEP 6.  Ours: the pieces the peer may download while we choke it,
	 * whether we told it (ALLOWED_FAST goes out once we have the piece)
	 * and what we sent of each while choking.  Theirs: the pieces it
	 * allows us, and fast_mask = those it has (peer_pick_set).  Its
	 * suggestions, the last few, and sug_mask = those it has.  The masks are
	 * allocated with their first piece, kept in step on every change.
	 */
	uint32_t		 af_ours[PEER_FAST_MAX];
	bool			 af_told[PEER_FAST_MAX];
	uint64_t		 af_served[PEER_FAST_MAX];
	size_t			 naf_ours;
	uint32_t		 af_theirs[PEER_FAST_MAX];
	size_t			 naf_theirs;
	bool			 af_full;	/* theirs over the cap: logged */
	struct bitfield		 fast_mask;
	uint32_t		 sug[PEER_SUGGEST_MAX];	/* oldest first */
	size_t			 nsug;
	struct bitfield		 sug_mask;
	struct bitfield		 sug_sent;	/* pieces we suggested */
	/*
	 * Pieces it rejected while it unchoked us (a seed that has sent the
	 * piece to another peer already, spread.h): not asked of it again
	 * for PEER_REFUSED_MS; pick_mask = has without them.
	 */
	uint32_t		 refused[PEER_REFUSED_MAX];
	uint64_t		 refused_ms[PEER_REFUSED_MAX];
	size_t			 nrefused;
	struct bitfield		 pick_mask;
	/*
	 * Choking a fast peer lets it finish the piece we were sending it
	 * (the last block's, +1; 0: none), a piece's size at most, like an
	 * allowed-fast piece: a half-sent piece would otherwise have to be
	 * sent whole to another peer.
	 */
	uint32_t		 last_sent;
	uint32_t		 finishing;
	uint64_t		 finishing_sent;
};

static const char *const peer_state_names[] = {
	[PEER_HANDSHAKE] = "handshake",	[PEER_ACTIVE] = "active",
	[PEER_CLOSING] = "closing",
};

static enum gt_err peer_fail(struct peer *, enum gt_err, const char *, ...)
		    GT_PRINTF(3, 4);

static void
peer_set_state(struct peer *p, enum peer_state st, const char *why)
{
	log_obj_at(LOG_DEBUG, p->name, "%s -> %s (%s)",
	    peer_state_names[p->state], peer_state_names[st], why);
	p->state = st;
}

/* The peer must be closed: remember why; later calls return the error. */
static enum gt_err
peer_fail(struct peer *p, enum gt_err e, const char *fmt, ...)
{
	va_list	ap;

	if (p->state == PEER_CLOSING)
		return p->err;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->err = e;
	peer_set_state(p, PEER_CLOSING, p->why);
	return e;
}

static enum gt_err
peer_result(const struct peer *p)
{
	return p->state == PEER_CLOSING ? p->err : GT_OK;
}

static void
peer_touch(struct peer *p, uint64_t now)
{
	if (now > p->now)
		p->now = now;
}

/* Accounts for one encoder's result: a full output buffer closes. */
static void
peer_sent(struct peer *p, enum gt_err e)
{
	if (e != GT_OK) {
		peer_fail(p, e, "output over %u bytes (%s)", PEER_OUT_MAX,
		    gt_strerror(e));
		return;
	}
	p->last_send = p->now;
}

static uint32_t
piece_size(const struct peer *p, uint32_t piece)
{
	return piece + 1 == p->cfg.npieces ? p->cfg.last_size :
	    p->cfg.piece_length;
}

static bool
req_eq(const struct block_req *a, const struct block_req *b)
{
	return a->piece == b->piece && a->offset == b->offset &&
	    a->length == b->length;
}

/* Rates. */

static void
rate_roll(struct rate *r, uint64_t now)
{
	uint64_t	s = now / 1000, k;

	if (s <= r->sec)
		return;
	if (s - r->sec >= RATE_BUCKETS)
		memset(r->bucket, 0, sizeof(r->bucket));
	else {
		for (k = r->sec + 1; k <= s; k++)
			r->bucket[k % RATE_BUCKETS] = 0;
	}
	r->sec = s;
}

static void
rate_add(struct rate *r, uint64_t n, uint64_t now)
{
	if (!r->started) {
		r->started = true;
		r->start = now;
		r->sec = now / 1000;
		memset(r->bucket, 0, sizeof(r->bucket));
	}
	rate_roll(r, now);
	r->bucket[r->sec % RATE_BUCKETS] += n;
}

static uint64_t
rate_get(const struct rate *r, unsigned w, uint64_t now)
{
	uint64_t	s = now / 1000, sum = 0, span, k;
	size_t		i;

	assert(w >= 1 && w <= RATE_BUCKETS);
	if (!r->started)
		return 0;
	for (i = 0; i < w && i <= s; i++) {
		k = s - i;
		if (k > r->sec || r->sec - k >= RATE_BUCKETS)
			continue;
		sum += r->bucket[k % RATE_BUCKETS];
	}
	span = (uint64_t)(w - 1) * 1000 + now % 1000;
	if (now >= r->start && now - r->start < span)
		span = now - r->start;
	span = MAX(span, RATE_MIN_SPAN_MS);
	return sum * 1000 / span;
}

/* Request queues. */

static void
reqq_init(struct reqq *q, size_t max, bool with_ms)
{
	*q = (struct reqq){ .max = max, .with_ms = with_ms };
}

static void
reqq_clear(struct reqq *q)
{
	free(q->req);
	free(q->ms);
	reqq_init(q, q->max, q->with_ms);
}

/* Room for extra more entries after the last one. */
static void
reqq_reserve(struct reqq *q, size_t extra)
{
	size_t	need = q->len + extra, ncap;

	assert(need <= q->max);
	if (q->head + need <= q->cap)
		return;
	if (2 * need > q->cap) {
		ncap = q->cap < 16 ? 16 : q->cap;
		while (ncap < 2 * need)
			ncap *= 2;
		q->req = xreallocarray(q->req, ncap, sizeof(*q->req));
		if (q->with_ms)
			q->ms = xreallocarray(q->ms, ncap, sizeof(*q->ms));
		q->cap = ncap;
	}
	if (q->head > 0) {
		memmove(q->req, q->req + q->head, q->len * sizeof(*q->req));
		if (q->with_ms)
			memmove(q->ms, q->ms + q->head,
			    q->len * sizeof(*q->ms));
		q->head = 0;
	}
}

static struct block_req *
reqq_at(const struct reqq *q, size_t i)
{
	return q->req + q->head + i;
}

static void
reqq_push(struct reqq *q, const struct block_req *r, uint64_t ms)
{
	reqq_reserve(q, 1);
	q->req[q->head + q->len] = *r;
	if (q->with_ms)
		q->ms[q->head + q->len] = ms;
	q->len++;
}

static size_t
reqq_find(const struct reqq *q, const struct block_req *r)
{
	size_t	i;

	for (i = 0; i < q->len; i++) {
		if (req_eq(reqq_at(q, i), r))
			return i;
	}
	return SIZE_MAX;
}

/* Removes entry i, keeping the order; the shorter side moves. */
static void
reqq_remove(struct reqq *q, size_t i)
{
	struct block_req	*r = q->req + q->head;
	uint64_t		*ms = q->with_ms ? q->ms + q->head : NULL;

	assert(i < q->len);
	if (i < q->len / 2) {
		memmove(r + 1, r, i * sizeof(*r));
		if (ms != NULL)
			memmove(ms + 1, ms, i * sizeof(*ms));
		q->head++;
	} else {
		memmove(r + i, r + i + 1, (q->len - i - 1) * sizeof(*r));
		if (ms != NULL)
			memmove(ms + i, ms + i + 1,
			    (q->len - i - 1) * sizeof(*ms));
	}
	q->len--;
	if (q->len == 0)
		q->head = 0;
}

/* Dropped requests: a late PIECE or REJECT for them is not an error. */

static void
dropped_add(struct peer *p, const struct block_req *r)
{
	/* The ring wraps only when full: it grows as it fills. */
	if (p->dropped_pos == p->dropped_cap) {
		p->dropped_cap = p->dropped_cap == 0 ? PEER_DROPPED_MIN :
		    MIN(2 * p->dropped_cap, PEER_DROPPED_MAX);
		p->dropped = xreallocarray(p->dropped, p->dropped_cap,
		    sizeof(*p->dropped));
	}
	/*
	 * A full ring forgets its oldest entry; if that one was still
	 * unanswered, one late answer we cannot match is no error.
	 */
	if (p->ndropped == PEER_DROPPED_MAX &&
	    p->dropped[p->dropped_pos].length != 0 &&
	    p->dropped_lost < SIZE_MAX)
		p->dropped_lost++;
	p->dropped[p->dropped_pos] = *r;
	p->dropped_pos = (p->dropped_pos + 1) % PEER_DROPPED_MAX;
	if (p->ndropped < PEER_DROPPED_MAX)
		p->ndropped++;
}

/*
 * Forgets r if it was dropped (a block's length is never 0), or takes it
 * for one of the dropped requests the ring lost.
 */
static bool
dropped_take(struct peer *p, const struct block_req *r)
{
	size_t	i;

	for (i = 0; i < p->ndropped; i++) {
		if (req_eq(&p->dropped[i], r)) {
			p->dropped[i].length = 0;
			return true;
		}
	}
	if (p->dropped_lost > 0) {
		p->dropped_lost--;
		return true;
	}
	return false;
}

/*
 * BEP 6: allowed fast and suggestions.  The lists are short (at most
 * PEER_FAST_MAX, PEER_SUGGEST_MAX): linear searches.
 */

static size_t
find_piece(const uint32_t *a, size_t n, uint32_t piece)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (a[i] == piece)
			return i;
	}
	return SIZE_MAX;
}

/* A mask's bit for piece: on when listed and the peer has the piece. */
static void
mask_sync(struct peer *p, struct bitfield *m, uint32_t piece, bool listed)
{
	bool	on = listed && bitfield_get(&p->has, piece);

	if (m->bits == NULL) {
		if (!on)
			return;
		bitfield_init(m, p->cfg.npieces);
	}
	if (on)
		bitfield_set(m, piece);
	else
		bitfield_unset(m, piece);
}

/* The peer announced piece, or (UINT32_MAX) a whole set: masks follow. */
static void
masks_on_have(struct peer *p, uint32_t piece)
{
	size_t	i;

	for (i = 0; i < p->naf_theirs; i++) {
		if (piece == UINT32_MAX || p->af_theirs[i] == piece)
			mask_sync(p, &p->fast_mask, p->af_theirs[i], true);
	}
	for (i = 0; i < p->nsug; i++) {
		if (piece == UINT32_MAX || p->sug[i] == piece)
			mask_sync(p, &p->sug_mask, p->sug[i], true);
	}
}

/* ALLOWED_FAST for our set's entry i, once we have its piece. */
static void
fast_tell(struct peer *p, size_t i)
{
	if (p->af_told[i] || p->state != PEER_ACTIVE ||
	    bitfield_get(&p->has, p->af_ours[i]) ||
	    !p->hooks.has_piece(p->ctx, p->af_ours[i]))
		return;
	p->af_told[i] = true;
	log_obj_at(LOG_DEBUG, p->name, "allowed fast %u (ours)",
	    p->af_ours[i]);
	peer_sent(p, wire_put_allowed_fast(&p->out, p->af_ours[i]));
}

/* The peer rejected a request of its allowed-fast piece: no more asked. */
static void
fast_withdrawn(struct peer *p, uint32_t piece)
{
	size_t	i;

	if ((i = find_piece(p->af_theirs, p->naf_theirs, piece)) == SIZE_MAX)
		return;
	p->af_theirs[i] = p->af_theirs[--p->naf_theirs];
	mask_sync(p, &p->fast_mask, piece, false);
	log_obj_at(LOG_DEBUG, p->name, "allowed fast %u withdrawn (reject "
	    "while choked)", piece);
}

/* Creation. */

struct peer *
peer_new(const struct peer_config *cfg, const struct peer_hooks *hooks,
    void *ctx, uint64_t now)
{
	struct peer	*p;

	assert(cfg->npieces == 0 || (cfg->last_size >= 1 &&
	    cfg->last_size <= cfg->piece_length));
	assert(hooks->have != NULL && hooks->bitfield != NULL &&
	    hooks->pick != NULL && hooks->abandon != NULL &&
	    hooks->block != NULL && hooks->has_piece != NULL &&
	    hooks->wants != NULL);
	p = xcalloc(1, sizeof(*p));
	p->cfg = *cfg;
	p->hooks = *hooks;
	p->ctx = ctx;
	p->state = PEER_HANDSHAKE;
	peer_set_addr(p, "");
	p->now = now;
	p->am_choking = true;
	p->peer_choking = true;
	bitfield_init(&p->has, cfg->npieces);
	buf_init(&p->out, PEER_OUT_MAX);
	reqq_init(&p->ours, PEER_MAX_QUEUE, true);
	reqq_init(&p->theirs, PEER_MAX_PEER_QUEUE, false);
	p->depth = PEER_INIT_QUEUE;
	p->slow_start = true;
	p->created = p->last_recv = p->last_send = now;
	return p;
}

void
peer_set_addr(struct peer *p, const char *addr)
{
	if (p->tail[0] == '\0')
		snprintf(p->tail, sizeof(p->tail), "--------");
	if (addr != p->addr)
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
	snprintf(p->name, sizeof(p->name), "%s%s%s", p->tail,
	    p->addr[0] != '\0' ? " " : "", p->addr);
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	bitfield_clear(&p->has);
	buf_clear(&p->out);
	free(p->spans);
	reqq_clear(&p->ours);
	reqq_clear(&p->theirs);
	free(p->dropped);
	free(p->pend_bits);
	free(p->pend_have);
	bitfield_clear(&p->fast_mask);
	bitfield_clear(&p->sug_mask);
	bitfield_clear(&p->pick_mask);
	bitfield_clear(&p->sug_sent);
	free(p);
}

/* Gives back every request of ours still outstanding (hooks.abandon). */
void
peer_abandon_all(struct peer *p)
{
	struct reqq	q = p->ours;
	size_t		i;

	/* Detach first: the hook may call back into this peer. */
	reqq_init(&p->ours, PEER_MAX_QUEUE, true);
	p->waiting = false;
	for (i = 0; i < q.len; i++)
		p->hooks.abandon(p->ctx, p, reqq_at(&q, i));
	reqq_clear(&q);
}

/* Our requests are void (a choke without the fast extension). */
static void
peer_drop_ours(struct peer *p)
{
	struct reqq	q = p->ours;
	size_t		i;

	reqq_init(&p->ours, PEER_MAX_QUEUE, true);
	p->waiting = false;
	for (i = 0; i < q.len; i++)
		dropped_add(p, reqq_at(&q, i));
	for (i = 0; i < q.len; i++)
		p->hooks.abandon(p->ctx, p, reqq_at(&q, i));
	reqq_clear(&q);
}

/*
 * We choke the peer: its requests are void, REJECTed with fast (BEP 6),
 * except those of its allowed-fast pieces, which stay to be served.
 */
static void
peer_drop_theirs(struct peer *p)
{
	struct reqq	*q = &p->theirs;
	size_t		 i, w = 0;

	assert(!q->with_ms);
	for (i = 0; i < q->len; i++) {
		const struct block_req	r = *reqq_at(q, i);

		if (p->state != PEER_ACTIVE)
			break;
		if (peer_allows_fast(p, r.piece)) {
			*reqq_at(q, w++) = r;
			continue;
		}
		if (p->fast)
			peer_sent(p, wire_put_block_msg(&p->out, WIRE_REJECT,
			    r.piece, r.offset, r.length));
	}
	if (p->state != PEER_ACTIVE || w == 0)
		reqq_clear(q);
	else
		q->len = w;
}

/* Handshake and our first message. */

enum gt_err
peer_on_handshake(struct peer *p, const struct wire_handshake *hs,
    const struct bitfield *have, uint64_t now)
{
	const uint8_t	*id = hs->peer_id;

	peer_touch(p, now);
	if (p->state == PEER_CLOSING)
		return p->err;
	if (p->state != PEER_HANDSHAKE)
		return peer_fail(p, GT_EPROTO, "second handshake");
	assert(have->n == p->cfg.npieces);
	p->hs = *hs;
	p->got_hs = true;
	snprintf(p->tail, sizeof(p->tail), "%02x%02x%02x%02x", id[16], id[17],
	    id[18], id[19]);
	peer_set_addr(p, p->addr);
	p->fast = p->cfg.fast && (hs->reserved[7] & WIRE_RSV_FAST) != 0;
	p->extended = p->cfg.extended &&
	    (hs->reserved[5] & WIRE_RSV_EXTENDED) != 0;
	p->last_recv = p->last_send = now;
	peer_set_state(p, PEER_ACTIVE, p->fast ? "handshake, fast" :
	    "handshake");

	if (p->cfg.npieces == 0) {
		/* No metadata yet: nothing to offer (HAVEs follow it). */
		if (p->fast)
			peer_sent(p, wire_put_simple(&p->out, WIRE_HAVE_NONE));
	} else if (p->fast && bitfield_full(have))
		peer_sent(p, wire_put_simple(&p->out, WIRE_HAVE_ALL));
	else if (p->fast && have->count == 0)
		peer_sent(p, wire_put_simple(&p->out, WIRE_HAVE_NONE));
	else if (have->count > 0)
		peer_sent(p, wire_put_bitfield(&p->out, have->bits,
		    bitfield_nbytes(have)));
	/* else plain BEP 3 with nothing: a bitfield is optional. */
	return peer_result(p);
}

/* Interest and the request pipeline. */

static void
peer_set_interested(struct peer *p, bool on, uint64_t now)
{
	if (p->am_interested == on || p->state != PEER_ACTIVE)
		return;
	p->am_interested = on;
	log_obj_at(LOG_TRACE, p->name, "%s",
	    on ? "interested" : "not interested");
	peer_sent(p, wire_put_simple(&p->out, on ? WIRE_INTERESTED :
	    WIRE_NOT_INTERESTED));
	if (on)
		peer_fill_requests(p, now);
}

void
peer_update_interest(struct peer *p, uint64_t now)
{
	peer_touch(p, now);
	if (p->state != PEER_ACTIVE || p->cfg.npieces == 0)
		return;
	peer_set_interested(p, p->hooks.wants(p->ctx, &p->has), now);
}

size_t
peer_queue_depth(const struct peer *p)
{
	if (p->snubbed)
		return PEER_SNUB_QUEUE;
	if (p->reqq != 0 && p->depth > p->reqq)
		return MAX(p->reqq, PEER_MIN_QUEUE);
	return p->depth;
}

void
peer_set_reqq(struct peer *p, size_t n)
{
	p->reqq = n;
}

/*
 * The pipeline depth after a block arrived at now.
 *
 * A block comes back one round trip after it was asked for, so keeping a
 * link of rate R busy needs R * RTT bytes requested.  We do not measure
 * the RTT; we keep PEER_PIPELINE_MS (2 s) of data requested at the rate
 * measured over the last few seconds, which covers any RTT under 2 s:
 *
 *	depth = clamp(down_rate * PEER_PIPELINE_MS / 1000 / WIRE_BLOCK,
 *	    PEER_MIN_QUEUE, PEER_MAX_QUEUE)
 *
 * The rate is meaningless before PEER_SLOW_START_MS of blocks, and it can
 * never exceed depth * WIRE_BLOCK / RTT, so the depth is bootstrapped TCP
 * style: slow start begins at PEER_INIT_QUEUE and adds one per block
 * received (doubling every round trip: one fast peer on loopback reaches
 * PEER_MAX_QUEUE after ~1000 blocks, 16 MiB), using the larger of the two.
 * A request timeout ends slow start and halves the depth.  A snubbed peer
 * gets PEER_SNUB_QUEUE (peer_queue_depth).
 */
static void
peer_update_depth(struct peer *p, uint64_t now)
{
	uint64_t	d;

	if (!p->got_block) {
		p->got_block = true;
		p->first_block = now;
	}
	if (p->slow_start && now - p->first_block >= PEER_SLOW_START_MS) {
		p->slow_start = false;
		log_obj_at(LOG_TRACE, p->name, "slow start over at depth %zu",
		    p->depth);
	}
	d = rate_get(&p->down, RATE_SHORT, now) * PEER_PIPELINE_MS / 1000 /
	    WIRE_BLOCK;
	if (p->slow_start)
		d = MAX(d, (uint64_t)p->depth + 1);
	p->depth = (size_t)MIN(MAX(d, PEER_MIN_QUEUE), PEER_MAX_QUEUE);
}

void
peer_fill_requests(struct peer *p, uint64_t now)
{
	struct block_req	*out;
	size_t			 target, want, n, i, first;

	peer_touch(p, now);
	/* Choked (BEP 6): blocks of its allowed-fast pieces still. */
	if (p->state == PEER_ACTIVE && p->am_interested &&
	    (!p->peer_choking || p->fast_mask.count > 0) &&
	    p->ours.len < (target = peer_queue_depth(p))) {
		want = target - p->ours.len;
		reqq_reserve(&p->ours, want);
		first = p->ours.len;
		/* busy[] is the queue; the picks land right after it. */
		out = reqq_at(&p->ours, first);
		n = p->hooks.pick(p->ctx, p, reqq_at(&p->ours, 0), first, out,
		    want);
		assert(n <= want);
		for (i = 0; i < n; i++)
			p->ours.ms[p->ours.head + first + i] = now;
		p->ours.len += n;
		for (i = 0; i < n && p->state == PEER_ACTIVE; i++) {
			assert(out[i].length > 0);
			peer_sent(p, wire_put_block_msg(&p->out, WIRE_REQUEST,
			    out[i].piece, out[i].offset, out[i].length));
		}
	}
	if (p->ours.len == 0 && !p->stalled)
		p->waiting = false;
	else if (!p->waiting && !p->peer_choking) {
		p->waiting = true;
		p->wait_since = now;
	}
}

/* Messages. */

/*
 * Before the metadata: what the peer announces is held (see struct peer),
 * with the same ordering rules as after it.
 */
static enum gt_err
pending_bitfield(struct peer *p, const struct wire_msg *m)
{
	const char	*what = m->type == WIRE_BITFIELD ? "bitfield" :
			    m->type == WIRE_HAVE_ALL ? "have all" : "have none";
	size_t		 i;
	bool		 update;

	if (m->type != WIRE_BITFIELD && !p->fast)
		return peer_fail(p, GT_EPROTO, "%s without fast extension",
		    what);
	update = m->type == WIRE_BITFIELD && (p->got_bitfield ||
	    p->got_other);
	if (!update && p->got_bitfield)
		return peer_fail(p, GT_EPROTO, "second bitfield (%s)", what);
	if (!update && p->got_other)
		return peer_fail(p, GT_EPROTO, "late bitfield (%s)", what);
	p->got_bitfield = true;
	if (m->type == WIRE_HAVE_ALL)
		p->pend_all = true;
	if (m->type != WIRE_BITFIELD)
		return GT_OK;
	if (p->pend_bits == NULL) {
		p->pend_bits = xmalloc(MAX(m->len, 1));	/* <= WIRE_MAX_MSG */
		memcpy(p->pend_bits, m->data, m->len);
		p->pend_nbits = m->len;
		return GT_OK;
	}
	if (m->len != p->pend_nbits)
		return peer_fail(p, GT_EPROTO, "bitfield of %zu bytes after "
		    "one of %zu", m->len, p->pend_nbits);
	for (i = 0; i < m->len; i++)	/* an update: bits only added */
		p->pend_bits[i] |= m->data[i];
	return GT_OK;
}

static enum gt_err
pending_have(struct peer *p, const struct wire_msg *m)
{
	if (p->npend_have == PEER_PENDING_HAVES) {
		if (!p->pend_lost)
			log_obj_at(LOG_DEBUG, p->name, "over %u haves before "
			    "the metadata: later ones ignored",
			    PEER_PENDING_HAVES);
		p->pend_lost = true;
		return GT_OK;
	}
	if (p->pend_have == NULL)
		p->pend_have = xcalloc(PEER_PENDING_HAVES,
		    sizeof(*p->pend_have));
	p->pend_have[p->npend_have++] = m->index;
	return GT_OK;
}

/* A request before the metadata: we hold nothing yet, and choke. */
static enum gt_err
pending_request(struct peer *p, const struct wire_msg *m)
{
	if (m->length == 0 || m->length > WIRE_MAX_REQUEST)
		return peer_fail(p, GT_EPROTO, "request of %u bytes",
		    m->length);
	if (p->fast)
		peer_sent(p, wire_put_block_msg(&p->out, WIRE_REJECT,
		    m->index, m->begin, m->length));
	return peer_result(p);
}

enum gt_err
peer_set_metadata(struct peer *p, const struct peer_config *cfg,
    uint64_t now)
{
	size_t		i;
	uint32_t	k;

	assert(p->cfg.npieces == 0 && cfg->npieces > 0);
	assert(cfg->last_size >= 1 && cfg->last_size <= cfg->piece_length);
	peer_touch(p, now);
	p->cfg.npieces = cfg->npieces;
	p->cfg.piece_length = cfg->piece_length;
	p->cfg.last_size = cfg->last_size;
	bitfield_clear(&p->has);
	bitfield_init(&p->has, cfg->npieces);
	if (p->state == PEER_ACTIVE) {
		if (p->pend_all)
			bitfield_set_all(&p->has);
		else if (p->pend_bits != NULL && bitfield_load(&p->has,
		    p->pend_bits, p->pend_nbits) != GT_OK)
			peer_fail(p, GT_EPROTO, "bitfield of %zu bytes does "
			    "not fit the metadata's %u pieces", p->pend_nbits,
			    cfg->npieces);
		for (i = 0; i < p->npend_have && p->state == PEER_ACTIVE;
		    i++) {
			if ((k = p->pend_have[i]) >= cfg->npieces)
				peer_fail(p, GT_EPROTO, "have %u of %u pieces",
				    k, cfg->npieces);
			else
				bitfield_set(&p->has, k);
		}
	}
	free(p->pend_bits);
	free(p->pend_have);
	p->pend_bits = NULL;
	p->pend_have = NULL;
	p->pend_nbits = p->npend_have = 0;
	if (p->state != PEER_ACTIVE) {
		/* Nothing reached the torrent: nothing for it to take back. */
		bitfield_unset_all(&p->has);
		return peer_result(p);
	}
	if (p->has.count > 0)
		p->hooks.bitfield(p->ctx, p, &p->has);
	if (p->state == PEER_ACTIVE)
		peer_update_interest(p, now);
	return peer_result(p);
}

/*
 * A BITFIELD after the first one, or after other messages (aria2c sends one
 * in place of a run of HAVEs): an update.  Pieces newly set count as HAVEs;
 * bits cleared are ignored, so a piece once announced is never lost.
 * O(bytes + pieces new).
 */
static enum gt_err
on_bitfield_update(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	struct bitfield	nb;
	size_t		k;
	uint32_t	i, j;
	uint8_t		x;
	bool		need = false;

	bitfield_init(&nb, p->cfg.npieces);
	if (bitfield_load(&nb, m->data, m->len) != GT_OK) {
		bitfield_clear(&nb);
		return peer_fail(p, GT_EPROTO, "bad bitfield update: %zu "
		    "bytes for %u pieces, or spare bits set", m->len,
		    p->cfg.npieces);
	}
	for (k = 0; k < m->len && p->state == PEER_ACTIVE; k++) {
		x = nb.bits[k] & (uint8_t)~p->has.bits[k];
		for (j = 0; x != 0 && j < 8; j++) {
			if (!bitfield_bit_get(&x, j))
				continue;
			i = (uint32_t)k * 8 + j;
			bitfield_set(&p->has, i);
			masks_on_have(p, i);
			p->hooks.have(p->ctx, p, i);
			if (!p->hooks.has_piece(p->ctx, i))
				need = true;
		}
	}
	bitfield_clear(&nb);
	if (p->state != PEER_ACTIVE || !need)
		return peer_result(p);
	if (!p->am_interested)
		peer_set_interested(p, true, now);	/* fills requests */
	else if (p->ours.len < peer_queue_depth(p))
		peer_fill_requests(p, now);
	return peer_result(p);
}

/*
 * The first BITFIELD, HAVE_ALL or HAVE_NONE, before any other message: the
 * peer's whole set (hooks.bitfield).  BEP 6 allows HAVE_ALL and HAVE_NONE
 * only there; a later BITFIELD is an update.
 */
static enum gt_err
on_bitfield(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	const char	*what = m->type == WIRE_BITFIELD ? "bitfield" :
			    m->type == WIRE_HAVE_ALL ? "have all" : "have none";

	if (m->type != WIRE_BITFIELD && !p->fast)
		return peer_fail(p, GT_EPROTO, "%s without fast extension",
		    what);
	if (m->type == WIRE_BITFIELD && (p->got_bitfield || p->got_other))
		return on_bitfield_update(p, m, now);
	if (p->got_bitfield)
		return peer_fail(p, GT_EPROTO, "second bitfield (%s)", what);
	if (p->got_other)
		return peer_fail(p, GT_EPROTO, "late bitfield (%s)", what);
	if (m->type == WIRE_BITFIELD) {
		if (bitfield_load(&p->has, m->data, m->len) != GT_OK)
			return peer_fail(p, GT_EPROTO, "bad bitfield: %zu "
			    "bytes for %u pieces, or spare bits set", m->len,
			    p->cfg.npieces);
	} else if (m->type == WIRE_HAVE_ALL)
		bitfield_set_all(&p->has);
	masks_on_have(p, UINT32_MAX);
	p->got_bitfield = true;
	p->hooks.bitfield(p->ctx, p, &p->has);
	if (p->state == PEER_ACTIVE)
		peer_update_interest(p, now);
	return peer_result(p);
}

static enum gt_err
on_have(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	if (m->index >= p->cfg.npieces)
		return peer_fail(p, GT_EPROTO, "have %u of %u pieces",
		    m->index, p->cfg.npieces);
	if (!bitfield_set(&p->has, m->index))
		return GT_OK;			/* a duplicate */
	masks_on_have(p, m->index);
	p->hooks.have(p->ctx, p, m->index);
	if (p->state != PEER_ACTIVE || p->hooks.has_piece(p->ctx, m->index))
		return peer_result(p);
	if (!p->am_interested)
		peer_set_interested(p, true, now);	/* fills requests */
	else if (p->ours.len < peer_queue_depth(p))
		peer_fill_requests(p, now);	/* maybe more to ask now */
	return peer_result(p);
}

static enum gt_err
on_request(struct peer *p, const struct wire_msg *m)
{
	struct block_req	r = {
		.piece = m->index, .offset = m->begin, .length = m->length,
	};
	uint32_t		size;

	if (r.piece >= p->cfg.npieces)
		return peer_fail(p, GT_EPROTO, "request for piece %u of %u",
		    r.piece, p->cfg.npieces);
	if (r.length == 0 || r.length > WIRE_MAX_REQUEST)
		return peer_fail(p, GT_EPROTO, "request of %u bytes",
		    r.length);
	size = piece_size(p, r.piece);
	if (r.offset > size || r.length > size - r.offset)
		return peer_fail(p, GT_EPROTO, "request %u+%u past the end "
		    "of piece %u (%u bytes)", r.offset, r.length, r.piece,
		    size);
	if (!p->hooks.has_piece(p->ctx, r.piece))
		return peer_fail(p, GT_EPROTO, "request for piece %u we do "
		    "not have", r.piece);
	if (p->am_choking && !peer_allows_fast(p, r.piece)) {
		/* It crossed our choke: drop it (BEP 3) or say so (BEP 6). */
		if (p->fast)
			peer_sent(p, wire_put_block_msg(&p->out, WIRE_REJECT,
			    r.piece, r.offset, r.length));
		return peer_result(p);
	}
	if (p->theirs.len >= p->theirs.max)
		return peer_fail(p, GT_EPROTO, "over %u requests queued",
		    PEER_MAX_PEER_QUEUE);
	reqq_push(&p->theirs, &r, 0);
	if (p->hooks.request != NULL)
		p->hooks.request(p->ctx, p, &r);
	return peer_result(p);
}

/*
 * The peer's request r will not be served: off its queue, and a REJECT
 * with the fast extension (BEP 6: every request gets exactly one PIECE or
 * REJECT).  Already answered, cancelled or dropped by a choke: nothing.
 */
static enum gt_err
theirs_reject(struct peer *p, const struct block_req *r)
{
	size_t	i;

	if ((i = reqq_find(&p->theirs, r)) == SIZE_MAX)
		return GT_OK;
	reqq_remove(&p->theirs, i);
	if (p->fast)
		peer_sent(p, wire_put_block_msg(&p->out, WIRE_REJECT,
		    r->piece, r->offset, r->length));
	return peer_result(p);
}

static enum gt_err
on_cancel(struct peer *p, const struct wire_msg *m)
{
	struct block_req	r = {
		.piece = m->index, .offset = m->begin, .length = m->length,
	};

	return theirs_reject(p, &r);
}

static enum gt_err
on_piece(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	struct block_req	r = {
		.piece = m->index, .offset = m->begin,
		.length = (uint32_t)m->len,	/* <= WIRE_MAX_MSG */
	};
	size_t			i;
	enum gt_err		e;

	if ((i = reqq_find(&p->ours, &r)) == SIZE_MAX) {
		if (dropped_take(p, &r)) {
			/* Cancelled or given up on: too late, drop it. */
			p->downloaded += r.length;
			rate_add(&p->down, r.length, now);
			return GT_OK;
		}
		for (i = 0; i < p->ours.len; i++) {
			const struct block_req	*o = reqq_at(&p->ours, i);

			if (o->piece == r.piece && o->offset == r.offset)
				return peer_fail(p, GT_EPROTO, "piece %u+%u "
				    "with wrong length %u (asked %u)",
				    r.piece, r.offset, r.length, o->length);
		}
		return peer_fail(p, GT_EPROTO, "unrequested piece %u+%u (%u "
		    "bytes)", r.piece, r.offset, r.length);
	}
	reqq_remove(&p->ours, i);
	p->last_block = now;
	p->downloaded += r.length;
	rate_add(&p->down, r.length, now);
	if (p->snubbed || p->stalled) {
		log_obj_at(LOG_DEBUG, p->name, "no longer %s", p->snubbed ?
		    "snubbed" : "stalled");
		p->snubbed = p->stalled = false;
	}
	p->wait_since = now;
	peer_update_depth(p, now);
	if ((e = p->hooks.block(p->ctx, p, &r, m->data)) != GT_OK)
		return peer_fail(p, e, "block %u+%u: %s", r.piece, r.offset,
		    gt_strerror(e));
	peer_fill_requests(p, now);
	return peer_result(p);
}

/* Forgets the refusals PEER_REFUSED_MS old. */
static void
refused_prune(struct peer *p)
{
	size_t	i, w = 0;

	for (i = 0; i < p->nrefused; i++) {
		if (p->now - p->refused_ms[i] < PEER_REFUSED_MS) {
			p->refused[w] = p->refused[i];
			p->refused_ms[w++] = p->refused_ms[i];
		}
	}
	p->nrefused = w;
}

/* A piece it rejected while unchoking us: left alone for a while. */
static void
refused_add(struct peer *p, uint32_t piece, uint64_t now)
{
	size_t	i;

	for (i = 0; i < p->nrefused; i++) {
		if (p->refused[i] == piece)
			return;		/* its other blocks, same refusal */
	}
	if (p->nrefused == PEER_REFUSED_MAX) {
		memmove(p->refused, p->refused + 1,
		    --p->nrefused * sizeof(*p->refused));
		memmove(p->refused_ms, p->refused_ms + 1,
		    p->nrefused * sizeof(*p->refused_ms));
	}
	p->refused[p->nrefused] = piece;
	p->refused_ms[p->nrefused++] = now;
	log_obj_at(LOG_TRACE, p->name, "piece %u refused while unchoked",
	    piece);
}

/* When the oldest request of ours expires (see peer_tick). */
static uint64_t
request_expiry(const struct peer *p)
{
	uint64_t	sent = p->ours.ms[p->ours.head];

	return MIN(MAX(sent, p->last_block) + PEER_REQUEST_MS,
	    sent + PEER_REQUEST_MAX_MS);
}

static bool
request_expired(const struct peer *p, uint64_t now)
{
	return now >= request_expiry(p);
}

static enum gt_err
on_reject(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	struct block_req	r = {
		.piece = m->index, .offset = m->begin, .length = m->length,
	};
	size_t			i;

	if (!p->fast)
		return peer_fail(p, GT_EPROTO, "reject without fast "
		    "extension");
	if ((i = reqq_find(&p->ours, &r)) == SIZE_MAX) {
		if (dropped_take(p, &r))
			return GT_OK;	/* the answer to our cancel */
		return peer_fail(p, GT_EPROTO, "reject of %u+%u, not "
		    "requested", r.piece, r.offset);
	}
	reqq_remove(&p->ours, i);
	if (p->peer_choking)
		fast_withdrawn(p, r.piece);
	else
		refused_add(p, r.piece, now);
	p->hooks.abandon(p->ctx, p, &r);
	peer_fill_requests(p, now);
	return peer_result(p);
}

/* ALLOWED_FAST: we may request the piece while the peer chokes us. */
static enum gt_err
on_allowed_fast(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	if (find_piece(p->af_theirs, p->naf_theirs, m->index) != SIZE_MAX)
		return GT_OK;
	if (p->naf_theirs == PEER_FAST_MAX) {
		if (!p->af_full)
			log_obj_at(LOG_DEBUG, p->name, "over %u allowed fast "
			    "pieces: later ones ignored", PEER_FAST_MAX);
		p->af_full = true;
		return GT_OK;
	}
	p->af_theirs[p->naf_theirs++] = m->index;
	mask_sync(p, &p->fast_mask, m->index, true);
	log_obj_at(LOG_DEBUG, p->name, "allowed fast %u (theirs)", m->index);
	if (p->peer_choking && p->am_interested &&
	    bitfield_get(&p->fast_mask, m->index) &&
	    p->ours.len < peer_queue_depth(p))
		peer_fill_requests(p, now);
	return peer_result(p);
}

/* SUGGEST_PIECE: kept, the last PEER_SUGGEST_MAX, to prefer in picking. */
static enum gt_err
on_suggest(struct peer *p, const struct wire_msg *m)
{
	if (find_piece(p->sug, p->nsug, m->index) != SIZE_MAX ||
	    p->hooks.has_piece(p->ctx, m->index))
		return GT_OK;
	if (p->nsug == PEER_SUGGEST_MAX) {
		mask_sync(p, &p->sug_mask, p->sug[0], false);
		memmove(p->sug, p->sug + 1, --p->nsug * sizeof(*p->sug));
	}
	p->sug[p->nsug++] = m->index;
	mask_sync(p, &p->sug_mask, m->index, true);
	log_obj_at(LOG_TRACE, p->name, "suggests %u", m->index);
	return GT_OK;
}

static enum gt_err
on_extended(struct peer *p, const struct wire_msg *m)
{
	enum gt_err	e;

	if (!p->extended || p->hooks.extended == NULL) {
		log_obj_at(LOG_TRACE, p->name, "extended message %u ignored",
		    m->ext_id);
		return GT_OK;
	}
	e = p->hooks.extended(p->ctx, p, m->ext_id, m->data, m->len);
	if (e != GT_OK)
		return peer_fail(p, e, "extended message %u: %s", m->ext_id,
		    gt_strerror(e));
	return peer_result(p);
}

enum gt_err
peer_on_msg(struct peer *p, const struct wire_msg *m, uint64_t now)
{
	const char	*what;
	enum gt_err	 e = GT_OK;

	peer_touch(p, now);
	if (p->state == PEER_CLOSING)
		return p->err;
	if (p->state == PEER_HANDSHAKE)
		return peer_fail(p, GT_EPROTO, "message before handshake");
	p->last_recv = now;

	switch (m->type) {
	case WIRE_BITFIELD:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
	case WIRE_EXTENDED:
	case WIRE_KEEPALIVE:
	case WIRE_PORT:
	case WIRE_UNKNOWN:
		break;			/* these may precede a bitfield */
	default:
		p->got_other = true;
		break;
	}

	if (p->cfg.npieces == 0) {
		switch (m->type) {
		case WIRE_BITFIELD:
		case WIRE_HAVE_ALL:
		case WIRE_HAVE_NONE:
			return pending_bitfield(p, m);
		case WIRE_HAVE:
			return pending_have(p, m);
		case WIRE_REQUEST:
			return pending_request(p, m);
		case WIRE_SUGGEST:
		case WIRE_ALLOWED_FAST:
			if (!p->fast)
				return peer_fail(p, GT_EPROTO, "%s without "
				    "fast extension", m->type == WIRE_SUGGEST ?
				    "suggest" : "allowed fast");
			return GT_OK;
		default:
			break;
		}
	}
	switch (m->type) {
	case WIRE_KEEPALIVE:
		break;
	case WIRE_PORT:
		if (p->hooks.port != NULL && m->port != 0)
			p->hooks.port(p->ctx, p, m->port);
		break;
	case WIRE_UNKNOWN:
		log_obj_at(LOG_TRACE, p->name, "unknown message %u (%zu bytes)",
		    m->id, m->len);
		break;
	case WIRE_CHOKE:
		p->peer_choking = true;
		p->waiting = false;
		/* BEP 6: a fast peer rejects our requests explicitly. */
		if (!p->fast && p->ours.len > 0)
			peer_drop_ours(p);
		break;
	case WIRE_UNCHOKE:
		if (!p->peer_choking)
			break;
		p->peer_choking = false;
		p->waiting = p->ours.len > 0 || p->stalled;
		p->wait_since = now;
		peer_fill_requests(p, now);
		break;
	case WIRE_INTERESTED:
		p->peer_interested = true;
		break;
	case WIRE_NOT_INTERESTED:
		p->peer_interested = false;
		break;
	case WIRE_BITFIELD:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		e = on_bitfield(p, m, now);
		break;
	case WIRE_HAVE:
		e = on_have(p, m, now);
		break;
	case WIRE_REQUEST:
		e = on_request(p, m);
		break;
	case WIRE_CANCEL:
		e = on_cancel(p, m);
		break;
	case WIRE_PIECE:
		e = on_piece(p, m, now);
		break;
	case WIRE_REJECT:
		e = on_reject(p, m, now);
		break;
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		what = m->type == WIRE_SUGGEST ? "suggest" : "allowed fast";
		if (!p->fast)		/* BEP 6: MUST close */
			e = peer_fail(p, GT_EPROTO, "%s without fast "
			    "extension", what);
		else if (m->index >= p->cfg.npieces)
			e = peer_fail(p, GT_EPROTO, "%s for piece %u of %u",
			    what, m->index, p->cfg.npieces);
		else if (m->type == WIRE_SUGGEST)
			e = on_suggest(p, m);
		else
			e = on_allowed_fast(p, m, now);
		break;
	case WIRE_EXTENDED:
		e = on_extended(p, m);
		break;
	}
	if (e != GT_OK)
		return e;
	return peer_result(p);
}

/* Timers. */

enum gt_err
peer_tick(struct peer *p, uint64_t now)
{
	struct block_req	r;
	size_t			n = 0;

	peer_touch(p, now);
	switch (p->state) {
	case PEER_CLOSING:
		return p->err;
	case PEER_HANDSHAKE:
		if (now - p->created >= PEER_HANDSHAKE_MS)
			return peer_fail(p, GT_EPROTO, "no handshake in %u ms",
			    PEER_HANDSHAKE_MS);
		return GT_OK;
	case PEER_ACTIVE:
		break;
	}
	if (now - p->last_recv >= PEER_IDLE_MS)
		return peer_fail(p, GT_EPROTO, "idle for %llu ms",
		    (unsigned long long)(now - p->last_recv));

	/*
	 * Requests unanswered too long: the oldest are at the head.  A peer
	 * that still delivers (a block within PEER_REQUEST_MS) only slowly,
	 * e.g. under a rate limit at either end, gets up to
	 * PEER_REQUEST_MAX_MS.
	 */
	while (p->ours.len > 0 && request_expired(p, now)) {
		r = *reqq_at(&p->ours, 0);
		reqq_remove(&p->ours, 0);
		dropped_add(p, &r);
		p->hooks.abandon(p->ctx, p, &r);
		n++;
	}
	if (n > 0) {
		log_obj_at(LOG_DEBUG, p->name, "%zu requests timed out", n);
		p->slow_start = false;
		p->depth = MAX(p->depth / 2, PEER_MIN_QUEUE);
		if (!p->peer_choking && !p->stalled) {
			p->stalled = true;
			log_obj_at(LOG_DEBUG, p->name, "stalled (request "
			    "timeout)");
		}
	}
	if (p->cfg.anti_snub && p->waiting && !p->peer_choking &&
	    !p->snubbed && now - p->wait_since >= PEER_SNUB_MS) {
		p->snubbed = true;
		log_obj_at(LOG_DEBUG, p->name, "snubbed (no block in %u ms)",
		    PEER_SNUB_MS);
	}
	if (p->state == PEER_ACTIVE && now - p->last_send >= PEER_KEEPALIVE_MS)
		peer_sent(p, wire_put_keepalive(&p->out));
	refused_prune(p);		/* its deadline is past */
	peer_fill_requests(p, now);
	return peer_result(p);
}

uint64_t
peer_deadline(const struct peer *p)
{
	uint64_t	t;

	switch (p->state) {
	case PEER_CLOSING:
		return 0;			/* due now */
	case PEER_HANDSHAKE:
		return p->created + PEER_HANDSHAKE_MS;
	case PEER_ACTIVE:
		break;
	}
	t = MIN(p->last_recv + PEER_IDLE_MS, p->last_send + PEER_KEEPALIVE_MS);
	if (p->ours.len > 0)
		t = MIN(t, request_expiry(p));
	if (p->cfg.anti_snub && p->waiting && !p->peer_choking && !p->snubbed)
		t = MIN(t, p->wait_since + PEER_SNUB_MS);
	if (p->nrefused > 0)		/* asked again then (peer_tick) */
		t = MIN(t, p->refused_ms[0] + PEER_REFUSED_MS);
	return t;
}

/* Decisions and output. */

struct buf *
peer_out(struct peer *p)
{
	return &p->out;
}

void
peer_set_choking(struct peer *p, bool choke, uint64_t now)
{
	peer_touch(p, now);
	if (p->state != PEER_ACTIVE || p->am_choking == choke)
		return;
	p->am_choking = choke;
	log_obj_at(LOG_TRACE, p->name, "%s", choke ? "choke" : "unchoke");
	p->finishing = choke && p->fast && p->last_sent != 0 &&
	    !bitfield_get(&p->has, p->last_sent - 1) ? p->last_sent : 0;
	p->finishing_sent = 0;
	peer_sent(p, wire_put_simple(&p->out, choke ? WIRE_CHOKE :
	    WIRE_UNCHOKE));
	if (choke)
		peer_drop_theirs(p);
}

void
peer_announce_have(struct peer *p, uint32_t piece, uint64_t now)
{
	size_t	i;

	peer_touch(p, now);
	if (p->state != PEER_ACTIVE)
		return;
	assert(piece < p->cfg.npieces);
	peer_sent(p, wire_put_have(&p->out, piece));
	if ((i = find_piece(p->af_ours, p->naf_ours, piece)) != SIZE_MAX)
		fast_tell(p, i);
	if (p->am_interested && !p->hooks.wants(p->ctx, &p->has))
		peer_set_interested(p, false, now);
}

void
peer_cancel_block(struct peer *p, const struct block_req *r)
{
	size_t	i;

	if (p->state != PEER_ACTIVE ||
	    (i = reqq_find(&p->ours, r)) == SIZE_MAX)
		return;
	reqq_remove(&p->ours, i);
	dropped_add(p, r);
	if (p->ours.len == 0 && !p->stalled)
		p->waiting = false;
	peer_sent(p, wire_put_block_msg(&p->out, WIRE_CANCEL, r->piece,
	    r->offset, r->length));
}

/*
 * The bookkeeping of an answer to r (peer_send_block, peer_queue_block):
 * false when r is not to be answered (cancelled, or dropped by a choke).
 */
static bool
answer_take(struct peer *p, const struct block_req *r)
{
	size_t	i;

	/* Cancelled, or dropped by a choke: not sent. */
	if ((i = reqq_find(&p->theirs, r)) == SIZE_MAX)
		return false;
	reqq_remove(&p->theirs, i);
	if (p->am_choking && p->finishing == r->piece + 1)
		p->finishing_sent += r->length;	/* the piece it finishes */
	else if (p->am_choking && (i = find_piece(p->af_ours, p->naf_ours,
	    r->piece)) != SIZE_MAX)
		p->af_served[i] += r->length;	/* an allowed-fast piece */
	p->last_sent = r->piece + 1;
	return true;
}

static void
answer_sent(struct peer *p, const struct block_req *r)
{
	p->uploaded += r->length;
	rate_add(&p->up, r->length, p->now);
}

enum gt_err
peer_send_block(struct peer *p, const struct block_req *r,
    const uint8_t *data)
{
	if (p->state != PEER_ACTIVE)
		return p->state == PEER_CLOSING ? p->err : GT_EINVAL;
	if (!answer_take(p, r))
		return GT_OK;
	peer_sent(p, wire_put_piece(&p->out, r->piece, r->offset, data,
	    r->length));
	if (p->state != PEER_ACTIVE)
		return p->err;
	answer_sent(p, r);
	return GT_OK;
}

enum gt_err
peer_queue_block(struct peer *p, const struct block_req *r)
{
	struct peer_span	*sp;
	uint8_t			 h[13];

	if (p->state != PEER_ACTIVE)
		return p->state == PEER_CLOSING ? p->err : GT_EINVAL;
	if (r->length == 0 || r->length > WIRE_MAX_REQUEST)
		return GT_EINVAL;
	if (!answer_take(p, r))
		return GT_OK;
	/* Header and payload within PEER_OUT_MAX, as one frame would be. */
	if (sizeof(h) + r->length > p->out.max ||
	    p->out.len > p->out.max - sizeof(h) - r->length) {
		peer_sent(p, GT_ETOOBIG);
		return p->err;
	}
	wire_piece_header(h, r->piece, r->offset, r->length);
	(void)buf_append(&p->out, h, sizeof(h));
	if (p->span_head + p->nspans == p->spans_cap) {
		if (p->span_head > 0) {		/* room at the front */
			memmove(p->spans, p->spans + p->span_head,
			    p->nspans * sizeof(*p->spans));
			p->span_head = 0;
		} else {
			p->spans_cap = p->spans_cap == 0 ? 16 :
			    p->spans_cap * 2;
			p->spans = xreallocarray(p->spans, p->spans_cap,
			    sizeof(*p->spans));
		}
	}
	sp = &p->spans[p->span_head + p->nspans++];
	*sp = (struct peer_span){ .at = p->out.len, .r = *r };
	p->span_bytes += r->length;
	p->out.max = PEER_OUT_MAX - p->span_bytes;
	p->last_send = p->now;
	answer_sent(p, r);
	return GT_OK;
}

const struct peer_span *
peer_out_span(const struct peer *p)
{
	return p->nspans > 0 ? &p->spans[p->span_head] : NULL;
}

void
peer_out_span_done(struct peer *p)
{
	assert(p->nspans > 0);
	p->span_bytes -= p->spans[p->span_head].r.length;
	p->out.max = PEER_OUT_MAX - p->span_bytes;
	p->span_head++;
	if (--p->nspans == 0) {
		p->span_head = 0;
		if (p->spans_cap > PEER_SPANS_KEEP) {
			free(p->spans);
			p->spans = NULL;
			p->spans_cap = 0;
		}
	}
}

void
peer_out_drain(struct peer *p, size_t n)
{
	size_t	i;

	assert(n <= p->out.len);
	assert(p->nspans == 0 || n <= p->spans[p->span_head].at);
	if (n == p->out.len && p->out.cap > PEER_OUT_KEEP)
		buf_clear(&p->out);	/* a drained queue gives its memory
					   back */
	else
		buf_drain(&p->out, n);
	for (i = 0; i < p->nspans; i++)
		p->spans[p->span_head + i].at -= n;
}

size_t
peer_out_pending(const struct peer *p)
{
	return p->out.len + p->span_bytes;
}

bool
peer_next_request(const struct peer *p, struct block_req *r)
{
	if (p->state != PEER_ACTIVE || p->theirs.len == 0)
		return false;
	*r = *reqq_at(&p->theirs, 0);
	return true;
}

enum gt_err
peer_reject_request(struct peer *p, const struct block_req *r)
{
	if (p->state != PEER_ACTIVE)
		return p->state == PEER_CLOSING ? p->err : GT_EINVAL;
	return theirs_reject(p, r);
}

enum gt_err
peer_send_extended(struct peer *p, uint8_t ext_id, const uint8_t *payload,
    size_t len)
{
	if (p->state == PEER_CLOSING)
		return p->err;
	if (p->state != PEER_ACTIVE || !p->extended)
		return GT_EUNSUP;
	peer_sent(p, wire_put_extended(&p->out, ext_id, payload, len));
	return peer_result(p);
}

enum gt_err
peer_send_port(struct peer *p, uint16_t port)
{
	if (p->state == PEER_CLOSING)
		return p->err;
	if (p->state != PEER_ACTIVE)
		return GT_EUNSUP;
	peer_sent(p, wire_put_port(&p->out, port));
	return peer_result(p);
}

void
peer_set_allowed_fast(struct peer *p, const uint32_t *pieces, size_t n,
    uint64_t now)
{
	size_t	i, j;

	peer_touch(p, now);
	if (p->state != PEER_ACTIVE || !p->fast || p->cfg.npieces == 0)
		return;
	for (i = 0; i < n && p->naf_ours < PEER_FAST_MAX; i++) {
		if (pieces[i] >= p->cfg.npieces || find_piece(p->af_ours,
		    p->naf_ours, pieces[i]) != SIZE_MAX)
			continue;
		j = p->naf_ours++;
		p->af_ours[j] = pieces[i];
		p->af_told[j] = false;
		p->af_served[j] = 0;
		fast_tell(p, j);
	}
}

bool
peer_allows_fast(const struct peer *p, uint32_t piece)
{
	size_t	i;

	if (!p->fast || piece >= p->cfg.npieces ||
	    bitfield_get(&p->has, piece))
		return false;
	if (p->finishing == piece + 1 &&
	    p->finishing_sent < piece_size(p, piece))
		return true;
	if ((i = find_piece(p->af_ours, p->naf_ours, piece)) == SIZE_MAX)
		return false;
	return p->af_served[i] <
	    (uint64_t)PEER_FAST_SERVE_X * piece_size(p, piece);
}

const struct bitfield *
peer_pick_set(struct peer *p)
{
	size_t	i;

	refused_prune(p);
	if (!p->peer_choking && p->nrefused > 0) {
		bitfield_copy(&p->pick_mask, &p->has);
		for (i = 0; i < p->nrefused; i++)
			bitfield_unset(&p->pick_mask, p->refused[i]);
		return &p->pick_mask;
	}
	if (!p->peer_choking)
		return &p->has;
	if (p->fast_mask.bits == NULL)		/* choked, nothing allowed */
		bitfield_init(&p->fast_mask, p->cfg.npieces);
	return &p->fast_mask;
}

const struct bitfield *
peer_suggested(struct peer *p)
{
	size_t	i, w = 0;

	for (i = 0; i < p->nsug; i++) {
		if (p->hooks.has_piece(p->ctx, p->sug[i]))
			mask_sync(p, &p->sug_mask, p->sug[i], false);
		else
			p->sug[w++] = p->sug[i];
	}
	p->nsug = w;
	if (p->peer_choking || p->sug_mask.count == 0)
		return NULL;
	return &p->sug_mask;
}

const uint32_t *
peer_suggestions(const struct peer *p, size_t *n)
{
	*n = p->nsug;
	return p->sug;
}

bool
peer_suggest(struct peer *p, uint32_t piece, uint64_t now)
{
	peer_touch(p, now);
	if (p->state != PEER_ACTIVE || !p->fast || piece >= p->cfg.npieces ||
	    p->am_choking || !p->peer_interested ||
	    bitfield_get(&p->has, piece) ||
	    !p->hooks.has_piece(p->ctx, piece))
		return false;
	if (p->sug_sent.bits == NULL)
		bitfield_init(&p->sug_sent, p->cfg.npieces);
	if (!bitfield_set(&p->sug_sent, piece))
		return false;			/* once per piece */
	log_obj_at(LOG_TRACE, p->name, "suggest %u", piece);
	peer_sent(p, wire_put_suggest(&p->out, piece));
	return p->state == PEER_ACTIVE;
}

/* Accessors. */

enum peer_state
peer_state(const struct peer *p)
{
	return p->state;
}

const char *
peer_error(const struct peer *p)
{
	return p->state == PEER_CLOSING ? p->why : NULL;
}

const struct bitfield *
peer_has(const struct peer *p)
{
	return &p->has;
}

const struct wire_handshake *
peer_handshake(const struct peer *p)
{
	return p->got_hs ? &p->hs : NULL;
}

bool
peer_am_choking(const struct peer *p)
{
	return p->am_choking;
}

bool
peer_am_interested(const struct peer *p)
{
	return p->am_interested;
}

bool
peer_is_choking(const struct peer *p)
{
	return p->peer_choking;
}

bool
peer_is_interested(const struct peer *p)
{
	return p->peer_interested;
}

bool
peer_is_fast(const struct peer *p)
{
	return p->fast;
}

const struct block_req *
peer_requests_queued(const struct peer *p, size_t *n)
{
	*n = p->theirs.len;
	return p->theirs.len > 0 ? reqq_at(&p->theirs, 0) : NULL;
}

bool
peer_is_seed(const struct peer *p)
{
	if (p->cfg.npieces == 0)
		return p->pend_all;
	return bitfield_full(&p->has);
}

bool
peer_is_snubbed(const struct peer *p)
{
	return p->snubbed;
}

bool
peer_is_stalled(const struct peer *p)
{
	return p->stalled;
}

uint64_t
peer_downloaded(const struct peer *p)
{
	return p->downloaded;
}

uint64_t
peer_uploaded(const struct peer *p)
{
	return p->uploaded;
}

uint64_t
peer_down_rate(const struct peer *p, uint64_t now)
{
	return rate_get(&p->down, RATE_SHORT, now);
}

uint64_t
peer_up_rate(const struct peer *p, uint64_t now)
{
	return rate_get(&p->up, RATE_SHORT, now);
}

uint64_t
peer_down_rate_avg(const struct peer *p, uint64_t now)
{
	return rate_get(&p->down, RATE_BUCKETS, now);
}

uint64_t
peer_up_rate_avg(const struct peer *p, uint64_t now)
{
	return rate_get(&p->up, RATE_BUCKETS, now);
}

size_t
peer_queue_len(const struct peer *p)
{
	return p->ours.len;
}
