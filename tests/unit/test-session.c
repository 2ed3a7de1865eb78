/* test-session.c - the session's DHT node on 127.0.0.1: bootstrap, state,
 * watchers, peers for a torrent, BEP 5 PORT */
#include <criterion/criterion.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <glob.h>
#include <poll.h>

#include "tmpdir.h"

#include "buf.h"
#include "dht.h"
#include "krpc.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "util.h"

#define TEST_ALARM_S	60

static void
setup(void)
{
	alarm(TEST_ALARM_S);
	tmp_setup();
}

TestSuite(session, .init = setup, .fini = tmp_teardown);

/* A plain UDP socket on 127.0.0.1: a bootstrap node that never answers. */
static int
udp_socket(uint16_t *port)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	int			fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert(fd >= 0);
	cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A UDP port on 127.0.0.1 free a moment ago. */
static uint16_t
free_port(void)
{
	uint16_t	port;

	close(udp_socket(&port));
	return port;
}

/* Runs the loop until done(arg) or ms pass (checked every 20 ms). */
struct waiter {
	struct reactor		*r;
	struct reactor_timer	*t;
	bool			(*done)(void *);
	void			*arg;
	uint64_t		 until;
};

static void
wait_cb(void *arg)
{
	struct waiter	*w = arg;

	if (w->done(w->arg) || reactor_now_ms(w->r) >= w->until)
		reactor_stop(w->r);
	else
		reactor_timer_in(w->t, 20);
}

static bool
run_until(struct reactor *r, bool (*done)(void *), void *arg, uint64_t ms)
{
	struct waiter	w = { .r = r, .done = done, .arg = arg };

	w.until = reactor_now_ms(r) + ms;
	w.t = reactor_timer_new(r, wait_cb, &w);
	reactor_timer_in(w.t, 0);
	reactor_run(r);
	reactor_timer_free(w.t);
	return done(arg);
}

struct sock {
	int		fd;
	uint8_t		pkt[KRPC_MAX_PACKET];
	ssize_t		n;
	struct sockaddr_in from;
};

static bool
sock_got(void *arg)
{
	struct sock	*k = arg;
	socklen_t	 sl = sizeof(k->from);

	if (k->n <= 0)
		k->n = recvfrom(k->fd, k->pkt, sizeof(k->pkt), 0,
		    (struct sockaddr *)&k->from, &sl);
	return k->n > 0;
}

static struct session *
dht_session(struct reactor *r, uint16_t port, char *const *boot,
    size_t nboot, const char *state_dir, bool listen)
{
	struct session_opts	 o = {
		.listen = listen, .dht = true, .dht_port = port,
		.dht_bootstrap = boot, .ndht_bootstrap = nboot,
		.state_dir = state_dir,
	};
	struct session		*s;
	char			 err[GT_ERRLEN];

	cr_assert_eq(session_new(&s, r, &o, err), GT_OK, "%s", err);
	cr_assert_not_null(session_dht(s));
	return s;
}

/* Off unless asked. */
Test(session, dht_off_by_default)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 o = { 0 };
	struct session		*s;
	char			 err[GT_ERRLEN];

	cr_assert_eq(session_new(&s, r, &o, err), GT_OK, "%s", err);
	cr_assert_null(session_dht(s));
	session_free(s);
	reactor_free(r);
}

/*
 * A bootstrap node is asked for nodes (find_node) from the DHT port; a
 * name that is not HOST:PORT is a warning, nothing else.
 */
Test(session, bootstrap_from_the_dht_port)
{
	struct reactor	*r = reactor_new();
	struct session	*s;
	struct sock	 k = { 0 };
	struct krpc_msg	 m;
	uint16_t	 bport, dport = free_port();
	char		 boot[32], *boots[2] = { boot, "no port here" };

	k.fd = udp_socket(&bport);
	snprintf(boot, sizeof(boot), "127.0.0.1:%u", bport);
	s = dht_session(r, dport, boots, 2, NULL, false);
	cr_assert(run_until(r, sock_got, &k, 5000), "no query came");
	cr_assert_eq(ntohs(k.from.sin_port), dport);
	cr_assert_eq(krpc_decode(k.pkt, (size_t)k.n, &m), GT_OK);
	cr_assert_eq(m.kind, KRPC_QUERY);
	cr_assert_eq(m.method, KRPC_FIND_NODE);
	cr_assert(memcmp(m.id, dht_id(session_dht(s)), KRPC_ID_LEN) == 0);
	session_free(s);
	close(k.fd);
	reactor_free(r);
}

/* An explicit DHT port that is taken fails the session. */
Test(session, dht_port_taken)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 o = { .dht = true };
	struct session		*s;
	char			 err[GT_ERRLEN], *boots[1] = { "127.0.0.1:9" };
	int			 fd = udp_socket(&o.dht_port);

	o.dht_bootstrap = boots;
	o.ndht_bootstrap = 1;
	cr_assert_eq(session_new(&s, r, &o, err), GT_EIO);
	cr_assert(strstr(err, "UDP port") != NULL, "%s", err);
	close(fd);
	reactor_free(r);
}

static bool
has_good(void *arg)
{
	struct session		*s = arg;
	struct dht_stats	 st;

	dht_stats(session_dht(s), reactor_clock_ms(), &st);
	return st.good[0] > 0;
}

/*
 * Saved at the end (0600 in a new 0700 folder) once the node has good
 * nodes, read back at the start; a run without a good node leaves the file
 * as it was.
 */
Test(session, state_saved_and_loaded)
{
	struct reactor	*r = reactor_new();
	struct session	*s, *o;
	struct stat	 st, st2;
	uint8_t		 id[KRPC_ID_LEN];
	char		*dir = tpath("state/gtorrent"), *file, *tmpf;
	char		 bo[32], *boots[1] = { bo };
	char		*nowhere[1] = { "127.0.0.1:9" };

	o = dht_session(r, 0, nowhere, 1, NULL, false);
	snprintf(bo, sizeof(bo), "127.0.0.1:%u", session_dht_port(o));
	s = dht_session(r, 0, boots, 1, dir, false);
	cr_assert(run_until(r, has_good, s, 10000), "no good node");
	memcpy(id, dht_id(session_dht(s)), sizeof(id));
	session_free(s);
	session_free(o);
	file = xasprintf("%s/dht.dat", dir);
	tmpf = xasprintf("%s/dht.dat.tmp", dir);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_gt(st.st_size, 20 + 26);	/* the id and a node */
	cr_assert_neq(stat(tmpf, &st2), 0);
	s = dht_session(r, 0, nowhere, 1, dir, false);
	cr_assert(memcmp(id, dht_id(session_dht(s)), sizeof(id)) == 0,
	    "the saved id was not taken");
	session_free(s);
	cr_assert_eq(stat(file, &st2), 0);
	cr_assert_eq(st2.st_size, st.st_size, "a short run wrote over it");
	free(tmpf);
	free(file);
	free(dir);
	reactor_free(r);
}

/* A bad or huge state file is ignored: the node starts afresh. */
Test(session, hostile_state_ignored)
{
	static uint8_t	 big[DHT_STATE_MAX + 100];
	struct reactor	*r = reactor_new();
	struct session	*s;
	char		*dir = tpath("st"), *boots[1] = { "127.0.0.1:9" };

	cr_assert_eq(mkdir(dir, 0700), 0);
	put_file("st/dht.dat", "d2:id3:abce", 11);
	s = dht_session(r, 0, boots, 1, dir, false);
	session_free(s);
	memset(big, 'd', sizeof(big));
	put_file("st/dht.dat", big, sizeof(big));
	s = dht_session(r, 0, boots, 1, dir, false);
	session_free(s);
	free(dir);
	reactor_free(r);
}

/* -- several nodes -- */

struct watch {
	struct netaddr	pong_from;
	uint8_t		pong_id[KRPC_ID_LEN];
	unsigned	pongs, done, announced;
	const struct dht *want;		/* pong from this node */
	bool		got_want;
};

static void
w_pong(void *arg, const struct netaddr *a, const uint8_t *id,
    const uint8_t *v, size_t vlen, uint32_t rtt)
{
	struct watch	*w = arg;

	(void)v;
	(void)vlen;
	(void)rtt;
	if (id == NULL)
		return;
	w->pongs++;
	w->pong_from = *a;
	memcpy(w->pong_id, id, KRPC_ID_LEN);
	if (w->want != NULL && memcmp(id, dht_id(w->want), KRPC_ID_LEN) == 0)
		w->got_want = true;
}

static void
w_done(void *arg, const uint8_t ih[20], const struct dht_search_result *res)
{
	struct watch	*w = arg;

	(void)ih;
	w->done++;
	w->announced += res->announced;
}

static bool
got_pong(void *arg)
{
	return ((struct watch *)arg)->got_want;
}

/* `gtorrent dht ping`: a watcher hears the pong of another node. */
Test(session, watcher_hears_pong)
{
	struct reactor		*r = reactor_new();
	struct session		*a, *b;
	struct watch		 w = { 0 };
	struct dht_hooks	 h = { .pong = w_pong, .arg = &w };
	struct netaddr		 to;
	char			 bb[32], *nowhere[1] = { "127.0.0.1:9" };

	b = dht_session(r, 0, nowhere, 1, NULL, false);
	snprintf(bb, sizeof(bb), "127.0.0.1:%u", session_dht_port(b));
	a = dht_session(r, 0, nowhere, 1, NULL, false);
	w.want = session_dht(b);
	session_dht_watch(a, &h);
	cr_assert_eq(addr_parse(bb, 0, &to), GT_OK);
	cr_assert(dht_ping(session_dht(a), &to, reactor_now_ms(r)));
	cr_assert(run_until(r, got_pong, &w, 5000), "no pong (%u others)",
	    w.pongs);
	cr_assert(addr_eq(&w.pong_from, &to));
	session_dht_watch(a, NULL);
	session_free(a);
	session_free(b);
	reactor_free(r);
}

struct found {
	struct torrent	*t;
	struct watch	*w;
};

static bool
b_announced(void *arg)
{
	return ((struct watch *)arg)->announced > 0;
}

static bool
a_found(void *arg)
{
	struct found		*f = arg;
	struct torrent_stats	 ts;

	torrent_stats(f->t, &ts);
	return ts.dht_peers > 0 && (f->w == NULL || f->w->got_want);
}

/*
 * Three nodes: B (listening) announces a magnet's info-hash; A (not
 * listening) finds B through the DHT alone, dials it, and B's PORT
 * message makes A ping B's node.
 */
Test(session, magnet_finds_peer_on_dht_and_port_pings)
{
	struct reactor		*r = reactor_new();
	struct session		*a, *b, *c;
	struct torrent		*ta, *tb;
	struct torrent_opts	 to = {
		.dir = tmp, .max_peers = 8, .dht = true, .pex = false,
	};
	struct torrent_stats	 ts;
	struct watch		 wa = { 0 }, wb = { 0 };
	struct dht_hooks	 ha = { .pong = w_pong, .arg = &wa };
	struct dht_hooks	 hb = { .search_done = w_done, .arg = &wb };
	struct found		 f;
	uint8_t			 ih[20];
	char			 bc[32], *boot[1] = { bc }, err[GT_ERRLEN];
	char			*nowhere[1] = { "127.0.0.1:9" };
	bool			 ok;

	memset(ih, 0x5a, sizeof(ih));
	c = dht_session(r, 0, nowhere, 1, NULL, false);
	snprintf(bc, sizeof(bc), "127.0.0.1:%u", session_dht_port(c));
	b = dht_session(r, 0, boot, 1, NULL, true);
	cr_assert_neq(session_port(b), 0);
	session_dht_watch(b, &hb);
	cr_assert_eq(session_add_magnet(b, ih, "x", &to, NULL, &tb, err),
	    GT_OK, "%s", err);
	torrent_start(tb);
	cr_assert(run_until(r, b_announced, &wb, 20000), "b never announced");

	a = dht_session(r, 0, boot, 1, NULL, false);
	wa.want = session_dht(b);
	session_dht_watch(a, &ha);
	cr_assert_eq(session_add_magnet(a, ih, "x", &to, NULL, &ta, err),
	    GT_OK, "%s", err);
	torrent_start(ta);
	f = (struct found){ .t = ta, .w = &wa };
	ok = run_until(r, a_found, &f, 20000);
	torrent_stats(ta, &ts);
	cr_assert(ok, "dht_peers %u, pong from b %d", ts.dht_peers,
	    wa.got_want);
	cr_assert(ts.dht);
	session_free(a);
	session_free(b);
	session_free(c);
	reactor_free(r);
}

/* A torrent searches the DHT only when its options say so. */
Test(session, search_only_with_opt)
{
	struct reactor		*r = reactor_new();
	struct session		*s;
	struct torrent		*t;
	struct torrent_opts	 to = { .dir = tmp, .dht = false };
	struct torrent_stats	 ts;
	uint8_t			 ih[20] = { 1 };
	char			 err[GT_ERRLEN], *boots[1] = { "127.0.0.1:9" };

	s = dht_session(r, 0, boots, 1, NULL, false);
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	torrent_start(t);
	torrent_stats(t, &ts);
	cr_assert_not(ts.dht);
	to.dht = true;
	ih[0] = 2;
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	torrent_start(t);
	torrent_stats(t, &ts);
	cr_assert(ts.dht);
	session_free(s);
	reactor_free(r);
}

/* With the DHT on, UDP trackers are asked from the DHT's socket. */
Test(session, udp_trackers_share_the_dht_socket)
{
	struct reactor		*r = reactor_new();
	struct session		*s;
	struct torrent		*t;
	struct sock		 k = { 0 };
	uint16_t		 tport;
	char			 url[64], *urls[1] = { url }, err[GT_ERRLEN];
	char			*nowhere[1] = { "127.0.0.1:9" };
	struct torrent_opts	 to = {
		.dir = tmp, .use_trackers = true, .trackers = urls,
		.ntrackers = 1,
	};
	uint8_t			 ih[20] = { 7 };

	k.fd = udp_socket(&tport);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u/announce", tport);
	s = dht_session(r, 0, nowhere, 1, NULL, false);
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	torrent_start(t);
	cr_assert(run_until(r, sock_got, &k, 5000), "no tracker request");
	cr_assert_eq(k.n, 16);				/* connect */
	cr_assert_eq(load_be64(k.pkt), 0x41727101980ULL);
	cr_assert_eq(ntohs(k.from.sin_port), session_dht_port(s));
	session_free(s);
	close(k.fd);
	reactor_free(r);
}

/* A one-piece torrent, private or not. */
static void
tiny_torrent(struct metainfo *m, bool private)
{
	struct buf	b;
	uint8_t		sha[20] = { 0 };
	char		err[GT_ERRLEN];

	buf_init(&b, 1024);
	buf_puts(&b, "d4:infod6:lengthi100e4:name1:x12:piece lengthi16384e"
	    "6:pieces20:");
	buf_append(&b, sha, 20);
	buf_puts(&b, private ? "7:privatei1eee" : "ee");
	cr_assert_eq(metainfo_parse(m, b.data, b.len, err), GT_OK, "%s", err);
	buf_clear(&b);
}

/* BEP 27: a private torrent stays off the DHT, whatever its options. */
Test(session, private_torrent_off_the_dht)
{
	struct reactor		*r = reactor_new();
	struct session		*s;
	struct torrent		*t;
	struct torrent_opts	 to = { .dir = tmp, .dht = true };
	struct torrent_stats	 ts;
	struct metainfo		 priv, pub;
	char			 err[GT_ERRLEN], *boots[1] = { "127.0.0.1:9" };

	tiny_torrent(&priv, true);
	tiny_torrent(&pub, false);
	cr_assert(priv.private);
	cr_assert(memcmp(priv.info_hash, pub.info_hash, 20) != 0);
	s = dht_session(r, 0, boots, 1, NULL, false);
	cr_assert_eq(session_add_torrent(s, &priv, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	torrent_start(t);
	torrent_stats(t, &ts);
	cr_assert_not(ts.dht);
	cr_assert_eq(session_add_torrent(s, &pub, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	torrent_start(t);
	torrent_stats(t, &ts);
	cr_assert(ts.dht);
	session_free(s);
	metainfo_clear(&priv);
	metainfo_clear(&pub);
	reactor_free(r);
}

struct timed_pong {
	unsigned	n;
	bool		answered;
	uint32_t	rtt;
};

static void
tp_pong(void *arg, const struct netaddr *a, const uint8_t *id,
    const uint8_t *v, size_t vlen, uint32_t rtt)
{
	struct timed_pong	*p = arg;

	(void)a;
	(void)v;
	(void)vlen;
	p->n++;
	p->answered = id != NULL;
	p->rtt = rtt;
}

static bool
tp_done(void *arg)
{
	return ((struct timed_pong *)arg)->n > 0;
}

/* ICMP port unreachable ends a ping at once, not after DHT_QUERY_MS. */
Test(session, closed_port_fails_fast)
{
	struct reactor		*r = reactor_new();
	struct session		*s;
	struct timed_pong	 p = { 0 };
	struct dht_hooks	 h = { .pong = tp_pong, .arg = &p };
	struct netaddr		 to;
	uint64_t		 t0;
	char			*nowhere[1] = { "127.0.0.1:9" };

	s = dht_session(r, 0, nowhere, 1, NULL, false);
	session_dht_watch(s, &h);
	cr_assert_eq(addr_parse("127.0.0.1", free_port(), &to), GT_OK);
	t0 = reactor_now_ms(r);
	cr_assert(dht_ping(session_dht(s), &to, t0));
	cr_assert(run_until(r, tp_done, &p, 5000));
	cr_assert_not(p.answered);
	cr_assert_lt(reactor_now_ms(r) - t0, DHT_QUERY_MS / 2,
	    "%lu ms", (unsigned long)(reactor_now_ms(r) - t0));
	session_free(s);
	reactor_free(r);
}

/* SESSION_MAX_TORRENTS torrents, one per info-hash, then no more. */
Test(session, many_torrents_one_per_info_hash)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 o = { .listen = false };
	struct session		*s;
	struct torrent		*t, *first = NULL;
	struct torrent_opts	 to = { .dir = tmp };
	uint8_t			 ih[20] = { 0 };
	char			 err[GT_ERRLEN];
	uint32_t		 i;

	cr_assert_eq(session_new(&s, r, &o, err), GT_OK, "%s", err);
	for (i = 0; i < SESSION_MAX_TORRENTS; i++) {
		store_be32(ih, i);
		cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t,
		    err), GT_OK, "torrent %u: %s", i, err);
		if (first == NULL)
			first = t;
	}
	cr_assert_eq(session_ntorrents(s), SESSION_MAX_TORRENTS);
	store_be32(ih, 5);
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_ERANGE);
	session_remove_torrent(s, first);
	cr_assert_eq(session_ntorrents(s), SESSION_MAX_TORRENTS - 1);
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_EEXIST, "one torrent per info-hash");
	store_be32(ih, 0);
	cr_assert_null(session_find(s, ih));
	cr_assert_eq(session_add_magnet(s, ih, NULL, &to, NULL, &t, err),
	    GT_OK, "%s", err);
	cr_assert_eq(session_find(s, ih), t);
	session_free(s);
	reactor_free(r);
}

/* ---- fast resume (torrent-resume.c) ------------------------------------ */

#define RS_PL		16384
#define RS_PIECES	4

/* A 4-piece one-file torrent "r.bin" and its data, written under tmp/dl. */
static void
resume_torrent(struct metainfo *m, uint8_t *data)
{
	struct buf	b;
	uint8_t		sha[20];
	char		err[GT_ERRLEN], *path;
	int		fd, i;

	for (i = 0; i < RS_PIECES * RS_PL; i++)
		data[i] = (uint8_t)(i * 31 + 7);
	buf_init(&b, 4096);
	buf_printf(&b, "d4:infod6:lengthi%de4:name5:r.bin12:piece lengthi%de"
	    "6:pieces%d:", RS_PIECES * RS_PL, RS_PL, 20 * RS_PIECES);
	for (i = 0; i < RS_PIECES; i++) {
		sha1(data + i * RS_PL, RS_PL, sha);
		buf_append(&b, sha, 20);
	}
	buf_puts(&b, "ee");
	cr_assert_eq(metainfo_parse(m, b.data, b.len, err), GT_OK, "%s", err);
	buf_clear(&b);
	path = tpath("dl");
	cr_assert_eq(mkdir(path, 0777), 0);
	free(path);
	path = tpath("dl/r.bin");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, data, RS_PIECES * RS_PL), RS_PIECES * RS_PL);
	close(fd);
	free(path);
}

/* Adds m (dir tmp/dl, state tmp/state); its verified piece count. */
static uint32_t
resume_open(struct metainfo *m, enum gt_err want, char *err)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 o = { .listen = false };
	struct session		*s;
	struct torrent		*t;
	struct torrent_stats	 ts = { 0 };
	char			*dir = tpath("dl"), *state = tpath("state");
	struct torrent_opts	 to = { .dir = dir, .state_dir = state };

	mkdir(state, 0700);
	cr_assert_eq(session_new(&s, r, &o, err), GT_OK, "%s", err);
	cr_assert_eq(session_add_torrent(s, m, &to, NULL, &t, err), want,
	    "%s", err);
	if (want == GT_OK)
		torrent_stats(t, &ts);
	session_free(s);	/* a clean record */
	reactor_free(r);
	free(dir);
	free(state);
	return ts.have_pieces;
}

/* Changes byte off of tmp/dl/r.bin, keeping its size and mtime. */
static void
tamper(size_t off)
{
	char		*path = tpath("dl/r.bin");
	struct stat	 st;
	struct timespec	 ts[2];
	uint8_t		 x = 0xee;
	int		 fd;

	cr_assert_eq(stat(path, &st), 0);
	fd = open(path, O_WRONLY);
	cr_assert_eq(pwrite(fd, &x, 1, (off_t)off), 1);
	close(fd);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	free(path);
}

/* The one record of m in tmp/state/resume (HEX-KEY.resume). */
static char *
record_path(const struct metainfo *m)
{
	char	hex[41], *rel, *path;
	glob_t	g;

	hex_encode(hex, m->info_hash, 20);
	rel = xasprintf("state/resume/%s-*.resume", hex);
	path = tpath(rel);
	cr_assert_eq(glob(path, 0, NULL, &g), 0, "%s", path);
	cr_assert_eq(g.gl_pathc, 1);
	free(path);
	path = xstrdup(g.gl_pathv[0]);
	globfree(&g);
	free(rel);
	return path;
}

Test(session, resume_record_spares_the_check)
{
	struct metainfo	 m;
	uint8_t		*data = xmalloc(RS_PIECES * RS_PL);
	char		 err[GT_ERRLEN], *rec;
	struct stat	 st;

	resume_torrent(&m, data);
	cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES, "checked");
	rec = record_path(&m);
	cr_assert_eq(stat(rec, &st), 0, "a record at the stop");
	/* Piece 2 spoilt behind the record's back: not hashed, still had */
	tamper(2 * RS_PL + 5);
	cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES,
	    "the record was trusted (no check)");
	free(rec);
	free(data);
	metainfo_clear(&m);
}

Test(session, resume_record_of_a_changed_file_is_not_trusted)
{
	struct metainfo	 m;
	uint8_t		*data = xmalloc(RS_PIECES * RS_PL);
	char		 err[GT_ERRLEN], *path = tpath("dl/r.bin");
	struct timespec	 ts[2] = { { 0, UTIME_OMIT }, { 1000, 0 } };

	resume_torrent(&m, data);
	cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES);
	tamper(1 * RS_PL);
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);  /* older now */
	cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES - 1,
	    "checked: piece 1 is bad");
	free(path);
	free(data);
	metainfo_clear(&m);
}

Test(session, hostile_resume_record_is_ignored)
{
	static const char *const bad[] = {
		"", "garbage", "d15:gtorrent-resumei1ee",
		"d15:gtorrent-resumei1e9:info-hash20:aaaaaaaaaaaaaaaaaaaae",
	};
	struct metainfo	 m;
	uint8_t		*data = xmalloc(RS_PIECES * RS_PL);
	char		 err[GT_ERRLEN], *rec, *path;
	size_t		 i;
	int		 fd;

	resume_torrent(&m, data);
	cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES);
	rec = record_path(&m);
	for (i = 0; i < nitems(bad); i++) {
		tamper(3 * RS_PL);	/* only a check can see it */
		fd = open(rec, O_WRONLY | O_TRUNC);
		cr_assert_neq(fd, -1);
		cr_assert_eq(write(fd, bad[i], strlen(bad[i])),
		    (ssize_t)strlen(bad[i]));
		close(fd);
		cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES - 1,
		    "record %zu ignored, the data checked", i);
		/* piece 3 mended: the file changed since the record */
		path = tpath("dl/r.bin");
		fd = open(path, O_WRONLY);
		cr_assert_eq(pwrite(fd, data + 3 * RS_PL, RS_PL,
		    3 * RS_PL), RS_PL);
		close(fd);
		free(path);
		cr_assert_eq(resume_open(&m, GT_OK, err), RS_PIECES,
		    "checked again");
	}
	free(rec);
	free(data);
	metainfo_clear(&m);
}

Test(session, second_writer_of_the_same_data_refused)
{
	struct reactor		*r = reactor_new();
	struct session_opts	 o = { .listen = false };
	struct session		*s1, *s2;
	struct torrent		*t;
	struct metainfo		 m;
	uint8_t			*data = xmalloc(RS_PIECES * RS_PL);
	char			 err[GT_ERRLEN], *dir = tpath("dl");
	char			*state = tpath("state");
	struct torrent_opts	 to = { .dir = dir, .state_dir = state };

	resume_torrent(&m, data);
	mkdir(state, 0700);
	cr_assert_eq(session_new(&s1, r, &o, err), GT_OK, "%s", err);
	cr_assert_eq(session_new(&s2, r, &o, err), GT_OK, "%s", err);
	cr_assert_eq(session_add_torrent(s1, &m, &to, NULL, &t, err), GT_OK,
	    "%s", err);
	cr_assert_eq(session_add_torrent(s2, &m, &to, NULL, &t, err),
	    GT_EEXIST);
	cr_assert_not_null(strstr(err, "in use by another gtorrent (pid"),
	    "%s", err);
	to.upload_only = true;		/* a reader takes no lock */
	cr_assert_eq(session_add_torrent(s2, &m, &to, NULL, &t, err), GT_OK,
	    "%s", err);
	session_free(s1);
	session_free(s2);
	reactor_free(r);
	free(dir);
	free(state);
	free(data);
	metainfo_clear(&m);
}
