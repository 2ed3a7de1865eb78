/* test-http.c - GETs against a scripted HTTP server on 127.0.0.1 */
#include <criterion/criterion.h>

#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "reactor.h"
#include "util.h"

#define TEST_ALARM_S	30		/* no test runs longer than this */
#define SRV_MAX_CONNS	64		/* connections per test */
#define SRV_WAIT_MS	10000		/* a handler waits at most this */
#define BIG_LEN		(50u << 20)	/* /big: Content-Length */
#define BOMB_ZEROS	(64u << 20)	/* /bomb: decoded size */

/* ---- a gzip encoder: fixed Huffman literals and runs of zeros ---------- */

struct bits {
	uint8_t		*p;
	size_t		 len, cap;
	uint32_t	 acc;		/* pending bits, LSB first */
	int		 n;		/* how many */
};

static void
bits_byte(struct bits *b, uint8_t c)
{
	if (b->len == b->cap) {
		b->cap = b->cap == 0 ? 4096 : b->cap * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	b->p[b->len++] = c;
}

static void
bits_put(struct bits *b, uint32_t v, int n)
{
	b->acc |= v << b->n;
	b->n += n;
	while (b->n >= 8) {
		bits_byte(b, (uint8_t)b->acc);
		b->acc >>= 8;
		b->n -= 8;
	}
}

/* Huffman codes go out most significant bit first. */
static void
bits_code(struct bits *b, uint32_t code, int n)
{
	uint32_t	rev = 0;
	int		i;

	for (i = 0; i < n; i++)
		rev |= ((code >> i) & 1) << (n - 1 - i);
	bits_put(b, rev, n);
}

static void
bits_lit(struct bits *b, uint8_t c)
{
	if (c < 144)
		bits_code(b, 0x30 + c, 8);
	else
		bits_code(b, 0x190 + (c - 144u), 9);
}

static void
bits_le32(struct bits *b, uint32_t v)
{
	int	i;

	for (i = 0; i < 4; i++)
		bits_byte(b, (uint8_t)(v >> (8 * i)));
}

static uint32_t
crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	int	k;

	crc = ~crc;
	while (len-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/*
 * gzip(text then nzeros zero bytes).  The zeros are one literal and
 * matches of 258 at distance 1: 13 bits per 258 bytes.  With good_crc
 * false the trailer's CRC is left 0 (a bomb is never read to the end).
 */
static uint8_t *
gzip_make(const char *text, size_t nzeros, bool good_crc, size_t *len)
{
	static const uint8_t	hdr[10] = {	/* gzip, deflate, no flags */
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	static const uint8_t	zero[4096];
	struct bits		b = { .p = NULL };
	size_t			i, tlen = strlen(text), left;
	uint32_t		crc = 0;

	for (i = 0; i < sizeof(hdr); i++)
		bits_byte(&b, hdr[i]);
	bits_put(&b, 1, 1);		/* BFINAL */
	bits_put(&b, 1, 2);		/* fixed Huffman */
	for (i = 0; i < tlen; i++)
		bits_lit(&b, (uint8_t)text[i]);
	if (nzeros > 0) {
		bits_lit(&b, 0);
		for (left = nzeros - 1; left >= 258; left -= 258) {
			bits_code(&b, 0xc0 + 5, 8);	/* length 258 */
			bits_code(&b, 0, 5);		/* distance 1 */
		}
		while (left-- > 0)
			bits_lit(&b, 0);
	}
	bits_code(&b, 0, 7);		/* end of block */
	if (b.n > 0)
		bits_put(&b, 0, 8 - b.n);
	if (good_crc) {
		crc = crc32_update(0, (const uint8_t *)text, tlen);
		for (left = nzeros; left > 0; left -= MIN(left, sizeof(zero)))
			crc = crc32_update(crc, zero, MIN(left, sizeof(zero)));
	}
	bits_le32(&b, crc);
	bits_le32(&b, (uint32_t)(tlen + nzeros));
	*len = b.len;
	return b.p;
}

/* ---- the server: a thread per connection, scripted by path ------------ */

struct srv {
	int		 lfd;
	uint16_t	 port;
	int		 stop[2];	/* closing stop[1] wakes every thread */
	pthread_t	 acceptor;
	pthread_t	 conns[SRV_MAX_CONNS];
	size_t		 nconns;
	atomic_int	 loop_hits;	/* requests for /loop */
	atomic_int	 accepted;
	char		 ua[128];	/* last User-Agent seen */
	uint8_t		*gz;		/* /gzip and /bomb bodies */
	size_t		 gzlen;
	uint8_t		*bomb;
	size_t		 bomblen;
};

static struct srv	 srv;
static const char	 gz_text[] = "hello, gzip world\n";
#define GZ_ZEROS	1000

static bool
send_all(int fd, const void *p, size_t len)
{
	const uint8_t	*q = p;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, q, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		q += n;
		len -= (size_t)n;
	}
	return true;
}

static bool
send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

/* 1: fd readable, 0: stopping or timed out. */
static int
srv_wait(int fd, int ms)
{
	struct pollfd	pfd[2] = {
		{ .fd = srv.stop[0], .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};
	int		n;

	do
		n = poll(pfd, fd >= 0 ? 2 : 1, ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || pfd[0].revents != 0)
		return 0;
	return 1;
}

static void
srv_reply(int fd, const char *status, const char *extra, const void *body,
    size_t len)
{
	char	head[512];

	snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n%s\r\n", status, len, extra);
	if (send_str(fd, head))
		send_all(fd, body, len);
}

static void
srv_route(int fd, const char *path, const char *req)
{
	static const uint8_t	zeros[65536];
	const char		*ua;
	char			 loc[256];
	size_t			 sent, n;

	if (strcmp(path, "/hello") == 0)
		srv_reply(fd, "200 OK", "", "hello world", 11);
	else if (strcmp(path, "/chunked") == 0)
		send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Connection: close\r\n\r\n5\r\nhello\r\n7\r\n, chunk\r\n"
		    "18\r\ned transfer, third part.\r\n0\r\n\r\n");
	else if (strcmp(path, "/gzip") == 0)
		srv_reply(fd, "200 OK", "Content-Encoding: gzip\r\n", srv.gz,
		    srv.gzlen);
	else if (strcmp(path, "/bomb") == 0)
		srv_reply(fd, "200 OK", "Content-Encoding: gzip\r\n", srv.bomb,
		    srv.bomblen);
	else if (strcmp(path, "/big") == 0) {
		snprintf(loc, sizeof(loc), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %u\r\nConnection: close\r\n\r\n", BIG_LEN);
		if (!send_str(fd, loc))
			return;
		for (sent = 0; sent < BIG_LEN; sent += n) {
			n = MIN(sizeof(zeros), BIG_LEN - sent);
			if (!send_all(fd, zeros, n))
				break;		/* the client hung up: good */
		}
	} else if (strcmp(path, "/file-redirect") == 0)
		srv_reply(fd, "302 Found", "Location: file:///etc/passwd\r\n",
		    "", 0);
	else if (strcmp(path, "/gopher-redirect") == 0)
		srv_reply(fd, "302 Found",
		    "Location: gopher://127.0.0.1:1/\r\n", "", 0);
	else if (strcmp(path, "/redirect") == 0)
		srv_reply(fd, "302 Found", "Location: /hello\r\n", "", 0);
	else if (strcmp(path, "/loop") == 0) {
		atomic_fetch_add(&srv.loop_hits, 1);
		srv_reply(fd, "302 Found", "Location: /loop\r\n", "", 0);
	} else if (strcmp(path, "/ua") == 0) {
		if ((ua = strcasestr(req, "\r\nUser-Agent: ")) != NULL) {
			ua += 14;
			n = strcspn(ua, "\r");
			snprintf(srv.ua, sizeof(srv.ua), "%.*s", (int)n, ua);
		}
		srv_reply(fd, "200 OK", "", srv.ua, strlen(srv.ua));
	} else if (strcmp(path, "/slow") == 0) {
		if (srv_wait(-1, 200) == 0)
			srv_reply(fd, "200 OK", "", "slow", 4);
	} else if (strcmp(path, "/hang") == 0) {
		/* accept, read, never answer: until the client or we quit */
		while (srv_wait(fd, SRV_WAIT_MS) == 1 &&
		    recv(fd, loc, sizeof(loc), 0) > 0)
			;
	} else
		srv_reply(fd, "404 Not Found", "", "not found", 9);
}

static void *
srv_conn(void *arg)
{
	int		 fd = (int)(intptr_t)arg;
	char		 req[4096], path[256];
	size_t		 n = 0;
	ssize_t		 got;
	struct timeval	 tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (memmem(req, n, "\r\n\r\n", 4) == NULL) {
		if (n == sizeof(req) - 1 || srv_wait(fd, SRV_WAIT_MS) == 0)
			goto out;
		if ((got = recv(fd, req + n, sizeof(req) - 1 - n, 0)) <= 0)
			goto out;
		n += (size_t)got;
	}
	req[n] = '\0';
	if (sscanf(req, "GET %255s HTTP/1.1", path) == 1)
		srv_route(fd, path, req);
out:
	close(fd);
	return NULL;
}

static void *
srv_accept(void *arg)
{
	int	fd;

	(void)arg;
	while (srv_wait(srv.lfd, -1) == 1) {
		if ((fd = accept(srv.lfd, NULL, NULL)) < 0)
			continue;
		atomic_fetch_add(&srv.accepted, 1);
		if (srv.nconns == SRV_MAX_CONNS ||
		    pthread_create(&srv.conns[srv.nconns], NULL, srv_conn,
		    (void *)(intptr_t)fd) != 0) {
			close(fd);
			continue;
		}
		srv.nconns++;
	}
	return NULL;
}

static void
srv_start(void)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		slen = sizeof(sin);

	memset(&srv, 0, sizeof(srv));
	srv.gz = gzip_make(gz_text, GZ_ZEROS, true, &srv.gzlen);
	srv.bomb = gzip_make("", BOMB_ZEROS, false, &srv.bomblen);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(srv.lfd, 0);
	cr_assert_eq(bind(srv.lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(srv.lfd, 64), 0);
	cr_assert_eq(getsockname(srv.lfd, (struct sockaddr *)&sin, &slen), 0);
	srv.port = ntohs(sin.sin_port);
	cr_assert_eq(pipe(srv.stop), 0);
	cr_assert_eq(pthread_create(&srv.acceptor, NULL, srv_accept, NULL), 0);
}

static void
srv_stop(void)
{
	size_t	i;

	close(srv.stop[1]);
	pthread_join(srv.acceptor, NULL);
	for (i = 0; i < srv.nconns; i++)
		pthread_join(srv.conns[i], NULL);
	close(srv.stop[0]);
	close(srv.lfd);
	free(srv.gz);
	free(srv.bomb);
}

/* ---- the client side ---------------------------------------------------- */

static struct reactor	*r;
static struct http	*h;
static int		 pending;	/* callbacks still due: 0 stops */

struct result {
	int		 calls;
	enum gt_err	 e;
	long		 status;
	uint8_t		*body;		/* copy, NUL-terminated */
	size_t		 len;
	char		 reason[256];
	uint64_t	 at;		/* reactor_now_ms() of the call */
};

static void
setup(void)
{
	static const char *const proxies[] = { "http_proxy", "https_proxy",
	    "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	size_t	i;

	alarm(TEST_ALARM_S);
	for (i = 0; i < nitems(proxies); i++)
		unsetenv(proxies[i]);
	srv_start();
	r = reactor_new();
	cr_assert_not_null(r);
	h = http_new(r);
	cr_assert_not_null(h);
	pending = 0;
}

static void
teardown(void)
{
	http_free(h);
	h = NULL;
	reactor_free(r);
	r = NULL;
	srv_stop();
}

TestSuite(http, .init = setup, .fini = teardown);

static void
result_clear(struct result *res)
{
	free(res->body);
	memset(res, 0, sizeof(*res));
}

static void
done_cb(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	struct result	*res = arg;

	res->calls++;
	res->e = e;
	res->status = status;
	res->at = reactor_now_ms(r);
	if (e == GT_OK) {
		cr_assert(body != NULL);
		cr_assert_eq(body[len], '\0');
		res->body = xmalloc(len + 1);
		memcpy(res->body, body, len + 1);
		res->len = len;
	} else {
		cr_assert_not_null(reason);
		cr_assert_neq(reason[0], '\0');
		snprintf(res->reason, sizeof(res->reason), "%s", reason);
	}
	if (--pending == 0)
		reactor_stop(r);
}

static void
stop_cb(void *arg)
{
	reactor_stop(arg);
}

/* Runs the loop until every callback came or limit_ms passed. */
static uint64_t
run_for(uint64_t limit_ms)
{
	struct reactor_timer	*guard = reactor_timer_new(r, stop_cb, r);
	uint64_t		 t0 = reactor_now_ms(r);

	reactor_timer_in(guard, limit_ms);
	cr_assert_eq(reactor_run(r), 0);
	reactor_timer_free(guard);
	return reactor_now_ms(r) - t0;
}

static struct http_opts
opts(void)
{
	return (struct http_opts){
		.timeout_ms = 5000,
		.max_body = 1u << 20,
		.max_redirects = 5,
		.user_agent = "gtorrent-test/1.0",
	};
}

static char *
url(const char *path)
{
	return xasprintf("http://127.0.0.1:%u%s", (unsigned)srv.port, path);
}

/* One GET, run to its end. */
static uint64_t
get(const char *path, const struct http_opts *o, struct result *res,
    uint64_t limit_ms)
{
	char		*u = url(path);
	uint64_t	 took;

	memset(res, 0, sizeof(*res));
	pending = 1;
	cr_assert_not_null(http_get(h, u, o, done_cb, res));
	free(u);
	took = run_for(limit_ms);
	cr_assert_eq(res->calls, 1, "%s: %d calls", path, res->calls);
	return took;
}

Test(http, ok_with_body)
{
	struct http_opts	o = opts();
	struct result		res;

	get("/hello", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_eq(res.status, 200);
	cr_assert_eq(res.len, 11);
	cr_assert_str_eq((char *)res.body, "hello world");
	result_clear(&res);
}

Test(http, chunked_body)
{
	struct http_opts	o = opts();
	struct result		res;

	get("/chunked", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_eq(res.status, 200);
	cr_assert_str_eq((char *)res.body,
	    "hello, chunked transfer, third part.");
	result_clear(&res);
}

Test(http, gzip_body_is_decoded)
{
	struct http_opts	o = opts();
	struct result		res;
	size_t			i, tlen = strlen(gz_text);

	get("/gzip", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_eq(res.status, 200);
	cr_assert_eq(res.len, tlen + GZ_ZEROS);
	cr_assert_eq(memcmp(res.body, gz_text, tlen), 0);
	for (i = tlen; i < res.len; i++)
		cr_assert_eq(res.body[i], 0);
	result_clear(&res);
}

Test(http, body_cap_on_huge_reply)
{
	struct http_opts	o = opts();
	struct result		res;
	struct rusage		ru0, ru1;
	uint64_t		took;

	o.max_body = 2u << 20;
	getrusage(RUSAGE_SELF, &ru0);
	took = get("/big", &o, &res, 10000);
	getrusage(RUSAGE_SELF, &ru1);
	cr_assert_eq(res.e, GT_ETOOBIG, "%s", gt_strerror(res.e));
	cr_assert_not_null(strstr(res.reason, "larger than 2097152 bytes"),
	    "%s", res.reason);
	cr_assert_lt(took, 3000, "took %llu ms", (unsigned long long)took);
	/* 50 MiB were offered; far less may have been kept (KiB). */
	cr_assert_lt(ru1.ru_maxrss - ru0.ru_maxrss, 24 * 1024,
	    "rss grew by %ld KiB", ru1.ru_maxrss - ru0.ru_maxrss);
	result_clear(&res);
}

Test(http, body_cap_counts_decoded_bytes)
{
	struct http_opts	o = opts();
	struct result		res;
	uint64_t		took;

	cr_assert_lt(srv.bomblen, 1u << 20);	/* small on the wire */
	o.max_body = 1u << 20;
	took = get("/bomb", &o, &res, 10000);
	cr_assert_eq(res.e, GT_ETOOBIG, "%s: %s", gt_strerror(res.e),
	    res.reason);
	cr_assert_not_null(strstr(res.reason, "larger than 1048576 bytes"));
	cr_assert_lt(took, 3000);
	result_clear(&res);

	/* the same stream under a cap it fits in: the small one passes */
	o.max_body = GZ_ZEROS + sizeof(gz_text);
	get("/gzip", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	result_clear(&res);
	o.max_body = GZ_ZEROS;
	get("/gzip", &o, &res, 5000);
	cr_assert_eq(res.e, GT_ETOOBIG);
	result_clear(&res);
}

Test(http, redirect_followed)
{
	struct http_opts	o = opts();
	struct result		res;

	get("/redirect", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_eq(res.status, 200);
	cr_assert_str_eq((char *)res.body, "hello world");
	result_clear(&res);

	o.max_redirects = 0;		/* not followed: the 302 is the reply */
	get("/redirect", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_eq(res.status, 302);
	result_clear(&res);
}

Test(http, redirect_to_other_scheme_fails)
{
	struct http_opts	o = opts();
	struct result		res;

	get("/file-redirect", &o, &res, 5000);
	cr_assert_eq(res.e, GT_EUNSUP, "%s: %s", gt_strerror(res.e),
	    res.reason);
	cr_assert_null(res.body);
	result_clear(&res);
	get("/gopher-redirect", &o, &res, 5000);
	cr_assert_eq(res.e, GT_EUNSUP, "%s: %s", gt_strerror(res.e),
	    res.reason);
	result_clear(&res);
}

Test(http, redirect_loop_stops)
{
	struct http_opts	o = opts();
	struct result		res;

	o.max_redirects = 3;
	get("/loop", &o, &res, 5000);
	cr_assert_eq(res.e, GT_EPROTO, "%s: %s", gt_strerror(res.e),
	    res.reason);
	cr_assert_eq(atomic_load(&srv.loop_hits), 4);	/* 1 + 3 redirects */
	result_clear(&res);
}

Test(http, timeout)
{
	struct http_opts	o = opts();
	struct result		res;
	uint64_t		t0 = reactor_now_ms(r);

	o.timeout_ms = 300;
	get("/hang", &o, &res, 5000);
	cr_assert_eq(res.e, GT_EIO, "%s", gt_strerror(res.e));
	cr_assert_geq(res.at - t0, 300);
	cr_assert_lt(res.at - t0, 300 + 500, "after %llu ms",
	    (unsigned long long)(res.at - t0));
	cr_assert_not_null(strcasestr(res.reason, "timed out"), "%s",
	    res.reason);
	result_clear(&res);
}

Test(http, connection_refused)
{
	struct http_opts	o = opts();
	struct result		res;
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		slen = sizeof(sin);
	int			fd;
	char			*u;
	uint64_t		took;

	/* a port that was free a moment ago, with nobody listening */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	u = xasprintf("http://127.0.0.1:%u/x", (unsigned)ntohs(sin.sin_port));
	memset(&res, 0, sizeof(res));
	pending = 1;
	http_get(h, u, &o, done_cb, &res);
	took = run_for(5000);
	close(fd);
	free(u);
	cr_assert_eq(res.calls, 1);
	cr_assert_eq(res.e, GT_EIO);
	cr_assert_lt(took, 2000);
	result_clear(&res);
}

Test(http, not_found_is_ok_with_status)
{
	struct http_opts	o = opts();
	struct result		res;

	get("/nothing-here", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_eq(res.status, 404);
	cr_assert_str_eq((char *)res.body, "not found");
	result_clear(&res);
}

Test(http, bad_scheme_reported_from_loop)
{
	static const char *const bad[] = { "file:///etc/passwd",
	    "gopher://127.0.0.1/", "ftp://127.0.0.1/", "", "127.0.0.1/x",
	    "httpx://127.0.0.1/" };
	struct http_opts	o = opts();
	struct result		res[nitems(bad)];
	size_t			i;

	memset(res, 0, sizeof(res));
	pending = nitems(bad);
	for (i = 0; i < nitems(bad); i++) {
		cr_assert_not_null(http_get(h, bad[i], &o, done_cb, &res[i]));
		cr_assert_eq(res[i].calls, 0);	/* never from http_get */
	}
	run_for(2000);
	for (i = 0; i < nitems(bad); i++) {
		cr_assert_eq(res[i].calls, 1);
		cr_assert_eq(res[i].e, GT_EINVAL, "%s", bad[i]);
		result_clear(&res[i]);
	}
	cr_assert_eq(atomic_load(&srv.accepted), 0);
}

static void
cancel_cb(void *arg)
{
	http_cancel(arg);
}

Test(http, cancel_means_no_callback)
{
	struct http_opts	 o = opts();
	struct result		 res[3];
	struct reactor_timer	*t;
	struct http_req		*q;
	char			*u = url("/hang"), *v = url("/hello");

	memset(res, 0, sizeof(res));
	pending = 99;
	/* cancelled at once, before the loop ran */
	q = http_get(h, v, &o, done_cb, &res[0]);
	http_cancel(q);
	/* cancelled while the server holds it */
	q = http_get(h, u, &o, done_cb, &res[1]);
	t = reactor_timer_new(r, cancel_cb, q);
	reactor_timer_in(t, 100);
	/* a request that never started, cancelled */
	http_cancel(http_get(h, "file:///x", &o, done_cb, &res[2]));
	http_cancel(NULL);
	run_for(500);
	cr_assert_eq(res[0].calls, 0);
	cr_assert_eq(res[1].calls, 0);
	cr_assert_eq(res[2].calls, 0);
	reactor_timer_free(t);
	free(u);
	free(v);
}

Test(http, concurrent_requests)
{
	static const char *const paths[] = { "/hello", "/chunked", "/gzip",
	    "/slow", "/nothing", "/redirect", "/slow", "/hello", "/gzip",
	    "/slow" };
	struct http_opts	o = opts();
	struct result		res[nitems(paths)];
	size_t			i;
	char			*u;
	uint64_t		took;

	memset(res, 0, sizeof(res));
	pending = nitems(paths);
	for (i = 0; i < nitems(paths); i++) {
		u = url(paths[i]);
		http_get(h, u, &o, done_cb, &res[i]);
		free(u);
	}
	took = run_for(5000);
	/* three /slow of 200 ms each: they overlapped */
	cr_assert_lt(took, 550, "took %llu ms", (unsigned long long)took);
	for (i = 0; i < nitems(paths); i++) {
		cr_assert_eq(res[i].calls, 1, "%s", paths[i]);
		cr_assert_eq(res[i].e, GT_OK, "%s: %s", paths[i],
		    res[i].reason);
		cr_assert_eq(res[i].status,
		    strcmp(paths[i], "/nothing") == 0 ? 404 : 200);
		if (strcmp(paths[i], "/slow") == 0)
			cr_assert_str_eq((char *)res[i].body, "slow");
		result_clear(&res[i]);
	}
}

Test(http, user_agent_and_bind_ip)
{
	struct http_opts	o = opts();
	struct result		res;

	o.bind_ip = "127.0.0.1";
	get("/ua", &o, &res, 5000);
	cr_assert_eq(res.e, GT_OK, "%s", res.reason);
	cr_assert_str_eq((char *)res.body, "gtorrent-test/1.0");
	result_clear(&res);
}

/* Callbacks may start requests, cancel others and free the http. */
static struct result	 chain_res[3];
static struct http_req	*chain_victim;

static void
chain_second_cb(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	done_cb(arg, e, status, body, len, reason);
	http_free(h);			/* from inside: the victim goes too */
	h = NULL;
	reactor_stop(r);
}

static void
chain_first_cb(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	struct http_opts	 o = opts();
	char			*u = url("/hello"), *v = url("/slow");

	done_cb(arg, e, status, body, len, reason);
	http_cancel(chain_victim);	/* the /hang, never to call back */
	chain_victim = http_get(h, v, &o, done_cb, &chain_res[2]);
	http_get(h, u, &o, chain_second_cb, &chain_res[1]);
	free(u);
	free(v);
}

Test(http, reentrant_callbacks)
{
	struct http_opts	 o = opts();
	char			*u = url("/hello"), *v = url("/hang");
	uint64_t		 took;

	memset(chain_res, 0, sizeof(chain_res));
	pending = 99;			/* chain_second_cb stops the loop */
	http_get(h, u, &o, chain_first_cb, &chain_res[0]);
	chain_victim = http_get(h, v, &o, done_cb, &chain_res[2]);
	took = run_for(3000);
	cr_assert_lt(took, 1000);
	cr_assert_null(h);
	cr_assert_eq(chain_res[0].calls, 1);
	cr_assert_eq(chain_res[1].calls, 1);
	cr_assert_eq(chain_res[0].e, GT_OK);
	cr_assert_eq(chain_res[1].e, GT_OK);
	/* the /hang was cancelled, the /slow went with http_free */
	cr_assert_eq(chain_res[2].calls, 0);
	free(u);
	free(v);
	result_clear(&chain_res[0]);
	result_clear(&chain_res[1]);
	result_clear(&chain_res[2]);
}

Test(http, free_with_requests_running)
{
	struct http_opts	o = opts();
	struct result		res[3];
	char			*u = url("/hang"), *v = url("/slow");

	memset(res, 0, sizeof(res));
	pending = 99;
	http_get(h, u, &o, done_cb, &res[0]);
	http_get(h, v, &o, done_cb, &res[1]);
	http_get(h, "gopher://x/", &o, done_cb, &res[2]);
	run_for(100);			/* connected, waiting */
	http_free(h);
	h = NULL;
	run_for(300);
	cr_assert_eq(res[0].calls + res[1].calls, 0);
	cr_assert_leq(res[2].calls, 1);	/* may have been reported */
	free(u);
	free(v);
}
