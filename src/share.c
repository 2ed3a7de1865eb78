/* share.c - fair shares of the session's connection caps between torrents */
#include "share.h"
#include "util.h"

enum share_what {
	SHARE_CONNS,
	SHARE_HALF_OPEN,
};

/* How the torrents fill a cap: demands, one of them raised. */
struct share_fill {
	const struct share_use	*u;
	size_t			 n;
	size_t			 me;
	uint32_t		 me_demand;	/* at least, for u[me] */
	enum share_what		 w;
	uint64_t		 now;
};

static bool
share_fresh(const struct share_use *u, uint64_t now)
{
	return u->pending || u->ms + SHARE_STALE_MS > now;
}

static uint32_t
share_held(const struct share_use *u, enum share_what w)
{
	return w == SHARE_CONNS ? u->conns : u->half_open;
}

/* What it holds and wants; nothing when its report is stale. */
static uint32_t
share_demand(const struct share_use *u, enum share_what w, uint64_t now)
{
	uint64_t	d;

	if (u->pending)
		return UINT32_MAX;
	if (!share_fresh(u, now))
		return 0;
	d = (uint64_t)share_held(u, w) + u->want;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* sum over the torrents of min(demand, x) */
static uint64_t
share_sum(const struct share_fill *f, uint32_t x)
{
	uint64_t	sum = 0;
	uint32_t	d;
	size_t		i;

	for (i = 0; i < f->n; i++) {
		d = share_demand(&f->u[i], f->w, f->now);
		if (i == f->me)
			d = MAX(d, f->me_demand);
		sum += MIN(d, x);
	}
	return sum;
}

/* The smallest x with sum(x) >= cap, or UINT32_MAX when all fit. */
static uint32_t
share_search(const struct share_fill *f, uint32_t cap)
{
	uint32_t	lo = 0, hi = cap, mid;

	if (share_sum(f, UINT32_MAX) <= cap)
		return UINT32_MAX;
	/* sum(cap) >= cap here: some demand is >= cap, or all sum above */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (share_sum(f, mid) >= cap)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint32_t
share_level(uint32_t cap, const uint32_t *demand, size_t n)
{
	uint64_t	sum;
	uint32_t	lo = 0, hi = cap, mid;
	size_t		i;

	for (sum = 0, i = 0; i < n; i++)
		sum += demand[i];
	if (sum <= cap)
		return UINT32_MAX;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		for (sum = 0, i = 0; i < n; i++)
			sum += MIN(demand[i], mid);
		if (sum >= cap)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* u[me]'s room under one cap, of which used is taken. */
static uint32_t
share_room_of(uint32_t cap, const struct share_use *u, size_t n, size_t me,
    uint32_t used, enum share_what w, uint64_t now)
{
	struct share_fill	f = {
		.u = u, .n = n, .me = me, .w = w, .now = now,
	};
	uint32_t		mine, held = share_held(&u[me], w);

	if (used >= cap)
		return 0;
	mine = MIN(share_demand(&u[me], w, now), share_search(&f, cap));
	if (mine <= held)
		return 0;
	return MIN(mine - held, cap - used);
}

uint32_t
share_room(const struct share_caps *c, const struct share_use *u, size_t n,
    size_t me, uint32_t all, uint64_t now)
{
	uint64_t	half = 0;
	uint32_t	a, b;
	size_t		i;

	if (me >= n)
		return 0;
	for (i = 0; i < n; i++)
		if (!u[i].pending && share_fresh(&u[i], now))
			half += u[i].half_open;
	a = share_room_of(c->conns, u, n, me, all, SHARE_CONNS, now);
	b = share_room_of(c->half_open, u, n, me, half > UINT32_MAX ?
	    UINT32_MAX : (uint32_t)half, SHARE_HALF_OPEN, now);
	return MIN(a, b);
}

bool
share_may_accept(const struct share_caps *c, const struct share_use *u,
    size_t n, size_t me, uint64_t now)
{
	struct share_fill	f = {
		.u = u, .n = n, .me = me, .w = SHARE_CONNS, .now = now,
	};

	if (me >= n || u[me].conns == UINT32_MAX)
		return false;
	f.me_demand = u[me].conns + 1;	/* the newcomer is wanted */
	return u[me].conns < share_search(&f, c->conns);
}
