/* cmd-download.c - `gtorrent [download] FILE.torrent` and `gtorrent seed` */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cmd.h"
#include "log.h"
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

struct dl {
	const char		*cmd;		/* for messages */
	struct reactor		*r;
	struct session		*s;
	struct torrent		*t;
	struct ui		*ui;
	struct reactor_timer	*ui_timer;
	struct reactor_timer	*stop_timer;	/* deferred stop */
	struct metainfo		 m;
	const char		*dir;
	bool			 seed;		/* keep seeding when done */
	bool			 upload_only;	/* `gtorrent seed` */
	bool			 verbose;	/* -v: tracker figures too */
	bool			 stopping;
	bool			 interrupted;
	bool			 fatal;
	bool			 done_shown;	/* "done:" line printed */
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
		    "\n"
		    "Downloads FILE.torrent into DIR from its trackers and\n"
		    "the peers given, checks every piece, and exits when done\n"
		    "(or keeps seeding with --seed).  Data already in DIR is\n"
		    "verified and kept.\n");
	fprintf(f,
	    "\n"
	    "  -o, --output DIR      data folder (default: .; created)\n"
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
	    "  -r, --rarest-first    rarest pieces first (default)\n"
	    "      --no-rarest-first pieces in order from a random start\n"
	    "  -e, --end-game        request the last blocks from every peer\n"
	    "                        (default)\n"
	    "      --no-end-game     do not\n"
	    "  -q, --quiet           no status line, errors and the summary\n"
	    "  -v, --verbose         protocol events (-vv: debugging)\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "Exit status: 0 complete and verified; 1 could not complete;\n"
	    "2 bad command line; 3 bad .torrent; 4 disk error; 130 "
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

	torrent_stats(d->t, &ts);
	if (d->verbose)
		ui_set_swarm(d->ui, ts.seeders, ts.leechers);
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

static void
dl_on_fatal(void *arg, enum gt_err e)
{
	struct dl	*d = arg;

	(void)e;
	d->fatal = true;
	dl_stop(d);
}

static int
dl_run(struct dl *d, const struct session_opts *so,
    const struct torrent_opts *to, const struct netaddr *peers,
    size_t npeers)
{
	struct torrent_events	 ev = {
		.complete = dl_on_complete, .fatal = dl_on_fatal, .arg = d,
	};
	struct torrent_stats	 ts;
	char			 err[GT_ERRLEN];
	enum gt_err		 e;
	int			 rc;

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
	    !d->upload_only)
		cmd_warn("%s: no usable tracker (only http and https for now) "
		    "and no --peer: waiting for peers to connect on port %u",
		    d->m.name, session_port(d->s));
	torrent_add_peers(d->t, peers, npeers, true);

	torrent_start(d->t);
	dl_ui_cb(d);			/* a first sample (and line) now */
	if (reactor_run(d->r) != 0)
		d->fatal = true;

	torrent_stats(d->t, &ts);
	if (d->fatal)
		rc = EXIT_IO;
	else if (d->interrupted)
		rc = EXIT_INTERRUPTED;
	else
		rc = ts.complete ? EXIT_OK : EXIT_FAIL;
	dl_summary(d, rc == EXIT_OK);
	return rc;
}

static int
cmd_download_common(int argc, char **argv, const char *cmd, bool seed_cmd)
{
	enum {
		OPT_PEER = 256, OPT_NO_TRACKER, OPT_MAX_PEERS, OPT_SEED,
		OPT_NO_RAREST, OPT_NO_END_GAME, OPT_TRACKER,
	};
	static const struct option	 longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "port", required_argument, NULL, 'p' },
		{ "peer", required_argument, NULL, OPT_PEER },
		{ "no-tracker", no_argument, NULL, OPT_NO_TRACKER },
		{ "tracker", required_argument, NULL, OPT_TRACKER },
		{ "max-peers", required_argument, NULL, OPT_MAX_PEERS },
		{ "seed", no_argument, NULL, OPT_SEED },
		{ "rarest-first", no_argument, NULL, 'r' },
		{ "no-rarest-first", no_argument, NULL, OPT_NO_RAREST },
		{ "end-game", no_argument, NULL, 'e' },
		{ "no-end-game", no_argument, NULL, OPT_NO_END_GAME },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_opts	 so = {
		.port = SESSION_DEFAULT_PORT, .listen = true,
		.max_peers = SESSION_DEFAULT_PEERS,
	};
	struct torrent_opts	 to = {
		.dir = ".", .rarest_first = true, .end_game = true,
		.max_peers = TORRENT_DEFAULT_PEERS, .use_trackers = true,
		.upload_only = seed_cmd, .seed = seed_cmd,
	};
	struct dl		 d = { .cmd = cmd, .upload_only = seed_cmd };
	struct netaddr		*peers = NULL;
	size_t			 npeers = 0, ntrackers = 0;
	char			**trackers = NULL;
	uint64_t		 v;
	bool			 quiet = false;
	int			 c, verbose = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:p:reqvh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			to.dir = optarg;
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
	if (optind != argc - 1) {
		rc = cmd_usage_error(cmd, "%s", optind == argc ?
		    "missing FILE.torrent" : "one FILE.torrent at a time");
		goto out;
	}
	if (!to.use_trackers && npeers == 0 && !seed_cmd) {
		rc = cmd_usage_error(cmd, "--no-tracker needs at least one "
		    "--peer");
		goto out;
	}
	if (verbose == 1)
		log_set_level(LOG_INFO);
	else if (verbose == 2)
		log_set_level(LOG_DEBUG);
	else if (verbose > 2)
		log_set_level(LOG_TRACE);

	if ((rc = cmd_load_torrent(argv[optind], &d.m)) != EXIT_OK)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	d.dir = to.dir;
	d.seed = to.seed;
	d.verbose = verbose > 0;
	d.ui = ui_new(quiet, isatty(STDOUT_FILENO) == 1);
	to.trackers = trackers;
	to.ntrackers = ntrackers;
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
	free(peers);
	free(trackers);
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
