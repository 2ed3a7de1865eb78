/* ratelimit.c - a token bucket fed by a millisecond clock */
#include "ratelimit.h"
#include "util.h"

/* A debt at most this (so that its thousandths fit in 64 bits). */
#define RATELIMIT_MAX_DEBT	(INT64_C(1) << 50)

static int64_t
ratelimit_depth(uint64_t rate)
{
	uint64_t	d = rate * RATELIMIT_DEPTH_MS / 1000;

	return (int64_t)MAX(d, (uint64_t)RATELIMIT_MIN_DEPTH);
}

/* Earns the tokens of [last, now). */
static void
ratelimit_refill(struct ratelimit *rl, uint64_t now)
{
	uint64_t	dt, m, room;

	if (now <= rl->last)
		return;
	dt = now - rl->last;
	rl->last = now;
	if (rl->rate == 0)
		return;
	if (rl->tokens >= rl->depth) {
		rl->milli = 0;
		return;
	}
	/* thousandths of a byte to fill it (< 2^61: no overflow below) */
	room = (uint64_t)(rl->depth - rl->tokens) * 1000 - rl->milli;
	if (dt >= room / rl->rate + 1) {
		rl->tokens = rl->depth;		/* a full bucket turns away */
		rl->milli = 0;
		return;
	}
	m = dt * rl->rate + rl->milli;
	rl->tokens += (int64_t)(m / 1000);
	rl->milli = m % 1000;
}

void
ratelimit_init(struct ratelimit *rl, uint64_t rate, uint64_t now)
{
	rate = MIN(rate, RATELIMIT_MAX_RATE);
	*rl = (struct ratelimit){
		.rate = rate, .depth = ratelimit_depth(rate), .last = now,
	};
	rl->tokens = rl->depth;
}

void
ratelimit_set_rate(struct ratelimit *rl, uint64_t rate, uint64_t now)
{
	ratelimit_refill(rl, now);
	rl->last = MAX(rl->last, now);
	rate = MIN(rate, RATELIMIT_MAX_RATE);
	if (rl->rate == 0)
		rl->tokens = ratelimit_depth(rate);	/* was full: no limit */
	rl->rate = rate;
	rl->depth = ratelimit_depth(rate);
	if (rl->tokens > rl->depth)
		rl->tokens = rl->depth;
}

bool
ratelimit_on(const struct ratelimit *rl)
{
	return rl->rate != 0;
}

uint64_t
ratelimit_avail(struct ratelimit *rl, uint64_t now)
{
	if (rl->rate == 0)
		return UINT64_MAX;
	ratelimit_refill(rl, now);
	return rl->tokens > 0 ? (uint64_t)rl->tokens : 0;
}

void
ratelimit_spend(struct ratelimit *rl, uint64_t n)
{
	if (rl->rate == 0)
		return;
	rl->tokens -= (int64_t)MIN(n, (uint64_t)RATELIMIT_MAX_DEBT);
	if (rl->tokens < -RATELIMIT_MAX_DEBT)
		rl->tokens = -RATELIMIT_MAX_DEBT;
}

uint64_t
ratelimit_wait_ms(struct ratelimit *rl, uint64_t want, uint64_t now)
{
	uint64_t	need;

	if (rl->rate == 0)
		return 0;
	ratelimit_refill(rl, now);
	want = MIN(want, (uint64_t)rl->depth);
	if (rl->tokens >= (int64_t)want)
		return 0;
	/* thousandths of a byte still to earn, then whole milliseconds */
	need = (uint64_t)((int64_t)want - rl->tokens) * 1000 - rl->milli;
	return (need + rl->rate - 1) / rl->rate;
}

uint64_t
ratelimit_quantum(const struct ratelimit *rl)
{
	return (uint64_t)rl->depth / RATELIMIT_QUANTUM_DIV;
}
