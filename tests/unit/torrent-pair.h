/* torrent-pair.h - a gtorrent seed and leecher in two sessions on one loop
 * over 127.0.0.1, and a tiny HTTP tracker: for the tests of torrent and of
 * what the view reads of it.  Define PL (piece length) and NPIECES first. */
#ifndef GT_TEST_TORRENT_PAIR_H
#define GT_TEST_TORRENT_PAIR_H

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

static inline void
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

static inline void
tracker_close(struct tracker *k)
{
	size_t	i;

	for (i = 0; i < nitems(k->c); i++)
		if (k->c[i] > 0)
			close(k->c[i]);
	close(k->fd);
}

/* Answers each whole request: 5 seeders, 3 leechers, no peers. */
static inline void
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
static inline void
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

static inline void
wait_cb(void *arg)
{
	struct waiter	*w = arg;

	tracker_serve(w->k);
	if (w->done(w->arg) || reactor_now_ms(w->r) >= w->until)
		reactor_stop(w->r);
	else
		reactor_timer_in(w->t, 10);
}

static inline bool
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

static inline bool
never(void *arg)
{
	(void)arg;
	return false;
}

/* ---- a seed and a leecher ---------------------------------------------- */

/* Writes len bytes of data to the file tmp/rel. */
static inline void
pair_put_file(const char *rel, const uint8_t *data, size_t len)
{
	char	*path = tpath(rel);
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_neq(fd, -1, "%s", path);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	free(path);
}

/*
 * A torrent of NPIECES pieces, its data written under tmp/seed: one file,
 * v.bin, or with split (bytes, not a multiple of PL) two, v/a of split
 * bytes and v/b of the rest, so that a piece lies across both.
 */
static inline void
make_torrent_split(struct metainfo *m, const char *announce, int split)
{
	struct buf	 b;
	uint8_t		*data, sha[20];
	char		 err[GT_ERRLEN], *path;
	int		 i;

	data = xmalloc(NPIECES * PL);
	for (i = 0; i < NPIECES * PL; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 9));
	buf_init(&b, 8192);	/* the pieces' hashes: 20 * NPIECES */
	buf_puts(&b, "d");
	if (announce != NULL)
		buf_printf(&b, "8:announce%zu:%s", strlen(announce), announce);
	if (split == 0)
		buf_printf(&b, "4:infod6:lengthi%de4:name5:v.bin",
		    NPIECES * PL);
	else
		buf_printf(&b, "4:infod5:filesld6:lengthi%de4:pathl1:aeed"
		    "6:lengthi%de4:pathl1:beee4:name1:v", split,
		    NPIECES * PL - split);
	buf_printf(&b, "12:piece lengthi%de6:pieces%d:", PL, 20 * NPIECES);
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
	if (split == 0) {
		pair_put_file("seed/v.bin", data, NPIECES * PL);
	} else {
		path = tpath("seed/v");
		cr_assert_eq(mkdir(path, 0777), 0);
		free(path);
		pair_put_file("seed/v/a", data, (size_t)split);
		pair_put_file("seed/v/b", data + split,
		    (size_t)(NPIECES * PL - split));
	}
	free(data);
}

/* A one-file torrent of NPIECES pieces; its data written under tmp/seed. */
static inline void
make_torrent(struct metainfo *m, const char *announce)
{
	make_torrent_split(m, announce, 0);
}

struct pair {
	struct reactor	*r;
	struct metainfo	 m;
	struct session	*ss, *sl;	/* the seed's, the leecher's */
	struct torrent	*ts, *tl;
	char		*sdir, *ldir;
};

static inline struct netaddr
loopback(uint16_t port)
{
	struct netaddr	a;

	cr_assert_eq(addr_parse("127.0.0.1", port, &a), GT_OK);
	return a;
}

/* The seed (uploading at up_rate, 0: no limit) and the leecher, started,
   the leecher given the seed's address; the torrent's files as
   make_torrent_split makes them. */
static inline void
pair_start_split(struct pair *p, uint64_t up_rate, int split)
{
	struct session_opts	 so = { .listen = true };
	struct torrent_opts	 to = { .max_peers = 8, .seed = true };
	struct netaddr		 a;
	char			 err[GT_ERRLEN];

	p->r = reactor_new();
	make_torrent_split(&p->m, NULL, split);
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

static inline void
pair_start(struct pair *p, uint64_t up_rate)
{
	pair_start_split(p, up_rate, 0);
}

static inline void
pair_free(struct pair *p)
{
	session_free(p->sl);
	session_free(p->ss);
	reactor_free(p->r);
	metainfo_clear(&p->m);
	free(p->sdir);
	free(p->ldir);
}

static inline uint32_t
npeers(const struct torrent *t)
{
	struct torrent_stats	st;

	torrent_stats(t, &st);
	return st.peers;
}

static inline bool
leecher_has_peer(void *arg)
{
	return npeers(((struct pair *)arg)->tl) > 0;
}

static inline bool
leecher_has_pieces(void *arg)
{
	struct torrent_stats	st;

	torrent_stats(((struct pair *)arg)->tl, &st);
	return st.have_pieces >= 4;
}

static inline bool
leecher_complete(void *arg)
{
	struct torrent_stats	st;

	torrent_stats(((struct pair *)arg)->tl, &st);
	return st.complete;
}

static inline bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((uint8_t)*s < 0x20 || (uint8_t)*s >= 0x7f)
			return false;
	return true;
}

#endif /* GT_TEST_TORRENT_PAIR_H */
