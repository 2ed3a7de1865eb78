/* dht-keep.h - the DHT runtime's upkeep: when to save the state file and
 * when to ask the public routers */
#ifndef GT_DHT_KEEP_H
#define GT_DHT_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHT_KEEP_SAVE_MS	(10u * 60 * 1000)	/* state saved */
#define DHT_KEEP_ROUTERS_MS	(30u * 1000)	/* a loaded table with no
						   good node by then: ask
						   the public routers */

/*
 * Pure (now in ms is an argument), caller storage.  The state file is
 * written every DHT_KEEP_SAVE_MS and at the end, but only while the node
 * has a good node: a short run (loaded nodes are unverified until they
 * answer) never writes over a useful file.  The public routers are asked
 * at the start when no bootstrap node was given and no table was loaded,
 * and DHT_KEEP_ROUTERS_MS later when the loaded table gave no good node.
 */
struct dht_keep {
	uint64_t	next_save;	/* UINT64_MAX: state not kept */
	uint64_t	routers_at;	/* UINT64_MAX: not (or no longer) */
};

enum dht_keep_action {
	DHT_KEEP_SAVE = 1 << 0,		/* dht_save to the state file */
	DHT_KEEP_ROUTERS = 1 << 1,	/* dht_bootstrap the routers */
};

/*
 * kept: there is a state folder; loaded: a table was read from it;
 * bootstrap: nodes were given (the routers are never asked then).
 */
void		 dht_keep_init(struct dht_keep *, bool kept, bool loaded,
		    bool bootstrap, uint64_t now);
uint64_t	 dht_keep_deadline(const struct dht_keep *);
/* What is due at now (enum dht_keep_action bits), given good nodes. */
unsigned	 dht_keep_tick(struct dht_keep *, size_t good, uint64_t now);
/* At the end: is the state worth writing? */
bool		 dht_keep_final(const struct dht_keep *, size_t good);

#endif /* GT_DHT_KEEP_H */
