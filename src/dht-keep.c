/* dht-keep.c - the DHT runtime's upkeep: when to save the state file and
 * when to ask the public routers */
#include "dht-keep.h"
#include "util.h"

void
dht_keep_init(struct dht_keep *k, bool kept, bool loaded, bool bootstrap,
    uint64_t now)
{
	k->next_save = kept ? now + DHT_KEEP_SAVE_MS : UINT64_MAX;
	if (bootstrap)
		k->routers_at = UINT64_MAX;
	else
		k->routers_at = loaded ? now + DHT_KEEP_ROUTERS_MS : now;
}

uint64_t
dht_keep_deadline(const struct dht_keep *k)
{
	return MIN(k->next_save, k->routers_at);
}

unsigned
dht_keep_tick(struct dht_keep *k, size_t good, uint64_t now)
{
	unsigned	a = 0;

	if (now >= k->routers_at) {
		k->routers_at = UINT64_MAX;	/* once: the node retries */
		if (good == 0)
			a |= DHT_KEEP_ROUTERS;
	}
	if (now >= k->next_save) {
		/* on schedule, without a burst after a suspend */
		k->next_save += DHT_KEEP_SAVE_MS;
		if (k->next_save <= now)
			k->next_save = now + DHT_KEEP_SAVE_MS;
		if (good > 0)
			a |= DHT_KEEP_SAVE;
	}
	return a;
}

bool
dht_keep_final(const struct dht_keep *k, size_t good)
{
	return k->next_save != UINT64_MAX && good > 0;
}
