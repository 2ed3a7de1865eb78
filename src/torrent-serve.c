/*
 * torrent-serve.c - a torrent's serving side: seeding limits, serving,
 * choking, super-seeding (BEP 16)
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "choke.h"
#include "log.h"
#include "metainfo.h"
#include "net.h"
#include "peer.h"
#include "picker.h"
#include "reactor.h"
#include "seedlimit.h"
#include "spread.h"
#include "storage.h"
#include "superseed.h"
#include "swarm.h"
#include "torrent-int.h"
#include "torrent.h"
#include "util.h"
#include "wire.h"

/*
 * What the peers are sent and when: the requests answered (swarm_serve
 * decides), BEP 6 suggestions, the choker's verdicts applied, the pieces
 * revealed to super-seeded peers, and the end of seeding when a limit is
 * reached.  torrent.c calls in through torrent-int.h.
 */

#define TORRENT_SEED_POLL_MS	50	/* draining after a seeding limit */

/* ---- seeding limits (seedlimit) ----------------------------------------- */

/*
 * Nothing left in any peer's output, ours or the kernel's?  Closing with
 * the peer's last blocks still in the send queue would lose them: a
 * close with input unread resets the connection (a libtorrent leecher
 * was left at 99 % now and then).
 */
static bool
seed_drained(const struct torrent *t)
{
	const struct tconn	*tc;

	TAILQ_FOREACH(tc, &t->conns, entry)
		if (tc->c != NULL && net_out_unacked(tc->c) > 0)
			return false;
	return true;
}

static void
seed_rearm(struct torrent *t)
{
	uint64_t	d = seedlimit_deadline(&t->sl);

	if (t->stopped || t->seed_told)
		reactor_timer_cancel(t->seed_timer);
	else if (t->seed_over)
		reactor_timer_in(t->seed_timer, TORRENT_SEED_POLL_MS);
	else if (d == UINT64_MAX)
		reactor_timer_cancel(t->seed_timer);
	else
		reactor_timer_at(t->seed_timer, d);
}

/*
 * A limit reached: serve no more, let what is queued go out (bounded),
 * then tell the owner, which ends the torrent.
 */
void
torrent_seed_timer_cb(void *arg)
{
	struct torrent		*t = arg;
	enum seedlimit_reason	 why;
	char			 text[SEEDLIMIT_WHYLEN];
	uint64_t		 now = now_ms(t);

	if (t->stopped || t->seed_told)
		return;
	if (!t->seed_over) {
		why = seedlimit_check(&t->sl, t->uploaded, now);
		if (why == SEEDLIMIT_NONE) {
			seed_rearm(t);
			return;
		}
		t->seed_over = true;
		t->seed_over_ms = now;
		seedlimit_describe(&t->sl, text, sizeof(text));
		log_info("%s: seeding limit: %s", t->name, text);
	}
	if (!seed_drained(t) && now - t->seed_over_ms < TORRENT_SEED_DRAIN_MS) {
		seed_rearm(t);
		return;
	}
	t->seed_told = true;
	seedlimit_describe(&t->sl, text, sizeof(text));
	if (t->ev.seed_limit != NULL)
		t->ev.seed_limit(t->ev.arg, seedlimit_reached(&t->sl), text);
	else
		torrent_stop(t);
}

/* Seeding begins (download complete, or `gtorrent seed` started). */
void
torrent_seed_begin(struct torrent *t)
{
	if (!seeding(t) || !seedlimit_active(&t->sl) || t->sl.seeding ||
	    t->stopped || t->paused)
		return;
	seedlimit_start(&t->sl, t->uploaded, now_ms(t));
	log_debug("%s: seeding; limits: ratio %.2f, time %u s, idle %u s",
	    t->name, t->sl.o.ratio, t->sl.o.time_s, t->sl.o.idle_s);
	/* A ratio met while downloading ends it now. */
	reactor_timer_in(t->seed_timer, 0);
}

/* Payload went out (tc_writable): O(1). */
void
torrent_seed_on_upload(struct torrent *t)
{
	if (!t->seed_over && seedlimit_active(&t->sl) &&
	    seedlimit_on_upload(&t->sl, t->uploaded, now_ms(t)) !=
	    SEEDLIMIT_NONE)
		reactor_timer_in(t->seed_timer, 0);	/* not in a hook */
}

/* ---- serving ------------------------------------------------------------- */

/*
 * BEP 6 suggestions: a piece just read from disk to serve a block is in
 * the page cache, cheap to serve again; the other peers that want it are
 * told (SUGGEST_PIECE), when it enters a small ring of pieces recently
 * read.  peer_suggest sends a piece at most once per peer, and only to
 * peers we unchoke and that are interested.  Not once we seed: a seed
 * suggests the pieces nobody has instead (torrent_spread_top), since a piece it
 * just read is one it just sent, and every peer that took the hint would
 * fetch that same piece from it again.
 */
static void
suggest_read(struct torrent *t, struct tconn *self, uint32_t piece)
{
	struct tconn	*tc;
	uint64_t	 now = now_ms(t);
	size_t		 i;

	if (t->complete)
		return;
	for (i = 0; i < t->nrecent; i++) {
		if (t->recent[i] == piece)
			return;
	}
	t->recent[t->recent_pos] = piece;
	t->recent_pos = (t->recent_pos + 1) % TORRENT_RECENT_READS;
	if (t->nrecent < TORRENT_RECENT_READS)
		t->nrecent++;
	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (tc != self && tc_live(tc) && !tc->ss &&
		    peer_suggest(tc->p, piece, now))
			net_flush_soon(tc->c);
	}
}

/*
 * A seed's suggestions (spread.h): each unchoked, interested peer with the
 * fast extension is told of pieces that no peer has and nobody else is
 * fetching, a few more than its requests queued here cover, so that the
 * leechers fetch different pieces from us.  The requests of every peer
 * claim their pieces.  Not with super-seeding, which does the same by
 * hiding the rest.
 */
void
torrent_spread_top(struct torrent *t, struct tconn *tc, uint64_t now)
{
	const struct block_req	*q;
	uint32_t		 piece, last = UINT32_MAX;
	size_t			 ahead, n, i;
	bool			 sent = false;

	if (!t->complete || t->o.super_seed || tc->ss || t->stopped ||
	    t->seed_over || t->pk == NULL || !picker_complete(t->pk) ||
	    !tc_live(tc))
		return;
	if (t->spread == NULL)
		t->spread = spread_new(t->pcfg.npieces, prng_next(&t->rng));
	/*
	 * What any peer asked for is its own, no longer a suggestion.  New
	 * requests join the tail of the queue: only those after the tail
	 * claimed last time are looked at (served blocks claim too).
	 */
	q = peer_requests_queued(tc->p, &n);
	for (i = n; i > 0 && q[i - 1].piece + 1 != tc->sp_tail; i--) {
		if (q[i - 1].piece != last)
			spread_requested(t->spread, &tc->sp, q[i - 1].piece,
			    now);
		last = q[i - 1].piece;
	}
	if (n > 0)
		tc->sp_tail = q[n - 1].piece + 1;
	/* Alone, a leecher has nobody to collide with: no suggestions. */
	if (t->npeers < 2 || !peer_is_fast(tc->p) ||
	    peer_am_choking(tc->p) || !peer_is_interested(tc->p))
		return;
	ahead = SPREAD_AHEAD_MIN + n * WIRE_BLOCK / t->pcfg.piece_length;
	while ((piece = spread_next(t->spread, &tc->sp, peer_has(tc->p),
	    t->pk, ahead, now)) != UINT32_MAX) {
		if (!peer_suggest(tc->p, piece, now)) {
			spread_skip(t->spread, piece, now);
			break;
		}
		spread_opened(t->spread, &tc->sp, piece, now);
		sent = true;
	}
	if (sent)
		net_flush_soon(tc->c);
}

/*
 * Bytes served per piece: what goes out past a piece's size is a copy
 * sent again (the -v summary's "sent again"; the swarm laboratory reads
 * it to see how many copies of the file a seed sends).
 */
static void
count_sent(struct torrent *t, struct tconn *tc, const struct block_req *r)
{
	uint32_t	size = metainfo_piece_size(t->m, r->piece);

	if (t->sent == NULL)
		t->sent = xcalloc(t->pcfg.npieces, sizeof(*t->sent));
	if (t->sent[r->piece] >= size) {
		if (t->sent[r->piece] - size < r->length)
			log_obj_at(LOG_DEBUG, net_conn_name(tc->c),
			    "piece %u sent again", r->piece);
		t->resent += r->length;
	}
	if (t->sent[r->piece] <= UINT32_MAX - r->length)
		t->sent[r->piece] += r->length;
}

/*
 * Rejects every request of the peer's for piece (spread_refuse: another
 * peer is fetching it from us, and nobody has it yet).
 */
static void
refuse_piece(struct tconn *tc, uint32_t piece)
{
	const struct block_req	*q;
	struct block_req	 r;
	size_t			 n, i = 0, k = 0, before;

	while ((q = peer_requests_queued(tc->p, &n)) != NULL && i < n) {
		if (q[i].piece != piece) {
			i++;
			continue;
		}
		r = q[i];
		before = n;
		(void)peer_reject_request(tc->p, &r);
		(void)peer_requests_queued(tc->p, &n);
		if (n == before)
			i++;		/* not removed: never loop */
		k++;
	}
	log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "piece %u refused (%zu "
	    "requests): another peer is fetching it", piece, k);
	net_flush_soon(tc->c);
}

/*
 * Answers the peer's requests while its output has room (swarm_serve).  A
 * super-seeded peer gets only the pieces revealed to it: the others are
 * rejected (BEP 6), or dropped.
 */
void
torrent_serve(struct torrent *t, struct tconn *tc)
{
	struct block_req	r;
	uint64_t		up0;
	bool			have;

	while (!t->stopped && !t->seed_over &&
	    peer_next_request(tc->p, &r)) {
		have = tc->ss ? superseed_revealed(t->ss, tc->seq, r.piece) :
		    bitfield_get(&t->have, r.piece);
		/* Choked, the peer still gets its allowed-fast pieces. */
		switch (swarm_serve(t->sw, have, peer_am_choking(tc->p) &&
		    !peer_allows_fast(tc->p, r.piece),
		    net_out_pending(tc->c))) {
		case SWARM_SERVE_LATER:
			return;
		case SWARM_SERVE_REJECT:
			peer_reject_request(tc->p, &r);
			continue;
		case SWARM_SERVE:
			break;
		}
		if (t->spread != NULL && !tc->ss && peer_is_fast(tc->p) &&
		    spread_refuse(t->spread, &tc->sp, t->pk, r.piece,
		    peer_am_choking(tc->p), now_ms(t))) {
			refuse_piece(tc, r.piece);
			continue;
		}
		suggest_read(t, tc, r.piece);
		if (t->spread != NULL)
			spread_requested(t->spread, &tc->sp, r.piece,
			    now_ms(t));
		up0 = peer_uploaded(tc->p);
		/* The payload goes from the file to the socket when net
		   writes it (torrent_payload): no copy through us. */
		if (peer_queue_block(tc->p, &r) != GT_OK)
			return;
		t->uploaded += peer_uploaded(tc->p) - up0;
		count_sent(t, tc, &r);
		if (tc->ss)
			superseed_peer_served(t->ss, tc->seq, r.piece,
			    now_ms(t));
	}
}

/*
 * conn_hooks.payload: the bytes of a block queued by reference, from the
 * files straight to the socket (storage_send, sendfile).  A block that
 * cannot be read closes the connection (net_close, with errno's text).
 */
enum gt_err
torrent_payload(void *ctx, int fd, const struct block_req *r, uint32_t off,
    size_t len, size_t *sent)
{
	struct tconn	*tc = ctx;
	struct torrent	*t = tc->t;
	enum gt_err	 e;
	int		 saved;

	assert(off < r->length && len <= r->length - off);
	if (t->st == NULL) {
		errno = EIO;
		return GT_EIO;
	}
	e = storage_send(t->st, r->piece, r->offset + off, (uint32_t)len, fd,
	    sent);
	if (e != GT_OK && e != GT_EAGAIN) {
		saved = errno;
		if (saved != EPIPE && saved != ECONNRESET)
			log_warn("%s: cannot send piece %u: %s", t->name,
			    r->piece, strerror(saved));
		errno = saved;
	}
	return e;
}

/* ---- choking ------------------------------------------------------------- */

/* The choker is fed the peers' rates over the window it expects. */
_Static_assert(PEER_RATE_AVG_MS == CHOKE_RATE_MS,
    "peer_*_rate_avg must cover CHOKE_RATE_MS");

/* Chokes or unchokes tc; an unchoke starts its turn (choke.h). */
static void
tc_set_choking(struct tconn *tc, bool choke, const char *why, uint64_t now)
{
	if (peer_am_choking(tc->p) == choke)
		return;
	log_debug("%s: %s %s (%s)", tc->t->name, choke ? "choke" : "unchoke",
	    net_conn_name(tc->c), why);
	if (!choke) {
		tc->turn_ms = now;
		tc->turn_up = peer_uploaded(tc->p);
	}
	peer_set_choking(tc->p, choke, now);
	net_flush_soon(tc->c);
	if (!choke)
		torrent_spread_top(tc->t, tc, now);
}

void
torrent_rechoke(struct torrent *t, bool rotate)
{
	struct choke_peer	*cp;
	struct tconn		*tc, **cs;
	bool			*un, *opt;
	uint64_t		 now = now_ms(t);
	size_t			 n = 0, i;

	if (t->npeers == 0 || t->pk == NULL)
		return;
	cp = xcalloc(t->nconns, sizeof(*cp));
	cs = xcalloc(t->nconns, sizeof(*cs));
	un = xcalloc(t->nconns, sizeof(*un));
	opt = xcalloc(t->nconns, sizeof(*opt));
	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (!tc_live(tc) || n == t->nconns)
			continue;
		cs[n] = tc;
		cp[n] = (struct choke_peer){
			.id = (uint32_t)n,
			.interested = peer_is_interested(tc->p),
			.snubbed = peer_is_snubbed(tc->p),
			.seed = peer_is_seed(tc->p),
			.unchoked = !peer_am_choking(tc->p),
			.unchokes_us = !peer_is_choking(tc->p),
			.optimistic = tc->optimistic,
			.down_rate = peer_down_rate_avg(tc->p, now),
			.up_rate = peer_up_rate_avg(tc->p, now),
			.connected_ms = tc->active_ms,
			.turn_ms = tc->turn_ms,
			.turn_bytes = peer_uploaded(tc->p) - tc->turn_up,
			.uploaded = peer_uploaded(tc->p),
		};
		n++;
	}
	swarm_rechoke(t->sw, cp, n, rotate, t->complete, now, un, opt);
	for (i = 0; i < n; i++) {
		tc = cs[i];
		log_debug("%s: rechoke %s: %sinterested%s%s, down %llu B/s "
		    "(%llu B), up %llu B/s (%llu B) -> %s", t->name,
		    net_conn_name(tc->c), cp[i].interested ? "" : "not ",
		    cp[i].snubbed ? ", snubbed" : "",
		    cp[i].unchokes_us ? ", unchokes us" : "",
		    (unsigned long long)cp[i].down_rate,
		    (unsigned long long)peer_downloaded(tc->p),
		    (unsigned long long)cp[i].up_rate,
		    (unsigned long long)cp[i].uploaded,
		    !un[i] ? "choked" : opt[i] ? "optimistic" : "unchoked");
		tc->optimistic = opt[i];
		tc_set_choking(tc, !un[i], !un[i] ? "rechoke" : opt[i] ?
		    "optimistic" : t->o.choking ? "regular" : "no choking",
		    now);
	}
	free(opt);
	free(un);
	free(cs);
	free(cp);
}

/* An interested newcomer gets a free slot at once, not at the rechoke. */
void
torrent_unchoke_newcomer(struct torrent *t, struct tconn *tc)
{
	struct tconn	*o;
	uint32_t	 unchoked = 0;

	TAILQ_FOREACH(o, &t->conns, entry)
		if (tc_live(o) && !peer_am_choking(o->p))
			unchoked++;
	if (swarm_unchoke_newcomer(t->sw, unchoked))
		tc_set_choking(tc, false, "newcomer", now_ms(t));
}

/* ---- super-seeding (BEP 16) ---------------------------------------------- */

/*
 * With --super-seed, a peer whose handshake comes while we have every piece
 * is told we have none (HAVE_NONE, or no bitfield), then one piece at a
 * time as superseed decides (a HAVE each); it is served those alone.  Peers
 * met while we were downloading keep what they know.
 */
bool
torrent_ss_applies(const struct torrent *t)
{
	return t->o.super_seed && t->complete && t->m != NULL &&
	    picker_complete(t->pk);
}

void
torrent_ss_rearm(struct torrent *t)
{
	uint64_t	d, now = now_ms(t);

	if (t->ss == NULL || t->stopped ||
	    (d = superseed_deadline(t->ss)) == UINT64_MAX)
		reactor_timer_cancel(t->ss_timer);
	else	/* a peer still due now is closing: no busy loop */
		reactor_timer_at(t->ss_timer, MAX(d, now + 50));
}

void
torrent_ss_join(struct torrent *t, struct tconn *tc)
{
	if (t->ss == NULL) {
		t->ss = superseed_new(t->pcfg.npieces, prng_next(&t->rng));
		bitfield_clear(&t->ss_none);
		bitfield_init(&t->ss_none, t->pcfg.npieces);
		log_info("%s: super-seeding (BEP 16)", t->name);
	}
	tc->ss = true;
	superseed_peer_add(t->ss, tc->seq, now_ms(t));
	torrent_ss_rearm(t);	/* its first piece, should no bitfield come */
}

/* Tells every super-seeded peer due for a piece which one. */
void
torrent_ss_reveal(struct torrent *t)
{
	struct tconn	*tc;
	uint64_t	 now = now_ms(t);
	uint32_t	 piece;

	t->ss_news = false;
	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (!tc->ss || !tc_live(tc) ||
		    !superseed_next(t->ss, tc->seq, peer_has(tc->p), now,
		    &piece))
			continue;
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "super-seeding: "
		    "piece %u", piece);
		peer_announce_have(tc->p, piece, now);
		net_flush_soon(tc->c);
	}
	torrent_ss_rearm(t);
}

void
torrent_ss_timer_cb(void *arg)
{
	struct torrent	*t = arg;

	if (!t->stopped)
		torrent_ss_reveal(t);
}
