/* swarm.c - one torrent's swarm policy: whom to dial, ban, unchoke, serve */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "swarm.h"
#include "util.h"

/* A peer address to dial. */
struct cand {
	struct netaddr	a;
	uint64_t	retry_at;	/* ms; not before */
	uint16_t	fails;		/* connects that failed in a row */
	bool		explicit;	/* --peer: never given up */
	bool		warned;		/* swarm_warn_once said true */
	bool		connected;	/* a connection is open */
	bool		banned;		/* or ourselves */
	bool		seed;		/* had everything */
	uint8_t		src;		/* enum swarm_source */
};

struct strike {
	struct netaddr	a;
	uint32_t	n;
};

struct swarm {
	struct swarm_opts	 o;
	struct prng		 rng;
	struct cand		*cands;
	size_t			 ncands, cand_pos;
	struct swarm_contrib	*bans;
	size_t			 nbans;
	struct strike		*strikes;
	size_t			 nstrikes;
	uint8_t			(*seen)[20];	/* peer ids we exchanged with */
	size_t			 nseen;
	bool			 complete;	/* at the last tick */
	bool			 running;
	uint64_t		 next_dial;	/* ms, or UINT64_MAX */
	uint64_t		 next_choke;
	unsigned		 choke_round;
};

struct swarm *
swarm_new(const struct swarm_opts *o, uint64_t seed)
{
	struct swarm	*sw;

	sw = xcalloc(1, sizeof(*sw));
	sw->o = *o;
	if (sw->o.unchoke_slots == 0)
		sw->o.unchoke_slots = choke_auto_slots(o->max_up_rate);
	prng_seed(&sw->rng, seed);
	sw->next_dial = sw->next_choke = UINT64_MAX;
	return sw;
}

void
swarm_free(struct swarm *sw)
{
	if (sw == NULL)
		return;
	free(sw->cands);
	free(sw->bans);
	free(sw->strikes);
	free(sw->seen);
	free(sw);
}

/* ---- candidates ---------------------------------------------------------- */

static void
cand_retry(struct cand *k, bool failed, uint64_t now)
{
	uint64_t	wait = SWARM_RETRY_MIN_MS;
	unsigned	i;

	if (failed && k->fails < 16)
		k->fails++;
	for (i = 1; i < k->fails && wait < SWARM_RETRY_MAX_MS; i++)
		wait *= 2;
	k->retry_at = now + MIN(wait, SWARM_RETRY_MAX_MS);
}

static struct cand *
cand_get(struct swarm *sw, uint32_t id)
{
	return id < sw->ncands ? &sw->cands[id] : NULL;
}

size_t
swarm_add_peers(struct swarm *sw, const struct netaddr *a, size_t n,
    bool explicit)
{
	return swarm_add_peers_from(sw, a, n, explicit ? SWARM_SRC_GIVEN :
	    SWARM_SRC_TRACKER);
}

size_t
swarm_add_peers_from(struct swarm *sw, const struct netaddr *a, size_t n,
    enum swarm_source src)
{
	struct cand	*k;
	size_t		 i, j, added = 0;
	bool		 explicit = src == SWARM_SRC_GIVEN;

	for (i = 0; i < n; i++) {
		if (!addr_is_dialable(&a[i]))
			continue;
		for (j = 0; j < sw->ncands; j++)
			if (addr_eq(&sw->cands[j].a, &a[i]))
				break;
		if (j < sw->ncands) {
			k = &sw->cands[j];
			k->explicit |= explicit;
			if (explicit)
				k->src = SWARM_SRC_GIVEN;
			if (!k->connected && !k->banned && k->fails > 0 &&
			    !explicit)
				k->retry_at = 0;	/* fresh news */
			continue;
		}
		if (sw->ncands == SWARM_MAX_CANDS)
			break;
		sw->cands = xreallocarray(sw->cands, sw->ncands + 1,
		    sizeof(*sw->cands));
		sw->cands[sw->ncands++] = (struct cand){
			.a = a[i], .explicit = explicit, .src = (uint8_t)src,
			.banned = swarm_is_banned(sw, &a[i], NULL),
		};
		added++;
	}
	return added;
}

size_t
swarm_ncands(const struct swarm *sw)
{
	return sw->ncands;
}

enum swarm_source
swarm_cand_source(const struct swarm *sw, uint32_t id)
{
	return id < sw->ncands ? (enum swarm_source)sw->cands[id].src :
	    SWARM_SRC_TRACKER;
}

bool
swarm_next_dial(struct swarm *sw, uint64_t now, uint32_t *id,
    struct netaddr *a)
{
	struct cand	*k;
	size_t		 n, i;

	for (n = 0; n < sw->ncands; n++) {
		i = (sw->cand_pos + n) % sw->ncands;
		k = &sw->cands[i];
		if (k->connected || k->banned || k->retry_at > now ||
		    (k->seed && sw->complete))
			continue;
		if (!k->explicit && k->fails >= SWARM_GIVE_UP)
			continue;		/* given up */
		k->connected = true;
		sw->cand_pos = (i + 1) % sw->ncands;
		*id = (uint32_t)i;
		*a = k->a;
		return true;
	}
	return false;
}

void
swarm_redial_now(struct swarm *sw)
{
	size_t	i;

	for (i = 0; i < sw->ncands; i++)
		if (!sw->cands[i].connected)
			sw->cands[i].retry_at = 0;
}

void
swarm_on_dial_failed(struct swarm *sw, uint32_t id, uint64_t now)
{
	struct cand	*k = cand_get(sw, id);

	if (k == NULL)
		return;
	k->connected = false;
	cand_retry(k, true, now);
}

bool
swarm_warn_once(struct swarm *sw, uint32_t id)
{
	struct cand	*k = cand_get(sw, id);

	if (k == NULL || !k->explicit || k->warned)
		return false;
	k->warned = true;
	return true;
}

void
swarm_on_connected(struct swarm *sw, uint32_t id)
{
	struct cand	*k = cand_get(sw, id);

	if (k != NULL)
		k->fails = 0;
}

void
swarm_on_closed(struct swarm *sw, uint32_t id, bool handshaked,
    uint64_t now)
{
	struct cand	*k = cand_get(sw, id);

	if (k == NULL)
		return;
	k->connected = false;
	cand_retry(k, !handshaked, now);
}

void
swarm_on_seed(struct swarm *sw, uint32_t id)
{
	struct cand	*k = cand_get(sw, id);

	if (k != NULL)
		k->seed = true;
}

void
swarm_on_self(struct swarm *sw, uint32_t id)
{
	struct cand	*k = cand_get(sw, id);

	if (k != NULL)
		k->banned = true;
}

/* ---- bans ---------------------------------------------------------------- */

static const uint8_t	no_id[20];

bool
swarm_is_banned(const struct swarm *sw, const struct netaddr *a,
    const uint8_t *id)
{
	size_t	i;

	if (id != NULL && memcmp(id, no_id, 20) == 0)
		id = NULL;
	for (i = 0; i < sw->nbans; i++) {
		if (a != NULL && addr_eq(&sw->bans[i].a, a))
			return true;
		if (id != NULL && memcmp(sw->bans[i].id, id, 20) == 0)
			return true;
	}
	return false;
}

/* Bans k; false if it was banned already. */
static bool
ban(struct swarm *sw, const struct swarm_contrib *k)
{
	size_t	i;

	if (swarm_is_banned(sw, &k->a, NULL))
		return false;
	if (sw->nbans < SWARM_MAX_BANS) {
		sw->bans = xreallocarray(sw->bans, sw->nbans + 1,
		    sizeof(*sw->bans));
		sw->bans[sw->nbans++] = *k;
	}
	for (i = 0; i < sw->ncands; i++)
		if (addr_eq(&sw->cands[i].a, &k->a))
			sw->cands[i].banned = true;
	return true;
}

/* One more strike for k; true when that bans it. */
static bool
strike(struct swarm *sw, const struct swarm_contrib *k)
{
	size_t	i;

	for (i = 0; i < sw->nstrikes; i++)
		if (addr_eq(&sw->strikes[i].a, &k->a))
			break;
	if (i == sw->nstrikes) {
		if (sw->nstrikes == SWARM_MAX_BANS)
			return false;
		sw->strikes = xreallocarray(sw->strikes, sw->nstrikes + 1,
		    sizeof(*sw->strikes));
		sw->strikes[sw->nstrikes++] = (struct strike){ .a = k->a };
	}
	return ++sw->strikes[i].n >= SWARM_BAN_STRIKES && ban(sw, k);
}

size_t
swarm_on_piece_failed(struct swarm *sw, const struct swarm_contrib *c,
    size_t n, bool many, struct swarm_contrib *out)
{
	size_t	i, nout = 0;

	if (n == 1 && !many) {
		if (ban(sw, &c[0]))
			out[nout++] = c[0];
		return nout;
	}
	for (i = 0; i < n; i++)
		if (strike(sw, &c[i]))
			out[nout++] = c[i];
	return nout;
}

size_t
swarm_nbans(const struct swarm *sw)
{
	return sw->nbans;
}

/* ---- peers --------------------------------------------------------------- */

void
swarm_on_handshake(struct swarm *sw, const uint8_t *id)
{
	size_t	i;

	for (i = 0; i < sw->nseen; i++)
		if (memcmp(sw->seen[i], id, 20) == 0)
			return;
	if (sw->nseen == SWARM_MAX_SEEN)
		return;
	if (sw->seen == NULL)
		sw->seen = xcalloc(SWARM_MAX_SEEN, sizeof(*sw->seen));
	memcpy(sw->seen[sw->nseen++], id, 20);
}

uint32_t
swarm_seen(const struct swarm *sw)
{
	return (uint32_t)sw->nseen;
}

bool
swarm_keep_new(const uint8_t *our_id, const uint8_t *their_id,
    bool new_outbound, bool old_outbound)
{
	if (new_outbound == old_outbound)
		return false;
	/* the connection the lower id dialled stays */
	return new_outbound == (memcmp(our_id, their_id, 20) < 0);
}

/* ---- rhythm -------------------------------------------------------------- */

void
swarm_start(struct swarm *sw, uint64_t now)
{
	sw->running = true;
	sw->next_dial = now;
	sw->next_choke = now + CHOKE_INTERVAL_MS;
}

void
swarm_stop(struct swarm *sw)
{
	sw->running = false;
	sw->next_dial = sw->next_choke = UINT64_MAX;
}

void
swarm_dial_soon(struct swarm *sw, uint64_t now)
{
	if (sw->running && sw->next_dial > now)
		sw->next_dial = now;
}

uint64_t
swarm_deadline(const struct swarm *sw)
{
	return MIN(sw->next_dial, sw->next_choke);
}

static uint32_t
room(uint32_t cap, uint32_t used)
{
	return used < cap ? cap - used : 0;
}

void
swarm_tick(struct swarm *sw, const struct swarm_counts *c, uint64_t now,
    struct swarm_actions *act)
{
	uint32_t	n, mine;

	*act = (struct swarm_actions){ 0 };
	if (!sw->running)
		return;
	sw->complete = c->complete;
	if (now >= sw->next_choke) {
		act->rechoke = true;
		sw->choke_round++;
		act->rotate = sw->choke_round % (CHOKE_OPTIMISTIC_MS /
		    CHOKE_INTERVAL_MS) == 0;
		sw->next_choke = now + CHOKE_INTERVAL_MS;
	}
	if (now < sw->next_dial)
		return;
	sw->next_dial = now + SWARM_TICK_MS;
	if (c->complete && !c->seeding)
		return;			/* leaving: nobody to meet */
	n = room(sw->o.max_peers, c->conns);
	mine = n;
	n = MIN(n, c->global_room);
	n = MIN(n, room(SWARM_MAX_HALF_OPEN, c->half_open));
	act->dial = n;
	/*
	 * Short of peers: a leecher with nobody to download from, or a seed
	 * with nobody to serve and room for more under its own cap (the
	 * session's share of the global cap follows its candidates: with
	 * none, it has none).  The announce schedule bounds how often the
	 * trackers are asked.
	 */
	if (!c->complete)
		act->need_peers = c->peers == 0;
	else
		act->need_peers = c->leechers == 0 && mine > 0;
}

/* ---- choking and serving ------------------------------------------------- */

void
swarm_rechoke(struct swarm *sw, const struct choke_peer *p, size_t n,
    bool rotate, bool seeding, uint64_t now, bool *unchoke,
    bool *optimistic)
{
	struct choke_opts	o = {
		.slots = sw->o.unchoke_slots, .choking = sw->o.choking,
		.optimistic = sw->o.optimistic, .anti_snub = sw->o.anti_snub,
		.seeding = seeding,
	};

	choke_decide(&o, p, n, rotate, now, &sw->rng, unchoke, optimistic);
}

bool
swarm_unchoke_newcomer(const struct swarm *sw, uint32_t unchoked)
{
	if (!sw->o.choking)
		return true;
	return unchoked < sw->o.unchoke_slots + (sw->o.optimistic ? 1 : 0);
}

uint32_t
swarm_unchoke_slots(const struct swarm *sw)
{
	return sw->o.unchoke_slots;
}

enum swarm_serve
swarm_serve(const struct swarm *sw, bool have_piece, bool choking,
    size_t pending)
{
	(void)sw;
	if (!have_piece || choking)
		return SWARM_SERVE_REJECT;
	if (pending >= SWARM_SERVE_HIGH)
		return SWARM_SERVE_LATER;
	return SWARM_SERVE;
}
