/* cmd-download.c - `gtorrent [download] FILE.torrent` and `gtorrent seed` */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "bencode.h"
#include "buf.h"
#include "cmd.h"
#include "dht.h"
#include "log.h"
#include "magnet.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "tracker-client.h"
#include "ui.h"

#define DL_MAX_PEER_ARGS	256	/* --peer given at most */
#define DL_MAX_TRACKER_ARGS	64	/* --tracker given at most */
#define DL_STOP_MS		2000	/* tracker goodbye, at most */
#define DL_MAX_PEERS		10000	/* --max-peers, at most */
#define DL_MAX_SLOTS		1000	/* --upload-slots, at most */
#define DL_MIN_RATE		1024	/* a rate limit, at least (bytes/s) */
#define DL_MAX_RATE		(100ull << 30)	/* ... and at most */

struct dl {
	const char		*cmd;		/* for messages */
	struct reactor		*r;
	struct session		*s;
	struct torrent		*t;
	struct ui		*ui;
	struct reactor_timer	*ui_timer;
	struct reactor_timer	*stop_timer;	/* deferred stop */
	struct metainfo		 m;
	struct magnet		 mg;		/* -m: the magnet */
	bool			 is_magnet;
	bool			 metadata_only;	/* --metadata-only */
	bool			 md_written;	/* ... and the .torrent is */
	char *const		*trackers;	/* every tracker we announce to */
	size_t			 ntrackers;
	const char		*dir;
	bool			 seed;		/* keep seeding when done */
	bool			 upload_only;	/* `gtorrent seed` */
	bool			 verbose;	/* -v: tracker figures too */
	bool			 stopping;
	bool			 interrupted;
	bool			 fatal;
	bool			 done_shown;	/* "done:" line printed */
	bool			 seed_over;	/* a seeding limit ended it */
	char			 seed_why[SEEDLIMIT_WHYLEN];
	uint64_t		 start_ms;
	int			 rc;
};

static void
download_usage(FILE *f, bool seed)
{
	if (seed)
		fprintf(f,
		    "usage: gtorrent seed [OPTIONS] FILE.torrent -o DIR\n"
		    "\n"
		    "Verifies the data of FILE.torrent under DIR and seeds\n"
		    "the complete pieces until Ctrl-C.\n");
	else
		fprintf(f,
		    "usage: gtorrent [download] [OPTIONS] FILE.torrent\n"
		    "       gtorrent [download] [OPTIONS] -m 'magnet:?xt=...'\n"
		    "       gtorrent [download] [OPTIONS] 'magnet:?xt=...'\n"
		    "\n"
		    "Downloads FILE.torrent (or a magnet link's torrent, whose\n"
		    "metadata comes from peers first) into DIR from its\n"
		    "trackers, the DHT and the peers given, checks every\n"
		    "piece, and exits when done (or keeps seeding with\n"
		    "--seed).  Data already in DIR is verified and kept.\n");
	fprintf(f,
	    "\n"
	    "  -o, --output DIR      data folder (default: .; created)\n"
	    "  -m, --magnet URI      download a magnet link (BEP 9): its\n"
	    "                        xt=urn:btih, tr= trackers (http, https,\n"
	    "                        udp) and x.pe= peers are used; dn is\n"
	    "                        only shown, the folder name comes from\n"
	    "                        the verified metadata\n"
	    "      --metadata-only   with a magnet: fetch only the metadata\n"
	    "                        and write DIR/NAME.torrent (its path\n"
	    "                        on stdout)\n"
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
	    "  -p, --port N          listen port (default: %u; the next "
	    "free\n"
	    "                        one if taken)\n"
	    "      --peer HOST:PORT  connect to this peer (numeric IPv4 or\n"
	    "                        [IPv6]; repeatable)\n"
	    "      --tracker URL     also announce to URL (http, https or\n"
	    "                        udp://HOST:PORT; repeatable; a last "
	    "tier)\n"
	    "      --no-tracker      do not contact trackers\n"
	    "      --max-peers N     connections at most (default: %u)\n"
	    "      --seed            keep seeding when complete, until "
	    "Ctrl-C\n"
	    "                        or a limit below\n"
	    "      --seed-ratio R    seed until uploaded = R x the torrent's\n"
	    "                        size (implies --seed)\n"
	    "      --seed-time MIN   seed for MIN minutes (e.g. 30, 0.5;\n"
	    "                        implies --seed)\n"
	    "      --seed-idle MIN   stop seeding after MIN minutes without\n"
	    "                        uploading (implies --seed); the first\n"
	    "                        limit reached ends, with exit 0\n"
	    "      --max-download-rate RATE\n"
	    "      --max-upload-rate RATE\n"
	    "                        bytes/s at most, protocol included\n"
	    "                        (e.g. 500k, 2M; k = 1024; 0: none)\n"
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
	    "      --no-optimistic-unchoke\n"
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
	    "                        bandwidth of others for latency)\n"
	    "      --super-seed      seeding: reveal one piece at a time to\n"
	    "                        each peer (BEP 16; off)\n"
	    "\n"
	    "  -q, --quiet           no status line, errors and the summary\n"
	    "  -v, --verbose         protocol events (-vv: debugging)\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "\n"
	    "The DHT's routing table is kept in the state folder:\n"
	    "$XDG_STATE_HOME/gtorrent/dht.dat, else\n"
	    "~/.local/state/gtorrent/dht.dat.\n"
	    "\n"
	    "Exit status: 0 complete and verified; 1 could not complete;\n"
	    "2 bad command line; 3 bad .torrent or magnet; 4 disk error; 130 "
	    "interrupted.\n", SESSION_DEFAULT_PORT, SESSION_DEFAULT_PEERS);
}

static double
dl_seconds(const struct dl *d)
{
	return (double)(reactor_now_ms(d->r) - d->start_ms) / 1000.0;
}

static void
dl_summary(struct dl *d, bool done)
{
	struct torrent_stats	ts;

	torrent_stats(d->t, &ts);
	ui_summary(d->ui, done, torrent_name(d->t), &ts, dl_seconds(d));
}

static void
dl_ui_cb(void *arg)
{
	struct dl		*d = arg;
	struct torrent_stats	 ts;
	struct dht_stats	 st;
	struct dht		*dht;

	torrent_stats(d->t, &ts);
	if (d->verbose)
		ui_set_swarm(d->ui, ts.seeders, ts.leechers);
	if (d->verbose && (dht = session_dht(d->s)) != NULL) {
		dht_stats(dht, reactor_now_ms(d->r), &st);
		ui_set_dht(d->ui, (int64_t)(st.nodes[0] + st.nodes[1]),
		    (int64_t)(st.good[0] + st.good[1]));
	}
	ui_update(d->ui, &ts, reactor_now_ms(d->r));
	reactor_timer_in(d->ui_timer, ui_interval_ms(d->ui));
}

static void
dl_tracker_done(void *arg)
{
	struct dl	*d = arg;

	reactor_stop(d->r);
}

/* Leaving: peers closed, the tracker told (bounded), then the loop ends. */
static void
dl_stop_cb(void *arg)
{
	struct dl	*d = arg;

	reactor_timer_cancel(d->ui_timer);
	torrent_leave(d->t, DL_STOP_MS, dl_tracker_done, d);
}

static void
dl_stop(struct dl *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	reactor_timer_in(d->stop_timer, 0);	/* not inside a peer hook */
}

static void
dl_on_signal(void *arg, int signo)
{
	struct dl	*d = arg;

	if (d->stopping && d->interrupted) {
		log_debug("signal %d again: leaving now", signo);
		reactor_stop(d->r);
		return;
	}
	log_debug("signal %d: stopping", signo);
	d->interrupted = true;
	dl_stop(d);
}

static void
dl_on_complete(void *arg)
{
	struct dl	*d = arg;

	if (d->seed || d->upload_only) {
		if (!d->done_shown) {
			d->done_shown = true;
			dl_summary(d, true);
		}
		return;
	}
	dl_stop(d);
}

/* A seeding limit is reached: leave as on Ctrl-C, but with exit 0. */
static void
dl_on_seed_limit(void *arg, enum seedlimit_reason why, const char *text)
{
	struct dl	*d = arg;

	log_debug("seeding limit: %s", seedlimit_reason_name(why));
	d->seed_over = true;
	snprintf(d->seed_why, sizeof(d->seed_why), "%s", text);
	dl_stop(d);
}

static void
dl_on_fatal(void *arg, enum gt_err e)
{
	struct dl	*d = arg;

	d->fatal = true;
	if (e == GT_EINVAL)
		d->rc = EXIT_BADINPUT;	/* the metadata itself */
	dl_stop(d);
}

/*
 * The .torrent of a magnet: the verified info dict as it came, the
 * magnet's trackers (one tier each, in order, as libtorrent reads them).
 */
static int
dl_write_torrent(struct dl *d, const struct metainfo *m)
{
	struct bval	*root, *list, *tier;
	struct buf	 b;
	char		*path;
	size_t		 i;
	int		 rc;

	root = bval_dict();
	if (d->ntrackers > 0) {
		bval_dict_set(root, "announce", bval_cstr(d->trackers[0]));
		list = bval_list();
		for (i = 0; i < d->ntrackers; i++) {
			tier = bval_list();
			bval_list_add(tier, bval_cstr(d->trackers[i]));
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
	if (rc == EXIT_OK) {
		cmd_print_safe(stdout, path);
		putchar('\n');
		fflush(stdout);
	}
	free(path);
	buf_clear(&b);
	return rc;
}

static void
dl_on_metadata(void *arg, const struct metainfo *m)
{
	struct dl	*d = arg;

	log_info("%s: metadata: %u pieces of %llu bytes, %zu files, %llu "
	    "bytes", m->name, m->npieces, (unsigned long long)m->piece_length,
	    m->nfiles, (unsigned long long)m->total_length);
	if (!d->metadata_only)
		return;
	ui_clear(d->ui);
	d->rc = dl_write_torrent(d, m);
	d->md_written = d->rc == EXIT_OK;
	dl_stop(d);
}

/* Runs the loop until the torrent is done or stopped; the exit code. */
static int
dl_loop(struct dl *d)
{
	struct torrent_stats	ts;
	int			rc;

	torrent_start(d->t);
	dl_ui_cb(d);			/* a first sample (and line) now */
	if (reactor_run(d->r) != 0)
		d->fatal = true;

	torrent_stats(d->t, &ts);
	if (ts.downloaded > 0)
		log_info("%s: %llu of %llu bytes received were duplicates "
		    "(wasted)", torrent_name(d->t),
		    (unsigned long long)ts.wasted,
		    (unsigned long long)ts.downloaded);
	if (ts.uploaded > 0)
		log_info("%s: %llu of %llu bytes sent were of pieces sent in "
		    "full before", torrent_name(d->t),
		    (unsigned long long)ts.resent,
		    (unsigned long long)ts.uploaded);
	if (d->metadata_only && d->md_written)
		rc = EXIT_OK;
	else if (d->fatal)
		rc = d->rc != EXIT_OK ? d->rc : EXIT_IO;
	else if (d->interrupted)
		rc = EXIT_INTERRUPTED;
	else if (d->metadata_only)
		rc = d->rc != EXIT_OK ? d->rc : EXIT_FAIL;
	else
		rc = ts.complete || d->seed_over ? EXIT_OK : EXIT_FAIL;
	if (d->seed_over && rc == EXIT_OK) {
		ui_clear(d->ui);
		printf("gtorrent: seeding done: %s\n", d->seed_why);
	}
	if (!d->metadata_only)
		dl_summary(d, rc == EXIT_OK);
	else if (rc != EXIT_OK && !d->fatal)
		cmd_error("%s: %s: no metadata (%u peers met)", d->cmd,
		    torrent_name(d->t), ts.peers_ever);
	return rc;
}

static int
dl_run_magnet(struct dl *d, const struct torrent_opts *to,
    const struct torrent_events *ev, const struct netaddr *peers,
    size_t npeers)
{
	char		err[GT_ERRLEN];
	enum gt_err	e;

	err[0] = '\0';
	if ((e = session_add_magnet(d->s, d->mg.info_hash, d->mg.dn, to, ev,
	    &d->t, err)) != GT_OK) {
		cmd_error("%s", err[0] != '\0' ? err : gt_strerror(e));
		return EXIT_FAIL;
	}
	if ((!to->use_trackers || d->ntrackers == 0) && npeers == 0 &&
	    d->mg.npeers == 0 && !to->dht)
		cmd_warn("%s: no tracker to ask (tr=, --tracker) and no peer "
		    "given (x.pe=, --peer): waiting for peers to connect on "
		    "port %u", torrent_name(d->t), session_port(d->s));
	torrent_add_peers(d->t, d->mg.peers, d->mg.npeers, true);
	torrent_add_peers(d->t, peers, npeers, true);
	return dl_loop(d);
}

static int
dl_run(struct dl *d, const struct session_opts *so,
    const struct torrent_opts *to, const struct netaddr *peers,
    size_t npeers)
{
	struct torrent_events	 ev = {
		.complete = dl_on_complete, .fatal = dl_on_fatal,
		.metadata = dl_on_metadata, .seed_limit = dl_on_seed_limit,
		.arg = d,
	};
	struct torrent_stats	 ts;
	char			 err[GT_ERRLEN];
	enum gt_err		 e;

	if ((d->r = reactor_new()) == NULL) {
		cmd_error("%s: cannot start the event loop", d->cmd);
		return EXIT_FAIL;
	}
	d->start_ms = reactor_now_ms(d->r);
	if ((e = session_new(&d->s, d->r, so, err)) != GT_OK) {
		cmd_error("%s", err);
		return EXIT_FAIL;
	}
	/* Before the data check, so that Ctrl-C during it stops cleanly. */
	d->ui_timer = reactor_timer_new(d->r, dl_ui_cb, d);
	d->stop_timer = reactor_timer_new(d->r, dl_stop_cb, d);
	reactor_on_signal(d->r, SIGINT, dl_on_signal, d);
	reactor_on_signal(d->r, SIGTERM, dl_on_signal, d);
	err[0] = '\0';
	if (d->is_magnet)
		return dl_run_magnet(d, to, &ev, peers, npeers);
	if ((e = session_add_torrent(d->s, &d->m, to, &ev, &d->t, err)) !=
	    GT_OK) {
		if (d->upload_only && e == GT_ENOENT) {
			cmd_error("%s: no data to seed under %s", d->m.name,
			    d->dir);
			return EXIT_FAIL;
		}
		cmd_error("%s", err[0] != '\0' ? err : gt_strerror(e));
		return e == GT_EINVAL ? EXIT_BADINPUT : EXIT_IO;
	}
	torrent_stats(d->t, &ts);
	if (d->upload_only && ts.have_pieces == 0) {
		cmd_error("%s: no verified data to seed under %s", d->m.name,
		    d->dir);
		return EXIT_FAIL;
	}
	if (d->upload_only && !ts.complete)
		cmd_warn("%s: only %u of %u pieces are here; seeding those",
		    d->m.name, ts.have_pieces, ts.npieces);
	if (ts.complete && !d->seed && !d->upload_only) {
		dl_summary(d, true);		/* nothing to do */
		return EXIT_OK;
	}
	if (to->use_trackers && ts.trackers == 0 && npeers == 0 &&
	    !d->upload_only && (!to->dht || d->m.private))
		cmd_warn("%s: no usable tracker%s and no --peer: waiting for "
		    "peers to connect on port %u", d->m.name, to->dht ?
		    " (a private torrent: no DHT)" : "", session_port(d->s));
	torrent_add_peers(d->t, peers, npeers, true);
	return dl_loop(d);
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
		OPT_SEED_IDLE,
	};
	static const struct option	 longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "magnet", required_argument, NULL, 'm' },
		{ "metadata-only", no_argument, NULL, OPT_METADATA_ONLY },
		{ "no-pex", no_argument, NULL, OPT_NO_PEX },
		{ "dht", no_argument, NULL, 'd' },
		{ "no-dht", no_argument, NULL, OPT_NO_DHT },
		{ "dht-port", required_argument, NULL, OPT_DHT_PORT },
		{ "dht-bootstrap", required_argument, NULL,
		    OPT_DHT_BOOTSTRAP },
		{ "port", required_argument, NULL, 'p' },
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
		{ "quiet", no_argument, NULL, 'q' },
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
	struct netaddr		*peers = NULL;
	size_t			 npeers = 0, ntrackers = 0, nboot = 0;
	char			**trackers = NULL, **all = NULL;
	char			**boot = NULL, *state_dir = NULL;
	const char		*uri = NULL;
	char			 err[GT_ERRLEN];
	size_t			 i;
	uint64_t		 v;
	double			 x;
	bool			 quiet = false;
	int			 c, verbose = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:m:p:dreqvhcOab", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			to.dir = optarg;
			break;
		case 'm':
			if (uri != NULL) {
				rc = cmd_usage_error(cmd, "one magnet at a "
				    "time");
				goto out;
			}
			uri = optarg;
			break;
		case OPT_METADATA_ONLY:
			d.metadata_only = true;
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
		case 'q':
			quiet = true;
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
	if (uri == NULL && optind == argc - 1 &&
	    strncasecmp(argv[optind], "magnet:", 7) == 0)
		uri = argv[optind++];
	if (uri != NULL && seed_cmd) {
		rc = cmd_usage_error(cmd, "seed needs a FILE.torrent, not a "
		    "magnet");
		goto out;
	}
	if (uri == NULL && optind != argc - 1) {
		rc = cmd_usage_error(cmd, "%s", optind == argc ?
		    "missing FILE.torrent or -m MAGNET" :
		    "one FILE.torrent at a time");
		goto out;
	}
	if (uri != NULL && optind != argc) {
		rc = cmd_usage_error(cmd, "a magnet or a FILE.torrent, not "
		    "both");
		goto out;
	}
	if (d.metadata_only && uri == NULL) {
		rc = cmd_usage_error(cmd, "--metadata-only needs a magnet "
		    "(-m)");
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
	if (!to.use_trackers && npeers == 0 && !seed_cmd && uri == NULL &&
	    !so.dht) {
		rc = cmd_usage_error(cmd, "--no-tracker needs at least one "
		    "--peer (or the DHT)");
		goto out;
	}
	cmd_set_verbosity(verbose);

	if (uri != NULL) {
		if (magnet_parse(&d.mg, uri, err) != GT_OK) {
			cmd_error("magnet: %s", err);
			rc = EXIT_BADINPUT;
			goto out;
		}
		d.is_magnet = true;
		for (i = 0; i < d.mg.nwarnings; i++)
			cmd_warn("magnet: %s", d.mg.warnings[i]);
		/* The magnet's trackers, then --tracker ones: one tier. */
		all = xreallocarray(NULL, d.mg.ntrackers + ntrackers + 1,
		    sizeof(*all));
		for (i = 0; i < d.mg.ntrackers; i++)
			all[i] = d.mg.trackers[i];
		for (i = 0; i < ntrackers; i++)
			all[d.mg.ntrackers + i] = trackers[i];
		d.trackers = all;
		d.ntrackers = d.mg.ntrackers + ntrackers;
		to.trackers = all;
		to.ntrackers = d.ntrackers;
		to.metadata_only = d.metadata_only;
	} else if ((rc = cmd_load_torrent(argv[optind], &d.m)) != EXIT_OK)
		goto out;
	else {
		to.trackers = trackers;
		to.ntrackers = ntrackers;
	}
	to.dht = so.dht;
	if (so.dht) {
		so.dht_bootstrap = boot;
		so.ndht_bootstrap = nboot;
		so.state_dir = state_dir = cmd_state_dir();
	}
	signal(SIGPIPE, SIG_IGN);
	d.dir = to.dir;
	d.seed = to.seed;
	d.verbose = verbose > 0;
	d.ui = ui_new(quiet || d.metadata_only, isatty(STDOUT_FILENO) == 1);
	rc = dl_run(&d, &so, &to, peers, npeers);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_IO;

out:
	reactor_timer_free(d.ui_timer);
	reactor_timer_free(d.stop_timer);
	session_free(d.s);		/* and the torrent */
	reactor_free(d.r);
	ui_free(d.ui);
	metainfo_clear(&d.m);
	magnet_clear(&d.mg);
	free(peers);
	free(trackers);
	free(all);
	free(boot);
	free(state_dir);
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
