/* share.h - fair shares of the session's connection caps between torrents */
#ifndef GT_SHARE_H
#define GT_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARE_STALE_MS	3000	/* a torrent silent this long holds and
				   wants nothing (it has stopped) */

/*
 * Pure: the session's caps on connections and on connects under way are
 * shared max-min fairly between its torrents.  A torrent's demand is what
 * it holds plus what it wants; the cap is filled up to a water level L
 * (the smallest with sum of min(demand, L) >= cap), and a torrent may grow
 * to min(its demand, L).  So a torrent wanting less than an equal share
 * leaves the rest to the others, and a torrent at its share opens nothing
 * more while others want (what it holds beyond is kept, not taken back).
 * L rounds up (100 torrents over 50 connections: one each), and what is
 * free of the cap bounds everyone all the same, so the cap always holds.
 *
 * Each torrent reports its use when it asks (u[me] with ms = now); the
 * others' reports are at most SHARE_STALE_MS old, else ignored.  A torrent
 * not heard from yet (pending) is taken to want all it may have, so that
 * torrents started together do not go to the first one to ask.
 */
struct share_use {
	uint32_t	conns;		/* connections it holds */
	uint32_t	half_open;	/* ... of them, connects under way */
	uint32_t	want;		/* more it could use now (0: none) */
	uint64_t	ms;		/* when it said so */
	bool		pending;	/* nothing said yet: wants, holds none */
};

struct share_caps {
	uint32_t	conns;		/* connections, all torrents */
	uint32_t	half_open;	/* connects under way, all torrents */
};

/*
 * The water level of cap over demand[n]: UINT32_MAX when the demands
 * fit (everyone may have all it wants).
 */
uint32_t	 share_level(uint32_t cap, const uint32_t *demand, size_t n);
/*
 * How many connects u[me] may start now: its fair share of both caps
 * less what it holds, bounded by what is free of them (all: connections
 * open in the session, inbound ones not yet matched to a torrent too).
 */
uint32_t	 share_room(const struct share_caps *,
		    const struct share_use *u, size_t n, size_t me,
		    uint32_t all, uint64_t now);
/*
 * May u[me] take one more (inbound) connection: is it below its fair
 * share of the connection cap, counting that connection as wanted?
 */
bool		 share_may_accept(const struct share_caps *,
		    const struct share_use *u, size_t n, size_t me,
		    uint64_t now);

#endif /* GT_SHARE_H */
