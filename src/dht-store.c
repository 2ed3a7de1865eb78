/* dht-store.c - what a DHT node keeps for others: tokens, peers, rates */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "dht-store.h"
#include "util.h"

#define NIL		UINT32_MAX
#define SECRET_LEN	16
#define MAX_PER_HASH	1024		/* the most opts->max_per_hash may be */
#define MAX_HASHES	(1u << 20)
#define MAX_PEERS	(1u << 24)
#define MAX_RATE_SLOTS	(1u << 20)
#define RATE_WAYS	4
#define TABLE_FIRST	64		/* index slots at first, doubled as needed */
#define MILLI		1000u		/* a query, in bucket units */

/* A stored peer; free ones chain through next. */
struct dpeer {
	struct netaddr	a;
	bool		seed;
	uint32_t	next;		/* next peer of its info-hash */
	uint64_t	expires;	/* ms */
};

/* A stored info-hash; free ones chain through next. */
struct dhash {
	uint8_t		ih[20];
	bool		used;
	uint32_t	h;		/* keyed hash of ih */
	uint32_t	head;		/* first peer, NIL when none */
	uint32_t	npeers;
	uint32_t	prev, next;	/* LRU list: most recent announce first */
};

/* A source IP's token bucket. */
struct rslot {
	uint8_t		key[16];	/* the IP; IPv6 cut to its /64 */
	uint8_t		family;		/* 0: free */
	uint32_t	tokens;		/* in MILLI units of a query */
	uint64_t	last;		/* ms, last refill */
};

struct dht_store {
	struct dht_store_opts	 o;
	struct prng		 rng;
	uint8_t			 hkey[16];	/* SipHash key */

	uint8_t			 secret[2][SECRET_LEN];	/* current, previous */
	uint64_t		 period;	/* ms, current secret's start */
	bool			 started;

	uint32_t		*table;		/* index of a dhash, or NIL */
	uint32_t		 tmask;
	struct dhash		*hashes;
	uint32_t		 nalloc_h, nhashes, free_h;
	uint32_t		 lru_head, lru_tail;
	struct dpeer		*peers;
	uint32_t		 nalloc_p, npeers, free_p;
	uint32_t		*scratch;	/* max_per_hash peer indices */
	uint64_t		 next_sweep;	/* ms, or UINT64_MAX */

	struct rslot		*rate;
	uint32_t		 rmask;		/* sets - 1 */
};

/* ---- SipHash-2-4: a keyed hash attackers cannot aim at one slot ------- */

static inline uint64_t
rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND do {							\
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);	\
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);	\
} while (0)

static uint64_t
siphash(const uint8_t key[16], const uint8_t *p, size_t len)
{
	uint64_t	k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t	v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t	v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t	m, b = (uint64_t)len << 56;
	size_t		i, rest = len % 8;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < rest; i++)
		b |= (uint64_t)p[len - rest + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- creation ---------------------------------------------------------- */

static void
fill_random(struct dht_store *s, void *p, size_t n)
{
	uint8_t		*b = p;
	uint64_t	 r;
	size_t		 i;

	if (!s->o.deterministic) {
		rand_bytes(p, n);
		return;
	}
	for (i = 0; i < n; i += 8) {
		r = prng_next(&s->rng);
		memcpy(b + i, &r, MIN(8, n - i));
	}
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t	p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t
opt(uint32_t v, uint32_t def, uint32_t max)
{
	return v == 0 ? def : MIN(v, max);
}

struct dht_store *
dht_store_new(const struct dht_store_opts *o, uint64_t seed)
{
	struct dht_store	*s;
	uint32_t		 i, slots;

	s = xcalloc(1, sizeof(*s));
	if (o != NULL)
		s->o = *o;
	s->o.max_hashes = opt(s->o.max_hashes, DHT_STORE_MAX_HASHES,
	    MAX_HASHES);
	s->o.max_peers = opt(s->o.max_peers, DHT_STORE_MAX_PEERS, MAX_PEERS);
	s->o.max_per_hash = opt(s->o.max_per_hash, DHT_STORE_MAX_PER_HASH,
	    MIN(MAX_PER_HASH, s->o.max_peers));
	s->o.rate = opt(s->o.rate, DHT_STORE_RATE, 1000000);
	s->o.burst = opt(s->o.burst, DHT_STORE_BURST, 1000000);
	s->o.rate_slots = opt(s->o.rate_slots, DHT_STORE_RATE_SLOTS,
	    MAX_RATE_SLOTS);
	prng_seed(&s->rng, seed);
	fill_random(s, s->hkey, sizeof(s->hkey));
	fill_random(s, s->secret, sizeof(s->secret));

	/* Load factor at most 1/2: probes stay short.  The index grows with
	   the store (an idle node's is small: thousands in a simulator). */
	s->tmask = MIN(TABLE_FIRST, pow2_at_least(2 * s->o.max_hashes)) - 1;
	s->table = xreallocarray(NULL, (size_t)s->tmask + 1,
	    sizeof(*s->table));
	for (i = 0; i <= s->tmask; i++)
		s->table[i] = NIL;
	s->free_h = s->free_p = NIL;
	s->lru_head = s->lru_tail = NIL;
	s->scratch = xreallocarray(NULL, s->o.max_per_hash,
	    sizeof(*s->scratch));
	s->next_sweep = UINT64_MAX;

	slots = pow2_at_least(MAX(s->o.rate_slots, RATE_WAYS));
	s->o.rate_slots = slots;
	s->rmask = slots / RATE_WAYS - 1;
	s->rate = xcalloc(slots, sizeof(*s->rate));
	return s;
}

void
dht_store_free(struct dht_store *s)
{
	if (s == NULL)
		return;
	free(s->table);
	free(s->hashes);
	free(s->peers);
	free(s->scratch);
	free(s->rate);
	free(s);
}

/* ---- tokens ------------------------------------------------------------ */

/* Moves the secrets on to the period holding now. */
static void
rotate(struct dht_store *s, uint64_t now)
{
	uint64_t	n;

	if (!s->started) {
		s->started = true;
		s->period = now;
		return;
	}
	if (now < s->period + DHT_STORE_SECRET_MS)
		return;		/* also when the clock steps back */
	n = (now - s->period) / DHT_STORE_SECRET_MS;
	if (n == 1)
		memcpy(s->secret[1], s->secret[0], SECRET_LEN);
	else
		fill_random(s, s->secret[1], SECRET_LEN);
	fill_random(s, s->secret[0], SECRET_LEN);
	s->period += n * DHT_STORE_SECRET_MS;
}

/* The IP alone, v4-mapped made plain, with its family in front. */
static size_t
ip_bytes(const struct netaddr *a, uint8_t out[17])
{
	struct netaddr	u = *a;
	size_t		n;

	addr_unmap(&u);
	n = u.family == ADDR_V4 ? 4 : 16;
	out[0] = u.family;
	memcpy(out + 1, u.ip, n);
	return 1 + n;
}

static void
make_token(const uint8_t secret[SECRET_LEN], const struct netaddr *a,
    uint8_t out[DHT_STORE_TOKEN_LEN])
{
	uint8_t	buf[SECRET_LEN + 17], md[SHA1_LEN];
	size_t	n;

	memcpy(buf, secret, SECRET_LEN);
	n = ip_bytes(a, buf + SECRET_LEN);
	sha1(buf, SECRET_LEN + n, md);
	memcpy(out, md, DHT_STORE_TOKEN_LEN);
}

void
dht_store_token(struct dht_store *s, const struct netaddr *requester,
    uint64_t now, uint8_t out[DHT_STORE_TOKEN_LEN])
{
	rotate(s, now);
	make_token(s->secret[0], requester, out);
}

bool
dht_store_token_ok(struct dht_store *s, const struct netaddr *requester,
    const uint8_t *token, size_t len, uint64_t now)
{
	uint8_t		t[2][DHT_STORE_TOKEN_LEN];
	unsigned	d0 = 0, d1 = 0;
	size_t		i;

	if (len != DHT_STORE_TOKEN_LEN)
		return false;
	rotate(s, now);
	make_token(s->secret[0], requester, t[0]);
	make_token(s->secret[1], requester, t[1]);
	for (i = 0; i < DHT_STORE_TOKEN_LEN; i++) {
		d0 |= t[0][i] ^ token[i];
		d1 |= t[1][i] ^ token[i];
	}
	return (d0 == 0) | (d1 == 0);
}

/* ---- the info-hash table ----------------------------------------------- */

static uint32_t
hash_ih(const struct dht_store *s, const uint8_t ih[20])
{
	return (uint32_t)siphash(s->hkey, ih, 20);
}

static uint32_t
find(const struct dht_store *s, const uint8_t ih[20])
{
	uint32_t	i, x;

	for (i = hash_ih(s, ih) & s->tmask; (x = s->table[i]) != NIL;
	    i = (i + 1) & s->tmask)
		if (memcmp(s->hashes[x].ih, ih, 20) == 0)
			return x;
	return NIL;
}

/* Takes x out of the table, shifting back the entries probed past it. */
static void
table_remove(struct dht_store *s, uint32_t x)
{
	uint32_t	i, j, home, y;

	for (i = s->hashes[x].h & s->tmask; s->table[i] != x;
	    i = (i + 1) & s->tmask)
		assert(s->table[i] != NIL);
	s->table[i] = NIL;
	for (j = (i + 1) & s->tmask; (y = s->table[j]) != NIL;
	    j = (j + 1) & s->tmask) {
		home = s->hashes[y].h & s->tmask;
		if (((j - home) & s->tmask) >= ((j - i) & s->tmask)) {
			s->table[i] = y;
			s->table[j] = NIL;
			i = j;
		}
	}
}

static void
lru_unlink(struct dht_store *s, uint32_t x)
{
	struct dhash	*h = &s->hashes[x];

	if (h->prev != NIL)
		s->hashes[h->prev].next = h->next;
	else
		s->lru_head = h->next;
	if (h->next != NIL)
		s->hashes[h->next].prev = h->prev;
	else
		s->lru_tail = h->prev;
}

static void
lru_push(struct dht_store *s, uint32_t x)
{
	struct dhash	*h = &s->hashes[x];

	h->prev = NIL;
	h->next = s->lru_head;
	if (s->lru_head != NIL)
		s->hashes[s->lru_head].prev = x;
	else
		s->lru_tail = x;
	s->lru_head = x;
}

static void
peer_release(struct dht_store *s, uint32_t p)
{
	s->peers[p].next = s->free_p;
	s->free_p = p;
	s->npeers--;
}

/* Drops info-hash x and all its peers. */
static void
hash_drop(struct dht_store *s, uint32_t x)
{
	struct dhash	*h = &s->hashes[x];
	uint32_t	 p, next;

	for (p = h->head; p != NIL; p = next) {
		next = s->peers[p].next;
		peer_release(s, p);
	}
	table_remove(s, x);
	lru_unlink(s, x);
	memset(h, 0, sizeof(*h));
	h->next = s->free_h;
	s->free_h = x;
	s->nhashes--;
}

/* Grows an array by doubling up to cap entries; the caller checked room. */
static void *
grow(void *p, uint32_t *nalloc, uint32_t cap, size_t size)
{
	uint32_t	n = MIN(MAX(*nalloc * 2, 64u), cap);

	assert(n > *nalloc);
	p = xreallocarray(p, n, size);
	*nalloc = n;
	return p;
}

/* Doubles the index when one more info-hash would load it over 1/2. */
static void
table_grow(struct dht_store *s)
{
	uint32_t	n = s->tmask + 1, i, x;

	if (2 * (s->nhashes + 1) <= n ||
	    n >= pow2_at_least(2 * s->o.max_hashes))
		return;
	n *= 2;
	s->table = xreallocarray(s->table, n, sizeof(*s->table));
	s->tmask = n - 1;
	for (i = 0; i < n; i++)
		s->table[i] = NIL;
	for (x = 0; x < s->nalloc_h; x++) {
		if (!s->hashes[x].used)
			continue;
		for (i = s->hashes[x].h & s->tmask; s->table[i] != NIL;
		    i = (i + 1) & s->tmask)
			continue;
		s->table[i] = x;
	}
}

static uint32_t
hash_add(struct dht_store *s, const uint8_t ih[20])
{
	struct dhash	*h;
	uint32_t	 x, i;

	if (s->nhashes == s->o.max_hashes)
		hash_drop(s, s->lru_tail);
	table_grow(s);
	if (s->free_h == NIL) {
		s->hashes = grow(s->hashes, &s->nalloc_h, s->o.max_hashes,
		    sizeof(*s->hashes));
		for (x = s->nalloc_h; x-- > s->nhashes;) {
			s->hashes[x] = (struct dhash){ .next = s->free_h };
			s->free_h = x;
		}
	}
	x = s->free_h;
	h = &s->hashes[x];
	s->free_h = h->next;
	*h = (struct dhash){
		.used = true, .h = hash_ih(s, ih), .head = NIL,
	};
	memcpy(h->ih, ih, 20);
	for (i = h->h & s->tmask; s->table[i] != NIL; i = (i + 1) & s->tmask)
		continue;
	s->table[i] = x;
	lru_push(s, x);
	s->nhashes++;
	return x;
}

/* A free peer slot, dropping the stalest info-hash (never keep) if full. */
static uint32_t
peer_alloc(struct dht_store *s, uint32_t keep)
{
	uint32_t	p;

	while (s->npeers == s->o.max_peers) {
		assert(s->lru_tail != keep);
		hash_drop(s, s->lru_tail);
	}
	if (s->free_p == NIL) {
		s->peers = grow(s->peers, &s->nalloc_p, s->o.max_peers,
		    sizeof(*s->peers));
		for (p = s->nalloc_p; p-- > s->npeers;) {
			s->peers[p].next = s->free_p;
			s->free_p = p;
		}
	}
	p = s->free_p;
	s->free_p = s->peers[p].next;
	s->npeers++;
	return p;
}

/* ---- peers ------------------------------------------------------------- */

bool
dht_store_announce(struct dht_store *s, const uint8_t info_hash[20],
    const struct netaddr *peer, bool seed, uint64_t now)
{
	struct netaddr	 a = *peer;
	struct dhash	*h;
	struct dpeer	*d;
	uint32_t	 x, p, *link, oldest = NIL;

	addr_unmap(&a);
	if (!addr_is_dialable(&a))
		return false;
	x = find(s, info_hash);
	if (x == NIL)
		x = hash_add(s, info_hash);
	else {
		lru_unlink(s, x);
		lru_push(s, x);
	}
	h = &s->hashes[x];
	/* The same IP, dropping the expired on the way. */
	for (link = &h->head; (p = *link) != NIL;) {
		d = &s->peers[p];
		if (addr_ip_eq(&d->a, &a))
			break;
		if (d->expires <= now) {
			*link = d->next;
			peer_release(s, p);
			h->npeers--;
			continue;
		}
		if (oldest == NIL || d->expires < s->peers[oldest].expires)
			oldest = p;
		link = &d->next;
	}
	if (p == NIL && h->npeers >= s->o.max_per_hash)
		p = oldest;		/* full: the stalest makes room */
	if (p == NIL) {
		p = peer_alloc(s, x);
		h = &s->hashes[x];
		s->peers[p].next = h->head;
		h->head = p;
		h->npeers++;
	}
	d = &s->peers[p];
	d->a = a;
	d->seed = seed;
	d->expires = now + DHT_STORE_PEER_MS;
	if (s->next_sweep == UINT64_MAX)
		s->next_sweep = d->expires;
	return true;
}

/* Swaps a random one of idx[i..n) into idx[i]. */
static void
pick(struct prng *rng, uint32_t *idx, size_t i, size_t n)
{
	size_t		j = i + (size_t)prng_below(rng, n - i);
	uint32_t	t = idx[i];

	idx[i] = idx[j];
	idx[j] = t;
}

size_t
dht_store_get_filter(struct dht_store *s, const uint8_t info_hash[20],
    uint8_t family, bool noseed, uint64_t now, struct netaddr *out,
    size_t max, struct prng *rng)
{
	const struct dpeer	*d;
	uint32_t		*idx = s->scratch, x, p;
	size_t			 n = 0, nl = 0, i, k, pass;

	if ((x = find(s, info_hash)) == NIL || max == 0)
		return 0;
	/* With noseed, leechers in [0, nl), then seeds in [nl, n). */
	for (pass = 0; pass < (noseed ? 2 : 1); pass++) {
		for (p = s->hashes[x].head; p != NIL; p = d->next) {
			d = &s->peers[p];
			if (d->expires <= now ||
			    (family != 0 && d->a.family != family) ||
			    (noseed && d->seed != (pass == 1)))
				continue;
			assert(n < s->o.max_per_hash);
			idx[n++] = p;
		}
		if (pass == 0)
			nl = n;
	}
	if (!noseed)
		nl = n;
	/* Partial Fisher-Yates, drawing from [0, nl) before [nl, n). */
	k = MIN(n, max);
	for (i = 0; i < k; i++)
		pick(rng, idx, i, i < nl ? nl : n);
	for (i = 0; i < k; i++)
		out[i] = s->peers[idx[i]].a;
	return k;
}

size_t
dht_store_get(struct dht_store *s, const uint8_t info_hash[20],
    uint64_t now, struct netaddr *out, size_t max, struct prng *rng)
{
	return dht_store_get_filter(s, info_hash, 0, false, now, out, max,
	    rng);
}

void
dht_store_expire(struct dht_store *s, uint64_t now)
{
	struct dhash	*h;
	uint32_t	 x, p, *link;
	uint64_t	 first = UINT64_MAX;

	for (x = 0; x < s->nalloc_h; x++) {
		h = &s->hashes[x];
		if (!h->used)
			continue;
		for (link = &h->head; (p = *link) != NIL;) {
			if (s->peers[p].expires <= now) {
				*link = s->peers[p].next;
				peer_release(s, p);
				h->npeers--;
				continue;
			}
			first = MIN(first, s->peers[p].expires);
			link = &s->peers[p].next;
		}
		if (h->head == NIL)
			hash_drop(s, x);
	}
	s->next_sweep = first == UINT64_MAX ? UINT64_MAX :
	    MAX(first, now + DHT_STORE_SWEEP_MS);
}

uint64_t
dht_store_deadline(const struct dht_store *s)
{
	return s->next_sweep;
}

size_t
dht_store_nhashes(const struct dht_store *s)
{
	return s->nhashes;
}

size_t
dht_store_npeers(const struct dht_store *s)
{
	return s->npeers;
}

size_t
dht_store_memory(const struct dht_store *s)
{
	return sizeof(*s) +
	    ((size_t)s->tmask + 1) * sizeof(*s->table) +
	    (size_t)s->nalloc_h * sizeof(*s->hashes) +
	    (size_t)s->nalloc_p * sizeof(*s->peers) +
	    (size_t)s->o.max_per_hash * sizeof(*s->scratch) +
	    (size_t)s->o.rate_slots * sizeof(*s->rate);
}

/* ---- BEP 33 scrape, BEP 51 samples ------------------------------------- */

void
dht_store_bloom_add(uint8_t bloom[DHT_STORE_BLOOM_LEN],
    const struct netaddr *a)
{
	uint8_t		ip[17], md[SHA1_LEN];
	size_t		n = ip_bytes(a, ip);
	unsigned	i1, i2, m = DHT_STORE_BLOOM_LEN * 8;

	sha1(ip + 1, n - 1, md);
	i1 = (md[0] | (unsigned)md[1] << 8) % m;
	i2 = (md[2] | (unsigned)md[3] << 8) % m;
	bloom[i1 / 8] |= (uint8_t)(1u << (i1 % 8));
	bloom[i2 / 8] |= (uint8_t)(1u << (i2 % 8));
}

/* Natural logarithm of x > 0, without libm. */
static double
ln(double x)
{
	double	z, z2, term, sum = 0;
	int	e = 0, i;

	while (x < 0.5) {
		x *= 2;
		e--;
	}
	while (x > 1) {
		x /= 2;
		e++;
	}
	/* x in [0.5, 1]: ln x = 2 atanh z, |z| <= 1/3 */
	z = (x - 1) / (x + 1);
	z2 = z * z;
	term = z;
	for (i = 1; i < 80; i += 2) {
		sum += term / i;
		term *= z2;
	}
	return 2 * sum + e * 0.69314718055994530942;
}

double
dht_store_bloom_count(const uint8_t bloom[DHT_STORE_BLOOM_LEN])
{
	const double	m = DHT_STORE_BLOOM_LEN * 8, k = 2;
	unsigned	zeros = 0, i, b;

	for (i = 0; i < DHT_STORE_BLOOM_LEN; i++)
		for (b = 0; b < 8; b++)
			zeros += !(bloom[i] >> b & 1);
	if (zeros > m - 1)
		zeros = (unsigned)m - 1;
	if (zeros == 0)
		zeros = 1;		/* full: the largest estimate */
	return ln(zeros / m) / (k * ln(1 - 1 / m));
}

bool
dht_store_scrape(struct dht_store *s, const uint8_t info_hash[20],
    uint64_t now, uint8_t seeds[DHT_STORE_BLOOM_LEN],
    uint8_t peers[DHT_STORE_BLOOM_LEN])
{
	const struct dpeer	*d;
	uint8_t			 bs[DHT_STORE_BLOOM_LEN] = { 0 };
	uint8_t			 bp[DHT_STORE_BLOOM_LEN] = { 0 };
	uint32_t		 x, p;
	bool			 any = false;

	if ((x = find(s, info_hash)) == NIL)
		return false;
	for (p = s->hashes[x].head; p != NIL; p = d->next) {
		d = &s->peers[p];
		if (d->expires <= now)
			continue;
		dht_store_bloom_add(d->seed ? bs : bp, &d->a);
		any = true;
	}
	if (!any)
		return false;
	memcpy(seeds, bs, sizeof(bs));
	memcpy(peers, bp, sizeof(bp));
	return true;
}

size_t
dht_store_samples(struct dht_store *s, uint8_t (*out)[20], size_t max,
    struct prng *rng)
{
	size_t		seen = 0, j;
	uint32_t	x;

	if (max == 0)
		return 0;
	/* Reservoir sampling over the stored info-hashes. */
	for (x = 0; x < s->nalloc_h; x++) {
		if (!s->hashes[x].used)
			continue;
		if (seen < max)
			j = seen;
		else if ((j = (size_t)prng_below(rng, seen + 1)) >= max)
			j = SIZE_MAX;
		if (j != SIZE_MAX)
			memcpy(out[j], s->hashes[x].ih, 20);
		seen++;
	}
	return MIN(seen, max);
}

/* ---- query rates ------------------------------------------------------- */

bool
dht_store_rate_ok(struct dht_store *s, const struct netaddr *ip,
    uint64_t now)
{
	struct netaddr	 u = *ip;
	struct rslot	*set, *r = NULL;
	uint8_t		 key[17];
	uint64_t	 t;
	uint32_t	 cap = s->o.burst * MILLI;
	size_t		 n;
	int		 w;

	addr_unmap(&u);
	if (u.family != ADDR_V4 && u.family != ADDR_V6)
		return false;
	memset(key, 0, sizeof(key));
	key[0] = u.family;
	n = u.family == ADDR_V4 ? 4 : 8;	/* v6: its /64 */
	memcpy(key + 1, u.ip, n);
	set = &s->rate[(siphash(s->hkey, key, sizeof(key)) & s->rmask) *
	    RATE_WAYS];
	for (w = 0; w < RATE_WAYS; w++)
		if (set[w].family == key[0] &&
		    memcmp(set[w].key, key + 1, 16) == 0) {
			r = &set[w];
			break;
		}
	if (r == NULL) {
		/* A newcomer takes a free way, else the least recent. */
		r = &set[0];
		for (w = 1; w < RATE_WAYS && r->family != 0; w++)
			if (set[w].family == 0 || set[w].last < r->last)
				r = &set[w];
		r->family = key[0];
		memcpy(r->key, key + 1, 16);
		r->tokens = cap;
		r->last = now;
	}
	if (now > r->last) {
		t = r->tokens + MIN(now - r->last, (uint64_t)cap) * s->o.rate;
		r->tokens = (uint32_t)MIN(t, cap);
		r->last = now;
	}
	if (r->tokens < MILLI)
		return false;
	r->tokens -= MILLI;
	return true;
}
