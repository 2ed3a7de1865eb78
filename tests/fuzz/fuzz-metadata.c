/* fuzz-metadata.c - the ut_metadata assembler driven by a script of events */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "metadata.h"
#include "util.h"

#include "fuzz.h"

/*
 * A few peers (ids 0..NPEERS-1) offer sizes, are asked pieces, answer
 * with the true info dict's bytes, garbage, a flipped byte, wrong lengths
 * or sizes, reject, leave; the clock moves.  A model of the assembler (the
 * contract of metadata.h: who is tracked, bad, resting, which request is
 * out to whom since when, which piece is in from whom, the size chosen
 * and chosen again, one-peer attempts, the deadline) predicts each answer.
 *
 * Checked (abort) at every step: each result and return value as the
 * model says; DONE only when every piece in is the true dict's (so the
 * SHA-1 matches) and then metadata_bytes is the dict; a piece asked is in
 * range and missing, never of a bad, resting, full or other-size peer;
 * a piece out to two peers only in the end game (every missing piece out,
 * the first request half METADATA_REQUEST_MS old, at most two, never in a
 * one-peer attempt); in a one-peer attempt one peer is asked at a time; a
 * peer that may be asked and a piece nobody is asked: it is asked; the
 * culprit is the single source of a failed attempt, or nobody; progress
 * and the deadline as the model computes them.
 *
 * Input: a header, then ops until the input ends (operands past the end
 * read 0).
 *   header	byte: which true dict (its size, from sizes[]); byte: the
 *		liars among the peers for OP_SERVE (bit i: peer i)
 *   op		byte % NOPS, then its operands
 */

#define NPEERS		8
#define MAX_OPS		2048
#define NOW0		(1ULL << 40)
#define P		METADATA_PIECE
#define ENDGAME_MS	(METADATA_REQUEST_MS / 2)

enum op {
	OP_ADD,			/* peer, size selector */
	OP_REMOVE,		/* peer */
	OP_NEXT,		/* peer */
	OP_DATA,		/* peer, piece sel, kind, len sel, total sel,
				   fill */
	OP_REJECT,		/* peer, piece sel */
	OP_TICK,		/* byte: + b * 100 ms, then metadata_tick */
	OP_JUMP,		/* byte: + half or all METADATA_REQUEST_MS */
	OP_SERVE,		/* peer: asks all it may, answers each */
	NOPS
};

enum kind {
	K_HONEST,
	K_GARBAGE,		/* fill byte */
	K_FLIP,			/* honest with byte 0 flipped */
	NKINDS
};

struct in {
	const uint8_t	*p, *end;
};

struct mreq {
	uint32_t	piece;
	uint64_t	at;
};

struct mpeer {
	bool		tracked, bad;
	uint32_t	size;
	uint64_t	seq;		/* order added, for size ties */
	uint64_t	rest;		/* 0: not resting */
	struct mreq	req[METADATA_PEER_QUEUE];
	int		nreq;
	int		timeouts;	/* ticks expiring its requests */
};

struct model {
	struct mpeer	p[NPEERS];
	uint64_t	seq;
	uint32_t	size, npieces;
	bool		*in, *truth;	/* npieces each */
	uint32_t	*from;
	uint8_t		*nout;		/* scratch of m_count */
	uint64_t	*earliest;
	uint32_t	have;
	bool		done;
	bool		alone_mode, alone_set;
	uint32_t	alone;
	bool		has_culprit;	/* of the last failure */
	uint32_t	culprit;
	uint64_t	last_tick;
};

static const uint32_t dict_sizes[] = {
	1, 100, P - 1, P, P + 1, 40000, 3 * P, 70000,
};

static uint8_t	dict[70000];
static uint32_t	dict_size;
static uint8_t	dict_hash[SHA1_LEN];
static bool	dict_made;
static uint8_t	data[P + 2];

static uint8_t
get8(struct in *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static int
m_find_req(const struct mpeer *p, uint32_t piece)
{
	int	k;

	for (k = 0; k < p->nreq; k++)
		if (p->req[k].piece == piece)
			return k;
	return -1;
}

static void
m_drop_req(struct mpeer *p, int k)
{
	p->req[k] = p->req[--p->nreq];
}

static void
m_drop_all_reqs(struct model *m)
{
	size_t	i;

	for (i = 0; i < NPEERS; i++)
		m->p[i].nreq = 0;
}

/* Per piece: requests out (nout), the earliest one's time. */
static void
m_count(const struct model *m)
{
	const struct mreq	*q;
	size_t			 i;
	uint32_t		 j;
	int			 k;

	for (j = 0; j < m->npieces; j++) {
		m->nout[j] = 0;
		m->earliest[j] = UINT64_MAX;
	}
	for (i = 0; i < NPEERS; i++) {
		for (k = 0; k < m->p[i].nreq; k++) {
			q = &m->p[i].req[k];
			CHECK(q->piece < m->npieces);
			m->nout[q->piece]++;
			m->earliest[q->piece] = MIN(m->earliest[q->piece],
			    q->at);
		}
	}
}

static void
m_free(struct model *m)
{
	free(m->in);
	free(m->truth);
	free(m->from);
	free(m->nout);
	free(m->earliest);
}

static void
m_size_set(struct model *m, uint32_t size)
{
	m_free(m);
	m_drop_all_reqs(m);
	m->size = size;
	m->npieces = size == 0 ? 0 : (size + P - 1) / P;
	m->in = calloc(m->npieces + 1, sizeof(*m->in));
	m->truth = calloc(m->npieces + 1, sizeof(*m->truth));
	m->from = calloc(m->npieces + 1, sizeof(*m->from));
	m->nout = calloc(m->npieces + 1, sizeof(*m->nout));
	m->earliest = calloc(m->npieces + 1, sizeof(*m->earliest));
	CHECK(m->in != NULL && m->truth != NULL && m->from != NULL &&
	    m->nout != NULL && m->earliest != NULL);
	m->have = 0;
	m->alone_mode = m->alone_set = false;
}

static void
m_rechoose(struct model *m)
{
	size_t		i, j, n, best_n = 0;
	uint64_t	best_seq = 0;
	uint32_t	best = 0;
	bool		offered = false;

	if (m->done)
		return;
	for (i = 0; i < NPEERS; i++)
		offered |= m->p[i].tracked && !m->p[i].bad &&
		    m->p[i].size == m->size;
	if (m->size != 0 && offered)
		return;
	for (i = 0; i < NPEERS; i++) {
		if (!m->p[i].tracked || m->p[i].bad)
			continue;
		for (n = 0, j = 0; j < NPEERS; j++)
			n += m->p[j].tracked && !m->p[j].bad &&
			    m->p[j].size == m->p[i].size;
		if (n > best_n || (n == best_n && m->p[i].seq < best_seq)) {
			best_n = n;
			best_seq = m->p[i].seq;
			best = m->p[i].size;
		}
	}
	if (best_n > 0)
		m_size_set(m, best);
}

static void
m_unalone(struct model *m, uint32_t id)
{
	if (m->alone_set && m->alone == id)
		m->alone_set = false;
}

static void
m_set_bad(struct model *m, uint32_t id)
{
	uint32_t	i;

	m->p[id].bad = true;
	m->p[id].nreq = 0;
	for (i = 0; i < m->npieces; i++) {
		if (m->in[i] && m->from[i] == id) {
			m->in[i] = false;
			m->have--;
		}
	}
	m_unalone(m, id);
	m_rechoose(m);
}

static void
m_remove(struct model *m, uint32_t id)
{
	if (!m->p[id].tracked)
		return;
	m->p[id] = (struct mpeer){ .tracked = false };
	m_unalone(m, id);
	m_rechoose(m);
}

static uint32_t
m_plen(const struct model *m, uint32_t piece)
{
	return piece + 1 < m->npieces ? P : m->size - (m->npieces - 1) * P;
}

static uint64_t
m_deadline(const struct model *m)
{
	uint64_t	t = UINT64_MAX, e;
	size_t		i;
	uint32_t	j;
	int		k;
	bool		endgame = !m->alone_mode;

	if (m->done)
		return UINT64_MAX;
	for (i = 0; i < NPEERS; i++) {
		if (m->p[i].rest != 0)
			t = MIN(t, m->p[i].rest);
		for (k = 0; k < m->p[i].nreq; k++)
			t = MIN(t, m->p[i].req[k].at + METADATA_REQUEST_MS);
	}
	m_count(m);
	for (j = 0; j < m->npieces && endgame; j++)
		endgame = m->in[j] || m->nout[j] > 0;
	for (j = 0; j < m->npieces && endgame; j++) {
		if (m->in[j] || m->nout[j] >= 2)
			continue;
		e = m->earliest[j];
		CHECK(m->nout[j] == 1);
		if (e + ENDGAME_MS > m->last_tick)
			t = MIN(t, e + ENDGAME_MS);
	}
	return t;
}

static void
check_state(struct metadata *md, const struct model *m)
{
	size_t		 len, i;
	const uint8_t	*b;
	uint32_t	 c[2];

	CHECK(metadata_size(md) == m->size);
	CHECK(metadata_culprits(md, c, nitems(c)) == m->has_culprit);
	CHECK(!m->has_culprit || c[0] == m->culprit);
	CHECK(metadata_npieces(md) == m->npieces);
	CHECK(metadata_have(md) == m->have);
	CHECK(metadata_deadline(md) == m_deadline(m));
	b = metadata_bytes(md, &len);
	if (m->done) {
		CHECK(b != NULL && len == dict_size);
		CHECK(memcmp(b, dict, len) == 0);
	} else
		CHECK(b == NULL && len == 0);
	for (i = 0; i < NPEERS; i++)
		CHECK(metadata_peer_bad(md, (uint32_t)i) ==
		    (m->p[i].tracked && m->p[i].bad));
}

static void
do_add(struct metadata *md, struct model *m, uint32_t id, uint32_t size)
{
	struct mpeer	*p = &m->p[id];
	bool		 r, want;

	r = metadata_peer_add(md, id, size);
	if (m->done || (p->tracked && p->bad))
		want = false;
	else if (size == 0 || size > METADATA_MAX_SIZE) {
		want = false;
		m_remove(m, id);
	} else {
		want = true;
		if (!p->tracked)
			*p = (struct mpeer){
				.tracked = true,
				.size = size,
				.seq = ++m->seq,
			};
		else if (p->size != size) {
			p->nreq = 0;
			p->size = size;
			m_unalone(m, id);
		}
		if (m->size == 0)
			m_size_set(m, size);
		else
			m_rechoose(m);
	}
	CHECK(r == want);
}

/* May peer p be asked now, as far as the model knows (alone aside)? */
static bool
m_may_ask(struct model *m, struct mpeer *p, uint64_t now)
{
	if (m->done || m->size == 0 || !p->tracked || p->bad ||
	    p->size != m->size || p->nreq >= METADATA_PEER_QUEUE)
		return false;
	if (p->rest != 0) {
		if (now < p->rest)
			return false;
		p->rest = 0;		/* as the assembler: rest over */
	}
	return true;
}

static bool
do_next(struct metadata *md, struct model *m, uint32_t id, uint64_t now,
    uint32_t *piece)
{
	struct mpeer	*p = &m->p[id];
	uint64_t	 e;
	uint32_t	 i, unasked = UINT32_MAX, eg = UINT32_MAX;
	bool		 r, may, all_out = true;
	int		 n;

	r = metadata_next_request(md, id, now, piece);
	may = m_may_ask(m, p, now);
	if (!may) {
		CHECK(!r);
		return false;
	}
	m_count(m);
	for (i = 0; i < m->npieces; i++) {
		if (m->in[i])
			continue;
		CHECK(m->nout[i] <= 2);
		n = m->nout[i];
		e = m->earliest[i];
		if (n == 0 && unasked == UINT32_MAX)
			unasked = i;
		all_out &= n > 0;
		if (n == 1 && eg == UINT32_MAX && now >= e &&
		    now - e >= ENDGAME_MS && m_find_req(p, i) < 0)
			eg = i;
	}
	if (m->alone_mode && m->alone_set && m->alone != id) {
		CHECK(!r);		/* another peer's attempt */
		return false;
	}
	if (!m->alone_mode || m->alone_set) {
		/* Someone to ask and something to ask: asked. */
		if (unasked != UINT32_MAX ||
		    (!m->alone_mode && eg != UINT32_MAX))
			CHECK(r);
	}
	if (!r)
		return false;
	/* Lowest first; a piece out already only in the end game. */
	CHECK(*piece < m->npieces && !m->in[*piece]);
	CHECK(m_find_req(p, *piece) < 0);
	n = m->nout[*piece];
	e = m->earliest[*piece];
	if (n > 0) {
		CHECK(!m->alone_mode && all_out && n == 1);
		CHECK(now >= e && now - e >= ENDGAME_MS);
		CHECK(*piece == eg);
	} else
		CHECK(*piece == unasked);
	if (m->alone_mode) {
		CHECK(!m->alone_set || m->alone == id);
		m->alone_set = true;
		m->alone = id;
	}
	p->req[p->nreq++] = (struct mreq){ .piece = *piece, .at = now };
	return true;
}

/* A DATA message as the model expects the assembler to take it. */
static enum metadata_result
m_data(struct model *m, uint32_t id, uint32_t piece, uint32_t total,
    size_t len, bool truth)
{
	struct mpeer	*p = &m->p[id];
	uint32_t	 i, first;
	size_t		 j;
	bool		 one = true, all = true;
	int		 k;

	if (m->done || m->size == 0 || !p->tracked || p->bad)
		return METADATA_IGNORED;
	if (piece >= m->npieces || total != m->size ||
	    len != m_plen(m, piece)) {
		m_set_bad(m, id);
		return METADATA_BAD;
	}
	if ((k = m_find_req(p, piece)) < 0)
		return METADATA_IGNORED;
	p->timeouts = 0;
	m->in[piece] = true;
	m->truth[piece] = truth;
	m->from[piece] = id;
	m->have++;
	for (j = 0; j < NPEERS; j++)
		if ((k = m_find_req(&m->p[j], piece)) >= 0)
			m_drop_req(&m->p[j], k);
	if (m->have < m->npieces)
		return METADATA_KEPT;
	for (i = 0; i < m->npieces; i++)
		all &= m->truth[i];
	if (all) {
		m->done = true;
		m_drop_all_reqs(m);
		return METADATA_DONE;
	}
	first = m->from[0];
	for (i = 1; i < m->npieces; i++)
		one &= m->from[i] == first;
	m_drop_all_reqs(m);
	for (i = 0; i < m->npieces; i++)
		m->in[i] = m->truth[i] = false;
	m->have = 0;
	m->alone_set = false;
	m->alone_mode = !one;
	m->has_culprit = one;
	m->culprit = first;
	if (one && m->p[first].tracked)
		m->p[first].bad = true;
	m_rechoose(m);
	return METADATA_FAILED;
}

static enum metadata_result
do_data(struct metadata *md, struct model *m, uint32_t id, uint32_t piece,
    enum kind kind, int lensel, int totsel, uint8_t fill, uint64_t now)
{
	enum metadata_result	 res, want;
	uint32_t		 size = m->size != 0 ? m->size : dict_size;
	uint32_t		 total;
	uint64_t		 off;
	uint8_t			 h[SHA1_LEN];
	const uint8_t		*b;
	size_t			 len, i, exp;
	bool			 truth;

	exp = m->size != 0 && piece < m->npieces ? m_plen(m, piece) : P;
	switch (lensel) {
	case 3:
		len = exp > 0 ? exp - 1 : 0;
		break;
	case 4:
		len = exp + 1;
		break;
	case 5:
		len = P;
		break;
	default:
		len = exp;
		break;
	}
	switch (totsel) {
	case 2:
		total = size + 1;
		break;
	case 3:
		total = dict_size;
		break;
	default:
		total = size;
		break;
	}
	for (i = 0; i < len; i++) {
		off = (uint64_t)piece * P + i;
		data[i] = kind == K_GARBAGE ? fill :
		    off < dict_size ? dict[off] : 0;
	}
	if (kind == K_FLIP && len > 0)
		data[0] ^= 0x80;
	truth = m->size == dict_size && piece < m->npieces &&
	    (uint64_t)piece * P + len <= dict_size &&
	    memcmp(data, dict + (size_t)piece * P, len) == 0;
	res = metadata_on_data(md, id, piece, total, data, len, now);
	want = m_data(m, id, piece, total, len, truth);
	CHECK(res == want);
	if (res == METADATA_DONE) {
		/* Never DONE but for the bytes the info-hash names. */
		b = metadata_bytes(md, &len);
		CHECK(b != NULL);
		sha1(b, len, h);
		CHECK(memcmp(h, dict_hash, SHA1_LEN) == 0);
	}
	return res;
}

static void
do_reject(struct metadata *md, struct model *m, uint32_t id, uint32_t piece,
    uint64_t now)
{
	struct mpeer	*p = &m->p[id];
	int		 k;

	metadata_on_reject(md, id, piece, now);
	if (m->done || m->size == 0 || !p->tracked)
		return;
	if ((k = m_find_req(p, piece)) < 0)
		return;
	m_drop_req(p, k);
	p->rest = now + METADATA_REJECT_MS;
	m_unalone(m, id);
}

static void
do_tick(struct metadata *md, struct model *m, uint64_t now)
{
	struct mpeer	*p;
	size_t		 i;
	uint32_t	 j;
	int		 k;
	bool		 expired, silent = false;

	metadata_tick(md, now);
	m->last_tick = now;
	if (m->done)
		return;
	for (i = 0; i < NPEERS; i++) {
		p = &m->p[i];
		if (p->rest != 0 && p->rest <= now)
			p->rest = 0;
		expired = false;
		for (k = p->nreq - 1; k >= 0; k--)
			if (now - p->req[k].at >= METADATA_REQUEST_MS) {
				m_drop_req(p, k);
				expired = true;
			}
		if (expired)
			p->timeouts++;
	}
	/* Silent peers turn bad together, then one size choice. */
	for (i = 0; i < NPEERS; i++) {
		p = &m->p[i];
		if (!p->tracked || p->bad ||
		    p->timeouts < METADATA_MAX_TIMEOUTS)
			continue;
		p->bad = true;
		p->nreq = 0;
		for (j = 0; j < m->npieces; j++)
			if (m->in[j] && m->from[j] == i) {
				m->in[j] = false;
				m->have--;
			}
		m_unalone(m, (uint32_t)i);
		silent = true;
	}
	if (silent)
		m_rechoose(m);
}

static uint32_t
pick_piece(const struct model *m, uint32_t id, uint8_t sel)
{
	const struct mpeer	*p = &m->p[id];

	if (sel < 0xc0 && p->nreq > 0)
		return p->req[sel % p->nreq].piece;
	if (sel == 0xff)
		return UINT32_MAX;
	return sel & 0x3f;
}

static uint32_t
pick_size(uint8_t sel)
{
	const uint32_t	v[] = {
		dict_size, dict_size, dict_size, dict_size, dict_size,
		dict_size + 1, 50000, 0, METADATA_MAX_SIZE + 1, 1,
		UINT32_MAX,
	};

	if (sel == 0xff)	/* the cap: 16 MiB, slow, so seldom */
		return METADATA_MAX_SIZE;
	return v[sel % nitems(v)];
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct in		 in = { buf, buf + len };
	struct model		 m = { .size = 0 };
	struct metadata		*md;
	struct prng		 r;
	uint8_t			 liars, a, b;
	uint64_t		 now = NOW0;
	uint32_t		 id, piece, got[METADATA_PEER_QUEUE];
	size_t			 i, n, ops;

	dict_size = dict_sizes[get8(&in) % nitems(dict_sizes)];
	liars = get8(&in);
	if (!dict_made) {
		prng_seed(&r, 9);
		for (i = 0; i < sizeof(dict); i++)
			dict[i] = (uint8_t)prng_next(&r);
		dict_made = true;
	}
	sha1(dict, dict_size, dict_hash);
	md = metadata_new(dict_hash);
	check_state(md, &m);
	for (ops = 0; in.p < in.end && ops < MAX_OPS; ops++) {
		id = get8(&in) % NPEERS;
		switch (get8(&in) % NOPS) {
		case OP_ADD:
			do_add(md, &m, id, pick_size(get8(&in)));
			break;
		case OP_REMOVE:
			metadata_peer_remove(md, id);
			m_remove(&m, id);
			break;
		case OP_NEXT:
			do_next(md, &m, id, now, &piece);
			break;
		case OP_DATA:
			piece = pick_piece(&m, id, get8(&in));
			a = get8(&in);
			b = get8(&in);
			do_data(md, &m, id, piece, (enum kind)(a % NKINDS),
			    (a >> 4) % 6, b % 4, get8(&in), now);
			break;
		case OP_REJECT:
			piece = pick_piece(&m, id, get8(&in));
			do_reject(md, &m, id, piece, now);
			break;
		case OP_TICK:
			now += (uint64_t)get8(&in) * 100;
			do_tick(md, &m, now);
			break;
		case OP_JUMP:
			now += get8(&in) % 2 ? METADATA_REQUEST_MS :
			    ENDGAME_MS;
			break;
		case OP_SERVE:
			for (n = 0; n < nitems(got) &&
			    do_next(md, &m, id, now, &got[n]); n++)
				;
			for (i = 0; i < n; i++) {
				if (do_data(md, &m, id, got[i],
				    liars >> id & 1 ? K_GARBAGE : K_HONEST,
				    0, 0, (uint8_t)i, now) != METADATA_KEPT)
					break;
			}
			break;
		}
		check_state(md, &m);
	}
	metadata_free(md);
	m_free(&m);
	return 0;
}
