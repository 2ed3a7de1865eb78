/* fuzz-announce.c - the announce schedule driving UDP tracker exchanges */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announce.h"
#include "tracker-udp.h"
#include "util.h"

#include "fuzz.h"

/*
 * One torrent's trackers, as session.c wires them: `announce` (BEP 12)
 * says which tracker is due with which event; an HTTP tracker's outcome
 * comes from the input, a UDP one's from a `tracker_udp` (BEP 15) per
 * address (one IPv4, one IPv6), fed datagrams from the input.  The clock
 * moves by input-chosen steps, huge jumps included, and timers fire late
 * after a jump as they would after a suspend.
 *
 * Checked (abort) at every step, against a model of what announce was
 * told: the event and the tracker of each announce (BEP 12 order, the stop
 * sequence to the last tracker that answered), each deadline after a reply
 * (interval and min interval, clamped), a failure (the next tracker at
 * once, then a doubling backoff), "completed" and need-peers; tier order
 * and "answered moves to the front"; once a step settles nothing is
 * overdue and nothing is due further off than the longest interval or
 * wait; a UDP announce carries the event under way; every exchange yields
 * one result, none unasked; the send queue and results stay bounded.  At
 * the end a stop and the clock running out end every exchange in time.
 * A clock past 2^52 ms is out of scope (announce.c adds to now unchecked).
 *
 * Input: a header, then ops until the input ends.
 *   header	byte: seed, and the number of trackers n = byte % 9; then n
 *		bytes, one per tracker: kind = b % 3 (HTTP, UDP/IPv4,
 *		UDP/IPv6), tier = (b >> 2) % 4
 *   op		byte % NOPS, then its operands (past the end they read 0)
 * The URLs name loopback addresses; nothing is ever sent anywhere.
 */

#define NURLS		8
#define NSENT		8		/* transaction ids remembered */
#define MAX_IDS		(2 * TRACKER_UDP_MAX_PENDING)
#define MAX_OPS		4096
#define MAX_STEPS	64		/* a step settles in fewer rounds */
#define CLOCK_MAX	(1ULL << 52)	/* ms; jumps stop here */
#define UDP_TRIES	2		/* as session.c: 15 s, then 30 s */
#define NUMWANT		80
#define SEC		1000ULL

enum op {
	OP_TICK,		/* byte: + b * 250 ms, then timers */
	OP_WAIT,		/* be16: + v s */
	OP_JUMP,		/* byte: + 2^(b % 44) ms */
	OP_NEXT,		/* to the next deadline */
	OP_DGRAM,		/* sel, be16 len, bytes: a datagram */
	OP_REPLY,		/* sel, be32: a well-formed answer */
	OP_START,
	OP_COMPLETED,
	OP_NEED_PEERS,
	OP_STOP,
	OP_HTTP_OK,		/* be32 interval, be32 min interval */
	OP_HTTP_FAIL,
	OP_SCRAPE,		/* byte: which tracker, hashes, tries */
	OP_CANCEL,		/* byte: which scrape */
	NOPS
};

enum kind {
	HTTP,
	UDP4,
	UDP6,
};

struct in {
	const uint8_t	*p, *end;
};

struct udpt {				/* one UDP tracker address */
	struct tracker_udp	*t;
	uint32_t		 sent[NSENT];	/* newest at pos - 1 */
	size_t			 pos;
	uint8_t			 last[TRACKER_UDP_MAX_OUT];	/* latest sent */
	size_t			 lastlen;
	uint32_t		 scrapes[MAX_IDS];	/* under way */
	size_t			 nscrapes;
};

struct fz {
	struct announce		*a;
	struct udpt		 u[2];
	char			 url[NURLS][48];
	enum kind		 kind[NURLS];
	unsigned		 tier[NURLS];
	size_t			 n;
	uint64_t		 now;

	/* the announce under way */
	bool			 busy;
	size_t			 busy_url;
	uint32_t		 busy_id;	/* its UDP exchange, or 0 */
	enum tracker_event	 busy_ev;

	/* the model: what announce was told, so what it must do */
	bool			 started;
	bool			 ever_sent;
	bool			 started_ok;
	bool			 completed_once;
	bool			 want_completed;
	bool			 stopping;
	bool			 done;
	bool			 backoff_wait;
	size_t			 errors;	/* failures in this round */
	uint64_t		 backoff;
	uint64_t		 last_sent;
	uint32_t		 min_interval;
	int			 ok_url;	/* last answered, or -1 */
	int			 asked_url;	/* last asked, or -1 */
	int			 stop_to;
};

static uint8_t	out[TRACKER_UDP_MAX_OUT];
static uint8_t	dgram[TRACKER_UDP_MAX_PACKET + 64];

static uint8_t
get8(struct in *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint16_t
get16(struct in *in)
{
	uint16_t	v = get8(in);

	return (uint16_t)(v << 8 | get8(in));
}

static uint32_t
get32(struct in *in)
{
	uint32_t	v = get16(in);

	return v << 16 | get16(in);
}

static void
advance(struct fz *f, uint64_t ms)
{
	if (f->now < CLOCK_MAX)
		f->now = MIN(f->now + ms, CLOCK_MAX);
}

static struct udpt *
udpt_of(struct fz *f, size_t url)
{
	return &f->u[f->kind[url] == UDP6];
}

static uint32_t
udp_event(enum tracker_event ev)
{
	static const uint32_t	v[] = {
		[TRACKER_EVENT_NONE] = 0, [TRACKER_EVENT_COMPLETED] = 1,
		[TRACKER_EVENT_STARTED] = 2, [TRACKER_EVENT_STOPPED] = 3,
	};

	return v[ev];
}

static void
check_deadline(const struct fz *f, uint64_t want)
{
	if (announce_deadline(f->a) != want)
		abort();
}

/* Where the tier of tracker i starts in announce order. */
static size_t
front(const struct fz *f, size_t i)
{
	size_t	k;

	for (k = 0; k < f->n; k++)
		if (announce_tier(f->a, k) == f->tier[i])
			return k;
	abort();
}

/* Announce order: every tracker once, tier by tier; the last answered. */
static void
check_order(const struct fz *f)
{
	const char	*cur = announce_current(f->a);
	bool		 seen[NURLS] = { false };
	size_t		 k, i;

	for (k = 0; k < f->n; k++) {
		for (i = 0; i < f->n &&
		    strcmp(announce_url(f->a, k), f->url[i]) != 0; i++)
			;
		if (i == f->n || seen[i] || announce_tier(f->a, k) !=
		    f->tier[i] || (k > 0 && announce_tier(f->a, k - 1) >
		    f->tier[i]))
			abort();
		seen[i] = true;
	}
	if (announce_url(f->a, f->n) != NULL || (f->ok_url < 0 ?
	    cur != NULL : cur == NULL || strcmp(cur, f->url[f->ok_url]) != 0))
		abort();
}

/* The tracker answered (ok) or failed: tell announce, check its plan. */
static void
outcome(struct fz *f, bool ok, uint32_t interval, uint32_t min_interval)
{
	uint64_t	want, wait;
	uint32_t	iv;

	if (!f->busy)
		abort();
	f->busy = false;
	f->busy_id = 0;
	if (ok)
		announce_on_reply(f->a, interval, min_interval, f->now);
	else
		announce_on_error(f->a, f->now);
	if (ok)
		f->ok_url = (int)f->busy_url;
	if (f->stopping) {
		/* one try each: a "completed", then "stopped" */
		if (f->busy_ev == TRACKER_EVENT_COMPLETED) {
			f->want_completed = false;
			want = f->now;
		} else {
			f->done = true;
			want = UINT64_MAX;
		}
	} else if (ok) {
		if (f->busy_ev == TRACKER_EVENT_STARTED)
			f->started_ok = true;
		else if (f->busy_ev == TRACKER_EVENT_COMPLETED)
			f->want_completed = false;
		if (strcmp(announce_url(f->a, front(f, f->busy_url)),
		    f->url[f->busy_url]) != 0)
			abort();	/* it moves to the front of its tier */
		f->errors = 0;
		f->backoff = ANNOUNCE_BACKOFF_MIN_MS;
		f->backoff_wait = false;
		f->min_interval = MIN(min_interval, TRACKER_MAX_INTERVAL);
		iv = MIN(MAX(interval, TRACKER_MIN_INTERVAL),
		    TRACKER_MAX_INTERVAL);
		wait = (uint64_t)MAX(iv, f->min_interval) * SEC;
		want = f->want_completed ? f->now : f->now + wait;
	} else if (++f->errors < f->n)
		want = f->now;		/* the next tracker, at once */
	else {
		/* a round of failures: back off, doubling */
		f->errors = 0;
		want = f->now + f->backoff;
		f->backoff_wait = true;
		f->backoff = MIN(f->backoff * 2, ANNOUNCE_BACKOFF_MAX_MS);
	}
	check_deadline(f, want);
}

/* Sends the announce that is due, if one is: checks what and to whom. */
static bool
send_due(struct fz *f)
{
	struct tracker_req	 req = {
		.port = 6881, .left = 1000, .key = 7,
	};
	const char		*url, *data;
	enum tracker_event	 ev, want;
	struct udpt		*u;
	size_t			 i;

	if (f->busy || !announce_next(f->a, f->now, &url, &ev))
		return false;
	for (i = 0; i < f->n && strcmp(url, f->url[i]) != 0; i++)
		;
	if (i == f->n || !f->started || f->done)
		abort();
	if (f->stopping)
		want = f->want_completed ? TRACKER_EVENT_COMPLETED :
		    TRACKER_EVENT_STOPPED;
	else if (!f->started_ok)
		want = TRACKER_EVENT_STARTED;
	else if (f->want_completed)
		want = TRACKER_EVENT_COMPLETED;
	else
		want = TRACKER_EVENT_NONE;
	if (ev != want || (f->stopping && (int)i != f->stop_to))
		abort();
	/* a regular announce after a reply: not before the min interval */
	if (ev == TRACKER_EVENT_NONE && f->errors == 0 && !f->backoff_wait &&
	    f->now < f->last_sent + MAX((uint64_t)ANNOUNCE_NEED_PEERS_MS,
	    (uint64_t)f->min_interval * SEC))
		abort();
	check_deadline(f, UINT64_MAX);		/* under way */

	f->busy = true;
	f->busy_url = i;
	f->busy_ev = ev;
	f->busy_id = 0;
	f->ever_sent = true;
	f->last_sent = f->now;
	f->asked_url = (int)i;
	if (f->kind[i] == HTTP)
		return true;		/* its outcome comes from the input */
	u = udpt_of(f, i);
	memset(req.info_hash, 0x11, sizeof(req.info_hash));
	memset(req.peer_id, 0x22, sizeof(req.peer_id));
	req.event = ev;
	req.numwant = ev == TRACKER_EVENT_STOPPED ? 0 : NUMWANT;
	data = strchr(url + 6, '/');
	f->busy_id = tracker_udp_announce(u->t, &req, data,
	    f->stopping ? 1 : UDP_TRIES, f->now);
	if (f->busy_id == 0)
		abort();
	return true;
}

static void
check_result(const struct tracker_udp_result *r)
{
	size_t	i;

	if (r->e == GT_OK && r->kind == TRACKER_UDP_ANNOUNCE) {
		if (r->announce.npeers > TRACKER_MAX_PEERS ||
		    r->announce.interval < TRACKER_MIN_INTERVAL ||
		    r->announce.interval > TRACKER_MAX_INTERVAL)
			abort();
		for (i = 0; i < r->announce.npeers; i++)
			if (r->announce.peers[i].port == 0)
				abort();
	}
	if (r->e == GT_OK && r->kind == TRACKER_UDP_SCRAPE &&
	    (r->scrape.n == 0 || r->scrape.n > TRACKER_MAX_SCRAPE))
		abort();
	if (r->e != GT_OK && (r->err[0] == '\0' ||
	    strlen(r->err) >= TRACKER_ERRLEN))
		abort();
}

/* Takes what tracker k queued; true if announce heard of an outcome. */
static bool
drain(struct fz *f, size_t k)
{
	struct udpt			*u = &f->u[k];
	struct tracker_udp_result	 r;
	size_t				 len, n = 0, i;
	bool				 heard = false;

	while ((len = tracker_udp_next_datagram(u->t, out, sizeof(out))) > 0) {
		/* the send queue is bounded */
		if (len < 16 || len > TRACKER_UDP_MAX_OUT ||
		    ++n > 2 * TRACKER_UDP_MAX_PENDING)
			abort();
		u->sent[u->pos++ % NSENT] = load_be32(out + 12);
		memcpy(u->last, out, len);
		u->lastlen = len;
		/* an announce request is the one under way, with its event */
		if (load_be32(out + 8) == 1 && (!f->busy || f->busy_id == 0 ||
		    udpt_of(f, f->busy_url) != u || len < 98 ||
		    load_be32(out + 80) != udp_event(f->busy_ev) ||
		    out[16] != 0x11))
			abort();
	}
	n = 0;
	while (tracker_udp_next_result(u->t, &r)) {
		if (++n > TRACKER_UDP_MAX_PENDING + 1)
			abort();
		check_result(&r);
		if (f->busy && f->busy_id == r.id &&
		    udpt_of(f, f->busy_url) == u) {
			if (r.kind != TRACKER_UDP_ANNOUNCE)
				abort();
			outcome(f, r.e == GT_OK, r.announce.interval,
			    r.announce.min_interval);
			heard = true;
		} else {
			/* else a scrape under way: one result each */
			for (i = 0; i < u->nscrapes && u->scrapes[i] != r.id;
			    i++)
				;
			if (i == u->nscrapes || r.kind != TRACKER_UDP_SCRAPE)
				abort();
			u->scrapes[i] = u->scrapes[--u->nscrapes];
		}
		tracker_udp_result_clear(&r);
	}
	return heard;
}

/* What the reactor does at now: due timers, results, the next announce. */
static void
run(struct fz *f)
{
	uint64_t	d;
	size_t		step, k;
	bool		busy;

	for (step = 0;; step++) {
		if (step == MAX_STEPS)
			abort();		/* no settling: a livelock */
		busy = false;
		for (k = 0; k < 2; k++) {
			if (tracker_udp_deadline(f->u[k].t) <= f->now)
				tracker_udp_tick(f->u[k].t, f->now);
			busy |= drain(f, k);
		}
		busy |= send_due(f);
		if (!busy)
			break;
	}

	/* settled: nothing is overdue, nothing is far off */
	for (k = 0; k < 2; k++) {
		d = tracker_udp_deadline(f->u[k].t);
		if (d <= f->now || (d != UINT64_MAX && d - f->now >
		    (uint64_t)TRACKER_UDP_RETRY_MS << (TRACKER_UDP_MAX_TRIES - 1)))
			abort();
	}
	check_order(f);
	d = announce_deadline(f->a);
	if (f->busy || f->done || !f->started || f->n == 0) {
		if (d != UINT64_MAX)
			abort();
	} else if (d <= f->now || d - f->now > MAX(TRACKER_MAX_INTERVAL * SEC,
	    (uint64_t)ANNOUNCE_BACKOFF_MAX_MS))
		abort();
}

static void
op_stop(struct fz *f)
{
	bool	r;

	if (f->done || f->stopping) {
		if (announce_stop(f->a, f->now) != !f->done)
			abort();
		return;
	}
	/* as session.c: the request under way is abandoned first */
	if (f->busy && f->busy_id != 0)
		tracker_udp_cancel(udpt_of(f, f->busy_url)->t, f->busy_id);
	f->busy = false;
	f->busy_id = 0;
	r = announce_stop(f->a, f->now);
	if (r != f->ever_sent)
		abort();
	if (!r) {
		f->done = true;
		check_deadline(f, UINT64_MAX);
		return;
	}
	f->stopping = true;
	f->stop_to = f->ok_url >= 0 ? f->ok_url : f->asked_url;
	if (!f->started_ok)
		f->want_completed = false;	/* never started */
	check_deadline(f, f->now);
}

static void
op_completed(struct fz *f)
{
	uint64_t	d = announce_deadline(f->a);

	announce_completed(f->a, f->now);
	if (f->completed_once || f->stopping || f->done) {
		check_deadline(f, d);
		return;
	}
	f->completed_once = true;
	f->want_completed = true;
	/* at once, unless "started" goes first or trackers are failing */
	if (f->started && f->started_ok && !f->busy && !f->backoff_wait &&
	    f->now < d)
		d = f->now;
	check_deadline(f, d);
}

static void
op_need_peers(struct fz *f)
{
	uint64_t	d = announce_deadline(f->a);

	announce_need_peers(f->a, f->now);
	if (f->started && f->ever_sent && !f->busy && !f->stopping &&
	    !f->done && !f->backoff_wait)
		d = MIN(d, f->last_sent + MAX((uint64_t)ANNOUNCE_NEED_PEERS_MS,
		    (uint64_t)f->min_interval * SEC));
	check_deadline(f, d);
}

/* A datagram from the input, to tracker sel & 1. */
static void
op_dgram(struct fz *f, struct in *in)
{
	struct udpt	*u;
	uint8_t		 sel = get8(in);
	size_t		 len = get16(in);

	u = &f->u[sel & 1];
	len = MIN(len, (size_t)(in->end - in->p));
	len = MIN(len, sizeof(dgram));
	memcpy(dgram, in->p, len);
	in->p += len;
	/* bit 1: a transaction id we sent; bit 5: action (sel >> 6) */
	if (len >= 8 && (sel & 2) && u->pos > 0)
		store_be32(dgram + 4, u->sent[(u->pos - 1 -
		    (sel >> 2 & 7) % MIN(u->pos, NSENT)) % NSENT]);
	if (len >= 4 && (sel & 0x20))
		store_be32(dgram, sel >> 6);
	(void)tracker_udp_on_datagram(u->t, dgram, len, f->now);
}

/* A well-formed answer to the latest datagram tracker sel & 1 sent. */
static void
op_reply(struct fz *f, struct in *in)
{
	struct udpt	*u;
	uint8_t		 sel = get8(in);
	uint32_t	 v = get32(in), act, txid;
	size_t		 len, k, n, step;

	u = &f->u[sel & 1];
	if (u->lastlen < 16)
		return;
	act = load_be32(u->last + 8);
	txid = load_be32(u->last + 12);
	memset(dgram, 0, 8 + TRACKER_MAX_SCRAPE * 12);
	store_be32(dgram + 4, txid);
	if (sel & 0x80) {
		store_be32(dgram, 3);
		len = 8 + (sel >> 1 & 15);
		memset(dgram + 8, 'x', len - 8);
	} else if (act == 0) {
		store_be32(dgram, 0);
		store_be32(dgram + 8, v);
		store_be32(dgram + 12, ~v);
		len = 16;
	} else if (act == 1) {
		store_be32(dgram, 1);
		store_be32(dgram + 8, v);		/* interval */
		store_be32(dgram + 12, v >> 8);	/* leechers */
		store_be32(dgram + 16, v >> 16);	/* seeders */
		len = 20;
		step = (sel & 1) ? 18 : 6;
		n = sel >> 1 & 7;
		for (k = 0; k < n; k++, len += step) {
			if (step == 6) {
				dgram[len] = 127;
				dgram[len + 3] = (uint8_t)(1 + k);
				store_be16(dgram + len + 4, 6881);
			} else {
				dgram[len + 15] = 1;		/* ::1 */
				store_be16(dgram + len + 16,
				    (uint16_t)(6881 + k));
			}
		}
	} else {
		store_be32(dgram, 2);
		n = (u->lastlen - 16) / SHA1_LEN;
		n -= MIN(n - 1, (size_t)(sel >> 1 & 3));
		for (k = 0; k < n; k++)
			store_be32(dgram + 8 + 12 * k, v + (uint32_t)k);
		len = 8 + 12 * n;
	}
	(void)tracker_udp_on_datagram(u->t, dgram, len, f->now);
}

static void
op_scrape(struct fz *f, struct in *in)
{
	uint8_t		 b = get8(in);
	struct udpt	*u = &f->u[b & 1];
	uint8_t		 h[4][SHA1_LEN];
	uint32_t	 id;

	if (u->nscrapes >= MAX_IDS)
		return;
	memset(h, 0x5a, sizeof(h));
	id = tracker_udp_scrape(u->t, (const uint8_t (*)[SHA1_LEN])h,
	    1 + (b >> 1) % 4, 1 + (b >> 3) % TRACKER_UDP_MAX_TRIES, f->now);
	if (id == 0)
		abort();
	u->scrapes[u->nscrapes++] = id;
}

static void
op_cancel(struct fz *f, struct in *in)
{
	uint8_t		 b = get8(in);
	struct udpt	*u = &f->u[b & 1];
	size_t		 i;

	if (u->nscrapes == 0)
		return;
	i = (size_t)(b >> 1) % u->nscrapes;
	tracker_udp_cancel(u->t, u->scrapes[i]);
	u->scrapes[i] = u->scrapes[--u->nscrapes];
}

static uint64_t
next_deadline(const struct fz *f)
{
	return MIN(announce_deadline(f->a), MIN(tracker_udp_deadline(
	    f->u[0].t), tracker_udp_deadline(f->u[1].t)));
}

/* The end: stop, let every timer run out; everything ends, in time. */
static void
finish(struct fz *f)
{
	uint64_t	d, t0 = f->now;
	size_t		i, k;

	op_stop(f);
	run(f);
	/* at most: each exchange's tries, and the two stop announces */
	for (i = 0; i < 2 * MAX_IDS * TRACKER_UDP_MAX_TRIES + 8; i++) {
		if (f->busy && f->kind[f->busy_url] == HTTP) {
			outcome(f, false, 0, 0);	/* no answer */
			run(f);
			continue;
		}
		if ((d = next_deadline(f)) == UINT64_MAX)
			break;
		f->now = MAX(f->now, d);
		run(f);
	}
	if (!f->done || f->busy || announce_deadline(f->a) != UINT64_MAX)
		abort();
	for (k = 0; k < 2; k++)
		if (tracker_udp_deadline(f->u[k].t) != UINT64_MAX ||
		    f->u[k].nscrapes != 0)
			abort();
	/* the longest exchange: every try of a scrape, 15 s << n each */
	if (f->now - t0 > (uint64_t)TRACKER_UDP_RETRY_MS *
	    ((1u << TRACKER_UDP_MAX_TRIES) - 1))
		abort();
}

static void
setup(struct fz *f, struct in *in)
{
	static const char	*const host[] = {
		[HTTP] = "http://127.0.0.1", [UDP4] = "udp://127.0.0.1",
		[UDP6] = "udp://[::1]",
	};
	uint8_t			 h = get8(in), b;
	size_t			 i;

	memset(f, 0, sizeof(*f));
	f->now = 1000;
	f->ok_url = f->asked_url = f->stop_to = -1;
	f->backoff = ANNOUNCE_BACKOFF_MIN_MS;
	f->a = announce_new(h);
	f->u[0].t = tracker_udp_new(false, h);
	f->u[1].t = tracker_udp_new(true, (uint64_t)h << 8);
	f->n = h % 9;
	for (i = 0; i < f->n; i++) {
		b = get8(in);
		f->kind[i] = (enum kind)(b % 3);
		f->tier[i] = (unsigned)(b >> 2) % 4;
		snprintf(f->url[i], sizeof(f->url[i]), "%s:%u/announce?k=%u",
		    host[f->kind[i]], 6969 + (unsigned)i, (unsigned)i);
		announce_add(f->a, f->tier[i], f->url[i]);
	}
	/* a duplicate (in any tier) and empty URLs are ignored */
	if (f->n > 0)
		announce_add(f->a, (unsigned)h % 5, f->url[h % f->n]);
	announce_add(f->a, 0, "");
	announce_add(f->a, 0, NULL);
	if (announce_count(f->a) != f->n)
		abort();
	check_order(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	f;
	struct in	in = { data, data + size };
	uint64_t	d;
	uint32_t	iv, mi;
	unsigned	n;
	size_t		k;

	setup(&f, &in);
	for (n = 0; n < MAX_OPS && in.p < in.end; n++) {
		switch (get8(&in) % NOPS) {
		case OP_TICK:
			advance(&f, (uint64_t)get8(&in) * 250);
			break;
		case OP_WAIT:
			advance(&f, (uint64_t)get16(&in) * SEC);
			break;
		case OP_JUMP:
			advance(&f, 1ULL << (get8(&in) % 44));
			break;
		case OP_NEXT:
			if ((d = next_deadline(&f)) != UINT64_MAX)
				f.now = MAX(f.now, d);
			break;
		case OP_DGRAM:
			op_dgram(&f, &in);
			break;
		case OP_REPLY:
			op_reply(&f, &in);
			break;
		case OP_START:
			announce_start(f.a, f.now);
			if (!f.started && f.n > 0 && !f.done)
				check_deadline(&f, f.now);	/* due now */
			f.started = true;
			break;
		case OP_COMPLETED:
			op_completed(&f);
			break;
		case OP_NEED_PEERS:
			op_need_peers(&f);
			break;
		case OP_STOP:
			op_stop(&f);
			break;
		case OP_HTTP_OK:
			iv = get32(&in);
			mi = get32(&in);
			if (f.busy && f.kind[f.busy_url] == HTTP)
				outcome(&f, true, iv, mi);
			break;
		case OP_HTTP_FAIL:
			if (f.busy && f.kind[f.busy_url] == HTTP)
				outcome(&f, false, 0, 0);
			break;
		case OP_SCRAPE:
			op_scrape(&f, &in);
			break;
		case OP_CANCEL:
		default:
			op_cancel(&f, &in);
			break;
		}
		run(&f);
	}
	finish(&f);

	if (size % 2 == 0) {
		/* leave a result and a datagram for free to reclaim */
		op_scrape(&f, &in);
		tracker_udp_tick(f.u[0].t, f.now + TRACKER_UDP_RETRY_MS);
		op_scrape(&f, &in);
	}
	announce_free(f.a);
	for (k = 0; k < 2; k++)
		tracker_udp_free(f.u[k].t);
	return 0;
}
