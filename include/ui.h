/* ui.h - the status line and the summary: what gtorrent prints on stdout */
#ifndef GT_UI_H
#define GT_UI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define UI_TTY_MS	250	/* live line: at most 4 redraws a second */
#define UI_PLAIN_MS	5000	/* not a terminal: one line every 5 s */
#define UI_SAMPLE_MS	1000	/* not a terminal: the rates sampled so often */
#define UI_RATE_TAU_MS	4000	/* the rates' exponential average: its time
				   constant */
#define UI_STALL_MS	10000	/* no byte so long: the ETA is "-" */
#define UI_ETA_STEP	2	/* the ETA moves at most 2x per redraw from
				   its countdown */
#define UI_NAME_MIN	12	/* columns a shortened name keeps */
#define UI_COLS		80	/* no TIOCGWINSZ, no $COLUMNS */
#define UI_LINE_MAX	1024	/* bytes of one rendered status line */

struct torrent_stats;
struct ui;

/* An ETA that counts down and moves at most UI_ETA_STEP times a step. */
struct ui_eta {
	bool		valid;		/* eta was shown */
	double		eta;		/* seconds, as last shown */
	uint64_t	ms;		/* ... when */
};
/*
 * Seconds to go for left bytes at bps (<= 0: nothing comes), at now:
 * left/bps, moved at most UI_ETA_STEP times from the last one's countdown;
 * -1: unknown (nothing comes; e is reset).  0 when left is 0.
 */
double		 ui_eta_next(struct ui_eta *e, uint64_t left, double bps,
		    uint64_t now);

struct ui_opts {
	bool	 quiet;		/* no status line (the summary still) */
	bool	 tty;		/* out is a terminal: one live line */
	FILE	*out;		/* status line, summary (stdout) */
	int	 err;		/* log lines while the live line shows
				   (STDERR_FILENO) */
	int	 cols;		/* the terminal's columns; 0: asked at each
				   draw (TIOCGWINSZ on out, else $COLUMNS,
				   else UI_COLS) */
};

/* What the line is about: one torrent (name), or several summed. */
struct ui_view {
	const char	*name;		/* one torrent's; NULL: several */
	unsigned	 n;		/* several: how many */
	unsigned	 done;		/* ... complete */
	unsigned	 metadata;	/* ... magnets fetching their metadata */
	bool		 checking;	/* one torrent's data being checked:
					   ts->have of ts->total hashed,
					   "NAME  checking PCT% HAVE/TOTAL" */
};

struct ui	*ui_new(const struct ui_opts *);
/* Takes the live line off and gives the log its stderr back. */
void		 ui_free(struct ui *);
/* How often ui_update wants to run (ms). */
uint32_t	 ui_interval_ms(const struct ui *);
/*
 * Samples the rates and draws the status line when due.  One torrent:
 * "NAME  PCT% HAVE/TOTAL  down R/s  up R/s  peers P/K  eta E[  swarm S
 * seeders L leechers][  dht N nodes (G good) D peers]" (a magnet without
 * its metadata: "NAME  metadata H/N  peers P/K[  dht ...]"); several, from
 * their figures summed in ts (have, total, downloaded, uploaded, peers,
 * known, dht_peers): "N torrents, D done[, M metadata]  PCT% ...".
 *
 * The rates are exponential averages (time constant UI_RATE_TAU_MS, the
 * weight of a sample dt/(tau+dt)) started from the first sample in which
 * bytes came; the ETA is left/rate, moved at most UI_ETA_STEP times from
 * its countdown per redraw, "-" when nothing came for UI_STALL_MS.
 *
 * On a terminal the line is redrawn in place, never wider than the
 * terminal less one column (read at each draw), shortened in this order
 * until it fits: 1. the swarm and dht figures go, 2. the up rate goes,
 * 3. the name is shortened in the middle ("~"), counting display columns,
 * down to UI_NAME_MIN columns, 4. the peers go, 5. HAVE/TOTAL goes,
 * 6. the line is cut at the width.  While it shows, every log line
 * clears it first and redraws it after (a log_set_sink).  Not a terminal:
 * the whole line, every UI_PLAIN_MS.
 */
void		 ui_update(struct ui *, const struct ui_view *,
		    const struct torrent_stats *, uint64_t now);
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
 * The closing line, exactly (SIZE, D, U, RATE in human units, 1 decimal,
 * B KiB MiB GiB..., then the exact bytes):
 * "gtorrent: done: NAME: SIZE (BYTES bytes) in SECS s (RATE/s), downloaded
 * D (BYTES), uploaded U (BYTES)[ at RATE/s], peers N"; when not done,
 * "gtorrent: stopped: NAME: HAVE of SIZE (BYTES of BYTES bytes) in ...",
 * HAVE the verified bytes so far.  RATE after "in SECS s" is D over the
 * run; "at RATE/s" (seeder: a seed, or a download with --seed) is U over
 * the run.  NAME escaped as text_escape(TEXT_TERM) does.  Printed with
 * --quiet too: scripts parse it.
 */
void		 ui_summary(struct ui *, bool done, bool seeder,
		    const char *name, const struct torrent_stats *,
		    double seconds);

#endif /* GT_UI_H */
