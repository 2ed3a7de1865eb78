/* test-udp.c - the UDP socket, its tracker exchanges and its KRPC side */
#include <criterion/criterion.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dht.h"
#include "krpc.h"
#include "reactor.h"
#include "udp.h"
#include "util.h"

#define TEST_ALARM_S	30

struct ctx {
	struct reactor	*r;
	struct udp	*u;
	int		 calls;
	enum gt_err	 e;
	bool		 free_in_cb;	/* udp_free from inside the callback */
	struct udp_req	*other;		/* cancelled from the callback */
};

/* A UDP port on 127.0.0.1 with nobody behind it. */
static uint16_t
closed_port(void)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	int			fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(fd >= 0);
	cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
done_cb(void *arg, struct tracker_udp_result *res)
{
	struct ctx	*c = arg;

	c->calls++;
	c->e = res->e;
	if (c->other != NULL) {
		udp_cancel(c->other);
		c->other = NULL;
	}
	if (c->free_in_cb) {
		udp_free(c->u);
		c->u = NULL;
	}
	reactor_stop(c->r);
}

static void
stop_cb(void *arg)
{
	reactor_stop(arg);
}

static struct tracker_req
req(void)
{
	struct tracker_req	tr;

	memset(&tr, 0, sizeof(tr));
	memset(tr.info_hash, 0xab, sizeof(tr.info_hash));
	memcpy(tr.peer_id, "-GQ0100-abcdefghijkl", 20);
	tr.port = 6881;
	tr.numwant = 50;
	return tr;
}

static void
run(struct ctx *c)
{
	struct reactor_timer	*t = reactor_timer_new(c->r, stop_cb, c->r);

	reactor_timer_in(t, 10000);
	reactor_run(c->r);
	reactor_timer_free(t);
}

static void
setup(void)
{
	alarm(TEST_ALARM_S);
}

TestSuite(udp, .init = setup);

Test(udp, closed_port_fails_fast)
{
	struct ctx		 c = { 0 };
	struct tracker_req	 tr = req();
	char			 url[64];

	c.r = reactor_new();
	c.u = udp_new(c.r, 1);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u/announce",
	    closed_port());
	cr_assert_not_null(udp_announce(c.u, url, &tr, 2, done_cb, &c));
	run(&c);
	cr_assert_eq(c.calls, 1);
	cr_assert_eq(c.e, GT_EIO);
	udp_free(c.u);
	reactor_free(c.r);
}

/* udp_free from inside a done callback: freed once the callback is over. */
Test(udp, free_inside_callback)
{
	struct ctx		 c = { .free_in_cb = true };
	struct tracker_req	 tr = req();
	char			 url[64];
	uint16_t		 port = closed_port();

	c.r = reactor_new();
	c.u = udp_new(c.r, 1);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u/announce", port);
	cr_assert_not_null(udp_announce(c.u, url, &tr, 2, done_cb, &c));
	/* a second request on the same tracker fails in the same walk */
	cr_assert_not_null(udp_announce(c.u, url, &tr, 2, done_cb, &c));
	run(&c);
	cr_assert_eq(c.calls, 1);
	cr_assert_null(c.u);
	reactor_free(c.r);
}

/* A callback that cancels another request of the same walk. */
Test(udp, cancel_inside_callback)
{
	struct ctx		 c = { 0 };
	struct tracker_req	 tr = req();
	char			 url[64];

	c.r = reactor_new();
	c.u = udp_new(c.r, 1);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u/announce",
	    closed_port());
	cr_assert_not_null(udp_announce(c.u, url, &tr, 2, done_cb, &c));
	c.other = udp_announce(c.u, url, &tr, 2, done_cb, &c);
	cr_assert_not_null(c.other);
	run(&c);
	cr_assert_eq(c.calls, 1);
	udp_free(c.u);
	reactor_free(c.r);
}

Test(udp, bad_urls)
{
	struct reactor		*r = reactor_new();
	struct udp		*u = udp_new(r, 1);
	struct tracker_req	 tr = req();

	cr_assert_not(udp_url_ok("http://127.0.0.1:80/announce"));
	cr_assert_not(udp_url_ok("udp://127.0.0.1/announce"));
	cr_assert_not(udp_url_ok("udp://127.0.0.1:0/announce"));
	cr_assert_not(udp_url_ok("udp://127.0.0.1:65536"));
	cr_assert(udp_url_ok("udp://127.0.0.1:6969"));
	cr_assert(udp_url_ok("udp://[::1]:6969/announce?k=1"));
	cr_assert_null(udp_announce(u, "udp://127.0.0.1", &tr, 1, done_cb,
	    NULL));
	udp_free(u);
	reactor_free(r);
}

/* ---- the DHT's side of the socket ---------------------------------------- */

/* A plain UDP socket on 127.0.0.1 (the other end), non-blocking. */
static int
peer_socket(uint16_t *port)
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

static void
send_to(int fd, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), (ssize_t)len);
}

struct kctx {
	struct reactor	*r;
	struct udp	*u;
	struct dht	*dht;
	unsigned	 datagrams, batches, batch, max_batch, unreachable;
	unsigned	 want;		/* stop after this many datagrams */
	struct netaddr	 from, bad;
	uint8_t		 first[64];
	size_t		 firstlen;
};

static void
k_datagram(void *arg, const uint8_t *pkt, size_t len,
    const struct netaddr *from)
{
	struct kctx	*k = arg;

	if (k->datagrams++ == 0) {
		k->from = *from;
		k->firstlen = MIN(len, sizeof(k->first));
		memcpy(k->first, pkt, k->firstlen);
	}
	k->batch++;
	if (k->dht != NULL)
		dht_on_datagram(k->dht, pkt, len, from, reactor_now_ms(k->r));
}

static void
k_unreachable(void *arg, const struct netaddr *a)
{
	struct kctx	*k = arg;

	k->unreachable++;
	k->bad = *a;
	reactor_stop(k->r);
}

static void
k_after(void *arg)
{
	struct kctx	*k = arg;

	k->batches++;
	k->max_batch = MAX(k->max_batch, k->batch);
	k->batch = 0;
	if (k->want != 0 && k->datagrams >= k->want)
		reactor_stop(k->r);
}

static void
k_setup(struct kctx *k)
{
	struct udp_krpc_hooks	h = {
		.datagram = k_datagram, .unreachable = k_unreachable,
		.after_input = k_after, .arg = k,
	};

	k->r = reactor_new();
	k->u = udp_new(k->r, 7);
	cr_assert_eq(udp_bind(k->u, 0, NULL), GT_OK);
	cr_assert_neq(udp_port(k->u), 0);
	udp_set_krpc(k->u, &h);
}

static void
k_run(struct kctx *k)
{
	struct reactor_timer	*t = reactor_timer_new(k->r, stop_cb, k->r);

	reactor_timer_in(t, 5000);
	reactor_run(k->r);
	reactor_timer_free(t);
}

/* The DHT port given is the one bound, and a taken one is an error. */
Test(udp, bind_honours_the_port)
{
	struct reactor	*r = reactor_new();
	struct udp	*u = udp_new(r, 1), *v = udp_new(r, 2);
	uint16_t	 port = closed_port();
	char		 err[GT_ERRLEN];

	cr_assert_eq(udp_bind(u, port, err), GT_OK);
	cr_assert_eq(udp_port(u), port);
	cr_assert_eq(udp_bind(u, port, err), GT_OK);	/* again: fine */
	cr_assert_eq(udp_bind(u, port == 65535 ? 1 : port + 1, err),
	    GT_EEXIST);
	cr_assert_eq(udp_bind(v, port, err), GT_EIO);
	cr_assert(strstr(err, "UDP port") != NULL, "%s", err);
	cr_assert_eq(udp_port(v), 0);
	udp_free(v);
	udp_free(u);
	reactor_free(r);
}

/* 'd' goes to the KRPC side whatever the source; the rest does not. */
Test(udp, krpc_routed_by_first_byte)
{
	struct kctx	k = { .want = 2 };
	uint16_t	cport;
	int		fd = peer_socket(&cport);

	k_setup(&k);
	send_to(fd, udp_port(k.u), "\0\0\0\1garbage", 11);
	send_to(fd, udp_port(k.u), "d1:y1:qe", 8);
	send_to(fd, udp_port(k.u), "x", 1);
	send_to(fd, udp_port(k.u), "d", 1);
	k_run(&k);
	cr_assert_eq(k.datagrams, 2);
	cr_assert_eq(k.firstlen, 8);
	cr_assert(memcmp(k.first, "d1:y1:qe", 8) == 0);
	cr_assert_eq(k.from.family, ADDR_V4);
	cr_assert_eq(k.from.port, cport);
	cr_assert(addr_is_loopback(&k.from));
	cr_assert_geq(k.batches, 1);
	close(fd);
	udp_free(k.u);
	reactor_free(k.r);
}

/* A flood is read 64 datagrams a wakeup at most: the loop goes round. */
Test(udp, flood_read_in_bounded_batches)
{
	struct kctx	k = { .want = 130 };
	uint16_t	cport;
	int		fd = peer_socket(&cport), i;

	k_setup(&k);
	(void)cport;
	/* 130: all fit in the default receive buffer, sent before a read */
	for (i = 0; i < 130; i++)
		send_to(fd, udp_port(k.u), "d1:t2:aae", 9);
	k_run(&k);
	cr_assert_eq(k.datagrams, 130);
	cr_assert_leq(k.max_batch, 64);
	cr_assert_geq(k.batches, 3);
	close(fd);
	udp_free(k.u);
	reactor_free(k.r);
}

/* ICMP port unreachable for a datagram the DHT sent: its hook hears. */
Test(udp, icmp_reaches_krpc_side)
{
	struct kctx	k = { 0 };
	struct netaddr	to;
	uint16_t	port = closed_port();

	k_setup(&k);
	cr_assert_eq(addr_parse("127.0.0.1", port, &to), GT_OK);
	udp_send(k.u, &to, (const uint8_t *)"d1:y1:qe", 8);
	k_run(&k);
	cr_assert_eq(k.unreachable, 1);
	cr_assert(addr_eq(&k.bad, &to));
	udp_free(k.u);
	reactor_free(k.r);
}

/* -- a real node on the socket -- */

static void
node_send(void *arg, const struct netaddr *to, const uint8_t *buf,
    size_t len)
{
	struct kctx	*k = arg;

	udp_send(k->u, to, buf, len);
}

struct answer {
	struct reactor	*r;
	struct krpc_msg	 m;
	uint8_t		 pkt[KRPC_MAX_PACKET];
	ssize_t		 n;
};

static void
answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct answer	*a = arg;

	(void)what;
	a->n = recv(fd, a->pkt, sizeof(a->pkt), 0);
	if (a->n > 0)
		reactor_stop(a->r);
}

/* A KRPC ping from fd (bound on 127.0.0.1 or ::1) to k's socket. */
static void
ping_node(struct kctx *k, int fd, const struct sockaddr *to, socklen_t tl)
{
	struct dht_opts	 o = { .v4 = true, .v6 = udp_dual_stack(k->u),
			    .seed = 1 };
	struct dht_hooks h = { .send = node_send, .arg = k };
	struct answer	 a = { 0 };
	struct krpc_msg	 q;
	struct event	*ev;
	struct buf	 b;

	k->dht = dht_new(&o, &h, reactor_now_ms(k->r));
	memset(&q, 0, sizeof(q));
	q.kind = KRPC_QUERY;
	q.method = KRPC_PING;
	memcpy(q.tid, "pg", 2);
	q.tidlen = 2;
	memset(q.id, 0x42, sizeof(q.id));
	buf_init(&b, KRPC_MAX_OUT);
	cr_assert_eq(krpc_put_query(&b, &q), GT_OK);
	cr_assert_eq(sendto(fd, b.data, b.len, 0, to, tl), (ssize_t)b.len);
	buf_clear(&b);
	a.r = k->r;
	ev = event_new(reactor_base(k->r), fd, EV_READ, answer_cb, &a);
	cr_assert_eq(event_add(ev, NULL), 0);
	k_run(k);
	cr_assert_gt(a.n, 0, "no answer to the ping");
	cr_assert_eq(krpc_decode(a.pkt, (size_t)a.n, &a.m), GT_OK);
	cr_assert_eq(a.m.kind, KRPC_RESPONSE);
	cr_assert_eq(a.m.tidlen, 2);
	cr_assert(memcmp(a.m.tid, "pg", 2) == 0);
	cr_assert(memcmp(a.m.id, dht_id(k->dht), KRPC_ID_LEN) == 0);
	event_free(ev);
	dht_free(k->dht);
	k->dht = NULL;
}

Test(udp, krpc_ping_answered_by_a_node)
{
	struct kctx		k = { 0 };
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	uint16_t		cport;
	int			fd = peer_socket(&cport);

	k_setup(&k);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(udp_port(k.u));
	ping_node(&k, fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	udp_free(k.u);
	reactor_free(k.r);
}

/* The same from ::1, on the dual-stack socket (where IPv6 exists). */
Test(udp, krpc_ping_answered_over_ipv6)
{
	struct kctx		k = { 0 };
	struct sockaddr_in6	sin6 = { .sin6_family = AF_INET6 };
	int			fd;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sin6.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0)
		cr_skip_test("no IPv6 on ::1 here");
	k_setup(&k);
	if (!udp_dual_stack(k.u))
		cr_skip_test("no dual-stack UDP socket here");
	sin6.sin6_port = htons(udp_port(k.u));
	ping_node(&k, fd, (struct sockaddr *)&sin6, sizeof(sin6));
	close(fd);
	udp_free(k.u);
	reactor_free(k.r);
}

/* -- trackers on the shared socket -- */

/* A BEP 15 tracker answering one connect and one announce. */
struct fake_tracker {
	int		fd;
	unsigned	got;
};

static void
tracker_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake_tracker	*ft = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	uint8_t			 in[256], out[32];
	ssize_t			 n;
	size_t			 len = 0;

	(void)what;
	if ((n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&ss,
	    &sl)) < 16)
		return;
	ft->got++;
	if (load_be32(in + 8) == 0) {			/* connect */
		store_be32(out, 0);
		memcpy(out + 4, in + 12, 4);		/* tid */
		store_be64(out + 8, 0x1122334455667788ULL);
		len = 16;
	} else if (load_be32(in + 8) == 1 && n >= 98) {	/* announce */
		store_be32(out, 1);
		memcpy(out + 4, in + 12, 4);
		store_be32(out + 8, 1800);		/* interval */
		store_be32(out + 12, 3);		/* leechers */
		store_be32(out + 16, 5);		/* seeders */
		memcpy(out + 20, "\x7f\x00\x00\x01\x1a\xe1", 6);
		len = 26;
	}
	if (len > 0)
		(void)sendto(fd, out, len, 0, (struct sockaddr *)&ss, sl);
}

/* With the KRPC side hooked, a UDP tracker's replies still reach it. */
Test(udp, tracker_beside_krpc)
{
	struct kctx		 k = { 0 };
	struct ctx		 c = { 0 };
	struct fake_tracker	 ft = { 0 };
	struct tracker_req	 tr = req();
	struct event		*ev;
	uint16_t		 tport;
	char			 url[64];

	k_setup(&k);
	ft.fd = peer_socket(&tport);
	ev = event_new(reactor_base(k.r), ft.fd, EV_READ | EV_PERSIST,
	    tracker_cb, &ft);
	cr_assert_eq(event_add(ev, NULL), 0);
	c.r = k.r;
	c.u = k.u;
	c.e = GT_EIO;
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u/announce", tport);
	cr_assert_not_null(udp_announce(k.u, url, &tr, 2, done_cb, &c));
	k_run(&k);
	cr_assert_eq(c.calls, 1);
	cr_assert_eq(c.e, GT_OK);
	cr_assert_eq(ft.got, 2);
	cr_assert_eq(k.datagrams, 0);
	event_free(ev);
	close(ft.fd);
	udp_free(k.u);
	reactor_free(k.r);
}

/*
 * An ICMP error pending on the socket (IP_RECVERR) fails the next sendto,
 * whatever its address, and that datagram is lost unless sent again.
 */
Test(udp, send_after_icmp_error_goes_out)
{
	struct kctx	k = { 0 };
	struct netaddr	closed, open;
	uint8_t		got[16];
	uint16_t	port;
	int		fd = peer_socket(&port), i;
	ssize_t		n = -1;

	k_setup(&k);
	cr_assert_eq(addr_parse("127.0.0.1", closed_port(), &closed), GT_OK);
	cr_assert_eq(addr_parse("127.0.0.1", port, &open), GT_OK);
	udp_send(k.u, &closed, (const uint8_t *)"d1:y1:qe", 8);
	usleep(100 * 1000);		/* the ICMP error is back by now */
	udp_send(k.u, &open, (const uint8_t *)"d2:ok1:ye", 9);
	for (i = 0; i < 50 && n < 0; i++) {
		usleep(10 * 1000);
		n = recv(fd, got, sizeof(got), 0);
	}
	cr_assert_eq(n, 9, "the datagram after the ICMP error was lost");
	close(fd);
	udp_free(k.u);
	reactor_free(k.r);
}

/* --bind: datagrams leave from the address set, of its family only. */
Test(udp, set_bind_sends_from_that_address)
{
	struct reactor		*r = reactor_new();
	struct udp		*u = udp_new(r, 7);
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct sockaddr_in	 from;
	struct netaddr		 local, to, six;
	socklen_t		 len = sizeof(sin);
	struct timeval		 tv = { .tv_sec = 2 };
	uint8_t			 b[8];
	char			 ip[INET_ADDRSTRLEN];
	int			 fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(addr_parse_ip("127.0.0.2", &local), GT_OK);
	udp_set_bind(u, &local);
	cr_assert_eq(udp_bind(u, 0, NULL), GT_OK);
	cr_assert_neq(udp_port(u), 0);
	cr_assert_not(udp_dual_stack(u));
	/* not to IPv6 from an IPv4 address */
	cr_assert_eq(addr_parse("[::1]:9", 0, &six), GT_OK);
	udp_send(u, &six, (const uint8_t *)"six", 3);
	to = (struct netaddr){ .family = ADDR_V4, .port = ntohs(sin.sin_port) };
	memcpy(to.ip, "\x7f\0\0\x01", 4);
	udp_send(u, &to, (const uint8_t *)"hello", 5);
	len = sizeof(from);
	cr_assert_eq(recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from,
	    &len), 5);
	cr_assert_str_eq(inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip)),
	    "127.0.0.2");
	cr_assert_eq(ntohs(from.sin_port), udp_port(u));
	close(fd);
	udp_free(u);
	reactor_free(r);
}
