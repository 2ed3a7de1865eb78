/* tui.h - the full-screen view (ncurses): torrents, peers, pieces, trackers */
#ifndef GT_TUI_H
#define GT_TUI_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "torrent.h"

#define TUI_DRAW_MS	250	/* at most 4 redraws a second */
#define TUI_LOG_LINES	64	/* log lines kept for the strip */
#define TUI_LOG_KEEP	32	/* warnings and errors kept for the end */
#define TUI_LINE_MAX	512	/* a log line kept, bytes at most */
#define TUI_MAX_PEERS	1000	/* peers listed for the selected torrent */
#define TUI_MAX_TRACKERS 64	/* trackers listed */
#define TUI_MAX_PIECES	(1u << 20)	/* piece map: pieces read */

struct reactor;
struct session;
struct tui;

/* One torrent as the command sees it. */
struct tui_torrent {
	struct torrent		*t;	/* NULL: not in the session */
	const char		*name;	/* when t is NULL (raw: escaped here) */
	struct torrent_stats	 st;	/* when t is NULL */
	bool			 stopping;	/* leaving the swarm */
	bool			 ended;	/* over */
	bool			 checking;	/* t NULL: its data is being
						   checked (or its record
						   read) now */
	bool			 queued;	/* t NULL: checked after those
						   before it */
	uint64_t		 check_done;	/* checking: bytes hashed */
	uint64_t		 check_total;	/* ... of these */
};

struct tui_hooks {
	/* The torrents, in order: fills out[0..max), returns how many. */
	size_t		(*torrents)(void *arg, struct tui_torrent *out,
			    size_t max);
	/* `q`: stop as Ctrl-C does (a second time: at once). */
	void		(*quit)(void *arg);
	void		*arg;
};

/* Is stdout a terminal, with this process in its foreground? */
bool		 tui_can(void);
/*
 * Takes the terminal on stdout (the view needs it to be one: GT_EINVAL,
 * or a TERM curses does not know).  Until tui_free, what is printed on
 * stdout and stderr is kept aside and printed after the view is gone, and
 * log lines go to the view's log strip; the last warnings and errors are
 * printed again then.  The terminal is restored at exit and on a crash
 * too.  err (GT_ERRLEN bytes) says why it failed.
 */
enum gt_err	 tui_new(struct tui **, struct reactor *, struct session *,
		    const struct tui_hooks *, char *err);
/*
 * Draws now: between the data checks, which hold the loop (each torrent
 * shows "checking" while its data is read, "queued" before).
 */
void		 tui_redraw(struct tui *);
/* Gives the terminal back, then prints what was kept. */
void		 tui_free(struct tui *);

#endif /* GT_TUI_H */
