/* dht-table.c - the DHT routing table: k-buckets, node states, BEP 42 ids */
#include <stdlib.h>
#include <string.h>

#include "dht-table.h"
#include "util.h"

/* A node in a bucket or in a bucket's replacement cache. */
struct entry {
	uint8_t		id[20];
	struct netaddr	a;		/* unmapped, of the table's family */
	uint64_t	last_reply;	/* ms of its last answer to us */
	uint64_t	last_query;	/* ms of its last query to us */
	uint64_t	ping_at;	/* ms it was last handed out to ping */
	uint8_t		fails;		/* timeouts in a row */
	bool		pinging;	/* handed out, no answer nor timeout yet */
	bool		replied;	/* ever answered us: verified */
	bool		bep42;		/* id valid for its address (BEP 42) */
};

/*
 * Bucket i < nb - 1 holds the ids sharing exactly i leading bits with
 * ours; the last one, nb - 1, those sharing nb - 1 bits or more: it is
 * the one holding our own id, the only one that splits.
 */
struct bucket {
	struct entry	nodes[DHT_TABLE_K];
	struct entry	cache[DHT_TABLE_REPL];	/* waiting for room */
	uint8_t		n, ncache;
	uint64_t	changed;	/* ms: a node entered or answered */
	uint64_t	refreshed;	/* ms: a refresh was handed out */
};

struct dht_table {
	uint8_t			id[20];
	enum addr_family	family;
	unsigned		subnet_max;
	bool			loopback_rules;
	struct prng		rng;
	size_t			nb;	/* buckets in use, 1..160 */
	struct bucket		b[DHT_TABLE_MAX_BUCKETS];
};

enum how {
	HOW_RESPONSE,		/* answered our query: verified */
	HOW_QUERY,		/* queried us: unverified */
	HOW_IMPORT,		/* saved earlier: unverified */
};

enum placed {
	PLACED_BUCKET,
	PLACED_CACHE,
	PLACED_NONE,
};

/* Where find_ip found a node. */
struct where {
	struct bucket	*b;
	struct entry	*e;
	bool		 cached;
};

struct dht_table *
dht_table_new(const struct dht_table_opts *o, uint64_t now)
{
	struct dht_table	*t;

	t = xcalloc(1, sizeof(*t));
	memcpy(t->id, o->id, sizeof(t->id));
	t->family = o->family;
	t->subnet_max = o->subnet_max ? o->subnet_max : DHT_TABLE_SUBNET_MAX;
	t->loopback_rules = o->loopback_rules;
	prng_seed(&t->rng, o->seed);
	t->nb = 1;
	t->b[0].changed = now;
	return t;
}

void
dht_table_free(struct dht_table *t)
{
	free(t);
}

const uint8_t *
dht_table_id(const struct dht_table *t)
{
	return t->id;
}

/* ---- ids and states ------------------------------------------------------ */

/* Leading bits a and b have in common; 160 when equal. */
static unsigned
common_bits(const uint8_t *a, const uint8_t *b)
{
	unsigned	i, n;
	uint8_t		x;

	for (i = 0; i < 20; i++) {
		x = a[i] ^ b[i];
		if (x == 0)
			continue;
		for (n = 0; !(x & 0x80); n++)
			x = (uint8_t)(x << 1);
		return i * 8 + n;
	}
	return 160;
}

static struct bucket *
bucket_of(struct dht_table *t, const uint8_t *id)
{
	return &t->b[MIN(common_bits(t->id, id), t->nb - 1)];
}

/* Until when e is good; 0 if it is not. */
static uint64_t
good_until(const struct entry *e)
{
	uint64_t	last = e->last_reply;

	if (!e->replied || e->fails > 0)
		return 0;
	if (e->last_query > last)
		last = e->last_query;
	return last + DHT_TABLE_GOOD_MS;
}

static enum dht_table_state
entry_state(const struct entry *e, uint64_t now)
{
	if (e->fails >= DHT_TABLE_MAX_FAILS)
		return DHT_TABLE_BAD;
	if (good_until(e) > now)
		return DHT_TABLE_GOOD;
	return DHT_TABLE_QUESTIONABLE;
}

static void
entry_out(const struct entry *e, uint64_t now, struct dht_table_node *out)
{
	memcpy(out->id, e->id, sizeof(out->id));
	out->a = e->a;
	out->state = entry_state(e, now);
}

/* ---- addresses ----------------------------------------------------------- */

static size_t
ip_len(const struct dht_table *t)
{
	return t->family == ADDR_V4 ? 4 : 16;
}

/* The /24 or /64. */
static size_t
net_len(const struct dht_table *t)
{
	return t->family == ADDR_V4 ? 3 : 8;
}

/* The address as the table keeps it, if it is one the table may keep. */
static bool
norm(const struct dht_table *t, const struct netaddr *in, struct netaddr *a)
{
	*a = *in;
	addr_unmap(a);
	if (a->family == ADDR_V4)
		memset(a->ip + 4, 0, sizeof(a->ip) - 4);
	return a->family == t->family && addr_is_dialable(a);
}

/* The same, and the id is not ours. */
static bool
admit(const struct dht_table *t, const uint8_t *id, const struct netaddr *in,
    struct netaddr *a)
{
	return norm(t, in, a) && memcmp(id, t->id, sizeof(t->id)) != 0;
}

/*
 * Whether e holds a's place: the same IP, or on loopback the same IP and
 * port (nodes on one machine: a test DHT, where only local programs can
 * send from those addresses).
 */
static bool
same_place(const struct dht_table *t, const struct entry *e,
    const struct netaddr *a)
{
	if (memcmp(e->a.ip, a->ip, ip_len(t)) != 0)
		return false;
	return t->loopback_rules || !addr_is_loopback(a) ||
	    e->a.port == a->port;
}

/* The one entry with a's IP address, in a bucket or a cache. */
static bool
find_ip(struct dht_table *t, const struct netaddr *a, struct where *w)
{
	struct bucket	*b;
	size_t		 i, j;

	for (i = 0; i < t->nb; i++) {
		b = &t->b[i];
		for (j = 0; j < b->n; j++)
			if (same_place(t, &b->nodes[j], a)) {
				*w = (struct where){ b, &b->nodes[j], false };
				return true;
			}
		for (j = 0; j < b->ncache; j++)
			if (same_place(t, &b->cache[j], a)) {
				*w = (struct where){ b, &b->cache[j], true };
				return true;
			}
	}
	return false;
}

static unsigned
subnet_count(const struct dht_table *t, const struct bucket *b,
    const struct netaddr *a)
{
	size_t		i, len = net_len(t);
	unsigned	n = 0;

	if (!t->loopback_rules && addr_is_loopback(a))
		return 0;	/* exempt, as in same_place */
	for (i = 0; i < b->n; i++)
		n += memcmp(b->nodes[i].a.ip, a->ip, len) == 0;
	for (i = 0; i < b->ncache; i++)
		n += memcmp(b->cache[i].a.ip, a->ip, len) == 0;
	return n;
}

/* ---- buckets ------------------------------------------------------------- */

static void
entry_remove(struct bucket *b, struct entry *e, bool cached)
{
	struct entry	*arr = cached ? b->cache : b->nodes;
	uint8_t		*n = cached ? &b->ncache : &b->n;

	*e = arr[*n - 1];
	(*n)--;
}

static struct entry *
bad_node(struct bucket *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		if (b->nodes[i].fails >= DHT_TABLE_MAX_FAILS)
			return &b->nodes[i];
	return NULL;
}

/*
 * The verified node of the cache to enter the bucket next: one with a
 * BEP 42 id before one without, then the one that answered last.
 */
static struct entry *
best_candidate(struct bucket *b)
{
	struct entry	*e, *best = NULL;
	size_t		 i;

	for (i = 0; i < b->ncache; i++) {
		e = &b->cache[i];
		if (!e->replied || e->fails > 0)
			continue;
		if (best == NULL || e->bep42 > best->bep42 ||
		    (e->bep42 == best->bep42 &&
		    e->last_reply > best->last_reply))
			best = e;
	}
	return best;
}

static bool
has_candidate(const struct bucket *b)
{
	size_t	i;

	for (i = 0; i < b->ncache; i++)
		if (b->cache[i].replied && b->cache[i].fails == 0)
			return true;
	return false;
}

/* A free place, or a bad node's. */
static bool
has_room(const struct bucket *b)
{
	size_t	i;

	if (b->n < DHT_TABLE_K)
		return true;
	for (i = 0; i < b->n; i++)
		if (b->nodes[i].fails >= DHT_TABLE_MAX_FAILS)
			return true;
	return false;
}

/* Room in b, counting the split of our own bucket. */
static bool
room_for(const struct dht_table *t, const struct bucket *b)
{
	return has_room(b) || (b == &t->b[t->nb - 1] &&
	    t->nb < DHT_TABLE_MAX_BUCKETS);
}

/* Verified nodes of the cache take free places and those of bad nodes. */
static void
bucket_fill(struct bucket *b, uint64_t now)
{
	struct entry	*c, *slot;

	while ((c = best_candidate(b)) != NULL) {
		if (b->n < DHT_TABLE_K)
			slot = &b->nodes[b->n++];
		else if ((slot = bad_node(b)) == NULL)
			break;
		*slot = *c;
		entry_remove(b, c, true);
		b->changed = now;
	}
}

/* The last bucket (ours) becomes two. */
static void
split(struct dht_table *t, uint64_t now)
{
	struct bucket	*old = &t->b[t->nb - 1], *nw = &t->b[t->nb];
	unsigned	 depth = (unsigned)(t->nb - 1);
	size_t		 i;

	memset(nw, 0, sizeof(*nw));
	nw->changed = old->changed;
	nw->refreshed = old->refreshed;
	t->nb++;
	for (i = 0; i < old->n;) {
		if (common_bits(t->id, old->nodes[i].id) > depth) {
			nw->nodes[nw->n++] = old->nodes[i];
			entry_remove(old, &old->nodes[i], false);
		} else
			i++;
	}
	for (i = 0; i < old->ncache;) {
		if (common_bits(t->id, old->cache[i].id) > depth) {
			nw->cache[nw->ncache++] = old->cache[i];
			entry_remove(old, &old->cache[i], true);
		} else
			i++;
	}
	bucket_fill(old, now);
	bucket_fill(nw, now);
}

/*
 * Into the cache of b: a full cache gives up an unverified node (the one
 * heard from longest ago) for anyone, a verified one only for a verified
 * newcomer.
 */
static enum placed
cache_add(struct bucket *b, const struct entry *e)
{
	struct entry	*c, *victim = NULL;
	size_t		 i;

	if (b->ncache < DHT_TABLE_REPL) {
		b->cache[b->ncache++] = *e;
		return PLACED_CACHE;
	}
	for (i = 0; i < b->ncache; i++) {
		c = &b->cache[i];
		if (!c->replied && (victim == NULL ||
		    c->last_query < victim->last_query))
			victim = c;
	}
	if (victim == NULL && e->replied)
		for (i = 0; i < b->ncache; i++) {
			c = &b->cache[i];
			if (victim == NULL || c->last_reply < victim->last_reply)
				victim = c;
		}
	if (victim == NULL)
		return PLACED_NONE;
	*victim = *e;
	return PLACED_CACHE;
}

/* A node with no entry yet. */
static enum placed
place(struct dht_table *t, const uint8_t *id, const struct netaddr *a,
    uint64_t now, enum how how)
{
	struct bucket	*b;
	struct entry	 e, *slot;

	memset(&e, 0, sizeof(e));
	memcpy(e.id, id, sizeof(e.id));
	e.a = *a;
	e.bep42 = dht_table_id_valid(id, a);
	if (how == HOW_RESPONSE) {
		e.replied = true;
		e.last_reply = now;
	} else if (how == HOW_QUERY)
		e.last_query = now;
	for (;;) {
		b = bucket_of(t, id);
		if (subnet_count(t, b, a) >= t->subnet_max)
			return PLACED_NONE;
		if (how == HOW_QUERY)
			break;
		if (b->n < DHT_TABLE_K) {
			b->nodes[b->n++] = e;
			if (how == HOW_RESPONSE)
				b->changed = now;
			return PLACED_BUCKET;
		}
		if (how == HOW_RESPONSE && (slot = bad_node(b)) != NULL) {
			*slot = e;
			b->changed = now;
			return PLACED_BUCKET;
		}
		if (b != &t->b[t->nb - 1] || t->nb == DHT_TABLE_MAX_BUCKETS)
			break;
		split(t, now);
	}
	if (how == HOW_IMPORT)
		return PLACED_NONE;
	return cache_add(b, &e);
}

/* ---- what the node saw --------------------------------------------------- */

bool
dht_table_on_response(struct dht_table *t, const uint8_t id[20],
    const struct netaddr *in, uint64_t now)
{
	struct netaddr	 a;
	struct where	 w;
	struct entry	*e;

	if (!admit(t, id, in, &a))
		return false;
	if (find_ip(t, &a, &w)) {
		e = w.e;
		if (e->a.port != a.port && e->fails < DHT_TABLE_MAX_FAILS)
			return false;	/* one entry per IP */
		if (e->a.port != a.port || memcmp(e->id, id, 20) != 0) {
			/* The old node is gone from there. */
			entry_remove(w.b, e, w.cached);
			bucket_fill(w.b, now);
			return place(t, id, &a, now, HOW_RESPONSE) ==
			    PLACED_BUCKET;
		}
		e->replied = true;
		e->last_reply = now;
		e->fails = 0;
		e->pinging = false;
		if (!w.cached) {
			w.b->changed = now;
			return true;
		}
		bucket_fill(w.b, now);
		if (find_ip(t, &a, &w) && w.cached &&
		    w.b == &t->b[t->nb - 1] && t->nb < DHT_TABLE_MAX_BUCKETS) {
			/* verified, and our own bucket can split for it */
			entry_remove(w.b, w.e, true);
			return place(t, id, &a, now, HOW_RESPONSE) ==
			    PLACED_BUCKET;
		}
		return find_ip(t, &a, &w) && !w.cached;
	}
	return place(t, id, &a, now, HOW_RESPONSE) == PLACED_BUCKET;
}

void
dht_table_on_query(struct dht_table *t, const uint8_t id[20],
    const struct netaddr *in, uint64_t now)
{
	struct netaddr	a;
	struct where	w;

	if (!admit(t, id, in, &a))
		return;
	if (find_ip(t, &a, &w)) {
		if (w.e->a.port == a.port && memcmp(w.e->id, id, 20) == 0)
			w.e->last_query = now;
		return;
	}
	place(t, id, &a, now, HOW_QUERY);
}

bool
dht_table_verified(const struct dht_table *t, const struct netaddr *in)
{
	struct netaddr	a;
	struct where	w;

	if (!norm(t, in, &a) || !find_ip((struct dht_table *)t, &a, &w))
		return false;
	return w.e->replied && w.e->a.port == a.port;
}

void
dht_table_on_timeout(struct dht_table *t, const uint8_t id[20],
    const struct netaddr *in, uint64_t now)
{
	struct netaddr	 a;
	struct where	 w;
	struct entry	*e, *c;

	if (!admit(t, id, in, &a) || !find_ip(t, &a, &w))
		return;
	e = w.e;
	if (e->a.port != a.port || memcmp(e->id, id, 20) != 0)
		return;
	if (w.cached) {
		entry_remove(w.b, e, true);
		return;
	}
	e->pinging = false;
	if (e->fails < UINT8_MAX)
		e->fails++;
	if ((c = best_candidate(w.b)) != NULL) {
		*e = *c;
		entry_remove(w.b, c, true);
		w.b->changed = now;
	}
}

/* ---- work ---------------------------------------------------------------- */

/* Until when a ping handed out for a node of b may still be answered. */
static uint64_t
bucket_busy_until(const struct bucket *b)
{
	uint64_t	until = 0;
	size_t		i;

	for (i = 0; i < b->n; i++)
		if (b->nodes[i].pinging)
			until = MAX(until, b->nodes[i].ping_at +
			    DHT_TABLE_PING_GAP_MS);
	return until;
}

/* When e is due for a ping; UINT64_MAX: not while things stay as they are. */
static uint64_t
ping_due(const struct entry *e, bool cached, bool cand, uint64_t busy,
    bool room)
{
	uint64_t	at = e->ping_at ? e->ping_at + DHT_TABLE_PING_GAP_MS : 0;

	if (cached) {
		/* Unverified, and there is room for it once it answers (our
		   own bucket splits for it). */
		if (e->replied || !room)
			return UINT64_MAX;
		return at;
	}
	if (e->fails >= DHT_TABLE_MAX_FAILS)
		return UINT64_MAX;
	if (!e->replied)
		return at;		/* imported: never answered us */
	if (!cand)
		return UINT64_MAX;
	return MAX(MAX(at, busy), good_until(e));
}

static uint64_t
heard(const struct entry *e)
{
	return MAX(e->last_reply, e->last_query);
}

bool
dht_table_next_ping(struct dht_table *t, uint64_t now,
    struct dht_table_node *out)
{
	struct bucket	*b;
	struct entry	*e, *pick;
	uint64_t	 busy, due, best;
	bool		 cand, bucket_pick;
	size_t		 i, j;

	for (i = 0; i < t->nb; i++) {
		b = &t->b[i];
		cand = has_candidate(b);
		busy = bucket_busy_until(b);
		pick = NULL;
		best = UINT64_MAX;
		for (j = 0; j < b->n; j++) {
			e = &b->nodes[j];
			due = ping_due(e, false, cand, busy, false);
			if (due <= now && (pick == NULL || heard(e) < best)) {
				pick = e;	/* the least recently heard */
				best = heard(e);
			}
		}
		bucket_pick = pick != NULL;
		for (j = 0; !bucket_pick && j < b->ncache; j++) {
			e = &b->cache[j];
			if (ping_due(e, true, cand, busy,
			    room_for(t, b)) <= now &&
			    (pick == NULL || e->last_query > pick->last_query))
				pick = e;	/* the latest heard from */
		}
		if (pick != NULL) {
			pick->ping_at = now;
			pick->pinging = true;
			entry_out(pick, now, out);
			return true;
		}
	}
	return false;
}

static uint64_t
refresh_due(const struct bucket *b)
{
	return MAX(b->changed, b->refreshed) + DHT_TABLE_REFRESH_MS;
}

/* A random id in bucket i's range. */
static void
random_in(struct dht_table *t, size_t i, uint8_t target[20])
{
	uint8_t		r[24], mask, bit;
	size_t		k;

	for (k = 0; k < sizeof(r); k += 8)
		store_be64(r + k, prng_next(&t->rng));
	memcpy(target, r, 20);
	memcpy(target, t->id, i / 8);
	if (i % 8 != 0) {
		mask = (uint8_t)(0xff << (8 - i % 8));
		target[i / 8] = (uint8_t)((t->id[i / 8] & mask) |
		    (target[i / 8] & ~mask));
	}
	if (i < t->nb - 1) {
		bit = (uint8_t)(0x80 >> (i % 8));
		target[i / 8] = (uint8_t)((target[i / 8] & ~bit) |
		    (~t->id[i / 8] & bit));
	}
}

bool
dht_table_next_refresh(struct dht_table *t, uint64_t now, uint8_t target[20])
{
	size_t	i;

	for (i = 0; i < t->nb; i++)
		if (refresh_due(&t->b[i]) <= now) {
			random_in(t, i, target);
			t->b[i].refreshed = now;
			return true;
		}
	return false;
}

uint64_t
dht_table_deadline(const struct dht_table *t)
{
	const struct bucket	*b;
	uint64_t		 d = UINT64_MAX, busy;
	bool			 cand;
	size_t			 i, j;

	for (i = 0; i < t->nb; i++) {
		b = &t->b[i];
		d = MIN(d, refresh_due(b));
		cand = has_candidate(b);
		busy = bucket_busy_until(b);
		for (j = 0; j < b->n; j++)
			d = MIN(d, ping_due(&b->nodes[j], false, cand, busy,
			    false));
		for (j = 0; j < b->ncache; j++)
			d = MIN(d, ping_due(&b->cache[j], true, cand, busy,
			    room_for(t, b)));
	}
	return d;
}

/* ---- answers ------------------------------------------------------------- */

struct near {
	uint8_t			d[20];	/* XOR distance to the target */
	bool			good;
	const struct entry	*e;
};

static int
near_cmp_dist(const void *x, const void *y)
{
	const struct near	*a = x, *b = y;

	return memcmp(a->d, b->d, sizeof(a->d));
}

static int
near_cmp_good(const void *x, const void *y)
{
	const struct near	*a = x, *b = y;

	if (a->good != b->good)
		return a->good ? -1 : 1;
	return near_cmp_dist(x, y);
}

size_t
dht_table_closest(const struct dht_table *t, const uint8_t target[20],
    uint64_t now, struct dht_table_node *out, size_t max)
{
	const struct bucket	*b;
	const struct entry	*e;
	struct near		*v;
	enum dht_table_state	 st;
	size_t			 i, j, k, n = 0;

	if (max == 0)
		return 0;
	v = xreallocarray(NULL, t->nb * DHT_TABLE_K, sizeof(*v));
	for (i = 0; i < t->nb; i++) {
		b = &t->b[i];
		for (j = 0; j < b->n; j++) {
			e = &b->nodes[j];
			if ((st = entry_state(e, now)) == DHT_TABLE_BAD)
				continue;
			for (k = 0; k < 20; k++)
				v[n].d[k] = e->id[k] ^ target[k];
			v[n].good = st == DHT_TABLE_GOOD;
			v[n++].e = e;
		}
	}
	qsort(v, n, sizeof(*v), near_cmp_good);
	n = MIN(n, max);
	qsort(v, n, sizeof(*v), near_cmp_dist);
	for (i = 0; i < n; i++)
		entry_out(v[i].e, now, &out[i]);
	free(v);
	return n;
}

size_t
dht_table_count(const struct dht_table *t, uint64_t now, size_t *good,
    size_t *questionable)
{
	const struct bucket	*b;
	size_t			 i, j, n = 0, g = 0, q = 0;

	for (i = 0; i < t->nb; i++) {
		b = &t->b[i];
		for (j = 0; j < b->n; j++)
			switch (entry_state(&b->nodes[j], now)) {
			case DHT_TABLE_GOOD:
				g++;
				break;
			case DHT_TABLE_QUESTIONABLE:
				q++;
				break;
			case DHT_TABLE_BAD:
				break;
			}
		n += b->n;
	}
	if (good != NULL)
		*good = g;
	if (questionable != NULL)
		*questionable = q;
	return n;
}

size_t
dht_table_nbuckets(const struct dht_table *t)
{
	return t->nb;
}

size_t
dht_table_bucket_count(const struct dht_table *t, size_t i, size_t *cached)
{
	if (i >= t->nb) {
		if (cached != NULL)
			*cached = 0;
		return 0;
	}
	if (cached != NULL)
		*cached = t->b[i].ncache;
	return t->b[i].n;
}

/* ---- persistence --------------------------------------------------------- */

size_t
dht_table_export(const struct dht_table *t, uint64_t now,
    struct dht_table_node *out, size_t max)
{
	const struct bucket	*b;
	size_t			 i, j, n = 0;

	for (i = t->nb; i-- > 0 && n < max;) {	/* nearest buckets first */
		b = &t->b[i];
		for (j = 0; j < b->n && n < max; j++)
			if (entry_state(&b->nodes[j], now) == DHT_TABLE_GOOD)
				entry_out(&b->nodes[j], now, &out[n++]);
	}
	return n;
}

size_t
dht_table_import(struct dht_table *t, const struct dht_table_node *v,
    size_t n, uint64_t now)
{
	struct netaddr	a;
	struct where	w;
	size_t		i, in = 0;

	for (i = 0; i < n; i++) {
		if (!admit(t, v[i].id, &v[i].a, &a) || find_ip(t, &a, &w))
			continue;
		in += place(t, v[i].id, &a, now, HOW_IMPORT) == PLACED_BUCKET;
	}
	return in;
}

/* ---- BEP 42 -------------------------------------------------------------- */

static const uint32_t crc32c_tab[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4,
	0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
	0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
	0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b,
	0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54,
	0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
	0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
	0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5,
	0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45,
	0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
	0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48,
	0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687,
	0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
	0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
	0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8,
	0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096,
	0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
	0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9,
	0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36,
	0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
	0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
	0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043,
	0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3,
	0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
	0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
	0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652,
	0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d,
	0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
	0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
	0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2,
	0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530,
	0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
	0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
	0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f,
	0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90,
	0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
	0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321,
	0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81,
	0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
	0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t
dht_table_crc32c(const void *p, size_t len)
{
	const uint8_t	*s = p;
	uint32_t	 c = 0xffffffff;

	while (len-- > 0)
		c = crc32c_tab[(c ^ *s++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffff;
}

/* Local addresses, where BEP 42 does not apply. */
static bool
bep42_exempt(const struct netaddr *a)
{
	const uint8_t	*p = a->ip;

	if (a->family == ADDR_V4)
		return p[0] == 10 || p[0] == 127 ||
		    (p[0] == 172 && (p[1] & 0xf0) == 16) ||
		    (p[0] == 192 && p[1] == 168) ||
		    (p[0] == 169 && p[1] == 254);
	return addr_is_loopback(a) || (p[0] & 0xfe) == 0xfc ||
	    (p[0] == 0xfe && (p[1] & 0xc0) == 0x80);
}

/* crc32c of the masked address with r in its top 3 bits. */
static uint32_t
bep42_crc(const struct netaddr *a, uint8_t r)
{
	static const uint8_t	m4[] = { 0x03, 0x0f, 0x3f, 0xff };
	static const uint8_t	m6[] = { 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f,
				    0x7f, 0xff };
	const uint8_t		*m = a->family == ADDR_V4 ? m4 : m6;
	size_t			 i, n = a->family == ADDR_V4 ? 4 : 8;
	uint8_t			 ip[8];

	for (i = 0; i < n; i++)
		ip[i] = a->ip[i] & m[i];
	ip[0] |= (uint8_t)((r & 7) << 5);
	return dht_table_crc32c(ip, n);
}

bool
dht_table_id_valid(const uint8_t id[20], const struct netaddr *in)
{
	struct netaddr	a = *in;
	uint32_t	crc;

	addr_unmap(&a);
	if (a.family != ADDR_V4 && a.family != ADDR_V6)
		return false;
	if (bep42_exempt(&a))
		return true;
	crc = bep42_crc(&a, id[19]);
	return id[0] == (uint8_t)(crc >> 24) && id[1] == (uint8_t)(crc >> 16) &&
	    (id[2] & 0xf8) == ((crc >> 8) & 0xf8);
}

void
dht_table_make_id(const struct netaddr *external, uint8_t r, uint8_t out[20],
    struct prng *rng)
{
	struct netaddr	a;
	uint8_t		buf[24];
	uint32_t	crc;
	size_t		k;

	for (k = 0; k < sizeof(buf); k += 8)
		store_be64(buf + k, prng_next(rng));
	memcpy(out, buf, 20);
	out[19] = r;
	if (external == NULL)
		return;
	a = *external;
	addr_unmap(&a);
	if (a.family != ADDR_V4 && a.family != ADDR_V6)
		return;
	crc = bep42_crc(&a, r);
	out[0] = (uint8_t)(crc >> 24);
	out[1] = (uint8_t)(crc >> 16);
	out[2] = (uint8_t)(((crc >> 8) & 0xf8) | (out[2] & 7));
}
