/* dht-table.h - the DHT routing table: k-buckets, node states, BEP 42 ids */
#ifndef GT_DHT_TABLE_H
#define GT_DHT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "crypto.h"

#define DHT_TABLE_K		8	/* nodes per bucket (BEP 5) */
#define DHT_TABLE_REPL		8	/* replacement cache per bucket */
#define DHT_TABLE_MAX_BUCKETS	160	/* one per bit of the id */
#define DHT_TABLE_MAX_NODES	(DHT_TABLE_MAX_BUCKETS * \
				    (DHT_TABLE_K + DHT_TABLE_REPL))
#define DHT_TABLE_GOOD_MS	(15u * 60 * 1000)  /* then questionable */
#define DHT_TABLE_REFRESH_MS	(15u * 60 * 1000)  /* bucket unchanged */
#define DHT_TABLE_MAX_FAILS	3	/* timeouts in a row: bad */
#define DHT_TABLE_PING_GAP_MS	10000	/* a node is pinged at most this
					   often; an unanswered ping counts
					   as lost after it */
#define DHT_TABLE_SUBNET_MAX	2	/* per /24 (v4) or /64 (v6) and
					   bucket */

/*
 * Pure: one routing table of one address family (BEP 5, BEP 32), fed
 * what the node saw and a clock (ms); no I/O.  It answers whom to ping
 * (dht_table_next_ping), which bucket to refresh (dht_table_next_refresh)
 * and whom to ask (dht_table_closest); the node sends the queries and
 * reports how they went.
 *
 * Node states (BEP 5): good (answered one of our queries in the last
 * DHT_TABLE_GOOD_MS with no timeout since, or queried us in that time
 * after having answered before), bad (DHT_TABLE_MAX_FAILS timeouts in a
 * row), questionable otherwise.
 *
 * Safety: only nodes that answered our queries enter the buckets; one
 * entry per IP address in the whole table (buckets and replacement
 * caches), at most subnet_max per /24 or /64 in a bucket (loopback is
 * exempt from both unless opts.loopback_rules: one entry per IP and port
 * there, as nodes on one machine are a test DHT), never an address
 * addr_is_dialable refuses, never our own id.  All storage is
 * allocated at dht_table_new: at most DHT_TABLE_MAX_NODES entries.
 */
struct dht_table;

enum dht_table_state {
	DHT_TABLE_GOOD,
	DHT_TABLE_QUESTIONABLE,
	DHT_TABLE_BAD,
};

/* A node as the table hands it out, or takes it in (import). */
struct dht_table_node {
	uint8_t			id[20];
	struct netaddr		a;
	enum dht_table_state	state;	/* on output; ignored on import */
};

struct dht_table_opts {
	enum addr_family	family;	/* of every node in the table */
	uint8_t			id[20];	/* ours (dht_table_make_id) */
	uint64_t		seed;	/* of the refresh targets */
	/*
	 * Nodes per /24 (v4) or /64 (v6) in a bucket; 0:
	 * DHT_TABLE_SUBNET_MAX.  A DHT on loopback (tests) raises it, as
	 * libtorrent's dht_restrict_routing_ips is turned off there.
	 */
	unsigned		subnet_max;
	/*
	 * Apply the per-IP and per-subnet rules to loopback addresses too
	 * (unit tests of those rules, which use loopback literals only).
	 */
	bool			loopback_rules;
};

struct dht_table	*dht_table_new(const struct dht_table_opts *,
			    uint64_t now);
void			 dht_table_free(struct dht_table *);
const uint8_t		*dht_table_id(const struct dht_table *);

/* ---- what the node saw ---- */

/*
 * id at a answered one of our queries.  Contract: the node calls this
 * only for a response whose transaction id matches a query we sent to a
 * (unsolicited responses never reach the table).  A new node enters its
 * bucket as good if there is room, in place of a bad node, or after a
 * split (of the bucket holding our own id); else it waits in the bucket's
 * replacement cache while dht_table_next_ping asks after a questionable
 * node.  A known IP and port answering with a different id is the
 * verification that the old id is gone there: the old entry is dropped
 * and the new id enters as a newcomer.  A second port or id from a known
 * IP is ignored unless the old entry is bad.  Returns whether the node is
 * now in a bucket (not only in the cache).
 */
bool		 dht_table_on_response(struct dht_table *, const uint8_t id[20],
		    const struct netaddr *, uint64_t now);
/*
 * id at a sent us a query.  A known node is refreshed (good again if it
 * answered us before); a new one goes to the replacement cache,
 * unverified, to be pinged when its bucket has room: it never displaces
 * a node.  A different id or port from a known IP is ignored.
 */
void		 dht_table_on_query(struct dht_table *, const uint8_t id[20],
		    const struct netaddr *, uint64_t now);
/*
 * A query to id at a went unanswered.  A node in a bucket counts a
 * failure (DHT_TABLE_MAX_FAILS in a row: bad) and is replaced at once by
 * a verified node of the replacement cache if there is one; a node of the
 * cache is dropped.
 */
void		 dht_table_on_timeout(struct dht_table *, const uint8_t id[20],
		    const struct netaddr *, uint64_t now);

/*
 * Whether the node at a (IP and port) has answered one of our queries and
 * is in the table, in a bucket or the cache: its address is verified, it
 * can be sent more than it sent (no reflection).
 */
bool		 dht_table_verified(const struct dht_table *,
		    const struct netaddr *);

/* ---- work ---- */

/*
 * The next node to ping now, if any: a questionable node of a bucket
 * whose replacement cache holds a verified newcomer (one at a time per
 * bucket), a node that never answered us (imported), or an unverified
 * node of the cache when its bucket has room.  A node is handed out at
 * most every DHT_TABLE_PING_GAP_MS; the node answers with
 * dht_table_on_response or dht_table_on_timeout.  Call it at the pace
 * pings may be sent.
 */
bool		 dht_table_next_ping(struct dht_table *, uint64_t now,
		    struct dht_table_node *);
/*
 * A bucket unchanged for DHT_TABLE_REFRESH_MS needs a find_node: writes
 * a random id in its range to target and counts the bucket refreshed.
 */
bool		 dht_table_next_refresh(struct dht_table *, uint64_t now,
		    uint8_t target[20]);
/* When next_ping or next_refresh will have work (ms; may be <= now). */
uint64_t	 dht_table_deadline(const struct dht_table *);

/* ---- answers ---- */

/*
 * The nodes to ask about target (or to send in a find_node reply): the
 * max good nodes closest to target by XOR distance, made up with the
 * closest questionable ones if fewer are good; never bad ones.  out is
 * sorted by distance, closest first.  Returns how many it wrote.
 */
size_t		 dht_table_closest(const struct dht_table *,
		    const uint8_t target[20], uint64_t now,
		    struct dht_table_node *out, size_t max);
/*
 * Nodes in buckets; *good and *questionable (either may be NULL) count
 * them by state, bad ones being the rest.  The cache is not counted.
 */
size_t		 dht_table_count(const struct dht_table *, uint64_t now,
		    size_t *good, size_t *questionable);
size_t		 dht_table_nbuckets(const struct dht_table *);
/* Nodes in bucket i (0: farthest from us) and its cache. */
size_t		 dht_table_bucket_count(const struct dht_table *, size_t i,
		    size_t *cached);

/* ---- persistence ---- */

/* The good nodes, for saving; returns how many it wrote. */
size_t		 dht_table_export(const struct dht_table *, uint64_t now,
		    struct dht_table_node *out, size_t max);
/*
 * Saved nodes enter as questionable, to be pinged, where there is room
 * and the rules above allow; never in place of a node.  Returns how many
 * entered.
 */
size_t		 dht_table_import(struct dht_table *,
		    const struct dht_table_node *, size_t n, uint64_t now);

/* ---- BEP 42 ---- */

/* CRC-32C (Castagnoli), as BEP 42 uses it. */
uint32_t	 dht_table_crc32c(const void *, size_t);
/*
 * Whether id is one a node at a may have (BEP 42): its first 21 bits are
 * those of crc32c of a's masked address with the 3 low bits of id[19].
 * Loopback, private (10/8, 172.16/12, 192.168/16, 169.254/16) and, in
 * v6, link-local (fe80::/10) and unique local (fc00::/7) addresses are
 * exempt: any id is valid there.
 */
bool		 dht_table_id_valid(const uint8_t id[20],
		    const struct netaddr *);
/*
 * Our id for our external address (BEP 42), r in id[19]; random if
 * external is NULL.
 */
void		 dht_table_make_id(const struct netaddr *external, uint8_t r,
		    uint8_t out[20], struct prng *);

#endif /* GT_DHT_TABLE_H */
