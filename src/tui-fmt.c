/* tui-fmt.c - the full-screen view's figures and text, without a terminal */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "log.h"
#include "torrent.h"
#include "tui-int.h"
#include "util.h"

const struct tui_col	tui_tcols[TUI_TCOLS] = {
	{ "Torrent", 0, 12, 0, false },
	{ "State", 11, 0, 0, false },
	{ "Done", 6, 0, 0, true },
	{ "Down/s", 9, 0, 0, true },
	{ "Up/s", 9, 0, 5, true },
	{ "Peers", 5, 0, 2, true },
	{ "Seeds", 5, 0, 4, true },
	{ "Ratio", 6, 0, 6, true },
	{ "ETA", 8, 0, 3, true },
};

const struct tui_col	tui_pcols[TUI_PCOLS] = {
	{ "Peer", 0, 15, 0, false },
	{ "Client", 20, 0, 1, false },
	{ "Flags", 7, 0, 0, false },
	{ "From", 5, 0, 4, false },
	{ "Down/s", 10, 0, 0, true },
	{ "Up/s", 10, 0, 3, true },
	{ "Has", 6, 0, 2, true },
};

const struct tui_col	tui_kcols[TUI_KCOLS] = {
	{ "Tracker", 0, 24, 0, false },
	{ "Status", 8, 0, 3, false },
	{ "Result", 24, 0, 0, false },
	{ "Seeds", 5, 0, 4, true },
	{ "Leech", 5, 0, 5, true },
	{ "Next", 6, 0, 2, true },
};

/* ---- figures as text ------------------------------------------------- */

void
tui_size(char *out, size_t n, double v)
{
	static const char *const	 units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB",
	};
	size_t				 u = 0;

	while (v >= 1024 && u + 1 < nitems(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%.0f %s", v, units[u]);
	else
		snprintf(out, n, "%.1f %s", v, units[u]);
}

void
tui_eta(char *out, size_t n, double secs)
{
	uint64_t	s;

	if (!(secs >= 0) || secs > 100.0 * 86400) {
		snprintf(out, n, "-");
		return;
	}
	s = (uint64_t)(secs + 0.5);
	if (s >= 86400)
		snprintf(out, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		    s / 3600 % 24);
	else if (s >= 3600)
		snprintf(out, n, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
		    s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, n, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

void
tui_safe(char *out, size_t n, const char *s)
{
	char	*safe = text_escape(s != NULL ? s : "", TEXT_TERM);

	snprintf(out, n, "%s", safe);
	free(safe);
}

bool
tui_is_paused(const struct tui_torrent *tt)
{
	return tt->t != NULL && tt->st.paused;
}

const char *
tui_state(const struct tui_torrent *tt)
{
	if (tt->ended)
		return tt->st.complete ? "done" : "stopped";
	if (tt->checking)
		return "checking";
	if (tt->queued)
		return "queued";
	if (tt->stopping)
		return "stopping";
	if (tui_is_paused(tt))
		return "paused";
	if (tt->st.metadata)
		return "metadata";
	if (tt->st.complete)
		return "seeding";
	return "downloading";
}

void
tui_torrent_row(const struct tui_torrent *tt, const char *name, double down,
    double up, double eta, struct tui_trow *row)
{
	double	pct;

	tui_safe(row->name, sizeof(row->name), name);
	row->state = tui_state(tt);
	if (tt->t == NULL && tt->checking && tt->check_total > 0)
		snprintf(row->done, sizeof(row->done), "%.1f%%", 100.0 *
		    (double)tt->check_done / (double)tt->check_total);
	else if (tt->t == NULL && (tt->checking || tt->queued))
		snprintf(row->done, sizeof(row->done), "-");
	else if (tt->st.metadata) {
		if (tt->st.md_pieces > 0)
			snprintf(row->done, sizeof(row->done), "%u/%u",
			    tt->st.md_have, tt->st.md_pieces);
		else
			snprintf(row->done, sizeof(row->done), "-");
	} else {
		pct = tt->st.total > 0 ? 100.0 *
		    (double)tt->st.have / (double)tt->st.total : 100;
		if (pct > 99.9 && tt->st.have < tt->st.total)
			pct = 99.9;
		snprintf(row->done, sizeof(row->done), "%.1f%%", pct);
	}
	tui_size(row->down, sizeof(row->down), down);
	tui_size(row->up, sizeof(row->up), up);
	snprintf(row->peers, sizeof(row->peers), "%u", tt->st.peers);
	/* connected seeds, and the tracker's count when it fits */
	if (tt->st.seeders < 0 || snprintf(row->seeds, sizeof(row->seeds),
	    "%u/%" PRId64, tt->st.seeds, tt->st.seeders) >
	    tui_tcols[6].w)
		snprintf(row->seeds, sizeof(row->seeds), "%u", tt->st.seeds);
	if (tt->st.size > 0)
		snprintf(row->ratio, sizeof(row->ratio), "%.2f",
		    (double)tt->st.uploaded_ever / (double)tt->st.size);
	else
		snprintf(row->ratio, sizeof(row->ratio), "-");
	if (tt->st.complete || tt->ended || tt->st.metadata ||
	    tui_is_paused(tt) || eta < 0)
		snprintf(row->eta, sizeof(row->eta), "-");
	else
		tui_eta(row->eta, sizeof(row->eta), eta);
	row->cell[0] = row->name;
	row->cell[1] = row->state;
	row->cell[2] = row->done;
	row->cell[3] = row->down;
	row->cell[4] = row->up;
	row->cell[5] = row->peers;
	row->cell[6] = row->seeds;
	row->cell[7] = row->ratio;
	row->cell[8] = row->eta;
}

/* uTorrent's letters (explained in the help). */
void
tui_flags(const struct torrent_peer_info *p, char *out, size_t n)
{
	char		 f[16];
	size_t		 k = 0;

	if (p->am_interested)
		f[k++] = p->peer_choking ? 'd' : 'D';
	else if (!p->peer_choking)
		f[k++] = 'K';
	if (p->peer_interested)
		f[k++] = p->am_choking ? 'u' : 'U';
	else if (!p->am_choking)
		f[k++] = '?';
	if (p->optimistic)
		f[k++] = 'O';
	if (p->snubbed)
		f[k++] = 'S';
	if (p->incoming)
		f[k++] = 'I';
	if (p->encrypted)
		f[k++] = 'E';
	if (p->utp)
		f[k++] = 'P';
	if (k == 0)
		f[k++] = '-';
	f[k] = '\0';
	snprintf(out, n, "%s", f);
}

const char *
tui_source(enum torrent_peer_source src)
{
	static const char *const	names[] = {
		[TORRENT_SRC_TRACKER] = "trk", [TORRENT_SRC_DHT] = "dht",
		[TORRENT_SRC_PEX] = "pex", [TORRENT_SRC_INCOMING] = "in",
		[TORRENT_SRC_GIVEN] = "given",
	};

	if ((size_t)src < nitems(names) && names[src] != NULL)
		return names[src];
	return "?";
}

/* ---- fitting to the width -------------------------------------------- */

void
tui_cols_fit(const struct tui_col *c, size_t n, int width, int *w)
{
	size_t	i, worst;
	int	used, flex = -1;

	for (i = 0; i < n; i++) {
		w[i] = c[i].w != 0 ? c[i].w : c[i].min;
		if (c[i].w == 0)
			flex = (int)i;
	}
	for (;;) {
		used = -1;
		for (i = 0; i < n; i++)
			if (w[i] > 0)
				used += w[i] + 1;
		if (used <= width)
			break;
		worst = n;
		for (i = 0; i < n; i++)
			if (w[i] > 0 && c[i].drop > 0 && (worst == n ||
			    c[i].drop > c[worst].drop))
				worst = i;
		if (worst == n)
			break;		/* what fits is drawn, clipped */
		w[worst] = 0;
	}
	if (flex >= 0 && used < width)
		w[flex] += width - used;
}

size_t
tui_clip(const char *s, int w, wchar_t *out, size_t max, int *cols)
{
	mbstate_t	 mb;
	size_t		 n = 0, k, len = strlen(s);
	int		 c = 0, cw;

	memset(&mb, 0, sizeof(mb));
	while (len > 0 && n + 1 < max) {
		k = mbrtowc(&out[n], s, len, &mb);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&mb, 0, sizeof(mb));
			out[n] = L'?';
			k = 1;
		}
		/*
		 * wcwidth counts a bidi override or a zero-width space as 0
		 * columns: text drawn as it is (a log line, a tracker's
		 * reason) would carry it to the terminal.
		 */
		if ((cw = wcwidth(out[n])) < 0 ||
		    utf8_hidden((uint32_t)out[n])) {
			out[n] = L'?';
			cw = 1;
		}
		if (c + cw > w)
			break;
		c += cw;
		n++;
		s += k;
		len -= k;
	}
	if (max > 0)
		out[n] = L'\0';
	*cols = c;
	return n;
}

/* c times ' ' at out[n..), within max; returns the new n. */
static size_t
tui_pad(wchar_t *out, size_t n, size_t max, int c)
{
	while (c-- > 0 && n + 1 < max)
		out[n++] = L' ';
	return n;
}

size_t
tui_line(const struct tui_col *c, const int *w, size_t n,
    const char *const *cell, int width, wchar_t *out, size_t max)
{
	wchar_t	tmp[TUI_LINE_COLS + 1];
	size_t	i, k = 0, got;
	int	x = 0, cw, cols, pad;

	if (max == 0)
		return 0;
	for (i = 0; i < n && x < width; i++) {
		if (w[i] == 0)
			continue;
		cw = MIN(w[i], width - x);
		got = tui_clip(cell[i], cw, tmp, nitems(tmp), &cols);
		pad = cw - cols;
		if (k + got + (size_t)pad + 2 > max)
			break;
		if (c[i].right)
			k = tui_pad(out, k, max, pad);
		wmemcpy(out + k, tmp, got);
		k += got;
		if (!c[i].right)
			k = tui_pad(out, k, max, pad);
		x += cw;
		if (x < width)
			k = tui_pad(out, k, max, 1);
		x++;
	}
	if (x < width)
		k = tui_pad(out, k, max, width - x);
	out[k] = L'\0';
	return k;
}

int
tui_wcols(const wchar_t *out, size_t n)
{
	size_t	i;
	int	c = 0, cw;

	for (i = 0; i < n; i++)
		c += (cw = wcwidth(out[i])) > 0 ? cw : 0;
	return c;
}

/* ---- the piece map --------------------------------------------------- */

size_t
tui_map_cells(size_t n, size_t room)
{
	return n < room ? n : room;
}

void
tui_map_range(size_t i, size_t cells, size_t n, size_t *a, size_t *b)
{
	*a = i * n / cells;
	*b = (i + 1) * n / cells;
}

char
tui_map_cell(const uint8_t *state, const uint16_t *avail, size_t a,
    size_t b, enum tui_color *col)
{
	size_t		nh = 0, np = 0, nm = 0, j;
	unsigned	minav = UINT16_MAX;

	for (j = a; j < b; j++) {
		switch (state[j]) {
		case TORRENT_PIECE_HAVE:
			nh++;
			break;
		case TORRENT_PIECE_PARTIAL:
			np++;
			break;
		case TORRENT_PIECE_SKIPPED:
			break;
		default:
			nm++;
			if (avail[j] < minav)
				minav = avail[j];
			break;
		}
	}
	if (np > 0) {
		*col = TUI_C_PARTIAL;
		return '+';
	}
	if (nm == 0 && nh > 0) {
		*col = TUI_C_HAVE;
		return '#';
	}
	if (nm == 0) {
		*col = TUI_C_NONE;
		return ' ';
	}
	if (nh > 0) {
		*col = TUI_C_HAVE;
		return 'o';
	}
	*col = minav == 0 ? TUI_C_NONEHAS : TUI_C_MISSING;
	return minav == 0 ? '_' : minav == 1 ? '.' : minav <= 4 ? ':' : '=';
}

/* ---- rates ----------------------------------------------------------- */

void
tui_rate_update(struct tui_rate *rt, const struct tui_torrent *tt,
    const struct torrent_peer_info *peers, size_t npeers, uint64_t now)
{
	uint64_t	down = 0, up = 0;
	size_t		i;

	/*
	 * The peers' own windows, summed: the row is what the peers pane
	 * shows.  (An average of the torrent's counters, started afresh at
	 * each resume, lagged it by seconds, and its first sample, over the
	 * 100 ms between a key and a redraw, could show a burst as 3x the
	 * rate.)
	 */
	if (tt->t != NULL && !tt->ended && !tui_is_paused(tt))
		for (i = 0; i < npeers; i++) {
			down += peers[i].down_rate;
			up += peers[i].up_rate;
		}
	if (rt->t != tt->t)
		memset(&rt->eta, 0, sizeof(rt->eta));	/* another torrent */
	rt->t = tt->t;
	rt->ms = now;
	rt->down_bps = (double)down;
	rt->up_bps = (double)up;
	if (tt->t == NULL || tt->ended || tt->st.complete || tt->st.metadata ||
	    tui_is_paused(tt)) {
		memset(&rt->eta, 0, sizeof(rt->eta));
		rt->eta_s = -1;
	} else
		rt->eta_s = ui_eta_next(&rt->eta, tt->st.total > tt->st.have ?
		    tt->st.total - tt->st.have : 0, rt->down_bps, now);
}

double
tui_rate_eta(const struct tui_rate *rt)
{
	return rt->eta_s;
}

double
tui_rate_down(const struct tui_rate *rt)
{
	return rt->down_bps > 0 ? rt->down_bps : 0;
}

double
tui_rate_up(const struct tui_rate *rt)
{
	return rt->up_bps > 0 ? rt->up_bps : 0;
}

/* ---- the log --------------------------------------------------------- */

bool
tui_important(const char *line)
{
	return strncmp(line, "gtorrent: info: ", 16) != 0 &&
	    strncmp(line, "gtorrent: debug: ", 17) != 0 &&
	    strncmp(line, "gtorrent: trace: ", 17) != 0;
}

void
tui_log_sink(void *arg, const char *line, size_t len)
{
	struct tui_log		*lg = arg;
	struct tui_logline	*l;
	size_t			 n = len;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n >= TUI_LINE_MAX)
		n = TUI_LINE_MAX - 1;
	if (lg->ln == TUI_LOG_LINES) {
		lg->lhead = (lg->lhead + 1) % TUI_LOG_LINES;
		lg->ln--;
	}
	l = &lg->ring[(lg->lhead + lg->ln++) % TUI_LOG_LINES];
	memcpy(l->text, line, n);
	l->text[n] = '\0';
	l->important = tui_important(l->text);
	if (!l->important)
		return;
	if (lg->kn == TUI_LOG_KEEP) {
		lg->khead = (lg->khead + 1) % TUI_LOG_KEEP;
		lg->kn--;
		lg->kdropped++;
	}
	memcpy(lg->keep[(lg->khead + lg->kn++) % TUI_LOG_KEEP], l->text,
	    n + 1);
}

size_t
tui_log_last(const struct tui_log *lg, struct tui_logline *out, size_t max)
{
	size_t	i, n = MIN(lg->ln, max);

	for (i = 0; i < n; i++)
		out[i] = lg->ring[(lg->lhead + lg->ln - n + i) %
		    TUI_LOG_LINES];
	return n;
}

const char *
tui_log_kept(const struct tui_log *lg, size_t i)
{
	return lg->keep[(lg->khead + i) % TUI_LOG_KEEP];
}
