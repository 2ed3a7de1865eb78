/* test-net.c - connections on 127.0.0.1: serving a silent peer, caps, pins */
#include <criterion/criterion.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "bitfield.h"
#include "buf.h"
#include "net.h"
#include "peer.h"
#include "reactor.h"
#include "util.h"

#define TEST_ALARM_S	30
#define CHUNK		(256u << 10)	/* queued per writable call */
#define TARGET		(64u << 20)	/* bytes the silent peer gets */

static const uint8_t	info_hash[20] = { 1, 2, 3 };

/* ---- a fake owner: a torrent of 8 pieces that queues filler bytes -------- */

struct owner {
	struct reactor		*r;
	struct net		*n;
	struct conn		*c;
	struct peer		*p;
	struct bitfield		 have;
	size_t			 queued;	/* filler bytes queued */
	size_t			 target;
	bool			 pin_forever;	/* break the pin invariant */
	bool			 closed;
	int			 accepts;
	atomic_bool		 done;		/* set by the client thread */
	struct reactor_timer	*poll;
};

static void	 h_have(void *c, struct peer *p, uint32_t i)
		    { (void)c; (void)p; (void)i; }
static void	 h_bitfield(void *c, struct peer *p, const struct bitfield *b)
		    { (void)c; (void)p; (void)b; }
static size_t	 h_pick(void *c, struct peer *p, const struct block_req *b,
		    size_t nb, struct block_req *o, size_t m)
		    { (void)c; (void)p; (void)b; (void)nb; (void)o; (void)m;
		    return 0; }
static void	 h_abandon(void *c, struct peer *p, const struct block_req *r)
		    { (void)c; (void)p; (void)r; }
static enum gt_err h_block(void *c, struct peer *p, const struct block_req *r,
		    const uint8_t *d)
		    { (void)c; (void)p; (void)r; (void)d; return GT_OK; }
static bool	 h_has(void *c, uint32_t i) { (void)c; (void)i; return true; }
static bool	 h_wants(void *c, const struct bitfield *b)
		    { (void)c; (void)b; return false; }
static void	 h_request(void *c, struct peer *p, const struct block_req *r)
		    { (void)c; (void)p; (void)r; }

static const struct peer_hooks	peer_hooks = {
	.have = h_have, .bitfield = h_bitfield, .pick = h_pick,
	.abandon = h_abandon, .block = h_block, .has_piece = h_has,
	.wants = h_wants, .request = h_request,
};

static enum gt_err
o_handshake(void *ctx, const struct wire_handshake *hs, const char **why)
{
	struct owner	*o = ctx;

	if (o->pin_forever)
		net_pin(o->c);
	if (peer_on_handshake(o->p, hs, &o->have,
	    reactor_now_ms(o->r)) != GT_OK) {
		*why = "peer refused";
		return GT_EPROTO;
	}
	return GT_OK;
}

static void
o_after_input(void *ctx)
{
	(void)ctx;
}

/* Queues filler (keep-alives: four zero bytes each) up to the target. */
static void
o_writable(void *ctx)
{
	struct owner	*o = ctx;
	static uint8_t	 zeros[CHUNK];

	if (o->queued >= o->target)
		return;
	(void)buf_append(peer_out(o->p), zeros, CHUNK);
	o->queued += CHUNK;
}

static void
o_closed(void *ctx)
{
	struct owner	*o = ctx;

	o->closed = true;
}

static const struct conn_hooks	conn_hooks = {
	.handshake = o_handshake, .after_input = o_after_input,
	.writable = o_writable, .closed = o_closed,
};

static enum gt_err
o_accept(void *arg, struct conn *c, const struct wire_handshake *hs,
    const char **why)
{
	struct owner		*o = arg;
	struct peer_config	 cfg = {
		.npieces = 8, .piece_length = 16384, .last_size = 16384,
		.fast = true,
	};
	struct wire_handshake	 ours;
	uint8_t			 raw[WIRE_HANDSHAKE_LEN];

	o->accepts++;
	if (memcmp(hs->info_hash, info_hash, 20) != 0) {
		*why = "unknown info-hash";
		return GT_ENOENT;
	}
	o->c = c;
	o->p = peer_new(&cfg, &peer_hooks, o, reactor_now_ms(o->r));
	memset(&ours, 0, sizeof(ours));
	memcpy(ours.info_hash, info_hash, 20);
	memcpy(ours.peer_id, "-GQ0100-testtesttest", 20);
	wire_encode_handshake(raw, &ours);
	(void)buf_append(peer_out(o->p), raw, sizeof(raw));
	net_attach(c, o->p, &conn_hooks, o);
	return GT_OK;
}

static void
poll_cb(void *arg)
{
	struct owner	*o = arg;

	if (atomic_load(&o->done))
		reactor_stop(o->r);
	else
		reactor_timer_in(o->poll, 10);
}

static void
owner_init(struct owner *o, uint32_t max_conns, uint16_t *port)
{
	struct net_opts		no = { .max_conns = max_conns };
	struct net_hooks	nh = { .accept = o_accept, .arg = o };

	memset(o, 0, sizeof(*o));
	o->r = reactor_new();
	o->n = net_new(o->r, &no, &nh);
	o->target = TARGET;
	bitfield_init(&o->have, 8);
	bitfield_set_all(&o->have);
	cr_assert_eq(net_listen(o->n, 0, port), GT_OK);
	o->poll = reactor_timer_new(o->r, poll_cb, o);
	reactor_timer_in(o->poll, 10);
}

static void
owner_clear(struct owner *o)
{
	reactor_timer_free(o->poll);
	net_free(o->n);
	reactor_free(o->r);		/* runs the deferred frees */
	bitfield_clear(&o->have);
}

/* ---- the remote side: a blocking client in a thread ---------------------- */

struct client {
	uint16_t	 port;
	struct owner	*o;
	bool		 send_handshake;
	size_t		 got;		/* bytes read */
	size_t		 want;
};

static int
dial(uint16_t port)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	int			fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0)
		return -1;
	return fd;
}

static void *
client_main(void *arg)
{
	struct client		*cl = arg;
	struct wire_handshake	 hs;
	uint8_t			 raw[WIRE_HANDSHAKE_LEN], buf[1 << 16];
	struct pollfd		 pfd;
	ssize_t			 n;
	int			 fd;

	if ((fd = dial(cl->port)) == -1)
		goto out;
	memset(&hs, 0, sizeof(hs));
	hs.reserved[7] = WIRE_RSV_FAST;
	memcpy(hs.info_hash, info_hash, 20);
	memcpy(hs.peer_id, "-XX0000-remoteremote", 20);
	wire_encode_handshake(raw, &hs);
	if (write(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
		goto out;
	/* and then silence: we only read */
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (cl->got < cl->want && poll(&pfd, 1, 3000) == 1) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		cl->got += (size_t)n;
	}
	close(fd);
out:
	atomic_store(&cl->o->done, true);
	return NULL;
}

static void
setup(void)
{
	alarm(TEST_ALARM_S);
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(net, .init = setup);

/*
 * A peer that sends nothing after its handshake (Transmission asks only
 * from its timers) still gets everything the owner has for it: net comes
 * back for more whenever the output drained, not only after input.
 */
Test(net, silent_peer_is_served_in_full)
{
	struct owner	o;
	struct client	cl;
	pthread_t	th;
	uint16_t	port;

	owner_init(&o, 10, &port);
	cl = (struct client){ .port = port, .o = &o, .want = TARGET };
	cr_assert_eq(pthread_create(&th, NULL, client_main, &cl), 0);
	reactor_run(o.r);
	pthread_join(th, NULL);
	cr_assert_eq(o.accepts, 1);
	cr_assert_geq(cl.got, TARGET, "got %zu of %u bytes", cl.got, TARGET);
	owner_clear(&o);
}

/* Connections over the cap are closed at once, never accepted. */
Test(net, over_the_cap_closed_at_once)
{
	struct owner	o;
	uint16_t	port;
	int		fds[4], i;
	char		b;
	struct pollfd	pfd;

	owner_init(&o, 2, &port);
	for (i = 0; i < 4; i++)
		cr_assert_neq(fds[i] = dial(port), -1);
	/* let the loop accept them */
	o.done = false;
	{
		struct reactor_timer	*t;

		t = reactor_timer_new(o.r, (void (*)(void *))reactor_stop,
		    o.r);
		reactor_timer_in(t, 200);
		reactor_run(o.r);
		reactor_timer_free(t);
	}
	cr_assert_eq(net_nconns(o.n), 2);
	/* the last two were closed: EOF */
	for (i = 2; i < 4; i++) {
		pfd = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		cr_assert_eq(poll(&pfd, 1, 2000), 1);
		cr_assert_eq(read(fds[i], &b, 1), 0);
	}
	for (i = 0; i < 4; i++)
		close(fds[i]);
	owner_clear(&o);
}

/*
 * An owner that keeps a pointer into the receive buffer past after_input
 * breaks the rule that keeps stale blocks from being written: net stops
 * the process before it reads into the buffer again.
 */
Test(net, pinned_buffer_is_never_reused, .signal = SIGABRT)
{
	struct owner	o;
	struct client	cl;
	pthread_t	th;
	uint16_t	port;

	owner_init(&o, 10, &port);
	o.pin_forever = true;
	cl = (struct client){ .port = port, .o = &o, .want = 1 << 20 };
	cr_assert_eq(pthread_create(&th, NULL, client_main, &cl), 0);
	reactor_run(o.r);
	pthread_join(th, NULL);
	owner_clear(&o);
}
