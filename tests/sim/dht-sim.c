/*
 * dht-sim.c - thousands of real `struct dht` nodes (include/dht.h) in one
 * process on a simulated network: a virtual clock, an event queue, a
 * latency model, loss, churn and NATs.  Nothing touches a real network:
 * every datagram is a heap object delivered by the event loop.
 *
 * Usage: dht-sim [--nodes N] [--lookups M] [--churn PCT] [--seed S]
 *                [--loss PCT] [--nat PCT] [--ro PCT] [--hashes H]
 *                [--warmup S] [--window S] [--json] [--check PCT]
 *                [--strict] [--dump FILE] [--trace K] [--trace-lookups N]
 *                [-v]
 *
 * The scenario (simulated time):
 *   1. the nodes join over --join seconds, each bootstrapping
 *      (dht_bootstrap) from 3 random nodes already up and reachable;
 *   2. warm-up for --warmup seconds, churn on;
 *   3. H info-hashes are announced (dht_search, announce, repeat: as a
 *      torrent does), each by --per-hash nodes that stay up;
 *   4. two minutes later, M get_peers lookups (dht_search without
 *      announce) start at random times over --window seconds, each from a
 *      random node up for at least --min-uptime seconds, for a random
 *      announced info-hash; a lookup succeeds when the peers hook gives
 *      the address of one of its announcers;
 *   5. a minute after the last lookup started, the routing tables are
 *      examined (dht_stats, dht_save).
 *
 * Churn: a Poisson process of replacements at churn % of the nodes an
 * hour: a random node (not an announcer, not in a measured lookup) leaves
 * silently (its datagrams vanish, as behind a NAT or a firewall; its IP is
 * never reused) and a new node with a new IP and id joins in its slot.
 *
 * Addresses: node k of the run is 10.(k & 255).((k >> 8) & 255).(1 + (k >>
 * 16)), port 6881: each node its own IP and, up to 65,536 nodes, its own
 * /24 (the tables keep few nodes per /24), and 10/8 is exempt from BEP 42
 * id checks, so the random ids of deterministic nodes are valid.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "addr.h"
#include "bencode.h"
#include "buf.h"
#include "crypto.h"
#include "dht.h"
#include "dht-lookup.h"
#include "krpc.h"
#include "log.h"
#include "util.h"

#include "dht-sim.h"

/*
 * The latency model.  Each node has an access delay d (one way, ms): the
 * one-way delay from i to j is d_i + d_j plus a jitter drawn per datagram
 * (exponential, mean 2 ms + 10 % of d_i + d_j), so the round trip between
 * two nodes is about 2 (d_i + d_j).  d is lognormal (median ACCESS_MED_MS,
 * sigma ACCESS_SIGMA), and SLOW_PCT % of the nodes (mobile, satellite,
 * overloaded home routers) add SLOW_MIN_MS..SLOW_MAX_MS.  The constants
 * give round trips like those of the King data set (Gummadi et al., IMW
 * 2002) that DHT studies use: median near 75 ms, p90 near 200 ms, a tail
 * to about 1 s; the run prints the distribution it sampled (rtt).
 */
#define ACCESS_MED_MS	14.0
#define ACCESS_SIGMA	0.65
#define SLOW_PCT	2.0
#define SLOW_MIN_MS	150.0
#define SLOW_MAX_MS	450.0

/*
 * NATs: a NATed node gets a datagram only from an IP it sent to in the
 * last NAT_TIMEOUT_MS (a port-restricted cone NAT, one port, as home
 * routers keep UDP mappings 30 s to a few minutes).  The mappings live in
 * a small set-associative table per NATed node: NAT_SETS x NAT_WAYS IPs,
 * the oldest way replaced (a mapping lost to a collision only makes the
 * NAT stricter).
 */
#define NAT_TIMEOUT_MS	60000u
#define NAT_SETS	256
#define NAT_WAYS	4

#define SIM_PORT	6881
#define BOOTSTRAP_N	3		/* nodes a new node bootstraps from */
#define ROUTERS		10		/* the first nodes: never NATed */
#define ANNOUNCE_GAP_S	120		/* announces, then lookups */
#define SETTLE_S	60		/* after the last lookup starts */
#define RATE_SLOTS	64		/* opts.rate_slots: memory at 10k+ */
#define NONE		UINT32_MAX

struct nat_way {
	uint32_t	ip;		/* host order, 0: free */
	uint32_t	last;		/* ms, truncated */
};

struct node {
	struct dht	*dht;		/* NULL: the slot is empty */
	uint32_t	 k;		/* its number, hence its IP */
	uint32_t	 heap;		/* position in the deadline heap */
	uint64_t	 due;		/* its key there: dht_deadline */
	uint64_t	 up;		/* ms it joined */
	double		 access;	/* one-way access delay, ms */
	struct nat_way	*nat;		/* NULL: reachable */
	uint32_t	 lookup;	/* measured lookup running, or NONE */
	uint32_t	 announces;	/* info-hashes it announces */
	bool		 ro;		/* read-only (BEP 43) */
	bool		 stop;		/* dht_search_stop its lookup */
};

enum ev_kind {
	EV_PKT,
	EV_JOIN,
	EV_CHURN,
	EV_ANNOUNCE,
	EV_LOOKUP,
	EV_END,
};

struct pkt {
	uint32_t	slot, k;	/* to: the node in slot, if still k */
	struct netaddr	from;
	uint32_t	len;
	uint8_t		data[];
};

struct ev {
	uint64_t	 t, seq;
	struct pkt	*pkt;
	uint32_t	 kind, arg;
};

struct hash {
	uint8_t		id[20];
	uint32_t	first;		/* its announcers: k of each in */
	uint32_t	n;		/* announcer_k[first..first + n) */
	struct dht_search_result last;	/* its last announce round */
	uint32_t	rounds;
};

struct lookup {
	uint32_t	slot, hash;
	uint64_t	start;
	uint32_t	first_ok;	/* ms to an announced peer, or NONE */
	double		access;		/* its node's access delay, ms */
	bool		nat;		/* its node is NATed */
	uint32_t	k;		/* its node */
	uint32_t	table;		/* nodes in its table at the start */
	bool		started;
	bool		done;
	struct dht_search_result res;
};

struct sim {
	struct sim_opts	 o;
	struct prng	 rng;
	uint64_t	 now, seq;

	struct node	*nodes;		/* o.nodes slots */
	uint32_t	*byk;		/* k -> slot, or NONE (left) */
	uint32_t	 nk, kcap;

	struct ev	*ev;		/* binary min-heap on (t, seq) */
	size_t		 nev, evcap;
	uint32_t	*nheap;		/* slots, min-heap on due */
	uint32_t	 nnheap;

	struct hash	*hashes;
	uint32_t	 nhashes;
	uint32_t	*announcer_k;
	struct lookup	*lookups;
	uint32_t	 nlookups;

	uint64_t	 lookups_at;	/* ms the lookups start */
	uint64_t	 end;
	uint64_t	 ann_sent, ann_rounds;
	struct sim_report *r;
	struct netaddr	 probe;		/* --dump's get_peers from outside */
	struct krpc_msg	*probed;	/* its answer, or NULL */
	bool		 probe_ok;
	uint32_t	 probe_n;
};

/* ---- random numbers ---- */

static double
unif(struct sim *s)
{
	return (double)(prng_next(&s->rng) >> 11) * 0x1.0p-53;
}

static double
gauss(struct sim *s)
{
	double	u = unif(s), v = unif(s);

	return sqrt(-2.0 * log(u > 0 ? u : 0x1.0p-53)) * cos(2 * M_PI * v);
}

static double
expo(struct sim *s, double mean)
{
	double	u = unif(s);

	return -mean * log(u > 0 ? u : 0x1.0p-53);
}

static double
access_delay(struct sim *s)
{
	double	d = ACCESS_MED_MS * exp(ACCESS_SIGMA * gauss(s));

	if (unif(s) * 100 < SLOW_PCT)
		d += SLOW_MIN_MS + unif(s) * (SLOW_MAX_MS - SLOW_MIN_MS);
	return d;
}

static double
one_way(struct sim *s, double a, double b)
{
	return a + b + expo(s, 2.0 + 0.1 * (a + b));
}

/* ---- addresses ---- */

static void
k_addr(uint32_t k, struct netaddr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = ADDR_V4;
	a->ip[0] = 10;
	a->ip[1] = k & 255;
	a->ip[2] = (k >> 8) & 255;
	a->ip[3] = 1 + (k >> 16);
	a->port = SIM_PORT;
}

/* The k of an address, or NONE when it is no node's. */
static uint32_t
addr_k(const struct sim *s, const struct netaddr *a)
{
	uint32_t	k;

	if (a->family != ADDR_V4 || a->ip[0] != 10 || a->ip[3] == 0 ||
	    a->port != SIM_PORT)
		return NONE;
	k = a->ip[1] | (uint32_t)a->ip[2] << 8 | (uint32_t)(a->ip[3] - 1) << 16;
	return k < s->nk ? k : NONE;
}

static uint32_t
ip32(const struct netaddr *a)
{
	return load_be32(a->ip);
}

/* ---- NAT ---- */

static struct nat_way *
nat_set(struct node *n, uint32_t ip)
{
	uint32_t	h = ip * 2654435761u;

	return n->nat + (h >> 24) % NAT_SETS * NAT_WAYS;
}

static void
nat_note(struct sim *s, struct node *n, uint32_t ip)
{
	struct nat_way	*w = nat_set(n, ip), *old = w;
	int		 i;

	for (i = 0; i < NAT_WAYS; i++) {
		if (w[i].ip == ip) {
			w[i].last = (uint32_t)s->now;
			return;
		}
		if (w[i].ip == 0 || w[i].last < old->last)
			old = &w[i];
	}
	old->ip = ip;
	old->last = (uint32_t)s->now;
}

static bool
nat_open(struct sim *s, struct node *n, uint32_t ip)
{
	struct nat_way	*w = nat_set(n, ip);
	int		 i;

	for (i = 0; i < NAT_WAYS; i++)
		if (w[i].ip == ip)
			return (uint32_t)s->now - w[i].last <= NAT_TIMEOUT_MS;
	return false;
}

/* ---- the event heap ---- */

static bool
ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
ev_push(struct sim *s, uint64_t t, uint32_t kind, uint32_t arg,
    struct pkt *p)
{
	size_t		i, up;
	struct ev	e = { .t = t, .seq = s->seq++, .pkt = p, .kind = kind,
			    .arg = arg };

	if (s->nev == s->evcap) {
		s->evcap = s->evcap ? s->evcap * 2 : 1024;
		s->ev = xreallocarray(s->ev, s->evcap, sizeof(*s->ev));
	}
	for (i = s->nev++; i > 0; i = up) {
		up = (i - 1) / 2;
		if (!ev_less(&e, &s->ev[up]))
			break;
		s->ev[i] = s->ev[up];
	}
	s->ev[i] = e;
}

static struct ev
ev_pop(struct sim *s)
{
	struct ev	top = s->ev[0], last = s->ev[--s->nev];
	size_t		i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nev)
			break;
		if (c + 1 < s->nev && ev_less(&s->ev[c + 1], &s->ev[c]))
			c++;
		if (!ev_less(&s->ev[c], &last))
			break;
		s->ev[i] = s->ev[c];
		i = c;
	}
	if (s->nev > 0)
		s->ev[i] = last;
	return top;
}

/* ---- the deadline heap: one entry per slot, keyed by due ---- */

static void
nh_put(struct sim *s, uint32_t i, uint32_t slot)
{
	s->nheap[i] = slot;
	s->nodes[slot].heap = i;
}

static void
nh_fix(struct sim *s, uint32_t slot)
{
	uint32_t	i = s->nodes[slot].heap, up, c;
	uint64_t	due = s->nodes[slot].due;

	while (i > 0) {
		up = (i - 1) / 2;
		if (s->nodes[s->nheap[up]].due <= due)
			break;
		nh_put(s, i, s->nheap[up]);
		i = up;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nnheap)
			break;
		if (c + 1 < s->nnheap && s->nodes[s->nheap[c + 1]].due <
		    s->nodes[s->nheap[c]].due)
			c++;
		if (s->nodes[s->nheap[c]].due >= due)
			break;
		nh_put(s, i, s->nheap[c]);
		i = c;
	}
	nh_put(s, i, slot);
}

/* After any input to a node: its heap entry moves to its new deadline. */
static void
reschedule(struct sim *s, uint32_t slot, uint64_t min)
{
	struct node	*n = &s->nodes[slot];
	uint64_t	 d = n->dht != NULL ? dht_deadline(n->dht) : UINT64_MAX;

	n->due = d < min ? min : d;
	nh_fix(s, slot);
}

/* ---- tracing one node (--trace K) ---- */

static void
trace(struct sim *s, const char *dir, const struct node *n,
    const struct netaddr *peer, const uint8_t *buf, size_t len)
{
	struct krpc_msg	*m;
	char		 a[ADDR_STRLEN];
	static const char *const kinds[] = { "q", "r", "e" };
	int64_t		 t;

	if (s->o.trace == NULL || (n->k != s->o.trace_k &&
	    (n->lookup == NONE || n->lookup >= s->o.trace_lookups)))
		return;
	/* ms into its lookup, or the clock */
	t = n->lookup != NONE ? (int64_t)(s->now -
	    s->lookups[n->lookup].start) : (int64_t)s->now;
	m = xcalloc(1, sizeof(*m));
	if (krpc_decode(buf, len, m) == GT_OK)
		fprintf(s->o.trace, "%d k%u %lld %s %s %s %s len %zu nodes %zu "
		    "values %zu\n", n->lookup == NONE ? -1 : (int)n->lookup,
		    n->k, (long long)t, dir,
		    addr_str(peer, a), kinds[m->kind], m->kind == KRPC_QUERY ?
		    krpc_method_name(m->method) : "-", len, m->nnodes,
		    m->nvalues);
	else
		fprintf(s->o.trace, "k%u %lld %s %s undecodable len %zu\n",
		    n->k, (long long)t, dir, addr_str(peer, a), len);
	free(m);
}

/* ---- hooks ---- */

static struct sim	*cur;	/* hooks' sim: one run at a time */

static void
hook_send(void *arg, const struct netaddr *to, const uint8_t *buf,
    size_t len)
{
	struct sim	*s = cur;
	struct node	*n = arg, *d;
	struct pkt	*p;
	uint32_t	 k, slot;
	double		 ms;

	if (s->probed != NULL && addr_eq(to, &s->probe)) {
		s->probe_ok = krpc_decode(buf, len, s->probed) == GT_OK;
		return;
	}
	s->r->datagrams++;
	s->r->bytes += len;
	trace(s, "out", n, to, buf, len);
	if (n->nat != NULL && to->family == ADDR_V4)
		nat_note(s, n, ip32(to));
	if (unif(s) * 100 < s->o.loss) {
		s->r->lost++;
		return;
	}
	if ((k = addr_k(s, to)) == NONE || (slot = s->byk[k]) == NONE) {
		s->r->to_dead++;
		return;
	}
	d = &s->nodes[slot];
	p = xmalloc(sizeof(*p) + len);
	p->slot = slot;
	p->k = k;
	k_addr(n->k, &p->from);
	p->len = (uint32_t)len;
	memcpy(p->data, buf, len);
	ms = one_way(s, n->access, d->access);
	ev_push(s, s->now + (uint64_t)ms, EV_PKT, 0, p);
}

static bool
is_announcer(const struct sim *s, const struct hash *h,
    const struct netaddr *a)
{
	uint32_t	i, k = addr_k(s, a);

	if (k == NONE)
		return false;
	for (i = 0; i < h->n; i++)
		if (s->announcer_k[h->first + i] == k)
			return true;
	return false;
}

static void
hook_peers(void *arg, const uint8_t info_hash[20],
    const struct netaddr *peers, size_t np)
{
	struct sim	*s = cur;
	struct node	*n = arg;
	struct lookup	*l;
	size_t		 i;

	if (n->lookup == NONE)
		return;
	l = &s->lookups[n->lookup];
	if (memcmp(s->hashes[l->hash].id, info_hash, 20) != 0 ||
	    l->first_ok != NONE)
		return;
	for (i = 0; i < np; i++)
		if (is_announcer(s, &s->hashes[l->hash], &peers[i])) {
			l->first_ok = (uint32_t)(s->now - l->start);
			break;
		}
}

static void
hook_search_done(void *arg, const uint8_t info_hash[20],
    const struct dht_search_result *res)
{
	struct sim	*s = cur;
	struct node	*n = arg;
	struct lookup	*l;
	uint32_t	 i;

	if (n->lookup != NONE) {
		l = &s->lookups[n->lookup];
		if (memcmp(s->hashes[l->hash].id, info_hash, 20) == 0) {
			l->done = true;
			l->res = *res;
			n->lookup = NONE;
			n->stop = true;
			return;
		}
	}
	if (n->announces > 0) {
		s->ann_rounds++;
		s->ann_sent += res->announced;
		for (i = 0; i < s->nhashes; i++)
			if (memcmp(s->hashes[i].id, info_hash, 20) == 0) {
				s->hashes[i].last = *res;
				s->hashes[i].rounds++;
			}
	}
}

static const struct dht_hooks	sim_hooks = {
	.send = hook_send,
	.peers = hook_peers,
	.search_done = hook_search_done,
};

/* ---- nodes ---- */

/*
 * A random node up (and reachable), by its k: while the nodes join, only
 * the first slots are taken; later the ks of departed nodes are few.
 */
static uint32_t
random_up(struct sim *s, bool reachable)
{
	uint32_t	i, slot;

	if (s->nk == 0)
		return NONE;
	for (i = 0; i < 64; i++) {
		slot = s->byk[prng_below(&s->rng, s->nk)];
		if (slot != NONE && s->nodes[slot].dht != NULL &&
		    (!reachable || s->nodes[slot].nat == NULL))
			return slot;
	}
	return NONE;
}

static void
node_start(struct sim *s, uint32_t slot)
{
	struct node	*n = &s->nodes[slot];
	struct dht_opts	 o = {
		.v4 = true,
		.deterministic = true,
		.rate_slots = RATE_SLOTS,
	};
	struct dht_hooks h = sim_hooks;
	struct netaddr	 a;
	uint32_t	 i, b;

	if (s->nk == s->kcap) {
		s->kcap = s->kcap ? 2 * s->kcap : 1024;
		s->byk = xreallocarray(s->byk, s->kcap, sizeof(*s->byk));
	}
	n->k = s->nk++;
	s->byk[n->k] = slot;
	o.seed = s->o.seed * 1000003u + n->k + 1;
	o.read_only = n->ro = unif(s) * 100 < s->o.ro;
	h.arg = n;
	n->dht = dht_new(&o, &h, s->now);
	n->up = s->now;
	n->access = access_delay(s);
	n->lookup = NONE;
	n->announces = 0;
	n->stop = false;
	/* The first nodes are the routers everyone bootstraps from: never
	   NATed, or a NATed first node would stay alone forever. */
	if (n->k >= ROUTERS && unif(s) * 100 < s->o.nat)
		n->nat = xcalloc(NAT_SETS * NAT_WAYS, sizeof(*n->nat));
	else
		n->nat = NULL;
	for (i = 0; i < BOOTSTRAP_N; i++) {
		if ((b = random_up(s, true)) == NONE || b == slot)
			continue;
		k_addr(s->nodes[b].k, &a);
		dht_bootstrap(n->dht, &a, s->now);
	}
	s->r->joined++;
	reschedule(s, slot, s->now);
}

static void
node_stop(struct sim *s, uint32_t slot)
{
	struct node	*n = &s->nodes[slot];

	dht_free(n->dht);
	n->dht = NULL;
	free(n->nat);
	n->nat = NULL;
	s->byk[n->k] = NONE;
	s->r->left++;
}

static void
churn(struct sim *s)
{
	uint32_t	slot = NONE, i;

	for (i = 0; i < 64 && slot == NONE; i++) {
		slot = random_up(s, false);
		if (slot != NONE && (s->nodes[slot].lookup != NONE ||
		    s->nodes[slot].announces > 0))
			slot = NONE;
	}
	if (slot == NONE)
		return;
	node_stop(s, slot);
	node_start(s, slot);
}

/* ---- scenario ---- */

static void
announce(struct sim *s, uint32_t hi)
{
	struct hash		*h = &s->hashes[hi];
	struct dht_search_opts	 so = {
		.announce = true,
		.port = SIM_PORT,
		.seed = true,
		.repeat = true,
	};
	uint32_t		 i, slot;

	for (i = 0; i < h->n; i++) {
		slot = s->byk[s->announcer_k[h->first + i]];
		if (slot == NONE)
			continue;
		if (dht_search(s->nodes[slot].dht, h->id, &so, s->now) != GT_OK)
			s->r->refused++;
		reschedule(s, slot, s->now);
	}
}

static void
pick_announcers(struct sim *s)
{
	uint32_t	hi, i, slot, tries;

	s->announcer_k = xcalloc((size_t)s->nhashes * s->o.per_hash,
	    sizeof(*s->announcer_k));
	for (hi = 0; hi < s->nhashes; hi++) {
		struct hash	*h = &s->hashes[hi];

		h->first = hi * s->o.per_hash;
		h->n = 0;
		for (i = 0; i < s->o.per_hash; i++) {
			/* any node up but read-only ones (they cannot
			   announce) */
			for (tries = 0; tries < 64; tries++) {
				slot = random_up(s, false);
				if (slot != NONE && !s->nodes[slot].ro &&
				    s->nodes[slot].announces == 0)
					break;
				slot = NONE;
			}
			if (slot == NONE)
				continue;
			s->nodes[slot].announces++;
			s->announcer_k[h->first + h->n++] = s->nodes[slot].k;
		}
	}
}

static void
start_lookup(struct sim *s, uint32_t li)
{
	struct lookup		*l = &s->lookups[li];
	struct dht_search_opts	 so = { .announce = false };
	struct dht_stats	 st;
	uint32_t		 slot = NONE, i;
	struct node		*n;

	for (i = 0; i < 256; i++) {
		slot = random_up(s, false);
		if (slot == NONE)
			continue;
		n = &s->nodes[slot];
		if (n->lookup == NONE && n->announces == 0 &&
		    s->now - n->up >= (uint64_t)s->o.min_uptime_s * 1000)
			break;
		slot = NONE;
	}
	l->first_ok = NONE;
	l->start = s->now;
	if (slot == NONE) {
		s->r->refused++;
		return;
	}
	n = &s->nodes[slot];
	l->slot = slot;
	l->access = n->access;
	l->nat = n->nat != NULL;
	l->k = n->k;
	dht_stats(n->dht, s->now, &st);
	l->table = (uint32_t)st.nodes[0];
	l->hash = (uint32_t)prng_below(&s->rng, s->nhashes);
	s->r->started++;
	l->started = true;
	n->lookup = li;
	if (dht_search(n->dht, s->hashes[l->hash].id, &so, s->now) != GT_OK) {
		n->lookup = NONE;
		s->r->refused++;
		l->done = true;
	}
	reschedule(s, slot, s->now);
}

static void
after_input(struct sim *s, uint32_t slot, uint64_t min)
{
	struct node	*n = &s->nodes[slot];
	struct lookup	*l;

	if (n->stop && n->dht != NULL) {
		n->stop = false;
		/* its last measured lookup (one at a time per node) */
		for (l = s->lookups + s->nlookups; l-- > s->lookups;)
			if (l->slot == slot && l->done) {
				dht_search_stop(n->dht, s->hashes[l->hash].id);
				break;
			}
	}
	reschedule(s, slot, min);
}

/* ---- the end: tables ---- */

static void
examine_tables(struct sim *s)
{
	struct sim_report	*r = s->r;
	struct dht_stats	 st;
	struct bencode_doc	 doc;
	const struct bencode_node *nodes;
	struct buf		 b;
	struct netaddr		 a;
	uint64_t		 nsum = 0, gsum = 0, msum = 0;
	uint64_t		 saved = 0, alive = 0, reach = 0;
	uint32_t		 slot, k, t;
	size_t			 i;

	for (slot = 0; slot < s->o.nodes; slot++) {
		struct node	*n = &s->nodes[slot];

		if (n->dht == NULL)
			continue;
		r->alive++;
		dht_stats(n->dht, s->now, &st);
		nsum += st.nodes[0];
		gsum += st.good[0];
		msum += st.memory;
		buf_init(&b, 1u << 20);
		if (dht_save(n->dht, s->now, &b) != GT_OK ||
		    bencode_decode(&doc, b.data, b.len,
		    &bencode_default_limits, NULL) != GT_OK) {
			buf_clear(&b);
			continue;
		}
		nodes = bencode_dict_get_type(&doc, bencode_root(&doc),
		    "nodes", BENCODE_STR);
		for (i = 0; nodes != NULL && i + 26 <= nodes->slen; i += 26) {
			memset(&a, 0, sizeof(a));
			a.family = ADDR_V4;
			memcpy(a.ip, nodes->s + i + 20, 4);
			a.port = load_be16(nodes->s + i + 24);
			saved++;
			if ((k = addr_k(s, &a)) == NONE ||
			    (t = s->byk[k]) == NONE ||
			    memcmp(dht_id(s->nodes[t].dht), nodes->s + i,
			    20) != 0)
				continue;
			alive++;
			if (s->nodes[t].nat == NULL)
				reach++;
		}
		bencode_doc_clear(&doc);
		buf_clear(&b);
	}
	if (r->alive > 0) {
		r->table_nodes = (double)nsum / r->alive;
		r->table_good = (double)gsum / r->alive;
		r->node_memory = (double)msum / r->alive;
	}
	if (saved > 0) {
		r->saved_alive = (double)alive / saved;
		r->saved_reachable = (double)reach / saved;
	}
}

/* ---- figures ---- */

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
pct(uint32_t *v, uint32_t n, struct sim_pct *p)
{
	uint64_t	sum = 0;
	uint32_t	i;

	memset(p, 0, sizeof(*p));
	p->n = n;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), u32_cmp);
	for (i = 0; i < n; i++)
		sum += v[i];
	p->mean = (double)sum / n;
	/* nearest rank */
	p->p50 = v[(n * 50 + 99) / 100 - 1];
	p->p90 = v[(n * 90 + 99) / 100 - 1];
	p->p99 = v[(n * 99 + 99) / 100 - 1];
	p->max = v[n - 1];
}

static void
figures(struct sim *s)
{
	struct sim_report	*r = s->r;
	uint32_t		*v = xcalloc(MAX(s->nlookups, 100000u),
				    sizeof(*v));
	uint32_t		 i, n;
	struct lookup		*l;

	for (n = i = 0; i < s->nlookups; i++)
		if (s->lookups[i].first_ok != NONE)
			v[n++] = s->lookups[i].first_ok;
	r->found = n;
	pct(v, n, &r->first_peer);
	for (n = i = 0; i < s->nlookups; i++)
		if ((l = &s->lookups[i])->first_ok != NONE &&
		    l->access < SLOW_MIN_MS)
			v[n++] = l->first_ok;
	r->found_wired = n;
	pct(v, n, &r->first_peer_wired);
	for (n = i = 0; i < s->nlookups; i++)
		if ((l = &s->lookups[i])->done && l->res.sent > 0 &&
		    l->access < SLOW_MIN_MS)
			v[n++] = l->res.elapsed_ms;
	pct(v, n, &r->done_wired);
	for (i = 0; i < s->nlookups; i++)
		if (s->lookups[i].started &&
		    s->lookups[i].access < SLOW_MIN_MS)
			r->started_wired++;
	for (n = i = 0; i < s->nlookups; i++)
		if ((l = &s->lookups[i])->done && l->res.sent > 0)
			v[n++] = l->res.elapsed_ms;
	r->finished = n;
	pct(v, n, &r->done);
	for (n = i = 0; i < s->nlookups; i++)
		if ((l = &s->lookups[i])->done && l->res.sent > 0)
			v[n++] = l->res.sent;
	pct(v, n, &r->sent);
	for (n = i = 0; i < s->nlookups; i++)
		if ((l = &s->lookups[i])->done && l->res.sent > 0)
			v[n++] = l->res.answered;
	pct(v, n, &r->answered);
	r->timeouts = r->started - r->finished;
	r->success = r->started ? (double)r->found / r->started : 0;
	r->announces = (uint32_t)s->ann_rounds;
	r->announced_avg = s->ann_rounds ?
	    (double)s->ann_sent / s->ann_rounds : 0;

	/* the latency model: round trips between random pairs */
	for (i = 0; i < 100000; i++) {
		double	a = access_delay(s), b = access_delay(s);

		v[i] = (uint32_t)(one_way(s, a, b) + one_way(s, b, a));
	}
	pct(v, 100000, &r->rtt);
	free(v);
}

/*
 * What node slot holds for hash hi, asked by a get_peers from outside the
 * network (the probe address, answered directly, past any NAT): -1 when it
 * gave no answer, else how many of the values are announcers of hi.
 */
static int
probe(struct sim *s, uint32_t slot, uint32_t hi)
{
	struct krpc_msg	 q, *a = xcalloc(1, sizeof(*a));
	struct buf	 b;
	size_t		 i;
	int		 n = -1;

	memset(&q, 0, sizeof(q));
	q.kind = KRPC_QUERY;
	q.method = KRPC_GET_PEERS;
	memcpy(q.tid, "pr", 2);
	q.tidlen = 2;
	memset(q.id, 0x5a, sizeof(q.id));
	q.has_target = true;
	memcpy(q.target, s->hashes[hi].id, 20);
	buf_init(&b, KRPC_MAX_OUT);
	if (krpc_put_query(&b, &q) == GT_OK) {
		memset(&s->probe, 0, sizeof(s->probe));
		s->probe.family = ADDR_V4;
		s->probe.ip[0] = 192;
		s->probe.ip[1] = 0;
		s->probe.ip[2] = 2;
		s->probe.ip[3] = 1 + (uint8_t)(s->probe_n++ % 250);
		s->probe.port = 1;
		s->probed = a;
		s->probe_ok = false;
		dht_on_datagram(s->nodes[slot].dht, b.data, b.len, &s->probe,
		    s->now);
		s->probed = NULL;
		if (s->probe_ok && a->kind == KRPC_RESPONSE)
			for (n = 0, i = 0; i < a->nvalues; i++)
				n += is_announcer(s, &s->hashes[hi],
				    &a->values[i]);
	}
	buf_clear(&b);
	free(a);
	return n;
}

/*
 * For each info-hash: the 16 nodes up closest to it (rank, NATed, what
 * they store), to see where announces went.
 */
static void
dump_closest(struct sim *s, FILE *f)
{
	uint32_t	best[16], nb, i, j, slot, hi;
	const uint8_t	*id;

	fprintf(f, "# c hash rank slot nat up_s stores\n");
	for (hi = 0; hi < s->nhashes; hi++) {
		id = s->hashes[hi].id;
		nb = 0;
		for (slot = 0; slot < s->o.nodes; slot++) {
			if (s->nodes[slot].dht == NULL)
				continue;
			for (i = nb; i > 0 && dht_distance_cmp(id,
			    dht_id(s->nodes[slot].dht),
			    dht_id(s->nodes[best[i - 1]].dht)) < 0; i--)
				;
			if (i >= 16)
				continue;
			for (j = MIN(nb, 15u); j > i; j--)
				best[j] = best[j - 1];
			best[i] = slot;
			if (nb < 16)
				nb++;
		}
		for (i = 0; i < nb; i++)
			fprintf(f, "c %u %u %u %d %llu %d\n", hi, i, best[i],
			    s->nodes[best[i]].nat != NULL,
			    (unsigned long long)(s->now -
			    s->nodes[best[i]].up) / 1000,
			    probe(s, best[i], hi));
		/* and every node that stores it, by its distance rank */
		for (slot = 0; slot < s->o.nodes; slot++) {
			if (s->nodes[slot].dht == NULL ||
			    probe(s, slot, hi) <= 0)
				continue;
			for (j = 0, i = 0; i < s->o.nodes; i++)
				if (s->nodes[i].dht != NULL &&
				    dht_distance_cmp(id,
				    dht_id(s->nodes[i].dht),
				    dht_id(s->nodes[slot].dht)) < 0)
					j++;
			fprintf(f, "s %u rank %u slot %u nat %d\n", hi, j, slot,
			    s->nodes[slot].nat != NULL);
		}
	}
}

/* One line per lookup, for plots and for finding what makes the tail. */
static void
dump(struct sim *s, FILE *f)
{
	struct lookup	*l;
	uint32_t	 i;

	fprintf(f, "# lookup hash access_ms nat first_peer_ms done_ms sent "
	    "answered peers k table\n");
	for (i = 0; i < s->nlookups; i++) {
		l = &s->lookups[i];
		fprintf(f, "%u %u %.0f %d %d %u %u %u %u %u %u\n", i, l->hash,
		    l->access, l->nat,
		    l->first_ok == NONE ? -1 : (int)l->first_ok,
		    l->res.elapsed_ms, l->res.sent, l->res.answered,
		    l->res.peers, l->k, l->table);
	}
	fprintf(f, "# hash rounds nat last: elapsed_ms sent answered "
	    "announced\n");
	for (i = 0; i < s->nhashes; i++) {
		struct hash	*h = &s->hashes[i];
		uint32_t	 slot = h->n > 0 ? s->byk[s->announcer_k[h->first]] :
				    NONE;

		fprintf(f, "h %u %u %d %u %u %u %u k %u\n", i, h->rounds,
		    slot != NONE && s->nodes[slot].nat != NULL,
		    h->last.elapsed_ms, h->last.sent, h->last.answered,
		    h->last.announced, h->n > 0 ? s->announcer_k[h->first] : 0);
	}
}

/* ---- the run ---- */

void
sim_opts_default(struct sim_opts *o, uint32_t nodes)
{
	memset(o, 0, sizeof(*o));
	o->nodes = nodes;
	o->lookups = 1000;
	o->churn = 20;
	o->seed = 1;
	o->loss = 1;
	o->nat = 25;
	o->ro = 0;
	o->hashes = 0;
	o->per_hash = 1;
	o->join_s = 300;
	o->warmup_s = 1800;
	o->window_s = 600;
	o->min_uptime_s = 60;
}

static double
wall(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
sim_run(const struct sim_opts *o, struct sim_report *r)
{
	struct sim	 s;
	struct ev	 e;
	struct rusage	 ru;
	struct node	*n;
	double		 t0 = wall(), churn_per_ms;
	uint64_t	 next_progress = 0;
	uint32_t	 i, slot;

	memset(r, 0, sizeof(*r));
	if (o->nodes < 2 || o->lookups == 0 || o->per_hash == 0) {
		fprintf(stderr, "dht-sim: need 2 nodes, 1 lookup, 1 announcer\n");
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.o = *o;
	s.r = r;
	cur = &s;
	prng_seed(&s.rng, o->seed);
	s.nodes = xcalloc(o->nodes, sizeof(*s.nodes));
	s.nheap = xcalloc(o->nodes, sizeof(*s.nheap));
	for (i = 0; i < o->nodes; i++) {
		s.nodes[i].due = UINT64_MAX;
		s.nodes[i].lookup = NONE;
		nh_put(&s, i, i);
	}
	s.nnheap = o->nodes;
	s.nhashes = o->hashes ? o->hashes : MAX(10u, MIN(o->lookups / 10,
	    o->nodes / 20));
	s.hashes = xcalloc(s.nhashes, sizeof(*s.hashes));
	for (i = 0; i < s.nhashes; i++) {
		uint64_t	x = prng_next(&s.rng);

		sha1(&x, sizeof(x), s.hashes[i].id);
	}
	s.nlookups = o->lookups;
	s.lookups = xcalloc(s.nlookups, sizeof(*s.lookups));

	/* the timeline */
	for (i = 0; i < o->nodes; i++)
		ev_push(&s, (uint64_t)o->join_s * 1000 * i / o->nodes, EV_JOIN,
		    i, NULL);
	s.lookups_at = ((uint64_t)o->join_s + o->warmup_s + ANNOUNCE_GAP_S) *
	    1000;
	ev_push(&s, s.lookups_at - ANNOUNCE_GAP_S * 1000, EV_ANNOUNCE, 0, NULL);
	for (i = 0; i < s.nlookups; i++)
		ev_push(&s, s.lookups_at +
		    prng_below(&s.rng, (uint64_t)o->window_s * 1000 + 1),
		    EV_LOOKUP, i, NULL);
	s.end = s.lookups_at + ((uint64_t)o->window_s + SETTLE_S) * 1000;
	ev_push(&s, s.end, EV_END, 0, NULL);
	churn_per_ms = o->churn / 100.0 * o->nodes / 3600e3;
	if (churn_per_ms > 0)
		ev_push(&s, (uint64_t)o->join_s * 1000 +
		    (uint64_t)expo(&s, 1 / churn_per_ms), EV_CHURN, 0, NULL);

	for (;;) {
		slot = s.nheap[0];
		n = &s.nodes[slot];
		if (n->due <= s.ev[0].t) {
			/* a node's deadline */
			s.now = n->due;
			s.r->events++;
			dht_tick(n->dht, s.now);
			after_input(&s, slot, s.now + 1);
			continue;
		}
		e = ev_pop(&s);
		s.now = e.t;
		s.r->events++;
		if (o->verbose && s.now >= next_progress) {
			fprintf(stderr, "dht-sim: %llu s simulated, %llu "
			    "datagrams, %.0f s wall\n",
			    (unsigned long long)(s.now / 1000),
			    (unsigned long long)r->datagrams, wall() - t0);
			next_progress = s.now + 60000;
		}
		if (e.kind == EV_END)
			break;
		switch (e.kind) {
		case EV_PKT:
			n = &s.nodes[e.pkt->slot];
			if (n->dht == NULL || n->k != e.pkt->k) {
				r->to_dead++;
			} else if (n->nat != NULL &&
			    !nat_open(&s, n, ip32(&e.pkt->from))) {
				r->nat_blocked++;
			} else {
				trace(&s, "in", n, &e.pkt->from,
				    e.pkt->data, e.pkt->len);
				dht_on_datagram(n->dht, e.pkt->data,
				    e.pkt->len, &e.pkt->from, s.now);
				after_input(&s, e.pkt->slot, s.now);
			}
			free(e.pkt);
			break;
		case EV_JOIN:
			node_start(&s, e.arg);
			break;
		case EV_CHURN:
			churn(&s);
			ev_push(&s, s.now + 1 +
			    (uint64_t)expo(&s, 1 / churn_per_ms), EV_CHURN, 0,
			    NULL);
			break;
		case EV_ANNOUNCE:
			if (e.arg == 0)
				pick_announcers(&s);
			announce(&s, e.arg);
			if (e.arg + 1 < s.nhashes)
				ev_push(&s, s.now + 100, EV_ANNOUNCE,
				    e.arg + 1, NULL);
			break;
		case EV_LOOKUP:
			start_lookup(&s, e.arg);
			break;
		}
	}

	figures(&s);
	examine_tables(&s);
	if (o->dump != NULL) {
		dump(&s, o->dump);
		dump_closest(&s, o->dump);
	}
	r->sim_ms = s.now;
	r->wall_s = wall() - t0;
	getrusage(RUSAGE_SELF, &ru);
	r->rss_kb = ru.ru_maxrss;

	for (i = 0; i < o->nodes; i++) {
		dht_free(s.nodes[i].dht);
		free(s.nodes[i].nat);
	}
	while (s.nev > 0)
		free(ev_pop(&s).pkt);
	free(s.ev);
	free(s.nheap);
	free(s.nodes);
	free(s.byk);
	free(s.hashes);
	free(s.announcer_k);
	free(s.lookups);
	cur = NULL;
	return 0;
}

/* ---- the report ---- */

#define GOAL_MEDIAN_MS	150
#define GOAL_P99_MS	1000
#define GOAL_SENT	60
#define GOAL_SUCCESS	0.99

bool
sim_goals_met(const struct sim_report *r)
{
	return r->first_peer.n > 0 && r->first_peer.p50 < GOAL_MEDIAN_MS &&
	    r->first_peer.p99 < GOAL_P99_MS && r->sent.mean <= GOAL_SENT &&
	    r->success >= GOAL_SUCCESS;
}

static const char *
ok(bool b)
{
	return b ? "ok" : "MISSED";
}

static void
print_pct_json(FILE *f, const char *name, const struct sim_pct *p,
    bool comma)
{
	fprintf(f, "  \"%s\": {\"n\": %u, \"mean\": %.1f, \"p50\": %u, "
	    "\"p90\": %u, \"p99\": %u, \"max\": %u}%s\n", name, p->n, p->mean,
	    p->p50, p->p90, p->p99, p->max, comma ? "," : "");
}

void
sim_print(FILE *f, const struct sim_opts *o, const struct sim_report *r,
    bool json)
{
	if (json) {
		fprintf(f, "{\n  \"nodes\": %u, \"lookups\": %u, \"churn_pct_h\""
		    ": %.1f, \"seed\": %llu, \"loss_pct\": %.1f, \"nat_pct\": "
		    "%.1f, \"ro_pct\": %.1f,\n", o->nodes, o->lookups,
		    o->churn, (unsigned long long)o->seed, o->loss, o->nat,
		    o->ro);
		fprintf(f, "  \"started\": %u, \"found\": %u, \"finished\": %u,"
		    " \"timeouts\": %u, \"refused\": %u, \"success\": %.4f,\n",
		    r->started, r->found, r->finished, r->timeouts,
		    r->refused, r->success);
		print_pct_json(f, "first_peer_ms", &r->first_peer, true);
		print_pct_json(f, "done_ms", &r->done, true);
		fprintf(f, "  \"started_wired\": %u, \"found_wired\": %u,\n",
		    r->started_wired, r->found_wired);
		print_pct_json(f, "first_peer_wired_ms", &r->first_peer_wired,
		    true);
		print_pct_json(f, "done_wired_ms", &r->done_wired, true);
		print_pct_json(f, "sent", &r->sent, true);
		print_pct_json(f, "answered", &r->answered, true);
		print_pct_json(f, "rtt_ms", &r->rtt, true);
		fprintf(f, "  \"announce_rounds\": %u, \"announced_avg\": %.2f,"
		    "\n", r->announces, r->announced_avg);
		fprintf(f, "  \"alive\": %u, \"table_nodes\": %.1f, "
		    "\"table_good\": %.1f, \"saved_alive\": %.4f, "
		    "\"saved_reachable\": %.4f, \"node_memory\": %.0f,\n",
		    r->alive, r->table_nodes, r->table_good, r->saved_alive,
		    r->saved_reachable, r->node_memory);
		fprintf(f, "  \"datagrams\": %llu, \"bytes\": %llu, \"lost\": "
		    "%llu, \"to_dead\": %llu, \"nat_blocked\": %llu, "
		    "\"joined\": %llu, \"left\": %llu,\n",
		    (unsigned long long)r->datagrams,
		    (unsigned long long)r->bytes, (unsigned long long)r->lost,
		    (unsigned long long)r->to_dead,
		    (unsigned long long)r->nat_blocked,
		    (unsigned long long)r->joined,
		    (unsigned long long)r->left);
		fprintf(f, "  \"sim_ms\": %llu, \"events\": %llu, \"wall_s\": "
		    "%.2f, \"rss_kb\": %ld, \"goals_met\": %s\n}\n",
		    (unsigned long long)r->sim_ms,
		    (unsigned long long)r->events, r->wall_s, r->rss_kb,
		    sim_goals_met(r) ? "true" : "false");
		return;
	}
	fprintf(f, "dht-sim: %u nodes (%.0f %% NATed, %.0f %% read-only), "
	    "churn %.0f %%/h, loss %.1f %%, seed %llu\n", o->nodes, o->nat,
	    o->ro, o->churn, o->loss, (unsigned long long)o->seed);
	fprintf(f, "  rtt model (ms)        p50 %u  p90 %u  p99 %u  max %u\n",
	    r->rtt.p50, r->rtt.p90, r->rtt.p99, r->rtt.max);
	fprintf(f, "  lookups               %u started, %u found the peer, "
	    "%u finished, %u timed out, %u refused\n", r->started, r->found,
	    r->finished, r->timeouts, r->refused);
	fprintf(f, "  success               %.2f %%   (goal >= %.0f %%: %s)\n",
	    100 * r->success, 100 * GOAL_SUCCESS,
	    ok(r->success >= GOAL_SUCCESS));
	fprintf(f, "  to first peer (ms)    p50 %u  p90 %u  p99 %u  max %u   "
	    "(goal p50 < %d: %s, p99 < %d: %s)\n", r->first_peer.p50,
	    r->first_peer.p90, r->first_peer.p99, r->first_peer.max,
	    GOAL_MEDIAN_MS, ok(r->first_peer.n > 0 &&
	    r->first_peer.p50 < GOAL_MEDIAN_MS), GOAL_P99_MS,
	    ok(r->first_peer.n > 0 && r->first_peer.p99 < GOAL_P99_MS));
	fprintf(f, "  to done (ms)          p50 %u  p90 %u  p99 %u  max %u   "
	    "(goal p50 < %d: %s, p99 < %d: %s)\n", r->done.p50, r->done.p90,
	    r->done.p99, r->done.max, GOAL_MEDIAN_MS,
	    ok(r->done.n > 0 && r->done.p50 < GOAL_MEDIAN_MS), GOAL_P99_MS,
	    ok(r->done.n > 0 && r->done.p99 < GOAL_P99_MS));
	fprintf(f, "  from wired nodes      %u of the lookups (not from the "
	    "%.0f %% of nodes on slow links)\n", r->started_wired, SLOW_PCT);
	fprintf(f, "    to first peer (ms)  p50 %u  p90 %u  p99 %u  max %u   "
	    "(goal p50 < %d: %s, p99 < %d: %s)\n", r->first_peer_wired.p50,
	    r->first_peer_wired.p90, r->first_peer_wired.p99,
	    r->first_peer_wired.max, GOAL_MEDIAN_MS,
	    ok(r->first_peer_wired.n > 0 &&
	    r->first_peer_wired.p50 < GOAL_MEDIAN_MS), GOAL_P99_MS,
	    ok(r->first_peer_wired.n > 0 &&
	    r->first_peer_wired.p99 < GOAL_P99_MS));
	fprintf(f, "    to done (ms)        p50 %u  p90 %u  p99 %u  max %u\n",
	    r->done_wired.p50, r->done_wired.p90, r->done_wired.p99,
	    r->done_wired.max);
	fprintf(f, "  queries per lookup    mean %.1f  p50 %u  p90 %u  p99 %u"
	    "   (goal <= %d: %s); answered mean %.1f\n", r->sent.mean,
	    r->sent.p50, r->sent.p90, r->sent.p99, GOAL_SENT,
	    ok(r->sent.n > 0 && r->sent.mean <= GOAL_SENT), r->answered.mean);
	fprintf(f, "  announces             %u rounds, %.1f announce_peer "
	    "each\n", r->announces, r->announced_avg);
	fprintf(f, "  tables at the end     %u nodes up, %.1f entries (%.1f "
	    "good) each; saved entries alive %.1f %%, alive and reachable "
	    "%.1f %%; %.0f KiB per node\n", r->alive, r->table_nodes,
	    r->table_good, 100 * r->saved_alive, 100 * r->saved_reachable,
	    r->node_memory / 1024);
	fprintf(f, "  network               %llu datagrams (%.1f MB), %llu "
	    "lost, %llu to departed nodes, %llu stopped by NATs; churn %llu "
	    "left, %llu joined\n", (unsigned long long)r->datagrams,
	    r->bytes / 1e6, (unsigned long long)r->lost,
	    (unsigned long long)r->to_dead,
	    (unsigned long long)r->nat_blocked,
	    (unsigned long long)r->left,
	    (unsigned long long)(r->joined - o->nodes));
	fprintf(f, "  cost                  %.0f s simulated, %llu events, "
	    "%.1f s wall, %.0f MB RSS\n", r->sim_ms / 1000.0,
	    (unsigned long long)r->events, r->wall_s, r->rss_kb / 1024.0);
	fprintf(f, "  goals                 %s\n", sim_goals_met(r) ?
	    "all met" : "MISSED");
}

#ifndef DHT_SIM_NO_MAIN

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dht-sim [--nodes N] [--lookups M] [--churn PCT] "
	    "[--seed S]\n"
	    "               [--loss PCT] [--nat PCT] [--ro PCT] "
	    "[--hashes H] [--per-hash A]\n"
	    "               [--join S] [--warmup S] [--window S] "
	    "[--min-uptime S]\n"
	    "               [--json] [--check PCT] [--strict] "
	    "[--dump FILE]\n"
	    "               [--trace K] [--trace-lookups N] [-v]\n"
	    "  --trace K: node K's datagrams on stderr; --trace-lookups N: "
	    "those of the\n"
	    "  first N measured lookups (ms into the lookup)\n"
	    "  --check PCT: exit 1 when fewer than PCT %% of the lookups "
	    "find the peer\n"
	    "  --strict: exit 1 when a goal of the issue is missed\n");
	exit(2);
}

static double
num(const char *s)
{
	char	*end;
	double	 v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= 0))
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct sim_opts		o;
	struct sim_report	r;
	bool			json = false, strict = false;
	double			check = -1;
	int			i;

	log_set_level(LOG_ERROR);
	sim_opts_default(&o, 10000);
	o.trace_k = NONE;
	for (i = 1; i < argc; i++) {
		const char	*a = argv[i], *v = i + 1 < argc ? argv[i + 1] :
				    NULL;

		if (strcmp(a, "--json") == 0) {
			json = true;
			continue;
		}
		if (strcmp(a, "--strict") == 0) {
			strict = true;
			continue;
		}
		if (strcmp(a, "-v") == 0) {
			o.verbose = true;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--nodes") == 0)
			o.nodes = (uint32_t)num(v);
		else if (strcmp(a, "--lookups") == 0)
			o.lookups = (uint32_t)num(v);
		else if (strcmp(a, "--churn") == 0)
			o.churn = num(v);
		else if (strcmp(a, "--seed") == 0)
			o.seed = (uint64_t)num(v);
		else if (strcmp(a, "--loss") == 0)
			o.loss = num(v);
		else if (strcmp(a, "--nat") == 0)
			o.nat = num(v);
		else if (strcmp(a, "--ro") == 0)
			o.ro = num(v);
		else if (strcmp(a, "--hashes") == 0)
			o.hashes = (uint32_t)num(v);
		else if (strcmp(a, "--per-hash") == 0)
			o.per_hash = (uint32_t)num(v);
		else if (strcmp(a, "--join") == 0)
			o.join_s = (uint32_t)num(v);
		else if (strcmp(a, "--warmup") == 0)
			o.warmup_s = (uint32_t)num(v);
		else if (strcmp(a, "--window") == 0)
			o.window_s = (uint32_t)num(v);
		else if (strcmp(a, "--min-uptime") == 0)
			o.min_uptime_s = (uint32_t)num(v);
		else if (strcmp(a, "--check") == 0)
			check = num(v);
		else if (strcmp(a, "--trace") == 0)
			o.trace_k = (uint32_t)num(v);
		else if (strcmp(a, "--trace-lookups") == 0)
			o.trace_lookups = (uint32_t)num(v);
		else if (strcmp(a, "--dump") == 0) {
			if ((o.dump = fopen(v, "w")) == NULL) {
				perror(v);
				return 1;
			}
		}
		else
			usage();
	}
	if (o.nodes > 16000000 || o.loss > 100 || o.nat > 100 || o.ro > 100)
		usage();
	if (o.trace_k != NONE || o.trace_lookups > 0)
		o.trace = stderr;
	if (sim_run(&o, &r) != 0)
		return 1;
	if (o.dump != NULL)
		fclose(o.dump);
	sim_print(stdout, &o, &r, json);
	if (check >= 0 && 100 * r.success < check) {
		fprintf(stderr, "dht-sim: %.2f %% of lookups found the peer, "
		    "under %.1f %%\n", 100 * r.success, check);
		return 1;
	}
	if (strict && !sim_goals_met(&r))
		return 1;
	return 0;
}

#endif /* DHT_SIM_NO_MAIN */
