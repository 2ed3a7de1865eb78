/* tui.c - the full-screen view (ncurses): torrents, peers, pieces, trackers */
#define NCURSES_WIDECHAR	1

#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include <curses.h>
#include <term.h>

#include "addr.h"
#include "dht.h"
#include "log.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "tui.h"
#include "tui-int.h"
#include "util.h"

#define TUI_ESC_MAX	256	/* the terminal's reset strings, bytes */
#define TUI_STRIP_MAX	8	/* log lines the strip shows at most */

enum tui_pane {
	TUI_TORRENTS,
	TUI_PEERS,
	TUI_TRACKERS,
	TUI_NPANES,
};

struct tui {
	struct reactor		*r;
	struct session		*s;
	struct tui_hooks	 h;
	SCREEN			*scr;
	FILE			*out;		/* the terminal (a dup of stdout) */
	FILE			*in;		/* its keys */
	int			 ttyfd;		/* fileno(out) */
	struct termios		 tio;		/* as it was before */
	bool			 has_tio;
	char			 esc[TUI_ESC_MAX];	/* resets it at a crash */
	size_t			 nesc;
	int			 saved_out, saved_err;	/* stdout, stderr */
	int			 cap_out, cap_err;	/* kept aside meanwhile */
	struct reactor_timer	*timer;
	struct reactor_fd	*keys;
	bool			 color;
	bool			 help;
	bool			 ended;		/* the terminal given back */
	enum tui_pane		 focus;
	size_t			 sel;		/* selected torrent */
	size_t			 peer_sel, peer_top;
	size_t			 trk_sel, trk_top;
	uint64_t		 last_draw;
	/* The torrents of the last redraw */
	struct tui_torrent	*tv;
	size_t			 ntv, cap;
	struct tui_rate		*rates;		/* cap of them, by index */
	struct torrent_peer_info *peers;
	size_t			 npeers;
	struct torrent_peer_info *others;	/* another torrent's, for its
						   rates */
	struct torrent_tracker_info *trk;
	size_t			 ntrk;
	uint8_t			*pstate;
	uint16_t		*pavail;
	size_t			 pcap;
	/* Log lines (from any thread: under the log's lock) */
	struct tui_log		 log;
	/* ... copied out for the strip (loop thread only) */
	struct tui_logline	 strip[TUI_STRIP_MAX];
	size_t			 nstrip;
};

/*
 * The view that holds the terminal, for the exit and crash handlers: they
 * have no other way to it.  The only mutable globals outside main.c and
 * log.c, for that reason.
 */
static struct tui		*tui_live;
static bool			 tui_handlers;	/* atexit and crash, once */
/* Crashes, and the signals that end us when nobody handles them. */
static const int		 tui_crash_signals[] = {
	SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGHUP, SIGQUIT, SIGTERM,
	SIGINT,
};
static struct sigaction		 tui_old_sa[nitems(tui_crash_signals)];

extern void	__sanitizer_set_death_callback(void (*)(void))
		    __attribute__((weak));

static void	tui_draw(struct tui *);
static void	tui_putf(int, int, int, const char *, ...) GT_PRINTF(4, 5);

/* ---- drawing --------------------------------------------------------- */

static attr_t
tui_attr(const struct tui *t, enum tui_color c)
{
	if (!t->color || c == TUI_C_NONE)
		return 0;
	return COLOR_PAIR(c);
}

/*
 * s (UTF-8, made safe) at y, x in w columns at most, clipped at the
 * screen's edge; padded to w, right-aligned if asked.  Returns the
 * columns drawn.
 */
static int
tui_put(int y, int x, int w, const char *s, bool right)
{
	wchar_t		 wc[TUI_NAME_MAX];
	size_t		 n;
	int		 cols, pad;

	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return 0;
	if (w > COLS - x)
		w = COLS - x;
	n = tui_clip(s, w, wc, nitems(wc), &cols);
	pad = w - cols;
	if (right && pad > 0)
		mvhline(y, x, ' ', pad);
	if (n > 0)
		mvaddnwstr(y, x + (right ? pad : 0), wc, (int)n);
	if (!right && pad > 0)
		mvhline(y, x + cols, ' ', pad);
	return w;
}

static void
tui_putf(int y, int x, int w, const char *fmt, ...)
{
	char	buf[TUI_NAME_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tui_put(y, x, w, buf, false);
}

static void
tui_row(int y, const struct tui_col *c, const int *w, size_t n,
    const char *const *cell)
{
	wchar_t	line[TUI_LINE_COLS + 1];
	size_t	k;

	if (y < 0 || y >= LINES)
		return;
	k = tui_line(c, w, n, cell, MIN(COLS, TUI_LINE_COLS), line,
	    nitems(line));
	mvhline(y, 0, ' ', COLS);
	if (k > 0)
		mvaddnwstr(y, 0, line, (int)k);
}

/* A pane's heading: its column names, marked when it has the focus. */
static void
tui_heading(struct tui *t, int y, const struct tui_col *c, const int *w,
    size_t n, bool focus)
{
	const char	*head[16];
	size_t		 i;

	for (i = 0; i < n && i < nitems(head); i++)
		head[i] = c[i].head;
	tui_row(y, c, w, n, head);
	if (!focus)
		mvchgat(y, 0, -1, A_BOLD | A_UNDERLINE, 0, NULL);
	else if (t->color)
		mvchgat(y, 0, -1, A_BOLD, TUI_C_FOCUS, NULL);
	else
		mvchgat(y, 0, -1, A_REVERSE | A_BOLD, 0, NULL);
}

static void
tui_select_row(struct tui *t, int y, bool focus)
{
	(void)t;
	mvchgat(y, 0, -1, focus ? A_REVERSE : A_BOLD, 0, NULL);
}

/* ---- the torrents ---------------------------------------------------- */

static void
tui_collect(struct tui *t)
{
	size_t	n, i;

	for (;;) {
		n = t->h.torrents(t->h.arg, t->tv, t->cap);
		if (n <= t->cap)
			break;
		t->tv = xreallocarray(t->tv, n, sizeof(*t->tv));
		t->rates = xreallocarray(t->rates, n, sizeof(*t->rates));
		for (i = t->cap; i < n; i++)
			memset(&t->rates[i], 0, sizeof(t->rates[i]));
		t->cap = n;
	}
	t->ntv = n;
	for (i = 0; i < n; i++)
		if (t->tv[i].t != NULL)
			torrent_stats(t->tv[i].t, &t->tv[i].st);
	if (t->sel >= n)
		t->sel = n > 0 ? n - 1 : 0;
}

/*
 * The rates each torrent's row shows: its peers' summed, the selected
 * one's from the peers its pane shows (t->peers, read first).
 */
static void
tui_rates(struct tui *t, uint64_t now)
{
	const struct tui_torrent	*tt;
	size_t				 i, n;

	for (i = 0; i < t->ntv; i++) {
		tt = &t->tv[i];
		if (i == t->sel) {
			tui_rate_update(&t->rates[i], tt, t->peers, t->npeers,
			    now);
			continue;
		}
		n = 0;
		if (tt->t != NULL && !tt->ended && !tui_is_paused(tt)) {
			if (t->others == NULL)
				t->others = xreallocarray(NULL, TUI_MAX_PEERS,
				    sizeof(*t->others));
			n = MIN(torrent_peer_infos(tt->t, t->others,
			    TUI_MAX_PEERS, now), TUI_MAX_PEERS);
		}
		tui_rate_update(&t->rates[i], tt, t->others, n, now);
	}
}

static double
tui_down(const struct tui *t, size_t i)
{
	return tui_rate_down(&t->rates[i]);
}

static double
tui_up(const struct tui *t, size_t i)
{
	return tui_rate_up(&t->rates[i]);
}

static const char *
tui_name(const struct tui_torrent *tt)
{
	return tt->t != NULL ? torrent_name(tt->t) : tt->name;
}

static void
tui_draw_torrents(struct tui *t, int y, int rows)
{
	struct tui_trow		 row;
	int			 w[nitems(tui_tcols)];
	size_t			 i, top = 0, shown;

	if (rows <= 0)
		return;
	tui_cols_fit(tui_tcols, nitems(tui_tcols), COLS, w);
	tui_heading(t, y, tui_tcols, w, nitems(tui_tcols),
	    t->focus == TUI_TORRENTS);
	shown = (size_t)rows - 1;
	if (shown == 0)
		return;
	if (t->sel >= shown)
		top = t->sel - shown + 1;
	for (i = top; i < t->ntv && i < top + shown; i++) {
		tui_torrent_row(&t->tv[i], tui_name(&t->tv[i]), tui_down(t, i),
		    tui_up(t, i), tui_rate_eta(&t->rates[i]), &row);
		tui_row(y + 1 + (int)(i - top), tui_tcols, w,
		    nitems(tui_tcols), row.cell);
		if (i == t->sel)
			tui_select_row(t, y + 1 + (int)(i - top),
			    t->focus == TUI_TORRENTS);
	}
	if (t->ntv == 0)
		tui_put(y + 1, 0, COLS, "(no torrent)", false);
}

/* ---- the peers of the selected one ----------------------------------- */

static void
tui_draw_peers(struct tui *t, int y, int rows)
{
	const struct torrent_peer_info	*p;
	const struct tui_torrent	*tt = t->ntv > 0 ? &t->tv[t->sel] : NULL;
	char				 addr[ADDR_STRLEN], client[TUI_NAME_MAX];
	char				 flags[16], down[24], up[24], has[16];
	char				 head[64];
	const char			*cell[nitems(tui_pcols)];
	struct tui_col			 c[nitems(tui_pcols)];
	int				 w[nitems(tui_pcols)];
	size_t				 i, shown;
	uint32_t			 np;

	if (rows <= 0)
		return;
	memcpy(c, tui_pcols, sizeof(c));
	snprintf(head, sizeof(head), "Peers (%zu)", t->npeers);
	c[0].head = head;
	tui_cols_fit(c, nitems(c), COLS, w);
	tui_heading(t, y, c, w, nitems(c), t->focus == TUI_PEERS);
	shown = (size_t)rows - 1;
	if (t->peer_sel >= t->npeers)
		t->peer_sel = t->npeers > 0 ? t->npeers - 1 : 0;
	if (t->peer_sel < t->peer_top)
		t->peer_top = t->peer_sel;
	if (shown > 0 && t->peer_sel >= t->peer_top + shown)
		t->peer_top = t->peer_sel - shown + 1;
	np = tt != NULL ? tt->st.npieces : 0;
	for (i = t->peer_top; i < t->npeers && i < t->peer_top + shown;
	    i++) {
		p = &t->peers[i];
		addr_str(&p->addr, addr);
		tui_safe(client, sizeof(client), p->client[0] != '\0' ?
		    p->client : "?");
		tui_flags(p, flags, sizeof(flags));
		tui_size(down, sizeof(down), (double)p->down_rate);
		tui_size(up, sizeof(up), (double)p->up_rate);
		if (np > 0)
			snprintf(has, sizeof(has), "%.0f%%", 100.0 *
			    p->have_pieces / np);
		else
			snprintf(has, sizeof(has), "-");
		cell[0] = addr;
		cell[1] = client;
		cell[2] = flags;
		cell[3] = tui_source(p->source);
		cell[4] = down;
		cell[5] = up;
		cell[6] = has;
		tui_row(y + 1 + (int)(i - t->peer_top), c, w, nitems(c),
		    cell);
		if (i == t->peer_sel && t->focus == TUI_PEERS)
			tui_select_row(t, y + 1 + (int)(i - t->peer_top),
			    true);
	}
	if (t->npeers == 0 && shown > 0)
		tui_put(y + 1, 0, COLS, tt == NULL ? "" : tt->ended ?
		    "(over)" : tui_is_paused(tt) ? "(paused)" :
		    "(no peer connected)", false);
}

/* ---- the piece map --------------------------------------------------- */

static void
tui_draw_pieces(struct tui *t, int y, int rows)
{
	const struct tui_torrent	*tt = t->ntv > 0 ? &t->tv[t->sel] : NULL;
	size_t				 n = 0, cells, i, a, b;
	int				 width = COLS, cx, cy;
	chtype				 ch;
	enum tui_color			 col;

	if (rows <= 0)
		return;
	if (tt != NULL && tt->t != NULL && tt->st.npieces > 0) {
		n = tt->st.npieces;
		if (n > TUI_MAX_PIECES)
			n = TUI_MAX_PIECES;
		if (n > t->pcap) {
			t->pstate = xreallocarray(t->pstate, n, 1);
			t->pavail = xreallocarray(t->pavail, n,
			    sizeof(*t->pavail));
			t->pcap = n;
		}
		n = torrent_piece_map(tt->t, t->pstate, t->pavail,
		    (uint32_t)n);
	}
	cells = tui_map_cells(n, (size_t)(rows - 1) * (size_t)width);
	mvhline(y, 0, ' ', COLS);
	tui_putf(y, 0, COLS, "Pieces (%zu%s)  # have  + downloading  "
	    "o part  missing: _ none has it . 1 : 2-4 = 5+", n,
	    cells > 0 && cells < n ? ", scaled" : "");
	mvchgat(y, 0, -1, A_BOLD | A_UNDERLINE, 0, NULL);
	if (n == 0) {
		if (rows > 1)
			tui_put(y + 1, 0, COLS, tt != NULL &&
			    tt->st.metadata ? "(waiting for the metadata)" :
			    "", false);
		return;
	}
	for (i = 0; i < cells; i++) {
		tui_map_range(i, cells, n, &a, &b);
		ch = (chtype)tui_map_cell(t->pstate, t->pavail, a, b, &col);
		cy = y + 1 + (int)(i / (size_t)width);
		cx = (int)(i % (size_t)width);
		if (cy >= LINES)
			break;
		mvaddch(cy, cx, ch | tui_attr(t, col));
	}
}

/* ---- the trackers ---------------------------------------------------- */

static const char *
tui_trk_status(enum torrent_tracker_status st)
{
	switch (st) {
	case TORRENT_TRK_BUSY:
		return "asking";
	case TORRENT_TRK_OK:
		return "ok";
	case TORRENT_TRK_FAILED:
		return "failed";
	default:
		return "idle";
	}
}

static void
tui_draw_trackers(struct tui *t, int y, int rows)
{
	uint64_t			 now = reactor_now_ms(t->r);
	const struct torrent_tracker_info *k;
	char				 url[TUI_NAME_MAX], res[TUI_NAME_MAX];
	char				 seeds[24], leech[24], next[24];
	const char			*cell[nitems(tui_kcols)];
	int				 w[nitems(tui_kcols)];
	size_t				 i, shown;

	if (rows <= 0)
		return;
	tui_cols_fit(tui_kcols, nitems(tui_kcols), COLS, w);
	tui_heading(t, y, tui_kcols, w, nitems(tui_kcols),
	    t->focus == TUI_TRACKERS);
	shown = (size_t)rows - 1;
	if (t->trk_sel >= t->ntrk)
		t->trk_sel = t->ntrk > 0 ? t->ntrk - 1 : 0;
	if (t->trk_sel < t->trk_top)
		t->trk_top = t->trk_sel;
	if (shown > 0 && t->trk_sel >= t->trk_top + shown)
		t->trk_top = t->trk_sel - shown + 1;
	for (i = t->trk_top; i < t->ntrk && i < t->trk_top + shown; i++) {
		k = &t->trk[i];
		tui_safe(url, sizeof(url), k->url);
		tui_safe(res, sizeof(res), k->result[0] != '\0' ? k->result :
		    "-");
		if (k->seeders >= 0)
			snprintf(seeds, sizeof(seeds), "%" PRId64, k->seeders);
		else
			snprintf(seeds, sizeof(seeds), "-");
		if (k->leechers >= 0)
			snprintf(leech, sizeof(leech), "%" PRId64,
			    k->leechers);
		else
			snprintf(leech, sizeof(leech), "-");
		if (k->status == TORRENT_TRK_BUSY)
			snprintf(next, sizeof(next), "now");
		else if (k->next_ms > 0)
			snprintf(next, sizeof(next), "%" PRIu64 "s",
			    k->next_ms > now ? (k->next_ms - now + 999) /
			    1000 : 0);
		else
			snprintf(next, sizeof(next), "-");
		cell[0] = url;
		cell[1] = tui_trk_status(k->status);
		cell[2] = res;
		cell[3] = seeds;
		cell[4] = leech;
		cell[5] = next;
		tui_row(y + 1 + (int)(i - t->trk_top), tui_kcols, w,
		    nitems(tui_kcols), cell);
		if (i == t->trk_sel && t->focus == TUI_TRACKERS)
			tui_select_row(t, y + 1 + (int)(i - t->trk_top), true);
	}
	if (t->ntrk == 0 && shown > 0)
		tui_put(y + 1, 0, COLS, "(no tracker)", false);
}

/* ---- the log strip --------------------------------------------------- */

/* Under the log's lock: the last lines, for the strip. */
static void
tui_strip_copy(void *arg)
{
	struct tui	*t = arg;

	t->nstrip = tui_log_last(&t->log, t->strip, TUI_STRIP_MAX);
}

static void
tui_draw_log(struct tui *t, int y, int rows)
{
	const char	*s;
	size_t		 i, n;

	if (rows <= 0)
		return;
	tui_put(y, 0, COLS, "Log", false);
	mvchgat(y, 0, -1, A_BOLD | A_UNDERLINE, 0, NULL);
	n = (size_t)rows - 1;
	if (n > t->nstrip)
		n = t->nstrip;
	for (i = 0; i < n; i++) {
		s = t->strip[t->nstrip - n + i].text;
		if (strncmp(s, "gtorrent: ", 10) == 0)
			s += 10;
		tui_put(y + 1 + (int)i, 0, COLS, s, false);
		if (strncmp(s, "warning: ", 9) == 0)
			mvchgat(y + 1 + (int)i, 0, -1, 0, TUI_C_WARN *
			    t->color, NULL);
		else if (t->strip[t->nstrip - n + i].important)
			mvchgat(y + 1 + (int)i, 0, -1, A_BOLD, TUI_C_ERROR *
			    t->color, NULL);
	}
}

/* ---- the whole screen ------------------------------------------------ */

static void
tui_header(struct tui *t)
{
	struct dht_stats	 ds;
	struct dht		*dht = session_dht(t->s);
	char			 left[TUI_NAME_MAX], down[24], up[24];
	char			 dhts[64];
	double			 d = 0, u = 0;
	size_t			 i, done = 0, paused = 0;
	bool			 stopping = false;

	for (i = 0; i < t->ntv; i++) {
		d += tui_down(t, i);
		u += tui_up(t, i);
		done += t->tv[i].st.complete;
		paused += tui_is_paused(&t->tv[i]);
		stopping |= t->tv[i].stopping;
	}
	tui_size(down, sizeof(down), d);
	tui_size(up, sizeof(up), u);
	if (dht != NULL) {
		dht_stats(dht, reactor_now_ms(t->r), &ds);
		snprintf(dhts, sizeof(dhts), "DHT %zu nodes",
		    ds.nodes[0] + ds.nodes[1]);
	} else
		snprintf(dhts, sizeof(dhts), "DHT off");
	snprintf(left, sizeof(left), " gtorrent  %zu torrent%s, %zu done%s  "
	    "down %s/s  up %s/s  %s%s", t->ntv, t->ntv == 1 ? "" : "s", done,
	    paused > 0 ? ", some paused" : "", down, up, dhts,
	    stopping ? "  stopping..." : "");
	tui_put(0, 0, COLS, left, false);
	mvchgat(0, 0, -1, t->color ? A_BOLD : A_REVERSE | A_BOLD,
	    (short)(t->color ? TUI_C_TITLE : 0), NULL);
}

static void
tui_footer(struct tui *t)
{
	static const char	*panes[] = {
		[TUI_TORRENTS] = "torrents", [TUI_PEERS] = "peers",
		[TUI_TRACKERS] = "trackers",
	};

	if (LINES < 2)
		return;
	tui_putf(LINES - 1, 0, COLS, " [%s]  Tab pane  arrows move  "
	    "p pause/resume  ? help  q quit", panes[t->focus]);
	mvchgat(LINES - 1, 0, -1, t->color ? A_NORMAL : A_REVERSE,
	    (short)(t->color ? TUI_C_TITLE : 0), NULL);
}

static const char *const	tui_help_text[] = {
	"gtorrent: the full-screen view",
	"",
	"Up/Down, j/k   move in the pane that has the focus",
	"Left/Right     the previous/next torrent",
	"Tab, Shift-Tab the next/previous pane (torrents, peers, trackers)",
	"p              pause or resume the selected torrent",
	"q              quit: every torrent stops as on Ctrl-C",
	"Ctrl-L         redraw;   ?  this help (any key closes it)",
	"",
	"Peer flags (uTorrent's letters):",
	" D downloading from it      d we want, it chokes us",
	" U uploading to it          u it wants, we choke it",
	" K it unchokes us, we want nothing   ? we unchoke it, it wants nothing",
	" O optimistic unchoke   S snubbed   I incoming",
	" E encrypted   P uTP",
	"Peer from: trk tracker, dht DHT, pex peer exchange, in incoming,",
	"           given --peer or the magnet's x.pe",
	"",
	"Piece map (a cell: one piece or a range of them):",
	" # have   + downloading   o part of the range had   space not wanted",
	" missing: _ no peer has it   . one peer   : 2-4 peers   = 5 or more",
	"",
	"Ratio: uploaded / size.  Rates: over the last 5 seconds; a torrent's",
	"are its peers' summed.",
};

static void
tui_draw_help(struct tui *t)
{
	int	w = 0, h = (int)nitems(tui_help_text) + 2, x, y, i, len;

	(void)t;
	for (i = 0; i < (int)nitems(tui_help_text); i++)
		if ((len = (int)strlen(tui_help_text[i])) > w)
			w = len;
	w += 4;
	if (w > COLS)
		w = COLS;
	if (h > LINES)
		h = LINES;
	x = (COLS - w) / 2;
	y = (LINES - h) / 2;
	for (i = 0; i < h; i++)
		mvhline(y + i, x, ' ', w);
	for (i = 0; i < h - 2 && i < (int)nitems(tui_help_text); i++)
		tui_put(y + 1 + i, x + 2, w - 4, tui_help_text[i], false);
	for (i = 0; i < h; i++)
		mvchgat(y + i, x, w, A_REVERSE, 0, NULL);
	mvchgat(y + 1, x, w, A_REVERSE | A_BOLD, 0, NULL);
}

/* Rows for each pane from the screen's height; 0: not shown. */
static void
tui_layout(const struct tui *t, int *tor, int *peers, int *pcs, int *trk,
    int *logr)
{
	size_t	np = t->ntv > 0 ? t->tv[t->sel].st.npieces : 0;
	int	rem = LINES - 2, want;

	*tor = *peers = *pcs = *trk = *logr = 0;
	if (rem <= 0)
		return;
	/* the minimums, in order of importance */
	*tor = rem >= 2 ? 2 : rem;
	rem -= *tor;
	*peers = rem >= 2 ? 2 : 0;
	rem -= *peers;
	*pcs = rem >= 2 ? 2 : 0;
	rem -= *pcs;
	*trk = rem >= 2 ? 2 : 0;
	rem -= *trk;
	*logr = rem >= 2 && LINES >= 20 ? 2 : 0;
	rem -= *logr;
	/* then what they would like */
	want = 1 + (int)(t->ntv < 8 ? (t->ntv > 0 ? t->ntv : 1) : 8);
	while (rem > 0 && *tor < want) {
		(*tor)++;
		rem--;
	}
	want = 1 + (int)(t->ntrk < 4 ? (t->ntrk > 0 ? t->ntrk : 1) : 4);
	while (rem > 0 && *trk > 0 && *trk < want) {
		(*trk)++;
		rem--;
	}
	/* the piece map: every piece a cell if it can, a quarter at most */
	want = 1 + (int)((np + (size_t)COLS - 1) / (size_t)(COLS > 0 ? COLS : 1));
	if (want > LINES / 4)
		want = LINES / 4;
	while (rem > 0 && *pcs > 0 && *pcs < want) {
		(*pcs)++;
		rem--;
	}
	/* the peers, then the log, then the peers again */
	want = 1 + (int)(t->npeers > 2 ? t->npeers : 2);
	while (rem > 0 && *peers > 0 && *peers < want) {
		(*peers)++;
		rem--;
	}
	want = 1 + (int)(t->nstrip > 1 ? t->nstrip : 1);
	while (rem > 0 && *logr > 0 && *logr < want) {
		(*logr)++;
		rem--;
	}
	if (*peers > 0)
		*peers += rem;
	else
		*tor += rem;
}

static void
tui_draw(struct tui *t)
{
	const struct tui_torrent	*tt;
	uint64_t			 now = reactor_now_ms(t->r);
	int				 tor, peers, pcs, trk, logr, y = 1;

	if (t->ended)
		return;
	t->last_draw = now;
	tui_collect(t);
	tt = t->ntv > 0 ? &t->tv[t->sel] : NULL;
	t->npeers = t->ntrk = 0;
	if (tt != NULL && tt->t != NULL && !tt->ended) {
		if (t->peers == NULL)
			t->peers = xreallocarray(NULL, TUI_MAX_PEERS,
			    sizeof(*t->peers));
		t->npeers = torrent_peer_infos(tt->t, t->peers,
		    TUI_MAX_PEERS, now);
		if (t->npeers > TUI_MAX_PEERS)
			t->npeers = TUI_MAX_PEERS;
	}
	if (tt != NULL && tt->t != NULL) {
		if (t->trk == NULL)
			t->trk = xreallocarray(NULL, TUI_MAX_TRACKERS,
			    sizeof(*t->trk));
		t->ntrk = torrent_tracker_infos(tt->t, t->trk,
		    TUI_MAX_TRACKERS);
		if (t->ntrk > TUI_MAX_TRACKERS)
			t->ntrk = TUI_MAX_TRACKERS;
	}
	tui_rates(t, now);
	log_locked(tui_strip_copy, t);
	erase();
	if (LINES < 1 || COLS < 1) {
		refresh();
		return;
	}
	tui_layout(t, &tor, &peers, &pcs, &trk, &logr);
	tui_header(t);
	tui_draw_torrents(t, y, tor);
	y += tor;
	tui_draw_peers(t, y, peers);
	y += peers;
	tui_draw_pieces(t, y, pcs);
	y += pcs;
	tui_draw_trackers(t, y, trk);
	y += trk;
	tui_draw_log(t, y, logr);
	tui_footer(t);
	if (t->help)
		tui_draw_help(t);
	refresh();
}

void
tui_redraw(struct tui *t)
{
	tui_draw(t);
}

/* Now if the last redraw is old enough, else at the next slot. */
static void
tui_draw_soon(struct tui *t)
{
	uint64_t	now = reactor_now_ms(t->r);

	if (now - t->last_draw >= TUI_DRAW_MS) {
		tui_draw(t);
		reactor_timer_in(t->timer, TUI_DRAW_MS);
	} else
		reactor_timer_at(t->timer, t->last_draw + TUI_DRAW_MS);
}

static void
tui_timer_cb(void *arg)
{
	struct tui	*t = arg;

	tui_draw(t);
	reactor_timer_in(t->timer, TUI_DRAW_MS);
}

/* ---- keys and signals ------------------------------------------------ */

static void
tui_move(struct tui *t, int delta)
{
	size_t	*sel, n;

	switch (t->focus) {
	case TUI_PEERS:
		sel = &t->peer_sel;
		n = t->npeers;
		break;
	case TUI_TRACKERS:
		sel = &t->trk_sel;
		n = t->ntrk;
		break;
	default:
		sel = &t->sel;
		n = t->ntv;
		break;
	}
	if (delta < 0 && *sel > 0)
		(*sel)--;
	else if (delta > 0 && *sel + 1 < n)
		(*sel)++;
	if (t->focus == TUI_TORRENTS)
		t->peer_sel = t->peer_top = t->trk_sel = t->trk_top = 0;
}

static void
tui_key(struct tui *t, int ch)
{
	struct tui_torrent	*tt;

	if (t->help && ch != 'q' && ch != 'Q' && ch != KEY_RESIZE) {
		t->help = false;
		return;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		t->h.quit(t->h.arg);
		break;
	case '?':
	case 'h':
		t->help = true;
		break;
	case 'p':
	case 'P':
	case ' ':
		if (t->sel < t->ntv) {
			tt = &t->tv[t->sel];
			if (tt->t != NULL && !tt->ended && !tt->stopping)
				torrent_pause(tt->t, !torrent_paused(tt->t));
		}
		break;
	case '\t':
		t->focus = (t->focus + 1) % TUI_NPANES;
		break;
	case KEY_BTAB:
		t->focus = (t->focus + TUI_NPANES - 1) % TUI_NPANES;
		break;
	case KEY_UP:
	case 'k':
		tui_move(t, -1);
		break;
	case KEY_DOWN:
	case 'j':
		tui_move(t, 1);
		break;
	case KEY_LEFT:
		if (t->sel > 0)
			t->sel--;
		t->peer_sel = t->peer_top = t->trk_sel = t->trk_top = 0;
		break;
	case KEY_RIGHT:
		if (t->sel + 1 < t->ntv)
			t->sel++;
		t->peer_sel = t->peer_top = t->trk_sel = t->trk_top = 0;
		break;
	case 'L' - '@':		/* Ctrl-L */
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
}

static void
tui_keys_cb(void *arg)
{
	struct tui	*t = arg;
	int		 ch, avail = 0, got = 0;

	/* Readable with nothing to read: the terminal is gone. */
	if (ioctl(fileno(t->in), FIONREAD, &avail) == 0 && avail == 0) {
		reactor_fd_free(t->keys);
		t->keys = NULL;
		return;
	}
	while (!t->ended && (ch = getch()) != ERR) {
		got++;
		tui_key(t, ch);
	}
	if (got > 0 && !t->ended)
		tui_draw_soon(t);
}

static void
tui_on_winch(void *arg, int signo)
{
	struct tui	*t = arg;
	struct winsize	 ws;

	(void)signo;
	if (tui_live != t || t->ended)
		return;			/* a view already gone */
	if (ioctl(t->ttyfd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	tui_draw_soon(t);
}

/* ---- taking and giving back the terminal ----------------------------- */

/* All of fd from its start to out (signal-safe). */
static void
tui_replay(int fd, int out)
{
	char	buf[4096];
	off_t	off = 0;
	ssize_t	n, w, k;

	if (fd < 0)
		return;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		for (k = 0; k < n; k += w)
			if ((w = write(out, buf + k, (size_t)(n - k))) <= 0) {
				if (w == -1 && errno == EINTR) {
					w = 0;
					continue;
				}
				return;
			}
	}
}

/* The warnings and errors that came while the view was up (stderr). */
static void
tui_print_kept(struct tui *t)
{
	char	note[96];
	size_t	i;
	int	n;

	if (t->log.kdropped > 0) {
		n = snprintf(note, sizeof(note), "gtorrent: (%" PRIu64
		    " earlier warnings not kept)\n", t->log.kdropped);
		if (n > 0)
			(void)write_all(STDERR_FILENO, note, (size_t)n);
	}
	for (i = 0; i < t->log.kn; i++) {
		const char *s = tui_log_kept(&t->log, i);

		(void)write_all(STDERR_FILENO, s, strlen(s));
		(void)write_all(STDERR_FILENO, "\n", 1);
	}
	t->log.kn = 0;
	t->log.kdropped = 0;
}

/* stdout and stderr back, and what came meanwhile on them. */
static void
tui_fds_back(struct tui *t)
{
	if (t->saved_out >= 0) {
		dup2(t->saved_out, STDOUT_FILENO);
		close(t->saved_out);
		t->saved_out = -1;
	}
	if (t->saved_err >= 0) {
		dup2(t->saved_err, STDERR_FILENO);
		close(t->saved_err);
		t->saved_err = -1;
	}
	tui_replay(t->cap_out, STDOUT_FILENO);
	tui_replay(t->cap_err, STDERR_FILENO);
	if (t->cap_out >= 0)
		close(t->cap_out);
	if (t->cap_err >= 0)
		close(t->cap_err);
	t->cap_out = t->cap_err = -1;
}

/* The terminal as it was (from the loop, or at exit). */
static void
tui_restore(struct tui *t)
{
	if (t->ended)
		return;
	t->ended = true;
	if (tui_live == t)
		tui_live = NULL;
	log_set_sink(NULL, NULL);
	endwin();
	fflush(t->out);
	fflush(stdout);
	fflush(stderr);
	tui_fds_back(t);
	tui_print_kept(t);
}

/*
 * A crash, or a sanitizer's report: as much of tui_restore as is safe
 * in a signal handler (no curses, no stdio).
 */
static void
tui_emergency(void)
{
	struct tui	*t = tui_live;

	if (t == NULL)
		return;
	tui_live = NULL;
	t->ended = true;
	(void)write_all(t->ttyfd, t->esc, t->nesc);
	if (t->has_tio)
		tcsetattr(t->ttyfd, TCSANOW, &t->tio);
	tui_fds_back(t);
	tui_print_kept(t);
}

static void
tui_crash(int signo)
{
	size_t	i;

	tui_emergency();
	for (i = 0; i < nitems(tui_crash_signals); i++)
		if (tui_crash_signals[i] == signo)
			sigaction(signo, &tui_old_sa[i], NULL);
	raise(signo);
}

static void
tui_atexit(void)
{
	if (tui_live != NULL)
		tui_restore(tui_live);
}

static void
tui_add_esc(struct tui *t, const char *cap)
{
	char	*s = tigetstr(cap);
	size_t	 n;

	if (s == NULL || s == (char *)-1)
		return;
	n = strlen(s);
	if (t->nesc + n < sizeof(t->esc)) {
		memcpy(t->esc + t->nesc, s, n);
		t->nesc += n;
	}
}

static void
tui_handlers_once(void)
{
	struct sigaction	sa;
	size_t			i;

	if (tui_handlers)
		return;
	tui_handlers = true;
	atexit(tui_atexit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tui_crash;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nitems(tui_crash_signals); i++) {
		if (sigaction(tui_crash_signals[i], NULL, &tui_old_sa[i]) !=
		    0)
			continue;
		/* handled (the loop's SIGINT...) or ignored: left so */
		if (!(tui_old_sa[i].sa_flags & SA_SIGINFO) &&
		    tui_old_sa[i].sa_handler == SIG_DFL)
			sigaction(tui_crash_signals[i], &sa, NULL);
	}
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(tui_emergency);
}

/* fd 1 or 2 into a file meanwhile: *saved is the old one. */
static int
tui_capture(int fd, int *saved, int *cap)
{
	FILE	*f;

	if ((f = tmpfile()) == NULL)
		return -1;
	*cap = dup(fileno(f));
	fclose(f);
	if (*cap == -1)
		return -1;
	if ((*saved = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    dup2(*cap, fd) == -1)
		return -1;
	return 0;
}

static void
tui_colors(struct tui *t)
{
	const char	*nc = getenv("NO_COLOR");

	t->color = (nc == NULL || *nc == '\0') && has_colors();
	if (!t->color)
		return;
	start_color();
	use_default_colors();
	init_pair(TUI_C_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(TUI_C_HAVE, COLOR_GREEN, -1);
	init_pair(TUI_C_PARTIAL, COLOR_YELLOW, -1);
	init_pair(TUI_C_NONEHAS, COLOR_RED, -1);
	init_pair(TUI_C_MISSING, COLOR_BLUE, -1);
	init_pair(TUI_C_ERROR, COLOR_RED, -1);
	init_pair(TUI_C_WARN, COLOR_YELLOW, -1);
	init_pair(TUI_C_FOCUS, COLOR_BLACK, COLOR_GREEN);
}

bool
tui_can(void)
{
	pid_t	fg;

	return isatty(STDOUT_FILENO) && (fg = tcgetpgrp(STDOUT_FILENO)) != -1 &&
	    fg == getpgrp();
}

enum gt_err
tui_new(struct tui **out, struct reactor *r, struct session *s,
    const struct tui_hooks *h, char *err)
{
	struct tui	*t;
	int		 fd, infd;

	if (tui_live != NULL)
		return gt_fail(err, GT_EEXIST, "the view is up already");
	if (!isatty(STDOUT_FILENO))
		return gt_fail(err, GT_EINVAL, "stdout is not a terminal");
	t = xcalloc(1, sizeof(*t));
	t->r = r;
	t->s = s;
	t->h = *h;
	t->saved_out = t->saved_err = t->cap_out = t->cap_err = -1;
	setlocale(LC_CTYPE, "");
	fflush(stdout);
	fflush(stderr);
	if ((fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (t->out = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		free(t);
		return gt_fail(err, GT_EIO, "stdout: %s", strerror(errno));
	}
	t->ttyfd = fd;
	if (isatty(STDIN_FILENO))
		infd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		infd = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (infd == -1 || (t->in = fdopen(infd, "r")) == NULL) {
		if (infd != -1)
			close(infd);
		infd = fcntl(fd, F_DUPFD_CLOEXEC, 3);	/* no keys then */
		t->in = fdopen(infd, "r");
	}
	t->has_tio = tcgetattr(fd, &t->tio) == 0;
	/* Ours before curses looks: it takes SIGWINCH only if unhandled. */
	reactor_on_signal(r, SIGWINCH, tui_on_winch, t);
	if (t->in == NULL || (t->scr = newterm(NULL, t->out, t->in)) ==
	    NULL) {
		gt_fail(err, GT_EINVAL, "cannot use the terminal (TERM=%s)",
		    getenv("TERM") != NULL ? getenv("TERM") : "");
		if (t->in != NULL)
			fclose(t->in);
		fclose(t->out);
		free(t);
		return GT_EINVAL;
	}
	set_term(t->scr);
	if (tigetstr("cup") == NULL || tigetstr("cup") == (char *)-1) {
		gt_fail(err, GT_EINVAL, "the terminal cannot move its cursor "
		    "(TERM=%s)", getenv("TERM") != NULL ? getenv("TERM") : "");
		endwin();
		delscreen(t->scr);
		fclose(t->in);
		fclose(t->out);
		free(t);
		return GT_EINVAL;
	}
	tui_add_esc(t, "sgr0");
	tui_add_esc(t, "cnorm");
	tui_add_esc(t, "rmkx");
	tui_add_esc(t, "rmcup");
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	leaveok(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	tui_colors(t);
	if (tui_capture(STDOUT_FILENO, &t->saved_out, &t->cap_out) != 0 ||
	    tui_capture(STDERR_FILENO, &t->saved_err, &t->cap_err) != 0) {
		gt_fail(err, GT_EIO, "cannot keep the output aside: %s",
		    strerror(errno));
		tui_live = t;
		tui_restore(t);
		tui_free(t);
		return GT_EIO;
	}
	tui_live = t;
	tui_handlers_once();
	log_set_sink(tui_log_sink, &t->log);
	t->timer = reactor_timer_new(r, tui_timer_cb, t);
	t->keys = reactor_fd_new(r, fileno(t->in), tui_keys_cb, t);
	tui_draw(t);
	reactor_timer_in(t->timer, TUI_DRAW_MS);
	*out = t;
	return GT_OK;
}

void
tui_free(struct tui *t)
{
	if (t == NULL)
		return;
	tui_restore(t);
	reactor_timer_free(t->timer);
	reactor_fd_free(t->keys);
	if (t->scr != NULL)
		delscreen(t->scr);
	if (t->in != NULL)
		fclose(t->in);
	if (t->out != NULL)
		fclose(t->out);
	free(t->tv);
	free(t->rates);
	free(t->peers);
	free(t->others);
	free(t->trk);
	free(t->pstate);
	free(t->pavail);
	free(t);
}
