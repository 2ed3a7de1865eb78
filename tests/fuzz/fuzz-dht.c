/* fuzz-dht.c - libFuzzer target: the DHT node fed a script of datagrams */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dht.h"
#include "krpc.h"
#include "util.h"

#include "fuzz.h"

/*
 * The input is a script of records: an op byte, a length (2 bytes, big
 * endian) and that many bytes.  Ops: a datagram from one of 16 sources
 * (v4 and v6 loopback); the clock moves on; an answer to one of the
 * queries the node sent (the payload decoded as a response or an error,
 * given that query's tid, and sent from where the query went: this is
 * what reaches the response paths); a search started or stopped; a ping
 * or a bootstrap; a state file loaded; a save and load round trip.
 *
 * Invariants: every datagram the node sends decodes and fits
 * KRPC_MAX_OUT; what a source that never answered us gets for one
 * datagram is at most DHT_AMPLIFY times that datagram; memory is bounded.
 */

#define NSRC	16
#define NSENT	64

struct sent {
	struct netaddr	to;
	uint8_t		tid[KRPC_MAX_TID];
	size_t		tidlen;
};

static struct sent	sent[NSENT];
static size_t		nsent;
static struct netaddr	watch;		/* whose bytes are counted */
static size_t		watched;	/* bytes sent to watch */
static bool		verified[NSRC];	/* answered one of our queries */
static struct dht	*node;

static struct netaddr
source(unsigned i)
{
	struct netaddr	a;

	memset(&a, 0, sizeof(a));
	i %= NSRC;
	if (i < 12) {
		a.family = ADDR_V4;
		a.ip[0] = 127;
		a.ip[2] = (uint8_t)(i / 4);
		a.ip[3] = (uint8_t)(i + 1);
	} else {
		a.family = ADDR_V6;
		a.ip[15] = 1;	/* ::1 */
	}
	a.port = (uint16_t)(6881 + i);
	return a;
}

static int
source_index(const struct netaddr *a)
{
	unsigned	i;

	for (i = 0; i < NSRC; i++) {
		struct netaddr	s = source(i);

		if (addr_eq(&s, a))
			return (int)i;
	}
	return -1;
}

static void
on_send(void *arg, const struct netaddr *to, const uint8_t *buf, size_t len)
{
	struct krpc_msg	*m;
	enum gt_err	 e;

	(void)arg;
	CHECK(len <= KRPC_MAX_OUT);
	m = xmalloc(sizeof(*m));
	e = krpc_decode(buf, len, m);
	CHECK(e == GT_OK);
	if (m->kind == KRPC_QUERY) {
		struct sent	*s = &sent[nsent++ % NSENT];

		s->to = *to;
		memcpy(s->tid, m->tid, m->tidlen);
		s->tidlen = m->tidlen;
	}
	free(m);
	if (addr_eq(to, &watch))
		watched += len;
}

static void
on_peers(void *arg, const uint8_t ih[20], const struct netaddr *v, size_t n)
{
	size_t	i;

	(void)arg;
	for (i = 0; i < n; i++)
		CHECK(addr_is_dialable(&v[i]));
	if (n > 0 && ih[0] == 0xee)
		dht_search_stop(node, ih);	/* stopped from its hook */
}

static void
on_done(void *arg, const uint8_t ih[20], const struct dht_search_result *r)
{
	(void)arg;
	(void)ih;
	CHECK(r->answered <= r->sent);
}

/* The payload as a response or error to sent query k, from its address. */
static void
answer(unsigned k, const uint8_t *p, size_t len, uint64_t now)
{
	struct krpc_msg	*m;
	struct sent	*s;
	struct buf	 b;
	int		 i;

	if (nsent == 0)
		return;
	s = &sent[(nsent - 1 - k % MIN(nsent, NSENT)) % NSENT];
	m = xmalloc(sizeof(*m));
	if (krpc_decode(p, len, m) == GT_OK && m->kind != KRPC_QUERY) {
		memcpy(m->tid, s->tid, s->tidlen);
		m->tidlen = s->tidlen;
		buf_init(&b, KRPC_MAX_PACKET);
		if ((m->kind == KRPC_RESPONSE ? krpc_put_response(&b, m) :
		    krpc_put_error(&b, m->tid, m->tidlen, m->errcode, "x")) ==
		    GT_OK) {
			if ((i = source_index(&s->to)) >= 0)
				verified[i] = true;
			dht_on_datagram(node, b.data, b.len, &s->to, now);
		}
		buf_clear(&b);
	}
	free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t inlen)
{
	struct dht_opts		o = { .v4 = true, .v6 = true, .seed = 1,
	    .deterministic = true, .rate_slots = 64 };
	struct dht_hooks	h = { .send = on_send, .peers = on_peers,
	    .search_done = on_done };
	struct dht_search_opts	so;
	struct dht_stats	st;
	struct netaddr		a;
	struct buf		b;
	char			err[GT_ERRLEN];
	uint64_t		now = 1000000;
	size_t			len, off = 0;
	uint8_t			op;
	const uint8_t		*p;

	nsent = 0;
	memset(verified, 0, sizeof(verified));
	memset(&watch, 0, sizeof(watch));
	node = dht_new(&o, &h, now);
	while (off + 3 <= inlen) {
		op = in[off];
		len = MIN((size_t)load_be16(in + off + 1), inlen - off - 3);
		p = in + off + 3;
		off += 3 + len;
		switch (op % 8) {
		case 0:		/* a datagram from a source */
			if (len < 1)
				break;
			a = source(p[0]);
			watch = a;
			watched = 0;
			dht_on_datagram(node, p + 1, len - 1, &a, now);
			if (!verified[p[0] % NSRC])
				CHECK(watched <= DHT_AMPLIFY * (len - 1));
			memset(&watch, 0, sizeof(watch));
			break;
		case 1:		/* time */
			now += len >= 2 ? load_be16(p) * 10u : 1000;
			dht_tick(node, now);
			CHECK(dht_deadline(node) > now);	/* no busy loop */
			break;
		case 2:		/* an answer to a query we sent */
			if (len >= 1)
				answer(p[0], p + 1, len - 1, now);
			break;
		case 3:		/* a search */
			if (len < 21)
				break;
			so = (struct dht_search_opts){
				.announce = p[20] & 1, .seed = p[20] & 2,
				.repeat = p[20] & 4, .scrape = p[20] & 8,
				.port = (uint16_t)(p[20] & 16 ? 0 : 6881),
			};
			(void)dht_search(node, p, &so, now);
			break;
		case 4:
			if (len >= 20)
				dht_search_stop(node, p);
			break;
		case 5:		/* ping or bootstrap */
			if (len < 1)
				break;
			a = source(p[0]);
			if (p[0] & 0x80)
				dht_bootstrap(node, &a, now);
			else
				(void)dht_ping(node, &a, now);
			break;
		case 6:		/* a state file */
			(void)dht_load(node, p, len, now, err);
			break;
		case 7:		/* save, and load what was saved */
			buf_init(&b, DHT_STATE_MAX);
			CHECK(dht_save(node, now, &b) == GT_OK);
			CHECK(dht_load(node, b.data, b.len, now, err) ==
			    GT_OK);
			buf_clear(&b);
			break;
		}
	}
	dht_stats(node, now, &st);
	CHECK(st.pending <= DHT_MAX_PENDING);
	CHECK(st.searches <= DHT_MAX_SEARCHES);
	now += 3600 * 1000;
	dht_tick(node, now);
	dht_free(node);
	return 0;
}
