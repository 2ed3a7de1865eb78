/* test-torrent-view.c - what the full-screen view reads of a torrent, and
 * pause/resume: two sessions and a tiny HTTP tracker on 127.0.0.1 */
#define TEST_ALARM_S	90
#define PL		16384		/* piece length */
#define NPIECES		64		/* 1 MiB */
#define SLOW_RATE	(256u * 1024)	/* the seed's upload, bytes/s */

#include "torrent-pair.h"

static void
setup(void)
{
	alarm(TEST_ALARM_S);
	tmp_setup();
}

TestSuite(view, .init = setup, .fini = tmp_teardown);

/* Both sides see one peer: flags, source, client, figures. */
Test(view, peer_infos_both_sides)
{
	struct pair		 p;
	struct torrent_peer_info pi[4];
	uint64_t		 now;

	pair_start(&p, SLOW_RATE);
	cr_assert(run_until(p.r, NULL, leecher_has_pieces, &p, 10000),
	    "no pieces");
	now = reactor_now_ms(p.r);
	cr_assert_eq(torrent_peer_infos(p.tl, pi, 4, now), 1);
	cr_assert_eq(torrent_peer_infos(p.tl, NULL, 0, now), 1, "count only");
	cr_assert_eq(pi[0].addr.port, session_port(p.ss));
	cr_assert_eq(pi[0].source, TORRENT_SRC_GIVEN);
	cr_assert_not(pi[0].incoming);
	cr_assert(pi[0].has_id);
	cr_assert(memcmp(pi[0].peer_id, SESSION_PEER_ID_PREFIX, 8) == 0);
	cr_assert_str_eq(pi[0].client, "gtorrent 0.1.0");
	cr_assert(pi[0].seed);
	cr_assert_not(pi[0].encrypted || pi[0].utp);
	cr_assert_eq(pi[0].have_pieces, NPIECES);
	cr_assert(pi[0].am_interested);
	cr_assert(pi[0].am_choking, "it wants nothing of ours");
	cr_assert_neq(pi[0].connected_ms, 0);
	cr_assert_leq(pi[0].connected_ms, now);
	cr_assert_not(pi[0].peer_choking, "no choking: unchoked");
	cr_assert_geq(pi[0].downloaded, 4ULL * PL);
	cr_assert_gt(pi[0].down_rate, 0);
	cr_assert_eq(pi[0].uploaded, 0);
	/* the seed's side */
	cr_assert_eq(torrent_peer_infos(p.ts, pi, 4, now), 1);
	cr_assert_eq(pi[0].source, TORRENT_SRC_INCOMING);
	cr_assert(pi[0].incoming);
	cr_assert_str_eq(pi[0].client, "gtorrent 0.1.0");
	cr_assert(printable(pi[0].client));
	cr_assert_not(pi[0].seed);
	cr_assert(pi[0].peer_interested);
	cr_assert_not(pi[0].am_interested);
	cr_assert_geq(pi[0].uploaded, 4ULL * PL);
	cr_assert_eq(pi[0].downloaded, 0);
	cr_assert_eq(pi[0].requests, 0, "nothing asked of a leecher");
	pair_free(&p);
}

/* The piece map: all HAVE on the seed; on the leecher as it goes. */
Test(view, piece_map)
{
	struct pair	 p;
	uint8_t		 st[NPIECES + 8];
	uint16_t	 av[NPIECES + 8];
	uint32_t	 i, n[4];

	pair_start(&p, SLOW_RATE);
	cr_assert_eq(torrent_piece_map(p.ts, st, av, NPIECES + 8), NPIECES);
	for (i = 0; i < NPIECES; i++) {
		cr_assert_eq(st[i], TORRENT_PIECE_HAVE);
		cr_assert_eq(av[i], 0, "no peer yet");
	}
	cr_assert_eq(torrent_piece_map(p.ts, st, NULL, 3), 3, "cut to n");
	cr_assert_eq(torrent_piece_map(p.ts, NULL, av, NPIECES), NPIECES);
	cr_assert(run_until(p.r, NULL, leecher_has_pieces, &p, 10000));
	cr_assert_eq(torrent_piece_map(p.tl, st, av, NPIECES), NPIECES);
	memset(n, 0, sizeof(n));
	for (i = 0; i < NPIECES; i++) {
		cr_assert_lt(st[i], 4);
		n[st[i]]++;
		cr_assert_eq(av[i], 1, "the seed has piece %u", i);
	}
	cr_assert_geq(n[TORRENT_PIECE_HAVE], 4);
	cr_assert_lt(n[TORRENT_PIECE_HAVE], NPIECES, "still downloading");
	cr_assert_gt(n[TORRENT_PIECE_PARTIAL], 0, "pieces under way");
	cr_assert_gt(n[TORRENT_PIECE_MISSING], 0);
	cr_assert_eq(n[TORRENT_PIECE_SKIPPED], 0);
	pair_free(&p);
}

/* A magnet without its metadata has no piece map. */
Test(view, piece_map_of_a_magnet)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 so = { .listen = false };
	struct session		*s;
	struct torrent		*t;
	struct torrent_opts	 to = { .dir = tmp };
	struct torrent_tracker_info ti[2];
	uint8_t			 ih[20] = { 7 }, st[4];
	uint16_t		 av[4];
	char			 err[GT_ERRLEN];

	cr_assert_eq(session_new(&s, r, &so, err), GT_OK, "%s", err);
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	cr_assert_eq(torrent_piece_map(t, st, av, 4), 0);
	cr_assert_eq(torrent_peer_infos(t, NULL, 0, reactor_now_ms(r)), 0);
	cr_assert_eq(torrent_tracker_infos(t, ti, 2), 0, "no trackers");
	session_free(s);
	reactor_free(r);
}

static bool
no_conns(void *arg)
{
	struct torrent_stats	st;

	torrent_stats(arg, &st);
	return st.conns == 0;
}

/*
 * Paused: no connection, none accepted (the seed keeps dialling it), no
 * request, no byte; stats say paused.  Resumed: connected again, done.
 */
Test(view, pause_and_resume)
{
	struct pair		 p;
	struct torrent_stats	 st, st2;
	struct torrent_peer_info pi[2];
	struct netaddr		 a;

	pair_start(&p, SLOW_RATE);
	cr_assert(run_until(p.r, NULL, leecher_has_pieces, &p, 10000));
	torrent_stats(p.tl, &st);
	cr_assert_not(st.complete, "too fast: %u pieces", st.have_pieces);
	cr_assert_not(st.paused);
	cr_assert_not(torrent_paused(p.tl));
	torrent_pause(p.tl, true);
	cr_assert(torrent_paused(p.tl));
	torrent_pause(p.tl, true);		/* again: no-op */
	torrent_stats(p.tl, &st);
	cr_assert(st.paused);
	cr_assert_eq(st.conns, 0, "closed at once");
	cr_assert_eq(st.peers, 0);
	cr_assert_not(st.dht);
	cr_assert_eq(torrent_peer_infos(p.tl, pi, 2, reactor_now_ms(p.r)), 0);
	cr_assert(run_until(p.r, NULL, no_conns, p.ts, 5000),
	    "the seed still holds a connection");
	/* the seed will dial the leecher now, and be refused */
	a = loopback(session_port(p.sl));
	cr_assert_eq(torrent_add_peers(p.ts, &a, 1, true), 1);
	/* 3 s: the seed redials (2 s backoff), nothing comes in */
	(void)run_until(p.r, NULL, never, NULL, 3000);
	torrent_stats(p.tl, &st2);
	cr_assert(st2.paused);
	cr_assert_eq(st2.conns, 0);
	cr_assert_eq(st2.downloaded, st.downloaded, "bytes while paused");
	cr_assert_eq(st2.have_pieces, st.have_pieces);
	torrent_stats(p.ts, &st2);
	cr_assert_eq(st2.peers, 0, "the seed got in");

	torrent_pause(p.tl, false);
	cr_assert_not(torrent_paused(p.tl));
	torrent_stats(p.tl, &st2);
	cr_assert_not(st2.paused);
	cr_assert(run_until(p.r, NULL, leecher_has_peer, &p, 5000),
	    "no connection after the resume");
	cr_assert(run_until(p.r, NULL, leecher_complete, &p, 30000),
	    "not complete after the resume");
	pair_free(&p);
}

/* Paused before the start: nothing until the resume. */
Test(view, paused_before_start)
{
	struct pair		 p;
	struct session_opts	 so = { .listen = true };
	struct torrent_opts	 to = { .max_peers = 8, .seed = true };
	struct netaddr		 a;
	char			 err[GT_ERRLEN];

	p.r = reactor_new();
	make_torrent(&p.m, NULL);
	p.sdir = tpath("seed");
	p.ldir = tpath("leech");
	cr_assert_eq(session_new(&p.ss, p.r, &so, err), GT_OK, "%s", err);
	cr_assert_eq(session_new(&p.sl, p.r, &so, err), GT_OK, "%s", err);
	to.dir = p.sdir;
	cr_assert_eq(session_add_torrent(p.ss, &p.m, &to, NULL, &p.ts, err),
	    GT_OK, "%s", err);
	to.dir = p.ldir;
	cr_assert_eq(session_add_torrent(p.sl, &p.m, &to, NULL, &p.tl, err),
	    GT_OK, "%s", err);
	torrent_start(p.ts);
	torrent_pause(p.tl, true);
	torrent_start(p.tl);
	a = loopback(session_port(p.ss));
	cr_assert_eq(torrent_add_peers(p.tl, &a, 1, true), 1);
	(void)run_until(p.r, NULL, never, NULL, 1000);
	cr_assert_eq(npeers(p.tl), 0);
	torrent_pause(p.tl, false);
	cr_assert(run_until(p.r, NULL, leecher_complete, &p, 20000));
	pair_free(&p);
}

/* ---- trackers -------------------------------------------------------- */

static bool
announced(void *arg)
{
	struct torrent_tracker_info	ti[4];
	struct torrent			*t = arg;

	return torrent_tracker_infos(t, ti, 4) == 3 &&
	    ti[1].status == TORRENT_TRK_OK;
}

struct nev {
	struct tracker	*k;
	size_t		 n;
};

static bool
nevents(void *arg)
{
	struct nev	*e = arg;

	return e->k->nevents >= e->n;
}

/*
 * Tier 0 refuses (a closed port), tier 1 answers, tier 2 is never asked.
 * Pausing sends "stopped" to the one that answered, once; resuming sends
 * "started".
 */
Test(view, tracker_infos_and_pause)
{
	struct reactor			*r = reactor_new();
	struct session_opts		 so = { .listen = true };
	struct session			*s;
	struct torrent			*t;
	struct metainfo			 m;
	struct tracker			 k;
	struct torrent_tracker_info	 ti[4];
	struct nev			 e;
	char				 closed[64], good[64], err[GT_ERRLEN];
	char				*urls[2] = { good, "http://127.0.0.1:9/x" };
	struct torrent_opts		 to = {
		.max_peers = 8, .use_trackers = true, .trackers = urls,
		.ntrackers = 2,
	};
	uint64_t			 now;
	int				 fd;

	tracker_open(&k);
	/* a port just closed: connection refused */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in	sin = { .sin_family = AF_INET };
		socklen_t		len = sizeof(sin);

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
		cr_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
		snprintf(closed, sizeof(closed),
		    "http://127.0.0.1:%u/announce", ntohs(sin.sin_port));
	}
	snprintf(good, sizeof(good), "http://127.0.0.1:%u/announce", k.port);
	make_torrent(&m, closed);	/* tier 0 */
	to.dir = tmp;
	to.trackers = urls;
	cr_assert_eq(session_new(&s, r, &so, err), GT_OK, "%s", err);
	/* --tracker URLs: one tier after the torrent's: good, then :9 */
	cr_assert_eq(session_add_torrent(s, &m, &to, NULL, &t, err), GT_OK,
	    "%s", err);
	cr_assert_eq(torrent_tracker_infos(t, ti, 4), 3);
	cr_assert_str_eq(ti[0].url, closed);
	cr_assert_eq(ti[0].tier, 0);
	cr_assert_eq(ti[1].tier, 1);
	cr_assert_eq(ti[2].tier, 1);
	cr_assert_eq(ti[0].status, TORRENT_TRK_IDLE);
	cr_assert_eq(ti[0].seeders, -1);
	cr_assert_eq(ti[0].next_ms, 0, "not started");
	torrent_start(t);
	cr_assert(run_until(r, &k, announced, t, 10000), "no announce");
	now = reactor_now_ms(r);
	cr_assert_eq(torrent_tracker_infos(t, ti, 4), 3);
	cr_assert_eq(ti[0].status, TORRENT_TRK_FAILED);
	cr_assert_neq(ti[0].result[0], '\0');
	cr_assert(printable(ti[0].result));
	cr_assert_str_eq(ti[1].url, good, "in the order added");
	cr_assert_eq(ti[1].status, TORRENT_TRK_OK);
	cr_assert_str_eq(ti[1].result, "0 peers");
	cr_assert_eq(ti[1].seeders, 5);
	cr_assert_eq(ti[1].leechers, 3);
	for (size_t i = 0; i < 3; i++) {	/* the next round */
		cr_assert_geq(ti[i].next_ms, now + 1700 * 1000ULL);
		cr_assert_leq(ti[i].next_ms, now + 1800 * 1000ULL);
	}
	cr_assert_eq(torrent_tracker_infos(t, ti, 1), 3, "count, one copied");
	cr_assert_eq(k.nevents, 1);
	cr_assert_str_eq(k.events[0], "started");

	torrent_pause(t, true);
	e = (struct nev){ .k = &k, .n = 2 };
	cr_assert(run_until(r, &k, nevents, &e, 5000), "no stopped");
	cr_assert_str_eq(k.events[1], "stopped");
	(void)run_until(r, &k, never, NULL, 500);
	cr_assert_eq(k.nevents, 2, "once");
	torrent_tracker_infos(t, ti, 4);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(ti[i].next_ms, 0, "paused: none planned");
	cr_assert_str_eq(ti[1].result, "stopped");
	cr_assert_eq(ti[1].status, TORRENT_TRK_OK);

	torrent_pause(t, false);
	e.n = 3;
	cr_assert(run_until(r, &k, nevents, &e, 5000), "no started");
	cr_assert_str_eq(k.events[2], "started");
	session_free(s);
	metainfo_clear(&m);
	close(fd);
	tracker_close(&k);
	reactor_free(r);
}

/* Files left out (--select): their pieces are SKIPPED, the shared one not. */
Test(view, piece_map_skipped)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 so = { .listen = false };
	struct session		*s;
	struct torrent		*t;
	struct metainfo		 m;
	struct buf		 b;
	struct torrent_range	 sel = { .first = 0, .last = 0 };
	struct torrent_opts	 to = {
		.dir = tmp, .select = &sel, .nselect = 1,
	};
	uint8_t			 st[4], sha[20] = { 0 };
	char			 err[GT_ERRLEN];
	int			 i;

	/* a: 1.5 pieces, b: 2.5 pieces; piece 1 holds both */
	buf_init(&b, 1024);
	buf_printf(&b, "d4:infod5:filesld6:lengthi%de4:pathl1:aeed6:length"
	    "i%de4:pathl1:beee4:name1:d12:piece lengthi%de6:pieces80:",
	    PL + PL / 2, 2 * PL + PL / 2, PL);
	for (i = 0; i < 4; i++)
		buf_append(&b, sha, 20);
	buf_puts(&b, "ee");
	cr_assert_eq(metainfo_parse(&m, b.data, b.len, err), GT_OK, "%s", err);
	buf_clear(&b);
	cr_assert_eq(session_new(&s, r, &so, err), GT_OK, "%s", err);
	cr_assert_eq(session_add_torrent(s, &m, &to, NULL, &t, err), GT_OK,
	    "%s", err);
	cr_assert_eq(torrent_piece_map(t, st, NULL, 4), 4);
	cr_assert_eq(st[0], TORRENT_PIECE_MISSING);
	cr_assert_eq(st[1], TORRENT_PIECE_MISSING, "shared with a");
	cr_assert_eq(st[2], TORRENT_PIECE_SKIPPED);
	cr_assert_eq(st[3], TORRENT_PIECE_SKIPPED);
	session_free(s);
	metainfo_clear(&m);
	reactor_free(r);
}
