/* dht-sim.h - thousands of real dht nodes on a simulated network */
#ifndef GT_DHT_SIM_H
#define GT_DHT_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The simulator as a library: tests/sim/dht-sim.c is both the program
 * (build/dht-sim, `make bench`) and, built with DHT_SIM_NO_MAIN, what
 * tests/sim/test-dht-sim.c calls in `make check-unit`.
 */
struct sim_opts {
	uint32_t	nodes;		/* alive at any time */
	uint32_t	lookups;	/* get_peers lookups measured */
	double		churn;		/* % of the nodes replaced an hour */
	uint64_t	seed;
	double		loss;		/* % of datagrams lost */
	double		nat;		/* % of nodes behind a NAT */
	double		ro;		/* % of read-only nodes (BEP 43) */
	uint32_t	hashes;		/* info-hashes announced (0: auto) */
	uint32_t	per_hash;	/* announcers of each */
	uint32_t	join_s;		/* seconds over which the nodes join */
	uint32_t	warmup_s;	/* seconds of warm-up after the joins */
	uint32_t	window_s;	/* seconds over which lookups start */
	uint32_t	min_uptime_s;	/* a lookup's node is up this long */
	bool		verbose;	/* progress on stderr */
	FILE		*dump;		/* a line per lookup, or NULL */
	FILE		*trace;		/* node trace_k's datagrams, or NULL */
	uint32_t	 trace_k;
	uint32_t	 trace_lookups;	/* ... and those of the first lookups */
};

struct sim_pct {
	uint32_t	n;
	double		mean;
	uint32_t	p50, p90, p99, max;
};

struct sim_report {
	/* lookups */
	uint32_t	started, finished, found, timeouts, refused;
	struct sim_pct	first_peer;	/* ms to the first announced peer
					   (lookups that found one) */
	struct sim_pct	done;		/* ms to search_done */
	struct sim_pct	first_peer_wired; /* the same, from the nodes not on
					   a slow link (see SLOW_PCT) */
	struct sim_pct	done_wired;
	uint32_t	started_wired, found_wired;
	struct sim_pct	sent;		/* queries per lookup */
	struct sim_pct	answered;
	double		success;	/* found / started, 0..1 */
	/* announces */
	uint32_t	announces;	/* search_done of announcing searches */
	double		announced_avg;	/* announce_peer sent per round */
	/* tables at the end */
	uint32_t	alive;
	double		table_nodes;	/* avg nodes in a table */
	double		table_good;	/* avg good nodes */
	double		saved_alive;	/* share of saved (good) entries
					   that are alive nodes, 0..1 */
	double		saved_reachable; /* alive and not NATed, 0..1 */
	double		node_memory;	/* avg dht_stats memory, bytes */
	/* network */
	uint64_t	datagrams, bytes, lost, to_dead, nat_blocked;
	uint64_t	joined, left;
	struct sim_pct	rtt;		/* the latency model, sampled pairs */
	/* cost */
	uint64_t	sim_ms, events;
	double		wall_s;
	long		rss_kb;
};

void	sim_opts_default(struct sim_opts *, uint32_t nodes);
/* Runs the scenario; 0, or -1 and a message on stderr. */
int	sim_run(const struct sim_opts *, struct sim_report *);
void	sim_print(FILE *, const struct sim_opts *, const struct sim_report *,
	    bool json);
/* Whether the report meets the goals. */
bool	sim_goals_met(const struct sim_report *);

#endif /* GT_DHT_SIM_H */
