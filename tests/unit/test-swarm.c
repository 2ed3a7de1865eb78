/* test-swarm.c - swarm policy, stepped with a fake clock */
#include <criterion/criterion.h>

#include <string.h>

#include "swarm.h"

#define T0	1000000		/* the fake clock starts here (ms) */

static struct netaddr
v4(uint8_t last, uint16_t port)
{
	struct netaddr	a;

	memset(&a, 0, sizeof(a));
	a.family = ADDR_V4;
	a.ip[0] = 127;
	a.ip[3] = last;
	a.port = port;
	return a;
}

static struct swarm *
mk(uint32_t max_peers)
{
	struct swarm_opts	o = {
		.max_peers = max_peers, .choking = true, .optimistic = true,
		.anti_snub = true,
	};

	return swarm_new(&o, 42);
}

/* Every candidate due at now, in the order swarm_next_dial gives them. */
static size_t
dial_all(struct swarm *sw, uint64_t now, uint32_t *ids, size_t max)
{
	struct netaddr	a;
	size_t		n = 0;

	while (n < max && swarm_next_dial(sw, now, &ids[n], &a))
		n++;
	return n;
}

Test(swarm, add_dedupes_and_drops_undialable)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a[6];

	a[0] = v4(1, 6881);
	a[1] = v4(2, 6881);
	a[2] = v4(1, 6881);		/* again */
	a[3] = v4(3, 0);		/* port 0 */
	memset(&a[4], 0, sizeof(a[4]));	/* 0.0.0.0 */
	a[4].family = ADDR_V4;
	a[4].port = 6881;
	a[5] = v4(4, 6881);
	a[5].ip[0] = 224;		/* multicast */
	cr_assert_eq(swarm_add_peers(sw, a, 6, false), 2);
	cr_assert_eq(swarm_ncands(sw), 2);
	cr_assert_eq(swarm_add_peers(sw, a, 2, false), 0);
	swarm_free(sw);
}

Test(swarm, broadcast_never_dialled)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(255, 6881);

	a.ip[0] = a.ip[1] = a.ip[2] = 255;
	cr_assert_eq(swarm_add_peers(sw, &a, 1, true), 0);
	swarm_free(sw);
}

Test(swarm, cap_on_candidates)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a;
	uint32_t	 i;

	for (i = 0; i < SWARM_MAX_CANDS + 10; i++) {
		a = v4((uint8_t)(i % 250 + 1), (uint16_t)(1000 + i / 250));
		swarm_add_peers(sw, &a, 1, false);
	}
	cr_assert_eq(swarm_ncands(sw), SWARM_MAX_CANDS);
	swarm_free(sw);
}

Test(swarm, dial_once_each_until_closed)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a[3] = { v4(1, 1), v4(2, 2), v4(3, 3) };
	uint32_t	 ids[8];

	swarm_add_peers(sw, a, 3, false);
	cr_assert_eq(dial_all(sw, T0, ids, 8), 3);
	cr_assert_eq(dial_all(sw, T0, ids, 8), 0);	/* all connected */
	swarm_on_connected(sw, ids[0]);
	swarm_on_closed(sw, ids[0], true, T0);
	/* closed after a handshake: back after the first wait, 2 s */
	cr_assert_eq(dial_all(sw, T0 + 1999, ids, 8), 0);
	cr_assert_eq(dial_all(sw, T0 + 2000, ids, 8), 1);
	swarm_free(sw);
}

Test(swarm, backoff_doubles_to_a_cap_then_gives_up)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(1, 1);
	uint64_t	 now = T0, wait = SWARM_RETRY_MIN_MS;
	uint32_t	 id;
	int		 i;

	swarm_add_peers(sw, &a, 1, false);
	for (i = 0; i < SWARM_GIVE_UP; i++) {
		cr_assert(swarm_next_dial(sw, now, &id, &a), "try %d", i);
		swarm_on_closed(sw, id, false, now);	/* never answered */
		cr_assert_not(swarm_next_dial(sw, now + wait - 1, &id, &a));
		now += wait;
		wait = wait * 2 > SWARM_RETRY_MAX_MS ? SWARM_RETRY_MAX_MS :
		    wait * 2;
	}
	/* SWARM_GIVE_UP failures in a row: given up */
	cr_assert_not(swarm_next_dial(sw, now + SWARM_RETRY_MAX_MS, &id, &a));
	/* fresh news from a tracker makes it due again */
	swarm_add_peers(sw, &a, 1, false);
	cr_assert_not(swarm_next_dial(sw, now, &id, &a));	/* given up */
	swarm_free(sw);
}

Test(swarm, explicit_never_given_up)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(1, 1);
	uint64_t	 now = T0;
	uint32_t	 id;
	int		 i;

	swarm_add_peers(sw, &a, 1, true);
	for (i = 0; i < 3 * SWARM_GIVE_UP; i++) {
		cr_assert(swarm_next_dial(sw, now, &id, &a), "try %d", i);
		swarm_on_dial_failed(sw, id, now);
		now += SWARM_RETRY_MAX_MS;
	}
	swarm_free(sw);
}

Test(swarm, explicit_failure_warned_once)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(1, 1), b = v4(2, 2);
	uint64_t	 now = T0;
	uint32_t	 id;
	int		 i, warned = 0;

	swarm_add_peers(sw, &a, 1, true);
	swarm_add_peers(sw, &b, 1, false);
	for (i = 0; i < 6; i++) {
		cr_assert(swarm_next_dial(sw, now, &id, &a), "try %d", i);
		if (swarm_warn_once(sw, id))
			warned++;
		swarm_on_dial_failed(sw, id, now);
		now += SWARM_RETRY_MAX_MS;
	}
	cr_assert_eq(warned, 1);	/* the --peer once, the other never */
	swarm_free(sw);
}

Test(swarm, fresh_news_resets_the_wait)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(1, 1);
	uint32_t	 id;

	swarm_add_peers(sw, &a, 1, false);
	cr_assert(swarm_next_dial(sw, T0, &id, &a));
	swarm_on_closed(sw, id, false, T0);
	cr_assert_not(swarm_next_dial(sw, T0 + 1, &id, &a));
	swarm_add_peers(sw, &a, 1, false);
	cr_assert(swarm_next_dial(sw, T0 + 1, &id, &a));
	swarm_free(sw);
}

Test(swarm, a_handshake_clears_the_failures)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(1, 1);
	uint64_t	 now = T0;
	uint32_t	 id;
	int		 i;

	swarm_add_peers(sw, &a, 1, false);
	for (i = 0; i < 4; i++) {
		cr_assert(swarm_next_dial(sw, now, &id, &a));
		swarm_on_closed(sw, id, false, now);
		now += SWARM_RETRY_MAX_MS;
	}
	cr_assert(swarm_next_dial(sw, now, &id, &a));
	swarm_on_connected(sw, id);
	swarm_on_closed(sw, id, true, now);
	/* one failure's wait again, not 2^4 of them */
	cr_assert(swarm_next_dial(sw, now + SWARM_RETRY_MIN_MS, &id, &a));
	swarm_free(sw);
}

Test(swarm, seeds_skipped_once_complete_and_self_never)
{
	struct swarm		*sw = mk(50);
	struct netaddr		 a[2] = { v4(1, 1), v4(2, 2) };
	struct swarm_counts	 c = {
		.global_room = 100, .complete = true, .seeding = true,
	};
	struct swarm_actions	 act;
	uint32_t		 ids[4];

	swarm_add_peers(sw, a, 2, false);
	cr_assert_eq(dial_all(sw, T0, ids, 4), 2);
	swarm_on_seed(sw, ids[0]);
	swarm_on_closed(sw, ids[0], true, T0);
	swarm_on_self(sw, ids[1]);
	swarm_on_closed(sw, ids[1], true, T0);
	swarm_start(sw, T0);
	swarm_tick(sw, &c, T0, &act);		/* learns: complete */
	cr_assert_eq(dial_all(sw, T0 + SWARM_RETRY_MAX_MS, ids, 4), 0);
	c.complete = false;
	swarm_tick(sw, &c, T0 + SWARM_TICK_MS, &act);
	/* the seed is worth dialling while we lack pieces; ourselves not */
	cr_assert_eq(dial_all(sw, T0 + SWARM_RETRY_MAX_MS, ids, 4), 1);
	swarm_free(sw);
}

Test(swarm, lone_sender_of_a_bad_piece_is_banned)
{
	struct swarm		*sw = mk(50);
	struct swarm_contrib	 k = { .a = v4(9, 9) }, out[1];
	struct netaddr		 a = v4(9, 9);
	uint32_t		 id;

	memset(k.id, 0x11, 20);
	swarm_add_peers(sw, &a, 1, false);
	cr_assert_eq(swarm_on_piece_failed(sw, &k, 1, false, out), 1);
	cr_assert(addr_eq(&out[0].a, &a));
	cr_assert(swarm_is_banned(sw, &a, NULL));
	cr_assert(swarm_is_banned(sw, NULL, k.id));
	cr_assert_not(swarm_next_dial(sw, T0, &id, &a));
	/* banned once only */
	cr_assert_eq(swarm_on_piece_failed(sw, &k, 1, false, out), 0);
	cr_assert_eq(swarm_nbans(sw), 1);
	/* a later address announced is born banned */
	swarm_add_peers(sw, &a, 1, true);
	cr_assert_not(swarm_next_dial(sw, T0, &id, &a));
	swarm_free(sw);
}

Test(swarm, strikes_ban_at_the_third)
{
	struct swarm		*sw = mk(50);
	struct swarm_contrib	 k[2], out[2];
	int			 i;

	memset(k, 0, sizeof(k));
	k[0].a = v4(1, 1);
	k[1].a = v4(2, 2);
	for (i = 1; i < SWARM_BAN_STRIKES; i++)
		cr_assert_eq(swarm_on_piece_failed(sw, k, 2, false, out), 0);
	cr_assert_eq(swarm_on_piece_failed(sw, k, 2, false, out), 2);
	cr_assert(swarm_is_banned(sw, &k[0].a, NULL));
	cr_assert(swarm_is_banned(sw, &k[1].a, NULL));
	/* a zero peer id (unknown) matches nobody */
	cr_assert_not(swarm_is_banned(sw, NULL, k[0].id));
	swarm_free(sw);
}

Test(swarm, one_of_many_gets_a_strike_only)
{
	struct swarm		*sw = mk(50);
	struct swarm_contrib	 k = { .a = v4(1, 1) }, out[1];

	/* one listed sender among more than the list holds */
	cr_assert_eq(swarm_on_piece_failed(sw, &k, 1, true, out), 0);
	cr_assert_not(swarm_is_banned(sw, &k.a, NULL));
	swarm_free(sw);
}

Test(swarm, seen_counts_each_peer_once)
{
	struct swarm	*sw = mk(50);
	uint8_t		 id[20];
	uint32_t	 i;

	memset(id, 1, 20);
	swarm_on_handshake(sw, id);
	swarm_on_handshake(sw, id);
	cr_assert_eq(swarm_seen(sw), 1);
	for (i = 0; i < SWARM_MAX_SEEN + 5; i++) {
		memcpy(id, &i, sizeof(i));
		swarm_on_handshake(sw, id);
	}
	cr_assert_eq(swarm_seen(sw), SWARM_MAX_SEEN);
	swarm_free(sw);
}

Test(swarm, duplicate_connections_agree)
{
	uint8_t	lo[20], hi[20];

	memset(lo, 1, 20);
	memset(hi, 2, 20);
	/* same direction twice: the old one stays */
	cr_assert_not(swarm_keep_new(lo, hi, true, true));
	cr_assert_not(swarm_keep_new(lo, hi, false, false));
	/*
	 * Both dialled.  We are lo: keep the one we dialled.  The peer (hi)
	 * decides the same way about the same TCP connection.
	 */
	cr_assert(swarm_keep_new(lo, hi, true, false));
	cr_assert_not(swarm_keep_new(lo, hi, false, true));
	cr_assert(swarm_keep_new(hi, lo, false, true));
	cr_assert_not(swarm_keep_new(hi, lo, true, false));
}

Test(swarm, rhythm_of_dials_and_rechokes)
{
	struct swarm		*sw = mk(50);
	struct swarm_counts	 c = { .global_room = 1000 };
	struct swarm_actions	 act;
	uint64_t		 now = T0;
	int			 rechokes = 0, rotations = 0;

	cr_assert_eq(swarm_deadline(sw), UINT64_MAX);	/* not started */
	swarm_tick(sw, &c, now, &act);
	cr_assert_eq(act.dial, 0);
	swarm_start(sw, now);
	cr_assert_eq(swarm_deadline(sw), now);
	swarm_tick(sw, &c, now, &act);
	cr_assert_eq(act.dial, SWARM_MAX_HALF_OPEN);
	cr_assert_not(act.rechoke);
	cr_assert_eq(swarm_deadline(sw), now + SWARM_TICK_MS);
	/* nothing due before the deadline */
	swarm_tick(sw, &c, now + 10, &act);
	cr_assert_eq(act.dial, 0);
	while (now < T0 + 90000) {
		now = swarm_deadline(sw);
		swarm_tick(sw, &c, now, &act);
		rechokes += act.rechoke;
		rotations += act.rotate;
	}
	cr_assert_eq(rechokes, 9);
	cr_assert_eq(rotations, 3);
	swarm_stop(sw);
	cr_assert_eq(swarm_deadline(sw), UINT64_MAX);
	swarm_free(sw);
}

Test(swarm, dial_room_is_the_smallest_cap)
{
	struct swarm		*sw = mk(20);
	struct swarm_counts	 c = { .global_room = 1000 };
	struct swarm_actions	 act;

	swarm_start(sw, T0);
	c.conns = 15;
	swarm_tick(sw, &c, T0, &act);
	cr_assert_eq(act.dial, 5);		/* torrent cap */
	c.conns = 0;
	c.global_room = 3;
	swarm_tick(sw, &c, T0 + SWARM_TICK_MS, &act);
	cr_assert_eq(act.dial, 3);		/* session cap */
	c.global_room = 1000;
	c.half_open = SWARM_MAX_HALF_OPEN - 2;
	swarm_tick(sw, &c, T0 + 2 * SWARM_TICK_MS, &act);
	cr_assert_eq(act.dial, 2);		/* half-open cap */
	c.conns = 25;
	swarm_tick(sw, &c, T0 + 3 * SWARM_TICK_MS, &act);
	cr_assert_eq(act.dial, 0);
	swarm_free(sw);
}

Test(swarm, dial_soon_brings_the_tick_forward)
{
	struct swarm		*sw = mk(20);
	struct swarm_counts	 c = { .global_room = 1000 };
	struct swarm_actions	 act;

	swarm_dial_soon(sw, T0);		/* not started: nothing */
	cr_assert_eq(swarm_deadline(sw), UINT64_MAX);
	swarm_start(sw, T0);
	swarm_tick(sw, &c, T0, &act);
	swarm_dial_soon(sw, T0 + 5);
	cr_assert_eq(swarm_deadline(sw), T0 + 5);
	swarm_free(sw);
}

Test(swarm, who_asks_the_trackers_for_peers)
{
	struct swarm		*sw = mk(20);
	struct swarm_counts	 c = { .global_room = 1000 };
	struct swarm_actions	 act;
	uint64_t		 now = T0;

	swarm_start(sw, now);
	/* a leecher with nobody */
	swarm_tick(sw, &c, now, &act);
	cr_assert(act.need_peers);
	c.peers = 3;
	now += SWARM_TICK_MS;
	swarm_tick(sw, &c, now, &act);
	cr_assert_not(act.need_peers);
	/* a seed with peers but none to serve (Transmission never dials) */
	c.complete = c.seeding = true;
	now += SWARM_TICK_MS;
	swarm_tick(sw, &c, now, &act);
	cr_assert(act.need_peers);
	/* ... with no candidate, so no share of the session's cap */
	c.global_room = 0;
	now += SWARM_TICK_MS;
	swarm_tick(sw, &c, now, &act);
	cr_assert(act.need_peers, "a seed alone asks for peers");
	cr_assert_eq(act.dial, 0);
	c.global_room = 1000;
	c.leechers = 1;
	now += SWARM_TICK_MS;
	swarm_tick(sw, &c, now, &act);
	cr_assert_not(act.need_peers);
	/* complete and not seeding: leaving, nobody to meet */
	c.seeding = false;
	c.leechers = 0;
	now += SWARM_TICK_MS;
	swarm_tick(sw, &c, now, &act);
	cr_assert_not(act.need_peers);
	cr_assert_eq(act.dial, 0);
	swarm_free(sw);
}

Test(swarm, serving)
{
	struct swarm	*sw = mk(20);

	cr_assert_eq(swarm_serve(sw, true, false, 0), SWARM_SERVE);
	cr_assert_eq(swarm_serve(sw, true, false, SWARM_SERVE_HIGH - 1),
	    SWARM_SERVE);
	cr_assert_eq(swarm_serve(sw, true, false, SWARM_SERVE_HIGH),
	    SWARM_SERVE_LATER);
	cr_assert_eq(swarm_serve(sw, false, false, 0), SWARM_SERVE_REJECT);
	cr_assert_eq(swarm_serve(sw, true, true, 0), SWARM_SERVE_REJECT);
	swarm_free(sw);
}

Test(swarm, newcomers_and_rechoke)
{
	struct swarm		*sw = mk(20);
	struct choke_peer	 p[6];
	bool			 un[6], opt[6];
	size_t			 i, nun = 0, nopt = 0;

	cr_assert(swarm_unchoke_newcomer(sw, SWARM_UNCHOKE_SLOTS));
	cr_assert_not(swarm_unchoke_newcomer(sw, SWARM_UNCHOKE_SLOTS + 1));
	memset(p, 0, sizeof(p));
	for (i = 0; i < 6; i++) {
		p[i].id = (uint32_t)i;
		p[i].interested = true;
		p[i].down_rate = 1000 * (i + 1);
	}
	swarm_rechoke(sw, p, 6, true, false, T0, un, opt);
	for (i = 0; i < 6; i++) {
		nun += un[i];
		nopt += opt[i];
	}
	cr_assert_eq(nun, SWARM_UNCHOKE_SLOTS + 1);	/* and an optimist */
	cr_assert_eq(nopt, 1);
	for (i = 2; i < 6; i++)
		cr_assert(un[i], "fastest %zu unchoked", i);
	swarm_free(sw);
}

/* six interested peers, peer i sending (i + 1) KB/s; peer 5 snubbed */
static void
six(struct choke_peer *p)
{
	size_t	i;

	memset(p, 0, 6 * sizeof(*p));
	for (i = 0; i < 6; i++) {
		p[i].id = (uint32_t)i;
		p[i].interested = true;
		p[i].down_rate = 1000 * (i + 1);
	}
	p[5].snubbed = true;
}

static size_t
nset(const bool *v, size_t n)
{
	size_t	i, c = 0;

	for (i = 0; i < n; i++)
		c += v[i];
	return c;
}

Test(swarm, slots_from_the_options)
{
	struct swarm_opts	o = { .max_peers = 20, .choking = true };
	struct swarm		*sw;

	sw = swarm_new(&o, 1);
	cr_assert_eq(swarm_unchoke_slots(sw), CHOKE_DEFAULT_SLOTS);
	swarm_free(sw);
	o.max_up_rate = 10 * 1024;
	sw = swarm_new(&o, 1);
	cr_assert_eq(swarm_unchoke_slots(sw), 3);
	swarm_free(sw);
	o.unchoke_slots = 11;			/* --upload-slots wins */
	sw = swarm_new(&o, 1);
	cr_assert_eq(swarm_unchoke_slots(sw), 11);
	swarm_free(sw);
}

Test(swarm, switches)
{
	struct swarm_opts	o = {
		.max_peers = 20, .unchoke_slots = 2, .choking = true,
		.optimistic = true, .anti_snub = true,
	};
	struct swarm		*sw;
	struct choke_peer	 p[6];
	bool			 un[6], opt[6];

	/* All on: 2 regular (not the snubbed fastest), 1 optimistic. */
	six(p);
	sw = swarm_new(&o, 1);
	cr_assert(swarm_unchoke_newcomer(sw, 2));
	cr_assert_not(swarm_unchoke_newcomer(sw, 3));
	swarm_rechoke(sw, p, 6, true, false, T0, un, opt);
	cr_assert(un[3] && un[4]);
	cr_assert_eq(nset(un, 6), 3);
	cr_assert_eq(nset(opt, 6), 1);
	swarm_free(sw);

	/* No anti-snubbing: the snubbed peer's rate counts. */
	o.anti_snub = false;
	o.optimistic = false;
	sw = swarm_new(&o, 1);
	cr_assert(swarm_unchoke_newcomer(sw, 1));
	cr_assert_not(swarm_unchoke_newcomer(sw, 2), "no optimist's room");
	swarm_rechoke(sw, p, 6, true, false, T0, un, opt);
	cr_assert(un[4] && un[5]);
	cr_assert_eq(nset(un, 6), 2);
	cr_assert_eq(nset(opt, 6), 0);
	swarm_free(sw);

	/* No choking: every interested peer, newcomers always. */
	o.choking = false;
	sw = swarm_new(&o, 1);
	cr_assert(swarm_unchoke_newcomer(sw, 19));
	p[0].interested = false;
	swarm_rechoke(sw, p, 6, true, false, T0, un, opt);
	cr_assert_eq(nset(un, 6), 5);
	cr_assert_not(un[0]);
	swarm_free(sw);
}

Test(swarm, source_first_given_wins)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a[4], got;
	uint32_t	 id;
	enum swarm_source src[4] = { 0 };
	bool		 seen[4] = { false };

	a[0] = v4(1, 6881);
	a[1] = v4(2, 6881);
	a[2] = v4(3, 6881);
	a[3] = v4(4, 6881);
	cr_assert_eq(swarm_add_peers_from(sw, &a[0], 1, SWARM_SRC_TRACKER),
	    1);
	cr_assert_eq(swarm_add_peers_from(sw, &a[1], 1, SWARM_SRC_DHT), 1);
	cr_assert_eq(swarm_add_peers_from(sw, &a[2], 1, SWARM_SRC_PEX), 1);
	cr_assert_eq(swarm_add_peers(sw, &a[3], 1, true), 1);
	/* news of a known address: the first source stays ... */
	cr_assert_eq(swarm_add_peers_from(sw, &a[1], 1, SWARM_SRC_PEX), 0);
	cr_assert_eq(swarm_add_peers_from(sw, &a[2], 1, SWARM_SRC_TRACKER),
	    0);
	/* ... unless it is given explicitly */
	cr_assert_eq(swarm_add_peers_from(sw, &a[0], 1, SWARM_SRC_GIVEN), 0);
	while (swarm_next_dial(sw, T0, &id, &got)) {
		cr_assert_eq(got.family, ADDR_V4);
		cr_assert(got.ip[3] >= 1 && got.ip[3] <= 4);
		src[got.ip[3] - 1] = swarm_cand_source(sw, id);
		seen[got.ip[3] - 1] = true;
	}
	cr_assert(seen[0] && seen[1] && seen[2] && seen[3]);
	cr_assert_eq(src[0], SWARM_SRC_GIVEN);
	cr_assert_eq(src[1], SWARM_SRC_DHT);
	cr_assert_eq(src[2], SWARM_SRC_PEX);
	cr_assert_eq(src[3], SWARM_SRC_GIVEN);
	/* an id it never gave */
	cr_assert_eq(swarm_cand_source(sw, 4), SWARM_SRC_TRACKER);
	cr_assert_eq(swarm_cand_source(sw, UINT32_MAX), SWARM_SRC_TRACKER);
	swarm_free(sw);
}

Test(swarm, given_source_never_given_up)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a = v4(9, 6881), got;
	uint32_t	 id;
	uint64_t	 now = T0;
	int		 i;

	swarm_add_peers_from(sw, &a, 1, SWARM_SRC_GIVEN);
	for (i = 0; i < SWARM_GIVE_UP + 2; i++) {
		cr_assert(swarm_next_dial(sw, now, &id, &got), "round %d", i);
		swarm_on_closed(sw, id, false, now);
		now += SWARM_RETRY_MAX_MS;
	}
	swarm_free(sw);
}

Test(swarm, redial_now_skips_backoff_not_bans_nor_given_up)
{
	struct swarm	*sw = mk(50);
	struct netaddr	 a[3], got;
	struct swarm_contrib k;
	uint32_t	 id, ids[4];
	uint64_t	 now = T0;
	int		 i;

	a[0] = v4(1, 6881);
	a[1] = v4(2, 6881);
	a[2] = v4(3, 6881);
	swarm_add_peers(sw, a, 3, false);
	/* a[0]: connected then closed (a pause): 2 s of backoff */
	cr_assert_eq(dial_all(sw, now, ids, 4), 3);
	for (i = 0; i < 3; i++)
		swarm_on_closed(sw, ids[i], true, now);
	/* a[2] banned */
	memset(&k, 0, sizeof(k));
	k.a = a[2];
	cr_assert_eq(swarm_on_piece_failed(sw, &k, 1, false, &k), 1);
	cr_assert_eq(dial_all(sw, now + 1, ids, 4), 0, "backoff");
	swarm_redial_now(sw);
	cr_assert_eq(dial_all(sw, now + 1, ids, 4), 2, "due at once");
	for (i = 0; i < 2; i++)
		swarm_on_closed(sw, ids[i], false, now);
	/* given up after SWARM_GIVE_UP failures: redial_now keeps it so */
	for (i = 0; i < SWARM_GIVE_UP; i++) {
		now += SWARM_RETRY_MAX_MS;
		while (swarm_next_dial(sw, now, &id, &got))
			swarm_on_closed(sw, id, false, now);
	}
	swarm_redial_now(sw);
	cr_assert_eq(dial_all(sw, now, ids, 4), 0, "given up");
	swarm_free(sw);
}
