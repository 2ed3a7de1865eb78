/* test-tracker-udp.c - BEP 15 exchanges stepped with a fake clock */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tracker-udp.h"
#include "util.h"

#define CONN_ID		0x1122334455667788ULL
#define S		1000ULL		/* ms in a second */

static uint8_t	pkt[TRACKER_UDP_MAX_OUT];

static struct tracker_req
sample_req(void)
{
	struct tracker_req	r = {
		.port = 6881, .uploaded = 0x0102030405060708ULL,
		.downloaded = 0x1112131415161718ULL,
		.left = 0x2122232425262728ULL, .numwant = 0xffffffffu,
		.key = 0xdeadbeef, .event = TRACKER_EVENT_STARTED,
	};
	size_t			i;

	for (i = 0; i < SHA1_LEN; i++)
		r.info_hash[i] = (uint8_t)(i + 1);
	memcpy(r.peer_id, "-GQ0100-abcdefghijkl", 20);
	return r;
}

/* The next datagram into pkt; its length (0: none). */
static size_t
take(struct tracker_udp *t)
{
	memset(pkt, 0xee, sizeof(pkt));
	return tracker_udp_next_datagram(t, pkt, sizeof(pkt));
}

/* Takes a connect: checks its layout, returns its transaction id. */
static uint32_t
take_connect(struct tracker_udp *t)
{
	cr_assert_eq(take(t), 16);
	cr_assert_eq(load_be64(pkt), TRACKER_UDP_PROTOCOL_ID);
	cr_assert_eq(load_be32(pkt + 8), 0);
	return load_be32(pkt + 12);
}

/* Takes a request of action act with our connection id; its txid. */
static uint32_t
take_request(struct tracker_udp *t, uint32_t act, size_t *len)
{
	size_t	n = take(t);

	cr_assert_geq(n, 16);
	cr_assert_eq(load_be64(pkt), CONN_ID);
	cr_assert_eq(load_be32(pkt + 8), act);
	if (len != NULL)
		*len = n;
	return load_be32(pkt + 12);
}

static enum gt_err
feed(struct tracker_udp *t, const uint8_t *p, size_t len, uint64_t now)
{
	return tracker_udp_on_datagram(t, p, len, now);
}

static enum gt_err
connect_reply(struct tracker_udp *t, uint32_t txid, uint64_t now)
{
	uint8_t	r[16];

	store_be32(r, 0);
	store_be32(r + 4, txid);
	store_be64(r + 8, CONN_ID);
	return feed(t, r, sizeof(r), now);
}

/* An announce reply header into r; peers follow from r + 20. */
static void
announce_head(uint8_t *r, uint32_t txid, uint32_t interval,
    uint32_t leechers, uint32_t seeders)
{
	store_be32(r, 1);
	store_be32(r + 4, txid);
	store_be32(r + 8, interval);
	store_be32(r + 12, leechers);
	store_be32(r + 16, seeders);
}

static void
put_v4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	store_be16(p + 4, port);
}

static enum gt_err
error_reply(struct tracker_udp *t, uint32_t txid, const char *msg,
    uint64_t now)
{
	size_t		 n = strlen(msg);
	uint8_t		*r = malloc(8 + n);
	enum gt_err	 e;

	store_be32(r, 3);
	store_be32(r + 4, txid);
	memcpy(r + 8, msg, n);
	e = feed(t, r, 8 + n, now);
	free(r);
	return e;
}

/* Starts an announce at now and gets it connected: the request's txid. */
static uint32_t
connected_announce(struct tracker_udp *t, uint32_t *id, uint64_t now)
{
	struct tracker_req	req = sample_req();
	uint32_t		x;

	*id = tracker_udp_announce(t, &req, NULL, TRACKER_UDP_MAX_TRIES, now);
	cr_assert_neq(*id, 0);
	x = take_connect(t);
	cr_assert_eq(connect_reply(t, x, now), GT_OK);
	return take_request(t, 1, NULL);
}

static void
get_result(struct tracker_udp *t, struct tracker_udp_result *r)
{
	cr_assert(tracker_udp_next_result(t, r), "no result");
}

Test(tracker_udp, connect_then_announce_v4)
{
	struct tracker_udp		*t = tracker_udp_new(false, 1);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint8_t				 rep[20 + 5 * 6];
	uint32_t			 id, ctx, tx;
	size_t				 len;
	char				 s[ADDR_STRLEN];

	id = tracker_udp_announce(t, &req, NULL, 9, 1000);
	cr_assert_neq(id, 0);
	ctx = take_connect(t);
	cr_assert_eq(take(t), 0, "one connect only");
	cr_assert_eq(tracker_udp_deadline(t), 1000 + 15 * S);
	cr_assert_not(tracker_udp_next_result(t, &r));

	cr_assert_eq(connect_reply(t, ctx, 1200), GT_OK);
	tx = take_request(t, 1, &len);
	cr_assert_eq(len, 98);
	cr_assert_neq(tx, ctx, "a fresh transaction id per packet");
	cr_assert_eq(tracker_udp_deadline(t), 1200 + 15 * S);
	cr_assert_eq(take(t), 0);

	announce_head(rep, tx, 1800, 5, 7);
	put_v4(rep + 20, 127, 0, 0, 1, 6881);
	put_v4(rep + 26, 127, 0, 0, 2, 0);	/* port 0: dropped */
	put_v4(rep + 32, 127, 0, 0, 1, 6881);	/* duplicate */
	put_v4(rep + 38, 127, 0, 0, 1, 6882);
	put_v4(rep + 44, 127, 0, 1, 9, 51413);
	cr_assert_eq(feed(t, rep, sizeof(rep), 1300), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.kind, TRACKER_UDP_ANNOUNCE);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.announce.interval, 1800);
	cr_assert_eq(r.announce.complete, 7);
	cr_assert_eq(r.announce.incomplete, 5);
	cr_assert_null(r.announce.failure);
	cr_assert_eq(r.announce.npeers, 3);
	cr_assert_str_eq(addr_str(&r.announce.peers[0], s), "127.0.0.1:6881");
	cr_assert_str_eq(addr_str(&r.announce.peers[1], s), "127.0.0.1:6882");
	cr_assert_str_eq(addr_str(&r.announce.peers[2], s),
	    "127.0.1.9:51413");
	tracker_udp_result_clear(&r);
	cr_assert_not(tracker_udp_next_result(t, &r));
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);

	/* the same reply again answers nothing */
	cr_assert_eq(feed(t, rep, sizeof(rep), 1400), GT_EPROTO);
	tracker_udp_free(t);
}

Test(tracker_udp, announce_v6_peers)
{
	struct tracker_udp		*t = tracker_udp_new(true, 2);
	struct tracker_udp_result	 r;
	uint8_t				 rep[20 + 3 * 18] = { 0 };
	uint32_t			 id, tx;
	char				 s[ADDR_STRLEN];

	tx = connected_announce(t, &id, 0);
	announce_head(rep, tx, 900, 0, 1);
	rep[35] = 1;				/* ::1 */
	store_be16(rep + 36, 6881);
	rep[38 + 10] = 0xff;			/* ::ffff:127.2.3.4 */
	rep[38 + 11] = 0xff;
	rep[38 + 12] = 127;
	rep[38 + 13] = 2;
	rep[38 + 14] = 3;
	rep[38 + 15] = 4;
	store_be16(rep + 38 + 16, 80);
	rep[56 + 15] = 7;			/* port 0 */
	cr_assert_eq(feed(t, rep, sizeof(rep), 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.announce.npeers, 2);
	cr_assert_str_eq(addr_str(&r.announce.peers[0], s),
	    "[::1]:6881");
	cr_assert_str_eq(addr_str(&r.announce.peers[1], s), "127.2.3.4:80");
	cr_assert_eq(r.announce.interval, 900);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, announce_fields)
{
	static const struct {
		enum tracker_event	ev;
		uint32_t		wire;
	} cases[] = {
		{ TRACKER_EVENT_NONE, 0 }, { TRACKER_EVENT_COMPLETED, 1 },
		{ TRACKER_EVENT_STARTED, 2 }, { TRACKER_EVENT_STOPPED, 3 },
	};
	struct tracker_udp	*t = tracker_udp_new(false, 3);
	struct tracker_req	 req = sample_req();
	size_t			 i, len;
	uint32_t		 id;

	(void)connected_announce(t, &id, 0);
	for (i = 0; i < nitems(cases); i++) {
		req.event = cases[i].ev;
		req.port = (uint16_t)(50000 + i);
		req.numwant = i == 0 ? 0xffffffffu : 50;
		req.key = 0xdeadbeef + (uint32_t)i;
		(void)tracker_udp_announce(t, &req, "", 9, 100);
		(void)take_request(t, 1, &len);
		cr_assert_eq(len, 98);
		cr_assert(memcmp(pkt + 16, req.info_hash, 20) == 0);
		cr_assert(memcmp(pkt + 36, req.peer_id, 20) == 0);
		cr_assert_eq(load_be64(pkt + 56), req.downloaded);
		cr_assert_eq(load_be64(pkt + 64), req.left);
		cr_assert_eq(load_be64(pkt + 72), req.uploaded);
		cr_assert_eq(load_be32(pkt + 80), cases[i].wire);
		cr_assert_eq(load_be32(pkt + 84), 0, "IP address: default");
		cr_assert_eq(load_be32(pkt + 88), req.key);
		cr_assert_eq(load_be32(pkt + 92), req.numwant);
		cr_assert_eq(load_be16(pkt + 96), req.port);
	}
	cr_assert_eq(load_be32(pkt + 92), 50);
	tracker_udp_free(t);
}

Test(tracker_udp, urldata_option)
{
	struct tracker_udp	*t = tracker_udp_new(false, 4);
	struct tracker_req	 req = sample_req();
	const char		*u = "/announce?passkey=abc";
	size_t			 len;
	uint32_t		 id;

	(void)connected_announce(t, &id, 0);
	(void)tracker_udp_announce(t, &req, u, 9, 0);
	(void)take_request(t, 1, &len);
	cr_assert_eq(len, 98 + 2 + strlen(u));
	cr_assert_eq(pkt[98], 2, "URLData");
	cr_assert_eq(pkt[99], strlen(u));
	cr_assert(memcmp(pkt + 100, u, strlen(u)) == 0);
	(void)tracker_udp_announce(t, &req, NULL, 9, 0);
	(void)take_request(t, 1, &len);
	cr_assert_eq(len, 98);
	tracker_udp_free(t);
}

Test(tracker_udp, urldata_split)
{
	struct tracker_udp	*t = tracker_udp_new(false, 5);
	struct tracker_req	 req = sample_req();
	char			 u[601];
	size_t			 len, i;
	uint32_t		 id;

	for (i = 0; i < 600; i++)
		u[i] = (char)('a' + i % 26);
	u[0] = '/';
	u[600] = '\0';
	(void)connected_announce(t, &id, 0);
	(void)tracker_udp_announce(t, &req, u, 9, 0);
	(void)take_request(t, 1, &len);
	cr_assert_eq(len, 98 + 3 * 2 + 600);
	cr_assert_eq(pkt[98], 2);
	cr_assert_eq(pkt[99], 255);
	cr_assert(memcmp(pkt + 100, u, 255) == 0);
	cr_assert_eq(pkt[355], 2);
	cr_assert_eq(pkt[356], 255);
	cr_assert(memcmp(pkt + 357, u + 255, 255) == 0);
	cr_assert_eq(pkt[612], 2);
	cr_assert_eq(pkt[613], 90);
	cr_assert(memcmp(pkt + 614, u + 510, 90) == 0);

	/* exactly 255: one option */
	u[255] = '\0';
	(void)tracker_udp_announce(t, &req, u, 9, 0);
	(void)take_request(t, 1, &len);
	cr_assert_eq(len, 98 + 2 + 255);
	tracker_udp_free(t);
}

Test(tracker_udp, urldata_cut)
{
	struct tracker_udp	*t = tracker_udp_new(false, 6);
	struct tracker_req	 req = sample_req();
	char			*u = malloc(5001);
	size_t			 len, off, got = 0;
	uint32_t		 id;

	memset(u, 'x', 5000);
	u[5000] = '\0';
	(void)connected_announce(t, &id, 0);
	(void)tracker_udp_announce(t, &req, u, 9, 0);
	(void)take_request(t, 1, &len);
	cr_assert_eq(len, TRACKER_UDP_MAX_OUT);
	for (off = 98; off < len; off += 2 + pkt[off + 1]) {
		cr_assert_eq(pkt[off], 2);
		cr_assert_leq(off + 2 + pkt[off + 1], len);
		got += pkt[off + 1];
	}
	cr_assert_eq(off, len);
	cr_assert_lt(got, 5000);
	free(u);
	tracker_udp_free(t);
}

Test(tracker_udp, scrape_one)
{
	struct tracker_udp		*t = tracker_udp_new(false, 7);
	struct tracker_udp_result	 r;
	uint8_t				 h[1][SHA1_LEN], rep[20];
	uint32_t			 id, tx;
	size_t				 len;

	memset(h, 0xab, sizeof(h));
	id = tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 1, 9, 0);
	cr_assert_eq(connect_reply(t, take_connect(t), 5), GT_OK);
	tx = take_request(t, 2, &len);
	cr_assert_eq(len, 36);
	cr_assert(memcmp(pkt + 16, h[0], 20) == 0);
	store_be32(rep, 2);
	store_be32(rep + 4, tx);
	store_be32(rep + 8, 11);
	store_be32(rep + 12, 22);
	store_be32(rep + 16, 33);
	cr_assert_eq(feed(t, rep, sizeof(rep), 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.kind, TRACKER_UDP_SCRAPE);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.scrape.n, 1);
	cr_assert(memcmp(r.scrape.v[0].info_hash, h[0], 20) == 0);
	cr_assert_eq(r.scrape.v[0].complete, 11);
	cr_assert_eq(r.scrape.v[0].downloaded, 22);
	cr_assert_eq(r.scrape.v[0].incomplete, 33);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

static void
scrape_reply(uint8_t *rep, uint32_t tx, size_t n)
{
	size_t	i;

	store_be32(rep, 2);
	store_be32(rep + 4, tx);
	for (i = 0; i < n; i++) {
		store_be32(rep + 8 + 12 * i, (uint32_t)(100 + i));
		store_be32(rep + 12 + 12 * i, (uint32_t)(200 + i));
		store_be32(rep + 16 + 12 * i, (uint32_t)(300 + i));
	}
}

Test(tracker_udp, scrape_several)
{
	struct tracker_udp		*t = tracker_udp_new(false, 8);
	struct tracker_udp_result	 r;
	uint8_t				 h[3][SHA1_LEN], rep[8 + 36];
	uint32_t			 id, tx;
	size_t				 len, i;

	for (i = 0; i < 3; i++)
		memset(h[i], (int)i + 1, SHA1_LEN);
	id = tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 3, 9, 0);
	cr_assert_eq(connect_reply(t, take_connect(t), 5), GT_OK);
	tx = take_request(t, 2, &len);
	cr_assert_eq(len, 16 + 60);
	cr_assert(memcmp(pkt + 16, h, 60) == 0);
	scrape_reply(rep, tx, 3);
	cr_assert_eq(feed(t, rep, sizeof(rep), 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.scrape.n, 3);
	for (i = 0; i < 3; i++) {
		cr_assert(memcmp(r.scrape.v[i].info_hash, h[i], 20) == 0);
		cr_assert_eq(r.scrape.v[i].complete, 100 + (int64_t)i);
		cr_assert_eq(r.scrape.v[i].downloaded, 200 + (int64_t)i);
		cr_assert_eq(r.scrape.v[i].incomplete, 300 + (int64_t)i);
	}
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, scrape_partial_and_short)
{
	struct tracker_udp		*t = tracker_udp_new(false, 9);
	struct tracker_udp_result	 r;
	uint8_t				 h[3][SHA1_LEN], rep[8 + 24 + 5];
	uint32_t			 tx;

	memset(h, 7, sizeof(h));
	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 3, 9, 0);
	cr_assert_eq(connect_reply(t, take_connect(t), 5), GT_OK);
	tx = take_request(t, 2, NULL);
	scrape_reply(rep, tx, 2);
	memset(rep + 32, 0xff, 5);		/* a partial third entry */
	cr_assert_eq(feed(t, rep, sizeof(rep), 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.scrape.n, 2, "the entries present are kept");
	tracker_udp_result_clear(&r);

	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 3, 9, 20);
	tx = take_request(t, 2, NULL);
	scrape_reply(rep, tx, 0);
	cr_assert_eq(feed(t, rep, 8 + 11, 30), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_EPROTO);
	cr_assert_not_null(strstr(r.err, "short scrape reply"));
	cr_assert_null(r.scrape.v);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, scrape_limits)
{
	struct tracker_udp		*t = tracker_udp_new(false, 10);
	struct tracker_udp_result	 r;
	uint8_t				 h[TRACKER_MAX_SCRAPE + 5][SHA1_LEN];
	size_t				 len;

	memset(h, 1, sizeof(h));
	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h,
	    TRACKER_MAX_SCRAPE, 9, 0);
	cr_assert_eq(connect_reply(t, take_connect(t), 5), GT_OK);
	(void)take_request(t, 2, &len);
	cr_assert_eq(len, 16 + 20 * TRACKER_MAX_SCRAPE);
	cr_assert_leq(len, TRACKER_UDP_MAX_OUT);
	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h,
	    TRACKER_MAX_SCRAPE + 5, 9, 0);
	(void)take_request(t, 2, &len);
	cr_assert_eq(len, 16 + 20 * TRACKER_MAX_SCRAPE, "cut to the cap");
	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 0, 9, 0);
	cr_assert_eq(take(t), 0);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_ECANCELED);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, error_reply)
{
	struct tracker_udp		*t = tracker_udp_new(false, 11);
	struct tracker_udp_result	 r;
	struct tracker_req		 req = sample_req();
	uint32_t			 id, tx;

	tx = connected_announce(t, &id, 0);
	cr_assert_eq(error_reply(t, tx, "bad\npasskey\x7f", 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_EPROTO);
	cr_assert_str_eq(r.err, "tracker error: bad?passkey?");
	cr_assert_str_eq(r.announce.failure, "bad?passkey?");
	tracker_udp_result_clear(&r);
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);

	/* the error cleared the connection id: the next one reconnects */
	(void)tracker_udp_announce(t, &req, NULL, 9, 20);
	(void)take_connect(t);
	tracker_udp_free(t);
}

Test(tracker_udp, error_reply_huge)
{
	struct tracker_udp		*t = tracker_udp_new(false, 12);
	struct tracker_udp_result	 r;
	uint8_t				*p = malloc(60000);
	uint32_t			 id, tx;
	size_t				 i;

	tx = connected_announce(t, &id, 0);
	store_be32(p, 3);
	store_be32(p + 4, tx);
	for (i = 8; i < 60000; i++)
		p[i] = (uint8_t)(i % 7 == 0 ? 0 : 'A');
	cr_assert_eq(feed(t, p, 60000, 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_EPROTO);
	cr_assert_eq(strlen(r.err), TRACKER_ERRLEN - 1);
	cr_assert(strncmp(r.err, "tracker error: ", 15) == 0);
	cr_assert_eq(strlen(r.announce.failure), TRACKER_MAX_MSG);
	for (i = 0; i < TRACKER_MAX_MSG; i++)
		cr_assert_geq((unsigned char)r.announce.failure[i], 0x20);
	cr_assert_eq(r.announce.failure[6], '?', "a NUL became '?'");
	tracker_udp_result_clear(&r);
	free(p);
	tracker_udp_free(t);
}

Test(tracker_udp, error_reply_to_scrape_and_empty)
{
	struct tracker_udp		*t = tracker_udp_new(false, 13);
	struct tracker_udp_result	 r;
	uint8_t				 h[1][SHA1_LEN] = { { 0 } };
	uint32_t			 tx;

	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 1, 9, 0);
	cr_assert_eq(connect_reply(t, take_connect(t), 5), GT_OK);
	tx = take_request(t, 2, NULL);
	cr_assert_eq(error_reply(t, tx, "", 10), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.kind, TRACKER_UDP_SCRAPE);
	cr_assert_eq(r.e, GT_EPROTO);
	cr_assert_str_eq(r.err, "tracker error: ");
	cr_assert_str_eq(r.scrape.failure, "");
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, error_reply_to_connect)
{
	struct tracker_udp		*t = tracker_udp_new(false, 14);
	struct tracker_udp_result	 r;
	struct tracker_req		 req = sample_req();
	uint32_t			 a, b, ctx;

	a = tracker_udp_announce(t, &req, NULL, 9, 0);
	b = tracker_udp_announce(t, &req, NULL, 9, 1);
	ctx = take_connect(t);
	cr_assert_eq(take(t), 0);
	cr_assert_eq(error_reply(t, ctx, "go away", 2), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, a);
	cr_assert_str_eq(r.err, "tracker error: go away");
	tracker_udp_result_clear(&r);
	get_result(t, &r);
	cr_assert_eq(r.id, b);
	cr_assert_eq(r.e, GT_EPROTO);
	tracker_udp_result_clear(&r);
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);
	tracker_udp_free(t);
}

Test(tracker_udp, wrong_txid_ignored)
{
	struct tracker_udp		*t = tracker_udp_new(false, 15);
	struct tracker_udp_result	 r;
	struct tracker_req		 req = sample_req();
	uint8_t				 rep[20];
	uint32_t			 id, ctx, tx;

	id = tracker_udp_announce(t, &req, NULL, 9, 0);
	ctx = take_connect(t);
	cr_assert_eq(connect_reply(t, ctx + 1, 1), GT_EPROTO);
	cr_assert_eq(connect_reply(t, 0, 1), GT_EPROTO);
	cr_assert_eq(take(t), 0, "still connecting");
	cr_assert_eq(error_reply(t, ctx ^ 0x100, "x", 1), GT_EPROTO);
	cr_assert_not(tracker_udp_next_result(t, &r));
	cr_assert_eq(connect_reply(t, ctx, 2), GT_OK);
	tx = take_request(t, 1, NULL);
	announce_head(rep, tx + 1, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, 3), GT_EPROTO);
	cr_assert_not(tracker_udp_next_result(t, &r));
	cr_assert_eq(tracker_udp_deadline(t), 2 + 15 * S);
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, 4), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.announce.npeers, 0);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, wrong_action_ignored)
{
	struct tracker_udp		*t = tracker_udp_new(false, 16);
	struct tracker_udp_result	 r;
	struct tracker_req		 req = sample_req();
	uint8_t				 rep[32] = { 0 };
	uint32_t			 id, ctx, tx;

	id = tracker_udp_announce(t, &req, NULL, 9, 0);
	ctx = take_connect(t);
	announce_head(rep, ctx, 60, 0, 0);	/* action 1 to a connect */
	cr_assert_eq(feed(t, rep, 20, 1), GT_EPROTO);
	cr_assert_eq(take(t), 0);
	cr_assert_eq(connect_reply(t, ctx, 2), GT_OK);
	tx = take_request(t, 1, NULL);
	store_be32(rep, 2);		/* a scrape reply to an announce */
	store_be32(rep + 4, tx);
	cr_assert_eq(feed(t, rep, 20, 3), GT_EPROTO);
	store_be32(rep, 0);		/* a connect reply to an announce */
	cr_assert_eq(feed(t, rep, 16, 3), GT_EPROTO);
	store_be32(rep, 7);			/* no such action */
	cr_assert_eq(feed(t, rep, 32, 3), GT_EPROTO);
	cr_assert_not(tracker_udp_next_result(t, &r));
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, 4), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_OK);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, short_and_oversized_datagrams)
{
	struct tracker_udp		*t = tracker_udp_new(false, 17);
	struct tracker_udp_result	 r;
	uint8_t				*big = calloc(1,
					     TRACKER_UDP_MAX_PACKET + 1);
	uint32_t			 id, tx;

	tx = connected_announce(t, &id, 0);
	announce_head(big, tx, 60, 0, 0);
	cr_assert_eq(feed(t, big, 7, 1), GT_EPROTO);
	cr_assert_eq(feed(t, big, 0, 1), GT_EPROTO);
	cr_assert_eq(feed(t, big, TRACKER_UDP_MAX_PACKET + 1, 1), GT_EPROTO);
	cr_assert_not(tracker_udp_next_result(t, &r));
	/* the largest accepted: 20 + (65536 - 20) / 6 entries, all port 0 */
	cr_assert_eq(feed(t, big, TRACKER_UDP_MAX_PACKET, 1), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.announce.npeers, 0);
	tracker_udp_result_clear(&r);
	free(big);
	tracker_udp_free(t);
}

Test(tracker_udp, short_announce_reply)
{
	struct tracker_udp		*t = tracker_udp_new(false, 18);
	struct tracker_udp_result	 r;
	uint8_t				 rep[20];
	uint32_t			 id, tx;

	tx = connected_announce(t, &id, 0);
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 19, 1), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_EPROTO);
	cr_assert_str_eq(r.err, "short announce reply (19 bytes)");
	cr_assert_null(r.announce.peers);
	tracker_udp_result_clear(&r);
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);
	tracker_udp_free(t);
}

Test(tracker_udp, short_connect_reply)
{
	struct tracker_udp		*t = tracker_udp_new(false, 19);
	struct tracker_udp_result	 r;
	struct tracker_req		 req = sample_req();
	uint8_t				 rep[16] = { 0 };

	(void)tracker_udp_announce(t, &req, NULL, 9, 0);
	store_be32(rep + 4, take_connect(t));
	cr_assert_eq(feed(t, rep, 12, 1), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_EPROTO);
	cr_assert_not_null(strstr(r.err, "short connect reply"));
	tracker_udp_result_clear(&r);
	cr_assert_eq(take(t), 0);
	tracker_udp_free(t);
}

Test(tracker_udp, trailing_partial_peer_ignored)
{
	struct tracker_udp		*t = tracker_udp_new(false, 20);
	struct tracker_udp_result	 r;
	uint8_t				 rep[20 + 6 + 3];
	uint32_t			 id, tx;

	tx = connected_announce(t, &id, 0);
	announce_head(rep, tx, 60, 0, 0);
	put_v4(rep + 20, 127, 2, 3, 4, 5);
	memset(rep + 26, 9, 3);
	cr_assert_eq(feed(t, rep, sizeof(rep), 1), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.announce.npeers, 1);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, trailing_partial_v6_peer_ignored)
{
	struct tracker_udp		*t = tracker_udp_new(true, 22);
	struct tracker_udp_result	 r;
	uint8_t				 rep[20 + 18 + 17] = { 0 };
	uint32_t			 id, tx;
	char				 s[ADDR_STRLEN];

	tx = connected_announce(t, &id, 0);
	announce_head(rep, tx, 60, 0, 0);
	rep[35] = 1;				/* ::1 */
	store_be16(rep + 36, 6881);
	memset(rep + 38, 7, 17);		/* not a whole entry */
	cr_assert_eq(feed(t, rep, sizeof(rep), 1), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_OK);
	cr_assert_eq(r.announce.npeers, 1);
	cr_assert_str_eq(addr_str(&r.announce.peers[0], s), "[::1]:6881");
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, peers_capped)
{
	struct tracker_udp		*t = tracker_udp_new(false, 21);
	struct tracker_udp_result	 r;
	size_t				 n = 2500, i, j, len = 20 + 6 * n;
	uint8_t				*rep = malloc(len);
	uint32_t			 id, tx;

	tx = connected_announce(t, &id, 0);
	announce_head(rep, tx, 60, 0, 0);
	for (i = 0; i < n; i++)
		put_v4(rep + 20 + 6 * i, 127, 1, (uint8_t)(i >> 8), (uint8_t)i,
		    1000);
	cr_assert_eq(feed(t, rep, len, 1), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.announce.npeers, TRACKER_MAX_PEERS);
	for (i = 0; i < 50; i++)
		for (j = i + 1; j < r.announce.npeers; j++)
			cr_assert_not(addr_eq(&r.announce.peers[i],
			    &r.announce.peers[j]));
	tracker_udp_result_clear(&r);
	free(rep);
	tracker_udp_free(t);
}

Test(tracker_udp, interval_and_counts_clamped)
{
	static const struct {
		uint32_t	wire, want;
	} cases[] = {
		{ 0, TRACKER_MIN_INTERVAL }, { 5, TRACKER_MIN_INTERVAL },
		{ 1800, 1800 }, { 100000, TRACKER_MAX_INTERVAL },
		{ 0xffffffffu, TRACKER_MIN_INTERVAL },
		{ 0x80000000u, TRACKER_MIN_INTERVAL },
	};
	struct tracker_udp		*t = tracker_udp_new(false, 22);
	struct tracker_udp_result	 r;
	struct tracker_req		 req = sample_req();
	uint8_t				 rep[20];
	uint32_t			 id, tx;
	size_t				 i;

	(void)connected_announce(t, &id, 0);
	tracker_udp_cancel(t, id);
	for (i = 0; i < nitems(cases); i++) {
		(void)tracker_udp_announce(t, &req, NULL, 9, 10);
		tx = take_request(t, 1, NULL);
		announce_head(rep, tx, cases[i].wire, 0xffffffffu,
		    0x7fffffffu);
		cr_assert_eq(feed(t, rep, 20, 11), GT_OK);
		get_result(t, &r);
		cr_assert_eq(r.announce.interval, cases[i].want, "case %zu", i);
		cr_assert_eq(r.announce.incomplete, -1);
		cr_assert_eq(r.announce.complete, 0x7fffffff);
		tracker_udp_result_clear(&r);
	}
	tracker_udp_free(t);
}

Test(tracker_udp, connection_reuse_and_expiry)
{
	struct tracker_udp		*t = tracker_udp_new(false, 23);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint8_t				 rep[20];
	uint32_t			 id, tx;

	tx = connected_announce(t, &id, 1000);	/* connected at 1000 */
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, 2000), GT_OK);
	get_result(t, &r);
	tracker_udp_result_clear(&r);

	(void)tracker_udp_announce(t, &req, NULL, 9, 1000 + 60 * S - 1);
	(void)take_request(t, 1, NULL);
	cr_assert_eq(take(t), 0);
	(void)tracker_udp_announce(t, &req, NULL, 9, 1000 + 60 * S);
	(void)take_connect(t);
	cr_assert_eq(take(t), 0);
	tracker_udp_free(t);
}

Test(tracker_udp, retransmit_schedule)
{
	struct tracker_udp		*t = tracker_udp_new(false, 24);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint64_t			 now = 500, d;
	uint32_t			 id, tx, prev;
	unsigned			 n;

	id = tracker_udp_announce(t, &req, NULL, 9, now);
	prev = take_connect(t);
	for (n = 0; n < 9; n++) {
		d = tracker_udp_deadline(t);
		cr_assert_eq(d, now + (15 * S << n), "wait %u", n);
		tracker_udp_tick(t, d - 1);
		cr_assert_eq(take(t), 0, "nothing before the deadline");
		now = d;
		tracker_udp_tick(t, now);
		if (n < 8) {
			tx = take_connect(t);
			cr_assert_neq(tx, prev);
			prev = tx;
			cr_assert_not(tracker_udp_next_result(t, &r));
		}
	}
	cr_assert_eq(now, 500 + 15 * S * 511, "15 + 30 + ... + 3840 s");
	cr_assert_eq(take(t), 0);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_ECANCELED);
	cr_assert_str_eq(r.err, "no answer after 9 tries");
	tracker_udp_result_clear(&r);
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);
	/* a late answer to an old connect still sets the connection id */
	cr_assert_eq(connect_reply(t, prev, now + 1), GT_OK);
	tracker_udp_free(t);
}

Test(tracker_udp, fewer_tries)
{
	struct tracker_udp		*t = tracker_udp_new(false, 25);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint32_t			 id;

	id = tracker_udp_announce(t, &req, NULL, 2, 0);
	(void)take_connect(t);
	tracker_udp_tick(t, 15 * S);
	(void)take_connect(t);
	cr_assert_eq(tracker_udp_deadline(t), 45 * S);
	tracker_udp_tick(t, 45 * S);
	cr_assert_eq(take(t), 0);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_ECANCELED);
	tracker_udp_result_clear(&r);

	/* tries 0 means 1; more than the maximum means the maximum */
	(void)tracker_udp_announce(t, &req, NULL, 0, 100 * S);
	(void)take_connect(t);
	tracker_udp_tick(t, 115 * S);
	cr_assert_eq(take(t), 0);
	get_result(t, &r);
	cr_assert_eq(r.e, GT_ECANCELED);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, tries_capped_at_max)
{
	struct tracker_udp		*t = tracker_udp_new(false, 26);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	unsigned			 n = 0;

	(void)tracker_udp_announce(t, &req, NULL, 1000, 0);
	while (!tracker_udp_next_result(t, &r)) {
		while (take(t) > 0)
			n++;
		tracker_udp_tick(t, tracker_udp_deadline(t));
	}
	cr_assert_eq(n, TRACKER_UDP_MAX_TRIES);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, request_retransmit)
{
	struct tracker_udp		*t = tracker_udp_new(false, 27);
	struct tracker_udp_result	 r;
	uint8_t				 rep[20];
	uint32_t			 id, tx1, tx2;
	size_t				 len;

	tx1 = connected_announce(t, &id, 5 * S);
	cr_assert_eq(tracker_udp_deadline(t), 20 * S);
	tracker_udp_tick(t, 20 * S);
	tx2 = take_request(t, 1, &len);
	cr_assert_eq(len, 98);
	cr_assert_neq(tx1, tx2);
	cr_assert_eq(tracker_udp_deadline(t), 50 * S);
	/* a late answer to the first request is taken */
	announce_head(rep, tx1, 120, 1, 2);
	cr_assert_eq(feed(t, rep, 20, 21 * S), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.announce.interval, 120);
	tracker_udp_result_clear(&r);
	announce_head(rep, tx2, 120, 1, 2);
	cr_assert_eq(feed(t, rep, 20, 22 * S), GT_EPROTO);
	tracker_udp_free(t);
}

Test(tracker_udp, retransmit_after_expiry_reconnects)
{
	struct tracker_udp		*t = tracker_udp_new(false, 28);
	struct tracker_udp_result	 r;
	uint8_t				 rep[20];
	uint32_t			 id, tx, ctx;
	uint64_t			 now = 0;

	(void)connected_announce(t, &id, 0);
	/* requests at 0, 15, 45 s; the connection id expires at 60 s */
	now = tracker_udp_deadline(t);
	tracker_udp_tick(t, now);
	(void)take_request(t, 1, NULL);
	now = tracker_udp_deadline(t);
	tracker_udp_tick(t, now);
	tx = take_request(t, 1, NULL);
	cr_assert_eq(now, 45 * S);
	now = tracker_udp_deadline(t);
	cr_assert_eq(now, 105 * S);
	tracker_udp_tick(t, now);
	ctx = take_connect(t);
	/* the request is now forgotten */
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, now + 1), GT_EPROTO);
	cr_assert_eq(connect_reply(t, ctx, now + 2), GT_OK);
	tx = take_request(t, 1, NULL);
	cr_assert_eq(tracker_udp_deadline(t), now + 2 + (15 * S << 3),
	    "the connect reply restarts the current wait");
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, now + 3), GT_OK);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_OK);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, cancel)
{
	struct tracker_udp		*t = tracker_udp_new(false, 29);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint8_t				 rep[20];
	uint32_t			 a, b, c, ctx, tx;

	a = tracker_udp_announce(t, &req, NULL, 9, 0);
	ctx = take_connect(t);
	tracker_udp_cancel(t, a);
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);
	tracker_udp_cancel(t, a);		/* twice: no-op */
	tracker_udp_cancel(t, 12345);		/* unknown: no-op */
	/* the connect reply still arrives and is kept */
	cr_assert_eq(connect_reply(t, ctx, 10), GT_OK);
	cr_assert_eq(take(t), 0);
	b = tracker_udp_announce(t, &req, NULL, 9, 20);
	tx = take_request(t, 1, NULL);
	c = tracker_udp_announce(t, &req, NULL, 9, 20);
	(void)take_request(t, 1, NULL);
	announce_head(rep, tx, 60, 0, 0);
	cr_assert_eq(feed(t, rep, 20, 30), GT_OK);
	tracker_udp_cancel(t, b);		/* its queued result goes */
	tracker_udp_cancel(t, c);
	cr_assert_not(tracker_udp_next_result(t, &r));
	cr_assert_eq(tracker_udp_deadline(t), UINT64_MAX);
	cr_assert_neq(a, b);
	cr_assert_neq(b, c);
	tracker_udp_free(t);
}

Test(tracker_udp, cancel_middle_result)
{
	struct tracker_udp		*t = tracker_udp_new(false, 30);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint32_t			 id[3];
	size_t				 i;

	for (i = 0; i < 3; i++)
		id[i] = tracker_udp_announce(t, &req, NULL, 1, 0);
	tracker_udp_tick(t, 15 * S);		/* three results queued */
	tracker_udp_cancel(t, id[2]);		/* the tail */
	tracker_udp_cancel(t, id[1]);
	id[1] = tracker_udp_announce(t, &req, NULL, 1, 20 * S);
	tracker_udp_tick(t, 35 * S);
	get_result(t, &r);
	cr_assert_eq(r.id, id[0]);
	tracker_udp_result_clear(&r);
	get_result(t, &r);
	cr_assert_eq(r.id, id[1]);
	tracker_udp_result_clear(&r);
	cr_assert_not(tracker_udp_next_result(t, &r));
	tracker_udp_free(t);
}

Test(tracker_udp, shared_connect)
{
	struct tracker_udp		*t = tracker_udp_new(false, 31);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint8_t				 h[1][SHA1_LEN] = { { 3 } };
	uint8_t				 rep[20];
	uint32_t			 id[3], tx[3], ctx;
	size_t				 i, len[3];

	id[0] = tracker_udp_announce(t, &req, NULL, 9, 0);
	id[1] = tracker_udp_announce(t, &req, "/x", 9, 1);
	id[2] = tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 1, 9, 2);
	ctx = take_connect(t);
	cr_assert_eq(take(t), 0, "one connect for three exchanges");
	cr_assert_eq(connect_reply(t, ctx, 100), GT_OK);
	tx[0] = take_request(t, 1, &len[0]);
	tx[1] = take_request(t, 1, &len[1]);
	tx[2] = take_request(t, 2, &len[2]);
	cr_assert_eq(take(t), 0);
	cr_assert_eq(len[0], 98);
	cr_assert_eq(len[1], 98 + 4);
	cr_assert_eq(len[2], 36);
	cr_assert_neq(tx[0], tx[1]);
	cr_assert_neq(tx[1], tx[2]);
	cr_assert_neq(tx[0], tx[2]);
	/* answered out of order */
	scrape_reply(rep, tx[2], 1);
	cr_assert_eq(feed(t, rep, 20, 101), GT_OK);
	for (i = 0; i < 2; i++) {
		announce_head(rep, tx[1 - i], 60, 0, 0);
		cr_assert_eq(feed(t, rep, 20, 102), GT_OK);
	}
	get_result(t, &r);
	cr_assert_eq(r.id, id[2]);
	cr_assert_eq(r.kind, TRACKER_UDP_SCRAPE);
	tracker_udp_result_clear(&r);
	get_result(t, &r);
	cr_assert_eq(r.id, id[1]);
	tracker_udp_result_clear(&r);
	get_result(t, &r);
	cr_assert_eq(r.id, id[0]);
	tracker_udp_result_clear(&r);
	tracker_udp_free(t);
}

Test(tracker_udp, shared_connect_retransmits)
{
	struct tracker_udp		*t = tracker_udp_new(false, 32);
	struct tracker_req		 req = sample_req();
	uint32_t			 a, b, c1, c2;

	a = tracker_udp_announce(t, &req, NULL, 9, 0);
	(void)take_connect(t);
	b = tracker_udp_announce(t, &req, NULL, 9, 5 * S);
	cr_assert_eq(take(t), 0);
	cr_assert_eq(tracker_udp_deadline(t), 15 * S);
	tracker_udp_tick(t, 15 * S);		/* a's retransmit */
	c1 = take_connect(t);
	cr_assert_eq(tracker_udp_deadline(t), 20 * S);
	tracker_udp_tick(t, 20 * S);		/* b shares it */
	cr_assert_eq(take(t), 0);
	cr_assert_eq(tracker_udp_deadline(t), 45 * S);
	/* a goes: b waits out the connect a sent, then sends its own */
	tracker_udp_cancel(t, a);
	cr_assert_eq(tracker_udp_deadline(t), 50 * S);
	tracker_udp_tick(t, 50 * S);
	c2 = take_connect(t);
	cr_assert_neq(c1, c2);
	/* either connect's answer serves */
	cr_assert_eq(connect_reply(t, c1, 51 * S), GT_OK);
	(void)take_request(t, 1, NULL);
	cr_assert_eq(connect_reply(t, c2, 51 * S), GT_EPROTO);
	tracker_udp_cancel(t, b);
	tracker_udp_free(t);
}

Test(tracker_udp, too_many_exchanges)
{
	struct tracker_udp		*t = tracker_udp_new(false, 33);
	struct tracker_req		 req = sample_req();
	struct tracker_udp_result	 r;
	uint32_t			 id = 0;
	size_t				 i, n = 0;

	for (i = 0; i <= TRACKER_UDP_MAX_PENDING; i++)
		id = tracker_udp_announce(t, &req, NULL, 9, 0);
	while (take(t) > 0)
		n++;
	cr_assert_eq(n, 1);
	get_result(t, &r);
	cr_assert_eq(r.id, id);
	cr_assert_eq(r.e, GT_ECANCELED);
	tracker_udp_result_clear(&r);
	cr_assert_not(tracker_udp_next_result(t, &r));
	tracker_udp_free(t);
}

Test(tracker_udp, datagram_too_big_for_cap)
{
	struct tracker_udp	*t = tracker_udp_new(false, 34);
	struct tracker_req	 req = sample_req();
	uint8_t			 small[20];
	uint32_t		 id;

	log_set_level(LOG_ERROR);	/* the drop is logged as a warning */
	(void)connected_announce(t, &id, 0);
	(void)tracker_udp_announce(t, &req, NULL, 9, 0);
	(void)tracker_udp_announce(t, &req, NULL, 9, 0);
	cr_assert_eq(tracker_udp_next_datagram(t, small, sizeof(small)), 0,
	    "a 98-byte datagram in 20 bytes: dropped");
	cr_assert_eq(take(t), 0);
	tracker_udp_free(t);
}

Test(tracker_udp, send_queue_capped)
{
	struct tracker_udp	*t = tracker_udp_new(false, 35);
	struct tracker_req	 req = sample_req();
	uint32_t		 id;
	size_t			 i, n = 0;

	(void)connected_announce(t, &id, 0);
	tracker_udp_cancel(t, id);
	for (i = 0; i < TRACKER_UDP_MAX_PENDING; i++)
		(void)tracker_udp_announce(t, &req, NULL, 9, 0);
	tracker_udp_tick(t, 15 * S);		/* 256 more, none taken */
	tracker_udp_tick(t, 45 * S);		/* and these are dropped */
	while (take(t) > 0)
		n++;
	cr_assert_eq(n, 2 * TRACKER_UDP_MAX_PENDING);
	tracker_udp_free(t);
}

Test(tracker_udp, txids_follow_seed)
{
	struct tracker_udp	*a = tracker_udp_new(false, 99);
	struct tracker_udp	*b = tracker_udp_new(false, 99);
	struct tracker_udp	*c = tracker_udp_new(false, 100);
	struct tracker_req	 req = sample_req();
	uint32_t		 ta, tb, tc;

	(void)tracker_udp_announce(a, &req, NULL, 9, 0);
	(void)tracker_udp_announce(b, &req, NULL, 9, 0);
	(void)tracker_udp_announce(c, &req, NULL, 9, 0);
	ta = take_connect(a);
	tb = take_connect(b);
	tc = take_connect(c);
	cr_assert_eq(ta, tb);
	cr_assert_neq(ta, tc);
	tracker_udp_free(a);
	tracker_udp_free(b);
	tracker_udp_free(c);
}

Test(tracker_udp, free_with_pending_results)
{
	struct tracker_udp	*t = tracker_udp_new(false, 36);
	struct tracker_req	 req = sample_req();
	uint8_t			 rep[20 + 12], h[2][SHA1_LEN] = { { 0 } };
	uint32_t		 id, tx;

	tracker_udp_free(NULL);
	tx = connected_announce(t, &id, 0);
	announce_head(rep, tx, 60, 0, 0);
	put_v4(rep + 20, 1, 1, 1, 1, 1);
	put_v4(rep + 26, 127, 1, 1, 2, 1);
	cr_assert_eq(feed(t, rep, sizeof(rep), 1), GT_OK);
	(void)tracker_udp_scrape(t, (const uint8_t (*)[SHA1_LEN])h, 2, 9, 2);
	tx = take_request(t, 2, NULL);
	scrape_reply(rep, tx, 2);
	cr_assert_eq(feed(t, rep, 32, 3), GT_OK);
	(void)tracker_udp_announce(t, &req, NULL, 9, 4);
	tx = take_request(t, 1, NULL);
	cr_assert_eq(error_reply(t, tx, "no", 5), GT_OK);
	(void)tracker_udp_announce(t, &req, "/a", 9, 6);	/* running */
	(void)tracker_udp_announce(t, &req, "/b", 9, 6);	/* not taken */
	tracker_udp_free(t);	/* ASan: no leak */
}
