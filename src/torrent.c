/* torrent.c - one torrent at run time: storage, picker, peers, choker */
#include <sys/stat.h>
#include <sys/uio.h>

#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "choke.h"
#include "crypto.h"
#include "log.h"
#include "metainfo.h"
#include "net.h"
#include "peer.h"
#include "picker.h"
#include "reactor.h"
#include "session.h"
#include "storage.h"
#include "torrent.h"
#include "util.h"

#define TORRENT_SERVE_RING	(2 * PEER_MAX_PEER_QUEUE)
#define TORRENT_MAX_SEEN	4096	/* peer ids counted in peers_ever */
#define TORRENT_RANDOM_FIRST	4
#define TORRENT_HASH_LANES	4	/* pieces hashed together, at most */
#define TORRENT_HASH_BUF	(4u << 20)	/* batch buffer, at most */
#define TORRENT_HASH_WAIT_MS	10	/* a partial batch waits this long */
#define TORRENT_PICK_BATCH	16	/* pick when 1/16 of the queue is out */
#define TORRENT_WQ_MAX		256	/* blocks waiting to be written */

/* A peer address to dial. */
struct cand {
	struct netaddr	a;
	uint64_t	retry_at;	/* ms; not before */
	uint16_t	fails;		/* connects that failed in a row */
	bool		explicit;	/* --peer: never given up */
	bool		connected;	/* a connection is open */
	bool		banned;		/* or ourselves */
	bool		seed;		/* had everything */
};

/* A received block waiting to be written; data is in a receive buffer. */
struct wq_block {
	uint64_t	 off;		/* torrent offset */
	const uint8_t	*data;
	uint32_t	 len;
};

/* A peer that sent blocks of a piece in progress. */
struct contrib {
	struct netaddr	a;
	uint8_t		id[20];
};

/*
 * A piece in progress: its SHA-1 over the blocks received in order so far
 * (next bytes), which blocks arrived, and who sent them.
 */
struct prog {
	uint32_t		 next;		/* bytes hashed */
	struct sha1_stream	*sha;
	uint8_t			*recv;		/* block bitmap */
	struct contrib		 c[TORRENT_CONTRIB_MAX];
	uint8_t			 nc;
	bool			 many;		/* more senders than c[] */
	struct prog		*free_next;
};

struct strike {
	struct netaddr	a;
	uint32_t	n;
};

struct ban {
	struct netaddr	a;
	uint8_t		id[20];
};

struct torrent {
	struct session		 *s;
	struct reactor		 *r;
	const struct metainfo	 *m;
	struct torrent_opts	  o;
	struct torrent_events	  ev;
	char			 *dir;
	struct storage		 *st;
	struct picker		 *pk;
	struct bitfield		  have;		/* verified pieces */
	struct peer_config	  pcfg;
	struct session_tracker	 *tracker;

	struct conn_list	  conns;
	uint32_t		  nconns;
	uint32_t		  npeers;	/* handshakes done */
	struct cand		 *cands;
	size_t			  ncands, cand_pos;
	struct ban		 *bans;
	size_t			  nbans;
	struct strike		 *strikes;
	size_t			  nstrikes;
	uint8_t			(*seen)[20];	/* peer ids we exchanged with */
	size_t			  nseen;

	struct prog		**prog;		/* per piece, or NULL */
	unsigned		  lanes;	/* batch hashing; 0: streaming */
	uint32_t		  hq[TORRENT_HASH_LANES]; /* to hash */
	size_t			  nhq;
	uint8_t			 *hbuf;		/* lanes * piece length */
	struct reactor_timer	 *hash_timer;
	struct prog		 *free_prog;
	size_t			  blkmap_len;	/* bytes of a prog's bitmap */
	uint8_t			 *scratch;	/* WIRE_MAX_REQUEST bytes */
	struct wq_block		  wq[TORRENT_WQ_MAX];	/* to write */
	size_t			  nwq;

	struct reactor_timer	 *choke_timer;
	struct reactor_timer	 *connect_timer;
	struct reactor_timer	 *refill_timer;
	unsigned		  choke_round;
	struct prng		  rng;

	uint64_t		  size;		/* payload bytes */
	uint64_t		  have_bytes;
	uint64_t		  downloaded, uploaded;
	bool			  complete, stopped, fatal, started;
};

static const char *const conn_state_names[] = {
	[CONN_CONNECTING] = "connecting", [CONN_HANDSHAKE] = "handshake",
	[CONN_ACTIVE] = "active",
};

static void	torrent_fatal(struct torrent *, enum gt_err, const char *);
static void	torrent_refill_soon(struct torrent *);

/* ---- small things -------------------------------------------------------- */

static uint64_t
now_ms(const struct torrent *t)
{
	return reactor_now_ms(t->r);
}

static bool
conn_live(const struct conn *c)
{
	return !c->dead && c->state == CONN_ACTIVE && c->peer != NULL &&
	    peer_state(c->peer) == PEER_ACTIVE;
}

static bool
is_banned(const struct torrent *t, const struct netaddr *a,
    const uint8_t *id)
{
	size_t	i;

	for (i = 0; i < t->nbans; i++) {
		if (a != NULL && addr_eq(&t->bans[i].a, a))
			return true;
		if (id != NULL && memcmp(t->bans[i].id, id, 20) == 0)
			return true;
	}
	return false;
}

static void
cand_retry(struct torrent *t, struct cand *k, bool failed)
{
	uint64_t	wait = TORRENT_RETRY_MIN_MS;
	unsigned	i;

	if (failed && k->fails < 16)
		k->fails++;
	for (i = 1; i < k->fails && wait < TORRENT_RETRY_MAX_MS; i++)
		wait *= 2;
	k->retry_at = now_ms(t) + MIN(wait, TORRENT_RETRY_MAX_MS);
}

/* ---- peer hooks (ctx is the connection) ---------------------------------- */

static void
hook_have(void *ctx, struct peer *p, uint32_t piece)
{
	struct conn	*c = ctx;

	(void)p;
	picker_peer_have(c->t->pk, piece);
}

static void
hook_bitfield(void *ctx, struct peer *p, const struct bitfield *b)
{
	struct conn	*c = ctx;

	(void)p;
	picker_peer_add(c->t->pk, b);
}

/* Is another peer unchoking us, wanted and not snubbed? */
static bool
other_sender(const struct torrent *t, const struct conn *self)
{
	const struct conn	*c;

	TAILQ_FOREACH(c, &t->conns, tentry) {
		if (c != self && conn_live(c) && !peer_is_choking(c->peer) &&
		    peer_am_interested(c->peer) && !peer_is_snubbed(c->peer))
			return true;
	}
	return false;
}

static size_t
hook_pick(void *ctx, struct peer *p, const struct block_req *busy,
    size_t nbusy, struct block_req *out, size_t max)
{
	struct conn	*c = ctx;
	struct torrent	*t = c->t;

	if (c->dead || t->stopped || t->fatal || t->o.upload_only)
		return 0;
	/*
	 * peer.c tops the pipeline up after every block; asking the picker
	 * for one block at a time costs a pass over the pieces in progress
	 * each.  Wait until a sixteenth of the pipeline is missing instead.
	 */
	if (max < (nbusy + max) / TORRENT_PICK_BATCH)
		return 0;
	/*
	 * A snubbed peer (requests timed out, or nothing for a while) would
	 * take the blocks it just gave back again: leave them to the others
	 * unless it is the end game or nobody else is sending.
	 */
	if (peer_is_snubbed(p) && !picker_in_end_game(t->pk) &&
	    other_sender(t, c))
		return 0;
	return picker_next(t->pk, peer_has(p), busy, nbusy, out, max);
}

static void
hook_abandon(void *ctx, struct peer *p, const struct block_req *r)
{
	struct conn	*c = ctx;

	(void)p;
	picker_abandon(c->t->pk, r);
	torrent_refill_soon(c->t);
}

static bool
hook_has_piece(void *ctx, uint32_t piece)
{
	struct conn	*c = ctx;

	return bitfield_get(&c->t->have, piece);
}

static bool
hook_wants(void *ctx, const struct bitfield *b)
{
	struct conn	*c = ctx;

	return !c->t->o.upload_only && !c->t->complete &&
	    picker_interesting(c->t->pk, b);
}

static void
hook_request(void *ctx, struct peer *p, const struct block_req *r)
{
	struct conn	*c = ctx;

	(void)p;
	if (c->serve == NULL)
		c->serve = xcalloc(TORRENT_SERVE_RING, sizeof(*c->serve));
	if (c->serve_len == TORRENT_SERVE_RING)
		return;		/* stale entries fill it: the peer retries */
	c->serve[(c->serve_head + c->serve_len) % TORRENT_SERVE_RING] = *r;
	c->serve_len++;
}

static enum gt_err	hook_block(void *, struct peer *,
			    const struct block_req *, const uint8_t *);

static const struct peer_hooks torrent_hooks = {
	.have = hook_have,
	.bitfield = hook_bitfield,
	.pick = hook_pick,
	.abandon = hook_abandon,
	.block = hook_block,
	.has_piece = hook_has_piece,
	.wants = hook_wants,
	.request = hook_request,
	.extended = NULL,
};

/* ---- pieces in progress -------------------------------------------------- */

static struct prog *
prog_get(struct torrent *t, uint32_t piece)
{
	struct prog	*pr;

	if ((pr = t->prog[piece]) != NULL)
		return pr;
	if ((pr = t->free_prog) != NULL)
		t->free_prog = pr->free_next;
	else {
		pr = xcalloc(1, sizeof(*pr));
		pr->sha = sha1_stream_new();
		pr->recv = xcalloc(1, t->blkmap_len);
	}
	t->prog[piece] = pr;
	return pr;
}

static void
prog_release(struct torrent *t, uint32_t piece)
{
	struct prog	*pr = t->prog[piece];

	if (pr == NULL)
		return;
	t->prog[piece] = NULL;
	sha1_stream_reset(pr->sha);
	memset(pr->recv, 0, t->blkmap_len);
	pr->next = 0;
	pr->nc = 0;
	pr->many = false;
	pr->free_next = t->free_prog;
	t->free_prog = pr;
}

static void
prog_contrib(struct prog *pr, const struct conn *c)
{
	const struct wire_handshake	*hs = peer_handshake(c->peer);
	size_t				 i;

	for (i = 0; i < pr->nc; i++)
		if (addr_eq(&pr->c[i].a, &c->addr))
			return;
	if (pr->nc == TORRENT_CONTRIB_MAX) {
		pr->many = true;
		return;
	}
	pr->c[pr->nc].a = c->addr;
	if (hs != NULL)
		memcpy(pr->c[pr->nc].id, hs->peer_id, 20);
	pr->nc++;
}

static bool
blk_get(const struct prog *pr, uint32_t i)
{
	return (pr->recv[i / 8] & (0x80u >> (i % 8))) != 0;
}

static void
blk_set(struct prog *pr, uint32_t i)
{
	pr->recv[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* ---- writing ------------------------------------------------------------- */

/*
 * Blocks are written straight from the receive buffer they were decoded
 * in, a batch of input at a time: in torrent_after_input (net.c calls it
 * before it reads into that buffer again), in torrent_detach, and before
 * anything reads the storage back.  Blocks that follow one another in the
 * torrent go out in one gathered write: a pwritev per run instead of a
 * pwrite per block, and bigger page-cache folios for the kernel to fill.
 */
static enum gt_err
wq_flush(struct torrent *t)
{
	struct iovec	iov[TORRENT_WQ_MAX];
	struct wq_block	b, *q = t->wq;
	size_t		i, j, n = t->nwq;
	enum gt_err	e = GT_OK;

	if (n == 0)
		return GT_OK;
	t->nwq = 0;
	/* Mostly in order already: an insertion sort by offset. */
	for (i = 1; i < n; i++) {
		b = q[i];
		for (j = i; j > 0 && q[j - 1].off > b.off; j--)
			q[j] = q[j - 1];
		q[j] = b;
	}
	for (i = 0; i < n && e == GT_OK; i = j) {
		for (j = i; j < n && (j == i ||
		    q[j].off == q[j - 1].off + q[j - 1].len); j++)
			iov[j - i] = (struct iovec){
				.iov_base = (void *)(uintptr_t)q[j].data,
				.iov_len = q[j].len,
			};
		e = storage_writev_at(t->st, q[i].off, iov, j - i);
	}
	if (e != GT_OK)
		torrent_fatal(t, e, "cannot write a block");
	return e;
}

/* data stays where it is until the next wq_flush. */
static enum gt_err
wq_add(struct torrent *t, const struct block_req *r, const uint8_t *data)
{
	enum gt_err	e;

	if (t->nwq == TORRENT_WQ_MAX && (e = wq_flush(t)) != GT_OK)
		return e;
	t->wq[t->nwq++] = (struct wq_block){
		.off = (uint64_t)r->piece * t->m->piece_length + r->offset,
		.data = data,
		.len = r->length,
	};
	return GT_OK;
}

/* Hashes blocks that arrived out of order and now follow the prefix. */
static enum gt_err
prog_catch_up(struct torrent *t, struct prog *pr, uint32_t piece,
    uint32_t size)
{
	uint32_t	len;
	enum gt_err	e;

	while (pr->next < size && blk_get(pr, pr->next / WIRE_BLOCK)) {
		if ((e = wq_flush(t)) != GT_OK)
			return e;
		len = MIN(WIRE_BLOCK, size - pr->next);
		if ((e = storage_read(t->st, piece, pr->next, t->scratch,
		    len)) != GT_OK)
			return e;
		sha1_stream_update(pr->sha, t->scratch, len);
		pr->next += len;
	}
	return GT_OK;
}

/* ---- bans ---------------------------------------------------------------- */

static void
ban_peer(struct torrent *t, const struct contrib *k, uint32_t piece,
    bool alone)
{
	struct conn	*c, *next;
	char		 name[ADDR_STRLEN];
	size_t		 i;

	if (is_banned(t, &k->a, NULL))
		return;
	if (t->nbans < TORRENT_MAX_BANS) {
		t->bans = xreallocarray(t->bans, t->nbans + 1,
		    sizeof(*t->bans));
		t->bans[t->nbans++] = (struct ban){ .a = k->a };
		memcpy(t->bans[t->nbans - 1].id, k->id, 20);
	}
	log_info("banned peer %s: %s %u", addr_str(&k->a, name), alone ?
	    "sent a corrupt piece" : "shared in corrupt pieces, the last",
	    piece);
	for (i = 0; i < t->ncands; i++)
		if (addr_eq(&t->cands[i].a, &k->a))
			t->cands[i].banned = true;
	for (c = TAILQ_FIRST(&t->conns); c != NULL; c = next) {
		const struct wire_handshake	*hs;

		next = TAILQ_NEXT(c, tentry);
		hs = c->peer != NULL ? peer_handshake(c->peer) : NULL;
		if (addr_eq(&c->addr, &k->a) || (hs != NULL &&
		    memcmp(hs->peer_id, k->id, 20) == 0))
			net_close(c, "banned: corrupt data");
	}
}

static void
strike_peer(struct torrent *t, const struct contrib *k, uint32_t piece)
{
	size_t	i;

	for (i = 0; i < t->nstrikes; i++)
		if (addr_eq(&t->strikes[i].a, &k->a))
			break;
	if (i == t->nstrikes) {
		if (t->nstrikes == TORRENT_MAX_BANS)
			return;
		t->strikes = xreallocarray(t->strikes, t->nstrikes + 1,
		    sizeof(*t->strikes));
		t->strikes[t->nstrikes++] = (struct strike){ .a = k->a };
	}
	if (++t->strikes[i].n >= TORRENT_BAN_STRIKES)
		ban_peer(t, k, piece, false);
}

/* ---- piece completion ---------------------------------------------------- */

static void
torrent_completed(struct torrent *t)
{
	struct conn	*c, *next;
	char		 err[GT_ERRLEN];

	t->complete = true;
	log_info("%s: download complete", t->m->name);
	if (!t->o.upload_only && storage_make_symlinks(t->st, err) != GT_OK)
		log_warn("%s", err);
	session_tracker_completed(t->tracker);
	for (c = TAILQ_FIRST(&t->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, tentry);
		if (conn_live(c) && peer_is_seed(c->peer))
			net_close(c, "we are both seeds");
	}
	if (t->ev.complete != NULL)
		t->ev.complete(t->ev.arg);
}

static void
piece_passed(struct torrent *t, uint32_t piece, uint32_t size)
{
	struct conn	*c;
	uint64_t	 now = now_ms(t);

	picker_piece_passed(t->pk, piece);
	bitfield_set(&t->have, piece);
	t->have_bytes += size;
	prog_release(t, piece);
	TAILQ_FOREACH(c, &t->conns, tentry) {
		if (!conn_live(c))
			continue;
		peer_announce_have(c->peer, piece, now);
		net_flush_soon(c);
	}
	if (picker_complete(t->pk))
		torrent_completed(t);
}

static void
piece_failed(struct torrent *t, uint32_t piece, struct prog *pr)
{
	struct contrib	k[TORRENT_CONTRIB_MAX];
	char		who[TORRENT_CONTRIB_MAX * (ADDR_STRLEN + 2) + 8];
	char		name[ADDR_STRLEN];
	size_t		i, nk = pr->nc, off = 0;
	bool		many = pr->many;

	memcpy(k, pr->c, sizeof(k));
	who[0] = '\0';
	for (i = 0; i < nk; i++)
		off += (size_t)snprintf(who + off, sizeof(who) - off, "%s%s",
		    i > 0 ? ", " : "", addr_str(&k[i].a, name));
	if (many)
		snprintf(who + off, sizeof(who) - off, ", ...");
	log_info("piece %u failed hash check (peers: %s)", piece, who);
	picker_piece_failed(t->pk, piece);
	prog_release(t, piece);
	if (nk == 1 && !many)
		ban_peer(t, &k[0], piece, true);
	else
		for (i = 0; i < nk; i++)
			strike_peer(t, &k[i], piece);
	torrent_refill_soon(t);
}

static void
piece_verdict(struct torrent *t, uint32_t piece, const uint8_t *digest)
{
	if (memcmp(digest, metainfo_piece_hash(t->m, piece), SHA1_LEN) == 0)
		piece_passed(t, piece, metainfo_piece_size(t->m, piece));
	else
		piece_failed(t, piece, prog_get(t, piece));
}

/* Streaming: the piece's SHA-1 grew block by block; finish it. */
static void
piece_done(struct torrent *t, uint32_t piece, struct prog *pr)
{
	uint8_t		digest[SHA1_LEN];
	uint32_t	size = metainfo_piece_size(t->m, piece);
	enum gt_err	e;

	if (wq_flush(t) != GT_OK)
		return;
	if (pr->next != size) {
		/* Cannot happen (every block chains in); hash it whole. */
		log_debug("piece %u: hashed %u of %u bytes, rehashing", piece,
		    pr->next, size);
		if ((e = storage_hash_piece(t->st, piece, digest)) != GT_OK) {
			torrent_fatal(t, e, "cannot read back a piece");
			return;
		}
	} else
		sha1_stream_final(pr->sha, digest);
	piece_verdict(t, piece, digest);
}

/*
 * Batch hashing: complete pieces (in the page cache by now) are read back
 * and hashed several at a time with sha1_multi, whose interleaved SHA-NI
 * or AVX2 lanes run more than twice as fast as one stream: well worth the
 * read-back copy.  (Hashing through a mapping instead costs as much: the
 * mmap, the faults and the munmap of freshly written pages.)  A partial
 * batch waits at most TORRENT_HASH_WAIT_MS.
 */
static void
hash_run(struct torrent *t)
{
	const uint8_t	*msgs[TORRENT_HASH_LANES], *full[TORRENT_HASH_LANES];
	uint8_t		 out[TORRENT_HASH_LANES][SHA1_LEN];
	uint8_t		 fout[TORRENT_HASH_LANES][SHA1_LEN];
	uint32_t	 pieces[TORRENT_HASH_LANES], size;
	size_t		 pl = (size_t)t->m->piece_length, n = t->nhq, i, k;
	size_t		 fidx[TORRENT_HASH_LANES], nfull = 0;
	enum gt_err	 e;

	reactor_timer_cancel(t->hash_timer);
	if (n == 0 || t->fatal)
		return;
	if (wq_flush(t) != GT_OK)
		return;
	memcpy(pieces, t->hq, n * sizeof(*pieces));
	t->nhq = 0;
	if (t->hbuf == NULL)
		t->hbuf = xmalloc(t->lanes * pl);
	for (i = 0; i < n; i++) {
		size = metainfo_piece_size(t->m, pieces[i]);
		msgs[i] = t->hbuf + i * pl;
		e = storage_read(t->st, pieces[i], 0, t->hbuf + i * pl, size);
		if (e != GT_OK) {
			torrent_fatal(t, e, "cannot read back a piece");
			return;
		}
		if (size == pl) {
			full[nfull] = msgs[i];
			fidx[nfull++] = i;
		} else
			sha1(msgs[i], size, out[i]);
	}
	if (nfull > 0) {
		sha1_multi(full, pl, nfull, fout);
		for (k = 0; k < nfull; k++)
			memcpy(out[fidx[k]], fout[k], SHA1_LEN);
	}
	for (i = 0; i < n && !t->fatal; i++)
		piece_verdict(t, pieces[i], out[i]);
}

static void
hash_timer_cb(void *arg)
{
	hash_run(arg);
}

static void
hash_queue(struct torrent *t, uint32_t piece)
{
	assert(t->nhq < t->lanes);
	t->hq[t->nhq++] = piece;
	if (t->nhq == t->lanes)
		hash_run(t);
	else if (!reactor_timer_pending(t->hash_timer))
		reactor_timer_in(t->hash_timer, TORRENT_HASH_WAIT_MS);
}

/* End-game: others asked for the block that just came; cancel theirs. */
static void
cancel_others(struct torrent *t, struct conn *self,
    const struct block_req *r)
{
	struct conn	*c;
	size_t		 n0;

	TAILQ_FOREACH(c, &t->conns, tentry) {
		if (c == self || !conn_live(c))
			continue;
		n0 = peer_queue_len(c->peer);
		peer_cancel_block(c->peer, r);
		if (peer_queue_len(c->peer) < n0) {
			picker_abandon(t->pk, r);
			net_flush_soon(c);
		}
		if (picker_requesters(t->pk, r) == 0)
			break;
	}
}

static enum gt_err
hook_block(void *ctx, struct peer *p, const struct block_req *r,
    const uint8_t *data)
{
	struct conn	*c = ctx;
	struct torrent	*t = c->t;
	struct prog	*pr;
	uint32_t	 size, bi;
	enum gt_err	 e;
	bool		 done;

	(void)p;
	t->downloaded += r->length;
	if (t->fatal || !picker_received(t->pk, r, &done))
		return GT_OK;			/* a duplicate */
	if (wq_add(t, r, data) != GT_OK)
		return GT_OK;			/* fatal now */
	pr = prog_get(t, r->piece);
	prog_contrib(pr, c);
	bi = r->offset / WIRE_BLOCK;
	if (t->lanes == 0 && !blk_get(pr, bi)) {
		blk_set(pr, bi);
		if (r->offset == pr->next) {
			size = metainfo_piece_size(t->m, r->piece);
			sha1_stream_update(pr->sha, data, r->length);
			pr->next += r->length;
			if ((e = prog_catch_up(t, pr, r->piece, size)) !=
			    GT_OK) {
				torrent_fatal(t, e, "cannot read back a block");
				return GT_OK;
			}
		}
	}
	if (picker_requesters(t->pk, r) > 0)
		cancel_others(t, c, r);
	if (done && t->lanes > 0)
		hash_queue(t, r->piece);
	else if (done)
		piece_done(t, r->piece, pr);
	return GT_OK;
}

/* ---- serving ------------------------------------------------------------- */

static void
torrent_serve(struct torrent *t, struct conn *c)
{
	struct block_req	r;
	uint64_t		up0;
	enum gt_err		e;

	while (c->serve_len > 0 && !c->dead &&
	    net_out_pending(c) < TORRENT_SERVE_HIGH &&
	    peer_state(c->peer) == PEER_ACTIVE) {
		r = c->serve[c->serve_head];
		c->serve_head = (c->serve_head + 1) % TORRENT_SERVE_RING;
		c->serve_len--;
		if (peer_am_choking(c->peer) || !bitfield_get(&t->have,
		    r.piece))
			continue;
		e = storage_read(t->st, r.piece, r.offset, t->scratch,
		    r.length);
		if (e != GT_OK) {
			log_warn("%s: cannot read piece %u: %s", t->m->name,
			    r.piece, gt_strerror(e));
			net_close(c, "cannot read piece %u", r.piece);
			return;
		}
		up0 = peer_uploaded(c->peer);
		if (peer_send_block(c->peer, &r, t->scratch) != GT_OK)
			return;
		t->uploaded += peer_uploaded(c->peer) - up0;
	}
}

void
torrent_writable(struct torrent *t, struct conn *c)
{
	if (c->serve_len > 0)
		torrent_serve(t, c);
}

/* ---- choking ------------------------------------------------------------- */

static void
torrent_rechoke(struct torrent *t, bool rotate)
{
	struct choke_peer	*cp;
	struct choke_opts	 o = {
		.slots = TORRENT_UNCHOKE_SLOTS, .optimistic = true,
		.anti_snub = true, .seeding = t->complete,
	};
	struct conn		*c, **cs;
	bool			*un, *opt;
	uint64_t		 now = now_ms(t);
	size_t			 n = 0, i;

	if (t->npeers == 0)
		return;
	cp = xcalloc(t->nconns, sizeof(*cp));
	cs = xcalloc(t->nconns, sizeof(*cs));
	un = xcalloc(t->nconns, sizeof(*un));
	opt = xcalloc(t->nconns, sizeof(*opt));
	TAILQ_FOREACH(c, &t->conns, tentry) {
		if (!conn_live(c) || n == t->nconns)
			continue;
		cs[n] = c;
		cp[n] = (struct choke_peer){
			.id = (uint32_t)n,
			.interested = peer_is_interested(c->peer),
			.snubbed = peer_is_snubbed(c->peer),
			.seed = peer_is_seed(c->peer),
			.unchoked = !peer_am_choking(c->peer),
			.optimistic = c->optimistic,
			.down_rate = peer_down_rate(c->peer, now),
			.up_rate = peer_up_rate(c->peer, now),
			.connected_ms = c->active_ms,
		};
		n++;
	}
	choke_decide(&o, cp, n, rotate, now, &t->rng, un, opt);
	for (i = 0; i < n; i++) {
		c = cs[i];
		c->optimistic = opt[i];
		if (peer_am_choking(c->peer) != !un[i]) {
			peer_set_choking(c->peer, !un[i], now);
			net_flush_soon(c);
		}
	}
	free(opt);
	free(un);
	free(cs);
	free(cp);
}

static void
choke_timer_cb(void *arg)
{
	struct torrent	*t = arg;

	t->choke_round++;
	torrent_rechoke(t, t->choke_round % (CHOKE_OPTIMISTIC_MS /
	    CHOKE_INTERVAL_MS) == 0);
	reactor_timer_in(t->choke_timer, CHOKE_INTERVAL_MS);
}

/* An interested newcomer gets a free slot at once, not at the rechoke. */
static void
unchoke_newcomer(struct torrent *t, struct conn *c)
{
	struct conn	*o;
	uint32_t	 unchoked = 0;

	TAILQ_FOREACH(o, &t->conns, tentry)
		if (conn_live(o) && !peer_am_choking(o->peer))
			unchoked++;
	if (unchoked < TORRENT_UNCHOKE_SLOTS + 1)
		peer_set_choking(c->peer, false, now_ms(t));
}

void
torrent_after_input(struct torrent *t, struct conn *c)
{
	if (wq_flush(t) != GT_OK)
		return;
	if (!conn_live(c))
		return;
	if ((t->complete || t->o.upload_only) && peer_is_seed(c->peer)) {
		if (c->cand != UINT32_MAX)
			t->cands[c->cand].seed = true;
		net_close(c, "we are both seeds");
		return;
	}
	if (peer_is_interested(c->peer) && peer_am_choking(c->peer) &&
	    !t->stopped)
		unchoke_newcomer(t, c);
	if (c->serve_len > 0)
		torrent_serve(t, c);
}

/* ---- refill: blocks came back to the picker ------------------------------ */

static void
refill_cb(void *arg)
{
	struct torrent	*t = arg;
	struct conn	*c;
	uint64_t	 now = now_ms(t);

	TAILQ_FOREACH(c, &t->conns, tentry) {
		if (!conn_live(c))
			continue;
		peer_update_interest(c->peer, now);
		peer_fill_requests(c->peer, now);
		net_flush_soon(c);
	}
}

static void
torrent_refill_soon(struct torrent *t)
{
	if (!t->stopped && !reactor_timer_pending(t->refill_timer))
		reactor_timer_in(t->refill_timer, 0);
}

/* ---- connections --------------------------------------------------------- */

static void
torrent_attach(struct torrent *t, struct conn *c)
{
	struct wire_handshake	hs;
	uint8_t			raw[WIRE_HANDSHAKE_LEN];

	c->t = t;
	c->peer = peer_new(&t->pcfg, &torrent_hooks, c, now_ms(t));
	memset(&hs, 0, sizeof(hs));
	hs.reserved[7] = WIRE_RSV_FAST;
	memcpy(hs.info_hash, t->m->info_hash, SHA1_LEN);
	memcpy(hs.peer_id, t->s->peer_id, 20);
	wire_encode_handshake(raw, &hs);
	(void)buf_append(peer_out(c->peer), raw, sizeof(raw));
	TAILQ_INSERT_TAIL(&t->conns, c, tentry);
	t->nconns++;
}

enum gt_err
torrent_accept(struct torrent *t, struct conn *c, const char **why)
{
	if (t->stopped) {
		*why = "torrent stopping";
		return GT_ECANCELED;
	}
	if (t->nconns >= t->o.max_peers) {
		*why = "over the torrent's connection cap";
		return GT_ERANGE;
	}
	if (is_banned(t, &c->addr, NULL)) {
		*why = "banned peer";
		return GT_EPROTO;
	}
	torrent_attach(t, c);
	return GT_OK;
}

static void
count_seen(struct torrent *t, const uint8_t *id)
{
	size_t	i;

	for (i = 0; i < t->nseen; i++)
		if (memcmp(t->seen[i], id, 20) == 0)
			return;
	if (t->nseen == TORRENT_MAX_SEEN)
		return;
	if (t->seen == NULL)
		t->seen = xcalloc(TORRENT_MAX_SEEN, sizeof(*t->seen));
	memcpy(t->seen[t->nseen++], id, 20);
}

enum gt_err
torrent_handshake(struct torrent *t, struct conn *c,
    const struct wire_handshake *hs, const char **why)
{
	struct conn	*o;
	enum gt_err	 e;

	if (memcmp(hs->info_hash, t->m->info_hash, SHA1_LEN) != 0) {
		*why = "handshake for another torrent";
		return GT_EPROTO;
	}
	if (memcmp(hs->peer_id, t->s->peer_id, 20) == 0) {
		if (c->cand != UINT32_MAX)
			t->cands[c->cand].banned = true;
		*why = "connected to ourselves";
		return GT_EPROTO;
	}
	if (is_banned(t, NULL, hs->peer_id)) {
		*why = "banned peer id";
		return GT_EPROTO;
	}
	TAILQ_FOREACH(o, &t->conns, tentry) {
		const struct wire_handshake	*ohs;

		if (o == c || o->dead || o->peer == NULL ||
		    (ohs = peer_handshake(o->peer)) == NULL)
			continue;
		if (memcmp(ohs->peer_id, hs->peer_id, 20) != 0)
			continue;
		/*
		 * Both sides dialled: both keep the connection opened by the
		 * lower peer id, so they do not drop one each.
		 */
		if (o->outbound != c->outbound && c->outbound ==
		    (memcmp(t->s->peer_id, hs->peer_id, 20) < 0)) {
			net_close(o, "duplicate: the other connection stays");
			break;
		}
		*why = "already connected to this peer";
		return GT_EEXIST;
	}
	e = peer_on_handshake(c->peer, hs, &t->have, now_ms(t));
	if (e != GT_OK) {
		*why = peer_error(c->peer);
		return e;
	}
	c->active_ms = now_ms(t);
	t->npeers++;
	count_seen(t, hs->peer_id);
	if (c->cand != UINT32_MAX)
		t->cands[c->cand].fails = 0;
	log_info("connected %s", c->name);
	return GT_OK;
}

void
torrent_detach(struct torrent *t, struct conn *c)
{
	struct cand	*k;

	(void)wq_flush(t);	/* c's receive buffer may hold blocks */
	if (c->peer != NULL) {
		peer_abandon_all(c->peer);
		picker_peer_remove(t->pk, peer_has(c->peer));
	}
	if (c->active_ms != 0)
		t->npeers--;
	TAILQ_REMOVE(&t->conns, c, tentry);
	t->nconns--;
	if (c->cand != UINT32_MAX) {
		k = &t->cands[c->cand];
		k->connected = false;
		cand_retry(t, k, c->active_ms == 0);
	}
	log_trace("%s: detached %s (%s)", t->m->name, c->name,
	    conn_state_names[c->state]);
	if (c->active_ms != 0)
		torrent_refill_soon(t);	/* snubbed peers may pick again */
	if (!t->stopped && !reactor_timer_pending(t->connect_timer))
		reactor_timer_in(t->connect_timer, TORRENT_CONNECT_TICK_MS);
}

/* The connection manager: dial candidates up to the caps. */
static void
connect_timer_cb(void *arg)
{
	struct torrent	*t = arg;
	struct conn	*c;
	struct cand	*k;
	uint64_t	 now = now_ms(t);
	uint32_t	 half = 0, room;
	size_t		 i, n;

	if (t->stopped)
		return;
	reactor_timer_in(t->connect_timer, TORRENT_CONNECT_TICK_MS);
	if (t->complete && !t->o.seed && !t->o.upload_only)
		return;
	TAILQ_FOREACH(c, &t->conns, tentry)
		if (c->outbound && c->state != CONN_ACTIVE)
			half++;
	room = t->nconns < t->o.max_peers ? t->o.max_peers - t->nconns : 0;
	n = net_nconns(t->s->net);
	room = MIN(room, n < t->s->max_peers ? t->s->max_peers - n : 0);
	room = MIN(room, half < TORRENT_MAX_HALF_OPEN ?
	    TORRENT_MAX_HALF_OPEN - half : 0);
	for (n = 0; n < t->ncands && room > 0; n++) {
		i = (t->cand_pos + n) % t->ncands;
		k = &t->cands[i];
		if (k->connected || k->banned || k->retry_at > now ||
		    (k->seed && t->complete))
			continue;
		if (!k->explicit && k->fails >= 8)
			continue;		/* given up */
		if ((c = net_connect(t->s->net, t, &k->a)) == NULL) {
			cand_retry(t, k, true);
			continue;
		}
		k->connected = true;
		c->cand = (uint32_t)i;
		torrent_attach(t, c);
		room--;
	}
	t->cand_pos = t->ncands == 0 ? 0 : (t->cand_pos + n) % t->ncands;
	if (t->npeers == 0 && !t->complete)
		session_tracker_need_peers(t->tracker);
}

void
torrent_add_peers(struct torrent *t, const struct netaddr *a, size_t n,
    bool explicit)
{
	char	name[ADDR_STRLEN];
	size_t	i, j;
	bool	added = false;

	for (i = 0; i < n; i++) {
		if (session_is_self(t->s, &a[i])) {
			log_trace("%s: skipping ourselves (%s)", t->m->name,
			    addr_str(&a[i], name));
			continue;
		}
		for (j = 0; j < t->ncands; j++)
			if (addr_eq(&t->cands[j].a, &a[i]))
				break;
		if (j < t->ncands) {
			t->cands[j].explicit |= explicit;
			if (!t->cands[j].connected && !t->cands[j].banned &&
			    t->cands[j].fails > 0 && !explicit)
				t->cands[j].retry_at = 0;	/* fresh news */
			continue;
		}
		if (t->ncands == TORRENT_MAX_CANDS)
			break;
		t->cands = xreallocarray(t->cands, t->ncands + 1,
		    sizeof(*t->cands));
		t->cands[t->ncands++] = (struct cand){
			.a = a[i], .explicit = explicit,
			.banned = is_banned(t, &a[i], NULL),
		};
		added = true;
	}
	if (added && t->started && !t->stopped)
		reactor_timer_in(t->connect_timer, 0);
}

/* ---- life cycle ---------------------------------------------------------- */

static void
torrent_fatal(struct torrent *t, enum gt_err e, const char *what)
{
	if (t->fatal)
		return;
	t->fatal = true;
	log_error("%s: %s under %s: %s", t->m->name, what, t->dir,
	    gt_strerror(e));
	if (t->ev.fatal != NULL)
		t->ev.fatal(t->ev.arg, e);
}

/* Does any of the torrent's files exist with data in it? */
static bool
any_file_exists(const struct metainfo *m, const char *dir)
{
	struct stat	 st;
	char		*path;
	size_t		 i;
	bool		 found = false;

	for (i = 0; i < m->nfiles && !found; i++) {
		if ((m->files[i].attr & MI_ATTR_PAD) || m->files[i].length == 0)
			continue;
		path = xasprintf("%s/%s", dir, m->files[i].path);
		found = fstatat(AT_FDCWD, path, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_size > 0;
		free(path);
	}
	return found;
}

/* Marks the pieces already on disk and good. */
static enum gt_err
torrent_check(struct torrent *t, char *err)
{
	struct storage_hash_opts	 ho = { .nthreads = 0 };
	uint8_t				*hashes;
	bool				*ok;
	uint32_t			 i, n = t->m->npieces, good = 0;
	enum gt_err			 e;

	hashes = xcalloc(n, SHA1_LEN);
	ok = xcalloc(n, sizeof(*ok));
	e = storage_hash_all(t->st, &ho, hashes, ok, err);
	for (i = 0; e == GT_OK && i < n; i++) {
		if (!ok[i] || memcmp(hashes + (size_t)i * SHA1_LEN,
		    metainfo_piece_hash(t->m, i), SHA1_LEN) != 0)
			continue;
		picker_have(t->pk, i);
		bitfield_set(&t->have, i);
		t->have_bytes += metainfo_piece_size(t->m, i);
		good++;
	}
	free(ok);
	free(hashes);
	if (e == GT_OK)
		log_info("%s: %u of %u pieces already here", t->m->name, good,
		    n);
	return e;
}

enum gt_err
torrent_new(struct torrent **out, struct session *s,
    const struct metainfo *m, const struct torrent_opts *o,
    const struct torrent_events *ev, char *err)
{
	struct torrent		*t;
	struct picker_opts	 po;
	uint64_t		 seed;
	size_t			 i;
	enum gt_err		 e;
	bool			 check;

	if (m->piece_length > UINT32_MAX / 2) {
		snprintf(err, GT_ERRLEN, "piece length too large");
		return GT_EUNSUP;
	}
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->r = s->r;
	t->m = m;
	t->o = *o;
	if (ev != NULL)
		t->ev = *ev;
	t->dir = xstrdup(o->dir);
	if (t->o.max_peers == 0)
		t->o.max_peers = SESSION_DEFAULT_PEERS;
	TAILQ_INIT(&t->conns);
	for (i = 0; i < m->nfiles; i++)
		if (!(m->files[i].attr & MI_ATTR_PAD))
			t->size += m->files[i].length;

	check = o->upload_only || any_file_exists(m, o->dir);
	e = storage_open_metainfo(&t->st, o->dir, m,
	    o->upload_only ? 0 : STORAGE_WRITE, err);
	if (e != GT_OK) {
		free(t->dir);
		free(t);
		return e;
	}
	rand_bytes(&seed, sizeof(seed));
	prng_seed(&t->rng, seed);
	po = (struct picker_opts){
		.rarest_first = o->rarest_first, .end_game = o->end_game,
		.random_first = TORRENT_RANDOM_FIRST,
		.seed = prng_next(&t->rng),
	};
	t->pk = picker_new(m->npieces, (uint32_t)m->piece_length,
	    metainfo_piece_size(m, m->npieces - 1), &po);
	bitfield_init(&t->have, m->npieces);
	t->pcfg = (struct peer_config){
		.npieces = m->npieces,
		.piece_length = (uint32_t)m->piece_length,
		.last_size = metainfo_piece_size(m, m->npieces - 1),
		.fast = true,
		.extended = false,
	};
	t->prog = xcalloc(m->npieces, sizeof(*t->prog));
	t->blkmap_len = (size_t)((m->piece_length + WIRE_BLOCK - 1) /
	    WIRE_BLOCK + 7) / 8;
	t->scratch = xmalloc(WIRE_MAX_REQUEST);
	t->choke_timer = reactor_timer_new(t->r, choke_timer_cb, t);
	t->connect_timer = reactor_timer_new(t->r, connect_timer_cb, t);
	t->refill_timer = reactor_timer_new(t->r, refill_cb, t);
	t->hash_timer = reactor_timer_new(t->r, hash_timer_cb, t);
	if (m->piece_length * 2 <= TORRENT_HASH_BUF)
		t->lanes = (unsigned)MIN(TORRENT_HASH_LANES,
		    TORRENT_HASH_BUF / m->piece_length);
	if (o->use_trackers)
		t->tracker = session_tracker_new(s, t, m, o->trackers,
		    o->ntrackers);
	if (check && (e = torrent_check(t, err)) != GT_OK) {
		torrent_free(t);
		return e;
	}
	t->complete = picker_complete(t->pk);
	if ((e = session_add(s, t)) != GT_OK) {
		snprintf(err, GT_ERRLEN, "torrent already in the session");
		torrent_free(t);
		return e;
	}
	*out = t;
	return GT_OK;
}

void
torrent_start(struct torrent *t)
{
	t->started = true;
	if (t->complete && !t->o.seed && !t->o.upload_only)
		return;
	session_tracker_start(t->tracker);
	reactor_timer_in(t->connect_timer, 0);
	reactor_timer_in(t->choke_timer, CHOKE_INTERVAL_MS);
}

void
torrent_stop(struct torrent *t)
{
	struct conn	*c;

	hash_run(t);		/* what is complete gets verified and kept */
	t->stopped = true;
	reactor_timer_cancel(t->connect_timer);
	reactor_timer_cancel(t->choke_timer);
	reactor_timer_cancel(t->refill_timer);
	while ((c = TAILQ_FIRST(&t->conns)) != NULL)
		net_close(c, "stopping");
}

void
torrent_free(struct torrent *t)
{
	struct prog	*pr;
	uint32_t	 i;

	if (t == NULL)
		return;
	torrent_stop(t);
	session_remove(t->s, t);
	session_tracker_free(t->tracker);
	reactor_timer_free(t->choke_timer);
	reactor_timer_free(t->connect_timer);
	reactor_timer_free(t->refill_timer);
	reactor_timer_free(t->hash_timer);
	free(t->hbuf);
	for (i = 0; i < t->m->npieces; i++)
		prog_release(t, i);
	while ((pr = t->free_prog) != NULL) {
		t->free_prog = pr->free_next;
		sha1_stream_free(pr->sha);
		free(pr->recv);
		free(pr);
	}
	free(t->prog);
	free(t->scratch);
	free(t->cands);
	free(t->bans);
	free(t->strikes);
	free(t->seen);
	bitfield_clear(&t->have);
	picker_free(t->pk);
	storage_free(t->st);
	free(t->dir);
	free(t);
}

const uint8_t *
torrent_info_hash(const struct torrent *t)
{
	return t->m->info_hash;
}

const char *
torrent_name(const struct torrent *t)
{
	return t->m->name;
}

struct session_tracker *
torrent_tracker(struct torrent *t)
{
	return t->tracker;
}

bool
torrent_complete(const struct torrent *t)
{
	return t->complete;
}

void
torrent_stats(const struct torrent *t, struct torrent_stats *ts)
{
	*ts = (struct torrent_stats){
		.size = t->size,
		.have = t->have_bytes,
		.total = t->m->total_length,
		.downloaded = t->downloaded,
		.uploaded = t->uploaded,
		.npieces = t->m->npieces,
		.have_pieces = t->have.count,
		.peers = t->npeers,
		.conns = t->nconns,
		.known = (uint32_t)t->ncands,
		.peers_ever = (uint32_t)t->nseen,
		.complete = t->complete,
	};
}
