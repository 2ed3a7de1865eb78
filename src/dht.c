/* dht.c - a DHT node (BEP 5, 32, 33, 42, 43, 51): datagrams and a clock */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "crypto.h"
#include "dht-lookup.h"
#include "dht-store.h"
#include "dht-table.h"
#include "dht.h"
#include "krpc.h"
#include "log.h"
#include "util.h"

/*
 * How it runs.  Every query we send takes a slot of the pending array; its
 * transaction id is the slot number and a random cookie (4 bytes), so a
 * response is matched in O(1) and only when it comes from the address the
 * query went to.  Slots are chained in the order they were sent: all have
 * the same timeout, so expiry walks from the head.
 *
 * Lookups (dht-lookup) do the iterating: a search runs one get_peers
 * lookup per table, the upkeep runs find_node lookups (our own id after a
 * bootstrap, a random id of a stale bucket).  Tables only ever hear of
 * nodes that answered (dht_table_on_response) or queried us.
 *
 * A tick expires queries, steps lookups, pings what the tables ask to at
 * DHT_PING_RATE, refreshes stale buckets, bootstraps an empty table and
 * sweeps the store.
 */

#define FAM_V4		0
#define FAM_V6		1
#define TID_LEN		4
#define PENDING_FIRST	16	/* slots allocated at first, doubled after */
#define MAINT_MAX	2	/* find_node lookups per table */
#define WAIT_MS		1000	/* a search waits this long for a table of
				   K nodes before it starts with fewer */
#define POLL_MS		250	/* a waiting search looks again */
#define FLOOR_MS	100	/* upkeep runs at most this often */
#define BOOT_MIN_MS	5000	/* bootstrap retries back off from ... */
#define BOOT_MAX_MS	(5u * 60 * 1000)	/* ... to this */
#define VOTES		16	/* BEP 42 "ip" votes remembered */
#define VOTES_NEEDED	4	/* distinct voters to believe one */
#define REID_GAP_MS	(10u * 60 * 1000)	/* our id changes at most this
					   often (BEP 42) */
#define SOFT_MIN_MS	150	/* a lookup's soft timeout, at least */
#define SOFT_INIT_MS	1000	/* ... before any round trip is measured */
#define SAMPLE_INTERVAL	300	/* BEP 51 "interval" we give (s) */
#define SEEDED		16	/* table nodes a lookup starts from */
#define POOL		256	/* nodes that answered lately, per family:
				   lookups start from the closest of the
				   table and these (more to choose from than
				   the table's far buckets: fewer hops) */

enum qkind {
	Q_PING,		/* a table asked for it */
	Q_USER,		/* dht_ping */
	Q_BOOT,		/* find_node to a bootstrap node, id unknown */
	Q_FIND,		/* find_node of an upkeep lookup */
	Q_GET_PEERS,	/* a search's lookup */
	Q_ANNOUNCE,	/* announce_peer at a search's end */
};

struct pending {
	bool		 used;
	uint16_t	 cookie;
	enum qkind	 kind;
	uint8_t		 fam;		/* of the lookup (search, upkeep) */
	bool		 has_id;
	uint8_t		 id[20];	/* the node we asked, when known */
	struct netaddr	 to;
	uint64_t	 sent;
	int		 owner;		/* search or upkeep slot; -1 */
	uint32_t	 gen;		/* ... and its generation */
	int32_t		 prev, next;	/* send order (used), or free list */
};

struct run {
	struct dht_lookup	*l;		/* NULL: not running */
	bool			 waiting;	/* for nodes in the table */
	uint64_t		 asked;		/* the run was wanted at */
	uint64_t		 start;
	uint64_t		 next;		/* repeats at (UINT64_MAX: no) */
	struct dht_search_result res;
	bool			 scraped;
	uint8_t			 bfsd[KRPC_BLOOM_LEN];
	uint8_t			 bfpe[KRPC_BLOOM_LEN];
};

struct search {
	uint8_t			ih[20];
	uint32_t		gen;
	struct dht_search_opts	o;
	struct run		run[2];
};

struct upkeep {
	struct dht_lookup	*l;
	uint32_t		 gen;
	uint8_t			 target[20];
	bool			 self;	/* target is our own id */
};

struct known {
	uint8_t		id[20];
	struct netaddr	a;
};

struct vote {
	struct netaddr	ip;		/* what the voter saw (port 0) */
	struct netaddr	voter;
};

struct dht {
	struct dht_opts		 o;
	struct dht_hooks	 h;
	uint8_t			 id[20];
	bool			 id_fixed;	/* opts.id or a loaded id: */
	bool			 loaded_id;	/* ... the latter may change */
	struct dht_table	*tab[2];
	struct dht_store	*store;
	struct prng		 rng;

	struct pending		*p;
	int32_t			 np;		/* slots allocated */
	int32_t			 head, tail;	/* send order */
	int32_t			 freel;
	size_t			 inflight;

	struct search		*s[DHT_MAX_SEARCHES];	/* NULL: free */
	size_t			 ns;		/* not NULL */
	uint32_t		 gens;
	struct upkeep		 up[2][MAINT_MAX];
	struct known		*pool[2];	/* POOL each, on first use */
	size_t			 npool[2], pool_at[2];
	bool			 looked_self[2];

	struct netaddr		 boot[DHT_BOOTSTRAP_MAX];
	size_t			 nboot;
	uint64_t		 boot_next[2];
	bool			 boot_due[2];	/* the table is small */
	uint32_t		 boot_gap[2];

	double			 ping_tokens;
	uint64_t		 ping_at;	/* tokens counted up to */
	uint64_t		 last_tick;

	uint32_t		 srtt, rttvar;	/* ms; srtt 0: none yet */

	struct vote		 votes[VOTES];
	size_t			 nvotes, vote_at;
	bool			 has_external;
	struct netaddr		 external;
	uint64_t		 reid_at;

	struct dht_stats	 st;		/* counters */
};

static void	pump_search(struct dht *, size_t, int, uint64_t);
static void	pump_upkeep(struct dht *, int, int, uint64_t);
static void	run_wake(struct dht *, size_t, int, uint64_t);

static int
fam_of(const struct netaddr *a)
{
	return a->family == ADDR_V4 ? FAM_V4 : FAM_V6;
}

static uint8_t
fam_family(int fam)
{
	return fam == FAM_V4 ? ADDR_V4 : ADDR_V6;
}

static bool
is_us(const struct dht *d, const uint8_t *id)
{
	return memcmp(d->id, id, 20) == 0;
}

/* ---- the node ------------------------------------------------------------ */

static struct dht_table *
table_make(struct dht *d, int fam, uint64_t now)
{
	struct dht_table_opts	o = {
		.family = fam_family(fam),
		.seed = prng_next(&d->rng),
		.subnet_max = d->o.subnet_max,
	};

	memcpy(o.id, d->id, 20);
	return dht_table_new(&o, now);
}

struct dht *
dht_new(const struct dht_opts *o, const struct dht_hooks *h, uint64_t now)
{
	struct dht		*d = xcalloc(1, sizeof(*d));
	struct dht_store_opts	 so = {
		.rate = o->rate, .rate_slots = o->rate_slots,
		.deterministic = o->deterministic,
	};
	int			 fam;

	d->o = *o;
	d->o.id = NULL;
	d->h = *h;
	prng_seed(&d->rng, o->seed);
	if (o->id != NULL) {
		memcpy(d->id, o->id, 20);
		d->id_fixed = true;
	} else if (o->deterministic) {
		dht_table_make_id(NULL, (uint8_t)prng_next(&d->rng), d->id,
		    &d->rng);
	} else
		rand_bytes(d->id, sizeof(d->id));
	for (fam = 0; fam < 2; fam++)
		if (fam == FAM_V4 ? o->v4 : o->v6)
			d->tab[fam] = table_make(d, fam, now);
	d->store = dht_store_new(&so, prng_next(&d->rng));
	d->head = d->tail = d->freel = -1;
	d->ping_at = now;
	d->last_tick = now;
	d->boot_gap[0] = d->boot_gap[1] = BOOT_MIN_MS;
	return d;
}

static void
run_clear(struct run *r)
{
	dht_lookup_free(r->l);
	r->l = NULL;
}

static void
search_free(struct search *s)
{
	if (s == NULL)
		return;
	run_clear(&s->run[0]);
	run_clear(&s->run[1]);
	free(s);
}

void
dht_free(struct dht *d)
{
	size_t	i, j;

	if (d == NULL)
		return;
	for (i = 0; i < DHT_MAX_SEARCHES; i++)
		search_free(d->s[i]);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < MAINT_MAX; j++)
			dht_lookup_free(d->up[i][j].l);
		dht_table_free(d->tab[i]);
	}
	dht_store_free(d->store);
	free(d->pool[0]);
	free(d->pool[1]);
	free(d->p);
	free(d);
}

const uint8_t *
dht_id(const struct dht *d)
{
	return d->id;
}

/* A new id: the tables are made again, their nodes kept. */
static void
set_id(struct dht *d, const uint8_t id[20], uint64_t now)
{
	struct dht_table_node	*v;
	struct dht_table	*t;
	size_t			 n;
	int			 fam;

	memcpy(d->id, id, 20);
	v = xcalloc(DHT_TABLE_MAX_NODES, sizeof(*v));
	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL)
			continue;
		n = dht_table_export(d->tab[fam], now, v, DHT_TABLE_MAX_NODES);
		t = table_make(d, fam, now);
		dht_table_import(t, v, n, now);
		dht_table_free(d->tab[fam]);
		d->tab[fam] = t;
		d->looked_self[fam] = false;
	}
	free(v);
}

/* ---- sending ------------------------------------------------------------- */

static void
send_buf(struct dht *d, const struct netaddr *to, const struct buf *b)
{
	d->st.sent++;
	d->st.bytes_out += b->len;
	d->h.send(d->h.arg, to, b->data, b->len);
}

static void
pending_unlink(struct dht *d, int32_t i)
{
	struct pending	*p = &d->p[i];

	if (p->prev >= 0)
		d->p[p->prev].next = p->next;
	else
		d->head = p->next;
	if (p->next >= 0)
		d->p[p->next].prev = p->prev;
	else
		d->tail = p->prev;
	p->used = false;
	p->next = d->freel;
	d->freel = i;
	d->inflight--;
}

/* A free slot, linked last in send order; -1 when DHT_MAX_PENDING fly. */
static int32_t
pending_new(struct dht *d, uint64_t now)
{
	struct pending	*p;
	int32_t		 i, n;

	if (d->freel < 0) {
		if (d->np >= DHT_MAX_PENDING)
			return -1;
		n = d->np == 0 ? PENDING_FIRST : MIN(2 * d->np,
		    DHT_MAX_PENDING);
		d->p = xreallocarray(d->p, (size_t)n, sizeof(*d->p));
		for (i = n - 1; i >= d->np; i--) {
			d->p[i].used = false;
			d->p[i].next = d->freel;
			d->freel = i;
		}
		d->np = n;
	}
	i = d->freel;
	p = &d->p[i];
	d->freel = p->next;
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->cookie = (uint16_t)prng_next(&d->rng);
	p->sent = now;
	p->owner = -1;
	p->next = -1;
	p->prev = d->tail;
	if (d->tail >= 0)
		d->p[d->tail].next = i;
	else
		d->head = i;
	d->tail = i;
	d->inflight++;
	return i;
}

/*
 * Sends query m (method and arguments set) to a; kind, id (NULL when not
 * known), owner and fam say what the answer is for.  Returns the slot, or
 * -1 when nothing was sent.
 */
static int32_t
send_query(struct dht *d, struct krpc_msg *m, enum qkind kind,
    const struct netaddr *a, const uint8_t *id, int owner, uint32_t gen,
    int fam, uint64_t now)
{
	struct pending	*p;
	struct buf	 b;
	int32_t		 i;

	if (!addr_is_dialable(a) || d->tab[fam_of(a)] == NULL)
		return -1;
	if ((i = pending_new(d, now)) < 0)
		return -1;
	p = &d->p[i];
	p->kind = kind;
	p->to = *a;
	p->owner = owner;
	p->gen = gen;
	p->fam = (uint8_t)fam;
	if (id != NULL) {
		p->has_id = true;
		memcpy(p->id, id, 20);
	}
	m->kind = KRPC_QUERY;
	store_be16(m->tid, (uint16_t)i);
	store_be16(m->tid + 2, p->cookie);
	m->tidlen = TID_LEN;
	memcpy(m->id, d->id, 20);
	m->ro = d->o.read_only;
	memcpy(m->version, KRPC_VERSION, KRPC_VERSION_LEN);
	m->versionlen = KRPC_VERSION_LEN;
	if (m->method == KRPC_FIND_NODE || m->method == KRPC_GET_PEERS) {
		/* BEP 32: learn nodes of both families when we have both */
		if (d->tab[FAM_V4] != NULL && d->tab[FAM_V6] != NULL) {
			m->want_n4 = true;
			m->want_n6 = true;
		}
	}
	buf_init(&b, KRPC_MAX_OUT);
	if (krpc_put_query(&b, m) != GT_OK) {
		buf_clear(&b);
		pending_unlink(d, i);
		return -1;
	}
	send_buf(d, a, &b);
	buf_clear(&b);
	return i;
}

static int32_t
send_simple(struct dht *d, enum krpc_method method, const uint8_t *target,
    enum qkind kind, const struct netaddr *a, const uint8_t *id, int owner,
    uint32_t gen, int fam, uint64_t now)
{
	struct krpc_msg	m;

	memset(&m, 0, sizeof(m));
	m.method = method;
	if (target != NULL) {
		m.has_target = true;
		memcpy(m.target, target, 20);
	}
	return send_query(d, &m, kind, a, id, owner, gen, fam, now);
}

/* ---- answering queries --------------------------------------------------- */

/* The nodes closest to target of the families asked for, into r. */
static void
put_nodes(struct dht *d, struct krpc_msg *r, const uint8_t *target,
    bool n4, bool n6, uint64_t now)
{
	struct dht_table_node	v[KRPC_MAX_NODES];
	size_t			i, n;
	int			fam;

	for (fam = 0; fam < 2; fam++) {
		if (!(fam == FAM_V4 ? n4 : n6) || d->tab[fam] == NULL)
			continue;
		n = dht_table_closest(d->tab[fam], target, now, v,
		    DHT_TABLE_K);
		for (i = 0; i < n && r->nnodes < nitems(r->nodes); i++) {
			memcpy(r->nodes[r->nnodes].id, v[i].id, 20);
			r->nodes[r->nnodes].a = v[i].a;
			r->nnodes++;
		}
	}
}

/*
 * Encodes r within max bytes, trimming nodes (the last first: v6 after
 * v4, farther after closer), then values (what a get_peers wants most),
 * then samples, then the bloom filters.
 */
static bool
put_trimmed(struct krpc_msg *r, struct buf *b)
{
	for (;;) {
		if (krpc_put_response(b, r) == GT_OK)
			return true;
		if (r->nnodes > 0)
			r->nnodes--;
		else if (r->nvalues > 0)
			r->nvalues /= 2;
		else if (r->nsamples > 0)
			r->nsamples /= 2;
		else if (r->bf_seeds != NULL || r->bf_peers != NULL)
			r->bf_seeds = r->bf_peers = NULL;
		else
			return false;
	}
}

static void
reply_error(struct dht *d, const struct krpc_msg *m, const struct netaddr *to,
    size_t max, int code, const char *why)
{
	struct buf	b;

	buf_init(&b, max);
	if (krpc_put_error(&b, m->tid, m->tidlen, code, why) == GT_OK)
		send_buf(d, to, &b);
	buf_clear(&b);
}

static void
on_query(struct dht *d, const struct krpc_msg *m, bool bad,
    const struct netaddr *from, size_t len, uint64_t now)
{
	struct dht_table	*t = d->tab[fam_of(from)];
	struct krpc_msg		*r;
	struct netaddr		 peer;
	struct buf		 b;
	uint8_t			 bfsd[KRPC_BLOOM_LEN], bfpe[KRPC_BLOOM_LEN];
	uint8_t			 (*samples)[20] = NULL;
	size_t			 max;
	bool			 n4, n6;

	if (d->o.read_only)
		return;		/* BEP 43: ask, never answer */
	if (!dht_store_rate_ok(d->store, from, now)) {
		d->st.limited++;
		return;
	}
	/* No reflection: to an address never verified, little more than
	   it sent. */
	max = KRPC_MAX_OUT;
	if (!dht_table_verified(t, from))
		max = MIN(max, DHT_AMPLIFY * len);
	if (bad) {
		reply_error(d, m, from, max, KRPC_ERR_PROTOCOL, m->bad);
		return;
	}
	if (is_us(d, m->id)) {
		d->st.dropped++;	/* ourselves, or a forgery */
		return;
	}
	if (!m->ro)
		dht_table_on_query(t, m->id, from, now);
	if (m->method == KRPC_UNKNOWN_METHOD) {
		reply_error(d, m, from, max, KRPC_ERR_METHOD,
		    "method unknown");
		return;
	}
	if (m->method == KRPC_ANNOUNCE_PEER) {
		if (!dht_store_token_ok(d->store, from, m->token, m->tokenlen,
		    now)) {
			reply_error(d, m, from, max, KRPC_ERR_PROTOCOL,
			    "bad token");
			return;
		}
		peer = *from;
		if (!m->implied_port)
			peer.port = m->port;
		(void)dht_store_announce(d->store, m->target, &peer, m->seed,
		    now);
	}

	r = xcalloc(1, sizeof(*r));
	r->kind = KRPC_RESPONSE;
	memcpy(r->tid, m->tid, m->tidlen);
	r->tidlen = m->tidlen;
	memcpy(r->id, d->id, 20);
	memcpy(r->version, KRPC_VERSION, KRPC_VERSION_LEN);
	r->versionlen = KRPC_VERSION_LEN;
	r->has_ip = true;		/* BEP 42: how we see them */
	r->ip = *from;
	n4 = m->want_n4 || (!m->want_n6 && from->family == ADDR_V4);
	n6 = m->want_n6 || (!m->want_n4 && from->family == ADDR_V6);
	switch (m->method) {
	case KRPC_FIND_NODE:
		put_nodes(d, r, m->target, n4, n6, now);
		break;
	case KRPC_GET_PEERS:
		dht_store_token(d->store, from, now, r->token);
		r->tokenlen = DHT_STORE_TOKEN_LEN;
		r->nvalues = dht_store_get_filter(d->store, m->target,
		    from->family, m->noseed, now, r->values,
		    KRPC_MAX_VALUES, &d->rng);
		put_nodes(d, r, m->target, n4, n6, now);
		if (m->scrape && dht_store_scrape(d->store, m->target, now,
		    bfsd, bfpe)) {
			r->bf_seeds = bfsd;
			r->bf_peers = bfpe;
		}
		break;
	case KRPC_SAMPLE_INFOHASHES:
		samples = xcalloc(KRPC_MAX_SAMPLES, 20);
		r->sampled = true;
		r->interval = SAMPLE_INTERVAL;
		r->num = (uint32_t)dht_store_nhashes(d->store);
		r->nsamples = dht_store_samples(d->store, samples,
		    KRPC_MAX_SAMPLES, &d->rng);
		r->samples = samples[0];
		put_nodes(d, r, m->target, n4, n6, now);
		break;
	default:
		break;
	}
	buf_init(&b, max);
	if (put_trimmed(r, &b))
		send_buf(d, from, &b);
	buf_clear(&b);
	free(samples);
	free(r);
}

/* ---- answers to our queries ---------------------------------------------- */

static void
rtt_sample(struct dht *d, uint64_t sent, uint64_t now)
{
	uint32_t	rtt = (uint32_t)MIN(now - sent, DHT_QUERY_MS);
	uint32_t	dev;

	if (d->srtt == 0) {
		d->srtt = MAX(rtt, 1);
		d->rttvar = rtt / 2;
		return;
	}
	dev = rtt > d->srtt ? rtt - d->srtt : d->srtt - rtt;
	d->rttvar = (3 * d->rttvar + dev) / 4;
	d->srtt = MAX((7 * d->srtt + rtt) / 8, 1);
}

/* How long a lookup waits for an answer before it asks another node. */
static uint32_t
soft_ms(const struct dht *d)
{
	if (d->srtt == 0)
		return SOFT_INIT_MS;
	return MIN(MAX(d->srtt + 4 * d->rttvar, SOFT_MIN_MS), DHT_QUERY_MS);
}

/* BEP 42: believe our address when VOTES_NEEDED voters agree. */
static void
vote(struct dht *d, const struct netaddr *ip, const struct netaddr *voter,
    uint64_t now)
{
	struct netaddr	a = *ip;
	uint8_t		id[20];
	size_t		i, n = 0;

	addr_unmap(&a);
	a.port = 0;
	for (i = 0; i < d->nvotes; i++)
		if (addr_ip_eq(&d->votes[i].voter, voter)) {
			d->votes[i].ip = a;	/* a voter's latest word */
			goto count;
		}
	d->votes[d->vote_at] = (struct vote){ .ip = a, .voter = *voter };
	d->vote_at = (d->vote_at + 1) % VOTES;
	d->nvotes = MIN(d->nvotes + 1, VOTES);
count:
	for (i = 0; i < d->nvotes; i++)
		n += addr_ip_eq(&d->votes[i].ip, &a);
	if (n < VOTES_NEEDED || (d->has_external &&
	    addr_ip_eq(&d->external, &a)))
		return;
	d->has_external = true;
	d->external = a;
	if (d->id_fixed && !d->loaded_id)
		return;
	if (dht_table_id_valid(d->id, &a))
		return;
	if (d->reid_at != 0 && now < d->reid_at + REID_GAP_MS)
		return;
	d->reid_at = now;
	dht_table_make_id(&a, (uint8_t)prng_next(&d->rng), id, &d->rng);
	log_debug("dht: our address is known; a new id for it (BEP 42)");
	set_id(d, id, now);
	d->loaded_id = false;
}

/* The nodes a response named, into lookup l (of fam). */
static void
feed_nodes(struct dht *d, struct dht_lookup *l, const struct krpc_msg *m,
    int fam)
{
	size_t	i;

	for (i = 0; i < m->nnodes; i++)
		if (fam_of(&m->nodes[i].a) == fam &&
		    !is_us(d, m->nodes[i].id))
			dht_lookup_add(l, m->nodes[i].id, &m->nodes[i].a);
}

/* A node answered one of our queries: remember it for later lookups. */
static void
pool_add(struct dht *d, const uint8_t id[20], const struct netaddr *a)
{
	struct known	*k;
	int		 fam = fam_of(a);
	size_t		 i;

	if (d->pool[fam] == NULL)
		d->pool[fam] = xcalloc(POOL, sizeof(*d->pool[fam]));
	k = d->pool[fam];
	for (i = 0; i < d->npool[fam]; i++)
		if (addr_eq(&k[i].a, a)) {
			memcpy(k[i].id, id, 20);
			return;
		}
	memcpy(k[d->pool_at[fam]].id, id, 20);
	k[d->pool_at[fam]].a = *a;
	d->pool_at[fam] = (d->pool_at[fam] + 1) % POOL;
	d->npool[fam] = MIN(d->npool[fam] + 1, POOL);
}

/* A node stopped answering: out of the pool. */
static void
pool_drop(struct dht *d, const struct netaddr *a)
{
	struct known	*k = d->pool[fam_of(a)];
	size_t		 i;

	for (i = 0; k != NULL && i < d->npool[fam_of(a)]; i++)
		if (addr_eq(&k[i].a, a))
			memset(&k[i], 0, sizeof(k[i]));	/* undialable */
}

/* Candidates for a new lookup of target: from the table and the pool. */
static void
seed_lookup(struct dht *d, struct dht_lookup *l, int fam,
    const uint8_t target[20], uint64_t now)
{
	struct dht_table_node	 v[SEEDED];
	struct known		*k = d->pool[fam];
	size_t			 i, n;

	n = dht_table_closest(d->tab[fam], target, now, v, nitems(v));
	for (i = 0; i < n; i++)
		dht_lookup_add(l, v[i].id, &v[i].a);
	for (i = 0; k != NULL && i < d->npool[fam]; i++)
		if (k[i].a.family != 0 && !is_us(d, k[i].id))
			dht_lookup_add(l, k[i].id, &k[i].a);
}

static struct upkeep *
upkeep_start(struct dht *d, int fam, const uint8_t target[20], uint64_t now)
{
	struct upkeep		*u;
	int			 j;

	for (j = 0; j < MAINT_MAX; j++)
		if (d->up[fam][j].l == NULL)
			break;
	if (j == MAINT_MAX)
		return NULL;
	u = &d->up[fam][j];
	u->l = dht_lookup_new(target, soft_ms(d), DHT_QUERY_MS);
	u->gen = ++d->gens;
	memcpy(u->target, target, 20);
	u->self = is_us(d, target);
	if (u->self)
		d->looked_self[fam] = true;
	seed_lookup(d, u->l, fam, target, now);
	return u;
}

/* A find_node to a bootstrap node answered: look for our id from there. */
static void
on_boot(struct dht *d, const struct krpc_msg *m, uint64_t now)
{
	struct upkeep	*u;
	int		 fam, j;

	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL)
			continue;
		u = NULL;
		for (j = 0; j < MAINT_MAX; j++)
			if (d->up[fam][j].l != NULL && d->up[fam][j].self)
				u = &d->up[fam][j];
		if (u == NULL &&
		    (u = upkeep_start(d, fam, d->id, now)) == NULL)
			continue;
		feed_nodes(d, u->l, m, fam);
		pump_upkeep(d, fam, (int)(u - d->up[fam]), now);
	}
}

static void
on_values(struct dht *d, struct search *s, struct run *r,
    const struct krpc_msg *m, uint64_t now)
{
	struct netaddr	v[KRPC_MAX_VALUES];
	size_t		i, n = 0;

	for (i = 0; i < m->nvalues; i++)
		if (addr_is_dialable(&m->values[i]))
			v[n++] = m->values[i];
	if (n == 0)
		return;
	if (r->res.first_peer_ms == 0)
		r->res.first_peer_ms = (uint32_t)MAX(now - r->start, 1);
	r->res.peers += (uint32_t)n;
	if (d->h.peers != NULL)
		d->h.peers(d->h.arg, s->ih, v, n);
}

/* The search si if it is still the one of generation gen. */
static struct search *
search_at(struct dht *d, size_t si, uint32_t gen)
{
	if (si >= DHT_MAX_SEARCHES || d->s[si] == NULL ||
	    d->s[si]->gen != gen)
		return NULL;
	return d->s[si];
}

static struct search *
search_of(struct dht *d, const struct pending *p, size_t *idx)
{
	if (p->owner < 0)
		return NULL;
	*idx = (size_t)p->owner;
	return search_at(d, (size_t)p->owner, p->gen);
}

static struct upkeep *
upkeep_of(struct dht *d, const struct pending *p)
{
	struct upkeep	*u;

	if (p->owner < 0 || p->owner >= MAINT_MAX)
		return NULL;
	u = &d->up[p->fam][p->owner];
	return u->l != NULL && u->gen == p->gen ? u : NULL;
}

/* The table of fam grew: searches waiting for nodes may start now. */
static void
wake_waiting(struct dht *d, int fam, uint64_t now)
{
	size_t	si;

	for (si = 0; si < DHT_MAX_SEARCHES; si++)
		if (d->s[si] != NULL && d->s[si]->run[fam].waiting)
			run_wake(d, si, fam, now);
}

static void
on_reply(struct dht *d, const struct krpc_msg *m, const struct netaddr *from,
    uint64_t now)
{
	struct pending	 p;
	struct search	*s;
	struct upkeep	*u;
	struct run	*r;
	size_t		 si, i;
	int32_t		 slot;

	if (m->tidlen != TID_LEN ||
	    (slot = load_be16(m->tid)) >= d->np || !d->p[slot].used ||
	    d->p[slot].cookie != load_be16(m->tid + 2) ||
	    !addr_eq(&d->p[slot].to, from)) {
		d->st.dropped++;	/* unsolicited */
		return;
	}
	p = d->p[slot];
	pending_unlink(d, slot);
	if (m->kind == KRPC_ERROR) {
		/* Alive, but no use: a lookup goes on without it. */
		if (p.kind == Q_GET_PEERS && (s = search_of(d, &p, &si)) !=
		    NULL && s->run[p.fam].l != NULL) {
			dht_lookup_failed(s->run[p.fam].l, from);
			pump_search(d, si, p.fam, now);
		} else if (p.kind == Q_FIND && (u = upkeep_of(d, &p)) !=
		    NULL) {
			dht_lookup_failed(u->l, from);
			pump_upkeep(d, p.fam, p.owner, now);
		} else if (p.kind == Q_USER && d->h.pong != NULL)
			d->h.pong(d->h.arg, from, NULL, NULL, 0,
			    (uint32_t)(now - p.sent));
		return;
	}
	if (is_us(d, m->id)) {
		d->st.dropped++;
		return;
	}
	rtt_sample(d, p.sent, now);
	if (m->has_ip)
		vote(d, &m->ip, from, now);
	dht_table_on_response(d->tab[fam_of(from)], m->id, from, now);
	pool_add(d, m->id, from);
	switch (p.kind) {
	case Q_PING:
		break;
	case Q_USER:
		if (d->h.pong != NULL)
			d->h.pong(d->h.arg, from, m->id, m->version,
			    m->versionlen, (uint32_t)(now - p.sent));
		break;
	case Q_BOOT:
		on_boot(d, m, now);
		break;
	case Q_FIND:
		if ((u = upkeep_of(d, &p)) == NULL)
			break;
		dht_lookup_answered(u->l, from, m->id, NULL, 0, now);
		feed_nodes(d, u->l, m, p.fam);
		pump_upkeep(d, p.fam, p.owner, now);
		break;
	case Q_GET_PEERS:
		if ((s = search_of(d, &p, &si)) == NULL ||
		    (r = &s->run[p.fam])->l == NULL)
			break;
		dht_lookup_answered(r->l, from, m->id, m->token, m->tokenlen,
		    now);
		feed_nodes(d, r->l, m, p.fam);
		if (m->bf_seeds != NULL && m->bf_peers != NULL) {
			r->scraped = true;
			for (i = 0; i < KRPC_BLOOM_LEN; i++) {
				r->bfsd[i] |= m->bf_seeds[i];
				r->bfpe[i] |= m->bf_peers[i];
			}
		}
		on_values(d, s, r, m, now);
		/* the hook may have stopped the search */
		if ((s = search_of(d, &p, &si)) != NULL)
			pump_search(d, si, p.fam, now);
		break;
	case Q_ANNOUNCE:
		break;
	}
	if (p.kind != Q_GET_PEERS && p.kind != Q_ANNOUNCE)
		wake_waiting(d, fam_of(from), now);
}

void
dht_on_datagram(struct dht *d, const uint8_t *pkt, size_t len,
    const struct netaddr *in, uint64_t now)
{
	struct krpc_msg	*m;
	struct netaddr	 from = *in;
	enum gt_err	 e;

	addr_unmap(&from);
	d->st.received++;
	d->st.bytes_in += len;
	if (!addr_is_dialable(&from) || d->tab[fam_of(&from)] == NULL) {
		d->st.dropped++;
		return;
	}
	m = xmalloc(sizeof(*m));
	e = krpc_decode(pkt, len, m);
	if (e != GT_OK && e != GT_EINVAL)
		d->st.dropped++;
	else if (m->kind == KRPC_QUERY)
		on_query(d, m, e == GT_EINVAL, &from, len, now);
	else
		on_reply(d, m, &from, now);
	free(m);
}

/* ---- lookups ------------------------------------------------------------- */

static void
search_report(struct dht *d, struct search *s, struct run *r, int fam,
    uint64_t now)
{
	struct dht_lookup_stats	ls;

	dht_lookup_stats(r->l, &ls);
	r->res.family = fam_family(fam);
	r->res.elapsed_ms = (uint32_t)(now - r->start);
	r->res.sent = ls.sent;
	r->res.answered = ls.answered;
	r->res.seeds = r->res.leechers = -1;
	if (r->scraped) {
		r->res.seeds = dht_store_bloom_count(r->bfsd);
		r->res.leechers = dht_store_bloom_count(r->bfpe);
	}
	if (d->h.search_done != NULL)
		d->h.search_done(d->h.arg, s->ih, &r->res);
}

/*
 * announce_peer to the 2 K closest nodes that answered with a token: twice
 * BEP 5's K, so that a lookup meets a holder sooner and churn leaves more
 * of them (the simulator at 10,000 nodes: first peer p50 131 -> 111 ms,
 * p99 1,566 -> 894 ms, for 8 more small queries every 15 minutes).
 */
static void
announce(struct dht *d, size_t si, int fam, uint64_t now)
{
	struct dht_lookup_node	 v[2 * DHT_LOOKUP_K];
	struct search		*s = d->s[si];
	struct run		*r = &s->run[fam];
	struct krpc_msg		 m;
	size_t			 i, n;

	n = dht_lookup_results(r->l, v, nitems(v));
	for (i = 0; i < n; i++) {
		if (v[i].token_len == 0 || v[i].token_len > KRPC_MAX_TOKEN)
			continue;
		memset(&m, 0, sizeof(m));
		m.method = KRPC_ANNOUNCE_PEER;
		m.has_target = true;
		memcpy(m.target, s->ih, 20);
		m.port = s->o.port;
		m.implied_port = s->o.port == 0;
		m.seed = s->o.seed;
		memcpy(m.token, v[i].token, v[i].token_len);
		m.tokenlen = v[i].token_len;
		if (send_query(d, &m, Q_ANNOUNCE, &v[i].a, v[i].id, (int)si,
		    s->gen, fam, now) >= 0)
			r->res.announced++;
	}
}

static bool
search_idle(const struct search *s)
{
	return s->run[0].l == NULL && !s->run[0].waiting &&
	    s->run[1].l == NULL && !s->run[1].waiting;
}

/* Its queries in flight are ignored when answered (generations). */
static void
search_remove(struct dht *d, size_t si)
{
	search_free(d->s[si]);
	d->s[si] = NULL;
	d->ns--;
}

static void
pump_search(struct dht *d, size_t si, int fam, uint64_t now)
{
	struct search		*s = d->s[si];
	struct run		*r = &s->run[fam];
	struct dht_lookup_node	 n;
	struct krpc_msg		 m;
	uint32_t		 gen;

	if (r->l == NULL)
		return;
	while (dht_lookup_next(r->l, now, &n)) {
		memset(&m, 0, sizeof(m));
		m.method = KRPC_GET_PEERS;
		m.has_target = true;
		memcpy(m.target, s->ih, 20);
		m.scrape = s->o.scrape;		/* BEP 33 */
		if (send_query(d, &m, Q_GET_PEERS, &n.a, n.id, (int)si,
		    s->gen, fam, now) < 0)
			dht_lookup_failed(r->l, &n.a);
	}
	if (!dht_lookup_done(r->l))
		return;
	if (s->o.announce && !d->o.read_only)
		announce(d, si, fam, now);
	gen = s->gen;
	search_report(d, s, r, fam, now);
	/* the hook may have stopped the search */
	if (search_at(d, si, gen) == NULL)
		return;
	run_clear(r);
	r->next = UINT64_MAX;
	if (s->o.repeat)
		r->next = now + (r->res.peers == 0 && !s->o.seed ?
		    DHT_RETRY_MS : DHT_REPEAT_MS);
	if (!s->o.repeat && search_idle(s))
		search_remove(d, si);
}

static void
run_start(struct dht *d, size_t si, int fam, uint64_t now)
{
	struct search		*s = d->s[si];
	struct run		*r = &s->run[fam];

	r->waiting = false;
	r->next = UINT64_MAX;
	memset(&r->res, 0, sizeof(r->res));
	r->scraped = false;
	memset(r->bfsd, 0, sizeof(r->bfsd));
	memset(r->bfpe, 0, sizeof(r->bfpe));
	r->start = now;
	r->l = dht_lookup_new(s->ih, soft_ms(d), DHT_QUERY_MS);
	seed_lookup(d, r->l, fam, s->ih, now);
	pump_search(d, si, fam, now);
}

/* A run waiting for nodes starts when its table has enough. */
static void
run_wake(struct dht *d, size_t si, int fam, uint64_t now)
{
	struct run	*r = &d->s[si]->run[fam];
	size_t		 n;

	if (r->waiting) {
		n = dht_table_count(d->tab[fam], now, NULL, NULL);
		if (n >= DHT_LOOKUP_K || (n > 0 && now >= r->asked + WAIT_MS))
			run_start(d, si, fam, now);
	} else if (r->l == NULL && now >= r->next) {
		r->waiting = true;
		r->asked = now;
		run_wake(d, si, fam, now);
	}
}

static void
pump_upkeep(struct dht *d, int fam, int j, uint64_t now)
{
	struct upkeep		*u = &d->up[fam][j];
	struct dht_lookup_node	 n;

	if (u->l == NULL)
		return;
	while (dht_lookup_next(u->l, now, &n))
		if (send_simple(d, KRPC_FIND_NODE, u->target, Q_FIND, &n.a,
		    n.id, j, u->gen, fam, now) < 0)
			dht_lookup_failed(u->l, &n.a);
	if (dht_lookup_done(u->l)) {
		dht_lookup_free(u->l);
		u->l = NULL;
	}
}

/* ---- what to do ---------------------------------------------------------- */

static void
send_boot(struct dht *d, const struct netaddr *a, uint64_t now)
{
	(void)send_simple(d, KRPC_FIND_NODE, d->id, Q_BOOT, a, NULL, -1, 0,
	    fam_of(a), now);
}

void
dht_bootstrap(struct dht *d, const struct netaddr *in, uint64_t now)
{
	struct netaddr	a = *in;
	size_t		i;

	addr_unmap(&a);
	if (!addr_is_dialable(&a) || d->tab[fam_of(&a)] == NULL)
		return;
	for (i = 0; i < d->nboot; i++)
		if (addr_eq(&d->boot[i], &a))
			break;
	if (i == d->nboot && d->nboot < DHT_BOOTSTRAP_MAX)
		d->boot[d->nboot++] = a;
	send_boot(d, &a, now);
	d->boot_next[fam_of(&a)] = now + d->boot_gap[fam_of(&a)];
	d->boot_due[fam_of(&a)] = true;
}

bool
dht_ping(struct dht *d, const struct netaddr *in, uint64_t now)
{
	struct netaddr	a = *in;

	addr_unmap(&a);
	return send_simple(d, KRPC_PING, NULL, Q_USER, &a, NULL, -1, 0,
	    fam_of(&a), now) >= 0;
}

static size_t
search_find(const struct dht *d, const uint8_t ih[20])
{
	size_t	i;

	for (i = 0; i < DHT_MAX_SEARCHES; i++)
		if (d->s[i] != NULL && memcmp(d->s[i]->ih, ih, 20) == 0)
			return i;
	return SIZE_MAX;
}

enum gt_err
dht_search(struct dht *d, const uint8_t ih[20],
    const struct dht_search_opts *o, uint64_t now)
{
	struct search	*s;
	size_t		 si;
	uint32_t	 gen;
	int		 fam;

	if (o->announce && d->o.read_only)
		return GT_EINVAL;
	if ((si = search_find(d, ih)) != SIZE_MAX) {
		s = d->s[si];
		s->o = *o;
	} else {
		for (si = 0; si < DHT_MAX_SEARCHES; si++)
			if (d->s[si] == NULL)
				break;
		if (si == DHT_MAX_SEARCHES)
			return GT_ERANGE;
		s = xcalloc(1, sizeof(*s));
		memcpy(s->ih, ih, 20);
		s->o = *o;
		s->gen = ++d->gens;
		s->run[0].next = s->run[1].next = UINT64_MAX;
		d->s[si] = s;
		d->ns++;
	}
	gen = s->gen;
	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL || s->run[fam].l != NULL ||
		    s->run[fam].waiting)
			continue;
		s->run[fam].next = now;
		run_wake(d, si, fam, now);
		if (search_at(d, si, gen) == NULL)
			break;	/* done at once, and removed */
	}
	return GT_OK;
}

void
dht_search_stop(struct dht *d, const uint8_t ih[20])
{
	size_t	si;

	if ((si = search_find(d, ih)) != SIZE_MAX)
		search_remove(d, si);
}

/* ---- time ---------------------------------------------------------------- */

/* The query in slot i failed (no answer in time, or ICMP). */
static void
fail_pending(struct dht *d, int32_t i, uint64_t now)
{
	struct pending	 p = d->p[i];
	struct search	*s;
	struct upkeep	*u;
	size_t		 si;

	pending_unlink(d, i);
	pool_drop(d, &p.to);
	if (p.has_id)
		dht_table_on_timeout(d->tab[fam_of(&p.to)], p.id, &p.to, now);
	switch (p.kind) {
	case Q_USER:
		if (d->h.pong != NULL)
			d->h.pong(d->h.arg, &p.to, NULL, NULL, 0,
			    (uint32_t)MIN(now - p.sent, DHT_QUERY_MS));
		break;
	case Q_FIND:
		if ((u = upkeep_of(d, &p)) != NULL) {
			dht_lookup_failed(u->l, &p.to);
			pump_upkeep(d, p.fam, p.owner, now);
		}
		break;
	case Q_GET_PEERS:
		if ((s = search_of(d, &p, &si)) != NULL &&
		    s->run[p.fam].l != NULL) {
			dht_lookup_failed(s->run[p.fam].l, &p.to);
			pump_search(d, si, p.fam, now);
		}
		break;
	default:
		break;
	}
}

static void
expire(struct dht *d, uint64_t now)
{
	int32_t	i;

	while ((i = d->head) >= 0 && now >= d->p[i].sent + DHT_QUERY_MS)
		fail_pending(d, i, now);
}

void
dht_on_unreachable(struct dht *d, const struct netaddr *in, uint64_t now)
{
	struct netaddr	to = *in;
	int32_t		i, next;

	addr_unmap(&to);
	for (i = d->head; i >= 0; i = next) {
		next = d->p[i].next;
		if (addr_eq(&d->p[i].to, &to)) {
			fail_pending(d, i, now);
			/* hooks and pumps may have sent (appended) or
			   failed others: start again from the head */
			next = d->head;
		}
	}
}

static void
upkeep(struct dht *d, int fam, uint64_t now)
{
	struct dht_table	*t = d->tab[fam];
	struct dht_table_node	 n;
	uint8_t			 target[20];
	size_t			 count, i;
	double			 add;

	count = dht_table_count(t, now, NULL, NULL);
	/* An empty or tiny table: ask the bootstrap nodes again. */
	d->boot_due[fam] = count < DHT_LOOKUP_K && d->nboot > 0;
	if (count < DHT_LOOKUP_K && now >= d->boot_next[fam]) {
		for (i = 0; i < d->nboot; i++)
			if (fam_of(&d->boot[i]) == fam)
				send_boot(d, &d->boot[i], now);
		d->boot_next[fam] = now + d->boot_gap[fam];
		d->boot_gap[fam] = MIN(2 * d->boot_gap[fam], BOOT_MAX_MS);
	} else if (count >= DHT_LOOKUP_K)
		d->boot_gap[fam] = BOOT_MIN_MS;
	/* Nodes known (loaded, or met) but never looked up from. */
	if (!d->looked_self[fam] && count > 0)
		(void)upkeep_start(d, fam, d->id, now);
	/* Pings, at DHT_PING_RATE across both tables. */
	if (now > d->ping_at) {
		add = (double)(now - d->ping_at) * DHT_PING_RATE / 1000;
		d->ping_tokens = MIN(d->ping_tokens + add, DHT_PING_RATE);
		d->ping_at = now;
	}
	while (d->ping_tokens >= 1 && d->inflight < DHT_MAX_PENDING / 2 &&
	    dht_table_next_ping(t, now, &n)) {
		d->ping_tokens -= 1;
		(void)send_simple(d, KRPC_PING, NULL, Q_PING, &n.a, n.id, -1, 0,
		    fam, now);
	}
	/* Stale buckets. */
	while (dht_table_next_refresh(t, now, target))
		if (upkeep_start(d, fam, target, now) == NULL)
			break;
	for (i = 0; i < MAINT_MAX; i++)
		pump_upkeep(d, fam, (int)i, now);
}

void
dht_tick(struct dht *d, uint64_t now)
{
	struct search	*s;
	size_t		 si;
	uint32_t	 gen;
	int		 fam, j;

	expire(d, now);
	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL)
			continue;
		for (j = 0; j < MAINT_MAX; j++)
			if (d->up[fam][j].l != NULL)
				dht_lookup_tick(d->up[fam][j].l, now);
		if (now >= d->last_tick + FLOOR_MS || now < d->last_tick)
			upkeep(d, fam, now);
		else
			for (j = 0; j < MAINT_MAX; j++)
				pump_upkeep(d, fam, j, now);
	}
	if (now >= d->last_tick + FLOOR_MS)
		d->last_tick = now;
	for (si = 0; si < DHT_MAX_SEARCHES; si++) {
		if ((s = d->s[si]) == NULL)
			continue;
		gen = s->gen;
		for (fam = 0; fam < 2; fam++) {
			if (d->tab[fam] == NULL)
				continue;
			if (s->run[fam].l != NULL) {
				dht_lookup_tick(s->run[fam].l, now);
				pump_search(d, si, fam, now);
			} else
				run_wake(d, si, fam, now);
			if (search_at(d, si, gen) == NULL)
				break;
		}
	}
	if (now >= dht_store_deadline(d->store))
		dht_store_expire(d->store, now);
}

uint64_t
dht_deadline(const struct dht *d)
{
	const struct search	*s;
	const struct run	*r;
	uint64_t		 t = UINT64_MAX, floor = d->last_tick + FLOOR_MS;
	size_t			 si;
	int			 fam, j;

	if (d->head >= 0)
		t = d->p[d->head].sent + DHT_QUERY_MS;
	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL)
			continue;
		t = MIN(t, MAX(dht_table_deadline(d->tab[fam]), floor));
		if (d->boot_due[fam])
			t = MIN(t, MAX(d->boot_next[fam], floor));
		for (j = 0; j < MAINT_MAX; j++)
			if (d->up[fam][j].l != NULL)
				t = MIN(t, dht_lookup_deadline(
				    d->up[fam][j].l));
		if (!d->looked_self[fam] && dht_table_count(d->tab[fam],
		    d->last_tick, NULL, NULL) > 0)
			t = MIN(t, floor);
		for (si = 0; si < DHT_MAX_SEARCHES; si++) {
			if ((s = d->s[si]) == NULL)
				continue;
			r = &s->run[fam];
			if (r->l != NULL)
				t = MIN(t, dht_lookup_deadline(r->l));
			else if (r->waiting)
				t = MIN(t, d->last_tick + POLL_MS);
			else
				t = MIN(t, r->next);
		}
	}
	return MIN(t, dht_store_deadline(d->store));
}

/* ---- state --------------------------------------------------------------- */

void
dht_stats(const struct dht *d, uint64_t now, struct dht_stats *st)
{
	size_t	fam;

	*st = d->st;
	st->memory = sizeof(*d) + (size_t)d->np * sizeof(*d->p) +
	    dht_store_memory(d->store) +
	    (d->pool[0] != NULL) * POOL * sizeof(struct known) +
	    (d->pool[1] != NULL) * POOL * sizeof(struct known);
	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL)
			continue;
		st->nodes[fam] = dht_table_count(d->tab[fam], now,
		    &st->good[fam], NULL);
		st->buckets[fam] = dht_table_nbuckets(d->tab[fam]);
		st->memory += dht_table_nbuckets(d->tab[fam]) *
		    (DHT_TABLE_K + DHT_TABLE_REPL) * 64;
	}
	st->searches = d->ns;
	st->memory += d->ns * sizeof(struct search);
	st->pending = d->inflight;
	st->hashes = dht_store_nhashes(d->store);
	st->stored_peers = dht_store_npeers(d->store);
	st->has_external = d->has_external;
	st->external = d->external;
	st->id_valid = d->has_external && dht_table_id_valid(d->id,
	    &d->external);
}

enum gt_err
dht_save(const struct dht *d, uint64_t now, struct buf *out)
{
	struct dht_table_node	*v;
	struct bval		*root;
	uint8_t			*c;
	size_t			 n, i, len, nlen;
	int			 fam;

	v = xcalloc(DHT_TABLE_MAX_NODES, sizeof(*v));
	c = xmalloc(DHT_TABLE_MAX_NODES * KRPC_NODE6_LEN);
	root = bval_dict();
	bval_dict_set(root, "id", bval_str(d->id, 20));
	for (fam = 0; fam < 2; fam++) {
		if (d->tab[fam] == NULL)
			continue;
		n = dht_table_export(d->tab[fam], now, v, DHT_TABLE_MAX_NODES);
		nlen = fam == FAM_V4 ? KRPC_NODE4_LEN : KRPC_NODE6_LEN;
		for (i = 0, len = 0; i < n; i++, len += nlen) {
			memcpy(c + len, v[i].id, 20);
			(void)addr_put_compact(&v[i].a, c + len + 20);
		}
		bval_dict_set(root, fam == FAM_V4 ? "nodes" : "nodes6",
		    bval_str(c, len));
	}
	free(c);
	free(v);
	return bencode_encode_take(root, out);
}

/* A compact node list of the state file, parsed into *out (malloc'd). */
static enum gt_err
load_nodes(int fam, const struct bencode_node *n, struct dht_table_node **out,
    size_t *count, char *err)
{
	struct dht_table_node	*v;
	size_t			 len, cnt, i, one;

	*out = NULL;
	*count = 0;
	if (n == NULL)
		return GT_OK;
	len = fam == FAM_V4 ? KRPC_NODE4_LEN : KRPC_NODE6_LEN;
	if (n->slen % len != 0 || n->slen / len > DHT_TABLE_MAX_NODES)
		return gt_fail(err, GT_EPROTO, "bad \"%s\" list",
		    fam == FAM_V4 ? "nodes" : "nodes6");
	cnt = n->slen / len;
	v = xcalloc(MAX(cnt, 1), sizeof(*v));
	for (i = 0; i < cnt; i++) {
		memcpy(v[i].id, n->s + i * len, 20);
		if (addr_parse_compact(fam_family(fam), n->s + i * len + 20,
		    len - 20, &v[i].a, 1, &one) != GT_OK || one != 1) {
			free(v);
			return gt_fail(err, GT_EPROTO, "a node with port 0");
		}
	}
	*out = v;
	*count = cnt;
	return GT_OK;
}

enum gt_err
dht_load(struct dht *d, const uint8_t *p, size_t len, uint64_t now,
    char *err)
{
	static const struct bencode_limits lim = {
		.max_input = DHT_STATE_MAX, .max_depth = 4, .max_nodes = 64,
	};
	const struct bencode_node	*root, *id;
	struct dht_table_node		*v[2] = { NULL, NULL };
	struct bencode_doc		 doc;
	struct bencode_error		 be;
	size_t				 n[2];
	enum gt_err			 e;
	int				 fam;

	if (len > DHT_STATE_MAX)
		return gt_fail(err, GT_EPROTO, "over %u bytes", DHT_STATE_MAX);
	if (bencode_decode(&doc, p, len, &lim, &be) != GT_OK)
		return gt_fail(err, GT_EPROTO, "not bencoded (%s at byte %zu)",
		    be.reason, be.offset);
	root = bencode_root(&doc);
	id = root->type == BENCODE_DICT ?
	    bencode_dict_get_type(&doc, root, "id", BENCODE_STR) : NULL;
	if (id == NULL || id->slen != 20)
		e = gt_fail(err, GT_EPROTO, "no 20-byte id");
	else if ((e = load_nodes(FAM_V4, bencode_dict_get_type(&doc, root,
	    "nodes", BENCODE_STR), &v[0], &n[0], err)) == GT_OK)
		e = load_nodes(FAM_V6, bencode_dict_get_type(&doc, root,
		    "nodes6", BENCODE_STR), &v[1], &n[1], err);
	if (e == GT_OK) {
		if (!d->id_fixed) {
			memcpy(d->id, id->s, 20);
			d->id_fixed = d->loaded_id = true;
			for (fam = 0; fam < 2; fam++)
				if (d->tab[fam] != NULL) {
					dht_table_free(d->tab[fam]);
					d->tab[fam] = table_make(d, fam, now);
				}
		}
		for (fam = 0; fam < 2; fam++)
			if (d->tab[fam] != NULL && v[fam] != NULL)
				dht_table_import(d->tab[fam], v[fam], n[fam],
				    now);
	}
	free(v[0]);
	free(v[1]);
	bencode_doc_clear(&doc);
	return e;
}
