/* ui.h - the status line and the summary: what gtorrent prints on stdout */
#ifndef GT_UI_H
#define GT_UI_H

#include <stdbool.h>
#include <stdint.h>

#define UI_TTY_MS	250	/* live line: at most 4 redraws a second */
#define UI_PLAIN_MS	5000	/* not a terminal: one line every 5 s */
#define UI_RATE_SPAN	5	/* seconds the rates average over */

struct torrent_stats;
struct ui;

struct ui	*ui_new(bool quiet, bool tty);
void		 ui_free(struct ui *);
/* How often ui_update wants to run (ms). */
uint32_t	 ui_interval_ms(const struct ui *);
/* Samples the rates and draws the status line when due. */
void		 ui_update(struct ui *, const struct torrent_stats *,
		    uint64_t now);
/*
 * Several torrents: one line over them all, from their figures summed in
 * sum (have, total, downloaded, uploaded, peers, known, dht_peers): "N
 * torrents, D done[, M metadata]  PCT% HAVE/TOTAL  down R/s  up R/s  peers
 * P/K  eta E", metadata counting the magnets still fetching theirs.
 */
void		 ui_update_many(struct ui *, const struct torrent_stats *sum,
		    unsigned n, unsigned done, unsigned metadata,
		    uint64_t now);
/* A tracker's seeders and leechers (-1: unknown), shown from now on. */
void		 ui_set_swarm(struct ui *, int64_t seeders, int64_t leechers);
/*
 * The DHT's nodes (in the routing tables; good: answered lately), shown
 * from now on with the peers the DHT found for the torrent (-1: off).
 */
void		 ui_set_dht(struct ui *, int64_t nodes, int64_t good);
/* Takes the live line off the terminal (before other output). */
void		 ui_clear(struct ui *);
/*
 * The closing line, exactly:
 * "gtorrent: done: NAME: SIZE bytes in SECS s (RATE MiB/s), downloaded D
 * bytes, uploaded U bytes, peers N" (stopped: instead of done:), with
 * NAME escaped as text_escape(TEXT_TERM) does.
 * Printed with --quiet too: scripts parse it.
 */
void		 ui_summary(struct ui *, bool done, const char *name,
		    const struct torrent_stats *, double seconds);

#endif /* GT_UI_H */
