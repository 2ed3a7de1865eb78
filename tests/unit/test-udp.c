/* test-udp.c - the UDP socket and its tracker exchanges, on 127.0.0.1 */
#include <criterion/criterion.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
