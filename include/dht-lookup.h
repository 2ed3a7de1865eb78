/* dht-lookup.h - one iterative DHT lookup (BEP 5): whom to ask next */
#ifndef GT_DHT_LOOKUP_H
#define GT_DHT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DHT_LOOKUP_K		8	/* closest nodes that end a lookup */
#define DHT_LOOKUP_ALPHA	8	/* queries in flight among the K
					   closest, at most: all of them (the
					   simulator at 10,000 nodes, first
					   peer p50/p99: ALPHA 3 185/1780 ms
					   at 16 queries a lookup, 5 155/1520
					   at 23, 6 151/1818 at 28, 8 131/554
					   at 38) */
#define DHT_LOOKUP_MAX		64	/* candidates kept (closest first) */
#define DHT_LOOKUP_TOKEN	32	/* token bytes kept (get_peers) */

/*
 * A lookup for target: find_node or get_peers, pure (now in ms is an
 * argument).  The node feeds it the closest nodes it knows, sends the
 * queries it asks for (dht_lookup_next), and reports each answer (with
 * the nodes it named) or failure.  A query not answered after its soft
 * timeout stops counting against ALPHA (another is sent; its answer is
 * still taken), and fails at the hard timeout; so does one to a node that
 * closer candidates pushed out of the K closest.  The lookup is done when
 * the K closest candidates that have not failed have all answered, or
 * nobody is left to ask.
 */
struct dht_lookup;

struct dht_lookup_node {
	uint8_t		id[20];
	struct netaddr	a;
	uint8_t		token[DHT_LOOKUP_TOKEN];	/* from its answer */
	uint8_t		token_len;
};

struct dht_lookup_stats {
	uint32_t	sent;		/* queries asked for */
	uint32_t	answered;
	uint32_t	failed;		/* hard timeouts and dht_lookup_failed */
	uint32_t	candidates;	/* nodes seen (added), duplicates not */
};

struct dht_lookup *dht_lookup_new(const uint8_t target[20], uint32_t soft_ms,
		    uint32_t hard_ms);
void		 dht_lookup_free(struct dht_lookup *);
/* A candidate (from the table, or named in an answer); ignored when full
   of closer ones, already known (by id or address), or undialable. */
void		 dht_lookup_add(struct dht_lookup *, const uint8_t id[20],
		    const struct netaddr *);
/* The next node to query at now: false when ALPHA are in flight, or none
   is left to ask (see dht_lookup_done). */
bool		 dht_lookup_next(struct dht_lookup *, uint64_t now,
		    struct dht_lookup_node *out);
/*
 * The node at a answered (id: the id it gave); token may be NULL.  An
 * answer from an address not asked is ignored (false).  The nodes it named
 * are added with dht_lookup_add by the caller.
 */
bool		 dht_lookup_answered(struct dht_lookup *, const struct netaddr *,
		    const uint8_t id[20], const uint8_t *token, size_t token_len,
		    uint64_t now);
/* The query to a failed (an error reply, an ICMP error). */
void		 dht_lookup_failed(struct dht_lookup *, const struct netaddr *);
/* Soft and hard timeouts. */
void		 dht_lookup_tick(struct dht_lookup *, uint64_t now);
uint64_t	 dht_lookup_deadline(const struct dht_lookup *);
bool		 dht_lookup_done(const struct dht_lookup *);
/* The closest nodes that answered, closest first (with their tokens). */
size_t		 dht_lookup_results(const struct dht_lookup *,
		    struct dht_lookup_node *out, size_t max);
void		 dht_lookup_stats(const struct dht_lookup *,
		    struct dht_lookup_stats *);

/* XOR distance order: <0 when a is closer to target than b. */
int		 dht_distance_cmp(const uint8_t target[20], const uint8_t a[20],
		    const uint8_t b[20]);

#endif /* GT_DHT_LOOKUP_H */
