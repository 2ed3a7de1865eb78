/* dht.h - a DHT node (BEP 5, 32, 33, 42, 43, 51): datagrams and a clock */
#ifndef GT_DHT_H
#define GT_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

/*
 * Pure, as jech/dht is: the caller feeds it the KRPC datagrams that came
 * in (dht_on_datagram), the clock (now, monotonic ms) and calls dht_tick
 * at dht_deadline; the node sends through the send hook and reports peers
 * and pongs through the others.  No sockets, no clock, no files: the
 * runtime owns the UDP socket (shared with the UDP trackers) and the
 * state file (dht_save, dht_load).
 *
 * One routing table per family the socket has (BEP 32), one peer store,
 * up to DHT_MAX_SEARCHES searches, up to DHT_MAX_PENDING queries in
 * flight.  Every datagram is hostile: a response is taken only when its
 * "t" matches a query we sent to that very address (else it is dropped
 * and never reaches a table), queries are answered at most DHT_STORE_RATE
 * a second per source IP, and a reply to an address that never answered
 * us is at most DHT_AMPLIFY times the size of its query (nodes and values
 * are trimmed to fit): the node cannot be used to reflect traffic.
 * Memory is bounded by the caps here and in dht-table.h and dht-store.h.
 */
#define DHT_MAX_SEARCHES	64	/* info-hashes searched at once */
#define DHT_MAX_PENDING		1024	/* queries in flight, all kinds */
#define DHT_AMPLIFY		4	/* reply bytes per query byte, at most,
					   to an address never verified */
#define DHT_REPEAT_MS		(15u * 60 * 1000)	/* a repeating search
					   (a torrent's announce) runs again;
					   stored peers live 30 min */
#define DHT_RETRY_MS		(60u * 1000)	/* ... or this soon when it
					   found no peer and we are no seed
					   (a swarm forming, a magnet) */
#define DHT_QUERY_MS		2000	/* a query unanswered this long has
					   failed (the lookup's soft timeout
					   adapts to the round trips seen,
					   below this) */
#define DHT_PING_RATE		10	/* table maintenance pings a second */
#define DHT_BOOTSTRAP_MAX	32	/* bootstrap nodes remembered */
#define DHT_STATE_MAX		(64u * 1024)	/* bytes of a state file
					   dht_load reads */

struct dht;
struct dht_search_result;

struct dht_hooks {
	/* Sends one datagram to to; buf is the node's again after it. */
	void	(*send)(void *arg, const struct netaddr *to,
		    const uint8_t *buf, size_t len);
	/*
	 * A search for info_hash found peers (dialable ones only; the
	 * same peer may come again from other nodes).
	 */
	void	(*peers)(void *arg, const uint8_t info_hash[20],
		    const struct netaddr *peers, size_t n);
	/* A search run ended (see struct dht_search_result); may be NULL. */
	void	(*search_done)(void *arg, const uint8_t info_hash[20],
		    const struct dht_search_result *);
	/*
	 * The node at a answered dht_ping (id and its "v", raw: escape
	 * before display; vlen 0 when absent), or id is NULL: no answer
	 * within DHT_QUERY_MS.  May be NULL.
	 */
	void	(*pong)(void *arg, const struct netaddr *a,
		    const uint8_t *id, const uint8_t *v, size_t vlen,
		    uint32_t rtt_ms);
	void	*arg;
};

struct dht_opts {
	bool		 v4;		/* families the socket can reach: */
	bool		 v6;		/* one table each */
	bool		 read_only;	/* BEP 43: "ro", queries unanswered,
					   never entered in others' tables */
	/*
	 * Nodes per /24 (/64) in a bucket (dht-table.h); 0: the default.
	 * Tests on loopback raise it.
	 */
	unsigned	 subnet_max;
	uint64_t	 seed;		/* choices (tids, targets, samples) */
	bool		 deterministic;	/* no rand_bytes: ids, secrets and
					   tids from seed (the simulator,
					   fuzzing; never a real node) */
	const uint8_t	*id;		/* 20 bytes, or NULL: random (or
					   dht_load's, or BEP 42's once our
					   address is known) */
	uint32_t	 rate;		/* queries/s answered per source IP;
					   0: DHT_STORE_RATE */
	uint32_t	 rate_slots;	/* source IPs tracked; 0: default
					   (the simulator lowers it) */
};

struct dht_search_opts {
	bool		announce;	/* announce_peer to the 16 closest
					   nodes that gave a token */
	uint16_t	port;		/* to announce; 0: implied_port (the
					   datagram's port: behind a NAT, the
					   DHT socket is the listen port) */
	bool		seed;		/* BEP 33: we are a seed */
	bool		repeat;		/* again every DHT_REPEAT_MS until
					   dht_search_stop (a torrent) */
	bool		scrape;		/* BEP 33: ask for BFsd/BFpe (and
					   no peers from libtorrent's nodes,
					   which then send the filters in
					   place of "values") */
};

struct dht_search_result {
	uint8_t		family;		/* ADDR_V4 or ADDR_V6: one lookup
					   per family with a table */
	uint32_t	elapsed_ms;	/* start to end */
	uint32_t	first_peer_ms;	/* start to the first values; 0 if
					   none came */
	uint32_t	sent;		/* queries */
	uint32_t	answered;
	uint32_t	peers;		/* values received (with repeats) */
	uint32_t	announced;	/* announce_peer sent */
	double		seeds;		/* BEP 33 estimates (scrape), or -1 */
	double		leechers;
};

struct dht_stats {
	size_t		nodes[2];	/* in buckets: [0] v4, [1] v6 */
	size_t		good[2];
	size_t		buckets[2];
	size_t		searches;	/* running or waiting to repeat */
	size_t		pending;	/* queries in flight */
	size_t		hashes;		/* stored for others */
	size_t		stored_peers;
	size_t		memory;		/* bytes of tables, store, searches */
	uint64_t	sent, received;	/* datagrams */
	uint64_t	bytes_out, bytes_in;
	uint64_t	dropped;	/* not KRPC, unsolicited, bad */
	uint64_t	limited;	/* queries over a source's rate */
	bool		has_external;	/* our address, as others see it */
	struct netaddr	external;	/* (BEP 42 "ip" votes), port 0 */
	bool		id_valid;	/* our id fits it (BEP 42) */
};

/* opts and hooks are copied. */
struct dht	*dht_new(const struct dht_opts *, const struct dht_hooks *,
		    uint64_t now);
void		 dht_free(struct dht *);
const uint8_t	*dht_id(const struct dht *);

/* ---- input ---- */

/*
 * A datagram from from (its first byte is 'd': the caller routes others
 * to the UDP trackers).  Anything may come: what is not a well-formed
 * message we expect is counted and dropped.
 */
void		 dht_on_datagram(struct dht *, const uint8_t *pkt,
		    size_t len, const struct netaddr *from, uint64_t now);
/* ICMP said to is unreachable: its queries fail now. */
void		 dht_on_unreachable(struct dht *, const struct netaddr *to,
		    uint64_t now);
/* Timeouts, table upkeep, searches; due at dht_deadline. */
void		 dht_tick(struct dht *, uint64_t now);
uint64_t	 dht_deadline(const struct dht *);

/* ---- what to do ---- */

/*
 * A node to bootstrap from (--dht-bootstrap, resolved): asked for the
 * nodes near our id (find_node), and again whenever the table of its
 * family is empty (kept up to DHT_BOOTSTRAP_MAX).  It enters the table
 * only if it answers, like any node.
 */
void		 dht_bootstrap(struct dht *, const struct netaddr *,
		    uint64_t now);
/*
 * A node that may exist (a peer's PORT message, BEP 5; `gtorrent dht
 * ping`): pinged, and in the table if it answers and there is room.
 * false when the address is unusable or too many queries are in flight.
 */
bool		 dht_ping(struct dht *, const struct netaddr *, uint64_t now);
/*
 * Starts (or restarts, with new options) the search for info_hash: an
 * iterative get_peers lookup in each table, peers reported as they come,
 * then announce_peer when asked.  GT_ERANGE: DHT_MAX_SEARCHES running;
 * GT_EINVAL: the node is read-only and announce is asked.
 */
enum gt_err	 dht_search(struct dht *, const uint8_t info_hash[20],
		    const struct dht_search_opts *, uint64_t now);
/* Forgets the search for info_hash (nothing happens if there is none). */
void		 dht_search_stop(struct dht *, const uint8_t info_hash[20]);

void		 dht_stats(const struct dht *, uint64_t now,
		    struct dht_stats *);

/* ---- state (the runtime reads and writes the file) ---- */

/*
 * Appends the node's state: a bencoded dict of our id and the good nodes
 * of each table (compact "nodes", "nodes6"), for a restart without a
 * bootstrap.
 */
enum gt_err	 dht_save(const struct dht *, uint64_t now, struct buf *);
/*
 * Reads a state dht_save wrote (hostile like any file: GT_EPROTO and err
 * saying why when it is not one; the node is unchanged then).  Before any
 * datagram: takes the saved id unless opts gave one, and the nodes, which
 * are pinged before they are used.
 */
enum gt_err	 dht_load(struct dht *, const uint8_t *, size_t, uint64_t now,
		    char *err);

#endif /* GT_DHT_H */
