/* torrent-view.c - what the full-screen view reads of a torrent */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announcer.h"
#include "bitfield.h"
#include "net.h"
#include "peer.h"
#include "peerid.h"
#include "picker.h"
#include "swarm.h"
#include "torrent-int.h"
#include "torrent.h"
#include "util.h"

/*
 * Read-only snapshots for the user (the full-screen view, NDJSON): the
 * peers, the piece map, the trackers.  Each is a copy into the caller's
 * storage, valid until the caller asks again; nothing here changes the
 * torrent (torrent_pause is in torrent.c, with the life cycle).
 */

_Static_assert(TORRENT_CLIENT_LEN >= PEERID_CLIENT_LEN,
    "room for peerid_client");

static enum torrent_peer_source
tc_source(const struct torrent *t, const struct tconn *tc)
{
	if (tc->cand == UINT32_MAX || !net_conn_outbound(tc->c))
		return TORRENT_SRC_INCOMING;
	switch (swarm_cand_source(t->sw, tc->cand)) {
	case SWARM_SRC_DHT:
		return TORRENT_SRC_DHT;
	case SWARM_SRC_PEX:
		return TORRENT_SRC_PEX;
	case SWARM_SRC_GIVEN:
		return TORRENT_SRC_GIVEN;
	case SWARM_SRC_TRACKER:
		break;
	}
	return TORRENT_SRC_TRACKER;
}

static void
peer_info(const struct torrent *t, const struct tconn *tc, uint64_t now,
    struct torrent_peer_info *pi)
{
	const struct wire_handshake	*hs = peer_handshake(tc->p);
	const struct bitfield		*has = peer_has(tc->p);

	*pi = (struct torrent_peer_info){
		.addr = *net_conn_addr(tc->c),
		.am_choking = peer_am_choking(tc->p),
		.am_interested = peer_am_interested(tc->p),
		.peer_choking = peer_is_choking(tc->p),
		.peer_interested = peer_is_interested(tc->p),
		.snubbed = peer_is_snubbed(tc->p),
		.optimistic = tc->optimistic,
		.incoming = !net_conn_outbound(tc->c),
		.seed = peer_is_seed(tc->p),
		.source = tc_source(t, tc),
		.down_rate = peer_down_rate(tc->p, now),
		.up_rate = peer_up_rate(tc->p, now),
		.downloaded = peer_downloaded(tc->p),
		.uploaded = peer_uploaded(tc->p),
		.have_pieces = has != NULL ? has->count : 0,
		.requests = (uint32_t)MIN(peer_queue_len(tc->p), UINT32_MAX),
		.connected_ms = tc->active_ms,
	};
	if (hs != NULL) {
		memcpy(pi->peer_id, hs->peer_id, sizeof(pi->peer_id));
		pi->has_id = true;
		(void)peerid_client(pi->peer_id, pi->client,
		    sizeof(pi->client));
	}
}

size_t
torrent_peer_infos(const struct torrent *t, struct torrent_peer_info *out,
    size_t max, uint64_t now)
{
	const struct tconn	*tc;
	size_t			 n = 0;

	TAILQ_FOREACH(tc, &t->conns, entry) {
		if (!tc_live(tc))
			continue;
		if (n < max)
			peer_info(t, tc, now, &out[n]);
		n++;
	}
	return n;
}

uint32_t
torrent_piece_map(const struct torrent *t, uint8_t *state, uint16_t *avail,
    uint32_t n)
{
	uint32_t	i, a;
	uint8_t		st;

	if (t->m == NULL || t->pk == NULL)
		return 0;
	n = MIN(n, t->m->npieces);
	for (i = 0; i < n; i++) {
		if (state != NULL) {
			if (bitfield_get(&t->have, i))
				st = TORRENT_PIECE_HAVE;
			else if (picker_in_progress(t->pk, i))
				st = TORRENT_PIECE_PARTIAL;
			else if (picker_priority(t->pk, i) == 0)
				st = TORRENT_PIECE_SKIPPED;
			else
				st = TORRENT_PIECE_MISSING;
			state[i] = st;
		}
		if (avail != NULL) {
			a = picker_availability(t->pk, i);
			avail[i] = (uint16_t)MIN(a, UINT16_MAX);
		}
	}
	return n;
}

/* src into dst (len bytes), cut to fit, non-printable bytes as '?'. */
static void
copy_text(char *dst, size_t len, const char *src)
{
	size_t	i;

	for (i = 0; i + 1 < len && src != NULL && src[i] != '\0'; i++)
		dst[i] = (uint8_t)src[i] >= 0x20 && (uint8_t)src[i] < 0x7f ?
		    src[i] : '?';
	dst[i] = '\0';
}

static enum torrent_tracker_status
trk_status(enum announcer_status st)
{
	switch (st) {
	case ANNOUNCER_BUSY:
		return TORRENT_TRK_BUSY;
	case ANNOUNCER_OK:
		return TORRENT_TRK_OK;
	case ANNOUNCER_FAILED:
		return TORRENT_TRK_FAILED;
	case ANNOUNCER_IDLE:
		break;
	}
	return TORRENT_TRK_IDLE;
}

size_t
torrent_tracker_infos(const struct torrent *t,
    struct torrent_tracker_info *out, size_t max)
{
	struct announcer_tracker	 at[64], *v = at;
	size_t				 n, i;

	if (t->an == NULL)
		return 0;
	n = announcer_trackers(t->an, NULL, 0);
	if (n > nitems(at))
		v = xcalloc(n, sizeof(*v));
	(void)announcer_trackers(t->an, v, n);
	for (i = 0; i < n && i < max; i++) {
		out[i] = (struct torrent_tracker_info){
			.tier = v[i].tier,
			.status = trk_status(v[i].status),
			.seeders = v[i].seeders,
			.leechers = v[i].leechers,
			.next_ms = v[i].next_ms,
		};
		copy_text(out[i].url, sizeof(out[i].url), v[i].url);
		copy_text(out[i].result, sizeof(out[i].result), v[i].result);
	}
	if (v != at)
		free(v);
	return n;
}

bool
torrent_paused(const struct torrent *t)
{
	return t->paused;
}
