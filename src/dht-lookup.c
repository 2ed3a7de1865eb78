/* dht-lookup.c - one iterative DHT lookup (BEP 5): whom to ask next */
#include <stdlib.h>
#include <string.h>

#include "dht-lookup.h"
#include "util.h"

enum cand_state {
	C_NEW,		/* not asked yet */
	C_FLIGHT,	/* asked, within its soft timeout */
	C_SLOW,		/* asked, past the soft timeout: a slot freed */
	C_DONE,		/* answered */
	C_FAILED,	/* hard timeout or an error */
};

struct cand {
	struct dht_lookup_node	n;
	enum cand_state		st;
	uint64_t		sent;	/* asked at (ms) */
};

struct dht_lookup {
	uint8_t			target[20];
	uint32_t		soft, hard;
	struct cand		c[DHT_LOOKUP_MAX];	/* closest first */
	size_t			n;
	struct dht_lookup_stats	st;
};

int
dht_distance_cmp(const uint8_t target[20], const uint8_t a[20],
    const uint8_t b[20])
{
	size_t	i;
	uint8_t	da, db;

	for (i = 0; i < 20; i++) {
		da = a[i] ^ target[i];
		db = b[i] ^ target[i];
		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

struct dht_lookup *
dht_lookup_new(const uint8_t target[20], uint32_t soft_ms, uint32_t hard_ms)
{
	struct dht_lookup	*l = xcalloc(1, sizeof(*l));

	memcpy(l->target, target, 20);
	l->hard = MAX(hard_ms, 1);
	l->soft = MIN(MAX(soft_ms, 1), l->hard);
	return l;
}

void
dht_lookup_free(struct dht_lookup *l)
{
	free(l);
}

/* Where a node with this id goes in the sorted array. */
static size_t
slot_for(const struct dht_lookup *l, const uint8_t id[20])
{
	size_t	lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (dht_distance_cmp(l->target, l->c[mid].n.id, id) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
remove_at(struct dht_lookup *l, size_t i)
{
	memmove(&l->c[i], &l->c[i + 1], (l->n - i - 1) * sizeof(l->c[0]));
	l->n--;
}

static void
insert_at(struct dht_lookup *l, size_t i, const struct cand *c)
{
	memmove(&l->c[i + 1], &l->c[i], (l->n - i) * sizeof(l->c[0]));
	l->c[i] = *c;
	l->n++;
}

void
dht_lookup_add(struct dht_lookup *l, const uint8_t id[20],
    const struct netaddr *a)
{
	struct cand	c;
	size_t		i, pos, victim = SIZE_MAX;

	if (!addr_is_dialable(a))
		return;
	for (i = 0; i < l->n; i++)
		if (memcmp(l->c[i].n.id, id, 20) == 0 ||
		    addr_eq(&l->c[i].n.a, a))
			return;
	pos = slot_for(l, id);
	if (l->n == DHT_LOOKUP_MAX) {
		/* Full: drop the farthest one not asked (or failed), if it
		   is farther than the newcomer. */
		for (i = l->n; i-- > pos; )
			if (l->c[i].st == C_NEW || l->c[i].st == C_FAILED) {
				victim = i;
				break;
			}
		if (victim == SIZE_MAX)
			return;
		remove_at(l, victim);
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.n.id, id, 20);
	c.n.a = *a;
	c.st = C_NEW;
	insert_at(l, pos, &c);
	l->st.candidates++;
}

/*
 * The window: the K closest candidates that still count (not failed, not
 * past their soft timeout).  A slow node leaves the window so that the
 * lookup neither waits for its hard timeout nor ends on its account; its
 * late answer still counts.
 */
static bool
in_window(const struct cand *c)
{
	return c->st == C_NEW || c->st == C_FLIGHT || c->st == C_DONE;
}

bool
dht_lookup_next(struct dht_lookup *l, uint64_t now,
    struct dht_lookup_node *out)
{
	size_t		i, k = 0;
	unsigned	flying = 0;

	/* Queries in flight count against ALPHA only while their node is
	   among the K closest: closer nodes named since are asked at once. */
	for (i = 0; i < l->n && k < DHT_LOOKUP_K; i++) {
		if (!in_window(&l->c[i]))
			continue;
		k++;
		flying += l->c[i].st == C_FLIGHT;
	}
	if (flying >= DHT_LOOKUP_ALPHA)
		return false;
	k = 0;
	for (i = 0; i < l->n && k < DHT_LOOKUP_K; i++) {
		if (!in_window(&l->c[i]))
			continue;
		k++;
		if (l->c[i].st != C_NEW)
			continue;
		l->c[i].st = C_FLIGHT;
		l->c[i].sent = now;
		l->st.sent++;
		*out = l->c[i].n;
		return true;
	}
	return false;
}

static size_t
find_asked(const struct dht_lookup *l, const struct netaddr *a)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (addr_eq(&l->c[i].n.a, a) && (l->c[i].st == C_FLIGHT ||
		    l->c[i].st == C_SLOW))
			return i;
	return SIZE_MAX;
}

bool
dht_lookup_answered(struct dht_lookup *l, const struct netaddr *a,
    const uint8_t id[20], const uint8_t *token, size_t token_len,
    uint64_t now)
{
	struct cand	c;
	size_t		i, j;

	(void)now;
	if ((i = find_asked(l, a)) == SIZE_MAX)
		return false;
	c = l->c[i];
	c.st = C_DONE;
	c.n.token_len = 0;
	if (token != NULL && token_len > 0 && token_len <= DHT_LOOKUP_TOKEN) {
		memcpy(c.n.token, token, token_len);
		c.n.token_len = (uint8_t)token_len;
	}
	l->st.answered++;
	remove_at(l, i);
	if (memcmp(c.n.id, id, 20) != 0) {
		/* It is where its real id says; another entry may hold that
		   id already (then that one goes). */
		for (j = 0; j < l->n; j++)
			if (memcmp(l->c[j].n.id, id, 20) == 0) {
				remove_at(l, j);
				break;
			}
		memcpy(c.n.id, id, 20);
	}
	insert_at(l, slot_for(l, c.n.id), &c);
	return true;
}

void
dht_lookup_failed(struct dht_lookup *l, const struct netaddr *a)
{
	size_t	i;

	if ((i = find_asked(l, a)) == SIZE_MAX)
		return;
	l->c[i].st = C_FAILED;
	l->st.failed++;
}

void
dht_lookup_tick(struct dht_lookup *l, uint64_t now)
{
	struct cand	*c;
	size_t		 i;

	for (i = 0; i < l->n; i++) {
		c = &l->c[i];
		if (c->st != C_FLIGHT && c->st != C_SLOW)
			continue;
		if (now >= c->sent + l->hard) {
			c->st = C_FAILED;
			l->st.failed++;
		} else if (c->st == C_FLIGHT && now >= c->sent + l->soft) {
			c->st = C_SLOW;
		}
	}
}

uint64_t
dht_lookup_deadline(const struct dht_lookup *l)
{
	uint64_t	t = UINT64_MAX;
	size_t		i;

	for (i = 0; i < l->n; i++) {
		if (l->c[i].st == C_FLIGHT)
			t = MIN(t, l->c[i].sent + l->soft);
		else if (l->c[i].st == C_SLOW)
			t = MIN(t, l->c[i].sent + l->hard);
	}
	return t;
}

bool
dht_lookup_done(const struct dht_lookup *l)
{
	size_t	i, k = 0;

	for (i = 0; i < l->n && k < DHT_LOOKUP_K; i++) {
		if (!in_window(&l->c[i]))
			continue;
		if (l->c[i].st != C_DONE)
			return false;
		k++;
	}
	return true;
}

size_t
dht_lookup_results(const struct dht_lookup *l, struct dht_lookup_node *out,
    size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < l->n && n < max; i++)
		if (l->c[i].st == C_DONE)
			out[n++] = l->c[i].n;
	return n;
}

void
dht_lookup_stats(const struct dht_lookup *l, struct dht_lookup_stats *st)
{
	*st = l->st;
}
