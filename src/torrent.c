/* torrent.c - one torrent at run time: storage, picker, peers, trackers */
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announcer.h"
#include "bitfield.h"
#include "choke.h"
#include "crypto.h"
#include "dht.h"
#include "extmsg.h"
#include "log.h"
#include "metadata.h"
#include "metainfo.h"
#include "net.h"
#include "peer.h"
#include "pex.h"
#include "picker.h"
#include "reactor.h"
#include "seedlimit.h"
#include "storage.h"
#include "spread.h"
#include "superseed.h"
#include "swarm.h"
#include "torrent-int.h"
#include "torrent.h"
#include "util.h"

/*
 * Wiring: the pure modules decide (peer: the protocol of one connection;
 * picker: which blocks; swarm: whom to dial, ban, unchoke, serve;
 * announce through announcer: when to ask the trackers), net moves the
 * bytes, storage keeps them; torrent*.c connect their inputs and outputs.
 * The one timer of the swarm's rhythm is armed to swarm_deadline.
 * The serving side (seeding limits, serving, choking, super-seeding) is
 * in torrent-serve.c, the extension protocol (BEP 10: metadata, PEX) in
 * torrent-ext.c; torrent-int.h holds what the three share.
 */

#define TORRENT_RANDOM_FIRST	4
#define TORRENT_HASH_WAIT_MS	10	/* a partial batch waits this long */
#define TORRENT_PICK_BATCH	16	/* pick when 1/16 of the queue is out */
#define TORRENT_MAGNET_LEFT	16384	/* "left" before the metadata */
#define TORRENT_LATE_HAVES	65536	/* HAVEs sent once the metadata came */
#define TORRENT_ALLOWED_FAST	10	/* BEP 6 set size, at most */

_Static_assert(TORRENT_CONTRIB_MAX < 256, "pr->nc is a uint8_t");

/*
 * A piece in progress: its SHA-1 over the blocks received in order so far
 * (hs.len bytes) and who sent them; which blocks arrived, the picker knows.
 */
struct prog {
	uint32_t		 piece;
	struct sha1_lane	 hs;		/* the prefix hashed */
	struct swarm_contrib	 c[TORRENT_CONTRIB_MAX];
	uint8_t			 nc;
	bool			 many;		/* more senders than c[] */
	struct prog		*free_next;
};

static void	torrent_refill_soon(struct torrent *);
static void	torrent_rearm(struct torrent *);
static void	hash_run(struct torrent *);

/* One torrent_event to the owner, if it listens. */
static void
torrent_emit(struct torrent *t, const struct torrent_event *e)
{
	if (t->ev.event != NULL)
		t->ev.event(t->ev.arg, e);
}

/* ---- peer hooks (ctx is the tconn) --------------------------------------- */

static void
hook_have(void *ctx, struct peer *p, uint32_t piece)
{
	struct tconn	*tc = ctx;

	(void)p;
	picker_peer_have(tc->t->pk, piece);
	if (tc->ss) {
		superseed_peer_have(tc->t->ss, tc->seq, piece, now_ms(tc->t));
		tc->t->ss_news = true;
	}
}

static void
hook_bitfield(void *ctx, struct peer *p, const struct bitfield *b)
{
	struct tconn	*tc = ctx;

	(void)p;
	picker_peer_add(tc->t->pk, b);
	if (tc->ss) {
		superseed_peer_bitfield(tc->t->ss, tc->seq, b, now_ms(tc->t));
		tc->t->ss_news = true;
	}
}

/* Is another peer unchoking us, wanted, not snubbed nor stalled? */
static bool
other_sender(const struct torrent *t, const struct tconn *self)
{
	const struct tconn	*tc;

	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (tc != self && tc_live(tc) && !peer_is_choking(tc->p) &&
		    peer_am_interested(tc->p) && !peer_is_snubbed(tc->p) &&
		    !peer_is_stalled(tc->p))
			return true;
	}
	return false;
}

/*
 * BEP 6 in picking: while the peer chokes us, only its allowed-fast pieces
 * (peer_pick_set).  While it unchokes us, the pieces it suggested first
 * while the picker would choose at random anyway (our first
 * TORRENT_RANDOM_FIRST pieces, or in-order picking); past that, only
 * those that are among the rarest (picker_rarest), so that rarest first
 * still holds: a seed that suggests what it just served to one peer would
 * otherwise have every other peer fetch that same piece from it
 * (libtorrent leaves such suggestions off by default for that reason),
 * while one that suggests the pieces nobody has (spread.h) has each
 * leecher fetch different ones.  Never in the end game, so that the second
 * pass cannot return a block the first took (every block picked counts as
 * requested).
 */
static size_t
pick_fast(struct torrent *t, struct peer *p, const struct block_req *busy,
    size_t nbusy, struct block_req *out, size_t max)
{
	const struct bitfield	*sug;
	const uint32_t		*list;
	size_t			 n = 0, k, i, nrare = 0;
	uint32_t		 rare;

	if (picker_in_end_game(t->pk) || (sug = peer_suggested(p)) == NULL)
		;
	else if (!t->o.rarest_first ||
	    picker_npieces_have(t->pk) < TORRENT_RANDOM_FIRST)
		n = picker_next(t->pk, sug, busy, nbusy, out, max);
	else if ((rare = picker_rarest(t->pk)) != 0) {
		if (t->sug_rare.bits == NULL)
			bitfield_init(&t->sug_rare, t->pcfg.npieces);
		list = peer_suggestions(p, &k);
		for (i = 0; i < k; i++) {
			if (bitfield_get(sug, list[i]) &&
			    picker_availability(t->pk, list[i]) <= rare &&
			    bitfield_set(&t->sug_rare, list[i]))
				nrare++;
		}
		if (nrare > 0) {
			n = picker_next(t->pk, &t->sug_rare, busy, nbusy, out,
			    max);
			for (i = 0; i < k; i++)
				bitfield_unset(&t->sug_rare, list[i]);
		}
	}
	if (n < max)
		n += picker_next(t->pk, peer_pick_set(p), busy, nbusy,
		    out + n, max - n);
	/* Only pieces it refused us are left: ask again rather than idle. */
	if (n == 0 && nbusy == 0 && !peer_is_choking(p))
		n = picker_next(t->pk, peer_has(p), busy, nbusy, out, max);
	return n;
}

static size_t
hook_pick(void *ctx, struct peer *p, const struct block_req *busy,
    size_t nbusy, struct block_req *out, size_t max)
{
	struct tconn	*tc = ctx;
	struct torrent	*t = tc->t;

	if (t->stopped || t->fatal || t->o.upload_only)
		return 0;
	/*
	 * peer.c tops the pipeline up after every block; asking the picker
	 * for one block at a time costs a pass over the pieces in progress
	 * each.  Wait until a sixteenth of the pipeline is missing instead.
	 */
	if (max < (nbusy + max) / TORRENT_PICK_BATCH)
		return 0;
	/*
	 * A stalled peer (a request timed out) or a snubbed one (no block
	 * for PEER_SNUB_MS, with anti-snubbing) would take the blocks it just
	 * gave back again: leave them to the others unless it is the end game
	 * or nobody else is sending.
	 */
	if ((peer_is_stalled(p) || peer_is_snubbed(p)) &&
	    !picker_in_end_game(t->pk) && other_sender(t, tc))
		return 0;
	return pick_fast(t, p, busy, nbusy, out, max);
}

static void
hook_abandon(void *ctx, struct peer *p, const struct block_req *r)
{
	struct tconn	*tc = ctx;

	(void)p;
	picker_abandon(tc->t->pk, r);
	torrent_refill_soon(tc->t);
}

static bool
hook_has_piece(void *ctx, uint32_t piece)
{
	struct tconn	*tc = ctx;

	return bitfield_get(&tc->t->have, piece);
}

static bool
hook_wants(void *ctx, const struct bitfield *b)
{
	struct tconn	*tc = ctx;

	return !tc->t->o.upload_only && !tc->t->complete &&
	    picker_interesting(tc->t->pk, b);
}

static enum gt_err	hook_block(void *, struct peer *,
			    const struct block_req *, const uint8_t *);
static void		hook_port(void *, struct peer *, uint16_t);

static const struct peer_hooks torrent_peer_hooks = {
	.have = hook_have,
	.bitfield = hook_bitfield,
	.pick = hook_pick,
	.abandon = hook_abandon,
	.block = hook_block,
	.has_piece = hook_has_piece,
	.wants = hook_wants,
	.request = NULL,	/* served from the peer's queue: tc_writable */
	.extended = torrent_hook_extended,
	.port = hook_port,
};

/* ---- pieces in progress -------------------------------------------------- */

/*
 * Pieces in progress are few (those the picker has in flight): an open
 * addressing table by piece, not a pointer per piece of the torrent (16
 * MiB for 2^21 pieces).  Linear probing, backward-shift deletion.
 */
static size_t
prog_slot(const struct torrent *t, uint32_t piece)
{
	return (size_t)((piece * 2654435761u) & t->pmask);
}

static struct prog *
prog_find(const struct torrent *t, uint32_t piece)
{
	struct prog	*pr;
	size_t		 i;

	for (i = prog_slot(t, piece); (pr = t->ptab[i]) != NULL;
	    i = (i + 1) & t->pmask)
		if (pr->piece == piece)
			return pr;
	return NULL;
}

static void
prog_insert(struct torrent *t, struct prog *pr)
{
	size_t	i;

	for (i = prog_slot(t, pr->piece); t->ptab[i] != NULL;
	    i = (i + 1) & t->pmask)
		;
	t->ptab[i] = pr;
	t->pcount++;
}

static void
prog_grow(struct torrent *t)
{
	struct prog	**old = t->ptab;
	size_t		  i, n = (size_t)t->pmask + 1;

	t->pmask = (uint32_t)(2 * n - 1);
	t->ptab = xcalloc(2 * n, sizeof(*t->ptab));
	t->pcount = 0;
	for (i = 0; i < n; i++)
		if (old[i] != NULL)
			prog_insert(t, old[i]);
	free(old);
}

static struct prog *
prog_get(struct torrent *t, uint32_t piece)
{
	struct prog	*pr;

	if ((pr = prog_find(t, piece)) != NULL)
		return pr;
	if ((pr = t->free_prog) != NULL)
		t->free_prog = pr->free_next;
	else {
		pr = xcalloc(1, sizeof(*pr));
		sha1_lane_init(&pr->hs);
	}
	pr->piece = piece;
	/* blocks from the resume record: not all senders are known */
	pr->many = piece < t->rs_partial.n &&
	    bitfield_get(&t->rs_partial, piece);
	if (2 * (t->pcount + 1) > (size_t)t->pmask + 1)
		prog_grow(t);
	prog_insert(t, pr);
	return pr;
}

static void
prog_release(struct torrent *t, uint32_t piece)
{
	struct prog	*pr;
	size_t		 i, j, k;

	for (i = prog_slot(t, piece); (pr = t->ptab[i]) != NULL;
	    i = (i + 1) & t->pmask)
		if (pr->piece == piece)
			break;
	if (pr == NULL)
		return;
	/* close the gap: move up entries whose probe passed through i */
	t->ptab[i] = NULL;
	t->pcount--;
	for (j = (i + 1) & t->pmask; t->ptab[j] != NULL;
	    j = (j + 1) & t->pmask) {
		k = prog_slot(t, t->ptab[j]->piece);
		if (((j - k) & t->pmask) >= ((j - i) & t->pmask)) {
			t->ptab[i] = t->ptab[j];
			t->ptab[j] = NULL;
			i = j;
		}
	}
	sha1_lane_init(&pr->hs);
	pr->nc = 0;
	pr->many = false;
	pr->free_next = t->free_prog;
	t->free_prog = pr;
}

static void
prog_contrib(struct prog *pr, const struct tconn *tc)
{
	const struct wire_handshake	*hs = peer_handshake(tc->p);
	const struct netaddr		*a = net_conn_addr(tc->c);
	size_t				 i;

	for (i = 0; i < pr->nc; i++)
		if (addr_eq(&pr->c[i].a, a))
			return;
	if (pr->nc == TORRENT_CONTRIB_MAX) {
		pr->many = true;
		return;
	}
	memset(&pr->c[pr->nc], 0, sizeof(pr->c[pr->nc]));
	pr->c[pr->nc].a = *a;
	if (hs != NULL)
		memcpy(pr->c[pr->nc].id, hs->peer_id, 20);
	pr->nc++;
}

/* ---- writing and hashing ------------------------------------------------- */

/* A piece's blocks in a write batch that extend its hashed prefix. */
struct wq_lane {
	struct prog	*pr;
	size_t		 i, end;	/* the blocks: wq[i .. end) */
	size_t		 off;		/* bytes of wq[i] hashed */
};

/*
 * Hashes the blocks of q[0 .. n) (sorted by offset) that extend their
 * piece's hashed prefix, straight from the receive buffers they are still
 * pinned in: a lane per piece, the lanes side by side in the multi-lane
 * kernel, so that such pieces are never read back.  That pays only when
 * the batch holds blocks of t->hash_width pieces at least: below that
 * width the kernels cost more a byte than the page-cache copy saved (on
 * the CPU this was measured on, one SHA-NI lane runs at 1.8 GB/s, sixteen
 * AVX-512 lanes at 6.4 GB/s and the copy at 12 GB/s), and a seeder that
 * serves its pieces one after another (libtorrent does, whatever the
 * order of the requests) gives one or two pieces a batch.  Then the pieces
 * are left to hash_run, which reads them back t->hash_width at a time.
 * A block that came before the one it follows is never hashed here, nor
 * a last block's tail short of 64 bytes.
 */
static void
wq_hash(struct torrent *t, const struct wq_block *q, size_t n)
{
	struct wq_lane		 ln[TORRENT_WQ_MAX];
	struct sha1_lane	*ls[TORRENT_WQ_MAX];
	const uint8_t		*ps[TORRENT_WQ_MAX];
	uint64_t		 pl = t->m->piece_length;
	uint32_t		 piece, whole;
	struct prog		*pr;
	size_t			 i, j, k, nl = 0, step;

	for (i = 0; i < n; i = j) {
		piece = (uint32_t)(q[i].off / pl);
		for (j = i + 1; j < n && q[j].off / pl == piece; j++)
			continue;
		pr = prog_find(t, piece);
		if (pr == NULL || q[i].off - piece * pl != pr->hs.len)
			continue;
		for (k = i + 1; k < j && q[k].off == q[k - 1].off +
		    q[k - 1].len && q[k - 1].len % 64 == 0; k++)
			continue;
		ln[nl++] = (struct wq_lane){ .pr = pr, .i = i, .end = k };
	}
	/* Fewer lanes cost more a byte than a batch read back (hash_run). */
	if (nl < t->hash_width)
		return;
	while (nl > 0) {
		step = SIZE_MAX;
		for (k = 0; k < nl; k++)
			step = MIN(step, (q[ln[k].i].len & ~63u) - ln[k].off);
		for (k = 0; k < nl && step > 0; k++) {
			ls[k] = &ln[k].pr->hs;
			ps[k] = q[ln[k].i].data + ln[k].off;
		}
		sha1_lanes_update(ls, ps, nl, step);
		for (k = j = 0; k < nl; k++) {
			ln[k].off += step;
			whole = q[ln[k].i].len & ~63u;
			if (ln[k].off == whole) {
				if (whole < q[ln[k].i].len)
					continue;	/* a tail: ends */
				ln[k].off = 0;
				if (++ln[k].i == ln[k].end)
					continue;
			}
			ln[j++] = ln[k];
		}
		nl = j;
	}
}

/*
 * Blocks are written straight from the receive buffer they were decoded
 * in, a batch of input at a time: in the after_input hook (net calls it
 * before it reads into that buffer again, and asserts that nothing is
 * pinned then), when a connection closes, and before anything reads the
 * storage back.  Blocks that follow one another in the torrent go out in
 * one gathered write: a pwritev per run instead of a pwrite per block, and
 * bigger page-cache folios for the kernel to fill.
 */
enum gt_err
torrent_wq_flush(struct torrent *t)
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
	wq_hash(t, q, n);
	for (i = 0; i < n && e == GT_OK; i = j) {
		for (j = i; j < n && (j == i ||
		    q[j].off == q[j - 1].off + q[j - 1].len); j++)
			iov[j - i] = (struct iovec){
				.iov_base = (void *)(uintptr_t)q[j].data,
				.iov_len = q[j].len,
			};
		e = storage_writev_at(t->st, q[i].off, iov, j - i);
	}
	for (i = 0; i < n; i++)
		net_unpin(q[i].tc->c);
	if (e != GT_OK)
		torrent_fatal(t, e, "cannot write a block");
	return e;
}

uint32_t
torrent_prog_piece(const struct prog *pr)
{
	return pr->piece;
}

/* data stays where it is (pinned) until the next torrent_wq_flush. */
static enum gt_err
wq_add(struct torrent *t, struct tconn *tc, const struct block_req *r,
    const uint8_t *data)
{
	enum gt_err	e;

	if (t->nwq == TORRENT_WQ_MAX && (e = torrent_wq_flush(t)) != GT_OK)
		return e;
	net_pin(tc->c);
	t->wq[t->nwq++] = (struct wq_block){
		.off = (uint64_t)r->piece * t->m->piece_length + r->offset,
		.data = data,
		.len = r->length,
		.tc = tc,
	};
	return GT_OK;
}

/* ---- the DHT (BEP 5) ----------------------------------------------------- */

/* The DHT is off for private torrents (BEP 27) and with --no-dht. */
static bool
dht_on(const struct torrent *t)
{
	return t->h.dht != NULL && t->o.dht && (t->m == NULL ||
	    !t->m->private);
}

static void
dht_changed(struct torrent *t)
{
	if (t->h.dht_changed != NULL)
		t->h.dht_changed(t->h.arg);
}

/*
 * Starts (or restarts with new options) the search for our peers, which
 * then repeats: an announce too when we listen (implied_port when the DHT
 * shares the listen port: behind a NAT, the mapping the datagrams show is
 * the one to reach), as a seed once complete.
 */
static void
dht_start(struct torrent *t)
{
	struct dht_search_opts	so = {
		.announce = t->h.port != 0,
		.port = t->h.port == t->h.dht_port ? 0 : t->h.port,
		.seed = t->pk != NULL && picker_complete(t->pk),
		.repeat = true,
	};
	enum gt_err		e;

	if (!dht_on(t) || t->stopped || t->paused)
		return;
	e = dht_search(t->h.dht, t->info_hash, &so, now_ms(t));
	if (e != GT_OK)
		log_warn("%s: no DHT search: %s", t->name, gt_strerror(e));
	else
		log_debug("%s: DHT search%s%s", t->name, so.announce ?
		    ", announcing" : "", so.seed ? " as a seed" : "");
	t->dht_search = e == GT_OK;
	dht_changed(t);
}

static void
dht_stop(struct torrent *t)
{
	if (!t->dht_search)
		return;
	t->dht_search = false;
	dht_search_stop(t->h.dht, t->info_hash);
	dht_changed(t);
}

void
torrent_dht_peers(struct torrent *t, const struct netaddr *a, size_t n)
{
	if (!t->dht_search)
		return;		/* late, or a private torrent's */
	t->dht_peers += (uint32_t)torrent_add_peers_from(t, a, n,
	    SWARM_SRC_DHT);
}

/* A peer's PORT message: its DHT node may exist; ask it (once). */
static void
hook_port(void *ctx, struct peer *p, uint16_t port)
{
	struct tconn	*tc = ctx;
	struct torrent	*t = tc->t;
	struct netaddr	 a;

	(void)p;
	if (!dht_on(t) || tc->pinged)
		return;
	tc->pinged = true;
	a = *net_conn_addr(tc->c);
	a.port = port;
	if (addr_is_dialable(&a) && dht_ping(t->h.dht, &a, now_ms(t))) {
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "PORT %u: its DHT "
		    "node pinged", port);
		dht_changed(t);
	}
}

/* ---- piece completion ---------------------------------------------------- */

/* Drops every connection to k (by address or peer id). */
static void
drop_banned(struct torrent *t, const struct swarm_contrib *k)
{
	struct tconn	*tc, *next;

	for (tc = TAILQ_FIRST(&t->conns); tc != NULL; tc = next) {
		const struct wire_handshake	*hs = peer_handshake(tc->p);

		next = TAILQ_NEXT(tc, entry);
		if (addr_eq(net_conn_addr(tc->c), &k->a) || (hs != NULL &&
		    memcmp(hs->peer_id, k->id, 20) == 0))
			net_close(tc->c, "banned: corrupt data");
	}
}

static void
torrent_completed(struct torrent *t)
{
	struct tconn	*tc, *next;
	char		 err[GT_ERRLEN];

	t->complete = true;
	log_info("%s: download complete", t->name);
	if (storage_sync(t->st) != GT_OK)
		log_warn("%s: cannot sync the files under %s", t->name,
		    t->dir);
	if (!t->o.upload_only && storage_make_symlinks(t->st, err) != GT_OK)
		log_warn("%s", err);
	announcer_completed(t->an);
	if (t->dht_search)
		dht_start(t);		/* announced as a seed from now on */
	for (tc = TAILQ_FIRST(&t->conns); tc != NULL; tc = next) {
		next = TAILQ_NEXT(tc, entry);
		if (tc_live(tc) && peer_is_seed(tc->p))
			net_close(tc->c, "we are both seeds");
	}
	if (t->ev.complete != NULL)
		t->ev.complete(t->ev.arg);
	if (t->started)
		torrent_seed_begin(t);
}

static void
piece_passed(struct torrent *t, uint32_t piece)
{
	struct tconn	*tc;
	uint64_t	 now = now_ms(t);

	picker_piece_passed(t->pk, piece);
	torrent_have_piece(t, piece);
	prog_release(t, piece);
	torrent_emit(t, &(struct torrent_event){
		.kind = TORRENT_EV_PIECE_OK, .piece = piece,
	});
	torrent_resume_touch(t);
	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (!tc_live(tc))
			continue;
		peer_announce_have(tc->p, piece, now);
		net_flush_soon(tc->c);
	}
	if (!t->complete && picker_wanted_complete(t->pk))
		torrent_completed(t);
}

static void
piece_failed(struct torrent *t, uint32_t piece, struct prog *pr)
{
	struct swarm_contrib	k[TORRENT_CONTRIB_MAX];
	struct swarm_contrib	banned[TORRENT_CONTRIB_MAX];
	struct netaddr		ca[TORRENT_CONTRIB_MAX];
	char			who[TORRENT_CONTRIB_MAX * (ADDR_STRLEN + 2) +
				    8];
	char			name[ADDR_STRLEN];
	size_t			i, nk = pr->nc, nb, off = 0;
	bool			many = pr->many;

	memcpy(k, pr->c, sizeof(k));
	who[0] = '\0';
	for (i = 0; i < nk; i++)
		off += (size_t)snprintf(who + off, sizeof(who) - off, "%s%s",
		    i > 0 ? ", " : "", addr_str(&k[i].a, name));
	if (many)
		snprintf(who + off, sizeof(who) - off, ", ...");
	log_info("piece %u failed hash check (peers: %s)", piece, who);
	if (t->ev.event != NULL) {
		for (i = 0; i < nk; i++)
			ca[i] = k[i].a;
		torrent_emit(t, &(struct torrent_event){
			.kind = TORRENT_EV_PIECE_BAD, .piece = piece,
			.contrib = ca, .ncontrib = nk, .more = many,
		});
	}
	picker_piece_failed(t->pk, piece);
	prog_release(t, piece);
	nb = swarm_on_piece_failed(t->sw, k, nk, many, banned);
	for (i = 0; i < nb; i++) {
		log_info("banned peer %s: %s %u", addr_str(&banned[i].a, name),
		    nk == 1 && !many ? "sent a corrupt piece" :
		    "shared in corrupt pieces, the last", piece);
		drop_banned(t, &banned[i]);
	}
	torrent_refill_soon(t);
}

static void
piece_verdict(struct torrent *t, uint32_t piece, const uint8_t *digest)
{
	if (memcmp(digest, metainfo_piece_hash(t->m, piece), SHA1_LEN) == 0)
		piece_passed(t, piece);
	else
		piece_failed(t, piece, prog_get(t, piece));
}

/*
 * Finishes the piece's SHA-1: what its lane has not hashed (all of it,
 * blocks that came out of order, a short tail, or blocks from the resume
 * record) is read back from storage.
 */
static enum gt_err
prog_finish(struct torrent *t, struct prog *pr, uint8_t digest[SHA1_LEN])
{
	struct sha1_lane	*lp = &pr->hs;
	const uint8_t		*p = t->scratch;
	uint32_t		 size = metainfo_piece_size(t->m, pr->piece);
	uint32_t		 at = (uint32_t)pr->hs.len, len;
	enum gt_err		 e;

	for (;;) {
		len = MIN(WIRE_MAX_REQUEST, size - at);
		if (len > 0 && (e = storage_read(t->st, pr->piece, at,
		    t->scratch, len)) != GT_OK)
			return e;
		if (at + len == size)
			break;
		sha1_lanes_update(&lp, &p, 1, len);
		at += len;
	}
	sha1_lane_final(&pr->hs, t->scratch, len, digest);
	return GT_OK;
}

/*
 * prog_finish for n whole pieces of the torrent's piece length that no
 * lane has started (n <= SHA1_LANES_MAX), side by side: hashed where the
 * page cache holds them (storage_hash_mapped, no copy), else read back a
 * chunk of each at a time and hashed in lanes; digest[k] receives
 * prs[k]'s.  With 256 KiB pieces, one GiB (the leecher of `make bench`):
 * the read-back copy was 12% of the leecher's CPU.
 */
static enum gt_err
prog_finish_many(struct torrent *t, struct prog **prs, size_t n,
    uint8_t *const *digest)
{
	struct sha1_lane	*ls[SHA1_LANES_MAX];
	const uint8_t		*ps[SHA1_LANES_MAX];
	uint8_t			 dg[SHA1_LANES_MAX][SHA1_LEN];
	uint32_t		 size = (uint32_t)t->m->piece_length;
	uint32_t		 at, len, whole, pieces[SHA1_LANES_MAX] = { 0 };
	size_t			 k;
	enum gt_err		 e;

	for (k = 0; k < n; k++) {
		assert(prs[k]->hs.len == 0);
		pieces[k] = prs[k]->piece;
	}
	if (storage_hash_mapped(t->st, pieces, n, dg)) {
		for (k = 0; k < n; k++)
			memcpy(digest[k], dg[k], SHA1_LEN);
		return GT_OK;
	}
	for (k = 0; k < n; k++) {
		ls[k] = &prs[k]->hs;
		ps[k] = t->hbuf + k * TORRENT_HASH_CHUNK;
	}
	for (at = 0; at < size; at += len) {
		len = MIN(TORRENT_HASH_CHUNK, size - at);
		for (k = 0; k < n; k++)
			if ((e = storage_read(t->st, prs[k]->piece, at,
			    t->hbuf + k * TORRENT_HASH_CHUNK, len)) != GT_OK)
				return e;
		whole = len & ~63u;
		sha1_lanes_update(ls, ps, n, whole);
		if (at + len == size)
			for (k = 0; k < n; k++)
				sha1_lane_final(ls[k], ps[k] + whole,
				    len - whole, digest[k]);
	}
	return GT_OK;
}

/*
 * The verdicts on the pieces whose last block came (t->hq), once the
 * write batch is hashed (wq_hash): the pieces no lane has started are read
 * back and hashed t->hash_width at a time, the others finished alone.
 */
static void
hash_run(struct torrent *t)
{
	struct prog	*pr, *grp[SHA1_LANES_MAX];
	uint32_t	 pieces[TORRENT_HQ_MAX];
	uint8_t		 digest[TORRENT_HQ_MAX][SHA1_LEN];
	uint8_t		*gd[SHA1_LANES_MAX];
	size_t		 i, ng = 0, n = t->nhq;
	enum gt_err	 e = GT_OK;

	reactor_timer_cancel(t->hash_timer);
	if (n == 0 || t->fatal)
		return;
	if (torrent_wq_flush(t) != GT_OK)
		return;
	memcpy(pieces, t->hq, n * sizeof(*pieces));
	t->nhq = 0;
	if (t->hbuf == NULL)	/* no session's: its own, as large */
		t->hbuf = t->own_hbuf = xmalloc(TORRENT_HASH_BUF);
	for (i = 0; i < n && e == GT_OK; i++) {
		pr = prog_get(t, pieces[i]);
		if (pr->hs.len != 0 || metainfo_piece_size(t->m, pieces[i]) !=
		    t->m->piece_length) {
			e = prog_finish(t, pr, digest[i]);
			continue;
		}
		grp[ng] = pr;
		gd[ng++] = digest[i];
		if (ng == SHA1_LANES_MAX) {
			e = prog_finish_many(t, grp, ng, gd);
			ng = 0;
		}
	}
	if (e == GT_OK && ng > 0)
		e = prog_finish_many(t, grp, ng, gd);
	if (e != GT_OK) {
		torrent_fatal(t, e, "cannot read back a piece");
		return;
	}
	for (i = 0; i < n && !t->fatal; i++)
		piece_verdict(t, pieces[i], digest[i]);
}

static void
hash_timer_cb(void *arg)
{
	hash_run(arg);
}

/* Are the pieces waiting all hashed, with nothing to read back? */
static bool
hash_ready(struct torrent *t)
{
	struct prog	*pr;
	size_t		 i;

	for (i = 0; i < t->nhq; i++)
		if ((pr = prog_find(t, t->hq[i])) == NULL || pr->hs.len !=
		    metainfo_piece_size(t->m, t->hq[i]))
			return false;
	return t->nhq > 0;
}

/*
 * A piece's last block came: its verdict waits for the write batch to be
 * hashed, and for t->hash_width pieces to read back together, or at most
 * TORRENT_HASH_WAIT_MS; not at all once every wanted piece is here or
 * waiting (the end of the download: no more are coming).
 */
static void
hash_queue(struct torrent *t, uint32_t piece)
{
	if (t->nhq == TORRENT_HQ_MAX)
		hash_run(t);
	t->hq[t->nhq++] = piece;
	if (t->nhq >= t->hash_width || t->nhq >= picker_npieces_missing(t->pk))
		hash_run(t);
	else if (!reactor_timer_pending(t->hash_timer))
		reactor_timer_in(t->hash_timer, TORRENT_HASH_WAIT_MS);
}

/* End-game: others asked for the block that just came; cancel theirs. */
static void
cancel_others(struct torrent *t, struct tconn *self,
    const struct block_req *r)
{
	struct tconn	*tc;
	size_t		 n0;

	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (tc == self || !tc_live(tc))
			continue;
		n0 = peer_queue_len(tc->p);
		peer_cancel_block(tc->p, r);
		if (peer_queue_len(tc->p) < n0) {
			picker_abandon(t->pk, r);
			net_flush_soon(tc->c);
		}
		if (picker_requesters(t->pk, r) == 0)
			break;
	}
}

static enum gt_err
hook_block(void *ctx, struct peer *p, const struct block_req *r,
    const uint8_t *data)
{
	struct tconn	*tc = ctx;
	struct torrent	*t = tc->t;
	struct prog	*pr;
	bool		 done;

	(void)p;
	t->downloaded += r->length;
	if (t->fatal)
		return GT_OK;
	if (!picker_received(t->pk, r, &done)) {
		t->wasted += r->length;		/* a duplicate */
		return GT_OK;
	}
	if (wq_add(t, tc, r, data) != GT_OK)
		return GT_OK;			/* fatal now */
	torrent_resume_touch(t);
	pr = prog_get(t, r->piece);
	prog_contrib(pr, tc);
	if (picker_requesters(t->pk, r) > 0)
		cancel_others(t, tc, r);
	if (done)
		hash_queue(t, r->piece);
	return GT_OK;
}

/* ---- connection hooks (ctx is the tconn) --------------------------------- */

/*
 * BEP 6: the peer's allowed-fast set, from its address (v4-mapped taken as
 * IPv4) and the info-hash: TORRENT_ALLOWED_FAST pieces, fewer below 100
 * pieces (a tenth of the torrent at most), none below 10; none for a
 * super-seeded peer.
 */
static void
fast_offer(struct torrent *t, struct tconn *tc)
{
	struct netaddr	a = *net_conn_addr(tc->c);
	uint32_t	set[TORRENT_ALLOWED_FAST];
	size_t		n, k;

	if (t->m == NULL || t->pk == NULL || tc->ss)
		return;			/* super-seeding hides our pieces */
	k = MIN(TORRENT_ALLOWED_FAST, t->m->npieces / 10);
	addr_unmap(&a);
	n = wire_allowed_fast_set(a.ip, a.family == ADDR_V4 ? 4 : 16,
	    t->info_hash, t->m->npieces, k, set);
	peer_set_allowed_fast(tc->p, set, n, now_ms(t));
}

static void
tc_after_input(void *ctx)
{
	struct tconn	*tc = ctx;
	struct torrent	*t = tc->t;

	if (torrent_wq_flush(t) != GT_OK)
		return;
	if (hash_ready(t))
		hash_run(t);
	if (!tc_live(tc))
		return;
	if ((t->complete || t->o.upload_only) && peer_is_seed(tc->p)) {
		swarm_on_seed(t->sw, tc->cand);
		net_close(tc->c, "we are both seeds");
		return;
	}
	if (peer_is_interested(tc->p) && peer_am_choking(tc->p) &&
	    !t->stopped && t->pk != NULL)
		torrent_unchoke_newcomer(t, tc);
	torrent_spread_top(t, tc, now_ms(t));
	if (t->ss != NULL && (t->ss_news || superseed_deadline(t->ss) <=
	    now_ms(t)))
		torrent_ss_reveal(t);
}

static void
tc_writable(void *ctx)
{
	struct tconn	*tc = ctx;
	uint64_t	 up0;

	if (!tc_live(tc))
		return;
	up0 = tc->t->uploaded;
	torrent_serve(tc->t, tc);
	if (tc->t->uploaded != up0)
		torrent_seed_on_upload(tc->t);
}

static enum gt_err
tc_handshake(void *ctx, const struct wire_handshake *hs, const char **why)
{
	struct tconn	*tc = ctx, *o;
	struct torrent	*t = tc->t;
	enum gt_err	 e;

	if (memcmp(hs->info_hash, t->info_hash, SHA1_LEN) != 0) {
		*why = "handshake for another torrent";
		return GT_EPROTO;
	}
	if (memcmp(hs->peer_id, t->h.peer_id, 20) == 0) {
		swarm_on_self(t->sw, tc->cand);
		*why = "connected to ourselves";
		return GT_EPROTO;
	}
	if (swarm_is_banned(t->sw, NULL, hs->peer_id)) {
		*why = "banned peer id";
		return GT_EPROTO;
	}
	TAILQ_FOREACH(o, &t->conns, entry) {
		const struct wire_handshake	*ohs;

		if (o == tc || (ohs = peer_handshake(o->p)) == NULL ||
		    memcmp(ohs->peer_id, hs->peer_id, 20) != 0)
			continue;
		if (swarm_keep_new(t->h.peer_id, hs->peer_id,
		    net_conn_outbound(tc->c), net_conn_outbound(o->c))) {
			net_close(o->c,
			    "duplicate: the other connection stays");
			break;
		}
		*why = "already connected to this peer";
		return GT_EEXIST;
	}
	if (torrent_ss_applies(t))
		torrent_ss_join(t, tc);
	e = peer_on_handshake(tc->p, hs, tc->ss ? &t->ss_none : &t->have,
	    now_ms(t));
	if (e != GT_OK) {
		*why = peer_error(tc->p);
		return e;
	}
	fast_offer(t, tc);
	tc->active_ms = now_ms(t);
	t->npeers++;
	swarm_on_handshake(t->sw, hs->peer_id);
	swarm_on_connected(t->sw, tc->cand);
	log_info("connected %s", net_conn_name(tc->c));
	torrent_emit(t, &(struct torrent_event){
		.kind = TORRENT_EV_PEER_UP, .addr = net_conn_addr(tc->c),
		.incoming = !net_conn_outbound(tc->c), .peer_id = hs->peer_id,
	});
	torrent_ext_send_handshake(t, tc);
	if (dht_on(t) && (hs->reserved[7] & WIRE_RSV_DHT) &&
	    t->h.dht_port != 0) {
		(void)peer_send_port(tc->p, t->h.dht_port);
		net_flush_soon(tc->c);
	}
	return GT_OK;
}

static void
tconn_free(void *arg)
{
	struct tconn	*tc = arg;

	pex_free(tc->pex);
	free(tc);
}

/* A dial of candidate id failed: said once for a given one (--peer, x.pe=). */
static void
torrent_dial_failed(struct torrent *t, uint32_t id, const char *name, int err)
{
	if (swarm_warn_once(t->sw, id))
		log_warn("%s: given peer %s: %s (tried again later)", t->name,
		    name, strerror(err));
}

/* The connection closed: forget it (net frees its half later). */
static void
tc_closed(void *ctx)
{
	struct tconn			*tc = ctx;
	struct torrent			*t = tc->t;
	const struct wire_handshake	*hs;

	(void)torrent_wq_flush(t);	/* tc's receive buffer may hold blocks */
	peer_abandon_all(tc->p);
	if (t->pk != NULL)
		picker_peer_remove(t->pk, peer_has(tc->p));
	if (tc->ss) {
		superseed_peer_remove(t->ss, tc->seq, peer_has(tc->p));
		torrent_ss_rearm(t);	/* a peer left alone may be due */
	}
	if (tc->md_peer && t->md != NULL) {
		metadata_peer_remove(t->md, tc->seq);
		tc->md_peer = false;
	}
	if (tc->active_ms != 0)
		t->npeers--;
	if (tc->active_ms != 0 && t->ev.event != NULL) {
		hs = peer_handshake(tc->p);
		torrent_emit(t, &(struct torrent_event){
			.kind = TORRENT_EV_PEER_DOWN,
			.addr = net_conn_addr(tc->c),
			.incoming = !net_conn_outbound(tc->c),
			.peer_id = hs != NULL ? hs->peer_id : NULL,
			.reason = net_conn_why(tc->c),
		});
	}
	TAILQ_REMOVE(&t->conns, tc, entry);
	t->nconns--;
	if (tc->cand != UINT32_MAX && net_conn_connect_error(tc->c) != 0)
		torrent_dial_failed(t, tc->cand, net_conn_name(tc->c),
		    net_conn_connect_error(tc->c));
	if (tc->cand != UINT32_MAX)
		swarm_on_closed(t->sw, tc->cand, tc->active_ms != 0,
		    now_ms(t));
	log_trace("%s: detached %s", t->name, net_conn_name(tc->c));
	if (tc->active_ms != 0)
		torrent_refill_soon(t);	/* snubbed peers may pick again */
	if (!t->stopped) {
		swarm_dial_soon(t->sw, now_ms(t) + SWARM_TICK_MS);
		torrent_rearm(t);
		if (t->md != NULL)
			torrent_md_fill_all(t);	/* its pieces go to others */
	}
	tc->c = NULL;
	tc->p = NULL;
	reactor_defer_free(t->r, tconn_free, tc);
}

static const struct conn_hooks torrent_conn_hooks = {
	.handshake = tc_handshake,
	.after_input = tc_after_input,
	.writable = tc_writable,
	.payload = torrent_payload,
	.closed = tc_closed,
};

/* Takes c: a peer with our handshake queued, and a tconn. */
static struct tconn *
torrent_attach(struct torrent *t, struct conn *c, uint32_t cand)
{
	struct wire_handshake	 hs;
	struct tconn		*tc;
	uint8_t			 raw[WIRE_HANDSHAKE_LEN];

	tc = xcalloc(1, sizeof(*tc));
	tc->t = t;
	tc->c = c;
	tc->cand = cand;
	tc->seq = t->next_seq++;
	tc->sp.id = tc->seq + 1;
	tc->p = peer_new(&t->pcfg, &torrent_peer_hooks, tc, now_ms(t));
	peer_set_addr(tc->p, net_conn_name(c));
	memset(&hs, 0, sizeof(hs));
	hs.reserved[5] = WIRE_RSV_EXTENDED;
	hs.reserved[7] = WIRE_RSV_FAST | (dht_on(t) ? WIRE_RSV_DHT : 0);
	memcpy(hs.info_hash, t->info_hash, SHA1_LEN);
	memcpy(hs.peer_id, t->h.peer_id, 20);
	wire_encode_handshake(raw, &hs);
	(void)buf_append(peer_out(tc->p), raw, sizeof(raw));
	TAILQ_INSERT_TAIL(&t->conns, tc, entry);
	t->nconns++;
	net_conn_limit(c, t->lim);
	net_attach(c, tc->p, &torrent_conn_hooks, tc);
	return tc;
}

enum gt_err
torrent_accept(struct torrent *t, struct conn *c, const char **why)
{
	if (t->stopped) {
		*why = "torrent stopping";
		return GT_ECANCELED;
	}
	if (t->paused) {
		*why = "torrent paused";
		return GT_ECANCELED;
	}
	if (t->nconns >= t->o.max_peers) {
		*why = "over the torrent's connection cap";
		return GT_ERANGE;
	}
	if (swarm_is_banned(t->sw, net_conn_addr(c), NULL)) {
		*why = "banned peer";
		return GT_EPROTO;
	}
	(void)torrent_attach(t, c, UINT32_MAX);
	return GT_OK;
}

/* ---- refill: blocks came back to the picker ------------------------------ */

static void
refill_cb(void *arg)
{
	struct torrent	*t = arg;
	struct tconn	*tc;
	uint64_t	 now = now_ms(t);

	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (!tc_live(tc))
			continue;
		peer_update_interest(tc->p, now);
		peer_fill_requests(tc->p, now);
		net_flush_soon(tc->c);
	}
}

static void
torrent_refill_soon(struct torrent *t)
{
	if (!t->stopped && !t->paused &&
	    !reactor_timer_pending(t->refill_timer))
		reactor_timer_in(t->refill_timer, 0);
}

/* ---- the swarm's rhythm: dialling, rechoking, asking for peers ----------- */

static void
torrent_rearm(struct torrent *t)
{
	uint64_t	d = swarm_deadline(t->sw);

	if (t->stopped || t->paused || d == UINT64_MAX)
		reactor_timer_cancel(t->tick_timer);
	else
		reactor_timer_at(t->tick_timer, d);
}

static void
torrent_counts(const struct torrent *t, struct swarm_counts *sc)
{
	const struct tconn	*tc;
	size_t			 all = net_nconns(t->h.net);
	uint32_t		 want;

	*sc = (struct swarm_counts){
		.conns = t->nconns, .peers = t->npeers,
		.global_room = all < t->h.max_conns ?
		    (uint32_t)(t->h.max_conns - all) : 0,
		.complete = t->complete, .seeding = seeding(t),
	};
	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (net_conn_outbound(tc->c) && tc->active_ms == 0)
			sc->half_open++;
		if (tc_live(tc) && !peer_is_seed(tc->p) &&
		    peer_is_interested(tc->p))
			sc->leechers++;
	}
	if (t->h.room == NULL)
		return;
	/* More it could use: room under its cap, candidates to dial. */
	if (t->stopped || (t->complete && !seeding(t)) ||
	    t->nconns >= t->o.max_peers)
		want = 0;
	else
		want = (uint32_t)MIN(t->o.max_peers - t->nconns,
		    swarm_ncands(t->sw));
	sc->global_room = t->h.room(t->h.arg, t, sc->conns, sc->half_open,
	    want);
}

static void
torrent_dial(struct torrent *t, uint32_t n)
{
	struct netaddr	 a;
	struct conn	*c;
	uint32_t	 id;
	uint64_t	 now = now_ms(t);
	char		 name[ADDR_STRLEN];
	int		 err;

	while (n-- > 0 && swarm_next_dial(t->sw, now, &id, &a)) {
		if ((c = net_connect(t->h.net, &a)) == NULL) {
			err = errno;
			torrent_dial_failed(t, id, addr_str(&a, name), err);
			swarm_on_dial_failed(t->sw, id, now);
			continue;
		}
		(void)torrent_attach(t, c, id);
	}
}

static void
tick_cb(void *arg)
{
	struct torrent		*t = arg;
	struct swarm_counts	 sc;
	struct swarm_actions	 act;

	if (t->stopped || t->paused)
		return;
	torrent_counts(t, &sc);
	swarm_tick(t->sw, &sc, now_ms(t), &act);
	if (act.rechoke)
		torrent_rechoke(t, act.rotate);
	if (act.dial > 0)
		torrent_dial(t, act.dial);
	if (act.need_peers)
		announcer_need_peers(t->an);
	torrent_resume_touch(t);	/* upload totals */
	torrent_rearm(t);
}

size_t
torrent_add_peers(struct torrent *t, const struct netaddr *a, size_t n,
    bool explicit)
{
	return torrent_add_peers_from(t, a, n, explicit ? SWARM_SRC_GIVEN :
	    SWARM_SRC_TRACKER);
}

size_t
torrent_add_peers_from(struct torrent *t, const struct netaddr *a, size_t n,
    enum swarm_source src)
{
	char	name[ADDR_STRLEN];
	size_t	i, added = 0;

	for (i = 0; i < n; i++) {
		if (t->h.is_self != NULL && t->h.is_self(t->h.arg, &a[i])) {
			log_trace("%s: skipping ourselves (%s)", t->name,
			    addr_str(&a[i], name));
			continue;
		}
		added += swarm_add_peers_from(t->sw, &a[i], 1, src);
	}
	if (added > 0 && t->started && !t->stopped) {
		swarm_dial_soon(t->sw, now_ms(t));
		torrent_rearm(t);
	}
	return added;
}

/* ---- announcer hooks ----------------------------------------------------- */

static void
an_figures(void *arg, struct tracker_req *tr)
{
	struct torrent	*t = arg;

	tr->uploaded = t->uploaded;
	tr->downloaded = t->downloaded;
	/* Before the metadata: unknown, but not 0 (a seed gets no seeds). */
	tr->left = t->m == NULL ? TORRENT_MAGNET_LEFT :
	    t->m->total_length - t->have_bytes;
}

static void
an_peers(void *arg, const struct netaddr *a, size_t n)
{
	(void)torrent_add_peers_from(arg, a, n, SWARM_SRC_TRACKER);
}

static void
an_result(void *arg, const char *url, enum tracker_event ev,
    const struct tracker_reply *rep, const char *why)
{
	struct torrent	*t = arg;

	torrent_emit(t, &(struct torrent_event){
		.kind = TORRENT_EV_TRACKER, .url = url,
		.announce = ev == TRACKER_EVENT_NONE ? "regular" :
		    tracker_event_name(ev),
		.ok = rep != NULL, .error = why,
		.npeers = rep != NULL ? (uint32_t)rep->npeers : 0,
		.seeders = rep != NULL ? rep->complete : -1,
		.leechers = rep != NULL ? rep->incomplete : -1,
		.interval = rep != NULL ? rep->interval : 0,
	});
}

/* ---- life cycle ---------------------------------------------------------- */

/* An ERROR event: what stops the torrent, for the user. */
static void GT_PRINTF(2, 3)
torrent_error(struct torrent *t, const char *fmt, ...)
{
	char	text[GT_ERRLEN + 256];
	va_list	ap;

	if (t->ev.event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	torrent_emit(t, &(struct torrent_event){
		.kind = TORRENT_EV_ERROR, .reason = text,
	});
}

void
torrent_fatal(struct torrent *t, enum gt_err e, const char *what)
{
	if (t->fatal)
		return;
	t->fatal = true;
	log_error("%s: %s under %s: %s", t->name, what, t->dir,
	    gt_strerror(e));
	torrent_error(t, "%s under %s: %s", what, t->dir, gt_strerror(e));
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

static void
torrent_check_progress(void *arg, uint64_t done, uint64_t total)
{
	struct torrent	*t = arg;

	t->ev.checking(t->ev.arg, done, total);
}

/* Marks the pieces already on disk and good. */
static enum gt_err
torrent_check(struct torrent *t, char *err)
{
	struct storage_hash_opts	 ho = {
		.nthreads = 0, .expected = t->m->pieces,
		.progress = t->ev.checking != NULL ? torrent_check_progress :
		    NULL,
		.arg = t,
	};
	bool				*ok;
	uint32_t			 i, n = t->m->npieces, good = 0;
	enum gt_err			 e;

	ok = xcalloc(n, sizeof(*ok));
	e = storage_hash_all(t->st, &ho, NULL, ok, err);
	for (i = 0; e == GT_OK && i < n; i++) {
		if (!ok[i])
			continue;
		picker_have(t->pk, i);
		torrent_have_piece(t, i);
		good++;
	}
	free(ok);
	if (e == GT_OK)
		log_info("%s: %u of %u pieces already here", t->name, good,
		    n);
	return e;
}

static void
torrent_trackers(struct torrent *t)
{
	struct announcer_id	id = {
		.port = t->h.port, .key = t->h.key,
		.user_agent = t->h.user_agent,
	};
	struct announcer_hooks	hooks = {
		.figures = an_figures, .peers = an_peers,
		.result = an_result, .arg = t,
	};
	const struct metainfo	*m = t->m;
	size_t			 i, j, ntiers = m != NULL ? m->ntiers : 0;

	memcpy(id.info_hash, t->info_hash, SHA1_LEN);
	memcpy(id.peer_id, t->h.peer_id, 20);
	t->an = announcer_new(t->r, t->h.trackers, &id, &hooks);
	for (i = 0; i < ntiers; i++)
		for (j = 0; j < m->tiers[i].n; j++)
			announcer_add(t->an, (unsigned)i, m->tiers[i].urls[j]);
	for (j = 0; j < t->o.ntrackers; j++)
		announcer_add(t->an, (unsigned)ntiers, t->o.trackers[j]);
}

/* What needs the metadata: storage, picker, pieces on disk. */
static enum gt_err
torrent_open_data(struct torrent *t, char *err)
{
	const struct metainfo	*m = t->m;
	struct picker_opts	 po;
	size_t			 i;
	enum gt_err		 e;
	bool			 check;

	if (m->piece_length > UINT32_MAX / 2)
		return gt_fail(err, GT_EUNSUP, "piece length too large");
	for (i = 0; i < m->nfiles; i++)
		if (!(m->files[i].attr & MI_ATTR_PAD))
			t->size += m->files[i].length;
	check = t->o.upload_only || any_file_exists(m, t->dir);
	torrent_files_choose(t);
	e = storage_open_metainfo(&t->st, t->dir, m, t->skip, t->o.upload_only ? 0 :
	    STORAGE_WRITE | (t->o.preallocate ? STORAGE_PREALLOC : 0), err);
	if (e != GT_OK)
		return e;
	if (!t->o.upload_only)
		storage_writeback_every(t->st, TORRENT_WRITEBACK);
	if ((e = torrent_resume_lock(t, err)) != GT_OK)
		return e;
	po = (struct picker_opts){
		.rarest_first = t->o.rarest_first, .end_game = t->o.end_game,
		.random_first = TORRENT_RANDOM_FIRST,
		.seed = prng_next(&t->rng), .bbs_plus = t->o.bbs_plus,
	};
	t->pk = picker_new(m->npieces, (uint32_t)m->piece_length,
	    metainfo_piece_size(m, m->npieces - 1), &po);
	bitfield_clear(&t->have);
	bitfield_init(&t->have, m->npieces);
	t->pcfg.npieces = m->npieces;
	t->pcfg.piece_length = (uint32_t)m->piece_length;
	t->pcfg.last_size = metainfo_piece_size(m, m->npieces - 1);
	torrent_files_apply(t);
	bitfield_clear(&t->rs_partial);
	bitfield_init(&t->rs_partial, m->npieces);
	torrent_resume_init(t);
	if (check && !torrent_resume_load(t) &&
	    (e = torrent_check(t, err)) != GT_OK)
		return e;
	t->complete = picker_wanted_complete(t->pk);
	seedlimit_init(&t->sl, &(struct seedlimit_opts){
		.ratio = t->o.seed_ratio, .time_s = t->o.seed_time_s,
		.idle_s = t->o.seed_idle_s,
	}, t->size);
	return GT_OK;
}

/* What needs no metadata: peers, swarm policy, trackers, timers. */
static struct torrent *
torrent_alloc(const struct torrent_host *h, const struct torrent_opts *o,
    const struct torrent_events *ev, const uint8_t *info_hash)
{
	struct torrent		*t;
	struct swarm_opts	 so;
	uint64_t		 seed;

	t = xcalloc(1, sizeof(*t));
	t->h = *h;
	t->r = h->r;
	t->o = *o;
	if (ev != NULL)
		t->ev = *ev;
	memcpy(t->info_hash, info_hash, SHA1_LEN);
	t->dir = xstrdup(o->dir);
	if (t->o.max_peers == 0)
		t->o.max_peers = TORRENT_DEFAULT_PEERS;
	TAILQ_INIT(&t->conns);
	rand_bytes(&seed, sizeof(seed));
	prng_seed(&t->rng, seed);
	so = (struct swarm_opts){
		.max_peers = t->o.max_peers,
		.unchoke_slots = t->o.upload_slots,
		.max_up_rate = t->o.max_up_rate,
		.choking = t->o.choking,
		.optimistic = t->o.optimistic,
		.anti_snub = t->o.anti_snub,
	};
	t->sw = swarm_new(&so, prng_next(&t->rng));
	bitfield_init(&t->have, 0);
	t->pcfg = (struct peer_config){
		.fast = true, .extended = true, .anti_snub = t->o.anti_snub,
	};
	t->pmask = 63;
	t->ptab = xcalloc((size_t)t->pmask + 1, sizeof(*t->ptab));
	t->scratch = h->scratch;
	t->hbuf = h->hash_buf;
	t->hash_width = sha1_lanes_width();
	if (t->scratch == NULL)
		t->scratch = t->own_scratch = xmalloc(WIRE_MAX_REQUEST);
	t->tick_timer = reactor_timer_new(t->r, tick_cb, t);
	t->refill_timer = reactor_timer_new(t->r, refill_cb, t);
	t->hash_timer = reactor_timer_new(t->r, hash_timer_cb, t);
	t->md_timer = reactor_timer_new(t->r, torrent_md_timer_cb, t);
	t->pex_timer = reactor_timer_new(t->r, torrent_pex_timer_cb, t);
	t->seed_timer = reactor_timer_new(t->r, torrent_seed_timer_cb, t);
	t->ss_timer = reactor_timer_new(t->r, torrent_ss_timer_cb, t);
	bitfield_init(&t->ss_none, 0);
	bitfield_init(&t->rs_partial, 0);
	t->rs_lock = -1;
	t->lim = net_limit_new(h->net, o->max_down_rate, o->max_up_rate);
	return t;
}

enum gt_err
torrent_new(struct torrent **out, const struct torrent_host *h,
    const struct metainfo *m, const struct torrent_opts *o,
    const struct torrent_events *ev, char *err)
{
	struct torrent	*t;
	enum gt_err	 e;

	t = torrent_alloc(h, o, ev, m->info_hash);
	t->m = m;
	t->name = xstrdup(m->name);
	if (o->use_trackers && h->trackers != NULL)
		torrent_trackers(t);
	if ((e = torrent_open_data(t, err)) != GT_OK) {
		torrent_free(t);
		return e;
	}
	*out = t;
	return GT_OK;
}

enum gt_err
torrent_new_magnet(struct torrent **out, const struct torrent_host *h,
    const uint8_t info_hash[SHA1_LEN], const char *name,
    const struct torrent_opts *o, const struct torrent_events *ev)
{
	struct torrent	*t;
	char		 hex[2 * SHA1_LEN + 1];

	t = torrent_alloc(h, o, ev, info_hash);
	if (name != NULL && name[0] != '\0')
		t->name = xstrdup(name);
	else {
		hex_encode(hex, info_hash, SHA1_LEN);
		t->name = xstrdup(hex);
	}
	t->md = metadata_new(info_hash);
	if (o->use_trackers && h->trackers != NULL)
		torrent_trackers(t);
	*out = t;
	return GT_OK;
}

/*
 * The metadata is verified (md_timer, out of any peer hook): the torrent
 * becomes what a .torrent would have made, and the peers met so far are
 * checked against it.
 */
void
torrent_got_metadata(struct torrent *t)
{
	struct tconn	*tc, *next;
	const uint8_t	*raw;
	char		 err[GT_ERRLEN];
	size_t		 len;
	uint64_t	 now = now_ms(t);
	uint32_t	 i, sent;
	enum gt_err	 e;

	raw = metadata_bytes(t->md, &len);
	e = metainfo_parse_info(&t->mi, raw, len, err);
	metadata_free(t->md);
	t->md = NULL;
	reactor_timer_cancel(t->md_timer);
	if (e != GT_OK) {
		log_error("%s: the metadata matches the info-hash but is not "
		    "usable: %s", t->name, err);
		torrent_error(t, "the metadata matches the info-hash but is "
		    "not usable: %s", err);
		t->fatal = true;
		if (t->ev.fatal != NULL)
			t->ev.fatal(t->ev.arg, GT_EINVAL);
		return;
	}
	assert(memcmp(t->mi.info_hash, t->info_hash, SHA1_LEN) == 0);
	t->m = &t->mi;
	free(t->name);
	t->name = xstrdup(t->m->name);
	if (t->m->private && t->dht_search) {
		log_info("%s: a private torrent: off the DHT (BEP 27)",
		    t->name);
		dht_stop(t);
	}
	if (t->ev.metadata != NULL)
		t->ev.metadata(t->ev.arg, t->m);
	if (t->o.metadata_only || t->stopped)
		return;
	if ((e = torrent_open_data(t, err)) != GT_OK) {
		log_error("%s", err);
		torrent_error(t, "%s", err);
		t->fatal = true;
		if (t->ev.fatal != NULL)
			t->ev.fatal(t->ev.arg, e);
		return;
	}
	for (tc = TAILQ_FIRST(&t->conns); tc != NULL; tc = next) {
		next = TAILQ_NEXT(tc, entry);
		if (peer_set_metadata(tc->p, &t->pcfg, now) != GT_OK) {
			net_close(tc->c, "%s", peer_error(tc->p));
			continue;
		}
		if (!tc_live(tc))
			continue;
		/* What we hold already, as HAVEs (within its output cap). */
		for (i = 0, sent = 0; sent < TORRENT_LATE_HAVES &&
		    (i = bitfield_next_set(&t->have, i)) < t->have.n;
		    i++, sent++)
			peer_announce_have(tc->p, i, now);
		fast_offer(t, tc);
		torrent_ext_send_handshake(t, tc); /* now with metadata_size */
		peer_fill_requests(tc->p, now);
		net_flush_soon(tc->c);
	}
	if (t->complete)
		torrent_completed(t);
	torrent_refill_soon(t);
	torrent_rearm(t);
}

/* Announcing, dialling, the DHT: at the start, and at each resume. */
static void
torrent_run(struct torrent *t)
{
	if (t->complete && !seeding(t))
		return;
	announcer_start(t->an);
	swarm_start(t->sw, now_ms(t));
	dht_start(t);
	torrent_resume_touch(t);	/* a first record */
	torrent_rearm(t);
	if (!(t->complete || t->o.upload_only))
		return;
	if (t->sl.seeding)		/* resumed: the limits again */
		reactor_timer_in(t->seed_timer, 0);
	else
		torrent_seed_begin(t);
}

void
torrent_start(struct torrent *t)
{
	t->started = true;
	if (!t->paused)
		torrent_run(t);
}

/*
 * Off the swarm for a while (torrent_pause) or for good (torrent_stop):
 * off the DHT, no dialling, no ticks, every connection closed for why.
 */
static void
torrent_quiet(struct torrent *t, const char *why)
{
	struct tconn	*tc;

	dht_stop(t);
	swarm_stop(t->sw);
	reactor_timer_cancel(t->tick_timer);
	reactor_timer_cancel(t->refill_timer);
	reactor_timer_cancel(t->seed_timer);
	while ((tc = TAILQ_FIRST(&t->conns)) != NULL)
		net_close(tc->c, "%s", why);
}

void
torrent_pause(struct torrent *t, bool paused)
{
	if (t->stopped || t->paused == paused)
		return;
	t->paused = paused;
	if (!paused) {
		log_info("%s: resumed", t->name);
		seedlimit_skip(&t->sl, now_ms(t) - t->paused_ms);
		announcer_pause(t->an, false);
		if (t->complete)	/* if it completed while paused */
			announcer_completed(t->an);
		swarm_redial_now(t->sw);
		if (t->started)
			torrent_run(t);
		return;
	}
	log_info("%s: paused", t->name);
	t->paused_ms = now_ms(t);
	announcer_pause(t->an, true);
	torrent_quiet(t, "paused");
	/* it holds and wants nothing now: the others' shares grow at once
	   (and a torrent not started yet no longer counts as wanting) */
	if (t->h.room != NULL)
		(void)t->h.room(t->h.arg, t, 0, 0, 0);
	torrent_resume_touch(t);
}

void
torrent_stop(struct torrent *t)
{
	if (!t->stopped && t->st != NULL) {
		hash_run(t);	/* what is complete gets verified and kept */
		if (!t->o.upload_only && storage_sync(t->st) != GT_OK)
			log_warn("%s: cannot sync the files under %s",
			    t->name, t->dir);
		torrent_resume_save(t, true);
	}
	t->stopped = true;
	torrent_quiet(t, "stopping");
	reactor_timer_cancel(t->md_timer);
	reactor_timer_cancel(t->pex_timer);
	reactor_timer_cancel(t->ss_timer);
}

void
torrent_leave(struct torrent *t, uint32_t timeout_ms, void (*done)(void *),
    void *arg)
{
	torrent_stop(t);
	if (t->an != NULL)
		announcer_stop(t->an, timeout_ms, done, arg);
	else	/* no trackers: done from the loop all the same */
		reactor_defer_free(t->r, done, arg);
}

void
torrent_free(struct torrent *t)
{
	struct prog	*pr;
	uint32_t	 i;

	if (t == NULL)
		return;
	torrent_stop(t);
	net_limit_free(t->lim);
	announcer_free(t->an);
	reactor_timer_free(t->tick_timer);
	reactor_timer_free(t->refill_timer);
	reactor_timer_free(t->hash_timer);
	reactor_timer_free(t->md_timer);
	reactor_timer_free(t->pex_timer);
	reactor_timer_free(t->seed_timer);
	reactor_timer_free(t->ss_timer);
	superseed_free(t->ss);
	spread_free(t->spread);
	free(t->sent);
	bitfield_clear(&t->sug_rare);
	bitfield_clear(&t->ss_none);
	metadata_free(t->md);
	for (i = 0; i <= t->pmask; i++)
		while (t->ptab[i] != NULL)
			prog_release(t, t->ptab[i]->piece);
	while ((pr = t->free_prog) != NULL) {
		t->free_prog = pr->free_next;
		free(pr);
	}
	free(t->ptab);
	free(t->own_scratch);
	free(t->own_hbuf);
	swarm_free(t->sw);
	bitfield_clear(&t->have);
	torrent_resume_free(t);
	free(t->fprio);
	free(t->skip);
	picker_free(t->pk);
	storage_free(t->st);
	metainfo_clear(&t->mi);
	free(t->name);
	free(t->dir);
	free(t);
}

const uint8_t *
torrent_info_hash(const struct torrent *t)
{
	return t->info_hash;
}

const struct metainfo *
torrent_metainfo(const struct torrent *t)
{
	return t->m;
}

const char *
torrent_name(const struct torrent *t)
{
	return t->name;
}

unsigned
torrent_tracker_refusals(const struct torrent *t, const char **reason)
{
	*reason = "";
	return t->an != NULL ? announcer_refusals(t->an, reason) : 0;
}

void
torrent_stats(const struct torrent *t, struct torrent_stats *ts)
{
	const struct tconn	*tc;

	*ts = (struct torrent_stats){
		.size = t->size,
		.have = t->want_have,
		.total = t->want_total,
		.downloaded = t->downloaded,
		.uploaded = t->uploaded,
		.uploaded_ever = t->up_before + t->uploaded,
		.wasted = t->wasted,
		.resent = t->resent,
		.npieces = t->pk != NULL ? t->m->npieces : 0,
		.have_pieces = t->have.count,
		.peers = t->npeers,
		.conns = t->nconns,
		.known = (uint32_t)swarm_ncands(t->sw),
		.peers_ever = swarm_seen(t->sw),
		.trackers = (uint32_t)announcer_count(t->an),
		.complete = t->complete,
		.metadata = t->m == NULL,
		.md_pieces = t->md != NULL ? metadata_npieces(t->md) : 0,
		.md_have = t->md != NULL ? metadata_have(t->md) : 0,
		.dht_peers = t->dht_peers,
		.dht = t->dht_search,
		.paused = t->paused,
	};
	announcer_swarm(t->an, &ts->seeders, &ts->leechers);
	TAILQ_FOREACH(tc, &t->conns, entry)
		ts->seeds += tc_live(tc) && peer_is_seed(tc->p);
}
