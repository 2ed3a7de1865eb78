/* tracker-udp.c - BEP 15 UDP tracker protocol: packets and exchanges */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "tracker-udp.h"
#include "util.h"

/*
 * How an exchange runs.
 *
 * Each exchange (one announce or scrape) has its own clock: attempt n
 * (0-based) is one wait of TRACKER_UDP_RETRY_MS << n.  When a wait ends
 * with no answer, attempt n + 1 begins with a retransmission; after
 * `tries` waits the exchange ends with GT_ECANCELED.  The counter counts
 * the exchange's waits, whichever packet is out: a connect or the request.
 * A connect reply does not use up an attempt: the request goes out at once
 * and the wait of the current attempt starts over for it.
 *
 * The connection id is the tracker's, shared by every exchange, valid for
 * TRACKER_UDP_CONN_TTL_MS after it was received.  An exchange that needs
 * one while a connect is under way (sent, and its wait not over) shares
 * that connect instead of sending its own; it still counts its waits.  An
 * error reply to a request clears the connection id (BEP 15 has no other
 * way to learn that the tracker forgot it).
 *
 * Every packet sent gets a fresh random transaction id, retransmissions
 * included.  A reply is taken if it answers the exchange's latest request
 * or the one before (a late answer to a retransmitted request is fine), or
 * one of the last CONN_TXIDS connects.
 *
 * Replies: an announce reply's peers are whole 6-byte (18 for a v6
 * tracker) entries; a trailing partial entry is ignored.  A scrape reply
 * may name fewer hashes than were asked (some trackers cap them): the
 * entries present are kept, at least one is needed.  A tracker error ends
 * the exchange with GT_EPROTO and err = "tracker error: <msg>"; the
 * message, up to TRACKER_MAX_MSG bytes, is also in announce.failure or
 * scrape.failure (freed by tracker_udp_result_clear).
 *
 * tracker_udp_on_datagram returns GT_OK for a datagram that answered
 * something, even if it ended an exchange with an error.
 */

#define ACTION_CONNECT		0
#define ACTION_ANNOUNCE		1
#define ACTION_SCRAPE		2
#define ACTION_ERROR		3

#define CONNECT_LEN		16
#define ANNOUNCE_LEN		98	/* before BEP 41 options */
#define ANNOUNCE_REPLY_LEN	20	/* before peers */
#define SCRAPE_REPLY_ENTRY	12
#define OPT_URLDATA		0x2	/* BEP 41: type, length, bytes */

#define CONN_TXIDS		8	/* connects whose reply is taken */
#define MAX_QUEUE		(2 * TRACKER_UDP_MAX_PENDING)	/* datagrams */

enum xchg_state {
	XCHG_NEW,
	XCHG_CONNECT,		/* needs a connection id: connect out */
	XCHG_REQUEST,		/* request out */
	XCHG_DONE,
};

static const char *const xchg_state_names[] = {
	[XCHG_NEW] = "new",		[XCHG_CONNECT] = "connect",
	[XCHG_REQUEST] = "request",	[XCHG_DONE] = "done",
};

struct xchg {
	uint32_t		 id;
	enum tracker_udp_kind	 kind;
	enum xchg_state		 state;
	unsigned		 tries;		/* waits allowed */
	unsigned		 attempt;	/* the current wait, 0-based */
	uint64_t		 deadline;	/* when the current wait ends */
	uint32_t		 txid[2];	/* latest request, the one
						   before; 0 = none */
	uint8_t			*pkt;		/* the request; its ids are
						   set per send */
	size_t			 len;
	uint8_t			(*hashes)[SHA1_LEN];	/* scrape: pkt + 16 */
	size_t			 nhashes;
};

struct result_node {
	struct tracker_udp_result	 r;
	struct result_node		*next;
};

struct tracker_udp {
	bool			 v6;
	struct prng		 rng;

	bool			 have_conn;
	uint64_t		 conn_id;
	uint64_t		 conn_expires;	/* ms; valid while now < this */
	uint32_t		 conn_txid[CONN_TXIDS];	/* 0 = free */
	size_t			 conn_next;	/* ring position */
	uint64_t		 conn_until;	/* a connect's wait ends */

	struct xchg		*x[TRACKER_UDP_MAX_PENDING];
	size_t			 nx;
	uint32_t		 next_id;

	struct buf		 out;		/* [be16 len][bytes] records */
	size_t			 out_off;	/* first record not taken */
	size_t			 nout;

	struct result_node	*res_head, **res_tail;
};

static void
xchg_set_state(struct xchg *x, enum xchg_state st, const char *why)
{
	log_debug("udp tracker: exchange %u: %s -> %s (%s)", x->id,
	    xchg_state_names[x->state], xchg_state_names[st], why);
	x->state = st;
}

static uint64_t
add_ms(uint64_t now, uint64_t ms)
{
	return now > UINT64_MAX - ms ? UINT64_MAX : now + ms;
}

static uint64_t
wait_ms(const struct xchg *x)
{
	return (uint64_t)TRACKER_UDP_RETRY_MS << x->attempt;
}

static bool
conn_valid(const struct tracker_udp *t, uint64_t now)
{
	return t->have_conn && now < t->conn_expires;
}

static bool
txid_in_use(const struct tracker_udp *t, uint32_t id)
{
	size_t	i;

	for (i = 0; i < CONN_TXIDS; i++)
		if (t->conn_txid[i] == id)
			return true;
	for (i = 0; i < t->nx; i++)
		if (t->x[i]->txid[0] == id || t->x[i]->txid[1] == id)
			return true;
	return false;
}

/* A random transaction id, never 0, not one already out. */
static uint32_t
new_txid(struct tracker_udp *t)
{
	uint32_t	id;
	int		n = 0;

	do
		id = (uint32_t)(prng_next(&t->rng) >> 32);
	while (id == 0 || (txid_in_use(t, id) && ++n < 64));
	return id;
}

static void
queue_datagram(struct tracker_udp *t, const uint8_t *p, size_t len)
{
	uint8_t	hdr[2];

	if (t->nout >= MAX_QUEUE) {
		log_debug("udp tracker: send queue full, datagram dropped");
		return;
	}
	if (t->out_off > 0 && t->out_off >= t->out.len / 2) {
		buf_drain(&t->out, t->out_off);
		t->out_off = 0;
	}
	store_be16(hdr, (uint16_t)len);
	if (buf_reserve(&t->out, 2 + len) != GT_OK) {
		log_debug("udp tracker: send queue full, datagram dropped");
		return;
	}
	buf_append(&t->out, hdr, 2);
	buf_append(&t->out, p, len);
	t->nout++;
}

static void
send_connect(struct tracker_udp *t, struct xchg *x, uint64_t now)
{
	uint8_t		p[CONNECT_LEN];
	uint32_t	txid = new_txid(t);

	store_be64(p, TRACKER_UDP_PROTOCOL_ID);
	store_be32(p + 8, ACTION_CONNECT);
	store_be32(p + 12, txid);
	queue_datagram(t, p, sizeof(p));
	t->conn_txid[t->conn_next] = txid;
	t->conn_next = (t->conn_next + 1) % CONN_TXIDS;
	x->deadline = add_ms(now, wait_ms(x));
	t->conn_until = x->deadline;
}

static void
send_request(struct tracker_udp *t, struct xchg *x, uint64_t now)
{
	uint32_t	txid = new_txid(t);

	store_be64(x->pkt, t->conn_id);
	store_be32(x->pkt + 12, txid);
	queue_datagram(t, x->pkt, x->len);
	x->txid[1] = x->txid[0];
	x->txid[0] = txid;
	x->deadline = add_ms(now, wait_ms(x));
}

/* Sends what the exchange needs now: its request, or a connect. */
static void
xchg_send(struct tracker_udp *t, struct xchg *x, uint64_t now,
    const char *why)
{
	if (conn_valid(t, now)) {
		if (x->state != XCHG_REQUEST)
			xchg_set_state(x, XCHG_REQUEST, why);
		send_request(t, x, now);
		return;
	}
	if (x->state != XCHG_CONNECT)
		xchg_set_state(x, XCHG_CONNECT, why);
	x->txid[0] = x->txid[1] = 0;
	if (now < t->conn_until) {
		/* share the connect under way */
		x->deadline = add_ms(now, wait_ms(x));
		return;
	}
	send_connect(t, x, now);
}

static void
remove_xchg(struct tracker_udp *t, size_t i)
{
	struct xchg	*x = t->x[i];

	memmove(&t->x[i], &t->x[i + 1], (t->nx - i - 1) * sizeof(t->x[0]));
	t->nx--;
	free(x->pkt);
	free(x);
}

static size_t
find_xchg(const struct tracker_udp *t, uint32_t id)
{
	size_t	i;

	for (i = 0; i < t->nx; i++)
		if (t->x[i]->id == id)
			break;
	return i;
}

static struct tracker_udp_result *
push_result(struct tracker_udp *t, uint32_t id, enum tracker_udp_kind kind,
    enum gt_err e)
{
	struct result_node	*n = xcalloc(1, sizeof(*n));

	n->r.id = id;
	n->r.kind = kind;
	n->r.e = e;
	n->r.announce = (struct tracker_reply){
		.complete = -1, .incomplete = -1,
	};
	*t->res_tail = n;
	t->res_tail = &n->next;
	return &n->r;
}

/* Ends exchange i with result e (its reply, if any, is filled after). */
static struct tracker_udp_result *
finish(struct tracker_udp *t, size_t i, enum gt_err e, const char *why)
{
	struct xchg			*x = t->x[i];
	struct tracker_udp_result	*r;

	xchg_set_state(x, XCHG_DONE, why);
	r = push_result(t, x->id, x->kind, e);
	if (e != GT_OK)
		snprintf(r->err, sizeof(r->err), "%s", why);
	return r;
}

static uint32_t
new_id(struct tracker_udp *t)
{
	const struct result_node	*n;
	uint32_t			 id;
	bool				 used;

	do {
		id = t->next_id++;
		used = id == 0 || find_xchg(t, id) < t->nx;
		for (n = t->res_head; n != NULL && !used; n = n->next)
			used = n->r.id == id;
	} while (used);
	return id;
}

/* Registers a new exchange, or ends it at once when too many run. */
static uint32_t
start(struct tracker_udp *t, enum tracker_udp_kind kind, uint8_t *pkt,
    size_t len, unsigned tries, uint64_t now)
{
	struct xchg	*x;
	uint32_t	 id = new_id(t);

	if (t->nx >= TRACKER_UDP_MAX_PENDING) {
		struct tracker_udp_result	*r;

		log_debug("udp tracker: exchange %u: too many under way", id);
		free(pkt);
		r = push_result(t, id, kind, GT_ECANCELED);
		snprintf(r->err, sizeof(r->err),
		    "too many exchanges under way");
		return id;
	}
	x = xcalloc(1, sizeof(*x));
	x->id = id;
	x->kind = kind;
	x->state = XCHG_NEW;
	x->tries = tries < 1 ? 1 : MIN(tries, TRACKER_UDP_MAX_TRIES);
	x->pkt = pkt;
	x->len = len;
	if (kind == TRACKER_UDP_SCRAPE) {
		x->hashes = (uint8_t (*)[SHA1_LEN])(void *)(pkt + 16);
		x->nhashes = (len - 16) / SHA1_LEN;
	}
	t->x[t->nx++] = x;
	xchg_send(t, x, now, "start");
	return id;
}

struct tracker_udp *
tracker_udp_new(bool v6, uint64_t seed)
{
	struct tracker_udp	*t = xcalloc(1, sizeof(*t));

	t->v6 = v6;
	prng_seed(&t->rng, seed);
	t->next_id = 1;
	buf_init(&t->out, MAX_QUEUE * (2 + TRACKER_UDP_MAX_OUT));
	t->res_tail = &t->res_head;
	return t;
}

void
tracker_udp_free(struct tracker_udp *t)
{
	struct result_node	*n, *next;

	if (t == NULL)
		return;
	while (t->nx > 0)
		remove_xchg(t, t->nx - 1);
	for (n = t->res_head; n != NULL; n = next) {
		next = n->next;
		tracker_udp_result_clear(&n->r);
		free(n);
	}
	buf_clear(&t->out);
	free(t);
}

static uint32_t
udp_event(enum tracker_event ev)
{
	switch (ev) {
	case TRACKER_EVENT_COMPLETED:
		return 1;
	case TRACKER_EVENT_STARTED:
		return 2;
	case TRACKER_EVENT_STOPPED:
		return 3;
	case TRACKER_EVENT_NONE:
	default:
		return 0;
	}
}

uint32_t
tracker_udp_announce(struct tracker_udp *t, const struct tracker_req *req,
    const char *urldata, unsigned tries, uint64_t now)
{
	uint8_t	*p = xmalloc(TRACKER_UDP_MAX_OUT);
	size_t	 len = ANNOUNCE_LEN, left, n;

	memset(p, 0, ANNOUNCE_LEN);
	store_be32(p + 8, ACTION_ANNOUNCE);
	memcpy(p + 16, req->info_hash, SHA1_LEN);
	memcpy(p + 36, req->peer_id, 20);
	store_be64(p + 56, req->downloaded);
	store_be64(p + 64, req->left);
	store_be64(p + 72, req->uploaded);
	store_be32(p + 80, udp_event(req->event));
	store_be32(p + 84, 0);			/* IP: the sender's */
	store_be32(p + 88, req->key);
	store_be32(p + 92, req->numwant);
	store_be16(p + 96, req->port);

	left = urldata != NULL ? strlen(urldata) : 0;
	while (left > 0 && TRACKER_UDP_MAX_OUT - len > 2) {
		n = MIN(left, TRACKER_UDP_MAX_URLDATA);
		n = MIN(n, TRACKER_UDP_MAX_OUT - len - 2);
		p[len] = OPT_URLDATA;
		p[len + 1] = (uint8_t)n;
		memcpy(p + len + 2, urldata, n);
		len += 2 + n;
		urldata += n;
		left -= n;
	}
	if (left > 0)
		log_debug("udp tracker: URL data cut, %zu bytes left out",
		    left);
	return start(t, TRACKER_UDP_ANNOUNCE, p, len, tries, now);
}

uint32_t
tracker_udp_scrape(struct tracker_udp *t, const uint8_t (*hashes)[SHA1_LEN],
    size_t n, unsigned tries, uint64_t now)
{
	uint8_t	*p;
	size_t	 len;

	if (n == 0) {
		struct tracker_udp_result	*r;
		uint32_t			 id = new_id(t);

		r = push_result(t, id, TRACKER_UDP_SCRAPE, GT_ECANCELED);
		snprintf(r->err, sizeof(r->err), "nothing to scrape");
		return id;
	}
	n = MIN(n, TRACKER_MAX_SCRAPE);
	len = 16 + n * SHA1_LEN;
	p = xmalloc(len);
	memset(p, 0, 16);
	store_be32(p + 8, ACTION_SCRAPE);
	memcpy(p + 16, hashes, n * SHA1_LEN);
	return start(t, TRACKER_UDP_SCRAPE, p, len, tries, now);
}

void
tracker_udp_cancel(struct tracker_udp *t, uint32_t id)
{
	struct result_node	**np, *n;
	size_t			  i;

	if ((i = find_xchg(t, id)) < t->nx) {
		log_debug("udp tracker: exchange %u: cancelled", id);
		remove_xchg(t, i);
		return;
	}
	for (np = &t->res_head; (n = *np) != NULL; np = &n->next) {
		if (n->r.id != id)
			continue;
		*np = n->next;
		if (t->res_tail == &n->next)
			t->res_tail = np;
		tracker_udp_result_clear(&n->r);
		free(n);
		return;
	}
}

/* Ends exchange i with the tracker's error message. */
static void
on_error_reply(struct tracker_udp *t, size_t i, const uint8_t *p, size_t len)
{
	struct tracker_udp_result	*r;
	char				*msg;
	char				 why[TRACKER_ERRLEN];

	msg = tracker_safe_text(p + 8, len - 8);
	snprintf(why, sizeof(why), "tracker error: %s", msg);
	r = finish(t, i, GT_EPROTO, why);
	if (r->kind == TRACKER_UDP_ANNOUNCE)
		r->announce.failure = msg;
	else
		r->scrape.failure = msg;
	remove_xchg(t, i);
}

static int32_t
load_be32s(const uint8_t *p)
{
	uint32_t	u = load_be32(p);

	return u > INT32_MAX ? -1 - (int32_t)(UINT32_MAX - u) : (int32_t)u;
}

static int64_t
count_or_unknown(const uint8_t *p)
{
	int32_t	v = load_be32s(p);

	return v < 0 ? -1 : v;
}

static void
on_announce_reply(struct tracker_udp *t, size_t i, const uint8_t *p,
    size_t len)
{
	struct tracker_udp_result	*res;
	struct tracker_reply		 r = { .complete = -1,
					       .incomplete = -1 };
	enum addr_family		 fam = t->v6 ? ADDR_V6 : ADDR_V4;
	size_t				 step = t->v6 ? 18 : 6, n, k, got;
	struct tracker_peers		 ps;
	struct netaddr			 a;
	char				 why[64];

	if (len < ANNOUNCE_REPLY_LEN) {
		snprintf(why, sizeof(why), "short announce reply (%zu bytes)",
		    len);
		finish(t, i, GT_EPROTO, why);
		remove_xchg(t, i);
		return;
	}
	r.interval = tracker_clamp_interval(load_be32s(p + 8));
	r.incomplete = count_or_unknown(p + 12);
	r.complete = count_or_unknown(p + 16);
	n = (len - ANNOUNCE_REPLY_LEN) / step;
	if ((len - ANNOUNCE_REPLY_LEN) % step != 0)
		log_debug("udp tracker: exchange %u: %zu trailing bytes "
		    "ignored", t->x[i]->id, (len - ANNOUNCE_REPLY_LEN) % step);
	tracker_peers_init(&ps, &r, n);
	for (k = 0; k < n; k++) {
		if (addr_parse_compact(fam, p + ANNOUNCE_REPLY_LEN + k * step,
		    step, &a, 1, &got) != GT_OK || got != 1)
			continue;		/* port 0 */
		addr_unmap(&a);
		if (!tracker_peers_add(&ps, &a))
			break;
	}
	tracker_peers_clear(&ps);
	res = finish(t, i, GT_OK, "announce reply");
	res->announce = r;
	remove_xchg(t, i);
}

static void
on_scrape_reply(struct tracker_udp *t, size_t i, const uint8_t *p,
    size_t len)
{
	struct xchg			*x = t->x[i];
	struct tracker_udp_result	*res;
	struct tracker_scrape_entry	*v;
	size_t				 n, k;
	const uint8_t			*q;
	char				 why[64];

	n = MIN((len - 8) / SCRAPE_REPLY_ENTRY, x->nhashes);
	if (n == 0) {
		snprintf(why, sizeof(why), "short scrape reply (%zu bytes)",
		    len);
		finish(t, i, GT_EPROTO, why);
		remove_xchg(t, i);
		return;
	}
	v = xcalloc(n, sizeof(*v));
	for (k = 0; k < n; k++) {
		q = p + 8 + k * SCRAPE_REPLY_ENTRY;
		memcpy(v[k].info_hash, x->hashes[k], SHA1_LEN);
		v[k].complete = count_or_unknown(q);
		v[k].downloaded = count_or_unknown(q + 4);
		v[k].incomplete = count_or_unknown(q + 8);
	}
	res = finish(t, i, GT_OK, "scrape reply");
	res->scrape.v = v;
	res->scrape.n = n;
	remove_xchg(t, i);
}

/* A reply to one of our connects: action is 0 or 3. */
static void
on_connect_reply(struct tracker_udp *t, uint32_t action, const uint8_t *p,
    size_t len, uint64_t now)
{
	size_t	i;
	char	why[64];

	memset(t->conn_txid, 0, sizeof(t->conn_txid));
	t->conn_until = 0;
	if (action == ACTION_CONNECT && len >= CONNECT_LEN) {
		t->have_conn = true;
		t->conn_id = load_be64(p + 8);
		t->conn_expires = add_ms(now, TRACKER_UDP_CONN_TTL_MS);
		log_debug("udp tracker: connection id %016llx",
		    (unsigned long long)t->conn_id);
		for (i = 0; i < t->nx; i++)
			if (t->x[i]->state == XCHG_CONNECT)
				xchg_send(t, t->x[i], now, "connected");
		return;
	}
	/* an error, or a short reply: the exchanges waiting end */
	snprintf(why, sizeof(why), "short connect reply (%zu bytes)", len);
	i = 0;
	while (i < t->nx) {
		if (t->x[i]->state != XCHG_CONNECT)
			i++;
		else if (action == ACTION_ERROR)
			on_error_reply(t, i, p, len);
		else {
			finish(t, i, GT_EPROTO, why);
			remove_xchg(t, i);
		}
	}
}

enum gt_err
tracker_udp_on_datagram(struct tracker_udp *t, const uint8_t *p, size_t len,
    uint64_t now)
{
	uint32_t	action, txid, want;
	size_t		i;

	if (len > TRACKER_UDP_MAX_PACKET) {
		log_debug("udp tracker: %zu-byte datagram refused", len);
		return GT_EPROTO;
	}
	if (len < 8) {
		log_debug("udp tracker: short datagram (%zu bytes)", len);
		return GT_EPROTO;
	}
	action = load_be32(p);
	txid = load_be32(p + 4);
	if (txid == 0)
		goto nomatch;

	for (i = 0; i < CONN_TXIDS; i++)
		if (t->conn_txid[i] == txid)
			break;
	if (i < CONN_TXIDS) {
		if (action != ACTION_CONNECT && action != ACTION_ERROR)
			goto nomatch;
		on_connect_reply(t, action, p, len, now);
		return GT_OK;
	}

	for (i = 0; i < t->nx; i++)
		if (t->x[i]->state == XCHG_REQUEST &&
		    (t->x[i]->txid[0] == txid || t->x[i]->txid[1] == txid))
			break;
	if (i == t->nx)
		goto nomatch;
	want = t->x[i]->kind == TRACKER_UDP_ANNOUNCE ? ACTION_ANNOUNCE :
	    ACTION_SCRAPE;
	if (action == ACTION_ERROR) {
		t->have_conn = false;	/* the connection id may be stale */
		on_error_reply(t, i, p, len);
	} else if (action != want)
		goto nomatch;
	else if (want == ACTION_ANNOUNCE)
		on_announce_reply(t, i, p, len);
	else
		on_scrape_reply(t, i, p, len);
	return GT_OK;

nomatch:
	log_debug("udp tracker: datagram (action %u, transaction %08x) "
	    "answers nothing", action, txid);
	return GT_EPROTO;
}

uint64_t
tracker_udp_deadline(const struct tracker_udp *t)
{
	uint64_t	d = UINT64_MAX;
	size_t		i;

	for (i = 0; i < t->nx; i++)
		d = MIN(d, t->x[i]->deadline);
	return d;
}

void
tracker_udp_tick(struct tracker_udp *t, uint64_t now)
{
	struct xchg	*x;
	size_t		 i = 0;
	char		 why[64];

	while (i < t->nx) {
		x = t->x[i];
		if (now < x->deadline) {
			i++;
			continue;
		}
		if (++x->attempt >= x->tries) {
			snprintf(why, sizeof(why), "no answer after %u %s",
			    x->tries, x->tries == 1 ? "try" : "tries");
			finish(t, i, GT_ECANCELED, why);
			remove_xchg(t, i);
			continue;
		}
		log_debug("udp tracker: exchange %u: attempt %u", x->id,
		    x->attempt);
		xchg_send(t, x, now, "retransmit");
		i++;
	}
}

/* A datagram longer than cap (a caller's mistake) is dropped, logged. */
size_t
tracker_udp_next_datagram(struct tracker_udp *t, uint8_t *out, size_t cap)
{
	size_t	len;

	while (t->nout > 0) {
		len = load_be16(t->out.data + t->out_off);
		if (len <= cap)
			memcpy(out, t->out.data + t->out_off + 2, len);
		else
			log_warn("udp tracker: %zu-byte datagram does not fit "
			    "in %zu bytes, dropped", len, cap);
		t->out_off += 2 + len;
		if (--t->nout == 0) {
			buf_reset(&t->out);
			t->out_off = 0;
		}
		if (len <= cap)
			return len;
	}
	return 0;
}

bool
tracker_udp_next_result(struct tracker_udp *t, struct tracker_udp_result *out)
{
	struct result_node	*n = t->res_head;

	if (n == NULL)
		return false;
	t->res_head = n->next;
	if (t->res_head == NULL)
		t->res_tail = &t->res_head;
	*out = n->r;
	free(n);
	return true;
}

void
tracker_udp_result_clear(struct tracker_udp_result *r)
{
	tracker_reply_clear(&r->announce);
	tracker_scrape_clear(&r->scrape);
	r->err[0] = '\0';
}
