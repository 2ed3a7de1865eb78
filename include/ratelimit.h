/* ratelimit.h - a token bucket fed by a millisecond clock */
#ifndef GT_RATELIMIT_H
#define GT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The bucket holds RATELIMIT_DEPTH_MS of the rate (the longest burst),
 * but at least RATELIMIT_MIN_DEPTH bytes: a 16 KiB block with its 13-byte
 * header and room to spare, so that a low rate still moves whole blocks.
 * Waiters are woken when RATELIMIT_QUANTUM_DIV-th of the depth is back.
 */
#define RATELIMIT_DEPTH_MS	125
#define RATELIMIT_MIN_DEPTH	(20u << 10)
#define RATELIMIT_QUANTUM_DIV	4
#define RATELIMIT_MAX_RATE	(UINT64_C(1) << 40)	/* bytes/s; higher
							   rates are clamped */

/*
 * Tokens are bytes.  They are earned at rate bytes per second from the
 * clock readings given (ms), exactly: the fraction of a byte a
 * millisecond earns is kept (milli), so that any span earns rate * span
 * bytes, save what a full bucket turns away.  Spending more than there is
 * leaves a debt that later tokens pay first.
 */
struct ratelimit {
	uint64_t	rate;		/* bytes/s; 0: no limit */
	int64_t		depth;		/* tokens at most */
	int64_t		tokens;		/* may be spent now; < 0: a debt */
	uint64_t	milli;		/* thousandths of a byte earned beyond
					   tokens, < 1000 */
	uint64_t	last;		/* ms of the last refill */
};

/* A full bucket for rate bytes/s (0: no limit) at now. */
void		ratelimit_init(struct ratelimit *, uint64_t rate,
		    uint64_t now);
/* A new rate from now on; what was earned so far is kept (up to depth). */
void		ratelimit_set_rate(struct ratelimit *, uint64_t rate,
		    uint64_t now);
bool		ratelimit_on(const struct ratelimit *);
/* Bytes that may go now (0 while in debt); UINT64_MAX with no limit. */
uint64_t	ratelimit_avail(struct ratelimit *, uint64_t now);
/* n bytes went (charged even beyond what was available). */
void		ratelimit_spend(struct ratelimit *, uint64_t n);
/*
 * Milliseconds from now until want bytes (at most the depth) are
 * available; 0 if they are now or there is no limit.
 */
uint64_t	ratelimit_wait_ms(struct ratelimit *, uint64_t want,
		    uint64_t now);
/* The bytes worth waking a waiter for: a quarter of the depth. */
uint64_t	ratelimit_quantum(const struct ratelimit *);

#endif /* GT_RATELIMIT_H */
