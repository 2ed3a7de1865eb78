/* fuzz-tracker-udp.c - UDP tracker exchanges fed hostile datagrams */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tracker-udp.h"
#include "util.h"

#include "fuzz.h"

/*
 * Input: one flags byte, then datagrams separated by SEP.  In a datagram
 * of 8 bytes or more, a transaction id whose first byte is below 0x80 is
 * replaced by that of the (byte % 8)-th most recent datagram we sent, so
 * that replies reach the exchanges.  Between datagrams the clock moves
 * on, due retransmits happen, and exchanges come and go.
 */
#define SEP		"#%#"
#define SEPLEN		3
#define NSENT		8

struct state {
	struct tracker_udp	*t;
	uint32_t		 sent[NSENT];	/* txids, newest at pos - 1 */
	size_t			 pos;
	uint32_t		 ids[16];	/* exchanges started */
	size_t			 nids;
	uint64_t		 now;
};

static uint8_t	out[TRACKER_UDP_MAX_OUT];
static uint8_t	dgram[TRACKER_UDP_MAX_PACKET + 64];

static void
drain(struct state *s)
{
	struct tracker_udp_result	r;
	size_t				n, i;

	while ((n = tracker_udp_next_datagram(s->t, out, sizeof(out))) > 0) {
		if (n < 16 || n > TRACKER_UDP_MAX_OUT)
			abort();
		s->sent[s->pos++ % NSENT] = load_be32(out + 12);
	}
	while (tracker_udp_next_result(s->t, &r)) {
		if (r.e == GT_OK && r.kind == TRACKER_UDP_ANNOUNCE) {
			if (r.announce.npeers > TRACKER_MAX_PEERS ||
			    r.announce.interval < TRACKER_MIN_INTERVAL ||
			    r.announce.interval > TRACKER_MAX_INTERVAL)
				abort();
			for (i = 0; i < r.announce.npeers; i++)
				if (r.announce.peers[i].port == 0)
					abort();
		}
		if (r.e == GT_OK && r.kind == TRACKER_UDP_SCRAPE &&
		    (r.scrape.n == 0 || r.scrape.n > TRACKER_MAX_SCRAPE))
			abort();
		if (r.e != GT_OK && (r.err[0] == '\0' ||
		    strlen(r.err) >= TRACKER_ERRLEN))
			abort();
		if (r.announce.failure != NULL &&
		    strlen(r.announce.failure) > TRACKER_MAX_MSG)
			abort();
		if (r.scrape.failure != NULL &&
		    strlen(r.scrape.failure) > TRACKER_MAX_MSG)
			abort();
		tracker_udp_result_clear(&r);
	}
}

static void
start(struct state *s, unsigned which, unsigned tries)
{
	static const char	*urls[] = { NULL, "", "/announce?passkey=x" };
	struct tracker_req	 req = {
		.port = 6881, .numwant = 0xffffffffu, .key = 7,
		.event = TRACKER_EVENT_STARTED, .left = 1000,
	};
	uint8_t			 h[3][SHA1_LEN];
	uint32_t		 id;

	memset(h, 0x5a, sizeof(h));
	memset(req.info_hash, 0x11, sizeof(req.info_hash));
	memset(req.peer_id, 0x22, sizeof(req.peer_id));
	if (which % 2 == 0)
		id = tracker_udp_announce(s->t, &req, urls[which / 2 % 3],
		    tries, s->now);
	else
		id = tracker_udp_scrape(s->t, (const uint8_t (*)[SHA1_LEN])h,
		    1 + which / 2 % 3, tries, s->now);
	if (id == 0)
		abort();
	s->ids[s->nids++ % nitems(s->ids)] = id;
}

static void
feed(struct state *s, const uint8_t *p, size_t len)
{
	size_t	k;

	len = MIN(len, sizeof(dgram));
	memcpy(dgram, p, len);
	if (len >= 8 && dgram[4] < 0x80 && s->pos > 0) {
		k = dgram[4] % NSENT % MIN(s->pos, NSENT);
		store_be32(dgram + 4, s->sent[(s->pos - 1 - k) % NSENT]);
	}
	(void)tracker_udp_on_datagram(s->t, dgram, len, s->now);
	drain(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state	 s = { .now = 1000 };
	const uint8_t	*p, *end, *q;
	uint8_t		 flags;
	unsigned	 n = 0, i;
	uint64_t	 d;

	if (size < 1)
		return 0;
	flags = data[0];
	s.t = tracker_udp_new(flags & 1, flags);
	start(&s, 0, 1 + (flags >> 1) % TRACKER_UDP_MAX_TRIES);
	start(&s, 1, TRACKER_UDP_MAX_TRIES);
	drain(&s);

	p = data + 1;
	end = data + size;
	for (;;) {
		q = memmem(p, (size_t)(end - p), SEP, SEPLEN);
		if (q == NULL)
			q = end;
		feed(&s, p, (size_t)(q - p));
		n++;
		/* the clock, new exchanges, cancels: from the count */
		if (n % 3 == 0) {
			s.now += 7000;
			tracker_udp_tick(s.t, s.now);
			drain(&s);
		}
		if (n % 5 == 0 && n < 64) {
			start(&s, n, 1 + n % TRACKER_UDP_MAX_TRIES);
			drain(&s);
		}
		if (n % 7 == 0 && s.nids > 0)
			tracker_udp_cancel(s.t, s.ids[n % MIN(s.nids,
			    nitems(s.ids))]);
		if (q == end || n >= 4096)
			break;
		p = q + SEPLEN;
	}

	/* run out the clock: every exchange ends within its tries */
	for (i = 0; i < 20 * TRACKER_UDP_MAX_TRIES; i++) {
		if ((d = tracker_udp_deadline(s.t)) == UINT64_MAX)
			break;
		s.now = MAX(s.now, d);
		tracker_udp_tick(s.t, s.now);
		drain(&s);
	}
	if (tracker_udp_deadline(s.t) != UINT64_MAX)
		abort();
	if (n % 2 == 0) {
		/* leave results for free to reclaim */
		start(&s, 0, 1);
		tracker_udp_tick(s.t, s.now + TRACKER_UDP_RETRY_MS);
	}
	tracker_udp_free(s.t);
	return 0;
}
