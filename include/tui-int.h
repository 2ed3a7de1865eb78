/* tui-int.h - the full-screen view's parts that need no terminal */
#ifndef GT_TUI_INT_H
#define GT_TUI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "torrent.h"
#include "tui.h"
#include "ui.h"

/*
 * What tui.c draws is computed here (tui-fmt.c), from figures and text
 * alone: no curses, no reactor, no clock (now is an argument), so that
 * tests/unit/test-tui.c checks it without a terminal.
 */

#define TUI_NAME_MAX	1024	/* a cell's text, bytes at most */
#define TUI_LINE_COLS	1024	/* a row, columns at most */

enum tui_color {
	TUI_C_NONE,
	TUI_C_TITLE,
	TUI_C_HAVE,
	TUI_C_PARTIAL,
	TUI_C_NONEHAS,
	TUI_C_MISSING,
	TUI_C_ERROR,
	TUI_C_WARN,
	TUI_C_FOCUS,
};

/* One column of a pane. */
struct tui_col {
	const char	*head;
	int		 w;		/* columns; 0: what is left */
	int		 min;		/* ... at least, for w 0 */
	int		 drop;		/* dropped first when narrow: highest
					   first; 0: never */
	bool		 right;		/* right-aligned */
};

/* The panes' columns. */
#define TUI_TCOLS	9
#define TUI_PCOLS	7
#define TUI_KCOLS	6
extern const struct tui_col	tui_tcols[TUI_TCOLS];	/* torrents */
extern const struct tui_col	tui_pcols[TUI_PCOLS];	/* peers */
extern const struct tui_col	tui_kcols[TUI_KCOLS];	/* trackers */

/* ---- figures as text ---- */

/* v bytes (or bytes/s) in human units: "512 B", "1.5 MiB". */
void		 tui_size(char *out, size_t n, double v);
/* "M:SS", "H:MM:SS", "DdHHh"; "-" when negative, NaN or past 100 days. */
void		 tui_eta(char *out, size_t n, double secs);
/* s (from anywhere: names, log lines) made safe to draw, into out. */
void		 tui_safe(char *out, size_t n, const char *s);

/* A torrent's row, as text: the cells of tui_tcols. */
struct tui_trow {
	char		 name[TUI_NAME_MAX];
	const char	*state;
	char		 done[16], down[24], up[24], peers[16];
	char		 seeds[24], ratio[32], eta[24];
	const char	*cell[TUI_TCOLS];	/* into the above */
};
/*
 * tt's row: name (raw, escaped here), its rates (bytes/s) as the view
 * shows them, its ETA in seconds (tui_rate_eta's; < 0: "-").
 */
void		 tui_torrent_row(const struct tui_torrent *tt,
		    const char *name, double down, double up, double eta,
		    struct tui_trow *row);
bool		 tui_is_paused(const struct tui_torrent *);
/* "downloading", "seeding", "metadata", "paused", "stopping", "done"... */
const char	*tui_state(const struct tui_torrent *);
/* A peer's flags, uTorrent's letters ("D", "dU", "K?OSI", "-"). */
void		 tui_flags(const struct torrent_peer_info *, char *out,
		    size_t n);
/* "trk", "dht", "pex", "in", "given", "?". */
const char	*tui_source(enum torrent_peer_source);

/* ---- fitting to the width ---- */

/*
 * Which columns fit in width: w[i] their widths, 0 dropped (the highest
 * drop first, until the rest fits; what still does not is clipped).
 */
void		 tui_cols_fit(const struct tui_col *, size_t n, int width,
		    int *w);
/*
 * s (UTF-8) cut to w columns at most, as wide characters into out (max
 * of them, a NUL after): a byte that is not UTF-8, a control or a hidden
 * character (utf8_hidden: bidi overrides...) as '?'.  Returns how many;
 * *cols: the columns they take.
 */
size_t		 tui_clip(const char *s, int w, wchar_t *out, size_t max,
		    int *cols);
/*
 * A row: the cells of the columns w kept, one space apart, each cut and
 * padded to its width (right-aligned if asked), the whole exactly width
 * columns (cut there).  Into out (max wide characters, NUL after);
 * returns how many.
 */
size_t		 tui_line(const struct tui_col *, const int *w, size_t n,
		    const char *const *cell, int width, wchar_t *out,
		    size_t max);
/* Columns of out[0..n). */
int		 tui_wcols(const wchar_t *out, size_t n);

/* ---- the piece map ---- */

/* Cells for n pieces in room of them: n, or room (scaled) if fewer. */
size_t		 tui_map_cells(size_t n, size_t room);
/* Cell i of cells for n pieces: pieces [*a, *b). */
void		 tui_map_range(size_t i, size_t cells, size_t n, size_t *a,
		    size_t *b);
/*
 * The character and colour of a cell showing pieces [a, b): '+' one is
 * downloading, '#' all had, 'o' some had and some missing, ' ' none
 * wanted, else the missing ones' least availability: '_' 0, '.' 1,
 * ':' 2-4, '=' 5 or more.
 */
char		 tui_map_cell(const uint8_t *state, const uint16_t *avail,
		    size_t a, size_t b, enum tui_color *col);

/* ---- rates ---- */

/* A torrent's rates, as its row shows them. */
struct tui_rate {
	const struct torrent	*t;	/* whose */
	uint64_t		 ms;	/* when */
	double			 down_bps, up_bps;
	struct ui_eta		 eta;	/* the ETA, steadied (ui.h) */
	double			 eta_s;	/* ... seconds, or -1: none */
};
/*
 * tt's rates at now: the sum of its live peers' (peers[0..npeers), as
 * torrent_peer_infos gives them at now: the figures of the peers pane,
 * each over its last few seconds); 0 when paused, over, or gone.
 */
void		 tui_rate_update(struct tui_rate *, const struct tui_torrent *tt,
		    const struct torrent_peer_info *peers, size_t npeers,
		    uint64_t now);
double		 tui_rate_down(const struct tui_rate *);
/* Seconds to go at tt's rate, as the status line's ETA moves; -1: none. */
double		 tui_rate_eta(const struct tui_rate *);
double		 tui_rate_up(const struct tui_rate *);

/* ---- the log ---- */

struct tui_logline {
	char		text[TUI_LINE_MAX];
	bool		important;	/* a warning or an error */
};

/* The log lines kept while the view is up (tui_log_sink's). */
struct tui_log {
	struct tui_logline	 ring[TUI_LOG_LINES];	/* the last lines */
	size_t			 lhead, ln;
	char			 keep[TUI_LOG_KEEP][TUI_LINE_MAX];	/* the
					   last warnings and errors */
	size_t			 khead, kn;
	uint64_t		 kdropped;	/* important ones pushed out */
};

/* Is this log line a warning or an error (not info, debug, trace)? */
bool		 tui_important(const char *line);
/*
 * A log_set_sink for a struct tui_log (arg): keeps line (len bytes, one
 * newline at the end dropped, cut at TUI_LINE_MAX - 1 bytes).  From any
 * thread, under the log's lock.
 */
void		 tui_log_sink(void *arg, const char *line, size_t len);
/* The last lines, oldest first, up to max into out; returns how many. */
size_t		 tui_log_last(const struct tui_log *, struct tui_logline *out,
		    size_t max);
/* Kept warning and error i (0: the oldest of tui_log.kn). */
const char	*tui_log_kept(const struct tui_log *, size_t i);

#endif /* GT_TUI_INT_H */
