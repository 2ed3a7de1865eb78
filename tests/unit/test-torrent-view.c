/* test-torrent-view.c - what the full-screen view reads of a torrent, and
 * pause/resume: two sessions and a tiny HTTP tracker on 127.0.0.1 */
#include <criterion/criterion.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "tmpdir.h"

#include "buf.h"
#include "crypto.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "util.h"

#define TEST_ALARM_S	90
#define PL		16384		/* piece length */
#define NPIECES		64		/* 1 MiB */
#define SLOW_RATE	(256u * 1024)	/* the seed's upload, bytes/s */

static void
setup(void)
{
	alarm(TEST_ALARM_S);
	tmp_setup();
}

TestSuite(view, .init = setup, .fini = tmp_teardown);

/* ---- a tiny HTTP tracker, served from the loop ------------------------- */

struct tracker {
	int		fd;		/* listening, or -1 */
	uint16_t	port;
	char		events[32][16];	/* event= of each announce ("" none) */
	size_t		nevents;
	int		c[8];		/* connections, reading (0: none) */
	char		req[8][2048];
	size_t		got[8];
};

static void
tracker_open(struct tracker *k)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);

	memset(k, 0, sizeof(*k));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert(k->fd >= 0);
	cr_assert(bind(k->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	cr_assert(listen(k->fd, 8) == 0);
	cr_assert(getsockname(k->fd, (struct sockaddr *)&sin, &len) == 0);
	k->port = ntohs(sin.sin_port);
}

static void
tracker_close(struct tracker *k)
{
	size_t	i;

	for (i = 0; i < nitems(k->c); i++)
		if (k->c[i] > 0)
			close(k->c[i]);
	close(k->fd);
}

/* Answers each whole request: 5 seeders, 3 leechers, no peers. */
static void
tracker_answer(struct tracker *k, size_t i)
{
	static const char	 body[] = "d8:completei5e10:incompletei3e"
	    "8:intervali1800e5:peers0:e";
	char			 resp[256], *ev;
	int			 n;

	if (k->nevents < nitems(k->events)) {
		ev = strstr(k->req[i], "event=");
		snprintf(k->events[k->nevents++], sizeof(k->events[0]),
		    "%.*s", ev == NULL ? 0 : (int)strcspn(ev + 6, "& "),
		    ev == NULL ? "" : ev + 6);
	}
	n = snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(body) - 1, body);
	cr_assert_eq(write(k->c[i], resp, (size_t)n), n);
	close(k->c[i]);
	k->c[i] = 0;
}

/* Non-blocking, from the loop (curl runs on it too). */
static void
tracker_serve(struct tracker *k)
{
	ssize_t	n;
	size_t	i;
	int	c;

	if (k == NULL || k->fd < 0)
		return;
	while ((c = accept4(k->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		for (i = 0; i < nitems(k->c) && k->c[i] > 0; i++)
			;
		cr_assert_lt(i, nitems(k->c));
		k->c[i] = c;
		k->got[i] = 0;
	}
	for (i = 0; i < nitems(k->c); i++) {
		if (k->c[i] <= 0)
			continue;
		n = read(k->c[i], k->req[i] + k->got[i],
		    sizeof(k->req[i]) - 1 - k->got[i]);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			close(k->c[i]);
			k->c[i] = 0;
			continue;
		}
		if (n < 0)
			continue;
		k->got[i] += (size_t)n;
		k->req[i][k->got[i]] = '\0';
		if (strstr(k->req[i], "\r\n\r\n") != NULL)
			tracker_answer(k, i);
	}
}

/* ---- the loop ------------------------------------------------------------ */

/* Runs the loop until done(arg) or ms pass (checked every 10 ms). */
struct waiter {
	struct reactor		*r;
	struct reactor_timer	*t;
	struct tracker		*k;
	bool			(*done)(void *);
	void			*arg;
	uint64_t		 until;
};

static void
wait_cb(void *arg)
{
	struct waiter	*w = arg;

	tracker_serve(w->k);
	if (w->done(w->arg) || reactor_now_ms(w->r) >= w->until)
		reactor_stop(w->r);
	else
		reactor_timer_in(w->t, 10);
}

static bool
run_until(struct reactor *r, struct tracker *k, bool (*done)(void *),
    void *arg, uint64_t ms)
{
	struct waiter	w = { .r = r, .k = k, .done = done, .arg = arg };

	w.until = reactor_now_ms(r) + ms;
	w.t = reactor_timer_new(r, wait_cb, &w);
	reactor_timer_in(w.t, 0);
	reactor_run(r);
	reactor_timer_free(w.t);
	return done(arg);
}

static bool
never(void *arg)
{
	(void)arg;
	return false;
}

/* ---- a seed and a leecher ---------------------------------------------- */

/* A one-file torrent of NPIECES pieces; its data written under tmp/seed. */
static void
make_torrent(struct metainfo *m, const char *announce)
{
	struct buf	 b;
	uint8_t		*data, sha[20];
	char		 err[GT_ERRLEN], *path;
	int		 fd, i;

	data = xmalloc(NPIECES * PL);
	for (i = 0; i < NPIECES * PL; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 9));
	buf_init(&b, 4096);
	buf_puts(&b, "d");
	if (announce != NULL)
		buf_printf(&b, "8:announce%zu:%s", strlen(announce), announce);
	buf_printf(&b, "4:infod6:lengthi%de4:name5:v.bin12:piece lengthi%de"
	    "6:pieces%d:", NPIECES * PL, PL, 20 * NPIECES);
	for (i = 0; i < NPIECES; i++) {
		sha1(data + i * PL, PL, sha);
		buf_append(&b, sha, 20);
	}
	buf_puts(&b, "ee");
	cr_assert_eq(metainfo_parse(m, b.data, b.len, err), GT_OK, "%s", err);
	buf_clear(&b);
	path = tpath("seed");
	cr_assert_eq(mkdir(path, 0777), 0);
	free(path);
	path = tpath("leech");
	cr_assert_eq(mkdir(path, 0777), 0);
	free(path);
	path = tpath("seed/v.bin");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, data, NPIECES * PL), NPIECES * PL);
	close(fd);
	free(path);
	free(data);
}

struct pair {
	struct reactor	*r;
	struct metainfo	 m;
	struct session	*ss, *sl;	/* the seed's, the leecher's */
	struct torrent	*ts, *tl;
	char		*sdir, *ldir;
};

static struct netaddr
loopback(uint16_t port)
{
	struct netaddr	a;

	cr_assert_eq(addr_parse("127.0.0.1", port, &a), GT_OK);
	return a;
}

/* The seed (uploading at up_rate, 0: no limit) and the leecher, started,
   the leecher given the seed's address. */
static void
pair_start(struct pair *p, uint64_t up_rate)
{
	struct session_opts	 so = { .listen = true };
	struct torrent_opts	 to = { .max_peers = 8, .seed = true };
	struct netaddr		 a;
	char			 err[GT_ERRLEN];

	p->r = reactor_new();
	make_torrent(&p->m, NULL);
	p->sdir = tpath("seed");
	p->ldir = tpath("leech");
	cr_assert_eq(session_new(&p->ss, p->r, &so, err), GT_OK, "%s", err);
	cr_assert_eq(session_new(&p->sl, p->r, &so, err), GT_OK, "%s", err);
	to.dir = p->sdir;
	to.max_up_rate = up_rate;
	cr_assert_eq(session_add_torrent(p->ss, &p->m, &to, NULL, &p->ts, err),
	    GT_OK, "%s", err);
	to.dir = p->ldir;
	to.max_up_rate = 0;
	to.seed = false;
	cr_assert_eq(session_add_torrent(p->sl, &p->m, &to, NULL, &p->tl, err),
	    GT_OK, "%s", err);
	torrent_start(p->ts);
	torrent_start(p->tl);
	a = loopback(session_port(p->ss));
	cr_assert_eq(torrent_add_peers(p->tl, &a, 1, true), 1);
}

static void
pair_free(struct pair *p)
{
	session_free(p->sl);
	session_free(p->ss);
	reactor_free(p->r);
	metainfo_clear(&p->m);
	free(p->sdir);
	free(p->ldir);
}

static uint32_t
npeers(const struct torrent *t)
{
	struct torrent_stats	st;

	torrent_stats(t, &st);
	return st.peers;
}

static bool
leecher_has_peer(void *arg)
{
	return npeers(((struct pair *)arg)->tl) > 0;
}

static bool
leecher_has_pieces(void *arg)
{
	struct torrent_stats	st;

	torrent_stats(((struct pair *)arg)->tl, &st);
	return st.have_pieces >= 4;
}

static bool
leecher_complete(void *arg)
{
	struct torrent_stats	st;

	torrent_stats(((struct pair *)arg)->tl, &st);
	return st.complete;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((uint8_t)*s < 0x20 || (uint8_t)*s >= 0x7f)
			return false;
	return true;
}

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
