/* metadata.c - assembling a magnet's info dict from ut_metadata pieces */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "metadata.h"
#include "util.h"

/*
 * One attempt at a time: the buffer of the size chosen, a state per piece
 * (in, or asked of how many peers and since when), the requests out in the
 * peers' queues.  A piece is asked of one peer, or of two in the end game
 * (every missing piece out, this one for half METADATA_REQUEST_MS).  Only
 * the caller's peer count and the chosen size (capped) size the memory.
 */

#define MD_ENDGAME_MS	(METADATA_REQUEST_MS / 2)
#define MD_MAX_ASKED	2		/* peers a piece is asked of at once */

struct md_req {
	uint32_t	piece;
	uint64_t	at;		/* asked at (ms) */
};

struct md_peer {
	uint32_t	id;		/* the caller's */
	uint32_t	size;		/* its metadata_size (valid) */
	uint64_t	rest_until;	/* rejected: no request before; 0 */
	struct md_req	req[METADATA_PEER_QUEUE];
	uint8_t		nreq;		/* requests out in req[] */
	bool		bad;		/* never asked again */
	uint8_t		timeouts;	/* ticks that expired requests of it
					   since its last piece */
	bool		tried_alone;	/* had a one-peer attempt (this round) */
};

struct md_piece {
	uint64_t	at;		/* asked at, earliest of its requests */
	uint32_t	from;		/* the peer that sent it (when in) */
	uint8_t		nout;		/* requests out for it */
	bool		in;		/* received in this attempt */
};

struct metadata {
	uint8_t		 info_hash[SHA1_LEN];
	struct md_peer	*peers;		/* in the order added */
	size_t		 npeers, cap;

	uint32_t	 size;		/* being assembled; 0: none chosen */
	uint32_t	 npieces;
	uint32_t	 have;		/* pieces in */
	uint8_t		*buf;		/* size bytes */
	struct md_piece	*pieces;	/* npieces */
	bool		 done;		/* verified: buf is the info dict */

	bool		 alone_mode;	/* this attempt from one peer only */
	bool		 alone_set;	/* ... and alone names it */
	uint32_t	 alone;

	bool		 has_culprit;	/* the last failure blamed culprit */
	uint32_t	 culprit;
	uint64_t	 last_tick;	/* now of the last metadata_tick */
};

static void	md_rechoose(struct metadata *);

static struct md_peer *
md_find(const struct metadata *md, uint32_t id)
{
	size_t	i;

	for (i = 0; i < md->npeers; i++)
		if (md->peers[i].id == id)
			return &md->peers[i];
	return NULL;
}

static uint32_t
md_piece_len(const struct metadata *md, uint32_t piece)
{
	if (piece + 1 < md->npieces)
		return METADATA_PIECE;
	return md->size - (md->npieces - 1) * METADATA_PIECE;
}

/* The slot of peer p holding a request for piece, or -1. */
static int
md_req_find(const struct md_peer *p, uint32_t piece)
{
	int	k;

	for (k = 0; k < p->nreq; k++)
		if (p->req[k].piece == piece)
			return k;
	return -1;
}

/* The request in p's slot k goes back: the piece may be asked again. */
static void
md_req_drop(struct metadata *md, struct md_peer *p, int k)
{
	struct md_piece	*pc = &md->pieces[p->req[k].piece];
	uint32_t	 piece = p->req[k].piece;
	size_t		 i;
	int		 j;

	p->req[k] = p->req[--p->nreq];
	pc->nout--;
	if (pc->nout == 0)
		return;
	/* The other request stays: its time is the piece's now. */
	pc->at = UINT64_MAX;
	for (i = 0; i < md->npeers; i++) {
		if ((j = md_req_find(&md->peers[i], piece)) >= 0)
			pc->at = MIN(pc->at, md->peers[i].req[j].at);
	}
}

static void
md_peer_drop_reqs(struct metadata *md, struct md_peer *p)
{
	while (p->nreq > 0)
		md_req_drop(md, p, p->nreq - 1);
}

static void
md_drop_all_reqs(struct metadata *md)
{
	size_t	i;

	for (i = 0; i < md->npeers; i++)
		md_peer_drop_reqs(md, &md->peers[i]);
}

/* Every request for piece goes back (it came in from someone). */
static void
md_piece_drop_reqs(struct metadata *md, uint32_t piece)
{
	size_t	i;
	int	k;

	for (i = 0; i < md->npeers && md->pieces[piece].nout > 0; i++) {
		if ((k = md_req_find(&md->peers[i], piece)) >= 0)
			md_req_drop(md, &md->peers[i], k);
	}
}

/* A new attempt: every piece missing again, nothing asked. */
static void
md_attempt_reset(struct metadata *md)
{
	uint32_t	i;

	md_drop_all_reqs(md);
	for (i = 0; i < md->npieces; i++)
		md->pieces[i] = (struct md_piece){ .in = false };
	md->have = 0;
}

/* size is valid (1..METADATA_MAX_SIZE) and none is chosen. */
static void
md_size_set(struct metadata *md, uint32_t size)
{
	size_t	i;

	md->size = size;
	md->npieces = (size + METADATA_PIECE - 1) / METADATA_PIECE;
	md->buf = xmalloc(size);
	md->pieces = xcalloc(md->npieces, sizeof(*md->pieces));
	md->have = 0;
	md->alone_mode = md->alone_set = false;
	for (i = 0; i < md->npeers; i++)
		md->peers[i].tried_alone = false;
}

static void
md_size_clear(struct metadata *md)
{
	if (md->size == 0)
		return;
	md_drop_all_reqs(md);
	free(md->buf);
	free(md->pieces);
	md->buf = NULL;
	md->pieces = NULL;
	md->size = md->npieces = md->have = 0;
	md->alone_mode = md->alone_set = false;
}

/* Does anyone still offer the size being assembled? */
static bool
md_size_offered(const struct metadata *md)
{
	size_t	i;

	for (i = 0; i < md->npeers; i++)
		if (!md->peers[i].bad && md->peers[i].size == md->size)
			return true;
	return false;
}

/*
 * When no peer that is not bad offers the size being assembled (its only
 * sources lied, or left) and some offer another, the size is chosen again:
 * the one most of them offer (a tie: the one offered first).
 */
static void
md_rechoose(struct metadata *md)
{
	size_t		i, j, n, best_n = 0;
	uint32_t	best = 0;

	if (md->done || (md->size != 0 && md_size_offered(md)))
		return;
	for (i = 0; i < md->npeers; i++) {
		if (md->peers[i].bad)
			continue;
		for (n = 0, j = 0; j < md->npeers; j++)
			n += !md->peers[j].bad &&
			    md->peers[j].size == md->peers[i].size;
		if (n > best_n) {
			best_n = n;
			best = md->peers[i].size;
		}
	}
	if (best_n == 0)
		return;		/* nobody else: keep what is in */
	md_size_clear(md);
	md_size_set(md, best);
}

/* The peer's pieces of this attempt are not trusted any more. */
static void
md_drop_from(struct metadata *md, uint32_t id)
{
	uint32_t	i;

	for (i = 0; i < md->npieces; i++) {
		if (md->pieces[i].in && md->pieces[i].from == id) {
			md->pieces[i].in = false;
			md->have--;
		}
	}
}

static void
md_set_bad(struct metadata *md, struct md_peer *p)
{
	p->bad = true;
	md_peer_drop_reqs(md, p);
	md_drop_from(md, p->id);
	if (md->alone_set && md->alone == p->id)
		md->alone_set = false;
	md_rechoose(md);
}

struct metadata *
metadata_new(const uint8_t info_hash[SHA1_LEN])
{
	struct metadata	*md;

	md = xcalloc(1, sizeof(*md));
	memcpy(md->info_hash, info_hash, SHA1_LEN);
	return md;
}

void
metadata_free(struct metadata *md)
{
	if (md == NULL)
		return;
	free(md->peers);
	free(md->buf);
	free(md->pieces);
	free(md);
}

bool
metadata_peer_add(struct metadata *md, uint32_t id, uint32_t size)
{
	struct md_peer	*p;

	if (md->done)
		return false;
	p = md_find(md, id);
	if (p != NULL && p->bad)
		return false;
	if (size == 0 || size > METADATA_MAX_SIZE) {
		if (p != NULL)
			metadata_peer_remove(md, id);
		return false;
	}
	if (p == NULL) {
		if (md->npeers == METADATA_MAX_PEERS)
			return false;
		if (md->npeers == md->cap) {
			md->cap = md->cap == 0 ? 8 : 2 * md->cap;
			md->peers = xreallocarray(md->peers, md->cap,
			    sizeof(*md->peers));
		}
		md->peers[md->npeers++] = (struct md_peer){
			.id = id,
			.size = size,
		};
	} else if (p->size != size) {
		md_peer_drop_reqs(md, p);
		p->size = size;
		if (md->alone_set && md->alone == id)
			md->alone_set = false;
	}
	if (md->size == 0)
		md_size_set(md, size);
	else
		md_rechoose(md);
	return true;
}

void
metadata_peer_remove(struct metadata *md, uint32_t id)
{
	struct md_peer	*p;
	size_t		 i;

	if ((p = md_find(md, id)) == NULL)
		return;
	md_peer_drop_reqs(md, p);
	if (md->alone_set && md->alone == id)
		md->alone_set = false;
	i = (size_t)(p - md->peers);
	memmove(p, p + 1, (md->npeers - i - 1) * sizeof(*p));
	md->npeers--;
	md_rechoose(md);
}

bool
metadata_peer_bad(const struct metadata *md, uint32_t id)
{
	const struct md_peer	*p = md_find(md, id);

	return p != NULL && p->bad;
}

static bool
md_alone_candidate(const struct metadata *md, const struct md_peer *p)
{
	return !p->bad && p->size == md->size && !p->tried_alone;
}

/*
 * In one-peer mode, may p be asked?  The first candidate to ask (not bad,
 * the size assembled, not tried alone yet) becomes the one; when every
 * peer has had its turn, the turns start again.
 */
static bool
md_alone_pick(struct metadata *md, struct md_peer *p)
{
	size_t	i;

	if (md->alone_set)
		return md->alone == p->id;
	if (!md_alone_candidate(md, p)) {
		for (i = 0; i < md->npeers; i++)
			if (md_alone_candidate(md, &md->peers[i]))
				return false;	/* wait for its turn */
		for (i = 0; i < md->npeers; i++)
			md->peers[i].tried_alone = false;
	}
	md->alone_set = true;
	md->alone = p->id;
	p->tried_alone = true;
	return true;
}

/* Is piece i one the end game may ask of p too, at now? */
static bool
md_endgame_ok(const struct metadata *md, const struct md_peer *p,
    uint32_t i, uint64_t now)
{
	const struct md_piece	*pc = &md->pieces[i];

	return !pc->in && pc->nout > 0 && pc->nout < MD_MAX_ASKED &&
	    now >= pc->at && now - pc->at >= MD_ENDGAME_MS &&
	    md_req_find(p, i) < 0;
}

bool
metadata_next_request(struct metadata *md, uint32_t id, uint64_t now,
    uint32_t *piece)
{
	struct md_peer	*p;
	struct md_piece	*pc;
	uint32_t	 i;

	if (md->done || md->size == 0)
		return false;
	p = md_find(md, id);
	if (p == NULL || p->bad || p->size != md->size ||
	    p->nreq >= METADATA_PEER_QUEUE)
		return false;
	if (p->rest_until != 0) {
		if (now < p->rest_until)
			return false;
		p->rest_until = 0;
	}
	if (md->alone_mode && !md_alone_pick(md, p))
		return false;
	for (i = 0; i < md->npieces; i++)
		if (!md->pieces[i].in && md->pieces[i].nout == 0)
			break;
	if (i == md->npieces && !md->alone_mode) {
		for (i = 0; i < md->npieces; i++)
			if (md_endgame_ok(md, p, i, now))
				break;
	}
	if (i == md->npieces)
		return false;
	pc = &md->pieces[i];
	if (pc->nout++ == 0)
		pc->at = now;
	p->req[p->nreq++] = (struct md_req){ .piece = i, .at = now };
	*piece = i;
	return true;
}

/* Every piece is in: is it the info dict? */
static enum metadata_result
md_verify(struct metadata *md)
{
	uint8_t			 h[SHA1_LEN];
	struct md_peer		*p;
	uint32_t		 i, first;
	bool			 one = true;

	sha1(md->buf, md->size, h);
	if (memcmp(h, md->info_hash, SHA1_LEN) == 0) {
		md_drop_all_reqs(md);
		md->done = true;
		return METADATA_DONE;
	}
	first = md->pieces[0].from;
	for (i = 1; i < md->npieces && one; i++)
		one = md->pieces[i].from == first;
	md_attempt_reset(md);
	md->has_culprit = one;
	md->alone_set = false;
	if (one) {
		/* One peer sent it all: the lie is its. */
		md->culprit = first;
		md->alone_mode = false;
		if ((p = md_find(md, first)) != NULL)
			p->bad = true;
	} else {
		/* Anyone may have lied: the next attempt from one peer. */
		md->alone_mode = true;
	}
	md_rechoose(md);
	return METADATA_FAILED;
}

enum metadata_result
metadata_on_data(struct metadata *md, uint32_t id, uint32_t piece,
    uint32_t total_size, const uint8_t *data, size_t len, uint64_t now)
{
	struct md_peer	*p;
	struct md_piece	*pc;
	int		 k;

	(void)now;
	if (md->done || md->size == 0)
		return METADATA_IGNORED;
	if ((p = md_find(md, id)) == NULL || p->bad)
		return METADATA_IGNORED;
	if (piece >= md->npieces || total_size != md->size ||
	    len != md_piece_len(md, piece)) {
		md_set_bad(md, p);
		return METADATA_BAD;
	}
	if ((k = md_req_find(p, piece)) < 0)
		return METADATA_IGNORED;	/* unasked, or in already */
	p->timeouts = 0;
	pc = &md->pieces[piece];
	memcpy(md->buf + (size_t)piece * METADATA_PIECE, data, len);
	pc->in = true;
	pc->from = id;
	md->have++;
	md_piece_drop_reqs(md, piece);
	if (md->have < md->npieces)
		return METADATA_KEPT;
	return md_verify(md);
}

void
metadata_on_reject(struct metadata *md, uint32_t id, uint32_t piece,
    uint64_t now)
{
	struct md_peer	*p;
	int		 k;

	if (md->done || md->size == 0 || (p = md_find(md, id)) == NULL)
		return;
	if ((k = md_req_find(p, piece)) < 0)
		return;			/* not asked of it: nothing to undo */
	md_req_drop(md, p, k);
	p->rest_until = MAX(now + METADATA_REJECT_MS, 1);
	if (md->alone_set && md->alone == id)
		md->alone_set = false;	/* another peer's turn meanwhile */
}

void
metadata_tick(struct metadata *md, uint64_t now)
{
	struct md_peer	*p;
	size_t		 i;
	int		 k;
	bool		 expired, silent = false;

	md->last_tick = now;
	if (md->done)
		return;
	for (i = 0; i < md->npeers; i++) {
		p = &md->peers[i];
		if (p->rest_until != 0 && p->rest_until <= now)
			p->rest_until = 0;
		expired = false;
		for (k = p->nreq - 1; k >= 0; k--) {
			if (now < p->req[k].at ||
			    now - p->req[k].at < METADATA_REQUEST_MS)
				continue;
			md_req_drop(md, p, k);
			expired = true;
		}
		if (expired && p->timeouts < UINT8_MAX)
			p->timeouts++;
	}
	/* A peer that never answers could hold its size for good. */
	for (i = 0; i < md->npeers; i++) {
		p = &md->peers[i];
		if (p->bad || p->timeouts < METADATA_MAX_TIMEOUTS)
			continue;
		p->bad = true;
		md_peer_drop_reqs(md, p);
		md_drop_from(md, p->id);
		if (md->alone_set && md->alone == p->id)
			md->alone_set = false;
		silent = true;
	}
	if (silent)
		md_rechoose(md);
}

/*
 * The end game's moments count too (a piece may then be asked of a second
 * peer), each until the tick at or past it, so that a moment no peer can
 * use does not keep the deadline in the past.
 */
uint64_t
metadata_deadline(const struct metadata *md)
{
	const struct md_peer	*p;
	uint64_t		 t = UINT64_MAX, at;
	size_t			 i;
	uint32_t		 j;
	int			 k;
	bool			 endgame = !md->alone_mode;

	if (md->done)
		return UINT64_MAX;
	for (i = 0; i < md->npeers; i++) {
		p = &md->peers[i];
		if (p->rest_until != 0)
			t = MIN(t, p->rest_until);
		for (k = 0; k < p->nreq; k++)
			t = MIN(t, p->req[k].at + METADATA_REQUEST_MS);
	}
	for (j = 0; j < md->npieces && endgame; j++)
		endgame = md->pieces[j].in || md->pieces[j].nout > 0;
	for (j = 0; j < md->npieces && endgame; j++) {
		if (md->pieces[j].in || md->pieces[j].nout >= MD_MAX_ASKED)
			continue;
		at = md->pieces[j].at + MD_ENDGAME_MS;
		if (at > md->last_tick)
			t = MIN(t, at);
	}
	return t;
}

size_t
metadata_culprits(const struct metadata *md, uint32_t *out, size_t max)
{
	if (!md->has_culprit || max == 0)
		return 0;
	out[0] = md->culprit;
	return 1;
}

uint32_t
metadata_size(const struct metadata *md)
{
	return md->size;
}

uint32_t
metadata_npieces(const struct metadata *md)
{
	return md->npieces;
}

uint32_t
metadata_have(const struct metadata *md)
{
	return md->have;
}

const uint8_t *
metadata_bytes(const struct metadata *md, size_t *len)
{
	if (!md->done) {
		*len = 0;
		return NULL;
	}
	*len = md->size;
	return md->buf;
}
