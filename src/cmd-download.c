/* cmd-download.c - `gtorrent [download] FILE.torrent` and `gtorrent seed` */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bencode.h"
#include "buf.h"
#include "cmd.h"
#include "cmd-download-int.h"
#include "dht.h"
#include "log.h"
#include "magnet.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "tracker-client.h"
#include "tui.h"
#include "ui.h"
#include "ui-json.h"

#define DL_MAX_PEER_ARGS	256	/* --peer given at most */
#define DL_MAX_TRACKER_ARGS	64	/* --tracker given at most */
#define DL_STOP_MS		2000	/* tracker goodbye, at most */
#define DL_MAX_PEERS		10000	/* --max-peers, at most */
#define DL_MAX_SLOTS		1000	/* --upload-slots, at most */
#define DL_MIN_RATE		1024	/* a rate limit, at least (bytes/s) */
#define DL_MAX_RATE		(100ull << 30)	/* ... and at most */
#define DL_MAX_SOURCES		SESSION_MAX_TORRENTS	/* torrents, at most */
#define DL_MAX_LINE		65536	/* -i: a line, at most (bytes) */
#define DL_MAX_RANGES		1024	/* file ranges of one list option */
#define DL_MAX_EXCLUDE		64	/* --exclude given at most */
#define DL_REFUSALS		2	/* the only tracker's "failure reason"s
					   in a row, with no other peer source,
					   that end a download (the second comes
					   15 s after the first: the backoff) */
#define DL_CHECK_MS		1000	/* ... looked for this often */
#define DL_ON_DONE_WAIT_MS	10000	/* --on-done commands, waited for */
#define DL_ON_DONE_MAX		4096	/* --on-done: a command's bytes */
static void
download_usage(FILE *f, bool seed)
{
	if (seed)
		fprintf(f,
		    "usage: gtorrent seed [OPTIONS] FILE.torrent... -o DIR\n"
		    "\n"
		    "Verifies the data of each FILE.torrent under DIR and\n"
		    "seeds the complete pieces until Ctrl-C (or a seeding\n"
		    "limit), all in one session.  Data downloaded with\n"
		    "--select-file or --exclude is seeded whole with the\n"
		    "same options (what it shares with the files left out\n"
		    "is in the part file).  The options below are those\n"
		    "that apply to seeding (download's others are refused\n"
		    "or do nothing).\n");
	else
		fprintf(f,
		    "usage: gtorrent [download] [OPTIONS] SOURCE...\n"
		    "       gtorrent [download] [OPTIONS] -m 'magnet:?xt=...'\n"
		    "       gtorrent [download] [OPTIONS] -i FILE\n"
		    "\n"
		    "Downloads each SOURCE, a FILE.torrent, an http(s):// URL\n"
		    "of one (fetched first: 30 s, 5 redirects, 64 MiB at most)\n"
		    "or a magnet link (whose metadata comes from peers first),\n"
		    "into DIR from its trackers, the DHT and the peers given,\n"
		    "all in one session; checks every piece, and exits when\n"
		    "all are done (or keeps seeding with --seed).  Data\n"
		    "already in DIR is verified (or taken from the resume\n"
		    "record) and kept.\n");
	/* seed: only what applies to seeding (download-only: if (!seed)) */
	fprintf(f,
	    "\n"
	    "  -o, --output DIR      data folder (default: .; created); each\n"
	    "                        torrent's NAME goes inside it\n");
	if (!seed)
		fprintf(f,
	    "  -m, --magnet URI      download a magnet link (BEP 9): its\n"
	    "                        xt=urn:btih, tr= trackers (http, https,\n"
	    "                        udp) and x.pe= peers are used; dn is\n"
	    "                        only shown, the folder name comes from\n"
	    "                        the verified metadata (repeatable)\n");
	fprintf(f,
	    "  -i, --input-file FILE the sources, one a line (- : stdin);\n"
	    "                        blank lines and lines starting with #\n"
	    "                        are skipped\n");
	if (!seed)
		fprintf(f,
	    "      --metadata-only   with magnets: fetch only the metadata\n"
	    "                        and write DIR/NAME.torrent (its path\n"
	    "                        on stdout)\n");
	fprintf(f,
	    "      --recheck         ignore the resume record and verify the\n"
	    "                        data on disk\n");
	if (!seed)
		fprintf(f,
	    "      --preallocate     reserve each file's whole size at the\n"
	    "                        start (a shortfall fails before any peer\n"
	    "                        is contacted; sparse files otherwise)\n");
	fprintf(f,
	    "      --no-pex          no peer exchange (BEP 11; never for\n"
	    "                        private torrents)\n"
	    "  -d, --dht             find peers and announce on the DHT\n"
	    "                        (BEP 5; default, never for private\n"
	    "                        torrents)\n"
	    "      --no-dht          do not use the DHT\n"
	    "      --dht-port N      the DHT's UDP port (default: the\n"
	    "                        listen port)\n"
	    "      --dht-bootstrap HOST:PORT\n"
	    "                        join the DHT through this node (a name,\n"
	    "                        IPv4 or [IPv6]; repeatable; default:\n"
	    "                        the saved table, else the well-known\n"
	    "                        public routers)\n"
	    "  -p, --port N          listen port: N or an error when it is\n"
	    "                        taken; 0: any free one, said on stderr\n"
	    "                        (default: %u, else the next free one,\n"
	    "                        said on stderr)\n"
	    "      --bind ADDR       listen, dial peers and talk to trackers\n"
	    "                        and the DHT from ADDR only (a numeric\n"
	    "                        IPv4 or IPv6 address, or an interface\n"
	    "                        name such as eth0: its first address);\n"
	    "                        peers of the other family are skipped\n"
	    "                        (also --interface)\n"
	    "      --peer HOST:PORT  connect to this peer (numeric IPv4 or\n"
	    "                        [IPv6]; repeatable; for every torrent)\n"
	    "      --tracker URL     also announce to URL (http, https or\n"
	    "                        udp://HOST:PORT; repeatable; a last "
	    "tier)\n"
	    "      --no-tracker      do not contact trackers\n"
	    "      --max-peers N     connections at most (default: %u), all\n"
	    "                        torrents together, shared fairly\n",
	    SESSION_DEFAULT_PORT, SESSION_DEFAULT_PEERS);
	if (!seed)
		fprintf(f,
	    "      --seed            keep seeding when complete, until "
	    "Ctrl-C\n"
	    "                        or a limit below\n");
	if (seed)
		fprintf(f,
	    "      --seed-ratio R    seed until uploaded = R x the torrent's\n"
	    "                        size\n"
	    "      --seed-time MIN   seed for MIN minutes (e.g. 30, 0.5)\n"
	    "      --seed-idle MIN   stop seeding after MIN minutes without\n"
	    "                        uploading; the first limit reached\n"
	    "                        ends, with exit 0; each torrent stops\n"
	    "                        at its own\n");
	else
		fprintf(f,
	    "      --seed-ratio R    seed until uploaded = R x the torrent's\n"
	    "                        size (implies --seed)\n"
	    "      --seed-time MIN   seed for MIN minutes (e.g. 30, 0.5;\n"
	    "                        implies --seed)\n"
	    "      --seed-idle MIN   stop seeding after MIN minutes without\n"
	    "                        uploading (implies --seed); the first\n"
	    "                        limit reached ends, with exit 0; each\n"
	    "                        torrent stops at its own\n");
	fprintf(f,
	    "      --max-download-rate RATE\n"
	    "      --max-upload-rate RATE\n"
	    "                        bytes/s at most, protocol included,\n"
	    "                        all torrents together (e.g. 500k, 2M;\n"
	    "                        k = 1024; 0: none)\n"
	    "\n");
	fprintf(f,
	    "File selection (for every torrent given; LIST: file numbers as\n"
	    "--show-files lists them, from 1, and ranges: 1,3-5):\n"
	    "  -S, --show-files      list each .torrent's files (number, size,\n"
	    "                        path) and exit; downloads nothing\n"
	    "      --select-file LIST\n"
	    "                        only these files (repeatable; default:\n"
	    "                        all, or a magnet's so=); a number past\n"
	    "                        the torrent's files is an error (exit 3),\n"
	    "                        with several torrents a warning\n"
	    "      --exclude GLOB    skip the files whose path in the torrent\n"
	    "                        or name matches GLOB (e.g. '*.nfo';\n"
	    "                        repeatable)\n");
	if (!seed)
		fprintf(f,
	    "      --priority-high LIST\n"
	    "      --priority-low LIST\n"
	    "                        fetch these files' pieces first / last\n"
	    "      --sequential      fetch pieces in order (for players)\n"
	    "Files not selected are never created: what pieces shared with\n"
	    "selected files bring of them is kept in DIR/.HASH.parts until a\n"
	    "later run selects them.  A selection changed on a restart keeps\n"
	    "what was downloaded.\n");
	fprintf(f,
	    "\n"
	    "Peer strategies (on by default unless said):\n"
	    "  -c, --choking         tit-for-tat: the upload slots go to the\n"
	    "                        peers that send to us fastest; seeding,\n"
	    "                        to those we send to fastest, in turns\n"
	    "      --no-choking      unchoke every interested peer\n"
	    "      --upload-slots N  regular unchoke slots (default: from\n"
	    "                        --max-upload-rate, else 4)\n"
	    "  -O, --optimistic-unchoke\n"
	    "                        one more slot, to a random peer every\n"
	    "                        30 s (newcomers 3x as likely)\n"
	    "      --no-optimistic-unchoke\n");
	if (!seed)
		fprintf(f,
	    "  -a, --anti-snubbing   a peer that unchoked us but sent nothing\n"
	    "                        for 60 s gets only the optimistic slot\n"
	    "                        and fewer requests\n"
	    "      --no-anti-snubbing\n"
	    "  -r, --rarest-first    rarest pieces first (also\n"
	    "                        --rarest-piece-first)\n"
	    "      --no-rarest-first pieces in order from a random start\n"
	    "  -e, --end-game        request the last blocks from every peer\n"
	    "                        (also --end-game-mode)\n"
	    "      --no-end-game     do not\n"
	    "  -b, --bbs-plus        request the rarest blocks from two peers\n"
	    "                        at once all along (off; trades upload\n"
	    "                        bandwidth of others for latency)\n");
	fprintf(f,
	    "      --super-seed      seeding: reveal one piece at a time to\n"
	    "                        each peer (BEP 16; off)\n"
	    "\n"
	    "      --tui             the full-screen view (ncurses): torrents,\n"
	    "                        peers, piece map, trackers, log; keys:\n"
	    "                        arrows and Tab move, p pauses/resumes,\n"
	    "                        ? helps, q quits; the default when stdout\n"
	    "                        and stderr are terminals and several\n"
	    "                        torrents run (stdout must be a terminal)\n"
	    "      --no-tui          the status line instead\n"
	    "");
	if (!seed)
		fprintf(f,
	    "      --on-done CMD     when a torrent completes in this run:\n"
	    "                        /bin/sh -c CMD gtorrent PATH NAME HASH,\n"
	    "                        with GTORRENT_NAME, GTORRENT_PATH (the\n"
	    "                        data: DIR/NAME), GTORRENT_INFO_HASH and\n"
	    "                        GTORRENT_DIR set; not waited for (at\n"
	    "                        exit, 10 s at most); its output on\n"
	    "                        stderr; a failure is a warning\n");
	fprintf(f,
	    "      --config FILE     read options from FILE (default:\n"
	    "                        $XDG_CONFIG_HOME/gtorrent/config, else\n"
	    "                        ~/.config/gtorrent/config; see below)\n"
	    "      --no-config       read no config file\n"
	    "  -q, --quiet           no status line, errors and the summary\n"
	    "      --json            events as JSON, one object a line on\n"
	    "                        stdout, instead of the status line and\n"
	    "                        the summary (see README: NDJSON)\n"
	    "  -v, --verbose         protocol events (-vv: debugging)\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "\n"
	    "The DHT's routing table (dht.dat) and the resume records are\n"
	    "kept in the state folder: $XDG_STATE_HOME/gtorrent, else\n"
	    "~/.local/state/gtorrent.\n"
	    "\n"
	    "The config file holds long options one a line, before the\n"
	    "command line's (which win; repeatable ones add up):\n"
	    "  max-upload-rate = 1M   (or: max-upload-rate 1M,\n"
	    "  no-dht                  --max-upload-rate=1M)\n"
	    "'#' starts a comment line; a [download] or [seed] section\n"
	    "holds options for that command only; download-only options\n"
	    "outside [download] are skipped by seed.  A bad line is an\n"
	    "error naming FILE:LINE (exit 2).\n"
	    "\n");
	if (seed)
		fprintf(f,
	    "Exit status: 0 a seeding limit reached; 1 no data to seed;\n"
	    "2 bad command line; 3 bad .torrent; 4 disk error; 130 "
	    "interrupted.\n");
	else
		fprintf(f,
	    "Exit status: 0 complete and verified; 1 could not complete;\n"
	    "2 bad command line; 3 bad .torrent or magnet; 4 disk error; 130 "
	    "interrupted.\n"
	    "With several torrents, one summary line each, and the worst\n"
	    "status of theirs: 4, then 3, 130, 1; 0 only when all "
	    "completed.\n");
}

/*
 * Whether the data folder can take data, before any peer is contacted:
 * dir, or else the nearest folder above it that exists (where dir will be
 * made), must be a folder this process may write, on a file system not
 * mounted read-only and not full.  EXIT_OK, or the error said (exit 4).
 */
static int
dl_check_dir(const char *dir)
{
	struct statvfs	 vfs;
	struct stat	 st;
	char		*p = xstrdup(dir), *q;
	int		 rc = EXIT_OK, err = 0;

	while (stat(p, &st) != 0) {
		if (errno != ENOENT) {
			err = errno;
			goto out;
		}
		q = cmd_dirname(p);
		if (strcmp(q, p) == 0) {	/* "/" or "." missing */
			free(q);
			err = ENOENT;
			goto out;
		}
		free(p);
		p = q;
	}
	if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	else if (access(p, W_OK | X_OK) != 0)
		err = errno;		/* EACCES, EROFS */
	else if (statvfs(p, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		err = EROFS;
	else if (statvfs(p, &vfs) == 0 && (geteuid() == 0 ? vfs.f_bfree :
	    vfs.f_bavail) == 0)
		err = ENOSPC;
out:
	if (err != 0) {
		if (strcmp(p, dir) == 0)
			cmd_error("%s: %s", dir, strerror(err));
		else
			cmd_error("%s: cannot be made in %s: %s", dir, p,
			    strerror(err));
		rc = EXIT_IO;
	}
	free(p);
	return rc;
}

/* One file number of a LIST at *p (digits only); -1 if there is none. */
static int
dl_parse_index(const char **p, unsigned long *out)
{
	const char	*s = *p;
	unsigned long	 v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned long)(*s - '0')) > MI_MAX_FILES)
			v = MI_MAX_FILES + 1ul;	/* and no overflow */
	*p = s;
	*out = v;
	return 0;
}

/*
 * A LIST of --select-file, --priority-high or --priority-low: file numbers
 * as --show-files shows them (1-based, aria2c's spelling), N or N-M (N <=
 * M) split by ',', e.g. "1,3-5"; appended to *r, 0-based.  EXIT_OK, or
 * the usage error said.
 */
static int
dl_parse_files(const char *cmd, const char *opt, const char *arg,
    struct dl_ranges *r)
{
	const char	*p = arg;
	unsigned long	 a, b;

	for (;;) {
		if (dl_parse_index(&p, &a) != 0)
			goto bad;
		b = a;
		if (*p == '-') {
			p++;
			if (dl_parse_index(&p, &b) != 0)
				goto bad;
		}
		if (*p != '\0' && *p != ',')
			goto bad;
		if (a == 0 || b == 0)
			return cmd_usage_error(cmd, "%s %s: file numbers start "
			    "at 1, as --show-files lists them", opt, arg);
		if (a > b)
			return cmd_usage_error(cmd, "%s %s: the range %lu-%lu "
			    "goes down", opt, arg, a, b);
		if (b > MI_MAX_FILES)
			return cmd_usage_error(cmd, "%s %s: no torrent has more "
			    "than %u files", opt, arg, MI_MAX_FILES);
		if (r->n == DL_MAX_RANGES)
			return cmd_usage_error(cmd, "more than %u file ranges "
			    "for %s", DL_MAX_RANGES, opt);
		r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
		r->v[r->n++] = (struct torrent_range){
			.first = (uint32_t)(a - 1), .last = (uint32_t)(b - 1),
		};
		if (*p == '\0')
			return EXIT_OK;
		p++;			/* ',' */
	}
bad:
	return cmd_usage_error(cmd, "%s needs file numbers N or ranges N-M "
	    "split by ',' (e.g. 1,3-5), not '%s'", opt, arg);
}

/* The highest file index (0-based) of r, or -1 when r is empty. */
static int64_t
dl_ranges_max(const struct dl_ranges *r)
{
	int64_t	max = -1;
	size_t	i;

	for (i = 0; i < r->n; i++)
		if ((int64_t)r->v[i].last > max)
			max = r->v[i].last;
	return max;
}

static double
dl_seconds(const struct dl *d)
{
	return (double)(reactor_now_ms(d->r) - d->start_ms) / 1000.0;
}

static const char *
item_label(const struct dl_item *it)
{
	return it->is_magnet ? it->label : it->src;
}

static void
item_summary(struct dl_item *it, bool done)
{
	struct torrent_stats	ts;

	if (it->d->json)
		return;			/* "done" or "stopped" instead */
	torrent_stats(it->t, &ts);
	ui_summary(it->d->ui, done, it->d->seed || it->d->upload_only,
	    torrent_name(it->t), &ts, dl_seconds(it->d));
}

/* Torrents to show: those in the session, and those done at once. */
static size_t
dl_nshown(const struct dl *d, struct dl_item **one)
{
	size_t	i, n = 0;

	for (i = 0; i < d->nitems; i++)
		if (d->items[i].t != NULL || d->items[i].has_final) {
			*one = &d->items[i];
			n++;
		}
	return n;
}

static void
item_stats(const struct dl_item *it, struct torrent_stats *ts)
{
	if (it->t != NULL)
		torrent_stats(it->t, ts);
	else
		*ts = it->final;
}

/* The status line: one torrent's as ever, else one over them all. */
static void
dl_ui_cb(void *arg)
{
	struct dl		*d = arg;
	struct dl_item		*one = NULL;
	struct torrent_stats	 ts, sum;
	struct ui_view		 v;
	struct dht_stats	 st;
	struct dht		*dht;
	unsigned		 n, done = 0, meta = 0;
	size_t			 i;

	n = (unsigned)dl_nshown(d, &one);
	if (n == 1)
		item_stats(one, &sum);
	else {
		memset(&sum, 0, sizeof(sum));
		for (i = 0; i < d->nitems; i++) {
			if (d->items[i].t == NULL && !d->items[i].has_final)
				continue;
			item_stats(&d->items[i], &ts);
			sum.have += ts.have;
			sum.total += ts.total;
			sum.downloaded += ts.downloaded;
			sum.uploaded += ts.uploaded;
			sum.peers += ts.peers;
			sum.conns += ts.conns;
			sum.known += ts.known > ts.peers ? ts.known : ts.conns;
			sum.dht_peers += ts.dht_peers;
			done += ts.complete;
			meta += ts.metadata;
		}
	}
	if (d->verbose && n == 1)
		ui_set_swarm(d->ui, sum.seeders, sum.leechers);
	if (d->verbose && (dht = session_dht(d->s)) != NULL) {
		dht_stats(dht, reactor_now_ms(d->r), &st);
		ui_set_dht(d->ui, (int64_t)(st.nodes[0] + st.nodes[1]),
		    (int64_t)(st.good[0] + st.good[1]));
	}
	v = (struct ui_view){
		.name = n != 1 ? NULL : one->t != NULL ? torrent_name(one->t) :
		    one->m.name,
		.n = n, .done = done, .metadata = meta,
	};
	ui_update(d->ui, &v, &sum, reactor_now_ms(d->r));
	reactor_timer_in(d->ui_timer, ui_interval_ms(d->ui));
}

/* Its exit code, as for one torrent; then said why, and summed up. */
static void
item_end(struct dl_item *it)
{
	struct dl		*d = it->d;
	struct dl_item		*one;
	struct torrent_stats	 ts;
	int			 rc;

	if (it->ended)
		return;
	it->ended = true;
	if (it->running) {
		it->running = false;
		d->nrunning--;
	}
	torrent_stats(it->t, &ts);
	if (ts.downloaded > 0)
		log_info("%s: %llu of %llu bytes received were duplicates "
		    "(wasted)", torrent_name(it->t),
		    (unsigned long long)ts.wasted,
		    (unsigned long long)ts.downloaded);
	if (ts.uploaded > 0)
		log_info("%s: %llu of %llu bytes sent were of pieces sent in "
		    "full before", torrent_name(it->t),
		    (unsigned long long)ts.resent,
		    (unsigned long long)ts.uploaded);
	if (d->metadata_only && it->md_written)
		rc = EXIT_OK;
	else if (it->fatal)
		rc = it->rc != EXIT_OK ? it->rc : EXIT_IO;
	else if (it->interrupted)
		rc = EXIT_INTERRUPTED;
	else if (d->metadata_only)
		rc = it->rc != EXIT_OK ? it->rc : EXIT_FAIL;
	else
		rc = ts.complete || it->seed_over ? EXIT_OK : EXIT_FAIL;
	if (it->seed_over && rc == EXIT_OK && !d->json) {
		ui_clear(d->ui);
		if (dl_nshown(d, &one) == 1)
			printf("gtorrent: seeding done: %s\n", it->seed_why);
		else {
			printf("gtorrent: seeding done: ");
			cmd_print_safe(stdout, torrent_name(it->t));
			printf(": %s\n", it->seed_why);
		}
	}
	if (!d->metadata_only)
		/*
		 * --seed stopped by Ctrl-C: its download is done all the same
		 * (`gtorrent seed` stopped: stopped).
		 */
		item_summary(it, rc == EXIT_OK || (rc == EXIT_INTERRUPTED &&
		    ts.complete && !d->upload_only));
	else if (rc != EXIT_OK && !it->fatal)
		cmd_error("%s: %s: no metadata (%u peers met)", d->cmd,
		    torrent_name(it->t), ts.peers_ever);
	dl_json_end(it, &ts, rc);
	it->exit = rc;
}

static void
dl_ended_one(struct dl *d)
{
	if (d->nrunning == 0)
		reactor_stop(d->r);
}

/* Its trackers were told (or the wait ended): it is over. */
static void
item_left(void *arg)
{
	struct dl_item	*it = arg;

	item_end(it);
	dl_ended_one(it->d);
}

/* Leaving: peers closed, the trackers told (bounded), then item_left. */
static void
dl_stop_cb(void *arg)
{
	struct dl	*d = arg;
	struct dl_item	*it;
	size_t		 i;
	bool		 staying = false;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->running || it->leaving)
			continue;
		if (!it->stop_asked) {
			staying = true;
			continue;
		}
		it->leaving = true;
		torrent_leave(it->t, DL_STOP_MS, item_left, it);
	}
	if (!staying)
		reactor_timer_cancel(d->ui_timer);
}

static void
item_stop(struct dl_item *it)
{
	if (!it->running || it->stop_asked)
		return;
	it->stop_asked = true;
	/* not inside a peer hook: from the loop */
	if (!reactor_timer_pending(it->d->stop_timer))
		reactor_timer_in(it->d->stop_timer, 0);
}

static void
dl_on_signal(void *arg, int signo)
{
	struct dl	*d = arg;
	size_t		 i;

	if (d->interrupted) {
		log_debug("signal %d again: leaving now", signo);
		reactor_stop(d->r);
		return;
	}
	log_debug("signal %d: stopping", signo);
	d->interrupted = true;
	for (i = 0; i < d->nitems; i++) {
		if (!d->items[i].running || d->items[i].stop_asked)
			continue;
		d->items[i].interrupted = true;
		item_stop(&d->items[i]);
	}
}

/* One line about how an --on-done command ended, if not with status 0. */
static void
dl_child_status(const struct dl_child *k, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("%s: --on-done: exit status 0", k->name);
	else if (WIFEXITED(status))
		cmd_warn("%s: --on-done: the command failed with exit status "
		    "%d", k->name, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		cmd_warn("%s: --on-done: the command was killed by signal %d",
		    k->name, WTERMSIG(status));
}

/* Reaps the --on-done commands that ended; how many still run. */
static size_t
dl_reap(struct dl *d)
{
	size_t	i = 0;
	pid_t	pid;
	int	status;

	while (i < d->nkids) {
		pid = waitpid(d->kids[i].pid, &status, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == EINTR)) {
			i++;
			continue;
		}
		if (pid == d->kids[i].pid)
			dl_child_status(&d->kids[i], status);
		free(d->kids[i].name);
		d->kids[i] = d->kids[--d->nkids];
	}
	return d->nkids;
}

static void
dl_on_sigchld(void *arg, int signo)
{
	(void)signo;
	dl_reap(arg);
}

/*
 * --on-done: /bin/sh -c CMD gtorrent PATH NAME INFO_HASH, with
 * GTORRENT_NAME, GTORRENT_PATH, GTORRENT_INFO_HASH and GTORRENT_DIR in its
 * environment, stdin from /dev/null, its output on stderr; not waited
 * for (reaped on SIGCHLD).
 */
static void
dl_on_done_run(struct dl_item *it)
{
	extern char		**environ;
	struct dl		 *d = it->d;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t	  sa;
	sigset_t		  dfl, none;
	const char		 *name = torrent_name(it->t);
	char			  hex[2 * SHA1_LEN + 1], *path, **envp;
	char			 *argv[8];
	size_t			  n, i, k;
	pid_t			  pid;
	int			  e;

	if (!d->sigchld) {
		if (reactor_on_signal(d->r, SIGCHLD, dl_on_sigchld, d) != 0) {
			cmd_warn("%s: --on-done: cannot watch child processes",
			    name);
			return;
		}
		d->sigchld = true;
	}
	hex_encode(hex, item_info_hash(it), SHA1_LEN);
	path = xasprintf("%s/%s", d->dir, name);
	for (n = 0; environ[n] != NULL; n++)
		;
	envp = xreallocarray(NULL, n + 5, sizeof(*envp));
	for (i = k = 0; i < n; i++)
		if (strncmp(environ[i], "GTORRENT_", 9) != 0)
			envp[k++] = environ[i];
	envp[k++] = xasprintf("GTORRENT_NAME=%s", name);
	envp[k++] = xasprintf("GTORRENT_PATH=%s", path);
	envp[k++] = xasprintf("GTORRENT_INFO_HASH=%s", hex);
	envp[k++] = xasprintf("GTORRENT_DIR=%s", d->dir);
	envp[k] = NULL;
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)d->on_done;
	argv[3] = (char *)"gtorrent";
	argv[4] = path;
	argv[5] = (char *)name;
	argv[6] = hex;
	argv[7] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);	/* ignored here, not in the command */
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	ui_clear(d->ui);
	if ((e = posix_spawn(&pid, "/bin/sh", &fa, &sa, argv, envp)) != 0)
		cmd_warn("%s: --on-done: /bin/sh: %s", name, strerror(e));
	else {
		log_info("%s: --on-done: started (pid %ld)", name, (long)pid);
		d->kids = xreallocarray(d->kids, d->nkids + 1,
		    sizeof(*d->kids));
		d->kids[d->nkids++] = (struct dl_child){
			.pid = pid, .name = xstrdup(name),
		};
	}
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	for (i = k - 4; i < k; i++)
		free(envp[i]);
	free(envp);
	free(path);
}

/* At the end: the --on-done commands still running, waited for a while. */
static void
dl_on_done_wait(struct dl *d)
{
	struct timespec	ts = { .tv_sec = 0, .tv_nsec = 20 * 1000000 };
	uint64_t	end = reactor_clock_ms() + DL_ON_DONE_WAIT_MS;
	size_t		i;

	while (dl_reap(d) > 0 && reactor_clock_ms() < end)
		nanosleep(&ts, NULL);
	for (i = 0; i < d->nkids; i++) {
		cmd_warn("%s: --on-done: the command still runs after %u s "
		    "(pid %ld): not waited for", d->kids[i].name,
		    DL_ON_DONE_WAIT_MS / 1000, (long)d->kids[i].pid);
		free(d->kids[i].name);
	}
	free(d->kids);
	d->kids = NULL;
	d->nkids = 0;
}

static void
dl_on_complete(void *arg)
{
	struct dl_item		*it = arg;
	struct torrent_stats	 ts;
	char			*line, *safe;

	if (it->d->on_done != NULL) {
		/* completed by this run: not data found complete */
		torrent_stats(it->t, &ts);
		if (ts.downloaded > 0)
			dl_on_done_run(it);
	}

	dl_json_complete(it);
	if (it->d->seed || it->d->upload_only) {
		/* One summary, at the end: here a notice (with -q too). */
		if (!it->done_shown) {
			it->done_shown = true;
			safe = text_escape(torrent_name(it->t), TEXT_TERM);
			line = xasprintf("gtorrent: %s: complete, seeding\n",
			    safe);
			log_print(line);
			free(line);
			free(safe);
		}
		return;
	}
	item_stop(it);
}

/* A seeding limit is reached: it leaves as on Ctrl-C, but with exit 0. */
static void
dl_on_seed_limit(void *arg, enum seedlimit_reason why, const char *text)
{
	struct dl_item	*it = arg;

	log_debug("%s: seeding limit: %s", torrent_name(it->t),
	    seedlimit_reason_name(why));
	it->seed_over = true;
	snprintf(it->seed_why, sizeof(it->seed_why), "%s", text);
	item_stop(it);
}

static void
dl_on_fatal(void *arg, enum gt_err e)
{
	struct dl_item	*it = arg;

	it->fatal = true;
	if (e == GT_EINVAL)
		it->rc = EXIT_BADINPUT;	/* the metadata itself */
	item_stop(it);
}

/*
 * The .torrent of a magnet: the verified info dict as it came, the
 * magnet's trackers (one tier each, in order, as libtorrent reads them).
 */
static int
dl_write_torrent(struct dl_item *it, const struct metainfo *m)
{
	struct dl	*d = it->d;
	struct bval	*root, *list, *tier;
	struct buf	 b;
	char		*path;
	size_t		 i;
	int		 rc;

	root = bval_dict();
	if (it->ntrackers > 0) {
		bval_dict_set(root, "announce", bval_cstr(it->trackers[0]));
		list = bval_list();
		for (i = 0; i < it->ntrackers; i++) {
			tier = bval_list();
			bval_list_add(tier, bval_cstr(it->trackers[i]));
			bval_list_add(list, tier);
		}
		bval_dict_set(root, "announce-list", list);
	}
	bval_dict_set(root, "created by", bval_cstr("gtorrent " GT_VERSION));
	bval_dict_set(root, "info", bval_raw(m->info_raw, m->info_len));
	buf_init(&b, MI_MAX_TORRENT);
	if (bencode_encode_take(root, &b) != GT_OK) {
		buf_clear(&b);
		cmd_error("%s: %s: metadata too large to write", d->cmd,
		    m->name);
		return EXIT_IO;
	}
	if (mkdir(d->dir, 0777) != 0 && errno != EEXIST) {
		cmd_error("%s: %s: %s", d->cmd, d->dir, strerror(errno));
		buf_clear(&b);
		return EXIT_IO;
	}
	path = xasprintf("%s/%s.torrent", d->dir, m->name);
	rc = cmd_write_file(d->cmd, path, b.data, b.len, true);
	if (rc == EXIT_OK && d->json) {
		free(it->js_file);
		it->js_file = xstrdup(path);	/* in "done" */
	} else if (rc == EXIT_OK) {
		ui_clear(d->ui);
		cmd_print_safe(stdout, path);
		putchar('\n');
		fflush(stdout);
	}
	free(path);
	buf_clear(&b);
	return rc;
}

/* Another torrent of the command writing DIR/name, or NULL. */
static const struct dl_item *
dl_same_name(const struct dl *d, const struct dl_item *me, const char *name)
{
	const struct dl_item	*it;
	const struct metainfo	*m;
	size_t			 i;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (it == me || !it->loaded || it->dup != NULL)
			continue;
		if (!it->is_magnet)
			m = &it->m;
		else if (it->t == NULL || (m = torrent_metainfo(it->t)) == NULL)
			continue;
		if (strcmp(m->name, name) == 0)
			return it;
	}
	return NULL;
}

/*
 * File numbers of --select-file, --priority-high, --priority-low past the
 * torrent's nfiles: with one torrent an error (false, it->exit set), with
 * several a warning each (another torrent may have those files).  A
 * magnet's so= past them: a warning.
 */
static bool
item_check_files(struct dl_item *it, const char *name, size_t nfiles)
{
	static const char *const opts[] = {
		"--select-file", "--priority-high", "--priority-low",
	};
	struct dl		*d = it->d;
	const struct dl_ranges	*lists[] = { &d->select, &d->high, &d->low };
	int64_t			 max;
	size_t			 k;

	for (k = 0; k < nitems(lists); k++) {
		if ((max = dl_ranges_max(lists[k])) < (int64_t)nfiles)
			continue;
		if (d->nitems == 1) {
			cmd_error("%s: %s: no file %lld, it has %zu (see "
			    "--show-files)", name, opts[k], (long long)max + 1,
			    nfiles);
			it->exit = EXIT_BADINPUT;
			/* a magnet's ends with "stopped", a file's here */
			dl_json_error(d, it, it->t == NULL ? it->exit : -1,
			    "a file number past the torrent's files");
			return false;
		}
		cmd_warn("%s: %s: no file %lld, it has %zu: ignored", name,
		    opts[k], (long long)max + 1, nfiles);
	}
	if (d->select.n == 0 && (max = dl_ranges_max(&it->so)) >=
	    (int64_t)nfiles)
		cmd_warn("%s: so=: no file %lld (0-based %lld), it has %zu: "
		    "ignored", name, (long long)max + 1, (long long)max,
		    nfiles);
	return true;
}

static void
dl_on_metadata(void *arg, const struct metainfo *m)
{
	struct dl_item		*it = arg;
	struct dl		*d = it->d;
	const struct dl_item	*other;

	log_info("%s: metadata: %u pieces of %llu bytes, %zu files, %llu "
	    "bytes", m->name, m->npieces, (unsigned long long)m->piece_length,
	    m->nfiles, (unsigned long long)m->total_length);
	dl_json_metadata(it, m);
	if (!d->metadata_only) {
		ui_clear(d->ui);
		if ((other = dl_same_name(d, it, m->name)) != NULL) {
			/* Two torrents on one folder: this one stops. */
			cmd_error("%s: %s/%s is the data of %s too: not "
			    "downloaded", item_label(it), d->dir, m->name,
			    item_label(other));
			dl_json_error(d, it, -1, "its folder is another "
			    "torrent's: not downloaded");
		} else if (item_check_files(it, m->name, m->nfiles))
			return;
		torrent_stop(it->t);		/* no data, no file */
		it->fatal = true;
		it->rc = EXIT_BADINPUT;
		item_stop(it);
		return;
	}
	it->rc = dl_write_torrent(it, m);
	it->md_written = it->rc == EXIT_OK;
	item_stop(it);
}

/* Into the session; false (said why, it->exit set) when it cannot run. */
static bool
item_add(struct dl_item *it, const struct torrent_opts *base,
    const struct netaddr *peers, size_t npeers)
{
	struct dl		*d = it->d;
	struct torrent_events	 ev = {
		.complete = dl_on_complete, .fatal = dl_on_fatal,
		.metadata = dl_on_metadata, .seed_limit = dl_on_seed_limit,
		.event = dl_on_event, .arg = it,
	};
	struct torrent_opts	 to = *base;
	struct torrent_stats	 ts;
	char			 err[GT_ERRLEN];
	enum gt_err		 e;

	err[0] = '\0';
	if (it->is_magnet) {
		to.trackers = it->trackers;
		to.ntrackers = it->ntrackers;
		to.metadata_only = d->metadata_only;
		if (to.nselect == 0 && it->so.n > 0) {
			to.select = it->so.v;	/* BEP 53 so= */
			to.nselect = it->so.n;
		}
		if ((e = session_add_magnet(d->s, it->mg.info_hash,
		    it->mg.dn, &to, &ev, &it->t, err)) != GT_OK) {
			cmd_error("%s", err[0] != '\0' ? err :
			    gt_strerror(e));
			it->exit = EXIT_FAIL;
			dl_json_error(d, it, it->exit, err[0] != '\0' ?
			    err : gt_strerror(e));
			return false;
		}
		if ((!to.use_trackers || it->ntrackers == 0) && npeers == 0 &&
		    it->mg.npeers == 0 && !to.dht)
			cmd_warn("%s: no tracker to ask (tr=, --tracker) and "
			    "no peer given (x.pe=, --peer): waiting for peers "
			    "to connect on port %u", torrent_name(it->t),
			    session_port(d->s));
		dl_json_added(it);
		torrent_add_peers(it->t, it->mg.peers, it->mg.npeers, true);
		torrent_add_peers(it->t, peers, npeers, true);
		return true;
	}
	if (!item_check_files(it, it->src, it->m.nfiles))
		return false;
	if ((e = session_add_torrent(d->s, &it->m, &to, &ev, &it->t, err)) !=
	    GT_OK) {
		it->t = NULL;
		if (d->upload_only && e == GT_ENOENT) {
			cmd_error("%s: no data to seed under %s", it->m.name,
			    d->dir);
			it->exit = EXIT_FAIL;
			dl_json_error(d, it, it->exit, "no data to seed");
			return false;
		}
		cmd_error("%s", err[0] != '\0' ? err : gt_strerror(e));
		it->exit = e == GT_EINVAL ? EXIT_BADINPUT : EXIT_IO;
		dl_json_error(d, it, it->exit, err[0] != '\0' ? err :
		    gt_strerror(e));
		return false;
	}
	torrent_stats(it->t, &ts);
	if (d->upload_only && ts.have_pieces == 0) {
		cmd_error("%s: no verified data to seed under %s", it->m.name,
		    d->dir);
		dl_json_error(d, it, EXIT_FAIL, "no verified data to seed");
		session_remove_torrent(d->s, it->t);
		it->t = NULL;
		it->exit = EXIT_FAIL;
		return false;
	}
	if (d->upload_only && !ts.complete)
		cmd_warn("%s: only %u of %u pieces are here; seeding those",
		    it->m.name, ts.have_pieces, ts.npieces);
	dl_json_added(it);
	if (ts.complete && !d->seed && !d->upload_only) {
		dl_json_end(it, &ts, EXIT_OK);
		item_summary(it, true);		/* nothing to do */
		it->final = ts;
		it->has_final = true;
		session_remove_torrent(d->s, it->t);	/* never started */
		it->t = NULL;
		it->ended = true;
		it->exit = EXIT_OK;
		return false;
	}
	if (to.use_trackers && ts.trackers == 0 && npeers == 0 &&
	    !d->upload_only && (!to.dht || it->m.private))
		cmd_warn("%s: no usable tracker%s and no --peer: waiting for "
		    "peers to connect on port %u", it->m.name, to.dht ?
		    " (a private torrent: no DHT)" : "", session_port(d->s));
	torrent_add_peers(it->t, peers, npeers, true);
	return true;
}

/* Exit codes, worst last: 0, 1, 130, 3, 4. */
static int
dl_rank(int rc)
{
	switch (rc) {
	case EXIT_OK:
		return 0;
	case EXIT_FAIL:
		return 1;
	case EXIT_INTERRUPTED:
		return 2;
	case EXIT_BADINPUT:
		return 3;
	default:
		return 4;
	}
}

static int
dl_worst(const struct dl *d)
{
	size_t	i;
	int	rc = EXIT_OK;

	for (i = 0; i < d->nitems; i++)
		if (dl_rank(d->items[i].exit) > dl_rank(rc))
			rc = d->items[i].exit;
	return rc;
}

/* Decimal digits of n. */
static int
dl_digits(uint64_t n)
{
	int	k = 1;

	while (n >= 10) {
		n /= 10;
		k++;
	}
	return k;
}

/*
 * --show-files: for each .torrent its files, one a line: number (1-based,
 * as --select-file takes it), size (human, then exact) and path under the
 * output folder, escaped for a terminal.  The exit code.
 */
static int
dl_show_files(const char *cmd, const struct dl_src *srcs, size_t n)
{
	const struct mi_file	*f;
	struct metainfo		 m;
	char			 sz[32];
	size_t			 i, k;
	uint64_t		 big;
	int			 rc = EXIT_OK, r, wn, ws;
	bool			 shown = false;

	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		if ((r = cmd_load_torrent_src(srcs[i].arg, NULL, &m)) !=
		    EXIT_OK) {
			if (dl_rank(r) > dl_rank(rc))
				rc = r;
			continue;
		}
		if (shown)
			putchar('\n');
		shown = true;
		cmd_print_safe(stdout, srcs[i].arg);
		printf(": %zu file%s, %s (%llu bytes)\n", m.nfiles,
		    m.nfiles == 1 ? "" : "s",
		    human_size(sz, sizeof(sz), m.total_length, 2),
		    (unsigned long long)m.total_length);
		for (k = 0, big = 0; k < m.nfiles; k++)
			big = MAX(big, m.files[k].length);
		wn = dl_digits(m.nfiles);
		ws = dl_digits(big);
		for (k = 0; k < m.nfiles; k++) {
			f = &m.files[k];
			printf("%*zu  %10s  %*llu  ", wn, k + 1,
			    human_size(sz, sizeof(sz), f->length, 2), ws,
			    (unsigned long long)f->length);
			cmd_print_safe(stdout, f->path);
			if (f->attr & MI_ATTR_PAD)
				fputs(" [padding]", stdout);
			if (f->symlink != NULL) {
				fputs(" -> ", stdout);
				cmd_print_safe(stdout, f->symlink);
			}
			putchar('\n');
		}
		metainfo_clear(&m);
	}
	r = cmd_flush_stdout(cmd);
	return rc != EXIT_OK ? rc : r;
}

/* The full-screen view's torrents: those shown, as the status line's. */
static size_t
dl_tui_torrents(void *arg, struct tui_torrent *out, size_t max)
{
	struct dl	*d = arg;
	struct dl_item	*it;
	size_t		 i, n = 0;

	bool		 waiting;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		/* not in the session yet: its data check comes */
		waiting = it->t == NULL && !it->has_final && !it->ended &&
		    it->loaded && it->dup == NULL && it->exit == EXIT_OK &&
		    d->checking != NULL;
		if (it->t == NULL && !it->has_final && !waiting)
			continue;
		if (n < max)
			out[n] = (struct tui_torrent){
				.t = it->t,
				.name = it->is_magnet ? it->label : it->m.name,
				.st = it->final,
				.stopping = it->stop_asked && !it->ended,
				.ended = it->ended || (it->t == NULL &&
				    !waiting),
				.checking = waiting && it == d->checking,
				.queued = waiting && it != d->checking,
			};
		if (n < max && waiting)
			out[n].st.seeders = out[n].st.leechers = -1;
		n++;
	}
	return n;
}

/* `q` in the view: as Ctrl-C. */
static void
dl_tui_quit(void *arg)
{
	dl_on_signal(arg, SIGINT);
}

static void
dl_tui_start(struct dl *d)
{
	struct tui_hooks	h = {
		.torrents = dl_tui_torrents, .quit = dl_tui_quit, .arg = d,
	};
	char			err[GT_ERRLEN];

	if (!d->tui_on)
		return;
	if (tui_new(&d->tui_view, d->r, d->s, &h, err) != GT_OK) {
		/* the status line then; said when --tui asked for it */
		if (d->tui > 0)
			cmd_warn("no full-screen view: %s", err);
		d->tui_view = NULL;
		ui_free(d->ui);
		d->ui = ui_new(&(struct ui_opts){
			.quiet = d->quiet || d->metadata_only, .out = stdout,
			.tty = isatty(STDOUT_FILENO) == 1,
			.err = STDERR_FILENO,
		});
	}
}

/* The terminal back before the last summary lines. */
static void
dl_tui_end(struct dl *d)
{
	tui_free(d->tui_view);
	d->tui_view = NULL;
}

/*
 * A download whose only tracker keeps answering with a "failure reason"
 * and that has no other way to find peers (no DHT, no --peer, nobody
 * known or connected, so no PEX either) would wait forever: it ends with
 * the tracker's reason (exit 1) after DL_REFUSALS of them.
 */
static void
dl_check_refused(void *arg)
{
	struct dl		*d = arg;
	struct dl_item		*it;
	struct torrent_stats	 ts;
	const char		*why;
	size_t			 i;

	for (i = 0; i < d->nitems && !d->upload_only; i++) {
		it = &d->items[i];
		if (!it->running || it->stop_asked || it->t == NULL)
			continue;
		torrent_stats(it->t, &ts);
		if (ts.complete || ts.trackers != 1 || ts.dht || ts.known > 0 ||
		    ts.conns > 0 || ts.peers_ever > 0 ||
		    torrent_tracker_refusals(it->t, &why) < DL_REFUSALS)
			continue;
		ui_clear(d->ui);
		cmd_error("%s: tracker says: %s", torrent_name(it->t), why);
		dl_json_error(d, it, -1, why);
		it->fatal = true;
		it->rc = EXIT_FAIL;
		item_stop(it);
	}
	reactor_timer_in(d->check_timer, DL_CHECK_MS);
}

/*
 * The listen port, on stderr, when it is not the one asked for: -p 0, or
 * the default taken and the next free one used.
 */
static void
dl_say_port(const struct dl *d, const struct session_opts *so)
{
	char	line[64];

	if (d->quiet || !so->listen || session_port(d->s) == 0 ||
	    session_port(d->s) == so->port)
		return;
	snprintf(line, sizeof(line), "gtorrent: listening on port %u\n",
	    session_port(d->s));
	log_print(line);
}

/* Runs every torrent that loaded until all are done; the exit code. */
static int
dl_run(struct dl *d, const struct session_opts *so,
    const struct torrent_opts *to, const struct netaddr *peers,
    size_t npeers)
{
	struct dl_item	*it;
	char		 err[GT_ERRLEN];
	size_t		 i;

	if ((d->r = reactor_new()) == NULL) {
		cmd_error("%s: cannot start the event loop", d->cmd);
		return EXIT_FAIL;
	}
	d->start_ms = reactor_now_ms(d->r);
	if (session_new(&d->s, d->r, so, err) != GT_OK) {
		cmd_error("%s", err);
		dl_json_start(d, -1);
		dl_json_error(d, NULL, EXIT_FAIL, err);
		return EXIT_FAIL;
	}
	dl_say_port(d, so);
	dl_json_start(d, session_port(d->s));
	/* Before the data checks, so that Ctrl-C during them stops cleanly. */
	d->ui_timer = reactor_timer_new(d->r, dl_ui_cb, d);
	d->stop_timer = reactor_timer_new(d->r, dl_stop_cb, d);
	reactor_on_signal(d->r, SIGINT, dl_on_signal, d);
	reactor_on_signal(d->r, SIGTERM, dl_on_signal, d);
	reactor_on_signal(d->r, SIGHUP, dl_on_signal, d);	/* terminal closed */
	d->check_timer = reactor_timer_new(d->r, dl_check_refused, d);
	reactor_timer_in(d->check_timer, DL_CHECK_MS);
	dl_tui_start(d);		/* the checks below show there */
	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->loaded || it->dup != NULL)
			continue;
		d->checking = it;
		if (d->tui_view != NULL)
			tui_redraw(d->tui_view);
		if (item_add(it, to, peers, npeers)) {
			it->running = true;
			d->nrunning++;
		}
	}
	d->checking = NULL;
	if (d->nrunning == 0) {
		dl_tui_end(d);
		return dl_worst(d);
	}
	for (i = 0; i < d->nitems; i++)
		if (d->items[i].running)
			torrent_start(d->items[i].t);
	dl_ui_cb(d);			/* a first sample (and line) now */
	if (d->json) {
		d->json_timer = reactor_timer_new(d->r, dl_json_tick, d);
		reactor_timer_in(d->json_timer, DL_JSON_STATS_MS);
	}
	if (reactor_run(d->r) != 0)
		d->loop_failed = true;
	dl_tui_end(d);
	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->running)
			continue;
		if (d->loop_failed)
			it->fatal = true;
		item_end(it);
	}
	return dl_worst(d);
}

/* -i FILE: one source a line (as aria2c's --input-file). */
static int
dl_read_input(const char *cmd, const char *path, struct dl_src **v,
    size_t *n)
{
	FILE		*f;
	char		*line = NULL, *p, *e;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 len;
	int		 rc = EXIT_OK;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		cmd_error("%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? EXIT_BADINPUT :
		    EXIT_IO;
	}
	while (rc == EXIT_OK && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)len > DL_MAX_LINE) {
			cmd_error("%s: line %zu: longer than %u bytes", path,
			    lineno, DL_MAX_LINE);
			rc = EXIT_BADINPUT;
			break;
		}
		if (memchr(line, '\0', (size_t)len) != NULL) {
			cmd_error("%s: line %zu: a NUL byte", path, lineno);
			rc = EXIT_BADINPUT;
			break;
		}
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n' || *p == '\v' || *p == '\f'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == ' ' ||
		    e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n' ||
		    e[-1] == '\v' || e[-1] == '\f'); e--)
			;
		*e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (*n == DL_MAX_SOURCES) {
			rc = cmd_usage_error(cmd, "more than %u torrents",
			    DL_MAX_SOURCES);
			break;
		}
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[*n] = (struct dl_src){
			.arg = xstrdup(p),
			.magnet = strncasecmp(p, "magnet:", 7) == 0,
		};
		(*n)++;
	}
	if (rc == EXIT_OK && ferror(f)) {
		cmd_error("%s: %s", path, strerror(errno));
		rc = EXIT_IO;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int
dl_add_src(const char *cmd, const char *arg, bool magnet, struct dl_src **v,
    size_t *n)
{
	if (*n == DL_MAX_SOURCES)
		return cmd_usage_error(cmd, "more than %u torrents",
		    DL_MAX_SOURCES);
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n] = (struct dl_src){ .arg = xstrdup(arg), .magnet = magnet };
	(*n)++;
	return EXIT_OK;
}

/*
 * Parses each source (errors said, exit codes kept) and finds those given
 * twice (a warning; the first runs) or writing the same folder (an
 * error; the first runs).  The number that can run.
 */
static size_t
dl_load(struct dl *d, const struct dl_src *srcs)
{
	struct dl_item	*it, *o;
	char		 err[GT_ERRLEN], hex[2 * SHA1_LEN + 1];
	size_t		 i, j, k, n = 0;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		it->d = d;
		it->src = srcs[i].arg;
		it->is_magnet = srcs[i].magnet;
		if (it->is_magnet) {
			if (magnet_parse(&it->mg, it->src, err) != GT_OK) {
				cmd_error("magnet: %s", err);
				it->exit = EXIT_BADINPUT;
				continue;
			}
			hex_encode(hex, it->mg.info_hash, SHA1_LEN);
			snprintf(it->label, sizeof(it->label),
			    "magnet:?xt=urn:btih:%s", hex);
			for (k = 0; k < it->mg.nwarnings; k++)
				cmd_warn("magnet: %s", it->mg.warnings[k]);
			/* BEP 53 so= (0-based, as the engine takes them) */
			it->so.v = xreallocarray(NULL, it->mg.nselect + 1,
			    sizeof(*it->so.v));
			for (k = 0; k < it->mg.nselect; k++)
				it->so.v[k] = (struct torrent_range){
					.first = it->mg.select[k].first,
					.last = it->mg.select[k].last,
				};
			it->so.n = it->mg.nselect;
			/* The magnet's trackers, then --tracker ones. */
			it->trackers = xreallocarray(NULL, it->mg.ntrackers +
			    d->ntrackers + 1, sizeof(*it->trackers));
			for (k = 0; k < it->mg.ntrackers; k++)
				it->trackers[k] = it->mg.trackers[k];
			for (k = 0; k < d->ntrackers; k++)
				it->trackers[it->mg.ntrackers + k] =
				    d->trackers[k];
			it->ntrackers = it->mg.ntrackers + d->ntrackers;
		} else if ((it->exit = cmd_load_torrent_src(it->src, d->bind,
		    &it->m)) != EXIT_OK)
			continue;
		it->loaded = true;
		for (j = 0; j < i && it->dup == NULL; j++) {
			o = &d->items[j];
			if (!o->loaded || o->dup != NULL)
				continue;
			if (memcmp(item_info_hash(o), item_info_hash(it),
			    SHA1_LEN) == 0) {
				cmd_warn("%s: the same torrent as %s: run "
				    "once", item_label(it), item_label(o));
				it->dup = o;
			} else if (!it->is_magnet && !o->is_magnet &&
			    !d->upload_only &&
			    strcmp(it->m.name, o->m.name) == 0) {
				cmd_error("%s: %s/%s is the data of %s too: "
				    "not downloaded", item_label(it), d->dir,
				    it->m.name, item_label(o));
				it->dup = o;
				it->exit = EXIT_BADINPUT;
			}
		}
		if (it->dup == NULL)
			n++;
	}
	return n;
}

static int
cmd_download_common(int argc, char **argv, const char *cmd, bool seed_cmd)
{
	enum {
		OPT_PEER = 256, OPT_NO_TRACKER, OPT_MAX_PEERS, OPT_SEED,
		OPT_NO_RAREST, OPT_NO_END_GAME, OPT_TRACKER,
		OPT_METADATA_ONLY, OPT_NO_PEX, OPT_NO_DHT, OPT_DHT_PORT,
		OPT_DHT_BOOTSTRAP, OPT_NO_CHOKING, OPT_NO_OPTIMISTIC,
		OPT_NO_ANTI_SNUB, OPT_UPLOAD_SLOTS, OPT_SUPER_SEED,
		OPT_MAX_DOWN, OPT_MAX_UP, OPT_SEED_RATIO, OPT_SEED_TIME,
		OPT_SEED_IDLE, OPT_RECHECK, OPT_SELECT_FILE, OPT_EXCLUDE,
		OPT_PRIO_HIGH, OPT_PRIO_LOW, OPT_SEQUENTIAL, OPT_PREALLOCATE,
		OPT_TUI, OPT_NO_TUI,
		OPT_BIND,
		OPT_ON_DONE = 400,	/* h-cli */
		OPT_JSON,
	};
	static const struct option	 longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "magnet", required_argument, NULL, 'm' },
		{ "input-file", required_argument, NULL, 'i' },
		{ "metadata-only", no_argument, NULL, OPT_METADATA_ONLY },
		{ "recheck", no_argument, NULL, OPT_RECHECK },
		{ "show-files", no_argument, NULL, 'S' },
		{ "select-file", required_argument, NULL, OPT_SELECT_FILE },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "priority-high", required_argument, NULL, OPT_PRIO_HIGH },
		{ "priority-low", required_argument, NULL, OPT_PRIO_LOW },
		{ "sequential", no_argument, NULL, OPT_SEQUENTIAL },
		{ "preallocate", no_argument, NULL, OPT_PREALLOCATE },
		{ "no-pex", no_argument, NULL, OPT_NO_PEX },
		{ "dht", no_argument, NULL, 'd' },
		{ "no-dht", no_argument, NULL, OPT_NO_DHT },
		{ "dht-port", required_argument, NULL, OPT_DHT_PORT },
		{ "dht-bootstrap", required_argument, NULL,
		    OPT_DHT_BOOTSTRAP },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "interface", required_argument, NULL, OPT_BIND },
		{ "peer", required_argument, NULL, OPT_PEER },
		{ "no-tracker", no_argument, NULL, OPT_NO_TRACKER },
		{ "tracker", required_argument, NULL, OPT_TRACKER },
		{ "max-peers", required_argument, NULL, OPT_MAX_PEERS },
		{ "seed", no_argument, NULL, OPT_SEED },
		{ "rarest-first", no_argument, NULL, 'r' },
		{ "rarest-piece-first", no_argument, NULL, 'r' },
		{ "no-rarest-first", no_argument, NULL, OPT_NO_RAREST },
		{ "end-game", no_argument, NULL, 'e' },
		{ "end-game-mode", no_argument, NULL, 'e' },
		{ "no-end-game", no_argument, NULL, OPT_NO_END_GAME },
		{ "choking", no_argument, NULL, 'c' },
		{ "choking-strategy", no_argument, NULL, 'c' },
		{ "no-choking", no_argument, NULL, OPT_NO_CHOKING },
		{ "optimistic-unchoke", no_argument, NULL, 'O' },
		{ "optimistic-unchoking", no_argument, NULL, 'O' },
		{ "no-optimistic-unchoke", no_argument, NULL,
		    OPT_NO_OPTIMISTIC },
		{ "anti-snubbing", no_argument, NULL, 'a' },
		{ "no-anti-snubbing", no_argument, NULL, OPT_NO_ANTI_SNUB },
		{ "upload-slots", required_argument, NULL, OPT_UPLOAD_SLOTS },
		{ "bbs-plus", no_argument, NULL, 'b' },
		{ "super-seed", no_argument, NULL, OPT_SUPER_SEED },
		{ "max-download-rate", required_argument, NULL, OPT_MAX_DOWN },
		{ "max-upload-rate", required_argument, NULL, OPT_MAX_UP },
		{ "seed-ratio", required_argument, NULL, OPT_SEED_RATIO },
		{ "seed-time", required_argument, NULL, OPT_SEED_TIME },
		{ "seed-idle", required_argument, NULL, OPT_SEED_IDLE },
		{ "tui", no_argument, NULL, OPT_TUI },
		{ "no-tui", no_argument, NULL, OPT_NO_TUI },
		{ "on-done", required_argument, NULL, OPT_ON_DONE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_opts	 so = {
		.port = SESSION_DEFAULT_PORT, .listen = true,
		.max_peers = SESSION_DEFAULT_PEERS, .dht = true,
	};
	struct torrent_opts	 to = {
		.dir = ".", .rarest_first = true, .end_game = true,
		.max_peers = TORRENT_DEFAULT_PEERS, .use_trackers = true,
		.upload_only = seed_cmd, .seed = seed_cmd, .pex = true,
		.dht = true, .choking = true, .optimistic = true,
		.anti_snub = true,
	};
	struct dl		 d = { .cmd = cmd, .upload_only = seed_cmd };
	struct cmd_config	 conf = { .path = NULL };
	struct netaddr		*peers = NULL;
	struct dl_src		*srcs = NULL;
	size_t			 npeers = 0, ntrackers = 0, nboot = 0;
	size_t			 nsrcs = 0, nmagnets = 0, nstdin = 0;
	char			**trackers = NULL;
	char			**boot = NULL, *state_dir = NULL;
	char			**exclude = NULL;
	size_t			 nexclude = 0, i;
	uint64_t		 v;
	double			 x;
	bool			 quiet = false, show_files = false;
	int			 c, verbose = 0, rc;

	/* The config file's options first: the command line's win. */
	if ((rc = cmd_config(&conf, cmd, longopts, &argc, &argv)) != EXIT_OK)
		goto out;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:m:i:p:dreqvhcOabS", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			to.dir = optarg;
			break;
		case 'm':
			if ((rc = dl_add_src(cmd, optarg, true, &srcs,
			    &nsrcs)) != EXIT_OK)
				goto out;
			break;
		case 'i':
			if (strcmp(optarg, "-") == 0)
				nstdin++;
			if ((rc = dl_read_input(cmd, optarg, &srcs,
			    &nsrcs)) != EXIT_OK)
				goto out;
			break;
		case OPT_METADATA_ONLY:
			d.metadata_only = true;
			break;
		case OPT_RECHECK:
			to.recheck = true;
			break;
		case 'S':
			show_files = true;
			break;
		case OPT_SELECT_FILE:
			if ((rc = dl_parse_files(cmd, "--select-file", optarg,
			    &d.select)) != EXIT_OK)
				goto out;
			break;
		case OPT_PRIO_HIGH:
			if ((rc = dl_parse_files(cmd, "--priority-high",
			    optarg, &d.high)) != EXIT_OK)
				goto out;
			break;
		case OPT_PRIO_LOW:
			if ((rc = dl_parse_files(cmd, "--priority-low", optarg,
			    &d.low)) != EXIT_OK)
				goto out;
			break;
		case OPT_EXCLUDE:
			if (*optarg == '\0') {
				rc = cmd_usage_error(cmd, "--exclude needs a "
				    "pattern (e.g. '*.nfo')");
				goto out;
			}
			if (nexclude == DL_MAX_EXCLUDE) {
				rc = cmd_usage_error(cmd, "more than %u "
				    "--exclude options", DL_MAX_EXCLUDE);
				goto out;
			}
			exclude = xreallocarray(exclude, nexclude + 1,
			    sizeof(*exclude));
			exclude[nexclude++] = optarg;
			break;
		case OPT_SEQUENTIAL:
			to.sequential = true;
			break;
		case OPT_PREALLOCATE:
			to.preallocate = true;
			break;
		case OPT_NO_PEX:
			to.pex = false;
			break;
		case 'd':
			so.dht = true;
			break;
		case OPT_NO_DHT:
			so.dht = false;
			break;
		case OPT_DHT_PORT:
			if (cmd_parse_port(optarg, &so.dht_port) != 0) {
				rc = cmd_usage_error(cmd, "--dht-port must "
				    "be 1 to 65535, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_DHT_BOOTSTRAP:
			if ((rc = cmd_add_bootstrap(cmd, optarg, &boot,
			    &nboot)) != EXIT_OK)
				goto out;
			break;
		case 'p':
			if (cmd_parse_size(optarg, &v) != 0 || v > 65535) {
				rc = cmd_usage_error(cmd, "port must be 0 to "
				    "65535, not '%s'", optarg);
				goto out;
			}
			so.port = (uint16_t)v;
			so.port_exact = true;
			break;
		case OPT_BIND:
			if (cmd_parse_bind(optarg, &so.bind) != 0) {
				rc = cmd_usage_error(cmd, "--bind needs a "
				    "numeric IPv4 or IPv6 address or the name "
				    "of an interface with one, not '%s'",
				    optarg);
				goto out;
			}
			break;
		case OPT_PEER:
			if (npeers == DL_MAX_PEER_ARGS) {
				rc = cmd_usage_error(cmd, "more than %u "
				    "--peer options", DL_MAX_PEER_ARGS);
				goto out;
			}
			peers = xreallocarray(peers, npeers + 1,
			    sizeof(*peers));
			if (addr_parse(optarg, 0, &peers[npeers]) != GT_OK) {
				rc = cmd_usage_error(cmd, "--peer needs a "
				    "numeric IPv4:PORT or [IPv6]:PORT, not "
				    "'%s'", optarg);
				goto out;
			}
			npeers++;
			break;
		case OPT_NO_TRACKER:
			to.use_trackers = false;
			break;
		case OPT_TRACKER:
			if (!tracker_client_url_ok(optarg)) {
				rc = cmd_usage_error(cmd, "--tracker needs an "
				    "http://, https:// or udp://host:port URL, "
				    "not '%s'", optarg);
				goto out;
			}
			if (ntrackers == DL_MAX_TRACKER_ARGS) {
				rc = cmd_usage_error(cmd, "more than %u "
				    "--tracker options", DL_MAX_TRACKER_ARGS);
				goto out;
			}
			trackers = xreallocarray(trackers, ntrackers + 1,
			    sizeof(*trackers));
			trackers[ntrackers++] = optarg;
			break;
		case OPT_MAX_PEERS:
			if (cmd_parse_size(optarg, &v) != 0 || v < 1 ||
			    v > DL_MAX_PEERS) {
				rc = cmd_usage_error(cmd, "--max-peers must "
				    "be 1 to %u, not '%s'", DL_MAX_PEERS,
				    optarg);
				goto out;
			}
			so.max_peers = to.max_peers = (uint32_t)v;
			break;
		case OPT_SEED:
			to.seed = true;
			break;
		case 'r':
			to.rarest_first = true;
			break;
		case OPT_NO_RAREST:
			to.rarest_first = false;
			break;
		case 'e':
			to.end_game = true;
			break;
		case OPT_NO_END_GAME:
			to.end_game = false;
			break;
		case 'c':
			to.choking = true;
			break;
		case OPT_NO_CHOKING:
			to.choking = false;
			break;
		case 'O':
			to.optimistic = true;
			break;
		case OPT_NO_OPTIMISTIC:
			to.optimistic = false;
			break;
		case 'a':
			to.anti_snub = true;
			break;
		case OPT_NO_ANTI_SNUB:
			to.anti_snub = false;
			break;
		case OPT_UPLOAD_SLOTS:
			if (cmd_parse_size(optarg, &v) != 0 || v < 1 ||
			    v > DL_MAX_SLOTS) {
				rc = cmd_usage_error(cmd, "--upload-slots "
				    "must be 1 to %u, not '%s'", DL_MAX_SLOTS,
				    optarg);
				goto out;
			}
			to.upload_slots = (uint32_t)v;
			break;
		case 'b':
			to.bbs_plus = true;
			break;
		case OPT_SUPER_SEED:
			to.super_seed = true;
			break;
		case OPT_MAX_DOWN:
		case OPT_MAX_UP:
			if (cmd_parse_size(optarg, &v) != 0 ||
			    (v != 0 && v < DL_MIN_RATE) || v > DL_MAX_RATE) {
				rc = cmd_usage_error(cmd, "%s must be 0 (no "
				    "limit) or 1k to 100G bytes/s, not '%s'",
				    c == OPT_MAX_DOWN ? "--max-download-rate" :
				    "--max-upload-rate", optarg);
				goto out;
			}
			if (c == OPT_MAX_DOWN)
				to.max_down_rate = v;
			else
				to.max_up_rate = v;
			break;
		case OPT_SEED_RATIO:
			if (cmd_parse_decimal(optarg, 0.001, 1e6, &x) != 0) {
				rc = cmd_usage_error(cmd, "--seed-ratio must "
				    "be a number above 0 (e.g. 1.5), not '%s'",
				    optarg);
				goto out;
			}
			to.seed_ratio = x;
			to.seed = true;
			break;
		case OPT_SEED_TIME:
		case OPT_SEED_IDLE:
			if (cmd_parse_decimal(optarg, 0.01, 1e6, &x) != 0) {
				rc = cmd_usage_error(cmd, "%s must be minutes "
				    "above 0 (e.g. 30 or 0.5), not '%s'",
				    c == OPT_SEED_TIME ? "--seed-time" :
				    "--seed-idle", optarg);
				goto out;
			}
			if (c == OPT_SEED_TIME)
				to.seed_time_s = (uint32_t)(x * 60 + 0.5);
			else
				to.seed_idle_s = (uint32_t)(x * 60 + 0.5);
			to.seed = true;
			break;
		case OPT_TUI:
			if (!isatty(STDOUT_FILENO)) {
				rc = cmd_usage_error(cmd, "--tui needs a "
				    "terminal on stdout");
				goto out;
			}
			d.tui = 1;
			break;
		case OPT_NO_TUI:
			d.tui = -1;
			break;
		case OPT_ON_DONE:
			if (*optarg == '\0' || seed_cmd ||
			    strlen(optarg) > DL_ON_DONE_MAX) {
				rc = seed_cmd ? cmd_usage_error(cmd, "seed "
				    "downloads nothing: --on-done is for "
				    "downloads") : cmd_usage_error(cmd,
				    "--on-done needs a command of 1 to %u "
				    "bytes", DL_ON_DONE_MAX);
				goto out;
			}
			d.on_done = optarg;
			break;
		case 'q':
			quiet = d.quiet = true;
			break;
		case OPT_JSON:
			d.json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			download_usage(stdout, seed_cmd);
			rc = EXIT_OK;
			goto out;
		default:
			rc = cmd_bad_option(cmd, c, argv);
			goto out;
		}
	}
	for (; optind < argc; optind++)
		if ((rc = dl_add_src(cmd, argv[optind],
		    strncasecmp(argv[optind], "magnet:", 7) == 0, &srcs,
		    &nsrcs)) != EXIT_OK)
			goto out;
	for (i = 0; i < nsrcs; i++) {
		nmagnets += srcs[i].magnet;
		nstdin += !srcs[i].magnet && strcmp(srcs[i].arg, "-") == 0;
	}
	if (nsrcs == 0) {
		rc = cmd_usage_error(cmd, "missing FILE.torrent or -m MAGNET");
		goto out;
	}
	if (nmagnets > 0 && seed_cmd) {
		rc = cmd_usage_error(cmd, "seed needs a FILE.torrent, not a "
		    "magnet");
		goto out;
	}
	if (nstdin > 1) {
		rc = cmd_usage_error(cmd, "standard input (-) given twice");
		goto out;
	}
	if (show_files) {
		if (nmagnets > 0) {
			rc = cmd_usage_error(cmd, "--show-files needs a "
			    ".torrent: a magnet's file list comes with its "
			    "metadata (fetch it with --metadata-only, then "
			    "--show-files DIR/NAME.torrent)");
			goto out;
		}
		rc = dl_show_files(cmd, srcs, nsrcs);
		goto out;
	}
	if (seed_cmd && (d.high.n > 0 || d.low.n > 0 || to.sequential ||
	    to.preallocate)) {
		rc = cmd_usage_error(cmd, "seed downloads nothing: %s is for "
		    "downloads", d.high.n > 0 ? "--priority-high" : d.low.n > 0 ?
		    "--priority-low" : to.sequential ? "--sequential" :
		    "--preallocate");
		goto out;
	}
	if (d.metadata_only && nmagnets < nsrcs) {
		rc = cmd_usage_error(cmd, "--metadata-only needs a magnet "
		    "(-m)%s", nmagnets > 0 ? ", and magnets only" : "");
		goto out;
	}
	if (d.metadata_only && to.seed) {
		rc = cmd_usage_error(cmd, "--metadata-only and seeding "
		    "(--seed, --seed-ratio, --seed-time, --seed-idle) do not "
		    "go together");
		goto out;
	}
	if (!so.dht && (so.dht_port != 0 || nboot > 0)) {
		rc = cmd_usage_error(cmd, "%s needs the DHT (drop --no-dht)",
		    so.dht_port != 0 ? "--dht-port" : "--dht-bootstrap");
		goto out;
	}
	if (!to.use_trackers && npeers == 0 && !seed_cmd && nmagnets == 0 &&
	    !so.dht) {
		rc = cmd_usage_error(cmd, "--no-tracker needs at least one "
		    "--peer (or the DHT)");
		goto out;
	}
	cmd_set_verbosity(verbose);

	d.dir = to.dir;
	d.bind = &so.bind;
	d.seed = to.seed;
	d.verbose = verbose > 0;
	d.trackers = trackers;
	d.ntrackers = ntrackers;
	to.trackers = trackers;
	to.ntrackers = ntrackers;
	to.select = d.select.v;
	to.nselect = d.select.n;
	to.exclude = exclude;
	to.nexclude = nexclude;
	to.high = d.high.v;
	to.nhigh = d.high.n;
	to.low = d.low.v;
	to.nlow = d.low.n;
	d.items = xcalloc(nsrcs, sizeof(*d.items));
	d.nitems = nsrcs;
	if ((i = dl_load(&d, srcs)) == 0) {
		dl_json_start(&d, -1);
		rc = dl_worst(&d);
		goto out;
	}
	if (!seed_cmd && (rc = dl_check_dir(to.dir)) != EXIT_OK)
		goto out;		/* seeding only reads */
	if (i > 1) {
		/* The rates are for all together (each may use them all). */
		so.max_down_rate = to.max_down_rate;
		so.max_up_rate = to.max_up_rate;
	}
	to.dht = so.dht;
	if (so.dht) {
		so.dht_bootstrap = boot;
		so.ndht_bootstrap = nboot;
	}
	/* The DHT's table and the resume records. */
	so.state_dir = to.state_dir = state_dir = cmd_state_dir();
	signal(SIGPIPE, SIG_IGN);
	if (d.tui > 0 && d.json) {
		rc = cmd_usage_error(cmd, "--tui and --json both want stdout");
		goto out;
	}
	d.tui_on = d.tui > 0 || (d.tui == 0 && !quiet && !d.json && i > 1 &&
	    isatty(STDERR_FILENO) && tui_can());
	d.ui = ui_new(&(struct ui_opts){
		.quiet = quiet || d.metadata_only || d.json || d.tui_on,
		.out = stdout, .tty = isatty(STDOUT_FILENO) == 1,
		.err = STDERR_FILENO,
	});
	rc = dl_run(&d, &so, &to, peers, npeers);
	dl_on_done_wait(&d);		/* --on-done commands, a while */
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_IO;

out:
	reactor_timer_free(d.json_timer);
	ui_json_clear(&d.js);
	reactor_timer_free(d.ui_timer);
	reactor_timer_free(d.stop_timer);
	reactor_timer_free(d.check_timer);
	session_free(d.s);		/* and the torrents */
	reactor_free(d.r);
	ui_free(d.ui);
	for (i = 0; i < d.nitems; i++) {
		metainfo_clear(&d.items[i].m);
		magnet_clear(&d.items[i].mg);
		free(d.items[i].trackers);
		free(d.items[i].so.v);
		free(d.items[i].js_file);
	}
	free(d.items);
	for (i = 0; i < nsrcs; i++)
		free(srcs[i].arg);
	free(srcs);
	free(peers);
	free(trackers);
	free(boot);
	free(exclude);
	free(d.select.v);
	free(d.high.v);
	free(d.low.v);
	free(state_dir);
	cmd_config_clear(&conf);
	return rc;
}

int
cmd_download(int argc, char **argv)
{
	return cmd_download_common(argc, argv, "download", false);
}

int
cmd_seed(int argc, char **argv)
{
	return cmd_download_common(argc, argv, "seed", true);
}
