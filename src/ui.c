/* ui.c - the status line and the summary: what gtorrent prints on stdout */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torrent.h"
#include "ui.h"
#include "util.h"

#define UI_SAMPLES	(UI_RATE_SPAN * 1000 / UI_TTY_MS + 2)

struct ui_sample {
	uint64_t	ms;
	uint64_t	down, up;
};

struct ui {
	bool			quiet;
	bool			tty;
	bool			drawn;		/* a live line is showing */
	uint64_t		last_draw;
	uint64_t		start;		/* first update */
	struct ui_sample	s[UI_SAMPLES];	/* ring, oldest first */
	size_t			head, n;
	int64_t			seeders;	/* a tracker's figures, or -1 */
	int64_t			leechers;
	int64_t			dht_nodes;	/* ui_set_dht's, or -1 */
	int64_t			dht_good;
};

struct ui *
ui_new(bool quiet, bool tty)
{
	struct ui	*u = xcalloc(1, sizeof(*u));

	u->quiet = quiet;
	u->tty = tty;
	u->seeders = u->leechers = -1;
	u->dht_nodes = u->dht_good = -1;
	return u;
}

void
ui_free(struct ui *u)
{
	free(u);
}

uint32_t
ui_interval_ms(const struct ui *u)
{
	return u->tty ? UI_TTY_MS : UI_PLAIN_MS;
}

static void
ui_sample(struct ui *u, const struct torrent_stats *ts, uint64_t now)
{
	size_t	i;

	if (u->n == UI_SAMPLES) {
		u->head = (u->head + 1) % UI_SAMPLES;
		u->n--;
	}
	i = (u->head + u->n) % UI_SAMPLES;
	u->s[i] = (struct ui_sample){
		.ms = now, .down = ts->downloaded, .up = ts->uploaded,
	};
	u->n++;
	/* Keep about UI_RATE_SPAN seconds. */
	while (u->n > 2 && now - u->s[(u->head + 1) % UI_SAMPLES].ms >=
	    UI_RATE_SPAN * 1000) {
		u->head = (u->head + 1) % UI_SAMPLES;
		u->n--;
	}
}

static void
ui_rates(const struct ui *u, uint64_t *down, uint64_t *up)
{
	const struct ui_sample	*a, *b;
	uint64_t		 span;

	*down = *up = 0;
	if (u->n < 2)
		return;
	a = &u->s[u->head];
	b = &u->s[(u->head + u->n - 1) % UI_SAMPLES];
	if ((span = b->ms - a->ms) == 0)
		return;
	*down = (b->down - a->down) * 1000 / span;
	*up = (b->up - a->up) * 1000 / span;
}

/* "  dht N nodes (G good) P peers", or "" before ui_set_dht. */
static void
ui_dht(const struct ui *u, const struct torrent_stats *ts, char *out,
    size_t size)
{
	if (u->dht_nodes < 0) {
		out[0] = '\0';
		return;
	}
	snprintf(out, size, "  dht %lld nodes (%lld good) %u peers",
	    (long long)u->dht_nodes, (long long)u->dht_good, ts->dht_peers);
}

/* Should a line be drawn now (and the clock of the last one moved)? */
static bool
ui_due(struct ui *u, uint64_t now)
{
	if (u->quiet)
		return false;
	if (u->start == 0)
		u->start = now;
	if (u->tty && u->drawn && now - u->last_draw < UI_TTY_MS * 9 / 10)
		return false;
	if (!u->tty && now - (u->last_draw != 0 ? u->last_draw : u->start) <
	    UI_PLAIN_MS * 9 / 10)
		return false;
	u->last_draw = now;
	return true;
}

/* "H:MM:SS", "M:SS", or "-" when nothing comes. */
static void
ui_eta(uint64_t left, uint64_t rate, char *eta, size_t size)
{
	uint64_t	secs;

	if (left == 0)
		snprintf(eta, size, "0:00");
	else if (rate == 0)
		snprintf(eta, size, "-");
	else {
		secs = left / rate;
		if (secs >= 3600)
			snprintf(eta, size, "%" PRIu64 ":%02u:%02u",
			    secs / 3600, (unsigned)(secs / 60 % 60),
			    (unsigned)(secs % 60));
		else
			snprintf(eta, size, "%u:%02u",
			    (unsigned)(secs / 60), (unsigned)(secs % 60));
	}
}

void
ui_update(struct ui *u, const struct torrent_stats *ts, uint64_t now)
{
	char		have[24], total[24], down[24], up[24], eta[24];
	char		swarm[64] = "", dht[80];
	uint64_t	rd, ru;
	double		pct;

	ui_sample(u, ts, now);
	if (!ui_due(u, now))
		return;
	if (ts->metadata) {
		/* A magnet: the metadata phase is its own state. */
		if (ts->md_pieces == 0)
			snprintf(eta, sizeof(eta), "-");
		else
			snprintf(eta, sizeof(eta), "%u/%u", ts->md_have,
			    ts->md_pieces);
		ui_dht(u, ts, dht, sizeof(dht));
		printf("%smetadata %s  peers %u/%u%s%s", u->tty ? "\r" : "",
		    eta, ts->peers, ts->known > ts->peers ? ts->known :
		    ts->conns, dht, u->tty ? "\033[K" : "\n");
		fflush(stdout);
		u->drawn = true;
		return;
	}
	ui_rates(u, &rd, &ru);
	ui_eta(ts->total - ts->have, rd, eta, sizeof(eta));
	if (u->seeders >= 0 || u->leechers >= 0)
		snprintf(swarm, sizeof(swarm), "  swarm %lld seeders %lld "
		    "leechers", (long long)u->seeders, (long long)u->leechers);
	ui_dht(u, ts, dht, sizeof(dht));
	pct = ts->total == 0 ? 100.0 : 100.0 * (double)ts->have /
	    (double)ts->total;
	printf("%s%.1f%% %s/%s  down %s/s  up %s/s  peers %u/%u  eta %s%s%s%s",
	    u->tty ? "\r" : "", pct,
	    human_size(have, sizeof(have), ts->have, 1),
	    human_size(total, sizeof(total), ts->total, 1),
	    human_size(down, sizeof(down), rd, 1),
	    human_size(up, sizeof(up), ru, 1),
	    ts->peers, ts->known > ts->peers ? ts->known : ts->conns, eta,
	    swarm, dht, u->tty ? "\033[K" : "\n");
	fflush(stdout);
	u->drawn = true;
}

void
ui_update_many(struct ui *u, const struct torrent_stats *sum, unsigned n,
    unsigned done, unsigned metadata, uint64_t now)
{
	char		have[24], total[24], down[24], up[24], eta[24];
	char		meta[32] = "", dht[80];
	uint64_t	rd, ru;
	double		pct;

	ui_sample(u, sum, now);
	if (!ui_due(u, now))
		return;
	ui_rates(u, &rd, &ru);
	if (metadata > 0) {
		snprintf(meta, sizeof(meta), ", %u metadata", metadata);
		snprintf(eta, sizeof(eta), "-");	/* sizes unknown */
	} else
		ui_eta(sum->total - sum->have, rd, eta, sizeof(eta));
	ui_dht(u, sum, dht, sizeof(dht));
	pct = sum->total == 0 ? 0.0 : 100.0 * (double)sum->have /
	    (double)sum->total;
	printf("%s%u torrents, %u done%s  %.1f%% %s/%s  down %s/s  up %s/s  "
	    "peers %u/%u  eta %s%s%s", u->tty ? "\r" : "", n, done, meta, pct,
	    human_size(have, sizeof(have), sum->have, 1),
	    human_size(total, sizeof(total), sum->total, 1),
	    human_size(down, sizeof(down), rd, 1),
	    human_size(up, sizeof(up), ru, 1),
	    sum->peers, sum->known, eta, dht, u->tty ? "\033[K" : "\n");
	fflush(stdout);
	u->drawn = true;
}

void
ui_set_swarm(struct ui *u, int64_t seeders, int64_t leechers)
{
	u->seeders = seeders;
	u->leechers = leechers;
}

void
ui_set_dht(struct ui *u, int64_t nodes, int64_t good)
{
	u->dht_nodes = nodes;
	u->dht_good = good;
}

void
ui_clear(struct ui *u)
{
	if (u->tty && u->drawn) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
	}
	u->drawn = false;
}

void
ui_summary(struct ui *u, bool done, const char *name,
    const struct torrent_stats *ts, double seconds)
{
	double	 rate;
	char	*safe = text_escape(name, TEXT_TERM);

	ui_clear(u);
	rate = seconds > 0 ? (double)ts->downloaded / seconds / 1048576.0 :
	    0.0;
	printf("gtorrent: %s: %s: %" PRIu64 " bytes in %.2f s (%.1f MiB/s), "
	    "downloaded %" PRIu64 " bytes, uploaded %" PRIu64 " bytes, "
	    "peers %u\n", done ? "done" : "stopped", safe, ts->total, seconds,
	    rate, ts->downloaded, ts->uploaded, ts->peers_ever);
	fflush(stdout);
	free(safe);
}
