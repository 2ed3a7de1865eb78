/* cmd-download-int.h - what cmd-download.c shares with cmd-download-*.c */
#ifndef GT_CMD_DOWNLOAD_INT_H
#define GT_CMD_DOWNLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "magnet.h"
#include "metainfo.h"
#include "seedlimit.h"
#include "torrent.h"
#include "ui-json.h"

#define DL_LABEL		64	/* "magnet:?xt=urn:btih:" + 40 hex */
#define DL_JSON_STATS_MS	1000	/* --json: "stats" this often */

/* A running --on-done command. */
struct dl_child {
	pid_t		 pid;
	char		*name;		/* the torrent's, for messages */
};

/* Files by index, 0-based (a LIST option's, or a magnet's so=). */
struct dl_ranges {
	struct torrent_range	*v;
	size_t			 n;
};

struct dl;

/* A torrent to run, as given: a path, or a magnet (-m, "magnet:..."). */
struct dl_src {
	char		*arg;		/* malloc'd */
	bool		 magnet;
};

/* One torrent of the command line. */
struct dl_item {
	struct dl		*d;
	const char		*src;		/* as given (d->srcs') */
	char			 label[DL_LABEL];	/* magnets: xt */
	struct torrent		*t;		/* NULL: not in the session */
	struct metainfo		 m;		/* a .torrent's */
	struct magnet		 mg;		/* a magnet's */
	bool			 is_magnet;
	bool			 loaded;	/* m or mg parsed */
	const struct dl_item	*dup;		/* same info-hash as this one */
	char			**trackers;	/* a magnet's tr=, --tracker's */
	size_t			 ntrackers;
	struct dl_ranges	 so;		/* a magnet's so=, used when no
					   --select-file is given */
	bool			 running;	/* started, not ended yet */
	bool			 stop_asked;	/* leave, from the loop */
	bool			 leaving;	/* torrent_leave called */
	bool			 ended;		/* exit code set */
	bool			 interrupted;	/* stopped by a signal */
	bool			 fatal;
	bool			 md_written;	/* --metadata-only: written */
	bool			 done_shown;	/* "done:" line printed */
	bool			 seed_over;	/* a seeding limit ended it */
	char			 seed_why[SEEDLIMIT_WHYLEN];
	int			 rc;		/* why it failed, if known */
	int			 exit;		/* its exit code, once ended */
	struct torrent_stats	 final;		/* t's last, once taken out */
	bool			 has_final;
	uint64_t		 check_done;	/* its data check: bytes hashed */
	uint64_t		 check_total;	/* ... of these */
	/* --json */
	uint64_t		 js_ms;		/* the last "stats" */
	uint64_t		 js_down, js_up;	/* ... its totals */
	char			*js_file;	/* the .torrent written */
	bool			 js_added;	/* "added" written */
	bool			 js_complete;	/* ... "complete" */
};

struct dl {
	const char		*cmd;		/* for messages */
	struct reactor		*r;
	struct session		*s;
	struct ui		*ui;
	struct reactor_timer	*ui_timer;
	struct reactor_timer	*stop_timer;	/* deferred leaves */
	struct reactor_timer	*check_timer;	/* dl_check_refused */
	struct dl_item		*items;
	size_t			 nitems;
	size_t			 nrunning;	/* started and not ended */
	char *const		*trackers;	/* --tracker URLs */
	size_t			 ntrackers;
	bool			 metadata_only;	/* --metadata-only */
	const char		*dir;
	bool			 seed;		/* keep seeding when done */
	bool			 upload_only;	/* `gtorrent seed` */
	bool			 verbose;	/* -v: tracker figures too */
	/* File selection, for every torrent (torrent_opts borrows them) */
	struct dl_ranges	 select;	/* --select-file */
	struct dl_ranges	 high;		/* --priority-high */
	struct dl_ranges	 low;		/* --priority-low */
	bool			 interrupted;	/* a signal came */
	bool			 loop_failed;	/* reactor_run said so */
	int			 tui;		/* 1 --tui, -1 --no-tui, 0 auto */
	bool			 tui_on;	/* the full-screen view wanted */
	struct tui		*tui_view;	/* ... and up */
	const struct dl_item	*checking;	/* its data checked now */
	uint64_t		 check_drawn;	/* ... its progress shown at */
	bool			 quiet;		/* -q */
	const struct netaddr	*bind;		/* --bind, for URLs */
	const char		*on_done;	/* --on-done CMD */
	struct dl_child		*kids;		/* its commands running */
	size_t			 nkids;
	bool			 sigchld;	/* SIGCHLD hooked */
	uint64_t		 start_ms;
	bool			 json;		/* --json: NDJSON */
	struct ui_json		 js;
	struct reactor_timer	*json_timer;	/* "stats" lines */
};

static inline const uint8_t *
item_info_hash(const struct dl_item *it)
{
	return it->is_magnet ? it->mg.info_hash : it->m.info_hash;
}

/* The help (cmd-download-help.c): seed lists only what applies to it. */
void	dl_usage(FILE *, bool seed);

/* What the command is given (cmd-download-args.c) */
/* Can the data folder (or the nearest one above it) take data?  EXIT_*. */
int	dl_check_dir(const char *dir);
/* A LIST option (1-based "1,3-5") appended to r, 0-based; EXIT_*. */
int	dl_parse_files(const char *cmd, const char *opt, const char *arg,
	    struct dl_ranges *r);
/* The highest file index of r, -1 when empty. */
int64_t	dl_ranges_max(const struct dl_ranges *);
/* Exit codes ranked, worst highest: 0, 1, 130, 3, 4. */
int	dl_rank(int rc);
/* --show-files for each source; the exit code. */
int	dl_show_files(const char *cmd, const struct dl_src *, size_t n);
/* -i FILE (- : stdin): one source a line, appended; EXIT_*. */
int	dl_read_input(const char *cmd, const char *path, struct dl_src **v,
	    size_t *n);
int	dl_add_src(const char *cmd, const char *arg, bool magnet,
	    struct dl_src **v, size_t *n);

/* --on-done (cmd-download-ondone.c) */
/* Starts it for it, which completed in this run; not waited for. */
void	dl_on_done_run(struct dl_item *);
/* At the end: waits a while for those still running. */
void	dl_on_done_wait(struct dl *);

/* --json (cmd-download-json.c); each does nothing without --json */
void	dl_json_start(struct dl *, int port);
void	dl_json_error(struct dl *, struct dl_item *, int exit,
	    const char *msg);
void	dl_json_added(struct dl_item *);
void	dl_json_metadata(struct dl_item *, const struct metainfo *);
void	dl_json_complete(struct dl_item *);
void	dl_json_end(struct dl_item *, const struct torrent_stats *, int rc);
/* "stats" lines, a reactor timer's callback (arg: the struct dl) */
void	dl_json_tick(void *arg);
/* torrent_events.event (arg: the dl_item) */
void	dl_on_event(void *arg, const struct torrent_event *);

#endif /* GT_CMD_DOWNLOAD_INT_H */
