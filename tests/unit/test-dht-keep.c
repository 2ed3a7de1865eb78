/* test-dht-keep.c - the DHT runtime's upkeep, on a fake clock */
#include <criterion/criterion.h>

#include "dht-keep.h"

#define T0	5000u

/* No bootstrap given, nothing loaded: the routers at once, saves later. */
Test(dht_keep, fresh_start_asks_the_routers_at_once)
{
	struct dht_keep	k;

	dht_keep_init(&k, true, false, false, T0);
	cr_assert_eq(dht_keep_deadline(&k), T0);
	cr_assert_eq(dht_keep_tick(&k, 0, T0), DHT_KEEP_ROUTERS);
	cr_assert_eq(dht_keep_deadline(&k), T0 + DHT_KEEP_SAVE_MS);
	cr_assert_eq(dht_keep_tick(&k, 0, T0 + 1000), 0);
}

/* A loaded table: the routers only if it gave no good node in 30 s. */
Test(dht_keep, loaded_table_routers_as_fallback)
{
	struct dht_keep	k;

	dht_keep_init(&k, true, true, false, T0);
	cr_assert_eq(dht_keep_deadline(&k), T0 + DHT_KEEP_ROUTERS_MS);
	cr_assert_eq(dht_keep_tick(&k, 0, T0 + DHT_KEEP_ROUTERS_MS - 1), 0);
	cr_assert_eq(dht_keep_tick(&k, 0, T0 + DHT_KEEP_ROUTERS_MS),
	    DHT_KEEP_ROUTERS);
	cr_assert_eq(dht_keep_tick(&k, 0, T0 + DHT_KEEP_ROUTERS_MS + 1), 0,
	    "asked once");

	dht_keep_init(&k, true, true, false, T0);
	cr_assert_eq(dht_keep_tick(&k, 3, T0 + DHT_KEEP_ROUTERS_MS), 0,
	    "the table works: no routers");
	cr_assert_eq(dht_keep_deadline(&k), T0 + DHT_KEEP_SAVE_MS);
}

/* Bootstrap nodes given: the routers never. */
Test(dht_keep, bootstrap_given_never_the_routers)
{
	struct dht_keep	k;
	uint64_t	t;

	dht_keep_init(&k, false, false, true, T0);
	cr_assert_eq(dht_keep_deadline(&k), UINT64_MAX);
	for (t = T0; t < T0 + 3600000; t += 60000)
		cr_assert_eq(dht_keep_tick(&k, 0, t), 0);
	cr_assert_not(dht_keep_final(&k, 10), "no state folder");
}

/* Every 10 minutes with a good node; never over a file without one. */
Test(dht_keep, saves_on_schedule_with_good_nodes)
{
	struct dht_keep	k;

	dht_keep_init(&k, true, false, true, T0);
	cr_assert_eq(dht_keep_deadline(&k), T0 + DHT_KEEP_SAVE_MS);
	cr_assert_eq(dht_keep_tick(&k, 5, T0 + DHT_KEEP_SAVE_MS),
	    DHT_KEEP_SAVE);
	cr_assert_eq(dht_keep_deadline(&k), T0 + 2 * DHT_KEEP_SAVE_MS);
	cr_assert_eq(dht_keep_tick(&k, 0, T0 + 2 * DHT_KEEP_SAVE_MS), 0,
	    "no good node: the last file stays");
	cr_assert_eq(dht_keep_deadline(&k), T0 + 3 * DHT_KEEP_SAVE_MS);
	/* a late wakeup (suspend): one save, the next a period later */
	cr_assert_eq(dht_keep_tick(&k, 1, T0 + 50 * DHT_KEEP_SAVE_MS),
	    DHT_KEEP_SAVE);
	cr_assert_eq(dht_keep_deadline(&k), T0 + 51 * DHT_KEEP_SAVE_MS);
	cr_assert(dht_keep_final(&k, 1));
	cr_assert_not(dht_keep_final(&k, 0));
}
