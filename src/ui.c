/* ui.c - the status line and the summary: what gtorrent prints on stdout */
#include <sys/ioctl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "torrent.h"
#include "ui.h"
#include "util.h"

#define UI_CLEAR	"\r\033[K"	/* to column 0, erase the line */

/* An exponential average of a byte counter's rate (bytes/s). */
struct ui_rate {
	bool		started;	/* bytes came once */
	double		bps;
};

struct ui {
	bool		 quiet;
	bool		 tty;
	FILE		*out;
	int		 err;
	int		 cols;		/* fixed columns, or 0 */
	bool		 sink;		/* log_set_sink is ours */
	uint64_t	 last_draw;
	uint64_t	 start;		/* first update */
	bool		 sampled;	/* prev_* hold a sample */
	uint64_t	 prev_ms, prev_down, prev_up;
	uint64_t	 last_bytes;	/* when bytes came down last */
	struct ui_rate	 down, up;
	struct ui_eta	 eta;
	int64_t		 seeders;	/* a tracker's figures, or -1 */
	int64_t		 leechers;
	int64_t		 dht_nodes;	/* ui_set_dht's, or -1 */
	int64_t		 dht_good;
	/* Guarded by the log's lock (log_locked): the sink reads them. */
	bool		 shown;		/* a live line is on the terminal */
	char		 line[UI_LINE_MAX];	/* UI_CLEAR and its text */
	size_t		 len;
};

/*
 * A log line while the live line shows (under the log's lock, from any
 * thread): off, the line on stderr, the live line again.
 */
static void
ui_sink(void *arg, const char *line, size_t len)
{
	struct ui	*u = arg;
	int		 out = fileno(u->out);

	if (u->shown)
		(void)write_all(out, UI_CLEAR, strlen(UI_CLEAR));
	(void)write_all(u->err, line, len);
	if (u->shown)
		(void)write_all(out, u->line, u->len);
}

struct ui *
ui_new(const struct ui_opts *o)
{
	struct ui	*u = xcalloc(1, sizeof(*u));

	u->quiet = o->quiet;
	u->tty = o->tty;
	u->out = o->out != NULL ? o->out : stdout;
	u->err = o->err;
	u->cols = o->cols;
	u->seeders = u->leechers = -1;
	u->dht_nodes = u->dht_good = -1;
	return u;
}

void
ui_free(struct ui *u)
{
	if (u == NULL)
		return;
	ui_clear(u);
	if (u->sink)
		log_set_sink(NULL, NULL);
	free(u);
}

uint32_t
ui_interval_ms(const struct ui *u)
{
	return u->tty ? UI_TTY_MS : UI_SAMPLE_MS;
}

/* --- rates and ETA --------------------------------------------------- */

static void
ui_rate_feed(struct ui_rate *r, uint64_t bytes, uint64_t dt)
{
	double	inst = (double)bytes * 1000.0 / (double)dt;

	if (!r->started) {
		/* From the first real sample, not from an empty window. */
		if (bytes == 0)
			return;
		r->started = true;
		r->bps = inst;
		return;
	}
	r->bps += (double)dt / (double)(UI_RATE_TAU_MS + dt) * (inst - r->bps);
}

static void
ui_sample(struct ui *u, const struct torrent_stats *ts, uint64_t now)
{
	uint64_t	dt, dd, du;

	if (u->sampled && now <= u->prev_ms)
		return;
	if (u->sampled) {
		dt = now - u->prev_ms;
		/* A counter going back (a torrent gone from a sum): 0. */
		dd = ts->downloaded >= u->prev_down ? ts->downloaded -
		    u->prev_down : 0;
		du = ts->uploaded >= u->prev_up ? ts->uploaded - u->prev_up : 0;
		ui_rate_feed(&u->down, dd, dt);
		ui_rate_feed(&u->up, du, dt);
		if (dd > 0)
			u->last_bytes = now;
	}
	u->sampled = true;
	u->prev_ms = now;
	u->prev_down = ts->downloaded;
	u->prev_up = ts->uploaded;
}

static uint64_t
ui_bps(const struct ui_rate *r)
{
	return r->started && r->bps >= 1.0 ? (uint64_t)r->bps : 0;
}

double
ui_eta_next(struct ui_eta *e, uint64_t left, double bps, uint64_t now)
{
	double	raw, expect, lo, hi;

	if (left == 0 || bps < 1.0) {
		e->valid = false;
		return left == 0 ? 0 : -1;
	}
	raw = (double)left / bps;
	if (!e->valid)
		e->eta = raw;
	else {
		/* Counting down since the last, moved at most a step. */
		expect = e->eta - (double)(now - e->ms) / 1000.0;
		if (expect < 1.0)
			expect = 1.0;
		lo = expect / UI_ETA_STEP;
		hi = expect * UI_ETA_STEP;
		e->eta = raw < lo ? lo : raw > hi ? hi : raw;
	}
	e->valid = true;
	e->ms = now;
	return e->eta;
}

/* Seconds to go, as shown (moved from the last), or -1: unknown. */
static double
ui_eta_secs(struct ui *u, uint64_t left, uint64_t now)
{
	if (left > 0 && now - u->last_bytes >= UI_STALL_MS) {
		u->eta.valid = false;
		return -1;		/* stalled */
	}
	return ui_eta_next(&u->eta, left, (double)ui_bps(&u->down), now);
}

/* "H:MM:SS", "M:SS", or "-" (secs < 0). */
static void
ui_eta_text(double s, char *eta, size_t size)
{
	uint64_t	secs;

	if (s < 0) {
		snprintf(eta, size, "-");
		return;
	}
	secs = s > 1e9 ? 1000000000 : (uint64_t)(s + 0.5);
	if (secs >= 3600)
		snprintf(eta, size, "%" PRIu64 ":%02u:%02u", secs / 3600,
		    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	else
		snprintf(eta, size, "%u:%02u", (unsigned)(secs / 60),
		    (unsigned)(secs % 60));
}

/* --- display columns -------------------------------------------------- */

/* Columns of a code point: 0 combining, 2 wide (East Asian, emoji), 1. */
static int
ui_cp_cols(uint32_t cp)
{
	static const struct {
		uint32_t	lo, hi;
	} zero[] = {
		{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
		{ 0x200b, 0x200f }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f },
		{ 0xfe20, 0xfe2f },
	}, wide[] = {
		{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a },
		{ 0x23e9, 0x23ec }, { 0x2600, 0x27bf }, { 0x2e80, 0x303e },
		{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
		{ 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 },
		{ 0xf900, 0xfaff }, { 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f },
		{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f000, 0x1faff },
		{ 0x20000, 0x3fffd },
	};
	size_t	i;

	for (i = 0; i < nitems(zero); i++)
		if (cp >= zero[i].lo && cp <= zero[i].hi)
			return 0;
	for (i = 0; i < nitems(wide); i++)
		if (cp >= wide[i].lo && cp <= wide[i].hi)
			return 2;
	return 1;
}

/* The next character of s (n bytes left): its bytes, *cols its columns. */
static size_t
ui_char(const char *s, size_t n, int *cols)
{
	uint32_t	cp;
	size_t		k;

	if ((k = utf8_seq((const uint8_t *)s, n, &cp)) == 0) {
		*cols = 1;		/* not UTF-8: shown as one '?' */
		return 1;
	}
	*cols = ui_cp_cols(cp);
	return k;
}

/* Display columns of s. */
static int
ui_cols(const char *s)
{
	size_t	n = strlen(s), i = 0;
	int	c, w = 0;

	while (i < n) {
		i += ui_char(s + i, n - i, &c);
		w += c;
	}
	return w;
}

/* Bytes of the longest start of s that fits in max columns. */
static size_t
ui_head(const char *s, int max)
{
	size_t	n = strlen(s), i = 0, k;
	int	c, w = 0;

	while (i < n) {
		k = ui_char(s + i, n - i, &c);
		if (w + c > max)
			break;
		w += c;
		i += k;
	}
	return i;
}

/* Where the shortest end of s that has at most max columns starts. */
static size_t
ui_tail(const char *s, int max)
{
	size_t	n = strlen(s), i = 0;
	int	c, w = ui_cols(s);

	while (i < n && w > max) {
		i += ui_char(s + i, n - i, &c);
		w -= c;
	}
	while (i < n) {			/* no combining mark first */
		size_t	k = ui_char(s + i, n - i, &c);

		if (c != 0)
			break;
		i += k;
	}
	return i;
}

/* s in at most max columns: its middle replaced by "~". */
static void
ui_shorten(const char *s, int max, char *out, size_t size)
{
	int	tail;
	size_t	h;

	if (ui_cols(s) <= max) {
		snprintf(out, size, "%s", s);
		return;
	}
	if (max < 3) {
		snprintf(out, size, "%.*s", (int)ui_head(s, max), s);
		return;
	}
	tail = (max - 1) / 2;
	h = ui_head(s, max - 1 - tail);
	snprintf(out, size, "%.*s~%s", (int)h, s, s + ui_tail(s, tail));
}

/* --- the line ---------------------------------------------------------- */

enum ui_seg {
	SEG_PCT, SEG_SIZE, SEG_DOWN, SEG_UP, SEG_PEERS, SEG_ETA, SEG_SWARM,
	SEG_DHT, SEG_COUNT,
};

#define SEG(x)		(1u << (x))
#define SEG_EXTRA	(SEG(SEG_SWARM) | SEG(SEG_DHT))

/*
 * What goes, step by step (the shortening order of ui.h); a name shorter
 * than UI_NAME_MIN columns from the step with short set.
 */
static const struct {
	unsigned	drop;
	bool		shorten;
} ui_steps[] = {
	{ 0, false },
	{ SEG_EXTRA, false },
	{ SEG_EXTRA | SEG(SEG_UP), false },
	{ SEG_EXTRA | SEG(SEG_UP), true },
	{ SEG_EXTRA | SEG(SEG_UP) | SEG(SEG_PEERS), true },
	{ SEG_EXTRA | SEG(SEG_UP) | SEG(SEG_PEERS) | SEG(SEG_SIZE), true },
};

/* The segments' texts (each "" when not shown), name apart. */
struct ui_segs {
	char	name[UI_LINE_MAX / 2];
	char	seg[SEG_COUNT][96];
};

static void
ui_fill(struct ui *u, const struct ui_view *v, const struct torrent_stats *ts,
    uint64_t now, struct ui_segs *sg)
{
	char	have[24], total[24], r[24], eta[24];
	char	*safe;
	double	pct;

	memset(sg, 0, sizeof(*sg));
	if (v->name != NULL) {
		safe = text_escape(v->name, TEXT_TERM);
		snprintf(sg->name, sizeof(sg->name), "%s", safe);
		free(safe);
	} else
		snprintf(sg->name, sizeof(sg->name), "%u torrents, %u done%s",
		    v->n, v->done, v->metadata > 0 ? "," : "");
	if (v->name == NULL && v->metadata > 0)
		snprintf(sg->name + strlen(sg->name), sizeof(sg->name) -
		    strlen(sg->name), " %u metadata", v->metadata);
	if (v->checking) {
		pct = ts->total == 0 ? 100.0 : 100.0 * (double)ts->have /
		    (double)ts->total;
		snprintf(sg->seg[SEG_PCT], sizeof(sg->seg[0]),
		    "checking %.1f%%", pct);
		snprintf(sg->seg[SEG_SIZE], sizeof(sg->seg[0]), "%s/%s",
		    human_size(have, sizeof(have), ts->have, 1),
		    human_size(total, sizeof(total), ts->total, 1));
		return;
	}
	if (u->dht_nodes >= 0)
		snprintf(sg->seg[SEG_DHT], sizeof(sg->seg[0]),
		    "dht %lld nodes (%lld good) %u peers",
		    (long long)u->dht_nodes, (long long)u->dht_good,
		    ts->dht_peers);
	snprintf(sg->seg[SEG_PEERS], sizeof(sg->seg[0]), "peers %u/%u",
	    ts->peers, v->name == NULL || ts->known > ts->peers ? ts->known :
	    ts->conns);
	if (v->name != NULL && ts->metadata) {
		/* A magnet: the metadata phase is its own state. */
		if (ts->md_pieces == 0)
			snprintf(sg->seg[SEG_PCT], sizeof(sg->seg[0]),
			    "metadata -");
		else
			snprintf(sg->seg[SEG_PCT], sizeof(sg->seg[0]),
			    "metadata %u/%u", ts->md_have, ts->md_pieces);
		return;
	}
	if (v->name != NULL && (u->seeders >= 0 || u->leechers >= 0))
		snprintf(sg->seg[SEG_SWARM], sizeof(sg->seg[0]),
		    "swarm %lld seeders %lld leechers", (long long)u->seeders,
		    (long long)u->leechers);
	pct = ts->total == 0 ? (v->name != NULL ? 100.0 : 0.0) :
	    100.0 * (double)ts->have / (double)ts->total;
	snprintf(sg->seg[SEG_PCT], sizeof(sg->seg[0]), "%.1f%%", pct);
	snprintf(sg->seg[SEG_SIZE], sizeof(sg->seg[0]), "%s/%s",
	    human_size(have, sizeof(have), ts->have, 1),
	    human_size(total, sizeof(total), ts->total, 1));
	snprintf(sg->seg[SEG_DOWN], sizeof(sg->seg[0]), "down %s/s",
	    human_size(r, sizeof(r), ui_bps(&u->down), 1));
	snprintf(sg->seg[SEG_UP], sizeof(sg->seg[0]), "up %s/s",
	    human_size(r, sizeof(r), ui_bps(&u->up), 1));
	if (v->name == NULL && v->metadata > 0)
		snprintf(eta, sizeof(eta), "-");	/* sizes unknown */
	else
		ui_eta_text(ui_eta_secs(u, ts->total - ts->have, now), eta,
		    sizeof(eta));
	snprintf(sg->seg[SEG_ETA], sizeof(sg->seg[0]), "eta %s", eta);
}

/* name and the segments not in drop, two spaces apart, into out. */
static void
ui_join(const struct ui_segs *sg, const char *name, unsigned drop,
    char *out, size_t size)
{
	size_t	n;
	int	i;

	snprintf(out, size, "%s", name);
	for (i = 0; i < SEG_COUNT; i++) {
		if ((drop & SEG(i)) || sg->seg[i][0] == '\0')
			continue;
		n = strlen(out);
		/* "PCT% HAVE/TOTAL", the rest two spaces apart */
		snprintf(out + n, size - n, "%s%s", out[0] == '\0' ? "" :
		    i == SEG_SIZE && !(drop & SEG(SEG_PCT)) ? " " : "  ",
		    sg->seg[i]);
	}
}

/*
 * The line in at most max columns (max < 0: all of it), shortened in the
 * order of ui_steps, cut at max at last.
 */
static void
ui_fit(const struct ui_segs *sg, int max, char *out, size_t size)
{
	char	name[sizeof(sg->name)];
	size_t	i;
	int	rest, room;

	ui_join(sg, sg->name, 0, out, size);
	if (max < 0 || ui_cols(out) <= max)
		return;
	for (i = 1; i < nitems(ui_steps); i++) {
		if (!ui_steps[i].shorten) {
			ui_join(sg, sg->name, ui_steps[i].drop, out, size);
			if (ui_cols(out) <= max)
				return;
			continue;
		}
		ui_join(sg, "", ui_steps[i].drop, out, size);
		rest = ui_cols(out);
		room = max - rest - 2;
		if (room >= MIN(UI_NAME_MIN, ui_cols(sg->name))) {
			ui_shorten(sg->name, room, name, sizeof(name));
			ui_join(sg, name, ui_steps[i].drop, out, size);
			return;
		}
	}
	/* Narrower still: the name at its least, then the cut. */
	ui_shorten(sg->name, UI_NAME_MIN, name, sizeof(name));
	ui_join(sg, name, ui_steps[nitems(ui_steps) - 1].drop, out, size);
	out[ui_head(out, max)] = '\0';
}

/* The terminal's columns: fixed, TIOCGWINSZ, $COLUMNS, UI_COLS. */
static int
ui_term_cols(const struct ui *u)
{
	struct winsize	 ws;
	const char	*e;
	long		 c;

	if (u->cols > 0)
		return u->cols;
	if (ioctl(fileno(u->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((e = getenv("COLUMNS")) != NULL && (c = strtol(e, NULL, 10)) > 0 &&
	    c < 10000)
		return (int)c;
	return UI_COLS;
}

/* Should a line be drawn now (and the clock of the last one moved)? */
static bool
ui_due(struct ui *u, uint64_t now)
{
	if (u->quiet)
		return false;
	if (u->start == 0)
		u->start = now;
	if (u->tty && u->last_draw != 0 && now - u->last_draw < UI_TTY_MS *
	    9 / 10)
		return false;
	if (!u->tty && now - (u->last_draw != 0 ? u->last_draw : u->start) <
	    UI_PLAIN_MS * 9 / 10)
		return false;
	u->last_draw = now;
	return true;
}

struct ui_draw {
	struct ui	*u;
	const char	*text;
};

/* Under the log's lock: the live line, and the sink's copy of it. */
static void
ui_draw_locked(void *arg)
{
	struct ui_draw	*d = arg;
	struct ui	*u = d->u;

	u->len = (size_t)snprintf(u->line, sizeof(u->line), "%s%s", UI_CLEAR,
	    d->text);
	if (u->len >= sizeof(u->line))
		u->len = sizeof(u->line) - 1;
	(void)write_all(fileno(u->out), u->line, u->len);
	u->shown = true;
}

void
ui_update(struct ui *u, const struct ui_view *v,
    const struct torrent_stats *ts, uint64_t now)
{
	struct ui_segs	 sg;
	struct ui_draw	 d;
	char		 text[UI_LINE_MAX - sizeof(UI_CLEAR)];

	ui_sample(u, ts, now);
	if (!ui_due(u, now))
		return;
	ui_fill(u, v, ts, now, &sg);
	if (!u->tty) {
		ui_fit(&sg, -1, text, sizeof(text));
		fprintf(u->out, "%s\n", text);
		fflush(u->out);
		return;
	}
	/* One column spare: the cursor never waits at the margin to wrap. */
	ui_fit(&sg, MAX(ui_term_cols(u) - 1, 1), text, sizeof(text));
	fflush(u->out);
	if (!u->sink) {
		log_set_sink(ui_sink, u);
		u->sink = true;
	}
	d = (struct ui_draw){ .u = u, .text = text };
	log_locked(ui_draw_locked, &d);
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

static void
ui_clear_locked(void *arg)
{
	struct ui	*u = arg;

	if (u->shown)
		(void)write_all(fileno(u->out), UI_CLEAR, strlen(UI_CLEAR));
	u->shown = false;
}

void
ui_clear(struct ui *u)
{
	if (!u->tty || !u->sink)
		return;
	fflush(u->out);
	log_locked(ui_clear_locked, u);
	/* The next line is drawn at once: it comes after what follows. */
	u->last_draw = 0;
}

void
ui_summary(struct ui *u, bool done, bool seeder, const char *name,
    const struct torrent_stats *ts, double seconds)
{
	char	 have[24], total[24], down[24], up[24], rate[24], urate[32];
	char	*safe = text_escape(name, TEXT_TERM);
	double	 s = seconds > 0 ? seconds : 0;

	ui_clear(u);
	human_size(total, sizeof(total), ts->total, 1);
	human_size(have, sizeof(have), ts->have, 1);
	human_size(down, sizeof(down), ts->downloaded, 1);
	human_size(up, sizeof(up), ts->uploaded, 1);
	human_size(rate, sizeof(rate), s > 0 ? (uint64_t)((double)
	    ts->downloaded / s) : 0, 1);
	urate[0] = '\0';
	if (seeder) {
		memcpy(urate, " at ", 5);
		human_size(urate + 4, sizeof(urate) - 4, s > 0 ?
		    (uint64_t)((double)ts->uploaded / s) : 0, 1);
		strncat(urate, "/s", sizeof(urate) - strlen(urate) - 1);
	}
	if (done)
		fprintf(u->out, "gtorrent: done: %s: %s (%" PRIu64 " bytes)",
		    safe, total, ts->total);
	else
		fprintf(u->out, "gtorrent: stopped: %s: %s of %s (%" PRIu64
		    " of %" PRIu64 " bytes)", safe, have, total, ts->have,
		    ts->total);
	fprintf(u->out, " in %.2f s (%s/s), downloaded %s (%" PRIu64 "), "
	    "uploaded %s (%" PRIu64 ")%s, peers %u\n", s, rate, down,
	    ts->downloaded, up, ts->uploaded, urate, ts->peers_ever);
	fflush(u->out);
	free(safe);
}
