/* test-dht-sim.c - the DHT simulator at small scale: lookups find peers */
#include <criterion/criterion.h>

#include "dht-sim.h"
#include "log.h"

/*
 * 500 real nodes, 25 % NATed, 1 % loss, 20 %/hour churn, a shorter
 * warm-up than `make bench`: seconds of run time, also under ASan.  Fails
 * when fewer than 95 % of the lookups find an announced peer (the goal at
 * 10,000 nodes is 99 %: `make bench`).
 */
Test(dht_sim, lookups_find_announced_peers, .timeout = 120)
{
	struct sim_opts		o;
	struct sim_report	r;

	log_set_level(LOG_ERROR);
	sim_opts_default(&o, 500);
	o.lookups = 200;
	o.join_s = 60;
	o.warmup_s = 1200;	/* past the first bucket refreshes (15 min):
				   at 300-600 s the young network's tables
				   give 88-99 % */
	o.window_s = 60;
	cr_assert_eq(sim_run(&o, &r), 0);
	sim_print(stderr, &o, &r, false);
	cr_expect_eq(r.started, o.lookups, "lookups started: %u", r.started);
	cr_expect_gt(r.alive, 490);
	cr_expect_gt(r.table_nodes, 8.0, "avg table: %.1f", r.table_nodes);
	cr_expect_leq(r.sent.mean, 60.0, "queries per lookup: %.1f",
	    r.sent.mean);
	cr_assert_geq(r.success, 0.95, "%.2f %% of lookups found the peer",
	    100 * r.success);
}

/* The same seed, the same run: the simulator is deterministic. */
Test(dht_sim, deterministic, .timeout = 120)
{
	struct sim_opts		o;
	struct sim_report	a, b;

	log_set_level(LOG_ERROR);
	sim_opts_default(&o, 100);
	o.lookups = 20;
	o.join_s = 30;
	o.warmup_s = 60;
	o.window_s = 30;
	cr_assert_eq(sim_run(&o, &a), 0);
	cr_assert_eq(sim_run(&o, &b), 0);
	cr_expect_eq(a.datagrams, b.datagrams);
	cr_expect_eq(a.found, b.found);
	cr_expect_eq(a.first_peer.p50, b.first_peer.p50);
	cr_expect_eq(a.events, b.events);
}
