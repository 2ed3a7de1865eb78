/*
 * torrent-ext.c - a torrent's extension protocol (BEP 10): its handshake,
 * the metadata exchange (BEP 9) and peer exchange (BEP 11)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "extmsg.h"
#include "log.h"
#include "metadata.h"
#include "metainfo.h"
#include "net.h"
#include "peer.h"
#include "pex.h"
#include "reactor.h"
#include "swarm.h"
#include "torrent-int.h"
#include "torrent.h"
#include "util.h"

/* ---- the extension protocol (BEP 10): metadata (BEP 9), PEX (BEP 11) ---- */

/* PEX is off for private torrents (BEP 27) and with --no-pex. */
static bool
pex_on(const struct torrent *t)
{
	return t->o.pex && (t->m == NULL || !t->m->private);
}

/* Sends one extended message of ours; ext_id is the peer's id for it. */
static void
ext_send(struct tconn *tc, uint8_t ext_id, const struct buf *b)
{
	if (ext_id == 0)
		return;		/* the peer does not take this one */
	(void)peer_send_extended(tc->p, ext_id, b->data, b->len);
	net_flush_soon(tc->c);
}

void
torrent_ext_send_handshake(struct torrent *t, struct tconn *tc)
{
	struct ext_handshake	eh = {
		.ut_metadata = EXT_ID_METADATA,
		.ut_pex = pex_on(t) ? EXT_ID_PEX : 0,
		.port = t->h.port,
		.reqq = PEER_MAX_PEER_QUEUE,
		/* a super-seeded peer must think we download too */
		.upload_only = t->complete && seeding(t) && !tc->ss,
	};
	struct buf		b;

	snprintf(eh.client, sizeof(eh.client), "%s", t->h.user_agent != NULL ?
	    t->h.user_agent : "gtorrent");
	eh.yourip = *net_conn_addr(tc->c);
	eh.yourip.port = 0;
	eh.has_yourip = true;
	if (t->m != NULL && t->m->info_len <= EXT_METADATA_MAX)
		eh.metadata_size = (uint32_t)t->m->info_len;
	buf_init(&b, 4096);
	if (extmsg_put_handshake(&b, &eh) == GT_OK) {
		(void)peer_send_extended(tc->p, EXT_ID_HANDSHAKE, b.data,
		    b.len);
		net_flush_soon(tc->c);
	}
	buf_clear(&b);
}

/* -- metadata -- */

static void
md_rearm(struct torrent *t)
{
	uint64_t	d;

	if (t->md == NULL || t->md_done || t->stopped)
		return;
	if ((d = metadata_deadline(t->md)) == UINT64_MAX)
		reactor_timer_cancel(t->md_timer);
	else
		reactor_timer_at(t->md_timer, d);
}

/* Asks tc for the metadata pieces the assembler gives it. */
static void
md_fill(struct torrent *t, struct tconn *tc)
{
	struct buf	b;
	uint32_t	piece;
	uint64_t	now = now_ms(t);

	if (t->md == NULL || t->md_done || t->stopped || !tc->md_peer ||
	    !tc_live(tc))
		return;
	buf_init(&b, 256);
	while (peer_state(tc->p) == PEER_ACTIVE &&
	    metadata_next_request(t->md, tc->seq, now, &piece)) {
		buf_reset(&b);
		if (extmsg_put_metadata(&b, EXT_MD_REQUEST, piece, 0, NULL,
		    0) != GT_OK)
			break;
		log_obj_at(LOG_TRACE, net_conn_name(tc->c),
		    "asking for metadata piece %u", piece);
		ext_send(tc, tc->ext.ut_metadata, &b);
	}
	buf_clear(&b);
}

void
torrent_md_fill_all(struct torrent *t)
{
	struct tconn	*tc;

	TAILQ_FOREACH(tc, &t->conns, entry)
		md_fill(t, tc);
	md_rearm(t);
}

void
torrent_md_timer_cb(void *arg)
{
	struct torrent	*t = arg;

	if (t->md == NULL || t->stopped)
		return;
	if (t->md_done) {
		torrent_got_metadata(t);
		return;
	}
	metadata_tick(t->md, now_ms(t));
	torrent_md_fill_all(t);
}

/* A peer asks for a piece of our metadata. */
static void
md_serve(struct torrent *t, struct tconn *tc, uint32_t piece)
{
	struct buf	b;
	size_t		off, len;
	enum gt_err	e;

	if (tc->ext.ut_metadata == 0)
		return;			/* it gave no id to answer with */
	buf_init(&b, EXT_METADATA_PIECE + 256);
	off = (size_t)piece * EXT_METADATA_PIECE;
	if (t->m == NULL || t->m->info_len > EXT_METADATA_MAX ||
	    off >= t->m->info_len) {
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "metadata piece "
		    "%u: rejected (%s)", piece, t->m == NULL ?
		    "we have no metadata yet" : "out of range");
		e = extmsg_put_metadata(&b, EXT_MD_REJECT, piece, 0, NULL, 0);
	} else {
		len = MIN((size_t)EXT_METADATA_PIECE, t->m->info_len - off);
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "metadata piece "
		    "%u sent", piece);
		e = extmsg_put_metadata(&b, EXT_MD_DATA, piece,
		    (uint32_t)t->m->info_len, t->m->info_raw + off, len);
	}
	if (e == GT_OK)
		ext_send(tc, tc->ext.ut_metadata, &b);
	buf_clear(&b);
}

/* Drops the peers a failed attempt found lying (banned, like bad data). */
static void
md_drop_culprits(struct torrent *t, struct tconn *self, bool *self_bad)
{
	uint32_t		 ids[METADATA_MAX_PEERS];
	struct swarm_contrib	 k, banned;
	struct tconn		*tc, *next;
	size_t			 n, i;

	n = metadata_culprits(t->md, ids, nitems(ids));
	for (tc = TAILQ_FIRST(&t->conns); tc != NULL; tc = next) {
		next = TAILQ_NEXT(tc, entry);
		for (i = 0; i < n && ids[i] != tc->seq; i++)
			;
		if (i == n || tc->c == NULL)
			continue;
		memset(&k, 0, sizeof(k));
		k.a = *net_conn_addr(tc->c);
		if (peer_handshake(tc->p) != NULL)
			memcpy(k.id, peer_handshake(tc->p)->peer_id, 20);
		(void)swarm_on_piece_failed(t->sw, &k, 1, false, &banned);
		log_info("%s: banned peer %s: its metadata failed the "
		    "info-hash check", t->name, net_conn_name(tc->c));
		if (tc == self)
			*self_bad = true;	/* closed by the caller */
		else
			net_close(tc->c, "banned: bad metadata");
	}
}

static enum gt_err
md_data(struct torrent *t, struct tconn *tc, const struct ext_md *m)
{
	bool	self_bad = false;

	if (t->md == NULL || t->md_done)
		return GT_OK;			/* late or unsolicited */
	switch (metadata_on_data(t->md, tc->seq, m->piece, m->total_size,
	    m->data, m->len, now_ms(t))) {
	case METADATA_IGNORED:
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "metadata piece "
		    "%u ignored (not asked, or a duplicate)", m->piece);
		return GT_OK;
	case METADATA_BAD:
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "metadata piece "
		    "%u malformed (%zu bytes, total %u)", m->piece, m->len,
		    m->total_size);
		torrent_md_fill_all(t);	/* its pieces are for others now */
		return GT_EPROTO;
	case METADATA_KEPT:
		if (!tc->md_gave) {
			tc->md_gave = true;
			log_info("%s: metadata from %s", t->name,
			    net_conn_name(tc->c));
		}
		torrent_md_fill_all(t);
		return GT_OK;
	case METADATA_FAILED:
		log_info("%s: metadata failed the info-hash check; fetching "
		    "it again", t->name);
		md_drop_culprits(t, tc, &self_bad);
		torrent_md_fill_all(t);
		return self_bad ? GT_EPROTO : GT_OK;
	case METADATA_DONE:
		if (!tc->md_gave)
			log_info("%s: metadata from %s", t->name,
			    net_conn_name(tc->c));
		tc->md_gave = true;
		log_info("%s: metadata verified (%u bytes)", t->name,
		    metadata_size(t->md));
		t->md_done = true;
		reactor_timer_in(t->md_timer, 0);	/* not inside a hook */
		return GT_OK;
	}
	return GT_OK;
}

static enum gt_err
ext_on_metadata(struct torrent *t, struct tconn *tc, const uint8_t *data,
    size_t len)
{
	struct ext_md	m;
	enum gt_err	e;

	if ((e = extmsg_parse_metadata(data, len, &m)) == GT_EUNSUP)
		return GT_OK;		/* an unknown msg_type: ignored */
	if (e != GT_OK)
		return e;
	switch (m.type) {
	case EXT_MD_REQUEST:
		md_serve(t, tc, m.piece);
		return GT_OK;
	case EXT_MD_DATA:
		return md_data(t, tc, &m);
	case EXT_MD_REJECT:
		if (t->md != NULL && !t->md_done) {
			metadata_on_reject(t->md, tc->seq, m.piece,
			    now_ms(t));
			torrent_md_fill_all(t);
		}
		return GT_OK;
	}
	return GT_OK;
}

/* -- PEX -- */

/* Where others can reach tc's peer: its address, or its listen port. */
static bool
pex_addr(const struct tconn *tc, struct netaddr *a)
{
	*a = *net_conn_addr(tc->c);
	if (!net_conn_outbound(tc->c)) {
		if (!tc->got_ext || tc->ext.port == 0)
			return false;
		a->port = tc->ext.port;
	}
	return addr_is_dialable(a);
}

/* One PEX message to `to` when due: who joined and left since the last. */
static void
pex_send(struct torrent *t, struct tconn *to, uint64_t now)
{
	struct ext_pex_peer	*cur, added[PEX_MAX_ADDED];
	struct netaddr		 dropped[PEX_MAX_ADDED], a;
	struct tconn		*o;
	struct buf		 b;
	size_t			 n = 0, na, nd;

	cur = xcalloc(t->nconns + 1, sizeof(*cur));
	TAILQ_FOREACH(o, &t->conns, entry) {
		if (o == to || !tc_live(o) || !pex_addr(o, &a))
			continue;
		cur[n++] = (struct ext_pex_peer){
			.a = a,
			.flags = (uint8_t)((peer_is_seed(o->p) ?
			    EXT_PEX_SEED : 0) | (net_conn_outbound(o->c) ?
			    EXT_PEX_REACHABLE : 0)),
		};
	}
	if (pex_message(to->pex, cur, n, now, added, &na, dropped, &nd)) {
		buf_init(&b, 16384);
		if (extmsg_put_pex(&b, added, na, dropped, nd) == GT_OK) {
			log_obj_at(LOG_DEBUG, net_conn_name(to->c), "pex: "
			    "%zu added, %zu dropped", na, nd);
			ext_send(to, to->ext.ut_pex, &b);
		}
		buf_clear(&b);
	}
	free(cur);
}

static void
pex_rearm(struct torrent *t)
{
	const struct tconn	*tc;
	uint64_t		 d = UINT64_MAX;

	if (t->stopped)
		return;
	TAILQ_FOREACH(tc, &t->conns, entry)
		if (tc->pex != NULL && tc_live(tc))
			d = MIN(d, pex_deadline(tc->pex));
	if (d == UINT64_MAX)
		reactor_timer_cancel(t->pex_timer);
	else
		reactor_timer_at(t->pex_timer, d);
}

void
torrent_pex_timer_cb(void *arg)
{
	struct torrent	*t = arg;
	struct tconn	*tc;
	uint64_t	 now = now_ms(t);

	if (t->stopped)
		return;
	TAILQ_FOREACH(tc, &t->conns, entry)
		if (tc->pex != NULL && tc_live(tc) && pex_on(t))
			pex_send(t, tc, now);
	pex_rearm(t);
}

static enum gt_err
ext_on_pex(struct torrent *t, struct tconn *tc, const uint8_t *data,
    size_t len)
{
	struct ext_pex_peer	*added;
	struct netaddr		*ok, dropped[1];
	size_t			 na, nd, n;
	enum gt_err		 e;

	if (!pex_on(t))
		return GT_OK;		/* we offered no ut_pex */
	if (tc->pex == NULL)
		tc->pex = pex_new(now_ms(t));
	if (!pex_accept(tc->pex, now_ms(t))) {
		log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "pex: too soon "
		    "after the last one, ignored");
		return GT_OK;
	}
	added = xcalloc(2 * EXT_PEX_MAX_ADDED, sizeof(*added));
	e = extmsg_parse_pex(data, len, added, 2 * EXT_PEX_MAX_ADDED, &na,
	    dropped, 0, &nd);
	if (e != GT_OK) {
		free(added);
		return e;
	}
	ok = xcalloc(na + 1, sizeof(*ok));
	n = pex_usable(added, na, ok);
	log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "pex: %zu peers (%zu "
	    "usable)", na, n);
	torrent_add_peers_from(t, ok, n, SWARM_SRC_PEX);
	free(ok);
	free(added);
	return GT_OK;
}

/* -- dispatch -- */

static enum gt_err
ext_on_handshake(struct torrent *t, struct tconn *tc, const uint8_t *data,
    size_t len)
{
	struct ext_handshake	eh;
	enum gt_err		e;

	if ((e = extmsg_parse_handshake(data, len, &eh)) != GT_OK)
		return e;
	tc->ext = eh;
	tc->got_ext = true;
	log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "extended handshake: "
	    "client '%s', metadata %u (id %u), pex id %u, port %u, reqq %u",
	    eh.client, eh.metadata_size, eh.ut_metadata, eh.ut_pex, eh.port,
	    eh.reqq);
	if (eh.reqq != 0)
		peer_set_reqq(tc->p, eh.reqq);
	if (t->md != NULL && !t->md_done && !tc->md_peer &&
	    eh.ut_metadata != 0) {
		if (eh.bad_metadata_size)
			log_obj_at(LOG_DEBUG, net_conn_name(tc->c), "absurd "
			    "metadata_size: not asked for metadata");
		else if (eh.metadata_size != 0 && metadata_peer_add(t->md,
		    tc->seq, eh.metadata_size)) {
			tc->md_peer = true;
			torrent_md_fill_all(t);	/* the size may be chosen now */
		}
	}
	if (pex_on(t) && eh.ut_pex != 0 && tc->pex == NULL) {
		tc->pex = pex_new(now_ms(t));
		pex_rearm(t);
	}
	return GT_OK;
}

enum gt_err
torrent_hook_extended(void *ctx, struct peer *p, uint8_t ext_id,
    const uint8_t *data, size_t len)
{
	struct tconn	*tc = ctx;
	struct torrent	*t = tc->t;

	(void)p;
	switch (ext_id) {
	case EXT_ID_HANDSHAKE:
		return ext_on_handshake(t, tc, data, len);
	case EXT_ID_METADATA:
		return ext_on_metadata(t, tc, data, len);
	case EXT_ID_PEX:
		return ext_on_pex(t, tc, data, len);
	default:
		log_obj_at(LOG_TRACE, net_conn_name(tc->c), "extended message "
		    "%u ignored", ext_id);
		return GT_OK;
	}
}

